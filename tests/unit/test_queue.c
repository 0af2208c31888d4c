/* The queue on its session: hosts take turns, state survives a reopen and a kill -9, memory stays
 * bounded with the queue's length, retries come back by wall-clock time, pages read the index and
 * show live copies, settings are kept. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "item.h"
#include "loop.h"
#include "queue.h"
#include "store.h"
#include "../../src/store_impl.h"   /* store_exec: PRAGMA query_only stands in for a failing disk */
#include "store_item.h"
#include "store_meta.h"
#include "util.h"

static char dir[] = "/tmp/sluice-test-queue-XXXXXX";

static char *db_path(const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static char *raw_text(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    char *v = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
        v = xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static struct item *mk(int n, const char *host)
{
    struct item *it = xcalloc(1, sizeof *it);

    it->urls = xcalloc(1, sizeof *it->urls);
    it->urls[0] = xasprintf("http://%s/f%d", host, n);
    it->nurls = 1;
    it->path = xasprintf("%s/f%d", host, n);
    it->host = xstrdup(host);
    it->size = -1;
    it->state = ITEM_QUEUED;
    return it;
}

static void add(struct queue *q, int n, const char *host)
{
    char err[ERRLEN];
    struct item *it = mk(n, host);

    if (queue_add(q, it, err) < 0) {
        item_free(it);
        fail_msg("queue_add: %s", err);
    }
}

/* Stores n queued items the way the intake writer does: another connection, then announced. */
static void bulk(struct queue *q, int first, int n, int nhosts)
{
    char err[ERRLEN], host[16];
    struct store *c = store_clone(queue_store(q), err);
    uint64_t id;

    assert_non_null(c);
    queue_expect(q, (size_t)n);
    assert_int_equal(store_begin(c, err), 0);
    for (int i = first; i < first + n; i++) {
        struct item *it;

        snprintf(host, sizeof host, "h%d", i % nhosts);
        it = mk(i, host);
        assert_int_equal(store_item_insert(c, it, 0, 0, &id, err), 0);
        item_free(it);
    }
    assert_int_equal(store_commit(c, err), 0);
    store_close(c);
    queue_rows_committed(q, 0);
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

static bool not_b(const char *host, void *arg)
{
    (void)arg;
    return strcmp(host, "b") != 0;
}

static void test_hosts_take_turns(void **state)
{
    struct queue *q = queue_new();
    const char *seen[6];
    struct item *it;

    (void)state;
    add(q, 1, "a");
    add(q, 2, "a");
    add(q, 3, "a");
    add(q, 4, "b");
    add(q, 5, "b");
    add(q, 6, "c");
    assert_int_equal(queue_count(q, ITEM_QUEUED), 6);
    assert_int_equal(queue_total(q), 6);
    /* A host that may not start is skipped, its items stay. */
    it = queue_next(q, not_b, NULL);
    assert_non_null(it);
    assert_string_not_equal(it->host, "b");
    for (int i = 0; i < 6; i++) {
        it = queue_next(q, NULL, NULL);
        assert_non_null(it);
        assert_int_equal(it->state, ITEM_QUEUED);
        seen[i] = it->host;
        queue_set_state(q, it, ITEM_ACTIVE);
    }
    assert_null(queue_next(q, NULL, NULL));
    /* The first three are three different hosts. */
    assert_string_not_equal(seen[0], seen[1]);
    assert_string_not_equal(seen[1], seen[2]);
    assert_string_not_equal(seen[0], seen[2]);
    assert_int_equal(queue_count(q, ITEM_ACTIVE), 6);
    assert_int_equal(queue_count(q, ITEM_QUEUED), 0);
    queue_free(q);
}

static void test_reopen_restores(void **state)
{
    char *path = db_path("reopen.db");
    char err[ERRLEN];
    struct queue *q = queue_open(path, err);
    struct item *it;
    int64_t now = mono_ms(), due;

    (void)state;
    assert_non_null(q);
    for (int i = 1; i <= 5; i++)
        add(q, i, "h");
    it = queue_get(q, 1);
    queue_set_state(q, it, ITEM_DONE);
    it = queue_get(q, 2);
    item_set_error(it, "HTTP 404");
    it->attempts = 1;
    it->http_status = 404;
    queue_touch(q, it);
    queue_set_state(q, it, ITEM_FAILED);
    it = queue_get(q, 3);
    it->next_try_ms = now + 100000;
    it->etag = xstrdup("\"v1\"");
    it->received = 4096;
    queue_touch(q, it);
    queue_set_state(q, it, ITEM_RETRY);
    it = queue_get(q, 4);
    queue_set_state(q, it, ITEM_ACTIVE);
    assert_int_equal(queue_flush(q), 0);
    queue_free(q);

    q = queue_open(path, err);
    assert_non_null(q);
    assert_false(queue_created(q));
    assert_int_equal(queue_count(q, ITEM_DONE), 1);
    assert_int_equal(queue_count(q, ITEM_FAILED), 1);
    assert_int_equal(queue_count(q, ITEM_RETRY), 1);
    assert_int_equal(queue_count(q, ITEM_ACTIVE), 0);     /* a dead run's transfer... */
    assert_int_equal(queue_count(q, ITEM_QUEUED), 2);     /* ...is queued again */
    it = queue_get(q, 2);
    assert_string_equal(it->error, "HTTP 404");
    assert_int_equal(it->http_status, 404);
    it = queue_get(q, 3);
    assert_string_equal(it->etag, "\"v1\"");
    assert_int_equal(it->received, 4096);
    /* The remaining wait comes back (wall clock), give or take the time the test took. */
    due = queue_next_due(q);
    assert_true(due > mono_ms() + 50000);
    assert_true(due <= now + 100000 + 5000);
    assert_int_equal(queue_get(q, 4)->state, ITEM_QUEUED);
    /* ...and remembered as cut short, so its .part is looked at (its tag may vouch for it). */
    assert_true(queue_was_active(q, 4));
    assert_false(queue_was_active(q, 4));     /* once */
    assert_false(queue_was_active(q, 3));
    assert_false(queue_was_active(q, 1));
    assert_null(queue_get(q, 99));
    queue_free(q);
    free(path);
}

/* kill -9 at any moment: the file is consistent, flushed changes are there, others are not,
 * transfers in flight are queued again. */
static void test_crash(void **state)
{
    char *path = db_path("crash.db");
    char err[ERRLEN], *check;
    struct queue *q;
    pid_t pid;
    int status;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *st;
        uint64_t id;

        q = queue_open(path, err);
        if (q == NULL)
            _exit(1);
        bulk(q, 1, 100, 3);
        for (int i = 1; i <= 10; i++)
            queue_set_state(q, queue_get(q, (uint64_t)i), ITEM_DONE);
        queue_flush(q);
        for (int i = 11; i <= 15; i++)
            queue_set_state(q, queue_get(q, (uint64_t)i), ITEM_ACTIVE);
        queue_flush(q);
        for (int i = 16; i <= 35; i++)               /* never written */
            queue_set_state(q, queue_get(q, (uint64_t)i), ITEM_DONE);
        /* And a transaction in the middle of its writes. */
        st = queue_store(q);
        store_begin(st, err);
        for (int i = 1000; i < 1100; i++) {
            struct item *it = mk(i, "x");

            store_item_insert(st, it, 0, 0, &id, err);
            item_free(it);
        }
        raise(SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    q = queue_open(path, err);
    assert_non_null(q);
    assert_int_equal(queue_count(q, ITEM_DONE), 10);
    assert_int_equal(queue_count(q, ITEM_ACTIVE), 0);
    assert_int_equal(queue_count(q, ITEM_QUEUED), 90);
    assert_int_equal(queue_total(q), 100);
    assert_int_equal(queue_get(q, 12)->state, ITEM_QUEUED);
    assert_int_equal(queue_get(q, 20)->state, ITEM_QUEUED);
    queue_free(q);
    check = raw_text(path, "PRAGMA integrity_check");
    assert_string_equal(check, "ok");
    free(check);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items WHERE host = 'x'"), 0);
    free(path);
}

static void test_flush_1000(void **state)
{
    struct queue *q = queue_new();
    const char *path = store_path(queue_store(q));
    int64_t t0, t1;

    (void)state;
    bulk(q, 1, 5000, 4);
    for (int i = 1; i <= 1000; i++) {
        struct item *it = queue_get(q, (uint64_t)(i * 5));

        assert_non_null(it);
        it->attempts = 1;
        it->size = it->received = 1000 + i;
        it->etag = xasprintf("\"e%d\"", i);
        it->http_status = 200;
        queue_touch(q, it);
        queue_set_state(q, it, ITEM_DONE);
    }
    assert_int_equal(queue_count(q, ITEM_DONE), 1000);
    t0 = mono_ms();
    assert_int_equal(queue_flush(q), 0);
    t1 = mono_ms();
    print_message("# flush of 1000 dirty items: %lld ms (first call)\n", (long long)(t1 - t0));
    /* Handed out by queue_get since the last flush: kept through this one. */
    assert_true(queue_cached(q) >= 1000);
    /* A write stops at its time budget (slow builds); the rest goes with the next flushes. */
    for (int i = 0; i < 100 && raw_int(path, "SELECT count(*) FROM items WHERE state = 4") < 1000; i++)
        assert_int_equal(queue_flush(q), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items WHERE state = 4 AND etag IS NOT NULL"),
                     1000);
    assert_int_equal(raw_int(path, "SELECT received FROM items WHERE id = 5000"), 2000);
    /* Written and not handed out again: let go. */
    assert_int_equal(queue_flush(q), 0);
    assert_true(queue_cached(q) < 100);
    queue_free(q);
}

static void test_memory_bounded(void **state)
{
    struct queue *q = queue_new();
    struct item *page[50];
    size_t peak = 0, n;

    (void)state;
    bulk(q, 1, 20000, 2);
    assert_int_equal(queue_count(q, ITEM_QUEUED), 20000);
    for (int i = 0; i < 1000; i++) {
        struct item *it = queue_next(q, NULL, NULL);

        assert_non_null(it);
        queue_set_state(q, it, ITEM_ACTIVE);
        it->received = 10;
        queue_touch(q, it);
        queue_set_state(q, it, ITEM_DONE);
        if (queue_cached(q) > peak)
            peak = queue_cached(q);
        if (i % 50 == 49)
            queue_flush(q);
    }
    queue_flush(q);
    print_message("# 20000 queued, 1000 done: at most %zu items in memory\n", peak);
    assert_true(peak < 400);
    assert_int_equal(queue_count(q, ITEM_DONE), 1000);
    assert_int_equal(queue_count(q, ITEM_QUEUED), 19000);
    /* Hosts took turns, in input order: the first 1000 ids are the done ones. */
    n = queue_page(q, ITEM_DONE, 0, 50, page);
    assert_int_equal(n, 50);
    assert_int_equal(page[0]->id, 1);
    assert_int_equal(page[49]->id, 50);
    n = queue_page(q, ITEM_QUEUED, 10000, 50, page);
    assert_int_equal(n, 50);
    assert_int_equal(page[0]->id, 11001);
    assert_int_equal(page[0]->state, ITEM_QUEUED);
    n = queue_page(q, -1, 19990, 50, page);
    assert_int_equal(n, 10);
    assert_int_equal(page[9]->id, 20000);
    queue_flush(q);
    queue_flush(q);
    assert_true(queue_cached(q) < 400);
    queue_free(q);
}

static void test_retry_promote(void **state)
{
    struct queue *q = queue_new();
    struct item *it;
    uint64_t id;

    (void)state;
    for (int i = 1; i <= 200; i++)
        add(q, i, "h");
    it = queue_next(q, NULL, NULL);
    id = it->id;
    queue_set_state(q, it, ITEM_ACTIVE);
    /* A retry still in memory whose wait has passed starts before the fresh items of its host,
     * and stays a retry until it starts (docs/design.md#retries-and-backoff). */
    it->next_try_ms = mono_ms() - 1;
    queue_set_state(q, it, ITEM_RETRY);
    assert_true(queue_next_due(q) <= mono_ms());
    queue_promote_due(q, mono_ms());
    assert_int_equal(queue_count(q, ITEM_RETRY), 1);
    assert_int_equal(queue_next_due(q), -1);
    it = queue_next(q, NULL, NULL);
    assert_int_equal(it->id, id);
    assert_int_equal(it->state, ITEM_RETRY);

    /* One only in the session (written, let go) comes back to the front too, not behind the
     * window of fresh items read ahead for its host (the starvation of issue 11). */
    queue_set_state(q, it, ITEM_ACTIVE);
    it->next_try_ms = mono_ms() + 50;
    queue_set_state(q, it, ITEM_RETRY);
    for (int i = 0; i < 4; i++)
        queue_flush(q);
    assert_int_equal(queue_count(q, ITEM_RETRY), 1);
    queue_promote_due(q, mono_ms());
    assert_int_equal(queue_count(q, ITEM_RETRY), 1);     /* not due yet */
    assert_true(queue_next_due(q) > 0);
    queue_promote_due(q, mono_ms() + 100);
    assert_int_equal(queue_count(q, ITEM_RETRY), 1);     /* due, still a retry */
    assert_int_equal(queue_next_due(q), -1);
    it = queue_next(q, NULL, NULL);
    assert_non_null(it);
    assert_int_equal(it->id, id);
    queue_set_state(q, it, ITEM_ACTIVE);
    assert_int_equal(queue_count(q, ITEM_RETRY), 0);
    it = queue_next(q, NULL, NULL);
    assert_non_null(it);
    assert_int_equal(it->id, 2);
    queue_free(q);
}

static void test_page_live_copy(void **state)
{
    struct queue *q = queue_new();
    struct item *it, *page[4];

    (void)state;
    add(q, 1, "h");
    add(q, 2, "h");
    it = queue_next(q, NULL, NULL);
    queue_set_state(q, it, ITEM_ACTIVE);
    it->received = 1234;                 /* not touched: a live value only */
    assert_int_equal(queue_page(q, ITEM_ACTIVE, 0, 4, page), 1);
    assert_ptr_equal(page[0], it);
    assert_int_equal(page[0]->received, 1234);
    assert_int_equal(queue_page(q, ITEM_QUEUED, 0, 4, page), 1);
    assert_int_equal(page[0]->id, 2);
    assert_int_equal(queue_page(q, -1, 0, 4, page), 2);
    assert_int_equal(queue_page(q, ITEM_DONE, 0, 4, page), 0);
    queue_free(q);
}

/* Pages count from where a recent page began, and stay exact while items move before it. */
static void test_page_anchors(void **state)
{
    struct queue *q = queue_new();
    struct item *page[10];
    char err[ERRLEN];

    (void)state;
    bulk(q, 1, 1000, 1);
    assert_int_equal(queue_page(q, ITEM_QUEUED, 500, 10, page), 10);
    assert_int_equal(page[0]->id, 501);
    for (int i = 0; i < 100; i++)                  /* ids 1..100 leave the queued state */
        queue_set_state(q, queue_next(q, NULL, NULL), ITEM_ACTIVE);
    assert_int_equal(queue_page(q, ITEM_QUEUED, 500, 10, page), 10);
    assert_int_equal(page[0]->id, 601);
    assert_int_equal(page[9]->id, 610);
    queue_set_state(q, queue_get(q, 700), ITEM_PAUSED);
    assert_int_equal(queue_page(q, ITEM_QUEUED, 597, 3, page), 3);
    assert_int_equal(page[0]->id, 698);
    assert_int_equal(page[1]->id, 699);
    assert_int_equal(page[2]->id, 701);
    queue_set_state(q, queue_get(q, 601), ITEM_DONE);     /* an anchor's own row */
    assert_int_equal(queue_page(q, ITEM_QUEUED, 500, 1, page), 1);
    assert_int_equal(page[0]->id, 602);
    queue_set_state(q, queue_get(q, 50), ITEM_QUEUED);    /* back before the anchor */
    assert_int_equal(queue_page(q, ITEM_QUEUED, 500, 1, page), 1);
    assert_int_equal(page[0]->id, 600);      /* queued: 50, 101..600, 602..: offset 500 is 600 */
    assert_int_equal(queue_page(q, ITEM_PAUSED, 0, 10, page), 1);
    /* Any state, with a hole. */
    assert_int_equal(queue_page(q, -1, 10, 1, page), 1);
    assert_int_equal(page[0]->id, 11);
    assert_int_equal(queue_remove(q, queue_get(q, 700), err), 0);
    queue_set_state(q, queue_get(q, 3), ITEM_DONE);
    assert_int_equal(queue_remove(q, queue_get(q, 3), err), 0);
    assert_int_equal(queue_page(q, -1, 10, 1, page), 1);
    assert_int_equal(page[0]->id, 12);
    assert_int_equal(queue_page(q, -1, 997, 5, page), 1);
    assert_int_equal(page[0]->id, 1000);
    queue_free(q);
}

static void test_add_conflicts(void **state)
{
    struct queue *q = queue_new();
    struct item *dup = mk(1, "h"), *same_path = mk(2, "h");
    char err[ERRLEN];

    (void)state;
    add(q, 1, "h");
    assert_int_equal(queue_add(q, dup, err), -1);
    assert_non_null(strstr(err, "already in the session"));
    free(same_path->path);
    same_path->path = xstrdup("h/f1");
    assert_int_equal(queue_add(q, same_path, err), -1);
    assert_non_null(strstr(err, "target of item 1"));
    assert_int_equal(queue_total(q), 1);
    item_free(dup);
    item_free(same_path);
    queue_free(q);
}

static void test_remove_and_requeue(void **state)
{
    struct queue *q = queue_new();
    struct item *it, *page[8];
    char err[ERRLEN];

    (void)state;
    for (int i = 1; i <= 6; i++)
        add(q, i, "h");
    it = queue_get(q, 3);
    assert_int_equal(queue_remove(q, it, err), 0);
    assert_int_equal(queue_total(q), 5);
    queue_flush(q);
    assert_null(queue_get(q, 3));
    assert_int_equal(queue_page(q, -1, 2, 8, page), 3);
    assert_int_equal(page[0]->id, 4);
    /* Failed items, one in memory and one only in the session, come back in bulk. */
    for (int i = 0; i < 2; i++) {
        it = queue_next(q, NULL, NULL);
        queue_set_state(q, it, ITEM_ACTIVE);
        it->attempts = 6;
        item_set_error(it, "HTTP 500");
        queue_touch(q, it);
        queue_set_state(q, it, ITEM_FAILED);
        if (i == 0) {
            queue_flush(q);
            queue_flush(q);
        }
    }
    assert_int_equal(queue_count(q, ITEM_FAILED), 2);
    assert_int_equal(queue_requeue_failed(q), 2);
    assert_int_equal(queue_count(q, ITEM_FAILED), 0);
    assert_int_equal(queue_count(q, ITEM_QUEUED), 5);
    it = queue_get(q, 1);
    assert_int_equal(it->state, ITEM_QUEUED);
    assert_int_equal(it->attempts, 0);
    assert_null(it->error);
    for (int i = 0; i < 5; i++) {
        it = queue_next(q, NULL, NULL);
        assert_non_null(it);
        queue_set_state(q, it, ITEM_PAUSED);
    }
    assert_null(queue_next(q, NULL, NULL));
    assert_int_equal(queue_resume_paused(q), 5);
    assert_non_null(queue_next(q, NULL, NULL));
    queue_free(q);
}

static void test_settings(void **state)
{
    char *path = db_path("settings.db");
    char err[ERRLEN];
    struct queue *q = queue_open(path, err);
    int64_t v = 0;

    (void)state;
    assert_non_null(q);
    assert_int_equal(queue_setting_get(q, "rate", &v), 0);
    assert_int_equal(queue_setting_set(q, "rate", 5 << 20), 0);
    assert_int_equal(queue_setting_set(q, "concurrency", 3), 0);
    assert_int_equal(queue_setting_get(q, "rate", &v), 1);
    assert_int_equal(v, 5 << 20);
    queue_free(q);
    q = queue_open(path, err);
    assert_int_equal(queue_setting_get(q, "concurrency", &v), 1);
    assert_int_equal(v, 3);
    assert_int_equal(store_meta_setting_set(queue_store(q), "burst", "lots", err), 0);
    assert_int_equal(queue_setting_get(q, "burst", &v), 0);     /* garbage reads as unset */
    queue_free(q);
    free(path);
}

/* A session that cannot be written (query_only stands in for a full or read-only disk): every
 * write says so instead of claiming success, nothing pending is dropped, all of it goes in once
 * the session can be written again, and a close that still fails says what was not saved. */
static void test_write_errors(void **state)
{
    char *path = db_path("errors.db");
    char err[ERRLEN];
    struct queue *q = queue_open(path, err);
    struct item *it;
    int64_t v = 0;

    (void)state;
    assert_non_null(q);
    for (int i = 1; i <= 3; i++)
        add(q, i, "h");
    for (int i = 0; i < 2; i++) {
        it = queue_next(q, NULL, NULL);
        queue_set_state(q, it, ITEM_ACTIVE);
        queue_set_state(q, it, ITEM_FAILED);
    }
    assert_int_equal(store_exec(queue_store(q), "PRAGMA query_only = 1", err), 0);
    assert_int_equal(queue_flush(q), -1);
    assert_non_null(queue_error(q));
    assert_int_equal(queue_setting_set(q, "rate", 7), -1);
    /* Not 0 ("no failed items"): nothing could be done. */
    assert_int_equal(queue_requeue_failed(q), -1);
    assert_int_equal(queue_count(q, ITEM_FAILED), 2);

    assert_int_equal(store_exec(queue_store(q), "PRAGMA query_only = 0", err), 0);
    assert_int_equal(queue_flush(q), 0);
    assert_null(queue_error(q));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM items WHERE state = 6"), 2);
    assert_int_equal(queue_requeue_failed(q), 2);

    it = queue_next(q, NULL, NULL);
    queue_set_state(q, it, ITEM_ACTIVE);
    queue_set_state(q, it, ITEM_DONE);
    assert_int_equal(store_exec(queue_store(q), "PRAGMA query_only = 1", err), 0);
    assert_int_equal(queue_close(q, err), -1);
    assert_non_null(strstr(err, "not saved: 1 item change, 0 settings"));

    q = queue_open(path, err);
    assert_non_null(q);
    assert_int_equal(queue_setting_get(q, "rate", &v), 1);      /* retried by the flush */
    assert_int_equal(v, 7);
    assert_int_equal(queue_count(q, ITEM_DONE), 0);
    assert_int_equal(queue_close(q, err), 0);
    free(path);
}

static int wakes;

static void on_wake(void *arg)
{
    (void)arg;
    wakes++;
}

static void *committer(void *arg)
{
    queue_rows_committed(arg, 0);
    return NULL;
}

/* With a loop: a completion is written on the next turn, another thread's commit wakes it. */
static void test_loop(void **state)
{
    struct queue *q = queue_new();
    struct loop *l = loop_new();
    const char *path = store_path(queue_store(q));
    struct item *it;
    pthread_t t;

    (void)state;
    queue_attach_loop(q, l, on_wake, NULL);
    add(q, 1, "h");
    it = queue_next(q, NULL, NULL);
    queue_set_state(q, it, ITEM_ACTIVE);
    queue_set_state(q, it, ITEM_DONE);
    assert_int_equal(raw_int(path, "SELECT state FROM items WHERE id = 1"), ITEM_QUEUED);
    loop_run_once(l, 1000);
    assert_int_equal(raw_int(path, "SELECT state FROM items WHERE id = 1"), ITEM_DONE);
    assert_int_equal(pthread_create(&t, NULL, committer, q), 0);
    pthread_join(t, NULL);
    loop_run_once(l, 1000);
    assert_int_equal(wakes, 1);
    queue_detach_loop(q);
    loop_free(l);
    queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hosts_take_turns),
        cmocka_unit_test(test_reopen_restores),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_flush_1000),
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_retry_promote),
        cmocka_unit_test(test_page_live_copy),
        cmocka_unit_test(test_page_anchors),
        cmocka_unit_test(test_add_conflicts),
        cmocka_unit_test(test_remove_and_requeue),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_loop),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
