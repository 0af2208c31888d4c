/* URL parsing, redaction and URL → path mapping against a table of hostile inputs. Every path that
 * comes out is checked against the safety invariants, whatever row produced it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "urlpath.h"
#include "util.h"

/* What fsout relies on: relative, no empty / "." / ".." segment, no control bytes, short names. */
static void assert_safe(const char *p)
{
    const char *s = p;

    assert_non_null(p);
    assert_true(p[0] != '\0');
    assert_true(p[0] != '/');
    for (const char *c = p; *c; c++)
        assert_false((unsigned char)*c < 0x20 || *c == 0x7f);
    for (;;) {
        size_t n = strcspn(s, "/");

        assert_true(n > 0);                             /* no empty segment, no trailing '/' */
        assert_true(n <= URLPATH_MAX_SEGMENT);
        assert_false(n == 1 && s[0] == '.');
        assert_false(n == 2 && s[0] == '.' && s[1] == '.');
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
}

/* Valid UTF-8 (no cut multi-byte sequence), for names shortened on a boundary. */
static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;

        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

struct map_case {
    const char *url;
    enum layout layout;
    const char *want;       /* NULL: must fail */
    const char *err_has;    /* for failures: a piece of the message */
};

static const struct map_case map_cases[] = {
    /* dot segments, literal and encoded */
    { "http://h/..", LAYOUT_PATH, "index.html", NULL },
    { "http://h/../../../etc/passwd", LAYOUT_PATH, "etc/passwd", NULL },
    { "http://h/%2e%2e", LAYOUT_PATH, "%2E%2E", NULL },
    { "http://h/%2E%2e/%2e%2e/etc/passwd", LAYOUT_PATH, "%2E%2E/%2E%2E/etc/passwd", NULL },
    { "http://h/.%2e/x", LAYOUT_PATH, "%2E%2E/x", NULL },
    { "http://h/%2e", LAYOUT_PATH, "%2E", NULL },
    { "http://h/a/../../b", LAYOUT_PATH, "b", NULL },
    { "http://h/a/./b/.", LAYOUT_PATH, "a/b/index.html", NULL },
    { "http://h/a/b/..", LAYOUT_PATH, "a/index.html", NULL },
    { "http://h/./a", LAYOUT_PATH, "a", NULL },
    { "http://h/...", LAYOUT_PATH, "...", NULL },
    { "http://h/..a/b..", LAYOUT_PATH, "..a/b..", NULL },
    { "http://h/a/b/../../../c/./../d", LAYOUT_PATH, "d", NULL },
    { "http://h/.hidden/.x/..y", LAYOUT_PATH, ".hidden/.x/..y", NULL },
    /* slashes and control bytes stay encoded */
    { "http://h/%2f", LAYOUT_PATH, "%2F", NULL },
    { "http://h/a%2fb", LAYOUT_PATH, "a%2Fb", NULL },
    { "http://h/a%2F..%2Fb", LAYOUT_PATH, "a%2F..%2Fb", NULL },
    { "http://h/%00", LAYOUT_PATH, "%00", NULL },
    { "http://h/a%00b.txt", LAYOUT_PATH, "a%00b.txt", NULL },
    { "http://h/%0a", LAYOUT_PATH, "%0A", NULL },
    { "http://h/%0d%0a%1b%7f", LAYOUT_PATH, "%0D%0A%1B%7F", NULL },
    { "http://h/x\x01", LAYOUT_PATH, NULL, "control character" },
    { "http://h/x\ty", LAYOUT_PATH, NULL, "control character" },
    { "http://h/x y", LAYOUT_PATH, NULL, "space" },
    /* decoding */
    { "http://h/a%20b", LAYOUT_PATH, "a b", NULL },
    { "http://h/caf%C3%A9.jpg", LAYOUT_PATH, "caf\xc3\xa9.jpg", NULL },
    { "http://h/%25", LAYOUT_PATH, "%", NULL },
    { "http://h/%zz%", LAYOUT_PATH, "%zz%", NULL },
    { "http://h/a%4", LAYOUT_PATH, "a%4", NULL },
    { "http://h/a%4g", LAYOUT_PATH, "a%4g", NULL },
    /* empty segments, query, fragment, trailing slash */
    { "http://h//a///b", LAYOUT_PATH, "a/b", NULL },
    { "http://h/a/b?q=1/../../x#f", LAYOUT_PATH, "a/b", NULL },
    { "http://h/a/b#frag/../../x", LAYOUT_PATH, "a/b", NULL },
    { "http://h/a?", LAYOUT_PATH, "a", NULL },
    { "http://h/dir/", LAYOUT_PATH, "dir/index.html", NULL },
    { "http://h/dir//", LAYOUT_PATH, "dir/index.html", NULL },
    { "http://h", LAYOUT_PATH, "index.html", NULL },
    { "http://h/", LAYOUT_PATH, "index.html", NULL },
    { "http://h?x=1", LAYOUT_PATH, "index.html", NULL },
    { "http://h///", LAYOUT_PATH, "index.html", NULL },
    /* host layout */
    { "https://Example.COM:8443/a/b.jpg", LAYOUT_HOST, "example.com_8443/a/b.jpg", NULL },
    { "http://[::1]:8080/x", LAYOUT_HOST, "__1_8080/x", NULL },
    { "http://[2001:DB8::1]/", LAYOUT_HOST, "2001_db8__1/index.html", NULL },
    { "https://h:443/x", LAYOUT_HOST, "h/x", NULL },
    { "http://h:80/x", LAYOUT_HOST, "h/x", NULL },
    { "http://h:443/x", LAYOUT_HOST, "h_443/x", NULL },
    { "http://u:pw@h:/x", LAYOUT_HOST, "h/x", NULL },
    { "http://h/../..", LAYOUT_HOST, "h/index.html", NULL },
    /* flat layout */
    { "http://h/a/b/c.jpg?x=1", LAYOUT_FLAT, "c.jpg", NULL },
    { "http://h/a/b/", LAYOUT_FLAT, "index.html", NULL },
    { "http://h", LAYOUT_FLAT, "index.html", NULL },
    { "http://h/a/..%2f..%2fetc", LAYOUT_FLAT, "..%2F..%2Fetc", NULL },
    { "http://h/a/%2e%2e", LAYOUT_FLAT, "%2E%2E", NULL },
    { "http://h/a/b/..", LAYOUT_FLAT, "index.html", NULL },
    /* URLs that must be refused */
    { "ftp://h/x", LAYOUT_PATH, NULL, "unsupported scheme 'ftp'" },
    { "file:///etc/passwd", LAYOUT_PATH, NULL, "unsupported scheme" },
    { "javascript:alert(1)", LAYOUT_PATH, NULL, "unsupported scheme" },
    { "data:text/plain,x", LAYOUT_PATH, NULL, "unsupported scheme" },
    { "http:/h/x", LAYOUT_PATH, NULL, "no '//'" },
    { "http:h", LAYOUT_PATH, NULL, "no '//'" },
    { "//h/x", LAYOUT_PATH, NULL, "not an absolute" },
    { "h/x", LAYOUT_PATH, NULL, "not an absolute" },
    { "/etc/passwd", LAYOUT_PATH, NULL, "not an absolute" },
    { "", LAYOUT_PATH, NULL, "empty" },
    { "http:///x", LAYOUT_PATH, NULL, "no host" },
    { "http://", LAYOUT_PATH, NULL, "no host" },
    { "http://u@/x", LAYOUT_PATH, NULL, "no host" },
    { "http://:80/x", LAYOUT_PATH, NULL, "no host" },
    { "http://h:0/", LAYOUT_PATH, NULL, "bad port" },
    { "http://h:65536/", LAYOUT_PATH, NULL, "bad port" },
    { "http://h:123456/", LAYOUT_PATH, NULL, "bad port" },
    { "http://h:-1/", LAYOUT_PATH, NULL, "bad port" },
    { "http://h:8o/", LAYOUT_PATH, NULL, "bad port" },
    { "http://h:80:80/", LAYOUT_PATH, NULL, "bad port" },
    { "http://\xc3\xa9.com/", LAYOUT_PATH, NULL, "non-ASCII" },
    { "http://h%2f/", LAYOUT_PATH, NULL, "percent-encoded" },
    { "http://h%/", LAYOUT_PATH, NULL, "percent-encoded" },
    { "http://a\\b/", LAYOUT_PATH, NULL, "bad character" },
    { "http://../x", LAYOUT_HOST, NULL, "bad host" },
    { "http://./x", LAYOUT_HOST, NULL, "bad host" },
    { "http://[::1/", LAYOUT_PATH, NULL, "IPv6" },
    { "http://[zz::]/", LAYOUT_PATH, NULL, "IPv6" },
    { "http://[::1]x/", LAYOUT_PATH, NULL, "IPv6" },
    { "http://[fe80::1%25eth0]/", LAYOUT_PATH, NULL, "zone" },
    { "http://[]/", LAYOUT_PATH, NULL, "IPv6" },
    { "http://h/\x7f", LAYOUT_PATH, NULL, "control character" },
};

static void test_map_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(map_cases); i++) {
        const struct map_case *c = &map_cases[i];
        char err[ERRLEN] = "";
        char *got = urlpath_map(c->url, c->layout, err);

        if (c->want != NULL) {
            if (got == NULL || strcmp(got, c->want) != 0)
                fail_msg("row %zu '%s': got '%s' (%s), want '%s'", i, c->url, got ? got : "NULL",
                         err, c->want);
            assert_safe(got);
        } else {
            if (got != NULL)
                fail_msg("row %zu '%s': got '%s', want an error", i, c->url, got);
            if (strstr(err, c->err_has) == NULL)
                fail_msg("row %zu '%s': message '%s' lacks '%s'", i, c->url, err, c->err_has);
            assert_true(strncmp(err, "bad URL '", 9) == 0);
        }
        free(got);
    }
}

