/* The session on SQLite: the connection (opening a session file, WAL mode, temporary sessions,
 * clones, transactions) and the table of every statement the store files prepare. The schema is
 * in store_schema.c, the checkpointer in store_ckpt.c, items in store_item.c, what the queue reads
 * in store_queue.c, settings and bookkeeping in store_meta.c. */
#include "store.h"
#include "store_impl.h"
#include "store_meta.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BUSY_MS 1           /* the loop waits ~1 ms for another writer, then tries later */
#define CLONE_BUSY_MS 10000
#define LOOP_CACHE_KIB 8192
#define CLONE_CACHE_KIB 16384

/* States are stored as their numbers, and the SQL below and the schema (store_schema.c) name
 * some of them (partial indexes need literals): the enum is part of the file format. */
_Static_assert(ITEM_QUEUED == 0 && ITEM_ACTIVE == 1 && ITEM_RETRY == 2 && ITEM_PAUSED == 3 &&
               ITEM_DONE == 4 && ITEM_UNCHANGED == 5 && ITEM_FAILED == 6, "item states are stored");

#define ITEM_COLS "id, url, mirrors, path, host, headers, algo, digest, state, attempts, next_try, " \
                  "http_status, error, size, received, etag, last_modified, sha256, duration_ms, line"

static const char *const stmt_sql[S_COUNT] = {
    [S_LOAD] = "SELECT " ITEM_COLS " FROM items WHERE id = ?1 AND state <> 7",
    [S_INSERT] = "INSERT INTO items(url, mirrors, path, host, headers, algo, digest, state, attempts, "
                 "next_try, http_status, error, size, received, etag, last_modified, sha256, "
                 "duration_ms, input, line, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                 "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT DO NOTHING",
    [S_WRITE] = "UPDATE items SET state = ?2, attempts = ?3, next_try = ?4, http_status = ?5, "
                "error = ?6, size = ?7, received = ?8, etag = ?9, last_modified = ?10, sha256 = ?11, "
                "duration_ms = ?12, updated = ?13 WHERE id = ?1",
    /* A removed item stays as a row in state 7 (outside enum item_state, so nothing counts,
     * pages or loads it) holding its URL, so that the next run of the same list does not bring
     * it back (docs/design.md#session); its path is freed for other items. */
    [S_DELETE] = "UPDATE items SET state = 7, path = '/removed/' || id, next_try = 0, "
                 "updated = ?2 WHERE id = ?1 AND state <> 7",
    [S_PURGE] = "DELETE FROM items WHERE id = ?1 AND state = 7",
    [S_SEG_CLEAR] = "DELETE FROM segments WHERE item = ?1",
    [S_SEG_ADD] = "INSERT INTO segments(item, lo, hi, done) VALUES(?1, ?2, ?3, ?4)",
    [S_SEG_LOAD] = "SELECT lo, hi, done FROM segments WHERE item = ?1 ORDER BY lo",
    [S_FIND_URL] = "SELECT id FROM items WHERE url = ?1",
    [S_FIND_PATH] = "SELECT id FROM items WHERE path = ?1",
    /* A range over path's unique index: '0' is the byte after '/'. */
    [S_FIND_UNDER] = "SELECT id FROM items WHERE path >= ?1 || '/' AND path < ?1 || '0' LIMIT 1",
    [S_URL_OF] = "SELECT url FROM items WHERE id = ?1",
    [S_WHERE] = "SELECT inputs.name, items.line, items.path FROM items LEFT JOIN inputs "
                "ON inputs.id = items.input WHERE items.id = ?1",
    /* The states as literals: only then may SQLite use a partial index. INDEXED BY, because
     * without statistics the planner prefers items_state, which for these means scanning every
     * queued (or retrying) row, and for the host skip-scan sorting them all. */
    [S_HOST_QUEUED] = "SELECT " ITEM_COLS " FROM items INDEXED BY items_queued WHERE state = 0 "
                      "AND host = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [S_NEXT_HOST] = "SELECT host FROM items INDEXED BY items_queued WHERE state = 0 AND host > ?1 "
                    "ORDER BY host LIMIT 1",
    /* Retries come due in (next_try, id) order after a cursor: the rows before it are in memory
     * (docs/design.md#retries-and-backoff) and keep their state until they start. */
    [S_PROMOTE] = "SELECT id, next_try FROM items INDEXED BY items_retry WHERE state = 2 "
                  "AND next_try <= ?1 AND (next_try > ?2 OR (next_try = ?2 AND id > ?3)) "
                  "ORDER BY next_try, id LIMIT ?4",
    [S_MIN_DUE] = "SELECT min(next_try) FROM items INDEXED BY items_retry WHERE state = 2 "
                  "AND (next_try > ?1 OR (next_try = ?1 AND id > ?2))",
    [S_REQUEUE_FAILED] = "UPDATE items SET state = 0, attempts = 0, error = NULL, next_try = 0, "
                         "updated = ?1 WHERE state = 6",
    [S_REQUEUE_FAILED_WHERE] = "UPDATE items SET state = 0, attempts = 0, error = NULL, next_try = 0, "
                               "updated = ?1 WHERE state = 6 AND (?2 = 0 OR http_status = ?2) "
                               "AND (?3 IS NULL OR host = ?3)",
    /* An attempt parked by a pause (next_try = -1) is given back: starting counts it again. */
    [S_RESUME_PAUSED] = "UPDATE items SET state = 0, attempts = attempts - (next_try = -1 AND "
                        "attempts > 0), next_try = 0, updated = ?1 WHERE state = 3",
    [S_REQUEUE_FINISHED] = "UPDATE items SET state = 0, attempts = 0, error = NULL, next_try = 0, "
                           "updated = ?1 WHERE state = ?2",
    [S_PAGE_STATE] = "SELECT id FROM items INDEXED BY items_state WHERE state = ?1 AND id >= ?4 "
                     "ORDER BY id LIMIT ?2 OFFSET ?3",
    [S_PAGE_DENSE] = "SELECT id FROM items WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_PAGE_ANY] = "SELECT id FROM items WHERE id >= ?3 AND state <> 7 ORDER BY id LIMIT ?2 "
                   "OFFSET ?1",
    [S_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
    [S_SET_DEL] = "DELETE FROM settings WHERE key = ?1",
    [S_SET_SET] = "INSERT INTO settings(key, value) VALUES(?1, ?2) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_INPUT_ADD] = "INSERT INTO inputs(name) VALUES(?1) ON CONFLICT(name) DO NOTHING",
    [S_INPUT_GET] = "SELECT id FROM inputs WHERE name = ?1",
    [S_SCAN] = "SELECT id, url FROM items ORDER BY id",
    [S_SCAN_PATH] = "SELECT id, url, path FROM items ORDER BY id",
    [S_FINISHED] = "SELECT id, path, received FROM items INDEXED BY items_state WHERE state = ?1 "
                   "AND id > ?2 ORDER BY id LIMIT ?3",
    [S_REQUEUE_ONE] = "UPDATE items SET state = 0, attempts = 0, error = NULL, updated = ?3 "
                      "WHERE id = ?1 AND state = ?2",
};

bool store_busy(const struct store *st)
{
    int c = sqlite3_errcode(st->db) & 0xff;

    return c == SQLITE_BUSY || c == SQLITE_LOCKED;
}

int store_dberr(struct store *st, char *err, const char *what)
{
    return errf(err, "session %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id, char *err)
{
    if (st->stmt[id] == NULL &&
        sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                           NULL) != SQLITE_OK) {
        store_dberr(st, err, "prepare");
        return NULL;
    }
    return st->stmt[id];
}

/* Runs a statement that returns no rows (or whose rows are ignored). */
int store_step_done(struct store *st, sqlite3_stmt *s, char *err, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, what);
    return 0;
}

int store_exec(struct store *st, const char *sql, char *err)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        errf(err, "session %s: %s", st->path, msg != NULL ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

char *store_col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? xstrdup((const char *)t) : NULL;
}

int store_query_int(struct store *st, const char *sql, int64_t *v, char *err)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return store_dberr(st, err, "schema");
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "schema");
    return rc == SQLITE_ROW;
}

