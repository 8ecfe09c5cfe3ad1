/*
 * libFuzzer target for replaying __consumer_offsets: the input is a list of
 * records (format in protocol/fuzz/fuzz_record_input.h), packed into one
 * valid batch and loaded into a fresh coordinator, which is then asked to
 * describe, heartbeat, join and expire what it loaded. Any crash, leak or
 * sanitizer report is a bug; bad records must only ever fail the load.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_group_env.h"
#include "fuzz_record_input.h"
#include "group_coordinator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_join_done(void *ctx, const od_gc_join_result *r)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    od_writer batch;
    if (!fuzz_records_to_batch(data, size, fuzz_clock, &batch))
        return 0;
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.offsets_topic_num_partitions = 1;
    cfg.member_id_seed = 1;
    od_gc_env env = fuzz_group_env();
    od_gc *gc = od_gc_create(&cfg, &env);
    if (gc) {
        od_gc_load_begin(gc, 0);
        od_gc_load_batch(gc, 0, batch.buf, batch.len);
        od_gc_load_finish(gc, 0);
        od_arena arena;
        od_arena_init(&arena);
        int16_t err;
        od_gc_listed_group *groups;
        int32_t count;
        od_gc_list(gc, NULL, 0, NULL, 0, &arena, &err, &groups, &count);
        for (int32_t i = 0; i < count; i++) {
            od_gc_group_summary s;
            od_gc_describe(gc, groups[i].group_id, &arena, &s);
            for (int32_t m = 0; m < s.member_count; m++)
                od_gc_heartbeat(gc, groups[i].group_id, s.members[m].member_id,
                                s.members[m].group_instance_id, 1);
            if (s.member_count > 0) {
                od_gc_protocol p = {OD_STR_LIT("range"), {(const uint8_t *)"x", 1}};
                od_gc_join_args a = {.group_id = groups[i].group_id,
                                     .member_id = s.members[0].member_id,
                                     .group_instance_id = s.members[0].group_instance_id,
                                     .protocol_type = s.protocol_type,
                                     .protocols = &p,
                                     .protocol_count = 1,
                                     .session_timeout_ms = 10000,
                                     .rebalance_timeout_ms = 10000,
                                     .client_id = OD_STR_LIT("c"),
                                     .client_host = OD_STR_LIT("h"),
                                     .done = fuzz_join_done};
                od_gc_join(gc, &a);
            }
            od_gc_offset_fetch *all;
            int32_t all_count;
            od_gc_fetch_offsets(gc, groups[i].group_id, false, NULL, 0, true, &arena, &all, &all_count);
        }
        fuzz_clock += 8LL * 24 * 3600 * 1000; /* past retention and every session */
        od_gc_tick(gc);
        od_arena_release(&arena);
        od_gc_destroy(gc);
    }
    od_writer_free(&batch);
    return 0;
}
