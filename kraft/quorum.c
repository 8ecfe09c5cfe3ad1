/*
 * One voter's view of the KRaft quorum.
 *
 * Invariants and state machine: see quorum.h (1-6 and the transition table).
 * Internal:
 *   7. Transitions go through transition_to(), the one place that writes
 *      quorum-state and then changes role/epoch/leader/vote (invariant 1).
 *   8. voter_end[i] is the flushed log end of voters[i] as the leader knows
 *      it; only the local entry is maintained until followers fetch.
 */
#include "quorum.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records/batch_builder.h"

enum { MAX_VOTERS = 64, STATE_FILE_MAX = 1 << 16 };

struct od_quorum {
    od_fio *io;
    od_raft_log *log;
    int32_t node_id;
    int32_t voter_count;
    int32_t voters[MAX_VOTERS];
    int64_t voter_end[MAX_VOTERS];   /* invariant 8 */

    od_quorum_role role;
    int32_t epoch;
    int32_t leader_id;
    int32_t voted_id;
    int64_t epoch_start_offset;      /* where this leader's LeaderChangeMessage went */

    od_st_err storage_err;           /* non-OK: Failed (invariant 6) */
};

const char *od_quorum_role_name(od_quorum_role role)
{
    switch (role) {
    case OD_QUORUM_UNATTACHED: return "Unattached";
    case OD_QUORUM_VOTED: return "Voted";
    case OD_QUORUM_CANDIDATE: return "Candidate";
    case OD_QUORUM_LEADER: return "Leader";
    case OD_QUORUM_FOLLOWER: return "Follower";
    case OD_QUORUM_RESIGNED: return "Resigned";
    }
    return "Unknown";
}

/* ---------------------------------------------------------------- quorum-state JSON */

/* A reader for the one-line JSON object Kafka writes. It understands the
 * whole JSON grammar enough to skip fields it does not know (a newer Kafka
 * may add some), and extracts the ones QuorumStateData has. */
typedef struct json_in {
    const char *p, *end;
    bool bad;
} json_in;

static void json_ws(json_in *j)
{
    while (j->p < j->end && isspace((unsigned char)*j->p))
        j->p++;
}

static bool json_eat(json_in *j, char c)
{
    json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

/* Reads a string into out (truncated to cap-1); escapes are kept verbatim
 * except \" and \\, which no field we read contains anyway. */
static bool json_string(json_in *j, char *out, size_t cap)
{
    size_t n = 0;
    if (!json_eat(j, '"'))
        return false;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\' && j->p < j->end)
            c = *j->p++;
        if (out && n + 1 < cap)
            out[n++] = c;
    }
    if (out && cap)
        out[n] = '\0';
    return json_eat(j, '"');
}

static bool json_int(json_in *j, int64_t *v)
{
    json_ws(j);
    char buf[32];
    size_t n = 0;
    while (j->p < j->end && n + 1 < sizeof buf &&
           (isdigit((unsigned char)*j->p) || *j->p == '-' || *j->p == '+'))
        buf[n++] = *j->p++;
    buf[n] = '\0';
    if (n == 0)
        return false;
    char *e;
    errno = 0;
    long long x = strtoll(buf, &e, 10);
    if (*e != '\0' || errno != 0)
        return false;
    *v = x;
    return true;
}

static bool json_skip_value(json_in *j, int depth)
{
    json_ws(j);
    if (j->p >= j->end || depth > 16)
        return false;
    char c = *j->p;
    if (c == '"')
        return json_string(j, NULL, 0);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (json_eat(j, close))
            return true;
        do {
            if (c == '{') {
                if (!json_string(j, NULL, 0) || !json_eat(j, ':'))
                    return false;
            }
            if (!json_skip_value(j, depth + 1))
                return false;
        } while (json_eat(j, ','));
        return json_eat(j, close);
    }
    /* number, true, false, null */
    const char *start = j->p;
    while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '-' || *j->p == '+' ||
                             *j->p == '.'))
        j->p++;
    return j->p > start;
}

