/*
 * Server and connections over real loopback sockets: pipelined requests on
 * many connections answered in order while half of them finish on another
 * thread in random order; deferred replies completed in reverse; bad frame
 * sizes; backpressure; idle timeout; handler-requested close; graceful
 * shutdown with a request still in flight; an IPv6 listener.
 *
 * Test API keys (the layer does not care what they mean):
 *   0 echo now, 1 echo from the worker thread in random order,
 *   2 reply with N bytes (N = first 4 payload bytes), 3 close the connection,
 *   4 park the request for the test thread to complete, 5 no reply,
 *   6 "append" (echo now, remember the correlation id as appended),
 *   7 echo once the before_reply hook has run, 8 reply with a file region
 *   (offset and length in the payload), 9 count requests on this
 *   connection in its handler data and reply with the count, 10 echo and
 *   then close, 11 echo after a 50 ms timer on the connection's loop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "od_test.h"
#include "server.h"
#include "wire.h"

enum { API_ECHO = 0, API_ECHO_LATER = 1, API_SIZED = 2, API_CLOSE = 3, API_PARK = 4, API_SILENT = 5,
       API_APPEND = 6, API_AFTER_FLUSH = 7, API_FILE = 8, API_COUNT = 9,
       API_REPLY_THEN_CLOSE = 10, API_DELAYED = 11 };

/* ------------------------------------------------------------ handler side */

typedef struct test_state {
    atomic_int handled;
    pthread_mutex_t lock;
    od_request *later[4096];
    int later_count;
    od_request *parked[64];
    atomic_int parked_count;
    atomic_bool worker_stop;
    int wrong_thread_reads;
    uint32_t seed;
    atomic_int appended;     /* highest API_APPEND correlation id handled */
    atomic_int flushed;      /* what the before_reply hook last made durable */
    od_request *awaiting_flush[64];
    int awaiting_count;      /* touched only on the one network thread of that test */
    int file_fd;
    atomic_int conns_closed;
} test_state;

static test_state state = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void build_echo(od_request *req)
{
    uint8_t corr[4];
    od_store_be32(corr, (uint32_t)req->correlation_id);
    od_chain_add_copy(&req->response, &req->arena, corr, 4);
    od_chain_add_memory(&req->response, &req->arena, req->frame + 8, req->frame_len - 8, NULL);
}

/* A delayed reply the way a Fetch waiting for data would do it: a timer on
 * the connection's own loop, kept in the request's arena. */
typedef struct delayed_reply {
    od_timer timer;
    od_request *req;
} delayed_reply;

static void delayed_reply_due(od_loop *loop, od_timer *timer)
{
    delayed_reply *d = timer->ctx;
    build_echo(d->req);
    od_request_complete(d->req); /* on the loop thread: no hop through the queue */
}

static od_handle_result test_handler(void *ctx, od_request *req)
{
    atomic_fetch_add(&state.handled, 1);
    switch (req->api_key) {
    case API_ECHO:
        build_echo(req);
        return OD_HANDLE_DONE;
    case API_ECHO_LATER:
        pthread_mutex_lock(&state.lock);
        state.later[state.later_count++] = req;
        pthread_mutex_unlock(&state.lock);
        return OD_HANDLE_LATER;
    case API_SIZED: {
        uint32_t n = req->frame_len >= 12 ? od_load_be32(req->frame + 8) : 0;
        uint8_t corr[4];
        od_store_be32(corr, (uint32_t)req->correlation_id);
        od_chain_add_copy(&req->response, &req->arena, corr, 4);
        uint8_t *body = od_arena_alloc(&req->arena, n);
        for (uint32_t i = 0; i < n; i++)
            body[i] = (uint8_t)(i + (uint32_t)req->correlation_id);
        od_chain_add_memory(&req->response, &req->arena, body, n, NULL);
        return OD_HANDLE_DONE;
    }
    case API_CLOSE:
        return OD_HANDLE_CLOSE;
    case API_PARK: {
        int slot = atomic_load(&state.parked_count);
        state.parked[slot] = req;
        atomic_store(&state.parked_count, slot + 1);
        return OD_HANDLE_LATER;
    }
    case API_APPEND:
        atomic_store(&state.appended, req->correlation_id);
        build_echo(req);
        return OD_HANDLE_DONE;
    case API_AFTER_FLUSH:
        state.awaiting_flush[state.awaiting_count++] = req;
        return OD_HANDLE_LATER;
    case API_FILE: {
        uint32_t offset = od_load_be32(req->frame + 8), len = od_load_be32(req->frame + 12);
        uint8_t corr[4];
        od_store_be32(corr, (uint32_t)req->correlation_id);
        od_chain_add_copy(&req->response, &req->arena, corr, 4);
        od_chain_add_file(&req->response, &req->arena, state.file_fd, offset, len, NULL);
        od_chain_add_copy(&req->response, &req->arena, "end", 3);
        return OD_HANDLE_DONE;
    }
    case API_COUNT: {
        int *count = od_conn_data(req->conn);
        if (count == NULL) {
            count = calloc(1, sizeof *count);
            od_conn_set_data(req->conn, count);
        }
        uint8_t reply[8];
        od_store_be32(reply, (uint32_t)req->correlation_id);
        od_store_be32(reply + 4, (uint32_t)++*count);
        od_chain_add_copy(&req->response, &req->arena, reply, 8);
        return OD_HANDLE_DONE;
    }
    case API_DELAYED: {
        delayed_reply *d = od_arena_alloc(&req->arena, sizeof *d);
        d->req = req;
        od_timer_init(&d->timer, delayed_reply_due, d);
        od_timer_arm(od_conn_loop(req->conn), &d->timer, 50);
        return OD_HANDLE_LATER;
    }
    case API_REPLY_THEN_CLOSE:
        build_echo(req);
        return OD_HANDLE_REPLY_THEN_CLOSE;
    default:
        return OD_HANDLE_DONE; /* API_SILENT: empty chain, no reply */
    }
}

