/*
 * od_bench_storage: what one partition log costs next to the disk under it.
 *
 *   od_bench_storage DIR [MiB] [partitions] [repeats]
 *
 * DIR must be on the disk being measured; everything is created inside
 * DIR/od-bench and removed at the end. Defaults: 1024 MiB, 10000
 * partitions, 3 repeats. Prints one line per figure.
 *
 *  1. append: 1 KiB records (null key, 1024-byte value) in 16-record
 *     batches appended as leader (validation, offsets, indexes), fsync at
 *     the end; against a plain sequential writer of the same bytes in the
 *     same 16 KiB-ish writes, fsync at the end. Alternated `repeats` times;
 *     medians and their ratio are reported.
 *  2. read: the whole log through od_log_read in 1 MiB regions, sent with
 *     sendfile(2) into a socket a second thread drains, and read with
 *     pread(2) into a buffer; first from the page cache, then after
 *     posix_fadvise(DONTNEED) has evicted the segment files.
 *  3. recovery: a child appends MiB (page cache only, as Kafka's default
 *     flush policy does) and is SIGKILLed while still appending; the parent
 *     times od_log_open with no clean-shutdown marker and no recovery
 *     checkpoint, i.e. every segment re-validated and its indexes rebuilt.
 *     Timed warm, then again after sync(2) and eviction.
 *  4. open: `partitions` logs in one log dir, each with one small batch,
 *     shut down cleanly; then od_logdir_open plus od_logdir_open_log for
 *     every partition, timed (warm dentry and page caches).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "log_dir.h"
#include "partition_log.h"
#include "records/batch_builder.h"

enum { RECORDS_PER_BATCH = 16, VALUE_BYTES = 1024, READ_REGION = 1 << 20 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, od_st_err err)
{
    fprintf(stderr, "od_bench_storage: %s: %s\n", what, od_st_err_name(err));
    exit(1);
}

static void die_errno(const char *what)
{
    fprintf(stderr, "od_bench_storage: %s: %s\n", what, strerror(errno));
    exit(1);
}

enum { PATH_CAP = 4096 };

/* out = a/b; a path too long for PATH_CAP ends the run. */
static void path_join(char *out, const char *a, const char *b)
{
    if (snprintf(out, PATH_CAP, "%s/%s", a, b) >= PATH_CAP) {
        fprintf(stderr, "od_bench_storage: path too long: %s/%s\n", a, b);
        exit(2);
    }
}

/* Removes a directory tree (only what this program created). */
static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[PATH_CAP];
        path_join(p, path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}

/* Evicts every regular file under path from the page cache (after it is
 * written back), so the next read comes from the disk. */
static void evict_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_CAP];
        path_join(p, path, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            evict_tree(p);
        } else if (S_ISREG(st.st_mode)) {
            int fd = open(p, O_RDONLY);
            if (fd >= 0) {
                fdatasync(fd);
                posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
                close(fd);
            }
        }
    }
    closedir(d);
}

/* One batch of RECORDS_PER_BATCH records; the leader append rewrites only
 * the base offset and leader epoch, which the CRC does not cover, so the
 * same bytes can be appended again and again. */
static void build_batch(od_writer *w)
{
    static uint8_t value[VALUE_BYTES];
    for (size_t i = 0; i < sizeof value; i++)
        value[i] = (uint8_t)('a' + (i * 7) % 26);
    od_builder_record recs[RECORDS_PER_BATCH];
    for (int i = 0; i < RECORDS_PER_BATCH; i++) {
        recs[i] = (od_builder_record){.timestamp = 1700000000000LL + i,
                                      .key = {NULL, -1},
                                      .value = {value, VALUE_BYTES}};
    }
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    if (od_batch_build(&p, recs, RECORDS_PER_BATCH, w) != OD_BATCH_OK)
        die("batch build", OD_ST_INVALID_ARG);
}

