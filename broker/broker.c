/*
 * The broker's shared state: storage, the metadata log and image, topics.
 *
 * Invariants
 *   1. The image is exactly the replay of __cluster_metadata-0 up to its
 *      log end: a change is appended and fsynced before it is applied, and a
 *      change whose append fails is not applied.
 *   2. Every present partition of every topic in the image has an open log in
 *      b->topics, and nothing else does (deleted topics keep theirs only
 *      until their last read pin is dropped).
 *   3. All of the above is read and written with b->lock held.
 */
#include "broker.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "checkpoint.h"
#include "dispatch.h"
#include "fetch_session.h"
#include "log_dir.h"
#include "metadata_record.h"
#include "records/record_batch.h"
#include "records/records.h"
#include "server.h"
#include "txn_service.h"

static const char metadata_topic[] = "__cluster_metadata";
/* The epoch a lone voter leads in; Kafka's first elected epoch is 1. */
enum { METADATA_LEADER_EPOCH = 1 };
/* metadata.version of Kafka 3.9 (3.9-IV0), the level a fresh cluster finalizes. */
enum { METADATA_VERSION_LATEST = 21, METADATA_VERSION_MIN = 1 };

int64_t od_wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void od_broker_lock(od_broker *b)
{
    pthread_mutex_lock(&b->lock);
}

void od_broker_unlock(od_broker *b)
{
    pthread_mutex_unlock(&b->lock);
}

void od_broker_settings_free(od_broker_settings *s)
{
    for (int32_t i = 0; i < s->advertised_count; i++) {
        free(s->advertised[i].listener);
        free(s->advertised[i].host);
    }
    for (int32_t i = 0; i < s->listener_count; i++) {
        free(s->listeners[i].listener);
        free(s->listeners[i].host);
    }
    free(s->advertised);
    free(s->listeners);
    free(s->rack);
    free(s->log_dir);
    free(s->metadata_log_dir);
    memset(s, 0, sizeof *s);
}

bool od_topic_name_valid(od_str name, const char **why)
{
    if (name.len <= 0) {
        *why = "Topic name is illegal, it can't be empty";
        return false;
    }
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.')) {
        *why = "Topic name cannot be \".\" or \"..\"";
        return false;
    }
    if (name.len > 249) {
        *why = "Topic name is illegal, it can't be longer than 249 characters";
        return false;
    }
    for (int32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            *why = "Topic name contains a character other than ASCII alphanumerics, '.', '_' and '-'";
            return false;
        }
    }
    return true;
}

od_broker_topic *od_broker_topic_by_name(od_broker *b, od_str name)
{
    for (int32_t i = 0; i < b->topic_count; i++)
        if (od_str_eq_cstr(name, b->topics[i].name))
            return &b->topics[i];
    return NULL;
}

od_broker_topic *od_broker_topic_by_id(od_broker *b, const od_uuid *id)
{
    for (int32_t i = 0; i < b->topic_count; i++)
        if (od_uuid_eq(id, &b->topics[i].id))
            return &b->topics[i];
    return NULL;
}

od_broker_partition *od_broker_partition_of(od_broker_topic *t, int32_t partition)
{
    if (t == NULL || partition < 0 || partition >= t->partition_count)
        return NULL;
    return t->partitions[partition];
}

/* ------------------------------------------------------------ metadata log */

/* Appends one batch of records to the metadata log, makes it durable, then
 * applies it (invariant 1). Lock held. Returns 0 or -1. */
static int commit_records(od_broker *b, const od_mrec *recs, int32_t count)
{
    return od_broker_commit_metadata(b, recs, count);
}

