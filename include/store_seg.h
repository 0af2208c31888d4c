#ifndef SLUICE_STORE_SEG_H
#define SLUICE_STORE_SEG_H
/* The ranges of a segmented download in the session (docs/design.md#segmented-downloads): one
 * row per range of an item (start, end, bytes done), written with the item in the caller's
 * batch, read back when the item resumes. The rows are checked by segplan_check before use. */
#include <stddef.h>
#include <stdint.h>
#include "segplan.h"
#include "store.h"

/* Replaces the item's ranges with v[0..n) (n = 0 removes them). Inside the caller's
 * transaction, like store_item_write. */
int store_seg_write(struct store *st, uint64_t id, const struct seg *v, size_t n, char *err);
/* Reads the item's ranges by start into v (room for SEGPLAN_MAX; none is busy). Returns the
 * number of rows (0 when none; rows past SEGPLAN_MAX are an error), or -1. */
int store_seg_load(struct store *st, uint64_t id, struct seg *v, char *err);

#endif
