/* INT8 GEMM, ARM NEON (AArch64 and ARMv7 with NEON): c[M][N] = requant(bias + a[M][K] .
 * b[K][N]) with the optional LUT, bit for bit as mvk_i8_gemm__scalar (docs/int8.md). B is
 * packed by mvit_pack_i8_b (codegen/pack.h) with groups of 4:
 * [ceil(N/8)][ceil(K/4)][8][4] int8, a column's 4 consecutive k values side by side.
 * With __ARM_FEATURE_DOTPROD (ARMv8.2-A dot product: Cortex-A55/A75 and later, Apple A13 and
 * later; compile with -march=armv8.2-a+dotprod or newer) sdot multiplies 4 int8 pairs and adds
 * them to an int32 lane in one instruction: the 16 bytes of 4 columns against the same 4 bytes
 * of a row of A, broadcast by lane (vdotq_lane_s32). Without it, vld4_s8 splits a group into
 * b[k..k+3][0..7], vmovl_s8 widens each to int16, and vmlal_n_s16 (smlal by scalar)
 * accumulates a[k] * b[k][j] into int32 lanes. Both are exact, so both give the scalar bytes.
 * Tile: 4 rows x 8 columns, 8 accumulators (fits ARMv7's 16 q registers). Rows past mr reuse
 * the last valid row (computed, never stored); columns past nr are computed on the zero padding
 * of B and never stored; k values past K are 0 in A (built so, never read) and in B. No access
 * goes past a row of A or C. Rows go in blocks of MVK_I8_GEMM_ROWS, every column panel per
 * block (A's block is re-read from cache, not from memory, per panel), and the SiLU table
 * (when there is one) runs over each finished block of C. The loops are i8-gemm-driver.h,
 * shared with every ISA; this file holds the NEON microkernels it calls.
 * Requantisation: vmull_s32 (exact 64-bit product), + 2^(S-1) (|a*M| < 2^62: no overflow),
 * vshlq_s64 by -S (an arithmetic, i.e. floor, shift: the same value as the scalar 2^62-offset
 * form), vqmovn_s64 to int32 (saturating; the result only matters clamped to int8), + zy with
 * saturation, then saturating narrows to int16 and int8 = clamp(..., -128, 127). */
#include <arm_neon.h>

#include "mvk-neon.h"

/* Per-panel constants: bias, multiplier and -S as int64 pairs (low and high 4 lanes). */
typedef struct {
    int32x4_t bias0, bias1, m0, m1;
    int64x2_t ns0, ns1, ns2, ns3, rnd0, rnd1, rnd2, rnd3;
} mvk_i8_neon_rq;

static MVK_INLINE void mvk_i8_neon_rq_init(mvk_i8_neon_rq *q, const int32_t *bias,
                                           const int16_t *mult, const int8_t *shift, int nr)
{
    int32_t bb[8], mm[8];
    int64_t ns[8], rnd[8];
    for (int j = 0; j < 8; j++) { /* lanes past nr: harmless values, never stored */
        const int s = j < nr ? shift[j] : 1;
        bb[j] = j < nr && bias ? bias[j] : 0;
        mm[j] = j < nr ? mult[j] : 1 << 30;
        ns[j] = -s;
        rnd[j] = (int64_t)1 << (s - 1);
    }
    q->bias0 = vld1q_s32(bb), q->bias1 = vld1q_s32(bb + 4);
    q->m0 = vld1q_s32(mm), q->m1 = vld1q_s32(mm + 4);
    q->ns0 = vld1q_s64(ns), q->ns1 = vld1q_s64(ns + 2);
    q->ns2 = vld1q_s64(ns + 4), q->ns3 = vld1q_s64(ns + 6);
    q->rnd0 = vld1q_s64(rnd), q->rnd1 = vld1q_s64(rnd + 2);
    q->rnd2 = vld1q_s64(rnd + 4), q->rnd3 = vld1q_s64(rnd + 6);
}

/* R of 4 accumulators, saturated to int32. */
static MVK_INLINE int32x4_t mvk_i8_neon_r4(int32x4_t acc, int32x4_t m, int64x2_t rlo, int64x2_t rhi,
                                           int64x2_t nslo, int64x2_t nshi)
{
    const int64x2_t plo = vaddq_s64(vmull_s32(vget_low_s32(acc), vget_low_s32(m)), rlo);
    const int64x2_t phi = vaddq_s64(vmull_s32(vget_high_s32(acc), vget_high_s32(m)), rhi);
    return vcombine_s32(vqmovn_s64(vshlq_s64(plo, nslo)), vqmovn_s64(vshlq_s64(phi, nshi)));
}

