/*
 * od_server implementation. server.h holds the thread and memory rules, the
 * connection state diagram and the numbered invariants; comments here cite
 * them as (I1)..(I6).
 *
 * Per network thread, three intrusive work lists connect the callbacks to
 * the safe points of the loop pass:
 *   flush list  - connections with finished requests; drained in
 *                 before-sleep after the before_reply hook (I2).
 *   close list  - connections marked for closing; drained at the end of
 *                 before-sleep, after the flush list, so nothing is freed
 *                 while a list or a callback still points at it (I4).
 *   resume list - connections whose reading was paused and may go on, with
 *                 whole frames possibly already buffered (no fd event will
 *                 announce them); drained in after-sleep so handlers never
 *                 run between the before_reply hook and the reply writes.
 *
 * Per connection, requests move through two FIFO queues:
 *   pending  - dispatched, in sequence order; finished ones are marked done
 *              and leave only from the front, which is what orders the
 *              replies (I1).
 *   sending  - replies spliced into the output chain; each remembers how
 *              many of its bytes are still unsent, and its arena is released
 *              when that reaches zero (the writer has moved past its links).
 */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

enum {
    INPUT_BUFFER_BYTES = 16384,
    FRAME_HEADER_MIN = 8,        /* api key, api version, correlation id */
    ACCEPTS_PER_EVENT = 64,
    ACCEPT_RETRY_MS = 100,       /* after running out of fds */
    LISTEN_BACKLOG = 1024,
    MAX_NETWORK_THREADS = 256,
};

#define WRITE_BUDGET_BYTES ((size_t)1 << 20) /* per connection per turn, for fairness */
#define DEFAULT_REQUEST_MAX_BYTES 104857600
#define DEFAULT_IDLE_MS 600000
#define DEFAULT_QUEUED_RESPONSE_BYTES ((size_t)4 << 20)
#define DEFAULT_MAX_IN_FLIGHT 64
#define DEFAULT_SHUTDOWN_TIMEOUT_MS 30000

typedef enum conn_state {
    CONN_READING_SIZE,
    CONN_READING_BODY,
    CONN_CLOSING,
    CONN_CLOSED,
} conn_state;

typedef struct listener {
    od_listener_config config; /* name and host point at owned copies */
    int fd;
    uint16_t port;
    od_server *server;
} listener;

/* Written only by the owning thread, read by anyone: relaxed atomics, no
 * read-modify-write needed. */
typedef struct thread_counters {
    atomic_uint_fast64_t connections_freed;
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t frames_rejected;
    atomic_uint_fast64_t read_pauses;
    atomic_uint_fast64_t bytes_received;
    atomic_uint_fast64_t bytes_sent;
} thread_counters;

