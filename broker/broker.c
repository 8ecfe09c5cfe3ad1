/*
 * The broker's shared state: storage, the broker's copy of the metadata
 * image, topics and their logs. The metadata log itself belongs to kraft/'s
 * controller on the controller thread (controller_thread.h).
 *
 * Invariants
 *   1. b->image is the controller's committed image as of the last batch
 *      the controller thread applied: a change reaches it only through
 *      apply_committed (the controller's on_commit hook), after the batch is
 *      durable in __cluster_metadata-0; a change whose commit fails never
 *      does. No network thread writes metadata or waits for a disk sync.
 *   2. Every present partition of every topic in the image has an open log in
 *      b->topics, and nothing else does (deleted topics keep theirs only
 *      until their last read pin is dropped). apply_committed opens and drops
 *      logs in the same critical section that changes the image.
 *   3. All of the above is read and written with b->lock held; the
 *      controller thread takes the lock only after a commit, never across
 *      one.
 *   4. The producer-id block [producer_id_next, producer_id_end) comes from
 *      a committed ProducerIdsRecord of this broker's epoch.
 */
#include "broker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "config_bridge.h"
#include "checkpoint.h"
#include "controller.h"
#include "controller_thread.h"
#include "dispatch.h"
#include "fetch_session.h"
#include "group_service.h"
#include "log_dir.h"
#include "log_maintenance.h"
#include "metadata_record.h"
#include "records/record_batch.h"
#include "records/records.h"
#include "server.h"
#include "txn_service.h"

static const char metadata_topic[] = "__cluster_metadata";
/* The oldest metadata.version this broker can run (it reads every record
 * version Kafka 3.9 writes). */
enum { METADATA_VERSION_MIN = 1 };

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
    for (int32_t i = 0; i < s->controller_listener_count; i++) {
        free(s->controller_listeners[i].listener);
        free(s->controller_listeners[i].host);
    }
    free(s->advertised);
    free(s->listeners);
    free(s->controller_listeners);
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

/* ------------------------------------------------------------ controller */

int16_t od_broker_controller_error(int err)
{
    switch ((od_kr_err)err) {
    case OD_KR_OK: return OD_ERR_NONE;
    case OD_KR_NOT_LEADER: return OD_ERR_NOT_CONTROLLER;
    /* The batch may or may not be in the log (controller.h): the change is
     * unknown, as after a Kafka controller timeout. */
    case OD_KR_IO: return OD_ERR_REQUEST_TIMED_OUT;
    case OD_KR_FAILED: return OD_ERR_KAFKA_STORAGE_ERROR;
    case OD_KR_TOO_LARGE: return OD_ERR_POLICY_VIOLATION;
    default: return OD_ERR_UNKNOWN_SERVER_ERROR;
    }
}

void od_broker_post_controller_job(od_broker *b, od_ctl_job *job)
{
    od_ctl_post(b->ctl_thread, job);
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

/* Registers this broker with the controller (a new epoch every start: the
 * offset of its RegisterBrokerRecord, as Kafka assigns it), then unfences
 * it: with one node the broker has caught up by construction. */
static int register_broker(od_broker *b, char *err, size_t err_len)
{
    const od_broker_settings *s = &b->settings;
    od_arena arena;
    od_arena_init(&arena);
    od_broker_registration_request req;
    od_broker_registration_request_init(&req);
    req.broker_id = s->node_id;
    req.cluster_id = od_str_from_cstr(s->cluster_id);
    req.incarnation_id = new_uuid();
    req.rack = s->rack ? od_str_from_cstr(s->rack) : OD_STR_NULL;
    od_broker_registration_request_listener *ls =
        od_arena_calloc(&arena, (size_t)s->advertised_count + 1, sizeof *ls);
    od_broker_registration_request_feature *mv = od_arena_calloc(&arena, 1, sizeof *mv);
    int rc = -1;
    if (ls == NULL || mv == NULL) {
        snprintf(err, err_len, "out of memory");
        goto done;
    }
    for (int32_t i = 0; i < s->advertised_count; i++) {
        od_broker_registration_request_listener_init(&ls[i]);
        ls[i].name = od_str_from_cstr(s->advertised[i].listener);
        ls[i].host = od_str_from_cstr(s->advertised[i].host);
        ls[i].port = (uint16_t)s->advertised[i].port;
        ls[i].security_protocol = 0;
    }
    req.listeners = (od_broker_registration_request_listener_array){s->advertised_count, ls};
    od_broker_registration_request_feature_init(mv);
    mv->name = OD_STR_LIT(OD_METADATA_VERSION_FEATURE);
    mv->min_supported_version = METADATA_VERSION_MIN;
    mv->max_supported_version = OD_MV_LATEST;
    req.features = (od_broker_registration_request_feature_array){1, mv};
    int64_t now = od_wall_clock_ms();
    od_ctl_status status;
    int64_t epoch = -1;
    od_kr_err kerr = od_controller_register_broker(b->controller, &req, now, &arena, &status, &epoch);
    if (kerr == OD_KR_OK && status.error_code == OD_ERR_NONE)
        kerr = od_controller_unfence_broker(b->controller, s->node_id, epoch, now, &arena, &status);
    if (kerr != OD_KR_OK || status.error_code != OD_ERR_NONE) {
        snprintf(err, err_len, "cannot register with the controller: %s",
                 kerr != OD_KR_OK ? od_kr_err_name(kerr)
                 : status.error_message ? status.error_message : "refused");
        goto done;
    }
    b->broker_epoch = epoch;
    rc = 0;
done:
    od_arena_release(&arena);
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
        if (delete_files) {
            od_logdir_delete_log(b->logdir, p->log);
            b->last_log_delete_ms = od_wall_clock_ms(); /* purged after file.delete.delay.ms */
        }
        else
            od_logdir_close_log(b->logdir, p->log);
    }
    free(p);
}

