/* The command line (README.md#using-it, `sluice --help`). getopt_long's tables are built from
 * opts_table, so a new option needs no code here. */
#include "cli.h"

#include <curl/curl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "units.h"
#include "util.h"
#include "version.h"

/* getopt_long's val for an option without a short name: above every char. */
#define LONG_BASE 256

struct getopt_tables {
    struct option *longopts;
    char *shortopts;
};

static void tables_build(struct getopt_tables *t)
{
    size_t k = 0;

    t->longopts = xcalloc(opts_count + 1, sizeof *t->longopts);
    /* "-": non-options come back in order as 1 (argv is not permuted); ":": a missing argument is
     * told apart from an unknown option. Plus one letter (and ':') per short option. */
    t->shortopts = xcalloc(2 + 2 * opts_count + 1, 1);
    t->shortopts[k++] = '-';
    t->shortopts[k++] = ':';
    for (size_t i = 0; i < opts_count; i++) {
        const struct opt *o = &opts_table[i];
        bool arg = o->arg != NULL;

        t->longopts[i].name = o->name;
        t->longopts[i].has_arg = arg ? required_argument : no_argument;
        t->longopts[i].val = o->short_name ? o->short_name : LONG_BASE + (int)i;
        if (o->short_name) {
            t->shortopts[k++] = o->short_name;
            if (arg)
                t->shortopts[k++] = ':';
        }
    }
}

static void tables_free(struct getopt_tables *t)
{
    free(t->longopts);
    free(t->shortopts);
}

/* Table index for what getopt_long returned, -1 when it is not an option. */
static int opt_index(int c)
{
    if (c >= LONG_BASE && (size_t)(c - LONG_BASE) < opts_count)
        return c - LONG_BASE;
    for (size_t i = 0; i < opts_count; i++)
        if (opts_table[i].short_name != 0 && opts_table[i].short_name == c)
            return (int)i;
    return -1;
}

static void add_url(struct settings *s, const char *url)
{
    s->urls = xrealloc(s->urls, (s->nurls + 1) * sizeof *s->urls);
    s->urls[s->nurls++] = xstrdup(url);
}

static void report_config(void *arg, const char *msg)
{
    fprintf((FILE *)arg, "%s\n", msg);
}

/* $XDG_CONFIG_HOME/sluice/sluice.conf, or ~/.config/sluice/sluice.conf when XDG_CONFIG_HOME is not
 * set; NULL when there is no such file. */
static char *default_config(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    struct stat sb;
    char *path;

    if (xdg != NULL && xdg[0] == '/')
        path = xasprintf("%s/sluice/sluice.conf", xdg);
    else if (home != NULL && home[0] == '/')
        path = xasprintf("%s/.config/sluice/sluice.conf", home);
    else
        return NULL;
    if (stat(path, &sb) < 0) {
        free(path);
        return NULL;
    }
    return path;
}

static void print_version(FILE *fp)
{
    fprintf(fp, "sluice %s\n%s\n", SLUICE_VERSION, curl_version());
}

/* What getopt_long could not take, as "sluice: ..." on err_fp. */
static void bad_option(int c, char **argv, FILE *err_fp)
{
    int idx = opt_index(optopt);
    char arg[48];

    units_quote(optind > 0 ? argv[optind - 1] : "?", arg, sizeof arg);

    if (c == ':') {
        if (idx >= 0)
            fprintf(err_fp, "sluice: --%s: a value is required\n", opts_table[idx].name);
        else
            fprintf(err_fp, "sluice: %s: a value is required\n", arg);
    } else if (idx >= 0) {
        /* '?' for a known option only happens for "--flag=value". */
        fprintf(err_fp, "sluice: --%s takes no value\n", opts_table[idx].name);
    } else if (optopt != 0) {
        fprintf(err_fp, "sluice: unknown option '-%c' (see --help)\n",
                optopt > 0x20 && optopt < 0x7f ? optopt : '?');
    } else {
        fprintf(err_fp, "sluice: unknown or ambiguous option '%s' (see --help)\n", arg);
    }
}

enum cli_result cli_parse(int argc, char **argv, struct settings *s, FILE *out_fp, FILE *err_fp)
{
    struct getopt_tables t;
    enum cli_result res = CLI_RUN;
    const char *config = NULL;
    bool help = false, version = false;
    char *path;
    int c, idx;

    if (argc > 1 && strcmp(argv[1], "ctl") == 0)
        return CLI_CTL;
    if (argc > 1 && strcmp(argv[1], "attach") == 0)
        return CLI_ATTACH;
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return CLI_REPORT;
    tables_build(&t);

    /* First pass: only what decides whether and which config to read. Errors wait for the second. */
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, t.shortopts, t.longopts, NULL)) != -1) {
        idx = opt_index(c);
        if (idx < 0)
            continue;
        if (strcmp(opts_table[idx].name, "help") == 0)
            help = true;
        else if (strcmp(opts_table[idx].name, "version") == 0)
            version = true;
        else if (strcmp(opts_table[idx].name, "config") == 0)
            config = optarg;
    }
    if (help || version) {
        if (help)
            opts_print_help(out_fp);
        else
            print_version(out_fp);
        res = CLI_EXIT_OK;
        goto out;
    }

    /* The file first, so that the command line overrides it. Its errors do not stop the command
     * line from being checked too: every mistake is listed at once. */
    path = config != NULL ? xstrdup(config) : default_config();
    if (path != NULL) {
        if (config_load(path, s, report_config, err_fp) < 0)
            res = CLI_EXIT_USAGE;
        free(s->config);
        s->config = path;
    }

    optind = 0;
    while ((c = getopt_long(argc, argv, t.shortopts, t.longopts, NULL)) != -1) {
        char err[ERRLEN];
        const struct opt *o;

        if (c == 1) {
            add_url(s, optarg);
            continue;
        }
        idx = opt_index(c);
        if (c == '?' || c == ':' || idx < 0) {
            bad_option(c, argv, err_fp);
            res = CLI_EXIT_USAGE;
            continue;
        }
        o = &opts_table[idx];
        s->set_on_cli |= UINT64_C(1) << idx;
        if (o->type == OPT_ACTION || strcmp(o->name, "config") == 0)
            continue;
        if (opts_apply(s, idx, optarg, err) < 0) {
            fprintf(err_fp, "sluice: --%s: %s\n", o->name, err);
            res = CLI_EXIT_USAGE;
        }
    }
    /* After "--", everything is a URL. */
    for (; optind < argc; optind++)
        add_url(s, argv[optind]);
out:
    tables_free(&t);
    return res;
}
