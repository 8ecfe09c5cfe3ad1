/*
 * CreatePartitions: grows topics through the metadata log.
 */
#include "handler_util.h"
#include "handlers.h"

od_handler_status od_handle_create_partitions(od_rctx *ctx)
{
    const od_create_partitions_request *req = ctx->request;
    od_create_partitions_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_create_partitions_response_create_partitions_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_create_partitions_response_create_partitions_topic_result, n);
    if (items == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < n; i++) {
        const od_create_partitions_request_create_partitions_topic *rt = &req->topics.items[i];
        od_create_partitions_response_create_partitions_topic_result *out = &items[i];
        od_create_partitions_response_create_partitions_topic_result_init(out);
        out->name = rt->name;
        bool duplicate = false;
        for (int32_t j = 0; j < n; j++)
            duplicate |= j != i && od_str_eq(rt->name, req->topics.items[j].name);
        if (duplicate) {
            out->error_code = OD_ERR_INVALID_REQUEST;
            out->error_message = OD_STR_LIT("Duplicate topic name.");
            continue;
        }
        od_broker_topic *t = od_broker_topic_by_name(b, rt->name);
        if (t == NULL) {
            out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            out->error_message = OD_STR_LIT("This server does not host this topic.");
            continue;
        }
        if (rt->assignments.count >= 0) {
            bool bad = rt->assignments.count != rt->count - t->partition_count;
            for (int32_t a = 0; !bad && a < rt->assignments.count; a++) {
                const od_int32_array *ids = &rt->assignments.items[a].broker_ids;
                bad = ids->count != 1 || ids->items[0] != b->settings.node_id;
            }
            if (bad) {
                out->error_code = OD_ERR_INVALID_REPLICA_ASSIGNMENT;
                out->error_message = OD_STR_LIT("The assignment names brokers this cluster does "
                                                "not have, or does not match the new partitions.");
                continue;
            }
        }
        const char *message = NULL;
        out->error_code = od_broker_create_partitions(b, t, rt->count, req->validate_only, &message);
        if (message != NULL)
            out->error_message = od_arena_str(ctx, message);
    }
    od_broker_unlock(b);
    resp->results = (od_create_partitions_response_create_partitions_topic_result_array){n, items};
    return OD_HANDLER_REPLY;
}
