/* config_load (libconfig file → settings), sample.conf, and cli_parse on top of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "opts.h"
#include "util.h"
#include "version.h"

static char tmpdir[64];


struct reports {
    char *msg[32];
    int n;
};

static void collect(void *arg, const char *msg)
{
    struct reports *r = arg;

    if (r->n < (int)ARRAY_LEN(r->msg))
        r->msg[r->n] = xstrdup(msg);
    r->n++;
}

static void reports_free(struct reports *r)
{
    for (int i = 0; i < r->n && i < (int)ARRAY_LEN(r->msg); i++)
        free(r->msg[i]);
    r->n = 0;
}

/* Writes tmpdir/name and returns its path (free it). */
static char *write_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static char *tmp_path(const char *name)
{
    return xasprintf("%s/%s", tmpdir, name);
}

/* Loads text as a config file into fresh settings; returns config_load's result. */
static int load_text(const char *text, struct settings *s, struct reports *r, char **path_out)
{
    char *path = write_file("t.conf", text);
    int rc;

    settings_init(s);
    memset(r, 0, sizeof *r);
    rc = config_load(path, s, collect, r);
    if (path_out != NULL)
        *path_out = path;
    else
        free(path);
    return rc;
}

/* Asserts that report i is exactly "PATH:LINE: rest". */
static void assert_report(const struct reports *r, int i, const char *path, int line, const char *rest)
{
    char *want = xasprintf("%s:%d: %s", path, line, rest);

    assert_true(i < r->n);
    if (strcmp(r->msg[i], want) != 0)
        fail_msg("report %d is\n  '%s', want\n  '%s'", i, r->msg[i], want);
    free(want);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sluice-test-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    /* Never pick up the config of whoever runs the tests. */
    char *xdg = tmp_path("xdg-none");
    setenv("XDG_CONFIG_HOME", xdg, 1);
    free(xdg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_values(void **state)
{
    struct settings s;
    struct reports r;
    int rc;

    (void)state;
    rc = load_text("# a comment\n"
                   "concurrency = 16;\n"
                   "per_host = \"4\";\n"
                   "rate = \"50M\";\n"
                   "burst = 1048576;\n"
                   "retries = 3;\n"
                   "retry_wait = ( 2, \"1m\" );\n"
                   "connect_timeout = 10;\n"
                   "stall = 1.5;\n"
                   "segments = 4;\n"
                   "min_segment = \"16M\";\n"
                   "layout = \"flat\";\n"
                   "overwrite = true;\n"
                   "session = \"/tmp/s.db\";\n"
                   "no_session = true;\n"
                   "headless = true;\n"
                   "theme = \"mono\";\n"
                   "log = \"/tmp/x.jsonl\";\n"
                   "headers = [ \"Accept: */*\", \"X-Team: data\" ];\n"
                   "user_agent = \"bot/2\";\n"
                   "proxy = \"http://p:3128\";\n"
                   "ca_file = \"/etc/ca.pem\";\n"
                   "insecure = false;\n"
                   "dir = \"/srv/out\";\n"
                   "input = \"-\";\n"
                   "schedule = ( { at = \"18:30\"; rate = \"off\"; },\n"
                   "             { at = \"8:00\"; rate = 10485760; } );\n"
                   "hosts = ( { host = \"IMG.Example.com\"; per_host = 4; rate = \"5M\"; },\n"
                   "          { host = \"cdn.example.org\"; per_host = \"16\"; rps = 50; },\n"
                   "          { host = \"slow.example.net\"; rate = 0; } );\n"
                   "per_host_rps = 20;\n",
                   &s, &r, NULL);
    for (int i = 0; i < r.n; i++)
        print_message("unexpected: %s\n", r.msg[i]);
    assert_int_equal(rc, 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(s.concurrency, 16);
    assert_int_equal(s.per_host, 4);
    assert_int_equal(s.rate, 50 << 20);
    assert_int_equal(s.burst, 1048576);
    assert_int_equal(s.retries, 3);
    assert_int_equal(s.retry_min_ms, 2000);
    assert_int_equal(s.retry_max_ms, 60000);
    assert_int_equal(s.connect_timeout_ms, 10000);
    assert_int_equal(s.stall_ms, 1500);
    assert_int_equal(s.segments, 4);
    assert_int_equal(s.min_segment, 16 << 20);
    assert_int_equal(s.layout, LAYOUT_FLAT);
    assert_true(s.overwrite);
    assert_string_equal(s.session, "/tmp/s.db");
    assert_true(s.no_session);
    assert_int_equal(s.mode, UI_HEADLESS);
    assert_string_equal(s.theme, "mono");
    assert_string_equal(s.log, "/tmp/x.jsonl");
    assert_int_equal(s.nheaders, 2);
    assert_string_equal(s.headers[0], "Accept: */*");
    assert_string_equal(s.headers[1], "X-Team: data");
    assert_string_equal(s.user_agent, "bot/2");
    assert_string_equal(s.proxy, "http://p:3128");
    assert_string_equal(s.ca_file, "/etc/ca.pem");
    assert_false(s.insecure);
    assert_string_equal(s.dir, "/srv/out");
    assert_string_equal(s.input, "-");
    assert_int_equal(s.nschedule, 2);
    assert_int_equal(s.schedule[0].minute, 480);
    assert_int_equal(s.schedule[0].rate, 10485760);
    assert_int_equal(s.schedule[1].minute, 18 * 60 + 30);
    assert_int_equal(s.schedule[1].rate, 0);
    assert_int_equal(s.nhosts, 3);
    assert_string_equal(s.hosts[0].host, "img.example.com");
    assert_int_equal(s.hosts[0].per_host, 4);
    assert_int_equal(s.hosts[0].rate, 5 << 20);
    assert_string_equal(s.hosts[1].host, "cdn.example.org");
    assert_int_equal(s.hosts[1].per_host, 16);
    assert_int_equal(s.hosts[1].rate, -1);
    assert_int_equal(s.hosts[2].per_host, -1);
    assert_int_equal(s.hosts[2].rate, 0);
    assert_int_equal(s.per_host_rps, 20);
    assert_int_equal(s.hosts[0].rps, -1);
    assert_int_equal(s.hosts[1].rps, 50);
    assert_int_equal(s.set_on_cli, 0);
    settings_free(&s);
    reports_free(&r);
}

static void test_alternative_forms(void **state)
{
    struct settings s;
    struct reports r;

    (void)state;
    /* rate = 0 means off; a single header as a string; the schedule as a string; empty lists. */
    assert_int_equal(load_text("rate = 0;\nheaders = \"X-A: 1\";\nschedule = \"08:00,1M 09:00,2M\";\n"
                               "hosts = ();\nretry_wait = [ 3, 3600 ];\nstall = \"2m\";\n"
                               "burst = 3000000000L;\n", &s, &r, NULL), 0);
    assert_int_equal(s.rate, 0);
    assert_int_equal(s.nheaders, 1);
    assert_int_equal(s.nschedule, 2);
    assert_int_equal(s.schedule[1].rate, 2 << 20);
    assert_int_equal(s.nhosts, 0);
    assert_int_equal(s.retry_max_ms, 3600000);
    assert_int_equal(s.stall_ms, 120000);
    assert_int_equal(s.burst, 3000000000LL);
    settings_free(&s);

    /* Weekdays: in the string, and as a step's days in the list form. */
    assert_int_equal(load_text("schedule = ( { days = \"mon-fri\"; at = \"18:30\"; rate = \"off\"; },\n"
                               "             { at = \"12:00\"; rate = \"1M\"; },\n"
                               "             { days = \"mon-fri\"; at = \"08:00\"; rate = \"2M\"; },\n"
                               "             { days = \"sat,sun\"; at = \"08:00\"; rate = \"3M\"; } );\n",
                               &s, &r, NULL), 0);
    assert_int_equal(s.nschedule, 4);
    assert_int_equal(s.schedule[0].minute, 18 * 60 + 30);
    assert_int_equal(s.schedule[0].days, 0x3e);
    assert_int_equal(s.schedule[1].days, 0);
    assert_int_equal(s.schedule[2].minute, 8 * 60);
    assert_int_equal(s.schedule[2].days, 0x3e);
    assert_int_equal(s.schedule[3].days, 0x41);
    settings_free(&s);
    assert_int_equal(load_text("schedule = \"mon-fri 08:00,2M 18:30,off sat,sun 00:00,off\";\n", &s, &r, NULL), 0);
    assert_int_equal(s.nschedule, 3);
    assert_int_equal(s.schedule[2].days, 0x41);
    settings_free(&s);

    assert_int_equal(load_text("schedule = ();\nheaders = [];\nrate = \"off\";\n", &s, &r, NULL), 0);
    assert_int_equal(s.nschedule, 0);
    assert_int_equal(s.nheaders, 0);
    settings_free(&s);
    reports_free(&r);
}

static void test_syntax_error(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("concurrency = 4;\nrate = ;\n", &s, &r, &path), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 2, "syntax error");
    settings_free(&s);
    reports_free(&r);
    free(path);

    assert_int_equal(load_text("rate = \"1M\";\n\nrate = \"2M\";\n", &s, &r, &path), -1);
    assert_report(&r, 0, path, 3, "duplicate setting name");
    settings_free(&s);
    reports_free(&r);
    free(path);
}

static void test_unknown_key(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("concurrency = 4;\n\nfoo = 1;\n", &s, &r, &path), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 3, "unknown setting 'foo'");
    /* The rest of the file still applies (the caller stops anyway, but nothing is half-read). */
    assert_int_equal(s.concurrency, 4);
    settings_free(&s);
    reports_free(&r);

    assert_int_equal(load_text("per-host = 2;\nconfig = \"x\";\nheader = \"A: b\";\nhelp = true;\n",
                               &s, &r, NULL), -1);
    assert_int_equal(r.n, 4);
    assert_report(&r, 0, path, 1, "unknown setting 'per-host' (did you mean 'per_host'?)");
    assert_report(&r, 1, path, 2, "'config' can only be given on the command line");
    assert_report(&r, 2, path, 3, "unknown setting 'header' (did you mean 'headers'?)");
    assert_report(&r, 3, path, 4, "'help' can only be given on the command line");
    settings_free(&s);
    reports_free(&r);
    free(path);
}

static void test_bad_value(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("retries = 3;\nrate = \"1M\";\nconcurrency = 0;\n", &s, &r, &path), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 3, "concurrency: '0' is out of range (1..1024)");
    settings_free(&s);
    reports_free(&r);

    assert_int_equal(load_text("rate = \"fast\";\n", &s, &r, NULL), -1);
    assert_report(&r, 0, path, 1, "rate: 'fast' is not a rate (examples: 50M, 400Mbit, off)");
    settings_free(&s);
    reports_free(&r);
    free(path);
}

