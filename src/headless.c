/* Headless progress. One line every 2 s, whole lines only (cron mails and `tee` stay readable). */
#include "headless.h"
#include "engine.h"
#include "loop.h"
#include "queue.h"
#include "shard.h"
#include "units.h"
#include "urlpath.h"
#include "util.h"

#include <stdlib.h>

#define PROGRESS_MS 2000

struct headless {
    struct loop *loop;
    struct engine *e;
    FILE *fp;
    struct loop_timer *timer;
};

/* "; shard K/N" when this worker takes one shard of the list (docs/scale.md#sharding), else "". */
static void shard_note(const struct engine_stats *st, char *buf, size_t len)
{
    char k[24];

    if (st->shard.n > 0)
        snprintf(buf, len, "; shard %s", shard_fmt(&st->shard, k, sizeof k));
    else
        snprintf(buf, len, "%s", "");
}

/* " (group of N)" when the cap is shared, and what the worker keeps to while Redis is away
 * (docs/scale.md#the-shared-cap). */
static void group_note(const struct engine_stats *st, char *buf, size_t len)
{
    char c[32];

    if (st->group_workers <= 0)
        snprintf(buf, len, "%s", "");
    else if (st->group_up)
        snprintf(buf, len, " (group of %d)", st->group_workers);
    else
        snprintf(buf, len, " (group of %d; REDIS AWAY, local cap %s)", st->group_workers,
                 units_fmt_cap(st->local_cap, c, sizeof c));
}

static void progress_line(struct engine *e, FILE *fp)
{
    struct engine_stats st;
    char rate[32], cap[32], eta[32], got[32], sh[40], grp[96];

    engine_stats(e, &st);
    shard_note(&st, sh, sizeof sh);
    group_note(&st, grp, sizeof grp);
    units_fmt_rate(st.rate, rate, sizeof rate);
    if (st.cap > 0)
        units_fmt_rate(st.cap, cap, sizeof cap);
    else
        snprintf(cap, sizeof cap, "off");
    units_fmt_duration(st.eta_ms, eta, sizeof eta);
    units_fmt_size(st.bytes, got, sizeof got);
    fprintf(fp, "sluice: %zu/%zu done, %d active, %zu queued, %zu retrying, %zu failed, %s (%s) cap %s%s, ETA %s%s%s%s\n",
            st.done + st.unchanged, st.total, st.transfers, st.queued, st.retrying, st.failed, rate,
            got, cap, grp, eta, sh, st.disk_full ? " - DISK FULL, waiting" : "",
            st.session_error != NULL ? " - SESSION NOT SAVED, retrying" : "");
    fflush(fp);
}

static void on_timer(void *arg)
{
    struct headless *h = arg;

    progress_line(h->e, h->fp);
    loop_timer_arm(h->timer, PROGRESS_MS);
}

/* Engine-wide messages (disk full, a host asking to slow down) are printed as they happen. */
static void on_event(const struct engine_event *ev, void *arg)
{
    struct headless *h = arg;

    if (ev->kind == EV_MESSAGE && ev->error != NULL) {
        struct sbuf l = { 0 };

        sbuf_addstr(&l, "sluice: ");
        sbuf_safe_text(&l, ev->error);       /* it may name a host or a path */
        sbuf_addstr(&l, "\n");
        fwrite(l.s, 1, l.len, h->fp);
        sbuf_free(&l);
        fflush(h->fp);
    }
}

struct headless *headless_new(struct loop *loop, struct engine *e, FILE *fp)
{
    struct headless *h = xcalloc(1, sizeof *h);

    engine_add_listener(e, on_event, h);
    h->loop = loop;
    h->e = e;
    h->fp = fp;
    h->timer = loop_timer_new(loop, on_timer, h);
    loop_timer_arm(h->timer, PROGRESS_MS);
    return h;
}

void headless_free(struct headless *h)
{
    if (h == NULL)
        return;
    loop_timer_free(h->timer);
    free(h);
}

void headless_summary(struct engine *e, struct queue *q, FILE *fp, enum headless_end end)
{
    struct engine_stats st;
    char got[32], dur[32], rate[32], sh[40];
    struct item *page[256];
    size_t off = 0, n;

    engine_stats(e, &st);
    shard_note(&st, sh, sizeof sh);
    units_fmt_size(st.bytes, got, sizeof got);
    units_fmt_duration(st.elapsed_ms, dur, sizeof dur);
    units_fmt_rate(st.elapsed_ms > 0 ? st.bytes * 1000 / st.elapsed_ms : 0, rate, sizeof rate);
    fprintf(fp, "sluice: %s: %zu done, %zu unchanged, %zu failed, %zu not finished; %s in %s (%s)%s\n",
            end == HEADLESS_INTERRUPTED ? "interrupted" : end == HEADLESS_UNFINISHED ?
            "stopped" : "finished", st.done, st.unchanged, st.failed,
            st.total - st.done - st.unchanged - st.failed, got, dur, rate, sh);
    while ((n = queue_page(q, ITEM_FAILED, off, ARRAY_LEN(page), page)) > 0) {
        for (size_t i = 0; i < n; i++) {
            char *url = urlpath_redact(page[i]->urls[0]);
            struct sbuf l = { 0 };

            /* URLs, paths and reasons come from outside: no control reaches the terminal. */
            sbuf_addstr(&l, "failed: ");
            sbuf_safe_text(&l, url);
            sbuf_addstr(&l, " -> ");
            sbuf_safe_text(&l, page[i]->path);
            sbuf_addstr(&l, ": ");
            sbuf_safe_text(&l, page[i]->error ? page[i]->error : "unknown error");
            sbuf_printf(&l, " (%d attempt%s)\n", page[i]->attempts, page[i]->attempts == 1 ? "" : "s");
            fwrite(l.s, 1, l.len, fp);
            sbuf_free(&l);
            free(url);
        }
        off += n;
    }
    if (end == HEADLESS_INTERRUPTED)
        fprintf(fp, "sluice: stopped; unfinished files are kept as *.part\n");
    else if (end == HEADLESS_UNFINISHED)
        fprintf(fp, "sluice: %zu item%s paused or not finished; state saved, the same command "
                "continues (exit 3)\n", st.total - st.done - st.unchanged - st.failed,
                st.total - st.done - st.unchanged - st.failed == 1 ? "" : "s");
    fflush(fp);
}
