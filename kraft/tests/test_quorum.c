/* The quorum of one: election, quorum-state, append, commit, restart. */
#include "kr_testutil.h"
#include "od_test.h"
#include "quorum.h"

/* What Apache Kafka 3.9 wrote for node 1 after its first election. */
static const char kafka_state_epoch1[] =
    "{\"clusterId\":\"\",\"leaderId\":1,\"leaderEpoch\":1,\"votedId\":-1,\"appliedOffset\":0,"
    "\"currentVoters\":[{\"voterId\":1}],\"data_version\":0}";

static const int32_t voters1[] = {1};

static od_quorum_config config_for(const char *dir)
{
    return (od_quorum_config){
        .io = od_fio_posix(),
        .metadata_log_dir = dir,
        .node_id = 1,
        .voters = voters1,
        .voter_count = 1,
    };
}

typedef struct collected {
    int data, control, leader_changes;
    int64_t last_offset;
    int32_t last_leader;
    char names[8][32];
} collected;

static od_st_err collect(void *ctx, const od_raft_entry *e)
{
    collected *c = ctx;
    c->last_offset = e->offset;
    if (e->control) {
        c->control++;
        if (e->ctl.type == OD_KCTL_LEADER_CHANGE) {
            c->leader_changes++;
            c->last_leader = ((const od_leader_change_message *)e->ctl.msg)->leader_id;
        }
    } else {
        if (e->rec.type == OD_MREC_TOPIC && c->data < 8) {
            const od_topic_record *t = e->rec.msg;
            snprintf(c->names[c->data], 32, "%.*s", (int)t->name.len, t->name.ptr);
        }
        c->data++;
    }
    return OD_ST_OK;
}

static void test_election_state_file_and_restart(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_quorum_config cfg = config_for(dir);
    od_quorum *q;
    REQUIRE(od_quorum_open(&cfg, 1000, &q) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_role_of(q), OD_QUORUM_UNATTACHED);
    CHECK_EQ_INT(od_quorum_epoch(q), 0);
    CHECK_EQ_INT(od_quorum_append(q, NULL, 0, 1000, NULL), OD_KR_NOT_LEADER);
    REQUIRE(od_quorum_poll(q, 1000) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_role_of(q), OD_QUORUM_LEADER);
    CHECK_EQ_INT(od_quorum_epoch(q), 1);
    CHECK_EQ_INT(od_quorum_leader_id(q), 1);
    /* The LeaderChangeMessage is offset 0 and committed at once. */
    CHECK_EQ_INT(od_quorum_end_offset(q), 1);
    CHECK_EQ_INT(od_quorum_high_watermark(q), 1);

    char pdir[512];
    REQUIRE((size_t)snprintf(pdir, sizeof pdir, "%s/__cluster_metadata-0", dir) < sizeof pdir);
    char *state = kr_read_file(pdir, "quorum-state", NULL);
    REQUIRE(state);
    CHECK(strcmp(state, kafka_state_epoch1) == 0);
    free(state);
    char *epochs = kr_read_file(pdir, "leader-epoch-checkpoint", NULL);
    CHECK(epochs && strcmp(epochs, "0\n1\n1 0\n") == 0);
    free(epochs);
    char *pm = kr_read_file(pdir, "partition.metadata", NULL);
    CHECK(pm && strcmp(pm, "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n") == 0);
    free(pm);

    od_topic_record t;
    od_topic_record_init(&t);
    t.name = OD_STR_LIT("alpha");
    t.topic_id.bytes[0] = 0x42;
    od_mrec recs[1] = {{OD_MREC_TOPIC, 0, &t}};
    int64_t last = -1;
    REQUIRE(od_quorum_append(q, recs, 1, 1001, &last) == OD_KR_OK);
    CHECK_EQ_INT(last, 1);
    t.name = OD_STR_LIT("beta");
    REQUIRE(od_quorum_append(q, recs, 1, 1002, &last) == OD_KR_OK);
    CHECK_EQ_INT(last, 2);
    CHECK_EQ_INT(od_quorum_high_watermark(q), 3);

    collected c = {0};
    REQUIRE(od_quorum_read_committed(q, 0, collect, &c) == OD_KR_OK);
    CHECK_EQ_INT(c.data, 2);
    CHECK_EQ_INT(c.leader_changes, 1);
    CHECK_EQ_INT(c.last_leader, 1);
    CHECK(strcmp(c.names[0], "alpha") == 0 && strcmp(c.names[1], "beta") == 0);
    collected from2 = {0};
    REQUIRE(od_quorum_read_committed(q, 2, collect, &from2) == OD_KR_OK);
    CHECK_EQ_INT(from2.data, 1);
    CHECK(strcmp(from2.names[0], "beta") == 0);
    CHECK_EQ_INT(od_quorum_close(q, true), OD_KR_OK);

    /* Restart: a former leader resigns, then is elected at epoch 2 (as Kafka). */
    REQUIRE(od_quorum_open(&cfg, 2000, &q) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_role_of(q), OD_QUORUM_RESIGNED);
    CHECK_EQ_INT(od_quorum_epoch(q), 1);
    CHECK_EQ_INT(od_quorum_high_watermark(q), 0); /* unknown until re-elected */
    REQUIRE(od_quorum_poll(q, 2000) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_epoch(q), 2);
    CHECK_EQ_INT(od_quorum_high_watermark(q), 4);
    collected c2 = {0};
    REQUIRE(od_quorum_read_committed(q, 0, collect, &c2) == OD_KR_OK);
    CHECK_EQ_INT(c2.data, 2);
    CHECK_EQ_INT(c2.leader_changes, 2);
    CHECK_EQ_INT(c2.last_offset, 3);
    epochs = kr_read_file(pdir, "leader-epoch-checkpoint", NULL);
    CHECK(epochs && strcmp(epochs, "0\n2\n1 0\n2 3\n") == 0);
    free(epochs);
    CHECK_EQ_INT(od_quorum_close(q, false), OD_KR_OK);
    kr_rmtree(dir);
}

