/* Safe, fitted text for the terminal. Names come from URLs and lists, which are hostile: nothing
 * that could move the cursor, change colours or break the column layout may reach the screen. */
#include "ui_text.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT L'?'

/* One UTF-8 sequence at p (n bytes left): the code point, or -1 for an invalid, overlong or
 * surrogate sequence (then *len is 1, so each bad byte becomes one '?'). */
static long utf8_next(const unsigned char *p, size_t n, size_t *len)
{
    unsigned c = p[0];
    long cp, min;
    size_t need;

    *len = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (n < need)
        return -1;
    for (size_t i = 1; i < need; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *len = need;
    return cp;
}

wchar_t *ui_text_decode(const char *s, bool utf8, size_t *n)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t left = strlen((const char *)p), k = 0;
    wchar_t *out = xmalloc((left + 1) * sizeof *out);

    while (left > 0) {
        size_t len;
        long cp = utf8_next(p, left, &len);
        wchar_t c;

        p += len;
        left -= len;
        if (cp < 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || (cp >= 0x80 && !utf8)) {
            c = REPLACEMENT;
        } else {
            int w = wcwidth((wchar_t)cp);

            if (w == 0)
                continue;       /* combining marks and format characters (bidi overrides) */
            c = w < 0 ? REPLACEMENT : (wchar_t)cp;
        }
        out[k++] = c;
    }
    out[k] = L'\0';
    *n = k;
    return out;
}

int ui_text_wcwidth(wchar_t c)
{
    int w = c < 0x80 ? 1 : wcwidth(c);

    return w == 2 ? 2 : 1;
}

int ui_text_fit(const char *s, int cols, bool utf8, bool keep_end, wchar_t *out, size_t cap)
{
    size_t n, k = 0, from, to;
    wchar_t *w = ui_text_decode(s, utf8, &n);
    wchar_t ell = utf8 ? L'\u2026' : L'~';
    int total = 0, used = 0;

    if (cap == 0) {
        free(w);
        return 0;
    }
    if (cols < 0)
        cols = 0;
    for (size_t i = 0; i < n; i++)
        total += ui_text_wcwidth(w[i]);
    from = 0;
    to = n;
    if (total > cols) {
        int room = cols - 1;      /* one column for the ellipsis */

        if (keep_end) {
            from = n;
            while (from > 0 && used + ui_text_wcwidth(w[from - 1]) <= room)
                used += ui_text_wcwidth(w[--from]);
        } else {
            to = 0;
            while (to < n && used + ui_text_wcwidth(w[to]) <= room)
                used += ui_text_wcwidth(w[to++]);
        }
    }
    if (total > cols && keep_end && cols > 0 && k + 1 < cap)
        out[k++] = ell;
    for (size_t i = from; i < to && k + 1 < cap; i++)
        out[k++] = w[i];
    if (total > cols && !keep_end && cols > 0 && k + 1 < cap)
        out[k++] = ell;
    out[k] = L'\0';
    free(w);
    used = 0;
    for (size_t i = 0; i < k; i++)
        used += ui_text_wcwidth(out[i]);
    return used;
}

const char *ui_text_size(int64_t bytes, char *buf, size_t len)
{
    static const char units[] = "KMGTPE";
    double v;
    size_t i = 0;

    if (bytes < 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, len, "%dB", (int)bytes);
        return buf;
    }
    v = (double)bytes / 1024;
    /* Move up while the rounded value would need a fifth digit ("1024K" → "1.0M"). */
    while (v >= 1023.5 && i + 1 < sizeof units - 1) {
        v /= 1024;
        i++;
    }
    if (v < 9.95)
        snprintf(buf, len, "%.1f%c", v, units[i]);
    else
        snprintf(buf, len, "%.0f%c", v, units[i]);
    return buf;
}

const char *ui_text_rate(int64_t bps, char *buf, size_t len)
{
    char tmp[16];

    if (bps < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s/s", ui_text_size(bps, tmp, sizeof tmp));
    return buf;
}

const char *ui_text_cap_note(int source, int until_wday, int until_minute, int64_t then_rate,
                             char *buf, size_t len)
{
    static const char *const days[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
    const char *who = source == 3 ? "group" : source == 2 ? "live" : source == 1 ? "schedule" :
                      "settings";
    char r[16];

    if (until_minute < 0 || until_minute > 1439) {
        /* No schedule: a live cap holds for the pass, the settings' for the run. */
        snprintf(buf, len, "%s", source == 2 ? "live, this pass" : who);
        return buf;
    }
    if (then_rate > 0)
        ui_text_size(then_rate, r, sizeof r);
    else
        snprintf(r, sizeof r, "off");
    snprintf(buf, len, "%s until %s%s%02d:%02d, then %s", who,
             until_wday >= 0 && until_wday < 7 ? days[until_wday] : "",
             until_wday >= 0 && until_wday < 7 ? " " : "", until_minute / 60, until_minute % 60, r);
    return buf;
}

static const char *status_meaning(int code)
{
    static const struct { int code; const char *text; } m[] = {
        { 400, "bad request" }, { 401, "unauthorized" }, { 403, "forbidden" },
        { 404, "not found" }, { 405, "method not allowed" }, { 408, "request timeout" },
        { 410, "gone" }, { 416, "range not satisfiable" }, { 425, "too early" },
        { 429, "too many requests" }, { 451, "unavailable for legal reasons" },
        { 500, "server error" }, { 502, "bad gateway" }, { 503, "unavailable" },
        { 504, "gateway timeout" },
    };

    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i].code == code)
            return m[i].text;
    return NULL;
}

const char *ui_text_reason(const char *error, int http_status, char *buf, size_t len)
{
    char only[16];
    const char *meaning = status_meaning(http_status);

    snprintf(only, sizeof only, "HTTP %d", http_status);
    if (error == NULL || *error == '\0') {
        if (http_status <= 0)
            return "";
        snprintf(buf, len, "%s%s%s", only, meaning != NULL ? " " : "", meaning != NULL ? meaning : "");
        return buf;
    }
    if (meaning != NULL && strcmp(error, only) == 0) {
        snprintf(buf, len, "%s %s", only, meaning);
        return buf;
    }
    return error;
}

int ui_text_bar(double frac, int width, bool utf8, wchar_t *out)
{
    static const wchar_t eighths[] = L" \u258f\u258e\u258d\u258c\u258b\u258a\u2589";
    int units, full, part, k = 0;

    if (width < 0)
        width = 0;
    if (!(frac > 0))          /* NaN too */
        frac = 0;
    if (frac > 1)
        frac = 1;
    units = (int)(frac * width * 8 + 0.5);
    full = units / 8;
    part = units % 8;
    for (int i = 0; i < full && k < width; i++)
        out[k++] = utf8 ? L'\u2588' : L'#';
    if (utf8 && part > 0 && k < width)
        out[k++] = eighths[part];
    else if (!utf8 && part >= 4 && k < width)
        out[k++] = L'#';
    full = k;
    while (k < width)
        out[k++] = L' ';
    out[k] = L'\0';
    return full;
}

wchar_t ui_text_spark(int64_t v, int64_t max, bool utf8)
{
    static const wchar_t blocks[] = L" \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588";
    static const wchar_t ascii[] = L" ._-~=+*#";
    int level;

    if (v <= 0 || max <= 0)
        return L' ';
    /* Anything at all shows: a trickle must not look like nothing. */
    level = 1 + (int)((double)v * 7.0 / (double)max + 0.5);
    if (level > 8)
        level = 8;
    return utf8 ? blocks[level] : ascii[level];
}
