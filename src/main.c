/* sluice: parse, plan, run the loop until the work is done or the operator stops it. */
#include "attach.h"
#include "cli.h"
#include "ctl.h"
#include "report.h"
#include "engine.h"
#include "evlog.h"
#include "fsout.h"
#include "headless.h"
#include "intake.h"
#include "loop.h"
#include "notify.h"
#include "opts.h"
#include "queue.h"
#include "shard.h"
#include "theme.h"
#include "ui.h"
#include "uisrc.h"
#include "units.h"
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

/* What this run created before the input was known to be good, so that a refused input leaves
 * nothing behind (README.md#input-lists: exit 2, nothing downloaded). */
struct made {
    char **dirs;                 /* folders created, outermost first */
    size_t ndirs;
    char *session;               /* the session file, when this run created it */
};

/* Everything a run holds, so that each step below takes one argument and teardown() finds
 * whatever was made before a step failed. */
struct run {
    struct settings s;
    struct made made;
    int rootfd;
    struct queue *q;
    struct intake *in;
    struct loop *loop;
    struct ui *ui;
    struct uisrc *uisrc;         /* what the TUI reads: this process's engine and queue */
    struct headless *hl;
    struct ctl *ctl;
    struct engine *engine;
    struct evlog *log;
    struct loop_timer *flush_timer;  /* notices a log that stopped being written */
    int log_failed;              /* the log could not be written: 1 mid-run, 2 before anything */
    int sigfd;
    int interrupted;
    bool detach_asked;           /* SIGHUP or the terminal gone while the TUI ran */
    bool detached;               /* the TUI let go of the terminal; the run goes on headless */
    bool session_failed;         /* a session write failed for good: exit 4 */
    bool has_live_rate;          /* a live cap of the pass being resumed */
    bool finish_told;            /* the bell and --on-finish for this run's end (told once) */
    int64_t live_rate, live_burst;
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
        if (si.ssi_signo == SIGHUP && (r->ui != NULL || r->detached))
            r->detach_asked = true;  /* the link dropped: the sync goes on without the terminal */
        else if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP)
            r->interrupted = (int)si.ssi_signo;
        else if (si.ssi_signo == SIGWINCH && r->ui != NULL)
            ui_resize(r->ui);
    }
}

/* A log that cannot be written is said once; the run goes on (the files matter more than their
 * record), and its exit status says that the record is incomplete. */
static void check_log(struct run *r)
{
    if (r->log != NULL && evlog_error(r->log) != 0 && !r->log_failed) {
        r->log_failed = 1;
        fprintf(stderr, "sluice: cannot write the log %s: %s; events from here on are lost\n",
                r->s.log, strerror(evlog_error(r->log)));
    }
}

static void on_flush(void *arg)
{
    struct run *r = arg;

    check_log(r);
    loop_timer_arm(r->flush_timer, 1000);
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

/* FOLDER/NAME with FOLDER resolved: SQLite's no-follow open refuses a symbolic link anywhere in
 * the path, and links above the output root (/srv/images -> /data/images) are the user's layout.
 * NAME stays as written, so a link there (or at .sluice) is still refused. When FOLDER cannot be
 * resolved, the path as given (opening it reports why). */
static char *in_real_folder(const char *folder, const char *name)
{
    char *real = realpath(folder, NULL), *out;

    if (real == NULL)
        return xasprintf("%s/%s", folder, name);
    out = xasprintf("%s/%s", strcmp(real, "/") == 0 ? "" : real, name);
    free(real);
    return out;
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
        const char *slash = strrchr(s->session, '/');

        if (slash == NULL) {
            path = xstrdup(s->session);
        } else {
            char *folder = slash == s->session ? xstrdup("/") :
                           xstrndup(s->session, (size_t)(slash - s->session));

            path = in_real_folder(folder, slash + 1);
            free(folder);
        }
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
        path = in_real_folder(dir, ".sluice/session.db");
    }
    q = queue_open(path, err);
    if (q != NULL && queue_created(q))
        m->session = path;
    else
        free(path);
    return q;
}

/* What a live change leaves in the session (engine_ctl.c). */
static const char *const live_keys[] = { "rate", "burst", "concurrency", "rate_until" };

