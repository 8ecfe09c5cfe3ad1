/* Helpers shared by the config tests: build a snapshot from inline text. */
#ifndef ODRADEK_CONFIG_TEST_UTIL_H
#define ODRADEK_CONFIG_TEST_UTIL_H

#include "broker_config.h"
#include "od_test.h"

/* A combined KRaft node; tests append or override keys after it. */
#define KRAFT_BASE                                                                   \
    "process.roles=broker,controller\n"                                             \
    "node.id=1\n"                                                                    \
    "controller.quorum.voters=1@localhost:9093\n"                                   \
    "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"                              \
    "controller.listener.names=CONTROLLER\n"                                        \
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"     \
    "log.dirs=/tmp/x\n"

static inline od_config_status load_text(const char *text, od_broker_config **out, od_config_diagnostics *diag)
{
    od_properties p = {0};
    char err[512];
    od_config_status st = od_properties_parse(&p, text, strlen(text), "test.properties", err, sizeof err);
    if (st != OD_CONFIG_OK) {
        fprintf(stderr, "properties: %s\n", err);
        return st;
    }
    od_broker_config_layers layers = {.static_props = &p, .static_source = "test.properties"};
    st = od_broker_config_load(&layers, out, diag);
    od_properties_free(&p);
    return st;
}

/* REQUIRE evaluates its condition twice, so side effects stay outside it. */
#define LOAD_OK(text, c, d)                                \
    do {                                                   \
        od_config_status load_st_ = load_text(text, c, d); \
        if (load_st_ != OD_CONFIG_OK)                      \
            dump_messages("error", &(d)->errors);          \
        REQUIRE(load_st_ == OD_CONFIG_OK);                 \
    } while (0)

/* True when some message contains every fragment given (NULL-terminated). */
static inline bool messages_have(const od_config_messages *m, const char *const *fragments)
{
    for (size_t i = 0; i < m->count; i++) {
        bool all = true;
        for (size_t k = 0; fragments[k] && all; k++)
            all = strstr(m->items[i], fragments[k]) != NULL;
        if (all)
            return true;
    }
    return false;
}

static inline void dump_messages(const char *what, const od_config_messages *m)
{
    for (size_t i = 0; i < m->count; i++)
        fprintf(stderr, "  %s: %s\n", what, m->items[i]);
}

#endif

/* One line per described key, in the shape used to record Kafka 3.9.2's own
 * answers (kafka.server.ConfigHelper run on the same input), so expected
 * strings below are Kafka's output verbatim. */
static inline void describe_line(const od_config_description *d, bool flags, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s=%s src%d", d->name, d->value ? d->value : "null", (int)d->source);
    if (flags && n < len)
        n += (size_t)snprintf(buf + n, len - n, " ro=%s sens=%s type=%d", d->read_only ? "true" : "false",
                              d->sensitive ? "true" : "false", (int)d->type);
    for (size_t i = 0; i < d->synonym_count && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, " [%s=%s src%d]", d->synonyms[i].name,
                              d->synonyms[i].value ? d->synonyms[i].value : "null", (int)d->synonyms[i].source);
}
