/* Painting: the whole screen is drawn into stdscr on every frame and ncurses sends only the cells
 * that changed, so the cost on the wire follows what moved, not how often we draw. */
#include "ui_impl.h"
#include "engine.h"
#include "loop.h"
#include "shard.h"
#include "ui_text.h"
#include "units.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXW 1024                  /* widest line drawn; wider terminals get blank space */

int ui_put(struct ui *u, int y, int x, int w, enum theme_elem e, const char *s, bool keep_end,
           bool pad)
{
    wchar_t buf[MAXW + 2];
    int used;

    if (w <= 0 || x >= COLS || y >= LINES)
        return 0;
    if (w > MAXW)
        w = MAXW;
    if (w > COLS - x)
        w = COLS - x;
    used = ui_text_fit(s, w, u->utf8, keep_end, buf, ARRAY_LEN(buf));
    attrset(u->attr[e]);
    mvaddnwstr(y, x, buf, -1);
    if (pad) {
        for (int i = used; i < w; i++)
            mvaddch(y, x + i, ' ');
        used = w;
    }
    return used;
}

void ui_put_right(struct ui *u, int y, int x, int w, enum theme_elem e, const char *s)
{
    wchar_t buf[MAXW + 2];
    int used;

    if (w <= 0)
        return;
    used = ui_text_fit(s, w > MAXW ? MAXW : w, u->utf8, false, buf, ARRAY_LEN(buf));
    ui_fill(u, y, x, w - used, e);
    ui_put(u, y, x + w - used, used, e, s, false, false);
}

void ui_fill(struct ui *u, int y, int x, int w, enum theme_elem e)
{
    attrset(u->attr[e]);
    for (int i = 0; i < w && x + i < COLS; i++)
        mvaddch(y, x + i, ' ');
}

static int width_of(struct ui *u, const char *s, int max)
{
    wchar_t buf[MAXW + 2];

    return ui_text_fit(s, max > MAXW ? MAXW : max, u->utf8, false, buf, ARRAY_LEN(buf));
}

/* "label value" pairs on one line; returns the next column. */
static int pair(struct ui *u, int y, int x, int end, const char *label, const char *value,
                enum theme_elem ve)
{
    x += ui_put(u, y, x, end - x, TH_LABEL, label, false, false);
    x += ui_put(u, y, x, end - x, ve, value, false, false);
    return x;
}

/* A bar in two styles: the part that shows, the rest. */
static void bar(struct ui *u, int y, int x, int w, double frac, enum theme_elem fill,
                enum theme_elem rest)
{
    wchar_t cells[MAXW + 1];
    int full;

    if (w <= 0)
        return;
    if (w > MAXW)
        w = MAXW;
    full = ui_text_bar(frac, w, u->utf8, cells);
    attrset(u->attr[fill]);
    mvaddnwstr(y, x, cells, full);
    attrset(u->attr[rest]);
    for (int i = full; i < w; i++)
        mvaddwstr(y, x + i, u->utf8 ? L"\u00b7" : L".");
}

/* "(live until 18:30, then 10M)" from the engine's view of the cap (docs/tui.md#the-screen). */
static const char *cap_note(const struct engine_stats *st, char *buf, size_t len)
{
    const struct engine_sched_view *v = &st->sched;
    int wday = -1, minute = -1;
    char note[64];

    if (v->nsteps > 0 && v->next >= 0) {
        time_t now = time(NULL), at = (time_t)(v->next_at_ms / 1000);
        struct tm tn, ta;

        localtime_r(&now, &tn);
        localtime_r(&at, &ta);
        minute = ta.tm_hour * 60 + ta.tm_min;
        if (ta.tm_yday != tn.tm_yday || ta.tm_year != tn.tm_year)
            wday = ta.tm_wday;
    }
    ui_text_cap_note((int)v->source, wday, minute, v->then_rate, note, sizeof note);
    snprintf(buf, len, " (%s)", note);
    return buf;
}

