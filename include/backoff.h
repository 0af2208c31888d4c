#ifndef SLUICE_BACKOFF_H
#define SLUICE_BACKOFF_H
/* Retry waits: full-jitter exponential backoff and Retry-After
 * (docs/design.md#retries-and-backoff). Pure. */
#include <stdint.h>

#define BACKOFF_RETRY_AFTER_MAX_MS (6LL * 3600 * 1000)   /* a Retry-After beyond this is clamped */

/* xorshift64* step; *state must be non-zero (seed it from time and pid). */
uint64_t backoff_rand(uint64_t *state);

/* The same from one random number r (backoff_rand): pure, for tables of cases. */
int64_t backoff_jitter_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t r);

/* wait = random(0, min(max, min * 2^attempt)), attempt counted from 0 for the first retry;
 * saturates instead of overflowing for large attempts. */
int64_t backoff_delay_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t *rng);

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date (IMF-fixdate, RFC 850 and asctime
 * forms), relative to now_wall_ms. Returns 0 and the delay in ms clamped to
 * [0, BACKOFF_RETRY_AFTER_MAX_MS] (a date in the past gives 0), or -1 when it is not a valid value. */
int backoff_parse_retry_after(const char *value, int64_t now_wall_ms, int64_t *delay_ms);

/* Parses an HTTP-date (the same three forms) into seconds since the epoch, now_wall_ms placing
 * RFC 850's two-digit years. 0, or -1 when it is not one. */
int backoff_http_date(const char *value, int64_t now_wall_ms, int64_t *epoch_s);

/* The wait before the next try: the jittered backoff, or the Retry-After when that is longer.
 * retry_after_ms < 0 means none. */
int64_t backoff_wait_ms(int attempt, int64_t min_ms, int64_t max_ms, int64_t retry_after_ms,
                        uint64_t r);
int64_t backoff_next_ms(int attempt, int64_t min_ms, int64_t max_ms, int64_t retry_after_ms,
                        uint64_t *rng);

#endif
