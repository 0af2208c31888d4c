/* The cap's policy with fake time and fake round trips: shares follow the transfers running, the
 * window covers the share over the round trip, and the buckets decide who may receive. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bucket.h"
#include "cap.h"

#define KiB ((int64_t)1024)
#define MiB (1024 * KiB)
#define MS 1000            /* microseconds */

/* A transfer alone gets the whole cap, whatever -j says: the share is over transfers running. */
static void test_share_follows_running(void **state)
{
    (void)state;
    assert_int_equal(cap_share(8 * MiB, 1, 0, 0), 8 * MiB);
    assert_int_equal(cap_share(8 * MiB, 16, 0, 0), 512 * KiB);
    assert_int_equal(cap_share(8 * MiB, 0, 0, 0), 8 * MiB);     /* nothing running yet */
    assert_int_equal(cap_share(0, 16, 0, 0), 0);                /* uncapped */
    assert_int_equal(cap_share(-1, 3, 0, 0), 0);
}

/* A host's own cap splits over that host's transfers; the smaller share wins. */
static void test_share_host_cap(void **state)
{
    (void)state;
    assert_int_equal(cap_share(8 * MiB, 4, 1 * MiB, 2), 512 * KiB);
    assert_int_equal(cap_share(8 * MiB, 2, 64 * MiB, 1), 4 * MiB);
    assert_int_equal(cap_share(0, 4, 1 * MiB, 4), 256 * KiB);  /* only the host is capped */
    assert_int_equal(cap_share(0, 4, 1 * MiB, 0), 1 * MiB);
}

/* A cap smaller than the number of transfers still caps: never 0 (which means "uncapped"). */
static void test_share_never_rounds_to_uncapped(void **state)
{
    (void)state;
    assert_int_equal(cap_share(10, 1024, 0, 0), 1);
    assert_int_equal(cap_share(0, 1, 3, 1024), 1);
}

/* TCP carries one window per round trip: the window must cover share x RTT at every round trip
 * from loopback to 300 ms, with 50 ms of headroom, and no more (what it holds beyond the round
 * trip is what the kernel may take in ahead of the cap). */
static void test_window_covers_round_trip(void **state)
{
    static const int64_t rtts_ms[] = { 0, 1, 20, 50, 100, 120, 250, 300 };
    static const int64_t shares[] = { 64 * KiB, 512 * KiB, 8 * MiB, 16 * MiB, 100 * MiB };

    (void)state;
    for (size_t i = 0; i < sizeof rtts_ms / sizeof rtts_ms[0]; i++) {
        for (size_t j = 0; j < sizeof shares / sizeof shares[0]; j++) {
            int64_t w = cap_window(shares[j], rtts_ms[i] * MS);
            int64_t per_rtt = shares[j] * rtts_ms[i] / 1000;

            /* a round trip of the share and 50 ms more: the share flows even after a wait */
            assert_true(w >= per_rtt + shares[j] / 20);
            /* and no more than that (above the floor) */
            if (w > 8 * KiB)
                assert_true(w <= per_rtt + shares[j] / 20 + 2);
        }
    }
}

/* The exact numbers the README states: 50 ms of the share on loopback, RTT + 50 ms on a path. */
static void test_window_values(void **state)
{
    (void)state;
    assert_int_equal(cap_window(0, 100 * MS), 0);
    assert_int_equal(cap_window(-5, 100 * MS), 0);
    assert_int_equal(cap_window(2 * MiB, 0), 2 * MiB / 20);
    assert_int_equal(cap_window(2 * MiB, -3), 2 * MiB / 20);
    assert_int_equal(cap_window(8 * MiB, 100 * MS), 8 * MiB * 150 / 1000);
    assert_int_equal(cap_window(1000, 100 * MS), 8 * KiB);          /* the floor */
    assert_int_equal(cap_window((int64_t)1 << 50, 100 * MS), 64 * MiB);   /* the ceiling */
    /* a round trip past 2 s is a stall, not a path: sized as 2 s */
    assert_int_equal(cap_window(1 * MiB, 30000 * MS), cap_window(1 * MiB, 2000 * MS));
}

