#ifndef SLUICE_REPORT_H
#define SLUICE_REPORT_H
/* `sluice report [-d DIR | --session FILE] [--failed|--all] [--json]`: the items of a session with
 * their state, last HTTP status, reason, attempts and URL, read with a read-only connection, so it
 * works whether or not a sluice runs on the session (README.md#triage). */
#include <stdbool.h>
#include <stdio.h>

/* argv[1] is "report". Returns the exit status: 0 printed, 1 the session could not be read,
 * 2 bad usage or no session there. */
int report_main(int argc, char **argv);

/* Prints the items of the session at path (every item, or only the failed ones) to out: a table,
 * or one JSON object per line. 0, or -1 with err (ERRLEN). */
int report_print(const char *path, bool all, bool json, FILE *out, char *err);

#endif
