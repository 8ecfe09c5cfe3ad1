/*
 * DescribeCluster: the registered brokers on the endpoint type asked for; on
 * a controller listener, the controllers (this node, the only voter, at its
 * controller listener), as Kafka's controller answers.
 */
#include "handler_util.h"
#include "handlers.h"

enum { ENDPOINT_TYPE_BROKER = 1, ENDPOINT_TYPE_CONTROLLER = 2 };

/* Every cluster operation Kafka defines for the Cluster resource; without an
 * authorizer all are allowed. */
static const int32_t cluster_operations =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14);

static od_handler_status describe_controllers(od_rctx *ctx, const od_describe_cluster_request *req,
                                              od_describe_cluster_response *resp)
{
    od_broker *b = ctx->broker;
    if (req->endpoint_type == ENDPOINT_TYPE_BROKER) {
        resp->error_code = OD_ERR_MISMATCHED_ENDPOINT_TYPE;
        resp->error_message = OD_STR_LIT("The request was sent to an endpoint of type CONTROLLER, "
                                         "but we wanted an endpoint of type BROKER");
        return OD_HANDLER_REPLY;
    }
    if (req->endpoint_type != ENDPOINT_TYPE_CONTROLLER) {
        resp->error_code = OD_ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp->error_message = OD_STR_LIT("Unsupported endpoint type");
        return OD_HANDLER_REPLY;
    }
    if (req->include_cluster_authorized_operations)
        resp->cluster_authorized_operations = cluster_operations;
    const od_broker_settings *s = &b->settings;
    const od_listener_config *lc = od_conn_listener(ctx->req->conn);
    od_describe_cluster_response_describe_cluster_broker *node =
        OD_ARENA_ARRAY(ctx, od_describe_cluster_response_describe_cluster_broker, 1);
    if (node == NULL || lc == NULL)
        return OD_HANDLER_CLOSE;
    resp->cluster_id = od_arena_str(ctx, s->cluster_id);
    resp->controller_id = s->node_id;
    od_describe_cluster_response_describe_cluster_broker_init(node);
    node->broker_id = s->node_id;
    node->port = lc->port;
    node->host = od_arena_str(ctx, lc->host != NULL && lc->host[0] != '\0' ? lc->host : "localhost");
    node->rack = s->rack ? od_arena_str(ctx, s->rack) : OD_STR_NULL;
    resp->brokers = (od_describe_cluster_response_describe_cluster_broker_array){1, node};
    return OD_HANDLER_REPLY;
}

od_handler_status od_handle_describe_cluster(od_rctx *ctx)
{
    const od_describe_cluster_request *req = ctx->request;
    od_describe_cluster_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    resp->endpoint_type = req->endpoint_type;
    if (ctx->controller_listener)
        return describe_controllers(ctx, req, resp);
    /* A broker listener answers for brokers only; asking it for the
     * controllers is the client's mistake, any other type is unknown. */
    if (req->endpoint_type == ENDPOINT_TYPE_CONTROLLER) {
        resp->error_code = OD_ERR_MISMATCHED_ENDPOINT_TYPE;
        resp->error_message = OD_STR_LIT("The request was sent to an endpoint of type BROKER, "
                                         "but we wanted an endpoint of type CONTROLLER");
        return OD_HANDLER_REPLY;
    }
    if (req->endpoint_type != ENDPOINT_TYPE_BROKER) {
        resp->error_code = OD_ERR_UNSUPPORTED_ENDPOINT_TYPE;
        resp->error_message = OD_STR_LIT("Unsupported endpoint type");
        return OD_HANDLER_REPLY;
    }
    if (req->include_cluster_authorized_operations)
        resp->cluster_authorized_operations = cluster_operations;
    const char *listener = od_conn_listener(ctx->req->conn) ? od_conn_listener(ctx->req->conn)->name : NULL;
    od_broker_lock(b);
    resp->cluster_id = od_arena_str(ctx, b->settings.cluster_id);
    resp->controller_id = b->settings.node_id;
    size_t n = od_mimage_broker_count(b->image);
    od_describe_cluster_response_describe_cluster_broker *items =
        OD_ARENA_ARRAY(ctx, od_describe_cluster_response_describe_cluster_broker, (int32_t)n);
    int32_t count = 0;
    for (size_t i = 0; items && i < n; i++) {
        const od_mi_broker *mb = od_mimage_broker_at(b->image, i);
        if (mb->fenced)
            continue;
        for (int32_t e = 0; e < mb->endpoint_count; e++) {
            const od_mi_endpoint *ep = &mb->endpoints[e];
            if (listener != NULL && strcasecmp(ep->listener, listener) != 0 && mb->endpoint_count > 1)
                continue;
            od_describe_cluster_response_describe_cluster_broker *out = &items[count++];
            od_describe_cluster_response_describe_cluster_broker_init(out);
            out->broker_id = mb->id;
            out->host = od_arena_str(ctx, ep->host);
            out->port = ep->port;
            out->rack = od_arena_str(ctx, mb->rack);
            break;
        }
    }
    od_broker_unlock(b);
    resp->brokers = (od_describe_cluster_response_describe_cluster_broker_array){count, items};
    return OD_HANDLER_REPLY;
}
