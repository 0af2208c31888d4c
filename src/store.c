/* The session on SQLite. The loop's connection never checkpoints (a checkpoint fsyncs the database
 * file, which can take seconds on a busy disk); a thread of our own does, PASSIVE, every couple of
 * seconds or as soon as the log passes CKPT_FRAMES pages. With synchronous=NORMAL a commit only
 * appends to the log, so the loop's writes cost microseconds, and a power cut loses at most the
 * last commits, never the database's consistency. */
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BUSY_MS 1           /* the loop waits ~1 ms for another writer, then tries later */
#define CLONE_BUSY_MS 10000
#define LOOP_CACHE_KIB 8192
#define CLONE_CACHE_KIB 16384
#define CKPT_PERIOD_MS 2000
#define CKPT_FRAMES 4096         /* 16 MiB of log at 4 KiB pages: checkpoint now */
#define WAL_HIGH_FRAMES 16384    /* 64 MiB: a bulk writer waits for the checkpointer */
/* A log file larger than this is cut back by the checkpointer (TRUNCATE), never by a commit:
 * SQLite's journal_size_limit would make the first commit after a reset cut back a file of
 * gigabytes, and that commit, maybe the loop's, would take a second. */
#define WAL_CUT_BYTES (64 << 20)
#define CKPT_BUSY_MS 200         /* a TRUNCATE checkpoint waits this long for readers and writers */

/* States are stored as their numbers, and the SQL below names some of them (partial indexes need
 * literals): the enum is part of the file format. */
_Static_assert(ITEM_QUEUED == 0 && ITEM_ACTIVE == 1 && ITEM_RETRY == 2 && ITEM_PAUSED == 3 &&
               ITEM_DONE == 4 && ITEM_UNCHANGED == 5 && ITEM_FAILED == 6, "item states are stored");

enum stmt_id {
    S_LOAD, S_INSERT, S_WRITE, S_DELETE, S_FIND_URL, S_FIND_PATH, S_URL_OF, S_WHERE,
    S_HOST_QUEUED, S_NEXT_HOST, S_PROMOTE, S_MIN_DUE, S_REQUEUE_FAILED, S_RESUME_PAUSED, S_REQUEUE_FINISHED,
    S_PAGE_STATE, S_PAGE_DENSE, S_PAGE_ANY, S_SET_GET, S_SET_SET, S_META_GET, S_META_SET, S_INPUT_ADD,
    S_INPUT_GET, S_SCAN, S_SCAN_PATH, S_FINISHED, S_REQUEUE_ONE, S_COUNT
};

#define ITEM_COLS "id, url, mirrors, path, host, headers, algo, digest, state, attempts, next_try, " \
                  "http_status, error, size, received, etag, last_modified, sha256, duration_ms, line"