static void count(atomic_uint_fast64_t *counter, uint64_t n)
{
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

typedef struct net_thread {
    od_server *server;
    unsigned index;
    od_loop *loop;
    pthread_t thread;
    bool started;

    od_conn *conns;          /* every connection not yet freed, zombies included */
    size_t conn_count;
    od_conn *flush_list;
    od_conn *close_list;
    od_conn *resume_list;

    bool draining;
    od_task drain_task;
    od_timer drain_deadline;
    thread_counters counters;
} net_thread;

struct od_conn {
    uint64_t id;
    int fd;
    net_thread *thread;
    const listener *listener;
    struct sockaddr_storage peer;
    conn_state state;
    od_task adopt_task;

    od_conn *prev, *next;   /* thread's connection list */
    od_conn *flush_next;
    od_conn *close_next;
    od_conn *resume_next;
    bool in_flush, in_close, in_resume;
    bool over_byte_bound;   /* hysteresis flag for (I5) */
    bool read_no_more;      /* a close-after reply was seen: the stream ends there */
    bool final_reply_queued;

    od_request *partial;    /* frame being read, READING_BODY only */
    od_request *pending_head, *pending_tail;
    od_request *sending_head, *sending_tail;
    unsigned in_flight;     /* dispatched and not yet freed */
    size_t answered_bytes;  /* replies finished but not yet in `output` */
    uint64_t next_sequence;
    od_chain output;

    uint64_t last_active_ms;
    od_timer idle_timer;
    void *handler_data;

    size_t input_start, input_end;
    uint8_t input[INPUT_BUFFER_BYTES];
};

struct od_server {
    od_server_config config;   /* defaults filled in; listeners point at `listeners` configs */
    listener *listeners;
    size_t listener_count;
    od_loop *accept_loop;
    od_timer accept_retry;
    net_thread *threads;
    unsigned thread_count;
    unsigned next_thread;
    atomic_bool shutdown_requested;
    bool shutdown_begun;
    bool ran;
    atomic_uint_fast64_t next_conn_id;
    atomic_uint_fast64_t connections_accepted; /* acceptor thread writes */
};

static void conn_mark_closing(od_conn *conn);
static void conn_update_interest(od_conn *conn);
static void conn_write(od_conn *conn);

/* ---------------------------------------------------------------- requests */

static void request_free(od_request *req)
{
    od_chain_discard(&req->response);
    od_arena_release(&req->arena);
    free(req);
}

static void request_finished(od_request *req);

static void completion_task(od_loop *loop, od_task *task)
{
    request_finished(task->ctx);
}

/* Allocates the request and its frame only after the size was validated (I3). */
static od_request *request_new(od_conn *conn, size_t frame_len)
{
    od_request *req = calloc(1, sizeof *req);
    if (req == NULL)
        return NULL;
    od_arena_init(&req->arena);
    uint8_t *frame = od_arena_alloc(&req->arena, frame_len);
    if (frame == NULL) {
        od_arena_release(&req->arena);
        free(req);
        return NULL;
    }
    req->conn = conn;
    req->frame = frame;
    req->frame_len = frame_len;
    od_chain_init(&req->response);
    req->net.loop = conn->thread->loop;
    od_task_init(&req->net.completion, completion_task, req);
    return req;
}

void od_request_complete_then_close(od_request *req)
{
    req->net.close_after = true;
    od_request_complete(req);
}

void od_request_complete(od_request *req)
{
    if (od_loop_in_thread(req->net.loop))
        request_finished(req);
    else
        od_loop_post(req->net.loop, &req->net.completion);
}

static void push_flush(od_conn *conn)
{
    if (conn->in_flush)
        return;
    conn->in_flush = true;
    conn->flush_next = conn->thread->flush_list;
    conn->thread->flush_list = conn;
}

static void push_close(od_conn *conn)
{
    if (conn->in_close)
        return;
    conn->in_close = true;
    conn->close_next = conn->thread->close_list;
    conn->thread->close_list = conn;
}

static void push_resume(od_conn *conn)
{
    if (conn->in_resume)
        return;
    conn->in_resume = true;
    conn->resume_next = conn->thread->resume_list;
    conn->thread->resume_list = conn;
    od_loop_skip_sleep(conn->thread->loop);
}

static void unlink_pending(od_conn *conn, od_request *req)
{
    od_request **link = &conn->pending_head;
    od_request *prev = NULL;
    while (*link != req) {
        prev = *link;
        link = &(*link)->net.next;
    }
    *link = req->net.next;
    if (conn->pending_tail == req)
        conn->pending_tail = prev;
    req->net.next = NULL;
}

/* Loop thread. Marks the request answered; its reply waits for every earlier
 * one (I1). On a dead connection the reply has nowhere to go. */
static void request_finished(od_request *req)
{
    od_conn *conn = req->conn;
    req->net.done = true;
    switch (conn->state) {
    case CONN_CLOSED:
        unlink_pending(conn, req);
        conn->in_flight--;
        request_free(req);
        if (conn->pending_head == NULL)
            push_close(conn); /* the zombie can be freed now */
        break;
    case CONN_CLOSING:
        break; /* close_marked_conns frees done requests */
    default:
        if (req->net.close_after)
            conn->read_no_more = true; /* interest follows at the next flush */
        /* Counted now, not at the next flush: a burst of pipelined requests
         * answered inside one parse must already hit the bound (I5). */
        conn->answered_bytes += req->response.bytes;
        push_flush(conn);
        break;
    }
}

/* ------------------------------------------------------------- connections */

static bool conn_live(const od_conn *conn)
{
    return conn->state == CONN_READING_SIZE || conn->state == CONN_READING_BODY;
}

static const od_server_config *conn_config(const od_conn *conn)
{
    return &conn->thread->server->config;
}

static bool conn_may_read(od_conn *conn)
{
    const od_server_config *cfg = conn_config(conn);
    size_t queued = conn->output.bytes + conn->answered_bytes;
    if (conn->over_byte_bound)
        conn->over_byte_bound = queued > cfg->max_queued_response_bytes / 2;
    else
        conn->over_byte_bound = queued > cfg->max_queued_response_bytes;
    return conn_live(conn) && !conn->thread->draining && !conn->over_byte_bound && !conn->read_no_more &&
           conn->in_flight < cfg->max_in_flight_requests;
}

static bool conn_quiet(const od_conn *conn)
{
    return conn->in_flight == 0 && od_chain_empty(&conn->output);
}

static void conn_update_interest(od_conn *conn)
{
    if (!conn_live(conn))
        return;
    od_loop *loop = conn->thread->loop;
    unsigned before = od_loop_interest(loop, conn->fd);
    bool read = conn_may_read(conn);
    unsigned interest = (read ? OD_READABLE : 0u) | (od_chain_empty(&conn->output) ? 0u : OD_WRITABLE);
    if (interest != before && od_loop_set_interest(loop, conn->fd, interest) != 0) {
        conn_mark_closing(conn);
        return;
    }
    if ((before & OD_READABLE) && !read && !conn->thread->draining && !conn->read_no_more)
        count(&conn->thread->counters.read_pauses, 1);
    /* Frames buffered while paused get no fd event; pick them up ourselves. */
    if (read && !(before & OD_READABLE) && conn->input_end > conn->input_start)
        push_resume(conn);
}

static void conn_mark_closing(od_conn *conn)
{
    if (!conn_live(conn))
        return;
    conn->state = CONN_CLOSING;
    od_loop_unwatch(conn->thread->loop, conn->fd);
    od_timer_cancel(conn->thread->loop, &conn->idle_timer);
    push_close(conn);
}

/* Dispatches a complete frame to the handler. */
static void conn_dispatch(od_conn *conn, od_request *req)
{
    const od_server_config *cfg = conn_config(conn);
    req->api_key = (int16_t)od_load_be16(req->frame);
    req->api_version = (int16_t)od_load_be16(req->frame + 2);
    req->correlation_id = (int32_t)od_load_be32(req->frame + 4);
    req->sequence = conn->next_sequence++;
    req->received_ms = od_loop_now(conn->thread->loop);
    count(&conn->thread->counters.requests, 1);
    /* Queue before calling out: the handler may complete it at once. */
    if (conn->pending_tail)
        conn->pending_tail->net.next = req;
    else
        conn->pending_head = req;
    conn->pending_tail = req;
    conn->in_flight++;
    switch (cfg->handler(cfg->handler_ctx, req)) {
    case OD_HANDLE_DONE:
        request_finished(req);
        break;
    case OD_HANDLE_LATER:
        break;
    case OD_HANDLE_CLOSE:
        req->net.done = true;
        conn_mark_closing(conn);
        break;
    case OD_HANDLE_REPLY_THEN_CLOSE:
        req->net.close_after = true;
        request_finished(req);
        break;
    }
}

static void conn_body_complete(od_conn *conn)
{
    od_request *req = conn->partial;
    conn->partial = NULL;
    conn->state = CONN_READING_SIZE;
    conn_dispatch(conn, req);
}

/* Turns buffered input into frames for as long as the connection may take
 * more requests. */
static void conn_parse(od_conn *conn)
{
    const od_server_config *cfg = conn_config(conn);
    while (conn_may_read(conn)) {
        size_t available = conn->input_end - conn->input_start;
        if (conn->state == CONN_READING_SIZE) {
            if (available < 4)
                break;
            const uint8_t *prefix = conn->input + conn->input_start;
            int32_t size = (int32_t)od_load_be32(prefix);
            /* Judge the size as soon as it is in, not after the header: a
             * peer that sends only a bad size must not hold the socket. */
            bool refused = size < FRAME_HEADER_MIN || size > cfg->socket_request_max_bytes;
            if (!refused && available < 4 + FRAME_HEADER_MIN)
                break;
            if (!refused && cfg->admit_frame)
                refused = !cfg->admit_frame(cfg->handler_ctx, conn, (int16_t)od_load_be16(prefix + 4),
                                            (int16_t)od_load_be16(prefix + 6), size);
            if (refused) {
                count(&conn->thread->counters.frames_rejected, 1);
                conn_mark_closing(conn); /* (I3): nothing allocated */
                return;
            }
            conn->partial = request_new(conn, (size_t)size);
            if (conn->partial == NULL) {
                conn_mark_closing(conn);
                return;
            }
            conn->input_start += 4;
            conn->state = CONN_READING_BODY;
            available -= 4;
        }
        od_request *req = conn->partial;
        size_t missing = req->frame_len - req->net.frame_have;
        size_t take = available < missing ? available : missing;
        memcpy((uint8_t *)req->frame + req->net.frame_have, conn->input + conn->input_start, take);
        req->net.frame_have += take;
        conn->input_start += take;
        if (req->net.frame_have < req->frame_len)
            break;
        conn_body_complete(conn);
    }
    if (conn->input_start == conn->input_end)
        conn->input_start = conn->input_end = 0;
}

static void conn_read(od_conn *conn)
{
    /* Frames left over from a pause go first; reading more into a buffer
     * they still fill could find no room. */
    if (conn->input_end > conn->input_start) {
        conn_parse(conn);
        if (!conn_may_read(conn)) {
            conn_update_interest(conn);
            return;
        }
    }
    od_request *req = conn->partial;
    ssize_t n;
    bool direct = false;
    if (conn->state == CONN_READING_BODY && conn->input_start == conn->input_end &&
        req->frame_len - req->net.frame_have >= INPUT_BUFFER_BYTES) {
        /* Large bodies go straight into the frame, skipping a copy. */
        direct = true;
        n = read(conn->fd, (uint8_t *)req->frame + req->net.frame_have,
                 req->frame_len - req->net.frame_have);
    } else {
        if (conn->input_start > 0) {
            memmove(conn->input, conn->input + conn->input_start, conn->input_end - conn->input_start);
            conn->input_end -= conn->input_start;
            conn->input_start = 0;
        }
        n = read(conn->fd, conn->input + conn->input_end, INPUT_BUFFER_BYTES - conn->input_end);
    }
    if (n == 0) {
        conn_mark_closing(conn);
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_mark_closing(conn);
        return;
    }
    conn->last_active_ms = od_loop_now(conn->thread->loop);
    count(&conn->thread->counters.bytes_received, (uint64_t)n);
    if (direct) {
        req->net.frame_have += (size_t)n;
        if (req->net.frame_have == req->frame_len)
            conn_body_complete(conn);
    } else {
        conn->input_end += (size_t)n;
    }
    if (conn_live(conn))
        conn_parse(conn);
    conn_update_interest(conn);
}

/* Releases the requests whose last byte just left (the writer has already
 * moved past their links, chain.h I2). */
static void conn_retire(od_conn *conn, size_t sent)
{
    while (sent > 0) {
        od_request *req = conn->sending_head;
        size_t step = sent < req->net.unsent ? sent : req->net.unsent;
        req->net.unsent -= step;
        sent -= step;
        if (req->net.unsent == 0) {
            conn->sending_head = req->net.next;
            if (conn->sending_head == NULL)
                conn->sending_tail = NULL;
            conn->in_flight--;
            request_free(req);
        }
    }
}

static void conn_write(od_conn *conn)
{
    if (!conn_live(conn))
        return;
    if (!od_chain_empty(&conn->output)) {
        size_t sent = 0;
        od_io io = od_chain_write(&conn->output, conn->fd, WRITE_BUDGET_BYTES, &sent);
        conn_retire(conn, sent);
        if (sent) {
            conn->last_active_ms = od_loop_now(conn->thread->loop);
            count(&conn->thread->counters.bytes_sent, sent);
        }
        if (io == OD_IO_ERROR) {
            conn_mark_closing(conn);
            return;
        }
    }
    if ((conn->thread->draining && conn_quiet(conn)) ||
        (conn->final_reply_queued && od_chain_empty(&conn->output))) {
        conn_mark_closing(conn);
        return;
    }
    conn_update_interest(conn);
}

/* Moves the answered front of the pending queue into the output chain, each
 * reply behind its size prefix, then writes what the socket takes. */
static void conn_flush(od_conn *conn)
{
    if (!conn_live(conn))
        return;
    while (!conn->final_reply_queued && conn->pending_head && conn->pending_head->net.done) {
        od_request *req = conn->pending_head;
        conn->pending_head = req->net.next;
        if (conn->pending_head == NULL)
            conn->pending_tail = NULL;
        req->net.next = NULL;
        conn->answered_bytes -= req->response.bytes;
        conn->final_reply_queued = req->net.close_after;
        if (od_chain_empty(&req->response)) { /* no reply expected */
            conn->in_flight--;
            request_free(req);
            continue;
        }
        size_t body = req->response.bytes;
        uint8_t prefix[4];
        od_store_be32(prefix, (uint32_t)body);
        if (body > INT32_MAX || od_chain_prepend_copy(&req->response, &req->arena, prefix, 4) == NULL) {
            conn->in_flight--;
            request_free(req);
            conn_mark_closing(conn); /* the stream cannot go on without this reply */
            return;
        }
        req->net.unsent = req->response.bytes;
        od_chain_splice(&conn->output, &req->response);
        if (conn->sending_tail)
            conn->sending_tail->net.next = req;
        else
            conn->sending_head = req;
        conn->sending_tail = req;
    }
    conn_write(conn);
}

static void conn_event(od_loop *loop, int fd, unsigned ready, void *ctx)
{
    od_conn *conn = ctx;
    if (ready & OD_WRITABLE)
        conn_write(conn);
    if ((ready & OD_READABLE) && conn_live(conn))
        conn_read(conn);
}

static void conn_idle_check(od_loop *loop, od_timer *timer)
{
    od_conn *conn = timer->ctx;
    int64_t idle = conn_config(conn)->connections_max_idle_ms;
    uint64_t quiet_for = od_loop_now(loop) - conn->last_active_ms;
    if (!conn_quiet(conn) || quiet_for < (uint64_t)idle) {
        /* Busy connections are not idle; check again when they could be. */
        uint64_t wait = conn_quiet(conn) ? (uint64_t)idle - quiet_for : (uint64_t)idle;
        if (od_timer_arm(loop, timer, wait) != 0)
            conn_mark_closing(conn);
        return;
    }
    conn_mark_closing(conn);
}

static void unlink_from(od_conn **list, od_conn *conn, size_t next_offset)
{
    for (od_conn **p = list; *p != NULL; p = (od_conn **)((char *)*p + next_offset)) {
        if (*p == conn) {
            *p = *(od_conn **)((char *)conn + next_offset);
            return;
        }
    }
}

static void conn_free(od_conn *conn)
{
    net_thread *nt = conn->thread;
    const od_server_config *cfg = &nt->server->config;
    if (cfg->conn_closed)
        cfg->conn_closed(cfg->handler_ctx, conn);
    if (conn->in_flush)
        unlink_from(&nt->flush_list, conn, offsetof(od_conn, flush_next));
    if (conn->in_resume)
        unlink_from(&nt->resume_list, conn, offsetof(od_conn, resume_next));
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        nt->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    nt->conn_count--;
    count(&nt->counters.connections_freed, 1);
    free(conn);
}

/* The safe point of (I4): runs last in before-sleep. */
static void close_marked_conns(net_thread *nt)
{
    while (nt->close_list) {
        od_conn *conn = nt->close_list;
        nt->close_list = conn->close_next;
        conn->in_close = false;
        if (conn->state == CONN_CLOSING) {
            /* Closing here rather than when marked also keeps the fd number
             * from being reused while events for it may still be queued. */
            close(conn->fd);
            conn->fd = -1;
            conn->state = CONN_CLOSED;
            if (conn->partial)
                request_free(conn->partial);
            conn->partial = NULL;
            /* Discard the chain before the arenas its links live in. */
            od_chain_discard(&conn->output);
            while (conn->sending_head) {
                od_request *req = conn->sending_head;
                conn->sending_head = req->net.next;
                conn->in_flight--;
                request_free(req);
            }
            conn->sending_tail = NULL;
            for (od_request *req = conn->pending_head, *next; req; req = next) {
                next = req->net.next;
                if (req->net.done) {
                    unlink_pending(conn, req);
                    conn->in_flight--;
                    request_free(req);
                }
            }
        }
        if (conn->state == CONN_CLOSED && conn->pending_head == NULL)
            conn_free(conn);
    }
    if (nt->draining && nt->conn_count == 0)
        od_loop_stop(nt->loop);
}

static void net_before_sleep(od_loop *loop, void *ctx)
{
    net_thread *nt = ctx;
    const od_server_config *cfg = &nt->server->config;
    if (cfg->before_reply)
        cfg->before_reply(cfg->before_reply_ctx, nt->index);
    while (nt->flush_list) {
        od_conn *conn = nt->flush_list;
        nt->flush_list = conn->flush_next;
        conn->in_flush = false;
        conn_flush(conn);
    }
    close_marked_conns(nt);
}

static void net_after_sleep(od_loop *loop, void *ctx)
{
    net_thread *nt = ctx;
    while (nt->resume_list) {
        od_conn *conn = nt->resume_list;
        nt->resume_list = conn->resume_next;
        conn->in_resume = false;
        if (conn_live(conn)) {
            conn_parse(conn);
            conn_update_interest(conn);
        }
    }
}

static void conn_adopt(od_loop *loop, od_task *task)
{
    od_conn *conn = task->ctx;
    net_thread *nt = conn->thread;
    if (nt->draining) {
        close(conn->fd);
        free(conn);
        count(&nt->counters.connections_freed, 1);
        return;
    }
    conn->next = nt->conns;
    if (nt->conns)
        nt->conns->prev = conn;
    nt->conns = conn;
    nt->conn_count++;
    conn->last_active_ms = od_loop_now(loop);
    int64_t idle = conn_config(conn)->connections_max_idle_ms;
    if (od_loop_watch(loop, conn->fd, OD_READABLE, conn_event, conn) != 0 ||
        (idle > 0 && od_timer_arm(loop, &conn->idle_timer, (uint64_t)idle) != 0))
        conn_mark_closing(conn);
}

/* --------------------------------------------------------------- shutdown */

static void drain_deadline_passed(od_loop *loop, od_timer *timer)
{
    net_thread *nt = timer->ctx;
    for (od_conn *conn = nt->conns; conn; conn = conn->next)
        conn_mark_closing(conn);
    od_loop_skip_sleep(loop);
}

static void drain_thread(od_loop *loop, od_task *task)
{
    net_thread *nt = task->ctx;
    nt->draining = true;
    const od_server_config *cfg = &nt->server->config;
    if (cfg->draining)
        cfg->draining(cfg->handler_ctx, nt->index);
    od_timer_arm(loop, &nt->drain_deadline, (uint64_t)cfg->shutdown_timeout_ms);
    for (od_conn *conn = nt->conns; conn; conn = conn->next) {
        if (!conn_live(conn))
            continue;
        if (conn->partial) {
            request_free(conn->partial); /* never dispatched: nobody is owed a reply */
            conn->partial = NULL;
            conn->state = CONN_READING_SIZE;
        }
        conn->input_start = conn->input_end = 0;
        if (conn_quiet(conn))
            conn_mark_closing(conn);
        else
            conn_update_interest(conn);
    }
    /* The stop check lives in before-sleep; make sure it comes round. */
    od_loop_skip_sleep(loop);
}

/* --------------------------------------------------------------- acceptor */

static void set_listen_interest(od_server *server, unsigned interest)
{
    for (size_t i = 0; i < server->listener_count; i++)
        if (server->listeners[i].fd >= 0)
            od_loop_set_interest(server->accept_loop, server->listeners[i].fd, interest);
}

static void accept_retry_fire(od_loop *loop, od_timer *timer)
{
    od_server *server = timer->ctx;
    if (!server->shutdown_begun)
        set_listen_interest(server, OD_READABLE);
}

static void hand_off(od_server *server, const listener *l, int fd, const struct sockaddr_storage *peer)
{
    const od_server_config *cfg = &server->config;
    if (peer->ss_family == AF_INET || peer->ss_family == AF_INET6) {
        int one = 1;
        /* Replies are whole frames written at once: Nagle only adds delay.
         * Keepalive lets the kernel drop a peer that vanished without a FIN
         * even while a request in flight keeps our idle timer from firing. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    if (cfg->socket_send_buffer_bytes > 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->socket_send_buffer_bytes, sizeof(int));
    if (cfg->socket_receive_buffer_bytes > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->socket_receive_buffer_bytes, sizeof(int));
    od_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        close(fd);
        return;
    }
    net_thread *nt = &server->threads[server->next_thread++ % server->thread_count];
    count(&server->connections_accepted, 1);
    conn->id = atomic_fetch_add(&server->next_conn_id, 1);
    conn->fd = fd;
    conn->thread = nt;
    conn->listener = l;
    conn->peer = *peer;
    conn->state = CONN_READING_SIZE;
    od_chain_init(&conn->output);
    od_timer_init(&conn->idle_timer, conn_idle_check, conn);
    od_task_init(&conn->adopt_task, conn_adopt, conn);
    od_loop_post(nt->loop, &conn->adopt_task);
}

static void listener_readable(od_loop *loop, int fd, unsigned ready, void *ctx)
{
    listener *l = ctx;
    od_server *server = l->server;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int conn_fd = accept4(fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn_fd >= 0) {
            hand_off(server, l, conn_fd, &peer);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Level-triggered readiness would spin; back off and retry. */
            set_listen_interest(server, 0);
            od_timer_arm(loop, &server->accept_retry, ACCEPT_RETRY_MS);
        }
        return;
    }
}

