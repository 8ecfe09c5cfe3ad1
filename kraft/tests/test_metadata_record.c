/* Framing of metadata records and KRaft control records. */
#include "metadata_record.h"
#include "od_test.h"

static const uint8_t topic_id_bytes[16] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x46, 0x17,
                                           0x98, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};

/* TopicRecord v0 {name "foo", id above}, framed: frame 1, type 2, version 0. */
static const uint8_t golden_topic[] = {0x01, 0x02, 0x00, 0x04, 'f',  'o',  'o',  0x10, 0x11,
                                       0x12, 0x13, 0x14, 0x15, 0x46, 0x17, 0x98, 0x19, 0x1a,
                                       0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00};

static void test_golden_topic_record(void)
{
    od_topic_record t;
    od_topic_record_init(&t);
    t.name = OD_STR_LIT("foo");
    memcpy(t.topic_id.bytes, topic_id_bytes, 16);
    od_mrec rec = {OD_MREC_TOPIC, 0, &t};
    od_writer w;
    od_writer_init(&w, 16);
    REQUIRE(od_mrec_encode(&rec, &w) == OD_WIRE_OK);
    CHECK_EQ_INT(w.len, sizeof golden_topic);
    CHECK_EQ_INT(od_mrec_size(&rec), sizeof golden_topic);
    CHECK(w.len == sizeof golden_topic && memcmp(w.buf, golden_topic, w.len) == 0);
    od_writer_free(&w);

    od_arena a;
    od_arena_init(&a);
    od_mrec out;
    REQUIRE(od_mrec_decode(golden_topic, sizeof golden_topic, &a, &out) == OD_WIRE_OK);
    CHECK_EQ_INT(out.type, OD_MREC_TOPIC);
    CHECK_EQ_INT(out.version, 0);
    const od_topic_record *d = out.msg;
    CHECK(od_str_eq_cstr(d->name, "foo"));
    CHECK_MEM(d->topic_id.bytes, topic_id_bytes, 16);
    od_arena_release(&a);
}

static void test_decode_rejects_bad_frames(void)
{
    od_arena a;
    od_arena_init(&a);
    od_mrec out;
    uint8_t buf[sizeof golden_topic + 1];
    memcpy(buf, golden_topic, sizeof golden_topic);
    buf[0] = 0; /* frame version 0 */
    CHECK_EQ_INT(od_mrec_decode(buf, sizeof golden_topic, &a, &out), OD_WIRE_MALFORMED);
    buf[0] = 2;
    CHECK_EQ_INT(od_mrec_decode(buf, sizeof golden_topic, &a, &out), OD_WIRE_MALFORMED);
    memcpy(buf, golden_topic, sizeof golden_topic);
    buf[sizeof golden_topic] = 0; /* trailing byte */
    CHECK_EQ_INT(od_mrec_decode(buf, sizeof buf, &a, &out), OD_WIRE_MALFORMED);
    buf[1] = 13; /* a retired type */
    CHECK_EQ_INT(od_mrec_decode(buf, sizeof golden_topic, &a, &out), OD_WIRE_UNSUPPORTED_VERSION);
    memcpy(buf, golden_topic, sizeof golden_topic);
    buf[2] = 9; /* TopicRecord has only v0 */
    CHECK_EQ_INT(od_mrec_decode(buf, sizeof golden_topic, &a, &out), OD_WIRE_UNSUPPORTED_VERSION);
    for (size_t n = 0; n < sizeof golden_topic; n++)
        CHECK(od_mrec_decode(golden_topic, n, &a, &out) != OD_WIRE_OK);
    od_arena_release(&a);
}

/* Every known metadata record type round-trips at every version through
 * its default-initialised message. */