static const char *const stmt_sql[S_COUNT] = {
    [S_LOAD] = "SELECT " ITEM_COLS " FROM items WHERE id = ?1",
    [S_INSERT] = "INSERT INTO items(url, mirrors, path, host, headers, algo, digest, state, attempts, "
                 "next_try, http_status, error, size, received, etag, last_modified, sha256, "
                 "duration_ms, input, line, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                 "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT DO NOTHING",
    [S_WRITE] = "UPDATE items SET state = ?2, attempts = ?3, next_try = ?4, http_status = ?5, "
                "error = ?6, size = ?7, received = ?8, etag = ?9, last_modified = ?10, sha256 = ?11, "
                "duration_ms = ?12, updated = ?13 WHERE id = ?1",
    [S_DELETE] = "DELETE FROM items WHERE id = ?1",
    [S_FIND_URL] = "SELECT id FROM items WHERE url = ?1",
    [S_FIND_PATH] = "SELECT id FROM items WHERE path = ?1",
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
    [S_PROMOTE] = "UPDATE items INDEXED BY items_retry SET state = 0, updated = ?2 "
                  "WHERE state = 2 AND next_try <= ?1",
    [S_MIN_DUE] = "SELECT min(next_try) FROM items INDEXED BY items_retry WHERE state = 2",
    [S_REQUEUE_FAILED] = "UPDATE items SET state = 0, attempts = 0, error = NULL, next_try = 0, "
                         "updated = ?1 WHERE state = 6",
    [S_RESUME_PAUSED] = "UPDATE items SET state = 0, updated = ?1 WHERE state = 3",
    [S_REQUEUE_FINISHED] = "UPDATE items SET state = 0, attempts = 0, error = NULL, next_try = 0, "
                           "updated = ?1 WHERE state = ?2",
    [S_PAGE_STATE] = "SELECT id FROM items INDEXED BY items_state WHERE state = ?1 AND id >= ?4 "
                     "ORDER BY id LIMIT ?2 OFFSET ?3",
    [S_PAGE_DENSE] = "SELECT id FROM items WHERE id > ?1 ORDER BY id LIMIT ?2",
    [S_PAGE_ANY] = "SELECT id FROM items WHERE id >= ?3 ORDER BY id LIMIT ?2 OFFSET ?1",
    [S_SET_GET] = "SELECT value FROM settings WHERE key = ?1",
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

/* Migrations: entry v upgrades schema v to v + 1, inside the opening transaction. Version 0 is
 * an empty file or one that holds only the meta table (what a pre-release build wrote); a newer
 * schema than STORE_SCHEMA_VERSION is refused rather than guessed at. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 → 1 */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
    "CREATE TABLE settings(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE inputs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"   /* input order; never reused after a removal */
    " url TEXT NOT NULL UNIQUE,"
    " mirrors TEXT,"                           /* further URLs, tab-separated */
    " path TEXT NOT NULL UNIQUE,"
    " host TEXT NOT NULL,"
    " headers TEXT,"                           /* header= lines, newline-separated */
    " algo INTEGER NOT NULL DEFAULT 0,"
    " digest BLOB,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL DEFAULT 0,"    /* wall-clock ms */
    " http_status INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " size INTEGER NOT NULL DEFAULT -1,"
    " received INTEGER NOT NULL DEFAULT 0,"
    " etag TEXT,"
    " last_modified TEXT,"
    " sha256 BLOB,"
    " duration_ms INTEGER NOT NULL DEFAULT 0,"
    " input INTEGER,"
    " line INTEGER NOT NULL DEFAULT 0,"
    " updated INTEGER NOT NULL DEFAULT 0);"
    /* Queued items by host in input order; partial, so finished items cost it nothing. */
    "CREATE INDEX items_queued ON items(host, id) WHERE state = 0;"
    "CREATE INDEX items_retry ON items(next_try) WHERE state = 2;"
    /* Pages by state, and counts: covering, the table is never read for them. */
    "CREATE INDEX items_state ON items(state, id);",
};

struct ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kick, running;
    sqlite3 *db;
    char *wal;                   /* the log's file name */
    atomic_int frames;           /* in the log after the last commit (any connection) */
    atomic_uint runs;            /* checkpoints made */
    atomic_bool caught_up;       /* the last one copied the whole log */
};

struct store {
    sqlite3 *db;
    char *path;
    char *tempdir;               /* store_open_temp: removed on close */
    int lockfd;                  /* holds the flock that keeps a second sluice out */
    bool created;
    bool clone;
    int64_t holes;               /* rows ever removed: ids are dense while 0 */
    struct ckpt *ckpt;           /* the primary's; clones borrow it to ask for checkpoints */
    sqlite3_stmt *stmt[S_COUNT];
};

