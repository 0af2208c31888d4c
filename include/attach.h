#ifndef SLUICE_ATTACH_H
#define SLUICE_ATTACH_H
/* `sluice attach [-d DIR | --socket PATH] [--theme NAME|FILE]`: the full terminal UI onto a sluice
 * that is running on DIR (started in a terminal and detached, with --headless, or by cron),
 * through its control socket (docs/design.md#detach-and-attach). The UI is the same code as the
 * local one, reading a remote source (ctl_remote_new). */

/* argv[0] is "sluice", argv[1] "attach". Exit status: 0 detached (D, q) or the sync was stopped
 * from here; 1 the connection was lost (the run ended or was stopped elsewhere); 2 bad usage or
 * nothing to attach to. */
int attach_main(int argc, char **argv);
/* The same, for main's "running the same command again attaches": path is the socket, dir names
 * the run in messages, theme as the command line gave it. */
int attach_run(const char *path, const char *dir, const char *theme);

#endif
