/* Token bucket with debt (see include/bucket.h and docs/design.md#the-cap).
 *
 * Arithmetic is kept exact and overflow-free rather than fast: the refill is split into whole
 * seconds (bounded by how much room the bucket has) and a millisecond part (bounded by 999 * rate),
 * and the sub-byte remainder is carried in `frac` so that many short refills add up to exactly
 * rate * elapsed. Rates, depths and debt are clamped to ranges in which no product can overflow. */
#include "bucket.h"

/* 2^52 bytes (4 PiB): far above any real rate, depth or debt, and small enough that
 * (depth - tokens) * 1000 still fits in an int64_t. */
#define BUCKET_LIMIT  ((int64_t)1 << 52)
/* rate * 999 + 999 must fit: about 8 TiB/s, 80 times the fastest link we care about. */
#define BUCKET_RATE_MAX ((INT64_MAX - 1000) / 1000 / 1000)
#define BUCKET_MIN_DEPTH ((int64_t)64 * 1024)

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int64_t bucket_default_depth(int64_t rate)
{
    int64_t d = rate > 0 ? rate / 8 : 0;

    if (d < BUCKET_MIN_DEPTH)
        d = BUCKET_MIN_DEPTH;
    return d > BUCKET_LIMIT ? BUCKET_LIMIT : d;
}

/* A negative rate is nonsense from a caller; treating it as "no cap" is the harmless reading. */
static void set_params(struct bucket *b, int64_t rate, int64_t depth)
{
    b->rate = clamp64(rate, 0, BUCKET_RATE_MAX);
    b->depth = depth > 0 ? clamp64(depth, 1, BUCKET_LIMIT) : bucket_default_depth(b->rate);
}

void bucket_init(struct bucket *b, int64_t rate, int64_t depth, int64_t now_ms)
{
    set_params(b, rate, depth);
    b->tokens = b->depth;
    b->last_ms = now_ms;
    b->frac = 0;
    b->fed = false;
}

void bucket_set(struct bucket *b, int64_t rate, int64_t depth, int64_t now_ms)
{
    /* Time already elapsed was earned at the old rate. */
    bucket_refill(b, now_ms);
    set_params(b, rate, depth);
    if (b->tokens >= b->depth) {
        b->tokens = b->depth;
        b->frac = 0;
    }
}

void bucket_refill(struct bucket *b, int64_t now_ms)
{
    uint64_t gap;
    int64_t elapsed, room, secs, ms, part;

    /* A clock that goes backwards (a stale "now") adds nothing and does not move last_ms: moving
     * it back would credit the same milliseconds twice when time catches up again. */
    if (now_ms <= b->last_ms)
        return;
    gap = (uint64_t)now_ms - (uint64_t)b->last_ms;
    elapsed = gap > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)gap;
    b->last_ms = now_ms;
    if (b->fed) {
        b->frac = 0;
        return;
    }

    if (b->rate == 0) {
        b->tokens = b->depth;
        b->frac = 0;
        return;
    }
    room = b->depth - b->tokens;
    if (room <= 0) {
        b->frac = 0;
        return;
    }
    secs = elapsed / 1000;
    ms = elapsed % 1000;
    /* rate * secs > room already when secs exceeds room / rate: the bucket is full, and the
     * product is never formed, so gaps of any length are safe. */
    if (secs > room / b->rate) {
        b->tokens = b->depth;
        b->frac = 0;
        return;
    }
    part = b->rate * ms + b->frac;
    b->tokens += b->rate * secs + part / 1000;
    b->frac = part % 1000;
    if (b->tokens >= b->depth) {
        b->tokens = b->depth;
        b->frac = 0;
    }
}

void bucket_credit(struct bucket *b, int64_t n)
{
    if (n <= 0)
        return;
    b->tokens = n > BUCKET_LIMIT - b->tokens ? BUCKET_LIMIT : b->tokens + n;
}

void bucket_take(struct bucket *b, int64_t n)
{
    if (b->rate == 0 || n <= 0)
        return;
    /* Debt is bounded so that later arithmetic cannot overflow; a debt this large already means
     * "wait for ages", so saturating changes nothing in practice. */
    if (n > b->tokens + BUCKET_LIMIT)
        b->tokens = -BUCKET_LIMIT;
    else
        b->tokens -= n;
}

bool bucket_has_credit(const struct bucket *b)
{
    return b->rate == 0 || b->tokens > 0;
}

int64_t bucket_wait_ms(const struct bucket *b, int64_t need)
{
    int64_t short_by, millibytes;

    if (b->rate == 0)
        return 0;
    need = clamp64(need, 0, b->depth);
    if (b->tokens >= need)
        return 0;
    short_by = need - b->tokens;                 /* <= 2^53 */
    millibytes = short_by * 1000 - b->frac;      /* > 0, since frac < 1000 */
    return (millibytes + b->rate - 1) / b->rate; /* rounded up: the refill then reaches need */
}
