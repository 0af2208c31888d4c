/* The one table of settings (docs/design.md#options-and-configuration): the command line, the
 * config file, --help and the sample.conf check all read it, so an option cannot exist in one place
 * and be missing in another. */
#include "opts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "group.h"
#include "units.h"
#include "util.h"
#include "version.h"

#define F(field) offsetof(struct settings, field)

const struct opt opts_table[] = {
    /* Input and output */
    { .name = "input", .short_name = 'i', .type = OPT_STRING, .arg = "FILE", .key = "input",
      .off = F(input), .group = "Input and output",
      .help = "URL list, aria2 format; '-' = standard input" },
    { .name = "dir", .short_name = 'd', .type = OPT_STRING, .def = ".", .arg = "DIR", .key = "dir",
      .off = F(dir), .help = "output root, created if missing" },
    { .name = "layout", .type = OPT_LAYOUT, .def = "path", .arg = "path|flat|host", .key = "layout",
      .off = F(layout), .help = "output naming" },
    { .name = "overwrite", .type = OPT_BOOL, .def = "false", .key = "overwrite", .off = F(overwrite),
      .help = "download even when the local copy is current" },
    { .name = "session", .type = OPT_STRING, .arg = "FILE", .key = "session", .off = F(session),
      .help = "session file (default: DIR/.sluice/session.db)" },
    { .name = "no-session", .type = OPT_BOOL, .def = "false", .key = "no_session",
      .off = F(no_session), .help = "keep no session (nothing to resume from)" },
    { .name = "shard", .type = OPT_SHARD, .arg = "K/N", .key = "shard", .off = F(shard),
      .help = "take only the items whose URL hashes to K of N (0 <= K < N); index/N takes K from "
              "$JOB_COMPLETION_INDEX" },

    /* Transfers */
    { .name = "concurrency", .short_name = 'j', .type = OPT_INT, .def = "8", .min = 1, .max = 1024,
      .arg = "N", .key = "concurrency", .off = F(concurrency), .group = "Transfers",
      .help = "transfers at once, 1..1024" },
    { .name = "per-host", .type = OPT_INT, .def = "0", .min = 0, .max = 1024, .arg = "N",
      .key = "per_host", .off = F(per_host),
      .help = "per-host connections, 0 = no limit" },
    { .name = "per-host-rps", .type = OPT_INT, .def = "0", .min = 0, .max = 1000000, .arg = "N",
      .key = "per_host_rps", .off = F(per_host_rps),
      .help = "requests started per second per host (burst N/10, >= 1), 0 = no limit" },
    { .name = "rate", .short_name = 'r', .type = OPT_RATE, .def = "off", .arg = "RATE", .key = "rate",
      .off = F(rate), .help = "global cap on bytes/s received" },
    { .name = "burst", .type = OPT_SIZE, .def = "auto", .arg = "SIZE", .key = "burst", .off = F(burst),
      .help = "token-bucket depth; auto = rate/8, >= 64K" },
    { .name = "schedule", .type = OPT_SCHEDULE, .arg = "SPEC", .key = "schedule",
      .off = F(schedule), .help = "rate timetable, e.g. \"08:00,10M 18:30,off\"" },
    { .name = "cap-group", .type = OPT_STRING, .arg = "URL", .key = "cap_group",
      .off = F(cap_group),
      .help = "redis://HOST[:PORT]/NAME: share one cap (-r) with every worker of group NAME, "
              "kept in Redis" },
    { .name = "retries", .type = OPT_INT, .def = "5", .min = 0, .max = 1000, .arg = "N",
      .key = "retries", .off = F(retries), .help = "attempts after the first, 0..1000" },
    { .name = "retry-wait", .type = OPT_DURATION_PAIR, .def = "1s,5m", .arg = "MIN,MAX",
      .key = "retry_wait", .off = F(retry_min_ms), .help = "backoff floor and ceiling" },
    { .name = "connect-timeout", .type = OPT_DURATION, .def = "15s", .min = 100, .max = LONG_MAX,
      .arg = "T", .key = "connect_timeout", .off = F(connect_timeout_ms),
      .help = "per connection attempt" },
    { .name = "stall", .type = OPT_DURATION, .def = "30s", .min = 100, .max = LONG_MAX, .arg = "T",
      .key = "stall", .off = F(stall_ms),
      .help = "abort an attempt that gets nothing for T while the cap is not holding it back" },
    { .name = "min-rate", .type = OPT_RATE, .def = "off", .arg = "RATE", .key = "min_rate",
      .off = F(min_rate),
      .help = "abort an attempt slower than RATE over the --stall window" },
    { .name = "max-size", .type = OPT_SIZE, .def = "off", .arg = "SIZE", .key = "max_size",
      .off = F(max_size), .help = "fail a file larger than SIZE" },
    { .name = "segments", .type = OPT_INT, .def = "1", .min = 1, .max = 64, .arg = "N",
      .key = "segments", .off = F(segments), .help = "connections per large file, 1..64" },
    { .name = "min-segment", .type = OPT_SIZE, .def = "8M", .min = 1, .max = LONG_MAX, .arg = "SIZE",
      .key = "min_segment", .off = F(min_segment),
      .help = "smallest range worth a connection" },

    /* Requests */
    { .name = "header", .short_name = 'H', .type = OPT_HEADERS, .arg = "\"K: V\"", .key = "headers",
      .off = F(headers), .group = "Requests",
      .help = "extra request header; repeat for more" },
    { .name = "user-agent", .type = OPT_STRING, .def = "sluice/" SLUICE_VERSION, .arg = "S", .key = "user_agent",
      .off = F(user_agent), .help = "User-Agent header" },
    { .name = "proxy", .type = OPT_STRING, .arg = "URL", .key = "proxy", .off = F(proxy),
      .help = "proxy for all requests (default: *_proxy env)" },
    { .name = "ca-file", .type = OPT_STRING, .arg = "FILE", .key = "ca_file", .off = F(ca_file),
      .help = "CA certificates, PEM (default: the system's)" },
    { .name = "insecure", .type = OPT_BOOL, .def = "false", .key = "insecure", .off = F(insecure),
      .help = "do not verify TLS certificates or host names" },

    /* Interface */
    { .name = "headless", .type = OPT_MODE, .def = "false", .key = "headless", .off = F(mode),
      .group = "Interface",
      .help = "no TUI: progress lines on stderr" },
    { .name = "tui", .type = OPT_MODE, .def = "false", .key = "tui", .off = F(mode),
      .help = "full-screen UI (default if stdout is a tty)" },
    { .name = "theme", .type = OPT_STRING, .def = "default", .arg = "NAME|FILE", .key = "theme",
      .off = F(theme), .help = "colour theme name or file" },
    { .name = "log", .type = OPT_STRING, .arg = "FILE", .key = "log", .off = F(log),
      .help = "JSON Lines event log" },
    { .name = "no-bell", .type = OPT_BOOL, .def = "false", .key = "no_bell", .off = F(no_bell),
      .help = "no terminal bell when the run finishes (TUI)" },
    { .name = "on-finish", .type = OPT_STRING, .arg = "CMD", .key = "on_finish",
      .off = F(on_finish),
      .help = "run CMD (sh -c) when the run finishes; counts in SLUICE_* variables" },
    { .name = "config", .short_name = 'c', .type = OPT_STRING, .arg = "FILE", .cli_only = true,
      .off = F(config),
      .help = "libconfig file, see sample.conf" },
    { .name = "help", .short_name = 'h', .type = OPT_ACTION, .cli_only = true, .off = 0,
      .help = "show this help and exit" },
    { .name = "version", .short_name = 'V', .type = OPT_ACTION, .cli_only = true, .off = 0,
      .help = "show the version and exit" },
};

