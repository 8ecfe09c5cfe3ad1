/*
 * Fetch session cache; see fetch_session.h.
 */
#include "fetch_session.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct od_fetch_sessions {
    int32_t max;
    int32_t count, cap;
    od_fetch_session **items;
    uint64_t rng;
};

od_fetch_sessions *od_fetch_sessions_new(int32_t max_sessions)
{
    od_fetch_sessions *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->max = max_sessions;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->rng = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)c;
    return c;
}

static void session_free(od_fetch_session *s)
{
    for (int32_t i = 0; i < s->count; i++)
        free(s->parts[i].topic);
    free(s->parts);
    free(s);
}

void od_fetch_sessions_free(od_fetch_sessions *c)
{
    if (c == NULL)
        return;
    for (int32_t i = 0; i < c->count; i++)
        session_free(c->items[i]);
    free(c->items);
    free(c);
}

od_fetch_session *od_fetch_session_find(od_fetch_sessions *c, int32_t id)
{
    for (int32_t i = 0; c && i < c->count; i++)
        if (c->items[i]->id == id)
            return c->items[i];
    return NULL;
}

void od_fetch_session_remove(od_fetch_sessions *c, int32_t id)
{
    for (int32_t i = 0; c && i < c->count; i++) {
        if (c->items[i]->id != id)
            continue;
        session_free(c->items[i]);
        c->items[i] = c->items[--c->count];
        return;
    }
}

/* Session ids are positive and unpredictable, so one client cannot guess
 * (and disturb) another's session. */
static int32_t new_id(od_fetch_sessions *c)
{
    for (;;) {
        c->rng ^= c->rng << 13;
        c->rng ^= c->rng >> 7;
        c->rng ^= c->rng << 17;
        int32_t id = (int32_t)(c->rng & 0x7fffffff);
        if (id != 0 && od_fetch_session_find(c, id) == NULL)
            return id;
    }
}

od_fetch_session *od_fetch_session_create(od_fetch_sessions *c, uint64_t now_ms)
{
    if (c == NULL || c->max <= 0)
        return NULL;
    if (c->count >= c->max) {
        int32_t oldest = 0;
        for (int32_t i = 1; i < c->count; i++)
            if (c->items[i]->last_used_ms < c->items[oldest]->last_used_ms)
                oldest = i;
        od_fetch_session_remove(c, c->items[oldest]->id);
    }
    if (c->count == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 16;
        od_fetch_session **grown = realloc(c->items, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        c->items = grown;
        c->cap = cap;
    }
    od_fetch_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->id = new_id(c);
    s->epoch = 1;
    s->last_used_ms = now_ms;
    c->items[c->count++] = s;
    return s;
}

static bool same_partition(const od_fs_partition *p, const od_uuid *topic_id, od_str topic, int32_t partition)
{
    if (p->partition != partition)
        return false;
    if (!od_uuid_is_zero(topic_id))
        return od_uuid_eq(&p->topic_id, topic_id);
    return od_str_eq_cstr(topic, p->topic);
}

od_fs_partition *od_fetch_session_upsert(od_fetch_session *s, const od_uuid *topic_id, od_str topic,
                                         int32_t partition)
{
    for (int32_t i = 0; i < s->count; i++)
        if (same_partition(&s->parts[i], topic_id, topic, partition))
            return &s->parts[i];
    if (s->count == s->cap) {
        int32_t cap = s->cap ? s->cap * 2 : 8;
        od_fs_partition *grown = realloc(s->parts, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        s->parts = grown;
        s->cap = cap;
    }
    od_fs_partition *p = &s->parts[s->count];
    memset(p, 0, sizeof *p);
    size_t len = topic.len > 0 ? (size_t)topic.len : 0;
    p->topic = malloc(len + 1);
    if (p->topic == NULL)
        return NULL;
    if (len)
        memcpy(p->topic, topic.ptr, len);
    p->topic[len] = '\0';
    p->topic_id = *topic_id;
    p->partition = partition;
    p->current_leader_epoch = -1;
    s->count++;
    return p;
}

void od_fetch_session_forget(od_fetch_session *s, const od_uuid *topic_id, od_str topic, int32_t partition)
{
    for (int32_t i = 0; i < s->count; i++) {
        if (!same_partition(&s->parts[i], topic_id, topic, partition))
            continue;
        free(s->parts[i].topic);
        /* Keep the order: it is the order partitions are answered in. */
        memmove(&s->parts[i], &s->parts[i + 1], (size_t)(s->count - i - 1) * sizeof *s->parts);
        s->count--;
        return;
    }
}
