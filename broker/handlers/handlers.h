/*
 * The handler of every implemented API, one file each in broker/handlers/.
 * dispatch.c lists them in its table; nothing else calls them.
 */
#ifndef ODRADEK_BROKER_HANDLERS_H
#define ODRADEK_BROKER_HANDLERS_H

#include "dispatch.h"

od_api_handler od_handle_api_versions;
od_api_handler od_handle_metadata;
od_api_handler od_handle_produce;
od_api_handler od_handle_fetch;
od_api_handler od_handle_list_offsets;
od_api_handler od_handle_create_topics;
od_api_handler od_handle_delete_topics;
od_api_handler od_handle_describe_cluster;
od_api_handler od_handle_init_producer_id;
od_api_handler od_handle_offset_for_leader_epoch;
od_api_handler od_handle_create_partitions;
od_api_handler od_handle_delete_records;
od_api_handler od_handle_describe_topic_partitions;
od_api_handler od_handle_describe_configs;
od_api_handler od_handle_alter_configs;
od_api_handler od_handle_incremental_alter_configs;
od_api_handler od_handle_describe_log_dirs;
od_api_handler od_handle_elect_leaders;
od_api_handler od_handle_find_coordinator;
od_api_handler od_handle_add_partitions_to_txn;
od_api_handler od_handle_add_offsets_to_txn;
od_api_handler od_handle_end_txn;
od_api_handler od_handle_write_txn_markers;
od_api_handler od_handle_describe_transactions;
od_api_handler od_handle_list_transactions;
od_api_handler od_handle_describe_producers;

#endif
