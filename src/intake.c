/* The run's plan, checked whole before the first request: SPEC §2 wants every malformed line
 * listed and nothing downloaded when any is wrong. Only the sets needed for the checks (URLs,
 * paths, folders) are held besides the queue itself. */
#include "intake.h"
#include "hmap.h"
#include "input.h"
#include "queue.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct intake {
    const struct settings *s;
    struct queue *q;
    struct hmap *urls;           /* url → "1" */
    struct hmap *files;          /* path → "FILE:LINE" (owned strings, freed at the end) */
    struct hmap *dirs;           /* folder → "FILE:LINE" of the first item under it */
    char **where;                /* all "FILE:LINE" strings, for freeing */
    size_t nwhere;
    int problems;
    void (*report)(void *arg, const char *msg);
    void *report_arg;
};

static void problem(struct intake *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct intake *in, const char *fmt, ...)
{
    char msg[ERRLEN * 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    in->report(in->report_arg, msg);
    in->problems++;
}

static char *remember(struct intake *in, const char *file, long line)
{
    char *w = xasprintf("%s:%ld", file, line);

    if ((in->nwhere & (in->nwhere - 1)) == 0)
        in->where = xrealloc(in->where, (in->nwhere ? in->nwhere * 2 : 1) * sizeof *in->where);
    in->where[in->nwhere++] = w;
    return w;
}

/* A target must not be a folder that another item needs, nor sit under another item's file. */
static int check_path(struct intake *in, const char *path, const char *where)
{
    const char *other;
    char *copy;
    size_t len = strlen(path);

    /* DIR/.sluice holds the session and the control socket. */
    if (strcmp(path, ".sluice") == 0 || strncmp(path, ".sluice/", 8) == 0) {
        problem(in, "%s: output path %s is reserved for sluice's own state", where, path);
        return -1;
    }
    /* X.part is X's file in progress: no item may take that name from another. */
    if (len > 5 && strcmp(path + len - 5, ".part") == 0) {
        char *stem = xstrndup(path, len - 5);

        other = hmap_get(in->files, stem);
        free(stem);
        if (other != NULL) {
            problem(in, "%s: output path %s is the partial file of %s", where, path, other);
            return -1;
        }
    }
    copy = xasprintf("%s.part", path);
    other = hmap_get(in->files, copy);
    free(copy);
    if (other != NULL) {
        problem(in, "%s: output path %s.part is the target of %s", where, path, other);
        return -1;
    }
    if ((other = hmap_get(in->files, path)) != NULL) {
        problem(in, "%s: output path %s is also the target of %s", where, path, other);
        return -1;
    }
    if ((other = hmap_get(in->dirs, path)) != NULL) {
        problem(in, "%s: output path %s is a folder that %s needs", where, path, other);
        return -1;
    }
    copy = xstrdup(path);
    for (char *p = strchr(copy, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if ((other = hmap_get(in->files, copy)) != NULL) {
            problem(in, "%s: output path %s needs %s as a folder, but it is the target of %s", where,
                    path, copy, other);
            free(copy);
            return -1;
        }
        *p = '/';
    }
    for (char *p = strchr(copy, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        hmap_put(in->dirs, copy, (void *)where);
        *p = '/';
    }
    free(copy);
    hmap_put(in->files, path, (void *)where);
    return 0;
}

static int add_item(struct intake *in, const struct input_item *ii, char *err)
{
    char perr[ERRLEN];
    const char *name = ii->file;
    struct url_parts parts;
    struct item *it;
    char *path, *where;

    if (hmap_get(in->urls, ii->urls[0]) != NULL)
        return 0;        /* repeated URL: merged into the first */
    path = urlpath_target(ii->urls[0], in->s->layout, ii->dir, ii->out, perr);
    if (path == NULL) {
        problem(in, "%s:%ld: %s", name, ii->line, perr);
        return 0;
    }
    where = remember(in, name, ii->line);
    if (check_path(in, path, where) < 0) {
        free(path);
        return 0;
    }
    if (urlpath_parse(ii->urls[0], &parts, perr) < 0) {
        problem(in, "%s: %s", where, perr);
        free(path);
        return 0;
    }
    hmap_put(in->urls, ii->urls[0], (void *)"1");
    if (in->problems > 0) {          /* keep checking, but build nothing that will not run */
        urlpath_parts_free(&parts);
        free(path);
        return 0;
    }
    it = xcalloc(1, sizeof *it);
    it->urls = xcalloc(ii->nurls, sizeof *it->urls);
    for (size_t i = 0; i < ii->nurls; i++)
        it->urls[i] = xstrdup(ii->urls[i]);
    it->nurls = ii->nurls;
    it->path = path;
    it->host = xstrdup(parts.host);
    urlpath_parts_free(&parts);
    if (ii->nheaders > 0) {
        it->headers = xcalloc(ii->nheaders, sizeof *it->headers);
        for (size_t i = 0; i < ii->nheaders; i++)
            it->headers[i] = xstrdup(ii->headers[i]);
        it->nheaders = ii->nheaders;
    }
    it->algo = ii->algo;
    memcpy(it->digest, ii->digest, sizeof it->digest);
    it->size = -1;
    it->line = ii->line;
    it->state = ITEM_QUEUED;
    queue_add(in->q, it);
    return 0;
}

static int on_item(const struct input_item *ii, void *arg, char *err)
{
    return add_item(arg, ii, err);
}

static void on_report(void *arg, const char *msg)
{
    struct intake *in = arg;

    in->report(in->report_arg, msg);
    in->problems++;
}

int intake_load(const struct settings *s, struct queue *q, void (*report)(void *arg, const char *msg),
                void *report_arg)
{
    struct intake in = { .s = s, .q = q, .report = report, .report_arg = report_arg };
    char err[ERRLEN];
    int rc = 0;

    in.urls = hmap_new();
    in.files = hmap_new();
    in.dirs = hmap_new();
    for (size_t i = 0; i < s->nurls; i++) {
        struct input_item ii = { 0 };
        char *urls[1] = { s->urls[i] };
        struct url_parts parts;

        ii.urls = urls;
        ii.nurls = 1;
        ii.file = "<command line>";
        ii.line = (long)i + 1;
        if (urlpath_parse(s->urls[i], &parts, err) < 0) {
            problem(&in, "<command line>:%zu: %s", i + 1, err);
            continue;
        }
        urlpath_parts_free(&parts);
        add_item(&in, &ii, err);
    }
    if (s->input != NULL) {
        bool is_stdin = strcmp(s->input, "-") == 0;
        FILE *fp = is_stdin ? stdin : fopen(s->input, "r");

        if (fp == NULL) {
            problem(&in, "sluice: cannot read %s: %s", s->input, strerror(errno));
            rc = -1;
        } else {
            int n = input_read(fp, s->input, on_item, &in, on_report, &in, err);

            if (n < 0) {
                problem(&in, "%s", err);
                rc = -1;
            }
            if (!is_stdin)
                fclose(fp);
        }
    }
    hmap_free(in.urls);
    hmap_free(in.files);
    hmap_free(in.dirs);
    for (size_t i = 0; i < in.nwhere; i++)
        free(in.where[i]);
    free(in.where);
    return rc < 0 ? -1 : in.problems;
}
