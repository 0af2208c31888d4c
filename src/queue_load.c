/* Reading from the session: adopting rows into the cache, refilling hosts' windows, sweeping for
 * hosts with queued rows, and applying what the intake writer committed. */
#include "queue_load.h"
#include "queue_impl.h"
#include "queue_write.h"
#include "store.h"
#include "store_queue.h"

#include <stdlib.h>
#include <string.h>

#define WINDOW_BUDGET 4096       /* queued items read ahead for all hosts together */
#define RING_MAX 4096            /* hosts taking turns at once */
#define PAGE_CHUNK 256

struct queue_ent *queue_load_adopt(struct queue *q, struct item *it)
{
    struct queue_ent *e = queue_cache_find(&q->cache, it->id);

    if (e != NULL) {
        item_free(it);
        return e;
    }
    it->heap_idx = (size_t)-1;
    it->qnext = it->qprev = NULL;
    e = queue_cache_add(&q->cache, it, q->gen);
    if (it->state == ITEM_RETRY)
        queue_heap_push(&q->heap, it);
    return e;
}

struct refill {
    struct queue *q;
    struct queue_host *h;
};

/* The row changed behind a clean copy (the intake writer queued a finished item again): the
 * copy takes the row's values, in place, so that pointers to it stay good. */
static void refresh(struct item *dst, struct item *src)
{
    struct item t = *dst;

    dst->state = src->state;
    dst->attempts = src->attempts;
    dst->attempt_parked = src->attempt_parked;
    dst->next_try_ms = src->next_try_ms;
    dst->http_status = src->http_status;
    dst->error = src->error;
    dst->size = src->size;
    dst->received = src->received;
    dst->etag = src->etag;
    dst->last_modified = src->last_modified;
    memcpy(dst->sha256, src->sha256, sizeof dst->sha256);
    dst->has_sha256 = src->has_sha256;
    dst->duration_ms = src->duration_ms;
    src->error = t.error;            /* freed with src */
    src->etag = t.etag;
    src->last_modified = t.last_modified;
}

static void on_queued_row(struct item *it, void *arg)
{
    struct refill *r = arg;
    struct queue_ent *e = queue_cache_find(&r->q->cache, it->id);

    if (it->id > r->h->cursor)
        r->h->cursor = it->id;
    if (e == NULL) {
        e = queue_load_adopt(r->q, it);
    } else {
        /* A dirty copy is newer than the row (not yet written): it stays. A clean one in another
         * state is older than the row. */
        if (e->it->state != ITEM_QUEUED && e->it->state != ITEM_ACTIVE &&
            !(e->flags & QUEUE_ENT_DIRTY)) {
            if (e->it->state == ITEM_RETRY)
                queue_heap_remove(&r->q->heap, e->it);
            refresh(e->it, it);
        }
        item_free(it);
    }
    if (e->it->state == ITEM_QUEUED && !(e->flags & QUEUE_ENT_WINDOW))
        queue_host_window_push(&r->q->hosts, e, false);
}

void queue_load_refill(struct queue *q, struct queue_host *h)
{
    size_t limit = WINDOW_BUDGET / (q->hosts.n > 0 ? q->hosts.n : 1);
    struct refill r = { q, h };
    char err[ERRLEN];

    if (limit > QUEUE_WINDOW_MAX)
        limit = QUEUE_WINDOW_MAX;
    if (limit < 2)
        limit = 2;
    /* Rows already in memory are skipped, so a read may bring nothing new: read on. */
    while (h->head == NULL && h->db_more) {
        int64_t t0 = now_us();
        int n = store_queue_host_queued(q->st, h->host, h->cursor, limit, q->wall_off, on_queued_row, &r,
                                  err);

        db_time(q, t0, "refill");
        if (n < 0) {
            set_error(q, err);
            return;
        }
        if ((size_t)n < limit)
            h->db_more = false;
    }
}

/* Brings hosts with queued rows into the ring, one index seek each, up to RING_MAX. */
void queue_load_sweep(struct queue *q)
{
    char err[ERRLEN];

    q->last_sweep = mono_ms();
    while (q->discover && q->hosts.n < RING_MAX) {
        char *host = NULL;
        int64_t t0 = now_us();
        int rc = store_queue_next_host(q->st, q->discover_after, &host, err);

        db_time(q, t0, "sweep");
        if (rc < 0) {
            set_error(q, err);
            return;
        }
        if (rc == 0) {
            q->discover = false;
            free(q->discover_after);
            q->discover_after = NULL;
            return;
        }
        free(q->discover_after);
        q->discover_after = host;
        queue_host_of(&q->hosts, host);
    }
}

/* New queued rows may exist for any host: look again (from the start when older rows became
 * queued, e.g. promoted retries). */
void queue_load_reset(struct queue *q, bool from_start)
{
    queue_host_reset(&q->hosts, from_start);
    q->discover = true;
    free(q->discover_after);
    q->discover_after = NULL;
}

void queue_load_sync(struct queue *q)
{
    unsigned c = atomic_load(&q->committed);
    bool moved;

    if (c == q->seen_committed)
        return;
    q->seen_committed = c;
    for (int st = 0; st < ITEM_STATE_COUNT; st++) {
        long delta = atomic_exchange(&q->moves[st], 0);

        if (delta < 0 && (size_t)-delta > q->counts[st])
            q->counts[st] = 0;
        else
            q->counts[st] = (size_t)((long)q->counts[st] + delta);
    }
    moved = atomic_exchange(&q->moved, false);
    queue_load_reset(q, moved);
    if (moved)
        queue_anchor_clear(&q->anchors);
}

size_t queue_load_page(struct queue *q, int st, size_t offset, size_t limit, struct item **out)
{
    uint64_t ids[PAGE_CHUNK];
    char err[ERRLEN];
    size_t n = 0, seen = 0;

    queue_load_sync(q);
    /* So that the rows' states match the live ones. If another writer holds the session, the
     * few items whose rows are behind are left out rather than shown under the wrong state. */
    if (queue_write_dirty(q) == 1)
        queue_write_dirty(q);
    while (seen < limit) {
        size_t want = limit - seen < PAGE_CHUNK ? limit - seen : PAGE_CHUNK;
        uint64_t pos = (uint64_t)offset + seen;
        const struct queue_anchor *a = queue_anchor_near(&q->anchors, st, pos);
        int64_t t0 = now_us();
        int got = store_queue_page_ids(q->st, st, a != NULL ? a->id : 0, a != NULL ? pos - a->off : pos,
                                 want, ids, err);

        db_time(q, t0, "page");
        if (got < 0) {
            set_error(q, err);
            break;
        }
        if (got > 0)
            queue_anchor_set(&q->anchors, st, pos, ids[0]);
        seen += (size_t)got;
        for (int i = 0; i < got; i++) {
            struct item *it = queue_get(q, ids[i]);

            if (it != NULL && (st < 0 || (int)it->state == st))
                out[n++] = it;
        }
        if ((size_t)got < want)
            break;
    }
    return n;
}
