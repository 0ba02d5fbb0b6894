/* Depthwise convolution, NHWC, ARM NEON: 4 channels per vector, lane loads/stores for the
 * C % 4 tail; the shared driver f32-dwconv-driver.h (the AVX2 kernel's schedule and weight
 * packing) around this ISA's 3x3 quad microkernel. */
#include "mvk-neon.h"

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
static MVK_INLINE void mvk_f32_dw3x3_quad__neon(const float *MVK_RESTRICT x, int64_t rs, int c,
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

#include "f32-dwconv-driver.h"