int od_broker_commit_metadata(od_broker *b, const struct od_mrec *recs, int32_t count)
{
    int64_t now = od_wall_clock_ms();
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    params.partition_leader_epoch = METADATA_LEADER_EPOCH;
    od_writer w;
    od_writer_init(&w, 512);
    if (od_mrec_batch_build(&params, recs, count, now, &w) != OD_BATCH_OK || w.err) {
        od_writer_free(&w);
        return -1;
    }
    od_append_info info;
    od_st_err err = od_log_append_leader(b->metadata_log, w.buf, w.len, METADATA_LEADER_EPOCH, now, &info);
    od_writer_free(&w);
    if (err != OD_ST_OK)
        return -1;
    /* A metadata change is rare and must survive a crash before anyone hears
     * of it: this fsync is the one blocking call a handler makes. */
    if (od_log_flush(b->metadata_log, now) != OD_ST_OK)
        return -1;
    od_log_set_high_watermark(b->metadata_log, od_log_end_offset(b->metadata_log));
    for (int32_t i = 0; i < count; i++) {
        od_mi_err mi = od_mimage_apply(b->image, &recs[i], info.first_offset + i, METADATA_LEADER_EPOCH);
        if (mi != OD_MI_OK) {
            fprintf(stderr, "odradek: metadata record %d not applied: %s\n", recs[i].type,
                    od_mi_err_name(mi));
            return -1;
        }
    }
    return 0;
}

static int apply_batch(od_broker *b, const uint8_t *batch, size_t len, int64_t from)
{
    od_batch_header h;
    if (od_batch_header_parse(batch, len, &h) != OD_BATCH_OK)
        return -1;
    if (od_batch_last_offset(&h) < from)
        return 0;
    if (h.attributes & OD_BATCH_ATTR_CONTROL) {
        od_mimage_advance(b->image, od_batch_last_offset(&h), h.partition_leader_epoch);
        return 0;
    }
    od_record_iter it;
    if (od_record_iter_init(&it, batch, len, 64u << 20) != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return -1;
    }
    od_record rec;
    int rc = 0;
    od_arena arena;
    od_arena_init(&arena);
    while (rc == 0 && od_record_iter_next(&it, &rec)) {
        od_mrec m;
        if (rec.value.len < 0 ||
            od_mrec_decode(rec.value.ptr, (size_t)rec.value.len, &arena, &m) != OD_WIRE_OK ||
            od_mimage_apply(b->image, &m, rec.offset, h.partition_leader_epoch) != OD_MI_OK)
            rc = -1;
    }
    if (it.err != OD_BATCH_OK)
        rc = -1;
    od_record_iter_finish(&it);
    od_arena_release(&arena);
    return rc;
}

/* Rebuilds the image from the metadata log. */
static int replay_metadata(od_broker *b, char *err, size_t err_len)
{
    int64_t offset = od_log_start_offset(b->metadata_log);
    int64_t end = od_log_end_offset(b->metadata_log);
    while (offset < end) {
        od_log_read_result res;
        if (od_log_read(b->metadata_log, offset, 4 << 20, -1, true, &res) != OD_ST_OK ||
            res.region.length <= 0) {
            snprintf(err, err_len, "cannot read the metadata log at offset %" PRId64, offset);
            return -1;
        }
        size_t len = (size_t)res.region.length;
        uint8_t *buf = malloc(len);
        ssize_t got = buf ? pread(res.region.fd, buf, len, (off_t)res.region.position) : -1;
        od_log_read_release(b->metadata_log, &res);
        if (got != (ssize_t)len) {
            free(buf);
            snprintf(err, err_len, "cannot read the metadata log: %s", strerror(errno));
            return -1;
        }
        od_record_set_iter sit;
        od_record_set_iter_init(&sit, buf, len);
        const uint8_t *entry;
        size_t entry_len;
        int8_t magic;
        int64_t next = offset;
        while (od_record_set_next(&sit, &entry, &entry_len, &magic)) {
            od_batch_header h;
            if (magic != 2 || od_batch_header_parse(entry, entry_len, &h) != OD_BATCH_OK ||
                apply_batch(b, entry, entry_len, offset) != 0) {
                free(buf);
                snprintf(err, err_len, "metadata log corrupt near offset %" PRId64, next);
                return -1;
            }
            next = od_batch_last_offset(&h) + 1;
        }
        free(buf);
        if (next <= offset) {
            snprintf(err, err_len, "metadata log stuck at offset %" PRId64, offset);
            return -1;
        }
        offset = next;
    }
    od_log_set_high_watermark(b->metadata_log, end);
    return 0;
}