/* Opens one partition's log for an image topic, after moving aside a
 * directory a deleted topic of the same name left (storage invariant 6).
 * Lock held. */
static od_st_err open_partition_log(od_broker *b, const od_mi_topic *t, int32_t partition,
                                    const od_log_config *cfg, od_log **out)
{
    bool moved;
    od_st_err st = od_logdir_set_aside_stray(b->logdir, t->name, partition, &t->id, &moved);
    if (moved)
        fprintf(stderr, "odradek: %s-%d belonged to an earlier topic of that name; moved aside as stray\n",
                t->name, partition);
    od_log_recovery_stats stats;
    if (st == OD_ST_OK)
        st = od_logdir_open_log(b->logdir, t->name, partition, cfg, od_wall_clock_ms(), out, &stats);
    if (st != OD_ST_OK)
        return st;
    od_partition_metadata_ensure(b->io, od_log_dir(*out), &t->id);
    /* One replica: everything in the log is committed. */
    od_log_set_high_watermark(*out, od_log_end_offset(*out));
    return OD_ST_OK;
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
    for (int32_t i = 0; i < t->partition_count; i++) {
        if (!t->partitions[i].present)
            continue;
        od_broker_partition *p = calloc(1, sizeof *p);
        if (p == NULL)
            goto fail;
        bt->partitions[i] = p;
        od_st_err st = open_partition_log(b, t, i, &cfg, &p->log);
        if (st != OD_ST_OK) {
            p->log = NULL;
            snprintf(err, err_len, "cannot open the log of %s-%d: %s", t->name, i, od_st_err_name(st));
            goto fail;
        }
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


/* Drops a removed topic from the table; its logs go once no read pins
 * them (invariant 2). Lock held. */
static void drop_topic(od_broker *b, od_broker_topic *t)
{
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
}

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
        if (open_partition_log(b, t, i, &cfg, &p->log) != OD_ST_OK) {
            free(p);
            return -1;
        }
        grown[i] = p;
    }
    return 0;
}


/* Pushes a topic's effective log settings to its open logs. Lock held. */
static void refresh_topic_config(od_broker *b, const char *name)
{
    od_broker_topic *t = od_broker_topic_by_name(b, od_str_from_cstr(name));
    if (t == NULL)
        return;
    od_log_config cfg;
    od_broker_topic_log_config(b, name, &cfg);
    for (int32_t p = 0; p < t->partition_count; p++)
        if (t->partitions[p] != NULL && t->partitions[p]->log != NULL)
            od_log_set_config(t->partitions[p]->log, &cfg);
}

static bool is_transaction_marker(int16_t type)
{
    return type == OD_MREC_BEGIN_TRANSACTION || type == OD_MREC_END_TRANSACTION ||
           type == OD_MREC_ABORT_TRANSACTION;
}

