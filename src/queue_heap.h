#ifndef SLUICE_QUEUE_HEAP_H
#define SLUICE_QUEUE_HEAP_H
/* Part of the queue (queue.c and its queue_*.c files only): its retries in memory, a min-heap of
 * items by next_try_ms. An item in the heap keeps its index in it->heap_idx ((size_t)-1 when it is
 * in none). v[0] is the earliest when n > 0. The heap owns no item. */
#include <stddef.h>

struct item;

struct queue_heap {
    struct item **v;             /* freed with free() */
    size_t n, cap;
};

void queue_heap_push(struct queue_heap *h, struct item *it);
/* Takes it out of the heap; nothing when it is not in it. */
void queue_heap_remove(struct queue_heap *h, struct item *it);

#endif
