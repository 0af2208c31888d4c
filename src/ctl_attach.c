/* The server's half of the attach mode (src/ctl_attach.h, docs/ctl.md#attach-mode). Every read
 * goes through uisrc_local, the source the local TUI reads: one state, however many UIs. Only
 * what a client asks for is sent (a page of rows, one item), so the cost of a request does not
 * grow with the session, and every request is bounded (page rows, scan slice, line length). */
#include "ctl_attach.h"
#include "ctl_cmd.h"
#include "ctl_wire.h"
#include "engine.h"
#include "loop.h"
#include "uisrc.h"
#include "urlpath.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ctl_attach {
    struct loop *loop;
    struct engine *e;
    const struct settings *s;
    struct uisrc *src;
    int version;                    /* the one the client asked for (docs/ctl.md#attach-mode) */
    /* events since the client's last poll: the ones a UI shows (its messages, the error history
     * of the details view) as wire lines in a ring, the others only counted */
    char *ring[CTL_ATTACH_EVENTS];
    size_t head, n;
    uint64_t count, lost;
};

/* Kinds whose contents the UI uses; the others only make it redraw (ui.c, on_event). */
static bool shown(enum engine_event_kind k)
{
    return k == EV_RETRY || k == EV_FAILED || k == EV_MESSAGE || k == EV_RATE || k == EV_PAUSED ||
           k == EV_RESUMED;
}

/* An engine listener: records, never writes to the socket (a slow client costs no time here). */
static void on_event(const struct engine_event *ev, void *arg)
{
    struct ctl_attach *a = arg;
    struct sbuf l = { 0 };

    a->count++;
    if (!shown(ev->kind))
        return;
    ctl_wire_event(&l, ev);
    if (a->n == CTL_ATTACH_EVENTS) {
        free(a->ring[a->head]);
        a->head = (a->head + 1) % CTL_ATTACH_EVENTS;
        a->n--;
        a->lost++;
    }
    a->ring[(a->head + a->n) % CTL_ATTACH_EVENTS] = l.s;
    a->n++;
}

struct ctl_attach *ctl_attach_new(struct loop *loop, struct engine *e, struct queue *q,
                                  const struct settings *s, int version)
{
    struct ctl_attach *a = xcalloc(1, sizeof *a);
    struct uisrc_info info = { 0 };

    if (s != NULL) {
        info.retries = s->retries;
        info.segments = s->segments;
        info.burst = s->burst;
    }
    a->loop = loop;
    a->version = version;
    a->e = e;
    a->s = s;
    a->src = uisrc_local_new(loop, e, q, &info);
    uisrc_listen(a->src, on_event, a);
    return a;
}

void ctl_attach_free(struct ctl_attach *a)
{
    if (a == NULL)
        return;
    uisrc_free(a->src);
    for (size_t i = 0; i < a->n; i++)
        free(a->ring[(a->head + i) % CTL_ATTACH_EVENTS]);
    free(a);
}

/* One item with its URLs redacted: answers never carry credentials (docs/ctl.md). */
static void put_item(struct ctl_attach *a, struct sbuf *b, struct item *it)
{
    struct item red = *it;
    char **urls = xcalloc(it->nurls + 1, sizeof *urls);
    struct engine_xfer_view x;
    bool live = it->state == ITEM_ACTIVE && uisrc_xfer_view(a->src, it->id, &x);

    for (size_t i = 0; i < it->nurls; i++)
        urls[i] = urlpath_redact(it->urls[i]);
    red.urls = urls;
    ctl_wire_item(b, &red, loop_now(a->loop), live ? &x : NULL, a->version);
    sbuf_addstr(b, "\n");
    util_strv_free(urls, it->nurls);
}

static void put_row(struct ctl_attach *a, struct sbuf *b, struct item *it)
{
    struct engine_xfer_view x;
    bool live = it->state == ITEM_ACTIVE && uisrc_xfer_view(a->src, it->id, &x);

    ctl_wire_row(b, it, loop_now(a->loop), live ? &x : NULL, a->version);
    sbuf_addstr(b, "\n");
}

