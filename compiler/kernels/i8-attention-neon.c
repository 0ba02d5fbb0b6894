/* INT8 attention, ARM NEON (AArch64 and ARMv7 with NEON): bit for bit
 * mvk_i8_attention__scalar (docs/int8.md). Per work unit (patch position, head), K and V of
 * the head are copied once:
 *   K with __ARM_FEATURE_DOTPROD: raw int8 in t quads kq[t/4][j][4] (zeros past hd and n), so
 *     one sdot adds 4 terms of 4 scores; the scores are sum_t q_t k_t + kterm_j, kterm_j =
 *     -z K_j (K_j: the sum of key j's values). The exact score sum_t (q_t - z)(k_t - z) also
 *     has -z Q + hd z^2 (Q: the query's sum): the same for every key of a query, and the softmax
 *     only sees a row's scores as differences from its maximum, so they are left out (every
 *     term fits int32: |score| <= hd 2^15).
 *   K without it: int16 kt[t][j] = k_jt - z (8x8 transposes), one smlal by lane adds a term
 *     of 4 scores.
 *   V: int16 vt[j][t] = v_jt - z, rows padded to hd8 columns with zeros; one smlal by lane
 *     adds p_j (v_jt - z) to 4 outputs.
 * Rows of queries go 4 at a time, so each K and V vector loaded serves 4 rows; every product
 * and sum is an exact integer, so any order gives the scalar kernel's values.
 * Softmax: the exponent u = min(R(best - a, m_sm, s_sm), 31 * 256) in 32-bit lanes when every
 * d = best - a below the clamp point keeps d m + 2^(s-1) < 2^32, else in 64-bit lanes (vmull),
 * after clamping d to the smallest value whose u reaches 31 * 256 (larger d give the same u).
 * exp2_lut[u & 255] >> (u >> 8): on AArch64 the table (entries in [0, 2^15], docs/int8.md) as
 * two byte planes looked up 16 values at a time by tbl/tbx over 4 registers of 64 entries;
 * on ARMv7 one value at a time. Probabilities p = (e inv + 2^31) >> 32 by vmull_u32 and a
 * rounding narrow; p = 2^15 only when inv = 2^32 (the maximum's term is the whole sum, e in
 * {0, 2^15}): there the row is computed with p / 2 and doubled, which is exact.
 * Multipliers m_sm <= 0 and shifts s_sm > 50 (a softmax multiplier below 2^-36: a qkv scale
 * below about 2^-22, which the compiler would accept but no calibrated model comes near) go
 * to the scalar kernel, whose scratch is smaller. The scratch's byte count is
 * MVK_I8_ATTENTION_SCRATCH_SIMD's; the layout inside it is the one above, not AVX2's.
 * The per-unit loop (packing, row blocks, requantisation) is i8-attention-driver.h, shared
 * with every ISA; this file holds the NEON microkernels it calls.
 *
 * Scratch per task: MVK_I8_ATTENTION_SCRATCH_SIMD(n, hd) bytes (i8-attention-scratch.h).
 * Uses mvk_i8_attention__scalar, mvk_requant_i8_scalar, mvk_udiv_u64 and (sdot)
 * mvk_i8_att_pack_quads of i8-scalar.c. */
#include <arm_neon.h>

#include "i8-attention-scratch.h"
#include "mvk-neon.h"

/* bytes / 16 zero vectors at dst (bytes: a multiple of 16). */
static MVK_INLINE void mvk_i8_att_neon_zero(void *dst, int64_t bytes)
{
    for (int64_t i = 0; i < bytes; i += 16)
        vst1q_u8((uint8_t *)dst + i, vdupq_n_u8(0));
}

/* 8 int8 values at src as int16 with z subtracted. */
static MVK_INLINE int16x8_t mvk_i8_att_neon_widen8(const int8_t *src, int16x8_t z)
{
    return vsubq_s16(vmovl_s8(vld1_s8(src)), z);
}

