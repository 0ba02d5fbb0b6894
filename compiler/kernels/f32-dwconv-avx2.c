/* Depthwise convolution, NHWC, AVX2+FMA: 8 channels per vector, masked tail for C % 8.
 * Weights packed [k*k][C8] and bias [C8] with C8 = C rounded up to 8 (zero padding), so
 * weight loads are aligned and never need a mask. */
#include "mvk-avx2.h"

/* One output vector of a k x k window with bounds checks (borders, and any k). */
static inline MVK_UNUSED MVK_AVX2 __m256 mvk_dw_window(const float *MVK_RESTRICT in,
                                                       const float *MVK_RESTRICT wp, __m256 acc,
                                                       int h, int w, int c, int c8, int c0, int n,
                                                       int k, int iy0, int ix0)
{
    const __m256i m = mvk_avx2_mask(n);
    for (int ky = 0; ky < k; ky++) {
        const int iy = iy0 + ky;
        if (iy < 0 || iy >= h)
            continue;
        for (int kx = 0; kx < k; kx++) {
            const int ix = ix0 + kx;
            if (ix < 0 || ix >= w)
                continue;
            const float *x = in + ((int64_t)iy * w + ix) * c + c0;
            const __m256 xv = n == 8 ? _mm256_loadu_ps(x) : _mm256_maskload_ps(x, m);
            acc = _mm256_fmadd_ps(xv, _mm256_load_ps(wp + (ky * k + kx) * c8 + c0), acc);
        }
    }
    return acc;
}

/* Four horizontally adjacent interior outputs of one 8-channel block of a 3x3 window,
 * stride 1 or 2 (a constant after inlining): each input vector is loaded once per kernel row
 * and feeds every output whose window covers it. */
static MVK_INLINE MVK_AVX2 void mvk_dw3x3_quad(const float *MVK_RESTRICT x, int64_t rs, int c,
                                               const float *MVK_RESTRICT wp, int c8, __m256 b,
                                               int stride, __m256 acc[4])
{
    acc[0] = acc[1] = acc[2] = acc[3] = b;
    for (int ky = 0; ky < 3; ky++) {
        const float *r = x + ky * rs;
        const __m256 w0 = _mm256_load_ps(wp + (3 * ky) * c8);
        const __m256 w1 = _mm256_load_ps(wp + (3 * ky + 1) * c8);
        const __m256 w2 = _mm256_load_ps(wp + (3 * ky + 2) * c8);
        __m256 v[9];
        for (int j = 0; j < 3 * stride + 3; j++)
            v[j] = _mm256_loadu_ps(r + (int64_t)j * c);
        for (int i = 0; i < 4; i++) {
            acc[i] = _mm256_fmadd_ps(v[i * stride], w0, acc[i]);
            acc[i] = _mm256_fmadd_ps(v[i * stride + 1], w1, acc[i]);
            acc[i] = _mm256_fmadd_ps(v[i * stride + 2], w2, acc[i]);
        }
    }
}

/* Interior run [ox0, ox1) of an output row whose 3 input rows are all inside the map, in
 * quads of outputs, channel blocks innermost so every access walks memory forward (a
 * channel-outer order re-fetches each input line once per 8 channels). */
static MVK_INLINE MVK_AVX2 void
mvk_dw3x3_row_interior(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                       const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                       const float *MVK_RESTRICT residual, int w, int c, int c8, int ow, int stride,
                       int pad, int act, int64_t oy, int iy0, int ox0, int ox1)
{
    const int64_t rs = (int64_t)w * c;
    for (int ox = ox0; ox + 4 <= ox1; ox += 4) {
        const float *x = in + ((int64_t)iy0 * w + ox * stride - pad) * c;
        const int64_t opix = oy * ow + ox;
        for (int c0 = 0; c0 + 8 <= c; c0 += 8) {
            const __m256 b = bias ? _mm256_load_ps(bias + c0) : _mm256_setzero_ps();
            __m256 acc[4];
            if (stride == 1)
                mvk_dw3x3_quad(x + c0, rs, c, w_packed + c0, c8, b, 1, acc);
            else
                mvk_dw3x3_quad(x + c0, rs, c, w_packed + c0, c8, b, 2, acc);
            for (int i = 0; i < 4; i++)
                mvk_avx2_store8(out + (opix + i) * c + c0, acc[i], 8,
                                residual ? residual + (opix + i) * c + c0 : 0, act);
        }
    }
}

/* One output pixel, all channel blocks, through the bounds-checked window (borders, tails,
 * kernel sizes other than 3). */
static MVK_INLINE MVK_AVX2 void
mvk_dw_pixel_checked(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                     const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                     const float *MVK_RESTRICT residual, int h, int w, int c, int c8, int ow, int k,
                     int stride, int pad, int act, int64_t oy, int ox, int c_from)
{
    const int64_t opix = oy * ow + ox;
    for (int c0 = c_from; c0 < c; c0 += 8) {
        const int n = c - c0 < 8 ? c - c0 : 8;
        const __m256 b = bias ? _mm256_load_ps(bias + c0) : _mm256_setzero_ps();
        const __m256 acc = mvk_dw_window(in, w_packed, b, h, w, c, c8, c0, n, k,
                                         (int)oy * stride - pad, ox * stride - pad);
        mvk_avx2_store8(out + opix * c + c0, acc, n, residual ? residual + opix * c + c0 : 0, act);
    }
}

/* Output rows [row0, row1). 3x3 windows with stride 1 or 2 take the quad path on interior
 * pixels (full channel blocks); border pixels, the channel tail and other shapes take the
 * checked path. */
static MVK_UNUSED MVK_AVX2 void
mvk_f32_dwconv_rows__avx2(int64_t row0, int64_t row1, const float *MVK_RESTRICT in,
                          float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
                          const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual, int h,
                          int w, int c, int ow, int k, int stride, int pad, int act)
{
    const int c8 = (c + 7) / 8 * 8, cfull = c / 8 * 8;
    const int fast = k == 3 && (stride == 1 || stride == 2) && cfull > 0;
    /* interior columns: ox with ox*stride - pad >= 0 and ox*stride - pad + 3 <= w */
    int ox0 = (pad + stride - 1) / stride, ox1 = w + pad < 3 ? 0 : (w + pad - 3) / stride + 1;
    if (ox1 > ow)
        ox1 = ow;
    if (ox0 > ox1)
        ox0 = ox1;
    const int quad_end = ox0 + (ox1 - ox0) / 4 * 4;
    for (int64_t oy = row0; oy < row1; oy++) {
        const int iy0 = (int)oy * stride - pad;
        if (!fast || iy0 < 0 || iy0 + 3 > h) {
            for (int ox = 0; ox < ow; ox++)
                mvk_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k, stride,
                                     pad, act, oy, ox, 0);
            continue;
        }
        mvk_dw3x3_row_interior(in, out, w_packed, bias, residual, w, c, c8, ow, stride, pad, act,
                               oy, iy0, ox0, quad_end);
        for (int ox = 0; ox < ow; ox++) {
            const int in_quads = ox >= ox0 && ox < quad_end;
            mvk_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k, stride, pad,
                                 act, oy, ox, in_quads ? cfull : 0);
        }
    }
}

static MVK_UNUSED MVK_AVX2 void
mvk_f32_dwconv__avx2(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                     const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                     const float *MVK_RESTRICT residual, int h, int w, int c, int oh, int ow, int k,
                     int stride, int pad, int act)
{
    mvk_f32_dwconv_rows__avx2(0, oh, in, out, w_packed, bias, residual, h, w, c, ow, k, stride, pad,
                              act);
}
