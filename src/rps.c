/* Requests per second per host: a token bucket counted in thousandths of a request
 * (docs/design.md#requests-per-second-per-host). */
#include "rps.h"

int rps_burst(int rate)
{
    return rate / 10 > 1 ? rate / 10 : 1;
}

static int64_t depth(const struct rps *r)
{
    return (int64_t)rps_burst(r->rate) * 1000;
}

void rps_init(struct rps *r, int rate, int64_t now)
{
    r->rate = rate < 0 ? 0 : rate > RPS_MAX ? RPS_MAX : rate;
    r->fed = false;
    r->last_ms = now;
    r->milli = depth(r);
}

static void refill(struct rps *r, int64_t now)
{
    int64_t d = now - r->last_ms;

    if (d <= 0)
        return;          /* a clock that goes backwards adds nothing */
    r->last_ms = now;
    if (r->fed || r->rate == 0)
        return;
    /* rate <= 10^6 and a day of d keeps this far from overflowing; more is clipped anyway. */
    if (d > 86400000)
        d = 86400000;
    r->milli += d * r->rate;
    if (r->milli > depth(r))
        r->milli = depth(r);
}

void rps_set(struct rps *r, int rate, bool fed, int64_t now)
{
    refill(r, now);
    r->rate = rate < 0 ? 0 : rate > RPS_MAX ? RPS_MAX : rate;
    if (fed && !r->fed && r->milli > 0)
        r->milli = 0;    /* from now on only leases count: what the clock banked is not the group's */
    r->fed = fed;
    if (!fed && r->milli > depth(r))
        r->milli = depth(r);
}

bool rps_ready(struct rps *r, int64_t now)
{
    if (r->rate == 0)
        return true;
    refill(r, now);
    return r->milli >= 1000;
}

void rps_take(struct rps *r, int64_t now)
{
    if (r->rate == 0)
        return;
    refill(r, now);
    r->milli -= 1000;
}

void rps_credit(struct rps *r, int64_t n)
{
    if (n > 0)
        r->milli += n * 1000;
}

int64_t rps_tokens(struct rps *r, int64_t now)
{
    refill(r, now);
    return r->milli >= 0 ? r->milli / 1000 : -((-r->milli + 999) / 1000);
}

int64_t rps_wait_ms(struct rps *r, int64_t now)
{
    int64_t need;

    if (r->rate == 0)
        return 0;
    refill(r, now);
    if (r->milli >= 1000)
        return 0;
    if (r->fed)
        return -1;
    need = 1000 - r->milli;
    return (need + r->rate - 1) / r->rate;
}

bool rps_full(struct rps *r, int64_t now)
{
    if (r->rate == 0)
        return true;
    refill(r, now);
    /* A fed bucket starts empty: one without a whole token is what a new one would be (a part
     * of a token left is the group's, and dropping it only ever asks less of the host). */
    return r->fed ? r->milli < 1000 : r->milli >= depth(r);
}
