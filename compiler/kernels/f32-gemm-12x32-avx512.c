/* C[M][N] = A[M][K] . B[K][N] + bias, then residual + activation, AVX-512F.
 * B is pre-packed in panels of 16 columns, [N/16][K][16] (zero-padded), bias padded to a
 * multiple of 16, as on every ISA. The 12x32 microkernel keeps 24 zmm accumulators (two
 * panels side by side) + 2 B vectors in the 32 registers; the 12 A values of a k step enter
 * the FMAs as embedded broadcasts ({1to16} memory operands), so per k step 14 loads feed 24
 * FMAs: 12 cycles at 2 zmm FMA/cycle (Zen 4/5 full width, Ice Lake-SP, Sapphire Rapids),
 * with loads at 7 cycles well inside the two load ports. A tile of one panel (nr <= 16: the
 * last columns, and every call of the Winograd driver) runs a 12x16 loop instead of
 * multiplying zeros, and a call of at most 8 or 4 rows an 8- or 4-row loop. Rows past mr
 * reuse the last valid row (computed, never stored), so no read goes past A. The drivers around it are f32-gemm-driver.h. */
#include "mvk-avx512.h"

/* the tile: 12 rows x two 16-column panels */
enum { mvk_avx512_GEMM_MR = 12, mvk_avx512_GEMM_NR = 32 }; /* MVK_GEMM_MR, MVK_GEMM_NR */

/* Row lists of the tile heights: a call with mr <= 4 (8) rows runs a 4-row (8-row) loop
 * instead of 12 rows of which most are repeats (a tail block, attention on 16 tokens, the
 * classifier's one row). */
#define MVK_AVX512_R4(X) X(0) X(1) X(2) X(3)
#define MVK_AVX512_R8(X) MVK_AVX512_R4(X) X(4) X(5) X(6) X(7)
#define MVK_AVX512_R12(X) MVK_AVX512_R8(X) X(8) X(9) X(10) X(11)

/* One panel's accumulator of row i at the start: C (accumulate, first n lanes) or the bias. */
static MVK_INLINE MVK_AVX512 __m512 mvk_avx512_gemm_acc0(const float *c, int n, __m512 start,
                                                         int accumulate)
{
    return accumulate ? _mm512_maskz_loadu_ps(mvk_avx512_mask(n), c) : start;
}

/* Two panels, two accumulators per row; ROWS the row list. */
#define MVK_DECL2(i)                                                                           \
    const float *a##i = arow[i];                                                               \
    __m512 c##i##a = mvk_avx512_gemm_acc0(c + i * ldc, mr > i ? n0 : 0, s0, accumulate);       \
    __m512 c##i##b = mvk_avx512_gemm_acc0(c + i * ldc + 16, mr > i ? n1 : 0, s1, accumulate);
