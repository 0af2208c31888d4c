/* resp: header lines as libcurl hands them over, including hostile and odd ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "resp.h"
#include "util.h"

static bool feed(struct resp *r, const char *line)
{
    return resp_line(r, line, strlen(line));
}

static void status_and_fields(void **state)
{
    struct resp r = { 0 };

    (void)state;
    resp_reset(&r, 0);
    assert_true(feed(&r, "HTTP/1.1 206 Partial Content\r\n"));
    assert_int_equal(r.status, 206);
    assert_false(feed(&r, "Content-Length: 1234\r\n"));
    assert_false(feed(&r, "content-range:   bytes 100-1333/5000 \r\n"));
    assert_false(feed(&r, "ETAG: \"abc\"\r\n"));
    assert_false(feed(&r, "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n"));
    assert_false(feed(&r, "Retry-After: 120\r\n"));
    assert_false(feed(&r, "X-Other: ignored\r\n"));
    assert_int_equal(r.content_length, 1234);
    assert_int_equal(r.cr_start, 100);
    assert_int_equal(r.cr_end, 1333);
    assert_int_equal(r.cr_total, 5000);
    assert_string_equal(r.etag, "\"abc\"");
    assert_string_equal(r.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_string_equal(r.retry_after, "120");
    resp_free(&r);
}

static void a_new_status_line_forgets_the_last_response(void **state)
{
    struct resp r = { 0 };

    (void)state;
    resp_reset(&r, 0);
    feed(&r, "HTTP/1.1 301 Moved\r\n");
    feed(&r, "ETag: \"old\"\r\n");
    feed(&r, "Content-Length: 10\r\n");
    assert_true(feed(&r, "HTTP/2 200\r\n"));
    assert_int_equal(r.status, 200);
    assert_null(r.etag);
    assert_int_equal(r.content_length, -1);
    assert_int_equal(r.cr_start, -1);
    resp_free(&r);
}

static void odd_values(void **state)
{
    struct resp r = { 0 };

    (void)state;
    resp_reset(&r, 0);
    feed(&r, "HTTP/1.1 2x0 Weird\r\n");
    assert_int_equal(r.status, 0);          /* not three digits */
    feed(&r, "HTTP/1.1\r\n");
    assert_int_equal(r.status, 0);
    feed(&r, "Content-Length: -5\r\n");
    assert_int_equal(r.content_length, -1);
    feed(&r, "Content-Length: 99999999999999999999999\r\n");
    assert_int_equal(r.content_length, -1);  /* overflow is not a length */
    feed(&r, "Content-Length: \r\n");
    assert_int_equal(r.content_length, -1);
    feed(&r, "Content-Range: bytes */777\r\n");
    assert_int_equal(r.cr_start, -1);
    assert_int_equal(r.cr_end, -1);
    assert_int_equal(r.cr_total, 777);
    feed(&r, "no colon at all\r\n");
    /* Found by tests/fuzz/resp: a sign, an overflow, an end before the start or past the total
     * is no Content-Range at all (never a negative or wrapped offset). */
    feed(&r, "Content-Range: bytes-100-199/1000\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes -5-9/10\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes 99999999999999999999-1/5\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes 9-5/10\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes 5-10/10\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes 5-9/10x\r\n");
    assert_int_equal(r.cr_start, -1);
    feed(&r, "Content-Range: bytes 5-9/10\r\n");
    assert_int_equal(r.cr_start, 5);
    assert_int_equal(r.cr_total, 10);
    feed(&r, "Content-Range: bytes */777\r\n");
    feed(&r, "Content-Lengthy: 5\r\n");         /* a longer name is another header */
    assert_int_equal(r.cr_total, 777);
    /* A later Content-Range replaces the earlier one whole. */
    feed(&r, "Content-Range: bytes 5-9/*\r\n");
    assert_int_equal(r.cr_start, 5);
    assert_int_equal(r.cr_end, 9);
    assert_int_equal(r.cr_total, -1);
    /* A repeated validator keeps the last one (no leak of the first). */
    feed(&r, "ETag: \"1\"\r\n");
    feed(&r, "ETag: \"2\"\r\n");
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);
    assert_null(r.etag);
}

