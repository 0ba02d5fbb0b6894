/* libFuzzer harness: the safetensors reader (header JSON through libyaml, offsets, dtypes). */
#include <stddef.h>
#include <stdint.h>

#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mvit_weights w;
    mvit_diag d;
    if (mvit_weights_parse_safetensors("fuzz.safetensors", data, size, &w, &d) == 0)
        mvit_weights_free(&w);
    return 0;
}
