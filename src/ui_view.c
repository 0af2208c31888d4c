/* The two sub-screens that replace the list: the details of one item, and the keys. */
#include "ui_impl.h"
#include "engine.h"
#include "loop.h"
#include "opts.h"
#include "ui_text.h"
#include "units.h"
#include "urlpath.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LABEL_W 15

struct lines {
    struct ui *u;
    int y, y1;
};

/* One "label  value" line, the value wrapped onto up to max_lines lines (URLs are long). */
static void line(struct lines *l, const char *label, const char *value, enum theme_elem e,
                 int max_lines)
{
    struct ui *u = l->u;
    int w = COLS - 2 - LABEL_W;
    size_t n, i = 0;
    wchar_t *text;

    if (l->y >= l->y1 || w < 8)
        return;
    ui_fill(u, l->y, 0, COLS, TH_ROW);
    ui_put(u, l->y, 1, LABEL_W, TH_DETAIL_LABEL, label, false, false);
    text = ui_text_decode(value != NULL ? value : "", u->utf8, &n);
    for (int k = 0; k < max_lines && l->y < l->y1; k++) {
        int x = 1 + LABEL_W, used = 0;
        bool last = k == max_lines - 1 || l->y == l->y1 - 1;

        if (k > 0)
            ui_fill(u, l->y, 0, COLS, TH_ROW);
        attrset(u->attr[e]);
        while (i < n && used + ui_text_wcwidth(text[i]) <= w - (last ? 1 : 0)) {
            wchar_t c[2] = { text[i], L'\0' };

            mvaddwstr(l->y, x + used, c);
            used += ui_text_wcwidth(text[i++]);
        }
        if (last && i < n)
            mvaddwstr(l->y, x + used, u->utf8 ? L"\u2026" : L"~");
        l->y++;
        if (i >= n)
            break;
    }
    free(text);
}

static const char *clock_text(int64_t wall, char *buf, size_t len)
{
    time_t t = (time_t)(wall / 1000);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
    return buf;
}

static void errors(struct lines *l, const struct item *it)
{
    struct ui *u = l->u;
    char text[ERRLEN + 64], when[16];
    int shown = 0;

    /* Newest first, from the ring of recent retry and failure events. */
    for (size_t k = 0; k < UI_HIST && l->y < l->y1; k++) {
        const struct ui_hist *h = &u->hist[(u->hist_next + UI_HIST - 1 - k) % UI_HIST];

        if (h->text == NULL || h->id != it->id)
            continue;
        snprintf(text, sizeof text, "%s  %s%s", clock_text(h->wall_ms, when, sizeof when),
                 h->failed ? "failed: " : "retry: ", h->text);
        line(l, shown == 0 ? "errors" : "", text, h->failed ? TH_ST_FAILED : TH_ST_RETRY, 2);
        shown++;
    }
    if (shown == 0)
        line(l, "errors", it->error != NULL ? it->error : "none", it->error != NULL ?
             TH_ST_FAILED : TH_ROW, 2);
}

/* How the run's ETA is made (meter.h, meter_eta): bytes known and estimated, over the rate. */
static void eta_line(struct lines *l)
{
    struct engine_stats st;
    char a[32], b[32], c[32], d[32], text[ERRLEN];

    uisrc_stats(l->u->src, &st);
    if (st.eta_ms == 0) {
        line(l, "run ETA", "0s: nothing left to fetch", TH_VALUE, 1);
        return;
    }
    if (st.eta_unknown_items > 0 && st.eta_mean < 0) {
        snprintf(text, sizeof text, "unknown until an item finishes: %lld item%s of unknown size "
                 "left", (long long)st.eta_unknown_items, st.eta_unknown_items == 1 ? "" : "s");
        line(l, "run ETA", text, TH_VALUE, 2);
        return;
    }
    snprintf(text, sizeof text, "%s = (%s left of %lld started + %lld item%s x %s, the mean of %lld "
             "finished) at %s (%s)", st.eta_ms < 0 ? "unknown" : units_fmt_duration(st.eta_ms, a, sizeof a),
             units_fmt_size(st.eta_known_left, b, sizeof b), (long long)st.eta_known_items,
             (long long)st.eta_unknown_items, st.eta_unknown_items == 1 ? "" : "s",
             units_fmt_size(st.eta_mean > 0 ? st.eta_mean : 0, c, sizeof c),
             (long long)st.eta_finished, units_fmt_rate(st.eta_rate, d, sizeof d),
             st.eta_capped ? "the cap, lower than the last minute's rate" : "the last minute's rate");
    line(l, "run ETA", text, TH_VALUE, 2);
}