/* Content-Range values that cannot describe a range: every field stays -1. */
static void bad_content_ranges(void **state)
{
    static const char *const bad[] = {
        "Content-Range: bytes 9-5/100\r\n",           /* end before start */
        "Content-Range: bytes 0-100/100\r\n",         /* end past the total */
        "Content-Range: bytes -5-9/100\r\n",
        "Content-Range: bytes 5-9/-100\r\n",
        "Content-Range: bytes +5-9/100\r\n",
        "Content-Range: bytes 5 - 9/100\r\n",
        "Content-Range: bytes 5-9/100x\r\n",
        "Content-Range: bytes 5-9\r\n",
        "Content-Range: bytes */*\r\n",
        "Content-Range: items 5-9/100\r\n",
        "Content-Range: bytes 5-99999999999999999999/100\r\n",
        "Content-Range: \r\n",
    };
    struct resp r = { 0 };

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        resp_reset(&r, 206);
        feed(&r, "Content-Range: bytes 0-9/10\r\n");
        feed(&r, bad[i]);
        assert_int_equal(r.cr_start, -1);
        assert_int_equal(r.cr_end, -1);
        assert_int_equal(r.cr_total, -1);
    }
    resp_free(&r);
}

/* A 206 as the answer to "Range: bytes=OFFSET-" with "If-Range: VALIDATOR". */
static bool range_ok(const char *cr, const char *cl, const char *etag, const char *lm,
                     int64_t offset, int64_t size, const char *validator, char *why)
{
    struct resp r = { 0 };
    bool ok;
    char line[256];

    resp_reset(&r, 0);
    feed(&r, "HTTP/1.1 206 Partial Content\r\n");
    if (cr != NULL) {
        snprintf(line, sizeof line, "Content-Range: %s\r\n", cr);
        feed(&r, line);
    }
    if (cl != NULL) {
        snprintf(line, sizeof line, "Content-Length: %s\r\n", cl);
        feed(&r, line);
    }
    if (etag != NULL) {
        snprintf(line, sizeof line, "ETag: %s\r\n", etag);
        feed(&r, line);
    }
    if (lm != NULL) {
        snprintf(line, sizeof line, "Last-Modified: %s\r\n", lm);
        feed(&r, line);
    }
    why[0] = '\0';
    ok = resp_range_ok(&r, offset, size, validator, why);
    resp_free(&r);
    if (ok)
        assert_string_equal(why, "");
    else
        assert_true(why[0] != '\0');
    return ok;
}

