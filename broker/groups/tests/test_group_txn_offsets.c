/*
 * Transactional offset commits (TxnOffsetCommit, KIP-447): pending until the
 * producer's marker, invisible to OffsetFetch meanwhile (UNSTABLE_OFFSET_COMMIT
 * with require_stable), committed or dropped by od_gc_complete_txn, written
 * as the producer's transactional batch, and replayed the same way (records
 * pending, then a control batch commits or aborts them).
 */
#include "gc_harness.h"
#include "records/batch_builder.h"
#include "records/record_batch.h"

#define G "txn-group"

static od_gc_offset_commit commit_of(const char *topic, int32_t partition, int64_t offset)
{
    return (od_gc_offset_commit){od_str_from_cstr(topic), partition, offset, -1, OD_STR_NULL, -1, -99};
}

static int64_t fetch_one(od_gc *gc, const char *topic, int32_t partition, bool stable, int16_t *error)
{
    od_arena arena;
    od_arena_init(&arena);
    od_gc_offset_fetch f = {od_str_from_cstr(topic), partition, 0, 0, OD_STR_NULL, -99};
    int16_t top = od_gc_fetch_offsets(gc, OD_STR_LIT(G), stable, &f, 1, false, &arena, NULL, NULL);
    if (error)
        *error = top ? top : f.error;
    od_arena_release(&arena);
    return f.offset;
}

static int16_t txn_commit(od_gc *gc, int64_t pid, const char *topic, int32_t partition, int64_t offset)
{
    od_gc_offset_commit c = commit_of(topic, partition, offset);
    od_gc_txn_commit_offsets(gc, OD_STR_LIT(G), pid, 3, OD_STR_LIT(""), OD_STR_NULL, -1, &c, 1);
    return c.error;
}

/* Appends a marker batch for pid to the harness log, as the transaction
 * coordinator's marker write would, so replay sees it. */
static void log_marker(h_env *e, int32_t partition, int64_t pid, bool commit)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.producer_id = pid;
    p.producer_epoch = 3;
    od_writer w;
    od_writer_init(&w, 128);
    od_control_batch_build(&p, commit ? OD_CONTROL_COMMIT : OD_CONTROL_ABORT, 0, e->now, &w);
    h_append(e, partition, w.buf, w.len);
    od_writer_free(&w);
}

static void test_pending_until_commit_marker(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    int32_t part = od_gc_partition_for(gc, OD_STR_LIT(G));
    CHECK_EQ_INT(txn_commit(gc, 7, "in", 0, 42), OD_GC_NONE);
    REQUIRE(e.n_batches == 1);
    od_batch_header h;
    REQUIRE(od_batch_header_parse(e.batches[0].bytes, e.batches[0].len, &h) == OD_BATCH_OK);
    CHECK(od_batch_is_transactional(&h));
    CHECK_EQ_INT(h.producer_id, 7);
    CHECK_EQ_INT(h.producer_epoch, 3);
    CHECK_EQ_INT(e.batches[0].partition, part);

    int16_t err;
    CHECK_EQ_INT(fetch_one(gc, "in", 0, false, &err), -1);
    CHECK_EQ_INT(err, OD_GC_NONE);
    fetch_one(gc, "in", 0, true, &err);
    CHECK_EQ_INT(err, OD_GC_UNSTABLE_OFFSET_COMMIT);

    /* Another producer's marker changes nothing. */
    od_gc_complete_txn(gc, part, 8, true);
    CHECK_EQ_INT(fetch_one(gc, "in", 0, false, NULL), -1);
    od_gc_complete_txn(gc, part, 7, true);
    CHECK_EQ_INT(fetch_one(gc, "in", 0, true, &err), 42);
    CHECK_EQ_INT(err, OD_GC_NONE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_abort_drops_pending(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    int32_t part = od_gc_partition_for(gc, OD_STR_LIT(G));
    od_gc_offset_commit plain = commit_of("in", 0, 10);
    od_gc_commit_offsets(gc, OD_STR_LIT(G), OD_STR_LIT(""), OD_STR_NULL, -1, -1, &plain, 1);
    CHECK_EQ_INT(plain.error, OD_GC_NONE);
    CHECK_EQ_INT(txn_commit(gc, 7, "in", 0, 20), OD_GC_NONE);
    od_gc_complete_txn(gc, part, 7, false);
    int16_t err;
    CHECK_EQ_INT(fetch_one(gc, "in", 0, true, &err), 10);
    CHECK_EQ_INT(err, OD_GC_NONE);
    od_gc_destroy(gc);
    h_env_free(&e);
}

static void test_member_checks(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    od_gc_offset_commit c = commit_of("in", 0, 1);
    od_gc_txn_commit_offsets(gc, OD_STR_LIT(G), 7, 0, OD_STR_LIT("nobody"), OD_STR_NULL, -1, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_UNKNOWN_MEMBER_ID);
    c = commit_of("in", 0, 1);
    od_gc_txn_commit_offsets(gc, OD_STR_LIT(G), 7, 0, OD_STR_LIT(""), OD_STR_NULL, 5, &c, 1);
    CHECK_EQ_INT(c.error, OD_GC_ILLEGAL_GENERATION);
    CHECK_EQ_INT(e.n_batches, 0);
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* Replay: transactional records are pending until the marker in the log;
 * a commit marker makes them offsets, an abort marker drops them, and with
 * no marker yet they stay pending. */
static void test_replay_follows_markers(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    int32_t part = od_gc_partition_for(gc, OD_STR_LIT(G));
    txn_commit(gc, 7, "in", 0, 42);
    log_marker(&e, part, 7, true);
    txn_commit(gc, 8, "in", 1, 5);
    log_marker(&e, part, 8, false);
    txn_commit(gc, 9, "in", 2, 77);
    od_gc_destroy(gc);

    od_gc_config cfg;
    od_gc_config_default(&cfg);
    cfg.member_id_seed = 42;
    od_gc_env env = {&e, h_now, h_wake, h_append};
    gc = od_gc_create(&cfg, &env);
    REQUIRE(gc);
    for (int32_t p = 0; p < cfg.offsets_topic_num_partitions; p++)
        od_gc_load_begin(gc, p);
    int n = e.n_batches;
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(od_gc_load_batch(gc, e.batches[i].partition, e.batches[i].bytes, e.batches[i].len), 0);
    for (int32_t p = 0; p < cfg.offsets_topic_num_partitions; p++)
        od_gc_load_finish(gc, p);
    int16_t err;
    CHECK_EQ_INT(fetch_one(gc, "in", 0, true, &err), 42);
    CHECK_EQ_INT(fetch_one(gc, "in", 1, true, &err), -1);
    CHECK_EQ_INT(err, OD_GC_NONE);
    fetch_one(gc, "in", 2, true, &err);
    CHECK_EQ_INT(err, OD_GC_UNSTABLE_OFFSET_COMMIT);
    od_gc_complete_txn(gc, part, 9, true);
    CHECK_EQ_INT(fetch_one(gc, "in", 2, true, &err), 77);
    od_gc_destroy(gc);
    h_env_free(&e);
}

OD_TEST_MAIN(OD_CASE(test_pending_until_commit_marker), OD_CASE(test_abort_drops_pending),
             OD_CASE(test_member_checks), OD_CASE(test_replay_follows_markers))
