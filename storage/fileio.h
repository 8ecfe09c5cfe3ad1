/*
 * The storage layer's only door to the file system.
 *
 * Every open, read, write, sync, truncate, rename, unlink, mkdir and
 * directory listing made by storage/ goes through an od_fio method table, so
 * a test can swap the table for one that fails, shortens or stops I/O at a
 * chosen point. Nothing in storage/ calls the POSIX file API directly.
 *
 * Conventions: every method returns a non-negative value on success and a
 * negated errno on failure (as the kernel does), never -1 with errno set;
 * that keeps the error in the return value where a wrapper can rewrite it.
 * File descriptors are plain ints so the result of a read can be handed to
 * sendfile(2) unchanged.
 *
 * Indexes are read into memory with pread rather than mmapped: a mapped file
 * turns an I/O error into SIGBUS, which no fault-injection test can observe
 * as a return value.
 */
#ifndef ODRADEK_STORAGE_FILEIO_H
#define ODRADEK_STORAGE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct od_fio od_fio;

typedef struct od_fio_stat {
    int64_t size;
    int64_t mtime_ms;
    bool is_dir;
} od_fio_stat;

/* Called once per directory entry other than "." and ".."; a non-zero
 * return stops the listing and becomes its result. */
typedef int (*od_fio_dirent_fn)(void *ctx, const char *name);

typedef struct od_fio_methods {
    int (*open)(od_fio *io, const char *path, int flags, int mode);
    int64_t (*pread)(od_fio *io, int fd, void *buf, size_t len, int64_t off);
    int64_t (*pwrite)(od_fio *io, int fd, const void *buf, size_t len, int64_t off);
    int (*fsync)(od_fio *io, int fd);
    int (*ftruncate)(od_fio *io, int fd, int64_t len);
    int (*fstat)(od_fio *io, int fd, od_fio_stat *st);
    int (*close)(od_fio *io, int fd);
    int (*stat)(od_fio *io, const char *path, od_fio_stat *st);
    int (*rename)(od_fio *io, const char *from, const char *to);
    int (*unlink)(od_fio *io, const char *path);
    int (*mkdir)(od_fio *io, const char *path, int mode);
    int (*rmdir)(od_fio *io, const char *path);
    int (*readdir)(od_fio *io, const char *path, od_fio_dirent_fn fn, void *ctx);
} od_fio_methods;

struct od_fio {
    const od_fio_methods *m;
};

/* The real thing: a process-wide, stateless POSIX implementation. */
od_fio *od_fio_posix(void);

/* Reads exactly len bytes unless end of file comes first; returns the count
 * read (short only at EOF) or a negated errno. */
int64_t od_fio_pread_full(od_fio *io, int fd, void *buf, size_t len, int64_t off);

/* Writes all len bytes, retrying short writes; returns 0 or a negated errno
 * (a zero-byte write counts as -EIO so a stuck device cannot spin us). */
int od_fio_pwrite_full(od_fio *io, int fd, const void *buf, size_t len, int64_t off);

/* fsyncs a directory so a create, rename or unlink inside it is durable. */
int od_fio_fsync_dir(od_fio *io, const char *dir);

/* Replaces dir/name with data, atomically and durably: writes dir/name.tmp,
 * fsyncs it, renames it over dir/name and fsyncs dir. On failure the old file
 * is untouched and the temporary is removed (best effort). */
int od_fio_write_atomic(od_fio *io, const char *dir, const char *name, const void *data,
                        size_t len);

/* Reads a whole small file into a malloc'd, NUL-terminated buffer (*out,
 * *len); fails with -EFBIG past max_len. */
int od_fio_read_file(od_fio *io, const char *path, size_t max_len, char **out, size_t *len);

/* ------------------------------------------------------- fault injection */

/* Operation classes a fault can target. */
enum {
    OD_FIO_OP_OPEN = 1u << 0,
    OD_FIO_OP_PREAD = 1u << 1,
    OD_FIO_OP_PWRITE = 1u << 2,
    OD_FIO_OP_FSYNC = 1u << 3,
    OD_FIO_OP_FTRUNCATE = 1u << 4,
    OD_FIO_OP_FSTAT = 1u << 5,
    OD_FIO_OP_STAT = 1u << 6,
    OD_FIO_OP_RENAME = 1u << 7,
    OD_FIO_OP_UNLINK = 1u << 8,
    OD_FIO_OP_MKDIR = 1u << 9,
    OD_FIO_OP_RMDIR = 1u << 10,
    OD_FIO_OP_READDIR = 1u << 11,
    /* Everything that changes what is on disk. */
    OD_FIO_OP_MUTATING = OD_FIO_OP_PWRITE | OD_FIO_OP_FSYNC | OD_FIO_OP_FTRUNCATE |
                         OD_FIO_OP_RENAME | OD_FIO_OP_UNLINK | OD_FIO_OP_MKDIR |
                         OD_FIO_OP_RMDIR,
    OD_FIO_OP_ALL = 0xfffu,
};

/*
 * A wrapper that forwards to `inner` and misbehaves on request. Fields are
 * set directly by the test; all counters are cumulative.
 *
 *   fail_ops/fail_errno/fail_after: once `fail_after` more calls of a class in
 *     fail_ops have passed, every further such call fails with -fail_errno
 *     (or only the next one when fail_once). fail_after < 0 disarms.
 *   short_write_max: when > 0, each pwrite moves at most this many bytes.
 *   crash_after_bytes / crash_after_calls: a crash point. The write that
 *     crosses the byte budget is cut at the budget, and from then on the
 *     wrapper is dead: every call except close fails with -EIO and nothing
 *     more reaches the disk, as if the process had been killed there.
 *     Negative disables.
 *   skip_fsync: fsync reports success without reaching the disk.
 *
 * close always reaches the inner table, so a failed test does not leak fds.
 */
typedef struct od_fio_fault {
    od_fio io; /* must stay first: the methods cast back from it */
    od_fio *inner;
    uint32_t fail_ops;
    int fail_errno;
    int64_t fail_after;
    bool fail_once;
    size_t short_write_max;
    int64_t crash_after_bytes;
    int64_t crash_after_calls;
    bool skip_fsync;        /* fsync succeeds without syncing: for fast crash tests,
                               where the page cache outlives the "crash" anyway */
    bool dead;
    int64_t calls;          /* every call, close excluded */
    int64_t mutating_calls; /* calls in OD_FIO_OP_MUTATING */
    int64_t bytes_written;
    int64_t faults;         /* injected failures */
    int64_t fsyncs;         /* fsync calls that reached the gate (tests count durability work) */
} od_fio_fault;

/* Starts a transparent wrapper: nothing is injected until fields are set. */
void od_fio_fault_init(od_fio_fault *f, od_fio *inner);

/* Clears any armed fault (not the counters, not a crash). */
void od_fio_fault_clear(od_fio_fault *f);

#endif
