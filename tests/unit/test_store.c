/* The session file: creation (mode 0600, WAL), schema upgrade and refusal, one sluice at a time,
 * rows that come back as they went in, pages, settings, retries by wall-clock time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "item.h"
#include "store.h"
#include "store_ckpt.h"
#include "store_item.h"
#include "store_meta.h"
#include "store_queue.h"
#include "store_seg.h"
#include "util.h"

static char dir[] = "/tmp/sluice-test-store-XXXXXX";

static char *db_path(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static int mode_of(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

/* Runs SQL on the file with a connection of the test's own. */
static void raw(const char *path, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static struct item *mk(const char *url, const char *path, const char *host)
{
    struct item *it = xcalloc(1, sizeof *it);

    it->urls = xcalloc(1, sizeof *it->urls);
    it->urls[0] = xstrdup(url);
    it->nurls = 1;
    it->path = xstrdup(path);
    it->host = xstrdup(host);
    it->size = -1;
    it->state = ITEM_QUEUED;
    return it;
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    /* Temporary sessions too, so that a failed test leaves nothing behind in /tmp. */
    return setenv("TMPDIR", dir, 1);
}

static int teardown(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);

    (void)state;
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static void test_create_mode_wal(void **state)
{
    char *path = db_path("create.db"), *wal = xasprintf("%s-wal", path);
    char *shm = xasprintf("%s-shm", path);
    char err[ERRLEN];
    struct store *st;
    struct item *it = mk("http://h/a", "a", "h");
    uint64_t id = 0;
    mode_t old = umask(0);      /* even a permissive umask gives a private file */

    (void)state;
    st = store_open(path, err);
    umask(old);
    assert_non_null(st);
    assert_true(store_created(st));
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(store_item_insert(st, it, 0, 0, &id, err), 0);
    assert_int_equal(id, 1);
    assert_int_equal(mode_of(wal), 0600);
    assert_int_equal(mode_of(shm), 0600);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(path, "PRAGMA application_id"), STORE_APPLICATION_ID);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items"), 1);
    /* Reopened: not created, the row is there. */
    st = store_open(path, err);
    assert_non_null(st);
    assert_false(store_created(st));
    assert_int_equal(store_item_find_url(st, "http://h/a", &id, err), 1);
    assert_int_equal(id, 1);
    store_close(st);
    item_free(it);
    free(path);
    free(wal);
    free(shm);
}

static void test_wal_mode(void **state)
{
    char *path = db_path("wal.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err);
    sqlite3 *db;
    sqlite3_stmt *s;

    (void)state;
    assert_non_null(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    store_close(st);
    free(path);
}

static void test_existing_file_tightened(void **state)
{
    char *path = db_path("loose.db"), *wal = xasprintf("%s-wal", path);
    char err[ERRLEN];
    struct store *st;

    (void)state;
    raw(path, "PRAGMA journal_mode = WAL; CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
              "INSERT INTO meta VALUES('schema_version', 0);");
    assert_int_equal(chmod(path, 0644), 0);
    fclose(fopen(wal, "a"));
    assert_int_equal(chmod(wal, 0666), 0);
    st = store_open(path, err);
    assert_non_null(st);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(mode_of(wal), 0600);
    store_close(st);
    free(path);
    free(wal);
}

/* A version-0 file (meta only, as a pre-release build wrote it) is upgraded in place. */
static void test_migrate_v0(void **state)
{
    char *path = db_path("v0.db");
    char err[ERRLEN];
    struct store *st;
    struct item *it = mk("http://h/x", "x", "h");
    uint64_t id;

    (void)state;
    raw(path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value); "
              "INSERT INTO meta VALUES('schema_version', 0); "
              "INSERT INTO meta VALUES('note', 'from a pre-release build');");
    st = store_open(path, err);
    assert_non_null(st);
    assert_false(store_created(st));
    assert_int_equal(store_item_insert(st, it, 0, 0, &id, err), 0);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     STORE_SCHEMA_VERSION);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM meta WHERE key = 'note'"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'items_queued'"), 1);
    /* Upgraded once: opening again changes nothing. */
    st = store_open(path, err);
    assert_non_null(st);
    assert_int_equal(store_item_find_url(st, "http://h/x", &id, err), 1);
    store_close(st);
    item_free(it);
    free(path);
}

