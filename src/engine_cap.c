/* The cap: one token bucket charged in the write callback. A transfer that finds no credit
 * returns CURL_WRITEFUNC_PAUSE and joins a FIFO; a refill timer unpauses the FIFO in order while
 * there is credit, so every throttled transfer gets one chunk per turn (round robin, quantum =
 * one libcurl buffer) and credit a slow transfer leaves unused goes to the others. A host's cap
 * from the config is a second bucket nested under the global one.
 *
 * The disk-wait list: when the writer's backlog for a file is full, the transfer pauses the same
 * way until the backlog has drained, so the data waits in the kernel, not in memory. */
#include "engine_cap.h"
#include "engine_impl.h"
#include "bucket.h"
#include "hosts.h"
#include "loop.h"
#include "meter.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <time.h>

#define REFILL_MAX_MS 20

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

/* Asked by the write callback before each chunk. */
bool engine_cap_may_receive(void *arg, struct xfer *x, size_t n)
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

void engine_cap_received(void *arg, struct xfer *x, size_t n)
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
 * from a libcurl callback (unpausing inside one breaks 7.88's recursion guard:
 * docs/design.md#pausing). */
void engine_cap_on_refill(void *arg)
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
        /* Delivers the held chunk synchronously (charged through engine_cap_received()). */
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
void engine_cap_on_disk_ready(void *arg)
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

/* A transfer's share of what may flow: the global cap split over the slots, or its host's cap
 * split over that host's connections, whichever is smaller; 0 when nothing caps it. */
int64_t engine_cap_share(const struct engine *e, const char *name, const struct host *h)
{
    int64_t share = capped(e) ? e->rate / (e->concurrency > 0 ? e->concurrency : 1) : 0;

    if (h->capped) {
        int n = hosts_effective(e->s, name, h);
        int64_t hs;

        if (n <= 0 || n > e->concurrency)
            n = e->concurrency;
        hs = h->bucket.rate / (n > 0 ? n : 1);
        if (share == 0 || hs < share)
            share = hs;
    }
    return share;
}

int engine_cap_local_second_of_day(void)
{
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    return tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

void engine_cap_apply_rate(struct engine *e, int64_t rate, int64_t burst)
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
            int64_t share = engine_cap_share(e, xfer_item(a->x)->host, a->host);
            int v = share > 0 ? xfer_rcvbuf_for(share) : 4 * 1024 * 1024;

            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        }
    }
    if (rate == 0) {
        /* Nothing holds them back any more. */
        loop_timer_arm(e->refill_timer, 0);
    }
    engine_emit_value(e, EV_RATE, rate, NULL);
}
