/*
 * Replays a metadata log directory (a stopped cluster's __cluster_metadata-0
 * and its parent) into Odradek's metadata image and prints it in the
 * canonical, sorted-by-the-caller form KraftScenario.java prints for Kafka.
 *
 *   od_kraft_dump [--no-leader] METADATA_LOG_DIR
 *
 * --no-leader leaves leaders out: after a clean shutdown of the last broker
 * Kafka's log ends with every partition leaderless, which the running
 * cluster never showed its Admin client.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "controller.h"
#include "metadata_image.h"

static void print_ids(const od_id_list *l)
{
    for (int32_t i = 0; i < l->count; i++)
        printf("%s%d", i ? "," : "", l->ids[i]);
}

int main(int argc, char **argv)
{
    bool leaders = true;
    int arg = 1;
    if (arg < argc && strcmp(argv[arg], "--no-leader") == 0) {
        leaders = false;
        arg++;
    }
    if (arg + 1 != argc) {
        fprintf(stderr, "usage: od_kraft_dump [--no-leader] METADATA_LOG_DIR\n");
        return 2;
    }
    od_mimage *img = od_mimage_new();
    if (!img)
        return 1;
    od_kr_err err = od_metadata_replay_dir(od_fio_posix(), argv[arg], (int64_t)time(NULL) * 1000, img);
    if (err != OD_KR_OK) {
        fprintf(stderr, "od_kraft_dump: replay failed: %s\n", od_kr_err_name(err));
        od_mimage_free(img);
        return 1;
    }
    for (size_t i = 0; i < od_mimage_topic_count(img); i++) {
        const od_mi_topic *t = od_mimage_topic_at(img, i);
        char id[23];
        od_uuid_to_base64(&t->id, id);
        printf("topic %s %s partitions=%d\n", t->name, id, t->partition_count);
        for (int32_t p = 0; p < t->partition_count; p++) {
            const od_mi_partition *part = &t->partitions[p];
            printf("partition %s %d", t->name, part->partition_id);
            if (leaders)
                printf(" leader=%d", part->leader);
            printf(" replicas=");
            print_ids(&part->replicas);
            printf(" isr=");
            print_ids(&part->isr);
            printf("\n");
        }
    }
    for (size_t i = 0; i < od_mimage_config_resource_count(img); i++) {
        const od_mi_config_resource *r = od_mimage_config_resource_at(img, i);
        const char *kind = r->type == OD_CONFIG_RESOURCE_TOPIC    ? "topic"
                           : r->type == OD_CONFIG_RESOURCE_BROKER ? "broker"
                                                                  : NULL;
        if (!kind)
            continue;
        for (int32_t k = 0; k < r->count; k++)
            printf("config %s %s %s=%s\n", kind, r->name, r->entries[k].name, r->entries[k].value);
    }
    od_mimage_free(img);
    return 0;
}