static od_log *open_log(const char *dir, const char *topic, bool clean, od_log_recovery_stats *st)
{
    static od_log_config cfg;
    od_log_config_default(&cfg);
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = dir;
    a.topic = topic;
    a.partition = 0;
    a.config = &cfg;
    a.had_clean_shutdown = clean;
    a.recovery_point = 0;
    a.log_start_offset = -1;
    a.cleaner_offset = -1;
    a.now_ms = 1700000000000LL;
    od_log *log;
    od_st_err err = od_log_open(&a, &log, st);
    if (err)
        die("open", err);
    return log;
}

/* Appends until at least `bytes` are in the log; returns the bytes. */
static int64_t append_bytes(od_log *log, od_writer *batch, int64_t bytes)
{
    int64_t total = 0;
    while (total < bytes) {
        od_st_err err = od_log_append_leader(log, batch->buf, batch->len, 0, 1700000000000LL, NULL);
        if (err)
            die("append", err);
        total += (int64_t)batch->len;
    }
    return total;
}

/* The disk's own figure: the same bytes, written in the same sized
 * writes, one fsync at the end. */
static double raw_write(const char *dir, const uint8_t *buf, size_t chunk, int64_t bytes)
{
    char p[PATH_CAP];
    path_join(p, dir, "raw.bin");
    unlink(p);
    double t0 = now_s();
    int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        die_errno("raw open");
    int64_t off = 0;
    while (off < bytes) {
        ssize_t n = pwrite(fd, buf, chunk, off);
        if (n <= 0)
            die_errno("raw write");
        off += n;
    }
    if (fsync(fd) != 0)
        die_errno("raw fsync");
    close(fd);
    double t = now_s() - t0;
    unlink(p);
    return (double)bytes / 1e6 / t;
}

static double log_write(const char *dir, od_writer *batch, int64_t bytes, int64_t *written)
{
    char p[PATH_CAP];
    path_join(p, dir, "append-0");
    rm_tree(p);
    double t0 = now_s();
    od_log *log = open_log(dir, "append", true, NULL);
    *written = append_bytes(log, batch, bytes);
    od_st_err err = od_log_flush(log, 0);
    if (err)
        die("flush", err);
    double t = now_s() - t0;
    if ((err = od_log_close(log, true)))
        die("close", err);
    return (double)*written / 1e6 / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ read */

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    static uint8_t buf[1 << 18];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    return NULL;
}

/* Reads the whole log; returns MB/s. use_sendfile picks the path. */
static double read_all(od_log *log, size_t batch_len, bool use_sendfile, int sock)
{
    static uint8_t buf[READ_REGION + 65536];
    int64_t offset = od_log_start_offset(log), end = od_log_end_offset(log), bytes = 0;
    double t0 = now_s();
    while (offset < end) {
        od_log_read_result r;
        od_st_err err = od_log_read(log, offset, READ_REGION, -1, true, &r);
        if (err)
            die("read", err);
        /* Every batch has the same size and starts where `offset` asks, so the
         * whole batches in the region tell where the next read starts. */
        int64_t whole = r.region.length / (int64_t)batch_len;
        if (whole == 0)
            whole = 1;
        int64_t len = whole * (int64_t)batch_len;
        if (use_sendfile) {
            off_t pos = r.region.position;
            int64_t left = len;
            while (left > 0) {
                ssize_t n = sendfile(sock, r.region.fd, &pos, (size_t)left);
                if (n <= 0)
                    die_errno("sendfile");
                left -= n;
            }
        } else {
            ssize_t n = pread(r.region.fd, buf, (size_t)len, r.region.position);
            if (n != len)
                die_errno("pread");
        }
        od_log_read_release(log, &r);
        bytes += len;
        offset += whole * RECORDS_PER_BATCH;
    }
    return (double)bytes / 1e6 / (now_s() - t0);
}

