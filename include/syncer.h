#ifndef SLUICE_SYNCER_H
#define SLUICE_SYNCER_H
/* Worker threads that make finished files durable (data flush, rename, name flush) off the loop.
 * Jobs touch only descriptors and names, never curl handles. Results come back through an
 * eventfd that the loop watches; commits are gathered into batches that share their flushes. */
#include <stdbool.h>
#include <stdint.h>
#include "util.h"

struct loop;
struct syncer;

enum syncer_kind {
    SYNCER_COMMIT,       /* fsout_commit, then a batched folder fsync */
    SYNCER_WORK,         /* run job->work on the worker (e.g. rebuild a digest) */
    SYNCER_REPORT,       /* nothing to do: reported back as it is */
};

/* A SYNCER_COMMIT that arrives with result != 0 (the writer found a failed write or a checksum
 * mismatch) is not committed: its fd is closed and it is reported as it is. */

struct syncer_job {
    enum syncer_kind kind;
    void (*work)(struct syncer_job *job);    /* SYNCER_WORK: runs on a worker thread */
    int64_t bytes;       /* free for the work function */
    int64_t limit;       /* free for the work function */
    int algo;            /* checksum_algo the writer checks against expect */
    unsigned char expect[32];
    unsigned char sha256[32];    /* SYNCER_COMMIT: the file's SHA-256, set by the writer */
    void *result_ptr;    /* set by the work function */
    int dirfd;           /* owned by the job: closed when done */
    int fd;              /* the .part, owned: closed by fsout_commit */
    char *base;          /* file name in dirfd (owned) */
    int64_t mtime;       /* seconds, or -1 */
    void *arg;           /* the caller's */
    int result;          /* 0 or errno, filled by the worker */
    char msg[ERRLEN];    /* why, when result is set by the writer */
    bool permanent;      /* the writer could not create the output path */
    struct syncer_job *next;
};

typedef void (*syncer_done_cb)(struct syncer_job *job, void *arg);

struct syncer *syncer_new(struct loop *loop, int nthreads, syncer_done_cb cb, void *cb_arg);
/* Takes ownership of job (allocated by the caller with xmalloc; freed after the callback). */
void syncer_submit(struct syncer *s, struct syncer_job *job);
/* From any thread: queues a job that the loop already counted with syncer_expect(). */
void syncer_submit_async(struct syncer *s, struct syncer_job *job);
/* Eager: commit at once instead of gathering a batch (nothing more is about to finish, e.g. no
 * transfer is running), so the last files of a run are not held back. */
void syncer_set_eager(struct syncer *s, bool eager);
/* Loop thread: one more job will arrive through syncer_submit_async. */
void syncer_expect(struct syncer *s);
/* Jobs submitted and not yet reported back. */
int syncer_pending(const struct syncer *s);
/* Blocks until every submitted job is reported (shutdown only). */
void syncer_drain(struct syncer *s);
void syncer_free(struct syncer *s);

#endif
