/* C[M][N] = A[M][K] . B[K][N] + bias, then residual + activation, ARM NEON (FMA).
 * B is pre-packed exactly as for AVX2: panels of 16 columns, [N/16][K][16] (zero-padded), bias
 * padded to a multiple of 16. The external tile is 6 rows x one 16-column panel on both ISAs;
 * inside, AArch64 keeps 24 accumulators + 4 B vectors + 1 broadcast of A in its 32 q
 * registers (per k step 4 B loads, 6 broadcast loads, 24 FMAs), while ARMv7 (16 q registers,
 * and no by-lane form of VFMA) runs each 8-column half of the panel as a 4x8 and a 2x8 tile
 * (8 accumulators + 2 B + 4 broadcasts at most). Rows past mr reuse the last valid row
 * (computed, never stored), so no read goes past A; column tails use lane loads/stores, so no
 * access goes past C or the residual. The drivers are
 * f32-gemm-driver.h, shared with every ISA. */
#include "mvk-neon.h"

/* the tile: 6 rows x one 16-column panel (bstride unused) */
enum { mvk_neon_GEMM_MR = 6, mvk_neon_GEMM_NR = 16 }; /* MVK_GEMM_MR, MVK_GEMM_NR */

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
static inline MVK_UNUSED void mvk_f32_gemm_ukernel_rows__neon(
    int mr, int nr, int k, const float *const *arow, const float *MVK_RESTRICT b, int64_t bstride,
    const float *MVK_RESTRICT bias, float *MVK_RESTRICT c, int64_t ldc,
    const float *MVK_RESTRICT res, int64_t ldr, int act, int accumulate)
{
    (void)bstride;
#if defined(__aarch64__)
    mvk_neon_gemm_6x16(mr, nr, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
#else
    mvk_neon_gemm_6x8(mr, nr < 8 ? nr : 8, k, arow, b, bias, c, ldc, res, ldr, act, accumulate);
    if (nr > 8)
        mvk_neon_gemm_6x8(mr, nr - 8, k, arow, b + 8, bias ? bias + 8 : 0, c + 8, ldc,
                          res ? res + 8 : 0, ldr, act, accumulate);
#endif
}

#include "f32-gemm-driver.h"
