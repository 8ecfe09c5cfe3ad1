/*
 * The dispatch table and the generic half of every request: header, body
 * decode, response encode, file records. See dispatch.h for the request path.
 */
#include "dispatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker.h"
#include "handlers/handlers.h"

/* The APIs Odradek answers. Everything else is neither advertised nor served. */
static const struct {
    int16_t api_key;
    od_api_handler *handler;
} implemented_apis[] = {
    {0, od_handle_produce},
    {1, od_handle_fetch},
    {2, od_handle_list_offsets},
    {3, od_handle_metadata},
    {8, od_handle_offset_commit},
    {9, od_handle_offset_fetch},
    {10, od_handle_find_coordinator},
    {11, od_handle_join_group},
    {12, od_handle_heartbeat},
    {13, od_handle_leave_group},
    {14, od_handle_sync_group},
    {15, od_handle_describe_groups},
    {16, od_handle_list_groups},
    {18, od_handle_api_versions},
    {19, od_handle_create_topics},
    {20, od_handle_delete_topics},
    {21, od_handle_delete_records},
    {22, od_handle_init_producer_id},
    {23, od_handle_offset_for_leader_epoch},
    {24, od_handle_add_partitions_to_txn},
    {25, od_handle_add_offsets_to_txn},
    {26, od_handle_end_txn},
    {27, od_handle_write_txn_markers},
    {28, od_handle_txn_offset_commit},
    {32, od_handle_describe_configs},
    {33, od_handle_alter_configs},
    {35, od_handle_describe_log_dirs},
    {37, od_handle_create_partitions},
    {42, od_handle_delete_groups},
    {43, od_handle_elect_leaders},
    {44, od_handle_incremental_alter_configs},
    {47, od_handle_offset_delete},
    {55, od_handle_describe_quorum},
    {60, od_handle_describe_cluster},
    {61, od_handle_describe_producers},
    {65, od_handle_describe_transactions},
    {66, od_handle_list_transactions},
    {68, od_handle_consumer_group_heartbeat},
    {69, od_handle_consumer_group_describe},
    {71, od_handle_get_telemetry_subscriptions},
    {72, od_handle_push_telemetry},
    {75, od_handle_describe_topic_partitions},
};

enum { API_VERSIONS_KEY = 18 };

void od_dispatch_init(od_dispatch *d, od_broker *broker)
{
    memset(d, 0, sizeof *d);
    d->broker = broker;
    for (size_t i = 0; i < od_api_info_count; i++) {
        const od_api_info *api = &od_api_infos[i];
        if (api->api_key >= 0 && api->api_key < OD_DISPATCH_MAX_KEYS)
            d->entries[api->api_key].api = d->controller_entries[api->api_key].api = api;
    }
    for (size_t i = 0; i < sizeof implemented_apis / sizeof implemented_apis[0]; i++) {
        int16_t key = implemented_apis[i].api_key;
        const od_api_info *api = d->entries[key].api;
        /* An API stays dark on a listener its spec does not name, and
         * everywhere when it has no stable version. */
        if (api == NULL || api->max_version < api->min_version)
            continue;
        if (api->listeners & OD_LISTENER_BROKER)
            d->entries[key].handler = implemented_apis[i].handler;
        if (api->listeners & OD_LISTENER_CONTROLLER)
            d->controller_entries[key].handler = implemented_apis[i].handler;
    }
    /* As Kafka 3.9: the KIP-848 APIs exist only when
     * group.coordinator.rebalance.protocols lists "consumer". */
    if (broker == NULL || !broker->settings.groups.consumer_protocol_enabled) {
        d->entries[68].handler = d->controller_entries[68].handler = NULL;
        d->entries[69].handler = d->controller_entries[69].handler = NULL;
    }
}

/* True when the connection came in on a controller listener. */
static bool on_controller_listener(const od_dispatch *d, const od_request *req)
{
    if (d->broker == NULL || req->conn == NULL)
        return false;
    const od_listener_config *lc = od_conn_listener(req->conn);
    const od_broker_settings *s = &d->broker->settings;
    for (int32_t i = 0; lc != NULL && i < s->controller_listener_count; i++)
        if (strcasecmp(lc->name, s->controller_listeners[i].listener) == 0)
            return true;
    return false;
}

