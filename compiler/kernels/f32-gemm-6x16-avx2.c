/* C[M][N] = A[M][K] . B[K][N] + bias, then residual + activation, AVX2+FMA.
 * B is pre-packed in panels of 16 columns, [N/16][K][16] (zero-padded), bias padded to a
 * multiple of 16. The 6x16 microkernel keeps 12 accumulators + 2 B vectors + 1 broadcast in
 * the 16 ymm registers (XNNPACK's 6x16 "broadcast" shape); per k step 2 loads, 6 broadcasts
 * and 12 FMAs, i.e. 6 cycles at 2 FMA/cycle. Rows past mr reuse the last valid row (computed,
 * never stored), so no read goes past A. This file is the AVX2 microkernel;
 * the drivers around it (row blocks, cache blocking, column split, fused LayerNorm rows) are
 * f32-gemm-driver.h, shared with every ISA. */
#include "mvk-avx2.h"

/* the tile: 6 rows x one 16-column panel (bstride unused) */
enum { mvk_avx2_GEMM_MR = 6, mvk_avx2_GEMM_NR = 16 }; /* MVK_GEMM_MR, MVK_GEMM_NR */

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
static inline MVK_UNUSED MVK_AVX2 void mvk_f32_gemm_ukernel_rows__avx2(
    int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b, int64_t bstride,
    const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)
{
    (void)bstride;
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

#include "f32-gemm-driver.h"
