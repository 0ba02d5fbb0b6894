/* GroupNorm with one group over an HWC map: MobileViT v2's norm (timm GroupNorm1, ml-cvnets
 * layer_norm_2d), whose statistics are those of the whole [d][P][N] tensor, i.e. of every
 * pixel and channel of the map. Mean and biased variance accumulate in double over two passes
 * (so the result does not depend on the map's size or the magnitude of its mean), then
 * y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c], or without the affine when gamma is
 * NULL (the compiler folded it into the next 1x1 conv). */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_groupnorm__scalar(const mvk_layernorm *p,
                                                               const float *MVK_RESTRICT in,
                                                               float *MVK_RESTRICT out,
                                                               int64_t pixels)
{
    const int c = p->c;
    const int64_t n = pixels * c;
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += in[i];
    /* through int32: ARMv7 converts int64 to double with __aeabi_l2d from libgcc (a map has
     * far fewer than 2^31 pixels) */
    const double count = (double)(int32_t)pixels * c;
    const double mean = sum / count;
    for (int64_t i = 0; i < n; i++)
        sq += (in[i] - mean) * (in[i] - mean);
    const float rstd = (float)mvk_rsqrt(sq / count + p->eps), fmean = (float)mean;
    if (!p->gamma) {
        for (int64_t i = 0; i < n; i++)
            out[i] = (in[i] - fmean) * rstd;
        return;
    }
    for (int64_t i = 0; i < pixels; i++)
        for (int ch = 0; ch < c; ch++)
            out[i * c + ch] = (in[i * c + ch] - fmean) * rstd * p->gamma[ch] + p->beta[ch];
}