static int dberr(struct store *st, char *err, const char *what)
{
    return errf(err, "session %s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static sqlite3_stmt *stmt(struct store *st, enum stmt_id id, char *err)
{
    if (st->stmt[id] == NULL &&
        sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
                           NULL) != SQLITE_OK) {
        dberr(st, err, "prepare");
        return NULL;
    }
    return st->stmt[id];
}

/* Runs a statement that returns no rows (or whose rows are ignored). */
static int step_done(struct store *st, sqlite3_stmt *s, char *err, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return dberr(st, err, what);
    return 0;
}

static int exec(struct store *st, const char *sql, char *err)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        errf(err, "session %s: %s", st->path, msg != NULL ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* ---- checkpointer ---- */

static void ckpt_kick(struct ckpt *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->kick = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Called by SQLite in the committing thread after each commit; replaces the autocheckpoint. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct ckpt *c = arg;

    if (c != NULL)
        atomic_store(&c->frames, pages);
    if (pages >= CKPT_FRAMES)
        ckpt_kick(arg);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct ckpt *c = arg;

    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);     /* Linux: this thread only */
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec ts;
        int log = 0, done = 0;

        if (!c->kick) {
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += CKPT_PERIOD_MS / 1000;
            ts.tv_nsec += (long)(CKPT_PERIOD_MS % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        }
        if (c->stop)
            break;
        c->kick = false;
        pthread_mutex_unlock(&c->mu);
        /* PASSIVE never waits for readers or writers; what it cannot copy now it copies later.
         * Once it has copied everything the next writer starts the log over. */
        if (sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
            SQLITE_OK) {
            struct stat sb;

            atomic_store(&c->caught_up, done >= log);
            /* All copied but the file stayed big (a bulk intake): cut it back here. Writers are
             * refused meanwhile (the loop's get SQLITE_BUSY at once and write later). */
            if (done >= log && stat(c->wal, &sb) == 0 && sb.st_size > WAL_CUT_BYTES)
                sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        }
        atomic_fetch_add(&c->runs, 1);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static int ckpt_start(struct store *st, char *err)
{
    struct ckpt *c = xcalloc(1, sizeof *c);
    pthread_condattr_t ca;

    if (sqlite3_open_v2(st->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        errf(err, "session %s: %s", st->path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    sqlite3_exec(c->db, "PRAGMA cache_size = -256", NULL, NULL, NULL);
    sqlite3_busy_timeout(c->db, CKPT_BUSY_MS);
    c->wal = xasprintf("%s-wal", st->path);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (util_thread_start(&c->thread, ckpt_main, c) != 0) {
        errf(err, "session %s: cannot start the checkpointer", st->path);
        sqlite3_close(c->db);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->wal);
        free(c);
        return -1;
    }
    c->running = true;
    st->ckpt = c;
    sqlite3_wal_hook(st->db, wal_hook, c);
    return 0;
}

static void ckpt_stop(struct ckpt *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->running)
        pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->wal);
    free(c);
}

void store_checkpoint_soon(struct store *st)
{
    ckpt_kick(st->ckpt);
}

void store_wal_wait(struct store *st, int max_ms)
{
    struct ckpt *c = st->ckpt;
    unsigned runs;

    if (c == NULL || atomic_load(&c->frames) < WAL_HIGH_FRAMES)
        return;
    ckpt_kick(c);
    runs = atomic_load(&c->runs);
    for (int waited = 0; waited < max_ms; waited += 5) {
        nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
        if (atomic_load(&c->runs) == runs)
            continue;
        if (atomic_load(&c->caught_up))
            return;
        runs = atomic_load(&c->runs);
        ckpt_kick(c);
    }
}

/* ---- opening ---- */

/* The file is ours before SQLite sees it: created 0600 (never through a symbolic link), an existing
 * one tightened to 0600, and locked so that two sluices never share a session. The -wal and -shm
 * files that SQLite creates copy the database's mode; stale ones from a crash are tightened too. */
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
        return dberr(st, err, "open");
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, busy_ms);
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", cache_kib);
    if (exec(st, sql, err) < 0)
        return -1;
    return exec(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF;", err);
}

static int table_exists(struct store *st, const char *name, char *err)
{
    sqlite3_stmt *s;
    int rc, found;

    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return dberr(st, err, "schema");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    found = rc == SQLITE_ROW;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "schema");
    return found;
}

static int query_int(struct store *st, const char *sql, int64_t *v, char *err)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return dberr(st, err, "schema");
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "schema");
    return rc == SQLITE_ROW;
}

