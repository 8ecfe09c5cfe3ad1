/* Applying metadata records to the image. */
#include "metadata_image.h"
#include "od_test.h"

static od_uuid uid(uint8_t b)
{
    od_uuid u;
    memset(u.bytes, 0, 16);
    u.bytes[0] = 0x40;
    u.bytes[15] = b;
    return u;
}

static od_mi_err apply_topic(od_mimage *img, const char *name, od_uuid id, int64_t off)
{
    od_topic_record t;
    od_topic_record_init(&t);
    t.name = od_str_from_cstr(name);
    t.topic_id = id;
    od_mrec r = {OD_MREC_TOPIC, 0, &t};
    return od_mimage_apply(img, &r, off, 1);
}

static od_mi_err apply_partition(od_mimage *img, od_uuid id, int32_t p, int32_t *replicas,
                                 int32_t n, int64_t off)
{
    od_partition_record pr;
    od_partition_record_init(&pr);
    pr.topic_id = id;
    pr.partition_id = p;
    pr.replicas = (od_int32_array){n, replicas};
    pr.isr = (od_int32_array){n, replicas};
    pr.leader = replicas[0];
    pr.leader_epoch = 0;
    pr.partition_epoch = 0;
    od_mrec r = {OD_MREC_PARTITION, 1, &pr};
    return od_mimage_apply(img, &r, off, 1);
}

static od_mi_err apply_config(od_mimage *img, int8_t type, const char *res, const char *key,
                              const char *value, int64_t off)
{
    od_config_record c;
    od_config_record_init(&c);
    c.resource_type = type;
    c.resource_name = od_str_from_cstr(res);
    c.name = od_str_from_cstr(key);
    c.value = value ? od_str_from_cstr(value) : OD_STR_NULL;
    od_mrec r = {OD_MREC_CONFIG, 0, &c};
    return od_mimage_apply(img, &r, off, 1);
}

static void test_topics_and_partitions(void)
{
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    int32_t reps[] = {1, 2, 3};
    CHECK_EQ_INT(apply_topic(img, "orders", uid(1), 0), OD_MI_OK);
    CHECK_EQ_INT(apply_partition(img, uid(1), 1, reps, 3, 1), OD_MI_OK);
    CHECK_EQ_INT(apply_partition(img, uid(1), 0, reps, 3, 2), OD_MI_OK);
    CHECK_EQ_INT(apply_topic(img, "orders", uid(2), 3), OD_MI_DUPLICATE_TOPIC);
    CHECK_EQ_INT(apply_topic(img, "other", uid(1), 3), OD_MI_DUPLICATE_TOPIC);
    CHECK_EQ_INT(apply_partition(img, uid(9), 0, reps, 3, 3), OD_MI_UNKNOWN_TOPIC);
    CHECK_EQ_INT(od_mimage_last_offset(img), 2); /* failed applies change nothing */
    const od_mi_topic *t = od_mimage_topic_by_name(img, "orders", 6);
    REQUIRE(t);
    CHECK(od_mimage_topic_by_id(img, &t->id) == t);
    CHECK_EQ_INT(t->partition_count, 2);
    od_uuid id1 = uid(1);
    const od_mi_partition *p = od_mimage_partition(img, &id1, 1);
    REQUIRE(p);
    CHECK_EQ_INT(p->leader, 1);
    CHECK_EQ_INT(p->replicas.count, 3);
    CHECK(od_mimage_partition(img, &id1, 2) == NULL);
    od_mimage_free(img);
}