#define MVK_STEP2(i)                                                                           \
    {                                                                                          \
        const __m512 av = _mm512_set1_ps(a##i[p]);                                             \
        c##i##a = _mm512_fmadd_ps(av, b0v, c##i##a);                                           \
        c##i##b = _mm512_fmadd_ps(av, b1v, c##i##b);                                           \
    }
#define MVK_STORE2(i)                                                                          \
    if (mr > i) {                                                                              \
        const float *r = res ? res + i * ldr : 0;                                              \
        mvk_avx512_store16(c + i * ldc, c##i##a, n0, r, act);                                  \
        mvk_avx512_store16(c + i * ldc + 16, c##i##b, n1, r ? r + 16 : 0, act);                \
    }
#define MVK_AVX512_GEMM_2P(name, ROWS)                                                         \
    static MVK_INLINE MVK_AVX512 void name(                                                    \
        int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b,          \
        int64_t bstride, const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,   \
        const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)                   \
    {                                                                                          \
        const int n0 = nr < 16 ? nr : 16, n1 = nr - n0;                                        \
        const __m512 s0 = bias ? _mm512_load_ps(bias) : _mm512_setzero_ps();                  \
        const __m512 s1 = bias ? _mm512_maskz_loadu_ps(mvk_avx512_mask(n1), bias + 16)        \
                               : _mm512_setzero_ps();                                          \
        ROWS(MVK_DECL2)                                                                        \
        const float *b1 = b + bstride;                                                         \
        for (int p = 0; p < k; p++) {                                                          \
            const __m512 b0v = _mm512_load_ps(b + 16 * (int64_t)p);                            \
            const __m512 b1v = _mm512_load_ps(b1 + 16 * (int64_t)p);                           \
            ROWS(MVK_STEP2)                                                                    \
        }                                                                                      \
        ROWS(MVK_STORE2)                                                                       \
    }
MVK_AVX512_GEMM_2P(mvk_avx512_gemm_12x32, MVK_AVX512_R12)
MVK_AVX512_GEMM_2P(mvk_avx512_gemm_8x32, MVK_AVX512_R8)
MVK_AVX512_GEMM_2P(mvk_avx512_gemm_4x32, MVK_AVX512_R4)

/* One panel, one accumulator per row. */
#define MVK_DECL1(i)                                                                           \
    const float *a##i = arow[i];                                                               \
    __m512 c##i = mvk_avx512_gemm_acc0(c + i * ldc, mr > i ? nr : 0, s0, accumulate);
#define MVK_STEP1(i) c##i = _mm512_fmadd_ps(_mm512_set1_ps(a##i[p]), bv, c##i);
#define MVK_STORE1(i)                                                                          \
    if (mr > i)                                                                                \
        mvk_avx512_store16(c + i * ldc, c##i, nr, res ? res + i * ldr : 0, act);
#define MVK_AVX512_GEMM_1P(name, ROWS)                                                         \
    static MVK_INLINE MVK_AVX512 void name(                                                    \
        int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b,          \
        const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,                    \
        const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)                   \
    {                                                                                          \
        const __m512 s0 = bias ? _mm512_load_ps(bias) : _mm512_setzero_ps();                  \
        ROWS(MVK_DECL1)                                                                        \
        for (int p = 0; p < k; p++) {                                                          \
            const __m512 bv = _mm512_load_ps(b + 16 * (int64_t)p);                             \
            ROWS(MVK_STEP1)                                                                    \
        }                                                                                      \
        ROWS(MVK_STORE1)                                                                       \
    }
MVK_AVX512_GEMM_1P(mvk_avx512_gemm_12x16, MVK_AVX512_R12)
MVK_AVX512_GEMM_1P(mvk_avx512_gemm_8x16, MVK_AVX512_R8)
MVK_AVX512_GEMM_1P(mvk_avx512_gemm_4x16, MVK_AVX512_R4)

/* A rows given as 12 pointers (rows >= mr repeat a valid row); the tile's second panel at
 * b + bstride. accumulate: start from C (a later block of K) instead of the bias. */
static inline MVK_UNUSED MVK_AVX512 void mvk_f32_gemm_ukernel_rows__avx512(
    int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b, int64_t bstride,
    const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)
{
    if (nr > 16) {
        if (mr > 8)
            mvk_avx512_gemm_12x32(mr, nr, k, arow, b, bstride, bias, c, ldc, res, ldr, act,
                                  accumulate);
        else if (mr > 4)
            mvk_avx512_gemm_8x32(mr, nr, k, arow, b, bstride, bias, c, ldc, res, ldr, act,
                                 accumulate);
        else
            mvk_avx512_gemm_4x32(mr, nr, k, arow, b, bstride, bias, c, ldc, res, ldr, act,
                                 accumulate);
    } else if (mr > 8) {
        mvk_avx512_gemm_12x16(mr, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    } else if (mr > 4) {
        mvk_avx512_gemm_8x16(mr, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    } else {
        mvk_avx512_gemm_4x16(mr, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    }
}

#undef MVK_DECL2
#undef MVK_STEP2
#undef MVK_STORE2
#undef MVK_AVX512_GEMM_2P
#undef MVK_DECL1
#undef MVK_STEP1
#undef MVK_STORE1
#undef MVK_AVX512_GEMM_1P
#undef MVK_AVX512_R4
#undef MVK_AVX512_R8
#undef MVK_AVX512_R12

#include "f32-gemm-driver.h"
