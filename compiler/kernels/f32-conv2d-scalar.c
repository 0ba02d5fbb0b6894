/* General 2-D convolution, NHWC activations, HWIO weights [k][k][C_in/groups][C_out], square
 * kernel, symmetric zero padding, bias, fused residual + activation epilogue. Used for the
 * stem and the MobileViT 3x3 convs. Accumulates straight into the output pixel so that it
 * needs no scratch; the inner loop runs over output channels (contiguous in w and out).
 * With a second input (p->in_c_b > 0) it reads the channel concatenation of two maps, in
 * (in_c) then in_b (in_c_b), which is how the MobileViT fusion conv consumes [shortcut |
 * conv_proj] without the concat being copied (groups must be 1 then). */
#include "mvk-prelude.h"

static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_conv2d_groups_loop(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                              const float *MVK_RESTRICT w_hwio, const float *MVK_RESTRICT bias,
                              const float *MVK_RESTRICT residual, int h, int w, int cin, int oh,
                              int ow, int cout, int k, int stride, int pad, int groups, int act)
{
    const int ig = mvk_idiv(cin, groups), og = mvk_idiv(cout, groups);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((int64_t)oy * ow + ox) * cout;
            for (int c = 0; c < cout; c++)
                o[c] = bias ? bias[c] : 0.0f;
            for (int ky = 0; ky < k; ky++) {
                const int iy = oy * stride - pad + ky;
                if (iy < 0 || iy >= h)
                    continue;
                for (int kx = 0; kx < k; kx++) {
                    const int ix = ox * stride - pad + kx;
                    if (ix < 0 || ix >= w)
                        continue;
                    const float *x = in + ((int64_t)iy * w + ix) * cin;
                    const float *wt = w_hwio + ((int64_t)ky * k + kx) * ig * cout;
                    for (int g = 0; g < groups; g++) {
                        for (int ic = 0; ic < ig; ic++) {
                            const float xv = x[g * ig + ic];
                            const float *wr = wt + (int64_t)ic * cout + g * og;
                            float *og_out = o + g * og;
                            for (int oc = 0; oc < og; oc++)
                                og_out[oc] += xv * wr[oc];
                        }
                    }
                }
            }
            mvk_f32_epilogue(o, residual ? residual + ((int64_t)oy * ow + ox) * cout : 0, cout,
                             act);
        }
    }
}

static inline MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_conv2d_cat_loop(const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
                           float *MVK_RESTRICT out, const float *MVK_RESTRICT w_hwio,
                           const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
                           int h, int w, int cin, int cin_b, int oh, int ow, int cout, int k,
                           int stride, int pad, int act)
{
    const int ci = cin + cin_b;
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((int64_t)oy * ow + ox) * cout;
            for (int c = 0; c < cout; c++)
                o[c] = bias ? bias[c] : 0.0f;
            for (int ky = 0; ky < k; ky++) {
                const int iy = oy * stride - pad + ky;
                if (iy < 0 || iy >= h)
                    continue;
                for (int kx = 0; kx < k; kx++) {
                    const int ix = ox * stride - pad + kx;
                    if (ix < 0 || ix >= w)
                        continue;
                    const int64_t pix = (int64_t)iy * w + ix;
                    const float *wt = w_hwio + ((int64_t)ky * k + kx) * ci * cout;
                    for (int ic = 0; ic < ci; ic++) {
                        const float xv =
                            ic < cin ? in[pix * cin + ic] : in_b[pix * cin_b + ic - cin];
                        const float *wr = wt + (int64_t)ic * cout;
                        for (int oc = 0; oc < cout; oc++)
                            o[oc] += xv * wr[oc];
                    }
                }
            }
            mvk_f32_epilogue(o, residual ? residual + ((int64_t)oy * ow + ox) * cout : 0, cout,
                             act);
        }
    }
}

/* The convolution p describes: over [in | in_b] when p->in_c_b > 0 (groups 1), else over in
 * with p->groups groups. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_conv2d__scalar(const mvk_conv2d *p, const float *MVK_RESTRICT in,
                       const float *MVK_RESTRICT in_b, float *MVK_RESTRICT out,
                       const float *MVK_RESTRICT w_hwio, const float *MVK_RESTRICT bias,
                       const float *MVK_RESTRICT residual)
{
    if (p->in_c_b > 0)
        mvk_f32_conv2d_cat_loop(in, in_b, out, w_hwio, bias, residual, p->in_h, p->in_w,
                                   p->in_c, p->in_c_b, p->out_h, p->out_w, p->out_c, p->kernel,
                                   p->stride, p->pad, p->act);
    else
        mvk_f32_conv2d_groups_loop(in, out, w_hwio, bias, residual, p->in_h, p->in_w, p->in_c,
                                      p->out_h, p->out_w, p->out_c, p->kernel, p->stride, p->pad,
                                      p->groups, p->act);
}