static void test_refuse(void **state)
{
    char *newer = db_path("newer.db"), *foreign = db_path("foreign.db"), *junk = db_path("junk.db");
    char *other = db_path("other_app.db");
    char err[ERRLEN];
    FILE *fp;

    (void)state;
    raw(newer, "CREATE TABLE meta(key TEXT PRIMARY KEY, value); "
               "INSERT INTO meta VALUES('schema_version', 99);");
    assert_null(store_open(newer, err));
    assert_non_null(strstr(err, "newer sluice"));
    /* Refused means untouched. */
    assert_int_equal(raw_int(newer, "SELECT value FROM meta WHERE key = 'schema_version'"), 99);

    raw(foreign, "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT)");
    assert_null(store_open(foreign, err));
    assert_non_null(strstr(err, "not a sluice session"));
    assert_int_equal(raw_int(foreign, "SELECT count(*) FROM sqlite_master WHERE name = 'items'"), 0);

    raw(other, "PRAGMA application_id = 1234");
    assert_null(store_open(other, err));
    assert_non_null(strstr(err, "not a sluice session"));

    fp = fopen(junk, "w");
    assert_non_null(fp);
    fputs("this is not a database, just a file someone pointed --session at\n", fp);
    fclose(fp);
    assert_null(store_open(junk, err));
    assert_true(strlen(err) > 0);
    free(newer);
    free(foreign);
    free(junk);
    free(other);
}

static void test_one_sluice_at_a_time(void **state)
{
    char *path = db_path("lock.db");
    char err[ERRLEN];
    struct store *a = store_open(path, err), *b;

    (void)state;
    assert_non_null(a);
    b = store_open(path, err);
    assert_null(b);
    assert_non_null(strstr(err, "in use"));
    store_close(a);
    b = store_open(path, err);      /* free again once the first let go */
    assert_non_null(b);
    store_close(b);
    free(path);
}

static void test_symlink_refused(void **state)
{
    char *path = db_path("link.db"), *target = db_path("target.db");
    char err[ERRLEN];

    (void)state;
    assert_int_equal(symlink(target, path), 0);
    assert_null(store_open(path, err));
    assert_int_equal(access(target, F_OK), -1);     /* nothing created through the link */
    free(path);
    free(target);
}

