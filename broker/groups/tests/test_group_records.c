/*
 * __consumer_offsets records byte for byte (golden bytes derived by hand
 * from the group-coordinator JSON specs and the versions Kafka 3.9 writes;
 * each one also equals what Kafka 3.9.2's GroupMetadataManager serialises
 * for the same inputs: offsetCommitKey, groupMetadataKey, offsetCommitValue
 * with and without expiry, groupMetadataValue),
 * the batches the coordinator appends, and partitionFor against values
 * computed by Java's String.hashCode (JDK 17, see each constant).
 */
#include "gc_harness.h"

#include "records/records.h"

static void check_bytes(const od_writer *w, const uint8_t *want, size_t n, const char *what)
{
    CHECKF(w->err == OD_WIRE_OK && w->len == n, "%s: err %d len %zu want %zu", what, w->err, w->len, n);
    if (w->len == n)
        CHECKF(memcmp(w->buf, want, n) == 0, "%s: bytes differ", what);
}

static void test_offset_key_golden(void)
{
    /* key version 1 | group "grp" | topic "topic" | partition 3 */
    static const uint8_t want[] = {0x00, 0x01, 0x00, 0x03, 'g', 'r', 'p', 0x00, 0x05, 't',
                                   'o',  'p',  'i',  'c',  0x00, 0x00, 0x00, 0x03};
    od_writer w;
    od_writer_init(&w, 16);
    od_gc_write_offset_key(&w, OD_STR_LIT("grp"), OD_STR_LIT("topic"), 3);
    check_bytes(&w, want, sizeof want, "offset key");
    od_writer_free(&w);
}

static void test_offset_value_golden(void)
{
    /* version 3 | offset 100 | leaderEpoch 5 | metadata "meta" |
     * commitTimestamp 1700000000000 (0x0000018BCFE56800) */
    static const uint8_t v3[] = {0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x64, 0, 0, 0, 0x05, 0x00, 0x04,
                                 'm',  'e',  't', 'a', 0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00};
    od_writer w;
    od_writer_init(&w, 16);
    od_gc_write_offset_value(&w, 100, 5, OD_STR_LIT("meta"), 1700000000000LL, -1);
    check_bytes(&w, v3, sizeof v3, "offset value v3");
    od_writer_free(&w);

    /* With an expire timestamp Kafka writes version 1: offset | metadata |
     * commitTimestamp | expireTimestamp (no leader epoch). Null metadata
     * is stored as "". */
    static const uint8_t v1[] = {0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x64, 0x00, 0x00, 0, 0, 0, 0,
                                 0,    0,    0x03, 0xE8, 0, 0, 0, 0, 0, 0, 0x07, 0xD0};
    od_writer_init(&w, 16);
    od_gc_write_offset_value(&w, 100, 5, OD_STR_NULL, 1000, 2000);
    check_bytes(&w, v1, sizeof v1, "offset value v1");
    od_writer_free(&w);
}

static const uint8_t group_value_golden[] = {
    0x00, 0x03,                                           /* version 3 */
    0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',  /* protocolType */
    0x00, 0x00, 0x00, 0x01,                               /* generation */
    0x00, 0x05, 'r', 'a', 'n', 'g', 'e',                 /* protocol */
    0x00, 0x02, 'm', '1',                                 /* leader */
    0, 0, 0, 0, 0, 0, 0x03, 0xE8,                         /* currentStateTimestamp 1000 */
    0x00, 0x00, 0x00, 0x01,                               /* one member */
    0x00, 0x02, 'm', '1',                                 /*   memberId */
    0xFF, 0xFF,                                           /*   groupInstanceId null */
    0x00, 0x01, 'c',                                      /*   clientId */
    0x00, 0x02, '/', 'h',                                 /*   clientHost */
    0x00, 0x00, 0x75, 0x30,                               /*   rebalanceTimeout 30000 */
    0x00, 0x00, 0x27, 0x10,                               /*   sessionTimeout 10000 */
    0x00, 0x00, 0x00, 0x02, 0x01, 0x02,                   /*   subscription */
    0x00, 0x00, 0x00, 0x01, 0x03,                         /*   assignment */
};