static void header(struct ui *u, const struct engine_stats *st)
{
    char a[48], b[48], right[96], note[80];
    int64_t series[59], peak = 0, scale;
    int x, w = COLS, sw, rw;
    bool idle = u->idle_since_ms >= 0;

    /* Row 0: the received rate against the cap, the clock. */
    ui_fill(u, 0, 0, w, TH_HEADER);
    x = ui_put(u, 0, 0, w, TH_TITLE, " sluice ", false, false) + 1;
    x = pair(u, 0, x, w, "rate ", units_fmt_rate(st->rate, a, sizeof a), TH_VALUE);
    x = pair(u, 0, x, w, "  cap ", units_fmt_cap(st->cap, b, sizeof b),
             st->cap > 0 ? TH_VALUE : TH_LABEL);
    x += ui_put(u, 0, x, w - x, TH_LABEL, cap_note(st, note, sizeof note), false, false);
    /* One worker of several: which part of the list this one takes (docs/scale.md#sharding). */
    if (st->shard.n > 0)
        x = pair(u, 0, x, w, "  shard ", shard_fmt(&st->shard, b, sizeof b), TH_VALUE);
    /* The cap is a group's (docs/scale.md#the-shared-cap): how many share it, or, while Redis
     * is away, the cap this worker keeps to on its own. */
    if (st->group_workers > 0 && st->group_up) {
        snprintf(b, sizeof b, "%d", st->group_workers);
        x = pair(u, 0, x, w, "  workers ", b, TH_VALUE);
    } else if (st->group_workers > 0) {
        x = pair(u, 0, x, w, "  REDIS AWAY, local ", units_fmt_cap(st->local_cap, b, sizeof b),
                 TH_ERROR);
    }
    snprintf(right, sizeof right, "elapsed %s  ETA %s",
             units_fmt_duration(idle ? u->frozen_elapsed_ms : st->elapsed_ms, a, sizeof a),
             idle && st->total > 0 ? "done" : units_fmt_duration(st->eta_ms, b, sizeof b));
    rw = (int)strlen(right);
    if (x + 2 + rw < w)
        ui_put_right(u, 0, w - rw - 1, rw, TH_LABEL, right);
    if (st->cap > 0) {
        /* "[" bar "]" " 100%", then a blank before the clock on the right. */
        int bw = w - rw - x - 10;
        double frac = (double)st->rate / (double)st->cap;

        if (bw >= 6) {
            ui_put(u, 0, x + 1, 1, TH_HEADER, "[", false, false);
            bar(u, 0, x + 2, bw, frac, frac >= 0.95 ? TH_BAR_FULL : TH_BAR, TH_BAR_EMPTY);
            ui_put(u, 0, x + 2 + bw, 1, TH_HEADER, "]", false, false);
            snprintf(a, sizeof a, " %3d%%", (int)(frac * 100 + 0.5) > 999 ? 999 : (int)(frac * 100 + 0.5));
            ui_put(u, 0, x + 3 + bw, 5, frac >= 0.95 ? TH_BAR_FULL : TH_VALUE, a, false, false);
        }
    }

    /* Row 1: the last minute, one cell a second, newest on the right. */
    ui_fill(u, 1, 0, w, TH_HEADER);
    sw = w - 5 - 22;              /* 59 cells (the engine's whole seconds) from 86 columns */
    if (sw > (int)ARRAY_LEN(series))
        sw = (int)ARRAY_LEN(series);
    if (sw > 0) {
        uisrc_rate_series(u->src, series, sw);
        for (int i = 0; i < sw; i++)
            if (series[i] > peak)
                peak = series[i];
        scale = st->cap > peak ? st->cap : peak;
        snprintf(a, sizeof a, " %2ds ", sw);
        ui_put(u, 1, 0, 5, TH_LABEL, a, false, false);
        attrset(u->attr[TH_SPARK]);
        for (int i = 0; i < sw; i++) {
            wchar_t c[2] = { ui_text_spark(series[i], scale, u->utf8), L'\0' };

            mvaddwstr(1, 5 + i, c);
        }
        pair(u, 1, 5 + sw, w, "  peak ", units_fmt_rate(peak, a, sizeof a), TH_VALUE);
    }

    /* Row 2: slots and counts; alerts on the right. */
    ui_fill(u, 2, 0, w, TH_HEADER);
    snprintf(a, sizeof a, "%d/%d", st->transfers, st->concurrency);
    x = pair(u, 2, 1, w, "conns ", a, TH_VALUE);
    snprintf(a, sizeof a, "%zu", st->done + st->unchanged);
    x = pair(u, 2, x, w, "  done ", a, TH_VALUE);
    snprintf(a, sizeof a, "%zu", st->active);
    x = pair(u, 2, x, w, "  active ", a, TH_VALUE);
    snprintf(a, sizeof a, "%zu", st->queued);
    x = pair(u, 2, x, w, "  queued ", a, TH_VALUE);
    snprintf(a, sizeof a, "%zu", st->retrying);
    x = pair(u, 2, x, w, "  retrying ", a, st->retrying > 0 ? TH_ST_RETRY : TH_VALUE);
    snprintf(a, sizeof a, "%zu", st->failed);
    x = pair(u, 2, x, w, "  failed ", a, st->failed > 0 ? TH_ST_FAILED : TH_VALUE);
    if (st->paused > 0) {
        snprintf(a, sizeof a, "%zu", st->paused);
        x = pair(u, 2, x, w, "  paused ", a, TH_ST_PAUSED);
    }
    /* An alert wins over the counts it may cover: they are in the tabs too. */
    if (st->session_error != NULL)
        snprintf(right, sizeof right, " SESSION NOT SAVED, retrying ");
    else if (st->disk_full)
        snprintf(right, sizeof right, " DISK FULL, waiting (P: try now) ");
    else if (st->paused_all)
        snprintf(right, sizeof right, " ALL PAUSED (P resumes) ");
    else
        right[0] = '\0';
    rw = (int)strlen(right);
    if (rw > 0)
        ui_put(u, 2, w - rw, rw, TH_ALERT, right, false, false);
    else if (x + 16 < w)
        pair(u, 2, x, w, "  got ", units_fmt_size(st->bytes, a, sizeof a), TH_VALUE);
}

