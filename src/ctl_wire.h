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

#define CTL_WIRE_SERIES_MAX 59
#define CTL_WIRE_PAGE_MAX 256       /* rows per page request */
#define CTL_WIRE_SCAN_MAX 20000     /* ids looked at per scan request */
#define CTL_WIRE_URLS_MAX 40        /* mirrors of an item sent (the details view shows a few) */

void ctl_wire_str(struct sbuf *out, const char *s);
void ctl_wire_stats(struct sbuf *out, const struct engine_stats *st, bool idle);
/* One item; now is the sender's loop clock (a retry's wait travels as time left), x the view of
 * its running transfer or NULL. URLs are redacted by the caller. */
void ctl_wire_item(struct sbuf *out, const struct item *it, int64_t now,
                   const struct engine_xfer_view *x);
void ctl_wire_event(struct sbuf *out, const struct engine_event *ev);
/* A row: what changes of an item (its path, host and URLs never do, and a client keeps them):
 * "id state attempts retry_in_ms http_status size received duration_ms x_bytes x_size x_rate
 * x_throttled error". */
void ctl_wire_row(struct sbuf *out, const struct item *it, int64_t now,
                  const struct engine_xfer_view *x);

/* Decoding works on one line (no newline) in place: the line is cut into its fields. */
int ctl_wire_stats_parse(char *line, struct engine_stats *st, bool *idle, char **session_error);
/* it is filled with allocated strings (item_free frees them); next_try_ms is now + the time left
 * it carries. *has_x tells whether x was filled. */
int ctl_wire_item_parse(char *line, int64_t now, struct item *it, struct engine_xfer_view *x,
                        bool *has_x);
/* Fills the fields a row carries (error allocated); the others are left zero. */
int ctl_wire_row_parse(char *line, int64_t now, struct item *it, struct engine_xfer_view *x,
                       bool *has_x);
/* ev->item points at it (only its id is set); ev->error at an allocated string in *text. */
int ctl_wire_event_parse(char *line, struct engine_event *ev, struct item *it, char **text);
/* Numbers as the wire has them. */
int ctl_wire_i64(const char *s, int64_t *v);

#endif