static void test_parse_fields(void **state)
{
    struct url_parts p;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(urlpath_parse("HTTPS://User:Pw@Example.COM:8080/A%20b?x=1&y#f", &p, err), 0);
    assert_string_equal(p.scheme, "https");
    assert_string_equal(p.userinfo, "User:Pw");
    assert_string_equal(p.host, "example.com");
    assert_int_equal(p.port, 8080);
    assert_string_equal(p.path, "/A%20b");
    assert_string_equal(p.query, "x=1&y");
    urlpath_parts_free(&p);

    assert_int_equal(urlpath_parse("http://h", &p, err), 0);
    assert_null(p.userinfo);
    assert_int_equal(p.port, 0);
    assert_string_equal(p.path, "/");
    assert_null(p.query);
    urlpath_parts_free(&p);

    assert_int_equal(urlpath_parse("http://h?q#f?x", &p, err), 0);
    assert_string_equal(p.path, "/");
    assert_string_equal(p.query, "q");
    urlpath_parts_free(&p);

    assert_int_equal(urlpath_parse("http://a@b@h:65535#x", &p, err), 0);
    assert_string_equal(p.userinfo, "a@b");
    assert_string_equal(p.host, "h");
    assert_int_equal(p.port, 65535);
    assert_null(p.query);
    urlpath_parts_free(&p);

    assert_int_equal(urlpath_parse("http://[2001:DB8::10.0.0.1]:1/", &p, err), 0);
    assert_string_equal(p.host, "2001:db8::10.0.0.1");
    assert_int_equal(p.port, 1);
    urlpath_parts_free(&p);

    /* A failed parse leaves nothing to free and zeroed fields. */
    assert_int_equal(urlpath_parse("ftp://u:p@h/", &p, err), -1);
    assert_null(p.scheme);
    assert_null(p.userinfo);
    urlpath_parts_free(&p);
}