/* Tab labels with their counts; a million items may not fit in 80 columns, then the counts go
 * (the header has them). */
static void tabs(struct ui *u, const struct engine_stats *st)
{
    char label[TAB_COUNT][48];
    int x = 0;

    for (int counts = 1; counts >= 0; counts--) {
        int total = 0;

        for (int t = 0; t < TAB_COUNT; t++) {
            if (counts)
                snprintf(label[t], sizeof label[t], " %d %s %zu ", t + 1,
                         ui_list_tab_name((enum ui_tab)t), ui_list_count(u, (enum ui_tab)t));
            else
                snprintf(label[t], sizeof label[t], " %d %s ", t + 1, ui_list_tab_name((enum ui_tab)t));
            total += (int)strlen(label[t]);
        }
        if (total <= COLS)
            break;
    }
    ui_fill(u, 3, 0, COLS, TH_TAB);
    for (int t = 0; t < TAB_COUNT; t++)
        x += ui_put(u, 3, x, COLS - x, t == (int)u->tab && u->view != VIEW_HOSTS ? TH_TAB_ACTIVE :
                    TH_TAB, label[t], false, false);
    ui_put(u, 3, x, COLS - x, u->view == VIEW_HOSTS ? TH_TAB_ACTIVE : TH_TAB, " 7 Hosts ", false,
           false);
}

/* ---- the list ---- */

enum col { C_NAME, C_STATE, C_SIZE, C_PROG, C_PCT, C_SPEED, C_ETA, C_TRY, C_NEXT, C_HTTP, C_TIME,
           C_ERROR, C_WAIT, C_HOST, C_END };

static const struct {
    const char *title;
    int width;                     /* 0: shares what is left */
    bool right;
} cols[C_END] = {
    [C_NAME] = { "NAME", 0, false }, [C_STATE] = { "STATE", 6, false },
    [C_SIZE] = { "SIZE", 6, true }, [C_PROG] = { "PROGRESS", 12, false },
    [C_PCT] = { "%", 4, true }, [C_SPEED] = { "SPEED", 8, true }, [C_ETA] = { "ETA", 6, true },
    [C_TRY] = { "TRY", 3, true }, [C_NEXT] = { "NEXT", 6, true }, [C_HTTP] = { "HTTP", 4, true },
    [C_TIME] = { "TIME", 6, true }, [C_ERROR] = { "REASON", 0, false },
    [C_WAIT] = { "WAITING", 13, false }, [C_HOST] = { "HOST", 18, false },
};

/* The compact layout's columns: the name keeps room on 60 columns. */
static const enum col tab_cols_compact[TAB_COUNT][10] = {
    [TAB_ALL] = { C_NAME, C_STATE, C_PCT, C_SPEED, C_TRY, C_END },
    [TAB_ACTIVE] = { C_NAME, C_PCT, C_SPEED, C_WAIT, C_END },
    [TAB_QUEUED] = { C_NAME, C_WAIT, C_TRY, C_END },
    [TAB_RETRY] = { C_NAME, C_NEXT, C_TRY, C_HTTP, C_END },
    [TAB_FAILED] = { C_NAME, C_TRY, C_HTTP, C_ERROR, C_END },
    [TAB_DONE] = { C_NAME, C_STATE, C_SIZE, C_TRY, C_END },
};

