/* units: sizes, rates, durations, integers and their display. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

#define BAD (-1)

struct vcase {
    const char *in;
    int64_t want;          /* BAD = must be rejected */
    const char *msg;       /* for rejects: a part of the message, or NULL */
};

static void run_cases(const char *what, const struct vcase *c, size_t n,
                      int (*fn)(const char *, int64_t *, char *))
{
    for (size_t i = 0; i < n; i++) {
        char err[ERRLEN] = "";
        int64_t v = -12345;
        int rc = fn(c[i].in, &v, err);

        if (c[i].want == BAD) {
            if (rc != -1)
                fail_msg("%s('%s') accepted as %lld", what, c[i].in, (long long)v);
            assert_int_equal(v, -12345);          /* untouched */
            assert_true(err[0] != '\0');
            if (c[i].msg != NULL && strstr(err, c[i].msg) == NULL)
                fail_msg("%s('%s'): message '%s' lacks '%s'", what, c[i].in, err, c[i].msg);
        } else {
            if (rc != 0)
                fail_msg("%s('%s') rejected: %s", what, c[i].in, err);
            if (v != c[i].want)
                fail_msg("%s('%s') = %lld, want %lld", what, c[i].in, (long long)v,
                         (long long)c[i].want);
        }
    }
}

static void test_size(void **state)
{
    static const struct vcase c[] = {
        { "0", 0, NULL },
        { "123", 123, NULL },
        { "64K", 65536, NULL },
        { "64k", 65536, NULL },
        { "8M", 8388608, NULL },
        { "1G", 1073741824, NULL },
        { "2T", 2199023255552LL, NULL },
        { "1.5M", 1572864, NULL },
        { "0.5K", 512, NULL },
        { "0.1K", 102, NULL },               /* 102.4 rounds to the nearest byte */
        { "1KB", 1024, NULL },
        { "1kB", 1024, NULL },
        { "1MB", 1048576, NULL },
        { "1GB", 1073741824, NULL },
        { "1KiB", 1024, NULL },
        { "1MiB", 1048576, NULL },
        { "1GiB", 1073741824, NULL },
        { "5B", 5, NULL },
        { "400Mbit", 50000000, NULL },
        { "10kbit", 1250, NULL },
        { "10Kbit", 1250, NULL },
        { "1Gbit", 125000000, NULL },
        { "1Mb", 125000, NULL },             /* lower-case b: bits */
        { "2.5Mbit", 312500, NULL },
        { "16bit", 2, NULL },
        { "16bits", 2, NULL },
        { "8b", 1, NULL },
        { "1bit", 1, NULL },                 /* not zero: never rounds down to 0 */
        { "0.0000000001K", 1, NULL },
        { "0.000", 0, NULL },
        { "9223372036854775807", INT64_MAX, NULL },
        { "8388607T", 9223370937343148032LL, NULL },
        { "", BAD, "empty" },
        { "-1", BAD, "negative" },
        { "-5M", BAD, "negative" },
        { "+5", BAD, NULL },
        { "abc", BAD, "not a size" },
        { "5X", BAD, "not a size" },
        { "5MX", BAD, NULL },
        { "5Mbitz", BAD, NULL },
        { "5Kib", BAD, NULL },
        { "5 M", BAD, NULL },
        { " 5M", BAD, NULL },
        { "5M ", BAD, NULL },
        { "1.", BAD, NULL },
        { ".5", BAD, NULL },
        { "1..5", BAD, NULL },
        { "1.2.3", BAD, NULL },
        { "1e6", BAD, NULL },
        { "0x10", BAD, NULL },
        { "M", BAD, NULL },
        { "9223372036854775808", BAD, "too large" },
        { "99999999999999999999999999", BAD, "too large" },
        { "8388608T", BAD, "too large" },
        { "9007199254740992K", BAD, "too large" },
        { "73786976294.9Gbit", BAD, "too large" },
    };

    (void)state;
    run_cases("size", c, ARRAY_LEN(c), units_parse_size);
}

static void test_rate(void **state)
{
    static const struct vcase c[] = {
        { "off", 0, NULL },
        { "OFF", 0, NULL },
        { "Off", 0, NULL },
        { "0", 0, NULL },
        { "50M", 52428800, NULL },
        { "400Mbit", 50000000, NULL },
        { "50M/s", 52428800, NULL },
        { "400Mbit/s", 50000000, NULL },
        { "1000", 1000, NULL },
        { "1.5K/S", 1536, NULL },
        { "", BAD, "empty" },
        { "-1", BAD, "negative" },
        { "fast", BAD, "not a rate" },
        { "/s", BAD, NULL },
        { "5M/s/s", BAD, NULL },
        { "5M/", BAD, NULL },
        { "offf", BAD, NULL },
        { "9223372036854775808/s", BAD, "too large" },
    };

    (void)state;
    run_cases("rate", c, ARRAY_LEN(c), units_parse_rate);
}

