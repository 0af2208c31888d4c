/* Control commands: a const table (tmux's cmd entries) that both the server and the client read,
 * request words, answers, and the two renderings of engine_stats (JSON, Prometheus).
 * Nothing here touches a socket, so all of it is unit-tested with a fake engine. */
#include "ctl_cmd.h"
#include "units.h"
#include "urlpath.h"

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_ctl_char(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* ---- words ---- */

void ctl_cmd_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **p = argv; *p != NULL; p++)
        free(*p);
    free(argv);
}

int ctl_cmd_split(const char *line, size_t len, int *argcp, char ***argvp, char *err)
{
    char **argv = xcalloc(CTL_MAX_WORDS + 1, sizeof *argv);
    struct sbuf w = { 0 };
    int argc = 0;
    size_t i = 0;

    if (len > 0 && line[len - 1] == '\r')
        len--;              /* nc and telnet users send CRLF */
    for (size_t j = 0; j < len; j++) {
        if (is_ctl_char((unsigned char)line[j])) {
            errf(err, "control character in the request");
            goto fail;
        }
    }
    for (;;) {
        bool quoted = false;

        while (i < len && is_blank(line[i]))
            i++;
        if (i == len)
            break;
        w.len = 0;
        while (i < len && (quoted || !is_blank(line[i]))) {
            char c = line[i++];

            if (c == '"') {
                quoted = !quoted;
            } else if (quoted && c == '\\' && i < len && (line[i] == '"' || line[i] == '\\')) {
                sbuf_add(&w, &line[i++], 1);
            } else {
                sbuf_add(&w, &c, 1);
            }
        }
        if (quoted) {
            errf(err, "unterminated quote in the request");
            goto fail;
        }
        if (argc == CTL_MAX_WORDS) {
            errf(err, "too many words in the request (at most %d)", CTL_MAX_WORDS);
            goto fail;
        }
        argv[argc++] = w.len > 0 ? xstrndup(w.s, w.len) : xstrdup("");
    }
    if (argc == 0) {
        errf(err, "empty request");
        goto fail;
    }
    sbuf_free(&w);
    *argcp = argc;
    *argvp = argv;
    return 0;

fail:
    sbuf_free(&w);
    ctl_cmd_argv_free(argv);
    return -1;
}

int ctl_cmd_join(int argc, char **argv, struct sbuf *out, char *err)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool plain = *a != '\0';

        for (const char *p = a; *p; p++) {
            if (is_ctl_char((unsigned char)*p)) {
                char q[64];

                return errf(err, "argument '%s' holds a control character",
                            units_quote(a, q, sizeof q));
            }
            if (is_blank(*p) || *p == '"' || *p == '\\')
                plain = false;
        }
        if (i > 0)
            sbuf_add(out, " ", 1);
        if (plain) {
            sbuf_addstr(out, a);
            continue;
        }
        sbuf_add(out, "\"", 1);
        for (const char *p = a; *p; p++) {
            if (*p == '"' || *p == '\\')
                sbuf_add(out, "\\", 1);
            sbuf_add(out, p, 1);
        }
        sbuf_add(out, "\"", 1);
    }
    sbuf_add(out, "\n", 1);
    return 0;
}

/* ---- renderings ---- */

static const char *cap_source_name(enum engine_cap_source src)
{
    return src == CAP_FROM_GROUP ? "group" : src == CAP_FROM_LIVE ? "live" :
           src == CAP_FROM_SCHEDULE ? "schedule" : "settings";
}

/* The step as the schedule spells it ("mon-fri 08:00,2M"), for the status and the metrics. */
static void step_text(const struct sched_point *pt, char *buf, size_t len)
{
    struct sbuf b = { 0 };

    opts_format_step(pt, &b);
    snprintf(buf, len, "%s", b.len > 0 ? b.s : "");
    sbuf_free(&b);
}

