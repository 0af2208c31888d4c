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
    { 8 * 60, 10 * M, 0 },
    { 18 * 60 + 30, 0, 0 },
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
        { 0, 1 * M, 0 }, { 6 * 60 + 15, 2 * M, 0 }, { 23 * 60 + 59, 3 * M, 0 },
    };
    const struct sched_point *tables[] = { office, three, 0 };
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
    static const struct sched_point one[] = { { 9 * 60, 5 * M, 0 } };

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
        static const struct sched_point dup[] = { { 60, 1, 0 }, { 60, 2, 0 } };

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
    static const struct sched_point bad[] = { { -5, 1, 0 }, { 99999, 2, 0 } };

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
    static const struct sched_point rev[] = { { 18 * 60 + 30, 0, 0 }, { 8 * 60, 10 * M, 0 } };

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
    static const struct sched_point one[] = { { 9 * 60, 5 * M, 0 } };
    struct sched_state st;

    (void)state;
    sched_state_init(&st);
    sched_override(&st, one, 1, HMS(10, 0, 0), 1 * M);
    /* The only step is always in force, so the override is never displaced. */
    assert_int_equal(sched_eval(&st, one, 1, HMS(9, 0, 0), 0), 1 * M);
    assert_int_equal(sched_eval(&st, one, 1, HMS(8, 0, 0), 0), 1 * M);
    assert_int_equal(st.override, 1);
}

/* "mon-fri 08:00,2M 18:30,off sat,sun 00:00,off": weekday mornings capped, evenings and the
 * weekend free. Days are tm_wday: 0 = Sunday. */
#define DAY(d) ((d) * 86400)
#define SUN 0
#define MON 1
#define FRI 5
#define SAT 6
static const struct sched_point week[] = {
    { 8 * 60, 2 * M, 0x3e }, { 18 * 60 + 30, 0, 0x3e }, { 0, 5, 0x41 },
};

static void test_weekdays(void **state)
{
    (void)state;
    /* Monday before 08:00: Sunday's 00:00 step still holds, 08:00 comes next. */
    assert_int_equal(sched_step_at(week, 3, DAY(MON) + HMS(7, 59, 59)), 2);
    assert_int_equal(sched_secs_to_next(week, 3, DAY(MON) + HMS(7, 59, 59)), 1);
    assert_int_equal(sched_next_step(week, 3, DAY(MON) + HMS(7, 59, 59)), 0);
    assert_int_equal(sched_rate_at(week, 3, DAY(MON) + HMS(9, 0, 0), 1), 2 * M);
    /* Monday evening to Tuesday morning. */
    assert_int_equal(sched_step_at(week, 3, DAY(MON) + HMS(20, 0, 0)), 1);
    assert_int_equal(sched_secs_to_next(week, 3, DAY(MON) + HMS(20, 0, 0)), HMS(12, 0, 0));
    assert_int_equal(sched_next_step(week, 3, DAY(MON) + HMS(20, 0, 0)), 0);
    /* Friday evening: the next step is Saturday 00:00, not Monday 08:00. */
    assert_int_equal(sched_secs_to_next(week, 3, DAY(FRI) + HMS(20, 0, 0)), HMS(4, 0, 0));
    assert_int_equal(sched_next_step(week, 3, DAY(FRI) + HMS(20, 0, 0)), 2);
    /* Saturday 00:00 begins the weekend step; Sunday 00:00 is that same step again, so the next
     * change is Monday 08:00. */
    assert_int_equal(sched_step_at(week, 3, DAY(SAT)), 2);
    assert_int_equal(sched_secs_to_next(week, 3, DAY(SAT)), HMS(48 + 8, 0, 0));
    assert_int_equal(sched_rate_at(week, 3, DAY(SUN) + HMS(12, 0, 0), 1), 5);
    /* Saturday at 09:00 is not a weekday morning. */
    assert_int_equal(sched_rate_at(week, 3, DAY(SAT) + HMS(9, 0, 0), 1), 5);
    /* Before the first instant of the week (Sunday 00:00 is one): the week wraps. */
    assert_int_equal(sched_step_at(week, 3, 0), 2);
    assert_int_equal(sched_step_at(week, 3, -1), 2);       /* Saturday 23:59:59 */
}

/* Walking the week minute by minute: the next change lands where the step changes, and nothing
 * changes before it. */
static void test_walk_week(void **state)
{
    static const struct sched_point mix[] = {
        { 6 * 60, 1 * M, 0 }, { 9 * 60, 3 * M, 0x3e }, { 17 * 60, 4 * M, 0x22 }, { 23 * 60, 0, 0x40 },
    };
    const struct sched_point *tables[] = { week, mix, 0 };
    size_t sizes[] = { 3, 4 };

    (void)state;
    for (size_t t = 0; t < 2; t++) {
        const struct sched_point *p = tables[t];
        size_t n = sizes[t];

        for (int sow = 0; sow < 7 * 86400; sow += 60) {
            int step = sched_step_at(p, n, sow);
            int next = sched_secs_to_next(p, n, sow);
            int at = (sow + next) % (7 * 86400);

            assert_true(step >= 0 && (size_t)step < n);
            assert_true(next >= 1 && next <= 7 * 86400);
            assert_int_equal(sched_step_at(p, n, (sow + next - 1) % (7 * 86400)), step);
            assert_int_not_equal(sched_step_at(p, n, at), step);
            assert_int_equal(sched_next_step(p, n, sow), sched_step_at(p, n, at));
            assert_int_equal(at % 86400, p[sched_step_at(p, n, at)].minute * 60);
        }
    }
}

/* A live change on Friday evening holds over the night and ends when Saturday's step begins. */
static void test_override_weekdays(void **state)
{
    struct sched_state st;

    (void)state;
    sched_state_init(&st);
    sched_override(&st, week, 3, DAY(FRI) + HMS(19, 0, 0), 7 * M);
    assert_int_equal(sched_eval(&st, week, 3, DAY(FRI) + HMS(23, 59, 59), 1), 7 * M);
    assert_int_equal(sched_eval(&st, week, 3, DAY(SAT), 1), 5);
    assert_int_equal(st.override, 0);
    /* A single weekday point: the step never changes, so "until the next step" is a week. */
    {
        static const struct sched_point mon[] = { { 8 * 60, 1 * M, 1u << MON } };

        assert_int_equal(sched_secs_to_next(mon, 1, DAY(MON) + HMS(9, 0, 0)), 7 * 86400);
        assert_int_equal(sched_next_step(mon, 1, DAY(MON) + HMS(9, 0, 0)), 0);
    }
}

static void test_sow(void **state)
{
    struct tm tm = { .tm_wday = 3, .tm_hour = 10, .tm_min = 2, .tm_sec = 3 };

    (void)state;
    assert_int_equal(sched_sow(&tm), 3 * 86400 + HMS(10, 2, 3));
    tm.tm_wday = 9;                 /* not trusted */
    assert_int_equal(sched_sow(&tm), HMS(10, 2, 3));
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
        cmocka_unit_test(test_weekdays),
        cmocka_unit_test(test_walk_week),
        cmocka_unit_test(test_override_weekdays),
        cmocka_unit_test(test_sow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
