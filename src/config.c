/* The libconfig file (sample.conf; docs/design.md#options-and-configuration). Every value goes
 * through opts_apply, the same path as the command line, so the file cannot accept what --option
 * would refuse or the other way round. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "rps.h"
#include "units.h"
#include "util.h"

/* libconfig 1.5 leaks in its scanner on some syntax errors: the buffer of a string that stands
 * where a setting name should be ("x = 1;\n\"oops\"" loses 64 bytes in strbuf_append), and a
 * token copied by the lexer before a bad one (found by tests/fuzz: 1 byte in libconfig_yylex). The
 * process exits on a bad config anyway; this keeps LeakSanitizer builds (unit-san, sluice-san)
 * quiet about them. Without llvm-symbolizer (a fresh machine has none) the frames inside
 * libconfig have no names, so the module is matched too: a leak with libconfig on its stack is
 * not reported. LeakSanitizer looks this hook up by name; elsewhere it is never called. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\nleak:libconfig.so\n";
}

struct ctx {
    const char *path;
    void (*report)(void *arg, const char *msg);
    void *report_arg;
    int errors;
    /* Integer literals libconfig wrapped (check_wide_ints), in line order. Each is reported once,
     * in its place among the other messages, and nothing else is said about its line. */
    struct wide {
        int line;
        char *msg;
    } *wide;
    size_t nwide, wide_done;
};

/* Reports the wrapped-integer messages of lines up to `line` of the main file. */
static void flush_wide(struct ctx *c, int line)
{
    for (; c->wide_done < c->nwide && c->wide[c->wide_done].line <= line; c->wide_done++) {
        c->report(c->report_arg, c->wide[c->wide_done].msg);
        c->errors++;
    }
}

