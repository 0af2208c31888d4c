/* The run's plan, checked whole before the first request (SPEC §2: every malformed line listed,
 * nothing downloaded when anything is wrong), without holding a million strings: pass one keeps
 * 24 bytes per item (64-bit fingerprints of its URL and path, its sequence number and line) and
 * finds repeated URLs, shared paths, X beside X.part and files where folders are needed by sorting
 * them, and the session's items by one sequential scan. Fingerprints only nominate: every problem
 * is confirmed on the real strings before it is reported (pass 1b rereads the few items involved),
 * and every "already there" is confirmed by the writer against the row itself before it is skipped,
 * so a fingerprint collision costs time, never an item. */
#include "intake.h"
#include "input.h"
#include "item.h"
#include "queue.h"
#include "store.h"
#include "store_ckpt.h"
#include "store_item.h"
#include "store_meta.h"
#include "store_queue.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLI_NAME "<command line>"
#define FOLDERS_MAX (1u << 20)   /* folder fingerprints kept for the folder/file check */
#define CANDS_MAX 10000          /* conflicts confirmed and listed; more are only counted */
#define FIRST_BATCH_ROWS 500     /* the first commit comes at once: the engine starts on it */
#define BATCH_ROWS 20000
#define BATCH_MS 100             /* the loop may have to wait for a batch: keep it short */
#define YIELD_MS 50
#define FINISHED_CHUNK 4096      /* finished items looked at per read */

struct rec {
    uint64_t h, h2;              /* fingerprints: URL and path (session rows: path in h) */
    uint32_t seq;                /* item number in this input (session rows: id) */
    uint32_t line;
};

struct fent {
    uint64_t h;
    uint32_t who;                /* the first item needing this folder (session: id) */
    uint32_t used;
};

struct fset {
    struct fent *v;
    size_t cap, n;
    bool full;                   /* too many folders: the check is skipped */
};

enum cand_kind {
    C_SAME, C_PART_OF, C_HAS_PART, C_IS_FOLDER, C_NEEDS,       /* b is an item of this input */
    C_SAME_S, C_PART_OF_S, C_HAS_PART_S, C_IS_FOLDER_S, C_NEEDS_S, /* b is a session row id */
};

struct cand {
    enum cand_kind kind;
    uint32_t a;                  /* the item the problem is reported at */
    uint64_t b;
};

struct intake {
    const struct settings *s;
    struct queue *q;
    struct store *st;
    void (*report)(void *arg, const char *msg);
    void *report_arg;
    int problems;
    FILE *fp;
    const char *list_name;       /* as input_read shows it */
    uint32_t nseq;
    int64_t input_cli, input_list;
    /* pass one */
    struct rec *recs, *parts;
    size_t nrecs, reccap, nparts, partcap;
    struct fset folders;
    struct cand *cands;
    size_t ncands, candcap, extra;
    struct known *known;         /* pass 1b: the items whose strings are wanted */
    /* what pass two needs, by item number */
    uint8_t *dup;                /* bitmap: the URL came earlier in this input */
    uint32_t ndup;
    uint32_t *sid;               /* the session row with this URL, 0 = none; NULL: empty session */
    size_t sidcap;
    struct rec *surl;            /* pass one: fingerprints of the session's URLs (h, seq = id) */
    size_t nsurl;
    size_t nnew;
    /* pass two */
    struct store *wst;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int status;           /* 1 running, 0 finished, -1 failed */
    char err[ERRLEN];
    char summary[256];
    size_t stored, merged, requeued;
    int rootfd;                  /* -1: finished items are not looked at */
    long delta;                  /* queued count correction not yet handed to the queue */
    size_t batch_rows;
    int64_t batch_t0, t0;
    bool in_batch, batch_writes;  /* a transaction is open; it holds the write lock */
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

static void on_report(void *arg, const char *msg)
{
    struct intake *in = arg;

    in->report(in->report_arg, msg);
    in->problems++;
}

/* seq repeats a URL given earlier in this input (the list may have grown since: bounds). */
static bool is_dup(const struct intake *in, uint32_t seq)
{
    return in->dup != NULL && seq < in->ndup && (in->dup[seq >> 3] >> (seq & 7)) & 1;
}

static bool ends_part(const char *p, size_t n)
{
    return n > 5 && strcmp(p + n - 5, ".part") == 0;
}

static bool reserved(const char *path)
{
    /* DIR/.sluice holds the session and the control socket. */
    return strcmp(path, ".sluice") == 0 || strncmp(path, ".sluice/", 8) == 0;
}

/* ---- fingerprints ---- */

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = FNV_OFFSET;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return fmix(h);
}

