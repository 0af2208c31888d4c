/* Page anchors: the offsets at which recent pages began, kept exact as items move. */
#include "queue_anchor.h"

#include <stddef.h>

/* Item id moved from state `from` to state `to` (-1: it was removed): the offsets of anchors
 * after it shift by one. */
void queue_anchor_move(struct queue_anchors *as, uint64_t id, int from, int to)
{
    for (int i = 0; i < QUEUE_ANCHORS; i++) {
        struct queue_anchor *a = &as->a[i];
        int d = 0;

        if (!a->used || id > a->id)
            continue;
        if (a->st < 0) {
            d = to < 0 ? -1 : 0;
        } else {
            d = (from == a->st ? -1 : 0) + (to == a->st ? 1 : 0);
        }
        if (id == a->id ? d < 0 : (d < 0 && a->off == 0))
            a->used = false;         /* the anchor's own row left: forget it */
        else if (id != a->id)
            a->off = (uint64_t)((int64_t)a->off + d);
    }
}

/* Bulk moves in the session: nothing is known about where rows went. */
void queue_anchor_clear(struct queue_anchors *as)
{
    for (int i = 0; i < QUEUE_ANCHORS; i++)
        as->a[i].used = false;
}

const struct queue_anchor *queue_anchor_near(const struct queue_anchors *as, int st, uint64_t off)
{
    const struct queue_anchor *best = NULL;

    for (int i = 0; i < QUEUE_ANCHORS; i++) {
        const struct queue_anchor *a = &as->a[i];

        if (a->used && a->st == st && a->off <= off && (best == NULL || a->off > best->off))
            best = a;
    }
    return best;
}

void queue_anchor_set(struct queue_anchors *as, int st, uint64_t off, uint64_t id)
{
    struct queue_anchor *a = NULL;

    for (int i = 0; i < QUEUE_ANCHORS && a == NULL; i++)
        if (as->a[i].used && as->a[i].st == st && as->a[i].off == off)
            a = &as->a[i];
    if (a == NULL)
        a = &as->a[as->next++ % QUEUE_ANCHORS];
    *a = (struct queue_anchor){ .st = st, .used = true, .off = off, .id = id };
}
