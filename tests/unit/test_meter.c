/* The rate meter with fake time: rates over windows, quiet periods reading as zero, the
 * per-second series for the sparkline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "meter.h"

static void steady_rate(void **state)
{
    struct meter m;
    int64_t t = 1000000;

    meter_init(&m, t);
    /* 10,000 bytes every 10 ms for 5 s: 1,000,000 B/s. */
    for (int i = 0; i < 500; i++, t += 10)
        meter_add(&m, 10000, t);
    int64_t r = meter_rate(&m, t, 2000);
    assert_true(r >= 980000 && r <= 1020000);
    assert_int_equal(m.total, 5000000);
}

static void quiet_reads_zero(void **state)
{
    struct meter m;
    int64_t t = 5000;

    meter_init(&m, t);
    for (int i = 0; i < 100; i++, t += 10)
        meter_add(&m, 5000, t);
    /* Three quiet seconds later the 2 s rate is zero, not the last busy slot. */
    assert_int_equal(meter_rate(&m, t + 3000, 2000), 0);
    /* After more than the whole ring (60 s), still zero and no stale slot comes back. */
    assert_int_equal(meter_rate(&m, t + 120000, 2000), 0);
    assert_int_equal(m.total, 500000);
}

static void series_per_second(void **state)
{
    struct meter m;
    int64_t out[5];
    int64_t t = 100000;      /* a whole second: slots line up with seconds */

    meter_init(&m, t);
    /* Second k (k = 0..4) receives (k + 1) * 1000 bytes, spread over its 10 slots. */
    for (int k = 0; k < 5; k++)
        for (int s = 0; s < 10; s++)
            meter_add(&m, (k + 1) * 100, t + k * 1000 + s * 100);
    meter_series(&m, t + 5000, out, 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(out[k], (k + 1) * 1000);
}

static void clock_backwards_is_harmless(void **state)
{
    struct meter m;

    meter_init(&m, 10000);
    meter_add(&m, 1000, 10000);
    meter_add(&m, 1000, 9000);   /* an earlier time lands in the current slot */
    assert_int_equal(m.total, 2000);
    assert_true(meter_rate(&m, 10050, 1000) > 0);
}

/* Within 1 %: the meter counts its current slot with its elapsed part. */
static void assert_near(int64_t got, int64_t want)
{
    int64_t d = got > want ? got - want : want - got;

    if (d * 100 > want)
        fail_msg("%lld is not within 1%% of %lld", (long long)got, (long long)want);
}

/* 1 MiB/s for the last 60 s (10 s of it, for the young run), from t0. */
static void feed(struct meter *m, int64_t t0, int secs)
{
    meter_init(m, t0);
    for (int i = 0; i < secs * 10; i++)
        meter_add(m, 1048576 / 10, t0 + i * 100);
}

/* The ETA of issue 11: the known sizes plus the mean of the finished times the items left, at
 * the last minute's rate or the cap, whichever is lower. */
static void eta_known_plus_mean(void **state)
{
    struct meter m;
    struct meter_eta e = { .known_left = 4 * 1048576, .unknown_items = 10, .finished = 4,
                           .finished_bytes = 4 * 1048576, .active_ms = 120000, .cap = 0 };

    feed(&m, 0, 120);
    /* 4 MiB known + 10 x 1 MiB = 14 MiB at 1 MiB/s. */
    assert_near(meter_eta(&m, 120000, &e), 14000);
    assert_int_equal(e.mean, 1048576);
    assert_int_equal(e.bytes_left, 14 * 1048576);
    assert_near(e.rate, 1048576);
    assert_false(e.capped);
}

static void eta_cap_when_lower(void **state)
{
    struct meter m;
    struct meter_eta e = { .known_left = 0, .unknown_items = 4, .finished = 2,
                           .finished_bytes = 2 * 1048576, .active_ms = 120000, .cap = 524288 };

    feed(&m, 0, 120);
    /* 4 MiB at the cap of 512 KiB/s (lower than the 1 MiB/s measured): 8 s. */
    assert_int_equal(meter_eta(&m, 120000, &e), 8000);
    assert_true(e.capped);
    /* A cap above the rate does not count. */
    e.cap = 10 * 1048576;
    assert_near(meter_eta(&m, 120000, &e), 4000);
    assert_false(e.capped);
}

static void eta_last_minute_not_two_seconds(void **state)
{
    struct meter m;
    struct meter_eta e = { .known_left = 0, .unknown_items = 60, .finished = 1,
                           .finished_bytes = 1048576, .active_ms = 120000 };

    /* A minute at 1 MiB/s and then one burst second at 10 MiB/s: the minute rules, so the
     * estimate does not swing with the last two seconds. */
    feed(&m, 0, 120);
    for (int i = 0; i < 10; i++)
        meter_add(&m, 1048576, 120000 + i * 100);
    meter_eta(&m, 121000, &e);
    assert_true(e.rate < 2 * 1048576);
    assert_true(e.eta_ms > 30000);
}

static void eta_young_run_uses_its_active_time(void **state)
{
    struct meter m;
    struct meter_eta e = { .unknown_items = 10, .finished = 10, .finished_bytes = 10 * 1048576,
                           .active_ms = 10000 };

    /* 10 s into the run at 1 MiB/s: the rate is 1 MiB/s, not a sixth of it. */
    feed(&m, 0, 10);
    assert_near(meter_eta(&m, 10000, &e), 10000);
}

static void eta_unknown_and_nothing_left(void **state)
{
    struct meter m;
    struct meter_eta e = { .unknown_items = 287, .finished = 0, .active_ms = 60000 };

    feed(&m, 0, 60);
    /* Nothing finished yet: no mean, no estimate (never "0s" with 287 items queued). */
    assert_int_equal(meter_eta(&m, 60000, &e), -1);
    /* Only sizes known: those alone. */
    e.unknown_items = 0;
    e.known_left = 3 * 1048576;
    assert_near(meter_eta(&m, 60000, &e), 3000);
    /* Nothing left at all. */
    e.known_left = 0;
    assert_int_equal(meter_eta(&m, 60000, &e), 0);
    /* Bytes left but nothing received for a minute: unknown. */
    e.known_left = 1;
    assert_int_equal(meter_eta(&m, 200000, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_rate),
        cmocka_unit_test(quiet_reads_zero),
        cmocka_unit_test(series_per_second),
        cmocka_unit_test(clock_backwards_is_harmless),
        cmocka_unit_test(eta_known_plus_mean),
        cmocka_unit_test(eta_cap_when_lower),
        cmocka_unit_test(eta_last_minute_not_two_seconds),
        cmocka_unit_test(eta_young_run_uses_its_active_time),
        cmocka_unit_test(eta_unknown_and_nothing_left),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