static void test_partition_change_semantics(void)
{
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    int32_t reps[] = {1, 2, 3};
    od_uuid id = uid(1);
    REQUIRE(apply_topic(img, "t", id, 0) == OD_MI_OK);
    REQUIRE(apply_partition(img, id, 0, reps, 3, 1) == OD_MI_OK);

    /* Only the ISR: leader and epochs other than the partition epoch stay. */
    int32_t isr[] = {1, 2};
    od_partition_change_record pc;
    od_partition_change_record_init(&pc);
    pc.topic_id = id;
    pc.partition_id = 0;
    pc.isr = (od_int32_array){2, isr};
    od_mrec r = {OD_MREC_PARTITION_CHANGE, 1, &pc};
    CHECK_EQ_INT(od_mimage_apply(img, &r, 2, 1), OD_MI_OK);
    const od_mi_partition *p = od_mimage_partition(img, &id, 0);
    REQUIRE(p);
    CHECK_EQ_INT(p->isr.count, 2);
    CHECK_EQ_INT(p->replicas.count, 3);
    CHECK_EQ_INT(p->leader, 1);
    CHECK_EQ_INT(p->leader_epoch, 0);
    CHECK_EQ_INT(p->partition_epoch, 1);

    /* Leader -1: no leader, and that is a leader change (epoch bump). */
    od_partition_change_record_init(&pc);
    pc.topic_id = id;
    pc.partition_id = 0;
    pc.leader = OD_NO_LEADER;
    CHECK_EQ_INT(od_mimage_apply(img, &r, 3, 1), OD_MI_OK);
    p = od_mimage_partition(img, &id, 0);
    CHECK_EQ_INT(p->leader, -1);
    CHECK_EQ_INT(p->leader_epoch, 1);
    CHECK_EQ_INT(p->partition_epoch, 2);
    CHECK_EQ_INT(p->isr.count, 2);

    /* New leader, replicas and ELR; recovery state set. */
    int32_t nreps[] = {2, 4};
    int32_t elr[] = {4};
    od_partition_change_record_init(&pc);
    pc.topic_id = id;
    pc.partition_id = 0;
    pc.leader = 2;
    pc.replicas = (od_int32_array){2, nreps};
    pc.eligible_leader_replicas = (od_int32_array){1, elr};
    pc.leader_recovery_state = 1;
    r.version = 2;
    CHECK_EQ_INT(od_mimage_apply(img, &r, 4, 2), OD_MI_OK);
    p = od_mimage_partition(img, &id, 0);
    CHECK_EQ_INT(p->leader, 2);
    CHECK_EQ_INT(p->leader_epoch, 2);
    CHECK_EQ_INT(p->partition_epoch, 3);
    CHECK_EQ_INT(p->replicas.count, 2);
    CHECK_EQ_INT(p->replicas.ids[1], 4);
    CHECK_EQ_INT(p->elr.count, 1);
    CHECK_EQ_INT(p->last_known_elr.count, -1);
    CHECK_EQ_INT(p->leader_recovery_state, 1);
    CHECK_EQ_INT(od_mimage_last_offset(img), 4);
    CHECK_EQ_INT(od_mimage_last_epoch(img), 2);

    /* Unknown partition. */
    pc.partition_id = 5;
    CHECK_EQ_INT(od_mimage_apply(img, &r, 5, 2), OD_MI_BAD_PARTITION);
    od_mimage_free(img);
}

