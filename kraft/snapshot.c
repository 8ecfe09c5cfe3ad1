/*
 * Writing the image as a snapshot and reading one back.
 *
 * Invariants: see snapshot.h (1-4). Internal:
 *   5. Records are written in an order that applies to an empty image:
 *      metadata.version first (readers decide record versions by it), then
 *      the other features, brokers, topics with their partitions, configs,
 *      the producer-id high water mark.
 *   6. A partition is written at the lowest PartitionRecord version that
 *      holds all of its fields, so nothing is dropped (v2 for ELR, v1 for
 *      directories).
 *
 * State machine: none.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap.h"
#include "raft_log.h"
#include "records/batch_builder.h"
#include "records/records.h"

enum { RECORDS_PER_BATCH = 1000 };

void od_snapshot_file_name(od_snapshot_id id, char out[64])
{
    snprintf(out, 64, "%020" PRId64 "-%010" PRId32 ".checkpoint", id.end_offset, id.epoch);
}

/* Parses a snapshot file name; false for anything else. */
static bool parse_name(const char *name, od_snapshot_id *id)
{
    if (strlen(name) != 20 + 1 + 10 + strlen(".checkpoint") || name[20] != '-' ||
        strcmp(name + 31, ".checkpoint") != 0)
        return false;
    int64_t off = 0;
    int64_t ep = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || off > (INT64_MAX - 9) / 10)
            return false;
        off = off * 10 + (name[i] - '0');
    }
    for (int i = 21; i < 31; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        ep = ep * 10 + (name[i] - '0');
    }
    if (ep > INT32_MAX)
        return false;
    id->end_offset = off;
    id->epoch = (int32_t)ep;
    return true;
}

static int id_cmp(od_snapshot_id a, od_snapshot_id b)
{
    if (a.end_offset != b.end_offset)
        return a.end_offset < b.end_offset ? -1 : 1;
    return a.epoch < b.epoch ? -1 : a.epoch > b.epoch;
}

static int file_cmp(const void *a, const void *b)
{
    return id_cmp(((const od_snapshot_file *)a)->id, ((const od_snapshot_file *)b)->id);
}

typedef struct list_ctx {
    od_snapshot_file *files;
    size_t n, cap;
} list_ctx;

static int list_cb(void *ctx, const char *name)
{
    list_ctx *l = ctx;
    od_snapshot_id id;
    if (!parse_name(name, &id))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        od_snapshot_file *grown = realloc(l->files, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        l->files = grown;
        l->cap = cap;
    }
    l->files[l->n++] = (od_snapshot_file){.id = id};
    return 0;
}

od_kr_err od_snapshot_list(od_fio *io, const char *dir, od_snapshot_file **files, size_t *n)
{
    list_ctx l = {NULL, 0, 0};
    *files = NULL;
    *n = 0;
    int rc = io->m->readdir(io, dir, list_cb, &l);
    if (rc == -ENOENT)
        rc = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        char name[64], path[4096];
        od_snapshot_file_name(l.files[i].id, name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        od_fio_stat st;
        rc = io->m->stat(io, path, &st);
        l.files[i].bytes = st.size;
        l.files[i].mtime_ms = st.mtime_ms;
    }
    if (rc < 0) {
        free(l.files);
        return rc == -ENOMEM ? OD_KR_NO_MEMORY : OD_KR_IO;
    }
    if (l.n > 1)
        qsort(l.files, l.n, sizeof *l.files, file_cmp);
    *files = l.files;
    *n = l.n;
    return OD_KR_OK;
}

