/*
 * DescribeProducers: each partition's active producers from its producer
 * state (id, epoch, last sequence and timestamp, coordinator epoch, first
 * offset of the open transaction), as the partition leader keeps them.
 */
#include "handler_util.h"
#include "handlers.h"

typedef od_describe_producers_response_topic_response topic_out;
typedef od_describe_producers_response_partition_response part_out;
typedef od_describe_producers_response_producer_state producer_out;

static bool describe_partition(od_rctx *ctx, od_broker_topic *t, part_out *o)
{
    od_broker_partition *p = t ? od_broker_partition_of(t, o->partition_index) : NULL;
    if (!p || !p->log) {
        o->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        o->active_producers = (od_describe_producers_response_producer_state_array){0, OD_ARENA_ARRAY(ctx, producer_out, 0)};
        return o->active_producers.items != NULL;
    }
    const od_pstate *ps = od_log_producer_state(p->log);
    producer_out *items = OD_ARENA_ARRAY(ctx, producer_out, (int32_t)ps->n);
    if (!items)
        return false;
    for (size_t i = 0; i < ps->n; i++) {
        const od_producer_entry *e = &ps->e[i];
        producer_out *po = &items[i];
        od_describe_producers_response_producer_state_init(po);
        po->producer_id = e->producer_id;
        po->producer_epoch = e->epoch;
        po->last_sequence = e->nbatches ? e->batches[e->nbatches - 1].last_seq : -1;
        po->last_timestamp = e->last_timestamp;
        po->coordinator_epoch = e->coordinator_epoch;
        po->current_txn_start_offset = e->txn_first_offset;
    }
    o->active_producers = (od_describe_producers_response_producer_state_array){(int32_t)ps->n, items};
    return true;
}

od_handler_status od_handle_describe_producers(od_rctx *ctx)
{
    const od_describe_producers_request *req = ctx->request;
    od_describe_producers_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t nt = req->topics.count > 0 ? req->topics.count : 0;
    topic_out *topics = OD_ARENA_ARRAY(ctx, topic_out, nt);
    if (!topics)
        return OD_HANDLER_CLOSE;
    bool ok = true;
    od_broker_lock(b);
    for (int32_t i = 0; ok && i < nt; i++) {
        const od_describe_producers_request_topic_request *in = &req->topics.items[i];
        od_describe_producers_response_topic_response_init(&topics[i]);
        topics[i].name = in->name;
        od_broker_topic *t = od_broker_topic_by_name(b, in->name);
        int32_t np = in->partition_indexes.count > 0 ? in->partition_indexes.count : 0;
        part_out *parts = OD_ARENA_ARRAY(ctx, part_out, np);
        ok = parts != NULL;
        for (int32_t j = 0; ok && j < np; j++) {
            od_describe_producers_response_partition_response_init(&parts[j]);
            parts[j].partition_index = in->partition_indexes.items[j];
            ok = describe_partition(ctx, t, &parts[j]);
        }
        topics[i].partitions = (od_describe_producers_response_partition_response_array){np, parts};
    }
    od_broker_unlock(b);
    if (!ok)
        return OD_HANDLER_CLOSE;
    resp->topics = (od_describe_producers_response_topic_response_array){nt, topics};
    return OD_HANDLER_REPLY;
}
