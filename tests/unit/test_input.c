/* The aria2 input-list parser: items, options, and every error listed as "FILE:LINE: message". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "urlpath.h"
#include "util.h"

/* What the callbacks saw, flattened to strings so that tests compare text. */
struct seen {
    struct sbuf items;      /* one line per item: "LINE urls|out|dir|algo:hex|headers" */
    struct sbuf errors;     /* one message per line */
    int nitems, nerrors;
    int stop_after;         /* the callback returns -1 on this item (1-based); 0: never */
};

static void report(void *arg, const char *msg)
{
    struct seen *s = arg;

    s->nerrors++;
    sbuf_addstr(&s->errors, msg);
    sbuf_addstr(&s->errors, "\n");
}

static int item_cb(const struct input_item *it, void *arg, char *err)
{
    struct seen *s = arg;
    size_t dlen = it->algo == CHECKSUM_SHA256 ? 32 : it->algo == CHECKSUM_MD5 ? 16 : 0;

    s->nitems++;
    if (s->stop_after == s->nitems)
        return errf(err, "stopped by the callback");
    sbuf_printf(&s->items, "%s:%ld ", it->file, it->line);
    for (size_t i = 0; i < it->nurls; i++)
        sbuf_printf(&s->items, "%s%s", i ? "," : "", it->urls[i]);
    sbuf_printf(&s->items, "|%s|%s|%s:", it->out ? it->out : "-", it->dir ? it->dir : "-",
                it->algo == CHECKSUM_SHA256 ? "sha256" : it->algo == CHECKSUM_MD5 ? "md5" : "none");
    for (size_t i = 0; i < dlen; i++)
        sbuf_printf(&s->items, "%02x", it->digest[i]);
    sbuf_addstr(&s->items, "|");
    for (size_t i = 0; i < it->nheaders; i++)
        sbuf_printf(&s->items, "%s[%s]", i ? "," : "", it->headers[i]);
    sbuf_addstr(&s->items, "\n");
    return 0;
}

/* Parses text (which may hold NUL bytes: len is explicit) as list NAME. */
static int run(const char *text, size_t len, const char *name, struct seen *s, char *err)
{
    FILE *fp = fmemopen((void *)text, len, "r");
    int rc;

    assert_non_null(fp);
    sbuf_add(&s->items, "", 0);
    sbuf_add(&s->errors, "", 0);
    rc = input_read(fp, name, item_cb, s, report, s, err);
    fclose(fp);
    return rc;
}

static void seen_free(struct seen *s)
{
    sbuf_free(&s->items);
    sbuf_free(&s->errors);
}

#define SHA_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MD5_HEX "D41D8CD98F00B204E9800998ECF8427E"

static void test_good_list(void **state)
{
    static const char text[] =
        "# a comment\n"
        "\n"
        "https://a.example/x.bin\r\n"
        "  out=sub/x.bin\r\n"
        "\tdir=d\n"
        "  checksum=sha-256=" SHA_HEX "\n"
        "  header=Authorization: Bearer t0k\n"
        "  header=X-A:1\n"
        "   # an indented comment\n"
        "   \n"
        "http://m1.example/f\thttp://m2.example/f\t\thttps://[::1]:8443/f  \n"
        " checksum=MD5=" MD5_HEX "\n"
        "http://c.example/?q=1#frag\n"
        "  checksum=SHA256=" SHA_HEX "\n";
    struct seen s = { 0 };
    char err[ERRLEN] = "";

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "list.txt", &s, err), 0);
    assert_int_equal(s.nerrors, 0);
    assert_int_equal(s.nitems, 3);
    assert_string_equal(s.items.s,
        "list.txt:3 https://a.example/x.bin|sub/x.bin|d|sha256:" SHA_HEX
        "|[Authorization: Bearer t0k],[X-A:1]\n"
        "list.txt:11 http://m1.example/f,http://m2.example/f,https://[::1]:8443/f|-|-|md5:"
        "d41d8cd98f00b204e9800998ecf8427e|\n"
        "list.txt:13 http://c.example/?q=1#frag|-|-|sha256:" SHA_HEX "|\n");
    seen_free(&s);
}

