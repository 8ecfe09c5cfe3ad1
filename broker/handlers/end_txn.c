/*
 * EndTxn: commit or abort. The answer comes once PrepareCommit/PrepareAbort
 * is durable; on this single node the markers are normally written before
 * the handler returns (the coordinator retries them from its timer when a
 * partition refuses).
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

od_handler_status od_handle_end_txn(od_rctx *ctx)
{
    const od_end_txn_request *req = ctx->request;
    od_end_txn_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_gc *groups = od_txn_lock(b);
    int16_t e;
    od_tc *tc = od_txn_coordinator(b, &e);
    if (tc)
        e = od_tc_end_txn(tc, req->transactional_id, req->producer_id, req->producer_epoch,
                          req->committed);
    od_txn_unlock(b, groups);
    if (e == OD_TC_PRODUCER_FENCED && ctx->version < 2)
        e = OD_TC_INVALID_PRODUCER_EPOCH;
    resp->error_code = e;
    return OD_HANDLER_REPLY;
}
