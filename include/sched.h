#ifndef SLUICE_SCHED_H
#define SLUICE_SCHED_H
/* The rate timetable (--schedule, like rclone's --bwlimit). Pure: the caller passes the local time
 * as seconds since local midnight (0..86399), taken from localtime_r, so DST changes only move which
 * step is in force, never the arithmetic. */
#include <stddef.h>
#include <stdint.h>
#include "opts.h"

/* Index of the step in force at local second-of-day `sod`: the last point at or before it, wrapping
 * to the last point of the previous day before the first point. -1 when there are no points. */
int sched_step_at(const struct sched_point *p, size_t n, int sod);

/* Rate in force (bytes/s, 0 = off); `fallback` when there are no points. */
int64_t sched_rate_at(const struct sched_point *p, size_t n, int sod, int64_t fallback);

/* Seconds from `sod` until the next step begins (1..86400), wrapping at midnight; -1 when n == 0. */
int sched_secs_to_next(const struct sched_point *p, size_t n, int sod);

/* An operator override (a live rate change) holds until the step in force changes. */
struct sched_state {
    int step;            /* step index when last evaluated, -1 = none yet */
    int override;        /* non-zero while a live change overrides the timetable */
    int64_t override_rate;
};
void sched_state_init(struct sched_state *st);
void sched_override(struct sched_state *st, const struct sched_point *p, size_t n, int sod, int64_t rate);
/* Rate that should be in force now; clears the override when the step changed since it was set. */
int64_t sched_eval(struct sched_state *st, const struct sched_point *p, size_t n, int sod, int64_t fallback);

#endif
