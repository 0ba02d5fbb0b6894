/* out[M][N] = in[M][K] . w[K][N] + bias[N], then residual + activation: the pointwise (1x1)
 * convolutions and the linear layers. Row-at-a-time with the inner loop over N, which is
 * contiguous in both w and out. A rows may come through an mvk_remap (fused MobileViT
 * unfold/fold; a resized row is blended into scratch, K floats); out and residual rows are
 * always dense. */
#include "mvk-prelude.h"

/* One output row: o[N] = a[K] . w[K][N] + bias, then residual + activation. */
static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_gemm_row__scalar(const float *MVK_RESTRICT a, float *MVK_RESTRICT o,
                         const float *MVK_RESTRICT w_io, const float *MVK_RESTRICT bias,
                         const float *MVK_RESTRICT res, int k, int n, int act)
{
    for (int j = 0; j < n; j++)
        o[j] = bias ? bias[j] : 0.0f;
    for (int p = 0; p < k; p++) {
        const float av = a[p];
        const float *wr = w_io + (int64_t)p * n;
        for (int j = 0; j < n; j++)
            o[j] += av * wr[j];
    }
    mvk_f32_epilogue(o, res, n, act);
}

static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_gemm_remap_loop(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                           const float *MVK_RESTRICT w_io, const float *MVK_RESTRICT bias,
                           const float *MVK_RESTRICT residual, int64_t m, int k, int n, int act,
                           const mvk_remap *rm, float *MVK_RESTRICT scratch)
{
    for (int64_t r = 0; r < m; r++)
        mvk_f32_gemm_row__scalar(mvk_f32_a_row(in, k, r, rm, k, scratch), out + r * n, w_io, bias,
                                 residual ? residual + r * n : 0, k, n, act);
}

/* LayerNorm fused into the following GEMM: each A row is normalised into scratch (K floats)
 * first; the LayerNorm's gamma and beta were folded into w and bias by the compiler. Through
 * a resizing fold, a row blends 4 normalised rows (scratch: 5 * K floats). */
static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_gemm_norm_loop(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                          const float *MVK_RESTRICT w_io, const float *MVK_RESTRICT bias,
                          const float *MVK_RESTRICT residual, int64_t m, int k, int n, int act,
                          const mvk_remap *rm, float eps, float *MVK_RESTRICT scratch)
{
    for (int64_t r = 0; r < m; r++) {
        if (mvk_remap_resizes(rm))
            MVK_F32_NORM_BLEND_ROW(mvk_f32_normalize_row, in, k, r, rm, k, eps, scratch,
                                   scratch + k);
        else
            mvk_f32_normalize_row(mvk_a_row(in, k, r, rm), scratch, k, eps);
        mvk_f32_gemm_row__scalar(scratch, out + r * n, w_io, bias, residual ? residual + r * n : 0,
                                 k, n, act);
    }
}

/* The GEMM p describes; scratch: K floats for a fused LayerNorm or a resizing remap, 5 K for
 * both, else none (NULL). */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_gemm_rows__scalar(const mvk_gemm *p, const float *MVK_RESTRICT in,
                          float *MVK_RESTRICT out, const float *MVK_RESTRICT w_io,
                          const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
                          float *MVK_RESTRICT scratch)
{
    if (p->eps > 0.0f)
        mvk_f32_gemm_norm_loop(in, out, w_io, bias, residual, p->m, p->k, p->n, p->act, p->remap,
                               p->eps, scratch);
    else
        mvk_f32_gemm_remap_loop(in, out, w_io, bias, residual, p->m, p->k, p->n, p->act, p->remap,
                                scratch);
}