static const enum col tab_cols[TAB_COUNT][10] = {
    [TAB_ALL] = { C_NAME, C_STATE, C_SIZE, C_PROG, C_PCT, C_SPEED, C_ETA, C_TRY, C_END },
    [TAB_ACTIVE] = { C_NAME, C_STATE, C_SIZE, C_PROG, C_PCT, C_SPEED, C_WAIT, C_TRY, C_END },
    [TAB_QUEUED] = { C_NAME, C_SIZE, C_PROG, C_PCT, C_WAIT, C_TRY, C_END },
    [TAB_RETRY] = { C_NAME, C_NEXT, C_TRY, C_HTTP, C_ERROR, C_END },
    [TAB_FAILED] = { C_NAME, C_HOST, C_TRY, C_HTTP, C_ERROR, C_END },
    [TAB_DONE] = { C_NAME, C_STATE, C_SIZE, C_TIME, C_SPEED, C_TRY, C_END },
};

struct rowv {
    int64_t size, bytes, rate, eta_ms;
    int pct;                       /* -1 unknown */
    char why[32];                  /* why it moves no bytes (wait.h), "" when nothing holds it */
    int conns;                     /* connections of a running transfer (segmented: more) */
};

static const char *state_word(const struct item *it)
{
    return it->state == ITEM_UNCHANGED ? "same" : item_state_name(it->state);
}

static enum theme_elem state_elem(enum item_state s)
{
    switch (s) {
    case ITEM_ACTIVE: return TH_ST_ACTIVE;
    case ITEM_RETRY: return TH_ST_RETRY;
    case ITEM_PAUSED: return TH_ST_PAUSED;
    case ITEM_DONE: case ITEM_UNCHANGED: return TH_ST_DONE;
    case ITEM_FAILED: return TH_ST_FAILED;
    default: return TH_ST_QUEUED;
    }
}

static bool has_col(const enum col *tc, enum col c)
{
    for (; *tc != C_END; tc++)
        if (*tc == c)
            return true;
    return false;
}

/* tc: the tab's columns. Why a row waits is read only where it shows (WAITING, or SPEED at
 * 0 B/s): over attach each read is bytes on the wire (docs/ctl.md#attach-mode). */
static void row_values(struct ui *u, const struct item *it, const enum col *tc, struct rowv *r)
{
    struct engine_xfer_view v;

    r->size = it->size;
    r->bytes = it->received;
    r->rate = -1;
    r->eta_ms = -1;
    r->conns = 0;
    if (it->state == ITEM_ACTIVE && uisrc_xfer_view(u->src, it->id, &v)) {
        r->conns = v.conns;
        r->bytes = v.bytes;
        if (v.size >= 0)
            r->size = v.size;
        r->rate = v.rate;
    }
    if ((it->state == ITEM_DONE || it->state == ITEM_UNCHANGED) && r->size < 0)
        r->size = r->bytes;
    r->pct = -1;
    if (r->size > 0)
        r->pct = (int)(r->bytes >= r->size ? 100 : r->bytes * 100 / r->size);
    else if (r->size == 0 && (it->state == ITEM_DONE || it->state == ITEM_UNCHANGED))
        r->pct = 100;
    if (r->rate > 0 && r->size > r->bytes)
        r->eta_ms = (r->size - r->bytes) * 1000 / r->rate;
    r->why[0] = '\0';
    if ((it->state == ITEM_ACTIVE || it->state == ITEM_QUEUED || it->state == ITEM_RETRY ||
         it->state == ITEM_PAUSED) &&
        (has_col(tc, C_WAIT) ||
         (it->state == ITEM_ACTIVE && r->rate <= 0 && has_col(tc, C_SPEED)))) {
        struct wait_facts f;
        struct wait_answer a;
        int64_t now = mono_ms();

        if (uisrc_wait(u->src, it, &f)) {
            wait_decide(&f, now, UI_STALL_SHOW_MS, &a);
            wait_short(&a, &f, now, r->why, sizeof r->why);
        }
    }
}