static void random_bytes(void *out, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(out, 1, n, f) : 0;
    if (f)
        fclose(f);
    if (got != n) {
        /* Only uniqueness matters here (incarnation ids), not secrecy. */
        uint64_t x = (uint64_t)od_wall_clock_ms() ^ (uint64_t)getpid() << 32;
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            ((uint8_t *)out)[i] = (uint8_t)(x >> 33);
        }
    }
}

/* A fresh Kafka Uuid: random, never zero, never the reserved all-ones-but
 * "metadata topic" id (Kafka avoids ids whose base64 starts with '-'). */
static od_uuid new_uuid(void)
{
    od_uuid u;
    do {
        random_bytes(u.bytes, sizeof u.bytes);
        u.bytes[6] = (uint8_t)((u.bytes[6] & 0x0f) | 0x40);
        u.bytes[8] = (uint8_t)((u.bytes[8] & 0x3f) | 0x80);
        /* The first base64url char comes from the top 6 bits; 62 is '-'. */
    } while (od_uuid_is_zero(&u) || (u.bytes[0] >> 2) == 62);
    return u;
}

/* Writes metadata.version on an empty log and registers this broker (every
 * start, with a new epoch: the registration's offset, as Kafka's controller
 * assigns it). */
static int bootstrap_and_register(od_broker *b)
{
    if (od_mimage_feature_level(b->image, "metadata.version") == 0) {
        od_feature_level_record fl;
        od_feature_level_record_init(&fl);
        fl.name = OD_STR_LIT("metadata.version");
        fl.feature_level = METADATA_VERSION_LATEST;
        od_mrec rec = {OD_MREC_FEATURE_LEVEL, 0, &fl};
        if (commit_records(b, &rec, 1) != 0)
            return -1;
    }
    const od_broker_settings *s = &b->settings;
    od_register_broker_record reg;
    od_register_broker_record_init(&reg);
    reg.broker_id = s->node_id;
    reg.incarnation_id = new_uuid();
    reg.broker_epoch = od_log_end_offset(b->metadata_log);
    od_register_broker_record_broker_endpoint *eps =
        calloc((size_t)s->advertised_count + 1, sizeof *eps);
    if (eps == NULL)
        return -1;
    for (int32_t i = 0; i < s->advertised_count; i++) {
        od_register_broker_record_broker_endpoint_init(&eps[i]);
        eps[i].name = od_str_from_cstr(s->advertised[i].listener);
        eps[i].host = od_str_from_cstr(s->advertised[i].host);
        eps[i].port = (uint16_t)s->advertised[i].port;
        eps[i].security_protocol = 0;
    }
    reg.end_points = (od_register_broker_record_broker_endpoint_array){s->advertised_count, eps};
    od_register_broker_record_broker_feature mv;
    od_register_broker_record_broker_feature_init(&mv);
    mv.name = OD_STR_LIT("metadata.version");
    mv.min_supported_version = METADATA_VERSION_MIN;
    mv.max_supported_version = METADATA_VERSION_LATEST;
    reg.features = (od_register_broker_record_broker_feature_array){1, &mv};
    reg.rack = s->rack ? od_str_from_cstr(s->rack) : OD_STR_NULL;
    /* One node is its own quorum: nothing can fence it, so it registers
     * unfenced instead of waiting for a heartbeat round trip. */
    reg.fenced = false;
    od_mrec rec = {OD_MREC_REGISTER_BROKER, 2, &reg};
    int rc = commit_records(b, &rec, 1);
    free(eps);
    if (rc == 0)
        b->broker_epoch = reg.broker_epoch;
    return rc;
}

/* ------------------------------------------------------------------ topics */

static od_log_config log_config_for(od_broker *b, const od_mi_topic *t)
{
    od_log_config cfg;
    od_broker_topic_log_config(b, t->name, &cfg);
    return cfg;
}

static void free_partition(od_broker *b, od_broker_partition *p, bool delete_files)
{
    if (p == NULL)
        return;
    if (p->log != NULL) {
        if (delete_files)
            od_logdir_delete_log(b->logdir, p->log);
        else
            od_logdir_close_log(b->logdir, p->log);
    }
    free(p);
}

