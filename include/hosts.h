#ifndef SLUICE_HOSTS_H
#define SLUICE_HOSTS_H
/* Per-host limits for the engine: a host's own connection limit (--per-host, or a host rule from
 * the config), the AIMD limit after a 429/503, a host's token-bucket cap from the config,
 * nested under the global one, its requests per second (--per-host-rps, rps.h) and a cap
 * group's hold on it. Pure: the settings and the clock are arguments. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bucket.h"
#include "rps.h"

struct settings;
struct hosts;

struct host {
    int active;                  /* transfers on the wire to it; kept by the engine */
    int limit;                   /* AIMD limit after a 429/503; 0 = none of its own */
    int64_t hold_until;          /* monotonic ms: the limit does not grow back before this */
    bool capped;
    struct bucket bucket;        /* per-host cap from the config, nested under the global one */
    struct rps rps;              /* --per-host-rps (or the rule's rps): requests started per second */
    int64_t gate_until;          /* monotonic ms: a cap group's hold, no request starts before it */
    int gate_status;             /* the 429 or 503 behind that hold */
    size_t idx;                  /* its place in the table (hosts.c) */
    char *name;                  /* its key, "host" or "host:port" */
};

struct hosts *hosts_new(void);
void hosts_free(struct hosts *hs);
/* The host of a key ("host" or "host:port"), made on first use; now (monotonic ms) starts its
 * cap's bucket. */
struct host *hosts_get(struct hosts *hs, const struct settings *s, const char *name, int64_t now);
/* The engine is done with h for now (its transfer ended): an idle host with nothing in force (no
 * lowered limit, no cap, no hold, a request bucket as full as a new one's) leaves the table and
 * h is freed. */
void hosts_release(struct hosts *hs, const char *name, struct host *h, int64_t now);
/* Looks at up to max hosts (from where the last call stopped) and lets go of those with nothing
 * in force any more at now: a request bucket refilled, a hold ended. Returns how many left. */
size_t hosts_sweep(struct hosts *hs, int64_t now, size_t max);
/* The requests per second in force for a host: its rule's rps, else --per-host-rps (0 = none). */
int hosts_rps_base(const struct settings *s, const char *name);
/* How the request buckets are fed: by the clock at the base rate over div (div >= 1: a cap
 * group's fallback while Redis is away, docs/scale.md#requests-per-second-shared), or by leases
 * (fed: a cap group with Redis up). Applies to every host now in the table and to new ones. */
void hosts_rps_mode(struct hosts *hs, const struct settings *s, bool fed, int div, int64_t now);
/* True when the request buckets are fed by leases. */
bool hosts_rps_fed(const struct hosts *hs);
/* The host of a key when the table holds it (something in force or transfers on the wire), else
 * NULL; makes no entry. */
struct host *hosts_find(const struct hosts *hs, const char *name);
/* How many hosts the table holds. */
size_t hosts_count(const struct hosts *hs);
/* Its connection limit in force: the configured one, lowered by the AIMD limit (0 = none). */
int hosts_effective(const struct settings *s, const char *name, const struct host *h);
/* True when one more transfer to the host may start now: within its connection limit, not held,
 * and with a request token (an unknown host: true; no entry is made). */
bool hosts_ok(struct hosts *hs, const struct settings *s, const char *name, int64_t now);
/* hosts_ok, and when it says no for a reason that time ends, *wake (when not NULL) is lowered
 * to the ms until then (a hold, a request token due); -1 in *rps_lease when the host waits for a
 * leased request token (a fed bucket, empty). */
bool hosts_admit(struct hosts *hs, const struct settings *s, const char *name, int64_t now,
                 int64_t *wake, bool *rps_lease);
/* A request to h starts at now: it takes its request token. */
void hosts_started(struct host *h, int64_t now);
/* A cap group's hold (another worker's 429/503, or ours): no request to h before until. */
void hosts_hold(struct host *h, int64_t until, int status);
/* 429/503 at now: halves the limit once per hold period and holds it for hold_ms. Returns true
 * when the limit was lowered, with msg (ERRLEN) saying so. */
bool hosts_slow_down(const struct settings *s, const char *name, struct host *h, int64_t hold_ms,
                     int64_t now, char *msg);
/* A success at now: once the hold has passed the limit grows by one, and goes away when it
 * reaches the configured limit (or the concurrency when there is none). */
void hosts_success(const struct settings *s, const char *name, struct host *h, int concurrency,
                   int64_t now);

#endif