static void test_state_file_parsing(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_election_state st;
    bool found = true;
    CHECK_EQ_INT(od_quorum_state_read(io, dir, &st, &found), OD_KR_OK);
    CHECK(!found);

    kr_write_file(dir, "quorum-state", kafka_state_epoch1);
    REQUIRE(od_quorum_state_read(io, dir, &st, &found) == OD_KR_OK);
    CHECK(found);
    CHECK_EQ_INT(st.leader_id, 1);
    CHECK_EQ_INT(st.epoch, 1);
    CHECK_EQ_INT(st.voted_id, -1);
    CHECK_EQ_INT(st.voter_count, 1);
    CHECK_EQ_INT(st.voters[0], 1);

    /* data_version 1 (kraft.version 1): no voters, a voted directory id. */
    kr_write_file(dir, "quorum-state",
                  "{\"leaderId\":-1,\"leaderEpoch\":2,\"votedId\":1,\"votedDirectoryId\":"
                  "\"J8aAPcfLQt2bqs1JT_rMgQ\",\"data_version\":1}\n");
    REQUIRE(od_quorum_state_read(io, dir, &st, &found) == OD_KR_OK);
    CHECK_EQ_INT(st.epoch, 2);
    CHECK_EQ_INT(st.voted_id, 1);
    CHECK_EQ_INT(st.leader_id, -1);
    CHECK_EQ_INT(st.voter_count, 0);

    static const char *bad[] = {
        "", "{", "{}", "{\"leaderEpoch\":1}",
        "{\"leaderEpoch\":1,\"data_version\":7}",
        "{\"leaderEpoch\":x,\"data_version\":0}",
        "{\"leaderEpoch\":1,\"data_version\":0} trailing",
        "{\"leaderEpoch\":99999999999,\"data_version\":0}",
        "{\"leaderEpoch\":1,\"currentVoters\":[{\"x\":1}],\"data_version\":0}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kr_write_file(dir, "quorum-state", bad[i]);
        CHECKF(od_quorum_state_read(io, dir, &st, &found) == OD_KR_CORRUPT, "%s", bad[i]);
    }

    /* Round trip through our writer. */
    od_election_state w = {.leader_id = 3, .epoch = 9, .voted_id = 3, .voter_count = 3,
                           .voters = {1, 2, 3}};
    REQUIRE(od_quorum_state_write(io, dir, &w) == OD_KR_OK);
    char *text = kr_read_file(dir, "quorum-state", NULL);
    CHECK(text && strcmp(text, "{\"clusterId\":\"\",\"leaderId\":3,\"leaderEpoch\":9,\"votedId\":3,"
                               "\"appliedOffset\":0,\"currentVoters\":[{\"voterId\":1},"
                               "{\"voterId\":2},{\"voterId\":3}],\"data_version\":0}") == 0);
    free(text);
    REQUIRE(od_quorum_state_read(io, dir, &st, &found) == OD_KR_OK);
    CHECK_EQ_INT(st.voter_count, 3);
    CHECK_EQ_INT(st.voters[2], 3);
    kr_rmtree(dir);
}

/* With three voters nothing is elected yet (no network), and nothing breaks. */
static void test_multi_voter_waits(void)
{
    char dir[256];
    kr_tmpdir(dir);
    static const int32_t voters3[] = {1, 2, 3};
    od_quorum_config cfg = config_for(dir);
    cfg.voters = voters3;
    cfg.voter_count = 3;
    od_quorum *q;
    REQUIRE(od_quorum_open(&cfg, 1000, &q) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_poll(q, 1000), OD_KR_UNSUPPORTED);
    CHECK_EQ_INT(od_quorum_role_of(q), OD_QUORUM_UNATTACHED);
    CHECK_EQ_INT(od_quorum_close(q, true), OD_KR_OK);
    kr_rmtree(dir);
}

