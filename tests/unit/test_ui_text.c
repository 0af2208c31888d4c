/* Text for the terminal: hostile names never reach the screen as control sequences and never
 * break the columns; compact numbers fit their columns; bars and sparklines in both alphabets;
 * and the prompt's line editor. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Private to their subsystem, so beside its sources (docs/design.md#subsystems). */
#include "../../src/ui_prompt.h"
#include "../../src/ui_text.h"
#include "util.h"

static int utf8_locale(void **state)
{
    /* wcwidth needs a UTF-8 LC_CTYPE, as the UI sets from the environment. */
    return setlocale(LC_CTYPE, "C.UTF-8") != NULL ? 0 : -1;
}

static int cols_of(const wchar_t *w)
{
    int n = 0;

    for (; *w; w++)
        n += ui_text_wcwidth(*w);
    return n;
}

static void test_decode_hostile(void **state)
{
    size_t n;
    wchar_t *w;

    w = ui_text_decode("a\x1b[2Jb\r\n\t\x7f", true, &n);
    assert_int_equal(n, 10);
    assert_true(wcscmp(w, L"a?[2Jb????") == 0);
    free(w);
    /* C1 controls (8-bit CSI), overlong and broken sequences, surrogates. */
    w = ui_text_decode("\xc2\x9b" "31m|\xc0\xaf|\xe2\x82|\xed\xa0\x80|\xff", true, &n);
    assert_null(wcschr(w, 0x9b));
    for (size_t i = 0; i < n; i++)
        assert_true(w[i] == L'?' || (w[i] >= 0x20 && w[i] < 0x7f));
    free(w);
    /* Combining marks and bidi overrides take no column: they are dropped. */
    w = ui_text_decode("e\xcc\x81x\xe2\x80\xaey", true, &n);
    assert_true(wcscmp(w, L"exy") == 0);
    free(w);
    /* Good UTF-8 stays; in an ASCII locale each character becomes one '?'. */
    w = ui_text_decode("caf\xc3\xa9 \xe6\x97\xa5", true, &n);
    assert_true(wcscmp(w, L"caf\u00e9 \u65e5") == 0);
    free(w);
    w = ui_text_decode("caf\xc3\xa9 \xe6\x97\xa5", false, &n);
    assert_true(wcscmp(w, L"caf? ?") == 0);
    free(w);
    w = ui_text_decode(NULL, true, &n);
    assert_int_equal(n, 0);
    free(w);
}

