/*
 * The group service (group_service.h): __consumer_offsets, its loading, and
 * the coordinator's clock, timers and appends. Invariants and threads are in
 * the header.
 */
#include "group_service.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "broker.h"
#include "dispatch.h"
#include "handler_util.h"
#include "records/record_batch.h"

/* Kafka's offsets.load.buffer.size default: how much of the log one read
 * brings in while loading. */
enum { LOAD_READ_BYTES = 5 * 1024 * 1024 };
/* The group thread never sleeps longer than this, so a wall-clock jump
 * (the coordinator's deadlines are wall-clock) delays a timer by at most
 * this much. */
enum { MAX_SLEEP_MS = 1000 };
enum { MAX_LOADERS = 4 };

typedef struct loader {
    int16_t min_version, max_version;
    od_group_record_loader *fn;
    void *ctx;
} loader;

typedef enum service_state {
    SERVICE_NO_TOPIC,
    SERVICE_ACTIVE,
    SERVICE_STOPPED,
} service_state;

struct od_group_service {
    od_broker *broker;
    pthread_mutex_t lock;          /* the group lock: everything below */
    od_gc *gc;
    od_gc_config cfg;
    od_cg *cg;                     /* KIP-848 consumer groups, same partitions */
    od_cg_config cg_cfg;
    int64_t cg_wake_deadline;      /* the consumer-group coordinator's wake_at; -1 none */
    int64_t cg_topics_version;     /* metadata image offset its topics were taken at; -2 never */
    service_state state;
    od_uuid topic_id;              /* of the loaded __consumer_offsets (ACTIVE) */
    int64_t topic_checked_version; /* metadata image offset topic_id was last checked at */
    bool topic_creating;           /* a creation is with the controller */
    int64_t wake_deadline;         /* the coordinator's last wake_at; -1 none */
    loader loaders[MAX_LOADERS];
    int loader_count;
    bool exit;                     /* close: the thread returns */
    /* Set from a signal handler; read by the group thread. */
    atomic_bool stop_requested;
    int event_fd;                  /* wakes the group thread; immutable */
    pthread_t thread;
    bool thread_started;           /* only the creating thread reads it */
};

int32_t od_group_partition_for(od_str group_id, int32_t partitions)
{
    int32_t h = od_java_string_hash(group_id);
    /* Utils.abs: Integer.MIN_VALUE maps to 0. */
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    return partitions > 0 ? a % partitions : 0;
}

static void wake_thread(od_group_service *gs)
{
    uint64_t one = 1;
    /* A full counter (never in practice) still wakes the reader. */
    ssize_t rc = write(gs->event_fd, &one, sizeof one);
    (void)rc;
}

/* ------------------------------------------------------------ the env */

static int64_t env_now(void *ctx)
{
    (void)ctx;
    return od_wall_clock_ms();
}

/* Group lock held (the coordinator only calls back from inside a call). */
static void env_wake_at(void *ctx, int64_t deadline_ms)
{
    od_group_service *gs = ctx;
    bool sooner = gs->wake_deadline < 0 || deadline_ms < gs->wake_deadline;
    gs->wake_deadline = deadline_ms;
    if (sooner)
        wake_thread(gs);
}

/* The same for the consumer-group coordinator, which keeps its own
 * deadline so the two never overwrite each other's. */
static void env_cg_wake_at(void *ctx, int64_t deadline_ms)
{
    od_group_service *gs = ctx;
    bool sooner = gs->cg_wake_deadline < 0 || deadline_ms < gs->cg_wake_deadline;
    gs->cg_wake_deadline = deadline_ms;
    if (sooner)
        wake_thread(gs);
}

static int16_t env_append(void *ctx, int32_t partition, const uint8_t *batch, size_t len)
{
    return od_group_service_append(ctx, partition, batch, len);
}

