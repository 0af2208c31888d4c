#ifndef SLUICE_INTAKE_H
#define SLUICE_INTAKE_H
/* Turns the command line's URLs and the -i list into queue items: output paths mapped
 * (layout, out=, dir=), repeated URLs merged, two items with one target (or a file where another
 * item needs a folder) refused naming both lines. Nothing is downloaded if anything is wrong. */
#include "opts.h"

struct queue;

/* Returns the number of problems (each reported as "FILE:LINE: message"), 0 when clean,
 * or -1 when a list could not be read (also reported). */
int intake_load(const struct settings *s, struct queue *q, void (*report)(void *arg, const char *msg),
                void *report_arg);

#endif
