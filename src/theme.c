/* Theme files: libconfig groups over the built-in table. Everything is checked and reported as
 * FILE:LINE before anything is applied, so a half-read theme never reaches the screen. */
#include "theme.h"
#include "units.h"
#include "util.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct builtin {
    const char *name, *fg, *bg, *attr, *mono;
};

static const struct builtin builtins[TH_COUNT] = {
#define THEME_ROW(id, name, fg, bg, attr, mono) [TH_##id] = { name, fg, bg, attr, mono },
    THEME_ELEMENTS(THEME_ROW)
#undef THEME_ROW
};

static const char *const color_names[16] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
    "bright-black", "bright-red", "bright-green", "bright-yellow", "bright-blue",
    "bright-magenta", "bright-cyan", "bright-white",
};

static const struct {
    const char *name;
    unsigned bit;
} attr_names[] = {
    { "bold", THEME_BOLD }, { "reverse", THEME_REVERSE }, { "underline", THEME_UNDERLINE },
    { "dim", THEME_DIM },
};

const char *theme_elem_name(enum theme_elem e)
{
    return (unsigned)e < TH_COUNT ? builtins[e].name : "?";
}

int theme_parse_color(const char *s, short *out, char *err)
{
    char q[48];
    long v;

    if (strcasecmp(s, "default") == 0 || strcasecmp(s, "none") == 0) {
        *out = THEME_COLOR_DEFAULT;
        return 0;
    }
    if (strcasecmp(s, "grey") == 0 || strcasecmp(s, "gray") == 0) {
        *out = 8;
        return 0;
    }
    for (int i = 0; i < 16; i++) {
        if (strcasecmp(s, color_names[i]) == 0) {
            *out = (short)i;
            return 0;
        }
    }
    if (*s >= '0' && *s <= '9' && units_parse_int(s, 0, 255, &v, err) == 0) {
        *out = (short)v;
        return 0;
    }
    return errf(err, "'%s' is not a colour (default, black, red, green, yellow, blue, magenta, "
                "cyan, white, bright-NAME, or 0..255)", units_quote(s, q, sizeof q));
}

int theme_parse_attrs(const char *s, unsigned *out, char *err)
{
    unsigned bits = 0;
    const char *p = s;

    while (*p != '\0') {
        size_t n;
        bool known = false;

        p += strspn(p, " ,\t");
        n = strcspn(p, " ,\t");
        if (n == 0)
            break;
        if (n == 4 && strncasecmp(p, "none", 4) == 0)
            known = true;
        for (size_t i = 0; i < ARRAY_LEN(attr_names) && !known; i++) {
            if (strlen(attr_names[i].name) == n && strncasecmp(p, attr_names[i].name, n) == 0) {
                bits |= attr_names[i].bit;
                known = true;
            }
        }
        if (!known) {
            char word[48], q[48];

            snprintf(word, sizeof word, "%.*s", (int)(n < 40 ? n : 40), p);
            return errf(err, "'%s' is not an attribute (bold, reverse, underline, dim, none)",
                        units_quote(word, q, sizeof q));
        }
        p += n;
    }
    *out = bits;
    return 0;
}

static void builtin_style(enum theme_elem e, struct theme_style *st)
{
    char err[ERRLEN];

    /* The table is ours: a typo in it is a bug the unit test catches. */
    if (theme_parse_color(builtins[e].fg, &st->fg, err) < 0 ||
        theme_parse_color(builtins[e].bg, &st->bg, err) < 0 ||
        theme_parse_attrs(builtins[e].attr, &st->attr, err) < 0 ||
        theme_parse_attrs(builtins[e].mono, &st->mono, err) < 0)
        fatal("built-in theme, element %s: %s", builtins[e].name, err);
}

void theme_defaults(struct theme *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < TH_COUNT; i++)
        builtin_style((enum theme_elem)i, &t->st[i]);
    snprintf(t->source, sizeof t->source, "built-in");
}

