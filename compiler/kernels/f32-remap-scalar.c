/* MobileViT unfold (HWC map -> tokens [P][N][C]) and fold (tokens -> HWC map) as a copy of
 * rows through an mvk_remap (mvk-prelude.h), with the references' bilinear resize to and
 * from whole patches where the map needs it. The GEMMs read through the same remap without a
 * copy; this kernel serves the unfused graph (--no-fusion) and calibration. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_remap__scalar(const float *MVK_RESTRICT in,
                                                           float *MVK_RESTRICT out, int c,
                                                           const mvk_remap *rm)
{
    const int64_t rows = mvk_remap_rows(rm);
    for (int64_t r = 0; r < rows; r++) {
        float *dst = out + r * c;
        if (mvk_remap_resizes(rm)) {
            mvk_f32_blend_row(in, c, r, rm, c, dst);
            continue;
        }
        const float *src = mvk_a_row(in, c, r, rm);
        for (int ch = 0; ch < c; ch++)
            dst[ch] = src[ch];
    }
}