/* Finishes API_ECHO_LATER requests in random order, building the reply on
 * this thread with the request's arena. */
static void *worker_main(void *arg)
{
    while (!atomic_load(&state.worker_stop)) {
        od_request *req = NULL;
        pthread_mutex_lock(&state.lock);
        if (state.later_count > 0) {
            state.seed = state.seed * 1103515245u + 12345u;
            int pick = (int)((state.seed >> 16) % (uint32_t)state.later_count);
            req = state.later[pick];
            state.later[pick] = state.later[--state.later_count];
        }
        pthread_mutex_unlock(&state.lock);
        if (req == NULL) {
            usleep(200);
            continue;
        }
        build_echo(req);
        od_request_complete(req);
    }
    return NULL;
}

typedef struct test_server {
    od_server *server;
    pthread_t runner;
    pthread_t worker;
    uint16_t port;
    int run_result;
} test_server;

static atomic_bool run_returned;

enum { API_UNKNOWN = 99 };

static bool test_admit(void *ctx, od_conn *conn, int16_t api_key, int16_t api_version, int32_t size)
{
    return api_key != API_UNKNOWN;
}

static void test_conn_closed(void *ctx, od_conn *conn)
{
    free(od_conn_data(conn));
    atomic_fetch_add(&state.conns_closed, 1);
}

static void *run_server(void *arg)
{
    test_server *ts = arg;
    ts->run_result = od_server_run(ts->server);
    atomic_store(&run_returned, true);
    return NULL;
}

/* The group commit stand-in: makes every append so far "durable", then
 * answers the requests that were waiting for it. */
static void flush_before_reply(void *ctx, unsigned network_thread)
{
    atomic_store(&state.flushed, atomic_load(&state.appended));
    for (int i = 0; i < state.awaiting_count; i++) {
        build_echo(state.awaiting_flush[i]);
        od_request_complete(state.awaiting_flush[i]);
    }
    state.awaiting_count = 0;
}

static void reset_state(void)
{
    atomic_store(&run_returned, false);
    atomic_store(&state.conns_closed, 0);
    atomic_store(&state.appended, -1);
    atomic_store(&state.flushed, -1);
    state.awaiting_count = 0;
    atomic_store(&state.handled, 0);
    state.later_count = 0;
    atomic_store(&state.parked_count, 0);
    atomic_store(&state.worker_stop, false);
    state.seed = 42;
}

static od_server_config base_config(od_listener_config *listener)
{
    listener->name = "PLAINTEXT";
    listener->host = "127.0.0.1";
    listener->port = 0;
    listener->security = OD_SECURITY_PLAINTEXT;
    od_server_config cfg = {0};
    cfg.listeners = listener;
    cfg.listener_count = 1;
    cfg.network_threads = 3;
    cfg.socket_request_max_bytes = 1 << 20;
    cfg.connections_max_idle_ms = 60000;
    cfg.shutdown_timeout_ms = 5000;
    cfg.handler = test_handler;
    cfg.conn_closed = test_conn_closed;
    cfg.admit_frame = test_admit;
    return cfg;
}

static bool start_server(test_server *ts, const od_server_config *cfg)
{
    reset_state();
    memset(ts, 0, sizeof *ts);
    const char *error = NULL;
    ts->server = od_server_create(cfg, &error);
    if (ts->server == NULL) {
        fprintf(stderr, "server: %s (%s)\n", error ? error : "?", strerror(errno));
        return false;
    }
    ts->port = od_server_port(ts->server, 0);
    pthread_create(&ts->worker, NULL, worker_main, NULL);
    pthread_create(&ts->runner, NULL, run_server, ts);
    return true;
}

/* Counters are read after the run, when every thread has stopped counting. */
static void stop_server_with_stats(test_server *ts, od_server_stats *stats)
{
    od_server_shutdown(ts->server);
    pthread_join(ts->runner, NULL);
    atomic_store(&state.worker_stop, true);
    pthread_join(ts->worker, NULL);
    CHECK_EQ_INT(ts->run_result, 0);
    if (stats)
        od_server_stats_read(ts->server, stats);
    od_server_destroy(ts->server);
}

static void stop_server(test_server *ts)
{
    stop_server_with_stats(ts, NULL);
}

/* ------------------------------------------------------------- client side */

