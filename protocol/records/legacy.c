#include "legacy.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "compression.h"

enum {
    LEGACY_CRC_AT = OD_LOG_OVERHEAD,          /* crc follows offset + size */
    LEGACY_MAGIC_AT = OD_LOG_OVERHEAD + 4,    /* the CRC covers from here */
};

static uint32_t legacy_crc(const uint8_t *p, size_t n)
{
    /* zlib's crc32 takes uInt lengths; a message never exceeds INT32_MAX. */
    return (uint32_t)crc32(0L, p, (uInt)n);
}

/* Reads an int32-length-prefixed field; -1 is null. */
static bool read_legacy_bytes(od_reader *r, od_bytes *out)
{
    int32_t n = od_read_i32(r);
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

od_batch_err od_legacy_message_parse(const uint8_t *buf, size_t len, od_legacy_message *out)
{
    if (len < OD_LOG_OVERHEAD)
        return OD_BATCH_TRUNCATED;
    int32_t size = (int32_t)od_load_be32(buf + OD_BATCH_LENGTH_AT);
    /* Magic sits at the same place for v0, v1 and v2; look at it before
     * the size so a v2 batch in the wrong place reads as BAD_MAGIC. */
    if (len > LEGACY_MAGIC_AT && buf[LEGACY_MAGIC_AT] > 1)
        return OD_BATCH_BAD_MAGIC;
    if (size < OD_LEGACY_V0_MIN_SIZE)
        return OD_BATCH_BAD_LENGTH;
    if (len - OD_LOG_OVERHEAD < (size_t)size)
        return OD_BATCH_TRUNCATED;
    int8_t magic = (int8_t)buf[LEGACY_MAGIC_AT];
    if (magic != 0 && magic != 1)
        return OD_BATCH_BAD_MAGIC;
    if (magic == 1 && size < OD_LEGACY_V1_MIN_SIZE)
        return OD_BATCH_BAD_LENGTH;

    od_reader r;
    od_reader_init(&r, buf, OD_LOG_OVERHEAD + (size_t)size, NULL);
    out->offset = od_read_i64(&r);
    out->message_size = od_read_i32(&r);
    out->crc = od_read_u32(&r);
    out->magic = od_read_i8(&r);
    out->attributes = od_read_i8(&r);
    out->timestamp = magic == 1 ? od_read_i64(&r) : -1;
    if (!read_legacy_bytes(&r, &out->key) || !read_legacy_bytes(&r, &out->value) ||
        od_reader_remaining(&r) != 0)
        return OD_BATCH_CORRUPT;
    if (legacy_crc(buf + LEGACY_MAGIC_AT, (size_t)size - 4) != out->crc)
        return OD_BATCH_CORRUPT;
    return OD_BATCH_OK;
}

static void write_legacy_bytes(od_writer *w, od_bytes b)
{
    od_write_i32(w, b.len < 0 ? -1 : b.len);
    if (b.len > 0)
        od_write_raw(w, b.ptr, (size_t)b.len);
}

od_batch_err od_legacy_message_write(od_writer *w, int8_t magic, int64_t offset,
                                     int8_t attributes, int64_t timestamp, od_bytes key,
                                     od_bytes value)
{
    if (magic != 0 && magic != 1)
        return OD_BATCH_BAD_MAGIC;
    size_t at = w->len;
    od_write_i64(w, offset);
    od_write_i32(w, 0); /* size, patched below */
    od_write_u32(w, 0); /* crc, patched below */
    od_write_i8(w, magic);
    od_write_i8(w, attributes);
    if (magic == 1)
        od_write_i64(w, timestamp);
    write_legacy_bytes(w, key);
    write_legacy_bytes(w, value);
    if (w->err != OD_WIRE_OK || w->len - at - OD_LOG_OVERHEAD > INT32_MAX)
        return OD_BATCH_NO_MEMORY;
    size_t size = w->len - at - OD_LOG_OVERHEAD;
    od_writer_patch_i32(w, at + OD_BATCH_LENGTH_AT, (int32_t)size);
    od_writer_patch_u32(w, at + LEGACY_CRC_AT, legacy_crc(w->buf + at + LEGACY_MAGIC_AT, size - 4));
    return OD_BATCH_OK;
}

/* ---------------------------------------------------------------- iterator */

void od_legacy_iter_init(od_legacy_iter *it, const uint8_t *buf, size_t len,
                         size_t decompress_limit)
{
    memset(it, 0, sizeof *it);
    it->buf = buf;
    it->len = len;
    it->decompress_limit = decompress_limit;
}

void od_legacy_iter_finish(od_legacy_iter *it)
{
    free(it->inner);
    it->inner = NULL;
    it->inner_len = it->inner_pos = 0;
    it->in_wrapper = false;
}

static bool iter_fail(od_legacy_iter *it, od_batch_err err)
{
    it->err = err;
    od_legacy_iter_finish(it);
    it->pos = it->len; /* nothing more comes out */
    return false;
}

/* Decompresses a wrapper's value and checks the whole inner set before the
 * first inner record is yielded: magic 1 offsets are relative to the LAST
 * inner message, so nothing can be reported until it has been seen. */
static od_batch_err enter_wrapper(od_legacy_iter *it, const od_legacy_message *w)
{
    od_compression codec = od_legacy_compression(w);
    if (codec == OD_COMPRESSION_ZSTD || codec > OD_COMPRESSION_ZSTD)
        return OD_BATCH_BAD_COMPRESSION;
    if (w->value.len < 0)
        return OD_BATCH_INVALID_RECORD;
    od_batch_err err;
    size_t inner_len;
    if (codec == OD_COMPRESSION_LZ4 && w->magic == 0)
        err = od_decompress_lz4_legacy(w->value.ptr, (size_t)w->value.len, it->decompress_limit,
                                       &it->inner, &inner_len);
    else
        err = od_decompress(codec, w->value.ptr, (size_t)w->value.len, it->decompress_limit,
                            &it->inner, &inner_len);
    if (err != OD_BATCH_OK)
        return err;
    it->inner_len = inner_len;
    it->inner_pos = 0;

    size_t pos = 0, count = 0;
    int64_t last_offset = 0;
    while (pos < inner_len) {
        od_legacy_message m;
        err = od_legacy_message_parse(it->inner + pos, inner_len - pos, &m);
        if (err != OD_BATCH_OK)
            return OD_BATCH_CORRUPT;
        if (m.magic != w->magic || od_legacy_compression(&m) != OD_COMPRESSION_NONE)
            return OD_BATCH_INVALID_RECORD;
        last_offset = m.offset;
        pos += OD_LOG_OVERHEAD + (size_t)m.message_size;
        count++;
    }
    if (count == 0)
        return OD_BATCH_INVALID_RECORD;
    it->inner_base = 0;
    if (w->magic == 1 && w->offset != 0) {
        /* A zero wrapper offset comes from producers that never fill it in
         * (some librdkafka versions); Kafka then takes inner offsets as they
         * are, and so do we. */
        if (w->offset < last_offset)
            return OD_BATCH_INVALID_RECORD;
        it->inner_base = w->offset - last_offset;
    }
    it->wrapper = *w;
    it->in_wrapper = true;
    return OD_BATCH_OK;
}

static void fill_record(od_legacy_record *out, const od_legacy_message *m, int64_t offset)
{
    out->offset = offset;
    out->magic = m->magic;
    out->attributes = m->attributes;
    out->timestamp = m->timestamp;
    out->log_append_time = m->magic == 1 && (m->attributes & OD_LEGACY_ATTR_LOG_APPEND_TIME);
    out->wrapper_compression = OD_COMPRESSION_NONE;
    out->key = m->key;
    out->value = m->value;
}

bool od_legacy_iter_next(od_legacy_iter *it, od_legacy_record *out)
{
    if (it->err != OD_BATCH_OK)
        return false;
    for (;;) {
        if (it->in_wrapper) {
            if (it->inner_pos < it->inner_len) {
                od_legacy_message m;
                /* Already checked in enter_wrapper; cannot fail now. */
                if (od_legacy_message_parse(it->inner + it->inner_pos,
                                            it->inner_len - it->inner_pos, &m) != OD_BATCH_OK)
                    return iter_fail(it, OD_BATCH_CORRUPT);
                it->inner_pos += OD_LOG_OVERHEAD + (size_t)m.message_size;
                int64_t offset = it->wrapper.magic == 1
                                     ? (int64_t)((uint64_t)it->inner_base + (uint64_t)m.offset)
                                     : m.offset;
                fill_record(out, &m, offset);
                out->wrapper_compression = od_legacy_compression(&it->wrapper);
                if (it->wrapper.magic == 1 &&
                    (it->wrapper.attributes & OD_LEGACY_ATTR_LOG_APPEND_TIME)) {
                    out->timestamp = it->wrapper.timestamp;
                    out->log_append_time = true;
                }
                return true;
            }
            od_legacy_iter_finish(it);
        }
        if (it->pos >= it->len)
            return false;
        od_legacy_message m;
        od_batch_err err = od_legacy_message_parse(it->buf + it->pos, it->len - it->pos, &m);
        if (err != OD_BATCH_OK)
            return iter_fail(it, err);
        it->pos += OD_LOG_OVERHEAD + (size_t)m.message_size;
        if (od_legacy_compression(&m) == OD_COMPRESSION_NONE) {
            fill_record(out, &m, m.offset);
            return true;
        }
        err = enter_wrapper(it, &m);
        if (err != OD_BATCH_OK)
            return iter_fail(it, err);
    }
}
