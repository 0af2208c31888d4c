/* Keys (docs/tui.md#keys). One table maps keys to handlers and documents them for the help screen,
 * the hint line and docs/tui.md. Handlers call the engine and return dirty bits; they never draw.
 * */
#include "ui_impl.h"
#include "engine.h"
#include "opts.h"
#include "units.h"
#include "urlpath.h"

#include <stdlib.h>
#include <string.h>

#define KC 0x1000000           /* marks an ncurses KEY_* code, which may equal a wide character */
#define CTRL(c) ((c) & 0x1f)
#define ESC 27

typedef unsigned (*key_fn)(struct ui *u, int arg, int code);

struct key {
    int codes[8];              /* 0 ends the list */
    key_fn fn;
    int arg;
    struct ui_key_doc doc;
};

/* ---- the selected item ---- */

static struct item *selected(struct ui *u)
{
    struct item *it = ui_list_selected(u);

    if (it == NULL)
        ui_message(u, true, "no item selected");
    return it;
}

/* ---- moving ---- */

static unsigned move_by(struct ui *u, int arg, int code)
{
    int step = arg == 0 ? (u->list_rows > 1 ? u->list_rows - 1 : 1) : arg;

    if (u->view == VIEW_HELP) {
        u->help_top = u->help_top + (step > 0 ? 1 : -1) > 0 ? u->help_top + (step > 0 ? 1 : -1) : 0;
        return UI_DIRTY;
    }
    if (arg == 0)           /* PgDn */
        u->top += (size_t)step;
    if (step < 0 && (size_t)-step > u->sel)
        u->sel = 0;
    else
        u->sel += (size_t)(ptrdiff_t)step;
    u->sel_id = 0;
    u->detail_follow = u->view == VIEW_DETAILS;
    return UI_DIRTY;
}

static unsigned page_up(struct ui *u, int arg, int code)
{
    size_t step = u->list_rows > 1 ? (size_t)u->list_rows - 1 : 1;

    u->top = u->top > step ? u->top - step : 0;
    u->sel = u->sel > step ? u->sel - step : 0;
    u->sel_id = 0;
    u->detail_follow = u->view == VIEW_DETAILS;
    return UI_DIRTY;
}

static unsigned move_to(struct ui *u, int arg, int code)
{
    u->sel = arg < 0 ? SIZE_MAX : 0;      /* the list clamps it to the last row */
    if (arg >= 0)
        u->top = 0;
    u->sel_id = 0;
    u->detail_follow = u->view == VIEW_DETAILS;
    return UI_DIRTY;
}

static unsigned tab_set(struct ui *u, int tab)
{
    u->tab = (enum ui_tab)((tab + TAB_COUNT) % TAB_COUNT);
    u->sel = u->top = 0;
    u->sel_id = 0;
    u->view = VIEW_LIST;
    return UI_DIRTY;
}

static unsigned tab_digit(struct ui *u, int arg, int code)
{
    if (code == '7') {              /* Hosts: a view of its own, not a list of items */
        u->view = u->view == VIEW_HOSTS ? VIEW_LIST : VIEW_HOSTS;
        return UI_DIRTY;
    }
    return tab_set(u, code - '1');
}

static unsigned tab_step(struct ui *u, int arg, int code)
{
    return tab_set(u, (int)u->tab + arg);
}

static unsigned details(struct ui *u, int arg, int code)
{
    if (u->view == VIEW_DETAILS) {
        u->view = VIEW_LIST;
        return UI_DIRTY;
    }
    if (selected(u) == NULL)
        return UI_DIRTY;
    u->detail_id = u->sel_id;
    u->view = VIEW_DETAILS;
    return UI_DIRTY;
}

/* ---- items ---- */

static unsigned pause_one(struct ui *u, int arg, int code)
{
    struct item *it = selected(u);
    char err[ERRLEN], *path;
    bool resume;

    if (it == NULL)
        return UI_DIRTY;
    resume = it->state == ITEM_PAUSED;
    path = xstrdup(it->path);      /* the item may move while the engine acts on it */
    if (uisrc_pause(u->src, it->id, resume, err) < 0)
        ui_message(u, true, "%s: %s", resume ? "resume" : "pause", err);
    else
        ui_message(u, false, "%s %s", resume ? "resumed" : "paused", path);
    free(path);
    return UI_DIRTY;
}

static unsigned pause_all(struct ui *u, int arg, int code)
{
    struct engine_stats st;

    uisrc_stats(u->src, &st);
    if (st.paused_all || st.disk_full) {
        /* After a full disk, the operator says there is room again. */
        uisrc_pause_all(u->src, true);
        ui_message(u, false, "all transfers resumed");
    } else {
        uisrc_pause_all(u->src, false);
        ui_message(u, false, "all transfers paused (P resumes); their .part files are kept");
    }
    return UI_DIRTY;
}