static void fset_add(struct fset *f, uint64_t h, uint32_t who);

/* The path's fingerprint; each folder on the way ("a", "a/b" for "a/b/c") goes into folders, and
 * *stem receives the fingerprint of the path without ".part" when it ends so. FNV is a running
 * hash, so all of them come from one pass over the bytes. */
static uint64_t hash_path(const char *p, struct fset *folders, uint32_t who, uint64_t *stem)
{
    uint64_t h = FNV_OFFSET;
    size_t n = strlen(p);

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '/' && folders != NULL)
            fset_add(folders, fmix(h), who);
        if (stem != NULL && i == n - 5)
            *stem = fmix(h);
        h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    }
    return fmix(h);
}

static void fset_add(struct fset *f, uint64_t h, uint32_t who)
{
    size_t i;

    if (f->full)
        return;
    if ((f->n + 1) * 2 > f->cap) {
        struct fent *old = f->v;
        size_t oldcap = f->cap;

        if (f->n + 1 > FOLDERS_MAX) {
            f->full = true;
            free(f->v);
            f->v = NULL;
            f->cap = f->n = 0;
            return;
        }
        f->cap = f->cap ? f->cap * 2 : 64;
        f->v = xcalloc(f->cap, sizeof *f->v);
        for (size_t k = 0; k < oldcap; k++) {
            if (!old[k].used)
                continue;
            for (i = old[k].h & (f->cap - 1); f->v[i].used; i = (i + 1) & (f->cap - 1))
                ;
            f->v[i] = old[k];
        }
        free(old);
    }
    for (i = h & (f->cap - 1); f->v[i].used; i = (i + 1) & (f->cap - 1))
        if (f->v[i].h == h)
            return;              /* the first item needing it stays */
    f->v[i] = (struct fent){ .h = h, .who = who, .used = 1 };
    f->n++;
}

static const struct fent *fset_get(const struct fset *f, uint64_t h)
{
    if (f->cap == 0)
        return NULL;
    for (size_t i = h & (f->cap - 1); f->v[i].used; i = (i + 1) & (f->cap - 1))
        if (f->v[i].h == h)
            return &f->v[i];
    return NULL;
}

