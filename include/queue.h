#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H
/* Every item of the run and where it stands, kept in the session database (store.h) so that memory
 * does not grow with the list (docs/design.md#session). In memory are only the items being
 * transferred, a small read-ahead window of queued items per host (hosts take turns, so one busy
 * host never blocks the others), retries that have not been written yet, and the counts by state.
 *
 * Changes are written in batches: queue_set_state and queue_touch mark an item; queue_flush writes
 * every marked item in one transaction. A move to ITEM_DONE, ITEM_UNCHANGED or ITEM_FAILED is
 * written on the next loop turn (queue_attach_loop) or, without a loop, at the next queue_flush.
 * The engine marks ITEM_DONE only once the file and its folder are durable, so the session never
 * claims more than the disk holds. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"

struct queue;
struct store;
struct loop;

/* Pointer lifetime: an item returned by queue_next stays valid while it is ITEM_ACTIVE. Pointers
 * from queue_get/queue_page, and any item once it leaves ITEM_ACTIVE, are valid until control
 * returns to the event loop (in practice until the second queue_flush after they were handed out);
 * to act on an item later, keep its id and call queue_get again. */

typedef bool (*queue_host_ok)(const char *host, void *arg);

/* A queue on a temporary session (deleted by queue_free): tests and --no-session. */
struct queue *queue_new(void);
/* The session at path (created when missing; NULL = temporary). Items a crashed run left
 * ITEM_ACTIVE become ITEM_QUEUED again; retries keep their remaining wait (wall clock). */
struct queue *queue_open(const char *path, char *err);
/* Writes what is pending (retrying a busy or failing session for a while), then closes the
 * session. Returns 0, or -1 with err (ERRLEN) saying why and what was not saved. */
int queue_close(struct queue *q, char *err);
/* queue_close when nobody can act on the error (error paths, tests). */
void queue_free(struct queue *q);
struct store *queue_store(struct queue *q);
/* True when the session file was created by this run (nothing to resume). */
bool queue_created(const struct queue *q);
/* True when the run before this one was cut short while item id was transferring; says so once
 * per item (the first start of this run). */
bool queue_was_active(struct queue *q, uint64_t id);

/* Lets completions be written on the next loop turn and lets another thread's inserts wake the loop
 * (wake, e.g. engine_kick, runs on the loop after queued rows were committed). Detach before the
 * loop is freed. */
void queue_attach_loop(struct queue *q, struct loop *loop, void (*wake)(void *arg), void *arg);
void queue_detach_loop(struct queue *q);

/* Adds one item (state ITEM_QUEUED, ITEM_DONE, ITEM_FAILED or ITEM_PAUSED) and sets its id.
 * Returns 0 and takes ownership, or -1 with err (ERRLEN, may be NULL) when its URL is already in the
 * session or its path is another item's, or the session cannot be written; then the caller keeps it. */
int queue_add(struct queue *q, struct item *it, char *err);
/* The item with this id (read from the session when not in memory), NULL when there is none. */
struct item *queue_get(struct queue *q, uint64_t id);
/* Deletes an item from the session (not while ITEM_ACTIVE: stop its transfer first). The pointer
 * stays valid until control returns to the loop. */
int queue_remove(struct queue *q, struct item *it, char *err);

/* Moves an item to a new state, keeping windows, retries and counts right. ITEM_QUEUED appends to
 * its host's window; ITEM_RETRY waits for it->next_try_ms (monotonic). */
void queue_set_state(struct queue *q, struct item *it, enum item_state st);

/* The item's fields (attempts, sizes, validators, error) changed: persist them within ~1 s. */
void queue_touch(struct queue *q, struct item *it);
/* Reads the ranges of a segmented download recorded for it (docs/design.md#segmented-downloads)
 * into it->segs / it->nsegs, when it has none in memory: 0 (none recorded is 0 too), -1 with err
 * (the session cannot be read: the item starts as if it had none). */
int queue_load_segs(struct queue *q, struct item *it, char *err);
/* Writes the pending changes in one transaction and lets go of items nobody needs any more (the
 * engine's tick calls it each second). One write holds the loop ~20 ms at most: a larger backlog
 * goes on the next loop turns; queue_free writes everything. Returns 0, or -1 when the session
 * could not be written (the changes stay pending; queue_error says why). */
int queue_flush(struct queue *q);
/* Why the session could not be written (or read) the last time, or NULL: cleared once a write
 * succeeds again (a failed write stays pending and is retried by every flush). */
const char *queue_error(const struct queue *q);