static int num(const char *w, int64_t lo, int64_t hi, int64_t *v, const char *what, char *err)
{
    if (ctl_wire_i64(w, v) < 0 || *v < lo || *v > hi)
        return errf(err, "%s: '%s' is not a number in %lld..%lld", what, w, (long long)lo,
                    (long long)hi);
    return 0;
}

/* page: item records; rows: row records (what changes; the client keeps the rest). */
static int req_page(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err)
{
    int64_t st, off, n;
    struct item *rows[CTL_WIRE_PAGE_MAX];
    size_t got;

    if (argc != 4 || num(argv[1], -1, ITEM_STATE_COUNT - 1, &st, "state", err) < 0 ||
        num(argv[2], 0, INT64_MAX, &off, "offset", err) < 0 ||
        num(argv[3], 0, CTL_WIRE_PAGE_MAX, &n, "rows", err) < 0)
        return argc != 4 ? errf(err, "usage: %s STATE OFFSET ROWS", argv[0]) : -1;
    got = uisrc_page(a->src, (int)st, (size_t)off, (size_t)n, rows);
    for (size_t i = 0; i < got; i++) {
        if (argv[0][0] == 'r')
            put_row(a, b, rows[i]);
        else
            put_item(a, b, rows[i]);
    }
    return 0;
}

