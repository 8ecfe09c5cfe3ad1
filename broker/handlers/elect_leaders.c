/*
 * ElectLeaders: with one replica per partition the leader is always the
 * preferred one and always elected, which Kafka reports as
 * ELECTION_NOT_NEEDED; unknown partitions get UNKNOWN_TOPIC_OR_PARTITION.
 */
#include "handler_util.h"
#include "handlers.h"

enum { ERR_ELECTION_NOT_NEEDED = 84 };

static void one_topic(od_rctx *ctx, od_str name, const int32_t *ids, int32_t count,
                      od_elect_leaders_response_replica_election_result *out)
{
    od_broker *b = ctx->broker;
    od_elect_leaders_response_replica_election_result_init(out);
    out->topic = name;
    od_broker_topic *t = od_broker_topic_by_name(b, name);
    int32_t n = ids ? count : (t ? t->partition_count : 0);
    od_elect_leaders_response_partition_result *parts =
        OD_ARENA_ARRAY(ctx, od_elect_leaders_response_partition_result, n);
    for (int32_t i = 0; parts && i < n; i++) {
        od_elect_leaders_response_partition_result_init(&parts[i]);
        parts[i].partition_id = ids ? ids[i] : i;
        bool known = od_broker_partition_of(t, parts[i].partition_id) != NULL;
        parts[i].error_code = known ? ERR_ELECTION_NOT_NEEDED : OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        parts[i].error_message = known ? OD_STR_NULL : OD_STR_LIT("The partition does not exist.");
    }
    out->partition_result = (od_elect_leaders_response_partition_result_array){parts ? n : 0, parts};
}

od_handler_status od_handle_elect_leaders(od_rctx *ctx)
{
    const od_elect_leaders_request *req = ctx->request;
    od_elect_leaders_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_broker_lock(b);
    /* Null asks for every partition. */
    bool all = req->topic_partitions.count < 0;
    int32_t n = all ? b->topic_count : req->topic_partitions.count;
    od_elect_leaders_response_replica_election_result *out =
        OD_ARENA_ARRAY(ctx, od_elect_leaders_response_replica_election_result, n);
    for (int32_t i = 0; out && i < n; i++) {
        if (all) {
            one_topic(ctx, od_arena_str(ctx, b->topics[i].name), NULL, 0, &out[i]);
        } else {
            const od_elect_leaders_request_topic_partitions *tp = &req->topic_partitions.items[i];
            one_topic(ctx, tp->topic, tp->partitions.items ? tp->partitions.items : (const int32_t *)"",
                      tp->partitions.count > 0 ? tp->partitions.count : 0, &out[i]);
        }
    }
    od_broker_unlock(b);
    resp->replica_election_results = (od_elect_leaders_response_replica_election_result_array){out ? n : 0, out};
    return out ? OD_HANDLER_REPLY : OD_HANDLER_CLOSE;
}
