/* libFuzzer harness: the torch.save checkpoint reader (zip container, pickle subset, storages,
 * views), then the cvnets -> timm layout mapping on whatever it accepted. */
#include <stddef.h>
#include <stdint.h>

#include "weights/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mvit_weights w;
    mvit_diag d;
    if (mvit_weights_parse_pytorch("fuzz.pt", data, size, &w, &d) == 0) {
        (void)mvit_weights_apply_layout(&w, MVIT_LAYOUT_AUTO, &d);
        mvit_weights_free(&w);
    }
    return 0;
}
