/* The engine's schedule (docs/design.md#live-changes-and-the-schedule): its own copy of the
 * timetable (ctl schedule replaces it for the run), the step put in force each tick, and the
 * plain-data view of the cap's source and the steps that the header, ctl status and the metrics
 * show. The timetable's arithmetic is sched.c's. */
#include "engine.h"
#include "engine_cap.h"
#include "engine_impl.h"
#include "group_redis.h"
#include "opts.h"
#include "queue.h"
#include "sched.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The rate the timetable puts in force now, with the step's text when a step change made it.
 * With a cap group the group's cap rules between steps (another worker's `ctl rate` or step):
 * a step that begins sets the group's cap, for every worker, as `ctl rate` does
 * (docs/scale.md#a-schedule-for-the-group). */
static void apply(struct engine *e, const char *why)
{
    int64_t rate = sched_eval(&e->sched, e->sched_pts, e->nsched,
                              engine_cap_local_second_of_week(), e->s->rate);

    if (e->group != NULL) {
        if (e->sched.step == e->group_sched_step)
            return;
        e->group_sched_step = e->sched.step;
        group_redis_set_rate(e->group, rate);
    }
    engine_cap_apply_rate(e, rate, e->s->burst, why);
}

void engine_sched_group_start(struct engine *e)
{
    /* The step in force at the start is not a step that begins: the group's cap stands (this
     * worker's step rate is only the cap of a group that has none yet). */
    e->group_sched_step = e->sched.step;
}

void engine_sched_init(struct engine *e)
{
    const struct settings *s = e->s;

    e->nsched = s->nschedule;
    if (s->nschedule > 0) {
        e->sched_pts = xmalloc(s->nschedule * sizeof *e->sched_pts);
        memcpy(e->sched_pts, s->schedule, s->nschedule * sizeof *e->sched_pts);
        apply(e, NULL);
    } else {
        engine_cap_apply_rate(e, s->rate, s->burst, NULL);
    }
}

void engine_sched_free(struct engine *e)
{
    free(e->sched_pts);
    e->sched_pts = NULL;
    e->nsched = 0;
}

void engine_sched_tick(struct engine *e)
{
    struct sbuf why = { 0 };
    int before = e->sched.step, sow, step;

    if (e->nsched == 0)
        return;
    sow = engine_cap_local_second_of_week();
    step = sched_step_at(e->sched_pts, e->nsched, sow);
    /* A step that begins says so with the cap it brings (the status line). */
    if (before >= 0 && step != before && step >= 0) {
        sbuf_addstr(&why, "schedule: ");
        opts_format_step(&e->sched_pts[step], &why);
    }
    apply(e, why.len > 0 ? why.s : NULL);
    sbuf_free(&why);
}

const struct sched_point *engine_schedule(const struct engine *e, size_t *n)
{
    *n = e->nsched;
    return e->sched_pts;
}

void engine_set_schedule(struct engine *e, const struct sched_point *p, size_t n)
{
    struct sbuf why = { 0 };

    free(e->sched_pts);
    e->sched_pts = NULL;
    e->nsched = n;
    if (n > 0) {
        e->sched_pts = xmalloc(n * sizeof *p);
        memcpy(e->sched_pts, p, n * sizeof *p);
    }
    /* A live change was made against the old timetable; the new one's step takes over. */
    sched_state_init(&e->sched);
    e->rate_live = false;
    /* ... and is not resumed by the next run of this pass either (main.c, restore_settings). */
    queue_setting_del(e->q, "rate");
    queue_setting_del(e->q, "burst");
    queue_setting_del(e->q, "rate_until");
    sbuf_addstr(&why, "schedule replaced");
    if (n > 0) {
        apply(e, why.s);
    } else {
        if (e->group != NULL)
            group_redis_set_rate(e->group, e->s->rate);      /* the group's, as a step's */
        engine_cap_apply_rate(e, e->s->rate, e->s->burst, why.s);
    }
    sbuf_free(&why);
}

void engine_sched_view(struct engine *e, struct engine_sched_view *v)
{
    int sow;

    memset(v, 0, sizeof *v);
    v->step = v->next = -1;
    v->next_in_s = -1;
    v->then_rate = -1;
    v->nsteps = e->nsched;
    if (e->nsched == 0) {
        /* A cap group's cap is the group's, whoever set it (docs/scale.md#the-shared-cap). */
        v->source = e->group != NULL ? CAP_FROM_GROUP : e->rate_live ? CAP_FROM_LIVE :
                    CAP_FROM_SETTINGS;
        return;
    }
    sow = engine_cap_local_second_of_week();
    /* In a group the steps set the group's cap, but between them any worker may change it. */
    v->source = e->group != NULL ? CAP_FROM_GROUP : e->sched.override ? CAP_FROM_LIVE :
                CAP_FROM_SCHEDULE;
    v->step = sched_step_at(e->sched_pts, e->nsched, sow);
    v->next = sched_next_step(e->sched_pts, e->nsched, sow);
    v->next_in_s = sched_secs_to_next(e->sched_pts, e->nsched, sow);
    v->next_at_ms = wall_ms() + v->next_in_s * 1000;
    if (v->step >= 0)
        v->cur = e->sched_pts[v->step];
    if (v->next >= 0) {
        v->nxt = e->sched_pts[v->next];
        v->then_rate = v->nxt.rate;
    }
}
