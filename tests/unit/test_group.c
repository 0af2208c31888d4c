/* The shared cap's pure policy: the --cap-group URL, lease sizes, the safe local cap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "group.h"
#include "util.h"

static void test_parse_ok(void **state)
{
    struct group_url u;
    char err[ERRLEN];

    assert_int_equal(group_parse_url("redis://127.0.0.1:6390/nightly", &u, err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6390);
    assert_string_equal(u.name, "nightly");
    assert_int_equal(group_parse_url("redis://redis.svc/a.b_c-9", &u, err), 0);
    assert_string_equal(u.host, "redis.svc");
    assert_int_equal(u.port, 6379);
    assert_string_equal(u.name, "a.b_c-9");
    assert_int_equal(group_parse_url("redis://[::1]:7000/g", &u, err), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(group_parse_url("redis://[::1]/g", &u, err), 0);
    assert_int_equal(u.port, 6379);
}

static void test_parse_refused(void **state)
{
    static const struct { const char *in, *says; } bad[] = {
        { "http://h/g", "redis://HOST" },
        { "redis://h", "NAME is missing" },
        { "redis://h/", "NAME must be" },
        { "redis:///g", "bad host" },
        { "redis://h:/g", "bad port" },
        { "redis://h:0/g", "port:" },
        { "redis://h:65536/g", "port:" },
        { "redis://h:12x/g", "port:" },
        { "redis://u:p@h/g", "not supported" },
        { "redis://h/a/b", "NAME takes" },
        { "redis://h/a b", "NAME takes" },
        { "redis://[::1/g", "']'" },
        { "redis://[::1]x/g", "bad host" },
        { "redis://h/01234567890123456789012345678901234567890123456789012345678901234",
          "NAME must be" },
    };
    struct group_url u;
    char err[ERRLEN];

    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (group_parse_url(bad[i].in, &u, err) != -1)
            fail_msg("%s was accepted", bad[i].in);
        if (strstr(err, bad[i].says) == NULL)
            fail_msg("%s: '%s' does not say '%s'", bad[i].in, err, bad[i].says);
    }
}

static void test_lease(void **state)
{
    /* 10 MB/s: 100 ms of it, 1 MB, for one worker; a tenth each for ten. */
    assert_int_equal(group_lease_bytes(10000000, 1), 1000000);
    assert_int_equal(group_lease_bytes(10000000, 10), 100000);
    assert_int_equal(group_lease_bytes(10000000, 0), 1000000);
    /* Never below the floor, and nothing for no cap. */
    assert_int_equal(group_lease_bytes(100000, 4), GROUP_LEASE_MIN);
    assert_int_equal(group_lease_bytes(0, 1), 0);
    assert_int_equal(group_lease_bytes(-5, 1), 0);
    /* Huge rates do not overflow. */
    assert_true(group_lease_bytes(INT64_MAX, 1) > 0);
}

static void test_fallback(void **state)
{
    assert_int_equal(group_fallback_rate(3000000, 3), 1000000);
    assert_int_equal(group_fallback_rate(3000000, 0), 3000000);
    assert_int_equal(group_fallback_rate(2, 7), 1);      /* capped, never "off" */
    assert_int_equal(group_fallback_rate(0, 3), 0);      /* the group has no cap */
}

/* Request leases: about 100 ms of the worker's share, rounded up, within 1..burst. */
static void test_rps_lease(void **state)
{
    assert_int_equal(group_rps_lease(0, 3), 0);
    assert_int_equal(group_rps_lease(1, 1), 1);
    assert_int_equal(group_rps_lease(20, 3), 1);      /* 0.67 -> 1 */
    assert_int_equal(group_rps_lease(100, 1), 10);
    assert_int_equal(group_rps_lease(100, 4), 3);     /* 2.5 -> 3 */
    assert_int_equal(group_rps_lease(1000, 0), 100);  /* workers < 1: one */
    /* Never more than the host's burst (N/10): held tokens add to what the host may see. */
    assert_int_equal(group_rps_lease(5, 1), 1);
    assert_int_equal(group_rps_pause_ms(0, 1, 1), GROUP_LEASE_MS);
    assert_int_equal(group_rps_pause_ms(1, 1, 1), GROUP_LEASE_MS);
    assert_int_equal(group_rps_pause_ms(20, 1, 1), 50);         /* the whole 20/s: 50 ms a request */
    assert_int_equal(group_rps_pause_ms(50, 3, 1), 60);         /* a third of 50/s */
    assert_int_equal(group_rps_pause_ms(50, 3, 2), GROUP_LEASE_MS);
    assert_int_equal(group_rps_pause_ms(100000, 1, 1), 5);
    assert_int_equal(group_rps_pause_ms(100, 0, 0), 10);        /* workers and short_by at least 1 */
}

