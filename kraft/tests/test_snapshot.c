/* Snapshots: round trip of every image field, controller restart from a
 * snapshot, and refusal of damaged files. */
#include "controller.h"
#include "kr_testutil.h"
#include "od_test.h"
#include "snapshot.h"

static const int32_t voters1[] = {1};

static od_controller_config config_for(const char *dir)
{
    return (od_controller_config){
        .io = od_fio_posix(),
        .metadata_log_dir = dir,
        .node_id = 1,
        .voters = voters1,
        .voter_count = 1,
    };
}

static void apply_ok(od_mimage *img, int16_t type, int16_t version, const void *msg, int64_t off)
{
    od_mrec r = {type, version, msg};
    od_mi_err err = od_mimage_apply(img, &r, off, 3);
    CHECKF(err == OD_MI_OK, "type %d: %s", type, od_mi_err_name(err));
}

/* An image with a bit of everything, ELR and directories included. */
static od_mimage *rich_image(void)
{
    od_mimage *img = od_mimage_new();
    od_feature_level_record f;
    od_feature_level_record_init(&f);
    f.name = OD_STR_LIT("group.version");
    f.feature_level = 1;
    apply_ok(img, OD_MREC_FEATURE_LEVEL, 0, &f, 0);
    f.name = OD_STR_LIT("metadata.version");
    f.feature_level = 21;
    apply_ok(img, OD_MREC_FEATURE_LEVEL, 0, &f, 1);

    od_register_broker_record_broker_endpoint ep;
    od_register_broker_record_broker_endpoint_init(&ep);
    ep.name = OD_STR_LIT("PLAINTEXT");
    ep.host = OD_STR_LIT("h1");
    ep.port = 9092;
    od_register_broker_record_broker_feature bf;
    od_register_broker_record_broker_feature_init(&bf);
    bf.name = OD_STR_LIT("metadata.version");
    bf.min_supported_version = 1;
    bf.max_supported_version = 21;
    od_uuid dir = {{9, 9, 9}};
    od_register_broker_record rb;
    od_register_broker_record_init(&rb);
    rb.broker_id = 1;
    rb.broker_epoch = 7;
    rb.incarnation_id.bytes[3] = 3;
    rb.end_points = (od_register_broker_record_broker_endpoint_array){1, &ep};
    rb.features = (od_register_broker_record_broker_feature_array){1, &bf};
    rb.rack = OD_STR_LIT("rack-a");
    rb.fenced = false;
    rb.in_controlled_shutdown = true;
    rb.log_dirs = (od_uuid_array){1, &dir};
    apply_ok(img, OD_MREC_REGISTER_BROKER, 3, &rb, 2);

    od_topic_record t;
    od_topic_record_init(&t);
    t.name = OD_STR_LIT("t1");
    t.topic_id.bytes[0] = 0x41;
    apply_ok(img, OD_MREC_TOPIC, 0, &t, 3);
    int32_t reps[] = {1, 2, 3}, isr[] = {1}, elr[] = {2};
    od_uuid dirs[3] = {{{1}}, {{2}}, {{3}}};
    od_partition_record p;
    od_partition_record_init(&p);
    p.topic_id = t.topic_id;
    p.replicas = (od_int32_array){3, reps};
    p.isr = (od_int32_array){1, isr};
    p.leader = 1;
    p.leader_epoch = 4;
    p.partition_epoch = 9;
    p.directories = (od_uuid_array){3, dirs};
    p.eligible_leader_replicas = (od_int32_array){1, elr};
    for (int32_t i = 0; i < 3; i++) {
        p.partition_id = i == 2 ? 7 : i; /* a gap: ids 0, 1, 7 */
        apply_ok(img, OD_MREC_PARTITION, 2, &p, 4 + i);
    }
    od_config_record c;
    od_config_record_init(&c);
    c.resource_type = OD_CONFIG_RESOURCE_TOPIC;
    c.resource_name = OD_STR_LIT("t1");
    c.name = OD_STR_LIT("retention.ms");
    c.value = OD_STR_LIT("5");
    apply_ok(img, OD_MREC_CONFIG, 0, &c, 10);
    c.resource_type = OD_CONFIG_RESOURCE_BROKER;
    c.resource_name = OD_STR_LIT("");
    c.name = OD_STR_LIT("log.cleaner.threads");
    apply_ok(img, OD_MREC_CONFIG, 0, &c, 11);
    od_producer_ids_record pid;
    od_producer_ids_record_init(&pid);
    pid.next_producer_id = 5000;
    apply_ok(img, OD_MREC_PRODUCER_IDS, 0, &pid, 12);
    return img;
}

