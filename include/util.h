#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H
/* Allocation that never returns NULL, clocks, small string helpers. */
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <pthread.h>

#define ERRLEN 512              /* caller-owned error buffers: char err[ERRLEN] */
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Called before abort() on allocation failure, so the TUI can restore the terminal. */
void util_set_fatal_hook(void (*hook)(void));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Formats into a caller buffer of ERRLEN bytes; returns -1 so `return errf(...)` reads well. */
int errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* pthread_create with every signal blocked in the new thread: signals belong to the loop (a
 * signalfd), even for a thread started before main blocks them. Returns pthread_create's result. */
int util_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
/* Frees n strings and the array holding them (NULL-safe). */
void util_strv_free(char **v, size_t n);

int64_t mono_ms(void);          /* CLOCK_MONOTONIC in milliseconds */
int64_t wall_ms(void);          /* CLOCK_REALTIME in milliseconds since the epoch */
void rfc3339_utc(int64_t wall_ms, char out[32]);   /* 2026-11-23T15:07:21.123Z */

/* Growable byte string. */
struct sbuf {
    char *s;
    size_t len, cap;
};
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_addstr(struct sbuf *b, const char *s);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends "..." with JSON escaping: controls (C0, DEL, C1) as \u00XX, and each byte that is not
 * UTF-8 as \ufffd, so the text is always valid JSON. */
void sbuf_json_str(struct sbuf *b, const char *s);
/* Appends s for a terminal or a text log: controls (C0, DEL, C1), bidirectional overrides and
 * bytes that are not UTF-8 as \xHH, a backslash as \\; other UTF-8 as it is. */
void sbuf_safe_text(struct sbuf *b, const char *s);
/* The UTF-8 sequence at s: its length (1-4) and code point, or 0 when it is not valid UTF-8
 * (or s is at its end). */
size_t util_utf8_seq(const char *s, uint32_t *cp);
void sbuf_free(struct sbuf *b);

/* Reads a whole file of at most max bytes into b (NUL-terminated). A larger one (or a stream that
 * goes on past max) is refused as "PATH: too large (...)" without reading the rest; a folder or
 * an unreadable file with its reason. Returns 0 or -1 with err. */
int util_read_small(const char *path, size_t max, struct sbuf *b, char *err);

#endif
