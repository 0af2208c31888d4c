#ifndef SLUICE_STORE_QUEUE_H
#define SLUICE_STORE_QUEUE_H
/* What the queue reads from the session (store_queue.c), and the bulk state changes it makes. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"
#include "store.h"

/* Calls cb for up to limit queued items of host with id > after, in id order; cb takes the item.
 * Returns the number of rows or -1. */
typedef void (*store_queue_item_cb)(struct item *it, void *arg);
int store_queue_host_queued(struct store *st, const char *host, uint64_t after, size_t limit,
                            int64_t wall_off, store_queue_item_cb cb, void *arg, char *err);
/* The first host after `after` (NULL: from the start) with queued items: 1 and *host (allocated),
 * 0 when there is none, -1 on error. A skip-scan of the queued index: one seek per host. */
int store_queue_next_host(struct store *st, const char *after, char **host, char *err);
/* Up to limit retries due by now_wall that come after (after_due, after_id) in (next_try, id)
 * order: their ids and due times (wall ms), in that order. Returns how many, or -1. */
int store_queue_due(struct store *st, int64_t now_wall, int64_t after_due, uint64_t after_id,
                    size_t limit, uint64_t *ids, int64_t *dues, char *err);
/* Earliest retry time after (after_due, after_id): 1 and *due_wall, 0 when there is none, -1. */
int store_queue_min_due(struct store *st, int64_t after_due, uint64_t after_id, int64_t *due_wall,
                        char *err);
/* Every item in state from (ITEM_FAILED: attempts and error reset too; ITEM_PAUSED) becomes queued;
 * returns the number of rows or -1. */
int store_queue_requeue(struct store *st, enum item_state from, char *err);
/* The failed items whose last HTTP status is status (0: any) and whose host is host (lower case;
 * NULL: any) become queued, attempts and error reset; returns the number of rows or -1. */
int store_queue_requeue_failed_where(struct store *st, int status, const char *host, char *err);
/* Up to limit items in state (ITEM_DONE or ITEM_UNCHANGED) with id > after, in id order: cb gets
 * the id, path and bytes received. Returns the number of rows or -1. */
typedef void (*store_queue_finished_cb)(uint64_t id, const char *path, int64_t received,
                                        void *arg);
int store_queue_finished(struct store *st, enum item_state state, uint64_t after, size_t limit,
                         store_queue_finished_cb cb, void *arg, char *err);
/* Item id, if it is still in state `was`, goes back to the queue with its attempts reset.
 * Returns 1, 0 when it was not in that state any more, -1 on error. */
int store_queue_requeue_one(struct store *st, uint64_t id, enum item_state was, char *err);
/* Ids of up to limit items in id order, from the offset-th of those with id >= from whose state is
 * st (st < 0: any). Reads only the (state, id) index; `from` lets a caller that knows where an
 * earlier page began skip the counting up to it. Returns how many were stored in ids, or -1. */
int store_queue_page_ids(struct store *st, int state, uint64_t from, uint64_t offset,
                         size_t limit, uint64_t *ids, char *err);

#endif
