/* In-memory queue. Items live in an id-indexed array; queued ones are also linked into their
 * host's FIFO, and hosts with work take turns in a ring so one slow or limited host never
 * holds up another. */
#include "queue.h"
#include "hmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct hostq {
    char *host;
    struct item *head, *tail;
    struct hostq *ring_next;     /* ring of hosts, all of them (empty ones are skipped) */
};

struct queue {
    struct item **items;         /* items[id - 1] */
    size_t nitems, cap;
    struct hmap *hosts;          /* host → struct hostq */
    struct hostq *ring;          /* where the next turn starts */
    struct item **heap;          /* retries, min-heap by next_try_ms */
    size_t nheap, heapcap;
    size_t counts[ITEM_STATE_COUNT];
    size_t nhosts;
    struct hostq **hostv;        /* for freeing */
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

struct queue *queue_new(void)
{
    struct queue *q = xcalloc(1, sizeof *q);

    q->hosts = hmap_new();
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->nitems; i++)
        item_free(q->items[i]);
    free(q->items);
    for (size_t i = 0; i < q->nhosts; i++) {
        free(q->hostv[i]->host);
        free(q->hostv[i]);
    }
    free(q->hostv);
    hmap_free(q->hosts);
    free(q->heap);
    free(q);
}

static struct hostq *host_of(struct queue *q, const char *host)
{
    struct hostq *h = hmap_get(q->hosts, host);

    if (h != NULL)
        return h;
    h = xcalloc(1, sizeof *h);
    h->host = xstrdup(host);
    hmap_put(q->hosts, host, h);
    if (q->ring == NULL) {
        h->ring_next = h;
        q->ring = h;
    } else {
        h->ring_next = q->ring->ring_next;
        q->ring->ring_next = h;
    }
    q->hostv = xrealloc(q->hostv, (q->nhosts + 1) * sizeof *q->hostv);
    q->hostv[q->nhosts++] = h;
    return h;
}

static void fifo_push(struct hostq *h, struct item *it, bool front)
{
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
}

static void fifo_remove(struct hostq *h, struct item *it)
{
    if (it->qprev != NULL)
        it->qprev->qnext = it->qnext;
    else
        h->head = it->qnext;
    if (it->qnext != NULL)
        it->qnext->qprev = it->qprev;
    else
        h->tail = it->qprev;
    it->qnext = it->qprev = NULL;
}

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

void queue_add(struct queue *q, struct item *it)
{
    if (q->nitems == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 1024;
        q->items = xrealloc(q->items, q->cap * sizeof *q->items);
    }
    it->id = q->nitems + 1;
    it->heap_idx = (size_t)-1;
    q->items[q->nitems++] = it;
    q->counts[it->state]++;
    if (it->state == ITEM_QUEUED)
        fifo_push(host_of(q, it->host), it, false);
}

struct item *queue_get(const struct queue *q, uint64_t id)
{
    return id >= 1 && id <= q->nitems ? q->items[id - 1] : NULL;
}

void queue_set_state(struct queue *q, struct item *it, enum item_state st)
{
    if (it->state == st)
        return;
    if (it->state == ITEM_QUEUED)
        fifo_remove(host_of(q, it->host), it);
    else if (it->state == ITEM_RETRY)
        heap_remove(q, it);
    q->counts[it->state]--;
    it->state = st;
    q->counts[st]++;
    if (st == ITEM_QUEUED)
        fifo_push(host_of(q, it->host), it, false);
    else if (st == ITEM_RETRY)
        heap_push(q, it);
}

void queue_touch(struct queue *q, struct item *it)
{
    (void)q;
    (void)it;    /* in memory, nothing to write */
}

int queue_flush(struct queue *q)
{
    (void)q;
    return 0;
}

void queue_setting_set(struct queue *q, const char *key, int64_t value)
{
    (void)q;
    (void)key;
    (void)value;    /* in memory, nothing outlives the run */
}

int queue_setting_get(struct queue *q, const char *key, int64_t *value)
{
    (void)q;
    (void)key;
    (void)value;
    return -1;
}

void queue_promote_due(struct queue *q, int64_t now_ms)
{
    while (q->nheap > 0 && q->heap[0]->next_try_ms <= now_ms) {
        struct item *it = q->heap[0];

        heap_remove(q, it);
        q->counts[ITEM_RETRY]--;
        it->state = ITEM_QUEUED;
        q->counts[ITEM_QUEUED]++;
        fifo_push(host_of(q, it->host), it, true);
    }
}

struct item *queue_next(struct queue *q, queue_host_ok host_ok, void *arg)
{
    struct hostq *h = q->ring;

    if (h == NULL || q->counts[ITEM_QUEUED] == 0)
        return NULL;
    do {
        if (h->head != NULL && (host_ok == NULL || host_ok(h->host, arg))) {
            q->ring = h->ring_next;   /* the next turn starts after this host */
            return h->head;
        }
        h = h->ring_next;
    } while (h != q->ring);
    return NULL;
}

int64_t queue_next_due(const struct queue *q)
{
    return q->nheap > 0 ? q->heap[0]->next_try_ms : -1;
}

size_t queue_count(const struct queue *q, enum item_state st)
{
    return (unsigned)st < ITEM_STATE_COUNT ? q->counts[st] : 0;
}

size_t queue_total(const struct queue *q)
{
    return q->nitems;
}

size_t queue_page(const struct queue *q, int st, size_t offset, size_t limit, struct item **out)
{
    size_t n = 0, seen = 0;

    for (size_t i = 0; i < q->nitems && n < limit; i++) {
        if (st >= 0 && (int)q->items[i]->state != st)
            continue;
        if (seen++ >= offset)
            out[n++] = q->items[i];
    }
    return n;
}