static unsigned requeue_one(struct ui *u, int arg, int code)
{
    struct item *it = selected(u);
    char err[ERRLEN], *path;

    if (it == NULL)
        return UI_DIRTY;
    path = xstrdup(it->path);
    if (uisrc_requeue(u->src, it->id, err) < 0)
        ui_message(u, true, "requeue: %s (only failed and retrying items go back to the queue)",
                   err);
    else
        ui_message(u, false, "requeued %s", path);
    free(path);
    return UI_DIRTY;
}

/* R with a filter: the failed items it shows, one by one (the filter's own words decide). */
static unsigned requeue_filtered(struct ui *u)
{
    char err[ERRLEN];
    uint64_t *ids;
    bool done;
    size_t n = ui_list_matches(u, &ids, &done);
    long k = 0;

    for (size_t i = 0; i < n; i++) {
        struct item *it = uisrc_get(u->src, ids[i]);

        if (it != NULL && it->state == ITEM_FAILED && uisrc_requeue(u->src, ids[i], err) == 0)
            k++;
    }
    free(ids);
    ui_message(u, false, "requeued %ld failed item%s that match '%s'%s", k, k == 1 ? "" : "s",
               u->filter, done ? "" : " (the filter is still looking: R again for the rest)");
    ui_list_stale(u);
    return UI_DIRTY;
}

static unsigned requeue_all(struct ui *u, int arg, int code)
{
    char err[ERRLEN];
    long n;

    if (u->filter != NULL)
        return requeue_filtered(u);
    n = uisrc_requeue_failed(u->src, err);

    if (n < 0)
        ui_message(u, true, "%s", err);
    else if (n == 0)
        ui_message(u, false, "no failed items to requeue");
    else
        ui_message(u, false, "requeued %ld failed item%s", n, n == 1 ? "" : "s");
    return UI_DIRTY;
}

static unsigned remove_one(struct ui *u, int arg, int code)
{
    struct item *it = selected(u);

    if (it == NULL)
        return UI_DIRTY;
    u->confirm = CONFIRM_REMOVE;
    u->confirm_id = it->id;
    return UI_DIRTY;
}

/* ---- concurrency and cap ---- */

static void set_concurrency(struct ui *u, long n)
{
    int was = uisrc_concurrency(u->src);

    if (n < 1 || n > 1024) {
        ui_message(u, true, "concurrency stays %d: it goes from 1 to 1024", was);
        return;
    }
    uisrc_set_concurrency(u->src, (int)n);
    ui_message(u, false, "concurrency %d (was %d)", uisrc_concurrency(u->src), was);
}

static unsigned conc_step(struct ui *u, int arg, int code)
{
    set_concurrency(u, (long)uisrc_concurrency(u->src) + arg);
    return UI_DIRTY;
}

static void set_cap(struct ui *u, int64_t rate)
{
    char was[32], now[32];

    units_fmt_cap(uisrc_rate(u->src), was, sizeof was);
    uisrc_set_rate(u->src, rate, u->info.burst);
    ui_message(u, false, "cap %s (was %s)", units_fmt_cap(uisrc_rate(u->src), now, sizeof now), was);
}

/* Steps of ] and [: round numbers an operator would pick (K, M, G as on the command line). */
static const int64_t cap_steps[] = {
    64LL << 10, 128LL << 10, 256LL << 10, 512LL << 10, 1LL << 20, 2LL << 20, 5LL << 20,
    10LL << 20, 20LL << 20, 50LL << 20, 100LL << 20, 200LL << 20, 500LL << 20, 1LL << 30,
    2LL << 30, 5LL << 30, 10LL << 30,
};

static unsigned cap_step(struct ui *u, int arg, int code)
{
    int64_t cur = uisrc_rate(u->src), pick = -1;
    char buf[32];

    if (arg > 0) {
        if (cur == 0) {
            ui_message(u, false, "there is no cap to raise ([ sets one, b sets any)");
            return UI_DIRTY;
        }
        for (size_t i = 0; i < ARRAY_LEN(cap_steps) && pick < 0; i++)
            if (cap_steps[i] > cur)
                pick = cap_steps[i];
        set_cap(u, pick < 0 ? 0 : pick);      /* past the top step: no cap */
        return UI_DIRTY;
    }
    if (cur == 0) {
        struct engine_stats st;

        /* From no cap, the first step down is the one below what is flowing now. */
        uisrc_stats(u->src, &st);
        cur = st.rate > cap_steps[0] ? st.rate : cap_steps[1];
    }
    for (size_t i = ARRAY_LEN(cap_steps); i-- > 0 && pick < 0;)
        if (cap_steps[i] < cur)
            pick = cap_steps[i];
    if (pick < 0) {
        ui_message(u, false, "the cap is at the lowest step (%s); b sets any value",
                   units_fmt_cap(cur, buf, sizeof buf));
        return UI_DIRTY;
    }
    set_cap(u, pick);
    return UI_DIRTY;
}

