/*
 * Framing of KRaft metadata records and control records.
 *
 * Invariants: see metadata_record.h (1-4). In addition:
 *   5. The type table holds only the specs of metadata/ (the remote-storage
 *      records are also "metadata" specs with colliding api keys, and are
 *      never found in __cluster_metadata).
 *
 * State machine: none. The type table is built once (pthread_once) and read
 * only afterwards, so any thread may call in.
 */
#include "metadata_record.h"

#include <pthread.h>
#include <string.h>

static const od_message_desc *mrec_types[OD_MREC_TYPE_LIMIT];
static pthread_once_t mrec_types_once = PTHREAD_ONCE_INIT;

static void mrec_types_build(void)
{
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        if (d->kind != OD_MESSAGE_METADATA || d->api_key < 0 || d->api_key >= OD_MREC_TYPE_LIMIT)
            continue;
        /* Remote-storage records share the kind and reuse keys 0-3 (invariant 5). */
        if (strncmp(d->name, "Remote", 6) == 0 && strncmp(d->name, "Remove", 6) != 0)
            continue;
        mrec_types[d->api_key] = d;
    }
}

const od_message_desc *od_mrec_desc(int16_t type)
{
    pthread_once(&mrec_types_once, mrec_types_build);
    if (type < 0 || type >= OD_MREC_TYPE_LIMIT)
        return NULL;
    return mrec_types[type];
}

static const od_message_desc *mrec_checked_desc(const od_mrec *rec)
{
    const od_message_desc *d = od_mrec_desc(rec->type);
    if (!d || rec->version < d->min_version || rec->version > d->max_version)
        return NULL;
    return d;
}

size_t od_mrec_size(const od_mrec *rec)
{
    const od_message_desc *d = mrec_checked_desc(rec);
    if (!d)
        return 0;
    return od_uvarint_size(OD_METADATA_FRAME_VERSION) + od_uvarint_size((uint32_t)rec->type) +
           od_uvarint_size((uint32_t)rec->version) + d->size(rec->msg, rec->version);
}

od_wire_err od_mrec_encode(const od_mrec *rec, od_writer *w)
{
    const od_message_desc *d = mrec_checked_desc(rec);
    if (!d)
        return OD_WIRE_UNSUPPORTED_VERSION;
    size_t start = w->len;
    od_write_uvarint(w, OD_METADATA_FRAME_VERSION);
    od_write_uvarint(w, (uint32_t)rec->type);
    od_write_uvarint(w, (uint32_t)rec->version);
    od_wire_err err = d->encode(rec->msg, w, rec->version);
    if (err == OD_WIRE_OK)
        err = w->err;
    if (err != OD_WIRE_OK && w->len >= start && !w->fixed)
        w->len = start; /* leave no half record behind for the caller to frame */
    return err;
}

/* Kafka stores these as shorts; anything above int16 is not a type or version. */
static int16_t read_short_uvarint(od_reader *r)
{
    uint32_t v = od_read_uvarint(r);
    if (v > INT16_MAX) {
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return 0;
    }
    return (int16_t)v;
}

od_wire_err od_mrec_decode(const uint8_t *value, size_t len, od_arena *arena, od_mrec *out)
{
    od_reader r;
    od_reader_init(&r, value, len, arena);
    uint32_t frame = od_read_uvarint(&r);
    int16_t type = read_short_uvarint(&r);
    int16_t version = read_short_uvarint(&r);
    if (r.err != OD_WIRE_OK)
        return r.err;
    if (frame != OD_METADATA_FRAME_VERSION)
        return OD_WIRE_MALFORMED;
    od_mrec probe = {type, version, NULL};
    const od_message_desc *d = mrec_checked_desc(&probe);
    if (!d)
        return OD_WIRE_UNSUPPORTED_VERSION;
    void *msg = od_arena_alloc(arena, d->struct_size);
    if (!msg)
        return OD_WIRE_NO_MEMORY;
    od_wire_err err = d->decode(msg, &r, version);
    if (err == OD_WIRE_OK)
        err = r.err;
    if (err != OD_WIRE_OK)
        return err;
    if (od_reader_remaining(&r) != 0)
        return OD_WIRE_MALFORMED;
    out->type = type;
    out->version = version;
    out->msg = msg;
    return OD_WIRE_OK;
}

/* ---------------------------------------------------------------- control records */

typedef struct kctl_codec {
    size_t struct_size;
    od_wire_err (*decode)(void *m, od_reader *r, int16_t version);
    od_wire_err (*encode)(const void *m, od_writer *w, int16_t version);
} kctl_codec;

