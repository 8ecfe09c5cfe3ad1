/* Creating a partition log: what it costs in fsyncs and what a crash at
 * any point of it leaves (invariant 9 of partition_log.c). A new log is not
 * made durable by its creation, so every state an interrupted or unsynced
 * creation can leave must reopen as a valid empty log; durability starts at
 * the first flush, which must sync both directories. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "log_dir.h"
#include "st_logutil.h"

static const od_uuid topic_id = {{7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};

static od_log_config small_cfg(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.segment_index_bytes = 4096;
    return c;
}

/* Reopens dir/t-0 as after a crash (unclean, recovery point 0) and checks it
 * is an empty, writable log that keeps what it flushed: append, flush,
 * close uncleanly, reopen, read back. */
static void check_recreates_empty(const char *dir, const char *what)
{
    od_log_config cfg = small_cfg();
    od_fio_fault nosync;
    od_fio_fault_init(&nosync, od_fio_posix());
    nosync.skip_fsync = true; /* the page cache survives these "crashes" */
    od_st_err err;
    od_log *log = st_open(dir, &cfg, &nosync.io, false, 0, NULL, &err);
    CHECKF(log != NULL, "%s: reopen: %s", what, od_st_err_name(err));
    if (!log)
        return;
    CHECKF(od_log_end_offset(log) == 0 && od_log_start_offset(log) == 0, "%s: not empty", what);
    CHECKF(st_verify_all(log), "%s", what);
    od_st_err pm = od_partition_metadata_ensure(&nosync.io, od_log_dir(log), &topic_id);
    CHECKF(pm == OD_ST_OK, "%s: partition.metadata: %s", what, od_st_err_name(pm));
    od_uuid back;
    CHECKF(od_partition_metadata_read(&nosync.io, od_log_dir(log), &back) == OD_ST_OK &&
               memcmp(back.bytes, topic_id.bytes, 16) == 0,
           "%s: partition.metadata not rewritten", what);
    CHECKF(st_append(log, 2, 3, 16, 0) == OD_ST_OK, "%s: append", what);
    CHECKF(od_log_flush(log, 0) == OD_ST_OK, "%s: flush", what);
    od_log_close(log, false);
    log = st_open(dir, &cfg, &nosync.io, false, 0, NULL, &err);
    CHECKF(log != NULL, "%s: second reopen: %s", what, od_st_err_name(err));
    if (!log)
        return;
    CHECKF(od_log_end_offset(log) == 6, "%s: log end %lld after reopen", what,
           (long long)od_log_end_offset(log));
    CHECKF(st_check_contents(log, 0, 16) == 6, "%s: contents", what);
    CHECKF(st_verify_all(log), "%s", what);
    od_log_close(log, false);
}

/* Creation does no fsync at all; the first flush syncs the segment's three
 * files, the partition directory and the log dir; the next flush only the
 * files (so the two directory syncs happened once, where they belong). */
