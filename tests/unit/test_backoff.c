/* Backoff and Retry-After with a fixed seed and a fake wall clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"

#include <curl/curl.h>

#define SIX_H BACKOFF_RETRY_AFTER_MAX_MS
#define T_1994 784111777000LL    /* Sun, 06 Nov 1994 08:49:37 GMT */
#define T_1994_16 784975777000LL /* Wed, 16 Nov 1994 08:49:37 GMT */
#define T_2026 1782864000000LL   /* Wed, 01 Jul 2026 00:00:00 GMT */
#define T_2000 951825600000LL    /* Tue, 29 Feb 2000 12:00:00 GMT */

static void test_rand(void **state)
{
    uint64_t a = 42, b = 42, z = 0;
    uint64_t first = backoff_rand(&a);

    (void)state;
    assert_int_equal(first, backoff_rand(&b));       /* deterministic */
    assert_int_not_equal(a, 42);
    assert_int_not_equal(first, backoff_rand(&a));
    /* A zero state must not get stuck at zero. */
    assert_int_not_equal(backoff_rand(&z), 0);
    assert_int_not_equal(z, 0);
    assert_int_not_equal(backoff_rand(&z), 0);
}

/* Never negative, never above min(max, min * 2^attempt), and it reaches near both ends. */
static void test_delay_bounds(void **state)
{
    uint64_t rng = 0x123456789abcdefULL;
    const int64_t min = 1000, max = 300000;

    (void)state;
    for (int attempt = 0; attempt <= 20; attempt++) {
        int64_t cap = attempt >= 9 ? max : min << attempt;
        int64_t lo = INT64_MAX, hi = -1;

        for (int i = 0; i < 2000; i++) {
            int64_t d = backoff_delay_ms(attempt, min, max, &rng);

            assert_true(d >= 0);
            assert_true(d <= cap);
            if (d < lo)
                lo = d;
            if (d > hi)
                hi = d;
        }
        assert_true(lo <= cap / 50);
        assert_true(hi >= cap - cap / 50);
    }
}

/* Full jitter: the mean is half the cap. Deterministic with a fixed seed. */
static void test_delay_mean(void **state)
{
    uint64_t rng = 1;
    const int64_t min = 1000, max = 300000;
    int64_t sum = 0;

    (void)state;
    for (int i = 0; i < 10000; i++)
        sum += backoff_delay_ms(3, min, max, &rng);      /* cap 8000 */
    assert_true(sum / 10000 > 3800);
    assert_true(sum / 10000 < 4200);

    sum = 0;
    for (int i = 0; i < 10000; i++)
        sum += backoff_delay_ms(50, min, max, &rng);     /* cap 300000 */
    assert_true(sum / 10000 > 142500);
    assert_true(sum / 10000 < 157500);
}

static void test_delay_saturates(void **state)
{
    uint64_t rng = 7;
    static const int attempts[] = { 30, 61, 62, 63, 64, 100, 1000, 10000, INT_MAX };

    (void)state;
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        int64_t d = backoff_delay_ms(attempts[i], 1000, 300000, &rng);

        assert_true(d >= 0 && d <= 300000);
        d = backoff_delay_ms(attempts[i], 1, INT64_MAX, &rng);
        assert_true(d >= 0);
        d = backoff_delay_ms(attempts[i], INT64_MAX, INT64_MAX, &rng);
        assert_true(d >= 0);
    }
    for (int attempt = 0; attempt <= 10000; attempt++) {
        int64_t d = backoff_delay_ms(attempt, 1000, 300000, &rng);

        assert_true(d >= 0 && d <= 300000);
    }
    /* The largest cap below the saturation point is still exact: min=1, attempt 61 -> 2^61. */
    {
        int64_t hi = 0;

        for (int i = 0; i < 100; i++) {
            int64_t d = backoff_delay_ms(61, 1, INT64_MAX, &rng);

            assert_true(d >= 0 && d <= ((int64_t)1 << 61));
            if (d > hi)
                hi = d;
        }
        assert_true(hi > ((int64_t)1 << 60));
    }
}

