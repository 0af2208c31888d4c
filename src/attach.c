/* `sluice attach` (include/attach.h): a loop of its own with the terminal and the socket on it;
 * the UI reads the remote source and sends its commands there. Nothing here knows the wire. */
#include "attach.h"
#include "ctl.h"
#include "loop.h"
#include "opts.h"
#include "ui.h"
#include "uisrc.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum { ATTACH_OK = 0, ATTACH_LOST = 1, ATTACH_USAGE = 2 };

#define ATTACH_SETTLE_MS 2000       /* SLUICE_ATTACH_STATS: the steady figures start here */

struct attach {
    struct loop *loop;
    struct ui *ui;
    int sigfd;
    int signo;
};

static void on_signal(int fd, unsigned events, void *arg)
{
    struct attach *a = arg;
    struct signalfd_siginfo si;

    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGWINCH)
            ui_resize(a->ui);
        else
            a->signo = (int)si.ssi_signo;   /* the client goes; the sync goes on */
    }
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: sluice attach [-d DIR | --socket PATH] [--theme NAME|FILE]\n"
                "\n"
                "Opens the terminal UI onto the sluice running on DIR (default .), through its\n"
                "control socket DIR/.sluice/ctl. D detaches (the sync goes on); q asks whether to\n"
                "stop the sync or only detach.\n"
                "\n"
                "exit status: 0 detached or stopped from here, 1 the connection was lost,\n"
                "2 bad usage or no sluice running there\n");
}

int attach_run(const char *path, const char *dir, const char *theme)
{
    struct attach a = { .sigfd = -1 };
    struct settings s;
    struct uisrc *src = NULL;
    char err[ERRLEN];
    sigset_t set;
    int rc = ATTACH_USAGE;
    int64_t t0 = mono_ms(), first = -1, snap_ms = -1;
    uint64_t snap_in = 0, snap_out = 0;

    settings_init(&s);
    if (theme != NULL) {
        free(s.theme);
        s.theme = xstrdup(theme);
    }
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGWINCH);
    sigprocmask(SIG_BLOCK, &set, NULL);
    a.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    a.loop = loop_new();
    if (a.sigfd >= 0)
        loop_watch(a.loop, a.sigfd, LOOP_READ, on_signal, &a);
    src = ctl_remote_new(a.loop, path, dir, err);
    if (src == NULL) {
        fprintf(stderr, "sluice attach: %s\n", err);
        goto out;
    }
    a.ui = ui_new(a.loop, src, &s, err);
    if (a.ui == NULL) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    rc = ATTACH_OK;
    /* A client whose terminal went away (without a SIGHUP) goes too: it would hold a
     * connection of the run for nothing. */
    while (!a.signo && !ui_wants_quit(a.ui) && !ui_wants_detach(a.ui) &&
           !ui_terminal_gone(a.ui) && uisrc_lost(src) == NULL) {
        if (loop_run_once(a.loop, 1000) < 0 && errno != EINTR)
            break;
        if (first < 0 && ui_frames(a.ui) > 0)
            first = mono_ms() - t0;
        /* The steady cost leaves out the start (the names of the rows on screen). */
        if (snap_ms < 0 && mono_ms() - t0 >= ATTACH_SETTLE_MS) {
            snap_ms = mono_ms();
            ctl_remote_traffic(src, &snap_in, &snap_out);
        }
    }
    ui_free(a.ui);
    a.ui = NULL;
    if (uisrc_lost(src) != NULL) {
        fprintf(stderr, "sluice attach: %s\n", uisrc_lost(src));
        rc = ATTACH_LOST;
    }
    /* bench/attach.sh: the first screen and the bytes that crossed the socket. */
    if (getenv("SLUICE_ATTACH_STATS") != NULL) {
        uint64_t in, out;

        ctl_remote_traffic(src, &in, &out);
        fprintf(stderr, "sluice attach: first screen %lld ms; %llu bytes received, %llu sent in "
                "%lld ms\n", (long long)first, (unsigned long long)in, (unsigned long long)out,
                (long long)(mono_ms() - t0));
        if (snap_ms >= 0 && mono_ms() > snap_ms)
            fprintf(stderr, "sluice attach: steady: %llu bytes received, %llu sent in %lld ms\n",
                    (unsigned long long)(in - snap_in), (unsigned long long)(out - snap_out),
                    (long long)(mono_ms() - snap_ms));
    }
out:
    ui_free(a.ui);
    uisrc_free(src);
    loop_free(a.loop);
    if (a.sigfd >= 0)
        close(a.sigfd);
    settings_free(&s);
    return rc;
}

int attach_main(int argc, char **argv)
{
    const char *dir = NULL, *sock = NULL, *theme = NULL;
    char *path;
    int rc;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return ATTACH_OK;
        }
        if (strcmp(a, "-d") == 0 || strcmp(a, "--dir") == 0)
            dst = &dir;
        else if (strcmp(a, "--socket") == 0)
            dst = &sock;
        else if (strcmp(a, "--theme") == 0)
            dst = &theme;
        if (dst != NULL && i + 1 < argc) {
            *dst = argv[++i];
            continue;
        }
        if (strncmp(a, "--dir=", 6) == 0)
            dir = a + 6;
        else if (strncmp(a, "--socket=", 9) == 0)
            sock = a + 9;
        else if (strncmp(a, "--theme=", 8) == 0)
            theme = a + 8;
        else if (strncmp(a, "-d", 2) == 0 && a[2] != '\0')
            dir = a + 2;
        else {
            fprintf(stderr, "sluice attach: %s %s (sluice attach --help)\n",
                    dst != NULL ? "missing value for" : "unknown argument", a);
            return ATTACH_USAGE;
        }
    }
    if (dir != NULL && sock != NULL) {
        fprintf(stderr, "sluice attach: give -d DIR or --socket PATH, not both\n");
        return ATTACH_USAGE;
    }
    if (dir == NULL || *dir == '\0')
        dir = ".";
    path = sock != NULL ? xstrdup(sock) : ctl_default_path(dir);
    rc = attach_run(path, sock != NULL ? NULL : dir, theme);
    free(path);
    return rc;
}
