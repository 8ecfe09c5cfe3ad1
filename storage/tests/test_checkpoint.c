/* Kafka's checkpoint/metadata/marker files, byte for byte, and the log-dir
 * startup and shutdown protocol built on them. */
#include <errno.h>
#include <fcntl.h>

#include <sys/stat.h>

#include "log_dir.h"
#include "st_logutil.h"

static char *slurp(const char *dir, const char *name)
{
    char path[512], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (od_fio_read_file(od_fio_posix(), path, 1 << 20, &text, &len) != 0)
        return NULL;
    return text;
}

static void put(const char *dir, const char *name, const char *text)
{
    od_fio_write_atomic(od_fio_posix(), dir, name, text, strlen(text));
}

static void test_offset_checkpoint_format(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_tp_offset e[] = {{"orders", 0, 42}, {"my.topic_x-1", 17, 9000000000LL}};
    CHECK_EQ_INT(od_ckpt_write_offsets(io, dir, OD_CKPT_RECOVERY_POINT, e, 2), OD_ST_OK);
    char *t = slurp(dir, OD_CKPT_RECOVERY_POINT);
    CHECK(t && strcmp(t, "0\n2\norders 0 42\nmy.topic_x-1 17 9000000000\n") == 0);
    free(t);
    od_tp_offset *r;
    size_t n;
    CHECK_EQ_INT(od_ckpt_read_offsets(io, dir, OD_CKPT_RECOVERY_POINT, &r, &n), OD_ST_OK);
    REQUIRE(n == 2);
    CHECK(strcmp(r[1].topic, "my.topic_x-1") == 0 && r[1].partition == 17 && r[1].offset == 9000000000LL);
    od_ckpt_free_offsets(r, n);
    CHECK_EQ_INT(od_ckpt_write_offsets(io, dir, OD_CKPT_CLEANER, NULL, 0), OD_ST_OK);
    t = slurp(dir, OD_CKPT_CLEANER);
    CHECK(t && strcmp(t, "0\n0\n") == 0);
    free(t);
    CHECK_EQ_INT(od_ckpt_read_offsets(io, dir, "absent", &r, &n), OD_ST_NOT_FOUND);
    static const char *const bad[] = {
        "1\n0\n", "0\n2\na 0 1\n", "0\n1\na 0 1\nb 0 2\n", "0\n1\na x 1\n", "0\n1\na 0\n",
        "0\n1\na 0 1 2\n", "", "0\n", "0\n-1\n", "0\n1\na -1 5\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put(dir, "c", bad[i]);
        CHECKF(od_ckpt_read_offsets(io, dir, "c", &r, &n) == OD_ST_BAD_FORMAT, "case %zu", i);
    }
    st_rmtree(dir);
}

