/*
 * ConsumerGroupHeartbeat (KIP-848): join, heartbeat, leave and reconcile
 * with the consumer-group coordinator (broker/groups/consumer_group.h).
 * A group id a classic group with members holds is not a consumer group:
 * Kafka 3.9 answers GROUP_ID_NOT_FOUND (no online upgrade here).
 */
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_consumer_group_heartbeat(od_rctx *ctx)
{
    const od_consumer_group_heartbeat_request *req = ctx->request;
    od_consumer_group_heartbeat_response *resp = ctx->response;
    od_str host = od_group_client_host(ctx);
    od_group_service *gs = ctx->broker->groups;
    od_gc *gc = od_group_service_lock(gs);
    od_cg *cg = od_group_service_consumer_groups(gs);
    od_gc_state state;
    int32_t generation, members = 0;
    od_str leader;
    if (req->group_id.len > 0 && !od_cg_has_group(cg, req->group_id) &&
        od_gc_group_info(gc, req->group_id, &state, &generation, &leader, &members) &&
        members > 0) {
        resp->error_code = OD_GC_GROUP_ID_NOT_FOUND;
        resp->error_message = od_arena_str(ctx, "The group is not a consumer group.");
        resp->member_id = OD_STR_NULL;
    } else {
        /* The v0 request Kafka 3.9 defines carries no topic regex. */
        od_cg_heartbeat(cg, req, OD_STR_NULL, ctx->header.client_id, host, ctx->arena, resp);
    }
    od_group_service_unlock(gs);
    return OD_HANDLER_REPLY;
}
