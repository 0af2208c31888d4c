/* The queue over the session database. Memory holds a cache of items by id; what is not in the
 * cache is exactly what the database says (a cached item is written before it is let go). Queued
 * items are read per host in small windows, in input order; hosts with work take turns in a ring
 * that is filled from the database a bounded number of hosts at a time, so a list with a million
 * hosts costs no more memory than one with ten.
 *
 * This file is the public API (queue.h) and its policy. Its parts: queue_cache.c (items by id),
 * queue_heap.c (retries in memory), queue_host.c (hosts, their windows and the ring),
 * queue_anchor.c (page anchors), queue_load.c (reading from the session), queue_write.c (writing
 * to it); they share struct queue through queue_impl.h. */
#include "queue.h"
#include "loop.h"
#include "queue_impl.h"
#include "queue_load.h"
#include "queue_write.h"
#include "store.h"
#include "store_item.h"
#include "store_meta.h"
#include "store_queue.h"
#include "store_seg.h"
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SWEEP_MS 1000            /* looking for new hosts, at most this often unless starved */

/* ---- flushing ---- */

/* all false: the flush of the loop turn after a finish, which leaves the rows of items still
 * transferring to the engine's tick (queue_write_finished). */
static int flush(struct queue *q, bool all)
{
    int rc;

    queue_load_sync(q);
    rc = all ? queue_write_dirty(q) : queue_write_finished(q);
    if (rc >= 0)
        queue_write_evict(q);
    for (size_t i = 0; i < q->ngrave; i++)
        item_free(q->grave[i]);
    q->ngrave = 0;
    q->gen++;
    return rc < 0 ? -1 : 0;
}

int queue_flush(struct queue *q)
{
    return flush(q, true);
}

const char *queue_error(const struct queue *q)
{
    return q->has_err ? q->err : NULL;
}

/* ---- a session deleted while running (docs/design.md#session) ---- */

#define RELINK_RETRY_MS 5000     /* a copy that could not be put back is tried again this often */

int queue_session_check(struct queue *q, char *err)
{
    int64_t t0;
    int rc;

    if (!store_moved(q->st)) {
        q->gone = false;
        return 0;
    }
    if (q->gone && q->gone_rc < 0 && mono_ms() < q->relink_at) {
        snprintf(err, ERRLEN, "%s", q->gone_err);
        return -1;
    }
    t0 = now_us();
    rc = store_relink(q->st, err);
    db_time(q, t0, "relink");
    if (rc == 0) {
        q->gone = false;
        return 1;
    }
    q->gone = true;
    if (rc > 0) {
        snprintf(q->gone_err, sizeof q->gone_err, "session %s is gone: put back once the input "
                 "is stored", store_path(q->st));
        q->gone_rc = 2;
        return 2;
    }
    snprintf(q->gone_err, sizeof q->gone_err, "%s", err);
    q->gone_rc = -1;
    q->relink_at = mono_ms() + RELINK_RETRY_MS;
    return -1;
}

const char *queue_session_gone(const struct queue *q)
{
    return q->gone ? q->gone_err : NULL;
}

/* ---- opening and closing ---- */

static struct queue *queue_make(struct store *st, char *err)
{
    struct queue *q = xcalloc(1, sizeof *q);
    uint64_t max_id;
    int64_t due;
    int rc;

    q->st = st;
    q->evfd = -1;
    q->wall_off = wall_ms() - mono_ms();
    q->db_due = NO_DUE;
    q->due_cur_t = INT64_MIN;
    q->discover = true;
    /* A run that ended without saying so (kill -9, power loss) left its transfers ACTIVE; their
     * .part files and recorded validators let the engine resume them. */
    if (store_requeue_active(st, &q->was_active, &q->nwas_active, err) < 0 || store_counts(st, q->counts, &max_id, err) < 0 ||
        (rc = store_queue_min_due(st, INT64_MIN, 0, &due, err)) < 0) {
        store_close(st);
        free(q->was_active);
        free(q);
        return NULL;
    }
    if (rc > 0)
        q->db_due = due;
    return q;
}

