/* Themes: the built-in table, the shipped files in themes/, colour and attribute words, and
 * FILE:LINE errors for every way a theme file can be wrong (nothing half-applied). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "theme.h"
#include "util.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/sluice-test-theme.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to DIR/name and returns the path (static buffer). */
static const char *file(const char *name, const char *text)
{
    static char path[256];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void test_builtin_table(void **state)
{
    struct theme t;

    theme_defaults(&t);
    assert_string_equal(t.source, "built-in");
    for (int i = 0; i < TH_COUNT; i++) {
        const char *name = theme_elem_name((enum theme_elem)i);

        assert_true(strlen(name) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, theme_elem_name((enum theme_elem)j));
        assert_true(t.st[i].fg >= THEME_COLOR_DEFAULT && t.st[i].fg <= 255);
        assert_true(t.st[i].bg >= THEME_COLOR_DEFAULT && t.st[i].bg <= 255);
        /* Without colours only bold and reverse exist. */
        assert_int_equal(t.st[i].mono & ~(THEME_BOLD | THEME_REVERSE), 0);
    }
    /* The selection must stand out without colours. */
    assert_true(t.st[TH_SELECTED].mono & THEME_REVERSE);
    assert_string_equal(theme_elem_name(TH_COUNT), "?");
}

static void test_colors(void **state)
{
    char err[ERRLEN];
    short c = 99;

    assert_int_equal(theme_parse_color("default", &c, err), 0);
    assert_int_equal(c, THEME_COLOR_DEFAULT);
    assert_int_equal(theme_parse_color("red", &c, err), 0);
    assert_int_equal(c, 1);
    assert_int_equal(theme_parse_color("WHITE", &c, err), 0);
    assert_int_equal(c, 7);
    assert_int_equal(theme_parse_color("bright-black", &c, err), 0);
    assert_int_equal(c, 8);
    assert_int_equal(theme_parse_color("grey", &c, err), 0);
    assert_int_equal(c, 8);
    assert_int_equal(theme_parse_color("bright-white", &c, err), 0);
    assert_int_equal(c, 15);
    assert_int_equal(theme_parse_color("196", &c, err), 0);
    assert_int_equal(c, 196);
    assert_int_equal(theme_parse_color("0", &c, err), 0);
    assert_int_equal(c, 0);
    c = 42;
    assert_int_equal(theme_parse_color("256", &c, err), -1);
    assert_non_null(strstr(err, "'256'"));
    assert_int_equal(c, 42);
    assert_int_equal(theme_parse_color("", &c, err), -1);
    assert_int_equal(theme_parse_color("-1", &c, err), -1);
    assert_int_equal(theme_parse_color("1e2", &c, err), -1);
    assert_int_equal(theme_parse_color("purple", &c, err), -1);
    assert_non_null(strstr(err, "'purple' is not a colour"));
    /* Hostile text comes back quoted and made safe. */
    assert_int_equal(theme_parse_color("\x1b[31mred", &c, err), -1);
    assert_null(strchr(err, '\x1b'));
}

static void test_attrs(void **state)
{
    char err[ERRLEN];
    unsigned a = 99;

    assert_int_equal(theme_parse_attrs("", &a, err), 0);
    assert_int_equal(a, 0);
    assert_int_equal(theme_parse_attrs("none", &a, err), 0);
    assert_int_equal(a, 0);
    assert_int_equal(theme_parse_attrs("bold reverse", &a, err), 0);
    assert_int_equal(a, THEME_BOLD | THEME_REVERSE);
    assert_int_equal(theme_parse_attrs(" Bold,underline  dim ", &a, err), 0);
    assert_int_equal(a, THEME_BOLD | THEME_UNDERLINE | THEME_DIM);
    a = 7;
    assert_int_equal(theme_parse_attrs("bold blink", &a, err), -1);
    assert_non_null(strstr(err, "'blink' is not an attribute"));
    assert_int_equal(a, 7);
}

static void same_style(const struct theme *a, const struct theme *b)
{
    for (int i = 0; i < TH_COUNT; i++) {
        if (a->st[i].fg != b->st[i].fg || a->st[i].bg != b->st[i].bg ||
            a->st[i].attr != b->st[i].attr || a->st[i].mono != b->st[i].mono)
            fail_msg("element %s differs", theme_elem_name((enum theme_elem)i));
    }
}

/* The unit tests run from the repository root (make test). */
static void test_shipped_default_is_builtin(void **state)
{
    struct theme builtin, t;
    char err[ERRLEN];

    theme_defaults(&builtin);
    theme_defaults(&t);
    if (theme_load_file(&t, "themes/default.conf", err) < 0)
        fail_msg("%s", err);
    same_style(&builtin, &t);
    assert_string_equal(t.source, "themes/default.conf");
}

/* default.conf names every element, so a reader learns them all from it. */
static void test_shipped_default_names_all(void **state)
{
    FILE *fp = fopen("themes/default.conf", "r");
    char line[512];
    int seen[TH_COUNT] = { 0 };

    assert_non_null(fp);
    while (fgets(line, sizeof line, fp) != NULL)
        for (int i = 0; i < TH_COUNT; i++) {
            size_t n = strlen(theme_elem_name((enum theme_elem)i));

            if (strncmp(line, theme_elem_name((enum theme_elem)i), n) == 0 && line[n] == ' ')
                seen[i]++;
        }
    fclose(fp);
    for (int i = 0; i < TH_COUNT; i++)
        if (seen[i] != 1)
            fail_msg("default.conf names %s %d times", theme_elem_name((enum theme_elem)i), seen[i]);
}

static void test_shipped_light_and_mono(void **state)
{
    struct theme t, def;
    char err[ERRLEN];

    theme_defaults(&def);
    theme_defaults(&t);
    if (theme_load_file(&t, "themes/light.conf", err) < 0)
        fail_msg("%s", err);
    /* Light backgrounds: no white text on the terminal's own background. */
    for (int i = 0; i < TH_COUNT; i++)
        if (t.st[i].bg == THEME_COLOR_DEFAULT && (t.st[i].fg == 7 || t.st[i].fg == 15))
            fail_msg("light: %s is white on the default background", theme_elem_name((enum theme_elem)i));
    assert_int_not_equal(t.st[TH_SELECTED].bg, def.st[TH_SELECTED].bg);

    theme_defaults(&t);
    if (theme_load_file(&t, "themes/mono.conf", err) < 0)
        fail_msg("%s", err);
    for (int i = 0; i < TH_COUNT; i++) {
        assert_int_equal(t.st[i].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.st[i].bg, THEME_COLOR_DEFAULT);
    }
    assert_true(t.st[TH_SELECTED].attr & THEME_REVERSE);
}

static void test_partial_file(void **state)
{
    struct theme t, def;
    char err[ERRLEN];
    const char *p = file("part.conf",
                         "name = \"part\";\n"
                         "title = { fg = \"yellow\"; bg = 17; };\n"
                         "selected = { attr = \"underline\"; mono = \"bold\"; };\n");

    theme_defaults(&def);
    theme_defaults(&t);
    assert_int_equal(theme_load_file(&t, p, err), 0);
    assert_int_equal(t.st[TH_TITLE].fg, 3);
    assert_int_equal(t.st[TH_TITLE].bg, 17);
    assert_int_equal(t.st[TH_TITLE].attr, def.st[TH_TITLE].attr);     /* left out: kept */
    assert_int_equal(t.st[TH_SELECTED].attr, THEME_UNDERLINE);
    assert_int_equal(t.st[TH_SELECTED].mono, THEME_BOLD);
    assert_int_equal(t.st[TH_HEADER].fg, def.st[TH_HEADER].fg);
    assert_string_equal(t.source, p);
}

/* Each bad file: the message starts with FILE:LINE and the theme is left as it was. */
static void bad(const char *text, const char *want_line, const char *want)
{
    struct theme t, before;
    char err[ERRLEN], prefix[300];
    const char *p = file("bad.conf", text);

    theme_defaults(&t);
    t.st[TH_ROW].fg = 5;
    before = t;
    assert_int_equal(theme_load_file(&t, p, err), -1);
    snprintf(prefix, sizeof prefix, "%s:%s: ", p, want_line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, want) == NULL)
        fail_msg("for %s: got '%s', want '%s...%s'", text, err, prefix, want);
    assert_memory_equal(&t, &before, sizeof t);
}

