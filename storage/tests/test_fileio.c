/* The file I/O table: POSIX behaviour and every kind of injected fault. */
#include <errno.h>
#include <fcntl.h>

#include "fileio.h"
#include "od_test.h"
#include "st_testutil.h"

static void test_posix_roundtrip(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    od_fio *io = od_fio_posix();
    int fd = io->m->open(io, path, O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(od_fio_pwrite_full(io, fd, "hello world", 11, 0), 0);
    char buf[32] = {0};
    CHECK_EQ_INT(od_fio_pread_full(io, fd, buf, sizeof buf, 6), 5);
    CHECK_MEM(buf, "world", 5);
    od_fio_stat st;
    CHECK_EQ_INT(io->m->fstat(io, fd, &st), 0);
    CHECK_EQ_INT(st.size, 11);
    CHECK_EQ_INT(io->m->ftruncate(io, fd, 5), 0);
    CHECK_EQ_INT(io->m->fsync(io, fd), 0);
    CHECK_EQ_INT(io->m->close(io, fd), 0);
    CHECK_EQ_INT(io->m->stat(io, path, &st), 0);
    CHECK_EQ_INT(st.size, 5);
    CHECK_EQ_INT(io->m->open(io, "/nonexistent/x", O_RDONLY, 0), -ENOENT);
    CHECK_EQ_INT(od_fio_write_atomic(io, dir, "a", "xyz", 3), 0);
    char *text;
    size_t len;
    snprintf(path, sizeof path, "%s/a", dir);
    CHECK_EQ_INT(od_fio_read_file(io, path, 100, &text, &len), 0);
    CHECK(len == 3 && strcmp(text, "xyz") == 0);
    free(text);
    CHECK_EQ_INT(od_fio_read_file(io, path, 2, &text, &len), -EFBIG);
    st_rmtree(dir);
}

static int count_cb(void *ctx, const char *name)
{
    (void)name;
    (*(int *)ctx)++;
    return 0;
}

static void test_readdir_mkdir(void)
{
    char dir[256], sub[512];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK_EQ_INT(io->m->mkdir(io, sub, 0755), 0);
    CHECK_EQ_INT(io->m->mkdir(io, sub, 0755), -EEXIST);
    CHECK_EQ_INT(od_fio_write_atomic(io, dir, "one", "1", 1), 0);
    int n = 0;
    CHECK_EQ_INT(io->m->readdir(io, dir, count_cb, &n), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(io->m->rmdir(io, sub), 0);
    st_rmtree(dir);
}

static void test_short_writes(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.short_write_max = 3;
    od_fio *io = &f.io;
    int fd = io->m->open(io, path, O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(io->m->pwrite(io, fd, "abcdefgh", 8, 0), 3);
    CHECK_EQ_INT(od_fio_pwrite_full(io, fd, "abcdefghij", 10, 0), 0);
    char buf[16];
    CHECK_EQ_INT(od_fio_pread_full(io, fd, buf, 10, 0), 10);
    CHECK_MEM(buf, "abcdefghij", 10);
    io->m->close(io, fd);
    st_rmtree(dir);
}

static void test_fail_countdown(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_fio *io = &f.io;
    int fd = io->m->open(io, path, O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    f.fail_ops = OD_FIO_OP_PWRITE;
    f.fail_errno = ENOSPC;
    f.fail_after = 2;
    CHECK_EQ_INT(io->m->pwrite(io, fd, "a", 1, 0), 1);
    CHECK_EQ_INT(io->m->pwrite(io, fd, "b", 1, 1), 1);
    CHECK_EQ_INT(io->m->pwrite(io, fd, "c", 1, 2), -ENOSPC);
    CHECK_EQ_INT(io->m->pwrite(io, fd, "c", 1, 2), -ENOSPC);
    CHECK_EQ_INT(io->m->fsync(io, fd), 0);
    CHECK_EQ_INT(f.faults, 2);
    od_fio_fault_clear(&f);
    CHECK_EQ_INT(io->m->pwrite(io, fd, "c", 1, 2), 1);
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = EIO;
    f.fail_after = 0;
    f.fail_once = true;
    CHECK_EQ_INT(io->m->fsync(io, fd), -EIO);
    CHECK_EQ_INT(io->m->fsync(io, fd), 0);
    io->m->close(io, fd);
    st_rmtree(dir);
}

static void test_crash_point(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.crash_after_bytes = 5;
    od_fio *io = &f.io;
    int fd = io->m->open(io, path, O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(od_fio_pwrite_full(io, fd, "abc", 3, 0), 0);
    CHECK_EQ_INT(od_fio_pwrite_full(io, fd, "defgh", 5, 3), -EIO);
    CHECK(f.dead);
    CHECK_EQ_INT(io->m->ftruncate(io, fd, 0), -EIO);
    CHECK_EQ_INT(io->m->close(io, fd), 0);
    od_fio_stat st;
    od_fio *px = od_fio_posix();
    CHECK_EQ_INT(px->m->stat(px, path, &st), 0);
    CHECK_EQ_INT(st.size, 5); /* exactly the budget reached the disk */

    od_fio_fault g;
    od_fio_fault_init(&g, od_fio_posix());
    g.crash_after_calls = 1;
    io = &g.io;
    fd = io->m->open(io, path, O_RDWR, 0); /* not mutating */
    REQUIRE(fd >= 0);
    CHECK_EQ_INT(io->m->ftruncate(io, fd, 1), 0);
    CHECK_EQ_INT(io->m->fsync(io, fd), -EIO);
    CHECK(g.dead);
    io->m->close(io, fd);
    st_rmtree(dir);
}

static void test_atomic_write_failure_keeps_old(void)
{
    char dir[256], path[512];
    st_tmpdir(dir);
    od_fio *px = od_fio_posix();
    CHECK_EQ_INT(od_fio_write_atomic(px, dir, "ck", "old", 3), 0);
    uint32_t ops[] = {OD_FIO_OP_OPEN, OD_FIO_OP_PWRITE, OD_FIO_OP_FSYNC, OD_FIO_OP_RENAME};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        od_fio_fault f;
        od_fio_fault_init(&f, px);
        f.fail_ops = ops[i];
        f.fail_after = 0;
        f.fail_errno = EIO;
        CHECK(od_fio_write_atomic(&f.io, dir, "ck", "new!", 4) < 0);
        char *text;
        size_t len;
        snprintf(path, sizeof path, "%s/ck", dir);
        CHECK_EQ_INT(od_fio_read_file(px, path, 100, &text, &len), 0);
        CHECK(strcmp(text, "old") == 0);
        free(text);
        od_fio_stat st;
        snprintf(path, sizeof path, "%s/ck.tmp", dir);
        CHECK_EQ_INT(px->m->stat(px, path, &st), -ENOENT);
    }
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_posix_roundtrip), OD_CASE(test_readdir_mkdir), OD_CASE(test_short_writes),
             OD_CASE(test_fail_countdown), OD_CASE(test_crash_point),
             OD_CASE(test_atomic_write_failure_keeps_old))
