/* opts: the table, defaults, opts_apply, schedules and --help. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "util.h"
#include "version.h"

static void test_table_consistent(void **state)
{
    (void)state;
    assert_true(opts_count > 0 && opts_count <= 64);
    for (size_t i = 0; i < opts_count; i++) {
        const struct opt *o = &opts_table[i];
        bool flag = o->type == OPT_BOOL || o->type == OPT_MODE || o->type == OPT_ACTION;

        assert_non_null(o->name);
        assert_non_null(o->help);
        assert_int_equal(opts_find(o->name), (int)i);
        /* Flags take no argument, everything else names its argument in --help. */
        if (flag != (o->arg == NULL))
            fail_msg("--%s: arg and type disagree", o->name);
        if (o->cli_only != (o->key == NULL))
            fail_msg("--%s: cli_only and key disagree", o->name);
        if (o->key != NULL)
            assert_int_equal(opts_find_key(o->key), (int)i);
        if (o->type == OPT_INT && o->min > o->max)
            fail_msg("--%s: empty range", o->name);
        for (size_t j = 0; j < i; j++) {
            if (o->short_name != 0 && o->short_name == opts_table[j].short_name)
                fail_msg("-%c used twice", o->short_name);
            if (o->key != NULL && opts_table[j].key != NULL && strcmp(o->key, opts_table[j].key) == 0)
                fail_msg("key %s used twice", o->key);
        }
    }
    assert_true(opts_table[0].group != NULL);
    assert_int_equal(opts_find("nope"), -1);
    assert_int_equal(opts_find_key("per-host"), -1);
    assert_int_equal(opts_find_key("config"), -1);      /* cli_only */
    assert_int_equal(opts_find_key("headers"), opts_find("header"));
    assert_int_equal(opts_find_key("per_host"), opts_find("per-host"));
}

/* Every option README.md#using-it and `sluice --help` promise is in the table, with its short name.
 * */
static void test_table_covers_spec(void **state)
{
    static const struct { const char *name; char short_name; } spec[] = {
        { "input", 'i' }, { "dir", 'd' }, { "concurrency", 'j' }, { "per-host", 0 },
        { "rate", 'r' }, { "burst", 0 }, { "schedule", 0 }, { "retries", 0 },
        { "retry-wait", 0 }, { "connect-timeout", 0 }, { "stall", 0 }, { "segments", 0 },
        { "min-segment", 0 }, { "layout", 0 }, { "overwrite", 0 }, { "session", 0 },
        { "no-session", 0 }, { "headless", 0 }, { "tui", 0 }, { "config", 'c' },
        { "theme", 0 }, { "log", 0 }, { "header", 'H' }, { "user-agent", 0 }, { "proxy", 0 },
        { "ca-file", 0 }, { "insecure", 0 }, { "help", 'h' }, { "version", 'V' },
        { "min-rate", 0 }, { "max-size", 0 }, { "no-bell", 0 }, { "on-finish", 0 },
        { "shard", 0 }, { "cap-group", 0 }, { "per-host-rps", 0 },
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(spec); i++) {
        int idx = opts_find(spec[i].name);

        if (idx < 0)
            fail_msg("--%s is missing", spec[i].name);
        assert_int_equal(opts_table[idx].short_name, spec[i].short_name);
    }
    assert_int_equal(opts_count, ARRAY_LEN(spec));
    assert_true(opts_table[opts_find("help")].cli_only);
    assert_true(opts_table[opts_find("version")].cli_only);
    assert_true(opts_table[opts_find("config")].cli_only);
    assert_false(opts_table[opts_find("rate")].cli_only);
}

static void test_defaults(void **state)
{
    struct settings s;

    (void)state;
    settings_init(&s);
    assert_null(s.input);
    assert_string_equal(s.dir, ".");
    assert_int_equal(s.concurrency, 8);
    assert_int_equal(s.per_host, 0);
    assert_int_equal(s.rate, 0);
    assert_int_equal(s.burst, 0);
    assert_null(s.schedule);
    assert_int_equal(s.nschedule, 0);
    assert_int_equal(s.retries, 5);
    assert_int_equal(s.retry_min_ms, 1000);
    assert_int_equal(s.retry_max_ms, 300000);
    assert_int_equal(s.connect_timeout_ms, 15000);
    assert_int_equal(s.stall_ms, 30000);
    assert_int_equal(s.min_rate, 0);
    assert_int_equal(s.max_size, 0);
    assert_int_equal(s.segments, 1);
    assert_int_equal(s.min_segment, 8 << 20);
    assert_int_equal(s.layout, LAYOUT_PATH);
    assert_false(s.overwrite);
    assert_null(s.session);
    assert_false(s.no_session);
    assert_int_equal(s.mode, UI_AUTO);
    assert_null(s.config);
    assert_string_equal(s.theme, "default");
    assert_null(s.log);
    assert_int_equal(s.nheaders, 0);
    assert_string_equal(s.user_agent, "sluice/" SLUICE_VERSION);
    assert_null(s.proxy);
    assert_null(s.ca_file);
    assert_false(s.insecure);
    assert_int_equal(s.nhosts, 0);
    assert_int_equal(s.nurls, 0);
    assert_int_equal(s.set_on_cli, 0);
    settings_free(&s);
    settings_free(&s);        /* twice is harmless */
}

