/* The multi handle on the event loop (docs/examples/ephiperfifo.c pattern): curl tells us which
 * sockets to watch and when to call it back; we never call curl_multi_* from inside a libcurl
 * callback. Admission is ours: libcurl's connection limits only count connections, and queued
 * handles inside libcurl would burn their timeouts.
 *
 * This file: the engine's lifecycle, the libcurl glue, the timers and the listeners. A transfer's
 * life is in engine_transfer.c, the cap in engine_cap.c, the live controls in engine_ctl.c and
 * the per-host limits in hosts.c. */
#include "engine.h"
#include "engine_cap.h"
#include "engine_impl.h"
#include "engine_seg.h"
#include "engine_transfer.h"
#include "group.h"
#include "group_redis.h"
#include "hosts.h"
#include "loop.h"
#include "meter.h"
#include "queue.h"
#include "retry.h"
#include "sched.h"
#include "socktab.h"
#include "store.h"
#include "syncer.h"
#include "units.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS 250
/* While segmented downloads run, their ranges are recorded this often: a kill -9 re-fetches what
 * each connection received since the last record, and a file in ranges has many connections
 * (docs/design.md#segmented-downloads). A few rows per file: a commit costs microseconds. */
#define SEG_CKPT_MS 25

/* ---- events ---- */

static void emit(struct engine *e, const struct engine_event *ev)
{
    for (int i = 0; i < e->nlisteners; i++)
        e->listeners[i].cb(ev, e->listeners[i].arg);
}

void engine_emit_item(struct engine *e, enum engine_event_kind kind, const struct item *it,
                      int64_t bytes, const char *error, int64_t value)
{
    struct engine_event ev = {
        .kind = kind, .item = it, .bytes = bytes, .duration_ms = it->duration_ms,
        /* Attempts are counted when they end: a start's own attempt is not in it->attempts. */
        .retry_count = kind == EV_START ? it->attempts : it->attempts > 0 ? it->attempts - 1 : 0,
        .http_status = it->http_status,
        .error = error, .value = value,
    };

    /* The ETA's mean size of the finished items (meter.h, meter_eta). */
    if (kind == EV_DONE || kind == EV_UNCHANGED) {
        e->fin_items++;
        e->fin_bytes += it->size >= 0 ? it->size : it->received;
    }
    engine_hosts_event(e, &ev);
    emit(e, &ev);
}

void engine_emit_value(struct engine *e, enum engine_event_kind kind, int64_t value,
                       const char *msg)
{
    struct engine_event ev = { .kind = kind, .value = value, .error = msg };

    emit(e, &ev);
}

/* Admission by host, asked by queue_next for each candidate. */
static bool host_ok(const char *name, void *arg)
{
    return engine_rps_admit(arg, name);
}

/* ---- libcurl glue ---- */

static void check_done(struct engine *e);

static void on_socket_event(int fd, unsigned events, void *arg)
{
    struct engine *e = arg;
    int flags = 0, running;

    if (events & LOOP_READ)
        flags |= CURL_CSELECT_IN;
    if (events & LOOP_WRITE)
        flags |= CURL_CSELECT_OUT;
    if (events & LOOP_ERROR)
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(e->multi, fd, flags, &running);
    check_done(e);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct engine *e = userp;

    switch (what) {
    case CURL_POLL_IN:
        loop_watch(e->loop, s, LOOP_READ, on_socket_event, e);
        break;
    case CURL_POLL_OUT:
        loop_watch(e->loop, s, LOOP_WRITE, on_socket_event, e);
        break;
    case CURL_POLL_INOUT:
        loop_watch(e->loop, s, LOOP_READ | LOOP_WRITE, on_socket_event, e);
        break;
    case CURL_POLL_REMOVE:
        loop_unwatch(e->loop, s);
        break;
    }
    return 0;
}

static void on_curl_timer(void *arg)
{
    struct engine *e = arg;
    int running;

    curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(e);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct engine *e = userp;

    /* Arm only: calling socket_action from here would re-enter libcurl. */
    loop_timer_arm(e->curl_timer, timeout_ms < 0 ? -1 : timeout_ms);
    return 0;
}

