/*
 * od_server: listeners, network threads and Kafka-framed connections. Reads
 * size-prefixed request frames, hands each to one handler callback, and
 * writes the responses back in request order. It decodes nothing past the
 * fixed start of the request header (api key, api version, correlation id).
 *
 * Threads
 *   - The thread calling od_server_run is the acceptor: it owns the listening
 *     sockets and runs their loop. Accepted sockets are dealt round-robin to
 *     `network_threads` network threads, each with its own od_loop.
 *   - A connection lives on one network thread for its whole life; every
 *     field of it is touched only there. The handler is called on that
 *     thread and must not block.
 *   - A handler may finish a request later, from any thread, with
 *     od_request_complete; the completion is posted to the connection's loop.
 *
 * Shutdown (od_server_shutdown, any thread)
 *   The acceptor closes the listeners and posts a drain task to each network
 *   thread. A draining thread stops reading, drops half-read frames, lets
 *   in-flight requests finish and their replies go out, closing each
 *   connection as it falls quiet. After shutdown_timeout_ms it cuts the
 *   remaining sockets, but still waits for deferred requests to be completed
 *   before its loop returns (I6).
 *
 * Memory
 *   - The server and its listener/thread arrays belong to the caller
 *     (od_server_create / od_server_destroy). A connection is allocated by
 *     the acceptor and owned by its network thread from adoption on.
 *   - Each request owns an arena (req->arena) holding its frame, whatever the
 *     handler decodes or builds, and the links of its response chain. The
 *     arena is released once the response's last byte is written, or when the
 *     connection dies, never earlier.
 *   - A deferred request (OD_HANDLE_LATER) belongs to the handler until it
 *     calls od_request_complete; after that call the handler must not touch
 *     it. Its connection is kept allocated until then even if the socket has
 *     been closed, so a late completion is always safe (and then discarded).
 *
 * Connection states (one network thread; the function doing each step)
 *
 *     ADOPTED --conn_adopt--> READING_SIZE
 *       READING_SIZE --(size prefix + fixed header buffered, size valid,
 *           frame admitted: request allocated)--> READING_BODY
 *       READING_BODY --(frame complete: dispatch)--> READING_SIZE
 *       READING_* --(paused: backpressure, in-flight cap, draining)--> same
 *           state with read interest off; resumed from the after-sleep hook
 *       READING_* --(a reply marked close-after is queued)--> same state,
 *           reading off for good; CLOSING once that reply is written
 *       any --conn_mark_closing--> CLOSING   (bad size, EOF, I/O error,
 *           handler said close, idle timeout, shutdown deadline)
 *       CLOSING --close_marked_conns (before-sleep, the safe point)-->
 *           CLOSED (socket closed; waiting for deferred requests) --> freed
 *
 * Invariants
 *   1. Responses leave a connection in the order their requests arrived,
 *      whatever order handlers finish them in (per-connection sequence).
 *   2. A response's bytes join the socket's output only in the before-sleep
 *      hook, after the configured before_reply hook has run: anything a
 *      handler wrote (a log append) is flushed before any client hears of it.
 *   3. A frame size is checked against socket_request_max_bytes, and its
 *      fixed header shown to admit_frame, before any memory is allocated for
 *      it; a size below the fixed header or above the limit, or a refusal,
 *      closes the connection.
 *   4. A connection is never freed inside a callback that may still use it:
 *      closing only marks it; the socket is closed and the memory freed at
 *      the end of the before-sleep hook, when no callback is running.
 *   5. While a connection's unsent response bytes (answered replies waiting
 *      for their turn included) exceed max_queued_response_bytes, or it has
 *      max_in_flight_requests requests
 *      not yet answered, it is not read; reading resumes once the queue has
 *      drained to half the byte bound.
 *   6. od_server_run returns only after every network thread has stopped,
 *      and a network thread stops only when all its connections are freed,
 *      which needs every deferred request to have been completed.
 */
#ifndef ODRADEK_BROKER_NET_SERVER_H
#define ODRADEK_BROKER_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "arena.h"
#include "chain.h"
#include "event_loop.h"

typedef enum od_security_protocol {
    OD_SECURITY_PLAINTEXT = 0,
    OD_SECURITY_SSL,
    OD_SECURITY_SASL_PLAINTEXT,
    OD_SECURITY_SASL_SSL,
} od_security_protocol;

typedef struct od_listener_config {
    const char *name;   /* e.g. "PLAINTEXT", "INTERNAL"; copied */
    const char *host;   /* numeric or resolvable address; NULL or "" = all interfaces; copied */
    uint16_t port;      /* 0 picks a free port, see od_server_port */
    od_security_protocol security; /* only PLAINTEXT is served for now */
} od_listener_config;

typedef struct od_request od_request;
typedef struct od_conn od_conn;

typedef enum od_handle_result {
    OD_HANDLE_DONE,   /* req->response holds the reply (empty chain = no reply, e.g. acks=0) */
    OD_HANDLE_LATER,  /* the handler keeps req and calls od_request_complete once */
    OD_HANDLE_CLOSE,  /* close the connection now; the layer frees req, nothing more is sent */
    OD_HANDLE_REPLY_THEN_CLOSE, /* like DONE, but close once this reply is written
                                 * (a failed authentication); later requests are dropped */
} od_handle_result;

/* Called on the connection's network thread for every complete frame. */
typedef od_handle_result od_request_handler(void *ctx, od_request *req);

/* Called on each network thread's before-sleep, before replies are queued:
 * the group commit point. It runs on every loop pass, so it must be cheap
 * when there is nothing to flush. */
