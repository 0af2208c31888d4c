/* writer: streams written and hashed by real worker threads into a real temporary folder, ended
 * either here (writer_close) or through the syncer (writer_commit) on a real event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fsout.h"
#include "loop.h"
#include "syncer.h"
#include "util.h"
#include "writer.h"

struct env {
    char dir[64];
    int rootfd;
    struct loop *loop;
    struct syncer *syncer;
    struct writer *writer;
    struct syncer_job *done;     /* the last job reported back */
    int ndone;
};

static void on_done(struct syncer_job *job, void *arg)
{
    struct env *e = arg;

    /* The job is freed after this returns: keep a copy. */
    free(e->done);
    e->done = xmalloc(sizeof *job);
    memcpy(e->done, job, sizeof *job);
    e->done->base = NULL;
    e->ndone++;
}

static void on_ready(void *arg)
{
    (void)arg;
}

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);

    snprintf(e->dir, sizeof e->dir, "/tmp/sluice-writer-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    e->rootfd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    e->loop = loop_new();
    e->syncer = syncer_new(e->loop, 1, on_done, e);
    e->writer = writer_new(e->loop, e->syncer, 2, on_ready, e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    char cmd[128];

    writer_free(e->writer);
    syncer_free(e->syncer);
    loop_free(e->loop);
    close(e->rootfd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    if (system(cmd) != 0)
        return -1;
    free(e->done);
    free(e);
    return 0;
}

/* Data of chunk i: sizes vary so chunk borders fall anywhere. */
static size_t fill(struct wchunk *c, int i)
{
    size_t n = 1000 + (size_t)(i * 7919) % 60000;

    if (n > c->cap)
        n = c->cap;
    for (size_t k = 0; k < n; k++)
        c->data[k] = (char)(i * 31 + (int)k);
    c->len = n;
    return n;
}

static void sha256_of(const unsigned char *buf, size_t len, unsigned char out[32])
{
    unsigned int n = 0;

    assert_int_equal(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL), 1);
}

static unsigned char *read_file(struct env *e, const char *rel, size_t *len)
{
    char path[256];
    struct stat st;
    unsigned char *buf;
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", e->dir, rel);
    if (stat(path, &st) < 0)
        return NULL;
    buf = xmalloc((size_t)st.st_size + 1);
    f = fopen(path, "rb");
    assert_non_null(f);
    *len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    return buf;
}

/* writer_chunk_add appends in pieces: every size around a piece's border lands whole and in
 * order, from any offset in the chunk; a chunk's data starts on a cache line. */
static void chunk_add_copies_every_byte(void **state)
{
    struct env *e = *state;
    static const size_t sizes[] = { 0, 1, 63, 2047, 2048, 2049, 4095, 4097, 10000, 65, 131072 };
    unsigned char *src = xmalloc(300000), *want = xmalloc(300000);
    struct wchunk *c = writer_chunk(e->writer, 256 * 1024);
    size_t at = 0;

    assert_int_equal((uintptr_t)c->data % WCHUNK_ALIGN, 0);
    for (size_t k = 0; k < 300000; k++)
        src[k] = (unsigned char)(k * 131 + 7);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        /* From an odd place in the source too: the copy must not rely on alignment. */
        const unsigned char *from = src + 1 + i * 3;

        writer_chunk_add(c, from, sizes[i]);
        memcpy(want + at, from, sizes[i]);
        at += sizes[i];
        assert_int_equal(c->len, at);
    }
    assert_memory_equal(c->data, want, at);
    writer_chunk_free(e->writer, c);
    free(src);
    free(want);
}

/* Writes n chunks to a new stream for rel; returns what was written (caller frees). */
static unsigned char *write_stream(struct env *e, struct wstream *s, int n, size_t *total)
{
    unsigned char *all = xmalloc((size_t)n * 65536);

    *total = 0;
    for (int i = 0; i < n; i++) {
        struct wchunk *c = writer_chunk(e->writer, 65536);
        size_t len = fill(c, i);

        memcpy(all + *total, c->data, len);
        *total += len;
        writer_write(s, c);
    }
    return all;
}

static void wait_done(struct env *e, int want)
{
    for (int i = 0; i < 2000 && e->ndone < want; i++)
        loop_run_once(e->loop, 10);
    assert_int_equal(e->ndone, want);
}