static void problem(struct ctx *c, const config_setting_t *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_plain(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE:LINE: message" for the line of st (whose file may be an @include). */
static void problem(struct ctx *c, const config_setting_t *st, const char *fmt, ...)
{
    const char *file = config_setting_source_file(st);
    unsigned lineno = config_setting_source_line(st);
    char msg[ERRLEN];
    va_list ap;
    char *line;

    c->errors++;
    if (file == NULL || strcmp(file, c->path) == 0) {
        flush_wide(c, (int)lineno);
        /* The value on that line is not what was written; saying more about it would mislead. */
        for (size_t i = 0; i < c->nwide; i++)
            if (c->wide[i].line == (int)lineno)
                return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    line = xasprintf("%s:%u: %s", file ? file : c->path, lineno, msg);
    c->report(c->report_arg, line);
    free(line);
}

static const char *expected(enum opt_type t)
{
    switch (t) {
    case OPT_INT: return "a whole number";
    case OPT_RATE: return "a rate such as \"50M\" or \"off\", or a number of bytes per second";
    case OPT_SIZE: return "a size such as \"8M\", or a number of bytes";
    case OPT_DURATION: return "a duration such as \"30s\", or a number of seconds";
    case OPT_DURATION_PAIR: return "\"MIN,MAX\" such as \"1s,5m\"";
    case OPT_BOOL: case OPT_MODE: return "true or false";
    case OPT_LAYOUT: return "\"path\", \"flat\" or \"host\"";
    case OPT_HEADERS: return "a list of \"Name: value\" strings";
    case OPT_SCHEDULE: return "a list of { at = \"HH:MM\"; rate = \"RATE\"; } or a string";
    default: return "a string";
    }
}

/* The text opts_apply takes for a scalar setting, or NULL when its type does not fit the option. */
static char *scalar_text(const config_setting_t *st, enum opt_type t)
{
    bool numeric = t == OPT_INT || t == OPT_RATE || t == OPT_SIZE || t == OPT_DURATION;
    bool flag = t == OPT_BOOL || t == OPT_MODE;

    switch (config_setting_type(st)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        if (!numeric)
            return NULL;
        return xasprintf("%lld", config_setting_get_int64(st));
    case CONFIG_TYPE_FLOAT:
        /* Fractions of a second make sense; fractions of a byte or a connection do not. */
        if (t != OPT_DURATION)
            return NULL;
        return xasprintf("%.6f", config_setting_get_float(st));
    case CONFIG_TYPE_STRING:
        if (flag)
            return NULL;
        return xstrdup(config_setting_get_string(st));
    case CONFIG_TYPE_BOOL:
        if (!flag)
            return NULL;
        return xstrdup(config_setting_get_bool(st) ? "true" : "false");
    default:
        return NULL;
    }
}

static void apply_text(struct ctx *c, struct settings *s, int idx, const config_setting_t *st,
                       const char *name, const char *text)
{
    char err[ERRLEN];

    if (opts_apply(s, idx, text, err) < 0)
        problem(c, st, "%s: %s", name, err);
}

static void load_headers(struct ctx *c, struct settings *s, int idx, const config_setting_t *st)
{
    int n;

    /* The file's list is the list: it replaces, it does not add to, anything set before. */
    util_strv_free(s->headers, s->nheaders);
    s->headers = NULL;
    s->nheaders = 0;

    if (config_setting_type(st) == CONFIG_TYPE_STRING) {
        apply_text(c, s, idx, st, "headers", config_setting_get_string(st));
        return;
    }
    if (!config_setting_is_array(st) && !config_setting_is_list(st)) {
        problem(c, st, "headers: expected %s", expected(OPT_HEADERS));
        return;
    }
    n = config_setting_length(st);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            problem(c, e, "headers: expected %s", expected(OPT_HEADERS));
        else
            apply_text(c, s, idx, e, "headers", config_setting_get_string(e));
    }
}

static bool has_blank(const char *v)
{
    return strpbrk(v, " \t\r\n") != NULL;
}

/* Checks that a group has only the given member names; reports each other one. */
static bool only_members(struct ctx *c, const config_setting_t *g, const char *what,
                         const char *const *names)
{
    bool ok = true;
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        bool known = false;
        char q[48];

        for (size_t k = 0; names[k] != NULL; k++)
            if (name != NULL && strcmp(name, names[k]) == 0)
                known = true;
        if (!known) {
            problem(c, m, "unknown setting '%s' in %s", units_quote(name ? name : "", q, sizeof q), what);
            ok = false;
        }
    }
    return ok;
}

/* One member of a group as text: a string, or an integer (bytes, connections). NULL when absent or of
 * another type (then reported). */
static char *member_text(struct ctx *c, const config_setting_t *g, const char *what, const char *name,
                         bool required, bool int_ok)
{
    const config_setting_t *m = config_setting_get_member(g, name);

    if (m == NULL) {
        if (required)
            problem(c, g, "%s: '%s' is missing", what, name);
        return NULL;
    }
    if (config_setting_type(m) == CONFIG_TYPE_STRING)
        return xstrdup(config_setting_get_string(m));
    if (int_ok && (config_setting_type(m) == CONFIG_TYPE_INT || config_setting_type(m) == CONFIG_TYPE_INT64))
        return xasprintf("%lld", config_setting_get_int64(m));
    problem(c, m, "%s: %s: expected a string%s", what, name, int_ok ? " or a number" : "");
    return NULL;
}

static void load_schedule(struct ctx *c, struct settings *s, int idx, const config_setting_t *st)
{
    static const char *const members[] = { "at", "rate", "days", NULL };
    struct sbuf spec = { 0 };
    int errors = c->errors;
    int n;

    if (config_setting_type(st) == CONFIG_TYPE_STRING) {
        apply_text(c, s, idx, st, "schedule", config_setting_get_string(st));
        return;
    }
    if (!config_setting_is_list(st) && !config_setting_is_array(st)) {
        problem(c, st, "schedule: expected %s", expected(OPT_SCHEDULE));
        return;
    }
    n = config_setting_length(st);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(st, (unsigned)i);
        char *at, *rate, *days, err[ERRLEN], q[48];
        struct sched_point *p;
        size_t np;
        int64_t r;

        if (!config_setting_is_group(g)) {
            problem(c, g, "schedule: expected { at = \"HH:MM\"; rate = \"RATE\"; }");
            continue;
        }
        only_members(c, g, "schedule", members);
        at = member_text(c, g, "schedule", "at", true, false);
        rate = member_text(c, g, "schedule", "rate", true, true);
        days = member_text(c, g, "schedule", "days", false, false);
        if (days != NULL) {
            /* Days alone are checked as a list before a step that is surely good. */
            char *one = xasprintf("%s 00:00,off", days);

            if (has_blank(days) || opts_parse_schedule(one, &p, &np, err) < 0)
                problem(c, config_setting_get_member(g, "days"),
                        "schedule: days: '%s' is not a list of days (mon-fri, sat,sun, daily)",
                        units_quote(days, q, sizeof q));
            else
                free(p);
            free(one);
        }
        if (at != NULL) {
            /* A time alone is checked as a step with any valid rate. */
            char *one = xasprintf("%s,off", at);

            if (has_blank(at) || opts_parse_schedule(one, &p, &np, err) < 0)
                problem(c, config_setting_get_member(g, "at"), "schedule: at: '%s' is not a time (HH:MM)",
                        units_quote(at, q, sizeof q));
            else
                free(p);
            free(one);
        }
        if (rate != NULL && (has_blank(rate) || units_parse_rate(rate, &r, err) < 0))
            problem(c, config_setting_get_member(g, "rate"), "schedule: rate: %s",
                    has_blank(rate) ? "blanks are not allowed" : err);
        /* Each step names its days ("daily" when it gives none), so none inherits another's. */
        if (at != NULL && rate != NULL)
            sbuf_printf(&spec, "%s %s,%s ", days != NULL ? days : "daily", at, rate);
        free(at);
        free(rate);
        free(days);
    }
    if (c->errors == errors)
        apply_text(c, s, idx, st, "schedule", spec.len > 0 ? spec.s : "none");
    sbuf_free(&spec);
}