static void test_new_log_fsyncs_nothing_until_first_flush(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_logdir *d;
    REQUIRE_OK(od_logdir_open(&f.io, dir, 16, &d));
    od_log_config cfg = small_cfg();
    int64_t before = f.fsyncs;
    od_log *logs[4];
    for (int32_t p = 0; p < 4; p++) {
        REQUIRE_OK(od_logdir_open_log(d, "t", p, &cfg, 1000, &logs[p], NULL));
        REQUIRE_OK(od_partition_metadata_ensure(&f.io, od_log_dir(logs[p]), &topic_id));
    }
    CHECK_EQ_INT(f.fsyncs - before, 0);

    REQUIRE_OK(st_append(logs[0], 1, 2, 16, 0));
    before = f.fsyncs;
    REQUIRE_OK(od_log_flush(logs[0], 0));
    int64_t first = f.fsyncs - before;
    REQUIRE_OK(st_append(logs[0], 1, 2, 16, 0));
    before = f.fsyncs;
    REQUIRE_OK(od_log_flush(logs[0], 0));
    int64_t second = f.fsyncs - before;
    /* Two small batches add no index entry: the index files do not exist
     * yet (segment.c, invariant 8), so each flush syncs the .log alone. */
    CHECK_EQ_INT(st_file_size(dir, "00000000000000000000.index"), -1);
    CHECK_EQ_INT(second, 1);
    CHECK_EQ_INT(first, second + 2); /* + t-0/ and the log dir naming it */
    /* Once an index file changed, the next flush syncs it too, then not
     * again until it changes (invariant 9 of segment.c). */
    REQUIRE_OK(st_append(logs[0], 40, 2, 100, 0));
    before = f.fsyncs;
    REQUIRE_OK(od_log_flush(logs[0], 0));
    CHECK_EQ_INT(f.fsyncs - before, 3);
    REQUIRE_OK(st_append(logs[0], 1, 1, 16, 0));
    before = f.fsyncs;
    REQUIRE_OK(od_log_flush(logs[0], 0));
    CHECK_EQ_INT(f.fsyncs - before, 1);

    /* Writing the same partition.metadata again is free. */
    before = f.calls;
    int64_t mutating = f.mutating_calls;
    REQUIRE_OK(od_partition_metadata_ensure(&f.io, od_log_dir(logs[1]), &topic_id));
    CHECK_EQ_INT(f.mutating_calls - mutating, 0);
    CHECK(f.calls > before); /* it did read the file */
    REQUIRE_OK(od_logdir_close(d, 1));
    st_rmtree(dir);
}

/* Runs a creation (open + partition.metadata) through a wrapper that dies
 * after `calls` mutating calls; returns how many it made (-1: unlimited). */
static int64_t create_with_crash(const char *dir, int64_t calls)
{
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.crash_after_calls = calls;
    od_log_config cfg = small_cfg();
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    if (log) {
        od_partition_metadata_ensure(&f.io, od_log_dir(log), &topic_id);
        od_log_close(log, false);
    }
    return f.mutating_calls;
}

/* A crash after every mutating step of a creation: the next open finds a
 * valid empty log. */
static void test_crash_at_every_step_of_creation(void)
{
    char dir[256];
    st_tmpdir(dir);
    int64_t total = create_with_crash(dir, -1);
    st_rmtree(dir);
    CHECKF(total >= 3, "a creation made only %lld mutating calls", (long long)total);
    for (int64_t c = 0; c <= total; c++) {
        st_tmpdir(dir);
        create_with_crash(dir, c);
        char what[64];
        snprintf(what, sizeof what, "crash after %lld of %lld calls", (long long)c, (long long)total);
        check_recreates_empty(dir, what);
        st_rmtree(dir);
    }
}

/* What a power failure can leave of an unsynced creation: any of the files
 * absent, empty, or (partition.metadata, the index files) torn; a leftover
 * partition.metadata.tmp. Every combination reopens as a valid empty log. */
static void put_file(const char *dir, const char *name, int state)
{
    static const char torn[] = "version: 0\ntopic_id: AAAA";
    char path[512];
    snprintf(path, sizeof path, "%s/t-0/%s", dir, name);
    if (state == 0)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    if (state == 2 && write(fd, torn, sizeof torn - 1) != (ssize_t)(sizeof torn - 1))
        abort();
    close(fd);
}

static void test_power_loss_states_of_a_creation(void)
{
    static const char *const names[] = {
        "00000000000000000000.log", "00000000000000000000.index",
        "00000000000000000000.timeindex", OD_PARTITION_METADATA, OD_PARTITION_METADATA ".tmp",
    };
    enum { FILES = 5 };
    char dir[256];
    st_tmpdir(dir);
    check_recreates_empty(dir, "no partition directory");
    st_rmtree(dir);
    int combos = 1;
    for (int i = 0; i < FILES; i++)
        combos *= 3;
    for (int m = 0; m < combos; m++) {
        st_tmpdir(dir);
        char sub[300];
        snprintf(sub, sizeof sub, "%s/t-0", dir);
        REQUIRE(mkdir(sub, 0755) == 0);
        int code = m;
        char what[128];
        int len = snprintf(what, sizeof what, "states");
        for (int i = 0; i < FILES; i++) {
            int state = code % 3; /* 0 absent, 1 empty, 2 torn */
            code /= 3;
            put_file(dir, names[i], state);
            len += snprintf(what + len, sizeof what - (size_t)len, " %d", state);
        }
        check_recreates_empty(dir, what);
        st_rmtree(dir);
    }
}