static void test_every_type_round_trips(void)
{
    int types = 0;
    for (int16_t type = 0; type < OD_MREC_TYPE_LIMIT; type++) {
        const od_message_desc *d = od_mrec_desc(type);
        if (!d)
            continue;
        types++;
        CHECK_EQ_INT(d->api_key, type);
        CHECK(d->kind == OD_MESSAGE_METADATA);
        for (int16_t v = d->min_version; v <= d->max_version; v++) {
            od_arena a;
            od_arena_init(&a);
            void *m = od_arena_alloc(&a, d->struct_size);
            d->init(m);
            od_mrec rec = {type, v, m};
            od_writer w;
            od_writer_init(&w, 16);
            CHECKF(od_mrec_encode(&rec, &w) == OD_WIRE_OK, "%s v%d", d->name, v);
            CHECK_EQ_INT(w.len, od_mrec_size(&rec));
            od_mrec out;
            CHECKF(od_mrec_decode(w.buf, w.len, &a, &out) == OD_WIRE_OK, "%s v%d", d->name, v);
            CHECK_EQ_INT(out.type, type);
            CHECK_EQ_INT(out.version, v);
            od_writer w2;
            od_writer_init(&w2, 16);
            CHECK(od_mrec_encode(&out, &w2) == OD_WIRE_OK);
            CHECK(w2.len == w.len && memcmp(w.buf, w2.buf, w.len) == 0);
            od_writer_free(&w2);
            od_writer_free(&w);
            od_arena_release(&a);
        }
    }
    CHECK(types >= 25); /* every metadata/ spec; the remote-storage ones are not types */
    CHECK(strcmp(od_mrec_desc(OD_MREC_REGISTER_BROKER)->name, "RegisterBrokerRecord") == 0);
    CHECK(strcmp(od_mrec_desc(OD_MREC_PARTITION)->name, "PartitionRecord") == 0);
}

static void test_partition_change_round_trip(void)
{
    int32_t isr[] = {1, 2};
    od_partition_change_record pc;
    od_partition_change_record_init(&pc);
    pc.partition_id = 3;
    memcpy(pc.topic_id.bytes, topic_id_bytes, 16);
    pc.isr = (od_int32_array){2, isr};
    pc.leader = 2;
    od_mrec rec = {OD_MREC_PARTITION_CHANGE, 1, &pc};
    od_writer w;
    od_writer_init(&w, 16);
    REQUIRE(od_mrec_encode(&rec, &w) == OD_WIRE_OK);
    od_arena a;
    od_arena_init(&a);
    od_mrec out;
    REQUIRE(od_mrec_decode(w.buf, w.len, &a, &out) == OD_WIRE_OK);
    const od_partition_change_record *d = out.msg;
    CHECK_EQ_INT(d->partition_id, 3);
    CHECK_EQ_INT(d->leader, 2);
    CHECK_EQ_INT(d->isr.count, 2);
    CHECK_EQ_INT(d->replicas.count, -1); /* absent tagged field: null, i.e. unchanged */
    CHECK_EQ_INT(d->leader_recovery_state, -1);
    od_arena_release(&a);
    od_writer_free(&w);
}

/* Key 0,2 and LeaderChangeMessage v0 {version 0, leader 1, voters [1], granting [1]}. */
static const uint8_t golden_lcm_value[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
                                           0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
                                           0x00, 0x00, 0x01, 0x00, 0x00};

