/*
 * Dispatch and ApiVersions edge cases, driven through od_dispatch_request
 * with hand-built frames (no sockets): what is advertised, the v0-layout
 * answer to an unknown ApiVersions version, connections closed for keys and
 * versions we do not serve, and record sets spliced in from files.
 */
#include <stdlib.h>
#include <unistd.h>

#include "dispatch.h"
#include "od_test.h"

/* A request frame: header at the API's header version, then the body. */
static od_request *make_request(int16_t key, int16_t version, const void *body_msg,
                                const od_message_desc *body_desc, int16_t body_version)
{
    od_request *req = calloc(1, sizeof *req);
    od_arena_init(&req->arena);
    req->api_key = key;
    req->api_version = version;
    req->correlation_id = 4242;
    od_request_header h;
    od_request_header_init(&h);
    h.request_api_key = key;
    h.request_api_version = version;
    h.correlation_id = 4242;
    h.client_id = OD_STR_LIT("dispatch-test");
    int hv = od_request_header_version(key, version);
    od_writer w;
    od_writer_init(&w, 256);
    od_request_header_encode(&h, &w, (int16_t)(hv < 0 ? 1 : hv));
    if (body_msg != NULL)
        body_desc->encode(body_msg, &w, body_version);
    uint8_t *frame = od_arena_alloc(&req->arena, w.len);
    memcpy(frame, w.buf, w.len);
    req->frame = frame;
    req->frame_len = w.len;
    od_writer_free(&w);
    od_chain_init(&req->response);
    return req;
}

static void free_request(od_request *req)
{
    od_chain_discard(&req->response);
    od_arena_release(&req->arena);
    free(req);
}

/* The bytes a chain would send, memory and file links alike. */
static uint8_t *flatten(const od_chain *chain, size_t *len)
{
    uint8_t *out = malloc(chain->bytes + 1);
    size_t at = 0;
    for (const od_link *l = chain->head; l != NULL; l = l->next) {
        if (l->kind == OD_LINK_MEMORY)
            memcpy(out + at, l->memory, l->len);
        else if (pread(l->fd, out + at, l->len, l->offset) != (ssize_t)l->len)
            abort();
        at += l->len;
    }
    *len = at;
    return out;
}

static od_dispatch table;

static void test_api_versions_advertises_only_implemented(void)
{
    od_api_versions_request body;
    od_api_versions_request_init(&body);
    body.client_software_name = OD_STR_LIT("od-test");
    body.client_software_version = OD_STR_LIT("1.0");
    od_request *req = make_request(18, 3, &body, od_api_find(18)->request, 3);
    REQUIRE(od_dispatch_request(&table, req) == OD_HANDLE_DONE);
    size_t len;
    uint8_t *bytes = flatten(&req->response, &len);
    od_reader r;
    od_arena arena;
    od_arena_init(&arena);
    od_reader_init(&r, bytes, len, &arena);
    od_response_header rh;
    od_response_header_decode(&rh, &r, 0); /* ApiVersions answers with header v0 */
    od_api_versions_response resp;
    od_api_versions_response_decode(&resp, &r, 3);
    CHECK(r.err == OD_WIRE_OK);
    CHECK_EQ_INT(od_reader_remaining(&r), 0);
    CHECK_EQ_INT(rh.correlation_id, 4242);
    CHECK_EQ_INT(resp.error_code, 0);
    bool saw_produce = false, saw_api_versions = false;
    bool advertised[OD_DISPATCH_MAX_KEYS] = {false};
    for (int32_t i = 0; i < resp.api_keys.count; i++) {
        const od_api_versions_response_api_version *v = &resp.api_keys.items[i];
        const od_api_info *api = od_api_find(v->api_key);
        REQUIRE(api != NULL);
        CHECK(od_dispatch_implemented(&table, v->api_key));
        CHECK_EQ_INT(v->min_version, api->min_version);
        CHECK_EQ_INT(v->max_version, api->max_version);
        saw_produce |= v->api_key == 0;
        saw_api_versions |= v->api_key == 18;
        if (v->api_key >= 0 && v->api_key < OD_DISPATCH_MAX_KEYS)
            advertised[v->api_key] = true;
    }
    CHECK(saw_produce && saw_api_versions);
    /* A key without a handler is never advertised. */
    int32_t unimplemented = 0;
    for (int16_t k = 0; k < OD_DISPATCH_MAX_KEYS; k++) {
        if (od_dispatch_implemented(&table, k))
            continue;
        unimplemented++;
        CHECKF(!advertised[k], "key %d advertised without a handler", k);
    }
    CHECK(unimplemented > 0);
    /* v3 clients cannot read a supported range starting at 0 (kraft.version). */
    for (int32_t i = 0; i < resp.supported_features.count; i++)
        CHECK(resp.supported_features.items[i].min_version > 0);
    free(bytes);
    od_arena_release(&arena);
    free_request(req);
}

