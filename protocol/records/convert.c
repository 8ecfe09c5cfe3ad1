#include "convert.h"

#include <stdlib.h>
#include <string.h>

#include "batch_builder.h"
#include "compression.h"
#include "legacy.h"
#include "records.h"

/* One v2 batch down to `magic`, appended to out. */
static od_batch_err down_convert_batch(const uint8_t *batch, size_t len, int8_t magic, int64_t first_offset,
                                       size_t decompress_limit, od_writer *out)
{
    od_batch_header h;
    od_batch_err err = od_batch_header_parse(batch, len, &h);
    if (err != OD_BATCH_OK)
        return err;
    if (od_batch_is_control(&h))
        return OD_BATCH_OK;
    od_compression codec = od_batch_compression(&h);
    if (codec == OD_COMPRESSION_ZSTD)
        return OD_BATCH_BAD_COMPRESSION;
    bool log_append_time = (h.attributes & OD_BATCH_ATTR_LOG_APPEND_TIME) != 0;
    int8_t time_flag = magic == 1 && log_append_time ? OD_LEGACY_ATTR_LOG_APPEND_TIME : 0;
    od_record_iter it;
    err = od_record_iter_init(&it, batch, len, decompress_limit);
    if (err != OD_BATCH_OK) {
        od_record_iter_finish(&it);
        return err;
    }
    od_record rec;
    if (codec == OD_COMPRESSION_NONE) {
        while (err == OD_BATCH_OK && od_record_iter_next(&it, &rec))
            if (rec.offset >= first_offset)
                err = od_legacy_message_write(out, magic, rec.offset, time_flag, rec.timestamp, rec.key,
                                              rec.value);
        if (err == OD_BATCH_OK)
            err = it.err;
        od_record_iter_finish(&it);
        return err;
    }
    od_writer inner;
    od_writer_init(&inner, 256);
    int64_t first = -1, last = -1;
    while (err == OD_BATCH_OK && od_record_iter_next(&it, &rec)) {
        if (first < 0)
            first = rec.offset;
        last = rec.offset;
        int64_t inner_offset = magic == 1 ? rec.offset - first : rec.offset;
        err = od_legacy_message_write(&inner, magic, inner_offset, time_flag, rec.timestamp, rec.key, rec.value);
    }
    if (err == OD_BATCH_OK)
        err = it.err;
    od_record_iter_finish(&it);
    if (err == OD_BATCH_OK && first >= 0) {
        od_writer packed;
        od_writer_init(&packed, inner.len / 2 + 64);
        err = od_compress(codec, inner.buf, inner.len, &packed);
        if (err == OD_BATCH_OK)
            err = od_legacy_message_write(out, magic, last, (int8_t)(codec | time_flag), h.max_timestamp,
                                          OD_BYTES_NULL, (od_bytes){packed.buf, (int32_t)packed.len});
        od_writer_free(&packed);
    }
    od_writer_free(&inner);
    return err;
}

od_batch_err od_records_down_convert(const uint8_t *set, size_t len, int8_t magic, int64_t first_offset,
                                     size_t decompress_limit, od_writer *out)
{
    if (magic != 0 && magic != 1)
        return OD_BATCH_BAD_MAGIC;
    size_t pos = 0;
    while (pos < len) {
        size_t total = od_batch_total_size(set + pos, len - pos);
        if (total == 0 || total > len - pos || len - pos <= OD_BATCH_MAGIC_AT)
            break; /* a partial entry at the end of a read */
        int8_t entry_magic = (int8_t)set[pos + OD_BATCH_MAGIC_AT];
        od_batch_err err;
        if (entry_magic <= magic) {
            od_write_raw(out, set + pos, total);
            err = out->err == OD_WIRE_OK ? OD_BATCH_OK : OD_BATCH_NO_MEMORY;
        } else {
            err = down_convert_batch(set + pos, total, magic, first_offset, decompress_limit, out);
        }
        if (err != OD_BATCH_OK)
            return err;
        pos += total;
    }
    return out->err == OD_WIRE_OK ? OD_BATCH_OK : OD_BATCH_NO_MEMORY;
}

od_batch_err od_records_up_convert(const uint8_t *set, size_t len, size_t decompress_limit, od_writer *out)
{
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    od_batch_builder builder;
    od_legacy_iter it;
    od_legacy_iter_init(&it, set, len, decompress_limit);
    od_legacy_record rec;
    bool codec_known = false;
    od_batch_err err = OD_BATCH_OK;
    /* The builder takes the codec at init; it is known at the first record. */
    while (err == OD_BATCH_OK && od_legacy_iter_next(&it, &rec)) {
        if (!codec_known) {
            params.compression = rec.wrapper_compression;
            od_batch_builder_init(&builder, &params);
            codec_known = true;
        }
        od_builder_record br = {.timestamp = rec.magic == 0 ? -1 : rec.timestamp,
                                .key = rec.key,
                                .value = rec.value,
                                .headers = NULL,
                                .header_count = 0};
        err = od_batch_builder_add(&builder, &br);
    }
    if (err == OD_BATCH_OK && it.err != OD_BATCH_OK && it.err != OD_BATCH_TRUNCATED)
        err = it.err;
    od_legacy_iter_finish(&it);
    if (!codec_known)
        return err != OD_BATCH_OK ? err : OD_BATCH_INVALID_RECORD;
    if (err == OD_BATCH_OK)
        err = od_batch_builder_finish(&builder, out);
    od_batch_builder_free(&builder);
    return err;
}
