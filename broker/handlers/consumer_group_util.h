/*
 * How the classic group handlers (ListGroups, DescribeGroups, OffsetCommit,
 * TxnOffsetCommit, OffsetFetch, OffsetDelete, JoinGroup, DeleteGroups) see
 * KIP-848 consumer groups: one call each, with
 * the group lock held, so those handlers stay about the classic protocol.
 *
 * A consumer group's committed offsets live with the classic coordinator
 * (one __consumer_offsets record format for both); it holds them in an
 * offsets-only group of the same id, which these hooks hide.
 */
#ifndef ODRADEK_BROKER_HANDLERS_CONSUMER_GROUP_UTIL_H
#define ODRADEK_BROKER_HANDLERS_CONSUMER_GROUP_UTIL_H

#include <strings.h>

#include "consumer_group.h"
#include "group_util.h"

/* Whether Kafka 3.9's new group coordinator (which runs once the consumer
 * protocol is enabled) would know nothing of the group: neither a consumer
 * group nor a live classic one. Group lock held. */
static inline bool od_cg_group_unknown(od_gc *gc, od_cg *cg, od_str group_id)
{
    od_gc_state state;
    int32_t generation, members;
    od_str leader;
    if (cg != NULL && od_cg_has_group(cg, group_id))
        return false;
    return !od_gc_group_info(gc, group_id, &state, &generation, &leader, &members) ||
           state == OD_GC_DEAD;
}

/* OffsetCommit for a consumer group: the member epoch is checked here
 * (Kafka's ConsumerGroup.validateOffsetCommit; v9+ carries it in the
 * generation field), then the offsets are stored as an admin commit. Returns
 * false when the group is not a consumer group (the caller commits as
 * before), except for one case of Kafka 3.9's new group coordinator, which
 * runs once the consumer protocol is enabled (consumer_protocol): a commit
 * with an epoch for a group it does not know at all is GROUP_ID_NOT_FOUND
 * from v9 (the old coordinator, and older versions, answer
 * ILLEGAL_GENERATION, as od_gc does). Group lock held. */
static inline bool od_cg_hook_commit(od_group_service *gs, od_gc *gc, bool consumer_protocol,
                                     od_str group_id, od_str member_id, int32_t member_epoch,
                                     int16_t version, int64_t retention_ms,
                                     od_gc_offset_commit *commits, int32_t n)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    int16_t err;
    if (cg == NULL || !od_cg_has_group(cg, group_id)) {
        if (!consumer_protocol || version < 9 || member_epoch < 0 ||
            !od_cg_group_unknown(gc, cg, group_id))
            return false;
        err = OD_GC_GROUP_ID_NOT_FOUND;
    } else {
        err = od_cg_validate_offset_commit(cg, group_id, member_id, member_epoch, version);
    }
    if (err != OD_ERR_NONE) {
        for (int32_t i = 0; i < n; i++)
            commits[i].error = err;
        return true;
    }
    od_gc_commit_offsets(gc, group_id, OD_STR_LIT(""), OD_STR_NULL, -1, retention_ms, commits, n);
    return true;
}

/* TxnOffsetCommit for a consumer group: the member and epoch are checked
 * (od_cg_validate_txn_offset_commit), then the offsets go to the producer's
 * transaction as an admin's would. Returns false when the group is not a
 * consumer group, except where Kafka 3.9's new coordinator (consumer
 * protocol on) differs from the old one od_gc follows: a generation for a
 * group it does not know is ILLEGAL_GENERATION before any member check.
 * Group lock held. */
static inline bool od_cg_hook_txn_commit(od_group_service *gs, od_gc *gc, bool consumer_protocol,
                                         od_str group_id, int64_t producer_id,
                                         int16_t producer_epoch, od_str member_id,
                                         int32_t generation_id, od_gc_offset_commit *commits,
                                         int32_t n)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    int16_t err;
    if (cg == NULL || !od_cg_has_group(cg, group_id)) {
        if (!consumer_protocol || generation_id < 0 || !od_cg_group_unknown(gc, cg, group_id))
            return false;
        err = OD_GC_ILLEGAL_GENERATION;
    } else {
        err = od_cg_validate_txn_offset_commit(cg, group_id, member_id, generation_id);
    }
    if (err != OD_ERR_NONE) {
        for (int32_t i = 0; i < n; i++)
            commits[i].error = err;
        return true;
    }
    od_gc_txn_commit_offsets(gc, group_id, producer_id, producer_epoch, OD_STR_LIT(""), OD_STR_NULL,
                             -1, commits, n);
    return true;
}

/* OffsetFetch of a consumer group: the member check of v9+ (a null member
 * id with no epoch passes). Returns false when the group is not a consumer
 * group; otherwise *error is the group-level error, NONE to read the offsets
 * as usual. Group lock held. */
