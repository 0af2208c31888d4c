/* The live controls of engine.h (the TUI, the control socket): rate, concurrency, pause and
 * resume, requeue, add and remove, and the snapshots front ends read. */
#include "engine.h"
#include "engine_cap.h"
#include "engine_impl.h"
#include "engine_seg.h"
#include "engine_transfer.h"
#include "fsout.h"
#include "group.h"
#include "group_redis.h"
#include "intake.h"
#include "item.h"
#include "meter.h"
#include "queue.h"
#include "sched.h"
#include "util.h"
#include "xfer.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct active *find_active(struct engine *e, uint64_t id)
{
    for (struct active *a = e->actives; a != NULL; a = a->next)
        if (xfer_item(a->x)->id == id)
            return a;
    return NULL;
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
    int64_t now = mono_ms();

    memset(st, 0, sizeof *st);
    engine_sched_view(e, &st->sched);
    st->total = queue_total(e->q);
    st->queued = queue_count(e->q, ITEM_QUEUED);
    st->active = queue_count(e->q, ITEM_ACTIVE);
    st->retrying = queue_count(e->q, ITEM_RETRY);
    st->paused = queue_count(e->q, ITEM_PAUSED);
    st->done = queue_count(e->q, ITEM_DONE);
    st->unchanged = queue_count(e->q, ITEM_UNCHANGED);
    st->failed = queue_count(e->q, ITEM_FAILED);
    st->concurrency = e->concurrency;
    st->transfers = e->transfers;
    st->finishing = e->finishing;
    st->rate = meter_rate(&e->meter, now, 2000);
    st->cap = e->rate;
    st->bytes = e->bytes;
    engine_account(e, now);
    st->elapsed_ms = e->busy_ms;
    st->disk_full = e->disk_full_until != 0 || e->disk_probing;
    st->session_error = queue_error(e->q);
    if (st->session_error == NULL)
        st->session_error = queue_session_gone(e->q);
    st->paused_all = e->paused_all;
    st->shard = e->s->shard;
    if (e->group != NULL) {
        st->group_workers = e->group_workers;
        st->group_up = e->group_up;
        st->group_calls = e->group_calls;
        st->local_cap = e->group_up ? 0 : group_fallback_rate(e->rate, e->group_workers);
    }
    /* Sizes known from started items; the others at the mean size of what finished this run
     * (meter.h, meter_eta; paused items are not counted: they do not move until resumed). */
    {
        struct meter_eta est = { .finished = e->fin_items, .finished_bytes = e->fin_bytes,
                                 .active_ms = st->elapsed_ms, .cap = e->rate };

        est.unknown_items = (int64_t)(st->queued + st->retrying);
        for (struct active *a = e->actives; a != NULL; a = a->next) {
            const struct item *it = xfer_item(a->x);
            int64_t have = xfer_offset(a->x) + xfer_bytes(a->x);

            if (it->segs != NULL)
                continue;            /* counted once below, not once per range */
            if (it->size >= 0) {
                est.known_left += it->size > have ? it->size - have : 0;
                st->eta_known_items++;
            } else {
                est.unknown_items++;
            }
        }
        for (size_t i = 0; i < e->nsegitems; i++) {
            const struct item *it = e->segitems[i];
            int64_t have, rate;
            int conns;

            if (it->segs == NULL)
                continue;
            engine_seg_progress(e, it, &have, &rate, &conns);
            est.known_left += it->size > have ? it->size - have : 0;
            st->eta_known_items++;
        }
        meter_eta(&e->meter, now, &est);
        st->eta_ms = est.eta_ms;
        st->eta_known_left = est.known_left;
        st->eta_unknown_items = est.unknown_items;
        st->eta_mean = est.mean;
        st->eta_finished = est.finished;
        st->eta_rate = est.rate;
        st->eta_capped = est.capped != 0;
    }
}

void engine_set_rate(struct engine *e, int64_t rate, int64_t burst)
{
    int64_t until = 0;

    if (rate < 0)
        rate = 0;
    if (e->nsched > 0) {
        int sow = engine_cap_local_second_of_week();
        int next = sched_secs_to_next(e->sched_pts, e->nsched, sow);

        sched_override(&e->sched, e->sched_pts, e->nsched, sow, rate);
        if (next > 0)
            until = wall_ms() + (int64_t)next * 1000;
    }
    e->rate_live = true;
    engine_cap_apply_rate(e, rate, burst, NULL);
    if (e->group != NULL) {
        /* The group's cap, for every worker (docs/scale.md#the-shared-cap). */
        group_redis_set_rate(e->group, rate);
        engine_cap_group_sync(e);
    }
    queue_setting_set(e->q, "rate", rate);
    queue_setting_set(e->q, "burst", burst);
    queue_setting_set(e->q, "rate_until", until);
}

int64_t engine_rate(const struct engine *e)
{
    return e->rate;
}

