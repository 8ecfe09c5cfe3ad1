/*
 * Produce: appends each partition's record set as leader and answers per
 * partition. With one replica, acks=1 and acks=-1 are both satisfied once
 * the append returns (the ISR is this broker). acks=-1 checks the ISR
 * against min.insync.replicas capped at the replica count, as Kafka 3.9
 * does, so a single-replica partition never reports NOT_ENOUGH_REPLICAS.
 * A CreateTime record outside message.timestamp.before/after.max.ms fails
 * the partition with INVALID_TIMESTAMP and one record error per refused
 * record, worded as Kafka 3.9's LogValidator words them.
 * Before the log sees a record set, the checks Kafka makes on a client's
 * set run here in Kafka's order (records_shape_error, client_batch_error),
 * so malformed sets get Kafka's error codes (compat-tests/broker/bad_input.py
 * runs each against both brokers).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "handler_util.h"
#include "handlers.h"
#include "records/record_batch.h"
#include "records/convert.h"
#include "records/legacy.h"
#include "records/records.h"
#include "txn_service.h"

/* A bound on what an old producer's compressed set may inflate to. */
#define UP_CONVERT_DECOMPRESS_LIMIT ((size_t)64 << 20)

/* Kafka's effective min ISR: the setting, but never more than the replicas. */
static int32_t min_insync_for(od_broker *b, const od_broker_topic *t, int32_t partition)
{
    const char *v = od_mimage_config(b->image, OD_CONFIG_RESOURCE_TOPIC, t->name, "min.insync.replicas");
    int32_t min_isr = v ? (int32_t)strtol(v, NULL, 10) : b->settings.min_insync_replicas;
    const od_mi_partition *p = od_mimage_partition(b->image, &t->id, partition);
    int32_t replicas = p ? p->replicas.count : 1;
    return min_isr < replicas ? min_isr : replicas;
}

static int32_t isr_size(od_broker *b, const od_broker_topic *t, int32_t partition)
{
    const od_mi_partition *p = od_mimage_partition(b->image, &t->id, partition);
    return p ? p->isr.count : 1;
}

static bool compacted(od_broker *b, const od_broker_topic *t)
{
    const char *v = od_mimage_config(b->image, OD_CONFIG_RESOURCE_TOPIC, t->name, "cleanup.policy");
    return v != NULL && strstr(v, "compact") != NULL;
}

/* A compacted topic keeps the last record per key, so a record without a
 * key could never be kept or removed: Kafka refuses the batch and names the
 * records. Returns false (and fills out) when a record has no key. */
static bool keys_present(od_rctx *ctx, od_bytes records, od_produce_response_partition_produce_response *out)
{
    od_record_set_iter sit;
    od_record_set_iter_init(&sit, records.ptr, (size_t)records.len);
    const uint8_t *entry;
    size_t entry_len;
    int8_t magic;
    int32_t missing = 0, cap = 0;
    od_produce_response_batch_index_and_error_message *errs = NULL;
    int32_t index = 0;
    while (od_record_set_next(&sit, &entry, &entry_len, &magic)) {
        od_record_iter it;
        if (magic != 2 || od_record_iter_init(&it, entry, entry_len, 64u << 20) != OD_BATCH_OK) {
            od_record_iter_finish(&it);
            return true; /* the append reports what is wrong with this batch */
        }
        od_record rec;
        while (od_record_iter_next(&it, &rec)) {
            if (rec.key.len < 0) {
                if (od_arena_grow(ctx->arena, &errs, &cap, missing + 1, sizeof *errs)) {
                    od_produce_response_batch_index_and_error_message_init(&errs[missing]);
                    errs[missing].batch_index = index;
                    errs[missing].batch_index_error_message =
                        OD_STR_LIT("Compacted topic cannot accept a record without a key.");
                    missing++;
                }
            }
            index++;
        }
        od_record_iter_finish(&it);
    }
    if (missing == 0)
        return true;
    out->error_code = OD_ERR_INVALID_RECORD;
    out->error_message = OD_STR_LIT("One or more records have been rejected");
    out->record_errors = (od_produce_response_batch_index_and_error_message_array){missing, errs};
    return false;
}

/* Collects the record errors of a refused timestamp check. */
typedef struct ts_errors {
    od_rctx *ctx;
    od_produce_response_batch_index_and_error_message *items;
    int32_t count, cap;
} ts_errors;

