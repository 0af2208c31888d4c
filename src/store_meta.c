/* Settings and bookkeeping: the settings tuned live, the meta counters, the names of the input
 * lists. */
#include "store_meta.h"
#include "store_impl.h"
#include "util.h"

/* A lookup by key: take() reads the row when there is one. Returns 1 (found), 0 or -1. */
static int lookup(struct store *st, enum stmt_id id, const char *key, const char *what,
                  void (*take)(sqlite3_stmt *s, void *out), void *out, char *err)
{
    sqlite3_stmt *s = store_stmt(st, id, err);
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        take(s, out);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, what);
    return rc == SQLITE_ROW;
}

static void take_text(sqlite3_stmt *s, void *out)
{
    *(char **)out = store_col_dup(s, 0);
}

static void take_int64(sqlite3_stmt *s, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(s, 0);
}

int store_meta_setting_get(struct store *st, const char *key, char **value, char *err)
{
    int rc = lookup(st, S_SET_GET, key, "read a setting", take_text, value, err);

    return rc > 0 ? *value != NULL : rc;
}

int store_meta_setting_set(struct store *st, const char *key, const char *value, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_SET_SET, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
    return store_step_done(st, s, err, "write a setting");
}

int store_meta_setting_del(struct store *st, const char *key, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_SET_DEL, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    return store_step_done(st, s, err, "forget a setting");
}

int store_meta_get(struct store *st, const char *key, int64_t *value, char *err)
{
    return lookup(st, S_META_GET, key, "read meta", take_int64, value, err);
}

int store_meta_set(struct store *st, const char *key, int64_t value, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_META_SET, err);

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, value);
    return store_step_done(st, s, err, "write meta");
}

int store_meta_input_id(struct store *st, const char *name, int64_t *id, char *err)
{
    sqlite3_stmt *s = store_stmt(st, S_INPUT_ADD, err);
    uint64_t v = 0;
    int rc;

    if (s == NULL)
        return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    if (store_step_done(st, s, err, "record the input") < 0)
        return -1;
    rc = store_find_one(st, S_INPUT_GET, name, &v, err);
    if (rc <= 0)
        return rc < 0 ? -1 : errf(err, "session %s: input %s vanished", st->path, name);
    *id = (int64_t)v;
    return 0;
}