int16_t od_group_service_append(od_group_service *gs, int32_t partition, const uint8_t *batch,
                                size_t len)
{
    /* Storage assigns offsets in place; the caller's batch stays untouched. */
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    memcpy(copy, batch, len);
    od_broker *b = gs->broker;
    int16_t err;
    od_broker_lock(b);
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
    od_broker_partition *p = od_broker_partition_of(t, partition);
    if (p == NULL || p->log == NULL) {
        err = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    } else {
        int64_t now = od_wall_clock_ms();
        od_append_info info;
        int32_t epoch = od_leader_epoch_of(b, &t->id, partition);
        od_st_err st = od_log_append_leader(p->log, copy, len, epoch, now, &info);
        err = od_kafka_error_from_storage(st);
        if (st == OD_ST_OK) {
            /* One replica: appended is committed (acks=all). */
            od_log_set_high_watermark(p->log, od_log_end_offset(p->log));
            od_log_maybe_flush(p->log, now);
            od_broker_wake_fetches(b);
        }
    }
    od_broker_unlock(b);
    free(copy);
    return err;
}

/* ------------------------------------------------------------ loading */

/* Feeds one batch's records of other key versions to the registered
 * loaders. Group lock held. */
static int load_other_records(od_group_service *gs, int32_t partition, const uint8_t *batch,
                              size_t len)
{
    if (gs->loader_count == 0)
        return 0;
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, 64u << 20) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return -1;
    }
    int rc = 0;
    if (it.header.attributes & OD_BATCH_ATTR_CONTROL) {
        od_record_iter_finish(&it);
        return 0;
    }
    od_record rec;
    while (rc == 0 && od_record_iter_next(&it, &rec)) {
        if (rec.key.len < 2)
            continue;
        int16_t version = (int16_t)od_load_be16(rec.key.ptr);
        for (int i = 0; rc == 0 && i < gs->loader_count; i++) {
            const loader *l = &gs->loaders[i];
            if (version >= l->min_version && version <= l->max_version)
                rc = l->fn(l->ctx, partition, version, &rec);
        }
    }
    if (rc == 0 && it.err != OD_BATCH_OK)
        rc = -1;
    od_record_iter_finish(&it);
    return rc;
}

/* Replays one partition's log into the coordinator (invariant 3). Group
 * lock held; takes the broker lock. */
static int load_partition(od_group_service *gs, int32_t partition, char *err, size_t err_len)
{
    od_broker *b = gs->broker;
    if (od_gc_load_begin(gs->gc, partition) != 0) {
        snprintf(err, err_len, "cannot start loading %s-%d", OD_GROUP_OFFSETS_TOPIC, partition);
        return -1;
    }
    int rc = 0;
    od_broker_lock(b);
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
    od_broker_partition *p = od_broker_partition_of(t, partition);
    od_log *log = p ? p->log : NULL;
    int64_t offset = log ? od_log_start_offset(log) : 0;
    int64_t end = log ? od_log_end_offset(log) : 0;
    uint8_t *buf = NULL;
    while (rc == 0 && offset < end) {
        od_log_read_result res;
        if (od_log_read(log, offset, LOAD_READ_BYTES, -1, true, &res) != OD_ST_OK ||
            res.region.length <= 0) {
            if (res.pin != NULL)
                od_log_read_release(log, &res);
            snprintf(err, err_len, "cannot read %s-%d at offset %" PRId64, OD_GROUP_OFFSETS_TOPIC,
                     partition, offset);
            rc = -1;
            break;
        }
        size_t len = (size_t)res.region.length;
        free(buf);
        buf = malloc(len);
        ssize_t got = buf ? pread(res.region.fd, buf, len, (off_t)res.region.position) : -1;
        od_log_read_release(log, &res);
        if (got != (ssize_t)len) {
            snprintf(err, err_len, "cannot read %s-%d: %s", OD_GROUP_OFFSETS_TOPIC, partition,
                     strerror(errno));
            rc = -1;
            break;
        }
        od_record_set_iter sit;
        od_record_set_iter_init(&sit, buf, len);
        const uint8_t *entry;
        size_t entry_len;
        int8_t magic;
        int64_t next = offset;
        while (rc == 0 && od_record_set_next(&sit, &entry, &entry_len, &magic)) {
            od_batch_header h;
            if (magic != 2 || od_batch_header_parse(entry, entry_len, &h) != OD_BATCH_OK) {
                snprintf(err, err_len, "%s-%d: unreadable batch near offset %" PRId64,
                         OD_GROUP_OFFSETS_TOPIC, partition, next);
                rc = -1;
                break;
            }
            /* The read starts at the batch holding `offset`: skip what was fed. */
            if (od_batch_last_offset(&h) >= offset &&
                (od_gc_load_batch(gs->gc, partition, entry, entry_len) != 0 ||
                 load_other_records(gs, partition, entry, entry_len) != 0)) {
                snprintf(err, err_len, "%s-%d: corrupt group records near offset %" PRId64,
                         OD_GROUP_OFFSETS_TOPIC, partition, h.base_offset);
                rc = -1;
                break;
            }
            next = od_batch_last_offset(&h) + 1;
        }
        if (rc == 0 && next <= offset) {
            snprintf(err, err_len, "%s-%d: loading stuck at offset %" PRId64,
                     OD_GROUP_OFFSETS_TOPIC, partition, offset);
            rc = -1;
        }
        offset = next;
    }
    od_broker_unlock(b);
    free(buf);
    if (rc == 0 && od_gc_load_finish(gs->gc, partition) != 0) {
        snprintf(err, err_len, "cannot finish loading %s-%d", OD_GROUP_OFFSETS_TOPIC, partition);
        rc = -1;
    }
    if (rc != 0)
        od_gc_unload(gs->gc, partition);
    return rc;
}

