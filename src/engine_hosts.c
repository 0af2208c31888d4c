/* The engine's per-host view (issue 11: "a Hosts tab"): what each host did in this run, counted
 * from the engine's own events, joined with the live host table and the running transfers; and
 * the facts behind "why is this row at 0 B/s" (wait.h). A host gets an entry with its first
 * transfer, and at most HTAB_MAX hosts are followed: memory does not grow with a list of a
 * million hosts. */
#include "engine.h"
#include "engine_impl.h"
#include "hmap.h"
#include "hosts.h"
#include "queue.h"
#include "util.h"
#include "wait.h"
#include "xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTAB_MAX 4096

struct engine_hstat {
    char *name;
    long n429, n503, done, failed;
    int slow_status;             /* the last 429/503 */
};

struct engine_htab {
    struct hmap *map;
    struct engine_hstat **v;
    size_t n, cap;
};

static struct engine_hstat *hstat_get(struct engine *e, const char *name, bool make)
{
    struct engine_htab *t = e->htab;
    struct engine_hstat *h;

    if (t == NULL) {
        if (!make)
            return NULL;
        t = e->htab = xcalloc(1, sizeof *t);
        t->map = hmap_new();
    }
    if ((h = hmap_get(t->map, name)) != NULL || !make || t->n >= HTAB_MAX)
        return h;
    h = xcalloc(1, sizeof *h);
    h->name = xstrdup(name);
    hmap_put(t->map, name, h);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = h;
    return h;
}

void engine_hosts_event(struct engine *e, const struct engine_event *ev)
{
    const struct item *it = ev->item;
    bool slow, trouble;
    struct engine_hstat *h;

    if (it == NULL || it->host == NULL)
        return;
    slow = (ev->kind == EV_RETRY || ev->kind == EV_FAILED) &&
           (ev->http_status == 429 || ev->http_status == 503);
    trouble = slow || ev->kind == EV_FAILED;
    if (!trouble && ev->kind != EV_DONE && ev->kind != EV_UNCHANGED && ev->kind != EV_START)
        return;
    /* A host gets its entry with its first transfer (at most HTAB_MAX hosts are followed). */
    if ((h = hstat_get(e, it->host, true)) == NULL)
        return;
    if (ev->http_status == 429 && slow)
        h->n429++;
    if (ev->http_status == 503 && slow)
        h->n503++;
    if (slow)
        h->slow_status = ev->http_status;
    if (ev->kind == EV_FAILED)
        h->failed++;
    else if (ev->kind == EV_DONE || ev->kind == EV_UNCHANGED)
        h->done++;
}

void engine_hosts_free(struct engine *e)
{
    struct engine_htab *t = e->htab;

    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i]->name);
        free(t->v[i]);
    }
    free(t->v);
    hmap_free(t->map);
    free(t);
    e->htab = NULL;
}

/* The live part of a row: transfers, limit, rate, queued. */
static void fill_live(struct engine *e, struct engine_host_view *v)
{
    const struct host *h = hosts_find(e->hosts, v->name);
    struct engine_hstat *hs = hstat_get(e, v->name, false);

    v->active = 0;
    v->rate = 0;
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        const struct item *it = xfer_item(a->x);

        if (it->host != NULL && strcmp(it->host, v->name) == 0) {
            v->active++;
            v->rate += a->rate;
        }
    }
    if (h != NULL) {
        v->limit = hosts_effective(e->s, v->name, h);
        v->lowered = h->limit > 0;
        v->hold_until_ms = v->lowered ? h->hold_until : 0;
        v->gate_until_ms = h->gate_until > mono_ms() ? h->gate_until : 0;
        v->gate_status = v->gate_until_ms > 0 ? h->gate_status : 0;
        v->rps = h->rps.rate;
    } else {
        v->limit = e->s->per_host;
        v->rps = hosts_rps_base(e->s, v->name);
    }
    if (hs != NULL) {
        v->n429 = hs->n429;
        v->n503 = hs->n503;
        v->done = hs->done;
        v->failed = hs->failed;
        v->slow_status = hs->slow_status;
    }
    v->queued = queue_host_pending(e->q, v->name, &v->queued_more);
}

static int view_cmp(const void *a, const void *b)
{
    const struct engine_host_view *x = a, *y = b;

    if (x->rate != y->rate)
        return x->rate > y->rate ? -1 : 1;
    if (x->active != y->active)
        return x->active > y->active ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool listed(const struct engine_host_view *out, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i].name, name) == 0)
            return true;
    return false;
}

size_t engine_hosts_view(struct engine *e, struct engine_host_view *out, size_t max)
{
    size_t n = 0;

    for (struct active *a = e->actives; a != NULL && n < max; a = a->next) {
        const char *name = xfer_item(a->x)->host;

        if (name == NULL || listed(out, n, name))
            continue;
        memset(&out[n], 0, sizeof out[n]);
        snprintf(out[n].name, sizeof out[n].name, "%s", name);
        n++;
    }
    for (size_t i = 0; e->htab != NULL && i < e->htab->n && n < max; i++) {
        if (listed(out, n, e->htab->v[i]->name))
            continue;
        memset(&out[n], 0, sizeof out[n]);
        snprintf(out[n].name, sizeof out[n].name, "%s", e->htab->v[i]->name);
        n++;
    }
    for (size_t i = 0; i < n; i++)
        fill_live(e, &out[i]);
    qsort(out, n, sizeof *out, view_cmp);
    return n;
}

void engine_item_wait(struct engine *e, const struct item *it, struct wait_facts *f)
{
    struct host *h = it->host != NULL ? hosts_find(e->hosts, it->host) : NULL;
    struct engine_hstat *hs = it->host != NULL ? hstat_get(e, it->host, false) : NULL;

    memset(f, 0, sizeof *f);
    f->state = it->state;
    f->next_try_ms = it->next_try_ms;
    f->paused_all = e->paused_all;
    f->disk_full = e->disk_full_until != 0;
    f->transfers = e->transfers;
    f->concurrency = e->concurrency;
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        if (xfer_item(a->x)->id == it->id) {
            f->throttled = a->throttled;
            f->diskwait = a->diskwait;
            f->last_rx_ms = xfer_last_rx_ms(a->x);
            break;
        }
    }
    if (h != NULL) {
        int64_t now = mono_ms();

        f->host_active = h->active;
        f->host_limit = hosts_effective(e->s, it->host, h);
        f->host_lowered = h->limit > 0;
        f->host_hold_until_ms = h->hold_until;
        f->host_gate_until_ms = h->gate_until;
        f->host_gate_status = h->gate_status;
        f->host_rps = h->rps.rate;
        f->host_rps_empty = h->rps.rate > 0 && rps_wait_ms(&h->rps, now) != 0;
    } else {
        f->host_limit = e->s->per_host;
    }
    if (hs != NULL)
        f->host_slow_status = hs->slow_status;
}
