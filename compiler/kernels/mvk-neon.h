/* ARM NEON helpers shared by the NEON kernels: tail loads/stores that never touch memory past
 * the valid lanes, a vector exp (its own reduction and polynomial: not bitwise
 * mvk_avx2_exp), SiLU, the GEMM epilogue store, and integer division and the A-row gather
 * without the 32-bit ARM division call. One source for AArch64 (arm64-v8a) and 32-bit
 * ARMv7-A with NEON + VFPv4 (armeabi-v7a, built with -mfpu=neon-vfpv4): whatever v7 lacks
 * (vdivq, vmaxvq, vaddvq, hardware integer divide) sits behind __aarch64__. */
/* The binding of the shared drivers' names to this ISA (docs/architecture.md): outside the
 * include guard, so that including this header again switches back to it after another ISA's
 * kernel files (one file may hold several ISAs: the x86-64 target). */
#undef MVK_ISA_FN
#undef MVK_ISA_HELPER
#undef MVK_ISA
#define MVK_ISA_FN(stem) stem##__neon       /* public kernels: mvk_..._<isa> */
#define MVK_ISA_HELPER(stem) mvk_neon_##stem /* helpers and the mvk_vf layer */
#define MVK_ISA /* the attributes of every function for the ISA */

#ifndef MVK_NEON_H
#define MVK_NEON_H

#include <arm_neon.h>

#include "mvk-prelude.h"

#if !defined(__aarch64__) && !defined(__ARM_FEATURE_FMA)
#error "the NEON kernels need AArch64, or 32-bit ARM built with -mfpu=neon-vfpv4"
#endif

/* The first n lanes of p (n <= 0: none, n >= 4: all four), the others zero; lane loads so that
 * a tail never reads past the end of an activation buffer. */
static MVK_INLINE float32x4_t mvk_neon_load4(const float *p, int n)
{
    if (n >= 4)
        return vld1q_f32(p);
    float32x4_t v = vdupq_n_f32(0.0f);
    if (n > 0)
        v = vld1q_lane_f32(p, v, 0);
    if (n > 1)
        v = vld1q_lane_f32(p + 1, v, 1);
    if (n > 2)
        v = vld1q_lane_f32(p + 2, v, 2);
    return v;
}

/* Stores the first n lanes of v (n >= 4: all four). */
static MVK_INLINE void mvk_neon_store_n(float *p, float32x4_t v, int n)
{
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    if (n > 0)
        vst1q_lane_f32(p, v, 0);
    if (n > 1)
        vst1q_lane_f32(p + 1, v, 1);
    if (n > 2)
        vst1q_lane_f32(p + 2, v, 2);
}

/* Lanes < n all ones, the others zero. */
static MVK_INLINE uint32x4_t mvk_neon_lane_mask(int n)
{
    static const uint32_t lane_index[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(lane_index), vdupq_n_u32((uint32_t)(n < 0 ? 0 : n)));
}

static MVK_INLINE float mvk_neon_hsum(float32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    const float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

static MVK_INLINE float mvk_neon_hmax(float32x4_t v)
{
#if defined(__aarch64__)
    return vmaxvq_f32(v);
#else
    const float32x2_t m = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(m, m), 0);
#endif
}

/* 1/d: the ~8-bit estimate and two Newton steps (vrecps computes 2 - d*r), ~1 ulp; neither
 * v7 nor the divide-free path of the kernels has a vector division. */
static MVK_INLINE float32x4_t mvk_neon_recip(float32x4_t d)
{
    float32x4_t r = vrecpeq_f32(d);
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    return vmulq_f32(r, vrecpsq_f32(d, r));
}

/* exp(x) = 2^n e^r: x = n*ln2 + r (Cody-Waite, where mvk_avx2_exp splits x*log2e instead),
 * e^r by a degree-5 polynomial fitted for relative error, 2^n in the exponent bits, x clamped
 * to [-87.34, 88] as on AVX2. n = round-to-nearest-even(x*log2e) by adding and subtracting 1.5*2^23
 * (ARMv7 has no vrndn), which also leaves n + 0x4b400000 in the bits of the sum. On ARMv7, NEON
 * flushes subnormals to zero, so results below ~1.2e-38 are 0 there. */
