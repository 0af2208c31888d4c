/* URL parsing, credential redaction and URL → output path mapping (README.md#output-files). Pure:
 * no libcurl, no file system. Everything that leaves here as a path has passed the same rules, so
 * fsout can trust that a name is relative and has no empty, "." or ".." component. */
#include "urlpath.h"
#include "hmap.h"
#include "util.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URLPATH_MAX_URL 8192
#define URLPATH_MAX_HOST 255
#define URLPATH_MAX_REL 4096        /* out= / dir= as given */
#define EXT_MAX 10                  /* ".jpeg", ".tar.gz" is ".gz": kept after the hash suffix */
#define HASH_SUFFIX_LEN 13          /* "~" + 12 hex digits */
#define SHOW_MAX 160                /* how much of a hostile string an error message repeats */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ctl(int c)
{
    return c < 0x20 || c == 0x7f;
}

static char *lower_dup(const char *s, size_t n)
{
    char *p = xstrndup(s, n);

    for (char *q = p; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    return p;
}

char *urlpath_show(const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    struct sbuf b = { 0 };

    sbuf_add(&b, "", 0);
    /* Bytes >= 0x80 are escaped too: in a UTF-8 terminal C1 controls (U+009B is CSI) act like ESC. */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (b.len >= max) {
            sbuf_addstr(&b, "...");
            break;
        }
        if (*p == '\\') {
            sbuf_add(&b, "\\\\", 2);
        } else if (*p < 0x20 || *p >= 0x7f) {
            char e[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 15] };
            sbuf_add(&b, e, 4);
        } else {
            sbuf_add(&b, (const char *)p, 1);
        }
    }
    return b.s;
}

void urlpath_parts_free(struct url_parts *p)
{
    if (p == NULL)
        return;
    free(p->scheme);
    free(p->userinfo);
    free(p->host);
    free(p->path);
    free(p->query);
    memset(p, 0, sizeof *p);
}

/* Host names as curl accepts them, minus what it would reject later anyway: letters, digits and
 * "-._~". No "%" (curl refuses percent-encoded names) and no bytes >= 0x80 (IDN must come as xn--). */
static int check_host(const char *h, size_t n, char *why)
{
    size_t dots = 0;

    if (n == 0)
        return errf(why, "no host");
    if (n > URLPATH_MAX_HOST)
        return errf(why, "host name longer than %d bytes", URLPATH_MAX_HOST);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];

        if (c >= 0x80)
            return errf(why, "non-ASCII host name (write it in its xn-- form)");
        if (c == '%')
            return errf(why, "percent-encoded host name");
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_' && c != '~')
            return errf(why, "bad character '%c' in host name", c);
        dots += c == '.';
    }
    /* The host becomes a folder in the host layout: "." or ".." must never get that far. */
    if (dots == n)
        return errf(why, "bad host name");
    return 0;
}

static int check_ipv6(const char *h, size_t n, char *why)
{
    size_t colons = 0;

    if (n < 2 || n > 45)
        return errf(why, "bad IPv6 address");
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '%')
            return errf(why, "IPv6 zone IDs are not supported");
        if (hexval(h[i]) < 0 && h[i] != ':' && h[i] != '.')
            return errf(why, "bad IPv6 address");
        colons += h[i] == ':';
    }
    if (colons < 2)
        return errf(why, "bad IPv6 address");
    return 0;
}

static int check_port(const char *s, const char *e, int *port, char *why)
{
    long v = 0;

    *port = 0;
    if (s == e)                 /* "host:/" means the default port (RFC 3986 §3.2.3) */
        return 0;
    if (e - s > 5)
        return errf(why, "bad port (1 to 65535)");
    for (const char *p = s; p < e; p++) {
        if (!is_digit(*p))
            return errf(why, "bad port (1 to 65535)");
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535)
        return errf(why, "bad port (1 to 65535)");
    *port = (int)v;
    return 0;
}

/* The parser proper; `why` gets the reason without the URL, so that urlpath_redact can use this
 * without recursing through the message formatting. */
