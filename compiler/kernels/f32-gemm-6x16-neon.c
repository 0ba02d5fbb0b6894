/* C[M][N] = A[M][K] . B[K][N] + bias, then residual + activation, ARM NEON (FMA).
 * B is pre-packed exactly as for AVX2: panels of 16 columns, [N/16][K][16] (zero-padded), bias
 * padded to a multiple of 16. The external tile is 6 rows x one 16-column panel on both ISAs;
 * inside, AArch64 keeps 24 accumulators + 4 B vectors + 1 broadcast of A in its 32 q
 * registers (per k step 4 B loads, 6 broadcast loads, 24 FMAs), while ARMv7 (16 q registers,
 * and no by-lane form of VFMA) runs each 8-column half of the panel as a 4x8 and a 2x8 tile
 * (8 accumulators + 2 B + 4 broadcasts at most). Rows past mr reuse the last valid row
 * (computed, never stored), so no read goes past A; column tails use lane loads/stores, so no
 * access goes past C or the residual. The drivers mirror the AVX2 ones. */
#include "mvk-neon.h"

#if defined(__aarch64__)
/* Row i of the 6x16 tile: the 4 accumulators of columns 0..15. */
#define MVK_NEON_ROW_LOAD(i)                                                                       \
    if (mr > i) {                                                                                  \
        c##i##0 = mvk_neon_load4(c + i * ldc, nr);                                                 \
        c##i##1 = mvk_neon_load4(c + i * ldc + 4, nr - 4);                                         \
        c##i##2 = mvk_neon_load4(c + i * ldc + 8, nr - 8);                                         \
        c##i##3 = mvk_neon_load4(c + i * ldc + 12, nr - 12);                                       \
    }
