/* The cap: one token bucket charged in the write callback. A transfer that finds no credit
 * returns CURL_WRITEFUNC_PAUSE and joins a FIFO; a refill timer unpauses the FIFO in order while
 * there is credit, so every throttled transfer gets one chunk per turn (round robin, quantum =
 * one libcurl buffer) and credit a slow transfer leaves unused goes to the others. A host's cap
 * from the config is a second bucket nested under the global one.
 *
 * Each transfer's TCP receive window follows its share and its connection's round trip
 * (cap_window), so the kernel takes in about what the cap lets through, however long the path.
 *
 * The disk-wait list: when the writer's backlog for a file is full, the transfer pauses the same
 * way until the backlog has drained, so the data waits in the kernel, not in memory. */
#include "engine_cap.h"
#include "engine_impl.h"
#include "bucket.h"
#include "cap.h"
#include "group.h"
#include "group_redis.h"
#include "sched.h"
#include "segplan.h"
#include "item.h"
#include "hosts.h"
#include "loop.h"
#include "meter.h"
#include "sched.h"
#include "units.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static bool capped(const struct engine *e)
{
    return e->rate > 0;
}

/* A transfer whose buffer drains (xfer_draining: its window fell, its buffer is cut once what
 * it holds unread is read) goes before every other: until then the kernel holds that much ahead
 * of the cap, and a sender faster than the transfer's share would keep it full for good. Only
 * for the drain's first half second: a sender faster than the whole cap would keep it full
 * anyway, and take every turn. */
static uint64_t turn_of(const struct active *a)
{
    return xfer_draining(a->x) ? 0 : a->seq;
}

/* The throttled list is kept oldest transfer first, so credit goes to the transfers admitted
 * first: equal turns would make files of one size, started together, finish together, and on a
 * long path the wire would then idle for a round trip per generation of files while every
 * connection waits for its next response (docs/design.md#the-cap). Turns still rotate: each
 * transfer takes one chunk and waits again, and one that cannot use its credit (its window, the
 * disk) leaves it to the next. Pushes come mostly in age order (the refill unpauses in that
 * order), so the tail check makes the usual push O(1). The ranges of one segmented download
 * share their file's age and take turns among themselves (after the others of that age): they
 * finish together rather than one by one, which would leave the last ones alone at the end, each
 * held to what one connection gets (docs/design.md#segmented-downloads). */
