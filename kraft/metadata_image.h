/*
 * The in-memory metadata image: what the records of __cluster_metadata say
 * the cluster looks like after the last applied record.
 *
 * Invariants
 *   1. The image is a pure function of the records applied to it, in log
 *      order: no clock, no randomness, no I/O. Two images fed the same records
 *      are equal (od_mimage_equal), which is what makes restart and replay
 *      testable and lets every voter hold the same image.
 *   2. od_mimage_apply is all or nothing: a record that does not fit the
 *      image (unknown topic id, duplicate name, ...) returns an error and
 *      leaves the image exactly as it was, last offset included.
 *   3. Topic names and ids are unique; every topic is reachable both by name
 *      and by id, and by nothing else once removed.
 *   4. A topic's partitions are those whose PartitionRecord arrived, sorted
 *      by id; normally ids 0..n-1, so partitions[i] is partition i, but a
 *      record's partition id never sizes an allocation (principle 4): a
 *      record for partition 2^31-1 costs one entry, not 2^31.
 *   5. Partition epoch grows by one per PartitionChangeRecord; leader epoch
 *      grows by one exactly when the record changes the leader (a value other
 *      than -2; -1 means "no leader" and is a change). An epoch at INT32_MAX
 *      makes the change OD_MI_BAD_RECORD instead of wrapping.
 *   6. Removing a topic removes its topic configs with it, as Kafka's image does.
 *   7. A config value is never null in the image: a ConfigRecord with a null
 *      value deletes the key, and a resource with no keys left disappears.
 *   8. A feature at level 0 is absent (FeatureLevelRecord level 0 removes it).
 *   9. next_producer_id only grows.
 *  10. last_offset/last_epoch are those of the last record applied (control
 *      records included, via od_mimage_advance).
 *
 * Ownership and threads: an image is owned by one thread, the controller's
 * (the thread that drives the quorum); nothing here locks. Readers on other
 * threads get their own copy (od_mimage_clone) published by the owner after a
 * batch is committed; the copy is immutable by convention. A copy-on-write
 * image with shared unchanged topics is the planned refinement once the
 * broker reads metadata on every request.
 *
 * Everything the image holds is malloc'd by this module and owned by it;
 * strings are NUL-terminated copies.
 */
#ifndef ODRADEK_KRAFT_METADATA_IMAGE_H
#define ODRADEK_KRAFT_METADATA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metadata_record.h"
#include "wire.h"

/* Kafka's ConfigResource.Type ids as ConfigRecord carries them. */
enum {
    OD_CONFIG_RESOURCE_TOPIC = 2,
    OD_CONFIG_RESOURCE_BROKER = 4,
    OD_CONFIG_RESOURCE_BROKER_LOGGER = 8,
    OD_CONFIG_RESOURCE_CLIENT_METRICS = 16,
    OD_CONFIG_RESOURCE_GROUP = 32,
};

/* Leader values of PartitionRecord/PartitionChangeRecord. */
enum {
    OD_NO_LEADER = -1,
    OD_NO_LEADER_CHANGE = -2,
};

/* Reserved directory ids (Kafka 3.9's DirectoryId): a replica whose log
 * directory is not known yet, and one that predates directory tracking. */
#define OD_DIR_UNASSIGNED ((od_uuid){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}})
#define OD_DIR_MIGRATING ((od_uuid){{0}})

/* A list of broker ids; count -1 is null (the ELR fields may be null). */
typedef struct od_id_list {
    int32_t count;
    int32_t *ids;
} od_id_list;

typedef struct od_mi_partition {
    bool present;                /* always true; kept for callers of the first layout */
    int32_t partition_id;
    od_id_list replicas;
    od_id_list isr;
    od_id_list removing_replicas;
    od_id_list adding_replicas;
    od_id_list elr;              /* eligible leader replicas; null when not tracked */
    od_id_list last_known_elr;
    int32_t directory_count;     /* one per replica, or 0 when the records carry none */
    od_uuid *directories;
    int32_t leader;
    int8_t leader_recovery_state;
    int32_t leader_epoch;
    int32_t partition_epoch;
} od_mi_partition;

typedef struct od_mi_topic {
    char *name;
    od_uuid id;
    int32_t partition_count;     /* partitions whose PartitionRecord arrived */
    int32_t partition_cap;
    od_mi_partition *partitions; /* sorted by partition_id (invariant 4) */
} od_mi_topic;

typedef struct od_mi_config {
    char *name;
    char *value;                 /* never NULL (invariant 7) */
} od_mi_config;

typedef struct od_mi_config_resource {
    int8_t type;
    char *name;                  /* "" for the cluster-wide broker default */
    int32_t count;               /* sorted by name */
    od_mi_config *entries;
} od_mi_config_resource;

typedef struct od_mi_endpoint {
    char *listener;
    char *host;
    uint16_t port;
    int16_t security_protocol;
} od_mi_endpoint;

