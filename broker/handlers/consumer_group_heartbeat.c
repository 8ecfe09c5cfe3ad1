/*
 * ConsumerGroupHeartbeat (KIP-848): join, heartbeat, leave and reconcile
 * with the consumer-group coordinator (broker/groups/consumer_group.h).
 * A group id a classic group with members holds is converted to a consumer
 * group when group.consumer.migration.policy allows an upgrade, otherwise
 * refused with GROUP_ID_NOT_FOUND, as Kafka answers.
 */
#include "group_util.h"
#include "handlers.h"

od_handler_status od_handle_consumer_group_heartbeat(od_rctx *ctx)
{
    const od_consumer_group_heartbeat_request *req = ctx->request;
    od_consumer_group_heartbeat_response *resp = ctx->response;
    od_str host = od_group_client_host(ctx);
    od_group_service *gs = ctx->broker->groups;
    (void)od_group_service_lock(gs);
    od_cg *cg = od_group_service_consumer_groups(gs);
    /* The v0 request Kafka 3.9 defines carries no topic regex. A classic
     * group of that id is upgraded or refused inside (group lock held: the
     * conversion changes the classic coordinator too). */
    od_cg_heartbeat(cg, req, OD_STR_NULL, ctx->header.client_id, host, ctx->arena, resp);
    od_group_service_unlock(gs);
    return OD_HANDLER_REPLY;
}