static void bench_read(const char *dir, size_t batch_len)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die_errno("socketpair");
    int sz = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    pthread_t th;
    if (pthread_create(&th, NULL, drain, &sv[1]) != 0)
        die_errno("pthread_create");
    od_log *log = open_log(dir, "append", true, NULL);
    char part[PATH_CAP];
    path_join(part, dir, "append-0");
    /* A first pass brings the files into the page cache for the warm figures. */
    read_all(log, batch_len, false, -1);
    double warm_sf = read_all(log, batch_len, true, sv[0]);
    double warm_pr = read_all(log, batch_len, false, -1);
    evict_tree(part);
    double cold_sf = read_all(log, batch_len, true, sv[0]);
    evict_tree(part);
    double cold_pr = read_all(log, batch_len, false, -1);
    printf("read   sendfile, page cache: %8.0f MB/s\n", warm_sf);
    printf("read   pread,    page cache: %8.0f MB/s\n", warm_pr);
    printf("read   sendfile, from disk:  %8.0f MB/s\n", cold_sf);
    printf("read   pread,    from disk:  %8.0f MB/s\n", cold_pr);
    od_log_close(log, false);
    close(sv[0]);
    pthread_join(th, NULL);
    close(sv[1]);
}

/* ------------------------------------------------------------------ recovery */

static void bench_recovery(const char *dir, od_writer *batch, int64_t bytes)
{
    char part[PATH_CAP];
    path_join(part, dir, "crash-0");
    rm_tree(part);
    int pfd[2];
    if (pipe(pfd) != 0)
        die_errno("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die_errno("fork");
    if (pid == 0) {
        close(pfd[0]);
        od_log *log = open_log(dir, "crash", true, NULL);
        append_bytes(log, batch, bytes);
        if (write(pfd[1], "x", 1) != 1)
            _exit(1);
        /* Keep appending so the kill lands in the middle of a write. */
        for (;;)
            append_bytes(log, batch, 1 << 20);
    }
    close(pfd[1]);
    char c;
    if (read(pfd[0], &c, 1) != 1)
        die_errno("child did not report");
    usleep(20000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pfd[0]);

    od_log_recovery_stats st;
    double t0 = now_s();
    od_log *log = open_log(dir, "crash", false, &st);
    double warm = now_s() - t0;
    int64_t size = od_log_size_bytes(log), leo = od_log_end_offset(log);
    int32_t segs = st.segments_recovered;
    int64_t cut = st.bytes_truncated;
    od_log_close(log, false);

    sync();
    evict_tree(part);
    t0 = now_s();
    log = open_log(dir, "crash", false, &st);
    double cold = now_s() - t0;
    od_log_close(log, false);
    printf("recover after SIGKILL: %.2f GiB, %" PRId64 " records, %d segments re-validated, "
           "%" PRId64 " torn bytes cut\n",
           (double)size / (1 << 30), leo, segs, cut);
    printf("recover   page cache: %6.2f s (%5.0f MB/s)\n", warm, (double)size / 1e6 / warm);
    printf("recover   from disk:  %6.2f s (%5.0f MB/s)\n", cold, (double)size / 1e6 / cold);
    rm_tree(part);
}

/* ------------------------------------------------------------------ open */

typedef struct part_list {
    int32_t *p;
    size_t n, cap;
} part_list;

static void on_partition(void *ctx, const char *topic, int32_t partition)
{
    part_list *l = ctx;
    if (strcmp(topic, "p") != 0)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->p = realloc(l->p, l->cap * sizeof *l->p);
        if (!l->p)
            abort();
    }
    l->p[l->n++] = partition;
}

