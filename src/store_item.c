/* Item rows: one item in, one item out (the mirrors and headers lists in one column each), the
 * lookups by URL and path, and the walk over every row. */
#include "store_item.h"
#include "store_impl.h"
#include "store_meta.h"
#include "store_seg.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static char **split(const char *s, char sep, size_t *n)
{
    char **v;
    size_t k = 1;

    *n = 0;
    if (s == NULL || *s == '\0')
        return NULL;
    for (const char *p = s; *p; p++)
        k += *p == sep;
    v = xcalloc(k, sizeof *v);
    for (;;) {
        const char *e = strchr(s, sep);

        if (e == NULL) {
            v[(*n)++] = xstrdup(s);
            break;
        }
        v[(*n)++] = xstrndup(s, (size_t)(e - s));
        s = e + 1;
    }
    return v;
}

static char *join(char **v, size_t n, char sep)
{
    struct sbuf b = { 0 };

    if (n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sbuf_add(&b, &sep, 1);
        sbuf_addstr(&b, v[i]);
    }
    return b.s;
}

/* A text column that must not be NULL: a session file is input like any other (--session FILE). */
static char *col_str(sqlite3_stmt *s, int i)
{
    char *v = store_col_dup(s, i);

    return v != NULL ? v : xstrdup("");
}

struct item *store_item_row(sqlite3_stmt *s, int64_t wall_off)
{
    struct item *it = xcalloc(1, sizeof *it);
    size_t nmirrors = 0;
    char **mirrors = split((const char *)sqlite3_column_text(s, 2), '\t', &nmirrors);
    const void *blob;

    it->id = (uint64_t)sqlite3_column_int64(s, 0);
    it->nurls = 1 + nmirrors;
    it->urls = xcalloc(it->nurls, sizeof *it->urls);
    it->urls[0] = col_str(s, 1);
    for (size_t i = 0; i < nmirrors; i++)
        it->urls[1 + i] = mirrors[i];
    free(mirrors);
    it->path = col_str(s, 3);
    it->host = col_str(s, 4);
    it->headers = split((const char *)sqlite3_column_text(s, 5), '\n', &it->nheaders);
    switch (sqlite3_column_int(s, 6)) {
    case CHECKSUM_SHA256:
        it->algo = CHECKSUM_SHA256;
        break;
    case CHECKSUM_MD5:
        it->algo = CHECKSUM_MD5;
        break;
    default:
        it->algo = CHECKSUM_NONE;
    }
    blob = sqlite3_column_blob(s, 7);
    if (blob != NULL) {
        int n = sqlite3_column_bytes(s, 7);

        memcpy(it->digest, blob, n < 32 ? (size_t)n : 32);
    }
    it->state = (enum item_state)sqlite3_column_int(s, 8);
    if ((unsigned)it->state >= ITEM_STATE_COUNT)
        it->state = ITEM_FAILED;
    it->attempts = sqlite3_column_int(s, 9);
    it->next_try_ms = sqlite3_column_int64(s, 10) - wall_off;
    it->attempt_parked = it->state == ITEM_PAUSED && sqlite3_column_int64(s, 10) == -1;
    it->http_status = sqlite3_column_int(s, 11);
    it->error = store_col_dup(s, 12);
    it->size = sqlite3_column_int64(s, 13);
    it->received = sqlite3_column_int64(s, 14);
    it->etag = store_col_dup(s, 15);
    it->last_modified = store_col_dup(s, 16);
    blob = sqlite3_column_blob(s, 17);
    if (blob != NULL && sqlite3_column_bytes(s, 17) == 32) {
        memcpy(it->sha256, blob, 32);
        it->has_sha256 = true;
    }
    it->duration_ms = sqlite3_column_int64(s, 18);
    it->line = (long)sqlite3_column_int64(s, 19);
    it->heap_idx = (size_t)-1;
    return it;
}

struct item *store_item_load(struct store *st, uint64_t id, int64_t wall_off, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_LOAD, err);
    struct item *it = NULL;
    int rc;

    err[0] = '\0';
    if (s == NULL)
        return NULL;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        it = store_item_row(s, wall_off);
    else if (rc != SQLITE_DONE)
        store_dberr(st, err, "load");
    sqlite3_reset(s);
    return it;
}

static void bind_dynamic(sqlite3_stmt *s, const struct item *it, int64_t wall_off, int first)
{
    /* state, attempts, next_try, http_status, error, size, received, etag, last_modified, sha256,
     * duration_ms, in this order from `first` on. */
    sqlite3_bind_int(s, first, (int)it->state);
    sqlite3_bind_int(s, first + 1, it->attempts);
    sqlite3_bind_int64(s, first + 2, it->state == ITEM_RETRY ? it->next_try_ms + wall_off :
                                     it->state == ITEM_PAUSED && it->attempt_parked ? -1 : 0);
    sqlite3_bind_int(s, first + 3, it->http_status);
    store_bind_text(s, first + 4, it->error);
    sqlite3_bind_int64(s, first + 5, it->size);
    sqlite3_bind_int64(s, first + 6, it->received);
    store_bind_text(s, first + 7, it->etag);
    store_bind_text(s, first + 8, it->last_modified);
    if (it->has_sha256)
        sqlite3_bind_blob(s, first + 9, it->sha256, 32, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, first + 9);
    sqlite3_bind_int64(s, first + 10, it->duration_ms);
}

