/*
 * The metadata image and how each record changes it.
 *
 * Invariants: see metadata_image.h (1-10). Internal ones:
 *  11. Every topic lives in `topics` (a dense array of pointers, any order)
 *      and in both hash indexes, or in none of the three.
 *  12. Config resources are sorted by (type, name), their entries by name;
 *      brokers by id; features by name. Equality and lookups rely on it.
 *  13. Every apply builds what it will insert before touching the image, so
 *      the last fallible step comes before the first mutation (invariant 2).
 *
 * State machine: none; an image only moves forward by applied records.
 */
#include "metadata_image.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- topic indexes */

/* Open addressing with tombstones, keyed by name or by id through `by_id`.
 * Slots hold topic pointers owned by the image, never by the index. */
typedef struct topic_index {
    od_mi_topic **slots;
    size_t cap;   /* power of two, or 0 */
    size_t used;  /* live entries plus tombstones */
    bool by_id;
} topic_index;

static od_mi_topic index_tombstone;
#define TOMBSTONE (&index_tombstone)

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static uint64_t hash_id(const od_uuid *u)
{
    uint64_t a, b;
    memcpy(&a, u->bytes, 8);
    memcpy(&b, u->bytes + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull));
    return h ^ (h >> 31);
}

static uint64_t topic_hash(const topic_index *ix, const od_mi_topic *t)
{
    return ix->by_id ? hash_id(&t->id) : hash_name(t->name, strlen(t->name));
}

/* Returns the slot holding the topic that matches, or NULL. */
static od_mi_topic **index_find(const topic_index *ix, uint64_t h, const char *name, size_t len,
                                const od_uuid *id)
{
    if (ix->cap == 0)
        return NULL;
    size_t mask = ix->cap - 1;
    for (size_t i = h & mask, n = 0; n < ix->cap; i = (i + 1) & mask, n++) {
        od_mi_topic *t = ix->slots[i];
        if (!t)
            return NULL;
        if (t == TOMBSTONE)
            continue;
        if (ix->by_id ? od_uuid_eq(&t->id, id)
                      : (strlen(t->name) == len && memcmp(t->name, name, len) == 0))
            return &ix->slots[i];
    }
    return NULL;
}

static void index_place(topic_index *ix, od_mi_topic *t)
{
    size_t mask = ix->cap - 1;
    size_t i = topic_hash(ix, t) & mask;
    while (ix->slots[i] && ix->slots[i] != TOMBSTONE)
        i = (i + 1) & mask;
    if (!ix->slots[i])
        ix->used++;
    ix->slots[i] = t;
}

/* Makes room for one more entry; false when out of memory (index unchanged). */
static bool index_reserve(topic_index *ix, size_t live)
{
    if ((ix->used + 1) * 4 < ix->cap * 3)
        return true;
    size_t cap = ix->cap ? ix->cap : 16;
    while ((live + 1) * 2 > cap)
        cap *= 2;
    od_mi_topic **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    od_mi_topic **old = ix->slots;
    size_t old_cap = ix->cap;
    ix->slots = slots;
    ix->cap = cap;
    ix->used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] && old[i] != TOMBSTONE)
            index_place(ix, old[i]);
    free(old);
    return true;
}

/* ---------------------------------------------------------------- the image */

struct od_mimage {
    od_mi_topic **topics;
    size_t topic_count, topic_cap;
    topic_index by_name;
    topic_index by_id;

    od_mi_config_resource *resources;
    size_t resource_count;

    od_mi_broker *brokers;
    size_t broker_count;

    od_mi_feature *features;
    size_t feature_count;

    int64_t next_producer_id;
    int64_t last_offset;
    int32_t last_epoch;
};

const char *od_mi_err_name(od_mi_err err)
{
    switch (err) {
    case OD_MI_OK: return "OK";
    case OD_MI_NO_MEMORY: return "NO_MEMORY";
    case OD_MI_DUPLICATE_TOPIC: return "DUPLICATE_TOPIC";
    case OD_MI_UNKNOWN_TOPIC: return "UNKNOWN_TOPIC";
    case OD_MI_BAD_PARTITION: return "BAD_PARTITION";
    case OD_MI_BAD_RECORD: return "BAD_RECORD";
    case OD_MI_STALE: return "STALE";
    }
    return "UNKNOWN";
}

od_mimage *od_mimage_new(void)
{
    od_mimage *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->by_id.by_id = true;
    img->last_offset = -1;
    img->last_epoch = -1;
    return img;
}

static void id_list_free(od_id_list *l)
{
    free(l->ids);
    l->ids = NULL;
    l->count = 0;
}

static void partition_free(od_mi_partition *p)
{
    id_list_free(&p->replicas);
    id_list_free(&p->isr);
    id_list_free(&p->removing_replicas);
    id_list_free(&p->adding_replicas);
    id_list_free(&p->elr);
    id_list_free(&p->last_known_elr);
    free(p->directories);
    p->directories = NULL;
}

static void topic_free(od_mi_topic *t)
{
    if (!t)
        return;
    for (int32_t i = 0; i < t->partition_count; i++)
        partition_free(&t->partitions[i]);
    free(t->partitions);
    free(t->name);
    free(t);
}

static void resource_free(od_mi_config_resource *r)
{
    for (int32_t i = 0; i < r->count; i++) {
        free(r->entries[i].name);
        free(r->entries[i].value);
    }
    free(r->entries);
    free(r->name);
}