/* V of head h of one patch position as vt[j][hd8] int16, zero point removed, zero padded. */
static MVK_INLINE void mvk_i8_att_pack_v__neon(const int8_t *base, int16_t *vt, int n, int n8,
                                               int d, int hd, int hd8, int h, int32_t z)
{
    const int64_t row = 3 * (int64_t)d;
    const int16x8_t zv = vdupq_n_s16((int16_t)z);
    mvk_i8_att_neon_zero(vt, (int64_t)n8 * hd8 * 2);
    for (int j = 0; j < n; j++) {
        const int8_t *v = base + j * row + 2 * d + h * hd;
        int16_t *dst = vt + (int64_t)j * hd8;
        int t = 0;
        for (; t + 8 <= hd; t += 8)
            vst1q_s16(dst + t, mvk_i8_att_neon_widen8(v + t, zv));
        for (; t < hd; t++)
            dst[t] = (int16_t)(v[t] - z);
    }
}

/* acc[2r], acc[2r + 1] += sum_l b[r * bs + l] x[l * xs + 0..7] for rows r = 0..3, l = 0..3:
 * 4 terms of the scores (b: the queries, x: K's rows t) or of the output (b: the
 * probabilities, x: V's rows j) of 4 rows, by smlal by lane. */
static MVK_INLINE void mvk_i8_att_neon_mac4(int32x4_t *acc, const int16_t *b, int64_t bs,
                                            const int16_t *x, int64_t xs)
{
    const int16x4_t b0 = vld1_s16(b), b1 = vld1_s16(b + bs);
    const int16x4_t b2 = vld1_s16(b + 2 * bs), b3 = vld1_s16(b + 3 * bs);
#define MVK_I8_ATT_NEON_MLAL(l)                                                                    \
    {                                                                                              \
        const int16x8_t v = vld1q_s16(x + l * xs);                                                 \
        acc[0] = vmlal_lane_s16(acc[0], vget_low_s16(v), b0, l);                                   \
        acc[1] = vmlal_lane_s16(acc[1], vget_high_s16(v), b0, l);                                  \
        acc[2] = vmlal_lane_s16(acc[2], vget_low_s16(v), b1, l);                                   \
        acc[3] = vmlal_lane_s16(acc[3], vget_high_s16(v), b1, l);                                  \
        acc[4] = vmlal_lane_s16(acc[4], vget_low_s16(v), b2, l);                                   \
        acc[5] = vmlal_lane_s16(acc[5], vget_high_s16(v), b2, l);                                  \
        acc[6] = vmlal_lane_s16(acc[6], vget_low_s16(v), b3, l);                                   \
        acc[7] = vmlal_lane_s16(acc[7], vget_high_s16(v), b3, l);                                  \
    }
    MVK_I8_ATT_NEON_MLAL(0)
    MVK_I8_ATT_NEON_MLAL(1)
    MVK_I8_ATT_NEON_MLAL(2)
    MVK_I8_ATT_NEON_MLAL(3)
#undef MVK_I8_ATT_NEON_MLAL
}

/* The 8 accumulators of 4 rows x 8 int32 to dst, rows stride apart. */
static MVK_INLINE void mvk_i8_att_neon_store_rows(int32_t *dst, int64_t stride,
                                                  const int32x4_t *acc)
{
    for (int r = 0; r < 4; r++) {
        vst1q_s32(dst + r * stride, acc[2 * r]);
        vst1q_s32(dst + r * stride + 4, acc[2 * r + 1]);
    }
}

#if defined(__ARM_FEATURE_DOTPROD)
/* K of head h as raw int8 quads kq[t/4][n8][4] (zeros past hd and n), and kterm[j] = -z K_j
 * (K_j summed by sdot against ones over the packed quads). */
