#ifndef SLUICE_UI_IMPL_H
#define SLUICE_UI_IMPL_H
/* What the files of the terminal UI share (ui.c loop glue, ui_keys.c key table, ui_list.c tabs
 * and pages, ui_draw.c and ui_view.c drawing). Nothing outside src/ui*.c includes it.
 * The model never draws: keys and events only set dirty bits; one throttled draw reads the
 * source (include/uisrc.h: this process's engine and queue, or a running sluice's socket) and
 * paints. */
#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>

#include "filter.h"
#include "item.h"
#include "theme.h"
#include "ui_prompt.h"
#include "uisrc.h"
#include "util.h"

struct loop;
struct loop_timer;
struct engine;
struct queue;
struct settings;

#define UI_MIN_COLS 40             /* below this even the compact layout cannot hold */
#define UI_MIN_ROWS 10
/* Below this the compact layout (docs/tui.md#over-ssh): one header line with every counter, the
 * tab line, the list and the key line; 80x24 and 60x20 use it. */
#define UI_FULL_COLS 90
#define UI_FULL_ROWS 26
#define UI_COMPACT_MSG_MS 5000     /* compact: a new message takes the key line this long */
#define UI_HEADER_ROWS 5           /* rate, sparkline, counts, tabs, column titles */
#define UI_FOOTER_ROWS 2           /* status, hints or prompt */
#define UI_HIST 1024               /* errors remembered for the details view */
#define UI_STALL_SHOW_MS 3000      /* a transfer silent this long says "stall" on its row */

/* Dirty bits: what a key handler or an event changed. */
#define UI_DIRTY 1u                /* draw again (ncurses sends only the cells that changed) */
#define UI_CLEAR 2u                /* repaint every cell: the screen may hold garbage */

enum ui_tab { TAB_ALL, TAB_ACTIVE, TAB_QUEUED, TAB_RETRY, TAB_FAILED, TAB_DONE, TAB_COUNT };
enum ui_view { VIEW_LIST, VIEW_DETAILS, VIEW_HELP, VIEW_HOSTS };
enum ui_confirm { CONFIRM_NONE, CONFIRM_QUIT, CONFIRM_REMOVE };
enum ui_prompt_kind { ASK_CAP, ASK_CONCURRENCY, ASK_ADD, ASK_FILTER, ASK_SCHEDULE };

struct ui_hist {
    uint64_t id;
    int64_t wall_ms;
    int status;
    bool failed;                   /* the last word: the item went to the failed list */
    char *text;
};

struct ui {
    struct loop *loop;
    struct uisrc *src;             /* what is shown and where commands go (include/uisrc.h) */
    struct uisrc_info info;        /* the run's settings the UI shows */
    const struct settings *s;      /* this process's: the theme */

    /* the terminal */
    SCREEN *scr;
    FILE *tty_in;                  /* /dev/tty when standard input is not the terminal */
    int infd;
    bool utf8, color;
    struct theme theme;
    attr_t attr[TH_COUNT];
    int idle_reads;                /* readable with no key in a row: the terminal is gone */

    /* redraw */
    struct loop_timer *draw_timer, *live_timer;
    unsigned dirty;
    int64_t last_draw_ms;
    int64_t idle_since_ms;         /* when the run went idle (the clock stops), or -1 */
    int64_t frozen_elapsed_ms;
    bool quit;
    bool gone;                     /* the terminal went away: main detaches */
    bool detach;                   /* D, or D at the quit question: the sync goes on */
    unsigned long frames;          /* drawn so far (bench/attach.sh: the first screen) */

    /* what is shown */
    enum ui_tab tab;
    enum ui_view view;
    size_t sel, top;               /* index of the selected row and of the first row shown */
    uint64_t sel_id;               /* the selected item; 0 = take whatever is at sel */
    uint64_t detail_id;            /* the item of the details view */
    bool detail_follow;            /* the details view moved with the selection */
    int list_rows;                 /* rows of the list in the last layout (PgUp/PgDn) */
    int help_top;