/* random(0, cap) includes both ends: with a tiny cap every value turns up, and no other. */
static void test_delay_inclusive(void **state)
{
    uint64_t rng = 2024;

    (void)state;
    for (int attempt = 0; attempt <= 3; attempt++) {
        int seen[9] = { 0 };
        int64_t cap = (int64_t)1 << attempt;      /* min 1 ms: 1, 2, 4, 8 */

        for (int i = 0; i < 1000; i++) {
            int64_t d = backoff_delay_ms(attempt, 1, 100, &rng);

            assert_true(d >= 0 && d <= cap);
            seen[d]++;
        }
        for (int64_t v = 0; v <= cap; v++)
            assert_true(seen[v] > 0);
    }
}

static void test_delay_degenerate(void **state)
{
    uint64_t rng = 99;

    (void)state;
    assert_int_equal(backoff_delay_ms(5, 0, 1000, &rng), 0);
    assert_int_equal(backoff_delay_ms(5, -10, 1000, &rng), 0);
    assert_int_equal(backoff_delay_ms(5, 1000, 0, &rng), 0);
    assert_int_equal(backoff_delay_ms(5, 1000, -1, &rng), 0);
    /* max below min: max wins. */
    for (int i = 0; i < 100; i++)
        assert_true(backoff_delay_ms(0, 5000, 100, &rng) <= 100);
    /* A negative attempt counts as the first retry. */
    for (int i = 0; i < 100; i++) {
        int64_t d = backoff_delay_ms(-3, 1000, 300000, &rng);

        assert_true(d >= 0 && d <= 1000);
    }
    for (int i = 0; i < 100; i++) {
        int64_t d = backoff_delay_ms(INT_MIN, 1000, 300000, &rng);

        assert_true(d >= 0 && d <= 1000);
    }
}

static int64_t ra(const char *v, int64_t now)
{
    int64_t d = -12345;

    if (backoff_parse_retry_after(v, now, &d) < 0)
        return -1;
    assert_true(d >= 0 && d <= SIX_H);
    return d;
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    assert_int_equal(ra("120", T_2026), 120000);
    assert_int_equal(ra("0", T_2026), 0);
    assert_int_equal(ra("  7\t", T_2026), 7000);
    assert_int_equal(ra("0007", T_2026), 7000);
    assert_int_equal(ra("21600", T_2026), SIX_H);
    assert_int_equal(ra("21601", T_2026), SIX_H);
    assert_int_equal(ra("86400", T_2026), SIX_H);
    assert_int_equal(ra("2147483647", T_2026), SIX_H);
    /* The wall clock does not matter for delta-seconds, whatever it says. */
    assert_int_equal(ra("5", INT64_MIN), 5000);
    assert_int_equal(ra("5", INT64_MAX), 5000);
}

static void test_retry_after_junk(void **state)
{
    static const char *const bad[] = {
        "", "   ", "-1", "-0", "+5", "1.5", "12abc", "12 34", "abc", "0x10", "1e3",
        "2147483648", "99999999999999999999", "999999999999999999999999999999999999999999",
        "Sun", "Sun,", "GMT", "Sun, 06 Nov 1994", "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT", "Wed, 29 Feb 1995 08:49:37 GMT",
        "Thu, 29 Feb 1900 08:49:37 GMT", "Sun, 32 Dec 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37", "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37", "Sun Nov 06 08:49:37 1994 GMT", "Sun Nov   6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 GMT\r\nX: y", "Sun, 06 Nov 1994 -8:49:37 GMT",
        "\x80\xff", "\xff" "120",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t d = -777;

        if (backoff_parse_retry_after(bad[i], T_1994, &d) != -1)
            fail_msg("accepted \"%s\" as %lld", bad[i], (long long)d);
        assert_int_equal(d, -777);      /* untouched on failure */
    }
    assert_int_equal(backoff_parse_retry_after(NULL, T_1994, &(int64_t){ 0 }), -1);
}

