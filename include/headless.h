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
/* The final report: totals, then each failed item with its reason. */
void headless_summary(struct engine *e, struct queue *q, FILE *fp, int interrupted);

#endif
