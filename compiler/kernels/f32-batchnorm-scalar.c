/* Inference BatchNorm as a per-channel affine map, y = x * scale[c] + shift[c], where the
 * compiler precomputed scale = gamma / sqrt(var + eps) and shift = beta - mean * scale.
 * Only used when BN could not be folded into a preceding conv. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_batchnorm__scalar(const mvk_map *p,
                                                               const float *MVK_RESTRICT in,
                                                               float *MVK_RESTRICT out,
                                                               const float *MVK_RESTRICT scale,
                                                               const float *MVK_RESTRICT shift)
{
    const int64_t pixels = p->pixels;
    const int c = p->c;
    for (int64_t i = 0; i < pixels; i++)
        for (int ch = 0; ch < c; ch++)
            out[i * c + ch] = in[i * c + ch] * scale[ch] + shift[ch];
}