static void unload_all(od_group_service *gs)
{
    for (int32_t p = 0; p < gs->cfg.offsets_topic_num_partitions; p++) {
        od_gc_unload(gs->gc, p);
        od_cg_unload(gs->cg, p);
    }
}

/* A coordinator sized for `partitions`. Group lock held (or no other user). */
static int make_coordinator(od_group_service *gs, int32_t partitions)
{
    od_gc_config cfg = gs->cfg;
    cfg.offsets_topic_num_partitions = partitions;
    od_gc_env env = {gs, env_now, env_wake_at, env_append};
    od_gc *gc = od_gc_create(&cfg, &env);
    od_cg_config cg_cfg = gs->cg_cfg;
    cg_cfg.offsets_topic_num_partitions = partitions;
    od_gc_env cg_env = {gs, env_now, env_cg_wake_at, env_append};
    od_cg *cg = od_cg_create(&cg_cfg, &cg_env);
    if (gc == NULL || cg == NULL) {
        od_gc_destroy(gc);
        od_cg_destroy(cg);
        return -1;
    }
    od_gc_destroy(gs->gc);
    od_cg_destroy(gs->cg);
    /* Online upgrades and downgrades move a group between the two. */
    od_cg_set_classic(cg, gc);
    gs->gc = gc;
    gs->cfg = cfg;
    gs->cg = cg;
    gs->cg_cfg = cg_cfg;
    gs->cg_topics_version = -2;
    return 0;
}

/* Loads every partition of the existing topic (invariant 1). Group lock
 * held. A topic created elsewhere (CreateTopics) may have another partition
 * count than the setting: Kafka then uses the topic's, and so do we. */
static int load_all(od_group_service *gs, int32_t partitions, char *err, size_t err_len)
{
    if (partitions != gs->cfg.offsets_topic_num_partitions && make_coordinator(gs, partitions) != 0) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int32_t p = 0; p < partitions; p++) {
        if (load_partition(gs, p, err, err_len) != 0) {
            unload_all(gs);
            return -1;
        }
    }
    /* Consumer-group records came through load_consumer_group_record. */
    od_cg_activate_all(gs->cg);
    od_broker *b = gs->broker;
    od_broker_lock(b);
    od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
    if (t)
        gs->topic_id = t->id;
    gs->topic_checked_version = od_mimage_last_offset(b->image);
    od_broker_unlock(b);
    gs->state = SERVICE_ACTIVE;
    return 0;
}

/* DeleteTopics may name __consumer_offsets: Kafka 3.9 deletes it like any
 * topic, its coordinator resigns every partition (waiters get
 * NOT_COORDINATOR) and the next FindCoordinator creates it afresh, empty.
 * The same here: once the loaded topic is gone (or replaced), every
 * partition is unloaded and the service goes back to NO_TOPIC, so
 * ensure_topic creates it again. Checked when the metadata image moved.
 * Group lock held; takes the broker lock. */