static void test_configs_and_topic_deletion(void)
{
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    int32_t reps[] = {1};
    od_uuid id = uid(7);
    REQUIRE(apply_topic(img, "logs", id, 0) == OD_MI_OK);
    REQUIRE(apply_partition(img, id, 0, reps, 1, 1) == OD_MI_OK);
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "retention.ms", "1000", 2), OD_MI_OK);
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "cleanup.policy", "compact", 3), OD_MI_OK);
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "retention.ms", "2000", 4), OD_MI_OK);
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_BROKER, "", "log.retention.ms", "5", 5), OD_MI_OK);
    CHECK(strcmp(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "retention.ms"), "2000") == 0);
    const od_mi_config_resource *res = od_mimage_configs(img, OD_CONFIG_RESOURCE_TOPIC, "logs");
    REQUIRE(res);
    CHECK_EQ_INT(res->count, 2);
    CHECK(strcmp(res->entries[0].name, "cleanup.policy") == 0); /* sorted */
    /* Null value deletes. */
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "cleanup.policy", NULL, 6), OD_MI_OK);
    CHECK(od_mimage_config(img, OD_CONFIG_RESOURCE_TOPIC, "logs", "cleanup.policy") == NULL);
    CHECK_EQ_INT(apply_config(img, OD_CONFIG_RESOURCE_TOPIC, "nothing", "x", NULL, 7), OD_MI_OK);
    CHECK_EQ_INT(od_mimage_config_resource_count(img), 2);

    od_remove_topic_record rt;
    od_remove_topic_record_init(&rt);
    rt.topic_id = id;
    od_mrec r = {OD_MREC_REMOVE_TOPIC, 0, &rt};
    CHECK_EQ_INT(od_mimage_apply(img, &r, 8, 1), OD_MI_OK);
    CHECK(od_mimage_topic_by_name(img, "logs", 4) == NULL);
    CHECK(od_mimage_topic_by_id(img, &id) == NULL);
    CHECK_EQ_INT(od_mimage_topic_count(img), 0);
    CHECK(od_mimage_configs(img, OD_CONFIG_RESOURCE_TOPIC, "logs") == NULL);
    CHECK(od_mimage_config(img, OD_CONFIG_RESOURCE_BROKER, "", "log.retention.ms") != NULL);
    CHECK_EQ_INT(od_mimage_apply(img, &r, 9, 1), OD_MI_UNKNOWN_TOPIC);
    /* The name is free again, with a new id. */
    CHECK_EQ_INT(apply_topic(img, "logs", uid(8), 9), OD_MI_OK);
    od_mimage_free(img);
}

static void test_brokers_features_producer_ids(void)
{
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    od_register_broker_record_broker_endpoint ep;
    od_register_broker_record_broker_endpoint_init(&ep);
    ep.name = OD_STR_LIT("PLAINTEXT");
    ep.host = OD_STR_LIT("localhost");
    ep.port = 9092;
    ep.security_protocol = 0;
    od_register_broker_record rb;
    od_register_broker_record_init(&rb);
    rb.broker_id = 1;
    rb.broker_epoch = 10;
    rb.incarnation_id = uid(3);
    rb.end_points = (od_register_broker_record_broker_endpoint_array){1, &ep};
    rb.rack = OD_STR_LIT("r1");
    rb.fenced = true;
    od_mrec r = {OD_MREC_REGISTER_BROKER, 3, &rb};
    CHECK_EQ_INT(od_mimage_apply(img, &r, 0, 1), OD_MI_OK);
    const od_mi_broker *b = od_mimage_broker(img, 1);
    REQUIRE(b);
    CHECK(b->fenced);
    CHECK(strcmp(b->rack, "r1") == 0);
    CHECK(strcmp(b->endpoints[0].host, "localhost") == 0);
    CHECK_EQ_INT(b->endpoints[0].port, 9092);

    od_unfence_broker_record uf;
    od_unfence_broker_record_init(&uf);
    uf.id = 1;
    uf.epoch = 9; /* stale epoch: ignored */
    od_mrec ur = {OD_MREC_UNFENCE_BROKER, 0, &uf};
    CHECK_EQ_INT(od_mimage_apply(img, &ur, 1, 1), OD_MI_OK);
    CHECK(od_mimage_broker(img, 1)->fenced);
    uf.epoch = 10;
    CHECK_EQ_INT(od_mimage_apply(img, &ur, 2, 1), OD_MI_OK);
    CHECK(!od_mimage_broker(img, 1)->fenced);

    od_feature_level_record f;
    od_feature_level_record_init(&f);
    f.name = OD_STR_LIT("metadata.version");
    f.feature_level = 21;
    od_mrec fr = {OD_MREC_FEATURE_LEVEL, 0, &f};
    CHECK_EQ_INT(od_mimage_apply(img, &fr, 3, 1), OD_MI_OK);
    f.name = OD_STR_LIT("group.version");
    f.feature_level = 1;
    CHECK_EQ_INT(od_mimage_apply(img, &fr, 4, 1), OD_MI_OK);
    CHECK_EQ_INT(od_mimage_feature_level(img, "metadata.version"), 21);
    CHECK_EQ_INT(od_mimage_feature_count(img), 2);
    f.feature_level = 0;
    CHECK_EQ_INT(od_mimage_apply(img, &fr, 5, 1), OD_MI_OK);
    CHECK_EQ_INT(od_mimage_feature_count(img), 1);
    CHECK_EQ_INT(od_mimage_feature_level(img, "group.version"), 0);

    od_producer_ids_record pid;
    od_producer_ids_record_init(&pid);
    pid.broker_id = 1;
    pid.broker_epoch = 10;
    pid.next_producer_id = 1000;
    od_mrec pr = {OD_MREC_PRODUCER_IDS, 0, &pid};
    CHECK_EQ_INT(od_mimage_apply(img, &pr, 6, 1), OD_MI_OK);
    CHECK_EQ_INT(od_mimage_next_producer_id(img), 1000);
    pid.next_producer_id = 999;
    CHECK_EQ_INT(od_mimage_apply(img, &pr, 7, 1), OD_MI_STALE);

    /* Clone is equal; a later change makes them differ. */
    od_mimage *c = od_mimage_clone(img);
    REQUIRE(c);
    CHECK(od_mimage_equal(img, c));
    CHECK(od_mimage_equal(c, img));
    CHECK_EQ_INT(od_mimage_apply(c, &fr, 8, 1), OD_MI_OK); /* group.version 0: no-op */
    CHECK(od_mimage_equal(img, c));
    f.feature_level = 3;
    CHECK_EQ_INT(od_mimage_apply(c, &fr, 9, 1), OD_MI_OK);
    CHECK(!od_mimage_equal(img, c));
    od_mimage_free(c);

    od_unregister_broker_record ub;
    od_unregister_broker_record_init(&ub);
    ub.broker_id = 1;
    ub.broker_epoch = 10;
    od_mrec ubr = {OD_MREC_UNREGISTER_BROKER, 0, &ub};
    CHECK_EQ_INT(od_mimage_apply(img, &ubr, 10, 1), OD_MI_OK);
    CHECK(od_mimage_broker(img, 1) == NULL);
    od_mimage_free(img);
}