/* Byte leases: after a full grant the next call waits only the floor (the engine asks again when
 * it has spent the lease, so the calls follow what it uses, not cap / workers); after a short
 * one, about as long as this worker's share takes to earn the rest, 5..GROUP_LEASE_MS. */
static void test_lease_pause(void **state)
{
    /* Full grants: the floor, whatever the count of workers (a stale count must not slow it). */
    assert_int_equal(group_lease_pause_ms(4194304, 1, 419430, 419430), GROUP_PACE_MIN_MS);
    assert_int_equal(group_lease_pause_ms(4194304, 6, 69905, 69905), GROUP_PACE_MIN_MS);
    assert_int_equal(group_lease_pause_ms(4194304, 6, 69905, 80000), GROUP_PACE_MIN_MS);
    /* Short: 1 MB/s over 2 workers, 500 KB/s each; 10 KB short is 20 ms. */
    assert_int_equal(group_lease_pause_ms(1000000, 2, 50000, 40000), 20);
    assert_int_equal(group_lease_pause_ms(1000000, 2, 50000, 0), GROUP_LEASE_MS);
    assert_int_equal(group_lease_pause_ms(1000000, 2, 50000, -3), GROUP_LEASE_MS);
    assert_int_equal(group_lease_pause_ms(1000000000, 1, 50000, 49000), 5);   /* the floor */
    assert_int_equal(group_lease_pause_ms(1000000, 0, 50000, 40000), 10);     /* workers >= 1 */
    /* No cap, nothing asked, or a share below a byte a second: the lease's length. */
    assert_int_equal(group_lease_pause_ms(0, 1, 50000, 0), GROUP_LEASE_MS);
    assert_int_equal(group_lease_pause_ms(1000000, 1, 0, 0), GROUP_LEASE_MS);
    assert_int_equal(group_lease_pause_ms(3, 7, 16384, 0), GROUP_LEASE_MS);
}

/* The count to share by: the --shard guess until Redis has counted that many once, or until
 * GROUP_WORKER_TTL_MS after the start; then Redis's count, down as well as up. */
static void test_count(void **state)
{
    bool settled = false;

    /* Starting: Redis has seen 1, then 2 of 6 ask; the guess stands. */
    assert_int_equal(group_count(1, 6, 1000, 1010, &settled), 6);
    assert_int_equal(group_count(2, 6, 1000, 1150, &settled), 6);
    assert_false(settled);
    /* All six counted once: settled, and from then on Redis's count, even below the guess. */
    assert_int_equal(group_count(6, 6, 1000, 1300, &settled), 6);
    assert_true(settled);
    assert_int_equal(group_count(3, 6, 1000, 1400, &settled), 3);
    assert_int_equal(group_count(0, 6, 1000, 1500, &settled), 1);     /* at least one */
    /* The others never came (their shards were done): Redis's count after the TTL. */
    settled = false;
    assert_int_equal(group_count(1, 4, 0, GROUP_WORKER_TTL_MS - 1, &settled), 4);
    assert_int_equal(group_count(1, 4, 0, GROUP_WORKER_TTL_MS, &settled), 1);
    assert_true(settled);
    /* More than the guess (no --shard, or other lists): Redis's count at once. */
    settled = false;
    assert_int_equal(group_count(5, 1, 0, 10, &settled), 5);
    assert_true(settled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_lease),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_rps_lease),
        cmocka_unit_test(test_lease_pause),
        cmocka_unit_test(test_count),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