static inline bool od_cg_hook_fetch(od_group_service *gs, od_str group_id, od_str member_id,
                                    int32_t member_epoch, int16_t *error)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    if (cg == NULL || !od_cg_has_group(cg, group_id))
        return false;
    *error = od_cg_validate_offset_fetch(cg, group_id, member_id, member_epoch);
    return true;
}

/* OffsetDelete on a consumer group: partitions of topics a member subscribes
 * to get GROUP_SUBSCRIBED_TO_TOPIC, the others are deleted (NONE, whether or
 * not an offset was committed). scratch holds n entries. Returns false when
 * the group is not a consumer group; otherwise *error is the group-level
 * error. Group lock held. */
static inline bool od_cg_hook_delete_offsets(od_group_service *gs, od_gc *gc, od_str group_id,
                                             od_gc_offset_delete *parts, int32_t n,
                                             od_gc_offset_delete *scratch, int16_t *error)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    if (cg == NULL || !od_cg_has_group(cg, group_id))
        return false;
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        parts[i].error = od_cg_validate_offset_delete(cg, group_id, parts[i].topic);
        if (parts[i].error == OD_ERR_NONE)
            scratch[k++] = parts[i];
    }
    *error = OD_ERR_NONE;
    if (k == 0)
        return true;
    int16_t err = od_gc_delete_offsets(gc, group_id, scratch, k);
    /* No offsets-only holder yet: nothing was ever committed to delete. */
    if (err == OD_GC_GROUP_ID_NOT_FOUND)
        return true;
    if (err != OD_ERR_NONE) {
        *error = err;
        return true;
    }
    k = 0;
    for (int32_t i = 0; i < n; i++)
        if (parts[i].error == OD_ERR_NONE)
            parts[i].error = scratch[k++].error;
    return true;
}

/* Whether group_id is a consumer group with members: the classic APIs then
 * go to its classic members (Kafka's classicGroup*ToConsumerGroup). */
static inline bool od_cg_hook_owns(od_group_service *gs, od_str group_id, od_cg **cgp)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    od_cg_group_info info;
    *cgp = cg;
    return cg != NULL && od_cg_has_group(cg, group_id) &&
           od_cg_group_info_get(cg, group_id, &info) && info.member_count > 0;
}

/* JoinGroup (classic) on a consumer group with members: the member joins
 * it as a classic member and is answered at once. Returns false when the
 * group is not such a group. Group lock held. */
static inline bool od_cg_hook_classic_join(od_group_service *gs, const od_gc_join_args *a,
                                           od_arena *arena, od_gc_join_result *out)
{
    od_cg *cg;
    if (!od_cg_hook_owns(gs, a->group_id, &cg))
        return false;
    od_cg_classic_join_args ca = {
        .group_id = a->group_id,
        .member_id = a->member_id,
        .group_instance_id = a->group_instance_id,
        .protocol_type = a->protocol_type,
        .protocols = a->protocols,
        .protocol_count = a->protocol_count,
        .session_timeout_ms = a->session_timeout_ms,
        .rebalance_timeout_ms = a->rebalance_timeout_ms,
        .client_id = a->client_id,
        .client_host = a->client_host,
        .require_known_member_id = a->require_known_member_id,
    };
    od_cg_classic_join_result r;
    od_cg_classic_join(cg, &ca, arena, &r);
    bool ok = r.error == OD_ERR_NONE;
    *out = (od_gc_join_result){
        .error = r.error,
        .generation_id = ok ? r.generation_id : -1,
        .protocol_type = ok ? OD_STR_LIT("consumer") : OD_STR_NULL,
        .protocol_name = ok ? r.protocol_name : OD_STR_NULL,
        .leader = OD_STR_LIT(""),
        .member_id = r.member_id.len >= 0 ? r.member_id : a->member_id,
    };
    return true;
}

/* JoinGroup (classic) on an empty consumer group: Kafka turns it into a
 * classic group (the consumer group's records are tombstoned). Returns the
 * error to answer, or NONE to go on. Group lock held. */
static inline int16_t od_cg_hook_join(od_group_service *gs, od_str group_id)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    od_cg_group_info info;
    if (cg == NULL || !od_cg_has_group(cg, group_id) ||
        !od_cg_group_info_get(cg, group_id, &info))
        return OD_ERR_NONE;
    if (info.member_count > 0)
        return OD_GC_GROUP_ID_NOT_FOUND;
    int16_t err = od_cg_delete_group(cg, group_id);
    return err == OD_GC_GROUP_ID_NOT_FOUND ? OD_ERR_NONE : err;
}

/* SyncGroup of a classic member of a consumer group. Returns false when
 * the group is not a consumer group with members. */