/* A new partition's log, opened before its batch is published. */
typedef struct staged_log {
    const od_partition_record *rec;
    od_log *log;                      /* NULL when it could not be opened */
} staged_log;

/* How many threads open new partition logs together: creating a log waits
 * on the file system's journal far more than it computes, so a large
 * CreateTopics overlaps those waits (od_logdir_open_logs). */
enum { STAGE_THREADS = 16 };

static void lock_hook(void *ctx)
{
    od_broker_lock(ctx);
}

static void unlock_hook(void *ctx)
{
    od_broker_unlock(ctx);
}

/* Opens the log of every new partition of a committed batch before the
 * batch is published, several at once (od_logdir_open_logs): the broker
 * lock is taken only to read the log directory's checkpoints and to adopt
 * the opened logs (the directory and its descriptor cache are shared with
 * appends and reads), never across the file creations, so a network thread
 * does not wait for a whole CreateTopics. The logs are reachable by nobody
 * until attach_staged. The names and configs come from the controller's
 * image, which this thread owns. NULL (and *n 0) when the batch adds no
 * partition or memory ran out (the publish step then opens them itself). */
static staged_log *stage_new_logs(od_broker *b, const od_mrec *recs, int32_t count,
                                  const od_mimage *img, int32_t *n)
{
    *n = 0;
    int32_t parts = 0;
    for (int32_t i = 0; i < count; i++)
        parts += recs[i].type == OD_MREC_PARTITION;
    if (parts == 0)
        return NULL;
    staged_log *st = calloc((size_t)parts, sizeof *st);
    od_logdir_new_log *items = calloc((size_t)parts, sizeof *items);
    od_log_config *cfgs = calloc((size_t)parts, sizeof *cfgs);
    int32_t *slot = calloc((size_t)parts, sizeof *slot); /* item -> staged entry */
    if (st == NULL || items == NULL || cfgs == NULL || slot == NULL) {
        free(st);
        free(items);
        free(cfgs);
        free(slot);
        return NULL;
    }
    size_t nitems = 0;
    for (int32_t i = 0; i < count; i++) {
        if (recs[i].type != OD_MREC_PARTITION)
            continue;
        staged_log *sl = &st[(*n)++];
        sl->rec = recs[i].msg;
        const od_mi_topic *mt = od_mimage_topic_by_id(img, &sl->rec->topic_id);
        if (mt == NULL)
            continue;
        od_broker_topic_log_config_in(b, img, mt->name, &cfgs[nitems]);
        items[nitems] = (od_logdir_new_log){
            .topic = mt->name,
            .partition = sl->rec->partition_id,
            .cfg = &cfgs[nitems],
            .topic_id = &mt->id,
        };
        slot[nitems++] = *n - 1;
    }
    od_logdir_lock_hooks hooks = {lock_hook, unlock_hook, b};
    od_logdir_open_logs(b->logdir, items, nitems, STAGE_THREADS, od_wall_clock_ms(), &hooks);
    /* Adopted logs are in the directory's list, which the maintenance
     * thread's checkpoints read under the lock. */
    od_broker_lock(b);
    for (size_t k = 0; k < nitems; k++) {
        od_log *log = items[k].log;
        if (log != NULL)
            od_log_set_high_watermark(log, od_log_end_offset(log)); /* one replica */
        st[slot[k]].log = log;
    }
    od_broker_unlock(b);
    free(items);
    free(cfgs);
    free(slot);
    return st;
}