static MVK_INLINE float32x4_t mvk_neon_exp(float32x4_t x)
{
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.33654f)), vdupq_n_f32(88.0f));
    const float32x4_t magic = vdupq_n_f32(12582912.0f);
    const float32x4_t t = vaddq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504f)), magic);
    const float32x4_t n = vsubq_f32(t, magic);
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693145752f));
    r = vfmsq_f32(r, n, vdupq_n_f32(1.42860677e-6f));
    float32x4_t p = vdupq_n_f32(0.008297662f);
    p = vfmaq_f32(vdupq_n_f32(0.041915383f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.16667575f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.49998894f), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.9999997f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0000001f), p, r);
    /* (n + 127) << 23 from the bits of t = 0x4b400000 + n */
    const int32x4_t bits = vsubq_s32(vreinterpretq_s32_f32(t), vdupq_n_s32(0x4b400000 - 127));
    return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(bits, 23)));
}

/* x * sigmoid(x) = x / (1 + e^-x), the division by mvk_neon_recip. */
static MVK_INLINE float32x4_t mvk_neon_silu(float32x4_t x)
{
    const float32x4_t d = vaddq_f32(vdupq_n_f32(1.0f), mvk_neon_exp(vnegq_f32(x)));
    return vmulq_f32(x, mvk_neon_recip(d));
}

/* Epilogue of 4 lanes: + residual (if any), activation, store of the first n (n <= 0: none). */
static MVK_INLINE void mvk_neon_store4(float *c, float32x4_t v, int n, const float *res, int act)
{
    if (n <= 0)
        return;
    if (res)
        v = vaddq_f32(v, mvk_neon_load4(res, n));
    if (act == MVK_ACT_SILU)
        v = mvk_neon_silu(v);
    mvk_neon_store_n(c, v, n);
}

/* The NEON instance of the per-ISA layer the shared drivers are written over: as in
 * mvk-avx2.h, whose comment says what each name means. */
typedef float32x4_t mvk_vf;
enum {
    mvk_neon_VF_LANES = 4, /* MVK_VF_LANES */
    mvk_neon_DW_CPAD = 8,  /* MVK_DW_CPAD: depthwise weight rows in whole vectors */
};

static MVK_INLINE mvk_vf mvk_vf_zero(void) { return vdupq_n_f32(0.0f); }
static MVK_INLINE mvk_vf mvk_vf_dup(float x) { return vdupq_n_f32(x); }
static MVK_INLINE mvk_vf mvk_vf_load(const float *p) { return vld1q_f32(p); }
static MVK_INLINE mvk_vf mvk_vf_load_a(const float *p) { return vld1q_f32(p); }
static MVK_INLINE void mvk_vf_store(float *p, mvk_vf v) { vst1q_f32(p, v); }
static MVK_INLINE mvk_vf mvk_vf_add(mvk_vf a, mvk_vf b) { return vaddq_f32(a, b); }
static MVK_INLINE mvk_vf mvk_vf_sub(mvk_vf a, mvk_vf b) { return vsubq_f32(a, b); }
static MVK_INLINE mvk_vf mvk_vf_mul(mvk_vf a, mvk_vf b) { return vmulq_f32(a, b); }
static MVK_INLINE mvk_vf mvk_vf_max(mvk_vf a, mvk_vf b) { return vmaxq_f32(a, b); }
/* acc + a*b and acc - a*b, each rounded once (VFMA / VFMS) */
static MVK_INLINE mvk_vf mvk_vf_fma(mvk_vf acc, mvk_vf a, mvk_vf b) { return vfmaq_f32(acc, a, b); }
static MVK_INLINE mvk_vf mvk_vf_fms(mvk_vf acc, mvk_vf a, mvk_vf b) { return vfmsq_f32(acc, a, b); }
static MVK_INLINE mvk_vf mvk_vf_exp(mvk_vf x) { return mvk_neon_exp(x); }
static MVK_INLINE mvk_vf mvk_vf_load_n(const float *p, int n) { return mvk_neon_load4(p, n); }
static MVK_INLINE void mvk_vf_store_n(float *p, mvk_vf v, int n) { mvk_neon_store_n(p, v, n); }

/* v with the lanes from n (0..4) on set to zero. */
static MVK_INLINE mvk_vf mvk_vf_keep_n(mvk_vf v, int n)
{
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), mvk_neon_lane_mask(n)));
}

static MVK_INLINE float mvk_vf_hsum(mvk_vf v) { return mvk_neon_hsum(v); }

/* The largest of v's lanes and the n scalars s[0..n) (the lanes first). */
static MVK_INLINE float mvk_vf_hmax_tail(mvk_vf v, const float *s, int n)
{
    float m = mvk_neon_hmax(v);
    for (int j = 0; j < n; j++)
        m = s[j] > m ? s[j] : m;
    return m;
}

/* The GEMM epilogue of one vector: + residual, activation, store of the first n lanes. */
static MVK_INLINE void mvk_vf_store_act(float *c, mvk_vf v, int n, const float *res, int act)
{
    mvk_neon_store4(c, v, n, res, act);
}

#endif