static void commit_is_in_order_and_hashed(void **state)
{
    struct env *e = *state;
    struct wstream *s = writer_open(e->writer, e->rootfd, "a/b/file.bin", true, 0,
                                    digest_new(CHECKSUM_SHA256));
    struct syncer_job *job = xcalloc(1, sizeof *job);
    size_t total, got;
    unsigned char *data = write_stream(e, s, 300, &total), *disk;
    unsigned char want[32];

    sha256_of(data, total, want);
    job->kind = SYNCER_COMMIT;
    job->fd = job->dirfd = -1;
    job->mtime = -1;
    job->algo = CHECKSUM_SHA256;
    memcpy(job->expect, want, 32);
    syncer_expect(e->syncer);
    writer_commit(s, job);
    wait_done(e, 1);
    assert_int_equal(e->done->result, 0);
    assert_int_equal(e->done->bytes, (int64_t)total);
    assert_memory_equal(e->done->sha256, want, 32);
    disk = read_file(e, "a/b/file.bin", &got);
    assert_non_null(disk);
    assert_int_equal(got, total);
    assert_memory_equal(disk, data, total);
    assert_null(read_file(e, "a/b/file.bin.part", &got));
    free(disk);
    free(data);
}

/* The loop wakes the workers once per turn (writer_kick before it sleeps): streams queued in one
 * turn are all done after a single kick, and a caller that waits without turning the loop
 * (engine_stop's syncer_drain) gets them through after writer_kick. */
static void one_kick_for_many_streams(void **state)
{
    struct env *e = *state;
    unsigned char want[8][32];
    size_t len[8];

    for (int i = 0; i < 8; i++) {
        char rel[32];
        struct syncer_job *job = xcalloc(1, sizeof *job);
        struct wstream *s;
        struct wchunk *c = writer_chunk(e->writer, 65536);

        snprintf(rel, sizeof rel, "kick%d.bin", i);
        s = writer_open(e->writer, e->rootfd, rel, true, 0, digest_new(CHECKSUM_SHA256));
        len[i] = fill(c, i);
        sha256_of((const unsigned char *)c->data, len[i], want[i]);
        job->kind = SYNCER_COMMIT;
        job->fd = job->dirfd = -1;
        job->mtime = -1;
        syncer_expect(e->syncer);
        writer_finish(s, c, job);
    }
    writer_kick(e->writer);
    syncer_drain(e->syncer);         /* no loop turn: collects on this thread */
    assert_int_equal(e->ndone, 8);
    for (int i = 0; i < 8; i++) {
        char rel[32];
        size_t got;
        unsigned char *disk, have[32];

        snprintf(rel, sizeof rel, "kick%d.bin", i);
        disk = read_file(e, rel, &got);
        assert_non_null(disk);
        assert_int_equal(got, len[i]);
        sha256_of(disk, got, have);
        assert_memory_equal(have, want[i], 32);
        free(disk);
    }
}

/* writer_finish: the last chunk goes with the commit, whether the stream is idle (a small file
 * in one chunk) or still writing earlier chunks; the file holds every byte in order. */
static void finish_with_last_chunk(void **state)
{
    struct env *e = *state;

    for (int n = 0; n <= 40; n += 40) {
        char rel[32];
        struct wstream *s;
        struct syncer_job *job = xcalloc(1, sizeof *job);
        size_t total = 0, got;
        unsigned char *data = NULL, *disk, *all;
        unsigned char want[32];
        struct wchunk *last;
        size_t len;

        snprintf(rel, sizeof rel, "fin%d.bin", n);
        s = writer_open(e->writer, e->rootfd, rel, true, 0, digest_new(CHECKSUM_SHA256));
        if (n > 0)
            data = write_stream(e, s, n, &total);
        last = writer_chunk(e->writer, 65536);
        len = fill(last, n);
        all = xmalloc(total + len);
        if (total > 0)
            memcpy(all, data, total);
        memcpy(all + total, last->data, len);
        total += len;
        sha256_of(all, total, want);
        job->kind = SYNCER_COMMIT;
        job->fd = job->dirfd = -1;
        job->mtime = -1;
        job->algo = CHECKSUM_SHA256;
        memcpy(job->expect, want, 32);
        syncer_expect(e->syncer);
        writer_finish(s, last, job);
        wait_done(e, n == 0 ? 1 : 2);
        assert_int_equal(e->done->result, 0);
        assert_int_equal(e->done->bytes, (int64_t)total);
        assert_memory_equal(e->done->sha256, want, 32);
        disk = read_file(e, rel, &got);
        assert_non_null(disk);
        assert_int_equal(got, total);
        assert_memory_equal(disk, all, total);
        free(disk);
        free(all);
        free(data);
    }
}

