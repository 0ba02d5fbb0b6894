/* INT8 LayerNorm, ARM NEON: bit for bit mvk_i8_layernorm__scalar (docs/int8.md). The row sums
 * widen 16 values at a time (vpaddl / vmull_s8 and vpadal into 32-bit lanes: exact for
 * c < 2^16); the square root and reciprocal of a row are the scalar kernel's integers; the
 * per-value part runs in 64-bit lanes, 8 values per step: n = R(d * inv, 46 - k)   d = c x - sum
 * (int32), inv in (2^31, 2^32]: d * inv = d * (inv - 2^31) + d * 2^31, two exact products of 32-bit
 * lanes (inv = 2^32: d * 2^32) t = R(n * g + b * 2^16, 32)   |n| < 2^31 (|n| <= sqrt(c) 2^16), so
 * vmull_s32 is exact R(x, s) = floor((x + 2^(s-1)) / 2^s) is the rounding shift vrshl by -s (|x| <
 * 2^58, no saturation), and zy + t goes to int8 through saturating narrows (the clamp). */
#include <arm_neon.h>

#include "mvk-neon.h"

/* Sum and sum of squares of c int8 values (c < 2^16: a 32-bit lane of squares holds at most
 * c / 4 of them, < 2^28). */
static MVK_INLINE void mvk_i8_ln_sums__neon(const int8_t *x, int c, int32_t *sum, int64_t *sumsq)
{
    int32x4_t s = vdupq_n_s32(0), q = s;
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        const int8x16_t v = vld1q_s8(x + i);
        s = vpadalq_s16(s, vpaddlq_s8(v));
        q = vpadalq_s16(q, vmull_s8(vget_low_s8(v), vget_low_s8(v)));
        q = vpadalq_s16(q, vmull_s8(vget_high_s8(v), vget_high_s8(v)));
    }
    int32_t lanes_s[4], lanes_q[4];
    vst1q_s32(lanes_s, s);
    vst1q_s32(lanes_q, q);
    int32_t ts = lanes_s[0] + lanes_s[1] + lanes_s[2] + lanes_s[3];
    int64_t tq = (int64_t)lanes_q[0] + lanes_q[1] + lanes_q[2] + lanes_q[3];
    for (; i < c; i++)
        ts += x[i], tq += (int32_t)x[i] * x[i];
    *sum = ts;
    *sumsq = tq;
}

/* n = R(d * inv, sh) for the 2 values of d: inv_lo = inv - 2^31 (inv < 2^32), or full: d
 * times 2^32 (inv = 2^32). */
static MVK_INLINE int32x2_t mvk_i8_ln_neon_norm2(int32x2_t d, int32x2_t inv_lo, int full,
                                                 int64x2_t neg_sh)
{
    const int64x2_t prod = full ? vshlq_s64(vmovl_s32(d), vdupq_n_s64(32))
                                : vaddq_s64(vmull_s32(d, inv_lo), vshll_n_s32(d, 31));
    return vmovn_s64(vrshlq_s64(prod, neg_sh)); /* |n| < 2^31: the narrow is exact */
}

/* zy + R(n * g + b * 2^16, 32) for 2 values, saturated to int32 (then to int8 by the caller). */
static MVK_INLINE int32x2_t mvk_i8_ln_neon_affine2(int32x2_t n, int32x2_t g, int32x2_t b,
                                                   int64x2_t zy)
{
    const int64x2_t pre = vaddq_s64(vmull_s32(n, g), vshll_n_s32(b, 16));
    return vqmovn_s64(vaddq_s64(zy, vrshrq_n_s64(pre, 32)));
}

/* 2^62 / floor(sqrt(v)) for 0 < v < 2^62: the scalar kernel's integers. */
static MVK_INLINE uint64_t mvk_i8_ln_inv__neon(uint64_t v)
{
    return mvk_udiv_u64((uint64_t)1 << 62, mvk_isqrt_u64(v));
}

/* The first values of a row of n, 8 per step from 0 (the driver does the last n % 8), with
 * d = mult x - sum (mult: the count the sums are over, c for a LayerNorm, the whole map's for a
 * GroupNorm; |d| < 2^31); returns the count written. */
static MVK_INLINE int mvk_i8_ln_row__neon(const int8_t *x, int8_t *y, int n, int mult,
                                          int32_t sum, uint64_t inv, int sh, const int32_t *g,
                                          const int32_t *b, int per_channel, int32_t zy)
{
    const int64x2_t zyv = vdupq_n_s64(zy);
    const int full = inv >> 32 != 0;
    /* inv = 0 (v = 0): every d is 0 as well, and inv_lo = -2^31 still gives d * inv = 0 */
    const int32x2_t inv_lo = vdup_n_s32((int32_t)(full ? 0 : (int64_t)inv - ((int64_t)1 << 31)));
    const int64x2_t neg_sh = vdupq_n_s64(-sh);
    const int32x4_t sumv = vdupq_n_s32(sum);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t x16 = vmovl_s8(vld1_s8(x + i));
        const int32x4_t d0 = vsubq_s32(vmulq_n_s32(vmovl_s16(vget_low_s16(x16)), mult), sumv);
        const int32x4_t d1 = vsubq_s32(vmulq_n_s32(vmovl_s16(vget_high_s16(x16)), mult), sumv);
        int32x4_t g0, g1, b0, b1;
        if (per_channel) {
            g0 = vld1q_s32(g + i), g1 = vld1q_s32(g + i + 4);
            b0 = vld1q_s32(b + i), b1 = vld1q_s32(b + i + 4);
        } else {
            g0 = g1 = vdupq_n_s32(g[0]);
            b0 = b1 = vdupq_n_s32(b[0]);
        }
        int32x2_t t[4];
        const int32x4_t dd[2] = {d0, d1}, gg[2] = {g0, g1}, bb[2] = {b0, b1};
        for (int h = 0; h < 2; h++) {
            const int32x2_t nl = mvk_i8_ln_neon_norm2(vget_low_s32(dd[h]), inv_lo, full, neg_sh);
            const int32x2_t nh = mvk_i8_ln_neon_norm2(vget_high_s32(dd[h]), inv_lo, full, neg_sh);
            t[2 * h] = mvk_i8_ln_neon_affine2(nl, vget_low_s32(gg[h]), vget_low_s32(bb[h]), zyv);
            t[2 * h + 1] =
                mvk_i8_ln_neon_affine2(nh, vget_high_s32(gg[h]), vget_high_s32(bb[h]), zyv);
        }
        const int16x8_t t16 = vcombine_s16(vqmovn_s32(vcombine_s32(t[0], t[1])),
                                           vqmovn_s32(vcombine_s32(t[2], t[3])));
        vst1_s8(y + i, vqmovn_s16(t16));
    }
    return i;
}

#include "i8-layernorm-driver.h"
