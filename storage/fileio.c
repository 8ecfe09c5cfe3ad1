/*
 * fileio.c: the POSIX method table and the fault-injecting wrapper.
 *
 * Invariants:
 *   1. No method here ever leaves its error in errno alone: failures come
 *      back as negated errno values, and errno is not relied upon after.
 *   2. EINTR is retried inside the POSIX table; callers never see it.
 *   3. The fault wrapper never lets a call reach the inner table once it is
 *      dead (past its crash point), except close, so the bytes on disk are
 *      exactly those written before the crash point.
 *   4. od_fio_write_atomic leaves either the old file or the complete new
 *      one under the final name, never a mixture, because the new content is
 *      fsynced before the rename and the directory is fsynced after.
 *
 * State of the fault wrapper:
 *
 *     LIVE --(armed fault matches)--> LIVE, call fails, counters move
 *     LIVE --(byte or call budget crossed)--> DEAD
 *     DEAD --(any call but close)--> DEAD, -EIO
 *
 * A dead wrapper is never revived; a test reopens the files with a fresh
 * table, which is what a restarted process would do.
 */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------- POSIX */

static int px_open(od_fio *io, const char *path, int flags, int mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

static int64_t px_pread(od_fio *io, int fd, void *buf, size_t len, int64_t off)
{
    ssize_t n;
    do
        n = pread(fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int64_t)n;
}

static int64_t px_pwrite(od_fio *io, int fd, const void *buf, size_t len, int64_t off)
{
    ssize_t n;
    do
        n = pwrite(fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : (int64_t)n;
}

static int px_fsync(od_fio *io, int fd)
{
    int rc;
    do
        rc = fdatasync(fd);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

static int px_ftruncate(od_fio *io, int fd, int64_t len)
{
    int rc;
    do
        rc = ftruncate(fd, (off_t)len);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : 0;
}

static void stat_to_fio(const struct stat *sb, od_fio_stat *st)
{
    st->size = (int64_t)sb->st_size;
    st->mtime_ms = (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
    st->is_dir = S_ISDIR(sb->st_mode);
}

static int px_fstat(od_fio *io, int fd, od_fio_stat *st)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -errno;
    stat_to_fio(&sb, st);
    return 0;
}

static int px_close(od_fio *io, int fd)
{
    /* Linux closes the fd even when close reports EINTR: never retry. */
    return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static int px_stat(od_fio *io, const char *path, od_fio_stat *st)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return -errno;
    stat_to_fio(&sb, st);
    return 0;
}

static int px_rename(od_fio *io, const char *from, const char *to)
{
    return rename(from, to) < 0 ? -errno : 0;
}

static int px_unlink(od_fio *io, const char *path)
{
    return unlink(path) < 0 ? -errno : 0;
}

static int px_mkdir(od_fio *io, const char *path, int mode)
{
    return mkdir(path, (mode_t)mode) < 0 ? -errno : 0;
}

static int px_rmdir(od_fio *io, const char *path)
{
    return rmdir(path) < 0 ? -errno : 0;
}

static int px_readdir(od_fio *io, const char *path, od_fio_dirent_fn fn, void *ctx)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -errno;
    int rc = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        rc = fn(ctx, de->d_name);
        if (rc != 0)
            break;
    }
    closedir(d);
    return rc;
}

static const od_fio_methods posix_methods = {
    .open = px_open,
    .pread = px_pread,
    .pwrite = px_pwrite,
    .fsync = px_fsync,
    .ftruncate = px_ftruncate,
    .fstat = px_fstat,
    .close = px_close,
    .stat = px_stat,
    .rename = px_rename,
    .unlink = px_unlink,
    .mkdir = px_mkdir,
    .rmdir = px_rmdir,
    .readdir = px_readdir,
};

static od_fio posix_fio = {&posix_methods};

od_fio *od_fio_posix(void)
{
    return &posix_fio;
}

/* ----------------------------------------------------------- helpers */

int64_t od_fio_pread_full(od_fio *io, int fd, void *buf, size_t len, int64_t off)
{
    size_t done = 0;
    while (done < len) {
        int64_t n = io->m->pread(io, fd, (uint8_t *)buf + done, len - done, off + (int64_t)done);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (int64_t)done;
}

int od_fio_pwrite_full(od_fio *io, int fd, const void *buf, size_t len, int64_t off)
{
    size_t done = 0;
    while (done < len) {
        int64_t n =
            io->m->pwrite(io, fd, (const uint8_t *)buf + done, len - done, off + (int64_t)done);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO;
        done += (size_t)n;
    }
    return 0;
}

int od_fio_fsync_dir(od_fio *io, const char *dir)
{
    int fd = io->m->open(io, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    int rc = io->m->fsync(io, fd);
    io->m->close(io, fd);
    return rc;
}

int od_fio_write_atomic(od_fio *io, const char *dir, const char *name, const void *data,
                        size_t len)
{
    char final_path[4096], tmp_path[4096];
    if (snprintf(final_path, sizeof final_path, "%s/%s", dir, name) >= (int)sizeof final_path ||
        snprintf(tmp_path, sizeof tmp_path, "%s/%s.tmp", dir, name) >= (int)sizeof tmp_path)
        return -ENAMETOOLONG;
    int fd = io->m->open(io, tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fd;
    int rc = od_fio_pwrite_full(io, fd, data, len, 0);
    if (rc == 0)
        rc = io->m->fsync(io, fd);
    int crc = io->m->close(io, fd);
    if (rc == 0)
        rc = crc;
    if (rc == 0)
        rc = io->m->rename(io, tmp_path, final_path);
    if (rc != 0) {
        io->m->unlink(io, tmp_path);
        return rc;
    }
    return od_fio_fsync_dir(io, dir);
}

int od_fio_read_file(od_fio *io, const char *path, size_t max_len, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = io->m->open(io, path, O_RDONLY, 0);
    if (fd < 0)
        return fd;
    od_fio_stat st;
    int rc = io->m->fstat(io, fd, &st);
    if (rc == 0 && (st.size < 0 || (uint64_t)st.size > max_len))
        rc = -EFBIG;
    char *buf = NULL;
    if (rc == 0) {
        buf = malloc((size_t)st.size + 1);
        if (buf == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        int64_t n = od_fio_pread_full(io, fd, buf, (size_t)st.size, 0);
        if (n < 0)
            rc = (int)n;
        else {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    io->m->close(io, fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    return 0;
}

/* ----------------------------------------------------- fault wrapper */

/* Decides whether a call of class `op` proceeds; returns 0 to proceed or
 * the negated errno to report. */
static int fault_gate_ex(od_fio_fault *f, uint32_t op, bool mutating)
{
    if (f->dead)
        return -EIO;
    f->calls++;
    if (mutating) {
        f->mutating_calls++;
        if (f->crash_after_calls >= 0 && f->mutating_calls > f->crash_after_calls) {
            f->dead = true;
            return -EIO;
        }
    }
    if ((op & f->fail_ops) && f->fail_after >= 0) {
        if (f->fail_after > 0) {
            f->fail_after--;
            return 0;
        }
        f->faults++;
        int e = f->fail_errno ? f->fail_errno : EIO;
        if (f->fail_once)
            f->fail_after = -1;
        return -e;
    }
    return 0;
}

static int fault_gate(od_fio_fault *f, uint32_t op)
{
    return fault_gate_ex(f, op, (op & OD_FIO_OP_MUTATING) != 0);
}

#define FAULT(io) ((od_fio_fault *)(void *)(io))

static int ft_open(od_fio *io, const char *path, int flags, int mode)
{
    od_fio_fault *f = FAULT(io);
    /* Creating or truncating a file changes the disk, so it spends the crash
     * budget of calls; a plain open does not. */
    int rc = fault_gate_ex(f, OD_FIO_OP_OPEN, (flags & (O_CREAT | O_TRUNC)) != 0);
    if (rc)
        return rc;
    return f->inner->m->open(f->inner, path, flags, mode);
}

static int64_t ft_pread(od_fio *io, int fd, void *buf, size_t len, int64_t off)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_PREAD);
    if (rc)
        return rc;
    return f->inner->m->pread(f->inner, fd, buf, len, off);
}

static int64_t ft_pwrite(od_fio *io, int fd, const void *buf, size_t len, int64_t off)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_PWRITE);
    if (rc)
        return rc;
    if (f->short_write_max > 0 && len > f->short_write_max)
        len = f->short_write_max;
    bool crash = false;
    if (f->crash_after_bytes >= 0 && f->bytes_written + (int64_t)len > f->crash_after_bytes) {
        len = (size_t)(f->crash_after_bytes - f->bytes_written);
        crash = true;
    }
    int64_t n = 0;
    if (len > 0) {
        n = f->inner->m->pwrite(f->inner, fd, buf, len, off);
        if (n > 0)
            f->bytes_written += n;
    }
    if (crash) {
        f->dead = true;
        return -EIO;
    }
    return n;
}

static int ft_fsync(od_fio *io, int fd)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_FSYNC);
    if (rc == 0)
        f->fsyncs++;
    if (rc == 0 && f->skip_fsync)
        return 0;
    return rc ? rc : f->inner->m->fsync(f->inner, fd);
}

static int ft_ftruncate(od_fio *io, int fd, int64_t len)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_FTRUNCATE);
    return rc ? rc : f->inner->m->ftruncate(f->inner, fd, len);
}

