/* MobileViT fold: tokens [P][N][C] -> HWC map [H][W][C], the inverse of unfold. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_fold__scalar(const float *MVK_RESTRICT in,
                                                          float *MVK_RESTRICT out, int h, int w,
                                                          int c, int ph, int pw)
{
    const int nw = mvk_idiv(w, pw);
    const int64_t n = (int64_t)mvk_idiv(h, ph) * nw;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const int by = mvk_idiv(y, ph), bx = mvk_idiv(x, pw);
            const int64_t p = (int64_t)(y - by * ph) * pw + (x - bx * pw);
            const int64_t t = (int64_t)by * nw + bx;
            const float *src = in + (p * n + t) * c;
            float *dst = out + ((int64_t)y * w + x) * c;
            for (int ch = 0; ch < c; ch++)
                dst[ch] = src[ch];
        }
    }
}