static void test_group_key_and_value_golden(void)
{
    static const uint8_t key[] = {0x00, 0x02, 0x00, 0x03, 'g', 'r', 'p'};
    od_writer w;
    od_writer_init(&w, 16);
    od_gc_write_group_key(&w, OD_STR_LIT("grp"));
    check_bytes(&w, key, sizeof key, "group key");
    od_writer_free(&w);

    od_group_metadata_value_member_metadata m;
    od_group_metadata_value_member_metadata_init(&m);
    m.member_id = OD_STR_LIT("m1");
    m.client_id = OD_STR_LIT("c");
    m.client_host = OD_STR_LIT("/h");
    m.rebalance_timeout = 30000;
    m.session_timeout = 10000;
    m.subscription = (od_bytes){(const uint8_t *)"\x01\x02", 2};
    m.assignment = (od_bytes){(const uint8_t *)"\x03", 1};
    od_group_metadata_value v;
    od_group_metadata_value_init(&v);
    v.protocol_type = OD_STR_LIT("consumer");
    v.generation = 1;
    v.protocol = OD_STR_LIT("range");
    v.leader = OD_STR_LIT("m1");
    v.current_state_timestamp = 1000;
    v.members.count = 1;
    v.members.items = &m;
    od_writer_init(&w, 16);
    od_gc_write_group_value(&w, &v);
    check_bytes(&w, group_value_golden, sizeof group_value_golden, "group value v3");
    od_writer_free(&w);

    /* And back: the reader gives the same fields. */
    od_arena arena;
    od_arena_init(&arena);
    od_group_metadata_value back;
    int16_t version;
    CHECK_EQ_INT(od_gc_read_group_value((od_bytes){group_value_golden, sizeof group_value_golden},
                                        &arena, &back, &version),
                 OD_WIRE_OK);
    CHECK_EQ_INT(version, 3);
    CHECK(back.members.count == 1 && od_str_eq_cstr(back.members.items[0].client_host, "/h"));
    CHECK(back.members.count == 1 && back.members.items[0].group_instance_id.len == -1);
    od_gc_record_key k;
    CHECK_EQ_INT(od_gc_read_key((od_bytes){key, sizeof key}, &arena, &k), OD_WIRE_OK);
    CHECK_EQ_INT(k.kind, OD_GC_KEY_GROUP);
    CHECK(od_str_eq_cstr(k.group.group, "grp"));
    /* KIP-848 record keys (version 3+) are recognised as not ours. */
    static const uint8_t consumer_key[] = {0x00, 0x03, 0x00, 0x01, 'x'};
    CHECK_EQ_INT(od_gc_read_key((od_bytes){consumer_key, sizeof consumer_key}, &arena, &k), OD_WIRE_OK);
    CHECK_EQ_INT(k.kind, OD_GC_KEY_OTHER);
    od_arena_release(&arena);
}

/* Walks the records of a captured batch. */
typedef struct seen_record {
    uint8_t key[128];
    int32_t key_len;
    uint8_t value[512];
    int32_t value_len;
    int64_t timestamp;
} seen_record;

static int records_of(const h_batch *b, seen_record *out, int cap, od_batch_header *hdr)
{
    od_record_iter it;
    int n = 0;
    if (od_record_iter_init(&it, b->bytes, b->len, 1 << 20) == OD_BATCH_OK) {
        od_record r;
        while (n < cap && od_record_iter_next(&it, &r)) {
            out[n].key_len = r.key.len;
            memcpy(out[n].key, r.key.ptr, (size_t)(r.key.len > 0 ? r.key.len : 0));
            out[n].value_len = r.value.len;
            if (r.value.len > 0)
                memcpy(out[n].value, r.value.ptr, (size_t)r.value.len);
            out[n].timestamp = r.timestamp;
            n++;
        }
        *hdr = it.header;
    }
    CHECK_EQ_INT(it.err, OD_BATCH_OK);
    od_record_iter_finish(&it);
    return n;
}

