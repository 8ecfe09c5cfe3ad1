/*
 * ConsumerGroupDescribe (KIP-848): epochs, assignor, members with their
 * current and target assignments. A group that is not a consumer group (a
 * classic one, or none) gets GROUP_ID_NOT_FOUND, as Kafka 3.9 answers; with
 * no authorizer every group operation is allowed (when asked).
 */
#include "group_util.h"
#include "handlers.h"

/* Kafka's AclOperation codes a Group resource supports: READ, DELETE,
 * DESCRIBE. */
static const int32_t group_operations = (1 << 3) | (1 << 6) | (1 << 8);
static const int32_t operations_not_requested = INT32_MIN;

od_handler_status od_handle_consumer_group_describe(od_rctx *ctx)
{
    const od_consumer_group_describe_request *req = ctx->request;
    od_consumer_group_describe_response *resp = ctx->response;
    int32_t n = req->group_ids.count > 0 ? req->group_ids.count : 0;
    od_consumer_group_describe_response_described_group *out =
        OD_ARENA_ARRAY(ctx, od_consumer_group_describe_response_described_group, n);
    if (out == NULL)
        return OD_HANDLER_CLOSE;
    od_group_service *gs = ctx->broker->groups;
    (void)od_group_service_lock(gs);
    od_cg *cg = od_group_service_consumer_groups(gs);
    int rc = 0;
    for (int32_t i = 0; i < n && rc == 0; i++)
        rc = od_cg_describe(cg, req->group_ids.items[i], ctx->arena, &out[i]);
    od_group_service_unlock(gs);
    if (rc != 0)
        return OD_HANDLER_CLOSE;
    for (int32_t i = 0; i < n; i++)
        out[i].authorized_operations = req->include_authorized_operations
                                           ? group_operations
                                           : operations_not_requested;
    resp->groups = (od_consumer_group_describe_response_described_group_array){n, out};
    return OD_HANDLER_REPLY;
}
