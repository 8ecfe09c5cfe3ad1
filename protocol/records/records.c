#include "records.h"

#include <stdlib.h>
#include <string.h>

#include "compression.h"

void od_header_iter_init(od_header_iter *it, const od_record *rec)
{
    od_reader_init(&it->r, rec->headers.ptr, rec->headers.len > 0 ? (size_t)rec->headers.len : 0,
                   NULL);
    it->remaining = rec->header_count;
}

/* Reads a varint-length-prefixed field; -1 is null. Returns false and fails
 * the reader on a length below -1 or past the end. */
static bool read_varbytes(od_reader *r, od_bytes *out)
{
    int32_t n = od_read_varint(r);
    if (r->err)
        return false;
    if (n == -1) {
        *out = OD_BYTES_NULL;
        return true;
    }
    if (n < -1) {
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return false;
    }
    const uint8_t *p = od_read_raw(r, (size_t)n);
    if (!p)
        return false;
    *out = (od_bytes){p, n};
    return true;
}

static bool read_header(od_reader *r, od_record_header *out)
{
    od_bytes key, value;
    if (!read_varbytes(r, &key) || !read_varbytes(r, &value))
        return false;
    if (key.len < 0) { /* Kafka refuses null header keys */
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return false;
    }
    out->key = (od_str){(const char *)key.ptr, key.len};
    out->value = value;
    return true;
}

bool od_header_iter_next(od_header_iter *it, od_record_header *out)
{
    if (it->remaining <= 0 || it->r.err)
        return false;
    if (!read_header(&it->r, out))
        return false;
    it->remaining--;
    return true;
}

/* ---------------------------------------------------------------- iterator */

od_batch_err od_record_iter_init(od_record_iter *it, const uint8_t *batch, size_t len,
                                 size_t decompress_limit)
{
    memset(it, 0, sizeof *it);
    it->prev_offset_delta = -1;
    od_reader_init(&it->r, "", 0, NULL);
    od_batch_err err = od_batch_validate(batch, len, &it->header);
    if (err != OD_BATCH_OK)
        return it->err = err;
    const uint8_t *records = batch + OD_BATCH_HEADER_SIZE;
    size_t records_len = od_batch_total_size(batch, len) - OD_BATCH_HEADER_SIZE;
    od_compression codec = od_batch_compression(&it->header);
    if (codec == OD_COMPRESSION_NONE) {
        od_reader_init(&it->r, records, records_len, NULL);
        return OD_BATCH_OK;
    }
    size_t out_len;
    err = od_decompress(codec, records, records_len, decompress_limit, &it->owned, &out_len);
    if (err != OD_BATCH_OK)
        return it->err = err;
    od_reader_init(&it->r, it->owned, out_len, NULL);
    return OD_BATCH_OK;
}

static bool iter_fail(od_record_iter *it, od_batch_err err)
{
    if (it->err == OD_BATCH_OK)
        it->err = err;
    it->index = it->header.record_count; /* later calls return false at once */
    return false;
}

bool od_record_iter_next(od_record_iter *it, od_record *out)
{
    if (it->err != OD_BATCH_OK)
        return false;
    if (it->index >= it->header.record_count) {
        if (od_reader_remaining(&it->r) != 0)
            return iter_fail(it, OD_BATCH_INVALID_RECORD); /* trailing bytes */
        return false;
    }
    od_reader *outer = &it->r;
    if (od_reader_remaining(outer) == 0)
        return iter_fail(it, OD_BATCH_INVALID_RECORD); /* fewer records than counted */
    int32_t length = od_read_varint(outer);
    if (outer->err || length < 0)
        return iter_fail(it, OD_BATCH_CORRUPT);
    const uint8_t *body = od_read_raw(outer, (size_t)length);
    if (!body)
        return iter_fail(it, OD_BATCH_CORRUPT);

    /* A sub-reader over exactly `length` bytes: any field that overruns the
     * record fails here, and leftover bytes are caught below. */
    od_reader r;
    od_reader_init(&r, body, (size_t)length, NULL);
    out->attributes = od_read_i8(&r);
    out->timestamp_delta = od_read_varlong(&r);
    out->offset_delta = od_read_varint(&r);
    read_varbytes(&r, &out->key);
    read_varbytes(&r, &out->value);
    int32_t header_count = od_read_varint(&r);
    if (r.err || header_count < 0)
        return iter_fail(it, OD_BATCH_CORRUPT);
    const uint8_t *headers_at = r.pos;
    for (int32_t i = 0; i < header_count; i++) {
        od_record_header h;
        if (!read_header(&r, &h))
            return iter_fail(it, OD_BATCH_CORRUPT);
    }
    if (od_reader_remaining(&r) != 0)
        return iter_fail(it, OD_BATCH_CORRUPT);
    out->header_count = header_count;
    out->headers = (od_bytes){headers_at, (int32_t)(r.pos - headers_at)};

    const od_batch_header *h = &it->header;
    if (out->offset_delta <= it->prev_offset_delta || out->offset_delta > h->last_offset_delta)
        return iter_fail(it, OD_BATCH_BAD_OFFSET_DELTA);
    it->prev_offset_delta = out->offset_delta;
    /* Wrapping arithmetic in unsigned: a hostile delta must not be UB. */
    out->offset = (int64_t)((uint64_t)h->base_offset + (uint64_t)(int64_t)out->offset_delta);
    if (h->attributes & OD_BATCH_ATTR_LOG_APPEND_TIME)
        out->timestamp = h->max_timestamp;
    else
        out->timestamp = (int64_t)((uint64_t)h->base_timestamp + (uint64_t)out->timestamp_delta);
    it->index++;
    return true;
}

