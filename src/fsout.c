/* Safe creation of output files. Every path component is opened relative to its parent with
 * O_NOFOLLOW|O_DIRECTORY, so a symbolic link planted inside the root (or a race that swaps a
 * folder for one) can never redirect a write outside it. */
#include "fsout.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int mkdir_p(const char *dir, char *err)
{
    char *copy = xstrdup(dir);
    int rc = 0;

    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;

            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                rc = errf(err, "cannot create %s: %s", copy, strerror(errno));
                break;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(copy);
    return rc;
}

int fsout_root_open(const char *dir, int *rootfd, char *err)
{
    int fd;

    if (dir == NULL || *dir == '\0')
        dir = ".";
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir_p(dir, err) < 0)
            return -1;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        return errf(err, "cannot open output folder %s: %s", dir, strerror(errno));
    *rootfd = fd;
    return 0;
}

/* Opens the folder that holds relpath one component at a time, never through a symbolic link;
 * with create, missing folders are made on the way. */
static int walk(int rootfd, const char *relpath, bool create, int *dirfd, const char **base,
                int *errnum, char *err)
{
    const char *p = relpath, *slash;
    int cur = rootfd;
    char name[NAME_MAX + 1];

    *errnum = 0;
    while ((slash = strchr(p, '/')) != NULL) {
        size_t n = (size_t)(slash - p);
        int next;

        if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.')) {
            *errnum = EINVAL;
            errf(err, "unsafe path component in %s", relpath);
            goto fail;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, name, 0755) < 0 && errno != EEXIST) {
                *errnum = errno;
                errf(err, "cannot create folder %.*s: %s", (int)(slash - relpath), relpath,
                     strerror(errno));
                goto fail;
            }
            next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            struct stat st;

            *errnum = errno;
            /* O_NOFOLLOW|O_DIRECTORY on a symbolic link fails with ELOOP or ENOTDIR: say which. */
            if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                errf(err, "cannot open folder %.*s: it is a symbolic link (not followed)",
                     (int)(slash - relpath), relpath);
            else
                errf(err, "cannot open folder %.*s: %s", (int)(slash - relpath), relpath,
                     strerror(*errnum));
            goto fail;
        }
        if (cur != rootfd)
            close(cur);
        cur = next;
        p = slash + 1;
    }
    if (*p == '\0' || strlen(p) + strlen(FSOUT_PART_SUFFIX) > NAME_MAX) {
        *errnum = ENAMETOOLONG;
        errf(err, "bad file name in %s", relpath);
        goto fail;
    }
    if (cur == rootfd) {
        cur = dup(rootfd);
        if (cur < 0) {
            *errnum = errno;
            errf(err, "dup: %s", strerror(errno));
            return -1;
        }
    }
    *dirfd = cur;
    *base = p;
    return 0;
fail:
    if (cur != rootfd)
        close(cur);
    return -1;
}

int fsout_open_dir(int rootfd, const char *relpath, int *dirfd, const char **base, int *errnum,
                   char *err)
{
    return walk(rootfd, relpath, true, dirfd, base, errnum, err);
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a folder";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISLNK(m))
        return "a symbolic link";
    return "not a regular file";
}

int fsout_open_regular(int dirfd, const char *name, int flags, int *errnum, char *err)
{
    struct stat st;
    int f;

    /* O_NONBLOCK: opening a FIFO for writing would wait for a reader (and for reading, for a
     * writer) in a thread that a signal cannot interrupt; non-blocking, it fails or returns at
     * once, and fstat then refuses it. */
    f = openat(dirfd, name, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0) {
        *errnum = errno;
        if (errno == ELOOP)
            return errf(err, "cannot open %s: it is a symbolic link", name);
        if ((errno == ENXIO || errno == EISDIR || errno == ENODEV) &&
            fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
            *errnum = EINVAL;
            return errf(err, "cannot open %s: it is %s", name, kind_of(st.st_mode));
        }
        return errf(err, "cannot open %s: %s", name, strerror(errno));
    }
    if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
        *errnum = EINVAL;
        close(f);
        return errf(err, "cannot open %s: it is %s", name, kind_of(st.st_mode));
    }
    /* Regular files ignore O_NONBLOCK today; cleared so nothing depends on that. */
    if (fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK) < 0) {
        *errnum = errno;
        close(f);
        return errf(err, "cannot open %s: %s", name, strerror(errno));
    }
    return f;
}

