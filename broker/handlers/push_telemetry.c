/*
 * PushTelemetry (KIP-714): checks the push as Kafka does and discards the
 * metrics (no client is ever asked for any; see telemetry.h).
 */
#include "handler_util.h"
#include "handlers.h"
#include "telemetry.h"

od_handler_status od_handle_push_telemetry(od_rctx *ctx)
{
    const od_push_telemetry_request *req = ctx->request;
    od_push_telemetry_response *resp = ctx->response;
    if (od_uuid_is_zero(&req->client_instance_id))
        resp->error_code = OD_ERR_INVALID_REQUEST;
    else if (req->subscription_id != od_telemetry_subscription_id(&req->client_instance_id))
        resp->error_code = OD_ERR_UNKNOWN_SUBSCRIPTION_ID;
    else if (req->compression_type < OD_COMPRESSION_NONE || req->compression_type > OD_COMPRESSION_ZSTD)
        resp->error_code = OD_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    else if (req->metrics.len > OD_TELEMETRY_MAX_BYTES)
        resp->error_code = OD_ERR_TELEMETRY_TOO_LARGE;
    return OD_HANDLER_REPLY;
}
