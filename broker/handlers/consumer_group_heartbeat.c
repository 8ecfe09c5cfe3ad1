/*
 * ConsumerGroupHeartbeat (KIP-848): join, heartbeat, leave and reconcile
 * with the consumer-group coordinator (broker/groups/consumer_group.h).
 * A group id a classic group with members holds is converted to a consumer
 * group when group.consumer.migration.policy allows an upgrade, otherwise
 * refused with GROUP_ID_NOT_FOUND, as Kafka answers.
 *
 * Version 1 (Kafka 4.0, KIP-1082) requires a client-generated member id:
 * an empty one is INVALID_REQUEST at every epoch, where v0 lets the
 * coordinator generate it on join. Version 1 also carries
 * SubscribedTopicRegex (null in v0), which the coordinator resolves; an
 * empty one means "no regex" (librdkafka sends it with every subscription
 * by names).
 */
#include "group_util.h"
#include "handlers.h"

enum {
    CONSUMER_GENERATED_MEMBER_ID_VERSION = 1,
};

/* Kafka's throwIfEmptyString: present and nothing but what String.trim()
 * strips (code points up to U+0020). */
static bool blank(od_str s)
{
    for (int32_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] > ' ')
            return false;
    return s.len >= 0;
}

od_handler_status od_handle_consumer_group_heartbeat(od_rctx *ctx)
{
    const od_consumer_group_heartbeat_request *req = ctx->request;
    od_consumer_group_heartbeat_response *resp = ctx->response;
    od_str host = od_group_client_host(ctx);
    od_group_service *gs = ctx->broker->groups;
    (void)od_group_service_lock(gs);
    od_cg *cg = od_group_service_consumer_groups(gs);
    /* Kafka validates the member id first, before anything else. */
    if (ctx->version >= CONSUMER_GENERATED_MEMBER_ID_VERSION && blank(req->member_id)) {
        resp->error_code = OD_CG_INVALID_REQUEST;
        resp->error_message = od_arena_str(ctx, "MemberId can't be empty.");
        resp->member_id = OD_STR_NULL;
    } else {
        /* A classic group of that id is upgraded or refused inside (group
         * lock held: the conversion changes the classic coordinator too). */
        od_cg_heartbeat(cg, req, req->subscribed_topic_regex, ctx->header.client_id, host,
                        ctx->arena, resp);
    }
    od_group_service_unlock(gs);
    return OD_HANDLER_REPLY;
}