static void test_wrong_types(void **state)
{
    static const char *const cases[] = {
        "concurrency = true;", "concurrency = 1.5;", "rate = 1.5;", "overwrite = \"yes\";",
        "overwrite = 1;", "headless = \"true\";", "layout = 1;", "dir = 5;", "headers = 5;",
        "headers = [ 1 ];", "headers = ( \"A: b\", 2 );", "retry_wait = [ 1 ];",
        "retry_wait = [ true, 2 ];", "schedule = 5;", "schedule = ( 5 );", "hosts = 5;",
        "hosts = ( \"a\" );", "rate = [ \"1M\" ];", "theme = { a = 1; };", "retries = -1;",
    };
    struct settings s;
    struct reports r;

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int rc = load_text(cases[i], &s, &r, NULL);

        if (rc != -1 || r.n != 1)
            fail_msg("'%s': rc %d, %d reports", cases[i], rc, r.n);
        settings_free(&s);
        reports_free(&r);
    }
    assert_int_equal(load_text("concurrency = true;\n", &s, &r, NULL), -1);
    assert_non_null(strstr(r.msg[0], ":1: concurrency: expected a whole number"));
    settings_free(&s);
    reports_free(&r);
}

static void test_hosts_errors(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    /* An unknown key inside a group is reported on its own line. */
    assert_int_equal(load_text("hosts = (\n"
                               "  {\n"
                               "    host = \"a.example\";\n"
                               "    colour = \"red\";\n"
                               "  }\n"
                               ");\n", &s, &r, &path), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 4, "unknown setting 'colour' in hosts");
    assert_int_equal(s.nhosts, 0);
    settings_free(&s);
    reports_free(&r);

    assert_int_equal(load_text("hosts = (\n"
                               "  { per_host = 2; },\n"
                               "  { host = \"a b\"; },\n"
                               "  { host = \"ok.example\"; per_host = 2000; },\n"
                               "  { host = \"ok2.example\"; rate = \"1Q\"; },\n"
                               "  { host = \"x.example\"; },\n"
                               "  { host = \"X.example\"; },\n"
                               "  { host = \"ok3.example\"; rps = -1; }\n"
                               ");\n", &s, &r, NULL), -1);
    assert_int_equal(r.n, 6);
    assert_report(&r, 0, path, 2, "hosts: 'host' is missing");
    assert_report(&r, 1, path, 3, "hosts: host: 'a b' is not a host name");
    assert_report(&r, 2, path, 4, "hosts: per_host: '2000' is out of range (0..1024)");
    assert_report(&r, 3, path, 5, "hosts: rate: '1Q' is not a rate (examples: 50M, 400Mbit, off)");
    assert_report(&r, 4, path, 7, "hosts: 'x.example' is listed twice");
    assert_report(&r, 5, path, 8, "hosts: rps: '-1' is out of range (0..1000000)");
    assert_int_equal(s.nhosts, 0);
    settings_free(&s);
    reports_free(&r);

    /* A duplicate host, case-insensitively, in an otherwise clean list. */
    assert_int_equal(load_text("hosts = ( { host = \"x.example\"; },\n{ host = \"X.example\"; } );\n",
                               &s, &r, NULL), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 2, "hosts: 'x.example' is listed twice");
    settings_free(&s);
    reports_free(&r);
    free(path);
}

