/* INT8 channel concatenation, ARM NEON: bit for bit mvk_i8_concat__scalar. Each side is
 * requantised to the output's parameters, y = clamp(zy + R(x - zx, m, s)), 16 values per step
 * in 32-bit lanes under the conditions of the NEON add (|m| < 2^15: |(x - zx) m| < 2^23, exact
 * for s <= 30, and R = 0 for s > 30), with its helpers: the lowering pastes i8-add-neon.c
 * before this file. Other multipliers take the scalar kernel. The pixel loop is i8-concat-driver.h,
 * shared with every ISA. */
#include <arm_neon.h>

#include "mvk-neon.h"
/* needs: i8-scalar.c i8-add-neon.c (the requantisation of each side) */

/* One side of one pixel: 16 values per step, the scalar arithmetic for a tail of n < 16. */
static MVK_INLINE void mvk_i8_cat_side__neon(const int8_t *x, int8_t *y, int n, int32_t zx,
                                             int32_t m, int s, int32_t zy)
{
    const int zero = s > 30;
    const int16_t mm = (int16_t)(zero ? 0 : m);
    const int16x8_t zxv = vdupq_n_s16((int16_t)zx);
    const int32x4_t rnd = vdupq_n_s32(zero ? 0 : 1 << (s - 1)), ns = vdupq_n_s32(zero ? 0 : -s);
    const int32x4_t zyv = vdupq_n_s32(zy);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t v = vld1q_s8(x + i);
        const int16x8_t lo = vsubq_s16(vmovl_s8(vget_low_s8(v)), zxv);
        const int16x8_t hi = vsubq_s16(vmovl_s8(vget_high_s8(v)), zxv);
        const int8x8_t y0 =
            mvk_i8_neon_narrow8(vaddq_s32(zyv, mvk_i8_add_neon_r4(vget_low_s16(lo), mm, rnd, ns)),
                                vaddq_s32(zyv, mvk_i8_add_neon_r4(vget_high_s16(lo), mm, rnd, ns)));
        const int8x8_t y1 =
            mvk_i8_neon_narrow8(vaddq_s32(zyv, mvk_i8_add_neon_r4(vget_low_s16(hi), mm, rnd, ns)),
                                vaddq_s32(zyv, mvk_i8_add_neon_r4(vget_high_s16(hi), mm, rnd, ns)));
        vst1q_s8(y + i, vcombine_s8(y0, y1));
    }
    for (; i < n; i++)
        y[i] = mvk_requant_i8_scalar((int32_t)x[i] - zx, m, s, zy);
}

/* Whether the lanes above are exact for the multiplier m. */
static MVK_INLINE int mvk_i8_cat_fits__neon(int32_t m)
{
    return m > -32768 && m < 32768;
}

#include "i8-concat-driver.h"