static int parse_url(const char *url, struct url_parts *p, char *why)
{
    const char *s, *auth, *auth_end, *at = NULL, *h, *h_end, *port_s = NULL, *pe;
    size_t len = strlen(url);

    memset(p, 0, sizeof *p);
    if (len == 0)
        return errf(why, "empty URL");
    if (len > URLPATH_MAX_URL)
        return errf(why, "longer than %d bytes", URLPATH_MAX_URL);
    for (s = url; *s; s++) {
        if (*s == ' ')
            return errf(why, "contains a space (write it as %%20)");
        if (is_ctl((unsigned char)*s))
            return errf(why, "contains a control character");
    }

    for (s = url; is_alpha(*s) || (s > url && (is_digit(*s) || *s == '+' || *s == '-' || *s == '.'));
         s++)
        ;
    if (s == url || *s != ':')
        return errf(why, "not an absolute http:// or https:// URL");
    p->scheme = lower_dup(url, (size_t)(s - url));
    if (strcmp(p->scheme, "http") != 0 && strcmp(p->scheme, "https") != 0) {
        errf(why, "unsupported scheme '%.20s' (only http and https)", p->scheme);
        goto fail;
    }
    if (s[1] != '/' || s[2] != '/') {
        errf(why, "no '//' after '%s:'", p->scheme);
        goto fail;
    }

    auth = s + 3;
    auth_end = auth + strcspn(auth, "/?#");
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at != NULL) {
        p->userinfo = xstrndup(auth, (size_t)(at - auth));
        h = at + 1;
    } else {
        h = auth;
    }

    if (h < auth_end && *h == '[') {
        h_end = memchr(h, ']', (size_t)(auth_end - h));
        if (h_end == NULL) {
            errf(why, "unterminated IPv6 address");
            goto fail;
        }
        if (check_ipv6(h + 1, (size_t)(h_end - h - 1), why) < 0)
            goto fail;
        p->host = lower_dup(h + 1, (size_t)(h_end - h - 1));
        if (h_end + 1 < auth_end) {
            if (h_end[1] != ':') {
                errf(why, "junk after the IPv6 address");
                goto fail;
            }
            port_s = h_end + 2;
        }
    } else {
        h_end = memchr(h, ':', (size_t)(auth_end - h));
        if (h_end == NULL)
            h_end = auth_end;
        else
            port_s = h_end + 1;
        if (check_host(h, (size_t)(h_end - h), why) < 0)
            goto fail;
        p->host = lower_dup(h, (size_t)(h_end - h));
    }
    if (port_s != NULL && check_port(port_s, auth_end, &p->port, why) < 0)
        goto fail;

    pe = auth_end + strcspn(auth_end, "?#");
    p->path = pe == auth_end ? xstrdup("/") : xstrndup(auth_end, (size_t)(pe - auth_end));
    if (*pe == '?')
        p->query = xstrndup(pe + 1, strcspn(pe + 1, "#"));
    return 0;

fail:
    urlpath_parts_free(p);
    return -1;
}

/* "bad URL '<redacted, printable>': why" — credentials never reach a message. */
static int url_errf(char *err, const char *url, const char *why)
{
    char *r = urlpath_redact(url);
    char *shown = urlpath_show(r, SHOW_MAX);

    errf(err, "bad URL '%s': %s", shown, why);
    free(shown);
    free(r);
    return -1;
}

int urlpath_parse(const char *url, struct url_parts *out, char *err)
{
    char why[ERRLEN];

    if (parse_url(url, out, why) == 0)
        return 0;
    return url_errf(err, url, why);
}

char *urlpath_redact(const char *url)
{
    struct url_parts p;
    char why[ERRLEN];
    const char *start, *end, *at = NULL;

    start = strstr(url, "//");
    if (start == NULL)
        return xstrdup(url);
    start += 2;
    if (parse_url(url, &p, why) == 0) {
        urlpath_parts_free(&p);
        end = start + strcspn(start, "/?#");
    } else {
        /* Unparseable: a password may hold '/' or '#', so mask up to the last '@' anywhere. */
        end = start + strlen(start);
    }
    for (const char *q = start; q < end; q++)
        if (*q == '@')
            at = q;
    if (at == NULL)
        return xstrdup(url);
    return xasprintf("%.*s***%s", (int)(start - url), url, at);
}

