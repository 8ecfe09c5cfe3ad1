/*
 * Reading and writing bootstrap.checkpoint.
 *
 * Invariants: see bootstrap.h (1-3). State machine: none.
 */
#include "bootstrap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_log.h"
#include "records/records.h"

enum { BOOTSTRAP_MAX_BYTES = 64 * 1024 * 1024 };

od_kr_err od_bootstrap_write(od_fio *io, const char *dir, const od_mrec *recs, int32_t count,
                             int64_t now_ms)
{
    if (count <= 0)
        return OD_KR_INVALID;
    od_writer w;
    od_writer_init(&w, 512);
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = 0;
    p.base_offset = 0;

    od_snapshot_header_record header;
    od_snapshot_header_record_init(&header);
    header.version = 0;
    header.last_contained_log_timestamp = 0;
    od_kctl hctl = {OD_KCTL_SNAPSHOT_HEADER, &header};
    od_batch_err err = od_kctl_batch_build(&p, &hctl, now_ms, &w);

    p.base_offset = 1;
    if (err == OD_BATCH_OK)
        err = od_mrec_batch_build(&p, recs, count, now_ms, &w);

    od_snapshot_footer_record footer;
    od_snapshot_footer_record_init(&footer);
    footer.version = 0;
    od_kctl fctl = {OD_KCTL_SNAPSHOT_FOOTER, &footer};
    p.base_offset = 1 + count;
    if (err == OD_BATCH_OK)
        err = od_kctl_batch_build(&p, &fctl, now_ms, &w);
    if (err != OD_BATCH_OK) {
        od_writer_free(&w);
        return err == OD_BATCH_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_INVALID;
    }
    int rc = od_fio_write_atomic(io, dir, OD_BOOTSTRAP_CHECKPOINT, w.buf, w.len);
    od_writer_free(&w);
    return rc == 0 ? OD_KR_OK : OD_KR_IO;
}

typedef struct collect_ctx {
    od_arena *arena;
    od_mrec *recs;
    int32_t count, cap;
} collect_ctx;

static od_st_err collect(void *ctx, const od_raft_entry *e)
{
    collect_ctx *c = ctx;
    if (e->control)
        return OD_ST_OK; /* invariant 2 */
    if (!od_arena_grow(c->arena, &c->recs, &c->cap, c->count + 1, sizeof *c->recs))
        return OD_ST_NO_MEMORY;
    c->recs[c->count++] = e->rec;
    return OD_ST_OK;
}

od_kr_err od_bootstrap_read(od_fio *io, const char *dir, od_arena *arena, od_mrec **recs,
                            int32_t *count, bool *found)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, OD_BOOTSTRAP_CHECKPOINT) >= sizeof path)
        return OD_KR_INVALID;
    char *file = NULL;
    size_t len = 0;
    int rc = od_fio_read_file(io, path, BOOTSTRAP_MAX_BYTES, &file, &len);
    if (rc == -ENOENT) {
        *found = false;
        return OD_KR_OK;
    }
    if (rc < 0)
        return rc == -EFBIG ? OD_KR_CORRUPT : OD_KR_IO;
    /* The records are views into the bytes: keep them in the caller's arena. */
    uint8_t *bytes = od_arena_alloc(arena, len ? len : 1);
    if (!bytes) {
        free(file);
        return OD_KR_NO_MEMORY;
    }
    memcpy(bytes, file, len);
    free(file);

    collect_ctx c = {arena, NULL, 0, 0};
    od_record_set_iter it;
    od_record_set_iter_init(&it, bytes, len);
    const uint8_t *entry;
    size_t entry_len;
    int8_t magic;
    od_kr_err err = OD_KR_OK;
    while (err == OD_KR_OK && od_record_set_next(&it, &entry, &entry_len, &magic)) {
        od_batch_header h;
        /* Records of a compressed batch would point into a buffer freed
         * after the visit; Kafka never compresses this file. */
        if (magic != 2 || od_batch_header_parse(entry, entry_len, &h) != OD_BATCH_OK ||
            od_batch_compression(&h) != OD_COMPRESSION_NONE) {
            err = OD_KR_CORRUPT;
            break;
        }
        od_st_err serr = od_raft_batch_visit(entry, entry_len, 0, arena, collect, &c);
        if (serr != OD_ST_OK)
            err = serr == OD_ST_NO_MEMORY ? OD_KR_NO_MEMORY : OD_KR_CORRUPT;
    }
    if (err == OD_KR_OK && it.err != OD_BATCH_OK)
        err = OD_KR_CORRUPT;
    if (err == OD_KR_OK && od_bootstrap_metadata_version(c.recs, c.count) <= 0)
        err = OD_KR_CORRUPT; /* invariant 3 */
    if (err != OD_KR_OK)
        return err;
    *recs = c.recs;
    *count = c.count;
    *found = true;
    return OD_KR_OK;
}

int16_t od_bootstrap_metadata_version(const od_mrec *recs, int32_t count)
{
    int16_t level = 0;
    for (int32_t i = 0; i < count; i++) {
        if (recs[i].type != OD_MREC_FEATURE_LEVEL)
            continue;
        const od_feature_level_record *f = recs[i].msg;
        if (od_str_eq_cstr(f->name, OD_METADATA_VERSION_FEATURE))
            level = f->feature_level;
    }
    return level;
}
