/* Fault injection: failed appends change nothing and the log recovers once
 * the fault clears; a crash at any byte or call leaves a log that recovery
 * brings back with every flushed record intact and nothing torn served. */
#include <errno.h>

#include "log_dir.h"
#include "st_logutil.h"

static od_log_config cfg_small(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.index_interval_bytes = 100;
    c.segment_index_bytes = 240;
    c.segment_bytes = 1200;
    return c;
}

/* Armed once per mutating call position: every failure must be reported,
 * leave the log exactly as it was, and let the next append succeed. */
static void sweep(int fail_errno, od_st_err want)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true;
    od_log_config cfg = cfg_small();
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    REQUIRE(log);
    REQUIRE_OK(st_append(log, 3, 2, 20, 0));
    int failures = 0;
    for (int k = 0; k < 60; k++) {
        int64_t leo = od_log_end_offset(log);
        size_t nseg = od_log_segment_count(log);
        f.fail_ops = OD_FIO_OP_PWRITE | OD_FIO_OP_OPEN | OD_FIO_OP_FTRUNCATE | OD_FIO_OP_RENAME |
                     OD_FIO_OP_FSYNC;
        f.fail_errno = fail_errno;
        f.fail_after = k % 7;
        f.fail_once = true;
        od_st_err err = st_append(log, 1, 2 + k % 3, 20 + k, 0);
        int64_t faults = f.faults;
        od_fio_fault_clear(&f);
        if (err != OD_ST_OK) {
            failures++;
            CHECKF(err == want, "k=%d: %s", k, od_st_err_name(err));
            CHECK_EQ_INT(od_log_end_offset(log), leo);
            CHECK(od_log_segment_count(log) >= nseg);
            CHECK(faults > 0);
        }
        CHECK_EQ_INT(od_log_state(log), OD_ST_OK);
        /* Value sizes vary, so check framing and indexes rather than values. */
        CHECK(st_verify_all(log));
        REQUIRE_OK(st_append(log, 1, 1, 5, 0));
    }
    CHECK(failures > 10);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    /* Reopened after a clean close, everything that was acknowledged is there. */
    log = st_open(dir, &cfg, NULL, false, 0, NULL, NULL);
    REQUIRE(log);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_enospc_on_append(void)
{
    sweep(ENOSPC, OD_ST_NO_SPACE);
}

static void test_eio_on_append(void)
{
    sweep(EIO, OD_ST_IO);
}