static void test_parse_length(void **state)
{
    char err[ERRLEN];
    struct url_parts p;
    size_t n = 8192;
    char *u = xmalloc(n + 2);

    (void)state;
    memcpy(u, "http://h/", 9);
    memset(u + 9, 'a', n - 9);
    u[n] = '\0';
    assert_int_equal(urlpath_parse(u, &p, err), 0);           /* exactly 8192 bytes */
    urlpath_parts_free(&p);
    u[n] = 'a';
    u[n + 1] = '\0';
    assert_int_equal(urlpath_parse(u, &p, err), -1);
    assert_non_null(strstr(err, "longer than 8192"));
    assert_true(strlen(err) < 400);                           /* the URL is cut in the message */
    free(u);
}

/* Credentials never reach a message, parseable or not. */
static void test_redact(void **state)
{
    static const struct {
        const char *in, *want;
    } rows[] = {
        { "https://user:pass@h/x", "https://***@h/x" },
        { "http://u@h:8080/", "http://***@h:8080/" },
        { "http://a@b@h/", "http://***@h/" },
        { "http://h/a@b", "http://h/a@b" },
        { "http://h/?u=x@y", "http://h/?u=x@y" },
        { "ftp://user:pw@h/", "ftp://***@h/" },
        { "http://user:pa ss@h/", "http://***@h/" },
        { "http://user:p/w@h/", "http://***@h/" },
        { "http://user:p#w@h/", "http://***@h/" },
        { "no-url@all", "no-url@all" },
        { "", "" },
        { "http://h", "http://h" },
    };
    char err[ERRLEN];
    struct url_parts p;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        char *got = urlpath_redact(rows[i].in);

        if (strcmp(got, rows[i].want) != 0)
            fail_msg("'%s' → '%s', want '%s'", rows[i].in, got, rows[i].want);
        free(got);
    }
    assert_int_equal(urlpath_parse("http://user:s3cret@h:99999/", &p, err), -1);
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "***@h"));
    assert_int_equal(urlpath_parse("http://user:s3cret@/", &p, err), -1);
    assert_null(strstr(err, "s3cret"));
    /* "user:s3cret" parses as host "user" with port "s3cret": the port text must not be echoed. */
    assert_int_equal(urlpath_parse("http://user:s3cret/x@h/", &p, err), -1);
    assert_null(strstr(err, "s3cret"));
}