static bool json_int32_field(json_in *j, int32_t *out)
{
    int64_t v;
    if (!json_int(j, &v) || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

static bool parse_voters(json_in *j, od_election_state *st)
{
    json_ws(j);
    if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
        j->p += 4;
        return true;
    }
    if (!json_eat(j, '['))
        return false;
    if (json_eat(j, ']'))
        return true;
    do {
        if (!json_eat(j, '{'))
            return false;
        int32_t id = -1;
        bool any = false;
        if (!json_eat(j, '}')) {
            do {
                char key[32];
                if (!json_string(j, key, sizeof key) || !json_eat(j, ':'))
                    return false;
                if (strcmp(key, "voterId") == 0) {
                    if (!json_int32_field(j, &id))
                        return false;
                    any = true;
                } else if (!json_skip_value(j, 1)) {
                    return false;
                }
            } while (json_eat(j, ','));
            if (!json_eat(j, '}'))
                return false;
        }
        if (!any || st->voter_count >= MAX_VOTERS)
            return false;
        st->voters[st->voter_count++] = id;
    } while (json_eat(j, ','));
    return json_eat(j, ']');
}

static bool parse_state(const char *text, size_t len, od_election_state *st)
{
    json_in j = {text, text + len, false};
    memset(st, 0, sizeof *st);
    st->leader_id = -1;
    st->epoch = -1;
    st->voted_id = -1;
    bool have_version = false, have_epoch = false;
    if (!json_eat(&j, '{'))
        return false;
    if (!json_eat(&j, '}')) {
        do {
            char key[64];
            if (!json_string(&j, key, sizeof key) || !json_eat(&j, ':'))
                return false;
            bool ok;
            if (strcmp(key, "leaderId") == 0) {
                ok = json_int32_field(&j, &st->leader_id);
            } else if (strcmp(key, "leaderEpoch") == 0) {
                ok = json_int32_field(&j, &st->epoch);
                have_epoch = ok;
            } else if (strcmp(key, "votedId") == 0) {
                ok = json_int32_field(&j, &st->voted_id);
            } else if (strcmp(key, "currentVoters") == 0) {
                ok = parse_voters(&j, st);
            } else if (strcmp(key, "data_version") == 0) {
                int32_t v;
                ok = json_int32_field(&j, &v) && (v == 0 || v == 1);
                have_version = ok;
            } else {
                ok = json_skip_value(&j, 1);
            }
            if (!ok)
                return false;
        } while (json_eat(&j, ','));
        if (!json_eat(&j, '}'))
            return false;
    }
    json_ws(&j);
    /* Kafka reads one line; a trailing newline from a hand edit is fine. */
    return have_version && have_epoch && j.p == j.end;
}

od_kr_err od_quorum_state_read(od_fio *io, const char *dir, od_election_state *st, bool *found)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, OD_QUORUM_STATE_FILE) >= sizeof path)
        return OD_KR_INVALID;
    char *text = NULL;
    size_t len = 0;
    int rc = od_fio_read_file(io, path, STATE_FILE_MAX, &text, &len);
    if (rc == -ENOENT) {
        *found = false;
        return OD_KR_OK;
    }
    if (rc < 0)
        return rc == -EFBIG ? OD_KR_CORRUPT : OD_KR_IO;
    bool ok = parse_state(text, len, st);
    free(text);
    if (!ok)
        return OD_KR_CORRUPT;
    *found = true;
    return OD_KR_OK;
}

od_kr_err od_quorum_state_write(od_fio *io, const char *dir, const od_election_state *st)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "{\"clusterId\":\"\",\"leaderId\":%" PRId32 ",\"leaderEpoch\":%" PRId32
                     ",\"votedId\":%" PRId32 ",\"appliedOffset\":0,\"currentVoters\":[",
                     st->leader_id, st->epoch, st->voted_id);
    for (int32_t i = 0; i < st->voter_count && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s{\"voterId\":%" PRId32 "}",
                      i ? "," : "", st->voters[i]);
    if (n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "],\"data_version\":0}");
    if (n <= 0 || (size_t)n >= sizeof buf)
        return OD_KR_INVALID;
    return od_fio_write_atomic(io, dir, OD_QUORUM_STATE_FILE, buf, (size_t)n) == 0 ? OD_KR_OK
                                                                                    : OD_KR_IO;
}