static int ft_fstat(od_fio *io, int fd, od_fio_stat *st)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_FSTAT);
    return rc ? rc : f->inner->m->fstat(f->inner, fd, st);
}

static int ft_close(od_fio *io, int fd)
{
    od_fio_fault *f = FAULT(io);
    return f->inner->m->close(f->inner, fd);
}

static int ft_stat(od_fio *io, const char *path, od_fio_stat *st)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_STAT);
    return rc ? rc : f->inner->m->stat(f->inner, path, st);
}

static int ft_rename(od_fio *io, const char *from, const char *to)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_RENAME);
    return rc ? rc : f->inner->m->rename(f->inner, from, to);
}

static int ft_unlink(od_fio *io, const char *path)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_UNLINK);
    return rc ? rc : f->inner->m->unlink(f->inner, path);
}

static int ft_mkdir(od_fio *io, const char *path, int mode)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_MKDIR);
    return rc ? rc : f->inner->m->mkdir(f->inner, path, mode);
}

static int ft_rmdir(od_fio *io, const char *path)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_RMDIR);
    return rc ? rc : f->inner->m->rmdir(f->inner, path);
}

static int ft_readdir(od_fio *io, const char *path, od_fio_dirent_fn fn, void *ctx)
{
    od_fio_fault *f = FAULT(io);
    int rc = fault_gate(f, OD_FIO_OP_READDIR);
    return rc ? rc : f->inner->m->readdir(f->inner, path, fn, ctx);
}

static const od_fio_methods fault_methods = {
    .open = ft_open,
    .pread = ft_pread,
    .pwrite = ft_pwrite,
    .fsync = ft_fsync,
    .ftruncate = ft_ftruncate,
    .fstat = ft_fstat,
    .close = ft_close,
    .stat = ft_stat,
    .rename = ft_rename,
    .unlink = ft_unlink,
    .mkdir = ft_mkdir,
    .rmdir = ft_rmdir,
    .readdir = ft_readdir,
};

void od_fio_fault_init(od_fio_fault *f, od_fio *inner)
{
    memset(f, 0, sizeof *f);
    f->io.m = &fault_methods;
    f->inner = inner;
    f->fail_after = -1;
    f->crash_after_bytes = -1;
    f->crash_after_calls = -1;
}

void od_fio_fault_clear(od_fio_fault *f)
{
    f->fail_ops = 0;
    f->fail_errno = 0;
    f->fail_after = -1;
    f->fail_once = false;
    f->short_write_max = 0;
}
