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
#include "ui.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum { EXIT_DONE = 0, EXIT_FAILED_ITEMS = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

struct run {
    struct loop *loop;
    struct ui *ui;
    struct ctl *ctl;
    struct engine *engine;
    struct evlog *log;
    struct loop_timer *flush_timer;
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

static void on_flush(void *arg)
{
    struct run *r = arg;

    evlog_flush(r->log);
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

int main(int argc, char **argv)
{
    struct settings s;
    struct queue *q = NULL;
    struct headless *hl = NULL;
    struct run r = { .sigfd = -1 };
    char err[ERRLEN];
    int rootfd = -1, status = EXIT_USAGE, problems;

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

    q = queue_new();
    problems = intake_load(&s, q, report_stderr, NULL);
    if (problems != 0) {
        if (problems > 0)
            fprintf(stderr, "sluice: %d problem%s in the input; nothing was downloaded\n", problems,
                    problems == 1 ? "" : "s");
        goto out;
    }
    if (fsout_root_open(s.dir, &rootfd, err) < 0) {
        fprintf(stderr, "sluice: %s\n", err);
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
    if (r.log != NULL) {
        engine_add_listener(r.engine, evlog_listener, r.log);
        r.flush_timer = loop_timer_new(r.loop, on_flush, &r);
        loop_timer_arm(r.flush_timer, 1000);
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
    while (!r.interrupted && (r.ui != NULL ? !ui_wants_quit(r.ui) : !engine_idle(r.engine))) {
        if (loop_run_once(r.loop, 1000) < 0) {
            fprintf(stderr, "sluice: event loop failed: %s\n", strerror(errno));
            r.interrupted = -1;
        }
    }
    if (r.ui != NULL && !engine_idle(r.engine))
        r.interrupted = SIGINT;      /* quit with work left: saved, like an interrupt */
    ui_free(r.ui);
    r.ui = NULL;
    if (r.interrupted)
        engine_stop(r.engine);
    headless_summary(r.engine, q, stderr, r.interrupted != 0);
    if (r.interrupted)
        status = EXIT_INTERRUPTED;
    else
        status = queue_count(q, ITEM_FAILED) > 0 ? EXIT_FAILED_ITEMS : EXIT_DONE;

out:
    ctl_free(r.ctl);
    ui_free(r.ui);
    headless_free(hl);
    engine_free(r.engine);
    evlog_close(r.log);
    loop_timer_free(r.flush_timer);
    loop_free(r.loop);
    if (r.sigfd >= 0)
        close(r.sigfd);
    if (rootfd >= 0)
        close(rootfd);
    queue_free(q);
    settings_free(&s);
    curl_global_cleanup();
    return status;
}
