/*
 * DescribeTopicPartitions (KIP-966): Metadata's topic part with ELR fields,
 * paginated by a response partition limit and a cursor. Topics come sorted
 * by name, as Kafka pages through them.
 */
#include <stdlib.h>

#include "handler_util.h"
#include "handlers.h"

static const int32_t topic_operations =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);

static int by_name(const void *a, const void *b)
{
    const od_mi_topic *x = *(const od_mi_topic *const *)a, *y = *(const od_mi_topic *const *)b;
    return strcmp(x->name, y->name);
}

/* Kafka's admin client reads the ELR lists without a null check, and Kafka
 * sends an untracked ELR as an empty list: so do we. */
static od_int32_array ids(const od_id_list *l)
{
    return l->count < 0 ? (od_int32_array){0, NULL} : (od_int32_array){l->count, l->ids};
}

od_handler_status od_handle_describe_topic_partitions(od_rctx *ctx)
{
    const od_describe_topic_partitions_request *req = ctx->request;
    od_describe_topic_partitions_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    od_broker_lock(b);
    size_t all = od_mimage_topic_count(b->image);
    /* The topics to describe, sorted: every topic when none is named. */
    int32_t asked = req->topics.count > 0 ? req->topics.count : 0;
    size_t cap = asked ? (size_t)asked : all;
    const od_mi_topic **list = OD_ARENA_ARRAY(ctx, const od_mi_topic *, (int32_t)cap);
    od_describe_topic_partitions_response_describe_topic_partitions_response_topic *out =
        OD_ARENA_ARRAY(ctx, od_describe_topic_partitions_response_describe_topic_partitions_response_topic,
                       (int32_t)cap);
    if (list == NULL || out == NULL) {
        od_broker_unlock(b);
        return OD_HANDLER_CLOSE;
    }
    int32_t n = 0, unknown = 0;
    od_str *unknown_names = OD_ARENA_ARRAY(ctx, od_str, asked);
    if (asked) {
        for (int32_t i = 0; i < asked; i++) {
            od_str name = req->topics.items[i].name;
            const od_mi_topic *t = name.len >= 0 ? od_mimage_topic_by_name(b->image, name.ptr, (size_t)name.len) : NULL;
            if (t != NULL)
                list[n++] = t;
            else if (unknown_names)
                unknown_names[unknown++] = name;
        }
    } else {
        for (size_t i = 0; i < all; i++)
            list[n++] = od_mimage_topic_at(b->image, i);
    }
    qsort(list, (size_t)n, sizeof *list, by_name);

    int32_t budget = req->response_partition_limit > 0 ? req->response_partition_limit : 2000;
    int32_t count = 0;
    char *cursor_name = NULL;
    if (req->cursor != NULL && req->cursor->topic_name.len >= 0) {
        cursor_name = od_arena_alloc(ctx->arena, (size_t)req->cursor->topic_name.len + 1);
        if (cursor_name) {
            memcpy(cursor_name, req->cursor->topic_name.ptr, (size_t)req->cursor->topic_name.len);
            cursor_name[req->cursor->topic_name.len] = '\0';
        }
    }
    for (int32_t i = 0; i < unknown; i++) {
        od_describe_topic_partitions_response_describe_topic_partitions_response_topic *o = &out[count++];
        od_describe_topic_partitions_response_describe_topic_partitions_response_topic_init(o);
        o->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        o->name = unknown_names[i];
        o->partitions = (od_describe_topic_partitions_response_describe_topic_partitions_response_partition_array){0, NULL};
    }
    for (int32_t i = 0; i < n; i++) {
        const od_mi_topic *t = list[i];
        int32_t first = 0;
        /* A cursor resumes at its topic and partition; topics before it
         * were answered by an earlier page. */
        if (cursor_name != NULL) {
            int c = strcmp(t->name, cursor_name);
            if (c < 0)
                continue;
            if (c == 0)
                first = req->cursor->partition_index > 0 ? req->cursor->partition_index : 0;
        }
        if (budget <= 0) {
            od_describe_topic_partitions_response_cursor *next = od_arena_calloc(ctx->arena, 1, sizeof *next);
            if (next) {
                od_describe_topic_partitions_response_cursor_init(next);
                next->topic_name = od_arena_str(ctx, t->name);
                next->partition_index = first;
                resp->next_cursor = next;
            }
            break;
        }
        od_describe_topic_partitions_response_describe_topic_partitions_response_topic *o = &out[count++];
        od_describe_topic_partitions_response_describe_topic_partitions_response_topic_init(o);
        o->name = od_arena_str(ctx, t->name);
        o->topic_id = t->id;
        o->is_internal = strcmp(t->name, "__consumer_offsets") == 0 || strcmp(t->name, "__transaction_state") == 0;
        o->topic_authorized_operations = topic_operations;
        od_describe_topic_partitions_response_describe_topic_partitions_response_partition *parts =
            OD_ARENA_ARRAY(ctx, od_describe_topic_partitions_response_describe_topic_partitions_response_partition,
                           t->partition_count);
        int32_t np = 0;
        int32_t p = first;
        for (; parts && p < t->partition_count && np < budget; p++) {
            const od_mi_partition *mp = &t->partitions[p];
            if (!mp->present)
                continue;
            od_describe_topic_partitions_response_describe_topic_partitions_response_partition *po = &parts[np++];
            od_describe_topic_partitions_response_describe_topic_partitions_response_partition_init(po);
            po->partition_index = p;
            po->leader_id = mp->leader;
            po->leader_epoch = mp->leader_epoch;
            po->replica_nodes = ids(&mp->replicas);
            po->isr_nodes = ids(&mp->isr);
            po->eligible_leader_replicas = ids(&mp->elr);
            po->last_known_elr = ids(&mp->last_known_elr);
            po->offline_replicas = (od_int32_array){0, NULL};
        }
        budget -= np;
        o->partitions = (od_describe_topic_partitions_response_describe_topic_partitions_response_partition_array){np, parts};
        if (p < t->partition_count) {
            od_describe_topic_partitions_response_cursor *next = od_arena_calloc(ctx->arena, 1, sizeof *next);
            if (next) {
                od_describe_topic_partitions_response_cursor_init(next);
                next->topic_name = o->name;
                next->partition_index = p;
                resp->next_cursor = next;
            }
            break;
        }
    }
    od_broker_unlock(b);
    resp->topics = (od_describe_topic_partitions_response_describe_topic_partitions_response_topic_array){count, out};
    return OD_HANDLER_REPLY;
}
