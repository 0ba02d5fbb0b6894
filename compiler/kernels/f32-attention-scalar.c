/* Multi-head self-attention core of a MobileViT transformer, per patch position p:
 * qkv tokens [P][N][3D] (q | k | v, each D = heads * hd, as timm's fused qkv linear) ->
 * out [P][N][D], out_h = softmax(q_h k_h^T * hd^-1/2) v_h. One query row at a time; the N
 * scores live in scratch (N floats). Softmax subtracts the row max before exp. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_attention__scalar(const mvk_attention *pa,
                                                               const float *MVK_RESTRICT qkv,
                                                               float *MVK_RESTRICT out,
                                                               float *MVK_RESTRICT scores)
{
    const int p = pa->positions, n = pa->tokens, d = pa->dim, heads = pa->heads;
    const float scale = pa->scale;
    const int hd = mvk_idiv(d, heads);
    const int64_t row = 3 * (int64_t)d;
    for (int pi = 0; pi < p; pi++) {
        const float *base = qkv + (int64_t)pi * n * row;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < n; i++) {
                const float *q = base + i * row + h * hd;
                float mx = -3.4e38f;
                for (int j = 0; j < n; j++) {
                    const float *kv = base + j * row + d + h * hd;
                    float s = 0.0f;
                    for (int t = 0; t < hd; t++)
                        s += q[t] * kv[t];
                    s *= scale;
                    scores[j] = s;
                    mx = s > mx ? s : mx;
                }
                float sum = 0.0f;
                for (int j = 0; j < n; j++) {
                    scores[j] = mvk_expf(scores[j] - mx);
                    sum += scores[j];
                }
                const float inv = 1.0f / sum;
                float *o = out + ((int64_t)pi * n + i) * d + h * hd;
                for (int t = 0; t < hd; t++)
                    o[t] = 0.0f;
                for (int j = 0; j < n; j++) {
                    const float *v = base + j * row + 2 * d + h * hd;
                    const float wj = scores[j] * inv;
                    for (int t = 0; t < hd; t++)
                        o[t] += wj * v[t];
                }
            }
        }
    }
}