static void test_bad_files(void **state)
{
    bad("title = { fg = \"white\"; };\nwobble = { fg = \"red\"; };\n", "2",
        "unknown element 'wobble'");
    bad("\n\ntitle = { fg = \"white\"; shade = \"x\"; };\n", "3", "unknown setting 'shade' in title");
    bad("header = { bg = \"purple-ish\"; };\n", "1", "bg: 'purple-ish' is not a colour");
    bad("header = { fg = 300; };\n", "1", "fg: 300 is not a colour number");
    bad("header = { fg = -2; };\n", "1", "fg: -2 is not a colour number");
    bad("header = { fg = true; };\n", "1", "fg: expected a colour name in quotes");
    bad("header = { attr = 1; };\n", "1", "attr: expected words in quotes");
    bad("header = { attr = \"bold flashing\"; };\n", "1", "attr: 'flashing' is not an attribute");
    bad("header = { mono = \"underline\"; };\n", "1", "only bold and reverse work without colours");
    bad("header = \"white\";\n", "1", "header: expected a group");
    bad("x = 1;\n\ntitle = { fg = \"white\" \n", "4", "");   /* syntax error at the end */
    bad("title = { fg = \"white\"; };\ntitle = { fg = \"red\"; };\n", "2", "");
    bad("name = 3;\n", "1", "unknown element 'name'");
}

