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

#endif