static void test_show(void **state)
{
    char *s;

    (void)state;
    s = urlpath_show("a\x1b[2Jb\\\xc2\x9b", 100);
    assert_string_equal(s, "a\\x1b[2Jb\\\\\\xc2\\x9b");
    free(s);
    s = urlpath_show("abcdefghij", 4);
    assert_string_equal(s, "abcd...");
    free(s);
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
    struct sbuf b = { 0 };

    sbuf_addstr(&b, "http://h/d/");
    for (size_t i = 0; i < times; i++)
        sbuf_addstr(&b, unit);
    sbuf_addstr(&b, tail);
    return b.s;
}

static void test_long_segments(void **state)
{
    char err[ERRLEN];
    char *u, *a, *b, *c;

    (void)state;
    /* 300 ASCII bytes: cut to the limit, hash suffix, deterministic, distinct from a neighbour. */
    u = repeat("a", 300, "");
    a = urlpath_map(u, LAYOUT_PATH, err);
    assert_safe(a);
    assert_int_equal(strlen(a), 2 + URLPATH_MAX_SEGMENT);
    assert_true(a[2 + URLPATH_MAX_SEGMENT - 13] == '~');
    b = urlpath_map(u, LAYOUT_PATH, err);
    assert_string_equal(a, b);
    free(b);
    free(u);
    u = repeat("a", 301, "");
    b = urlpath_map(u, LAYOUT_PATH, err);
    assert_safe(b);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
    free(u);

    /* A short extension survives the cut; a long one does not count as one. */
    u = repeat("a", 300, ".jpeg");
    a = urlpath_map(u, LAYOUT_PATH, err);
    assert_safe(a);
    assert_int_equal(strlen(a), 2 + URLPATH_MAX_SEGMENT);
    assert_string_equal(a + strlen(a) - 5, ".jpeg");
    assert_true(a[strlen(a) - 5 - 13] == '~');
    free(a);
    free(u);
    u = repeat("a", 300, ".averylongextension");
    a = urlpath_map(u, LAYOUT_PATH, err);
    assert_safe(a);
    assert_true(a[strlen(a) - 13] == '~');
    free(a);
    free(u);

    /* Exactly at the limit: untouched. One more byte: shortened. */
    u = repeat("b", URLPATH_MAX_SEGMENT, "");
    a = urlpath_map(u, LAYOUT_PATH, err);
    assert_string_equal(a, u + strlen("http://h/"));
    free(a);
    free(u);

    /* 300 bytes of 2-, 3- and 4-byte UTF-8, raw and percent-encoded: cut on a boundary. */
    static const char *units[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "%E2%82%AC",
                                   "x\xe2\x82\xac" };
    static const size_t times[] = { 150, 100, 75, 100, 75 };
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        u = repeat(units[i], times[i], ".txt");
        a = urlpath_map(u, LAYOUT_PATH, err);
        assert_safe(a);
        assert_true(utf8_valid(a));
        assert_true(strlen(a) <= 2 + URLPATH_MAX_SEGMENT);
        assert_true(strlen(a) >= 2 + URLPATH_MAX_SEGMENT - 3);
        assert_string_equal(a + strlen(a) - 4, ".txt");
        free(a);
        free(u);
    }
    u = repeat("\xe2\x82\xac", 100, "");
    a = urlpath_map(u, LAYOUT_PATH, err);
    free(u);
    u = repeat("%E2%82%AC", 100, "");
    b = urlpath_map(u, LAYOUT_PATH, err);
    free(u);
    assert_string_equal(a, b);          /* encoded or not, one name */
    free(a);
    free(b);

    /* A long host in the host layout is shortened like any other name. */
    c = xasprintf("http://%0250d/x", 0);
    a = urlpath_map(c, LAYOUT_HOST, err);
    assert_safe(a);
    free(a);
    free(c);
}

