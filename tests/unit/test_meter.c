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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steady_rate),
        cmocka_unit_test(quiet_reads_zero),
        cmocka_unit_test(series_per_second),
        cmocka_unit_test(clock_backwards_is_harmless),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
