/*
 * The transaction coordinator in virtual time: InitProducerId (bumps,
 * fencing, KIP-360, epoch exhaustion), AddPartitionsToTxn, verify-only,
 * EndTxn with markers, marker retries, timeouts, id expiry, and the
 * durability round trip (replaying the appended __transaction_state
 * batches into a fresh coordinator reproduces the state, and a Prepare
 * state left in the log completes on load).
 */
#include <stdlib.h>
#include <string.h>

#include "od_messages.h"
#include "od_test.h"
#include "records/batch_builder.h"
#include "records/records.h"
#include "transaction_coordinator.h"
#include "txn_records.h"

typedef struct h_batch {
    int32_t partition;
    uint8_t *bytes;
    size_t len;
} h_batch;

typedef struct h_marker {
    char topic[64];
    int32_t partition;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t coordinator_epoch;
    bool commit;
} h_marker;

typedef struct h_env {
    int64_t now;
    int64_t wake;
    h_batch batches[256];
    int n_batches;
    int16_t fail_appends;
    int16_t fail_markers;
    h_marker markers[64];
    int n_markers;
    int64_t next_pid;
} h_env;

static int64_t h_now(void *ctx) { return ((h_env *)ctx)->now; }
static void h_wake(void *ctx, int64_t d) { ((h_env *)ctx)->wake = d; }

static int16_t h_append(void *ctx, int32_t partition, const uint8_t *b, size_t len)
{
    h_env *e = ctx;
    if (e->fail_appends)
        return e->fail_appends;
    if (e->n_batches == 256)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    h_batch *hb = &e->batches[e->n_batches++];
    hb->partition = partition;
    hb->bytes = malloc(len);
    memcpy(hb->bytes, b, len);
    hb->len = len;
    return OD_TC_NONE;
}

static int16_t h_next_pid(void *ctx, int64_t *pid)
{
    *pid = ((h_env *)ctx)->next_pid++;
    return OD_TC_NONE;
}

static int16_t h_marker_fn(void *ctx, od_str topic, int32_t partition, int64_t pid, int16_t epoch,
                           int32_t coordinator_epoch, bool commit)
{
    h_env *e = ctx;
    if (e->fail_markers)
        return e->fail_markers;
    if (e->n_markers == 64)
        return OD_TC_UNKNOWN_SERVER_ERROR;
    h_marker *m = &e->markers[e->n_markers++];
    snprintf(m->topic, sizeof m->topic, "%.*s", (int)topic.len, topic.ptr);
    m->partition = partition;
    m->producer_id = pid;
    m->producer_epoch = epoch;
    m->coordinator_epoch = coordinator_epoch;
    m->commit = commit;
    return OD_TC_NONE;
}

static void h_free(h_env *e)
{
    for (int i = 0; i < e->n_batches; i++)
        free(e->batches[i].bytes);
    e->n_batches = 0;
}

static od_tc *h_create_cfg(h_env *e, const od_tc_config *cfg, bool reset)
{
    if (reset) {
        memset(e, 0, sizeof *e);
        e->now = 1000000;
        e->next_pid = 1000;
    }
    e->wake = -1;
    od_tc_env env = {e, h_now, h_wake, h_append, h_next_pid, h_marker_fn};
    od_tc *tc = od_tc_create(cfg, &env);
    return tc;
}

/* A coordinator owning every partition (empty) at coordinator epoch 7. */
static od_tc *h_create(h_env *e, od_tc_config *cfg_out)
{
    od_tc_config cfg;
    od_tc_config_default(&cfg);
    if (cfg_out)
        *cfg_out = cfg;
    od_tc *tc = h_create_cfg(e, &cfg, true);
    for (int32_t p = 0; tc && p < cfg.num_partitions; p++) {
        od_tc_load_begin(tc, p, 7);
        od_tc_load_finish(tc, p);
    }
    return tc;
}

