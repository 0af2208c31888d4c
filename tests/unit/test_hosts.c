/* Per-host limits with fake settings and fake time: rule matching, the capped host's bucket, and
 * the AIMD limit after 429/503 (halve once per hold period, grow back by one per success). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "hosts.h"
#include "opts.h"
#include "util.h"

static struct host_rule rules[] = {
    { .host = "example.com", .per_host = 2, .rate = -1 },
    { .host = "example.com:8080", .per_host = 5, .rate = -1 },
    { .host = "cdn.test", .per_host = -1, .rate = 1000 },
    { .host = "off.test", .per_host = 3, .rate = 0 },
};

static struct settings settings(int per_host, int concurrency)
{
    struct settings s = {
        .concurrency = concurrency, .per_host = per_host,
        .hosts = rules, .nhosts = sizeof rules / sizeof rules[0],
    };

    return s;
}

/* An exact "host:port" rule wins over the host alone; the host alone matches any port of it. */
static void test_rule_matching(void **state)
{
    struct settings s = settings(4, 16);
    struct host h = { 0 };

    (void)state;
    assert_int_equal(hosts_effective(&s, "example.com", &h), 2);
    assert_int_equal(hosts_effective(&s, "example.com:8080", &h), 5);
    assert_int_equal(hosts_effective(&s, "example.com:9090", &h), 2);
    /* Not the same host: a longer name, a suffix, another host. */
    assert_int_equal(hosts_effective(&s, "example.community", &h), 4);
    assert_int_equal(hosts_effective(&s, "www.example.com", &h), 4);
    assert_int_equal(hosts_effective(&s, "other.test", &h), 4);
    /* A rule without its own per_host falls back to --per-host. */
    assert_int_equal(hosts_effective(&s, "cdn.test", &h), 4);
    s.per_host = 0;
    assert_int_equal(hosts_effective(&s, "cdn.test", &h), 0);
    assert_int_equal(hosts_effective(&s, "off.test", &h), 3);
}

/* The AIMD limit only ever lowers the configured one. */
static void test_effective_lowered_only(void **state)
{
    struct settings s = settings(0, 16);
    struct host h = { .limit = 3 };

    (void)state;
    assert_int_equal(hosts_effective(&s, "example.com", &h), 2);      /* base 2 < 3 */
    assert_int_equal(hosts_effective(&s, "example.com:8080", &h), 3); /* 3 < base 5 */
    assert_int_equal(hosts_effective(&s, "other.test", &h), 3);       /* no base */
    h.limit = 0;
    assert_int_equal(hosts_effective(&s, "other.test", &h), 0);
}

static void test_get_and_caps(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    struct host *cdn, *off, *plain;

    (void)state;
    cdn = hosts_get(hs, &s, "cdn.test", 5000);
    assert_non_null(cdn);
    assert_ptr_equal(hosts_get(hs, &s, "cdn.test", 9000), cdn);
    /* A capped host starts with an empty bucket: no burst at start. */
    assert_true(cdn->capped);
    assert_int_equal(cdn->bucket.rate, 1000);
    assert_int_equal(cdn->bucket.tokens, 0);
    assert_int_equal(cdn->bucket.last_ms, 5000);
    assert_int_equal(cdn->active, 0);
    assert_int_equal(cdn->limit, 0);
    /* Rate 0 in a rule is no cap; no rule, no cap. */
    off = hosts_get(hs, &s, "off.test", 5000);
    plain = hosts_get(hs, &s, "plain.test", 5000);
    assert_false(off->capped);
    assert_false(plain->capped);
    assert_ptr_not_equal(off, plain);
    /* A host and the same host on a port are different hosts. */
    assert_ptr_not_equal(hosts_get(hs, &s, "cdn.test:81", 5000), cdn);
    hosts_free(hs);
    hosts_free(NULL);
}

static void test_ok_counts_active(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    struct host *h = hosts_get(hs, &s, "example.com", 0);

    (void)state;
    assert_true(hosts_ok(hs, &s, "example.com", 0));
    h->active = 1;
    assert_true(hosts_ok(hs, &s, "example.com", 0));
    h->active = 2;
    assert_false(hosts_ok(hs, &s, "example.com", 0));
    /* No limit at all: always room (made on first use). */
    assert_true(hosts_ok(hs, &s, "free.test", 0));
    hosts_get(hs, &s, "free.test", 0)->active = 1000;
    assert_true(hosts_ok(hs, &s, "free.test", 0));
    /* Slowed down to one connection, a host with one running has no room. */
    h->active = 1;
    h->limit = 1;
    assert_false(hosts_ok(hs, &s, "example.com", 0));
    hosts_free(hs);
}

