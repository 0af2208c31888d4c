/* The loop hands over chunks; worker threads open the .part, write and hash them. Opening is
 * here too: creating an inode is the dearest syscall of a small file. One mutex guards the run queue,
 * the chunk lists and the buffer pools: it is taken once per chunk (256 KiB, or a whole small
 * file), so it is never contended for long. A stream is in the run queue at most once and run by
 * at most one thread, which keeps its chunks in order without a lock per stream. */
#include "writer.h"
#include "fsout.h"
#include "loop.h"
#include "syncer.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Ask the kernel to start writing back every so often, so the fsync at the end has little left
 * (this gives no durability, it only spreads the work: docs/design.md#kernel-facts-we-rely-on). */
#define WRITEBACK_EVERY (32LL * 1024 * 1024)
/* Buffers are recycled in two sizes; a pool keeps at most this many of each. */
#define SMALL_CHUNK (64 * 1024)
#define BIG_CHUNK (256 * 1024)
#define POOL_MAX 64

/* A stream has two stages, each run by at most one thread at a time: WRITE opens the .part and
 * puts chunks into it, HASH then adds them to the digest. The thread that wrote a chunk hashes it
 * too when nobody hashes for that stream (a small file costs one wakeup); when more arrives
 * meanwhile another thread takes the writing, so the SHA-256 of one chunk overlaps the write()
 * of the next. */
enum { ST_WRITE, ST_HASH };

struct task {
    struct task *next;
    struct wstream *s;
    int stage;
    bool queued, running;            /* guarded by w->mu */
};

struct wstream {
    struct writer *w;
    /* The WRITE stage's: where and how to open, then the open .part and its folder. */
    int rootfd;
    char *path;                      /* relative to the root */
    bool truncate, opened;
    bool tagged;                     /* the .part carries this boot's tag (fsout_tag_part) */
    bool target_absent;              /* the loop saw no target just before (writer_target_absent) */
    int64_t total;                   /* the file's size when known, else -1 (writer_expect) */
    char *validator;                 /* of the response, for the tag (writer_expect) */
    bool at;                         /* writer_open_at: a range written at offset (a digest only
                                      * for the first range, from 0) */
    int64_t offset;                  /* what the .part must hold when opened (the digest's length) */
    int dirfd, fd;
    bool dirfd_owned;                /* false: dirfd is rootfd (a file at the top), not closed */
    int64_t wpos;                    /* where the next write lands */
    int64_t wb_from;                 /* writeback was started for the bytes before this */
    struct digest *d;
    /* Guarded by w->mu. */
    struct wchunk *wq, *wq_tail;     /* to write */
    struct wchunk *hq, *hq_tail;     /* written, to hash */
    struct task t[2];
    struct syncer_job *commit;       /* set by writer_commit: the end */
    /* Written by the thread running a stage, read by the loop. */
    _Atomic int64_t hashed;          /* bytes on disk and in the digest (from offset 0) */
    _Atomic int64_t backlog;         /* queued and not yet hashed */
    _Atomic bool waiting;            /* its transfer is paused on that backlog */
    _Atomic int err;
    enum writer_fail kind;           /* like msg, complete before err is stored */
    char msg[ERRLEN];
};

struct writer {
    struct loop *loop;
    struct syncer *syncer;
    pthread_mutex_t mu;
    pthread_cond_t work;             /* the run queue has a stream, or stopping */
    pthread_cond_t idle;             /* a worker put a stream down */
    struct task *rhead, *rtail;
    struct wchunk *pool[2];
    int npool[2];
    pthread_t *threads;
    int nthreads;
    bool stopping;
    _Atomic int64_t backlog;         /* bytes queued and not yet written */
    _Atomic bool waiting;            /* the engine paused a transfer on the backlog */
    int deferred;                    /* loop thread only: streams it queued since the last wake */
    int evfd;
    void (*ready)(void *arg);
    void *arg;
};

static int pool_of(size_t cap)
{
    return cap == SMALL_CHUNK ? 0 : cap == BIG_CHUNK ? 1 : -1;
}

struct wchunk *writer_chunk(struct writer *w, size_t cap)
{
    struct wchunk *c = NULL;
    int p;

    cap = cap <= SMALL_CHUNK ? SMALL_CHUNK : cap <= BIG_CHUNK ? BIG_CHUNK : cap;
    p = pool_of(cap);
    if (p >= 0) {
        pthread_mutex_lock(&w->mu);
        c = w->pool[p];
        if (c != NULL) {
            w->pool[p] = c->next;
            w->npool[p]--;
        }
        pthread_mutex_unlock(&w->mu);
    }
    if (c == NULL) {
        /* aligned_alloc wants a multiple of the alignment. */
        c = aligned_alloc(WCHUNK_ALIGN, (sizeof *c + cap + WCHUNK_ALIGN - 1) & ~(size_t)(WCHUNK_ALIGN - 1));
        if (c == NULL)
            fatal("out of memory");
        c->cap = cap;
    }
    c->next = NULL;
    c->len = 0;
    return c;
}

/* Copies in pieces below glibc's threshold for `rep movsb` (2 KiB and up on x86-64): on AMD Zen 3
 * a long `rep movsb` whose destination sits 8 to 24 bytes past the source's offset in a cache
 * line runs at 1.6-2 GB/s instead of 25-35 GB/s, and the offset here is whatever the sizes of
 * libcurl's reads left it at. Pieces go through glibc's vector loop, as fast at any offset (and
 * no slower where `rep movsb` is fast): one GiB took 0.6 s of the loop's CPU in memcpy alone
 * (docs/design.md#files). */
#define COPY_PIECE 2048

void writer_chunk_add(struct wchunk *c, const void *src, size_t n)
{
    char *d = c->data + c->len;
    const char *s = src;

    c->len += n;
    while (n > 0) {
        size_t k = n < COPY_PIECE ? n : COPY_PIECE;

        /* k hidden from the optimiser: GCC inlines a copy of known size as `rep movsq`, which is
         * as slow; this keeps the call to glibc. */
        __asm__("" : "+r"(k));
        memcpy(d, s, k);
        d += k;
        s += k;
        n -= k;
    }
}

/* Called with w->mu held. */
static void recycle_locked(struct writer *w, struct wchunk *c)
{
    int p = pool_of(c->cap);

    if (p >= 0 && w->npool[p] < POOL_MAX) {
        c->next = w->pool[p];
        w->pool[p] = c;
        w->npool[p]++;
    } else {
        free(c);
    }
}

void writer_chunk_free(struct writer *w, struct wchunk *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    recycle_locked(w, c);
    pthread_mutex_unlock(&w->mu);
}

static void fail_as(struct wstream *s, int errnum, enum writer_fail kind, const char *msg)
{
    if (atomic_load(&s->err) != 0)
        return;
    s->kind = kind;
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    atomic_store(&s->err, errnum != 0 ? errnum : EIO);
}

static void fail(struct wstream *s, int errnum)
{
    char msg[ERRLEN];

    snprintf(msg, sizeof msg, "write %s.part: %s", s->path, strerror(errnum));
    fail_as(s, errnum, WRITER_FAIL_WRITE, msg);
}

/* A failure to create the path is the item's (permanent) unless the disk is full. */
static enum writer_fail path_kind(int errnum)
{
    return errnum == ENOSPC || errnum == EDQUOT ? WRITER_FAIL_WRITE : WRITER_FAIL_PATH;
}

/* Opens (creating) the folders and the .part, and makes the .part hold exactly what the digest
 * covers: more (written after the last record) is cut back; less means it cannot be trusted. */
static void open_part(struct wstream *s)
{
    const char *base;
    char msg[ERRLEN];
    int errnum = 0;
    int64_t size;

    s->opened = true;
    if (fsout_open_dir_shared(s->rootfd, s->path, &s->dirfd, &s->dirfd_owned, &base, &errnum,
                              msg) < 0) {
        s->dirfd = -1;
        fail_as(s, errnum, path_kind(errnum), msg);
        return;
    }
    if (fsout_open_part(s->dirfd, base, s->truncate, !s->target_absent, &s->fd, &size, &errnum,
                        msg) < 0) {
        s->fd = -1;
        fail_as(s, errnum, path_kind(errnum), msg);
        return;
    }
    if (s->at) {
        /* A range of a segmented download: its own descriptor, positioned at its start; the
         * other ranges are written beside it through theirs. */
        fsout_mark_ranges(s->fd);
        if (lseek(s->fd, s->offset, SEEK_SET) < 0)
            fail(s, errno);
        return;
    }
    if (size != s->offset &&
        (size < s->offset || ftruncate(s->fd, s->offset) < 0 || lseek(s->fd, s->offset, SEEK_SET) < 0))
        fail_as(s, EIO, WRITER_FAIL_RESTART, "the .part is shorter than recorded");
}

static void append(struct wchunk **head, struct wchunk **tail, struct wchunk *list)
{
    if (list == NULL)
        return;
    if (*tail != NULL)
        (*tail)->next = list;
    else
        *head = list;
    while (list->next != NULL)
        list = list->next;
    *tail = list;
}

/* n bytes of s are written and hashed (or dropped): wake the engine when a backlog it paused
 * on has halved. */
static void release_bytes(struct wstream *s, int64_t n)
{
    struct writer *w = s->w;
    int64_t left, mine;
    bool wake = false;

    if (n == 0)
        return;
    left = atomic_fetch_sub(&w->backlog, n) - n;
    mine = atomic_fetch_sub(&s->backlog, n) - n;
    if (left <= WRITER_BACKLOG / 2 && atomic_exchange(&w->waiting, false))
        wake = true;
    if (mine <= WRITER_STREAM_BACKLOG / 2 && atomic_exchange(&s->waiting, false))
        wake = true;
    if (wake) {
        uint64_t one = 1;
        ssize_t r = write(w->evfd, &one, sizeof one);
        (void)r;
    }
}

/* Called with w->mu held. */
static void recycle_list_locked(struct writer *w, struct wchunk *list)
{
    struct wchunk *next;

    for (struct wchunk *c = list; c != NULL; c = next) {
        next = c->next;
        recycle_locked(w, c);
    }
}

/* WRITE stage: returns the chunks that reached the .part, in order; the rest are recycled. Once
 * a write failed nothing more is written (the .part must stay a prefix of the file) nor hashed. */
static struct wchunk *write_chunks(struct wstream *s, struct wchunk *list)
{
    struct wchunk *ok = NULL, **okp = &ok, *bad = NULL, *next;
    int64_t dropped = 0;

    if (!s->opened)
        open_part(s);
    if (!s->tagged && s->fd >= 0 && atomic_load(&s->err) == 0) {
        int64_t end = s->wpos;

        for (struct wchunk *c = list; c != NULL; c = c->next)
            end += (int64_t)c->len;
        /* Before any byte past the record: a kill after this write may resume from the .part's
         * end (docs/design.md#resume-and-incremental-sync). A file written whole in one go is
         * not tagged (one syscall less per small file); a kill before its commit refetches it. */
        if (s->total < 0 || end < s->total)
            fsout_tag_part(s->fd, s->validator);
        s->tagged = true;
    }
    for (struct wchunk *c = list; c != NULL; c = next) {
        next = c->next;
        c->next = NULL;
        if (atomic_load(&s->err) == 0 && c->len > 0) {
            size_t put = 0;
            int rc = fsout_write(s->fd, c->data, c->len, &put);

            if (rc != 0) {
                fail(s, rc);
                if (put > 0) {
                    /* A full disk keeps what fitted: that prefix is hashed like any chunk, so
                     * the next attempt resumes after it instead of fetching it again. */
                    dropped += (int64_t)(c->len - put);
                    c->len = put;
                    rc = 0;
                } else if ((rc == ENOSPC || rc == EDQUOT) && s->wpos == 0 && !s->at) {
                    /* Nothing of this file fitted: leave no empty .part behind (a range's
                     * .part holds the other ranges too). */
                    (void)fsout_unlink_part(s->rootfd, s->path);
                }
            }
            if (rc == 0) {
                *okp = c;
                okp = &c->next;
                s->wpos += (int64_t)c->len;
                continue;
            }
        }
        dropped += (int64_t)c->len;
        c->next = bad;
        bad = c;
    }
    if (s->wpos - s->wb_from >= WRITEBACK_EVERY && s->fd >= 0) {
        /* Only the new range: asking for the whole file would walk all its pages each time. */
        sync_file_range(s->fd, s->wb_from, s->wpos - s->wb_from, SYNC_FILE_RANGE_WRITE);
        s->wb_from = s->wpos;
    }
    if (bad != NULL) {
        pthread_mutex_lock(&s->w->mu);
        recycle_list_locked(s->w, bad);
        pthread_mutex_unlock(&s->w->mu);
    }
    release_bytes(s, dropped);
    return ok;
}

/* HASH stage: the chunks are on disk; only now may the digest cover them. */
static void hash_chunks(struct wstream *s, struct wchunk *list)
{
    int64_t n = 0;

    for (struct wchunk *c = list; c != NULL; c = c->next) {
        if (s->d != NULL)
            digest_update(s->d, c->data, c->len);
        n += (int64_t)c->len;
        atomic_fetch_add(&s->hashed, (int64_t)c->len);
    }
    if (list != NULL) {
        pthread_mutex_lock(&s->w->mu);
        recycle_list_locked(s->w, list);
        pthread_mutex_unlock(&s->w->mu);
    }
    release_bytes(s, n);
}

static void stream_free(struct wstream *s)
{
    if (s->dirfd >= 0 && s->dirfd_owned)
        close(s->dirfd);
    free(s->path);
    free(s->validator);
    free(s);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char h[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[d[i] >> 4];
        out[2 * i + 1] = h[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The last chunk is written and hashed: close the digest, compare it with the given checksum,
 * pass the file on to be made durable. */
static void finish_commit(struct wstream *s, struct syncer_job *job)
{
    unsigned char md5[16];
    bool have_md5 = digest_final(s->d, job->sha256, md5);
    int err = atomic_load(&s->err);

    const char *slash = strrchr(s->path, '/');

    job->fd = s->fd;
    job->dirfd = s->dirfd;
    job->dirfd_shared = s->dirfd >= 0 && !s->dirfd_owned;
    s->dirfd = -1;
    free(job->base);
    job->base = xstrdup(slash != NULL ? slash + 1 : s->path);
    job->bytes = atomic_load(&s->hashed);
    job->result = err;
    if (err != 0) {
        job->permanent = s->kind == WRITER_FAIL_PATH;
        snprintf(job->msg, sizeof job->msg, "%s", s->msg);
    } else if ((job->algo == CHECKSUM_SHA256 && memcmp(job->sha256, job->expect, 32) != 0) ||
               (job->algo == CHECKSUM_MD5 && (!have_md5 || memcmp(md5, job->expect, 16) != 0))) {
        char got[65];

        if (job->algo == CHECKSUM_SHA256)
            hex(job->sha256, 32, got);
        else
            hex(md5, 16, got);
        job->result = EBADMSG;
        snprintf(job->msg, sizeof job->msg, "checksum mismatch (got %s %s)",
                 job->algo == CHECKSUM_SHA256 ? "sha-256" : "md5", got);
    }
    digest_free(s->d);
    syncer_submit_async(s->w->syncer, job);
    stream_free(s);
}

/* Called with w->mu held. From the loop (defer) the wakeup waits for the end of the loop's turn
 * (writer_kick): the files that finish in one turn then cost one wakeup of a worker, not one
 * each (docs/design.md#files). A worker handing a stage to the other thread wakes it at once. */
static void enqueue_locked(struct writer *w, struct task *t, bool defer)
{
    if (t->queued || t->running)
        return;
    t->queued = true;
    t->next = NULL;
    if (w->rtail != NULL)
        w->rtail->next = t;
    else
        w->rhead = t;
    w->rtail = t;
    if (defer)
        w->deferred++;
    else
        pthread_cond_signal(&w->work);
}

void writer_kick(struct writer *w)
{
    int n = w->deferred;

    if (n == 0)
        return;
    w->deferred = 0;
    pthread_mutex_lock(&w->mu);
    /* One stream: one worker (the other stays asleep); more: both share them. */
    if (n == 1)
        pthread_cond_signal(&w->work);
    else
        pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
}

static void kick_hook(void *arg)
{
    writer_kick(arg);
}

/* Called with w->mu held: the stream's end, once nothing of it is left anywhere. */
static struct syncer_job *take_commit_locked(struct wstream *s)
{
    struct syncer_job *job = s->commit;

    if (job == NULL || s->wq != NULL || s->hq != NULL || s->t[ST_WRITE].queued ||
        s->t[ST_WRITE].running || s->t[ST_HASH].queued || s->t[ST_HASH].running)
        return NULL;
    s->commit = NULL;
    return job;
}

static void *worker(void *arg)
{
    struct writer *w = arg;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        struct task *t;
        struct wstream *s;
        struct syncer_job *commit;

        while (w->rhead == NULL && !w->stopping)
            pthread_cond_wait(&w->work, &w->mu);
        if (w->rhead == NULL)
            break;
        t = w->rhead;
        w->rhead = t->next;
        if (w->rhead == NULL)
            w->rtail = NULL;
        t->queued = false;
        t->running = true;
        s = t->s;
        /* Keep at the stage while it has work: no hand-over to the other thread per chunk. */
        if (t->stage == ST_WRITE) {
            struct wchunk *list;

            while (s->wq != NULL || !s->opened) {
                list = s->wq;
                s->wq = s->wq_tail = NULL;
                pthread_mutex_unlock(&w->mu);
                list = write_chunks(s, list);
                pthread_mutex_lock(&w->mu);
                append(&s->hq, &s->hq_tail, list);
            }
            t->running = false;
            if (s->hq == NULL || s->t[ST_HASH].running || s->t[ST_HASH].queued) {
                if (s->hq != NULL)
                    enqueue_locked(w, &s->t[ST_HASH], false);
                goto stage_done;
            }
            /* Nobody hashes for this stream: hash what was just written, here. */
            t = &s->t[ST_HASH];
            t->running = true;
        }
        {
            struct wchunk *list;

            while ((list = s->hq) != NULL) {
                s->hq = s->hq_tail = NULL;
                pthread_mutex_unlock(&w->mu);
                hash_chunks(s, list);
                pthread_mutex_lock(&w->mu);
            }
        }
        t->running = false;
stage_done:
        commit = take_commit_locked(s);
        if (commit != NULL) {
            pthread_mutex_unlock(&w->mu);
            finish_commit(s, commit);
            pthread_mutex_lock(&w->mu);
            continue;
        }
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void on_event(int fd, unsigned events, void *arg)
{
    struct writer *w = arg;
    uint64_t v;

    while (read(w->evfd, &v, sizeof v) > 0)
        ;
    w->ready(w->arg);
}

struct writer *writer_new(struct loop *loop, struct syncer *syncer, int nthreads,
                          void (*ready)(void *arg), void *arg)
{
    struct writer *w = xcalloc(1, sizeof *w);

    w->loop = loop;
    w->syncer = syncer;
    w->ready = ready;
    w->arg = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->evfd < 0)
        fatal("eventfd: %s", strerror(errno));
    loop_watch(loop, w->evfd, LOOP_READ, on_event, w);
    loop_add_before_sleep(loop, kick_hook, w);
    w->nthreads = nthreads < 1 ? 1 : nthreads;
    w->threads = xcalloc((size_t)w->nthreads, sizeof *w->threads);
    for (int i = 0; i < w->nthreads; i++)
        if (util_thread_start(&w->threads[i], worker, w) != 0)
            fatal("cannot start a writer thread");
    return w;
}

void writer_free(struct writer *w)
{
    struct wchunk *next;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->threads[i], NULL);
    for (int p = 0; p < 2; p++)
        for (struct wchunk *c = w->pool[p]; c != NULL; c = next) {
            next = c->next;
            free(c);
        }
    loop_remove_before_sleep(w->loop, kick_hook, w);
    loop_unwatch(w->loop, w->evfd);
    close(w->evfd);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    free(w->threads);
    free(w);
}

struct wstream *writer_open(struct writer *w, int rootfd, const char *path, bool truncate,
                            int64_t offset, struct digest *d)
{
    struct wstream *s = xcalloc(1, sizeof *s);

    s->w = w;
    s->rootfd = rootfd;
    s->path = xstrdup(path);
    s->truncate = truncate;
    s->offset = offset;
    s->wpos = s->wb_from = offset;
    s->dirfd = s->fd = -1;
    s->total = -1;
    s->d = d;
    for (int i = 0; i < 2; i++) {
        s->t[i].s = s;
        s->t[i].stage = i;
    }
    /* The digest already covers what an earlier attempt wrote. */
    atomic_init(&s->hashed, d != NULL ? digest_bytes(d) : 0);
    atomic_init(&s->err, 0);
    atomic_init(&s->backlog, 0);
    atomic_init(&s->waiting, false);
    /* Opened with the first chunk (or the end): a small file then costs one wakeup, not two. */
    return s;
}

void writer_expect(struct wstream *s, int64_t total, const char *validator)
{
    s->total = total;
    free(s->validator);
    s->validator = validator != NULL ? xstrdup(validator) : NULL;
}

void writer_target_absent(struct wstream *s)
{
    s->target_absent = true;
}

struct wstream *writer_open_at(struct writer *w, int rootfd, const char *path, int64_t offset,
                               struct digest *d)
{
    struct wstream *s = writer_open(w, rootfd, path, false, offset, d);

    s->at = true;
    return s;
}

void writer_write(struct wstream *s, struct wchunk *c)
{
    struct writer *w = s->w;

    c->next = NULL;
    atomic_fetch_add(&w->backlog, (int64_t)c->len);
    atomic_fetch_add(&s->backlog, (int64_t)c->len);
    pthread_mutex_lock(&w->mu);
    append(&s->wq, &s->wq_tail, c);
    enqueue_locked(w, &s->t[ST_WRITE], true);
    pthread_mutex_unlock(&w->mu);
}

/* True when *level is over high; then *waiting asks release_bytes for a wakeup at high / 2. */
static bool over(_Atomic int64_t *level, _Atomic bool *waiting, int64_t high)
{
    if (atomic_load(level) <= high)
        return false;
    atomic_store(waiting, true);
    /* The workers may have drained it between the two loads: then nobody would wake us. */
    if (atomic_load(level) <= high / 2) {
        atomic_store(waiting, false);
        return false;
    }
    return true;
}

bool writer_backlogged(struct writer *w, struct wstream *s)
{
    return over(&w->backlog, &w->waiting, WRITER_BACKLOG) ||
           (s != NULL && over(&s->backlog, &s->waiting, WRITER_STREAM_BACKLOG));
}

int writer_error(const struct wstream *s, char *msg, enum writer_fail *kind)
{
    int err = atomic_load(&s->err);

    if (err != 0 && msg != NULL)
        snprintf(msg, ERRLEN, "%s", s->msg);
    if (kind != NULL)
        *kind = err != 0 ? s->kind : WRITER_OK;
    return err;
}

int64_t writer_written(const struct wstream *s)
{
    return atomic_load(&s->hashed);
}

/* Called with w->mu held. */
static void unqueue_locked(struct writer *w, struct task *t)
{
    struct task **pp = &w->rhead, *prev = NULL;

    if (!t->queued)
        return;
    for (; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            if (w->rtail == t)
                w->rtail = prev;
            break;
        }
    }
    t->queued = false;
}

int writer_close(struct wstream *s, struct digest **d, int64_t *written, char *msg,
                 enum writer_fail *kind)
{
    struct writer *w = s->w;
    struct wchunk *wl, *hl;
    int err;

    pthread_mutex_lock(&w->mu);
    while (s->t[ST_WRITE].running || s->t[ST_HASH].running)
        pthread_cond_wait(&w->idle, &w->mu);
    unqueue_locked(w, &s->t[ST_WRITE]);
    unqueue_locked(w, &s->t[ST_HASH]);
    hl = s->hq;
    wl = s->wq;
    s->hq = s->hq_tail = s->wq = s->wq_tail = NULL;
    pthread_mutex_unlock(&w->mu);

    /* At most the backlog's worth: a few milliseconds of page-cache writes. */
    hash_chunks(s, hl);
    hash_chunks(s, write_chunks(s, wl));
    if (s->fd >= 0 && close(s->fd) < 0)
        fail(s, errno);
    err = writer_error(s, msg, kind);
    *d = s->d;
    *written = atomic_load(&s->hashed);
    stream_free(s);
    return err;
}

void writer_finish(struct wstream *s, struct wchunk *last, struct syncer_job *job)
{
    struct writer *w = s->w;

    if (last != NULL) {
        last->next = NULL;
        atomic_fetch_add(&w->backlog, (int64_t)last->len);
        atomic_fetch_add(&s->backlog, (int64_t)last->len);
    }
    pthread_mutex_lock(&w->mu);
    append(&s->wq, &s->wq_tail, last);
    s->commit = job;
    /* The WRITE stage ends the stream once everything is through, even with nothing to write;
     * with a chunk to write it is queued in any case (a no-op when it is queued or running). */
    if (last != NULL || (!s->t[ST_WRITE].running && !s->t[ST_HASH].running && !s->t[ST_HASH].queued))
        enqueue_locked(w, &s->t[ST_WRITE], true);
    /* else whichever stage finishes last takes the commit */
    pthread_mutex_unlock(&w->mu);
}

void writer_commit(struct wstream *s, struct syncer_job *job)
{
    writer_finish(s, NULL, job);
}
