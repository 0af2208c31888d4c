/* The attach mode's records (src/ctl_wire.h, docs/ctl.md#attach-mode). */
#include "ctl_wire.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64

static const char hexd[] = "0123456789ABCDEF";

void ctl_wire_str(struct sbuf *out, const char *s)
{
    if (s == NULL) {
        sbuf_addstr(out, "-");
        return;
    }
    sbuf_addstr(out, "=");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == '%' || *p == 0x7f) {
            char e[3] = { '%', hexd[*p >> 4], hexd[*p & 15] };

            sbuf_add(out, e, 3);
        } else {
            sbuf_add(out, (const char *)p, 1);
        }
    }
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "-" → NULL (returns 0), "=..." → an allocated string; -1 when malformed (a NUL byte included). */
static int str_parse(const char *f, char **out)
{
    struct sbuf b = { 0 };

    *out = NULL;
    if (strcmp(f, "-") == 0)
        return 0;
    if (f[0] != '=')
        return -1;
    sbuf_add(&b, "", 0);
    for (const char *p = f + 1; *p; p++) {
        if (*p == '%') {
            int hi = hexv(p[1]), lo = hi < 0 ? -1 : hexv(p[2]);
            char c;

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                sbuf_free(&b);
                return -1;
            }
            c = (char)(hi * 16 + lo);
            sbuf_add(&b, &c, 1);
            p += 2;
        } else {
            sbuf_add(&b, p, 1);
        }
    }
    *out = b.s;
    return 0;
}

