/* The aria2 input-file subset (README.md#input-lists): a streaming parser that hands items over
 * one by one and lists every error of a list, not just the first. */
#include "input.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INPUT_MAX_LINE 65536
#define SHOW_KEY 40

size_t input_max_bytes = INPUT_MAX_BYTES;

enum item_state { ITEM_NONE, ITEM_OK, ITEM_BAD };

struct parser {
    const char *name;           /* as shown in messages */
    long lineno;
    int errors;
    void (*report)(void *arg, const char *msg);
    void *report_arg;
    enum item_state state;
    struct input_item it;
    long line_out, line_dir, line_sum;  /* where each single-valued key was first given */
};

static void perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(struct parser *ps, const char *fmt, ...)
{
    struct sbuf b = { 0 };
    char msg[ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->errors++;
    if (ps->report == NULL)
        return;
    sbuf_printf(&b, "%s:%ld: %s", ps->name, ps->lineno, msg);
    ps->report(ps->report_arg, b.s);
    sbuf_free(&b);
}

static void item_clear(struct input_item *it)
{
    util_strv_free(it->urls, it->nurls);
    util_strv_free(it->headers, it->nheaders);
    free(it->out);
    free(it->dir);
    memset(it, 0, sizeof *it);
}

/* Hands the finished item to cb, unless the list already has errors (the run will not start). */
static int flush(struct parser *ps, input_item_cb cb, void *cb_arg, char *err)
{
    int rc = 0;

    if (ps->state == ITEM_OK && ps->errors == 0 && cb != NULL)
        rc = cb(&ps->it, cb_arg, err);
    item_clear(&ps->it);
    ps->state = ITEM_NONE;
    ps->line_out = ps->line_dir = ps->line_sum = 0;
    return rc < 0 ? -1 : 0;
}

static void url_line(struct parser *ps, char *line)
{
    char err[ERRLEN];
    char *save = NULL;

    ps->state = ITEM_OK;
    ps->it.file = ps->name;
    ps->it.line = ps->lineno;
    /* Mirrors are tab-separated; blanks around each are forgiven, empty fields skipped. */
    for (char *f = strtok_r(line, "\t", &save); f != NULL; f = strtok_r(NULL, "\t", &save)) {
        struct url_parts p;
        size_t n;

        f += strspn(f, " ");
        n = strlen(f);
        while (n > 0 && f[n - 1] == ' ')
            f[--n] = '\0';
        if (n == 0)
            continue;
        if (urlpath_parse(f, &p, err) < 0) {
            perr(ps, "%s", err);
            ps->state = ITEM_BAD;
            continue;
        }
        urlpath_parts_free(&p);
        ps->it.urls = xrealloc(ps->it.urls, (ps->it.nurls + 1) * sizeof *ps->it.urls);
        ps->it.urls[ps->it.nurls++] = xstrdup(f);
    }
    if (ps->it.nurls == 0 && ps->state == ITEM_OK)
        ps->state = ITEM_BAD;   /* not reachable with a non-blank first byte; kept for safety */
}

static int dup_key(struct parser *ps, long *first, const char *key)
{
    if (*first != 0) {
        perr(ps, "duplicate option '%s' (already given on line %ld)", key, *first);
        return 1;
    }
    *first = ps->lineno;
    return 0;
}

static void opt_path(struct parser *ps, const char *key, const char *val, char **dst)
{
    char err[ERRLEN];
    char *clean;
    size_t n = strlen(val);

    if (strcmp(key, "out") == 0 && n > 0 && val[n - 1] == '/') {
        perr(ps, "out= names a file, not a folder: remove the trailing '/' (or use dir=)");
        return;
    }
    clean = urlpath_clean_rel(val, err);
    if (clean == NULL) {
        perr(ps, "%s=: %s", key, err);
        return;
    }
    free(clean);
    *dst = xstrdup(val);
}

static void opt_checksum(struct parser *ps, const char *val)
{
    const char *eq = strchr(val, '='), *hex;
    size_t alen, want, n;
    enum checksum_algo algo;

    if (eq == NULL) {
        perr(ps, "checksum=: expected TYPE=HEX, e.g. checksum=sha-256=<64 hex digits>");
        return;
    }
    alen = (size_t)(eq - val);
    if ((alen == 7 && strncasecmp(val, "sha-256", 7) == 0) ||
        (alen == 6 && strncasecmp(val, "sha256", 6) == 0)) {
        algo = CHECKSUM_SHA256;
        want = 32;
    } else if (alen == 3 && strncasecmp(val, "md5", 3) == 0) {
        algo = CHECKSUM_MD5;
        want = 16;
    } else {
        char *type = xstrndup(val, alen > SHOW_KEY ? SHOW_KEY : alen);
        char *shown = urlpath_show(type, SHOW_KEY);

        perr(ps, "checksum=: unsupported type '%s' (sha-256 or md5)", shown);
        free(shown);
        free(type);
        return;
    }
    hex = eq + 1;
    n = strlen(hex);
    if (n != want * 2) {
        perr(ps, "checksum=: %s needs %zu hex digits, got %zu", algo == CHECKSUM_MD5 ? "md5" : "sha-256",
             want * 2, n);
        return;
    }
    if (strspn(hex, "0123456789abcdefABCDEF") != n) {
        perr(ps, "checksum=: not a hex number");
        return;
    }
    for (size_t i = 0; i < want; i++) {
        char byte[3] = { hex[2 * i], hex[2 * i + 1], '\0' };

        ps->it.digest[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    ps->it.algo = algo;
}

static void opt_header(struct parser *ps, const char *val)
{
    const char *colon = strchr(val, ':');
    size_t nlen;

    /* The value is never repeated in a message: it may be an Authorization or Cookie header. */
    if (colon == NULL || colon == val) {
        perr(ps, "header=: expected 'Name: value'");
        return;
    }
    nlen = (size_t)(colon - val);
    if (strspn(val, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != nlen) {
        perr(ps, "header=: bad character in the header name");
        return;
    }
    for (const char *c = colon; *c; c++) {
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
            perr(ps, "header=: control character in the header value");
            return;
        }
    }
    ps->it.headers = xrealloc(ps->it.headers, (ps->it.nheaders + 1) * sizeof *ps->it.headers);
    ps->it.headers[ps->it.nheaders++] = xstrdup(val);
}

static void option_line(struct parser *ps, char *p)
{
    char *eq = strchr(p, '='), *val;

    if (ps->state == ITEM_NONE) {
        perr(ps, "option line without a URL above it");
        return;
    }
    if (eq == NULL) {
        perr(ps, "option line is not key=value");
        return;
    }
    *eq = '\0';
    val = eq + 1;
    /* Options of an item that is already bad are still checked, so that every error is listed. */
    if (strcmp(p, "out") == 0) {
        if (!dup_key(ps, &ps->line_out, "out"))
            opt_path(ps, "out", val, &ps->it.out);
    } else if (strcmp(p, "dir") == 0) {
        if (!dup_key(ps, &ps->line_dir, "dir"))
            opt_path(ps, "dir", val, &ps->it.dir);
    } else if (strcmp(p, "checksum") == 0) {
        if (!dup_key(ps, &ps->line_sum, "checksum"))
            opt_checksum(ps, val);
    } else if (strcmp(p, "header") == 0) {
        opt_header(ps, val);
    } else {
        char *shown = urlpath_show(p, SHOW_KEY);

        perr(ps, "unknown option '%s' (known: out, dir, checksum, header)", shown);
        free(shown);
    }
}

/* One line without its '\n' into *buf (NUL-terminated). Returns the line's length, or -1 at the end.
 * Memory stays bounded on hostile input: past INPUT_MAX_LINE bytes the rest of the line is read
 * but not kept, and *toolong is set; past INPUT_MAX_SKIP bytes (or the list's bound, *left) it
 * is not read either and *toolong is 2: that is no list of URLs (/dev/zero never ends a line). */
static long read_line(FILE *fp, char **buf, size_t *cap, int *toolong, size_t *left)
{
    size_t n = 0, skipped = 0;
    int c;

    *toolong = 0;
    if (*buf == NULL) {
        *cap = 256;
        *buf = xmalloc(*cap);
    }
    while ((c = getc_unlocked(fp)) != EOF) {
        /* Every byte counts toward the list's bound, newlines too (the copy of standard input
         * is bounded the same way). */
        if (*left == 0) {
            *toolong = 2;
            break;
        }
        (*left)--;
        if (c == '\n')
            break;
        if (++skipped > INPUT_MAX_SKIP) {
            *toolong = 2;
            break;
        }
        if (n >= INPUT_MAX_LINE) {
            *toolong = 1;
            continue;
        }
        if (n + 1 >= *cap) {
            *cap *= 2;
            *buf = xrealloc(*buf, *cap);
        }
        (*buf)[n++] = (char)c;
    }
    (*buf)[n] = '\0';
    if (c == EOF && n == 0 && !*toolong)
        return -1;
    return (long)n;
}

int input_read(FILE *fp, const char *name, input_item_cb cb, void *cb_arg,
               void (*report)(void *arg, const char *msg), void *report_arg, char *err)
{
    struct parser ps = { 0 };
    char *line = NULL, *p;
    size_t cap = 0, left = input_max_bytes;
    long n;
    int toolong, rc = 0;

    ps.name = name == NULL ? "<input>" : strcmp(name, "-") == 0 ? "<stdin>" : name;
    ps.report = report;
    ps.report_arg = report_arg;
    flockfile(fp);
    while ((n = read_line(fp, &line, &cap, &toolong, &left)) >= 0) {
        ps.lineno++;
        if (toolong == 2) {
            /* Reading on would never end (or never end soon): nothing past here is looked at. */
            if (left == 0)
                perr(&ps, "the list is larger than %zu bytes; the rest is not read (split it)",
                     input_max_bytes);
            else
                perr(&ps, "line longer than %d bytes; the rest of the list is not read",
                     INPUT_MAX_SKIP);
            ps.state = ITEM_BAD;
            break;
        }
        if (ps.errors >= INPUT_MAX_ERRORS) {
            perr(&ps, "more than %d errors; the rest of the list is not read", INPUT_MAX_ERRORS);
            ps.state = ITEM_BAD;
            break;
        }
        /* Lists saved by Windows editors start with a byte order mark. */
        if (ps.lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            memmove(line, line + 3, (size_t)n - 2);
            n -= 3;
        }
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (toolong || memchr(line, '\0', (size_t)n) != NULL) {
            /* A broken URL line still ends the item above and owns the option lines below it:
             * no cascade of "without a URL" errors. */
            if (line[0] != ' ' && line[0] != '\t') {
                if (flush(&ps, cb, cb_arg, err) < 0) {
                    rc = -1;
                    break;
                }
                ps.state = ITEM_BAD;
            }
            if (toolong)
                perr(&ps, "line longer than %d bytes", INPUT_MAX_LINE);
            else
                perr(&ps, "NUL byte in line");
            continue;
        }
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        p = line + strspn(line, " \t");
        if (*p == '\0' || *p == '#')
            continue;
        if (p != line) {
            option_line(&ps, p);
            continue;
        }
        if (flush(&ps, cb, cb_arg, err) < 0) {
            rc = -1;
            break;
        }
        url_line(&ps, line);
    }
    if (rc == 0 && ferror(fp)) {
        errf(err, "%s: read error: %s", ps.name, strerror(errno));
        rc = -1;
    }
    funlockfile(fp);
    if (rc == 0 && flush(&ps, cb, cb_arg, err) < 0)
        rc = -1;
    item_clear(&ps.it);
    free(line);
    return rc < 0 ? -1 : ps.errors;
}
