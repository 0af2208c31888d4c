/* Token bucket with fake time: every "now" is a number the test chooses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bucket.h"

#define KiB ((int64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define DAY_MS ((int64_t)86400 * 1000)

static void test_default_depth(void **state)
{
    (void)state;
    assert_int_equal(bucket_default_depth(0), 64 * KiB);
    assert_int_equal(bucket_default_depth(1000), 64 * KiB);
    assert_int_equal(bucket_default_depth(256 * KiB), 64 * KiB);
    assert_int_equal(bucket_default_depth(40 * MiB), 5 * MiB);
    assert_int_equal(bucket_default_depth(-5), 64 * KiB);
}

static void test_init_starts_full(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1 * MiB, 0, 5000);
    assert_int_equal(b.rate, 1 * MiB);
    assert_int_equal(b.depth, 128 * KiB);
    assert_int_equal(b.tokens, 128 * KiB);
    assert_int_equal(b.last_ms, 5000);
    assert_int_equal(b.frac, 0);

    bucket_init(&b, 1 * MiB, 12345, 0);
    assert_int_equal(b.depth, 12345);
    assert_int_equal(b.tokens, 12345);
}

/* 1000 refills of 1 ms at 1,500 B/s give exactly 1,500 bytes: the half byte per ms is carried. */
static void test_refill_carries_remainder(void **state)
{
    struct bucket b;
    int64_t now = 0;

    (void)state;
    bucket_init(&b, 1500, 0, now);
    bucket_take(&b, b.depth);
    assert_int_equal(b.tokens, 0);
    for (int i = 0; i < 1000; i++) {
        now++;
        bucket_refill(&b, now);
        /* Never more than earned so far, never a whole byte behind. */
        assert_true(b.tokens * 1000 + b.frac == 1500 * now);
    }
    assert_int_equal(b.tokens, 1500);
    assert_int_equal(b.frac, 0);

    /* Odd rate, odd steps: 7 B/s over 3 ms steps still sums exactly. */
    bucket_init(&b, 7, 0, 0);
    bucket_take(&b, b.depth);
    for (now = 3; now <= 30000; now += 3)
        bucket_refill(&b, now);
    assert_int_equal(b.tokens, 7 * 30);
}

/* 40 MiB/s for 10 s, refilled at irregular steps and drained each time: exactly 10 x rate within
 * one byte. */
static void test_refill_exact_at_high_rate(void **state)
{
    struct bucket b;
    const int64_t rate = 40 * MiB;
    int64_t now = 0, taken = 0, step = 1;

    (void)state;
    bucket_init(&b, rate, 0, 0);
    bucket_take(&b, b.depth);   /* start empty: time spent full is rightly not banked */
    while (now < 10000) {
        step = step % 13 + 1;   /* 2, 3, ..., 13, 1, 2, ... ms */
        now += step;
        if (now > 10000)
            now = 10000;
        bucket_refill(&b, now);
        taken += b.tokens;
        bucket_take(&b, b.tokens);
    }
    taken += b.tokens;
    assert_true(taken <= 10 * rate);
    assert_true(taken >= 10 * rate - 1);
}

static void test_depth_clipping(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1000, 5000, 0);
    bucket_take(&b, 1000);
    assert_int_equal(b.tokens, 4000);
    bucket_refill(&b, 500);
    assert_int_equal(b.tokens, 4500);
    bucket_refill(&b, 3000);             /* would be 7000 */
    assert_int_equal(b.tokens, 5000);
    assert_int_equal(b.frac, 0);
    /* Time spent full is not banked. */
    bucket_take(&b, 5000);
    bucket_refill(&b, 4000);
    assert_int_equal(b.tokens, 1000);
}

static void test_debt_paid_first(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1000, 4000, 0);
    assert_true(bucket_has_credit(&b));
    bucket_take(&b, 4000 + 16384);       /* a whole chunk beyond the balance */
    assert_int_equal(b.tokens, -16384);
    assert_false(bucket_has_credit(&b));
    bucket_refill(&b, 16000);
    assert_int_equal(b.tokens, -384);
    assert_false(bucket_has_credit(&b));
    bucket_refill(&b, 16384);
    assert_int_equal(b.tokens, 0);
    assert_false(bucket_has_credit(&b)); /* zero is not credit */
    bucket_refill(&b, 16385);
    assert_int_equal(b.tokens, 1);
    assert_true(bucket_has_credit(&b));
}

