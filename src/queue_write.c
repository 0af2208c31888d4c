/* Writing to the session: marked items in batches (never one transaction per change), settings
 * that waited for a busy session, bulk moves, and letting go of written items nobody holds. */
#include "queue_write.h"
#include "loop.h"
#include "queue_impl.h"
#include "queue_load.h"
#include "store.h"
#include "store_item.h"
#include "store_meta.h"
#include "store_queue.h"
#include "store_seg.h"

#include <stdlib.h>
#include <string.h>

#define PIN_MAX 256              /* idle items whose running digest stays in memory */
#define WRITE_BUDGET_US 20000    /* one write holds the loop at most about this long */

void queue_write_mark(struct queue *q, struct item *it)
{
    struct queue_ent *e = queue_cache_find(&q->cache, it->id);

    if (e == NULL || (e->flags & QUEUE_ENT_DIRTY))
        return;
    e->flags |= QUEUE_ENT_DIRTY;
    if (q->ndirty == q->dirtycap) {
        q->dirtycap = q->dirtycap ? q->dirtycap * 2 : 256;
        q->dirty = xrealloc(q->dirty, q->dirtycap * sizeof *q->dirty);
    }
    q->dirty[q->ndirty++] = it->id;
}

void queue_write_arm(struct queue *q, int64_t ms)
{
    if (q->timer != NULL && !loop_timer_armed(q->timer))
        loop_timer_arm(q->timer, ms);
}

/* Writes the marked items in one transaction, as many as fit in WRITE_BUDGET_US (the rest on
 * the next loop turn: q->ndirty says what is left). 0 written, 1 the session is busy (another
 * writer): nothing was written and the loop did not wait for long, -1 error. */
int queue_write_dirty(struct queue *q)
{
    char err[ERRLEN];
    int64_t t0 = now_us();
    size_t done = 0;
    int rc;

    if (q->ndirty == 0 && q->pending == NULL)
        return 0;
    rc = store_begin(q->st, err);
    if (rc != 0) {
        db_time(q, t0, "write");
        if (rc < 0) {
            set_error(q, err);
            return -1;
        }
        q->dbs.busy++;
        atomic_store(&q->loop_waiting, true);
        queue_write_arm(q, BUSY_RETRY_MS);
        return 1;
    }
    /* Rows written while another connection commits are read cold (its commits empty our page
     * cache), so a big batch can take long: stop at the budget. */
    for (; done < q->ndirty; done++) {
        struct queue_ent *e = queue_cache_find(&q->cache, q->dirty[done]);

        if (e != NULL && store_item_write(q->st, e->it, q->wall_off, err) < 0)
            goto fail;
        /* The ranges of a segmented download go with their item (none: its rows go). */
        if (e != NULL && e->it->segs_dirty &&
            store_seg_write(q->st, e->it->id, e->it->segs, e->it->nsegs, err) < 0)
            goto fail;
        if (done % 32 == 31 && now_us() - t0 > WRITE_BUDGET_US) {
            done++;
            break;
        }
    }
    for (struct setting *s = q->pending; s != NULL; s = s->next) {
        char v[32];

        snprintf(v, sizeof v, "%lld", (long long)s->value);
        if (store_meta_setting_set(q->st, s->key, v, err) < 0)
            goto fail;
    }
    if (store_commit(q->st, err) < 0) {
        db_time(q, t0, "write");
        set_error(q, err);
        return -1;
    }
    db_time(q, t0, "write");
    q->has_err = false;          /* written again: what failed before is in now */
    for (size_t i = 0; i < done; i++) {
        struct queue_ent *e = queue_cache_find(&q->cache, q->dirty[i]);

        if (e != NULL) {
            e->flags &= (uint8_t)~QUEUE_ENT_DIRTY;
            e->it->segs_dirty = false;
        }
    }
    memmove(q->dirty, q->dirty + done, (q->ndirty - done) * sizeof *q->dirty);
    q->ndirty -= done;
    while (q->pending != NULL) {
        struct setting *s = q->pending;

        q->pending = s->next;
        free(s->key);
        free(s);
    }
    atomic_store(&q->loop_waiting, false);
    if (q->ndirty > 0) {
        queue_write_arm(q, 0);
        return 0;
    }
    q->urgent = false;
    return 0;
fail:
    set_error(q, err);
    store_rollback(q->st);
    db_time(q, t0, "write");
    return -1;
}

