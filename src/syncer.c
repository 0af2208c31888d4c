/* fsync can take hundreds of milliseconds on a busy disk, and the loop must never freeze, so the
 * durable finish of each file happens here. Finished files are gathered for a few milliseconds
 * and committed as one batch (one batch at a time): thousands of small files cost a couple of
 * flushes per batch instead of two per file. Other work (rebuilding a digest) never waits
 * behind a batch. Nothing is reported done before its name is flushed, so the session never
 * claims a file that a power cut could take back. */
#include "syncer.h"
#include "fsout.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct syncer {
    struct loop *loop;
    pthread_mutex_t mu;
    pthread_cond_t cv;                   /* on CLOCK_MONOTONIC, for the gathering wait */
    struct syncer_job *todo, *todo_tail;         /* SYNCER_WORK */
    struct syncer_job *commits, *commits_tail;   /* SYNCER_COMMIT (and failed ones to report) */
    int ncommits;
    int64_t first_commit_ms;             /* when the oldest waiting commit arrived */
    bool committing;                     /* one batch at a time: two would flush twice */
    bool eager;                          /* nothing else is coming soon: do not gather */
    struct syncer_job *done, *done_tail;
    pthread_t *threads;
    int nthreads;
    int stopping;
    int pending;         /* loop thread only */
    int evfd;
    syncer_done_cb cb;
    void *cb_arg;
};