/* A sole voter's quorum on a fault-injecting file interface (transparent
 * until armed), elected Leader; *cfg keeps the configuration for reopens.
 * NULL when it did not open or elect. */
static od_quorum *open_faultable_leader(const char *dir, od_fio_fault *f, od_quorum_config *cfg)
{
    od_fio_fault_init(f, od_fio_posix());
    *cfg = config_for(dir);
    cfg->io = &f->io;
    od_quorum *q;
    if (od_quorum_open(cfg, 1000, &q) != OD_KR_OK)
        return NULL;
    if (od_quorum_poll(q, 1000) != OD_KR_OK) {
        od_quorum_close(q, false);
        return NULL;
    }
    return q;
}

static od_mrec no_op(od_no_op_record *n)
{
    od_no_op_record_init(n);
    return (od_mrec){OD_MREC_NO_OP, 0, n};
}

/* A failed fsync during an append leaves the quorum Failed (sticky). */
static void test_storage_error_is_sticky(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio_fault f;
    od_quorum_config cfg;
    od_quorum *q = open_faultable_leader(dir, &f, &cfg);
    REQUIRE(q != NULL);
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = 5;
    f.fail_after = 0;
    od_no_op_record n;
    od_mrec recs[1] = {no_op(&n)};
    CHECK_EQ_INT(od_quorum_append(q, recs, 1, 1001, NULL), OD_KR_IO);
    CHECK(od_quorum_storage_err(q) != OD_ST_OK);
    od_fio_fault_clear(&f);
    CHECK_EQ_INT(od_quorum_append(q, recs, 1, 1002, NULL), OD_KR_FAILED);
    CHECK_EQ_INT(od_quorum_high_watermark(q), 1); /* the failed append never committed */
    od_quorum_close(q, false);
    kr_rmtree(dir);
}

/* Batches a crashed run appended without their fsync are recovered from
 * the page cache at the next open, which syncs them before the quorum may
 * count them; an open whose sync fails does not open (invariant 2). */
static void test_open_syncs_an_unsynced_tail(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio_fault f;
    od_quorum_config cfg;
    od_quorum *q = open_faultable_leader(dir, &f, &cfg);
    REQUIRE(q != NULL);
    od_no_op_record n;
    od_mrec recs[1] = {no_op(&n)};
    REQUIRE(od_quorum_append(q, recs, 1, 1001, NULL) == OD_KR_OK);
    int64_t synced_end = od_quorum_high_watermark(q);
    REQUIRE(od_quorum_append_unsynced(q, recs, 1, 1002, NULL) == OD_KR_OK);
    REQUIRE(od_quorum_append_unsynced(q, recs, 1, 1003, NULL) == OD_KR_OK);
    CHECK_EQ_INT(od_quorum_high_watermark(q), synced_end); /* nothing unsynced counted */
    int64_t crashed_end = od_quorum_end_offset(q);
    CHECK_EQ_INT(crashed_end, synced_end + 2);
    od_quorum_close(q, false); /* the crash: no flush */

    /* The reopen cannot sync: it fails instead of taking the tail as durable. */
    od_fio_fault_init(&f, od_fio_posix());
    f.fail_ops = OD_FIO_OP_FSYNC;
    f.fail_errno = 5;
    f.fail_after = 0;
    CHECK(od_quorum_open(&cfg, 2000, &q) != OD_KR_OK);

    od_fio_fault_init(&f, od_fio_posix());
    REQUIRE(od_quorum_open(&cfg, 3000, &q) == OD_KR_OK);
    CHECK(f.fsyncs >= 3); /* the segment, its directory, the log dir */
    CHECK_EQ_INT(od_quorum_end_offset(q), crashed_end);
    REQUIRE(od_quorum_poll(q, 3000) == OD_KR_OK);
    /* Elected again, the leader counts the recovered batches as its own
     * flushed end: they commit with its first append of the new epoch. */
    REQUIRE(od_quorum_append(q, recs, 1, 3001, NULL) == OD_KR_OK);
    CHECK(od_quorum_end_offset(q) > crashed_end);
    CHECK_EQ_INT(od_quorum_high_watermark(q), od_quorum_end_offset(q));
    CHECK_EQ_INT(od_quorum_close(q, true), OD_KR_OK);
    kr_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_election_state_file_and_restart), OD_CASE(test_state_file_parsing),
             OD_CASE(test_multi_voter_waits), OD_CASE(test_storage_error_is_sticky),
             OD_CASE(test_open_syncs_an_unsynced_tail))
