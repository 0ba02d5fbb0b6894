/* Depthwise convolution, NHWC, ARM NEON: 4 channels per vector, lane loads/stores for the
 * C % 4 tail. Weights packed as for AVX2, [k*k][C8] and bias [C8] with C8 = C rounded up to 8
 * (zero padding), so weight loads never need a tail. The schedule is the AVX2 kernel's: 3x3
 * windows with stride 1 or 2 compute interior outputs in quads, channel blocks innermost;
 * borders, the channel tail and other kernel sizes take a bounds-checked window. */
#include "mvk-neon.h"

/* One output vector (channels c0.., n valid) of a k x k window with bounds checks. */
static MVK_INLINE float32x4_t mvk_neon_dw_window(const float *MVK_RESTRICT in,
                                                 const float *MVK_RESTRICT wp, float32x4_t acc,
                                                 int h, int w, int c, int c8, int c0, int n, int k,
                                                 int iy0, int ix0)
{
    for (int ky = 0; ky < k; ky++) {
        const int iy = iy0 + ky;
        if (iy < 0 || iy >= h)
            continue;
        for (int kx = 0; kx < k; kx++) {
            const int ix = ix0 + kx;
            if (ix < 0 || ix >= w)
                continue;
            const float *x = in + ((int64_t)iy * w + ix) * c + c0;
            acc = vfmaq_f32(acc, mvk_neon_load4(x, n), vld1q_f32(wp + (ky * k + kx) * c8 + c0));
        }
    }
    return acc;
}

/* One kernel row of a 3x3 window: 3 taps, c floats apart. */
static MVK_INLINE float32x4_t mvk_neon_dw3_taps(float32x4_t acc, const float *r, int c,
                                                float32x4_t w0, float32x4_t w1, float32x4_t w2)
{
    acc = vfmaq_f32(acc, vld1q_f32(r), w0);
    acc = vfmaq_f32(acc, vld1q_f32(r + c), w1);
    return vfmaq_f32(acc, vld1q_f32(r + 2 * c), w2);
}

/* Four horizontally adjacent interior outputs of one 4-channel block, stride 1 or 2 (a
 * constant after inlining, so the overlapping taps of neighbouring outputs are loaded once
 * per kernel row), then their epilogue into o (pixels c floats apart). */
static MVK_INLINE void mvk_neon_dw3x3_quad(const float *MVK_RESTRICT x, int64_t rs, int c,
                                           const float *MVK_RESTRICT wp, int c8, float32x4_t b,
                                           int stride, float *MVK_RESTRICT o,
                                           const float *MVK_RESTRICT res, int act)
{
    const int s = stride * c;
    float32x4_t a0 = b, a1 = b, a2 = b, a3 = b;
    for (int ky = 0; ky < 3; ky++) {
        const float *r = x + ky * rs;
        const float32x4_t w0 = vld1q_f32(wp + (3 * ky) * c8);
        const float32x4_t w1 = vld1q_f32(wp + (3 * ky + 1) * c8);
        const float32x4_t w2 = vld1q_f32(wp + (3 * ky + 2) * c8);
        a0 = mvk_neon_dw3_taps(a0, r, c, w0, w1, w2);
        a1 = mvk_neon_dw3_taps(a1, r + s, c, w0, w1, w2);
        a2 = mvk_neon_dw3_taps(a2, r + 2 * s, c, w0, w1, w2);
        a3 = mvk_neon_dw3_taps(a3, r + 3 * s, c, w0, w1, w2);
    }
    mvk_neon_store4(o, a0, 4, res, act);
    mvk_neon_store4(o + c, a1, 4, res ? res + c : 0, act);
    mvk_neon_store4(o + 2 * c, a2, 4, res ? res + 2 * c : 0, act);
    mvk_neon_store4(o + 3 * c, a3, 4, res ? res + 3 * c : 0, act);
}

/* Interior run [ox0, ox1) of an output row whose 3 input rows are all inside the map, in
 * quads of outputs, channel blocks innermost so every access walks memory forward. */
