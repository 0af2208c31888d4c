#ifndef SLUICE_ITEM_H
#define SLUICE_ITEM_H
/* One file to fetch: what the input asked for, and what is known of it so far. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "input.h"
#include "segplan.h"

enum item_state {
    ITEM_QUEUED,         /* waiting for a slot */
    ITEM_ACTIVE,         /* a transfer is running (or finishing on the worker) */
    ITEM_RETRY,          /* waiting for next_try_ms */
    ITEM_PAUSED,         /* held by the operator */
    ITEM_DONE,           /* fetched and committed */
    ITEM_UNCHANGED,      /* the local copy was current */
    ITEM_FAILED,         /* retries exhausted or a permanent error */
    ITEM_STATE_COUNT
};

const char *item_state_name(enum item_state s);

/* Frees an item's hash_state in item_free; set by the module that owns that state (the engine,
 * with xfer.c's function). */
extern void (*item_hash_free)(void *);

struct item {
    uint64_t id;                 /* 1-based, in input order */
    char **urls;                 /* urls[0] is the primary; the rest are mirrors */
    size_t nurls;
    char *path;                  /* relative to the output root */
    char *host;                  /* of urls[0], lower-cased, for --per-host */
    char **headers;              /* header= lines of this item */
    size_t nheaders;
    enum checksum_algo algo;
    unsigned char digest[32];
    enum item_state state;
    int attempts;                /* attempts made so far */
    /* Paused while its attempt ran: that attempt is in `attempts` while paused and given back on
     * resume; the session marks it (next_try = -1) so that the next run gives it back even after
     * a kill -9 (docs/design.md#live-changes-and-the-schedule). */
    bool attempt_parked;
    int64_t next_try_ms;         /* monotonic, for ITEM_RETRY */
    int http_status;             /* of the last response */
    char *error;                 /* last error, NULL when none */
    int64_t size;                /* expected total size, -1 unknown */
    int64_t received;            /* bytes on disk in the .part (or the file, when done) */
    char *etag;                  /* validators of the last good response */
    char *last_modified;
    int64_t duration_ms;         /* of the last attempt */
    unsigned char sha256[32];    /* of the completed file */
    bool has_sha256;
    long line;                   /* input line, for messages */
    void *hash_state;            /* the engine's running digests of the .part (opaque here) */
    /* A segmented download (docs/design.md#segmented-downloads): its ranges (room for
     * SEGPLAN_MAX, NULL when none), planned by the engine and recorded by the queue with the
     * item when segs_dirty. */
    struct seg *segs;
    size_t nsegs;
    bool segs_dirty;
    bool no_segments;            /* this run: ranges failed for it, one connection */
    int seg_fails;               /* ranges failed since one last made progress */
    int seg_cause, seg_curl, seg_err;    /* the last one's (retry_cause, CURLcode, errno) */
    /* The digest of the .part's first bytes, [0, its length), hashed in order as the first range
     * came (engine_seg.c: once every range is on disk only the rest is read back); NULL none.
     * Freed with hash_state's function. */
    void *seg_hash;
    /* A worker hashes the ranges whole from where seg_hash ended (engine_seg.c, follow): it has
     * the digest meanwhile. seg_gen changes whenever the digest is dropped, so a late result of
     * an earlier one is not taken; seg_whole_wait: every range is on disk, the rest waits for it. */
    bool seg_hashing, seg_whole_wait;
    unsigned seg_gen;
    /* Owned by the queue: links of its per-host FIFO and the index in its retry heap. */
    struct item *qnext, *qprev;
    size_t heap_idx;
};

void item_free(struct item *it);
void item_set_error(struct item *it, const char *msg);

#endif