static void on_ts_violation(void *arg, const od_ts_violation *v)
{
    ts_errors *e = arg;
    if (!od_arena_grow(e->ctx->arena, &e->items, &e->cap, e->count + 1, sizeof *e->items))
        return;
    char text[256];
    if (v->log_append_time)
        snprintf(text, sizeof text,
                 "Invalid timestamp type in message with offset %" PRId64
                 ". Producer should not set timestamp type to LogAppendTime.",
                 v->offset);
    else
        snprintf(text, sizeof text,
                 "Timestamp %" PRId64 " of message with offset %" PRId64
                 " is out of range. The timestamp should be within [%" PRId64 ", %" PRId64 "]",
                 v->timestamp, v->offset, v->lower, v->upper);
    od_produce_response_batch_index_and_error_message *m = &e->items[e->count++];
    od_produce_response_batch_index_and_error_message_init(m);
    m->batch_index = v->batch_index;
    m->batch_index_error_message = od_arena_str(e->ctx, text);
}

/* What Kafka 3.9 refuses before its log looks at the records, in its order.
 * Its batch iterator stops quietly at bytes too few for a size, a magic or
 * the whole batch, but throws CorruptRecordException (CORRUPT_MESSAGE) at a
 * size below a v0 message or a magic above 2; Produce v3+ then wants
 * exactly one batch, of magic 2 (INVALID_RECORD otherwise), and zstd only
 * from v7 (UNSUPPORTED_COMPRESSION_TYPE). On success *first_magic is the
 * first entry's magic and *first_len the first batch's extent: bytes after it that do not make a
 * batch are ignored, as Kafka's iterator ignores them. Returns the error
 * code, OD_ERR_NONE when the set may go on to the log. */
static int16_t records_shape_error(od_bytes records, int16_t version, size_t *first_len, int8_t *first_magic,
                                   od_str *message)
{
    od_reader r;
    od_reader_init(&r, records.ptr, (size_t)records.len, NULL);
    int batches = 0;
    /* Two batches are enough to tell "exactly one". */
    while (batches < 2) {
        size_t left = od_reader_remaining(&r);
        if (left < OD_LOG_OVERHEAD)
            break;
        od_reader head = r;
        (void)od_read_i64(&head);
        int32_t size = od_read_i32(&head);
        if (size < OD_LEGACY_V0_MIN_SIZE) {
            *message = OD_STR_LIT("Record size is less than the minimum record overhead (14)");
            return OD_ERR_CORRUPT_MESSAGE;
        }
        if (left < OD_BATCH_MAGIC_AT + 1)
            break;
        (void)od_read_i32(&head);
        int8_t magic = od_read_i8(&head);
        if (magic < 0 || magic > 2) {
            *message = OD_STR_LIT("Invalid magic found in record");
            return OD_ERR_CORRUPT_MESSAGE;
        }
        if (left - OD_LOG_OVERHEAD < (size_t)size)
            break;
        (void)od_read_raw(&r, OD_LOG_OVERHEAD + (size_t)size);
        if (batches++ == 0) {
            *first_magic = magic;
            *first_len = OD_LOG_OVERHEAD + (size_t)size;
            if (version >= 3 && magic != 2) {
                *message = OD_STR_LIT("Produce requests with version 3 and above are only allowed to "
                                      "contain record batches with magic version 2");
                return OD_ERR_INVALID_RECORD;
            }
            (void)od_read_i32(&head); /* crc */
            int16_t attributes = od_read_i16(&head);
            if (version < 7 && magic == 2 &&
                (attributes & OD_BATCH_ATTR_COMPRESSION_MASK) == OD_COMPRESSION_ZSTD) {
                *message = OD_STR_LIT("Produce requests with version below 7 are not allowed to use ZStandard "
                                      "compression");
                return OD_ERR_UNSUPPORTED_COMPRESSION_TYPE;
            }
        }
    }
    if (batches == 0) {
        *message = OD_STR_LIT("Produce request has no record batch");
        return OD_ERR_INVALID_RECORD;
    }
    if (version >= 3 && batches > 1) {
        *message = OD_STR_LIT("Produce requests with version 3 and above are only allowed to "
                              "contain exactly one record batch per partition");
        return OD_ERR_INVALID_RECORD;
    }
    if (version < 3)
        *first_len = (size_t)records.len; /* older sets hold several messages */
    return OD_ERR_NONE;
}

/* Kafka's checks on a batch from a client (not from a replica or a
 * coordinator), once its size and CRC are known good: a base offset of 0,
 * no control batch, a sequence when there is a producer id, and a v2
 * header's worth of bytes. Returns the error code, OD_ERR_NONE to go on. */
