#include "batch_builder.h"

#include <string.h>

#include "compression.h"

void od_batch_builder_init(od_batch_builder *b, const od_batch_params *params)
{
    memset(b, 0, sizeof *b);
    b->params = *params;
    od_writer_init(&b->records, 0);
}

void od_batch_builder_free(od_batch_builder *b)
{
    od_writer_free(&b->records);
}

static od_batch_err builder_fail(od_batch_builder *b, od_batch_err err)
{
    if (b->err == OD_BATCH_OK)
        b->err = err;
    return b->err;
}

static size_t varbytes_size(od_bytes v)
{
    return v.len < 0 ? od_varint_size(-1) : od_varint_size(v.len) + (size_t)v.len;
}

static void write_varbytes(od_writer *w, od_bytes v)
{
    if (v.len < 0) {
        od_write_varint(w, -1);
        return;
    }
    od_write_varint(w, v.len);
    od_write_raw(w, v.ptr, (size_t)v.len);
}

od_batch_err od_batch_builder_add(od_batch_builder *b, const od_builder_record *rec)
{
    if (b->err != OD_BATCH_OK)
        return b->err;
    if (b->count == INT32_MAX)
        return builder_fail(b, OD_BATCH_TOO_LARGE);
    if (rec->header_count < 0 || (rec->header_count > 0 && rec->headers == NULL))
        return builder_fail(b, OD_BATCH_INVALID_RECORD);
    if (b->count == 0) {
        b->base_timestamp = rec->timestamp;
        b->max_timestamp = rec->timestamp;
    } else if (rec->timestamp > b->max_timestamp) {
        b->max_timestamp = rec->timestamp;
    }
    int64_t ts_delta = (int64_t)((uint64_t)rec->timestamp - (uint64_t)b->base_timestamp);
    int32_t offset_delta = b->count;

    /* The record's length prefix comes first, so size the body up front. */
    uint64_t body = 1 + od_varlong_size(ts_delta) + od_varint_size(offset_delta) +
                    varbytes_size(rec->key) + varbytes_size(rec->value) +
                    od_varint_size(rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++) {
        const od_record_header *h = &rec->headers[i];
        if (h->key.len < 0)
            return builder_fail(b, OD_BATCH_INVALID_RECORD);
        body += od_varint_size(h->key.len) + (size_t)h->key.len + varbytes_size(h->value);
    }
    if (body > INT32_MAX || b->records.len + body + 5 > INT32_MAX)
        return builder_fail(b, OD_BATCH_TOO_LARGE);

    od_writer *w = &b->records;
    od_write_varint(w, (int32_t)body);
    od_write_i8(w, 0); /* record attributes: unused by Kafka */
    od_write_varlong(w, ts_delta);
    od_write_varint(w, offset_delta);
    write_varbytes(w, rec->key);
    write_varbytes(w, rec->value);
    od_write_varint(w, rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++) {
        const od_record_header *h = &rec->headers[i];
        od_write_varint(w, h->key.len);
        od_write_raw(w, h->key.ptr, (size_t)h->key.len);
        write_varbytes(w, h->value);
    }
    if (w->err != OD_WIRE_OK)
        return builder_fail(b, OD_BATCH_NO_MEMORY);
    b->count++;
    return OD_BATCH_OK;
}