struct queue *queue_open(const char *path, char *err)
{
    struct store *st = path != NULL ? store_open(path, err) : store_open_temp(err);

    return st != NULL ? queue_make(st, err) : NULL;
}

struct queue *queue_new(void)
{
    char err[ERRLEN];
    struct queue *q = queue_open(NULL, err);

    if (q == NULL)
        fatal("sluice: %s", err);
    return q;
}

/* At the end the changes still pending are written, however long a busy session takes (another
 * writer finishing) and a few times over a second on an error (a full disk may have room a moment
 * later). What still cannot be written is counted in err. */
#define CLOSE_ERROR_TRIES 5
#define CLOSE_ERROR_WAIT_US 200000
#define CLOSE_BUSY_TRIES 200
#define CLOSE_BUSY_WAIT_US 50000

static int write_all_pending(struct queue *q, char *err)
{
    int errors = 0, busy = 0;

    queue_load_sync(q);
    while (q->ndirty > 0 || q->pending != NULL) {
        int rc = queue_write_dirty(q);

        if (rc == 0)
            continue;            /* a batch went in (the rest did not fit its time budget) */
        if (rc > 0 ? ++busy > CLOSE_BUSY_TRIES : ++errors > CLOSE_ERROR_TRIES)
            break;
        usleep(rc > 0 ? CLOSE_BUSY_WAIT_US : CLOSE_ERROR_WAIT_US);
    }
    if (q->ndirty == 0 && q->pending == NULL)
        return 0;
    {
        size_t nset = 0;

        for (struct setting *s = q->pending; s != NULL; s = s->next)
            nset++;
        errf(err, "%s; not saved: %zu item change%s, %zu setting%s",
             q->has_err ? q->err : "the session stayed busy", q->ndirty,
             q->ndirty == 1 ? "" : "s", nset, nset == 1 ? "" : "s");
    }
    return -1;
}

void queue_free(struct queue *q)
{
    char err[ERRLEN];

    (void)queue_close(q, err);
}

int queue_close(struct queue *q, char *err)
{
    int rc;

    if (q == NULL)
        return 0;
    /* Gone since the last tick, or never put back: one more try, before the last writes. */
    q->relink_at = 0;
    rc = queue_session_check(q, err);
    if (rc < 0 || rc == 2) {
        char why[ERRLEN];

        snprintf(why, sizeof why, "%s", queue_session_gone(q));
        (void)write_all_pending(q, err);
        errf(err, "the session file was deleted or replaced while running and could not be put "
             "back: %s", why);
        rc = -1;
    } else {
        rc = write_all_pending(q, err);
    }
    queue_detach_loop(q);
    for (size_t i = 0; i < q->cache.cap; i++)
        if (q->cache.ents[i].id != 0)
            item_free(q->cache.ents[i].it);
    free(q->cache.ents);
    for (size_t i = 0; i < q->ngrave; i++)
        item_free(q->grave[i]);
    free(q->grave);
    while (q->hosts.ring != NULL)
        queue_host_drop(&q->hosts, q->hosts.ring);
    free(q->hosts.hb);
    free(q->discover_after);
    free(q->heap.v);
    free(q->dirty);
    free(q->was_active);
    while (q->pending != NULL) {
        struct setting *s = q->pending;

        q->pending = s->next;
        free(s->key);
        free(s);
    }
    store_close(q->st);
    free(q);
    return rc;
}

struct store *queue_store(struct queue *q)
{
    return q->st;
}

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

bool queue_was_active(struct queue *q, uint64_t id)
{
    uint64_t *at = q->nwas_active > 0 ?
                   bsearch(&id, q->was_active, q->nwas_active, sizeof id, cmp_id) : NULL;

    if (at == NULL)
        return false;
    /* Once: a later attempt of this run (after a checksum mismatch, say) starts as usual. */
    memmove(at, at + 1, (size_t)(q->was_active + q->nwas_active - (at + 1)) * sizeof *at);
    q->nwas_active--;
    return true;
}

