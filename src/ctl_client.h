#ifndef SLUICE_CTL_CLIENT_H
#define SLUICE_CTL_CLIENT_H
/* `sluice ctl`: ctl_client_main (ctl.h) with its output streams as parameters, for tests. */
#include <stdio.h>

#define CTL_CLIENT_TIMEOUT_MS 10000     /* for the whole answer */

/* argv[0] is "sluice", argv[1] "ctl". The body of an answer goes to out, messages to err.
 * Returns 0 ok, 1 the command was refused, 2 usage, no sluice listening, or a broken answer. */
int ctl_client_run(int argc, char **argv, FILE *out, FILE *err);

#endif