struct acase {
    const char *opt, *value;
    int ok;
};

static void test_apply_table(void **state)
{
    static const struct acase c[] = {
        { "concurrency", "1", 1 }, { "concurrency", "1024", 1 }, { "concurrency", "0", 0 },
        { "concurrency", "1025", 0 }, { "concurrency", "8x", 0 }, { "concurrency", "", 0 },
        { "per-host", "0", 1 }, { "per-host", "-1", 0 }, { "per-host", "1025", 0 },
        { "retries", "0", 1 }, { "retries", "1000", 1 }, { "retries", "1001", 0 },
        { "segments", "64", 1 }, { "segments", "65", 0 }, { "segments", "0", 0 },
        { "rate", "50M", 1 }, { "rate", "off", 1 }, { "rate", "fast", 0 }, { "rate", "-1M", 0 },
        { "burst", "auto", 1 }, { "burst", "1M", 1 }, { "burst", "0", 1 }, { "burst", "1Q", 0 },
        { "max-size", "off", 1 }, { "max-size", "OFF", 1 }, { "max-size", "10G", 1 },
        { "max-size", "0", 1 }, { "max-size", "auto", 0 }, { "max-size", "-1", 0 },
        { "min-rate", "off", 1 }, { "min-rate", "1K", 1 }, { "min-rate", "8kbit", 1 },
        { "min-rate", "slow", 0 },
        { "min-segment", "1K", 1 }, { "min-segment", "0", 0 }, { "min-segment", "auto", 0 },
        { "connect-timeout", "100ms", 1 }, { "connect-timeout", "50ms", 0 },
        { "stall", "2s", 1 }, { "stall", "0", 0 }, { "stall", "forever", 0 },
        { "retry-wait", "2s,1m", 1 }, { "retry-wait", "1m,2s", 0 }, { "retry-wait", "2s", 0 },
        { "layout", "path", 1 }, { "layout", "flat", 1 }, { "layout", "host", 1 },
        { "layout", "tree", 0 }, { "layout", "PATH", 0 },
        { "overwrite", NULL, 1 }, { "overwrite", "true", 1 }, { "overwrite", "no", 1 },
        { "overwrite", "maybe", 0 },
        { "dir", "/tmp/x", 1 }, { "dir", "", 0 }, { "dir", "a\nb", 0 },
        { "user-agent", "agent/1.0", 1 }, { "user-agent", "a\r\nX-Evil: 1", 0 },
        { "header", "X-A: 1", 1 }, { "header", "X-A:", 1 }, { "header", "X-A 1", 0 },
        { "header", ": 1", 0 }, { "header", "X A: 1", 0 }, { "header", "X-A: 1\r\nX-B: 2", 0 },
        { "header", "X-A: tab\tok", 1 },
        { "schedule", "08:00,10M", 1 }, { "schedule", "none", 1 }, { "schedule", "8am", 0 },
        { "rate", NULL, 0 }, { "dir", NULL, 0 },
    };
    char err[ERRLEN];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(c); i++) {
        struct settings s;
        int idx = opts_find(c[i].opt);
        int rc;

        assert_true(idx >= 0);
        settings_init(&s);
        err[0] = '\0';
        rc = opts_apply(&s, idx, c[i].value, err);
        if (c[i].ok && rc != 0)
            fail_msg("--%s '%s' rejected: %s", c[i].opt, c[i].value, err);
        if (!c[i].ok) {
            if (rc != -1)
                fail_msg("--%s '%s' accepted", c[i].opt, c[i].value);
            assert_true(err[0] != '\0');
        }
        settings_free(&s);
    }
    assert_int_equal(opts_apply(&(struct settings){ 0 }, -1, "x", err), -1);
    assert_int_equal(opts_apply(&(struct settings){ 0 }, (int)opts_count, "x", err), -1);
}

