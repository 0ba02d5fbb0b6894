/* INT8 depthwise convolution, ARM NEON: bit for bit mvk_i8_dwconv__scalar (docs/int8.md), with
 * its weight layout [k*k][c]. 16 channels per step: for each tap the input and weight bytes
 * are widened to int16 and smlal adds their products into 4 int32x4 accumulators (exact:
 * |x * w| <= 2^14). Two neighbouring output pixels whose taps all lie inside the input go
 * together (mvk_i8_dw_neon_taps2: each tap's weights widened once, 8 independent chains).
 * Padding taps read the input zero point zx, as in the scalar kernel. A tail
 * block of fewer than 16 channels reads input and weights through zero-padded copies, so no
 * load runs past a pixel's channels or the weights. Requantisation and the SiLU table are the
 * GEMM's (mvk_i8_neon_store8, then mvk_i8_neon_lut_span over each finished output row: the
 * lowering pastes i8-gemm-neon.c before this file). The loops are i8-dwconv-driver.h, shared
 * with every ISA; this file holds the NEON microkernels it calls. */
#include <arm_neon.h>

#include "mvk-neon.h"
/* needs: i8-scalar.c i8-gemm-neon.c (its requantisation) */

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

/* acc (the bias) += the k*k taps of one output pixel for channels [c0, c0 + cb). */
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

/* acc[0..3] and acc[4..7] (the biases) += the k*k taps of two output pixels stride apart
 * (the first at input x0, y0) for the 16 channels at c0, every tap inside the input: each
 * tap's weights are loaded and widened once for both pixels, and the 8 accumulators are 8
 * independent smlal chains. */
