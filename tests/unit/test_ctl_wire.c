/* ctl_wire: the attach mode's records (docs/ctl.md#attach-mode) round-trip, hostile strings
 * (blanks, newlines, '%', controls, bytes that are not UTF-8) cross intact, and what is not a
 * record is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/ctl_wire.h"
#include "item.h"
#include "util.h"

static char *line_of(struct sbuf *b)
{
    sbuf_add(b, "", 0);
    return b->s;
}

static void test_stats_round_trip(void **state)
{
    struct engine_stats st = { .total = 1000000, .queued = 999000, .active = 16, .retrying = 3,
                               .paused = 1, .done = 900, .unchanged = 70, .failed = 10,
                               .concurrency = 16, .transfers = 16, .finishing = 2,
                               .rate = 123456, .cap = 1048576, .bytes = 1LL << 40,
                               .elapsed_ms = 3600000, .eta_ms = -1, .eta_mean = -1,
                               .disk_full = true, .session_error = "disk full: /x y",
                               .shard = { 5, 7 }, .group_workers = 3, .group_up = false,
                               .local_cap = 349525 };
    struct engine_stats got;
    struct sbuf b = { 0 };
    char *err;
    bool idle;

    ctl_wire_stats(&b, &st, true);
    assert_null(strchr(b.s, '\n'));
    assert_int_equal(ctl_wire_stats_parse(line_of(&b), &got, &idle, &err), 0);
    assert_true(idle);
    assert_int_equal(got.total, 1000000);
    assert_int_equal(got.active, 16);
    assert_int_equal(got.failed, 10);
    assert_int_equal(got.concurrency, 16);
    assert_int_equal(got.bytes, 1LL << 40);
    assert_int_equal(got.eta_ms, -1);
    assert_true(got.disk_full);
    assert_false(got.paused_all);
    assert_int_equal(got.shard.k, 5);      /* an attached TUI shows the shard too */
    assert_int_equal(got.shard.n, 7);
    assert_int_equal(got.group_workers, 3);    /* and the cap group's state */
    assert_false(got.group_up);
    assert_int_equal(got.local_cap, 349525);
    assert_int_equal(got.sched.source, CAP_FROM_GROUP);   /* "(group)", not "(settings)" */
    assert_string_equal(got.session_error, "disk full: /x y");
    free(err);
    /* a newer sluice's record, with fields this one does not know at its end, still reads */
    b.len = 0;
    ctl_wire_stats(&b, &st, true);
    sbuf_addstr(&b, " 7 =new");
    assert_int_equal(ctl_wire_stats_parse(line_of(&b), &got, &idle, &err), 0);
    assert_int_equal(got.local_cap, 349525);
    assert_string_equal(got.session_error, "disk full: /x y");
    free(err);
    sbuf_free(&b);
    /* Without a group the record says nothing of the source: settings, as before. */
    st.group_workers = 0;
    ctl_wire_stats(&b, &st, false);
    assert_int_equal(ctl_wire_stats_parse(line_of(&b), &got, &idle, &err), 0);
    assert_int_equal(got.sched.source, CAP_FROM_SETTINGS);
    free(err);
    sbuf_free(&b);
}

