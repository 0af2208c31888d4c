/* Tabs are views of the queue by state, read a page at a time through uisrc_page, so the list
 * costs the same for ten items or a million: only the rows on screen are ever fetched.
 * A filter has to look at every item once; it does so a bounded slice per frame, so the screen
 * keeps moving while it works through a long queue. */
#include "ui_impl.h"
#include "loop.h"

#include <stdlib.h>
#include <string.h>

#define FILTER_SLICE 20000         /* ids looked at per frame */
#define FILTER_VIEW_MS 1000        /* the filtered tab follows state changes this often */

static const struct {
    const char *name;
    int states[2];                 /* -1: every state */
    int nstates;
} tabs[TAB_COUNT] = {
    [TAB_ALL] = { "All", { -1 }, 1 },
    /* Paused items stay in sight where the operator paused them (after the running ones). */
    [TAB_ACTIVE] = { "Active", { ITEM_ACTIVE, ITEM_PAUSED }, 2 },
    [TAB_QUEUED] = { "Queued", { ITEM_QUEUED }, 1 },
    [TAB_RETRY] = { "Retry", { ITEM_RETRY }, 1 },
    [TAB_FAILED] = { "Failed", { ITEM_FAILED }, 1 },
    [TAB_DONE] = { "Done", { ITEM_DONE, ITEM_UNCHANGED }, 2 },
};

const char *ui_list_tab_name(enum ui_tab t)
{
    return (unsigned)t < TAB_COUNT ? tabs[t].name : "?";
}

static void push(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = id;
}

#include "filter.h"

/* Looks at the next slice of ids, on the source's side (uisrc_scan): only the matches of the
 * filter's fixed half travel (filter_match_fixed). Ids may have gaps (removed items), so the scan
 * is done when it has seen as many items as the queue holds; items added later are picked up the
 * same way. */
static void filter_scan(struct ui *u)
{
    size_t total = uisrc_total(u->src), n;
    uint64_t *got;

    if (u->fscan_seen >= total)
        return;
    got = xmalloc(FILTER_SLICE * sizeof *got);
    n = uisrc_scan(u->src, u->filter, &u->fscan_id, FILTER_SLICE, &u->fscan_seen, got);
    for (size_t k = 0; k < n; k++)
        push(&u->fids, &u->nfids, &u->fcap, got[k]);
    free(got);
    u->fview_stale = true;
    if (u->fscan_seen < total)
        ui_mark(u, UI_DIRTY);      /* more to look at on the next frame */
}

int ui_list_filter_progress(struct ui *u)
{
    size_t total = uisrc_total(u->src);

    if (u->filter == NULL || u->fscan_seen >= total || total == 0)
        return -1;
    return (int)(u->fscan_seen * 100 / total);
}

void ui_list_stale(struct ui *u)
{
    u->fview_stale = true;
}

/* The matches of the current tab in tab order, and the counts of every tab. */
static void filter_view(struct ui *u)
{
    int64_t now = loop_now(u->loop);
    enum ui_tab t = u->tab;
    uint64_t *second = NULL;
    size_t nsecond = 0, cap2 = 0;
    unsigned char *states;

    filter_scan(u);
    if (!u->fview_stale && u->fview_tab == t && now - u->fview_ms < FILTER_VIEW_MS)
        return;
    u->fview_stale = false;
    u->fview_tab = t;
    u->fview_ms = now;
    u->nfview = 0;
    memset(u->fcounts, 0, sizeof u->fcounts);
    states = xmalloc(u->nfids + 1);
    uisrc_states(u->src, u->fids, u->nfids, u->filter, states);
    for (size_t k = 0; k < u->nfids; k++) {
        if (states[k] >= ITEM_STATE_COUNT)
            continue;              /* removed, or the live half of the filter says no */
        for (int tab = 0; tab < TAB_COUNT; tab++) {
            for (int i = 0; i < tabs[tab].nstates; i++) {
                if (tabs[tab].states[i] >= 0 && tabs[tab].states[i] != (int)states[k])
                    continue;
                u->fcounts[tab]++;
                if (tab != (int)t)
                    continue;
                if (i == 0)
                    push(&u->fview, &u->nfview, &u->fvcap, u->fids[k]);
                else
                    push(&second, &nsecond, &cap2, u->fids[k]);
            }
        }
    }
    for (size_t k = 0; k < nsecond; k++)
        push(&u->fview, &u->nfview, &u->fvcap, second[k]);
    free(second);
    free(states);
}