void ctl_cmd_status_json(const struct engine_stats *st, struct sbuf *out)
{
    const struct engine_sched_view *v = &st->sched;

    sbuf_printf(out,
                "{\"total\":%zu,\"queued\":%zu,\"active\":%zu,\"retrying\":%zu,\"paused\":%zu,"
                "\"done\":%zu,\"unchanged\":%zu,\"failed\":%zu,\"transfers\":%d,\"finishing\":%d,"
                "\"concurrency\":%d,\"rate\":%lld,\"cap\":%lld,\"bytes\":%lld,\"elapsed_ms\":%lld,"
                "\"eta_ms\":%lld,\"disk_full\":%s,\"paused_all\":%s,\"cap_source\":\"%s\"",
                st->total, st->queued, st->active, st->retrying, st->paused, st->done, st->unchanged,
                st->failed, st->transfers, st->finishing, st->concurrency, (long long)st->rate,
                (long long)st->cap, (long long)st->bytes, (long long)st->elapsed_ms,
                (long long)st->eta_ms, st->disk_full ? "true" : "false",
                st->paused_all ? "true" : "false", cap_source_name(v->source));
    /* docs/ctl.md: the schedule's step in force, the next one and when it begins. */
    if (v->nsteps > 0 && v->step >= 0) {
        char a[64], b[64];

        step_text(&v->cur, a, sizeof a);
        step_text(&v->nxt, b, sizeof b);
        sbuf_printf(out, ",\"schedule_step\":\"%s\",\"schedule_next\":\"%s\","
                    "\"schedule_next_in_s\":%lld,\"cap_then\":%lld", a, b,
                    (long long)v->next_in_s, (long long)v->then_rate);
    } else {
        sbuf_addstr(out, ",\"schedule_step\":null,\"schedule_next\":null,"
                    "\"schedule_next_in_s\":-1,\"cap_then\":-1");
    }
    /* Which part of the list this worker takes (docs/scale.md#sharding), null when all. */
    if (st->shard.n > 0)
        sbuf_printf(out, ",\"shard\":\"%u/%u\"", (unsigned)st->shard.k, (unsigned)st->shard.n);
    else
        sbuf_addstr(out, ",\"shard\":null");
    /* A cap shared through Redis (docs/scale.md#the-shared-cap): "cap" is the group's. */
    if (st->group_workers > 0)
        sbuf_printf(out, ",\"group_workers\":%d,\"group_up\":%s,\"local_cap\":%lld}\n",
                    st->group_workers, st->group_up ? "true" : "false", (long long)st->local_cap);
    else
        sbuf_addstr(out, ",\"group_workers\":null,\"group_up\":null,\"local_cap\":null}\n");
}

static void metric_head(struct sbuf *out, const char *name, const char *type, const char *help)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct sbuf *out, const char *name, const char *type, const char *help,
                   long long v)
{
    metric_head(out, name, type, help);
    sbuf_printf(out, "%s %lld\n", name, v);
}

/* Milliseconds as seconds, exactly (no floating point rounding in the text). */
static void metric_seconds(struct sbuf *out, const char *name, const char *help, int64_t ms)
{
    metric_head(out, name, "gauge", help);
    if (ms < 0)
        sbuf_printf(out, "%s -1\n", name);
    else
        sbuf_printf(out, "%s %lld.%03lld\n", name, (long long)(ms / 1000), (long long)(ms % 1000));
}