static void cell(struct ui *u, const struct item *it, const struct rowv *r, enum col c, int y,
                 int x, int w, bool sel)
{
    char buf[64];
    const char *s = "";
    enum theme_elem e = sel ? TH_SELECTED : TH_ROW;

    switch (c) {
    case C_NAME:
        ui_put(u, y, x, w, e, it->path, true, true);
        return;
    case C_STATE:
        /* A segmented download says on how many connections (docs/tui.md#the-screen). */
        if (r->conns > 1)
            snprintf(buf, sizeof buf, r->conns < 10 ? "act x%d" : "ac x%d", r->conns);
        ui_put(u, y, x, w, sel ? e : state_elem(it->state), r->conns > 1 ? buf : state_word(it),
               false, true);
        return;
    case C_SIZE:
        if (r->size >= 0)
            s = ui_text_size(r->size, buf, sizeof buf);
        break;
    case C_PROG:
        if (r->pct >= 0) {
            bar(u, y, x, w, r->pct / 100.0, sel ? e : TH_PROGRESS, sel ? e : TH_PROGRESS_EMPTY);
            return;
        }
        if (r->bytes > 0)
            s = ui_text_size(r->bytes, buf, sizeof buf);    /* size unknown: what came so far */
        ui_put(u, y, x, w, e, s, false, true);
        return;
    case C_PCT:
        if (r->pct >= 0)
            snprintf(buf, sizeof buf, "%d%%", r->pct);
        s = r->pct >= 0 ? buf : "";
        break;
    case C_SPEED:
        if (it->state == ITEM_ACTIVE && r->why[0] != '\0' && r->rate <= 0)
            s = r->why;             /* 0 B/s says why: "cap", "stall 9s", "disk" */
        else if (it->state == ITEM_ACTIVE)
            s = ui_text_rate(r->rate, buf, sizeof buf);
        else if (it->state == ITEM_DONE && it->duration_ms > 0)
            s = ui_text_rate(it->received * 1000 / it->duration_ms, buf, sizeof buf);
        break;
    case C_ETA:
        if (it->state == ITEM_ACTIVE)
            s = units_fmt_duration(r->eta_ms, buf, sizeof buf);
        break;
    case C_TRY:
        /* A running attempt is counted only when it ends (engine_transfer.c): show it too. */
        snprintf(buf, sizeof buf, "%d", it->attempts + (it->state == ITEM_ACTIVE));
        s = buf;
        break;
    case C_NEXT:
        if (it->state == ITEM_RETRY) {
            int64_t left = it->next_try_ms - loop_now(u->loop);

            /* Rounded up; "due" once its wait has passed and it waits for a slot (it starts
             * before the fresh items of its host). */
            s = left > 0 ? units_fmt_duration(left + 999, buf, sizeof buf) : "due";
        }
        break;
    case C_HTTP:
        if (it->http_status > 0)
            snprintf(buf, sizeof buf, "%d", it->http_status);
        s = it->http_status > 0 ? buf : "-";
        break;
    case C_TIME:
        s = units_fmt_duration(it->duration_ms, buf, sizeof buf);
        break;
    case C_ERROR:
        ui_put(u, y, x, w, sel ? e : (it->state == ITEM_FAILED ? TH_ST_FAILED : TH_ROW),
               ui_text_reason(it->error, it->http_status, buf, sizeof buf), false, true);
        return;
    case C_WAIT:
        ui_put(u, y, x, w, e, r->why, false, true);
        return;
    case C_HOST:
        ui_put(u, y, x, w, e, it->host != NULL ? it->host : "", false, true);
        return;
    case C_END:
        return;
    }
    ui_put_right(u, y, x, w, e, s);
}

/* Column widths for this tab and terminal: fixed ones first, the rest shared by the flexible
 * ones (the name gets 45% when there is a reason to show too). */
static bool compact(void)
{
    return COLS < UI_FULL_COLS || LINES < UI_FULL_ROWS;
}

static const enum col *columns_of(enum ui_tab t)
{
    return compact() ? tab_cols_compact[t] : tab_cols[t];
}

static int layout(enum ui_tab t, int *width)
{
    const enum col *tc = columns_of(t);
    int fixed = 0, nflex = 0, n = 0, left;

    for (; tc[n] != C_END; n++) {
        fixed += cols[tc[n]].width + 1;
        nflex += cols[tc[n]].width == 0;
    }
    left = COLS - 1 - fixed;
    for (int i = 0; i < n; i++) {
        enum col c = tc[i];

        if (cols[c].width > 0)
            width[i] = cols[c].width;
        else if (nflex == 1)
            width[i] = left;
        else
            width[i] = c == C_NAME ? left * 45 / 100 : left - left * 45 / 100;
    }
    return n;
}