/* Whether the session file is still at its path (one stat(2): for every tick). When it was deleted
 * or replaced while running it is put back from the open connection (store_relink): returns 0 in
 * place, 1 put back just now, 2 not yet (the intake's writer still has it open: asked again on the
 * next call), -1 with err (ERRLEN) it cannot be put back (tried again every few seconds). */
int queue_session_check(struct queue *q, char *err);
/* While the session is gone and not back, why; else NULL. */
const char *queue_session_gone(const struct queue *q);

/* Retries whose time has come move to the front of their host's window (they waited already);
 * those still in the session only (more than were in memory) rejoin the queue in input order. */
void queue_promote_due(struct queue *q, int64_t now_ms);
/* The next item to start: hosts take turns; hosts for which host_ok says no are skipped.
 * NULL when nothing can start now. The item stays ITEM_QUEUED until the caller changes it. */
struct item *queue_next(struct queue *q, queue_host_ok host_ok, void *arg);
/* Due time (monotonic ms) of the earliest retry, or -1. */
int64_t queue_next_due(const struct queue *q);
/* Bulk moves in the session (one statement, nothing loaded into memory): every failed item becomes
 * queued with its attempts and error reset; every paused item becomes queued. Return how many,
 * or -1 when the session could not be written (queue_error says why).
 * Prefer these to paging through a state and moving items one by one. */
long queue_requeue_failed(struct queue *q);
/* Only the failed items whose last HTTP status is status (0: any) and whose host is host (lower
 * case; NULL: any). */
long queue_requeue_failed_where(struct queue *q, int status, const char *host);
long queue_resume_paused(struct queue *q);
/* A new pass over a session whose last run finished: done, unchanged and failed items become
 * queued again with attempts reset; their validators stay, so unchanged files cost a 304. */
long queue_new_pass(struct queue *q);

/* Queued items of a host held in memory (its window, at most QUEUE_WINDOW_MAX), and whether the
 * session may hold more of them (*more). No query: for a view refreshed every second. */
size_t queue_host_pending(const struct queue *q, const char *host, bool *more);

/* Counts by state, kept in memory (no query). Items the intake has announced but not yet stored
 * count as queued. */
/* The counts as of the last time the loop looked; queue_sync_counts takes in what other threads
 * (the intake writer) committed since. */
size_t queue_count(const struct queue *q, enum item_state st);
void queue_sync_counts(struct queue *q);
size_t queue_total(const struct queue *q);
/* Items held in memory right now (metrics; memory must not grow with the queue). */
size_t queue_cached(const struct queue *q);
/* Time the loop spent in the session (metrics: the loop must never wait on it for long). */
struct queue_db_stats {
    uint64_t calls;              /* reads and writes made on the loop */
    int64_t total_us, max_us;
    uint64_t busy;               /* writes put off because another writer held the session */
    const char *slowest;         /* what the slowest was: "write", "refill", "page"... */
};
void queue_db_stats(const struct queue *q, struct queue_db_stats *st);
/* Up to limit items in id order, starting at the offset-th item whose state matches
 * (st < 0: any). Returns how many were stored in out. Reads ids from the (state, id) index, then
 * the rows, preferring the live copy of an item that is in memory. */
size_t queue_page(struct queue *q, int st, size_t offset, size_t limit, struct item **out);

/* Settings tuned live ("rate" bytes/s with 0 = off, "burst" bytes with 0 = auto, "concurrency"),
 * kept in the session so that the same command restores them. get: 1 and *value, 0 when unset,
 * -1 on error. set: written now, or kept for the next flush (which retries it) when the session
 * is busy (returns 0) or failed (returns -1; queue_error says why). */
int queue_setting_get(struct queue *q, const char *key, int64_t *value);
int queue_setting_set(struct queue *q, const char *key, int64_t value);
/* Forgets a setting (a new pass starts without the live changes of the last one). 0 or -1. */
int queue_setting_del(struct queue *q, const char *key);

/* ---- for the intake (intake.c) ---- */

/* n items will be stored by another thread: count them as queued from now on. */
void queue_expect(struct queue *q, size_t n);
/* Thread-safe: another connection committed queued rows. delta corrects the count for rows that
 * were stored without being announced (+) or announced and then merged (-). Wakes the loop. */
void queue_rows_committed(struct queue *q, long delta);
/* Thread-safe: another connection moved n rows from state `from` (finished) back to queued. */
void queue_rows_requeued(struct queue *q, enum item_state from, long n);
/* Thread-safe: true while the loop waits to write; a bulk writer should pause between batches. */
bool queue_loop_waiting(const struct queue *q);
/* The wall-clock offset used for every conversion of this run (wall_ms() - mono_ms() at open). */
int64_t queue_wall_off(const struct queue *q);

#endif