/* Brings the schema to STORE_SCHEMA_VERSION one step at a time, all in one transaction: a crash
 * during an upgrade leaves the old version intact. */
static int migrate(struct store *st, char *err)
{
    int64_t version = 0, ntables = 0, appid = 0;
    int has_meta;
    char sql[256];

    if (exec(st, "BEGIN IMMEDIATE", err) < 0)
        return -1;
    if (query_int(st, "PRAGMA application_id", &appid, err) < 0 ||
        query_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ntables,
                  err) < 0 ||
        (has_meta = table_exists(st, "meta", err)) < 0)
        goto fail;
    if (appid != 0 && appid != STORE_APPLICATION_ID) {
        errf(err, "%s is not a sluice session (application id %lld)", st->path, (long long)appid);
        goto fail;
    }
    if (has_meta) {
        int rc = query_int(st, "SELECT value FROM meta WHERE key = 'schema_version'", &version,
                           err);

        if (rc < 0)
            goto fail;
        if (rc == 0) {
            errf(err, "%s is not a sluice session (no schema version)", st->path);
            goto fail;
        }
    } else if (ntables > 0) {
        errf(err, "%s is not a sluice session (it holds other tables)", st->path);
        goto fail;
    }
    if (version < 0 || version > STORE_SCHEMA_VERSION) {
        errf(err, "session %s has schema version %lld; this sluice knows up to %d (a newer sluice "
             "wrote it)", st->path, (long long)version, STORE_SCHEMA_VERSION);
        goto fail;
    }
    for (int64_t v = version; v < STORE_SCHEMA_VERSION; v++)
        if (exec(st, migrations[v], err) < 0)
            goto fail;
    if (version != STORE_SCHEMA_VERSION) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta(key, value) VALUES('schema_version', %d) ON CONFLICT(key) "
                 "DO UPDATE SET value = excluded.value; PRAGMA application_id = %d",
                 STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
        if (exec(st, sql, err) < 0)
            goto fail;
    }
    if (exec(st, "COMMIT", err) < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
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
    /* journal_mode cannot change inside a transaction, and answers with the mode it got. */
    {
        sqlite3_stmt *s;
        const unsigned char *mode = NULL;

        if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK) {
            dberr(st, err, "journal mode");
            goto fail;
        }
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            mode = sqlite3_column_text(s, 0);
        if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
            if (rc == SQLITE_ROW || rc == SQLITE_DONE)
                errf(err, "session %s: cannot use WAL mode", st->path);
            else
                dberr(st, err, "journal mode");
            sqlite3_finalize(s);
            goto fail;
        }
        sqlite3_finalize(s);
    }
    if (migrate(st, err) < 0)
        goto fail;
    /* The checkpointer's connection replaces the automatic checkpoint of this one. */
    if (ckpt_start(st, err) < 0)
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
    c->ckpt = st->ckpt;
    c->holes = st->holes;
    if (db_connect(c, CLONE_BUSY_MS, CLONE_CACHE_KIB, err) < 0) {
        store_close(c);
        return NULL;
    }
    sqlite3_wal_hook(c->db, wal_hook, c->ckpt);
    return c;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (!st->clone)
        ckpt_stop(st->ckpt);
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
    free(st->path);
    free(st);
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
    return dberr(st, err, "begin");
}

int store_begin_read(struct store *st, char *err)
{
    return exec(st, "BEGIN DEFERRED", err);
}