/* Opens the logs of an image topic and adds it to the table. Lock held. */
static int open_topic(od_broker *b, const od_mi_topic *t, char *err, size_t err_len)
{
    if (b->topic_count == b->topic_cap) {
        int32_t cap = b->topic_cap ? b->topic_cap * 2 : 16;
        od_broker_topic *grown = realloc(b->topics, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        b->topics = grown;
        b->topic_cap = cap;
    }
    od_broker_topic *bt = &b->topics[b->topic_count];
    memset(bt, 0, sizeof *bt);
    bt->name = strdup(t->name);
    bt->id = t->id;
    bt->partition_count = t->partition_count;
    bt->partitions = calloc((size_t)t->partition_count + 1, sizeof *bt->partitions);
    if (bt->name == NULL || bt->partitions == NULL)
        goto fail;
    od_log_config cfg = log_config_for(b, t);
    int64_t now = od_wall_clock_ms();
    for (int32_t i = 0; i < t->partition_count; i++) {
        if (!t->partitions[i].present)
            continue;
        od_broker_partition *p = calloc(1, sizeof *p);
        if (p == NULL)
            goto fail;
        bt->partitions[i] = p;
        od_log_recovery_stats stats;
        od_st_err st = od_logdir_open_log(b->logdir, t->name, i, &cfg, now, &p->log, &stats);
        if (st != OD_ST_OK) {
            p->log = NULL;
            snprintf(err, err_len, "cannot open the log of %s-%d: %s", t->name, i, od_st_err_name(st));
            goto fail;
        }
        od_partition_metadata_write(b->io, od_log_dir(p->log), &t->id);
        /* One replica: everything in the log is committed. */
        od_log_set_high_watermark(p->log, od_log_end_offset(p->log));
    }
    b->topic_count++;
    return 0;
fail:
    for (int32_t i = 0; bt->partitions != NULL && i < bt->partition_count; i++)
        free_partition(b, bt->partitions[i], false);
    free(bt->partitions);
    free(bt->name);
    return -1;
}

int16_t od_broker_create_topic(od_broker *b, od_str name, int32_t num_partitions,
                               int16_t replication_factor, const od_topic_config_kv *configs,
                               int32_t config_count, bool validate_only, od_uuid *topic_id,
                               const char **message)
{
    *message = NULL;
    if (!od_topic_name_valid(name, message))
        return OD_ERR_INVALID_TOPIC_EXCEPTION;
    if (od_broker_topic_by_name(b, name) != NULL) {
        *message = "Topic already exists.";
        return OD_ERR_TOPIC_ALREADY_EXISTS;
    }
    if (num_partitions == -1)
        num_partitions = b->settings.num_partitions;
    if (replication_factor == -1)
        replication_factor = b->settings.default_replication_factor;
    if (num_partitions <= 0) {
        *message = "Number of partitions was set to an invalid non-positive value.";
        return OD_ERR_INVALID_PARTITIONS;
    }
    if (replication_factor <= 0) {
        *message = "Replication factor must be larger than 0, or -1 to use the default value.";
        return OD_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (replication_factor > 1) {
        *message = "Unable to replicate the partition more times than there are brokers (1).";
        return OD_ERR_INVALID_REPLICATION_FACTOR;
    }
    if (num_partitions > 100000) {
        *message = "Number of partitions is too large.";
        return OD_ERR_INVALID_PARTITIONS;
    }
    if (config_count > 0) {
        int16_t err = od_broker_validate_topic_configs(b, NULL, configs, config_count, message);
        if (err != OD_ERR_NONE)
            return err;
    }
    if (validate_only)
        return OD_ERR_NONE;

    size_t n = 1 + (size_t)num_partitions + (size_t)config_count;
    od_mrec *recs = calloc(n, sizeof *recs);
    od_partition_record *parts = calloc((size_t)num_partitions, sizeof *parts);
    od_config_record *cfgs = calloc((size_t)config_count + 1, sizeof *cfgs);
    int16_t result = OD_ERR_NONE;
    if (recs == NULL || parts == NULL || cfgs == NULL) {
        result = OD_ERR_UNKNOWN_SERVER_ERROR;
        goto done;
    }
    od_topic_record tr;
    od_topic_record_init(&tr);
    tr.name = name;
    do
        tr.topic_id = new_uuid();
    while (od_broker_topic_by_id(b, &tr.topic_id) != NULL);
    recs[0] = (od_mrec){OD_MREC_TOPIC, 0, &tr};
    int32_t node = b->settings.node_id;
    for (int32_t i = 0; i < num_partitions; i++) {
        od_partition_record *p = &parts[i];
        od_partition_record_init(p);
        p->partition_id = i;
        p->topic_id = tr.topic_id;
        p->replicas = (od_int32_array){1, &node};
        p->isr = (od_int32_array){1, &node};
        p->leader = node;
        p->leader_epoch = 0;
        p->partition_epoch = 0;
        recs[1 + i] = (od_mrec){OD_MREC_PARTITION, 0, p};
    }
    int32_t nrec = 1 + num_partitions;
    for (int32_t i = 0; i < config_count; i++) {
        if (configs[i].value.len < 0)
            continue;
        od_config_record *c = &cfgs[i];
        od_config_record_init(c);
        c->resource_type = OD_CONFIG_RESOURCE_TOPIC;
        c->resource_name = name;
        c->name = configs[i].name;
        c->value = configs[i].value;
        recs[nrec++] = (od_mrec){OD_MREC_CONFIG, 0, c};
    }
    char err[256];
    const od_mi_topic *t = NULL;
    if (commit_records(b, recs, nrec) != 0 ||
        (t = od_mimage_topic_by_id(b->image, &tr.topic_id)) == NULL ||
        open_topic(b, t, err, sizeof err) != 0) {
        *message = "The broker could not record or open the topic.";
        result = OD_ERR_KAFKA_STORAGE_ERROR;
        goto done;
    }
    *topic_id = tr.topic_id;
done:
    free(recs);
    free(parts);
    free(cfgs);
    return result;
}

int16_t od_broker_delete_topic(od_broker *b, od_broker_topic *t)
{
    od_remove_topic_record rt;
    od_remove_topic_record_init(&rt);
    rt.topic_id = t->id;
    od_mrec rec = {OD_MREC_REMOVE_TOPIC, 0, &rt};
    if (commit_records(b, &rec, 1) != 0)
        return OD_ERR_KAFKA_STORAGE_ERROR;
    for (int32_t i = 0; i < t->partition_count; i++) {
        od_broker_partition *p = t->partitions[i];
        if (p == NULL)
            continue;
        if (p->pins > 0)
            p->deleted = true; /* the last unpin deletes it */
        else
            free_partition(b, p, true);
    }
    free(t->partitions);
    free(t->name);
    size_t index = (size_t)(t - b->topics);
    memmove(t, t + 1, (size_t)(b->topic_count - 1 - (int32_t)index) * sizeof *t);
    b->topic_count--;
    return OD_ERR_NONE;
}

/* Opens logs for the partitions the image has and the table does not. */
static int open_new_partitions(od_broker *b, od_broker_topic *bt, const od_mi_topic *t)
{
    od_broker_partition **grown = realloc(bt->partitions, ((size_t)t->partition_count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    bt->partitions = grown;
    for (int32_t i = bt->partition_count; i < t->partition_count; i++)
        grown[i] = NULL;
    bt->partition_count = t->partition_count;
    od_log_config cfg = log_config_for(b, t);
    for (int32_t i = 0; i < t->partition_count; i++) {
        if (grown[i] != NULL || !t->partitions[i].present)
            continue;
        od_broker_partition *p = calloc(1, sizeof *p);
        if (p == NULL)
            return -1;
        od_log_recovery_stats stats;
        if (od_logdir_open_log(b->logdir, t->name, i, &cfg, od_wall_clock_ms(), &p->log, &stats) != OD_ST_OK) {
            free(p);
            return -1;
        }
        od_partition_metadata_write(b->io, od_log_dir(p->log), &t->id);
        od_log_set_high_watermark(p->log, od_log_end_offset(p->log));
        grown[i] = p;
    }
    return 0;
}

int16_t od_broker_create_partitions(od_broker *b, od_broker_topic *t, int32_t new_count,
                                    bool validate_only, const char **message)
{
    *message = NULL;
    if (new_count < t->partition_count) {
        *message = "Topic currently has more partitions than requested; partitions cannot be removed.";
        return OD_ERR_INVALID_PARTITIONS;
    }
    if (new_count == t->partition_count) {
        *message = "Topic already has the requested number of partitions.";
        return OD_ERR_INVALID_PARTITIONS;
    }
    if (new_count > 100000) {
        *message = "Number of partitions is too large.";
        return OD_ERR_INVALID_PARTITIONS;
    }
    if (validate_only)
        return OD_ERR_NONE;
    int32_t add = new_count - t->partition_count;
    od_mrec *recs = calloc((size_t)add, sizeof *recs);
    od_partition_record *parts = calloc((size_t)add, sizeof *parts);
    int16_t result = OD_ERR_NONE;
    int32_t node = b->settings.node_id;
    if (recs == NULL || parts == NULL) {
        result = OD_ERR_UNKNOWN_SERVER_ERROR;
        goto done;
    }
    for (int32_t i = 0; i < add; i++) {
        od_partition_record *p = &parts[i];
        od_partition_record_init(p);
        p->partition_id = t->partition_count + i;
        p->topic_id = t->id;
        p->replicas = (od_int32_array){1, &node};
        p->isr = (od_int32_array){1, &node};
        p->leader = node;
        p->leader_epoch = 0;
        p->partition_epoch = 0;
        recs[i] = (od_mrec){OD_MREC_PARTITION, 0, p};
    }
    const od_mi_topic *mt;
    if (commit_records(b, recs, add) != 0 || (mt = od_mimage_topic_by_id(b->image, &t->id)) == NULL ||
        open_new_partitions(b, t, mt) != 0) {
        *message = "The broker could not record or open the new partitions.";
        result = OD_ERR_KAFKA_STORAGE_ERROR;
    }
done:
    free(recs);
    free(parts);
    return result;
}

/* Kafka's controller hands producer ids out in blocks of this size. */
enum { PRODUCER_ID_BLOCK = 1000 };

int16_t od_broker_next_producer_id(od_broker *b, int64_t *producer_id)
{
    if (b->producer_id_next >= b->producer_id_end) {
        int64_t start = od_mimage_next_producer_id(b->image);
        od_producer_ids_record pr;
        od_producer_ids_record_init(&pr);
        pr.broker_id = b->settings.node_id;
        pr.broker_epoch = b->broker_epoch;
        pr.next_producer_id = start + PRODUCER_ID_BLOCK;
        od_mrec rec = {OD_MREC_PRODUCER_IDS, 0, &pr};
        if (commit_records(b, &rec, 1) != 0)
            return OD_ERR_KAFKA_STORAGE_ERROR;
        b->producer_id_next = start;
        b->producer_id_end = start + PRODUCER_ID_BLOCK;
    }
    *producer_id = b->producer_id_next++;
    return OD_ERR_NONE;
}

/* ------------------------------------------------------------ read pins */

typedef struct read_pin {
    od_ref ref;
    od_broker *broker;
    od_broker_partition *partition;
    od_log_read_result read;
} read_pin;

static void release_read_pin(od_ref *ref)
{
    read_pin *pin = (read_pin *)ref;
    od_broker *b = pin->broker;
    od_broker_lock(b);
    od_log_read_release(pin->partition->log, &pin->read);
    if (--pin->partition->pins == 0 && pin->partition->deleted)
        free_partition(b, pin->partition, true);
    od_broker_unlock(b);
    free(pin);
}

od_ref *od_broker_pin_read(od_broker *b, od_broker_partition *p, const od_log_read_result *read)
{
    read_pin *pin = calloc(1, sizeof *pin);
    if (pin == NULL) {
        od_log_read_result copy = *read;
        od_log_read_release(p->log, &copy);
        return NULL;
    }
    od_ref_init(&pin->ref, release_read_pin);
    pin->broker = b;
    pin->partition = p;
    pin->read = *read;
    p->pins++;
    return &pin->ref;
}

/* ---------------------------------------------------------- parked fetches */

void od_broker_park_fetch(od_broker *b, od_parked_fetch *pf)
{
    pf->next = b->parked.next;
    pf->prev = &b->parked;
    b->parked.next->prev = pf;
    b->parked.next = pf;
}

void od_broker_unpark_fetch(od_broker *b, od_parked_fetch *pf)
{
    (void)b;
    if (pf->next == NULL)
        return;
    pf->prev->next = pf->next;
    pf->next->prev = pf->prev;
    pf->next = pf->prev = NULL;
}

void od_broker_wake_fetches(od_broker *b)
{
    od_parked_fetch *pf = b->parked.next;
    while (pf != &b->parked) {
        od_parked_fetch *next = pf->next;
        pf->wake(pf);
        pf = next;
    }
}

/* ------------------------------------------------------------- lifecycle */

static bool is_formatted(od_fio *io, const char *dir, char *cluster_id, size_t cap)
{
    od_meta_properties mp;
    if (od_meta_properties_read(io, dir, &mp) != OD_ST_OK)
        return false;
    snprintf(cluster_id, cap, "%s", mp.cluster_id);
    return true;
}

typedef struct list_ctx {
    od_broker *b;
    int stale;
} list_ctx;

/* A partition directory whose topic the image does not know belongs to a
 * topic deleted while we were down: delete it as the controller would have. */
static void note_partition(void *vctx, const char *topic, int32_t partition)
{
    list_ctx *ctx = vctx;
    if (strcmp(topic, metadata_topic) == 0)
        return;
    if (od_mimage_topic_by_name(ctx->b->image, topic, strlen(topic)) == NULL)
        ctx->stale++;
    (void)partition;
}

od_broker *od_broker_open(od_broker_settings *settings, struct od_broker_config *config,
                          char *err, size_t err_len)
{
    od_broker *b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&b->lock, NULL);
    b->settings = *settings;
    memset(settings, 0, sizeof *settings);
    b->config = config;
    b->parked.next = b->parked.prev = &b->parked;
    b->io = od_fio_posix();
    const od_broker_settings *s = &b->settings;

    char cluster[64] = "", meta_cluster[64] = "";
    if (!is_formatted(b->io, s->log_dir, cluster, sizeof cluster) ||
        !is_formatted(b->io, s->metadata_log_dir, meta_cluster, sizeof meta_cluster)) {
        snprintf(err, err_len,
                 "no meta.properties found in %s (format it with: odradek storage format -t "
                 "<cluster id> -c <server.properties>)",
                 s->log_dir);
        goto fail;
    }
    if (strcmp(cluster, meta_cluster) != 0) {
        snprintf(err, err_len, "log dirs %s and %s belong to different clusters (%s, %s)",
                 s->log_dir, s->metadata_log_dir, cluster, meta_cluster);
        goto fail;
    }
    snprintf(b->settings.cluster_id, sizeof b->settings.cluster_id, "%s", cluster);

    od_st_err st = od_logdir_open(b->io, s->log_dir, 1024, &b->logdir);
    if (st != OD_ST_OK) {
        snprintf(err, err_len, "cannot open log dir %s: %s", s->log_dir, od_st_err_name(st));
        goto fail;
    }
    if (strcmp(s->metadata_log_dir, s->log_dir) == 0) {
        b->metadata_dir = b->logdir;
    } else if ((st = od_logdir_open(b->io, s->metadata_log_dir, 64, &b->metadata_dir)) != OD_ST_OK) {
        snprintf(err, err_len, "cannot open metadata log dir %s: %s", s->metadata_log_dir,
                 od_st_err_name(st));
        goto fail;
    }
    od_log_config mcfg;
    od_log_config_default(&mcfg);
    mcfg.retention_ms = -1;
    mcfg.segment_bytes = 8 << 20;
    od_log_recovery_stats stats;
    st = od_logdir_open_log(b->metadata_dir, metadata_topic, 0, &mcfg, od_wall_clock_ms(),
                            &b->metadata_log, &stats);
    if (st != OD_ST_OK) {
        snprintf(err, err_len, "cannot open the metadata log: %s", od_st_err_name(st));
        goto fail;
    }
    b->image = od_mimage_new();
    b->fetch_sessions = od_fetch_sessions_new(s->max_fetch_sessions);
    if (b->image == NULL || b->fetch_sessions == NULL || replay_metadata(b, err, err_len) != 0)
        goto fail;
    if (bootstrap_and_register(b) != 0) {
        snprintf(err, err_len, "cannot write to the metadata log");
        goto fail;
    }
    for (size_t i = 0; i < od_mimage_topic_count(b->image); i++)
        if (open_topic(b, od_mimage_topic_at(b->image, i), err, err_len) != 0)
            goto fail;
    list_ctx lc = {b, 0};
    od_logdir_list_partitions(b->logdir, note_partition, &lc);
    if (lc.stale > 0)
        fprintf(stderr, "odradek: %d partition directories belong to no known topic; left in place\n",
                lc.stale);
    if (od_txn_service_open(b) != 0) {
        snprintf(err, err_len, "cannot start the transaction coordinator");
        goto fail;
    }
    return b;
fail:
    od_broker_close(b);
    return NULL;
}

static volatile sig_atomic_t stop_flag;

void od_broker_request_stop(od_broker *b)
{
    stop_flag = 1;
    if (b != NULL && b->server != NULL)
        od_server_shutdown(b->server);
}

uint16_t od_broker_port(const od_broker *b)
{
    return b->server ? od_server_port(b->server, 0) : 0;
}

int od_broker_serve(od_broker *b, char *err, size_t err_len)
{
    const od_broker_settings *s = &b->settings;
    od_listener_config *lcs = calloc((size_t)s->listener_count + 1, sizeof *lcs);
    od_dispatch *dispatch = malloc(sizeof *dispatch);
    if (lcs == NULL || dispatch == NULL) {
        free(lcs);
        free(dispatch);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (int32_t i = 0; i < s->listener_count; i++) {
        lcs[i].name = s->listeners[i].listener;
        lcs[i].host = s->listeners[i].host;
        lcs[i].port = (uint16_t)s->listeners[i].port;
        lcs[i].security = OD_SECURITY_PLAINTEXT;
    }
    od_dispatch_init(dispatch, b);
    od_server_config sc = {
        .listeners = lcs,
        .listener_count = (size_t)s->listener_count,
        .network_threads = (unsigned)(s->network_threads > 0 ? s->network_threads : 0),
        .socket_request_max_bytes = s->socket_request_max_bytes,
        .connections_max_idle_ms = s->connections_max_idle_ms,
        .handler = od_dispatch_request,
        .handler_ctx = dispatch,
    };
    const char *why = NULL;
    od_server *server = od_server_create(&sc, &why);
    free(lcs);
    if (server == NULL) {
        snprintf(err, err_len, "cannot start the listeners: %s", why ? why : strerror(errno));
        free(dispatch);
        return -1;
    }
    b->server = server;
    for (int32_t i = 0; i < s->listener_count; i++)
        fprintf(stderr, "odradek: listening on %s://%s:%u\n", s->listeners[i].listener,
                s->listeners[i].host[0] ? s->listeners[i].host : "0.0.0.0",
                (unsigned)od_server_port(server, (size_t)i));
    fflush(stderr);
    /* A signal that arrived before the server existed still stops it. */
    if (stop_flag)
        od_server_shutdown(server);
    int rc = od_server_run(server);
    b->server = NULL;
    od_server_destroy(server);
    free(dispatch);
    if (rc != 0) {
        snprintf(err, err_len, "the server stopped: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int od_broker_close(od_broker *b)
{
    if (b == NULL)
        return 0;
    od_txn_service_close(b);
    int rc = 0;
    for (int32_t t = 0; t < b->topic_count; t++) {
        for (int32_t i = 0; i < b->topics[t].partition_count; i++)
            free(b->topics[t].partitions[i]);
        free(b->topics[t].partitions);
        free(b->topics[t].name);
    }
    /* The log dir closes every log it opened (partition logs included)
     * cleanly, checkpoints, and writes the clean-shutdown marker last. */
    if (b->metadata_dir != NULL && b->metadata_dir != b->logdir &&
        od_logdir_close(b->metadata_dir, b->broker_epoch) != OD_ST_OK)
        rc = -1;
    if (b->logdir != NULL && od_logdir_close(b->logdir, b->broker_epoch) != OD_ST_OK)
        rc = -1;
    free(b->topics);
    od_fetch_sessions_free(b->fetch_sessions);
    if (b->image)
        od_mimage_free(b->image);
    od_broker_settings_free(&b->settings);
    b->config = NULL; /* the caller owns what it passed in */
    pthread_mutex_destroy(&b->lock);
    free(b);
    return rc;
}