void ctl_cmd_metrics(const struct engine_stats *st, struct sbuf *out)
{
    const struct {
        const char *state;
        size_t n;
    } items[] = {
        { "queued", st->queued }, { "active", st->active }, { "retrying", st->retrying },
        { "paused", st->paused }, { "done", st->done }, { "unchanged", st->unchanged },
        { "failed", st->failed },
    };

    metric_head(out, "sluice_items", "gauge", "Items of this run by state.");
    for (size_t i = 0; i < ARRAY_LEN(items); i++)
        sbuf_printf(out, "sluice_items{state=\"%s\"} %zu\n", items[i].state, items[i].n);
    metric(out, "sluice_received_bytes_total", "counter",
           "Response body bytes received by this run.", (long long)st->bytes);
    metric(out, "sluice_rate_bytes_per_second", "gauge",
           "Bytes received per second over the last 2 seconds.", (long long)st->rate);
    metric(out, "sluice_cap_bytes_per_second", "gauge",
           "Global cap on received bytes per second; 0 means no cap.", (long long)st->cap);
    metric(out, "sluice_concurrency_limit", "gauge", "Transfers allowed at once.",
           st->concurrency);
    metric(out, "sluice_transfers_active", "gauge", "Transfers on the wire now.", st->transfers);
    metric(out, "sluice_transfers_finishing", "gauge",
           "Finished transfers being verified and committed.", st->finishing);
    metric_seconds(out, "sluice_elapsed_seconds", "Time since the run started.", st->elapsed_ms);
    metric_seconds(out, "sluice_eta_seconds", "Estimated time to finish; -1 when unknown.",
                   st->eta_ms);
    metric(out, "sluice_disk_full", "gauge", "1 while transfers wait because the disk is full.",
           st->disk_full);
    metric(out, "sluice_paused_all", "gauge", "1 while the operator has paused everything.",
           st->paused_all);
    metric_head(out, "sluice_cap_source", "gauge",
                "1 for where the cap in force comes from: settings, schedule or live.");
    for (int src = CAP_FROM_SETTINGS; src <= CAP_FROM_GROUP; src++)
        sbuf_printf(out, "sluice_cap_source{source=\"%s\"} %d\n",
                    cap_source_name((enum engine_cap_source)src), (int)st->sched.source == src);
    if (st->sched.nsteps > 0 && st->sched.step >= 0) {
        char a[64], b[64];

        step_text(&st->sched.cur, a, sizeof a);
        step_text(&st->sched.nxt, b, sizeof b);
        metric_head(out, "sluice_schedule_step_info", "gauge",
                    "The schedule's step in force and the next one, as the schedule spells them.");
        sbuf_printf(out, "sluice_schedule_step_info{step=\"%s\",next=\"%s\"} 1\n", a, b);
        metric(out, "sluice_schedule_next_step_seconds", "gauge",
               "Seconds until the schedule's next step begins.", (long long)st->sched.next_in_s);
        metric(out, "sluice_schedule_next_cap_bytes_per_second", "gauge",
               "The cap the schedule's next step brings; 0 means no cap.",
               (long long)st->sched.nxt.rate);
    }
    /* The shard as labels, so a dashboard can sum the workers of one list (docs/scale.md). */
    if (st->shard.n > 0) {
        metric_head(out, "sluice_shard", "gauge",
                    "1; the labels say which shard of the list this worker takes.");
        sbuf_printf(out, "sluice_shard{index=\"%u\",count=\"%u\"} 1\n", (unsigned)st->shard.k,
                    (unsigned)st->shard.n);
    }
    if (st->group_workers > 0) {
        metric(out, "sluice_cap_group_workers", "gauge",
               "Workers drawing from the shared cap, as last seen.", st->group_workers);
        metric(out, "sluice_cap_group_up", "gauge", "1 while Redis answers.", st->group_up);
        metric(out, "sluice_cap_group_calls_total", "counter",
               "Lease script calls this worker made to Redis.", (long long)st->group_calls);
        metric(out, "sluice_cap_local_bytes_per_second", "gauge",
               "While Redis is away: the cap this worker keeps to; 0 otherwise.",
               (long long)st->local_cap);
    }
}

/* ---- commands ---- */

