/*
 * libFuzzer target for replaying __transaction_state: the input is a list
 * of records (format in protocol/fuzz/fuzz_record_input.h), packed into one
 * valid batch and loaded into a fresh coordinator, which then lists and
 * describes what it loaded, completes what was left in a Prepare state, and
 * runs its timers past every timeout and expiry. Any crash, leak or
 * sanitizer report is a bug; bad records must only ever fail the load.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_record_input.h"
#include "transaction_coordinator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t fuzz_clock = 1000000;

static int64_t fuzz_now(void *ctx)
{
    (void)ctx;
    return fuzz_clock;
}

static int16_t fuzz_append(void *ctx, int32_t partition, const uint8_t *b, size_t len)
{
    (void)ctx, (void)partition, (void)b, (void)len;
    return 0;
}

static int16_t fuzz_pid(void *ctx, int64_t *pid)
{
    (void)ctx;
    *pid = 7;
    return 0;
}

static int16_t fuzz_marker(void *ctx, od_str topic, int32_t partition, int64_t pid, int16_t epoch,
                           int32_t coordinator_epoch, bool commit)
{
    (void)ctx, (void)topic, (void)partition, (void)pid, (void)epoch, (void)coordinator_epoch, (void)commit;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    od_writer batch;
    if (!fuzz_records_to_batch(data, size, fuzz_clock, &batch))
        return 0;
    od_tc_config cfg;
    od_tc_config_default(&cfg);
    cfg.num_partitions = 1;
    od_tc_env env = {NULL, fuzz_now, NULL, fuzz_append, fuzz_pid, fuzz_marker};
    od_tc *tc = od_tc_create(&cfg, &env);
    if (tc) {
        od_tc_load_begin(tc, 0, 1);
        od_tc_load_batch(tc, 0, batch.buf, batch.len);
        od_tc_load_finish(tc, 0);
        od_arena arena;
        od_arena_init(&arena);
        int16_t err;
        od_tc_txn_info *txns;
        int32_t count;
        if (od_tc_list(tc, NULL, 0, NULL, 0, -1, &arena, &err, &txns, &count) == 0) {
            for (int32_t i = 0; i < count; i++) {
                od_tc_txn_info info;
                if (od_tc_describe(tc, txns[i].transactional_id, &arena, &info) == 0 && info.part_count > 0)
                    od_tc_add_partitions(tc, info.transactional_id, info.producer_id, info.producer_epoch,
                                         info.parts, 1);
                od_tc_end_txn(tc, txns[i].transactional_id, txns[i].producer_id, txns[i].producer_epoch, true);
                od_tc_init_producer_id(tc, txns[i].transactional_id, 1000, txns[i].producer_id,
                                       txns[i].producer_epoch);
            }
        }
        fuzz_clock += 8LL * 24 * 3600 * 1000; /* past every timeout and expiry */
        od_tc_tick(tc);
        od_arena_release(&arena);
        od_tc_destroy(tc);
    }
    od_writer_free(&batch);
    return 0;
}
