/*
 * Incremental fetch sessions (KIP-227): the partitions a client fetches and
 * what it was last told about each, so an incremental Fetch names only what
 * changed and its response carries only what changed.
 *
 * Lifecycle: created by a full fetch with session id 0 and epoch 0 (when a
 * slot is free, evicting the least recently used session when not), used by
 * fetches with its id and the expected epoch (which then advances by one),
 * removed by a fetch with its id and epoch -1.
 *
 * Threads: the cache lives in the broker and is touched only with the
 * broker lock held.
 */
#ifndef ODRADEK_BROKER_FETCH_SESSION_H
#define ODRADEK_BROKER_FETCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

typedef struct od_fs_partition {
    od_uuid topic_id;
    char *topic;                 /* owned; "" when only the id is known */
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    int32_t current_leader_epoch;
    /* What the client was last told; a change makes the partition reappear. */
    bool announced;
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
} od_fs_partition;

typedef struct od_fetch_session {
    int32_t id;
    int32_t epoch;               /* the epoch the next fetch must carry */
    uint64_t last_used_ms;
    int32_t count, cap;
    od_fs_partition *parts;
} od_fetch_session;

typedef struct od_fetch_sessions od_fetch_sessions;

/* A cache of at most max_sessions (0 disables sessions). NULL when out of memory. */
od_fetch_sessions *od_fetch_sessions_new(int32_t max_sessions);
void od_fetch_sessions_free(od_fetch_sessions *c);

od_fetch_session *od_fetch_session_find(od_fetch_sessions *c, int32_t id);
/* A new empty session at epoch 1, or NULL when sessions are disabled or memory is short. */
od_fetch_session *od_fetch_session_create(od_fetch_sessions *c, uint64_t now_ms);
void od_fetch_session_remove(od_fetch_sessions *c, int32_t id);

/* The session's entry for a partition, added when absent. NULL when out of memory. */
od_fs_partition *od_fetch_session_upsert(od_fetch_session *s, const od_uuid *topic_id, od_str topic,
                                         int32_t partition);
void od_fetch_session_forget(od_fetch_session *s, const od_uuid *topic_id, od_str topic,
                             int32_t partition);

#endif