static void test_apply_values(void **state)
{
    struct settings s;
    char err[ERRLEN];

    (void)state;
    settings_init(&s);
    assert_int_equal(opts_apply(&s, opts_find("concurrency"), "16", err), 0);
    assert_int_equal(s.concurrency, 16);
    /* A rejected value leaves the setting as it was. */
    assert_int_equal(opts_apply(&s, opts_find("concurrency"), "0", err), -1);
    assert_int_equal(s.concurrency, 16);
    assert_non_null(strstr(err, "1..1024"));

    assert_int_equal(opts_apply(&s, opts_find("rate"), "400Mbit", err), 0);
    assert_int_equal(s.rate, 50000000);
    assert_int_equal(opts_apply(&s, opts_find("rate"), "nope", err), -1);
    assert_int_equal(s.rate, 50000000);
    assert_int_equal(opts_apply(&s, opts_find("burst"), "1M", err), 0);
    assert_int_equal(s.burst, 1 << 20);
    assert_int_equal(opts_apply(&s, opts_find("burst"), "auto", err), 0);
    assert_int_equal(s.burst, 0);
    assert_int_equal(opts_apply(&s, opts_find("retry-wait"), "2s,10m", err), 0);
    assert_int_equal(s.retry_min_ms, 2000);
    assert_int_equal(s.retry_max_ms, 600000);
    assert_int_equal(opts_apply(&s, opts_find("stall"), "1m", err), 0);
    assert_int_equal(s.stall_ms, 60000);
    assert_int_equal(opts_apply(&s, opts_find("stall"), "10ms", err), -1);
    assert_non_null(strstr(err, "at least 100 ms"));
    assert_int_equal(s.stall_ms, 60000);
    assert_int_equal(opts_apply(&s, opts_find("layout"), "host", err), 0);
    assert_int_equal(s.layout, LAYOUT_HOST);

    /* Strings are copied and replaced. */
    char dir[] = "/srv/out";
    assert_int_equal(opts_apply(&s, opts_find("dir"), dir, err), 0);
    dir[0] = 'X';
    assert_string_equal(s.dir, "/srv/out");

    /* Headers: repeated names replace, case-insensitively; others add up. */
    assert_int_equal(opts_apply(&s, opts_find("header"), "Accept: a", err), 0);
    assert_int_equal(opts_apply(&s, opts_find("header"), "X-Token: 1", err), 0);
    assert_int_equal(opts_apply(&s, opts_find("header"), "accept: b", err), 0);
    assert_int_equal(opts_apply(&s, opts_find("header"), "Accept-Language: en", err), 0);
    assert_int_equal(s.nheaders, 3);
    assert_string_equal(s.headers[0], "accept: b");
    assert_string_equal(s.headers[1], "X-Token: 1");
    assert_string_equal(s.headers[2], "Accept-Language: en");

    /* --session and --no-session: the last one wins. */
    assert_int_equal(opts_apply(&s, opts_find("no-session"), NULL, err), 0);
    assert_true(s.no_session);
    assert_int_equal(opts_apply(&s, opts_find("session"), "/tmp/s.db", err), 0);
    assert_false(s.no_session);
    assert_string_equal(s.session, "/tmp/s.db");

    /* --headless / --tui: the last one wins; false only undoes its own mode. */
    assert_int_equal(opts_apply(&s, opts_find("headless"), NULL, err), 0);
    assert_int_equal(s.mode, UI_HEADLESS);
    assert_int_equal(opts_apply(&s, opts_find("tui"), NULL, err), 0);
    assert_int_equal(s.mode, UI_TUI);
    assert_int_equal(opts_apply(&s, opts_find("headless"), "false", err), 0);
    assert_int_equal(s.mode, UI_TUI);
    assert_int_equal(opts_apply(&s, opts_find("tui"), "false", err), 0);
    assert_int_equal(s.mode, UI_AUTO);

    assert_int_equal(opts_apply(&s, opts_find("schedule"), "18:30,off 08:00,10M", err), 0);
    assert_int_equal(s.nschedule, 2);
    assert_int_equal(s.schedule[0].minute, 480);
    assert_int_equal(opts_apply(&s, opts_find("schedule"), "bad", err), -1);
    assert_int_equal(s.nschedule, 2);
    assert_int_equal(opts_apply(&s, opts_find("schedule"), "none", err), 0);
    assert_int_equal(s.nschedule, 0);
    assert_null(s.schedule);
    settings_free(&s);
}

