/*
 * Fuzzes every generated message, not only requests: responses (a client's
 * view), metadata log records, group and transaction coordinator records,
 * headers. The first two bytes choose the message and the version.
 */
#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const od_message_desc *desc = &od_message_descs[data[0] % od_message_desc_count];
    int span = desc->max_version - desc->min_version + 1;
    int16_t version = (int16_t)(desc->min_version + data[1] % span);
    fuzz_decode_and_reencode(desc, version, data + 2, size - 2);
    return 0;
}
