/*
 * Heartbeat: keeps a member's session and tells it about a rebalance
 * (REBALANCE_IN_PROGRESS), with Kafka's generation and member checks. A
 * classic member of a KIP-848 consumer group heartbeats with its member
 * epoch as generation (consumer_group_util.h).
 */
#include "consumer_group_util.h"
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_heartbeat(od_rctx *ctx)
{
    const od_heartbeat_request *req = ctx->request;
    od_heartbeat_response *resp = ctx->response;
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    if (!od_cg_hook_classic_heartbeat(gs, req->group_id, req->member_id, req->group_instance_id,
                                      req->generation_id, &resp->error_code))
        resp->error_code = od_gc_heartbeat(gc, req->group_id, req->member_id,
                                           req->group_instance_id, req->generation_id);
    od_group_service_unlock(gs);
    return OD_HANDLER_REPLY;
}
