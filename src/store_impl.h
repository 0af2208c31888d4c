#ifndef SLUICE_STORE_IMPL_H
#define SLUICE_STORE_IMPL_H
/* What the files of the session store share: store.c (the connection, and the statement table
 * every file prepares from), store_schema.c, store_ckpt.c, store_item.c, store_queue.c and
 * store_meta.c, store_seg.c. Nothing outside src/store*.c includes it; the rest of sluice sees struct store as
 * opaque and calls the functions of store.h and store_*.h. */
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "item.h"
#include "store.h"

enum stmt_id {
    S_LOAD, S_INSERT, S_WRITE, S_DELETE, S_FIND_URL, S_FIND_PATH, S_FIND_UNDER, S_URL_OF, S_WHERE,
    S_HOST_QUEUED, S_NEXT_HOST, S_PROMOTE, S_MIN_DUE, S_REQUEUE_FAILED, S_REQUEUE_FAILED_WHERE, S_RESUME_PAUSED, S_REQUEUE_FINISHED,
    S_PAGE_STATE, S_PAGE_DENSE, S_PAGE_ANY, S_SET_GET, S_SET_SET, S_META_GET, S_META_SET, S_INPUT_ADD,
    S_INPUT_GET, S_SCAN, S_SCAN_PATH, S_FINISHED, S_REQUEUE_ONE, S_SET_DEL, S_PURGE,
    S_SEG_CLEAR, S_SEG_ADD, S_SEG_LOAD, S_COUNT
};

struct ckpt;                     /* store_ckpt.c */

struct store {
    sqlite3 *db;
    char *path;
    char *tempdir;               /* store_open_temp: removed on close */
    int lockfd;                  /* holds the flock that keeps a second sluice out */
    dev_t dev;                   /* the file open (lockfd's): its path must still name it */
    ino_t ino;
    bool created;
    bool clone;
    struct store *primary;       /* a clone's: the store it came from */
    atomic_int nclones;          /* the primary's clones still open (store_relink waits) */
    int64_t holes;               /* rows ever removed: ids are dense while 0 */
    struct ckpt *ckpt;           /* the primary's; clones borrow it to ask for checkpoints */
    sqlite3_stmt *stmt[S_COUNT];
};

/* ---- store.c: statements and the helpers that run them ---- */

/* Formats "session PATH: what: SQLite's message" into err; returns -1. */
int store_dberr(struct store *st, char *err, const char *what);
/* The statement id of this connection, prepared on first use and kept until store_close. */
sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id, char *err);
/* Runs a statement that returns no rows (or whose rows are ignored). */
int store_step_done(struct store *st, sqlite3_stmt *s, char *err, const char *what);
int store_exec(struct store *st, const char *sql, char *err);
/* Binds v, or NULL when v is NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Column i as an allocated string (NULL when NULL). */
char *store_col_dup(sqlite3_stmt *s, int i);
/* The first column of sql's first row in *v: 1, 0 when there is no row, -1 on error. */
int store_query_int(struct store *st, const char *sql, int64_t *v, char *err);
/* Runs statement which (one text parameter, one id column): 1 and *id, 0 when no row, -1. */
int store_find_one(struct store *st, enum stmt_id which, const char *key, uint64_t *id, char *err);

/* ---- the other store files, for each other ---- */

/* store_schema.c: brings the schema to STORE_SCHEMA_VERSION (or refuses the file). */
int store_schema_migrate(struct store *st, char *err);
/* store_ckpt.c: the primary connection starts the checkpointer (st->ckpt) and stops it on close;
 * store_ckpt_hook makes another connection's commits (a clone's) report to st->ckpt too. */
int store_ckpt_start(struct store *st, char *err);
void store_ckpt_stop(struct ckpt *c);
void store_ckpt_hook(struct store *st);
/* store_item.c: the item of the current row of a statement that selects ITEM_COLS. */
struct item *store_item_row(sqlite3_stmt *s, int64_t wall_off);

#endif
