/* Fingerprints of the intake's pass one: hashes, the folder set, the in-place sort and lookup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fprint.h"

/* A small deterministic generator: the tests never depend on libc's rand. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_hash_str(void **state)
{
    static const char *const words[] = {
        "", "a", "b", "ab", "ba", "https://example.com/a", "https://example.com/b",
        "https://example.com/a/", "x/y.part", "x/y",
    };

    (void)state;
    assert_true(fprint_hash_str("https://example.com/a") == fprint_hash_str("https://example.com/a"));
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        for (size_t j = i + 1; j < sizeof words / sizeof *words; j++)
            assert_true(fprint_hash_str(words[i]) != fprint_hash_str(words[j]));
    /* A path's fingerprint is its string's: paths and URLs are compared with one hash. */
    assert_true(fprint_hash_path("a/b/c", NULL, 0, NULL) == fprint_hash_str("a/b/c"));
    assert_true(fprint_hash_path("file.bin", NULL, 0, NULL) == fprint_hash_str("file.bin"));
}

static void test_hash_path_folders_and_stem(void **state)
{
    struct fprint_set f = { 0 };
    const struct fprint_ent *e;
    uint64_t stem = 0;

    (void)state;
    assert_true(fprint_hash_path("a/b/c", &f, 7, NULL) == fprint_hash_str("a/b/c"));
    assert_int_equal(f.n, 2);
    e = fprint_set_get(&f, fprint_hash_str("a"));
    assert_non_null(e);
    assert_int_equal(e->who, 7);
    e = fprint_set_get(&f, fprint_hash_str("a/b"));
    assert_non_null(e);
    assert_int_equal(e->who, 7);
    /* The path itself is no folder, nor is any other prefix. */
    assert_null(fprint_set_get(&f, fprint_hash_str("a/b/c")));
    assert_null(fprint_set_get(&f, fprint_hash_str("a/")));
    assert_null(fprint_set_get(&f, fprint_hash_str("b")));

    /* The first item needing a folder stays its owner. */
    fprint_hash_path("a/x", &f, 9, NULL);
    assert_int_equal(f.n, 2);
    assert_int_equal(fprint_set_get(&f, fprint_hash_str("a"))->who, 7);

    /* X.part: the stem is X's fingerprint. */
    assert_true(fprint_hash_path("d/y.part", &f, 3, &stem) == fprint_hash_str("d/y.part"));
    assert_true(stem == fprint_hash_str("d/y"));
    assert_int_equal(fprint_set_get(&f, fprint_hash_str("d"))->who, 3);
    fprint_set_free(&f);
    assert_null(f.v);
    assert_int_equal(f.n, 0);
}

static void test_set_add_get(void **state)
{
    struct fprint_set f = { 0 };
    uint64_t s = 12345;

    (void)state;
    assert_null(fprint_set_get(&f, 42));    /* empty: nothing allocated, nothing found */
    for (uint32_t i = 0; i < 20000; i++)
        fprint_set_add(&f, fprint_hash_str((char[]){ (char)('a' + i % 26), 0 }) + i, i);
    assert_int_equal(f.n, 20000);
    assert_false(f.full);
    for (uint32_t i = 0; i < 20000; i++) {
        const struct fprint_ent *e =
            fprint_set_get(&f, fprint_hash_str((char[]){ (char)('a' + i % 26), 0 }) + i);

        assert_non_null(e);
        assert_int_equal(e->who, i);
    }
    /* Absent ones are not found (fingerprints from elsewhere in the 64-bit space). */
    for (int i = 0; i < 20000; i++) {
        uint64_t h = rng_next(&s) | (1ULL << 63);
        const struct fprint_ent *e = fprint_set_get(&f, h);

        assert_true(e == NULL || e->h == h);
    }
    assert_null(fprint_set_get(&f, fprint_hash_str("not there")));
    /* Adding again keeps the first who and the count. */
    fprint_set_add(&f, fprint_hash_str("a"), 99999);
    assert_int_equal(f.n, 20000);
    assert_int_equal(fprint_set_get(&f, fprint_hash_str("a"))->who, 0);
    fprint_set_free(&f);
}