static void check_done(struct engine *e)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        struct xfer *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x != NULL)
            engine_transfer_finished(e, xfer_user(x), m->data.result);
    }
    engine_kick(e);
}

/* ---- timers ---- */

/* A session write that failed stays pending and every flush tries it again; the operator hears
 * of it once when it starts failing and once when it is written again (the status line shows it
 * meanwhile, and the exit status says so if it never is). */
static void session_health(struct engine *e)
{
    const char *why;
    char err[ERRLEN], m[ERRLEN + 160];
    int rc;

    /* The session file deleted or replaced under the run (docs/design.md#session): put back
     * from the open connection, said once; said again only when it could not be at once. */
    rc = queue_session_check(e->q, err);
    if (rc == 1 || (rc == 0 && e->session_gone)) {
        const char *path = store_path(queue_store(e->q));

        if (!e->session_gone)
            snprintf(m, sizeof m, "session %s was deleted or replaced while running: put back "
                     "from the run's open copy, nothing lost", path);
        else
            snprintf(m, sizeof m, "session %s is back at its path", path);
        e->session_gone = false;
        engine_emit_value(e, EV_MESSAGE, 0, m);
    } else if (rc != 0 && !e->session_gone) {
        e->session_gone = true;
        if (rc == 2)
            snprintf(m, sizeof m, "session %s was deleted or replaced while running: it is put "
                     "back once the input is stored", store_path(queue_store(e->q)));
        else
            snprintf(m, sizeof m, "session %s was deleted or replaced while running and cannot "
                     "be put back (retrying): %s", store_path(queue_store(e->q)), err);
        engine_emit_value(e, EV_MESSAGE, 0, m);
    }
    why = queue_error(e->q);

    if (why != NULL && !e->session_failing) {
        e->session_failing = true;
        snprintf(m, sizeof m, "cannot write the session (retrying every %d ms): %s", TICK_MS, why);
        engine_emit_value(e, EV_MESSAGE, 0, m);
    } else if (why == NULL && e->session_failing) {
        e->session_failing = false;
        engine_emit_value(e, EV_MESSAGE, 0, "the session is written again");
    }
}

static void on_seg_ckpt(void *arg)
{
    struct engine *e = arg;

    if (e->nsegitems == 0)
        return;          /* armed again when a segmented download starts (engine_kick) */
    loop_timer_arm(e->seg_timer, SEG_CKPT_MS);
    for (struct active *a = e->actives; a != NULL; a = a->next)
        if (xfer_is_range(a->x) && xfer_checkpoint(a->x))
            engine_seg_checkpoint(e, a);
    queue_flush(e->q);
}

static void on_due(void *arg)
{
    struct engine *e = arg;

    queue_promote_due(e->q, loop_now(e->loop));
    engine_transfer_schedule_due(e);
    engine_kick(e);
}

/* Elapsed time is the time the run had work going: not the time a finished run's TUI stays
 * open, nor the time everything was paused (docs/design.md#headless-mode-and-the-log). Brought
 * up to date on each tick and each snapshot, so a change is counted within a tick. */
void engine_account(struct engine *e, int64_t now)
{
    bool busy = !engine_idle(e) && !e->paused_all;

    if (e->busy_since >= 0 && now > e->busy_since)
        e->busy_ms += now - e->busy_since;
    e->busy_since = busy ? now : -1;
}