const size_t opts_count = ARRAY_LEN(opts_table);

/* set_on_cli has one bit per option. */
_Static_assert(ARRAY_LEN(opts_table) <= 64, "too many options for settings.set_on_cli");

int opts_find(const char *name)
{
    for (size_t i = 0; i < opts_count; i++)
        if (strcmp(opts_table[i].name, name) == 0)
            return (int)i;
    return -1;
}

int opts_find_key(const char *key)
{
    for (size_t i = 0; i < opts_count; i++)
        if (opts_table[i].key != NULL && strcmp(opts_table[i].key, key) == 0)
            return (int)i;
    return -1;
}

static void *field(struct settings *s, const struct opt *o)
{
    return (char *)s + o->off;
}

static int parse_bool(const char *v, bool *out, char *err)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    char q[48];

    if (v == NULL) {
        *out = true;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return errf(err, "'%s' is not true or false", units_quote(v, q, sizeof q));
}

static bool has_control(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return true;
    return false;
}

/* RFC 9110 token characters, for header names. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int check_header(const char *v, char *err)
{
    const char *colon = strchr(v, ':');
    char q[48];

    if (colon == NULL || colon == v)
        return errf(err, "'%s' is not \"Name: value\"", units_quote(v, q, sizeof q));
    for (const char *p = v; p < colon; p++)
        if (!is_tchar(*p))
            return errf(err, "'%s': bad character in the header name", units_quote(v, q, sizeof q));
    /* A CR or LF would let a value smuggle in a header of its own. */
    if (has_control(colon + 1))
        return errf(err, "'%s': control character in the header value", units_quote(v, q, sizeof q));
    return 0;
}