static void test_window_stale(void **state)
{
    (void)state;
    assert_true(cap_window_stale(-1, 64 * KiB));     /* unknown: set it */
    assert_true(cap_window_stale(0, 64 * KiB));
    assert_false(cap_window_stale(0, 0));
    assert_false(cap_window_stale(800 * KiB, 820 * KiB));
    assert_false(cap_window_stale(800 * KiB, 700 * KiB + 1));
    assert_true(cap_window_stale(800 * KiB, 1000 * KiB));
    assert_true(cap_window_stale(800 * KiB, 600 * KiB));
}

/* Who may receive: the global bucket, then the host's; each refilled to the caller's now. */
static void test_may_receive_and_charge(void **state)
{
    struct bucket g, h;

    (void)state;
    bucket_init(&g, 1000 * 1000, 100 * 1000, 0);
    bucket_init(&h, 100 * 1000, 10 * 1000, 0);
    assert_true(cap_may_receive(&g, &h, 0));
    cap_charge(&g, &h, 16 * 1000, 0);          /* one chunk: the host goes into debt */
    assert_int_equal(g.tokens, 84 * 1000);
    assert_int_equal(h.tokens, -6 * 1000);
    assert_false(cap_may_receive(&g, &h, 0));
    assert_false(cap_may_receive(&g, &h, 60));  /* 6,000 bytes of debt at 100 kB/s: 60 ms */
    assert_true(cap_may_receive(&g, &h, 61));
    assert_true(cap_may_receive(&g, NULL, 61));
    assert_true(cap_may_receive(NULL, NULL, 61));
    cap_charge(&g, NULL, 200 * 1000, 61);
    assert_false(cap_may_receive(&g, NULL, 61));
    assert_false(cap_may_receive(&g, &h, 100));
    cap_charge(NULL, NULL, 5, 100);             /* nothing caps it: nothing charged */
}

/* A stale now (the loop's, taken before a callback) never credits time twice. */
static void test_stale_now_is_harmless(void **state)
{
    struct bucket g;

    (void)state;
    bucket_init(&g, 1000 * 1000, 50 * 1000, 1000);
    cap_charge(&g, NULL, 50 * 1000, 1000);
    assert_false(cap_may_receive(&g, NULL, 999));
    assert_false(cap_may_receive(&g, NULL, 1000));
    assert_true(cap_may_receive(&g, NULL, 1001));
    cap_charge(&g, NULL, 1000, 1001);
    assert_false(cap_may_receive(&g, NULL, 1001));
}

static void test_refill_wait(void **state)
{
    struct bucket g;

    (void)state;
    assert_int_equal(cap_refill_wait_ms(NULL), CAP_REFILL_MAX_MS);
    bucket_init(&g, 1000 * 1000, 100 * 1000, 0);
    assert_int_equal(cap_refill_wait_ms(&g), 1);              /* credit now: soon */
    bucket_take(&g, 100 * 1000 + 5 * 1000);                   /* 5 ms of debt */
    assert_int_equal(cap_refill_wait_ms(&g), 6);
    bucket_take(&g, 1000 * 1000);                             /* a second of debt */
    assert_int_equal(cap_refill_wait_ms(&g), CAP_REFILL_MAX_MS);
}

/* A simulated second at 8 MiB/s with 16 transfers taking 16 KiB chunks each 1 ms tick: what the
 * buckets let through over one second is the cap plus at most the depth and one chunk. */
static void test_simulated_second(void **state)
{
    struct bucket g;
    int64_t got = 0;

    (void)state;
    bucket_init(&g, 8 * MiB, 0, 0);
    bucket_take(&g, g.tokens);                /* a cap starts empty */
    for (int64_t now = 0; now <= 1000; now++)
        for (int t = 0; t < 16; t++)
            if (cap_may_receive(&g, NULL, now)) {
                cap_charge(&g, NULL, 16 * KiB, now);
                got += 16 * KiB;
            }
    assert_true(got <= 8 * MiB + 16 * KiB);
    assert_true(got >= 8 * MiB - 16 * KiB);
}

