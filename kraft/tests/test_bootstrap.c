/* bootstrap.checkpoint: Kafka's own file, byte-exact batches, and our writer. */
#include "bootstrap.h"
#include "kr_testutil.h"
#include "od_test.h"

/* bootstrap.checkpoint as `kafka-storage format` of Apache Kafka 3.9 wrote it. */
static const uint8_t kafka_bootstrap[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x47, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x81, 0x68, 0xed, 0xf5, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xa1, 0xff, 0xca, 0xd4, 0x0a, 0x00, 0x00, 0x01, 0xa1, 0xff, 0xca, 0xd4, 0x0a, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x01, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, 0x16, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x4f, 0x00, 0x00, 0x00, 0x00, 0x02, 0x5c, 0xa7, 0x67, 0x1e, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xa1, 0xff, 0xca, 0xd4, 0x5c, 0x00, 0x00,
    0x01, 0xa1, 0xff, 0xca, 0xd4, 0x5c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x00, 0x00, 0x00, 0x01, 0x2e,
    0x01, 0x0c, 0x00, 0x11, 0x6d, 0x65, 0x74, 0x61, 0x64, 0x61, 0x74, 0x61, 0x2e, 0x76, 0x65,
    0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x02, 0x6e, 0x4e, 0x1e, 0xf3,
    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xa1, 0xff, 0xca, 0xd4, 0x5d, 0x00,
    0x00, 0x01, 0xa1, 0xff, 0xca, 0xd4, 0x5d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x1a, 0x00, 0x00, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x04, 0x06, 0x00, 0x00, 0x00, 0x00};

/* The three batches' timestamps in the file above. */
static const int64_t ts_header = 0x1a1ffcad40a, ts_data = 0x1a1ffcad45c, ts_footer = 0x1a1ffcad45d;

static void test_reads_kafkas_file(void)
{
    char dir[256];
    kr_tmpdir(dir);
    char path[512];
    REQUIRE((size_t)snprintf(path, sizeof path, "%s/bootstrap.checkpoint", dir) < sizeof path);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fwrite(kafka_bootstrap, 1, sizeof kafka_bootstrap, f);
    fclose(f);
    od_arena a;
    od_arena_init(&a);
    od_mrec *recs = NULL;
    int32_t n = 0;
    bool found = false;
    REQUIRE(od_bootstrap_read(od_fio_posix(), dir, &a, &recs, &n, &found) == OD_KR_OK);
    CHECK(found);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(od_bootstrap_metadata_version(recs, n), 21);
    od_arena_release(&a);
    kr_rmtree(dir);
}

/* Each of our batches, given Kafka's timestamps, is byte for byte Kafka's. */
static void test_batches_match_kafka_bytes(void)
{
    od_batch_params p = OD_BATCH_PARAMS_INIT;
    p.partition_leader_epoch = 0;
    od_writer w;
    od_writer_init(&w, 256);

    od_snapshot_header_record h;
    od_snapshot_header_record_init(&h);
    od_kctl hc = {OD_KCTL_SNAPSHOT_HEADER, &h};
    p.base_offset = 0;
    REQUIRE(od_kctl_batch_build(&p, &hc, ts_header, &w) == OD_BATCH_OK);

    od_feature_level_record mv;
    od_feature_level_record_init(&mv);
    mv.name = OD_STR_LIT("metadata.version");
    mv.feature_level = 21;
    od_mrec rec = {OD_MREC_FEATURE_LEVEL, 0, &mv};
    p.base_offset = 1;
    REQUIRE(od_mrec_batch_build(&p, &rec, 1, ts_data, &w) == OD_BATCH_OK);

    od_snapshot_footer_record ft;
    od_snapshot_footer_record_init(&ft);
    od_kctl fc = {OD_KCTL_SNAPSHOT_FOOTER, &ft};
    p.base_offset = 2;
    REQUIRE(od_kctl_batch_build(&p, &fc, ts_footer, &w) == OD_BATCH_OK);

    CHECK_EQ_INT(w.len, sizeof kafka_bootstrap);
    for (size_t i = 0; i < w.len && i < sizeof kafka_bootstrap; i++)
        if (w.buf[i] != kafka_bootstrap[i]) {
            CHECKF(0, "first difference at byte %zu", i);
            break;
        }
    od_writer_free(&w);
}

static void test_write_then_read(void)
{
    char dir[256];
    kr_tmpdir(dir);
    od_fio *io = od_fio_posix();
    od_feature_level_record mv;
    od_feature_level_record_init(&mv);
    mv.name = OD_STR_LIT("metadata.version");
    mv.feature_level = 20;
    od_config_record cfg;
    od_config_record_init(&cfg);
    cfg.resource_type = 4;
    cfg.resource_name = OD_STR_LIT("");
    cfg.name = OD_STR_LIT("log.retention.ms");
    cfg.value = OD_STR_LIT("1000");
    od_mrec recs[2] = {{OD_MREC_FEATURE_LEVEL, 0, &mv}, {OD_MREC_CONFIG, 0, &cfg}};
    REQUIRE(od_bootstrap_write(io, dir, recs, 2, 5) == OD_KR_OK);
    od_arena a;
    od_arena_init(&a);
    od_mrec *out = NULL;
    int32_t n = 0;
    bool found = false;
    REQUIRE(od_bootstrap_read(io, dir, &a, &out, &n, &found) == OD_KR_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(od_bootstrap_metadata_version(out, n), 20);
    CHECK_EQ_INT(out[1].type, OD_MREC_CONFIG);
    od_arena_release(&a);

    /* A bootstrap without metadata.version is refused, as Kafka does. */
    REQUIRE(od_bootstrap_write(io, dir, &recs[1], 1, 5) == OD_KR_OK);
    od_arena_init(&a);
    CHECK_EQ_INT(od_bootstrap_read(io, dir, &a, &out, &n, &found), OD_KR_CORRUPT);
    od_arena_release(&a);

    /* Damaged files are corrupt, never half-read. */
    kr_write_file(dir, "bootstrap.checkpoint", "not a batch at all, just some text....................................");
    od_arena_init(&a);
    CHECK_EQ_INT(od_bootstrap_read(io, dir, &a, &out, &n, &found), OD_KR_CORRUPT);
    od_arena_release(&a);
    kr_rmtree(dir);
    od_arena_init(&a);
    CHECK_EQ_INT(od_bootstrap_read(io, "/nonexistent-od-dir", &a, &out, &n, &found), OD_KR_OK);
    CHECK(!found);
    od_arena_release(&a);
}

OD_TEST_MAIN(OD_CASE(test_reads_kafkas_file), OD_CASE(test_batches_match_kafka_bytes),
             OD_CASE(test_write_then_read))