int ui_list_set_filter(struct ui *u, const char *filter, char *err)
{
    struct filter f;

    if (filter != NULL && *filter != '\0' && filter_parse(filter, &f, err) < 0)
        return -1;
    filter_free(&u->filt);
    if (filter != NULL && *filter != '\0')
        u->filt = f;
    free(u->filter);
    u->filter = filter != NULL && *filter != '\0' ? xstrdup(filter) : NULL;
    u->nfids = u->nfview = 0;
    u->fscan_id = 1;
    u->fscan_seen = 0;
    u->fview_stale = true;
    return 0;
}

size_t ui_list_matches(struct ui *u, uint64_t **ids, bool *done)
{
    size_t n = 0;

    *ids = NULL;
    *done = true;
    if (u->filter == NULL)
        return 0;
    unsigned char *states;

    filter_scan(u);
    *done = u->fscan_seen >= uisrc_total(u->src);
    *ids = xcalloc(u->nfids + 1, sizeof **ids);
    states = xmalloc(u->nfids + 1);
    uisrc_states(u->src, u->fids, u->nfids, u->filter, states);
    for (size_t k = 0; k < u->nfids; k++)
        if (states[k] < ITEM_STATE_COUNT)
            (*ids)[n++] = u->fids[k];
    free(states);
    return n;
}

void ui_list_free(struct ui *u)
{
    filter_free(&u->filt);
    free(u->filter);
    free(u->fids);
    free(u->fview);
    u->filter = NULL;
    u->fids = u->fview = NULL;
    u->nfids = u->fcap = u->nfview = u->fvcap = 0;
}

size_t ui_list_count(struct ui *u, enum ui_tab t)
{
    size_t n = 0;

    if (u->filter != NULL) {
        filter_view(u);
        return u->fcounts[t];
    }
    if (tabs[t].states[0] < 0)
        return uisrc_total(u->src);
    for (int i = 0; i < tabs[t].nstates; i++)
        n += uisrc_count(u->src, (enum item_state)tabs[t].states[i]);
    return n;
}

/* Rows off.. of the current tab: its states one after the other, each in id order. */
static size_t page(struct ui *u, size_t off, size_t n, struct item **out)
{
    enum ui_tab t = u->tab;
    size_t k = 0;

    if (u->filter != NULL) {
        filter_view(u);
        for (size_t i = off; i < u->nfview && k < n; i++) {
            struct item *it = uisrc_get(u->src, u->fview[i]);

            if (it != NULL)
                out[k++] = it;
        }
        return k;
    }
    for (int i = 0; i < tabs[t].nstates && k < n; i++) {
        int st = tabs[t].states[i];
        size_t c = st < 0 ? uisrc_total(u->src) : uisrc_count(u->src, (enum item_state)st);

        if (off >= c) {
            off -= c;
            continue;
        }
        k += uisrc_page(u->src, st, off, n - k, out + k);
        off = 0;
    }
    return k;
}

size_t ui_list_view(struct ui *u, size_t rows, struct item **out)
{
    size_t n = ui_list_count(u, u->tab), k;
    struct item *at;

    if (n == 0 || rows == 0) {
        u->sel = u->top = 0;
        u->sel_id = 0;
        return 0;
    }
    /* The selected item moved (others before it finished, or it changed state): follow it if it
     * is still near, so the operator's choice does not slide to a neighbour. */
    if (u->sel_id != 0 && !(u->sel < n && page(u, u->sel, 1, &at) == 1 && at->id == u->sel_id)) {
        size_t from = u->top > rows ? u->top - rows : 0, want = 3 * rows;
        struct item **win = xmalloc(want * sizeof *win);
        size_t got = page(u, from, want, win);

        for (size_t i = 0; i < got; i++) {
            if (win[i]->id == u->sel_id) {
                u->sel = from + i;
                break;
            }
        }
        free(win);
    }
    if (u->sel >= n)
        u->sel = n - 1;
    if (u->top + rows > n)
        u->top = n > rows ? n - rows : 0;
    if (u->sel < u->top)
        u->top = u->sel;
    if (u->sel >= u->top + rows)
        u->top = u->sel - rows + 1;
    k = page(u, u->top, rows, out);
    if (u->sel - u->top >= k && k > 0)
        u->sel = u->top + k - 1;   /* the list shrank between the count and the page */
    u->sel_id = k > 0 ? out[u->sel - u->top]->id : 0;
    return k;
}

struct item *ui_list_selected(struct ui *u)
{
    uint64_t id;

    /* A key moved the selection since the last frame (several keys can come in one read):
     * settle it now, as the next frame would. */
    if (u->view != VIEW_DETAILS && u->sel_id == 0) {
        size_t n = u->list_rows > 0 ? (size_t)u->list_rows : 1;
        struct item **rows = xmalloc(n * sizeof *rows);

        ui_list_view(u, n, rows);
        free(rows);
    }
    id = u->view == VIEW_DETAILS ? u->detail_id : u->sel_id;

    return id != 0 ? uisrc_get(u->src, id) : NULL;
}