static void test_item_round_trip(void **state)
{
    char *urls[2] = { "http://***@h/a b", "http://m/%41\n" };
    struct item it = { .id = 42, .urls = urls, .nurls = 2, .path = "dir/a b\t%\x01\xff.bin",
                       .host = "h", .state = ITEM_RETRY, .attempts = 3, .next_try_ms = 10500,
                       .http_status = 503, .error = "HTTP 503\nService", .size = -1,
                       .received = 777, .etag = NULL, .last_modified = "-",
                       .duration_ms = 12, .has_sha256 = true };
    struct engine_xfer_view x = { .bytes = 5, .size = 10, .rate = 2, .throttled = true }, gx;
    struct item got;
    struct sbuf b = { 0 };
    bool has_x;

    for (int i = 0; i < 32; i++)
        it.sha256[i] = (unsigned char)(i * 7);
    ctl_wire_item(&b, &it, 10000, &x, 2);
    assert_null(strchr(b.s, '\n'));
    /* The receiver's clock: a retry due in 500 ms stays due in 500 ms. */
    assert_int_equal(ctl_wire_item_parse(line_of(&b), 2, 20000, &got, &gx, &has_x), 0);
    assert_int_equal(got.id, 42);
    assert_int_equal(got.state, ITEM_RETRY);
    assert_int_equal(got.next_try_ms, 20500);
    assert_int_equal(got.attempts, 3);
    assert_int_equal(got.size, -1);
    assert_int_equal(got.received, 777);
    assert_string_equal(got.path, "dir/a b\t%\x01\xff.bin");
    assert_string_equal(got.error, "HTTP 503\nService");
    assert_null(got.etag);
    assert_string_equal(got.last_modified, "-");
    assert_int_equal(got.nurls, 2);
    assert_string_equal(got.urls[1], "http://m/%41\n");
    assert_true(got.has_sha256);
    assert_memory_equal(got.sha256, it.sha256, 32);
    assert_true(has_x);
    assert_int_equal(gx.bytes, 5);
    assert_true(gx.throttled);
    util_strv_free(got.urls, got.nurls);
    free(got.path);
    free(got.host);
    free(got.error);
    free(got.last_modified);
    sbuf_free(&b);
}

static void test_row_round_trip(void **state)
{
    struct item it = { .id = 9, .state = ITEM_ACTIVE, .attempts = 1, .size = 8000000,
                       .received = 4096, .error = "a b", .path = "never sent" };
    struct engine_xfer_view x = { .bytes = 4096, .size = 8000000, .rate = 20480 }, gx;
    struct item got;
    struct sbuf b = { 0 };
    bool has_x;

    ctl_wire_row(&b, &it, 0, &x, 2);
    assert_null(strstr(b.s, "never sent"));     /* what never changes stays at the client */
    assert_int_equal(ctl_wire_row_parse(line_of(&b), 2, 0, &got, &gx, &has_x), 0);
    assert_int_equal(got.id, 9);
    assert_int_equal(got.state, ITEM_ACTIVE);
    assert_int_equal(got.size, 8000000);
    assert_string_equal(got.error, "a b");
    assert_null(got.path);
    assert_true(has_x);
    assert_int_equal(gx.rate, 20480);
    free(got.error);
    sbuf_free(&b);
    {
        char bad[] = "9 1 1 0 0 8000000 4096 0 - - - - =a extra";

        assert_int_equal(ctl_wire_row_parse(bad, 2, 0, &got, &gx, &has_x), -1);
    }
}

/* Attach 3: a running transfer's connections ride in rows and items (x_conns), a segmented
 * download's ranges in ranges answers; an older layout is read as before. */
