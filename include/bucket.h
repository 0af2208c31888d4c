#ifndef SLUICE_BUCKET_H
#define SLUICE_BUCKET_H
/* Token bucket for the global (and per-host) byte budget. Pure: the clock is an argument.
 * The balance may go negative (debt): libcurl hands over whole chunks, and a paused transfer's
 * chunk is delivered again in full on unpause, so bytes are charged after the fact. */
#include <stdint.h>
#include <stdbool.h>

struct bucket {
    int64_t rate;        /* bytes per second; 0 = unlimited */
    int64_t depth;       /* most tokens it can hold */
    int64_t tokens;      /* may be negative */
    int64_t last_ms;     /* time of the last refill */
    int64_t frac;        /* sub-byte remainder carried between refills (units: bytes*1000) */
    bool fed;            /* tokens come from bucket_credit only, not from the clock: a cap shared
                          * by several workers leases them (docs/scale.md#the-shared-cap) */
};

/* Default depth for a rate: rate/8 (125 ms of it), at least 64 KiB. A deeper bucket turns idle
 * time on a long path (a round trip between two files) into bursts on the wire. */
int64_t bucket_default_depth(int64_t rate);
/* depth 0 = default for the rate. Starts full, not fed. */
void bucket_init(struct bucket *b, int64_t rate, int64_t depth, int64_t now_ms);
/* Changes rate/depth at once; keeps the current balance, clipped to the new depth. */
void bucket_set(struct bucket *b, int64_t rate, int64_t depth, int64_t now_ms);
/* Adds rate * elapsed, up to depth. A clock that goes backwards adds nothing. */
void bucket_refill(struct bucket *b, int64_t now_ms);
/* A fed bucket (fed = true) is not refilled by the clock: bucket_refill only moves last_ms, and
 * tokens arrive with bucket_credit (n > 0 bytes leased from elsewhere; not clipped to the depth,
 * since they were already taken from the shared budget: dropping them would lose them). */
void bucket_credit(struct bucket *b, int64_t n);
/* Charges n bytes (after bucket_refill); an unlimited bucket ignores it. */
void bucket_take(struct bucket *b, int64_t n);
/* True when unlimited or the balance is positive. */
bool bucket_has_credit(const struct bucket *b);
/* Milliseconds from now until the balance reaches `need` bytes (>= 1 while it is short, 0 when
 * there already, 0 when unlimited). `need` is clipped to depth. */
int64_t bucket_wait_ms(const struct bucket *b, int64_t need);

#endif