static bool valid_host(const char *h)
{
    if (*h == '\0' || strlen(h) > 255)
        return false;
    for (const char *p = h; *p; p++) {
        char ch = *p;

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '.' || ch == '-' || ch == '_' || ch == ':' || ch == '[' || ch == ']'))
            return false;
    }
    return true;
}

static void load_hosts(struct ctx *c, struct settings *s, const config_setting_t *st)
{
    static const char *const members[] = { "host", "per_host", "rate", "rps", NULL };
    struct host_rule *rules = NULL;
    size_t nrules = 0;
    int errors = c->errors;
    int n;

    if (!config_setting_is_list(st) && !config_setting_is_array(st)) {
        problem(c, st, "hosts: expected a list of { host = \"NAME\"; per_host = N; rate = \"RATE\"; "
                "rps = N; }");
        return;
    }
    n = config_setting_length(st);
    rules = xcalloc((size_t)n, sizeof *rules);
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(st, (unsigned)i);
        struct host_rule r = { .host = NULL, .per_host = -1, .rate = -1, .rps = -1 };
        char *host, *per, *rate, *rps, err[ERRLEN], q[48];
        long v;

        if (!config_setting_is_group(g)) {
            problem(c, g, "hosts: expected { host = \"NAME\"; ... }");
            continue;
        }
        only_members(c, g, "hosts", members);
        host = member_text(c, g, "hosts", "host", true, false);
        per = member_text(c, g, "hosts", "per_host", false, true);
        rate = member_text(c, g, "hosts", "rate", false, true);
        rps = member_text(c, g, "hosts", "rps", false, true);
        if (host != NULL && !valid_host(host)) {
            problem(c, config_setting_get_member(g, "host"), "hosts: host: '%s' is not a host name",
                    units_quote(host, q, sizeof q));
            free(host);
            host = NULL;
        } else if (host != NULL) {
            for (char *p = host; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            for (size_t k = 0; k < nrules && host != NULL; k++) {
                if (strcmp(rules[k].host, host) == 0) {
                    problem(c, g, "hosts: '%s' is listed twice", units_quote(host, q, sizeof q));
                    free(host);
                    host = NULL;
                }
            }
        }
        if (per != NULL) {
            if (units_parse_int(per, 0, 1024, &v, err) < 0)
                problem(c, config_setting_get_member(g, "per_host"), "hosts: per_host: %s", err);
            else
                r.per_host = (int)v;
        }
        if (rate != NULL && units_parse_rate(rate, &r.rate, err) < 0)
            problem(c, config_setting_get_member(g, "rate"), "hosts: rate: %s", err);
        if (rps != NULL) {
            if (units_parse_int(rps, 0, RPS_MAX, &v, err) < 0)
                problem(c, config_setting_get_member(g, "rps"), "hosts: rps: %s", err);
            else
                r.rps = (int)v;
        }
        free(per);
        free(rate);
        free(rps);
        /* Kept even after an error, so that a later duplicate is still found. */
        if (host != NULL) {
            r.host = host;
            rules[nrules++] = r;
        }
    }
    if (c->errors != errors) {
        for (size_t k = 0; k < nrules; k++)
            free(rules[k].host);
        free(rules);
        return;
    }
    for (size_t k = 0; k < s->nhosts; k++)
        free(s->hosts[k].host);
    free(s->hosts);
    s->hosts = rules;
    s->nhosts = nrules;
}

