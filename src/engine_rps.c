/* --per-host-rps and the holds a cap group shares (docs/design.md#requests-per-second-per-host,
 * docs/scale.md#requests-per-second-shared): admission asks the host table (hosts.c) for a
 * request token and the hold; an item that has none waits while other hosts' items start; a
 * timer wakes the loop when the first wait ends. With a cap group, request tokens come from
 * leases the group's thread takes with its usual call, and a 429/503 hold is published there
 * and learned from there. */
#include "engine.h"
#include "engine_impl.h"
#include "group_redis.h"
#include "hosts.h"
#include "loop.h"
#include "opts.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* While a host waits for leased request tokens, the loop looks for them this often. */
#define LEASE_POLL_MS 10
#define SWEEP_PER_TICK 256

static void on_rps(void *arg)
{
    struct engine *e = arg;

    engine_rps_group_sync(e);
    engine_kick(e);
}

void engine_rps_init(struct engine *e)
{
    e->rps_timer = loop_timer_new(e->loop, on_rps, e);
    e->rps_wake = -1;
    e->rps_div = 1;
    e->rps_holds = xcalloc(GROUP_HOLDS_MAX, sizeof *e->rps_holds);
}

void engine_rps_free(struct engine *e)
{
    loop_timer_free(e->rps_timer);
    e->rps_timer = NULL;
    free(e->rps_holds);
    e->rps_holds = NULL;
}

bool engine_rps_admit(struct engine *e, const char *name)
{
    int64_t now = mono_ms();
    bool lease = false;
    int base;

    /* Leased tokens: a host not in the table yet starts with none, so it is made here, where
     * its first want is sent. Without a group an unknown host starts full: no entry needed. */
    if (hosts_rps_fed(e->hosts) && hosts_find(e->hosts, name) == NULL &&
        hosts_rps_base(e->s, name) > 0)
        hosts_get(e->hosts, e->s, name, now);
    if (hosts_admit(e->hosts, e->s, name, now, &e->rps_wake, &lease))
        return true;
    if (lease && e->group != NULL && (base = hosts_rps_base(e->s, name)) > 0) {
        group_redis_want_host(e->group, name, base, group_rps_lease(base, e->group_workers));
        e->rps_lease_wait = true;
    }
    return false;
}

void engine_rps_begin(struct engine *e)
{
    e->rps_wake = -1;
    e->rps_lease_wait = false;
}

void engine_rps_end(struct engine *e)
{
    int64_t ms = e->rps_wake;

    if (e->rps_lease_wait && (ms < 0 || ms > LEASE_POLL_MS))
        ms = LEASE_POLL_MS;
    if (ms < 0)
        return;
    /* At least a millisecond: a token due "now" is due at the next turn, not in a busy loop. */
    loop_timer_arm(e->rps_timer, ms < 1 ? 1 : ms);
}

void engine_rps_slowed(struct engine *e, const char *host, struct host *h, int64_t hold_ms,
                       int status)
{
    if (e->group == NULL || hold_ms <= 0 || host == NULL)
        return;
    /* In a group a hold is the host's word to all of us: no request from any worker, this one
     * included, before it ends (docs/scale.md#holds-seen-by-every-worker). */
    hosts_hold(h, mono_ms() + hold_ms, status);
    group_redis_hold(e->group, host, hold_ms, status);
}

void engine_rps_group_sync(struct engine *e)
{
    struct group_grant gr[GROUP_HOSTS_MAX];
    struct group_hold *hl;
    size_t n;
    int64_t now;
    bool fed;

    if (e->group == NULL)
        return;
    now = mono_ms();
    /* Tokens only from leases, from the start (before Redis first answers too: a bucket of our
     * own would add its burst to the group's); once Redis is known to be away, each worker on
     * its own clock at the host's rate over the workers last seen. */
    fed = !e->group_said_down;
    if (fed != hosts_rps_fed(e->hosts) || (!fed && e->rps_div != e->group_workers)) {
        e->rps_div = e->group_workers;
        hosts_rps_mode(e->hosts, e->s, fed, fed ? 1 : e->group_workers, now);
    }
    n = group_redis_take_grants(e->group, gr, GROUP_HOSTS_MAX);
    for (size_t i = 0; i < n; i++) {
        struct host *h = hosts_get(e->hosts, e->s, gr[i].host, now);

        if (hosts_rps_fed(e->hosts))
            rps_credit(&h->rps, gr[i].n);
    }
    hl = e->rps_holds;
    n = group_redis_take_holds(e->group, hl, GROUP_HOLDS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (hl[i].until_ms > now) {
            struct host *h = hosts_get(e->hosts, e->s, hl[i].host, now);

            hosts_hold(h, hl[i].until_ms, hl[i].status);
        }
    }
}

void engine_rps_group_start(struct engine *e)
{
    hosts_rps_mode(e->hosts, e->s, true, 1, mono_ms());
}

void engine_rps_tick(struct engine *e)
{
    engine_rps_group_sync(e);
    hosts_sweep(e->hosts, mono_ms(), SWEEP_PER_TICK);
}