static void test_schedule_errors(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("schedule = (\n"
                               "  { at = \"25:00\"; rate = \"1M\"; },\n"
                               "  { at = \"08:00\"; rate = \"lots\"; },\n"
                               "  { at = \"09:00\"; rate = \"1M\"; when = \"weekdays\"; },\n"
                               "  { rate = \"1M\"; },\n"
                               "  { at = \"10:00\"; rate = \"1M\"; days = \"weekdays\"; }\n"
                               ");\n", &s, &r, &path), -1);
    assert_int_equal(r.n, 5);
    assert_report(&r, 0, path, 2, "schedule: at: '25:00' is not a time (HH:MM)");
    assert_report(&r, 1, path, 3, "schedule: rate: 'lots' is not a rate (examples: 50M, 400Mbit, off)");
    assert_report(&r, 2, path, 4, "unknown setting 'when' in schedule");
    assert_report(&r, 3, path, 5, "schedule: 'at' is missing");
    assert_report(&r, 4, path, 6, "schedule: days: 'weekdays' is not a list of days (mon-fri, sat,sun, daily)");
    assert_int_equal(s.nschedule, 0);
    settings_free(&s);
    reports_free(&r);

    assert_int_equal(load_text("schedule = ( { at = \"08:00\"; rate = \"1M\"; },\n"
                               "{ at = \"8:00\"; rate = \"2M\"; } );\n", &s, &r, NULL), -1);
    assert_int_equal(r.n, 1);
    assert_report(&r, 0, path, 1, "schedule: two steps at 08:00 on the same day");
    settings_free(&s);
    reports_free(&r);

    assert_int_equal(load_text("schedule = ( { at = \"08:00 09:00\"; rate = \"1M\"; } );\n", &s, &r, NULL), -1);
    assert_int_equal(r.n, 1);
    settings_free(&s);
    reports_free(&r);
    free(path);
}

