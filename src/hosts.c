/* Per-host limits: own connection limits, AIMD after 429/503, per-host caps, requests per second
 * (docs/design.md#requests-per-second-per-host) and a cap group's holds. Only hosts with something
 * in force are kept (hosts_release, hosts_sweep): the table is as big as the hosts in use. */
#include "hosts.h"
#include "hmap.h"
#include "opts.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hosts {
    struct hmap *map;
    struct host **v;             /* every host, for hosts_free; host->idx is its place */
    size_t n, cap;
    size_t sweep;                /* where hosts_sweep goes on */
    bool rps_fed;                /* request tokens come from a cap group's leases */
    int rps_div;                 /* else the base rate over this (>= 1) */
};

struct hosts *hosts_new(void)
{
    struct hosts *hs = xcalloc(1, sizeof *hs);

    hs->map = hmap_new();
    hs->rps_div = 1;
    return hs;
}

void hosts_free(struct hosts *hs)
{
    if (hs == NULL)
        return;
    for (size_t i = 0; i < hs->n; i++) {
        free(hs->v[i]->name);
        free(hs->v[i]);
    }
    free(hs->v);
    hmap_free(hs->map);
    free(hs);
}

/* A rule names a host ("img.example.com") or a host and port ("127.0.0.1:8080"); the key of an
 * item is "host" or "host:port". An exact match wins over a match on the host alone. */
static const struct host_rule *host_rule(const struct settings *s, const char *key)
{
    const struct host_rule *loose = NULL;

    for (size_t i = 0; i < s->nhosts; i++) {
        const char *h = s->hosts[i].host;
        size_t n = strlen(h);

        if (strcmp(h, key) == 0)
            return &s->hosts[i];
        if (loose == NULL && strncmp(h, key, n) == 0 && key[n] == ':' && strchr(key + n + 1, ':') == NULL)
            loose = &s->hosts[i];
    }
    return loose;
}

int hosts_rps_base(const struct settings *s, const char *name)
{
    const struct host_rule *r = host_rule(s, name);

    return r != NULL && r->rps >= 0 ? r->rps : s->per_host_rps;
}

/* The rate of a host's request bucket as the mode has it: the base, or its part while a cap
 * group's Redis is away (at least 1: never unlimited by the division). */
static int rps_rate(const struct hosts *hs, int base)
{
    if (base <= 0 || hs->rps_fed || hs->rps_div <= 1)
        return base;
    return base / hs->rps_div > 0 ? base / hs->rps_div : 1;
}

struct host *hosts_get(struct hosts *hs, const struct settings *s, const char *name, int64_t now)
{
    struct host *h = hmap_get(hs->map, name);
    const struct host_rule *r;
    int base;

    if (h != NULL)
        return h;
    h = xcalloc(1, sizeof *h);
    h->name = xstrdup(name);
    r = host_rule(s, name);
    if (r != NULL && r->rate > 0) {
        h->capped = true;
        bucket_init(&h->bucket, r->rate, 0, now);
        bucket_take(&h->bucket, h->bucket.tokens);   /* start empty: no burst at start */
    }
    base = hosts_rps_base(s, name);
    rps_init(&h->rps, rps_rate(hs, base), now);
    if (base > 0 && hs->rps_fed)
        rps_set(&h->rps, base, true, now);           /* empty: tokens come with leases */
    hmap_put(hs->map, name, h);
    if (hs->n == hs->cap) {
        hs->cap = hs->cap ? hs->cap * 2 : 16;
        hs->v = xrealloc(hs->v, hs->cap * sizeof *hs->v);
    }
    h->idx = hs->n;
    hs->v[hs->n++] = h;
    return h;
}

/* A host is worth keeping while something of it is in force: transfers on the wire, a limit
 * lowered after a 429/503 (it grows back one success at a time, docs/design.md#the-engine), or a
 * cap's bucket (its debt must be repaid). Anything else is what a new entry would be. */
static bool in_force(struct host *h, int64_t now)
{
    return h->active > 0 || h->limit > 0 || h->capped || h->gate_until > now ||
           !rps_full(&h->rps, now);
}

static void forget(struct hosts *hs, struct host *h)
{
    hmap_del(hs->map, h->name);
    hs->v[h->idx] = hs->v[--hs->n];
    hs->v[h->idx]->idx = h->idx;
    free(h->name);
    free(h);
    /* The vector shrinks with the table, so a million hosts gone cost nothing. */
    if (hs->cap > 16 && hs->n * 4 < hs->cap) {
        hs->cap /= 2;
        hs->v = xrealloc(hs->v, hs->cap * sizeof *hs->v);
    }
}