static void test_roundtrip(void **state)
{
    char *path = db_path("rt.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err);
    struct item *it = mk("http://h/a%20b?x=1", "dir/a b", "h");
    struct item *back;
    uint64_t id, other;
    const int64_t off = 1000000;

    (void)state;
    assert_non_null(st);
    it->urls = xrealloc(it->urls, 3 * sizeof *it->urls);
    it->urls[1] = xstrdup("http://m1/a");
    it->urls[2] = xstrdup("https://m2/a");
    it->nurls = 3;
    it->headers = xcalloc(2, sizeof *it->headers);
    it->headers[0] = xstrdup("X-A: 1");
    it->headers[1] = xstrdup("Cookie: k=v");
    it->nheaders = 2;
    it->algo = CHECKSUM_SHA256;
    memset(it->digest, 0xab, 32);
    it->line = 42;
    assert_int_equal(store_item_insert(st, it, 0, off, &id, err), 0);

    it->id = id;
    it->state = ITEM_RETRY;
    it->attempts = 3;
    it->next_try_ms = 5000;         /* monotonic; the row holds 5000 + off */
    it->http_status = 503;
    item_set_error(it, "HTTP 503");
    it->size = 12345;
    it->received = 678;
    it->etag = xstrdup("\"abc\"");
    it->last_modified = xstrdup("Wed, 21 Oct 2015 07:28:00 GMT");
    memset(it->sha256, 0x5a, 32);
    it->has_sha256 = true;
    it->duration_ms = 77;
    assert_int_equal(store_item_write(st, it, off, err), 0);

    back = store_item_load(st, id, off, err);
    assert_non_null(back);
    assert_int_equal(back->id, id);
    assert_int_equal(back->nurls, 3);
    assert_string_equal(back->urls[0], "http://h/a%20b?x=1");
    assert_string_equal(back->urls[2], "https://m2/a");
    assert_string_equal(back->path, "dir/a b");
    assert_string_equal(back->host, "h");
    assert_int_equal(back->nheaders, 2);
    assert_string_equal(back->headers[1], "Cookie: k=v");
    assert_int_equal(back->algo, CHECKSUM_SHA256);
    assert_memory_equal(back->digest, it->digest, 32);
    assert_int_equal(back->state, ITEM_RETRY);
    assert_int_equal(back->attempts, 3);
    assert_int_equal(back->next_try_ms, 5000);
    assert_int_equal(back->http_status, 503);
    assert_string_equal(back->error, "HTTP 503");
    assert_int_equal(back->size, 12345);
    assert_int_equal(back->received, 678);
    assert_string_equal(back->etag, "\"abc\"");
    assert_string_equal(back->last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_true(back->has_sha256);
    assert_memory_equal(back->sha256, it->sha256, 32);
    assert_int_equal(back->duration_ms, 77);
    assert_int_equal(back->line, 42);
    item_free(back);
    /* The retry's time is wall clock in the file. */
    {
        int64_t due = 0;

        assert_int_equal(store_queue_min_due(st, INT64_MIN, 0, &due, err), 1);
        assert_int_equal(due, 5000 + off);
    }
    /* Taken URL or taken path: nothing written. */
    {
        struct item *dup_url = mk("http://h/a%20b?x=1", "other", "h");
        struct item *dup_path = mk("http://h/other", "dir/a b", "h");

        assert_int_equal(store_item_insert(st, dup_url, 0, 0, &other, err), 1);
        assert_int_equal(store_item_insert(st, dup_path, 0, 0, &other, err), 1);
        assert_int_equal(store_item_find_path(st, "other", &other, err), 0);
        item_free(dup_url);
        item_free(dup_path);
    }
    assert_null(store_item_load(st, 999, off, err));
    assert_string_equal(err, "");
    item_free(it);
    store_close(st);
    free(path);
}

static void test_pages_counts(void **state)
{
    char *path = db_path("pages.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err);
    size_t counts[ITEM_STATE_COUNT];
    uint64_t ids[16], max_id;
    char url[64], p[32];

    (void)state;
    assert_non_null(st);
    assert_int_equal(store_begin(st, err), 0);
    for (int i = 1; i <= 100; i++) {
        struct item *it;
        uint64_t id;

        snprintf(url, sizeof url, "http://h%d/f%d", i % 3, i);
        snprintf(p, sizeof p, "f%d", i);
        it = mk(url, p, i % 3 == 0 ? "h0" : i % 3 == 1 ? "h1" : "h2");
        it->state = i % 10 == 0 ? ITEM_DONE : ITEM_QUEUED;     /* 10 done, 90 queued */
        assert_int_equal(store_item_insert(st, it, 0, 0, &id, err), 0);
        assert_int_equal(id, (uint64_t)i);
        item_free(it);
    }
    assert_int_equal(store_commit(st, err), 0);
    assert_int_equal(store_counts(st, counts, &max_id, err), 0);
    assert_int_equal(counts[ITEM_QUEUED], 90);
    assert_int_equal(counts[ITEM_DONE], 10);
    assert_int_equal(max_id, 100);
    /* Done: ids 10, 20, ...; the third page of three starts at 70. */
    assert_int_equal(store_queue_page_ids(st, ITEM_DONE, 0, 6, 3, ids, err), 3);
    assert_int_equal(ids[0], 70);
    assert_int_equal(ids[2], 90);
    assert_int_equal(store_queue_page_ids(st, ITEM_DONE, 0, 9, 3, ids, err), 1);
    assert_int_equal(ids[0], 100);
    assert_int_equal(store_queue_page_ids(st, ITEM_DONE, 0, 10, 3, ids, err), 0);
    /* Any state: dense ids, then with a hole. */
    assert_int_equal(store_queue_page_ids(st, -1, 0, 50, 2, ids, err), 2);
    assert_int_equal(ids[0], 51);
    /* Counting from a known id: the offset-th from id 60 on. */
    assert_int_equal(store_queue_page_ids(st, ITEM_DONE, 60, 1, 2, ids, err), 2);
    assert_int_equal(ids[0], 70);
    assert_int_equal(store_queue_page_ids(st, -1, 60, 1, 2, ids, err), 2);
    assert_int_equal(ids[0], 61);
    assert_int_equal(store_item_delete(st, 5, err), 0);
    assert_int_equal(store_queue_page_ids(st, -1, 0, 4, 2, ids, err), 2);
    assert_int_equal(ids[0], 6);
    assert_int_equal(ids[1], 7);
    assert_int_equal(store_queue_page_ids(st, -1, 0, 98, 5, ids, err), 1);
    assert_int_equal(ids[0], 100);
    assert_int_equal(store_queue_page_ids(st, -1, 3, 2, 2, ids, err), 2);   /* 3, 4, [6, 7] */
    assert_int_equal(ids[0], 6);
    /* Hosts with queued items, one seek each, in order. */
    {
        char *h = NULL, *h2 = NULL;

        assert_int_equal(store_queue_next_host(st, NULL, &h, err), 1);
        assert_string_equal(h, "h0");
        assert_int_equal(store_queue_next_host(st, h, &h2, err), 1);
        assert_string_equal(h2, "h1");
        free(h);
        free(h2);
        h = NULL;
        assert_int_equal(store_queue_next_host(st, "h2", &h, err), 0);
        assert_null(h);
    }
    /* Failed and paused come back in bulk. */
    raw(path, "UPDATE items SET state = 6, attempts = 4, error = 'x' WHERE id IN (1, 2)");
    assert_int_equal(store_queue_requeue(st, ITEM_FAILED, err), 2);
    assert_int_equal(store_counts(st, counts, &max_id, err), 0);
    assert_int_equal(counts[ITEM_FAILED], 0);
    assert_int_equal(raw_int(path, "SELECT attempts FROM items WHERE id = 1"), 0);
    /* A new pass: done items go back to the queue too, with their validators kept. */
    raw(path, "UPDATE items SET state = 4, etag = '\"e\"' WHERE id IN (3, 4, 5)");
    assert_int_equal(store_counts(st, counts, &max_id, err), 0);
    assert_true(counts[ITEM_DONE] >= 3);
    assert_int_equal(store_queue_requeue(st, ITEM_DONE, err), (int)counts[ITEM_DONE]);
    assert_int_equal(store_counts(st, counts, &max_id, err), 0);
    assert_int_equal(counts[ITEM_DONE], 0);
    assert_true(raw_int(path, "SELECT count(*) FROM items WHERE id IN (3, 4, 5)") >= 2);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items WHERE id IN (3, 4, 5) AND "
                                   "(state != 0 OR etag IS NULL)"), 0);
    /* Running items never move in bulk. */
    assert_int_equal(store_queue_requeue(st, ITEM_ACTIVE, err), -1);
    store_close(st);
    free(path);
}

static void test_retries_by_wall_clock(void **state)
{
    char *path = db_path("due.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err);
    int64_t due;

    (void)state;
    assert_non_null(st);
    uint64_t ids[4];
    int64_t dues[4];

    assert_int_equal(store_queue_min_due(st, INT64_MIN, 0, &due, err), 0);
    for (int i = 0; i < 3; i++) {
        char url[32], p[8];
        struct item *it;
        uint64_t id;

        snprintf(url, sizeof url, "http://h/%d", i);
        snprintf(p, sizeof p, "%d", i);
        it = mk(url, p, "h");
        it->state = ITEM_RETRY;
        it->next_try_ms = 1000 * (i + 1);    /* with off 0: wall 1000, 2000, 3000 */
        assert_int_equal(store_item_insert(st, it, 0, 0, &id, err), 0);
        item_free(it);
    }
    assert_int_equal(store_queue_min_due(st, INT64_MIN, 0, &due, err), 1);
    assert_int_equal(due, 1000);
    /* Due by 2000, in due order; the rows keep their state (they stay retries until they start). */
    assert_int_equal(store_queue_due(st, 2000, INT64_MIN, 0, 4, ids, dues, err), 2);
    assert_int_equal(dues[0], 1000);
    assert_int_equal(dues[1], 2000);
    /* After the cursor (the last one read): the next is 3000, and nothing more is due by 2999. */
    assert_int_equal(store_queue_min_due(st, dues[1], ids[1], &due, err), 1);
    assert_int_equal(due, 3000);
    assert_int_equal(store_queue_due(st, 2999, dues[1], ids[1], 4, ids, dues, err), 0);
    /* A batch limit stops in order. */
    assert_int_equal(store_queue_due(st, 5000, INT64_MIN, 0, 1, ids, dues, err), 1);
    assert_int_equal(dues[0], 1000);
    store_close(st);
    free(path);
}

static void test_settings_meta_inputs(void **state)
{
    char *path = db_path("set.db");
    char err[ERRLEN], *v = NULL;
    struct store *st = store_open(path, err);
    int64_t n = 0, a = 0, b = 0;

    (void)state;
    assert_non_null(st);
    assert_int_equal(store_meta_setting_get(st, "rate", &v, err), 0);
    assert_int_equal(store_meta_setting_set(st, "rate", "1048576", err), 0);
    assert_int_equal(store_meta_setting_set(st, "rate", "2097152", err), 0);
    assert_int_equal(store_meta_setting_get(st, "rate", &v, err), 1);
    assert_string_equal(v, "2097152");
    free(v);
    assert_int_equal(store_meta_set(st, "x", 7, err), 0);
    assert_int_equal(store_meta_get(st, "x", &n, err), 1);
    assert_int_equal(n, 7);
    assert_int_equal(store_meta_input_id(st, "list.txt", &a, err), 0);
    assert_int_equal(store_meta_input_id(st, "<command line>", &b, err), 0);
    assert_int_not_equal(a, b);
    assert_int_equal(store_meta_input_id(st, "list.txt", &n, err), 0);
    assert_int_equal(n, a);
    store_close(st);
    /* Settings outlive the process. */
    st = store_open(path, err);
    assert_int_equal(store_meta_setting_get(st, "rate", &v, err), 1);
    assert_string_equal(v, "2097152");
    free(v);
    store_close(st);
    free(path);
}

static int count_row(uint64_t id, const char *url, const char *path, void *arg)
{
    size_t *n = arg;

    (*n)++;
    return path != NULL && strcmp(path, "stop") == 0 ? 7 : 0;
}

static void test_scan_and_clone(void **state)
{
    char *path = db_path("scan.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err), *c;
    struct item *a = mk("http://h/a", "a", "h"), *b = mk("http://h/b", "stop", "h");
    struct item *x = mk("http://h/c", "c", "h");
    uint64_t id;
    size_t n = 0;

    (void)state;
    assert_non_null(st);
    assert_int_equal(store_item_insert(st, a, 0, 0, &id, err), 0);
    assert_int_equal(store_item_insert(st, b, 0, 0, &id, err), 0);
    assert_int_equal(store_item_scan(st, false, count_row, &n, err), 0);
    assert_int_equal(n, 2);
    n = 0;
    /* stopped by the callback */
    assert_int_equal(store_item_scan(st, true, count_row, &n, err), 7);
    assert_int_equal(n, 2);
    /* A clone writes; the first connection sees it once committed. */
    c = store_clone(st, err);
    assert_non_null(c);
    assert_int_equal(store_begin(c, err), 0);
    assert_int_equal(store_item_insert(c, x, 0, 0, &id, err), 0);
    assert_int_equal(store_item_find_url(st, "http://h/c", &id, err), 0);
    assert_int_equal(store_begin(st, err), 1);     /* the clone writes: busy, not blocked */
    assert_int_equal(store_commit(c, err), 0);
    assert_int_equal(store_item_find_url(st, "http://h/c", &id, err), 1);
    store_close(c);
    store_ckpt_soon(st);
    store_close(st);
    item_free(a);
    item_free(b);
    item_free(x);
    free(path);
}

/* A session file is input like any other (--session FILE): odd rows give odd items, not crashes. */
static void test_hostile_rows(void **state)
{
    char *path = db_path("hostile.db");
    char err[ERRLEN];
    struct store *st;
    struct item *it;
    uint64_t ids[4];

    (void)state;
    raw(path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value); "
              "INSERT INTO meta VALUES('schema_version', 1); "
              "CREATE TABLE items(id INTEGER PRIMARY KEY, url, mirrors, path, host, headers, algo, "
              "digest, state, attempts, next_try, http_status, error, size, received, etag, "
              "last_modified, sha256, duration_ms, input, line, updated); "
              "INSERT INTO items(id, state, algo, digest, sha256, mirrors, headers) "
              "VALUES(1, 99, 7, x'00', x'0102', '\t\t', '\n');");
    st = store_open(path, err);
    assert_non_null(st);
    it = store_item_load(st, 1, 0, err);
    assert_non_null(it);
    assert_string_equal(it->urls[0], "");
    assert_string_equal(it->path, "");
    assert_int_equal(it->state, ITEM_FAILED);
    assert_int_equal(it->algo, CHECKSUM_NONE);
    assert_false(it->has_sha256);
    item_free(it);
    /* Its indexes are missing: an error, not a crash. */
    assert_int_equal(store_queue_page_ids(st, ITEM_QUEUED, 0, 0, 4, ids, err), -1);
    assert_true(strlen(err) > 0);
    store_close(st);
    free(path);
}

/* A session of version 1 (before segmented downloads) keeps its items and gains the table of
 * ranges; ranges go in and come back by start, are replaced whole, and go with their item. */
static void test_segments(void **state)
{
    char *path = db_path("seg.db");
    char err[ERRLEN];
    struct store *st;
    struct item *it;
    struct seg v[SEGPLAN_MAX], w[SEGPLAN_MAX];
    size_t n;
    uint64_t id;

    (void)state;
    raw(path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value); "
              "INSERT INTO meta VALUES('schema_version', 1); "
              "CREATE TABLE items(id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, "
              "mirrors TEXT, path TEXT NOT NULL UNIQUE, host TEXT NOT NULL, headers TEXT, "
              "algo INTEGER NOT NULL DEFAULT 0, digest BLOB, state INTEGER NOT NULL DEFAULT 0, "
              "attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL DEFAULT 0, "
              "http_status INTEGER NOT NULL DEFAULT 0, error TEXT, size INTEGER NOT NULL "
              "DEFAULT -1, received INTEGER NOT NULL DEFAULT 0, etag TEXT, last_modified TEXT, "
              "sha256 BLOB, duration_ms INTEGER NOT NULL DEFAULT 0, input INTEGER, "
              "line INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0); "
              "CREATE INDEX items_queued ON items(host, id) WHERE state = 0; "
              "CREATE INDEX items_retry ON items(next_try) WHERE state = 2; "
              "CREATE INDEX items_state ON items(state, id); "
              "INSERT INTO items(url, path, host, size, received, etag) "
              "VALUES('http://h/big', 'big', 'h', 1000000, 5000, '\"v1\"');");
    st = store_open(path, err);
    assert_non_null(st);
    it = store_item_load(st, 1, 0, err);
    assert_non_null(it);
    assert_int_equal(it->size, 1000000);
    assert_string_equal(it->etag, "\"v1\"");
    item_free(it);
    assert_int_equal(store_seg_load(st, 1, w, err), 0);          /* none yet */

    n = segplan_split(1000000, 4, 1000, v);
    v[2].done = 777;
    v[3].busy = true;            /* not recorded */
    assert_int_equal(store_begin(st, err), 0);
    assert_int_equal(store_seg_write(st, 1, v, n, err), 0);
    assert_int_equal(store_commit(st, err), 0);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"),
                     STORE_SCHEMA_VERSION);

    st = store_open(path, err);
    assert_non_null(st);
    assert_int_equal(store_seg_load(st, 1, w, err), (int)n);
    assert_int_equal(segplan_check(w, n, 1000000, err), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(w[i].start, v[i].start);
        assert_int_equal(w[i].end, v[i].end);
        assert_int_equal(w[i].done, v[i].done);
        assert_false(w[i].busy);
    }
    /* Replaced whole: a steal changed the plan. */
    v[1].done = 10;
    n = segplan_compact(v, 2);
    assert_int_equal(store_seg_write(st, 1, v, 2, err), 0);
    assert_int_equal(store_seg_load(st, 1, w, err), 2);
    assert_int_equal(w[1].done, 10);
    /* Removing the item removes its ranges. */
    assert_int_equal(store_item_find_url(st, "http://h/big", &id, err), 1);
    assert_int_equal(store_item_delete(st, id, err), 0);
    assert_int_equal(store_seg_load(st, id, w, err), 0);
    store_close(st);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM segments"), 0);
    free(path);
}