static inline bool od_cg_hook_classic_sync(od_group_service *gs, const od_gc_sync_args *a,
                                           od_arena *arena, od_gc_sync_result *out)
{
    od_cg *cg;
    if (!od_cg_hook_owns(gs, a->group_id, &cg))
        return false;
    od_cg_classic_sync_result r;
    od_cg_classic_sync(cg, a->group_id, a->member_id, a->group_instance_id, a->generation_id,
                       a->protocol_type, a->protocol_name, arena, &r);
    *out = (od_gc_sync_result){.error = r.error, .protocol_type = r.protocol_type,
                               .protocol_name = r.protocol_name, .assignment = r.assignment};
    return true;
}

/* Heartbeat of a classic member of a consumer group. */
static inline bool od_cg_hook_classic_heartbeat(od_group_service *gs, od_str group_id,
                                                od_str member_id, od_str instance_id,
                                                int32_t generation_id, int16_t *error)
{
    od_cg *cg;
    if (!od_cg_hook_owns(gs, group_id, &cg))
        return false;
    *error = od_cg_classic_heartbeat(cg, group_id, member_id, instance_id, generation_id);
    return true;
}

/* LeaveGroup of classic members of a consumer group. */
static inline bool od_cg_hook_classic_leave(od_group_service *gs, od_str group_id,
                                            od_gc_leave_member *members, int32_t n,
                                            od_arena *arena, int16_t *error)
{
    od_cg *cg;
    if (!od_cg_hook_owns(gs, group_id, &cg))
        return false;
    *error = od_cg_classic_leave(cg, group_id, members, n, arena);
    return true;
}

/* DeleteGroups of a consumer group: its records and its offsets. Returns
 * false when the group is not a consumer group. Group lock held. */
static inline bool od_cg_hook_delete(od_group_service *gs, od_gc *gc, od_str group_id,
                                     int16_t *error)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    if (cg == NULL || !od_cg_has_group(cg, group_id))
        return false;
    *error = od_cg_delete_group(cg, group_id);
    if (*error == OD_ERR_NONE)
        (void)od_gc_delete_group(gc, group_id); /* the offsets, when any were committed */
    return true;
}

/* DescribeGroups (classic) of a consumer group, with members or empty: Kafka
 * 3.9 describes only classic groups there, so every version answers "Dead",
 * no error, empty protocol type and data, no members (checked over the wire:
 * compat-tests/groups/test_classic_apis_on_consumer_groups.py). Returns
 * false when not a consumer group. */
static inline bool od_cg_hook_describe(od_group_service *gs, od_str group_id,
                                       od_gc_group_summary *out)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    if (cg == NULL || !od_cg_has_group(cg, group_id))
        return false;
    memset(out, 0, sizeof *out);
    out->state = OD_STR_LIT("Dead");
    out->protocol_type = OD_STR_LIT("");
    out->protocol_data = OD_STR_LIT("");
    return true;
}

static inline bool od_cg_str_ieq(od_str a, od_str b)
{
    return a.len == b.len && (a.len <= 0 || strncasecmp(a.ptr, b.ptr, (size_t)a.len) == 0);
}

/* ListGroups: the classic list minus the offsets-only holders of consumer
 * groups, plus the consumer groups that pass the filters (type "consumer",
 * protocol type "consumer"). *groups is replaced by an arena array.
 * Returns 0 or -1 (arena). Group lock held. */
static inline int od_cg_hook_list(od_group_service *gs, od_arena *arena, const od_str *states,
                                  int32_t state_count, const od_str *types, int32_t type_count,
                                  od_gc_listed_group **groups, int32_t *count)
{
    od_cg *cg = od_group_service_consumer_groups(gs);
    od_cg_listed_group *found = NULL;
    int32_t nf = 0;
    if (cg == NULL)
        return 0;
    if (od_cg_list(cg, arena, &found, &nf) != 0)
        return -1;
    od_gc_listed_group *out = od_arena_calloc(arena, (size_t)(*count + nf + 1), sizeof *out);
    if (out == NULL)
        return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < *count; i++)
        if (!od_cg_has_group(cg, (*groups)[i].group_id))
            out[n++] = (*groups)[i];
    bool type_ok = type_count == 0;
    for (int32_t i = 0; i < type_count; i++)
        type_ok = type_ok || od_cg_str_ieq(types[i], OD_STR_LIT("consumer"));
    for (int32_t i = 0; i < nf && type_ok; i++) {
        bool state_ok = state_count == 0;
        for (int32_t k = 0; k < state_count; k++)
            state_ok = state_ok || od_cg_str_ieq(states[k], found[i].state);
        if (!state_ok)
            continue;
        out[n++] = (od_gc_listed_group){found[i].group_id, OD_STR_LIT("consumer"), found[i].state,
                                        OD_STR_LIT("consumer")};
    }
    *groups = out;
    *count = n;
    return 0;
}

#endif