static MVK_INLINE void
mvk_neon_dw3x3_row_interior(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                            const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                            const float *MVK_RESTRICT residual, int w, int c, int c8, int ow,
                            int stride, int pad, int act, int64_t oy, int iy0, int ox0, int ox1)
{
    const int64_t rs = (int64_t)w * c;
    for (int ox = ox0; ox + 4 <= ox1; ox += 4) {
        const float *x = in + ((int64_t)iy0 * w + ox * stride - pad) * c;
        const int64_t opix = oy * ow + ox;
        for (int c0 = 0; c0 + 4 <= c; c0 += 4) {
            const float32x4_t b = bias ? vld1q_f32(bias + c0) : vdupq_n_f32(0.0f);
            float *o = out + opix * c + c0;
            const float *r = residual ? residual + opix * c + c0 : 0;
            if (stride == 1)
                mvk_neon_dw3x3_quad(x + c0, rs, c, w_packed + c0, c8, b, 1, o, r, act);
            else
                mvk_neon_dw3x3_quad(x + c0, rs, c, w_packed + c0, c8, b, 2, o, r, act);
        }
    }
}

/* One output pixel, channel blocks from c_from on, through the bounds-checked window. */
static MVK_INLINE void
mvk_neon_dw_pixel_checked(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                          const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                          const float *MVK_RESTRICT residual, int h, int w, int c, int c8, int ow,
                          int k, int stride, int pad, int act, int64_t oy, int ox, int c_from)
{
    const int64_t opix = oy * ow + ox;
    for (int c0 = c_from; c0 < c; c0 += 4) {
        const int n = c - c0 < 4 ? c - c0 : 4;
        const float32x4_t b = bias ? vld1q_f32(bias + c0) : vdupq_n_f32(0.0f);
        const float32x4_t acc = mvk_neon_dw_window(in, w_packed, b, h, w, c, c8, c0, n, k,
                                                   (int)oy * stride - pad, ox * stride - pad);
        mvk_neon_store4(out + opix * c + c0, acc, n, residual ? residual + opix * c + c0 : 0, act);
    }
}

/* Output rows [row0, row1). 3x3 windows with stride 1 or 2 take the quad path on interior
 * pixels (full channel blocks); border pixels, the channel tail and other shapes take the
 * checked path. */
static MVK_UNUSED void
mvk_f32_dwconv_rows__neon(int64_t row0, int64_t row1, const float *MVK_RESTRICT in,
                          float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
                          const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual, int h,
                          int w, int c, int ow, int k, int stride, int pad, int act)
{
    const int c8 = (c + 7) / 8 * 8, cfull = c / 4 * 4;
    const int fast = k == 3 && (stride == 1 || stride == 2) && cfull > 0;
    /* interior columns: ox with ox*stride - pad >= 0 and ox*stride - pad + 3 <= w */
    int ox0 = mvk_idiv(pad + stride - 1, stride);
    int ox1 = w + pad < 3 ? 0 : mvk_idiv(w + pad - 3, stride) + 1;
    if (ox1 > ow)
        ox1 = ow;
    if (ox0 > ox1)
        ox0 = ox1;
    const int quad_end = ox0 + (ox1 - ox0) / 4 * 4;
    for (int64_t oy = row0; oy < row1; oy++) {
        const int iy0 = (int)oy * stride - pad;
        if (!fast || iy0 < 0 || iy0 + 3 > h) {
            for (int ox = 0; ox < ow; ox++)
                mvk_neon_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k,
                                          stride, pad, act, oy, ox, 0);
            continue;
        }
        mvk_neon_dw3x3_row_interior(in, out, w_packed, bias, residual, w, c, c8, ow, stride, pad,
                                    act, oy, iy0, ox0, quad_end);
        for (int ox = 0; ox < ow; ox++) {
            const int in_quads = ox >= ox0 && ox < quad_end;
            mvk_neon_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k, stride,
                                      pad, act, oy, ox, in_quads ? cfull : 0);
        }
    }
}

static MVK_UNUSED void mvk_f32_dwconv__neon(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                                            const float *MVK_RESTRICT w_packed,
                                            const float *MVK_RESTRICT bias,
                                            const float *MVK_RESTRICT residual, int h, int w, int c,
                                            int oh, int ow, int k, int stride, int pad, int act)
{
    mvk_f32_dwconv_rows__neon(0, oh, in, out, w_packed, bias, residual, h, w, c, ow, k, stride, pad,
                              act);
}