/* A fresh coordinator fed every batch appended so far. */
static od_tc *h_replay(h_env *e, const od_tc_config *cfg)
{
    od_tc *tc = h_create_cfg(e, cfg, false);
    for (int32_t p = 0; p < cfg->num_partitions; p++)
        od_tc_load_begin(tc, p, 8);
    for (int i = 0; i < e->n_batches; i++)
        CHECK_EQ_INT(od_tc_load_batch(tc, e->batches[i].partition, e->batches[i].bytes,
                                      e->batches[i].len), 0);
    for (int32_t p = 0; p < cfg->num_partitions; p++)
        od_tc_load_finish(tc, p);
    return tc;
}

#define ID(s) od_str_from_cstr(s)

static od_txn_state state_of(od_tc *tc, const char *id, int16_t *epoch, int64_t *pid)
{
    od_arena arena;
    od_arena_init(&arena);
    od_tc_txn_info info;
    int16_t e = od_tc_describe(tc, ID(id), &arena, &info);
    od_arena_release(&arena);
    if (e != OD_TC_NONE)
        return OD_TXN_DEAD;
    if (epoch)
        *epoch = info.producer_epoch;
    if (pid)
        *pid = info.producer_id;
    return info.state;
}

static const od_tc_topic_partition TP[] = {{OD_STR_LIT("orders"), 0}, {OD_STR_LIT("orders"), 1},
                                           {OD_STR_LIT("audit"), 3}};

static void test_init_producer_id_bumps_epoch(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(r.error, OD_TC_NONE);
    CHECK_EQ_INT(r.producer_id, 1000);
    CHECK_EQ_INT(r.producer_epoch, 0);
    od_tc_init_result r2 = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(r2.producer_id, 1000);
    CHECK_EQ_INT(r2.producer_epoch, 1);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 0, -1, -1).error,
                 OD_TC_INVALID_TRANSACTION_TIMEOUT);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 900001, -1, -1).error,
                 OD_TC_INVALID_TRANSACTION_TIMEOUT);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID(""), 1000, -1, -1).error, OD_TC_INVALID_REQUEST);
    CHECK_EQ_INT(od_tc_count(tc), 1);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_ownership_errors(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc_config_default(&cfg);
    od_tc *tc = h_create_cfg(&e, &cfg, true);
    REQUIRE(tc);
    int32_t p = od_tc_partition_for(tc, ID("t1"));
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 1000, -1, -1).error, OD_TC_NOT_COORDINATOR);
    od_tc_load_begin(tc, p, 1);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 1000, -1, -1).error,
                 OD_TC_COORDINATOR_LOAD_IN_PROGRESS);
    od_tc_load_finish(tc, p);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 1000, -1, -1).error, OD_TC_NONE);
    od_tc_unload(tc, p);
    CHECK_EQ_INT(od_tc_count(tc), 0);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), 1000, 0, true), OD_TC_NOT_COORDINATOR);
    od_tc_destroy(tc);
    h_free(&e);
}

/* Kafka's partitionFor: abs(hashCode) % 50; "my-txn".hashCode() is
 * -1061187895 in Java (31-polynomial over the UTF-16 units). */
