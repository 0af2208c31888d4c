/* --on-finish: one command started when the run has nothing left to do. Double fork: the
 * intermediate child exits at once and is reaped here, the command is re-parented to init, so
 * the event loop needs no SIGCHLD handling and a slow command never delays sluice's exit. */
#include "notify.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

size_t notify_env(const struct notify_counts *c, char out[][NOTIFY_ENV_LEN])
{
    size_t n = 0;

    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_TOTAL=%zu", c->total);
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_DONE=%zu", c->done);
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_UNCHANGED=%zu", c->unchanged);
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_FAILED=%zu", c->failed);
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_BYTES=%lld", (long long)c->bytes);
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_ELAPSED=%lld",
             (long long)(c->elapsed_ms > 0 ? c->elapsed_ms / 1000 : 0));
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_RESULT=%s", c->failed > 0 ? "failed" : "done");
    snprintf(out[n++], NOTIFY_ENV_LEN, "SLUICE_DIR=%s", c->dir != NULL ? c->dir : ".");
    return n;
}

extern char **environ;

/* In the grandchild of a process with threads: only async-signal-safe calls, then exec (the
 * environment was built before the fork: putenv could take malloc's lock). */
static void run_command(const char *cmd, char **envp, bool quiet)
{
    sigset_t none;
    int fd;

    setsid();                   /* the terminal's Ctrl-C is the TUI's, not the command's */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);   /* sluice blocks the signals it reads by signalfd */
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);            /* nothing may wait on the operator's stdin */
        if (quiet) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
    }
    {
        char *const argv[] = { "sh", "-c", (char *)cmd, NULL };

        execve("/bin/sh", argv, envp);
    }
    _exit(127);
}

int notify_spawn(const char *cmd, const struct notify_counts *c, bool quiet, char *err)
{
    static char env[NOTIFY_ENV_MAX][NOTIFY_ENV_LEN];
    size_t nenv = notify_env(c, env), n = 0, k = 0;
    char **envp;
    int status;
    pid_t pid;

    /* sluice's own environment without any SLUICE_ variable of ours, then ours. */
    while (environ != NULL && environ[n] != NULL)
        n++;
    envp = xcalloc(n + nenv + 1, sizeof *envp);
    for (size_t i = 0; i < n; i++) {
        bool ours = false;

        for (size_t j = 0; j < nenv && !ours; j++) {
            size_t len = (size_t)(strchr(env[j], '=') - env[j]) + 1;

            ours = strncmp(environ[i], env[j], len) == 0;
        }
        if (!ours)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < nenv; j++)
        envp[k++] = env[j];
    envp[k] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        free(envp);
        return errf(err, "cannot start --on-finish: %s", strerror(errno));
    }
    if (pid == 0) {
        pid_t g = fork();

        if (g == 0)
            run_command(cmd, envp, quiet);
        _exit(g < 0 ? 1 : 0);
    }
    free(envp);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return errf(err, "cannot start --on-finish: %s", strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return errf(err, "cannot start --on-finish: fork failed");
    return 0;
}