static void begin_shutdown(od_server *server)
{
    server->shutdown_begun = true;
    od_timer_cancel(server->accept_loop, &server->accept_retry);
    for (size_t i = 0; i < server->listener_count; i++) {
        listener *l = &server->listeners[i];
        if (l->fd >= 0) {
            od_loop_unwatch(server->accept_loop, l->fd);
            close(l->fd);
            l->fd = -1;
        }
    }
    /* Posted after every adopt task this thread ever posted, so each network
     * thread sees all its connections before it drains. */
    for (unsigned i = 0; i < server->thread_count; i++)
        if (server->threads[i].started)
            od_loop_post(server->threads[i].loop, &server->threads[i].drain_task);
    od_loop_stop(server->accept_loop);
}

static void acceptor_after_sleep(od_loop *loop, void *ctx)
{
    od_server *server = ctx;
    if (!server->shutdown_begun && atomic_load(&server->shutdown_requested))
        begin_shutdown(server);
}

/* ------------------------------------------------------------------ setup */

static int open_listener(listener *l, const char **error)
{
    const char *host = l->config.host;
    char bare[256];
    size_t host_len = host ? strlen(host) : 0;
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']' && host_len - 2 < sizeof bare) {
        memcpy(bare, host + 1, host_len - 2); /* "[::1]" as in listener URLs */
        bare[host_len - 2] = '\0';
        host = bare;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)l->config.port);
    struct addrinfo hints = {0};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    /* No host: one dual-stack IPv6 socket serves both families where it can. */
    hints.ai_family = (host == NULL || host[0] == '\0') ? AF_INET6 : AF_UNSPEC;
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(host && host[0] ? host : NULL, port, &hints, &found);
    if (rc != 0 && hints.ai_family == AF_INET6) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, port, &hints, &found);
    }
    if (rc != 0) {
        *error = "cannot resolve listener host";
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int saved_errno = EADDRNOTAVAIL;
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved_errno = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6 && (host == NULL || host[0] == '\0'))
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_storage bound;
        socklen_t bound_len = sizeof bound;
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0 &&
            getsockname(fd, (struct sockaddr *)&bound, &bound_len) == 0) {
            l->fd = fd;
            l->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                        : ((struct sockaddr_in *)&bound)->sin_port);
            freeaddrinfo(found);
            return 0;
        }
        saved_errno = errno;
        close(fd);
    }
    freeaddrinfo(found);
    *error = "cannot bind listener";
    errno = saved_errno;
    return -1;
}

