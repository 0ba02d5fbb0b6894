/* Input quantisation, ARM NEON: bit for bit mvk_i8_quantize__scalar (docs/int8.md): q = -128 +
 * #{k : x >= t[k]} for the 255 ascending thresholds t. 8 values at a time, the AVX2 kernel's
 * fast path: with every threshold within D steps of the line t[0] + k / inv (D + 2^-12 =
 * mvk_i8_q_margin, measured per call), an estimate g = (x - t[0]) inv + 1 whose fraction lies
 * at least D + 2^-12 from an integer is exactly the count floor(g), and so is a g beyond both
 * ends (proof: i8-quantize-avx2.c). g is clamped to [0, 255] first, so the truncating
 * conversion is the floor (ARMv7 has no vrndm). NaN: every comparison is false. The 8 values
 * of a vector with any lane outside those cases (no gather on NEON) go through the scalar
 * kernel, which defines the result; so do whole calls without a margin (uneven thresholds). */
#include <arm_neon.h>

#include "mvk-prelude.h"

/* The counts of 4 values, and whether all 4 are sure (all lanes of *sure set). */
static MVK_INLINE uint32x4_t mvk_i8_q_neon_count4(float32x4_t x, float32x4_t t0, float32x4_t inv,
                                                  float32x4_t margin, uint32x4_t *sure)
{
    const float32x4_t one = vdupq_n_f32(1.0f), top = vdupq_n_f32(255.0f);
    const float32x4_t g = vaddq_f32(vmulq_f32(vsubq_f32(x, t0), inv), one);
    const float32x4_t gc = vminq_f32(vmaxq_f32(g, vdupq_n_f32(0.0f)), top);
    const uint32x4_t whole = vcvtq_u32_f32(gc); /* NaN: 0, and not sure below */
    const float32x4_t frac = vsubq_f32(gc, vcvtq_f32_u32(whole));
    const float32x4_t one_m = vsubq_f32(one, margin);
    const uint32x4_t inside = vandq_u32(vcgeq_f32(frac, margin), vcleq_f32(frac, one_m));
    const uint32x4_t ends = vorrq_u32(vcgeq_f32(g, vaddq_f32(top, margin)), vcleq_f32(g, one_m));
    *sure = vorrq_u32(inside, ends);
    return whole;
}

static MVK_INLINE int mvk_i8_q_neon_all(uint32x4_t m)
{
#if defined(__aarch64__)
    return vminvq_u32(m) != 0;
#else
    uint32x2_t r = vpmin_u32(vget_low_u32(m), vget_high_u32(m));
    return vget_lane_u32(vpmin_u32(r, r), 0) != 0;
#endif
}

/* Same contract as mvk_i8_quantize__scalar. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_quantize__neon(const float *MVK_RESTRICT x,
                                                           int8_t *MVK_RESTRICT q,
                                                           const float *MVK_RESTRICT t, int64_t n)
{
    const float inv = 254.0f / (t[254] - t[0]);
    double m = mvk_i8_q_margin(t, inv);
#if !defined(__aarch64__)
    /* ARMv7's NEON flushes subnormals to zero: an error below 2^-126 in x - t[0], times inv
     * <= 1e30, stays far inside the margin's 2^-12 */
    if (inv > 1e30f)
        m = 0.0;
#endif
    if (m <= 0.0) { /* no fast path */
        mvk_i8_quantize__scalar(x, q, t, n);
        return;
    }
    const float32x4_t t0 = vdupq_n_f32(t[0]), invv = vdupq_n_f32(inv);
    const float32x4_t margin = vdupq_n_f32((float)m);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint32x4_t s0, s1;
        const uint32x4_t a = mvk_i8_q_neon_count4(vld1q_f32(x + i), t0, invv, margin, &s0);
        const uint32x4_t b = mvk_i8_q_neon_count4(vld1q_f32(x + i + 4), t0, invv, margin, &s1);
        if (!mvk_i8_q_neon_all(vandq_u32(s0, s1))) {
            mvk_i8_quantize__scalar(x + i, q + i, t, 8);
            continue;
        }
        /* counts 0..255 - 128: narrow, then flip the top bit (u8 c -> int8 c - 128) */
        const uint8x8_t c = vmovn_u16(vcombine_u16(vmovn_u32(a), vmovn_u32(b)));
        vst1_s8(q + i, vreinterpret_s8_u8(veor_u8(c, vdup_n_u8(0x80))));
    }
    if (i < n)
        mvk_i8_quantize__scalar(x + i, q + i, t, n - i);
}