static void set_timeouts(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int connect_to(int family, uint16_t port, int receive_buffer)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    set_timeouts(fd, 10000);
    if (receive_buffer > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {0};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_loopback;
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_local(uint16_t port)
{
    return connect_to(AF_INET, port, 0);
}

static bool write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool read_all(int fd, void *data, size_t len)
{
    uint8_t *p = data;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool send_request(int fd, int16_t api_key, int32_t correlation_id, const void *payload, size_t len)
{
    static uint8_t frame[1 << 17];
    if (len + 12 > sizeof frame)
        return false;
    od_store_be32(frame, (uint32_t)(len + 8));
    od_store_be16(frame + 4, (uint16_t)api_key);
    od_store_be16(frame + 6, 3);
    od_store_be32(frame + 8, (uint32_t)correlation_id);
    if (len)
        memcpy(frame + 12, payload, len);
    return write_all(fd, frame, len + 12);
}

/* Reads one reply; returns its length after the correlation id, or -1. */
static long read_response(int fd, int32_t *correlation_id, uint8_t *body, size_t cap)
{
    uint8_t head[8];
    if (!read_all(fd, head, 8))
        return -1;
    uint32_t size = od_load_be32(head);
    *correlation_id = (int32_t)od_load_be32(head + 4);
    if (size < 4 || size - 4 > cap)
        return -1;
    if (!read_all(fd, body, size - 4))
        return -1;
    return (long)(size - 4);
}

/* True when the server closed the connection (EOF or reset) within the
 * socket's receive timeout. */
static bool closed_by_server(int fd)
{
    uint8_t scratch[256];
    for (;;) {
        ssize_t n = read(fd, scratch, sizeof scratch);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static void fill_payload(uint8_t *p, size_t len, uint32_t salt)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(salt * 31u + i * 7u);
}

/* ------------------------------------------------------------------- tests */

enum { CONNECTIONS = 200, PIPELINE = 20 };

static void many_connections_pipelined_answers_in_order(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    static int fds[CONNECTIONS];
    int connected = 0;
    for (int c = 0; c < CONNECTIONS; c++) {
        fds[c] = connect_local(ts.port);
        connected += fds[c] >= 0;
    }
    CHECK_EQ_INT(connected, CONNECTIONS);
    static uint8_t payload[40000];
    static uint8_t body[40000];
    /* Payload sizes cycle through tiny, input-buffer-sized and larger than
     * the input buffer, so frames are split across reads and some bodies are
     * read straight into the frame. */
    static const size_t sizes[] = {0, 1, 100, 16383, 16384, 30000, 7};
    int sent_ok = 0;
    for (int c = 0; c < CONNECTIONS; c++) {
        if (fds[c] < 0)
            continue;
        for (int i = 0; i < PIPELINE; i++) {
            size_t len = sizes[(c + i) % 7];
            fill_payload(payload, len, (uint32_t)(c * PIPELINE + i));
            int16_t api = (i % 2) ? API_ECHO_LATER : API_ECHO;
            sent_ok += send_request(fds[c], api, c * 1000 + i, payload, len);
        }
    }
    CHECK_EQ_INT(sent_ok, connected * PIPELINE);
    int in_order = 0, intact = 0;
    for (int c = 0; c < CONNECTIONS; c++) {
        if (fds[c] < 0)
            continue;
        for (int i = 0; i < PIPELINE; i++) {
            int32_t corr = -1;
            long n = read_response(fds[c], &corr, body, sizeof body);
            size_t len = sizes[(c + i) % 7];
            in_order += corr == c * 1000 + i;
            fill_payload(payload, len, (uint32_t)(c * PIPELINE + i));
            intact += n == (long)len && memcmp(body, payload, len) == 0;
        }
        close(fds[c]);
    }
    CHECK_EQ_INT(in_order, connected * PIPELINE);
    CHECK_EQ_INT(intact, connected * PIPELINE);
    CHECK_EQ_INT(atomic_load(&state.handled), connected * PIPELINE);
    stop_server(&ts);
}

static bool wait_for(atomic_int *counter, int target, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 2) {
        if (atomic_load(counter) >= target)
            return true;
        usleep(2000);
    }
    return atomic_load(counter) >= target;
}

static void deferred_replies_completed_in_reverse_arrive_in_order(void)
{
    enum { N = 12 };
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    for (int i = 0; i < N; i++) {
        uint8_t tag = (uint8_t)i;
        CHECK(send_request(fd, API_PARK, 500 + i, &tag, 1));
    }
    /* One request answered at once, behind the parked ones, with no reply:
     * it must not unblock anything or produce bytes. */
    CHECK(send_request(fd, API_SILENT, 999, NULL, 0));
    CHECK(send_request(fd, API_ECHO, 1000, "now", 3));
    bool arrived = wait_for(&state.parked_count, N, 5000) && wait_for(&state.handled, N + 2, 5000);
    REQUIRE(arrived);
    for (int i = N - 1; i >= 0; i--) {
        od_request *req = state.parked[i];
        build_echo(req);
        od_request_complete(req);
        usleep(1000);
    }
    uint8_t body[16];
    for (int i = 0; i < N; i++) {
        int32_t corr = -1;
        long n = read_response(fd, &corr, body, sizeof body);
        CHECK_EQ_INT(corr, 500 + i);
        CHECK(n == 1 && body[0] == (uint8_t)i);
    }
    int32_t corr = -1;
    long n = read_response(fd, &corr, body, sizeof body);
    CHECK_EQ_INT(corr, 1000);
    CHECK(n == 3 && memcmp(body, "now", 3) == 0);
    close(fd);
    stop_server(&ts);
}

static void bad_frame_sizes_close_only_their_connection(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.socket_request_max_bytes = 4096;
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int good = connect_local(ts.port);
    REQUIRE(good >= 0);
    CHECK(send_request(good, API_ECHO, 1, "a", 1));
    uint8_t body[64];
    int32_t corr;
    CHECK(read_response(good, &corr, body, sizeof body) == 1 && corr == 1);

    static const uint32_t bad_sizes[] = {0x7fffffffu, 0xffffffffu, 0x80000000u, 4097, 7, 0};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        int fd = connect_local(ts.port);
        REQUIRE(fd >= 0);
        uint8_t frame[16] = {0};
        od_store_be32(frame, bad_sizes[i]);
        CHECK(write_all(fd, frame, sizeof frame));
        CHECKF(closed_by_server(fd), "size %08x left open", bad_sizes[i]);
        close(fd);
        /* The well-behaved connection is still served. */
        CHECK(send_request(good, API_ECHO, 2 + (int)i, "b", 1));
        CHECK(read_response(good, &corr, body, sizeof body) == 1 && corr == 2 + (int)i);
    }
    /* The largest allowed frame is accepted. */
    static uint8_t big[4096 - 8];
    fill_payload(big, sizeof big, 9);
    static uint8_t big_back[4096];
    CHECK(send_request(good, API_ECHO, 77, big, sizeof big));
    CHECK(read_response(good, &corr, big_back, sizeof big_back) == (long)sizeof big && corr == 77);
    CHECK_MEM(big, big_back, sizeof big);
    CHECK_EQ_INT(atomic_load(&state.handled), 8); /* bad frames never reach the handler */
    close(good);
    od_server_stats stats;
    stop_server_with_stats(&ts, &stats);
    CHECK_EQ_INT(stats.frames_rejected, 6);
    CHECK_EQ_INT(stats.requests, 8);
    CHECK_EQ_INT(stats.connections_accepted, 7);
    CHECK_EQ_INT(stats.connections_freed, 7);
}

static void backpressure_stops_reading_until_drained(void)
{
    enum { REQUESTS = 100, REPLY_BYTES = 32768 };
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.max_queued_response_bytes = 65536;
    cfg.max_in_flight_requests = 1000; /* isolate the byte bound */
    cfg.socket_send_buffer_bytes = 4096;
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int fd = connect_to(AF_INET, ts.port, 4096);
    REQUIRE(fd >= 0);
    for (int i = 0; i < REQUESTS; i++) {
        uint8_t want[4];
        od_store_be32(want, REPLY_BYTES);
        CHECK(send_request(fd, API_SIZED, i, want, 4));
    }
    usleep(300000); /* let the server run into the bound */
    int handled_while_blocked = atomic_load(&state.handled);
    usleep(100000);
    CHECKF(handled_while_blocked < 10, "handled %d requests with nobody reading", handled_while_blocked);
    CHECK_EQ_INT(atomic_load(&state.handled), handled_while_blocked); /* stalled, not slow */
    static uint8_t body[REPLY_BYTES];
    int good = 0;
    for (int i = 0; i < REQUESTS; i++) {
        int32_t corr = -1;
        long n = read_response(fd, &corr, body, sizeof body);
        good += n == REPLY_BYTES && corr == i && body[0] == (uint8_t)i && body[REPLY_BYTES - 1] == (uint8_t)(REPLY_BYTES - 1 + i);
    }
    CHECK_EQ_INT(good, REQUESTS);
    CHECK_EQ_INT(atomic_load(&state.handled), REQUESTS);
    close(fd);
    od_server_stats stats;
    stop_server_with_stats(&ts, &stats);
    CHECK(stats.read_pauses >= 1);
    CHECK_EQ_INT(stats.bytes_sent, (uint64_t)REQUESTS * (REPLY_BYTES + 8));
}

static void in_flight_cap_stops_reading(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.max_in_flight_requests = 4;
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    for (int i = 0; i < 10; i++)
        CHECK(send_request(fd, API_PARK, i, NULL, 0));
    bool arrived = wait_for(&state.parked_count, 4, 5000);
    REQUIRE(arrived);
    usleep(100000);
    CHECK_EQ_INT(atomic_load(&state.parked_count), 4);
    /* Each batch of answers lets exactly the next batch in. */
    for (int i = 0; i < 4; i++)
        od_request_complete(state.parked[i]); /* empty reply: nothing sent */
    CHECK(wait_for(&state.parked_count, 8, 5000));
    usleep(50000);
    CHECK_EQ_INT(atomic_load(&state.parked_count), 8);
    for (int i = 4; i < 8; i++)
        od_request_complete(state.parked[i]);
    CHECK(wait_for(&state.parked_count, 10, 5000));
    for (int i = 8; i < 10; i++)
        od_request_complete(state.parked[i]);
    CHECK(send_request(fd, API_ECHO, 42, "z", 1));
    uint8_t body[4];
    int32_t corr = -1;
    CHECK(read_response(fd, &corr, body, sizeof body) == 1 && corr == 42);
    close(fd);
    stop_server(&ts);
}

static void idle_connections_are_closed(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.connections_max_idle_ms = 200;
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int idle = connect_local(ts.port);
    int busy = connect_local(ts.port);
    REQUIRE(idle >= 0 && busy >= 0);
    uint64_t start = od_monotonic_ms();
    for (int i = 0; i < 8; i++) { /* 400 ms of traffic, a request every 50 ms */
        CHECK(send_request(busy, API_ECHO, i, "k", 1));
        uint8_t body[4];
        int32_t corr;
        CHECK(read_response(busy, &corr, body, sizeof body) == 1 && corr == i);
        usleep(50000);
    }
    CHECK(closed_by_server(idle));
    uint64_t idle_lived = od_monotonic_ms() - start;
    CHECKF(idle_lived >= 150 && idle_lived < 3000, "idle connection lived %llu ms",
           (unsigned long long)idle_lived);
    /* The busy one is still open until it too goes quiet. */
    CHECK(send_request(busy, API_ECHO, 99, "k", 1));
    uint8_t body[4];
    int32_t corr;
    CHECK(read_response(busy, &corr, body, sizeof body) == 1 && corr == 99);
    CHECK(closed_by_server(busy));
    close(idle);
    close(busy);
    stop_server(&ts);
}

static void handler_can_close_the_connection(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(send_request(fd, API_CLOSE, 1, NULL, 0));
    CHECK(send_request(fd, API_ECHO, 2, "x", 1));
    CHECK(closed_by_server(fd));
    close(fd);
    stop_server(&ts);
}

typedef struct late_completion {
    int delay_ms;
} late_completion;

static void *complete_parked_later(void *arg)
{
    late_completion *lc = arg;
    usleep((useconds_t)lc->delay_ms * 1000);
    od_request *req = state.parked[0];
    build_echo(req);
    od_request_complete(req);
    return NULL;
}

static void shutdown_finishes_in_flight_requests(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg); /* REQUIRE evaluates twice */
    REQUIRE(started);
    int fd = connect_local(ts.port);
    int quiet = connect_local(ts.port);
    REQUIRE(fd >= 0 && quiet >= 0);
    CHECK(send_request(fd, API_PARK, 7, "late", 4));
    bool arrived = wait_for(&state.parked_count, 1, 5000);
    REQUIRE(arrived);
    late_completion lc = {150};
    pthread_t completer;
    pthread_create(&completer, NULL, complete_parked_later, &lc);
    uint64_t start = od_monotonic_ms();
    od_server_shutdown(ts.server);
    /* New connections are refused once the listener is closed. */
    usleep(50000);
    int refused = connect_local(ts.port);
    CHECK(refused < 0);
    if (refused >= 0)
        close(refused);
    CHECK(closed_by_server(quiet));
    uint8_t body[8];
    int32_t corr = -1;
    CHECK(read_response(fd, &corr, body, sizeof body) == 4 && corr == 7 && memcmp(body, "late", 4) == 0);
    CHECK(closed_by_server(fd));
    pthread_join(ts.runner, NULL);
    CHECK(od_monotonic_ms() - start >= 140);
    pthread_join(completer, NULL);
    atomic_store(&state.worker_stop, true);
    pthread_join(ts.worker, NULL);
    CHECK_EQ_INT(ts.run_result, 0);
    od_server_destroy(ts.server);
    close(fd);
    close(quiet);
}

static void ipv6_loopback_listener(void)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    if (probe < 0) {
        printf("(no IPv6: skipped)\n");
        return;
    }
    close(probe);
    od_listener_config listeners[2] = {{"INTERNAL", "[::1]", 0, OD_SECURITY_PLAINTEXT},
                                       {"EXTERNAL", "127.0.0.1", 0, OD_SECURITY_PLAINTEXT}};
    od_listener_config unused;
    od_server_config cfg = base_config(&unused);
    cfg.listeners = listeners;
    cfg.listener_count = 2;
    test_server ts;
    if (!start_server(&ts, &cfg)) {
        printf("(cannot bind ::1: skipped)\n");
        return;
    }
    int fd6 = connect_to(AF_INET6, od_server_port(ts.server, 0), 0);
    int fd4 = connect_to(AF_INET, od_server_port(ts.server, 1), 0);
    CHECK(fd6 >= 0 && fd4 >= 0);
    uint8_t body[8];
    int32_t corr;
    CHECK(send_request(fd6, API_ECHO, 6, "six", 3));
    CHECK(read_response(fd6, &corr, body, sizeof body) == 3 && corr == 6);
    CHECK(send_request(fd4, API_ECHO, 4, "four", 4));
    CHECK(read_response(fd4, &corr, body, sizeof body) == 4 && corr == 4);
    close(fd6);
    close(fd4);
    stop_server(&ts);
}