static MVK_INLINE void mvk_i8_dw_neon_taps2(const int8_t *in, const int8_t *w, int wd, int c,
                                            int c0, int k, int y0, int x0, int stride,
                                            int32x4_t *acc)
{
    int32x4_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32x4_t b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
    for (int ky = 0; ky < k; ky++) {
        const int8_t *xr = in + ((int64_t)(y0 + ky) * wd + x0) * c + c0;
        const int8_t *wr = w + ky * k * c + c0;
        for (int kx = 0; kx < k; kx++, xr += c, wr += c) {
            const int8x16_t wv = vld1q_s8(wr);
            const int16x8_t wl = vmovl_s8(vget_low_s8(wv)), wh = vmovl_s8(vget_high_s8(wv));
            const int8x16_t xa = vld1q_s8(xr), xb = vld1q_s8(xr + (int64_t)stride * c);
            const int16x8_t al = vmovl_s8(vget_low_s8(xa)), ah = vmovl_s8(vget_high_s8(xa));
            const int16x8_t bl = vmovl_s8(vget_low_s8(xb)), bh = vmovl_s8(vget_high_s8(xb));
            a0 = vmlal_s16(a0, vget_low_s16(al), vget_low_s16(wl));
            a1 = vmlal_s16(a1, vget_high_s16(al), vget_high_s16(wl));
            a2 = vmlal_s16(a2, vget_low_s16(ah), vget_low_s16(wh));
            a3 = vmlal_s16(a3, vget_high_s16(ah), vget_high_s16(wh));
            b0 = vmlal_s16(b0, vget_low_s16(bl), vget_low_s16(wl));
            b1 = vmlal_s16(b1, vget_high_s16(bl), vget_high_s16(wl));
            b2 = vmlal_s16(b2, vget_low_s16(bh), vget_low_s16(wh));
            b3 = vmlal_s16(b3, vget_high_s16(bh), vget_high_s16(wh));
        }
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
    acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}

#define MVK_I8_DW_PIXELS 2
#define MVK_I8_DW_BLOCK 16

typedef struct {
    int16x8_t zxv;
    int32x4_t zyv;
} mvk_i8_dw_state__neon;

typedef struct {
    char none; /* the taps read input and weights as they are */
} mvk_i8_dw_work__neon;

/* The requantisation of channels 0-7 and 8-15 of a block. */
typedef struct {
    mvk_i8_neon_rq q0, q1;
} mvk_i8_dw_block__neon;

/* Two pixels, 4 vectors of 4 channels each. */
typedef struct {
    int32x4_t v[8];
} mvk_i8_dw_acc__neon;

static MVK_INLINE int mvk_i8_dw_init__neon(mvk_i8_dw_state__neon *st, mvk_i8_dw_work__neon *wk,
                                           int32_t zx, int32_t zy, const int8_t *lut, int k,
                                           int wd, int c)
{
    (void)wk, (void)lut, (void)k, (void)wd, (void)c;
    st->zxv = vdupq_n_s16((int16_t)zx);
    st->zyv = vdupq_n_s32(zy);
    return 1; /* mvk_i8_dw_neon_taps2 takes any k */
}

static MVK_INLINE void mvk_i8_dw_block_init__neon(mvk_i8_dw_block__neon *bl,
                                                  mvk_i8_dw_work__neon *wk, const int8_t *w,
                                                  const int32_t *bias, const int16_t *mult,
                                                  const int8_t *shift, int c0, int cb, int k)
{
    (void)wk, (void)w, (void)c0, (void)k;
    mvk_i8_neon_rq_init(&bl->q0, bias, mult, shift, cb < 8 ? cb : 8);
    if (cb > 8)
        mvk_i8_neon_rq_init(&bl->q1, bias + 8, mult + 8, shift + 8, cb - 8);
    else
        bl->q1 = bl->q0;
}

static MVK_INLINE mvk_i8_dw_acc__neon mvk_i8_dw_start__neon(const mvk_i8_dw_block__neon *bl)
{
    const mvk_i8_dw_acc__neon acc = {{bl->q0.bias0, bl->q0.bias1, bl->q1.bias0, bl->q1.bias1,
                                      bl->q0.bias0, bl->q0.bias1, bl->q1.bias0, bl->q1.bias1}};
    return acc;
}

static MVK_INLINE void mvk_i8_dw_fast__neon(mvk_i8_dw_acc__neon *acc,
                                            const mvk_i8_dw_work__neon *wk,
                                            const mvk_i8_dw_block__neon *bl, const int8_t *in,
                                            const int8_t *w, int wd, int c, int c0, int k, int y0,
                                            int x0, int stride)
{
    (void)wk, (void)bl;
    mvk_i8_dw_neon_taps2(in, w, wd, c, c0, k, y0, x0, stride, acc->v);
}

/* Inlined twice: with cb == 16 (no copy, no branch on the width in the tap loop) and for a
 * tail. */
static MVK_INLINE void mvk_i8_dw_general__neon(mvk_i8_dw_acc__neon *acc,
                                               const mvk_i8_dw_state__neon *st,
                                               const mvk_i8_dw_work__neon *wk,
                                               const mvk_i8_dw_block__neon *bl, const int8_t *in,
                                               const int8_t *w, int h, int wd, int c, int c0,
                                               int cb, int k, int y0, int x0)
{
    (void)wk, (void)bl;
    if (cb == 16)
        mvk_i8_dw_neon_taps(in, w, h, wd, c, c0, 16, k, y0, x0, st->zxv, acc->v);
    else
        mvk_i8_dw_neon_taps(in, w, h, wd, c, c0, cb, k, y0, x0, st->zxv, acc->v);
}

static MVK_INLINE void mvk_i8_dw_store__neon(const mvk_i8_dw_acc__neon *acc,
                                             const mvk_i8_dw_state__neon *st,
                                             const mvk_i8_dw_block__neon *bl, int8_t *dst, int c,
                                             int cb, int px)
{
    for (int i = 0; i < px; i++, dst += c) {
        mvk_i8_neon_store8(dst, acc->v[4 * i], acc->v[4 * i + 1], &bl->q0, st->zyv,
                           cb < 8 ? cb : 8);
        if (cb > 8)
            mvk_i8_neon_store8(dst + 8, acc->v[4 * i + 2], acc->v[4 * i + 3], &bl->q1, st->zyv,
                               cb - 8);
    }
}

static MVK_INLINE void mvk_i8_dw_lut__neon(const mvk_i8_dw_state__neon *st, int8_t *y,
                                           int64_t len, const int8_t *lut)
{
    (void)st;
    mvk_i8_neon_lut_span(y, len, lut);
}

#include "i8-dwconv-driver.h"