/* ---- prompts ---- */

static unsigned ask(struct ui *u, int kind, int code)
{
    static const char *const labels[] = {
        [ASK_CAP] = "cap (50M, 400Mbit, off): ",
        [ASK_CONCURRENCY] = "concurrency (1..1024): ",
        [ASK_ADD] = "add URL: ",
        [ASK_FILTER] = "filter (text, status:503 host:H state:failed reason:R; empty clears): ",
        [ASK_SCHEDULE] = "schedule (mon-fri 08:00,2M 18:30,off; none): ",
    };
    struct sbuf cur = { 0 };
    const char *init = kind == ASK_FILTER ? u->filter : NULL;

    /* The schedule in force, to edit rather than retype. */
    if (kind == ASK_SCHEDULE) {
        char err[ERRLEN];

        if (uisrc_schedule(u->src, NULL, &cur, err) == 0 && cur.s != NULL &&
            strcmp(cur.s, "none") != 0)
            init = cur.s;
    }
    ui_prompt_open(&u->prompt, kind, labels[kind], init);
    sbuf_free(&cur);
    u->prompt.url = kind == ASK_ADD;
    u->prompting = true;
    return UI_DIRTY;
}

/* Acts on an answer; false keeps the prompt open so the operator can fix what was typed. */
static bool answer(struct ui *u, int kind, const char *text)
{
    char err[ERRLEN];
    int64_t rate;
    long n;

    if (*text == '\0' && kind != ASK_FILTER)
        return true;        /* nothing typed: same as Escape */
    switch (kind) {
    case ASK_CAP:
        if (units_parse_rate(text, &rate, err) < 0) {
            ui_message(u, true, "cap unchanged: %s", err);
            return false;
        }
        set_cap(u, rate);
        return true;
    case ASK_CONCURRENCY:
        if (units_parse_int(text, 1, 1024, &n, err) < 0) {
            ui_message(u, true, "concurrency unchanged: %s", err);
            return false;
        }
        set_concurrency(u, n);
        return true;
    case ASK_ADD:
        {
            uint64_t id;

            if (uisrc_add_url(u->src, text, &id, err) < 0) {
                ui_message(u, true, "cannot add: %s", err);
                return false;
            }
            ui_message(u, false, "added item %llu", (unsigned long long)id);
        }
        return true;
    case ASK_SCHEDULE:
        {
            struct sbuf b = { 0 };

            if (uisrc_schedule(u->src, text, &b, err) < 0) {
                ui_message(u, true, "schedule unchanged: %s", err);
                sbuf_free(&b);
                return false;
            }
            ui_message(u, false, "schedule %s", b.s != NULL ? b.s : "none");
            sbuf_free(&b);
        }
        return true;
    case ASK_FILTER:
        if (ui_list_set_filter(u, text, err) < 0) {
            ui_message(u, true, "filter unchanged: %s", err);
            return false;
        }
        u->sel = u->top = 0;
        u->sel_id = 0;
        if (u->filter == NULL)
            ui_message(u, false, "filter cleared");
        else
            ui_message(u, false, "filter '%s': the tabs count what matches (Escape clears)",
                       u->filter);
        return true;
    }
    return true;
}

static enum ui_prompt_action prompt_action(bool keycode, wint_t ch)
{
    if (keycode) {
        switch (ch) {
        case KEY_LEFT: return PA_LEFT;
        case KEY_RIGHT: return PA_RIGHT;
        case KEY_HOME: return PA_HOME;
        case KEY_END: return PA_END;
        case KEY_BACKSPACE: return PA_BACKSPACE;
        case KEY_DC: return PA_DELETE;
        case KEY_ENTER: return PA_ENTER;
        default: return PA_IGNORE;
        }
    }
    switch (ch) {
    case '\r': case '\n': return PA_ENTER;
    case ESC: case CTRL('g'): return PA_CANCEL;
    case 127: case CTRL('h'): return PA_BACKSPACE;
    case CTRL('d'): return PA_DELETE;
    case CTRL('a'): return PA_HOME;
    case CTRL('e'): return PA_END;
    case CTRL('b'): return PA_LEFT;
    case CTRL('f'): return PA_RIGHT;
    case CTRL('u'): return PA_KILL_LINE;
    case CTRL('k'): return PA_KILL_END;
    case CTRL('w'): return PA_KILL_WORD;
    default: return ch < 0x20 ? PA_IGNORE : PA_CHAR;
    }
}

