/* wait: why an item moves no bytes, from the engine's facts and a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "wait.h"

#define NOW 1000000

static struct wait_facts base(enum item_state st)
{
    struct wait_facts f;

    memset(&f, 0, sizeof f);
    f.state = st;
    f.transfers = 2;
    f.concurrency = 8;
    return f;
}

static enum wait_reason why(const struct wait_facts *f, char *s, size_t len)
{
    struct wait_answer a;

    wait_decide(f, NOW, 3000, &a);
    wait_short(&a, f, NOW, s, len);
    return a.reason;
}

static void test_running(void **state)
{
    struct wait_facts f = base(ITEM_ACTIVE);
    char s[32];

    (void)state;
    f.last_rx_ms = NOW - 100;
    assert_int_equal(why(&f, s, sizeof s), WAIT_NONE);
    assert_string_equal(s, "");
    f.throttled = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_CAP);
    assert_string_equal(s, "cap");
    f.throttled = false;
    f.diskwait = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_DISK);
    f.diskwait = false;
    f.last_rx_ms = NOW - 9500;
    assert_int_equal(why(&f, s, sizeof s), WAIT_STALLED);
    assert_string_equal(s, "stall 9s");
    /* Under the cap, silence is the cap's doing, not a stall. */
    f.throttled = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_CAP);
}

static void test_queued(void **state)
{
    struct wait_facts f = base(ITEM_QUEUED);
    struct wait_answer a;
    char s[96];

    (void)state;
    assert_int_equal(why(&f, s, sizeof s), WAIT_NONE);
    f.transfers = 8;
    assert_int_equal(why(&f, s, sizeof s), WAIT_SLOTS);
    assert_string_equal(s, "slots 8/8");
    /* Its host's limit comes before the run's slots. */
    f.host_active = 2;
    f.host_limit = 2;
    assert_int_equal(why(&f, s, sizeof s), WAIT_HOST_SLOT);
    assert_string_equal(s, "host 2/2");
    f.host_lowered = true;
    f.host_slow_status = 503;
    f.host_hold_until_ms = NOW + 11200;
    assert_int_equal(why(&f, s, sizeof s), WAIT_HOST_HELD);
    assert_string_equal(s, "held 503 12s");
    wait_decide(&f, NOW, 3000, &a);
    assert_int_equal(a.until_ms, NOW + 11200);
    wait_text(&a, &f, NOW, s, sizeof s);
    assert_string_equal(s, "held by the host after a 503: at most 2 connections for 12s more");
    /* The hold has passed: only the slot. */
    f.host_hold_until_ms = NOW - 1;
    assert_int_equal(why(&f, s, sizeof s), WAIT_HOST_SLOT);
    /* The operator first. */
    f.paused_all = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_ALL_PAUSED);
    f.paused_all = false;
    f.disk_full = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_DISK);
}

static void test_retry_and_paused(void **state)
{
    struct wait_facts f = base(ITEM_RETRY);
    char s[64];

    (void)state;
    f.next_try_ms = NOW + 4001;
    assert_int_equal(why(&f, s, sizeof s), WAIT_RETRY);
    assert_string_equal(s, "retry 5s");
    f.next_try_ms = NOW;
    assert_int_equal(why(&f, s, sizeof s), WAIT_RETRY_DUE);
    assert_string_equal(s, "due");
    /* Due, but its host is full: the host is the reason. */
    f.host_active = f.host_limit = 1;
    assert_int_equal(why(&f, s, sizeof s), WAIT_HOST_SLOT);
    f = base(ITEM_PAUSED);
    assert_int_equal(why(&f, s, sizeof s), WAIT_PAUSED);
    f = base(ITEM_DONE);
    assert_int_equal(why(&f, s, sizeof s), WAIT_NONE);
    f = base(ITEM_FAILED);
    assert_int_equal(why(&f, s, sizeof s), WAIT_NONE);
}

/* A cap group's hold comes before everything of the host; "rps" after the slots. */
static void test_hold_and_rps(void **state)
{
    struct wait_facts f = base(ITEM_QUEUED);
    struct wait_answer a;
    char s[64], t[160];

    (void)state;
    f.host_rps = 5;
    f.host_rps_empty = true;
    assert_int_equal(why(&f, s, sizeof s), WAIT_HOST_RPS);
    assert_string_equal(s, "rps");
    wait_decide(&f, NOW, 3000, &a);
    wait_text(&a, &f, NOW, t, sizeof t);
    assert_string_equal(t, "waiting for its host's next request: at most 5 a second (--per-host-rps)");
    f.transfers = 8;
    assert_int_equal(why(&f, s, sizeof s), WAIT_SLOTS);
    f.transfers = 2;
    f.host_gate_until_ms = NOW + 7500;
    f.host_gate_status = 429;
    assert_int_equal(why(&f, s, sizeof s), WAIT_GROUP_HOLD);
    assert_string_equal(s, "held 429 8s");
    wait_decide(&f, NOW, 3000, &a);
    wait_text(&a, &f, NOW, t, sizeof t);
    assert_string_equal(t, "held after a 429 seen in the cap group: no request to its host for 8s more");
    f.host_gate_until_ms = NOW;           /* over */
    f.host_rps_empty = false;
    assert_int_equal(why(&f, s, sizeof s), WAIT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_running),
        cmocka_unit_test(test_queued),
        cmocka_unit_test(test_retry_and_paused),
        cmocka_unit_test(test_hold_and_rps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
