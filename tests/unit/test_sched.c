/* The rate timetable with the local second-of-day given by the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sched.h"

#define M (1024 * 1024LL)
#define HMS(h, m, s) ((h) * 3600 + (m) * 60 + (s))

/* "08:00,10M 18:30,off" */
static const struct sched_point office[] = {
    { 8 * 60, 10 * M },
    { 18 * 60 + 30, 0 },
};

static void test_office_hours(void **state)
{
    (void)state;
    /* Before the first point the last point of the day (off) is still in force. */
    assert_int_equal(sched_step_at(office, 2, HMS(7, 59, 59)), 1);
    assert_int_equal(sched_rate_at(office, 2, HMS(7, 59, 59), 123), 0);
    assert_int_equal(sched_secs_to_next(office, 2, HMS(7, 59, 59)), 1);

    assert_int_equal(sched_step_at(office, 2, HMS(8, 0, 0)), 0);
    assert_int_equal(sched_rate_at(office, 2, HMS(8, 0, 0), 123), 10 * M);
    assert_int_equal(sched_secs_to_next(office, 2, HMS(8, 0, 0)), HMS(10, 30, 0));

    assert_int_equal(sched_step_at(office, 2, HMS(18, 29, 59)), 0);
    assert_int_equal(sched_rate_at(office, 2, HMS(18, 29, 59), 123), 10 * M);
    assert_int_equal(sched_secs_to_next(office, 2, HMS(18, 29, 59)), 1);

    assert_int_equal(sched_step_at(office, 2, HMS(18, 30, 0)), 1);
    assert_int_equal(sched_rate_at(office, 2, HMS(18, 30, 0), 123), 0);
    assert_int_equal(sched_secs_to_next(office, 2, HMS(18, 30, 0)), HMS(13, 30, 0));

    assert_int_equal(sched_step_at(office, 2, HMS(23, 59, 59)), 1);
    assert_int_equal(sched_rate_at(office, 2, HMS(23, 59, 59), 123), 0);
    assert_int_equal(sched_secs_to_next(office, 2, HMS(23, 59, 59)), HMS(8, 0, 1));

    assert_int_equal(sched_step_at(office, 2, 0), 1);
    assert_int_equal(sched_rate_at(office, 2, 0, 123), 0);
    assert_int_equal(sched_secs_to_next(office, 2, 0), HMS(8, 0, 0));
}

/* Walking the whole day second by second: secs_to_next always lands on the next step change. */
static void test_walk_day(void **state)
{
    static const struct sched_point three[] = {
        { 0, 1 * M }, { 6 * 60 + 15, 2 * M }, { 23 * 60 + 59, 3 * M },
    };
    const struct sched_point *tables[] = { office, three };
    size_t sizes[] = { 2, 3 };

    (void)state;
    for (size_t t = 0; t < 2; t++) {
        const struct sched_point *p = tables[t];
        size_t n = sizes[t];

        for (int sod = 0; sod < 86400; sod++) {
            int step = sched_step_at(p, n, sod);
            int next = sched_secs_to_next(p, n, sod);
            int at = (sod + next) % 86400;

            assert_true(step >= 0 && (size_t)step < n);
            assert_true(next >= 1 && next <= 86400);
            /* The step is unchanged until `next`, and changes exactly then. */
            assert_int_equal(sched_step_at(p, n, (sod + next - 1) % 86400), step);
            assert_int_not_equal(sched_step_at(p, n, at), step);
            assert_int_equal(at, p[sched_step_at(p, n, at)].minute * 60);
        }
    }
}

static void test_single_point(void **state)
{
    static const struct sched_point one[] = { { 9 * 60, 5 * M } };

    (void)state;
    for (int sod = 0; sod < 86400; sod += 997) {
        assert_int_equal(sched_step_at(one, 1, sod), 0);
        assert_int_equal(sched_rate_at(one, 1, sod, 7), 5 * M);
        assert_int_equal(sched_secs_to_next(one, 1, sod), 86400);
    }
    assert_int_equal(sched_secs_to_next(one, 1, HMS(9, 0, 0)), 86400);
    assert_int_equal(sched_secs_to_next(one, 1, HMS(8, 59, 59)), 86400);
    /* Two points at the same minute are one step: the later one wins. */
    {
        static const struct sched_point dup[] = { { 60, 1 }, { 60, 2 } };

        assert_int_equal(sched_step_at(dup, 2, 0), 1);
        assert_int_equal(sched_step_at(dup, 2, 3600), 1);
        assert_int_equal(sched_rate_at(dup, 2, 7200, 0), 2);
        assert_int_equal(sched_secs_to_next(dup, 2, 0), 86400);
    }
}

static void test_empty(void **state)
{
    struct sched_state st;

    (void)state;
    assert_int_equal(sched_step_at(NULL, 0, 100), -1);
    assert_int_equal(sched_step_at(office, 0, 100), -1);
    assert_int_equal(sched_rate_at(NULL, 0, 100, 42), 42);
    assert_int_equal(sched_secs_to_next(NULL, 0, 100), -1);
    sched_state_init(&st);
    assert_int_equal(st.step, -1);
    assert_int_equal(st.override, 0);
    assert_int_equal(sched_eval(&st, NULL, 0, 100, 42), 42);
}