static void test_duration(void **state)
{
    static const struct vcase c[] = {
        { "500ms", 500, NULL },
        { "30s", 30000, NULL },
        { "5m", 300000, NULL },
        { "1h", 3600000, NULL },
        { "1d", 86400000, NULL },
        { "1.5s", 1500, NULL },
        { "2", 2000, NULL },
        { "0.25", 250, NULL },
        { "0", 0, NULL },
        { "1h30m", 5400000, NULL },
        { "4m05s", 245000, NULL },
        { "1m0.5s", 60500, NULL },
        { "15S", 15000, NULL },
        { "0.0001s", 1, NULL },
        { "", BAD, "empty" },
        { "-1s", BAD, "negative" },
        { "5x", BAD, "not a duration" },
        { "5min", BAD, NULL },
        { "1h30", BAD, NULL },
        { "s", BAD, NULL },
        { "1.s", BAD, NULL },
        { "1e3", BAD, NULL },
        { "1 s", BAD, NULL },
        { "1s ", BAD, NULL },
        { "200000000000d", BAD, "too large" },
        { "9223372036854775807s", BAD, "too large" },
        { "9223372036854775807ms1ms", BAD, "too large" },
    };

    (void)state;
    run_cases("duration", c, ARRAY_LEN(c), units_parse_duration);
}

static void test_duration_pair(void **state)
{
    static const struct { const char *in; int64_t min, max; } good[] = {
        { "1s,5m", 1000, 300000 },
        { "0,1", 0, 1000 },
        { "1s, 5m", 1000, 300000 },
        { "2s,2s", 2000, 2000 },
    };
    static const char *const bad[] = {
        "5m,1s", "1s", "1s,5m,6m", ",", "1s,", ",5m", "x,5m", "1s,-5m", "", "1s ,5m",
    };
    char err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        int64_t a = -1, b = -1;

        if (units_parse_duration_pair(good[i].in, &a, &b, err) != 0)
            fail_msg("pair '%s' rejected: %s", good[i].in, err);
        assert_int_equal(a, good[i].min);
        assert_int_equal(b, good[i].max);
    }
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t a = -7, b = -7;

        err[0] = '\0';
        if (units_parse_duration_pair(bad[i], &a, &b, err) != -1)
            fail_msg("pair '%s' accepted", bad[i]);
        assert_true(err[0] != '\0');
        assert_int_equal(a, -7);
        assert_int_equal(b, -7);
    }
    assert_int_equal(units_parse_duration_pair("5m,1s", &(int64_t){0}, &(int64_t){0}, err), -1);
    assert_non_null(strstr(err, "MIN is above MAX"));
}

static void test_int(void **state)
{
    static const struct { const char *in; long min, max, want; int ok; } c[] = {
        { "8", 1, 1024, 8, 1 },
        { "1024", 1, 1024, 1024, 1 },
        { "1", 1, 1024, 1, 1 },
        { "-1", -5, 5, -1, 1 },
        { "007", 0, 10, 7, 1 },
        { "0", 1, 1024, 0, 0 },
        { "1025", 1, 1024, 0, 0 },
        { "-1", 0, 10, 0, 0 },
        { "abc", 0, 10, 0, 0 },
        { "", 0, 10, 0, 0 },
        { "12a", 0, 100, 0, 0 },
        { " 12", 0, 100, 0, 0 },
        { "+12", 0, 100, 0, 0 },
        { "1.5", 0, 100, 0, 0 },
        { "-", 0, 100, 0, 0 },
        { "99999999999999999999", 0, 100, 0, 0 },
        { "-99999999999999999999", -100, 100, 0, 0 },
    };
    char err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        long v = -999;
        int rc = units_parse_int(c[i].in, c[i].min, c[i].max, &v, err);

        if (c[i].ok) {
            if (rc != 0)
                fail_msg("int '%s' rejected: %s", c[i].in, err);
            assert_int_equal(v, c[i].want);
        } else {
            if (rc != -1)
                fail_msg("int '%s' in %ld..%ld accepted", c[i].in, c[i].min, c[i].max);
            assert_int_equal(v, -999);
        }
    }
    units_parse_int("0", 1, 1024, &(long){0}, err);
    assert_non_null(strstr(err, "1..1024"));
}

