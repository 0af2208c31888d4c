#ifndef SLUICE_HEADLESS_H
#define SLUICE_HEADLESS_H
/* Headless front end (docs/design.md#headless-mode-and-the-log): a progress line on stderr
 * every 2 s, and the final summary with every failed item and its reason. */
#include <stdio.h>

struct engine;
struct queue;
struct loop;
struct headless;

struct headless *headless_new(struct loop *loop, struct engine *e, FILE *fp);
void headless_free(struct headless *h);
/* How a run ended, for its summary. */
enum headless_end {
    HEADLESS_FINISHED,           /* every item done, unchanged or failed */
    HEADLESS_UNFINISHED,         /* ended with items paused or not finished (exit 3) */
    HEADLESS_INTERRUPTED,        /* a signal or q with work left (exit 3) */
};
/* The final report: totals, then each failed item with its reason. */
void headless_summary(struct engine *e, struct queue *q, FILE *fp, enum headless_end end);

#endif