/* Many topics: the hash indexes grow, and removal leaves the rest reachable. */
static void test_many_topics(void)
{
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    char name[32];
    for (int i = 0; i < 2000; i++) {
        od_uuid id = uid(0);
        memcpy(id.bytes + 4, &i, sizeof i);
        snprintf(name, sizeof name, "topic-%d", i);
        REQUIRE(apply_topic(img, name, id, i) == OD_MI_OK);
    }
    for (int i = 0; i < 2000; i += 2) {
        od_uuid id = uid(0);
        memcpy(id.bytes + 4, &i, sizeof i);
        od_remove_topic_record rt;
        od_remove_topic_record_init(&rt);
        rt.topic_id = id;
        od_mrec r = {OD_MREC_REMOVE_TOPIC, 0, &rt};
        REQUIRE(od_mimage_apply(img, &r, 2000 + i, 1) == OD_MI_OK);
    }
    CHECK_EQ_INT(od_mimage_topic_count(img), 1000);
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "topic-%d", i);
        const od_mi_topic *t = od_mimage_topic_by_name(img, name, strlen(name));
        CHECKF((t != NULL) == (i % 2 == 1), "%s", name);
    }
    od_mimage *c = od_mimage_clone(img);
    REQUIRE(c);
    CHECK(od_mimage_equal(img, c));
    od_mimage_free(c);
    od_mimage_free(img);
}

OD_TEST_MAIN(OD_CASE(test_topics_and_partitions), OD_CASE(test_partition_change_semantics),
             OD_CASE(test_configs_and_topic_deletion), OD_CASE(test_brokers_features_producer_ids),
             OD_CASE(test_many_topics))