/* "all" (or the given keyword) → *all; else a positive item id. */
static int parse_target(const char *cmd, const char *word, const char *arg, bool *all, uint64_t *id,
                        char *err)
{
    char q[64];
    long v;

    if (strcasecmp(arg, word) == 0) {
        *all = true;
        return 0;
    }
    if (units_parse_int(arg, 1, LONG_MAX, &v, err) < 0)
        return errf(err, "%s: '%s' is neither %s nor an item id (a positive whole number)", cmd,
                    units_quote(arg, q, sizeof q), word);
    *all = false;
    *id = (uint64_t)v;
    return 0;
}

static int cmd_rate(struct engine *e, const struct settings *s, int argc, char **argv,
                    struct sbuf *out, char *err)
{
    char msg[ERRLEN];
    int64_t rate;

    if (argc > 1) {
        if (units_parse_rate(argv[1], &rate, msg) < 0)
            return errf(err, "rate: %s", msg);
        /* A --burst given for the run stays; 0 lets the engine size it for the new rate. */
        engine_set_rate(e, rate, s != NULL ? s->burst : 0);
    }
    sbuf_printf(out, "%lld\n", (long long)engine_rate(e));
    return 0;
}

static int cmd_concurrency(struct engine *e, const struct settings *s, int argc, char **argv,
                           struct sbuf *out, char *err)
{
    char msg[ERRLEN];
    long n;

    if (argc > 1) {
        if (units_parse_int(argv[1], 1, 1024, &n, msg) < 0)
            return errf(err, "concurrency: %s", msg);
        engine_set_concurrency(e, (int)n);
    }
    sbuf_printf(out, "%d\n", engine_concurrency(e));
    return 0;
}

/* pause/resume/requeue take an item id or a word for all of them. Returns 1 for the word (the
 * caller acts on all), else what one() returned for the id (0 or -1), or -1 for a bad target. */
static int on_target(struct engine *e, char **argv, const char *word,
                     int (*one)(struct engine *, uint64_t, char *), char *err)
{
    bool all;
    uint64_t id = 0;

    if (parse_target(argv[0], word, argv[1], &all, &id, err) < 0)
        return -1;
    return all ? 1 : one(e, id, err);
}

static int cmd_pause(struct engine *e, const struct settings *s, int argc, char **argv,
                     struct sbuf *out, char *err)
{
    int rc = on_target(e, argv, "all", engine_pause, err);

    if (rc == 1)
        engine_pause_all(e);
    return rc == 1 ? 0 : rc;
}

static int cmd_resume(struct engine *e, const struct settings *s, int argc, char **argv,
                      struct sbuf *out, char *err)
{
    int rc = on_target(e, argv, "all", engine_resume, err);

    if (rc == 1)
        engine_resume_all(e);
    return rc == 1 ? 0 : rc;
}

/* "status=503" and "host=img.example.com" after requeue failed: which failed items. */
static int parse_where(int argc, char **argv, int *status, const char **host, char *err)
{
    char q[64];

    *status = 0;
    *host = NULL;
    for (int i = 2; i < argc; i++) {
        long v;

        if (strncmp(argv[i], "status=", 7) == 0 && *status == 0) {
            if (units_parse_int(argv[i] + 7, 100, 599, &v, err) < 0)
                return errf(err, "requeue: status=%s is not an HTTP status (100..599)",
                            units_quote(argv[i] + 7, q, sizeof q));
            *status = (int)v;
        } else if (strncmp(argv[i], "host=", 5) == 0 && *host == NULL && argv[i][5] != '\0') {
            *host = argv[i] + 5;
        } else {
            return errf(err, "requeue failed: expected status=CODE or host=HOST (once each), "
                        "got '%s'", units_quote(argv[i], q, sizeof q));
        }
    }
    return 0;
}

static int cmd_requeue(struct engine *e, const struct settings *s, int argc, char **argv,
                       struct sbuf *out, char *err)
{
    int status = 0;
    const char *host = NULL;
    bool all;
    uint64_t id = 0;
    int rc;

