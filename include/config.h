#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H
/* libconfig file → settings (sample.conf). Keys are the long option names with '_' for '-',
 * plus headers = [ "K: V", ... ], schedule = ( { at = "08:00"; rate = "10M"; }, ... ),
 * hosts = ( { host = "..."; per_host = 4; rate = "5M"; }, ... ). */
#include "opts.h"

/* A config file is a few hundred bytes; anything near this is a mistake, and libconfig would
 * hold it all in memory and take minutes over one long line. */
#define CONFIG_MAX_BYTES (1024 * 1024)

/* Returns 0, or -1 after reporting each problem as "FILE:LINE: message" through report (a file
 * over CONFIG_MAX_BYTES: "FILE: too large (...)", nothing parsed).
 * Unknown keys, wrong types and bad values are errors. Integers may be given as numbers or strings
 * ("concurrency = 16;" and "rate = \"50M\";" both work; rate = 0 means off). */
int config_load(const char *path, struct settings *s,
                void (*report)(void *arg, const char *msg), void *report_arg);

#endif
