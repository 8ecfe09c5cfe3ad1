/*
 * od_loop implementation. See event_loop.h for the ownership rules and the
 * numbered invariants; the comments below refer to them as (I1)..(I6).
 *
 * The timer heap is a binary min-heap of pointers into caller memory, each
 * timer remembering its slot so cancel and re-arm are O(log n) without a
 * search. Ties on the deadline are broken by a per-loop arming counter,
 * which gives (I2) and, by remembering the counter when firing starts, (I3).
 *
 * Epoll is used level-triggered: a callback that leaves data unread (for
 * fairness, or because its reader is paused) is told again next pass, so no
 * caller needs to drain a socket to EAGAIN.
 */
#include "event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { EVENTS_PER_WAIT = 256, FIRST_FD_TABLE = 256, FIRST_HEAP = 64 };

typedef struct fd_slot {
    od_fd_fn *fn;
    void *ctx;
    unsigned interest;
    bool in_epoll;
} fd_slot;

typedef struct hook {
    od_loop_hook *fn;
    void *ctx;
} hook;

struct od_loop {
    int epoll_fd;
    int wake_fd;
    atomic_bool stop_requested;
    bool skip_sleep;
    uint64_t now_ms;

    /* Written once by the running thread; read by od_loop_in_thread from
     * any thread, hence atomic. */
    _Atomic(bool) running;
    pthread_t runner;

    fd_slot *fds;
    size_t fd_capacity;

    od_timer **heap;
    size_t heap_len;
    size_t heap_capacity;
    uint64_t next_arm_order;

    hook before[OD_LOOP_MAX_HOOKS];
    size_t before_count;
    hook after[OD_LOOP_MAX_HOOKS];
    size_t after_count;

    pthread_mutex_t task_lock;
    od_task *task_head;
    od_task *task_tail;
};

uint64_t od_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void drain_tasks(od_loop *loop, int fd, unsigned ready, void *ctx);

od_loop *od_loop_create(void)
{
    od_loop *loop = calloc(1, sizeof *loop);
    if (loop == NULL)
        return NULL;
    loop->epoll_fd = -1;
    loop->wake_fd = -1;
    atomic_init(&loop->stop_requested, false);
    atomic_init(&loop->running, false);
    if (pthread_mutex_init(&loop->task_lock, NULL) != 0) {
        free(loop);
        errno = ENOMEM;
        return NULL;
    }
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epoll_fd < 0 || loop->wake_fd < 0 ||
        od_loop_watch(loop, loop->wake_fd, OD_READABLE, drain_tasks, NULL) != 0) {
        int saved = errno;
        od_loop_destroy(loop);
        errno = saved;
        return NULL;
    }
    loop->now_ms = od_monotonic_ms();
    return loop;
}

static void run_owned_task(od_loop *loop, od_task *task);

void od_loop_destroy(od_loop *loop)
{
    if (loop == NULL)
        return;
    for (od_task *t = loop->task_head, *next; t != NULL; t = next) {
        next = t->next;
        if (t->fn == run_owned_task)
            free(t);
    }
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    for (size_t i = 0; i < loop->heap_len; i++)
        loop->heap[i]->heap_slot = OD_TIMER_IDLE;
    pthread_mutex_destroy(&loop->task_lock);
    free(loop->fds);
    free(loop->heap);
    free(loop);
}

void od_loop_stop(od_loop *loop)
{
    atomic_store(&loop->stop_requested, true);
    od_loop_wake(loop);
}

void od_loop_wake(od_loop *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake. */
    ssize_t n = write(loop->wake_fd, &one, sizeof one);
    (void)n;
}

void od_loop_skip_sleep(od_loop *loop)
{
    loop->skip_sleep = true;
}

bool od_loop_in_thread(const od_loop *loop)
{
    return atomic_load(&loop->running) && pthread_equal(loop->runner, pthread_self());
}