static void load_setting(struct ctx *c, struct settings *s, const config_setting_t *st)
{
    const char *name = config_setting_name(st);
    char q[48];
    int idx;

    if (name == NULL)
        return;
    if (strcmp(name, "hosts") == 0) {
        load_hosts(c, s, st);
        return;
    }
    idx = opts_find_key(name);
    if (idx < 0) {
        char *alt = xstrdup(name);
        int cli = opts_find(name);

        for (char *p = alt; *p; p++)
            if (*p == '-')
                *p = '_';
        units_quote(name, q, sizeof q);
        if (cli >= 0 && opts_table[cli].cli_only)
            problem(c, st, "'%s' can only be given on the command line", q);
        else if (cli >= 0)     /* "header" for "headers" */
            problem(c, st, "unknown setting '%s' (did you mean '%s'?)", q, opts_table[cli].key);
        else if (strcmp(alt, name) != 0 && (opts_find_key(alt) >= 0 || strcmp(alt, "hosts") == 0))
            problem(c, st, "unknown setting '%s' (did you mean '%s'?)", q, alt);
        else
            problem(c, st, "unknown setting '%s'", q);
        free(alt);
        return;
    }

    const struct opt *o = &opts_table[idx];

    if (o->type == OPT_HEADERS) {
        load_headers(c, s, idx, st);
    } else if (o->type == OPT_SCHEDULE) {
        load_schedule(c, s, idx, st);
    } else if (o->type == OPT_DURATION_PAIR && (config_setting_is_array(st) || config_setting_is_list(st))
               && config_setting_length(st) == 2) {
        /* retry_wait = [ 1, 300 ]; or ( 1, "5m" ); read as well as "1s,5m". */
        char *a = scalar_text(config_setting_get_elem(st, 0), OPT_DURATION);
        char *b = scalar_text(config_setting_get_elem(st, 1), OPT_DURATION);

        if (a == NULL || b == NULL) {
            problem(c, st, "%s: expected %s", name, expected(o->type));
        } else {
            char *pair = xasprintf("%s,%s", a, b);

            apply_text(c, s, idx, st, name, pair);
            free(pair);
        }
        free(a);
        free(b);
    } else {
        char *text = scalar_text(st, o->type);

        if (text == NULL) {
            problem(c, st, "%s: expected %s", name, expected(o->type));
            return;
        }
        apply_text(c, s, idx, st, name, text);
        free(text);
    }
}

static bool is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* libconfig 1.5 silently wraps integer literals beyond 32 bits unless they end in L:
 * "burst = 3000000000;" reads as a negative number and 4294967304 as 8. Every such literal in the
 * file is reported instead of being taken for something else. Strings and comments are skipped. */