/* Every problem is listed, not only the first. */
static void test_all_errors_reported(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("foo = 1;\n"
                               "concurrency = \"x\";\n"
                               "overwrite = \"yes\";\n"
                               "schedule = ( { at = \"24:00\"; rate = \"1M\"; } );\n"
                               "hosts = ( { per_host = 2; } );\n"
                               "rate = \"1M\";\n"
                               "headers = [ \"no colon\", \"X-A: 1\", \"Bad Name: 2\" ];\n",
                               &s, &r, &path), -1);
    assert_int_equal(r.n, 7);
    for (int i = 0; i < 5; i++) {
        char *prefix = xasprintf("%s:%d: ", path, i + 1);

        if (strncmp(r.msg[i], prefix, strlen(prefix)) != 0)
            fail_msg("report %d: '%s' does not start with '%s'", i, r.msg[i], prefix);
        free(prefix);
    }
    assert_report(&r, 5, path, 7, "headers: 'no colon' is not \"Name: value\"");
    assert_report(&r, 6, path, 7, "headers: 'Bad Name: 2': bad character in the header name");
    assert_int_equal(s.rate, 1 << 20);
    settings_free(&s);
    reports_free(&r);
    free(path);
}

/* libconfig 1.5 would wrap these to other numbers without a word. */
static void test_wide_integers(void **state)
{
    struct settings s;
    struct reports r;
    char *path;

    (void)state;
    assert_int_equal(load_text("# 9999999999 in a comment is fine\n"
                               "user_agent = \"agent 99999999999\";\n"
                               "burst = 3000000000;\n"
                               "min_segment = 4294967304;\n"
                               "/* 5000000000 */ stall = 2147483647;\n"
                               "hosts = ( { host = \"a.example\"; rate = 0x100000000; } );\n"
                               "retries = 7;\n", &s, &r, &path), -1);
    /* One report per literal, none about the wrapped value it would have become. */
    assert_int_equal(r.n, 3);
    assert_report(&r, 0, path, 3, "3000000000 is too large for a plain number; write it as a string "
                                  "(\"3G\", \"400Mbit\") or as 3000000000L");
    assert_non_null(strstr(r.msg[1], ":4: 4294967304 is too large"));
    assert_non_null(strstr(r.msg[2], ":6: 0x100000000 is too large"));
    settings_free(&s);
    reports_free(&r);

    /* In line order among the other messages. */
    assert_int_equal(load_text("concurrency = 4;\nfoo = 2;\nburst = 3000000000;\nbar = 1;\n", &s, &r, NULL), -1);
    assert_int_equal(r.n, 3);
    assert_report(&r, 0, path, 2, "unknown setting 'foo'");
    assert_non_null(strstr(r.msg[1], ":3: 3000000000 is too large"));
    assert_report(&r, 2, path, 4, "unknown setting 'bar'");
    settings_free(&s);
    reports_free(&r);
    free(path);

    assert_int_equal(load_text("burst = 2147483647;\nmin_segment = 3000000000L;\nstall = 1.5e3;\n",
                               &s, &r, NULL), 0);
    assert_int_equal(s.burst, 2147483647);
    assert_int_equal(s.min_segment, 3000000000LL);
    assert_int_equal(s.stall_ms, 1500000);
    settings_free(&s);
    reports_free(&r);
}

static void test_missing_file_and_include(void **state)
{
    struct settings s;
    struct reports r = { 0 };
    char *missing = tmp_path("missing.conf");
    char *msg;

    (void)state;
    settings_init(&s);
    assert_int_equal(config_load(missing, &s, collect, &r), -1);
    assert_int_equal(r.n, 1);
    msg = xasprintf("%s: No such file or directory", missing);
    assert_string_equal(r.msg[0], msg);
    free(msg);
    reports_free(&r);
    assert_int_equal(config_load(tmpdir, &s, collect, &r), -1);
    assert_non_null(strstr(r.msg[0], "is a directory"));
    reports_free(&r);
    settings_free(&s);
    free(missing);

    /* @include is relative to the including file, wherever the process runs. */
    char *sub = tmp_path("inc");
    assert_int_equal(mkdir(sub, 0700), 0);
    free(write_file("inc/part.conf", "concurrency = 3;\n"));
    free(write_file("inc/bad.conf", "\nfoo = 1;\n"));
    char *main_conf = write_file("inc/main.conf", "@include \"part.conf\"\nrate = \"1M\";\n");
    settings_init(&s);
    assert_int_equal(config_load(main_conf, &s, collect, &r), 0);
    assert_int_equal(s.concurrency, 3);
    assert_int_equal(s.rate, 1 << 20);
    settings_free(&s);
    free(main_conf);

    main_conf = write_file("inc/main2.conf", "@include \"bad.conf\"\n");
    settings_init(&s);
    assert_int_equal(config_load(main_conf, &s, collect, &r), -1);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg[0], "bad.conf:2: unknown setting 'foo'"));
    settings_free(&s);
    reports_free(&r);
    free(main_conf);
    free(sub);
}

/* A file over CONFIG_MAX_BYTES is refused before it is read or parsed; one just under it (a
 * comment line of almost 1 MiB) is parsed, and quickly. */
