/* LayerNorm over each row of C values: y = (x - mean) / sqrt(var + eps) * gamma + beta, with
 * the biased variance (as torch.nn.LayerNorm). Mean and variance accumulate in double, two
 * passes, so the result does not depend on the magnitude of the row's mean. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_layernorm__scalar(const mvk_layernorm *p,
                                                               const float *MVK_RESTRICT in,
                                                               float *MVK_RESTRICT out,
                                                               int64_t rows)
{
    const float *MVK_RESTRICT gamma = p->gamma, *MVK_RESTRICT beta = p->beta;
    const int c = p->c;
    const float eps = p->eps;
    for (int64_t r = 0; r < rows; r++) {
        float *y = out + r * c;
        mvk_f32_normalize_row(in + r * c, y, c, eps);
        for (int i = 0; i < c; i++)
            y[i] = y[i] * gamma[i] + beta[i];
    }
}
