/* Depthwise convolution, NHWC, AVX-512: 16 channels per vector, masked tail for C % 16; the
 * shared driver f32-dwconv-driver.h around this ISA's 3x3 quad microkernel. */
#include "mvk-avx512.h"

/* Four horizontally adjacent interior outputs of one 16-channel block of a 3x3 window,
 * stride 1 or 2 (a constant after inlining): each input vector is loaded once per kernel row
 * and feeds every output whose window covers it; then their epilogue into o (pixels c floats
 * apart). */
static MVK_INLINE MVK_AVX512 void mvk_f32_dw3x3_quad__avx512(const float *MVK_RESTRICT x,
                                                             int64_t rs, int c,
                                                             const float *MVK_RESTRICT wp, int c8,
                                                             __m512 b, int stride,
                                                             float *MVK_RESTRICT o,
                                                             const float *MVK_RESTRICT res,
                                                             int act)
{
    __m512 acc[4];
    acc[0] = acc[1] = acc[2] = acc[3] = b;
    for (int ky = 0; ky < 3; ky++) {
        const float *r = x + ky * rs;
        const __m512 w0 = _mm512_load_ps(wp + (3 * ky) * c8);
        const __m512 w1 = _mm512_load_ps(wp + (3 * ky + 1) * c8);
        const __m512 w2 = _mm512_load_ps(wp + (3 * ky + 2) * c8);
        __m512 v[9];
        for (int j = 0; j < 3 * stride + 3; j++)
            v[j] = _mm512_loadu_ps(r + (int64_t)j * c);
        for (int i = 0; i < 4; i++) {
            acc[i] = _mm512_fmadd_ps(v[i * stride], w0, acc[i]);
            acc[i] = _mm512_fmadd_ps(v[i * stride + 1], w1, acc[i]);
            acc[i] = _mm512_fmadd_ps(v[i * stride + 2], w2, acc[i]);
        }
    }
    for (int i = 0; i < 4; i++)
        mvk_avx512_store16(o + (int64_t)i * c, acc[i], 16, res ? res + (int64_t)i * c : 0, act);
}

#include "f32-dwconv-driver.h"
