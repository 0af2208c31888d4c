/* notify: the environment --on-finish's command gets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "notify.h"

static void test_env(void **state)
{
    static char env[NOTIFY_ENV_MAX][NOTIFY_ENV_LEN];
    struct notify_counts c = { .total = 10, .done = 6, .unchanged = 3, .failed = 1,
                               .bytes = 123456789, .elapsed_ms = 61999, .dir = "/srv/out" };
    size_t n;

    (void)state;
    n = notify_env(&c, env);
    assert_int_equal(n, 8);
    assert_string_equal(env[0], "SLUICE_TOTAL=10");
    assert_string_equal(env[1], "SLUICE_DONE=6");
    assert_string_equal(env[2], "SLUICE_UNCHANGED=3");
    assert_string_equal(env[3], "SLUICE_FAILED=1");
    assert_string_equal(env[4], "SLUICE_BYTES=123456789");
    assert_string_equal(env[5], "SLUICE_ELAPSED=61");
    assert_string_equal(env[6], "SLUICE_RESULT=failed");
    assert_string_equal(env[7], "SLUICE_DIR=/srv/out");

    c.failed = 0;
    c.elapsed_ms = -1;
    c.dir = NULL;
    notify_env(&c, env);
    assert_string_equal(env[5], "SLUICE_ELAPSED=0");
    assert_string_equal(env[6], "SLUICE_RESULT=done");
    assert_string_equal(env[7], "SLUICE_DIR=.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