/* Requantise 8 accumulators (two int32x4), add zy, saturate to int8, store the first nr. */
static MVK_INLINE void mvk_i8_neon_store8(int8_t *c, int32x4_t acc0, int32x4_t acc1,
                                          const mvk_i8_neon_rq *q, int32x4_t zy, int nr)
{
    const int32x4_t y0 =
        vqaddq_s32(mvk_i8_neon_r4(acc0, q->m0, q->rnd0, q->rnd1, q->ns0, q->ns1), zy);
    const int32x4_t y1 =
        vqaddq_s32(mvk_i8_neon_r4(acc1, q->m1, q->rnd2, q->rnd3, q->ns2, q->ns3), zy);
    const int8x8_t y8 = vqmovn_s16(vcombine_s16(vqmovn_s32(y0), vqmovn_s32(y1)));
    if (nr >= 8) {
        vst1_s8(c, y8);
        return;
    }
    int8_t t[8];
    vst1_s8(t, y8);
    for (int j = 0; j < nr; j++)
        c[j] = t[j];
}

/* p[i] = lut[p[i] + 128] for len bytes: the SiLU table over a finished block of output, once
 * per block rather than per tile, so the table is loaded once. AArch64: the 256 bytes as 4 sets
 * of 4 registers (64 entries each), 16 bytes per step by tbl and 3 tbx (an index past a set's
 * 64 entries leaves the lane as it is, so each byte takes its value from exactly one set);
 * ARMv7 (no 4-register tbl over q registers): one byte at a time. */
static MVK_INLINE void mvk_i8_neon_lut_span(int8_t *p, int64_t len, const int8_t *lut)
{
    int64_t i = 0;
#if defined(__aarch64__)
    uint8x16x4_t t0, t1, t2, t3;
    for (int r = 0; r < 4; r++) {
        t0.val[r] = vld1q_u8((const uint8_t *)lut + 16 * r);
        t1.val[r] = vld1q_u8((const uint8_t *)lut + 64 + 16 * r);
        t2.val[r] = vld1q_u8((const uint8_t *)lut + 128 + 16 * r);
        t3.val[r] = vld1q_u8((const uint8_t *)lut + 192 + 16 * r);
    }
    const uint8x16_t bias = vdupq_n_u8(128), step = vdupq_n_u8(64);
    for (; i + 16 <= len; i += 16) {
        const uint8x16_t x0 = veorq_u8(vld1q_u8((const uint8_t *)p + i), bias); /* p + 128 */
        const uint8x16_t x1 = vsubq_u8(x0, step), x2 = vsubq_u8(x1, step);
        uint8x16_t y = vqtbl4q_u8(t0, x0);
        y = vqtbx4q_u8(y, t1, x1);
        y = vqtbx4q_u8(y, t2, x2);
        y = vqtbx4q_u8(y, t3, vsubq_u8(x2, step));
        vst1q_u8((uint8_t *)p + i, y);
    }
#endif
    for (; i < len; i++)
        p[i] = lut[p[i] + 128];
}

/* a[p..p+3] of one row as the 4 bytes of a 32-bit lane, 0 past k (read byte by byte: no
 * access past the row, no alignment assumed) */
static MVK_INLINE uint32_t mvk_i8_neon_quad(const int8_t *a, int p, int k)
{
    uint32_t w = 0;
    for (int i = 3; i >= 0; i--)
        w = w << 8 | (p + i < k ? (uint8_t)a[p + i] : 0u);
    return w;
}

#if defined(__ARM_FEATURE_DOTPROD)
/* sdot: 4 columns x (4 k values of b) . (the same 4 values of a row), per int32 lane */
#define MVK_I8_NEON_DOT(i, lo, hi, av, lane)                                                       \
    c##i##0 = vdotq_lane_s32(c##i##0, lo, av, lane);                                               \
    c##i##1 = vdotq_lane_s32(c##i##1, hi, av, lane);
