/* The cap's policy (include/cap.h). Why windows and not socket buffers, and why these numbers:
 * docs/design.md, "The cap". */
#include "cap.h"
#include "bucket.h"

#include <stddef.h>

/* The window covers one round trip of the share, what TCP needs to carry the share at all, plus
 * TURN_MS of it: what waits in the kernel for its turn under the bucket (a few refill ticks),
 * and all of the window on loopback. What the window holds beyond the round trip is what the
 * kernel takes in ahead of the cap when the transfer starts or the cap drops, so it is kept to
 * that: two round trips measured 1.34x the cap in the worst second at 100 ms, one 1.15x
 * (docs/design.md, "The cap"). */
#define TURN_MS 50
/* Below this TCP's segments shrink and the overhead grows; above it the kernel's own limit on a
 * socket's buffer (tcp_rmem) is the bound anyway. */
#define WINDOW_MIN ((int64_t)8 * 1024)
#define WINDOW_MAX ((int64_t)64 * 1024 * 1024)
/* A measured round trip above this is a stalled path, not a long one: don't open the window
 * wider than it would be at 2 s. */
#define RTT_MAX_US ((int64_t)2 * 1000 * 1000)

int64_t cap_share(int64_t rate, int running, int64_t host_rate, int host_running)
{
    int64_t share = rate > 0 ? rate / (running > 0 ? running : 1) : 0;

    if (host_rate > 0) {
        int64_t hs = host_rate / (host_running > 0 ? host_running : 1);

        if (share == 0 || hs < share)
            share = hs;
    }
    return share > 0 || (rate <= 0 && host_rate <= 0) ? share : 1;
}

int cap_ways(int running, int receiving)
{
    int ways;

    if (receiving > running)
        receiving = running;
    if (receiving < 0)
        receiving = 0;
    ways = (running + receiving + 1) / 2;
    return ways > 0 ? ways : 1;
}

int cap_tilt_slope(int64_t rtt_us)
{
    if (rtt_us <= 0)
        return 0;
    if (rtt_us > RTT_MAX_US)
        rtt_us = RTT_MAX_US;
    return (int)(CAP_TILT_PM * rtt_us / (rtt_us + TURN_MS * 1000));
}

int64_t cap_tilt(int64_t share, int older, int same, int running, int tilt_pm)
{
    int64_t num;

    if (share <= 0 || running <= 1 || same < 1 || older < 0 || older + same > running)
        return share;
    if (tilt_pm < 0)
        tilt_pm = 0;
    if (tilt_pm > 1000)
        tilt_pm = 1000;
    /* Linear in the rank, ties at their mean rank: weight 1 + tilt (n - 2 older - same) / (n + 1),
     * which sums to n over the n transfers. In thousandths: the share is below 2^40 for any real
     * cap (rate / 1), so share x 2000 x (n + 1) stays far inside int64_t for n < 2^20. */
    num = (int64_t)(running + 1) * 1000 + (int64_t)tilt_pm * (running - 2 * older - same);
    if (share > ((int64_t)1 << 40) || running > (1 << 20))
        return share;
    share = share * num / ((int64_t)(running + 1) * 1000);
    return share > 0 ? share : 1;
}

int64_t cap_window(int64_t share, int64_t rtt_us)
{
    int64_t us, w;

    if (share <= 0)
        return 0;
    if (rtt_us < 0)
        rtt_us = 0;
    if (rtt_us > RTT_MAX_US)
        rtt_us = RTT_MAX_US;
    us = rtt_us + TURN_MS * 1000;
    /* us < 2^22 and a share above 2^40 B/s is far past any link: the product cannot overflow. */
    if (share > ((int64_t)1 << 40))
        return WINDOW_MAX;
    w = share * us / 1000000;
    if (w < WINDOW_MIN)
        w = WINDOW_MIN;
    if (w > WINDOW_MAX)
        w = WINDOW_MAX;
    return w;
}

int64_t cap_room(int64_t left, int64_t rtt_us)
{
    int64_t us;

    if (left < 0)
        return -1;
    if (rtt_us < 0)
        rtt_us = 0;
    if (rtt_us > RTT_MAX_US)
        rtt_us = RTT_MAX_US;
    us = rtt_us + TURN_MS * 1000;
    /* left below 2^43 (8 TiB) keeps left x 10^6 inside int64_t; a file that large has room. */
    if (left > ((int64_t)1 << 43))
        return -1;
    left = left * 1000000 / us;
    return left > 0 ? left : 1;      /* a share of 0 would mean no cap at all */
}