static int16_t client_batch_error(const uint8_t *batch, size_t len, od_str *message)
{
    od_batch_header h;
    if (od_batch_header_parse(batch, len, &h) != OD_BATCH_OK) {
        /* A magic-2 batch shorter than its header: Kafka's ensureValid. */
        if (len >= OD_BATCH_MAGIC_AT + 1) {
            *message = OD_STR_LIT("Record batch is corrupt (smaller than the minimum allowed overhead)");
            return OD_ERR_INVALID_RECORD;
        }
        return OD_ERR_NONE;
    }
    if (h.base_offset != 0) {
        *message = OD_STR_LIT("The baseOffset of the record batch in the append should be 0");
        return OD_ERR_INVALID_RECORD;
    }
    if (od_batch_validate(batch, len, NULL) != OD_BATCH_OK)
        return OD_ERR_NONE; /* the log answers as Kafka does for these */
    if (od_batch_is_control(&h)) {
        *message = OD_STR_LIT("Clients are not allowed to write control records");
        return OD_ERR_INVALID_RECORD;
    }
    if (h.producer_id >= 0 && h.base_sequence < 0) {
        *message = OD_STR_LIT("Invalid sequence number in record batch with a producer id");
        return OD_ERR_INVALID_RECORD;
    }
    return OD_ERR_NONE;
}

/* A magic 0/1 set (Produce v0-2) becomes one v2 batch in the request arena,
 * as Kafka 3.9 converts it on append; *set and *len then name that batch.
 * Errors as Kafka answers them: a bad CRC is CORRUPT_MESSAGE, a payload the
 * codec refuses UNKNOWN_SERVER_ERROR, anything else INVALID_RECORD. */
static int16_t up_convert(od_rctx *ctx, const uint8_t **set, size_t *len, od_str *message)
{
    od_writer w;
    od_writer_init(&w, *len + 128);
    od_batch_err err = od_records_up_convert(*set, *len, UP_CONVERT_DECOMPRESS_LIMIT, &w);
    uint8_t *batch = err == OD_BATCH_OK ? od_arena_alloc(ctx->arena, w.len) : NULL;
    if (batch != NULL) {
        memcpy(batch, w.buf, w.len);
        *set = batch;
        *len = w.len;
    }
    od_writer_free(&w);
    switch (err) {
    case OD_BATCH_OK:
        return batch != NULL ? OD_ERR_NONE : OD_ERR_UNKNOWN_SERVER_ERROR;
    case OD_BATCH_CORRUPT:
        *message = OD_STR_LIT("Record is corrupt");
        return OD_ERR_CORRUPT_MESSAGE;
    case OD_BATCH_BAD_COMPRESSION:
    case OD_BATCH_NO_MEMORY:
        return OD_ERR_UNKNOWN_SERVER_ERROR;
    default:
        *message = OD_STR_LIT("Invalid message set");
        return OD_ERR_INVALID_RECORD;
    }
}

