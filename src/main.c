/* sluice: parse, plan, run the loop until the work is done or the operator stops it. */
#include "cli.h"
#include "ctl.h"
#include "engine.h"
#include "evlog.h"
#include "fsout.h"
#include "headless.h"
#include "intake.h"
#include "loop.h"
#include "opts.h"
#include "queue.h"
#include "theme.h"
#include "ui.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* EXIT_SESSION wins over 0, 1 and 3: the files are right, but the session does not hold what
 * this run did, so "resume" or "a new pass" would not mean what it says. */
enum { EXIT_DONE = 0, EXIT_FAILED_ITEMS = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3, EXIT_SESSION = 4 };

struct run {
    struct loop *loop;
    struct ui *ui;
    struct ctl *ctl;
    struct engine *engine;
    struct evlog *log;
    int sigfd;
    int interrupted;
};

static void report_stderr(void *arg, const char *msg)
{
    fprintf(stderr, "%s\n", msg);
}

static void on_signal(int fd, unsigned events, void *arg)
{
    struct run *r = arg;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
            r->interrupted = (int)si.ssi_signo;
        else if (si.ssi_signo == SIGWINCH && r->ui != NULL)
            ui_resize(r->ui);
    }
}

/* Signals arrive through a descriptor of the loop; blocked before any thread starts so that the
 * worker threads never take them. */
static int setup_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* ---- the session: where it lives, what it restores ---- */

/* What this run created before the input was known to be good, so that a refused input leaves
 * nothing behind (SPEC §1: exit 2, nothing downloaded). */
struct made {
    char **dirs;                 /* folders created, outermost first */
    size_t ndirs;
    char *session;               /* the session file, when this run created it */
};

/* Remembers which folders of dir are missing, outermost first, before something creates them. */
static void note_missing(struct made *m, const char *dir)
{
    char *p = xstrdup(dir);
    struct stat sb;

    while (*p != '\0' && strcmp(p, ".") != 0 && strcmp(p, "/") != 0 && stat(p, &sb) < 0 &&
           errno == ENOENT) {
        char *slash;

        m->dirs = xrealloc(m->dirs, (m->ndirs + 1) * sizeof *m->dirs);
        memmove(m->dirs + 1, m->dirs, m->ndirs * sizeof *m->dirs);
        m->dirs[0] = xstrdup(p);
        m->ndirs++;
        slash = strrchr(p, '/');
        if (slash == NULL)
            break;
        while (slash > p && slash[-1] == '/')
            slash--;
        *slash = '\0';
    }
    free(p);
}

static void undo_made(struct made *m)
{
    if (m->session != NULL) {
        static const char *const sides[] = { "", "-wal", "-shm" };

        for (size_t i = 0; i < ARRAY_LEN(sides); i++) {
            char *f = xasprintf("%s%s", m->session, sides[i]);

            unlink(f);
            free(f);
        }
    }
    for (size_t i = m->ndirs; i > 0; i--)
        rmdir(m->dirs[i - 1]);
}

static void made_free(struct made *m)
{
    for (size_t i = 0; i < m->ndirs; i++)
        free(m->dirs[i]);
    free(m->dirs);
    free(m->session);
}

/* --session FILE, or DIR/.sluice/session.db (the folder private to us), or with --no-session a
 * temporary one: the queue lives in a database either way, so memory does not grow with it. */
static struct queue *open_session(const struct settings *s, int rootfd, struct made *m, char *err)
{
    const char *dir = s->dir != NULL && *s->dir != '\0' ? s->dir : ".";
    struct queue *q;
    struct stat sb;
    char *path;

    if (s->no_session)
        return queue_open(NULL, err);
    if (s->session != NULL) {
        path = xstrdup(s->session);
    } else {
        if (mkdirat(rootfd, ".sluice", 0700) == 0) {
            m->dirs = xrealloc(m->dirs, (m->ndirs + 1) * sizeof *m->dirs);
            m->dirs[m->ndirs++] = xasprintf("%s/.sluice", dir);
        } else if (errno != EEXIST) {
            errf(err, "cannot create %s/.sluice: %s", dir, strerror(errno));
            return NULL;
        }
        if (fstatat(rootfd, ".sluice", &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode)) {
            errf(err, "%s/.sluice is not a folder", dir);
            return NULL;
        }
        if ((sb.st_mode & 077) != 0)
            fchmodat(rootfd, ".sluice", 0700, 0);
        path = xasprintf("%s/.sluice/session.db", dir);
    }
    q = queue_open(path, err);
    if (q != NULL && queue_created(q))
        m->session = path;
    else
        free(path);
    return q;
}