uint64_t od_loop_now(const od_loop *loop)
{
    return loop->now_ms;
}

/* ------------------------------------------------------------ file events */

static int ensure_fd_slot(od_loop *loop, int fd)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if ((size_t)fd < loop->fd_capacity)
        return 0;
    size_t capacity = loop->fd_capacity ? loop->fd_capacity : FIRST_FD_TABLE;
    while (capacity <= (size_t)fd)
        capacity *= 2;
    fd_slot *grown = realloc(loop->fds, capacity * sizeof *grown);
    if (grown == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memset(grown + loop->fd_capacity, 0, (capacity - loop->fd_capacity) * sizeof *grown);
    loop->fds = grown;
    loop->fd_capacity = capacity;
    return 0;
}

static int apply_interest(od_loop *loop, int fd, unsigned interest)
{
    fd_slot *slot = &loop->fds[fd];
    if (interest == 0) {
        /* Deregister rather than register with no events: epoll reports
         * hang-ups regardless of the mask, which would spin a paused reader. */
        if (slot->in_epoll && epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL) != 0)
            return -1;
        slot->in_epoll = false;
        slot->interest = 0;
        return 0;
    }
    struct epoll_event ev = {0};
    ev.events = ((interest & OD_READABLE) ? EPOLLIN : 0u) | ((interest & OD_WRITABLE) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(loop->epoll_fd, slot->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0)
        return -1;
    slot->in_epoll = true;
    slot->interest = interest;
    return 0;
}

int od_loop_watch(od_loop *loop, int fd, unsigned interest, od_fd_fn *fn, void *ctx)
{
    if (ensure_fd_slot(loop, fd) != 0)
        return -1;
    loop->fds[fd].fn = fn;
    loop->fds[fd].ctx = ctx;
    return apply_interest(loop, fd, interest & (OD_READABLE | OD_WRITABLE));
}

int od_loop_set_interest(od_loop *loop, int fd, unsigned interest)
{
    if (fd < 0 || (size_t)fd >= loop->fd_capacity || loop->fds[fd].fn == NULL) {
        errno = EBADF;
        return -1;
    }
    interest &= OD_READABLE | OD_WRITABLE;
    if (interest == loop->fds[fd].interest)
        return 0;
    return apply_interest(loop, fd, interest);
}

unsigned od_loop_interest(const od_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fd_capacity)
        return 0;
    return loop->fds[fd].interest;
}

void od_loop_unwatch(od_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->fd_capacity)
        return;
    fd_slot *slot = &loop->fds[fd];
    if (slot->in_epoll)
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    memset(slot, 0, sizeof *slot);
}

/* ----------------------------------------------------------------- timers */

void od_timer_init(od_timer *timer, od_timer_fn *fn, void *ctx)
{
    timer->fn = fn;
    timer->ctx = ctx;
    timer->deadline_ms = 0;
    timer->arm_order = 0;
    timer->heap_slot = OD_TIMER_IDLE;
}

static bool fires_before(const od_timer *a, const od_timer *b)
{
    if (a->deadline_ms != b->deadline_ms)
        return a->deadline_ms < b->deadline_ms;
    return a->arm_order < b->arm_order;
}

static void heap_place(od_loop *loop, size_t slot, od_timer *timer)
{
    loop->heap[slot] = timer;
    timer->heap_slot = slot;
}

static void sift_up(od_loop *loop, size_t slot)
{
    od_timer *moving = loop->heap[slot];
    while (slot > 0) {
        size_t parent = (slot - 1) / 2;
        if (!fires_before(moving, loop->heap[parent]))
            break;
        heap_place(loop, slot, loop->heap[parent]);
        slot = parent;
    }
    heap_place(loop, slot, moving);
}

