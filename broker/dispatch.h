/*
 * Request dispatch: one table, built from od_api_infos[], that maps an API key
 * to its handler and says whether Odradek implements it. The same table
 * builds the ApiVersions response, so the broker never advertises an API it
 * cannot answer.
 *
 * Request path (docs/architecture.md):
 *   1. od_dispatch_request (the net layer's handler callback) looks up the
 *      API; an unknown or unimplemented key closes the connection, as Kafka
 *      does for a key it has no handler for. A version outside the advertised
 *      range closes it too, except for ApiVersions, which answers in the v0
 *      layout with UNSUPPORTED_VERSION (35) and its own range.
 *   2. The header is decoded at od_request_header_version, the body with the
 *      API's generated decoder; both into the request's arena.
 *   3. The handler fills ctx->response (already od_*_init'ed from the arena)
 *      and returns OD_HANDLER_REPLY, or keeps ctx and calls od_rctx_reply
 *      later (OD_HANDLER_DEFERRED), on any thread.
 *   4. The response is encoded with the generated encoder behind a response
 *      header of od_response_header_version, into req->response; record sets
 *      registered with od_rctx_add_file_records become file links (sendfile).
 *
 * Handlers never choose a wire layout by version (principles.md, 1): they set
 * every field they know and the generated encoder keeps what the version has.
 *
 * Threads: the table is immutable after od_dispatch_init; handlers run on the
 * connection's network thread.
 */
#ifndef ODRADEK_BROKER_DISPATCH_H
#define ODRADEK_BROKER_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "od_messages.h"
#include "server.h"

typedef struct od_broker od_broker;
typedef struct od_rctx od_rctx;

typedef enum od_handler_status {
    OD_HANDLER_REPLY,     /* encode ctx->response now */
    OD_HANDLER_NO_REPLY,  /* nothing goes back (Produce with acks=0) */
    OD_HANDLER_DEFERRED,  /* the handler calls od_rctx_reply (or _no_reply) exactly once */
    OD_HANDLER_CLOSE,     /* close the connection without replying */
} od_handler_status;

typedef od_handler_status od_api_handler(od_rctx *ctx);

/* A record set in the response that lives in a file: the encoder writes a
 * marker in its place, and the marker is swapped for the file region. */
typedef struct od_file_records {
    od_bytes *field;      /* the response's records field (set by od_rctx_add_file_records) */
    int fd;
    int64_t position;
    int32_t length;
    od_ref *ref;          /* keeps fd open until sent; may be NULL */
    uint8_t marker[16];
} od_file_records;

struct od_rctx {
    od_request *req;
    od_arena *arena;              /* == &req->arena; everything for this request */
    const od_api_info *api;
    od_request_header header;
    int16_t version;
    void *request;                /* the decoded od_<api>_request */
    void *response;               /* an initialised od_<api>_response */
    od_broker *broker;
    const struct od_dispatch *dispatch;
    od_file_records *files;       /* arena array, grown on demand */
    int32_t file_count, file_cap;
    int64_t received_ms;          /* od_monotonic_ms at dispatch */
    bool controller_listener;     /* arrived on a controller.listener.names listener */
};

typedef struct od_dispatch_entry {
    od_api_handler *handler;      /* NULL: not implemented, not advertised */
    const od_api_info *api;       /* NULL for a key Kafka does not define */
} od_dispatch_entry;

enum { OD_DISPATCH_MAX_KEYS = 128 };

typedef struct od_dispatch {
    od_dispatch_entry entries[OD_DISPATCH_MAX_KEYS];            /* broker listeners */
    od_dispatch_entry controller_entries[OD_DISPATCH_MAX_KEYS]; /* controller listeners */
    od_broker *broker;
} od_dispatch;

/* Fills the tables from od_api_infos[] and the handlers in broker/handlers/.
 * Only APIs with a stable version are marked implemented: in the broker
 * table those a broker listener serves, in the controller table those a
 * controller listener serves (the spec's "listeners"). A request is served
 * from the controller table when it arrived on one of the broker's
 * controller listeners (settings.controller_listeners). */
void od_dispatch_init(od_dispatch *d, od_broker *broker);

/* The entry for a key, or NULL when the key is out of range. */
const od_dispatch_entry *od_dispatch_entry_for(const od_dispatch *d, int16_t api_key);