static void test_depth(void **state)
{
    char err[ERRLEN];
    struct sbuf b = { 0 };
    char *a;

    (void)state;
    sbuf_addstr(&b, "http://h");
    for (int i = 0; i < URLPATH_MAX_DEPTH; i++)
        sbuf_addstr(&b, "/d");
    a = urlpath_map(b.s, LAYOUT_PATH, err);
    assert_safe(a);
    free(a);
    sbuf_addstr(&b, "/d");
    assert_null(urlpath_map(b.s, LAYOUT_PATH, err));
    assert_non_null(strstr(err, "more than 64 segments"));
    assert_null(urlpath_map(b.s, LAYOUT_HOST, err));
    a = urlpath_map(b.s, LAYOUT_FLAT, err);          /* flat makes no folders */
    assert_string_equal(a, "d");
    free(a);
    sbuf_free(&b);
}

struct target_case {
    const char *url, *dir, *out;
    enum layout layout;
    const char *want;       /* NULL: must fail */
    const char *err_has;
};

static const struct target_case target_cases[] = {
    { "http://h/a/b", NULL, NULL, LAYOUT_PATH, "a/b", NULL },
    { "http://h/a/b", "d", NULL, LAYOUT_PATH, "d/a/b", NULL },
    { "http://h/a/b", "x/./y/", "f", LAYOUT_PATH, "x/y/f", NULL },
    { "http://h/a/b", NULL, "./a//b", LAYOUT_PATH, "a/b", NULL },
    { "http://h/a/b", NULL, "sub/dir/name.bin", LAYOUT_HOST, "sub/dir/name.bin", NULL },
    { "http://h/a/b", "d", NULL, LAYOUT_HOST, "d/h/a/b", NULL },
    { "http://h/a/b/", "d", NULL, LAYOUT_FLAT, "d/index.html", NULL },
    { "http://h/a", NULL, "a/.../b", LAYOUT_PATH, "a/.../b", NULL },
    { "http://h/a", NULL, "..a", LAYOUT_PATH, "..a", NULL },
    { "http://h/a", NULL, "/etc/x", LAYOUT_PATH, NULL, "absolute" },
    { "http://h/a", NULL, "../x", LAYOUT_PATH, NULL, "'..'" },
    { "http://h/a", NULL, "a/../../x", LAYOUT_PATH, NULL, "'..'" },
    { "http://h/a", NULL, "a/..", LAYOUT_PATH, NULL, "'..'" },
    { "http://h/a", "a/../../b", NULL, LAYOUT_PATH, NULL, "'..'" },
    { "http://h/a", "/tmp", NULL, LAYOUT_PATH, NULL, "absolute" },
    { "http://h/a", "..", "x", LAYOUT_PATH, NULL, "'..'" },
    { "http://h/a", NULL, "a/b/", LAYOUT_PATH, NULL, "trailing '/'" },
    { "http://h/a", NULL, "", LAYOUT_PATH, NULL, "empty" },
    { "http://h/a", NULL, ".", LAYOUT_PATH, NULL, "names no file" },
    { "http://h/a", NULL, "././/.", LAYOUT_PATH, NULL, "names no file" },
    { "http://h/a", "", NULL, LAYOUT_PATH, NULL, "empty" },
    { "http://h/a", NULL, "a\x01", LAYOUT_PATH, NULL, "control character" },
    { "http://h/a", NULL, "a\nb", LAYOUT_PATH, NULL, "control character" },
    { "http://h/a", "d\x7f", NULL, LAYOUT_PATH, NULL, "control character" },
    { "ftp://h/a", NULL, "x", LAYOUT_PATH, NULL, "unsupported scheme" },
    { "http://h/a", "d", "/abs", LAYOUT_PATH, NULL, "out=" },
    { "http://h/a", "/abs", "f", LAYOUT_PATH, NULL, "dir=" },
};