static void commit_with_wrong_checksum_is_refused(void **state)
{
    struct env *e = *state;
    struct wstream *s = writer_open(e->writer, e->rootfd, "bad.bin", true, 0,
                                    digest_new(CHECKSUM_SHA256));
    struct syncer_job *job = xcalloc(1, sizeof *job);
    size_t total, got;
    unsigned char *data = write_stream(e, s, 5, &total), *disk;

    job->kind = SYNCER_COMMIT;
    job->fd = job->dirfd = -1;
    job->mtime = -1;
    job->algo = CHECKSUM_SHA256;
    memset(job->expect, 0xab, 32);
    syncer_expect(e->syncer);
    writer_commit(s, job);
    wait_done(e, 1);
    assert_int_equal(e->done->result, EBADMSG);
    assert_non_null(strstr(e->done->msg, "checksum mismatch"));
    assert_false(e->done->permanent);
    /* Never renamed into place; the .part holds what came. */
    assert_null(read_file(e, "bad.bin", &got));
    disk = read_file(e, "bad.bin.part", &got);
    assert_non_null(disk);
    assert_int_equal(got, total);
    free(disk);
    free(data);
}

static void close_returns_the_digest_of_what_is_on_disk(void **state)
{
    struct env *e = *state;
    struct wstream *s = writer_open(e->writer, e->rootfd, "c.bin", true, 0,
                                    digest_new(CHECKSUM_NONE));
    struct digest *d = NULL;
    int64_t written = -1;
    char msg[ERRLEN];
    enum writer_fail kind;
    size_t total, got;
    unsigned char *data = write_stream(e, s, 40, &total), *disk;
    unsigned char want[32], have[32];

    assert_int_equal(writer_close(s, &d, &written, msg, &kind), 0);
    assert_int_equal(kind, WRITER_OK);
    assert_int_equal(written, (int64_t)total);
    assert_non_null(d);
    assert_int_equal(digest_bytes(d), (int64_t)total);
    digest_final(d, have, NULL);
    sha256_of(data, total, want);
    assert_memory_equal(have, want, 32);
    digest_free(d);
    disk = read_file(e, "c.bin.part", &got);
    assert_non_null(disk);
    assert_int_equal(got, total);
    assert_memory_equal(disk, data, total);
    free(disk);
    free(data);
}

static void resume_cuts_back_and_appends(void **state)
{
    struct env *e = *state;
    struct wstream *s = writer_open(e->writer, e->rootfd, "r.bin", true, 0, digest_new(CHECKSUM_NONE));
    struct digest *d = NULL;
    int64_t written;
    char msg[ERRLEN];
    enum writer_fail kind;
    size_t first, got;
    unsigned char *a = write_stream(e, s, 3, &first), *disk;

    assert_int_equal(writer_close(s, &d, &written, msg, &kind), 0);
    /* Garbage past what the digest covers (written after the last record) must go. */
    int fd = openat(e->rootfd, "r.bin.part", O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "junk", 4), 4);
    close(fd);
    s = writer_open(e->writer, e->rootfd, "r.bin", false, written, d);
    struct wchunk *c = writer_chunk(e->writer, 100);
    memcpy(c->data, "tail", 4);
    c->len = 4;
    writer_write(s, c);
    assert_int_equal(writer_close(s, &d, &written, msg, &kind), 0);
    assert_int_equal(written, (int64_t)first + 4);
    digest_free(d);
    disk = read_file(e, "r.bin.part", &got);
    assert_int_equal(got, first + 4);
    assert_memory_equal(disk, a, first);
    assert_memory_equal(disk + first, "tail", 4);
    free(disk);
    free(a);
}

