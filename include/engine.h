#ifndef SLUICE_ENGINE_H
#define SLUICE_ENGINE_H
/* The download engine: a libcurl multi handle driven by the event loop through the socket API,
 * sluice's own admission control (-j, --per-host), retries with backoff, and the durable finish of
 * each file. It knows nothing of the terminal: front ends read snapshots and call this API. */
#include <stdbool.h>
#include <stdint.h>
#include "item.h"
#include "opts.h"

struct loop;
struct queue;
struct engine;

enum engine_event_kind {
    EV_QUEUED, EV_START, EV_DONE, EV_UNCHANGED, EV_RETRY, EV_FAILED, EV_PAUSED, EV_RESUMED,
    EV_RATE, EV_CONCURRENCY, EV_MESSAGE, EV_REMOVED,
};

struct engine_event {
    enum engine_event_kind kind;
    const struct item *item;     /* NULL for engine-wide events */
    int64_t bytes;               /* this attempt's body bytes */
    int64_t duration_ms;
    int retry_count;             /* attempts so far minus one */
    int http_status;
    const char *error;           /* reason (retry, failed) or message text */
    int64_t value;               /* EV_RATE: bytes/s (0 = off); EV_CONCURRENCY: n; EV_RETRY: wait ms */
};

typedef void (*engine_listener)(const struct engine_event *ev, void *arg);

/* Where the cap in force comes from (docs/design.md#live-changes-and-the-schedule): the command
 * line or the config, the schedule's step, or a live change (the TUI, ctl, a resumed pass). */
/* GROUP: --cap-group, the cap shared through Redis (docs/scale.md#the-shared-cap). */
enum engine_cap_source { CAP_FROM_SETTINGS, CAP_FROM_SCHEDULE, CAP_FROM_LIVE, CAP_FROM_GROUP };

/* The cap's source and the schedule's steps, as plain data for the header, ctl status and the
 * metrics. */
struct engine_sched_view {
    enum engine_cap_source source;
    size_t nsteps;               /* 0 = no schedule */
    int step, next;              /* indexes of the step in force and the next one, -1 none */
    struct sched_point cur, nxt; /* those steps (zero when -1) */
    int64_t next_in_s;           /* seconds until the next step begins, -1 none */
    int64_t next_at_ms;          /* wall clock ms of it, 0 none */
    int64_t then_rate;           /* the cap after that (bytes/s, 0 off); -1 when the cap in force
                                  * holds to the end of the pass */
};

struct engine_stats {
    size_t total, queued, active, retrying, paused, done, unchanged, failed;
    int concurrency;             /* the limit */
    int transfers;               /* on the wire now */
    int finishing;               /* being committed by the worker */
    int64_t rate;                /* bytes/s received, last 2 s */
    int64_t cap;                 /* bytes/s, 0 = off */
    int64_t bytes;               /* body bytes received this run */
    int64_t elapsed_ms;
    int64_t eta_ms;              /* -1 unknown */
    /* How the ETA was made (meter.h, meter_eta), for the details. */
    int64_t eta_known_left;      /* bytes left of started items whose size is known */
    int64_t eta_known_items;     /* how many such items */
    int64_t eta_unknown_items;   /* items left of unknown size */
    int64_t eta_mean;            /* mean size of the items finished this run, -1 none */
    int64_t eta_finished;        /* how many finished this run */
    int64_t eta_rate;            /* the rate used */
    bool eta_capped;             /* the cap, lower than the last minute's rate */
    bool disk_full;
    bool paused_all;
    const char *session_error;   /* the session cannot be written (retried each tick), or NULL */
    struct engine_sched_view sched;
    struct shard shard;          /* --shard K/N of this worker; n == 0: none */
    /* --cap-group (docs/scale.md#the-shared-cap); group_workers 0 = no group. cap is then the
     * group's cap. */
    int group_workers;           /* workers drawing from it, as last seen */
    bool group_up;               /* Redis answers */
    int64_t group_calls;         /* lease script calls so far */
    int64_t local_cap;           /* while Redis is away: what this worker keeps to, else 0 */
};

/* Borrows loop, settings and queue; the settings must outlive the engine. */
struct engine *engine_new(struct loop *loop, const struct settings *s, struct queue *q, int rootfd,
                          char *err);
void engine_free(struct engine *e);
void engine_add_listener(struct engine *e, engine_listener cb, void *arg);
void engine_remove_listener(struct engine *e, engine_listener cb, void *arg);

/* Announces the settings in force (rate and concurrency events reach the listeners added by
 * now) and starts the first transfers. */
void engine_start(struct engine *e);
/* Starts what can start. Called by the engine itself after every change; exposed for front ends. */
void engine_kick(struct engine *e);
/* True once nothing is queued, running, retrying or being committed. */
bool engine_idle(const struct engine *e);
/* Interrupt: every transfer stops keeping its .part, commits in flight finish. Blocks briefly. */
void engine_stop(struct engine *e);

void engine_stats(struct engine *e, struct engine_stats *st);

