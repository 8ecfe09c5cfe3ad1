/*
 * The group service: the broker's owner of __consumer_offsets and of the
 * group coordinator (broker/groups/group_coordinator.h) that lives on it.
 * It gives the coordinator its clock, its timers and its log appends, loads
 * every partition's records at start, and creates the internal topic the
 * first time a client looks for a group coordinator, as Kafka does.
 *
 * Invariants
 *   1. A partition of __consumer_offsets is owned by the coordinator (loaded)
 *      iff the topic exists and the service is not stopped; all partitions
 *      are loaded together, at open or when the topic is created, and
 *      unloaded together when it is deleted (noticed at the next request).
 *   2. A record batch the coordinator asks to persist is appended to its
 *      partition's log, the high watermark moved and the log's flush policy
 *      applied (as produce with acks=all does on one replica) before the
 *      coordinator hears success; so a reply saying "done" follows the
 *      append.
 *   3. Loading replays a partition from its log start to its log end, in
 *      offset order, each batch once: the coordinator's state is the state
 *      the records describe (restart, clean or not, loses nothing appended).
 *   4. The coordinator's clock is the wall clock; its timers fire only in
 *      od_gc_tick, run by the group thread when the deadline passed.
 *
 * Service states (group lock)
 *
 *     NO_TOPIC --load at open with the topic, ensure_topic finding it, or the
 *                controller's creation committing (offsets_topic_created)--> ACTIVE
 *     ACTIVE --request_stop (shutdown)--> STOPPED (every partition unloaded:
 *                                          waiters answered NOT_COORDINATOR)
 *     ACTIVE --the topic deleted (DeleteTopics), seen at the next lock or
 *              ensure_topic--> NO_TOPIC (every partition unloaded, as above)
 *     NO_TOPIC --request_stop--> STOPPED
 *
 * Threads and locks
 *   - `od_group_service_lock` (the group lock) guards the coordinator and
 *     every field of the service. Handlers take it on their network thread
 *     for one call into the coordinator; the group thread takes it to tick.
 *   - Lock order: the group lock first, then the broker lock. Appends and
 *     loads take the broker lock inside the group lock; nothing takes the
 *     group lock while holding the broker lock.
 *   - The group thread sleeps in poll() on an eventfd until the coordinator's
 *     next deadline (it is not a network thread; it never touches a socket).
 *     wake_at and request_stop write the eventfd.
 *   - Deferred completions (JoinGroup, SyncGroup) run inside the coordinator,
 *     group lock held, on whichever thread made them complete: a handler's
 *     network thread or the group thread. They encode the reply into the
 *     request's arena and hand it to od_rctx_reply (any thread).
 *
 * Lifetime: od_broker_open -> od_group_service_create, _load ->
 * od_broker_serve -> od_group_service_start (thread) ... request_stop (from
 * the signal path) -> od_group_service_close (joins the thread, frees).
 */
#ifndef ODRADEK_BROKER_GROUP_SERVICE_H
#define ODRADEK_BROKER_GROUP_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer_group.h"
#include "group_coordinator.h"
#include "records/records.h"
#include "wire.h"

typedef struct od_broker od_broker;
typedef struct od_group_service od_group_service;

#define OD_GROUP_OFFSETS_TOPIC "__consumer_offsets"

/* Kafka's Utils.abs(String.hashCode) % n: abs(INT32_MIN) is 0, not an
 * overflow. */
int32_t od_group_partition_for(od_str group_id, int32_t partitions);

/* Creates the service from b->settings.groups; nothing is loaded yet.
 * Returns NULL with a message in err. */
od_group_service *od_group_service_create(od_broker *b, char *err, size_t err_len);

/* When __consumer_offsets exists, loads all its partitions (invariant 3),
 * with the loaders registered so far. Takes the group lock and then the
 * broker lock: call with neither. Returns 0, or -1 with a message in err. */
int od_group_service_load(od_group_service *gs, char *err, size_t err_len);

/* Starts the group thread. Returns 0, or -1 with errno. */
int od_group_service_start(od_group_service *gs);

/* Unloads every partition on the group thread soon after (so deferred
 * requests are answered and the server can drain). Async-signal-safe. */
void od_group_service_request_stop(od_group_service *gs);

/* Stops the thread and frees everything. Deferred requests must already be
 * answered (request_stop, then the server's drain). NULL is fine. */
void od_group_service_close(od_group_service *gs);

/* Asks the controller to create __consumer_offsets when it does not exist
 * (compacted, offsets.topic.* settings; loaded when the creation commits)
 * and loads a topic that exists but is not loaded yet. Takes the group
 * lock, then the broker lock: call with neither. Returns NONE once the
 * partitions are loaded, else COORDINATOR_NOT_AVAILABLE (retriable, as
 * Kafka answers while it creates the topic, and for good when the creation
 * is refused, e.g. a replication factor above the broker count). */
int16_t od_group_service_ensure_topic(od_group_service *gs);

/* True once the topic exists and its partitions are loaded. Group lock. */
bool od_group_service_ready(const od_group_service *gs);

/* Partition count of __consumer_offsets as the coordinator uses it. */
int32_t od_group_service_partitions(const od_group_service *gs);

/* Takes the group lock and returns the coordinator to call. */
od_gc *od_group_service_lock(od_group_service *gs);
void od_group_service_unlock(od_group_service *gs);

/* The KIP-848 consumer-group coordinator (consumer_group.h) that shares
 * __consumer_offsets, its loading, the group thread and the group lock.
 * Refreshes its view of the cluster's topics from the metadata image when
 * the image moved (takes the broker lock: group lock first, as above).
 * Group lock held; NULL never (it exists from create to close). */
od_cg *od_group_service_consumer_groups(od_group_service *gs);

/* ------------------------------------------------- for other coordinators */

/* Appends one v2 batch to __consumer_offsets-partition (invariant 2), as
 * the classic coordinator's env.append does. Group lock held. Returns a
 * Kafka error code (UNKNOWN_TOPIC_OR_PARTITION when the partition does not
 * exist, KAFKA_STORAGE_ERROR and the like from storage). KIP-848's
 * coordinator appends its records through this. */
int16_t od_group_service_append(od_group_service *gs, int32_t partition, const uint8_t *batch,
                                size_t len);

/* A loader for records whose key version the classic coordinator does not
 * read (KIP-848 consumer-group records, key versions 3..). Called in log
 * order during loading, group lock held; rec is valid only for the call.
 * Returns 0, or -1 to fail the load. */
typedef int od_group_record_loader(void *ctx, int32_t partition, int16_t key_version,
                                   const od_record *rec);

/* Registers a loader for key versions [min, max]; call between
 * od_group_service_create and od_group_service_load. Returns 0, or -1 when
 * the table is full. */
int od_group_service_add_loader(od_group_service *gs, int16_t min_key_version,
                                int16_t max_key_version, od_group_record_loader *fn, void *ctx);

#endif