static void test_schedule(void **state)
{
    struct sched_point *p;
    size_t n;
    char err[ERRLEN];

    (void)state;
    assert_int_equal(opts_parse_schedule("08:00,10M 12:00,20M 18:30,off", &p, &n, err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].minute, 8 * 60);
    assert_int_equal(p[0].rate, 10 << 20);
    assert_int_equal(p[1].minute, 12 * 60);
    assert_int_equal(p[1].rate, 20 << 20);
    assert_int_equal(p[2].minute, 18 * 60 + 30);
    assert_int_equal(p[2].rate, 0);
    free(p);

    /* Sorted by minute whatever the order given; blanks of any kind and number between steps. */
    assert_int_equal(opts_parse_schedule("  23:59,1K\t0:00,400Mbit   8:05,off ", &p, &n, err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].minute, 0);
    assert_int_equal(p[0].rate, 50000000);
    assert_int_equal(p[1].minute, 8 * 60 + 5);
    assert_int_equal(p[2].minute, 23 * 60 + 59);
    assert_int_equal(p[2].rate, 1024);
    free(p);

    assert_int_equal(opts_parse_schedule("none", &p, &n, err), 0);
    assert_int_equal(n, 0);
    assert_null(p);
    assert_int_equal(opts_parse_schedule("OFF", &p, &n, err), 0);
    assert_int_equal(n, 0);

    static const struct { const char *spec, *msg; } bad[] = {
        { "", "empty" },
        { "   ", "empty" },
        { "24:00,1M", "bad time" },
        { "08:60,1M", "bad time" },
        { "08:0,1M", "bad time" },
        { "008:00,1M", "bad time" },
        { "0800,1M", "bad time" },
        { "x8:00,1M", "bad time" },
        { ":00,1M", "bad time" },
        { "-1:00,1M", "bad time" },
        { "08:00", "not TIME,RATE" },
        { "08:00,", "empty rate" },
        { "08:00,fast", "not a rate" },
        { "08:00,-1M", "negative" },
        { "08:00,1M,2M", "not a rate" },
        { "08:00,1M 08:00,2M", "two steps at 08:00" },
        { "8:00,1M 12:00,3M 08:00,2M", "two steps at 08:00" },
        { "08:00,1M garbage", "not TIME,RATE" },
        { "mon-fry 08:00,1M", "'mon-fry' is not TIME,RATE nor days" },
        { "mon- 08:00,1M", "nor days" },
        { "mon,,fri 08:00,1M", "nor days" },
        { "mon, 08:00,1M", "a day is missing" },
        { "mon-fri", "days with no TIME,RATE step" },
        { "mon-fri sat 08:00,1M", "days with no TIME,RATE step" },
        { "08:00,1M mon 08:00,2M", "two steps at 08:00 on the same day" },
        { "mon-wed 08:00,1M wed-fri 08:00,2M", "two steps at 08:00" },
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        p = (struct sched_point *)&n;     /* must be reset */
        err[0] = '\0';
        if (opts_parse_schedule(bad[i].spec, &p, &n, err) != -1)
            fail_msg("schedule '%s' accepted", bad[i].spec);
        assert_null(p);
        assert_int_equal(n, 0);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("schedule '%s': '%s' lacks '%s'", bad[i].spec, err, bad[i].msg);
    }
}

