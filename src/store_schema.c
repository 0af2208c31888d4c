/* The session's schema and its migrations, run by store_open inside the opening transaction. */
#include "store_schema.h"
#include "store_impl.h"
#include "util.h"

#include <stdio.h>

/* Migrations: entry v upgrades schema v to v + 1, inside the opening transaction. Version 0 is
 * an empty file or one that holds only the meta table (what a pre-release build wrote); a newer
 * schema than STORE_SCHEMA_VERSION is refused rather than guessed at. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    /* 0 → 1 */
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;"
    "CREATE TABLE settings(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE inputs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE items("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"   /* input order; never reused after a removal */
    " url TEXT NOT NULL UNIQUE,"
    " mirrors TEXT,"                           /* further URLs, tab-separated */
    " path TEXT NOT NULL UNIQUE,"
    " host TEXT NOT NULL,"
    " headers TEXT,"                           /* header= lines, newline-separated */
    " algo INTEGER NOT NULL DEFAULT 0,"
    " digest BLOB,"
    " state INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try INTEGER NOT NULL DEFAULT 0,"    /* wall-clock ms */
    " http_status INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " size INTEGER NOT NULL DEFAULT -1,"
    " received INTEGER NOT NULL DEFAULT 0,"
    " etag TEXT,"
    " last_modified TEXT,"
    " sha256 BLOB,"
    " duration_ms INTEGER NOT NULL DEFAULT 0,"
    " input INTEGER,"
    " line INTEGER NOT NULL DEFAULT 0,"
    " updated INTEGER NOT NULL DEFAULT 0);"
    /* Queued items by host in input order; partial, so finished items cost it nothing. */
    "CREATE INDEX items_queued ON items(host, id) WHERE state = 0;"
    "CREATE INDEX items_retry ON items(next_try) WHERE state = 2;"
    /* Pages by state, and counts: covering, the table is never read for them. */
    "CREATE INDEX items_state ON items(state, id);",
    /* 1 → 2: the ranges of segmented downloads (docs/design.md#segmented-downloads); a session
     * of version 1 simply has none. */
    "CREATE TABLE segments("
    " item INTEGER NOT NULL,"
    " lo INTEGER NOT NULL,"                    /* first byte of the range */
    " hi INTEGER NOT NULL,"                    /* one past its last byte */
    " done INTEGER NOT NULL DEFAULT 0,"        /* bytes on disk from lo */
    " PRIMARY KEY(item, lo)) WITHOUT ROWID;",
};

static int table_exists(struct store *st, const char *name, char *err)
{
    sqlite3_stmt *s;
    int rc, found;

    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &s, NULL) != SQLITE_OK)
        return store_dberr(st, err, "schema");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    found = rc == SQLITE_ROW;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(st, err, "schema");
    return found;
}

/* Brings the schema to STORE_SCHEMA_VERSION one step at a time, all in one transaction: a crash
 * during an upgrade leaves the old version intact. */
int store_schema_migrate(struct store *st, char *err)
{
    int64_t version = 0, ntables = 0, appid = 0;
    int has_meta;
    char sql[256];

    if (store_exec(st, "BEGIN IMMEDIATE", err) < 0)
        return -1;
    if (store_query_int(st, "PRAGMA application_id", &appid, err) < 0 ||
        store_query_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ntables,
                  err) < 0 ||
        (has_meta = table_exists(st, "meta", err)) < 0)
        goto fail;
    if (appid != 0 && appid != STORE_APPLICATION_ID) {
        errf(err, "%s is not a sluice session (application id %lld)", st->path, (long long)appid);
        goto fail;
    }
    if (has_meta) {
        int rc = store_query_int(st, "SELECT value FROM meta WHERE key = 'schema_version'",
                                 &version, err);

        if (rc < 0)
            goto fail;
        if (rc == 0) {
            errf(err, "%s is not a sluice session (no schema version)", st->path);
            goto fail;
        }
    } else if (ntables > 0) {
        errf(err, "%s is not a sluice session (it holds other tables)", st->path);
        goto fail;
    }
    if (version < 0 || version > STORE_SCHEMA_VERSION) {
        errf(err, "session %s has schema version %lld; this sluice knows up to %d (a newer sluice "
             "wrote it)", st->path, (long long)version, STORE_SCHEMA_VERSION);
        goto fail;
    }
    for (int64_t v = version; v < STORE_SCHEMA_VERSION; v++)
        if (store_exec(st, migrations[v], err) < 0)
            goto fail;
    if (version != STORE_SCHEMA_VERSION) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta(key, value) VALUES('schema_version', %d) ON CONFLICT(key) "
                 "DO UPDATE SET value = excluded.value; PRAGMA application_id = %d",
                 STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
        if (store_exec(st, sql, err) < 0)
            goto fail;
    }
    if (store_exec(st, "COMMIT", err) < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