void engine_set_concurrency(struct engine *e, int n)
{
    if (n < 1)
        n = 1;
    if (n > 1024)
        n = 1024;
    if (n == e->concurrency)
        return;
    e->concurrency = n;
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(n * 2 + 4));
    /* The newest transfers have the least to lose: park them first. */
    while (e->transfers > n && e->actives != NULL)
        engine_transfer_park(e, e->actives, ITEM_QUEUED);
    queue_setting_set(e->q, "concurrency", n);
    engine_emit_value(e, EV_CONCURRENCY, n, NULL);
    engine_kick(e);
}

int engine_concurrency(const struct engine *e)
{
    return e->concurrency;
}

/* ---- pausing: pause all and resume all act only on what pause all paused ---- */

static struct paused *paused_find(struct engine *e, uint64_t id)
{
    for (size_t i = 0; i < e->npaused; i++)
        if (e->pausedv[i].id == id)
            return &e->pausedv[i];
    return NULL;
}

static void paused_note(struct engine *e, uint64_t id, bool by_all, bool parked)
{
    struct paused *p = paused_find(e, id);

    if (p == NULL) {
        if (e->npaused == e->pausedcap) {
            e->pausedcap = e->pausedcap ? e->pausedcap * 2 : 16;
            e->pausedv = xrealloc(e->pausedv, e->pausedcap * sizeof *e->pausedv);
        }
        p = &e->pausedv[e->npaused++];
    }
    p->id = id;
    p->by_all = by_all;
    p->parked = parked;
}

/* Forgets the item; true when its attempt was parked (to be given back as it resumes). */
static bool paused_forget(struct engine *e, uint64_t id)
{
    struct paused *p = paused_find(e, id);
    bool parked;

    if (p == NULL)
        return false;
    parked = p->parked;
    *p = e->pausedv[--e->npaused];
    return parked;
}

/* A running transfer stops with its .part and becomes paused. Its row keeps the attempt it was
 * in (TRY does not drop to the attempt before it); the attempt is given back on resume. */
static void pause_active(struct engine *e, struct active *a, bool by_all)
{
    struct item *it = xfer_item(a->x);
    uint64_t id = it->id;

    engine_transfer_park(e, a, ITEM_PAUSED);
    it = queue_get(e->q, id);
    if (it == NULL)
        return;
    it->attempts++;
    it->attempt_parked = true;
    queue_touch(e->q, it);
    paused_note(e, id, by_all, true);
}

/* A paused item back to the queue: a parked attempt is given back (starting counts it again). */
static void unpause(struct engine *e, struct item *it)
{
    if (paused_forget(e, it->id) && it->attempts > 0) {
        it->attempts--;
        queue_touch(e->q, it);
    }
    it->attempt_parked = false;
    queue_set_state(e->q, it, ITEM_QUEUED);
}

void engine_ctl_release_paused(struct engine *e)
{
    for (size_t i = 0; i < e->npaused; i++) {
        struct item *it;

        if (!e->pausedv[i].parked || (it = queue_get(e->q, e->pausedv[i].id)) == NULL)
            continue;
        if (it->state == ITEM_PAUSED && it->attempts > 0) {
            it->attempts--;
            it->attempt_parked = false;
            queue_touch(e->q, it);
        }
    }
    e->npaused = 0;
}

