#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H
/* Command line → settings. Loads the config file first (-c, or $XDG_CONFIG_HOME/sluice/sluice.conf,
 * or ~/.config/sluice/sluice.conf when present) so that the command line overrides it. */
#include <stdio.h>
#include "opts.h"

enum cli_result { CLI_RUN, CLI_EXIT_OK, CLI_EXIT_USAGE, CLI_CTL };

/* On CLI_EXIT_USAGE the messages have been printed to err_fp ("sluice: ..." or "FILE:LINE: ...").
 * CLI_EXIT_OK: --help or --version was printed to out_fp. CLI_CTL: argv[1] is "ctl" (not parsed). */
enum cli_result cli_parse(int argc, char **argv, struct settings *s, FILE *out_fp, FILE *err_fp);

#endif
