#ifndef SLUICE_ENGINE_SEG_H
#define SLUICE_ENGINE_SEG_H
/* Segmented downloads in the engine (docs/design.md#segmented-downloads): a file fetched as
 * ranges on several connections, each one a transfer of its own for the slots, the cap and the
 * host limits. segplan.c decides the ranges; this carries them out. Internal to the engine
 * modules (engine_impl.h). */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include "item.h"

struct engine;
struct active;
struct syncer_job;
struct xfer;

/* xfer_env.segmented: a whole-file request became the first range (from a libcurl callback:
 * only recorded; engine_seg_fill plans the others). */
void engine_seg_on_lead(void *arg, struct xfer *x);
/* A starting item with ranges recorded: continues them and returns true; false when it has none
 * (or they cannot be trusted: then it starts over from zero) and starts as usual. */
bool engine_seg_resume(struct engine *e, struct item *it);
/* On every kick: plans new segmented files, carries out fallbacks and give-ups, and gives free
 * slots to idle ranges; with steal, also cuts the largest busy range for a free slot. */
void engine_seg_fill(struct engine *e, bool steal);
/* libcurl is done with a range (why: the engine's own reason, e.g. a stall, or NULL). */
void engine_seg_finished(struct engine *e, struct active *a, CURLcode rc, const char *why);
/* Stops every range of the item (progress kept) and moves it to state `to`. */
void engine_seg_park(struct engine *e, struct item *it, enum item_state to);
/* The tick: a running range's bytes on disk go into the plan (and the session). */
void engine_seg_checkpoint(struct engine *e, struct active *a);
/* The SHA-256 of a whole segmented file was read off the disk (syncer work). */
bool engine_seg_on_worker_done(struct engine *e, struct syncer_job *job);
/* The item's commit ended (done, or failed from zero): its ranges are forgotten. */
void engine_seg_forget(struct item *it);
/* Bytes on disk or received (running ranges count what they received) and the summed rate. */
void engine_seg_progress(struct engine *e, const struct item *it, int64_t *bytes, int64_t *rate,
                         int *conns);

/* engine_ranges_view for a segmented item. */
struct engine_range_view;
int engine_seg_ranges(struct engine *e, const struct item *it, struct engine_range_view *out,
                      int max);

#endif
