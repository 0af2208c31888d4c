/* Pass one of the intake (see intake.c): every line checked, and repeated URLs, shared paths, X
 * beside X.part and files where folders are needed found by sorting 24-byte fingerprint records
 * (fprint.h), the session's items by one sequential scan. What it finds are only candidates:
 * intake_confirm.c confirms them on the real strings before anything is reported. */
#include "intake_scan.h"
#include "fprint.h"
#include "intake_impl.h"
#include "queue.h"
#include "store.h"
#include "store_item.h"
#include "urlpath.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define CANDS_MAX 10000          /* conflicts confirmed and listed; more are only counted */

static bool ends_part(const char *p, size_t n)
{
    return n > 5 && strcmp(p + n - 5, ".part") == 0;
}

static bool reserved(const char *path)
{
    /* DIR/.sluice holds the session and the control socket. */
    return strcmp(path, ".sluice") == 0 || strncmp(path, ".sluice/", 8) == 0;
}

char *intake_scan_map(const struct settings *s, const struct input_item *ii, bool check_url,
                      char *err)
{
    char *path;

    /* A list's URLs were parsed by input_read; the others come straight from the operator. */
    if (check_url) {
        struct url_parts parts;

        if (urlpath_parse(ii->urls[0], &parts, err) < 0)
            return NULL;
        urlpath_parts_free(&parts);
    }
    path = urlpath_target(ii->urls[0], s->layout, ii->dir, ii->out, err);
    if (path != NULL && reserved(path)) {
        errf(err, "output path %s is reserved for sluice's own state", path);
        free(path);
        return NULL;
    }
    return path;
}

int intake_scan_item(struct intake *in, const struct input_item *ii, uint32_t seq, char *err)
{
    char perr[ERRLEN];
    struct fprint_rec r = { 0 };
    uint64_t stem = 0;
    char *path;
    size_t len;

    in->nseq = seq + 1;
    r.h = fprint_hash_str(ii->urls[0]);
    r.seq = seq;
    r.line = ii->line > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)ii->line;
    if (in->surl != NULL) {
        const struct fprint_rec *m = fprint_find(in->surl, in->nsurl, r.h, false);

        if (seq >= in->sidcap) {
            size_t cap = in->sidcap ? in->sidcap * 2 : 1024;

            in->sid = xrealloc(in->sid, cap * sizeof *in->sid);
            memset(in->sid + in->sidcap, 0, (cap - in->sidcap) * sizeof *in->sid);
            in->sidcap = cap;
        }
        /* Already in the session: it keeps its row and its path, so its path is not mapped
         * (the writer confirms the URL itself before skipping it). */
        if (m != NULL) {
            in->sid[seq] = m->seq;
            fprint_push(&in->recs, &in->nrecs, &in->reccap, r);
            return 0;
        }
    }
    path = intake_scan_map(in->s, ii, intake_is_cli(in, seq), perr);
    if (path == NULL) {
        intake_problem(in, "%s:%ld: %s", ii->file, ii->line, perr);
        return 0;
    }
    len = strlen(path);
    r.h2 = fprint_hash_path(path, &in->folders, seq, ends_part(path, len) ? &stem : NULL);
    fprint_push(&in->recs, &in->nrecs, &in->reccap, r);
    if (ends_part(path, len))
        fprint_push(&in->parts, &in->nparts, &in->partcap,
                    (struct fprint_rec){ .h = stem, .seq = seq });
    free(path);
    return 0;
}

static void cand(struct intake *in, enum cand_kind kind, uint32_t a, uint64_t b)
{
    if (in->ncands == CANDS_MAX) {
        in->extra++;
        return;
    }
    if (in->ncands == in->candcap) {
        in->candcap = in->candcap ? in->candcap * 2 : 64;
        in->cands = xrealloc(in->cands, in->candcap * sizeof *in->cands);
    }
    in->cands[in->ncands++] = (struct cand){ kind, a, b };
}

static bool is_new(const struct intake *in, uint32_t seq)
{
    return !intake_is_dup(in, seq) && intake_sid_of(in, seq) == 0;
}

struct scan {
    struct intake *in;
    struct fprint_rec *v;
    size_t n, cap;
    struct fprint_set folders;         /* scan two: folders the session's items need */
    struct fprint_rec *stems;           /* scan two: session paths ending in .part, by stem */
    size_t nstems, stemcap;
};

static int scan_url(uint64_t id, const char *url, const char *path, void *arg)
{
    struct scan *sc = arg;

    if (id <= UINT32_MAX && url != NULL)
        fprint_push(&sc->v, &sc->n, &sc->cap,
                    (struct fprint_rec){ .h = fprint_hash_str(url), .seq = (uint32_t)id });
    return 0;
}

static int scan_path(uint64_t id, const char *url, const char *path, void *arg)
{
    struct scan *sc = arg;
    uint64_t stem = 0;
    size_t len;

    if (id > UINT32_MAX || path == NULL)
        return 0;
    len = strlen(path);
    fprint_push(&sc->v, &sc->n, &sc->cap,
                (struct fprint_rec){ .h = fprint_hash_path(path, &sc->folders, (uint32_t)id,
                                                           ends_part(path, len) ? &stem : NULL),
                                     .seq = (uint32_t)id });
    if (ends_part(path, len))
        fprint_push(&sc->stems, &sc->nstems, &sc->stemcap,
                    (struct fprint_rec){ .h = stem, .seq = (uint32_t)id });
    return 0;
}

