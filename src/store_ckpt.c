/* The session's checkpointer. The loop's connection never checkpoints (a checkpoint fsyncs the
 * database file, which can take seconds on a busy disk); a thread of our own does, PASSIVE, every
 * couple of seconds or as soon as the log passes CKPT_FRAMES pages. With synchronous=NORMAL a commit
 * only appends to the log, so the loop's writes cost microseconds, and a power cut loses at most
 * the last commits, never the database's consistency. */
#include "store_ckpt.h"
#include "store_impl.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CKPT_PERIOD_MS 2000
#define CKPT_FRAMES 4096         /* 16 MiB of log at 4 KiB pages: checkpoint now */
#define WAL_HIGH_FRAMES 16384    /* 64 MiB: a bulk writer waits for the checkpointer */
/* A log file larger than this is cut back by the checkpointer (TRUNCATE), never by a commit:
 * SQLite's journal_size_limit would make the first commit after a reset cut back a file of
 * gigabytes, and that commit, maybe the loop's, would take a second. */
#define WAL_CUT_BYTES (64 << 20)
#define CKPT_BUSY_MS 200         /* a TRUNCATE checkpoint waits this long for readers and writers */

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

int store_ckpt_start(struct store *st, char *err)
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

void store_ckpt_stop(struct ckpt *c)
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

void store_ckpt_hook(struct store *st)
{
    sqlite3_wal_hook(st->db, wal_hook, st->ckpt);
}

void store_ckpt_soon(struct store *st)
{
    ckpt_kick(st->ckpt);
}

void store_ckpt_wal_wait(struct store *st, int max_ms)
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
