/*
 * DeleteRecords: raises each partition's log start offset (-1 means the
 * high watermark) and answers with the new low watermark.
 */
#include "handler_util.h"
#include "handlers.h"

od_handler_status od_handle_delete_records(od_rctx *ctx)
{
    const od_delete_records_request *req = ctx->request;
    od_delete_records_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    od_delete_records_response_delete_records_topic_result *topics =
        OD_ARENA_ARRAY(ctx, od_delete_records_response_delete_records_topic_result, nt);
    if (topics == NULL)
        return OD_HANDLER_CLOSE;
    od_broker_lock(b);
    for (int32_t i = 0; i < nt; i++) {
        const od_delete_records_request_delete_records_topic *rt = &req->topics.items[i];
        od_delete_records_response_delete_records_topic_result *to = &topics[i];
        od_delete_records_response_delete_records_topic_result_init(to);
        to->name = rt->name;
        int32_t np = rt->partitions.count > 0 ? rt->partitions.count : 0;
        od_delete_records_response_delete_records_partition_result *parts =
            OD_ARENA_ARRAY(ctx, od_delete_records_response_delete_records_partition_result, np);
        if (parts == NULL) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        od_broker_topic *t = od_broker_topic_by_name(b, rt->name);
        for (int32_t j = 0; j < np; j++) {
            const od_delete_records_request_delete_records_partition *in = &rt->partitions.items[j];
            od_delete_records_response_delete_records_partition_result *out = &parts[j];
            od_delete_records_response_delete_records_partition_result_init(out);
            out->partition_index = in->partition_index;
            out->low_watermark = -1;
            od_broker_partition *p = od_broker_partition_of(t, in->partition_index);
            if (p == NULL || p->log == NULL) {
                out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            int64_t target = in->offset == -1 ? od_log_high_watermark(p->log) : in->offset;
            out->error_code = od_kafka_error_from_storage(od_log_delete_records_before(p->log, target));
            out->low_watermark = od_log_start_offset(p->log);
        }
        to->partitions = (od_delete_records_response_delete_records_partition_result_array){np, parts};
    }
    od_broker_unlock(b);
    resp->topics = (od_delete_records_response_delete_records_topic_result_array){nt, topics};
    return OD_HANDLER_REPLY;
}