/* ---------------------------------------------------------------- transitions */

static int voter_index(const od_quorum *q, int32_t id)
{
    for (int32_t i = 0; i < q->voter_count; i++)
        if (q->voters[i] == id)
            return i;
    return -1;
}

static od_kr_err fail(od_quorum *q, od_st_err err)
{
    if (q->storage_err == OD_ST_OK)
        q->storage_err = err == OD_ST_OK ? OD_ST_IO : err;
    return OD_KR_IO;
}

/* Invariant 7: persist, then switch. */
static od_kr_err transition_to(od_quorum *q, od_quorum_role role, int32_t epoch,
                               int32_t leader_id, int32_t voted_id)
{
    od_election_state st = {
        .leader_id = leader_id,
        .epoch = epoch,
        .voted_id = voted_id,
        .voter_count = q->voter_count,
    };
    memcpy(st.voters, q->voters, (size_t)q->voter_count * sizeof *q->voters);
    od_kr_err err = od_quorum_state_write(q->io, od_raft_log_dir(q->log), &st);
    if (err != OD_KR_OK)
        return err == OD_KR_IO ? fail(q, OD_ST_IO) : err;
    q->role = role;
    q->epoch = epoch;
    q->leader_id = leader_id;
    q->voted_id = voted_id;
    return OD_KR_OK;
}

/* Invariants 3 and 4: the largest offset a majority holds, once it covers
 * the current epoch's first entry. */
static void update_high_watermark(od_quorum *q)
{
    int64_t ends[MAX_VOTERS];
    for (int32_t i = 0; i < q->voter_count; i++)
        ends[i] = q->voter_end[i];
    /* Sort descending; voter counts are tiny. */
    for (int32_t i = 1; i < q->voter_count; i++)
        for (int32_t k = i; k > 0 && ends[k] > ends[k - 1]; k--) {
            int64_t t = ends[k];
            ends[k] = ends[k - 1];
            ends[k - 1] = t;
        }
    int64_t majority_end = ends[q->voter_count / 2];
    if (majority_end > q->epoch_start_offset)
        od_raft_log_advance_high_watermark(q->log, majority_end);
}

static void note_local_end(od_quorum *q)
{
    int i = voter_index(q, q->node_id);
    if (i >= 0)
        q->voter_end[i] = od_raft_log_flushed_end(q->log); /* invariant 4: flushed */
}

static od_kr_err become_leader(od_quorum *q, int64_t now_ms)
{
    od_kr_err err = transition_to(q, OD_QUORUM_LEADER, q->epoch, q->node_id, -1);
    if (err != OD_KR_OK)
        return err;
    for (int32_t i = 0; i < q->voter_count; i++)
        q->voter_end[i] = 0;
    q->epoch_start_offset = od_raft_log_end_offset(q->log);

    /* The start-of-epoch control batch, as Kafka's leader writes it. */
    od_leader_change_message_voter voters[MAX_VOTERS];
    for (int32_t i = 0; i < q->voter_count; i++) {
        od_leader_change_message_voter_init(&voters[i]);
        voters[i].voter_id = q->voters[i];
    }
    od_leader_change_message_voter self;
    od_leader_change_message_voter_init(&self);
    self.voter_id = q->node_id;
    od_leader_change_message m;
    od_leader_change_message_init(&m);
    m.version = 0;
    m.leader_id = q->node_id;
    m.voters = (od_leader_change_message_voter_array){q->voter_count, voters};
    /* Granting voters: the ones whose votes elected us; alone, just us. */
    m.granting_voters = (od_leader_change_message_voter_array){1, &self};
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = q->epoch;
    od_kctl ctl = {OD_KCTL_LEADER_CHANGE, &m};
    od_writer w;
    od_writer_init(&w, 128);
    od_batch_err berr = od_kctl_batch_build(&p, &ctl, now_ms, &w);
    if (berr != OD_BATCH_OK) {
        od_writer_free(&w);
        return berr == OD_BATCH_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_INVALID;
    }
    od_st_err serr = od_raft_log_append_leader(q->log, w.buf, w.len, q->epoch, now_ms, NULL);
    od_writer_free(&w);
    if (serr != OD_ST_OK)
        return fail(q, serr);
    note_local_end(q);
    update_high_watermark(q);
    return OD_KR_OK;
}