int ctl_wire_i64(const char *s, int64_t *v)
{
    char *end;
    long long x;

    if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

static int split(char *line, char **f, int max)
{
    int n = 0;

    while (*line) {
        if (n == max)
            return -1;
        f[n++] = line;
        line = strchr(line, ' ');
        if (line == NULL)
            break;
        *line++ = '\0';
    }
    return n;
}

/* Fields as int64 within lo..hi; -1 on the first that is not. */
static int nums(char **f, int n, int64_t *v, int64_t lo, int64_t hi)
{
    for (int i = 0; i < n; i++)
        if (ctl_wire_i64(f[i], &v[i]) < 0 || v[i] < lo || v[i] > hi)
            return -1;
    return 0;
}

void ctl_wire_stats(struct sbuf *out, const struct engine_stats *st, bool idle)
{
    sbuf_printf(out, "%zu %zu %zu %zu %zu %zu %zu %zu %d %d %d %lld %lld %lld %lld %lld %lld %lld "
                "%lld %lld %lld %lld %d %d %d %d %u %u %d %d %lld ",
                st->total, st->queued, st->active, st->retrying, st->paused, st->done,
                st->unchanged, st->failed, st->concurrency, st->transfers, st->finishing,
                (long long)st->rate, (long long)st->cap, (long long)st->bytes,
                (long long)st->elapsed_ms, (long long)st->eta_ms, (long long)st->eta_known_left,
                (long long)st->eta_known_items, (long long)st->eta_unknown_items,
                (long long)st->eta_mean, (long long)st->eta_finished, (long long)st->eta_rate,
                st->eta_capped, st->disk_full, st->paused_all, idle, (unsigned)st->shard.k,
                (unsigned)st->shard.n, st->group_workers, st->group_up, (long long)st->local_cap);
    ctl_wire_str(out, st->session_error);
}

#define NSTATS 32

int ctl_wire_stats_parse(char *line, struct engine_stats *st, bool *idle, char **session_error)
{
    char *f[MAX_FIELDS];
    int64_t v[NSTATS - 1];

    /* Fields after the ones known here are skipped: stats only ever grows at its end, so a
     * newer sluice's record still reads (docs/ctl.md#attach-mode). */
    *session_error = NULL;
    if (split(line, f, MAX_FIELDS) < NSTATS || nums(f, 11, v, 0, INT_MAX) < 0 ||
        nums(f + 11, 11, v + 11, -1, INT64_MAX) < 0 || nums(f + 22, 4, v + 22, 0, 1) < 0 ||
        nums(f + 26, 2, v + 26, 0, SHARD_MAX) < 0 || (v[27] > 0 && v[26] >= v[27]) ||
        nums(f + 28, 1, v + 28, 0, INT_MAX) < 0 || nums(f + 29, 1, v + 29, 0, 1) < 0 ||
        nums(f + 30, 1, v + 30, 0, INT64_MAX) < 0 || str_parse(f[31], session_error) < 0)
        return -1;
    memset(st, 0, sizeof *st);
    st->total = (size_t)v[0];
    st->queued = (size_t)v[1];
    st->active = (size_t)v[2];
    st->retrying = (size_t)v[3];
    st->paused = (size_t)v[4];
    st->done = (size_t)v[5];
    st->unchanged = (size_t)v[6];
    st->failed = (size_t)v[7];
    st->concurrency = (int)v[8];
    st->transfers = (int)v[9];
    st->finishing = (int)v[10];
    st->rate = v[11];
    st->cap = v[12];
    st->bytes = v[13];
    st->elapsed_ms = v[14];
    st->eta_ms = v[15];
    st->eta_known_left = v[16];
    st->eta_known_items = v[17];
    st->eta_unknown_items = v[18];
    st->eta_mean = v[19];
    st->eta_finished = v[20];
    st->eta_rate = v[21];
    st->eta_capped = v[22] != 0;
    st->disk_full = v[23] != 0;
    st->paused_all = v[24] != 0;
    *idle = v[25] != 0;
    st->shard.k = (uint32_t)v[26];
    st->shard.n = (uint32_t)v[27];
    st->group_workers = (int)v[28];
    st->group_up = v[29] != 0;
    st->local_cap = v[30];
    st->session_error = *session_error;
    /* The record has no field for where the cap comes from; a cap group's is always the
     * group's (docs/scale.md#the-shared-cap), whatever else the worker runs with. */
    if (st->group_workers > 0)
        st->sched.source = CAP_FROM_GROUP;
    return 0;
}

/* The transfer's fields of an item or a row, with their blank after. */
static void put_x(struct sbuf *out, const struct engine_xfer_view *x, int version)
{
    if (x != NULL)
        sbuf_printf(out, "%lld %lld %lld %d ", (long long)x->bytes, (long long)x->size,
                    (long long)x->rate, x->throttled);
    else
        sbuf_addstr(out, "- - - - ");
    if (version >= CTL_WIRE_CONNS_VERSION) {
        if (x != NULL)
            sbuf_printf(out, "%d ", x->conns);
        else
            sbuf_addstr(out, "- ");
    }
}

void ctl_wire_item(struct sbuf *out, const struct item *it, int64_t now,
                   const struct engine_xfer_view *x, int version)
{
    int64_t left = it->state == ITEM_RETRY ? it->next_try_ms - now : 0;

    sbuf_printf(out, "%llu %d %d %lld %d %lld %lld %lld ", (unsigned long long)it->id,
                (int)it->state, it->attempts, (long long)left, it->http_status,
                (long long)it->size, (long long)it->received, (long long)it->duration_ms);
    if (it->has_sha256) {
        for (int i = 0; i < 32; i++)
            sbuf_printf(out, "%02x", it->sha256[i]);
    } else {
        sbuf_addstr(out, "-");
    }
    sbuf_addstr(out, " ");
    put_x(out, x, version);
    ctl_wire_str(out, it->path);
    sbuf_addstr(out, " ");
    ctl_wire_str(out, it->host);
    sbuf_addstr(out, " ");
    ctl_wire_str(out, it->error);
    sbuf_addstr(out, " ");
    ctl_wire_str(out, it->etag);
    sbuf_addstr(out, " ");
    ctl_wire_str(out, it->last_modified);
    for (size_t i = 0; i < it->nurls && i < CTL_WIRE_URLS_MAX; i++) {
        sbuf_addstr(out, " ");
        ctl_wire_str(out, it->urls[i]);
    }
}

#define NITEM_FIXED 18

/* x_conns at f[0] (attach 3): the connections of a running transfer, "-" without one. */
static int conns_parse(char *f, bool has_x, struct engine_xfer_view *x)
{
    int64_t c;

    if (!has_x)
        return strcmp(f, "-") == 0 ? 0 : -1;
    if (nums(&f, 1, &c, 0, 256) < 0)
        return -1;
    x->conns = (int)c;
    return 0;
}

/* The eight numbers every item record starts with: id, state, attempts, next try (relative to
 * now), HTTP status, size, received, duration. */
static int item_nums(char **f, int64_t now, struct item *it)
{
    int64_t v[8];

    if (nums(f, 1, v, 1, INT64_MAX) < 0 || nums(f + 1, 1, v + 1, 0, ITEM_STATE_COUNT - 1) < 0 ||
        nums(f + 2, 1, v + 2, 0, INT_MAX) < 0 ||
        nums(f + 3, 1, v + 3, INT64_MIN / 4, INT64_MAX / 4) < 0 ||
        nums(f + 4, 1, v + 4, 0, 999) < 0 || nums(f + 5, 3, v + 5, -1, INT64_MAX) < 0)
        return -1;
    it->id = (uint64_t)v[0];
    it->state = (enum item_state)v[1];
    it->attempts = (int)v[2];
    it->next_try_ms = now + v[3];
    it->http_status = (int)v[4];
    it->size = v[5];
    it->received = v[6];
    it->duration_ms = v[7];
    return 0;
}

int ctl_wire_item_parse(char *line, int version, int64_t now, struct item *it,
                        struct engine_xfer_view *x, bool *has_x)
{
    char *f[MAX_FIELDS], *all[MAX_FIELDS];
    int n = split(line, all, MAX_FIELDS);
    int64_t xv[4];
    bool conns = version >= CTL_WIRE_CONNS_VERSION;

    memset(it, 0, sizeof *it);
    *has_x = false;
    if (n < 0)
        return -1;
    /* Read as the attach 1-2 layout, x_conns taken out. */
    if (conns) {
        if (n < 14)
            return -1;
        memcpy(f, all, 13 * sizeof *f);
        memcpy(f + 13, all + 14, (size_t)(n - 14) * sizeof *f);
        n--;
    } else {
        memcpy(f, all, (size_t)n * sizeof *f);
    }
    if (n < NITEM_FIXED + 1 || n > NITEM_FIXED + CTL_WIRE_URLS_MAX || item_nums(f, now, it) < 0)
        return -1;
    if (strcmp(f[8], "-") != 0) {
        if (strlen(f[8]) != 64)
            return -1;
        for (int i = 0; i < 32; i++) {
            int hi = hexv(f[8][2 * i]), lo = hexv(f[8][2 * i + 1]);

            if (hi < 0 || lo < 0)
                return -1;
            it->sha256[i] = (unsigned char)(hi * 16 + lo);
        }
        it->has_sha256 = true;
    }
    if (strcmp(f[9], "-") != 0) {
        if (nums(f + 9, 3, xv, -1, INT64_MAX) < 0 || nums(f + 12, 1, xv + 3, 0, 1) < 0)
            return -1;
        x->bytes = xv[0];
        x->size = xv[1];
        x->rate = xv[2];
        x->throttled = xv[3] != 0;
        x->conns = 0;            /* not carried before attach 3: shown as running */
        *has_x = true;
    } else if (strcmp(f[10], "-") != 0 || strcmp(f[11], "-") != 0 || strcmp(f[12], "-") != 0) {
        return -1;
    }
    if (conns && conns_parse(all[13], *has_x, x) < 0)
        return -1;
    if (str_parse(f[13], &it->path) < 0 || it->path == NULL || str_parse(f[14], &it->host) < 0 ||
        str_parse(f[15], &it->error) < 0 || str_parse(f[16], &it->etag) < 0 ||
        str_parse(f[17], &it->last_modified) < 0)
        goto fail;
    it->nurls = (size_t)(n - NITEM_FIXED);
    it->urls = xcalloc(it->nurls, sizeof *it->urls);
    for (size_t i = 0; i < it->nurls; i++)
        if (str_parse(f[NITEM_FIXED + i], &it->urls[i]) < 0 || it->urls[i] == NULL)
            goto fail;
    return 0;
fail:
    for (size_t i = 0; i < it->nurls && it->urls != NULL; i++)
        free(it->urls[i]);
    free(it->urls);
    free(it->path);
    free(it->host);
    free(it->error);
    free(it->etag);
    free(it->last_modified);
    memset(it, 0, sizeof *it);
    return -1;
}

void ctl_wire_row(struct sbuf *out, const struct item *it, int64_t now,
                  const struct engine_xfer_view *x, int version)
{
    int64_t left = it->state == ITEM_RETRY ? it->next_try_ms - now : 0;

    sbuf_printf(out, "%llu %d %d %lld %d %lld %lld %lld ", (unsigned long long)it->id,
                (int)it->state, it->attempts, (long long)left, it->http_status,
                (long long)it->size, (long long)it->received, (long long)it->duration_ms);
    put_x(out, x, version);
    ctl_wire_str(out, it->error);
}

/* The fields a row and an item share: id .. duration_ms, then the transfer's view at f[8..11]. */
static int dynamic_parse(char **f, int64_t now, struct item *it, struct engine_xfer_view *x,
                         bool *has_x)
{
    int64_t xv[4];

    if (item_nums(f, now, it) < 0)
        return -1;
    *has_x = false;
    if (strcmp(f[8], "-") != 0) {
        if (nums(f + 8, 3, xv, -1, INT64_MAX) < 0 || nums(f + 11, 1, xv + 3, 0, 1) < 0)
            return -1;
        x->bytes = xv[0];
        x->size = xv[1];
        x->rate = xv[2];
        x->throttled = xv[3] != 0;
        x->conns = 0;            /* not carried before attach 3: shown as running */
        *has_x = true;
    } else if (strcmp(f[9], "-") != 0 || strcmp(f[10], "-") != 0 || strcmp(f[11], "-") != 0) {
        return -1;
    }
    return 0;
}

int ctl_wire_row_parse(char *line, int version, int64_t now, struct item *it,
                       struct engine_xfer_view *x, bool *has_x)
{
    char *f[MAX_FIELDS];
    int k = version >= CTL_WIRE_CONNS_VERSION ? 1 : 0;

    memset(it, 0, sizeof *it);
    if (split(line, f, MAX_FIELDS) != 13 + k || dynamic_parse(f, now, it, x, has_x) < 0 ||
        (k == 1 && conns_parse(f[12], *has_x, x) < 0) || str_parse(f[12 + k], &it->error) < 0) {
        memset(it, 0, sizeof *it);
        return -1;
    }
    return 0;
}

void ctl_wire_range(struct sbuf *out, const struct engine_range_view *r)
{
    sbuf_printf(out, "%lld %lld %lld %d %lld", (long long)r->start, (long long)r->end,
                (long long)r->done, r->busy, (long long)r->rate);
}

int ctl_wire_range_parse(char *line, struct engine_range_view *r)
{
    char *f[MAX_FIELDS];
    int64_t v[5];

    if (split(line, f, MAX_FIELDS) != 5 || nums(f, 3, v, 0, INT64_MAX) < 0 ||
        nums(f + 3, 1, v + 3, 0, 1) < 0 || nums(f + 4, 1, v + 4, 0, INT64_MAX) < 0 ||
        v[1] < v[0] || v[2] > v[1] - v[0])
        return -1;
    r->start = v[0];
    r->end = v[1];
    r->done = v[2];
    r->busy = v[3] != 0;
    r->rate = v[4];
    return 0;
}

void ctl_wire_event(struct sbuf *out, const struct engine_event *ev)
{
    sbuf_printf(out, "%d %llu %d %d %lld %lld %lld ", (int)ev->kind,
                ev->item != NULL ? (unsigned long long)ev->item->id : 0ULL, ev->http_status,
                ev->retry_count, (long long)ev->value, (long long)ev->bytes,
                (long long)ev->duration_ms);
    ctl_wire_str(out, ev->error);
}

int ctl_wire_event_parse(char *line, struct engine_event *ev, struct item *it, char **text)
{
    char *f[MAX_FIELDS];
    int64_t v[7];

    *text = NULL;
    if (split(line, f, MAX_FIELDS) != 8 || nums(f, 1, v, 0, EV_REMOVED) < 0 ||
        nums(f + 1, 1, v + 1, 0, INT64_MAX) < 0 || nums(f + 2, 2, v + 2, -1, INT_MAX) < 0 ||
        nums(f + 4, 3, v + 4, INT64_MIN / 4, INT64_MAX) < 0 || str_parse(f[7], text) < 0)
        return -1;
    memset(ev, 0, sizeof *ev);
    memset(it, 0, sizeof *it);
    ev->kind = (enum engine_event_kind)v[0];
    it->id = (uint64_t)v[1];
    ev->item = v[1] != 0 ? it : NULL;
    ev->http_status = (int)v[2];
    ev->retry_count = (int)v[3];
    ev->value = v[4];
    ev->bytes = v[5];
    ev->duration_ms = v[6];
    ev->error = *text;
    return 0;
}

/* ---- why rows wait, and the Hosts tab ---- */

/* A monotonic time as ms from now (0 when it is not in the future), and back on the reader's
 * clock (0 = none), so the two processes' clocks never meet. */
static int64_t until_in(int64_t until, int64_t now)
{
    return until > now ? until - now : 0;
}

static int64_t until_back(int64_t in, int64_t now)
{
    return in > 0 ? now + in : 0;
}

void ctl_wire_wait_run(struct sbuf *out, const struct wait_facts *f)
{
    sbuf_printf(out, "%d %d %d %d", f->paused_all, f->disk_full, f->transfers, f->concurrency);
}

int ctl_wire_wait_run_parse(char *line, struct wait_facts *f)
{
    char *fl[MAX_FIELDS];
    int64_t v[4];

    if (split(line, fl, MAX_FIELDS) != 4 || nums(fl, 2, v, 0, 1) < 0 ||
        nums(fl + 2, 2, v + 2, 0, INT_MAX) < 0)
        return -1;
    f->paused_all = v[0] != 0;
    f->disk_full = v[1] != 0;
    f->transfers = (int)v[2];
    f->concurrency = (int)v[3];
    return 0;
}

void ctl_wire_wait_host(struct sbuf *out, const struct wait_facts *f, int64_t now, int version)
{
    sbuf_printf(out, "h %d %d %d %d %lld", f->host_active, f->host_limit, f->host_lowered,
                f->host_slow_status, (long long)until_in(f->host_hold_until_ms, now));
    if (version >= CTL_WIRE_HOLD_VERSION)
        sbuf_printf(out, " %lld %d %d", (long long)until_in(f->host_gate_until_ms, now),
                    f->host_gate_status, f->host_rps_empty ? f->host_rps : 0);
}

int ctl_wire_wait_host_parse(char *line, int64_t now, int version, struct wait_facts *f)
{
    char *fl[MAX_FIELDS];
    int64_t v[8];
    int n = version >= CTL_WIRE_HOLD_VERSION ? 9 : 6;

    if (split(line, fl, MAX_FIELDS) != n || strcmp(fl[0], "h") != 0 ||
        nums(fl + 1, 2, v, 0, INT_MAX) < 0 || nums(fl + 3, 1, v + 2, 0, 1) < 0 ||
        nums(fl + 4, 1, v + 3, 0, 999) < 0 || nums(fl + 5, 1, v + 4, 0, INT64_MAX / 4) < 0)
        return -1;
    if (n == 9 && (nums(fl + 6, 1, v + 5, 0, INT64_MAX / 4) < 0 ||
                   nums(fl + 7, 1, v + 6, 0, 999) < 0 || nums(fl + 8, 1, v + 7, 0, INT_MAX) < 0))
        return -1;
    f->host_active = (int)v[0];
    f->host_limit = (int)v[1];
    f->host_lowered = v[2] != 0;
    f->host_slow_status = (int)v[3];
    f->host_hold_until_ms = until_back(v[4], now);
    f->host_gate_until_ms = n == 9 ? until_back(v[5], now) : 0;
    f->host_gate_status = n == 9 ? (int)v[6] : 0;
    f->host_rps = n == 9 ? (int)v[7] : 0;
    f->host_rps_empty = f->host_rps > 0;
    return 0;
}

void ctl_wire_wait(struct sbuf *out, int host, const struct wait_facts *f, int64_t now)
{
    if (host >= 0)
        sbuf_printf(out, "%d", host);
    else
        sbuf_addstr(out, "-");
    if (f->state == ITEM_ACTIVE)
        sbuf_printf(out, " %d %lld", (f->throttled ? 1 : 0) | (f->diskwait ? 2 : 0),
                    (long long)(f->last_rx_ms > 0 ? (now > f->last_rx_ms ? now - f->last_rx_ms : 0)
                                                  : -1));
}

int ctl_wire_wait_parse(char *line, int64_t now, int *host, bool *gone, struct wait_facts *f)
{
    char *fl[MAX_FIELDS];
    int64_t v[3];
    int n = split(line, fl, MAX_FIELDS);

    *host = -1;
    *gone = false;
    if (n == 1 && strcmp(fl[0], "x") == 0) {
        *gone = true;
        return 0;
    }
    if ((n != 1 && n != 3) ||
        (strcmp(fl[0], "-") != 0 && nums(fl, 1, v, 0, CTL_WIRE_PAGE_MAX - 1) < 0))
        return -1;
    if (strcmp(fl[0], "-") != 0)
        *host = (int)v[0];
    f->throttled = f->diskwait = false;
    f->last_rx_ms = 0;
    if (n == 3) {
        if (nums(fl + 1, 1, v + 1, 0, 3) < 0 || nums(fl + 2, 1, v + 2, -1, INT64_MAX / 4) < 0)
            return -1;
        f->throttled = (v[1] & 1) != 0;
        f->diskwait = (v[1] & 2) != 0;
        /* A byte v[2] ms ago on the reader's clock; never 0, which means none. */
        f->last_rx_ms = v[2] < 0 ? 0 : now - v[2] > 0 ? now - v[2] : 1;
    }
    return 0;
}

void ctl_wire_host(struct sbuf *out, const struct engine_host_view *h, int64_t now, int version)
{
    ctl_wire_str(out, h->name);
    sbuf_printf(out, " %d %d %d %d %lld %ld %ld %ld %ld %lld %zu %d", h->active, h->limit,
                h->lowered, h->slow_status, (long long)until_in(h->hold_until_ms, now), h->n429,
                h->n503, h->done, h->failed, (long long)h->rate, h->queued, h->queued_more);
    if (version >= CTL_WIRE_HOLD_VERSION)
        sbuf_printf(out, " %lld %d %d", (long long)until_in(h->gate_until_ms, now),
                    h->gate_status, h->rps);
}

int ctl_wire_host_parse(char *line, int64_t now, int version, struct engine_host_view *h)
{
    char *fl[MAX_FIELDS], *name = NULL;
    int64_t v[15];
    int n = version >= CTL_WIRE_HOLD_VERSION ? 16 : 13;

    memset(h, 0, sizeof *h);
    if (split(line, fl, MAX_FIELDS) != n || nums(fl + 1, 2, v, 0, INT_MAX) < 0 ||
        nums(fl + 3, 1, v + 2, 0, 1) < 0 || nums(fl + 4, 1, v + 3, 0, 999) < 0 ||
        nums(fl + 5, 1, v + 4, 0, INT64_MAX / 4) < 0 || nums(fl + 6, 4, v + 5, 0, LONG_MAX) < 0 ||
        nums(fl + 10, 1, v + 9, 0, INT64_MAX) < 0 || nums(fl + 11, 1, v + 10, 0, INT64_MAX) < 0 ||
        nums(fl + 12, 1, v + 11, 0, 1) < 0 ||
        (n == 16 && (nums(fl + 13, 1, v + 12, 0, INT64_MAX / 4) < 0 ||
                     nums(fl + 14, 1, v + 13, 0, 999) < 0 || nums(fl + 15, 1, v + 14, 0, INT_MAX) < 0)) ||
        str_parse(fl[0], &name) < 0)
        return -1;
    if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof h->name) {
        free(name);
        return -1;
    }
    memcpy(h->name, name, strlen(name) + 1);
    free(name);
    h->active = (int)v[0];
    h->limit = (int)v[1];
    h->lowered = v[2] != 0;
    h->slow_status = (int)v[3];
    h->hold_until_ms = until_back(v[4], now);
    h->n429 = (long)v[5];
    h->n503 = (long)v[6];
    h->done = (long)v[7];
    h->failed = (long)v[8];
    h->rate = v[9];
    h->queued = (size_t)v[10];
    h->queued_more = v[11] != 0;
    if (n == 16) {
        h->gate_until_ms = until_back(v[12], now);
        h->gate_status = (int)v[13];
        h->rps = (int)v[14];
    }
    return 0;
}