typedef void od_before_reply_hook(void *ctx, unsigned network_thread);

/* Called on the connection's network thread once a frame's size and the
 * fixed start of its header are known, before any memory is taken for it.
 * Returning false closes the connection without reading the rest (an API
 * key the broker does not serve, a frame too big for that API). */
typedef bool od_frame_filter(void *ctx, od_conn *conn, int16_t api_key, int16_t api_version,
                             int32_t frame_size);

/* Called once per connection, on its network thread, when it is freed: the
 * socket is closed and no request of it is held any more, so whatever
 * od_conn_set_data attached can be released. */
typedef void od_conn_closed_hook(void *ctx, od_conn *conn);

/* Called on each network thread when the graceful shutdown begins there:
 * requests deferred without a bound (a long poll) must now finish soon, or
 * their connections hold the shutdown past its deadline. */
typedef void od_drain_hook(void *ctx, unsigned network_thread);

typedef struct od_server_config {
    const od_listener_config *listeners;
    size_t listener_count;
    unsigned network_threads;           /* 0: one per online core */
    int32_t socket_request_max_bytes;   /* Kafka socket.request.max.bytes; 0: 104857600 */
    int64_t connections_max_idle_ms;    /* Kafka connections.max.idle.ms; 0: 600000; <0: never */
    size_t max_queued_response_bytes;   /* per connection; 0: 4 MiB */
    unsigned max_in_flight_requests;    /* per connection; 0: 64 */
    int socket_send_buffer_bytes;       /* <=0: OS default */
    int socket_receive_buffer_bytes;    /* <=0: OS default */
    int64_t shutdown_timeout_ms;        /* drain limit before sockets are cut; 0: 30000 */
    od_request_handler *handler;
    void *handler_ctx;
    od_before_reply_hook *before_reply; /* may be NULL */
    void *before_reply_ctx;
    od_conn_closed_hook *conn_closed;   /* may be NULL; gets handler_ctx */
    od_frame_filter *admit_frame;       /* may be NULL; gets handler_ctx */
    od_drain_hook *draining;            /* may be NULL; gets handler_ctx */
} od_server_config;

/* Layer-private part of a request; handlers leave it alone. */
typedef struct od_request_net {
    od_request *next;         /* in the connection's pending or sending queue */
    od_task completion;       /* posts od_request_complete to the loop */
    od_loop *loop;
    size_t unsent;            /* bytes of this response not yet written */
    size_t frame_have;        /* body bytes read so far */
    bool done;
    bool close_after;         /* the connection ends with this reply */
} od_request_net;

struct od_request {
    od_conn *conn;            /* use only on the connection's thread */
    uint64_t sequence;        /* position on its connection, from 0 */
    uint64_t received_ms;     /* od_monotonic_ms when the frame was complete */
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    const uint8_t *frame;     /* the whole request after the size prefix: header then body */
    size_t frame_len;
    od_arena arena;           /* owned by whoever holds the request */
    od_chain response;        /* response header + body; the size prefix is added for you */
    od_request_net net;
};

typedef struct od_server od_server;

/* Validates the config, binds and listens on every listener, and creates the
 * network threads' loops (threads start in od_server_run). Returns NULL with
 * errno set; a message for humans goes to *error when error is not NULL. */
od_server *od_server_create(const od_server_config *config, const char **error);

/* Runs the acceptor on the calling thread and the network threads until
 * od_server_shutdown has drained everything. Returns 0, or -1 with errno
 * when a thread cannot start. */
int od_server_run(od_server *server);

/* Starts a graceful shutdown: stop accepting, stop reading requests, finish
 * the ones in flight, flush their replies, close. Any thread;
 * async-signal-safe. */
void od_server_shutdown(od_server *server);

/* Frees a server whose run has returned (or never started). */
void od_server_destroy(od_server *server);

/* The bound port of listener `index` (useful after asking for port 0). */
uint16_t od_server_port(const od_server *server, size_t index);

unsigned od_server_network_threads(const od_server *server);

/* Counters since creation, summed over threads. Any thread; each counter is
 * exact, the set is not one atomic snapshot. */
typedef struct od_server_stats {
    uint64_t connections_accepted;
    uint64_t connections_freed;
    uint64_t requests;          /* frames handed to the handler */
    uint64_t frames_rejected;   /* bad size, or refused by admit_frame */
    uint64_t read_pauses;       /* reading stopped by backpressure or the in-flight cap */
    uint64_t bytes_received;
    uint64_t bytes_sent;
} od_server_stats;

void od_server_stats_read(const od_server *server, od_server_stats *out);

/* Finishes a request taken with OD_HANDLE_LATER: req->response holds the
 * reply (empty = none). Any thread, exactly once; req is gone afterwards. */
void od_request_complete(od_request *req);

/* Same, then closes the connection once this reply is written; requests
 * after it get no reply. */
void od_request_complete_then_close(od_request *req);

/* Immutable facts about a connection; any thread while the connection's
 * request is held. */
uint64_t od_conn_id(const od_conn *conn);
const od_listener_config *od_conn_listener(const od_conn *conn);
const struct sockaddr_storage *od_conn_peer(const od_conn *conn);
od_loop *od_conn_loop(const od_conn *conn);
unsigned od_conn_network_thread(const od_conn *conn);

/* One pointer of handler state per connection (SASL progress, the client's
 * software name...). Connection's thread only; NULL until set. */
void od_conn_set_data(od_conn *conn, void *data);
void *od_conn_data(const od_conn *conn);

#endif