static void test_too_large(void **state)
{
    struct settings s;
    struct reports r = { 0 };
    char *path = tmp_path("big.conf"), *want;
    char *text = xmalloc(CONFIG_MAX_BYTES + 2);
    FILE *fp;
    int64_t t0;

    (void)state;
    memset(text, '#', CONFIG_MAX_BYTES + 1);
    text[CONFIG_MAX_BYTES + 1] = '\0';
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    settings_init(&s);
    assert_int_equal(config_load(path, &s, collect, &r), -1);
    assert_int_equal(r.n, 1);
    want = xasprintf("%s: too large (%d bytes, at most %d)", path, CONFIG_MAX_BYTES + 1, CONFIG_MAX_BYTES);
    assert_string_equal(r.msg[0], want);
    free(want);
    reports_free(&r);
    settings_free(&s);

    /* A stream that does not end is cut at the limit. */
    settings_init(&s);
    assert_int_equal(config_load("/dev/zero", &s, collect, &r), -1);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.msg[0], "/dev/zero: too large (more than"));
    reports_free(&r);
    settings_free(&s);

    text[CONFIG_MAX_BYTES - 40] = '\n';
    memcpy(text + CONFIG_MAX_BYTES - 39, "concurrency = 7;\n", 18);
    text[CONFIG_MAX_BYTES - 21] = '\0';
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    settings_init(&s);
    t0 = mono_ms();
    assert_int_equal(config_load(path, &s, collect, &r), 0);
    assert_true(mono_ms() - t0 < 5000);
    assert_int_equal(s.concurrency, 7);
    settings_free(&s);
    reports_free(&r);
    free(text);
    free(path);
}

/* sample.conf is read from the repository root, where the tests run. */
static char *read_sample(void)
{
    static const char *const where[] = { "sample.conf", "../sample.conf", "../../sample.conf" };
    struct sbuf b = { 0 };

    for (size_t i = 0; i < ARRAY_LEN(where); i++) {
        FILE *fp = fopen(where[i], "r");
        char buf[4096];
        size_t n;

        if (fp == NULL)
            continue;
        while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
            sbuf_add(&b, buf, n);
        fclose(fp);
        return b.s;
    }
    fail_msg("sample.conf not found (run the tests from the repository root)");
    return NULL;
}

/* The line of sample.conf that sets key, commented or not, or NULL. */
static const char *sample_line(const char *text, const char *key)
{
    size_t kl = strlen(key);

    for (const char *line = text; line != NULL && *line; ) {
        const char *p = line;

        if (strncmp(p, "# ", 2) == 0)
            p += 2;
        if (strncmp(p, key, kl) == 0 && strncmp(p + kl, " =", 2) == 0)
            return line;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return NULL;
}

static void test_sample_lists_every_key(void **state)
{
    char *text = read_sample();

    (void)state;
    for (size_t i = 0; i < opts_count; i++) {
        const struct opt *o = &opts_table[i];
        const char *line;
        size_t len;

        if (o->cli_only) {
            if (sample_line(text, o->name) != NULL)
                fail_msg("sample.conf sets '%s', which is only for the command line", o->name);
            continue;
        }
        line = sample_line(text, o->key);
        if (line == NULL)
            fail_msg("sample.conf does not list '%s'", o->key);
        /* It shows the default, where there is one (but for the version, which is written only
         * in version.h: the User-Agent's default is described, with an example instead). */
        len = strcspn(line, "\n");
        if (o->def != NULL && strstr(o->def, SLUICE_VERSION) == NULL) {
            char *l = xstrndup(line, len);

            if (strstr(l, o->def) == NULL)
                fail_msg("sample.conf: '%s' does not show the default %s", l, o->def);
            free(l);
        }
    }
    assert_non_null(sample_line(text, "hosts"));
    free(text);
}

/* With every "# " setting line uncommented, sample.conf loads cleanly, and every setting it shows
 * with its default really is the default. */
static void test_sample_loads(void **state)
{
    char *text = read_sample();
    struct sbuf out = { 0 };
    struct settings s, d;
    struct reports r = { 0 };
    int uncommented = 0;

    (void)state;
    for (char *line = text; *line; ) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);

        if (strncmp(line, "# ", 2) == 0) {
            sbuf_add(&out, line + 2, len - 2);
            uncommented++;
        } else {
            sbuf_add(&out, line, len);
        }
        line += len;
    }
    assert_true(uncommented >= (int)opts_count);
    char *path = write_file("sample-uncommented.conf", out.s);
    settings_init(&s);
    assert_int_equal(config_load(path, &s, collect, &r), 0);
    for (int i = 0; i < r.n; i++)
        print_message("%s\n", r.msg[i]);
    assert_int_equal(r.n, 0);

    settings_init(&d);
    assert_string_equal(s.dir, d.dir);
    assert_int_equal(s.layout, d.layout);
    assert_int_equal(s.overwrite, d.overwrite);
    assert_int_equal(s.no_session, d.no_session);
    assert_int_equal(s.concurrency, d.concurrency);
    assert_int_equal(s.per_host, d.per_host);
    assert_int_equal(s.rate, d.rate);
    assert_int_equal(s.burst, d.burst);
    assert_int_equal(s.retries, d.retries);
    assert_int_equal(s.retry_min_ms, d.retry_min_ms);
    assert_int_equal(s.retry_max_ms, d.retry_max_ms);
    assert_int_equal(s.connect_timeout_ms, d.connect_timeout_ms);
    assert_int_equal(s.stall_ms, d.stall_ms);
    assert_int_equal(s.segments, d.segments);
    assert_int_equal(s.min_segment, d.min_segment);
    assert_string_equal(d.user_agent, "sluice/" SLUICE_VERSION);
    assert_string_equal(s.user_agent, "mirror-bot/1.0");
    assert_int_equal(s.insecure, d.insecure);
    assert_int_equal(s.mode, d.mode);
    assert_string_equal(s.theme, d.theme);
    /* The examples of the list settings are real examples. */
    assert_int_equal(s.nschedule, 3);
    assert_int_equal(s.nhosts, 2);
    assert_true(s.nheaders >= 1);
    assert_non_null(s.input);
    assert_non_null(s.session);
    assert_non_null(s.proxy);
    assert_non_null(s.ca_file);
    assert_non_null(s.log);
    settings_free(&d);
    settings_free(&s);
    reports_free(&r);
    sbuf_free(&out);
    free(path);
    free(text);
}

