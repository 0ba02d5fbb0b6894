/* 8-bit pixels to the normalised float input through one 256-entry table per channel (the
 * compiler folds the description's mean and std into it): P_run_u8 of float builds. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_pixels__scalar(const mvk_map *p,
                                                            const uint8_t *MVK_RESTRICT px,
                                                            float *MVK_RESTRICT x,
                                                            const float *MVK_RESTRICT lut)
{
    const int64_t pixels = p->pixels;
    const int c = p->c;
    for (int64_t i = 0; i < pixels; i++)
        for (int ch = 0; ch < c; ch++)
            x[i * c + ch] = lut[ch * 256 + px[i * c + ch]];
}
