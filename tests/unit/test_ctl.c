/* ctl: request words, the command table against a fake engine, the status and metrics renderings,
 * the socket server on a real event loop (partial lines, EOF, oversized and silent clients, stale
 * and live sockets), and the client. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "urlpath.h"
/* Private to their subsystem, so beside its sources (docs/design.md#subsystems). */
#include "../../src/ctl_client.h"
#include "../../src/ctl_cmd.h"
#include "engine.h"
#include "wait.h"
#include "loop.h"
#include "queue.h"
#include "util.h"

/* ---- a fake engine: the commands' only way out ---- */

static struct {
    int calls;                      /* any setter */
    int64_t rate, burst;
    int concurrency;
    int pause_all, resume_all;
    uint64_t paused, resumed, requeued;
    size_t failed;
    char added_out;
    struct engine_stats st;
    struct sched_point sched[8];
    size_t nsched;
    int sched_set;
    int where_status;
    char where_host[64];
    struct loop *loop;              /* the server's: the engine's clock is its loop's */
} fk;

static void fake_reset(void)
{
    memset(&fk, 0, sizeof fk);
    fk.concurrency = 8;
    fk.failed = 3;
}

void engine_stats(struct engine *e, struct engine_stats *st)
{
    *st = fk.st;
}

void engine_set_rate(struct engine *e, int64_t rate, int64_t burst)
{
    fk.calls++;
    fk.rate = rate;
    fk.burst = burst;
}

int64_t engine_rate(const struct engine *e)
{
    return fk.rate;
}

const struct sched_point *engine_schedule(const struct engine *e, size_t *n)
{
    *n = fk.nsched;
    return fk.sched;
}

void engine_set_schedule(struct engine *e, const struct sched_point *p, size_t n)
{
    fk.calls++;
    fk.sched_set++;
    fk.nsched = n < 8 ? n : 8;
    if (fk.nsched > 0)
        memcpy(fk.sched, p, fk.nsched * sizeof *p);
}

void engine_set_concurrency(struct engine *e, int n)
{
    fk.calls++;
    fk.concurrency = n;
}

int engine_concurrency(const struct engine *e)
{
    return fk.concurrency;
}

static int fake_item(uint64_t id, char *err)
{
    if (id == 99)
        return errf(err, "no item %llu", (unsigned long long)id);
    if (id == 13)
        return errf(err, "two\nlines\x1b[2J");
    return 0;
}

int engine_pause(struct engine *e, uint64_t id, char *err)
{
    fk.calls++;
    fk.paused = id;
    return fake_item(id, err);
}

int engine_resume(struct engine *e, uint64_t id, char *err)
{
    fk.calls++;
    fk.resumed = id;
    return fake_item(id, err);
}

void engine_pause_all(struct engine *e)
{
    fk.calls++;
    fk.pause_all++;
}

void engine_resume_all(struct engine *e)
{
    fk.calls++;
    fk.resume_all++;
}

int engine_requeue(struct engine *e, uint64_t id, char *err)
{
    fk.calls++;
    fk.requeued = id;
    return fake_item(id, err);
}

int engine_remove(struct engine *e, uint64_t id, char *err)
{
    fk.calls++;
    return fake_item(id, err);
}

long engine_requeue_failed_where(struct engine *e, int status, const char *host, char *err)
{
    fk.where_status = status;
    snprintf(fk.where_host, sizeof fk.where_host, "%s", host != NULL ? host : "");
    return engine_requeue_failed(e, err);
}

long engine_requeue_failed(struct engine *e, char *err)
{
    long n = (long)fk.failed;

    fk.calls++;
    fk.failed = 0;
    return n;
}

int engine_add_url(struct engine *e, const char *url, const char *out, uint64_t *id, char *err)
{
    char *path;

    fk.calls++;
    if (strstr(url, "dup") != NULL)
        return errf(err, "%s is already in the run", "the URL");
    /* The engine maps and checks through the intake; its mapping is urlpath_target. */
    if ((path = urlpath_target(url, LAYOUT_PATH, NULL, out, err)) == NULL)
        return -1;
    free(path);
    fk.added_out = out != NULL ? out[0] : 0;
    *id = 42;
    return 0;
}

/* What the attach mode reads besides (uisrc_local.c): an empty queue, no transfers. */
bool engine_idle(const struct engine *e) { return false; }
void engine_rate_series(struct engine *e, int64_t *out, int n) { memset(out, 0, (size_t)n * sizeof *out); }
bool engine_xfer_view(struct engine *e, uint64_t id, struct engine_xfer_view *v) { return false; }
/* Item 5 runs on two ranges, the second idle; every other item is not segmented. */
int engine_ranges_view(struct engine *e, uint64_t id, struct engine_range_view *out, int max)
{
    static const struct engine_range_view r[2] = { { 0, 4096, 100, 2048, true },
                                                   { 4096, 8192, 0, 0, false } };

    if (id != 5)
        return 0;
    for (int i = 0; i < 2 && i < max; i++)
        out[i] = r[i];
    return 2;
}
void engine_add_listener(struct engine *e, engine_listener cb, void *arg) { }
void engine_remove_listener(struct engine *e, engine_listener cb, void *arg) { }
void engine_item_wait(struct engine *e, const struct item *it, struct wait_facts *f)
{
    memset(f, 0, sizeof *f);
    f->state = it->state;
}
/* One host whose limit was lowered after a 503 and holds for 60 s more, on the loop's clock as
 * the engine's (fk.loop). */
size_t engine_hosts_view(struct engine *e, struct engine_host_view *out, size_t max)
{
    if (max < 1)
        return 0;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", "h x:80");
    out->active = 1;
    out->limit = 1;
    out->lowered = true;
    out->slow_status = 503;
    out->hold_until_ms = fk.loop != NULL ? loop_now(fk.loop) + 60000 : 0;
    out->n503 = 2;
    out->queued = 3;
    out->queued_more = true;
    return 1;
}
size_t queue_total(const struct queue *q) { return 0; }
size_t queue_count(const struct queue *q, enum item_state st) { return 0; }
size_t queue_page(struct queue *q, int st, size_t off, size_t n, struct item **out) { return 0; }
struct item *queue_get(struct queue *q, uint64_t id) { return NULL; }
int queue_flush(struct queue *q) { return 0; }