od_kr_err od_snapshot_delete(od_fio *io, const char *dir, od_snapshot_id id)
{
    char name[64], path[4096];
    od_snapshot_file_name(id, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = io->m->unlink(io, path);
    if (rc == 0)
        rc = od_fio_fsync_dir(io, dir);
    return rc < 0 && rc != -ENOENT ? OD_KR_IO : OD_KR_OK;
}

od_kr_err od_snapshot_latest(od_fio *io, const char *dir, od_snapshot_id *id, bool *found)
{
    od_snapshot_file *files;
    size_t n;
    od_kr_err err = od_snapshot_list(io, dir, &files, &n);
    *found = err == OD_KR_OK && n > 0;
    if (*found)
        *id = files[n - 1].id;
    free(files);
    return err;
}

/* ---------------------------------------------------------------- loading */

typedef struct load_ctx {
    od_mimage *img;
    int records;
    bool header, footer, bad;
} load_ctx;

static od_st_err load_entry(void *ctx, const od_raft_entry *e)
{
    load_ctx *l = ctx;
    if (l->footer) {
        l->bad = true; /* nothing may follow the footer */
        return OD_ST_CORRUPT;
    }
    if (e->control) {
        if (e->ctl.type == OD_KCTL_SNAPSHOT_HEADER && !l->header && l->records == 0)
            l->header = true;
        else if (e->ctl.type == OD_KCTL_SNAPSHOT_FOOTER && l->header)
            l->footer = true;
        else if (e->ctl.type != OD_KCTL_KRAFT_VERSION && e->ctl.type != OD_KCTL_VOTERS)
            return OD_ST_CORRUPT;
        return OD_ST_OK;
    }
    if (!l->header)
        return OD_ST_CORRUPT;
    l->records++;
    return od_mimage_apply(l->img, &e->rec, -1, -1) == OD_MI_OK ? OD_ST_OK : OD_ST_CORRUPT;
}

od_kr_err od_snapshot_load(od_fio *io, const char *dir, od_snapshot_id id, od_mimage *img)
{
    char name[64], path[4096];
    od_snapshot_file_name(id, name);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return OD_KR_INVALID;
    int fd = io->m->open(io, path, O_RDONLY, 0);
    if (fd < 0)
        return OD_KR_IO;
    load_ctx l = {img, 0, false, false, false};
    od_kr_err err = OD_KR_OK;
    int64_t pos = 0;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (;;) {
        uint8_t head[OD_LOG_OVERHEAD];
        int64_t got = od_fio_pread_full(io, fd, head, sizeof head, pos);
        if (got == 0)
            break;
        if (got != (int64_t)sizeof head) {
            err = got < 0 ? OD_KR_IO : OD_KR_CORRUPT;
            break;
        }
        size_t total = od_batch_total_size(head, sizeof head);
        if (total < OD_BATCH_HEADER_SIZE || total > OD_RAFT_MAX_BATCH_BYTES + OD_BATCH_HEADER_SIZE) {
            err = OD_KR_CORRUPT;
            break;
        }
        if (total > cap) {
            uint8_t *nb = realloc(buf, total);
            if (!nb) {
                err = OD_KR_NO_MEMORY;
                break;
            }
            buf = nb;
            cap = total;
        }
        got = od_fio_pread_full(io, fd, buf, total, pos);
        if (got != (int64_t)total) {
            err = got < 0 ? OD_KR_IO : OD_KR_CORRUPT;
            break;
        }
        od_arena arena;
        od_arena_init(&arena);
        od_st_err serr = od_raft_batch_visit(buf, total, 0, &arena, load_entry, &l);
        od_arena_release(&arena);
        if (serr != OD_ST_OK) {
            err = serr == OD_ST_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_CORRUPT;
            break;
        }
        pos += (int64_t)total;
    }
    free(buf);
    io->m->close(io, fd);
    if (err == OD_KR_OK && (!l.header || !l.footer))
        err = OD_KR_CORRUPT; /* invariant 3 */
    if (err == OD_KR_OK)
        od_mimage_advance(img, id.end_offset - 1, id.epoch);
    return err;
}

/* ---------------------------------------------------------------- writing */

typedef struct snap_writer {
    od_arena *arena;
    od_mrec *recs;
    int32_t count, cap;
    bool oom;
} snap_writer;

static void *snap_push(snap_writer *s, int16_t type, int16_t version, size_t size)
{
    if (!od_arena_grow(s->arena, &s->recs, &s->cap, s->count + 1, sizeof *s->recs)) {
        s->oom = true;
        return NULL;
    }
    void *msg = od_arena_calloc(s->arena, 1, size);
    if (!msg) {
        s->oom = true;
        return NULL;
    }
    s->recs[s->count++] = (od_mrec){type, version, msg};
    return msg;
}

static od_int32_array ids_of(const od_id_list *l)
{
    return (od_int32_array){l->count, l->ids};
}

static void push_feature(snap_writer *s, const od_mi_feature *f)
{
    od_feature_level_record *r = snap_push(s, OD_MREC_FEATURE_LEVEL, 0, sizeof *r);
    if (!r)
        return;
    od_feature_level_record_init(r);
    r->name = od_str_from_cstr(f->name);
    r->feature_level = f->level;
}

static void push_broker(snap_writer *s, const od_mi_broker *b)
{
    od_register_broker_record *r = snap_push(s, OD_MREC_REGISTER_BROKER, 3, sizeof *r);
    od_register_broker_record_broker_endpoint *eps =
        od_arena_calloc(s->arena, (size_t)b->endpoint_count + 1, sizeof *eps);
    od_register_broker_record_broker_feature *fs =
        od_arena_calloc(s->arena, (size_t)b->feature_count + 1, sizeof *fs);
    if (!r || !eps || !fs) {
        s->oom = true;
        return;
    }
    od_register_broker_record_init(r);
    r->broker_id = b->id;
    r->broker_epoch = b->epoch;
    r->incarnation_id = b->incarnation_id;
    r->rack = b->rack ? od_str_from_cstr(b->rack) : OD_STR_NULL;
    r->fenced = b->fenced;
    r->in_controlled_shutdown = b->in_controlled_shutdown;
    r->is_migrating_zk_broker = b->is_migrating_zk_broker;
    for (int32_t i = 0; i < b->endpoint_count; i++) {
        od_register_broker_record_broker_endpoint_init(&eps[i]);
        eps[i].name = od_str_from_cstr(b->endpoints[i].listener);
        eps[i].host = od_str_from_cstr(b->endpoints[i].host);
        eps[i].port = b->endpoints[i].port;
        eps[i].security_protocol = b->endpoints[i].security_protocol;
    }
    for (int32_t i = 0; i < b->feature_count; i++) {
        od_register_broker_record_broker_feature_init(&fs[i]);
        fs[i].name = od_str_from_cstr(b->features[i].name);
        fs[i].min_supported_version = b->features[i].min_version;
        fs[i].max_supported_version = b->features[i].max_version;
    }
    r->end_points = (od_register_broker_record_broker_endpoint_array){b->endpoint_count, eps};
    r->features = (od_register_broker_record_broker_feature_array){b->feature_count, fs};
    r->log_dirs = (od_uuid_array){b->log_dir_count, b->log_dirs};
}

static void push_topic(snap_writer *s, const od_mi_topic *t)
{
    od_topic_record *tr = snap_push(s, OD_MREC_TOPIC, 0, sizeof *tr);
    if (!tr)
        return;
    od_topic_record_init(tr);
    tr->name = od_str_from_cstr(t->name);
    tr->topic_id = t->id;
    for (int32_t i = 0; i < t->partition_count; i++) {
        const od_mi_partition *p = &t->partitions[i];
        int16_t version = (p->elr.count >= 0 || p->last_known_elr.count >= 0) ? 2
                          : p->directory_count > 0                             ? 1
                                                                               : 0;
        od_partition_record *r = snap_push(s, OD_MREC_PARTITION, version, sizeof *r);
        if (!r)
            return;
        od_partition_record_init(r);
        r->partition_id = p->partition_id;
        r->topic_id = t->id;
        r->replicas = ids_of(&p->replicas);
        r->isr = ids_of(&p->isr);
        r->removing_replicas = ids_of(&p->removing_replicas);
        r->adding_replicas = ids_of(&p->adding_replicas);
        r->leader = p->leader;
        r->leader_recovery_state = p->leader_recovery_state;
        r->leader_epoch = p->leader_epoch;
        r->partition_epoch = p->partition_epoch;
        if (version >= 1)
            r->directories = (od_uuid_array){p->directory_count, p->directories};
        if (version >= 2) {
            r->eligible_leader_replicas = ids_of(&p->elr);
            r->last_known_elr = ids_of(&p->last_known_elr);
        }
    }
}

static void push_configs(snap_writer *s, const od_mi_config_resource *res)
{
    for (int32_t i = 0; i < res->count; i++) {
        od_config_record *r = snap_push(s, OD_MREC_CONFIG, 0, sizeof *r);
        if (!r)
            return;
        od_config_record_init(r);
        r->resource_type = res->type;
        r->resource_name = od_str_from_cstr(res->name);
        r->name = od_str_from_cstr(res->entries[i].name);
        r->value = od_str_from_cstr(res->entries[i].value);
    }
}

od_kr_err od_snapshot_write(od_fio *io, const char *dir, const od_mimage *img, od_snapshot_id id,
                            int64_t last_timestamp, int64_t now_ms)
{
    od_arena arena;
    od_arena_init(&arena);
    snap_writer s = {.arena = &arena};
    /* Invariant 5: metadata.version first. */
    for (size_t i = 0; i < od_mimage_feature_count(img); i++)
        if (strcmp(od_mimage_feature_at(img, i)->name, OD_METADATA_VERSION_FEATURE) == 0)
            push_feature(&s, od_mimage_feature_at(img, i));
    for (size_t i = 0; i < od_mimage_feature_count(img); i++)
        if (strcmp(od_mimage_feature_at(img, i)->name, OD_METADATA_VERSION_FEATURE) != 0)
            push_feature(&s, od_mimage_feature_at(img, i));
    for (size_t i = 0; i < od_mimage_broker_count(img); i++)
        push_broker(&s, od_mimage_broker_at(img, i));
    for (size_t i = 0; i < od_mimage_topic_count(img); i++)
        push_topic(&s, od_mimage_topic_at(img, i));
    for (size_t i = 0; i < od_mimage_config_resource_count(img); i++)
        push_configs(&s, od_mimage_config_resource_at(img, i));
    if (od_mimage_next_producer_id(img) > 0) {
        od_producer_ids_record *r = snap_push(&s, OD_MREC_PRODUCER_IDS, 0, sizeof *r);
        if (r) {
            od_producer_ids_record_init(r);
            r->broker_id = -1;
            r->broker_epoch = -1;
            r->next_producer_id = od_mimage_next_producer_id(img);
        }
    }
    if (s.oom) {
        od_arena_release(&arena);
        return OD_KR_NO_MEMORY;
    }

    od_writer w;
    od_writer_init(&w, 4096);
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = id.epoch;
    p.base_offset = 0;
    od_snapshot_header_record header;
    od_snapshot_header_record_init(&header);
    header.last_contained_log_timestamp = last_timestamp;
    od_kctl hc = {OD_KCTL_SNAPSHOT_HEADER, &header};
    od_batch_err berr = od_kctl_batch_build(&p, &hc, now_ms, &w);
    int64_t offset = 1;
    for (int32_t i = 0; i < s.count && berr == OD_BATCH_OK; i += RECORDS_PER_BATCH) {
        int32_t n = s.count - i < RECORDS_PER_BATCH ? s.count - i : RECORDS_PER_BATCH;
        p.base_offset = offset;
        berr = od_mrec_batch_build(&p, &s.recs[i], n, now_ms, &w);
        offset += n;
    }
    od_snapshot_footer_record footer;
    od_snapshot_footer_record_init(&footer);
    od_kctl fc = {OD_KCTL_SNAPSHOT_FOOTER, &footer};
    p.base_offset = offset;
    if (berr == OD_BATCH_OK)
        berr = od_kctl_batch_build(&p, &fc, now_ms, &w);
    od_arena_release(&arena);
    if (berr != OD_BATCH_OK) {
        od_writer_free(&w);
        return berr == OD_BATCH_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_INVALID;
    }
    /* Invariant 2: od_fio_write_atomic writes name.tmp, fsyncs, renames and
     * fsyncs the directory; the .tmp never parses as a snapshot name. */
    char name[64];
    od_snapshot_file_name(id, name);
    int rc = od_fio_write_atomic(io, dir, name, w.buf, w.len);
    od_writer_free(&w);
    return rc == 0 ? OD_KR_OK : OD_KR_IO;
}