/* Out-of-range input is normalised, not trusted. */
static void test_hostile_input(void **state)
{
    static const struct sched_point bad[] = { { -5, 1 }, { 99999, 2 } };

    (void)state;
    assert_int_equal(sched_step_at(office, 2, 86400 + HMS(9, 0, 0)), 0);
    assert_int_equal(sched_step_at(office, 2, -1), 1);           /* 23:59:59 */
    assert_int_equal(sched_step_at(office, 2, -86400 * 3 + HMS(8, 0, 0)), 0);
    assert_int_equal(sched_secs_to_next(office, 2, -1), HMS(8, 0, 1));
    assert_int_equal(sched_step_at(office, 2, INT32_MIN), sched_step_at(office, 2, INT32_MIN % 86400 + 86400));
    assert_int_equal(sched_step_at(office, 2, INT32_MAX), sched_step_at(office, 2, INT32_MAX % 86400));
    /* Minutes outside the day are clamped to 00:00 and 23:59. */
    assert_int_equal(sched_step_at(bad, 2, HMS(12, 0, 0)), 0);
    assert_int_equal(sched_step_at(bad, 2, HMS(23, 59, 0)), 1);
    assert_int_equal(sched_secs_to_next(bad, 2, HMS(23, 58, 0)), 60);
    assert_int_equal(sched_secs_to_next(bad, 2, HMS(23, 59, 0)), 60);
}

/* Unsorted points give the same answers as sorted ones. */
static void test_unsorted(void **state)
{
    static const struct sched_point rev[] = { { 18 * 60 + 30, 0 }, { 8 * 60, 10 * M } };

    (void)state;
    for (int sod = 0; sod < 86400; sod += 61) {
        assert_int_equal(sched_rate_at(rev, 2, sod, 1), sched_rate_at(office, 2, sod, 1));
        assert_int_equal(sched_secs_to_next(rev, 2, sod), sched_secs_to_next(office, 2, sod));
    }
}

/* An override at 12:00 holds through the afternoon and ends when 18:30 begins. */
static void test_override_until_next_step(void **state)
{
    struct sched_state st;

    (void)state;
    sched_state_init(&st);
    assert_int_equal(sched_eval(&st, office, 2, HMS(11, 0, 0), 1), 10 * M);
    assert_int_equal(st.step, 0);

    sched_override(&st, office, 2, HMS(12, 0, 0), 2 * M);
    assert_int_equal(st.override, 1);
    assert_int_equal(sched_eval(&st, office, 2, HMS(12, 0, 0), 1), 2 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(15, 0, 0), 1), 2 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(18, 29, 59), 1), 2 * M);
    assert_int_equal(st.override, 1);

    assert_int_equal(sched_eval(&st, office, 2, HMS(18, 30, 0), 1), 0);
    assert_int_equal(st.override, 0);
    assert_int_equal(st.step, 1);
    /* Cleared for good: the timetable runs on. */
    assert_int_equal(sched_eval(&st, office, 2, HMS(23, 0, 0), 1), 0);
    assert_int_equal(sched_eval(&st, office, 2, HMS(8, 0, 0), 1), 10 * M);

    /* "off" as an override, set before the first evaluation, during the night step. */
    sched_state_init(&st);
    sched_override(&st, office, 2, HMS(2, 0, 0), 0);
    assert_int_equal(sched_eval(&st, office, 2, HMS(7, 59, 59), 1), 0);
    assert_int_equal(sched_eval(&st, office, 2, HMS(8, 0, 0), 1), 10 * M);

    /* An override set late in the evening survives midnight (same step) and ends at 08:00. */
    sched_state_init(&st);
    sched_override(&st, office, 2, HMS(22, 0, 0), 3 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(23, 59, 59), 1), 3 * M);
    assert_int_equal(sched_eval(&st, office, 2, 0, 1), 3 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(7, 59, 59), 1), 3 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(8, 0, 0), 1), 10 * M);

    /* A second override replaces the first. */
    sched_override(&st, office, 2, HMS(9, 0, 0), 4 * M);
    sched_override(&st, office, 2, HMS(9, 0, 1), 5 * M);
    assert_int_equal(sched_eval(&st, office, 2, HMS(9, 30, 0), 1), 5 * M);
}

static void test_override_without_schedule(void **state)
{
    struct sched_state st;

    (void)state;
    sched_state_init(&st);
    assert_int_equal(sched_eval(&st, NULL, 0, HMS(12, 0, 0), 50 * M), 50 * M);
    sched_override(&st, NULL, 0, HMS(12, 0, 0), 3 * M);
    assert_int_equal(st.step, -1);
    /* No step ever changes, so the override holds all day and the next. */
    for (int sod = 0; sod < 86400; sod += 3600)
        assert_int_equal(sched_eval(&st, NULL, 0, sod, 50 * M), 3 * M);
    assert_int_equal(st.override, 1);
}

static void test_override_single_point(void **state)
{
    static const struct sched_point one[] = { { 9 * 60, 5 * M } };
    struct sched_state st;

    (void)state;
    sched_state_init(&st);
    sched_override(&st, one, 1, HMS(10, 0, 0), 1 * M);
    /* The only step is always in force, so the override is never displaced. */
    assert_int_equal(sched_eval(&st, one, 1, HMS(9, 0, 0), 0), 1 * M);
    assert_int_equal(sched_eval(&st, one, 1, HMS(8, 0, 0), 0), 1 * M);
    assert_int_equal(st.override, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_office_hours),
        cmocka_unit_test(test_walk_day),
        cmocka_unit_test(test_single_point),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_unsorted),
        cmocka_unit_test(test_override_until_next_step),
        cmocka_unit_test(test_override_without_schedule),
        cmocka_unit_test(test_override_single_point),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
