/* Depthwise 2-D convolution (groups == C_in == C_out), NHWC, weights [k][k][C], bias,
 * residual + activation epilogue. The inner loop runs over channels so it vectorises. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_dwconv__scalar(const mvk_conv2d *p, const float *MVK_RESTRICT in,
                       float *MVK_RESTRICT out, const float *MVK_RESTRICT w_hwc,
                       const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual)
{
    const int h = p->in_h, w = p->in_w, c = p->in_c, oh = p->out_h, ow = p->out_w;
    const int k = p->kernel, stride = p->stride, pad = p->pad, act = p->act;
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((int64_t)oy * ow + ox) * c;
            for (int ch = 0; ch < c; ch++)
                o[ch] = bias ? bias[ch] : 0.0f;
            for (int ky = 0; ky < k; ky++) {
                const int iy = oy * stride - pad + ky;
                if (iy < 0 || iy >= h)
                    continue;
                for (int kx = 0; kx < k; kx++) {
                    const int ix = ox * stride - pad + kx;
                    if (ix < 0 || ix >= w)
                        continue;
                    const float *x = in + ((int64_t)iy * w + ix) * c;
                    const float *wt = w_hwc + ((int64_t)ky * k + kx) * c;
                    for (int ch = 0; ch < c; ch++)
                        o[ch] += x[ch] * wt[ch];
                }
            }
            mvk_f32_epilogue(o, residual ? residual + ((int64_t)oy * ow + ox) * c : 0, c, act);
        }
    }
}