static char *copy_string(const char *s)
{
    return s ? strdup(s) : NULL;
}

static unsigned default_thread_count(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > MAX_NETWORK_THREADS ? MAX_NETWORK_THREADS : (unsigned)cores;
}

static const char *fill_defaults(od_server_config *cfg)
{
    if (cfg->handler == NULL)
        return "a request handler is required";
    if (cfg->listener_count == 0 || cfg->listeners == NULL)
        return "at least one listener is required";
    for (size_t i = 0; i < cfg->listener_count; i++)
        if (cfg->listeners[i].security != OD_SECURITY_PLAINTEXT)
            return "only PLAINTEXT listeners are supported so far";
    if (cfg->socket_request_max_bytes < 0)
        return "socket.request.max.bytes must not be negative";
    if (cfg->socket_request_max_bytes == 0)
        cfg->socket_request_max_bytes = DEFAULT_REQUEST_MAX_BYTES;
    if (cfg->socket_request_max_bytes < FRAME_HEADER_MIN)
        return "socket.request.max.bytes is smaller than a request header";
    if (cfg->connections_max_idle_ms == 0)
        cfg->connections_max_idle_ms = DEFAULT_IDLE_MS;
    if (cfg->max_queued_response_bytes == 0)
        cfg->max_queued_response_bytes = DEFAULT_QUEUED_RESPONSE_BYTES;
    if (cfg->max_in_flight_requests == 0)
        cfg->max_in_flight_requests = DEFAULT_MAX_IN_FLIGHT;
    if (cfg->shutdown_timeout_ms <= 0)
        cfg->shutdown_timeout_ms = DEFAULT_SHUTDOWN_TIMEOUT_MS;
    if (cfg->network_threads == 0)
        cfg->network_threads = default_thread_count();
    if (cfg->network_threads > MAX_NETWORK_THREADS)
        return "too many network threads";
    return NULL;
}