static void add_header(struct settings *s, const char *v)
{
    size_t nl = (size_t)(strchr(v, ':') - v);

    for (size_t i = 0; i < s->nheaders; i++) {
        if (strncasecmp(s->headers[i], v, nl) == 0 && s->headers[i][nl] == ':') {
            free(s->headers[i]);
            s->headers[i] = xstrdup(v);
            return;
        }
    }
    s->headers = xrealloc(s->headers, (s->nheaders + 1) * sizeof *s->headers);
    s->headers[s->nheaders++] = xstrdup(v);
}

static int check_range(const struct opt *o, int64_t v, const char *unit, char *err)
{
    if (o->max > 0 && (v < o->min || v > o->max)) {
        if (o->max == LONG_MAX)
            return errf(err, "must be at least %ld %s", o->min, unit);
        return errf(err, "must be between %ld and %ld %s", o->min, o->max, unit);
    }
    return 0;
}

static int apply_sized(const struct opt *o, int64_t *dst, const char *value, char *err)
{
    int64_t v;
    int rc;

    switch (o->type) {
    case OPT_RATE:
        rc = units_parse_rate(value, &v, err);
        break;
    case OPT_SIZE:
        /* A default of "auto" or "off" is stored as 0 and may be asked for by name. */
        if (o->def != NULL && (strcmp(o->def, "auto") == 0 || strcmp(o->def, "off") == 0) &&
            strcasecmp(value, o->def) == 0) {
            *dst = 0;
            return 0;
        }
        rc = units_parse_size(value, &v, err);
        break;
    default:
        rc = units_parse_duration(value, &v, err);
        break;
    }
    if (rc < 0 || check_range(o, v, o->type == OPT_DURATION ? "ms" : "bytes", err) < 0)
        return -1;
    *dst = v;
    return 0;
}