static int at(char *err, const config_setting_t *s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "FILE:LINE: " for a setting (its own file when it came through @include). */
static int at(char *err, const config_setting_t *s, const char *path, const char *fmt, ...)
{
    const char *file = config_setting_source_file(s);
    char msg[ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return errf(err, "%s:%u: %s", file != NULL ? file : path, config_setting_source_line(s), msg);
}

static int member_color(const config_setting_t *m, const char *path, short *out, char *err)
{
    char e2[ERRLEN], num[24];
    const char *name = config_setting_name(m);

    switch (config_setting_type(m)) {
    case CONFIG_TYPE_STRING:
        if (theme_parse_color(config_setting_get_string(m), out, e2) < 0)
            return at(err, m, path, "%s: %s", name, e2);
        return 0;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        snprintf(num, sizeof num, "%lld", config_setting_get_int64(m));
        if (config_setting_get_int64(m) < 0 || theme_parse_color(num, out, e2) < 0)
            return at(err, m, path, "%s: %s is not a colour number (0..255)", name, num);
        return 0;
    default:
        return at(err, m, path, "%s: expected a colour name in quotes, such as \"%s\"", name,
                  "cyan");
    }
}

static int load_element(struct theme_style *st, const config_setting_t *g, const char *path,
                        char *err)
{
    char e2[ERRLEN], q[48];
    int n = config_setting_length(g);

    if (!config_setting_is_group(g))
        return at(err, g, path, "%s: expected a group such as { fg = \"white\"; bg = \"%s\"; }",
                  config_setting_name(g), "blue");
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);

        if (name == NULL)
            return at(err, m, path, "%s: unnamed member", config_setting_name(g));
        if (strcmp(name, "fg") == 0 || strcmp(name, "bg") == 0) {
            if (member_color(m, path, name[0] == 'f' ? &st->fg : &st->bg, err) < 0)
                return -1;
        } else if (strcmp(name, "attr") == 0 || strcmp(name, "mono") == 0) {
            unsigned bits;

            if (config_setting_type(m) != CONFIG_TYPE_STRING)
                return at(err, m, path, "%s: expected words in quotes, such as \"%s\"", name,
                          "bold reverse");
            if (theme_parse_attrs(config_setting_get_string(m), &bits, e2) < 0)
                return at(err, m, path, "%s: %s", name, e2);
            if (name[0] == 'm' && (bits & ~(THEME_BOLD | THEME_REVERSE)) != 0)
                return at(err, m, path, "%s: only bold and reverse work without colours", name);
            if (name[0] == 'a')
                st->attr = bits;
            else
                st->mono = bits;
        } else {
            return at(err, m, path, "unknown setting '%s' in %s (fg, bg, attr, mono)",
                      units_quote(name, q, sizeof q), config_setting_name(g));
        }
    }
    return 0;
}

static int find_elem(const char *name)
{
    for (int i = 0; i < TH_COUNT; i++)
        if (strcmp(builtins[i].name, name) == 0)
            return i;
    return -1;
}

int theme_load_file(struct theme *t, const char *path, char *err)
{
    struct sbuf text = { 0 };
    config_t cfg;
    config_setting_t *root;
    struct theme nt = *t;
    char q[48];
    int rc = -1, n;

    config_init(&cfg);
    if (access(path, R_OK) != 0) {
        errf(err, "%s: cannot read the theme file: %s", path, strerror(errno));
        goto out;
    }
    /* Bounded, then parsed from memory: libconfig would read any size whole. */
    if (util_read_small(path, THEME_MAX_BYTES, &text, err) < 0)
        goto out;
    if (config_read_string(&cfg, text.s) != CONFIG_TRUE) {
        const char *file = config_error_file(&cfg);

        if (config_error_type(&cfg) == CONFIG_ERR_PARSE)
            errf(err, "%s:%d: %s", file ? file : path, config_error_line(&cfg),
                 config_error_text(&cfg));
        else
            errf(err, "%s: %s", file ? file : path, config_error_text(&cfg));
        goto out;
    }
    root = config_root_setting(&cfg);
    n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(g);
        int e;

        if (name != NULL && strcmp(name, "name") == 0 && config_setting_type(g) == CONFIG_TYPE_STRING)
            continue;    /* a label for people reading the file */
        e = name != NULL ? find_elem(name) : -1;
        if (e < 0) {
            at(err, g, path, "unknown element '%s' (see themes/default.conf for the list)",
               units_quote(name != NULL ? name : "", q, sizeof q));
            goto out;
        }
        if (load_element(&nt.st[e], g, path, err) < 0)
            goto out;
    }
    snprintf(nt.source, sizeof nt.source, "%s", path);
    *t = nt;
    rc = 0;