/* RFC 3986 §5.2.4 for a path that starts with "/" (as urlpath_parse guarantees), so only its rules
 * B, C and E apply and the input always starts with "/" too. Works on a copy it may scribble on. */
static char *remove_dot_segments(const char *path)
{
    char *buf = xstrdup(path), *in = buf;
    char *out = xmalloc(strlen(path) + 1);
    size_t olen = 0;

    while (*in != '\0') {
        if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            *in = '/';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            /* "/../x" becomes "/x", "/.." becomes "/"; either way the last output segment goes */
            in += 3;
            if (*in == '\0')
                *--in = '/';
            while (olen > 0 && out[olen - 1] != '/')
                olen--;
            if (olen > 0)
                olen--;
        } else {
            size_t n = 1 + strcspn(in + 1, "/");

            memcpy(out + olen, in, n);
            olen += n;
            in += n;
        }
    }
    out[olen] = '\0';
    free(buf);
    return out;
}

/* A name longer than URLPATH_MAX_SEGMENT keeps its start (cut on a UTF-8 boundary), then "~" and
 * 12 hex digits of the hash of the whole name, then a short extension so the file type survives. */
static void shorten(struct sbuf *seg)
{
    const char *s = seg->s, *dot;
    size_t len = seg->len, ext = 0, keep, back = 0;
    char suffix[32];
    struct sbuf b = { 0 };

    if (len <= URLPATH_MAX_SEGMENT)
        return;
    dot = memrchr(s, '.', len);
    if (dot != NULL && dot > s && len - (size_t)(dot - s) <= EXT_MAX)
        ext = len - (size_t)(dot - s);
    keep = URLPATH_MAX_SEGMENT - HASH_SUFFIX_LEN - ext;
    while (back < 3 && keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80) {
        keep--;
        back++;
    }
    snprintf(suffix, sizeof suffix, "~%012" PRIx64, (uint64_t)(hmap_hash(s, len) & 0xffffffffffffULL));
    sbuf_add(&b, s, keep);
    sbuf_addstr(&b, suffix);
    sbuf_add(&b, s + len - ext, ext);
    sbuf_free(seg);
    *seg = b;
}

/* Percent-decodes one raw segment, keeping encoded whatever would be unsafe as a file name. */
static void decode_segment(const char *s, size_t n, struct sbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        }
        if (c == '/' || is_ctl(c)) {
            char e[4];

            snprintf(e, sizeof e, "%%%02X", c);
            sbuf_add(out, e, 3);
        } else {
            sbuf_add(out, (const char *)&c, 1);
        }
    }
    if (out->len == 1 && out->s[0] == '.') {
        out->len = 0;
        sbuf_addstr(out, "%2E");
    } else if (out->len == 2 && memcmp(out->s, "..", 2) == 0) {
        out->len = 0;
        sbuf_addstr(out, "%2E%2E");
    }
    shorten(out);
}

/* The host layout's first folder: "example.com", "example.com_8080", "__1_8080" for [::1]:8080.
 * The scheme's default port is left out, so http://h/ and http://h:80/ share a folder. */
static void host_segment(const struct url_parts *p, struct sbuf *out)
{
    int dflt = strcmp(p->scheme, "https") == 0 ? 443 : 80;

    for (const char *c = p->host; *c; c++)
        sbuf_add(out, *c == ':' ? "_" : c, 1);
    if (p->port != 0 && p->port != dflt)
        sbuf_printf(out, "_%d", p->port);
    shorten(out);
}