static void a_206_must_be_what_was_asked(void **state)
{
    const char *e1 = "\"R1\"", *d1 = "Wed, 21 Oct 2015 07:28:00 GMT";
    char why[ERRLEN];

    (void)state;
    /* Exactly the rest of the known file, of the same version. */
    assert_true(range_ok("bytes 2097152-4194303/4194304", "2097152", e1, d1, 2097152, 4194304, e1, why));
    assert_true(range_ok("bytes 2097152-4194303/4194304", NULL, e1, NULL, 2097152, 4194304, e1, why));
    /* A shorter Content-Length is a truncation, found when the body ends, not here. */
    assert_true(range_ok("bytes 2097152-4194303/4194304", "1000", e1, NULL, 2097152, 4194304, e1, why));
    /* Size not known before: the total is taken as it comes, the end must still be the last byte. */
    assert_true(range_ok("bytes 100-999/1000", NULL, e1, NULL, 100, -1, e1, why));
    assert_true(range_ok("bytes 100-999/1000", NULL, NULL, d1, 100, 1000, d1, why));

    /* The range stops early (issue 14's 3,000,001-byte file). */
    assert_false(range_ok("bytes 2097152-3000000/4194304", "902849", e1, d1, 2097152, 4194304, e1, why));
    assert_non_null(strstr(why, "2097152-3000000/4194304"));
    assert_false(range_ok("bytes 100-500/1000", NULL, e1, NULL, 100, -1, e1, why));
    /* Another start. */
    assert_false(range_ok("bytes 0-999/1000", NULL, e1, NULL, 100, 1000, e1, why));
    assert_false(range_ok("bytes 101-999/1000", NULL, e1, NULL, 100, 1000, e1, why));
    /* Another total than the size known from the first response. */
    assert_false(range_ok("bytes 100-1999/2000", NULL, e1, NULL, 100, 1000, e1, why));
    /* No total, or no range at all. */
    assert_false(range_ok("bytes 100-999/*", NULL, e1, NULL, 100, 1000, e1, why));
    assert_false(range_ok(NULL, "900", e1, NULL, 100, 1000, e1, why));
    assert_false(range_ok("bytes */1000", NULL, e1, NULL, 100, 1000, e1, why));
    assert_false(range_ok("bytes 100-999x/1000", NULL, e1, NULL, 100, 1000, e1, why));
    /* A body longer than the range would write past it. */
    assert_false(range_ok("bytes 100-999/1000", "901", e1, NULL, 100, 1000, e1, why));

    /* Another version: ETag. */
    assert_false(range_ok("bytes 100-999/1000", NULL, "\"R2\"", d1, 100, 1000, e1, why));
    assert_non_null(strstr(why, "\"R2\""));
    assert_false(range_ok("bytes 100-999/1000", NULL, "W/\"R1\"", NULL, 100, 1000, e1, why));
    assert_false(range_ok("bytes 100-999/1000", NULL, NULL, d1, 100, 1000, e1, why));
    /* Another version: Last-Modified, when that was the validator sent. */
    assert_false(range_ok("bytes 100-999/1000", NULL, NULL, "Thu, 22 Oct 2015 07:28:00 GMT", 100, 1000,
                          d1, why));
    assert_false(range_ok("bytes 100-999/1000", NULL, e1, NULL, 100, 1000, d1, why));
    /* The ETag is not what was sent: a Last-Modified validator ignores it. */
    assert_true(range_ok("bytes 100-999/1000", NULL, "\"R9\"", d1, 100, 1000, d1, why));

    /* Nothing asked (offset 0): only the whole file is acceptable, whatever size was known. */
    assert_true(range_ok("bytes 0-1999/2000", NULL, NULL, NULL, 0, 1000, NULL, why));
    assert_false(range_ok("bytes 0-999/2000", NULL, NULL, NULL, 0, -1, NULL, why));
    assert_false(range_ok("bytes 5-1999/2000", NULL, NULL, NULL, 0, -1, NULL, why));
}

/* One range of a segmented download: exactly the closed range asked, of the known total, with the
 * validator sent; Accept-Ranges is read. */
static void a_segment_must_be_what_was_asked(void **state)
{
    struct resp r = { 0 };
    char why[ERRLEN];

    (void)state;
    feed(&r, "HTTP/1.1 206 Partial Content\r\n");
    assert_false(r.accept_ranges);
    feed(&r, "Accept-Ranges: bytes\r\n");
    assert_true(r.accept_ranges);
    feed(&r, "Content-Range: bytes 4096-8191/100000\r\n");
    feed(&r, "Content-Length: 4096\r\n");
    feed(&r, "ETag: \"v1\"\r\n");
    assert_true(resp_segment_ok(&r, 4096, 8192, 100000, "\"v1\"", why));
    assert_false(resp_segment_ok(&r, 4096, 8192, 100000, "\"v2\"", why));
    assert_non_null(strstr(why, "another version"));
    assert_false(resp_segment_ok(&r, 4096, 8193, 100000, "\"v1\"", why));    /* ends early */
    assert_non_null(strstr(why, "asked for bytes 4096-8192/100000"));
    assert_false(resp_segment_ok(&r, 0, 8192, 100000, "\"v1\"", why));
    assert_false(resp_segment_ok(&r, 4096, 8192, 99999, "\"v1\"", why));     /* another size */
    feed(&r, "Content-Length: 4097\r\n");
    assert_false(resp_segment_ok(&r, 4096, 8192, 100000, "\"v1\"", why));
    feed(&r, "Accept-Ranges: none\r\n");
    assert_false(r.accept_ranges);
    /* A new response forgets it. */
    feed(&r, "Accept-Ranges: bytes\r\n");
    feed(&r, "HTTP/1.1 200 OK\r\n");
    assert_false(r.accept_ranges);
    resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_fields),
        cmocka_unit_test(a_new_status_line_forgets_the_last_response),
        cmocka_unit_test(odd_values),
        cmocka_unit_test(bad_content_ranges),
        cmocka_unit_test(a_206_must_be_what_was_asked),
        cmocka_unit_test(a_segment_must_be_what_was_asked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