/* Writes a whole batch around already-encoded records. */
static od_batch_err write_batch(const od_batch_params *p, int16_t extra_attributes, int32_t count,
                                int64_t base_timestamp, int64_t max_timestamp,
                                const uint8_t *records, size_t records_len, od_writer *out)
{
    if (count <= 0)
        return OD_BATCH_INVALID_RECORD;
    if ((unsigned)p->compression > OD_COMPRESSION_ZSTD)
        return OD_BATCH_BAD_COMPRESSION;
    if (out->err != OD_WIRE_OK)
        return OD_BATCH_NO_MEMORY;
    size_t at = out->len;
    od_writer_skip(out, OD_BATCH_HEADER_SIZE);
    od_batch_err err = OD_BATCH_OK;
    if (p->compression == OD_COMPRESSION_NONE)
        od_write_raw(out, records, records_len);
    else
        err = od_compress(p->compression, records, records_len, out);
    if (err == OD_BATCH_OK && out->err != OD_WIRE_OK)
        err = out->err == OD_WIRE_TOO_LARGE ? OD_BATCH_TOO_LARGE : OD_BATCH_NO_MEMORY;
    if (err == OD_BATCH_OK && out->len - at - OD_LOG_OVERHEAD > INT32_MAX)
        err = OD_BATCH_TOO_LARGE;
    if (err != OD_BATCH_OK) {
        /* Leave the writer as it was: a failed batch must not leave a
         * half-written header a caller might send. */
        if (out->len > at)
            out->len = at;
        return err;
    }

    int16_t attributes = (int16_t)(p->compression | extra_attributes);
    if (p->log_append_time) {
        attributes |= OD_BATCH_ATTR_LOG_APPEND_TIME;
        max_timestamp = p->log_append_time_ms;
    }
    if (p->transactional)
        attributes |= OD_BATCH_ATTR_TRANSACTIONAL;
    if (p->control)
        attributes |= OD_BATCH_ATTR_CONTROL;

    uint8_t *h = out->buf + at;
    size_t total = out->len - at;
    od_store_be64(h + OD_BATCH_BASE_OFFSET_AT, (uint64_t)p->base_offset);
    od_store_be32(h + OD_BATCH_LENGTH_AT, (uint32_t)(total - OD_LOG_OVERHEAD));
    od_store_be32(h + OD_BATCH_LEADER_EPOCH_AT, (uint32_t)p->partition_leader_epoch);
    h[OD_BATCH_MAGIC_AT] = 2;
    od_store_be16(h + OD_BATCH_ATTRIBUTES_AT, (uint16_t)attributes);
    od_store_be32(h + OD_BATCH_LAST_OFFSET_DELTA_AT, (uint32_t)(count - 1));
    od_store_be64(h + OD_BATCH_BASE_TIMESTAMP_AT, (uint64_t)base_timestamp);
    od_store_be64(h + OD_BATCH_MAX_TIMESTAMP_AT, (uint64_t)max_timestamp);
    od_store_be64(h + OD_BATCH_PRODUCER_ID_AT, (uint64_t)p->producer_id);
    od_store_be16(h + OD_BATCH_PRODUCER_EPOCH_AT, (uint16_t)p->producer_epoch);
    od_store_be32(h + OD_BATCH_BASE_SEQUENCE_AT, (uint32_t)p->base_sequence);
    od_store_be32(h + OD_BATCH_RECORD_COUNT_AT, (uint32_t)count);
    od_batch_restamp_crc(h, total);
    return OD_BATCH_OK;
}

od_batch_err od_batch_builder_finish(od_batch_builder *b, od_writer *out)
{
    if (b->err != OD_BATCH_OK)
        return b->err;
    return write_batch(&b->params, 0, b->count, b->base_timestamp, b->max_timestamp,
                       b->records.buf, b->records.len, out);
}

od_batch_err od_batch_build(const od_batch_params *params, const od_builder_record *records,
                            int32_t count, od_writer *out)
{
    od_batch_builder b;
    od_batch_builder_init(&b, params);
    od_batch_err err = OD_BATCH_OK;
    for (int32_t i = 0; i < count && err == OD_BATCH_OK; i++)
        err = od_batch_builder_add(&b, &records[i]);
    if (err == OD_BATCH_OK)
        err = od_batch_builder_finish(&b, out);
    od_batch_builder_free(&b);
    return err;
}

enum { CONTROL_KEY_VERSION = 0, END_TXN_MARKER_VERSION = 0 };

od_batch_err od_control_batch_build(const od_batch_params *params, od_control_type type,
                                    int32_t coordinator_epoch, int64_t timestamp,
                                    od_writer *out)
{
    uint8_t key[4], value[6];
    od_store_be16(key, CONTROL_KEY_VERSION);
    od_store_be16(key + 2, (uint16_t)type);
    od_store_be16(value, END_TXN_MARKER_VERSION);
    od_store_be32(value + 2, (uint32_t)coordinator_epoch);

    od_batch_params p = *params;
    p.base_sequence = -1;
    p.compression = OD_COMPRESSION_NONE;
    p.transactional = true;
    p.control = true;
    p.log_append_time = false;
    od_builder_record rec = {
        .timestamp = timestamp,
        .key = {key, sizeof key},
        .value = {value, sizeof value},
    };
    return od_batch_build(&p, &rec, 1, out);
}
