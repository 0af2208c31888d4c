/* Dispatch of the UI's source (include/uisrc.h): the calls read like the engine API they stand
 * for, whichever side answers them. */
#include "uisrc.h"

#include <stdlib.h>
#include <string.h>

void uisrc_free(struct uisrc *s)
{
    if (s == NULL)
        return;
    s->ops->free(s->impl);
    free(s);
}

void uisrc_info(struct uisrc *s, struct uisrc_info *out) { s->ops->info(s->impl, out); }
void uisrc_stats(struct uisrc *s, struct engine_stats *st) { s->ops->stats(s->impl, st); }
bool uisrc_idle(struct uisrc *s) { return s->ops->idle(s->impl); }
void uisrc_rate_series(struct uisrc *s, int64_t *out, int n) { s->ops->rate_series(s->impl, out, n); }
size_t uisrc_total(struct uisrc *s) { return s->ops->total(s->impl); }
size_t uisrc_count(struct uisrc *s, enum item_state st) { return s->ops->count(s->impl, st); }
struct item *uisrc_get(struct uisrc *s, uint64_t id) { return s->ops->get(s->impl, id); }
void uisrc_set_rate(struct uisrc *s, int64_t rate, int64_t burst) { s->ops->set_rate(s->impl, rate, burst); }
void uisrc_set_concurrency(struct uisrc *s, int n) { s->ops->set_concurrency(s->impl, n); }
void uisrc_pause_all(struct uisrc *s, bool resume) { s->ops->pause_all(s->impl, resume); }
int uisrc_requeue(struct uisrc *s, uint64_t id, char *err) { return s->ops->requeue(s->impl, id, err); }
long uisrc_requeue_failed(struct uisrc *s, char *err) { return s->ops->requeue_failed(s->impl, err); }
int uisrc_remove(struct uisrc *s, uint64_t id, char *err) { return s->ops->remove(s->impl, id, err); }
int uisrc_flush(struct uisrc *s) { return s->ops->flush(s->impl); }
int uisrc_stop(struct uisrc *s, char *err) { return s->ops->stop(s->impl, err); }
void uisrc_listen(struct uisrc *s, engine_listener cb, void *arg) { s->ops->listen(s->impl, cb, arg); }
const char *uisrc_lost(struct uisrc *s) { return s->ops->lost(s->impl); }

bool uisrc_xfer_view(struct uisrc *s, uint64_t id, struct engine_xfer_view *v)
{
    return s->ops->xfer_view(s->impl, id, v);
}

int uisrc_ranges_view(struct uisrc *s, uint64_t id, struct engine_range_view *out, int max)
{
    return s->ops->ranges_view != NULL ? s->ops->ranges_view(s->impl, id, out, max) : 0;
}

size_t uisrc_page(struct uisrc *s, int st, size_t off, size_t n, struct item **out)
{
    return s->ops->page(s->impl, st, off, n, out);
}

size_t uisrc_scan(struct uisrc *s, const char *f, uint64_t *next, size_t max, size_t *seen,
                  uint64_t *out)
{
    return s->ops->scan(s->impl, f, next, max, seen, out);
}

void uisrc_states(struct uisrc *s, const uint64_t *ids, size_t n, const char *filter,
                  unsigned char *out)
{
    s->ops->states(s->impl, ids, n, filter, out);
}

bool uisrc_wait(struct uisrc *s, const struct item *it, struct wait_facts *f)
{
    return s->ops->wait(s->impl, it, f);
}

long uisrc_hosts(struct uisrc *s, struct engine_host_view *out, size_t max)
{
    return s->ops->hosts(s->impl, out, max);
}

int uisrc_schedule(struct uisrc *s, const char *spec, struct sbuf *out, char *err)
{
    return s->ops->schedule(s->impl, spec, out, err);
}

int64_t uisrc_rate(struct uisrc *s)
{
    struct engine_stats st;

    uisrc_stats(s, &st);
    return st.cap;
}

int uisrc_concurrency(struct uisrc *s)
{
    struct engine_stats st;

    uisrc_stats(s, &st);
    return st.concurrency;
}

int uisrc_pause(struct uisrc *s, uint64_t id, bool resume, char *err)
{
    return s->ops->pause(s->impl, id, resume, err);
}

int uisrc_add_url(struct uisrc *s, const char *url, uint64_t *id, char *err)
{
    return s->ops->add_url(s->impl, url, id, err);
}

