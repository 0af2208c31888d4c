#ifndef SLUICE_OPTS_H
#define SLUICE_OPTS_H
/* Every setting: one table (name, type, default, range, help) that drives the command line,
 * the config file, --help and the check of sample.conf
 * (docs/design.md#options-and-configuration). */
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include "shard.h"
#include "urlpath.h"

enum ui_mode { UI_AUTO, UI_HEADLESS, UI_TUI };

struct sched_point {
    int minute;          /* minute of the local day, 0..1439 */
    int64_t rate;        /* bytes/s, 0 = off (no cap) */
    unsigned days;       /* bit d = weekday d (0 = Sunday, as tm_wday); 0 = every day */
};

struct host_rule {
    char *host;          /* lower-cased host name */
    int per_host;        /* -1 = not set */
    int64_t rate;        /* -1 = not set, 0 = off */
    int rps;             /* requests per second, -1 = not set, 0 = off */
};

struct settings {
    char *input;                 /* -i FILE or "-" */
    char *dir;                   /* output root */
    int concurrency;             /* 1..1024 */
    int per_host;                /* 0 = none */
    int per_host_rps;            /* requests started per second per host, 0 = no limit */
    int64_t rate;                /* bytes/s, 0 = off */
    int64_t burst;               /* bytes, 0 = auto (rate/8, >= 64K) */
    struct sched_point *schedule;
    size_t nschedule;
    char *cap_group;             /* --cap-group redis://HOST[:PORT]/NAME, NULL = none */
    int retries;
    int64_t retry_min_ms, retry_max_ms;
    int64_t connect_timeout_ms;
    int64_t stall_ms;
    int64_t min_rate;            /* bytes/s over the stall window, 0 = off */
    int64_t max_size;            /* bytes, 0 = off */
    int segments;
    int64_t min_segment;
    enum layout layout;
    bool overwrite;
    char *session;               /* NULL = DIR/.sluice/session.db */
    bool no_session;
    enum ui_mode mode;
    char *config;                /* the file that was loaded, or NULL */
    char *theme;
    char *log;
    bool no_bell;                /* no terminal bell when the run finishes (TUI) */
    char *on_finish;             /* command run when the run finishes, NULL = none */
    char **headers;              /* "K: V" */
    size_t nheaders;
    char *user_agent;
    char *proxy;
    char *ca_file;
    bool insecure;
    struct host_rule *hosts;     /* config only */
    size_t nhosts;
    struct shard shard;          /* --shard K/N; n == 0: every item */
    char **urls;                 /* positional URLs */
    size_t nurls;
    uint64_t set_on_cli;         /* bit (1 << opt index) for each option given on the command line */
};

enum opt_type { OPT_INT, OPT_RATE, OPT_SIZE, OPT_DURATION, OPT_DURATION_PAIR, OPT_STRING,
                OPT_BOOL, OPT_LAYOUT, OPT_MODE, OPT_HEADERS, OPT_SCHEDULE, OPT_SHARD,
                OPT_ACTION };

struct opt {
    const char *name;            /* long option (the config key is `key`: mostly '-' → '_') */
    char short_name;             /* 0 when none */
    enum opt_type type;
    const char *def;             /* default as text (for --help and sample.conf), NULL = none;
                                  * settings_init applies it, so it is always a valid value */
    long min, max;               /* OPT_INT range; for sizes, rates and durations (in ms) too when
                                  * max > 0 */
    const char *arg;             /* argument name in --help, NULL for flags */
    const char *help;
    bool cli_only;               /* not a config key (help, version, config, urls) */
    const char *key;             /* config key (NULL when cli_only); "headers" for --header */
    const char *group;           /* --help heading printed before this option, NULL = same group */
    size_t off;                  /* offsetof(struct settings, the field it sets) */
};

extern const struct opt opts_table[];
extern const size_t opts_count;

/* Index into opts_table by long name, -1 if unknown. */
int opts_find(const char *name);
/* Index by config key ("per_host", "headers"), -1 if unknown or cli_only. */
int opts_find_key(const char *key);

void settings_init(struct settings *s);   /* every default from the table */
void settings_free(struct settings *s);

/* Applies one option given as text (from the command line or, converted, from the config),
 * e.g. ("rate", "50M"). Returns 0 or -1 with err (ERRLEN, without file/line); on error s is unchanged.
 * Flags take NULL (= true) or true/false/yes/no/on/off/1/0. --header adds "K: V", replacing an
 * earlier header of the same name (case-insensitive). --session clears no_session; --headless and
 * --tui set the mode (false resets it to auto if it was theirs). --schedule "none" clears it. */
int opts_apply(struct settings *s, int idx, const char *value, char *err);

/* Parses a --schedule spec "08:00,10M 18:30,off" into points (H:MM or HH:MM, separated by blanks;
 * "none" or "off" gives no points and *out = NULL). A word without ':' is a list of days ("mon-fri",
 * "sat,sun", "daily") for the steps after it: "mon-fri 08:00,2M 18:30,off sat,sun 00:00,off";
 * steps before any list hold every day. Each list's steps are sorted by minute. A bad time, a bad
 * rate, bad days, days with no step or two steps at one time of one day are errors. *out is allocated (free it). Returns 0 or -1 with err. */
int opts_parse_schedule(const char *spec, struct sched_point **out, size_t *n, char *err);
/* The schedule as opts_parse_schedule reads it back ("none" when empty); one step ("mon-fri
 * 08:00,2M", "08:00,off"); a day mask as "mon-fri", "sat,sun" or "daily". */
struct sbuf;
void opts_format_schedule(const struct sched_point *p, size_t n, struct sbuf *out);
void opts_format_step(const struct sched_point *pt, struct sbuf *out);
const char *opts_format_days(unsigned days, char *buf, size_t len);

/* Writes --help text generated from the table. */
void opts_print_help(FILE *fp);

#endif