static void test_api_versions_unknown_version_gets_v0_error_35(void)
{
    const od_api_info *api = od_api_find(18);
    int16_t future = (int16_t)(api->latest_version + 1);
    od_api_versions_request body;
    od_api_versions_request_init(&body);
    /* A newer client's body is opaque to us; send some bytes we cannot parse. */
    od_request *req = make_request(18, future, NULL, NULL, 0);
    REQUIRE(od_dispatch_request(&table, req) == OD_HANDLE_DONE);
    size_t len;
    uint8_t *bytes = flatten(&req->response, &len);
    /* correlation id, error, array of one (key, min, max): nothing else. */
    CHECK_EQ_INT(len, 4 + 2 + 4 + 6);
    od_reader r;
    od_reader_init(&r, bytes, len, NULL);
    CHECK_EQ_INT(od_read_i32(&r), 4242);
    CHECK_EQ_INT(od_read_i16(&r), 35);
    CHECK_EQ_INT(od_read_i32(&r), 1);
    CHECK_EQ_INT(od_read_i16(&r), 18);
    CHECK_EQ_INT(od_read_i16(&r), api->min_version);
    CHECK_EQ_INT(od_read_i16(&r), api->max_version);
    CHECK(r.err == OD_WIRE_OK);
    free(bytes);
    free_request(req);
}

/* Kafka reads an unknown ApiVersions version's header in the flexible
 * layout; when the tagged-field count is missing the header does not
 * parse, and it closes instead of answering (found by bad_input.py). */
static void test_api_versions_unknown_version_with_v1_header_closes(void)
{
    int16_t future = (int16_t)(od_api_find(18)->latest_version + 1);
    od_request *req = make_request(18, future, NULL, NULL, 0);
    od_request_header h;
    od_request_header_init(&h);
    h.request_api_key = 18;
    h.request_api_version = future;
    h.correlation_id = 4242;
    h.client_id = OD_STR_LIT("dispatch-test");
    od_writer w;
    od_writer_init(&w, 64);
    od_request_header_encode(&h, &w, 1);
    uint8_t *frame = od_arena_alloc(&req->arena, w.len);
    memcpy(frame, w.buf, w.len);
    req->frame = frame;
    req->frame_len = w.len;
    od_writer_free(&w);
    CHECK(od_dispatch_request(&table, req) == OD_HANDLE_CLOSE);
    free_request(req);
}

static void test_api_versions_bad_software_name_is_invalid_request(void)
{
    od_api_versions_request body;
    od_api_versions_request_init(&body);
    body.client_software_name = OD_STR_LIT("-bad name");
    body.client_software_version = OD_STR_LIT("1");
    od_request *req = make_request(18, 3, &body, od_api_find(18)->request, 3);
    REQUIRE(od_dispatch_request(&table, req) == OD_HANDLE_DONE);
    size_t len;
    uint8_t *bytes = flatten(&req->response, &len);
    od_reader r;
    od_reader_init(&r, bytes, len, NULL);
    CHECK_EQ_INT(od_read_i32(&r), 4242);
    CHECK_EQ_INT(od_read_i16(&r), 42);
    free(bytes);
    free_request(req);
}