static void test_fmt(void **state)
{
    static const struct { int64_t v; const char *size, *rate, *cap; } c[] = {
        { 0, "0 B", "0 B/s", "off" },
        { 512, "512 B", "512 B/s", "512 B/s" },
        { 1023, "1023 B", "1023 B/s", "1023 B/s" },
        { 1024, "1.0 KiB", "1.0 KiB/s", "1.0 KiB/s" },
        { 1536, "1.5 KiB", "1.5 KiB/s", "1.5 KiB/s" },
        { 1572864, "1.5 MiB", "1.5 MiB/s", "1.5 MiB/s" },
        { 1048575, "1.0 MiB", "1.0 MiB/s", "1.0 MiB/s" },
        { 12884901888LL, "12.0 GiB", "12.0 GiB/s", "12.0 GiB/s" },
        { INT64_MAX, "8.0 EiB", "8.0 EiB/s", "8.0 EiB/s" },
        { -1, "-", "-", "-" },
    };
    static const struct { int64_t ms; const char *want; } d[] = {
        { 0, "0s" }, { 999, "0s" }, { 3000, "3s" }, { 59999, "59s" }, { 60000, "1m00s" },
        { 245000, "4m05s" }, { 7800000, "2h10m" }, { 273600000, "3d04h" }, { -1, "-" },
        { INT64_MAX, "106751991167d07h" },
    };
    char buf[32];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        assert_string_equal(units_fmt_size(c[i].v, buf, sizeof buf), c[i].size);
        assert_string_equal(units_fmt_rate(c[i].v, buf, sizeof buf), c[i].rate);
        assert_string_equal(units_fmt_cap(c[i].v, buf, sizeof buf), c[i].cap);
    }
    for (size_t i = 0; i < ARRAY_LEN(d); i++)
        assert_string_equal(units_fmt_duration(d[i].ms, buf, sizeof buf), d[i].want);
    /* A short buffer truncates, never overflows. */
    char tiny[4];
    assert_string_equal(units_fmt_size(1572864, tiny, sizeof tiny), "1.5");
}

/* What the formatters print reads back as (about) the same value. */
static void test_fmt_round_trip(void **state)
{
    static const int64_t sizes[] = { 0, 1, 512, 1536, 1572864, 8388608, 1073741824 };
    char buf[32], err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        int64_t v;
        char *sp;

        units_fmt_size(sizes[i], buf, sizeof buf);
        sp = strchr(buf, ' ');
        assert_non_null(sp);
        memmove(sp, sp + 1, strlen(sp));          /* "1.5 MiB" → "1.5MiB" */
        if (units_parse_size(buf, &v, err) != 0)
            fail_msg("'%s' does not parse back: %s", buf, err);
        assert_int_equal(v, sizes[i]);
    }
    int64_t ms;
    assert_int_equal(units_parse_duration(units_fmt_duration(245000, buf, sizeof buf), &ms, err), 0);
    assert_int_equal(ms, 245000);
}

static void test_quote(void **state)
{
    char buf[48];
    char longs[200];

    (void)state;
    assert_string_equal(units_quote("50M", buf, sizeof buf), "50M");
    assert_string_equal(units_quote("a\nb\x1b[2J\xff", buf, sizeof buf), "a?b?[2J?");
    memset(longs, 'x', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    units_quote(longs, buf, sizeof buf);
    assert_true(strlen(buf) <= 40);
    assert_string_equal(buf + strlen(buf) - 3, "...");
    /* Error messages quote the input the same way: no escape sequence reaches the terminal. */
    char err[ERRLEN];
    assert_int_equal(units_parse_size("5\x1b[31m", &(int64_t){0}, err), -1);
    assert_null(strchr(err, '\x1b'));
}

/* Hostile input: random strings over the characters the parsers care about never crash them, and
 * whatever they accept is non-negative (run it under ASan/UBSan). */
static void test_random_input(void **state)
{
    static const char alpha[] = "0123456789.-+kKmMgGtTbBiIts/,:hdx \t\xff";
    uint32_t seed = 12345;
    char s[24], err[ERRLEN];
    int accepted = 0;

    (void)state;
    for (int round = 0; round < 50000; round++) {
        int64_t v = 0, a = 0, b = 0;
        long l = 0;
        size_t len;

        seed = seed * 1103515245 + 12345;
        len = (seed >> 16) % (sizeof s);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245 + 12345;
            s[i] = alpha[(seed >> 16) % (sizeof alpha - 1)];
        }
        s[len] = '\0';
        if (units_parse_size(s, &v, err) == 0) {
            assert_true(v >= 0);
            accepted++;
        }
        if (units_parse_rate(s, &v, err) == 0)
            assert_true(v >= 0);
        if (units_parse_duration(s, &v, err) == 0)
            assert_true(v >= 0);
        if (units_parse_duration_pair(s, &a, &b, err) == 0)
            assert_true(0 <= a && a <= b);
        if (units_parse_int(s, -10, 10, &l, err) == 0)
            assert_true(l >= -10 && l <= 10);
    }
    assert_true(accepted > 0);        /* the generator does produce valid sizes */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_duration_pair),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_fmt),
        cmocka_unit_test(test_fmt_round_trip),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_random_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
