/*
 * libFuzzer target for everything that reads a config file: the properties
 * parser, the broker snapshot builder, and the topic resolver fed with the
 * same keys as topic overrides. Any crash, leak or sanitizer report is a bug;
 * invalid input must only ever produce a status and messages.
 */
#include <stddef.h>
#include <stdint.h>

#include "broker_config.h"
#include "topic_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    od_properties props = {0};
    char err[1024];
    if (od_properties_parse(&props, (const char *)data, size, "fuzz", err, sizeof err) != OD_CONFIG_OK)
        return 0;
    od_broker_config *c = NULL;
    od_config_diagnostics diag = {0};
    od_broker_config_layers layers = {.static_props = &props};
    od_broker_config_load(&layers, &c, &diag);
    od_topic_config t;
    if (od_topic_config_resolve(&props, c, &t, err, sizeof err) == OD_CONFIG_OK) {
        for (size_t i = 0; i < od_topic_config_table_len; i++) {
            od_config_description d;
            if (od_topic_config_describe(&props, c, od_topic_config_table[i].name, true, &d) == OD_CONFIG_OK)
                od_config_description_free(&d);
        }
    }
    if (c) {
        for (size_t i = 0; i < props.count; i++) {
            od_config_description d;
            if (od_broker_config_describe(c, props.items[i].key, true, &d) == OD_CONFIG_OK)
                od_config_description_free(&d);
        }
    }
    od_broker_config_free(c);
    od_config_diagnostics_free(&diag);
    od_properties_free(&props);
    return 0;
}
