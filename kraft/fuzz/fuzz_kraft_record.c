/* libFuzzer entry: metadata record values and metadata log batches. */
#include "kraft_fuzz_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kraft_fuzz_one(data, size);
    return 0;
}
