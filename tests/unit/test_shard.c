/* --shard: the hash against the published FNV-1a 64 vectors, the split, and the parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "shard.h"
#include "util.h"

static void test_hash_vectors(void **state)
{
    /* The reference vectors of the FNV authors (draft-eastlake-fnv): any tool can check ours. */
    assert_true(shard_hash("") == UINT64_C(0xcbf29ce484222325));
    assert_true(shard_hash("a") == UINT64_C(0xaf63dc4c8601ec8c));
    assert_true(shard_hash("foobar") == UINT64_C(0x85944171f73967e8));
    /* URLs as written in a list: docs/scale.md#sharding gives these two as examples. */
    assert_true(shard_hash("http://127.0.0.1:8080/f/0001.bin") == UINT64_C(0xfdc9245e5f7ba698));
    assert_true(shard_hash("https://example.com/a") == UINT64_C(0x046a4934057f51cf));
}

static void test_mine(void **state)
{
    struct shard none = { 0, 0 }, s0 = { 0, 3 }, s1 = { 1, 3 }, s2 = { 2, 3 };

    assert_true(shard_mine(&none, "https://example.com/a"));
    /* 0x046a4934057f51cf % 3 == 1, % 7 == 6 */
    assert_false(shard_mine(&s0, "https://example.com/a"));
    assert_true(shard_mine(&s1, "https://example.com/a"));
    assert_false(shard_mine(&s2, "https://example.com/a"));
    assert_true(shard_mine(&(struct shard){ 6, 7 }, "https://example.com/a"));
    /* The bytes as written: a trailing slash or another case is another URL. */
    assert_true(shard_hash("https://example.com/a/") != shard_hash("https://example.com/a"));
}

static void test_every_item_once(void **state)
{
    char url[64];

    for (uint32_t n = 1; n <= 9; n++) {
        size_t count[9] = { 0 };

        for (int i = 0; i < 2000; i++) {
            int owners = 0;

            snprintf(url, sizeof url, "http://h/%d", i);
            for (uint32_t k = 0; k < n; k++) {
                if (shard_mine(&(struct shard){ k, n }, url)) {
                    owners++;
                    count[k]++;
                }
            }
            assert_int_equal(owners, 1);
        }
        /* Not a timing figure: a hash that put nothing in a shard would be a broken hash. */
        for (uint32_t k = 0; k < n; k++)
            assert_true(count[k] > 2000 / n / 2);
    }
}

static void test_parse(void **state)
{
    struct shard s = { 9, 9 };
    char err[ERRLEN], buf[24];

    assert_int_equal(shard_parse("0/3", NULL, &s, err), 0);
    assert_int_equal(s.k, 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(shard_fmt(&s, buf, sizeof buf), "0/3");
    assert_int_equal(shard_parse("2/3", NULL, &s, err), 0);
    assert_int_equal(s.k, 2);
    assert_int_equal(shard_parse("0/1", NULL, &s, err), 0);
    assert_int_equal(shard_parse("index/4", "3", &s, err), 0);
    assert_int_equal(s.k, 3);
    assert_int_equal(s.n, 4);
    assert_int_equal(shard_parse("off", NULL, &s, err), 0);
    assert_int_equal(s.n, 0);
    assert_string_equal(shard_fmt(&s, buf, sizeof buf), "");

    s = (struct shard){ 1, 2 };
    assert_int_equal(shard_parse("3/3", NULL, &s, err), -1);
    assert_non_null(strstr(err, "K:"));
    assert_int_equal(shard_parse("0/0", NULL, &s, err), -1);
    assert_int_equal(shard_parse("-1/3", NULL, &s, err), -1);
    assert_int_equal(shard_parse("1", NULL, &s, err), -1);
    assert_int_equal(shard_parse("/3", NULL, &s, err), -1);
    assert_int_equal(shard_parse("1/", NULL, &s, err), -1);
    assert_int_equal(shard_parse("0/65537", NULL, &s, err), -1);
    assert_int_equal(shard_parse("index/4", NULL, &s, err), -1);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX is not set"));
    assert_int_equal(shard_parse("index/4", "4", &s, err), -1);
    assert_non_null(strstr(err, "JOB_COMPLETION_INDEX"));
    assert_int_equal(shard_parse("index/4", "x", &s, err), -1);
    /* A refused spec leaves the setting as it was. */
    assert_int_equal(s.k, 1);
    assert_int_equal(s.n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_mine),
        cmocka_unit_test(test_every_item_once),
        cmocka_unit_test(test_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