static void test_wait_ms(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1000, 4000, 0);
    assert_int_equal(bucket_wait_ms(&b, 4000), 0);
    assert_int_equal(bucket_wait_ms(&b, 100), 0);
    bucket_take(&b, 4000);
    assert_int_equal(bucket_wait_ms(&b, 0), 0);
    assert_int_equal(bucket_wait_ms(&b, 1), 1);
    assert_int_equal(bucket_wait_ms(&b, 1000), 1000);
    /* need is clipped to depth: never an infinite wait. */
    assert_int_equal(bucket_wait_ms(&b, 1000000), 4000);
    assert_int_equal(bucket_wait_ms(&b, -5), 0);

    /* Rounded up: at 3 B/s one byte takes 333.3 ms. */
    bucket_init(&b, 3, 1000, 0);
    bucket_take(&b, 1000);
    assert_int_equal(bucket_wait_ms(&b, 1), 334);
    bucket_refill(&b, 333);
    assert_int_equal(b.tokens, 0);
    assert_int_equal(bucket_wait_ms(&b, 1), 1);  /* the carried 999 millibytes count */
    bucket_refill(&b, 334);
    assert_int_equal(b.tokens, 1);
    assert_int_equal(bucket_wait_ms(&b, 1), 0);
}

static void test_wait_ms_after_debt(void **state)
{
    struct bucket b;
    int64_t w;

    (void)state;
    bucket_init(&b, 10000, 64 * KiB, 0);
    bucket_take(&b, 64 * KiB + 50000);
    assert_int_equal(b.tokens, -50000);
    /* 50,000 of debt plus 16,384 wanted at 10,000 B/s. */
    w = bucket_wait_ms(&b, 16384);
    assert_int_equal(w, 6639);
    /* The wait is exact: a ms earlier is not enough, the wait itself is. */
    {
        struct bucket early = b;

        bucket_refill(&early, w - 1);
        assert_true(early.tokens < 16384);
    }
    bucket_refill(&b, w);
    assert_true(b.tokens >= 16384);
    assert_int_equal(bucket_wait_ms(&b, 16384), 0);
}

/* For many rates and debts, wait_ms is the smallest wait after which a refill reaches need. */
static void test_wait_ms_is_tight(void **state)
{
    static const int64_t rates[] = { 1, 3, 7, 999, 1500, 65536, 1000003, 40 * MiB, 100 * GiB };

    (void)state;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        for (int64_t debt = 0; debt < 3; debt++) {
            struct bucket b, a;
            int64_t need, w;

            bucket_init(&b, rates[i], 0, 1000);
            bucket_take(&b, b.depth + debt * 12345 + 1);
            bucket_refill(&b, 1001);        /* leave some frac behind */
            need = b.depth / 3 + 1;
            w = bucket_wait_ms(&b, need);
            if (b.tokens >= need) {
                assert_int_equal(w, 0);
                continue;
            }
            assert_true(w >= 1);
            a = b;
            bucket_refill(&a, 1001 + w);
            assert_true(a.tokens >= need);
            a = b;
            bucket_refill(&a, 1001 + w - 1);
            assert_true(a.tokens < need);
        }
    }
}

static void test_rate_change(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1000, 10000, 0);
    bucket_take(&b, 10000);
    /* The second already elapsed is earned at the old rate... */
    bucket_set(&b, 100, 2000, 1000);
    assert_int_equal(b.rate, 100);
    assert_int_equal(b.depth, 2000);
    assert_int_equal(b.tokens, 1000);
    /* ...and the next at the new one. */
    bucket_refill(&b, 2000);
    assert_int_equal(b.tokens, 1100);

    /* A smaller depth clips the balance. */
    bucket_set(&b, 100, 500, 2000);
    assert_int_equal(b.tokens, 500);

    /* A higher rate with default depth keeps the balance. */
    bucket_set(&b, 4 * MiB, 0, 2000);
    assert_int_equal(b.depth, 512 * KiB);
    assert_int_equal(b.tokens, 500);

    /* Debt survives a rate change. */
    bucket_take(&b, 10500);
    bucket_set(&b, 1000, 0, 2000);
    assert_int_equal(b.tokens, -10000);
    assert_int_equal(bucket_wait_ms(&b, 1), 10001);
}