static void test_conns_and_ranges(void **state)
{
    char *urls[1] = { "http://h/big" };
    struct item it = { .id = 5, .state = ITEM_ACTIVE, .attempts = 1, .size = 1 << 24,
                       .received = 4096, .path = "big", .host = "h", .urls = urls, .nurls = 1 };
    struct item idle = { .id = 6, .state = ITEM_QUEUED, .path = "q", .urls = urls, .nurls = 1 };
    struct engine_xfer_view x = { .bytes = 4096, .size = 1 << 24, .rate = 900, .conns = 8 }, gx;
    struct engine_range_view r = { .start = 4096, .end = 8192, .done = 100, .rate = 7,
                                   .busy = true }, gr;
    struct item got;
    struct sbuf b = { 0 };
    bool has_x;
    char buf[128];

    ctl_wire_row(&b, &it, 0, &x, 3);
    assert_int_equal(ctl_wire_row_parse(line_of(&b), 3, 0, &got, &gx, &has_x), 0);
    assert_true(has_x);
    assert_int_equal(gx.conns, 8);
    assert_int_equal(gx.rate, 900);
    free(got.error);
    /* A version-3 row is not a version-2 one, nor the other way round. */
    b.len = 0;
    ctl_wire_row(&b, &it, 0, &x, 3);
    assert_int_equal(ctl_wire_row_parse(line_of(&b), 2, 0, &got, &gx, &has_x), -1);
    b.len = 0;
    ctl_wire_row(&b, &it, 0, &x, 2);
    assert_int_equal(ctl_wire_row_parse(line_of(&b), 3, 0, &got, &gx, &has_x), -1);
    /* No transfer: "-" in its place, and a number there without one is refused. */
    b.len = 0;
    ctl_wire_row(&b, &idle, 0, NULL, 3);
    assert_int_equal(ctl_wire_row_parse(line_of(&b), 3, 0, &got, &gx, &has_x), 0);
    assert_false(has_x);
    free(got.error);
    snprintf(buf, sizeof buf, "6 0 0 0 0 0 0 0 - - - - 3 -");
    assert_int_equal(ctl_wire_row_parse(buf, 3, 0, &got, &gx, &has_x), -1);
    snprintf(buf, sizeof buf, "5 1 1 0 0 9 9 0 9 9 9 0 999 -");
    assert_int_equal(ctl_wire_row_parse(buf, 3, 0, &got, &gx, &has_x), -1);
    /* Items: the same field, URLs after it as before. */
    b.len = 0;
    ctl_wire_item(&b, &it, 0, &x, 3);
    assert_int_equal(ctl_wire_item_parse(line_of(&b), 3, 0, &got, &gx, &has_x), 0);
    assert_int_equal(gx.conns, 8);
    assert_string_equal(got.path, "big");
    assert_int_equal(got.nurls, 1);
    assert_string_equal(got.urls[0], "http://h/big");
    util_strv_free(got.urls, got.nurls);
    free(got.path);
    free(got.host);
    b.len = 0;
    ctl_wire_item(&b, &it, 0, &x, 2);
    assert_int_equal(ctl_wire_item_parse(line_of(&b), 2, 0, &got, &gx, &has_x), 0);
    assert_int_equal(gx.conns, 0);          /* not carried: shown as running */
    util_strv_free(got.urls, got.nurls);
    free(got.path);
    free(got.host);
    /* Ranges. */
    b.len = 0;
    ctl_wire_range(&b, &r);
    assert_int_equal(ctl_wire_range_parse(line_of(&b), &gr), 0);
    assert_int_equal(gr.start, 4096);
    assert_int_equal(gr.end, 8192);
    assert_int_equal(gr.done, 100);
    assert_true(gr.busy);
    assert_int_equal(gr.rate, 7);
    {
        static const char *const bad[] = { "", "1 2 0 0", "5 4 0 0 0", "0 10 11 0 0",
                                           "0 10 0 2 0", "0 10 0 0 -1", "0 10 0 0 0 0" };

        for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
            snprintf(buf, sizeof buf, "%s", bad[i]);
            assert_int_equal(ctl_wire_range_parse(buf, &gr), -1);
        }
    }
    sbuf_free(&b);
}

static void test_event_round_trip(void **state)
{
    struct item it = { .id = 7 }, got_it;
    struct engine_event ev = { .kind = EV_FAILED, .item = &it, .http_status = 404,
                               .retry_count = 2, .error = "not found: a\nb" }, got;
    struct sbuf b = { 0 };
    char *text;

    ctl_wire_event(&b, &ev);
    assert_int_equal(ctl_wire_event_parse(line_of(&b), &got, &got_it, &text), 0);
    assert_int_equal(got.kind, EV_FAILED);
    assert_ptr_equal(got.item, &got_it);
    assert_int_equal(got_it.id, 7);
    assert_int_equal(got.http_status, 404);
    assert_string_equal(got.error, "not found: a\nb");
    free(text);
    sbuf_free(&b);
}

/* Wait facts cross as durations: the sender's clock at 1,000,000, the reader's at 50,000; a
 * hold 12 s ahead and a byte 9 s ago on one are 12 s ahead and 9 s ago on the other. */