out:
    config_destroy(&cfg);
    sbuf_free(&text);
    return rc;
}

/* The folder of the running binary (so ./sluice and build/sluice-san find ./themes). */
static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *slash;

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    slash = strrchr(buf, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    return xstrdup(buf);
}

/* Candidate folders, most personal first. Returns how many were stored (each allocated). */
static int theme_dirs(char **dirs, int max)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *exe = exe_dir();
    int n = 0;

    if (xdg != NULL && *xdg == '/')
        dirs[n++] = xasprintf("%s/sluice/themes", xdg);
    else if (home != NULL && *home == '/')
        dirs[n++] = xasprintf("%s/.config/sluice/themes", home);
    if (exe != NULL) {
        dirs[n++] = xasprintf("%s/themes", exe);
        dirs[n++] = xasprintf("%s/../themes", exe);
        dirs[n++] = xasprintf("%s/../share/sluice/themes", exe);
        free(exe);
    }
#ifdef SLUICE_DATADIR
    /* Where `make install` put them (PREFIX/share/sluice). */
    if (n < max && strcmp(SLUICE_DATADIR, "/usr/share/sluice") != 0)
        dirs[n++] = xstrdup(SLUICE_DATADIR "/themes");
#endif
    if (n < max)
        dirs[n++] = xstrdup("/usr/share/sluice/themes");
    return n;
}

int theme_load(struct theme *t, const char *name_or_file, char *err)
{
    const char *name = name_or_file != NULL && *name_or_file ? name_or_file : "default";
    size_t len = strlen(name);
    char *dirs[8];
    int ndirs, rc = -1;
    char q[48];
    struct sbuf tried = { 0 };

    theme_defaults(t);
    if (strchr(name, '/') != NULL || (len > 5 && strcmp(name + len - 5, ".conf") == 0))
        return theme_load_file(t, name, err);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return errf(err, "--theme: '%s' is not a theme name (letters, digits, - and _) or a "
                        "file", units_quote(name, q, sizeof q));
    ndirs = theme_dirs(dirs, (int)ARRAY_LEN(dirs));
    for (int i = 0; i < ndirs; i++) {
        char *path = xasprintf("%s/%s.conf", dirs[i], name);

        if (rc < 0 && access(path, F_OK) == 0) {
            rc = theme_load_file(t, path, err);
            free(path);
            goto out;
        }
        sbuf_printf(&tried, "%s%s", tried.len ? ", " : "", dirs[i]);
        free(path);
    }
    /* Without any theme folder (an installed binary alone) the two basic looks still work. */
    if (strcmp(name, "default") == 0) {
        rc = 0;
    } else if (strcmp(name, "mono") == 0) {
        for (int i = 0; i < TH_COUNT; i++) {
            t->st[i].fg = t->st[i].bg = THEME_COLOR_DEFAULT;
            t->st[i].attr = t->st[i].mono;
        }
        snprintf(t->source, sizeof t->source, "built-in mono");
        rc = 0;
    } else {
        rc = errf(err, "--theme: no theme '%s' (looked for %s.conf in %s)", name, name,
                  tried.s != NULL ? tried.s : "no folder");
    }
out:
    for (int i = 0; i < ndirs; i++)
        free(dirs[i]);
    sbuf_free(&tried);
    return rc;
}
