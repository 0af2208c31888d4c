#ifndef SLUICE_SCHED_H
#define SLUICE_SCHED_H
/* The rate timetable (--schedule, like rclone's --bwlimit, with optional weekdays). Pure: the
 * caller passes the local time as seconds since local Sunday midnight (0..604799: tm_wday * 86400
 * plus the second of the day, from localtime_r; sched_local_sow), so DST changes only move which
 * step is in force, never the arithmetic. A point whose days are 0 holds on every day; a time
 * within the first day (0..86399) is a Sunday, which is all a table of every-day points needs. */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "opts.h"

#define SCHED_DAY_SECS 86400
#define SCHED_WEEK_SECS (7 * SCHED_DAY_SECS)
#define SCHED_ALL_DAYS 0x7fu

/* Seconds since local Sunday 00:00 of the broken-down time tm. */
int sched_sow(const struct tm *tm);

/* Index of the step in force at local second-of-week `sow`: the last point at or before it on one
 * of its days, wrapping to the last point of the week before the first one. Among points starting
 * at the same moment the later one wins. -1 when there are no points. */
int sched_step_at(const struct sched_point *p, size_t n, int sow);

/* Rate in force (bytes/s, 0 = off); `fallback` when there are no points. */
int64_t sched_rate_at(const struct sched_point *p, size_t n, int sow, int64_t fallback);

/* Seconds from `sow` until another step is in force (1..604800), wrapping at the end of the week;
 * -1 when n == 0. When the step in force never changes: a day (every-day points) or a week. */
int sched_secs_to_next(const struct sched_point *p, size_t n, int sow);

/* The step that comes next (the one in force after sched_secs_to_next), -1 when n == 0. */
int sched_next_step(const struct sched_point *p, size_t n, int sow);

/* An operator override (a live rate change) holds until the step in force changes. */
struct sched_state {
    int step;            /* step index when last evaluated, -1 = none yet */
    int override;        /* non-zero while a live change overrides the timetable */
    int64_t override_rate;
};
void sched_state_init(struct sched_state *st);
void sched_override(struct sched_state *st, const struct sched_point *p, size_t n, int sow, int64_t rate);
/* Rate that should be in force now; clears the override when the step changed since it was set. */
int64_t sched_eval(struct sched_state *st, const struct sched_point *p, size_t n, int sow, int64_t fallback);

#endif
