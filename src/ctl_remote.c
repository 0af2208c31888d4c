/* The UI's source behind the control socket (include/uisrc.h, docs/ctl.md#attach-mode): each
 * call is one request of the attach mode, answered by the running sluice through the same local
 * source its own TUI reads. The client side may wait (with a deadline) for an answer; the
 * engine's side never waits for the client.
 *
 * What one frame asks for is kept until control returns to the loop (a timer armed at 0 ms
 * clears it), so a frame costs a handful of requests however often it reads the same numbers:
 * stats, the sparkline, one page of rows (with their transfers' views), and the selected item. */
#include "ctl.h"
#include "ctl_attach.h"
#include "ctl_cmd.h"
#include "ctl_wire.h"
#include "loop.h"
#include "uisrc.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REMOTE_TIMEOUT_MS 10000     /* one answer */
#define REMOTE_POLL_MS 200          /* events: at the UI's frame rate (docs/tui.md#over-ssh) */
#define REMOTE_ANSWER_MAX (16 * 1024 * 1024)
#define REMOTE_XFER 256             /* transfer views kept from the last pages */
#define REMOTE_STATIC 4096          /* items whose path, host and URLs are kept (direct-mapped) */

/* What never changes of an item: rows bring the rest (ctl_wire_row). */
struct fixed {
    uint64_t id;                    /* 0: empty */
    char *path, *host;
    char **urls;
    size_t nurls;
};

struct xv {
    uint64_t id;
    struct engine_xfer_view v;
};

/* Why a row waits (r_wait), as the last waits answer told it. */
struct wc {
    uint64_t id;
    bool gone;
    struct wait_facts f;
};

struct remote {
    struct loop *loop;
    int fd;
    int version;                    /* of the attach mode the server speaks with us */
    char *path;
    char *lost;
    struct sbuf in;                 /* bytes read, not yet consumed */
    struct sbuf body;               /* the last answer's body */
    struct uisrc_info info;
    uint64_t bytes_in, bytes_out;

    /* what this loop turn asked for */
    struct loop_timer *turn;
    bool have_stats, idle;
    struct engine_stats st;
    char *session_error;
    int nseries;
    int64_t series[CTL_WIRE_SERIES_MAX];
    struct item **arena;
    bool *full;                     /* arena[i] came whole (get, items), not built from a row */
    size_t narena, carena;
    int64_t series_sec;             /* the sparkline moves once a second: asked once a second */
    struct fixed fixed[REMOTE_STATIC];
    struct xv xv[REMOTE_XFER];
    size_t nxv;
    struct wc wc[CTL_WIRE_PAGE_MAX];    /* this turn's waits: one request a frame */
    size_t nwc;
    /* a segmented download's ranges (attach 3): one item's, asked at most once a second, only
     * while its details are shown (r_ranges) */
    struct engine_range_view rg[CTL_WIRE_RANGES_MAX];
    int nrg;
    uint64_t rg_id;
    int64_t rg_ms;
    /* the Hosts tab: asked at most once a second, only while it is shown (r_hosts) */
    struct engine_host_view *hv;
    long nhv;
    int64_t hv_ms;

    struct loop_timer *poll;
    engine_listener cb;
    void *cb_arg;
};

static void forget_turn(void *arg)
{
    struct remote *r = arg;

    r->have_stats = false;
    free(r->session_error);
    r->session_error = NULL;
    for (size_t i = 0; i < r->narena; i++)
        item_free(r->arena[i]);
    r->narena = 0;
    r->nxv = 0;
    r->nwc = 0;
}

static void turn_used(struct remote *r)
{
    if (!loop_timer_armed(r->turn))
        loop_timer_arm(r->turn, 0);
}

