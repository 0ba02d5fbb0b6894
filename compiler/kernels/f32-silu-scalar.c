/* Elementwise SiLU, x * sigmoid(x); only used when it could not be fused into a producer. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_silu__scalar(const float *MVK_RESTRICT in,
                                                          float *MVK_RESTRICT out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = mvk_silu(in[i]);
}