static void resign_if_topic_gone(od_group_service *gs)
{
    if (gs->state != SERVICE_ACTIVE)
        return;
    od_broker *b = gs->broker;
    bool gone = false;
    od_broker_lock(b);
    int64_t version = od_mimage_last_offset(b->image);
    if (version != gs->topic_checked_version) {
        od_broker_topic *t = od_broker_topic_by_name(b, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
        gone = t == NULL || !od_uuid_eq(&t->id, &gs->topic_id);
        gs->topic_checked_version = version;
    }
    od_broker_unlock(b);
    if (gone) {
        unload_all(gs);
        gs->state = SERVICE_NO_TOPIC;
    }
}

/* The topic's partition count, or 0 when it does not exist. Takes the
 * broker lock. */
static int32_t topic_partitions(od_group_service *gs)
{
    od_broker_lock(gs->broker);
    od_broker_topic *t = od_broker_topic_by_name(gs->broker, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC));
    int32_t n = t ? t->partition_count : 0;
    od_broker_unlock(gs->broker);
    return n;
}

/* The loader of KIP-848 records (key versions 3-8). Group lock held. */
static int load_consumer_group_record(void *ctx, int32_t partition, int16_t key_version,
                                      const od_record *rec)
{
    od_group_service *gs = ctx;
    (void)key_version;
    return od_cg_load_record(gs->cg, partition, rec->key, rec->value) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ lifecycle */

od_group_service *od_group_service_create(od_broker *b, char *err, size_t err_len)
{
    const od_broker_group_settings *s = &b->settings.groups;
    od_group_service *gs = calloc(1, sizeof *gs);
    if (gs == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    gs->broker = b;
    gs->wake_deadline = -1;
    gs->state = SERVICE_NO_TOPIC;
    pthread_mutex_init(&gs->lock, NULL);
    gs->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    od_gc_config_default(&gs->cfg);
    if (s->offsets_topic_num_partitions > 0)
        gs->cfg.offsets_topic_num_partitions = s->offsets_topic_num_partitions;
    gs->cfg.group_min_session_timeout_ms = s->group_min_session_timeout_ms;
    gs->cfg.group_max_session_timeout_ms = s->group_max_session_timeout_ms;
    gs->cfg.group_initial_rebalance_delay_ms = s->group_initial_rebalance_delay_ms;
    gs->cfg.group_max_size = s->group_max_size;
    gs->cfg.offset_metadata_max_bytes = s->offset_metadata_max_bytes;
    gs->cfg.offsets_retention_ms = (int64_t)s->offsets_retention_minutes * 60 * 1000;
    gs->cfg.offsets_retention_check_interval_ms = s->offsets_retention_check_interval_ms;
    gs->cfg.offsets_topic_compression_codec = s->offsets_topic_compression_codec;
    gs->cg_wake_deadline = -1;
    gs->cg_topics_version = -2;
    od_cg_config_default(&gs->cg_cfg);
    if (s->consumer_session_timeout_ms > 0)
        gs->cg_cfg.session_timeout_ms = s->consumer_session_timeout_ms;
    if (s->consumer_heartbeat_interval_ms > 0)
        gs->cg_cfg.heartbeat_interval_ms = s->consumer_heartbeat_interval_ms;
    if (s->consumer_max_size > 0)
        gs->cg_cfg.max_size = s->consumer_max_size;
    if (s->consumer_assignor_count > 0) {
        gs->cg_cfg.assignor_count = s->consumer_assignor_count;
        for (int32_t i = 0; i < s->consumer_assignor_count; i++)
            gs->cg_cfg.assignors[i] = (od_cg_assignor)s->consumer_assignors[i];
    }
    gs->cg_cfg.migration_policy = (od_cg_migration_policy)s->consumer_migration_policy;
    gs->cg_cfg.classic_max_size = s->group_max_size;
    if (gs->event_fd < 0 || make_coordinator(gs, gs->cfg.offsets_topic_num_partitions) != 0) {
        snprintf(err, err_len, "cannot create the group coordinator: %s",
                 gs->event_fd < 0 ? strerror(errno) : "out of memory");
        od_group_service_close(gs);
        return NULL;
    }
    od_group_service_add_loader(gs, 3, 8, load_consumer_group_record, gs);
    return gs;
}

int od_group_service_load(od_group_service *gs, char *err, size_t err_len)
{
    int32_t partitions = topic_partitions(gs);
    if (partitions == 0)
        return 0;
    pthread_mutex_lock(&gs->lock);
    int rc = load_all(gs, partitions, err, err_len);
    pthread_mutex_unlock(&gs->lock);
    return rc;
}

int od_group_service_add_loader(od_group_service *gs, int16_t min_key_version,
                                int16_t max_key_version, od_group_record_loader *fn, void *ctx)
{
    if (gs->loader_count == MAX_LOADERS)
        return -1;
    gs->loaders[gs->loader_count++] = (loader){min_key_version, max_key_version, fn, ctx};
    return 0;
}

static void *group_thread(void *arg)
{
    od_group_service *gs = arg;
    pthread_mutex_lock(&gs->lock);
    for (;;) {
        if (atomic_load(&gs->stop_requested) && gs->state != SERVICE_STOPPED) {
            /* Kafka's shutdown resigns every partition: waiting joins and
             * syncs hear NOT_COORDINATOR, so the server can drain. */
            unload_all(gs);
            gs->state = SERVICE_STOPPED;
        }
        if (gs->exit)
            break;
        int64_t now = od_wall_clock_ms();
        if (gs->state == SERVICE_ACTIVE && gs->wake_deadline >= 0 && gs->wake_deadline <= now) {
            gs->wake_deadline = -1;
            od_gc_tick(gs->gc); /* asks for its next deadline through env_wake_at */
            now = od_wall_clock_ms();
        }
        if (gs->state == SERVICE_ACTIVE && gs->cg_wake_deadline >= 0 && gs->cg_wake_deadline <= now) {
            gs->cg_wake_deadline = -1;
            od_cg_tick(gs->cg); /* through env_cg_wake_at */
            now = od_wall_clock_ms();
        }
        int timeout = MAX_SLEEP_MS;
        if (gs->state == SERVICE_ACTIVE && gs->wake_deadline >= 0 && gs->wake_deadline - now < timeout)
            timeout = gs->wake_deadline <= now ? 0 : (int)(gs->wake_deadline - now);
        if (gs->state == SERVICE_ACTIVE && gs->cg_wake_deadline >= 0 && gs->cg_wake_deadline - now < timeout)
            timeout = gs->cg_wake_deadline <= now ? 0 : (int)(gs->cg_wake_deadline - now);
        pthread_mutex_unlock(&gs->lock);
        struct pollfd pfd = {.fd = gs->event_fd, .events = POLLIN};
        if (poll(&pfd, 1, timeout) > 0) {
            uint64_t drained;
            ssize_t rc = read(gs->event_fd, &drained, sizeof drained);
            (void)rc;
        }
        pthread_mutex_lock(&gs->lock);
    }
    pthread_mutex_unlock(&gs->lock);
    return NULL;
}

int od_group_service_start(od_group_service *gs)
{
    int rc = pthread_create(&gs->thread, NULL, group_thread, gs);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    gs->thread_started = true;
    return 0;
}

void od_group_service_request_stop(od_group_service *gs)
{
    if (gs == NULL)
        return;
    atomic_store(&gs->stop_requested, true);
    wake_thread(gs);
}

void od_group_service_close(od_group_service *gs)
{
    if (gs == NULL)
        return;
    if (gs->thread_started) {
        pthread_mutex_lock(&gs->lock);
        gs->exit = true;
        pthread_mutex_unlock(&gs->lock);
        wake_thread(gs);
        pthread_join(gs->thread, NULL);
    }
    od_gc_destroy(gs->gc);
    od_cg_destroy(gs->cg);
    if (gs->event_fd >= 0)
        close(gs->event_fd);
    pthread_mutex_destroy(&gs->lock);
    free(gs);
}

/* ------------------------------------------------------------ handlers' side */

od_gc *od_group_service_lock(od_group_service *gs)
{
    pthread_mutex_lock(&gs->lock);
    resign_if_topic_gone(gs);
    return gs->gc;
}

void od_group_service_unlock(od_group_service *gs)
{
    pthread_mutex_unlock(&gs->lock);
}

od_cg *od_group_service_consumer_groups(od_group_service *gs)
{
    od_broker *b = gs->broker;
    od_broker_lock(b);
    int64_t version = od_mimage_last_offset(b->image);
    if (version != gs->cg_topics_version) {
        size_t n = od_mimage_topic_count(b->image);
        od_cg_topic *topics = calloc(n ? n : 1, sizeof *topics);
        if (topics != NULL) {
            for (size_t i = 0; i < n; i++) {
                const od_mi_topic *t = od_mimage_topic_at(b->image, i);
                topics[i] = (od_cg_topic){od_str_from_cstr(t->name), t->id, t->partition_count};
            }
            /* On failure (memory) the old view stays and the next call retries. */
            if (od_cg_set_topics(gs->cg, topics, (int32_t)n) == 0)
                gs->cg_topics_version = version;
            free(topics);
        }
    }
    od_broker_unlock(b);
    return gs->cg;
}

bool od_group_service_ready(const od_group_service *gs)
{
    return gs->state == SERVICE_ACTIVE;
}

int32_t od_group_service_partitions(const od_group_service *gs)
{
    return gs->cfg.offsets_topic_num_partitions;
}

/* The controller created (or refused) __consumer_offsets: load it.
 * Controller thread, broker lock not held; the service outlives every
 * controller job (od_broker_close stops that thread first). */
static void offsets_topic_created(void *ctx, int16_t error_code, const char *message,
                                  const od_uuid *topic_id)
{
    (void)topic_id;
    od_group_service *gs = ctx;
    pthread_mutex_lock(&gs->lock);
    gs->topic_creating = false;
    int32_t partitions = topic_partitions(gs);
    char err[256];
    if (partitions == 0)
        fprintf(stderr, "odradek: cannot create %s: %s (%d)\n", OD_GROUP_OFFSETS_TOPIC,
                message ? message : "error", error_code);
    else if (gs->state == SERVICE_NO_TOPIC && load_all(gs, partitions, err, sizeof err) != 0)
        fprintf(stderr, "odradek: cannot load %s: %s\n", OD_GROUP_OFFSETS_TOPIC, err);
    pthread_mutex_unlock(&gs->lock);
}

int16_t od_group_service_ensure_topic(od_group_service *gs)
{
    pthread_mutex_lock(&gs->lock);
    resign_if_topic_gone(gs);
    int16_t result = OD_GC_COORDINATOR_NOT_AVAILABLE;
    if (gs->state == SERVICE_ACTIVE) {
        result = OD_ERR_NONE;
    } else if (gs->state == SERVICE_NO_TOPIC) {
        int32_t partitions = topic_partitions(gs);
        char err[256];
        if (partitions > 0) {
            /* Created by someone else (CreateTopics): Kafka uses it as it is. */
            if (load_all(gs, partitions, err, sizeof err) == 0)
                result = OD_ERR_NONE;
            else
                fprintf(stderr, "odradek: cannot load %s: %s\n", OD_GROUP_OFFSETS_TOPIC, err);
        } else if (!gs->topic_creating) {
            /* Kafka's GroupCoordinator.groupMetadataTopicConfigs; until the
             * controller has made it, the coordinator is not available
             * (retriable), as on Kafka. */
            const od_broker_group_settings *s = &gs->broker->settings.groups;
            char segment_bytes[24];
            snprintf(segment_bytes, sizeof segment_bytes, "%" PRId32, s->offsets_topic_segment_bytes);
            od_topic_config_kv configs[] = {
                {OD_STR_LIT("cleanup.policy"), OD_STR_LIT("compact")},
                {OD_STR_LIT("segment.bytes"), od_str_from_cstr(segment_bytes)},
                {OD_STR_LIT("compression.type"), OD_STR_LIT("producer")},
            };
            gs->topic_creating = true;
            if (od_broker_create_topic(gs->broker, OD_STR_LIT(OD_GROUP_OFFSETS_TOPIC),
                                       gs->cfg.offsets_topic_num_partitions,
                                       s->offsets_topic_replication_factor, configs,
                                       (int32_t)(sizeof configs / sizeof configs[0]),
                                       offsets_topic_created, gs) != 0)
                gs->topic_creating = false;
        }
    }
    pthread_mutex_unlock(&gs->lock);
    return result;
}