static void test_missing_file(void **state)
{
    struct theme t;
    char err[ERRLEN], path[300];

    theme_defaults(&t);
    snprintf(path, sizeof path, "%s/nope.conf", dir);
    assert_int_equal(theme_load_file(&t, path, err), -1);
    assert_non_null(strstr(err, "nope.conf: cannot read the theme file"));
}

static void test_too_large(void **state)
{
    struct theme t;
    char err[ERRLEN], path[300];
    FILE *fp;
    short fg;

    theme_defaults(&t);
    fg = t.st[TH_ALERT].fg;
    snprintf(path, sizeof path, "%s/big.conf", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("alert = { fg = \"black\"; };\n", fp);
    for (int i = 0; i < THEME_MAX_BYTES / 64 + 1; i++)
        fputs("#234567890123456789012345678901234567890123456789012345678901234\n", fp);
    fclose(fp);
    assert_int_equal(theme_load_file(&t, path, err), -1);
    assert_non_null(strstr(err, "big.conf: too large ("));
    assert_int_equal(t.st[TH_ALERT].fg, fg);          /* nothing of it applied */
    assert_int_equal(theme_load(&t, path, err), -1);
    assert_non_null(strstr(err, "too large"));
}

static void test_load_by_name(void **state)
{
    struct theme t;
    char err[ERRLEN], themes[200], path[300];
    char *old = getenv("XDG_CONFIG_HOME") ? xstrdup(getenv("XDG_CONFIG_HOME")) : NULL;
    FILE *fp;

    snprintf(themes, sizeof themes, "%s/sluice", dir);
    mkdir(themes, 0755);
    snprintf(themes, sizeof themes, "%s/sluice/themes", dir);
    mkdir(themes, 0755);
    snprintf(path, sizeof path, "%s/custom.conf", themes);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("alert = { fg = \"black\"; bg = \"yellow\"; };\n", fp);
    fclose(fp);
    setenv("XDG_CONFIG_HOME", dir, 1);

    assert_int_equal(theme_load(&t, "custom", err), 0);
    assert_int_equal(t.st[TH_ALERT].bg, 3);
    assert_string_equal(t.source, path);

    /* Names are names: no paths, no strange characters. */
    assert_int_equal(theme_load(&t, "cu stom", err), -1);
    assert_non_null(strstr(err, "is not a theme name"));
    assert_int_equal(theme_load(&t, "nosuch", err), -1);
    assert_non_null(strstr(err, "no theme 'nosuch'"));
    assert_non_null(strstr(err, themes));
    /* A file by path. */
    assert_int_equal(theme_load(&t, path, err), 0);
    assert_int_equal(t.st[TH_ALERT].fg, 0);
    /* NULL and "" mean default; default and mono work without any file. */
    assert_int_equal(theme_load(&t, NULL, err), 0);
    assert_int_equal(theme_load(&t, "", err), 0);
    assert_int_equal(theme_load(&t, "mono", err), 0);
    for (int i = 0; i < TH_COUNT; i++) {
        assert_int_equal(t.st[i].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.st[i].attr, t.st[i].mono);
    }

    if (old != NULL)
        setenv("XDG_CONFIG_HOME", old, 1);
    else
        unsetenv("XDG_CONFIG_HOME");
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_table),
        cmocka_unit_test(test_colors),
        cmocka_unit_test(test_attrs),
        cmocka_unit_test(test_shipped_default_is_builtin),
        cmocka_unit_test(test_shipped_default_names_all),
        cmocka_unit_test(test_shipped_light_and_mono),
        cmocka_unit_test(test_partial_file),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_load_by_name),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