static void test_unserved_keys_and_versions_close(void)
{
    /* Unknown key, known key without a handler, known key at a version
     * outside its range: Kafka closes the connection for all three. */
    const int16_t cases[][2] = {{999, 0}, {-1, 0}, {8, 0}, {0, 99}, {3, -1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        od_request *req = make_request(cases[i][0], cases[i][1], NULL, NULL, 0);
        CHECKF(od_dispatch_request(&table, req) == OD_HANDLE_CLOSE, "key %d v%d", cases[i][0],
               cases[i][1]);
        free_request(req);
    }
}

static void test_truncated_body_closes(void)
{
    od_request *req = make_request(3, 12, NULL, NULL, 0);
    CHECK(od_dispatch_request(&table, req) == OD_HANDLE_CLOSE);
    free_request(req);
}

/* A Fetch response whose records come from a file decodes to the file's
 * bytes, in a classic and a flexible version. */
static void check_file_splice(int16_t version)
{
    char path[] = "/tmp/od-dispatch-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    uint8_t content[300];
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = (uint8_t)(i * 7 + 3);
    REQUIRE(write(fd, "prefix--", 8) == 8);
    REQUIRE(write(fd, content, sizeof content) == (ssize_t)sizeof content);

    od_request *req = make_request(1, version, NULL, NULL, 0);
    od_rctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.req = req;
    ctx.arena = &req->arena;
    ctx.api = od_api_find(1);
    ctx.version = version;
    ctx.header.correlation_id = 7;
    od_fetch_response *resp = od_arena_alloc(ctx.arena, sizeof *resp);
    od_fetch_response_init(resp);
    od_fetch_response_fetchable_topic_response topic;
    od_fetch_response_fetchable_topic_response_init(&topic);
    topic.topic = OD_STR_LIT("t");
    od_fetch_response_partition_data parts[2];
    for (int i = 0; i < 2; i++) {
        od_fetch_response_partition_data_init(&parts[i]);
        parts[i].partition_index = i;
        parts[i].high_watermark = 10 + i;
        parts[i].records = (od_bytes){(const uint8_t *)"", 0};
    }
    topic.partitions = (od_fetch_response_partition_data_array){2, parts};
    resp->responses = (od_fetch_response_fetchable_topic_response_array){1, &topic};
    ctx.response = resp;
    REQUIRE(od_rctx_add_file_records(&ctx, &parts[0].records, fd, 8, 200, NULL) == 0);
    REQUIRE(od_rctx_add_file_records(&ctx, &parts[1].records, fd, 208, 100, NULL) == 0);
    od_chain chain;
    od_chain_init(&chain);
    REQUIRE(od_dispatch_encode(&ctx, &chain) == OD_WIRE_OK);
    size_t len;
    uint8_t *bytes = flatten(&chain, &len);
    od_arena arena;
    od_arena_init(&arena);
    od_reader r;
    od_reader_init(&r, bytes, len, &arena);
    od_response_header rh;
    od_response_header_decode(&rh, &r, (int16_t)od_response_header_version(1, version));
    od_fetch_response back;
    od_fetch_response_decode(&back, &r, version);
    CHECK(r.err == OD_WIRE_OK);
    CHECK_EQ_INT(od_reader_remaining(&r), 0);
    CHECK_EQ_INT(rh.correlation_id, 7);
    REQUIRE(back.responses.count == 1 && back.responses.items[0].partitions.count == 2);
    const od_fetch_response_partition_data *p0 = &back.responses.items[0].partitions.items[0];
    const od_fetch_response_partition_data *p1 = &back.responses.items[0].partitions.items[1];
    CHECK_EQ_INT(p0->records.len, 200);
    CHECK_EQ_INT(p1->records.len, 100);
    CHECK_EQ_INT(p1->high_watermark, 11);
    if (p0->records.len == 200 && p1->records.len == 100) {
        CHECK_MEM(p0->records.ptr, content, 200);
        CHECK_MEM(p1->records.ptr, content + 200, 100);
    }
    free(bytes);
    od_chain_discard(&chain);
    od_arena_release(&arena);
    free_request(req);
    close(fd);
}

static void test_fetch_records_spliced_from_files(void)
{
    check_file_splice(4);  /* int32 lengths */
    check_file_splice(12); /* compact lengths */
    check_file_splice(od_api_find(1)->max_version);
}

/* A controller listener serves what the spec names it for (ApiVersions,
 * DescribeQuorum, the admin operations), never Produce or Metadata;
 * DescribeQuorum is served on broker listeners too, as Kafka 3.9 does. */
static void test_controller_table_follows_spec_listeners(void)
{
    CHECK(table.controller_entries[18].handler != NULL);
    CHECK(table.controller_entries[55].handler != NULL);
    CHECK(table.controller_entries[19].handler != NULL);
    CHECK(table.controller_entries[0].handler == NULL);
    CHECK(table.controller_entries[3].handler == NULL);
    CHECK(table.controller_entries[22].handler == NULL);
    CHECK(table.entries[55].handler != NULL);
    for (int k = 0; k < OD_DISPATCH_MAX_KEYS; k++) {
        if (table.controller_entries[k].handler != NULL)
            CHECK(table.controller_entries[k].api->listeners & OD_LISTENER_CONTROLLER);
        if (table.entries[k].handler != NULL)
            CHECK(table.entries[k].api->listeners & OD_LISTENER_BROKER);
    }
}

static void setup(void)
{
    od_dispatch_init(&table, NULL);
}

OD_TEST_MAIN({"setup", setup},
             {"api_versions_advertises_only_implemented", test_api_versions_advertises_only_implemented},
             {"api_versions_unknown_version_gets_v0_error_35",
              test_api_versions_unknown_version_gets_v0_error_35},
             {"api_versions_unknown_version_with_v1_header_closes",
              test_api_versions_unknown_version_with_v1_header_closes},
             {"api_versions_bad_software_name_is_invalid_request",
              test_api_versions_bad_software_name_is_invalid_request},
             {"unserved_keys_and_versions_close", test_unserved_keys_and_versions_close},
             {"truncated_body_closes", test_truncated_body_closes},
             {"fetch_records_spliced_from_files", test_fetch_records_spliced_from_files},
             {"controller_table_follows_spec_listeners", test_controller_table_follows_spec_listeners})
