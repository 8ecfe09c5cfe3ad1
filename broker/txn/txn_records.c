/*
 * __transaction_state record codecs. Invariants: see txn_records.h.
 * No state machine: pure functions.
 */
#include "txn_records.h"

od_wire_err od_txn_write_key(od_writer *w, od_str transactional_id)
{
    od_transaction_log_key k;
    od_transaction_log_key_init(&k);
    k.transactional_id = transactional_id;
    od_write_i16(w, OD_TXN_KEY_VERSION);
    od_transaction_log_key_encode(&k, w, OD_TXN_KEY_VERSION);
    return w->err;
}

od_wire_err od_txn_write_value(od_writer *w, const od_transaction_log_value *v)
{
    od_write_i16(w, OD_TXN_VALUE_VERSION);
    od_transaction_log_value_encode(v, w, OD_TXN_VALUE_VERSION);
    return w->err;
}

od_wire_err od_txn_read_key(od_bytes key, od_arena *arena, od_transaction_log_key *out)
{
    if (key.len < 0)
        return OD_WIRE_TRUNCATED;
    od_reader r;
    od_reader_init(&r, key.ptr, (size_t)key.len, arena);
    int16_t version = od_read_i16(&r);
    if (r.err)
        return r.err;
    if (version != OD_TXN_KEY_VERSION)
        return OD_WIRE_UNSUPPORTED_VERSION;
    return od_transaction_log_key_decode(out, &r, version);
}

od_wire_err od_txn_read_value(od_bytes value, od_arena *arena, od_transaction_log_value *out,
                              int16_t *version)
{
    if (value.len < 0)
        return OD_WIRE_TRUNCATED;
    od_reader r;
    od_reader_init(&r, value.ptr, (size_t)value.len, arena);
    *version = od_read_i16(&r);
    if (r.err)
        return r.err;
    if (*version < 0)
        return OD_WIRE_UNSUPPORTED_VERSION;
    int16_t v = *version > OD_TXN_VALUE_NEWEST_VERSION ? OD_TXN_VALUE_NEWEST_VERSION : *version;
    return od_transaction_log_value_decode(out, &r, v);
}
