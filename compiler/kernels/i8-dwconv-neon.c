/* INT8 depthwise convolution, ARM NEON: bit for bit mvk_i8_dwconv__scalar (docs/int8.md), with
 * its weight layout [k*k][c]. 16 channels per step: for each tap the input and weight bytes
 * are widened to int16 and smlal adds their products into 4 int32x4 accumulators (exact:
 * |x * w| <= 2^14). Padding taps read the input zero point zx, as in the scalar kernel. A tail
 * block of fewer than 16 channels reads input and weights through zero-padded copies, so no
 * load runs past a pixel's channels or the weights. Requantisation and the SiLU table are the
 * GEMM's (mvk_i8_neon_store8: the lowering pastes i8-gemm-neon.c before this file). */
#include <arm_neon.h>

#include "mvk-prelude.h"

/* 16 bytes from p, or the first cb < 16 of them and zeros. */
static MVK_INLINE int8x16_t mvk_i8_dw_neon_load(const int8_t *p, int cb)
{
    if (cb == 16)
        return vld1q_s8(p);
    int8_t t[16] = {0};
    for (int i = 0; i < cb; i++)
        t[i] = p[i];
    return vld1q_s8(t);
}

/* acc (the bias) += the k*k taps of one output pixel for channels [c0, c0 + cb). Inlined
 * twice: with cb == 16 (no copy, no branch on the width in the tap loop) and for a tail. */
static MVK_INLINE void mvk_i8_dw_neon_taps(const int8_t *in, const int8_t *w, int h, int wd, int c,
                                           int c0, int cb, int k, int y0, int x0, int16x8_t zxv,
                                           int32x4_t *acc)
{
    int32x4_t acc0 = acc[0], acc1 = acc[1], acc2 = acc[2], acc3 = acc[3];
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            const int iy = y0 + ky, ix = x0 + kx;
            const int8x16_t wv = mvk_i8_dw_neon_load(w + (ky * k + kx) * c + c0, cb);
            const int16x8_t wl = vmovl_s8(vget_low_s8(wv)), wh = vmovl_s8(vget_high_s8(wv));
            int16x8_t xl = zxv, xh = zxv;
            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                const int8x16_t xv = mvk_i8_dw_neon_load(in + ((int64_t)iy * wd + ix) * c + c0, cb);
                xl = vmovl_s8(vget_low_s8(xv));
                xh = vmovl_s8(vget_high_s8(xv));
            }
            acc0 = vmlal_s16(acc0, vget_low_s16(xl), vget_low_s16(wl));
            acc1 = vmlal_s16(acc1, vget_high_s16(xl), vget_high_s16(wl));
            acc2 = vmlal_s16(acc2, vget_low_s16(xh), vget_low_s16(wh));
            acc3 = vmlal_s16(acc3, vget_high_s16(xh), vget_high_s16(wh));
        }
    acc[0] = acc0, acc[1] = acc1, acc[2] = acc2, acc[3] = acc3;
}

/* Same contract as mvk_i8_dwconv__scalar. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_dwconv__neon(const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                    const int8_t *MVK_RESTRICT w, const int32_t *MVK_RESTRICT bias,
                    const int16_t *MVK_RESTRICT mult, const int8_t *MVK_RESTRICT shift, int32_t zx,
                    int32_t zy, const int8_t *MVK_RESTRICT lut, int h, int wd, int c, int oh,
                    int ow, int k, int stride, int pad, int64_t r0, int64_t r1)
{
    (void)oh;
    const int16x8_t zxv = vdupq_n_s16((int16_t)zx);
    const int32x4_t zyv = vdupq_n_s32(zy);
    for (int64_t oy = r0; oy < r1; oy++) /* a row per block keeps the input lines in cache */
        for (int c0 = 0; c0 < c; c0 += 16) {
            const int cb = c - c0 < 16 ? c - c0 : 16, lo_n = cb < 8 ? cb : 8;
            mvk_i8_neon_rq q0, q1;
            mvk_i8_neon_rq_init(&q0, bias + c0, mult + c0, shift + c0, lo_n);
            if (cb > 8)
                mvk_i8_neon_rq_init(&q1, bias + c0 + 8, mult + c0 + 8, shift + c0 + 8, cb - 8);
            else
                q1 = q0;
            for (int ox = 0; ox < ow; ox++) {
                int32x4_t acc[4] = {q0.bias0, q0.bias1, q1.bias0, q1.bias1};
                const int y0 = (int)oy * stride - pad, x0 = ox * stride - pad;
                if (cb == 16)
                    mvk_i8_dw_neon_taps(in, w, h, wd, c, c0, 16, k, y0, x0, zxv, acc);
                else
                    mvk_i8_dw_neon_taps(in, w, h, wd, c, c0, cb, k, y0, x0, zxv, acc);
                int8_t *dst = out + (oy * ow + ox) * c + c0;
                mvk_i8_neon_store8(dst, acc[0], acc[1], &q0, zyv, lut, lo_n);
                if (cb > 8)
                    mvk_i8_neon_store8(dst + 8, acc[2], acc[3], &q1, zyv, lut, cb - 8);
            }
        }
}
