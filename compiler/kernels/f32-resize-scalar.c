/* Bilinear resize of an HWC map with align_corners=True, as PyTorch's upsample_bilinear2d:
 * output pixel y reads source row y * (in_h - 1) / (out_h - 1) (0 for a 1-pixel output),
 * blended from its floor and the next row (the last row alone at the edge); columns alike.
 * MobileViT v2 resizes a block's input this way up to whole patches. */
#include "mvk-prelude.h"

/* The source index and weight of the next one for output index o. */
static MVK_INLINE void mvk_resize_tap(int o, int in, int out, int *i0, int *i1, float *l1)
{
    const float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    const float src = scale * (float)o;
    *i0 = (int)src; /* src >= 0: truncation is the floor */
    *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
    *l1 = src - (float)*i0;
}

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_resize__scalar(const mvk_resize *p,
                                                            const float *MVK_RESTRICT in,
                                                            float *MVK_RESTRICT out)
{
    const int c = p->c;
    for (int y = 0; y < p->out_h; y++) {
        int y0, y1, x0, x1;
        float ly, lx;
        mvk_resize_tap(y, p->in_h, p->out_h, &y0, &y1, &ly);
        for (int x = 0; x < p->out_w; x++) {
            mvk_resize_tap(x, p->in_w, p->out_w, &x0, &x1, &lx);
            const float *a = in + ((int64_t)y0 * p->in_w + x0) * c;
            const float *b = in + ((int64_t)y0 * p->in_w + x1) * c;
            const float *e = in + ((int64_t)y1 * p->in_w + x0) * c;
            const float *f = in + ((int64_t)y1 * p->in_w + x1) * c;
            float *o = out + ((int64_t)y * p->out_w + x) * c;
            for (int ch = 0; ch < c; ch++)
                o[ch] = (1.0f - ly) * ((1.0f - lx) * a[ch] + lx * b[ch]) +
                        ly * ((1.0f - lx) * e[ch] + lx * f[ch]);
        }
    }
}