static void part_name(const char *base, char out[NAME_MAX + 8])
{
    snprintf(out, NAME_MAX + 8, "%s%s", base, FSOUT_PART_SUFFIX);
}

int fsout_open_part(int dirfd, const char *base, bool truncate, int *fd, int64_t *size, int *errnum,
                    char *err)
{
    char name[NAME_MAX + 8];
    struct stat st;
    int f;

    /* The target is replaced by the rename at the end; a link there is replaced too, but a
     * FIFO, socket, device or folder is someone's on purpose: the item fails instead. */
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
        !S_ISLNK(st.st_mode)) {
        *errnum = EINVAL;
        return errf(err, "cannot write %s: it is %s", base, kind_of(st.st_mode));
    }
    part_name(base, name);
    /* O_TRUNC only once it is known to be a regular file. */
    f = fsout_open_regular(dirfd, name, O_WRONLY | O_CREAT, errnum, err);
    if (f < 0)
        return -1;
    if (fstat(f, &st) < 0 || (truncate && st.st_size > 0 && ftruncate(f, 0) < 0)) {
        *errnum = errno;
        close(f);
        return errf(err, "cannot empty %s: %s", name, strerror(errno));
    }
    if (truncate)
        st.st_size = 0;
    if (lseek(f, 0, SEEK_END) < 0) {
        *errnum = errno;
        close(f);
        return errf(err, "seek %s: %s", name, strerror(errno));
    }
    *fd = f;
    *size = (int64_t)st.st_size;
    return 0;
}

/* The boot a .part's tail was written in (docs/design.md#resume-and-incremental-sync): a power
 * cut is a new boot, so bytes written in this one are what write() put there, even past the last
 * flush. The kernel's boot_id is random per boot; without it nothing is tagged or trusted. */
#define PART_TAG "user.sluice.boot"

static char boot[64];
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;

static void read_boot(void)
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, boot, sizeof boot - 1) : -1;

    if (fd >= 0)
        close(fd);
    while (n > 0 && (boot[n - 1] == '\n' || boot[n - 1] == ' '))
        n--;
    boot[n > 0 ? n : 0] = '\0';
}

/* The value: the boot id, then optionally a newline and the validator of the response the
 * bytes came from. */
#define TAG_MAX 1024

void fsout_tag_part(int fd, const char *validator)
{
    char v[TAG_MAX];
    int n;

    pthread_once(&boot_once, read_boot);
    if (boot[0] == '\0')
        return;
    n = validator != NULL && validator[0] != '\0' ?
        snprintf(v, sizeof v, "%s\n%s", boot, validator) : snprintf(v, sizeof v, "%s", boot);
    if (n >= (int)sizeof v)      /* a validator this long: tag the boot alone */
        n = snprintf(v, sizeof v, "%s", boot);
    (void)fsetxattr(fd, PART_TAG, v, (size_t)n, 0);     /* ENOTSUP: never trusted */
}

bool fsout_part_tag(int fd, char *validator, size_t cap)
{
    char v[TAG_MAX];
    size_t b;
    ssize_t n;

    if (validator != NULL && cap > 0)
        validator[0] = '\0';
    pthread_once(&boot_once, read_boot);
    if (boot[0] == '\0')
        return false;
    b = strlen(boot);
    n = fgetxattr(fd, PART_TAG, v, sizeof v - 1);
    if (n < (ssize_t)b || memcmp(v, boot, b) != 0 || (n > (ssize_t)b && v[b] != '\n'))
        return false;
    v[n] = '\0';
    if (validator != NULL && cap > 0 && n > (ssize_t)b + 1)
        snprintf(validator, cap, "%s", v + b + 1);
    return true;
}