static void test_fit(void **state)
{
    wchar_t out[64];

    assert_int_equal(ui_text_fit("short", 10, true, false, out, 64), 5);
    assert_true(wcscmp(out, L"short") == 0);
    assert_int_equal(ui_text_fit("a/long/path/file.jpg", 10, true, true, out, 64), 10);
    assert_true(wcscmp(out, L"\u2026/file.jpg") == 0);
    assert_int_equal(ui_text_fit("a/long/path/file.jpg", 10, true, false, out, 64), 10);
    assert_true(wcscmp(out, L"a/long/pa\u2026") == 0);
    assert_int_equal(ui_text_fit("a/long/path/file.jpg", 10, false, true, out, 64), 10);
    assert_true(wcscmp(out, L"~/file.jpg") == 0);
    /* Wide characters never straddle the edge. */
    assert_true(ui_text_fit("\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 4, true, false, out, 64) <= 4);
    assert_true(cols_of(out) <= 4);
    assert_true(ui_text_fit("\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5", 5, true, true, out, 64) <= 5);
    assert_true(cols_of(out) <= 5);
    /* Degenerate widths and buffers. */
    assert_int_equal(ui_text_fit("abc", 0, true, false, out, 64), 0);
    assert_true(wcscmp(out, L"") == 0);
    assert_int_equal(ui_text_fit("abc", 1, true, false, out, 64), 1);
    assert_true(wcscmp(out, L"\u2026") == 0);
    assert_int_equal(ui_text_fit("abcdef", 4, true, false, out, 3), 2);
    assert_true(wcslen(out) == 2);
    /* A long hostile name: still within its columns, no escape left. */
    {
        char name[4000];

        for (size_t i = 0; i < sizeof name - 1; i++)
            name[i] = (char)(i % 3 == 0 ? 0x1b : 'x');
        name[sizeof name - 1] = '\0';
        assert_int_equal(ui_text_fit(name, 30, true, true, out, 64), 30);
        assert_null(wcschr(out, 0x1b));
    }
}

static void test_sizes(void **state)
{
    char b[16];

    assert_string_equal(ui_text_size(-1, b, sizeof b), "-");
    assert_string_equal(ui_text_size(0, b, sizeof b), "0B");
    assert_string_equal(ui_text_size(1023, b, sizeof b), "1023B");
    assert_string_equal(ui_text_size(1024, b, sizeof b), "1.0K");
    assert_string_equal(ui_text_size(400 * 1024, b, sizeof b), "400K");
    assert_string_equal(ui_text_size(1023 * 1024 + 600, b, sizeof b), "1.0M");
    assert_string_equal(ui_text_size(25LL << 30, b, sizeof b), "25G");
    assert_string_equal(ui_text_size(INT64_MAX, b, sizeof b), "8.0E");
    for (int64_t v = 1; v > 0 && v < INT64_MAX / 3; v = v * 3 + 1)
        assert_true(strlen(ui_text_size(v, b, sizeof b)) <= 5);
    assert_string_equal(ui_text_rate(1536, b, sizeof b), "1.5K/s");
    assert_string_equal(ui_text_rate(-5, b, sizeof b), "-");
}

static void test_bar(void **state)
{
    wchar_t out[32];

    assert_int_equal(ui_text_bar(0, 8, true, out), 0);
    assert_int_equal(wcslen(out), 8);
    assert_int_equal(ui_text_bar(1, 8, true, out), 8);
    assert_true(wcscmp(out, L"\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588") == 0);
    assert_int_equal(ui_text_bar(0.5, 4, false, out), 2);
    assert_true(wcscmp(out, L"##  ") == 0);
    assert_int_equal(ui_text_bar(3.0, 4, false, out), 4);       /* clamped */
    assert_int_equal(ui_text_bar(-1, 4, false, out), 0);
    assert_int_equal(ui_text_bar(0.0 / 0.0, 4, true, out), 0);  /* NaN */
    /* An eighth step shows as a partial block. */
    assert_int_equal(ui_text_bar(0.5, 1, true, out), 1);
    assert_int_equal(out[0], 0x258c);
}

static void test_spark(void **state)
{
    assert_int_equal(ui_text_spark(0, 100, true), L' ');
    assert_int_equal(ui_text_spark(100, 100, true), 0x2588);
    assert_int_equal(ui_text_spark(1, 1000000, true), 0x2581);     /* a trickle still shows */
    assert_int_equal(ui_text_spark(500, 100, false), L'#');        /* above the cap: full */
    assert_int_equal(ui_text_spark(5, 0, false), L' ');
    for (int v = 0; v <= 100; v++)
        assert_true(ui_text_spark(v, 100, false) < 0x80);
}

static char *text(struct ui_prompt *p)
{
    static char buf[UI_PROMPT_MAX * 4 + 1];

    return ui_prompt_text(p, buf, sizeof buf);
}

static void type(struct ui_prompt *p, const wchar_t *s)
{
    for (; *s; s++)
        assert_int_equal(ui_prompt_key(p, PA_CHAR, *s), PROMPT_MORE);
}

/* The add prompt draws a URL's password masked: after the user part's ':' up to its '@'; a ':'
 * in a host still being typed may start either, so it is masked until the host ends. */
static void test_prompt_secret(void **state)
{
    static const struct { const wchar_t *typed; const wchar_t *shown; } cases[] = {
        { L"http://user:s3cret@host/a", L"http://user:******@host/a" },
        { L"http://user:s3cret@host", L"http://user:******@host" },
        { L"http://user:s3c", L"http://user:***" },              /* no '@' yet */
        { L"http://user:p@ss@host/x", L"http://user:****@host/x" }, /* the last '@' */
        { L"http://host:8080/x", L"http://host:8080/x" },         /* a port, once the host ends */
        { L"http://host:80", L"http://host:**" },                 /* not known yet */
        { L"http://user@host/x", L"http://user@host/x" },         /* no password */
        { L"http://[::1]:8080/x", L"http://[::1]:8080/x" },
        { L"http://[::1]:80", L"http://[::1]:80" },
        { L"http://host/a:b@c", L"http://host/a:b@c" },           /* in the path */
        { L"ftp", L"ftp" },
        { L"", L"" },
    };
    struct ui_prompt p;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wchar_t shown[64];
        size_t from, to, n = wcslen(cases[i].typed);

        ui_prompt_open(&p, 1, "add URL: ", NULL);
        p.url = true;
        type(&p, cases[i].typed);
        ui_prompt_secret(&p, &from, &to);
        for (size_t k = 0; k < n; k++)
            shown[k] = k >= from && k < to ? L'*' : cases[i].typed[k];
        shown[n] = L'\0';
        if (wcscmp(shown, cases[i].shown) != 0)
            fail_msg("%ls shown as %ls, want %ls", cases[i].typed, shown, cases[i].shown);
    }
    /* Other prompts mask nothing. */
    ui_prompt_open(&p, 1, "filter: ", NULL);
    type(&p, L"http://user:s3cret@host/");
    {
        size_t from, to;

        ui_prompt_secret(&p, &from, &to);
        assert_int_equal(from, to);
    }
}

static void test_prompt_editing(void **state)
{
    struct ui_prompt p;

    ui_prompt_open(&p, 3, "cap: ", NULL);
    assert_int_equal(p.kind, 3);
    assert_string_equal(p.label, "cap: ");
    type(&p, L"50M");
    assert_string_equal(text(&p), "50M");
    ui_prompt_key(&p, PA_LEFT, 0);
    ui_prompt_key(&p, PA_BACKSPACE, 0);
    assert_string_equal(text(&p), "5M");
    ui_prompt_key(&p, PA_HOME, 0);
    type(&p, L"1");
    assert_string_equal(text(&p), "15M");
    ui_prompt_key(&p, PA_DELETE, 0);
    assert_string_equal(text(&p), "1M");
    ui_prompt_key(&p, PA_END, 0);
    type(&p, L" off");
    ui_prompt_key(&p, PA_KILL_WORD, 0);
    assert_string_equal(text(&p), "1M");            /* trailing blank trimmed */
    ui_prompt_key(&p, PA_KILL_LINE, 0);
    assert_string_equal(text(&p), "");
    type(&p, L"abc");
    ui_prompt_key(&p, PA_HOME, 0);
    ui_prompt_key(&p, PA_RIGHT, 0);
    ui_prompt_key(&p, PA_KILL_END, 0);
    assert_string_equal(text(&p), "a");
    assert_int_equal(ui_prompt_key(&p, PA_ENTER, 0), PROMPT_ENTER);
    assert_int_equal(ui_prompt_key(&p, PA_CANCEL, 0), PROMPT_CANCEL);
    /* Moving past the ends does nothing. */
    ui_prompt_key(&p, PA_HOME, 0);
    ui_prompt_key(&p, PA_LEFT, 0);
    ui_prompt_key(&p, PA_BACKSPACE, 0);
    assert_int_equal(p.cur, 0);
    assert_string_equal(text(&p), "a");
}

static void test_prompt_hostile(void **state)
{
    struct ui_prompt p;

    /* Control characters (typed or pasted) never enter the line. */
    ui_prompt_open(&p, 0, "x", "a\x1b[31m\x07\x9b" "b");
    assert_string_equal(text(&p), "a[31mb");
    ui_prompt_key(&p, PA_CHAR, 0x1b);
    ui_prompt_key(&p, PA_CHAR, 0x85);
    ui_prompt_key(&p, PA_CHAR, 0xd800);
    ui_prompt_key(&p, PA_CHAR, 0x110000);
    assert_string_equal(text(&p), "a[31mb");
    /* UTF-8 in and out. */
    ui_prompt_open(&p, 0, "x", "caf\xc3\xa9");
    type(&p, L"\u65e5");
    assert_string_equal(text(&p), "caf\xc3\xa9\xe6\x97\xa5");
    /* A paste longer than the line stops at the limit. */
    ui_prompt_open(&p, 0, "x", NULL);
    for (int i = 0; i < UI_PROMPT_MAX + 50; i++)
        ui_prompt_key(&p, PA_CHAR, L'x');
    assert_int_equal(p.len, UI_PROMPT_MAX);
    assert_int_equal(strlen(text(&p)), UI_PROMPT_MAX);
    /* A small output buffer is not overrun. */
    {
        char small[4];

        ui_prompt_open(&p, 0, "x", "caf\xc3\xa9");
        ui_prompt_text(&p, small, sizeof small);
        assert_string_equal(small, "caf");
    }
}

/* The header's note on where the cap comes from. */
static void test_cap_note(void **state)
{
    char b[64];

    (void)state;
    assert_string_equal(ui_text_cap_note(2, -1, 18 * 60 + 30, 10 * 1048576, b, sizeof b),
                        "live until 18:30, then 10M");
    assert_string_equal(ui_text_cap_note(1, 1, 8 * 60, 0, b, sizeof b),
                        "schedule until mon 08:00, then off");
    assert_string_equal(ui_text_cap_note(2, -1, -1, -1, b, sizeof b), "live, this pass");
    assert_string_equal(ui_text_cap_note(0, -1, -1, -1, b, sizeof b), "settings");
    /* Out-of-range input is not trusted. */
    assert_string_equal(ui_text_cap_note(1, 9, 5, 512 * 1024, b, sizeof b),
                        "schedule until 00:05, then 512K");
    assert_string_equal(ui_text_cap_note(1, -1, 1440, 0, b, sizeof b), "schedule");
    /* A short buffer is cut, not overrun. */
    assert_string_equal(ui_text_cap_note(2, -1, 60, 0, b, 5), "live");
}

/* The REASON column says what the status means when the error is only the status. */
static void test_reason(void **state)
{
    char b[64];

    (void)state;
    assert_string_equal(ui_text_reason("HTTP 404", 404, b, sizeof b), "HTTP 404 not found");
    assert_string_equal(ui_text_reason("HTTP 503", 503, b, sizeof b), "HTTP 503 unavailable");
    assert_string_equal(ui_text_reason(NULL, 429, b, sizeof b), "HTTP 429 too many requests");
    assert_string_equal(ui_text_reason(NULL, 299, b, sizeof b), "HTTP 299");
    assert_string_equal(ui_text_reason(NULL, 0, b, sizeof b), "");
    assert_string_equal(ui_text_reason("stalled: nothing received for 30s", 200, b, sizeof b),
                        "stalled: nothing received for 30s");
    assert_string_equal(ui_text_reason("HTTP 418", 418, b, sizeof b), "HTTP 418");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bar),
        cmocka_unit_test(test_spark),
        cmocka_unit_test(test_prompt_editing),
        cmocka_unit_test(test_prompt_secret),
        cmocka_unit_test(test_prompt_hostile),
        cmocka_unit_test(test_cap_note),
        cmocka_unit_test(test_reason),
    };

    return cmocka_run_group_tests(tests, utf8_locale, NULL);
}
