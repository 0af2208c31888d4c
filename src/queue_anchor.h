#ifndef SLUICE_QUEUE_ANCHOR_H
#define SLUICE_QUEUE_ANCHOR_H
/* Part of the queue (queue.c and its queue_*.c files only): where recent pages began, so that the
 * next page near one counts rows from there instead of from the first row. A zeroed struct
 * queue_anchors holds none. */
#include <stdbool.h>
#include <stdint.h>

#define QUEUE_ANCHORS 16         /* where recent pages began, to skip counting up to them */

/* The offset-th item of state st (st < 0: any) is id. Kept exact as items move
 * (queue_anchor_move). */
struct queue_anchor {
    int st;
    bool used;
    uint64_t off, id;
};

struct queue_anchors {
    struct queue_anchor a[QUEUE_ANCHORS];
    unsigned next;               /* the slot to reuse next */
};

/* Item id moved from state `from` to state `to` (-1: it was removed). */
void queue_anchor_move(struct queue_anchors *as, uint64_t id, int from, int to);
/* Forgets every anchor. */
void queue_anchor_clear(struct queue_anchors *as);
/* The anchor of state st nearest before offset off (or at it), NULL when there is none. */
const struct queue_anchor *queue_anchor_near(const struct queue_anchors *as, int st, uint64_t off);
/* Records that the off-th item of state st is id. */
void queue_anchor_set(struct queue_anchors *as, int st, uint64_t off, uint64_t id);

#endif