const od_dispatch_entry *od_dispatch_entry_for(const od_dispatch *d, int16_t api_key)
{
    if (api_key < 0 || api_key >= OD_DISPATCH_MAX_KEYS)
        return NULL;
    return &d->entries[api_key];
}

bool od_dispatch_implemented(const od_dispatch *d, int16_t api_key)
{
    const od_dispatch_entry *e = od_dispatch_entry_for(d, api_key);
    return e != NULL && e->handler != NULL;
}

static od_api_versions_response_api_version_array api_versions_of(const od_dispatch_entry *table,
                                                                   od_arena *arena)
{
    od_api_versions_response_api_version_array out = {0, NULL};
    int32_t n = 0;
    for (int k = 0; k < OD_DISPATCH_MAX_KEYS; k++)
        n += table[k].handler != NULL;
    out.items = od_arena_calloc(arena, (size_t)n ? (size_t)n : 1, sizeof *out.items);
    if (out.items == NULL)
        return out;
    for (int k = 0; k < OD_DISPATCH_MAX_KEYS; k++) {
        const od_dispatch_entry *e = &table[k];
        if (e->handler == NULL)
            continue;
        od_api_versions_response_api_version *v = &out.items[out.count++];
        od_api_versions_response_api_version_init(v);
        v->api_key = e->api->api_key;
        v->min_version = e->api->min_version;
        v->max_version = e->api->max_version;
    }
    return out;
}

od_api_versions_response_api_version_array od_dispatch_api_versions(const od_dispatch *d,
                                                                    od_arena *arena)
{
    return api_versions_of(d->entries, arena);
}

od_api_versions_response_api_version_array od_dispatch_api_versions_for(const od_rctx *ctx)
{
    const od_dispatch *d = ctx->dispatch;
    return api_versions_of(ctx->controller_listener ? d->controller_entries : d->entries,
                           ctx->arena);
}

int od_rctx_add_file_records(od_rctx *ctx, od_bytes *field, int fd, int64_t position,
                             int32_t length, od_ref *ref)
{
    if (!od_arena_grow(ctx->arena, &ctx->files, &ctx->file_cap, ctx->file_count + 1,
                       sizeof *ctx->files))
        return -1;
    od_file_records *f = &ctx->files[ctx->file_count++];
    f->field = field;
    f->fd = fd;
    f->position = position;
    f->length = length;
    f->ref = ref;
    return 0;
}

/* Markers must not occur in the rest of the encoded response; 12 random
 * bytes per response plus the index make an accidental match practically
 * impossible, and a match is only looked for after the previous one. */
static void make_markers(od_rctx *ctx)
{
    uint8_t nonce[12];
    uint64_t seed = (uint64_t)(uintptr_t)ctx ^ ((uint64_t)ctx->received_ms << 20) ^
                    ((uint64_t)(uint32_t)ctx->req->correlation_id << 32);
    for (size_t i = 0; i < sizeof nonce; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        nonce[i] = (uint8_t)(seed >> 24);
    }
    for (int32_t i = 0; i < ctx->file_count; i++) {
        od_file_records *f = &ctx->files[i];
        memcpy(f->marker, nonce, sizeof nonce);
        od_store_be32(f->marker + 12, (uint32_t)i);
        *f->field = (od_bytes){f->marker, (int32_t)sizeof f->marker};
    }
}

/* The response's bytes with each marker (and the length in front of it)
 * replaced by the real length and a file link. */