static void shorter_part_asks_for_a_restart(void **state)
{
    struct env *e = *state;
    struct wstream *s;
    struct digest *d = NULL;
    int64_t written;
    char msg[ERRLEN];
    enum writer_fail kind;
    int fd = openat(e->rootfd, "s.bin.part", O_WRONLY | O_CREAT, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    s = writer_open(e->writer, e->rootfd, "s.bin", false, 1000, digest_new(CHECKSUM_NONE));
    assert_int_not_equal(writer_close(s, &d, &written, msg, &kind), 0);
    assert_int_equal(kind, WRITER_FAIL_RESTART);
    assert_int_equal(written, 0);
    digest_free(d);
}

static void symlink_in_the_path_is_permanent(void **state)
{
    struct env *e = *state;
    struct wstream *s;
    struct syncer_job *job = xcalloc(1, sizeof *job);
    char target[128];

    snprintf(target, sizeof target, "%s-outside", e->dir);
    assert_int_equal(symlinkat(target, e->rootfd, "link"), 0);
    s = writer_open(e->writer, e->rootfd, "link/x.bin", true, 0, digest_new(CHECKSUM_NONE));
    job->kind = SYNCER_COMMIT;
    job->fd = job->dirfd = -1;
    job->mtime = -1;
    syncer_expect(e->syncer);
    writer_commit(s, job);
    wait_done(e, 1);
    assert_int_not_equal(e->done->result, 0);
    assert_true(e->done->permanent);
    assert_non_null(strstr(e->done->msg, "symbolic link"));
    assert_int_equal(access(target, F_OK), -1);     /* nothing created outside the root */
}

/* Write n chunks of data into s, chunk i holding data[from + ...]: the chunks of one range. */
static void write_range(struct env *e, struct wstream *s, const unsigned char *data, size_t from,
                        size_t len)
{
    while (len > 0) {
        struct wchunk *c = writer_chunk(e->writer, 65536);
        size_t n = len < 50000 ? len : 50000;

        memcpy(c->data, data + from, n);
        c->len = n;
        writer_write(s, c);
        from += n;
        len -= n;
    }
}

/* Segmented downloads: three ranges written at their offsets by streams of their own, the last
 * one first, into a stale .part longer than the file; then the SHA-256 of the whole .part read
 * in order, and the commit that cuts it back to the file's size and checks the checksum. */
static void ranges_at_offsets_then_one_commit(void **state)
{
    struct env *e = *state;
    const size_t size = 1000000, cut1 = 300000, cut2 = 700000;
    unsigned char *data = xmalloc(size), want[32], *disk;
    struct wstream *r[3];
    struct digest *d, *first;
    int64_t written;
    char msg[ERRLEN];
    enum writer_fail kind;
    struct syncer_job *job = xcalloc(1, sizeof *job);
    int dirfd, fd;
    size_t got;

    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)(i * 131 + i / 4099);
    sha256_of(data, size, want);
    fd = openat(e->rootfd, "seg.bin.part", O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size + 5000), 0);       /* stale and longer */
    close(fd);
    r[2] = writer_open_at(e->writer, e->rootfd, "seg.bin", (int64_t)cut2, NULL);
    write_range(e, r[2], data, cut2, size - cut2);
    /* The first range is hashed as it comes (from 0, in order). */
    r[0] = writer_open_at(e->writer, e->rootfd, "seg.bin", 0, digest_new(CHECKSUM_SHA256));
    r[1] = writer_open_at(e->writer, e->rootfd, "seg.bin", (int64_t)cut1, NULL);
    write_range(e, r[1], data, cut1, cut2 - cut1);
    write_range(e, r[0], data, 0, cut1);
    assert_int_equal(writer_close(r[2], &d, &written, msg, &kind), 0);
    assert_null(d);
    assert_int_equal(written, (int64_t)(size - cut2));      /* counted from its offset */
    assert_int_equal(writer_close(r[0], &first, &written, msg, &kind), 0);
    assert_int_equal(written, (int64_t)cut1);
    assert_non_null(first);
    assert_int_equal(digest_bytes(first), (int64_t)cut1);
    assert_int_equal(writer_close(r[1], &d, &written, msg, &kind), 0);
    assert_null(d);
    assert_int_equal(written, (int64_t)(cut2 - cut1));

    /* Completed from where the first range's digest ends: the same SHA-256 as the whole read
     * (checked by the commit below); asked past the .part's end, nothing. */
    dirfd = dup(e->rootfd);
    d = digest_of_part(dirfd, "seg.bin", (int64_t)size, (int64_t)size, CHECKSUM_SHA256, NULL, 0);
    assert_non_null(d);
    assert_null(digest_rest_of_part(dirfd, "seg.bin", d, (int64_t)size + 6000));
    d = digest_rest_of_part(dirfd, "seg.bin", first, (int64_t)size);
    close(dirfd);
    assert_non_null(d);
    assert_int_equal(digest_bytes(d), (int64_t)size);
    r[0] = writer_open(e->writer, e->rootfd, "seg.bin", false, (int64_t)size, d);
    job->kind = SYNCER_COMMIT;
    job->fd = job->dirfd = -1;
    job->mtime = -1;
    job->algo = CHECKSUM_SHA256;
    memcpy(job->expect, want, 32);
    syncer_expect(e->syncer);
    writer_commit(r[0], job);
    wait_done(e, 1);
    assert_int_equal(e->done->result, 0);
    assert_int_equal(e->done->bytes, (int64_t)size);
    assert_memory_equal(e->done->sha256, want, 32);
    disk = read_file(e, "seg.bin", &got);
    assert_non_null(disk);
    assert_int_equal(got, size);
    assert_memory_equal(disk, data, size);
    free(disk);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(chunk_add_copies_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_is_in_order_and_hashed, setup, teardown),
        cmocka_unit_test_setup_teardown(finish_with_last_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(one_kick_for_many_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_with_wrong_checksum_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(close_returns_the_digest_of_what_is_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(resume_cuts_back_and_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(shorter_part_asks_for_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(symlink_in_the_path_is_permanent, setup, teardown),
        cmocka_unit_test_setup_teardown(ranges_at_offsets_then_one_commit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