static void check_wide_ints(struct ctx *c, const char *path, const char *text)
{
    const char *p = text;
    int line = 1;

    while (*p != '\0') {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#' || (*p == '/' && p[1] == '/')) {
            while (*p != '\0' && *p != '\n')
                p++;
        } else if (*p == '/' && p[1] == '*') {
            for (p += 2; *p != '\0' && !(*p == '*' && p[1] == '/'); p++)
                if (*p == '\n')
                    line++;
            if (*p != '\0')
                p += 2;
        } else if (*p == '"') {
            for (p++; *p != '\0' && *p != '"'; p++) {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                if (*p == '\n')
                    line++;
            }
            if (*p != '\0')
                p++;
        } else if (is_alnum(*p) && !(*p >= '0' && *p <= '9')) {
            /* A name: its digits are not numbers. */
            while (is_alnum(*p) || *p == '_' || *p == '-' || *p == '*')
                p++;
        } else if ((*p >= '0' && *p <= '9') || ((*p == '-' || *p == '+') && p[1] >= '0' && p[1] <= '9')) {
            const char *start = p;
            bool hex, wide = false;
            char *tok;

            p++;
            hex = (*start == '0' && (*p == 'x' || *p == 'X'));
            while (is_alnum(*p) || *p == '.'
                   || (!hex && (*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
                p++;
            tok = xstrndup(start, (size_t)(p - start));
            if (tok[strlen(tok) - 1] == 'L') {
                /* 64-bit literal: read correctly. */
            } else if (hex) {
                errno = 0;
                wide = strtoull(tok, NULL, 16) > 0x7fffffffULL || errno == ERANGE;
            } else if (strpbrk(tok, ".eE") == NULL) {
                long long v;

                errno = 0;
                v = strtoll(tok, NULL, 10);
                wide = errno == ERANGE || v > 2147483647LL || v < -2147483647LL - 1;
            }
            if (wide) {
                c->wide = xrealloc(c->wide, (c->nwide + 1) * sizeof *c->wide);
                c->wide[c->nwide].line = line;
                c->wide[c->nwide++].msg = xasprintf("%s:%d: %s is too large for a plain number; write "
                                                    "it as a string (\"3G\", \"400Mbit\") or as %sL",
                                                    path, line, tok, tok);
            }
            free(tok);
        } else {
            p++;
        }
    }
}

static void report_plain(struct ctx *c, const char *fmt, ...)
{
    char msg[ERRLEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->report(c->report_arg, msg);
    c->errors++;
}

int config_load(const char *path, struct settings *s,
                void (*report)(void *arg, const char *msg), void *report_arg)
{
    struct ctx c = { .path = path, .report = report, .report_arg = report_arg };
    struct sbuf text = { 0 };
    char err[ERRLEN];
    config_t cfg;
    config_setting_t *root;
    char *dir, *slash;

    /* Read here, bounded, and parsed from memory: libconfig would read a file of any size whole
     * (and only says "file I/O error" where the reason is worth more to the operator). */
    if (util_read_small(path, CONFIG_MAX_BYTES, &text, err) < 0) {
        report_plain(&c, "%s", err);
        return -1;
    }

    config_init(&cfg);
    /* @include "x.conf" is relative to the file that includes it, not to the working directory. */
    dir = xstrdup(path);
    slash = strrchr(dir, '/');
    if (slash != NULL) {
        slash[slash == dir ? 1 : 0] = '\0';
        config_set_include_dir(&cfg, dir);
    }
    if (config_read_string(&cfg, text.s) != CONFIG_TRUE) {
        const char *file = config_error_file(&cfg);

        if (config_error_type(&cfg) == CONFIG_ERR_PARSE)
            report_plain(&c, "%s:%d: %s", file ? file : path, config_error_line(&cfg),
                         config_error_text(&cfg));
        else
            report_plain(&c, "%s: %s", file ? file : path, config_error_text(&cfg));
        goto out;
    }
    check_wide_ints(&c, path, text.s);
    root = config_root_setting(&cfg);
    for (int i = 0; i < config_setting_length(root); i++)
        load_setting(&c, s, config_setting_get_elem(root, (unsigned)i));
out:
    config_destroy(&cfg);
    sbuf_free(&text);
    flush_wide(&c, INT_MAX);
    for (size_t i = 0; i < c.nwide; i++)
        free(c.wide[i].msg);
    free(c.wide);
    free(dir);
    return c.errors > 0 ? -1 : 0;
}
