#ifndef SLUICE_INTAKE_H
#define SLUICE_INTAKE_H
/* Turns the command line's URLs and the -i list into session items (README.md#input-lists,
 * docs/design.md#session): output paths mapped (layout, out=, dir=), repeated URLs merged, URLs
 * already in the session kept as they are (state and progress), two items with one target (or X and
 * X.part, or a file where another item needs a folder) refused naming both lines, also against
 * items of earlier runs.
 *
 * Two passes, so that a list of a million URLs starts in seconds and memory stays small:
 * intake_check reads and checks everything (fixed-size fingerprints, no strings kept) and reports
 * every problem before anything is stored or requested; intake_start then stores the new items
 * from a thread of its own, in batches, while the engine already works on what is stored. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "opts.h"

struct queue;
struct intake;

/* Pass one. Returns the number of problems (each reported as "FILE:LINE: message"), 0 when clean,
 * or -1 when a list could not be read (also reported). When clean, *out receives the writer to
 * start; it has already counted the new items as queued. */
int intake_check(const struct settings *s, struct queue *q,
                 void (*report)(void *arg, const char *msg), void *report_arg, struct intake **out);
/* Pass two on its own thread: stores the new items, then looks at the session's finished items
 * under the output root (rootfd): one whose file is gone or has another size is queued again, and
 * with --overwrite every one is (docs/design.md#resume-and-incremental-sync). Returns 0 or -1
 * with err (ERRLEN). */
int intake_start(struct intake *in, int rootfd, char *err);
/* 1 while storing, 0 when finished, -1 when it failed (err, ERRLEN, says why: the session could
 * not be written, or the list changed under us). */
int intake_status(struct intake *in, char *err);
/* A line for the operator when an intake of a second or more finished, or NULL. */
const char *intake_summary(struct intake *in);
/* Stops the writer after its current batch (what is stored stays stored) and waits for it. */
void intake_stop(struct intake *in);
/* Stops it if need be and frees it. */
void intake_free(struct intake *in);

/* One URL added while the run goes on (ctl add, the TUI's a): mapped (layout, out=) and checked
 * as a list's item would be, against the session's items: the same target, X beside X.part, a
 * file where a folder is needed or the reverse, DIR/.sluice, and a URL already there. Returns the
 * new item, queued (owned by q), or NULL with err (ERRLEN). Items a list's intake has not stored
 * yet are not seen (docs/design.md#session). */
struct item *intake_add(const struct settings *s, struct queue *q, const char *url, const char *out,
                        char *err);

/* Both passes, the second on the calling thread and without the look at finished items (tests,
 * tools). Returns as intake_check, or -1 when storing failed (reported). */
int intake_load(const struct settings *s, struct queue *q, void (*report)(void *arg, const char *msg),
                void *report_arg);

#endif