bool queue_created(const struct queue *q)
{
    return store_created(q->st);
}

int64_t queue_wall_off(const struct queue *q)
{
    return q->wall_off;
}

/* ---- the loop ---- */

static void on_timer(void *arg)
{
    flush(arg, false);
}

static void on_wake(int fd, unsigned events, void *arg)
{
    struct queue *q = arg;
    uint64_t v;

    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
    queue_load_sync(q);
    /* The intake writer just committed and waits for us: our turn to write. */
    if (atomic_load(&q->loop_waiting))
        queue_write_dirty(q);
    if (q->wake != NULL)
        q->wake(q->wake_arg);
}

void queue_attach_loop(struct queue *q, struct loop *loop, void (*wake)(void *arg), void *arg)
{
    queue_detach_loop(q);
    q->loop = loop;
    q->timer = loop_timer_new(loop, on_timer, q);
    q->wake = wake;
    q->wake_arg = arg;
    q->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->evfd >= 0)
        loop_watch(loop, q->evfd, LOOP_READ, on_wake, q);
    if (q->urgent || q->ndirty > 0)
        queue_write_arm(q, 0);
}

void queue_detach_loop(struct queue *q)
{
    if (q->loop == NULL)
        return;
    loop_timer_free(q->timer);
    q->timer = NULL;
    if (q->evfd >= 0) {
        loop_unwatch(q->loop, q->evfd);
        close(q->evfd);
        q->evfd = -1;
    }
    q->loop = NULL;
}

void queue_expect(struct queue *q, size_t n)
{
    q->counts[ITEM_QUEUED] += n;
}

