/* Allocation, clocks and small string helpers shared by every module. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*fatal_hook)(void);

void util_set_fatal_hook(void (*hook)(void))
{
    fatal_hook = hook;
}

_Noreturn void fatal(const char *fmt, ...)
{
    va_list ap;

    /* The hook restores the terminal first, or the message would be lost in curses mode. */
    if (fatal_hook != NULL)
        fatal_hook();
    fputs("sluice: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        fatal("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n ? n : 1);

    if (p == NULL)
        fatal("out of memory (%zu bytes)", n);
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        fatal("bad format");
    p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int errf(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(err, ERRLEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int util_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int rc;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rfc3339_utc(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    char tmp[96];

    gmtime_r(&t, &tm);
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    tmp[31] = '\0';
    memcpy(out, tmp, 32);
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;

        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sbuf_addstr(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sbuf_add(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sbuf_add(b, big, (size_t)n);
    free(big);
}

size_t util_utf8_seq(const char *s, uint32_t *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t c;
    size_t n;

    if (p[0] < 0x80) {
        *cp = p[0];
        return p[0] != 0;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        n = 2;
        c = p[0] & 0x1f;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        n = 3;
        c = p[0] & 0x0f;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        n = 4;
        c = p[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8. */
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
        (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

void sbuf_json_str(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    sbuf_add(b, "\"", 1);
    for (const char *p = s; *p;) {
        unsigned char c = (unsigned char)*p;
        uint32_t cp;
        size_t n;

        switch (c) {
        case '"': sbuf_add(b, "\\\"", 2); p++; continue;
        case '\\': sbuf_add(b, "\\\\", 2); p++; continue;
        case '\n': sbuf_add(b, "\\n", 2); p++; continue;
        case '\r': sbuf_add(b, "\\r", 2); p++; continue;
        case '\t': sbuf_add(b, "\\t", 2); p++; continue;
        default: break;
        }
        n = util_utf8_seq(p, &cp);
        if (n == 0) {
            /* A byte that is not UTF-8 (a raw byte of a URL or a path): JSON text must be
             * Unicode, so it becomes U+FFFD, as a decoder would show it. */
            sbuf_add(b, "\\ufffd", 6);
            p++;
        } else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            /* C0, DEL and C1 controls escaped: a log is read in terminals too. */
            char e[6] = { '\\', 'u', '0', '0', hex[cp >> 4], hex[cp & 15] };

            sbuf_add(b, e, 6);
            p += n;
        } else {
            sbuf_add(b, p, n);
            p += n;
        }
    }
    sbuf_add(b, "\"", 1);
}

void sbuf_safe_text(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (const char *p = s; *p;) {
        uint32_t cp;
        size_t n = util_utf8_seq(p, &cp);

        /* Controls (C0, DEL, C1: U+009B is CSI in a UTF-8 terminal), bidirectional overrides
         * and isolates (they reorder what follows), and bytes that are not UTF-8. */
        if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069)) {
            if (n == 0)
                n = 1;
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)p[i];
                char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

                sbuf_add(b, e, 4);
            }
        } else if (*p == '\\') {
            sbuf_add(b, "\\\\", 2);
        } else {
            sbuf_add(b, p, n);
        }
        p += n;
    }
}

void sbuf_free(struct sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void util_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

int util_read_small(const char *path, size_t max, struct sbuf *b, char *err)
{
    struct stat st;
    char buf[65536];
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errf(err, "%s: %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        errf(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return errf(err, "%s: is a directory", path);
    }
    /* Asked before reading: a huge file costs no time or memory. A pipe or a growing file is
     * bounded by the loop below instead. */
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        close(fd);
        return errf(err, "%s: too large (%jd bytes, at most %zu)", path, (intmax_t)st.st_size,
                    max);
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errf(err, "%s: %s", path, strerror(errno));
            close(fd);
            sbuf_free(b);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > max) {
            close(fd);
            sbuf_free(b);
            return errf(err, "%s: too large (more than %zu bytes)", path, max);
        }
        sbuf_add(b, buf, (size_t)n);
    }
    close(fd);
    if (b->s == NULL)
        sbuf_add(b, "", 0);
    return 0;
}
