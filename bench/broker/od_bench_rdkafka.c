/*
 * od_bench_rdkafka: a librdkafka load generator for bench/broker/run.sh, so
 * that Odradek and Apache Kafka are measured with a second client besides
 * Kafka's own Java perf tools.
 *
 *   od_bench_rdkafka create  BOOTSTRAP TOPIC PARTITIONS
 *   od_bench_rdkafka produce BOOTSTRAP TOPIC RECORDS SIZE ACKS [RATE]
 *   od_bench_rdkafka consume BOOTSTRAP TOPIC RECORDS
 *
 * produce sends RECORDS values of SIZE bytes (null key, so librdkafka's
 * default partitioner spreads them over the partitions) with acks=ACKS, as
 * fast as the client's queue allows, or at RATE records/s when RATE > 0;
 * the client keeps librdkafka's default configuration otherwise. Latency is
 * per record, from rd_kafka_produce() to its delivery report, as
 * kafka-producer-perf-test measures it from send() to its callback.
 * consume reads RECORDS records from the beginning of every partition
 * (assigned, no group). Both print one line of key=value pairs; MiB are
 * 2^20 bytes of values, as the Java perf tools count "MB".
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "od_bench_rdkafka: %s: %s\n", what, detail);
    exit(1);
}

static void set_conf(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        die(name, err);
}

static long parse_long(const char *text, const char *what)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value < 0)
        die("not a non-negative number", what);
    return value;
}

/* Delivery bookkeeping shared with the delivery-report callback, which runs
 * inside rd_kafka_poll/flush on the calling thread. */
struct produce_run {
    int64_t start_us;
    uint32_t *latency_us; /* one per delivered record */
    long delivered;
    long failed;
    int64_t last_delivery_us;
    char first_error[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    struct produce_run *run = opaque;
    int64_t now = now_us();
    if (msg->err) {
        if (run->failed++ == 0)
            snprintf(run->first_error, sizeof run->first_error, "%s", rd_kafka_err2str(msg->err));
        return;
    }
    int64_t sent = run->start_us + (int64_t)(uintptr_t)msg->_private;
    int64_t latency = now - sent;
    run->latency_us[run->delivered++] = latency > UINT32_MAX ? UINT32_MAX : (uint32_t)latency;
    run->last_delivery_us = now;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values, in milliseconds. */
static double percentile_ms(const uint32_t *sorted, long count, double pct)
{
    if (count == 0)
        return 0.0;
    long rank = (long)(pct / 100.0 * (double)count + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > count)
        rank = count;
    return sorted[rank - 1] / 1000.0;
}

static int produce(const char *bootstrap, const char *topic, long records, long size, const char *acks,
                   long rate)
{
    char err[512];
    struct produce_run run = {0};
    run.latency_us = malloc((size_t)(records > 0 ? records : 1) * sizeof *run.latency_us);
    char *value = malloc((size_t)(size > 0 ? size : 1));
    if (!run.latency_us || !value)
        die("produce", "out of memory");
    /* Random capital letters, as kafka-producer-perf-test fills its payload. */
    srand(12345);
    for (long i = 0; i < size; i++)
        value[i] = (char)('A' + rand() % 26);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set_conf(conf, "bootstrap.servers", bootstrap);
    set_conf(conf, "acks", acks);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &run);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

    /* Wait for the topic's metadata so that connection setup is not timed. */
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("metadata", topic);
    rd_kafka_metadata_destroy(md);

    run.start_us = now_us();
    for (long i = 0; i < records; i++) {
        if (rate > 0) {
            int64_t due = run.start_us + (int64_t)((double)i * 1e6 / (double)rate);
            for (int64_t wait = due - now_us(); wait > 0; wait = due - now_us()) {
                if (wait > 1000)
                    rd_kafka_poll(rk, (int)(wait / 1000));
                else
                    rd_kafka_poll(rk, 0);
            }
        }
        void *sent_at = (void *)(uintptr_t)(now_us() - run.start_us);
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, value, (size_t)size, NULL, 0, sent_at) != 0) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("produce", rd_kafka_err2str(rd_kafka_last_error()));
            rd_kafka_poll(rk, 1);
        }
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    int64_t end_us = run.last_delivery_us ? run.last_delivery_us : now_us();
    double seconds = (double)(end_us - run.start_us) / 1e6;
    qsort(run.latency_us, (size_t)run.delivered, sizeof *run.latency_us, compare_u32);
    double rps = seconds > 0 ? (double)run.delivered / seconds : 0.0;
    printf("mode=produce records=%ld failed=%ld seconds=%.3f records_per_s=%.1f mib_per_s=%.2f "
           "p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f%s%s\n",
           run.delivered, run.failed, seconds, rps, rps * (double)size / 1048576.0,
           percentile_ms(run.latency_us, run.delivered, 50), percentile_ms(run.latency_us, run.delivered, 99),
           percentile_ms(run.latency_us, run.delivered, 99.9),
           percentile_ms(run.latency_us, run.delivered, 100), run.failed ? " first_error=" : "",
           run.failed ? run.first_error : "");
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    free(run.latency_us);
    return run.failed == 0 && run.delivered == records ? 0 : 1;
}

