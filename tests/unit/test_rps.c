/* --per-host-rps: the request bucket (rps.h) with the clock as an argument. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "rps.h"

static void test_burst(void **state)
{
    assert_int_equal(rps_burst(1), 1);
    assert_int_equal(rps_burst(9), 1);
    assert_int_equal(rps_burst(10), 1);
    assert_int_equal(rps_burst(25), 2);
    assert_int_equal(rps_burst(1000), 100);
}

/* Starts with its burst, then one request every 1000/N ms. */
static void test_pace(void **state)
{
    struct rps r;
    int n = 0;

    rps_init(&r, 20, 1000);
    while (rps_ready(&r, 1000)) {
        rps_take(&r, 1000);
        n++;
    }
    assert_int_equal(n, rps_burst(20));
    assert_int_equal(rps_wait_ms(&r, 1000), 50);
    assert_false(rps_ready(&r, 1049));
    assert_true(rps_ready(&r, 1050));
    rps_take(&r, 1050);
    assert_int_equal(rps_wait_ms(&r, 1060), 40);
}

/* In any 1 s window (whatever its start) at most N + burst requests go, when asked all the time. */
static void test_window_bound(void **state)
{
    static int64_t t[20000];
    struct rps r;
    size_t n = 0;

    rps_init(&r, 7, 0);
    for (int64_t now = 0; now < 20000 && n < 20000; now++)
        while (rps_ready(&r, now)) {
            rps_take(&r, now);
            t[n++] = now;
        }
    assert_true(n > 7 * 19);
    for (size_t i = 0; i < n; i++) {
        size_t k = i;

        while (k < n && t[k] < t[i] + 1000)
            k++;
        assert_true(k - i <= (size_t)(7 + rps_burst(7)));
    }
}

static void test_slow_rate(void **state)
{
    struct rps r;

    rps_init(&r, 1, 0);
    assert_true(rps_ready(&r, 0));
    rps_take(&r, 0);
    assert_int_equal(rps_wait_ms(&r, 0), 1000);
    assert_false(rps_ready(&r, 999));
    assert_true(rps_ready(&r, 1000));
    /* A long quiet spell banks no more than the burst. */
    rps_take(&r, 1000);
    assert_int_equal(rps_tokens(&r, 1000000), 1);
    assert_true(rps_full(&r, 1000000));
}

static void test_unlimited(void **state)
{
    struct rps r;

    rps_init(&r, 0, 0);
    for (int i = 0; i < 1000; i++) {
        assert_true(rps_ready(&r, 0));
        rps_take(&r, 0);
    }
    assert_int_equal(rps_wait_ms(&r, 0), 0);
    assert_true(rps_full(&r, 0));
}

/* A fed bucket (a cap group): only leases bring tokens; the clock banks nothing. */
static void test_fed(void **state)
{
    struct rps r;

    rps_init(&r, 10, 0);
    rps_set(&r, 10, true, 0);
    assert_false(rps_ready(&r, 0));
    assert_int_equal(rps_wait_ms(&r, 5000), -1);
    assert_false(rps_ready(&r, 5000));
    rps_credit(&r, 3);
    assert_int_equal(rps_tokens(&r, 5000), 3);
    for (int i = 0; i < 3; i++) {
        assert_true(rps_ready(&r, 5000));
        rps_take(&r, 5000);
    }
    assert_false(rps_ready(&r, 9000));
    /* Empty again: what a new fed bucket is. With a token in hand, it is worth keeping. */
    assert_true(rps_full(&r, 9000));
    rps_credit(&r, 1);
    assert_false(rps_full(&r, 9000));
    rps_take(&r, 9000);
    /* Redis away: the clock feeds it again, at the local fallback rate. */
    rps_set(&r, 5, false, 9000);
    assert_false(rps_ready(&r, 9000));
    assert_true(rps_ready(&r, 9200));
}

static void test_clock_backwards(void **state)
{
    struct rps r;

    rps_init(&r, 10, 5000);
    rps_take(&r, 5000);
    assert_false(rps_ready(&r, 4000));
    assert_false(rps_ready(&r, 5099));
    assert_true(rps_ready(&r, 5100));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_pace),
        cmocka_unit_test(test_window_bound),
        cmocka_unit_test(test_slow_rate),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_fed),
        cmocka_unit_test(test_clock_backwards),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