/* A segmented download lists its ranges: where each one is, how far, how fast
 * (docs/design.md#segmented-downloads). conns: -1 not running, 0 running but not told (a source
 * that does not report connections: sluice attach). */
static void segment_lines(struct ui *u, struct lines *l, const struct item *it, int conns)
{
    struct engine_range_view r[32];
    int n = conns > 0 ? uisrc_ranges_view(u->src, it->id, r, 32) : 0;
    char text[ERRLEN], a[32], b[32], c[32];

    if (conns <= 0)
        snprintf(text, sizeof text, "%s (--segments %d)", conns < 0 ? "none running" : "running",
                 u->info.segments);
    else
        snprintf(text, sizeof text, "%d connection%s%s (--segments %d)", conns,
                 conns == 1 ? "" : "s", n > 0 ? (snprintf(a, sizeof a, ", %d ranges", n), a) : "",
                 u->info.segments);
    line(l, "segments", text, TH_VALUE, 1);
    for (int i = 0; i < n && i < 32; i++) {
        int64_t len = r[i].end - r[i].start;

        snprintf(text, sizeof text, "%s +%s  %3d%%  %s", units_fmt_size(r[i].start, a, sizeof a),
                 units_fmt_size(len, b, sizeof b),
                 (int)(len > 0 ? (r[i].done >= len ? 100 : r[i].done * 100 / len) : 100),
                 r[i].busy ? units_fmt_rate(r[i].rate, c, sizeof c) : r[i].done >= len ? "done" : "idle");
        line(l, "", text, TH_VALUE, 1);
    }
}

void ui_view_details(struct ui *u, int y0, int y1)
{
    struct item *it = u->detail_id != 0 ? uisrc_get(u->src, u->detail_id) : NULL;
    struct lines l = { u, y0 + 1, y1 };
    struct engine_xfer_view v;
    bool live;
    char a[64], b[64], c[64], text[ERRLEN];

    ui_fill(u, y0, 0, COLS, TH_COLUMNS);
    if (it == NULL) {
        ui_put(u, y0, 1, COLS - 2, TH_COLUMNS, "no item", false, false);
        for (int y = y0 + 1; y < y1; y++)
            ui_fill(u, y, 0, COLS, TH_ROW);
        return;
    }
    snprintf(text, sizeof text, "item %llu of %zu: %s", (unsigned long long)it->id,
             uisrc_total(u->src), it->state == ITEM_UNCHANGED ? "unchanged" : item_state_name(it->state));
    ui_put(u, y0, 1, COLS - 2, TH_COLUMNS, text, false, false);
    ui_put_right(u, y0, COLS - 24, 23, TH_COLUMNS, "Esc or Enter: back");

    for (size_t i = 0; i < it->nurls; i++) {
        char *url = urlpath_redact(it->urls[i]);

        line(&l, i == 0 ? "URL" : "mirror", url, TH_VALUE, i == 0 ? 3 : 1);
        free(url);
    }
    line(&l, "path", it->path, TH_VALUE, 2);
    live = it->state == ITEM_ACTIVE && uisrc_xfer_view(u->src, it->id, &v);
    switch (it->state) {
    case ITEM_RETRY:
        if (it->next_try_ms > loop_now(u->loop))
            snprintf(text, sizeof text, "retry in %s, attempt %d of %d",
                     units_fmt_duration(it->next_try_ms - loop_now(u->loop) + 999, a, sizeof a),
                     it->attempts + 1, u->info.retries + 1);
        else
            snprintf(text, sizeof text, "retry due, next for a slot of its host, attempt %d of %d",
                     it->attempts + 1, u->info.retries + 1);
        break;
    case ITEM_FAILED:
        snprintf(text, sizeof text, "failed after %d attempt%s", it->attempts,
                 it->attempts == 1 ? "" : "s");
        break;
    default:
        snprintf(text, sizeof text, "%s, %d attempt%s (at most %d)",
                 it->state == ITEM_UNCHANGED ? "unchanged" : item_state_name(it->state),
                 it->attempts + (it->state == ITEM_ACTIVE),
                 it->attempts + (it->state == ITEM_ACTIVE) == 1 ? "" : "s", u->info.retries + 1);
    }
    line(&l, "state", text, TH_VALUE, 1);
    if (it->state == ITEM_ACTIVE || it->state == ITEM_QUEUED || it->state == ITEM_RETRY ||
        it->state == ITEM_PAUSED) {
        struct wait_facts f;
        struct wait_answer wa;
        int64_t now = mono_ms();

        /* Why it moves no bytes (wait.h): the engine's facts, one decision. */
        if (uisrc_wait(u->src, it, &f)) {
            wait_decide(&f, now, UI_STALL_SHOW_MS, &wa);
            line(&l, "waiting", wait_text(&wa, &f, now, text, sizeof text), TH_VALUE, 1);
        } else {
            /* Over attach: the item went meanwhile, or a sluice older than attach 2. */
            line(&l, "waiting", "-", TH_VALUE, 1);
        }
    }
    if (it->state == ITEM_FAILED || it->error != NULL)
        line(&l, "reason", ui_text_reason(it->error, it->http_status, text, sizeof text)[0] ?
             ui_text_reason(it->error, it->http_status, text, sizeof text) : "-", TH_VALUE, 1);
    if (it->http_status > 0)
        snprintf(text, sizeof text, "%d", it->http_status);
    line(&l, "HTTP status", it->http_status > 0 ? text : "-", TH_VALUE, 1);
    {
        int64_t size = live && v.size >= 0 ? v.size : it->size;
        int64_t got = live ? v.bytes : it->received;

        snprintf(text, sizeof text, "%s, %s on disk%s%s", units_fmt_size(size, a, sizeof a),
                 units_fmt_size(got, b, sizeof b), size > 0 ? ", " : "",
                 size > 0 ? (snprintf(c, sizeof c, "%d%%", (int)(got >= size ? 100 : got * 100 / size)), c)
                          : "");
        line(&l, "size", text, TH_VALUE, 1);
    }
    if (live) {
        snprintf(text, sizeof text, "%s%s", units_fmt_rate(v.rate, a, sizeof a),
                 v.throttled ? ", waiting for its turn under the cap" : "");
        line(&l, "speed", text, TH_VALUE, 1);
    }
    line(&l, "ETag", it->etag != NULL ? it->etag : "-", TH_VALUE, 1);
    line(&l, "Last-Modified", it->last_modified != NULL ? it->last_modified : "-", TH_VALUE, 1);
    if (it->has_sha256) {
        for (int i = 0; i < 32; i++)
            snprintf(text + 2 * i, sizeof text - 2 * (size_t)i, "%02x", it->sha256[i]);
        line(&l, "SHA-256", text, TH_VALUE, 1);
    }
    if (it->duration_ms > 0) {
        if (it->duration_ms < 10000)
            snprintf(a, sizeof a, "%.2f s", (double)it->duration_ms / 1000);
        else
            units_fmt_duration(it->duration_ms, a, sizeof a);
        line(&l, "last attempt", a, TH_VALUE, 1);
    }
    segment_lines(u, &l, it, live ? v.conns : -1);
    eta_line(&l);
    errors(&l, it);
    for (; l.y < y1; l.y++)
        ui_fill(u, l.y, 0, COLS, TH_ROW);
}

