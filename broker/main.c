/*
 * odradek: the broker binary.
 *
 *   odradek                          single node, PLAINTEXT on localhost:9092,
 *                                    data in ./odradek-data (formatted on first start)
 *   odradek server.properties        Kafka's keys; the log dirs must be formatted
 *   odradek storage format -t ID -c server.properties [--ignore-formatted]
 *   odradek storage random-uuid
 *
 * This file turns the broker config into od_broker_settings; it is the only
 * broker file that sees the config module, which keeps the handlers (and
 * the network layer's own types) apart from it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "broker.h"
#include "broker_config.h"
#include "checkpoint.h"
#include "properties.h"

static const char default_data_dir[] = "./odradek-data";

/* The configuration `odradek` runs with when given no file: Kafka's
 * config/kraft/server.properties in spirit, on localhost. */
static const char *const default_properties[][2] = {
    {"process.roles", "broker,controller"},
    {"node.id", "1"},
    {"controller.quorum.voters", "1@localhost:9093"},
    {"listeners", "PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093"},
    {"advertised.listeners", "PLAINTEXT://localhost:9092"},
    {"controller.listener.names", "CONTROLLER"},
    {"inter.broker.listener.name", "PLAINTEXT"},
    {"listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"},
    {"log.dirs", default_data_dir},
    {"num.partitions", "1"},
    {"offsets.topic.replication.factor", "1"},
    {"transaction.state.log.replication.factor", "1"},
    {"transaction.state.log.min.isr", "1"},
};

static int usage(FILE *out)
{
    fprintf(out,
            "usage: odradek [server.properties]\n"
            "       odradek storage format -t CLUSTER_ID -c server.properties [--ignore-formatted]\n"
            "       odradek storage random-uuid\n"
            "       odradek --version\n");
    return out == stderr ? 2 : 0;
}

static void print_diagnostics(const od_config_diagnostics *diag)
{
    /* The loader adds each ignored or unknown key once, so each warns once. */
    for (size_t i = 0; i < diag->warnings.count; i++)
        fprintf(stderr, "odradek: warning: %s\n", diag->warnings.items[i]);
    for (size_t i = 0; i < diag->errors.count; i++)
        fprintf(stderr, "odradek: error: %s\n", diag->errors.items[i]);
}

/* Loads the file, or the built-in single-node config when path is NULL. */
static od_broker_config *load_config(const char *path)
{
    od_config_diagnostics diag = {0};
    od_broker_config *config = NULL;
    od_config_status st;
    if (path != NULL) {
        st = od_broker_config_load_file(path, &config, &diag);
    } else {
        od_properties props = {0};
        st = OD_CONFIG_OK;
        for (size_t i = 0; st == OD_CONFIG_OK && i < sizeof default_properties / sizeof default_properties[0]; i++)
            st = od_properties_set(&props, default_properties[i][0], default_properties[i][1], 0);
        od_broker_config_layers layers = {.static_props = &props, .static_source = "built-in defaults"};
        if (st == OD_CONFIG_OK)
            st = od_broker_config_load(&layers, &config, &diag);
        od_properties_free(&props);
    }
    print_diagnostics(&diag);
    size_t errors = diag.errors.count;
    od_config_diagnostics_free(&diag);
    if (st != OD_CONFIG_OK) {
        if (errors == 0)
            fprintf(stderr, "odradek: cannot load %s\n", path ? path : "the default configuration");
        return NULL;
    }
    return config;
}

static bool is_controller_listener(const od_broker_config *c, const char *name)
{
    for (size_t i = 0; i < c->resolved.controller_listener_names.count; i++)
        if (strcasecmp(c->resolved.controller_listener_names.items[i], name) == 0)
            return true;
    return false;
}

static char *dup_or_die(const char *s)
{
    char *d = strdup(s ? s : "");
    if (d == NULL) {
        fprintf(stderr, "odradek: out of memory\n");
        exit(1);
    }
    return d;
}

/* The name clients are told when a listener binds every interface. */
static char *advertised_host(const char *host)
{
    if (host != NULL && host[0] != '\0')
        return dup_or_die(host);
    char name[256];
    if (gethostname(name, sizeof name) != 0)
        snprintf(name, sizeof name, "localhost");
    name[sizeof name - 1] = '\0';
    return dup_or_die(name);
}

