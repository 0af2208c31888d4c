/* The terminal UI: takes the terminal and gives it back on every way out, reads keys when the
 * terminal's descriptor is readable (one more descriptor of the loop), listens to the engine,
 * and draws at most five times a second, only after something changed. */
#include "ui.h"
#include "ui_impl.h"
#include "engine.h"
#include "loop.h"
#include "opts.h"
#include "units.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DRAW_MIN_MS 200            /* at most 5 frames a second (docs/tui.md#over-ssh) */
#define LIVE_MS 1000               /* rates, clocks and countdowns move once a second */
#define ESCAPE_DELAY_MS 50         /* a lone Escape vs the start of an arrow key */

/* The one UI of the process. Engine listeners cannot be removed, so the listener finds the UI
 * here and ui_free clears it; the crash and out-of-memory paths use it to restore the terminal. */
static struct ui *current;
static volatile sig_atomic_t term_taken;

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };
static struct sigaction crash_old[ARRAY_LEN(crash_signals)];

static void restore_terminal(void)
{
    if (term_taken) {
        term_taken = 0;
        endwin();
    }
}

/* Not async-signal-safe, like htop's crash handler: the process is going down anyway, and a
 * terminal left in raw mode on the alternate screen is worse. The old action then runs: a fault
 * meets it when the instruction runs again (so ASan still reports), a raised signal is raised
 * again. */
static void on_crash(int sig, siginfo_t *si, void *ctx)
{
    restore_terminal();
    for (size_t i = 0; i < ARRAY_LEN(crash_signals); i++)
        if (crash_signals[i] == sig)
            sigaction(sig, &crash_old[i], NULL);
    if (sig == SIGQUIT || sig == SIGABRT || si == NULL || si->si_code <= 0)
        raise(sig);
}

static void crash_handlers(bool install)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_LEN(crash_signals); i++) {
        if (install)
            sigaction(crash_signals[i], &sa, &crash_old[i]);
        else
            sigaction(crash_signals[i], &crash_old[i], NULL);
    }
}

void ui_message(struct ui *u, bool error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(u->msg, sizeof u->msg, fmt, ap);
    va_end(ap);
    u->msg_error = error;
    u->msg_ms = loop_now(u->loop);
    ui_mark(u, UI_DIRTY);
}

/* The clock in the header stops when the run has nothing left to do, and the operator is told. */
static void idle_check(struct ui *u)
{
    struct engine_stats st;

    if (!uisrc_idle(u->src)) {
        u->idle_since_ms = -1;
        return;
    }
    if (u->idle_since_ms >= 0)
        return;
    uisrc_stats(u->src, &st);
    u->idle_since_ms = loop_now(u->loop);
    u->frozen_elapsed_ms = st.elapsed_ms;
    if (st.total > 0)
        ui_message(u, st.failed > 0, "finished: %zu done, %zu unchanged, %zu failed%s; q quits",
                   st.done, st.unchanged, st.failed, st.failed > 0 ? " (5 lists them, R requeues)" : "");
}

static void on_draw(void *arg)
{
    struct ui *u = arg;

    if (u->dirty == 0 || u->quit || u->gone || u->detach)
        return;
    idle_check(u);
    if (u->dirty & UI_CLEAR)
        clearok(curscr, TRUE);
    u->dirty = 0;
    u->last_draw_ms = loop_now(u->loop);
    ui_draw(u);
    u->frames++;
}

void ui_bell(struct ui *u)
{
    if (!u->s->no_bell)
        beep();
}

void ui_mark(struct ui *u, unsigned bits)
{
    int64_t wait;

    u->dirty |= bits;
    if (loop_timer_armed(u->draw_timer))
        return;
    wait = u->last_draw_ms + DRAW_MIN_MS - loop_now(u->loop);
    loop_timer_arm(u->draw_timer, wait < 0 ? 0 : wait);
}

/* Once a second: what moves with the clock. Nothing is drawn when nothing runs and the
 * sparkline has gone flat. */
static void on_live(void *arg)
{
    struct ui *u = arg;
    int64_t series[59];
    bool moving = false;

    loop_timer_arm(u->live_timer, LIVE_MS);
    idle_check(u);
    if (u->idle_since_ms >= 0) {
        uisrc_rate_series(u->src, series, (int)ARRAY_LEN(series));
        for (size_t i = 0; i < ARRAY_LEN(series) && !moving; i++)
            moving = series[i] > 0;
    } else {
        moving = true;
    }
    if (moving)
        ui_mark(u, UI_DIRTY);
}

