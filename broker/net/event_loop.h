/*
 * od_loop: a single-threaded event loop over epoll, with ordered timers,
 * before/after-sleep hooks and a cross-thread task queue. It knows nothing
 * about Kafka, connections or requests.
 *
 * Ownership
 *   - A loop is driven by exactly one thread: the one inside od_loop_run.
 *     Every function here must be called from that thread, except the ones
 *     marked "any thread".
 *   - The loop owns its epoll fd, its eventfd, its fd table and its timer
 *     heap array. It never owns the fds it watches, the timers it orders or
 *     the tasks it queues: those live inside the caller's objects, so arming
 *     a timer or posting a task never allocates on the hot path (the heap
 *     array grows geometrically and is kept).
 *
 * Invariants
 *   1. A timer is in the heap iff it is armed; a fired timer is disarmed
 *      before its callback runs, so the callback may re-arm it or free the
 *      object that holds it.
 *   2. Timers fire in (deadline, arming order): two timers with the same
 *      deadline fire in the order they were armed.
 *   3. A timer armed while timers are firing never fires in the same pass,
 *      so a zero-delay re-arm cannot starve I/O.
 *   4. A file callback is only called with readiness bits the fd is still
 *      interested in at dispatch time; an fd that was unwatched earlier in
 *      the same pass gets no callback.
 *   5. Tasks run on the loop thread in the order they were posted, each
 *      exactly once. A task's memory must stay valid until its callback
 *      starts.
 *   6. One pass is: before-sleep hooks (in registration order) -> wait ->
 *      after-sleep hooks -> file callbacks -> due timers. Cross-thread tasks
 *      run as the eventfd's file callback.
 */
#ifndef ODRADEK_BROKER_NET_EVENT_LOOP_H
#define ODRADEK_BROKER_NET_EVENT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct od_loop od_loop;

/* Readiness / interest bits. */
enum { OD_READABLE = 1u, OD_WRITABLE = 2u };

/* Milliseconds on CLOCK_MONOTONIC. Any thread. */
uint64_t od_monotonic_ms(void);

/* Returns a new loop, or NULL with errno set. */
od_loop *od_loop_create(void);

/* Frees the loop. Tasks still queued are dropped without running (the
 * fire-and-forget ones from od_loop_post_fn are freed). Watched fds are not
 * closed. Call only when no other thread can post to it any more. */
void od_loop_destroy(od_loop *loop);

/* Runs passes until od_loop_stop. Returns 0 after a stop, -1 with errno if
 * epoll itself fails. */
int od_loop_run(od_loop *loop);

/* Asks the loop to return from od_loop_run at the end of its current pass.
 * Any thread; async-signal-safe. */
void od_loop_stop(od_loop *loop);

/* Interrupts the wait so the next pass starts now. Any thread;
 * async-signal-safe. */
void od_loop_wake(od_loop *loop);

/* Makes the coming wait return immediately (work is ready that no fd will
 * announce). Loop thread; cheaper than od_loop_wake. */
void od_loop_skip_sleep(od_loop *loop);

/* True when called from the thread currently running the loop. Any thread. */
bool od_loop_in_thread(const od_loop *loop);

/* The loop's cached monotonic time, refreshed after every wait and before
 * timers run. */
uint64_t od_loop_now(const od_loop *loop);

/* ------------------------------------------------------------ file events */

/* `ready` holds OD_READABLE and/or OD_WRITABLE. Errors and hang-ups are
 * reported as whichever of the two the fd is interested in, so the callback
 * finds out through its own read or write. */
typedef void od_fd_fn(od_loop *loop, int fd, unsigned ready, void *ctx);

/* Sets the callback and the interest (OD_READABLE|OD_WRITABLE, or 0 to keep
 * the callback but stop listening) for fd. Returns 0, or -1 with errno. */
int od_loop_watch(od_loop *loop, int fd, unsigned interest, od_fd_fn *fn, void *ctx);

/* Changes only the interest of an fd already given a callback. Returns 0,
 * or -1 with errno. */
int od_loop_set_interest(od_loop *loop, int fd, unsigned interest);

/* The current interest of fd (0 when unknown). */
unsigned od_loop_interest(const od_loop *loop, int fd);

/* Forgets fd. Call before closing it. */
void od_loop_unwatch(od_loop *loop, int fd);

/* ----------------------------------------------------------------- timers */

typedef struct od_timer od_timer;
typedef void od_timer_fn(od_loop *loop, od_timer *timer);

#define OD_TIMER_IDLE SIZE_MAX

/* Embed one in the object the timer is about; fields are the loop's. */
struct od_timer {
    od_timer_fn *fn;
    void *ctx;
    uint64_t deadline_ms;
    uint64_t arm_order;
    size_t heap_slot;  /* OD_TIMER_IDLE when not armed */
};

void od_timer_init(od_timer *timer, od_timer_fn *fn, void *ctx);

static inline bool od_timer_armed(const od_timer *timer)
{
    return timer->heap_slot != OD_TIMER_IDLE;
}

/* Arms or re-arms the timer to fire delay_ms after od_loop_now. Returns 0,
 * or -1 (ENOMEM) when the heap cannot grow; the timer is then unarmed. */
int od_timer_arm(od_loop *loop, od_timer *timer, uint64_t delay_ms);

/* Same, with an absolute monotonic deadline. */
int od_timer_arm_at(od_loop *loop, od_timer *timer, uint64_t deadline_ms);

/* Disarms the timer; harmless if it is not armed. */
void od_timer_cancel(od_loop *loop, od_timer *timer);

/* Number of armed timers, for tests and stats. */
size_t od_loop_timer_count(const od_loop *loop);

/* ------------------------------------------------------------------ hooks */

typedef void od_loop_hook(od_loop *loop, void *ctx);

enum { OD_LOOP_MAX_HOOKS = 4 };

/* Hooks run in registration order. Return 0, or -1 (ENOSPC) when
 * OD_LOOP_MAX_HOOKS are already registered. */
int od_loop_add_before_sleep(od_loop *loop, od_loop_hook *fn, void *ctx);
int od_loop_add_after_sleep(od_loop *loop, od_loop_hook *fn, void *ctx);

/* ------------------------------------------------------------------ tasks */

typedef struct od_task od_task;
typedef void od_task_fn(od_loop *loop, od_task *task);

/* Embed one in the object handed over; fields are the loop's until the
 * callback starts. */
struct od_task {
    od_task *next;
    od_task_fn *fn;
    void *ctx;
};

void od_task_init(od_task *task, od_task_fn *fn, void *ctx);

/* Queues the task to run on the loop thread. Any thread; never blocks for
 * longer than a short mutex hold. */
void od_loop_post(od_loop *loop, od_task *task);

/* Convenience for one-off work: allocates the task. Any thread. Returns 0,
 * or -1 (ENOMEM). */
int od_loop_post_fn(od_loop *loop, void (*fn)(od_loop *loop, void *ctx), void *ctx);

#endif
