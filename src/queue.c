/* The queue over the session database. Memory holds a cache of items by id; what is not in the
 * cache is exactly what the database says (a cached item is written before it is let go). Queued
 * items are read per host in small windows, in input order; hosts with work take turns in a ring
 * that is filled from the database a bounded number of hosts at a time, so a list with a million
 * hosts costs no more memory than one with ten. */
#include "queue.h"
#include "hmap.h"
#include "loop.h"
#include "store.h"
#include "store_item.h"
#include "store_meta.h"
#include "store_queue.h"
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_MAX 64            /* queued items read ahead for one host */
#define WINDOW_BUDGET 4096       /* ... and for all hosts together */
#define RING_MAX 4096            /* hosts taking turns at once */
#define PIN_MAX 256              /* idle items whose running digest stays in memory */
#define SWEEP_MS 1000            /* looking for new hosts, at most this often unless starved */
#define WRITE_BUDGET_US 20000    /* one write holds the loop at most about this long */
#define BUSY_RETRY_MS 50         /* the session was busy: write again this soon (or when woken) */
#define PAGE_CHUNK 256
#define ANCHORS 16               /* where recent pages began, to skip counting up to them */
#define NO_DUE INT64_MAX

enum { F_DIRTY = 1, F_WINDOW = 2 };

struct ent {
    uint64_t id;                 /* 0 = free slot */
    struct item *it;
    uint32_t gen;                /* flush generation when last handed out */
    uint8_t flags;
};

struct hostq {
    char *host;
    uint64_t hash;
    struct item *head, *tail;    /* the window: queued items in memory */
    size_t nwin;
    uint64_t cursor;             /* the last id read from the session for this host */
    bool db_more;                /* the session may hold more queued items past cursor */
    struct hostq *prev, *next;   /* ring */
    struct hostq *hnext;         /* hash chain */
};

/* The offset-th item of state st (st < 0: any) is id. Kept exact as items move (anchors_move),
 * so that the next page near it counts from there instead of from the first row. */
struct anchor {
    int st;
    bool used;
    uint64_t off, id;
};

struct setting {
    char *key;
    int64_t value;
    struct setting *next;
};

struct queue {
    struct store *st;
    int64_t wall_off;
    /* Cache: open addressing by id, linear probing, deletion by backward shift. */
    struct ent *ents;
    size_t ecap, nents;
    /* Hosts: chained by hash; every host here is also in the ring. */
    struct hostq **hb;
    size_t hcap, nhosts;
    struct hostq *ring;
    bool discover;               /* the session may hold queued hosts that are not in the ring */
    char *discover_after;
    int64_t last_sweep;
    /* Retries in memory, min-heap by next_try_ms; the session's own are summed up by db_due. */
    struct item **heap;
    size_t nheap, heapcap;
    int64_t db_due;              /* wall ms, NO_DUE when none */
    int64_t db_retry_at;         /* monotonic: the session was busy, look again then */
    size_t counts[ITEM_STATE_COUNT];
    uint64_t *dirty;
    size_t ndirty, dirtycap;
    bool urgent;
    uint32_t gen;
    struct item **grave;         /* removed items, freed at the next flush */
    size_t ngrave;
    struct setting *pending;     /* settings to write with the next flush */
    struct anchor anchors[ANCHORS];
    unsigned next_anchor;
    char err[ERRLEN];
    bool has_err;
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

static const char *state_names[ITEM_STATE_COUNT] = {
    "queued", "active", "retry", "paused", "done", "unchanged", "failed",
};

const char *item_state_name(enum item_state s)
{
    return (unsigned)s < ITEM_STATE_COUNT ? state_names[s] : "?";
}

void item_free(struct item *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->nurls; i++)
        free(it->urls[i]);
    free(it->urls);
    for (size_t i = 0; i < it->nheaders; i++)
        free(it->headers[i]);
    free(it->headers);
    free(it->path);
    free(it->host);
    free(it->error);
    free(it->etag);
    free(it->last_modified);
    if (it->hash_state != NULL && item_hash_free != NULL)
        item_hash_free(it->hash_state);
    free(it);
}