static void test_target_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(target_cases); i++) {
        const struct target_case *c = &target_cases[i];
        char err[ERRLEN] = "";
        char *got = urlpath_target(c->url, c->layout, c->dir, c->out, err);

        if (c->want != NULL) {
            if (got == NULL || strcmp(got, c->want) != 0)
                fail_msg("row %zu: got '%s' (%s), want '%s'", i, got ? got : "NULL", err, c->want);
            assert_safe(got);
        } else {
            if (got != NULL)
                fail_msg("row %zu: got '%s', want an error", i, got);
            if (strstr(err, c->err_has) == NULL)
                fail_msg("row %zu: message '%s' lacks '%s'", i, err, c->err_has);
            /* a control byte in the input must not reach the message */
            for (const char *e = err; *e; e++)
                assert_false((unsigned char)*e < 0x20 || *e == 0x7f);
        }
        free(got);
    }
}

static void test_clean_rel_limits(void **state)
{
    char err[ERRLEN];
    char *long_name = xmalloc(URLPATH_MAX_SEGMENT + 2), *p;
    struct sbuf deep = { 0 };

    (void)state;
    memset(long_name, 'n', URLPATH_MAX_SEGMENT + 1);
    long_name[URLPATH_MAX_SEGMENT + 1] = '\0';
    assert_null(urlpath_clean_rel(long_name, err));
    assert_non_null(strstr(err, "longer than"));
    long_name[URLPATH_MAX_SEGMENT] = '\0';
    p = urlpath_clean_rel(long_name, err);
    assert_safe(p);
    free(p);
    free(long_name);

    for (int i = 0; i <= URLPATH_MAX_DEPTH; i++)
        sbuf_addstr(&deep, "d/");
    assert_null(urlpath_clean_rel(deep.s, err));
    assert_non_null(strstr(err, "levels"));
    sbuf_free(&deep);
}