static void hist_add(struct ui *u, const struct engine_event *ev)
{
    struct ui_hist *h = &u->hist[u->hist_next];

    free(h->text);
    h->id = ev->item->id;
    h->wall_ms = wall_ms();
    h->status = ev->http_status;
    h->failed = ev->kind == EV_FAILED;
    h->text = xstrndup(ev->error != NULL ? ev->error : "unknown error", 300);
    u->hist_next = (u->hist_next + 1) % UI_HIST;
}

static void on_event(const struct engine_event *ev, void *arg)
{
    struct ui *u = current;
    char buf[32];

    if (u == NULL)
        return;
    switch (ev->kind) {
    case EV_RETRY:
    case EV_FAILED:
        if (ev->item != NULL)
            hist_add(u, ev);
        break;
    case EV_MESSAGE:
        if (ev->error != NULL)
            ui_message(u, false, "%s", ev->error);
        break;
    case EV_RATE:
        /* The schedule moves the cap too; a key's own message replaces this one. */
        if (ev->error != NULL)      /* a schedule's step: which one */
            ui_message(u, false, "cap now %s (%s)", units_fmt_cap(ev->value, buf, sizeof buf),
                       ev->error);
        else
            ui_message(u, false, "cap now %s", units_fmt_cap(ev->value, buf, sizeof buf));
        break;
    case EV_PAUSED:
    case EV_RESUMED:
        if (ev->item == NULL && ev->error != NULL)
            ui_message(u, false, "%s", ev->error);
        break;
    default:
        break;
    }
    ui_mark(u, UI_DIRTY);
}

static void terminal_gone(struct ui *u)
{
    /* Lost SSH usually arrives as SIGHUP first; this covers a terminal that closed without one.
     * main lets go of the UI and the run goes on headless (docs/design.md#detach-and-attach). */
    loop_unwatch(u->loop, u->infd);
    term_taken = 0;
    u->gone = true;
}

static void on_input(int fd, unsigned events, void *arg)
{
    struct ui *u = arg;
    unsigned bits = 0;
    int keys = 0, r;
    wint_t ch;

    while (!u->quit && !u->gone && (r = wget_wch(stdscr, &ch)) != ERR) {
        keys++;
        if (r == KEY_CODE_YES && ch == KEY_RESIZE)
            continue;           /* resizes come through ui_resize */
        bits |= ui_keys_handle(u, r == KEY_CODE_YES, ch);
    }
    if (keys > 0) {
        u->idle_reads = 0;
    } else if ((events & LOOP_ERROR) || ++u->idle_reads > 100) {
        terminal_gone(u);
        return;
    }
    if (bits != 0)
        ui_mark(u, bits);
}

static void size_from_terminal(void)
{
    struct winsize ws;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
        (ws.ws_row != LINES || ws.ws_col != COLS))
        resizeterm(ws.ws_row, ws.ws_col);
}

void ui_resize(struct ui *u)
{
    if (u == NULL || !term_taken)
        return;
    size_from_terminal();
    ui_mark(u, UI_DIRTY | UI_CLEAR);
}

static attr_t theme_attr(unsigned bits)
{
    return ((bits & THEME_BOLD) ? A_BOLD : 0) | ((bits & THEME_REVERSE) ? A_REVERSE : 0) |
           ((bits & THEME_UNDERLINE) ? A_UNDERLINE : 0) | ((bits & THEME_DIM) ? A_DIM : 0);
}

/* A theme colour on this terminal: bright colours fall back to bold normal ones on 8-colour
 * terminals (TERM=screen), anything else out of range to the terminal's own colour. */
static short fit_color(short c, bool defaults_ok, short fallback, attr_t *extra, bool fg)
{
    if (c >= 0 && c < COLORS)
        return c;
    if (c >= 8 && c < 16 && c - 8 < COLORS) {
        if (fg)
            *extra |= A_BOLD;
        return (short)(c - 8);
    }
    return defaults_ok ? -1 : fallback;
}