/* The buffer that holds exactly the window, for the kernel's way of turning buffer into window:
 * measured on a TUN link, 1436-byte segments took 2304 bytes each (ratio 623), and a buffer of
 * twice the window let 1.25 windows in (docs/design.md#the-cap). */
static void test_rcvbuf(void **state)
{
    (void)state;
    assert_int_equal(cap_rcvbuf(1 * MiB, 500), 1 * MiB);            /* before Linux 6.5: half */
    assert_int_equal(cap_rcvbuf(1 * MiB, 1000), 512 * KiB);         /* not measured: smallest */
    assert_int_equal(cap_rcvbuf(1 * MiB, 0), 512 * KiB);
    /* 2 * v * 0.623 >= window, and not a byte more than rounding needs */
    int64_t v = cap_rcvbuf(2520541, 623);
    assert_true(2 * v * 623 / 1000 >= 2520541 - 1);
    assert_true(2 * (v - 1) * 623 < 2520541 * (int64_t)1000);
    assert_int_equal(cap_rcvbuf(1 * MiB, 100), cap_rcvbuf(1 * MiB, 250));   /* floor */
    assert_int_equal(cap_rcvbuf(1 * MiB, 5000), cap_rcvbuf(1 * MiB, 1000)); /* ceiling */
    assert_int_equal(cap_rcvbuf(0, 623), 0);
}

static void test_ratio(void **state)
{
    (void)state;
    assert_int_equal(cap_ratio(1002216, 1608192), 623);
    assert_int_equal(cap_ratio(1000, 2304), 0);                     /* too little queued */
    assert_int_equal(cap_ratio(1 * MiB, 0), 0);
    assert_int_equal(cap_ratio(1 * MiB, 100 * MiB), 250);           /* clamped */
    assert_int_equal(cap_ratio(2 * MiB, 1 * MiB), 1000);
}

/* Samples of one socket under a 128 KiB window, as loopback gave them: a few KiB queued read a
 * fraction of the ratio that a full queue reads (memory of a packet partly read already). */
static void test_ratio_next(void **state)
{
    int64_t w = 128 * KiB;
    int seen = 0;

    (void)state;
    seen = cap_ratio_next(seen, 4587, 21803, w);                     /* 0.21 on 4.5 KiB: too few */
    assert_int_equal(seen, 0);
    seen = cap_ratio_next(seen, 17170, 34386, w);                    /* under a quarter window */
    assert_int_equal(seen, 0);
    seen = cap_ratio_next(seen, 40 * KiB, 64 * KiB, w);              /* counts: 0.625 */
    assert_int_equal(seen, 625);
    seen = cap_ratio_next(seen, 100 * KiB, 400 * KiB, w);            /* lower: a lower bound only */
    assert_int_equal(seen, 625);
    seen = cap_ratio_next(seen, 120 * KiB, 128 * KiB, w);            /* higher: it holds */
    assert_int_equal(seen, 937);
    assert_int_equal(cap_ratio_next(seen, 1000, 1000, w), 937);      /* too little to tell */
    assert_int_equal(cap_ratio_next(seen, 40 * KiB, 0, w), 937);     /* no memory figure */
    /* The lowest ratio a buffer sized as if it were 1.0 can still show: a quarter of it. */
    assert_int_equal(cap_ratio_next(0, w / 4, w, w), 250);
    /* A tiny window still needs CAP_RATIO_MIN_BYTES. */
    assert_int_equal(cap_ratio_next(0, 4 * KiB - 1, 4 * KiB, 8 * KiB), 0);
    assert_int_equal(cap_ratio_next(0, 4 * KiB, 5 * KiB, 8 * KiB), 800);
}

