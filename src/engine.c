/* The multi handle on the event loop (docs/examples/ephiperfifo.c pattern): curl tells us which
 * sockets to watch and when to call it back; we never call curl_multi_* from inside a libcurl
 * callback. Admission is ours: libcurl's connection limits only count connections, and queued
 * handles inside libcurl would burn their timeouts. */
#include "engine.h"
#include "backoff.h"
#include "fsout.h"
#include "hmap.h"
#include "loop.h"
#include "meter.h"
#include "queue.h"
#include "syncer.h"
#include "util.h"
#include "xfer.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LISTENERS 4
#define TICK_MS 250
#define DISK_FULL_RETRY_MS 10000

struct host {
    int active;
};

struct active {
    struct xfer *x;
    struct active *next, *prev;
};

struct engine {
    struct loop *loop;
    const struct settings *s;
    struct queue *q;
    int rootfd;
    CURLM *multi;
    CURLSH *share;
    struct xfer_env env;
    struct loop_timer *curl_timer, *tick_timer, *due_timer;
    struct syncer *syncer;
    struct hmap *hosts;
    struct host **hostv;
    size_t nhosts;
    struct active *actives;      /* transfers on the wire */
    int transfers;
    int finishing;
    int concurrency;
    CURL **pool;                 /* easy handles kept for reuse */
    size_t npool;
    struct meter meter;
    int64_t bytes;
    int64_t start_ms;
    int64_t disk_full_until;
    int64_t last_flush_ms;     /* monotonic ms, 0 = not full */
    uint64_t rng;
    bool stopping;
    bool in_kick;
    struct { engine_listener cb; void *arg; } listeners[MAX_LISTENERS];
    int nlisteners;
};

static void emit(struct engine *e, const struct engine_event *ev)
{
    for (int i = 0; i < e->nlisteners; i++)
        e->listeners[i].cb(ev, e->listeners[i].arg);
}

static void emit_item(struct engine *e, enum engine_event_kind kind, const struct item *it,
                      int64_t bytes, const char *error, int64_t value)
{
    struct engine_event ev = {
        .kind = kind, .item = it, .bytes = bytes, .duration_ms = it->duration_ms,
        .retry_count = it->attempts > 0 ? it->attempts - 1 : 0, .http_status = it->http_status,
        .error = error, .value = value,
    };

    emit(e, &ev);
}

static struct host *host_get(struct engine *e, const char *name)
{
    struct host *h = hmap_get(e->hosts, name);

    if (h == NULL) {
        h = xcalloc(1, sizeof *h);
        hmap_put(e->hosts, name, h);
        e->hostv = xrealloc(e->hostv, (e->nhosts + 1) * sizeof *e->hostv);
        e->hostv[e->nhosts++] = h;
    }
    return h;
}

static int host_limit(const struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->s->nhosts; i++)
        if (e->s->hosts[i].per_host > 0 && strcmp(e->s->hosts[i].host, name) == 0)
            return e->s->hosts[i].per_host;
    return e->s->per_host;
}

