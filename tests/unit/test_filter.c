/* filter: the triage words of the TUI's / prompt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "filter.h"
#include "util.h"

static struct item mk(const char *path, const char *host, enum item_state st, int http,
                      const char *error)
{
    struct item it;

    memset(&it, 0, sizeof it);
    it.path = (char *)path;
    it.host = (char *)host;
    it.state = st;
    it.http_status = http;
    it.error = (char *)error;
    return it;
}

static bool m(const char *spec, const struct item *it)
{
    struct filter f;
    char err[ERRLEN];
    bool r;

    if (filter_parse(spec, &f, err) < 0)
        fail_msg("'%s': %s", spec, err);
    r = filter_match(&f, it);
    filter_free(&f);
    return r;
}

static void test_match(void **state)
{
    struct item a = mk("img/a.jpg", "img.example.com", ITEM_FAILED, 503, "HTTP 503");
    struct item b = mk("doc/b.pdf", "cdn.example.org:8080", ITEM_FAILED, 404, NULL);
    struct item c = mk("img/c.jpg", "img.example.com", ITEM_DONE, 200, NULL);
    struct item d = mk("x/d.bin", "img.example.com", ITEM_FAILED, 0, "stalled: nothing received for 30s");

    (void)state;
    assert_true(m("status:503", &a));
    assert_false(m("status:503", &b));
    assert_true(m("host:IMG.example", &a));
    assert_false(m("host:img.example.com", &b));
    assert_true(m("host:cdn.example.org", &b));
    assert_true(m("state:failed", &a));
    assert_false(m("state:failed", &c));
    assert_true(m("state:done", &c));
    assert_true(m("state:same", &(struct item){ .path = "p", .state = ITEM_UNCHANGED }));
    assert_true(m("reason:stalled", &d));
    assert_false(m("reason:stalled", &a));
    /* A reason that is only the status matches as the REASON column shows it. */
    assert_true(m("reason:404", &b));
    assert_true(m("reason:http", &b));
    /* Text is part of the path or host; every word must hold. */
    assert_true(m("img", &a));
    assert_true(m("img status:503 state:failed", &a));
    assert_false(m("img status:404", &a));
    assert_true(m("pdf example.org", &b));
    assert_false(m("pdf example.com", &b));
    assert_true(m("", &a));
    assert_true(m("   ", &a));
}

static void test_fixed_and_live(void **state)
{
    struct item a = mk("img/a.jpg", "img.example.com", ITEM_QUEUED, 0, NULL);
    struct filter f;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(filter_parse("img host:img status:503", &f, err), 0);
    assert_true(filter_match_fixed(&f, &a));
    assert_false(filter_match_live(&f, &a));
    a.http_status = 503;        /* the run moves on: the live half follows */
    assert_true(filter_match_live(&f, &a));
    filter_free(&f);
}

static void test_errors(void **state)
{
    static const struct { const char *spec, *msg; } bad[] = {
        { "status:abc", "status:abc is not an HTTP status" },
        { "status:99", "not an HTTP status" },
        { "status:600", "not an HTTP status" },
        { "state:bogus", "state:bogus is not a state" },
        { "host:", "'host:' needs a value" },
        { "reason:", "needs a value" },
        { "a b c d e f g h i", "at most 8 words" },
    };
    struct filter f;
    char err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (filter_parse(bad[i].spec, &f, err) != -1)
            fail_msg("'%s' accepted", bad[i].spec);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("'%s': '%s' lacks '%s'", bad[i].spec, err, bad[i].msg);
        assert_int_equal(f.ntext, 0);
        assert_null(f.host);
    }
    /* Unknown keys are text (a path may hold a colon). */
    assert_int_equal(filter_parse("c:/dir", &f, err), 0);
    assert_int_equal(f.ntext, 1);
    filter_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_fixed_and_live),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