static void test_epoch_and_partition_metadata(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_epoch_entry e[] = {{0, 0}, {3, 120}, {7, 5000}};
    CHECK_EQ_INT(od_ckpt_write_epochs(io, dir, e, 3), OD_ST_OK);
    char *t = slurp(dir, OD_CKPT_LEADER_EPOCH);
    CHECK(t && strcmp(t, "0\n3\n0 0\n3 120\n7 5000\n") == 0);
    free(t);
    od_epoch_entry *r;
    size_t n;
    CHECK_EQ_INT(od_ckpt_read_epochs(io, dir, &r, &n), OD_ST_OK);
    CHECK(n == 3 && r[2].epoch == 7 && r[2].start_offset == 5000);
    free(r);

    od_uuid id;
    for (int i = 0; i < 16; i++)
        id.bytes[i] = (uint8_t)(i * 17 + 3);
    char b64[23];
    od_uuid_to_base64(&id, b64);
    CHECK_EQ_INT(strlen(b64), 22);
    od_uuid back;
    CHECK(od_uuid_from_base64(b64, 22, &back) && od_uuid_eq(&id, &back));
    /* Kafka's example id: 16 zero bytes but one is "AAAAAAAAAAAAAAAAAAAAAQ". */
    memset(&id, 0, sizeof id);
    id.bytes[15] = 1;
    od_uuid_to_base64(&id, b64);
    CHECK(strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAQ") == 0);
    CHECK(!od_uuid_from_base64("AAAAAAAAAAAAAAAAAAAAAR", 22, &back)); /* non-canonical */
    CHECK(!od_uuid_from_base64("AAAAAAAAAAAAAAAAAAAA+Q", 22, &back)); /* not url-safe */
    CHECK_EQ_INT(od_partition_metadata_write(io, dir, &id), OD_ST_OK);
    t = slurp(dir, OD_PARTITION_METADATA);
    CHECK(t && strcmp(t, "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n") == 0);
    free(t);
    CHECK_EQ_INT(od_partition_metadata_read(io, dir, &back), OD_ST_OK);
    CHECK(od_uuid_eq(&id, &back));
    put(dir, OD_PARTITION_METADATA, "version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n");
    CHECK_EQ_INT(od_partition_metadata_read(io, dir, &back), OD_ST_BAD_FORMAT);
    st_rmtree(dir);
}

static void test_meta_properties_and_marker(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_meta_properties m = {.version = 1, .node_id = 3};
    strcpy(m.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    strcpy(m.directory_id, "AAAAAAAAAAAAAAAAAAAAAQ");
    CHECK_EQ_INT(od_meta_properties_write(io, dir, &m), OD_ST_OK);
    char *t = slurp(dir, OD_META_PROPERTIES);
    CHECK(t && strncmp(t, "#\n#", 3) == 0);
    CHECK(t && strstr(t, "\ncluster.id=MkU3OEVBNTcwNTJENDM2Qk\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAQ\n"
                         "node.id=3\nversion=1\n") != NULL);
    free(t);
    od_meta_properties r;
    CHECK_EQ_INT(od_meta_properties_read(io, dir, &r), OD_ST_OK);
    CHECK(r.version == 1 && r.node_id == 3 && strcmp(r.cluster_id, m.cluster_id) == 0 &&
          strcmp(r.directory_id, m.directory_id) == 0);
    /* As Kafka's own tool writes it (key order differs, comments present). */
    put(dir, OD_META_PROPERTIES,
        "#\n#Thu Jan 01 00:00:00 UTC 2026\nnode.id=1\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAQ\n"
        "version=1\ncluster.id=abc\n");
    CHECK_EQ_INT(od_meta_properties_read(io, dir, &r), OD_ST_OK);
    CHECK(r.node_id == 1 && strcmp(r.cluster_id, "abc") == 0);
    put(dir, OD_META_PROPERTIES, "version=1\nnode.id=1\n");
    CHECK_EQ_INT(od_meta_properties_read(io, dir, &r), OD_ST_BAD_FORMAT);

    bool exists;
    int64_t epoch;
    CHECK_EQ_INT(od_clean_shutdown_read(io, dir, &exists, &epoch), OD_ST_OK);
    CHECK(!exists);
    CHECK_EQ_INT(od_clean_shutdown_write(io, dir, 77), OD_ST_OK);
    t = slurp(dir, OD_CLEAN_SHUTDOWN);
    CHECK(t && strcmp(t, "{\"version\":0,\"brokerEpoch\":77}") == 0);
    free(t);
    CHECK_EQ_INT(od_clean_shutdown_read(io, dir, &exists, &epoch), OD_ST_OK);
    CHECK(exists && epoch == 77);
    put(dir, OD_CLEAN_SHUTDOWN, ""); /* pre-KIP-966 brokers wrote an empty file */
    CHECK_EQ_INT(od_clean_shutdown_read(io, dir, &exists, &epoch), OD_ST_OK);
    CHECK(exists && epoch == -1);
    CHECK_EQ_INT(od_clean_shutdown_delete(io, dir), OD_ST_OK);
    CHECK_EQ_INT(od_clean_shutdown_read(io, dir, &exists, &epoch), OD_ST_OK);
    CHECK(!exists);
    st_rmtree(dir);
}

typedef struct seen {
    int n;
    char names[8][64];
} seen;

static void seen_cb(void *ctx, const char *topic, int32_t partition)
{
    seen *s = ctx;
    if (s->n < 8)
        snprintf(s->names[s->n++], 64, "%s/%d", topic, (int)partition);
}

static void test_logdir_lifecycle(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.segment_bytes = 2000;
    cfg.segment_index_bytes = 4096;

    od_logdir *d;
    REQUIRE_OK(od_logdir_open(io, dir, 8, &d));
    CHECK(!od_logdir_had_clean_shutdown(d));
    od_log *a, *b, *c;
    REQUIRE_OK(od_logdir_open_log(d, "alpha", 0, &cfg, 0, &a, NULL));
    REQUIRE_OK(od_logdir_open_log(d, "my-topic", 12, &cfg, 0, &b, NULL));
    REQUIRE_OK(od_logdir_open_log(d, "gone", 1, &cfg, 0, &c, NULL));
    CHECK_EQ_INT(st_append(a, 30, 2, 20, 0), OD_ST_OK);
    CHECK_EQ_INT(st_append(b, 5, 2, 20, 0), OD_ST_OK);
    od_log_set_high_watermark(a, 40);
    od_log_set_high_watermark(b, 10);
    CHECK_EQ_INT(od_log_delete_records_before(a, 33), OD_ST_OK);
    CHECK_EQ_INT(od_logdir_delete_log(d, c), OD_ST_OK);
    seen s = {0};
    CHECK_EQ_INT(od_logdir_list_partitions(d, seen_cb, &s), OD_ST_OK);
    CHECK_EQ_INT(s.n, 2);
    int purged;
    CHECK_EQ_INT(od_logdir_purge_deleted(d, &purged), OD_ST_OK);
    CHECK_EQ_INT(purged, 1);
    od_st_err cerr = od_logdir_close(d, 1234);
    CHECKF(cerr == OD_ST_OK, "%s", od_st_err_name(cerr));

    char *t = slurp(dir, OD_CLEAN_SHUTDOWN);
    CHECK(t && strcmp(t, "{\"version\":0,\"brokerEpoch\":1234}") == 0);
    free(t);
    t = slurp(dir, OD_CKPT_RECOVERY_POINT);
    CHECKF(t && strcmp(t, "0\n2\nalpha 0 60\nmy-topic 12 10\n") == 0, "[%s]", t);
    free(t);
    t = slurp(dir, OD_CKPT_REPLICATION);
    CHECK(t && strcmp(t, "0\n2\nalpha 0 40\nmy-topic 12 10\n") == 0);
    free(t);
    t = slurp(dir, OD_CKPT_LOG_START);
    CHECK(t && strcmp(t, "0\n1\nalpha 0 33\n") == 0);
    free(t);

    /* Clean restart: marker consumed, no recovery, offsets restored. */
    REQUIRE_OK(od_logdir_open(io, dir, 8, &d));
    CHECK(od_logdir_had_clean_shutdown(d));
    CHECK_EQ_INT(od_logdir_clean_broker_epoch(d), 1234);
    t = slurp(dir, OD_CLEAN_SHUTDOWN);
    CHECK(t == NULL);
    free(t);
    od_log_recovery_stats st;
    REQUIRE_OK(od_logdir_open_log(d, "alpha", 0, &cfg, 0, &a, &st));
    CHECK_EQ_INT(st.segments_recovered, 0);
    CHECK_EQ_INT(od_log_start_offset(a), 33);
    CHECK_EQ_INT(od_log_high_watermark(a), 40);
    CHECK_EQ_INT(od_log_end_offset(a), 60);
    CHECK_EQ_INT(st_check_contents(a, 33, 20), 60);
    CHECK_EQ_INT(st_append(a, 5, 2, 20, 0), OD_ST_OK);
    CHECK_EQ_INT(od_logdir_checkpoint(d), OD_ST_OK);
    /* Crash: no marker, so the next start re-validates from the recovery
     * point (60, the last flushed end). */
    od_logdir_abandon(d);
    CHECK(slurp(dir, OD_CLEAN_SHUTDOWN) == NULL);
    REQUIRE_OK(od_logdir_open(io, dir, 8, &d));
    CHECK(!od_logdir_had_clean_shutdown(d));
    REQUIRE_OK(od_logdir_open_log(d, "alpha", 0, &cfg, 0, &a, &st));
    /* Only the segments from the one holding offset 60 on are re-read. */
    size_t from = 0;
    for (size_t i = 0; i < od_log_segment_count(a); i++)
        if (od_log_segment_at(a, i)->base_offset <= 60)
            from = i;
    CHECK_EQ_INT(st.segments_recovered, (int)(od_log_segment_count(a) - from));
    CHECK(from > 0);
    CHECK_EQ_INT(od_log_end_offset(a), 70);
    CHECK_EQ_INT(st_check_contents(a, 33, 20), 70);
    CHECK(st_verify_all(a));
    CHECK_EQ_INT(od_logdir_close(d, 5), OD_ST_OK);
    st_rmtree(dir);
}

#include <dirent.h>
#include <time.h>

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Thousands of partitions open with a bounded number of descriptors, and
 * quickly after a clean shutdown (no index or log scan beyond the tail). */
static void test_many_partitions_bounded_fds(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault nosync; /* fsync cost is not what this measures */
    od_fio_fault_init(&nosync, od_fio_posix());
    nosync.skip_fsync = true;
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.segment_index_bytes = 64 * 1024;
    enum { N = 1000, LIMIT = 32 };
    int base_fds = count_fds();
    od_logdir *d;
    REQUIRE_OK(od_logdir_open(&nosync.io, dir, LIMIT, &d));
    for (int i = 0; i < N; i++) {
        od_log *log;
        REQUIRE_OK(od_logdir_open_log(d, "many", i, &cfg, 0, &log, NULL));
        REQUIRE_OK(st_append(log, 2, 2, 10, 0));
    }
    CHECKF(count_fds() - base_fds <= 3 * LIMIT + 4, "%d fds", count_fds() - base_fds);
    REQUIRE_OK(od_logdir_close(d, 1));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    REQUIRE_OK(od_logdir_open(&nosync.io, dir, LIMIT, &d));
    od_log *last = NULL;
    for (int i = 0; i < N; i++) {
        od_log_recovery_stats st;
        REQUIRE_OK(od_logdir_open_log(d, "many", i, &cfg, 0, &last, &st));
        CHECK_EQ_INT(st.segments_recovered, 0);
        CHECK_EQ_INT(od_log_end_offset(last), 4);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("reopened %d partitions in %.0f ms (%.1f us each), %d extra fds\n", N, ms, ms * 1000 / N,
           count_fds() - base_fds);
    CHECKF(count_fds() - base_fds <= 3 * LIMIT + 4, "%d fds", count_fds() - base_fds);
    CHECK_EQ_INT(st_check_contents(last, 0, 10), 4);
    REQUIRE_OK(od_logdir_close(d, 2));
    st_rmtree(dir);
}

/* Counts the entries of dir whose names end with suffix. */
static int count_suffixed(const char *dir, const char *suffix)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    size_t k = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len >= k && strcmp(e->d_name + len - k, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* A topic deleted while the broker was down and created again under the
 * same name: the old directory and its checkpoint entries must not be
 * taken for the new topic's (invariant 6), and a directory the metadata
 * does not know is moved aside, never deleted (invariant 3). */
static void test_stray_partitions_set_aside(void)
{
    static const od_uuid old_id = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
    static const od_uuid new_id = {{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}};
    char dir[256];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_log_config cfg;
    od_log_config_default(&cfg);
    cfg.segment_index_bytes = 4096;

    /* Three partitions of "t" (id old_id) and one of "unknown", written and
     * checkpointed with a raised log start, then a crash. */
    od_logdir *d;
    REQUIRE_OK(od_logdir_open(io, dir, 8, &d));
    od_log *logs[3], *unknown;
    for (int32_t p = 0; p < 3; p++) {
        REQUIRE_OK(od_logdir_open_log(d, "t", p, &cfg, 0, &logs[p], NULL));
        REQUIRE_OK(od_partition_metadata_ensure(io, od_log_dir(logs[p]), &old_id));
        REQUIRE_OK(st_append(logs[p], 10, 2, 20, 0));
        od_log_set_high_watermark(logs[p], 20);
        REQUIRE_OK(od_log_delete_records_before(logs[p], 4));
        REQUIRE_OK(od_log_flush(logs[p], 0));
    }
    REQUIRE_OK(od_logdir_open_log(d, "unknown", 0, &cfg, 0, &unknown, NULL));
    REQUIRE_OK(st_append(unknown, 1, 1, 20, 0));
    REQUIRE_OK(od_logdir_checkpoint(d));
    /* Open logs are never moved aside, whatever id is asked for. */
    bool moved = true;
    REQUIRE_OK(od_logdir_set_aside_stray(d, "t", 0, &new_id, &moved));
    CHECK(!moved);
    od_logdir_abandon(d);

    od_fio_fault f; /* transparent until armed below */
    od_fio_fault_init(&f, io);
    REQUIRE_OK(od_logdir_open(&f.io, dir, 8, &d));
    /* The same id: the log is its own, data and log start kept. */
    REQUIRE_OK(od_logdir_set_aside_stray(d, "t", 0, &old_id, &moved));
    CHECK(!moved);
    od_log *same;
    REQUIRE_OK(od_logdir_open_log(d, "t", 0, &cfg, 0, &same, NULL));
    CHECK_EQ_INT(od_log_end_offset(same), 20);
    CHECK_EQ_INT(od_log_start_offset(same), 4);

    /* Another id: moved aside before the open, which finds an empty log
     * that inherits no checkpointed offset. */
    REQUIRE_OK(od_logdir_set_aside_stray(d, "t", 1, &new_id, &moved));
    CHECK(moved);
    CHECK_EQ_INT(count_suffixed(dir, "-stray"), 1);
    od_log *fresh;
    REQUIRE_OK(od_logdir_open_log(d, "t", 1, &cfg, 0, &fresh, NULL));
    CHECK_EQ_INT(od_log_end_offset(fresh), 0);
    CHECK_EQ_INT(od_log_start_offset(fresh), 0);

    /* The batch open path does the same when given the topic id; a
     * directory it cannot move aside is not opened. */
    od_logdir_new_log item = {.topic = "t", .partition = 2, .cfg = &cfg, .topic_id = &new_id};
    f.fail_ops = OD_FIO_OP_RENAME;
    f.fail_errno = 5;
    f.fail_after = 0;
    CHECK(od_logdir_open_logs(d, &item, 1, 1, 0, NULL) != OD_ST_OK);
    CHECK(item.log == NULL && item.err != OD_ST_OK);
    CHECK_EQ_INT(count_suffixed(dir, "-stray"), 1);
    od_fio_fault_clear(&f);
    REQUIRE_OK(od_logdir_open_logs(d, &item, 1, 1, 0, NULL));
    REQUIRE(item.log != NULL);
    CHECK_EQ_INT(od_log_end_offset(item.log), 0);
    CHECK_EQ_INT(od_log_start_offset(item.log), 0);
    od_uuid back;
    REQUIRE_OK(od_partition_metadata_read(io, od_log_dir(item.log), &back));
    CHECK(memcmp(back.bytes, new_id.bytes, 16) == 0);
    CHECK_EQ_INT(count_suffixed(dir, "-stray"), 2);

    /* No id: the directory goes aside whatever it holds; a missing one is
     * no error. Strays are neither listed nor purged. */
    REQUIRE_OK(od_logdir_set_aside_stray(d, "unknown", 0, NULL, &moved));
    CHECK(moved);
    REQUIRE_OK(od_logdir_set_aside_stray(d, "never-existed", 0, NULL, &moved));
    CHECK(!moved);
    seen s = {0};
    REQUIRE_OK(od_logdir_list_partitions(d, seen_cb, &s));
    CHECK_EQ_INT(s.n, 3); /* t/0, t/1, t/2 */
    int purged;
    REQUIRE_OK(od_logdir_purge_deleted(d, &purged));
    CHECK_EQ_INT(purged, 0);
    CHECK_EQ_INT(count_suffixed(dir, "-stray"), 3);
    REQUIRE_OK(od_logdir_close(d, 1));
    char *t = slurp(dir, OD_CKPT_LOG_START);
    CHECKF(t && strcmp(t, "0\n1\nt 0 4\n") == 0, "[%s]", t);
    free(t);
    st_rmtree(dir);
}

/* Each start moves a leftover directory aside under a fresh name, even when
 * the directory object lands at the same address as in the previous run
 * (glibc hands a freed block straight back): a name taken by an earlier
 * stray or -delete directory would fail the rename and the start. */
static void test_set_aside_names_differ_across_opens(void)
{
    char dir[256], sub[300];
    st_tmpdir(dir);
    od_fio *io = od_fio_posix();
    snprintf(sub, sizeof sub, "%s/t-0", dir);
    for (int run = 1; run <= 4; run++) {
        REQUIRE(mkdir(sub, 0755) == 0);
        od_logdir *d;
        REQUIRE_OK(od_logdir_open(io, dir, 8, &d));
        bool moved = false;
        od_st_err err = od_logdir_set_aside_stray(d, "t", 0, NULL, &moved);
        CHECKF(err == OD_ST_OK && moved, "run %d: %s", run, od_st_err_name(err));
        od_logdir_abandon(d);
        CHECK_EQ_INT(count_suffixed(dir, "-stray"), run);
    }
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_offset_checkpoint_format), OD_CASE(test_epoch_and_partition_metadata),
             OD_CASE(test_meta_properties_and_marker), OD_CASE(test_logdir_lifecycle),
             OD_CASE(test_many_partitions_bounded_fds), OD_CASE(test_stray_partitions_set_aside),
             OD_CASE(test_set_aside_names_differ_across_opens))