static void test_ways(void **state)
{
    (void)state;
    assert_int_equal(cap_ways(16, 16), 16);
    assert_int_equal(cap_ways(16, 12), 14);          /* four between two files: halfway */
    assert_int_equal(cap_ways(16, 8), 12);
    assert_int_equal(cap_ways(16, 3), 10);
    assert_int_equal(cap_ways(15, 0), 8);            /* never under half of those running */
    assert_int_equal(cap_ways(2, 0), 1);
    assert_int_equal(cap_ways(1, 0), 1);             /* one alone: the whole cap */
    assert_int_equal(cap_ways(0, 0), 1);
    assert_int_equal(cap_ways(4, 9), 4);             /* a stale count never splits finer */
    assert_int_equal(cap_ways(4, -2), 2);
}

/* The oldest transfer gets up to twice the even share, the youngest next to nothing, ranges of
 * one file (same age) alike, and the shares still add up to what the even ones did. */
static void test_tilt(void **state)
{
    int64_t sum = 0;

    (void)state;
    assert_int_equal(cap_tilt(512 * KiB, 0, 1, 1, 1000), 512 * KiB);    /* alone */
    assert_int_equal(cap_tilt(512 * KiB, 0, 16, 16, 1000), 512 * KiB);  /* one age */
    assert_int_equal(cap_tilt(512 * KiB, 0, 1, 16, 0), 512 * KiB);             /* no tilt */
    /* The engine's slope: the oldest of 16 gets 1.44 of the even share, the youngest 0.56. */
    assert_int_equal(cap_tilt(17000, 0, 1, 16, CAP_TILT_PM), 24500);
    assert_int_equal(cap_tilt(17000, 15, 1, 16, CAP_TILT_PM), 9500);
    /* The slope follows the round trip: none on loopback, most of it on a long path. */
    assert_int_equal(cap_tilt_slope(0), 0);
    assert_int_equal(cap_tilt_slope(-3), 0);
    assert_int_equal(cap_tilt_slope(50 * MS), CAP_TILT_PM / 2);
    assert_true(cap_tilt_slope(1 * MS) < CAP_TILT_PM / 40);
    assert_true(cap_tilt_slope(250 * MS) > CAP_TILT_PM * 8 / 10);
    assert_true(cap_tilt_slope((int64_t)3600 * 1000 * MS) < CAP_TILT_PM);
    /* The full slope, 16 transfers: weights 2 (16 - rank) / 17, from 32/17 down to 2/17. */
    assert_int_equal(cap_tilt(17000, 0, 1, 16, 1000), 32000);
    assert_int_equal(cap_tilt(17000, 15, 1, 16, 1000), 2000);
    assert_int_equal(cap_tilt(17000, 8, 1, 16, 1000), 16000);
    for (int r = 0; r < 16; r++)
        sum += cap_tilt(17000, r, 1, 16, 1000);
    assert_int_equal(sum, 16 * 17000);
    /* Half the slope: weights from 1.5 to 0.5 or so. */
    assert_int_equal(cap_tilt(17000, 0, 1, 16, 500), 24500);
    /* Two ranges of the oldest file share the weight of ranks 0 and 1. */
    assert_int_equal(cap_tilt(17000, 0, 2, 16, 1000),
                     (cap_tilt(17000, 0, 1, 16, 1000) + cap_tilt(17000, 1, 1, 16, 1000)) / 2);
    /* What the kernel may take in ahead of the cap is the sum of the windows: the tilt moves
     * window from the young to the old, and adds none (8 MiB/s over 16 at 250 ms). */
    {
        int64_t even = 16 * cap_window(8 * MiB / 16, 250 * MS), tilted = 0;

        for (int r = 0; r < 16; r++)
            tilted += cap_window(cap_tilt(8 * MiB / 16, r, 1, 16, 1000), 250 * MS);
        assert_true(tilted <= even);
        assert_true(tilted >= even - 16);
    }
    /* Nonsense ranks and shares change nothing; a tiny share never becomes "no cap". */
    assert_int_equal(cap_tilt(17000, 12, 8, 16, 1000), 17000);
    assert_int_equal(cap_tilt(17000, -1, 1, 16, 1000), 17000);
    assert_int_equal(cap_tilt(0, 0, 1, 16, 1000), 0);
    assert_int_equal(cap_tilt(1, 15, 1, 16, 1000), 1);
}