static void broker_free(od_mi_broker *b)
{
    for (int32_t i = 0; i < b->endpoint_count; i++) {
        free(b->endpoints[i].listener);
        free(b->endpoints[i].host);
    }
    free(b->endpoints);
    for (int32_t i = 0; i < b->feature_count; i++)
        free(b->features[i].name);
    free(b->features);
    free(b->rack);
    free(b->log_dirs);
}

void od_mimage_free(od_mimage *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->topic_count; i++)
        topic_free(img->topics[i]);
    free(img->topics);
    free(img->by_name.slots);
    free(img->by_id.slots);
    for (size_t i = 0; i < img->resource_count; i++)
        resource_free(&img->resources[i]);
    free(img->resources);
    for (size_t i = 0; i < img->broker_count; i++)
        broker_free(&img->brokers[i]);
    free(img->brokers);
    for (size_t i = 0; i < img->feature_count; i++)
        free(img->features[i].name);
    free(img->features);
    free(img);
}

/* ---------------------------------------------------------------- copying helpers */

static char *str_dup_view(od_str s)
{
    if (s.len < 0)
        return NULL;
    char *c = malloc((size_t)s.len + 1);
    if (!c)
        return NULL;
    memcpy(c, s.ptr, (size_t)s.len);
    c[s.len] = '\0';
    return c;
}

static char *str_dup(const char *s)
{
    return s ? str_dup_view(od_str_from_cstr(s)) : NULL;
}

/* Copies an id array; a null array becomes count -1. False when out of memory. */
static bool id_list_from(od_id_list *out, const int32_t *ids, int32_t count)
{
    out->count = count;
    out->ids = NULL;
    if (count <= 0) {
        out->count = count < 0 ? -1 : 0;
        return true;
    }
    out->ids = malloc((size_t)count * sizeof *ids);
    if (!out->ids)
        return false;
    memcpy(out->ids, ids, (size_t)count * sizeof *ids);
    return true;
}

static bool id_list_copy(od_id_list *out, const od_id_list *in)
{
    return id_list_from(out, in->ids, in->count);
}

static bool id_list_eq(const od_id_list *a, const od_id_list *b)
{
    if (a->count != b->count)
        return false;
    return a->count <= 0 || memcmp(a->ids, b->ids, (size_t)a->count * sizeof *a->ids) == 0;
}

static bool uuids_copy(od_uuid **out, int32_t *out_count, const od_uuid *in, int32_t count)
{
    *out = NULL;
    *out_count = 0;
    if (count <= 0)
        return true;
    *out = malloc((size_t)count * sizeof **out);
    if (!*out)
        return false;
    memcpy(*out, in, (size_t)count * sizeof **out);
    *out_count = count;
    return true;
}

static bool partition_copy(od_mi_partition *out, const od_mi_partition *in)
{
    *out = *in;
    out->replicas = out->isr = out->removing_replicas = out->adding_replicas = out->elr =
        out->last_known_elr = (od_id_list){0, NULL};
    out->directories = NULL;
    out->directory_count = 0;
    bool ok = id_list_copy(&out->replicas, &in->replicas) && id_list_copy(&out->isr, &in->isr) &&
              id_list_copy(&out->removing_replicas, &in->removing_replicas) &&
              id_list_copy(&out->adding_replicas, &in->adding_replicas) &&
              id_list_copy(&out->elr, &in->elr) &&
              id_list_copy(&out->last_known_elr, &in->last_known_elr) &&
              uuids_copy(&out->directories, &out->directory_count, in->directories,
                         in->directory_count);
    if (!ok)
        partition_free(out);
    return ok;
}

/* ---------------------------------------------------------------- topics */

static const od_mi_topic *find_topic_name(const od_mimage *img, const char *name, size_t len)
{
    od_mi_topic **slot = index_find(&img->by_name, hash_name(name, len), name, len, NULL);
    return slot ? *slot : NULL;
}

static od_mi_topic *find_topic_id(const od_mimage *img, const od_uuid *id)
{
    od_mi_topic **slot = index_find(&img->by_id, hash_id(id), NULL, 0, id);
    return slot ? *slot : NULL;
}

/* Inserts t into the array and both indexes; on failure nothing changed. */
static od_mi_err topic_insert(od_mimage *img, od_mi_topic *t)
{
    if (img->topic_count == img->topic_cap) {
        size_t cap = img->topic_cap ? img->topic_cap * 2 : 16;
        od_mi_topic **topics = realloc(img->topics, cap * sizeof *topics);
        if (!topics)
            return OD_MI_NO_MEMORY;
        img->topics = topics;
        img->topic_cap = cap;
    }
    if (!index_reserve(&img->by_name, img->topic_count) ||
        !index_reserve(&img->by_id, img->topic_count))
        return OD_MI_NO_MEMORY;
    index_place(&img->by_name, t);
    index_place(&img->by_id, t);
    img->topics[img->topic_count++] = t;
    return OD_MI_OK;
}

static void topic_remove(od_mimage *img, od_mi_topic *t)
{
    size_t len = strlen(t->name);
    od_mi_topic **slot = index_find(&img->by_name, hash_name(t->name, len), t->name, len, NULL);
    if (slot)
        *slot = TOMBSTONE;
    slot = index_find(&img->by_id, hash_id(&t->id), NULL, 0, &t->id);
    if (slot)
        *slot = TOMBSTONE;
    for (size_t i = 0; i < img->topic_count; i++) {
        if (img->topics[i] == t) {
            img->topics[i] = img->topics[--img->topic_count];
            break;
        }
    }
}