int opts_apply(struct settings *s, int idx, const char *value, char *err)
{
    const struct opt *o;
    char q[48];
    bool b;

    if (idx < 0 || (size_t)idx >= opts_count)
        return errf(err, "no such option");
    o = &opts_table[idx];
    if (value == NULL && o->type != OPT_BOOL && o->type != OPT_MODE && o->type != OPT_ACTION)
        return errf(err, "a value is required");

    switch (o->type) {
    case OPT_INT: {
        long v;

        if (units_parse_int(value, o->min, o->max, &v, err) < 0)
            return -1;
        *(int *)field(s, o) = (int)v;
        return 0;
    }
    case OPT_RATE:
    case OPT_SIZE:
    case OPT_DURATION:
        return apply_sized(o, (int64_t *)field(s, o), value, err);
    case OPT_DURATION_PAIR:
        return units_parse_duration_pair(value, &s->retry_min_ms, &s->retry_max_ms, err);
    case OPT_STRING: {
        char **dst = field(s, o);

        if (*value == '\0')
            return errf(err, "must not be empty");
        if (has_control(value))
            return errf(err, "'%s': control characters are not allowed", units_quote(value, q, sizeof q));
        if (dst == &s->cap_group) {
            struct group_url u;

            if (!group_built_in())
                return errf(err, "this sluice was built without hiredis: a shared cap is not "
                            "available (install libhiredis-dev and build again)");
            if (group_parse_url(value, &u, err) < 0)
                return -1;
        }
        free(*dst);
        *dst = xstrdup(value);
        if (dst == &s->session)
            s->no_session = false;
        return 0;
    }
    case OPT_BOOL:
        if (parse_bool(value, &b, err) < 0)
            return -1;
        *(bool *)field(s, o) = b;
        return 0;
    case OPT_MODE: {
        enum ui_mode m = strcmp(o->name, "tui") == 0 ? UI_TUI : UI_HEADLESS;

        if (parse_bool(value, &b, err) < 0)
            return -1;
        if (b)
            s->mode = m;
        else if (s->mode == m)
            s->mode = UI_AUTO;
        return 0;
    }
    case OPT_LAYOUT:
        if (strcmp(value, "path") == 0)
            s->layout = LAYOUT_PATH;
        else if (strcmp(value, "flat") == 0)
            s->layout = LAYOUT_FLAT;
        else if (strcmp(value, "host") == 0)
            s->layout = LAYOUT_HOST;
        else
            return errf(err, "'%s' is not path, flat or host", units_quote(value, q, sizeof q));
        return 0;
    case OPT_HEADERS:
        if (check_header(value, err) < 0)
            return -1;
        add_header(s, value);
        return 0;
    case OPT_SCHEDULE: {
        struct sched_point *p;
        size_t n;

        if (opts_parse_schedule(value, &p, &n, err) < 0)
            return -1;
        free(s->schedule);
        s->schedule = p;
        s->nschedule = n;
        return 0;
    }
    case OPT_SHARD:
        return shard_parse(value, getenv("JOB_COMPLETION_INDEX"), &s->shard, err);
    case OPT_ACTION:
        return 0;
    }
    return errf(err, "unhandled option type");
}