int store_commit(struct store *st, char *err)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        dberr(st, err, "commit");
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
        return dberr(st, err, "count");
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int state = sqlite3_column_int(s, 0);

        if (state >= 0 && state < ITEM_STATE_COUNT)
            counts[state] += (size_t)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return dberr(st, err, "count");
    if (query_int(st, "SELECT max(id) FROM items", &v, err) < 0)
        return -1;
    *max_id = v > 0 ? (uint64_t)v : 0;
    return 0;
}

int store_requeue_active(struct store *st, char *err)
{
    if (exec(st, "UPDATE items SET state = 0 WHERE state = 1", err) < 0)
        return -1;
    return sqlite3_changes(st->db);
}

/* ---- items ---- */

static char **split(const char *s, char sep, size_t *n)
{
    char **v;
    size_t k = 1;

    *n = 0;
    if (s == NULL || *s == '\0')
        return NULL;
    for (const char *p = s; *p; p++)
        k += *p == sep;
    v = xcalloc(k, sizeof *v);
    for (;;) {
        const char *e = strchr(s, sep);

        if (e == NULL) {
            v[(*n)++] = xstrdup(s);
            break;
        }
        v[(*n)++] = xstrndup(s, (size_t)(e - s));
        s = e + 1;
    }
    return v;
}

static char *join(char **v, size_t n, char sep)
{
    struct sbuf b = { 0 };

    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sbuf_add(&b, &sep, 1);
        sbuf_addstr(&b, v[i]);
    }
    return b.s;
}

/* A text column that must not be NULL: a session file is input like any other (--session FILE). */
static char *col_str(sqlite3_stmt *s, int i)
{
    char *v = col_dup(s, i);

    return v != NULL ? v : xstrdup("");
}

static struct item *row_item(sqlite3_stmt *s, int64_t wall_off)
{
    struct item *it = xcalloc(1, sizeof *it);
    size_t nmirrors = 0;
    char **mirrors = split((const char *)sqlite3_column_text(s, 2), '\t', &nmirrors);
    const void *blob;

    it->id = (uint64_t)sqlite3_column_int64(s, 0);
    it->nurls = 1 + nmirrors;
    it->urls = xcalloc(it->nurls, sizeof *it->urls);
    it->urls[0] = col_str(s, 1);
    for (size_t i = 0; i < nmirrors; i++)
        it->urls[1 + i] = mirrors[i];
    free(mirrors);
    it->path = col_str(s, 3);
    it->host = col_str(s, 4);
    it->headers = split((const char *)sqlite3_column_text(s, 5), '\n', &it->nheaders);
    switch (sqlite3_column_int(s, 6)) {
    case CHECKSUM_SHA256:
        it->algo = CHECKSUM_SHA256;
        break;
    case CHECKSUM_MD5:
        it->algo = CHECKSUM_MD5;
        break;
    default:
        it->algo = CHECKSUM_NONE;
    }
    blob = sqlite3_column_blob(s, 7);
    if (blob != NULL) {
        int n = sqlite3_column_bytes(s, 7);

        memcpy(it->digest, blob, n < 32 ? (size_t)n : 32);
    }
    it->state = (enum item_state)sqlite3_column_int(s, 8);
    if ((unsigned)it->state >= ITEM_STATE_COUNT)
        it->state = ITEM_FAILED;
    it->attempts = sqlite3_column_int(s, 9);
    it->next_try_ms = sqlite3_column_int64(s, 10) - wall_off;
    it->http_status = sqlite3_column_int(s, 11);
    it->error = col_dup(s, 12);
    it->size = sqlite3_column_int64(s, 13);
    it->received = sqlite3_column_int64(s, 14);
    it->etag = col_dup(s, 15);
    it->last_modified = col_dup(s, 16);
    blob = sqlite3_column_blob(s, 17);
    if (blob != NULL && sqlite3_column_bytes(s, 17) == 32) {
        memcpy(it->sha256, blob, 32);
        it->has_sha256 = true;
    }
    it->duration_ms = sqlite3_column_int64(s, 18);
    it->line = (long)sqlite3_column_int64(s, 19);
    it->heap_idx = (size_t)-1;
    return it;
}

