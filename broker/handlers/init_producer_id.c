/*
 * InitProducerId for idempotent producers (no transactional id): a fresh
 * producer id at epoch 0 from this broker's block. Transactions need the
 * transaction coordinator, which does not exist yet.
 */
#include "handler_util.h"
#include "handlers.h"

enum { ERR_TRANSACTIONAL_ID_NOT_FOUND = 105, ERR_COORDINATOR_NOT_AVAILABLE = 15 };

od_handler_status od_handle_init_producer_id(od_rctx *ctx)
{
    const od_init_producer_id_request *req = ctx->request;
    od_init_producer_id_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    if (req->transactional_id.len >= 0) {
        /* No transaction coordinator: the client is told to look again later. */
        resp->error_code = ERR_COORDINATOR_NOT_AVAILABLE;
        return OD_HANDLER_REPLY;
    }
    od_broker_lock(b);
    int64_t id = -1;
    resp->error_code = od_broker_next_producer_id(b, &id);
    od_broker_unlock(b);
    if (resp->error_code == OD_ERR_NONE) {
        resp->producer_id = id;
        resp->producer_epoch = 0;
    }
    return OD_HANDLER_REPLY;
}
