/* MobileViT unfold: HWC map [H][W][C] -> tokens [P][N][C] with P = ph*pw patch positions and
 * N = (H/ph)*(W/pw) patches; pixel (y, x) goes to p = (y%ph)*pw + x%pw,
 * n = (y/ph)*(W/pw) + x/pw, exactly as timm's reshape/transpose sequence. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_unfold__scalar(const float *MVK_RESTRICT in,
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
            const float *src = in + ((int64_t)y * w + x) * c;
            float *dst = out + (p * n + t) * c;
            for (int ch = 0; ch < c; ch++)
                dst[ch] = src[ch];
        }
    }
}