static void test_partition_for_matches_java(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    CHECK_EQ_INT(od_tc_partition_for(tc, ID("my-txn")), 1061187895 % 50);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_commit_writes_markers_then_completes(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true),
                 OD_TC_INVALID_TXN_STATE);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 2), OD_TC_NONE);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_ONGOING);
    int before = e.n_batches;
    /* A subset of what is in already: answered without a record. */
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1), OD_TC_NONE);
    CHECK_EQ_INT(e.n_batches, before);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP + 2, 1), OD_TC_NONE);
    CHECK_EQ_INT(e.n_batches, before + 1);

    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true), OD_TC_NONE);
    REQUIRE(e.n_markers == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(e.markers[i].commit);
        CHECK_EQ_INT(e.markers[i].producer_id, r.producer_id);
        CHECK_EQ_INT(e.markers[i].producer_epoch, r.producer_epoch);
        CHECK_EQ_INT(e.markers[i].coordinator_epoch, 7);
    }
    CHECK(strcmp(e.markers[2].topic, "audit") == 0 && e.markers[2].partition == 3);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_COMPLETE_COMMIT);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true), OD_TC_NONE);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, false),
                 OD_TC_INVALID_TXN_STATE);

    /* The next transaction on the same epoch, aborted. */
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1), OD_TC_NONE);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, false), OD_TC_NONE);
    CHECK_EQ_INT(e.n_markers, 4);
    CHECK(!e.markers[3].commit);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_COMPLETE_ABORT);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_client_checks(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("nope"), r.producer_id, 0, TP, 1),
                 OD_TC_INVALID_PRODUCER_ID_MAPPING);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id + 1, 0, TP, 1),
                 OD_TC_INVALID_PRODUCER_ID_MAPPING);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, 1, TP, 1), OD_TC_PRODUCER_FENCED);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID(""), r.producer_id, 0, TP, 1), OD_TC_INVALID_REQUEST);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, 1, true), OD_TC_PRODUCER_FENCED);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_verify_only(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1);
    int before = e.n_batches;
    int16_t errs[3];
    CHECK_EQ_INT(od_tc_verify_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 3, errs),
                 OD_TC_NONE);
    CHECK_EQ_INT(errs[0], OD_TC_NONE);
    CHECK_EQ_INT(errs[1], OD_TC_INVALID_TXN_STATE);
    CHECK_EQ_INT(errs[2], OD_TC_INVALID_TXN_STATE);
    CHECK_EQ_INT(e.n_batches, before);
    CHECK_EQ_INT(od_tc_verify_partitions(tc, ID("t1"), r.producer_id, 9, TP, 1, errs),
                 OD_TC_PRODUCER_FENCED);
    CHECK_EQ_INT(errs[0], OD_TC_PRODUCER_FENCED);
    od_tc_destroy(tc);
    h_free(&e);
}

/* A second producer with the same id aborts the first one's transaction
 * under a bumped epoch and, on retry, gets the epoch after that. */
static void test_new_producer_fences_open_transaction(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result old = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("t1"), old.producer_id, old.producer_epoch, TP, 2);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(r.error, OD_TC_CONCURRENT_TRANSACTIONS);
    REQUIRE(e.n_markers == 2);
    CHECK(!e.markers[0].commit);
    CHECK_EQ_INT(e.markers[0].producer_epoch, old.producer_epoch + 1);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_COMPLETE_ABORT);
    r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(r.error, OD_TC_NONE);
    CHECK_EQ_INT(r.producer_id, old.producer_id);
    CHECK_EQ_INT(r.producer_epoch, old.producer_epoch + 2);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), old.producer_id, old.producer_epoch, true),
                 OD_TC_PRODUCER_FENCED);
    od_tc_destroy(tc);
    h_free(&e);
}

/* KIP-360: a producer that names its id and epoch gets a bump; a retry of
 * that call (answer lost) gets the same epoch; a stale one is fenced. */
static void test_kip360_recovery(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_init_result b = od_tc_init_producer_id(tc, ID("t1"), 60000, r.producer_id, r.producer_epoch);
    CHECK_EQ_INT(b.error, OD_TC_NONE);
    CHECK_EQ_INT(b.producer_epoch, r.producer_epoch + 1);
    od_tc_init_result again = od_tc_init_producer_id(tc, ID("t1"), 60000, r.producer_id, r.producer_epoch);
    CHECK_EQ_INT(again.error, OD_TC_NONE);
    CHECK_EQ_INT(again.producer_epoch, b.producer_epoch);
    /* A fresh InitProducerId forgets the last epoch: the old one is fenced. */
    od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 60000, r.producer_id, r.producer_epoch).error,
                 OD_TC_PRODUCER_FENCED);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 60000, 77, 0).error, OD_TC_PRODUCER_FENCED);
    od_tc_destroy(tc);
    h_free(&e);
}

/* Records carry only the id and epoch; an exhausted epoch comes back from
 * the log and the next InitProducerId rotates to a new producer id. */
