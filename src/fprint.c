/* Fingerprints and their in-place sort (see fprint.h). Moved out of intake.c unchanged. */
#include "fprint.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

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

uint64_t fprint_hash_str(const char *s)
{
    uint64_t h = FNV_OFFSET;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * FNV_PRIME;
    return fmix(h);
}

/* The path's fingerprint; each folder on the way ("a", "a/b" for "a/b/c") goes into folders, and
 * *stem receives the fingerprint of the path without ".part" when it ends so. FNV is a running
 * hash, so all of them come from one pass over the bytes. */
uint64_t fprint_hash_path(const char *p, struct fprint_set *folders, uint32_t who, uint64_t *stem)
{
    uint64_t h = FNV_OFFSET;
    size_t n = strlen(p);

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '/' && folders != NULL)
            fprint_set_add(folders, fmix(h), who);
        if (stem != NULL && i == n - 5)
            *stem = fmix(h);
        h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
    }
    return fmix(h);
}

void fprint_set_add(struct fprint_set *f, uint64_t h, uint32_t who)
{
    size_t i;

    if (f->full)
        return;
    if ((f->n + 1) * 2 > f->cap) {
        struct fprint_ent *old = f->v;
        size_t oldcap = f->cap;

        if (f->n + 1 > FPRINT_SET_MAX) {
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
    f->v[i] = (struct fprint_ent){ .h = h, .who = who, .used = 1 };
    f->n++;
}

const struct fprint_ent *fprint_set_get(const struct fprint_set *f, uint64_t h)
{
    if (f->cap == 0)
        return NULL;
    for (size_t i = h & (f->cap - 1); f->v[i].used; i = (i + 1) & (f->cap - 1))
        if (f->v[i].h == h)
            return &f->v[i];
    return NULL;
}

void fprint_set_free(struct fprint_set *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

/* ---- sorting fingerprints in place (qsort's merge sort would double the memory) ---- */

static bool rec_less(const struct fprint_rec *a, const struct fprint_rec *b, bool by_path)
{
    uint64_t x = by_path ? a->h2 : a->h, y = by_path ? b->h2 : b->h;

    return x < y || (x == y && a->seq < b->seq);
}

static void rec_swap(struct fprint_rec *a, struct fprint_rec *b)
{
    struct fprint_rec t = *a;

    *a = *b;
    *b = t;
}

void fprint_sort(struct fprint_rec *v, size_t n, bool by_path)
{
    while (n > 16) {
        size_t m = n / 2, i = 0, j = n - 1;
        struct fprint_rec pivot;

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
            fprint_sort(v, j + 1, by_path);
            v += j + 1;
            n -= j + 1;
        } else {
            fprint_sort(v + j + 1, n - j - 1, by_path);
            n = j + 1;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && rec_less(&v[k], &v[k - 1], by_path); k--)
            rec_swap(&v[k], &v[k - 1]);
}

/* The first record with this fingerprint, or NULL. */
const struct fprint_rec *fprint_find(const struct fprint_rec *v, size_t n, uint64_t h, bool by_path)
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

void fprint_push(struct fprint_rec **v, size_t *n, size_t *cap, struct fprint_rec r)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = r;
}
