/* resp: header lines as libcurl hands them over, including hostile and odd ones. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "resp.h"

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
    assert_int_equal(r.cr_total, 777);
    feed(&r, "Content-Range: bytes 5-9/*\r\n");
    assert_int_equal(r.cr_start, 5);
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
    /* A repeated validator keeps the last one (no leak of the first). */
    feed(&r, "ETag: \"1\"\r\n");
    feed(&r, "ETag: \"2\"\r\n");
    assert_string_equal(r.etag, "\"2\"");
    resp_free(&r);
    assert_null(r.etag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_fields),
        cmocka_unit_test(a_new_status_line_forgets_the_last_response),
        cmocka_unit_test(odd_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