/* Weekday lists: the steps after a list hold on its days; the text reads back the same. */
static void test_schedule_days(void **state)
{
    struct sched_point *p;
    size_t n;
    char err[ERRLEN], d[40];
    struct sbuf b = { 0 };

    (void)state;
    assert_int_equal(opts_parse_schedule("mon-fri 18:30,off 08:00,2M sat,sun 00:00,off", &p, &n, err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].minute, 8 * 60);          /* sorted within its list */
    assert_int_equal(p[0].rate, 2 * 1024 * 1024);
    assert_int_equal(p[0].days, 0x3e);              /* Monday (1) .. Friday (5) */
    assert_int_equal(p[1].minute, 18 * 60 + 30);
    assert_int_equal(p[1].days, 0x3e);
    assert_int_equal(p[2].minute, 0);
    assert_int_equal(p[2].days, 0x41);              /* Saturday, Sunday */
    opts_format_schedule(p, n, &b);
    sbuf_add(&b, "", 1);
    assert_string_equal(b.s, "mon-fri 08:00,2M 18:30,off sat,sun 00:00,off");
    free(p);
    sbuf_free(&b);

    /* Steps before any list hold every day; "daily" says so again after a list; names in any
     * case, long names, ranges that wrap past Sunday. */
    assert_int_equal(opts_parse_schedule("07:00,1M FRI-Mon 09:00,512K daily 12:00,3000 Wednesday 1:00,1G",
                                         &p, &n, err), 0);
    assert_int_equal(n, 4);
    assert_int_equal(p[0].days, 0);
    assert_int_equal(p[1].days, 0x63);              /* fri sat sun mon */
    assert_int_equal(p[2].days, 0);
    assert_int_equal(p[3].days, 0x08);
    b = (struct sbuf){ 0 };
    opts_format_schedule(p, n, &b);
    sbuf_add(&b, "", 1);
    assert_string_equal(b.s, "07:00,1M mon,fri-sun 09:00,512K daily 12:00,3000 wed 01:00,1G");
    free(p);
    /* ... and that text parses to the same points. */
    {
        struct sched_point *q;
        size_t m;

        assert_int_equal(opts_parse_schedule(b.s, &q, &m, err), 0);
        assert_int_equal(m, 4);
        assert_int_equal(q[1].days, 0x63);
        assert_int_equal(q[2].rate, 3000);
        free(q);
    }
    sbuf_free(&b);

    assert_string_equal(opts_format_days(0, d, sizeof d), "daily");
    assert_string_equal(opts_format_days(0x7f, d, sizeof d), "daily");
    assert_string_equal(opts_format_days(0x3e, d, sizeof d), "mon-fri");
    assert_string_equal(opts_format_days(0x41, d, sizeof d), "sat,sun");
    assert_string_equal(opts_format_days(0x2a, d, sizeof d), "mon,wed,fri");
    assert_string_equal(opts_format_days(0x01, d, sizeof d), "sun");
    assert_string_equal(opts_format_days(0x7e, d, sizeof d), "mon-sat");
    /* Same minute on days that do not meet is two steps, not a clash. */
    assert_int_equal(opts_parse_schedule("mon-fri 08:00,1M sat,sun 08:00,off", &p, &n, err), 0);
    assert_int_equal(n, 2);
    free(p);
}

static char *help_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);

    assert_non_null(fp);
    opts_print_help(fp);
    fclose(fp);
    return buf;
}

static void test_help(void **state)
{
    char *h = help_text();
    char needle[64];

    (void)state;
    assert_non_null(strstr(h, "Usage: sluice"));
    for (size_t i = 0; i < opts_count; i++) {
        const struct opt *o = &opts_table[i];

        snprintf(needle, sizeof needle, "--%s", o->name);
        if (strstr(h, needle) == NULL)
            fail_msg("--help lacks %s", needle);
        if (o->short_name != 0) {
            snprintf(needle, sizeof needle, "-%c, --%s", o->short_name, o->name);
            if (strstr(h, needle) == NULL)
                fail_msg("--help lacks '%s'", needle);
        }
        if (o->group != NULL) {
            snprintf(needle, sizeof needle, "\n%s:\n", o->group);
            assert_non_null(strstr(h, needle));
        }
    }
    assert_non_null(strstr(h, "(default: 8)"));
    assert_non_null(strstr(h, "(default: 1s,5m)"));
    assert_non_null(strstr(h, "(default: sluice/" SLUICE_VERSION ")"));
    assert_null(strstr(h, "(default: false)"));
    /* Fits an 80-column terminal, and option descriptions start in one column. */
    int col = -1;
    for (char *line = h; *line; ) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);

        if (len > 79)
            fail_msg("line longer than 79: %.*s", (int)len, line);
        if (strncmp(line, "  -", 3) == 0 || strncmp(line, "      --", 8) == 0) {
            char *desc = line + 2;

            while (*desc == ' ')                /* the indent of "      --name" */
                desc++;
            while (desc < line + len && strncmp(desc, "  ", 2) != 0)
                desc++;
            while (desc < line + len && *desc == ' ')
                desc++;
            if (col < 0)
                col = (int)(desc - line);
            assert_int_equal((int)(desc - line), col);
        }
        line += len + (nl ? 1 : 0);
    }
    assert_true(col > 10);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_consistent),
        cmocka_unit_test(test_table_covers_spec),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_apply_table),
        cmocka_unit_test(test_apply_values),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_schedule_days),
        cmocka_unit_test(test_help),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
