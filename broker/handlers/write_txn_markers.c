/*
 * WriteTxnMarkers: appends a COMMIT or ABORT control batch to each named
 * partition as its leader, through the same path the coordinator uses on
 * this node (od_txn_write_marker). Per-partition errors as Kafka's
 * (UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not have).
 */
#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

typedef od_write_txn_markers_response_writable_txn_marker_result marker_out;
typedef od_write_txn_markers_response_writable_txn_marker_topic_result topic_out;
typedef od_write_txn_markers_response_writable_txn_marker_partition_result part_out;

od_handler_status od_handle_write_txn_markers(od_rctx *ctx)
{
    const od_write_txn_markers_request *req = ctx->request;
    od_write_txn_markers_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nm = req->markers.count > 0 ? req->markers.count : 0;
    marker_out *markers = OD_ARENA_ARRAY(ctx, marker_out, nm);
    if (!markers)
        return OD_HANDLER_CLOSE;
    od_gc *groups = od_txn_lock(b);
    for (int32_t i = 0; i < nm; i++) {
        const od_write_txn_markers_request_writable_txn_marker *m = &req->markers.items[i];
        od_write_txn_markers_response_writable_txn_marker_result_init(&markers[i]);
        markers[i].producer_id = m->producer_id;
        int32_t nt = m->topics.count > 0 ? m->topics.count : 0;
        topic_out *topics = OD_ARENA_ARRAY(ctx, topic_out, nt);
        if (!topics) {
            od_txn_unlock(b, groups);
            return OD_HANDLER_CLOSE;
        }
        for (int32_t j = 0; j < nt; j++) {
            const od_write_txn_markers_request_writable_txn_marker_topic *t = &m->topics.items[j];
            od_write_txn_markers_response_writable_txn_marker_topic_result_init(&topics[j]);
            topics[j].name = t->name;
            int32_t np = t->partition_indexes.count > 0 ? t->partition_indexes.count : 0;
            part_out *parts = OD_ARENA_ARRAY(ctx, part_out, np);
            if (!parts) {
                od_txn_unlock(b, groups);
                return OD_HANDLER_CLOSE;
            }
            for (int32_t k = 0; k < np; k++) {
                od_write_txn_markers_response_writable_txn_marker_partition_result_init(&parts[k]);
                parts[k].partition_index = t->partition_indexes.items[k];
                parts[k].error_code = od_txn_write_marker(b, t->name, parts[k].partition_index,
                                                          m->producer_id, m->producer_epoch,
                                                          m->coordinator_epoch, m->transaction_result);
            }
            topics[j].partitions =
                (od_write_txn_markers_response_writable_txn_marker_partition_result_array){np, parts};
        }
        markers[i].topics = (od_write_txn_markers_response_writable_txn_marker_topic_result_array){nt, topics};
    }
    od_txn_unlock(b, groups);
    resp->markers = (od_write_txn_markers_response_writable_txn_marker_result_array){nm, markers};
    return OD_HANDLER_REPLY;
}