static void on_tick(void *arg)
{
    struct engine *e = arg;
    int64_t now = loop_now(e->loop);
    int64_t dt = now - e->last_tick_ms;
    struct active *a, *next;

    loop_timer_arm(e->tick_timer, TICK_MS);
    e->last_tick_ms = now;
    engine_account(e, now);
    /* Every tick: progress and state reach the session within a quarter of a second, so a
     * kill -9 costs little re-fetching (a flush of a few rows takes well under a millisecond). */
    if (now - e->last_flush_ms >= TICK_MS) {
        e->last_flush_ms = now;
        /* Progress of running transfers reaches the session too: after a kill -9 the .part
         * resumes from what was recorded (anything beyond it is cut back and fetched again). */
        for (a = e->actives; a != NULL; a = a->next) {
            if (!xfer_checkpoint(a->x))
                continue;
            if (xfer_is_range(a->x))
                engine_seg_checkpoint(e, a);
            else
                queue_touch(e->q, xfer_item(a->x));
        }
        queue_flush(e->q);
        session_health(e);
    }
    engine_sched_tick(e);
    engine_cap_group_sync(e);       /* an idle worker follows the group's cap too */
    engine_rps_tick(e);
    engine_cap_retune(e);
    if (e->disk_full_until != 0 && now >= e->disk_full_until)
        engine_transfer_disk_recheck(e);
    for (a = e->actives; a != NULL; a = next) {
        struct xfer *x = a->x;
        int64_t b = xfer_bytes(x);

        next = a->next;
        if (dt > 0)
            a->rate = (a->rate + (b - a->last_bytes) * 1000 / dt) / 2;
        a->last_bytes = b;
        /* Our own stall detector: libcurl's low-speed check misfires with pausing
         * (docs/design.md#low-speed-check-and-timeouts). Time spent waiting for a turn under the
         * cap does not count. */
        if (e->s->stall_ms <= 0 || a->throttled || a->diskwait) {
            a->win_start_ms = 0;
            continue;
        }
        if (a->win_start_ms == 0) {
            a->win_start_ms = now;
            a->win_bytes = b;
        }
        {
            char msg[ERRLEN];

            msg[0] = '\0';
            if (now - xfer_last_rx_ms(x) > e->s->stall_ms) {
                snprintf(msg, sizeof msg, "stalled: nothing received for %llds",
                         (long long)(e->s->stall_ms / 1000));
            } else if (e->s->min_rate > 0 && now - a->win_start_ms >= e->s->stall_ms) {
                /* Silence alone misses a trickle (a byte every few seconds holds a slot for
                 * ever): the bytes of each window are counted too, as curl's --speed-limit. */
                int64_t got = b - a->win_bytes, span = now - a->win_start_ms;

                if (got * 1000 < e->s->min_rate * span) {
                    char r1[32], r2[32];

                    snprintf(msg, sizeof msg, "too slow: %s over %llds, under --min-rate %s",
                             units_fmt_rate(got * 1000 / span, r1, sizeof r1),
                             (long long)(span / 1000), units_fmt_rate(e->s->min_rate, r2, sizeof r2));
                } else {
                    a->win_start_ms = now;
                    a->win_bytes = b;
                }
            }
            if (msg[0] != '\0' && xfer_is_range(x)) {
                /* The range alone is fetched again; its siblings go on. */
                engine_seg_finished(e, a, CURLE_OPERATION_TIMEDOUT, msg);
            } else if (msg[0] != '\0') {
                char vmsg[ERRLEN];
                struct retry_facts f;

                (void)xfer_verdict(x, CURLE_OPERATION_TIMEDOUT, vmsg, &f);
                /* A local failure the ended stream reports (a full disk) is the better reason. */
                if (f.err == 0)
                    f.cause = RETRY_CAUSE_STALL;
                engine_transfer_judge(e, a, xfer_item(x), &f, f.err == 0 ? msg : vmsg, b);
            }
        }
    }
    engine_kick(e);
}

/* ---- API ---- */

static void update_eager(struct engine *e)
{
    /* With nothing running, no more files are about to finish: the last ones are not held
     * back to be gathered into a bigger batch. */
    bool eager = e->transfers == 0;

    if (eager != e->syncer_eager) {
        e->syncer_eager = eager;
        syncer_set_eager(e->syncer, eager);
    }
}

