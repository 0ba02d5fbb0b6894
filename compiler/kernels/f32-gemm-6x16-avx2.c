/* C[M][N] = A[M][K] . B[K][N] + bias, then residual + activation, AVX2+FMA.
 * B is pre-packed in panels of 16 columns, [N/16][K][16] (zero-padded), bias padded to a
 * multiple of 16. The 6x16 microkernel keeps 12 accumulators + 2 B vectors + 1 broadcast in
 * the 16 ymm registers (XNNPACK's 6x16 "broadcast" shape); per k step 2 loads, 6 broadcasts
 * and 12 FMAs, i.e. 6 cycles at 2 FMA/cycle. Rows past mr reuse the last valid row (computed,
 * never stored), so no read goes past A. The driver walks row blocks outermost: a 6-row
 * A block stays in L1 while every panel of B (<= ~0.5 MB in MobileViT) streams from L2. */
#include "mvk-avx2.h"

/* Loads row i of C (nr columns) to continue a sum over an earlier block of K. */
static MVK_INLINE MVK_AVX2 void mvk_avx2_load_row16(const float *c, int nr, __m256 *v0, __m256 *v1)
{
    const int n0 = nr < 8 ? nr : 8, n1 = nr - n0;
    *v0 = n0 == 8 ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, mvk_avx2_mask(n0));
    *v1 = n1 == 8 ? _mm256_loadu_ps(c + 8)
                  : (n1 > 0 ? _mm256_maskload_ps(c + 8, mvk_avx2_mask(n1)) : _mm256_setzero_ps());
}

/* A rows given as 6 pointers (rows >= mr repeat a valid row): plain, gathered (unfold/fold)
 * and im2col rows all enter the same microkernel. accumulate: start from C (a later block of
 * K) instead of the bias. */
static inline MVK_UNUSED MVK_AVX2 void mvk_f32_gemm_ukernel_6x16_rows__avx2(
    int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b,
    const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2];
    const float *a3 = arow[3], *a4 = arow[4], *a5 = arow[5];
    __m256 c00 = bias ? _mm256_load_ps(bias) : _mm256_setzero_ps();
    __m256 c01 = bias ? _mm256_load_ps(bias + 8) : _mm256_setzero_ps();
    __m256 c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
    __m256 c40 = c00, c41 = c01, c50 = c00, c51 = c01;
    if (accumulate) {
        mvk_avx2_load_row16(c, nr, &c00, &c01);
        if (mr > 1)
            mvk_avx2_load_row16(c + ldc, nr, &c10, &c11);
        if (mr > 2)
            mvk_avx2_load_row16(c + 2 * ldc, nr, &c20, &c21);
        if (mr > 3)
            mvk_avx2_load_row16(c + 3 * ldc, nr, &c30, &c31);
        if (mr > 4)
            mvk_avx2_load_row16(c + 4 * ldc, nr, &c40, &c41);
        if (mr > 5)
            mvk_avx2_load_row16(c + 5 * ldc, nr, &c50, &c51);
    }
    for (int p = 0; p < k; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        b += 16;
        __m256 av = _mm256_broadcast_ss(a0 + p);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a1 + p);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a2 + p);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a3 + p);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a4 + p);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a5 + p);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    const int n0 = nr < 8 ? nr : 8, n1 = nr - n0;
#define MVK_STORE_ROW(i, v0, v1)                                                                   \
    if (mr > i) {                                                                                  \
        const float *r = res ? res + i * ldr : 0;                                                  \
        mvk_avx2_store8(c + i * ldc, v0, n0, r, act);                                              \
        mvk_avx2_store8(c + i * ldc + 8, v1, n1, r ? r + 8 : 0, act);                              \
    }
    MVK_STORE_ROW(0, c00, c01)
    MVK_STORE_ROW(1, c10, c11)
    MVK_STORE_ROW(2, c20, c21)
    MVK_STORE_ROW(3, c30, c31)
    MVK_STORE_ROW(4, c40, c41)
    MVK_STORE_ROW(5, c50, c51)
#undef MVK_STORE_ROW
}

static inline MVK_UNUSED MVK_AVX2 void
mvk_f32_gemm_ukernel_6x16__avx2(int mr, int nr, int k, const float *MVK_RESTRICT a, int64_t lda,
                                const float *MVK_RESTRICT b, const float *MVK_RESTRICT bias,
                                float *MVK_RESTRICT c, int64_t ldc, const float *MVK_RESTRICT res,
                                int64_t ldr, int act)
{
    const float *rows[6];
    for (int i = 0; i < 6; i++)
        rows[i] = a + (i < mr ? i : mr - 1) * lda;
    mvk_f32_gemm_ukernel_6x16_rows__avx2(mr, nr, k, rows, b, bias, c, ldc, res, ldr, act, 0);
}

/* (x - mean) / sqrt(var + eps) of one row of k values, AVX2; the LayerNorm fused into the
 * GEMM that reads it (gamma and beta are folded into that GEMM's weights and bias). */
