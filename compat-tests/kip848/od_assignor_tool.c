/*
 * Runs Odradek's KIP-848 server-side assignors on scenarios read from stdin
 * and prints the assignments, in the same text format as AssignorDiff.java
 * (which runs Kafka 3.9.2's), so assignor_diff.py can compare them:
 *
 *   assignor uniform|range
 *   topic <32 hex topic id> <partitions>
 *   member <member id> <hex>,<hex>,... <hex>:p,p;<hex>:p [instance id]   ("-" for none)
 *   end
 *
 * answers, per member in input order, "<member id> <hex>:p,p;..." or
 * "<member id> -", then "end". Topics and partitions are sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_group.h"

enum { MAX_LINE = 1 << 16, MAX_MEMBERS = 256, MAX_TOPICS = 64, MAX_TPS = 4096 };

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int parse_uuid(const char *s, od_uuid *u)
{
    for (int i = 0; i < 16; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        u->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static void print_uuid(const od_uuid *u)
{
    for (int i = 0; i < 16; i++)
        printf("%02x", u->bytes[i]);
}

typedef struct scenario {
    od_cg_assignor which;
    od_cg_topic topics[MAX_TOPICS];
    int32_t topic_count;
    od_cg_assignor_member members[MAX_MEMBERS];
    char ids[MAX_MEMBERS][128];
    char instances[MAX_MEMBERS][128];
    od_uuid subs[MAX_MEMBERS][MAX_TOPICS];
    od_cg_tp *current[MAX_MEMBERS];
    int32_t member_count;
} scenario;

/* "<hex>:p,p;<hex>:p" into tps; returns the count or -1. */
static int32_t parse_tps(char *s, od_cg_tp *tps, int32_t cap)
{
    int32_t n = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    for (char *topic = strtok(s, ";"); topic; topic = strtok(NULL, ";")) {
        od_uuid u;
        if (strlen(topic) < 33 || topic[32] != ':' || parse_uuid(topic, &u) != 0)
            return -1;
        char *p = topic + 33;
        while (*p) {
            if (n == cap)
                return -1;
            tps[n++] = (od_cg_tp){u, (int32_t)strtol(p, &p, 10)};
            if (*p == ',')
                p++;
        }
    }
    return n;
}

static void answer(scenario *sc)
{
    od_arena arena;
    od_arena_init(&arena);
    if (od_cg_run_assignor(sc->which, sc->members, sc->member_count, sc->topics,
                           sc->topic_count, &arena) != 0) {
        printf("error\n");
    } else {
        for (int32_t i = 0; i < sc->member_count; i++) {
            const od_cg_assignor_member *m = &sc->members[i];
            printf("%s ", sc->ids[i]);
            if (m->result_count == 0)
                printf("-");
            for (int32_t k = 0; k < m->result_count; k++) {
                bool new_topic = k == 0 || !od_uuid_eq(&m->result[k - 1].topic_id,
                                                       &m->result[k].topic_id);
                if (new_topic) {
                    if (k)
                        printf(";");
                    print_uuid(&m->result[k].topic_id);
                    printf(":");
                } else {
                    printf(",");
                }
                printf("%d", m->result[k].partition);
            }
            printf("\n");
        }
    }
    printf("end\n");
    fflush(stdout);
    od_arena_release(&arena);
}

int main(void)
{
    static char line[MAX_LINE];
    scenario *sc = calloc(1, sizeof *sc);
    static char names[MAX_TOPICS][8];
    if (!sc)
        return 1;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *kind = strtok(line, " ");
        if (!kind)
            continue;
        if (strcmp(kind, "assignor") == 0) {
            char *name = strtok(NULL, " ");
            sc->which = name && strcmp(name, "range") == 0 ? OD_CG_ASSIGNOR_RANGE
                                                            : OD_CG_ASSIGNOR_UNIFORM;
        } else if (strcmp(kind, "topic") == 0 && sc->topic_count < MAX_TOPICS) {
            char *id = strtok(NULL, " "), *parts = strtok(NULL, " ");
            od_cg_topic *t = &sc->topics[sc->topic_count];
            if (!id || !parts || parse_uuid(id, &t->id) != 0)
                return 2;
            snprintf(names[sc->topic_count], sizeof names[0], "t%d", sc->topic_count);
            t->name = (od_str){names[sc->topic_count], (int32_t)strlen(names[sc->topic_count])};
            t->partitions = atoi(parts);
            sc->topic_count++;
        } else if (strcmp(kind, "member") == 0 && sc->member_count < MAX_MEMBERS) {
            int32_t i = sc->member_count;
            char *id = strtok(NULL, " "), *topics = strtok(NULL, " "), *cur = strtok(NULL, " ");
            char *instance = strtok(NULL, " ");
            if (!id || !topics || !cur)
                return 2;
            snprintf(sc->ids[i], sizeof sc->ids[i], "%s", id);
            od_cg_assignor_member *m = &sc->members[i];
            memset(m, 0, sizeof *m);
            m->member_id = (od_str){sc->ids[i], (int32_t)strlen(sc->ids[i])};
            m->instance_id = OD_STR_NULL;
            if (instance) {
                snprintf(sc->instances[i], sizeof sc->instances[i], "%s", instance);
                m->instance_id = (od_str){sc->instances[i], (int32_t)strlen(sc->instances[i])};
            }
            if (strcmp(topics, "-") != 0) {
                char *save;
                for (char *t = strtok_r(topics, ",", &save); t; t = strtok_r(NULL, ",", &save))
                    if (m->topic_count < MAX_TOPICS && parse_uuid(t, &sc->subs[i][m->topic_count]) == 0)
                        m->topic_count++;
            }
            m->topics = sc->subs[i];
            free(sc->current[i]);
            sc->current[i] = malloc(MAX_TPS * sizeof(od_cg_tp));
            int32_t n = parse_tps(cur, sc->current[i], MAX_TPS);
            if (n < 0)
                return 2;
            m->current = sc->current[i];
            m->current_count = n;
            sc->member_count++;
        } else if (strcmp(kind, "end") == 0) {
            answer(sc);
            for (int32_t i = 0; i < sc->member_count; i++) {
                free(sc->current[i]);
                sc->current[i] = NULL;
            }
            sc->topic_count = sc->member_count = 0;
        }
    }
    free(sc);
    return 0;
}
