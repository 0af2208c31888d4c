#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H
/* Command line → settings. Loads the config file first (-c, or $XDG_CONFIG_HOME/sluice/sluice.conf,
 * or ~/.config/sluice/sluice.conf when present) so that the command line overrides it.
 * As the XDG spec says, ~/.config is only used when XDG_CONFIG_HOME is unset or empty; a missing
 * default file is not an error, a missing -c FILE is. */
#include <stdio.h>
#include "opts.h"

enum cli_result { CLI_RUN, CLI_EXIT_OK, CLI_EXIT_USAGE, CLI_CTL, CLI_ATTACH, CLI_REPORT };

/* s must have been set up with settings_init; the config file and the command line are applied on
 * top of it. The caller frees it with settings_free, whatever the result.
 * On CLI_EXIT_USAGE the messages have been printed to err_fp ("sluice: ..." or "FILE:LINE: ...");
 * every error is listed, from the config file and the command line alike.
 * CLI_EXIT_OK: --help or --version was printed to out_fp (before any config is read).
 * CLI_CTL: argv[1] is "ctl" (not parsed). CLI_ATTACH: argv[1] is "attach" (not parsed).
 * CLI_REPORT: argv[1] is "report" (not parsed). */
enum cli_result cli_parse(int argc, char **argv, struct settings *s, FILE *out_fp, FILE *err_fp);

#endif