/* Past FPRINT_SET_MAX folders the set gives up: it is emptied and marked full. */
static void test_set_full(void **state)
{
    struct fprint_set f = { 0 };

    (void)state;
    for (uint32_t i = 0; i < FPRINT_SET_MAX; i++)
        fprint_set_add(&f, (uint64_t)i * 0x9e3779b97f4a7c15ULL, i);
    assert_false(f.full);
    assert_int_equal(f.n, FPRINT_SET_MAX);
    assert_non_null(fprint_set_get(&f, 5 * 0x9e3779b97f4a7c15ULL));
    fprint_set_add(&f, 0xdeadbeef, 1);
    assert_true(f.full);
    assert_null(f.v);
    assert_int_equal(f.n, 0);
    assert_null(fprint_set_get(&f, 5 * 0x9e3779b97f4a7c15ULL));
    fprint_set_add(&f, 0xfeed, 2);             /* ignored from now on */
    assert_int_equal(f.n, 0);
    assert_null(fprint_set_get(&f, 0xfeed));
    fprint_set_free(&f);
}

static void check_sorted(const struct fprint_rec *v, size_t n, bool by_path)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = by_path ? v[i - 1].h2 : v[i - 1].h, y = by_path ? v[i].h2 : v[i].h;

        assert_true(x <= y);
        if (x == y)
            assert_true(v[i - 1].seq < v[i].seq);
    }
}

/* Records with seq 0..n-1 in a shuffled order and keys from a range of nkeys values. */
static struct fprint_rec *make_recs(size_t n, uint64_t nkeys, uint64_t seed)
{
    struct fprint_rec *v = calloc(n ? n : 1, sizeof *v);

    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct fprint_rec){ .h = rng_next(&seed) % nkeys, .h2 = rng_next(&seed) % nkeys,
                                    .seq = (uint32_t)i, .line = (uint32_t)i + 1 };
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_next(&seed) % i;
        struct fprint_rec t = v[i - 1];

        v[i - 1] = v[j];
        v[j] = t;
    }
    return v;
}

static void check_permutation(const struct fprint_rec *v, size_t n)
{
    unsigned char *seen = calloc(n ? n : 1, 1);

    assert_non_null(seen);
    for (size_t i = 0; i < n; i++) {
        assert_true(v[i].seq < n);
        assert_false(seen[v[i].seq]);
        seen[v[i].seq] = 1;
        assert_int_equal(v[i].line, v[i].seq + 1);   /* records move whole */
    }
    free(seen);
}

static void test_sort(void **state)
{
    static const size_t sizes[] = { 0, 1, 2, 3, 16, 17, 100, 1000, 100000 };
    static const uint64_t keys[] = { 1, 2, 50, UINT64_MAX };

    (void)state;
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++) {
        for (size_t b = 0; b < sizeof keys / sizeof *keys; b++) {
            struct fprint_rec *v = make_recs(sizes[a], keys[b], 88172645463325252ULL + a * 7 + b);

            fprint_sort(v, sizes[a], false);
            check_sorted(v, sizes[a], false);
            check_permutation(v, sizes[a]);
            fprint_sort(v, sizes[a], true);
            check_sorted(v, sizes[a], true);
            check_permutation(v, sizes[a]);
            free(v);
        }
    }
}

/* Already sorted and reversed input: the median of three keeps these fast and correct. */
static void test_sort_ordered_input(void **state)
{
    size_t n = 50000;
    struct fprint_rec *v = calloc(n, sizeof *v);

    (void)state;
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (struct fprint_rec){ .h = n - i, .seq = (uint32_t)i, .line = (uint32_t)i + 1 };
    fprint_sort(v, n, false);
    check_sorted(v, n, false);
    check_permutation(v, n);
    assert_true(v[0].h == 1 && v[n - 1].h == n);
    fprint_sort(v, n, false);
    check_sorted(v, n, false);
    free(v);
}