static void append_partition(od_rctx *ctx, od_broker_topic *t, int16_t acks, od_str txn_id,
                             const od_produce_request_partition_produce_data *in,
                             od_produce_response_partition_produce_response *out, bool *appended,
                             bool *hang_up)
{
    od_broker *b = ctx->broker;
    od_broker_partition *p = od_broker_partition_of(t, in->index);
    if (p == NULL || p->log == NULL) {
        out->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    /* Kafka's ReplicaManager: clients never write the coordinators' logs
     * (a stray record there would break the next load). */
    if (strcmp(t->name, "__consumer_offsets") == 0 || strcmp(t->name, "__transaction_state") == 0) {
        char text[64];
        snprintf(text, sizeof text, "Cannot append to internal topic %s", t->name);
        out->error_code = OD_ERR_INVALID_TOPIC_EXCEPTION;
        out->error_message = od_arena_str(ctx, text);
        return;
    }
    if (acks == -1 && isr_size(b, t, in->index) < min_insync_for(b, t, in->index)) {
        out->error_code = OD_ERR_NOT_ENOUGH_REPLICAS;
        out->error_message = OD_STR_LIT("The size of the current ISR is less than min.insync.replicas");
        return;
    }
    if (in->records.len < 0) {
        /* Kafka 3.9 fails with a NullPointerException here and never
         * answers, leaving the connection muted; closing it is the nearest
         * well-defined behaviour, and never leaves a client waiting. */
        *hang_up = true;
        return;
    }
    size_t len = 0;
    int8_t magic = 2;
    out->error_code = records_shape_error(in->records, ctx->version, &len, &magic, &out->error_message);
    const uint8_t *set = in->records.ptr;
    if (out->error_code == OD_ERR_NONE && magic < 2)
        out->error_code = up_convert(ctx, &set, &len, &out->error_message);
    if (out->error_code == OD_ERR_NONE && ctx->version >= 3)
        out->error_code = client_batch_error(set, len, &out->error_message);
    if (out->error_code != OD_ERR_NONE)
        return;
    if (compacted(b, t) && !keys_present(ctx, (od_bytes){set, (int32_t)len}, out))
        return;
    out->error_code = od_txn_verify_produce(b, txn_id, od_str_from_cstr(t->name), in->index, set, len);
    if (out->error_code == OD_ERR_INVALID_TXN_STATE) {
        /* Kafka 3.9's coordinator answers TRANSACTION_ABORTABLE for a
         * partition outside the transaction; a Produce below v11 cannot
         * express it and gets INVALID_TXN_STATE with this message. */
        if (ctx->version >= 11)
            out->error_code = OD_ERR_TRANSACTION_ABORTABLE;
        else
            out->error_message = od_str_from_cstr("Partition was not added to the transaction");
    }
    if (out->error_code != OD_ERR_NONE)
        return;
    /* The append rewrites offsets and epochs in place; the request frame is
     * read-only, so the batch is copied into the request arena. */
    uint8_t *records = od_arena_alloc(ctx->arena, len);
    if (records == NULL) {
        out->error_code = OD_ERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    memcpy(records, set, len);
    int64_t now = od_wall_clock_ms();
    od_append_info info;
    int32_t epoch = od_leader_epoch_of(b, &t->id, in->index);
    od_st_err st = od_log_append_leader(p->log, records, len, epoch, now, &info);
    out->error_code = od_kafka_error_from_storage(st);
    if (st == OD_ST_OK || st == OD_ST_DUPLICATE_SEQUENCE) {
        out->base_offset = info.first_offset;
        out->log_append_time_ms = info.log_append_time;
        out->log_start_offset = od_log_start_offset(p->log);
        if (st == OD_ST_OK) {
            od_log_set_high_watermark(p->log, od_log_end_offset(p->log));
            od_log_maybe_flush(p->log, now);
            *appended = true;
        }
    } else {
        out->log_start_offset = od_log_start_offset(p->log);
        if (st == OD_ST_INVALID_TIMESTAMP) {
            /* The refused set was not rewritten: the same check with the
             * same clock names the same records. */
            ts_errors e = {ctx, NULL, 0, 0};
            od_log_check_timestamps(od_log_get_config(p->log), records, len, now,
                                    on_ts_violation, &e);
            out->error_message = OD_STR_LIT("One or more records have been rejected due to invalid timestamp");
            out->record_errors = (od_produce_response_batch_index_and_error_message_array){e.count, e.items};
        }
    }
}

od_handler_status od_handle_produce(od_rctx *ctx)
{
    const od_produce_request *req = ctx->request;
    od_produce_response *resp = ctx->response;
    od_broker *b = ctx->broker;
    bool valid_acks = req->acks == 0 || req->acks == 1 || req->acks == -1;
    int32_t nt = req->topic_data.count > 0 ? req->topic_data.count : 0;
    od_produce_response_topic_produce_response *topics =
        OD_ARENA_ARRAY(ctx, od_produce_response_topic_produce_response, nt);
    if (topics == NULL)
        return OD_HANDLER_CLOSE;
    bool any_error = false, appended = false, hang_up = false;
    od_broker_lock(b);
    for (int32_t i = 0; i < nt; i++) {
        const od_produce_request_topic_produce_data *td = &req->topic_data.items[i];
        od_produce_response_topic_produce_response *to = &topics[i];
        od_produce_response_topic_produce_response_init(to);
        to->name = td->name;
        int32_t np = td->partition_data.count > 0 ? td->partition_data.count : 0;
        od_produce_response_partition_produce_response *parts =
            OD_ARENA_ARRAY(ctx, od_produce_response_partition_produce_response, np);
        if (parts == NULL) {
            od_broker_unlock(b);
            return OD_HANDLER_CLOSE;
        }
        od_broker_topic *t = od_broker_topic_by_name(b, td->name);
        for (int32_t j = 0; j < np; j++) {
            const od_produce_request_partition_produce_data *pd = &td->partition_data.items[j];
            od_produce_response_partition_produce_response *po = &parts[j];
            od_produce_response_partition_produce_response_init(po);
            po->index = pd->index;
            po->base_offset = -1;
            if (!valid_acks)
                po->error_code = OD_ERR_INVALID_REQUIRED_ACKS;
            else if (t == NULL)
                po->error_code = OD_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                append_partition(ctx, t, req->acks, req->transactional_id, pd, po, &appended, &hang_up);
            any_error |= po->error_code != OD_ERR_NONE;
        }
        to->partition_responses = (od_produce_response_partition_produce_response_array){np, parts};
    }
    if (appended)
        od_broker_wake_fetches(b);
    od_broker_unlock(b);
    resp->responses = (od_produce_response_topic_produce_response_array){nt, topics};
    if (hang_up)
        return OD_HANDLER_CLOSE;
    if (req->acks == 0)
        /* A client that wants no answer learns of a failure only by losing
         * the connection, which makes it refresh its metadata. */
        return any_error ? OD_HANDLER_CLOSE : OD_HANDLER_NO_REPLY;
    return OD_HANDLER_REPLY;
}