/* The room of a share: the window it would get (cap_window) holds what is left, no more. */
static void test_room(void **state)
{
    (void)state;
    assert_int_equal(cap_room(-1, 120 * MS), -1);                        /* not known */
    assert_int_equal(cap_room(170000, 120 * MS), 1000000);               /* 170 ms of 1 MB/s */
    assert_int_equal(cap_window(cap_room(170000, 120 * MS), 120 * MS), 170000);
    assert_int_equal(cap_room(0, 120 * MS), 1);                          /* never "no cap" */
    assert_int_equal(cap_room(50000, -5), 1000000);                      /* no RTT yet: TURN */
    assert_int_equal(cap_room(2050000, (int64_t)9000 * 1000 * MS), 1000000);      /* RTT bounded to 2 s */
}

/* What a share cannot use goes to the others, by their shares, and the sum is kept. */
static void test_spread(void **state)
{
    int64_t s1[4] = { 4000, 3000, 2000, 1000 }, r1[4] = { 1000, -1, -1, -1 };
    int64_t s2[3] = { 4000, 3000, 2000 }, r2[3] = { 1000, 3500, -1 };
    int64_t s3[2] = { 4000, 3000 }, r3[2] = { 1000, 2000 };
    int64_t s4[2] = { 4000, 3000 }, r4[2] = { -1, -1 };

    (void)state;
    cap_spread(4, s1, r1);               /* 3000 freed, split 3:2:1 */
    assert_int_equal(s1[0], 1000);
    assert_int_equal(s1[1], 4500);
    assert_int_equal(s1[2], 3000);
    assert_int_equal(s1[3], 1500);
    cap_spread(3, s2, r2);               /* the second fills its room, the third takes the rest */
    assert_int_equal(s2[0], 1000);
    assert_int_equal(s2[1], 3500);
    assert_int_equal(s2[2], 4500);
    cap_spread(2, s3, r3);               /* every one at its room: nothing to give it to */
    assert_int_equal(s3[0], 1000);
    assert_int_equal(s3[1], 2000);
    cap_spread(2, s4, r4);               /* no room known: unchanged */
    assert_int_equal(s4[0], 4000);
    assert_int_equal(s4[1], 3000);
    cap_spread(0, s4, r4);
}

/* Measured at 250 ms after -r 8M became 4M: a 4 MB buffer went on holding 1.46 MB unread for a
 * window of 1.26 MB; the clamp holds the window at what is left, never under half. */
static void test_drain(void **state)
{
    (void)state;
    assert_int_equal(cap_drain_clamp(1260000, 1460000), 630000);
    assert_int_equal(cap_drain_clamp(1260000, 400000), 860000);
    assert_int_equal(cap_drain_clamp(1260000, 0), 1260000);
    assert_int_equal(cap_drain_clamp(1260000, -5), 1260000);
    assert_false(cap_drain_done(1260000, 1460000, 630000));
    assert_false(cap_drain_done(1260000, 700000, 630000));
    assert_true(cap_drain_done(1260000, 630000, 630000));
    assert_true(cap_drain_done(1260000, 400000, cap_drain_clamp(1260000, 400000)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_follows_running),
        cmocka_unit_test(test_share_host_cap),
        cmocka_unit_test(test_share_never_rounds_to_uncapped),
        cmocka_unit_test(test_window_covers_round_trip),
        cmocka_unit_test(test_window_values),
        cmocka_unit_test(test_window_stale),
        cmocka_unit_test(test_rcvbuf),
        cmocka_unit_test(test_ways),
        cmocka_unit_test(test_tilt),
        cmocka_unit_test(test_room),
        cmocka_unit_test(test_spread),
        cmocka_unit_test(test_drain),
        cmocka_unit_test(test_ratio),
        cmocka_unit_test(test_ratio_next),
        cmocka_unit_test(test_may_receive_and_charge),
        cmocka_unit_test(test_stale_now_is_harmless),
        cmocka_unit_test(test_refill_wait),
        cmocka_unit_test(test_simulated_second),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