static void replies_wait_for_the_before_reply_hook(void)
{
    enum { N = 200 };
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.network_threads = 1; /* the hook's state is per thread */
    cfg.before_reply = flush_before_reply;
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    int early = 0, in_order = 0;
    for (int i = 0; i < N; i++) {
        int16_t api = (i % 3 == 2) ? API_AFTER_FLUSH : API_APPEND;
        CHECK(send_request(fd, api, i, "w", 1));
        if (i % 10 != 9)
            continue;
        for (int j = i - 9; j <= i; j++) { /* read in bursts so requests pipeline */
            uint8_t body[4];
            int32_t corr = -1;
            CHECK(read_response(fd, &corr, body, sizeof body) == 1);
            in_order += corr == j;
            /* No reply may overtake the flush that covers it. */
            if (j % 3 != 2 && atomic_load(&state.flushed) < corr)
                early++;
        }
    }
    CHECK_EQ_INT(in_order, N);
    CHECK_EQ_INT(early, 0);
    close(fd);
    stop_server(&ts);
}

static void late_completion_after_the_client_left(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.network_threads = 1;
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(send_request(fd, API_PARK, 1, "gone", 4));
    CHECK(send_request(fd, API_PARK, 2, "gone", 4));
    bool arrived = wait_for(&state.parked_count, 2, 5000);
    REQUIRE(arrived);
    close(fd);
    usleep(100000); /* the server sees the hang-up with both requests out */
    build_echo(state.parked[1]);
    od_request_complete(state.parked[1]);
    usleep(20000);
    od_request_complete(state.parked[0]);
    usleep(20000);
    int again = connect_local(ts.port); /* the thread is still serving */
    REQUIRE(again >= 0);
    CHECK(send_request(again, API_ECHO, 3, "ok", 2));
    uint8_t body[4];
    int32_t corr = -1;
    CHECK(read_response(again, &corr, body, sizeof body) == 2 && corr == 3);
    close(again);
    stop_server(&ts);
}

