/*
 * Fuzzes what a broker does with a request frame's payload (the bytes after
 * the 4-byte size): read api key and version, pick the header version from
 * the API table, decode the header, then the body, exactly as dispatch will.
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    int16_t api_key = (int16_t)od_load_be16(data);
    int16_t api_version = (int16_t)od_load_be16(data + 2);
    const od_api_info *api = od_api_find(api_key);
    if (!api || api_version < api->min_version || api_version > api->latest_version)
        return 0;

    int header_version = od_request_header_version(api_key, api_version);
    od_arena arena;
    od_arena_init(&arena);
    od_request_header header;
    od_request_header_init(&header);
    od_reader r;
    od_reader_init(&r, data, size, &arena);
    if (od_request_header_decode(&header, &r, (int16_t)header_version) == OD_WIRE_OK) {
        if (header.request_api_key != api_key || header.request_api_version != api_version)
            abort();
        size_t body_at = od_reader_offset(&r);
        fuzz_decode_and_reencode(api->request, api_version, data + body_at, size - body_at);
    }
    od_arena_release(&arena);
    return 0;
}