void hosts_release(struct hosts *hs, const char *name, struct host *h, int64_t now)
{
    (void)name;
    if (!in_force(h, now))
        forget(hs, h);
}

/* A host kept for its request bucket or a hold is let go here once they no longer matter, a few
 * at a time (every tick): the table stays as big as the hosts in use, not as the list. */
size_t hosts_sweep(struct hosts *hs, int64_t now, size_t max)
{
    size_t gone = 0;

    if (hs->sweep >= hs->n)
        hs->sweep = 0;
    for (size_t k = 0; k < max && hs->sweep < hs->n; k++) {
        struct host *h = hs->v[hs->sweep];

        if (in_force(h, now)) {
            hs->sweep++;
        } else {
            forget(hs, h);       /* the last one takes its place: looked at next */
            gone++;
        }
    }
    return gone;
}

void hosts_rps_mode(struct hosts *hs, const struct settings *s, bool fed, int div, int64_t now)
{
    hs->rps_fed = fed;
    hs->rps_div = div < 1 ? 1 : div;
    for (size_t i = 0; i < hs->n; i++) {
        struct host *h = hs->v[i];
        int base = hosts_rps_base(s, h->name);

        if (base > 0)
            rps_set(&h->rps, rps_rate(hs, base), fed, now);
    }
}

bool hosts_rps_fed(const struct hosts *hs)
{
    return hs->rps_fed;
}

void hosts_started(struct host *h, int64_t now)
{
    rps_take(&h->rps, now);
}

void hosts_hold(struct host *h, int64_t until, int status)
{
    if (until > h->gate_until) {
        h->gate_until = until;
        h->gate_status = status;
    }
}

size_t hosts_count(const struct hosts *hs)
{
    return hs->n;
}

/* The configured limit (0 = none); the AIMD limit only ever lowers it. */
static int host_base(const struct settings *s, const char *name)
{
    const struct host_rule *r = host_rule(s, name);

    return r != NULL && r->per_host > 0 ? r->per_host : s->per_host;
}

int hosts_effective(const struct settings *s, const char *name, const struct host *h)
{
    int base = host_base(s, name);

    if (h->limit > 0 && (base == 0 || h->limit < base))
        return h->limit;
    return base;
}

struct host *hosts_find(const struct hosts *hs, const char *name)
{
    return hmap_get(hs->map, name);
}

bool hosts_admit(struct hosts *hs, const struct settings *s, const char *name, int64_t now,
                 int64_t *wake, bool *rps_lease)
{
    struct host *h = hmap_get(hs->map, name);
    int limit;
    int64_t w;

    /* Unknown: nothing on the wire to it, no limit of its own lowered, its request bucket full.
     * Asking makes no entry, so the queue's look at a million hosts leaves no trace here. */
    if (h == NULL)
        return true;
    if (h->gate_until > now) {
        if (wake != NULL && (*wake < 0 || h->gate_until - now < *wake))
            *wake = h->gate_until - now;
        return false;
    }
    limit = hosts_effective(s, name, h);
    if (limit > 0 && h->active >= limit)
        return false;    /* a transfer's end makes room, and kicks */
    if (rps_ready(&h->rps, now))
        return true;
    w = rps_wait_ms(&h->rps, now);
    if (w < 0 && rps_lease != NULL)
        *rps_lease = true;
    else if (w > 0 && wake != NULL && (*wake < 0 || w < *wake))
        *wake = w;
    return false;
}

bool hosts_ok(struct hosts *hs, const struct settings *s, const char *name, int64_t now)
{
    return hosts_admit(hs, s, name, now, NULL, NULL);
}

/* 429/503: halve the host's limit once per hold period, hold it until Retry-After passes. */
bool hosts_slow_down(const struct settings *s, const char *name, struct host *h, int64_t hold_ms,
                     int64_t now, char *msg)
{
    int cur;

    if (h->limit > 0 && now < h->hold_until) {
        if (now + hold_ms > h->hold_until)
            h->hold_until = now + hold_ms;
        return false;
    }
    cur = hosts_effective(s, name, h);
    if (cur <= 0)
        cur = h->active > 0 ? h->active : 1;
    h->limit = cur / 2 > 0 ? cur / 2 : 1;
    h->hold_until = now + hold_ms;
    snprintf(msg, ERRLEN, "%s asked to slow down: at most %d connection%s for now", name,
             h->limit, h->limit == 1 ? "" : "s");
    return true;
}

void hosts_success(const struct settings *s, const char *name, struct host *h, int concurrency,
                   int64_t now)
{
    int base;

    if (h->limit <= 0 || now < h->hold_until)
        return;
    h->limit++;
    base = host_base(s, name);
    if ((base > 0 && h->limit >= base) || (base == 0 && h->limit >= concurrency))
        h->limit = 0;
}