/* ---- helpers ---- */

/* Runs one request through the table; returns the whole answer (static, overwritten). */
static const char *run(const char *line, int *rc)
{
    static char buf[8192];
    struct sbuf out = { 0 };

    *rc = ctl_cmd_exec(NULL, NULL, line, strlen(line), &out);
    assert_non_null(out.s);
    assert_true(out.len < sizeof buf);
    memcpy(buf, out.s, out.len);
    buf[out.len] = '\0';
    sbuf_free(&out);
    return buf;
}

static void expect_ok(const char *line, const char *answer)
{
    int rc;
    const char *got = run(line, &rc);

    if (rc != 0 || strcmp(got, answer) != 0)
        fail_msg("'%s': expected '%s', got rc %d '%s'", line, answer, rc, got);
}

/* The answer is "error: ..." containing want; nothing reached the engine. */
static void expect_refused(const char *line, const char *want)
{
    int rc, calls = fk.calls;
    const char *got = run(line, &rc);

    if (rc != -1 || strncmp(got, "error: ", 7) != 0 || strstr(got, want) == NULL)
        fail_msg("'%s': expected an error with '%s', got rc %d '%s'", line, want, rc, got);
    assert_int_equal(strchr(got, '\n') - got, strlen(got) - 1);     /* one line */
    assert_int_equal(fk.calls, calls);
}

/* ---- words ---- */

static void test_split_words(void **state)
{
    static const struct {
        const char *line;
        int argc;
        const char *words[4];
    } cases[] = {
        { "status", 1, { "status" } },
        { "  rate \t 50M  ", 2, { "rate", "50M" } },
        { "rate 50M\r", 2, { "rate", "50M" } },
        { "add \"http://h/a b\" out=x", 3, { "add", "http://h/a b", "out=x" } },
        { "a \"q\\\"uote\" \"back\\\\slash\"", 3, { "a", "q\"uote", "back\\slash" } },
        { "a \"\" b", 3, { "a", "", "b" } },
        { "a x\"y z\"w", 2, { "a", "xy zw" } },
        { "a \\n", 2, { "a", "\\n" } },        /* outside quotes a backslash is itself */
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char err[ERRLEN] = "";
        char **argv = NULL;
        int argc = -1;

        if (ctl_cmd_split(cases[i].line, strlen(cases[i].line), &argc, &argv, err) < 0)
            fail_msg("'%s' refused: %s", cases[i].line, err);
        assert_int_equal(argc, cases[i].argc);
        for (int j = 0; j < argc; j++)
            assert_string_equal(argv[j], cases[i].words[j]);
        assert_null(argv[argc]);
        ctl_cmd_argv_free(argv);
    }
}

static void test_split_errors(void **state)
{
    static const struct {
        const char *line;
        size_t len;                 /* 0: strlen */
        const char *msg;
    } cases[] = {
        { "", 0, "empty" },
        { "   \t ", 0, "empty" },
        { "\r", 0, "empty" },
        { "rate \"50M", 0, "unterminated" },
        { "rate 50M\x1b[2J", 0, "control" },
        { "rate\r50M", 0, "control" },
        { "status\0rate", 11, "control" },
        { "a b c d e f g h i j k l m n o p q", 0, "too many" },
    };

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char err[ERRLEN] = "";
        char **argv = NULL;
        int argc = -1;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].line);

        if (ctl_cmd_split(cases[i].line, len, &argc, &argv, err) == 0)
            fail_msg("case %zu accepted", i);
        assert_null(argv);
        if (strstr(err, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
    }
}