static int consume(const char *bootstrap, const char *topic, long records)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set_conf(conf, "bootstrap.servers", bootstrap);
    /* librdkafka's assign() needs a group id even though nothing joins or commits. */
    char group[64];
    snprintf(group, sizeof group, "od-bench-%ld", (long)now_us());
    set_conf(conf, "group.id", group);
    set_conf(conf, "enable.auto.commit", "false");
    set_conf(conf, "enable.partition.eof", "false");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_poll_set_consumer(rk);

    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err || md->topics[0].partition_cnt == 0)
        die("metadata", topic);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);

    int64_t start = now_us();
    rd_kafka_resp_err_t assigned = rd_kafka_assign(rk, parts);
    if (assigned != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("assign", rd_kafka_err2str(assigned));
    rd_kafka_topic_partition_list_destroy(parts);
    long consumed = 0;
    int64_t bytes = 0, last = start, idle_since = start;
    while (consumed < records) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
        int64_t now = now_us();
        if (!msg) {
            if (now - idle_since > 30 * 1000000)
                break; /* nothing for 30 s: report what arrived */
            continue;
        }
        if (msg->err)
            fprintf(stderr, "od_bench_rdkafka: consume: %s\n", rd_kafka_message_errstr(msg));
        else {
            consumed++;
            bytes += (int64_t)msg->len;
            last = idle_since = now;
        }
        rd_kafka_message_destroy(msg);
    }
    double seconds = (double)(last - start) / 1e6;
    printf("mode=consume records=%ld seconds=%.3f records_per_s=%.1f mib_per_s=%.2f\n", consumed, seconds,
           seconds > 0 ? (double)consumed / seconds : 0.0,
           seconds > 0 ? (double)bytes / 1048576.0 / seconds : 0.0);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return consumed == records ? 0 : 1;
}

static int create(const char *bootstrap, const char *topic, long partitions)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set_conf(conf, "bootstrap.servers", bootstrap);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("rd_kafka_new", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, (int)partitions, 1, err, sizeof err);
    if (!nt)
        die("NewTopic", err);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, queue);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, 60000);
    int status = 1;
    const rd_kafka_CreateTopics_result_t *result = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!result) {
        fprintf(stderr, "od_bench_rdkafka: create %s: %s\n", topic,
                ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else {
        size_t count;
        const rd_kafka_topic_result_t **topics = rd_kafka_CreateTopics_result_topics(result, &count);
        if (count == 1 && rd_kafka_topic_result_error(topics[0]) == RD_KAFKA_RESP_ERR_NO_ERROR)
            status = 0;
        else
            fprintf(stderr, "od_bench_rdkafka: create %s: %s\n", topic,
                    count == 1 ? rd_kafka_topic_result_error_string(topics[0]) : "no result");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(queue);
    rd_kafka_destroy(rk);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "create") == 0)
        return create(argv[2], argv[3], parse_long(argv[4], "PARTITIONS"));
    if ((argc == 7 || argc == 8) && strcmp(argv[1], "produce") == 0)
        return produce(argv[2], argv[3], parse_long(argv[4], "RECORDS"), parse_long(argv[5], "SIZE"), argv[6],
                       argc == 8 ? parse_long(argv[7], "RATE") : 0);
    if (argc == 5 && strcmp(argv[1], "consume") == 0)
        return consume(argv[2], argv[3], parse_long(argv[4], "RECORDS"));
    fprintf(stderr, "usage: od_bench_rdkafka create BOOTSTRAP TOPIC PARTITIONS\n"
                    "       od_bench_rdkafka produce BOOTSTRAP TOPIC RECORDS SIZE ACKS [RATE]\n"
                    "       od_bench_rdkafka consume BOOTSTRAP TOPIC RECORDS\n");
    return 2;
}