/* "8:00" or "08:00" → minute of the day. */
static int parse_time(const char *t, size_t len, int *minute)
{
    int h = 0, m;
    size_t i = 0;

    for (; i < len && i < 2 && t[i] >= '0' && t[i] <= '9'; i++)
        h = h * 10 + (t[i] - '0');
    if (i == 0 || i + 3 != len || t[i] != ':')
        return -1;
    if (t[i + 1] < '0' || t[i + 1] > '5' || t[i + 2] < '0' || t[i + 2] > '9')
        return -1;
    m = (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
    if (h > 23)
        return -1;
    *minute = h * 60 + m;
    return 0;
}

static int point_cmp(const void *a, const void *b)
{
    const struct sched_point *x = a, *y = b;

    return (x->minute > y->minute) - (x->minute < y->minute);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
static const char *const day_long[7] = { "sunday", "monday", "tuesday", "wednesday", "thursday",
                                         "friday", "saturday" };

static int day_index(const char *t, size_t len)
{
    for (int d = 0; d < 7; d++)
        if ((len == 3 && strncasecmp(t, day_names[d], 3) == 0) ||
            (len == strlen(day_long[d]) && strncasecmp(t, day_long[d], len) == 0))
            return d;
    return -1;
}

/* "mon-fri", "sat,sun", "fri-mon" (wraps), "daily" → a mask of tm_wday bits. */
static int parse_days(const char *tok, size_t len, unsigned *mask, char *err)
{
    char *t = xstrndup(tok, len), q[48];
    const char *p = t;
    unsigned m = 0;
    int rc = -1;

    units_quote(t, q, sizeof q);
    if (strcasecmp(t, "daily") == 0) {
        *mask = 0x7f;
        free(t);
        return 0;
    }
    while (*p != '\0') {
        const char *item = p, *dash;
        size_t ilen;
        int a, b;

        while (*p != '\0' && *p != ',')
            p++;
        ilen = (size_t)(p - item);
        dash = memchr(item, '-', ilen);
        if (dash == NULL) {
            a = b = day_index(item, ilen);
        } else {
            a = day_index(item, (size_t)(dash - item));
            b = day_index(dash + 1, ilen - (size_t)(dash + 1 - item));
        }
        if (a < 0 || b < 0) {
            errf(err, "'%s' is not TIME,RATE nor days (mon-fri, sat,sun, daily)", q);
            goto out;
        }
        for (int d = a;; d = (d + 1) % 7) {
            m |= 1u << d;
            if (d == b)
                break;
        }
        if (*p == ',')
            p++;
        if (*p == '\0' && p[-1] == ',') {
            errf(err, "'%s': a day is missing after ','", q);
            goto out;
        }
    }
    if (m == 0) {
        errf(err, "'%s': no days", q);
        goto out;
    }
    *mask = m;
    rc = 0;
out:
    free(t);
    return rc;
}

/* One "TIME,RATE" step of a schedule. */
static int parse_point(const char *tok, size_t len, struct sched_point *pt, char *err)
{
    const char *comma = memchr(tok, ',', len);
    char *t = xstrndup(tok, len);
    char q[48], rerr[ERRLEN];
    int rc = -1;

    units_quote(t, q, sizeof q);
    if (comma == NULL)
        errf(err, "'%s' is not TIME,RATE (example: 08:00,10M)", q);
    else if (parse_time(tok, (size_t)(comma - tok), &pt->minute) < 0)
        errf(err, "'%s': bad time (H:MM or HH:MM, 00:00..23:59)", q);
    else if (units_parse_rate(t + (comma + 1 - tok), &pt->rate, rerr) < 0)
        errf(err, "'%s': %s", q, rerr);
    else
        rc = 0;
    free(t);
    return rc;
}

int opts_parse_schedule(const char *spec, struct sched_point **out, size_t *n, char *err)
{
    struct sched_point *pts = NULL;
    size_t np = 0, group = 0;
    unsigned days = 0;              /* until the first day list: every day */
    bool pending = false;           /* a day list with no step after it yet */
    const char *p = spec;

    *out = NULL;
    *n = 0;
    while (is_blank(*p))
        p++;
    if (strcasecmp(p, "none") == 0 || strcasecmp(p, "off") == 0)
        return 0;
    if (*p == '\0')
        return errf(err, "empty schedule (use \"none\" for no schedule)");

    while (*p != '\0') {
        const char *tok = p;
        struct sched_point pt;

        while (*p != '\0' && !is_blank(*p))
            p++;
        /* A word that starts with a letter and holds no time is a list of days for the steps
         * that follow it. */
        if (((*tok >= 'a' && *tok <= 'z') || (*tok >= 'A' && *tok <= 'Z')) &&
            memchr(tok, ':', (size_t)(p - tok)) == NULL) {
            unsigned m;

            if (parse_days(tok, (size_t)(p - tok), &m, err) < 0)
                goto fail;
            if (pending) {
                errf(err, "days with no TIME,RATE step after them");
                goto fail;
            }
            /* Each day list's steps stay together, sorted by time, in the order written; the
             * same days again go on with the same list (the config's form names them for every
             * step). */
            if (m == 0x7f)
                m = 0;
            if (m != days) {
                if (np > group)
                    qsort(pts + group, np - group, sizeof *pts, point_cmp);
                group = np;
                days = m;
            }
            pending = true;
        } else {
            if (parse_point(tok, (size_t)(p - tok), &pt, err) < 0)
                goto fail;
            pt.days = days;
            for (size_t i = 0; i < np; i++) {
                unsigned a = pts[i].days ? pts[i].days : 0x7f, b = days ? days : 0x7f;

                if (pts[i].minute == pt.minute && (a & b) != 0) {
                    errf(err, "two steps at %02d:%02d on the same day", pt.minute / 60,
                         pt.minute % 60);
                    goto fail;
                }
            }
            pts = xrealloc(pts, (np + 1) * sizeof *pts);
            pts[np++] = pt;
            pending = false;
        }
        while (is_blank(*p))
            p++;
    }
    if (pending) {
        errf(err, "days with no TIME,RATE step after them");
        goto fail;
    }
    if (np > group)
        qsort(pts + group, np - group, sizeof *pts, point_cmp);
    *out = pts;
    *n = np;
    return 0;
fail:
    free(pts);
    return -1;
}

const char *opts_format_days(unsigned days, char *buf, size_t len)
{
    size_t o = 0;

    days &= 0x7f;
    if (days == 0 || days == 0x7f) {
        snprintf(buf, len, "daily");
        return buf;
    }
    buf[0] = '\0';
    /* Runs of two or more days as a range, Monday first (a week that reads mon-fri). */
    for (int k = 0; k < 7;) {
        int d = (k + 1) % 7, end = k;

        if (!(days & (1u << d))) {
            k++;
            continue;
        }
        while (end + 1 < 7 && (days & (1u << ((end + 2) % 7))))
            end++;
        if (o < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o > 0 ? "," : "", day_names[d]);
        if (end > k && o < len)
            o += (size_t)snprintf(buf + o, len - o, "%s%s", end > k + 1 ? "-" : ",",
                                  day_names[(end + 1) % 7]);
        k = end + 1;
    }
    return buf;
}

/* A rate the parser reads back: "10M", "512K", "1500", "off". */
static void format_rate(int64_t r, struct sbuf *out)
{
    if (r <= 0)
        sbuf_addstr(out, "off");
    else if (r % (1024LL * 1024 * 1024) == 0)
        sbuf_printf(out, "%lldG", (long long)(r / (1024LL * 1024 * 1024)));
    else if (r % (1024LL * 1024) == 0)
        sbuf_printf(out, "%lldM", (long long)(r / (1024LL * 1024)));
    else if (r % 1024 == 0)
        sbuf_printf(out, "%lldK", (long long)(r / 1024));
    else
        sbuf_printf(out, "%lld", (long long)r);
}

void opts_format_step(const struct sched_point *pt, struct sbuf *out)
{
    char d[40];

    if (pt->days != 0 && (pt->days & 0x7f) != 0x7f)
        sbuf_printf(out, "%s ", opts_format_days(pt->days, d, sizeof d));
    sbuf_printf(out, "%02d:%02d,", pt->minute / 60, pt->minute % 60);
    format_rate(pt->rate, out);
}

void opts_format_schedule(const struct sched_point *p, size_t n, struct sbuf *out)
{
    char d[40];

    if (n == 0) {
        sbuf_addstr(out, "none");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned days = p[i].days & 0x7f;

        if (i > 0)
            sbuf_addstr(out, " ");
        /* A day list where the days change; every-day steps after weekday ones say "daily". */
        if (i == 0 ? days != 0 && days != 0x7f : days != (p[i - 1].days & 0x7f))
            sbuf_printf(out, "%s ", opts_format_days(days, d, sizeof d));
        sbuf_printf(out, "%02d:%02d,", p[i].minute / 60, p[i].minute % 60);
        format_rate(p[i].rate, out);
    }
}

void settings_init(struct settings *s)
{
    char err[ERRLEN];

    memset(s, 0, sizeof *s);
    s->mode = UI_AUTO;
    s->layout = LAYOUT_PATH;
    for (size_t i = 0; i < opts_count; i++) {
        if (opts_table[i].def != NULL && opts_apply(s, (int)i, opts_table[i].def, err) < 0)
            fatal("default of --%s: %s", opts_table[i].name, err);
    }
}

void settings_free(struct settings *s)
{
    free(s->input);
    free(s->dir);
    free(s->schedule);
    free(s->cap_group);
    free(s->session);
    free(s->config);
    free(s->theme);
    free(s->log);
    free(s->on_finish);
    util_strv_free(s->headers, s->nheaders);
    free(s->user_agent);
    free(s->proxy);
    free(s->ca_file);
    for (size_t i = 0; i < s->nhosts; i++)
        free(s->hosts[i].host);
    free(s->hosts);
    util_strv_free(s->urls, s->nurls);
    memset(s, 0, sizeof *s);
}

/* "  -j, --concurrency N" */
static size_t help_left(const struct opt *o, char *buf, size_t len)
{
    int n;

    if (o->short_name != 0)
        n = snprintf(buf, len, "  -%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
    else
        n = snprintf(buf, len, "      --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    return n < 0 ? 0 : (size_t)n;
}

/* Writes text from column col, wrapping words before column 80. */
static void help_wrap(FILE *fp, const char *text, size_t col)
{
    size_t at = col;
    const char *p = text;

    while (*p != '\0') {
        const char *w = p;
        size_t wl;

        while (*p != '\0' && *p != ' ')
            p++;
        wl = (size_t)(p - w);
        if (at > col && at + 1 + wl > 79) {
            fprintf(fp, "\n%*s", (int)col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', fp);
            at++;
        }
        fwrite(w, 1, wl, fp);
        at += wl;
        while (*p == ' ')
            p++;
    }
    fputc('\n', fp);
}

void opts_print_help(FILE *fp)
{
    char left[96];
    size_t width = 0;

    for (size_t i = 0; i < opts_count; i++) {
        size_t l = help_left(&opts_table[i], left, sizeof left);

        if (l > width)
            width = l;
    }
    width += 2;

    fputs("Usage: sluice [OPTIONS] [URL...]\n"
          "       sluice ctl [-d DIR | --socket PATH] COMMAND [ARGS...]\n"
          "       sluice attach [-d DIR | --socket PATH] [--theme NAME|FILE]\n"
          "       sluice report [-d DIR | --session FILE] [--failed | --all] [--json]\n"
          "\n"
          "Downloads URLs (given here or with --input) into DIR under a global rate cap,\n"
          "resuming where it left off when run again.\n", fp);
    for (size_t i = 0; i < opts_count; i++) {
        const struct opt *o = &opts_table[i];
        size_t l = help_left(o, left, sizeof left);
        char *text;

        if (o->group != NULL)
            fprintf(fp, "\n%s:\n", o->group);
        if (o->def != NULL && o->type != OPT_BOOL && o->type != OPT_MODE)
            text = xasprintf("%s (default: %s)", o->help, o->def);
        else
            text = xstrdup(o->help);
        fprintf(fp, "%s%*s", left, (int)(width - l), "");
        help_wrap(fp, text, width);
        free(text);
    }
    fputs("\n"
          "SIZE: a number with K, M, G (powers of 1024 bytes) or kbit, Mbit, Gbit (powers\n"
          "of 1000 bits): 512K, 1.5M, 400Mbit. RATE: a SIZE per second, 0 or off = no cap.\n"
          "T: 500ms, 30s, 5m, 1h or a number of seconds.\n"
          "--layout: path = DIR/URL-path, flat = DIR/last-segment, host = DIR/HOST/path\n"
          "Config: -c FILE, else $XDG_CONFIG_HOME/sluice/sluice.conf (~/.config/...) if\n"
          "present; keys are the long names with '_' for '-'. The command line wins.\n"
          "Exit status: 0 all done, 1 some items failed, 2 bad usage, configuration or\n"
          "input, 3 interrupted (run the same command again to resume).\n", fp);
}
