#ifndef SLUICE_QUEUE_CACHE_H
#define SLUICE_QUEUE_CACHE_H
/* Part of the queue (queue.c and its queue_*.c files only): its items in memory by id. Open
 * addressing, linear probing, deletion by backward shift. The table owns no item: the queue frees
 * them. The queue may walk ents[0..cap) and skip free slots (id 0); an entry pointer is good until
 * the next queue_cache_add or queue_cache_del. */
#include <stddef.h>
#include <stdint.h>

struct item;

/* Entry flags; the cache keeps them for the queue and never reads them. */
enum { QUEUE_ENT_DIRTY = 1, QUEUE_ENT_WINDOW = 2 };

struct queue_ent {
    uint64_t id;                 /* 0 = free slot */
    struct item *it;
    uint32_t gen;                /* flush generation when last handed out */
    uint8_t flags;               /* QUEUE_ENT_* */
};

struct queue_cache {
    struct queue_ent *ents;      /* freed with free() */
    size_t cap, n;               /* cap: 0 or a power of two */
};

/* The entry of id, NULL when there is none (id 0 never has one). */
struct queue_ent *queue_cache_find(const struct queue_cache *c, uint64_t id);
/* Adds it (its id must not be in the table yet), handed out in generation gen. */
struct queue_ent *queue_cache_add(struct queue_cache *c, struct item *it, uint32_t gen);
/* Removes the entry of id, if any; the item is the caller's. */
void queue_cache_del(struct queue_cache *c, uint64_t id);

#endif