#define MVK_I8_NEON_QUAD(i)                                                                        \
    {                                                                                              \
        const int8x8_t x = vreinterpret_s8_u32(vdup_n_u32(mvk_i8_neon_quad(a##i, p, k)));          \
        MVK_I8_NEON_DOT(i, b0, b1, x, 0)                                                           \
    }
#else
/* smlal by scalar: a[p + t] times the widened b[p + t][0..7], t = 0..3 */
#define MVK_I8_NEON_MLA(i, t)                                                                      \
    c##i##0 = vmlal_n_s16(c##i##0, vget_low_s16(bw##t), x##t);                                     \
    c##i##1 = vmlal_n_s16(c##i##1, vget_high_s16(bw##t), x##t);
#define MVK_I8_NEON_QUAD(i)                                                                        \
    {                                                                                              \
        const uint32_t w = mvk_i8_neon_quad(a##i, p, k);                                           \
        const int16_t x0 = (int8_t)w, x1 = (int8_t)(w >> 8), x2 = (int8_t)(w >> 16),               \
                      x3 = (int8_t)(w >> 24);                                                      \
        MVK_I8_NEON_MLA(i, 0) MVK_I8_NEON_MLA(i, 1) MVK_I8_NEON_MLA(i, 2) MVK_I8_NEON_MLA(i, 3)    \
    }
#define MVK_I8_NEON_GROUP(i)                                                                       \
    {                                                                                              \
        const int16_t x0 = a##i[p], x1 = a##i[p + 1], x2 = a##i[p + 2], x3 = a##i[p + 3];          \
        MVK_I8_NEON_MLA(i, 0) MVK_I8_NEON_MLA(i, 1) MVK_I8_NEON_MLA(i, 2) MVK_I8_NEON_MLA(i, 3)    \
    }
#endif
/* The accumulators of one 4x8 tile, bias + rows arow[0..3] . the 8 columns of panel b, into
 * acc[2r] (columns 0-3 of row r) and acc[2r + 1] (columns 4-7). */
static MVK_INLINE void mvk_i8_neon_tile_acc(int k, const int8_t *const *arow, const int8_t *b,
                                            int32x4_t bias0, int32x4_t bias1, int32x4_t *acc)
{
    const int8_t *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3];
    int32x4_t c00 = bias0, c01 = bias1, c10 = c00, c11 = c01;
    int32x4_t c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    int p = 0;
#if defined(__ARM_FEATURE_DOTPROD)
    /* 8 k values per pass: one 8-byte load per row feeds two sdot lanes */
    for (; p + 8 <= k; p += 8, b += 64) {
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
        const int8x16_t b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
        const int8x8_t x0 = vld1_s8(a0 + p), x1 = vld1_s8(a1 + p);
        const int8x8_t x2 = vld1_s8(a2 + p), x3 = vld1_s8(a3 + p);
        MVK_I8_NEON_DOT(0, b0, b1, x0, 0)
        MVK_I8_NEON_DOT(1, b0, b1, x1, 0)
        MVK_I8_NEON_DOT(2, b0, b1, x2, 0)
        MVK_I8_NEON_DOT(3, b0, b1, x3, 0)
        MVK_I8_NEON_DOT(0, b2, b3, x0, 1) MVK_I8_NEON_DOT(1, b2, b3, x1, 1)
            MVK_I8_NEON_DOT(2, b2, b3, x2, 1) MVK_I8_NEON_DOT(3, b2, b3, x3, 1)
    }
    for (; p < k; p += 4, b += 32) {
        const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16);
        MVK_I8_NEON_QUAD(0) MVK_I8_NEON_QUAD(1) MVK_I8_NEON_QUAD(2) MVK_I8_NEON_QUAD(3)
    }
#else
    /* whole groups read a[p..p+3] directly; only the last, partial one goes through quad */
    for (; p < k; p += 4, b += 32) {
        const int8x8x4_t b8 = vld4_s8(b);
        const int16x8_t bw0 = vmovl_s8(b8.val[0]), bw1 = vmovl_s8(b8.val[1]);
        const int16x8_t bw2 = vmovl_s8(b8.val[2]), bw3 = vmovl_s8(b8.val[3]);
        if (p + 4 <= k) {
            MVK_I8_NEON_GROUP(0) MVK_I8_NEON_GROUP(1) MVK_I8_NEON_GROUP(2) MVK_I8_NEON_GROUP(3)
        } else {
            MVK_I8_NEON_QUAD(0) MVK_I8_NEON_QUAD(1) MVK_I8_NEON_QUAD(2) MVK_I8_NEON_QUAD(3)
        }
    }
#endif
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}
#undef MVK_I8_NEON_DOT
#undef MVK_I8_NEON_MLA
#undef MVK_I8_NEON_QUAD
#undef MVK_I8_NEON_GROUP

/* Rows per block: A's block (MVK_I8_GEMM_ROWS x k bytes) stays in a 32 KiB L1 across the
 * column tiles for k up to about 1000 (in L2 beyond), and the SiLU table runs over the
 * block's output while it is in L1. So one column group (the whole width), and each tile's
 * constants set up per block. */
#define MVK_I8_GEMM_ROWS 32
#define MVK_I8_GEMM_TILE_ROWS 4
#define MVK_I8_GEMM_TILE_COLS 8
#define MVK_I8_GEMM_NC(n) (n)

typedef struct {
    int32x4_t zyv;
} mvk_i8_gemm_state__neon;

typedef struct {
    char none; /* no stack buffers: the tiles read A and B as they are */
} mvk_i8_gemm_work__neon;

static MVK_INLINE void mvk_i8_gemm_init__neon(mvk_i8_gemm_state__neon *st, int32_t zy,
                                              const int8_t *lut)
{
    (void)lut; /* loaded per block by mvk_i8_neon_lut_span */
    st->zyv = vdupq_n_s32(zy);
}

static MVK_INLINE void mvk_i8_gemm_group__neon(mvk_i8_gemm_work__neon *wk, const int32_t *bias,
                                               const int16_t *mult, const int8_t *shift,
                                               const int8_t *bp, int64_t panel, int j0, int nc,
                                               int n, int k)
{
    (void)wk, (void)bias, (void)mult, (void)shift, (void)bp, (void)panel, (void)j0, (void)nc;
    (void)n, (void)k; /* constants per column tile */
}

static MVK_INLINE void mvk_i8_gemm_prep__neon(mvk_i8_gemm_work__neon *wk,
                                              const int8_t *const *arow, int mr, int k)
{
    (void)wk, (void)arow, (void)mr, (void)k;
}

typedef struct {
    mvk_i8_neon_rq q;
    const int8_t *b;
} mvk_i8_gemm_cols__neon;

static MVK_INLINE void mvk_i8_gemm_cols_init__neon(mvk_i8_gemm_cols__neon *cl,
                                                   const mvk_i8_gemm_work__neon *wk,
                                                   const int32_t *bias, const int16_t *mult,
                                                   const int8_t *shift, const int8_t *b,
                                                   int64_t panel, int j, int jj, int nr)
{
    (void)wk, (void)panel, (void)jj;
    mvk_i8_neon_rq_init(&cl->q, bias ? bias + j : 0, mult + j, shift + j, nr);
    cl->b = b;
}

/* One 4x8 tile: rows arow[0..3] (mr valid), the 8 columns of the panel (nr valid). */
static MVK_INLINE void mvk_i8_gemm_tile__neon(const mvk_i8_gemm_state__neon *st,
                                              mvk_i8_gemm_work__neon *wk,
                                              const mvk_i8_gemm_cols__neon *cl,
                                              const int8_t *const *arow, int mr, int k, int8_t *c,
                                              int64_t ldc, int nr)
{
    (void)wk;
    int32x4_t acc[8];
    mvk_i8_neon_tile_acc(k, arow, cl->b, cl->q.bias0, cl->q.bias1, acc);
    for (int r = 0; r < mr; r++)
        mvk_i8_neon_store8(c + r * ldc, acc[2 * r], acc[2 * r + 1], &cl->q, st->zyv, nr);
}

static MVK_INLINE void mvk_i8_gemm_lut__neon(const mvk_i8_gemm_state__neon *st, int8_t *y,
                                             int64_t len, const int8_t *lut)
{
    (void)st;
    mvk_i8_neon_lut_span(y, len, lut);
}

typedef struct {
    int32x4_t bias0, bias1;
    const int8_t *b;
    const float *scale;
} mvk_i8_gemm_f32cols__neon;

static MVK_INLINE void mvk_i8_gemm_f32cols_init__neon(mvk_i8_gemm_f32cols__neon *fc,
                                                      const int8_t *b, int64_t panel,
                                                      const int32_t *bias, const float *scale,
                                                      int nr, int k)
{
    (void)panel, (void)k;
    int32_t bb[8];
    for (int t = 0; t < 8; t++)
        bb[t] = t < nr ? bias[t] : 0;
    fc->bias0 = vld1q_s32(bb), fc->bias1 = vld1q_s32(bb + 4);
    fc->b = b;
    fc->scale = scale;
}

/* The sums by the GEMM's tile, then the scalar conversion and product per value (so ARMv7,
 * whose NEON float multiply flushes subnormals, rounds as the portable kernel does). */
static MVK_INLINE void mvk_i8_gemm_f32tile__neon(mvk_i8_gemm_work__neon *wk,
                                                 const mvk_i8_gemm_f32cols__neon *fc,
                                                 const int8_t *const *arow, int mr, int k,
                                                 float *c, int64_t ldc, int nr)
{
    (void)wk;
    int32x4_t acc[8];
    mvk_i8_neon_tile_acc(k, arow, fc->b, fc->bias0, fc->bias1, acc);
    for (int r = 0; r < mr; r++) {
        int32_t sums[8];
        vst1q_s32(sums, acc[2 * r]);
        vst1q_s32(sums + 4, acc[2 * r + 1]);
        for (int t = 0; t < nr; t++)
            c[r * ldc + t] = (float)sums[t] * fc->scale[t];
    }
}

#include "i8-gemm-driver.h"