od_kr_err od_quorum_poll(od_quorum *q, int64_t now_ms)
{
    if (q->storage_err != OD_ST_OK)
        return OD_KR_FAILED;
    if (q->role == OD_QUORUM_LEADER)
        return OD_KR_OK;
    bool sole_voter = q->voter_count == 1 && q->voters[0] == q->node_id;
    if (!sole_voter)
        return OD_KR_UNSUPPORTED; /* elections over the network come next */
    /* Our own vote is a majority of one: Candidate(e+1), then Leader. */
    od_kr_err err = transition_to(q, OD_QUORUM_CANDIDATE, q->epoch + 1, -1, q->node_id);
    if (err != OD_KR_OK)
        return err;
    return become_leader(q, now_ms);
}

/* ---------------------------------------------------------------- open / close */

od_kr_err od_quorum_open(const od_quorum_config *cfg, int64_t now_ms, od_quorum **out)
{
    if (!cfg->io || !cfg->metadata_log_dir || cfg->voter_count < 1 ||
        cfg->voter_count > MAX_VOTERS)
        return OD_KR_INVALID;
    od_quorum *q = calloc(1, sizeof *q);
    if (!q)
        return OD_KR_NO_MEMORY;
    q->io = cfg->io;
    q->node_id = cfg->node_id;
    q->voter_count = cfg->voter_count;
    memcpy(q->voters, cfg->voters, (size_t)cfg->voter_count * sizeof *cfg->voters);
    q->leader_id = -1;
    q->voted_id = -1;
    q->epoch = 0;

    od_st_err serr = od_raft_log_open(cfg->io, cfg->metadata_log_dir, &cfg->log, now_ms, &q->log);
    if (serr != OD_ST_OK) {
        free(q);
        return serr == OD_ST_NO_MEMORY ? OD_KR_NO_MEMORY
               : serr == OD_ST_CORRUPT ? OD_KR_CORRUPT
                                       : OD_KR_IO;
    }
    od_election_state st;
    bool found = false;
    od_kr_err err = od_quorum_state_read(cfg->io, od_raft_log_dir(q->log), &st, &found);
    if (err != OD_KR_OK) {
        od_raft_log_close(q->log, false);
        free(q);
        return err;
    }
    q->role = OD_QUORUM_UNATTACHED;
    if (found) {
        q->epoch = st.epoch;
        if (st.leader_id == q->node_id) {
            q->role = OD_QUORUM_RESIGNED; /* see the restart rules in quorum.h */
            q->leader_id = q->node_id;
        } else if (st.leader_id >= 0) {
            q->role = OD_QUORUM_FOLLOWER;
            q->leader_id = st.leader_id;
        } else if (st.voted_id == q->node_id) {
            q->role = OD_QUORUM_CANDIDATE;
            q->voted_id = st.voted_id;
        } else if (st.voted_id >= 0) {
            q->role = OD_QUORUM_VOTED;
            q->voted_id = st.voted_id;
        }
    }
    /* A log written at a later epoch than the state file says (the file
     * was lost, or the log came from elsewhere) wins: epochs never go back. */
    int32_t log_epoch = od_raft_log_last_epoch(q->log);
    if (log_epoch > q->epoch) {
        q->epoch = log_epoch;
        q->role = OD_QUORUM_UNATTACHED;
        q->leader_id = -1;
        q->voted_id = -1;
    }
    *out = q;
    return OD_KR_OK;
}

od_kr_err od_quorum_close(od_quorum *q, bool clean)
{
    if (!q)
        return OD_KR_OK;
    od_st_err serr = od_raft_log_close(q->log, clean && q->storage_err == OD_ST_OK);
    free(q);
    return serr == OD_ST_OK ? OD_KR_OK : OD_KR_IO;
}

/* ---------------------------------------------------------------- accessors */

