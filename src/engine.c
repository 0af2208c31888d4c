/* The multi handle on the event loop (docs/examples/ephiperfifo.c pattern): curl tells us which
 * sockets to watch and when to call it back; we never call curl_multi_* from inside a libcurl
 * callback. Admission is ours: libcurl's connection limits only count connections, and queued
 * handles inside libcurl would burn their timeouts.
 *
 * The cap: one token bucket charged in the write callback. A transfer that finds no credit
 * returns CURL_WRITEFUNC_PAUSE and joins a FIFO; a refill timer unpauses the FIFO in order while
 * there is credit, so every throttled transfer gets one chunk per turn (round robin, quantum =
 * one libcurl buffer) and credit a slow transfer leaves unused goes to the others. */
#include "engine.h"
#include "backoff.h"
#include "bucket.h"
#include "fsout.h"
#include "hmap.h"
#include "loop.h"
#include "meter.h"
#include "queue.h"
#include "sched.h"
#include "syncer.h"
#include "urlpath.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 4
#define TICK_MS 250
#define REFILL_MAX_MS 20
#define DISK_FULL_RETRY_MS 10000

struct host {
    int active;
    int limit;                   /* AIMD limit after a 429/503; 0 = none of its own */
    int64_t hold_until;          /* monotonic ms: the limit does not grow back before this */
    bool capped;
    struct bucket bucket;        /* per-host cap from the config, nested under the global one */
};

struct active {
    struct xfer *x;
    struct host *host;
    struct active *next, *prev;  /* all transfers, newest first */
    struct active *tnext;        /* throttled FIFO */
    struct active *dnext;        /* waiting for the writer's backlog to drain */
    bool throttled;
    bool diskwait;
    bool unpausing;
    int64_t last_bytes;
    int64_t rate;                /* bytes/s, smoothed over ticks */
};

struct engine {
    struct loop *loop;
    const struct settings *s;
    struct queue *q;
    int rootfd;
    CURLM *multi;
    CURLSH *share;
    struct xfer_env env;
    struct loop_timer *curl_timer, *tick_timer, *due_timer, *refill_timer;
    struct syncer *syncer;
    struct writer *writer;
    struct hmap *hosts;
    struct host **hostv;
    size_t nhosts;
    struct active *actives;
    struct active *thead, *ttail;    /* throttled, in the order they ran out of credit */
    struct active *dhead;            /* paused until the writer catches up */
    int transfers;
    int finishing;
    int preparing;                   /* digests of .part files being rebuilt by the worker */
    int concurrency;
    struct bucket bucket;
    int64_t rate, burst;             /* in force */
    struct sched_state sched;
    CURL **pool;
    size_t npool;
    struct meter meter;
    int64_t bytes;
    int64_t start_ms;
    int64_t disk_full_until;
    int64_t last_flush_ms;
    int64_t last_tick_ms;
    uint64_t rng;
    bool stopping;
    bool syncer_eager;
    bool paused_all;
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

static void emit_value(struct engine *e, enum engine_event_kind kind, int64_t value, const char *msg)
{
    struct engine_event ev = { .kind = kind, .value = value, .error = msg };

    emit(e, &ev);
}

/* ---- hosts: own connection limits, AIMD after 429/503, per-host caps ---- */

/* A rule names a host ("img.example.com") or a host and port ("127.0.0.1:8080"); the key of an
 * item is "host" or "host:port". An exact match wins over a match on the host alone. */
static const struct host_rule *host_rule(const struct engine *e, const char *key)
{
    const struct host_rule *loose = NULL;

    for (size_t i = 0; i < e->s->nhosts; i++) {
        const char *h = e->s->hosts[i].host;
        size_t n = strlen(h);

        if (strcmp(h, key) == 0)
            return &e->s->hosts[i];
        if (loose == NULL && strncmp(h, key, n) == 0 && key[n] == ':' && strchr(key + n + 1, ':') == NULL)
            loose = &e->s->hosts[i];
    }
    return loose;
}

static struct host *host_get(struct engine *e, const char *name)
{
    struct host *h = hmap_get(e->hosts, name);
    const struct host_rule *r;

