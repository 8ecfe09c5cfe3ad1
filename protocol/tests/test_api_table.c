/*
 * The API table the broker dispatches on and advertises through ApiVersions.
 */
#include <string.h>

#include "od_messages.h"
#include "od_test.h"

static void header_versions_follow_flexibility_with_three_exceptions(void)
{
    /* Produce: flexible from v9. */
    CHECK_EQ_INT(od_request_header_version(0, 8), 1);
    CHECK_EQ_INT(od_request_header_version(0, 9), 2);
    CHECK_EQ_INT(od_response_header_version(0, 8), 0);
    CHECK_EQ_INT(od_response_header_version(0, 9), 1);
    /* Exception 1: ApiVersions responses always use header v0. */
    CHECK_EQ_INT(od_request_header_version(18, 3), 2);
    CHECK_EQ_INT(od_response_header_version(18, 3), 0);
    CHECK_EQ_INT(od_response_header_version(18, 0), 0);
    /* Exception 2: ControlledShutdown v0 requests have no client id. */
    CHECK_EQ_INT(od_request_header_version(7, 0), 0);
    CHECK_EQ_INT(od_request_header_version(7, 1), 1);
    CHECK_EQ_INT(od_request_header_version(7, 3), 2);
    CHECK_EQ_INT(od_response_header_version(7, 0), 0);
    /* Exception 3 lives in the codec: the v2 header's client id stays a
     * classic string (see test_codec_golden). Always-flexible APIs: */
    CHECK_EQ_INT(od_request_header_version(68, 0), 2);
    CHECK_EQ_INT(od_response_header_version(68, 0), 1);
    /* Unknown keys. */
    CHECK_EQ_INT(od_request_header_version(-1, 0), -1);
    CHECK_EQ_INT(od_request_header_version(4242, 0), -1);
    CHECK_EQ_INT(od_response_header_version(4242, 0), -1);
}

static void every_api_key_has_both_descriptors(void)
{
    int found = 0;
    for (int16_t key = 0; key <= 87; key++) {
        const od_api_info *api = od_api_find(key);
        if (api == NULL)
            continue;
        found++;
        CHECK_EQ_INT(api->api_key, key);
        REQUIRE(api->request != NULL && api->response != NULL);
        CHECK_EQ_INT(api->request->kind, OD_MESSAGE_REQUEST);
        CHECK_EQ_INT(api->response->kind, OD_MESSAGE_RESPONSE);
        CHECK_EQ_INT(api->request->api_key, key);
        CHECK_EQ_INT(api->response->api_key, key);
        CHECK_EQ_INT(api->min_version, api->request->min_version);
        CHECK_EQ_INT(api->latest_version, api->request->max_version);
        CHECK(api->max_version <= api->latest_version);
        CHECK(api->max_version >= api->latest_version - 1);
        size_t n = strlen(api->name);
        CHECK(strncmp(api->request->name, api->name, n) == 0 &&
              strcmp(api->request->name + n, "Request") == 0);
        CHECK(od_message_desc_find(api->request->name) == api->request);
    }
    /* The 3.9 specs define every key from 0 to 87. */
    CHECK_EQ_INT(found, (int)od_api_info_count);
    CHECK_EQ_INT(found, 88);
    CHECK(od_api_find(88) == NULL);
    CHECK(od_api_find(-1) == NULL);
    const od_api_info *last = od_api_find(87);
    REQUIRE(last != NULL);
    CHECK(strcmp(last->name, "ReadShareGroupStateSummary") == 0);
    /* Every request and response descriptor is reachable from the table. */
    int requests = 0, responses = 0;
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *d = &od_message_descs[i];
        if (d->kind == OD_MESSAGE_REQUEST || d->kind == OD_MESSAGE_RESPONSE) {
            const od_api_info *api = od_api_find(d->api_key);
            CHECKF(api && (api->request == d || api->response == d), "%s", d->name);
            requests += d->kind == OD_MESSAGE_REQUEST;
            responses += d->kind == OD_MESSAGE_RESPONSE;
        }
    }
    CHECK_EQ_INT(requests, found);
    CHECK_EQ_INT(responses, found);
}

