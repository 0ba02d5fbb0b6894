/* MobileViT v2's linear self-attention (timm LinearSelfAttention, arXiv 2206.02680) on an
 * HWC map of qkv channels [q | k | v] (1 + 2d): for each position (i, j) inside a patch, the
 * pixels at that position in every patch are one sequence (timm's N axis for that p):
 * s = softmax of their q, context = sum s k, out = relu(v) * context, d channels per pixel.
 * The softmax subtracts the sequence's max before exp; context (d floats) is the scratch. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_linear_attention__scalar(const mvk_linear_attention *p, const float *MVK_RESTRICT qkv,
                                 float *MVK_RESTRICT out, float *MVK_RESTRICT context)
{
    const int h = p->h, w = p->w, d = p->dim, ph = p->patch_h, pw = p->patch_w;
    const int64_t row = 1 + 2 * (int64_t)d;
    for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++) {
            float mx = -3.4e38f, sum = 0.0f;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const float q = qkv[((int64_t)y * w + x) * row];
                    mx = q > mx ? q : mx;
                }
            for (int c = 0; c < d; c++)
                context[c] = 0.0f;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const float *t = qkv + ((int64_t)y * w + x) * row;
                    const float e = mvk_expf(t[0] - mx);
                    sum += e;
                    for (int c = 0; c < d; c++)
                        context[c] += e * t[1 + c];
                }
            const float inv = 1.0f / sum;
            for (int c = 0; c < d; c++)
                context[c] *= inv;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const float *v = qkv + ((int64_t)y * w + x) * row + 1 + d;
                    float *o = out + ((int64_t)y * w + x) * d;
                    for (int c = 0; c < d; c++)
                        o[c] = (v[c] > 0.0f ? v[c] : 0.0f) * context[c];
                }
        }
}
