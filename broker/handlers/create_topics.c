/*
 * CreateTopics: each topic through the metadata log, with Kafka's checks.
 */
#include "handler_util.h"
#include "handlers.h"

od_handler_status od_handle_create_topics(od_rctx *ctx)
{
    const od_create_topics_request *req = ctx->request;
    od_create_topics_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->topics.count > 0 ? req->topics.count : 0;
    od_create_topics_response_creatable_topic_result *items =
        OD_ARENA_ARRAY(ctx, od_create_topics_response_creatable_topic_result, n);
    if (items == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < n; i++) {
        const od_create_topics_request_creatable_topic *t = &req->topics.items[i];
        od_create_topics_response_creatable_topic_result *out = &items[i];
        od_create_topics_response_creatable_topic_result_init(out);
        out->name = t->name;
        /* A name listed twice is refused for every occurrence, as Kafka does. */
        bool duplicate = false;
        for (int32_t j = 0; j < n; j++)
            duplicate |= j != i && od_str_eq(t->name, req->topics.items[j].name);
        if (duplicate) {
            out->error_code = OD_ERR_INVALID_REQUEST;
            out->error_message = OD_STR_LIT("Duplicate topic name.");
            continue;
        }
        int32_t partitions = t->num_partitions;
        int16_t rf = t->replication_factor;
        if (t->assignments.count > 0) {
            if (partitions != -1 || rf != -1) {
                out->error_code = OD_ERR_INVALID_REQUEST;
                out->error_message = OD_STR_LIT("Both numPartitions or replicationFactor and "
                                                "replicasAssignments were set. Both cannot be used "
                                                "at the same time.");
                continue;
            }
            bool bad = false;
            for (int32_t a = 0; a < t->assignments.count; a++) {
                const od_create_topics_request_creatable_replica_assignment *as = &t->assignments.items[a];
                bad |= as->partition_index != a || as->broker_ids.count != 1 ||
                       as->broker_ids.items[0] != b->settings.node_id;
            }
            if (bad) {
                out->error_code = OD_ERR_INVALID_REPLICA_ASSIGNMENT;
                out->error_message = OD_STR_LIT("Replica assignment names brokers or partitions "
                                                "this cluster does not have.");
                continue;
            }
            partitions = t->assignments.count;
            rf = 1;
        }
        od_topic_config_kv *kv = OD_ARENA_ARRAY(ctx, od_topic_config_kv, t->configs.count);
        for (int32_t c = 0; kv && c < t->configs.count; c++) {
            kv[c].name = t->configs.items[c].name;
            kv[c].value = t->configs.items[c].value;
        }
        od_uuid id = {{0}};
        const char *message = NULL;
        out->error_code = od_broker_create_topic(b, t->name, partitions, rf, kv,
                                                 t->configs.count > 0 ? t->configs.count : 0,
                                                 req->validate_only, &id, &message);
        if (out->error_code != OD_ERR_NONE) {
            out->error_message = od_arena_str(ctx, message);
            continue;
        }
        out->topic_id = id;
        out->num_partitions = partitions == -1 ? b->settings.num_partitions : partitions;
        out->replication_factor = rf == -1 ? b->settings.default_replication_factor : rf;
        out->configs = (od_create_topics_response_creatable_topic_configs_array){0, NULL};
    }
    od_broker_unlock(b);
    resp->topics = (od_create_topics_response_creatable_topic_result_array){n, items};
    return OD_HANDLER_REPLY;
}