/* Every error of a file is listed with its line, and the parse goes on to the end. */
static void test_every_error_listed(void **state)
{
    static const char text[] =
        "  out=orphan\n"                                        /* 1 */
        "http://ok.example/a\n"                                 /* 2 */
        "  foo=bar\n"                                           /* 3 */
        "  out=a\n"                                             /* 4 */
        "  out=b\n"                                             /* 5 */
        "  checksum=sha-256=abcd\n"                             /* 6 */
        "ftp://x.example/a\n"                                   /* 7 */
        "  out=fine\n"                                          /* 8: belongs to the bad URL */
        "http://ok.example/b\n"                                 /* 9 */
        "  checksum=sha-256=" SHA_HEX "0\n"                     /* 10 */
        "  checksum=md5=zz1d8cd98f00b204e9800998ecf8427e\n"     /* 11: duplicate */
        "http://ok.example/c\n"                                 /* 12 */
        "  checksum=md5=zz1d8cd98f00b204e9800998ecf8427e\n"     /* 13 */
        "  dir=../up\n"                                         /* 14 */
        "http://ok.example/d\n"                                 /* 15 */
        "  checksum=sha-1=abc\n"                                /* 16 */
        "  out=/etc/passwd\n"                                   /* 17 */
        "  header=NoColon secret\n"                             /* 18 */
        "  header=: empty\n"                                    /* 19 */
        "  header=Bad Name: v\n"                                /* 20 */
        "  header=X: a\rb\n"                                    /* 21 */
        "  nothing\n"                                           /* 22 */
        "http://ok.example/e\n"                                 /* 23 */
        "  out=dir/\n"                                          /* 24 */
        "  checksum=md5\n"                                      /* 25 */
        "  dir=x\x1b[2J\n"                                      /* 26 */
        "http://h/a b\thttp://u:s3cret@h:99999/\n"              /* 27 */
        "http://ok.example/f\n";                                /* 28 */
    static const char want[] =
        "l.txt:1: option line without a URL above it\n"
        "l.txt:3: unknown option 'foo' (known: out, dir, checksum, header)\n"
        "l.txt:5: duplicate option 'out' (already given on line 4)\n"
        "l.txt:6: checksum=: sha-256 needs 64 hex digits, got 4\n"
        "l.txt:7: bad URL 'ftp://x.example/a': unsupported scheme 'ftp' (only http and https)\n"
        "l.txt:10: checksum=: sha-256 needs 64 hex digits, got 65\n"
        "l.txt:11: duplicate option 'checksum' (already given on line 10)\n"
        "l.txt:13: checksum=: not a hex number\n"
        "l.txt:14: dir=: '..' in path '../up' is not allowed\n"
        "l.txt:16: checksum=: unsupported type 'sha-1' (sha-256 or md5)\n"
        "l.txt:17: out=: absolute path '/etc/passwd' is not allowed (it must be relative to the "
        "output folder)\n"
        "l.txt:18: header=: expected 'Name: value'\n"
        "l.txt:19: header=: expected 'Name: value'\n"
        "l.txt:20: header=: bad character in the header name\n"
        "l.txt:21: header=: control character in the header value\n"
        "l.txt:22: option line is not key=value\n"
        "l.txt:24: out= names a file, not a folder: remove the trailing '/' (or use dir=)\n"
        "l.txt:25: checksum=: expected TYPE=HEX, e.g. checksum=sha-256=<64 hex digits>\n"
        "l.txt:26: dir=: control character in path 'x\\x1b[2J'\n"
        "l.txt:27: bad URL 'http://h/a b': contains a space (write it as %20)\n"
        "l.txt:27: bad URL 'http://***@h:99999/': bad port (1 to 65535)\n";
    struct seen s = { 0 };
    char err[ERRLEN] = "";

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "l.txt", &s, err), 21);
    assert_int_equal(s.nerrors, 21);
    assert_string_equal(s.errors.s, want);
    assert_null(strstr(s.errors.s, "secret"));     /* neither a header value nor a password */
    assert_int_equal(s.nitems, 0);                  /* the first error came before any item */
    seen_free(&s);
}

/* Items before the first error are handed over; none after it. */
static void test_no_items_after_error(void **state)
{
    static const char text[] =
        "http://h/1\n"
        "http://h/2\n"
        "  bogus=1\n"
        "http://h/3\n"
        "http://h/4\n";
    struct seen s = { 0 };
    char err[ERRLEN];

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "x", &s, err), 1);
    assert_int_equal(s.nitems, 1);
    assert_string_equal(s.items.s, "x:1 http://h/1|-|-|none:|\n");
    assert_string_equal(s.errors.s, "x:3: unknown option 'bogus' (known: out, dir, checksum, header)\n");
    seen_free(&s);
}

static void test_stdin_name_and_last_line(void **state)
{
    static const char text[] = "http://h/1\n  out=o\n  out=p";     /* no final newline */
    struct seen s = { 0 };
    char err[ERRLEN];

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "-", &s, err), 1);
    assert_string_equal(s.errors.s, "<stdin>:3: duplicate option 'out' (already given on line 2)\n");
    seen_free(&s);

    memset(&s, 0, sizeof s);
    assert_int_equal(run(text, 19, "-", &s, err), 0);             /* cut after "  out=o\n" */
    assert_string_equal(s.items.s, "<stdin>:1 http://h/1|o|-|none:|\n");
    seen_free(&s);
}