static void test_epoch_exhaustion_rotates_producer_id(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc *tc = h_create(&e, &cfg);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_destroy(tc);
    /* Forge the log: the same id at epoch 32766 (Short.MaxValue - 1). */
    od_writer key, value, batch;
    od_writer_init(&key, 32);
    od_writer_init(&value, 64);
    od_writer_init(&batch, 128);
    od_txn_write_key(&key, ID("t1"));
    od_transaction_log_value v;
    od_transaction_log_value_init(&v);
    v.producer_id = r.producer_id;
    v.producer_epoch = INT16_MAX - 1;
    v.transaction_timeout_ms = 60000;
    v.transaction_status = OD_TXN_COMPLETE_COMMIT;
    v.transaction_partitions = (od_transaction_log_value_partitions_schema_array){0, NULL};
    od_txn_write_value(&value, &v);
    od_builder_record rec = {e.now, {key.buf, (int32_t)key.len}, {value.buf, (int32_t)value.len}, NULL, 0};
    od_batch_params params = OD_BATCH_PARAMS_INIT;
    REQUIRE(od_batch_build(&params, &rec, 1, &batch) == OD_BATCH_OK);
    h_append(&e, e.batches[0].partition, batch.buf, batch.len);
    od_writer_free(&key);
    od_writer_free(&value);
    od_writer_free(&batch);
    tc = h_replay(&e, &cfg);
    od_tc_init_result n = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    CHECK_EQ_INT(n.error, OD_TC_NONE);
    CHECK(n.producer_id != r.producer_id);
    CHECK_EQ_INT(n.producer_epoch, 0);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_timeout_aborts_with_bumped_epoch(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc *tc = h_create(&e, &cfg);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 15000, -1, -1);
    od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1);
    e.now += 10000; /* the first check: not yet expired */
    od_tc_tick(tc);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_ONGOING);
    CHECK_EQ_INT(e.wake, e.now + cfg.abort_check_interval_ms);
    e.now += 10000;
    od_tc_tick(tc);
    int16_t epoch = -99;
    CHECK_EQ_INT(state_of(tc, "t1", &epoch, NULL), OD_TXN_COMPLETE_ABORT);
    CHECK_EQ_INT(epoch, r.producer_epoch + 1);
    REQUIRE(e.n_markers == 1);
    CHECK(!e.markers[0].commit);
    CHECK_EQ_INT(e.markers[0].producer_epoch, r.producer_epoch + 1);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true),
                 OD_TC_PRODUCER_FENCED);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_marker_failure_retried(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc *tc = h_create(&e, &cfg);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 2);
    e.fail_markers = OD_TC_NOT_LEADER_OR_FOLLOWER;
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true), OD_TC_NONE);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_PREPARE_COMMIT);
    CHECK_EQ_INT(e.wake, e.now + cfg.marker_retry_backoff_ms);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, true),
                 OD_TC_CONCURRENT_TRANSACTIONS);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("t1"), r.producer_id, r.producer_epoch, false),
                 OD_TC_INVALID_TXN_STATE);
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1),
                 OD_TC_CONCURRENT_TRANSACTIONS);
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1).error,
                 OD_TC_CONCURRENT_TRANSACTIONS);
    e.fail_markers = 0;
    e.now += cfg.marker_retry_backoff_ms;
    od_tc_tick(tc);
    CHECK_EQ_INT(state_of(tc, "t1", NULL, NULL), OD_TXN_COMPLETE_COMMIT);
    CHECK_EQ_INT(e.n_markers, 2);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_append_failure_changes_nothing(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    e.fail_appends = OD_TC_NOT_LEADER_OR_FOLLOWER;
    CHECK_EQ_INT(od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1),
                 OD_TC_NOT_COORDINATOR);
    e.fail_appends = OD_TC_NOT_ENOUGH_REPLICAS;
    CHECK_EQ_INT(od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1).error,
                 OD_TC_COORDINATOR_NOT_AVAILABLE);
    e.fail_appends = 0;
    int16_t epoch = -99;
    CHECK_EQ_INT(state_of(tc, "t1", &epoch, NULL), OD_TXN_EMPTY);
    CHECK_EQ_INT(epoch, r.producer_epoch);
    od_tc_destroy(tc);
    h_free(&e);
}