/* Hostile files: the uncommented sample with random bytes changed, inserted or cut never crashes the
 * loader, and every rejection comes with a message (run it under ASan/UBSan). */
static void test_mutated_files(void **state)
{
    static const char bytes[] = "=;:,{}()[]\"#/*-+.0123456789LxeE \n\t\\@aZ_\x01\xff";
    char *text = read_sample();
    struct sbuf clean = { 0 };
    uint32_t seed = 777;
    int rejected = 0;

    (void)state;
    for (char *line = text; *line; ) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);

        if (strncmp(line, "# ", 2) == 0)
            sbuf_add(&clean, line + 2, len - 2);
        else
            sbuf_add(&clean, line, len);
        line += len;
    }
    for (int round = 0; round < 300; round++) {
        struct sbuf m = { 0 };
        struct settings s;
        struct reports r = { 0 };
        char *path;
        int rc;

        sbuf_add(&m, clean.s, clean.len);
        for (int k = 0; k < 1 + round % 4 && m.len > 0; k++) {   /* a cut may leave nothing */
            size_t at;

            if (m.len == 0)     /* cut to nothing by the step before */
                break;
            seed = seed * 1103515245 + 12345;
            at = (seed >> 8) % m.len;
            seed = seed * 1103515245 + 12345;
            switch ((seed >> 16) % 3) {
            case 0:
                m.s[at] = bytes[(seed >> 4) % (sizeof bytes - 1)];
                break;
            case 1: {
                char c = bytes[(seed >> 4) % (sizeof bytes - 1)];
                struct sbuf n = { 0 };

                sbuf_add(&n, m.s, at);
                sbuf_add(&n, &c, 1);
                sbuf_add(&n, m.s + at, m.len - at);
                sbuf_free(&m);
                m = n;
                break;
            }
            default:
                m.len = at;
                m.s[at] = '\0';
                break;
            }
        }
        path = write_file("mutated.conf", m.s);
        settings_init(&s);
        rc = config_load(path, &s, collect, &r);
        assert_true(rc == 0 || rc == -1);
        if (rc == -1) {
            assert_true(r.n > 0);
            rejected++;
        } else {
            assert_int_equal(r.n, 0);
        }
        settings_free(&s);
        reports_free(&r);
        sbuf_free(&m);
        free(path);
    }
    assert_true(rejected > 0);
    sbuf_free(&clean);
    free(text);
}

/* ---- cli_parse ---- */

struct run {
    enum cli_result res;
    char *out, *err;
    struct settings s;
};

static void run_cli(struct run *run, int argc, char **argv)
{
    size_t ol, el;
    FILE *out = open_memstream(&run->out, &ol);
    FILE *err = open_memstream(&run->err, &el);

    assert_non_null(out);
    assert_non_null(err);
    settings_init(&run->s);
    run->res = cli_parse(argc, argv, &run->s, out, err);
    fclose(out);
    fclose(err);
}

static void run_free(struct run *run)
{
    free(run->out);
    free(run->err);
    settings_free(&run->s);
}

#define RUN(run, ...) do { \
        char *argv_[] = { "sluice", __VA_ARGS__, NULL }; \
        run_cli((run), (int)ARRAY_LEN(argv_) - 1, argv_); \
    } while (0)

static uint64_t bit(const char *name)
{
    int idx = opts_find(name);

    assert_true(idx >= 0);
    return UINT64_C(1) << idx;
}

static void test_cli_overrides_config(void **state)
{
    char *conf = write_file("cli.conf", "concurrency = 4;\nrate = \"10M\";\nheaders = [ \"X-A: 1\" ];\n"
                                        "layout = \"host\";\n");
    struct run run;

    (void)state;
    RUN(&run, "-c", conf, "-j", "16", "-H", "X-B: 2", "http://a.example/x", "--layout=flat");
    assert_int_equal(run.res, CLI_RUN);
    assert_string_equal(run.err, "");
    assert_int_equal(run.s.concurrency, 16);          /* command line wins */
    assert_int_equal(run.s.rate, 10 << 20);           /* from the file */
    assert_int_equal(run.s.layout, LAYOUT_FLAT);
    assert_int_equal(run.s.nheaders, 2);
    assert_string_equal(run.s.headers[0], "X-A: 1");
    assert_string_equal(run.s.headers[1], "X-B: 2");
    assert_int_equal(run.s.nurls, 1);
    assert_string_equal(run.s.urls[0], "http://a.example/x");
    assert_string_equal(run.s.config, conf);
    assert_int_equal(run.s.set_on_cli, bit("config") | bit("concurrency") | bit("header") | bit("layout"));
    assert_false(run.s.set_on_cli & bit("rate"));
    run_free(&run);

    /* The order on the command line does not matter: the file is always read first. */
    RUN(&run, "-r", "1M", "-c", conf);
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.rate, 1 << 20);
    assert_int_equal(run.s.concurrency, 4);
    assert_int_equal(run.s.set_on_cli, bit("config") | bit("rate"));
    run_free(&run);
    free(conf);
}

