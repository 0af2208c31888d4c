#ifndef SLUICE_WAIT_H
#define SLUICE_WAIT_H
/* Why an item moves no bytes now (issue 11: "why is this row at 0 B/s?"), decided in one place
 * from plain facts the engine gathers (engine_item_wait). Pure: the clock is an argument. The
 * front ends only print the answer (wait_text). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"

enum wait_reason {
    WAIT_NONE,          /* receiving, or finished: nothing to explain */
    WAIT_CAP,           /* running, waiting its turn under the cap */
    WAIT_DISK,          /* running, waiting for the disk (full, or the writer's backlog) */
    WAIT_STALLED,       /* running, nothing received for `secs` */
    WAIT_SLOTS,         /* queued: every transfer slot (-j) is busy */
    WAIT_HOST_SLOT,     /* queued: its host is at its connection limit */
    WAIT_HOST_HELD,     /* queued: its host's limit was lowered after a 429/503, held until */
    WAIT_GROUP_HOLD,    /* queued: a cap group holds its host after a 429/503, until */
    WAIT_HOST_RPS,      /* queued: its host has no request token (--per-host-rps) */
    WAIT_RETRY,         /* a retry, due at `until` */
    WAIT_RETRY_DUE,     /* a retry whose time has come, waiting for a slot */
    WAIT_PAUSED,        /* paused by the operator */
    WAIT_ALL_PAUSED,    /* queued, but everything is paused */
};

/* What the engine knows of one item and its host at `now` (monotonic ms). */
struct wait_facts {
    enum item_state state;
    bool throttled;              /* running and waiting for credit under the cap */
    bool diskwait;               /* running and held for the disk */
    int64_t last_rx_ms;          /* running: when its last byte arrived (monotonic) */
    int64_t next_try_ms;         /* retry: when it is due (monotonic) */
    bool paused_all;
    bool disk_full;              /* nothing starts until the disk has room */
    int transfers, concurrency;  /* on the wire now, and the limit */
    int host_active;             /* its host's transfers on the wire */
    int host_limit;              /* its host's limit in force, 0 = none */
    bool host_lowered;           /* that limit is lowered after a 429/503 ... */
    int host_slow_status;        /* ... by this status (429 or 503; 0 unknown) ... */
    int64_t host_hold_until_ms;  /* ... and does not grow back before this (monotonic) */
    int64_t host_gate_until_ms;  /* a cap group's hold: no request before this (monotonic) ... */
    int host_gate_status;        /* ... after this 429 or 503 */
    int host_rps;                /* its requests per second (0 = none) ... */
    bool host_rps_empty;         /* ... and it has no token now */
};

struct wait_answer {
    enum wait_reason reason;
    int64_t until_ms;            /* HOST_HELD, GROUP_HOLD, RETRY: monotonic ms; else 0 */
    int64_t secs;                /* STALLED: seconds without a byte */
    int status;                  /* HOST_HELD, GROUP_HOLD: 429 or 503 */
};

/* stall_show_ms: a running transfer counts as stalled after this long without a byte. */
void wait_decide(const struct wait_facts *f, int64_t now, int64_t stall_show_ms,
                 struct wait_answer *a);
/* A short text for the list ("cap", "host 2/2", "held 503 12s", "rps", "stall 9s", "retry 4s",
 * "slots", "paused") and a sentence for the details; now as for wait_decide. Return buf. */
const char *wait_short(const struct wait_answer *a, const struct wait_facts *f, int64_t now,
                       char *buf, size_t len);
const char *wait_text(const struct wait_answer *a, const struct wait_facts *f, int64_t now,
                      char *buf, size_t len);

#endif