static unsigned prompt_key(struct ui *u, bool keycode, wint_t ch)
{
    char text[UI_PROMPT_MAX * 4 + 1];

    switch (ui_prompt_key(&u->prompt, prompt_action(keycode, ch), (wchar_t)ch)) {
    case PROMPT_MORE:
        break;
    case PROMPT_CANCEL:
        u->prompting = false;
        break;
    case PROMPT_ENTER:
        if (answer(u, u->prompt.kind, ui_prompt_text(&u->prompt, text, sizeof text)))
            u->prompting = false;
        break;
    }
    return UI_DIRTY;
}

/* ---- the rest ---- */

static unsigned confirm_key(struct ui *u, bool keycode, wint_t ch)
{
    enum ui_confirm what = u->confirm;
    char err[ERRLEN];

    u->confirm = CONFIRM_NONE;
    if (what == CONFIRM_QUIT && !keycode && ch == 'D') {
        u->detach = true;
        return 0;
    }
    if (keycode || (ch != 'y' && ch != 'Y')) {
        ui_message(u, false, what == CONFIRM_QUIT ? "still running" : "nothing removed");
        return UI_DIRTY;
    }
    if (what == CONFIRM_QUIT) {
        uisrc_flush(u->src);
        if (uisrc_stop(u->src, err) < 0) {
            ui_message(u, true, "stop: %s", err);
            return UI_DIRTY;
        }
        u->quit = true;
    } else if (uisrc_remove(u->src, u->confirm_id, err) < 0) {
        ui_message(u, true, "remove: %s", err);
    } else {
        ui_message(u, false, "removed item %llu", (unsigned long long)u->confirm_id);
    }
    return UI_DIRTY;
}

static unsigned save(struct ui *u, int arg, int code)
{
    if (uisrc_flush(u->src) < 0)
        ui_message(u, true, "saving the session failed");
    else
        ui_message(u, false, "saved");
    return UI_DIRTY;
}

static unsigned quit(struct ui *u, int arg, int code)
{
    if (u->view != VIEW_LIST) {    /* q leaves a sub-screen first, like less and htop */
        u->view = VIEW_LIST;
        return UI_DIRTY;
    }
    if (uisrc_idle(u->src)) {
        uisrc_flush(u->src);
        u->quit = true;
        return 0;
    }
    u->confirm = CONFIRM_QUIT;
    return UI_DIRTY;
}

/* D: the UI goes, the sync goes on (docs/design.md#detach-and-attach). */
static unsigned detach_key(struct ui *u, int arg, int code)
{
    u->detach = true;
    return 0;
}

static unsigned help(struct ui *u, int arg, int code)
{
    u->view = u->view == VIEW_HELP ? VIEW_LIST : VIEW_HELP;
    u->help_top = 0;
    return UI_DIRTY;
}

static unsigned escape(struct ui *u, int arg, int code)
{
    char err[ERRLEN];

    if (u->view != VIEW_LIST) {
        u->view = VIEW_LIST;
    } else if (u->filter != NULL) {
        ui_list_set_filter(u, NULL, err);
        u->sel = u->top = 0;
        u->sel_id = 0;
        ui_message(u, false, "filter cleared");
    }
    return UI_DIRTY;
}

static unsigned redraw(struct ui *u, int arg, int code)
{
    return UI_DIRTY | UI_CLEAR;
}