/* A fixed-seed storm of random and URL-shaped strings: no crash (ASan/UBSan build too), and every
 * path that comes out obeys the invariants. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static char *random_string(uint64_t *rng)
{
    static const char *tokens[] = {
        "http://", "https://", "h", "/", "//", ".", "..", "%2e", "%2E", "%2f", "%00", "%0a", "%",
        "%%", "%e2%82", "%ac", "\xe2\x82\xac", "\xc3", "@", ":", "[", "]", "::1", "?", "#", "a",
        "b.jpg", "\t", " ", "\x01", "\x7f", "\xff", "user:pw@", ":8080", "./", "../", "~",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    struct sbuf b = { 0 };
    size_t n = rng_next(rng) % 40;

    sbuf_add(&b, "", 0);
    if (rng_next(rng) % 3 != 0)
        sbuf_addstr(&b, rng_next(rng) % 2 ? "http://h/" : "https://[::1]:8080/");
    for (size_t i = 0; i < n; i++) {
        if (rng_next(rng) % 4 == 0) {
            char c = (char)(1 + rng_next(rng) % 255);

            sbuf_add(&b, &c, 1);
        } else {
            sbuf_addstr(&b, tokens[rng_next(rng) % ARRAY_LEN(tokens)]);
        }
    }
    return b.s;
}

static void test_fuzz(void **state)
{
    uint64_t rng = 0x5eed5eed12345678ULL;
    int mapped = 0, targeted = 0;

    (void)state;
    for (int i = 0; i < 4000; i++) {
        char err[ERRLEN];
        struct url_parts p;
        char *u = random_string(&rng), *rel = random_string(&rng), *r;

        r = urlpath_redact(u);
        if (urlpath_parse(u, &p, err) == 0) {
            assert_true(strcmp(p.scheme, "http") == 0 || strcmp(p.scheme, "https") == 0);
            assert_true(p.host[0] != '\0');
            assert_true(p.path[0] == '/');
            /* userinfo gone, the rest as it was */
            if (p.userinfo != NULL) {
                assert_memory_equal(strstr(r, "//"), "//***@", 6);
                assert_int_equal(strlen(r), strlen(u) - strlen(p.userinfo) + 3);
            } else {
                assert_string_equal(r, u);
            }
            urlpath_parts_free(&p);
        } else if (strstr(r, "//") != NULL && strchr(strstr(r, "//"), '@') != NULL) {
            /* unparseable: everything from the first "//" to the last '@' is masked */
            const char *s = strstr(r, "//");

            assert_ptr_equal(strrchr(s, '@'), s + 5);
            assert_memory_equal(s, "//***@", 6);
        }
        free(r);
        for (int l = LAYOUT_PATH; l <= LAYOUT_HOST; l++) {
            r = urlpath_map(u, (enum layout)l, err);
            if (r != NULL) {
                assert_safe(r);
                mapped++;
            }
            free(r);
        }
        r = urlpath_clean_rel(rel, err);
        if (r != NULL)
            assert_safe(r);
        free(r);
        r = urlpath_target(u, LAYOUT_PATH, i % 2 ? rel : NULL, i % 3 ? NULL : rel, err);
        if (r != NULL) {
            assert_safe(r);
            targeted++;
        }
        free(r);
        free(u);
        free(rel);
    }
    /* The generator must reach the mapper, or this test proves nothing. */
    assert_true(mapped > 1000);
    assert_true(targeted > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_table),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_length),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_long_segments),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_target_table),
        cmocka_unit_test(test_clean_rel_limits),
        cmocka_unit_test(test_fuzz),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
