/* INT8 GEMM, ARM NEON (AArch64 and ARMv7 with NEON): c[M][N] = requant(bias + a[M][K] .
 * b[K][N]) with the optional LUT, bit for bit as mvk_i8_gemm__scalar (docs/int8.md). B is
 * packed by mvit_pack_i8_b (codegen/pack.h) with groups of 4:
 * [ceil(N/8)][ceil(K/4)][8][4] int8, a column's 4 consecutive k values side by side.
 * With __ARM_FEATURE_DOTPROD (ARMv8.2-A dot product: Cortex-A55/A75 and later, Apple A13 and
 * later; compile with -march=armv8.2-a+dotprod or newer) sdot multiplies 4 int8 pairs and adds
 * them to an int32 lane in one instruction: the 16 bytes of 4 columns against the same 4 bytes
 * of a row of A, broadcast by lane (vdotq_lane_s32). Without it, smull/smlal multiply int8
 * pairs into int16 lanes and sadalp folds them into int32 (mvk_i8_neon_tile_acc below). Both
 * are exact, so both give the scalar bytes. Tile: 4 rows x 8 columns (2 x 8 on ARMv7 without
 * the dot product, whose 16 q registers hold 8 pair accumulators). Rows past mr reuse
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
/* Rows per tile: 8 accumulators with sdot. */
#define MVK_I8_NEON_ROWS 4

/* sdot: 4 columns x (4 k values of b) . (the same 4 values of a row), per int32 lane */
#define MVK_I8_NEON_DOT(i, lo, hi, av, lane)                                                       \
    c##i##0 = vdotq_lane_s32(c##i##0, lo, av, lane);                                               \
    c##i##1 = vdotq_lane_s32(c##i##1, hi, av, lane);