static void set_lost(struct remote *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_lost(struct remote *r, const char *fmt, ...)
{
    va_list ap;
    char msg[ERRLEN];

    if (r->lost != NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->lost = xstrdup(msg);
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
}

static int wait_fd(struct remote *r, short ev, int64_t deadline)
{
    struct pollfd p = { .fd = r->fd, .events = ev };
    int64_t left = deadline - mono_ms();
    int n;

    if (left <= 0)
        return 0;
    n = poll(&p, 1, (int)left);
    return n < 0 && errno == EINTR ? 1 : n;
}

static int send_line(struct remote *r, const struct sbuf *line, int64_t deadline)
{
    size_t off = 0;

    while (off < line->len) {
        ssize_t n = send(r->fd, line->s + off, line->len - off, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            off += (size_t)n;
            r->bytes_out += (uint64_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(r, POLLOUT, deadline) <= 0)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* More bytes into r->in; -1 on EOF, error or deadline. */
static int fill(struct remote *r, int64_t deadline)
{
    char buf[65536];

    for (;;) {
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);

        if (n > 0) {
            sbuf_add(&r->in, buf, (size_t)n);
            r->bytes_in += (uint64_t)n;
            return 0;
        }
        if (n == 0)
            return -1;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (wait_fd(r, POLLIN, deadline) <= 0)
            return -1;
    }
}

static void consume(struct remote *r, size_t n)
{
    memmove(r->in.s, r->in.s + n, r->in.len - n);
    r->in.len -= n;
}

/* One request; its body in r->body. 0; -1 with err when refused (err holds the server's
 * message); -2 when the connection is gone (r->lost says why). */
static int ask_line(struct remote *r, char *err, const char *req)
{
    int64_t deadline = mono_ms() + REMOTE_TIMEOUT_MS;
    struct sbuf line = { 0 };
    char *nl;

    if (r->lost != NULL) {
        errf(err, "%s", r->lost);
        return -2;
    }
    sbuf_addstr(&line, req);
    sbuf_addstr(&line, "\n");
    if (send_line(r, &line, deadline) < 0) {
        sbuf_free(&line);
        set_lost(r, "the sluice on %s went away", r->path);
        return errf(err, "%s", r->lost), -2;
    }
    sbuf_free(&line);
    while ((nl = r->in.len > 0 ? memchr(r->in.s, '\n', r->in.len) : NULL) == NULL) {
        if (r->in.len > 4096 || fill(r, deadline) < 0)
            goto gone;
    }
    if (r->in.len >= 7 && memcmp(r->in.s, "error: ", 7) == 0) {
        errf(err, "%.*s", (int)(nl - r->in.s - 7), r->in.s + 7);
        consume(r, (size_t)(nl - r->in.s) + 1);
        return -1;
    }
    if (r->in.len >= 3 && memcmp(r->in.s, "ok ", 3) == 0) {
        char *end;
        unsigned long long len = strtoull(r->in.s + 3, &end, 10);
        size_t head = (size_t)(nl - r->in.s) + 1;

        if (end != nl || end == r->in.s + 3 || len > REMOTE_ANSWER_MAX)
            goto broken;
        while (r->in.len < head + len)
            if (fill(r, deadline) < 0)
                goto gone;
        r->body.len = 0;
        sbuf_add(&r->body, r->in.s + head, (size_t)len);
        sbuf_add(&r->body, "", 0);
        r->body.len = (size_t)len;
        consume(r, head + (size_t)len);
        return 0;
    }
broken:
    set_lost(r, "the sluice on %s answered something this version does not read", r->path);
    return errf(err, "%s", r->lost), -2;
gone:
    set_lost(r, "the sluice on %s went away (or stopped answering)", r->path);
    return errf(err, "%s", r->lost), -2;
}

static int ask(struct remote *r, char *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ask(struct remote *r, char *err, const char *fmt, ...)
{
    char req[CTL_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(req, sizeof req, fmt, ap);
    va_end(ap);
    return ask_line(r, err, req);
}

/* A request whose words may need quoting (a filter, a URL). */
static int ask_words(struct remote *r, char *err, int argc, char **argv)
{
    struct sbuf q = { 0 };
    int rc;

    if (ctl_cmd_join(argc, argv, &q, err) < 0 || q.len > CTL_LINE_MAX) {
        sbuf_free(&q);
        return errf(err, "too long, or a control character in it");
    }
    q.s[q.len - 1] = '\0';
    rc = ask_line(r, err, q.s);
    sbuf_free(&q);
    return rc;
}

/* The next line of r->body from *pos, cut in place; NULL at the end. */
static char *next_line(struct remote *r, size_t *pos)
{
    char *s, *nl;

    if (*pos >= r->body.len)
        return NULL;
    s = r->body.s + *pos;
    nl = memchr(s, '\n', r->body.len - *pos);
    if (nl == NULL) {
        *pos = r->body.len;
        return s;
    }
    *nl = '\0';
    *pos = (size_t)(nl - r->body.s) + 1;
    return s;
}

static void protocol_error(struct remote *r, const char *what)
{
    set_lost(r, "the sluice on %s sent a %s this version does not read", r->path, what);
}

/* ---- reads ---- */

static void r_info(void *impl, struct uisrc_info *out)
{
    *out = ((struct remote *)impl)->info;
}

static void r_stats(void *impl, struct engine_stats *st)
{
    struct remote *r = impl;
    char err[ERRLEN];

    if (!r->have_stats) {
        size_t pos = 0;
        char *l;

        memset(&r->st, 0, sizeof r->st);
        r->st.eta_ms = -1;
        if (ask(r, err, "stats") == 0) {
            l = next_line(r, &pos);
            if (l == NULL || ctl_wire_stats_parse(l, &r->st, &r->idle, &r->session_error) < 0)
                protocol_error(r, "status");
        }
        r->have_stats = true;
        turn_used(r);
    }
    *st = r->st;
}

static bool r_idle(void *impl)
{
    struct remote *r = impl;
    struct engine_stats st;

    r_stats(r, &st);
    return r->idle;
}

static void r_series(void *impl, int64_t *out, int n)
{
    struct remote *r = impl;
    char err[ERRLEN];

    if (n > CTL_WIRE_SERIES_MAX)
        n = CTL_WIRE_SERIES_MAX;
    if (r->nseries < n || r->series_sec != mono_ms() / 1000) {
        char *p, *save = NULL;
        int k = 0;

        memset(r->series, 0, sizeof r->series);
        if (ask(r, err, "series %d", n) == 0) {
            for (p = strtok_r(r->body.s, " \n", &save); p != NULL && k < n;
                 p = strtok_r(NULL, " \n", &save))
                if (ctl_wire_i64(p, &r->series[k++]) < 0)
                    protocol_error(r, "rate series");
        }
        r->nseries = n;
        r->series_sec = mono_ms() / 1000;
    }
    /* The newest n of what was fetched. */
    memcpy(out, r->series + (r->nseries - n), (size_t)n * sizeof *out);
}

static struct item *keep(struct remote *r, struct item *it, bool full)
{
    struct item *copy = xmalloc(sizeof *copy);

    *copy = *it;
    if (r->narena == r->carena) {
        r->carena = r->carena ? r->carena * 2 : 64;
        r->arena = xrealloc(r->arena, r->carena * sizeof *r->arena);
        r->full = xrealloc(r->full, r->carena * sizeof *r->full);
    }
    r->full[r->narena] = full;
    r->arena[r->narena++] = copy;
    turn_used(r);
    return copy;
}

static void fixed_clear(struct fixed *f)
{
    free(f->path);
    free(f->host);
    util_strv_free(f->urls, f->nurls);
    memset(f, 0, sizeof *f);
}

static struct fixed *fixed_of(struct remote *r, uint64_t id)
{
    struct fixed *f = &r->fixed[id % REMOTE_STATIC];

    return f->id == id ? f : NULL;
}

static void fixed_put(struct remote *r, const struct item *it)
{
    struct fixed *f = &r->fixed[it->id % REMOTE_STATIC];

    fixed_clear(f);
    f->id = it->id;
    f->path = xstrdup(it->path);
    f->host = it->host != NULL ? xstrdup(it->host) : NULL;
    f->nurls = it->nurls;
    f->urls = xcalloc(it->nurls + 1, sizeof *f->urls);
    for (size_t i = 0; i < it->nurls; i++)
        f->urls[i] = xstrdup(it->urls[i]);
}

/* Item lines of r->body into out (at most n); their transfer views are kept for r_xfer. */
static size_t items(struct remote *r, struct item **out, size_t n)
{
    size_t pos = 0, k = 0;
    char *l;

    while (k < n && (l = next_line(r, &pos)) != NULL) {
        struct item it;
        struct engine_xfer_view x;
        bool has_x;

        if (ctl_wire_item_parse(l, r->version, loop_now(r->loop), &it, &x, &has_x) < 0) {
            protocol_error(r, "row");
            break;
        }
        fixed_put(r, &it);
        out[k++] = keep(r, &it, true);
        if (has_x && r->nxv < REMOTE_XFER)
            r->xv[r->nxv++] = (struct xv){ it.id, x };
    }
    return k;
}

static bool r_xfer(void *impl, uint64_t id, struct engine_xfer_view *v)
{
    struct remote *r = impl;
    char err[ERRLEN];
    struct item *one;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->nxv; i++) {
            if (r->xv[i].id == id) {
                *v = r->xv[i].v;
                return true;
            }
        }
        /* Not in a page asked for this turn: its item line carries the view. */
        if (pass == 0 && (ask(r, err, "get %llu", (unsigned long long)id) < 0 ||
                          items(r, &one, 1) != 1))
            return false;
    }
    return false;
}

static size_t r_total(void *impl)
{
    struct engine_stats st;

    r_stats(impl, &st);
    return st.total;
}

static size_t r_count(void *impl, enum item_state s)
{
    struct engine_stats st;

    r_stats(impl, &st);
    switch (s) {
    case ITEM_QUEUED: return st.queued;
    case ITEM_ACTIVE: return st.active;
    case ITEM_RETRY: return st.retrying;
    case ITEM_PAUSED: return st.paused;
    case ITEM_DONE: return st.done;
    case ITEM_UNCHANGED: return st.unchanged;
    case ITEM_FAILED: return st.failed;
    default: return 0;
    }
}

/* The path, host and URLs of the ids that lack them, in one request. */
static void fetch_fixed(struct remote *r, const struct item *rows, size_t n)
{
    struct sbuf q = { 0 };
    char err[ERRLEN];
    size_t missing = 0, pos = 0;
    char *l;

    sbuf_addstr(&q, "items ");
    for (size_t i = 0; i < n; i++) {
        if (fixed_of(r, rows[i].id) == NULL) {
            sbuf_printf(&q, "%s%llu", missing ? "," : "", (unsigned long long)rows[i].id);
            missing++;
        }
    }
    if (missing > 0 && ask_line(r, err, q.s) == 0) {
        while ((l = next_line(r, &pos)) != NULL) {
            struct item it;
            struct engine_xfer_view x;
            bool has_x;

            if (ctl_wire_item_parse(l, r->version, loop_now(r->loop), &it, &x, &has_x) < 0) {
                protocol_error(r, "row");
                break;
            }
            fixed_put(r, &it);
            util_strv_free(it.urls, it.nurls);
            free(it.path);
            free(it.host);
            free(it.error);
            free(it.etag);
            free(it.last_modified);
        }
    }
    sbuf_free(&q);
}

/* Rows (what changes) with what never changes from the cache: a frame of 16 running transfers
 * costs their numbers, not their names (docs/ctl.md#attach-mode). */
static size_t r_page(void *impl, int st, size_t off, size_t n, struct item **out)
{
    struct remote *r = impl;
    char err[ERRLEN];
    size_t k = 0;

    while (k < n && r->lost == NULL) {
        size_t want = n - k > CTL_WIRE_PAGE_MAX ? CTL_WIRE_PAGE_MAX : n - k, got = 0, pos = 0;
        struct item rows[CTL_WIRE_PAGE_MAX];
        struct engine_xfer_view xs[CTL_WIRE_PAGE_MAX];
        bool has_x[CTL_WIRE_PAGE_MAX];
        char *l;

        if (ask(r, err, "rows %d %zu %zu", st, off + k, want) < 0)
            break;
        while (got < want && (l = next_line(r, &pos)) != NULL) {
            if (ctl_wire_row_parse(l, r->version, loop_now(r->loop), &rows[got], &xs[got], &has_x[got]) < 0) {
                protocol_error(r, "row");
                break;
            }
            got++;
        }
        fetch_fixed(r, rows, got);
        for (size_t i = 0; i < got; i++) {
            struct fixed *f = fixed_of(r, rows[i].id);

            if (f == NULL) {        /* removed between the two requests */
                free(rows[i].error);
                continue;
            }
            rows[i].path = xstrdup(f->path);
            rows[i].host = f->host != NULL ? xstrdup(f->host) : NULL;
            rows[i].nurls = f->nurls;
            rows[i].urls = xcalloc(f->nurls + 1, sizeof *rows[i].urls);
            for (size_t j = 0; j < f->nurls; j++)
                rows[i].urls[j] = xstrdup(f->urls[j]);
            out[k++] = keep(r, &rows[i], false);
            if (has_x[i] && r->nxv < REMOTE_XFER)
                r->xv[r->nxv++] = (struct xv){ rows[i].id, xs[i] };
        }
        if (got < want)
            break;
    }
    return k;
}

static struct item *r_get(void *impl, uint64_t id)
{
    struct remote *r = impl;
    char err[ERRLEN];
    struct item *it;

    for (size_t i = 0; i < r->narena; i++)
        if (r->arena[i]->id == id && r->full[i])
            return r->arena[i];
    if (ask(r, err, "get %llu", (unsigned long long)id) < 0 || items(r, &it, 1) != 1)
        return NULL;
    return it;
}

static size_t r_scan(void *impl, const char *f, uint64_t *next, size_t max, size_t *seen,
                     uint64_t *out)
{
    struct remote *r = impl;
    char err[ERRLEN], a[32], b[32], c[32], *l, *p, *save = NULL;
    char *words[5] = { "scan", a, b, c, (char *)f };
    size_t pos = 0, k = 0;
    unsigned long long nx, sn;

    if (max > CTL_WIRE_SCAN_MAX)
        max = CTL_WIRE_SCAN_MAX;
    snprintf(a, sizeof a, "%llu", (unsigned long long)*next);
    snprintf(b, sizeof b, "%zu", *seen);
    snprintf(c, sizeof c, "%zu", max);
    if (ask_words(r, err, 5, words) < 0) {
        *seen = SIZE_MAX / 2;      /* stop scanning: the filter shows what it found */
        return 0;
    }
    l = next_line(r, &pos);
    if (l == NULL || sscanf(l, "%llu %llu", &nx, &sn) != 2) {
        protocol_error(r, "scan");
        return 0;
    }
    *next = nx;
    *seen = (size_t)sn;
    l = next_line(r, &pos);
    for (p = l != NULL ? strtok_r(l, " ", &save) : NULL; p != NULL && k < max;
         p = strtok_r(NULL, " ", &save)) {
        int64_t id;

        if (ctl_wire_i64(p, &id) < 0 || id <= 0) {
            protocol_error(r, "scan");
            return k;
        }
        out[k++] = (uint64_t)id;
    }
    return k;
}

static void r_states(void *impl, const uint64_t *ids, size_t n, const char *filter,
                     unsigned char *out)
{
    struct remote *r = impl;
    size_t i = 0, room = CTL_LINE_MAX - 64;

    memset(out, ITEM_STATE_COUNT, n);
    if (filter != NULL) {
        if (strlen(filter) + 128 > CTL_LINE_MAX)
            return;                /* a filter the line cannot carry shows nothing */
        room -= strlen(filter) * 2 + 4;   /* quoted, every character possibly escaped */
    }
    while (i < n) {
        struct sbuf q = { 0 };
        size_t from = i;
        char err[ERRLEN];

        sbuf_addstr(&q, "states ");
        while (i < n && q.len < room)
            sbuf_printf(&q, "%s%llu", i > from ? "," : "", (unsigned long long)ids[i]), i++;
        if (filter != NULL) {
            /* The server's words may be quoted, with \" and \\ inside (docs/ctl.md). */
            sbuf_addstr(&q, " \"");
            for (const char *c = filter; *c != '\0'; c++) {
                if (*c == '"' || *c == '\\')
                    sbuf_addstr(&q, "\\");
                sbuf_add(&q, c, 1);
            }
            sbuf_addstr(&q, "\"");
        }
        if (ask_line(r, err, q.s) < 0) {
            sbuf_free(&q);
            return;
        }
        sbuf_free(&q);
        for (size_t j = 0; j < i - from && j < r->body.len; j++) {
            char c = r->body.s[j];

            if (c < '0' || c > '0' + ITEM_STATE_COUNT) {
                protocol_error(r, "state");
                return;
            }
            out[from + j] = (unsigned char)(c - '0');
        }
    }
}

/* ---- commands: the ctl commands, through the same connection ---- */

static void changed(struct remote *r)
{
    forget_turn(r);                /* the next frame shows the change */
    r->hv_ms = INT64_MIN;
}

static const struct wc *wc_find(struct remote *r, uint64_t id)
{
    for (size_t i = 0; i < r->nwc; i++)
        if (r->wc[i].id == id)
            return &r->wc[i];
    return NULL;
}

static bool wants_wait(const struct item *it)
{
    return it->state == ITEM_ACTIVE || it->state == ITEM_QUEUED || it->state == ITEM_RETRY;
}

/* One waits request for it and every row of this turn that has no answer yet: the rows on
 * screen ask once a frame, not once each (docs/ctl.md#attach-mode). */
static void fetch_waits(struct remote *r, const struct item *it)
{
    struct wait_facts run = { 0 }, hosts[CTL_WIRE_PAGE_MAX];
    uint64_t ids[CTL_WIRE_PAGE_MAX];
    struct sbuf q = { 0 };
    char err[ERRLEN], *l;
    size_t n = 0, k = 0, pos = 0;
    int nh = 0;

    ids[n++] = it->id;
    for (size_t i = 0; i < r->narena && n < CTL_WIRE_PAGE_MAX; i++) {
        const struct item *a = r->arena[i];
        bool dup = false;

        if (!wants_wait(a) || wc_find(r, a->id) != NULL)
            continue;
        for (size_t j = 0; j < n && !dup; j++)
            dup = ids[j] == a->id;
        if (!dup)
            ids[n++] = a->id;
    }
    if (r->nwc + n > CTL_WIRE_PAGE_MAX)
        r->nwc = 0;
    sbuf_addstr(&q, "waits ");
    for (size_t i = 0; i < n; i++)
        sbuf_printf(&q, "%s%llu", i ? "," : "", (unsigned long long)ids[i]);
    if (ask_line(r, err, q.s) < 0)
        goto out;
    if ((l = next_line(r, &pos)) == NULL || ctl_wire_wait_run_parse(l, &run) < 0)
        goto bad;
    while ((l = next_line(r, &pos)) != NULL) {
        struct wc *w;
        int host;
        bool gone;

        if (l[0] == 'h') {
            if (nh == CTL_WIRE_PAGE_MAX)
                goto bad;
            hosts[nh] = run;
            if (ctl_wire_wait_host_parse(l, loop_now(r->loop), r->version, &hosts[nh]) < 0)
                goto bad;
            nh++;
            continue;
        }
        if (k == n)
            goto bad;
        w = &r->wc[r->nwc];
        w->id = ids[k++];
        w->f = run;
        if (ctl_wire_wait_parse(l, loop_now(r->loop), &host, &gone, &w->f) < 0 || host >= nh)
            goto bad;
        if (host >= 0) {
            w->f.host_active = hosts[host].host_active;
            w->f.host_limit = hosts[host].host_limit;
            w->f.host_lowered = hosts[host].host_lowered;
            w->f.host_slow_status = hosts[host].host_slow_status;
            w->f.host_hold_until_ms = hosts[host].host_hold_until_ms;
            w->f.host_gate_until_ms = hosts[host].host_gate_until_ms;
            w->f.host_gate_status = hosts[host].host_gate_status;
            w->f.host_rps = hosts[host].host_rps;
            w->f.host_rps_empty = hosts[host].host_rps_empty;
        }
        w->gone = gone;
        r->nwc++;
    }
    if (k == n)
        goto out;
bad:
    protocol_error(r, "wait record");
out:
    /* Ids with no answer (refused, cut short) count as gone for this turn: asked once a frame,
     * not once a row. */
    for (; k < n; k++)
        r->wc[r->nwc++] = (struct wc){ .id = ids[k], .gone = true };
    turn_used(r);
    sbuf_free(&q);
}

/* Why it moves no bytes: the engine's facts as the server read them this frame; the item's own
 * state and next try from the row the UI shows, as the local source does (engine_item_wait). */
static bool r_wait(void *impl, const struct item *it, struct wait_facts *f)
{
    struct remote *r = impl;
    const struct wc *w;

    memset(f, 0, sizeof *f);
    if (r->version < 2)
        return false;              /* an older sluice: it cannot tell */
    f->state = it->state;
    f->next_try_ms = it->next_try_ms;
    if (it->state == ITEM_PAUSED)
        return true;               /* paused says it all: nothing to ask */
    if ((w = wc_find(r, it->id)) == NULL) {
        fetch_waits(r, it);
        w = wc_find(r, it->id);
    }
    if (w == NULL || w->gone)
        return false;
    *f = w->f;
    f->state = it->state;
    f->next_try_ms = it->next_try_ms;
    return true;
}

/* The Hosts tab: its rows move once a second, so they are asked at most once a second. */
static long r_hosts(void *impl, struct engine_host_view *out, size_t max)
{
    struct remote *r = impl;
    char err[ERRLEN], *l;
    size_t pos = 0;
    long n;

    if (r->version < 2)
        return -1;
    if (r->hv == NULL)
        r->hv = xcalloc(CTL_WIRE_HOSTS_MAX, sizeof *r->hv);
    if (r->hv_ms == INT64_MIN || mono_ms() - r->hv_ms >= 1000) {
        r->nhv = 0;
        r->hv_ms = mono_ms();
        if (ask(r, err, "hosts") < 0)
            return -1;
        while ((l = next_line(r, &pos)) != NULL) {
            if (r->nhv == CTL_WIRE_HOSTS_MAX ||
                ctl_wire_host_parse(l, loop_now(r->loop), r->version, &r->hv[r->nhv]) < 0) {
                protocol_error(r, "host row");
                r->nhv = 0;
                return -1;
            }
            r->nhv++;
        }
    }
    n = r->nhv < (long)max ? r->nhv : (long)max;
    memcpy(out, r->hv, (size_t)n * sizeof *out);
    return n;
}

/* The details of a segmented download list its ranges (attach 3). They move at the speed of
 * its connections, and a frame of 32 of them is over a kilobyte: asked at most once a second,
 * and only for the item whose details are shown (docs/ctl.md#attach-mode). */
static int r_ranges(void *impl, uint64_t id, struct engine_range_view *out, int max)
{
    struct remote *r = impl;
    char err[ERRLEN], *l;
    size_t pos = 0;
    long long count;

    if (r->version < 3)
        return 0;
    if (id != r->rg_id || mono_ms() - r->rg_ms >= 1000) {
        r->nrg = 0;
        r->rg_id = id;
        r->rg_ms = mono_ms();
        if (ask(r, err, "ranges %llu", (unsigned long long)id) < 0)
            return 0;
        if ((l = next_line(r, &pos)) == NULL || sscanf(l, "%lld", &count) != 1 || count < 0 ||
            count > 256) {
            protocol_error(r, "ranges answer");
            return 0;
        }
        while ((l = next_line(r, &pos)) != NULL) {
            if (r->nrg == CTL_WIRE_RANGES_MAX || ctl_wire_range_parse(l, &r->rg[r->nrg]) < 0) {
                protocol_error(r, "range");
                r->nrg = 0;
                return 0;
            }
            r->nrg++;
        }
        if (r->nrg > count)
            r->nrg = (int)count;
    }
    memcpy(out, r->rg, (size_t)(r->nrg < max ? r->nrg : max) * sizeof *out);
    return r->nrg;
}

/* ctl's schedule command through the same connection: its first line is "schedule SPEC". */
static int r_schedule(void *impl, const char *spec, struct sbuf *out, char *err)
{
    struct remote *r = impl;
    char *l;
    int rc = spec != NULL ? ask(r, err, "schedule %s", spec) : ask(r, err, "schedule");

    if (spec != NULL)
        changed(r);
    if (rc < 0)
        return -1;
    l = r->body.s;
    l[strcspn(l, "\n")] = '\0';
    if (strncmp(l, "schedule ", 9) != 0)
        return errf(err, "unexpected answer");
    sbuf_addstr(out, l + 9);
    return 0;
}

static void r_set_rate(void *impl, int64_t rate, int64_t burst)
{
    char err[ERRLEN];

    (void)burst;                   /* the run keeps its own --burst (docs/ctl.md) */
    ask(impl, err, "rate %lld", (long long)rate);
    changed(impl);
}

static void r_set_conc(void *impl, int n)
{
    char err[ERRLEN];

    ask(impl, err, "concurrency %d", n);
    changed(impl);
}

static int r_pause(void *impl, uint64_t id, bool resume, char *err)
{
    int rc = ask(impl, err, "%s %llu", resume ? "resume" : "pause", (unsigned long long)id);

    changed(impl);
    return rc < 0 ? -1 : 0;
}

static void r_pause_all(void *impl, bool resume)
{
    char err[ERRLEN];

    ask(impl, err, "%s all", resume ? "resume" : "pause");
    changed(impl);
}

static int r_requeue(void *impl, uint64_t id, char *err)
{
    int rc = ask(impl, err, "requeue %llu", (unsigned long long)id);

    changed(impl);
    return rc < 0 ? -1 : 0;
}

static long r_requeue_failed(void *impl, char *err)
{
    struct remote *r = impl;
    int64_t n = -1;

    if (ask(r, err, "requeue failed") == 0) {
        r->body.s[strcspn(r->body.s, "\n")] = '\0';
        if (ctl_wire_i64(r->body.s, &n) < 0) {
            errf(err, "unexpected answer");
            n = -1;
        }
    }
    changed(r);
    return (long)n;
}

static int r_remove(void *impl, uint64_t id, char *err)
{
    int rc = ask(impl, err, "remove %llu", (unsigned long long)id);

    changed(impl);
    return rc < 0 ? -1 : 0;
}

static int r_add(void *impl, const char *url, uint64_t *id, char *err)
{
    struct remote *r = impl;
    char *words[2] = { "add", (char *)url };
    int64_t v;
    int rc = ask_words(r, err, 2, words);

    changed(r);
    if (rc < 0)
        return -1;
    r->body.s[strcspn(r->body.s, "\n")] = '\0';
    if (ctl_wire_i64(r->body.s, &v) < 0 || v <= 0)
        return errf(err, "unexpected answer");
    *id = (uint64_t)v;
    return 0;
}

static int r_stop(void *impl, char *err)
{
    return ask(impl, err, "stop") == 0 ? 0 : -1;
}

static int r_flush(void *impl)
{
    char err[ERRLEN];

    return ask(impl, err, "flush") == 0 ? 0 : -1;
}

/* ---- events: polled at the frame rate ---- */

static void on_poll(void *arg)
{
    struct remote *r = arg;
    char err[ERRLEN], *l;
    size_t pos = 0, shown = 0;
    unsigned long long count, lost;

    if (r->lost != NULL)
        return;
    loop_timer_arm(r->poll, REMOTE_POLL_MS);
    if (ask(r, err, "events") < 0)
        goto tell;
    l = next_line(r, &pos);
    if (l == NULL || sscanf(l, "%llu %llu", &count, &lost) != 2) {
        protocol_error(r, "event");
        goto tell;
    }
    while ((l = next_line(r, &pos)) != NULL) {
        struct engine_event ev;
        struct item it;
        char *text;

        if (ctl_wire_event_parse(l, &ev, &it, &text) < 0) {
            protocol_error(r, "event");
            goto tell;
        }
        shown++;
        if (r->cb != NULL)
            r->cb(&ev, r->cb_arg);
        free(text);
    }
    if (count > shown) {
        /* Starts, completions...: nothing to show but the state they changed. */
        struct engine_event ev = { .kind = EV_QUEUED };

        forget_turn(r);
        if (r->cb != NULL)
            r->cb(&ev, r->cb_arg);
    } else if (shown > 0) {
        forget_turn(r);
    }
    return;
tell:
    if (r->lost != NULL && r->cb != NULL) {
        struct engine_event ev = { .kind = EV_QUEUED };

        r->cb(&ev, r->cb_arg);     /* the UI notices (uisrc_lost) on its next frame */
    }
}

static void r_listen(void *impl, engine_listener cb, void *arg)
{
    struct remote *r = impl;

    r->cb = cb;
    r->cb_arg = arg;
}

static const char *r_lost(void *impl)
{
    return ((struct remote *)impl)->lost;
}

static void r_free(void *impl)
{
    struct remote *r = impl;

    forget_turn(r);
    free(r->hv);
    free(r->arena);
    free(r->full);
    for (size_t i = 0; i < REMOTE_STATIC; i++)
        fixed_clear(&r->fixed[i]);
    loop_timer_free(r->turn);
    loop_timer_free(r->poll);
    if (r->fd >= 0)
        close(r->fd);
    sbuf_free(&r->in);
    sbuf_free(&r->body);
    free(r->path);
    free(r->lost);
    free(r);
}

static const struct uisrc_ops remote_ops = {
    .info = r_info, .stats = r_stats, .idle = r_idle, .rate_series = r_series,
    .xfer_view = r_xfer, .total = r_total, .count = r_count, .page = r_page, .get = r_get,
    .scan = r_scan, .states = r_states, .wait = r_wait, .hosts = r_hosts,
    .ranges_view = r_ranges,
    .schedule = r_schedule, .set_rate = r_set_rate, .set_concurrency = r_set_conc,
    .pause = r_pause, .pause_all = r_pause_all, .requeue = r_requeue,
    .requeue_failed = r_requeue_failed, .remove = r_remove, .add_url = r_add, .flush = r_flush,
    .stop = r_stop, .listen = r_listen, .lost = r_lost, .free = r_free,
};

static int dial(const char *path, const char *dir, char *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof sa.sun_path)
        return errf(err, "%s: the path is too long for a Unix socket", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errf(err, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR)
            errf(err, dir != NULL ? "no sluice is running for %s" : "no sluice is listening on %s",
                 dir != NULL ? dir : path);
        else
            errf(err, "cannot connect to %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* The greeting: "attach V" is answered "ok attach V\n", not framed (a server that does not
 * speak V answers "error: ..." and closes). 0; the newest version it speaks when refused by an
 * older sluice (the client asks again in that one); -1 with err. */
static int greet(struct remote *r, int version, char *err)
{
    struct sbuf hello = { 0 };
    int64_t deadline = mono_ms() + REMOTE_TIMEOUT_MS;
    char want[32], *nl;

    sbuf_printf(&hello, "attach %d\n", version);
    if (send_line(r, &hello, deadline) < 0) {
        sbuf_free(&hello);
        return errf(err, "%s: cannot send", r->path);
    }
    sbuf_free(&hello);
    while ((nl = r->in.len > 0 ? memchr(r->in.s, '\n', r->in.len) : NULL) == NULL)
        if (r->in.len > 4096 || fill(r, deadline) < 0)
            return errf(err, "%s: no answer to attach", r->path);
    snprintf(want, sizeof want, "ok attach %d", version);
    if ((size_t)(nl - r->in.s) != strlen(want) || memcmp(r->in.s, want, strlen(want)) != 0) {
        char line[256], *p;
        int lo, hi;

        /* "(this sluice speaks attach 1)" or "(... attach 1 to N)": the newest it speaks. */
        snprintf(line, sizeof line, "%.*s", (int)(nl - r->in.s), r->in.s);
        if ((p = strstr(line, "(this sluice speaks attach ")) != NULL) {
            p += strlen("(this sluice speaks attach ");
            if (sscanf(p, "%d to %d)", &lo, &hi) == 2 && lo >= 1 && hi >= lo && hi < version)
                return hi;
            if (strchr(p, ' ') == NULL && sscanf(p, "%d)", &lo) == 1 && lo >= 1 && lo < version)
                return lo;
        }
        return errf(err, "the sluice on %s cannot be attached to: %s", r->path, line);
    }
    consume(r, (size_t)(nl - r->in.s) + 1);
    r->version = version;
    return 0;
}

struct uisrc *ctl_remote_new(struct loop *loop, const char *path, const char *dir, char *err)
{
    struct remote *r;
    struct uisrc *s;
    char msg[ERRLEN];
    size_t pos = 0;
    char *l;
    int fd, rc;
    long long v[4];

    if ((fd = dial(path, dir, err)) < 0)
        return NULL;
    r = xcalloc(1, sizeof *r);
    r->loop = loop;
    r->fd = fd;
    r->path = xstrdup(path);
    r->hv_ms = INT64_MIN;
    r->turn = loop_timer_new(loop, forget_turn, r);
    r->poll = loop_timer_new(loop, on_poll, r);
    s = xcalloc(1, sizeof *s);
    s->ops = &remote_ops;
    s->impl = r;
    if ((rc = greet(r, CTL_ATTACH_VERSION, err)) > 0) {
        /* An older sluice: the UI it can serve (before attach 4 no "rps" nor a cap group's hold
         * as why a row waits, before 3 no connections nor ranges of a segmented download,
         * before 2 no WAITING column and no Hosts tab). */
        close(r->fd);
        r->in.len = 0;
        if ((r->fd = dial(path, dir, err)) < 0)
            goto fail;
        rc = greet(r, rc, err);
    }
    if (rc != 0)
        goto fail;
    if (ask(r, msg, "info") < 0 || (l = next_line(r, &pos)) == NULL ||
        sscanf(l, "%lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3]) != 4 || v[0] != r->version) {
        errf(err, "the sluice on %s: %s", path, r->lost != NULL ? r->lost : "unexpected greeting");
        goto fail;
    }
    r->info.retries = (int)v[1];
    r->info.segments = (int)v[2];
    r->info.burst = v[3];
    loop_timer_arm(r->poll, REMOTE_POLL_MS);
    return s;
fail:
    uisrc_free(s);
    return NULL;
}

void ctl_remote_traffic(struct uisrc *s, uint64_t *in, uint64_t *out)
{
    struct remote *r = s->impl;

    *in = r->bytes_in;
    *out = r->bytes_out;
}