/* True when the key has a handler and a stable version range. */
bool od_dispatch_implemented(const od_dispatch *d, int16_t api_key);

/* The od_request_handler for od_server_config: ctx is the od_dispatch. */
od_handle_result od_dispatch_request(void *ctx, od_request *req);

/* The od_drain_hook for od_server_config: long polls answer now. */
void od_dispatch_draining(void *ctx, unsigned network_thread);

/* Finishes a deferred request: encodes ctx->response and completes it.
 * Any thread. */
void od_rctx_reply(od_rctx *ctx);
/* Finishes a deferred request with no reply. Any thread. */
void od_rctx_no_reply(od_rctx *ctx);

/* Registers `field` (inside ctx->response) as a record set read from a
 * file. The handler leaves the field alone; encoding puts the file's bytes
 * there. Returns 0, or -1 when out of memory. */
int od_rctx_add_file_records(od_rctx *ctx, od_bytes *field, int fd, int64_t position,
                             int32_t length, od_ref *ref);

/* Encodes `response` of `api` at `version` behind a response header into
 * `chain` (arena memory, plus file links for registered file records).
 * Exposed for tests. Returns OD_WIRE_OK or the encoder's error. */
od_wire_err od_dispatch_encode(od_rctx *ctx, od_chain *chain);

/* ApiVersions' api_keys array from the broker table (arena memory). */
od_api_versions_response_api_version_array od_dispatch_api_versions(const od_dispatch *d,
                                                                    od_arena *arena);
/* The same from the table of the listener the request came in on. */
od_api_versions_response_api_version_array od_dispatch_api_versions_for(const od_rctx *ctx);

/* Kafka error codes used across handlers. */
enum {
    OD_ERR_UNKNOWN_SERVER_ERROR = -1,
    OD_ERR_NONE = 0,
    OD_ERR_OFFSET_OUT_OF_RANGE = 1,
    OD_ERR_CORRUPT_MESSAGE = 2,
    OD_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    OD_ERR_INVALID_FETCH_SIZE = 4,
    OD_ERR_LEADER_NOT_AVAILABLE = 5,
    OD_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    OD_ERR_REQUEST_TIMED_OUT = 7,
    OD_ERR_MESSAGE_TOO_LARGE = 10,
    OD_ERR_INVALID_TOPIC_EXCEPTION = 17,
    OD_ERR_RECORD_LIST_TOO_LARGE = 18,
    OD_ERR_NOT_ENOUGH_REPLICAS = 19,
    OD_ERR_INVALID_REQUIRED_ACKS = 21,
    OD_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
    OD_ERR_INVALID_TIMESTAMP = 32,
    OD_ERR_UNSUPPORTED_VERSION = 35,
    OD_ERR_TOPIC_ALREADY_EXISTS = 36,
    OD_ERR_INVALID_PARTITIONS = 37,
    OD_ERR_INVALID_REPLICATION_FACTOR = 38,
    OD_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
    OD_ERR_INVALID_CONFIG = 40,
    OD_ERR_NOT_CONTROLLER = 41,
    OD_ERR_INVALID_REQUEST = 42,
    OD_ERR_POLICY_VIOLATION = 44,
    OD_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    OD_ERR_INVALID_PRODUCER_EPOCH = 47,
    OD_ERR_INVALID_TXN_STATE = 48,
    OD_ERR_KAFKA_STORAGE_ERROR = 56,
    OD_ERR_TOPIC_DELETION_DISABLED = 73,
    OD_ERR_FENCED_LEADER_EPOCH = 74,
    OD_ERR_UNKNOWN_LEADER_EPOCH = 75,
    OD_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    OD_ERR_OFFSET_NOT_AVAILABLE = 78,
    OD_ERR_INVALID_RECORD = 87,
    OD_ERR_UNKNOWN_TOPIC_ID = 100,
    OD_ERR_INCONSISTENT_TOPIC_ID = 103,
    OD_ERR_MISMATCHED_ENDPOINT_TYPE = 114,
    OD_ERR_UNSUPPORTED_ENDPOINT_TYPE = 115,
    OD_ERR_UNKNOWN_SUBSCRIPTION_ID = 117,
    OD_ERR_TELEMETRY_TOO_LARGE = 118,
    OD_ERR_TRANSACTION_ABORTABLE = 120,
    OD_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
    OD_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
};

#endif