static void append(struct syncer_job **head, struct syncer_job **tail, struct syncer_job *j)
{
    j->next = NULL;
    if (*tail != NULL)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* Several finished files at once: one syncfs makes all their data durable, the renames follow,
 * and a second syncfs makes the new names durable: two flushes for the batch instead of one
 * per file and one per folder. The order is the same as fsync's: data, rename, name. */
#define SYNCFS_MIN_BATCH 4
/* Commits are gathered for up to GATHER_MS (or until GATHER_FULL wait): each flush costs the
 * same whether it covers 4 files or 400, and on a virtual disk it can cost milliseconds. A few
 * milliseconds more before a file counts as done buys far fewer flushes per second. */
#define GATHER_MS 25
#define GATHER_FULL 256
#define BATCH_MAX 1024

static void mark_dev(struct syncer_job *batch, const struct stat *st, dev_t dev, int rc)
{
    size_t i = 0;

    for (struct syncer_job *j = batch; j != NULL; j = j->next, i++)
        if (j->kind == SYNCER_COMMIT && j->result == 0 && st[i].st_dev == dev)
            j->result = rc;
}

/* syncfs once for every distinct filesystem among the jobs; a failure marks that fs's jobs. */
static void syncfs_each(struct syncer_job *batch, const struct stat *st, bool use_dirfd)
{
    size_t i = 0;

    for (struct syncer_job *j = batch; j != NULL; j = j->next, i++) {
        size_t k = 0;
        struct syncer_job *m = batch;

        if (j->kind != SYNCER_COMMIT || j->result != 0)
            continue;
        for (; m != j; m = m->next, k++)
            if (m->kind == SYNCER_COMMIT && st[k].st_dev == st[i].st_dev)
                break;
        if (m != j)
            continue;
        if (syncfs(use_dirfd ? j->dirfd : j->fd) < 0)
            mark_dev(batch, st, st[i].st_dev, errno);
    }
}

static void commit_many(struct syncer_job *batch, struct stat *st)
{
    size_t i = 0;
    struct syncer_job *j;

    for (j = batch; j != NULL; j = j->next, i++) {
        if (j->kind != SYNCER_COMMIT)
            continue;
        fsout_set_mtime(j->fd, j->mtime);
        if (fstat(j->fd, &st[i]) < 0)
            j->result = errno;
    }
    syncfs_each(batch, st, false);
    for (j = batch; j != NULL; j = j->next) {
        if (j->kind != SYNCER_COMMIT)
            continue;
        if (close(j->fd) < 0 && j->result == 0)
            j->result = errno;
        j->fd = -1;
        if (j->result == 0)
            j->result = fsout_rename_part(j->dirfd, j->base);
    }
    syncfs_each(batch, st, true);
}

static void commit_few(struct syncer_job *batch, struct stat *st)
{
    size_t i = 0;
    struct syncer_job *j;

    for (j = batch; j != NULL; j = j->next, i++) {
        if (j->kind != SYNCER_COMMIT)
            continue;
        j->result = fsout_commit(j->dirfd, j->fd, j->base, j->mtime);
        if (fstat(j->dirfd, &st[i]) < 0)
            st[i].st_ino = 0;
    }
    /* One folder fsync per distinct folder; a failure marks every job renamed into it. */
    i = 0;
    for (j = batch; j != NULL; j = j->next, i++) {
        size_t k = 0;
        struct syncer_job *m = batch;

        if (j->kind != SYNCER_COMMIT || st[i].st_ino == 0)
            continue;
        for (; m != j; m = m->next, k++)
            if (m->kind == SYNCER_COMMIT && st[k].st_dev == st[i].st_dev && st[k].st_ino == st[i].st_ino)
                break;
        if (m != j || fsync(j->dirfd) == 0)
            continue;
        int rc = errno;
        k = i;
        for (m = j; m != NULL; m = m->next, k++)
            if (m->kind == SYNCER_COMMIT && m->result == 0 && st[k].st_dev == st[i].st_dev &&
                st[k].st_ino == st[i].st_ino)
                m->result = rc;
    }
}

static void run_batch(struct syncer_job *batch)
{
    size_t n = 0, commits = 0;
    struct syncer_job *j;

    for (j = batch; j != NULL; j = j->next) {
        n++;
        if (j->kind == SYNCER_WORK) {
            j->work(j);
        } else if (j->result != 0) {
            /* The writer already failed it: nothing to make durable. */
            if (j->fd >= 0)
                close(j->fd);
            j->fd = -1;
            j->kind = SYNCER_REPORT;
        } else {
            commits++;
        }
    }
    if (commits == 0)
        return;
    struct stat *st = xcalloc(n, sizeof *st);
    if (commits >= SYNCFS_MIN_BATCH)
        commit_many(batch, st);
    else
        commit_few(batch, st);
    free(st);
}

static int64_t mono_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Detaches up to max jobs from a list. Called with s->mu held. */
static struct syncer_job *take(struct syncer_job **head, struct syncer_job **tail, int max, int *n)
{
    struct syncer_job *batch = *head, *last = batch;

    *n = 1;
    while (last->next != NULL && *n < max) {
        last = last->next;
        (*n)++;
    }
    *head = last->next;
    if (*head == NULL)
        *tail = NULL;
    last->next = NULL;
    return batch;
}

static void report_locked(struct syncer *s, struct syncer_job *batch)
{
    struct syncer_job *next;
    uint64_t one = 1;
    ssize_t w;

    for (struct syncer_job *j = batch; j != NULL; j = next) {
        next = j->next;
        append(&s->done, &s->done_tail, j);
    }
    w = write(s->evfd, &one, sizeof one);
    (void)w;
}

static void *worker(void *arg)
{
    struct syncer *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct syncer_job *batch;
        int n;

        if (s->todo != NULL) {
            /* Other work (rebuilding a digest) never waits behind a batch being gathered. */
            batch = take(&s->todo, &s->todo_tail, 256, &n);
            pthread_mutex_unlock(&s->mu);
            run_batch(batch);
            pthread_mutex_lock(&s->mu);
            report_locked(s, batch);
            continue;
        }
        if (s->commits != NULL && !s->committing) {
            int64_t due = s->first_commit_ms + GATHER_MS;

            if (s->ncommits < GATHER_FULL && !s->stopping && !s->eager && mono_now_ms() < due) {
                struct timespec ts = { (time_t)(due / 1000), (long)(due % 1000) * 1000000 };

                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
                continue;
            }
            s->committing = true;
            batch = take(&s->commits, &s->commits_tail, BATCH_MAX, &n);
            s->ncommits -= n;
            s->first_commit_ms = mono_now_ms();
            pthread_mutex_unlock(&s->mu);
            run_batch(batch);
            pthread_mutex_lock(&s->mu);
            s->committing = false;
            report_locked(s, batch);
            pthread_cond_broadcast(&s->cv);     /* the other thread may take the next batch */
            continue;
        }
        if (s->stopping && s->todo == NULL && s->commits == NULL)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void collect(struct syncer *s)
{
    struct syncer_job *list, *next;
    uint64_t v;

    while (read(s->evfd, &v, sizeof v) > 0)
        ;
    pthread_mutex_lock(&s->mu);
    list = s->done;
    s->done = s->done_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    for (struct syncer_job *j = list; j != NULL; j = next) {
        next = j->next;
        s->pending--;
        if (j->dirfd >= 0 && !j->dirfd_shared)
            close(j->dirfd);
        s->cb(j, s->cb_arg);
        free(j->base);
        free(j);
    }
}

static void on_event(int fd, unsigned events, void *arg)
{
    collect(arg);
}

struct syncer *syncer_new(struct loop *loop, int nthreads, syncer_done_cb cb, void *cb_arg)
{
    struct syncer *s = xcalloc(1, sizeof *s);

    s->loop = loop;
    s->cb = cb;
    s->cb_arg = cb_arg;
    pthread_condattr_t ca;

    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->evfd < 0)
        fatal("eventfd: %s", strerror(errno));
    loop_watch(loop, s->evfd, LOOP_READ, on_event, s);
    s->nthreads = nthreads < 1 ? 1 : nthreads;
    s->threads = xcalloc((size_t)s->nthreads, sizeof *s->threads);
    for (int i = 0; i < s->nthreads; i++)
        if (util_thread_start(&s->threads[i], worker, s) != 0)
            fatal("cannot start a worker thread");
    return s;
}

void syncer_submit_async(struct syncer *s, struct syncer_job *job)
{
    pthread_mutex_lock(&s->mu);
    if (job->kind == SYNCER_WORK) {
        append(&s->todo, &s->todo_tail, job);
        pthread_cond_signal(&s->cv);
    } else {
        if (s->commits == NULL)
            s->first_commit_ms = mono_now_ms();
        append(&s->commits, &s->commits_tail, job);
        /* Wake a thread only to start gathering, or when the batch is full. */
        if (++s->ncommits == 1 || s->ncommits == GATHER_FULL)
            pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
}

void syncer_set_eager(struct syncer *s, bool eager)
{
    pthread_mutex_lock(&s->mu);
    s->eager = eager;
    if (eager)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void syncer_expect(struct syncer *s)
{
    s->pending++;
}

void syncer_submit(struct syncer *s, struct syncer_job *job)
{
    syncer_expect(s);
    syncer_submit_async(s, job);
}

int syncer_pending(const struct syncer *s)
{
    return s->pending;
}

void syncer_drain(struct syncer *s)
{
    while (s->pending > 0) {
        struct timespec ts = { 0, 5 * 1000 * 1000 };

        nanosleep(&ts, NULL);
        collect(s);
    }
}

void syncer_free(struct syncer *s)
{
    if (s == NULL)
        return;
    syncer_drain(s);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    loop_unwatch(s->loop, s->evfd);
    close(s->evfd);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->threads);
    free(s);
}
