#ifndef SLUICE_XFER_H
#define SLUICE_XFER_H
/* One attempt at one item on one libcurl easy handle: request options, response headers, the
 * body gathered into chunks for the writer threads (which own NAME.part and its digests while
 * it is open), and the verdict when libcurl is done.
 * Callbacks only record and return (STYLE.md); the engine acts on the verdict. */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include "item.h"
#include "opts.h"
#include "retry.h"
#include "util.h"

struct xfer;
struct writer;
struct wstream;
struct wchunk;

/* What the engine lends every transfer. */
struct xfer_env {
    const struct settings *settings;
    int rootfd;
    bool ever_capped;            /* a cap was in force at some point: windows may be clamped */
    CURLSH *curl_share;
    /* Asked before each chunk is written: return false to pause the transfer (the chunk is
     * delivered again on unpause). Then told how many bytes were written. */
    bool (*may_receive)(void *arg, struct xfer *x, size_t n);
    void (*received)(void *arg, struct xfer *x, size_t n);
    struct writer *writer;       /* writes and hashes the .part off the loop */
    struct socktab *socks;       /* libcurl's sockets, opened and closed through it */
    /* A request for the whole file became the first range of a segmented download (called from
     * a libcurl callback: record and return; xfer_range_cut it on the loop). */
    void (*segmented)(void *arg, struct xfer *x);
    void *arg;
};

enum xfer_verdict {
    XFER_DONE,           /* body complete: verify and commit it (xfer_take_output) */
    XFER_UNCHANGED,      /* 304 */
    XFER_FAILED,         /* the attempt failed: retry_decide judges its facts */
    XFER_RANGE_DONE,     /* a range of a segmented download is on disk, up to its end */
};

/* One range of a segmented download (docs/design.md#segmented-downloads): bytes [start, end)
 * asked with If-Range: validator. */
struct xfer_range {
    int64_t start, end;
    const char *validator;
};

/* Prepares an attempt (a fresh or reused easy handle). Resumes by Range from the .part when the
 * item has validators and a running digest of what is on disk. */
struct xfer *xfer_new(const struct xfer_env *env, struct item *it, CURL *easy, int64_t now_ms,
                      void *user);
/* An attempt at one range: Range: bytes=START-(END-1) and If-Range, written at its offset into
 * the .part (writer_open_at). Anything but a 206 of exactly that range and version is refused
 * (xfer_range_fallback). Its stream always ends with the verdict. */
struct xfer *xfer_new_range(const struct xfer_env *env, struct item *it, CURL *easy,
                            int64_t now_ms, void *user, const struct xfer_range *r);
/* A range (xfer_new_range, or a whole-file request that became the first range). */
bool xfer_is_range(const struct xfer *x);
/* The range whose request was the file's first (from 0, or resumed from where one connection's
 * .part ended): the plan is made around it (engine_seg.c). */
bool xfer_range_lead(const struct xfer *x);
/* Pieces per connection of the plan around this lead (segplan_plan): SEGPLAN_PIECES, or 1 when
 * a cap (global or its host's) is in force on it. */
int xfer_range_per(const struct xfer *x);
/* The origin did not answer the range as asked (not a 206, another version, another range):
 * ranges cannot be used for this file. */
bool xfer_range_fallback(const struct xfer *x);
/* Where the range ends now; xfer_range_cut moves it down (a steal): the connection stops there. */
int64_t xfer_range_end(const struct xfer *x);
void xfer_range_cut(struct xfer *x, int64_t end);
/* Bytes of the range on disk from its start (xfer_offset). */
int64_t xfer_range_written(const struct xfer *x);
void *xfer_user(const struct xfer *x);
/* This transfer's share of the cap in bytes/s (0 = uncapped), before it is added to the multi
 * handle: sizes libcurl's buffer, and the TCP window once the connection is up. */
void xfer_set_share(struct xfer *x, int64_t share);
CURL *xfer_easy(const struct xfer *x);
struct item *xfer_item(const struct xfer *x);
/* The .part's stream while the body is being received, else NULL. */
struct wstream *xfer_stream(const struct xfer *x);
/* Releases everything but the easy handle, which is returned for reuse. The .part is kept. */
CURL *xfer_free(struct xfer *x);

/* Ends the attempt. For XFER_FAILED, msg (ERRLEN) receives the reason and *f the facts for
 * retry_decide (docs/design.md#retries-and-backoff); f->retry_after points into the response and
 * lives until xfer_free. Fills the item's size, validators and status; for anything but
 * XFER_DONE the .part's stream has ended and the item holds its digest and the bytes written.
 * XFER_DONE leaves the stream open: writes may still fail, and the checksum is checked when the
 * writer commits it. */
enum xfer_verdict xfer_verdict(struct xfer *x, CURLcode rc, char *msg, struct retry_facts *f);

/* Copies the progress of a running attempt into its item (validators, size, the bytes on disk
 * that the digest covers), so a crash resumes from there. False when there is nothing to record. */
bool xfer_checkpoint(struct xfer *x);

/* A Last-Modified value as seconds since the epoch (the file's mtime), -1 when it is none. */
int64_t xfer_mtime_of(const char *last_modified);
/* After XFER_DONE: hands over the .part's stream (the caller commits it with writer_commit);
 * *mtime is the Last-Modified time or -1. */
void xfer_take_output(struct xfer *x, struct wstream **stream, struct wchunk **last,
                      int64_t *mtime);

int64_t xfer_started_ms(const struct xfer *x);
int64_t xfer_last_rx_ms(const struct xfer *x);
int64_t xfer_bytes(const struct xfer *x);      /* body bytes written in this attempt */
int64_t xfer_offset(const struct xfer *x);     /* where this attempt started in the file */
/* Body bytes this answer has still to bring (promised less received); -1 when not known. */
int64_t xfer_left(const struct xfer *x);
int xfer_status(const struct xfer *x);

/* Forgets the item's running digest (the .part will be rewritten from zero). */
void xfer_reset_hash(struct item *it);
/* True when the item can resume: validators known and a running digest of its .part. */
bool xfer_can_resume(const struct item *it);
/* Makes state (a struct digest, e.g. from digest_of_part) the item's running digest. */
void xfer_attach_hash(struct item *it, void *state);
void xfer_hash_free(void *state);
/* A running transfer's share changed (or its round trip may have): its TCP window follows
 * (cap_window). Cheap when nothing changed: one getsockopt. */
void xfer_tune_window(struct xfer *x, int64_t share);
/* Its request went out on a connection that carried an earlier response, and no answer has come
 * yet: a round trip in which it cannot receive (cap_ways). */
bool xfer_between_files(const struct xfer *x);
/* The window clamp in force on its connection (0 = none) and the round trip it was sized for. */
int64_t xfer_window(const struct xfer *x, int64_t *rtt_us);
/* Its buffer is larger than its window needs and waits to be cut (drain_buffer): what it holds
 * unread must be read first, so the cap gives it its turns before the others (engine_cap.c),
 * for the first half second of the drain at most. */
bool xfer_draining(const struct xfer *x);

#endif
