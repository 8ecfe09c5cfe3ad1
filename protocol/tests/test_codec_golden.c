/*
 * Byte vectors written by hand from the Kafka protocol guide: each is decoded
 * and checked field by field, then the decoded message is re-encoded and
 * compared with the vector.
 */
#include <string.h>

#include "od_messages.h"
#include "od_test.h"

#define DECODE_EXACT(fn, msg, bytes, version, arena)                                 \
    do {                                                                             \
        od_reader r_;                                                                \
        od_reader_init(&r_, (bytes), sizeof(bytes), (arena));                        \
        CHECK_EQ_INT(fn##_decode((msg), &r_, (version)), OD_WIRE_OK);                \
        CHECK_EQ_INT(od_reader_remaining(&r_), 0);                                   \
    } while (0)

#define ENCODE_EQUALS(fn, msg, bytes, version)                                       \
    do {                                                                             \
        od_writer w_;                                                                \
        od_writer_init(&w_, 0);                                                      \
        CHECK_EQ_INT(fn##_encode((msg), &w_, (version)), OD_WIRE_OK);                \
        CHECK_EQ_INT(fn##_size((msg), (version)), sizeof(bytes));                    \
        CHECK_EQ_INT(w_.len, sizeof(bytes));                                         \
        if (w_.len == sizeof(bytes))                                                 \
            CHECK_MEM(w_.buf, (bytes), sizeof(bytes));                               \
        od_writer_free(&w_);                                                         \
    } while (0)

static void request_header_v1_has_a_classic_client_id(void)
{
    /* Metadata v1, correlation id 7, client id "abc". */
    static const uint8_t v1[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07,
                                 0x00, 0x03, 'a', 'b', 'c'};
    od_request_header h;
    DECODE_EXACT(od_request_header, &h, v1, 1, NULL);
    CHECK_EQ_INT(h.request_api_key, 3);
    CHECK_EQ_INT(h.request_api_version, 1);
    CHECK_EQ_INT(h.correlation_id, 7);
    CHECK(od_str_eq_cstr(h.client_id, "abc"));
    ENCODE_EQUALS(od_request_header, &h, v1, 1);

    /* A null client id is a -1 length. */
    static const uint8_t null_id[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0xff, 0xff};
    DECODE_EXACT(od_request_header, &h, null_id, 1, NULL);
    CHECK_EQ_INT(h.client_id.len, -1);
    ENCODE_EQUALS(od_request_header, &h, null_id, 1);
}

static void request_header_v2_keeps_the_classic_client_id(void)
{
    /* Flexible header: still an int16 length for the client id, then an
     * empty tagged-field section. */
    static const uint8_t v2[] = {0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00,
                                 0x00, 0x03, 'a', 'b', 'c', 0x00};
    od_request_header h;
    DECODE_EXACT(od_request_header, &h, v2, 2, NULL);
    CHECK_EQ_INT(h.request_api_key, 18);
    CHECK_EQ_INT(h.request_api_version, 3);
    CHECK_EQ_INT(h.correlation_id, 256);
    CHECK(od_str_eq_cstr(h.client_id, "abc"));
    ENCODE_EQUALS(od_request_header, &h, v2, 2);
}

static void request_header_v0_has_no_client_id(void)
{
    static const uint8_t v0[] = {0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a};
    od_request_header h;
    DECODE_EXACT(od_request_header, &h, v0, 0, NULL);
    CHECK_EQ_INT(h.request_api_key, 7);
    CHECK_EQ_INT(h.correlation_id, 42);
    CHECK_EQ_INT(h.client_id.len, 0); /* absent: the default, "" */
    ENCODE_EQUALS(od_request_header, &h, v0, 0);
    /* The client id is ignorable: a v0 header silently drops it. */
    h.client_id = OD_STR_LIT("dropped");
    ENCODE_EQUALS(od_request_header, &h, v0, 0);
}

static void api_versions_request_v3_names_the_client_software(void)
{
    static const uint8_t v3[] = {0x05, 'k', 'c', 'a', 't', 0x04, '1', '.', '0', 0x00};
    od_api_versions_request m;
    DECODE_EXACT(od_api_versions_request, &m, v3, 3, NULL);
    CHECK(od_str_eq_cstr(m.client_software_name, "kcat"));
    CHECK(od_str_eq_cstr(m.client_software_version, "1.0"));
    ENCODE_EQUALS(od_api_versions_request, &m, v3, 3);

    /* v0..v2 have an empty body; the software fields are ignorable. */
    static const uint8_t v0[1] = {0};
    od_writer w;
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_api_versions_request_encode(&m, &w, 0), OD_WIRE_OK);
    CHECK_EQ_INT(w.len, 0);
    od_writer_free(&w);
    (void)v0;
}

static void metadata_request_v1_for_one_topic(void)
{
    static const uint8_t v1[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 'f', 'o', 'o'};
    od_arena arena;
    od_arena_init(&arena);
    od_metadata_request m;
    DECODE_EXACT(od_metadata_request, &m, v1, 1, &arena);
    REQUIRE(m.topics.count == 1);
    CHECK(od_str_eq_cstr(m.topics.items[0].name, "foo"));
    CHECK(m.allow_auto_topic_creation); /* absent before v4: default true */
    ENCODE_EQUALS(od_metadata_request, &m, v1, 1);

    /* A null array asks for every topic (v1+); v0 cannot say null. */
    static const uint8_t all_topics[] = {0xff, 0xff, 0xff, 0xff};
    DECODE_EXACT(od_metadata_request, &m, all_topics, 1, &arena);
    CHECK_EQ_INT(m.topics.count, -1);
    od_reader r;
    od_reader_init(&r, all_topics, sizeof all_topics, &arena);
    CHECK_EQ_INT(od_metadata_request_decode(&m, &r, 0), OD_WIRE_NULL_NOT_ALLOWED);

    /* AllowAutoTopicCreation is not ignorable: false cannot be sent before v4. */
    od_metadata_request_init(&m);
    m.allow_auto_topic_creation = false;
    od_writer w;
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_metadata_request_encode(&m, &w, 3), OD_WIRE_FIELD_NOT_IN_VERSION);
    od_writer_free(&w);
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_metadata_request_encode(&m, &w, 4), OD_WIRE_OK);
    od_writer_free(&w);

    /* Topic names become nullable only in v10. */
    od_metadata_request_metadata_request_topic topic;
    od_metadata_request_metadata_request_topic_init(&topic);
    topic.name = OD_STR_NULL;
    m.topics = (od_metadata_request_metadata_request_topic_array){1, &topic};
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_metadata_request_encode(&m, &w, 9), OD_WIRE_NULL_NOT_ALLOWED);
    od_writer_free(&w);
    od_writer_init(&w, 0);
    CHECK_EQ_INT(od_metadata_request_encode(&m, &w, 10), OD_WIRE_OK);
    od_writer_free(&w);
    od_arena_release(&arena);
}