void ui_view_help(struct ui *u, int y0, int y1)
{
    const struct ui_key_doc *docs;
    size_t n = ui_keys_docs(&docs);
    int ncol = COLS >= 160 ? 2 : 1, colw = (COLS - 1) / ncol, rows = y1 - y0 - 2, per;
    char foot[ERRLEN];

    ui_fill(u, y0, 0, COLS, TH_COLUMNS);
    ui_put(u, y0, 1, COLS - 2, TH_COLUMNS, "keys (Up/Down scroll, any other key returns)", false,
           false);
    for (int y = y0 + 1; y < y1; y++)
        ui_fill(u, y, 0, COLS, TH_ROW);
    if (rows < 2)
        return;
    per = (int)((n + (size_t)ncol - 1) / (size_t)ncol);
    /* The last two rows are the footer: the schedule, the theme. */
    if (u->help_top > (per > rows - 1 ? per - (rows - 1) : 0))
        u->help_top = per > rows - 1 ? per - (rows - 1) : 0;
    for (int k = 0; k < per; k++) {
        int y = y0 + 1 + k - u->help_top;

        if (y <= y0 || y >= y1 - 2)
            continue;
        for (int cidx = 0; cidx < ncol; cidx++) {
            size_t i = (size_t)(cidx * per + k);
            int x = 1 + cidx * colw;

            if (i >= n)
                continue;
            ui_put(u, y, x, 12, TH_DETAIL_LABEL, docs[i].keys, false, false);
            ui_put(u, y, x + 12, colw - 13, TH_ROW, docs[i].help, false, false);
        }
    }
    {
        struct engine_stats st;
        struct sbuf b = { 0 };

        /* The schedule's step in force and the next one (docs/tui.md#the-screen). */
        uisrc_stats(u->src, &st);
        if (st.sched.nsteps > 0 && st.sched.step >= 0) {
            char d[32];

            sbuf_addstr(&b, "schedule now ");
            opts_format_step(&st.sched.cur, &b);
            sbuf_addstr(&b, ", next ");
            opts_format_step(&st.sched.nxt, &b);
            sbuf_printf(&b, " in %s (S changes it)",
                        units_fmt_duration(st.sched.next_in_s * 1000, d, sizeof d));
        } else {
            sbuf_addstr(&b, "no schedule (S sets one)");
        }
        ui_put(u, y1 - 2, 1, COLS - 2, TH_LABEL, b.s, false, false);
        sbuf_free(&b);
    }
    snprintf(foot, sizeof foot, "theme: %s; %s; %s", u->theme.source,
             u->color ? "colours" : "no colours (NO_COLOR or a colourless terminal)",
             u->utf8 ? "UTF-8" : "ASCII (the locale is not UTF-8)");
    ui_put(u, y1 - 1, 1, COLS - 2, TH_LABEL, foot, false, false);
}