static bool host_ok(const char *name, void *arg)
{
    struct engine *e = arg;
    int limit = host_limit(e, name);

    return limit <= 0 || host_get(e, name)->active < limit;
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

static void received(void *arg, struct xfer *x, size_t n)
{
    struct engine *e = arg;

    e->bytes += (int64_t)n;
    meter_add(&e->meter, (int64_t)n, mono_ms());
}

/* ---- transfers ---- */

static void start(struct engine *e, struct item *it)
{
    CURL *easy = e->npool > 0 ? e->pool[--e->npool] : curl_easy_init();
    struct active *a;

    if (easy == NULL)
        fatal("curl_easy_init failed");
    queue_set_state(e->q, it, ITEM_ACTIVE);
    it->attempts++;
    queue_touch(e->q, it);
    a = xcalloc(1, sizeof *a);
    a->x = xfer_new(&e->env, it, easy, loop_now(e->loop));
    a->next = e->actives;
    if (e->actives != NULL)
        e->actives->prev = a;
    e->actives = a;
    e->transfers++;
    host_get(e, it->host)->active++;
    emit_item(e, EV_START, it, 0, NULL, 0);
    if (curl_multi_add_handle(e->multi, easy) != CURLM_OK)
        fatal("curl_multi_add_handle failed");
}

static struct active *find_active(struct engine *e, struct xfer *x)
{
    for (struct active *a = e->actives; a != NULL; a = a->next)
        if (a->x == x)
            return a;
    return NULL;
}

/* Detaches a transfer from libcurl and the slot counts; returns its easy handle to the pool. */
static void release(struct engine *e, struct xfer *x)
{
    struct active *a = find_active(e, x);
    struct item *it = xfer_item(x);
    CURL *easy;

    curl_multi_remove_handle(e->multi, xfer_easy(x));
    if (a != NULL) {
        if (a->prev != NULL)
            a->prev->next = a->next;
        else
            e->actives = a->next;
        if (a->next != NULL)
            a->next->prev = a->prev;
        free(a);
    }
    e->transfers--;
    host_get(e, it->host)->active--;
    easy = xfer_free(x);
    if (e->npool < (size_t)e->concurrency * 2 + 8) {
        e->pool = xrealloc(e->pool, (e->npool + 1) * sizeof *e->pool);
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

static void schedule_due(struct engine *e)
{
    int64_t due = queue_next_due(e->q);

    loop_timer_arm(e->due_timer, due < 0 ? -1 : due - loop_now(e->loop));
}

static void retry_or_fail(struct engine *e, struct item *it, const char *msg, int64_t retry_after)
{
    item_set_error(it, msg);
    queue_touch(e->q, it);
    if (it->attempts > e->s->retries) {
        queue_set_state(e->q, it, ITEM_FAILED);
        emit_item(e, EV_FAILED, it, 0, msg, 0);
        return;
    }
    int64_t wait = backoff_next_ms(it->attempts - 1, e->s->retry_min_ms, e->s->retry_max_ms,
                                   retry_after, &e->rng);
    it->next_try_ms = loop_now(e->loop) + wait;
    queue_set_state(e->q, it, ITEM_RETRY);
    emit_item(e, EV_RETRY, it, 0, msg, wait);
    schedule_due(e);
}

static void finished(struct engine *e, struct xfer *x, CURLcode rc)
{
    struct item *it = xfer_item(x);
    char msg[ERRLEN];
    int64_t retry_after, bytes = xfer_bytes(x);
    enum xfer_verdict v = xfer_verdict(x, rc, wall_ms(), msg, &retry_after);

    queue_touch(e->q, it);     /* the verdict updated sizes, validators and status */

    switch (v) {
    case XFER_DONE: {
        struct syncer_job *job = xcalloc(1, sizeof *job);

        xfer_take_output(x, &job->dirfd, &job->fd, &job->base, &job->mtime);
        job->arg = it;
        release(e, x);
        e->finishing++;
        syncer_submit(e->syncer, job);
        return;
    }
    case XFER_UNCHANGED:
        release(e, x);
        queue_set_state(e->q, it, ITEM_UNCHANGED);
        emit_item(e, EV_UNCHANGED, it, bytes, NULL, 0);
        break;
    case XFER_RETRY:
        release(e, x);
        retry_or_fail(e, it, msg, retry_after);
        break;
    case XFER_FAILED:
        release(e, x);
        item_set_error(it, msg);
        queue_set_state(e->q, it, ITEM_FAILED);
        emit_item(e, EV_FAILED, it, bytes, msg, 0);
        break;
    case XFER_DISK_FULL:
        release(e, x);
        /* Not the item's fault: no attempt is counted and nothing is deleted. */
        it->attempts--;
        item_set_error(it, msg);
        queue_set_state(e->q, it, ITEM_QUEUED);
        if (e->disk_full_until == 0) {
            struct engine_event ev = { .kind = EV_MESSAGE, .error = "disk full: waiting for space" };

            emit(e, &ev);
        }
        e->disk_full_until = loop_now(e->loop) + DISK_FULL_RETRY_MS;
        break;
    }
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
            finished(e, x, m->data.result);
    }
    engine_kick(e);
}

static void on_committed(struct syncer_job *job, void *arg)
{
    struct engine *e = arg;
    struct item *it = job->arg;

    e->finishing--;
    if (job->result == 0) {
        item_set_error(it, NULL);
        queue_set_state(e->q, it, ITEM_DONE);
        emit_item(e, EV_DONE, it, it->received, NULL, 0);
    } else {
        char msg[ERRLEN];

        snprintf(msg, sizeof msg, "cannot commit %s: %s", it->path, strerror(job->result));
        it->received = 0;
        retry_or_fail(e, it, msg, -1);
    }
    engine_kick(e);
}

/* ---- timers ---- */

static void on_due(void *arg)
{
    struct engine *e = arg;

    queue_promote_due(e->q, loop_now(e->loop));
    schedule_due(e);
    engine_kick(e);
}

static void on_tick(void *arg)
{
    struct engine *e = arg;
    int64_t now = loop_now(e->loop);
    struct active *a, *next;

    loop_timer_arm(e->tick_timer, TICK_MS);
    if (now - e->last_flush_ms >= 1000) {
        e->last_flush_ms = now;
        queue_flush(e->q);
    }
    if (e->disk_full_until != 0 && now >= e->disk_full_until) {
        e->disk_full_until = 0;
        engine_kick(e);
    }
    /* Our own stall detector: libcurl's low-speed check misfires with pausing (notes §1). */
    if (e->s->stall_ms <= 0)
        return;
    for (a = e->actives; a != NULL; a = next) {
        struct xfer *x = a->x;

        next = a->next;
        if (now - xfer_last_rx_ms(x) > e->s->stall_ms) {
            struct item *it = xfer_item(x);
            char msg[ERRLEN];
            int64_t ra;

            /* Let the verdict record validators and progress, then override its reason. */
            (void)xfer_verdict(x, CURLE_OPERATION_TIMEDOUT, wall_ms(), msg, &ra);
            snprintf(msg, sizeof msg, "stalled: nothing received for %llds",
                     (long long)(e->s->stall_ms / 1000));
            release(e, x);
            retry_or_fail(e, it, msg, -1);
        }
    }
    engine_kick(e);
}

/* ---- API ---- */

void engine_kick(struct engine *e)
{
    struct item *it;

    if (e->stopping || e->in_kick || e->disk_full_until != 0)
        return;
    e->in_kick = true;
    while (e->transfers < e->concurrency && (it = queue_next(e->q, host_ok, e)) != NULL)
        start(e, it);
    e->in_kick = false;
}

struct engine *engine_new(struct loop *loop, const struct settings *s, struct queue *q, int rootfd,
                          char *err)
{
    struct engine *e = xcalloc(1, sizeof *e);

    e->loop = loop;
    e->s = s;
    e->q = q;
    e->rootfd = rootfd;
    e->concurrency = s->concurrency;
    e->hosts = hmap_new();
    e->start_ms = mono_ms();
    e->rng = (uint64_t)wall_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
    if (e->rng == 0)
        e->rng = 1;
    meter_init(&e->meter, e->start_ms);

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
    e->env.share = e->share;
    e->env.received = received;
    e->env.arg = e;

    e->curl_timer = loop_timer_new(loop, on_curl_timer, e);
    e->tick_timer = loop_timer_new(loop, on_tick, e);
    e->due_timer = loop_timer_new(loop, on_due, e);
    loop_timer_arm(e->tick_timer, TICK_MS);
    e->syncer = syncer_new(loop, 2, on_committed, e);
    return e;
}

void engine_add_listener(struct engine *e, engine_listener cb, void *arg)
{
    if (e->nlisteners < MAX_LISTENERS) {
        e->listeners[e->nlisteners].cb = cb;
        e->listeners[e->nlisteners].arg = arg;
        e->nlisteners++;
    }
}

bool engine_idle(const struct engine *e)
{
    return e->transfers == 0 && e->finishing == 0 && queue_count(e->q, ITEM_QUEUED) == 0 &&
           queue_count(e->q, ITEM_RETRY) == 0;
}

void engine_stop(struct engine *e)
{
    e->stopping = true;
    while (e->actives != NULL) {
        struct xfer *x = e->actives->x;
        struct item *it = xfer_item(x);

        /* Keep what the digests cover: the next attempt resumes from there. */
        release(e, x);
        it->attempts--;
        queue_set_state(e->q, it, ITEM_QUEUED);
    }
    if (e->syncer != NULL)
        syncer_drain(e->syncer);
    queue_flush(e->q);
}

void engine_free(struct engine *e)
{
    if (e == NULL)
        return;
    engine_stop(e);
    syncer_free(e->syncer);
    for (size_t i = 0; i < e->npool; i++)
        curl_easy_cleanup(e->pool[i]);
    free(e->pool);
    if (e->multi != NULL)
        curl_multi_cleanup(e->multi);
    if (e->share != NULL)
        curl_share_cleanup(e->share);
    loop_timer_free(e->curl_timer);
    loop_timer_free(e->tick_timer);
    loop_timer_free(e->due_timer);
    for (size_t i = 0; i < e->nhosts; i++)
        free(e->hostv[i]);
    free(e->hostv);
    hmap_free(e->hosts);
    free(e);
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
    int64_t now = mono_ms();
    size_t remaining;

    memset(st, 0, sizeof *st);
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
    st->cap = e->s->rate;
    st->bytes = e->bytes;
    st->elapsed_ms = now - e->start_ms;
    st->disk_full = e->disk_full_until != 0;
    /* Sizes of queued items are unknown until fetched: estimate from the mean item so far. */
    remaining = st->queued + st->active + st->retrying;
    st->eta_ms = -1;
    if (st->done > 0 && st->rate > 0) {
        int64_t mean = e->bytes / (int64_t)(st->done + st->unchanged);

        st->eta_ms = (int64_t)remaining * mean * 1000 / st->rate;
    } else if (remaining == 0) {
        st->eta_ms = 0;
    }
}

void engine_set_concurrency(struct engine *e, int n)
{
    if (n < 1)
        n = 1;
    if (n > 1024)
        n = 1024;
    e->concurrency = n;
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(n * 2 + 4));
    engine_kick(e);
}
