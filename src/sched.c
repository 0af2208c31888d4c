/* The rate timetable (--schedule; docs/design.md#live-changes-and-the-schedule: a step takes
 * effect within one second).
 *
 * A point holds on its weekdays (every day when it names none), so the timetable is a week of
 * instants: point i starts at day * 86400 + minute * 60 for each of its days. Points normally
 * arrive sorted (opts_parse_schedule sorts them), but nothing here relies on it: every lookup is a
 * scan over those instants (a timetable has a handful of points), and among points starting at the
 * same moment the later one wins, as it would after a stable sort. */
#include "sched.h"

#include <stdbool.h>

int sched_sow(const struct tm *tm)
{
    int wday = tm->tm_wday < 0 || tm->tm_wday > 6 ? 0 : tm->tm_wday;

    return wday * SCHED_DAY_SECS + tm->tm_hour * 3600 + tm->tm_min * 60 + tm->tm_sec;
}

static int norm_sow(int sow)
{
    sow %= SCHED_WEEK_SECS;
    return sow < 0 ? sow + SCHED_WEEK_SECS : sow;
}

/* Start of a point in seconds of the day; out-of-range minutes are clamped rather than trusted. */
static int point_secs(const struct sched_point *pt)
{
    int m = pt->minute < 0 ? 0 : pt->minute > 1439 ? 1439 : pt->minute;

    return m * 60;
}

static unsigned point_days(const struct sched_point *pt)
{
    unsigned d = pt->days & SCHED_ALL_DAYS;

    return d == 0 ? SCHED_ALL_DAYS : d;
}

static bool every_day(const struct sched_point *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (point_days(&p[i]) != SCHED_ALL_DAYS)
            return false;
    return true;
}

int sched_step_at(const struct sched_point *p, size_t n, int sow)
{
    int best = -1, best_t = -1, last = -1, last_t = -1;

    if (p == NULL || n == 0)
        return -1;
    sow = norm_sow(sow);
    for (size_t i = 0; i < n; i++) {
        unsigned days = point_days(&p[i]);

        for (int d = 0; d < 7; d++) {
            int t = d * SCHED_DAY_SECS + point_secs(&p[i]);

            if (!(days & (1u << d)))
                continue;
            if (t <= sow && t >= best_t) {
                best = (int)i;
                best_t = t;
            }
            if (t >= last_t) {
                last = (int)i;
                last_t = t;
            }
        }
    }
    /* Before the first point of the week, the week's last point is still in force. */
    return best >= 0 ? best : last;
}

int64_t sched_rate_at(const struct sched_point *p, size_t n, int sow, int64_t fallback)
{
    int i = sched_step_at(p, n, sow);

    return i < 0 ? fallback : p[i].rate;
}

/* The nearest instant after sow at which another step than the one in force begins: its distance
 * in *secs (0 when the step never changes) and that step. */
static int next_change(const struct sched_point *p, size_t n, int sow, int *secs)
{
    int cur, best = -1, best_d = 0;

    *secs = 0;
    if (p == NULL || n == 0)
        return -1;
    sow = norm_sow(sow);
    cur = sched_step_at(p, n, sow);
    for (size_t i = 0; i < n; i++) {
        unsigned days = point_days(&p[i]);

        for (int d = 0; d < 7; d++) {
            int t = d * SCHED_DAY_SECS + point_secs(&p[i]);
            int dist = norm_sow(t - sow - 1) + 1;       /* 1..WEEK: today's own start is a week on */
            int at;

            if (!(days & (1u << d)) || (best >= 0 && dist >= best_d))
                continue;
            /* An instant another point shares may belong to that one (the later wins). */
            at = sched_step_at(p, n, t);
            if (at == cur)
                continue;
            best = at;
            best_d = dist;
        }
    }
    *secs = best_d;
    return best < 0 ? cur : best;
}

int sched_secs_to_next(const struct sched_point *p, size_t n, int sow)
{
    int secs;

    if (next_change(p, n, sow, &secs) < 0)
        return -1;
    if (secs == 0)
        return every_day(p, n) ? SCHED_DAY_SECS : SCHED_WEEK_SECS;
    return secs;
}

int sched_next_step(const struct sched_point *p, size_t n, int sow)
{
    int secs;

    return next_change(p, n, sow, &secs);
}

void sched_state_init(struct sched_state *st)
{
    st->step = -1;
    st->override = 0;
    st->override_rate = 0;
}

void sched_override(struct sched_state *st, const struct sched_point *p, size_t n, int sow, int64_t rate)
{
    st->step = sched_step_at(p, n, sow);
    st->override = 1;
    st->override_rate = rate;
}

int64_t sched_eval(struct sched_state *st, const struct sched_point *p, size_t n, int sow, int64_t fallback)
{
    int step = sched_step_at(p, n, sow);

    /* The operator's change was made against one step of the timetable; once the timetable moves
     * on, its own rate takes over again. */
    if (st->override && step != st->step)
        st->override = 0;
    st->step = step;
    if (st->override)
        return st->override_rate;
    return step < 0 ? fallback : p[step].rate;
}