static od_mi_err apply_topic(od_mimage *img, const od_topic_record *r)
{
    if (r->name.len <= 0 || od_uuid_is_zero(&r->topic_id))
        return OD_MI_BAD_RECORD;
    if (find_topic_name(img, r->name.ptr, (size_t)r->name.len) || find_topic_id(img, &r->topic_id))
        return OD_MI_DUPLICATE_TOPIC;
    od_mi_topic *t = calloc(1, sizeof *t);
    if (!t)
        return OD_MI_NO_MEMORY;
    t->name = str_dup_view(r->name);
    t->id = r->topic_id;
    if (!t->name) {
        free(t);
        return OD_MI_NO_MEMORY;
    }
    od_mi_err err = topic_insert(img, t);
    if (err != OD_MI_OK)
        topic_free(t);
    return err;
}

/* Index of `partition` in t->partitions, or where it would go (*found false). */
static int32_t partition_search(const od_mi_topic *t, int32_t partition, bool *found)
{
    /* Fast path: dense ids, partition i at index i. */
    if (partition >= 0 && partition < t->partition_count &&
        t->partitions[partition].partition_id == partition) {
        *found = true;
        return partition;
    }
    int32_t lo = 0, hi = t->partition_count;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int32_t id = t->partitions[mid].partition_id;
        if (id == partition) {
            *found = true;
            return mid;
        }
        if (partition < id)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

const od_mi_partition *od_mi_topic_partition(const od_mi_topic *t, int32_t partition)
{
    bool found;
    int32_t i = partition_search(t, partition, &found);
    return found ? &t->partitions[i] : NULL;
}

/* Room for one more partition; false when out of memory (topic unchanged). */
static bool topic_reserve(od_mi_topic *t)
{
    if (t->partition_count < t->partition_cap)
        return true;
    int32_t cap = t->partition_cap ? t->partition_cap * 2 : 4;
    od_mi_partition *p = realloc(t->partitions, (size_t)cap * sizeof *p);
    if (!p)
        return false;
    t->partitions = p;
    t->partition_cap = cap;
    return true;
}

static od_mi_err apply_partition(od_mimage *img, const od_partition_record *r)
{
    od_mi_topic *t = find_topic_id(img, &r->topic_id);
    if (!t)
        return OD_MI_UNKNOWN_TOPIC;
    if (r->partition_id < 0)
        return OD_MI_BAD_PARTITION;
    od_mi_partition np = {0};
    np.present = true;
    np.partition_id = r->partition_id;
    np.leader = r->leader;
    np.leader_recovery_state = r->leader_recovery_state;
    np.leader_epoch = r->leader_epoch;
    np.partition_epoch = r->partition_epoch;
    bool ok = id_list_from(&np.replicas, r->replicas.items, r->replicas.count) &&
              id_list_from(&np.isr, r->isr.items, r->isr.count) &&
              id_list_from(&np.removing_replicas, r->removing_replicas.items,
                           r->removing_replicas.count) &&
              id_list_from(&np.adding_replicas, r->adding_replicas.items,
                           r->adding_replicas.count) &&
              id_list_from(&np.elr, r->eligible_leader_replicas.items,
                           r->eligible_leader_replicas.count) &&
              id_list_from(&np.last_known_elr, r->last_known_elr.items, r->last_known_elr.count) &&
              uuids_copy(&np.directories, &np.directory_count, r->directories.items,
                         r->directories.count) &&
              topic_reserve(t);
    if (!ok) {
        partition_free(&np);
        return OD_MI_NO_MEMORY;
    }
    bool found;
    int32_t at = partition_search(t, r->partition_id, &found);
    if (found) {
        /* A PartitionRecord for a known partition replaces it, as in Kafka's image. */
        partition_free(&t->partitions[at]);
        t->partitions[at] = np;
        return OD_MI_OK;
    }
    memmove(&t->partitions[at + 1], &t->partitions[at],
            (size_t)(t->partition_count - at) * sizeof *t->partitions);
    t->partitions[at] = np;
    t->partition_count++;
    return OD_MI_OK;
}

/* The directory of each new replica: kept where the replica stays,
 * OD_DIR_UNASSIGNED where it is new, as Kafka does when a change carries
 * replicas without directories. */
static bool directories_remap(const od_mi_partition *old, const od_int32_array *replicas,
                              od_uuid **out, int32_t *out_count)
{
    *out = NULL;
    *out_count = 0;
    if (old->directory_count == 0 || replicas->count <= 0)
        return true;
    od_uuid *dirs = calloc((size_t)replicas->count, sizeof *dirs);
    if (!dirs)
        return false;
    for (int32_t i = 0; i < replicas->count; i++)
        dirs[i] = OD_DIR_UNASSIGNED;
    for (int32_t i = 0; i < replicas->count; i++)
        for (int32_t j = 0; j < old->replicas.count && j < old->directory_count; j++)
            if (old->replicas.ids[j] == replicas->items[i])
                dirs[i] = old->directories[j];
    *out = dirs;
    *out_count = replicas->count;
    return true;
}

static od_mi_err apply_partition_change(od_mimage *img, const od_partition_change_record *r)
{
    od_mi_topic *t = find_topic_id(img, &r->topic_id);
    if (!t)
        return OD_MI_UNKNOWN_TOPIC;
    bool found;
    int32_t at = partition_search(t, r->partition_id, &found);
    if (!found)
        return OD_MI_BAD_PARTITION;
    od_mi_partition *old = &t->partitions[at];
    /* Epochs are int32 in every record and request: refuse to wrap. */
    if ((r->leader != OD_NO_LEADER_CHANGE && old->leader_epoch == INT32_MAX) ||
        old->partition_epoch == INT32_MAX)
        return OD_MI_BAD_RECORD;
    od_mi_partition np;
    if (!partition_copy(&np, old))
        return OD_MI_NO_MEMORY;
    /* Only the fields the record carries change: null arrays and the
     * defaults (-2 leader, -1 recovery state) mean "as before". */
    bool ok = true;
    if (r->replicas.count >= 0) {
        od_uuid *dirs = NULL;
        int32_t ndirs = 0;
        if (r->directories.count < 0 && !directories_remap(old, &r->replicas, &dirs, &ndirs))
            ok = false;
        id_list_free(&np.replicas);
        ok = ok && id_list_from(&np.replicas, r->replicas.items, r->replicas.count);
        if (r->directories.count < 0) {
            free(np.directories);
            np.directories = dirs;
            np.directory_count = ndirs;
        }
    }
    if (ok && r->directories.count >= 0) {
        free(np.directories);
        ok = uuids_copy(&np.directories, &np.directory_count, r->directories.items,
                        r->directories.count);
    }
#define REPLACE_IF_PRESENT(field, arr)                                                       \
    if (ok && (arr).count >= 0) {                                                            \
        id_list_free(&np.field);                                                             \
        ok = id_list_from(&np.field, (arr).items, (arr).count);                              \
    }
    REPLACE_IF_PRESENT(isr, r->isr)
    REPLACE_IF_PRESENT(removing_replicas, r->removing_replicas)
    REPLACE_IF_PRESENT(adding_replicas, r->adding_replicas)
    REPLACE_IF_PRESENT(elr, r->eligible_leader_replicas)
    REPLACE_IF_PRESENT(last_known_elr, r->last_known_elr)
#undef REPLACE_IF_PRESENT
    if (!ok) {
        partition_free(&np);
        return OD_MI_NO_MEMORY;
    }
    if (r->leader != OD_NO_LEADER_CHANGE) {
        np.leader = r->leader;
        np.leader_epoch = old->leader_epoch + 1;
    }
    if (r->leader_recovery_state != -1)
        np.leader_recovery_state = r->leader_recovery_state;
    np.partition_epoch = old->partition_epoch + 1;
    partition_free(old);
    *old = np;
    return OD_MI_OK;
}

/* ---------------------------------------------------------------- configs */

static int resource_cmp(int8_t type, const char *name, const od_mi_config_resource *r)
{
    if (type != r->type)
        return type < r->type ? -1 : 1;
    return strcmp(name, r->name);
}

/* Binary search; returns the index of the match or where it would go. */
static size_t resource_search(const od_mimage *img, int8_t type, const char *name, bool *found)
{
    size_t lo = 0, hi = img->resource_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = resource_cmp(type, name, &img->resources[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static size_t entry_search(const od_mi_config_resource *r, const char *name, bool *found)
{
    size_t lo = 0, hi = (size_t)r->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, r->entries[mid].name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static void resource_remove_at(od_mimage *img, size_t i)
{
    resource_free(&img->resources[i]);
    memmove(&img->resources[i], &img->resources[i + 1],
            (img->resource_count - i - 1) * sizeof *img->resources);
    img->resource_count--;
}

static od_mi_err apply_config(od_mimage *img, const od_config_record *r)
{
    if (r->resource_name.len < 0 || r->name.len < 0)
        return OD_MI_BAD_RECORD;
    char *rname = str_dup_view(r->resource_name);
    char *key = str_dup_view(r->name);
    char *value = r->value.len >= 0 ? str_dup_view(r->value) : NULL;
    od_mi_err err = OD_MI_NO_MEMORY;
    if (!rname || !key || (r->value.len >= 0 && !value))
        goto out;
    bool found;
    size_t ri = resource_search(img, r->resource_type, rname, &found);
    if (!found) {
        err = OD_MI_OK;
        if (!value)
            goto out; /* deleting a key of a resource with none */
        od_mi_config *entries = malloc(sizeof *entries);
        od_mi_config_resource *res =
            realloc(img->resources, (img->resource_count + 1) * sizeof *res);
        if (res)
            img->resources = res;
        if (!entries || !res) {
            free(entries);
            err = OD_MI_NO_MEMORY;
            goto out;
        }
        memmove(&img->resources[ri + 1], &img->resources[ri],
                (img->resource_count - ri) * sizeof *res);
        entries[0] = (od_mi_config){key, value};
        img->resources[ri] = (od_mi_config_resource){r->resource_type, rname, 1, entries};
        img->resource_count++;
        return OD_MI_OK;
    }
    od_mi_config_resource *res = &img->resources[ri];
    size_t ei = entry_search(res, key, &found);
    if (found) {
        if (value) {
            free(res->entries[ei].value);
            res->entries[ei].value = value;
            value = NULL;
        } else {
            free(res->entries[ei].name);
            free(res->entries[ei].value);
            memmove(&res->entries[ei], &res->entries[ei + 1],
                    ((size_t)res->count - ei - 1) * sizeof *res->entries);
            res->count--;
            if (res->count == 0)
                resource_remove_at(img, ri); /* invariant 7 */
        }
        err = OD_MI_OK;
        goto out;
    }
    err = OD_MI_OK;
    if (!value)
        goto out;
    od_mi_config *entries = realloc(res->entries, ((size_t)res->count + 1) * sizeof *entries);
    if (!entries) {
        err = OD_MI_NO_MEMORY;
        goto out;
    }
    res->entries = entries;
    memmove(&entries[ei + 1], &entries[ei], ((size_t)res->count - ei) * sizeof *entries);
    entries[ei] = (od_mi_config){key, value};
    res->count++;
    free(rname);
    return OD_MI_OK;
out:
    free(rname);
    free(key);
    free(value);
    return err;
}

static void remove_resource(od_mimage *img, int8_t type, const char *name)
{
    bool found;
    size_t i = resource_search(img, type, name, &found);
    if (found)
        resource_remove_at(img, i);
}

static od_mi_err apply_remove_topic(od_mimage *img, const od_remove_topic_record *r)
{
    od_mi_topic *t = find_topic_id(img, &r->topic_id);
    if (!t)
        return OD_MI_UNKNOWN_TOPIC;
    remove_resource(img, OD_CONFIG_RESOURCE_TOPIC, t->name); /* invariant 6 */
    topic_remove(img, t);
    topic_free(t);
    return OD_MI_OK;
}

/* ---------------------------------------------------------------- brokers */

static size_t broker_search(const od_mimage *img, int32_t id, bool *found)
{
    size_t lo = 0, hi = img->broker_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (img->brokers[mid].id == id) {
            *found = true;
            return mid;
        }
        if (id < img->brokers[mid].id)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static bool broker_build(od_mi_broker *b, const od_register_broker_record *r)
{
    memset(b, 0, sizeof *b);
    b->id = r->broker_id;
    b->epoch = r->broker_epoch;
    b->incarnation_id = r->incarnation_id;
    b->fenced = r->fenced;
    b->in_controlled_shutdown = r->in_controlled_shutdown;
    b->is_migrating_zk_broker = r->is_migrating_zk_broker;
    if (r->rack.len >= 0 && !(b->rack = str_dup_view(r->rack)))
        return false;
    if (r->end_points.count > 0) {
        b->endpoints = calloc((size_t)r->end_points.count, sizeof *b->endpoints);
        if (!b->endpoints)
            return false;
        for (int32_t i = 0; i < r->end_points.count; i++) {
            const od_register_broker_record_broker_endpoint *e = &r->end_points.items[i];
            od_mi_endpoint *o = &b->endpoints[b->endpoint_count++];
            o->listener = str_dup_view(e->name);
            o->host = str_dup_view(e->host);
            o->port = e->port;
            o->security_protocol = e->security_protocol;
            if (!o->listener || !o->host)
                return false;
        }
    }
    if (r->features.count > 0) {
        b->features = calloc((size_t)r->features.count, sizeof *b->features);
        if (!b->features)
            return false;
        for (int32_t i = 0; i < r->features.count; i++) {
            const od_register_broker_record_broker_feature *f = &r->features.items[i];
            od_mi_broker_feature *o = &b->features[b->feature_count++];
            o->name = str_dup_view(f->name);
            o->min_version = f->min_supported_version;
            o->max_version = f->max_supported_version;
            if (!o->name)
                return false;
        }
    }
    return uuids_copy(&b->log_dirs, &b->log_dir_count, r->log_dirs.items, r->log_dirs.count);
}

static od_mi_err apply_register_broker(od_mimage *img, const od_register_broker_record *r)
{
    od_mi_broker nb;
    if (!broker_build(&nb, r)) {
        broker_free(&nb);
        return OD_MI_NO_MEMORY;
    }
    bool found;
    size_t i = broker_search(img, r->broker_id, &found);
    if (found) {
        broker_free(&img->brokers[i]);
        img->brokers[i] = nb;
        return OD_MI_OK;
    }
    od_mi_broker *bs = realloc(img->brokers, (img->broker_count + 1) * sizeof *bs);
    if (!bs) {
        broker_free(&nb);
        return OD_MI_NO_MEMORY;
    }
    img->brokers = bs;
    memmove(&bs[i + 1], &bs[i], (img->broker_count - i) * sizeof *bs);
    bs[i] = nb;
    img->broker_count++;
    return OD_MI_OK;
}

/* Kafka ignores fencing and unregistration records whose epoch does not
 * match the current registration: they belong to an older incarnation. */
static od_mi_broker *broker_at_epoch(od_mimage *img, int32_t id, int64_t epoch)
{
    bool found;
    size_t i = broker_search(img, id, &found);
    if (!found || img->brokers[i].epoch != epoch)
        return NULL;
    return &img->brokers[i];
}

static od_mi_err apply_unregister_broker(od_mimage *img, const od_unregister_broker_record *r)
{
    bool found;
    size_t i = broker_search(img, r->broker_id, &found);
    if (!found)
        return OD_MI_OK;
    broker_free(&img->brokers[i]);
    memmove(&img->brokers[i], &img->brokers[i + 1],
            (img->broker_count - i - 1) * sizeof *img->brokers);
    img->broker_count--;
    return OD_MI_OK;
}

static od_mi_err apply_registration_change(od_mimage *img,
                                           const od_broker_registration_change_record *r)
{
    od_mi_broker *b = broker_at_epoch(img, r->broker_id, r->broker_epoch);
    if (!b)
        return OD_MI_OK;
    od_uuid *dirs = NULL;
    int32_t ndirs = 0;
    if (r->log_dirs.count > 0 &&
        !uuids_copy(&dirs, &ndirs, r->log_dirs.items, r->log_dirs.count))
        return OD_MI_NO_MEMORY;
    /* Fenced: 1 fence, -1 unfence, 0 no change. InControlledShutdown: 1 set. */
    if (r->fenced == 1)
        b->fenced = true;
    else if (r->fenced == -1)
        b->fenced = false;
    if (r->in_controlled_shutdown == 1)
        b->in_controlled_shutdown = true;
    if (r->log_dirs.count > 0) {
        free(b->log_dirs);
        b->log_dirs = dirs;
        b->log_dir_count = ndirs;
    }
    return OD_MI_OK;
}

/* ---------------------------------------------------------------- features */

static od_mi_err apply_feature(od_mimage *img, const od_feature_level_record *r)
{
    if (r->name.len < 0)
        return OD_MI_BAD_RECORD;
    size_t i = 0;
    int c = 1;
    for (; i < img->feature_count; i++) {
        c = strncmp(img->features[i].name, r->name.ptr, (size_t)r->name.len);
        if (c == 0 && img->features[i].name[r->name.len] != '\0')
            c = 1;
        if (c >= 0)
            break;
    }
    if (c == 0) {
        if (r->feature_level == 0) { /* invariant 8 */
            free(img->features[i].name);
            memmove(&img->features[i], &img->features[i + 1],
                    (img->feature_count - i - 1) * sizeof *img->features);
            img->feature_count--;
        } else {
            img->features[i].level = r->feature_level;
        }
        return OD_MI_OK;
    }
    if (r->feature_level == 0)
        return OD_MI_OK;
    char *name = str_dup_view(r->name);
    od_mi_feature *fs = name ? realloc(img->features, (img->feature_count + 1) * sizeof *fs) : NULL;
    if (!fs) {
        free(name);
        return OD_MI_NO_MEMORY;
    }
    img->features = fs;
    memmove(&fs[i + 1], &fs[i], (img->feature_count - i) * sizeof *fs);
    fs[i] = (od_mi_feature){name, r->feature_level};
    img->feature_count++;
    return OD_MI_OK;
}

/* ---------------------------------------------------------------- dispatch */

od_mi_err od_mimage_apply(od_mimage *img, const od_mrec *rec, int64_t offset, int32_t epoch)
{
    od_mi_err err = OD_MI_OK;
    switch (rec->type) {
    case OD_MREC_TOPIC: err = apply_topic(img, rec->msg); break;
    case OD_MREC_PARTITION: err = apply_partition(img, rec->msg); break;
    case OD_MREC_PARTITION_CHANGE: err = apply_partition_change(img, rec->msg); break;
    case OD_MREC_REMOVE_TOPIC: err = apply_remove_topic(img, rec->msg); break;
    case OD_MREC_CONFIG: err = apply_config(img, rec->msg); break;
    case OD_MREC_REGISTER_BROKER: err = apply_register_broker(img, rec->msg); break;
    case OD_MREC_UNREGISTER_BROKER: err = apply_unregister_broker(img, rec->msg); break;
    case OD_MREC_FENCE_BROKER: {
        const od_fence_broker_record *r = rec->msg;
        od_mi_broker *b = broker_at_epoch(img, r->id, r->epoch);
        if (b)
            b->fenced = true;
        break;
    }
    case OD_MREC_UNFENCE_BROKER: {
        const od_unfence_broker_record *r = rec->msg;
        od_mi_broker *b = broker_at_epoch(img, r->id, r->epoch);
        if (b)
            b->fenced = false;
        break;
    }
    case OD_MREC_BROKER_REGISTRATION_CHANGE: err = apply_registration_change(img, rec->msg); break;
    case OD_MREC_FEATURE_LEVEL: err = apply_feature(img, rec->msg); break;
    case OD_MREC_PRODUCER_IDS: {
        const od_producer_ids_record *r = rec->msg;
        if (r->next_producer_id < img->next_producer_id)
            err = OD_MI_STALE; /* invariant 9 */
        else
            img->next_producer_id = r->next_producer_id;
        break;
    }
    default:
        break;
    }
    if (err == OD_MI_OK)
        od_mimage_advance(img, offset, epoch);
    return err;
}

void od_mimage_advance(od_mimage *img, int64_t offset, int32_t epoch)
{
    if (offset > img->last_offset) {
        img->last_offset = offset;
        img->last_epoch = epoch;
    }
}

int64_t od_mimage_last_offset(const od_mimage *img) { return img->last_offset; }
int32_t od_mimage_last_epoch(const od_mimage *img) { return img->last_epoch; }

/* ---------------------------------------------------------------- lookups */

size_t od_mimage_topic_count(const od_mimage *img) { return img->topic_count; }

const od_mi_topic *od_mimage_topic_at(const od_mimage *img, size_t i)
{
    return i < img->topic_count ? img->topics[i] : NULL;
}

const od_mi_topic *od_mimage_topic_by_name(const od_mimage *img, const char *name, size_t len)
{
    return find_topic_name(img, name, len);
}

const od_mi_topic *od_mimage_topic_by_id(const od_mimage *img, const od_uuid *id)
{
    return find_topic_id(img, id);
}

const od_mi_partition *od_mimage_partition(const od_mimage *img, const od_uuid *topic_id,
                                           int32_t partition)
{
    const od_mi_topic *t = find_topic_id(img, topic_id);
    return t ? od_mi_topic_partition(t, partition) : NULL;
}

size_t od_mimage_config_resource_count(const od_mimage *img) { return img->resource_count; }

const od_mi_config_resource *od_mimage_config_resource_at(const od_mimage *img, size_t i)
{
    return i < img->resource_count ? &img->resources[i] : NULL;
}

const od_mi_config_resource *od_mimage_configs(const od_mimage *img, int8_t type,
                                               const char *name)
{
    bool found;
    size_t i = resource_search(img, type, name, &found);
    return found ? &img->resources[i] : NULL;
}

const char *od_mimage_config(const od_mimage *img, int8_t type, const char *resource,
                             const char *key)
{
    const od_mi_config_resource *r = od_mimage_configs(img, type, resource);
    if (!r)
        return NULL;
    bool found;
    size_t i = entry_search(r, key, &found);
    return found ? r->entries[i].value : NULL;
}

size_t od_mimage_broker_count(const od_mimage *img) { return img->broker_count; }

const od_mi_broker *od_mimage_broker_at(const od_mimage *img, size_t i)
{
    return i < img->broker_count ? &img->brokers[i] : NULL;
}

const od_mi_broker *od_mimage_broker(const od_mimage *img, int32_t id)
{
    bool found;
    size_t i = broker_search(img, id, &found);
    return found ? &img->brokers[i] : NULL;
}

size_t od_mimage_feature_count(const od_mimage *img) { return img->feature_count; }

const od_mi_feature *od_mimage_feature_at(const od_mimage *img, size_t i)
{
    return i < img->feature_count ? &img->features[i] : NULL;
}

int16_t od_mimage_feature_level(const od_mimage *img, const char *name)
{
    for (size_t i = 0; i < img->feature_count; i++)
        if (strcmp(img->features[i].name, name) == 0)
            return img->features[i].level;
    return 0;
}

int64_t od_mimage_next_producer_id(const od_mimage *img) { return img->next_producer_id; }

void od_mimage_swap(od_mimage *a, od_mimage *b)
{
    od_mimage t = *a;
    *a = *b;
    *b = t;
}

/* ---------------------------------------------------------------- equality */

static bool str_eq_nullable(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool partition_eq(const od_mi_partition *a, const od_mi_partition *b)
{
    return a->partition_id == b->partition_id && a->leader == b->leader &&
           a->leader_recovery_state == b->leader_recovery_state &&
           a->leader_epoch == b->leader_epoch && a->partition_epoch == b->partition_epoch &&
           id_list_eq(&a->replicas, &b->replicas) && id_list_eq(&a->isr, &b->isr) &&
           id_list_eq(&a->removing_replicas, &b->removing_replicas) &&
           id_list_eq(&a->adding_replicas, &b->adding_replicas) && id_list_eq(&a->elr, &b->elr) &&
           id_list_eq(&a->last_known_elr, &b->last_known_elr) &&
           a->directory_count == b->directory_count &&
           (a->directory_count == 0 ||
            memcmp(a->directories, b->directories,
                   (size_t)a->directory_count * sizeof *a->directories) == 0);
}

static bool topic_eq(const od_mi_topic *a, const od_mi_topic *b)
{
    if (strcmp(a->name, b->name) != 0 || !od_uuid_eq(&a->id, &b->id) ||
        a->partition_count != b->partition_count)
        return false;
    for (int32_t i = 0; i < a->partition_count; i++)
        if (!partition_eq(&a->partitions[i], &b->partitions[i]))
            return false;
    return true;
}

static bool broker_eq(const od_mi_broker *a, const od_mi_broker *b)
{
    if (a->id != b->id || a->epoch != b->epoch ||
        !od_uuid_eq(&a->incarnation_id, &b->incarnation_id) || a->fenced != b->fenced ||
        a->in_controlled_shutdown != b->in_controlled_shutdown ||
        a->is_migrating_zk_broker != b->is_migrating_zk_broker ||
        !str_eq_nullable(a->rack, b->rack) || a->endpoint_count != b->endpoint_count ||
        a->feature_count != b->feature_count || a->log_dir_count != b->log_dir_count)
        return false;
    for (int32_t i = 0; i < a->endpoint_count; i++) {
        const od_mi_endpoint *x = &a->endpoints[i], *y = &b->endpoints[i];
        if (strcmp(x->listener, y->listener) != 0 || strcmp(x->host, y->host) != 0 ||
            x->port != y->port || x->security_protocol != y->security_protocol)
            return false;
    }
    for (int32_t i = 0; i < a->feature_count; i++) {
        const od_mi_broker_feature *x = &a->features[i], *y = &b->features[i];
        if (strcmp(x->name, y->name) != 0 || x->min_version != y->min_version ||
            x->max_version != y->max_version)
            return false;
    }
    return a->log_dir_count == 0 ||
           memcmp(a->log_dirs, b->log_dirs, (size_t)a->log_dir_count * sizeof *a->log_dirs) == 0;
}

bool od_mimage_equal(const od_mimage *a, const od_mimage *b)
{
    if (a->topic_count != b->topic_count || a->resource_count != b->resource_count ||
        a->broker_count != b->broker_count || a->feature_count != b->feature_count ||
        a->next_producer_id != b->next_producer_id)
        return false;
    for (size_t i = 0; i < a->topic_count; i++) {
        const od_mi_topic *t = a->topics[i];
        const od_mi_topic *u = find_topic_id(b, &t->id);
        if (!u || !topic_eq(t, u))
            return false;
    }
    for (size_t i = 0; i < a->resource_count; i++) {
        const od_mi_config_resource *x = &a->resources[i], *y = &b->resources[i];
        if (x->type != y->type || strcmp(x->name, y->name) != 0 || x->count != y->count)
            return false;
        for (int32_t j = 0; j < x->count; j++)
            if (strcmp(x->entries[j].name, y->entries[j].name) != 0 ||
                strcmp(x->entries[j].value, y->entries[j].value) != 0)
                return false;
    }
    for (size_t i = 0; i < a->broker_count; i++)
        if (!broker_eq(&a->brokers[i], &b->brokers[i]))
            return false;
    for (size_t i = 0; i < a->feature_count; i++)
        if (strcmp(a->features[i].name, b->features[i].name) != 0 ||
            a->features[i].level != b->features[i].level)
            return false;
    return true;
}

/* ---------------------------------------------------------------- cloning */

static od_mi_topic *topic_clone(const od_mi_topic *t)
{
    od_mi_topic *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = t->id;
    c->name = str_dup(t->name);
    if (!c->name)
        goto fail;
    if (t->partition_count > 0) {
        c->partitions = calloc((size_t)t->partition_count, sizeof *c->partitions);
        if (!c->partitions)
            goto fail;
        c->partition_cap = t->partition_count;
        for (int32_t i = 0; i < t->partition_count; i++) {
            if (!partition_copy(&c->partitions[i], &t->partitions[i]))
                goto fail;
            c->partition_count = i + 1;
        }
    }
    return c;
fail:
    topic_free(c);
    return NULL;
}

static bool broker_clone(od_mi_broker *c, const od_mi_broker *b)
{
    *c = *b;
    c->endpoints = NULL;
    c->features = NULL;
    c->rack = NULL;
    c->log_dirs = NULL;
    c->endpoint_count = c->feature_count = c->log_dir_count = 0;
    if (b->rack && !(c->rack = str_dup(b->rack)))
        return false;
    if (b->endpoint_count > 0) {
        c->endpoints = calloc((size_t)b->endpoint_count, sizeof *c->endpoints);
        if (!c->endpoints)
            return false;
        for (int32_t i = 0; i < b->endpoint_count; i++) {
            c->endpoints[i] = b->endpoints[i];
            c->endpoints[i].listener = str_dup(b->endpoints[i].listener);
            c->endpoints[i].host = str_dup(b->endpoints[i].host);
            c->endpoint_count = i + 1;
            if (!c->endpoints[i].listener || !c->endpoints[i].host)
                return false;
        }
    }
    if (b->feature_count > 0) {
        c->features = calloc((size_t)b->feature_count, sizeof *c->features);
        if (!c->features)
            return false;
        for (int32_t i = 0; i < b->feature_count; i++) {
            c->features[i] = b->features[i];
            c->features[i].name = str_dup(b->features[i].name);
            c->feature_count = i + 1;
            if (!c->features[i].name)
                return false;
        }
    }
    return uuids_copy(&c->log_dirs, &c->log_dir_count, b->log_dirs, b->log_dir_count);
}

od_mimage *od_mimage_clone(const od_mimage *img)
{
    od_mimage *c = od_mimage_new();
    if (!c)
        return NULL;
    c->next_producer_id = img->next_producer_id;
    c->last_offset = img->last_offset;
    c->last_epoch = img->last_epoch;
    for (size_t i = 0; i < img->topic_count; i++) {
        od_mi_topic *t = topic_clone(img->topics[i]);
        if (!t || topic_insert(c, t) != OD_MI_OK) {
            topic_free(t);
            goto fail;
        }
    }
    if (img->resource_count > 0) {
        c->resources = calloc(img->resource_count, sizeof *c->resources);
        if (!c->resources)
            goto fail;
        for (size_t i = 0; i < img->resource_count; i++) {
            const od_mi_config_resource *r = &img->resources[i];
            od_mi_config_resource *o = &c->resources[i];
            c->resource_count = i + 1;
            o->type = r->type;
            o->name = str_dup(r->name);
            o->entries = calloc((size_t)r->count, sizeof *o->entries);
            if (!o->name || !o->entries)
                goto fail;
            for (int32_t j = 0; j < r->count; j++) {
                o->entries[j].name = str_dup(r->entries[j].name);
                o->entries[j].value = str_dup(r->entries[j].value);
                o->count = j + 1;
                if (!o->entries[j].name || !o->entries[j].value)
                    goto fail;
            }
        }
    }
    if (img->broker_count > 0) {
        c->brokers = calloc(img->broker_count, sizeof *c->brokers);
        if (!c->brokers)
            goto fail;
        for (size_t i = 0; i < img->broker_count; i++) {
            c->broker_count = i + 1;
            if (!broker_clone(&c->brokers[i], &img->brokers[i]))
                goto fail;
        }
    }
    if (img->feature_count > 0) {
        c->features = calloc(img->feature_count, sizeof *c->features);
        if (!c->features)
            goto fail;
        for (size_t i = 0; i < img->feature_count; i++) {
            c->feature_count = i + 1;
            c->features[i].level = img->features[i].level;
            if (!(c->features[i].name = str_dup(img->features[i].name)))
                goto fail;
        }
    }
    return c;
fail:
    od_mimage_free(c);
    return NULL;
}