static MVK_INLINE void mvk_i8_att_pack_k__neon(const int8_t *base, void *kbuf, int32_t *kterm,
                                               int n, int n8, int d, int hd, int h, int32_t z)
{
    int8_t *kq = (int8_t *)kbuf;
    const int64_t row = 3 * (int64_t)d, stride = (int64_t)n8 * 4;
    const int g4 = (hd + 3) / 4;
    mvk_i8_att_neon_zero(kq, g4 * stride);
    mvk_i8_att_pack_quads(base + d + h * hd, row, kq, n, stride, hd);
    const int8x16_t ones = vdupq_n_s8(1);
    const int32x4_t negz = vdupq_n_s32(-z);
    for (int j = 0; j < n8; j += 4) {
        int32x4_t sum = vdupq_n_s32(0);
        for (int g = 0; g < g4; g++)
            sum = vdotq_s32(sum, vld1q_s8(kq + g * stride + 4 * j), ones);
        vst1q_s32(kterm + j, vmulq_s32(sum, negz));
    }
}

/* The block's query rows (rows past `rows` repeat the last) as raw int8 quads into qw[r][g4]
 * (0 past hd: times K's zeros). */
static MVK_INLINE void mvk_i8_att_queries__neon(const int8_t *q0, int64_t row, int rows, int hd,
                                                int32_t z, void *qbuf)
{
    (void)z;
    int32_t *qw = (int32_t *)qbuf;
    const int g4 = (hd + 3) / 4, full = hd / 4;
    for (int r = 0; r < MVK_I8_ATT_ROWS; r++) {
        const int8_t *q = q0 + (r < rows ? r : rows - 1) * row;
        for (int g = 0; g < full; g++) /* fixed-size copies: no memcpy call */
            __builtin_memcpy(qw + r * g4 + g, q + 4 * g, 4);
        if (full < g4) {
            int8_t last[4] = {0, 0, 0, 0};
            for (int t = 4 * full; t < hd; t++)
                last[t - 4 * full] = q[t];
            __builtin_memcpy(qw + r * g4 + full, last, 4);
        }
    }
}

/* acc_r += the quad g of row r against 8 keys (k0: keys 0-3, k1: 4-7), quads as lane l of
 * the rows' 2-quad vectors b0..b3 */
#define MVK_I8_ATT_NEON_DOT(l)                                                                     \
    a00 = vdotq_lane_s32(a00, k0, b0, l), a01 = vdotq_lane_s32(a01, k1, b0, l);                    \
    a10 = vdotq_lane_s32(a10, k0, b1, l), a11 = vdotq_lane_s32(a11, k1, b1, l);                    \
    a20 = vdotq_lane_s32(a20, k0, b2, l), a21 = vdotq_lane_s32(a21, k1, b2, l);                    \
    a30 = vdotq_lane_s32(a30, k0, b3, l), a31 = vdotq_lane_s32(a31, k1, b3, l)

/* scores[r][j] for the block's 4 rows, each less its query's terms, every j < n8 (padded keys:
 * 0, the softmax excludes them). */