static void test_callback_stops(void **state)
{
    static const char text[] = "http://h/1\nhttp://h/2\nhttp://h/3\n";
    struct seen s = { .stop_after = 2 };
    char err[ERRLEN] = "";

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "x", &s, err), -1);
    assert_string_equal(err, "stopped by the callback");
    assert_int_equal(s.nitems, 2);
    seen_free(&s);

    /* Also when the last item is the one refused. */
    memset(&s, 0, sizeof s);
    s.stop_after = 3;
    assert_int_equal(run(text, sizeof text - 1, "x", &s, err), -1);
    seen_free(&s);
}

static void test_nul_bom_crlf(void **state)
{
    static const char text[] = "\xef\xbb\xbfhttp://h/1\r\n"
                               "http://h/\0x\n"
                               "  out=z\n"
                               "  out\0=y\n"
                               "\r\n"
                               "http://h/3\r\n";
    struct seen s = { 0 };
    char err[ERRLEN];

    (void)state;
    assert_int_equal(run(text, sizeof text - 1, "n", &s, err), 2);
    /* line 3 belongs to the broken URL of line 2: no "without a URL" cascade */
    assert_string_equal(s.errors.s, "n:2: NUL byte in line\nn:4: NUL byte in line\n");
    assert_string_equal(s.items.s, "n:1 http://h/1|-|-|none:|\n");
    seen_free(&s);
}

static void test_long_line(void **state)
{
    size_t big = 70000;
    struct sbuf t = { 0 };
    struct seen s = { 0 };
    char err[ERRLEN];
    char *pad = xmalloc(big + 1);

    (void)state;
    memset(pad, 'a', big);
    pad[big] = '\0';
    sbuf_addstr(&t, "http://h/");
    sbuf_addstr(&t, pad);
    sbuf_addstr(&t, "\n  out=x\n  dir=");
    sbuf_addstr(&t, pad);
    sbuf_addstr(&t, "\nhttp://h/ok\n  foo=1\n");
    assert_int_equal(run(t.s, t.len, "big", &s, err), 3);
    assert_string_equal(s.errors.s, "big:1: line longer than 65536 bytes\n"
                                    "big:3: line longer than 65536 bytes\n"
                                    "big:5: unknown option 'foo' (known: out, dir, checksum, header)\n");
    assert_int_equal(s.nitems, 0);
    seen_free(&s);

    /* A URL line just under the limit is fine (as a line; the URL is too long for urlpath). */
    memset(&s, 0, sizeof s);
    t.len = 0;
    sbuf_addstr(&t, "  checksum=md5=");
    sbuf_add(&t, pad, 65536 - t.len);
    sbuf_addstr(&t, "\n");
    assert_int_equal(run(t.s, t.len, "big", &s, err), 1);
    assert_string_equal(s.errors.s, "big:1: option line without a URL above it\n");
    seen_free(&s);
    sbuf_free(&t);
    free(pad);
}

/* A list is read within bounds (input.h): a line that never ends, a list past its size and a
 * list of nothing but errors each stop the reading with a message saying so. */
static void test_bounds(void **state)
{
    size_t big = INPUT_MAX_SKIP + 10;
    struct sbuf t = { 0 };
    struct seen s = { 0 };
    char err[ERRLEN];
    char *zeros = xcalloc(big, 1);

    (void)state;
    /* /dev/zero: NUL bytes and no newline. */
    assert_int_equal(run(zeros, big, "zero", &s, err), 1);
    assert_string_equal(s.errors.s, "zero:1: line longer than 1048576 bytes; the rest of the list "
                                    "is not read\n");
    seen_free(&s);

    /* Past the size bound (lowered here): one error, the rest unread (items before it were handed
     * over, as before any error; the run is refused by the error). */
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 100; i++)
        sbuf_printf(&t, "http://h/%03d\n", i);          /* 13 bytes a line */
    input_max_bytes = 13 * 50;
    assert_int_equal(run(t.s, t.len, "list", &s, err), 1);
    assert_string_equal(s.errors.s, "list:51: the list is larger than 650 bytes; the rest is not "
                                    "read (split it)\n");
    assert_int_equal(s.nitems, 49);
    seen_free(&s);
    /* Exactly at the bound: read whole. */
    memset(&s, 0, sizeof s);
    input_max_bytes = t.len;
    assert_int_equal(run(t.s, t.len, "list", &s, err), 0);
    assert_int_equal(s.nitems, 100);
    seen_free(&s);
    input_max_bytes = INPUT_MAX_BYTES;

    /* Nothing but errors: listed up to the bound. */
    memset(&s, 0, sizeof s);
    t.len = 0;
    for (int i = 0; i < 5000; i++)
        sbuf_addstr(&t, "  foo=1\n");
    assert_int_equal(run(t.s, t.len, "junk", &s, err), INPUT_MAX_ERRORS + 1);
    assert_non_null(strstr(s.errors.s, "junk:1001: more than 1000 errors; the rest of the list is "
                                       "not read\n"));
    seen_free(&s);
    sbuf_free(&t);
    free(zeros);
}

