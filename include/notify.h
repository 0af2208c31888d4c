#ifndef SLUICE_NOTIFY_H
#define SLUICE_NOTIFY_H
/* --on-finish CMD: the end of a run told to a command of the operator's (notify-send, mail, a
 * webhook), with the counts in its environment (README.md#the-end-of-a-run). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct notify_counts {
    size_t total, done, unchanged, failed;
    int64_t bytes;               /* received by this run */
    int64_t elapsed_ms;          /* the run's active time */
    const char *dir;             /* the output root */
};

#define NOTIFY_ENV_MAX 8
#define NOTIFY_ENV_LEN 4160      /* "SLUICE_DIR=" and a path */

/* The variables the command gets, "NAME=VALUE" each: SLUICE_TOTAL, SLUICE_DONE, SLUICE_UNCHANGED,
 * SLUICE_FAILED, SLUICE_BYTES, SLUICE_ELAPSED (whole seconds), SLUICE_RESULT (done, or failed
 * when an item failed), SLUICE_DIR. Pure; returns how many (NOTIFY_ENV_MAX). */
size_t notify_env(const struct notify_counts *c, char out[][NOTIFY_ENV_LEN]);

/* Starts `sh -c CMD` on its own (a new session, stdin from /dev/null, default signals; output
 * to /dev/null when quiet, for the TUI's screen) and does not wait for it: the run's end is not
 * held up by the command, and no child is left to reap. 0, or -1 with err (ERRLEN). */
int notify_spawn(const char *cmd, const struct notify_counts *c, bool quiet, char *err);

#endif