static void test_join_roundtrip(void **state)
{
    char *args[] = { "add", "http://h/a b?x=\"1\"", "", "back\\slash", "tab\there", "out=plain" };
    int n = (int)ARRAY_LEN(args), argc;
    struct sbuf b = { 0 };
    char err[ERRLEN];
    char **argv;

    assert_int_equal(ctl_cmd_join(n, args, &b, err), 0);
    assert_true(b.len > 0 && b.s[b.len - 1] == '\n');
    assert_null(memchr(b.s, '\n', b.len - 1));
    assert_int_equal(ctl_cmd_split(b.s, b.len - 1, &argc, &argv, err), 0);
    assert_int_equal(argc, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(argv[i], args[i]);
    ctl_cmd_argv_free(argv);
    sbuf_free(&b);

    {
        char *plain[] = { "rate", "50M" };

        assert_int_equal(ctl_cmd_join(2, plain, &b, err), 0);
        assert_int_equal(b.len, 9);
        assert_memory_equal(b.s, "rate 50M\n", 9);
        sbuf_free(&b);
    }
    {
        char *bad[] = { "add", "http://h/\nstatus" };

        assert_int_equal(ctl_cmd_join(2, bad, &b, err), -1);
        assert_non_null(strstr(err, "control character"));
        assert_null(strchr(err, '\n'));
        sbuf_free(&b);
    }
}

/* ---- commands ---- */

static void test_rate(void **state)
{
    fake_reset();
    expect_ok("rate 1M", "ok\n1048576\n");
    assert_int_equal(fk.rate, 1048576);
    expect_ok("rate 400Mbit", "ok\n50000000\n");
    expect_ok("rate 50M/s", "ok\n52428800\n");
    expect_ok("rate", "ok\n52428800\n");          /* a query changes nothing */
    expect_ok("rate off", "ok\n0\n");
    expect_ok("rate 1M", "ok\n1048576\n");
    expect_ok("rate 0", "ok\n0\n");
    fk.rate = 777;
    expect_refused("rate fast", "rate: 'fast' is not a rate");
    expect_refused("rate -1M", "rate:");
    expect_refused("rate 99999999999999999999G", "rate:");
    expect_refused("rate 1M 2M", "usage: rate [RATE]");
    assert_int_equal(fk.rate, 777);

    /* A --burst of the run is kept across live changes. */
    {
        struct settings s = { .burst = 123456 };
        struct sbuf out = { 0 };

        assert_int_equal(ctl_cmd_exec(NULL, &s, "rate 2M", 7, &out), 0);
        assert_int_equal(fk.burst, 123456);
        sbuf_free(&out);
    }
}

static void test_concurrency(void **state)
{
    fake_reset();
    expect_ok("concurrency", "ok\n8\n");
    expect_ok("concurrency 1", "ok\n1\n");
    expect_ok("concurrency 1024", "ok\n1024\n");
    expect_refused("concurrency 0", "out of range (1..1024)");
    expect_refused("concurrency 1025", "out of range");
    expect_refused("concurrency -3", "out of range");
    expect_refused("concurrency four", "not a whole number");
    expect_refused("concurrency 4x", "not a whole number");
    assert_int_equal(fk.concurrency, 1024);
}

static void test_targets(void **state)
{
    fake_reset();
    expect_ok("pause all", "ok\n");
    assert_int_equal(fk.pause_all, 1);
    expect_ok("resume ALL", "ok\n");
    assert_int_equal(fk.resume_all, 1);
    expect_ok("pause 7", "ok\n");
    assert_int_equal(fk.paused, 7);
    expect_ok("resume 8", "ok\n");
    assert_int_equal(fk.resumed, 8);
    expect_ok("requeue failed", "ok\n3\n");
    expect_ok("requeue failed", "ok\n0\n");
    expect_ok("requeue 5", "ok\n");
    assert_int_equal(fk.requeued, 5);

    expect_refused("pause 0", "neither all nor an item id");
    expect_refused("pause -1", "neither all nor an item id");
    expect_refused("pause everything", "'everything' is neither all");
    expect_refused("resume 1.5", "neither all");
    /* Failed items by last HTTP status and host. */
    fk.failed = 2;
    expect_ok("requeue failed status=503 host=IMG.example.com", "ok\n2\n");
    assert_int_equal(fk.where_status, 503);
    assert_string_equal(fk.where_host, "IMG.example.com");
    expect_ok("requeue failed host=a.example", "ok\n0\n");
    assert_int_equal(fk.where_status, 0);
    assert_string_equal(fk.where_host, "a.example");
    expect_ok("requeue failed status=429", "ok\n0\n");
    assert_int_equal(fk.where_status, 429);
    assert_string_equal(fk.where_host, "");
    expect_refused("requeue failed status=5xx", "status=5xx is not an HTTP status");
    expect_refused("requeue failed status=99", "not an HTTP status");
    expect_refused("requeue failed status=503 status=404", "once each");
    expect_refused("requeue failed host=", "expected status=CODE or host=HOST");
    expect_refused("requeue failed reason=x", "got 'reason=x'");
    expect_refused("requeue 5 status=503", "go with 'failed'");
    expect_refused("requeue failed a b c", "usage: requeue");
    expect_refused("requeue all", "neither failed nor an item id");
    expect_refused("requeue 99999999999999999999999", "neither failed");
    expect_refused("pause", "usage: pause all|ID");
    expect_refused("pause 1 2", "usage: pause all|ID");

    /* The engine's refusals come through, made one printable line. */
    {
        int rc;
        const char *got = run("pause 99", &rc);

        assert_int_equal(rc, -1);
        assert_string_equal(got, "error: no item 99\n");
        got = run("requeue 13", &rc);
        assert_int_equal(rc, -1);
        assert_string_equal(got, "error: two?lines?[2J\n");
    }
}

static void test_usage_errors(void **state)
{
    fake_reset();
    expect_refused("frobnicate", "unknown command 'frobnicate'");
    expect_refused("STATUS", "unknown command");
    expect_refused("status now", "usage: status");
    expect_refused("metrics x", "usage: metrics");
    expect_refused("", "empty request");
    expect_refused("rate \"1M", "unterminated");
    /* A hostile name is quoted, not echoed raw. */
    {
        char line[300];
        int rc;
        const char *got;

        memset(line, 'x', sizeof line - 1);
        line[sizeof line - 1] = '\0';
        got = run(line, &rc);
        assert_int_equal(rc, -1);
        assert_true(strlen(got) < 120);
    }
    for (size_t i = 0; i < ctl_cmd_count; i++) {
        assert_ptr_equal(ctl_cmd_find(ctl_cmd_table[i].name), &ctl_cmd_table[i]);
        assert_true(strncmp(ctl_cmd_table[i].usage, ctl_cmd_table[i].name,
                            strlen(ctl_cmd_table[i].name)) == 0);
    }
    assert_null(ctl_cmd_find("nope"));
}

static void test_add(void **state)
{
    int rc;
    const char *got;

    fake_reset();
    got = run("add http://user:hunter2@example.com/a.bin", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(got, "ok\n42\n");
    assert_int_equal(fk.added_out, 0);
    got = run("add http://example.com/b.bin out=x/y.bin", &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(fk.added_out, 'x');
    got = run("add http://example.com/dup.bin", &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(got, "error: add: the URL is already in the run"));
    /* The URL and out= are the engine's (the intake's) to check: its reasons come back. */
    got = run("add ftp://user:hunter2@example.com/a.bin", &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(got, "add: bad URL"));
    assert_null(strstr(got, "hunter2"));          /* credentials never in an answer */
    got = run("add http://example.com/a out=../../etc/passwd", &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(got, "add: out=:"));
    fake_reset();          /* the command's own syntax is refused before the engine */
    expect_refused("add http://example.com/a dir=x", "expected out=PATH");
    expect_refused("add", "usage: add URL [out=PATH]");
    expect_refused("add http://example.com/a out=x y", "usage: add");
    assert_int_equal(fk.calls, 0);
}

/* schedule shows the timetable in the spelling --schedule reads, and replaces it for the run. */
static void test_schedule(void **state)
{
    int rc;
    const char *got;

    fake_reset();
    expect_ok("schedule", "ok\nschedule none\ncap 0 settings\n");
    assert_int_equal(fk.sched_set, 0);
    got = run("schedule mon-fri 08:00,2M 18:30,off sat,sun 00:00,off", &rc);
    assert_int_equal(rc, 0);
    {
        const char *want = "ok\nschedule mon-fri 08:00,2M 18:30,off sat,sun 00:00,off\n";

        assert_true(strncmp(got, want, strlen(want)) == 0);
    }
    assert_int_equal(fk.sched_set, 1);
    assert_int_equal(fk.nsched, 3);
    assert_int_equal(fk.sched[0].minute, 8 * 60);
    assert_int_equal(fk.sched[0].rate, 2 * 1048576);
    assert_int_equal(fk.sched[0].days, 0x3e);
    assert_int_equal(fk.sched[2].days, 0x41);
    /* One quoted word reads the same. */
    got = run("schedule \"08:00,10M 18:30,off\"", &rc);
    assert_int_equal(rc, 0);
    assert_true(strncmp(got, "ok\nschedule 08:00,10M 18:30,off\n",
                        strlen("ok\nschedule 08:00,10M 18:30,off\n")) == 0);
    assert_int_equal(fk.nsched, 2);
    assert_int_equal(fk.sched[0].days, 0);
    expect_ok("schedule none", "ok\nschedule none\ncap 0 settings\n");
    assert_int_equal(fk.nsched, 0);
    /* A bad spec changes nothing. */
    expect_refused("schedule 25:00,1M", "schedule: '25:00,1M': bad time");
    expect_refused("schedule mon-fry 08:00,1M", "schedule: 'mon-fry'");
    expect_refused("schedule mon-fri", "days with no TIME,RATE step");
    assert_int_equal(fk.sched_set, 3);
}

/* ---- renderings ---- */

static const struct engine_stats sample = {
    .total = 10, .queued = 3, .active = 2, .retrying = 1, .paused = 0, .done = 2, .unchanged = 1,
    .failed = 1, .concurrency = 4, .transfers = 2, .finishing = 0, .rate = 1500000,
    .cap = 1048576, .bytes = 123456789, .elapsed_ms = 61005, .eta_ms = -1, .disk_full = false,
    .paused_all = true,
};

static void test_status_json(void **state)
{
    struct sbuf b = { 0 };
    int rc;
    const char *got;

    ctl_cmd_status_json(&sample, &b);
    sbuf_add(&b, "", 1);
    assert_string_equal(b.s,
        "{\"total\":10,\"queued\":3,\"active\":2,\"retrying\":1,\"paused\":0,\"done\":2,"
        "\"unchanged\":1,\"failed\":1,\"transfers\":2,\"finishing\":0,\"concurrency\":4,"
        "\"rate\":1500000,\"cap\":1048576,\"bytes\":123456789,\"elapsed_ms\":61005,"
        "\"eta_ms\":-1,\"disk_full\":false,\"paused_all\":true,\"cap_source\":\"settings\","
        "\"schedule_step\":null,\"schedule_next\":null,\"schedule_next_in_s\":-1,"
        "\"cap_then\":-1,\"shard\":null,\"group_workers\":null,\"group_up\":null,"
        "\"local_cap\":null}\n");
    sbuf_free(&b);

    /* Under a schedule: the step in force, the next one, and a live cap until then. */
    {
        struct engine_stats st = sample;

        st.sched.source = CAP_FROM_LIVE;
        st.sched.nsteps = 3;
        st.sched.step = 0;
        st.sched.next = 1;
        st.sched.cur = (struct sched_point){ 8 * 60, 2 * 1048576, 0x3e };
        st.sched.nxt = (struct sched_point){ 18 * 60 + 30, 0, 0x3e };
        st.sched.next_in_s = 3600;
        st.sched.then_rate = 0;
        b = (struct sbuf){ 0 };
        ctl_cmd_status_json(&st, &b);
        sbuf_add(&b, "", 1);
        assert_non_null(strstr(b.s, "\"paused_all\":true,\"cap_source\":\"live\","
                                    "\"schedule_step\":\"mon-fri 08:00,2M\","
                                    "\"schedule_next\":\"mon-fri 18:30,off\","
                                    "\"schedule_next_in_s\":3600,\"cap_then\":0,\"shard\":null,"));
        sbuf_free(&b);
        b = (struct sbuf){ 0 };
        ctl_cmd_metrics(&st, &b);
        sbuf_add(&b, "", 1);
        assert_non_null(strstr(b.s, "\nsluice_cap_source{source=\"live\"} 1\n"));
        assert_non_null(strstr(b.s, "\nsluice_cap_source{source=\"schedule\"} 0\n"));
        assert_non_null(strstr(b.s, "\nsluice_schedule_step_info{step=\"mon-fri 08:00,2M\","
                                    "next=\"mon-fri 18:30,off\"} 1\n"));
        assert_non_null(strstr(b.s, "\nsluice_schedule_next_step_seconds 3600\n"));
        assert_non_null(strstr(b.s, "\nsluice_schedule_next_cap_bytes_per_second 0\n"));
        sbuf_free(&b);
    }

    fake_reset();
    fk.st = sample;
    got = run("status", &rc);
    assert_int_equal(rc, 0);
    assert_true(strncmp(got, "ok\n{\"total\":10,", 15) == 0);
}

/* Every sample line is NAME[{LABELS}] VALUE, preceded by its # HELP and # TYPE. */
static void test_metrics(void **state)
{
    struct sbuf b = { 0 };
    char *text, *line, *save = NULL;
    char typed[64] = "";
    int samples = 0;

    ctl_cmd_metrics(&sample, &b);
    sbuf_add(&b, "", 1);
    assert_true(b.len > 2 && b.s[b.len - 2] == '\n');
    assert_non_null(strstr(b.s, "\nsluice_items{state=\"done\"} 2\n"));
    assert_non_null(strstr(b.s, "\nsluice_items{state=\"failed\"} 1\n"));
    assert_non_null(strstr(b.s, "# TYPE sluice_received_bytes_total counter\n"
                                "sluice_received_bytes_total 123456789\n"));
    assert_non_null(strstr(b.s, "\nsluice_rate_bytes_per_second 1500000\n"));
    assert_non_null(strstr(b.s, "\nsluice_cap_bytes_per_second 1048576\n"));
    assert_non_null(strstr(b.s, "\nsluice_concurrency_limit 4\n"));
    assert_non_null(strstr(b.s, "\nsluice_transfers_active 2\n"));
    assert_non_null(strstr(b.s, "\nsluice_elapsed_seconds 61.005\n"));
    assert_non_null(strstr(b.s, "\nsluice_eta_seconds -1\n"));
    assert_non_null(strstr(b.s, "\nsluice_paused_all 1\n"));

    text = xstrdup(b.s);
    for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char name[64], type[16];
        size_t n;
        const char *p;

        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        if (sscanf(line, "# TYPE %63s %15s", name, type) == 2) {
            assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0);
            strcpy(typed, name);
            continue;
        }
        n = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
        assert_true(n > 0 && n < sizeof name);
        memcpy(name, line, n);
        name[n] = '\0';
        assert_string_equal(name, typed);
        p = line + n;
        if (*p == '{') {
            p = strchr(p, '}');
            assert_non_null(p);
            p++;
        }
        assert_true(*p == ' ');
        p++;
        assert_true(*p != '\0' && strspn(p, "-0123456789.") == strlen(p));
        samples++;
    }
    assert_int_equal(samples, 7 + 10 + 4);
    free(text);
    sbuf_free(&b);
}

/* A worker of a sharded list says which shard, in both renderings (docs/scale.md#sharding). */
static void test_shard_rendered(void **state)
{
    struct engine_stats st = sample;
    struct sbuf b = { 0 };

    st.shard = (struct shard){ 2, 3 };
    ctl_cmd_status_json(&st, &b);
    sbuf_add(&b, "", 1);
    assert_non_null(strstr(b.s, ",\"cap_then\":-1,\"shard\":\"2/3\",\"group_workers\":null,"));
    sbuf_free(&b);
    ctl_cmd_metrics(&st, &b);
    sbuf_add(&b, "", 1);
    assert_non_null(strstr(b.s, "# TYPE sluice_shard gauge\n"
                                "sluice_shard{index=\"2\",count=\"3\"} 1\n"));
    sbuf_free(&b);
    ctl_cmd_metrics(&sample, &b);
    sbuf_add(&b, "", 1);
    assert_null(strstr(b.s, "sluice_shard"));
    assert_null(strstr(b.s, "sluice_cap_group"));
    sbuf_free(&b);
}

/* A worker of a cap group (docs/scale.md#the-shared-cap): how many draw from the cap, whether
 * Redis answers, and the local cap it keeps to while not. */
static void test_group_rendered(void **state)
{
    struct engine_stats st = sample;
    struct sbuf b = { 0 };

    st.group_workers = 3;
    st.group_up = false;
    st.group_calls = 42;
    st.local_cap = 349525;
    ctl_cmd_status_json(&st, &b);
    sbuf_add(&b, "", 1);
    assert_non_null(strstr(b.s, ",\"group_workers\":3,\"group_up\":false,\"local_cap\":349525}\n"));
    sbuf_free(&b);
    ctl_cmd_metrics(&st, &b);
    sbuf_add(&b, "", 1);
    assert_non_null(strstr(b.s, "\nsluice_cap_group_workers 3\n"));
    assert_non_null(strstr(b.s, "\nsluice_cap_group_up 0\n"));
    assert_non_null(strstr(b.s, "# TYPE sluice_cap_group_calls_total counter\n"
                                "sluice_cap_group_calls_total 42\n"));
    assert_non_null(strstr(b.s, "\nsluice_cap_local_bytes_per_second 349525\n"));
    sbuf_free(&b);
}

/* ---- the server ---- */

static char tmpdir[] = "/tmp/sluice-test-ctl.XXXXXX";

static int setup_dir(void **state)
{
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **state)
{
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);

    free(cmd);
    return rc == 0 ? 0 : -1;
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_true(strlen(path) < sizeof sa.sun_path);
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        fail_msg("connect %s: %s", path, strerror(errno));
    return fd;
}