struct item *store_load(struct store *st, uint64_t id, int64_t wall_off, char *err)
{
    sqlite3_stmt *s = stmt(st, S_LOAD, err);
    struct item *it = NULL;
    int rc;

    err[0] = '\0';
    if (s == NULL)
        return NULL;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        it = row_item(s, wall_off);
    else if (rc != SQLITE_DONE)
        dberr(st, err, "load");
    sqlite3_reset(s);
    return it;
}

static void bind_dynamic(sqlite3_stmt *s, const struct item *it, int64_t wall_off, int first)
{
    /* state, attempts, next_try, http_status, error, size, received, etag, last_modified, sha256,
     * duration_ms, in this order from `first` on. */
    sqlite3_bind_int(s, first, (int)it->state);
    sqlite3_bind_int(s, first + 1, it->attempts);
    sqlite3_bind_int64(s, first + 2, it->state == ITEM_RETRY ? it->next_try_ms + wall_off : 0);
    sqlite3_bind_int(s, first + 3, it->http_status);
    bind_text(s, first + 4, it->error);
    sqlite3_bind_int64(s, first + 5, it->size);
    sqlite3_bind_int64(s, first + 6, it->received);
    bind_text(s, first + 7, it->etag);
    bind_text(s, first + 8, it->last_modified);
    if (it->has_sha256)
        sqlite3_bind_blob(s, first + 9, it->sha256, 32, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, first + 9);
    sqlite3_bind_int64(s, first + 10, it->duration_ms);
}

int store_insert(struct store *st, const struct item *it, int64_t input, int64_t wall_off,
                 uint64_t *id, char *err)
{
    sqlite3_stmt *s = stmt(st, S_INSERT, err);
    char *mirrors, *headers;
    int rc;

    if (s == NULL)
        return -1;
    mirrors = join(it->urls + 1, it->nurls > 0 ? it->nurls - 1 : 0, '\t');
    headers = join(it->headers, it->nheaders, '\n');
    sqlite3_bind_text(s, 1, it->urls[0], -1, SQLITE_STATIC);
    if (mirrors != NULL)
        sqlite3_bind_text(s, 2, mirrors, -1, free);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_text(s, 3, it->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, it->host, -1, SQLITE_STATIC);
    if (headers != NULL)
        sqlite3_bind_text(s, 5, headers, -1, free);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_int(s, 6, (int)it->algo);
    if (it->algo == CHECKSUM_SHA256)
        sqlite3_bind_blob(s, 7, it->digest, 32, SQLITE_STATIC);
    else if (it->algo == CHECKSUM_MD5)
        sqlite3_bind_blob(s, 7, it->digest, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 7);
    bind_dynamic(s, it, wall_off, 8);     /* columns 8 .. 18 */
    if (input > 0)
        sqlite3_bind_int64(s, 19, input);
    else
        sqlite3_bind_null(s, 19);
    sqlite3_bind_int64(s, 20, it->line);
    sqlite3_bind_int64(s, 21, wall_ms());
    rc = step_done(st, s, err, "insert");
    if (rc < 0)
        return -1;
    if (sqlite3_changes(st->db) == 0)
        return 1;
    *id = (uint64_t)sqlite3_last_insert_rowid(st->db);
    return 0;
}

int store_write(struct store *st, const struct item *it, int64_t wall_off, char *err)
{
    sqlite3_stmt *s = stmt(st, S_WRITE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)it->id);
    bind_dynamic(s, it, wall_off, 2);
    sqlite3_bind_int64(s, 13, wall_ms());
    return step_done(st, s, err, "write");
}

