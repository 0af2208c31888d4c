/* What the queue reads from the session, and the bulk state changes it asks for: queued items by
 * host, retries coming due, requeues, finished items, pages of ids. */
#include "store_queue.h"
#include "store_impl.h"
#include "util.h"

int store_queue_host_queued(struct store *st, const char *host, uint64_t after, size_t limit,
                            int64_t wall_off, store_queue_item_cb cb, void *arg, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_HOST_QUEUED, err);
    int rc, n = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, (int64_t)after);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        cb(store_item_row(s, wall_off), arg);
        n++;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "read queued items");
    return n;
}

int store_queue_next_host(struct store *st, const char *after, char **host, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_NEXT_HOST, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, after != NULL ? after : "", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *host = store_col_dup(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "read hosts");
    return rc == SQLITE_ROW;
}

int store_queue_due(struct store *st, int64_t now_wall, int64_t after_due, uint64_t after_id,
                    size_t limit, uint64_t *ids, int64_t *dues, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_PROMOTE, err);
    int rc, n = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, now_wall);
    sqlite3_bind_int64(s, 2, after_due);
    sqlite3_bind_int64(s, 3, (int64_t)after_id);
    sqlite3_bind_int64(s, 4, (int64_t)limit);
    while (n < (int)limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        ids[n] = (uint64_t)sqlite3_column_int64(s, 0);
        dues[n++] = sqlite3_column_int64(s, 1);
    }
    if (n == (int)limit)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "read retries");
    return n;
}

int store_queue_min_due(struct store *st, int64_t after_due, uint64_t after_id, int64_t *due_wall,
                        char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_MIN_DUE, err);
    int rc, found = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, after_due);
    sqlite3_bind_int64(s, 2, (int64_t)after_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *due_wall = sqlite3_column_int64(s, 0);
        found = 1;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "read retries");
    return found;
}

int store_queue_requeue(struct store *st, enum item_state from, char *err)
{
    sqlite3_stmt *s;

    if (from != ITEM_FAILED && from != ITEM_PAUSED && from != ITEM_DONE && from != ITEM_UNCHANGED)
        return errf(err, "cannot requeue %s items in bulk", item_state_name(from));
    s = store_stmt(st, from == ITEM_FAILED ? S_REQUEUE_FAILED :
                 from == ITEM_PAUSED ? S_RESUME_PAUSED : S_REQUEUE_FINISHED, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, wall_ms());
    if (from == ITEM_DONE || from == ITEM_UNCHANGED)
        sqlite3_bind_int(s, 2, (int)from);
    if (store_step_done(st, s, err, "requeue") < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_queue_requeue_failed_where(struct store *st, int status, const char *host, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_REQUEUE_FAILED_WHERE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, wall_ms());
    sqlite3_bind_int(s, 2, status);
    if (host != NULL)
        sqlite3_bind_text(s, 3, host, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 3);
    if (store_step_done(st, s, err, "requeue") < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_queue_page_ids(struct store *st, int state, uint64_t from, uint64_t offset,
                         size_t limit, uint64_t *ids, char *err)
{
    sqlite3_stmt *s;
    int rc, n = 0;

    if (state >= 0) {
        if ((s = store_stmt(st, S_PAGE_STATE, err)) == NULL)
            return -1;
        sqlite3_bind_int(s, 1, state);
        sqlite3_bind_int64(s, 2, (int64_t)limit);
        sqlite3_bind_int64(s, 3, (int64_t)offset);
        sqlite3_bind_int64(s, 4, (int64_t)from);
    } else if (st->holes == 0) {
        /* Dense ids (nothing ever removed): the offset-th item is id offset + 1, one seek. */
        if ((s = store_stmt(st, S_PAGE_DENSE, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, (int64_t)(from > 0 ? from - 1 + offset : offset));
        sqlite3_bind_int64(s, 2, (int64_t)limit);
    } else {
        if ((s = store_stmt(st, S_PAGE_ANY, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, (int64_t)offset);
        sqlite3_bind_int64(s, 2, (int64_t)limit);
        sqlite3_bind_int64(s, 3, (int64_t)from);
    }
    while (n < (int)limit && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[n++] = (uint64_t)sqlite3_column_int64(s, 0);
    if (n == (int)limit)
        rc = SQLITE_DONE;
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "read a page");
    return n;
}

int store_queue_finished(struct store *st, enum item_state state, uint64_t after, size_t limit,
                         store_queue_finished_cb cb, void *arg, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_FINISHED, err);
    int rc, n = 0;

    if (s == NULL)
        return -1;
    sqlite3_bind_int(s, 1, (int)state);
    sqlite3_bind_int64(s, 2, (int64_t)after);
    sqlite3_bind_int64(s, 3, (int64_t)limit);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(s, 1);

        cb((uint64_t)sqlite3_column_int64(s, 0), path != NULL ? path : "",
           sqlite3_column_int64(s, 2), arg);
        n++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "read finished items");
    return n;
}

int store_queue_requeue_one(struct store *st, uint64_t id, enum item_state was, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_REQUEUE_ONE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    sqlite3_bind_int(s, 2, (int)was);
    sqlite3_bind_int64(s, 3, wall_ms());
    if (store_step_done(st, s, err, "requeue") < 0)
        return -1;
    return sqlite3_changes(st->db) > 0;
}