static void throttle_push(struct engine *e, struct active *a)
{
    struct active **pp;
    uint64_t key = turn_of(a);

    a->throttled = true;
    a->tnext = NULL;
    if (e->ttail == NULL || turn_of(e->ttail) <= key) {
        if (e->ttail != NULL)
            e->ttail->tnext = a;
        else
            e->thead = a;
        e->ttail = a;
    } else {
        for (pp = &e->thead; *pp != NULL && turn_of(*pp) <= key; pp = &(*pp)->tnext)
            ;
        a->tnext = *pp;
        *pp = a;
    }
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

void engine_cap_throttle_remove(struct engine *e, struct active *a)
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

static struct bucket *global_bucket(struct engine *e)
{
    return capped(e) ? &e->bucket : NULL;
}

static struct bucket *host_bucket(struct active *a)
{
    return a->host->capped ? &a->host->bucket : NULL;
}

/* Delivers a paused transfer's held chunk, synchronously. When the write callback refuses it (a
 * range of a segmented download that got to its end, a write that failed), libcurl 7.88 returns
 * the error here and leaves the transfer in the multi handle with nothing more to report: it
 * would hang until the stall detector. It is marked, and engine_kick finishes it with that code
 * (not from here: finishing may park other transfers of a list being walked). */
static void unpause(struct engine *e, struct active *a)
{
    CURLcode rc;

    a->unpausing = true;
    rc = curl_easy_pause(xfer_easy(a->x), CURLPAUSE_CONT);
    a->unpausing = false;
    if (rc != CURLE_OK && a->stuck == CURLE_OK) {
        a->stuck = rc;
        e->nstuck++;
    }
}

/* Asked by the write callback before each chunk. */
bool engine_cap_may_receive(void *arg, struct xfer *x, size_t n)
{
    struct engine *e = arg;
    struct active *a = xfer_user(x);

    if (a->unpausing)
        return true;     /* the chunk held at the pause is being delivered: it was our turn */
    if (writer_backlogged(e->writer, xfer_stream(x))) {
        /* The disk is slower than the network: hold the data in the kernel, not in memory. */
        a->diskwait = true;
        a->dnext = e->dhead;
        e->dhead = a;
        return false;
    }
    engine_cap_group_take(e);
    /* Leased credit is the group's, already spent from its budget: never thrown away. */
    if (e->thead == NULL && !e->bucket.fed)
        cap_unwanted_credit(global_bucket(e), loop_now(e->loop));
    if (cap_may_receive(global_bucket(e), host_bucket(a), loop_now(e->loop)))
        return true;
    throttle_push(e, a);
    return false;
}

void engine_cap_received(void *arg, struct xfer *x, size_t n)
{
    struct engine *e = arg;
    struct active *a = xfer_user(x);
    int64_t now = loop_now(e->loop);

    e->bytes += (int64_t)n;
    meter_add(&e->meter, (int64_t)n, now);
    if (!a->receiving) {
        /* No longer between two files: the others' windows shrink as this one's grows. */
        a->receiving = true;
        if (capped(e))
            engine_cap_retune(e);
    }
    /* Charged after the fact, so the balance can dip below zero by one chunk (debt). */
    cap_charge(global_bucket(e), host_bucket(a), (int64_t)n, now);
}

/* Unpauses throttled transfers in FIFO order while there is credit. Runs from the loop, never
 * from a libcurl callback (unpausing inside one breaks 7.88's recursion guard:
 * docs/design.md#pausing). */
void engine_cap_on_refill(void *arg)
{
    struct engine *e = arg;
    int64_t now = loop_now(e->loop);
    size_t n = 0;
    struct active *a;

    engine_cap_group_sync(e);
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
        /* Delivers the held chunk synchronously (charged through engine_cap_received()). */
        unpause(e, a);
    }
    if (e->thead != NULL) {
        int64_t w = cap_refill_wait_ms(global_bucket(e));

        /* Fed by leases, credit comes when the group's thread brings it: look often. */
        loop_timer_arm(e->refill_timer, e->bucket.fed && w > 5 ? 5 : w);
    }
    if (e->nstuck > 0)
        engine_kick(e);
}

/* The writer's backlog has halved: every transfer that waited for it gets its held chunk. */
void engine_cap_on_disk_ready(void *arg)
{
    struct engine *e = arg;
    struct active *a = e->dhead, *next;

    e->dhead = NULL;
    for (; a != NULL; a = next) {
        next = a->dnext;
        a->dnext = NULL;
        a->diskwait = false;
        unpause(e, a);
    }
    if (e->nstuck > 0)
        engine_kick(e);
}

void engine_cap_diskwait_remove(struct engine *e, struct active *a)
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

/* A transfer's share of what may flow: the global cap split over the transfers receiving now
 * (cap_ways), or
 * its host's cap split over that host's transfers, whichever is smaller; 0 when nothing caps it.
 * A transfer about to start counts itself (extra = 1). */
static int64_t share_of(const struct engine *e, const struct host *h, int ways, int extra)
{
    /* With a cap group, this worker's part of the group's cap: windows sized for the whole cap
     * in every worker would let the kernels take in N times it (docs/scale.md#the-shared-cap). */
    int64_t rate = e->group != NULL ? group_fallback_rate(e->rate, e->group_workers) : e->rate;

    return cap_share(rate, ways, h->capped ? h->bucket.rate : 0, h->active + extra);
}

/* The ranges of segmented files whose first answer has come and whose plan is not made yet
 * (engine_seg.c plans on the engine's next turn): they start on that turn, as many as the free
 * slots take, and count as transfers from the moment the split is known. Otherwise the first
 * connection keeps a window for the whole cap until they start, the kernel fills it, and that
 * stays queued ahead of the cap with the new connections' windows on top of it
 * (docs/design.md#segmented-downloads). */
static int planned_ranges(const struct engine *e)
{
    int n = 0, slots = e->concurrency - e->transfers - e->preparing;

    for (size_t i = 0; i < e->nsegitems && n < slots; i++) {
        const struct item *it = e->segitems[i];

        if (it->segs == NULL && it->size > 0)
            n += segplan_count(it->size, e->s->segments, e->s->min_segment) - 1;
    }
    return n < slots ? n : (slots > 0 ? slots : 0);
}