static void test_leader_change_control_batch(void)
{
    od_leader_change_message_voter v;
    od_leader_change_message_voter_init(&v);
    v.voter_id = 1;
    od_leader_change_message m;
    od_leader_change_message_init(&m);
    m.leader_id = 1;
    m.voters = (od_leader_change_message_voter_array){1, &v};
    m.granting_voters = (od_leader_change_message_voter_array){1, &v};
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.base_offset = 7;
    p.partition_leader_epoch = 3;
    od_kctl ctl = {OD_KCTL_LEADER_CHANGE, &m};
    od_writer w;
    od_writer_init(&w, 64);
    REQUIRE(od_kctl_batch_build(&p, &ctl, 1234, &w) == OD_BATCH_OK);

    od_batch_header h;
    REQUIRE(od_batch_validate(w.buf, w.len, &h) == OD_BATCH_OK);
    CHECK(od_batch_is_control(&h));
    CHECK(!od_batch_is_transactional(&h));
    CHECK_EQ_INT(h.producer_id, -1);
    CHECK_EQ_INT(h.partition_leader_epoch, 3);
    CHECK_EQ_INT(h.base_offset, 7);
    CHECK_EQ_INT(h.record_count, 1);

    od_record_iter it;
    REQUIRE(od_record_iter_init(&it, w.buf, w.len, 1 << 20) == OD_BATCH_OK);
    od_record rec;
    REQUIRE(od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(rec.key.len, 4);
    CHECK(rec.key.len == 4 && memcmp(rec.key.ptr, "\0\0\0\2", 4) == 0);
    CHECK_EQ_INT(rec.value.len, sizeof golden_lcm_value);
    CHECK(rec.value.len == (int32_t)sizeof golden_lcm_value &&
          memcmp(rec.value.ptr, golden_lcm_value, sizeof golden_lcm_value) == 0);
    od_arena a;
    od_arena_init(&a);
    od_kctl out;
    REQUIRE(od_kctl_decode(&rec, &a, &out) == OD_WIRE_OK);
    CHECK_EQ_INT(out.type, OD_KCTL_LEADER_CHANGE);
    const od_leader_change_message *d = out.msg;
    REQUIRE(d != NULL);
    CHECK_EQ_INT(d->leader_id, 1);
    CHECK_EQ_INT(d->voters.count, 1);
    CHECK(!od_record_iter_next(&it, &rec));
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_record_iter_finish(&it);
    od_arena_release(&a);
    od_writer_free(&w);
}

static void test_data_batch_of_records(void)
{
    od_topic_record t;
    od_topic_record_init(&t);
    t.name = OD_STR_LIT("foo");
    memcpy(t.topic_id.bytes, topic_id_bytes, 16);
    od_feature_level_record f;
    od_feature_level_record_init(&f);
    f.name = OD_STR_LIT("metadata.version");
    f.feature_level = 21;
    od_mrec recs[] = {{OD_MREC_TOPIC, 0, &t}, {OD_MREC_FEATURE_LEVEL, 0, &f}};
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = 5;
    od_writer w;
    od_writer_init(&w, 64);
    REQUIRE(od_mrec_batch_build(&p, recs, 2, 99, &w) == OD_BATCH_OK);
    od_record_iter it;
    REQUIRE(od_record_iter_init(&it, w.buf, w.len, 1 << 20) == OD_BATCH_OK);
    CHECK(!od_batch_is_control(&it.header));
    CHECK_EQ_INT(it.header.partition_leader_epoch, 5);
    od_record rec;
    int n = 0;
    od_arena a;
    od_arena_init(&a);
    while (od_record_iter_next(&it, &rec)) {
        CHECK_EQ_INT(rec.key.len, -1);
        od_mrec out;
        REQUIRE(od_mrec_decode(rec.value.ptr, (size_t)rec.value.len, &a, &out) == OD_WIRE_OK);
        CHECK_EQ_INT(out.type, recs[n].type);
        n++;
    }
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    CHECK_EQ_INT(n, 2);
    od_record_iter_finish(&it);
    od_arena_release(&a);
    od_writer_free(&w);
    od_writer w2;
    od_writer_init(&w2, 16);
    CHECK_EQ_INT(od_mrec_batch_build(&p, recs, 0, 99, &w2), OD_BATCH_INVALID_RECORD);
    od_writer_free(&w2);
}

OD_TEST_MAIN(OD_CASE(test_golden_topic_record), OD_CASE(test_decode_rejects_bad_frames),
             OD_CASE(test_every_type_round_trips), OD_CASE(test_partition_change_round_trip),
             OD_CASE(test_leader_change_control_batch), OD_CASE(test_data_batch_of_records))