static void send_str(int fd, const char *s, size_t len)
{
    assert_int_equal(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Turns the loop until fd's peer has answered and closed; the answer, allocated. Bounded by a
 * number of turns, not by time: the server answers within one turn of getting its line. */
static char *collect(struct loop *l, int fd)
{
    struct sbuf b = { 0 };
    char buf[4096];

    for (int turns = 0; turns < 2000; turns++) {
        ssize_t n;

        loop_run_once(l, 5);
        while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            sbuf_add(&b, buf, (size_t)n);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            sbuf_add(&b, "", 1);
            close(fd);
            return b.s;
        }
    }
    close(fd);
    fail_msg("no answer");
    return NULL;
}

/* Turns the loop a little with nothing expected (the server must not be waiting on anyone). */
static void spin(struct loop *l, int turns)
{
    for (int i = 0; i < turns; i++)
        loop_run_once(l, 1);
}

struct server {
    struct loop *loop;
    struct ctl *ctl;
    struct settings s;
    char *path;
};

static void server_start(struct server *sv, const char *sub)
{
    char err[ERRLEN] = "";
    char *dir = xasprintf("%s/%s", tmpdir, sub);

    memset(sv, 0, sizeof *sv);
    assert_int_equal(mkdir(dir, 0755), 0);
    sv->s.dir = dir;
    sv->path = ctl_default_path(dir);
    sv->loop = loop_new();
    sv->ctl = ctl_new(sv->loop, NULL, NULL, &sv->s, sv->path, err);
    if (sv->ctl == NULL)
        fail_msg("ctl_new: %s", err);
}

static void server_stop(struct server *sv)
{
    ctl_free(sv->ctl);
    loop_free(sv->loop);
    free(sv->path);
    free(sv->s.dir);
}

static void test_server_basics(void **state)
{
    struct server sv;
    struct stat sb;
    char *ans, *folder;

    fake_reset();
    fk.st = sample;
    server_start(&sv, "basics");
    assert_int_equal(lstat(sv.path, &sb), 0);
    assert_true(S_ISSOCK(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    folder = xasprintf("%s/.sluice", sv.s.dir);
    assert_int_equal(stat(folder, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0700);
    free(folder);

    {
        int fd = connect_to(sv.path);

        send_str(fd, "status\n", 7);
        ans = collect(sv.loop, fd);
        assert_true(strncmp(ans, "ok\n{\"total\":10,", 15) == 0);
        free(ans);
    }
    {
        int fd = connect_to(sv.path);

        send_str(fd, "rate 2M\n", 8);
        ans = collect(sv.loop, fd);
        assert_string_equal(ans, "ok\n2097152\n");
        assert_int_equal(fk.rate, 2097152);
        free(ans);
    }
    {
        int fd = connect_to(sv.path);

        send_str(fd, "rate fast\n", 10);
        ans = collect(sv.loop, fd);
        assert_true(strncmp(ans, "error: rate: ", 13) == 0);
        free(ans);
    }
    server_stop(&sv);
    assert_int_equal(lstat(sv.path, &sb) < 0 && errno == ENOENT, 1);  /* removed at the end */
}

/* Reads what the server wrote within a few turns, without closing. */
static char *drain(struct loop *l, int fd, int turns)
{
    struct sbuf b = { 0 };
    char buf[4096];

    for (int i = 0; i < turns; i++) {
        ssize_t n;

        loop_run_once(l, 2);
        while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            sbuf_add(&b, buf, (size_t)n);
    }
    sbuf_add(&b, "", 1);
    return b.s;
}

/* Attach mode (docs/ctl.md#attach-mode): framed answers in order on one connection, the ctl
 * commands through it, hostile requests answered with an error and the connection kept, a
 * version it does not speak refused, and a client that asks without reading stops being read
 * (the loop goes on turning). */
static void test_server_attach(void **state)
{
    struct server sv;
    char *ans;
    int fd;

    fake_reset();
    fk.st = sample;
    server_start(&sv, "attach");
    fd = connect_to(sv.path);
    {
        const char *req = "attach 1\ninfo\nrate 2M\nrate fast\nbogus\n\"open\npage 0 0 999\n"
                          "states 1,x\nseries 3\nget 5\nevents\nwaits 5,6\nwaits 0\nwaits\n";

        send_str(fd, req, strlen(req));
    }
    ans = drain(sv.loop, fd, 20);
    assert_string_equal(ans, "ok attach 1\n"
                             "ok 8\n1 0 0 0\n"
                             "ok 8\n2097152\n"
                             "error: rate: 'fast' is not a rate (examples: 50M, 400Mbit, off)\n"
                             "error: unknown command 'bogus'\n"
                             "error: unterminated quote in the request\n"
                             "error: rows: '999' is not a number in 0..256\n"
                             "error: id: 'x' is not a number in 1..9223372036854775807\n"
                             "ok 6\n0 0 0\n"
                             "ok 0\n"
                             "ok 4\n0 0\n"
                             /* items that are not there: the run's part, then "x" each */
                             "ok 12\n0 0 0 0\nx\nx\n"
                             "error: id: '0' is not a number in 1..9223372036854775807\n"
                             "error: usage: waits ID,ID,...\n");
    assert_int_equal(fk.rate, 2097152);
    free(ans);
    /* The stats line: the sample's total first. */
    send_str(fd, "stats\n", 6);
    ans = drain(sv.loop, fd, 5);
    assert_true(strncmp(ans, "ok ", 3) == 0);
    assert_non_null(strstr(ans, "\n10 "));
    free(ans);
    /* The Hosts tab's rows: the name escaped, the hold as the time left from the server's now
     * (the same loop turn: all of the 60 s), not as a clock reading, then the counts. */
    fk.loop = sv.loop;
    send_str(fd, "hosts\n", 6);
    ans = drain(sv.loop, fd, 5);
    fk.loop = NULL;
    assert_true(strncmp(ans, "ok ", 3) == 0);
    assert_non_null(strstr(ans, "\n=h%20x:80 1 1 1 503 60000 0 2 0 0 0 3 1\n"));
    free(ans);
    /* waits is bounded like items: 257 ids are refused, the connection stays. */
    {
        struct sbuf q = { 0 };

        sbuf_addstr(&q, "waits 1");
        for (int i = 2; i <= 257; i++)
            sbuf_printf(&q, ",%d", i);
        sbuf_addstr(&q, "\nwaits 1\n");
        send_str(fd, q.s, q.len);
        sbuf_free(&q);
    }
    ans = drain(sv.loop, fd, 10);
    assert_string_equal(ans, "error: waits: at most 256 ids\nok 10\n0 0 0 0\nx\n");
    free(ans);
    close(fd);

    /* Requests, then the client closes its side: every answer, then the server closes. */
    fd = connect_to(sv.path);
    {
        const char *req = "attach 1\ninfo\nconcurrency\npartial";

        send_str(fd, req, strlen(req));
    }
    shutdown(fd, SHUT_WR);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok attach 1\nok 8\n1 0 0 0\nok 2\n8\n");
    free(ans);

    fd = connect_to(sv.path);
    send_str(fd, "attach 5\n", 9);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "error: usage: attach VERSION (this sluice speaks attach 1 to 4)\n");
    free(ans);

    /* Version 3: a segmented download's ranges (start end done busy rate), the count first. */
    fd = connect_to(sv.path);
    {
        const char *req = "attach 3\ninfo\nranges 5\nranges 6\nranges x\n";

        send_str(fd, req, strlen(req));
    }
    shutdown(fd, SHUT_WR);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok attach 3\nok 8\n3 0 0 0\n"
                             "ok 36\n2\n0 4096 100 1 2048\n4096 8192 0 0 0\n"
                             "ok 2\n0\n"
                             "error: id: 'x' is not a number in 1..9223372036854775807\n");
    free(ans);

    /* Version 2 (waits, hosts) is answered in 2; info says which one the connection speaks. */
    fd = connect_to(sv.path);
    send_str(fd, "attach 2\ninfo\n", 15);
    shutdown(fd, SHUT_WR);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok attach 2\nok 8\n2 0 0 0\n");
    free(ans);

    /* Asks and asks, never reads: the server stops reading it; the loop keeps turning. */
    fd = connect_to(sv.path);
    send_str(fd, "attach 1\n", 9);
    {
        int rcvbuf = 4096;
        char req[] = "series 59\nseries 59\nseries 59\nseries 59\n";
        int sent = 0;

        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        for (int i = 0; i < 200000; i++) {
            ssize_t n = send(fd, req, sizeof req - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

            if (n < 0)
                break;
            sent++;
            if (i % 64 == 0)
                spin(sv.loop, 1);
        }
        /* The server stopped reading, so our sends stopped: it did not buffer without end. */
        assert_true(sent < 200000);
        spin(sv.loop, 50);
    }
    close(fd);
    spin(sv.loop, 5);
    /* Others are still served. */
    fd = connect_to(sv.path);
    send_str(fd, "status\n", 7);
    ans = collect(sv.loop, fd);
    assert_true(strncmp(ans, "ok\n{", 4) == 0);
    free(ans);
    server_stop(&sv);
}

static void test_server_framing(void **state)
{
    struct server sv;
    char *ans;
    int fd;

    fake_reset();
    server_start(&sv, "framing");

    /* A line in pieces, across turns of the loop. */
    fd = connect_to(sv.path);
    send_str(fd, "conc", 4);
    spin(sv.loop, 3);
    send_str(fd, "urrency 3", 9);
    spin(sv.loop, 3);
    send_str(fd, "\nstatus\n", 8);          /* past the first line: ignored */
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok\n3\n");
    free(ans);

    /* EOF without a newline is a line; CRLF is fine. */
    fd = connect_to(sv.path);
    send_str(fd, "concurrency 5", 13);
    shutdown(fd, SHUT_WR);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok\n5\n");
    free(ans);
    fd = connect_to(sv.path);
    send_str(fd, "concurrency 6\r\n", 15);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok\n6\n");
    free(ans);

    /* Connected and gone without a word: no answer, no harm. */
    fd = connect_to(sv.path);
    shutdown(fd, SHUT_WR);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "");
    free(ans);

    /* Binary junk. */
    fd = connect_to(sv.path);
    send_str(fd, "\x00\xff\x01\n", 4);
    ans = collect(sv.loop, fd);
    assert_true(strncmp(ans, "error: control character", 24) == 0);
    free(ans);
    server_stop(&sv);
}

static void test_server_long_line(void **state)
{
    struct server sv;
    char *big = xmalloc(CTL_LINE_MAX + 100), *ans;
    int fd;

    fake_reset();
    server_start(&sv, "long");
    memset(big, 'x', CTL_LINE_MAX + 100);
    fd = connect_to(sv.path);
    send_str(fd, big, CTL_LINE_MAX + 100);
    ans = collect(sv.loop, fd);
    assert_true(strncmp(ans, "error: request longer than 8191 bytes", 37) == 0);
    free(ans);

    /* Exactly at the limit (newline included) is still a request. */
    memcpy(big, "status", 6);
    memset(big + 6, ' ', CTL_LINE_MAX - 7);
    big[CTL_LINE_MAX - 1] = '\n';
    fd = connect_to(sv.path);
    send_str(fd, big, CTL_LINE_MAX);
    ans = collect(sv.loop, fd);
    assert_true(strncmp(ans, "ok\n{", 4) == 0);
    free(ans);
    free(big);
    server_stop(&sv);
}

/* Silent clients hold nothing up; past CTL_MAX_CONNS the newcomer is told, not left hanging. */
static void test_server_many_clients(void **state)
{
    struct server sv;
    int silent[31], fd, fd2;
    char *ans;

    fake_reset();
    server_start(&sv, "many");
    for (size_t i = 0; i < ARRAY_LEN(silent); i++) {
        silent[i] = connect_to(sv.path);
        send_str(silent[i], "sta", 3);
        spin(sv.loop, 1);           /* accepted before the listen backlog fills */
    }
    spin(sv.loop, 5);
    fd = connect_to(sv.path);
    send_str(fd, "concurrency 2\n", 14);
    ans = collect(sv.loop, fd);
    assert_string_equal(ans, "ok\n2\n");
    free(ans);

    /* 31 silent + 1 answered-and-closed: one more fits, the next is refused. */
    fd = connect_to(sv.path);
    spin(sv.loop, 3);
    fd2 = connect_to(sv.path);
    ans = collect(sv.loop, fd2);
    assert_true(strncmp(ans, "error: too many control connections", 35) == 0);
    free(ans);
    send_str(fd, "status\n", 7);
    ans = collect(sv.loop, fd);
    assert_true(strncmp(ans, "ok\n", 3) == 0);
    free(ans);

    /* A client that sends and leaves before the answer. */
    fd = connect_to(sv.path);
    send_str(fd, "metrics\n", 8);
    close(fd);
    spin(sv.loop, 5);

    /* The silent ones finish their line late and are still served. */
    send_str(silent[0], "tus\n", 4);
    ans = collect(sv.loop, silent[0]);
    assert_true(strncmp(ans, "ok\n{", 4) == 0);
    free(ans);
    for (size_t i = 1; i < ARRAY_LEN(silent); i++)
        close(silent[i]);
    spin(sv.loop, 5);
    server_stop(&sv);
}

static void test_server_socket_file(void **state)
{
    struct server sv;
    struct loop *l2 = loop_new();
    struct settings s2 = { 0 };
    char err[ERRLEN] = "";
    struct stat sb;
    char *path, *dir;

    fake_reset();
    server_start(&sv, "live");
    /* A live one is not replaced. */
    s2.dir = sv.s.dir;
    assert_null(ctl_new(l2, NULL, NULL, &s2, sv.path, err));
    assert_non_null(strstr(err, "another sluice is running on"));
    assert_non_null(strstr(err, sv.s.dir));
    assert_int_equal(lstat(sv.path, &sb), 0);
    {
        int fd = connect_to(sv.path);
        char *ans;

        send_str(fd, "concurrency\n", 12);
        ans = collect(sv.loop, fd);
        assert_string_equal(ans, "ok\n8\n");
        free(ans);
    }
    server_stop(&sv);

    /* A stale one (its owner died without unlinking) is. */
    dir = xasprintf("%s/stale", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    path = ctl_default_path(dir);
    {
        char *folder = xasprintf("%s/.sluice", dir);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct ctl *c;

        assert_int_equal(mkdir(folder, 0700), 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        close(fd);                  /* bound, never listening: what a dead run leaves */
        s2.dir = dir;
        c = ctl_new(l2, NULL, NULL, &s2, path, err);
        if (c == NULL)
            fail_msg("stale socket not replaced: %s", err);
        ctl_free(c);
        assert_int_equal(lstat(path, &sb) < 0 && errno == ENOENT, 1);

        /* Not a socket: left alone. */
        fd = open(path, O_WRONLY | O_CREAT, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "keep", 4), 4);
        close(fd);
        assert_null(ctl_new(l2, NULL, NULL, &s2, path, err));
        assert_non_null(strstr(err, "not a socket"));
        assert_int_equal(lstat(path, &sb), 0);
        assert_int_equal(sb.st_size, 4);
        unlink(path);

        /* A symlinked folder is refused (bind would follow it). */
        rmdir(folder);
        assert_int_equal(symlink("/tmp", folder), 0);
        assert_null(ctl_new(l2, NULL, NULL, &s2, path, err));
        assert_non_null(strstr(err, "not a folder"));
        unlink(folder);
        free(folder);
    }
    free(path);
    free(dir);

    /* Too long for sun_path: said so. */
    {
        char longp[200];

        memset(longp, 'a', sizeof longp);
        longp[0] = '/';
        longp[sizeof longp - 1] = '\0';
        assert_null(ctl_new(l2, NULL, NULL, &s2, longp, err));
        assert_non_null(strstr(err, "too long for a Unix socket"));
    }
    loop_free(l2);
}

/* ---- the client ---- */

static int client(FILE *out, FILE *err, int argc, ...)
{
    char *argv[16] = { "sluice", "ctl" };
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[2 + i] = va_arg(ap, char *);
    va_end(ap);
    return ctl_client_run(argc + 2, argv, out, err);
}

/* Runs a client with its output in memory. */
struct capture {
    char *out, *err;
    size_t outlen, errlen;
    FILE *fo, *fe;
};

static void cap_open(struct capture *c)
{
    memset(c, 0, sizeof *c);
    c->fo = open_memstream(&c->out, &c->outlen);
    c->fe = open_memstream(&c->err, &c->errlen);
    assert_non_null(c->fo);
    assert_non_null(c->fe);
}

static void cap_close(struct capture *c)
{
    fclose(c->fo);
    fclose(c->fe);
}

static void cap_free(struct capture *c)
{
    free(c->out);
    free(c->err);
}

static void test_client_offline(void **state)
{
    struct capture c;
    char *dir = xasprintf("%s/nothing", tmpdir);
    char *sock = xasprintf("%s/nothing/sock", tmpdir);

    cap_open(&c);
    assert_int_equal(client(c.fo, c.fe, 3, "-d", dir, "status"), 2);
    assert_int_equal(client(c.fo, c.fe, 3, "--socket", sock, "status"), 2);
    assert_int_equal(client(c.fo, c.fe, 2, "frob", "x"), 2);
    assert_int_equal(client(c.fo, c.fe, 1, "pause"), 2);
    assert_int_equal(client(c.fo, c.fe, 0), 2);
    assert_int_equal(client(c.fo, c.fe, 5, "-d", dir, "--socket", sock, "status"), 2);
    assert_int_equal(client(c.fo, c.fe, 1, "-d"), 2);
    assert_int_equal(client(c.fo, c.fe, 2, "--bogus", "status"), 2);
    assert_int_equal(client(c.fo, c.fe, 4, "-d", dir, "add", "http://h/\x1b"), 2);
    cap_close(&c);
    assert_int_equal(c.outlen, 0);
    assert_non_null(strstr(c.err, "no sluice is running for "));
    assert_non_null(strstr(c.err, "no sluice is listening on "));
    assert_non_null(strstr(c.err, "unknown command 'frob'"));
    assert_non_null(strstr(c.err, "usage: pause all|ID"));
    assert_non_null(strstr(c.err, "not both"));
    assert_non_null(strstr(c.err, "-d needs an argument"));
    assert_non_null(strstr(c.err, "unknown option --bogus"));
    assert_non_null(strstr(c.err, "control character"));
    cap_free(&c);

    cap_open(&c);
    assert_int_equal(client(c.fo, c.fe, 1, "--help"), 0);
    cap_close(&c);
    for (size_t i = 0; i < ctl_cmd_count; i++)
        assert_non_null(strstr(c.out, ctl_cmd_table[i].usage));
    cap_free(&c);
    free(dir);
    free(sock);
}

struct client_job {
    char *argv[8];
    int argc, rc;
    struct capture cap;
    atomic_int done;
};

static void *client_thread(void *arg)
{
    struct client_job *j = arg;

    j->rc = ctl_client_run(j->argc, j->argv, j->cap.fo, j->cap.fe);
    atomic_store(&j->done, 1);
    return NULL;
}

/* The client in a thread, the server's loop here. */
static int client_live(struct server *sv, struct capture *cap, const char *cmd, const char *arg)
{
    struct client_job j = { .argv = { "sluice", "ctl", "-d", sv->s.dir, (char *)cmd, (char *)arg } };
    pthread_t t;

    j.argc = arg != NULL ? 6 : 5;
    cap_open(&j.cap);
    assert_int_equal(pthread_create(&t, NULL, client_thread, &j), 0);
    for (int turns = 0; turns < 20000 && !atomic_load(&j.done); turns++)
        loop_run_once(sv->loop, 1);
    pthread_join(t, NULL);
    cap_close(&j.cap);
    *cap = j.cap;
    return j.rc;
}

static void test_client_live(void **state)
{
    struct server sv;
    struct capture c;

    fake_reset();
    fk.st = sample;
    server_start(&sv, "client");
    assert_int_equal(client_live(&sv, &c, "status", NULL), 0);
    assert_true(strncmp(c.out, "{\"total\":10,", 12) == 0);
    assert_int_equal(c.errlen, 0);
    cap_free(&c);

    assert_int_equal(client_live(&sv, &c, "rate", "3M"), 0);
    assert_string_equal(c.out, "3145728\n");
    cap_free(&c);

    assert_int_equal(client_live(&sv, &c, "rate", "fast"), 1);
    assert_int_equal(c.outlen, 0);
    assert_non_null(strstr(c.err, "sluice ctl: rate: 'fast' is not a rate"));
    cap_free(&c);

    assert_int_equal(client_live(&sv, &c, "pause", "all"), 0);
    assert_int_equal(c.outlen, 0);
    assert_int_equal(fk.pause_all, 1);
    cap_free(&c);

    assert_int_equal(client_live(&sv, &c, "pause", "99"), 1);
    assert_non_null(strstr(c.err, "no item 99"));
    cap_free(&c);
    server_stop(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_words),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_join_roundtrip),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_shard_rendered),
        cmocka_unit_test(test_group_rendered),
        cmocka_unit_test(test_server_basics),
        cmocka_unit_test(test_server_framing),
        cmocka_unit_test(test_server_long_line),
        cmocka_unit_test(test_server_attach),
        cmocka_unit_test(test_server_many_clients),
        cmocka_unit_test(test_server_socket_file),
        cmocka_unit_test(test_client_offline),
        cmocka_unit_test(test_client_live),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