/* The coordinator's appends carry exactly the golden layouts, one batch per
 * write, CreateTime at the coordinator's clock, no producer, no
 * compression. */
static void test_coordinator_batches(void)
{
    h_env e;
    od_gc *gc = h_create(&e, NULL);
    REQUIRE(gc);
    od_gc_offset_commit c[2] = {
        {OD_STR_LIT("topic"), 3, 100, 5, OD_STR_LIT("meta"), -1, -99},
        {OD_STR_LIT("topic"), 4, 7, -1, OD_STR_NULL, -1, -99},
    };
    e.now = 1700000000000LL;
    od_gc_commit_offsets(gc, OD_STR_LIT("grp"), OD_STR_LIT(""), OD_STR_NULL, -1, -1, c, 2);
    REQUIRE(e.n_batches == 1);
    CHECK_EQ_INT(e.batches[0].partition, od_gc_partition_for(gc, OD_STR_LIT("grp")));
    seen_record recs[4];
    od_batch_header hdr;
    int n = records_of(&e.batches[0], recs, 4, &hdr);
    REQUIRE(n == 2);
    CHECK_EQ_INT(hdr.magic, 2);
    CHECK_EQ_INT(hdr.attributes, 0);
    CHECK_EQ_INT(hdr.producer_id, -1);
    CHECK_EQ_INT(recs[0].timestamp, 1700000000000LL);
    static const uint8_t key[] = {0x00, 0x01, 0x00, 0x03, 'g', 'r', 'p', 0x00, 0x05, 't',
                                  'o',  'p',  'i',  'c',  0x00, 0x00, 0x00, 0x03};
    static const uint8_t val[] = {0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x64, 0, 0, 0, 0x05, 0x00, 0x04,
                                  'm',  'e',  't', 'a', 0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00};
    CHECK(recs[0].key_len == (int32_t)sizeof key && !memcmp(recs[0].key, key, sizeof key));
    CHECK(recs[0].value_len == (int32_t)sizeof val && !memcmp(recs[0].value, val, sizeof val));
    /* Second record: no epoch (-1), empty metadata. */
    CHECK_EQ_INT(recs[1].value_len, 2 + 8 + 4 + 2 + 8);
    CHECK(recs[1].value[10] == 0xFF && recs[1].value[13] == 0xFF);

    /* Deleting the (offsets-only, generation 0) group writes offset
     * tombstones and no group tombstone. */
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT("grp")), OD_GC_NONE);
    REQUIRE(e.n_batches == 2);
    n = records_of(&e.batches[1], recs, 4, &hdr);
    CHECK_EQ_INT(n, 2);
    CHECK(n == 2 && recs[0].value_len == -1 && recs[1].value_len == -1);
    CHECK(n == 2 && recs[0].key_len == (int32_t)sizeof key && !memcmp(recs[0].key, key, sizeof key));

    /* A group that had a generation gets a group tombstone as well. */
    h_join j = {0};
    h_join_req(gc, "grp", "", NULL, &j);
    h_advance(gc, &e, 3000);
    od_gc_leave_member lm = {od_str_from_cstr(j.member_id), OD_STR_NULL, OD_STR_NULL, -99};
    od_gc_leave(gc, OD_STR_LIT("grp"), &lm, 1);
    /* The Empty generation's record: no protocol, no leader, no members. */
    h_batch *last = &e.batches[e.n_batches - 1];
    n = records_of(last, recs, 4, &hdr);
    REQUIRE(n == 1);
    od_arena arena;
    od_arena_init(&arena);
    od_group_metadata_value v;
    int16_t version;
    CHECK_EQ_INT(od_gc_read_group_value((od_bytes){recs[0].value, recs[0].value_len}, &arena, &v, &version),
                 OD_WIRE_OK);
    CHECK_EQ_INT(version, 3);
    CHECK_EQ_INT(v.generation, 2);
    CHECK(v.protocol.len == -1 && v.leader.len == -1 && v.members.count == 0);
    CHECK(od_str_eq_cstr(v.protocol_type, "consumer"));
    CHECK_EQ_INT(v.current_state_timestamp, e.now);
    od_arena_release(&arena);
    int before = e.n_batches;
    CHECK_EQ_INT(od_gc_delete_group(gc, OD_STR_LIT("grp")), OD_GC_NONE);
    REQUIRE(e.n_batches == before + 1);
    n = records_of(&e.batches[before], recs, 4, &hdr);
    static const uint8_t gkey[] = {0x00, 0x02, 0x00, 0x03, 'g', 'r', 'p'};
    CHECK(n == 1 && recs[0].value_len == -1 && recs[0].key_len == (int32_t)sizeof gkey &&
          !memcmp(recs[0].key, gkey, sizeof gkey));
    od_gc_destroy(gc);
    h_env_free(&e);
}