static void test_wait_round_trip(void **state)
{
    struct wait_facts f = { .state = ITEM_ACTIVE, .throttled = false, .diskwait = true,
                            .last_rx_ms = 991000, .paused_all = true, .disk_full = false,
                            .transfers = 16, .concurrency = 16, .host_active = 1,
                            .host_limit = 1, .host_lowered = true, .host_slow_status = 503,
                            .host_hold_until_ms = 1012000 };
    struct wait_facts g;
    struct sbuf b = { 0 };
    int host;
    bool gone;

    ctl_wire_wait_run(&b, &f);
    memset(&g, 0, sizeof g);
    assert_int_equal(ctl_wire_wait_run_parse(line_of(&b), &g), 0);
    assert_true(g.paused_all);
    assert_false(g.disk_full);
    assert_int_equal(g.transfers, 16);
    assert_int_equal(g.concurrency, 16);

    b.len = 0;
    ctl_wire_wait_host(&b, &f, 1000000, 3);
    assert_string_equal(line_of(&b), "h 1 1 1 503 12000");
    assert_int_equal(ctl_wire_wait_host_parse(b.s, 50000, 3, &g), 0);
    assert_int_equal(g.host_active, 1);
    assert_int_equal(g.host_limit, 1);
    assert_true(g.host_lowered);
    assert_int_equal(g.host_slow_status, 503);
    assert_int_equal(g.host_hold_until_ms, 62000);
    /* A hold that is over is none, on either clock. */
    f.host_hold_until_ms = 999000;
    b.len = 0;
    ctl_wire_wait_host(&b, &f, 1000000, 3);
    assert_int_equal(ctl_wire_wait_host_parse(line_of(&b), 50000, 3, &g), 0);
    assert_int_equal(g.host_hold_until_ms, 0);
    /* Attach 4: a cap group's hold and the host's requests a second when it has none left. */
    f.host_gate_until_ms = 1006000;
    f.host_gate_status = 429;
    f.host_rps = 20;
    f.host_rps_empty = true;
    b.len = 0;
    ctl_wire_wait_host(&b, &f, 1000000, 4);
    assert_string_equal(line_of(&b), "h 1 1 1 503 0 6000 429 20");
    assert_int_equal(ctl_wire_wait_host_parse(b.s, 50000, 4, &g), 0);
    assert_int_equal(g.host_gate_until_ms, 56000);
    assert_int_equal(g.host_gate_status, 429);
    assert_int_equal(g.host_rps, 20);
    assert_true(g.host_rps_empty);
    /* ... which an attach 3 record has not, and a reader of 3 does not take. */
    assert_int_equal(ctl_wire_wait_host_parse(line_of(&b), 50000, 3, &g), -1);
    b.len = 0;
    f.host_rps_empty = false;               /* a token in hand: nothing to say */
    ctl_wire_wait_host(&b, &f, 1000000, 4);
    assert_string_equal(line_of(&b), "h 1 1 1 503 0 6000 429 0");
    assert_int_equal(ctl_wire_wait_host_parse(b.s, 50000, 4, &g), 0);
    assert_false(g.host_rps_empty);
    f.host_gate_until_ms = 0;
    f.host_gate_status = 0;
    f.host_rps = 0;

    b.len = 0;
    ctl_wire_wait(&b, 3, &f, 1000000);
    assert_string_equal(line_of(&b), "3 2 9000");
    assert_int_equal(ctl_wire_wait_parse(b.s, 50000, &host, &gone, &g), 0);
    assert_int_equal(host, 3);
    assert_false(gone);
    assert_false(g.throttled);
    assert_true(g.diskwait);
    assert_int_equal(g.last_rx_ms, 41000);
    /* Not running: only its host; no host: "-". */
    f.state = ITEM_QUEUED;
    b.len = 0;
    ctl_wire_wait(&b, -1, &f, 1000000);
    assert_string_equal(line_of(&b), "-");
    g.diskwait = true;
    assert_int_equal(ctl_wire_wait_parse(b.s, 50000, &host, &gone, &g), 0);
    assert_int_equal(host, -1);
    assert_false(g.diskwait);
    assert_int_equal(g.last_rx_ms, 0);
    /* Running, nothing received yet. */
    f.state = ITEM_ACTIVE;
    f.last_rx_ms = 0;
    f.throttled = true;
    f.diskwait = false;
    b.len = 0;
    ctl_wire_wait(&b, 0, &f, 1000000);
    assert_string_equal(line_of(&b), "0 1 -1");
    assert_int_equal(ctl_wire_wait_parse(b.s, 50000, &host, &gone, &g), 0);
    assert_true(g.throttled);
    assert_int_equal(g.last_rx_ms, 0);
    snprintf(b.s, b.len + 1, "x");
    assert_int_equal(ctl_wire_wait_parse(b.s, 50000, &host, &gone, &g), 0);
    assert_true(gone);
    sbuf_free(&b);
}