    if (parse_target(argv[0], "failed", argv[1], &all, &id, err) < 0)
        return -1;
    if (!all && argc > 2)
        return errf(err, "requeue: status= and host= go with 'failed', not an item id");
    if (all && parse_where(argc, argv, &status, &host, err) < 0)
        return -1;
    rc = all ? 1 : engine_requeue(e, id, err);
    if (rc == 1) {
        long n = engine_requeue_failed_where(e, status, host, err);

        if (n < 0)
            return -1;
        sbuf_printf(out, "%ld\n", n);
    }
    return rc == 1 ? 0 : rc;
}

/* One item out of the run and the session, as d in the TUI: it does not come back with the
 * next run of the same list (docs/design.md#session). There is no word for all of them. */
static int cmd_remove(struct engine *e, const struct settings *s, int argc, char **argv,
                      struct sbuf *out, char *err)
{
    char q[64];
    long v;

    if (units_parse_int(argv[1], 1, LONG_MAX, &v, err) < 0)
        return errf(err, "remove: '%s' is not an item id (a positive whole number)",
                    units_quote(argv[1], q, sizeof q));
    return engine_remove(e, (uint64_t)v, err);
}

/* The URL and out= go through the intake's mapping and checks (engine_add_url), as a list's
 * line would. */
static int cmd_add(struct engine *e, const struct settings *s, int argc, char **argv,
                   struct sbuf *out, char *err)
{
    char msg[ERRLEN];
    const char *outp = NULL;
    uint64_t id;

    if (argc > 2) {
        if (strncmp(argv[2], "out=", 4) != 0) {
            char q[64];

            return errf(err, "add: expected out=PATH, got '%s'", units_quote(argv[2], q, sizeof q));
        }
        outp = argv[2] + 4;
    }
    if (engine_add_url(e, argv[1], outp, &id, msg) < 0)
        return errf(err, "add: %s", msg);
    sbuf_printf(out, "%llu\n", (unsigned long long)id);
    return 0;
}

/* Shows the schedule, its step in force and the next one; with SPEC (as --schedule, "none" for
 * none), replaces it for this run. */
static int cmd_schedule(struct engine *e, const struct settings *s, int argc, char **argv,
                        struct sbuf *out, char *err)
{
    struct engine_stats st;
    const struct sched_point *p;
    size_t n;

    if (argc > 1) {
        struct sched_point *np = NULL;
        size_t nn = 0;
        char msg[ERRLEN];
        struct sbuf spec = { 0 };

        /* The words are one spec: "schedule mon-fri 08:00,2M 18:30,off" needs no quotes. */
        for (int i = 1; i < argc; i++) {
            if (i > 1)
                sbuf_addstr(&spec, " ");
            sbuf_addstr(&spec, argv[i]);
        }
        if (opts_parse_schedule(spec.s, &np, &nn, msg) < 0) {
            sbuf_free(&spec);
            return errf(err, "schedule: %s", msg);
        }
        sbuf_free(&spec);
        engine_set_schedule(e, np, nn);
        free(np);
    }
    p = engine_schedule(e, &n);
    sbuf_addstr(out, "schedule ");
    opts_format_schedule(p, n, out);
    sbuf_addstr(out, "\n");
    engine_stats(e, &st);
    if (st.sched.nsteps > 0 && st.sched.step >= 0) {
        char d[32];

        sbuf_addstr(out, "now ");
        opts_format_step(&st.sched.cur, out);
        sbuf_addstr(out, "\nnext ");
        opts_format_step(&st.sched.nxt, out);
        sbuf_printf(out, " in %s\n", units_fmt_duration(st.sched.next_in_s * 1000, d, sizeof d));
    }
    sbuf_printf(out, "cap %lld %s\n", (long long)st.cap, cap_source_name(st.sched.source));
    return 0;
}

static int cmd_status(struct engine *e, const struct settings *s, int argc, char **argv,
                      struct sbuf *out, char *err)
{
    struct engine_stats st;