static void test_failed_rollback_is_sticky(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_log_config cfg = cfg_small();
    cfg.segment_bytes = 1 << 20;
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    REQUIRE(log);
    REQUIRE_OK(st_append(log, 4, 2, 20, 0));
    f.fail_ops = OD_FIO_OP_PWRITE | OD_FIO_OP_FTRUNCATE;
    f.fail_errno = EIO;
    f.fail_after = 0;
    f.short_write_max = 7; /* part of the batch lands before the failure */
    f.fail_after = 2;
    CHECK_EQ_INT(st_append(log, 1, 2, 20, 0), OD_ST_FAILED);
    CHECK_EQ_INT(od_log_state(log), OD_ST_FAILED);
    od_fio_fault_clear(&f);
    CHECK_EQ_INT(st_append(log, 1, 2, 20, 0), OD_ST_FAILED);
    /* What was visible stays readable. */
    CHECK_EQ_INT(st_check_contents(log, 0, 20), 8);
    CHECK_EQ_INT(od_log_close(log, false), OD_ST_OK);
    od_log_recovery_stats st;
    log = st_open(dir, &cfg, NULL, false, 0, &st, NULL);
    REQUIRE(log);
    CHECK(st.bytes_truncated > 0);
    CHECK_EQ_INT(od_log_end_offset(log), 8);
    CHECK_EQ_INT(st_check_contents(log, 0, 20), 8);
    CHECK(st_verify_all(log));
    REQUIRE_OK(st_append(log, 1, 2, 20, 0));
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

static void test_flush_failure_keeps_recovery_point(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    od_log_config cfg = cfg_small();
    od_log *log = st_open(dir, &cfg, &f.io, false, 0, NULL, NULL);
    REQUIRE(log);
    REQUIRE_OK(st_append(log, 3, 2, 20, 0));
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = EIO;
    f.fail_after = 0;
    CHECK_EQ_INT(od_log_flush(log, 0), OD_ST_IO);
    CHECK_EQ_INT(od_log_recovery_point(log), 0);
    od_fio_fault_clear(&f);
    CHECK_EQ_INT(od_log_flush(log, 0), OD_ST_OK);
    CHECK_EQ_INT(od_log_recovery_point(log), 6);
    CHECK_EQ_INT(od_log_close(log, true), OD_ST_OK);
    st_rmtree(dir);
}

/* Runs a workload on a fault fio that dies at a crash point; returns the
 * log end of the last successful flush. */
static int64_t crashing_workload(const char *dir, od_fio_fault *f)
{
    od_log_config cfg = cfg_small();
    od_logdir *d;
    int64_t flushed = 0;
    if (od_logdir_open(&f->io, dir, 4, &d) != OD_ST_OK)
        return 0;
    od_log *log;
    if (od_logdir_open_log(d, "t", 0, &cfg, 0, &log, NULL) != OD_ST_OK) {
        od_logdir_abandon(d);
        return 0;
    }
    for (int i = 0; i < 40; i++) {
        if (st_append(log, 1, 1 + i % 3, 20, i / 10) != OD_ST_OK)
            break;
        if (i % 4 == 3) {
            if (od_log_flush(log, 0) != OD_ST_OK || od_logdir_checkpoint(d) != OD_ST_OK)
                break;
            flushed = od_log_recovery_point(log);
        }
    }
    od_logdir_abandon(d);
    return flushed;
}

static void check_recovered(const char *dir, int64_t flushed, const char *what, int64_t at)
{
    od_log_config cfg = cfg_small();
    od_logdir *d;
    od_fio_fault nosync;
    od_fio_fault_init(&nosync, od_fio_posix());
    nosync.skip_fsync = true;
    REQUIRE_OK(od_logdir_open(&nosync.io, dir, 4, &d));
    od_log *log;
    REQUIRE_OK(od_logdir_open_log(d, "t", 0, &cfg, 0, &log, NULL));
    int64_t leo = od_log_end_offset(log);
    CHECKF(leo >= flushed, "%s %lld: leo %lld < flushed %lld", what, (long long)at, (long long)leo,
           (long long)flushed);
    CHECKF(st_check_contents(log, 0, 20) == leo, "%s %lld: contents", what, (long long)at);
    CHECKF(st_verify_all(log), "%s %lld: indexes", what, (long long)at);
    size_t ne;
    const od_epoch_entry *ep = od_log_epochs(log, &ne);
    for (size_t i = 0; i < ne; i++)
        CHECK(ep[i].start_offset < leo);
    /* And the recovered log takes appends. */
    CHECK_EQ_INT(st_append(log, 2, 2, 20, 9), OD_ST_OK);
    CHECK(st_verify_all(log));
    CHECK_EQ_INT(od_logdir_close(d, 1), OD_ST_OK);
}

static void test_crash_at_every_byte_budget(void)
{
    /* A clean run tells how many bytes the workload writes in all. */
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true;
    crashing_workload(dir, &f);
    int64_t total = f.bytes_written;
    st_rmtree(dir);
    CHECK(total > 2000);
    int runs = 0;
    for (int64_t b = 0; b < total; b += 1 + b / 12 + (b % 7)) {
        st_tmpdir(dir);
        od_fio_fault_init(&f, od_fio_posix());
        f.skip_fsync = true;
        f.crash_after_bytes = b;
        int64_t flushed = crashing_workload(dir, &f);
        check_recovered(dir, flushed, "bytes", b);
        st_rmtree(dir);
        runs++;
    }
    CHECK(runs > 30);
}

static void test_crash_at_every_call(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_fio_fault f;
    od_fio_fault_init(&f, od_fio_posix());
    f.skip_fsync = true;
    crashing_workload(dir, &f);
    int64_t total = f.mutating_calls;
    st_rmtree(dir);
    for (int64_t c = 0; c < total; c += 1 + c / 20) {
        st_tmpdir(dir);
        od_fio_fault_init(&f, od_fio_posix());
        f.skip_fsync = true;
        f.crash_after_calls = c;
        int64_t flushed = crashing_workload(dir, &f);
        check_recovered(dir, flushed, "calls", c);
        st_rmtree(dir);
    }
}

OD_TEST_MAIN(OD_CASE(test_enospc_on_append), OD_CASE(test_eio_on_append),
             OD_CASE(test_failed_rollback_is_sticky), OD_CASE(test_flush_failure_keeps_recovery_point),
             OD_CASE(test_crash_at_every_byte_budget), OD_CASE(test_crash_at_every_call))
