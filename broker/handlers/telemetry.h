/*
 * Client telemetry (KIP-714) as Odradek serves it: every client gets the
 * same empty subscription (no metrics requested), so a client asks again
 * every push interval and never pushes. Nothing is stored per client: the
 * subscription id is derived from the client instance id, so PushTelemetry
 * can check it without state.
 *
 * Kafka 3.9.2 advertises GetTelemetrySubscriptions and PushTelemetry only
 * when a metrics reporter implementing ClientTelemetry is configured, which
 * a default broker lacks. Odradek answers them always, as such a broker with
 * no client-metrics subscription would, so a Java client (3.7+) finds its
 * telemetry request answered rather than unsupported. The ApiVersions
 * comparison with Kafka (compat-tests/broker/java_tools.sh) allows exactly
 * these two keys.
 *
 * Not kept, since nothing is stored per client: Kafka's refusal of a second
 * push within the push interval (THROTTLING_QUOTA_EXCEEDED) and of a push
 * after a terminating one (INVALID_REQUEST). Both only matter to a client
 * that pushes metrics, and none is asked to.
 */
#ifndef ODRADEK_BROKER_TELEMETRY_H
#define ODRADEK_BROKER_TELEMETRY_H

#include "records/record_batch.h"
#include "wire.h"

enum {
    OD_TELEMETRY_PUSH_INTERVAL_MS = 300000,  /* Kafka's default interval */
    OD_TELEMETRY_MAX_BYTES = 1 << 20,        /* Kafka's telemetry.max.bytes default */
};

/* The subscription id handed to (and expected back from) one client
 * instance: a CRC-32C of the instance id and the push interval. */
static inline int32_t od_telemetry_subscription_id(const od_uuid *client_instance_id)
{
    uint8_t interval[4] = {
        (uint8_t)(OD_TELEMETRY_PUSH_INTERVAL_MS >> 24), (uint8_t)(OD_TELEMETRY_PUSH_INTERVAL_MS >> 16),
        (uint8_t)(OD_TELEMETRY_PUSH_INTERVAL_MS >> 8), (uint8_t)OD_TELEMETRY_PUSH_INTERVAL_MS};
    uint32_t crc = od_crc32c(0, client_instance_id->bytes, sizeof client_instance_id->bytes);
    return (int32_t)od_crc32c(crc, interval, sizeof interval);
}

#endif
