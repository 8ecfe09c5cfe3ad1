/* Mutated metadata records and batches decode and apply without harm (the
 * fuzz target's body, run over deterministic mutations in every build). */
#include <dirent.h>

#include "kraft_fuzz_one.h"
#include "od_test.h"

static uint64_t rng = 0x1234567;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void mutate_and_run(const uint8_t *seed, size_t n, int rounds)
{
    uint8_t buf[4096];
    if (n > sizeof buf)
        n = sizeof buf;
    for (int r = 0; r < rounds; r++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int flips = 1 + (int)(next_rand() % 4);
        for (int k = 0; k < flips; k++) {
            switch (next_rand() % 3) {
            case 0: buf[next_rand() % len] ^= (uint8_t)(1u << (next_rand() % 8)); break;
            case 1: buf[next_rand() % len] = (uint8_t)next_rand(); break;
            default: len = 1 + next_rand() % len; break;
            }
        }
        kraft_fuzz_one(buf, len);
    }
}

static void test_mutated_records(void)
{
    int32_t reps[] = {1, 2, 3};
    od_uuid dirs[3] = {{{1}}, {{2}}, {{3}}};
    od_partition_record p;
    od_partition_record_init(&p);
    p.topic_id.bytes[0] = 7;
    p.partition_id = 0;
    p.replicas = (od_int32_array){3, reps};
    p.isr = (od_int32_array){3, reps};
    p.directories = (od_uuid_array){3, dirs};
    od_topic_record t;
    od_topic_record_init(&t);
    t.name = OD_STR_LIT("topic");
    t.topic_id.bytes[0] = 7;
    od_config_record c;
    od_config_record_init(&c);
    c.resource_type = 2;
    c.resource_name = OD_STR_LIT("topic");
    c.name = OD_STR_LIT("retention.ms");
    c.value = OD_STR_LIT("1");
    od_partition_change_record pc;
    od_partition_change_record_init(&pc);
    pc.topic_id.bytes[0] = 7;
    pc.partition_id = 0;
    pc.leader = 2;
    pc.isr = (od_int32_array){2, reps};
    od_mrec recs[] = {{OD_MREC_TOPIC, 0, &t}, {OD_MREC_PARTITION, 1, &p}, {OD_MREC_CONFIG, 0, &c},
                      {OD_MREC_PARTITION_CHANGE, 1, &pc}};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        od_writer w;
        od_writer_init(&w, 64);
        REQUIRE(od_mrec_encode(&recs[i], &w) == OD_WIRE_OK);
        kraft_fuzz_one(w.buf, w.len);
        mutate_and_run(w.buf, w.len, 3000);
        od_writer_free(&w);
    }
    /* The whole sequence as one batch, then mutated. */
    od_batch_params bp = OD_BATCH_PARAMS_INIT;
    od_writer w;
    od_writer_init(&w, 256);
    REQUIRE(od_mrec_batch_build(&bp, recs, 4, 1, &w) == OD_BATCH_OK);
    kraft_fuzz_one(w.buf, w.len);
    /* Mutations break the CRC, so most stop at validation; re-stamping the
     * CRC lets the mutated records themselves reach the decoder. */
    uint8_t buf[4096];
    REQUIRE(w.len <= sizeof buf);
    for (int r = 0; r < 3000; r++) {
        memcpy(buf, w.buf, w.len);
        size_t at = OD_BATCH_HEADER_SIZE + next_rand() % (w.len - OD_BATCH_HEADER_SIZE);
        buf[at] ^= (uint8_t)(1u << (next_rand() % 8));
        od_batch_restamp_crc(buf, w.len);
        kraft_fuzz_one(buf, w.len);
    }
    mutate_and_run(w.buf, w.len, 2000);
    od_writer_free(&w);
    CHECK(1);
}

/* The kept fuzz corpus (Kafka's own bootstrap file and metadata log head
 * among it), replayed and mutated on every run. */
static void test_kept_corpus(void)
{
    DIR *d = opendir(OD_KRAFT_CORPUS_DIR);
    REQUIRE(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", OD_KRAFT_CORPUS_DIR, e->d_name) >= sizeof path)
            continue;
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        files++;
        kraft_fuzz_one(buf, n);
        if (n > 0)
            mutate_and_run(buf, n, 500);
    }
    closedir(d);
    CHECK(files >= 3);
}

/* The head of Kafka's metadata log replays into an image with
 * metadata.version 21 and broker 1 registered. */
static void test_kafka_log_head_applies(void)
{
    char path[1024];
    REQUIRE((size_t)snprintf(path, sizeof path, "%s/kafka-metadata-log-head", OD_KRAFT_CORPUS_DIR) < sizeof path);
    FILE *f = fopen(path, "rb");
    REQUIRE(f);
    static uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    od_mimage *img = od_mimage_new();
    REQUIRE(img);
    od_arena arena;
    od_arena_init(&arena);
    od_record_set_iter it;
    od_record_set_iter_init(&it, buf, n);
    const uint8_t *entry;
    size_t len;
    int8_t magic;
    int batches = 0;
    while (od_record_set_next(&it, &entry, &len, &magic)) {
        CHECK_EQ_INT(od_raft_batch_visit(entry, len, 0, &arena, kraft_fuzz_apply, img), OD_ST_OK);
        batches++;
    }
    CHECK(batches > 5);
    CHECK_EQ_INT(od_mimage_feature_level(img, "metadata.version"), 21);
    const od_mi_broker *b = od_mimage_broker(img, 1);
    CHECK(b != NULL && !b->fenced);
    od_arena_release(&arena);
    od_mimage_free(img);
}

OD_TEST_MAIN(OD_CASE(test_mutated_records), OD_CASE(test_kept_corpus),
             OD_CASE(test_kafka_log_head_applies))
