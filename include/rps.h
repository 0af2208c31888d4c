#ifndef SLUICE_RPS_H
#define SLUICE_RPS_H
/* --per-host-rps N (docs/design.md#requests-per-second-per-host): a token bucket of *requests*
 * for one host, N a second, holding at most rps_burst(N) of them. A request takes a whole token
 * when it starts; an item whose host has none waits. Tokens are kept in thousandths, so N = 1
 * refills smoothly. Pure: the clock (monotonic ms) is an argument.
 *
 * With --cap-group the bucket is *fed* (docs/scale.md#requests-per-second-shared): tokens arrive
 * only from leases the group's Redis grants (rps_credit), never from the clock. */
#include <stdbool.h>
#include <stdint.h>

#define RPS_MAX 1000000

struct rps {
    int rate;                    /* requests per second; 0 = no limit */
    int64_t milli;               /* tokens in thousandths of a request */
    int64_t last_ms;             /* time of the last refill */
    bool fed;                    /* refilled by rps_credit only (a cap group's leases) */
};

/* How many requests may go at once after a quiet spell: max(1, N / 10). In any second a host
 * sees at most N + rps_burst(N) requests started. */
int rps_burst(int rate);
/* Starts full (a host not seen for a while may take its burst at once). rate 0: no limit. */
void rps_init(struct rps *r, int rate, int64_t now);
/* A new rate (a fed bucket keeps its leased tokens); the balance is clipped to the new burst
 * when the clock feeds it. */
void rps_set(struct rps *r, int rate, bool fed, int64_t now);
/* True when a request may start now (refills first). Unlimited: always. */
bool rps_ready(struct rps *r, int64_t now);
/* Takes one request's token (after rps_ready said yes). */
void rps_take(struct rps *r, int64_t now);
/* Adds n leased requests (fed buckets). */
void rps_credit(struct rps *r, int64_t n);
/* Whole tokens in hand now. */
int64_t rps_tokens(struct rps *r, int64_t now);
/* Milliseconds until a request may start (0 when one may now; -1 when only a lease can bring
 * one: a fed bucket that is empty). */
int64_t rps_wait_ms(struct rps *r, int64_t now);
/* True when the bucket is as a new one would be (full; fed: without a whole token): forgetting
 * it changes nothing that matters. */
bool rps_full(struct rps *r, int64_t now);

#endif
