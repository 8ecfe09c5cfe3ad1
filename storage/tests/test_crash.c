/* A child process appends and flushes until SIGKILLed at a random moment;
 * the parent then recovers the log dir and checks that every flushed record
 * is intact, nothing torn is served, and indexes agree with the log. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "log_dir.h"
#include "st_logutil.h"

static od_log_config crash_cfg(void)
{
    od_log_config c;
    od_log_config_default(&c);
    c.index_interval_bytes = 512;
    c.segment_bytes = 64 * 1024;
    c.segment_index_bytes = 1024;
    return c;
}

/* The child: appends forever; after each flush reports the durable log end
 * through the pipe (8 bytes, written only after the fsyncs returned). */
static void child(const char *dir, int wfd, unsigned seed)
{
    od_log_config cfg = crash_cfg();
    od_logdir *d;
    od_log *log;
    if (od_logdir_open(od_fio_posix(), dir, 16, &d) != OD_ST_OK ||
        od_logdir_open_log(d, "t", 0, &cfg, 0, &log, NULL) != OD_ST_OK)
        _exit(2);
    /* Ready: the clean-shutdown marker is consumed, so a kill from here on
     * is an unclean stop (a slow start, e.g. under ASan, must not let the
     * parent kill us before that). The recovery point is durable. */
    int64_t rp0 = od_log_recovery_point(log);
    if (write(wfd, &rp0, sizeof rp0) != (ssize_t)sizeof rp0)
        _exit(5);
    for (unsigned i = 0;; i++) {
        unsigned r = seed * 1103515245u + i * 12345u;
        if (st_append(log, 1, 1 + (int)(r % 5), 20, (int32_t)(i / 50)) != OD_ST_OK)
            _exit(3);
        if (r % 3 == 0) {
            if (od_log_flush(log, 0) != OD_ST_OK || od_logdir_checkpoint(d) != OD_ST_OK)
                _exit(4);
            int64_t rp = od_log_recovery_point(log);
            if (write(wfd, &rp, sizeof rp) != (ssize_t)sizeof rp)
                _exit(5);
        }
    }
}

static void test_sigkill_recovery(void)
{
    char dir[256];
    st_tmpdir(dir);
    od_log_config cfg = crash_cfg();
    unsigned seed = (unsigned)time(NULL);
    int64_t prev_leo = 0;
    for (int round = 0; round < 8; round++) {
        int p[2];
        REQUIRE(pipe(p) == 0);
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(dir, p[1], seed + (unsigned)round);
        }
        close(p[1]);
        int64_t flushed = 0, v;
        REQUIRE(read(p[0], &v, sizeof v) == (ssize_t)sizeof v);
        flushed = v;
        struct timespec ts = {0, (long)(20 + (seed + (unsigned)round * 7919u) % 180) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child exited %d",
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        while (read(p[0], &v, sizeof v) == (ssize_t)sizeof v)
            flushed = v;
        close(p[0]);

        od_logdir *d;
        REQUIRE_OK(od_logdir_open(od_fio_posix(), dir, 16, &d));
        CHECK(!od_logdir_had_clean_shutdown(d));
        od_log *log;
        od_log_recovery_stats st;
        REQUIRE_OK(od_logdir_open_log(d, "t", 0, &cfg, 0, &log, &st));
        int64_t leo = od_log_end_offset(log);
        CHECKF(leo >= flushed && leo >= prev_leo, "round %d: leo %lld flushed %lld prev %lld", round,
               (long long)leo, (long long)flushed, (long long)prev_leo);
        CHECKF(st_check_contents(log, 0, 20) == leo, "round %d: contents", round);
        CHECKF(st_verify_all(log), "round %d: indexes", round);
        CHECK(st.segments_recovered >= 1);
        prev_leo = leo;
        /* Alternate clean and unclean hand-over to the next child. */
        if (round % 2)
            CHECK_EQ_INT(od_logdir_close(d, round), OD_ST_OK);
        else
            od_logdir_abandon(d);
    }
    CHECK(prev_leo > 0);
    st_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_sigkill_recovery))