/* 429/503: the limit halves once per hold period; a second one within it only extends the hold. */
static void test_slow_down_halves_once_per_hold(void **state)
{
    struct settings s = settings(8, 16);
    struct host h = { .active = 6 };
    char msg[ERRLEN];

    (void)state;
    assert_true(hosts_slow_down(&s, "a.test", &h, 2000, 1000, msg));
    assert_int_equal(h.limit, 4);
    assert_int_equal(h.hold_until, 3000);
    assert_string_equal(msg, "a.test asked to slow down: at most 4 connections for now");

    msg[0] = '\0';
    assert_false(hosts_slow_down(&s, "a.test", &h, 500, 1500, msg));   /* within, shorter */
    assert_int_equal(h.limit, 4);
    assert_int_equal(h.hold_until, 3000);
    assert_string_equal(msg, "");
    assert_false(hosts_slow_down(&s, "a.test", &h, 5000, 2000, msg));  /* within, longer */
    assert_int_equal(h.limit, 4);
    assert_int_equal(h.hold_until, 7000);

    /* After the hold: halves again, down to one, never below. */
    assert_true(hosts_slow_down(&s, "a.test", &h, 1000, 7000, msg));
    assert_int_equal(h.limit, 2);
    assert_true(hosts_slow_down(&s, "a.test", &h, 1000, 8000, msg));
    assert_int_equal(h.limit, 1);
    assert_string_equal(msg, "a.test asked to slow down: at most 1 connection for now");
    assert_true(hosts_slow_down(&s, "a.test", &h, 1000, 9000, msg));
    assert_int_equal(h.limit, 1);
}

/* Without any configured limit the halving starts from the connections open (at least one). */
static void test_slow_down_without_limit(void **state)
{
    struct settings s = settings(0, 16);
    struct host h = { .active = 6 };
    struct host idle = { 0 };
    char msg[ERRLEN];

    (void)state;
    assert_true(hosts_slow_down(&s, "b.test", &h, 1000, 0, msg));
    assert_int_equal(h.limit, 3);
    assert_true(hosts_slow_down(&s, "b.test", &idle, 1000, 0, msg));
    assert_int_equal(idle.limit, 1);
}

/* After the hold each success adds one; reaching the configured limit drops the AIMD limit. */
static void test_success_grows_back(void **state)
{
    struct settings s = settings(0, 16);
    struct host h = { .limit = 1, .hold_until = 5000 };

    (void)state;
    hosts_success(&s, "example.com:9090", &h, 16, 4999);  /* base 2 by rule; still held */
    assert_int_equal(h.limit, 1);
    hosts_success(&s, "example.com:9090", &h, 16, 5000);
    assert_int_equal(h.limit, 0);                          /* 2 >= base 2: gone */
    hosts_success(&s, "example.com:9090", &h, 16, 6000);   /* nothing of its own: no-op */
    assert_int_equal(h.limit, 0);

    h.limit = 3;
    h.hold_until = 0;
    hosts_success(&s, "example.com:8080", &h, 16, 10);     /* base 5 */
    assert_int_equal(h.limit, 4);
    hosts_success(&s, "example.com:8080", &h, 16, 10);
    assert_int_equal(h.limit, 0);
}

/* With no configured limit the AIMD limit goes away once it reaches the concurrency. */
static void test_success_up_to_concurrency(void **state)
{
    struct settings s = settings(0, 4);
    struct host h = { .limit = 2 };

    (void)state;
    hosts_success(&s, "free.test", &h, 4, 0);
    assert_int_equal(h.limit, 3);
    hosts_success(&s, "free.test", &h, 4, 0);
    assert_int_equal(h.limit, 0);
}

/* Idle hosts leave the table: a transfer's end releases its host unless something of it is in
 * force (transfers, a lowered limit, a cap's bucket); asking hosts_ok makes no entry. */
static void test_idle_hosts_leave(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    enum { N = 100000 };
    static struct host *hp[N];
    char name[32];

    (void)state;
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h%d.test", i);
        assert_true(hosts_ok(hs, &s, name, 0));
    }
    assert_int_equal(hosts_count(hs), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h%d.test", i);
        hp[i] = hosts_get(hs, &s, name, 0);
        hp[i]->active++;
    }
    assert_int_equal(hosts_count(hs), N);
    /* One slowed down, and still running; one capped (cdn.test has a rate rule). */
    {
        char msg[512];

        assert_true(hosts_slow_down(&s, "h7.test", hp[7], 1000, 0, msg));
    }
    {
        struct host *c = hosts_get(hs, &s, "cdn.test", 0);

        c->active++;
        c->active--;
        hosts_release(hs, "cdn.test", c, 0);
    }
    assert_int_equal(hosts_count(hs), N + 1);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h%d.test", i);
        hp[i]->active--;
        hosts_release(hs, name, hp[i], 0);
    }
    /* What is left: the slowed-down host and the capped one, both still found. */
    assert_int_equal(hosts_count(hs), 2);
    assert_true(hosts_get(hs, &s, "h7.test", 0) == hp[7]);
    assert_int_equal(hp[7]->limit, 1);
    assert_true(hosts_get(hs, &s, "cdn.test", 0)->capped);
    assert_int_equal(hosts_count(hs), 2);
    /* Its limit back to none (successes after the hold), the next release lets it go. */
    hp[7]->active++;
    hosts_success(&s, "h7.test", hp[7], 2, 2000);
    assert_int_equal(hp[7]->limit, 0);
    hp[7]->active--;
    hosts_release(hs, "h7.test", hp[7], 0);
    assert_int_equal(hosts_count(hs), 1);
    /* A host still running is kept by a release; a new one starts afresh. */
    {
        struct host *a = hosts_get(hs, &s, "busy.test", 0), *b;

        a->active = 2;
        a->active--;
        hosts_release(hs, "busy.test", a, 0);
        assert_true(hosts_get(hs, &s, "busy.test", 0) == a);
        a->active--;
        hosts_release(hs, "busy.test", a, 0);
        b = hosts_get(hs, &s, "busy.test", 0);
        assert_int_equal(b->active, 0);
        assert_int_equal(b->limit, 0);
    }
    hosts_free(hs);
}

