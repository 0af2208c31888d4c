#ifndef SLUICE_CTL_WIRE_H
#define SLUICE_CTL_WIRE_H
/* The attach mode's records (docs/ctl.md#attach-mode): engine_stats, items, transfer views and
 * engine events as one text line each, fields separated by one blank. Strings are "-" for none,
 * or "=" followed by the string with every byte <= 0x20, '%' and 0x7f as %XX, so a field never
 * holds a blank or a newline. Both ends use these; decoding checks everything (the peer may be
 * anything that can open the socket as our user) and fails with -1 on the first thing wrong.
 * Pure: unit-tested (tests/unit/test_ctl_wire.c) and fuzzed (tests/fuzz). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "item.h"
#include "util.h"
#include "wait.h"

#define CTL_WIRE_SERIES_MAX 59
#define CTL_WIRE_PAGE_MAX 256       /* rows per page request */
#define CTL_WIRE_SCAN_MAX 20000     /* ids looked at per scan request */
#define CTL_WIRE_URLS_MAX 40        /* mirrors of an item sent (the details view shows a few) */

void ctl_wire_str(struct sbuf *out, const char *s);
void ctl_wire_stats(struct sbuf *out, const struct engine_stats *st, bool idle);
/* One item; now is the sender's loop clock (a retry's wait travels as time left), x the view of
 * its running transfer or NULL. URLs are redacted by the caller. */
/* From attach 3 on (version >= 3) the transfer's view carries its connections too (x_conns,
 * after x_throttled: more than 1 for a segmented download); a parser reads the version it was
 * written in. */
#define CTL_WIRE_CONNS_VERSION 3
void ctl_wire_item(struct sbuf *out, const struct item *it, int64_t now,
                   const struct engine_xfer_view *x, int version);
void ctl_wire_event(struct sbuf *out, const struct engine_event *ev);
/* A row: what changes of an item (its path, host and URLs never do, and a client keeps them):
 * "id state attempts retry_in_ms http_status size received duration_ms x_bytes x_size x_rate
 * x_throttled [x_conns] error" (x_conns from attach 3). */
void ctl_wire_row(struct sbuf *out, const struct item *it, int64_t now,
                  const struct engine_xfer_view *x, int version);

/* Decoding works on one line (no newline) in place: the line is cut into its fields. */
int ctl_wire_stats_parse(char *line, struct engine_stats *st, bool *idle, char **session_error);
/* it is filled with allocated strings (item_free frees them); next_try_ms is now + the time left
 * it carries. *has_x tells whether x was filled. */
int ctl_wire_item_parse(char *line, int version, int64_t now, struct item *it,
                        struct engine_xfer_view *x, bool *has_x);
/* Fills the fields a row carries (error allocated); the others are left zero. */
int ctl_wire_row_parse(char *line, int version, int64_t now, struct item *it,
                       struct engine_xfer_view *x, bool *has_x);
/* ev->item points at it (only its id is set); ev->error at an allocated string in *text. */
int ctl_wire_event_parse(char *line, struct engine_event *ev, struct item *it, char **text);
/* Numbers as the wire has them. */
int ctl_wire_i64(const char *s, int64_t *v);

/* Why rows move no bytes (wait.h), for the rows a client shows: a `waits` answer is a run
 * record, then host records ("h ..."), each before the first wait record that names it, then
 * one wait record per id asked, in that order. Times travel as durations from the sender's now
 * and come back on the reader's clock (now), so "retry 4s" and "held 12s" are right on either
 * side. The item's own state and next try come from its row (the reader fills them). */
#define CTL_WIRE_HOSTS_MAX 256      /* host rows per hosts answer (the Hosts tab's room) */
/* "paused_all disk_full transfers concurrency" */
void ctl_wire_wait_run(struct sbuf *out, const struct wait_facts *f);
int ctl_wire_wait_run_parse(char *line, struct wait_facts *f);
/* From attach 4 on the host record carries a cap group's hold and --per-host-rps too
 * (docs/scale.md#holds-seen-by-every-worker). */
#define CTL_WIRE_HOLD_VERSION 4
/* "h active limit lowered slow_status hold_in_ms [gate_in_ms gate_status rps_wait]": the host
 * part of f (rps_wait: its requests a second when it has no request token now, else 0; the
 * three from attach 4). */
void ctl_wire_wait_host(struct sbuf *out, const struct wait_facts *f, int64_t now, int version);
int ctl_wire_wait_host_parse(char *line, int64_t now, int version, struct wait_facts *f);
/* "x" for an id that is gone; else "HOST" (the index of its host record, "-" for none), and
 * for a running item "HOST FLAGS RX_AGE_MS" (FLAGS 1 throttled + 2 diskwait; RX_AGE_MS since
 * its last byte, -1 none yet). host is -1 for none; *gone tells the "x". */
void ctl_wire_wait(struct sbuf *out, int host, const struct wait_facts *f, int64_t now);
int ctl_wire_wait_parse(char *line, int64_t now, int *host, bool *gone, struct wait_facts *f);
/* A Hosts tab row: "name active limit lowered slow_status hold_in_ms n429 n503 done failed
 * rate queued queued_more". */
void ctl_wire_host(struct sbuf *out, const struct engine_host_view *h, int64_t now, int version);
int ctl_wire_host_parse(char *line, int64_t now, int version, struct engine_host_view *h);
/* The ranges of a segmented download (attach 3, `ranges ID`): a first line "COUNT" (how many
 * it has, 0 when it is not segmented or not running), then one "start end done busy rate" line
 * per range, in file order, at most CTL_WIRE_RANGES_MAX (the details view's room). */
#define CTL_WIRE_RANGES_MAX 32
void ctl_wire_range(struct sbuf *out, const struct engine_range_view *r);
int ctl_wire_range_parse(char *line, struct engine_range_view *r);

#endif
