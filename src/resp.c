/* Header lines are parsed here rather than asked of libcurl afterwards: the values of the last
 * response of a redirect chain must be the ones kept, and a Content-Range is needed at the first
 * body byte to decide between appending and starting over. */
#include "resp.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trimmed(const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return xstrndup(v, n);
}

static int64_t parse_i64(const char *s)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || v < 0)
        return -1;
    return (int64_t)v;
}

void resp_reset(struct resp *r, int status)
{
    resp_free(r);
    r->status = status;
    r->content_length = -1;
    r->cr_start = r->cr_total = -1;
}

void resp_free(struct resp *r)
{
    free(r->etag);
    free(r->last_modified);
    free(r->retry_after);
    r->etag = r->last_modified = r->retry_after = NULL;
}

/* Decimal digits only (no sign, no blank), at most INT64_MAX; *end after them. -1 when none. */
static int64_t digits(const char *s, const char **end)
{
    const char *p = s;
    int64_t v = 0;

    for (; isdigit((unsigned char)*p); p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *end = p;
    return p == s ? -1 : v;
}

/* "bytes START-END/TOTAL", the same with "*" for an unknown TOTAL, or "*" for START-END (an
 * unsatisfiable range: only the TOTAL). Strict:
 * sscanf's %lld took a sign ("bytes -5-9/10" gave a start of -5) and overflowed silently, and
 * nothing checked END against START and TOTAL. Anything else counts as no Content-Range, which
 * the transfer treats as a range it did not ask for. */
static void content_range(struct resp *r, const char *t)
{
    const char *p = t + 5;
    int64_t a, b, total = -1;

    r->cr_start = r->cr_total = -1;
    if (strncasecmp(t, "bytes", 5) != 0 || *p != ' ')
        return;
    while (*p == ' ')
        p++;
    if (*p == '*') {
        if (p[1] == '/' && (total = digits(p + 2, &p)) >= 0 && *p == '\0')
            r->cr_total = total;
        return;
    }
    if ((a = digits(p, &p)) < 0 || *p != '-' || (b = digits(p + 1, &p)) < 0 || b < a || *p != '/')
        return;
    p++;
    if (*p == '*' && p[1] == '\0') {
        r->cr_start = a;
        return;
    }
    if ((total = digits(p, &p)) < 0 || *p != '\0' || b >= total)
        return;
    r->cr_start = a;
    r->cr_total = total;
}

bool resp_line(struct resp *r, const char *buf, size_t len)
{
    const char *colon, *v;
    size_t nlen, vlen;

    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        const char *sp = memchr(buf, ' ', len);
        int status = 0;

        if (sp != NULL && (size_t)(sp - buf) + 4 <= len && isdigit((unsigned char)sp[1]) &&
            isdigit((unsigned char)sp[2]) && isdigit((unsigned char)sp[3]))
            status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        resp_reset(r, status);
        return true;
    }
    colon = memchr(buf, ':', len);
    if (colon == NULL)
        return false;
    nlen = (size_t)(colon - buf);
    v = colon + 1;
    vlen = len - nlen - 1;
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(buf, name, nlen) == 0)
    if (IS("content-length")) {
        char *t = trimmed(v, vlen);

        r->content_length = parse_i64(t);
        free(t);
    } else if (IS("etag")) {
        free(r->etag);
        r->etag = trimmed(v, vlen);
    } else if (IS("last-modified")) {
        free(r->last_modified);
        r->last_modified = trimmed(v, vlen);
    } else if (IS("retry-after")) {
        free(r->retry_after);
        r->retry_after = trimmed(v, vlen);
    } else if (IS("content-range")) {
        char *t = trimmed(v, vlen);

        content_range(r, t);
        free(t);
    }
#undef IS
    return false;
}