static MVK_INLINE void mvk_i8_att_scores__neon(const void *qbuf, int hd, const void *kbuf,
                                               const int32_t *kterm, int n8, int32_t *scores)
{
    const int g4 = (hd + 3) / 4;
    const int64_t stride = (int64_t)n8 * 4;
    const int32_t *q0 = (const int32_t *)qbuf, *q1 = q0 + g4, *q2 = q1 + g4, *q3 = q2 + g4;
    for (int j = 0; j < n8; j += 8) {
        const int32x4_t t0 = vld1q_s32(kterm + j), t1 = vld1q_s32(kterm + j + 4);
        int32x4_t a00 = t0, a01 = t1, a10 = t0, a11 = t1, a20 = t0, a21 = t1, a30 = t0, a31 = t1;
        const int8_t *kv = (const int8_t *)kbuf + (int64_t)j * 4;
        int g = 0;
        for (; g + 2 <= g4; g += 2) {
            const int8x8_t b0 = vreinterpret_s8_s32(vld1_s32(q0 + g));
            const int8x8_t b1 = vreinterpret_s8_s32(vld1_s32(q1 + g));
            const int8x8_t b2 = vreinterpret_s8_s32(vld1_s32(q2 + g));
            const int8x8_t b3 = vreinterpret_s8_s32(vld1_s32(q3 + g));
            int8x16_t k0 = vld1q_s8(kv), k1 = vld1q_s8(kv + 16);
            MVK_I8_ATT_NEON_DOT(0);
            k0 = vld1q_s8(kv + stride), k1 = vld1q_s8(kv + stride + 16);
            MVK_I8_ATT_NEON_DOT(1);
            kv += 2 * stride;
        }
        if (g < g4) {
            const int8x8_t b0 = vreinterpret_s8_s32(vdup_n_s32(q0[g]));
            const int8x8_t b1 = vreinterpret_s8_s32(vdup_n_s32(q1[g]));
            const int8x8_t b2 = vreinterpret_s8_s32(vdup_n_s32(q2[g]));
            const int8x8_t b3 = vreinterpret_s8_s32(vdup_n_s32(q3[g]));
            const int8x16_t k0 = vld1q_s8(kv), k1 = vld1q_s8(kv + 16);
            MVK_I8_ATT_NEON_DOT(0);
        }
        vst1q_s32(scores + j, a00), vst1q_s32(scores + j + 4, a01);
        vst1q_s32(scores + n8 + j, a10), vst1q_s32(scores + n8 + j + 4, a11);
        vst1q_s32(scores + 2 * n8 + j, a20), vst1q_s32(scores + 2 * n8 + j + 4, a21);
        vst1q_s32(scores + 3 * n8 + j, a30), vst1q_s32(scores + 3 * n8 + j + 4, a31);
    }
}
#undef MVK_I8_ATT_NEON_DOT
#else
/* The 8x8 int16 block r[key][t] transposed in place into r[t][key]. */
static MVK_INLINE void mvk_i8_att_neon_transpose8(int16x8_t *r)
{
    const int16x8x2_t t0 = vtrnq_s16(r[0], r[1]), t1 = vtrnq_s16(r[2], r[3]);
    const int16x8x2_t t2 = vtrnq_s16(r[4], r[5]), t3 = vtrnq_s16(r[6], r[7]);
    const int32x4x2_t u0 = vtrnq_s32(vreinterpretq_s32_s16(t0.val[0]),
                                     vreinterpretq_s32_s16(t1.val[0])); /* t 0|4, 2|6 */
    const int32x4x2_t u1 = vtrnq_s32(vreinterpretq_s32_s16(t0.val[1]),
                                     vreinterpretq_s32_s16(t1.val[1])); /* t 1|5, 3|7 */
    const int32x4x2_t u2 =
        vtrnq_s32(vreinterpretq_s32_s16(t2.val[0]), vreinterpretq_s32_s16(t3.val[0]));
    const int32x4x2_t u3 =
        vtrnq_s32(vreinterpretq_s32_s16(t2.val[1]), vreinterpretq_s32_s16(t3.val[1]));
#define MVK_I8_ATT_NEON_HALVES(lo, hi, a, b)                                                       \
    r[lo] = vreinterpretq_s16_s32(vcombine_s32(vget_low_s32(a), vget_low_s32(b)));                 \
    r[hi] = vreinterpretq_s16_s32(vcombine_s32(vget_high_s32(a), vget_high_s32(b)))
    MVK_I8_ATT_NEON_HALVES(0, 4, u0.val[0], u2.val[0]);
    MVK_I8_ATT_NEON_HALVES(2, 6, u0.val[1], u2.val[1]);
    MVK_I8_ATT_NEON_HALVES(1, 5, u1.val[0], u3.val[0]);
    MVK_I8_ATT_NEON_HALVES(3, 7, u1.val[1], u3.val[1]);
#undef MVK_I8_ATT_NEON_HALVES
}

/* K of head h as int16 kt[t][n8] = k_jt - z (zeros past n): blocks of 8 keys x 8 t
 * transposed in registers, the rest one value at a time (kterm: unused here). */