static void list(struct ui *u, int y0, int y1)
{
    struct item *page[512];
    int width[10], n = layout(u->tab, width), rows = y1 - y0, x;
    size_t got;

    if (rows > (int)ARRAY_LEN(page))
        rows = (int)ARRAY_LEN(page);
    u->list_rows = rows;
    got = ui_list_view(u, (size_t)rows, page);
    if (u->view == VIEW_DETAILS) {
        if (u->detail_follow && u->sel_id != 0)
            u->detail_id = u->sel_id;
        u->detail_follow = false;
        ui_view_details(u, y0 - 1, y1);
        return;
    }
    if (u->view == VIEW_HELP) {
        ui_view_help(u, y0 - 1, y1);
        return;
    }
    if (u->view == VIEW_HOSTS) {
        ui_view_hosts(u, y0 - 1, y1);
        return;
    }
    ui_fill(u, y0 - 1, 0, COLS, TH_COLUMNS);
    x = 1;
    for (int i = 0; i < n; i++) {
        enum col c = columns_of(u->tab)[i];
        const char *title = c == C_ERROR && u->tab == TAB_RETRY ? "LAST ERROR" : cols[c].title;

        if (cols[c].right)
            ui_put_right(u, y0 - 1, x, width[i], TH_COLUMNS, title);
        else
            ui_put(u, y0 - 1, x, width[i], TH_COLUMNS, title, false, true);
        x += width[i] + 1;
    }
    for (int r = 0; r < rows; r++) {
        int y = y0 + r;
        bool sel = (size_t)r < got && u->top + (size_t)r == u->sel;
        struct rowv v;

        ui_fill(u, y, 0, COLS, sel ? TH_SELECTED : TH_ROW);
        if ((size_t)r >= got) {
            if (r == 0 && got == 0)
                ui_put(u, y, 1, COLS - 2, TH_LABEL, u->filter != NULL ?
                       "nothing here matches the filter (Escape clears it)" : "nothing here", false,
                       false);
            continue;
        }
        row_values(u, page[r], columns_of(u->tab), &v);
        x = 1;
        for (int i = 0; i < n; i++) {
            cell(u, page[r], &v, columns_of(u->tab)[i], y, x, width[i], sel);
            x += width[i] + 1;
        }
    }
}

/* ---- the bottom two lines ---- */

static void status(struct ui *u, int y)
{
    char f[160];
    int rw = 0;

    ui_fill(u, y, 0, COLS, TH_STATUS);
    if (u->filter != NULL) {
        int pct = ui_list_filter_progress(u);

        if (pct >= 0)
            snprintf(f, sizeof f, " filter: %s (looking: %d%%) ", u->filter, pct);
        else
            snprintf(f, sizeof f, " filter: %s ", u->filter);
        rw = width_of(u, f, COLS / 3);
    }
    ui_put(u, y, 1, COLS - 2 - rw, u->msg_error ? TH_ERROR : TH_STATUS, u->msg, false, false);
    if (rw > 0)
        ui_put_right(u, y, COLS - rw, rw, TH_PROMPT, f);
}

static void prompt_line(struct ui *u, int y)
{
    const struct ui_prompt *p = &u->prompt;
    int x = ui_put(u, y, 0, COLS, TH_PROMPT, p->label, false, false);
    int room = COLS - x - 1, used = 0, cx = x;
    size_t start = p->cur, sfrom, sto;

    ui_prompt_secret(p, &sfrom, &sto);

    ui_fill(u, y, x, COLS - x, TH_STATUS);
    /* Start far enough back that the cursor, and the character under it, are in view. */
    while (start > 0 && used + ui_text_wcwidth(p->buf[start - 1]) < room)
        used += ui_text_wcwidth(p->buf[--start]);
    attrset(u->attr[TH_STATUS]);
    for (size_t i = start; i < p->len && x < COLS - 1; i++) {
        wchar_t c[2] = { p->buf[i], L'\0' };
        int w = wcwidth(p->buf[i]);

        if (i >= sfrom && i < sto) {
            c[0] = L'*';            /* a password: masked, as urlpath_redact does elsewhere */
            w = 1;
        } else if (w < 1 || (!u->utf8 && p->buf[i] >= 0x80)) {
            c[0] = L'?';
            w = 1;
        }
        if (x + w > COLS - 1)
            break;
        if (i == p->cur)
            cx = x;
        mvaddwstr(y, x, c);
        x += w;
    }
    if (p->cur >= p->len)
        cx = x;
    move(y, cx);
}