static od_wire_err splice_file_records(od_rctx *ctx, const uint8_t *buf, size_t len, od_chain *chain)
{
    const od_message_desc *desc = ctx->api->response;
    bool compact = desc->first_flexible_version >= 0 && ctx->version >= desc->first_flexible_version;
    size_t marker_prefix = compact ? od_uvarint_size(sizeof ctx->files[0].marker + 1) : 4;
    size_t cursor = 0;
    for (int32_t i = 0; i < ctx->file_count; i++) {
        od_file_records *f = &ctx->files[i];
        const uint8_t *hit = memmem(buf + cursor, len - cursor, f->marker, sizeof f->marker);
        if (hit == NULL || (size_t)(hit - buf) < cursor + marker_prefix)
            return OD_WIRE_MALFORMED;
        size_t prefix_at = (size_t)(hit - buf) - marker_prefix;
        if (od_chain_add_memory(chain, ctx->arena, buf + cursor, prefix_at - cursor, NULL) != 0)
            return OD_WIRE_NO_MEMORY;
        uint8_t prefix[5];
        od_writer pw;
        od_writer_init_fixed(&pw, prefix, sizeof prefix);
        if (compact)
            od_write_uvarint(&pw, (uint32_t)f->length + 1);
        else
            od_write_i32(&pw, f->length);
        if (pw.err || od_chain_add_copy(chain, ctx->arena, prefix, pw.len) == NULL)
            return OD_WIRE_NO_MEMORY;
        if (f->length > 0 &&
            od_chain_add_file(chain, ctx->arena, f->fd, (off_t)f->position, (size_t)f->length, f->ref) != 0)
            return OD_WIRE_NO_MEMORY;
        cursor = (size_t)(hit - buf) + sizeof f->marker;
    }
    if (od_chain_add_memory(chain, ctx->arena, buf + cursor, len - cursor, NULL) != 0)
        return OD_WIRE_NO_MEMORY;
    return OD_WIRE_OK;
}

od_wire_err od_dispatch_encode(od_rctx *ctx, od_chain *chain)
{
    const od_message_desc *desc = ctx->api->response;
    int header_version = od_response_header_version(ctx->api->api_key, ctx->version);
    od_response_header header;
    od_response_header_init(&header);
    header.correlation_id = ctx->header.correlation_id;
    if (ctx->file_count > 0)
        make_markers(ctx);
    size_t size = od_response_header_size(&header, (int16_t)header_version) +
                  desc->size(ctx->response, ctx->version);
    uint8_t *buf = od_arena_alloc(ctx->arena, size);
    if (buf == NULL)
        return OD_WIRE_NO_MEMORY;
    od_writer w;
    od_writer_init_fixed(&w, buf, size);
    od_response_header_encode(&header, &w, (int16_t)header_version);
    desc->encode(ctx->response, &w, ctx->version);
    if (w.err)
        return w.err;
    if (ctx->file_count == 0)
        return od_chain_add_memory(chain, ctx->arena, buf, w.len, NULL) == 0 ? OD_WIRE_OK
                                                                             : OD_WIRE_NO_MEMORY;
    return splice_file_records(ctx, buf, w.len, chain);
}

/* Drops the file references a reply that will never be encoded still holds. */
static void release_file_refs(od_rctx *ctx)
{
    for (int32_t i = 0; i < ctx->file_count; i++)
        if (ctx->files[i].ref != NULL)
            od_ref_put(ctx->files[i].ref);
    ctx->file_count = 0;
}

/* Encodes into req->response. A response that cannot be encoded is a bug
 * or memory exhaustion; the client then sees the connection close. */
static bool encode_reply(od_rctx *ctx)
{
    od_chain_init(&ctx->req->response);
    od_wire_err err = od_dispatch_encode(ctx, &ctx->req->response);
    /* The chain took its own references to the files; ours are released. */
    release_file_refs(ctx);
    if (err != OD_WIRE_OK) {
        od_chain_discard(&ctx->req->response);
        return false;
    }
    return true;
}

void od_rctx_reply(od_rctx *ctx)
{
    od_request *req = ctx->req;
    if (encode_reply(ctx))
        od_request_complete(req);
    else
        od_request_complete_then_close(req);
}

void od_rctx_no_reply(od_rctx *ctx)
{
    release_file_refs(ctx);
    od_chain_init(&ctx->req->response);
    od_request_complete(ctx->req);
}

