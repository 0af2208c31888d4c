#ifndef SLUICE_HOSTS_H
#define SLUICE_HOSTS_H
/* Per-host limits for the engine: a host's own connection limit (--per-host, or a host rule from
 * the config), the AIMD limit after a 429/503, and a host's token-bucket cap from the config,
 * nested under the global one. Pure: the settings and the clock are arguments. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bucket.h"

struct settings;
struct hosts;

struct host {
    int active;                  /* transfers on the wire to it; kept by the engine */
    int limit;                   /* AIMD limit after a 429/503; 0 = none of its own */
    int64_t hold_until;          /* monotonic ms: the limit does not grow back before this */
    bool capped;
    struct bucket bucket;        /* per-host cap from the config, nested under the global one */
    size_t idx;                  /* its place in the table (hosts.c) */
};

struct hosts *hosts_new(void);
void hosts_free(struct hosts *hs);
/* The host of a key ("host" or "host:port"), made on first use; now (monotonic ms) starts its
 * cap's bucket. */
struct host *hosts_get(struct hosts *hs, const struct settings *s, const char *name, int64_t now);
/* The engine is done with h for now (its transfer ended): an idle host with nothing in force (no
 * lowered limit, no cap) leaves the table and h is freed. */
void hosts_release(struct hosts *hs, const char *name, struct host *h);
/* The host of a key when the table holds it (something in force or transfers on the wire), else
 * NULL; makes no entry. */
struct host *hosts_find(const struct hosts *hs, const char *name);
/* How many hosts the table holds. */
size_t hosts_count(const struct hosts *hs);
/* Its connection limit in force: the configured one, lowered by the AIMD limit (0 = none). */
int hosts_effective(const struct settings *s, const char *name, const struct host *h);
/* True when one more transfer to the host stays within its limit (an unknown host: true; no
 * entry is made). */
bool hosts_ok(struct hosts *hs, const struct settings *s, const char *name, int64_t now);
/* 429/503 at now: halves the limit once per hold period and holds it for hold_ms. Returns true
 * when the limit was lowered, with msg (ERRLEN) saying so. */
bool hosts_slow_down(const struct settings *s, const char *name, struct host *h, int64_t hold_ms,
                     int64_t now, char *msg);
/* A success at now: once the hold has passed the limit grows by one, and goes away when it
 * reaches the configured limit (or the concurrency when there is none). */
void hosts_success(const struct settings *s, const char *name, struct host *h, int concurrency,
                   int64_t now);

#endif