/* The file deleted or replaced under a running store: noticed, put back from the open connection
 * (mode 0600, locked, no stale log replayed into it), and the store goes on writing there. */
static void test_relink(void **state)
{
    char *path = db_path("relink.db"), *wal = xasprintf("%s-wal", path);
    char *shm = xasprintf("%s-shm", path), *tmp = xasprintf("%s-new", path);
    char *other = db_path("other.db");
    char err[ERRLEN];
    struct store *st = store_open(path, err), *c, *b;
    struct item *a = mk("http://h/a", "a", "h"), *x = mk("http://h/b", "b", "h");
    struct item *y = mk("http://h/c", "c", "h"), *z = mk("http://h/d", "d", "h");
    uint64_t id;
    FILE *f;

    (void)state;
    assert_non_null(st);
    assert_int_equal(store_item_insert(st, a, 0, 0, &id, err), 0);
    assert_false(store_moved(st));
    /* A clone would go on writing to the old file: not while one is open. */
    c = store_clone(st, err);
    assert_non_null(c);
    unlink(path);
    unlink(wal);
    unlink(shm);
    assert_true(store_moved(st));
    assert_int_equal(store_relink(st, err), 1);
    store_close(c);
    assert_int_equal(store_relink(st, err), 0);
    assert_false(store_moved(st));
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(store_item_insert(st, x, 0, 0, &id, err), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items"), 2);
    b = store_open(path, err);              /* locked again */
    assert_null(b);
    assert_non_null(strstr(err, "in use"));

    /* The database alone: its -wal and -shm stay behind and must not be replayed into the copy. */
    assert_int_equal(store_item_insert(st, y, 0, 0, &id, err), 0);
    /* Pages in the log that the copy (compacted) lays out differently. */
    raw(path, "CREATE TABLE pad(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
              "WHERE i < 400) INSERT INTO pad SELECT randomblob(900) FROM n; "
              "DELETE FROM pad WHERE rowid % 3 <> 0;");
    unlink(path);
    assert_int_equal(access(wal, F_OK), 0);
    assert_int_equal(store_relink(st, err), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pad"), 133);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM pragma_integrity_check WHERE "
                                   "integrity_check = 'ok'"), 1);

    /* Replaced by another file: ours is put back over it. */
    f = fopen(other, "w");
    assert_non_null(f);
    fputs("not a session", f);
    fclose(f);
    assert_int_equal(rename(other, path), 0);
    assert_true(store_moved(st));
    assert_int_equal(store_relink(st, err), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items"), 3);

    /* Another sluice started on the path meanwhile: its session is never overwritten. */
    unlink(path);
    b = store_open(path, err);
    assert_non_null(b);
    assert_int_equal(store_relink(st, err), -1);
    assert_non_null(strstr(err, "another sluice"));
    store_close(b);
    if (store_relink(st, err) != 0)
        fail_msg("%s", err);

    assert_int_equal(store_item_insert(st, z, 0, 0, &id, err), 0);
    store_close(st);
    st = store_open(path, err);
    assert_non_null(st);
    assert_int_equal(store_item_find_url(st, "http://h/d", &id, err), 1);
    assert_int_equal(store_item_find_url(st, "http://h/a", &id, err), 1);
    store_close(st);
    item_free(a);
    item_free(x);
    item_free(y);
    item_free(z);
    free(path);
    free(wal);
    free(shm);
    free(tmp);
    free(other);
}

static void test_temp(void **state)
{
    char err[ERRLEN];
    struct store *st = store_open_temp(err);
    char *path;

    (void)state;
    assert_non_null(st);
    path = xstrdup(store_path(st));
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(mode_of(path), 0600);
    store_close(st);
    assert_int_equal(access(path, F_OK), -1);
    *strrchr(path, '/') = '\0';
    assert_int_equal(access(path, F_OK), -1);      /* its folder too */
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_mode_wal),
        cmocka_unit_test(test_wal_mode),
        cmocka_unit_test(test_existing_file_tightened),
        cmocka_unit_test(test_migrate_v0),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_one_sluice_at_a_time),
        cmocka_unit_test(test_symlink_refused),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_pages_counts),
        cmocka_unit_test(test_retries_by_wall_clock),
        cmocka_unit_test(test_settings_meta_inputs),
        cmocka_unit_test(test_scan_and_clone),
        cmocka_unit_test(test_hostile_rows),
        cmocka_unit_test(test_segments),
        cmocka_unit_test(test_relink),
        cmocka_unit_test(test_temp),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
