/* Opening a .part: where the descriptor stands and in which mode, for a new, an existing and an
 * emptied .part, and what is refused (a FIFO at the target or at the .part). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsout.h"
#include "util.h"

static char dir[] = "/tmp/sluice-test-fsout-XXXXXX";
static int dfd = -1;

static void put(const char *name, const char *data)
{
    int f = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(f >= 0);
    assert_int_equal(write(f, data, strlen(data)), (ssize_t)strlen(data));
    close(f);
}

static void test_new_part(void **state)
{
    char err[ERRLEN];
    int fd = -1, errnum = 0;
    int64_t size = -1;

    (void)state;
    assert_int_equal(fsout_open_part(dfd, "new.bin", false, true, &fd, &size, &errnum, err), 0);
    assert_int_equal(size, 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    assert_int_equal(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND), 0);
    assert_true((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY);
    close(fd);
}

static void test_existing_part(void **state)
{
    char err[ERRLEN];
    int fd = -1, errnum = 0;
    int64_t size = -1;

    (void)state;
    put("old.bin.part", "12345");
    assert_int_equal(fsout_open_part(dfd, "old.bin", false, true, &fd, &size, &errnum, err), 0);
    assert_int_equal(size, 5);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 5);      /* appends after what is there */
    close(fd);
    assert_int_equal(fsout_open_part(dfd, "old.bin", true, true, &fd, &size, &errnum, err), 0);
    assert_int_equal(size, 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), 0);      /* emptied */
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
}

static void test_refused(void **state)
{
    char err[ERRLEN];
    int fd = -1, errnum = 0;
    int64_t size = -1;

    (void)state;
    assert_int_equal(mkfifoat(dfd, "fifo.bin", 0644), 0);
    assert_int_equal(fsout_open_part(dfd, "fifo.bin", false, true, &fd, &size, &errnum, err), -1);
    assert_non_null(strstr(err, "FIFO"));
    assert_int_equal(mkfifoat(dfd, "p.bin.part", 0644), 0);
    assert_int_equal(fsout_open_part(dfd, "p.bin", false, true, &fd, &size, &errnum, err), -1);
    assert_int_equal(errnum, EINVAL);
}

/* The loop's look at the target says whether nothing is there; the writer then does not look
 * again (so a FIFO made in between is not seen: the check is the loop's). */
static void test_absent_target(void **state)
{
    char err[ERRLEN];
    int fd = -1, errnum = 0;
    int64_t size = -1, mtime = -1;
    bool absent = false;

    (void)state;
    assert_false(fsout_stat_path_or_absent(dfd, "none.bin", &size, &mtime, &absent));
    assert_true(absent);
    put("here.bin", "x");
    assert_true(fsout_stat_path_or_absent(dfd, "here.bin", &size, &mtime, &absent));
    assert_false(absent);
    assert_int_equal(size, 1);
    assert_int_equal(mkfifoat(dfd, "late.bin", 0644), 0);
    assert_false(fsout_stat_path_or_absent(dfd, "late.bin", &size, &mtime, &absent));
    assert_false(absent);                             /* something is there: checked again */
    assert_int_equal(fsout_open_part(dfd, "late.bin", false, true, &fd, &size, &errnum, err), -1);
    assert_int_equal(fsout_open_part(dfd, "late.bin", false, false, &fd, &size, &errnum, err), 0);
    close(fd);
    assert_false(fsout_stat_path_or_absent(dfd, "nofolder/x.bin", &size, &mtime, &absent));
    assert_false(absent);                             /* only a plain ENOENT in its folder */
}

static void test_regular_read(void **state)
{
    char err[ERRLEN], buf[8];
    int errnum = 0, fd;

    (void)state;
    put("r.txt", "abc");
    fd = fsout_open_regular(dfd, "r.txt", O_RDONLY, &errnum, err);
    assert_true(fd >= 0);
    assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    assert_int_equal(read(fd, buf, sizeof buf), 3);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_part),
        cmocka_unit_test(test_existing_part),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_absent_target),
        cmocka_unit_test(test_regular_read),
    };
    char cmd[64];
    int rc;

    if (mkdtemp(dir) == NULL)
        return 1;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(dfd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
