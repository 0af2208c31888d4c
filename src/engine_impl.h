#ifndef SLUICE_ENGINE_IMPL_H
#define SLUICE_ENGINE_IMPL_H
/* What the files of the download engine share: engine.c (lifecycle, libcurl glue, timers,
 * listeners), engine_transfer.c (a transfer from start to its verdict and commit), engine_cap.c
 * (the cap and the disk-wait list), engine_seg.c (segmented downloads) and engine_ctl.c (the live controls of engine.h). Nothing
 * outside src/engine*.c includes it: front ends see only the opaque engine of engine.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "bucket.h"
#include "engine.h"
#include "group.h"
#include "meter.h"
#include "sched.h"
#include "xfer.h"

struct engine_htab;
struct host;
struct hosts;
struct loop_timer;
struct socktab;
struct syncer;
struct writer;

struct active {
    struct xfer *x;
    struct host *host;
    struct active *next, *prev;  /* all transfers, newest first */
    struct active *tnext;        /* throttled FIFO */
    struct active *dnext;        /* waiting for the writer's backlog to drain */
    bool throttled;
    bool diskwait;
    bool unpausing;
    bool receiving;              /* its response's body has begun: not between files (cap_ways) */
    uint64_t seq;                /* admission order: the throttled list is oldest first */
    bool committing;             /* released to be committed: a probe goes on until the commit */
    int64_t last_bytes;
    int64_t rate;                /* bytes/s, smoothed over ticks */
    int64_t win_start_ms;        /* --min-rate: this window began (0 = none yet) */
    int64_t win_bytes;           /* xfer_bytes at its start */
    CURLcode stuck;              /* its unpause failed: to be finished by engine_kick */
};

/* An item the operator paused in this run (docs/design.md#live-changes-and-the-schedule): by
 * pause all or one by one, and whether its attempt was running (parked: its attempt still
 * counts while it is paused and is given back when it resumes). */
struct paused {
    uint64_t id;
    bool by_all;
    bool parked;
};

struct engine {
    struct loop *loop;
    const struct settings *s;
    struct queue *q;
    int rootfd;
    CURLM *multi;
    CURLSH *share;
    struct xfer_env env;
    struct loop_timer *curl_timer, *tick_timer, *due_timer, *refill_timer;
    struct loop_timer *seg_timer;    /* records the ranges of segmented downloads */
    /* --per-host-rps and a cap group's holds (engine_rps.c): when an item that waits for its
     * host's request token or hold may start, the loop is woken by this timer. */
    struct loop_timer *rps_timer;
    int64_t rps_wake;                /* ms until the first such wait ends, -1 none (this kick) */
    bool rps_lease_wait;             /* a host waits for a leased request token */
    int rps_div;                     /* the request buckets' divisor while Redis is away */
    struct group_hold *rps_holds;    /* GROUP_HOLDS_MAX, for engine_rps_group_sync */
    struct syncer *syncer;
    struct writer *writer;
    struct hosts *hosts;
    struct socktab *socks;
    struct active *actives;
    struct active *thead, *ttail;    /* throttled, in the order they ran out of credit */
    struct active *dhead;            /* paused until the writer catches up */
    int transfers;
    uint64_t next_seq;
    int tuned_for;                   /* transfers running when the windows were last sized */
    int finishing;
    int following;               /* read-backs following segmented downloads (engine_seg.c) */
    int nstuck;                      /* transfers whose unpause failed (struct active, stuck) */
    int preparing;                   /* digests of .part files being rebuilt by the worker */
    int concurrency;
    struct bucket bucket;
    int64_t rate, burst;             /* in force (with a cap group: the group's cap) */
    /* --cap-group (docs/scale.md#the-shared-cap): the bucket is fed by leases while Redis
     * answers, and refills on its own at the group's cap over the workers last seen when not. */
    struct group_client *group;
    char group_name[GROUP_NAME_MAX + 1];
    int group_workers;               /* last seen (at least 1) */
    bool group_known, group_up, group_said_down, group_said_rate;
    int64_t group_calls;
    int group_sched_step;            /* the schedule's step that last set the group's cap */
    struct sched_state sched;
    struct engine_htab *htab;        /* what each host did in this run (engine_hosts.c) */
    struct sched_point *sched_pts;   /* the schedule (engine_sched.c), from the settings or ctl */
    size_t nsched;
    bool rate_live;                  /* engine_set_rate was called (no schedule: for the pass) */
    CURL **pool;
    size_t npool;
    struct meter meter;
    int64_t bytes;
    int64_t start_ms;
    int64_t fin_items, fin_bytes;    /* finished this run, and their sizes (the ETA's mean) */
    int64_t busy_ms;                 /* time the run had work going, up to busy_since */
    int64_t busy_since;              /* -1 while idle or everything is paused */
    /* The disk was full: nothing starts before this time (mono ms); 0 when it is not. */
    int64_t disk_full_until;
    /* Space came back (or the operator resumed): one transfer at a time, the probe, until one
     * file is committed; probe_id is the item in flight (0 = none). */
    bool disk_probing;
    uint64_t probe_id;
    int64_t free_bytes;              /* on the output filesystem, when last asked (-1 unknown) */
    int64_t free_at_ms;
    int64_t free_claimed;            /* expected writes of what started since that look */
    int64_t last_flush_ms;
    int64_t last_tick_ms;
    uint64_t rng;
    bool stopping;
    bool syncer_eager;
    bool paused_all;
    bool in_kick;
    bool session_failing;            /* told the listeners that the session cannot be written */
    bool session_gone;               /* told them that the session file is gone and not back yet */
    struct paused *pausedv;          /* what this run paused, for resume all and the attempts */
    size_t npaused, pausedcap;
    /* Segmented downloads running (engine_seg.c): their items, and when stealing was last
     * looked at. */
    struct item **segitems;
    size_t nsegitems, segcap;
    int64_t last_steal_ms;
    struct { engine_listener cb; void *arg; } *listeners;
    int nlisteners;
};

