/* Pass two of the intake (see intake.c): the new items stored from a thread of its own, through a
 * session connection of its own, in batches (never one transaction per item), while the
 * engine already works on what is committed; then the session's finished items looked at. Every
 * "already there" from pass one is confirmed against the row itself before it is skipped. */
#include "intake_writer.h"
#include "intake_impl.h"
#include "item.h"
#include "queue.h"
#include "store.h"
#include "store_ckpt.h"
#include "store_item.h"
#include "store_queue.h"
#include "urlpath.h"
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIRST_BATCH_ROWS 500     /* the first commit comes at once: the engine starts on it */
#define BATCH_ROWS 20000
#define BATCH_MS 100             /* the loop may have to wait for a batch: keep it short */
#define YIELD_MS 50
#define FINISHED_CHUNK 4096      /* finished items looked at per read */

static int batch_end(struct intake *in, char *err)
{
    bool wrote = in->batch_writes;

    if (!in->in_batch)
        return 0;
    in->in_batch = in->batch_writes = false;
    if (store_commit(in->wst, err) < 0)
        return -1;
    if (!wrote)
        return 0;
    queue_rows_committed(in->q, in->delta);
    in->delta = 0;
    store_ckpt_wal_wait(in->wst, 2000);
    /* The loop wants to write (a completion, a retry): let it in before the next batch. */
    for (int i = 0; i < YIELD_MS && queue_loop_waiting(in->q); i++)
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    return 0;
}

/* Lookups share one read transaction; inserts need the write lock, which a read transaction
 * cannot take over once another connection has committed, so that one ends first. */
static int batch_begin(struct intake *in, bool write, char *err)
{
    int rc;

    if (in->in_batch && (in->batch_writes || !write))
        return 0;
    if (in->in_batch && batch_end(in, err) < 0)
        return -1;
    rc = write ? store_begin(in->wst, err) : store_begin_read(in->wst, err);
    if (rc > 0)
        return errf(err, "session %s stayed busy", store_path(in->wst));
    if (rc < 0)
        return -1;
    in->in_batch = true;
    in->batch_writes = write;
    in->batch_rows = 0;
    in->batch_t0 = mono_ms();
    return 0;
}

static int batch_step(struct intake *in, char *err)
{
    in->batch_rows++;
    if (in->batch_rows >= (in->batch_writes && in->stored <= FIRST_BATCH_ROWS ? FIRST_BATCH_ROWS
                                                                               : BATCH_ROWS) ||
        mono_ms() - in->batch_t0 >= BATCH_MS)
        return batch_end(in, err);
    return 0;
}

/* 1 when the URL is in the session (written by an earlier run or earlier in this one). */
static int known_url(struct intake *in, const char *url, uint32_t sid, char *err)
{
    uint64_t id;

    if (sid != 0) {
        char *u = NULL;
        int rc = store_item_url_of(in->wst, sid, &u, err);
        bool same = rc > 0 && strcmp(u, url) == 0;

        free(u);
        if (rc < 0)
            return -1;
        if (same)
            return 1;
    }
    return store_item_find_url(in->wst, url, &id, err);
}

static int store_one(struct intake *in, const struct input_item *ii, uint32_t seq, char *err)
{
    char perr[ERRLEN];
    struct url_parts parts;
    struct item it = { 0 };
    uint64_t id, other;
    bool announced = true;
    int rc;

    if (atomic_load(&in->stop))
        return errf(err, "stopped");
    if (intake_is_dup(in, seq) || intake_sid_of(in, seq) != 0) {
        if (batch_begin(in, false, err) < 0)
            return -1;
        rc = known_url(in, ii->urls[0], intake_sid_of(in, seq), err);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            in->merged++;
            return batch_step(in, err);
        }
        announced = false;       /* fingerprints collided: it is new after all */
    }
    it.path = urlpath_target(ii->urls[0], in->s->layout, ii->dir, ii->out, perr);
    if (it.path == NULL)
        return errf(err, "%s:%ld: %s (the list changed while sluice ran?)", ii->file, ii->line,
                    perr);
    if (urlpath_parse(ii->urls[0], &parts, perr) < 0) {
        free(it.path);
        return errf(err, "%s:%ld: %s", ii->file, ii->line, perr);
    }
    it.urls = ii->urls;
    it.nurls = ii->nurls;
    it.host = urlpath_host_key(&parts);
    it.headers = ii->headers;
    it.nheaders = ii->nheaders;
    it.algo = ii->algo;
    memcpy(it.digest, ii->digest, sizeof it.digest);
    it.state = ITEM_QUEUED;
    it.size = -1;
    it.line = ii->line;
    rc = batch_begin(in, true, err);
    if (rc == 0)
        rc = store_item_insert(in->wst, &it, intake_is_cli(in, seq) ? in->input_cli : in->input_list,
                          0, &id, err);
    if (rc > 0) {
        /* Taken: the URL was merged after all, or a path conflict that pass one could not see. */
        if (store_item_find_url(in->wst, ii->urls[0], &other, err) > 0) {
            in->merged++;
            in->delta -= announced;
            rc = 0;
        } else {
            rc = errf(err, "%s:%ld: output path %s is also the target of another item (the list "
                      "changed while sluice ran?)", ii->file, ii->line, it.path);
        }
    } else if (rc == 0) {
        in->stored++;
        in->delta += !announced;
    }
    urlpath_parts_free(&parts);
    free(it.path);
    free(it.host);
    if (rc < 0)
        return -1;
    return batch_step(in, err);
}