int store_item_insert(struct store *st, const struct item *it, int64_t input, int64_t wall_off,
                      uint64_t *id, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_INSERT, err);
    char *mirrors, *headers;
    int rc;

    if (s == NULL)
        return -1;
    mirrors = join(it->urls + 1, it->nurls > 0 ? it->nurls - 1 : 0, '\t');
    headers = join(it->headers, it->nheaders, '\n');
    sqlite3_bind_text(s, 1, it->urls[0], -1, SQLITE_STATIC);
    if (mirrors != NULL)
        sqlite3_bind_text(s, 2, mirrors, -1, free);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_text(s, 3, it->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, it->host, -1, SQLITE_STATIC);
    if (headers != NULL)
        sqlite3_bind_text(s, 5, headers, -1, free);
    else
        sqlite3_bind_null(s, 5);
    sqlite3_bind_int(s, 6, (int)it->algo);
    if (it->algo == CHECKSUM_SHA256)
        sqlite3_bind_blob(s, 7, it->digest, 32, SQLITE_STATIC);
    else if (it->algo == CHECKSUM_MD5)
        sqlite3_bind_blob(s, 7, it->digest, 16, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 7);
    bind_dynamic(s, it, wall_off, 8);     /* columns 8 .. 18 */
    if (input > 0)
        sqlite3_bind_int64(s, 19, input);
    else
        sqlite3_bind_null(s, 19);
    sqlite3_bind_int64(s, 20, it->line);
    sqlite3_bind_int64(s, 21, wall_ms());
    rc = store_step_done(st, s, err, "insert");
    if (rc < 0)
        return -1;
    if (sqlite3_changes(st->db) == 0)
        return 1;
    *id = (uint64_t)sqlite3_last_insert_rowid(st->db);
    return 0;
}

int store_item_write(struct store *st, const struct item *it, int64_t wall_off, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_WRITE, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)it->id);
    bind_dynamic(s, it, wall_off, 2);
    sqlite3_bind_int64(s, 13, wall_ms());
    return store_step_done(st, s, err, "write");
}

int store_item_delete(struct store *st, uint64_t id, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_DELETE, err);
    bool changed;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    sqlite3_bind_int64(s, 2, wall_ms());
    if (store_step_done(st, s, err, "delete") < 0)
        return -1;
    changed = sqlite3_changes(st->db) > 0;
    if (store_seg_write(st, id, NULL, 0, err) < 0)
        return -1;
    if (changed) {
        /* Ids are no longer dense: pages of every state must count instead of seek. */
        if (store_meta_set(st, "holes", st->holes + 1, err) < 0)
            return -1;
        st->holes++;
    }
    return 0;
}

int store_item_purge(struct store *st, uint64_t id, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_PURGE, err);
    int changed;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    if (store_step_done(st, s, err, "purge") < 0)
        return -1;
    changed = sqlite3_changes(st->db) > 0;
    if (changed && store_seg_write(st, id, NULL, 0, err) < 0)
        return -1;
    return changed;
}

int store_item_find_url(struct store *st, const char *url, uint64_t *id, char *err)
{
    return store_find_one(st, S_FIND_URL, url, id, err);
}

int store_item_find_path(struct store *st, const char *path, uint64_t *id, char *err)
{
    return store_find_one(st, S_FIND_PATH, path, id, err);
}

int store_item_find_under(struct store *st, const char *folder, uint64_t *id, char *err)
{
    return store_find_one(st, S_FIND_UNDER, folder, id, err);
}

int store_item_url_of(struct store *st, uint64_t id, char **url, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_URL_OF, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *url = store_col_dup(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

int store_item_where(struct store *st, uint64_t id, char **input, long *line, char **path,
                     char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_WHERE, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *input = store_col_dup(s, 0);
        *line = (long)sqlite3_column_int64(s, 1);
        *path = store_col_dup(s, 2);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "lookup");
    return rc == SQLITE_ROW;
}

int store_item_scan(struct store *st, bool want_path, store_item_scan_cb cb, void *arg,
                    char *err)
{
    sqlite3_stmt *s = store_stmt(st, want_path ? S_SCAN_PATH : S_SCAN, err);
    int rc, stop = 0;

    if (s == NULL)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        stop = cb((uint64_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                  want_path ? (const char *)sqlite3_column_text(s, 2) : NULL, arg);
        if (stop != 0)
            break;
    }
    sqlite3_reset(s);
    if (stop != 0)
        return stop;
    if (rc != SQLITE_DONE)
        return store_dberr(st, err, "read the session");
    return 0;
}
