/*
 * Helpers shared by the consumer-group handlers (FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, the offset and group admin APIs): arena
 * copies of coordinator views, the client host as Kafka prints it, and the
 * deferred-reply guard for JoinGroup and SyncGroup.
 */
#ifndef ODRADEK_BROKER_HANDLERS_GROUP_UTIL_H
#define ODRADEK_BROKER_HANDLERS_GROUP_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "group_service.h"
#include "handler_util.h"

/* Copies a view into the request arena (null stays null). On exhaustion
 * the result is null and *ok turns false. */
static inline od_str od_group_copy_str(od_rctx *ctx, od_str s, bool *ok)
{
    if (s.len <= 0)
        return s.len < 0 ? OD_STR_NULL : OD_STR_LIT("");
    char *p = od_arena_alloc(ctx->arena, (size_t)s.len);
    if (p == NULL) {
        *ok = false;
        return OD_STR_NULL;
    }
    memcpy(p, s.ptr, (size_t)s.len);
    return (od_str){p, s.len};
}

static inline od_bytes od_group_copy_bytes(od_rctx *ctx, od_bytes b, bool *ok)
{
    od_str s = od_group_copy_str(ctx, (od_str){(const char *)b.ptr, b.len}, ok);
    return (od_bytes){(const uint8_t *)s.ptr, s.len};
}

/* Kafka's clientHost: InetAddress.toString of the peer, "/" then the
 * address. */
static inline od_str od_group_client_host(od_rctx *ctx)
{
    char text[INET6_ADDRSTRLEN + 2] = "/";
    const struct sockaddr_storage *peer = ctx->req->conn ? od_conn_peer(ctx->req->conn) : NULL;
    if (peer != NULL && peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, text + 1, sizeof text - 1);
    else if (peer != NULL && peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, text + 1,
                  sizeof text - 1);
    return od_arena_str(ctx, text);
}

/* A JoinGroup or SyncGroup that the coordinator answers through a callback,
 * now (inside the handler) or later (another request, the group thread).
 * in_handler and answered_inline are read and written with the group lock
 * held, so a callback inside the handler fills the response for an
 * immediate REPLY and a later one hands it to od_rctx_reply. */
typedef struct od_group_call {
    od_rctx *ctx;
    bool in_handler;
    bool answered_inline;
} od_group_call;

/* Called by the completion after it filled ctx->response. Group lock held. */
static inline void od_group_call_done(od_group_call *call)
{
    if (call->in_handler)
        call->answered_inline = true;
    else
        od_rctx_reply(call->ctx);
}

#endif