static const struct key keys[] = {
    { { KC | KEY_UP, 'k' }, move_by, -1, { "Up k", "move up", NULL, NULL, 0 } },
    { { KC | KEY_DOWN, 'j' }, move_by, 1, { "Down j", "move down", NULL, NULL, 0 } },
    { { KC | KEY_PPAGE, CTRL('b') }, page_up, 0, { "PgUp", "page up", NULL, NULL, 0 } },
    { { KC | KEY_NPAGE, CTRL('f'), ' ' }, move_by, 0, { "PgDn Space", "page down", NULL, NULL, 0 } },
    { { KC | KEY_HOME, 'g' }, move_to, 0, { "Home g", "first item", NULL, NULL, 0 } },
    { { KC | KEY_END, 'G' }, move_to, -1, { "End G", "last item", NULL, NULL, 0 } },
    { { '1', '2', '3', '4', '5', '6', '7' }, tab_digit, 0,
      { "1-7", "tabs: All Active Queued Retry Failed Done, Hosts", "tabs", "1-7", 7 } },
    { { '\t', KC | KEY_RIGHT }, tab_step, 1, { "Tab Right", "next tab", NULL, NULL, 0 } },
    { { KC | KEY_BTAB, KC | KEY_LEFT }, tab_step, -1, { "S-Tab Left", "previous tab", NULL, NULL, 0 } },
    { { '\r', '\n', KC | KEY_ENTER }, details, 0, { "Enter", "details of the item (again: back)", "details", "Enter", 8 } },
    { { 'p' }, pause_one, 0, { "p", "pause or resume the selected item", "pause", "p", 3 } },
    { { 'P' }, pause_all, 0, { "P", "pause or resume everything", NULL, NULL, 0 } },
    { { 'r' }, requeue_one, 0, { "r", "requeue the selected item", NULL, NULL, 0 } },
    { { 'R' }, requeue_all, 0, { "R", "requeue every failed item (with a filter: those it shows)", "requeue", "r R", 6 } },
    { { '+', '=' }, conc_step, 1, { "+", "one more transfer at once", NULL, NULL, 0 } },
    { { '-', '_' }, conc_step, -1, { "-", "one transfer less", "conns", "+ -", 4 } },
    { { 'c' }, ask, ASK_CONCURRENCY, { "c", "set the concurrency", NULL, NULL, 0 } },
    { { ']' }, cap_step, 1, { "]", "cap up a step", NULL, NULL, 0 } },
    { { '[' }, cap_step, -1, { "[", "cap down a step", NULL, NULL, 0 } },
    { { 'b' }, ask, ASK_CAP, { "b", "set the cap (50M, 400Mbit, off)", "cap", "b [ ]", 5 } },
    { { 'S' }, ask, ASK_SCHEDULE, { "S", "show and replace the schedule (for this run)", NULL, NULL, 0 } },
    { { 'a' }, ask, ASK_ADD, { "a", "add a URL", NULL, NULL, 0 } },
    { { 'd', KC | KEY_DC }, remove_one, 0, { "d Del", "remove the selected item", NULL, NULL, 0 } },
    { { '/' }, ask, ASK_FILTER, { "/", "filter by path or host (Escape clears)", "filter", "/", 9 } },
    { { 's' }, save, 0, { "s", "save the session now", NULL, NULL, 0 } },
    { { CTRL('l') }, redraw, 0, { "Ctrl-L", "repaint the screen", NULL, NULL, 0 } },
    { { ESC }, escape, 0, { "Esc", "back; clear the filter", NULL, NULL, 0 } },
    { { '?', 'h', KC | KEY_F(1) }, help, 0, { "? h F1", "this help", "help", "?", 2 } },
    { { 'D' }, detach_key, 0, { "D", "detach: the UI goes, the sync goes on (sluice attach)", NULL, NULL, 0 } },
    { { 'q', 'Q' }, quit, 0, { "q", "quit (while work is left: stop the sync, or D to detach)", "quit", "q", 1 } },
};

size_t ui_keys_docs(const struct ui_key_doc **docs)
{
    static struct ui_key_doc d[ARRAY_LEN(keys)];

    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        d[i] = keys[i].doc;
    *docs = d;
    return ARRAY_LEN(keys);
}

unsigned ui_keys_handle(struct ui *u, bool keycode, wint_t ch)
{
    int code = keycode ? (int)(KC | ch) : (int)ch;

    ui_list_stale(u);           /* whatever the key did, the filtered view shows it at once */
    if (u->prompting)
        return prompt_key(u, keycode, ch);
    if (u->confirm != CONFIRM_NONE)
        return confirm_key(u, keycode, ch);
    if (u->view == VIEW_DETAILS && (code == (KC | KEY_LEFT) || code == (KC | KEY_BACKSPACE) ||
                                    code == 127)) {
        u->view = VIEW_LIST;
        return UI_DIRTY;
    }
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        for (size_t j = 0; j < ARRAY_LEN(keys[i].codes) && keys[i].codes[j] != 0; j++)
            if (keys[i].codes[j] == code)
                return keys[i].fn(u, keys[i].arg, code);
    if (u->view == VIEW_HELP) {     /* any other key leaves the help */
        u->view = VIEW_LIST;
        return UI_DIRTY;
    }
    if (!keycode && ch >= 0x20 && ch < 0x7f)
        ui_message(u, true, "no key '%c' (? shows the keys)", (int)ch);
    return UI_DIRTY;
}
