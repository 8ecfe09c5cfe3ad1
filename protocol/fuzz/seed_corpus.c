/*
 * Writes a seed corpus for the codec fuzzers: one valid encoding of every
 * message at every version, made by the generated random fillers. Seeds
 * start the fuzzers deep inside each decoder instead of at its first field.
 *
 *   od_fuzz_seed_corpus REQUEST_DIR MESSAGE_DIR
 */
#include <stdio.h>
#include <stdlib.h>

#include "od_messages.h"
#include "od_messages_testing.h"

static int write_file(const char *dir, const char *name, int16_t version, const od_writer *w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-v%d", dir, name, version);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(w->buf, 1, w->len, f) != w->len) {
        perror(path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

/* Encodes a random desc@version after `prefix` bytes of the caller's choosing. */
static int encode_random(const od_message_desc *desc, int16_t version, od_writer *w, od_arena *arena,
                         uint64_t seed)
{
    void *msg = od_arena_alloc(arena, desc->struct_size);
    od_rng rng;
    od_rng_seed(&rng, seed);
    desc->init(msg);
    od_message_fill_random(desc)(msg, version, &rng, arena);
    return desc->encode(msg, w, version) == OD_WIRE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s REQUEST_DIR MESSAGE_DIR\n", argv[0]);
        return 2;
    }
    int failures = 0;
    for (size_t i = 0; i < od_api_info_count; i++) {
        const od_api_info *api = &od_api_infos[i];
        for (int16_t v = api->min_version; v <= api->latest_version; v++) {
            od_arena arena;
            od_arena_init(&arena);
            od_writer w;
            od_writer_init(&w, 256);
            od_request_header header;
            od_request_header_init(&header);
            header.request_api_key = api->api_key;
            header.request_api_version = v;
            header.correlation_id = 7;
            header.client_id = OD_STR_LIT("seed");
            od_request_header_encode(&header, &w, (int16_t)od_request_header_version(api->api_key, v));
            if (encode_random(api->request, v, &w, &arena, (uint64_t)i * 1000 + (uint64_t)v) != 0 ||
                w.err || write_file(argv[1], api->name, v, &w) != 0)
                failures++;
            od_writer_free(&w);
            od_arena_release(&arena);
        }
    }
    for (size_t i = 0; i < od_message_desc_count; i++) {
        const od_message_desc *desc = &od_message_descs[i];
        for (int16_t v = desc->min_version; v <= desc->max_version; v++) {
            od_arena arena;
            od_arena_init(&arena);
            od_writer w;
            od_writer_init(&w, 256);
            /* fuzz_message reads the message index and the version offset from two bytes. */
            od_write_i8(&w, (int8_t)(uint8_t)i);
            od_write_i8(&w, (int8_t)(uint8_t)(v - desc->min_version));
            if (encode_random(desc, v, &w, &arena, (uint64_t)i * 1000 + (uint64_t)v + 7) != 0 || w.err ||
                write_file(argv[2], desc->name, v, &w) != 0)
                failures++;
            od_writer_free(&w);
            od_arena_release(&arena);
        }
    }
    if (od_message_desc_count > 256) {
        fprintf(stderr, "more messages than fuzz_message's selector byte can name\n");
        failures++;
    }
    return failures ? 1 : 0;
}
