/*
 * Event loop: timer order, cancel and re-arm, zero-delay re-arm fairness,
 * file interest changes, hooks, and the cross-thread task queue.
 */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "event_loop.h"
#include "od_test.h"

typedef struct order_log {
    int fired[64];
    int count;
} order_log;

typedef struct tagged_timer {
    od_timer timer;
    int tag;
    order_log *log;
} tagged_timer;

static void record_fire(od_loop *loop, od_timer *timer)
{
    tagged_timer *t = timer->ctx;
    t->log->fired[t->log->count++] = t->tag;
}

static void stop_loop(od_loop *loop, od_timer *timer)
{
    od_loop_stop(loop);
}

static void timers_fire_in_order_and_cancel_works(void)
{
    od_loop *loop = od_loop_create();
    REQUIRE(loop != NULL);
    order_log log = {0};
    static const uint64_t delays[] = {30, 10, 20, 10, 0, 50};
    tagged_timer timers[6];
    for (int i = 0; i < 6; i++) {
        timers[i].tag = i;
        timers[i].log = &log;
        od_timer_init(&timers[i].timer, record_fire, &timers[i]);
        CHECK(od_timer_arm(loop, &timers[i].timer, delays[i]) == 0);
    }
    od_timer_cancel(loop, &timers[2].timer);        /* the 20 ms one never fires */
    od_timer_cancel(loop, &timers[2].timer);        /* twice is harmless */
    CHECK(od_timer_arm(loop, &timers[5].timer, 5) == 0); /* 50 -> 5 */
    CHECK(!od_timer_armed(&timers[2].timer));
    CHECK_EQ_INT(od_loop_timer_count(loop), 5);

    od_timer stopper;
    od_timer_init(&stopper, stop_loop, NULL);
    od_timer_arm(loop, &stopper, 60);
    uint64_t start = od_monotonic_ms();
    CHECK(od_loop_run(loop) == 0);
    uint64_t elapsed = od_monotonic_ms() - start;

    static const int expected[] = {4, 5, 1, 3, 0};
    CHECK_EQ_INT(log.count, 5);
    for (int i = 0; i < 5 && i < log.count; i++)
        CHECKF(log.fired[i] == expected[i], "position %d fired %d, want %d", i, log.fired[i], expected[i]);
    CHECKF(elapsed >= 59, "stopped after %llu ms", (unsigned long long)elapsed);
    CHECK_EQ_INT(od_loop_timer_count(loop), 0);
    od_loop_destroy(loop);
}

/* Many timers with random deadlines, a third cancelled, some re-armed: fire
 * order must follow the final deadlines and cancelled ones must stay quiet. */
typedef struct random_timer {
    od_timer timer;
    uint64_t deadline;
    int fired;
    int cancelled;
} random_timer;

static uint64_t last_deadline_seen;
static int out_of_order;

static void random_fire(od_loop *loop, od_timer *timer)
{
    random_timer *t = timer->ctx;
    t->fired++;
    if (t->deadline < last_deadline_seen)
        out_of_order++;
    last_deadline_seen = t->deadline;
}

static void many_random_timers_keep_heap_order(void)
{
    enum { N = 2000 };
    od_loop *loop = od_loop_create();
    REQUIRE(loop != NULL);
    static random_timer timers[N];
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        od_timer_init(&timers[i].timer, random_fire, &timers[i]);
        timers[i].fired = timers[i].cancelled = 0;
        od_timer_arm(loop, &timers[i].timer, (seed >> 16) % 40);
        timers[i].deadline = timers[i].timer.deadline_ms;
    }
    for (int i = 0; i < N; i += 3) {
        od_timer_cancel(loop, &timers[i].timer);
        timers[i].cancelled = 1;
    }
    for (int i = 1; i < N; i += 7) {
        od_timer_arm(loop, &timers[i].timer, (uint64_t)(i % 11));
        timers[i].deadline = timers[i].timer.deadline_ms;
        timers[i].cancelled = 0; /* re-arming a cancelled timer revives it */
    }
    od_timer stopper;
    od_timer_init(&stopper, stop_loop, NULL);
    od_timer_arm(loop, &stopper, 60);
    last_deadline_seen = 0;
    out_of_order = 0;
    od_loop_run(loop);
    int wrong = 0;
    for (int i = 0; i < N; i++)
        wrong += timers[i].fired != (timers[i].cancelled ? 0 : 1);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(out_of_order, 0);
    od_loop_destroy(loop);
}

/* A timer that re-arms itself with zero delay fires once per pass, so file
 * events still get their turn. */
typedef struct spin_state {
    od_timer timer;
    int fires;
    int passes;
    int pipe_seen_at_fire;
    int pipe_read;
} spin_state;

static void spin_fire(od_loop *loop, od_timer *timer)
{
    spin_state *s = timer->ctx;
    s->fires++;
    if (s->pipe_read && s->pipe_seen_at_fire == 0)
        s->pipe_seen_at_fire = s->fires;
    if (s->fires < 1000)
        od_timer_arm(loop, timer, 0);
    else
        od_loop_stop(loop);
}

