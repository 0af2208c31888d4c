#ifndef SLUICE_STORE_H
#define SLUICE_STORE_H
/* The session database (docs/design.md#session): one SQLite file in WAL mode, mode 0600, holding
 * every item of the run and the settings tuned live. Only SQL lives here; the queue decides what
 * is in memory.
 *
 * Threads: a store is one connection and belongs to one thread. The loop's store owns a small
 * checkpointer thread with a connection of its own (a checkpoint fsyncs, so it never runs on the
 * loop); store_clone gives another thread (the intake writer) its own connection to the same file.
 *
 * Times in the database are wall-clock milliseconds (monotonic time does not survive a restart);
 * the item's next_try_ms is monotonic, converted with wall_off = wall_ms() - mono_ms() of the
 * caller's choosing (one value for the whole run keeps the conversion exact both ways).
 *
 * This header opens and closes a session; the rest is in store_item.h (item rows), store_queue.h
 * (what the queue reads), store_meta.h (settings and bookkeeping) and store_ckpt.h (the
 * checkpointer). store_schema.h says what makes a file a session. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"
#include "store_schema.h"

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
/* True when the last failure on this connection was SQLITE_BUSY/LOCKED (another writer), not an
 * error of the session itself. */
bool store_busy(const struct store *st);
bool store_created(const struct store *st);

/* The session's path no longer names the file this store has open: deleted (with DIR/.sluice,
 * maybe) or replaced while running. One stat(2), cheap enough for every tick; false for a clone. */
bool store_moved(const struct store *st);
/* Puts the session back at its path from this (the primary) connection: a consistent copy made
 * beside it, made durable and renamed over the path, then this store and its checkpointer reopened
 * on it, so that what the run writes next goes there (docs/design.md#session). Returns 0, 1 when it
 * cannot be done now (a clone is open, a transaction is in progress: try again later), -1 with err
 * (the store goes on with the old file; try again later). */
int store_relink(struct store *st, char *err);

/* BEGIN IMMEDIATE: 0, 1 when another connection is writing (try again later), -1 on error. */
int store_begin(struct store *st, char *err);
/* A read transaction: one snapshot for many lookups (and no lock to take per statement). */
int store_begin_read(struct store *st, char *err);
int store_commit(struct store *st, char *err);
void store_rollback(struct store *st);

/* Rows per state (counts[ITEM_STATE_COUNT]) and the largest id. */
int store_counts(struct store *st, size_t *counts, uint64_t *max_id, char *err);
/* Items left ITEM_ACTIVE by a run that ended without saying so become ITEM_QUEUED; their ids,
 * ascending, go to *ids (*n of them; the caller frees; may be NULL when none).
 * Returns the number of rows or -1. */
int store_requeue_active(struct store *st, uint64_t **ids, size_t *n, char *err);

#endif