    /* modes of the bottom line */
    bool prompting;
    struct ui_prompt prompt;
    enum ui_confirm confirm;
    uint64_t confirm_id;

    /* status line */
    char msg[ERRLEN];
    bool msg_error;
    int64_t msg_ms;                /* when it was said (loop time) */

    /* filter: the ids whose path or host contain it, found by a scan that looks at a bounded
     * number of items per frame (ids and paths never change), and the matches of the current tab,
     * rebuilt at most once a second */
    char *filter;
    struct filter filt;            /* filter parsed (filter.h): the scan keeps the ids that match
                                    * its fixed half, the view checks the live half each time */
    uint64_t *fids;
    size_t nfids, fcap;
    uint64_t fscan_id;             /* next id to look at */
    size_t fscan_seen;             /* items seen so far */
    uint64_t *fview;
    size_t nfview, fvcap;
    size_t fcounts[TAB_COUNT];
    int64_t fview_ms;
    enum ui_tab fview_tab;
    bool fview_stale;

    /* recent errors, a ring */
    struct ui_hist hist[UI_HIST];
    size_t hist_next;
};

/* ui.c */
void ui_mark(struct ui *u, unsigned bits);
void ui_message(struct ui *u, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ui_keys.c: one key from the terminal; returns dirty bits. */
unsigned ui_keys_handle(struct ui *u, bool keycode, wint_t ch);
struct ui_key_doc {
    const char *keys;              /* as the help shows them: "Up/k" */
    const char *help;
    const char *hint;              /* label on the hint line, NULL when not shown there */
    const char *hint_key;
    int hint_rank;                 /* 1 = shown first when the line is short */
};
size_t ui_keys_docs(const struct ui_key_doc **docs);

/* ui_list.c: tabs and pages of items through uisrc_page, with the filter applied. */
const char *ui_list_tab_name(enum ui_tab t);
size_t ui_list_count(struct ui *u, enum ui_tab t);
/* Resolves the selection (following the selected item when it moved) and fills page with the
 * rows to show, at most rows of them; returns how many. */
size_t ui_list_view(struct ui *u, size_t rows, struct item **page);
/* 0, or -1 with err (ERRLEN) when the filter's words are wrong (the old filter stays). */
int ui_list_set_filter(struct ui *u, const char *filter, char *err);
/* The items the filter shows now (every tab): ids in *ids (allocated), how many; done: the
 * scan has looked at every item. */
size_t ui_list_matches(struct ui *u, uint64_t **ids, bool *done);
/* Something changed that the filtered view must show before its next second. */
void ui_list_stale(struct ui *u);
/* 0..100 while the filter is still looking at items, -1 when it is done (or none is set). */
int ui_list_filter_progress(struct ui *u);
void ui_list_free(struct ui *u);
/* The selected item (details view: its item), or NULL. Valid until control returns to the loop. */
struct item *ui_list_selected(struct ui *u);

/* ui_draw.c */
void ui_draw(struct ui *u);
/* s (UTF-8, hostile) in w columns at y,x in element e; keep_end cuts at the start. Pads with
 * blanks to w when pad. Returns columns written. */
int ui_put(struct ui *u, int y, int x, int w, enum theme_elem e, const char *s, bool keep_end,
           bool pad);
/* Right-aligned in w columns. */
void ui_put_right(struct ui *u, int y, int x, int w, enum theme_elem e, const char *s);
void ui_fill(struct ui *u, int y, int x, int w, enum theme_elem e);

/* ui_view.c: the details of the selected item and the key help, in rows y0..y1-1. */
void ui_view_details(struct ui *u, int y0, int y1);
void ui_view_help(struct ui *u, int y0, int y1);
/* Tab 7: a row per host (engine_hosts_view). */
void ui_view_hosts(struct ui *u, int y0, int y1);

#endif
