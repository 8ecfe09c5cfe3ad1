/*
 * od_storage_bench: append throughput of one partition log, to compare with
 * dd writing the same bytes to the same disk.
 *
 *   od_storage_bench DIR [MiB] [batch KiB] [rounds]
 *
 * Appends uncompressed 1 KiB-record batches as leader (validation, offset
 * assignment and index upkeep included), then one flush; prints MB/s for
 * the appends alone and including the final fsync. Then, in the same run,
 * a plain sequential writer (what dd does: one pwrite per batch-sized
 * chunk, one fsync at the end) writes the same bytes to DIR/raw-0/raw.bin, and
 * the ratio of the two is printed. With several rounds the two alternate
 * (which goes first swaps each round, since a virtual disk's speed drifts
 * a lot within seconds) and the medians are compared.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "partition_log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One v2 batch of n records of `vs` value bytes (CRC stamped). */
static void build(od_writer *w, int n, size_t vs)
{
    size_t start = w->len;
    od_write_i64(w, 0);
    size_t len_at = od_writer_skip(w, 4);
    od_write_i32(w, -1);
    od_write_i8(w, 2);
    od_writer_skip(w, 4);
    od_write_i16(w, 0);
    od_write_i32(w, n - 1);
    od_write_i64(w, 1700000000000LL);
    od_write_i64(w, 1700000000000LL);
    od_write_i64(w, -1);
    od_write_i16(w, -1);
    od_write_i32(w, -1);
    od_write_i32(w, n);
    uint8_t *v = calloc(1, vs);
    for (int i = 0; i < n; i++) {
        od_writer b;
        od_writer_init(&b, vs + 32);
        od_write_i8(&b, 0);
        od_write_varlong(&b, 0);
        od_write_varint(&b, i);
        od_write_varint(&b, -1);
        od_write_varint(&b, (int32_t)vs);
        od_write_raw(&b, v, vs);
        od_write_varint(&b, 0);
        od_write_varint(w, (int32_t)b.len);
        od_write_raw(w, b.buf, b.len);
        od_writer_free(&b);
    }
    free(v);
    od_writer_patch_i32(w, len_at, (int32_t)(w->len - start - OD_LOG_OVERHEAD));
    od_batch_restamp_crc(w->buf + start, w->len - start);
}

typedef struct run {
    double app, all; /* MB/s: writes alone, and with the final fsync */
    double cpu;      /* user + system seconds of the writes */
} run;

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static run run_log(const char *dir, const od_writer *w, uint8_t *copy, long long target)
{
    od_log_config cfg;
    od_log_config_default(&cfg);
    od_log_open_args a = {0};
    a.io = od_fio_posix();
    a.log_dir = dir;
    a.topic = "bench";
    a.config = &cfg;
    a.log_start_offset = -1;
    od_log *log;
    od_st_err err = od_log_open(&a, &log, NULL);
    if (err) {
        fprintf(stderr, "open: %s\n", od_st_err_name(err));
        exit(1);
    }
    long long total = 0;
    double c0 = cpu_s();
    double t0 = now_s();
    while (total < target) {
        memcpy(copy, w->buf, w->len); /* the leader path edits the request buffer in place */
        err = od_log_append_leader(log, copy, w->len, 0, 1700000000000LL, NULL);
        if (err) {
            fprintf(stderr, "append: %s\n", od_st_err_name(err));
            exit(1);
        }
        total += (long long)w->len;
    }
    double t1 = now_s();
    double c1 = cpu_s();
    err = od_log_flush(log, 0);
    double t2 = now_s();
    if (err) {
        fprintf(stderr, "flush: %s\n", od_st_err_name(err));
        exit(1);
    }
    od_log_close(log, true);
    /* Remove the partition's files so the next round starts from nothing. */
    char pdir[4096];
    snprintf(pdir, sizeof pdir, "%s/bench-0", dir);
    DIR *d = opendir(pdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[8192];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", pdir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(pdir);
    return (run){(double)total / 1e6 / (t1 - t0), (double)total / 1e6 / (t2 - t0), c1 - c0};
}

static run run_raw(const char *dir, const od_writer *w, uint8_t *copy, long long target)
{
    /* In a fresh directory, as the log's partition directory is: ext4
     * places a new directory's files elsewhere on the disk, which on a
     * virtual disk can change the speed more than anything the log does. */
    char rdir[4096], raw[8192];
    snprintf(rdir, sizeof rdir, "%s/raw-0", dir);
    mkdir(rdir, 0755);
    snprintf(raw, sizeof raw, "%s/raw.bin", rdir);
    int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(raw);
        exit(1);
    }
    long long done = 0;
    double c0 = cpu_s();
    double t0 = now_s();
    while (done < target) {
        memcpy(copy, w->buf, w->len); /* the same per-batch copy the log side pays */
        if (pwrite(fd, copy, w->len, done) != (ssize_t)w->len) {
            perror("pwrite");
            exit(1);
        }
        done += (long long)w->len;
    }
    double t1 = now_s();
    double c1 = cpu_s();
    fsync(fd);
    double t2 = now_s();
    close(fd);
    unlink(raw);
    rmdir(rdir);
    return (run){(double)done / 1e6 / (t1 - t0), (double)done / 1e6 / (t2 - t0), c1 - c0};
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [MiB] [batch KiB] [rounds]\n", argv[0]);
        return 2;
    }
    long mib = argc > 2 ? atol(argv[2]) : 512;
    int kib = argc > 3 ? atoi(argv[3]) : 16;
    int rounds = argc > 4 ? atoi(argv[4]) : 1;
    if (rounds < 1 || rounds > 64)
        rounds = 1;
    od_writer w;
    od_writer_init(&w, (size_t)kib * 1024 + 4096);
    build(&w, kib, 1000);
    uint8_t *copy = malloc(w.len);
    long long target = mib * 1024LL * 1024;
    double la[64], ll[64], ra[64], rl[64];
    for (int i = 0; i < rounds; i++) {
        run l, r;
        if (i % 2 == 0) {
            l = run_log(argv[1], &w, copy, target);
            r = run_raw(argv[1], &w, copy, target);
        } else {
            r = run_raw(argv[1], &w, copy, target);
            l = run_log(argv[1], &w, copy, target);
        }
        printf("round %d: log %.0f MB/s (%.0f with fsync, %.2f s cpu), raw %.0f MB/s (%.0f with "
               "fsync, %.2f s cpu)\n",
               i + 1, l.app, l.all, l.cpu, r.app, r.all, r.cpu);
        la[i] = l.app;
        ll[i] = l.all;
        ra[i] = r.app;
        rl[i] = r.all;
    }
    double mla = median(la, rounds), mll = median(ll, rounds), mra = median(ra, rounds),
           mrl = median(rl, rounds);
    printf("%ld MiB in %zu-byte batches, %d rounds, medians: log %.0f MB/s (%.0f with fsync), "
           "raw %.0f MB/s (%.0f with fsync); ratio log/raw %.2f (writes), %.2f (with fsync)\n",
           mib, w.len, rounds, mla, mll, mra, mrl, mla / mra, mll / mrl);
    od_writer_free(&w);
    free(copy);
    return 0;
}