od_server *od_server_create(const od_server_config *config, const char **error)
{
    const char *ignored;
    if (error == NULL)
        error = &ignored;
    *error = NULL;
    od_server_config cfg = *config;
    if ((*error = fill_defaults(&cfg)) != NULL) {
        errno = EINVAL;
        return NULL;
    }
    od_server *server = calloc(1, sizeof *server);
    if (server == NULL) {
        *error = "out of memory";
        return NULL;
    }
    server->config = cfg;
    atomic_init(&server->shutdown_requested, false);
    atomic_init(&server->next_conn_id, 1);
    atomic_init(&server->connections_accepted, 0);
    od_timer_init(&server->accept_retry, accept_retry_fire, server);
    server->listeners = calloc(cfg.listener_count, sizeof *server->listeners);
    server->threads = calloc(cfg.network_threads, sizeof *server->threads);
    server->accept_loop = od_loop_create();
    if (server->listeners == NULL || server->threads == NULL || server->accept_loop == NULL) {
        *error = "out of memory";
        goto fail;
    }
    server->config.listeners = NULL; /* the caller's array is not kept */
    for (size_t i = 0; i < cfg.listener_count; i++) {
        listener *l = &server->listeners[i];
        l->fd = -1;
        l->server = server;
        l->config = cfg.listeners[i];
        l->config.name = copy_string(cfg.listeners[i].name);
        l->config.host = copy_string(cfg.listeners[i].host);
        server->listener_count++;
        if ((cfg.listeners[i].name && !l->config.name) || (cfg.listeners[i].host && !l->config.host)) {
            *error = "out of memory";
            goto fail;
        }
        if (open_listener(l, error) != 0)
            goto fail;
        if (od_loop_watch(server->accept_loop, l->fd, OD_READABLE, listener_readable, l) != 0) {
            *error = "cannot watch listener";
            goto fail;
        }
    }
    if (od_loop_add_after_sleep(server->accept_loop, acceptor_after_sleep, server) != 0)
        goto fail;
    for (unsigned i = 0; i < cfg.network_threads; i++) {
        net_thread *nt = &server->threads[i];
        nt->server = server;
        nt->index = i;
        od_task_init(&nt->drain_task, drain_thread, nt);
        od_timer_init(&nt->drain_deadline, drain_deadline_passed, nt);
        nt->loop = od_loop_create();
        server->thread_count++;
        if (nt->loop == NULL || od_loop_add_before_sleep(nt->loop, net_before_sleep, nt) != 0 ||
            od_loop_add_after_sleep(nt->loop, net_after_sleep, nt) != 0) {
            *error = "cannot create a network thread's loop";
            goto fail;
        }
    }
    return server;
fail: {
    int saved = errno;
    od_server_destroy(server);
    errno = saved ? saved : ENOMEM;
    return NULL;
}
}

