/* The item record's own helpers: its state names, its error text, freeing it. They sit below
 * both the queue (which holds items) and the store (which reads and writes their rows), so
 * neither depends on the other for them (docs/design.md#subsystems). */
#include "item.h"
#include "util.h"

#include <stdlib.h>

static const char *state_names[ITEM_STATE_COUNT] = {
    "queued", "active", "retry", "paused", "done", "unchanged", "failed",
};

void (*item_hash_free)(void *);

const char *item_state_name(enum item_state s)
{
    return (unsigned)s < ITEM_STATE_COUNT ? state_names[s] : "?";
}

void item_free(struct item *it)
{
    if (it == NULL)
        return;
    util_strv_free(it->urls, it->nurls);
    util_strv_free(it->headers, it->nheaders);
    free(it->path);
    free(it->host);
    free(it->error);
    free(it->etag);
    free(it->last_modified);
    free(it->segs);
    if (it->hash_state != NULL && item_hash_free != NULL)
        item_hash_free(it->hash_state);
    if (it->seg_hash != NULL && item_hash_free != NULL)
        item_hash_free(it->seg_hash);
    free(it);
}

void item_set_error(struct item *it, const char *msg)
{
    free(it->error);
    it->error = msg != NULL ? xstrdup(msg) : NULL;
}
