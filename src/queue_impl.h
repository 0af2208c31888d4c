#ifndef SLUICE_QUEUE_IMPL_H
#define SLUICE_QUEUE_IMPL_H
/* Internal: the layout of struct queue and the helpers its files share (queue.c, the public API;
 * queue_load.c, reading from the session; queue_write.c, writing to it). Nothing outside
 * src/queue*.c includes it; everyone else uses queue.h. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "item.h"
#include "queue.h"
#include "queue_anchor.h"
#include "queue_cache.h"
#include "queue_heap.h"
#include "queue_host.h"
#include "util.h"

#define BUSY_RETRY_MS 50         /* the session was busy: write again this soon (or when woken) */
#define NO_DUE INT64_MAX

struct setting {
    char *key;
    int64_t value;
    struct setting *next;
};

struct queue {
    struct store *st;
    int64_t wall_off;
    struct queue_cache cache;    /* items in memory by id */
    struct queue_hosts hosts;    /* hosts with queued work, taking turns in a ring */
    bool discover;               /* the session may hold queued hosts that are not in the ring */
    char *discover_after;
    int64_t last_sweep;
    /* Retries in memory, min-heap by next_try_ms; the session's own are summed up by db_due. */
    struct queue_heap heap;
    int64_t db_due;              /* wall ms, NO_DUE when none */
    /* Retries read from the session as they came due: every row up to this (next_try wall ms,
     * id) is in memory. Due retries wait at the front of their host's window, still ITEM_RETRY
     * (ndue of them), until they start. */
    int64_t due_cur_t;
    uint64_t due_cur_id;
    size_t ndue;
    int64_t db_retry_at;         /* monotonic: the session was busy, look again then */
    size_t counts[ITEM_STATE_COUNT];
    uint64_t *dirty;
    size_t ndirty, dirtycap;
    bool urgent;
    uint32_t gen;
    struct item **grave;         /* removed items, freed at the next flush */
    size_t ngrave;
    struct setting *pending;     /* settings to write with the next flush */
    struct queue_anchors anchors;
    char err[ERRLEN];
    bool has_err;
    /* Items the run before this one left ITEM_ACTIVE (cut short by kill -9, a crash, power
     * loss), ascending: their .part may be worth a look even without a recorded progress. */
    uint64_t *was_active;
    size_t nwas_active;
    /* The session file was deleted or replaced and is not back yet (queue_session_check). */
    bool gone;
    int gone_rc;
    int64_t relink_at;           /* monotonic: after a failure, try again then */
    char gone_err[ERRLEN];
    struct queue_db_stats dbs;
    /* Loop. */
    struct loop *loop;
    struct loop_timer *timer;
    int evfd;
    void (*wake)(void *arg);
    void *wake_arg;
    /* Shared with the intake writer. */
    atomic_long moves[ITEM_STATE_COUNT];     /* count changes made by the intake writer */
    atomic_bool moved;           /* it moved older rows back to the queue */
    atomic_uint committed;
    atomic_bool loop_waiting;
    unsigned seen_committed;
};

static inline int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One stretch of the loop's time spent in the session, from t0. */
static inline void db_time(struct queue *q, int64_t t0, const char *what)
{
    int64_t d = now_us() - t0;

    q->dbs.calls++;
    q->dbs.total_us += d;
    if (d > q->dbs.max_us) {
        q->dbs.max_us = d;
        q->dbs.slowest = what;
    }
}

static inline void set_error(struct queue *q, const char *msg)
{
    snprintf(q->err, sizeof q->err, "%s", msg);
    q->has_err = true;
}

#endif