#define MVK_I8_NEON_QUAD(i)                                                                        \
    {                                                                                              \
        const int8x8_t x = vreinterpret_s8_u32(vdup_n_u32(mvk_i8_neon_quad(a##i, p, k)));          \
        MVK_I8_NEON_DOT(i, b0, b1, x, 0)                                                           \
    }

/* The accumulators of one 4x8 tile, bias + rows arow[0..3] . the 8 columns of panel b, into
 * acc[2r] (columns 0-3 of row r) and acc[2r + 1] (columns 4-7). */
static MVK_INLINE void mvk_i8_neon_tile_acc(int k, const int8_t *const *arow, const int8_t *b,
                                            int32x4_t bias0, int32x4_t bias1, int32x4_t *acc)
{
    const int8_t *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3];
    int32x4_t c00 = bias0, c01 = bias1, c10 = c00, c11 = c01;
    int32x4_t c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    int p = 0;
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
    acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
    acc[4] = c20, acc[5] = c21, acc[6] = c30, acc[7] = c31;
}
#undef MVK_I8_NEON_DOT
#undef MVK_I8_NEON_QUAD
#else
/* Without the dot product: int8 x int8 products into int16 lanes (smull, 8 per instruction),
 * a second group's products added in the same lanes (smlal), and pairs of lanes folded into
 * the int32 accumulators (sadalp), as XNNPACK's c8 kernels do: 16 multiply-accumulates per
 * two multiplies, twice smlal-by-scalar's 4 per instruction. A lane holds a[k] b[k] +
 * a[k+4] b[k+4]; weights are in [-127, 127] (docs/int8.md), so |sum| <= 2 * 128 * 127 =
 * 32512 fits int16 exactly. Lane order in a group of 4 columns: b's bytes (column, k) against
 * a's 4 bytes repeated per column, so after sadalp lane 2c + h holds column c's pair h; a
 * pairwise add at the end leaves one lane per column. An accumulator per row and column pair
 * (4 rows x 4 pairs = 16 on AArch64's 32 q registers; ARMv7's 16 hold 2 rows). */
#if defined(__aarch64__)
#define MVK_I8_NEON_ROWS 4
#else
#define MVK_I8_NEON_ROWS 2
#endif

/* Row i's 4 column pairs (c<i>0..3) += the products of one group (columns 0-1, 2-3, 4-5, 6-7
 * of its bytes in b0..b3 against x) and of the next (e0..e3 against y). Everything in 8-byte
 * halves: a 16-byte form (smull2) lets clang rebuild the high half with ext. */
#define MVK_I8_NEON_PAIRS2(i, x, y)                                                                \
    c##i##0 = vpadalq_s16(c##i##0, vmlal_s8(vmull_s8(b0, x), e0, y));                              \
    c##i##1 = vpadalq_s16(c##i##1, vmlal_s8(vmull_s8(b1, x), e1, y));                              \
    c##i##2 = vpadalq_s16(c##i##2, vmlal_s8(vmull_s8(b2, x), e2, y));                              \
    c##i##3 = vpadalq_s16(c##i##3, vmlal_s8(vmull_s8(b3, x), e3, y));
#define MVK_I8_NEON_ROW2(i)                                                                        \
    {                                                                                              \
        const int32x2_t w = vreinterpret_s32_s8(vld1_s8(a##i + p));                               \
        MVK_I8_NEON_PAIRS2(i, vreinterpret_s8_s32(vdup_lane_s32(w, 0)),                            \
                           vreinterpret_s8_s32(vdup_lane_s32(w, 1)))                               \
    }
#define MVK_I8_NEON_ROW1(i)                                                                        \
    {                                                                                              \
        const int8x8_t x = vreinterpret_s8_u32(vdup_n_u32(mvk_i8_neon_quad(a##i, p, k)));          \
        c##i##0 = vpadalq_s16(c##i##0, vmull_s8(b0, x));                                           \
        c##i##1 = vpadalq_s16(c##i##1, vmull_s8(b1, x));                                           \
        c##i##2 = vpadalq_s16(c##i##2, vmull_s8(b2, x));                                           \
        c##i##3 = vpadalq_s16(c##i##3, vmull_s8(b3, x));                                           \
    }
#define MVK_I8_NEON_ZERO(i)                                                                        \
    int32x4_t c##i##0 = vdupq_n_s32(0), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0;
#define MVK_I8_NEON_SUMS(i)                                                                        \
    acc[2 * i] = vaddq_s32(bias0, mvk_i8_neon_padd(c##i##0, c##i##1));                             \
    acc[2 * i + 1] = vaddq_s32(bias1, mvk_i8_neon_padd(c##i##2, c##i##3));
#if MVK_I8_NEON_ROWS == 4
#define MVK_I8_NEON_EACH_ROW(m) m(0) m(1) m(2) m(3)
#else
#define MVK_I8_NEON_EACH_ROW(m) m(0) m(1)
#endif

/* [sum of lanes 0-1 of u, 2-3 of u, 0-1 of v, 2-3 of v] */
static MVK_INLINE int32x4_t mvk_i8_neon_padd(int32x4_t u, int32x4_t v)
{
#if defined(__aarch64__)
    return vpaddq_s32(u, v);
#else
    return vcombine_s32(vpadd_s32(vget_low_s32(u), vget_high_s32(u)),
                        vpadd_s32(vget_low_s32(v), vget_high_s32(v)));
#endif
}

/* The accumulators of one tile, bias + rows arow[0..ROWS) . the 8 columns of panel b, into
 * acc[2r] (columns 0-3 of row r) and acc[2r + 1] (columns 4-7). Two groups (8 k values) per
 * pass, each row's 8 bytes loaded once and split into its two quads; a last lone group, or
 * one cut short by k, goes through quad. */
static MVK_INLINE void mvk_i8_neon_tile_acc(int k, const int8_t *const *arow, const int8_t *b,
                                            int32x4_t bias0, int32x4_t bias1, int32x4_t *acc)
{
    const int8_t *a0 = arow[0], *a1 = arow[1];
#if MVK_I8_NEON_ROWS == 4
    const int8_t *a2 = arow[2], *a3 = arow[3];
#endif
    MVK_I8_NEON_EACH_ROW(MVK_I8_NEON_ZERO)
    int p = 0;
    for (; p + 8 <= k; p += 8, b += 64) {
        const int8x8_t b0 = vld1_s8(b), b1 = vld1_s8(b + 8), b2 = vld1_s8(b + 16);
        const int8x8_t b3 = vld1_s8(b + 24), e0 = vld1_s8(b + 32), e1 = vld1_s8(b + 40);
        const int8x8_t e2 = vld1_s8(b + 48), e3 = vld1_s8(b + 56);
        MVK_I8_NEON_EACH_ROW(MVK_I8_NEON_ROW2)
    }
    for (; p < k; p += 4, b += 32) {
        const int8x8_t b0 = vld1_s8(b), b1 = vld1_s8(b + 8), b2 = vld1_s8(b + 16);
        const int8x8_t b3 = vld1_s8(b + 24);
        MVK_I8_NEON_EACH_ROW(MVK_I8_NEON_ROW1)
    }
    MVK_I8_NEON_EACH_ROW(MVK_I8_NEON_SUMS)
}
#undef MVK_I8_NEON_PAIRS2
#undef MVK_I8_NEON_ROW2
#undef MVK_I8_NEON_ROW1
#undef MVK_I8_NEON_ZERO
#undef MVK_I8_NEON_SUMS
#undef MVK_I8_NEON_EACH_ROW
#endif

/* Rows per block: A's block (MVK_I8_GEMM_ROWS x k bytes) stays in a 32 KiB L1 across the
 * column tiles for k up to about 1000 (in L2 beyond), and the SiLU table runs over the
 * block's output while it is in L1. So one column group (the whole width), and each tile's
 * constants set up per block. */
#define MVK_I8_GEMM_ROWS 32
#define MVK_I8_GEMM_TILE_ROWS MVK_I8_NEON_ROWS
#define MVK_I8_GEMM_TILE_COLS 8
#define MVK_I8_GEMM_PANEL_COLS 8
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

/* One tile: rows arow[0..ROWS) (mr valid), the 8 columns of the panel (nr valid). */
static MVK_INLINE void mvk_i8_gemm_tile__neon(const mvk_i8_gemm_state__neon *st,
                                              mvk_i8_gemm_work__neon *wk,
                                              const mvk_i8_gemm_cols__neon *cl,
                                              const int8_t *const *arow, int mr, int k, int8_t *c,
                                              int64_t ldc, int nr)
{
    (void)wk;
    int32x4_t acc[2 * MVK_I8_NEON_ROWS];
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
    int32x4_t acc[2 * MVK_I8_NEON_ROWS];
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
