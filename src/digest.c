/* OpenSSL EVP digests updated while streaming (docs/design.md#files: no second read of the
 * file). */
#include "digest.h"
#include "fsout.h"
#include "util.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct digest {
    EVP_MD_CTX *sha;
    EVP_MD_CTX *md5;
    int64_t bytes;
};

/* Fetched once: OpenSSL 3 would look the algorithm up again at every EVP_DigestInit_ex with
 * EVP_sha256(), a cost paid per file. */
static EVP_MD *md_sha256, *md_md5;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

struct digest *digest_new(enum checksum_algo algo)
{
    struct digest *d = xcalloc(1, sizeof *d);

    pthread_once(&md_once, fetch_mds);
    d->sha = EVP_MD_CTX_new();
    if (d->sha == NULL || md_sha256 == NULL || EVP_DigestInit_ex(d->sha, md_sha256, NULL) != 1)
        fatal("cannot set up SHA-256");
    if (algo == CHECKSUM_MD5) {
        d->md5 = EVP_MD_CTX_new();
        if (d->md5 == NULL || md_md5 == NULL || EVP_DigestInit_ex(d->md5, md_md5, NULL) != 1)
            fatal("cannot set up MD5");
    }
    return d;
}

void digest_free(struct digest *d)
{
    if (d == NULL)
        return;
    EVP_MD_CTX_free(d->sha);
    EVP_MD_CTX_free(d->md5);
    free(d);
}

void digest_update(struct digest *d, const void *buf, size_t len)
{
    EVP_DigestUpdate(d->sha, buf, len);
    if (d->md5 != NULL)
        EVP_DigestUpdate(d->md5, buf, len);
    d->bytes += (int64_t)len;
}

int64_t digest_bytes(const struct digest *d)
{
    return d->bytes;
}

bool digest_final(struct digest *d, unsigned char *sha256, unsigned char *md5)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(d->sha, out, &len) != 1 || len != 32)
        fatal("SHA-256 failed");
    for (int i = 0; i < 32; i++)
        sha256[i] = out[i];
    if (d->md5 == NULL || md5 == NULL)
        return false;
    if (EVP_DigestFinal_ex(d->md5, out, &len) != 1 || len != 16)
        fatal("MD5 failed");
    for (int i = 0; i < 16; i++)
        md5[i] = out[i];
    return true;
}

struct digest *digest_of_part(int dirfd, const char *base, int64_t bytes, int64_t max,
                              enum checksum_algo algo, char *validator, size_t cap)
{
    struct digest *d;
    char name[4096];
    char *buf;
    int fd;
    int64_t left;

    snprintf(name, sizeof name, "%s%s", base, FSOUT_PART_SUFFIX);
    {
        char err[ERRLEN];
        int errnum;

        fd = fsout_open_regular(dirfd, name, O_RDONLY, &errnum, err);
    }
    if (fd < 0)
        return NULL;
    left = max > bytes && !fsout_part_has_ranges(fd) && fsout_part_tag(fd, validator, cap) ? max
                                                                                      : bytes;
    d = digest_new(algo);
    buf = xmalloc(1 << 20);
    while (left > 0) {
        ssize_t n = read(fd, buf, left < (1 << 20) ? (size_t)left : (size_t)(1 << 20));

        if (n <= 0)
            break;
        digest_update(d, buf, (size_t)n);
        left -= n;
    }
    free(buf);
    close(fd);
    if (digest_bytes(d) < bytes) {     /* shorter than recorded: not to be trusted */
        digest_free(d);
        return NULL;
    }
    return d;
}

struct digest *digest_rest_of_part(int dirfd, const char *base, struct digest *d, int64_t bytes)
{
    char name[4096], err[ERRLEN];
    int64_t pos = digest_bytes(d);
    char *buf;
    int fd, errnum;

    snprintf(name, sizeof name, "%s%s", base, FSOUT_PART_SUFFIX);
    if (pos > bytes || (fd = fsout_open_regular(dirfd, name, O_RDONLY, &errnum, err)) < 0) {
        digest_free(d);
        return NULL;
    }
    buf = xmalloc(1 << 20);
    while (pos < bytes) {
        ssize_t n = pread(fd, buf, bytes - pos < (1 << 20) ? (size_t)(bytes - pos) : (size_t)(1 << 20),
                          (off_t)pos);

        if (n <= 0)
            break;
        digest_update(d, buf, (size_t)n);
        pos += n;
    }
    free(buf);
    close(fd);
    if (pos < bytes) {      /* shorter than its ranges say: not to be trusted */
        digest_free(d);
        return NULL;
    }
    return d;
}
