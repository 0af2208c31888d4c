#ifndef SLUICE_RETRY_H
#define SLUICE_RETRY_H
/* The retry decision (docs/design.md#retries-and-backoff): what an attempt that did not succeed
 * means for its item, in one pure function. The transfer (xfer.c), the stall detector (engine.c)
 * and the durable commit report facts; retry_decide says whether to try again and when, to fail
 * with the reason, to wait for disk space, whether the .part must start over from zero, whether
 * the attempt counts toward --retries and whether the host asked everyone to slow down. The
 * engine only carries it out (engine_transfer.c). */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

/* What else is known of a failed attempt beyond its status, libcurl's code and errno. */
enum retry_cause {
    RETRY_CAUSE_RESPONSE,        /* nothing more: the status, libcurl's code and errno tell it */
    RETRY_CAUSE_STALL,           /* the engine ended it: nothing, or under --min-rate, for --stall */
    RETRY_CAUSE_TRUNCATED,       /* the body ended before what it promised */
    RETRY_CAUSE_PATH,            /* the output path cannot be created (or committed to) */
    RETRY_CAUSE_TOO_LARGE,       /* over --max-size, or bigger than the whole output filesystem */
    RETRY_CAUSE_MISMATCH,        /* a 206 that is not what was asked for: discarded */
    RETRY_CAUSE_PART_SHORT,      /* the .part holds less than its digest covers */
    RETRY_CAUSE_COMMIT,          /* the finished file failed its checksum or its commit */
};

struct retry_facts {
    enum retry_cause cause;
    int status;                  /* the last response's HTTP status; 0 when there was none */
    CURLcode curl;               /* libcurl's result; CURLE_OK when libcurl completed */
    int err;                     /* errno of a local failure (open, write, commit); 0 none */
    bool resumed;                /* the request continued a .part (Range) */
    const char *retry_after;     /* the response's Retry-After value, or NULL */
};

struct retry_policy {
    int retries;                 /* --retries: attempts after the first */
    int64_t min_ms, max_ms;      /* --retry-min, --retry-max */
};

enum retry_action {
    RETRY_LATER,                 /* try again at at_ms */
    RETRY_FAIL,                  /* the item fails, with the attempt's message as its reason */
    RETRY_WAIT_SPACE,            /* disk full: not the item's fault, park it until there is room */
};

struct retry_decision {
    enum retry_action action;
    const char *why;             /* "transient", "permanent", "retries used up", "disk full" */
    bool counts;                 /* the attempt counts toward --retries */
    bool restart;                /* what is on disk cannot be continued: next attempt from zero */
    bool slow_down;              /* 429/503: the host's connection limit comes down */
    int64_t hold_ms;             /* slow_down: for this long at least */
    int64_t retry_after_ms;      /* the Retry-After as a delay, clamped; -1 none or not valid */
    int64_t wait_ms;             /* RETRY_LATER: the wait from now */
    int64_t at_ms;               /* RETRY_LATER: now_ms + wait_ms (the clock of now_ms) */
};

/* attempt: the number of the attempt that just ended, 1 for the first. now_ms is the clock
 * at_ms is on (monotonic); now_wall_ms is the wall clock an HTTP-date Retry-After is read
 * against; rnd a random number (backoff_rand) for the jitter. */
void retry_decide(const struct retry_facts *f, int attempt, const struct retry_policy *p,
                  int64_t now_ms, int64_t now_wall_ms, uint64_t rnd, struct retry_decision *d);

/* True when the facts alone mean the .part cannot be continued, whatever happens next (also
 * asked for an attempt that is stopped without a verdict, a parked one). */
bool retry_restart(const struct retry_facts *f);

/* True for the HTTP statuses worth asking again: 408 425 429 500 502 503 504. */
bool retry_transient_status(int status);

#endif