    engine_stats(e, &st);
    ctl_cmd_status_json(&st, out);
    return 0;
}

static int cmd_metrics(struct engine *e, const struct settings *s, int argc, char **argv,
                       struct sbuf *out, char *err)
{
    struct engine_stats st;

    engine_stats(e, &st);
    ctl_cmd_metrics(&st, out);
    return 0;
}

const struct ctl_cmd ctl_cmd_table[] = {
    { "rate", 0, 1, "rate [RATE]",
      "set the global cap (50M, 400Mbit, off); prints the cap in bytes/s, 0 = none", cmd_rate },
    { "concurrency", 0, 1, "concurrency [N]", "set transfers at once (1..1024); prints the limit",
      cmd_concurrency },
    { "pause", 1, 1, "pause all|ID", "pause everything, or one item", cmd_pause },
    { "resume", 1, 1, "resume all|ID", "resume everything, or one item", cmd_resume },
    { "requeue", 1, 3, "requeue failed [status=CODE] [host=HOST]|ID",
      "retry the failed items, or those with that last HTTP status and host (prints how many), "
      "or one item", cmd_requeue },
    { "add", 1, 2, "add URL [out=PATH]", "add a URL to the run; prints its id", cmd_add },
    { "remove", 1, 1, "remove ID",
      "remove one item from the run and the session (its .part is deleted)", cmd_remove },
    { "schedule", 0, CTL_MAX_WORDS - 1, "schedule [SPEC]",
      "show the schedule, its step now and the next; SPEC (as --schedule, none) replaces it for "
      "this run", cmd_schedule },
    { "status", 0, 0, "status", "counts, rates and limits as one JSON object", cmd_status },
    { "metrics", 0, 0, "metrics", "the same in the Prometheus text format", cmd_metrics },
};
const size_t ctl_cmd_count = ARRAY_LEN(ctl_cmd_table);

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
    for (size_t i = 0; i < ctl_cmd_count; i++)
        if (strcmp(ctl_cmd_table[i].name, name) == 0)
            return &ctl_cmd_table[i];
    return NULL;
}

const struct ctl_cmd *ctl_cmd_check(int argc, char **argv, char *err)
{
    const struct ctl_cmd *cmd;
    char q[64];

    if (argc < 1) {
        errf(err, "no command");
        return NULL;
    }
    if ((cmd = ctl_cmd_find(argv[0])) == NULL) {
        errf(err, "unknown command '%s'", units_quote(argv[0], q, sizeof q));
        return NULL;
    }
    if (argc - 1 < cmd->min || argc - 1 > cmd->max) {
        errf(err, "usage: %s", cmd->usage);
        return NULL;
    }
    return cmd;
}

void ctl_cmd_error(struct sbuf *out, const char *msg)
{
    sbuf_addstr(out, "error: ");
    /* One line, nothing that could drive the client's terminal. */
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        char c = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;

        sbuf_add(out, &c, 1);
    }
    sbuf_add(out, "\n", 1);
}

int ctl_cmd_exec(struct engine *e, const struct settings *s, const char *line, size_t len,
                 struct sbuf *out)
{
    const struct ctl_cmd *cmd;
    struct sbuf body = { 0 };
    char err[ERRLEN] = "";
    char **argv = NULL;
    int argc, rc = -1;

    if (ctl_cmd_split(line, len, &argc, &argv, err) < 0)
        goto out;
    if ((cmd = ctl_cmd_check(argc, argv, err)) == NULL)
        goto out;
    rc = cmd->exec(e, s, argc, argv, &body, err);

out:
    if (rc == 0) {
        sbuf_add(out, "ok\n", 3);
        if (body.len > 0)
            sbuf_add(out, body.s, body.len);
    } else {
        ctl_cmd_error(out, err[0] ? err : "command failed");
    }
    sbuf_free(&body);
    ctl_cmd_argv_free(argv);
    return rc;
}