/* Tab 7: per host, what holds it back and what it did in this run (engine_hosts_view). */
void ui_view_hosts(struct ui *u, int y0, int y1)
{
    struct engine_host_view hv[256];
    long got = uisrc_hosts(u->src, hv, ARRAY_LEN(hv));
    size_t n = got > 0 ? (size_t)got : 0;
    int64_t now = mono_ms();
    /* " NAME " then the 74 columns of the counts, one blank at the right edge. */
    int namew = COLS - 1 - 1 - 74 - 1;
    char a[64], b[64], why[64], q[32], head[160];

    if (namew < 12)
        namew = 12;
    ui_fill(u, y0, 0, COLS, TH_COLUMNS);
    ui_put(u, y0, 1, namew, TH_COLUMNS, "HOST", false, false);
    snprintf(head, sizeof head, "%6s %-26s %5s %5s %8s %6s %5s %6s", "CONNS", "LIMIT", "429",
             "503", "RATE", "QUEUED", "DONE", "FAILED");
    ui_put(u, y0, 1 + namew + 1, COLS - namew - 3, TH_COLUMNS, head, false, false);
    for (int y = y0 + 1; y < y1; y++)
        ui_fill(u, y, 0, COLS, TH_ROW);
    if (got < 0) {
        ui_put(u, y0 + 1, 1, COLS - 2, TH_LABEL,
               "the Hosts tab cannot be read from this sluice (older than attach 2; sluice ctl status has the run)",
               false, false);
        return;
    }
    if (n == 0) {
        ui_put(u, y0 + 1, 1, COLS - 2, TH_LABEL,
               "no host has transfers or trouble in this run", false, false);
        return;
    }
    for (size_t i = 0; i < n && y0 + 1 + (int)i < y1; i++) {
        const struct engine_host_view *h = &hv[i];
        int y = y0 + 1 + (int)i, x = 1;
        char row[256];

        if (h->limit > 0)
            snprintf(a, sizeof a, "%d/%d", h->active, h->limit);
        else
            snprintf(a, sizeof a, "%d", h->active);
        /* A cap group's hold first: nothing of the host starts before it ends
         * (docs/scale.md#holds-seen-by-every-worker). */
        if (h->gate_until_ms > now)
            snprintf(why, sizeof why, "group hold %d, %llds", h->gate_status > 0 ? h->gate_status : 429,
                     (long long)((h->gate_until_ms - now + 999) / 1000));
        else if (h->lowered && h->hold_until_ms > now)
            snprintf(why, sizeof why, "after %d, held %llds", h->slow_status > 0 ? h->slow_status : 503,
                     (long long)((h->hold_until_ms - now + 999) / 1000));
        else if (h->lowered)
            snprintf(why, sizeof why, "after %d, growing back", h->slow_status > 0 ? h->slow_status : 503);
        else if (h->limit > 0 && h->rps > 0)
            snprintf(why, sizeof why, "--per-host %d, %d/s", h->limit, h->rps);
        else if (h->limit > 0)
            snprintf(why, sizeof why, "--per-host %d", h->limit);
        else if (h->rps > 0)
            snprintf(why, sizeof why, "--per-host-rps %d", h->rps);
        else
            snprintf(why, sizeof why, "none");
        snprintf(q, sizeof q, "%zu%s", h->queued, h->queued_more ? "+" : "");
        ui_put(u, y, x, namew, TH_ROW, h->name, false, true);
        x += namew + 1;
        snprintf(row, sizeof row, "%6s %-26s %5ld %5ld %8s %6s %5ld %6ld", a, why, h->n429,
                 h->n503, ui_text_rate(h->rate, b, sizeof b), q, h->done, h->failed);
        ui_put(u, y, x, COLS - x - 1, h->lowered ? TH_ST_RETRY : TH_ROW, row, false, true);
    }
}
