/* Range splitting and work stealing of segmented downloads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "segplan.h"
#include "util.h"

#define MiB (1024 * 1024LL)

/* Every plan the functions return must pass segplan_check. */
static void assert_plan(const struct seg *v, size_t n, int64_t size)
{
    char why[ERRLEN];

    if (segplan_check(v, n, size, why) != 0)
        fail_msg("bad plan: %s", why);
}

static void test_count(void **state)
{
    static const struct { int64_t size; int n; int64_t min; int want; } cases[] = {
        { 0, 8, 8 * MiB, 1 },
        { -1, 8, 8 * MiB, 1 },
        { 100, 1, 1, 1 },
        { 256 * MiB, 8, 8 * MiB, 8 },
        { 256 * MiB, 64, 8 * MiB, 32 },        /* none under min_segment */
        { 15 * MiB, 8, 8 * MiB, 1 },           /* under 2 × min: one range */
        { 16 * MiB, 8, 8 * MiB, 2 },
        { 1LL << 50, 64, 1, 64 },
        { 1LL << 50, 1000, 1, SEGPLAN_MAX },
        { 10, 8, 0, 8 },                       /* min 0 is taken as 1 */
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(segplan_count(cases[i].size, cases[i].n, cases[i].min), cases[i].want);
}

static void test_split_even(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n = segplan_split(256 * MiB, 8, 8 * MiB, v);

    (void)state;
    assert_int_equal(n, 8);
    assert_plan(v, n, 256 * MiB);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].end - v[i].start, 32 * MiB);
        assert_int_equal(v[i].done, 0);
        assert_false(v[i].busy);
    }
}

/* Odd sizes: the last range ends at the file's end; in files of a MiB or more the cuts are
 * aligned and the lengths within two alignment blocks of each other. */
static void test_split_odd(void **state)
{
    static const int64_t sizes[] = { 1, 4095, 4097, 100 * MiB + 12345, 3 * MiB + 1, 999999937 };
    struct seg v[SEGPLAN_MAX];

    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int k = 1; k <= 16; k++) {
            size_t n = segplan_split(sizes[s], k, 1024, v);
            int64_t lo = INT64_MAX, hi = 0;

            assert_true(n >= 1);
            assert_true((int)n <= segplan_count(sizes[s], k, 1024));
            assert_plan(v, n, sizes[s]);
            for (size_t i = 0; i < n; i++) {
                int64_t len = v[i].end - v[i].start;

                if (i + 1 < n && sizes[s] >= 1024LL * 1024)
                    assert_int_equal(v[i].end % SEGPLAN_ALIGN, 0);
                if (len < lo)
                    lo = len;
                if (len > hi)
                    hi = len;
            }
            if (sizes[s] >= 1024LL * 1024)
                assert_true(hi - lo <= 2 * SEGPLAN_ALIGN);
            /* The first connection stops where the plan will end its range. */
            assert_int_equal(segplan_first_end(sizes[s], k, 1024), v[0].end);
        }
    }
}

/* A .part one connection wrote: [0, from) is one whole range, the rest is cut as a file of its
 * own length would be (with the file's offsets aligned); the resumed request stops where the
 * range it continues ends. */
static void test_split_from(void **state)
{
    struct seg v[SEGPLAN_MAX];
    char why[ERRLEN];
    size_t n = segplan_plan(64 * MiB, 16 * MiB + 100, 4, 1, 1 * MiB, v);
    int64_t rest = 48 * MiB - 100;

    (void)state;
    assert_int_equal(n, 5);
    assert_plan(v, n, 64 * MiB);
    assert_int_equal(segplan_check(v, n, 64 * MiB, why), 0);
    assert_int_equal(v[0].start, 0);
    assert_int_equal(v[0].end, 16 * MiB + 100);
    assert_int_equal(v[0].done, 16 * MiB + 100);
    assert_true(segplan_whole(v, 1));
    assert_int_equal(segplan_done(v, n), 16 * MiB + 100);
    for (size_t i = 1; i < n; i++) {
        int64_t len = v[i].end - v[i].start;

        assert_int_equal(v[i].done, 0);
        if (i + 1 < n)
            assert_int_equal(v[i].end % SEGPLAN_ALIGN, 0);
        assert_true(len >= rest / 4 - 2 * SEGPLAN_ALIGN && len <= rest / 4 + 2 * SEGPLAN_ALIGN);
    }
    assert_int_equal(segplan_plan_first_end(64 * MiB, 16 * MiB + 100, 4, 1, 1 * MiB), v[1].end);
    /* What is left counts against --min-segment, not the whole file. */
    n = segplan_plan(64 * MiB, 62 * MiB, 4, 1, 1 * MiB, v);
    assert_int_equal(n, 3);
    assert_plan(v, n, 64 * MiB);
    assert_int_equal(v[1].start, 62 * MiB);
    assert_int_equal(v[1].end, 63 * MiB);
    /* Nothing on disk, or all of it: segplan_split. */
    n = segplan_plan(64 * MiB, 0, 4, 1, 1 * MiB, v);
    assert_int_equal(n, 4);
    assert_int_equal(v[0].done, 0);
    assert_int_equal(segplan_plan_first_end(64 * MiB, 0, 4, 1, 1 * MiB), segplan_first_end(64 * MiB, 4, 1 * MiB));
    n = segplan_plan(64 * MiB, 64 * MiB, 4, 1, 1 * MiB, v);
    assert_int_equal(n, 4);
    assert_plan(v, n, 64 * MiB);
}