/* A rate, burst or concurrency tuned live in an earlier run comes back, unless the command line
 * sets it (SPEC §7). With a schedule the rate is the schedule's. */
static void restore_settings(struct settings *s, struct queue *q)
{
    static const char *const keys[] = { "rate", "burst", "concurrency" };

    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        int idx = opts_find(keys[i]);
        char err[ERRLEN], text[32];
        int64_t v;

        if (idx < 0 || (s->set_on_cli & (UINT64_C(1) << idx)) != 0)
            continue;
        if (strcmp(keys[i], "concurrency") != 0 && s->nschedule > 0)
            continue;
        if (queue_setting_get(q, keys[i], &v) <= 0)
            continue;
        if (strcmp(keys[i], "burst") == 0 && v == 0)
            snprintf(text, sizeof text, "auto");
        else
            snprintf(text, sizeof text, "%lld", (long long)v);
        if (opts_apply(s, idx, text, err) < 0)
            fprintf(stderr, "sluice: session setting %s=%s ignored: %s\n", keys[i], text, err);
    }
}

/* The intake writer stored more items: start what can start. */
static void on_rows(void *arg)
{
    struct run *r = arg;

    if (r->engine != NULL)
        engine_kick(r->engine);
}

int main(int argc, char **argv)
{
    struct settings s;
    struct queue *q = NULL;
    struct headless *hl = NULL;
    struct run r = { .sigfd = -1 };
    struct intake *in = NULL;
    struct made made = { 0 };
    char err[ERRLEN];
    int rootfd = -1, status = EXIT_USAGE, problems;
    bool summary_shown = false;

    settings_init(&s);
    switch (cli_parse(argc, argv, &s, stdout, stderr)) {
    case CLI_EXIT_OK:
        settings_free(&s);
        return 0;
    case CLI_EXIT_USAGE:
        settings_free(&s);
        return EXIT_USAGE;
    case CLI_CTL:
        settings_free(&s);
        return ctl_client_main(argc, argv);
    case CLI_RUN:
        break;
    }
    if (s.nurls == 0 && s.input == NULL) {
        fprintf(stderr, "sluice: nothing to download (give URLs or -i FILE; --help for help)\n");
        goto out;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice: cannot initialise libcurl\n");
        goto out;
    }

    /* The session lives under the output root: the root first, then the session, then the input
     * (merged into the session); a refused input takes back what was created for it. */
    if (s.segments > 1)
        fprintf(stderr, "sluice: --segments %d: segmented downloads are not implemented yet; "
                "one connection per file\n", s.segments);
    /* A bad theme is a usage error: say so before anything is created or read. */
    if (s.mode != UI_HEADLESS) {
        struct theme th;

        if (theme_load(&th, s.theme, err) < 0) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
    }
    note_missing(&made, s.dir != NULL && *s.dir != '\0' ? s.dir : ".");
    if (fsout_root_open(s.dir, &rootfd, err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out;
    }
    q = open_session(&s, rootfd, &made, err);
    if (q == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        undo_made(&made);
        goto out;
    }
    restore_settings(&s, q);
    {
        int64_t fin = 0;

        /* A run that finished closes its pass: this one checks every item again (an unchanged
         * file costs a 304, no body). A run that was interrupted is resumed instead: what it
         * finished stays finished and is not asked for again. */
        if (!queue_created(q) && queue_setting_get(q, "finished", &fin) == 1 && fin == 1 &&
            queue_new_pass(q) < 0) {
            fprintf(stderr, "sluice: cannot start a new pass: %s\n", queue_error(q));
            status = EXIT_SESSION;
            goto out;
        }
        /* A failure here stays pending: retried with every flush, reported at the end. */
        (void)queue_setting_set(q, "finished", 0);
    }
    problems = intake_check(&s, q, report_stderr, NULL, &in);
    if (problems != 0) {
        if (problems > 0)
            fprintf(stderr, "sluice: %d problem%s in the input; nothing was downloaded\n", problems,
                    problems == 1 ? "" : "s");
        queue_free(q);
        q = NULL;
        close(rootfd);
        rootfd = -1;
        undo_made(&made);
        goto out;
    }
    if (s.log != NULL && (r.log = evlog_open(s.log, err)) == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out;
    }
    r.sigfd = setup_signals();
    if (r.sigfd < 0) {
        fprintf(stderr, "sluice: cannot set up signals: %s\n", strerror(errno));
        goto out;
    }

    r.loop = loop_new();
    loop_watch(r.loop, r.sigfd, LOOP_READ, on_signal, &r);
    r.engine = engine_new(r.loop, &s, q, rootfd, err);
    if (r.engine == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out;
    }
    if (r.log != NULL)
        engine_add_listener(r.engine, evlog_listener, r.log);
    /* Session: completions written on the next turn, and the intake writer (its own thread)
     * stores the new items while the engine starts on the first of them. */
    queue_attach_loop(q, r.loop, on_rows, &r);
    if (in != NULL && intake_start(in, rootfd, err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        goto out;
    }
    {
        char *path = ctl_default_path(s.dir);

        /* A run without its control socket still works; scripts are told why they cannot reach it. */
        r.ctl = ctl_new(r.loop, r.engine, q, &s, path, err);
        if (r.ctl == NULL)
            fprintf(stderr, "sluice: control socket %s: %s\n", path, err);
        free(path);
    }
    if (s.mode == UI_TUI || (s.mode == UI_AUTO && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))) {
        r.ui = ui_new(r.loop, r.engine, q, &s, err);
        if (r.ui == NULL) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
    } else {
        hl = headless_new(r.loop, r.engine, stderr);
    }

    engine_start(r.engine);
    /* Headless ends when the work is done; the TUI stays until the operator quits. */
    /* The intake writer may still queue items (new ones, or finished ones whose files are gone):
     * headless runs until it is done too. */
    while (!r.interrupted && (r.ui != NULL ? !ui_wants_quit(r.ui)
                                           : !engine_idle(r.engine) ||
                                                 (in != NULL && intake_status(in, NULL) == 1))) {
        if (loop_run_once(r.loop, 1000) < 0) {
            fprintf(stderr, "sluice: event loop failed: %s\n", strerror(errno));
            r.interrupted = -1;
        }
        if (in != NULL && !summary_shown) {
            int ist = intake_status(in, err);

            if (ist < 0) {
                fprintf(stderr, "sluice: cannot store the input: %s\n", err);
                r.interrupted = -1;
            } else if (ist == 0) {
                summary_shown = true;
                if (intake_summary(in) != NULL && r.ui == NULL)
                    fprintf(stderr, "%s\n", intake_summary(in));
            }
        }
    }
    if (r.ui != NULL && !engine_idle(r.engine))
        r.interrupted = SIGINT;      /* quit with work left: saved, like an interrupt */
    ui_free(r.ui);
    r.ui = NULL;
    /* The writer stops first: what it stored stays, the rest is stored by the next run. */
    intake_stop(in);
    if (getenv("SLUICE_SESSION_STATS") != NULL) {
        struct queue_db_stats dbs;

        /* For bench/session.sh: how long the loop spent in the session. */
        queue_db_stats(q, &dbs);
        fprintf(stderr, "sluice: session: %llu calls on the loop, %.1f ms in all, slowest %.1f ms "
                "(%s), %llu writes put off while the intake wrote\n",
                (unsigned long long)dbs.calls, (double)dbs.total_us / 1000.0,
                (double)dbs.max_us / 1000.0, dbs.slowest != NULL ? dbs.slowest : "-",
                (unsigned long long)dbs.busy);
    }
    if (r.interrupted)
        engine_stop(r.engine);
    headless_summary(r.engine, q, stderr, r.interrupted != 0);
    if (r.interrupted)
        status = EXIT_INTERRUPTED;
    else
        status = queue_count(q, ITEM_FAILED) > 0 ? EXIT_FAILED_ITEMS : EXIT_DONE;
    if (!r.interrupted)
        (void)queue_setting_set(q, "finished", 1);     /* retried by queue_close */

out:
    intake_free(in);
    ctl_free(r.ctl);
    ui_free(r.ui);
    headless_free(hl);
    engine_free(r.engine);
    evlog_close(r.log);
    if (q != NULL)
        queue_detach_loop(q);
    loop_free(r.loop);
    if (r.sigfd >= 0)
        close(r.sigfd);
    if (rootfd >= 0)
        close(rootfd);
    if (q != NULL && queue_close(q, err) < 0) {
        fprintf(stderr, "sluice: cannot write the session: %s\n"
                "sluice: the files on disk are complete; the next run asks again for what was "
                "not recorded\n", err);
        if (status != EXIT_USAGE)
            status = EXIT_SESSION;
    }
    made_free(&made);
    settings_free(&s);
    curl_global_cleanup();
    return status;
}