int store_delete(struct store *st, uint64_t id, char *err)
{
    sqlite3_stmt *s = stmt(st, S_DELETE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    if (step_done(st, s, err, "delete") < 0)
        return -1;
    if (sqlite3_changes(st->db) > 0) {
        /* Ids are no longer dense: pages of every state must count instead of seek. */
        if (store_meta_set(st, "holes", st->holes + 1, err) < 0)
            return -1;
        st->holes++;
    }
    return 0;
}

static int find_one(struct store *st, enum stmt_id which, const char *key, uint64_t *id, char *err)
{
    sqlite3_stmt *s = stmt(st, which, err);
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
        return dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

int store_find_url(struct store *st, const char *url, uint64_t *id, char *err)
{
    return find_one(st, S_FIND_URL, url, id, err);
}

int store_find_path(struct store *st, const char *path, uint64_t *id, char *err)
{
    return find_one(st, S_FIND_PATH, path, id, err);
}

int store_url_of(struct store *st, uint64_t id, char **url, char *err)
{
    sqlite3_stmt *s = stmt(st, S_URL_OF, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *url = col_dup(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

int store_where(struct store *st, uint64_t id, char **input, long *line, char **path, char *err)
{
    sqlite3_stmt *s = stmt(st, S_WHERE, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *input = col_dup(s, 0);
        *line = (long)sqlite3_column_int64(s, 1);
        *path = col_dup(s, 2);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

/* ---- what the queue reads ---- */

int store_host_queued(struct store *st, const char *host, uint64_t after, size_t limit,
                      int64_t wall_off, store_item_cb cb, void *arg, char *err)
{
    sqlite3_stmt *s = stmt(st, S_HOST_QUEUED, err);
    int rc, n = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, (int64_t)after);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cb(row_item(s, wall_off), arg);
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return dberr(st, err, "read queued items");
    return n;
}

int store_next_host(struct store *st, const char *after, char **host, char *err)
{
    sqlite3_stmt *s = stmt(st, S_NEXT_HOST, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, after != NULL ? after : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *host = col_dup(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "read hosts");
    return rc == SQLITE_ROW;
}

int store_promote_due(struct store *st, int64_t now_wall, char *err)
{
    sqlite3_stmt *s = stmt(st, S_PROMOTE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now_wall);
    sqlite3_bind_int64(s, 2, wall_ms());
    if (step_done(st, s, err, "promote retries") < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_min_due(struct store *st, int64_t *due_wall, char *err)
{
    sqlite3_stmt *s = stmt(st, S_MIN_DUE, err);
    int rc, found = 0;

    if (s == NULL)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *due_wall = sqlite3_column_int64(s, 0);
        found = 1;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "read retries");
    return found;
}

int store_requeue(struct store *st, enum item_state from, char *err)
{
    sqlite3_stmt *s;

    if (from != ITEM_FAILED && from != ITEM_PAUSED && from != ITEM_DONE && from != ITEM_UNCHANGED)
        return errf(err, "cannot requeue %s items in bulk", item_state_name(from));
    s = stmt(st, from == ITEM_FAILED ? S_REQUEUE_FAILED :
                 from == ITEM_PAUSED ? S_RESUME_PAUSED : S_REQUEUE_FINISHED, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, wall_ms());
    if (from == ITEM_DONE || from == ITEM_UNCHANGED)
        sqlite3_bind_int(s, 2, (int)from);
    if (step_done(st, s, err, "requeue") < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_page_ids(struct store *st, int state, uint64_t from, uint64_t offset, size_t limit,
                   uint64_t *ids, char *err)
{
    sqlite3_stmt *s;
    int rc, n = 0;

    if (state >= 0) {
        if ((s = stmt(st, S_PAGE_STATE, err)) == NULL)
            return -1;
        sqlite3_bind_int(s, 1, state);
        sqlite3_bind_int64(s, 2, (int64_t)limit);
        sqlite3_bind_int64(s, 3, (int64_t)offset);
        sqlite3_bind_int64(s, 4, (int64_t)from);
    } else if (st->holes == 0) {
        /* Dense ids (nothing ever removed): the offset-th item is id offset + 1, one seek. */
        if ((s = stmt(st, S_PAGE_DENSE, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, (int64_t)(from > 0 ? from - 1 + offset : offset));
        sqlite3_bind_int64(s, 2, (int64_t)limit);
    } else {
        if ((s = stmt(st, S_PAGE_ANY, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, (int64_t)offset);
        sqlite3_bind_int64(s, 2, (int64_t)limit);
        sqlite3_bind_int64(s, 3, (int64_t)from);
    }
    while (n < (int)limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[n++] = (uint64_t)sqlite3_column_int64(s, 0);
    if (n == (int)limit)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return dberr(st, err, "read a page");
    return n;
}

int store_finished(struct store *st, enum item_state state, uint64_t after, size_t limit,
                   store_finished_cb cb, void *arg, char *err)
{
    sqlite3_stmt *s = stmt(st, S_FINISHED, err);
    int rc, n = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_int(s, 1, (int)state);
    sqlite3_bind_int64(s, 2, (int64_t)after);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(s, 1);

        cb((uint64_t)sqlite3_column_int64(s, 0), path != NULL ? path : "",
           sqlite3_column_int64(s, 2), arg);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return dberr(st, err, "read finished items");
    return n;
}

int store_requeue_one(struct store *st, uint64_t id, enum item_state was, char *err)
{
    sqlite3_stmt *s = stmt(st, S_REQUEUE_ONE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    sqlite3_bind_int(s, 2, (int)was);
    sqlite3_bind_int64(s, 3, wall_ms());
    if (step_done(st, s, err, "requeue") < 0)
        return -1;
    return sqlite3_changes(st->db) > 0;
}

/* ---- settings and bookkeeping ---- */

int store_setting_get(struct store *st, const char *key, char **value, char *err)
{
    sqlite3_stmt *s = stmt(st, S_SET_GET, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *value = col_dup(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "read a setting");
    return rc == SQLITE_ROW && *value != NULL;
}

int store_setting_set(struct store *st, const char *key, const char *value, char *err)
{
    sqlite3_stmt *s = stmt(st, S_SET_SET, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
    return step_done(st, s, err, "write a setting");
}

int store_meta_get(struct store *st, const char *key, int64_t *value, char *err)
{
    sqlite3_stmt *s = stmt(st, S_META_GET, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(st, err, "read meta");
    return rc == SQLITE_ROW;
}

int store_meta_set(struct store *st, const char *key, int64_t value, char *err)
{
    sqlite3_stmt *s = stmt(st, S_META_SET, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, value);
    return step_done(st, s, err, "write meta");
}

int store_input_id(struct store *st, const char *name, int64_t *id, char *err)
{
    sqlite3_stmt *s = stmt(st, S_INPUT_ADD, err);
    uint64_t v = 0;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    if (step_done(st, s, err, "record the input") < 0)
        return -1;
    rc = find_one(st, S_INPUT_GET, name, &v, err);
    if (rc <= 0)
        return rc < 0 ? -1 : errf(err, "session %s: input %s vanished", st->path, name);
    *id = (int64_t)v;
    return 0;
}

int store_scan(struct store *st, bool want_path, store_scan_cb cb, void *arg, char *err)
{
    sqlite3_stmt *s = stmt(st, want_path ? S_SCAN_PATH : S_SCAN, err);
    int rc, stop = 0;

    if (s == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        stop = cb((uint64_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                  want_path ? (const char *)sqlite3_column_text(s, 2) : NULL, arg);
        if (stop != 0)
            break;
    }
    sqlite3_reset(s);
    if (stop != 0)
        return stop;
    if (rc != SQLITE_DONE)
        return dberr(st, err, "read the session");
    return 0;
}