static od_wire_err lcm_decode(void *m, od_reader *r, int16_t v) { return od_leader_change_message_decode(m, r, v); }
static od_wire_err lcm_encode(const void *m, od_writer *w, int16_t v) { return od_leader_change_message_encode(m, w, v); }
static od_wire_err shr_decode(void *m, od_reader *r, int16_t v) { return od_snapshot_header_record_decode(m, r, v); }
static od_wire_err shr_encode(const void *m, od_writer *w, int16_t v) { return od_snapshot_header_record_encode(m, w, v); }
static od_wire_err sfr_decode(void *m, od_reader *r, int16_t v) { return od_snapshot_footer_record_decode(m, r, v); }
static od_wire_err sfr_encode(const void *m, od_writer *w, int16_t v) { return od_snapshot_footer_record_encode(m, w, v); }
static od_wire_err kvr_decode(void *m, od_reader *r, int16_t v) { return od_k_raft_version_record_decode(m, r, v); }
static od_wire_err kvr_encode(const void *m, od_writer *w, int16_t v) { return od_k_raft_version_record_encode(m, w, v); }
static od_wire_err vr_decode(void *m, od_reader *r, int16_t v) { return od_voters_record_decode(m, r, v); }
static od_wire_err vr_encode(const void *m, od_writer *w, int16_t v) { return od_voters_record_encode(m, w, v); }

static const kctl_codec *kctl_codec_for(int16_t type)
{
    static const kctl_codec codecs[] = {
        [OD_KCTL_LEADER_CHANGE] = {sizeof(od_leader_change_message), lcm_decode, lcm_encode},
        [OD_KCTL_SNAPSHOT_HEADER] = {sizeof(od_snapshot_header_record), shr_decode, shr_encode},
        [OD_KCTL_SNAPSHOT_FOOTER] = {sizeof(od_snapshot_footer_record), sfr_decode, sfr_encode},
        [OD_KCTL_KRAFT_VERSION] = {sizeof(od_k_raft_version_record), kvr_decode, kvr_encode},
        [OD_KCTL_VOTERS] = {sizeof(od_voters_record), vr_decode, vr_encode},
    };
    if (type < OD_KCTL_LEADER_CHANGE || type > OD_KCTL_VOTERS)
        return NULL;
    return &codecs[type];
}

od_batch_err od_kctl_batch_build(const od_batch_params *params, const od_kctl *ctl,
                                 int64_t timestamp, od_writer *out)
{
    const kctl_codec *c = kctl_codec_for(ctl->type);
    if (!c || !ctl->msg)
        return OD_BATCH_INVALID_RECORD;
    uint8_t key[4];
    od_store_be16(key, 0);
    od_store_be16(key + 2, (uint16_t)ctl->type);
    od_writer value;
    od_writer_init(&value, 64);
    if (c->encode(ctl->msg, &value, 0) != OD_WIRE_OK || value.err != OD_WIRE_OK) {
        od_writer_free(&value);
        return OD_BATCH_INVALID_RECORD;
    }
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = params->base_offset;
    p.partition_leader_epoch = params->partition_leader_epoch;
    p.control = true;
    od_builder_record rec = {
        .timestamp = timestamp,
        .key = {key, 4},
        .value = {value.buf, (int32_t)value.len},
    };
    od_batch_err err = od_batch_build(&p, &rec, 1, out);
    od_writer_free(&value);
    return err;
}

od_wire_err od_kctl_decode(const od_record *rec, od_arena *arena, od_kctl *out)
{
    if (rec->key.len < 4)
        return OD_WIRE_MALFORMED;
    int16_t key_version = (int16_t)od_load_be16(rec->key.ptr);
    int16_t type = (int16_t)od_load_be16(rec->key.ptr + 2);
    if (key_version < 0)
        return OD_WIRE_MALFORMED;
    const kctl_codec *c = kctl_codec_for(type);
    out->type = type;
    out->msg = NULL;
    if (!c)
        return OD_WIRE_OK;
    if (rec->value.len < 0)
        return OD_WIRE_MALFORMED;
    void *msg = od_arena_alloc(arena, c->struct_size);
    if (!msg)
        return OD_WIRE_NO_MEMORY;
    od_reader r;
    od_reader_init(&r, rec->value.ptr, (size_t)rec->value.len, arena);
    od_wire_err err = c->decode(msg, &r, 0);
    if (err == OD_WIRE_OK)
        err = r.err;
    if (err != OD_WIRE_OK)
        return err;
    out->msg = msg;
    return OD_WIRE_OK;
}

od_batch_err od_mrec_batch_build(const od_batch_params *params, const od_mrec *recs,
                                 int32_t count, int64_t timestamp, od_writer *out)
{
    if (count <= 0)
        return OD_BATCH_INVALID_RECORD;
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = params->base_offset;
    p.partition_leader_epoch = params->partition_leader_epoch;
    od_batch_builder b;
    od_batch_builder_init(&b, &p);
    od_writer value;
    od_writer_init(&value, 256);
    od_batch_err err = OD_BATCH_OK;
    for (int32_t i = 0; i < count && err == OD_BATCH_OK; i++) {
        value.len = 0;
        if (od_mrec_encode(&recs[i], &value) != OD_WIRE_OK) {
            err = OD_BATCH_INVALID_RECORD;
            break;
        }
        od_builder_record br = {
            .timestamp = timestamp,
            .key = OD_BYTES_NULL,
            .value = {value.buf, (int32_t)value.len},
        };
        err = od_batch_builder_add(&b, &br);
    }
    if (err == OD_BATCH_OK)
        err = od_batch_builder_finish(&b, out);
    od_writer_free(&value);
    od_batch_builder_free(&b);
    return err;
}
