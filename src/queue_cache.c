/* The queue's items in memory by id: open addressing, linear probing, deletion by backward
 * shift. */
#include "queue_cache.h"
#include "item.h"
#include "util.h"

#include <stdlib.h>

static size_t slot_of(uint64_t id, size_t cap)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

struct queue_ent *queue_cache_find(const struct queue_cache *c, uint64_t id)
{
    if (c->cap == 0 || id == 0)
        return NULL;
    for (size_t i = slot_of(id, c->cap);; i = (i + 1) & (c->cap - 1)) {
        if (c->ents[i].id == id)
            return &c->ents[i];
        if (c->ents[i].id == 0)
            return NULL;
    }
}

static void grow(struct queue_cache *c)
{
    struct queue_ent *old = c->ents;
    size_t oldcap = c->cap;

    c->cap = c->cap ? c->cap * 2 : 256;
    c->ents = xcalloc(c->cap, sizeof *c->ents);
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].id == 0)
            continue;
        size_t j = slot_of(old[i].id, c->cap);

        while (c->ents[j].id != 0)
            j = (j + 1) & (c->cap - 1);
        c->ents[j] = old[i];
    }
    free(old);
}

struct queue_ent *queue_cache_add(struct queue_cache *c, struct item *it, uint32_t gen)
{
    size_t i;

    if ((c->n + 1) * 2 > c->cap)
        grow(c);
    for (i = slot_of(it->id, c->cap); c->ents[i].id != 0; i = (i + 1) & (c->cap - 1))
        ;
    c->ents[i] = (struct queue_ent){ .id = it->id, .it = it, .gen = gen };
    c->n++;
    return &c->ents[i];
}

void queue_cache_del(struct queue_cache *c, uint64_t id)
{
    struct queue_ent *e = queue_cache_find(c, id);
    size_t i, j;

    if (e == NULL)
        return;
    i = (size_t)(e - c->ents);
    c->ents[i].id = 0;
    c->n--;
    /* Backward shift: pull later members of the probe run into the hole. */
    for (j = (i + 1) & (c->cap - 1); c->ents[j].id != 0; j = (j + 1) & (c->cap - 1)) {
        size_t home = slot_of(c->ents[j].id, c->cap);

        if (((j - home) & (c->cap - 1)) >= ((j - i) & (c->cap - 1))) {
            c->ents[i] = c->ents[j];
            c->ents[j].id = 0;
            i = j;
        }
    }
}
