/* Depthwise convolution, NHWC, AVX2+FMA: 8 channels per vector, masked tail for C % 8.
 * Weights packed [k*k][C8] and bias [C8] with C8 = C rounded up to 8 (zero padding), so
 * weight loads are aligned and never need a mask. */
#include "mvk-avx2.h"

static MVK_UNUSED MVK_AVX2 void mvk_f32_dwconv_rows__avx2(
    int64_t row0, int64_t row1, const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
    const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, int h, int w, int c, int ow, int k, int stride,
    int pad, int act)
{
    const int c8 = (c + 7) / 8 * 8;
    for (int64_t oy = row0; oy < row1; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            const int64_t opix = oy * ow + ox;
            for (int c0 = 0; c0 < c; c0 += 8) {
                const int n = c - c0 < 8 ? c - c0 : 8;
                const __m256i m = mvk_avx2_mask(n);
                __m256 acc = bias ? _mm256_load_ps(bias + c0) : _mm256_setzero_ps();
                for (int ky = 0; ky < k; ky++) {
                    const int iy = (int)oy * stride - pad + ky;
                    if (iy < 0 || iy >= h)
                        continue;
                    for (int kx = 0; kx < k; kx++) {
                        const int ix = ox * stride - pad + kx;
                        if (ix < 0 || ix >= w)
                            continue;
                        const float *x = in + ((int64_t)iy * w + ix) * c + c0;
                        const __m256 xv = n == 8 ? _mm256_loadu_ps(x) : _mm256_maskload_ps(x, m);
                        acc = _mm256_fmadd_ps(xv, _mm256_load_ps(w_packed + (ky * k + kx) * c8 + c0),
                                              acc);
                    }
                }
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
