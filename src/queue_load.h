#ifndef SLUICE_QUEUE_LOAD_H
#define SLUICE_QUEUE_LOAD_H
/* Part of the queue (queue.c and its queue_*.c files only; struct queue is in queue_impl.h):
 * reading from the session into memory. Items read are adopted into the cache; hosts' windows
 * are refilled from their rows; hosts with queued rows are found by sweeps; what the intake writer
 * committed on another thread is applied; pages are read. */
#include <stdbool.h>
#include <stddef.h>

struct item;
struct queue;
struct queue_ent;
struct queue_host;

/* Puts a freshly read item into the cache, or returns the live copy when there is one (and frees
 * it). */
struct queue_ent *queue_load_adopt(struct queue *q, struct item *it);
/* Reads h's next queued rows into its window, while it is empty and the session has more. */
void queue_load_refill(struct queue *q, struct queue_host *h);
/* Brings hosts with queued rows into the ring, one index seek each, up to a bound. */
void queue_load_sweep(struct queue *q);
/* Applies what the intake writer committed since the last look. */
void queue_load_sync(struct queue *q);
/* New queued rows may exist for any host: look again (from_start: from the first row). */
void queue_load_reset(struct queue *q, bool from_start);
/* queue_page: ids from the (state, id) index, counted from the nearest page anchor, then the items
 * by queue_get. */
size_t queue_load_page(struct queue *q, int st, size_t offset, size_t limit, struct item **out);

#endif