static void *complete_first_parked_at(void *arg)
{
    usleep((useconds_t)(*(int *)arg) * 1000);
    od_request_complete(state.parked[0]);
    return NULL;
}

static void shutdown_deadline_cuts_sockets_but_waits_for_handlers(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.shutdown_timeout_ms = 200;
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(send_request(fd, API_PARK, 1, NULL, 0));
    bool arrived = wait_for(&state.parked_count, 1, 5000);
    REQUIRE(arrived);
    uint64_t start = od_monotonic_ms();
    od_server_shutdown(ts.server);
    CHECK(closed_by_server(fd)); /* cut at the deadline, no reply */
    uint64_t cut_after = od_monotonic_ms() - start;
    CHECKF(cut_after >= 150 && cut_after < 3000, "cut after %llu ms", (unsigned long long)cut_after);
    usleep(100000);
    CHECK(!atomic_load(&run_returned)); /* a handler still holds a request */
    int delay = 50;
    pthread_t completer;
    pthread_create(&completer, NULL, complete_first_parked_at, &delay);
    pthread_join(ts.runner, NULL);
    CHECK(atomic_load(&run_returned));
    pthread_join(completer, NULL);
    atomic_store(&state.worker_stop, true);
    pthread_join(ts.worker, NULL);
    od_server_destroy(ts.server);
    close(fd);
}