void od_record_iter_finish(od_record_iter *it)
{
    free(it->owned);
    it->owned = NULL;
    od_reader_init(&it->r, "", 0, NULL);
}

od_batch_err od_batch_validate_records(const uint8_t *batch, size_t len, size_t decompress_limit)
{
    od_record_iter it;
    od_batch_err err = od_record_iter_init(&it, batch, len, decompress_limit);
    if (err == OD_BATCH_OK) {
        od_record rec;
        while (od_record_iter_next(&it, &rec))
            ;
        err = it.err;
    }
    od_record_iter_finish(&it);
    return err;
}

/* ---------------------------------------------------------------- record sets */

void od_record_set_iter_init(od_record_set_iter *it, const uint8_t *buf, size_t len)
{
    it->buf = buf;
    it->len = len;
    it->pos = 0;
    it->err = OD_BATCH_OK;
}

/* Smallest length field (bytes after offset + length) per magic: the legacy
 * v0 and v1 message headers, and the v2 batch header. */
static const int32_t min_entry_length[3] = {14, 22, OD_BATCH_HEADER_SIZE - OD_LOG_OVERHEAD};

bool od_record_set_next(od_record_set_iter *it, const uint8_t **entry, size_t *entry_len,
                        int8_t *magic)
{
    if (it->err != OD_BATCH_OK || it->pos >= it->len)
        return false;
    const uint8_t *p = it->buf + it->pos;
    size_t left = it->len - it->pos;
    /* Magic sits right after offset, length and (v2) leader epoch or (v0/v1) crc. */
    if (left <= OD_BATCH_MAGIC_AT) {
        it->err = OD_BATCH_TRUNCATED;
        return false;
    }
    int8_t m = (int8_t)p[OD_BATCH_MAGIC_AT];
    if (m < 0 || m > 2) {
        it->err = OD_BATCH_BAD_MAGIC;
        return false;
    }
    int32_t length = (int32_t)od_load_be32(p + OD_BATCH_LENGTH_AT);
    if (length < min_entry_length[m]) {
        it->err = OD_BATCH_BAD_LENGTH;
        return false;
    }
    size_t total = OD_LOG_OVERHEAD + (size_t)length;
    if (total > left) {
        it->err = OD_BATCH_TRUNCATED;
        return false;
    }
    *entry = p;
    *entry_len = total;
    *magic = m;
    it->pos += total;
    return true;
}

/* ---------------------------------------------------------------- control */

od_batch_err od_control_record_parse(const od_record *rec, od_control_record *out)
{
    memset(out, 0, sizeof *out);
    if (rec->key.len < 4)
        return OD_BATCH_INVALID_RECORD;
    out->key_version = (int16_t)od_load_be16(rec->key.ptr);
    out->type = (int16_t)od_load_be16(rec->key.ptr + 2);
    if (out->key_version < 0)
        return OD_BATCH_INVALID_RECORD;
    if (out->type != OD_CONTROL_ABORT && out->type != OD_CONTROL_COMMIT)
        return OD_BATCH_OK;
    if (rec->value.len < 6)
        return OD_BATCH_INVALID_RECORD;
    out->value_version = (int16_t)od_load_be16(rec->value.ptr);
    out->coordinator_epoch = (int32_t)od_load_be32(rec->value.ptr + 2);
    if (out->value_version < 0)
        return OD_BATCH_INVALID_RECORD;
    return OD_BATCH_OK;
}
