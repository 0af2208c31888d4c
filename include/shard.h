#ifndef SLUICE_SHARD_H
#define SLUICE_SHARD_H
/* --shard K/N: which items of a list this worker takes, so that N workers given the same list
 * fetch every item exactly once (docs/scale.md#sharding). Pure functions, no I/O. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX 65536          /* N of --shard K/N at most */

struct shard {
    uint32_t k, n;               /* n == 0: no sharding, every item is ours */
};

/* FNV-1a, 64 bits, of the bytes of s (offset basis 0xcbf29ce484222325, prime 0x100000001b3):
 * simple, stable across runs, machines and versions, and written down in one line so that any
 * tool can compute it (docs/scale.md#sharding). */
uint64_t shard_hash(const char *s);

/* "K/N" (0 <= K < N <= SHARD_MAX) or "index/N", where index is taken from `index` (the
 * value of JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets; NULL when unset).
 * "off"/"none" clears it. Returns 0 or -1 with err (ERRLEN). */
int shard_parse(const char *spec, const char *index, struct shard *out, char *err);

/* True when the item whose first URL, as written in the list, is url belongs to shard sh:
 * shard_hash(url) % n == k. Always true without sharding. */
bool shard_mine(const struct shard *sh, const char *url);

/* "K/N", or "" without sharding; buf of at least 24 bytes. */
const char *shard_fmt(const struct shard *sh, char *buf, size_t len);

#endif