static void confirm_line(struct ui *u, int y)
{
    char q[ERRLEN + 160];
    struct engine_stats st;
    struct item *it;

    if (u->confirm == CONFIRM_QUIT) {
        uisrc_stats(u->src, &st);
        snprintf(q, sizeof q, "Stop the sync? %d running, %zu queued, %zu retrying: y stops it "
                 "(resumable), D detaches, N stays ", st.transfers, st.queued, st.retrying);
    } else {
        it = uisrc_get(u->src, u->confirm_id);
        snprintf(q, sizeof q, "Remove %s from this run (its .part is deleted)?  y/N ",
                 it != NULL ? it->path : "the item");
    }
    ui_fill(u, y, 0, COLS, TH_STATUS);
    ui_put(u, y, 0, COLS, TH_PROMPT, q, false, false);
}

/* Key hints in table order; when the line is short, the most needed ones (q, ?, p...) win. */
static void hints(struct ui *u, int y)
{
    const struct ui_key_doc *docs;
    size_t n = ui_keys_docs(&docs);
    bool show[64] = { false };
    int x = 0, room = COLS;

    for (int rank = 1; rank < 64; rank++) {
        for (size_t i = 0; i < n && i < ARRAY_LEN(show); i++) {
            int need;

            if (docs[i].hint == NULL || docs[i].hint_rank != rank)
                continue;
            need = width_of(u, docs[i].hint_key, COLS) + width_of(u, docs[i].hint, COLS) + 2;
            if (need <= room) {
                show[i] = true;
                room -= need;
            }
        }
    }
    ui_fill(u, y, 0, COLS, TH_HINT);
    for (size_t i = 0; i < n && i < ARRAY_LEN(show); i++) {
        if (!show[i])
            continue;
        x += ui_put(u, y, x, COLS - x, TH_HINT_KEY, docs[i].hint_key, false, false);
        x += ui_put(u, y, x, COLS - x, TH_HINT, " ", false, false);
        x += ui_put(u, y, x, COLS - x, TH_HINT, docs[i].hint, false, false);
        x += ui_put(u, y, x, COLS - x, TH_HINT, " ", false, false);
    }
}

static void bottom_line(struct ui *u, int y)
{
    if (u->prompting)
        prompt_line(u, y);
    else if (u->confirm != CONFIRM_NONE)
        confirm_line(u, y);
    else
        hints(u, y);
}

/* Compact: every counter on one line, in the order an operator looks for them; what does not fit
 * is left out from the end (the ETA first), never cut in the middle. */
static void compact_header(struct ui *u, const struct engine_stats *st)
{
    char part[5][96], a[32], b[32];
    int n = 0, x = 0;

    /* The counters first: they are what the full header would have lost. */
    snprintf(part[n], sizeof part[0], "done %zu act %zu que %zu ret %zu fail %zu",
             st->done + st->unchanged, st->active, st->queued, st->retrying, st->failed);
    if (st->paused > 0)
        snprintf(part[n] + strlen(part[n]), sizeof part[0] - strlen(part[n]), " pau %zu",
                 st->paused);
    n++;
    snprintf(part[n++], sizeof part[0], "%s cap %s", ui_text_rate(st->rate, a, sizeof a),
             st->cap > 0 ? ui_text_size(st->cap, b, sizeof b) : "off");
    snprintf(part[n++], sizeof part[0], "conns %d/%d", st->transfers, st->concurrency);
    /* One worker of several (docs/scale.md): its shard, and how many share the group's cap (or
     * that Redis is away), shortened as the full header says them. */
    if (st->shard.n > 0 || st->group_workers > 0) {
        size_t l = 0;

        part[n][0] = '\0';
        if (st->shard.n > 0)
            l = (size_t)snprintf(part[n], sizeof part[0], "shard %s",
                                 shard_fmt(&st->shard, a, sizeof a));
        if (st->group_workers > 0 && st->group_up)
            snprintf(part[n] + l, sizeof part[0] - l, "%swk %d", l > 0 ? " " : "",
                     st->group_workers);
        else if (st->group_workers > 0)
            snprintf(part[n] + l, sizeof part[0] - l, "%sREDIS AWAY", l > 0 ? " " : "");
        n++;
    }
    snprintf(part[n++], sizeof part[0], "ETA %s", u->idle_since_ms >= 0 && st->total > 0 ? "done" :
             units_fmt_duration(st->eta_ms, a, sizeof a));
    ui_fill(u, 0, 0, COLS, TH_HEADER);
    if (COLS >= 70)
        x = ui_put(u, 0, 0, COLS, TH_TITLE, " sluice ", false, false);
    x++;
    for (int i = 0; i < n; i++) {
        int w = width_of(u, part[i], COLS);

        if (x + w + (i > 0 ? 2 : 0) > COLS)
            break;
        if (i > 0)
            x += ui_put(u, 0, x, COLS - x, TH_LABEL, "  ", false, false);
        x += ui_put(u, 0, x, COLS - x, i == 0 && st->failed > 0 ? TH_ST_FAILED : TH_VALUE, part[i],
                    false, false);
    }
    if (st->session_error != NULL || st->disk_full || st->paused_all) {
        const char *alert = st->session_error != NULL ? " SESSION NOT SAVED " :
                            st->disk_full ? " DISK FULL " : " ALL PAUSED ";
        int w = width_of(u, alert, COLS);

        ui_put(u, 0, COLS - w, w, TH_ALERT, alert, false, false);
    }
}