static MVK_INLINE void mvk_i8_att_pack_k__neon(const int8_t *base, void *kbuf, int32_t *kterm,
                                               int n, int n8, int d, int hd, int h, int32_t z)
{
    (void)kterm;
    int16_t *kt = (int16_t *)kbuf;
    const int64_t row = 3 * (int64_t)d;
    const int16x8_t zv = vdupq_n_s16((int16_t)z);
    mvk_i8_att_neon_zero(kt, (int64_t)hd * n8 * 2);
    const int8_t *k0 = base + d + h * hd;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
        int t = 0;
        for (; t + 8 <= hd; t += 8) {
            int16x8_t r[8];
            for (int i = 0; i < 8; i++)
                r[i] = mvk_i8_att_neon_widen8(k0 + (j + i) * row + t, zv);
            mvk_i8_att_neon_transpose8(r);
            for (int i = 0; i < 8; i++)
                vst1q_s16(kt + (int64_t)(t + i) * n8 + j, r[i]);
        }
        for (; t < hd; t++)
            for (int i = 0; i < 8; i++)
                kt[(int64_t)t * n8 + j + i] = (int16_t)(k0[(j + i) * row + t] - z);
    }
    for (; j < n; j++)
        for (int t = 0; t < hd; t++)
            kt[(int64_t)t * n8 + j] = (int16_t)(k0[j * row + t] - z);
}

/* The block's query rows (rows past `rows` repeat the last) as int16 q_t - z into q16[r][hd]. */
static MVK_INLINE void mvk_i8_att_queries__neon(const int8_t *q0, int64_t row, int rows, int hd,
                                                int32_t z, void *qbuf)
{
    int16_t *q16 = (int16_t *)qbuf;
    const int16x8_t zv = vdupq_n_s16((int16_t)z);
    for (int r = 0; r < MVK_I8_ATT_ROWS; r++) {
        const int8_t *q = q0 + (r < rows ? r : rows - 1) * row;
        int16_t *dst = q16 + r * hd;
        int t = 0;
        for (; t + 8 <= hd; t += 8)
            vst1q_s16(dst + t, mvk_i8_att_neon_widen8(q + t, zv));
        for (; t < hd; t++)
            dst[t] = (int16_t)(q[t] - z);
    }
}

/* scores[r][j] for the block's 4 rows, every j < n8 (padded keys give 0; kterm: unused). */
static MVK_INLINE void mvk_i8_att_scores__neon(const void *qbuf, int hd, const void *kbuf,
                                               const int32_t *kterm, int n8, int32_t *scores)
{
    (void)kterm;
    const int16_t *kt = (const int16_t *)kbuf, *q = (const int16_t *)qbuf;
    for (int j = 0; j < n8; j += 8) {
        int32x4_t acc[8];
        for (int i = 0; i < 8; i++)
            acc[i] = vdupq_n_s32(0);
        int t = 0;
        for (; t + 4 <= hd; t += 4)
            mvk_i8_att_neon_mac4(acc, q + t, hd, kt + (int64_t)t * n8 + j, n8);
        for (; t < hd; t++) { /* the last t: lane 0 of a duplicated query value */
            const int16x8_t k = vld1q_s16(kt + (int64_t)t * n8 + j);
            for (int r = 0; r < 4; r++) {
                acc[2 * r] = vmlal_n_s16(acc[2 * r], vget_low_s16(k), q[r * hd + t]);
                acc[2 * r + 1] = vmlal_n_s16(acc[2 * r + 1], vget_high_s16(k), q[r * hd + t]);
            }
        }
        mvk_i8_att_neon_store_rows(scores + j, n8, acc);
    }
}
#endif