static void sift_down(od_loop *loop, size_t slot)
{
    od_timer *moving = loop->heap[slot];
    for (;;) {
        size_t child = 2 * slot + 1;
        if (child >= loop->heap_len)
            break;
        if (child + 1 < loop->heap_len && fires_before(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!fires_before(loop->heap[child], moving))
            break;
        heap_place(loop, slot, loop->heap[child]);
        slot = child;
    }
    heap_place(loop, slot, moving);
}

static void heap_remove(od_loop *loop, od_timer *timer)
{
    size_t slot = timer->heap_slot;
    timer->heap_slot = OD_TIMER_IDLE;
    od_timer *last = loop->heap[--loop->heap_len];
    if (slot == loop->heap_len)
        return;
    heap_place(loop, slot, last);
    sift_down(loop, slot);
    sift_up(loop, last->heap_slot);
}

int od_timer_arm_at(od_loop *loop, od_timer *timer, uint64_t deadline_ms)
{
    if (od_timer_armed(timer))
        heap_remove(loop, timer);
    if (loop->heap_len == loop->heap_capacity) {
        size_t capacity = loop->heap_capacity ? loop->heap_capacity * 2 : FIRST_HEAP;
        od_timer **grown = realloc(loop->heap, capacity * sizeof *grown);
        if (grown == NULL) {
            errno = ENOMEM;
            return -1;
        }
        loop->heap = grown;
        loop->heap_capacity = capacity;
    }
    timer->deadline_ms = deadline_ms;
    timer->arm_order = loop->next_arm_order++;
    heap_place(loop, loop->heap_len++, timer);
    sift_up(loop, timer->heap_slot);
    return 0;
}

int od_timer_arm(od_loop *loop, od_timer *timer, uint64_t delay_ms)
{
    uint64_t deadline = loop->now_ms + delay_ms;
    if (deadline < loop->now_ms)
        deadline = UINT64_MAX;
    return od_timer_arm_at(loop, timer, deadline);
}

void od_timer_cancel(od_loop *loop, od_timer *timer)
{
    if (od_timer_armed(timer))
        heap_remove(loop, timer);
}

size_t od_loop_timer_count(const od_loop *loop)
{
    return loop->heap_len;
}

static void fire_due_timers(od_loop *loop)
{
    uint64_t armed_before = loop->next_arm_order; /* (I3) */
    loop->now_ms = od_monotonic_ms();
    while (loop->heap_len > 0) {
        od_timer *first = loop->heap[0];
        if (first->deadline_ms > loop->now_ms || first->arm_order >= armed_before)
            break;
        heap_remove(loop, first);
        first->fn(loop, first);
    }
}

static int wait_timeout_ms(od_loop *loop)
{
    if (loop->skip_sleep || atomic_load(&loop->stop_requested))
        return 0;
    if (loop->heap_len == 0)
        return -1;
    uint64_t now = od_monotonic_ms();
    uint64_t deadline = loop->heap[0]->deadline_ms;
    if (deadline <= now)
        return 0;
    uint64_t wait = deadline - now;
    return wait > 24u * 3600u * 1000u ? 24 * 3600 * 1000 : (int)wait;
}

/* ------------------------------------------------------------------ hooks */

static int add_hook(hook *hooks, size_t *count, od_loop_hook *fn, void *ctx)
{
    if (*count == OD_LOOP_MAX_HOOKS) {
        errno = ENOSPC;
        return -1;
    }
    hooks[*count] = (hook){fn, ctx};
    (*count)++;
    return 0;
}

int od_loop_add_before_sleep(od_loop *loop, od_loop_hook *fn, void *ctx)
{
    return add_hook(loop->before, &loop->before_count, fn, ctx);
}

int od_loop_add_after_sleep(od_loop *loop, od_loop_hook *fn, void *ctx)
{
    return add_hook(loop->after, &loop->after_count, fn, ctx);
}

/* ------------------------------------------------------------------ tasks */

void od_task_init(od_task *task, od_task_fn *fn, void *ctx)
{
    task->next = NULL;
    task->fn = fn;
    task->ctx = ctx;
}

void od_loop_post(od_loop *loop, od_task *task)
{
    task->next = NULL;
    pthread_mutex_lock(&loop->task_lock);
    bool was_empty = loop->task_head == NULL;
    if (was_empty)
        loop->task_head = task;
    else
        loop->task_tail->next = task;
    loop->task_tail = task;
    /* A non-empty queue already has a wakeup on its way (see drain_tasks).
     * Waking under the lock matters: once the loop can take this task it may
     * finish, stop and be destroyed, and the poster must not touch it after. */
    if (was_empty)
        od_loop_wake(loop);
    pthread_mutex_unlock(&loop->task_lock);
}

typedef struct owned_task {
    od_task task; /* first, so the task pointer is the allocation */
    void (*fn)(od_loop *loop, void *ctx);
} owned_task;

static void run_owned_task(od_loop *loop, od_task *task)
{
    owned_task *owned = (owned_task *)task;
    void (*fn)(od_loop *, void *) = owned->fn;
    void *ctx = task->ctx;
    free(owned);
    fn(loop, ctx);
}

int od_loop_post_fn(od_loop *loop, void (*fn)(od_loop *loop, void *ctx), void *ctx)
{
    owned_task *owned = malloc(sizeof *owned);
    if (owned == NULL) {
        errno = ENOMEM;
        return -1;
    }
    od_task_init(&owned->task, run_owned_task, ctx);
    owned->fn = fn;
    od_loop_post(loop, &owned->task);
    return 0;
}

static void drain_tasks(od_loop *loop, int fd, unsigned ready, void *ctx)
{
    /* Reset the counter before taking the queue: a post that lands after the
     * reset but before the take is run now, and one that lands after the take
     * finds the queue empty and wakes us again. Nothing is ever stranded. */
    uint64_t count;
    ssize_t n = read(fd, &count, sizeof count);
    (void)n;
    pthread_mutex_lock(&loop->task_lock);
    od_task *task = loop->task_head;
    loop->task_head = loop->task_tail = NULL;
    pthread_mutex_unlock(&loop->task_lock);
    while (task != NULL) {
        od_task *next = task->next; /* the callback may free or re-post it */
        task->fn(loop, task);
        task = next;
    }
}

/* ------------------------------------------------------------------- run */

static void dispatch(od_loop *loop, const struct epoll_event *events, int count)
{
    for (int i = 0; i < count; i++) {
        int fd = events[i].data.fd;
        if ((size_t)fd >= loop->fd_capacity)
            continue;
        fd_slot *slot = &loop->fds[fd];
        uint32_t got = events[i].events;
        unsigned ready = 0;
        if (got & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
            ready |= OD_READABLE;
        if (got & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ready |= OD_WRITABLE;
        ready &= slot->interest; /* (I4) */
        if (ready != 0 && slot->fn != NULL)
            slot->fn(loop, fd, ready, slot->ctx);
    }
}

int od_loop_run(od_loop *loop)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    loop->runner = pthread_self();
    atomic_store(&loop->running, true);
    int result = 0;
    while (!atomic_load(&loop->stop_requested)) {
        for (size_t i = 0; i < loop->before_count; i++)
            loop->before[i].fn(loop, loop->before[i].ctx);
        if (atomic_load(&loop->stop_requested))
            break;
        int timeout = wait_timeout_ms(loop);
        loop->skip_sleep = false;
        int n = epoll_wait(loop->epoll_fd, events, EVENTS_PER_WAIT, timeout);
        if (n < 0) {
            if (errno == EINTR)
                n = 0;
            else {
                result = -1;
                break;
            }
        }
        loop->now_ms = od_monotonic_ms();
        for (size_t i = 0; i < loop->after_count; i++)
            loop->after[i].fn(loop, loop->after[i].ctx);
        dispatch(loop, events, n);
        fire_due_timers(loop);
    }
    atomic_store(&loop->running, false);
    atomic_store(&loop->stop_requested, false);
    return result;
}