static void test_unlimited(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 0, 0, 0);
    assert_true(bucket_has_credit(&b));
    for (int i = 0; i < 1000; i++)
        bucket_take(&b, 1 * GiB);
    assert_true(bucket_has_credit(&b));
    assert_int_equal(bucket_wait_ms(&b, 1 * GiB), 0);
    bucket_refill(&b, 10);
    assert_true(bucket_has_credit(&b));
    assert_true(b.tokens >= 0);

    /* Switching a capped bucket to unlimited lifts the debt's effect at once... */
    bucket_init(&b, 1000, 0, 0);
    bucket_take(&b, b.depth + 5000);
    assert_false(bucket_has_credit(&b));
    bucket_set(&b, 0, 0, 10);
    assert_true(bucket_has_credit(&b));
    assert_int_equal(bucket_wait_ms(&b, 100), 0);
    /* ...and capping it again starts from a balance no larger than the new depth. */
    bucket_refill(&b, 20);
    bucket_set(&b, 1000, 4000, 30);
    assert_true(b.tokens <= 4000);
    assert_int_equal(b.rate, 1000);

    /* A negative rate is read as no cap rather than as nonsense arithmetic. */
    bucket_init(&b, -1, 0, 0);
    assert_int_equal(b.rate, 0);
    assert_true(bucket_has_credit(&b));
}

static void test_long_gaps_no_overflow(void **state)
{
    struct bucket b;

    (void)state;
    /* 100 GiB/s over 3 days: 2.8e16 bytes, the product in millibytes would overflow. */
    bucket_init(&b, 100 * GiB, 0, 0);
    bucket_take(&b, b.depth + 1 * GiB);
    bucket_refill(&b, 3 * DAY_MS);
    assert_int_equal(b.tokens, b.depth);
    assert_int_equal(b.frac, 0);

    /* A gap just too short to fill from deep debt adds exactly rate * gap. */
    bucket_init(&b, 100 * GiB, 0, 0);
    bucket_take(&b, b.depth + 300 * GiB);     /* 300 GiB of debt */
    bucket_refill(&b, 2500);
    assert_int_equal(b.tokens, -50 * GiB);
    bucket_refill(&b, 3000);
    assert_int_equal(b.tokens, 0);

    /* The extremes of the clock. */
    bucket_init(&b, 100 * GiB, 0, INT64_MIN);
    bucket_take(&b, b.depth);
    bucket_refill(&b, INT64_MAX);
    assert_int_equal(b.tokens, b.depth);
    assert_int_equal(b.last_ms, INT64_MAX);

    /* Huge takes saturate instead of wrapping. */
    bucket_init(&b, 1, 0, 0);
    for (int i = 0; i < 10; i++)
        bucket_take(&b, INT64_MAX);
    assert_true(b.tokens < 0);
    assert_false(bucket_has_credit(&b));
    assert_true(bucket_wait_ms(&b, 1) > 0);
    bucket_refill(&b, INT64_MAX);
    assert_true(b.tokens <= b.depth);

    /* Absurd rates and depths are clamped, not trusted. */
    bucket_init(&b, INT64_MAX, INT64_MAX, 0);
    bucket_take(&b, INT64_MAX);
    bucket_refill(&b, 1);
    bucket_refill(&b, DAY_MS);
    assert_true(b.tokens > 0);
    assert_true(b.tokens <= b.depth);
    assert_true(bucket_wait_ms(&b, INT64_MAX) >= 0);
}

