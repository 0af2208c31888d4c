/* The run's plan, checked whole before the first request (README.md#input-lists: every malformed
 * line listed, nothing downloaded when anything is wrong), without holding a million strings; see
 * docs/design.md#session. Pass one keeps 24 bytes per item (64-bit fingerprints of its URL and
 * path, its sequence number and line) and finds repeated URLs, shared paths, X beside X.part and
 * files where folders are needed by sorting them, and the session's items by one sequential scan.
 * Fingerprints only nominate: every problem is confirmed on the real strings before it is reported
 * (pass 1b rereads the few items involved), and every "already there" is confirmed by the writer
 * against the row itself before it is skipped, so a fingerprint collision costs time, never an
 * item.
 *
 * This file has the public API, reading the input and the outline of pass one; the work is in
 * fprint.c (fingerprints and their sort), intake_scan.c (pass one), intake_confirm.c (pass 1b)
 * and intake_writer.c (pass two), which share intake_impl.h. */
#include "intake.h"
#include "fprint.h"
#include "input.h"
#include "intake_confirm.h"
#include "intake_impl.h"
#include "intake_scan.h"
#include "intake_writer.h"
#include "queue.h"
#include "shard.h"
#include "store.h"
#include "store_item.h"
#include "store_meta.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void intake_problem(struct intake *in, const char *fmt, ...)
{
    char msg[ERRLEN * 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    in->report(in->report_arg, msg);
    in->problems++;
}

static void on_report(void *arg, const char *msg)
{
    struct intake *in = arg;

    in->report(in->report_arg, msg);
    in->problems++;
}

void intake_ignore_report(void *arg, const char *msg)
{
}

/* ---- reading the input, the same way in every pass ---- */

struct walk {
    struct intake *in;
    intake_walk_fn fn;
    uint32_t seq;
};

static int walk_cb(const struct input_item *ii, void *arg, char *err)
{
    struct walk *w = arg;

    /* Items of other shards never enter the session (docs/scale.md#sharding); every pass
     * skips the same ones, so the sequence numbers of the passes agree. */
    if (!shard_mine(&w->in->s->shard, ii->urls[0]))
        return 0;
    if (w->seq == UINT32_MAX)
        return errf(err, "%s: too many items", w->in->list_name);
    return w->fn(w->in, ii, w->seq++, err);
}

/* Command-line URLs first, then the list. Returns input_read's count of malformed lines, or -1. */
int intake_walk(struct intake *in, intake_walk_fn fn, void (*report)(void *arg, const char *msg),
                void *report_arg, char *err)
{
    struct walk w = { in, fn, 0 };

    for (size_t i = 0; i < in->s->nurls; i++) {
        struct input_item ii = { 0 };
        char *urls[1] = { in->s->urls[i] };

        ii.urls = urls;
        ii.nurls = 1;
        ii.file = INTAKE_CLI_NAME;
        ii.line = (long)i + 1;
        /* Skipped, the number still taken: seq < nurls marks a command-line item. */
        if (!shard_mine(&in->s->shard, urls[0])) {
            w.seq++;
            continue;
        }
        if (fn(in, &ii, w.seq++, err) < 0)
            return -1;
    }
    if (in->fp == NULL)
        return 0;
    if (fseek(in->fp, 0, SEEK_SET) < 0)
        return errf(err, "%s: cannot read it again: %s", in->list_name, strerror(errno));
    clearerr(in->fp);
    return input_read(in->fp, in->s->input, walk_cb, &w, report, report_arg, err);
}

static void pass1_free(struct intake *in)
{
    free(in->recs);
    free(in->parts);
    free(in->cands);
    free(in->surl);
    fprint_set_free(&in->folders);
    in->surl = NULL;
    in->recs = in->parts = NULL;
    in->cands = NULL;
    in->nrecs = in->nparts = in->ncands = in->reccap = in->partcap = in->candcap = 0;
}

static void intake_release(struct intake *in)
{
    pass1_free(in);
    free(in->dup);
    free(in->sid);
    if (in->fp != NULL && in->fp != stdin)
        fclose(in->fp);
    store_close(in->wst);
    free(in);
}

/* A list on standard input is read more than once: keep a copy in an unlinked temporary file.
 * Only as much as input_read will look at is kept (input.h's bounds): past a line it would stop
 * at, or past the list's bound, the copy ends, so `-i - < /dev/zero` neither fills the disk nor
 * runs for ever; input_read then reports where it stopped. */
static FILE *spool_stdin(char *err)
{
    FILE *fp = tmpfile();
    char buf[65536];
    size_t n, total = 0, line = 0;

    if (fp == NULL) {
        errf(err, "cannot keep a copy of standard input: %s", strerror(errno));
        return NULL;
    }
    while (total <= input_max_bytes && line <= INPUT_MAX_SKIP &&
           (n = fread(buf, 1, sizeof buf, stdin)) > 0) {
        const char *nl = memrchr(buf, '\n', n);

        line = nl != NULL ? (size_t)(buf + n - nl - 1) : line + n;
        total += n;
        if (fwrite(buf, 1, n, fp) != n) {
            errf(err, "cannot keep a copy of standard input: %s", strerror(errno));
            fclose(fp);
            return NULL;
        }
    }
    if (ferror(stdin) || fflush(fp) != 0) {
        errf(err, "cannot read standard input: %s", strerror(errno));
        fclose(fp);
        return NULL;
    }
    return fp;
}

int intake_check(const struct settings *s, struct queue *q,
                 void (*report)(void *arg, const char *msg), void *report_arg, struct intake **out)
{
    struct intake *in = xcalloc(1, sizeof *in);
    char err[ERRLEN];
    int n, rc = 0;

    *out = NULL;
    in->s = s;
    in->q = q;
    in->st = queue_store(q);
    in->report = report;
    in->report_arg = report_arg;
    atomic_init(&in->stop, false);
    atomic_init(&in->status, 1);
    if (s->input != NULL) {
        bool is_stdin = strcmp(s->input, "-") == 0;

        in->list_name = is_stdin ? "<stdin>" : s->input;
        in->fp = is_stdin ? spool_stdin(err) : fopen(s->input, "r");
        if (in->fp == NULL) {
            if (is_stdin)
                intake_problem(in, "sluice: %s", err);
            else
                intake_problem(in, "sluice: cannot read %s: %s", s->input, strerror(errno));
            rc = -1;
            goto out;
        }
    }
    if (queue_total(q) > 0 && intake_scan_session_urls(in, err) < 0) {
        intake_problem(in, "sluice: %s", err);
        rc = -1;
        goto out;
    }
    n = intake_walk(in, intake_scan_item, on_report, in, err);
    free(in->surl);
    in->surl = NULL;
    if (n < 0) {
        intake_problem(in, "%s", err);
        rc = -1;
        goto out;
    }
    if (intake_scan_all(in, err) < 0 || (in->ncands > 0 && intake_confirm_cands(in, err) < 0)) {
        intake_problem(in, "sluice: %s", err);
        rc = -1;
        goto out;
    }
    pass1_free(in);
    if (in->problems > 0)
        goto out;
    if ((s->nurls > 0 && store_meta_input_id(in->st, INTAKE_CLI_NAME, &in->input_cli, err) < 0) ||
        (in->fp != NULL && store_meta_input_id(in->st, in->list_name, &in->input_list, err) < 0)) {
        intake_problem(in, "sluice: %s", err);
        rc = -1;
        goto out;
    }
    queue_expect(q, in->nnew);
    /* Even with nothing new, the writer looks at the session's finished items. */
    *out = in;
    return 0;
out:
    n = in->problems;
    intake_release(in);
    return rc < 0 ? -1 : n;
}

int intake_start(struct intake *in, int rootfd, char *err)
{
    in->rootfd = rootfd;
    in->wst = store_clone(in->st, err);
    if (in->wst == NULL)
        return -1;
    if (util_thread_start(&in->thread, intake_writer_main, in) != 0) {
        store_close(in->wst);
        in->wst = NULL;
        return errf(err, "cannot start the intake writer");
    }
    in->started = true;
    return 0;
}

int intake_status(struct intake *in, char *err)
{
    int st = atomic_load(&in->status);

    if (st < 0 && err != NULL)
        snprintf(err, ERRLEN, "%s", in->err);
    return st;
}

const char *intake_summary(struct intake *in)
{
    return atomic_load(&in->status) == 0 && in->summary[0] != '\0' ? in->summary : NULL;
}

void intake_stop(struct intake *in)
{
    if (in == NULL || !in->started)
        return;
    atomic_store(&in->stop, true);
    pthread_join(in->thread, NULL);
    in->started = false;
}

void intake_free(struct intake *in)
{
    if (in == NULL)
        return;
    intake_stop(in);
    intake_release(in);
}

int intake_load(const struct settings *s, struct queue *q, void (*report)(void *arg, const char *msg),
                void *report_arg)
{
    struct intake *in;
    char err[ERRLEN];
    int rc = intake_check(s, q, report, report_arg, &in);

    if (rc != 0 || in == NULL)
        return rc;
    /* On this thread, but through a connection of its own as the writer thread would. */
    in->rootfd = -1;
    in->wst = store_clone(in->st, err);
    if (in->wst == NULL) {
        report(report_arg, err);
        intake_release(in);
        return -1;
    }
    intake_writer_run(in);
    rc = atomic_load(&in->status);
    if (rc < 0)
        report(report_arg, in->err);
    intake_release(in);
    return rc < 0 ? -1 : 0;
}

/* ---- one item while the run goes on ---- */

/* The session's item that conflicts with path pa the way kind says (looked up by the url and
 * path indexes, not by a scan: a running loop cannot afford to read a million rows): 1 with
 * msg, 0 when none, -1 on error. */
static int conflict(struct store *st, enum cand_kind kind, const char *pa, const char *key,
                    bool under, char *msg, char *err)
{
    uint64_t id = 0;
    char *name = NULL, *pb = NULL, *wb;
    long line = 0;
    int r = under ? store_item_find_under(st, key, &id, err) : store_item_find_path(st, key, &id, err);

    if (r <= 0)
        return r;
    if ((r = store_item_where(st, id, &name, &line, &pb, err)) <= 0)
        return r;
    if (name != NULL)
        wb = xasprintf("item %llu (%s:%ld)", (unsigned long long)id, name, line);
    else
        wb = xasprintf("item %llu", (unsigned long long)id);
    r = pb != NULL && intake_confirm_conflict(kind, pa, pb, NULL, wb, msg);
    free(name);
    free(pb);
    free(wb);
    return r;
}

static bool ends_with_part(const char *p)
{
    size_t n = strlen(p);

    return n > 5 && strcmp(p + n - 5, ".part") == 0;
}

/* The checks of pass one and 1b for one new path against the session's items. */
static int check_one(struct store *st, const char *pa, char *err)
{
    char msg[ERRLEN * 2];
    char *key;
    int r;

    if ((r = conflict(st, C_SAME_S, pa, pa, false, msg, err)) != 0)
        goto out;
    if ((r = conflict(st, C_IS_FOLDER_S, pa, pa, true, msg, err)) != 0)
        goto out;
    key = xasprintf("%s.part", pa);
    r = conflict(st, C_HAS_PART_S, pa, key, false, msg, err);
    free(key);
    if (r != 0)
        goto out;
    if (ends_with_part(pa)) {
        key = xstrndup(pa, strlen(pa) - 5);
        r = conflict(st, C_PART_OF_S, pa, key, false, msg, err);
        free(key);
        if (r != 0)
            goto out;
    }
    /* Every folder on the way must not be another item's file. */
    for (const char *sl = strchr(pa, '/'); sl != NULL; sl = strchr(sl + 1, '/')) {
        key = xstrndup(pa, (size_t)(sl - pa));
        r = conflict(st, C_NEEDS_S, pa, key, false, msg, err);
        free(key);
        if (r != 0)
            goto out;
    }
    return 0;
out:
    if (r > 0)
        snprintf(err, ERRLEN, "%.*s", ERRLEN - 1, msg);    /* cut, as every ERRLEN message */
    return -1;
}

struct item *intake_add(const struct settings *s, struct queue *q, const char *url, const char *out,
                        char *err)
{
    struct store *st = queue_store(q);
    char *urls[1] = { (char *)url };
    struct input_item ii = { .urls = urls, .nurls = 1, .out = (char *)out, .file = "add", .line = 1 };
    struct url_parts parts;
    struct item *it;
    uint64_t other;
    char *path;
    int r;

    path = intake_scan_map(s, &ii, true, err);
    if (path == NULL)
        return NULL;
    /* A URL of the run is merged in a list; added on its own it is a mistake worth saying. */
    if ((r = store_item_find_url(st, url, &other, err)) != 0) {
        if (r > 0)
            errf(err, "already in the session as item %llu", (unsigned long long)other);
        free(path);
        return NULL;
    }
    if (check_one(st, path, err) < 0) {
        free(path);
        return NULL;
    }
    if (urlpath_parse(url, &parts, err) < 0) {
        free(path);
        return NULL;
    }
    it = xcalloc(1, sizeof *it);
    it->urls = xcalloc(1, sizeof *it->urls);
    it->urls[0] = xstrdup(url);
    it->nurls = 1;
    it->path = path;
    it->host = urlpath_host_key(&parts);
    urlpath_parts_free(&parts);
    it->size = -1;
    it->state = ITEM_QUEUED;
    if (queue_add(q, it, err) < 0) {
        item_free(it);
        return NULL;
    }
    return it;
}