static void file_region_replies_go_out_intact(void)
{
    enum { FILE_BYTES = 1 << 20 };
    FILE *tmp = tmpfile();
    REQUIRE(tmp != NULL);
    state.file_fd = fileno(tmp);
    static uint8_t content[FILE_BYTES];
    for (size_t i = 0; i < FILE_BYTES; i++)
        content[i] = (uint8_t)(i * 13 + (i >> 10));
    CHECK(pwrite(state.file_fd, content, FILE_BYTES, 0) == FILE_BYTES);
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.socket_send_buffer_bytes = 8192; /* many partial sendfile calls */
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    static const uint32_t regions[][2] = {{0, 10}, {12345, 300000}, {FILE_BYTES - 1, 1}, {4096, 700000}};
    for (int i = 0; i < 4; i++) {
        uint8_t where[8];
        od_store_be32(where, regions[i][0]);
        od_store_be32(where + 4, regions[i][1]);
        CHECK(send_request(fd, API_FILE, i, where, 8));
    }
    static uint8_t body[FILE_BYTES + 16];
    for (int i = 0; i < 4; i++) {
        int32_t corr = -1;
        long n = read_response(fd, &corr, body, sizeof body);
        CHECK_EQ_INT(corr, i);
        CHECK_EQ_INT(n, (long)regions[i][1] + 3);
        if (n == (long)regions[i][1] + 3) {
            CHECK_MEM(body, content + regions[i][0], regions[i][1]);
            CHECK_MEM(body + regions[i][1], "end", 3);
        }
    }
    close(fd);
    stop_server(&ts);
    fclose(tmp);
}

static void frames_split_into_single_bytes(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t frames[2][16];
    for (int f = 0; f < 2; f++) {
        od_store_be32(frames[f], 12);
        od_store_be16(frames[f] + 4, API_ECHO);
        od_store_be16(frames[f] + 6, 0);
        od_store_be32(frames[f] + 8, 40 + f);
        memcpy(frames[f] + 12, f ? "bbbb" : "aaaa", 4);
    }
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 16; i++) {
            CHECK(write_all(fd, &frames[f][i], 1));
            usleep(500);
        }
    for (int f = 0; f < 2; f++) {
        uint8_t body[8];
        int32_t corr = -1;
        CHECK(read_response(fd, &corr, body, sizeof body) == 4 && corr == 40 + f);
        CHECK_MEM(body, f ? "bbbb" : "aaaa", 4);
    }
    close(fd);
    stop_server(&ts);
}