static void fset_free(struct fset *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

/* ---- sorting fingerprints in place (qsort's merge sort would double the memory) ---- */

static bool rec_less(const struct rec *a, const struct rec *b, bool by_path)
{
    uint64_t x = by_path ? a->h2 : a->h, y = by_path ? b->h2 : b->h;

    return x < y || (x == y && a->seq < b->seq);
}

static void rec_swap(struct rec *a, struct rec *b)
{
    struct rec t = *a;

    *a = *b;
    *b = t;
}

static void rec_sort(struct rec *v, size_t n, bool by_path)
{
    while (n > 16) {
        size_t m = n / 2, i = 0, j = n - 1;
        struct rec pivot;

        /* Median of three to the middle, then Hoare partition. */
        if (rec_less(&v[m], &v[0], by_path))
            rec_swap(&v[m], &v[0]);
        if (rec_less(&v[n - 1], &v[0], by_path))
            rec_swap(&v[n - 1], &v[0]);
        if (rec_less(&v[n - 1], &v[m], by_path))
            rec_swap(&v[n - 1], &v[m]);
        pivot = v[m];
        for (;;) {
            while (rec_less(&v[i], &pivot, by_path))
                i++;
            while (rec_less(&pivot, &v[j], by_path))
                j--;
            if (i >= j)
                break;
            rec_swap(&v[i], &v[j]);
            i++;
            j--;
        }
        /* Recurse into the smaller part, loop on the larger: the stack stays O(log n). */
        if (j + 1 < n - j - 1) {
            rec_sort(v, j + 1, by_path);
            v += j + 1;
            n -= j + 1;
        } else {
            rec_sort(v + j + 1, n - j - 1, by_path);
            n = j + 1;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && rec_less(&v[k], &v[k - 1], by_path); k--)
            rec_swap(&v[k], &v[k - 1]);
}

/* The first record with this fingerprint, or NULL. */
static const struct rec *rec_find(const struct rec *v, size_t n, uint64_t h, bool by_path)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;

        if ((by_path ? v[m].h2 : v[m].h) < h)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < n && (by_path ? v[lo].h2 : v[lo].h) == h ? &v[lo] : NULL;
}

static void rec_push(struct rec **v, size_t *n, size_t *cap, struct rec r)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = r;
}

/* ---- reading the input, the same way in every pass ---- */

typedef int (*walk_fn)(struct intake *in, const struct input_item *ii, uint32_t seq, char *err);

struct walk {
    struct intake *in;
    walk_fn fn;
    uint32_t seq;
};

static int walk_cb(const struct input_item *ii, void *arg, char *err)
{
    struct walk *w = arg;

    if (w->seq == UINT32_MAX)
        return errf(err, "%s: too many items", w->in->list_name);
    return w->fn(w->in, ii, w->seq++, err);
}

