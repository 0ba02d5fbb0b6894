/* Elementwise sum of two tensors of equal shape; only used when the add could not be fused
 * into the epilogue of its producer. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_add__scalar(const float *MVK_RESTRICT a,
                                                         const float *MVK_RESTRICT b,
                                                         float *MVK_RESTRICT out, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}