/* A .part that ranges of a segmented download are written into has holes until every range is
 * on disk: its end says nothing of what lies before it, whatever boot wrote it. Marked before
 * the first byte at an offset, never unmarked while it is a .part. */
#define PART_RANGES "user.sluice.ranges"

void fsout_mark_ranges(int fd)
{
    (void)fsetxattr(fd, PART_RANGES, "1", 1, 0);
}

bool fsout_part_has_ranges(int fd)
{
    char v[4];

    return fgetxattr(fd, PART_RANGES, v, sizeof v) >= 0 || errno == ERANGE;
}

int64_t fsout_part_size(int dirfd, const char *base)
{
    char name[NAME_MAX + 8];
    struct stat st;

    part_name(base, name);
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int fsout_write(int fd, const void *buf, size_t len, size_t *written)
{
    const char *p = buf;
    int rc = 0;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = errno;
            break;
        }
        if (n == 0) {
            rc = EIO;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (written != NULL)
        *written = (size_t)(p - (const char *)buf);
    return rc;
}

/* Opens the folder that holds relpath without creating anything; -1 when it is not there. */
static int open_parent_nocreate(int rootfd, const char *relpath, const char **base)
{
    char err[ERRLEN];
    int dirfd, errnum;

    return walk(rootfd, relpath, false, &dirfd, base, &errnum, err) == 0 ? dirfd : -1;
}

int fsout_unlink_part(int rootfd, const char *relpath)
{
    char name[NAME_MAX + 8];
    const char *base;
    int dirfd = open_parent_nocreate(rootfd, relpath, &base), rc = 0;

    if (dirfd < 0)
        return 0;
    part_name(base, name);
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        rc = errno;
    close(dirfd);
    return rc;
}

bool fsout_stat_path(int rootfd, const char *relpath, int64_t *size, int64_t *mtime)
{
    const char *base;
    int dirfd;
    bool found;

    /* A name directly under the root has no folder to walk (and no link to refuse on the way):
     * the common case of a flat layout costs one syscall instead of three. */
    if (strchr(relpath, '/') == NULL)
        return relpath[0] != '\0' && fsout_stat_target(rootfd, relpath, size, mtime);
    dirfd = open_parent_nocreate(rootfd, relpath, &base);
    /* Creates nothing: a check must not leave folders behind. */
    if (dirfd < 0)
        return false;
    found = fsout_stat_target(dirfd, base, size, mtime);
    close(dirfd);
    return found;
}

bool fsout_stat_target(int dirfd, const char *base, int64_t *size, int64_t *mtime)
{
    struct stat st;

    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (size != NULL)
        *size = (int64_t)st.st_size;
    if (mtime != NULL)
        *mtime = (int64_t)st.st_mtim.tv_sec;
    return true;
}

void fsout_set_mtime(int fd, int64_t mtime)
{
    if (mtime >= 0) {
        struct timespec ts[2] = { { .tv_sec = 0, .tv_nsec = UTIME_OMIT },
                                  { .tv_sec = (time_t)mtime, .tv_nsec = 0 } };

        /* Before the flush, so it covers the timestamp too. A failure only costs the mtime
         * (and with it If-Modified-Since on files without a record), not the data. */
        (void)futimens(fd, ts);
    }
}

int fsout_rename_part(int dirfd, const char *base)
{
    char name[NAME_MAX + 8];

    part_name(base, name);
    /* renameat replaces a symbolic link at the target itself, never what it points to. */
    return renameat(dirfd, name, dirfd, base) < 0 ? errno : 0;
}

int fsout_commit(int dirfd, int fd, const char *base, int64_t mtime)
{
    int rc = 0;

    fsout_set_mtime(fd, mtime);
    /* The marks are for resuming a .part; the file the user gets carries none of them. */
    (void)fremovexattr(fd, PART_TAG);
    (void)fremovexattr(fd, PART_RANGES);
    if (fsync(fd) < 0)
        rc = errno;
    if (close(fd) < 0 && rc == 0)
        rc = errno;
    if (rc != 0)
        return rc;
    return fsout_rename_part(dirfd, base);
}