/* Live controls (the TUI, the control socket). Each takes effect within one second and emits an
 * event. A rate of 0 means no cap; burst 0 means the default for the rate. An operator's rate
 * holds until the next step of the schedule. */
void engine_set_rate(struct engine *e, int64_t rate, int64_t burst);
int64_t engine_rate(const struct engine *e);
/* The schedule in force (the engine's own copy; n = 0 when none). Replacing it drops a live
 * change's hold and puts the new step's rate in force at once; it lasts for this run (the
 * session keeps no schedule). The points are copied. */
const struct sched_point *engine_schedule(const struct engine *e, size_t *n);
void engine_set_schedule(struct engine *e, const struct sched_point *p, size_t n);
/* Lowering parks the newest transfers (stopped, .part kept, resumed by Range later);
 * raising starts queued items at once. */
void engine_set_concurrency(struct engine *e, int n);
int engine_concurrency(const struct engine *e);

/* Per item (id) and for everything. Return 0, or -1 with err (ERRLEN) when the id is unknown or
 * the item is not in a state the command applies to. */
int engine_pause(struct engine *e, uint64_t id, char *err);
int engine_resume(struct engine *e, uint64_t id, char *err);
void engine_pause_all(struct engine *e);
void engine_resume_all(struct engine *e);
bool engine_paused_all(const struct engine *e);
int engine_requeue(struct engine *e, uint64_t id, char *err);   /* failed → queued, attempts reset */
/* Every failed item back to the queue: how many, or -1 with err when the session cannot be
 * written. */
long engine_requeue_failed(struct engine *e, char *err);
/* The same for the failed items whose last HTTP status is status (0: any) and whose host is host
 * (any case; NULL: any). */
long engine_requeue_failed_where(struct engine *e, int status, const char *host, char *err);
/* Removes an item from the run and the session (an active transfer is stopped and its .part
 * deleted; a finished file stays on disk). */
int engine_remove(struct engine *e, uint64_t id, char *err);
/* Adds a URL to the running queue, mapped like the input (layout, optional out=). Refused with
 * err when its URL is already in the run or its path is another item's. */
int engine_add_url(struct engine *e, const char *url, const char *out, uint64_t *id, char *err);

/* Live view of a running transfer, for the UI: body bytes this attempt and its rate. */
struct engine_xfer_view {
    int64_t bytes;               /* on disk, resumed part included */
    int64_t size;                /* expected, -1 unknown */
    int64_t rate;                /* bytes/s, last ~2 s */
    bool throttled;              /* waiting for its turn under the cap */
    int conns;                   /* connections: 1, or a segmented download's (0: none now) */
};
bool engine_xfer_view(struct engine *e, uint64_t id, struct engine_xfer_view *v);

/* Why an item moves no bytes (wait.h): the facts the engine knows of it and its host now, for
 * wait_decide. The item as the UI read it (queue_page); now is mono_ms(). */
struct wait_facts;
void engine_item_wait(struct engine *e, const struct item *it, struct wait_facts *f);

/* One row of the Hosts tab: a host with transfers, a lowered limit, or anything counted in this
 * run (docs/tui.md#the-screen). Plain data: the UI never reads the host table. */
struct engine_host_view {
    char name[128];
    int active;                  /* transfers on the wire to it */
    int limit;                   /* its connection limit in force, 0 = none */
    bool lowered;                /* the limit is lowered after a 429/503 ... */
    int slow_status;             /* ... the status that lowered it last (429, 503) ... */
    int64_t hold_until_ms;       /* ... not raised before this (monotonic ms; 0 none) */
    long n429, n503;             /* such answers in this run */
    long done, failed;           /* items finished in this run */
    int64_t rate;                /* bytes/s of its transfers now */
    size_t queued;               /* queued items held in memory for it */
    bool queued_more;            /* ... and the session holds more */
    int64_t gate_until_ms;       /* a cap group's hold: no request before this (monotonic; 0) */
    int gate_status;             /* ... after this 429 or 503 */
    int rps;                     /* its requests a second (--per-host-rps, a rule's rps; 0 none) */
};
/* Up to max hosts, busiest first (rate, then transfers, then name); returns how many. */
size_t engine_hosts_view(struct engine *e, struct engine_host_view *out, size_t max);

/* One range of a running segmented download (docs/design.md#segmented-downloads). */
struct engine_range_view {
    int64_t start, end;          /* bytes [start, end) of the file */
    int64_t done;                /* of them on disk, or received by its connection */
    int64_t rate;                /* bytes/s of its connection, 0 when none runs */
    bool busy;                   /* a connection is fetching it */
};
/* The ranges of item id, in file order, up to max of them; returns how many it has (0: not
 * segmented, or not running). */
int engine_ranges_view(struct engine *e, uint64_t id, struct engine_range_view *out, int max);

/* The received-rate history for the sparkline: n (<= 59) whole seconds, oldest first. */
void engine_rate_series(struct engine *e, int64_t *out, int n);

#endif
