#ifndef SLUICE_UISRC_H
#define SLUICE_UISRC_H
/* What the terminal UI reads and the commands it sends, behind one small interface
 * (docs/design.md#detach-and-attach): the local source reads the engine and the queue of this
 * process; the remote one asks a running sluice over its control socket (`sluice attach`). The
 * UI draws from the same calls either way: one TUI, not two. Only what is on screen is asked for
 * (counts, one page of rows, one item's details), so a session of a million items costs the same
 * as one of ten.
 *
 * Items handed out (page, get) are valid until control returns to the event loop, as with
 * queue_get; keep an id to find one again. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "item.h"
#include "util.h"
#include "wait.h"

struct uisrc;
struct loop;
struct queue;

/* What the UI needs of the run's settings (the run's, not the attaching client's). */
struct uisrc_info {
    int retries;                 /* --retries of the run */
    int segments;
    int64_t burst;               /* --burst of the run, 0 = default */
};

struct uisrc_ops {
    void (*info)(void *impl, struct uisrc_info *out);
    void (*stats)(void *impl, struct engine_stats *st);
    bool (*idle)(void *impl);
    void (*rate_series)(void *impl, int64_t *out, int n);
    bool (*xfer_view)(void *impl, uint64_t id, struct engine_xfer_view *v);
    /* The ranges of a segmented download (engine_ranges_view); NULL when the source cannot
     * tell (remote). */
    int (*ranges_view)(void *impl, uint64_t id, struct engine_range_view *out, int max);
    size_t (*total)(void *impl);
    size_t (*count)(void *impl, enum item_state st);
    size_t (*page)(void *impl, int st, size_t off, size_t n, struct item **out);
    struct item *(*get)(void *impl, uint64_t id);
    /* Filter: from id *next on, looks at up to max items and puts the ids that meet the fixed
     * half of f, the UI's filter text (filter_match_fixed: text in the path or host, host:), in
     * out (room for max); moves *next past them and adds to *seen the items that exist. Returns
     * how many matched (none for a filter that does not parse). */
    size_t (*scan)(void *impl, const char *f, uint64_t *next, size_t max, size_t *seen,
                   uint64_t *out);
    /* The state of each id (ITEM_STATE_COUNT when it is gone, or when filter, the UI's filter
     * text or NULL, is not met by what the run changes: status:, state:, reason:). */
    void (*states)(void *impl, const uint64_t *ids, size_t n, const char *filter,
                   unsigned char *out);
    /* Why an item moves no bytes: the engine's facts (wait.h), times on this process's clock.
     * false when the source cannot tell (remote: the item is gone, or the sluice is older than
     * attach 2). Remote: one request a frame for the rows read this frame. */
    bool (*wait)(void *impl, const struct item *it, struct wait_facts *f);
    /* The Hosts tab's rows; -1 when the source cannot tell (remote: a sluice older than attach
     * 2). Remote: asked at most once a second. */
    long (*hosts)(void *impl, struct engine_host_view *out, size_t max);
    /* The run's schedule, formatted as --schedule takes it ("none" for none), into out; with
     * spec non-NULL it is replaced first. 0, or -1 with err. */
    int (*schedule)(void *impl, const char *spec, struct sbuf *out, char *err);
    /* Commands: 0, or -1 with err. */
    void (*set_rate)(void *impl, int64_t rate, int64_t burst);
    void (*set_concurrency)(void *impl, int n);
    int (*pause)(void *impl, uint64_t id, bool resume, char *err);
    void (*pause_all)(void *impl, bool resume);
    int (*requeue)(void *impl, uint64_t id, char *err);
    long (*requeue_failed)(void *impl, char *err);
    int (*remove)(void *impl, uint64_t id, char *err);
    int (*add_url)(void *impl, const char *url, uint64_t *id, char *err);
    /* Makes what the UI changed durable before it quits (local: queue_flush; remote: the engine
     * flushes on its own). -1 when it could not. */
    int (*flush)(void *impl);
    /* The operator chose to stop the sync (q, then y). Local: nothing to do, main stops the run
     * when the UI quits; remote: the running sluice is asked to stop as on SIGTERM. */
    int (*stop)(void *impl, char *err);
    /* Engine events reach cb (one listener). Remote: as the source learns of them. */
    void (*listen)(void *impl, engine_listener cb, void *arg);
    /* The source failed for good (remote: the sluice went away); a message, or NULL. */
    const char *(*lost)(void *impl);
    void (*free)(void *impl);
};

struct uisrc {
    const struct uisrc_ops *ops;
    void *impl;
};

/* The engine and queue of this process. */
struct uisrc *uisrc_local_new(struct loop *loop, struct engine *e, struct queue *q,
                              const struct uisrc_info *info);
void uisrc_free(struct uisrc *s);

/* Dispatch, so that callers read like the engine API they replace. */
void uisrc_info(struct uisrc *s, struct uisrc_info *out);
void uisrc_stats(struct uisrc *s, struct engine_stats *st);
bool uisrc_idle(struct uisrc *s);
void uisrc_rate_series(struct uisrc *s, int64_t *out, int n);
bool uisrc_xfer_view(struct uisrc *s, uint64_t id, struct engine_xfer_view *v);
/* 0 when the source does not report ranges. */
int uisrc_ranges_view(struct uisrc *s, uint64_t id, struct engine_range_view *out, int max);
size_t uisrc_total(struct uisrc *s);
size_t uisrc_count(struct uisrc *s, enum item_state st);
size_t uisrc_page(struct uisrc *s, int st, size_t off, size_t n, struct item **out);
struct item *uisrc_get(struct uisrc *s, uint64_t id);
size_t uisrc_scan(struct uisrc *s, const char *f, uint64_t *next, size_t max, size_t *seen,
                  uint64_t *out);
void uisrc_states(struct uisrc *s, const uint64_t *ids, size_t n, const char *filter,
                  unsigned char *out);
bool uisrc_wait(struct uisrc *s, const struct item *it, struct wait_facts *f);
long uisrc_hosts(struct uisrc *s, struct engine_host_view *out, size_t max);
int uisrc_schedule(struct uisrc *s, const char *spec, struct sbuf *out, char *err);
void uisrc_set_rate(struct uisrc *s, int64_t rate, int64_t burst);
int64_t uisrc_rate(struct uisrc *s);
void uisrc_set_concurrency(struct uisrc *s, int n);
int uisrc_concurrency(struct uisrc *s);
int uisrc_pause(struct uisrc *s, uint64_t id, bool resume, char *err);
void uisrc_pause_all(struct uisrc *s, bool resume);
int uisrc_requeue(struct uisrc *s, uint64_t id, char *err);
long uisrc_requeue_failed(struct uisrc *s, char *err);
int uisrc_remove(struct uisrc *s, uint64_t id, char *err);
int uisrc_add_url(struct uisrc *s, const char *url, uint64_t *id, char *err);
int uisrc_flush(struct uisrc *s);
int uisrc_stop(struct uisrc *s, char *err);
void uisrc_listen(struct uisrc *s, engine_listener cb, void *arg);
const char *uisrc_lost(struct uisrc *s);

#endif