static void test_retry_after_dates(void **state)
{
    (void)state;
    /* One minute before the date, in all three forms. */
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - 60000), 60000);
    assert_int_equal(ra("Sunday, 06-Nov-94 08:49:37 GMT", T_1994 - 60000), 60000);
    assert_int_equal(ra("Sun Nov  6 08:49:37 1994", T_1994 - 60000), 60000);
    /* Two-digit day in asctime; leading and trailing whitespace; any case. */
    assert_int_equal(ra("Wed Nov 16 08:49:37 1994", T_1994_16 - 1500), 1500);
    assert_int_equal(ra("  Sun, 06 Nov 1994 08:49:37 GMT  ", T_1994 - 1), 1);
    assert_int_equal(ra("sun, 06 nov 1994 08:49:37 gmt", T_1994 - 1000), 1000);
    /* Leap day, and a date past 2038. */
    assert_int_equal(ra("Tue, 29 Feb 2000 12:00:00 GMT", T_2000 - 3600000), 3600000);
    assert_int_equal(ra("Tue, 19 Jan 2038 03:14:08 GMT", 2147483648000LL - 5000), 5000);
    /* A wrong weekday is tolerated: the date is what counts. */
    assert_int_equal(ra("Mon, 06 Nov 1994 08:49:37 GMT", T_1994 - 60000), 60000);
}

static void test_retry_after_past_and_clamp(void **state)
{
    (void)state;
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994), 0);
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 + 1), 0);
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_2026), 0);
    assert_int_equal(ra("Sun Nov  6 08:49:37 1994", T_2026), 0);
    assert_int_equal(ra("Thu, 01 Jan 1970 00:00:00 GMT", T_2026), 0);
    /* Exactly six hours ahead, one ms more, and years ahead. */
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - SIX_H), SIX_H);
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - SIX_H + 1), SIX_H - 1);
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", T_1994 - SIX_H - 1), SIX_H);
    assert_int_equal(ra("Fri, 31 Dec 9999 23:59:59 GMT", T_2026), SIX_H);
    /* Absurd wall clocks do not overflow anything. */
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MIN), SIX_H);
    assert_int_equal(ra("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MAX), 0);
    assert_int_equal(ra("Mon, 01 Jan 0001 00:00:00 GMT", INT64_MAX), 0);
    assert_int_equal(ra("Mon, 01 Jan 0001 00:00:00 GMT", INT64_MIN), SIX_H);
}

/* RFC 850 years: more than 50 years ahead means the previous century. */
static void test_retry_after_rfc850_century(void **state)
{
    (void)state;
    assert_int_equal(ra("Wednesday, 01-Jul-26 00:00:00 GMT", T_2026 - 3600000), 3600000);
    /* Seen from 2026: "76" is 2076 (exactly 50 years ahead, clamped), "77" is 1977 (past). */
    assert_int_equal(ra("Wednesday, 01-Jul-76 00:00:00 GMT", T_2026), SIX_H);
    assert_int_equal(ra("Friday, 01-Jul-77 00:00:00 GMT", T_2026), 0);
    assert_int_equal(ra("Sunday, 06-Nov-94 08:49:37 GMT", T_2026), 0);
    /* Wall clocks far outside the calendar give a clean answer, never UB. */
    {
        int64_t d = 0;
        int r = backoff_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", INT64_MAX, &d);

        assert_true(r == -1 || (r == 0 && d == 0));
        r = backoff_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", INT64_MIN, &d);
        assert_true(r == -1 || (r == 0 && d >= 0 && d <= SIX_H));
    }
}

/* Every prefix of a valid date is rejected cleanly; each is its own allocation, so ASan would
 * catch a read past the end. */
static void test_retry_after_prefixes(void **state)
{
    static const char *const good[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    };

    (void)state;
    for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
        size_t len = strlen(good[g]);

        for (size_t n = 0; n < len; n++) {
            char *p = malloc(n + 1);
            int64_t d;

            assert_non_null(p);
            memcpy(p, good[g], n);
            p[n] = '\0';
            assert_int_equal(backoff_parse_retry_after(p, T_1994, &d), -1);
            free(p);
        }
        assert_int_equal(ra(good[g], T_1994 - 1000), 1000);
    }
}