/* An Ongoing transaction survives a reload and still commits; a
 * PrepareCommit left in the log completes (markers rewritten) on load. */
static void test_reload_in_flight(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc *tc = h_create(&e, &cfg);
    REQUIRE(tc);
    od_tc_init_result a = od_tc_init_producer_id(tc, ID("open"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("open"), a.producer_id, a.producer_epoch, TP, 3);
    od_tc_init_result b = od_tc_init_producer_id(tc, ID("prep"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("prep"), b.producer_id, b.producer_epoch, TP, 2);
    e.fail_markers = OD_TC_REQUEST_TIMED_OUT;
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("prep"), b.producer_id, b.producer_epoch, true), OD_TC_NONE);
    od_tc_destroy(tc);
    e.fail_markers = 0;

    tc = h_replay(&e, &cfg);
    CHECK_EQ_INT(od_tc_count(tc), 2);
    REQUIRE(e.n_markers == 2);
    CHECK(e.markers[0].commit);
    CHECK_EQ_INT(e.markers[0].producer_id, b.producer_id);
    CHECK_EQ_INT(e.markers[0].coordinator_epoch, 8);
    CHECK_EQ_INT(state_of(tc, "prep", NULL, NULL), OD_TXN_COMPLETE_COMMIT);

    od_arena arena;
    od_arena_init(&arena);
    od_tc_txn_info info;
    CHECK_EQ_INT(od_tc_describe(tc, ID("open"), &arena, &info), OD_TC_NONE);
    CHECK_EQ_INT(info.state, OD_TXN_ONGOING);
    CHECK_EQ_INT(info.producer_id, a.producer_id);
    CHECK_EQ_INT(info.timeout_ms, 60000);
    REQUIRE(info.part_count == 3);
    CHECK(od_str_eq_cstr(info.parts[2].topic, "audit") && info.parts[2].partition == 3);
    od_arena_release(&arena);
    CHECK_EQ_INT(od_tc_end_txn(tc, ID("open"), a.producer_id, a.producer_epoch, true), OD_TC_NONE);
    CHECK_EQ_INT(e.n_markers, 5);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_expiry_tombstones_id(void)
{
    h_env e;
    od_tc_config cfg;
    od_tc *tc = h_create(&e, &cfg);
    REQUIRE(tc);
    od_tc_init_producer_id(tc, ID("idle"), 60000, -1, -1);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("busy"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("busy"), r.producer_id, r.producer_epoch, TP, 1);
    e.now += cfg.id_expiration_ms;
    /* Keep "busy" from timing out first: it is Ongoing, so never expired. */
    od_tc_tick(tc);
    e.now += cfg.remove_expired_interval_ms;
    od_tc_tick(tc);
    CHECK_EQ_INT(state_of(tc, "idle", NULL, NULL), OD_TXN_DEAD);
    CHECK(state_of(tc, "busy", NULL, NULL) != OD_TXN_DEAD);
    od_tc_destroy(tc);
    tc = h_replay(&e, &cfg);
    CHECK_EQ_INT(state_of(tc, "idle", NULL, NULL), OD_TXN_DEAD);
    CHECK(state_of(tc, "busy", NULL, NULL) != OD_TXN_DEAD);
    od_tc_destroy(tc);
    h_free(&e);
}

static void test_list_filters(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result a = od_tc_init_producer_id(tc, ID("a"), 60000, -1, -1);
    od_tc_init_producer_id(tc, ID("b"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("a"), a.producer_id, a.producer_epoch, TP, 1);
    e.now += 5000;
    od_arena arena;
    od_arena_init(&arena);
    od_tc_txn_info *out;
    int32_t n;
    int16_t err;
    REQUIRE(od_tc_list(tc, NULL, 0, NULL, 0, -1, &arena, &err, &out, &n) == 0);
    CHECK_EQ_INT(n, 2);
    od_txn_state ongoing = OD_TXN_ONGOING;
    REQUIRE(od_tc_list(tc, &ongoing, 1, NULL, 0, -1, &arena, &err, &out, &n) == 0);
    REQUIRE(n == 1);
    CHECK(od_str_eq_cstr(out[0].transactional_id, "a"));
    REQUIRE(od_tc_list(tc, NULL, 0, &a.producer_id, 1, -1, &arena, &err, &out, &n) == 0);
    CHECK_EQ_INT(n, 1);
    REQUIRE(od_tc_list(tc, &ongoing, 1, NULL, 0, 6000, &arena, &err, &out, &n) == 0);
    CHECK_EQ_INT(n, 0);
    od_txn_state s;
    CHECK(od_txn_state_from_name(OD_STR_LIT("PrepareEpochFence"), &s) && s == OD_TXN_PREPARE_EPOCH_FENCE);
    CHECK(!od_txn_state_from_name(OD_STR_LIT("ongoing"), &s));
    od_arena_release(&arena);
    od_tc_destroy(tc);
    h_free(&e);
}

/* The record layout of TransactionLogKey/Value version 0, field by field
 * from the spec: key (int16 0, string id); value (int16 0, pid int64,
 * epoch int16, timeout int32, status int8, partitions (int32 count,
 * {string topic, int32 count, int32...}), lastUpdate int64, start int64). */
static void test_record_layout(void)
{
    h_env e;
    od_tc *tc = h_create(&e, NULL);
    REQUIRE(tc);
    od_tc_init_result r = od_tc_init_producer_id(tc, ID("t1"), 60000, -1, -1);
    od_tc_add_partitions(tc, ID("t1"), r.producer_id, r.producer_epoch, TP, 1);
    h_batch *b = &e.batches[e.n_batches - 1];
    od_record_iter it;
    REQUIRE(od_record_iter_init(&it, b->bytes, b->len, 1 << 20) == OD_BATCH_OK);
    od_record rec;
    REQUIRE(od_record_iter_next(&it, &rec));
    static const uint8_t key[] = {0, 0, 0, 2, 't', '1'};
    REQUIRE(rec.key.len == (int32_t)sizeof key);
    CHECK_MEM(rec.key.ptr, key, sizeof key);
    uint8_t value[64];
    size_t n = 0;
#define PUT(v, bytes) for (int k_ = (bytes) - 1; k_ >= 0; k_--) value[n++] = (uint8_t)((uint64_t)(v) >> (8 * k_))
    PUT(0, 2);
    PUT(r.producer_id, 8);
    PUT(r.producer_epoch, 2);
    PUT(60000, 4);
    PUT(OD_TXN_ONGOING, 1);
    PUT(1, 4);
    PUT(6, 2);
    memcpy(value + n, "orders", 6);
    n += 6;
    PUT(1, 4);
    PUT(0, 4);
    PUT(e.now, 8);
    PUT(e.now, 8);
#undef PUT
    REQUIRE(rec.value.len == (int32_t)n);
    CHECK_MEM(rec.value.ptr, value, n);
    CHECK_EQ_INT(rec.timestamp, e.now);
    od_record_iter_finish(&it);
    od_tc_destroy(tc);
    h_free(&e);
}

OD_TEST_MAIN(OD_CASE(test_init_producer_id_bumps_epoch), OD_CASE(test_ownership_errors),
             OD_CASE(test_partition_for_matches_java),
             OD_CASE(test_commit_writes_markers_then_completes), OD_CASE(test_client_checks),
             OD_CASE(test_verify_only), OD_CASE(test_new_producer_fences_open_transaction),
             OD_CASE(test_kip360_recovery), OD_CASE(test_epoch_exhaustion_rotates_producer_id),
             OD_CASE(test_timeout_aborts_with_bumped_epoch), OD_CASE(test_marker_failure_retried),
             OD_CASE(test_append_failure_changes_nothing), OD_CASE(test_reload_in_flight),
             OD_CASE(test_expiry_tombstones_id), OD_CASE(test_list_filters),
             OD_CASE(test_record_layout))