static int settings_from_config(const od_broker_config *c, od_broker_settings *s)
{
    memset(s, 0, sizeof *s);
    if (!c->resolved.is_broker) {
        fprintf(stderr, "odradek: error: process.roles must include broker: a controller-only "
                        "node is not supported yet\n");
        return -1;
    }
    s->node_id = c->resolved.node_id;
    s->rack = c->broker_rack ? dup_or_die(c->broker_rack) : NULL;
    s->num_partitions = c->num_partitions;
    s->default_replication_factor = (int16_t)c->default_replication_factor;
    s->min_insync_replicas = c->min_insync_replicas;
    s->auto_create_topics_enable = c->auto_create_topics_enable;
    s->delete_topic_enable = c->delete_topic_enable;
    s->fetch_max_bytes = c->fetch_max_bytes;
    s->socket_request_max_bytes = c->socket_request_max_bytes;
    s->connections_max_idle_ms = c->connections_max_idle_ms;
    s->network_threads = c->num_network_threads;
    s->max_fetch_sessions = c->max_incremental_fetch_session_cache_slots;
    od_tc_config_default(&s->txn);
    s->txn.num_partitions = c->transaction_state_log_num_partitions;
    s->txn.max_timeout_ms = c->transaction_max_timeout_ms;
    s->txn.abort_check_interval_ms = c->transaction_abort_timed_out_transaction_cleanup_interval_ms;
    s->txn.id_expiration_ms = c->transactional_id_expiration_ms;
    s->txn.remove_expired_interval_ms = c->transaction_remove_expired_transaction_cleanup_interval_ms;
    s->metadata_snapshot_bytes = c->metadata_log_max_record_bytes_between_snapshots;
    s->metadata_snapshot_interval_ms = c->metadata_log_max_snapshot_interval_ms;
    s->metadata_segment_bytes = c->metadata_log_segment_bytes;
    s->metadata_segment_ms = c->metadata_log_segment_ms;
    s->metadata_retention_bytes = c->metadata_max_retention_bytes;
    s->metadata_retention_ms = c->metadata_max_retention_ms;
    s->retention_check_interval_ms = c->log_retention_check_interval_ms;
    s->log_cleaner_enable = c->log_cleaner_enable && c->log_cleaner_threads > 0;
    s->log_cleaner_backoff_ms = c->log_cleaner_backoff_ms;
    s->file_delete_delay_ms = c->log_segment_delete_delay_ms;
    s->producer_id_expiration_ms = c->producer_id_expiration_ms;
    s->producer_id_expiration_check_interval_ms = c->producer_id_expiration_check_interval_ms;
    s->groups = (od_broker_group_settings){
        .offsets_topic_num_partitions = c->offsets_topic_num_partitions,
        .offsets_topic_replication_factor = c->offsets_topic_replication_factor,
        .offsets_topic_segment_bytes = c->offsets_topic_segment_bytes,
        .offsets_topic_compression_codec = c->offsets_topic_compression_codec,
        .offsets_retention_minutes = c->offsets_retention_minutes,
        .offsets_retention_check_interval_ms = c->offsets_retention_check_interval_ms,
        .offset_metadata_max_bytes = c->offset_metadata_max_bytes,
        .group_min_session_timeout_ms = c->group_min_session_timeout_ms,
        .group_max_session_timeout_ms = c->group_max_session_timeout_ms,
        .group_initial_rebalance_delay_ms = c->group_initial_rebalance_delay_ms,
        .group_max_size = c->group_max_size,
        .consumer_session_timeout_ms = c->group_consumer_session_timeout_ms,
        .consumer_heartbeat_interval_ms = c->group_consumer_heartbeat_interval_ms,
        .consumer_max_size = c->group_consumer_max_size,
    };
    for (size_t i = 0; i < c->group_coordinator_rebalance_protocols.count; i++)
        if (strcmp(c->group_coordinator_rebalance_protocols.items[i], "consumer") == 0)
            s->groups.consumer_protocol_enabled = true;
    /* Kafka names an assignor by class; its name() is uniform or range. */
    for (size_t i = 0; i < c->group_consumer_assignors.count && s->groups.consumer_assignor_count < 2; i++) {
        const char *a = c->group_consumer_assignors.items[i];
        size_t len = strlen(a);
        bool range = strcmp(a, "range") == 0 || (len >= 13 && strcmp(a + len - 13, "RangeAssignor") == 0);
        bool uniform = strcmp(a, "uniform") == 0 || (len >= 15 && strcmp(a + len - 15, "UniformAssignor") == 0);
        if (range || uniform)
            s->groups.consumer_assignors[s->groups.consumer_assignor_count++] = range ? 1 : 0;
    }
    /* group.consumer.migration.policy (validated, case-insensitive): as
     * od_cg_migration_policy numbers them. */
    static const char *const policies[] = {"disabled", "upgrade", "downgrade", "bidirectional"};
    for (int32_t i = 0; i < 4 && c->group_consumer_migration_policy; i++)
        if (strcasecmp(c->group_consumer_migration_policy, policies[i]) == 0)
            s->groups.consumer_migration_policy = i;

    od_log_config *lc = &s->log_defaults;
    od_log_config_default(lc);
    lc->segment_bytes = c->log_segment_bytes;
    lc->segment_ms = c->resolved.log_roll_ms;
    lc->segment_jitter_ms = c->resolved.log_roll_jitter_ms;
    lc->segment_index_bytes = c->log_index_size_max_bytes;
    lc->index_interval_bytes = c->log_index_interval_bytes;
    lc->max_message_bytes = c->message_max_bytes;
    lc->retention_ms = c->resolved.log_retention_ms;
    lc->retention_bytes = c->log_retention_bytes;
    lc->flush_messages = c->log_flush_interval_messages;
    lc->flush_ms = c->resolved.log_flush_interval_ms;
    lc->producer_id_expiration_ms = c->producer_id_expiration_ms;
    lc->log_append_time = c->log_message_timestamp_type &&
                          strcmp(c->log_message_timestamp_type, "LogAppendTime") == 0;
    /* As Kafka's LogConfig: an unlimited bound falls back to the deprecated
     * log.message.timestamp.difference.max.ms. */
    lc->message_timestamp_before_max_ms = c->log_message_timestamp_before_max_ms != INT64_MAX
                                              ? c->log_message_timestamp_before_max_ms
                                              : c->log_message_timestamp_difference_max_ms;
    lc->message_timestamp_after_max_ms = c->log_message_timestamp_after_max_ms != INT64_MAX
                                             ? c->log_message_timestamp_after_max_ms
                                             : c->log_message_timestamp_difference_max_ms;

    if (c->resolved.log_dirs.count == 0) {
        fprintf(stderr, "odradek: error: log.dirs is empty\n");
        return -1;
    }
    if (c->resolved.log_dirs.count > 1)
        fprintf(stderr, "odradek: warning: log.dirs has %zu entries; only %s holds partitions\n",
                c->resolved.log_dirs.count, c->resolved.log_dirs.items[0]);
    s->log_dir = dup_or_die(c->resolved.log_dirs.items[0]);
    s->metadata_log_dir = dup_or_die(c->resolved.metadata_log_dir ? c->resolved.metadata_log_dir
                                                                  : s->log_dir);

    s->listeners = calloc(c->resolved.listener_count + 1, sizeof *s->listeners);
    s->advertised = calloc(c->resolved.advertised_listener_count + 1, sizeof *s->advertised);
    s->controller_listeners = calloc(c->resolved.listener_count + 1, sizeof *s->controller_listeners);
    if (s->listeners == NULL || s->advertised == NULL || s->controller_listeners == NULL)
        return -1;
    for (size_t i = 0; i < c->resolved.listener_count; i++) {
        const od_listener *l = &c->resolved.listeners[i];
        if (l->protocol != OD_SECURITY_PLAINTEXT) {
            fprintf(stderr, "odradek: warning: listener %s: only PLAINTEXT is served; skipped\n",
                    l->name);
            continue;
        }
        /* A controller listener serves the controller's APIs (ApiVersions,
         * DescribeQuorum, DescribeCluster for controllers, the admin
         * operations): kafka-metadata-quorum --bootstrap-controller. */
        od_broker_endpoint *e = is_controller_listener(c, l->name)
                                    ? &s->controller_listeners[s->controller_listener_count++]
                                    : &s->listeners[s->listener_count++];
        e->listener = dup_or_die(l->name);
        e->host = dup_or_die(l->host);
        e->port = l->port;
    }
    for (size_t i = 0; i < c->resolved.advertised_listener_count; i++) {
        const od_listener *l = &c->resolved.advertised_listeners[i];
        if (l->protocol != OD_SECURITY_PLAINTEXT)
            continue;
        od_broker_endpoint *e = &s->advertised[s->advertised_count++];
        e->listener = dup_or_die(l->name);
        e->host = advertised_host(l->host);
        e->port = l->port;
    }
    if (s->listener_count == 0) {
        fprintf(stderr, "odradek: error: listeners: no PLAINTEXT broker listener to serve\n");
        return -1;
    }
    return 0;
}