/* A live cap or concurrency belongs to the pass it was made in (docs/design.md#session):
 * a resumed pass keeps it, over the command line and the config (the cap only until the schedule
 * step it was made in ends: rate_until); a new pass forgets it and starts from the command line,
 * the config and the schedule. The cap is put in force by start_engine (engine_set_rate), so
 * that under a schedule it holds until the next step as it did before the interruption. */
static void restore_settings(struct run *r, bool resume)
{
    int64_t v, until = 0;

    if (!resume) {
        for (size_t i = 0; i < ARRAY_LEN(live_keys); i++)
            queue_setting_del(r->q, live_keys[i]);
        return;
    }
    if (queue_setting_get(r->q, "concurrency", &v) > 0) {
        int idx = opts_find("concurrency");
        char err[ERRLEN], text[32];

        snprintf(text, sizeof text, "%lld", (long long)v);
        if (idx < 0 || opts_apply(&r->s, idx, text, err) < 0)
            fprintf(stderr, "sluice: session setting concurrency=%s ignored\n", text);
        else
            fprintf(stderr, "sluice: resuming the pass with the concurrency set live: %lld\n",
                    (long long)v);
    }
    /* With a cap group the cap is the group's: nothing of this worker's to resume. */
    if (r->s.cap_group == NULL && queue_setting_get(r->q, "rate", &v) > 0 &&
        (queue_setting_get(r->q, "rate_until", &until) <= 0 || until <= 0 || wall_ms() < until)) {
        char text[32];

        r->live_rate = v;
        r->live_burst = 0;
        if (queue_setting_get(r->q, "burst", &v) > 0 && v > 0)
            r->live_burst = v;
        r->has_live_rate = true;
        if (r->live_rate > 0)
            units_fmt_rate(r->live_rate, text, sizeof text);
        else
            snprintf(text, sizeof text, "off");
        fprintf(stderr, "sluice: resuming the pass with the cap set live: %s%s\n", text,
                until > 0 ? " (until the next step of the schedule)" : "");
    }
}

/* The intake writer stored more items: start what can start. */
static void on_rows(void *arg)
{
    struct run *r = arg;

    if (r->engine != NULL)
        engine_kick(r->engine);
}

/* ---- the steps of a run ---- */

/* Before anything is created or read: there is something to fetch, libcurl starts, and the
 * theme is good (a bad theme is a usage error). */
static int prepare(struct run *r)
{
    char err[ERRLEN];

    if (r->s.nurls == 0 && r->s.input == NULL) {
        fprintf(stderr, "sluice: nothing to download (give URLs or -i FILE; --help for help)\n");
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice: cannot initialise libcurl\n");
        return -1;
    }
    if (r->s.mode != UI_HEADLESS) {
        struct theme th;

        if (theme_load(&th, r->s.theme, err) < 0) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    }
    return 0;
}

/* The session lives under the output root: the root first, then the session. A session that
 * cannot be opened takes back the folders created for it. */
