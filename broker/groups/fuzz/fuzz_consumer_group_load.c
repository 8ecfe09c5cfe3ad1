/*
 * libFuzzer target for replaying KIP-848 consumer-group records: the input
 * is a list of records (format in protocol/fuzz/fuzz_record_input.h),
 * packed into one valid batch and loaded into a fresh consumer-group
 * coordinator, which then describes every group, heartbeats as each loaded
 * member (driving the assignors and the reconciliation over whatever was
 * loaded) and expires them. Any crash, leak or sanitizer report is a bug;
 * bad records must only fail the load.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "consumer_group.h"
#include "fuzz_group_env.h"
#include "fuzz_record_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(od_cg *cg, od_arena *arena)
{
    od_cg_listed_group *groups;
    int32_t count;
    if (od_cg_list(cg, arena, &groups, &count) != 0)
        return;
    for (int32_t i = 0; i < count; i++) {
        od_consumer_group_describe_response_described_group d;
        if (od_cg_describe(cg, groups[i].group_id, arena, &d) != 0)
            continue;
        for (int32_t m = 0; m < d.members.count; m++) {
            const od_consumer_group_describe_response_member *dm = &d.members.items[m];
            od_consumer_group_heartbeat_request r;
            od_consumer_group_heartbeat_request_init(&r);
            r.group_id = groups[i].group_id;
            r.member_id = dm->member_id;
            r.member_epoch = dm->member_epoch;
            r.instance_id = dm->instance_id;
            r.rebalance_timeout_ms = 1000;
            r.subscribed_topic_names = dm->subscribed_topic_names;
            r.topic_partitions.count = 0;
            od_consumer_group_heartbeat_response resp;
            od_cg_heartbeat(cg, &r, OD_STR_NULL, OD_STR_LIT("c"), OD_STR_LIT("h"), arena, &resp);
            /* and a new member joining with the same subscription */
            r.member_id = OD_STR_LIT("");
            r.member_epoch = 0;
            r.instance_id = OD_STR_NULL;
            od_cg_heartbeat(cg, &r, OD_STR_NULL, OD_STR_LIT("c"), OD_STR_LIT("h"), arena, &resp);
        }
        od_cg_validate_offset_commit(cg, groups[i].group_id, OD_STR_LIT("m"), 1, 9);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    od_writer batch;
    if (!fuzz_records_to_batch(data, size, fuzz_clock, &batch))
        return 0;
    od_cg_config cfg;
    od_cg_config_default(&cfg);
    cfg.offsets_topic_num_partitions = 1;
    cfg.member_id_seed = 1;
    od_gc_env env = fuzz_group_env();
    od_cg *cg = od_cg_create(&cfg, &env);
    if (cg) {
        /* topic ids the seeds use: bytes all 1, and all 2 */
        od_cg_topic topics[2] = {{OD_STR_LIT("t1"), {{0}}, 4}, {OD_STR_LIT("t2"), {{0}}, 3}};
        for (int i = 0; i < 16; i++) {
            topics[0].id.bytes[i] = 1;
            topics[1].id.bytes[i] = 2;
        }
        od_cg_set_topics(cg, topics, 2);
        od_cg_load_begin(cg, 0);
        od_cg_load_batch(cg, 0, batch.buf, batch.len);
        od_cg_load_finish(cg, 0);
        od_arena arena;
        od_arena_init(&arena);
        exercise(cg, &arena);
        fuzz_clock += 3600 * 1000; /* past every session */
        od_cg_tick(cg);
        exercise(cg, &arena);
        od_arena_release(&arena);
        od_cg_destroy(cg);
    }
    od_writer_free(&batch);
    return 0;
}
