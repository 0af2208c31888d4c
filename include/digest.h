#ifndef SLUICE_DIGEST_H
#define SLUICE_DIGEST_H
/* The running digests of a .part: SHA-256 always (docs/design.md#files: recorded for every file),
 * MD5 too when the input gave an md5 checksum. They cover exactly the first `bytes` bytes of the
 * .part, so a transfer can resume by Range and still end with the digest of the whole file. Not
 * thread-safe: one thread at a time (the loop, or the writer thread that owns the stream). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "input.h"

struct digest;

struct digest *digest_new(enum checksum_algo algo);
void digest_free(struct digest *d);
void digest_update(struct digest *d, const void *buf, size_t len);
int64_t digest_bytes(const struct digest *d);
/* Closes the digests: sha256 (32 bytes) always, md5 (16 bytes) when it was kept and md5 != NULL.
 * Returns false when there was no MD5 to give. The digest cannot be updated afterwards. */
bool digest_final(struct digest *d, unsigned char *sha256, unsigned char *md5);
/* Reads the first `bytes` of BASE.part in dirfd into a new digest (for a resume after the running
 * digest was lost, e.g. after a restart). When the .part was written in this boot
 * (fsout_part_tag) it reads on to its end, up to `max` bytes: what came after the last record
 * is kept too (docs/design.md#resume-and-incremental-sync), and the tag's validator goes to
 * validator (cap bytes; "" when none or not tagged). NULL when the .part is missing or shorter
 * than `bytes`. Blocking: for worker threads. */
struct digest *digest_of_part(int dirfd, const char *base, int64_t bytes, int64_t max,
                              enum checksum_algo algo, char *validator, size_t cap);
/* d covers the .part's first digest_bytes(d) bytes: it is completed with the rest, up to bytes
 * (a segmented download whose first range was hashed as it came). d itself, or NULL (d freed)
 * when the .part is missing or shorter. Blocking: for worker threads. */
struct digest *digest_rest_of_part(int dirfd, const char *base, struct digest *d, int64_t bytes);

#endif
