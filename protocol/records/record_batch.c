#include "record_batch.h"

const char *od_batch_err_name(od_batch_err err)
{
    switch (err) {
    case OD_BATCH_OK: return "ok";
    case OD_BATCH_TRUNCATED: return "truncated";
    case OD_BATCH_BAD_MAGIC: return "bad magic";
    case OD_BATCH_BAD_LENGTH: return "bad length";
    case OD_BATCH_CORRUPT: return "corrupt";
    case OD_BATCH_BAD_COMPRESSION: return "bad compression";
    case OD_BATCH_TOO_LARGE: return "too large";
    case OD_BATCH_INVALID_RECORD: return "invalid record";
    case OD_BATCH_NO_MEMORY: return "out of memory";
    case OD_BATCH_BAD_OFFSET_DELTA: return "bad offset delta";
    }
    return "unknown";
}

/* The fixed header fields after batchLength: the smallest legal batchLength. */
enum { MIN_BATCH_LENGTH = OD_BATCH_HEADER_SIZE - OD_LOG_OVERHEAD };

od_batch_err od_batch_header_parse(const uint8_t *buf, size_t len, od_batch_header *out)
{
    if (len < OD_BATCH_HEADER_SIZE)
        return OD_BATCH_TRUNCATED;
    const uint8_t *p = buf;
    if ((int8_t)p[OD_BATCH_MAGIC_AT] != 2)
        return OD_BATCH_BAD_MAGIC;
    int32_t batch_length = (int32_t)od_load_be32(p + OD_BATCH_LENGTH_AT);
    if (batch_length < MIN_BATCH_LENGTH)
        return OD_BATCH_BAD_LENGTH;
    out->base_offset = (int64_t)od_load_be64(p + OD_BATCH_BASE_OFFSET_AT);
    out->batch_length = batch_length;
    out->partition_leader_epoch = (int32_t)od_load_be32(p + OD_BATCH_LEADER_EPOCH_AT);
    out->magic = (int8_t)p[OD_BATCH_MAGIC_AT];
    out->crc = od_load_be32(p + OD_BATCH_CRC_AT);
    out->attributes = (int16_t)od_load_be16(p + OD_BATCH_ATTRIBUTES_AT);
    out->last_offset_delta = (int32_t)od_load_be32(p + OD_BATCH_LAST_OFFSET_DELTA_AT);
    out->base_timestamp = (int64_t)od_load_be64(p + OD_BATCH_BASE_TIMESTAMP_AT);
    out->max_timestamp = (int64_t)od_load_be64(p + OD_BATCH_MAX_TIMESTAMP_AT);
    out->producer_id = (int64_t)od_load_be64(p + OD_BATCH_PRODUCER_ID_AT);
    out->producer_epoch = (int16_t)od_load_be16(p + OD_BATCH_PRODUCER_EPOCH_AT);
    out->base_sequence = (int32_t)od_load_be32(p + OD_BATCH_BASE_SEQUENCE_AT);
    out->record_count = (int32_t)od_load_be32(p + OD_BATCH_RECORD_COUNT_AT);
    return OD_BATCH_OK;
}

size_t od_batch_total_size(const uint8_t *buf, size_t len)
{
    if (len < OD_LOG_OVERHEAD)
        return 0;
    int32_t batch_length = (int32_t)od_load_be32(buf + OD_BATCH_LENGTH_AT);
    if (batch_length < 0)
        return 0;
    return (size_t)OD_LOG_OVERHEAD + (size_t)batch_length;
}

/* The byte range the CRC covers ([attributes, end of batch)), or false when
 * `len` does not hold a whole v2 batch. */
static bool crc_span(const uint8_t *batch, size_t len, size_t *end)
{
    if (len < OD_BATCH_HEADER_SIZE || (int8_t)batch[OD_BATCH_MAGIC_AT] != 2)
        return false;
    size_t total = od_batch_total_size(batch, len);
    if (total < OD_BATCH_HEADER_SIZE || total > len)
        return false;
    *end = total;
    return true;
}

static uint32_t compute_crc(const uint8_t *batch, size_t end)
{
    return od_crc32c(0, batch + OD_BATCH_ATTRIBUTES_AT, end - OD_BATCH_ATTRIBUTES_AT);
}

bool od_batch_crc_ok(const uint8_t *batch, size_t len)
{
    size_t end;
    if (!crc_span(batch, len, &end))
        return false;
    return compute_crc(batch, end) == od_load_be32(batch + OD_BATCH_CRC_AT);
}

void od_batch_restamp_crc(uint8_t *batch, size_t len)
{
    size_t end;
    if (!crc_span(batch, len, &end))
        return;
    od_store_be32(batch + OD_BATCH_CRC_AT, compute_crc(batch, end));
}

od_batch_err od_batch_validate(const uint8_t *batch, size_t len, od_batch_header *out)
{
    od_batch_header h;
    od_batch_err err = od_batch_header_parse(batch, len, &h);
    if (err != OD_BATCH_OK)
        return err;
    if (od_batch_total_size(batch, len) > len)
        return OD_BATCH_TRUNCATED;
    if (!od_batch_crc_ok(batch, len))
        return OD_BATCH_CORRUPT;
    if (h.record_count < 0 || h.last_offset_delta < 0)
        return OD_BATCH_INVALID_RECORD;
    if ((h.attributes & OD_BATCH_ATTR_COMPRESSION_MASK) > OD_COMPRESSION_ZSTD)
        return OD_BATCH_BAD_COMPRESSION;
    if (out)
        *out = h;
    return OD_BATCH_OK;
}
