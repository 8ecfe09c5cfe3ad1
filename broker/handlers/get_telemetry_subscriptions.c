/*
 * GetTelemetrySubscriptions (KIP-714): a client instance id for a client
 * that sends the zero id, and the empty subscription telemetry.h describes.
 */
#include <sys/random.h>

#include "handler_util.h"
#include "handlers.h"
#include "telemetry.h"

/* The codecs a push may use, in Kafka's order of preference. */
static const int8_t accepted_compression[] = {OD_COMPRESSION_ZSTD, OD_COMPRESSION_LZ4, OD_COMPRESSION_GZIP,
                                              OD_COMPRESSION_SNAPPY};

/* A random version-4 uuid, never zero. Returns false when the kernel has
 * no randomness to give. */
static bool new_instance_id(od_uuid *out)
{
    do {
        if (getrandom(out->bytes, sizeof out->bytes, 0) != (ssize_t)sizeof out->bytes)
            return false;
        out->bytes[6] = (uint8_t)((out->bytes[6] & 0x0f) | 0x40);
        out->bytes[8] = (uint8_t)((out->bytes[8] & 0x3f) | 0x80);
    } while (od_uuid_is_zero(out));
    return true;
}

od_handler_status od_handle_get_telemetry_subscriptions(od_rctx *ctx)
{
    const od_get_telemetry_subscriptions_request *req = ctx->request;
    od_get_telemetry_subscriptions_response *resp = ctx->response;
    od_uuid id = req->client_instance_id;
    /* Like Kafka, the response names an instance id only when it assigns
     * one; a client that has one gets the zero id back. */
    if (od_uuid_is_zero(&id)) {
        if (!new_instance_id(&id)) {
            resp->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
            return OD_HANDLER_REPLY;
        }
        resp->client_instance_id = id;
    }
    resp->subscription_id = od_telemetry_subscription_id(&id);
    int32_t codecs = (int32_t)(sizeof accepted_compression / sizeof accepted_compression[0]);
    int8_t *accepted = OD_ARENA_ARRAY(ctx, int8_t, codecs);
    if (accepted == NULL)
        return OD_HANDLER_CLOSE;
    memcpy(accepted, accepted_compression, sizeof accepted_compression);
    resp->accepted_compression_types = (od_int8_array){codecs, accepted};
    resp->push_interval_ms = OD_TELEMETRY_PUSH_INTERVAL_MS;
    resp->telemetry_max_bytes = OD_TELEMETRY_MAX_BYTES;
    resp->delta_temporality = true;
    resp->requested_metrics = (od_str_array){0, NULL};
    return OD_HANDLER_REPLY;
}