static void test_round_trip_of_every_field(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_mimage *img = rich_image();
    REQUIRE(img);
    od_snapshot_id id = {13, 3};
    REQUIRE(od_snapshot_write(od_fio_posix(), dir, img, id, 100, 200) == OD_KR_OK);
    char name[64];
    od_snapshot_file_name(id, name);
    CHECK(strcmp(name, "00000000000000000013-0000000003.checkpoint") == 0);
    kr_write_file(dir, "00000000000000000099-0000000003.checkpoint.part", "junk");
    kr_write_file(dir, "not-a-snapshot.checkpoint", "junk");
    od_snapshot_id latest;
    bool found = false;
    REQUIRE(od_snapshot_latest(od_fio_posix(), dir, &latest, &found) == OD_KR_OK);
    CHECK(found);
    CHECK_EQ_INT(latest.end_offset, 13);
    CHECK_EQ_INT(latest.epoch, 3);
    od_mimage *back = od_mimage_new();
    REQUIRE(od_snapshot_load(od_fio_posix(), dir, id, back) == OD_KR_OK);
    CHECK(od_mimage_equal(img, back));
    CHECK_EQ_INT(od_mimage_last_offset(back), 12);
    CHECK_EQ_INT(od_mimage_last_epoch(back), 3);
    const od_mi_topic *t = od_mimage_topic_by_name(back, "t1", 2);
    REQUIRE(t);
    CHECK(od_mi_topic_partition(t, 7) != NULL);
    CHECK(od_mi_topic_partition(t, 2) == NULL);
    od_mimage_free(back);

    /* A torn snapshot (footer missing) is refused. */
    char path[512];
    REQUIRE((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path);
    size_t len = 0;
    char *bytes = kr_read_file(dir, name, &len);
    REQUIRE(bytes);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fwrite(bytes, 1, len - 20, f);
    fclose(f);
    back = od_mimage_new();
    CHECK_EQ_INT(od_snapshot_load(od_fio_posix(), dir, id, back), OD_KR_CORRUPT);
    od_mimage_free(back);
    /* Header batch only: no footer. */
    f = fopen(path, "wb");
    fwrite(bytes, 1, 12 + 0x47, f); /* the header batch is 83 bytes, as in Kafka's files */
    fclose(f);
    back = od_mimage_new();
    CHECK_EQ_INT(od_snapshot_load(od_fio_posix(), dir, id, back), OD_KR_CORRUPT);
    od_mimage_free(back);
    free(bytes);
    od_mimage_free(img);
    kr_rmtree(dir);
}

static void test_controller_restarts_from_snapshot(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_controller_config cfg = config_for(dir);
    od_controller *c;
    REQUIRE(od_controller_open(&cfg, 1000, &c) == OD_KR_OK);
    od_arena a;
    od_arena_init(&a);
    od_broker_registration_request_feature f;
    od_broker_registration_request_feature_init(&f);
    f.name = OD_STR_LIT("metadata.version");
    f.min_supported_version = 1;
    f.max_supported_version = 21;
    od_broker_registration_request req;
    od_broker_registration_request_init(&req);
    req.broker_id = 1;
    req.features = (od_broker_registration_request_feature_array){1, &f};
    od_ctl_status st;
    int64_t epoch;
    REQUIRE(od_controller_register_broker(c, &req, 1000, &a, &st, &epoch) == OD_KR_OK);
    REQUIRE(od_controller_unfence_broker(c, 1, epoch, 1000, &a, &st) == OD_KR_OK);
    od_create_topics_request_creatable_topic t;
    od_create_topics_request_creatable_topic_init(&t);
    t.name = OD_STR_LIT("before");
    t.num_partitions = 2;
    t.replication_factor = 1;
    od_create_topics_request ct;
    od_create_topics_request_init(&ct);
    ct.topics = (od_create_topics_request_creatable_topic_array){1, &t};
    od_ctl_topic_result *res;
    REQUIRE(od_controller_create_topics(c, &ct, 1000, &a, &res) == OD_KR_OK);
    REQUIRE(res[0].status.error_code == 0);
    od_snapshot_id id;
    REQUIRE(od_controller_snapshot(c, 1500, &id) == OD_KR_OK);
    CHECK_EQ_INT(id.end_offset, od_quorum_end_offset(od_controller_quorum(c)));
    od_mimage *at_snapshot = od_mimage_clone(od_controller_image(c));
    REQUIRE(at_snapshot);
    t.name = OD_STR_LIT("after");
    REQUIRE(od_controller_create_topics(c, &ct, 2000, &a, &res) == OD_KR_OK);
    od_mimage *before = od_mimage_clone(od_controller_image(c));
    REQUIRE(od_controller_close(c, true) == OD_KR_OK);

    REQUIRE(od_controller_open(&cfg, 3000, &c) == OD_KR_OK);
    CHECK(od_mimage_equal(before, od_controller_image(c)));
    od_controller_close(c, true);

    /* Prove the snapshot is what is read: replace it by one holding an
     * extra topic the log never had. */
    od_mimage *doctored = at_snapshot;
    od_topic_record extra;
    od_topic_record_init(&extra);
    extra.name = OD_STR_LIT("only-in-snapshot");
    extra.topic_id.bytes[0] = 0x77;
    od_mrec r = {OD_MREC_TOPIC, 0, &extra};
    REQUIRE(od_mimage_apply(doctored, &r, 0, 0) == OD_MI_OK);
    char pdir[512];
    REQUIRE((size_t)snprintf(pdir, sizeof pdir, "%s/__cluster_metadata-0", dir) < sizeof pdir);
    REQUIRE(od_snapshot_write(od_fio_posix(), pdir, doctored, id, 0, 0) == OD_KR_OK);
    od_kr_err oerr = od_controller_open(&cfg, 4000, &c);
    CHECKF(oerr == OD_KR_OK, "%s", od_kr_err_name(oerr));
    REQUIRE(oerr == OD_KR_OK);
    CHECK(od_mimage_topic_by_name(od_controller_image(c), "only-in-snapshot", 16) != NULL);
    CHECK(od_mimage_topic_by_name(od_controller_image(c), "after", 5) != NULL);
    od_controller_close(c, true);
    od_mimage *replayed = od_mimage_new();
    CHECK_EQ_INT(od_metadata_replay_dir(od_fio_posix(), dir, 5000, replayed), OD_KR_OK);
    CHECK(od_mimage_topic_by_name(replayed, "only-in-snapshot", 16) != NULL);
    od_mimage_free(replayed);

    /* A snapshot past the log's end is refused. */
    od_snapshot_id far = {1000000, 9};
    REQUIRE(od_snapshot_write(od_fio_posix(), pdir, doctored, far, 0, 0) == OD_KR_OK);
    CHECK_EQ_INT(od_controller_open(&cfg, 5000, &c), OD_KR_CORRUPT);
    od_mimage_free(doctored);
    od_mimage_free(before);
    od_arena_release(&a);
    kr_rmtree(dir);
}

OD_TEST_MAIN(OD_CASE(test_round_trip_of_every_field), OD_CASE(test_controller_restarts_from_snapshot))