/* The engine's plan: SEGPLAN_PIECES pieces per connection, none under --min-segment, and the
 * first request stops where the first piece ends. */
static void test_plan_pieces(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n;

    (void)state;
    assert_int_equal(segplan_pieces(256 * MiB, 8, SEGPLAN_PIECES, 8 * MiB), 32);
    assert_int_equal(segplan_pieces(256 * MiB, 8, SEGPLAN_PIECES, 16 * MiB), 16);      /* min_segment bounds */
    assert_int_equal(segplan_pieces(16 * MiB, 4, SEGPLAN_PIECES, 4 * MiB), 4);         /* no more than ranges */
    assert_int_equal(segplan_pieces(16 * MiB, 4, SEGPLAN_PIECES, 8 * MiB), 2);
    assert_int_equal(segplan_pieces(10 * MiB, 8, SEGPLAN_PIECES, 8 * MiB), 1);
    assert_int_equal(segplan_pieces(1LL << 40, 64, SEGPLAN_PIECES, 1), SEGPLAN_MAX / 2); /* room for steals */
    assert_int_equal(segplan_pieces(256 * MiB, 8, 1, 8 * MiB), 8);       /* under a cap */
    assert_int_equal(segplan_pieces(256 * MiB, 8, 0, 8 * MiB), 8);
    n = segplan_plan(256 * MiB, 0, 8, SEGPLAN_PIECES, 8 * MiB, v);
    assert_int_equal(n, 32);
    assert_plan(v, n, 256 * MiB);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].end - v[i].start, 8 * MiB);
    assert_int_equal(segplan_plan_first_end(256 * MiB, 0, 8, SEGPLAN_PIECES, 8 * MiB), 8 * MiB);
    assert_int_equal(segplan_plan_first_end(256 * MiB, 0, 8, 1, 8 * MiB), 32 * MiB);
    /* Resumed: [0, from) whole, the rest in pieces of a file of its length. */
    n = segplan_plan(256 * MiB, 64 * MiB, 8, SEGPLAN_PIECES, 8 * MiB, v);
    assert_int_equal(n, 1 + 24);
    assert_plan(v, n, 256 * MiB);
    assert_int_equal(v[0].done, 64 * MiB);
    assert_int_equal(v[1].start, 64 * MiB);
    assert_int_equal(segplan_plan_first_end(256 * MiB, 64 * MiB, 8, SEGPLAN_PIECES, 8 * MiB), v[1].end);
}

/* An idle range with bytes left is taken before anything is cut, the one with most left first. */
static void test_next_idle_first(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n = segplan_split(64 * MiB, 4, 1 * MiB, v);

    (void)state;
    v[0].busy = true;
    v[1].done = 10 * MiB;          /* resumed: 6 MiB left */
    v[3].done = 1 * MiB;           /* 15 MiB left */
    assert_int_equal(segplan_next(v, &n, 1 * MiB), 2);     /* 16 MiB left */
    v[2].busy = true;
    assert_int_equal(segplan_next(v, &n, 1 * MiB), 3);
    v[3].busy = true;
    assert_int_equal(segplan_next(v, &n, 1 * MiB), 1);
    assert_int_equal(n, 4);
}

/* Work stealing: with every range busy, the one with most left is cut in two at the middle of
 * what it has left; nothing it has done is fetched again, and the plan still covers the file. */
