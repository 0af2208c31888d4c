#ifndef SLUICE_QUEUE_WRITE_H
#define SLUICE_QUEUE_WRITE_H
/* Part of the queue (queue.c and its queue_*.c files only; struct queue is in queue_impl.h):
 * writing to the session. Changed items are marked and written in batches with the pending
 * settings; bulk moves are one statement; written items nobody holds are let go. */
#include <stddef.h>
#include <stdint.h>
#include "item.h"

struct queue;

/* Marks a cached item to be written with the next batch. */
void queue_write_mark(struct queue *q, struct item *it);
/* Arms the queue's flush timer (when on a loop and not armed yet) to run in ms. */
void queue_write_arm(struct queue *q, int64_t ms);
/* Writes the marked items and pending settings in one transaction, as many as fit in a time
 * budget (q->ndirty says what is left). 0 written, 1 the session is busy (another writer): nothing
 * was written and the loop did not wait for long, -1 error. */
int queue_write_dirty(struct queue *q);
/* Lets go of cached items nobody can still hold. */
void queue_write_evict(struct queue *q);
/* Moves every item in state `from` to ITEM_QUEUED with one statement; returns how many, or -1
 * when the session could not be written (queue_error says why). */
long queue_write_requeue(struct queue *q, enum item_state from);
/* The failed items with that last HTTP status (0: any) and host (NULL: any) only. */
long queue_write_requeue_failed_where(struct queue *q, int status, const char *host);

#endif
