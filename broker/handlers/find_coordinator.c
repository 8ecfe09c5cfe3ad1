/*
 * FindCoordinator. One node coordinates everything, so the answer is this
 * broker's endpoint on the listener the request came in on, once the
 * coordinator for the key type is ready. v0-3 ask for one key; v4+ for a
 * batch (coordinator_keys), answered one entry per key.
 *
 * key_type 1 (TRANSACTION): the first request creates __transaction_state,
 * as Kafka does. key_type 0 (GROUP): find_group_coordinator below answers
 * COORDINATOR_NOT_AVAILABLE until the group coordinator is wired in.
 */
#include <strings.h>

#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

enum { KEY_TYPE_GROUP = 0, KEY_TYPE_TRANSACTION = 1 };

typedef struct coordinator_answer {
    int16_t error;
    od_str message;   /* len -1: null */
} coordinator_answer;

static coordinator_answer find_group_coordinator(od_rctx *ctx, od_str key)
{
    (void)ctx;
    (void)key;
    return (coordinator_answer){OD_TC_COORDINATOR_NOT_AVAILABLE, OD_STR_NULL};
}

static coordinator_answer find_transaction_coordinator(od_rctx *ctx, od_str key)
{
    if (key.len <= 0)
        return (coordinator_answer){OD_ERR_INVALID_REQUEST, OD_STR_NULL};
    int16_t e;
    od_tc *tc = od_txn_coordinator(ctx->broker, &e);
    if (!tc)
        return (coordinator_answer){e, OD_STR_NULL};
    return (coordinator_answer){OD_ERR_NONE, OD_STR_NULL};
}

/* This broker's endpoint on the request's listener. */
static void own_endpoint(od_rctx *ctx, od_str *host, int32_t *port)
{
    od_broker *b = ctx->broker;
    const od_listener_config *lc = od_conn_listener(ctx->req->conn);
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
    default: return (coordinator_answer){OD_ERR_INVALID_REQUEST, OD_STR_NULL};
    }
}

od_handler_status od_handle_find_coordinator(od_rctx *ctx)
{
    const od_find_coordinator_request *req = ctx->request;
    od_find_coordinator_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_str host;
    int32_t port;
    own_endpoint(ctx, &host, &port);
    int32_t node = b->settings.node_id;
    od_broker_lock(b);
    /* v4+ carries a batch (coordinator_keys) and answers only in
     * `coordinators`; v0-3 one key, answered in the top-level fields. Each
     * form leaves the other's fields at their defaults, which the encoder
     * requires of fields a version lacks. */
    bool batched = req->coordinator_keys.count > 0;
    if (!batched) {
        coordinator_answer a = answer_for(ctx, req->key_type, req->key);
        resp->error_code = a.error;
        resp->error_message = a.message;
        resp->node_id = a.error ? -1 : node;
        resp->host = a.error ? OD_STR_LIT("") : host;
        resp->port = a.error ? -1 : port;
    } else {
        int32_t n = req->coordinator_keys.count > 0 ? req->coordinator_keys.count : 0;
        od_find_coordinator_response_coordinator *items =
            OD_ARENA_ARRAY(ctx, od_find_coordinator_response_coordinator, n);
        if (!items) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        for (int32_t i = 0; i < n; i++) {
            od_str key = req->coordinator_keys.items[i];
            coordinator_answer a = answer_for(ctx, req->key_type, key);
            od_find_coordinator_response_coordinator *c = &items[i];
            od_find_coordinator_response_coordinator_init(c);
            c->key = key;
            c->error_code = a.error;
            c->error_message = a.message;
            c->node_id = a.error ? -1 : node;
            c->host = a.error ? OD_STR_LIT("") : host;
            c->port = a.error ? -1 : port;
        }
        resp->coordinators = (od_find_coordinator_response_coordinator_array){n, items};
    }
    od_broker_unlock(b);
    return OD_HANDLER_REPLY;
}