/* Grows a topic's partition table to `count` slots (new ones empty). */
static int grow_partitions(od_broker_topic *bt, int32_t count)
{
    if (count <= bt->partition_count)
        return 0;
    od_broker_partition **grown = realloc(bt->partitions, ((size_t)count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    for (int32_t i = bt->partition_count; i < count; i++)
        grown[i] = NULL;
    bt->partitions = grown;
    bt->partition_count = count;
    return 0;
}

/* The topic's table entry, created empty when it has none. Lock held. */
static od_broker_topic *topic_entry(od_broker *b, const od_mi_topic *mt)
{
    od_broker_topic *bt = od_broker_topic_by_id(b, &mt->id);
    if (bt != NULL)
        return bt;
    if (b->topic_count == b->topic_cap) {
        int32_t cap = b->topic_cap ? b->topic_cap * 2 : 16;
        od_broker_topic *grown = realloc(b->topics, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        b->topics = grown;
        b->topic_cap = cap;
    }
    bt = &b->topics[b->topic_count];
    memset(bt, 0, sizeof *bt);
    bt->name = strdup(mt->name);
    bt->id = mt->id;
    bt->partitions = calloc(1, sizeof *bt->partitions);
    if (bt->name == NULL || bt->partitions == NULL) {
        free(bt->name);
        free(bt->partitions);
        return NULL;
    }
    b->topic_count++;
    return bt;
}

/* Puts the staged logs into the partition table (lock held, image
 * already applied). A log that finds no place is closed. */
static void attach_staged(od_broker *b, staged_log *st, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        if (st[i].log == NULL)
            continue;
        const od_mi_topic *mt = od_mimage_topic_by_id(b->image, &st[i].rec->topic_id);
        od_broker_topic *bt = mt ? topic_entry(b, mt) : NULL;
        int32_t pid = st[i].rec->partition_id;
        od_broker_partition *p = calloc(1, sizeof *p);
        if (bt == NULL || p == NULL || pid < 0 || grow_partitions(bt, mt->partition_count) != 0 ||
            pid >= bt->partition_count || bt->partitions[pid] != NULL) {
            free(p);
            od_logdir_close_log(b->logdir, st[i].log);
            continue;
        }
        p->log = st[i].log;
        bt->partitions[pid] = p;
    }
}

/* The controller's on_commit hook (controller thread): a batch is durable
 * and in the controller's image; bring the broker's image and partition
 * table to the same point under the lock (invariants 1 and 2). */
static void apply_committed(void *ctx, const od_mrec *recs, int32_t count, int64_t first_offset,
                            const od_mimage *img)
{
    od_broker *b = ctx;
    int64_t bytes = 0;
    for (int32_t i = 0; i < count; i++)
        bytes += (int64_t)od_mrec_size(&recs[i]);
    od_ctl_note_committed(b->ctl_thread, bytes);
    od_broker_lock(b);
    bool opening = b->image == NULL;
    od_broker_unlock(b);
    if (opening)
        return; /* the broker copies the whole image afterwards */
    int32_t staged_count = 0;
    staged_log *staged = stage_new_logs(b, recs, count, img, &staged_count);
    od_broker_lock(b);
    for (int32_t i = 0; i < count; i++) {
        if (recs[i].type != OD_MREC_REMOVE_TOPIC)
            continue;
        const od_remove_topic_record *rt = recs[i].msg;
        od_broker_topic *t = od_broker_topic_by_id(b, &rt->topic_id);
        if (t != NULL)
            drop_topic(b, t);
    }
    /* The same records, applied the same way, give the same image (the
     * image is a pure function of its records); a metadata transaction or a
     * record the copy refuses means the copy is replaced by the original. */
    bool copy = false;
    int32_t epoch = od_mimage_last_epoch(img);
    for (int32_t i = 0; i < count && !copy; i++)
        copy = is_transaction_marker(recs[i].type) ||
               od_mimage_apply(b->image, &recs[i], first_offset + i, epoch) != OD_MI_OK;
    if (copy) {
        od_mimage *fresh = od_mimage_clone(img);
        if (fresh != NULL) {
            od_mimage_free(b->image);
            b->image = fresh;
        } else {
            fprintf(stderr, "odradek: out of memory copying the metadata image\n");
        }
    }
    attach_staged(b, staged, staged_count);
    free(staged);
    /* What staging could not open (out of memory) is opened here. */
    char err[256];
    const od_uuid *last_topic = NULL;
    bool broker_configs = false;
    for (int32_t i = 0; i < count; i++) {
        const od_uuid *id = NULL;
        if (recs[i].type == OD_MREC_TOPIC)
            id = &((const od_topic_record *)recs[i].msg)->topic_id;
        else if (recs[i].type == OD_MREC_PARTITION)
            id = &((const od_partition_record *)recs[i].msg)->topic_id;
        else if (recs[i].type == OD_MREC_CONFIG) {
            const od_config_record *cr = recs[i].msg;
            if (cr->resource_type == OD_CONFIG_RESOURCE_TOPIC && cr->resource_name.len > 0) {
                char name[256];
                snprintf(name, sizeof name, "%.*s", (int)cr->resource_name.len, cr->resource_name.ptr);
                refresh_topic_config(b, name);
            }
            broker_configs |= cr->resource_type == OD_CONFIG_RESOURCE_BROKER;
        }
        if (id == NULL || (last_topic != NULL && od_uuid_eq(id, last_topic)))
            continue;
        last_topic = id;
        const od_mi_topic *mt = od_mimage_topic_by_id(b->image, id);
        if (mt == NULL)
            continue;
        od_broker_topic *bt = od_broker_topic_by_id(b, id);
        int rc = bt == NULL ? open_topic(b, mt, err, sizeof err) : open_new_partitions(b, bt, mt);
        if (rc != 0)
            fprintf(stderr, "odradek: cannot open the logs of topic %s: %s\n", mt->name,
                    bt == NULL ? err : "open failed");
    }
    /* A dynamic broker config changes the defaults every log inherits. */
    if (broker_configs && od_broker_refresh_dynamic_config(b) == 0)
        for (int32_t t = 0; t < b->topic_count; t++)
            refresh_topic_config(b, b->topics[t].name);
    od_broker_unlock(b);
}

/* ------------------------------------------------------- topic creation */

typedef struct create_job {
    od_ctl_job job;
    od_arena arena;                   /* the request and everything it points to */
    od_create_topics_request req;
    od_topic_created_fn *done;
    void *done_ctx;
} create_job;

static void run_create(od_ctl_job *job, od_broker *b, od_controller *c, int64_t now_ms)
{
    (void)b;
    create_job *cj = (create_job *)job;
    od_ctl_topic_result *res = NULL;
    od_kr_err err = od_controller_create_topics(c, &cj->req, now_ms, &cj->arena, &res);
    if (cj->done != NULL) {
        if (err != OD_KR_OK)
            cj->done(cj->done_ctx, od_broker_controller_error(err), NULL, NULL);
        else
            cj->done(cj->done_ctx, res[0].status.error_code, res[0].status.error_message,
                     &res[0].topic_id);
    }
    od_arena_release(&cj->arena);
    free(cj);
}

static od_str arena_copy(od_arena *a, od_str s)
{
    if (s.len < 0)
        return OD_STR_NULL;
    char *p = od_arena_alloc(a, (size_t)s.len + 1);
    if (p == NULL)
        return (od_str){NULL, -2};
    memcpy(p, s.ptr, (size_t)s.len);
    p[s.len] = '\0';
    return (od_str){p, s.len};
}

int od_broker_create_topic(od_broker *b, od_str name, int32_t num_partitions,
                           int16_t replication_factor, const od_topic_config_kv *configs,
                           int32_t config_count, od_topic_created_fn *done, void *done_ctx)
{
    create_job *cj = calloc(1, sizeof *cj);
    if (cj == NULL)
        return -1;
    od_arena_init(&cj->arena);
    cj->done = done;
    cj->done_ctx = done_ctx;
    od_create_topics_request_init(&cj->req);
    od_create_topics_request_creatable_topic *t = od_arena_calloc(&cj->arena, 1, sizeof *t);
    od_create_topics_request_creatable_topic_config *cfgs =
        od_arena_calloc(&cj->arena, (size_t)(config_count > 0 ? config_count : 1), sizeof *cfgs);
    bool ok = t != NULL && cfgs != NULL;
    if (ok) {
        od_create_topics_request_creatable_topic_init(t);
        t->name = arena_copy(&cj->arena, name);
        t->num_partitions = num_partitions;
        t->replication_factor = replication_factor;
        ok = t->name.len >= 0;
        for (int32_t i = 0; ok && i < config_count; i++) {
            od_create_topics_request_creatable_topic_config_init(&cfgs[i]);
            cfgs[i].name = arena_copy(&cj->arena, configs[i].name);
            cfgs[i].value = arena_copy(&cj->arena, configs[i].value);
            ok = cfgs[i].name.len >= 0 && cfgs[i].value.len >= -1;
        }
        t->configs = (od_create_topics_request_creatable_topic_config_array){config_count, cfgs};
        cj->req.topics = (od_create_topics_request_creatable_topic_array){1, t};
        cj->req.timeout_ms = 30000;
    }
    if (!ok) {
        od_arena_release(&cj->arena);
        free(cj);
        return -1;
    }
    cj->job.run = run_create;
    od_broker_post_controller_job(b, &cj->job);
    return 0;
}

/* ------------------------------------------------------------ producer ids */

bool od_broker_take_producer_id(od_broker *b, int64_t *producer_id)
{
    if (b->producer_id_next >= b->producer_id_end)
        return false;
    *producer_id = b->producer_id_next++;
    return true;
}

typedef struct refill_job {
    od_ctl_job job;
    od_broker *broker;
} refill_job;

static void run_refill(od_ctl_job *job, od_broker *b, od_controller *c, int64_t now_ms)
{
    od_arena arena;
    od_arena_init(&arena);
    int64_t id = -1;
    if (od_broker_refill_producer_ids(b, c, now_ms, &arena, &id) == OD_ERR_NONE) {
        /* The id taken to test the block goes back: nobody has seen it. */
        od_broker_lock(b);
        if (b->producer_id_next == id + 1)
            b->producer_id_next = id;
        od_broker_unlock(b);
    }
    od_broker_lock(b);
    b->producer_id_refill_pending = false;
    od_broker_unlock(b);
    od_arena_release(&arena);
    free(job);
}

enum { OD_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14 };

int16_t od_broker_next_producer_id(od_broker *b, int64_t *producer_id)
{
    if (od_broker_take_producer_id(b, producer_id))
        return OD_ERR_NONE;
    if (!b->producer_id_refill_pending && b->ctl_thread != NULL) {
        refill_job *rj = calloc(1, sizeof *rj);
        if (rj == NULL)
            return OD_ERR_UNKNOWN_SERVER_ERROR;
        rj->job.run = run_refill;
        rj->broker = b;
        b->producer_id_refill_pending = true;
        od_ctl_post(b->ctl_thread, &rj->job);
    }
    return OD_ERR_COORDINATOR_LOAD_IN_PROGRESS;
}

int16_t od_broker_refill_producer_ids(od_broker *b, od_controller *c, int64_t now_ms,
                                      od_arena *arena, int64_t *producer_id)
{
    od_broker_lock(b);
    /* Another request may have refilled the block while this one waited. */
    bool have = od_broker_take_producer_id(b, producer_id);
    od_broker_unlock(b);
    if (have)
        return OD_ERR_NONE;
    od_ctl_status status;
    int64_t first = 0;
    int32_t count = 0;
    od_kr_err err = od_controller_allocate_producer_ids(c, b->settings.node_id, b->broker_epoch,
                                                        now_ms, arena, &status, &first, &count);
    if (err != OD_KR_OK)
        return od_broker_controller_error(err);
    if (status.error_code != OD_ERR_NONE)
        return status.error_code;
    od_broker_lock(b);
    b->producer_id_next = first;
    b->producer_id_end = first + count;
    have = od_broker_take_producer_id(b, producer_id);
    od_broker_unlock(b);
    return have ? OD_ERR_NONE : OD_ERR_UNKNOWN_SERVER_ERROR;
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

void od_broker_finish_fetches(od_broker *b)
{
    od_broker_lock(b);
    b->fetches_final = true;
    od_broker_wake_fetches(b);
    od_broker_unlock(b);
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

typedef struct stray_list {
    od_broker *b;
    od_tp_offset *found; /* topic owned; offset unused */
    size_t n, cap;
    bool failed;
} stray_list;

/* A partition directory whose topic the image does not know belongs to a
 * topic deleted while we were down (or to another cluster's metadata). */
static void note_partition(void *vctx, const char *topic, int32_t partition)
{
    stray_list *l = vctx;
    if (strcmp(topic, metadata_topic) == 0 ||
        od_mimage_topic_by_name(l->b->image, topic, strlen(topic)) != NULL)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        od_tp_offset *grown = realloc(l->found, cap * sizeof *grown);
        if (grown == NULL) {
            l->failed = true;
            return;
        }
        l->found = grown;
        l->cap = cap;
    }
    l->found[l->n] = (od_tp_offset){.topic = strdup(topic), .partition = partition};
    if (l->found[l->n].topic == NULL)
        l->failed = true;
    else
        l->n++;
}

/* Moves the directories of topics the image does not know aside as
 * *-stray, as Kafka's log manager does at start: never opened, never
 * removed by the broker (an operator decides). Before the broker serves. */
static void set_aside_unknown_partitions(od_broker *b)
{
    stray_list l = {.b = b};
    od_logdir_list_partitions(b->logdir, note_partition, &l);
    int moved_count = 0;
    for (size_t i = 0; i < l.n; i++) {
        bool moved = false;
        const od_tp_offset *f = &l.found[i];
        od_st_err st = od_logdir_set_aside_stray(b->logdir, f->topic, f->partition, NULL, &moved);
        if (st != OD_ST_OK)
            fprintf(stderr, "odradek: cannot move %s-%d aside: %s\n", f->topic, f->partition,
                    od_st_err_name(st));
        moved_count += moved;
    }
    if (l.failed)
        fprintf(stderr, "odradek: out of memory listing partition directories; some unknown ones stay\n");
    if (moved_count > 0)
        fprintf(stderr, "odradek: %d partition directories of topics the metadata does not know were "
                "moved aside as *-stray\n", moved_count);
    od_ckpt_free_offsets(l.found, l.n);
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
    pthread_mutex_init(&b->stop_lock, NULL);
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
    b->fetch_sessions = od_fetch_sessions_new(s->max_fetch_sessions);
    if (b->fetch_sessions == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    /* Combined mode with one voter: this node's controller leads at once,
     * replays the log (after the latest snapshot) and bootstraps a fresh
     * one from bootstrap.checkpoint or metadata.version. */
    int32_t voter = s->node_id;
    od_controller_config cc = {
        .io = b->io,
        .metadata_log_dir = s->metadata_log_dir,
        .node_id = s->node_id,
        .voters = &voter,
        .voter_count = 1,
        .cluster_id = b->settings.cluster_id,
        .default_num_partitions = s->num_partitions,
        .default_replication_factor = s->default_replication_factor,
        .validate_config = od_broker_validate_config_value,
        .validate_resource = od_broker_validate_config_resource,
        .config_ctx = b,
        .on_commit = apply_committed,
        .commit_ctx = b,
        .log = {.segment_bytes = s->metadata_segment_bytes, .segment_ms = s->metadata_segment_ms},
        .retention_bytes = s->metadata_retention_bytes,
        .retention_ms = s->metadata_retention_ms,
    };
    od_kr_err kerr = od_controller_open(&cc, od_wall_clock_ms(), &b->controller);
    if (kerr != OD_KR_OK) {
        snprintf(err, err_len, "cannot open the metadata log in %s: %s", s->metadata_log_dir,
                 od_kr_err_name(kerr));
        goto fail;
    }
    if (register_broker(b, err, err_len) != 0)
        goto fail;
    b->image = od_mimage_clone(od_controller_image(b->controller));
    if (b->image == NULL) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    od_broker_refresh_dynamic_config(b);
    for (size_t i = 0; i < od_mimage_topic_count(b->image); i++)
        if (open_topic(b, od_mimage_topic_at(b->image, i), err, err_len) != 0)
            goto fail;
    /* Consumer groups come back from __consumer_offsets before any client
     * can ask for them. */
    b->groups = od_group_service_create(b, err, err_len);
    if (b->groups == NULL || od_group_service_load(b->groups, err, err_len) != 0)
        goto fail;
    set_aside_unknown_partitions(b);
    od_ctl_thread_config tc = {
        .snapshot_bytes = s->metadata_snapshot_bytes,
        .snapshot_interval_ms = s->metadata_snapshot_interval_ms,
    };
    b->ctl_thread = od_ctl_thread_start(b, b->controller, &tc);
    if (b->ctl_thread == NULL) {
        snprintf(err, err_len, "cannot start the controller thread");
        goto fail;
    }
    /* After the controller thread: the coordinator may create its topic. */
    if (od_txn_service_open(b) != 0) {
        snprintf(err, err_len, "cannot start the transaction coordinator");
        goto fail;
    }
    /* Directories of topics deleted before a crash go after the delay too. */
    b->last_log_delete_ms = od_wall_clock_ms();
    od_maint_config mc = {
        .retention_check_interval_ms = s->retention_check_interval_ms,
        .cleaner_enable = s->log_cleaner_enable,
        .cleaner_backoff_ms = s->log_cleaner_backoff_ms,
        .file_delete_delay_ms = s->file_delete_delay_ms,
        .producer_id_expiration_ms = s->producer_id_expiration_ms,
        .producer_id_expiration_check_interval_ms = s->producer_id_expiration_check_interval_ms,
    };
    b->maintenance = od_maint_start(b, &mc);
    if (b->maintenance == NULL) {
        snprintf(err, err_len, "cannot start the log maintenance thread");
        goto fail;
    }
    return b;
fail:
    od_broker_close(b);
    return NULL;
}

void od_broker_request_stop(od_broker *b)
{
    pthread_mutex_lock(&b->stop_lock);
    b->stop_requested = true;
    if (b->groups != NULL)
        od_group_service_request_stop(b->groups); /* answers waiting joins, so the drain ends */
    if (b->server != NULL)
        od_server_shutdown(b->server);
    pthread_mutex_unlock(&b->stop_lock);
}

uint16_t od_broker_port(od_broker *b)
{
    pthread_mutex_lock(&b->stop_lock);
    uint16_t port = b->server ? od_server_port(b->server, 0) : 0;
    pthread_mutex_unlock(&b->stop_lock);
    return port;
}

int od_broker_serve(od_broker *b, char *err, size_t err_len)
{
    const od_broker_settings *s = &b->settings;
    int32_t bound = s->listener_count + s->controller_listener_count;
    od_listener_config *lcs = calloc((size_t)bound + 1, sizeof *lcs);
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
    /* The controller listeners come last, so listener 0 stays the first
     * broker listener (od_broker_port). */
    for (int32_t i = 0; i < s->controller_listener_count; i++) {
        od_listener_config *lc = &lcs[s->listener_count + i];
        lc->name = s->controller_listeners[i].listener;
        lc->host = s->controller_listeners[i].host;
        lc->port = (uint16_t)s->controller_listeners[i].port;
        lc->security = OD_SECURITY_PLAINTEXT;
    }
    od_dispatch_init(dispatch, b);
    od_server_config sc = {
        .listeners = lcs,
        .listener_count = (size_t)bound,
        .network_threads = (unsigned)(s->network_threads > 0 ? s->network_threads : 0),
        .socket_request_max_bytes = s->socket_request_max_bytes,
        .connections_max_idle_ms = s->connections_max_idle_ms,
        .handler = od_dispatch_request,
        .handler_ctx = dispatch,
        .draining = od_dispatch_draining,
    };
    const char *why = NULL;
    od_server *server = od_server_create(&sc, &why);
    free(lcs);
    if (server == NULL) {
        snprintf(err, err_len, "cannot start the listeners: %s", why ? why : strerror(errno));
        free(dispatch);
        return -1;
    }
    if (od_group_service_start(b->groups) != 0) {
        snprintf(err, err_len, "cannot start the group thread: %s", strerror(errno));
        od_server_destroy(server);
        free(dispatch);
        return -1;
    }
    for (int32_t i = 0; i < bound; i++) {
        const od_broker_endpoint *e = i < s->listener_count
                                          ? &s->listeners[i]
                                          : &s->controller_listeners[i - s->listener_count];
        fprintf(stderr, "odradek: listening on %s://%s:%u\n", e->listener,
                e->host[0] ? e->host : "0.0.0.0", (unsigned)od_server_port(server, (size_t)i));
    }
    fflush(stderr);
    pthread_mutex_lock(&b->stop_lock);
    b->server = server;
    /* A stop requested before the server existed still stops it. */
    if (b->stop_requested)
        od_server_shutdown(server);
    pthread_mutex_unlock(&b->stop_lock);
    int rc = od_server_run(server);
    pthread_mutex_lock(&b->stop_lock);
    b->server = NULL;
    pthread_mutex_unlock(&b->stop_lock);
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
    int rc = 0;
    od_maint_stop(b->maintenance);
    b->maintenance = NULL;
    /* Every deferred request has been answered (the server waited for
     * them); jobs posted without a request (auto-creation, producer-id
     * refills) still run. Once ctl_thread is NULL nothing posts any more
     * (od_broker_next_producer_id checks it under the lock); the
     * transaction coordinator goes after the jobs that may call into it. */
    od_ctl_thread *ctl = b->ctl_thread;
    od_broker_lock(b);
    b->ctl_thread = NULL;
    od_broker_unlock(b);
    od_ctl_thread_stop(ctl);
    /* After the controller jobs (a topic creation calls back into it) and
     * before the logs close (its thread may still append). */
    od_group_service_close(b->groups);
    b->groups = NULL;
    od_txn_service_close(b);
    if (b->controller != NULL && od_controller_close(b->controller, true) != OD_KR_OK)
        rc = -1;
    b->controller = NULL;
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
    od_cfgb_free(b->dynamic_config);
    pthread_mutex_destroy(&b->lock);
    pthread_mutex_destroy(&b->stop_lock);
    free(b);
    return rc;
}