static void setup_colors(struct ui *u)
{
    bool defaults_ok;

    /* NO_COLOR (https://no-color.org) set to anything: no colours at all. */
    u->color = getenv("NO_COLOR") == NULL && has_colors();
    if (u->color && (start_color() == ERR || COLOR_PAIRS <= TH_COUNT))
        u->color = false;
    defaults_ok = u->color && use_default_colors() == OK;
    for (int i = 0; i < TH_COUNT; i++) {
        const struct theme_style *st = &u->theme.st[i];
        attr_t extra = 0;

        if (!u->color) {
            u->attr[i] = theme_attr(st->mono & (THEME_BOLD | THEME_REVERSE));
            continue;
        }
        init_pair((short)(i + 1), fit_color(st->fg, defaults_ok, COLOR_WHITE, &extra, true),
                  fit_color(st->bg, defaults_ok, COLOR_BLACK, &extra, false));
        u->attr[i] = COLOR_PAIR(i + 1) | theme_attr(st->attr) | extra;
    }
}

struct ui *ui_new(struct loop *loop, struct uisrc *src, const struct settings *s, char *err)
{
    struct ui *u;
    struct theme theme;
    FILE *in = stdin, *tty_in = NULL;
    const char *term = getenv("TERM");

    /* The theme first: a bad file is a usage error, reported before the screen changes. */
    if (theme_load(&theme, s->theme, err) < 0)
        return NULL;
    if (current != NULL) {
        errf(err, "sluice: the terminal UI is already running");
        return NULL;
    }
    if (!isatty(STDOUT_FILENO)) {
        errf(err, "sluice: the terminal UI needs a terminal on standard output (or use --headless)");
        return NULL;
    }
    if (!isatty(STDIN_FILENO)) {
        /* The list came on standard input (-i -): keys come from the terminal itself, as in less. */
        tty_in = fopen("/dev/tty", "re");
        if (tty_in == NULL) {
            errf(err, "sluice: the terminal UI cannot read keys: /dev/tty: %s (or use --headless)",
                 strerror(errno));
            return NULL;
        }
        in = tty_in;
    }
    /* LC_CTYPE only: numbers must keep their '.' (units print and parse them). */
    setlocale(LC_CTYPE, "");

    u = xcalloc(1, sizeof *u);
    u->loop = loop;
    u->src = src;
    uisrc_info(src, &u->info);
    u->s = s;
    u->theme = theme;
    u->tty_in = tty_in;
    u->infd = fileno(in);
    u->idle_since_ms = -1;
    u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    u->scr = newterm(NULL, stdout, in);
    if (u->scr == NULL) {
        errf(err, "sluice: cannot drive the terminal (TERM=%s); use --headless",
             term != NULL ? term : "unset");
        if (tty_in != NULL)
            fclose(tty_in);
        free(u);
        return NULL;
    }
    set_term(u->scr);
    current = u;
    term_taken = 1;
    util_set_fatal_hook(restore_terminal);
    crash_handlers(true);

    cbreak();                  /* Ctrl-C stays SIGINT: main saves and exits 3 */
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(ESCAPE_DELAY_MS);
    curs_set(0);
    setup_colors(u);
    size_from_terminal();

    u->draw_timer = loop_timer_new(loop, on_draw, u);
    u->live_timer = loop_timer_new(loop, on_live, u);
    loop_timer_arm(u->live_timer, LIVE_MS);
    loop_watch(loop, u->infd, LOOP_READ, on_input, u);
    uisrc_listen(src, on_event, NULL);
    ui_message(u, false, "? shows the keys");
    ui_mark(u, UI_DIRTY | UI_CLEAR);
    return u;
}

bool ui_wants_quit(const struct ui *u)
{
    return u != NULL && u->quit;
}

bool ui_wants_detach(const struct ui *u)
{
    return u != NULL && u->detach;
}

unsigned long ui_frames(const struct ui *u)
{
    return u != NULL ? u->frames : 0;
}

bool ui_terminal_gone(const struct ui *u)
{
    return u != NULL && u->gone;
}

void ui_free(struct ui *u)
{
    if (u == NULL)
        return;
    loop_unwatch(u->loop, u->infd);
    loop_timer_free(u->draw_timer);
    loop_timer_free(u->live_timer);
    if (current == u)
        current = NULL;
    restore_terminal();
    crash_handlers(false);
    util_set_fatal_hook(NULL);
    delscreen(u->scr);
    if (u->tty_in != NULL)
        fclose(u->tty_in);
    for (size_t i = 0; i < UI_HIST; i++)
        free(u->hist[i].text);
    ui_list_free(u);
    free(u);
}