    if (h != NULL)
        return h;
    h = xcalloc(1, sizeof *h);
    r = host_rule(e, name);
    if (r != NULL && r->rate > 0) {
        h->capped = true;
        bucket_init(&h->bucket, r->rate, 0, mono_ms());
        bucket_take(&h->bucket, h->bucket.tokens);   /* start empty: no burst at start */
    }
    hmap_put(e->hosts, name, h);
    e->hostv = xrealloc(e->hostv, (e->nhosts + 1) * sizeof *e->hostv);
    e->hostv[e->nhosts++] = h;
    return h;
}

/* The configured limit (0 = none); the AIMD limit only ever lowers it. */
static int host_base(const struct engine *e, const char *name)
{
    const struct host_rule *r = host_rule(e, name);

    return r != NULL && r->per_host > 0 ? r->per_host : e->s->per_host;
}

static int host_effective(const struct engine *e, const char *name, const struct host *h)
{
    int base = host_base(e, name);

    if (h->limit > 0 && (base == 0 || h->limit < base))
        return h->limit;
    return base;
}

static bool host_ok(const char *name, void *arg)
{
    struct engine *e = arg;
    struct host *h = host_get(e, name);
    int limit = host_effective(e, name, h);

    return limit <= 0 || h->active < limit;
}

/* 429/503: halve the host's limit once per hold period, hold it until Retry-After passes. */
static void host_slow_down(struct engine *e, const char *name, struct host *h, int64_t hold_ms)
{
    int64_t now = loop_now(e->loop);
    int cur;

    if (h->limit > 0 && now < h->hold_until) {
        if (now + hold_ms > h->hold_until)
            h->hold_until = now + hold_ms;
        return;
    }
    cur = host_effective(e, name, h);
    if (cur <= 0)
        cur = h->active > 0 ? h->active : 1;
    h->limit = cur / 2 > 0 ? cur / 2 : 1;
    h->hold_until = now + hold_ms;
    char msg[ERRLEN];
    snprintf(msg, sizeof msg, "%s asked to slow down: at most %d connection%s for now", name,
             h->limit, h->limit == 1 ? "" : "s");
    emit_value(e, EV_MESSAGE, h->limit, msg);
}

static void host_success(struct engine *e, const char *name, struct host *h)
{
    int base;

    if (h->limit <= 0 || loop_now(e->loop) < h->hold_until)
        return;
    h->limit++;
    base = host_base(e, name);
    if ((base > 0 && h->limit >= base) || (base == 0 && h->limit >= e->concurrency))
        h->limit = 0;
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

/* ---- the cap ---- */

static bool capped(const struct engine *e)
{
    return e->rate > 0;
}

static void throttle_push(struct engine *e, struct active *a)
{
    a->throttled = true;
    a->tnext = NULL;
    if (e->ttail != NULL)
        e->ttail->tnext = a;
    else
        e->thead = a;
    e->ttail = a;
    if (!loop_timer_armed(e->refill_timer))
        loop_timer_arm(e->refill_timer, 1);
}

static struct active *throttle_pop(struct engine *e)
{
    struct active *a = e->thead;

    if (a != NULL) {
        e->thead = a->tnext;
        if (e->thead == NULL)
            e->ttail = NULL;
        a->tnext = NULL;
    }
    return a;
}

static void throttle_remove(struct engine *e, struct active *a)
{
    struct active **pp = &e->thead, *prev = NULL;

    if (!a->throttled)
        return;
    for (; *pp != NULL; prev = *pp, pp = &(*pp)->tnext) {
        if (*pp == a) {
            *pp = a->tnext;
            if (e->ttail == a)
                e->ttail = prev;
            break;
        }
    }
    a->throttled = false;
    a->tnext = NULL;
}

/* Asked by the write callback before each chunk. */
static bool may_receive(void *arg, struct xfer *x, size_t n)
{
    struct engine *e = arg;
    struct active *a = xfer_user(x);
    int64_t now;

    if (a->unpausing)
        return true;     /* the chunk held at the pause is being delivered: it was our turn */
    if (writer_backlogged(e->writer, xfer_stream(x))) {
        /* The disk is slower than the network: hold the data in the kernel, not in memory. */
        a->diskwait = true;
        a->dnext = e->dhead;
        e->dhead = a;
        return false;
    }
    if (!capped(e) && !a->host->capped)
        return true;
    now = mono_ms();
    if (capped(e)) {
        bucket_refill(&e->bucket, now);
        if (!bucket_has_credit(&e->bucket))
            goto pause;
    }
    if (a->host->capped) {
        bucket_refill(&a->host->bucket, now);
        if (!bucket_has_credit(&a->host->bucket))
            goto pause;
    }
    return true;
pause:
    throttle_push(e, a);
    return false;
}

static void received(void *arg, struct xfer *x, size_t n)
{
    struct engine *e = arg;
    struct active *a = xfer_user(x);
    int64_t now = mono_ms();

    e->bytes += (int64_t)n;
    meter_add(&e->meter, (int64_t)n, now);
    /* Charged after the fact, so the balance can dip below zero by one chunk (debt). */
    if (capped(e)) {
        bucket_refill(&e->bucket, now);
        bucket_take(&e->bucket, (int64_t)n);
    }
    if (a->host->capped) {
        bucket_refill(&a->host->bucket, now);
        bucket_take(&a->host->bucket, (int64_t)n);
    }
}

/* Unpauses throttled transfers in FIFO order while there is credit. Runs from the loop, never
 * from a libcurl callback (notes §1: unpausing inside one breaks 7.88's recursion guard). */
static void on_refill(void *arg)
{
    struct engine *e = arg;
    int64_t now = mono_ms();
    size_t n = 0;
    struct active *a;
    int64_t wait = REFILL_MAX_MS;

    if (capped(e))
        bucket_refill(&e->bucket, now);
    for (a = e->thead; a != NULL; a = a->tnext)
        n++;
    while (n-- > 0 && (a = e->thead) != NULL) {
        if (capped(e) && !bucket_has_credit(&e->bucket))
            break;
        throttle_pop(e);
        if (a->host->capped) {
            bucket_refill(&a->host->bucket, now);
            if (!bucket_has_credit(&a->host->bucket)) {
                throttle_push(e, a);     /* its host is out of credit: next turn */
                continue;
            }
        }
        a->throttled = false;
        a->unpausing = true;
        /* Delivers the held chunk synchronously (charged through received()). */
        curl_easy_pause(xfer_easy(a->x), CURLPAUSE_CONT);
        a->unpausing = false;
    }
    if (e->thead != NULL) {
        if (capped(e)) {
            int64_t w = bucket_wait_ms(&e->bucket, 1);

            wait = w < 1 ? 1 : (w > REFILL_MAX_MS ? REFILL_MAX_MS : w);
        }
        loop_timer_arm(e->refill_timer, wait);
    }
}

/* The writer's backlog has halved: every transfer that waited for it gets its held chunk. */
static void on_disk_ready(void *arg)
{
    struct engine *e = arg;
    struct active *a = e->dhead, *next;

    e->dhead = NULL;
    for (; a != NULL; a = next) {
        next = a->dnext;
        a->dnext = NULL;
        a->diskwait = false;
        a->unpausing = true;
        curl_easy_pause(xfer_easy(a->x), CURLPAUSE_CONT);
        a->unpausing = false;
    }
}

static void diskwait_remove(struct engine *e, struct active *a)
{
    if (!a->diskwait)
        return;
    for (struct active **pp = &e->dhead; *pp != NULL; pp = &(*pp)->dnext) {
        if (*pp == a) {
            *pp = a->dnext;
            break;
        }
    }
    a->diskwait = false;
    a->dnext = NULL;
}

/* ---- transfers ---- */

/* A transfer's share of what may flow: the global cap split over the slots, or its host's cap
 * split over that host's connections, whichever is smaller; 0 when nothing caps it. */
static int64_t share_of(const struct engine *e, const char *name, const struct host *h)
{
    int64_t share = capped(e) ? e->rate / (e->concurrency > 0 ? e->concurrency : 1) : 0;

    if (h->capped) {
        int n = host_effective(e, name, h);
        int64_t hs;

        if (n <= 0 || n > e->concurrency)
            n = e->concurrency;
        hs = h->bucket.rate / (n > 0 ? n : 1);
        if (share == 0 || hs < share)
            share = hs;
    }
    return share;
}

static void really_start(struct engine *e, struct item *it)
{
    CURL *easy = e->npool > 0 ? e->pool[--e->npool] : curl_easy_init();
    struct active *a;

    if (easy == NULL)
        fatal("curl_easy_init failed");
    a = xcalloc(1, sizeof *a);
    a->host = host_get(e, it->host);
    a->x = xfer_new(&e->env, it, easy, loop_now(e->loop), a);
    xfer_set_share(a->x, share_of(e, it->host, a->host));
    a->next = e->actives;
    if (e->actives != NULL)
        e->actives->prev = a;
    e->actives = a;
    e->transfers++;
    a->host->active++;
    emit_item(e, EV_START, it, 0, NULL, 0);
    if (curl_multi_add_handle(e->multi, easy) != CURLM_OK)
        fatal("curl_multi_add_handle failed");
}

struct prep {
    struct engine *e;
    struct item *it;
};

/* The worker rebuilt (or failed to rebuild) the digest of a .part: now start for real. */
static void on_prepared(struct syncer_job *job, void *arg)
{
    struct item *it = job->arg;
    struct engine *e = arg;

    e->preparing--;
    if (job->result_ptr != NULL)
        xfer_attach_hash(it, job->result_ptr);
    else
        it->received = 0;        /* the .part cannot be trusted: start over */
    if (e->stopping || e->paused_all || e->disk_full_until != 0) {
        it->attempts--;
        queue_set_state(e->q, it, ITEM_QUEUED);
        return;
    }
    really_start(e, it);
}

static void hash_work(struct syncer_job *job)
{
    job->result_ptr = xfer_hash_part(job->dirfd, job->base, job->bytes, (enum checksum_algo)job->algo);
}

static void start(struct engine *e, struct item *it)
{
    queue_set_state(e->q, it, ITEM_ACTIVE);
    it->attempts++;
    queue_touch(e->q, it);
    /* A .part from an earlier run (or a parked transfer whose digest was dropped) resumes only
     * after its digest is rebuilt, off the loop: the SHA-256 must cover the whole file. */
    if (it->hash_state == NULL && it->received > 0 && (it->etag != NULL || it->last_modified != NULL)) {
        int dirfd, errnum;
        const char *base;
        char err[ERRLEN];

        if (fsout_open_dir(e->rootfd, it->path, &dirfd, &base, &errnum, err) == 0) {
            struct syncer_job *job = xcalloc(1, sizeof *job);

            job->kind = SYNCER_WORK;
            job->work = hash_work;
            job->dirfd = dirfd;
            job->fd = -1;
            job->base = xstrdup(base);
            job->bytes = it->received;
            job->algo = it->algo;
            job->arg = it;
            e->preparing++;
            syncer_submit(e->syncer, job);
            return;
        }
    }
    really_start(e, it);
}

static struct active *find_active(struct engine *e, uint64_t id)
{
    for (struct active *a = e->actives; a != NULL; a = a->next)
        if (xfer_item(a->x)->id == id)
            return a;
    return NULL;
}

/* Detaches a transfer from libcurl and the slot counts; its easy handle goes back to the pool. */
static void release(struct engine *e, struct active *a)
{
    CURL *easy;

    throttle_remove(e, a);
    diskwait_remove(e, a);
    curl_multi_remove_handle(e->multi, xfer_easy(a->x));
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        e->actives = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    e->transfers--;
    a->host->active--;
    easy = xfer_free(a->x);
    free(a);
    if (e->npool < (size_t)e->concurrency * 2 + 8) {
        e->pool = xrealloc(e->pool, (e->npool + 1) * sizeof *e->pool);
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* Stops a transfer without counting an attempt: the .part and its digest are kept, so it
 * resumes by Range later. */
static void park(struct engine *e, struct active *a, enum item_state to)
{
    struct item *it = xfer_item(a->x);
    char msg[ERRLEN];
    int64_t ra;

    (void)xfer_verdict(a->x, CURLE_ABORTED_BY_CALLBACK, wall_ms(), msg, &ra);  /* keep validators */
    release(e, a);
    it->attempts--;
    queue_touch(e->q, it);
    queue_set_state(e->q, it, to);
}

static void schedule_due(struct engine *e)
{
    int64_t due = queue_next_due(e->q);

    /* An overdue retry fires at once: a negative delay would disarm the timer. */
    if (due < 0)
        loop_timer_arm(e->due_timer, -1);
    else
        loop_timer_arm(e->due_timer, due > loop_now(e->loop) ? due - loop_now(e->loop) : 0);
}

static void retry_or_fail(struct engine *e, struct item *it, const char *msg, int64_t retry_after,
                          int64_t bytes)
{
    item_set_error(it, msg);
    queue_touch(e->q, it);
    if (it->attempts > e->s->retries) {
        queue_set_state(e->q, it, ITEM_FAILED);
        emit_item(e, EV_FAILED, it, bytes, msg, 0);
        return;
    }
    int64_t wait = backoff_next_ms(it->attempts - 1, e->s->retry_min_ms, e->s->retry_max_ms,
                                   retry_after, &e->rng);
    it->next_try_ms = loop_now(e->loop) + wait;
    queue_set_state(e->q, it, ITEM_RETRY);
    emit_item(e, EV_RETRY, it, bytes, msg, wait);
    schedule_due(e);
}

static void disk_full(struct engine *e, const char *msg)
{
    if (e->disk_full_until == 0) {
        char m[ERRLEN + 64];

        snprintf(m, sizeof m, "disk full, every transfer paused (retrying every %ds): %s",
                 DISK_FULL_RETRY_MS / 1000, msg);
        emit_value(e, EV_MESSAGE, 0, m);
    }
    e->disk_full_until = loop_now(e->loop) + DISK_FULL_RETRY_MS;
    /* Everything stops, nothing is deleted or marked failed: the .part files wait for space. */
    while (e->actives != NULL)
        park(e, e->actives, ITEM_QUEUED);
}

static void finished(struct engine *e, struct active *a, CURLcode rc)
{
    struct xfer *x = a->x;
    struct item *it = xfer_item(x);
    struct host *h = a->host;
    char msg[ERRLEN];
    int64_t retry_after, bytes = xfer_bytes(x);
    enum xfer_verdict v = xfer_verdict(x, rc, wall_ms(), msg, &retry_after);
    int status = xfer_status(x);

    queue_touch(e->q, it);     /* the verdict updated sizes, validators and status */
    switch (v) {
    case XFER_DONE: {
        struct syncer_job *job = xcalloc(1, sizeof *job);
        struct wstream *stream;

        job->kind = SYNCER_COMMIT;
        xfer_take_output(x, &stream, &job->mtime);
        job->fd = job->dirfd = -1;
        job->algo = (int)it->algo;
        memcpy(job->expect, it->digest, sizeof job->expect);
        job->arg = it;
        release(e, a);
        host_success(e, it->host, h);
        e->finishing++;
        /* The writer verifies and hands it to the syncer; the result comes to on_worker_done. */
        syncer_expect(e->syncer);
        writer_commit(stream, job);
        return;
    }
    case XFER_UNCHANGED:
        release(e, a);
        host_success(e, it->host, h);
        queue_set_state(e->q, it, ITEM_UNCHANGED);
        emit_item(e, EV_UNCHANGED, it, bytes, NULL, 0);
        break;
    case XFER_RETRY:
        if (status == 429 || status == 503)
            host_slow_down(e, it->host, h, retry_after > 0 ? retry_after : e->s->retry_min_ms);
        release(e, a);
        retry_or_fail(e, it, msg, retry_after, bytes);
        break;
    case XFER_FAILED:
        release(e, a);
        item_set_error(it, msg);
        queue_set_state(e->q, it, ITEM_FAILED);
        emit_item(e, EV_FAILED, it, bytes, msg, 0);
        break;
    case XFER_DISK_FULL:
        release(e, a);
        /* Not the item's fault: no attempt is counted. */
        it->attempts--;
        item_set_error(it, msg);
        queue_set_state(e->q, it, ITEM_QUEUED);
        disk_full(e, msg);
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
            finished(e, xfer_user(x), m->data.result);
    }
    engine_kick(e);
}

static void on_worker_done(struct syncer_job *job, void *arg)
{
    struct engine *e = arg;
    struct item *it = job->arg;

    if (job->kind == SYNCER_WORK) {
        on_prepared(job, e);
        engine_kick(e);
        return;
    }
    e->finishing--;
    if (job->result == 0) {
        it->received = job->bytes;
        memcpy(it->sha256, job->sha256, sizeof it->sha256);
        it->has_sha256 = true;
        item_set_error(it, NULL);
        queue_touch(e->q, it);
        queue_set_state(e->q, it, ITEM_DONE);
        emit_item(e, EV_DONE, it, it->received, NULL, 0);
    } else if (job->result == ENOSPC || job->result == EDQUOT) {
        char msg[ERRLEN];

        if (job->msg[0] != '\0')
            snprintf(msg, sizeof msg, "%s", job->msg);
        else
            snprintf(msg, sizeof msg, "cannot commit %s: %s", it->path, strerror(job->result));
        /* What reached the .part stays; its digest is rebuilt when the item starts again. */
        it->attempts--;
        it->received = job->bytes;
        item_set_error(it, msg);
        queue_touch(e->q, it);
        queue_set_state(e->q, it, ITEM_QUEUED);
        disk_full(e, msg);
    } else {
        char msg[ERRLEN];

        if (job->msg[0] != '\0')
            snprintf(msg, sizeof msg, "%s", job->msg);
        else
            snprintf(msg, sizeof msg, "cannot commit %s: %s", it->path, strerror(job->result));
        /* A checksum mismatch or a failed write: the next attempt starts from zero. */
        it->received = 0;
        it->has_sha256 = false;
        if (job->permanent) {
            item_set_error(it, msg);
            queue_touch(e->q, it);
            queue_set_state(e->q, it, ITEM_FAILED);
            emit_item(e, EV_FAILED, it, 0, msg, 0);
        } else {
            retry_or_fail(e, it, msg, -1, 0);
        }
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

static int local_second_of_day(void)
{
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    return tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static void apply_rate(struct engine *e, int64_t rate, int64_t burst)
{
    int64_t now = mono_ms();

    if (rate == e->rate && burst == e->burst)
        return;
    if (e->rate == 0 && rate > 0) {
        bucket_init(&e->bucket, rate, burst, now);
        bucket_take(&e->bucket, e->bucket.tokens);   /* start empty: no burst when a cap begins */
    } else if (rate > 0) {
        bucket_set(&e->bucket, rate, burst, now);
    }
    e->rate = rate;
    e->burst = burst;
    if (rate > 0)
        e->env.ever_capped = true;
    /* Connections already open keep their buffers: resize them to the new share. Uncapped
     * again, a large buffer stands in for the autotuning that SO_RCVBUF switched off. */
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        curl_socket_t fd = CURL_SOCKET_BAD;

        if (curl_easy_getinfo(xfer_easy(a->x), CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK &&
            fd != CURL_SOCKET_BAD) {
            int64_t share = share_of(e, xfer_item(a->x)->host, a->host);
            int v = share > 0 ? xfer_rcvbuf_for(share) : 4 * 1024 * 1024;

            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        }
    }
    if (rate == 0) {
        /* Nothing holds them back any more. */
        loop_timer_arm(e->refill_timer, 0);
    }
    emit_value(e, EV_RATE, rate, NULL);
}

static void on_tick(void *arg)
{
    struct engine *e = arg;
    int64_t now = loop_now(e->loop);
    int64_t dt = now - e->last_tick_ms;
    struct active *a, *next;

    loop_timer_arm(e->tick_timer, TICK_MS);
    e->last_tick_ms = now;
    /* Every tick: progress and state reach the session within a quarter of a second, so a
     * kill -9 costs little re-fetching (a flush of a few rows takes well under a millisecond). */
    if (now - e->last_flush_ms >= TICK_MS) {
        e->last_flush_ms = now;
        /* Progress of running transfers reaches the session too: after a kill -9 the .part
         * resumes from what was recorded (anything beyond it is cut back and fetched again). */
        for (a = e->actives; a != NULL; a = a->next)
            if (xfer_checkpoint(a->x))
                queue_touch(e->q, xfer_item(a->x));
        queue_flush(e->q);
    }
    if (e->s->nschedule > 0)
        apply_rate(e, sched_eval(&e->sched, e->s->schedule, e->s->nschedule, local_second_of_day(),
                                 e->s->rate), e->s->burst);
    if (e->disk_full_until != 0 && now >= e->disk_full_until) {
        e->disk_full_until = 0;
        engine_kick(e);
    }
    for (a = e->actives; a != NULL; a = next) {
        struct xfer *x = a->x;
        int64_t b = xfer_bytes(x);

        next = a->next;
        if (dt > 0)
            a->rate = (a->rate + (b - a->last_bytes) * 1000 / dt) / 2;
        a->last_bytes = b;
        /* Our own stall detector: libcurl's low-speed check misfires with pausing (notes §1).
         * Time spent waiting for a turn under the cap does not count. */
        if (e->s->stall_ms <= 0 || a->throttled || a->diskwait)
            continue;
        if (now - xfer_last_rx_ms(x) > e->s->stall_ms) {
            struct item *it = xfer_item(x);
            char msg[ERRLEN];
            int64_t ra;

            (void)xfer_verdict(x, CURLE_OPERATION_TIMEDOUT, wall_ms(), msg, &ra);
            snprintf(msg, sizeof msg, "stalled: nothing received for %llds",
                     (long long)(e->s->stall_ms / 1000));
            release(e, a);
            retry_or_fail(e, it, msg, -1, b);
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

    if (e->stopping || e->in_kick || e->disk_full_until != 0 || e->paused_all) {
        update_eager(e);
        return;
    }
    e->in_kick = true;
    while (e->transfers + e->preparing < e->concurrency &&
           (it = queue_next(e->q, host_ok, e)) != NULL)
        start(e, it);
    e->in_kick = false;
    update_eager(e);
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
    e->hosts = hmap_new();
    e->start_ms = e->last_tick_ms = mono_ms();
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
    e->env.may_receive = may_receive;
    e->env.received = received;
    e->env.arg = e;
    e->env.curl_share = e->share;

    e->curl_timer = loop_timer_new(loop, on_curl_timer, e);
    e->tick_timer = loop_timer_new(loop, on_tick, e);
    e->due_timer = loop_timer_new(loop, on_due, e);
    e->refill_timer = loop_timer_new(loop, on_refill, e);
    loop_timer_arm(e->tick_timer, TICK_MS);
    e->syncer = syncer_new(loop, 2, on_worker_done, e);
    e->writer = writer_new(loop, e->syncer, 2, on_disk_ready, e);
    e->env.writer = e->writer;

    if (s->nschedule > 0)
        apply_rate(e, sched_eval(&e->sched, s->schedule, s->nschedule, local_second_of_day(), s->rate),
                   s->burst);
    else
        apply_rate(e, s->rate, s->burst);
    return e;
}

void engine_start(struct engine *e)
{
    emit_value(e, EV_RATE, e->rate, NULL);
    emit_value(e, EV_CONCURRENCY, e->concurrency, NULL);
    engine_kick(e);
}

void engine_add_listener(struct engine *e, engine_listener cb, void *arg)
{
    if (e->nlisteners < MAX_LISTENERS) {
        e->listeners[e->nlisteners].cb = cb;
        e->listeners[e->nlisteners].arg = arg;
        e->nlisteners++;
    }
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
    return e->transfers == 0 && e->finishing == 0 && e->preparing == 0 &&
           queue_count(e->q, ITEM_QUEUED) == 0 && queue_count(e->q, ITEM_RETRY) == 0 &&
           e->disk_full_until == 0 && !e->paused_all;
}

void engine_stop(struct engine *e)
{
    e->stopping = true;
    while (e->actives != NULL)
        park(e, e->actives, ITEM_QUEUED);
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
    writer_free(e->writer);
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
    loop_timer_free(e->refill_timer);
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
    st->cap = e->rate;
    st->bytes = e->bytes;
    st->elapsed_ms = now - e->start_ms;
    st->disk_full = e->disk_full_until != 0;
    st->paused_all = e->paused_all;
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

void engine_set_rate(struct engine *e, int64_t rate, int64_t burst)
{
    if (rate < 0)
        rate = 0;
    if (e->s->nschedule > 0)
        sched_override(&e->sched, e->s->schedule, e->s->nschedule, local_second_of_day(), rate);
    apply_rate(e, rate, burst);
    queue_setting_set(e->q, "rate", rate);
    queue_setting_set(e->q, "burst", burst);
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
        park(e, e->actives, ITEM_QUEUED);
    queue_setting_set(e->q, "concurrency", n);
    emit_value(e, EV_CONCURRENCY, n, NULL);
    engine_kick(e);
}

int engine_concurrency(const struct engine *e)
{
    return e->concurrency;
}

int engine_pause(struct engine *e, uint64_t id, char *err)
{
    struct item *it = queue_get(e->q, id);
    struct active *a;

    if (it == NULL)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (it->state == ITEM_ACTIVE && (a = find_active(e, id)) != NULL)
        park(e, a, ITEM_PAUSED);
    else if (it->state == ITEM_QUEUED || it->state == ITEM_RETRY)
        queue_set_state(e->q, it, ITEM_PAUSED);
    else
        return errf(err, "item %llu is %s", (unsigned long long)id, item_state_name(it->state));
    emit_item(e, EV_PAUSED, it, 0, NULL, 0);
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
    queue_set_state(e->q, it, ITEM_QUEUED);
    emit_item(e, EV_RESUMED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

void engine_pause_all(struct engine *e)
{
    if (e->paused_all)
        return;
    e->paused_all = true;
    while (e->actives != NULL)
        park(e, e->actives, ITEM_QUEUED);
    emit_value(e, EV_PAUSED, 0, "all transfers paused");
}

void engine_resume_all(struct engine *e)
{
    e->paused_all = false;
    e->disk_full_until = 0;          /* the operator says there is room again */
    queue_resume_paused(e->q);
    emit_value(e, EV_RESUMED, 0, "all transfers resumed");
    engine_kick(e);
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
    emit_item(e, EV_QUEUED, it, 0, NULL, 0);
    engine_kick(e);
    return 0;
}

size_t engine_requeue_failed(struct engine *e)
{
    size_t n = queue_requeue_failed(e->q);

    if (n > 0) {
        char msg[64];

        snprintf(msg, sizeof msg, "%zu failed item%s requeued", n, n == 1 ? "" : "s");
        emit_value(e, EV_QUEUED, (int64_t)n, msg);
    }
    engine_kick(e);
    return n;
}

int engine_add_url(struct engine *e, const char *url, const char *out, uint64_t *id, char *err)
{
    struct url_parts parts;
    struct item *it;
    char *path;

    if (urlpath_parse(url, &parts, err) < 0)
        return -1;
    path = urlpath_target(url, e->s->layout, NULL, out, err);
    if (path == NULL) {
        urlpath_parts_free(&parts);
        return -1;
    }
    if (strcmp(path, ".sluice") == 0 || strncmp(path, ".sluice/", 8) == 0) {
        free(path);
        urlpath_parts_free(&parts);
        return errf(err, "output path %s is reserved for sluice's own state", out ? out : url);
    }
    it = xcalloc(1, sizeof *it);
    it->urls = xcalloc(1, sizeof *it->urls);
    it->urls[0] = xstrdup(url);
    it->nurls = 1;
    it->path = path;
    it->host = urlpath_host_key(&parts);
    urlpath_parts_free(&parts);
    it->size = -1;
    it->state = ITEM_QUEUED;
    if (queue_add(e->q, it, err) < 0) {
        item_free(it);
        return -1;
    }
    if (id != NULL)
        *id = it->id;
    emit_item(e, EV_QUEUED, it, 0, NULL, 0);
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
        park(e, a, ITEM_PAUSED);
        it = queue_get(e->q, id);
        if (it == NULL)
            return errf(err, "no item %llu", (unsigned long long)id);
    }
    /* Its partial file goes with it; a finished file stays (removing an item is not deleting). */
    if (it->state != ITEM_DONE && it->state != ITEM_UNCHANGED)
        (void)fsout_unlink_part(e->rootfd, it->path);
    xfer_reset_hash(it);
    return queue_remove(e->q, it, err);
}

bool engine_xfer_view(struct engine *e, uint64_t id, struct engine_xfer_view *v)
{
    struct active *a = find_active(e, id);

    if (a == NULL)
        return false;
    v->bytes = xfer_offset(a->x) + xfer_bytes(a->x);
    v->size = xfer_item(a->x)->size;
    v->rate = a->rate;
    v->throttled = a->throttled;
    return true;
}

void engine_rate_series(struct engine *e, int64_t *out, int n)
{
    meter_series(&e->meter, mono_ms(), out, n);
}