static void api_versions_response_v3_with_tagged_fields(void)
{
    /* error 0, one api key (18, 0..3), throttle 0, then two tagged fields:
     * FinalizedFeaturesEpoch (tag 1) = 5 and an unknown tag 7 of two bytes. */
    static const uint8_t v3[] = {
        0x00, 0x00,                                     /* error code */
        0x02, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00, /* compact array of 1 */
        0x00, 0x00, 0x00, 0x00,                         /* throttle */
        0x02,                                           /* two tagged fields */
        0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 5,             /* tag 1, 8 bytes */
        0x07, 0x02, 0xbe, 0xef,                         /* tag 7, unknown */
    };
    od_arena arena;
    od_arena_init(&arena);
    od_api_versions_response m;
    DECODE_EXACT(od_api_versions_response, &m, v3, 3, &arena);
    REQUIRE(m.api_keys.count == 1);
    CHECK_EQ_INT(m.api_keys.items[0].api_key, 18);
    CHECK_EQ_INT(m.api_keys.items[0].max_version, 3);
    CHECK_EQ_INT(m.finalized_features_epoch, 5);
    CHECK_EQ_INT(m.supported_features.count, 0);
    CHECK(!m.zk_migration_ready);
    REQUIRE(m.unknown_tags.count == 1);
    CHECK_EQ_INT(m.unknown_tags.items[0].tag, 7);
    CHECK_EQ_INT(m.unknown_tags.items[0].data.len, 2);
    ENCODE_EQUALS(od_api_versions_response, &m, v3, 3);

    /* Back at the default, the tagged field is not written at all. */
    m.finalized_features_epoch = -1;
    m.unknown_tags.count = 0;
    static const uint8_t plain[] = {0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00};
    ENCODE_EQUALS(od_api_versions_response, &m, plain, 3);

    /* v0 has neither throttle time nor tagged fields; int32 array length. */
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03};
    m.throttle_time_ms = 0;
    ENCODE_EQUALS(od_api_versions_response, &m, v0, 0);
    od_arena_release(&arena);
}