static void test_read_error(void **state)
{
    FILE *fp = fopen(".", "r");      /* a directory: opens, but reading fails with EISDIR */
    struct seen s = { 0 };
    char err[ERRLEN] = "";

    (void)state;
    if (fp == NULL)
        skip();
    assert_int_equal(input_read(fp, "dirlist", item_cb, &s, report, &s, err), -1);
    assert_non_null(strstr(err, "dirlist: read error"));
    fclose(fp);
    seen_free(&s);
}

/* A fixed-seed storm of random and list-shaped text: no crash (ASan/UBSan build too), the error
 * count matches the reports, and whatever reaches the callback is valid. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int fuzz_cb(const struct input_item *it, void *arg, char *err)
{
    char e[ERRLEN];
    struct url_parts p;
    char *c;

    (*(int *)arg)++;
    assert_true(it->nurls > 0);
    for (size_t i = 0; i < it->nurls; i++) {
        assert_int_equal(urlpath_parse(it->urls[i], &p, e), 0);
        urlpath_parts_free(&p);
    }
    if (it->out != NULL) {
        assert_non_null(c = urlpath_clean_rel(it->out, e));
        free(c);
    }
    if (it->dir != NULL) {
        assert_non_null(c = urlpath_clean_rel(it->dir, e));
        free(c);
    }
    for (size_t i = 0; i < it->nheaders; i++)
        assert_true(strchr(it->headers[i], ':') > it->headers[i]);
    return 0;
}

static void count_report(void *arg, const char *msg)
{
    (*(int *)arg)++;
    assert_true(strncmp(msg, "f:", 2) == 0);
    for (const char *c = msg; *c; c++)
        assert_false((unsigned char)*c < 0x20 || *c == 0x7f);
}

static void test_fuzz(void **state)
{
    static const char *tokens[] = {
        "http://h/", "https://[::1]:1/", "ftp://x/", "\n", "\r\n", "\n  ", "\n\t", "\t", " ", "#",
        "out=", "dir=", "checksum=", "sha-256=", "md5=", "header=", "X:", "=", "..", "/", "a",
        "%2e", "\0", "\r", "\x1b", "\xff", SHA_HEX, "d41d8cd98f00b204e9800998ecf8427e", "foo=",
    };
    /* Well-formed lines, so that some lists are clean (or nearly) and reach the callback. */
    static const char *lines[] = {
        "http://h/a\n", "https://u:p@h:8080/b/../c?q#f\n", "http://a/x\thttp://b/x\n", "# c\n",
        "\n", "  out=sub/f.bin\n", "\tdir=d/e\n", "  checksum=md5=d41d8cd98f00b204e9800998ecf8427e\n",
        "  checksum=sha-256=" SHA_HEX "\n", "  header=X-A: b\n", "http://[::1]/%2e%2e/x\r\n",
    };
    uint64_t rng = 0xfeedbeefcafe1234ULL;
    int items = 0;

    (void)state;
    for (int i = 0; i < 3000; i++) {
        struct sbuf t = { 0 };
        size_t n = rng_next(&rng) % 40;
        int reports = 0, rc;
        char err[ERRLEN];
        FILE *fp;

        sbuf_add(&t, "", 0);
        for (size_t k = 0; k < n; k++) {
            const char *tok;

            if (i % 2 == 0) {
                tok = lines[rng_next(&rng) % ARRAY_LEN(lines)];
            } else if (rng_next(&rng) % 5 == 0) {
                char c = (char)(rng_next(&rng) % 256);

                sbuf_add(&t, &c, 1);
                continue;
            } else {
                tok = tokens[rng_next(&rng) % ARRAY_LEN(tokens)];
            }
            sbuf_add(&t, tok, tok[0] == '\0' ? 1 : strlen(tok));
        }
        /* Flip one byte in a third of the well-formed lists. */
        if (i % 2 == 0 && t.len > 0 && rng_next(&rng) % 3 == 0)
            t.s[rng_next(&rng) % t.len] = (char)(rng_next(&rng) % 256);
        fp = fmemopen(t.len ? t.s : (char *)"\n", t.len ? t.len : 1, "r");
        assert_non_null(fp);
        rc = input_read(fp, "f", fuzz_cb, &items, count_report, &reports, err);
        fclose(fp);
        assert_true(rc >= 0);
        assert_int_equal(rc, reports);
        sbuf_free(&t);
    }
    assert_true(items > 1000);      /* the generator must reach the callback too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_list),
        cmocka_unit_test(test_every_error_listed),
        cmocka_unit_test(test_no_items_after_error),
        cmocka_unit_test(test_stdin_name_and_last_line),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_nul_bom_crlf),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