int store_find_one(struct store *st, enum stmt_id which, const char *key, uint64_t *id, char *err)
{
    sqlite3_stmt *s = store_stmt(st, which, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

/* ---- opening ---- */

/* The file is ours before SQLite sees it: created 0600 (never through a symbolic link), an existing
 * one tightened to 0600, and locked so that two sluices never share a session. The -wal and -shm
 * files that SQLite creates copy the database's mode; stale ones from a crash are tightened too,
 * and removed when the database itself is new. */
static int prepare_file(struct store *st, char *err)
{
    static const char *const sides[] = { "-wal", "-shm" };
    struct stat sb;
    int fd;

    fd = open(st->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        st->created = true;
    } else if (errno == EEXIST) {
        fd = open(st->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return errf(err, "cannot open session %s: %s", st->path, strerror(errno));
    } else {
        return errf(err, "cannot create session %s: %s", st->path, strerror(errno));
    }
    st->lockfd = fd;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
        return errf(err, "session %s is not a regular file", st->path);
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    if ((sb.st_mode & 077) != 0 && fchmod(fd, 0600) < 0)
        return errf(err, "cannot make session %s private: %s", st->path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0)
        return errf(err, "session %s is in use by another sluice", st->path);
    for (size_t i = 0; i < ARRAY_LEN(sides); i++) {
        char *side = xasprintf("%s%s", st->path, sides[i]);

        if (lstat(side, &sb) == 0) {
            if (!S_ISREG(sb.st_mode)) {
                errf(err, "session file %s is not a regular file", side);
                free(side);
                return -1;
            }
            /* Beside a file created just now they are another database's (one deleted without
             * them): SQLite would replay that log into this one. */
            if (st->created && unlink(side) == 0) {
                free(side);
                continue;
            }
            if ((sb.st_mode & 077) != 0 && chmod(side, 0600) < 0) {
                errf(err, "cannot make %s private: %s", side, strerror(errno));
                free(side);
                return -1;
            }
        }
        free(side);
    }
    return 0;
}

static int db_connect(struct store *st, int busy_ms, int cache_kib, char *err)
{
    char sql[128];

    if (sqlite3_open_v2(st->path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK)
        return store_dberr(st, err, "open");
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, busy_ms);
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", cache_kib);
    if (store_exec(st, sql, err) < 0)
        return -1;
    return store_exec(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;", err);
}

/* journal_mode cannot change inside a transaction, and answers with the mode it got. */
static int use_wal(struct store *st, char *err)
{
    sqlite3_stmt *s;
    const unsigned char *mode = NULL;
    int rc;

    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
        return store_dberr(st, err, "journal mode");
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        mode = sqlite3_column_text(s, 0);
    if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            errf(err, "session %s: cannot use WAL mode", st->path);
        else
            store_dberr(st, err, "journal mode");
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_finalize(s);
    return 0;
}

static struct store *open_path(const char *path, char *tempdir, char *err)
{
    struct store *st = xcalloc(1, sizeof *st);
    int64_t v;
    int rc;

    st->path = xstrdup(path);
    st->tempdir = tempdir;
    st->lockfd = -1;
    if (prepare_file(st, err) < 0 || db_connect(st, LOOP_BUSY_MS, LOOP_CACHE_KIB, err) < 0)
        goto fail;
    if (use_wal(st, err) < 0 || store_schema_migrate(st, err) < 0)
        goto fail;
    /* The checkpointer's connection replaces the automatic checkpoint of this one. */
    if (store_ckpt_start(st, err) < 0)
        goto fail;
    rc = store_meta_get(st, "holes", &v, err);
    if (rc < 0)
        goto fail;
    st->holes = rc > 0 ? v : 0;
    return st;
fail:
    store_close(st);
    return NULL;
}

struct store *store_open(const char *path, char *err)
{
    return open_path(path, NULL, err);
}

#define TEMP_PREFIX "sluice-nosession-"

/* Only the files a session makes, then the folder: nothing else is ever deleted. */
static void remove_temp_session(const char *dir)
{
    static const char *const names[] = { "session.db", "session.db-wal", "session.db-shm",
                                         "session.db-journal" };

    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        char *p = xasprintf("%s/%s", dir, names[i]);

        unlink(p);
        free(p);
    }
    rmdir(dir);
}

/* A --no-session run killed with -9 cannot remove its folder. Its session file is no longer
 * locked (the lock went with the process), which tells it from one still running. */
static void sweep_temp_sessions(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        char *dir, *db;
        int fd;

        if (strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
            continue;
        dir = xasprintf("%s/%s", tmp, de->d_name);
        db = xasprintf("%s/session.db", dir);
        /* A minute old at least: a run that is starting has created its folder but may not
         * hold the lock yet. */
        if (lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == getuid() &&
            sb.st_mtime < time(NULL) - 60 &&
            (fd = open(db, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                remove_temp_session(dir);
            close(fd);
        }
        free(db);
        free(dir);
    }
    closedir(d);
}

struct store *store_open_temp(char *err)
{
    const char *tmp = getenv("TMPDIR");
    char *dir, *path;
    struct store *st;

    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    sweep_temp_sessions(tmp);
    dir = xasprintf("%s/" TEMP_PREFIX "XXXXXX", tmp);
    if (mkdtemp(dir) == NULL) {
        errf(err, "cannot create a temporary session in %s: %s", tmp, strerror(errno));
        free(dir);
        return NULL;
    }
    path = xasprintf("%s/session.db", dir);
    st = open_path(path, dir, err);
    free(path);
    return st;
}

struct store *store_clone(struct store *st, char *err)
{
    struct store *c = xcalloc(1, sizeof *c);

    c->path = xstrdup(st->path);
    c->lockfd = -1;
    c->clone = true;
    c->primary = st;
    atomic_fetch_add(&st->nclones, 1);
    c->ckpt = st->ckpt;
    c->holes = st->holes;
    if (db_connect(c, CLONE_BUSY_MS, CLONE_CACHE_KIB, err) < 0) {
        store_close(c);
        return NULL;
    }
    store_ckpt_hook(c);
    return c;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (!st->clone)
        store_ckpt_stop(st->ckpt);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    /* The last connection to close checkpoints and removes the log. */
    if (st->db != NULL)
        sqlite3_close(st->db);
    if (st->tempdir != NULL) {
        remove_temp_session(st->tempdir);
        free(st->tempdir);
    }
    if (st->lockfd >= 0)
        close(st->lockfd);
    if (st->primary != NULL)
        atomic_fetch_sub(&st->primary->nclones, 1);
    free(st->path);
    free(st);
}

/* ---- a session deleted or replaced while running (docs/design.md#session) ---- */

bool store_moved(const struct store *st)
{
    struct stat sb;

    if (st->clone || st->lockfd < 0)
        return false;
    return stat(st->path, &sb) < 0 || sb.st_dev != st->dev || sb.st_ino != st->ino;
}

/* The folder the file goes in (DIR/.sluice removed with it), made again as private as sluice
 * makes it; one level only: a session whose output root is gone has nowhere to go. */
static void make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;

    if (slash == NULL || slash == path)
        return;
    dir = xstrndup(path, (size_t)(slash - path));
    (void)mkdir(dir, 0700);      /* when it fails, creating the copy below says why */
    free(dir);
}

static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL ? xstrdup(".") :
                slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Another sluice took the path (started on it while ours was gone): never overwritten. */
static bool held_by_another(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    bool held;

    if (fd < 0)
        return false;
    held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

int store_relink(struct store *st, char *err)
{
    static const char *const sides[] = { "-wal", "-shm" };
    struct store fresh = { .path = st->path, .lockfd = -1 };
    char *tmp, *sql;
    struct stat sb;
    int fd, rc = -1;

    if (st->clone || st->lockfd < 0)
        return errf(err, "session %s: not the run's own connection", st->path);
    /* Another connection (the intake's writer) would go on writing to the old file, and a
     * transaction in progress would be cut in two: later. */
    if (atomic_load(&st->nclones) > 0 || !sqlite3_get_autocommit(st->db))
        return 1;
    if (held_by_another(st->path))
        return errf(err, "session %s is now another sluice's: this run's state is not saved there",
                    st->path);
    make_parent(st->path);
    tmp = xasprintf("%s-new", st->path);
    /* Created here, not by SQLite: mode 0600, and locked before it is in place. A copy left by a
     * run that died while making one is ours to replace. */
    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        errf(err, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &sb) < 0) {
        errf(err, "cannot lock %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* One consistent snapshot of what this connection sees (the log included), written as a
     * standalone database; SQLite does not fsync it, so we do. */
    sql = sqlite3_mprintf("VACUUM INTO %Q", tmp);
    rc = store_exec(st, sql, err);
    sqlite3_free(sql);
    if (rc < 0)
        goto out;
    rc = -1;
    if (fsync(fd) < 0) {
        errf(err, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    /* A -wal or -shm left at the path belongs to the file that is gone: next to the copy, SQLite
     * would replay that log into it. */
    for (size_t i = 0; i < ARRAY_LEN(sides); i++) {
        char *side = xasprintf("%s%s", st->path, sides[i]);

        unlink(side);
        free(side);
    }
    if (rename(tmp, st->path) < 0) {
        errf(err, "cannot put %s in place: %s", tmp, strerror(errno));
        goto out;
    }
    sync_parent(st->path);
    /* The new connection first: should it fail, the old one goes on (its writes then wait for the
     * next try, which copies them again). */
    if (db_connect(&fresh, LOOP_BUSY_MS, LOOP_CACHE_KIB, err) < 0 || use_wal(&fresh, err) < 0) {
        sqlite3_close(fresh.db);
        goto out_renamed;
    }
    /* The old connections close without a checkpoint: there is nothing to keep in the old file,
     * and SQLite would otherwise delete the -wal and -shm by name, now the new file's. */
    store_ckpt_stop(st->ckpt);
    st->ckpt = NULL;
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
        st->stmt[i] = NULL;
    }
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    sqlite3_close_v2(st->db);
    st->db = fresh.db;
    close(st->lockfd);
    st->lockfd = fd;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    fd = -1;
    /* Without the checkpointer, SQLite's own automatic checkpoint stays on: slower, still right. */
    (void)store_ckpt_start(st, err);
    err[0] = '\0';
    rc = 0;
    goto out_renamed;
out:
    unlink(tmp);
out_renamed:
    if (fd >= 0)
        close(fd);
    free(tmp);
    return rc;
}

const char *store_path(const struct store *st)
{
    return st->path;
}

bool store_created(const struct store *st)
{
    return st->created;
}

int store_begin(struct store *st, char *err)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

    if (rc == SQLITE_OK)
        return 0;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return 1;
    return store_dberr(st, err, "begin");
}

int store_begin_read(struct store *st, char *err)
{
    return store_exec(st, "BEGIN DEFERRED", err);
}

int store_commit(struct store *st, char *err)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        store_dberr(st, err, "commit");
        store_rollback(st);
        return -1;
    }
    return 0;
}

void store_rollback(struct store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_counts(struct store *st, size_t *counts, uint64_t *max_id, char *err)
{
    sqlite3_stmt *s;
    int rc;
    int64_t v = 0;

    memset(counts, 0, ITEM_STATE_COUNT * sizeof *counts);
    if (sqlite3_prepare_v2(st->db, "SELECT state, count(*) FROM items GROUP BY state", -1, &s,
                           NULL) != SQLITE_OK)
        return store_dberr(st, err, "count");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = sqlite3_column_int(s, 0);

        if (state >= 0 && state < ITEM_STATE_COUNT)
            counts[state] += (size_t)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "count");
    if (store_query_int(st, "SELECT max(id) FROM items", &v, err) < 0)
        return -1;
    *max_id = v > 0 ? (uint64_t)v : 0;
    return 0;
}

int store_requeue_active(struct store *st, uint64_t **ids, size_t *n, char *err)
{
    sqlite3_stmt *s;
    size_t cap = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    /* Only the transfers of the run that was cut short: a handful, at most a few times -j. */
    if (sqlite3_prepare_v2(st->db, "SELECT id FROM items WHERE state = 1 ORDER BY id", -1, &s,
                           NULL) != SQLITE_OK)
        return store_dberr(st, err, "active");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *ids = xrealloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return store_dberr(st, err, "active");
    }
    if (store_exec(st, "UPDATE items SET state = 0 WHERE state = 1", err) < 0)
        return -1;
    return sqlite3_changes(st->db);
}