static void test_next_ms(void **state)
{
    uint64_t rng = 5, copy;
    int64_t j;

    (void)state;
    /* No Retry-After: exactly the jittered draw. */
    copy = rng;
    j = backoff_delay_ms(4, 1000, 300000, &copy);
    assert_int_equal(backoff_next_ms(4, 1000, 300000, -1, &rng), j);
    assert_int_equal(rng, copy);
    /* A longer Retry-After wins. */
    copy = rng;
    j = backoff_delay_ms(0, 1000, 300000, &copy);
    assert_true(j <= 1000);
    assert_int_equal(backoff_next_ms(0, 1000, 300000, 120000, &rng), 120000);
    /* A shorter one loses to the draw. */
    copy = rng;
    j = backoff_delay_ms(0, 1000, 300000, &copy);
    assert_int_equal(backoff_next_ms(0, 1000, 300000, 0, &rng), j);
    /* A value straight from libcurl 7.88.1 can be unclamped. */
    assert_int_equal(backoff_next_ms(0, 1000, 300000, INT64_MAX, &rng), SIX_H);
    /* Never below the Retry-After, never above max(cap, Retry-After). */
    for (int i = 0; i < 1000; i++) {
        int64_t w = backoff_next_ms(i % 12, 1000, 300000, 5000, &rng);

        assert_true(w >= 5000 && w <= 300000);
    }
}

/* A Last-Modified as a file's mtime: our parser gives what curl_getdate gives (it replaces it
 * on the loop thread, curl_getdate staying for what is not an HTTP-date). */
static void test_http_date_as_curl(void **state)
{
    static const char *const dates[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Tue, 29 Feb 2000 12:00:00 GMT",
        "Thu, 03 Dec 2026 16:22:46 GMT", "Fri, 31 Dec 1999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
        "Wed, 01 Jul 2026 00:00:00 GMT", "  Mon, 17 Oct 2033 03:04:05 GMT  ",
    };
    int64_t t = -1;

    (void)state;
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        assert_int_equal(backoff_http_date(dates[i], T_2026, &t), 0);
        assert_int_equal(t, (int64_t)curl_getdate(dates[i], NULL));
    }
    assert_int_equal(backoff_http_date("Sunday, 06-Nov-94 08:49:37 GMT", T_2026, &t), 0);
    assert_int_equal(t, T_1994 / 1000);
    /* Not HTTP-dates: left to curl_getdate. */
    assert_int_equal(backoff_http_date("Sun, 06 Nov 1994 08:49:37 UTC", T_2026, &t), -1);
    assert_int_equal(backoff_http_date("Sun, 31 Nov 1994 08:49:37 GMT", T_2026, &t), -1);
    assert_int_equal(backoff_http_date("1994-11-06", T_2026, &t), -1);
    assert_int_equal(backoff_http_date("", T_2026, &t), -1);
    assert_int_equal(backoff_http_date(NULL, T_2026, &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rand),
        cmocka_unit_test(test_delay_bounds),
        cmocka_unit_test(test_delay_mean),
        cmocka_unit_test(test_delay_saturates),
        cmocka_unit_test(test_delay_inclusive),
        cmocka_unit_test(test_delay_degenerate),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_junk),
        cmocka_unit_test(test_retry_after_dates),
        cmocka_unit_test(test_retry_after_past_and_clamp),
        cmocka_unit_test(test_retry_after_rfc850_century),
        cmocka_unit_test(test_retry_after_prefixes),
        cmocka_unit_test(test_next_ms),
        cmocka_unit_test(test_http_date_as_curl),
    };

    /* An odd local zone: the results must not depend on it. */
    setenv("TZ", "NST+3:30", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