static void test_cli_default_config(void **state)
{
    char *xdg = tmp_path("xdg"), *home = tmp_path("home");
    char *dirs[] = { tmp_path("xdg"), tmp_path("xdg/sluice"), tmp_path("home"), tmp_path("home/.config"),
                     tmp_path("home/.config/sluice") };
    struct run run;
    char *old = xstrdup(getenv("XDG_CONFIG_HOME"));

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
        assert_int_equal(mkdir(dirs[i], 0700), 0);
        free(dirs[i]);
    }
    char *xconf = write_file("xdg/sluice/sluice.conf", "retries = 9;\n");
    char *hconf = write_file("home/.config/sluice/sluice.conf", "retries = 7;\n");
    char *other = write_file("other.conf", "retries = 2;\n");

    setenv("HOME", home, 1);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    RUN(&run, "http://a.example/");
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.retries, 9);
    assert_string_equal(run.s.config, xconf);
    assert_int_equal(run.s.set_on_cli, 0);
    run_free(&run);

    /* -c replaces the default file, it does not add to it. */
    RUN(&run, "-c", other);
    assert_int_equal(run.s.retries, 2);
    run_free(&run);

    unsetenv("XDG_CONFIG_HOME");
    RUN(&run, "--retries", "1");
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.retries, 1);
    assert_string_equal(run.s.config, hconf);
    run_free(&run);

    /* XDG_CONFIG_HOME set but without the file: no config, ~/.config is not consulted. */
    setenv("XDG_CONFIG_HOME", tmpdir, 1);
    RUN(&run, "-d", "/tmp");
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.retries, 5);
    assert_null(run.s.config);
    run_free(&run);

    /* A broken default file is an error like any other. */
    setenv("XDG_CONFIG_HOME", xdg, 1);
    free(write_file("xdg/sluice/sluice.conf", "retries = lots;\n"));
    RUN(&run, "http://a.example/");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_non_null(strstr(run.err, "sluice.conf:1: syntax error"));
    run_free(&run);

    setenv("XDG_CONFIG_HOME", old, 1);
    free(old);
    free(xconf);
    free(hconf);
    free(other);
    free(xdg);
    free(home);
}

static void test_cli_errors(void **state)
{
    char *missing = tmp_path("nope.conf");
    char *want;
    struct run run;

    (void)state;
    RUN(&run, "-c", missing);
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    want = xasprintf("%s: No such file or directory\n", missing);
    assert_string_equal(run.err, want);
    free(want);
    run_free(&run);

    RUN(&run, "--rate", "fast");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: --rate: 'fast' is not a rate (examples: 50M, 400Mbit, off)\n");
    run_free(&run);

    RUN(&run, "-j", "0");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: --concurrency: '0' is out of range (1..1024)\n");
    run_free(&run);

    RUN(&run, "-j");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: --concurrency: a value is required\n");
    run_free(&run);

    RUN(&run, "--stall");
    assert_string_equal(run.err, "sluice: --stall: a value is required\n");
    run_free(&run);

    RUN(&run, "--overwrite=yes");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: --overwrite takes no value\n");
    run_free(&run);

    RUN(&run, "--version=2");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: --version takes no value\n");
    run_free(&run);

    RUN(&run, "--\x1b[2J");
    assert_string_equal(run.err, "sluice: unknown or ambiguous option '--?[2J' (see --help)\n");
    run_free(&run);

    RUN(&run, "-x");
    assert_string_equal(run.err, "sluice: unknown option '-x' (see --help)\n");
    run_free(&run);

    RUN(&run, "--frobnicate", "http://a.example/");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    assert_string_equal(run.err, "sluice: unknown or ambiguous option '--frobnicate' (see --help)\n");
    run_free(&run);

    /* Every mistake at once, the config file's first. */
    char *conf = write_file("bad.conf", "foo = 1;\n");
    RUN(&run, "-j", "0", "-c", conf, "--rate", "x", "--layout", "tree", "--frob");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    want = xasprintf("%s:1: unknown setting 'foo'\n"
                     "sluice: --concurrency: '0' is out of range (1..1024)\n"
                     "sluice: --rate: 'x' is not a rate (examples: 50M, 400Mbit, off)\n"
                     "sluice: --layout: 'tree' is not path, flat or host\n"
                     "sluice: unknown or ambiguous option '--frob' (see --help)\n", conf);
    assert_string_equal(run.err, want);
    free(want);
    run_free(&run);
    free(conf);
    free(missing);
}

