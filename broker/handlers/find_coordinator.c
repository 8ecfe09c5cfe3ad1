/*
 * FindCoordinator. One node coordinates everything, so the answer is this
 * broker's endpoint on the listener the request came in on, once the
 * coordinator for the key type is ready. v0-3 ask for one key; v4+ for a
 * batch (coordinator_keys, KIP-699), answered one entry per key.
 *
 * key_type 0 (GROUP) and 1 (TRANSACTION): the first request asks the
 * controller to create __consumer_offsets (or __transaction_state) and is
 * answered COORDINATOR_NOT_AVAILABLE until the topic is there and loaded,
 * as Kafka answers while its controller creates it; clients retry. Each
 * branch takes its own coordinator's lock (group_service.h,
 * txn_service.h); this handler holds none across them.
 */
#include <strings.h>

#include "group_service.h"
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

enum { KEY_TYPE_GROUP = 0, KEY_TYPE_TRANSACTION = 1 };
/* From v4 the answer is one entry per key; the single-key fields mean
 * nothing (and must stay at their defaults). */
enum { FIRST_BATCHED_VERSION = 4 };
enum { ERR_COORDINATOR_NOT_AVAILABLE = 15 };

typedef struct coordinator_answer {
    int16_t error;
} coordinator_answer;

/* Kafka's Errors.message(): the exception's message, or the name for NONE. */
static od_str error_message(int16_t error)
{
    switch (error) {
    case OD_ERR_NONE: return OD_STR_LIT("NONE");
    case ERR_COORDINATOR_NOT_AVAILABLE: return OD_STR_LIT("The coordinator is not available.");
    case OD_ERR_INVALID_REQUEST:
        return OD_STR_LIT("This most likely occurs because of a request being malformed by the "
                          "client library or the message was sent to an incompatible broker. See "
                          "the broker logs for more details.");
    default: return OD_STR_NULL;
    }
}

static coordinator_answer find_group_coordinator(od_rctx *ctx, od_str key)
{
    (void)key; /* one broker leads every __consumer_offsets partition */
    return (coordinator_answer){od_group_service_ensure_topic(ctx->broker->groups)};
}

static coordinator_answer find_transaction_coordinator(od_rctx *ctx, od_str key)
{
    if (key.len <= 0)
        return (coordinator_answer){OD_ERR_INVALID_REQUEST};
    int16_t e = OD_ERR_NONE;
    od_broker_lock(ctx->broker);
    od_tc *tc = od_txn_coordinator(ctx->broker, &e);
    od_broker_unlock(ctx->broker);
    return (coordinator_answer){tc ? OD_ERR_NONE : e};
}

/* This broker's endpoint on the request's listener. */
static void own_endpoint(od_rctx *ctx, od_str *host, int32_t *port)
{
    od_broker *b = ctx->broker;
    const od_listener_config *lc = ctx->req->conn ? od_conn_listener(ctx->req->conn) : NULL;
    const od_broker_endpoint *ep = NULL;
    for (int32_t i = 0; i < b->settings.advertised_count && !ep; i++)
        if (lc == NULL || lc->name == NULL || strcasecmp(b->settings.advertised[i].listener, lc->name) == 0)
            ep = &b->settings.advertised[i];
    if (!ep && b->settings.advertised_count > 0)
        ep = &b->settings.advertised[0];
    *host = ep ? od_arena_str(ctx, ep->host) : OD_STR_LIT("");
    *port = ep ? ep->port : -1;
}

static coordinator_answer answer_for(od_rctx *ctx, int8_t key_type, od_str key)
{
    switch (key_type) {
    case KEY_TYPE_GROUP: return find_group_coordinator(ctx, key);
    case KEY_TYPE_TRANSACTION: return find_transaction_coordinator(ctx, key);
    default: return (coordinator_answer){OD_ERR_INVALID_REQUEST}; /* "Unknown coordinator type" */
    }
}

od_handler_status od_handle_find_coordinator(od_rctx *ctx)
{
    const od_find_coordinator_request *req = ctx->request;
    od_find_coordinator_response *resp = ctx->response;
    od_str host;
    int32_t port;
    own_endpoint(ctx, &host, &port);
    int32_t node = ctx->broker->settings.node_id;
    if (ctx->version < FIRST_BATCHED_VERSION) {
        coordinator_answer a = answer_for(ctx, req->key_type, req->key);
        resp->error_code = a.error;
        resp->error_message = error_message(a.error);
        resp->node_id = a.error ? -1 : node;
        resp->host = a.error ? OD_STR_LIT("") : host;
        resp->port = a.error ? -1 : port;
        return OD_HANDLER_REPLY;
    }
    int32_t n = req->coordinator_keys.count > 0 ? req->coordinator_keys.count : 0;
    od_find_coordinator_response_coordinator *items =
        OD_ARENA_ARRAY(ctx, od_find_coordinator_response_coordinator, n);
    if (!items)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < n; i++) {
        od_str key = req->coordinator_keys.items[i];
        coordinator_answer a = answer_for(ctx, req->key_type, key);
        od_find_coordinator_response_coordinator *c = &items[i];
        od_find_coordinator_response_coordinator_init(c);
        c->key = key;
        c->error_code = a.error;
        c->error_message = error_message(a.error);
        c->node_id = a.error ? -1 : node;
        c->host = a.error ? OD_STR_LIT("") : host;
        c->port = a.error ? -1 : port;
    }
    resp->coordinators = (od_find_coordinator_response_coordinator_array){n, items};
    return OD_HANDLER_REPLY;
}