void engine_kick(struct engine *e)
{
    struct item *it;
    int64_t budget = -1;
    bool drained = false;

    /* Transfers whose unpause failed (engine_cap.c): libcurl will not report them. */
    while (e->nstuck > 0) {
        struct active *a = e->actives;

        while (a != NULL && a->stuck == CURLE_OK)
            a = a->next;
        if (a == NULL) {
            e->nstuck = 0;
            break;
        }
        {
            CURLcode rc = a->stuck;

            a->stuck = CURLE_OK;
            e->nstuck--;
            engine_transfer_finished(e, a, rc);
        }
    }
    if (e->nsegitems > 0 && !loop_timer_armed(e->seg_timer))
        loop_timer_arm(e->seg_timer, SEG_CKPT_MS);
    /* The hosts that wait for a request token or a hold in this turn (engine_rps.c): once the
     * turn is over, one timer wakes the loop when the first of them may go. */
    if (!e->in_kick)
        engine_rps_begin(e);
    /* Idle ranges of the files already running take free slots before new files. */
    if (!e->in_kick && e->nsegitems > 0) {
        e->in_kick = true;
        engine_seg_fill(e, false);
        e->in_kick = false;
    }
    if (!e->stopping && !e->in_kick && e->disk_full_until == 0 && !e->paused_all &&
        !(e->disk_probing && e->probe_id != 0)) {
        e->in_kick = true;
        while (e->transfers + e->preparing < e->concurrency) {
            /* Asked only once a slot is free, and then at most every few ms (engine_transfer.c):
             * no transfer starts that the free space cannot begin to hold. */
            if (budget < 0 && (budget = engine_transfer_disk_budget(e)) <= 0)
                break;   /* full (it waits), or the free space is spoken for until the next look */
            if ((it = queue_next(e->q, host_ok, e)) == NULL) {
                drained = true;
                break;
            }
            budget -= engine_transfer_disk_estimate(e, it);
            if (budget <= 0)
                budget = 0;
            engine_transfer_start(e, it);
            if (e->disk_probing) {
                e->probe_id = it->id;    /* one at a time until a file is committed */
                break;
            }
            if (budget == 0)
                break;
        }
        /* Nothing else can start: the slots left over go to the running segmented files,
         * whose largest ranges are cut for them (work stealing). */
        if (drained && e->nsegitems > 0)
            engine_seg_fill(e, true);
        e->in_kick = false;
    }
    if (!e->in_kick)
        engine_rps_end(e);
    /* Shares follow the number of transfers running: theirs shrink to make room for new ones,
     * and grow (windows too) as soon as one ends, not at the next tick. */
    if (e->transfers != e->tuned_for) {
        e->tuned_for = e->transfers;
        engine_cap_retune(e);
    }
    update_eager(e);
}

/* --cap-group (docs/scale.md#the-shared-cap). Until Redis first answers, the worker keeps to
 * its -r over the shards of the list (a good guess at how many workers share the cap). */
static int start_group(struct engine *e, char *err)
{
    const struct settings *s = e->s;
    struct group_url u;

    if (group_parse_url(s->cap_group, &u, err) < 0)
        return -1;
    if (s->rate <= 0 && s->nschedule == 0)
        return errf(err, "--cap-group needs a cap (-r RATE or --schedule): the group's cap when "
                    "the group has none yet, and what this worker keeps to while Redis cannot be "
                    "reached");
    snprintf(e->group_name, sizeof e->group_name, "%s", u.name);
    e->group_workers = s->shard.n > 1 ? (int)s->shard.n : 1;
    /* With a schedule, the step in force now (engine_sched_init) is the cap a new group takes. */
    e->group = group_redis_start(&u, e->rate, e->group_workers, err);
    if (e->group == NULL)
        return -1;
    engine_sched_group_start(e);
    engine_rps_group_start(e);
    engine_cap_group_sync(e);
    return 0;
}

