#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H
/* The session database (SPEC §7): one SQLite file in WAL mode, mode 0600, holding every item of the
 * run and the settings tuned live. Only SQL lives here; the queue decides what is in memory.
 *
 * Threads: a store is one connection and belongs to one thread. The loop's store owns a small
 * checkpointer thread with a connection of its own (a checkpoint fsyncs, so it never runs on the
 * loop); store_clone gives another thread (the intake writer) its own connection to the same file.
 *
 * Times in the database are wall-clock milliseconds (monotonic time does not survive a restart);
 * the item's next_try_ms is monotonic, converted with wall_off = wall_ms() - mono_ms() of the
 * caller's choosing (one value for the whole run keeps the conversion exact both ways). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_APPLICATION_ID 0x736c6365     /* "slce": PRAGMA application_id of a session */

struct store;

/* Opens (creating when missing, with mode 0600) and upgrades a session: WAL, synchronous=NORMAL,
 * no automatic checkpoint on this connection (the checkpointer thread does them), a busy timeout of
 * a few milliseconds. Refuses a file that is not a session, one from a newer sluice, and one that
 * another sluice holds open. */
struct store *store_open(const char *path, char *err);
/* A session in a fresh folder under $TMPDIR (or /tmp), deleted with its folder on store_close:
 * --no-session still keeps the queue out of memory. */
struct store *store_open_temp(char *err);
/* Another connection to the same file for another thread: waits longer when the file is busy and
 * has a larger page cache (bulk inserts). Close it before the store it came from. */
struct store *store_clone(struct store *st, char *err);
void store_close(struct store *st);
const char *store_path(const struct store *st);
/* True when store_open created the file (nothing to resume from). */
bool store_created(const struct store *st);

/* BEGIN IMMEDIATE: 0, 1 when another connection is writing (try again later), -1 on error. */
int store_begin(struct store *st, char *err);
/* A read transaction: one snapshot for many lookups (and no lock to take per statement). */
int store_begin_read(struct store *st, char *err);
int store_commit(struct store *st, char *err);
void store_rollback(struct store *st);

/* Rows per state (counts[ITEM_STATE_COUNT]) and the largest id. */
int store_counts(struct store *st, size_t *counts, uint64_t *max_id, char *err);
/* Items left ITEM_ACTIVE by a run that ended without saying so become ITEM_QUEUED.
 * Returns the number of rows or -1. */
int store_requeue_active(struct store *st, char *err);

/* ---- items ---- */

/* Loads one item (NULL with err[0] == '\0' when there is no such id). */
struct item *store_load(struct store *st, uint64_t id, int64_t wall_off, char *err);
/* Inserts a new row from it (it->id is ignored; *id receives the new one). input is an id from
 * store_input_id or 0. Returns 0, 1 when the URL or the path is already taken (nothing written),
 * -1 on error. */
int store_insert(struct store *st, const struct item *it, int64_t input, int64_t wall_off,
                 uint64_t *id, char *err);
/* Writes what a transfer changes: state, attempts, next try, status, error, sizes, validators,
 * digest, duration. */
int store_write(struct store *st, const struct item *it, int64_t wall_off, char *err);
int store_delete(struct store *st, uint64_t id, char *err);
/* 1 and *id when found, 0 when not, -1 on error. */
int store_find_url(struct store *st, const char *url, uint64_t *id, char *err);
int store_find_path(struct store *st, const char *path, uint64_t *id, char *err);
/* The URL of id (allocated) in *url: 1, 0 when there is no such row, -1 on error. */
int store_url_of(struct store *st, uint64_t id, char **url, char *err);
/* Where a row came from, for messages: its input's name (allocated, NULL when unknown), its line
 * and its path (allocated). 1, 0 when absent, -1 on error. */
int store_where(struct store *st, uint64_t id, char **input, long *line, char **path, char *err);

/* ---- what the queue reads ---- */

/* Calls cb for up to limit queued items of host with id > after, in id order; cb takes the item.
 * Returns the number of rows or -1. */
typedef void (*store_item_cb)(struct item *it, void *arg);
int store_host_queued(struct store *st, const char *host, uint64_t after, size_t limit,
                      int64_t wall_off, store_item_cb cb, void *arg, char *err);
/* The first host after `after` (NULL: from the start) with queued items: 1 and *host (allocated),
 * 0 when there is none, -1 on error. A skip-scan of the queued index: one seek per host. */
int store_next_host(struct store *st, const char *after, char **host, char *err);
/* Every retry due by now_wall becomes queued; returns the number of rows or -1. */
int store_promote_due(struct store *st, int64_t now_wall, char *err);
/* Earliest retry time: 1 and *due_wall, 0 when there is no retry, -1 on error. */
int store_min_due(struct store *st, int64_t *due_wall, char *err);
/* Every item in state from (ITEM_FAILED: attempts and error reset too; ITEM_PAUSED) becomes queued;
 * returns the number of rows or -1. */
int store_requeue(struct store *st, enum item_state from, char *err);
/* Up to limit items in state (ITEM_DONE or ITEM_UNCHANGED) with id > after, in id order: cb gets
 * the id, path and bytes received. Returns the number of rows or -1. */
typedef void (*store_finished_cb)(uint64_t id, const char *path, int64_t received, void *arg);
int store_finished(struct store *st, enum item_state state, uint64_t after, size_t limit,
                   store_finished_cb cb, void *arg, char *err);
/* Item id, if it is still in state `was`, goes back to the queue with its attempts reset.
 * Returns 1, 0 when it was not in that state any more, -1 on error. */
int store_requeue_one(struct store *st, uint64_t id, enum item_state was, char *err);
/* Ids of up to limit items in id order, from the offset-th of those with id >= from whose state is
 * st (st < 0: any). Reads only the (state, id) index; `from` lets a caller that knows where an
 * earlier page began skip the counting up to it. Returns how many were stored in ids, or -1. */
int store_page_ids(struct store *st, int state, uint64_t from, uint64_t offset, size_t limit,
                   uint64_t *ids, char *err);

/* ---- settings and bookkeeping ---- */

/* 1 and *value (allocated) when key is set, 0 when not, -1 on error. */
int store_setting_get(struct store *st, const char *key, char **value, char *err);
int store_setting_set(struct store *st, const char *key, const char *value, char *err);
int store_meta_get(struct store *st, const char *key, int64_t *value, char *err);   /* 1, 0, -1 */
int store_meta_set(struct store *st, const char *key, int64_t value, char *err);
/* The id of an input list's name in the session (added when new). */
int store_input_id(struct store *st, const char *name, int64_t *id, char *err);

/* Walks every row in id order (a sequential read of the table): cb gets id, url and path (path
 * only when want_path); a non-zero return from cb stops the walk and is returned. */
typedef int (*store_scan_cb)(uint64_t id, const char *url, const char *path, void *arg);
int store_scan(struct store *st, bool want_path, store_scan_cb cb, void *arg, char *err);

/* Asks the checkpointer to run now (tests, and after a large intake). */
void store_checkpoint_soon(struct store *st);
/* For a bulk writer between its transactions: when the log has grown past 64 MiB, waits (at most
 * max_ms) until the checkpointer has copied all of it, so that the log starts over instead of
 * growing. A long log makes every read slower and its eventual cut-back stalls a commit. */
void store_wal_wait(struct store *st, int max_ms);

#endif