/* The exponent stage's constants for one call (the driver's per-ISA state). */
typedef struct {
    uint32_t dmax; /* d past this give u = 31 * 256 */
    int wide;      /* d m + 2^(s-1) can pass 2^32 below dmax: 64-bit lanes */
    uint32x4_t m32, rnd32, dmaxv;
    int32x4_t ns32;
    uint64x2_t rnd64;
    int64x2_t ns64;
#if defined(__aarch64__)
    uint8x16x4_t lo[4], hi[4]; /* the table's low and high bytes, 64 entries per register set */
#endif
} mvk_i8_att_state__neon;

/* Multipliers m_sm <= 0 and shifts outside [1, 50] go to the scalar kernel. */
#define MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm) ((m_sm) <= 0 || (s_sm) < 1 || (s_sm) > 50)

/* For m_sm and s_sm that are not MVK_I8_ATT_SCALAR_ONLY. */
static MVK_INLINE void mvk_i8_att_state_init__neon(mvk_i8_att_state__neon *c,
                                                   const int32_t *exp2_lut, int32_t m_sm, int s_sm)
{
    const uint64_t m = (uint32_t)m_sm, rnd = (uint64_t)1 << (s_sm - 1);
    const uint64_t need = ((uint64_t)31 * 256 << s_sm) - rnd; /* s_sm <= 50: no overflow */
    const uint64_t dmax = mvk_udiv_u64(need + m - 1, m);      /* no 64-bit division call on v7 */
    c->dmax = dmax > 0xffffffffu ? 0xffffffffu : (uint32_t)dmax;
    c->wide = (uint64_t)c->dmax * m + rnd >= ((uint64_t)1 << 32);
    c->m32 = vdupq_n_u32((uint32_t)m), c->rnd32 = vdupq_n_u32((uint32_t)rnd);
    c->dmaxv = vdupq_n_u32(c->dmax), c->ns32 = vdupq_n_s32(-s_sm);
    c->rnd64 = vdupq_n_u64(rnd), c->ns64 = vdupq_n_s64(-s_sm);
#if defined(__aarch64__)
    uint8_t lo[256], hi[256];
    for (int f = 0; f < 256; f++)
        lo[f] = (uint8_t)exp2_lut[f], hi[f] = (uint8_t)(exp2_lut[f] >> 8);
    for (int i = 0; i < 4; i++)
        for (int r = 0; r < 4; r++) {
            c->lo[i].val[r] = vld1q_u8(lo + 64 * i + 16 * r);
            c->hi[i].val[r] = vld1q_u8(hi + 64 * i + 16 * r);
        }
#else
    (void)exp2_lut;
#endif
}

/* u = min(R(d, m_sm, s_sm), 31 * 256) for 4 unsigned d. */
static MVK_INLINE uint32x4_t mvk_i8_att_neon_exponent(const mvk_i8_att_state__neon *c, uint32x4_t d)
{
    const uint32x4_t dc = vminq_u32(d, c->dmaxv);
    uint32x4_t u;
    if (c->wide) {
        const uint64x2_t lo = vmlal_u32(c->rnd64, vget_low_u32(dc), vget_low_u32(c->m32));
        const uint64x2_t hi = vmlal_u32(c->rnd64, vget_high_u32(dc), vget_high_u32(c->m32));
        /* < 31 * 256 + m + 1 after the clamp: the narrows are exact */
        u = vcombine_u32(vmovn_u64(vshlq_u64(lo, c->ns64)), vmovn_u64(vshlq_u64(hi, c->ns64)));
    } else {
        u = vshlq_u32(vmlaq_u32(c->rnd32, dc, c->m32), c->ns32);
    }
    return vminq_u32(u, vdupq_n_u32(31 * 256));
}