static void test_steal(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n = segplan_split(64 * MiB, 2, 1 * MiB, v);
    int i;

    (void)state;
    v[0].busy = v[1].busy = true;
    v[0].done = 30 * MiB;          /* 2 MiB left */
    v[1].done = 8 * MiB;           /* 24 MiB left: [40, 64) MiB */
    i = segplan_next(v, &n, 1 * MiB);
    assert_int_equal(i, 2);
    assert_int_equal(n, 3);
    assert_plan(v, n, 64 * MiB);
    assert_int_equal(v[1].end, 52 * MiB);
    assert_int_equal(v[2].start, 52 * MiB);
    assert_int_equal(v[2].end, 64 * MiB);
    assert_int_equal(v[2].done, 0);
    assert_false(v[2].busy);
    assert_int_equal(v[1].done, 8 * MiB);
    assert_true(v[1].busy);
    assert_int_equal(segplan_done(v, n), 38 * MiB);
}

/* Not worth a connection: less than 2 × min_segment left in the largest busy range, or a finished
 * file. */
static void test_no_steal(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n = segplan_split(64 * MiB, 2, 1 * MiB, v);

    (void)state;
    v[0].busy = v[1].busy = true;
    v[0].done = 31 * MiB;
    v[1].done = 30 * MiB + 1;      /* 2 MiB - 1 left */
    assert_int_equal(segplan_next(v, &n, 1 * MiB), -1);
    assert_int_equal(n, 2);
    v[1].done = 30 * MiB;          /* exactly 2 MiB: cut into two 1 MiB halves */
    assert_int_equal(segplan_next(v, &n, 1 * MiB), 2);
    assert_int_equal(v[2].end - v[2].start, 1 * MiB);
    n = segplan_split(10 * MiB, 2, 1 * MiB, v);
    v[0].done = v[0].end - v[0].start;
    v[1].done = v[1].end - v[1].start;
    assert_true(segplan_whole(v, n));
    assert_int_equal(segplan_next(v, &n, 1 * MiB), -1);
}

/* Stealing again and again (the tail of a sync with free slots) keeps a valid plan, never cuts
 * below min_segment, and stops at SEGPLAN_MAX ranges. */
static void test_steal_repeat(void **state)
{
    struct seg v[SEGPLAN_MAX];
    size_t n = segplan_split(1LL << 40, 1, 1, v);
    int i;

    (void)state;
    v[0].busy = true;
    while ((i = segplan_next(v, &n, 4096)) >= 0) {
        assert_plan(v, n, 1LL << 40);
        assert_true(v[i].end - v[i].start >= 4096);
        v[i].busy = true;
        v[i].done = (v[i].end - v[i].start) / 3;
    }
    assert_int_equal(n, SEGPLAN_MAX);
    assert_int_equal(segplan_busy(v, n), SEGPLAN_MAX);
}

static void test_check(void **state)
{
    struct seg v[4] = {
        { 0, 100, 100, false }, { 100, 200, 50, false }, { 200, 300, 0, false },
    };
    char why[ERRLEN];

    (void)state;
    assert_int_equal(segplan_check(v, 3, 300, why), 0);
    assert_int_equal(segplan_check(v, 3, 301, why), -1);
    assert_non_null(strstr(why, "ranges end at 300"));
    assert_int_equal(segplan_check(v, 0, 0, NULL), -1);
    v[1].start = 99;
    assert_int_equal(segplan_check(v, 3, 300, why), -1);
    assert_non_null(strstr(why, "range 1 starts at 99"));
    v[1].start = 100;
    v[1].done = 101;
    assert_int_equal(segplan_check(v, 3, 300, why), -1);
    v[1].done = -1;
    assert_int_equal(segplan_check(v, 3, 300, why), -1);
    v[1].done = 0;
    v[2].end = 200;
    assert_int_equal(segplan_check(v, 3, 200, why), -1);
}

/* Whole ranges absorb the idle ones after them; busy ones stay as they are. */
static void test_compact(void **state)
{
    struct seg v[5] = {
        { 0, 100, 100, false }, { 100, 200, 100, false }, { 200, 300, 40, false },
        { 300, 400, 100, false }, { 400, 500, 10, true },
    };
    size_t n = segplan_compact(v, 5);

    (void)state;
    assert_int_equal(n, 3);
    assert_plan(v, n, 500);
    assert_int_equal(v[0].end, 300);
    assert_int_equal(v[0].done, 240);
    assert_int_equal(v[1].start, 300);
    assert_int_equal(v[1].done, 100);
    assert_true(v[2].busy);
    assert_int_equal(segplan_done(v, n), 350);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_split_even),
        cmocka_unit_test(test_split_odd),
        cmocka_unit_test(test_next_idle_first),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_no_steal),
        cmocka_unit_test(test_steal_repeat),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_split_from),
        cmocka_unit_test(test_plan_pieces),
        cmocka_unit_test(test_compact),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
