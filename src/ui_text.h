#ifndef SLUICE_UI_TEXT_H
#define SLUICE_UI_TEXT_H
/* Text for the terminal UI, without ncurses: hostile names made safe and fitted to a number of
 * columns, compact numbers for narrow columns, and the glyphs of bars and sparklines (UTF-8 blocks,
 * or ASCII when the locale is not UTF-8). wcwidth needs LC_CTYPE set to a UTF-8 locale. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

/* s as wide characters fit for a terminal: UTF-8 is decoded when utf8 (else every byte >= 0x80
 * is foreign); invalid sequences, control, non-printable and foreign characters become one '?'
 * each; zero-width ones (combining marks, bidi controls) are dropped. Returns a new array of *n
 * characters (terminated by L'\0'). */
wchar_t *ui_text_decode(const char *s, bool utf8, size_t *n);
/* Columns of one character as ui_text_decode left it (1 or 2). */
int ui_text_wcwidth(wchar_t c);
/* s (decoded as above) in at most cols columns, written to out (cap wide characters with the
 * terminating L'\0'; cap > cols is enough). What does not fit is cut at the end with an
 * ellipsis ("…", or "~" in ASCII), or at the start when keep_end (paths: the file name matters).
 * Returns the columns used. */
int ui_text_fit(const char *s, int cols, bool utf8, bool keep_end, wchar_t *out, size_t cap);

/* At most 5 characters: "512B", "9.5K", "391K", "1.2M", "1023M", "12G"; negative → "-". */
const char *ui_text_size(int64_t bytes, char *buf, size_t len);
/* ui_text_size + "/s" (at most 7 characters). */
const char *ui_text_rate(int64_t bps, char *buf, size_t len);

/* Where the cap comes from, for the header's "cap 2.0 MiB/s (live until 18:30, then 10M)":
 * source 0 = the settings, 1 = the schedule, 2 = a live change (engine.h, engine_cap_source).
 * until_minute is the minute of the day the schedule's next step begins (-1: no schedule),
 * until_wday its weekday (0 = Sunday) when that is not today, else -1; then_rate the cap it
 * brings (0 = off). Returns buf. */
const char *ui_text_cap_note(int source, int until_wday, int until_minute, int64_t then_rate,
                             char *buf, size_t len);

/* The REASON column: the error as recorded, with the HTTP status's meaning when the error is only
 * "HTTP 404" ("HTTP 404 not found"); "HTTP 503" when there is no error text but a status. */
const char *ui_text_reason(const char *error, int http_status, char *buf, size_t len);

/* A bar of width cells for frac (clamped to 0..1) in out (width + 1): full cells, then one
 * partial cell in eighths (UTF-8) or '#' cells (ASCII), then spaces. Returns the cells that show
 * something. */
int ui_text_bar(double frac, int width, bool utf8, wchar_t *out);
/* One sparkline cell for v against max: 9 levels from blank to full. */
wchar_t ui_text_spark(int64_t v, int64_t max, bool utf8);

#endif