static void tagged_field_size_must_match_its_content(void)
{
    /* Tag 1 claims 9 bytes but an int64 is 8. */
    static const uint8_t bad[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x01, 0x09, 0, 0, 0, 0, 0, 0, 0, 5, 0};
    od_arena arena;
    od_arena_init(&arena);
    od_api_versions_response m;
    od_reader r;
    od_reader_init(&r, bad, sizeof bad, &arena);
    CHECK_EQ_INT(od_api_versions_response_decode(&m, &r, 3), OD_WIRE_MALFORMED);
    od_arena_release(&arena);
}

static void forged_tag_count_fails_before_allocating(void)
{
    /* ApiVersionsRequest v3 with two empty strings and 2^28 tagged fields. */
    static const uint8_t forged[] = {0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x01};
    od_api_versions_request m;
    od_reader r;
    od_reader_init(&r, forged, sizeof forged, NULL);
    CHECK_EQ_INT(od_api_versions_request_decode(&m, &r, 3), OD_WIRE_MALFORMED);
}

static void nullable_struct_has_a_one_byte_marker(void)
{
    /* ConsumerGroupHeartbeatResponse v0: Assignment is a nullable struct,
     * written as int8 -1 for null, or 1 followed by the struct. */
    static const uint8_t null_assignment[] = {0, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 1,
                                              0x00, 0x00, 0x0b, 0xb8, 0xff, 0x00};
    static const uint8_t empty_assignment[] = {0, 0, 0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 1,
                                               0x00, 0x00, 0x0b, 0xb8, 0x01, 0x01, 0x00, 0x00};
    od_arena arena;
    od_arena_init(&arena);
    od_consumer_group_heartbeat_response m;
    DECODE_EXACT(od_consumer_group_heartbeat_response, &m, null_assignment, 0, &arena);
    CHECK(m.assignment == NULL);
    CHECK_EQ_INT(m.error_message.len, -1);
    CHECK_EQ_INT(m.member_epoch, 1);
    CHECK_EQ_INT(m.heartbeat_interval_ms, 3000);
    ENCODE_EQUALS(od_consumer_group_heartbeat_response, &m, null_assignment, 0);
    DECODE_EXACT(od_consumer_group_heartbeat_response, &m, empty_assignment, 0, &arena);
    REQUIRE(m.assignment != NULL);
    CHECK_EQ_INT(m.assignment->topic_partitions.count, 0);
    ENCODE_EQUALS(od_consumer_group_heartbeat_response, &m, empty_assignment, 0);
    od_arena_release(&arena);
}

static void response_header_v1_is_flexible(void)
{
    static const uint8_t v1[] = {0x00, 0x00, 0x00, 0x09, 0x00};
    od_response_header h;
    DECODE_EXACT(od_response_header, &h, v1, 1, NULL);
    CHECK_EQ_INT(h.correlation_id, 9);
    ENCODE_EQUALS(od_response_header, &h, v1, 1);
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x09};
    ENCODE_EQUALS(od_response_header, &h, v0, 0);
}

OD_TEST_MAIN(OD_CASE(request_header_v1_has_a_classic_client_id),
             OD_CASE(request_header_v2_keeps_the_classic_client_id),
             OD_CASE(request_header_v0_has_no_client_id),
             OD_CASE(api_versions_request_v3_names_the_client_software),
             OD_CASE(metadata_request_v1_for_one_topic),
             OD_CASE(api_versions_response_v3_with_tagged_fields),
             OD_CASE(tagged_field_size_must_match_its_content),
             OD_CASE(forged_tag_count_fails_before_allocating),
             OD_CASE(nullable_struct_has_a_one_byte_marker),
             OD_CASE(response_header_v1_is_flexible))