static void count_pass(od_loop *loop, void *ctx)
{
    ((spin_state *)ctx)->passes++;
}

static void pipe_readable(od_loop *loop, int fd, unsigned ready, void *ctx)
{
    spin_state *s = ctx;
    char byte;
    if (read(fd, &byte, 1) == 1)
        s->pipe_read++;
    od_loop_set_interest(loop, fd, 0);
}

static void zero_delay_rearm_does_not_starve_io(void)
{
    od_loop *loop = od_loop_create();
    REQUIRE(loop != NULL);
    int fds[2];
    int piped = pipe(fds);
    REQUIRE(piped == 0);
    spin_state s = {0};
    od_timer_init(&s.timer, spin_fire, &s);
    od_timer_arm(loop, &s.timer, 0);
    od_loop_add_before_sleep(loop, count_pass, &s);
    CHECK(od_loop_watch(loop, fds[0], OD_READABLE, pipe_readable, &s) == 0);
    CHECK(write(fds[1], "x", 1) == 1);
    od_loop_run(loop);
    CHECK_EQ_INT(s.fires, 1000);
    CHECKF(s.passes >= 1000, "passes %d", s.passes);
    CHECK_EQ_INT(s.pipe_read, 1);
    CHECKF(s.pipe_seen_at_fire > 0 && s.pipe_seen_at_fire <= 2, "pipe seen at fire %d",
           s.pipe_seen_at_fire);
    od_loop_unwatch(loop, fds[0]);
    close(fds[0]);
    close(fds[1]);
    od_loop_destroy(loop);
}

/* --------------------------------------------------------------- tasks */

enum { POSTERS = 4, TASKS_PER_POSTER = 5000 };

typedef struct task_count {
    int total;
    int last_seen[POSTERS];
    int order_errors;
    int after_sleep_calls;
} task_count;

static task_count counts;

static void count_task(od_loop *loop, void *ctx)
{
    uintptr_t code = (uintptr_t)ctx;
    int poster = (int)(code / TASKS_PER_POSTER);
    int seq = (int)(code % TASKS_PER_POSTER);
    if (seq != counts.last_seen[poster] + 1)
        counts.order_errors++;
    counts.last_seen[poster] = seq;
    if (++counts.total == POSTERS * TASKS_PER_POSTER)
        od_loop_stop(loop);
}

typedef struct poster_arg {
    od_loop *loop;
    int index;
} poster_arg;

static void *post_many(void *p)
{
    poster_arg *arg = p;
    for (int i = 0; i < TASKS_PER_POSTER; i++)
        od_loop_post_fn(arg->loop, count_task, (void *)(uintptr_t)(arg->index * TASKS_PER_POSTER + i));
    return NULL;
}

static void count_after_sleep(od_loop *loop, void *ctx)
{
    counts.after_sleep_calls++;
}

static void tasks_from_other_threads_run_in_post_order(void)
{
    od_loop *loop = od_loop_create();
    REQUIRE(loop != NULL);
    memset(&counts, 0, sizeof counts);
    for (int i = 0; i < POSTERS; i++)
        counts.last_seen[i] = -1;
    od_loop_add_after_sleep(loop, count_after_sleep, NULL);
    od_timer guard; /* a lost wakeup must fail the test, not hang it */
    od_timer_init(&guard, stop_loop, NULL);
    od_timer_arm(loop, &guard, 20000);
    pthread_t threads[POSTERS];
    poster_arg args[POSTERS];
    for (int i = 0; i < POSTERS; i++) {
        args[i] = (poster_arg){loop, i};
        pthread_create(&threads[i], NULL, post_many, &args[i]);
    }
    od_loop_run(loop);
    for (int i = 0; i < POSTERS; i++)
        pthread_join(threads[i], NULL);
    CHECK_EQ_INT(counts.total, POSTERS * TASKS_PER_POSTER);
    CHECK_EQ_INT(counts.order_errors, 0);
    CHECK(counts.after_sleep_calls > 0);
    od_loop_destroy(loop);
}

static void *stop_later(void *p)
{
    usleep(20000);
    od_loop_stop(p);
    return NULL;
}

static void idle_loop_stops_from_another_thread(void)
{
    od_loop *loop = od_loop_create();
    REQUIRE(loop != NULL);
    CHECK(!od_loop_in_thread(loop));
    pthread_t thread;
    pthread_create(&thread, NULL, stop_later, loop);
    uint64_t start = od_monotonic_ms();
    CHECK(od_loop_run(loop) == 0);
    CHECK(od_monotonic_ms() - start < 5000);
    pthread_join(thread, NULL);
    /* Tasks never run are freed by destroy (ASan checks the leak). */
    od_loop_post_fn(loop, count_task, NULL);
    od_loop_destroy(loop);
}

OD_TEST_MAIN(OD_CASE(timers_fire_in_order_and_cancel_works),
             OD_CASE(many_random_timers_keep_heap_order),
             OD_CASE(zero_delay_rearm_does_not_starve_io),
             OD_CASE(tasks_from_other_threads_run_in_post_order),
             OD_CASE(idle_loop_stops_from_another_thread))