static void test_backwards_clock(void **state)
{
    struct bucket b;

    (void)state;
    bucket_init(&b, 1000, 10000, 10000);
    bucket_take(&b, 10000);
    bucket_refill(&b, 9000);
    assert_int_equal(b.tokens, 0);
    assert_int_equal(b.last_ms, 10000);
    bucket_refill(&b, 10000);
    assert_int_equal(b.tokens, 0);
    /* A stale "now" does not make the same milliseconds count twice. */
    bucket_refill(&b, 10500);
    assert_int_equal(b.tokens, 500);
    bucket_refill(&b, 10200);
    bucket_refill(&b, 10500);
    assert_int_equal(b.tokens, 500);
    bucket_refill(&b, 11000);
    assert_int_equal(b.tokens, 1000);
}

/* A consumer takes whole 16 KiB chunks while it has credit (going into debt), every 1 ms for 60 s.
 * It gets exactly rate x time plus the starting depth, give or take one chunk. */
static void run_consumer(int64_t rate)
{
    const int64_t chunk = 16 * KiB, secs = 60;
    struct bucket b;
    int64_t taken = 0, depth;

    bucket_init(&b, rate, 0, 0);
    depth = b.depth;
    for (int64_t now = 0; now <= secs * 1000; now++) {
        bucket_refill(&b, now);
        while (bucket_has_credit(&b)) {
            bucket_take(&b, chunk);
            taken += chunk;
        }
        /* The debt never exceeds one chunk. */
        assert_true(b.tokens > -chunk);
        /* At every instant: no more than depth + one chunk beyond what time has earned. */
        assert_true(taken <= depth + chunk + rate * now / 1000);
    }
    assert_true(taken <= depth + chunk + rate * secs);
    assert_true(taken >= depth + rate * secs - 1);
}

static void test_simulated_consumer(void **state)
{
    (void)state;
    run_consumer(100 * KiB);   /* less than a chunk per tick */
    run_consumer(1500);        /* far less than a chunk per second */
    run_consumer(1 * MiB);
    run_consumer(40 * MiB);    /* several chunks per tick */
}

/* A fed bucket (a shared cap's leases, docs/scale.md#the-shared-cap): time adds nothing, credit
 * adds exactly what was leased, even above the depth, and charges still make debt. */
static void test_fed(void **state)
{
    struct bucket b;

    bucket_init(&b, 100000, 0, 1000);
    bucket_take(&b, b.tokens);
    b.fed = true;
    bucket_refill(&b, 11000);               /* ten seconds: nothing */
    assert_int_equal(b.tokens, 0);
    assert_false(bucket_has_credit(&b));
    bucket_credit(&b, 5000);
    assert_int_equal(b.tokens, 5000);
    bucket_credit(&b, 200000);              /* above the 64 KiB depth: kept */
    assert_int_equal(b.tokens, 205000);
    bucket_credit(&b, -7);                  /* nonsense adds nothing */
    assert_int_equal(b.tokens, 205000);
    bucket_take(&b, 210000);
    assert_int_equal(b.tokens, -5000);
    bucket_refill(&b, 20000);
    assert_int_equal(b.tokens, -5000);
    assert_int_equal(b.last_ms, 20000);
    /* Back on the clock (the shared store is unreachable): refills from last_ms on. */
    b.fed = false;
    bucket_refill(&b, 20100);
    assert_int_equal(b.tokens, 5000);
    bucket_init(&b, 100000, 0, 0);
    assert_false(b.fed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_depth),
        cmocka_unit_test(test_init_starts_full),
        cmocka_unit_test(test_refill_carries_remainder),
        cmocka_unit_test(test_refill_exact_at_high_rate),
        cmocka_unit_test(test_depth_clipping),
        cmocka_unit_test(test_debt_paid_first),
        cmocka_unit_test(test_wait_ms),
        cmocka_unit_test(test_wait_ms_after_debt),
        cmocka_unit_test(test_wait_ms_is_tight),
        cmocka_unit_test(test_rate_change),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_long_gaps_no_overflow),
        cmocka_unit_test(test_backwards_clock),
        cmocka_unit_test(test_simulated_consumer),
        cmocka_unit_test(test_fed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
