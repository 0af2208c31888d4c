#ifndef SLUICE_GROUP_REDIS_H
#define SLUICE_GROUP_REDIS_H
/* The shared cap's Redis client (docs/scale.md#the-shared-cap): a small thread of its own talks
 * to Redis, so the event loop never waits on the network; the engine only reads and writes a
 * few numbers under a mutex. Leases are taken with one script call (EVALSHA) each. */
#include <stdbool.h>
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

#endif
