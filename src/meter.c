/* A ring of 100 ms slots: advancing the clock zeroes the slots it skips, so a quiet period
 * reads as zero instead of as the last busy slot. */
#include "meter.h"

#include <string.h>

static void advance(struct meter *m, int64_t now_ms)
{
    int64_t slot = now_ms / METER_SLOT_MS;

    if (slot <= m->slot)
        return;
    if (slot - m->slot >= METER_SLOTS) {
        memset(m->bytes, 0, sizeof m->bytes);
    } else {
        for (int64_t s = m->slot + 1; s <= slot; s++)
            m->bytes[s % METER_SLOTS] = 0;
    }
    m->slot = slot;
}

void meter_init(struct meter *m, int64_t now_ms)
{
    memset(m, 0, sizeof *m);
    m->slot = now_ms / METER_SLOT_MS;
}

void meter_add(struct meter *m, int64_t bytes, int64_t now_ms)
{
    advance(m, now_ms);
    m->bytes[m->slot % METER_SLOTS] += bytes;
    m->total += bytes;
}

int64_t meter_rate(struct meter *m, int64_t now_ms, int64_t window_ms)
{
    int64_t nslots, sum = 0, span_ms;

    advance(m, now_ms);
    nslots = window_ms / METER_SLOT_MS;
    if (nslots < 1)
        nslots = 1;
    if (nslots > METER_SLOTS - 1)
        nslots = METER_SLOTS - 1;
    /* The current slot is partial: count it with its elapsed part, so the rate neither dips at
     * each slot boundary nor lags a full slot. */
    for (int64_t i = 0; i < nslots; i++)
        sum += m->bytes[(m->slot - i + METER_SLOTS) % METER_SLOTS];
    span_ms = (nslots - 1) * METER_SLOT_MS + (now_ms % METER_SLOT_MS) + 1;
    return sum * 1000 / span_ms;
}

void meter_series(struct meter *m, int64_t now_ms, int64_t *out, int n)
{
    advance(m, now_ms);
    /* 59, not 60: the slot 60 s back shares the ring cell of the current one. */
    if (n > 59)
        n = 59;
    /* Whole seconds end at the last whole slot before the current one. */
    for (int i = 0; i < n; i++) {
        int64_t sum = 0;
        int64_t end = m->slot - 1 - (int64_t)(n - 1 - i) * 10;

        for (int k = 0; k < 10; k++)
            sum += m->bytes[((end - k) % METER_SLOTS + METER_SLOTS) % METER_SLOTS];
        out[i] = sum;
    }
}

int64_t meter_eta(struct meter *m, int64_t now_ms, struct meter_eta *e)
{
    int64_t window = e->active_ms < 60000 ? e->active_ms : 60000;

    e->mean = e->finished > 0 ? e->finished_bytes / e->finished : -1;
    e->rate = window >= METER_SLOT_MS ? meter_rate(m, now_ms, window) : 0;
    e->capped = e->cap > 0 && e->rate > 0 && e->cap < e->rate;
    if (e->capped)
        e->rate = e->cap;
    if (e->unknown_items > 0 && e->mean < 0)
        e->bytes_left = -1;      /* nothing finished yet to take a mean from */
    else
        e->bytes_left = (e->known_left > 0 ? e->known_left : 0) +
                        (e->unknown_items > 0 ? e->unknown_items * e->mean : 0);
    if (e->bytes_left == 0)
        e->eta_ms = 0;
    else if (e->bytes_left < 0 || e->rate <= 0)
        e->eta_ms = -1;
    else if (e->bytes_left > INT64_MAX / 1000)
        e->eta_ms = e->bytes_left / e->rate * 1000;
    else
        e->eta_ms = e->bytes_left * 1000 / e->rate;
    return e->eta_ms;
}