/* Expected values from JDK 17: "s".hashCode() and
 * org.apache.kafka.common.utils.Utils.abs(h) % 50. */
static void test_partition_for_java_hash(void)
{
    static const struct {
        const char *s;
        int32_t hash;
        int32_t partition;
    } cases[] = {
        {"", 0, 0},
        {"a", 97, 47},
        {"my-group", -1906497762, 12},
        {"console-consumer-12345", 158455506, 6},
        {"group\xc3\xa9", -1237460406, 6},             /* "groupé" */
        {"\xf0\x9f\x98\x80g", 54959972, 22},          /* U+1F600 (a surrogate pair) + "g" */
        {"Aa", 2112, 12},
        {"BB", 2112, 12},
        {"polygenelubricants", INT32_MIN, 0},           /* Utils.abs(MIN_VALUE) == 0 */
        {"test-group-42", -559024281, 31},
    };
    od_gc_config cfg;
    od_gc_config_default(&cfg);
    h_env e;
    od_gc *gc = h_create(&e, &cfg);
    REQUIRE(gc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_str s = od_str_from_cstr(cases[i].s);
        CHECKF(od_java_string_hash(s) == cases[i].hash, "%s: %d", cases[i].s, od_java_string_hash(s));
        CHECKF(od_gc_partition_for(gc, s) == cases[i].partition, "%s", cases[i].s);
    }
    CHECK_EQ_INT(od_java_utf16_length(OD_STR_LIT("\xf0\x9f\x98\x80g")), 3);
    CHECK_EQ_INT(od_java_utf16_length(OD_STR_LIT("group\xc3\xa9")), 6);
    /* Malformed bytes count as one U+FFFD each maximal subpart. */
    CHECK_EQ_INT(od_java_utf16_length(OD_STR_LIT("\xff\xc3")), 2);
    CHECK_EQ_INT(od_java_string_hash(OD_STR_LIT("\xff")), 0xFFFD);
    /* new String(bytes, UTF_8): length and hashCode from JDK 17. */
    static const struct {
        const char *bytes;
        int32_t length, hash;
    } bad[] = {
        {"\xff\xc3", 2, 2097056},
        {"\xe0\x80\x41", 3, 65008801},
        {"\xed\xa0\x80", 1, 65533},
        {"\xf0\x9f\x41", 2, 2031588},
        {"\xe2\x82", 1, 65533},
        {"\xf4\x90\x80\x80", 4, 2017367872},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        od_str s = od_str_from_cstr(bad[i].bytes);
        CHECKF(od_java_utf16_length(s) == bad[i].length, "case %zu", i);
        CHECKF(od_java_string_hash(s) == bad[i].hash, "case %zu: %d", i, od_java_string_hash(s));
    }
    od_gc_destroy(gc);
    h_env_free(&e);
}

OD_TEST_MAIN(OD_CASE(test_offset_key_golden), OD_CASE(test_offset_value_golden),
             OD_CASE(test_group_key_and_value_golden), OD_CASE(test_coordinator_batches),
             OD_CASE(test_partition_for_java_hash))
