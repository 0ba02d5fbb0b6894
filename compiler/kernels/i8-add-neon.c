/* INT8 residual add, ARM NEON: bit for bit mvk_i8_add__scalar (docs/int8.md),
 *   y = clamp(zy + R(a - za, ma, s) + R(b - zb, mb, s), -128, 127),
 * 16 values per step in 32-bit lanes, under the conditions of the AVX2 kernel
 * (i8-add-avx2.c): the compiler's multipliers are below 2^15 in magnitude, so
 * |(a - za) * m| < 255 * 2^15 < 2^23 and R is exact in 32 bits: smull by scalar gives the
 * product, + 2^(s-1), and vshlq_s32 by -s shifts arithmetically (floor, no rounding) for
 * s <= 30; for s > 30 every R is 0 (multipliers and shift taken as 0). Other multipliers take
 * the scalar kernel. y may alias a or b (each step reads before it writes). The concat kernel
 * (i8-concat-neon.c) requantises with the same helpers. */
#include <arm_neon.h>

#include "mvk-prelude.h"

/* R(x - zx, m, s) for 4 values held as int16 (x - zx, already subtracted). */
static MVK_INLINE int32x4_t mvk_i8_add_neon_r4(int16x4_t v, int16_t m, int32x4_t rnd, int32x4_t ns)
{
    return vshlq_s32(vaddq_s32(vmull_n_s16(v, m), rnd), ns);
}

/* 8 int32 (lo: values 0-3, hi: 4-7) -> 8 int8 with saturation, i.e. clamped to [-128, 127] */
static MVK_INLINE int8x8_t mvk_i8_neon_narrow8(int32x4_t lo, int32x4_t hi)
{
    return vqmovn_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi)));
}

/* zy + R(a - za, ma, s) + R(b - zb, mb, s) for 8 values widened to int16, saturated to int8. */
static MVK_INLINE int8x8_t mvk_i8_add_neon_8(int16x8_t a, int16x8_t b, int16_t ma, int16_t mb,
                                             int32x4_t rnd, int32x4_t ns, int32x4_t zy)
{
    const int32x4_t lo = vaddq_s32(zy, vaddq_s32(mvk_i8_add_neon_r4(vget_low_s16(a), ma, rnd, ns),
                                                 mvk_i8_add_neon_r4(vget_low_s16(b), mb, rnd, ns)));
    const int32x4_t hi =
        vaddq_s32(zy, vaddq_s32(mvk_i8_add_neon_r4(vget_high_s16(a), ma, rnd, ns),
                                mvk_i8_add_neon_r4(vget_high_s16(b), mb, rnd, ns)));
    return mvk_i8_neon_narrow8(lo, hi);
}

static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_add__neon(const mvk_i8_add *p, const int8_t *a,
                                                      const int8_t *b, int8_t *y, int64_t n)
{
    const int32_t za = p->za, ma = p->ma, zb = p->zb, mb = p->mb, s = p->shift, zy = p->zy;
    if (ma <= -32768 || ma >= 32768 || mb <= -32768 || mb >= 32768) {
        mvk_i8_add__scalar(p, a, b, y, n);
        return;
    }
    const int zero = s > 30;
    const int16_t m0 = (int16_t)(zero ? 0 : ma), m1 = (int16_t)(zero ? 0 : mb);
    const int16x8_t zav = vdupq_n_s16((int16_t)za), zbv = vdupq_n_s16((int16_t)zb);
    const int32x4_t rnd = vdupq_n_s32(zero ? 0 : 1 << (s - 1)), ns = vdupq_n_s32(zero ? 0 : -s);
    const int32x4_t zyv = vdupq_n_s32(zy);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x16_t av = vld1q_s8(a + i), bv = vld1q_s8(b + i);
        const int8x8_t lo =
            mvk_i8_add_neon_8(vsubq_s16(vmovl_s8(vget_low_s8(av)), zav),
                              vsubq_s16(vmovl_s8(vget_low_s8(bv)), zbv), m0, m1, rnd, ns, zyv);
        const int8x8_t hi =
            mvk_i8_add_neon_8(vsubq_s16(vmovl_s8(vget_high_s8(av)), zav),
                              vsubq_s16(vmovl_s8(vget_high_s8(bv)), zbv), m0, m1, rnd, ns, zyv);
        vst1q_s8(y + i, vcombine_s8(lo, hi));
    }
    if (i < n)
        mvk_i8_add__scalar(p, a + i, b + i, y + i, n - i);
}