static void connection_data_lives_until_the_connection_goes(void)
{
    enum { CONNS = 5, PER_CONN = 4 };
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fds[CONNS];
    for (int c = 0; c < CONNS; c++) {
        fds[c] = connect_local(ts.port);
        REQUIRE(fds[c] >= 0);
    }
    int right = 0;
    for (int round = 1; round <= PER_CONN; round++)
        for (int c = 0; c < CONNS; c++) {
            CHECK(send_request(fds[c], API_COUNT, c, NULL, 0));
            uint8_t body[4];
            int32_t corr = -1;
            right += read_response(fds[c], &corr, body, sizeof body) == 4 && corr == c &&
                     od_load_be32(body) == (uint32_t)round;
        }
    CHECK_EQ_INT(right, CONNS * PER_CONN);
    for (int c = 0; c < CONNS; c++)
        close(fds[c]);
    bool all_closed = wait_for(&state.conns_closed, CONNS, 5000);
    CHECK(all_closed);
    od_server_stats stats;
    stop_server_with_stats(&ts, &stats);
    CHECK_EQ_INT(stats.connections_accepted, CONNS);
    CHECK_EQ_INT(stats.connections_freed, CONNS);
    CHECK_EQ_INT(stats.requests, CONNS * PER_CONN);
    CHECK_EQ_INT(stats.bytes_received, CONNS * PER_CONN * 12);
}

static void reply_then_close_sends_that_reply_and_nothing_after(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    uint8_t body[8];
    int32_t corr = -1;

    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(send_request(fd, API_ECHO_LATER, 1, "a", 1));
    CHECK(send_request(fd, API_REPLY_THEN_CLOSE, 2, "b", 1));
    CHECK(send_request(fd, API_ECHO, 3, "c", 1));
    CHECK(read_response(fd, &corr, body, sizeof body) == 1 && corr == 1);
    CHECK(read_response(fd, &corr, body, sizeof body) == 1 && corr == 2);
    CHECK(closed_by_server(fd));
    close(fd);
    CHECK_EQ_INT(atomic_load(&state.handled), 2); /* request 3 was never read */

    /* The deferred form, completed from this thread. */
    fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(send_request(fd, API_PARK, 5, "p", 1));
    CHECK(send_request(fd, API_ECHO, 6, "q", 1));
    bool arrived = wait_for(&state.parked_count, 1, 5000) && wait_for(&state.handled, 4, 5000);
    REQUIRE(arrived);
    build_echo(state.parked[0]);
    od_request_complete_then_close(state.parked[0]);
    CHECK(read_response(fd, &corr, body, sizeof body) == 1 && corr == 5);
    CHECK(closed_by_server(fd));
    close(fd);
    stop_server(&ts);
}

/* Runs a server in a child process whose fd limit leaves room for only a
 * few connections; SIGTERM shuts it down from the signal handler. */
static od_server *child_server;

static void child_sigterm(int signo)
{
    od_server_shutdown(child_server); /* async-signal-safe by contract */
}

static void run_fd_limited_child(int report_pipe)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    cfg.network_threads = 1;
    child_server = od_server_create(&cfg, NULL);
    if (child_server == NULL)
        _exit(2);
    struct sigaction sa = {0};
    sa.sa_handler = child_sigterm;
    sigaction(SIGTERM, &sa, NULL);
    int probe = dup(2);
    close(probe);
    struct rlimit limit = {(rlim_t)probe + 3, (rlim_t)probe + 3};
    if (probe < 0 || setrlimit(RLIMIT_NOFILE, &limit) != 0)
        _exit(3);
    /* Whatever the parent left open, count the slots really left. */
    int held[64], slots = 0;
    while (slots < 64 && (held[slots] = dup(2)) >= 0)
        slots++;
    for (int i = 0; i < slots; i++)
        close(held[i]);
    /* The report pipe's fd is about to be closed: one more slot. */
    uint16_t report[2] = {od_server_port(child_server, 0), (uint16_t)(slots + 1)};
    if (write(report_pipe, report, sizeof report) != sizeof report)
        _exit(3);
    close(report_pipe);
    int rc = od_server_run(child_server);
    od_server_destroy(child_server);
    _exit(rc == 0 ? 0 : 4);
}

static bool answered_within(int fd, int32_t expect_corr, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return false;
    uint8_t body[8];
    int32_t corr = -1;
    return read_response(fd, &corr, body, sizeof body) == 1 && corr == expect_corr;
}