void item_set_error(struct item *it, const char *msg)
{
    free(it->error);
    it->error = msg != NULL ? xstrdup(msg) : NULL;
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One stretch of the loop's time spent in the session, from t0. */
static void db_time(struct queue *q, int64_t t0, const char *what)
{
    int64_t d = now_us() - t0;

    q->dbs.calls++;
    q->dbs.total_us += d;
    if (d > q->dbs.max_us) {
        q->dbs.max_us = d;
        q->dbs.slowest = what;
    }
}

static void set_error(struct queue *q, const char *msg)
{
    snprintf(q->err, sizeof q->err, "%s", msg);
    q->has_err = true;
}

/* ---- the cache ---- */

static size_t slot_of(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

static struct ent *ent_find(const struct queue *q, uint64_t id)
{
    if (q->ecap == 0 || id == 0)
        return NULL;
    for (size_t i = slot_of(id, q->ecap);; i = (i + 1) & (q->ecap - 1)) {
        if (q->ents[i].id == id)
            return &q->ents[i];
        if (q->ents[i].id == 0)
            return NULL;
    }
}

static void ent_grow(struct queue *q)
{
    struct ent *old = q->ents;
    size_t oldcap = q->ecap;

    q->ecap = q->ecap ? q->ecap * 2 : 256;
    q->ents = xcalloc(q->ecap, sizeof *q->ents);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].id == 0)
            continue;
        size_t j = slot_of(old[i].id, q->ecap);

        while (q->ents[j].id != 0)
            j = (j + 1) & (q->ecap - 1);
        q->ents[j] = old[i];
    }
    free(old);
}

static struct ent *ent_add(struct queue *q, struct item *it)
{
    size_t i;

    if ((q->nents + 1) * 2 > q->ecap)
        ent_grow(q);
    for (i = slot_of(it->id, q->ecap); q->ents[i].id != 0; i = (i + 1) & (q->ecap - 1))
        ;
    q->ents[i] = (struct ent){ .id = it->id, .it = it, .gen = q->gen };
    q->nents++;
    return &q->ents[i];
}

static void ent_del(struct queue *q, uint64_t id)
{
    struct ent *e = ent_find(q, id);
    size_t i, j;

    if (e == NULL)
        return;
    i = (size_t)(e - q->ents);
    q->ents[i].id = 0;
    q->nents--;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (j = (i + 1) & (q->ecap - 1); q->ents[j].id != 0; j = (j + 1) & (q->ecap - 1)) {
        size_t home = slot_of(q->ents[j].id, q->ecap);

        if (((j - home) & (q->ecap - 1)) >= ((j - i) & (q->ecap - 1))) {
            q->ents[i] = q->ents[j];
            q->ents[j].id = 0;
            i = j;
        }
    }
}

/* ---- retries in memory ---- */

static void heap_swap(struct queue *q, size_t a, size_t b)
{
    struct item *t = q->heap[a];

    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->heap_idx = a;
    q->heap[b]->heap_idx = b;
}

static void heap_up(struct queue *q, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (q->heap[p]->next_try_ms <= q->heap[i]->next_try_ms)
            break;
        heap_swap(q, p, i);
        i = p;
    }
}

static void heap_down(struct queue *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < q->nheap && q->heap[l]->next_try_ms < q->heap[m]->next_try_ms)
            m = l;
        if (r < q->nheap && q->heap[r]->next_try_ms < q->heap[m]->next_try_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(q, i, m);
        i = m;
    }
}

static void heap_push(struct queue *q, struct item *it)
{
    if (q->nheap == q->heapcap) {
        q->heapcap = q->heapcap ? q->heapcap * 2 : 64;
        q->heap = xrealloc(q->heap, q->heapcap * sizeof *q->heap);
    }
    q->heap[q->nheap] = it;
    it->heap_idx = q->nheap++;
    heap_up(q, it->heap_idx);
}