static void *network_thread_main(void *arg)
{
    net_thread *nt = arg;
    od_loop_run(nt->loop);
    return NULL;
}

int od_server_run(od_server *server)
{
    if (server->ran) {
        errno = EINVAL;
        return -1;
    }
    server->ran = true;
    /* Network threads take no signals: a peer that hangs up mid-sendfile
     * must not kill the process, and signal handling belongs to the caller. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int create_error = 0;
    for (unsigned i = 0; i < server->thread_count && create_error == 0; i++) {
        net_thread *nt = &server->threads[i];
        create_error = pthread_create(&nt->thread, NULL, network_thread_main, nt);
        nt->started = create_error == 0;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (create_error != 0)
        od_server_shutdown(server);
    od_loop_run(server->accept_loop);
    if (!server->shutdown_begun)
        begin_shutdown(server); /* the acceptor loop failed on its own */
    for (unsigned i = 0; i < server->thread_count; i++)
        if (server->threads[i].started)
            pthread_join(server->threads[i].thread, NULL);
    if (create_error != 0) {
        errno = create_error;
        return -1;
    }
    return 0;
}

void od_server_shutdown(od_server *server)
{
    atomic_store(&server->shutdown_requested, true);
    od_loop_wake(server->accept_loop);
}

void od_server_destroy(od_server *server)
{
    if (server == NULL)
        return;
    for (size_t i = 0; i < server->listener_count; i++) {
        listener *l = &server->listeners[i];
        if (l->fd >= 0)
            close(l->fd);
        free((char *)l->config.name);
        free((char *)l->config.host);
    }
    for (unsigned i = 0; i < server->thread_count; i++)
        od_loop_destroy(server->threads[i].loop);
    od_loop_destroy(server->accept_loop);
    free(server->listeners);
    free(server->threads);
    free(server);
}