static void test_host_round_trip(void **state)
{
    struct engine_host_view h = { .name = "a b%\n:8080", .active = 2, .limit = 4,
                                  .lowered = true, .slow_status = 429,
                                  .hold_until_ms = 1030000, .n429 = 7, .n503 = 1, .done = 120,
                                  .failed = 3, .rate = 5000000, .queued = 4096,
                                  .queued_more = true };
    struct engine_host_view g;
    struct sbuf b = { 0 };

    ctl_wire_host(&b, &h, 1000000, 3);
    assert_null(strchr(b.s, '\n'));
    assert_int_equal(ctl_wire_host_parse(line_of(&b), 7000, 3, &g), 0);
    assert_string_equal(g.name, "a b%\n:8080");
    assert_int_equal(g.active, 2);
    assert_int_equal(g.limit, 4);
    assert_true(g.lowered);
    assert_int_equal(g.slow_status, 429);
    assert_int_equal(g.hold_until_ms, 37000);
    assert_int_equal(g.n429, 7);
    assert_int_equal(g.n503, 1);
    assert_int_equal(g.done, 120);
    assert_int_equal(g.failed, 3);
    assert_int_equal(g.rate, 5000000);
    assert_int_equal(g.queued, 4096);
    assert_true(g.queued_more);
    /* Attach 4: a cap group's hold and the host's requests a second. */
    h.gate_until_ms = 1008000;
    h.gate_status = 429;
    h.rps = 20;
    b.len = 0;
    ctl_wire_host(&b, &h, 1000000, 4);
    assert_non_null(strstr(line_of(&b), " 8000 429 20"));
    assert_int_equal(ctl_wire_host_parse(b.s, 7000, 4, &g), 0);
    assert_int_equal(g.gate_until_ms, 15000);
    assert_int_equal(g.gate_status, 429);
    assert_int_equal(g.rps, 20);
    assert_int_equal(g.queued, 4096);
    b.len = 0;
    ctl_wire_host(&b, &h, 1000000, 4);
    assert_int_equal(ctl_wire_host_parse(line_of(&b), 7000, 3, &g), -1);   /* not a 3 record */
    sbuf_free(&b);
}

