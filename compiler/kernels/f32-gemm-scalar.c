/* out[M][N] = in[M][K] . w[K][N] + bias[N], then residual + activation: the pointwise (1x1)
 * convolutions and the linear layers. Row-at-a-time with the inner loop over N, which is
 * contiguous in both w and out. The _remap variant reads A rows through mvk_a_row (fused
 * MobileViT unfold/fold); out and residual rows are always dense. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_gemm_remap__scalar(
    const float *MVK_RESTRICT in, float *MVK_RESTRICT out, const float *MVK_RESTRICT w_io,
    const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual, int64_t m, int k, int n,
    int act, int remap, int h, int w, int ph, int pw)
{
    for (int64_t r = 0; r < m; r++) {
        const float *a = mvk_a_row(in, k, r, remap, h, w, ph, pw);
        float *o = out + r * n;
        for (int j = 0; j < n; j++)
            o[j] = bias ? bias[j] : 0.0f;
        for (int p = 0; p < k; p++) {
            const float av = a[p];
            const float *wr = w_io + (int64_t)p * n;
            for (int j = 0; j < n; j++)
                o[j] += av * wr[j];
        }
        mvk_f32_epilogue(o, residual ? residual + r * n : 0, n, act);
    }
}

static MVK_UNUSED void mvk_f32_gemm__scalar(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                                            const float *MVK_RESTRICT w_io,
                                            const float *MVK_RESTRICT bias,
                                            const float *MVK_RESTRICT residual, int64_t m, int k,
                                            int n, int act)
{
    mvk_f32_gemm_remap__scalar(in, out, w_io, bias, residual, m, k, n, act, MVK_REMAP_NONE, 1, 1,
                               1, 1);
}