/* The session's URLs, to tell which of the input's are there already: one pass over the url
 * index, no lookups. */
int intake_scan_session_urls(struct intake *in, char *err)
{
    struct scan sc = { .in = in };

    if (store_item_scan(in->st, false, scan_url, &sc, err) < 0) {
        free(sc.v);
        return -1;
    }
    fprint_sort(sc.v, sc.n, false);
    in->surl = sc.v;
    in->nsurl = sc.n;
    if (in->surl == NULL)
        in->surl = xcalloc(1, sizeof *in->surl);
    return 0;
}

/* New items against the session's paths: the same target, X beside X.part, files and folders. */
static int check_session_paths(struct intake *in, const struct fprint_rec *nv, size_t nn,
                               char *err)
{
    struct scan sc = { .in = in };

    if (store_item_scan(in->st, true, scan_path, &sc, err) < 0)
        goto fail;
    fprint_sort(sc.v, sc.n, false);
    for (size_t i = 0; i < nn; i++) {
        const struct fprint_rec *m = fprint_find(sc.v, sc.n, nv[i].h2, false);
        const struct fprint_ent *f = fprint_set_get(&sc.folders, nv[i].h2);

        if (m != NULL)
            cand(in, C_SAME_S, nv[i].seq, m->seq);
        if (f != NULL && !sc.folders.full)
            cand(in, C_IS_FOLDER_S, nv[i].seq, f->who);
    }
    for (size_t i = 0; i < in->nparts; i++) {
        const struct fprint_rec *m;

        if (!is_new(in, in->parts[i].seq))
            continue;
        if ((m = fprint_find(sc.v, sc.n, in->parts[i].h, false)) != NULL)
            cand(in, C_PART_OF_S, in->parts[i].seq, m->seq);
    }
    for (size_t i = 0; i < sc.nstems; i++) {
        const struct fprint_rec *m = fprint_find(nv, nn, sc.stems[i].h, true);

        if (m != NULL)
            cand(in, C_HAS_PART_S, m->seq, sc.stems[i].seq);
    }
    if (!in->folders.full) {
        for (size_t i = 0; i < sc.n; i++) {
            const struct fprint_ent *f = fprint_set_get(&in->folders, sc.v[i].h);

            if (f != NULL && is_new(in, f->who))
                cand(in, C_NEEDS_S, f->who, sc.v[i].seq);
        }
    }
    free(sc.v);
    free(sc.stems);
    fprint_set_free(&sc.folders);
    return 0;
fail:
    free(sc.v);
    free(sc.stems);
    fprint_set_free(&sc.folders);
    return -1;
}

/* Fingerprint checks; nominates candidates for intake_confirm_cands. */
int intake_scan_all(struct intake *in, char *err)
{
    struct fprint_rec *nv;
    size_t nn = 0;

    in->dup = xcalloc((in->nseq + 7) / 8 + 1, 1);
    in->ndup = in->nseq;
    fprint_sort(in->recs, in->nrecs, false);
    for (size_t i = 1; i < in->nrecs; i++)
        if (in->recs[i].h == in->recs[i - 1].h)
            in->dup[in->recs[i].seq >> 3] |= (uint8_t)(1u << (in->recs[i].seq & 7));
    /* The new items to the front, sorted by path. */
    for (size_t i = 0; i < in->nrecs; i++)
        if (is_new(in, in->recs[i].seq))
            in->recs[nn++] = in->recs[i];
    nv = in->recs;
    in->nnew = nn;
    fprint_sort(nv, nn, true);
    for (size_t i = 1, first = 0; i < nn; i++) {
        if (nv[i].h2 != nv[first].h2)
            first = i;
        else
            cand(in, C_SAME, nv[i].seq, nv[first].seq);
    }
    for (size_t i = 0; i < in->nparts; i++) {
        const struct fprint_rec *x = &in->parts[i], *y;

        if (!is_new(in, x->seq) || (y = fprint_find(nv, nn, x->h, true)) == NULL)
            continue;
        if (x->seq > y->seq)
            cand(in, C_PART_OF, x->seq, y->seq);
        else
            cand(in, C_HAS_PART, y->seq, x->seq);
    }
    if (!in->folders.full) {
        for (size_t i = 0; i < nn; i++) {
            const struct fprint_ent *f = fprint_set_get(&in->folders, nv[i].h2);

            if (f == NULL || f->who == nv[i].seq || !is_new(in, f->who))
                continue;
            if (nv[i].seq > f->who)
                cand(in, C_IS_FOLDER, nv[i].seq, f->who);
            else
                cand(in, C_NEEDS, f->who, nv[i].seq);
        }
    }
    if (nn > 0 && queue_total(in->q) > 0 && check_session_paths(in, nv, nn, err) < 0)
        return -1;
    return 0;
}
