/*
 * DescribeTransactions: the coordinator's view of each transactional id
 * (state, producer id and epoch, timeout, start time, partitions).
 */
#include <stdlib.h>

#include "handler_util.h"
#include "handlers.h"
#include "txn_service.h"

typedef od_describe_transactions_response_transaction_state state_out;
typedef od_describe_transactions_response_topic_data topic_out;

/* Java's String.hashCode (topic names are ASCII). */
static uint32_t java_string_hash(od_str s)
{
    uint32_t h = 0;
    for (int32_t i = 0; i < s.len; i++)
        h = 31u * h + (uint8_t)s.ptr[i];
    return h;
}

/* Kafka keeps a transaction's partitions in a Scala mutable.HashSet of
 * TopicPartition: iteration goes by bucket (the improved hash masked to the
 * table, 16 buckets doubled before an add would reach 3/4 full), then by
 * ascending hash within a bucket. */
typedef struct hashed_part {
    const od_tc_topic_partition *part;
    uint32_t bucket;
    int32_t hash;
} hashed_part;

static int by_scala_set_order(const void *a, const void *b)
{
    const hashed_part *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return (x->hash > y->hash) - (x->hash < y->hash);
}

/* Partitions grouped by topic as Kafka 3.9 answers: topics in the order
 * they first appear while iterating the partition set, each topic's
 * partitions in that order too. */
static bool fill_topics(od_rctx *ctx, const od_tc_txn_info *info, state_out *o)
{
    int32_t n = info->part_count;
    topic_out *topics = OD_ARENA_ARRAY(ctx, topic_out, n);
    int32_t *ids = OD_ARENA_ARRAY(ctx, int32_t, n);
    hashed_part *order = OD_ARENA_ARRAY(ctx, hashed_part, n);
    if (!topics || !ids || !order)
        return false;
    uint32_t buckets = 16;
    for (int32_t added = 0; added < n; added++)
        if ((uint32_t)added + 1 >= buckets - buckets / 4)
            buckets *= 2;
    for (int32_t i = 0; i < n; i++) {
        const od_tc_topic_partition *p = &info->parts[i];
        uint32_t h = 31u * (31u + (uint32_t)p->partition) + java_string_hash(p->topic);
        h ^= h >> 16;
        order[i] = (hashed_part){p, h & (buckets - 1), (int32_t)h};
    }
    qsort(order, (size_t)n, sizeof *order, by_scala_set_order);
    int32_t nt = 0, used = 0;
    for (int32_t i = 0; i < n; i++) {
        bool seen = false;
        for (int32_t k = 0; k < i && !seen; k++)
            seen = od_str_eq(order[k].part->topic, order[i].part->topic);
        if (seen)
            continue;
        topic_out *t = &topics[nt++];
        od_describe_transactions_response_topic_data_init(t);
        t->topic = order[i].part->topic;
        int32_t first = used;
        for (int32_t k = i; k < n; k++)
            if (od_str_eq(order[k].part->topic, order[i].part->topic))
                ids[used++] = order[k].part->partition;
        t->partitions = (od_int32_array){used - first, ids + first};
    }
    o->topics = (od_describe_transactions_response_topic_data_array){nt, topics};
    return true;
}

od_handler_status od_handle_describe_transactions(od_rctx *ctx)
{
    const od_describe_transactions_request *req = ctx->request;
    od_describe_transactions_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    int32_t n = req->transactional_ids.count > 0 ? req->transactional_ids.count : 0;
    state_out *items = OD_ARENA_ARRAY(ctx, state_out, n);
    if (!items)
        return OD_HANDLER_CLOSE;
    bool ok = true;
    od_broker_lock(b);
    int16_t tc_error;
    od_tc *tc = od_txn_coordinator(b, &tc_error);
    for (int32_t i = 0; ok && i < n; i++) {
        state_out *o = &items[i];
        od_describe_transactions_response_transaction_state_init(o);
        o->transactional_id = req->transactional_ids.items[i];
        od_tc_txn_info info;
        int16_t e = tc ? od_tc_describe(tc, o->transactional_id, ctx->arena, &info) : tc_error;
        o->error_code = e;
        if (e != OD_ERR_NONE)
            continue;
        o->transaction_state = od_str_from_cstr(od_txn_state_name(info.state));
        o->transaction_timeout_ms = info.timeout_ms;
        o->transaction_start_time_ms = info.start_ms;
        o->producer_id = info.producer_id;
        o->producer_epoch = info.producer_epoch;
        ok = fill_topics(ctx, &info, o);
    }
    od_broker_unlock(b);
    if (!ok)
        return OD_HANDLER_CLOSE;
    resp->transaction_states = (od_describe_transactions_response_transaction_state_array){n, items};
    return OD_HANDLER_REPLY;
}
