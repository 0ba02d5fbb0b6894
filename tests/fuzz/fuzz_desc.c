/* libFuzzer harness: the YAML model description reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "desc/desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mvit_model_desc m;
    mvit_diag d;
    if (mvit_desc_parse("fuzz.yaml", data, size, &m, &d) == 0)
        mvit_desc_free(&m);
    return 0;
}
