/* The hosts with queued work: a hash table of hosts, the ring in which they take turns, and each
 * host's window of queued items in memory. */
#include "queue_host.h"
#include "hmap.h"
#include "item.h"
#include "queue_cache.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct queue_host *queue_host_find(const struct queue_hosts *hs, const char *host)
{
    uint64_t h;

    if (hs->cap == 0)
        return NULL;
    h = hmap_hash(host, strlen(host));
    for (struct queue_host *p = hs->hb[h & (hs->cap - 1)]; p != NULL; p = p->hnext)
        if (p->hash == h && strcmp(p->host, host) == 0)
            return p;
    return NULL;
}

static void rehash(struct queue_hosts *hs)
{
    struct queue_host **old = hs->hb;
    size_t oldcap = hs->cap;

    hs->cap = hs->cap ? hs->cap * 2 : 64;
    hs->hb = xcalloc(hs->cap, sizeof *hs->hb);
    for (size_t i = 0; i < oldcap; i++) {
        struct queue_host *p = old[i], *next;

        for (; p != NULL; p = next) {
            next = p->hnext;
            p->hnext = hs->hb[p->hash & (hs->cap - 1)];
            hs->hb[p->hash & (hs->cap - 1)] = p;
        }
    }
    free(old);
}

/* A host joins the ring just before the current turn, so it is served after the others. */
static struct queue_host *host_new(struct queue_hosts *hs, const char *host)
{
    struct queue_host *h = xcalloc(1, sizeof *h);

    if (hs->n + 1 > hs->cap)
        rehash(hs);
    h->host = xstrdup(host);
    h->hash = hmap_hash(host, strlen(host));
    h->db_more = true;
    h->hnext = hs->hb[h->hash & (hs->cap - 1)];
    hs->hb[h->hash & (hs->cap - 1)] = h;
    hs->n++;
    if (hs->ring == NULL) {
        h->next = h->prev = h;
        hs->ring = h;
    } else {
        h->next = hs->ring;
        h->prev = hs->ring->prev;
        h->prev->next = h;
        hs->ring->prev = h;
    }
    return h;
}

struct queue_host *queue_host_of(struct queue_hosts *hs, const char *host)
{
    struct queue_host *h = queue_host_find(hs, host);

    return h != NULL ? h : host_new(hs, host);
}

void queue_host_drop(struct queue_hosts *hs, struct queue_host *h)
{
    struct queue_host **pp = &hs->hb[h->hash & (hs->cap - 1)];

    while (*pp != h)
        pp = &(*pp)->hnext;
    *pp = h->hnext;
    hs->n--;
    if (h->next == h) {
        hs->ring = NULL;
    } else {
        h->prev->next = h->next;
        h->next->prev = h->prev;
        if (hs->ring == h)
            hs->ring = h->next;
    }
    free(h->host);
    free(h);
}

void queue_host_window_push(struct queue_hosts *hs, struct queue_ent *e, bool front)
{
    struct item *it = e->it;
    struct queue_host *h = queue_host_of(hs, it->host);

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
    e->flags |= QUEUE_ENT_WINDOW;
}

void queue_host_window_push_due(struct queue_hosts *hs, struct queue_ent *e)
{
    struct item *it = e->it;
    struct queue_host *h = queue_host_of(hs, it->host);
    struct item *after = NULL;

    for (struct item *p = h->head; p != NULL && p->state == ITEM_RETRY; p = p->qnext)
        after = p;
    if (after == NULL) {
        queue_host_window_push(hs, e, true);
        return;
    }
    it->qprev = after;
    it->qnext = after->qnext;
    if (after->qnext != NULL)
        after->qnext->qprev = it;
    else
        h->tail = it;
    after->qnext = it;
    h->nwin++;
    e->flags |= QUEUE_ENT_WINDOW;
}

void queue_host_window_remove(struct queue_hosts *hs, struct queue_ent *e)
{
    struct item *it = e->it;
    struct queue_host *h = queue_host_find(hs, it->host);

    e->flags &= (uint8_t)~QUEUE_ENT_WINDOW;
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
void queue_host_window_offer(struct queue_hosts *hs, struct queue_ent *e, bool front)
{
    struct queue_host *h = queue_host_of(hs, e->it->host);

    if (front || h->nwin < 2 * QUEUE_WINDOW_MAX) {
        queue_host_window_push(hs, e, front);
        return;
    }
    if (e->it->id <= h->cursor)
        h->cursor = e->it->id - 1;
    h->db_more = true;
}

void queue_host_reset(struct queue_hosts *hs, bool from_start)
{
    struct queue_host *h = hs->ring;

    if (h != NULL) {
        do {
            h->db_more = true;
            if (from_start)
                h->cursor = 0;
            h = h->next;
        } while (h != hs->ring);
    }
}