od_quorum_role od_quorum_role_of(const od_quorum *q) { return q->role; }
int32_t od_quorum_epoch(const od_quorum *q) { return q->epoch; }
int32_t od_quorum_leader_id(const od_quorum *q) { return q->leader_id; }
int64_t od_quorum_high_watermark(const od_quorum *q) { return od_raft_log_high_watermark(q->log); }
int64_t od_quorum_end_offset(const od_quorum *q) { return od_raft_log_end_offset(q->log); }
od_st_err od_quorum_storage_err(const od_quorum *q) { return q->storage_err; }
od_raft_log *od_quorum_log(od_quorum *q) { return q->log; }

/* ---------------------------------------------------------------- append and read */

static od_kr_err append(od_quorum *q, const od_mrec *recs, int32_t count, int64_t now_ms,
                        bool sync, int64_t *last_offset)
{
    if (q->storage_err != OD_ST_OK)
        return OD_KR_FAILED;
    if (q->role != OD_QUORUM_LEADER)
        return OD_KR_NOT_LEADER;
    if (count <= 0)
        return OD_KR_INVALID;
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = q->epoch;
    od_writer w;
    od_writer_init(&w, 256);
    od_batch_err berr = od_mrec_batch_build(&p, recs, count, now_ms, &w);
    if (berr != OD_BATCH_OK) {
        od_writer_free(&w);
        return berr == OD_BATCH_NO_MEMORY ? OD_KR_NO_MEMORY
               : berr == OD_BATCH_TOO_LARGE ? OD_KR_TOO_LARGE
                                            : OD_KR_INVALID;
    }
    if (w.len > OD_RAFT_MAX_BATCH_BYTES) {
        od_writer_free(&w);
        return OD_KR_TOO_LARGE;
    }
    int64_t last = -1;
    od_st_err serr = sync ? od_raft_log_append_leader(q->log, w.buf, w.len, q->epoch, now_ms, &last)
                          : od_raft_log_append_leader_unsynced(q->log, w.buf, w.len, q->epoch,
                                                               now_ms, &last);
    od_writer_free(&w);
    if (serr != OD_ST_OK)
        return fail(q, serr);
    if (sync) {
        note_local_end(q);
        update_high_watermark(q);
    }
    if (last_offset)
        *last_offset = last;
    return OD_KR_OK;
}

od_kr_err od_quorum_append(od_quorum *q, const od_mrec *recs, int32_t count, int64_t now_ms,
                           int64_t *last_offset)
{
    return append(q, recs, count, now_ms, true, last_offset);
}

od_kr_err od_quorum_append_unsynced(od_quorum *q, const od_mrec *recs, int32_t count,
                                    int64_t now_ms, int64_t *last_offset)
{
    return append(q, recs, count, now_ms, false, last_offset);
}

od_kr_err od_quorum_flush(od_quorum *q, int64_t now_ms)
{
    if (q->storage_err != OD_ST_OK)
        return OD_KR_FAILED;
    od_st_err serr = od_raft_log_flush(q->log, now_ms);
    if (serr != OD_ST_OK)
        return fail(q, serr);
    note_local_end(q);
    update_high_watermark(q);
    return OD_KR_OK;
}

typedef struct read_ctx {
    int64_t from;
    od_raft_entry_fn fn;
    void *ctx;
} read_ctx;

static od_st_err read_batch(void *ctx, const uint8_t *batch, size_t len)
{
    read_ctx *rc = ctx;
    od_arena arena;
    od_arena_init(&arena);
    od_st_err err = od_raft_batch_visit(batch, len, rc->from, &arena, rc->fn, rc->ctx);
    od_arena_release(&arena);
    return err;
}

od_kr_err od_quorum_read_committed(od_quorum *q, int64_t from, od_raft_entry_fn fn, void *ctx)
{
    if (q->storage_err != OD_ST_OK)
        return OD_KR_FAILED;
    read_ctx rc = {from, fn, ctx};
    od_st_err err = od_raft_log_scan(q->log, from, od_raft_log_high_watermark(q->log), read_batch,
                                     &rc);
    switch (err) {
    case OD_ST_OK: return OD_KR_OK;
    case OD_ST_NO_MEMORY: return OD_KR_NO_MEMORY;
    case OD_ST_CORRUPT: return OD_KR_CORRUPT;
    case OD_ST_INVALID_ARG: return OD_KR_INVALID;
    default: return fail(q, err);
    }
}