static int open_root_and_session(struct run *r)
{
    char err[ERRLEN];

    note_missing(&r->made, r->s.dir != NULL && *r->s.dir != '\0' ? r->s.dir : ".");
    if (fsout_root_open(r->s.dir, &r->rootfd, err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    r->q = open_session(&r->s, r->rootfd, &r->made, err);
    if (r->q == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        undo_made(&r->made);
        return -1;
    }
    return 0;
}

/* A run that finished closes its pass: this one checks every item again (an unchanged file
 * costs a 304, no body). A run that was interrupted, or that ended with items not finished
 * (exit 3), is resumed instead: what it finished stays finished and is not asked for again.
 * Returns 1 when this run resumes a pass, 0 for a new pass, -1 when the session cannot start
 * one. Either way a pause lasts only while the sluice that made it runs: paused items are
 * queued again (docs/design.md#session). */
static int start_pass(struct queue *q)
{
    int64_t fin = 0;
    int resume = !queue_created(q);

    if (!queue_created(q) && queue_setting_get(q, "finished", &fin) == 1 && fin == 1) {
        if (queue_new_pass(q) < 0) {
            fprintf(stderr, "sluice: cannot start a new pass: %s\n", queue_error(q));
            return -1;
        }
        resume = 0;
    }
    (void)queue_resume_paused(q);
    /* A failure here stays pending: retried with every flush, reported at the end. */
    (void)queue_setting_set(q, "finished", 0);
    return resume;
}

/* Pass one of the intake: every line of the input checked before anything is fetched. A refused
 * input takes back what was created for it (the session included). */
static int check_input(struct run *r)
{
    int problems = intake_check(&r->s, r->q, report_stderr, NULL, &r->in);

    if (problems == 0)
        return 0;
    if (problems > 0)
        fprintf(stderr, "sluice: %d problem%s in the input; nothing was downloaded\n", problems,
                problems == 1 ? "" : "s");
    queue_free(r->q);
    r->q = NULL;
    close(r->rootfd);
    r->rootfd = -1;
    undo_made(&r->made);
    return -1;
}

/* A session holds the items of one shard (docs/scale.md#sharding): run again with another
 * --shard, it would keep the old shard's items as well and fetch what another worker fetches.
 * The shard is kept in the session as (N << 20) | K (0 = none) and a change is refused. */
static int check_shard(struct run *r)
{
    const struct shard *sh = &r->s.shard;
    int64_t want = sh->n > 0 ? ((int64_t)sh->n << 20) | sh->k : 0, have;
    int got = queue_setting_get(r->q, "shard", &have);
    char a[24], b[24];

    if (got > 0 && have != want) {
        struct shard old = { (uint32_t)(have & 0xfffff), (uint32_t)(have >> 20) };

        fprintf(stderr, "sluice: this session holds the items of %s%s, not of %s%s: use another "
                "folder (-d) or --session for another shard\n", old.n > 0 ? "shard " : "every shard",
                shard_fmt(&old, a, sizeof a), sh->n > 0 ? "shard " : "every shard",
                shard_fmt(sh, b, sizeof b));
        return -1;
    }
    if (got <= 0 && queue_total(r->q) > 0 && want != 0) {
        fprintf(stderr, "sluice: this session holds the items of every shard (it was made "
                "without --shard): use another folder (-d) or --session for --shard %s\n",
                shard_fmt(sh, b, sizeof b));
        return -1;
    }
    if (got <= 0 && want != 0 && queue_setting_set(r->q, "shard", want) < 0) {
        r->session_failed = true;
        return -1;
    }
    return 0;
}

/* The root, the session and the input, merged into the session; nothing is fetched yet. */
static int plan(struct run *r)
{
    int resume;

    if (open_root_and_session(r) < 0)
        return -1;
    resume = start_pass(r->q);
    if (resume < 0) {
        r->session_failed = true;
        return -1;
    }
    restore_settings(r, resume == 1);
    if (check_shard(r) < 0)
        return -1;
    return check_input(r);
}

/* The loop with its signal descriptor, and the engine on it (with the log as a listener). */
static int start_engine(struct run *r)
{
    char err[ERRLEN];

    if (r->s.log != NULL && (r->log = evlog_open(r->s.log, err)) == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    r->sigfd = setup_signals();
    if (r->sigfd < 0) {
        fprintf(stderr, "sluice: cannot set up signals: %s\n", strerror(errno));
        return -1;
    }
    r->loop = loop_new();
    loop_watch(r->loop, r->sigfd, LOOP_READ, on_signal, r);
    r->engine = engine_new(r->loop, &r->s, r->q, r->rootfd, err);
    if (r->engine == NULL) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    /* With a cap group the cap is the group's, kept in Redis: a worker that resumes must not
     * set it back to what it once was (docs/scale.md#the-shared-cap). */
    if (r->has_live_rate && r->s.cap_group == NULL)
        engine_set_rate(r->engine, r->live_rate, r->live_burst);
    if (r->log != NULL) {
        engine_add_listener(r->engine, evlog_listener, r->log);
        /* Lines are written as events happen; this only notices, once, that writing failed. */
        r->flush_timer = loop_timer_new(r->loop, on_flush, r);
        loop_timer_arm(r->flush_timer, 1000);
    }
    return 0;
}

/* Session: completions written on the next turn, and the intake writer (its own thread) stores
 * the new items while the engine starts on the first of them. */
static int start_intake(struct run *r)
{
    char err[ERRLEN];

    queue_attach_loop(r->q, r->loop, on_rows, r);
    if (r->in != NULL && intake_start(r->in, r->rootfd, err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    return 0;
}

/* A run without its control socket still works; scripts are told why they cannot reach it. */
static void open_control_socket(struct run *r)
{
    char err[ERRLEN];
    char *path = ctl_default_path(r->s.dir);

    r->ctl = ctl_new(r->loop, r->engine, r->q, &r->s, path, err);
    if (r->ctl == NULL)
        fprintf(stderr, "sluice: control socket %s: %s\n", path, err);
    free(path);
}

static bool wants_tui(const struct run *r)
{
    return r->s.mode == UI_TUI ||
           (r->s.mode == UI_AUTO && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO));
}

/* A sluice already runs on this output root (its control socket answers): the TUI attaches to
 * it instead of being refused by the session's lock; headless says so (exit 2), since a second
 * run could not do anything the first is not doing (docs/design.md#detach-and-attach). Returns
 * -1 when nothing runs there, or the exit status. */
static int already_running(struct run *r)
{
    const char *dir = r->s.dir != NULL && *r->s.dir != '\0' ? r->s.dir : ".";
    char *path = ctl_default_path(dir);
    int rc = -1;

    if (ctl_running(path)) {
        if (wants_tui(r)) {
            rc = attach_run(path, dir, r->s.theme);
        } else {
            fprintf(stderr, "sluice: a sluice is already running on %s; `sluice attach -d %s` "
                    "opens its UI, `sluice ctl -d %s status` says how it goes\n", dir, dir, dir);
            rc = EXIT_USAGE;
        }
    }
    free(path);
    return rc;
}

/* The TUI when asked for or when both ends are a terminal; headless otherwise. */
static int start_front_end(struct run *r)
{
    char err[ERRLEN];

    if (wants_tui(r)) {
        struct uisrc_info info = { .retries = r->s.retries, .segments = r->s.segments,
                                   .burst = r->s.burst };

        r->uisrc = uisrc_local_new(r->loop, r->engine, r->q, &info);
        r->ui = ui_new(r->loop, r->uisrc, &r->s, err);
        if (r->ui == NULL) {
            fprintf(stderr, "%s\n", err);
            return -1;
        }
    } else {
        r->hl = headless_new(r->loop, r->engine, stderr);
    }
    return 0;
}

/* The terminal is gone (SIGHUP, or reads that fail): the UI gives it back as far as it still can,
 * standard input and output are pointed at /dev/null (a write to a hung-up terminal fails, one to
 * a terminal someone else now owns would be worse), and the run goes on as a headless one would,
 * without progress lines: the log (--log) and the session get its outcome
 * (docs/design.md#detach-and-attach). Later SIGHUPs find nothing to let go of. */
static void detach(struct run *r)
{
    const char *dir = r->s.dir != NULL && *r->s.dir != '\0' ? r->s.dir : ".";
    int null;

    r->detach_asked = false;
    if (r->detached)
        return;
    ui_free(r->ui);
    r->ui = NULL;
    uisrc_free(r->uisrc);
    r->uisrc = NULL;
    r->detached = true;
    /* Best effort: on a terminal that is still there (kill -HUP by hand) the operator learns
     * where the run went; on a dead one the write fails and nothing waits. */
    fprintf(stderr, "sluice: detached; the sync goes on (pid %ld); sluice attach -d %s opens it "
            "again\n", (long)getpid(), dir);
    fflush(stderr);
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
}

/* Nothing left to do: the intake writer is done, and the engine idle with the counts taken in
 * after that. The intake's last commit (finished items whose files are gone, put back in the
 * queue) can come after the loop last looked, with its wake-up not read yet: the counts the
 * engine sees would still call the run done, and the item would be left queued while the run
 * reported it done. */
static bool all_done(struct run *r)
{
    if (r->in != NULL && intake_status(r->in, NULL) == 1)
        return false;
    queue_sync_counts(r->q);
    return engine_idle(r->engine);
}

/* Headless ends when the work is done; the TUI stays until the operator quits. The intake writer
 * may still queue items (new ones, or finished ones whose files are gone): headless runs until it
 * is done too. */
static bool keep_running(struct run *r)
{
    if (r->interrupted)
        return false;
    if (r->detach_asked || ui_terminal_gone(r->ui) || ui_wants_detach(r->ui))
        detach(r);
    if (r->ui != NULL)
        return !ui_wants_quit(r->ui);
    return !all_done(r);
}

/* Every item done, unchanged or failed (none queued, running, retrying or paused): the bell in
 * the TUI and --on-finish, once (README.md#the-end-of-a-run). The TUI stays open after it. */
static void tell_finished(struct run *r)
{
    struct engine_stats st;
    struct notify_counts c;
    char err[ERRLEN];

    if (r->finish_told || r->interrupted || !all_done(r))
        return;
    engine_stats(r->engine, &st);
    if (st.total == 0 || st.queued + st.active + st.retrying + st.paused > 0)
        return;
    r->finish_told = true;
    if (r->ui != NULL)
        ui_bell(r->ui);
    if (r->s.on_finish == NULL || r->s.on_finish[0] == '\0')
        return;
    c = (struct notify_counts){ .total = st.total, .done = st.done, .unchanged = st.unchanged,
                                .failed = st.failed, .bytes = st.bytes,
                                .elapsed_ms = st.elapsed_ms, .dir = r->s.dir };
    if (notify_spawn(r->s.on_finish, &c, r->ui != NULL, err) < 0 && r->ui == NULL)
        fprintf(stderr, "sluice: %s\n", err);
}

static void run_loop(struct run *r)
{
    char err[ERRLEN];
    bool summary_shown = false;

    engine_start(r->engine);
    /* Its first lines are written before the first request goes out: a log that cannot be
     * written at all (--log /dev/full, a full disk) stops the run before anything is fetched. */
    if (r->log != NULL && evlog_error(r->log) != 0) {
        fprintf(stderr, "sluice: cannot write the log %s: %s; nothing was downloaded\n", r->s.log,
                strerror(evlog_error(r->log)));
        r->log_failed = 2;
        r->interrupted = -1;
        return;
    }
    while (keep_running(r)) {
        if (loop_run_once(r->loop, 1000) < 0) {
            fprintf(stderr, "sluice: event loop failed: %s\n", strerror(errno));
            r->interrupted = -1;
        }
        if (r->in != NULL && !summary_shown) {
            int ist = intake_status(r->in, err);

            if (ist < 0) {
                fprintf(stderr, "sluice: cannot store the input: %s\n", err);
                r->interrupted = -1;
            } else if (ist == 0) {
                summary_shown = true;
                if (intake_summary(r->in) != NULL && r->ui == NULL)
                    fprintf(stderr, "%s\n", intake_summary(r->in));
            }
        }
        tell_finished(r);
    }
    tell_finished(r);
}

/* For bench/session.sh (SLUICE_SESSION_STATS set): how long the loop spent in the session. */
static void print_session_stats(struct queue *q)
{
    struct queue_db_stats dbs;

    queue_db_stats(q, &dbs);
    fprintf(stderr, "sluice: session: %llu calls on the loop, %.1f ms in all, slowest %.1f ms "
            "(%s), %llu writes put off while the intake wrote\n",
            (unsigned long long)dbs.calls, (double)dbs.total_us / 1000.0,
            (double)dbs.max_us / 1000.0, dbs.slowest != NULL ? dbs.slowest : "-",
            (unsigned long long)dbs.busy);
}

/* Where a run nobody watches leaves its outcome (docs/design.md#detach-and-attach): an "end" line
 * in the log, and in the session last_exit (the exit status, before a session failure can raise it
 * to 4), last_end_ms (wall clock) and last_detached (1 when the TUI had let go of the terminal). */
static void record_end(struct run *r, int status, const char *how)
{
    struct engine_stats st;
    char text[48];

    engine_stats(r->engine, &st);
    snprintf(text, sizeof text, "%s%s", how, r->detached ? ", detached" : "");
    evlog_end(r->log, status, text, &st);
    (void)queue_setting_set(r->q, "last_exit", status);
    (void)queue_setting_set(r->q, "last_end_ms", wall_ms());
    (void)queue_setting_set(r->q, "last_detached", r->detached ? 1 : 0);
}

/* The end of a run that started: transfers parked when interrupted, the summary, the exit
 * status, and whether the next run starts a new pass. A run that ends with items paused or not
 * finished exits 3 and keeps its pass open, like an interrupted one: the same command continues
 * it (docs/design.md#session); only a run with every item done, unchanged or failed closes it. */
static int finish(struct run *r)
{
    size_t left;
    int status;

    if (r->ui != NULL && !engine_idle(r->engine))
        r->interrupted = SIGINT;     /* quit with work left: saved, like an interrupt */
    ui_free(r->ui);
    r->ui = NULL;
    /* The writer stops first: what it stored stays, the rest is stored by the next run. */
    intake_stop(r->in);
    if (getenv("SLUICE_SESSION_STATS") != NULL)
        print_session_stats(r->q);
    if (r->interrupted)
        engine_stop(r->engine);
    if (r->log_failed == 2)
        return EXIT_USAGE;           /* said so; the transfers it started were parked */
    left = queue_total(r->q) - queue_count(r->q, ITEM_DONE) - queue_count(r->q, ITEM_UNCHANGED) -
           queue_count(r->q, ITEM_FAILED);
    headless_summary(r->engine, r->q, stderr,
                     r->interrupted ? HEADLESS_INTERRUPTED : left > 0 ? HEADLESS_UNFINISHED :
                     HEADLESS_FINISHED);
    if (r->log != NULL)
        check_log(r);
    if (r->interrupted || left > 0)
        status = EXIT_INTERRUPTED;
    else
        status = queue_count(r->q, ITEM_FAILED) > 0 || r->log_failed ? EXIT_FAILED_ITEMS : EXIT_DONE;
    record_end(r, status, r->interrupted ? "interrupted" : left > 0 ? "stopped" : "finished");
    if (status != EXIT_INTERRUPTED)
        (void)queue_setting_set(r->q, "finished", 1);     /* retried by queue_close */
    return status;
}

/* Whatever the steps made, in reverse order; safe after any step failed. */
static void teardown(struct run *r, int *status)
{
    char err[ERRLEN];

    intake_free(r->in);
    ctl_free(r->ctl);
    ui_free(r->ui);
    uisrc_free(r->uisrc);
    headless_free(r->hl);
    engine_free(r->engine);
    evlog_close(r->log);
    loop_timer_free(r->flush_timer);
    if (r->q != NULL)
        queue_detach_loop(r->q);
    loop_free(r->loop);
    if (r->sigfd >= 0)
        close(r->sigfd);
    if (r->rootfd >= 0)
        close(r->rootfd);
    if (r->q != NULL && queue_close(r->q, err) < 0) {
        fprintf(stderr, "sluice: cannot write the session: %s\n"
                "sluice: the files on disk are complete; the next run asks again for what was "
                "not recorded\n", err);
        r->session_failed = true;
    }
    if (r->session_failed && *status != EXIT_USAGE)
        *status = EXIT_SESSION;
    made_free(&r->made);
    settings_free(&r->s);
    curl_global_cleanup();
}

int main(int argc, char **argv)
{
    struct run r = { .rootfd = -1, .sigfd = -1 };
    int status = EXIT_USAGE;     /* also when a step fails before the first request */

    settings_init(&r.s);
    switch (cli_parse(argc, argv, &r.s, stdout, stderr)) {
    case CLI_EXIT_OK:
        settings_free(&r.s);
        return EXIT_DONE;
    case CLI_EXIT_USAGE:
        settings_free(&r.s);
        return EXIT_USAGE;
    case CLI_CTL:
        settings_free(&r.s);
        return ctl_client_main(argc, argv);
    case CLI_ATTACH:
        settings_free(&r.s);
        return attach_main(argc, argv);
    case CLI_REPORT:
        settings_free(&r.s);
        return report_main(argc, argv);
    case CLI_RUN:
        break;
    }
    if ((status = already_running(&r)) >= 0) {
        settings_free(&r.s);
        return status;
    }
    status = EXIT_USAGE;
    if (prepare(&r) == 0 && plan(&r) == 0 && start_engine(&r) == 0 && start_intake(&r) == 0) {
        open_control_socket(&r);
        if (start_front_end(&r) == 0) {
            run_loop(&r);
            status = finish(&r);
        }
    }
    if (r.session_failed)
        status = EXIT_SESSION;
    teardown(&r, &status);
    return status;
}