/* Lets go of cached items nobody can still hold: not transferring, not in a window, written,
 * and not handed out since the previous flush. Up to PIN_MAX idle items keep their running
 * digest (a retry resumes without rereading its .part). */
void queue_write_evict(struct queue *q)
{
    uint64_t *gone = NULL;
    size_t ngone = 0, cap = 0, pinned = 0;

    for (size_t i = 0; i < q->cache.cap; i++) {
        struct queue_ent *e = &q->cache.ents[i];
        struct item *it = e->it;

        if (e->id == 0 || it->state == ITEM_ACTIVE ||
            (e->flags & (QUEUE_ENT_WINDOW | QUEUE_ENT_DIRTY)) || e->gen == q->gen)
            continue;
        /* A retry the session's due cursor has passed would not be read again from there. */
        if (it->state == ITEM_RETRY && it->next_try_ms + q->wall_off <= q->due_cur_t)
            continue;
        if (it->hash_state != NULL && pinned < PIN_MAX) {
            pinned++;
            continue;
        }
        if (ngone == cap) {
            cap = cap ? cap * 2 : 64;
            gone = xrealloc(gone, cap * sizeof *gone);
        }
        gone[ngone++] = e->id;
    }
    for (size_t i = 0; i < ngone; i++) {
        struct queue_ent *e = queue_cache_find(&q->cache, gone[i]);
        struct item *it = e->it;

        if (it->state == ITEM_RETRY) {
            /* The session has it: its due time now counts there. */
            queue_heap_remove(&q->heap, it);
            if (it->next_try_ms + q->wall_off < q->db_due)
                q->db_due = it->next_try_ms + q->wall_off;
        }
        queue_cache_del(&q->cache, gone[i]);
        item_free(it);
    }
    free(gone);
}

/* One UPDATE in the session; live copies follow the rows they mirror. */
static long requeue(struct queue *q, enum item_state from, bool where, int status,
                    const char *host)
{
    char err[ERRLEN];
    int n;

    queue_load_sync(q);
    /* The rows must agree with memory before a bulk update counts them; if another writer
     * holds the session, wait for it a little rather than do nothing. */
    for (int i = 0; i < 50 && q->ndirty > 0 && queue_write_dirty(q) >= 0; i++)
        ;
    if (q->ndirty > 0) {
        /* Not "nothing to requeue": the caller must learn that nothing was done. */
        if (!q->has_err)
            set_error(q, "the session is busy (another writer holds it)");
        return -1;
    }
    n = where ? store_queue_requeue_failed_where(q->st, status, host, err)
              : store_queue_requeue(q->st, from, err);
    if (n < 0) {
        set_error(q, err);
        return -1;
    }
    if ((size_t)n > q->counts[from])
        n = (int)q->counts[from];
    q->counts[from] -= (size_t)n;
    q->counts[ITEM_QUEUED] += (size_t)n;
    for (size_t i = 0; i < q->cache.cap; i++) {
        struct queue_ent *e = &q->cache.ents[i];

        if (e->id == 0 || e->it->state != from)
            continue;
        /* The same test as the statement's, on the copy in memory. */
        if (where && ((status != 0 && e->it->http_status != status) ||
                      (host != NULL && (e->it->host == NULL || strcmp(e->it->host, host) != 0))))
            continue;
        e->it->state = ITEM_QUEUED;
        if (from == ITEM_PAUSED && e->it->attempt_parked && e->it->attempts > 0)
            e->it->attempts--;      /* as the statement did */
        e->it->attempt_parked = false;
        if (from != ITEM_PAUSED) {
            e->it->attempts = 0;
            item_set_error(e->it, NULL);
        }
        queue_host_window_offer(&q->hosts, e, false);
    }
    if (n > 0) {
        queue_load_reset(q, true);
        queue_anchor_clear(&q->anchors);
    }
    return n;
}

long queue_write_requeue(struct queue *q, enum item_state from)
{
    return requeue(q, from, false, 0, NULL);
}

long queue_write_requeue_failed_where(struct queue *q, int status, const char *host)
{
    return requeue(q, ITEM_FAILED, true, status, host);
}