uint16_t od_server_port(const od_server *server, size_t index)
{
    return index < server->listener_count ? server->listeners[index].port : 0;
}

unsigned od_server_network_threads(const od_server *server)
{
    return server->thread_count;
}

void od_server_stats_read(const od_server *server, od_server_stats *out)
{
    memset(out, 0, sizeof *out);
    out->connections_accepted = atomic_load_explicit(&server->connections_accepted, memory_order_relaxed);
    for (unsigned i = 0; i < server->thread_count; i++) {
        const thread_counters *c = &server->threads[i].counters;
        out->connections_freed += atomic_load_explicit(&c->connections_freed, memory_order_relaxed);
        out->requests += atomic_load_explicit(&c->requests, memory_order_relaxed);
        out->frames_rejected += atomic_load_explicit(&c->frames_rejected, memory_order_relaxed);
        out->read_pauses += atomic_load_explicit(&c->read_pauses, memory_order_relaxed);
        out->bytes_received += atomic_load_explicit(&c->bytes_received, memory_order_relaxed);
        out->bytes_sent += atomic_load_explicit(&c->bytes_sent, memory_order_relaxed);
    }
}

uint64_t od_conn_id(const od_conn *conn)
{
    return conn->id;
}

const od_listener_config *od_conn_listener(const od_conn *conn)
{
    return &conn->listener->config;
}

const struct sockaddr_storage *od_conn_peer(const od_conn *conn)
{
    return &conn->peer;
}

od_loop *od_conn_loop(const od_conn *conn)
{
    return conn->thread->loop;
}

unsigned od_conn_network_thread(const od_conn *conn)
{
    return conn->thread->index;
}

void od_conn_set_data(od_conn *conn, void *data)
{
    conn->handler_data = data;
}

void *od_conn_data(const od_conn *conn)
{
    return conn->handler_data;
}