void cap_spread(int n, int64_t *share, const int64_t *room)
{
    /* Each pass fixes at least one more share at its room or ends: at most n passes. */
    for (int pass = 0; pass < n; pass++) {
        int64_t freed = 0, open = 0;

        for (int i = 0; i < n; i++) {
            if (room[i] >= 0 && share[i] > room[i]) {
                freed += share[i] - room[i];
                share[i] = room[i];
            }
        }
        if (freed == 0)
            return;
        for (int i = 0; i < n; i++)
            if (room[i] < 0 || share[i] < room[i])
                open += share[i] > 0 ? share[i] : 1;
        if (open == 0)
            return;
        for (int i = 0; i < n; i++) {
            if (room[i] < 0 || share[i] < room[i]) {
                int64_t w = share[i] > 0 ? share[i] : 1;

                /* freed and w are shares (below 2^40 each): split as freed / open x w in
                 * two steps so the product cannot overflow. */
                share[i] += freed / open * w + freed % open * w / open;
            }
        }
    }
}

/* Ratios outside this range are not packets (a measurement taken while the queue changed). */
#define RATIO_MIN 250
#define RATIO_MAX 1000

int64_t cap_rcvbuf(int64_t window, int ratio_pm)
{
    if (window <= 0)
        return 0;
    if (ratio_pm <= 0)
        ratio_pm = RATIO_MAX;
    if (ratio_pm < RATIO_MIN)
        ratio_pm = RATIO_MIN;
    if (ratio_pm > RATIO_MAX)
        ratio_pm = RATIO_MAX;
    /* window <= 64 MiB (cap_window): the product stays far inside int64_t. */
    return (window * 1000 + 2 * ratio_pm - 1) / (2 * ratio_pm);
}

int cap_ratio(int64_t queued, int64_t rmem)
{
    int64_t r;

    if (queued < CAP_RATIO_MIN_BYTES || rmem <= 0)
        return 0;
    r = queued * 1000 / rmem;
    return r < RATIO_MIN ? RATIO_MIN : (r > RATIO_MAX ? RATIO_MAX : (int)r);
}

int cap_ratio_next(int seen, int64_t queued, int64_t rmem, int64_t window)
{
    int r = cap_ratio(queued, rmem);

    if (r == 0 || queued < window / 4)
        return seen;
    return r > seen ? r : seen;
}

int64_t cap_drain_clamp(int64_t window, int64_t queued)
{
    int64_t c = window - (queued > 0 ? queued : 0);

    return c > window / 2 ? c : window / 2;
}

bool cap_drain_done(int64_t window, int64_t queued, int64_t clamp)
{
    return queued + clamp <= window;
}

bool cap_window_stale(int64_t in_force, int64_t wanted)
{
    int64_t d = in_force > wanted ? in_force - wanted : wanted - in_force;

    if (in_force <= 0 || wanted <= 0)
        return in_force != wanted;
    return d > in_force / 8;
}

bool cap_may_receive(struct bucket *g, struct bucket *h, int64_t now_ms)
{
    if (g != NULL) {
        bucket_refill(g, now_ms);
        if (!bucket_has_credit(g))
            return false;
    }
    if (h != NULL) {
        bucket_refill(h, now_ms);
        if (!bucket_has_credit(h))
            return false;
    }
    return true;
}

void cap_charge(struct bucket *g, struct bucket *h, int64_t n, int64_t now_ms)
{
    if (g != NULL) {
        bucket_refill(g, now_ms);
        bucket_take(g, n);
    }
    if (h != NULL) {
        bucket_refill(h, now_ms);
        bucket_take(h, n);
    }
}

void cap_unwanted_credit(struct bucket *g, int64_t now_ms)
{
    int64_t keep;

    if (g == NULL || g->rate <= 0)
        return;
    bucket_refill(g, now_ms);
    keep = g->rate * CAP_IDLE_CREDIT_MS / 1000;
    if (keep < 16 * 1024)
        keep = 16 * 1024;
    if (g->tokens > keep) {
        g->tokens = keep;
        g->frac = 0;
    }
}

int64_t cap_refill_wait_ms(const struct bucket *g)
{
    int64_t w;

    if (g == NULL)
        return CAP_REFILL_MAX_MS;
    w = bucket_wait_ms(g, 1);
    return w < 1 ? 1 : (w > CAP_REFILL_MAX_MS ? CAP_REFILL_MAX_MS : w);
}
