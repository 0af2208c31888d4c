#ifndef SLUICE_GROUP_REDIS_H
#define SLUICE_GROUP_REDIS_H
/* The shared cap's Redis client (docs/scale.md#the-shared-cap): a small thread of its own talks
 * to Redis, so the event loop never waits on the network; the engine only reads and writes a
 * few numbers under a mutex. Leases are taken with one script call (EVALSHA) each. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "group.h"

struct group_client;

struct group_view {
    bool known;                  /* Redis has answered at least once */
    bool up;                     /* the last call succeeded */
    int64_t rate;                /* the group's cap, bytes/s (0 = none), when known */
    int workers;                 /* workers that asked for bytes within GROUP_WORKER_TTL_MS (the
                                  * last count while none does) */
    int64_t granted;             /* bytes leased since the last view (handed over: now ours) */
    int64_t calls;               /* script calls so far */
    int64_t failures;            /* connections or calls that failed so far */
    char error[512];             /* why the last call failed, when !up */
};

/* Request tokens Redis granted for a host (--per-host-rps shared by the group). */
struct group_grant {
    char host[GROUP_HOST_MAX + 1];
    int64_t n;
};

/* A hold on a host that a worker of the group published after a 429/503: no request to it
 * before until_ms (monotonic, this process's clock). */
struct group_hold {
    char host[GROUP_HOST_MAX + 1];
    int64_t until_ms;
    int status;
};

/* Starts the thread; it connects on its own (never blocks the caller). init_rate is this
 * worker's -r: the group's cap when the group has none yet; workers the guess at how many share
 * it until Redis says. Returns NULL with err (ERRLEN) when sluice was built without hiredis. */
struct group_client *group_redis_start(const struct group_url *u, int64_t init_rate, int workers,
                                       char *err);
/* Says goodbye to the group (best effort, bounded) and stops the thread. */
void group_redis_free(struct group_client *g);
/* How many bytes the engine would like leased now (0: none; an idle worker leases nothing and
 * leaves the whole cap to the others). */
void group_redis_want(struct group_client *g, int64_t bytes);
/* Only the granted bytes (as v->granted of a view), for the write callback's cheap path. */
int64_t group_redis_take(struct group_client *g);
/* The operator's new cap for the whole group (sent with the next call). */
void group_redis_set_rate(struct group_client *g, int64_t rate);
/* A snapshot; takes the granted bytes (v->granted) out of the client. */
void group_redis_view(struct group_client *g, struct group_view *v);
/* The engine would like n request tokens of host (rps a second for the whole group) leased:
 * sent with the next call (at most GROUP_HOSTS_MAX hosts per call; a host asked again before
 * that call is asked once). */
void group_redis_want_host(struct group_client *g, const char *host, int rps, int n);
/* The request tokens granted since the last take, at most max hosts (the rest next time). */
size_t group_redis_take_grants(struct group_client *g, struct group_grant *out, size_t max);
/* Publishes a hold on host for hold_ms from now (sent with the next call). */
void group_redis_hold(struct group_client *g, const char *host, int64_t hold_ms, int status);
/* The holds in force as the last call learned them (at most GROUP_HOLDS_MAX), once each call. */
size_t group_redis_take_holds(struct group_client *g, struct group_hold *out, size_t max);

#endif