int engine_pause(struct engine *e, uint64_t id, char *err)
{
    struct item *it = queue_get(e->q, id);
    struct active *a;

    if (it == NULL)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (it->state == ITEM_ACTIVE && (a = find_active(e, id)) != NULL) {
        pause_active(e, a, false);
        if ((it = queue_get(e->q, id)) == NULL)
            return errf(err, "no item %llu", (unsigned long long)id);
    } else if (it->state == ITEM_QUEUED || it->state == ITEM_RETRY) {
        queue_set_state(e->q, it, ITEM_PAUSED);
        paused_note(e, id, false, false);
    } else if (it->state == ITEM_PAUSED) {
        struct paused *p = paused_find(e, id);

        if (p != NULL)
            p->by_all = false;   /* paused by hand now: resume all leaves it */
        return 0;
    } else {
        return errf(err, "item %llu is %s", (unsigned long long)id, item_state_name(it->state));
    }
    engine_emit_item(e, EV_PAUSED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

int engine_resume(struct engine *e, uint64_t id, char *err)
{
    struct item *it = queue_get(e->q, id);

    if (it == NULL)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (it->state != ITEM_PAUSED)
        return errf(err, "item %llu is %s, not paused", (unsigned long long)id,
                    item_state_name(it->state));
    unpause(e, it);
    engine_emit_item(e, EV_RESUMED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

/* Pause all stops the running transfers (paused, keeping their attempt) and starts nothing
 * new; queued items stay queued. Items paused one by one are not its to resume. */
void engine_pause_all(struct engine *e)
{
    if (e->paused_all)
        return;
    engine_account(e, mono_ms());
    e->paused_all = true;
    while (e->actives != NULL)
        pause_active(e, e->actives, true);
    engine_account(e, mono_ms());
    engine_emit_value(e, EV_PAUSED, 0, "all transfers paused");
}

void engine_resume_all(struct engine *e)
{
    size_t i = 0;

    engine_account(e, mono_ms());
    e->paused_all = false;
    e->disk_full_until = 0;          /* the operator says there is room again */
    while (i < e->npaused) {
        struct paused p = e->pausedv[i];
        struct item *it;

        if (!p.by_all) {
            i++;
            continue;
        }
        it = queue_get(e->q, p.id);
        if (it == NULL || it->state != ITEM_PAUSED) {
            paused_forget(e, p.id);
            continue;
        }
        unpause(e, it);          /* takes it off the list: i now holds another entry */
    }
    engine_emit_value(e, EV_RESUMED, 0, "all transfers resumed");
    engine_kick(e);
    engine_account(e, mono_ms());
}

bool engine_paused_all(const struct engine *e)
{
    return e->paused_all;
}

int engine_requeue(struct engine *e, uint64_t id, char *err)
{
    struct item *it = queue_get(e->q, id);

    if (it == NULL)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (it->state != ITEM_FAILED && it->state != ITEM_RETRY)
        return errf(err, "item %llu is %s", (unsigned long long)id, item_state_name(it->state));
    it->attempts = 0;
    item_set_error(it, NULL);
    queue_touch(e->q, it);
    queue_set_state(e->q, it, ITEM_QUEUED);
    engine_emit_item(e, EV_QUEUED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

long engine_requeue_failed(struct engine *e, char *err)
{
    return engine_requeue_failed_where(e, 0, NULL, err);
}

long engine_requeue_failed_where(struct engine *e, int status, const char *host, char *err)
{
    char *lower = host != NULL ? xstrdup(host) : NULL;
    long n;

    /* Hosts are kept lower-cased (item.h). */
    for (char *p = lower; p != NULL && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    n = status == 0 && lower == NULL ? queue_requeue_failed(e->q)
                                     : queue_requeue_failed_where(e->q, status, lower);
    free(lower);

    if (n < 0) {
        const char *why = queue_error(e->q);

        return errf(err, "cannot requeue: %s", why != NULL ? why : "the session cannot be written");
    }
    if (n > 0) {
        char msg[64];

        snprintf(msg, sizeof msg, "%ld failed item%s requeued", n, n == 1 ? "" : "s");
        engine_emit_value(e, EV_QUEUED, (int64_t)n, msg);
    }
    engine_kick(e);
    return n;
}

int engine_add_url(struct engine *e, const char *url, const char *out, uint64_t *id, char *err)
{
    /* The intake's mapping and checks, as for the input (README.md#input-lists). */
    struct item *it = intake_add(e->s, e->q, url, out, err);

    if (it == NULL)
        return -1;
    if (id != NULL)
        *id = it->id;
    engine_emit_item(e, EV_QUEUED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

int engine_remove(struct engine *e, uint64_t id, char *err)
{
    struct item *it = queue_get(e->q, id);
    struct active *a;

    if (it == NULL)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (it->state == ITEM_ACTIVE) {
        a = find_active(e, id);
        if (a == NULL)
            return errf(err, "item %llu is being finished; try again in a moment",
                        (unsigned long long)id);
        engine_transfer_park(e, a, ITEM_PAUSED);
        it = queue_get(e->q, id);
        if (it == NULL)
            return errf(err, "no item %llu", (unsigned long long)id);
    }
    paused_forget(e, id);
    /* Its partial file goes with it; a finished file stays (removing an item is not deleting). */
    if (it->state != ITEM_DONE && it->state != ITEM_UNCHANGED)
        (void)fsout_unlink_part(e->rootfd, it->path);
    xfer_reset_hash(it);
    if (queue_remove(e->q, it, err) < 0)
        return -1;
    /* The pointer stays valid until control returns to the loop: the log still names it. */
    engine_emit_item(e, EV_REMOVED, it, 0, NULL, 0);
    return 0;
}

bool engine_xfer_view(struct engine *e, uint64_t id, struct engine_xfer_view *v)
{
    struct active *a = find_active(e, id);

    if (a == NULL)
        return false;
    if (xfer_item(a->x)->segs != NULL) {
        int conns;

        engine_seg_progress(e, xfer_item(a->x), &v->bytes, &v->rate, &conns);
        v->size = xfer_item(a->x)->size;
        v->throttled = a->throttled;
        v->conns = conns;
        return true;
    }
    v->conns = 1;
    v->bytes = xfer_offset(a->x) + xfer_bytes(a->x);
    v->size = xfer_item(a->x)->size;
    v->rate = a->rate;
    v->throttled = a->throttled;
    return true;
}

int engine_ranges_view(struct engine *e, uint64_t id, struct engine_range_view *out, int max)
{
    struct item *it = queue_get(e->q, id);

    if (it == NULL || it->state != ITEM_ACTIVE || it->segs == NULL)
        return 0;
    return engine_seg_ranges(e, it, out, max);
}

void engine_rate_series(struct engine *e, int64_t *out, int n)
{
    meter_series(&e->meter, mono_ms(), out, n);
}