static void heap_remove(struct queue *q, struct item *it)
{
    size_t i = it->heap_idx;

    if (i >= q->nheap || q->heap[i] != it)
        return;
    q->nheap--;
    if (i != q->nheap) {
        q->heap[i] = q->heap[q->nheap];
        q->heap[i]->heap_idx = i;
        heap_down(q, i);
        heap_up(q, i);
    }
    it->heap_idx = (size_t)-1;
}

/* ---- hosts and their windows ---- */

static struct hostq *host_find(const struct queue *q, const char *host)
{
    uint64_t h;

    if (q->hcap == 0)
        return NULL;
    h = hmap_hash(host, strlen(host));
    for (struct hostq *p = q->hb[h & (q->hcap - 1)]; p != NULL; p = p->hnext)
        if (p->hash == h && strcmp(p->host, host) == 0)
            return p;
    return NULL;
}

static void host_rehash(struct queue *q)
{
    struct hostq **old = q->hb;
    size_t oldcap = q->hcap;

    q->hcap = q->hcap ? q->hcap * 2 : 64;
    q->hb = xcalloc(q->hcap, sizeof *q->hb);
    for (size_t i = 0; i < oldcap; i++) {
        struct hostq *p = old[i], *next;

        for (; p != NULL; p = next) {
            next = p->hnext;
            p->hnext = q->hb[p->hash & (q->hcap - 1)];
            q->hb[p->hash & (q->hcap - 1)] = p;
        }
    }
    free(old);
}

/* A host joins the ring just before the current turn, so it is served after the others. */
static struct hostq *host_new(struct queue *q, const char *host)
{
    struct hostq *h = xcalloc(1, sizeof *h);

    if (q->nhosts + 1 > q->hcap)
        host_rehash(q);
    h->host = xstrdup(host);
    h->hash = hmap_hash(host, strlen(host));
    h->db_more = true;
    h->hnext = q->hb[h->hash & (q->hcap - 1)];
    q->hb[h->hash & (q->hcap - 1)] = h;
    q->nhosts++;
    if (q->ring == NULL) {
        h->next = h->prev = h;
        q->ring = h;
    } else {
        h->next = q->ring;
        h->prev = q->ring->prev;
        h->prev->next = h;
        q->ring->prev = h;
    }
    return h;
}

static struct hostq *host_of(struct queue *q, const char *host)
{
    struct hostq *h = host_find(q, host);

    return h != NULL ? h : host_new(q, host);
}

static void host_drop(struct queue *q, struct hostq *h)
{
    struct hostq **pp = &q->hb[h->hash & (q->hcap - 1)];

    while (*pp != h)
        pp = &(*pp)->hnext;
    *pp = h->hnext;
    q->nhosts--;
    if (h->next == h) {
        q->ring = NULL;
    } else {
        h->prev->next = h->next;
        h->next->prev = h->prev;
        if (q->ring == h)
            q->ring = h->next;
    }
    free(h->host);
    free(h);
}

static void window_push(struct queue *q, struct ent *e, bool front)
{
    struct item *it = e->it;
    struct hostq *h = host_of(q, it->host);

    it->qnext = it->qprev = NULL;
    if (h->head == NULL) {
        h->head = h->tail = it;
    } else if (front) {
        it->qnext = h->head;
        h->head->qprev = it;
        h->head = it;
    } else {
        it->qprev = h->tail;
        h->tail->qnext = it;
        h->tail = it;
    }
    h->nwin++;
    e->flags |= F_WINDOW;
}

static void window_remove(struct queue *q, struct ent *e)
{
    struct item *it = e->it;
    struct hostq *h = host_find(q, it->host);

    e->flags &= (uint8_t)~F_WINDOW;
    if (h == NULL)
        return;
    if (it->qprev != NULL)
        it->qprev->qnext = it->qnext;
    else
        h->head = it->qnext;
    if (it->qnext != NULL)
        it->qnext->qprev = it->qprev;
    else
        h->tail = it->qprev;
    it->qnext = it->qprev = NULL;
    h->nwin--;
}