static void accepting_backs_off_when_out_of_fds(void)
{
    enum { MAX_CLIENTS = 20 };
    int pipefd[2];
    int piped = pipe(pipefd);
    REQUIRE(piped == 0);
    fflush(NULL);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(pipefd[0]);
        run_fd_limited_child(pipefd[1]);
    }
    close(pipefd[1]);
    uint16_t report[2] = {0, 0};
    CHECK(read(pipefd[0], report, sizeof report) == sizeof report);
    close(pipefd[0]);
    int slots = report[1];
    CHECKF(slots >= 1 && slots <= 6, "%d free fd slots", slots);
    int clients = slots >= 1 && slots <= 6 ? 3 * slots : 0;
    int fds[MAX_CLIENTS];
    for (int i = 0; i < clients; i++) {
        fds[i] = connect_local(report[0]); /* completes in the backlog, accepted or not */
        CHECK(fds[i] >= 0 && send_request(fds[i], API_ECHO, i, "x", 1));
    }
    /* Each batch is served only once the previous one hung up and freed its fds. */
    for (int batch = 0; batch < 3 && clients > 0; batch++) {
        int served = 0, early = 0;
        for (int i = batch * slots; i < (batch + 1) * slots; i++)
            served += answered_within(fds[i], i, 5000);
        for (int i = (batch + 1) * slots; i < clients; i++)
            early += answered_within(fds[i], i, 30);
        CHECKF(served == slots, "batch %d: %d of %d served", batch, served, slots);
        CHECKF(early == 0, "batch %d: %d served beyond the fd limit", batch, early);
        for (int i = batch * slots; i < (batch + 1) * slots; i++)
            close(fds[i]);
    }
    kill(child, SIGTERM);
    int status = -1;
    for (int waited = 0; waited < 10000 && waitpid(child, &status, WNOHANG) == 0; waited += 10)
        usleep(10000);
    if (status == -1 || !WIFEXITED(status)) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
    }
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

static void delayed_reply_from_a_loop_timer_keeps_its_place(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    uint64_t start = od_monotonic_ms();
    CHECK(send_request(fd, API_DELAYED, 1, "slow", 4));
    CHECK(send_request(fd, API_ECHO, 2, "fast", 4));
    uint8_t body[8];
    int32_t corr = -1;
    CHECK(read_response(fd, &corr, body, sizeof body) == 4 && corr == 1);
    CHECK(od_monotonic_ms() - start >= 49);
    CHECK(read_response(fd, &corr, body, sizeof body) == 4 && corr == 2);
    CHECK_MEM(body, "fast", 4);
    close(fd);
    stop_server(&ts);
}

static void refused_header_or_bare_bad_size_closes_before_the_body(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    test_server ts;
    bool started = start_server(&ts, &cfg);
    REQUIRE(started);
    /* An unknown API announcing a body it never sends: refused on the header. */
    int fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    uint8_t head[12];
    od_store_be32(head, 1000);
    od_store_be16(head + 4, API_UNKNOWN);
    od_store_be16(head + 6, 0);
    od_store_be32(head + 8, 1);
    CHECK(write_all(fd, head, sizeof head));
    CHECK(closed_by_server(fd));
    close(fd);
    /* A negative size alone, with no header behind it. */
    fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    CHECK(write_all(fd, "\xff\xff\xff\xfe", 4));
    CHECK(closed_by_server(fd));
    close(fd);
    /* A valid size whose header trickles in is waited for, then served. */
    fd = connect_local(ts.port);
    REQUIRE(fd >= 0);
    od_store_be32(head, 9);
    od_store_be16(head + 4, API_ECHO);
    od_store_be32(head + 8, 77);
    CHECK(write_all(fd, head, 6));
    usleep(20000);
    CHECK(write_all(fd, head + 6, 6));
    CHECK(write_all(fd, "!", 1));
    uint8_t body[4];
    int32_t corr = -1;
    CHECK(read_response(fd, &corr, body, sizeof body) == 1 && corr == 77);
    close(fd);
    od_server_stats stats;
    stop_server_with_stats(&ts, &stats);
    CHECK_EQ_INT(stats.frames_rejected, 2);
    CHECK_EQ_INT(stats.requests, 1);
}

static void config_errors_are_reported(void)
{
    od_listener_config listener;
    od_server_config cfg = base_config(&listener);
    const char *error = NULL;
    cfg.handler = NULL;
    CHECK(od_server_create(&cfg, &error) == NULL && error != NULL);
    cfg = base_config(&listener);
    listener.security = OD_SECURITY_SASL_SSL;
    CHECK(od_server_create(&cfg, &error) == NULL && error != NULL);
    cfg = base_config(&listener);
    listener.host = "203.0.113.1"; /* TEST-NET-3: not ours, bind fails */
    CHECK(od_server_create(&cfg, &error) == NULL && error != NULL);
}

OD_TEST_MAIN(OD_CASE(many_connections_pipelined_answers_in_order),
             OD_CASE(deferred_replies_completed_in_reverse_arrive_in_order),
             OD_CASE(bad_frame_sizes_close_only_their_connection),
             OD_CASE(backpressure_stops_reading_until_drained),
             OD_CASE(in_flight_cap_stops_reading),
             OD_CASE(idle_connections_are_closed),
             OD_CASE(handler_can_close_the_connection),
             OD_CASE(shutdown_finishes_in_flight_requests),
             OD_CASE(ipv6_loopback_listener),
             OD_CASE(replies_wait_for_the_before_reply_hook),
             OD_CASE(late_completion_after_the_client_left),
             OD_CASE(shutdown_deadline_cuts_sockets_but_waits_for_handlers),
             OD_CASE(file_region_replies_go_out_intact),
             OD_CASE(frames_split_into_single_bytes),
             OD_CASE(connection_data_lives_until_the_connection_goes),
             OD_CASE(reply_then_close_sends_that_reply_and_nothing_after),
             OD_CASE(accepting_backs_off_when_out_of_fds),
             OD_CASE(delayed_reply_from_a_loop_timer_keeps_its_place),
             OD_CASE(refused_header_or_bare_bad_size_closes_before_the_body),
             OD_CASE(config_errors_are_reported))
