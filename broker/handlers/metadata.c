/*
 * Metadata: brokers, cluster id, controller, and topics (all, or the ones
 * named or identified), creating unknown ones when both the client and
 * auto.create.topics.enable allow it.
 */
#include "handler_util.h"
#include "handlers.h"

/* Every operation Kafka defines for a Topic resource; with no authorizer
 * all are allowed. */
static const int32_t topic_operations =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
static const int32_t cluster_operations =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14);

static bool is_internal_topic(const char *name)
{
    return strcmp(name, "__consumer_offsets") == 0 || strcmp(name, "__transaction_state") == 0;
}

static void fill_topic(od_rctx *ctx, od_metadata_response_metadata_response_topic *out,
                       const od_mi_topic *t, bool with_ops)
{
    out->name = od_arena_str(ctx, t->name);
    out->topic_id = t->id;
    out->is_internal = is_internal_topic(t->name);
    if (with_ops)
        out->topic_authorized_operations = topic_operations;
    od_metadata_response_metadata_response_partition *parts =
        OD_ARENA_ARRAY(ctx, od_metadata_response_metadata_response_partition, t->partition_count);
    int32_t n = 0;
    for (int32_t i = 0; parts && i < t->partition_count; i++) {
        const od_mi_partition *p = &t->partitions[i];
        if (!p->present)
            continue;
        od_metadata_response_metadata_response_partition *o = &parts[n++];
        od_metadata_response_metadata_response_partition_init(o);
        o->partition_index = p->partition_id;
        o->leader_id = p->leader;
        o->leader_epoch = p->leader_epoch;
        if (p->leader < 0)
            o->error_code = OD_ERR_LEADER_NOT_AVAILABLE;
        o->replica_nodes = (od_int32_array){p->replicas.count, p->replicas.ids};
        o->isr_nodes = (od_int32_array){p->isr.count, p->isr.ids};
        o->offline_replicas = (od_int32_array){0, NULL};
    }
    out->partitions = (od_metadata_response_metadata_response_partition_array){n, parts};
}

static void fill_brokers(od_rctx *ctx, od_metadata_response *resp)
{
    od_broker *b = ctx->broker;
    const od_listener_config *lc = od_conn_listener(ctx->req->conn);
    size_t n = od_mimage_broker_count(b->image);
    od_metadata_response_metadata_response_broker *items =
        OD_ARENA_ARRAY(ctx, od_metadata_response_metadata_response_broker, (int32_t)n);
    int32_t count = 0;
    for (size_t i = 0; items && i < n; i++) {
        const od_mi_broker *mb = od_mimage_broker_at(b->image, i);
        if (mb->fenced)
            continue;
        /* A client gets each broker's endpoint on the listener it came in on. */
        const od_mi_endpoint *ep = NULL;
        for (int32_t e = 0; e < mb->endpoint_count; e++)
            if (lc == NULL || lc->name == NULL || strcasecmp(mb->endpoints[e].listener, lc->name) == 0)
                ep = ep ? ep : &mb->endpoints[e];
        if (ep == NULL && mb->endpoint_count > 0)
            ep = &mb->endpoints[0];
        if (ep == NULL)
            continue;
        od_metadata_response_metadata_response_broker *o = &items[count++];
        od_metadata_response_metadata_response_broker_init(o);
        o->node_id = mb->id;
        o->host = od_arena_str(ctx, ep->host);
        o->port = ep->port;
        o->rack = od_arena_str(ctx, mb->rack);
    }
    resp->brokers = (od_metadata_response_metadata_response_broker_array){count, items};
}

od_handler_status od_handle_metadata(od_rctx *ctx)
{
    const od_metadata_request *req = ctx->request;
    od_metadata_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    bool with_ops = req->include_topic_authorized_operations;
    if (req->include_cluster_authorized_operations)
        resp->cluster_authorized_operations = cluster_operations;

    od_broker_lock(b);
    fill_brokers(ctx, resp);
    resp->cluster_id = od_arena_str(ctx, b->settings.cluster_id);
    resp->controller_id = b->settings.node_id;

    /* v0 has no null array: there, an empty list means every topic. From v1
     * null means all and empty means none. */
    bool all = req->topics.count < 0 || (ctx->version == 0 && req->topics.count == 0);
    if (all) {
        size_t n = od_mimage_topic_count(b->image);
        od_metadata_response_metadata_response_topic *items =
            OD_ARENA_ARRAY(ctx, od_metadata_response_metadata_response_topic, (int32_t)n);
        for (size_t i = 0; items && i < n; i++) {
            od_metadata_response_metadata_response_topic_init(&items[i]);
            fill_topic(ctx, &items[i], od_mimage_topic_at(b->image, i), with_ops);
        }
        resp->topics = (od_metadata_response_metadata_response_topic_array){items ? (int32_t)n : 0, items};
        od_broker_unlock(b);
        return items ? OD_HANDLER_REPLY : OD_HANDLER_CLOSE;
    }

    int32_t n = req->topics.count;
    od_metadata_response_metadata_response_topic *items =
        OD_ARENA_ARRAY(ctx, od_metadata_response_metadata_response_topic, n);
    if (items == NULL) {
        od_broker_unlock(b);
        return OD_HANDLER_CLOSE;
    }
    bool may_create = req->allow_auto_topic_creation && b->settings.auto_create_topics_enable;
    for (int32_t i = 0; i < n; i++) {
        const od_metadata_request_metadata_request_topic *rt = &req->topics.items[i];
        od_metadata_response_metadata_response_topic *out = &items[i];
        od_metadata_response_metadata_response_topic_init(out);
        const od_mi_topic *t;
        /* As Kafka's handleTopicMetadataRequest: a topic with an id is looked
         * up by id, whatever its name says (the Java 4.x consumer asks for
         * the topics of its KIP-848 assignment by id, with an empty name). */
        if (rt->name.len < 0 || !od_uuid_is_zero(&rt->topic_id)) {
            t = od_mimage_topic_by_id(b->image, &rt->topic_id);
            if (t == NULL) {
                out->error_code = OD_ERR_UNKNOWN_TOPIC_ID;
                out->name = OD_STR_NULL;
                out->topic_id = rt->topic_id;
                continue;
            }
        } else {
            t = od_mimage_topic_by_name(b->image, rt->name.ptr, (size_t)rt->name.len);
        }
        if (t == NULL) {
            out->name = rt->name;
            const char *why = NULL;
            if (!od_topic_name_valid(rt->name, &why)) {
                out->error_code = OD_ERR_INVALID_TOPIC_EXCEPTION;
                continue;
            }
            if (!may_create) {
                out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            /* As Kafka: the creation goes to the controller and the client
             * hears LEADER_NOT_AVAILABLE until the topic is there (its next
             * Metadata request finds it). */
            if (od_broker_create_topic(b, rt->name, -1, -1, NULL, 0, NULL, NULL) != 0)
                out->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
            else
                out->error_code = OD_ERR_LEADER_NOT_AVAILABLE;
            continue;
        }
        fill_topic(ctx, out, t, with_ops);
    }
    resp->topics = (od_metadata_response_metadata_response_topic_array){n, items};
    od_broker_unlock(b);
    return OD_HANDLER_REPLY;
}
