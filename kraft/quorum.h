/*
 * The KRaft quorum: election state, the local log, the high watermark, and
 * the leader's append path. Kafka's Raft (KIP-595) as seen from one voter.
 *
 * State machine (per KIP-595; epochs only grow, and every transition that
 * changes the epoch, the vote or the leader is written to quorum-state
 * before it takes effect):
 *
 *   Unattached(e)  -- grant a vote ------------------> Voted(e', v)
 *   Unattached(e)  -- election timeout (voter) ------> Candidate(e+1)
 *   Unattached(e)  -- learn leader L of e' >= e -----> Follower(e', L)
 *   Voted(e, v)    -- election timeout --------------> Candidate(e+1)
 *   Voted(e, v)    -- learn leader L of e -----------> Follower(e, L)
 *   Candidate(e)   -- votes from a majority ---------> Leader(e)
 *   Candidate(e)   -- election timeout (backoff) ----> Candidate(e+1)
 *   Candidate(e)   -- learn leader L of e' >= e -----> Follower(e', L)
 *   Leader(e)      -- shutdown / check-quorum fails -> Resigned(e)
 *   Follower(e, L) -- fetch timeout (voter) ---------> Candidate(e+1)
 *   Resigned(e)    -- election timeout --------------> Candidate(e+1)
 *   any(e)         -- message with epoch e' > e -----> Unattached(e') (or Follower(e', L))
 *
 * On start the stored state is reloaded: a node that was Leader(e) restarts
 * as Resigned(e) (it cannot know what it acknowledged before the crash was
 * committed), Candidate(e) as Unattached with its vote kept, and so on.
 *
 * Implemented now: the transitions a quorum of one voter takes, without a
 * network: Unattached/Resigned -> Candidate(e+1) -> Leader(e+1) at once in
 * od_quorum_poll, because the local vote is already a majority. With more
 * voters od_quorum_poll leaves the node Unattached (OD_KR_UNSUPPORTED): the
 * Vote/BeginQuorumEpoch/Fetch exchange is the next layer. The majority,
 * high-watermark and epoch-start rules below are already written for N
 * voters.
 *
 * Invariants
 *   1. quorum-state is rewritten (atomically: tmp, fsync, rename) before the
 *      in-memory state changes epoch, vote or leader; a crash never leaves a
 *      node that voted twice in one epoch or forgot its epoch.
 *   2. The quorum-state file is Kafka's (data_version 0 while kraft.version
 *      is 0): one line of JSON, no newline, fields in spec order.
 *   3. A new leader appends a LeaderChangeMessage control batch at its epoch
 *      before any data; the high watermark only moves once an offset of the
 *      current epoch is held by a majority (an earlier epoch's entries are
 *      committed indirectly, as Raft requires).
 *   4. High watermark = the largest offset held (fsynced) by a majority of
 *      voters; the leader counts its own flushed log end, never an unsynced
 *      append of a group commit.
 *   5. Appends are accepted only as Leader; every append is one batch (the
 *      controller's records are atomic) of at most OD_RAFT_MAX_BATCH_BYTES.
 *   6. After a storage error the quorum is Failed: it refuses appends and
 *      reads until reopened (principle 10).
 *
 * Threads: one owner thread (the controller's); not thread-safe.
 */
#ifndef ODRADEK_KRAFT_QUORUM_H
#define ODRADEK_KRAFT_QUORUM_H

#include <stdbool.h>
#include <stdint.h>

#include "fileio.h"
#include "kraft_err.h"
#include "raft_log.h"

#define OD_QUORUM_STATE_FILE "quorum-state"



typedef enum od_quorum_role {
    OD_QUORUM_UNATTACHED,
    OD_QUORUM_VOTED,
    OD_QUORUM_CANDIDATE,
    OD_QUORUM_LEADER,
    OD_QUORUM_FOLLOWER,
    OD_QUORUM_RESIGNED,
} od_quorum_role;

const char *od_quorum_role_name(od_quorum_role role);

/* The persisted election state (raft/QuorumStateData.json). */
typedef struct od_election_state {
    int32_t leader_id;     /* -1: none */
    int32_t epoch;
    int32_t voted_id;      /* -1: none */
    int32_t voter_count;   /* currentVoters (data_version 0) */
    int32_t voters[64];
} od_election_state;

/* Reads dir/quorum-state. *found false (and OD_KR_OK) when absent. */
od_kr_err od_quorum_state_read(od_fio *io, const char *dir, od_election_state *st, bool *found);
/* Writes dir/quorum-state atomically in Kafka's data_version 0 form. */
od_kr_err od_quorum_state_write(od_fio *io, const char *dir, const od_election_state *st);

typedef struct od_quorum_config {
    od_fio *io;
    const char *metadata_log_dir;  /* metadata.log.dir, else the first log.dirs entry */
    int32_t node_id;
    const int32_t *voters;         /* controller.quorum.voters ids */
    int32_t voter_count;           /* 1..64 */
    od_raft_log_config log;        /* segment rolling; zeros: Kafka's defaults */
} od_quorum_config;

typedef struct od_quorum od_quorum;

/* Opens the log and reloads the election state (see the restart rules
 * above). The node starts Unattached or Resigned; od_quorum_poll elects. */
od_kr_err od_quorum_open(const od_quorum_config *cfg, int64_t now_ms, od_quorum **out);

/* Closes the log (clean: flushed) and frees q. */
od_kr_err od_quorum_close(od_quorum *q, bool clean);

/* Drives timers and elections. A sole voter becomes Leader of the next epoch
 * here, appending its LeaderChangeMessage and committing it. */
od_kr_err od_quorum_poll(od_quorum *q, int64_t now_ms);

od_quorum_role od_quorum_role_of(const od_quorum *q);
int32_t od_quorum_epoch(const od_quorum *q);
int32_t od_quorum_leader_id(const od_quorum *q);
int64_t od_quorum_high_watermark(const od_quorum *q);
int64_t od_quorum_end_offset(const od_quorum *q);
/* The storage error behind OD_KR_IO / OD_KR_FAILED. */
od_st_err od_quorum_storage_err(const od_quorum *q);
od_raft_log *od_quorum_log(od_quorum *q);

/* Appends records as one batch at the current epoch and commits it (for a
 * quorum of one, at once). *last_offset (may be NULL): the last offset. */
od_kr_err od_quorum_append(od_quorum *q, const od_mrec *recs, int32_t count, int64_t now_ms,
                           int64_t *last_offset);

/* Group commit: appends one batch like od_quorum_append but without the
 * fsync, so nothing is committed (and the high watermark stays) until
 * od_quorum_flush, which fsyncs every batch appended so far and commits
 * them (for a quorum of one). A failed flush fails the quorum (invariant 6):
 * the unsynced batches may or may not survive a restart. */
od_kr_err od_quorum_append_unsynced(od_quorum *q, const od_mrec *recs, int32_t count,
                                    int64_t now_ms, int64_t *last_offset);
od_kr_err od_quorum_flush(od_quorum *q, int64_t now_ms);

/* Calls fn for every committed entry (offset < high watermark) at or after
 * `from`, in log order. Decoded messages are valid only during fn. */
od_kr_err od_quorum_read_committed(od_quorum *q, int64_t from, od_raft_entry_fn fn, void *ctx);

#endif