typedef struct lock_count {
    int locks, unlocks;
    bool held;
} lock_count;

static void count_lock(void *ctx)
{
    lock_count *c = ctx;
    c->locks++;
    c->held = true;
}

static void count_unlock(void *ctx)
{
    lock_count *c = ctx;
    c->unlocks++;
    c->held = false;
}

typedef struct seen_parts {
    int count;
    bool found[40];
} seen_parts;

static void note_partition(void *ctx, const char *topic, int32_t partition)
{
    seen_parts *s = ctx;
    if (strcmp(topic, "many") == 0 && partition >= 0 && partition < 40 && !s->found[partition]) {
        s->found[partition] = true;
        s->count++;
    }
}

/* Forty new logs opened by eight threads: each is created, registered in
 * the directory (its clean close flushes and checkpoints them), holds its
 * partition.metadata, shares the directory's descriptor cache (limit 4, so
 * adoption must evict), and keeps what is appended to it. The directory's
 * lock is taken twice, never held across the creations. */
static void test_open_many_logs_in_parallel(void)
{
    enum { N = 40 };
    char dir[256];
    st_tmpdir(dir);
    od_logdir *d;
    REQUIRE_OK(od_logdir_open(od_fio_posix(), dir, 4, &d));
    od_log_config cfg = small_cfg();
    od_logdir_new_log items[N];
    for (int32_t i = 0; i < N; i++)
        items[i] = (od_logdir_new_log){.topic = "many", .partition = i, .cfg = &cfg,
                                       .topic_id = &topic_id};
    lock_count lc = {0};
    od_logdir_lock_hooks hooks = {count_lock, count_unlock, &lc};
    REQUIRE_OK(od_logdir_open_logs(d, items, N, 8, 1000, &hooks));
    CHECK_EQ_INT(lc.locks, 2);
    CHECK_EQ_INT(lc.unlocks, 2);
    for (int32_t i = 0; i < N; i++) {
        CHECKF(items[i].log != NULL && items[i].err == OD_ST_OK, "item %d: %s", i,
               od_st_err_name(items[i].err));
        if (!items[i].log)
            continue;
        CHECK_EQ_INT(od_log_partition(items[i].log), i);
        od_uuid back;
        CHECK(od_partition_metadata_read(od_fio_posix(), od_log_dir(items[i].log), &back) == OD_ST_OK &&
              memcmp(back.bytes, topic_id.bytes, 16) == 0);
        CHECK_EQ_INT(st_append(items[i].log, 1, 1 + i % 3, 16, 0), OD_ST_OK);
    }
    REQUIRE_OK(od_logdir_close(d, 1));

    REQUIRE_OK(od_logdir_open(od_fio_posix(), dir, 4, &d));
    CHECK(od_logdir_had_clean_shutdown(d));
    seen_parts seen = {0};
    REQUIRE_OK(od_logdir_list_partitions(d, note_partition, &seen));
    CHECK_EQ_INT(seen.count, N);
    for (int32_t i = 0; i < N; i++) {
        od_log *log;
        REQUIRE_OK(od_logdir_open_log(d, "many", i, &cfg, 2000, &log, NULL));
        CHECK_EQ_INT(od_log_end_offset(log), 1 + i % 3);
        CHECK_EQ_INT(st_check_contents(log, 0, 16), 1 + i % 3);
    }
    REQUIRE_OK(od_logdir_close(d, 1));
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_new_log_fsyncs_nothing_until_first_flush),
             OD_CASE(test_crash_at_every_step_of_creation),
             OD_CASE(test_power_loss_states_of_a_creation),
             OD_CASE(test_open_many_logs_in_parallel))
