/* Range rows of segmented downloads (store_seg.h). */
#include "store_seg.h"
#include "store_impl.h"
#include "util.h"

int store_seg_write(struct store *st, uint64_t id, const struct seg *v, size_t n, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_SEG_CLEAR, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    if (store_step_done(st, s, err, "clear ranges") < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((s = store_stmt(st, S_SEG_ADD, err)) == NULL)
            return -1;
        sqlite3_bind_int64(s, 1, (int64_t)id);
        sqlite3_bind_int64(s, 2, v[i].start);
        sqlite3_bind_int64(s, 3, v[i].end);
        sqlite3_bind_int64(s, 4, v[i].done);
        if (store_step_done(st, s, err, "write range") < 0)
            return -1;
    }
    return 0;
}

int store_seg_load(struct store *st, uint64_t id, struct seg *v, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_SEG_LOAD, err);
    int n = 0, rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_int64(s, 1, (int64_t)id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == SEGPLAN_MAX) {
            sqlite3_reset(s);
            return errf(err, "session %s: item %llu has more than %d ranges", st->path,
                        (unsigned long long)id, SEGPLAN_MAX);
        }
        v[n].start = sqlite3_column_int64(s, 0);
        v[n].end = sqlite3_column_int64(s, 1);
        v[n].done = sqlite3_column_int64(s, 2);
        v[n].busy = false;
        n++;
    }
    if (rc != SQLITE_DONE) {
        store_dberr(st, err, "load ranges");
        sqlite3_reset(s);
        return -1;
    }
    sqlite3_reset(s);
    return n;
}