/* engine_rps.c: --per-host-rps and the holds a cap group shares
 * (docs/design.md#requests-per-second-per-host, docs/scale.md#requests-per-second-shared). */
void engine_rps_init(struct engine *e);
void engine_rps_free(struct engine *e);
/* Admission by host for queue_next and the ranges: connection limit, hold, request token. */
bool engine_rps_admit(struct engine *e, const char *name);
/* Before a round of admissions, and after it: arms the wake-up for the items left waiting. */
void engine_rps_begin(struct engine *e);
void engine_rps_end(struct engine *e);
/* A 429/503 slowed a host down for hold_ms: with a cap group, every worker holds it. */
void engine_rps_slowed(struct engine *e, const char *host, struct host *h, int64_t hold_ms,
                       int status);
/* Every tick: forgets hosts with nothing in force, follows the group's request leases. */
void engine_rps_tick(struct engine *e);
/* The group's request leases and holds, taken from its client (also from the refill timer). */
void engine_rps_group_sync(struct engine *e);
/* A cap group starts: request tokens come from its leases from now on. */
void engine_rps_group_start(struct engine *e);

/* engine_hosts.c: what each host did in this run (429/503, done, failed), counted from the
 * events, and the views of hosts and of why an item waits. */
void engine_hosts_event(struct engine *e, const struct engine_event *ev);
void engine_hosts_free(struct engine *e);

/* engine_sched.c: the schedule's copy, its evaluation each tick, and the view of it. */
void engine_sched_init(struct engine *e);
void engine_sched_free(struct engine *e);
void engine_sched_tick(struct engine *e);
/* A cap group starts: the step in force now is the one the group's cap already follows. */
void engine_sched_group_start(struct engine *e);
void engine_sched_view(struct engine *e, struct engine_sched_view *v);

/* engine_ctl.c: at the end of a run, paused items give back the attempt they were parked in
 * (the next run queues them again and counts a new one). */
void engine_ctl_release_paused(struct engine *e);

/* engine.c: the run's active time brought up to now (elapsed counts only it). */
void engine_account(struct engine *e, int64_t now);

/* engine.c: events to the listeners. */
void engine_emit_item(struct engine *e, enum engine_event_kind kind, const struct item *it,
                      int64_t bytes, const char *error, int64_t value);
void engine_emit_value(struct engine *e, enum engine_event_kind kind, int64_t value,
                       const char *msg);

#endif