/* e = exp2_lut[u & 255] >> (u >> 8) for 16 exponents (u < 2^13, e < 2^16). */
static MVK_INLINE void mvk_i8_att_neon_exp16(const mvk_i8_att_state__neon *c,
                                             const int32_t *exp2_lut, uint16x8_t u0, uint16x8_t u1,
                                             uint16x8_t *e0, uint16x8_t *e1)
{
#if defined(__aarch64__)
    (void)exp2_lut;
    const uint8x16_t i0 = vcombine_u8(vmovn_u16(u0), vmovn_u16(u1)); /* u & 255 */
    const uint8x16_t i1 = vsubq_u8(i0, vdupq_n_u8(64)), i2 = vsubq_u8(i0, vdupq_n_u8(128));
    const uint8x16_t i3 = vsubq_u8(i0, vdupq_n_u8(192));
    /* tbx leaves lanes whose index is past the 64 entries: each index hits one set */
    uint8x16_t lo = vqtbl4q_u8(c->lo[0], i0), hi = vqtbl4q_u8(c->hi[0], i0);
    lo = vqtbx4q_u8(lo, c->lo[1], i1), hi = vqtbx4q_u8(hi, c->hi[1], i1);
    lo = vqtbx4q_u8(lo, c->lo[2], i2), hi = vqtbx4q_u8(hi, c->hi[2], i2);
    lo = vqtbx4q_u8(lo, c->lo[3], i3), hi = vqtbx4q_u8(hi, c->hi[3], i3);
    const uint16x8_t t0 = vreinterpretq_u16_u8(vzip1q_u8(lo, hi));
    const uint16x8_t t1 = vreinterpretq_u16_u8(vzip2q_u8(lo, hi));
    /* right shifts of 16 and more give 0, as the scalar 32-bit shift of a value < 2^16 */
    *e0 = vshlq_u16(t0, vnegq_s16(vreinterpretq_s16_u16(vshrq_n_u16(u0, 8))));
    *e1 = vshlq_u16(t1, vnegq_s16(vreinterpretq_s16_u16(vshrq_n_u16(u1, 8))));
#else
    (void)c;
    uint16_t u[16], e[16];
    vst1q_u16(u, u0), vst1q_u16(u + 8, u1);
    for (int i = 0; i < 16; i++)
        e[i] = (uint16_t)(exp2_lut[u[i] & 255] >> (u[i] >> 8));
    *e0 = vld1q_u16(e), *e1 = vld1q_u16(e + 8);
#endif
}

/* 16-bit exponents of the 8 scores at sc (d = best - a). */
static MVK_INLINE uint16x8_t mvk_i8_att_neon_exponent8(const mvk_i8_att_state__neon *c,
                                                       uint32x4_t best, const int32_t *sc)
{
    const uint32x4_t d0 = vsubq_u32(best, vreinterpretq_u32_s32(vld1q_s32(sc)));
    const uint32x4_t d1 = vsubq_u32(best, vreinterpretq_u32_s32(vld1q_s32(sc + 4)));
    return vcombine_u16(vmovn_u32(mvk_i8_att_neon_exponent(c, d0)),
                        vmovn_u32(mvk_i8_att_neon_exponent(c, d1)));
}

static MVK_INLINE int32_t mvk_i8_att_neon_hmax(int32x4_t v)
{
#if defined(__aarch64__)
    return vmaxvq_s32(v);
#else
    int32x2_t m = vpmax_s32(vget_low_s32(v), vget_high_s32(v));
    m = vpmax_s32(m, m);
    return vget_lane_s32(m, 0);
#endif
}

/* e = 0 in the lanes of keys j + i >= n. */
static MVK_INLINE uint16x8_t mvk_i8_att_neon_mask_keys(uint16x8_t e, int j, int n)
{
    static const uint16_t lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const int left = n - j < 0 ? 0 : n - j;
    return vandq_u16(e, vcltq_u16(vld1q_u16(lane), vdupq_n_u16((uint16_t)(left > 8 ? 8 : left))));
}

/* One row's softmax: e_j (uint16) into p16, then the Q15 probabilities over them (0 for
 * padded keys; halved when inv = 2^32). */
