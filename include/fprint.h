#ifndef SLUICE_FPRINT_H
#define SLUICE_FPRINT_H
/* Fixed-size fingerprints of URLs and paths, for the intake's pass one (intake.c): 64-bit hashes
 * of the strings, records of them sorted in place, and an open-addressing set of the folders the
 * paths need. A fingerprint only nominates: two equal ones may still be different strings, so a
 * caller confirms on the real strings before it acts. Pure: no I/O, no globals. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPRINT_SET_MAX (1u << 20) /* folder fingerprints kept for the folder/file check */

struct fprint_rec {
    uint64_t h, h2;              /* fingerprints: URL and path (session rows: path in h) */
    uint32_t seq;                /* item number in this input (session rows: id) */
    uint32_t line;
};

struct fprint_ent {
    uint64_t h;
    uint32_t who;                /* the first item needing this folder (session: id) */
    uint32_t used;
};

/* Zero-initialised, it is an empty set. */
struct fprint_set {
    struct fprint_ent *v;
    size_t cap, n;
    bool full;                   /* too many folders: the check is skipped */
};

/* The fingerprint of a string (FNV-1a, then a 64-bit finaliser). */
uint64_t fprint_hash_str(const char *s);
/* The path's fingerprint (the same as fprint_hash_str's); each folder on the way ("a", "a/b" for
 * "a/b/c") goes into folders (unless NULL) for who, and *stem (unless NULL) receives the
 * fingerprint of the path without its last 5 bytes (".part"). */
uint64_t fprint_hash_path(const char *p, struct fprint_set *folders, uint32_t who, uint64_t *stem);

/* Adds h for who; an h already there keeps its first who. Past FPRINT_SET_MAX entries the set
 * frees its memory, stays empty and sets full. */
void fprint_set_add(struct fprint_set *f, uint64_t h, uint32_t who);
/* The entry with this fingerprint, or NULL. */
const struct fprint_ent *fprint_set_get(const struct fprint_set *f, uint64_t h);
void fprint_set_free(struct fprint_set *f);

/* Sorts in place by h (by h2 when by_path), then by seq; O(log n) stack, no extra memory. */
void fprint_sort(struct fprint_rec *v, size_t n, bool by_path);
/* In v sorted so: the first record with this fingerprint, or NULL. */
const struct fprint_rec *fprint_find(const struct fprint_rec *v, size_t n, uint64_t h,
                                     bool by_path);
/* Appends r to the growing array *v (*n used of *cap). */
void fprint_push(struct fprint_rec **v, size_t *n, size_t *cap, struct fprint_rec r);

#endif