#define MVK_NEON_ROW_FMA(i)                                                                        \
    {                                                                                              \
        const float32x4_t av = vld1q_dup_f32(a##i + p);                                            \
        c##i##0 = vfmaq_f32(c##i##0, b0, av);                                                      \
        c##i##1 = vfmaq_f32(c##i##1, b1, av);                                                      \
        c##i##2 = vfmaq_f32(c##i##2, b2, av);                                                      \
        c##i##3 = vfmaq_f32(c##i##3, b3, av);                                                      \
    }
#define MVK_NEON_ROW_STORE(i)                                                                      \
    if (mr > i) {                                                                                  \
        const float *r = res ? res + i * ldr : 0;                                                  \
        float *ci = c + i * ldc;                                                                   \
        mvk_neon_store4(ci, c##i##0, nr, r, act);                                                  \
        mvk_neon_store4(ci + 4, c##i##1, nr - 4, r ? r + 4 : 0, act);                              \
        mvk_neon_store4(ci + 8, c##i##2, nr - 8, r ? r + 8 : 0, act);                              \
        mvk_neon_store4(ci + 12, c##i##3, nr - 12, r ? r + 12 : 0, act);                           \
    }

static MVK_INLINE void mvk_neon_gemm_6x16(int mr, int nr, int k, const float *const *arow,
                                          const float *MVK_RESTRICT b,
                                          const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                                          int64_t ldc, const float *MVK_RESTRICT res, int64_t ldr,
                                          int act, int accumulate)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2];
    const float *a3 = arow[3], *a4 = arow[4], *a5 = arow[5];
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t c00 = bias ? vld1q_f32(bias) : zero, c01 = bias ? vld1q_f32(bias + 4) : zero;
    float32x4_t c02 = bias ? vld1q_f32(bias + 8) : zero, c03 = bias ? vld1q_f32(bias + 12) : zero;
    float32x4_t c10 = c00, c11 = c01, c12 = c02, c13 = c03, c20 = c00, c21 = c01, c22 = c02;
    float32x4_t c23 = c03, c30 = c00, c31 = c01, c32 = c02, c33 = c03, c40 = c00, c41 = c01;
    float32x4_t c42 = c02, c43 = c03, c50 = c00, c51 = c01, c52 = c02, c53 = c03;
    if (accumulate) {
        MVK_NEON_ROW_LOAD(0)
        MVK_NEON_ROW_LOAD(1)
        MVK_NEON_ROW_LOAD(2)
        MVK_NEON_ROW_LOAD(3)
        MVK_NEON_ROW_LOAD(4)
        MVK_NEON_ROW_LOAD(5)
    }
    for (int p = 0; p < k; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        const float32x4_t b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
        b += 16;
        MVK_NEON_ROW_FMA(0)
        MVK_NEON_ROW_FMA(1)
        MVK_NEON_ROW_FMA(2)
        MVK_NEON_ROW_FMA(3)
        MVK_NEON_ROW_FMA(4)
        MVK_NEON_ROW_FMA(5)
    }
    MVK_NEON_ROW_STORE(0)
    MVK_NEON_ROW_STORE(1)
    MVK_NEON_ROW_STORE(2)
    MVK_NEON_ROW_STORE(3)
    MVK_NEON_ROW_STORE(4)
    MVK_NEON_ROW_STORE(5)
}
#else
/* Row i of an 8-column tile (half a panel; B rows 16 floats apart): 2 accumulators. */
#define MVK_NEON_ROW_LOAD(i)                                                                       \
    if (mr > i) {                                                                                  \
        c##i##0 = mvk_neon_load4(c + i * ldc, nr);                                                 \
        c##i##1 = mvk_neon_load4(c + i * ldc + 4, nr - 4);                                         \
    }
#define MVK_NEON_ROW_FMA(i)                                                                        \
    {                                                                                              \
        const float32x4_t av = vld1q_dup_f32(a##i + p);                                            \
        c##i##0 = vfmaq_f32(c##i##0, b0, av);                                                      \
        c##i##1 = vfmaq_f32(c##i##1, b1, av);                                                      \
    }
#define MVK_NEON_ROW_STORE(i)                                                                      \
    if (mr > i) {                                                                                  \
        const float *r = res ? res + i * ldr : 0;                                                  \
        mvk_neon_store4(c + i * ldc, c##i##0, nr, r, act);                                         \
        mvk_neon_store4(c + i * ldc + 4, c##i##1, nr - 4, r ? r + 4 : 0, act);                     \
    }

/* 4 rows x 8 columns: 8 accumulators + 2 B + 4 broadcasts fit the 16 q registers even when
 * the compiler hoists every broadcast load to the top of the loop (a 6x8 tile spills). */
static MVK_INLINE void mvk_neon_gemm_4x8(int mr, int nr, int k, const float *const *arow,
                                         const float *MVK_RESTRICT b,
                                         const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                                         int64_t ldc, const float *MVK_RESTRICT res, int64_t ldr,
                                         int act, int accumulate)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3];
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t c00 = bias ? vld1q_f32(bias) : zero, c01 = bias ? vld1q_f32(bias + 4) : zero;
    float32x4_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    if (accumulate) {
        MVK_NEON_ROW_LOAD(0)
        MVK_NEON_ROW_LOAD(1)
        MVK_NEON_ROW_LOAD(2)
        MVK_NEON_ROW_LOAD(3)
    }
    for (int p = 0; p < k; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        b += 16;
        MVK_NEON_ROW_FMA(0)
        MVK_NEON_ROW_FMA(1)
        MVK_NEON_ROW_FMA(2)
        MVK_NEON_ROW_FMA(3)
    }
    MVK_NEON_ROW_STORE(0)
    MVK_NEON_ROW_STORE(1)
    MVK_NEON_ROW_STORE(2)
    MVK_NEON_ROW_STORE(3)
}

/* Rows 4 and 5 of a 6-row block, so that a full block costs no padding rows. */
static MVK_INLINE void mvk_neon_gemm_2x8(int mr, int nr, int k, const float *const *arow,
                                         const float *MVK_RESTRICT b,
                                         const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                                         int64_t ldc, const float *MVK_RESTRICT res, int64_t ldr,
                                         int act, int accumulate)
{
    const float *a0 = arow[0], *a1 = arow[1];
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t c00 = bias ? vld1q_f32(bias) : zero, c01 = bias ? vld1q_f32(bias + 4) : zero;
    float32x4_t c10 = c00, c11 = c01;
    if (accumulate) {
        MVK_NEON_ROW_LOAD(0)
        MVK_NEON_ROW_LOAD(1)
    }
    for (int p = 0; p < k; p++) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        b += 16;
        MVK_NEON_ROW_FMA(0)
        MVK_NEON_ROW_FMA(1)
    }
    MVK_NEON_ROW_STORE(0)
    MVK_NEON_ROW_STORE(1)
}

/* Columns [0, nr) of an 8-column half panel, rows [0, mr) as a 4-row and a 2-row tile. */
static MVK_INLINE void mvk_neon_gemm_6x8(int mr, int nr, int k, const float *const *arow,
                                         const float *MVK_RESTRICT b,
                                         const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                                         int64_t ldc, const float *MVK_RESTRICT res, int64_t ldr,
                                         int act, int accumulate)
{
    mvk_neon_gemm_4x8(mr < 4 ? mr : 4, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    if (mr > 4)
        mvk_neon_gemm_2x8(mr - 4, nr, k, arow + 4, b, bias, c + 4 * ldc, ldc,
                          res ? res + 4 * ldr : 0, ldr, act, accumulate);
}
#endif
#undef MVK_NEON_ROW_LOAD
#undef MVK_NEON_ROW_FMA
#undef MVK_NEON_ROW_STORE

/* A rows given as 6 pointers (rows >= mr repeat a valid row): plain, gathered (unfold/fold)
 * and im2col rows all enter the same microkernel. accumulate: start from C (a later block of
 * K) instead of the bias. */
static inline MVK_UNUSED void mvk_f32_gemm_ukernel_6x16_rows__neon(
    int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b,
    const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)
{
#if defined(__aarch64__)
    mvk_neon_gemm_6x16(mr, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
#else
    mvk_neon_gemm_6x8(mr, nr < 8 ? nr : 8, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    if (nr > 8)
        mvk_neon_gemm_6x8(mr, nr - 8, k, arow, b + 8, bias ? bias + 8 : 0, c + 8, ldc,
                          res ? res + 8 : 0, ldr, act, accumulate);
#endif
}

static inline MVK_UNUSED void
mvk_f32_gemm_ukernel_6x16__neon(int mr, int nr, int k, const float *MVK_RESTRICT a, int64_t lda,
                                const float *MVK_RESTRICT b, const float *MVK_RESTRICT bias,
                                float *MVK_RESTRICT c, int64_t ldc, const float *MVK_RESTRICT res,
                                int64_t ldr, int act)
{
    const float *rows[6];
    for (int i = 0; i < 6; i++)
        rows[i] = a + (i < mr ? i : mr - 1) * lda;
    mvk_f32_gemm_ukernel_6x16_rows__neon(mr, nr, k, rows, b, bias, c, ldc, res, ldr, act, 0);
}

/* (x - mean) / sqrt(var + eps) of one row of k values (statistics in float, like the AVX2
 * kernel); the LayerNorm fused into the GEMM that reads it (gamma and beta are folded into
 * that GEMM's weights and bias). */
static inline MVK_UNUSED void mvk_neon_normalize_row(const float *MVK_RESTRICT x,
                                                     float *MVK_RESTRICT y, int k, float eps)
{
    float32x4_t s = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 4 <= k; i += 4)
        s = vaddq_f32(s, vld1q_f32(x + i));
    float sum = mvk_neon_hsum(s);
    for (; i < k; i++)
        sum += x[i];
    const float mean = sum / (float)k;
    const float32x4_t vm = vdupq_n_f32(mean);
    float32x4_t q = vdupq_n_f32(0.0f);
    for (i = 0; i + 4 <= k; i += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(x + i), vm);
        q = vfmaq_f32(q, d, d);
    }
    float sq = mvk_neon_hsum(q);
    for (; i < k; i++)
        sq += (x[i] - mean) * (x[i] - mean);
    const float rstd = (float)mvk_rsqrt((double)(sq / (float)k) + eps);
    const float32x4_t vr = vdupq_n_f32(rstd);
    for (i = 0; i + 4 <= k; i += 4)
        vst1q_f32(y + i, vmulq_f32(vsubq_f32(vld1q_f32(x + i), vm), vr));
    for (; i < k; i++)
        y[i] = (x[i] - mean) * rstd;
}

/* A row that is built rather than read in place, into dst (k floats): normalised when
 * eps > 0 (fused LayerNorm), blended through the remap's resize, or both (tmp: 4 * k floats,
 * the normalised source rows). */
static inline MVK_UNUSED void mvk_f32_build_row__neon(const float *MVK_RESTRICT a, int64_t lda,
                                                      int64_t row, const mvk_remap *rm, int k,
                                                      float eps, float *MVK_RESTRICT dst,
                                                      float *MVK_RESTRICT tmp)
{
    if (!(eps > 0.0f))
        mvk_f32_blend_row(a, lda, row, rm, k, dst);
    else if (mvk_remap_resizes(rm))
        MVK_F32_NORM_BLEND_ROW(mvk_neon_normalize_row, a, lda, row, rm, k, eps, dst, tmp);
    else
        mvk_neon_normalize_row(mvk_a_row(a, lda, row, rm), dst, k, eps);
}

/* Rows [m0, m1) of C, A rows read through the remap rm (NULL for plain A); the parallel
 * drivers split M between threads. Rows are built in scratch (6 * k floats, and 4 * k more
 * when both) where they must be: normalised when eps > 0 (fused LayerNorm), blended when the
 * remap resizes. */
static MVK_UNUSED void
mvk_f32_gemm_rows__neon(int64_t m0, int64_t m1, int k, int n, const float *MVK_RESTRICT a,
                        int64_t lda, const float *MVK_RESTRICT w_packed,
                        const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
                        const float *MVK_RESTRICT res, int64_t ldr, int act, const mvk_remap *rm,
                        float eps, float *MVK_RESTRICT scratch)
{
    const int panels = (n + 15) / 16, build = eps > 0.0f || mvk_remap_resizes(rm);
    const float *rows[6];
    for (int64_t i = m0; i < m1; i += 6) {
        const int mr = m1 - i < 6 ? (int)(m1 - i) : 6;
        for (int r = 0; r < 6; r++) {
            const int64_t row = i + (r < mr ? r : mr - 1);
            if (!build) {
                rows[r] = mvk_a_row(a, lda, row, rm);
                continue;
            }
            if (r < mr)
                mvk_f32_build_row__neon(a, lda, row, rm, k, eps, scratch + (int64_t)r * k,
                                        scratch + (int64_t)6 * k);
            rows[r] = scratch + (int64_t)(r < mr ? r : mr - 1) * k;
        }
        for (int p = 0; p < panels; p++) {
            const int nr = n - 16 * p < 16 ? n - 16 * p : 16;
            mvk_f32_gemm_ukernel_6x16_rows__neon(
                mr, nr, k, rows, w_packed + (int64_t)p * k * 16, bias ? bias + 16 * p : 0,
                c + i * ldc + 16 * p, ldc, res ? res + i * ldr + 16 * p : 0, ldr, act, 0);
        }
    }
}

/* Cache-blocked variant for a B too large for L2 (the compiler's cost model picks mc, a
 * multiple of 6, and kc): within an (m, k) block the loop runs panel by panel, so a [kc][16]
 * slice of B stays in L1 while the mc x kc block of A stays in L2. Partial sums live in C
 * between k blocks: the bias enters with the first block, the residual and activation with
 * the last. scratch (built rows): mc * k floats, (mc + 4) * k when normalised and blended. */
static MVK_UNUSED void mvk_f32_gemm_blocked_rows__neon(
    int64_t m0, int64_t m1, int k, int n, const float *MVK_RESTRICT a, int64_t lda,
    const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
    int64_t ldc, const float *MVK_RESTRICT res, int64_t ldr, int act, const mvk_remap *rm, int mc,
    int kc, float eps, float *MVK_RESTRICT scratch)
{
    const int panels = (n + 15) / 16, build = eps > 0.0f || mvk_remap_resizes(rm);
    const float *rows[6];
    for (int64_t mb = m0; mb < m1; mb += mc) {
        const int64_t me = m1 - mb < mc ? m1 : mb + mc;
        if (build) /* the whole mc x k block, built once */
            for (int64_t i = mb; i < me; i++)
                mvk_f32_build_row__neon(a, lda, i, rm, k, eps, scratch + (i - mb) * k,
                                        scratch + (int64_t)mc * k);
        for (int kb = 0; kb < k; kb += kc) {
            const int kn = k - kb < kc ? k - kb : kc;
            const int first = kb == 0, last = kb + kn == k;
            for (int p = 0; p < panels; p++) {
                const int nr = n - 16 * p < 16 ? n - 16 * p : 16;
                const float *bp = w_packed + ((int64_t)p * k + kb) * 16;
                for (int64_t i = mb; i < me; i += 6) {
                    const int mr = me - i < 6 ? (int)(me - i) : 6;
                    for (int r = 0; r < 6; r++) {
                        const int64_t row = i + (r < mr ? r : mr - 1);
                        rows[r] =
                            (build ? scratch + (row - mb) * k : mvk_a_row(a, lda, row, rm)) + kb;
                    }
                    mvk_f32_gemm_ukernel_6x16_rows__neon(
                        mr, nr, kn, rows, bp, first && bias ? bias + 16 * p : 0,
                        c + i * ldc + 16 * p, ldc, last && res ? res + i * ldr + 16 * p : 0, ldr,
                        last ? act : MVK_ACT_NONE, !first);
                }
            }
        }
    }
}

static MVK_UNUSED void mvk_f32_gemm__neon(int64_t m, int k, int n, const float *MVK_RESTRICT a,
                                          const float *MVK_RESTRICT w_packed,
                                          const float *MVK_RESTRICT bias, float *MVK_RESTRICT c,
                                          const float *MVK_RESTRICT res, int act)
{
    mvk_f32_gemm_rows__neon(0, m, k, n, a, k, w_packed, bias, c, n, res, n, act, 0, 0.0f, 0);
}

/* Column panels [p0, p1) of C for all m rows: the parallel split of a GEMM with too few rows
 * to share (the classifier, M = 1), where the weight matrix is the work. */
static MVK_UNUSED void mvk_f32_gemm_cols__neon(int64_t p0, int64_t p1, int64_t m, int k, int n,
                                               const float *MVK_RESTRICT a,
                                               const float *MVK_RESTRICT w_packed,
                                               const float *MVK_RESTRICT bias,
                                               float *MVK_RESTRICT c, const float *MVK_RESTRICT res,
                                               int act)
{
    for (int64_t i = 0; i < m; i += 6) {
        const int mr = m - i < 6 ? (int)(m - i) : 6;
        for (int64_t p = p0; p < p1; p++) {
            const int nr = n - 16 * (int)p < 16 ? n - 16 * (int)p : 16;
            mvk_f32_gemm_ukernel_6x16__neon(mr, nr, k, a + i * k, k, w_packed + p * k * 16,
                                            bias ? bias + 16 * p : 0, c + i * n + 16 * p, n,
                                            res ? res + i * n + 16 * p : 0, n, act);
        }
    }
}