typedef struct od_mi_broker_feature {
    char *name;
    int16_t min_version;
    int16_t max_version;
} od_mi_broker_feature;

typedef struct od_mi_broker {
    int32_t id;
    int64_t epoch;
    od_uuid incarnation_id;
    int32_t endpoint_count;
    od_mi_endpoint *endpoints;
    int32_t feature_count;
    od_mi_broker_feature *features;
    char *rack;                  /* NULL when none */
    bool fenced;
    bool in_controlled_shutdown;
    bool is_migrating_zk_broker;
    int32_t log_dir_count;
    od_uuid *log_dirs;
} od_mi_broker;

typedef struct od_mi_feature {
    char *name;
    int16_t level;               /* > 0 (invariant 8) */
} od_mi_feature;

typedef struct od_mimage od_mimage;

/* Why a record could not be applied. */
typedef enum od_mi_err {
    OD_MI_OK = 0,
    OD_MI_NO_MEMORY,
    OD_MI_DUPLICATE_TOPIC,       /* TopicRecord for an existing name or id */
    OD_MI_UNKNOWN_TOPIC,         /* a record for a topic id the image lacks */
    OD_MI_BAD_PARTITION,         /* partition id negative or unknown for a change */
    OD_MI_BAD_RECORD,            /* a field the image cannot hold (null name, ...) */
    OD_MI_STALE,                 /* ProducerIdsRecord that does not advance */
} od_mi_err;

const char *od_mi_err_name(od_mi_err err);

/* An empty image (nothing applied; last offset -1). NULL when out of memory. */
od_mimage *od_mimage_new(void);
void od_mimage_free(od_mimage *img);

/* A deep copy, for publishing to readers. NULL when out of memory. */
od_mimage *od_mimage_clone(const od_mimage *img);

/* Exchanges the contents of two images (pointers to both stay valid): how
 * a metadata transaction built in a clone becomes the image at its end. */
void od_mimage_swap(od_mimage *a, od_mimage *b);

/* True when both hold the same metadata (last offset/epoch not compared). */
bool od_mimage_equal(const od_mimage *a, const od_mimage *b);

/* Applies one metadata record found at `offset` in a batch of leader `epoch`
 * (invariant 2). Records the image does not model (ACLs, quotas, SCRAM,
 * delegation tokens, NoOp, ZK migration, controller registrations) only
 * advance the last offset; so do the transaction markers, whose meaning
 * (apply at End, drop at Abort) belongs to the replayer in controller.c. */
od_mi_err od_mimage_apply(od_mimage *img, const od_mrec *rec, int64_t offset, int32_t epoch);

/* Advances the last offset/epoch past a record that is not metadata (a
 * control record). Never moves backwards. */
void od_mimage_advance(od_mimage *img, int64_t offset, int32_t epoch);

int64_t od_mimage_last_offset(const od_mimage *img);
int32_t od_mimage_last_epoch(const od_mimage *img);

/* Lookups return pointers into the image, valid until the next apply. */
size_t od_mimage_topic_count(const od_mimage *img);
/* Topics in no particular order; i < od_mimage_topic_count. */
const od_mi_topic *od_mimage_topic_at(const od_mimage *img, size_t i);
const od_mi_topic *od_mimage_topic_by_name(const od_mimage *img, const char *name, size_t len);
const od_mi_topic *od_mimage_topic_by_id(const od_mimage *img, const od_uuid *id);
/* NULL when the topic or the partition is unknown. */
const od_mi_partition *od_mimage_partition(const od_mimage *img, const od_uuid *topic_id,
                                           int32_t partition);
/* A topic's partition by id, or NULL. */
const od_mi_partition *od_mi_topic_partition(const od_mi_topic *t, int32_t partition);

size_t od_mimage_config_resource_count(const od_mimage *img);
const od_mi_config_resource *od_mimage_config_resource_at(const od_mimage *img, size_t i);
const od_mi_config_resource *od_mimage_configs(const od_mimage *img, int8_t type,
                                               const char *name);
/* The value of one key, or NULL. */
const char *od_mimage_config(const od_mimage *img, int8_t type, const char *resource,
                             const char *key);

/* Brokers sorted by id. */
size_t od_mimage_broker_count(const od_mimage *img);
const od_mi_broker *od_mimage_broker_at(const od_mimage *img, size_t i);
const od_mi_broker *od_mimage_broker(const od_mimage *img, int32_t id);

size_t od_mimage_feature_count(const od_mimage *img);
const od_mi_feature *od_mimage_feature_at(const od_mimage *img, size_t i);
/* A feature's level, 0 when absent. */
int16_t od_mimage_feature_level(const od_mimage *img, const char *name);

/* The next producer id to hand out (0 before any ProducerIdsRecord). */
int64_t od_mimage_next_producer_id(const od_mimage *img);

#endif