/* An item that becomes queued joins its host's window, unless the window is long already (a bulk
 * move by pages): then the session's row is enough, and the host reads it again from there. */
static void window_offer(struct queue *q, struct ent *e, bool front)
{
    struct hostq *h = host_of(q, e->it->host);

    if (front || h->nwin < 2 * WINDOW_MAX) {
        window_push(q, e, front);
        return;
    }
    if (e->it->id <= h->cursor)
        h->cursor = e->it->id - 1;
    h->db_more = true;
}

/* New queued rows may exist for any host: look again (from the start when older rows became
 * queued, e.g. promoted retries). */
static void hosts_reset(struct queue *q, bool from_start)
{
    struct hostq *h = q->ring;

    if (h != NULL) {
        do {
            h->db_more = true;
            if (from_start)
                h->cursor = 0;
            h = h->next;
        } while (h != q->ring);
    }
    q->discover = true;
    free(q->discover_after);
    q->discover_after = NULL;
}

/* ---- page anchors ---- */

/* Item id moved from state `from` to state `to` (-1: it was removed): the offsets of anchors
 * after it shift by one. */
static void anchors_move(struct queue *q, uint64_t id, int from, int to)
{
    for (int i = 0; i < ANCHORS; i++) {
        struct anchor *a = &q->anchors[i];
        int d = 0;

        if (!a->used || id > a->id)
            continue;
        if (a->st < 0) {
            d = to < 0 ? -1 : 0;
        } else {
            d = (from == a->st ? -1 : 0) + (to == a->st ? 1 : 0);
        }
        if (id == a->id ? d < 0 : (d < 0 && a->off == 0))
            a->used = false;         /* the anchor's own row left: forget it */
        else if (id != a->id)
            a->off = (uint64_t)((int64_t)a->off + d);
    }
}

/* Bulk moves in the session: nothing is known about where rows went. */
static void anchors_clear(struct queue *q)
{
    for (int i = 0; i < ANCHORS; i++)
        q->anchors[i].used = false;
}

static const struct anchor *anchor_near(const struct queue *q, int st, uint64_t off)
{
    const struct anchor *best = NULL;

    for (int i = 0; i < ANCHORS; i++) {
        const struct anchor *a = &q->anchors[i];

        if (a->used && a->st == st && a->off <= off && (best == NULL || a->off > best->off))
            best = a;
    }
    return best;
}

static void anchor_set(struct queue *q, int st, uint64_t off, uint64_t id)
{
    struct anchor *a = NULL;

    for (int i = 0; i < ANCHORS && a == NULL; i++)
        if (q->anchors[i].used && q->anchors[i].st == st && q->anchors[i].off == off)
            a = &q->anchors[i];
    if (a == NULL)
        a = &q->anchors[q->next_anchor++ % ANCHORS];
    *a = (struct anchor){ .st = st, .used = true, .off = off, .id = id };
}

/* ---- loading ---- */

/* Puts a freshly read item into the cache, or returns the live copy when there is one. */
static struct ent *adopt(struct queue *q, struct item *it)
{
    struct ent *e = ent_find(q, it->id);

    if (e != NULL) {
        item_free(it);
        return e;
    }
    it->heap_idx = (size_t)-1;
    it->qnext = it->qprev = NULL;
    e = ent_add(q, it);
    if (it->state == ITEM_RETRY)
        heap_push(q, it);
    return e;
}

struct refill {
    struct queue *q;
    struct hostq *h;
};

/* The row changed behind a clean copy (the intake writer queued a finished item again): the
 * copy takes the row's values, in place, so that pointers to it stay good. */
