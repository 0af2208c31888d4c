#ifndef SLUICE_GROUP_H
#define SLUICE_GROUP_H
/* --cap-group redis://HOST[:PORT]/NAME: the policy of a cap shared by several workers through
 * one token bucket kept in Redis (docs/scale.md#the-shared-cap). Pure: parsing, lease sizes, the
 * safe local cap. The Redis client is group_redis.h. */
#include <stdbool.h>
#include <stdint.h>

#define GROUP_NAME_MAX 64
#define GROUP_LEASE_MS 100       /* a lease is about this much of the worker's share */
#define GROUP_LEASE_MIN (16 * 1024)
#define GROUP_DEPTH_MS 200       /* the shared bucket banks at most this much of the cap */
#define GROUP_PACE_MIN_MS 10     /* after a full lease: at most 100 calls a second, in bursts */
#define GROUP_HEARTBEAT_MS 500   /* an idle worker still says it is there, and reads the cap */
#define GROUP_WORKER_TTL_MS 3000 /* a worker not heard from for this long is not counted */
#define GROUP_HOSTS_MAX 16       /* hosts whose request tokens one call leases, at most */
#define GROUP_HOLDS_MAX 32       /* holds one call publishes, and learns, at most */
#define GROUP_RPS_KEY_TTL_MS 60000   /* a host's request bucket in Redis outlives its last use */
#define GROUP_HOST_MAX 255       /* longest host key ("host:port") shared through Redis */

struct group_url {
    char host[256];              /* a name, an IPv4 address, or an IPv6 one without brackets */
    int port;                    /* 6379 when not given */
    char name[GROUP_NAME_MAX + 1];   /* [A-Za-z0-9._-], names the Redis keys */
};

/* "redis://HOST[:PORT]/NAME" ("[v6]" for an IPv6 host). Returns 0 or -1 with err (ERRLEN). */
int group_parse_url(const char *s, struct group_url *u, char *err);
/* True when this sluice was built with hiredis (else --cap-group is refused, saying so). */
bool group_built_in(void);
/* How many bytes a worker asks for at once: GROUP_LEASE_MS of its share of rate among workers
 * (at least GROUP_LEASE_MIN, at most GROUP_DEPTH_MS of the whole rate), so Redis sees about
 * 1000 / GROUP_LEASE_MS calls per second per busy worker whatever the cap. 0 when rate is 0. */
int64_t group_lease_bytes(int64_t rate, int workers);
/* The cap a worker keeps on its own while Redis cannot be reached: the group's cap over the
 * workers last seen (at least 1), never 0 (uncapped) when the group has a cap. */
int64_t group_fallback_rate(int64_t rate, int workers);
/* How many request tokens of a host (rps requests per second for the whole group) a worker
 * leases at once: GROUP_LEASE_MS of its share, rounded up, at least 1 and at most the host's
 * burst (docs/scale.md#requests-per-second-shared). 0 when rps is 0. */
int group_rps_lease(int rps, int workers);
/* How long the group's thread waits before it asks again for a host Redis gave `short_by`
 * requests less than it asked: about the time this worker's share (rps over workers) takes to
 * earn them, 5..GROUP_LEASE_MS ms, as for bytes. Asking at once would be a busy loop of empty
 * grants while the others hold the host's tokens. */
int64_t group_rps_pause_ms(int rps, int workers, int64_t short_by);
/* How long the group's thread waits after a lease call that asked for `want` bytes and got
 * `got`, the group's cap being rate over `workers` drawing. Short (the shared bucket had less:
 * the others took it): about as long as this worker's share takes to earn the rest,
 * 5..GROUP_LEASE_MS ms, so that an empty bucket is not a busy loop of small grants. Full:
 * GROUP_PACE_MIN_MS only, since the engine asks again only once it has spent down to less than
 * one lease: the calls follow what the worker actually uses, not its assumed share (a share paced
 * for the wrong count of workers left the cap unused: docs/scale.md#the-shared-cap). */
int64_t group_lease_pause_ms(int64_t rate, int workers, int64_t want, int64_t got);
/* The count of workers to share the cap by (leases, receive windows, the local cap), from Redis's
 * count of workers drawing (`counted`, >= 1). At the start the others are starting too and have
 * not asked yet: Redis counts 1, 2, ... while the first transfers open, and windows sized for the
 * whole cap let the kernels take in far more than it. So not below `guess` (the N of --shard K/N)
 * until Redis has counted that many once or GROUP_WORKER_TTL_MS has passed since `started_ms`
 * (then *settled, and Redis's count stands: a worker that stops gives its share back). */
int group_count(int counted, int guess, int64_t started_ms, int64_t now_ms, bool *settled);

#endif