static int make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static void random_uuid(od_uuid *u)
{
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(u->bytes, 1, sizeof u->bytes, f) != sizeof u->bytes) {
        fprintf(stderr, "odradek: cannot read /dev/urandom\n");
        exit(1);
    }
    fclose(f);
    u->bytes[6] = (uint8_t)((u->bytes[6] & 0x0f) | 0x40);
    u->bytes[8] = (uint8_t)((u->bytes[8] & 0x3f) | 0x80);
}

/* Kafka never hands out an id whose text starts with '-' (it would read as
 * an option on a command line). */
static void random_uuid_text(char out[23])
{
    od_uuid u;
    do {
        random_uuid(&u);
        od_uuid_to_base64(&u, out);
    } while (out[0] == '-');
}

/* Writes meta.properties in one directory. Returns 0, 1 (already formatted
 * and allowed), or -1. */
static int format_dir(const char *dir, const char *cluster_id, int32_t node_id, bool ignore_formatted)
{
    od_fio *io = od_fio_posix();
    od_meta_properties existing;
    if (od_meta_properties_read(io, dir, &existing) == OD_ST_OK) {
        if (ignore_formatted)
            return 1;
        fprintf(stderr, "Log directory %s is already formatted. Use --ignore-formatted to ignore "
                        "this directory and format the others.\n", dir);
        return -1;
    }
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "odradek: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    od_meta_properties mp;
    memset(&mp, 0, sizeof mp);
    mp.version = 1;
    snprintf(mp.cluster_id, sizeof mp.cluster_id, "%s", cluster_id);
    mp.node_id = node_id;
    char dir_id[23];
    random_uuid_text(dir_id);
    snprintf(mp.directory_id, sizeof mp.directory_id, "%s", dir_id);
    od_st_err st = od_meta_properties_write(io, dir, &mp);
    if (st != OD_ST_OK) {
        fprintf(stderr, "odradek: cannot write %s/meta.properties: %s\n", dir, od_st_err_name(st));
        return -1;
    }
    printf("Formatting %s with metadata.version 3.9-IV0.\n", dir);
    return 0;
}