/* items ID,ID,...: the item records of those that exist, in that order. */
static int req_items(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err)
{
    char *p, *save = NULL;
    int n = 0;

    if (argc != 2)
        return errf(err, "usage: items ID,ID,...");
    for (p = strtok_r(argv[1], ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        int64_t id;
        struct item *it;

        if (num(p, 1, INT64_MAX, &id, "id", err) < 0)
            return -1;
        if (++n > CTL_WIRE_PAGE_MAX)
            return errf(err, "items: at most %d ids", CTL_WIRE_PAGE_MAX);
        if ((it = uisrc_get(a->src, (uint64_t)id)) != NULL)
            put_item(a, b, it);
    }
    return 0;
}

static int req_scan(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err)
{
    int64_t next, seen, max;
    uint64_t *ids, unext;
    size_t useen, n;

    if (argc != 5)
        return errf(err, "usage: scan NEXT SEEN MAX FILTER");
    if (num(argv[1], 1, INT64_MAX, &next, "next", err) < 0 ||
        num(argv[2], 0, INT64_MAX, &seen, "seen", err) < 0 ||
        num(argv[3], 1, CTL_WIRE_SCAN_MAX, &max, "max", err) < 0)
        return -1;
    if (argv[4][0] == '\0')
        return errf(err, "scan: empty filter");
    ids = xmalloc((size_t)max * sizeof *ids);
    unext = (uint64_t)next;
    useen = (size_t)seen;
    n = uisrc_scan(a->src, argv[4], &unext, (size_t)max, &useen, ids);
    sbuf_printf(b, "%llu %zu\n", (unsigned long long)unext, useen);
    for (size_t i = 0; i < n; i++)
        sbuf_printf(b, "%s%llu", i ? " " : "", (unsigned long long)ids[i]);
    sbuf_addstr(b, "\n");
    free(ids);
    return 0;
}

/* states ID,ID,... [FILTER]: one digit per id (ITEM_STATE_COUNT when it is gone, or when the
 * live half of FILTER, the UI's filter text, is not met). */
static int req_states(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err)
{
    char *p, *save = NULL;
    const char *filter = argc == 3 ? argv[2] : NULL;

    if (argc != 2 && argc != 3)
        return errf(err, "usage: states ID,ID,... [FILTER]");
    for (p = strtok_r(argv[1], ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        int64_t id;
        unsigned char st;
        uint64_t uid;

        if (num(p, 1, INT64_MAX, &id, "id", err) < 0)
            return -1;
        uid = (uint64_t)id;
        uisrc_states(a->src, &uid, 1, filter, &st);
        sbuf_printf(b, "%d", st);
    }
    sbuf_addstr(b, "\n");
    return 0;
}

/* waits ID,ID,...: why those rows move no bytes (docs/ctl.md#attach-mode): the run's part once,
 * each host's part once, then one short record per id. A client asks for the rows it shows, once
 * a frame, so a screen of rows costs a few bytes each (bench/attach.sh). */
static int req_waits(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err)
{
    char *p, *save = NULL, *names[CTL_WIRE_PAGE_MAX];
    struct sbuf recs = { 0 };
    struct wait_facts f, run = { 0 };
    int64_t now = loop_now(a->loop);
    int n = 0, nhosts = 0, rc = 0;
    bool have_run = false;

    if (argc != 2)
        return errf(err, "usage: waits ID,ID,...");
    for (p = strtok_r(argv[1], ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
        int64_t id;
        struct item *it;
        int host = -1;

        if (num(p, 1, INT64_MAX, &id, "id", err) < 0 ||
            (++n > CTL_WIRE_PAGE_MAX && errf(err, "waits: at most %d ids", CTL_WIRE_PAGE_MAX))) {
            rc = -1;
            break;
        }
        if ((it = uisrc_get(a->src, (uint64_t)id)) == NULL || !uisrc_wait(a->src, it, &f)) {
            sbuf_addstr(&recs, "x\n");
            continue;
        }
        if (!have_run) {
            run = f;
            have_run = true;
        }
        for (int i = 0; it->host != NULL && i < nhosts && host < 0; i++)
            if (strcmp(names[i], it->host) == 0)
                host = i;
        if (it->host != NULL && host < 0) {
            host = nhosts;
            names[nhosts++] = xstrdup(it->host);
            ctl_wire_wait_host(&recs, &f, now, a->version);
            sbuf_addstr(&recs, "\n");
        }
        ctl_wire_wait(&recs, host, &f, now);
        sbuf_addstr(&recs, "\n");
    }
    if (rc == 0) {
        ctl_wire_wait_run(b, &run);
        sbuf_addstr(b, "\n");
        if (recs.len > 0)
            sbuf_add(b, recs.s, recs.len);
    }
    for (int i = 0; i < nhosts; i++)
        free(names[i]);
    sbuf_free(&recs);
    return rc;
}

/* hosts: the Hosts tab's rows, busiest first (engine_hosts_view; at most 256). */
static int req_hosts(struct ctl_attach *a, struct sbuf *b)
{
    struct engine_host_view *hv = xcalloc(CTL_WIRE_HOSTS_MAX, sizeof *hv);
    long got = uisrc_hosts(a->src, hv, CTL_WIRE_HOSTS_MAX);

    for (long i = 0; i < got; i++) {
        ctl_wire_host(b, &hv[i], loop_now(a->loop), a->version);
        sbuf_addstr(b, "\n");
    }
    free(hv);
    return 0;
}

/* ranges ID (attach 3): a segmented download's ranges, as its details list them
 * (engine_ranges_view; at most CTL_WIRE_RANGES_MAX). */
static int req_ranges(struct ctl_attach *a, const char *id, struct sbuf *b, char *err)
{
    struct engine_range_view rv[CTL_WIRE_RANGES_MAX];
    int64_t v;
    int n;

    if (num(id, 1, INT64_MAX, &v, "id", err) < 0)
        return -1;
    n = uisrc_ranges_view(a->src, (uint64_t)v, rv, CTL_WIRE_RANGES_MAX);
    sbuf_printf(b, "%d\n", n);
    for (int i = 0; i < n && i < CTL_WIRE_RANGES_MAX; i++) {
        ctl_wire_range(b, &rv[i]);
        sbuf_addstr(b, "\n");
    }
    return 0;
}

static int req_events(struct ctl_attach *a, struct sbuf *b)
{
    sbuf_printf(b, "%llu %llu\n", (unsigned long long)a->count, (unsigned long long)a->lost);
    for (size_t i = 0; i < a->n; i++) {
        char **slot = &a->ring[(a->head + i) % CTL_ATTACH_EVENTS];

        sbuf_addstr(b, *slot);
        sbuf_addstr(b, "\n");
        free(*slot);
        *slot = NULL;
    }
    a->head = a->n = 0;
    a->count = a->lost = 0;
    return 0;
}

/* Attach-only requests; NULL name: not one of them (a ctl command, or unknown). */
static int attach_req(struct ctl_attach *a, int argc, char **argv, struct sbuf *b, char *err,
                      bool *handled)
{
    const char *w = argv[0];
    int64_t v;

    *handled = true;
    if (strcmp(w, "info") == 0 && argc == 1) {
        struct uisrc_info in;

        uisrc_info(a->src, &in);
        sbuf_printf(b, "%d %d %d %lld\n", a->version, in.retries, in.segments,
                    (long long)in.burst);
        return 0;
    }
    if (strcmp(w, "stats") == 0 && argc == 1) {
        struct engine_stats st;

        uisrc_stats(a->src, &st);
        ctl_wire_stats(b, &st, uisrc_idle(a->src));
        sbuf_addstr(b, "\n");
        return 0;
    }
    if (strcmp(w, "series") == 0 && argc == 2) {
        int64_t s[CTL_WIRE_SERIES_MAX];

        if (num(argv[1], 1, CTL_WIRE_SERIES_MAX, &v, "series", err) < 0)
            return -1;
        uisrc_rate_series(a->src, s, (int)v);
        for (int i = 0; i < (int)v; i++)
            sbuf_printf(b, "%s%lld", i ? " " : "", (long long)s[i]);
        sbuf_addstr(b, "\n");
        return 0;
    }
    if (strcmp(w, "page") == 0 || strcmp(w, "rows") == 0)
        return req_page(a, argc, argv, b, err);
    if (strcmp(w, "items") == 0)
        return req_items(a, argc, argv, b, err);
    if (strcmp(w, "get") == 0 && argc == 2) {
        struct item *it;

        if (num(argv[1], 1, INT64_MAX, &v, "id", err) < 0)
            return -1;
        if ((it = uisrc_get(a->src, (uint64_t)v)) != NULL)
            put_item(a, b, it);
        return 0;
    }
    if (strcmp(w, "scan") == 0)
        return req_scan(a, argc, argv, b, err);
    if (strcmp(w, "states") == 0)
        return req_states(a, argc, argv, b, err);
    if (strcmp(w, "events") == 0 && argc == 1)
        return req_events(a, b);
    if (strcmp(w, "waits") == 0)
        return req_waits(a, argc, argv, b, err);
    if (strcmp(w, "hosts") == 0 && argc == 1)
        return req_hosts(a, b);
    if (strcmp(w, "ranges") == 0 && argc == 2)
        return req_ranges(a, argv[1], b, err);
    if (strcmp(w, "stop") == 0 && argc == 1) {
        /* As SIGTERM: main's signal descriptor stops the run cleanly (exit 3, .part kept). */
        kill(getpid(), SIGTERM);
        return 0;
    }
    if (strcmp(w, "flush") == 0 && argc == 1)
        return uisrc_flush(a->src) < 0 ? errf(err, "the session could not be written") : 0;
    *handled = false;
    return 0;
}

static void frame(struct sbuf *out, const struct sbuf *body)
{
    sbuf_printf(out, "ok %zu\n", body->len);
    if (body->len > 0)
        sbuf_add(out, body->s, body->len);
}

void ctl_attach_exec(struct ctl_attach *a, const char *line, size_t len, struct sbuf *out)
{
    struct sbuf body = { 0 }, ans = { 0 };
    char err[ERRLEN] = "";
    char **argv = NULL;
    bool handled;
    int argc;

    if (ctl_cmd_split(line, len, &argc, &argv, err) < 0) {
        ctl_cmd_error(out, err);
        return;
    }
    if (attach_req(a, argc, argv, &body, err, &handled) < 0) {
        ctl_cmd_error(out, err);
    } else if (handled) {
        frame(out, &body);
    } else if (ctl_cmd_exec(a->e, a->s, line, len, &ans) == 0) {
        /* A ctl command: its "ok\n" + body, framed like the rest. */
        body.len = 0;
        if (ans.len > 3)
            sbuf_add(&body, ans.s + 3, ans.len - 3);
        frame(out, &body);
    } else {
        sbuf_add(out, ans.s, ans.len);
    }
    sbuf_free(&body);
    sbuf_free(&ans);
    ctl_cmd_argv_free(argv);
}