static inline MVK_UNUSED MVK_AVX2 void
mvk_avx2_normalize_row(const float *MVK_RESTRICT x, float *MVK_RESTRICT y, int k, float eps)
{
    __m256 s = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= k; i += 8)
        s = _mm256_add_ps(s, _mm256_loadu_ps(x + i));
    float lanes[8], sum = 0.0f;
    _mm256_storeu_ps(lanes, s);
    for (int l = 0; l < 8; l++)
        sum += lanes[l];
    for (; i < k; i++)
        sum += x[i];
    const float mean = sum / (float)k;
    const __m256 vm = _mm256_set1_ps(mean);
    __m256 q = _mm256_setzero_ps();
    for (i = 0; i + 8 <= k; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
        q = _mm256_fmadd_ps(d, d, q);
    }
    _mm256_storeu_ps(lanes, q);
    float sq = 0.0f;
    for (int l = 0; l < 8; l++)
        sq += lanes[l];
    for (; i < k; i++)
        sq += (x[i] - mean) * (x[i] - mean);
    const float rstd = (float)mvk_rsqrt((double)(sq / (float)k) + eps);
    const __m256 vr = _mm256_set1_ps(rstd);
    for (i = 0; i + 8 <= k; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr));
    for (; i < k; i++)
        y[i] = (x[i] - mean) * rstd;
}

/* A row that is built rather than read in place, into dst (k floats): normalised when
 * eps > 0 (fused LayerNorm), blended through the remap's resize, or both (tmp: 4 * k floats,
 * the normalised source rows). */
static inline MVK_UNUSED MVK_AVX2 void
mvk_f32_build_row__avx2(const float *MVK_RESTRICT a, int64_t lda, int64_t row, const mvk_remap *rm,
                        int k, float eps, float *MVK_RESTRICT dst, float *MVK_RESTRICT tmp)
{
    if (!(eps > 0.0f))
        mvk_f32_blend_row(a, lda, row, rm, k, dst);
    else if (mvk_remap_resizes(rm))
        MVK_F32_NORM_BLEND_ROW(mvk_avx2_normalize_row, a, lda, row, rm, k, eps, dst, tmp);
    else
        mvk_avx2_normalize_row(mvk_a_row(a, lda, row, rm), dst, k, eps);
}

/* Rows [m0, m1) of C, A rows read through the remap rm (NULL for plain A); the parallel
 * drivers split M between threads. Rows are built in scratch (6 * k floats, and 4 * k more
 * when both) where they must be: normalised when eps > 0 (fused LayerNorm), blended when the
 * remap resizes. */
static MVK_UNUSED MVK_AVX2 void
mvk_f32_gemm_rows__avx2(int64_t m0, int64_t m1, int k, int n, const float *MVK_RESTRICT a,
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
                mvk_f32_build_row__avx2(a, lda, row, rm, k, eps, scratch + (int64_t)r * k,
                                        scratch + (int64_t)6 * k);
            rows[r] = scratch + (int64_t)(r < mr ? r : mr - 1) * k;
        }
        for (int p = 0; p < panels; p++) {
            const int nr = n - 16 * p < 16 ? n - 16 * p : 16;
            mvk_f32_gemm_ukernel_6x16_rows__avx2(
                mr, nr, k, rows, w_packed + (int64_t)p * k * 16, bias ? bias + 16 * p : 0,
                c + i * ldc + 16 * p, ldc, res ? res + i * ldr + 16 * p : 0, ldr, act, 0);
        }
    }
}

/* Cache-blocked variant for a B too large for L2 (chosen by the compiler's cost model): K in
 * blocks of kc and rows in blocks of mc (a multiple of 6). Within an (m, k) block the loop
 * runs panel by panel, so a [kc][16] slice of B stays in L1 while the mc x kc block of A
 * stays in L2. Partial sums live in C between k blocks: the bias enters with the first block,
 * the residual and activation with the last. */
static MVK_UNUSED MVK_AVX2 void mvk_f32_gemm_blocked_rows__avx2(
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
                mvk_f32_build_row__avx2(a, lda, i, rm, k, eps, scratch + (i - mb) * k,
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
                    mvk_f32_gemm_ukernel_6x16_rows__avx2(
                        mr, nr, kn, rows, bp, first && bias ? bias + 16 * p : 0,
                        c + i * ldc + 16 * p, ldc, last && res ? res + i * ldr + 16 * p : 0, ldr,
                        last ? act : MVK_ACT_NONE, !first);
                }
            }
        }
    }
}

static MVK_UNUSED MVK_AVX2 void
mvk_f32_gemm__avx2(int64_t m, int k, int n, const float *MVK_RESTRICT a,
                   const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                   float *MVK_RESTRICT c, const float *MVK_RESTRICT res, int act)
{
    mvk_f32_gemm_rows__avx2(0, m, k, n, a, k, w_packed, bias, c, n, res, n, act, 0, 0.0f, 0);
}

/* Column panels [p0, p1) of C for all m rows: the parallel split of a GEMM with too few rows
 * to share (the classifier, M = 1), where the weight matrix is the work. */
static MVK_UNUSED MVK_AVX2 void mvk_f32_gemm_cols__avx2(int64_t p0, int64_t p1, int64_t m, int k,
                                                        int n, const float *MVK_RESTRICT a,
                                                        const float *MVK_RESTRICT w_packed,
                                                        const float *MVK_RESTRICT bias,
                                                        float *MVK_RESTRICT c,
                                                        const float *MVK_RESTRICT res, int act)
{
    for (int64_t i = 0; i < m; i += 6) {
        const int mr = m - i < 6 ? (int)(m - i) : 6;
        for (int64_t p = p0; p < p1; p++) {
            const int nr = n - 16 * (int)p < 16 ? n - 16 * (int)p : 16;
            mvk_f32_gemm_ukernel_6x16__avx2(mr, nr, k, a + i * k, k, w_packed + p * k * 16,
                                            bias ? bias + 16 * p : 0, c + i * n + 16 * p, n,
                                            res ? res + i * n + 16 * p : 0, n, act);
        }
    }
}