static void test_find(void **state)
{
    struct fprint_rec v[] = {
        { .h = 30, .h2 = 5, .seq = 4 }, { .h = 10, .h2 = 7, .seq = 2 },
        { .h = 20, .h2 = 5, .seq = 1 }, { .h = 10, .h2 = 6, .seq = 0 },
        { .h = 30, .h2 = 9, .seq = 3 },
    };
    size_t n = sizeof v / sizeof *v;
    const struct fprint_rec *r;

    (void)state;
    assert_null(fprint_find(v, 0, 10, false));
    fprint_sort(v, n, false);
    r = fprint_find(v, n, 10, false);
    assert_non_null(r);
    assert_int_equal(r->seq, 0);               /* the first of equal ones */
    r = fprint_find(v, n, 30, false);
    assert_non_null(r);
    assert_int_equal(r->seq, 3);
    assert_int_equal(fprint_find(v, n, 20, false)->seq, 1);
    assert_null(fprint_find(v, n, 0, false));
    assert_null(fprint_find(v, n, 15, false));
    assert_null(fprint_find(v, n, 31, false));
    fprint_sort(v, n, true);
    r = fprint_find(v, n, 5, true);
    assert_non_null(r);
    assert_int_equal(r->seq, 1);
    assert_int_equal(fprint_find(v, n, 9, true)->seq, 3);
    assert_null(fprint_find(v, n, 8, true));
}

/* Repeated URLs, the way pass one finds them: sorted by fingerprint, a record equal to the one
 * before it repeats an earlier item. */
static void test_duplicates(void **state)
{
    static const char *const urls[] = {
        "https://a.example/1", "https://a.example/2", "https://a.example/1",
        "https://b.example/1", "https://a.example/2", "https://a.example/1", "https://c.example/",
    };
    static const bool dup[] = { false, false, true, false, true, true, false };
    size_t n = sizeof urls / sizeof *urls, nv = 0, cap = 0;
    struct fprint_rec *v = NULL;
    bool found[sizeof urls / sizeof *urls] = { false };

    (void)state;
    for (size_t i = 0; i < n; i++)
        fprint_push(&v, &nv, &cap, (struct fprint_rec){ .h = fprint_hash_str(urls[i]),
                                                        .seq = (uint32_t)i });
    assert_int_equal(nv, n);
    fprint_sort(v, nv, false);
    for (size_t i = 1; i < nv; i++)
        if (v[i].h == v[i - 1].h)
            found[v[i].seq] = true;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(found[i], dup[i]);
    assert_int_equal(fprint_find(v, nv, fprint_hash_str("https://a.example/1"), false)->seq, 0);
    assert_null(fprint_find(v, nv, fprint_hash_str("https://d.example/"), false));
    free(v);
}

static void test_push_grows(void **state)
{
    struct fprint_rec *v = NULL;
    size_t n = 0, cap = 0;

    (void)state;
    for (uint32_t i = 0; i < 5000; i++)
        fprint_push(&v, &n, &cap, (struct fprint_rec){ .h = i * 3u, .seq = i, .line = i + 1 });
    assert_int_equal(n, 5000);
    assert_true(cap >= n);
    for (uint32_t i = 0; i < 5000; i++) {
        assert_true(v[i].h == i * 3u);
        assert_int_equal(v[i].seq, i);
        assert_int_equal(v[i].line, i + 1);
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_str),
        cmocka_unit_test(test_hash_path_folders_and_stem),
        cmocka_unit_test(test_set_add_get),
        cmocka_unit_test(test_set_full),
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_sort_ordered_input),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_push_grows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
