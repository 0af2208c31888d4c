#ifndef SLUICE_STORE_CKPT_H
#define SLUICE_STORE_CKPT_H
/* The session's checkpointer (store.h, Threads): a thread with a connection of its own copies the
 * write-ahead log into the database, so that the loop's connection never checkpoints. */
#include "store.h"

/* Asks the checkpointer to run now (tests, and after a large intake). */
void store_ckpt_soon(struct store *st);
/* For a bulk writer between its transactions: when the log has grown past 64 MiB, waits (at most
 * max_ms) until the checkpointer has copied all of it, so that the log starts over instead of
 * growing. A long log makes every read slower and its eventual cut-back stalls a commit. */
void store_ckpt_wal_wait(struct store *st, int max_ms);

#endif
