#ifndef SLUICE_FSOUT_H
#define SLUICE_FSOUT_H
/* Output files under the root (README.md#output-files, docs/design.md#files): folders are created
 * and opened one component at a time with O_NOFOLLOW, so nothing is written outside the root and no
 * symbolic link inside it is followed; data streams into NAME.part; a finished file is made durable
 * and renamed by the worker thread (fsync never runs on the loop). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FSOUT_PART_SUFFIX ".part"

/* Creates the root (and its parents) if missing, opens it as a directory. */
int fsout_root_open(const char *dir, int *rootfd, char *err);

/* Opens (creating as needed) the folder that holds relpath, without following symbolic links.
 * On success *dirfd is that folder and *base points into relpath at the file name.
 * A component that exists as a non-folder or a symbolic link is an error (errno kept in *errnum). */
int fsout_open_dir(int rootfd, const char *relpath, int *dirfd, const char **base, int *errnum,
                   char *err);

/* Opens BASE.part in dirfd for writing (created 0644 when missing, never through a symbolic link,
 * and only when it is a regular file; a target BASE that is there and neither a regular file nor
 * a symbolic link is refused too). truncate: start from zero. *size receives the current length. */
int fsout_open_part(int dirfd, const char *base, bool truncate, int *fd, int64_t *size, int *errnum,
                    char *err);

/* Opens name in dirfd with flags (O_CREAT makes it 0644), never through a symbolic link and
 * never blocking on a FIFO: anything but a regular file is refused, saying what it is. Returns
 * the descriptor (blocking mode), or -1 with *errnum and err. */
int fsout_open_regular(int dirfd, const char *name, int flags, int *errnum, char *err);

/* Size of the regular file BASE.part, or -1 when there is none. */
/* Marks the open .part as written in this boot, with the validator ("E" and a strong ETag, or
 * "L" and a Last-Modified date; NULL or "" for none) of the response its bytes come from;
 * called before writing past what the session recorded. A failure (no xattr support) only
 * means the tail is not trusted later. */
void fsout_tag_part(int fd, const char *validator);
/* The .part was tagged in this boot: every byte in it is what a write() of ours put there
 * (docs/design.md#resume-and-incremental-sync). Its validator goes to validator (cap bytes;
 * "" when none), when not NULL. */
bool fsout_part_tag(int fd, char *validator, size_t cap);
/* The .part holds ranges of a segmented download (writer_open_at marks it before writing at an
 * offset): its tail is never trusted past the record, whatever its tag. */
void fsout_mark_ranges(int fd);
bool fsout_part_has_ranges(int fd);
int64_t fsout_part_size(int dirfd, const char *base);

/* Writes all of buf (retrying short writes). Returns 0 or the errno; *written (may be NULL)
 * receives what reached the file either way, so a full disk keeps what fitted. */
int fsout_write(int fd, const void *buf, size_t len, size_t *written);

/* True when a regular file named base exists in dirfd; *size and *mtime receive its size and
 * modification time (seconds) when not NULL. */
bool fsout_stat_target(int dirfd, const char *base, int64_t *size, int64_t *mtime);

/* Deletes relpath's .part if there is one, creating nothing on the way. Returns 0 or errno. */
int fsout_unlink_part(int rootfd, const char *relpath);
/* The same for a path under the root, creating nothing on the way. */
bool fsout_stat_path(int rootfd, const char *relpath, int64_t *size, int64_t *mtime);

/* The durable finish, run by the worker: set mtime (when >= 0), fsync, close fd, rename
 * BASE.part over BASE. The caller fsyncs the folder afterwards (batched). Returns 0 or errno. */
int fsout_commit(int dirfd, int fd, const char *base, int64_t mtime);
/* The pieces of fsout_commit, for a worker that flushes many files with one syncfs. */
void fsout_set_mtime(int fd, int64_t mtime);
int fsout_rename_part(int dirfd, const char *base);

#endif
