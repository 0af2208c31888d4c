#ifndef SLUICE_WRITER_H
#define SLUICE_WRITER_H
/* Streams of file data written by worker threads, so the loop only copies what libcurl hands it
 * (docs/design.md#files: the loop never blocks; write() into the page cache and SHA-256 cost as
 * much CPU as the network itself). Each .part is one stream: its chunks are written and hashed in
 * order, by one thread at a time. A stream ends either here and now (writer_close: what is queued
 * is written, the digest comes back) or on a worker (writer_commit: digest closed, checksum
 * checked, then the syncer makes the file durable and reports back on the loop).
 *
 * Memory is bounded: when more than WRITER_BACKLOG bytes wait in all, or WRITER_STREAM_BACKLOG
 * for one file, writer_backlogged() says so and the engine pauses the transfer; `ready` runs on
 * the loop once that backlog has halved. The per-file bound also bounds writer_close, which
 * writes what is left of its file before it returns. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "digest.h"

#define WRITER_BACKLOG (16 * 1024 * 1024)
/* Per file: about 90 ms of a 90 MiB/s transfer, so a writer thread that a loaded machine
 * schedules late rarely pauses its transfer (4 MiB did 16-47 times in one 256 MiB file over a
 * 1 ms path on a busy 2-core machine, 8 MiB 1-3 times: docs/design.md#files). */
#define WRITER_STREAM_BACKLOG (8 * 1024 * 1024)

struct loop;
struct syncer;
struct syncer_job;
struct writer;
struct wstream;

/* A buffer to fill: data[0..len) of cap bytes. data starts on a cache line (WCHUNK_ALIGN), so
 * the write() of a full chunk copies between equally aligned addresses (see writer_chunk_add). */
#define WCHUNK_ALIGN 64
struct wchunk {
    struct wchunk *next;
    size_t len, cap;
    _Alignas(WCHUNK_ALIGN) char data[];
};

enum writer_fail {
    WRITER_OK,
    WRITER_FAIL_WRITE,       /* writing failed (errno tells: ENOSPC is a full disk) */
    WRITER_FAIL_PATH,        /* the output path cannot be created: permanent for the item */
    WRITER_FAIL_RESTART,     /* the .part holds less than its digest: start over from zero */
};

struct writer *writer_new(struct loop *loop, struct syncer *syncer, int nthreads,
                          void (*ready)(void *arg), void *arg);
/* Every stream must have ended. */
void writer_free(struct writer *w);

/* Wakes the workers for the streams the loop queued since the last call. Called by the loop
 * before it sleeps (the writer adds itself as a hook); call it before waiting for the workers
 * without turning the loop (syncer_drain). */
void writer_kick(struct writer *w);

/* An empty chunk of at least cap bytes (recycled when one is free). */
struct wchunk *writer_chunk(struct writer *w, size_t cap);
void writer_chunk_free(struct writer *w, struct wchunk *c);
/* Appends n bytes (n <= c->cap - c->len) to c. */
void writer_chunk_add(struct wchunk *c, const void *src, size_t n);

/* A stream for path (relative to rootfd) whose .part is opened by a worker: emptied when truncate,
 * else cut back to offset bytes, which d (the running digest, owned by the stream from here)
 * covers. A failure to open shows as the stream's error. */
struct wstream *writer_open(struct writer *w, int rootfd, const char *path, bool truncate,
                            int64_t offset, struct digest *d);
/* The file's whole size, when the response told it (else -1), and the response's validator
 * (fsout_tag_part; NULL for none); before the first writer_write. A stream that will not be
 * written whole by its first batch has its .part tagged for this boot. */
void writer_expect(struct wstream *s, int64_t total, const char *validator);
/* The caller saw nothing at the target a moment ago (its conditional-request check): the
 * .part's opening does not look again (one lookup of the target a file); before the first
 * writer_write. */
void writer_target_absent(struct wstream *s);
/* A stream that writes one range of a segmented download (docs/design.md#segmented-downloads)
 * into path's .part from offset on, through a descriptor of its own: the .part is created when
 * missing, never emptied nor cut back. Nothing is hashed unless d is given (the first range,
 * from 0: d is then empty and covers what is written, in order); the SHA-256 of the whole file
 * is completed once every range is on disk. writer_written counts the bytes from offset; end it
 * with writer_close (*d is d). */
struct wstream *writer_open_at(struct writer *w, int rootfd, const char *path, int64_t offset,
                               struct digest *d);
/* Queues c (ownership passes) to be written and hashed after what is already queued. */
void writer_write(struct wstream *s, struct wchunk *c);
/* Too much waits to be written (in all, or for s when not NULL): pause. `ready` will be called. */
bool writer_backlogged(struct writer *w, struct wstream *s);
/* The errno of the stream's first failure, 0 when none; msg (ERRLEN) receives the message and
 * *kind what failed (either may be NULL). */
int writer_error(const struct wstream *s, char *msg, enum writer_fail *kind);
/* Bytes written and hashed so far (what a checkpoint may record). */
int64_t writer_written(const struct wstream *s);

/* Ends the stream on the calling thread: waits for a worker busy with it, writes what is still
 * queued, closes the files. *d receives the digest (covering *written bytes). Returns the errno
 * of the first failure (as writer_error), or 0. The stream is freed. */
int writer_close(struct wstream *s, struct digest **d, int64_t *written, char *msg,
                 enum writer_fail *kind);
/* Ends the stream on a worker after its last chunk: closes the digest into job->sha256, checks
 * job->algo/job->expect, sets job->fd, job->dirfd, job->base, job->bytes, job->result (errno,
 * EBADMSG for a checksum mismatch), job->permanent and job->msg, then hands the job to the
 * syncer. The caller has counted the job with
 * syncer_expect(). The stream is freed by the worker. */
void writer_commit(struct wstream *s, struct syncer_job *job);
/* writer_commit with the stream's last chunk (ownership passes; NULL for none) queued in the
 * same step: a small file whose body fits one chunk costs one wakeup of a worker, not two. */
void writer_finish(struct wstream *s, struct wchunk *last, struct syncer_job *job);

#endif