struct finished {
    uint64_t id[FINISHED_CHUNK];
    size_t n;
    uint64_t last;
    int rootfd;
    bool overwrite, check_size;
};

static void on_finished(uint64_t id, const char *path, int64_t received, void *arg)
{
    struct finished *f = arg;
    struct stat sb;

    f->last = id;
    /* Done means the file is there with the recorded size (docs/design.md#session): anything
     * else is fetched again. Nothing follows a symbolic link here: it is not our file then. */
    if (!f->overwrite && fstatat(f->rootfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(sb.st_mode) && (!f->check_size || received <= 0 || sb.st_size == received))
        return;
    f->id[f->n++] = id;
}

/* The session's finished items whose files are gone (or all of them with --overwrite) go back to
 * the queue, a chunk at a time, while the engine runs. */
static int check_finished(struct intake *in, char *err)
{
    static const enum item_state states[] = { ITEM_DONE, ITEM_UNCHANGED };
    struct finished *f = xcalloc(1, sizeof *f);
    int rc = 0;

    f->rootfd = in->rootfd;
    f->overwrite = in->s->overwrite;
    for (size_t k = 0; k < ARRAY_LEN(states) && rc == 0; k++) {
        int got;

        f->last = 0;
        f->check_size = states[k] == ITEM_DONE;
        do {
            long moved = 0;

            if (atomic_load(&in->stop))
                goto out;
            f->n = 0;
            got = store_queue_finished(in->wst, states[k], f->last, FINISHED_CHUNK, on_finished, f, err);
            if (got < 0 || (f->n > 0 && batch_begin(in, true, err) < 0)) {
                rc = -1;
                break;
            }
            for (size_t i = 0; i < f->n; i++) {
                int r = store_queue_requeue_one(in->wst, f->id[i], states[k], err);

                if (r < 0) {
                    rc = -1;
                    break;
                }
                moved += r;
            }
            if (rc < 0)
                break;
            if (f->n > 0) {
                in->in_batch = in->batch_writes = false;
                if (store_commit(in->wst, err) < 0) {
                    rc = -1;
                    break;
                }
                in->requeued += (size_t)moved;
                queue_rows_requeued(in->q, states[k], moved);
                store_ckpt_wal_wait(in->wst, 2000);
            }
        } while (got == FINISHED_CHUNK);
    }
out:
    free(f);
    return rc;
}

void intake_writer_run(struct intake *in)
{
    char err[ERRLEN];
    int n;

    in->t0 = mono_ms();
    n = intake_walk(in, store_one, intake_ignore_report, NULL, err);
    if (n < 0 && atomic_load(&in->stop))
        n = 0;                   /* stopped: what is stored stays stored */
    if (n == 0 && batch_end(in, err) < 0)
        n = -1;
    if (n == 0 && in->rootfd >= 0 && check_finished(in, err) < 0)
        n = -1;
    if (n != 0) {
        if (n > 0)
            snprintf(err, sizeof err, "%s: %d malformed lines (the list changed while sluice ran?)",
                     in->list_name, n);
        if (in->in_batch) {
            store_rollback(in->wst);
            in->in_batch = in->batch_writes = false;
        }
        snprintf(in->err, sizeof in->err, "%s", err);
        queue_rows_committed(in->q, in->delta);
        atomic_store(&in->status, -1);
        return;
    }
    /* Worth a line for the operator only when it took a while. */
    if (mono_ms() - in->t0 >= 1000)
        snprintf(in->summary, sizeof in->summary,
             "sluice: input %s: %zu new item%s stored, %zu already in the session, %zu finished "
             "queued again (%.1f s)",
             atomic_load(&in->stop) ? "stopped" : "done", in->stored, in->stored == 1 ? "" : "s",
             in->merged, in->requeued, (double)(mono_ms() - in->t0) / 1000.0);
    if (in->stored > 100000)
        store_ckpt_soon(in->wst);
    queue_rows_committed(in->q, 0);
    atomic_store(&in->status, 0);
}

void *intake_writer_main(void *arg)
{
    /* Linux: a thread's own nice value. The loop (transfers, the TUI) comes first on a busy box. */
    struct intake *in = arg;

    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    intake_writer_run(in);
    /* Closed now rather than with the intake: while a clone is open, a session deleted under the
     * run cannot be put back (docs/design.md#session). */
    store_close(in->wst);
    in->wst = NULL;
    return NULL;
}
