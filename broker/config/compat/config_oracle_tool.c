/*
 * The Odradek side of the Kafka differential test: the same three modes and
 * output shapes as KafkaConfigOracle.java, answered by od_config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_config.h"
#include "topic_config.h"

static void hex(const char *s, char *out)
{
    for (; *s; s++)
        out += sprintf(out, "%02x", (unsigned char)*s);
    *out = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void props_mode(const char *path)
{
    od_properties p = {0};
    char err[512];
    printf("%s\t", path);
    if (od_properties_load_file(&p, path, err, sizeof err) != OD_CONFIG_OK) {
        printf("ERROR\n");
        return;
    }
    char **lines = calloc(p.count + 1, sizeof *lines);
    for (size_t i = 0; i < p.count; i++) {
        lines[i] = malloc(2 * (strlen(p.items[i].key) + strlen(p.items[i].value)) + 2);
        hex(p.items[i].key, lines[i]);
        size_t n = strlen(lines[i]);
        lines[i][n] = '=';
        hex(p.items[i].value, lines[i] + n + 1);
    }
    qsort(lines, p.count, sizeof *lines, cmp_str);
    for (size_t i = 0; i < p.count; i++) {
        printf("%s%s", i ? " " : "", lines[i]);
        free(lines[i]);
    }
    printf("\n");
    free(lines);
    od_properties_free(&p);
}

static void broker_mode(const char *path)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    od_config_status st = od_broker_config_load_file(path, &c, &d);
    printf("%s\t%s", path, st == OD_CONFIG_OK ? "OK" : "ERR");
    for (size_t i = 0; i < d.errors.count; i++)
        printf(" | %s", d.errors.items[i]);
    printf("\n");
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

static int values_mode(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *key = strchr(line, '\t');
        char *value = key ? strchr(key + 1, '\t') : NULL;
        if (!value)
            continue;
        *key++ = '\0';
        *value++ = '\0';
        char err[1024];
        bool ok;
        if (line[0] == 'T') {
            const od_topic_config_entry *e = od_topic_config_entry_find(key);
            ok = od_config_check_value(key, e->type, &e->validator, value, err, sizeof err);
        } else {
            const od_broker_config_entry *e = od_broker_config_entry_find(key);
            ok = od_config_check_value(key, e->type, &e->validator, value, err, sizeof err);
        }
        printf("%s\t%s\t%s\t%s\n", line, key, value, ok ? "OK" : err);
    }
    fclose(f);
    return 0;
}

static void print_description(const char *file, char which, const od_config_description *d)
{
    printf("%s\t%c\t%s=%s src%d ro=%s sens=%s type=%d", file, which, d->name, d->value ? d->value : "null",
           (int)d->source, d->read_only ? "true" : "false", d->sensitive ? "true" : "false", (int)d->type);
    for (size_t i = 0; i < d->synonym_count; i++)
        printf(" [%s=%s src%d]", d->synonyms[i].name, d->synonyms[i].value ? d->synonyms[i].value : "null",
               (int)d->synonyms[i].source);
    printf("\n");
}

static void describe_mode(const char *broker_file, const char *topic_file)
{
    od_broker_config *c = NULL;
    od_config_diagnostics d = {0};
    od_properties topic = {0};
    char err[1024];
    if (od_broker_config_load_file(broker_file, &c, &d) != OD_CONFIG_OK ||
        od_properties_load_file(&topic, topic_file, err, sizeof err) != OD_CONFIG_OK ||
        od_topic_config_validate(&topic, c, err, sizeof err) != OD_CONFIG_OK) {
        printf("%s\tSKIP\n", broker_file);
    } else {
        size_t n = od_broker_config_describable_names(c, NULL, 0);
        const char **names = calloc(n, sizeof *names);
        od_broker_config_describable_names(c, names, n);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n; i++) {
            od_config_description desc;
            if (od_broker_config_describe(c, names[i], true, &desc) == OD_CONFIG_OK) {
                print_description(broker_file, 'B', &desc);
                od_config_description_free(&desc);
            }
        }
        free(names);
        for (size_t i = 0; i < od_topic_config_table_len; i++) {
            od_config_description desc;
            if (od_topic_config_describe(&topic, c, od_topic_config_table[i].name, true, &desc) == OD_CONFIG_OK) {
                print_description(broker_file, 'T', &desc);
                od_config_description_free(&desc);
            }
        }
    }
    od_properties_free(&topic);
    od_broker_config_free(c);
    od_config_diagnostics_free(&d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s props|broker FILE... | values TSV | keys - | describe BROKER TOPIC...\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "values") == 0)
        return values_mode(argv[2]);
    if (strcmp(argv[1], "keys") == 0) {
        for (size_t i = 0; i < od_broker_config_table_len; i++)
            if (!(od_broker_config_table[i].flags & OD_CONFIG_OUTSIDE_KAFKA_DEF))
                printf("B\t%s\n", od_broker_config_table[i].name);
        for (size_t i = 0; i < od_topic_config_table_len; i++)
            printf("T\t%s\n", od_topic_config_table[i].name);
        return 0;
    }
    if (strcmp(argv[1], "describe") == 0) {
        for (int i = 2; i + 1 < argc; i += 2)
            describe_mode(argv[i], argv[i + 1]);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        (strcmp(argv[1], "props") == 0 ? props_mode : broker_mode)(argv[i]);
    return 0;
}
