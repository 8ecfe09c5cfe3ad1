/*
 * Reads __transaction_state segment files (.log) with Odradek's record
 * codecs (broker/txn/txn_records.h) and prints each record in the words
 * Kafka's DumpLogSegments --transaction-log-decoder uses:
 *
 *   offset: N key: transaction_metadata::transactionalId=ID payload: producerId:P,producerEpoch:E,
 *     state=S,partitions=[t-p,...],txnLastUpdateTimestamp=T,txnTimeoutMs=M     (one line)
 *   offset: N key: transaction_metadata::transactionalId=ID payload: <DELETE>
 *
 * so a script can compare the two readings. Every key and value is also
 * re-encoded at the version it names and must give back the same bytes
 * (exit 1 otherwise): Odradek's writer is byte-identical to the records read.
 *
 *   od_txn_log_tool SEGMENT.log...
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "od_messages.h"
#include "records/record_batch.h"
#include "records/records.h"
#include "transaction_coordinator.h"
#include "txn_records.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

static bool same_bytes(od_bytes original, const od_writer *w)
{
    return w->err == OD_WIRE_OK && (size_t)original.len == w->len &&
           memcmp(original.ptr, w->buf, w->len) == 0;
}

static int record(const od_record *rec)
{
    od_arena arena;
    od_arena_init(&arena);
    int rc = 0;
    od_transaction_log_key k;
    od_transaction_log_key_init(&k);
    if (od_txn_read_key(rec->key, &arena, &k) != OD_WIRE_OK) {
        fprintf(stderr, "offset %" PRId64 ": key does not decode\n", rec->offset);
        rc = 1;
        goto out;
    }
    od_writer w;
    od_writer_init(&w, 64);
    od_txn_write_key(&w, k.transactional_id);
    if (!same_bytes(rec->key, &w)) {
        fprintf(stderr, "offset %" PRId64 ": key re-encodes differently\n", rec->offset);
        rc = 1;
    }
    od_writer_free(&w);
    printf("offset: %" PRId64 " key: transaction_metadata::transactionalId=%.*s payload: ", rec->offset,
           (int)k.transactional_id.len, k.transactional_id.ptr);
    if (rec->value.len < 0) {
        printf("<DELETE>\n");
        goto out;
    }
    od_transaction_log_value v;
    od_transaction_log_value_init(&v);
    int16_t version;
    if (od_txn_read_value(rec->value, &arena, &v, &version) != OD_WIRE_OK) {
        fprintf(stderr, "offset %" PRId64 ": value does not decode\n", rec->offset);
        rc = 1;
        goto out;
    }
    od_writer_init(&w, 128);
    od_write_i16(&w, version);
    od_transaction_log_value_encode(&v, &w, version);
    if (!same_bytes(rec->value, &w) ||
        (version == OD_TXN_VALUE_VERSION && (od_writer_free(&w), od_writer_init(&w, 128),
                                            od_txn_write_value(&w, &v), !same_bytes(rec->value, &w)))) {
        fprintf(stderr, "offset %" PRId64 ": value (version %d) re-encodes differently\n", rec->offset,
                version);
        rc = 1;
    }
    od_writer_free(&w);
    const char *state = od_txn_state_name((od_txn_state)v.transaction_status);
    printf("producerId:%" PRId64 ",producerEpoch:%d,state=%s,partitions=[", v.producer_id,
           v.producer_epoch, state ? state : "?");
    const char *sep = "";
    for (int32_t i = 0; i < v.transaction_partitions.count; i++) {
        const od_transaction_log_value_partitions_schema *s = &v.transaction_partitions.items[i];
        for (int32_t j = 0; j < s->partition_ids.count; j++) {
            printf("%s%.*s-%d", sep, (int)s->topic.len, s->topic.ptr, s->partition_ids.items[j]);
            sep = ",";
        }
    }
    printf("],txnLastUpdateTimestamp=%" PRId64 ",txnTimeoutMs=%d\n",
           v.transaction_last_update_timestamp_ms, v.transaction_timeout_ms);
out:
    od_arena_release(&arena);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: od_txn_log_tool SEGMENT.log...\n");
        return 2;
    }
    int rc = 0;
    for (int a = 1; a < argc; a++) {
        size_t len;
        uint8_t *buf = slurp(argv[a], &len);
        if (!buf) {
            fprintf(stderr, "%s: cannot read\n", argv[a]);
            return 2;
        }
        size_t pos = 0;
        while (pos + OD_BATCH_HEADER_SIZE <= len) {
            od_batch_header h;
            if (od_batch_header_parse(buf + pos, len - pos, &h) != OD_BATCH_OK)
                break;
            size_t total = 12 + (size_t)h.batch_length;
            if (pos + total > len)
                break;
            od_record_iter it;
            if (od_record_iter_init(&it, buf + pos, total, 64u << 20) != OD_BATCH_OK) {
                fprintf(stderr, "%s: batch at %zu does not validate\n", argv[a], pos);
                rc = 1;
            } else if (!od_batch_is_control(&it.header)) {
                od_record rec;
                while (od_record_iter_next(&it, &rec))
                    rc |= record(&rec);
            }
            od_record_iter_finish(&it);
            pos += total;
        }
        free(buf);
    }
    return rc;
}
