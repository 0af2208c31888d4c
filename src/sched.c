/* The rate timetable (--schedule; docs/design.md#live-changes-and-the-schedule: a step takes
 * effect within one second).
 *
 * Points normally arrive sorted by minute (opts_parse_schedule sorts them), but nothing here relies
 * on it: every lookup is a linear scan (a timetable has a handful of points), and among points with
 * the same minute the later one wins, as it would after a stable sort. */
#include "sched.h"

#include <stdbool.h>

#define DAY_SECS 86400

static int norm_sod(int sod)
{
    sod %= DAY_SECS;
    return sod < 0 ? sod + DAY_SECS : sod;
}

/* Start of a point in seconds of the day; out-of-range minutes are clamped rather than trusted. */
static int point_secs(const struct sched_point *pt)
{
    int m = pt->minute < 0 ? 0 : pt->minute > 1439 ? 1439 : pt->minute;

    return m * 60;
}

int sched_step_at(const struct sched_point *p, size_t n, int sod)
{
    int best = -1, best_t = -1, last = -1, last_t = -1;

    if (p == NULL || n == 0)
        return -1;
    sod = norm_sod(sod);
    for (size_t i = 0; i < n; i++) {
        int t = point_secs(&p[i]);

        if (t <= sod && t >= best_t) {
            best = (int)i;
            best_t = t;
        }
        if (t >= last_t) {
            last = (int)i;
            last_t = t;
        }
    }
    /* Before the first point of the day, yesterday's last point is still in force. */
    return best >= 0 ? best : last;
}

int64_t sched_rate_at(const struct sched_point *p, size_t n, int sod, int64_t fallback)
{
    int i = sched_step_at(p, n, sod);

    return i < 0 ? fallback : p[i].rate;
}

int sched_secs_to_next(const struct sched_point *p, size_t n, int sod)
{
    int next = -1, first = -1;

    if (p == NULL || n == 0)
        return -1;
    sod = norm_sod(sod);
    for (size_t i = 0; i < n; i++) {
        int t = point_secs(&p[i]);

        if (t > sod && (next < 0 || t < next))
            next = t;
        if (first < 0 || t < first)
            first = t;
    }
    /* With one distinct start time the step in force never changes: the answer is "not within a
     * day", which is also when that point next begins if we stand on it now. */
    {
        bool one = true;

        for (size_t i = 0; i < n; i++)
            if (point_secs(&p[i]) != first)
                one = false;
        if (one)
            return DAY_SECS;
    }
    return next >= 0 ? next - sod : first + DAY_SECS - sod;
}

void sched_state_init(struct sched_state *st)
{
    st->step = -1;
    st->override = 0;
    st->override_rate = 0;
}

void sched_override(struct sched_state *st, const struct sched_point *p, size_t n, int sod, int64_t rate)
{
    st->step = sched_step_at(p, n, sod);
    st->override = 1;
    st->override_rate = rate;
}

int64_t sched_eval(struct sched_state *st, const struct sched_point *p, size_t n, int sod, int64_t fallback)
{
    int step = sched_step_at(p, n, sod);

    /* The operator's change was made against one step of the timetable; once the timetable moves
     * on, its own rate takes over again. */
    if (st->override && step != st->step)
        st->override = 0;
    st->step = step;
    if (st->override)
        return st->override_rate;
    return step < 0 ? fallback : p[step].rate;
}
