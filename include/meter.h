#ifndef SLUICE_METER_H
#define SLUICE_METER_H
/* Received-bytes meter: 100 ms slots over the last 60 s, for the rate shown, the ETA and the
 * sparkline. Pure: the clock is an argument. */
#include <stdint.h>

#define METER_SLOT_MS 100
#define METER_SLOTS 600

struct meter {
    int64_t slot;                /* index (now / METER_SLOT_MS) of the newest slot */
    int64_t bytes[METER_SLOTS];  /* ring */
    int64_t total;
};

void meter_init(struct meter *m, int64_t now_ms);
void meter_add(struct meter *m, int64_t bytes, int64_t now_ms);
/* Mean bytes/s over the last window_ms (whole slots, the current partial one included). */
int64_t meter_rate(struct meter *m, int64_t now_ms, int64_t window_ms);
/* Bytes/s of each of the last n whole seconds, oldest first (n <= 59). */
void meter_series(struct meter *m, int64_t now_ms, int64_t *out, int n);

/* The run's ETA (docs/design.md#headless-mode-and-the-log): the bytes
 * still to come are the sizes known (Content-Length of started items, less what is on disk) plus
 * the mean size of the finished items times the items left whose size is unknown; the rate is that
 * of the last minute (of the active time, when the run is younger) or the cap, whichever is lower.
 * Pure: the meter, the clock and the numbers are arguments. */
struct meter_eta {
    int64_t known_left;          /* in: bytes left of items whose size is known */
    int64_t unknown_items;       /* in: items left whose size is not known */
    int64_t finished;            /* in: items finished this run (their sizes give the mean) */
    int64_t finished_bytes;      /* in: the sum of their sizes */
    int64_t active_ms;           /* in: how long the run has been active */
    int64_t cap;                 /* in: bytes/s, 0 = none */
    int64_t mean;                /* out: mean size of a finished item, -1 when none finished */
    int64_t bytes_left;          /* out: -1 when unknown */
    int64_t rate;                /* out: bytes/s used */
    int capped;                  /* out: 1 when the cap is the lower one */
    int64_t eta_ms;              /* out: -1 when unknown, 0 when nothing is left */
};
/* Fills the out fields of e from the meter at now_ms; returns e->eta_ms. */
int64_t meter_eta(struct meter *m, int64_t now_ms, struct meter_eta *e);

#endif
