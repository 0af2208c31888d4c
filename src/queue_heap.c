/* The queue's retries in memory: a min-heap of items by next_try_ms, each item knowing its index. */
#include "queue_heap.h"
#include "item.h"
#include "util.h"

static void swap(struct queue_heap *h, size_t a, size_t b)
{
    struct item *t = h->v[a];

    h->v[a] = h->v[b];
    h->v[b] = t;
    h->v[a]->heap_idx = a;
    h->v[b]->heap_idx = b;
}

static void up(struct queue_heap *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (h->v[p]->next_try_ms <= h->v[i]->next_try_ms)
            break;
        swap(h, p, i);
        i = p;
    }
}

static void down(struct queue_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < h->n && h->v[l]->next_try_ms < h->v[m]->next_try_ms)
            m = l;
        if (r < h->n && h->v[r]->next_try_ms < h->v[m]->next_try_ms)
            m = r;
        if (m == i)
            break;
        swap(h, i, m);
        i = m;
    }
}

void queue_heap_push(struct queue_heap *h, struct item *it)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = xrealloc(h->v, h->cap * sizeof *h->v);
    }
    h->v[h->n] = it;
    it->heap_idx = h->n++;
    up(h, it->heap_idx);
}

void queue_heap_remove(struct queue_heap *h, struct item *it)
{
    size_t i = it->heap_idx;

    if (i >= h->n || h->v[i] != it)
        return;
    h->n--;
    if (i != h->n) {
        h->v[i] = h->v[h->n];
        h->v[i]->heap_idx = i;
        down(h, i);
        up(h, i);
    }
    it->heap_idx = (size_t)-1;
}