static void committed(struct queue *q)
{
    uint64_t one = 1;

    atomic_fetch_add(&q->committed, 1);
    if (q->evfd >= 0 && write(q->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
        return;
}

void queue_rows_committed(struct queue *q, long delta)
{
    atomic_fetch_add(&q->moves[ITEM_QUEUED], delta);
    committed(q);
}

void queue_rows_requeued(struct queue *q, enum item_state from, long n)
{
    if ((unsigned)from >= ITEM_STATE_COUNT)
        return;
    atomic_fetch_sub(&q->moves[from], n);
    atomic_fetch_add(&q->moves[ITEM_QUEUED], n);
    atomic_store(&q->moved, true);
    committed(q);
}

bool queue_loop_waiting(const struct queue *q)
{
    return atomic_load(&q->loop_waiting);
}

/* ---- items ---- */

int queue_add(struct queue *q, struct item *it, char *err)
{
    char buf[ERRLEN];
    uint64_t id = 0, other = 0;
    struct queue_ent *e;
    int rc;

    if (err == NULL)
        err = buf;
    rc = store_item_insert(q->st, it, 0, q->wall_off, &id, err);
    /* The URL of an item removed earlier: added by the operator, it is wanted again. */
    if (rc > 0 && store_item_find_url(q->st, it->urls[0], &other, err) > 0 &&
        store_item_purge(q->st, other, err) > 0)
        rc = store_item_insert(q->st, it, 0, q->wall_off, &id, err);
    if (rc < 0) {
        set_error(q, err);
        return -1;
    }
    if (rc > 0) {
        if (store_item_find_url(q->st, it->urls[0], &other, err) > 0)
            return errf(err, "already in the session as item %llu", (unsigned long long)other);
        if (store_item_find_path(q->st, it->path, &other, err) > 0)
            return errf(err, "output path %s is the target of item %llu", it->path,
                        (unsigned long long)other);
        return errf(err, "cannot add it to the session");
    }
    it->id = id;
    it->heap_idx = (size_t)-1;
    e = queue_cache_add(&q->cache, it, q->gen);
    q->counts[it->state]++;
    if (it->state == ITEM_QUEUED)
        queue_host_window_push(&q->hosts, e, false);
    else if (it->state == ITEM_RETRY)
        queue_heap_push(&q->heap, it);
    return 0;
}

struct item *queue_get(struct queue *q, uint64_t id)
{
    struct queue_ent *e = queue_cache_find(&q->cache, id);
    char err[ERRLEN];
    struct item *it;

    if (e == NULL) {
        int64_t t0 = now_us();

        it = store_item_load(q->st, id, q->wall_off, err);
        db_time(q, t0, "load");
        if (it == NULL) {
            if (err[0] != '\0')
                set_error(q, err);
            return NULL;
        }
        e = queue_load_adopt(q, it);
    }
    e->gen = q->gen;
    return e->it;
}

int queue_remove(struct queue *q, struct item *it, char *err)
{
    struct queue_ent *e = queue_cache_find(&q->cache, it->id);
    char buf[ERRLEN];

    if (err == NULL)
        err = buf;
    if (e == NULL || e->it != it)
        return errf(err, "item %llu is not in the queue", (unsigned long long)it->id);
    if (it->state == ITEM_ACTIVE)
        return errf(err, "item %llu is being transferred", (unsigned long long)it->id);
    if (store_item_delete(q->st, it->id, err) < 0) {
        set_error(q, err);
        return -1;
    }
    if (e->flags & QUEUE_ENT_WINDOW) {
        if (it->state == ITEM_RETRY && q->ndue > 0)
            q->ndue--;
        queue_host_window_remove(&q->hosts, e);
    }
    queue_heap_remove(&q->heap, it);
    if (q->counts[it->state] > 0)
        q->counts[it->state]--;
    queue_anchor_move(&q->anchors, it->id, (int)it->state, -1);
    queue_cache_del(&q->cache, it->id);
    q->grave = xrealloc(q->grave, (q->ngrave + 1) * sizeof *q->grave);
    q->grave[q->ngrave++] = it;
    return 0;
}

void queue_set_state(struct queue *q, struct item *it, enum item_state st)
{
    struct queue_ent *e = queue_cache_find(&q->cache, it->id);

    if (it->state == st || e == NULL || e->it != it)
        return;
    if (e->flags & QUEUE_ENT_WINDOW) {
        if (it->state == ITEM_RETRY && q->ndue > 0)
            q->ndue--;
        queue_host_window_remove(&q->hosts, e);
    }
    if (it->state == ITEM_RETRY)
        queue_heap_remove(&q->heap, it);
    if (q->counts[it->state] > 0)
        q->counts[it->state]--;
    queue_anchor_move(&q->anchors, it->id, (int)it->state, (int)st);
    it->state = st;
    q->counts[st]++;
    if (st == ITEM_QUEUED)
        queue_host_window_offer(&q->hosts, e, false);
    else if (st == ITEM_RETRY)
        queue_heap_push(&q->heap, it);
    queue_write_mark(q, it);
    if (st == ITEM_DONE || st == ITEM_UNCHANGED || st == ITEM_FAILED) {
        q->urgent = true;
        queue_write_arm(q, 0);
    }
}

void queue_touch(struct queue *q, struct item *it)
{
    queue_write_mark(q, it);
}

int queue_load_segs(struct queue *q, struct item *it, char *err)
{
    struct seg *v;
    int n;

    if (it->segs != NULL)
        return 0;
    v = xcalloc(SEGPLAN_MAX, sizeof *v);
    n = store_seg_load(q->st, it->id, v, err);
    if (n <= 0) {
        free(v);
        return n;
    }
    it->segs = v;
    it->nsegs = (size_t)n;
    return 0;
}

/* Due retries from the heap to the front of their hosts' windows, still ITEM_RETRY: a retry whose
 * wait has passed starts before the fresh items of its host (docs/design.md#retries-and-backoff). */
static void due_from_heap(struct queue *q, int64_t now_ms)
{
    while (q->heap.n > 0 && q->heap.v[0]->next_try_ms <= now_ms) {
        struct item *it = q->heap.v[0];
        struct queue_ent *e = queue_cache_find(&q->cache, it->id);

        queue_heap_remove(&q->heap, it);
        if (e == NULL || (e->flags & QUEUE_ENT_WINDOW))
            continue;
        queue_host_window_push_due(&q->hosts, e);
        q->ndue++;
    }
}

#define DUE_BATCH 256            /* retries read from the session at once */
#define DUE_MAX 4096             /* due retries waiting in memory for a slot, at most */

void queue_promote_due(struct queue *q, int64_t now_ms)
{
    uint64_t ids[DUE_BATCH];
    int64_t dues[DUE_BATCH], due, t0;
    char err[ERRLEN];
    int n, rc;

    queue_load_sync(q);
    due_from_heap(q, now_ms);
    if (q->db_due == NO_DUE || q->db_due - q->wall_off > now_ms || now_ms < q->db_retry_at)
        return;
    if (q->ndue >= DUE_MAX) {
        /* Enough wait for a slot already; the rest are read as those start. */
        q->db_retry_at = now_ms + 1000;
        return;
    }
    /* The rows must agree with memory: a retry written since is found by its row. */
    if (queue_write_dirty(q) != 0 || q->ndirty > 0) {
        q->db_retry_at = now_ms + BUSY_RETRY_MS;
        return;
    }
    t0 = now_us();
    n = store_queue_due(q->st, now_ms + q->wall_off, q->due_cur_t, q->due_cur_id, DUE_BATCH, ids,
                        dues, err);
    db_time(q, t0, "promote");
    if (n < 0) {
        set_error(q, err);
        q->db_retry_at = now_ms + BUSY_RETRY_MS * 5;
        return;
    }
    for (int i = 0; i < n; i++) {
        q->due_cur_t = dues[i];
        q->due_cur_id = ids[i];
        (void)queue_get(q, ids[i]);      /* a retry read from the session joins the heap */
    }
    due_from_heap(q, now_ms);
    if (n == DUE_BATCH) {
        q->db_due = q->due_cur_t;        /* more are due: read on at once */
        return;
    }
    rc = store_queue_min_due(q->st, q->due_cur_t, q->due_cur_id, &due, err);
    if (rc < 0) {
        set_error(q, err);
        q->db_retry_at = now_ms + BUSY_RETRY_MS * 5;
        return;
    }
    q->db_due = rc > 0 ? due : NO_DUE;
}

struct item *queue_next(struct queue *q, queue_host_ok host_ok, void *arg)
{
    queue_load_sync(q);
    if (q->counts[ITEM_QUEUED] == 0 && q->ndue == 0)
        return NULL;
    if (q->discover && (q->hosts.ring == NULL || mono_ms() - q->last_sweep >= SWEEP_MS))
        queue_load_sweep(q);
    for (int pass = 0; pass < 2; pass++) {
        size_t n = q->hosts.n;
        struct queue_host *h = q->hosts.ring;

        for (size_t i = 0; i < n && h != NULL; i++) {
            struct queue_host *next = h->next;

            if (h->head == NULL)
                queue_load_refill(q, h);
            if (h->head == NULL) {
                if (!h->db_more) {
                    if (next == h)
                        next = NULL;
                    queue_host_drop(&q->hosts, h);
                }
            } else if (host_ok == NULL || host_ok(h->host, arg)) {
                q->hosts.ring = h->next;   /* the next turn starts after this host */
                return h->head;
            }
            h = next;
        }
        /* Every host in the ring is busy or empty: look for hosts not in it yet. */
        if (pass > 0 || !q->discover)
            break;
        queue_load_sweep(q);
    }
    return NULL;
}

int64_t queue_next_due(const struct queue *q)
{
    int64_t due = q->heap.n > 0 ? q->heap.v[0]->next_try_ms : -1;

    if (q->db_due != NO_DUE) {
        int64_t d = q->db_due - q->wall_off;

        if (d < q->db_retry_at)
            d = q->db_retry_at;
        if (due < 0 || d < due)
            due = d;
    }
    return due;
}

long queue_requeue_failed(struct queue *q)
{
    return queue_write_requeue(q, ITEM_FAILED);
}

long queue_requeue_failed_where(struct queue *q, int status, const char *host)
{
    return queue_write_requeue_failed_where(q, status, host);
}

long queue_resume_paused(struct queue *q)
{
    return queue_write_requeue(q, ITEM_PAUSED);
}

long queue_new_pass(struct queue *q)
{
    static const enum item_state from[] = { ITEM_DONE, ITEM_UNCHANGED, ITEM_FAILED };
    long total = 0;

    for (size_t i = 0; i < ARRAY_LEN(from); i++) {
        long n = queue_write_requeue(q, from[i]);

        if (n < 0)
            return -1;
        total += n;
    }
    return total;
}

size_t queue_count(const struct queue *q, enum item_state st)
{
    return (unsigned)st < ITEM_STATE_COUNT ? q->counts[st] : 0;
}

void queue_sync_counts(struct queue *q)
{
    queue_load_sync(q);
}

size_t queue_total(const struct queue *q)
{
    size_t n = 0;

    for (int i = 0; i < ITEM_STATE_COUNT; i++)
        n += q->counts[i];
    return n;
}

size_t queue_cached(const struct queue *q)
{
    return q->cache.n;
}

void queue_db_stats(const struct queue *q, struct queue_db_stats *st)
{
    *st = q->dbs;
}

size_t queue_page(struct queue *q, int st, size_t offset, size_t limit, struct item **out)
{
    return queue_load_page(q, st, offset, limit, out);
}

int queue_setting_get(struct queue *q, const char *key, int64_t *value)
{
    char err[ERRLEN], *text = NULL, *end;
    int rc;

    for (struct setting *s = q->pending; s != NULL; s = s->next) {
        if (strcmp(s->key, key) == 0) {
            *value = s->value;
            return 1;
        }
    }
    rc = store_meta_setting_get(q->st, key, &text, err);
    if (rc < 0) {
        set_error(q, err);
        return -1;
    }
    if (rc == 0)
        return 0;
    errno = 0;
    *value = strtoll(text, &end, 10);
    rc = errno == 0 && end != text && *end == '\0' ? 1 : 0;    /* garbage reads as unset */
    free(text);
    return rc;
}

int queue_setting_set(struct queue *q, const char *key, int64_t value)
{
    struct setting *s;
    char err[ERRLEN], v[32];

    for (s = q->pending; s != NULL; s = s->next) {
        if (strcmp(s->key, key) == 0) {
            s->value = value;
            queue_write_arm(q, 0);
            return 0;
        }
    }
    snprintf(v, sizeof v, "%lld", (long long)value);
    if (store_meta_setting_set(q->st, key, v, err) == 0)
        return 0;
    /* Kept for the next flush either way: busy (the intake is writing) clears by itself, and
     * an error (a full disk) may too; the flush retries it. */
    s = xcalloc(1, sizeof *s);
    s->key = xstrdup(key);
    s->value = value;
    s->next = q->pending;
    q->pending = s;
    queue_write_arm(q, BUSY_RETRY_MS);
    if (store_busy(q->st))
        return 0;
    set_error(q, err);
    return -1;
}


int queue_setting_del(struct queue *q, const char *key)
{
    char err[ERRLEN];

    for (struct setting **pp = &q->pending; *pp != NULL;) {
        struct setting *s = *pp;

        if (strcmp(s->key, key) == 0) {
            *pp = s->next;
            free(s->key);
            free(s);
        } else {
            pp = &s->next;
        }
    }
    if (store_meta_setting_del(q->st, key, err) < 0) {
        set_error(q, err);
        return -1;
    }
    return 0;
}

size_t queue_host_pending(const struct queue *q, const char *host, bool *more)
{
    const struct queue_host *h = queue_host_find(&q->hosts, host);

    *more = h != NULL && h->db_more;
    return h != NULL ? h->nwin : 0;
}