static int format_all(const od_broker_config *c, const char *cluster_id, bool ignore_formatted)
{
    od_uuid parsed;
    if (!od_uuid_from_base64(cluster_id, strlen(cluster_id), &parsed)) {
        fprintf(stderr, "Cluster ID string %s does not appear to be a valid UUID: Input string "
                        "`%s` decoded as %zu bytes, which is not equal to the expected 16 bytes "
                        "of a base64-encoded UUID\n",
                cluster_id, cluster_id, strlen(cluster_id) * 3 / 4);
        return 1;
    }
    const char *meta = c->resolved.metadata_log_dir;
    int formatted = 0;
    for (size_t i = 0; i < c->resolved.log_dirs.count; i++) {
        int rc = format_dir(c->resolved.log_dirs.items[i], cluster_id, c->resolved.node_id,
                            ignore_formatted);
        if (rc < 0)
            return 1;
        formatted += rc == 0;
    }
    bool meta_listed = false;
    for (size_t i = 0; meta && i < c->resolved.log_dirs.count; i++)
        meta_listed |= strcmp(meta, c->resolved.log_dirs.items[i]) == 0;
    if (meta && !meta_listed) {
        int rc = format_dir(meta, cluster_id, c->resolved.node_id, ignore_formatted);
        if (rc < 0)
            return 1;
        formatted += rc == 0;
    }
    if (formatted == 0 && ignore_formatted)
        printf("All of the log directories are already formatted.\n");
    return 0;
}

