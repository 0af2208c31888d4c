#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H
/* Every item of the run and where it stands: per-host FIFOs of queued items (so one busy host never
 * blocks the others), a heap of retries by due time, counts by state. In memory for now; the
 * session issue moves it onto SQLite pages behind this same interface. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"

struct queue;

/* Pointer lifetime: an item returned by queue_next stays valid while it is ITEM_ACTIVE. Pointers
 * from queue_get/queue_page are valid until control returns to the event loop. */

typedef bool (*queue_host_ok)(const char *host, void *arg);

struct queue *queue_new(void);
void queue_free(struct queue *q);

/* Takes ownership; the item's state must be ITEM_QUEUED, ITEM_DONE, ITEM_FAILED or ITEM_PAUSED. */
void queue_add(struct queue *q, struct item *it);
struct item *queue_get(const struct queue *q, uint64_t id);

/* Moves an item to a new state, keeping lists, heap and counts right. ITEM_QUEUED appends to its
 * host's FIFO; ITEM_RETRY enters the heap at it->next_try_ms. */
void queue_set_state(struct queue *q, struct item *it, enum item_state st);

/* The item's fields (attempts, sizes, validators, error) changed: persist them within ~1 s. */
void queue_touch(struct queue *q, struct item *it);
/* Writes every pending change now (the engine's tick calls it each second; also at exit). */
int queue_flush(struct queue *q);

/* Runtime settings kept with the session (rate, burst, concurrency as tuned live).
 * get returns 0 and sets *value, or -1 when the key was never set. */
void queue_setting_set(struct queue *q, const char *key, int64_t value);
int queue_setting_get(struct queue *q, const char *key, int64_t *value);

/* Retries whose time has come move to the front of their host's FIFO (they waited already). */
void queue_promote_due(struct queue *q, int64_t now_ms);
/* The next item to start: hosts take turns; hosts for which host_ok says no are skipped.
 * NULL when nothing can start now. The item stays ITEM_QUEUED until the caller changes it. */
struct item *queue_next(struct queue *q, queue_host_ok host_ok, void *arg);
/* Due time of the earliest retry, or -1. */
int64_t queue_next_due(const struct queue *q);

size_t queue_count(const struct queue *q, enum item_state st);
size_t queue_total(const struct queue *q);
/* Up to limit items in id order, starting at the offset-th item whose state matches
 * (st < 0: any). Returns how many were stored in out. */
size_t queue_page(const struct queue *q, int st, size_t offset, size_t limit, struct item **out);

#endif