static void refresh(struct item *dst, struct item *src)
{
    struct item t = *dst;

    dst->state = src->state;
    dst->attempts = src->attempts;
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
    struct ent *e = ent_find(r->q, it->id);

    if (it->id > r->h->cursor)
        r->h->cursor = it->id;
    if (e == NULL) {
        e = adopt(r->q, it);
    } else {
        /* A dirty copy is newer than the row (not yet written): it stays. A clean one in another
         * state is older than the row. */
        if (e->it->state != ITEM_QUEUED && e->it->state != ITEM_ACTIVE && !(e->flags & F_DIRTY)) {
            if (e->it->state == ITEM_RETRY)
                heap_remove(r->q, e->it);
            refresh(e->it, it);
        }
        item_free(it);
    }
    if (e->it->state == ITEM_QUEUED && !(e->flags & F_WINDOW))
        window_push(r->q, e, false);
}

static void refill(struct queue *q, struct hostq *h)
{
    size_t limit = WINDOW_BUDGET / (q->nhosts > 0 ? q->nhosts : 1);
    struct refill r = { q, h };
    char err[ERRLEN];

    if (limit > WINDOW_MAX)
        limit = WINDOW_MAX;
    if (limit < 2)
        limit = 2;
    /* Rows already in memory are skipped, so a read may bring nothing new: read on. */
    while (h->head == NULL && h->db_more) {
        int64_t t0 = now_us();
        int n = store_queue_host_queued(q->st, h->host, h->cursor, limit, q->wall_off,
                                        on_queued_row, &r, err);

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
static void sweep(struct queue *q)
{
    char err[ERRLEN];

    q->last_sweep = mono_ms();
    while (q->discover && q->nhosts < RING_MAX) {
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
        host_of(q, host);
    }
}

/* Applies what the intake writer committed since the last look. */
static void sync_committed(struct queue *q)
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
    hosts_reset(q, moved);
    if (moved)
        anchors_clear(q);
}

/* ---- writing ---- */

static void mark_dirty(struct queue *q, struct item *it)
{
    struct ent *e = ent_find(q, it->id);

    if (e == NULL || (e->flags & F_DIRTY))
        return;
    e->flags |= F_DIRTY;
    if (q->ndirty == q->dirtycap) {
        q->dirtycap = q->dirtycap ? q->dirtycap * 2 : 256;
        q->dirty = xrealloc(q->dirty, q->dirtycap * sizeof *q->dirty);
    }
    q->dirty[q->ndirty++] = it->id;
}

static void arm(struct queue *q, int64_t ms)
{
    if (q->timer != NULL && !loop_timer_armed(q->timer))
        loop_timer_arm(q->timer, ms);
}

/* Writes the marked items in one transaction, as many as fit in WRITE_BUDGET_US (the rest on
 * the next loop turn: q->ndirty says what is left). 0 written, 1 the session is busy (another
 * writer): nothing was written and the loop did not wait for long, -1 error. */
static int write_dirty(struct queue *q)
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
        arm(q, BUSY_RETRY_MS);
        return 1;
    }
    /* Rows written while another connection commits are read cold (its commits empty our page
     * cache), so a big batch can take long: stop at the budget. */
    for (; done < q->ndirty; done++) {
        struct ent *e = ent_find(q, q->dirty[done]);

        if (e != NULL && store_item_write(q->st, e->it, q->wall_off, err) < 0)
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
    for (size_t i = 0; i < done; i++) {
        struct ent *e = ent_find(q, q->dirty[i]);

        if (e != NULL)
            e->flags &= (uint8_t)~F_DIRTY;
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
        arm(q, 0);
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
static void evict(struct queue *q)
{
    uint64_t *gone = NULL;
    size_t ngone = 0, cap = 0, pinned = 0;

    for (size_t i = 0; i < q->ecap; i++) {
        struct ent *e = &q->ents[i];
        struct item *it = e->it;

        if (e->id == 0 || it->state == ITEM_ACTIVE || (e->flags & (F_WINDOW | F_DIRTY)) ||
            e->gen == q->gen)
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
        struct ent *e = ent_find(q, gone[i]);
        struct item *it = e->it;

        if (it->state == ITEM_RETRY) {
            /* The session has it: its due time now counts there. */
            heap_remove(q, it);
            if (it->next_try_ms + q->wall_off < q->db_due)
                q->db_due = it->next_try_ms + q->wall_off;
        }
        ent_del(q, gone[i]);
        item_free(it);
    }
    free(gone);
}

int queue_flush(struct queue *q)
{
    int rc;

    sync_committed(q);
    rc = write_dirty(q);
    if (rc >= 0)
        evict(q);
    for (size_t i = 0; i < q->ngrave; i++)
        item_free(q->grave[i]);
    q->ngrave = 0;
    q->gen++;
    return rc < 0 ? -1 : 0;
}

const char *queue_error(const struct queue *q)
{
    return q->has_err ? q->err : NULL;
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
    q->discover = true;
    /* A run that ended without saying so (kill -9, power loss) left its transfers ACTIVE; their
     * .part files and recorded validators let the engine resume them. */
    if (store_requeue_active(st, err) < 0 || store_counts(st, q->counts, &max_id, err) < 0 ||
        (rc = store_queue_min_due(st, &due, err)) < 0) {
        store_close(st);
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

void queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    sync_committed(q);
    while (q->ndirty > 0 && write_dirty(q) >= 0)
        ;
    queue_detach_loop(q);
    for (size_t i = 0; i < q->ecap; i++)
        if (q->ents[i].id != 0)
            item_free(q->ents[i].it);
    free(q->ents);
    for (size_t i = 0; i < q->ngrave; i++)
        item_free(q->grave[i]);
    free(q->grave);
    while (q->ring != NULL)
        host_drop(q, q->ring);
    free(q->hb);
    free(q->discover_after);
    free(q->heap);
    free(q->dirty);
    while (q->pending != NULL) {
        struct setting *s = q->pending;

        q->pending = s->next;
        free(s->key);
        free(s);
    }
    store_close(q->st);
    free(q);
}

struct store *queue_store(struct queue *q)
{
    return q->st;
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
    queue_flush(arg);
}

static void on_wake(int fd, unsigned events, void *arg)
{
    struct queue *q = arg;
    uint64_t v;

    while (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
    sync_committed(q);
    /* The intake writer just committed and waits for us: our turn to write. */
    if (atomic_load(&q->loop_waiting))
        write_dirty(q);
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
        arm(q, 0);
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
    struct ent *e;
    int rc;

    if (err == NULL)
        err = buf;
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
    e = ent_add(q, it);
    q->counts[it->state]++;
    if (it->state == ITEM_QUEUED)
        window_push(q, e, false);
    else if (it->state == ITEM_RETRY)
        heap_push(q, it);
    return 0;
}

struct item *queue_get(struct queue *q, uint64_t id)
{
    struct ent *e = ent_find(q, id);
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
        e = adopt(q, it);
    }
    e->gen = q->gen;
    return e->it;
}

int queue_remove(struct queue *q, struct item *it, char *err)
{
    struct ent *e = ent_find(q, it->id);
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
    if (e->flags & F_WINDOW)
        window_remove(q, e);
    heap_remove(q, it);
    if (q->counts[it->state] > 0)
        q->counts[it->state]--;
    anchors_move(q, it->id, (int)it->state, -1);
    ent_del(q, it->id);
    q->grave = xrealloc(q->grave, (q->ngrave + 1) * sizeof *q->grave);
    q->grave[q->ngrave++] = it;
    return 0;
}

void queue_set_state(struct queue *q, struct item *it, enum item_state st)
{
    struct ent *e = ent_find(q, it->id);

    if (it->state == st || e == NULL || e->it != it)
        return;
    if (e->flags & F_WINDOW)
        window_remove(q, e);
    if (it->state == ITEM_RETRY)
        heap_remove(q, it);
    if (q->counts[it->state] > 0)
        q->counts[it->state]--;
    anchors_move(q, it->id, (int)it->state, (int)st);
    it->state = st;
    q->counts[st]++;
    if (st == ITEM_QUEUED)
        window_offer(q, e, false);
    else if (st == ITEM_RETRY)
        heap_push(q, it);
    mark_dirty(q, it);
    if (st == ITEM_DONE || st == ITEM_UNCHANGED || st == ITEM_FAILED) {
        q->urgent = true;
        arm(q, 0);
    }
}

void queue_touch(struct queue *q, struct item *it)
{
    mark_dirty(q, it);
}

void queue_promote_due(struct queue *q, int64_t now_ms)
{
    char err[ERRLEN];
    int64_t due, t0;
    int n, rc;

    sync_committed(q);
    while (q->nheap > 0 && q->heap[0]->next_try_ms <= now_ms) {
        struct item *it = q->heap[0];
        struct ent *e = ent_find(q, it->id);

        heap_remove(q, it);
        q->counts[ITEM_RETRY]--;
        anchors_move(q, it->id, ITEM_RETRY, ITEM_QUEUED);
        it->state = ITEM_QUEUED;
        q->counts[ITEM_QUEUED]++;
        window_push(q, e, true);
        mark_dirty(q, it);
    }
    if (q->db_due == NO_DUE || q->db_due - q->wall_off > now_ms || now_ms < q->db_retry_at)
        return;
    /* The session's rows must agree with memory before a bulk update counts them. Every retry in
     * memory is in the heap and none is due now, so the update touches only rows that are not. */
    if (write_dirty(q) != 0 || q->ndirty > 0) {
        q->db_retry_at = now_ms + BUSY_RETRY_MS;
        return;
    }
    t0 = now_us();
    n = store_queue_promote_due(q->st, now_ms + q->wall_off, err);
    db_time(q, t0, "promote");
    if (n < 0) {
        set_error(q, err);
        q->db_retry_at = now_ms + BUSY_RETRY_MS * 5;
        return;
    }
    if ((size_t)n > q->counts[ITEM_RETRY])
        n = (int)q->counts[ITEM_RETRY];
    q->counts[ITEM_RETRY] -= (size_t)n;
    q->counts[ITEM_QUEUED] += (size_t)n;
    if (n > 0) {
        hosts_reset(q, true);
        anchors_clear(q);
    }
    rc = store_queue_min_due(q->st, &due, err);
    if (rc < 0) {
        set_error(q, err);
        q->db_retry_at = now_ms + BUSY_RETRY_MS * 5;
        return;
    }
    q->db_due = rc > 0 ? due : NO_DUE;
}

struct item *queue_next(struct queue *q, queue_host_ok host_ok, void *arg)
{
    sync_committed(q);
    if (q->counts[ITEM_QUEUED] == 0)
        return NULL;
    if (q->discover && (q->ring == NULL || mono_ms() - q->last_sweep >= SWEEP_MS))
        sweep(q);
    for (int pass = 0; pass < 2; pass++) {
        size_t n = q->nhosts;
        struct hostq *h = q->ring;

        for (size_t i = 0; i < n && h != NULL; i++) {
            struct hostq *next = h->next;

            if (h->head == NULL)
                refill(q, h);
            if (h->head == NULL) {
                if (!h->db_more) {
                    if (next == h)
                        next = NULL;
                    host_drop(q, h);
                }
            } else if (host_ok == NULL || host_ok(h->host, arg)) {
                q->ring = h->next;   /* the next turn starts after this host */
                return h->head;
            }
            h = next;
        }
        /* Every host in the ring is busy or empty: look for hosts not in it yet. */
        if (pass > 0 || !q->discover)
            break;
        sweep(q);
    }
    return NULL;
}

int64_t queue_next_due(const struct queue *q)
{
    int64_t due = q->nheap > 0 ? q->heap[0]->next_try_ms : -1;

    if (q->db_due != NO_DUE) {
        int64_t d = q->db_due - q->wall_off;

        if (d < q->db_retry_at)
            d = q->db_retry_at;
        if (due < 0 || d < due)
            due = d;
    }
    return due;
}

/* One UPDATE in the session; live copies follow the rows they mirror. */
static size_t requeue(struct queue *q, enum item_state from)
{
    char err[ERRLEN];
    int n;

    sync_committed(q);
    /* The rows must agree with memory before a bulk update counts them; if another writer
     * holds the session, wait for it a little rather than do nothing. */
    for (int i = 0; i < 50 && q->ndirty > 0 && write_dirty(q) >= 0; i++)
        ;
    if (q->ndirty > 0)
        return 0;
    n = store_queue_requeue(q->st, from, err);
    if (n < 0) {
        set_error(q, err);
        return 0;
    }
    if ((size_t)n > q->counts[from])
        n = (int)q->counts[from];
    q->counts[from] -= (size_t)n;
    q->counts[ITEM_QUEUED] += (size_t)n;
    for (size_t i = 0; i < q->ecap; i++) {
        struct ent *e = &q->ents[i];

        if (e->id == 0 || e->it->state != from)
            continue;
        e->it->state = ITEM_QUEUED;
        if (from != ITEM_PAUSED) {
            e->it->attempts = 0;
            item_set_error(e->it, NULL);
        }
        window_offer(q, e, false);
    }
    if (n > 0) {
        hosts_reset(q, true);
        anchors_clear(q);
    }
    return (size_t)n;
}

size_t queue_requeue_failed(struct queue *q)
{
    return requeue(q, ITEM_FAILED);
}

size_t queue_resume_paused(struct queue *q)
{
    return requeue(q, ITEM_PAUSED);
}

size_t queue_new_pass(struct queue *q)
{
    return requeue(q, ITEM_DONE) + requeue(q, ITEM_UNCHANGED) + requeue(q, ITEM_FAILED);
}

size_t queue_count(const struct queue *q, enum item_state st)
{
    return (unsigned)st < ITEM_STATE_COUNT ? q->counts[st] : 0;
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
    return q->nents;
}

void queue_db_stats(const struct queue *q, struct queue_db_stats *st)
{
    *st = q->dbs;
}

size_t queue_page(struct queue *q, int st, size_t offset, size_t limit, struct item **out)
{
    uint64_t ids[PAGE_CHUNK];
    char err[ERRLEN];
    size_t n = 0, seen = 0;

    sync_committed(q);
    /* So that the rows' states match the live ones. If another writer holds the session, the
     * few items whose rows are behind are left out rather than shown under the wrong state. */
    if (write_dirty(q) == 1)
        write_dirty(q);
    while (seen < limit) {
        size_t want = limit - seen < PAGE_CHUNK ? limit - seen : PAGE_CHUNK;
        uint64_t pos = (uint64_t)offset + seen;
        const struct anchor *a = anchor_near(q, st, pos);
        int64_t t0 = now_us();
        int got = store_queue_page_ids(q->st, st, a != NULL ? a->id : 0,
                                       a != NULL ? pos - a->off : pos, want, ids, err);

        db_time(q, t0, "page");
        if (got < 0) {
            set_error(q, err);
            break;
        }
        if (got > 0)
            anchor_set(q, st, pos, ids[0]);
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
            arm(q, 0);
            return 0;
        }
    }
    snprintf(v, sizeof v, "%lld", (long long)value);
    if (store_meta_setting_set(q->st, key, v, err) == 0)
        return 0;
    /* Busy (the intake is writing): keep it for the next flush. */
    s = xcalloc(1, sizeof *s);
    s->key = xstrdup(key);
    s->value = value;
    s->next = q->pending;
    q->pending = s;
    arm(q, BUSY_RETRY_MS);
    return 0;
}