struct engine *engine_new(struct loop *loop, const struct settings *s, struct queue *q, int rootfd,
                          char *err)
{
    struct engine *e = xcalloc(1, sizeof *e);

    item_hash_free = xfer_hash_free;
    e->loop = loop;
    e->s = s;
    e->q = q;
    e->rootfd = rootfd;
    e->concurrency = s->concurrency;
    e->hosts = hosts_new();
    e->start_ms = e->last_tick_ms = e->busy_since = mono_ms();
    e->free_bytes = -1;
    e->rng = (uint64_t)wall_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
    if (e->rng == 0)
        e->rng = 1;
    meter_init(&e->meter, e->start_ms);
    sched_state_init(&e->sched);

    e->multi = curl_multi_init();
    e->share = curl_share_init();
    if (e->multi == NULL || e->share == NULL) {
        errf(err, "cannot initialise libcurl");
        engine_free(e);
        return NULL;
    }
    curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    /* Idle connections are kept for the next items; the cache must hold at least one per slot. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(s->concurrency * 2 + 4));

    e->env.settings = s;
    e->env.rootfd = rootfd;
    e->env.may_receive = engine_cap_may_receive;
    e->env.received = engine_cap_received;
    e->env.segmented = engine_seg_on_lead;
    e->env.arg = e;
    e->env.curl_share = e->share;
    e->socks = socktab_new();
    e->env.socks = e->socks;

    e->curl_timer = loop_timer_new(loop, on_curl_timer, e);
    e->tick_timer = loop_timer_new(loop, on_tick, e);
    e->due_timer = loop_timer_new(loop, on_due, e);
    e->refill_timer = loop_timer_new(loop, engine_cap_on_refill, e);
    e->seg_timer = loop_timer_new(loop, on_seg_ckpt, e);
    loop_timer_arm(e->tick_timer, TICK_MS);
    engine_rps_init(e);
    e->syncer = syncer_new(loop, 2, engine_transfer_on_worker_done, e);
    e->writer = writer_new(loop, e->syncer, 2, engine_cap_on_disk_ready, e);
    e->env.writer = e->writer;

    engine_sched_init(e);
    if (s->cap_group != NULL && start_group(e, err) < 0) {
        engine_free(e);
        return NULL;
    }
    return e;
}

void engine_start(struct engine *e)
{
    engine_emit_value(e, EV_RATE, e->rate, NULL);
    engine_emit_value(e, EV_CONCURRENCY, e->concurrency, NULL);
    engine_kick(e);
}

void engine_add_listener(struct engine *e, engine_listener cb, void *arg)
{
    /* No fixed limit: a listener dropped here would miss events without anyone knowing. */
    e->listeners = xrealloc(e->listeners, (size_t)(e->nlisteners + 1) * sizeof *e->listeners);
    e->listeners[e->nlisteners].cb = cb;
    e->listeners[e->nlisteners].arg = arg;
    e->nlisteners++;
}

void engine_remove_listener(struct engine *e, engine_listener cb, void *arg)
{
    for (int i = 0; i < e->nlisteners; i++) {
        if (e->listeners[i].cb == cb && e->listeners[i].arg == arg) {
            memmove(&e->listeners[i], &e->listeners[i + 1],
                    (size_t)(e->nlisteners - i - 1) * sizeof e->listeners[0]);
            e->nlisteners--;
            return;
        }
    }
}

bool engine_idle(const struct engine *e)
{
    return e->transfers == 0 && e->finishing == 0 && e->preparing == 0 && e->following == 0 &&
           queue_count(e->q, ITEM_QUEUED) == 0 && queue_count(e->q, ITEM_RETRY) == 0 &&
           e->disk_full_until == 0 && !e->paused_all;
}

void engine_stop(struct engine *e)
{
    e->stopping = true;
    while (e->actives != NULL)
        engine_transfer_park(e, e->actives, ITEM_QUEUED);
    engine_ctl_release_paused(e);
    if (e->writer != NULL)
        writer_kick(e->writer);     /* commits queued this turn: the drain waits for them */
    if (e->syncer != NULL)
        syncer_drain(e->syncer);
    queue_flush(e->q);
}

void engine_free(struct engine *e)
{
    if (e == NULL)
        return;
    if (e->multi != NULL)
        engine_stop(e);
    group_redis_free(e->group);     /* leaves the group at once: the others count without us */
    writer_free(e->writer);
    syncer_free(e->syncer);
    for (size_t i = 0; i < e->npool; i++)
        curl_easy_cleanup(e->pool[i]);
    free(e->pool);
    if (e->multi != NULL)
        curl_multi_cleanup(e->multi);
    if (e->share != NULL)
        curl_share_cleanup(e->share);
    socktab_free(e->socks);     /* after the multi handle: closing its connections uses it */
    loop_timer_free(e->curl_timer);
    engine_rps_free(e);
    loop_timer_free(e->tick_timer);
    loop_timer_free(e->due_timer);
    loop_timer_free(e->refill_timer);
    loop_timer_free(e->seg_timer);
    hosts_free(e->hosts);
    engine_sched_free(e);
    engine_hosts_free(e);
    free(e->listeners);
    free(e->pausedv);
    free(e->segitems);
    free(e);
}

