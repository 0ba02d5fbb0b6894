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

/* Output rows [row0, row1). For 3x3 windows the 9 weight vectors of a channel block stay in
 * registers while the block sweeps along the row, and interior pixels skip the bounds
 * checks; other sizes and the border pixels take the checked path. */
static MVK_UNUSED MVK_AVX2 void mvk_f32_dwconv_rows__avx2(
    int64_t row0, int64_t row1, const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
    const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, int h, int w, int c, int ow, int k, int stride,
    int pad, int act)
{
    const int c8 = (c + 7) / 8 * 8;
    for (int64_t oy = row0; oy < row1; oy++) {
        const int iy0 = (int)oy * stride - pad;
        const int rows_inside = iy0 >= 0 && iy0 + k <= h;
        for (int c0 = 0; c0 < c; c0 += 8) {
            const int n = c - c0 < 8 ? c - c0 : 8;
            const __m256 b = bias ? _mm256_load_ps(bias + c0) : _mm256_setzero_ps();
            int ox = 0;
            if (k == 3 && n == 8 && rows_inside) {
                const float *wp = w_packed + c0;
                const __m256 w0 = _mm256_load_ps(wp), w1 = _mm256_load_ps(wp + c8);
                const __m256 w2 = _mm256_load_ps(wp + 2 * c8), w3 = _mm256_load_ps(wp + 3 * c8);
                const __m256 w4 = _mm256_load_ps(wp + 4 * c8), w5 = _mm256_load_ps(wp + 5 * c8);
                const __m256 w6 = _mm256_load_ps(wp + 6 * c8), w7 = _mm256_load_ps(wp + 7 * c8);
                const __m256 w8 = _mm256_load_ps(wp + 8 * c8);
                const int64_t rs = (int64_t)w * c; /* input row stride */
                for (; ox < ow; ox++) {
                    const int ix0 = ox * stride - pad;
                    const int64_t opix = oy * ow + ox;
                    if (ix0 < 0 || ix0 + 3 > w) {
                        const __m256 acc = mvk_dw_window(in, w_packed, b, h, w, c, c8, c0, n, k,
                                                         iy0, ix0);
                        mvk_avx2_store8(out + opix * c + c0, acc, n,
                                        residual ? residual + opix * c + c0 : 0, act);
                        continue;
                    }
                    const float *x = in + ((int64_t)iy0 * w + ix0) * c + c0;
                    __m256 acc = _mm256_fmadd_ps(_mm256_loadu_ps(x), w0, b);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + c), w1, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * c), w2, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + rs), w3, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + rs + c), w4, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + rs + 2 * c), w5, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * rs), w6, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * rs + c), w7, acc);
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * rs + 2 * c), w8, acc);
                    mvk_avx2_store8(out + opix * c + c0, acc, 8,
                                    residual ? residual + opix * c + c0 : 0, act);
                }
            }
            for (; ox < ow; ox++) {
                const int64_t opix = oy * ow + ox;
                const __m256 acc = mvk_dw_window(in, w_packed, b, h, w, c, c8, c0, n, k, iy0,
                                                 ox * stride - pad);
                mvk_avx2_store8(out + opix * c + c0, acc, n,
                                residual ? residual + opix * c + c0 : 0, act);
            }
        }
    }
}

static MVK_UNUSED MVK_AVX2 void mvk_f32_dwconv__avx2(
    const float *MVK_RESTRICT in, float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
    const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual, int h, int w, int c,
    int oh, int ow, int k, int stride, int pad, int act)
{
    mvk_f32_dwconv_rows__avx2(0, oh, in, out, w_packed, bias, residual, h, w, c, ow, k, stride,
                              pad, act);
}