/* The ways the cap splits (cap_ways): the transfers running and the ranges about to start
 * (planned_ranges), less those between two files on a kept-alive connection. A transfer
 * waiting for its first response on a new connection counts: at the start every transfer
 * waits, and all of them then receive at once. */
static int ways_now(const struct engine *e, int extra)
{
    int between = 0;

    if (e->rate <= 0)
        return 1;
    for (const struct active *a = e->actives; a != NULL; a = a->next)
        if (!a->receiving && xfer_between_files(a->x))
            between++;
    extra += planned_ranges(e);
    return cap_ways(e->transfers + extra, e->transfers + extra - between);
}

/* Untilted: the retune that follows the start (or the next first byte, or the tick) ranks it. */
int64_t engine_cap_share(const struct engine *e, const struct host *h)
{
    return share_of(e, h, ways_now(e, 1), 1);
}

static int by_seq(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

    return a < b ? -1 : a > b;
}

/* How many of the n ages in sorted seqs are older than seq, and how many are the same. */
static void age_rank(const uint64_t *seqs, int n, uint64_t seq, int *older, int *same)
{
    int lo = 0, hi = n, end;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (seqs[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < n && seqs[end] == seq; end++)
        ;
    *older = lo;
    *same = end - lo;
}

/* Every running transfer's window follows its share now (the number of transfers and the caps
 * change), its age among them (cap_tilt: admission order, the order the throttled list serves)
 * and the round trip its connection measures. Without memory for the ages the shares stay
 * even: only the tilt is lost. */
void engine_cap_retune(struct engine *e)
{
    int ways = ways_now(e, 0), n = 0, i, older = 0, same = 1;
    uint64_t *seqs = NULL;
    int64_t *share = NULL, *room = NULL, rtt;

    for (struct active *a = e->actives; a != NULL; a = a->next)
        n++;
    if (capped(e) && n > 1) {
        seqs = malloc(sizeof *seqs * (size_t)n);
        share = malloc(sizeof *share * (size_t)n);
        room = malloc(sizeof *room * (size_t)n);
    }
    if (seqs == NULL || share == NULL || room == NULL) {
        for (struct active *a = e->actives; a != NULL; a = a->next)
            xfer_tune_window(a->x, share_of(e, a->host, ways, 0));
        goto out;
    }
    i = 0;
    for (struct active *a = e->actives; a != NULL; a = a->next)
        seqs[i++] = a->seq;
    qsort(seqs, (size_t)n, sizeof *seqs, by_seq);
    i = 0;
    for (struct active *a = e->actives; a != NULL; a = a->next, i++) {
        int64_t even = share_of(e, a->host, ways, 0);

        age_rank(seqs, n, a->seq, &older, &same);
        (void)xfer_window(a->x, &rtt);
        share[i] = cap_tilt(even, older, same, n, cap_tilt_slope(rtt));
        /* A host's own cap bounds its transfers' shares: what they cannot take is not spread,
         * and they take nothing more. Never below the even share otherwise: the window in force
         * when a file's last bytes come is what the connection's next answer may bring in its
         * first round trip, and on a long path the mean depends on it (cut to what was left,
         * 0.72 of the cap at 250 ms). */
        room[i] = a->host->capped ? share[i] : cap_room(xfer_left(a->x), rtt);
        if (!a->host->capped && room[i] >= 0 && room[i] < even)
            room[i] = even;
    }
    cap_spread(n, share, room);
    i = 0;
    for (struct active *a = e->actives; a != NULL; a = a->next, i++)
        xfer_tune_window(a->x, share[i]);
out:
    free(seqs);
    free(share);
    free(room);
}

static void group_say(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void group_say(struct engine *e, const char *fmt, ...)
{
    char m[ERRLEN + 256];
    va_list ap;
    int n = snprintf(m, sizeof m, "cap group %s: ", e->group_name);

    va_start(ap, fmt);
    vsnprintf(m + n, sizeof m - (size_t)n, fmt, ap);
    va_end(ap);
    engine_emit_value(e, EV_MESSAGE, 0, m);
}

/* Asks for the next lease when this worker is short of credit. */
static void group_ask(struct engine *e, bool up)
{
    int64_t lease = group_lease_bytes(e->rate, e->group_workers);

    group_redis_want(e->group, capped(e) && up && e->transfers > 0 && e->bucket.tokens < lease ?
                     lease : 0);
}

void engine_cap_group_take(struct engine *e)
{
    if (e->group == NULL)
        return;
    /* Not fed (Redis was away at the last full sync): what arrives waits for that sync. */
    if (e->bucket.fed)
        bucket_credit(&e->bucket, group_redis_take(e->group));
    group_ask(e, e->bucket.fed);
}

/* From now on only leases add credit; what the local refill banked is dropped, so that it is not
 * spent on top of the group's budget. */
static void feed(struct engine *e, int64_t now)
{
    if (e->bucket.fed)
        return;
    bucket_refill(&e->bucket, now);
    bucket_set(&e->bucket, e->rate, e->burst, now);
    e->bucket.fed = true;
    if (e->bucket.tokens > 0)
        e->bucket.tokens = 0;
}

void engine_cap_group_sync(struct engine *e)
{
    struct group_view v;
    int64_t now;
    char a[32], b[32];

    if (e->group == NULL)
        return;
    now = loop_now(e->loop);
    group_redis_view(e->group, &v);
    e->group_calls = v.calls;
    if (v.known) {
        e->group_known = true;
        e->group_workers = v.workers;
        if (!e->group_said_rate && v.rate != e->s->rate) {
            group_say(e, "the group's cap is %s; this worker's -r %s is not used",
                      units_fmt_cap(v.rate, a, sizeof a), units_fmt_cap(e->s->rate, b, sizeof b));
        }
        e->group_said_rate = true;
        if (v.rate != e->rate)
            engine_cap_apply_rate(e, v.rate, e->burst, NULL);   /* another worker's `ctl rate` */
    }
    e->group_up = v.up;
    if (!v.up && v.failures > 0 && !e->group_said_down) {
        e->group_said_down = true;
        char rps[96] = "";

        /* Requests a second per host too, the same way (docs/scale.md#requests-per-second-shared). */
        if (e->s->per_host_rps > 0)
            snprintf(rps, sizeof rps, ", and at %d requests a second per host,",
                     e->s->per_host_rps / e->group_workers > 0 ?
                     e->s->per_host_rps / e->group_workers : 1);
        group_say(e, "Redis cannot be reached (%s); this worker caps itself at %s (the group's "
                  "cap over %d worker%s)%s until it is back", v.error,
                  units_fmt_cap(group_fallback_rate(e->rate, e->group_workers), a, sizeof a),
                  e->group_workers, e->group_workers == 1 ? "" : "s", rps);
    } else if (v.up && e->group_said_down) {
        e->group_said_down = false;
        group_say(e, "Redis is back; drawing from the group's cap again");
    }
    if (!capped(e)) {
        group_redis_want(e->group, 0);
        return;
    }
    if (v.up) {
        feed(e, now);
        bucket_credit(&e->bucket, v.granted);
    } else if (!v.known && v.failures == 0) {
        /* Redis has neither answered nor failed yet (a few ms at the start): nothing until it
         * does. Bytes read under the local cap meanwhile were not taken from the group's bucket
         * and came on top of the first leases (docs/scale.md#the-shared-cap). */
        feed(e, now);
    } else {
        /* Never uncapped: the group's cap over the workers last seen, refilled by the clock. */
        int64_t r = group_fallback_rate(e->rate, e->group_workers);

        if (e->bucket.fed || e->bucket.rate != r) {
            bucket_refill(&e->bucket, now);
            e->bucket.fed = false;
            bucket_set(&e->bucket, r, e->burst, now);
        }
    }
    group_ask(e, v.up);
}

int engine_cap_local_second_of_week(void)
{
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    return sched_sow(&tm);
}

void engine_cap_apply_rate(struct engine *e, int64_t rate, int64_t burst, const char *why)
{
    int64_t now = loop_now(e->loop);

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
    /* Connections already open get the window of the new share at once. */
    engine_cap_retune(e);
    if (rate == 0) {
        /* Nothing holds them back any more. */
        loop_timer_arm(e->refill_timer, 0);
    }
    engine_emit_value(e, EV_RATE, rate, why);
}
