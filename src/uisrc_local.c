/* The UI's source in this process: the engine and the queue, read directly (include/uisrc.h).
 * The control socket's attach mode answers a remote UI with these same calls (ctl_attach.c), so
 * both UIs see one state. */
#include "uisrc.h"
#include "engine.h"
#include "filter.h"
#include "loop.h"
#include "opts.h"
#include "queue.h"
#include "util.h"

#include <stdlib.h>

struct local {
    struct loop *loop;
    struct engine *e;
    struct queue *q;
    struct uisrc_info info;
    engine_listener cb;
    void *cb_arg;
};

static void l_info(void *impl, struct uisrc_info *out)
{
    *out = ((struct local *)impl)->info;
}

static void l_stats(void *impl, struct engine_stats *st)
{
    engine_stats(((struct local *)impl)->e, st);
}

static bool l_idle(void *impl)
{
    return engine_idle(((struct local *)impl)->e);
}

static void l_series(void *impl, int64_t *out, int n)
{
    engine_rate_series(((struct local *)impl)->e, out, n);
}

static bool l_xfer(void *impl, uint64_t id, struct engine_xfer_view *v)
{
    return engine_xfer_view(((struct local *)impl)->e, id, v);
}

static int l_ranges(void *impl, uint64_t id, struct engine_range_view *out, int max)
{
    return engine_ranges_view(((struct local *)impl)->e, id, out, max);
}

static size_t l_total(void *impl)
{
    return queue_total(((struct local *)impl)->q);
}

static size_t l_count(void *impl, enum item_state st)
{
    return queue_count(((struct local *)impl)->q, st);
}

static size_t l_page(void *impl, int st, size_t off, size_t n, struct item **out)
{
    return queue_page(((struct local *)impl)->q, st, off, n, out);
}

static struct item *l_get(void *impl, uint64_t id)
{
    return queue_get(((struct local *)impl)->q, id);
}

/* Ids may have gaps (removed items): the scan counts the items it saw, and the caller stops
 * when it has seen as many as the queue holds. */
static size_t l_scan(void *impl, const char *f, uint64_t *next, size_t max, size_t *seen,
                     uint64_t *out)
{
    struct local *l = impl;
    size_t total = queue_total(l->q), k = 0;
    struct filter flt;
    char err[ERRLEN];

    if (filter_parse(f, &flt, err) < 0) {
        filter_free(&flt);
        *seen = total;             /* nothing can match: the scan is over */
        return 0;
    }
    for (size_t i = 0; i < max && *seen < total; i++) {
        struct item *it = queue_get(l->q, *next);

        (*next)++;
        if (it == NULL)
            continue;
        (*seen)++;
        if (filter_match_fixed(&flt, it))
            out[k++] = it->id;
    }
    filter_free(&flt);
    return k;
}

static void l_states(void *impl, const uint64_t *ids, size_t n, const char *filter,
                     unsigned char *out)
{
    struct local *l = impl;
    struct filter flt;
    char err[ERRLEN];
    bool live = filter != NULL && filter_parse(filter, &flt, err) == 0;

    if (filter != NULL && !live)
        filter_free(&flt);
    for (size_t i = 0; i < n; i++) {
        struct item *it = queue_get(l->q, ids[i]);

        out[i] = it != NULL && (!live || filter_match_live(&flt, it)) ? (unsigned char)it->state
                                                                       : ITEM_STATE_COUNT;
    }
    if (live)
        filter_free(&flt);
}

static bool l_wait(void *impl, const struct item *it, struct wait_facts *f)
{
    engine_item_wait(((struct local *)impl)->e, it, f);
    return true;
}

static long l_hosts(void *impl, struct engine_host_view *out, size_t max)
{
    return (long)engine_hosts_view(((struct local *)impl)->e, out, max);
}

static int l_schedule(void *impl, const char *spec, struct sbuf *out, char *err)
{
    struct local *l = impl;
    const struct sched_point *cur;
    size_t n;

    if (spec != NULL) {
        struct sched_point *p = NULL;
        size_t np = 0;

        if (opts_parse_schedule(spec, &p, &np, err) < 0)
            return -1;
        engine_set_schedule(l->e, p, np);
        free(p);
    }
    cur = engine_schedule(l->e, &n);
    opts_format_schedule(cur, n, out);
    return 0;
}

static void l_set_rate(void *impl, int64_t rate, int64_t burst)
{
    engine_set_rate(((struct local *)impl)->e, rate, burst);
}

static void l_set_conc(void *impl, int n)
{
    engine_set_concurrency(((struct local *)impl)->e, n);
}

static int l_pause(void *impl, uint64_t id, bool resume, char *err)
{
    struct local *l = impl;

    return resume ? engine_resume(l->e, id, err) : engine_pause(l->e, id, err);
}

static void l_pause_all(void *impl, bool resume)
{
    struct local *l = impl;

    if (resume)
        engine_resume_all(l->e);
    else
        engine_pause_all(l->e);
}

static int l_requeue(void *impl, uint64_t id, char *err)
{
    return engine_requeue(((struct local *)impl)->e, id, err);
}

static long l_requeue_failed(void *impl, char *err)
{
    return engine_requeue_failed(((struct local *)impl)->e, err);
}

static int l_remove(void *impl, uint64_t id, char *err)
{
    return engine_remove(((struct local *)impl)->e, id, err);
}

static int l_add(void *impl, const char *url, uint64_t *id, char *err)
{
    return engine_add_url(((struct local *)impl)->e, url, NULL, id, err);
}

static int l_flush(void *impl)
{
    return queue_flush(((struct local *)impl)->q);
}

static int l_stop(void *impl, char *err)
{
    return 0;
}

static void l_event(const struct engine_event *ev, void *arg)
{
    struct local *l = arg;

    if (l->cb != NULL)
        l->cb(ev, l->cb_arg);
}

static void l_listen(void *impl, engine_listener cb, void *arg)
{
    struct local *l = impl;

    l->cb = cb;
    l->cb_arg = arg;
}

static const char *l_lost(void *impl)
{
    return NULL;
}

static void l_free(void *impl)
{
    struct local *l = impl;

    engine_remove_listener(l->e, l_event, l);
    free(l);
}

static const struct uisrc_ops local_ops = {
    .info = l_info, .stats = l_stats, .idle = l_idle, .rate_series = l_series,
    .xfer_view = l_xfer, .ranges_view = l_ranges, .total = l_total, .count = l_count,
    .page = l_page, .get = l_get, .scan = l_scan, .states = l_states, .wait = l_wait,
    .hosts = l_hosts, .schedule = l_schedule, .set_rate = l_set_rate,
    .set_concurrency = l_set_conc,
    .pause = l_pause, .pause_all = l_pause_all, .requeue = l_requeue,
    .requeue_failed = l_requeue_failed, .remove = l_remove, .add_url = l_add, .flush = l_flush,
    .stop = l_stop, .listen = l_listen, .lost = l_lost, .free = l_free,
};

struct uisrc *uisrc_local_new(struct loop *loop, struct engine *e, struct queue *q,
                              const struct uisrc_info *info)
{
    struct uisrc *s = xcalloc(1, sizeof *s);
    struct local *l = xcalloc(1, sizeof *l);

    l->loop = loop;
    l->e = e;
    l->q = q;
    l->info = *info;
    engine_add_listener(e, l_event, l);
    s->ops = &local_ops;
    s->impl = l;
    return s;
}