static void test_cli_help_version_ctl(void **state)
{
    char needle[64];
    struct run run;

    (void)state;
    RUN(&run, "--help");
    assert_int_equal(run.res, CLI_EXIT_OK);
    assert_string_equal(run.err, "");
    for (size_t i = 0; i < opts_count; i++) {
        snprintf(needle, sizeof needle, "--%s", opts_table[i].name);
        if (strstr(run.out, needle) == NULL)
            fail_msg("--help lacks %s", needle);
    }
    run_free(&run);

    /* Help comes before the config: a broken or missing file does not hide it. */
    RUN(&run, "-c", "/nonexistent/sluice.conf", "-h", "--bogus");
    assert_int_equal(run.res, CLI_EXIT_OK);
    assert_non_null(strstr(run.out, "Usage: sluice"));
    run_free(&run);

    RUN(&run, "-V");
    assert_int_equal(run.res, CLI_EXIT_OK);
    assert_int_equal(strncmp(run.out, "sluice " SLUICE_VERSION "\n", strlen("sluice " SLUICE_VERSION "\n")), 0);
    assert_non_null(strstr(run.out, "libcurl/"));
    run_free(&run);

    /* "ctl" is handed over untouched. */
    RUN(&run, "ctl", "rate", "--frob", "5M");
    assert_int_equal(run.res, CLI_CTL);
    assert_string_equal(run.out, "");
    assert_string_equal(run.err, "");
    assert_int_equal(run.s.nurls, 0);
    run_free(&run);

    /* ... but only as the first word. */
    RUN(&run, "-j", "2", "ctl");
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.nurls, 1);
    run_free(&run);
}

static void test_cli_urls_and_flags(void **state)
{
    struct run run;

    (void)state;
    RUN(&run, "http://a.example/1", "-j4", "http://a.example/2", "--headless", "-r400Mbit",
        "--conc", "5", "--", "-c", "--rate");
    assert_int_equal(run.res, CLI_RUN);
    assert_string_equal(run.err, "");
    assert_int_equal(run.s.nurls, 4);
    assert_string_equal(run.s.urls[0], "http://a.example/1");
    assert_string_equal(run.s.urls[1], "http://a.example/2");
    assert_string_equal(run.s.urls[2], "-c");
    assert_string_equal(run.s.urls[3], "--rate");
    assert_int_equal(run.s.concurrency, 5);           /* the last of -j4 and --conc 5 */
    assert_int_equal(run.s.rate, 50000000);
    assert_int_equal(run.s.mode, UI_HEADLESS);
    assert_int_equal(run.s.set_on_cli, bit("concurrency") | bit("headless") | bit("rate"));
    run_free(&run);

    RUN(&run, "--headless", "--tui", "--insecure", "--no-session", "-i", "-", "-d", "out");
    assert_int_equal(run.res, CLI_RUN);
    assert_int_equal(run.s.mode, UI_TUI);
    assert_true(run.s.insecure);
    assert_true(run.s.no_session);
    assert_string_equal(run.s.input, "-");
    assert_string_equal(run.s.dir, "out");
    assert_int_equal(run.s.set_on_cli, bit("headless") | bit("tui") | bit("insecure") | bit("no-session")
                     | bit("input") | bit("dir"));
    run_free(&run);

    RUN(&run, "--schedule", "08:00,10M 18:30,off", "--retry-wait", "2s,1m", "--segments", "4",
        "--min-segment", "1M", "--user-agent", "x/1", "--proxy", "http://p:1", "--ca-file", "/ca",
        "--theme", "mono", "--log", "/tmp/l", "--session", "/tmp/s", "--overwrite", "--burst", "1M",
        "--per-host", "3", "--retries", "0", "--connect-timeout", "5s", "--stall", "1m");
    assert_int_equal(run.res, CLI_RUN);
    assert_string_equal(run.err, "");
    assert_int_equal(run.s.nschedule, 2);
    assert_int_equal(run.s.retry_min_ms, 2000);
    assert_int_equal(run.s.segments, 4);
    assert_int_equal(run.s.min_segment, 1 << 20);
    assert_string_equal(run.s.user_agent, "x/1");
    assert_string_equal(run.s.proxy, "http://p:1");
    assert_string_equal(run.s.ca_file, "/ca");
    assert_string_equal(run.s.theme, "mono");
    assert_string_equal(run.s.log, "/tmp/l");
    assert_string_equal(run.s.session, "/tmp/s");
    assert_true(run.s.overwrite);
    assert_int_equal(run.s.burst, 1 << 20);
    assert_int_equal(run.s.per_host, 3);
    assert_int_equal(run.s.retries, 0);
    assert_int_equal(run.s.connect_timeout_ms, 5000);
    assert_int_equal(run.s.stall_ms, 60000);
    run_free(&run);

    /* An ambiguous abbreviation is refused, not guessed. */
    RUN(&run, "--s", "1");
    assert_int_equal(run.res, CLI_EXIT_USAGE);
    run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_alternative_forms),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_value),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_hosts_errors),
        cmocka_unit_test(test_schedule_errors),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_wide_integers),
        cmocka_unit_test(test_missing_file_and_include),
        cmocka_unit_test(test_sample_lists_every_key),
        cmocka_unit_test(test_sample_loads),
        cmocka_unit_test(test_mutated_files),
        cmocka_unit_test(test_cli_overrides_config),
        cmocka_unit_test(test_cli_default_config),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_cli_errors),
        cmocka_unit_test(test_cli_help_version_ctl),
        cmocka_unit_test(test_cli_urls_and_flags),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
