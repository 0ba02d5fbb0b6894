/* Depthwise convolution, NHWC, AVX2+FMA: 8 channels per vector, masked tail for C % 8; the
 * shared driver f32-dwconv-driver.h around this ISA's 3x3 quad microkernel. */
#include "mvk-avx2.h"

/* Four horizontally adjacent interior outputs of one 8-channel block of a 3x3 window,
 * stride 1 or 2 (a constant after inlining): each input vector is loaded once per kernel row
 * and feeds every output whose window covers it; then their epilogue into o (pixels c floats
 * apart). */
static MVK_INLINE MVK_AVX2 void mvk_f32_dw3x3_quad__avx2(const float *MVK_RESTRICT x, int64_t rs,
                                                         int c, const float *MVK_RESTRICT wp,
                                                         int c8, __m256 b, int stride,
                                                         float *MVK_RESTRICT o,
                                                         const float *MVK_RESTRICT res, int act)
{
    __m256 acc[4];
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
    for (int i = 0; i < 4; i++)
        mvk_avx2_store8(o + (int64_t)i * c, acc[i], 8, res ? res + (int64_t)i * c : 0, act);
}

#include "f32-dwconv-driver.h"