static void core_apis_have_their_3_9_ranges(void)
{
    const od_api_info *produce = od_api_find(0);
    REQUIRE(produce != NULL);
    CHECK(strcmp(produce->name, "Produce") == 0);
    CHECK_EQ_INT(produce->min_version, 0);
    CHECK_EQ_INT(produce->max_version, 11);
    CHECK_EQ_INT(produce->first_flexible_version, 9);
    CHECK(produce->listeners & OD_LISTENER_BROKER);
    CHECK(!(produce->listeners & OD_LISTENER_CONTROLLER));

    const od_api_info *fetch = od_api_find(1);
    REQUIRE(fetch != NULL);
    CHECK_EQ_INT(fetch->max_version, 17);
    CHECK_EQ_INT(fetch->first_flexible_version, 12);

    const od_api_info *api_versions = od_api_find(18);
    REQUIRE(api_versions != NULL);
    CHECK_EQ_INT(api_versions->max_version, 4);
    CHECK_EQ_INT(api_versions->first_flexible_version, 3);
}

static void unstable_latest_versions_are_not_advertised(void)
{
    /* In the 3.9 specs, ListOffsets (v9), AddPartitionsToTxn (v5) and
     * DescribeQuorum (v2) say latestVersionUnstable: false, so they advertise
     * their latest version... */
    const od_api_info *list_offsets = od_api_find(2);
    REQUIRE(list_offsets != NULL);
    CHECK_EQ_INT(list_offsets->latest_version, 9);
    CHECK_EQ_INT(list_offsets->max_version, 9);
    const od_api_info *add_partitions = od_api_find(24);
    REQUIRE(add_partitions != NULL);
    CHECK_EQ_INT(add_partitions->max_version, 5);
    const od_api_info *add_raft_voter = od_api_find(80);
    REQUIRE(add_raft_voter != NULL);
    CHECK_EQ_INT(add_raft_voter->max_version, 0);

    /* ...while the share-group APIs mark their only version unstable: nothing
     * of theirs is stable, so max_version drops below min_version. */
    static const int16_t unstable_only[] = {76, 77, 78, 79, 83, 84, 85, 86, 87};
    for (size_t i = 0; i < sizeof unstable_only / sizeof unstable_only[0]; i++) {
        const od_api_info *api = od_api_find(unstable_only[i]);
        CHECKF(api != NULL, "api %d", unstable_only[i]);
        if (api == NULL)
            continue;
        CHECKF(api->latest_version == 0 && api->max_version == -1, "api %d (%s): %d/%d",
               unstable_only[i], api->name, api->max_version, api->latest_version);
    }
}

static void descriptors_are_sorted_and_findable(void)
{
    for (size_t i = 1; i < od_message_desc_count; i++)
        CHECK(strcmp(od_message_descs[i - 1].name, od_message_descs[i].name) < 0);
    for (size_t i = 0; i < od_message_desc_count; i++)
        CHECK(od_message_desc_find(od_message_descs[i].name) == &od_message_descs[i]);
    CHECK(od_message_desc_find("NoSuchMessage") == NULL);
    const od_message_desc *topic_record = od_message_desc_find("TopicRecord");
    REQUIRE(topic_record != NULL);
    CHECK_EQ_INT(topic_record->kind, OD_MESSAGE_METADATA);
    CHECK_EQ_INT(topic_record->api_key, 2);
    const od_message_desc *header = od_message_desc_find("RequestHeader");
    REQUIRE(header != NULL);
    CHECK_EQ_INT(header->kind, OD_MESSAGE_HEADER);
    CHECK_EQ_INT(header->api_key, -1);
    CHECK_EQ_INT(header->first_flexible_version, 2);
    CHECK_EQ_INT(header->struct_size, sizeof(od_request_header));
}

OD_TEST_MAIN(OD_CASE(header_versions_follow_flexibility_with_three_exceptions),
             OD_CASE(every_api_key_has_both_descriptors),
             OD_CASE(core_apis_have_their_3_9_ranges),
             OD_CASE(unstable_latest_versions_are_not_advertised),
             OD_CASE(descriptors_are_sorted_and_findable))