/* ApiVersions at a version this broker does not know: the client cannot know
 * the layout we would choose, so the answer is v0 (a layout every version
 * starts with) carrying the error and the range of ApiVersions itself. */
static od_handle_result reply_unsupported_api_versions(od_rctx *ctx)
{
    od_api_versions_response *resp = od_arena_alloc(ctx->arena, sizeof *resp);
    od_api_versions_response_api_version *own = od_arena_alloc(ctx->arena, sizeof *own);
    if (resp == NULL || own == NULL)
        return OD_HANDLE_CLOSE;
    od_api_versions_response_init(resp);
    od_api_versions_response_api_version_init(own);
    own->api_key = ctx->api->api_key;
    own->min_version = ctx->api->min_version;
    own->max_version = ctx->api->max_version;
    resp->error_code = OD_ERR_UNSUPPORTED_VERSION;
    resp->api_keys = (od_api_versions_response_api_version_array){1, own};
    ctx->response = resp;
    ctx->version = 0;
    return encode_reply(ctx) ? OD_HANDLE_DONE : OD_HANDLE_CLOSE;
}

void od_dispatch_draining(void *vd, unsigned network_thread)
{
    od_dispatch *d = vd;
    (void)network_thread;
    if (d->broker != NULL)
        od_broker_finish_fetches(d->broker);
}

od_handle_result od_dispatch_request(void *vd, od_request *req)
{
    od_dispatch *d = vd;
    bool controller = on_controller_listener(d, req);
    const od_dispatch_entry *entry = od_dispatch_entry_for(d, req->api_key);
    if (entry != NULL && controller)
        entry = &d->controller_entries[req->api_key];
    /* Kafka closes the connection for a key it has no handler for. */
    if (entry == NULL || entry->handler == NULL)
        return OD_HANDLE_CLOSE;
    const od_api_info *api = entry->api;
    od_rctx *ctx = od_arena_calloc(&req->arena, 1, sizeof *ctx);
    if (ctx == NULL)
        return OD_HANDLE_CLOSE;
    ctx->req = req;
    ctx->arena = &req->arena;
    ctx->api = api;
    ctx->version = req->api_version;
    ctx->broker = d->broker;
    ctx->dispatch = d;
    ctx->received_ms = (int64_t)od_monotonic_ms();
    ctx->controller_listener = controller;

    bool supported = req->api_version >= api->min_version && req->api_version <= api->max_version;
    od_reader r;
    od_reader_init(&r, req->frame, req->frame_len, ctx->arena);
    int header_version = od_request_header_version(req->api_key, req->api_version);
    od_request_header_decode(&ctx->header, &r, (int16_t)header_version);
    /* Kafka parses the header (at the version's header layout, flexible for
     * an ApiVersions newer than it knows) before it looks at the version,
     * and closes the connection when that fails. */
    if (r.err)
        return OD_HANDLE_CLOSE;
    if (!supported) {
        if (req->api_key != API_VERSIONS_KEY)
            return OD_HANDLE_CLOSE;
        return reply_unsupported_api_versions(ctx);
    }

    ctx->request = od_arena_alloc(ctx->arena, api->request->struct_size);
    ctx->response = od_arena_alloc(ctx->arena, api->response->struct_size);
    if (ctx->request == NULL || ctx->response == NULL)
        return OD_HANDLE_CLOSE;
    if (api->request->decode(ctx->request, &r, ctx->version) != OD_WIRE_OK)
        return OD_HANDLE_CLOSE;
    api->response->init(ctx->response);

    switch (entry->handler(ctx)) {
    case OD_HANDLER_REPLY:
        return encode_reply(ctx) ? OD_HANDLE_DONE : OD_HANDLE_CLOSE;
    case OD_HANDLER_NO_REPLY:
        release_file_refs(ctx);
        od_chain_init(&req->response);
        return OD_HANDLE_DONE;
    case OD_HANDLER_DEFERRED:
        return OD_HANDLE_LATER;
    case OD_HANDLER_CLOSE:
    default:
        release_file_refs(ctx);
        return OD_HANDLE_CLOSE;
    }
}