static void bench_open(const char *dir, int partitions)
{
    char path[PATH_CAP];
    path_join(path, dir, "many");
    rm_tree(path);
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_logdir *d;
    od_st_err err = od_logdir_open(od_fio_posix(), path, 1024, &d);
    if (err)
        die("logdir open", err);
    od_writer small;
    od_writer_init(&small, 256);
    od_builder_record rec = {.timestamp = 1700000000000LL, .key = {NULL, -1},
                             .value = {(const uint8_t *)"hello", 5}};
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    od_batch_build(&p, &rec, 1, &small);
    double t0 = now_s();
    for (int i = 0; i < partitions; i++) {
        od_log *log;
        if ((err = od_logdir_open_log(d, "p", i, &cfg, 1700000000000LL, &log, NULL)))
            die("create partition", err);
        uint8_t copy[256];
        memcpy(copy, small.buf, small.len);
        if ((err = od_log_append_leader(log, copy, small.len, 0, 1700000000000LL, NULL)))
            die("append", err);
    }
    double created = now_s() - t0;
    t0 = now_s();
    if ((err = od_logdir_close(d, 1)))
        die("logdir close", err);
    double shut = now_s() - t0;

    t0 = now_s();
    if ((err = od_logdir_open(od_fio_posix(), path, 1024, &d)))
        die("logdir reopen", err);
    if (!od_logdir_had_clean_shutdown(d))
        die("no clean shutdown marker", OD_ST_BAD_FORMAT);
    part_list l = {0};
    if ((err = od_logdir_list_partitions(d, on_partition, &l)))
        die("list", err);
    for (size_t i = 0; i < l.n; i++) {
        od_log *log;
        if ((err = od_logdir_open_log(d, "p", l.p[i], &cfg, 1700000000000LL, &log, NULL)))
            die("open partition", err);
    }
    double opened = now_s() - t0;
    if (l.n != (size_t)partitions)
        fprintf(stderr, "od_bench_storage: listed %zu of %d partitions\n", l.n, partitions);
    /* Nothing changed since the open, and a clean close would fsync every
     * partition again; the directory is removed next anyway. */
    od_logdir_abandon(d);
    printf("open %d partitions after clean shutdown: %.2f s (%.0f us each)\n", partitions, opened,
           opened * 1e6 / partitions);
    printf("  (creating them with one batch each: %.2f s; their clean shutdown: %.2f s)\n", created,
           shut);
    free(l.p);
    od_writer_free(&small);
    rm_tree(path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [MiB] [partitions] [repeats]\n", argv[0]);
        return 2;
    }
    int64_t mib = argc > 2 ? atoll(argv[2]) : 1024;
    int partitions = argc > 3 ? atoi(argv[3]) : 10000;
    int repeats = argc > 4 ? atoi(argv[4]) : 3;
    if (mib <= 0 || partitions <= 0 || repeats <= 0 || repeats > 32) {
        fprintf(stderr, "od_bench_storage: bad arguments\n");
        return 2;
    }
    char dir[PATH_CAP];
    path_join(dir, argv[1], "od-bench");
    rm_tree(dir);
    if (mkdir(dir, 0755) != 0)
        die_errno(dir);
    signal(SIGPIPE, SIG_IGN);

    od_writer batch;
    od_writer_init(&batch, RECORDS_PER_BATCH * (VALUE_BYTES + 16) + 128);
    build_batch(&batch);
    int64_t bytes = mib << 20;
    printf("batch: %d records of %d bytes, %zu bytes on disk; %" PRId64 " MiB per run\n",
           RECORDS_PER_BATCH, VALUE_BYTES, batch.len, mib);

    double raw[32], lg[32];
    int64_t written = 0;
    for (int i = 0; i < repeats; i++) {
        raw[i] = raw_write(dir, batch.buf, batch.len, bytes);
        lg[i] = log_write(dir, &batch, bytes, &written);
        printf("append run %d: raw %.0f MB/s, log %.0f MB/s\n", i + 1, raw[i], lg[i]);
    }
    double mr = median(raw, repeats), ml = median(lg, repeats);
    printf("append median: raw sequential write %.0f MB/s, log append %.0f MB/s, ratio %.2f\n", mr, ml,
           ml / mr);

    bench_read(dir, batch.len);
    char p[PATH_CAP];
    path_join(p, dir, "append-0");
    rm_tree(p);
    bench_recovery(dir, &batch, bytes);
    bench_open(dir, partitions);
    od_writer_free(&batch);
    rm_tree(dir);
    return 0;
}