char *urlpath_map(const char *url, enum layout layout, char *err)
{
    struct url_parts p;
    struct sbuf res = { 0 }, seg = { 0 };
    char *path = NULL, *s;
    size_t nseg = 0;
    int trailing;

    if (urlpath_parse(url, &p, err) < 0)
        return NULL;
    path = remove_dot_segments(p.path);
    trailing = path[0] == '\0' || path[strlen(path) - 1] == '/';

    for (s = path; *(s += strspn(s, "/")) != '\0'; s += strcspn(s, "/"))
        nseg++;
    if (layout != LAYOUT_FLAT && nseg > URLPATH_MAX_DEPTH) {
        char why[64];

        snprintf(why, sizeof why, "path has more than %d segments", URLPATH_MAX_DEPTH);
        url_errf(err, url, why);
        goto out;
    }

    sbuf_add(&res, "", 0);
    if (layout == LAYOUT_HOST) {
        host_segment(&p, &seg);
        sbuf_add(&res, seg.s, seg.len);
        sbuf_free(&seg);
    }
    for (s = path; *s;) {
        size_t n;

        s += strspn(s, "/");
        n = strcspn(s, "/");
        if (n == 0)
            break;
        if (layout == LAYOUT_FLAT && (s[n] != '\0' || trailing)) {
            s += n;
            continue;
        }
        decode_segment(s, n, &seg);
        if (res.len > 0)
            sbuf_add(&res, "/", 1);
        sbuf_add(&res, seg.s, seg.len);
        sbuf_free(&seg);
        s += n;
    }
    if (trailing || nseg == 0) {
        if (res.len > 0)
            sbuf_add(&res, "/", 1);
        sbuf_addstr(&res, "index.html");
    }

out:
    free(path);
    urlpath_parts_free(&p);
    return res.s;
}

char *urlpath_clean_rel(const char *rel, char *err)
{
    struct sbuf b = { 0 };
    char *shown = NULL;
    size_t n, depth = 0;

    if (rel == NULL || rel[0] == '\0') {
        errf(err, "empty path");
        return NULL;
    }
    shown = urlpath_show(rel, SHOW_MAX);
    if (strlen(rel) > URLPATH_MAX_REL) {
        errf(err, "path '%s' is longer than %d bytes", shown, URLPATH_MAX_REL);
        goto fail;
    }
    for (const char *c = rel; *c; c++) {
        if (is_ctl((unsigned char)*c)) {
            errf(err, "control character in path '%s'", shown);
            goto fail;
        }
    }
    if (rel[0] == '/') {
        errf(err, "absolute path '%s' is not allowed (it must be relative to the output folder)",
             shown);
        goto fail;
    }
    for (const char *s = rel; *s; s += n) {
        s += strspn(s, "/");
        n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.'))
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            errf(err, "'..' in path '%s' is not allowed", shown);
            goto fail;
        }
        if (n > URLPATH_MAX_SEGMENT) {
            errf(err, "a name in path '%s' is longer than %d bytes", shown, URLPATH_MAX_SEGMENT);
            goto fail;
        }
        if (++depth > URLPATH_MAX_DEPTH) {
            errf(err, "path '%s' has more than %d levels", shown, URLPATH_MAX_DEPTH);
            goto fail;
        }
        if (b.len > 0)
            sbuf_add(&b, "/", 1);
        sbuf_add(&b, s, n);
    }
    if (b.len == 0) {
        errf(err, "path '%s' names no file or folder", shown);
        goto fail;
    }
    free(shown);
    return b.s;

fail:
    free(shown);
    sbuf_free(&b);
    return NULL;
}

char *urlpath_target(const char *url, enum layout layout, const char *dir, const char *out,
                     char *err)
{
    char sub[ERRLEN];
    char *name, *d, *res;

    if (out != NULL) {
        struct url_parts p;
        size_t n = strlen(out);

        if (urlpath_parse(url, &p, err) < 0)
            return NULL;
        urlpath_parts_free(&p);
        if (n > 0 && out[n - 1] == '/') {
            errf(err, "out= names a file, not a folder: remove the trailing '/' (or use dir=)");
            return NULL;
        }
        name = urlpath_clean_rel(out, sub);
        if (name == NULL) {
            errf(err, "out=: %s", sub);
            return NULL;
        }
    } else {
        name = urlpath_map(url, layout, err);
        if (name == NULL)
            return NULL;
    }
    if (dir == NULL)
        return name;
    d = urlpath_clean_rel(dir, sub);
    if (d == NULL) {
        errf(err, "dir=: %s", sub);
        free(name);
        return NULL;
    }
    res = xasprintf("%s/%s", d, name);
    free(d);
    free(name);
    return res;
}

char *urlpath_host_key(const struct url_parts *p)
{
    int def = strcmp(p->scheme, "https") == 0 ? 443 : 80;

    if (p->port == 0 || p->port == def)
        return xstrdup(p->host);
    return xasprintf("%s:%d", p->host, p->port);
}