static MVK_INLINE void mvk_i8_att_softmax__neon(const mvk_i8_att_state__neon *c,
                                                const int32_t *exp2_lut, int32_t *sc, int n, int n8,
                                                int16_t *p16, int *halved)
{
    uint16_t *e16 = (uint16_t *)p16;
    for (int j = n; j < n8; j++) /* out of the maximum; their e is zeroed below */
        sc[j] = INT32_MIN;
    int32x4_t mx = vdupq_n_s32(INT32_MIN);
    for (int j = 0; j < n8; j += 4)
        mx = vmaxq_s32(mx, vld1q_s32(sc + j));
    const uint32x4_t best = vdupq_n_u32((uint32_t)mvk_i8_att_neon_hmax(mx));
    uint32x4_t sum = vdupq_n_u32(0); /* lanes <= n8 / 4 2^15: no overflow for n < 2^17 */
    for (int j = 0; j < n8; j += 16) {
        const int two = j + 8 < n8;
        const uint16x8_t u0 = mvk_i8_att_neon_exponent8(c, best, sc + j);
        const uint16x8_t u1 = two ? mvk_i8_att_neon_exponent8(c, best, sc + j + 8) : u0;
        uint16x8_t e0, e1;
        mvk_i8_att_neon_exp16(c, exp2_lut, u0, u1, &e0, &e1);
        if (j + 16 > n) /* padded keys: e = 0 whatever their exponent (a tiny m_sm leaves
                           best - INT32_MIN below the clamp point) */
            e0 = mvk_i8_att_neon_mask_keys(e0, j, n), e1 = mvk_i8_att_neon_mask_keys(e1, j + 8, n);
        vst1q_u16(e16 + j, e0);
        sum = vpadalq_u16(sum, e0);
        if (two) {
            vst1q_u16(e16 + j + 8, e1);
            sum = vpadalq_u16(sum, e1);
        }
    }
    uint32_t lanes[4];
    vst1q_u32(lanes, sum);
    const uint64_t total = (uint64_t)lanes[0] + lanes[1] + lanes[2] + lanes[3];
    const uint64_t inv = mvk_udiv_u64((uint64_t)1 << 47, total);
    *halved = inv >> 32 != 0; /* inv = 2^32: p_j = e_j in {0, 2^15}, stored halved */
    const uint32x2_t iv = vdup_n_u32((uint32_t)inv);
    for (int j = 0; j < n8; j += 8) {
        const uint16x8_t e = vld1q_u16(e16 + j);
        uint16x8_t p;
        if (*halved) {
            p = vshrq_n_u16(e, 1);
        } else { /* (e inv + 2^31) >> 32, e inv < 2^47 */
            const uint32x4_t lo = vmovl_u16(vget_low_u16(e)), hi = vmovl_u16(vget_high_u16(e));
            const uint32x4_t plo = vcombine_u32(vrshrn_n_u64(vmull_u32(vget_low_u32(lo), iv), 32),
                                                vrshrn_n_u64(vmull_u32(vget_high_u32(lo), iv), 32));
            const uint32x4_t phi = vcombine_u32(vrshrn_n_u64(vmull_u32(vget_low_u32(hi), iv), 32),
                                                vrshrn_n_u64(vmull_u32(vget_high_u32(hi), iv), 32));
            p = vcombine_u16(vmovn_u32(plo), vmovn_u32(phi));
        }
        vst1q_u16(e16 + j, p);
    }
}

/* Output of the block's 4 rows for columns [t0, t0 + 8): acc[r][8] = sum_j p_rj (v_jt - z). */
#define MVK_I8_ATT_PV_COLS 8
static MVK_INLINE void mvk_i8_att_pv__neon(const int16_t *probs, int n8, const int16_t *vt, int hd8,
                                           int hd, int t0, int32_t *out)
{
    (void)hd;
    int32x4_t acc[8];
    for (int i = 0; i < 8; i++)
        acc[i] = vdupq_n_s32(0);
    for (int j = 0; j < n8; j += 4)
        mvk_i8_att_neon_mac4(acc, probs + j, n8, vt + (int64_t)j * hd8 + t0, hd8);
    mvk_i8_att_neon_store_rows(out, 8, acc);
}

#include "i8-attention-driver.h"
