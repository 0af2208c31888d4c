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
    r->cr_start = r->cr_end = r->cr_total = -1;
    r->accept_ranges = false;
}

void resp_free(struct resp *r)
{
    free(r->etag);
    free(r->last_modified);
    free(r->retry_after);
    r->etag = r->last_modified = r->retry_after = NULL;
}

/* Digits only (sscanf would take signs, blanks and overflow); returns the end, NULL when not a
 * number. */
static const char *number(const char *p, int64_t *out)
{
    int64_t v = 0;

    if (*p < '0' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return NULL;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return p;
}

/* The three forms of RFC 9110 (START-END/TOTAL, START-END with an unknown total, and the
 * unsatisfied range with only TOTAL); anything else, or a range that is not
 * START <= END < TOTAL, leaves every field -1: a header that cannot be trusted is absent. */
static void content_range(struct resp *r, const char *t)
{
    int64_t a = -1, b = -1, total = -1;
    const char *p;

    r->cr_start = r->cr_end = r->cr_total = -1;
    if (strncasecmp(t, "bytes ", 6) != 0)
        return;
    p = t + 6;
    while (*p == ' ')
        p++;
    if (*p == '*') {
        p++;
    } else {
        if ((p = number(p, &a)) == NULL || *p++ != '-' || (p = number(p, &b)) == NULL || b < a)
            return;
    }
    if (*p++ != '/')
        return;
    if (*p == '*') {
        if (a < 0)
            return;
        p++;
    } else if ((p = number(p, &total)) == NULL || (b >= 0 && b >= total)) {
        return;
    }
    if (*p != '\0')
        return;
    r->cr_start = a;
    r->cr_end = b;
    r->cr_total = total;
}

static bool same_version(const struct resp *r, const char *validator, char *why);

bool resp_range_ok(const struct resp *r, int64_t offset, int64_t size, const char *validator,
                   char *why)
{
    if (r->cr_start < 0 || r->cr_total < 0) {
        errf(why, "206 without a usable Content-Range (asked for bytes %lld-)", (long long)offset);
        return false;
    }
    if (r->cr_start != offset || r->cr_end != r->cr_total - 1 ||
        (offset > 0 && size >= 0 && r->cr_total != size)) {
        if (offset > 0 && size >= 0)
            errf(why, "206 with bytes %lld-%lld/%lld, asked for bytes %lld-%lld/%lld",
                 (long long)r->cr_start, (long long)r->cr_end, (long long)r->cr_total,
                 (long long)offset, (long long)size - 1, (long long)size);
        else
            errf(why, "206 with bytes %lld-%lld/%lld, asked for bytes %lld- to the end",
                 (long long)r->cr_start, (long long)r->cr_end, (long long)r->cr_total,
                 (long long)offset);
        return false;
    }
    if (r->content_length > r->cr_end - r->cr_start + 1) {
        errf(why, "206 with a Content-Length of %lld for bytes %lld-%lld", (long long)r->content_length,
             (long long)r->cr_start, (long long)r->cr_end);
        return false;
    }
    if (offset == 0 || validator == NULL)
        return true;
    return same_version(r, validator, why);
}

bool resp_segment_ok(const struct resp *r, int64_t start, int64_t end, int64_t size,
                     const char *validator, char *why)
{
    if (r->cr_start != start || r->cr_end != end - 1 || r->cr_total != size) {
        errf(why, "206 with bytes %lld-%lld/%lld, asked for bytes %lld-%lld/%lld",
             (long long)r->cr_start, (long long)r->cr_end, (long long)r->cr_total,
             (long long)start, (long long)end - 1, (long long)size);
        return false;
    }
    if (r->content_length > end - start) {
        errf(why, "206 with a Content-Length of %lld for bytes %lld-%lld",
             (long long)r->content_length, (long long)start, (long long)end - 1);
        return false;
    }
    return validator == NULL || same_version(r, validator, why);
}

/* The response carries the validator sent in If-Range: the same strong ETag, or the same
 * Last-Modified when that was the validator. */
static bool same_version(const struct resp *r, const char *validator, char *why)
{
    if (validator[0] == '"') {
        if (r->etag == NULL || strcmp(r->etag, validator) != 0) {
            errf(why, "206 of another version (ETag %s, asked for %s)", r->etag ? r->etag : "missing",
                 validator);
            return false;
        }
    } else if (r->last_modified == NULL || strcmp(r->last_modified, validator) != 0) {
        errf(why, "206 of another version (Last-Modified %s, asked for %s)",
             r->last_modified ? r->last_modified : "missing", validator);
        return false;
    }
    return true;
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
    } else if (IS("accept-ranges")) {
        char *t = trimmed(v, vlen);

        r->accept_ranges = strcasecmp(t, "bytes") == 0;
        free(t);
    } else if (IS("content-range")) {
        char *t = trimmed(v, vlen);

        content_range(r, t);
        free(t);
    }
#undef IS
    return false;
}