/* Compact tabs: numbers and short names, the counts are in the header. */
static void compact_tabs(struct ui *u)
{
    static const char *const names[TAB_COUNT] = { "All", "Act", "Que", "Ret", "Fail", "Done" };
    char label[16];
    int x = 0;

    ui_fill(u, 1, 0, COLS, TH_TAB);
    for (int t = 0; t < TAB_COUNT; t++) {
        snprintf(label, sizeof label, " %d %s ", t + 1, names[t]);
        x += ui_put(u, 1, x, COLS - x, t == (int)u->tab && u->view != VIEW_HOSTS ? TH_TAB_ACTIVE :
                    TH_TAB, label, false, false);
    }
    ui_put(u, 1, x, COLS - x, u->view == VIEW_HOSTS ? TH_TAB_ACTIVE : TH_TAB, " 7 Hosts ", false,
           false);
}

/* Compact: the key line shows a fresh message for a while, then the key hints again. */
static void compact_bottom(struct ui *u, int y)
{
    if (!u->prompting && u->confirm == CONFIRM_NONE && u->msg[0] != '\0' &&
        loop_now(u->loop) - u->msg_ms < UI_COMPACT_MSG_MS) {
        ui_fill(u, y, 0, COLS, TH_STATUS);
        ui_put(u, y, 1, COLS - 2, u->msg_error ? TH_ERROR : TH_STATUS, u->msg, false, false);
        return;
    }
    bottom_line(u, y);
}

/* Below 40x10 not even the compact layout holds: say so plainly instead of drawing garbage. */
static void too_small(struct ui *u)
{
    char a[96], b[96];
    const char *lines[4] = { "sluice needs a terminal of", a, b, "q quits" };
    int y0;

    snprintf(a, sizeof a, "at least %dx%d;", UI_MIN_COLS, UI_MIN_ROWS);
    snprintf(b, sizeof b, "this one is %dx%d.", COLS, LINES);
    attrset(u->attr[TH_ROW]);
    erase();
    y0 = LINES > 4 ? (LINES - 4) / 2 : 0;
    for (int i = 0; i < 4 && y0 + i < LINES; i++) {
        int w = width_of(u, lines[i], COLS);

        ui_put(u, y0 + i, COLS > w ? (COLS - w) / 2 : 0, COLS, i == 3 ? TH_LABEL : TH_ALERT,
               lines[i], false, false);
    }
    if (LINES > 5 && (u->prompting || u->confirm != CONFIRM_NONE))
        bottom_line(u, LINES - 1);
}

void ui_draw(struct ui *u)
{
    struct engine_stats st;

    curs_set(0);
    if (COLS < UI_MIN_COLS || LINES < UI_MIN_ROWS) {
        too_small(u);
    } else if (compact()) {
        uisrc_stats(u->src, &st);
        compact_header(u, &st);
        compact_tabs(u);
        list(u, 3, LINES - 1);
        compact_bottom(u, LINES - 1);
    } else {
        uisrc_stats(u->src, &st);
        header(u, &st);
        tabs(u, &st);
        list(u, UI_HEADER_ROWS, LINES - UI_FOOTER_ROWS);
        status(u, LINES - 2);
        bottom_line(u, LINES - 1);
    }
    if (u->prompting)
        curs_set(1);            /* prompt_line left the cursor where the next character goes */
    else
        move(LINES - 1, COLS - 1);
    wnoutrefresh(stdscr);
    doupdate();
}