static void test_refused(void **state)
{
    static const char *const items[] = {
        "",
        "0 1 0 0 0 -1 0 0 - - - - - =a - - - - =u",             /* id 0 */
        "1 7 0 0 0 -1 0 0 - - - - - =a - - - - =u",             /* no such state */
        "1 1 0 0 0 -1 0 0 - - - - - =a - - - -",                /* no URL */
        "1 1 0 0 0 -1 0 0 - - - - - - - - - - =u",              /* no path */
        "1 1 0 0 0 -1 0 0 - - - - - =a%0 - - - - =u",           /* cut escape */
        "1 1 0 0 0 -1 0 0 - - - - - =a%00 - - - - =u",          /* NUL */
        "1 1 0 0 0 -1 0 0 abc - - - - =a - - - - =u",           /* short digest */
        "1 1 0 0 0 -1 0 0 - 1 - - - =a - - - - =u",             /* half a view */
        "1 1 0 0 0 -1 0 0 - - - - - a - - - - =u",              /* no '=' */
        "1 1 x 0 0 -1 0 0 - - - - - =a - - - - =u",
        "1 1 0 0 0 -1 0 99999999999999999999 - - - - - =a - - - - =u",
    };
    struct item it;
    struct engine_xfer_view x;
    struct engine_stats st;
    struct engine_event ev;
    char buf[256], *text;
    bool has_x, idle;

    for (size_t i = 0; i < ARRAY_LEN(items); i++) {
        snprintf(buf, sizeof buf, "%s", items[i]);
        assert_int_equal(ctl_wire_item_parse(buf, 2, 0, &it, &x, &has_x), -1);
    }
    snprintf(buf, sizeof buf, "1 2 3");
    assert_int_equal(ctl_wire_stats_parse(buf, &st, &idle, &text), -1);
    snprintf(buf, sizeof buf, "99 1 0 0 0 0 0 -");
    assert_int_equal(ctl_wire_event_parse(buf, &ev, &it, &text), -1);
    {
        static const char *const runs[] = { "", "0 0 1", "2 0 1 1", "0 0 -1 1", "0 0 1 1 1" };
        static const char *const hosts[] = {
            "", "1 1 1 503 0", "h 1 1 1 503", "h 1 1 2 503 0", "h 1 1 1 1000 0",
            "h -1 1 1 503 0", "h 1 1 1 503 -5", "h 1 1 1 503 0 9",
        };
        static const char *const waits[] = {
            "", "256", "-1", "0 1", "0 4 10", "0 1 -2", "0 1 10 5", "y", "x 1", "0 1 1.5",
        };
        static const char *const views[] = {
            "", "- 1 1 0 0 0 0 0 0 0 0 0 0", "= 1 1 0 0 0 0 0 0 0 0 0 0",
            "=h 1 1 0 0 0 0 0 0 0 0 0", "=h 1 1 2 0 0 0 0 0 0 0 0 0",
            "=h 1 1 0 0 0 0 0 0 0 -1 0 0", "=h 1 1 0 0 0 0 0 0 0 0 0 2",
            "=" "0123456789012345678901234567890123456789012345678901234567890123456789"
            "0123456789012345678901234567890123456789012345678901234567 1 1 0 0 0 0 0 0 0 0 0 0",
        };
        struct wait_facts f;
        struct engine_host_view h;
        int host;
        bool gone;
        char big[512];

        for (size_t i = 0; i < ARRAY_LEN(runs); i++) {
            snprintf(buf, sizeof buf, "%s", runs[i]);
            assert_int_equal(ctl_wire_wait_run_parse(buf, &f), -1);
        }
        for (size_t i = 0; i < ARRAY_LEN(hosts); i++) {
            snprintf(buf, sizeof buf, "%s", hosts[i]);
            assert_int_equal(ctl_wire_wait_host_parse(buf, 0, 3, &f), -1);
        }
        {
            static const char *const hosts4[] = {
                "h 1 1 1 503 0", "h 1 1 1 503 0 0 0", "h 1 1 1 503 0 -1 429 0",
                "h 1 1 1 503 0 0 1000 0", "h 1 1 1 503 0 0 429 -3", "h 1 1 1 503 0 0 429 0 1",
            };

            for (size_t i = 0; i < ARRAY_LEN(hosts4); i++) {
                snprintf(buf, sizeof buf, "%s", hosts4[i]);
                assert_int_equal(ctl_wire_wait_host_parse(buf, 0, 4, &f), -1);
            }
        }
        for (size_t i = 0; i < ARRAY_LEN(waits); i++) {
            snprintf(buf, sizeof buf, "%s", waits[i]);
            assert_int_equal(ctl_wire_wait_parse(buf, 0, &host, &gone, &f), -1);
        }
        for (size_t i = 0; i < ARRAY_LEN(views); i++) {
            snprintf(big, sizeof big, "%s", views[i]);
            assert_int_equal(ctl_wire_host_parse(big, 0, 3, &h), -1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_round_trip),
        cmocka_unit_test(test_item_round_trip),
        cmocka_unit_test(test_row_round_trip),
        cmocka_unit_test(test_conns_and_ranges),
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_wait_round_trip),
        cmocka_unit_test(test_host_round_trip),
        cmocka_unit_test(test_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
