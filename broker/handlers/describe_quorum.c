/*
 * DescribeQuorum: the state of the __cluster_metadata quorum, read on the
 * controller thread (the quorum's owner) and answered from there. Served on
 * the controller listener (kafka-metadata-quorum --bootstrap-controller)
 * and, as Kafka 3.9 does by forwarding, on the broker listener
 * (--bootstrap-server). Kafka's rules: a request that names anything but
 * partition 0 of __cluster_metadata is INVALID_REQUEST as a whole; a node
 * that does not lead answers NOT_LEADER_OR_FOLLOWER for the partition.
 */
#include <stdio.h>
#include <unistd.h>

#include "handler_util.h"
#include "handlers.h"
#include "quorum.h"
#include "raft_log.h"

static bool names_metadata_partition(const od_describe_quorum_request *req)
{
    if (req->topics.count != 1)
        return false;
    const od_describe_quorum_request_topic_data *t = &req->topics.items[0];
    return od_str_eq_cstr(t->topic_name, OD_METADATA_TOPIC) && t->partitions.count == 1 &&
           t->partitions.items[0].partition_index == OD_METADATA_PARTITION;
}

/* Where this voter's controller listeners are reached (Kafka: the voter
 * endpoints); a listener bound to every interface is named by host name. */
static od_describe_quorum_response_node_array voter_nodes(od_rctx *ctx, od_broker *b)
{
    const od_broker_settings *s = &b->settings;
    od_describe_quorum_response_node *node = OD_ARENA_ARRAY(ctx, od_describe_quorum_response_node, 1);
    int32_t n = s->controller_listener_count;
    od_describe_quorum_response_listener *ls = OD_ARENA_ARRAY(ctx, od_describe_quorum_response_listener, n);
    if (node == NULL || ls == NULL)
        return (od_describe_quorum_response_node_array){0, NULL};
    for (int32_t i = 0; i < n; i++) {
        const od_broker_endpoint *e = &s->controller_listeners[i];
        od_describe_quorum_response_listener_init(&ls[i]);
        ls[i].name = od_arena_str(ctx, e->listener);
        if (e->host != NULL && e->host[0] != '\0') {
            ls[i].host = od_arena_str(ctx, e->host);
        } else {
            char host[256];
            if (gethostname(host, sizeof host) != 0)
                snprintf(host, sizeof host, "localhost");
            host[sizeof host - 1] = '\0';
            ls[i].host = od_arena_str(ctx, host);
        }
        ls[i].port = (uint16_t)e->port;
    }
    od_describe_quorum_response_node_init(node);
    node->node_id = s->node_id;
    node->listeners = (od_describe_quorum_response_listener_array){n, ls};
    return (od_describe_quorum_response_node_array){1, node};
}

static void describe_on_controller(od_ctl_job *job, od_broker *b, od_controller *c, int64_t now_ms)
{
    od_rctx *ctx = ((od_rctx_job *)job)->ctx;
    od_describe_quorum_response *resp = ctx->response;
    od_quorum *q = od_controller_quorum(c);
    od_describe_quorum_response_topic_data *topic =
        OD_ARENA_ARRAY(ctx, od_describe_quorum_response_topic_data, 1);
    od_describe_quorum_response_partition_data *part =
        OD_ARENA_ARRAY(ctx, od_describe_quorum_response_partition_data, 1);
    od_describe_quorum_response_replica_state *self =
        OD_ARENA_ARRAY(ctx, od_describe_quorum_response_replica_state, 1);
    if (topic == NULL || part == NULL || self == NULL) {
        od_rctx_no_reply(ctx);
        return;
    }
    od_describe_quorum_response_topic_data_init(topic);
    od_describe_quorum_response_partition_data_init(part);
    topic->topic_name = OD_STR_LIT(OD_METADATA_TOPIC);
    topic->partitions = (od_describe_quorum_response_partition_data_array){1, part};
    part->partition_index = OD_METADATA_PARTITION;
    part->current_voters = (od_describe_quorum_response_replica_state_array){0, self};
    part->observers = (od_describe_quorum_response_replica_state_array){0, NULL};
    if (od_quorum_role_of(q) != OD_QUORUM_LEADER) {
        part->error_code = OD_ERR_NOT_LEADER_OR_FOLLOWER;
        part->error_message = OD_STR_LIT("For requests intended only for the leader, this error "
                                         "indicates that the broker is not the current leader. "
                                         "For requests intended for any replica, this error "
                                         "indicates that the broker is not a replica of the "
                                         "topic partition.");
        part->leader_id = od_quorum_leader_id(q);
        part->leader_epoch = od_quorum_epoch(q);
        part->high_watermark = -1;
    } else {
        part->leader_id = od_quorum_leader_id(q);
        part->leader_epoch = od_quorum_epoch(q);
        part->high_watermark = od_quorum_high_watermark(q);
        /* One voter, the leader itself: its log end is what it has
         * flushed, and the leader reports itself as fetched and caught up
         * now. With kraft.version 0 voters carry no directory id. */
        od_describe_quorum_response_replica_state_init(self);
        self->replica_id = b->settings.node_id;
        self->log_end_offset = od_quorum_end_offset(q);
        self->last_fetch_timestamp = now_ms;
        self->last_caught_up_timestamp = now_ms;
        part->current_voters.count = 1;
    }
    resp->topics = (od_describe_quorum_response_topic_data_array){1, topic};
    resp->nodes = voter_nodes(ctx, b);
    od_rctx_reply(ctx);
}

od_handler_status od_handle_describe_quorum(od_rctx *ctx)
{
    const od_describe_quorum_request *req = ctx->request;
    od_describe_quorum_response *resp = ctx->response;
    if (!names_metadata_partition(req)) {
        resp->error_code = OD_ERR_INVALID_REQUEST;
        return OD_HANDLER_REPLY;
    }
    return od_defer_to_controller(ctx, describe_on_controller);
}
