/* Pass 1b of the intake (see intake.c): fingerprints only nominate, so every conflict pass one
 * found is confirmed on the real strings before it is reported: the input is read once more for
 * the few items involved, and session rows are read by id. A collision costs time, never an
 * item. */
#include "intake_confirm.h"
#include "intake_impl.h"
#include "store.h"
#include "store_item.h"
#include "urlpath.h"
#include "util.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct known {
    uint32_t *seqs;              /* sorted */
    char **paths, **wheres;
    size_t n;
};

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static long known_index(const struct known *k, uint32_t seq)
{
    const uint32_t *p = bsearch(&seq, k->seqs, k->n, sizeof *k->seqs, cmp_u32);

    return p != NULL ? (long)(p - k->seqs) : -1;
}

static int collect_item(struct intake *in, const struct input_item *ii, uint32_t seq, char *err)
{
    struct known *k = in->known;
    long i = known_index(k, seq);
    char perr[ERRLEN];

    if (i >= 0 && k->paths[i] == NULL) {
        k->paths[i] = urlpath_target(ii->urls[0], in->s->layout, ii->dir, ii->out, perr);
        k->wheres[i] = xasprintf("%s:%ld", ii->file, ii->line);
    }
    return 0;
}

static bool under(const char *path, const char *folder)
{
    size_t n = strlen(folder);

    return strncmp(path, folder, n) == 0 && path[n] == '/';
}

bool intake_confirm_conflict(enum cand_kind kind, const char *pa, const char *pb, const char *wa,
                             const char *wb, char *msg)
{
    const char *sep = wa != NULL ? ": " : "";
    size_t la = strlen(pa), lb = strlen(pb);

    if (wa == NULL)
        wa = "";
    switch (kind) {
    case C_SAME:
    case C_SAME_S:
        if (strcmp(pa, pb) != 0)
            return false;
        snprintf(msg, ERRLEN * 2, "%s%soutput path %s is also the target of %s", wa, sep, pa, wb);
        return true;
    case C_PART_OF:
    case C_PART_OF_S:
        if (!(la == lb + 5 && strncmp(pa, pb, lb) == 0 && strcmp(pa + lb, ".part") == 0))
            return false;
        snprintf(msg, ERRLEN * 2, "%s%soutput path %s is the partial file of %s", wa, sep, pa, wb);
        return true;
    case C_HAS_PART:
    case C_HAS_PART_S:
        if (!(lb == la + 5 && strncmp(pa, pb, la) == 0 && strcmp(pb + la, ".part") == 0))
            return false;
        snprintf(msg, ERRLEN * 2, "%s%soutput path %s.part is the target of %s", wa, sep, pa, wb);
        return true;
    case C_IS_FOLDER:
    case C_IS_FOLDER_S:
        if (!under(pb, pa))
            return false;
        snprintf(msg, ERRLEN * 2, "%s%soutput path %s is a folder that %s needs", wa, sep, pa, wb);
        return true;
    case C_NEEDS:
    case C_NEEDS_S:
        if (!under(pa, pb))
            return false;
        snprintf(msg, ERRLEN * 2, "%s%soutput path %s needs %s as a folder, but it is the target of %s",
                 wa, sep, pa, pb, wb);
        return true;
    }
    return false;
}

int intake_confirm_cands(struct intake *in, char *err)
{
    struct known k = { 0 };
    int rc = 0;

    k.seqs = xcalloc(in->ncands * 2 + 1, sizeof *k.seqs);
    for (size_t i = 0; i < in->ncands; i++) {
        k.seqs[k.n++] = in->cands[i].a;
        if (in->cands[i].kind < C_SAME_S)
            k.seqs[k.n++] = (uint32_t)in->cands[i].b;
    }
    qsort(k.seqs, k.n, sizeof *k.seqs, cmp_u32);
    {
        size_t u = 0;

        for (size_t i = 0; i < k.n; i++)
            if (u == 0 || k.seqs[u - 1] != k.seqs[i])
                k.seqs[u++] = k.seqs[i];
        k.n = u;
    }
    k.paths = xcalloc(k.n + 1, sizeof *k.paths);
    k.wheres = xcalloc(k.n + 1, sizeof *k.wheres);
    in->known = &k;
    if (intake_walk(in, collect_item, intake_ignore_report, NULL, err) < 0)
        rc = -1;
    in->known = NULL;
    for (size_t i = 0; rc == 0 && i < in->ncands; i++) {
        const struct cand *c = &in->cands[i];
        long ia = known_index(&k, c->a);
        long ib = c->kind < C_SAME_S ? known_index(&k, (uint32_t)c->b) : -1;
        const char *pa = ia >= 0 ? k.paths[ia] : NULL, *wa = ia >= 0 ? k.wheres[ia] : NULL;
        char *pb = NULL, *wb = NULL, *name = NULL;
        char msg[ERRLEN * 2];
        long line = 0;

        if (pa == NULL)
            continue;
        if (c->kind < C_SAME_S) {
            if (ib < 0 || k.paths[ib] == NULL)
                continue;
            pb = xstrdup(k.paths[ib]);
            wb = xstrdup(k.wheres[ib]);
        } else {
            int r = store_item_where(in->st, c->b, &name, &line, &pb, err);

            if (r < 0) {
                rc = -1;
                break;
            }
            if (r == 0 || pb == NULL) {
                free(name);
                free(pb);
                continue;
            }
            wb = xasprintf("%s:%ld (in the session from an earlier run)",
                           name != NULL ? name : "<session>", line);
            free(name);
        }
        if (intake_confirm_conflict(c->kind, pa, pb, wa, wb, msg))
            intake_problem(in, "%s", msg);
        free(pb);
        free(wb);
    }
    if (rc == 0 && in->extra > 0) {
        intake_problem(in, "sluice: %zu more output path conflict%s not listed", in->extra,
                       in->extra == 1 ? "" : "s");
        /* Each of them is a problem of the input: the count says how many there are in all. */
        in->problems += (int)(in->extra > (size_t)INT_MAX / 2 ? INT_MAX / 2 : in->extra) - 1;
    }
    for (size_t i = 0; i < k.n; i++) {
        free(k.paths[i]);
        free(k.wheres[i]);
    }
    free(k.paths);
    free(k.wheres);
    free(k.seqs);
    return rc;
}
