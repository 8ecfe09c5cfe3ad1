/*
 * The body shared by the libFuzzer target and the mutation test: any bytes
 * as a metadata record value, then as a log's batches; whatever decodes is
 * applied to an image. Nothing may crash, leak or read out of bounds.
 * Invariants: the image stays usable (clone and compare) after any input.
 * State machine: none.
 */
#ifndef ODRADEK_KRAFT_FUZZ_ONE_H
#define ODRADEK_KRAFT_FUZZ_ONE_H

#include <stddef.h>
#include <stdint.h>

#include "metadata_image.h"
#include "raft_log.h"
#include "records/records.h"

static od_st_err kraft_fuzz_apply(void *ctx, const od_raft_entry *e)
{
    if (!e->control)
        (void)od_mimage_apply(ctx, &e->rec, e->offset, e->epoch);
    else
        od_mimage_advance(ctx, e->offset, e->epoch);
    return OD_ST_OK;
}

static inline void kraft_fuzz_one(const uint8_t *data, size_t size)
{
    od_mimage *img = od_mimage_new();
    if (!img)
        return;
    od_arena arena;
    od_arena_init(&arena);
    od_mrec rec;
    if (od_mrec_decode(data, size, &arena, &rec) == OD_WIRE_OK) {
        (void)od_mimage_apply(img, &rec, 0, 0);
        od_writer w;
        od_writer_init(&w, 64);
        (void)od_mrec_encode(&rec, &w);
        od_writer_free(&w);
    }
    od_record_set_iter it;
    od_record_set_iter_init(&it, data, size);
    const uint8_t *entry;
    size_t len;
    int8_t magic;
    while (od_record_set_next(&it, &entry, &len, &magic))
        if (magic == 2)
            (void)od_raft_batch_visit(entry, len, 0, &arena, kraft_fuzz_apply, img);
    od_mimage *copy = od_mimage_clone(img);
    if (copy && !od_mimage_equal(img, copy))
        __builtin_trap();
    od_mimage_free(copy);
    od_arena_release(&arena);
    od_mimage_free(img);
}

#endif