/* Command-line URLs first, then the list. Returns input_read's count of malformed lines, or -1. */
static int walk(struct intake *in, walk_fn fn, void (*report)(void *arg, const char *msg),
                void *report_arg, char *err)
{
    struct walk w = { in, fn, 0 };

    for (size_t i = 0; i < in->s->nurls; i++) {
        struct input_item ii = { 0 };
        char *urls[1] = { in->s->urls[i] };

        ii.urls = urls;
        ii.nurls = 1;
        ii.file = CLI_NAME;
        ii.line = (long)i + 1;
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

static bool is_cli(const struct intake *in, uint32_t seq)
{
    return seq < in->s->nurls;
}

/* ---- pass one ---- */

static int check_item(struct intake *in, const struct input_item *ii, uint32_t seq, char *err)
{
    char perr[ERRLEN];
    struct rec r = { 0 };
    uint64_t stem = 0;
    char *path;
    size_t len;

    in->nseq = seq + 1;
    r.h = hash_str(ii->urls[0]);
    r.seq = seq;
    r.line = ii->line > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)ii->line;
    if (in->surl != NULL) {
        const struct rec *m = rec_find(in->surl, in->nsurl, r.h, false);

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
            rec_push(&in->recs, &in->nrecs, &in->reccap, r);
            return 0;
        }
    }
    if (is_cli(in, seq)) {
        struct url_parts parts;

        if (urlpath_parse(ii->urls[0], &parts, perr) < 0) {
            problem(in, "%s:%ld: %s", CLI_NAME, ii->line, perr);
            return 0;
        }
        urlpath_parts_free(&parts);
    }
    path = urlpath_target(ii->urls[0], in->s->layout, ii->dir, ii->out, perr);
    if (path == NULL) {
        problem(in, "%s:%ld: %s", ii->file, ii->line, perr);
        return 0;
    }
    if (reserved(path)) {
        problem(in, "%s:%ld: output path %s is reserved for sluice's own state", ii->file, ii->line,
                path);
        free(path);
        return 0;
    }
    len = strlen(path);
    r.h2 = hash_path(path, &in->folders, seq, ends_part(path, len) ? &stem : NULL);
    rec_push(&in->recs, &in->nrecs, &in->reccap, r);
    if (ends_part(path, len))
        rec_push(&in->parts, &in->nparts, &in->partcap, (struct rec){ .h = stem, .seq = seq });
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

static uint32_t sid_of(const struct intake *in, uint32_t seq)
{
    return seq < in->sidcap ? in->sid[seq] : 0;
}

static bool is_new(const struct intake *in, uint32_t seq)
{
    return !is_dup(in, seq) && sid_of(in, seq) == 0;
}

struct scan {
    struct intake *in;
    struct rec *v;
    size_t n, cap;
    struct fset folders;         /* scan two: folders the session's items need */
    struct rec *stems;           /* scan two: session paths ending in .part, by stem */
    size_t nstems, stemcap;
};

static int scan_url(uint64_t id, const char *url, const char *path, void *arg)
{
    struct scan *sc = arg;

    if (id <= UINT32_MAX && url != NULL)
        rec_push(&sc->v, &sc->n, &sc->cap, (struct rec){ .h = hash_str(url), .seq = (uint32_t)id });
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
    rec_push(&sc->v, &sc->n, &sc->cap,
             (struct rec){ .h = hash_path(path, &sc->folders, (uint32_t)id,
                                          ends_part(path, len) ? &stem : NULL),
                           .seq = (uint32_t)id });
    if (ends_part(path, len))
        rec_push(&sc->stems, &sc->nstems, &sc->stemcap,
                 (struct rec){ .h = stem, .seq = (uint32_t)id });
    return 0;
}

/* The session's URLs, to tell which of the input's are there already: one pass over the url
 * index, no lookups. */
static int load_session_urls(struct intake *in, char *err)
{
    struct scan sc = { .in = in };

    if (store_item_scan(in->st, false, scan_url, &sc, err) < 0) {
        free(sc.v);
        return -1;
    }
    rec_sort(sc.v, sc.n, false);
    in->surl = sc.v;
    in->nsurl = sc.n;
    if (in->surl == NULL)
        in->surl = xcalloc(1, sizeof *in->surl);
    return 0;
}

/* New items against the session's paths: the same target, X beside X.part, files and folders. */
static int check_session_paths(struct intake *in, const struct rec *nv, size_t nn, char *err)
{
    struct scan sc = { .in = in };

    if (store_item_scan(in->st, true, scan_path, &sc, err) < 0)
        goto fail;
    rec_sort(sc.v, sc.n, false);
    for (size_t i = 0; i < nn; i++) {
        const struct rec *m = rec_find(sc.v, sc.n, nv[i].h2, false);
        const struct fent *f = fset_get(&sc.folders, nv[i].h2);

        if (m != NULL)
            cand(in, C_SAME_S, nv[i].seq, m->seq);
        if (f != NULL && !sc.folders.full)
            cand(in, C_IS_FOLDER_S, nv[i].seq, f->who);
    }
    for (size_t i = 0; i < in->nparts; i++) {
        const struct rec *m;

        if (!is_new(in, in->parts[i].seq))
            continue;
        if ((m = rec_find(sc.v, sc.n, in->parts[i].h, false)) != NULL)
            cand(in, C_PART_OF_S, in->parts[i].seq, m->seq);
    }
    for (size_t i = 0; i < sc.nstems; i++) {
        const struct rec *m = rec_find(nv, nn, sc.stems[i].h, true);

        if (m != NULL)
            cand(in, C_HAS_PART_S, m->seq, sc.stems[i].seq);
    }
    if (!in->folders.full) {
        for (size_t i = 0; i < sc.n; i++) {
            const struct fent *f = fset_get(&in->folders, sc.v[i].h);

            if (f != NULL && is_new(in, f->who))
                cand(in, C_NEEDS_S, f->who, sc.v[i].seq);
        }
    }
    free(sc.v);
    free(sc.stems);
    fset_free(&sc.folders);
    return 0;
fail:
    free(sc.v);
    free(sc.stems);
    fset_free(&sc.folders);
    return -1;
}

/* Fingerprint checks; nominates candidates for check_cands. */
static int check_all(struct intake *in, char *err)
{
    struct rec *nv;
    size_t nn = 0;

    in->dup = xcalloc((in->nseq + 7) / 8 + 1, 1);
    in->ndup = in->nseq;
    rec_sort(in->recs, in->nrecs, false);
    for (size_t i = 1; i < in->nrecs; i++)
        if (in->recs[i].h == in->recs[i - 1].h)
            in->dup[in->recs[i].seq >> 3] |= (uint8_t)(1u << (in->recs[i].seq & 7));
    /* The new items to the front, sorted by path. */
    for (size_t i = 0; i < in->nrecs; i++)
        if (is_new(in, in->recs[i].seq))
            in->recs[nn++] = in->recs[i];
    nv = in->recs;
    in->nnew = nn;
    rec_sort(nv, nn, true);
    for (size_t i = 1, first = 0; i < nn; i++) {
        if (nv[i].h2 != nv[first].h2)
            first = i;
        else
            cand(in, C_SAME, nv[i].seq, nv[first].seq);
    }
    for (size_t i = 0; i < in->nparts; i++) {
        const struct rec *x = &in->parts[i], *y;

        if (!is_new(in, x->seq) || (y = rec_find(nv, nn, x->h, true)) == NULL)
            continue;
        if (x->seq > y->seq)
            cand(in, C_PART_OF, x->seq, y->seq);
        else
            cand(in, C_HAS_PART, y->seq, x->seq);
    }
    if (!in->folders.full) {
        for (size_t i = 0; i < nn; i++) {
            const struct fent *f = fset_get(&in->folders, nv[i].h2);

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

/* ---- pass 1b: confirm candidates on the real strings ---- */

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

static void ignore_report(void *arg, const char *msg)
{
}

static bool under(const char *path, const char *folder)
{
    size_t n = strlen(folder);

    return strncmp(path, folder, n) == 0 && path[n] == '/';
}

static int check_cands(struct intake *in, char *err)
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
    if (walk(in, collect_item, ignore_report, NULL, err) < 0)
        rc = -1;
    in->known = NULL;
    for (size_t i = 0; rc == 0 && i < in->ncands; i++) {
        const struct cand *c = &in->cands[i];
        long ia = known_index(&k, c->a);
        long ib = c->kind < C_SAME_S ? known_index(&k, (uint32_t)c->b) : -1;
        const char *pa = ia >= 0 ? k.paths[ia] : NULL, *wa = ia >= 0 ? k.wheres[ia] : NULL;
        char *pb = NULL, *wb = NULL, *name = NULL;
        long line = 0;
        bool real = false;

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
        switch (c->kind) {
        case C_SAME:
        case C_SAME_S:
            if ((real = strcmp(pa, pb) == 0))
                problem(in, "%s: output path %s is also the target of %s", wa, pa, wb);
            break;
        case C_PART_OF:
        case C_PART_OF_S:
            if ((real = strlen(pa) == strlen(pb) + 5 && strncmp(pa, pb, strlen(pb)) == 0))
                problem(in, "%s: output path %s is the partial file of %s", wa, pa, wb);
            break;
        case C_HAS_PART:
        case C_HAS_PART_S:
            if ((real = strlen(pb) == strlen(pa) + 5 && strncmp(pa, pb, strlen(pa)) == 0))
                problem(in, "%s: output path %s.part is the target of %s", wa, pa, wb);
            break;
        case C_IS_FOLDER:
        case C_IS_FOLDER_S:
            if ((real = under(pb, pa)))
                problem(in, "%s: output path %s is a folder that %s needs", wa, pa, wb);
            break;
        case C_NEEDS:
        case C_NEEDS_S:
            if ((real = under(pa, pb)))
                problem(in, "%s: output path %s needs %s as a folder, but it is the target of %s",
                        wa, pa, pb, wb);
            break;
        }
        free(pb);
        free(wb);
    }
    if (rc == 0 && in->extra > 0)
        problem(in, "sluice: %zu more output path conflicts not listed", in->extra);
    for (size_t i = 0; i < k.n; i++) {
        free(k.paths[i]);
        free(k.wheres[i]);
    }
    free(k.paths);
    free(k.wheres);
    free(k.seqs);
    return rc;
}

static void pass1_free(struct intake *in)
{
    free(in->recs);
    free(in->parts);
    free(in->cands);
    free(in->surl);
    fset_free(&in->folders);
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

/* A list on standard input is read more than once: keep a copy in an unlinked temporary file. */
static FILE *spool_stdin(char *err)
{
    FILE *fp = tmpfile();
    char buf[65536];
    size_t n;

    if (fp == NULL) {
        errf(err, "cannot keep a copy of standard input: %s", strerror(errno));
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
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
                problem(in, "sluice: %s", err);
            else
                problem(in, "sluice: cannot read %s: %s", s->input, strerror(errno));
            rc = -1;
            goto out;
        }
    }
    if (queue_total(q) > 0 && load_session_urls(in, err) < 0) {
        problem(in, "sluice: %s", err);
        rc = -1;
        goto out;
    }
    n = walk(in, check_item, on_report, in, err);
    free(in->surl);
    in->surl = NULL;
    if (n < 0) {
        problem(in, "%s", err);
        rc = -1;
        goto out;
    }
    if (check_all(in, err) < 0 || (in->ncands > 0 && check_cands(in, err) < 0)) {
        problem(in, "sluice: %s", err);
        rc = -1;
        goto out;
    }
    pass1_free(in);
    if (in->problems > 0)
        goto out;
    if ((s->nurls > 0 && store_meta_input_id(in->st, CLI_NAME, &in->input_cli, err) < 0) ||
        (in->fp != NULL && store_meta_input_id(in->st, in->list_name, &in->input_list, err) < 0)) {
        problem(in, "sluice: %s", err);
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

/* ---- pass two ---- */

static int batch_end(struct intake *in, char *err)
{
    bool wrote = in->batch_writes;

    if (!in->in_batch)
        return 0;
    in->in_batch = in->batch_writes = false;
    if (store_commit(in->wst, err) < 0)
        return -1;
    if (!wrote)
        return 0;
    queue_rows_committed(in->q, in->delta);
    in->delta = 0;
    store_ckpt_wal_wait(in->wst, 2000);
    /* The loop wants to write (a completion, a retry): let it in before the next batch. */
    for (int i = 0; i < YIELD_MS && queue_loop_waiting(in->q); i++)
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    return 0;
}

/* Lookups share one read transaction; inserts need the write lock, which a read transaction
 * cannot take over once another connection has committed, so that one ends first. */
static int batch_begin(struct intake *in, bool write, char *err)
{
    int rc;

    if (in->in_batch && (in->batch_writes || !write))
        return 0;
    if (in->in_batch && batch_end(in, err) < 0)
        return -1;
    rc = write ? store_begin(in->wst, err) : store_begin_read(in->wst, err);
    if (rc > 0)
        return errf(err, "session %s stayed busy", store_path(in->wst));
    if (rc < 0)
        return -1;
    in->in_batch = true;
    in->batch_writes = write;
    in->batch_rows = 0;
    in->batch_t0 = mono_ms();
    return 0;
}

static int batch_step(struct intake *in, char *err)
{
    in->batch_rows++;
    if (in->batch_rows >= (in->batch_writes && in->stored <= FIRST_BATCH_ROWS ? FIRST_BATCH_ROWS
                                                                               : BATCH_ROWS) ||
        mono_ms() - in->batch_t0 >= BATCH_MS)
        return batch_end(in, err);
    return 0;
}

/* 1 when the URL is in the session (written by an earlier run or earlier in this one). */
static int known_url(struct intake *in, const char *url, uint32_t sid, char *err)
{
    uint64_t id;

    if (sid != 0) {
        char *u = NULL;
        int rc = store_item_url_of(in->wst, sid, &u, err);
        bool same = rc > 0 && strcmp(u, url) == 0;

        free(u);
        if (rc < 0)
            return -1;
        if (same)
            return 1;
    }
    return store_item_find_url(in->wst, url, &id, err);
}

static int store_one(struct intake *in, const struct input_item *ii, uint32_t seq, char *err)
{
    char perr[ERRLEN];
    struct url_parts parts;
    struct item it = { 0 };
    uint64_t id, other;
    bool announced = true;
    int rc;

    if (atomic_load(&in->stop))
        return errf(err, "stopped");
    if (is_dup(in, seq) || sid_of(in, seq) != 0) {
        if (batch_begin(in, false, err) < 0)
            return -1;
        rc = known_url(in, ii->urls[0], sid_of(in, seq), err);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            in->merged++;
            return batch_step(in, err);
        }
        announced = false;       /* fingerprints collided: it is new after all */
    }
    it.path = urlpath_target(ii->urls[0], in->s->layout, ii->dir, ii->out, perr);
    if (it.path == NULL)
        return errf(err, "%s:%ld: %s (the list changed while sluice ran?)", ii->file, ii->line,
                    perr);
    if (urlpath_parse(ii->urls[0], &parts, perr) < 0) {
        free(it.path);
        return errf(err, "%s:%ld: %s", ii->file, ii->line, perr);
    }
    it.urls = ii->urls;
    it.nurls = ii->nurls;
    it.host = urlpath_host_key(&parts);
    it.headers = ii->headers;
    it.nheaders = ii->nheaders;
    it.algo = ii->algo;
    memcpy(it.digest, ii->digest, sizeof it.digest);
    it.state = ITEM_QUEUED;
    it.size = -1;
    it.line = ii->line;
    rc = batch_begin(in, true, err);
    if (rc == 0)
        rc = store_item_insert(in->wst, &it, is_cli(in, seq) ? in->input_cli : in->input_list, 0,
                               &id, err);
    if (rc > 0) {
        /* Taken: the URL was merged after all, or a path conflict that pass one could not see. */
        if (store_item_find_url(in->wst, ii->urls[0], &other, err) > 0) {
            in->merged++;
            in->delta -= announced;
            rc = 0;
        } else {
            rc = errf(err, "%s:%ld: output path %s is also the target of another item (the list "
                      "changed while sluice ran?)", ii->file, ii->line, it.path);
        }
    } else if (rc == 0) {
        in->stored++;
        in->delta += !announced;
    }
    urlpath_parts_free(&parts);
    free(it.path);
    free(it.host);
    if (rc < 0)
        return -1;
    return batch_step(in, err);
}

struct finished {
    uint64_t id[FINISHED_CHUNK];
    size_t n;
    uint64_t last;
    int rootfd;
    bool overwrite, check_size;
};

static void on_finished(uint64_t id, const char *path, int64_t received, void *arg)
{
    struct finished *f = arg;
    struct stat sb;

    f->last = id;
    /* Done means the file is there with the recorded size (SPEC §5): anything else is fetched
     * again. Nothing follows a symbolic link here: it is not our file then. */
    if (!f->overwrite && fstatat(f->rootfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(sb.st_mode) && (!f->check_size || received <= 0 || sb.st_size == received))
        return;
    f->id[f->n++] = id;
}

/* The session's finished items whose files are gone (or all of them with --overwrite) go back to
 * the queue, a chunk at a time, while the engine runs. */
static int check_finished(struct intake *in, char *err)
{
    static const enum item_state states[] = { ITEM_DONE, ITEM_UNCHANGED };
    struct finished *f = xcalloc(1, sizeof *f);
    int rc = 0;

    f->rootfd = in->rootfd;
    f->overwrite = in->s->overwrite;
    for (size_t k = 0; k < ARRAY_LEN(states) && rc == 0; k++) {
        int got;

        f->last = 0;
        f->check_size = states[k] == ITEM_DONE;
        do {
            long moved = 0;

            if (atomic_load(&in->stop))
                goto out;
            f->n = 0;
            got = store_queue_finished(in->wst, states[k], f->last, FINISHED_CHUNK, on_finished, f,
                                       err);
            if (got < 0 || (f->n > 0 && batch_begin(in, true, err) < 0)) {
                rc = -1;
                break;
            }
            for (size_t i = 0; i < f->n; i++) {
                int r = store_queue_requeue_one(in->wst, f->id[i], states[k], err);

                if (r < 0) {
                    rc = -1;
                    break;
                }
                moved += r;
            }
            if (rc < 0)
                break;
            if (f->n > 0) {
                in->in_batch = in->batch_writes = false;
                if (store_commit(in->wst, err) < 0) {
                    rc = -1;
                    break;
                }
                in->requeued += (size_t)moved;
                queue_rows_requeued(in->q, states[k], moved);
                store_ckpt_wal_wait(in->wst, 2000);
            }
        } while (got == FINISHED_CHUNK);
    }
out:
    free(f);
    return rc;
}

static void writer_run(struct intake *in)
{
    char err[ERRLEN];
    int n;

    in->t0 = mono_ms();
    n = walk(in, store_one, ignore_report, NULL, err);
    if (n < 0 && atomic_load(&in->stop))
        n = 0;                   /* stopped: what is stored stays stored */
    if (n == 0 && batch_end(in, err) < 0)
        n = -1;
    if (n == 0 && in->rootfd >= 0 && check_finished(in, err) < 0)
        n = -1;
    if (n != 0) {
        if (n > 0)
            snprintf(err, sizeof err, "%s: %d malformed lines (the list changed while sluice ran?)",
                     in->list_name, n);
        if (in->in_batch) {
            store_rollback(in->wst);
            in->in_batch = in->batch_writes = false;
        }
        snprintf(in->err, sizeof in->err, "%s", err);
        queue_rows_committed(in->q, in->delta);
        atomic_store(&in->status, -1);
        return;
    }
    /* Worth a line for the operator only when it took a while. */
    if (mono_ms() - in->t0 >= 1000)
        snprintf(in->summary, sizeof in->summary,
             "sluice: input %s: %zu new item%s stored, %zu already in the session, %zu finished "
             "queued again (%.1f s)",
             atomic_load(&in->stop) ? "stopped" : "done", in->stored, in->stored == 1 ? "" : "s",
             in->merged, in->requeued, (double)(mono_ms() - in->t0) / 1000.0);
    if (in->stored > 100000)
        store_ckpt_soon(in->wst);
    queue_rows_committed(in->q, 0);
    atomic_store(&in->status, 0);
}

static void *writer_main(void *arg)
{
    /* Linux: a thread's own nice value. The loop (transfers, the TUI) comes first on a busy box. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    writer_run(arg);
    return NULL;
}

int intake_start(struct intake *in, int rootfd, char *err)
{
    in->rootfd = rootfd;
    in->wst = store_clone(in->st, err);
    if (in->wst == NULL)
        return -1;
    if (util_thread_start(&in->thread, writer_main, in) != 0) {
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
    writer_run(in);
    rc = atomic_load(&in->status);
    if (rc < 0)
        report(report_arg, in->err);
    intake_release(in);
    return rc < 0 ? -1 : 0;
}