/* --per-host-rps: a host with no request token is refused with the time its next one is due;
 * an unknown host starts with its burst; other hosts are not affected. */
static void test_rps_admission(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    struct host *h;
    int64_t wake = -1;
    bool lease = false;

    (void)state;
    s.per_host_rps = 20;                  /* burst 2 */
    assert_int_equal(hosts_rps_base(&s, "r.test"), 20);
    assert_int_equal(hosts_rps_base(&s, "cdn.test"), 0);   /* its rule says rps 0 (unset: 0) */
    assert_true(hosts_ok(hs, &s, "r.test", 1000));
    h = hosts_get(hs, &s, "r.test", 1000);
    hosts_started(h, 1000);
    assert_true(hosts_admit(hs, &s, "r.test", 1000, &wake, &lease));
    hosts_started(h, 1000);
    assert_false(hosts_admit(hs, &s, "r.test", 1000, &wake, &lease));
    assert_int_equal(wake, 50);
    assert_false(lease);
    assert_true(hosts_ok(hs, &s, "other.test", 1000));
    assert_false(hosts_ok(hs, &s, "r.test", 1049));
    assert_true(hosts_ok(hs, &s, "r.test", 1050));
    /* Kept while its bucket is short (a new entry would start full), let go once refilled. */
    hosts_release(hs, "r.test", h, 1050);
    assert_int_equal(hosts_count(hs), 1);
    assert_int_equal(hosts_sweep(hs, 1060, 10), 0);
    assert_int_equal(hosts_sweep(hs, 1100, 10), 1);
    assert_int_equal(hosts_count(hs), 0);
    hosts_free(hs);
}

/* A cap group's hold: nothing of the host before it ends; the wake-up says when. */
static void test_hold(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    struct host *h = hosts_get(hs, &s, "h.test", 0);
    int64_t wake = -1;

    (void)state;
    hosts_hold(h, 8000, 429);
    hosts_hold(h, 5000, 503);             /* an earlier end does not shorten it */
    assert_int_equal(h->gate_until, 8000);
    assert_int_equal(h->gate_status, 429);
    assert_false(hosts_admit(hs, &s, "h.test", 1000, &wake, NULL));
    assert_int_equal(wake, 7000);
    assert_true(hosts_ok(hs, &s, "h.test", 8000));
    hosts_release(hs, "h.test", h, 7999);
    assert_int_equal(hosts_count(hs), 1);
    assert_int_equal(hosts_sweep(hs, 8000, 10), 1);
    hosts_free(hs);
}

/* With a cap group: fed buckets start empty and ask for a lease; Redis away, the clock feeds
 * them at the host's rate over the workers. */
static void test_rps_modes(void **state)
{
    struct settings s = settings(0, 16);
    struct hosts *hs = hosts_new();
    struct host *h;
    int64_t wake = -1;
    bool lease = false;

    (void)state;
    s.per_host_rps = 30;
    hosts_rps_mode(hs, &s, true, 1, 0);
    assert_true(hosts_rps_fed(hs));
    h = hosts_get(hs, &s, "g.test", 0);
    assert_false(hosts_admit(hs, &s, "g.test", 0, &wake, &lease));
    assert_true(lease);
    assert_int_equal(wake, -1);
    rps_credit(&h->rps, 2);
    assert_true(hosts_ok(hs, &s, "g.test", 0));
    hosts_rps_mode(hs, &s, false, 3, 0);  /* 30 / 3 workers = 10 a second, burst 1 */
    assert_false(hosts_rps_fed(hs));
    assert_int_equal(h->rps.rate, 10);
    assert_true(hosts_ok(hs, &s, "g.test", 0));   /* the leased tokens, clipped to the burst */
    hosts_started(h, 0);
    assert_false(hosts_ok(hs, &s, "g.test", 99));
    assert_true(hosts_ok(hs, &s, "g.test", 100));
    hosts_free(hs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_matching),
        cmocka_unit_test(test_effective_lowered_only),
        cmocka_unit_test(test_get_and_caps),
        cmocka_unit_test(test_ok_counts_active),
        cmocka_unit_test(test_slow_down_halves_once_per_hold),
        cmocka_unit_test(test_slow_down_without_limit),
        cmocka_unit_test(test_success_grows_back),
        cmocka_unit_test(test_success_up_to_concurrency),
        cmocka_unit_test(test_idle_hosts_leave),
        cmocka_unit_test(test_rps_admission),
        cmocka_unit_test(test_hold),
        cmocka_unit_test(test_rps_modes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
