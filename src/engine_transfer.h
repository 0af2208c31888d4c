#ifndef SLUICE_ENGINE_TRANSFER_H
#define SLUICE_ENGINE_TRANSFER_H
/* One transfer in the engine, from its start (after its .part's digest is rebuilt) to its
 * verdict, its retry or its durable commit. Internal to the engine modules (engine_impl.h). */
#include <curl/curl.h>
#include <stdint.h>
#include "item.h"

struct engine;
struct active;
struct syncer_job;
struct retry_facts;

/* Starts an item admitted by engine_kick (the attempt is counted when it ends). */
void engine_transfer_start(struct engine *e, struct item *it);
/* Starts one range of a segmented download of it (engine_seg.c), as a transfer of its own. */
struct xfer_range;
void engine_transfer_start_range(struct engine *e, struct item *it, const struct xfer_range *rg);
/* Detaches a transfer from libcurl and the slot counts; its easy handle goes back to the pool. */
void engine_transfer_release(struct engine *e, struct active *a);
/* Stops a transfer without counting an attempt; the item goes to state `to`. */
void engine_transfer_park(struct engine *e, struct active *a, enum item_state to);
/* libcurl is done with a transfer (from curl_multi_info_read, never from a callback). */
void engine_transfer_finished(struct engine *e, struct active *a, CURLcode rc);
/* An attempt that did not succeed, judged by retry_decide (docs/design.md#retries-and-backoff):
 * retried after a backoff, failed with msg, or parked while the disk is full; counted once.
 * a, the transfer when still attached, is released here; NULL after a failed commit. */
void engine_transfer_judge(struct engine *e, struct active *a, struct item *it,
                           const struct retry_facts *f, const char *msg, int64_t bytes);
/* Arms the due timer for the next retry. */
void engine_transfer_schedule_due(struct engine *e);
/* Free space: what may still be started before the next look (bytes; INT64_MAX when the free
 * space cannot be told, 0 when the disk counts as full, which then waits like a failed write). */
int64_t engine_transfer_disk_budget(struct engine *e);
/* What a transfer of it is expected to write; counted off the free space seen last. */
int64_t engine_transfer_disk_estimate(struct engine *e, const struct item *it);
/* The disk-full wait is over: still full, wait again without a request; else one probe. */
void engine_transfer_disk_recheck(struct engine *e);
/* The syncer's callback: a digest rebuilt, or a commit done or failed. */
void engine_transfer_on_worker_done(struct syncer_job *job, void *arg);

#endif