static int storage_command(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "random-uuid") == 0) {
        char text[23];
        random_uuid_text(text);
        printf("%s\n", text);
        return 0;
    }
    if (argc >= 1 && strcmp(argv[0], "format") == 0) {
        const char *cluster_id = NULL, *config_path = NULL;
        bool ignore_formatted = false;
        for (int i = 1; i < argc; i++) {
            if ((strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "--cluster-id") == 0) && i + 1 < argc)
                cluster_id = argv[++i];
            else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc)
                config_path = argv[++i];
            else if (strcmp(argv[i], "-g") == 0 || strcmp(argv[i], "--ignore-formatted") == 0)
                ignore_formatted = true;
            else {
                fprintf(stderr, "odradek storage format: unknown argument %s\n", argv[i]);
                return usage(stderr);
            }
        }
        if (cluster_id == NULL || config_path == NULL) {
            fprintf(stderr, "odradek storage format: -t CLUSTER_ID and -c server.properties are required\n");
            return usage(stderr);
        }
        od_broker_config *c = load_config(config_path);
        if (c == NULL)
            return 1;
        int rc = format_all(c, cluster_id, ignore_formatted);
        od_broker_config_free(c);
        return rc;
    }
    return usage(stderr);
}

/* SIGTERM and SIGINT are blocked in every thread and taken by one thread
 * in sigwait, so a stop runs as ordinary code: a handler would read the
 * broker and its server from whichever thread the signal lands on while
 * the main thread tears them down, and could not take a lock. */
static sigset_t stop_signals;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static od_broker *running_broker; /* stop_lock; NULL before open and from close on */
static bool stop_signalled;       /* stop_lock */

static void *stop_signal_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int sig;
        if (sigwait(&stop_signals, &sig) != 0)
            continue;
        pthread_mutex_lock(&stop_lock);
        stop_signalled = true;
        if (running_broker != NULL)
            od_broker_request_stop(running_broker);
        pthread_mutex_unlock(&stop_lock);
    }
    return NULL;
}

/* Before any other thread exists, so that every thread inherits the mask. */
static int start_stop_signal_thread(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    pthread_t thread;
    if (rc == 0)
        rc = pthread_create(&thread, NULL, stop_signal_thread, NULL);
    if (rc != 0) {
        fprintf(stderr, "odradek: cannot start the signal thread: %s\n", strerror(rc));
        return -1;
    }
    /* It waits for signals until the process exits. */
    pthread_detach(thread);
    return 0;
}

static int run_broker(const char *config_path)
{
    od_arena_keep_released_memory();
    od_broker_config *c = load_config(config_path);
    if (c == NULL)
        return 1;
    /* With no file the broker is self-contained: it formats its own data
     * dir on first start. A configured broker never formats behind the
     * operator's back. */
    if (config_path == NULL) {
        od_meta_properties mp;
        if (od_meta_properties_read(od_fio_posix(), default_data_dir, &mp) != OD_ST_OK) {
            char id[23];
            random_uuid_text(id);
            if (format_all(c, id, true) != 0) {
                od_broker_config_free(c);
                return 1;
            }
        }
    }
    od_broker_settings settings;
    int rc = settings_from_config(c, &settings);
    if (rc != 0) {
        od_broker_settings_free(&settings);
        od_broker_config_free(c);
        return 1;
    }
    if (start_stop_signal_thread() != 0) {
        od_broker_settings_free(&settings);
        od_broker_config_free(c);
        return 1;
    }

    char err[512] = "";
    od_broker *b = od_broker_open(&settings, c, err, sizeof err);
    od_broker_settings_free(&settings);
    if (b == NULL) {
        fprintf(stderr, "odradek: %s\n", err);
        od_broker_config_free(c);
        return 1;
    }
    fprintf(stderr, "odradek: node %d of cluster %s started\n", b->settings.node_id,
            b->settings.cluster_id);
    pthread_mutex_lock(&stop_lock);
    running_broker = b;
    /* A signal during od_broker_open: serve stops at once. */
    if (stop_signalled)
        od_broker_request_stop(b);
    pthread_mutex_unlock(&stop_lock);
    rc = od_broker_serve(b, err, sizeof err);
    pthread_mutex_lock(&stop_lock);
    running_broker = NULL;
    pthread_mutex_unlock(&stop_lock);
    if (rc != 0)
        fprintf(stderr, "odradek: %s\n", err);
    if (od_broker_close(b) != 0) {
        fprintf(stderr, "odradek: storage was not closed cleanly; the next start recovers\n");
        rc = -1;
    } else {
        fprintf(stderr, "odradek: shut down cleanly\n");
    }
    od_broker_config_free(c);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("odradek %s\n", ODRADEK_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return usage(stdout);
    if (argc >= 2 && strcmp(argv[1], "storage") == 0)
        return storage_command(argc - 2, argv + 2);
    if (argc == 1)
        return run_broker(NULL);
    if (argc == 2 && argv[1][0] != '-')
        return run_broker(argv[1]);
    return usage(stderr);
}
