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
};
bool engine_xfer_view(struct engine *e, uint64_t id, struct engine_xfer_view *v);

/* The received-rate history for the sparkline: n (<= 59) whole seconds, oldest first. */
void engine_rate_series(struct engine *e, int64_t *out, int n);

#endif
