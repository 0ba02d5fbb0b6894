/* The integer bilinear resize with align_corners=True of MobileViT v2's block input, on every
 * target: each output pixel blends its four source pixels with the Q11 taps the compiler
 * computed (mvk_i8_blend4, the unfold's resize arithmetic; docs/int8.md), so the output keeps
 * the input's scale and zero point. */
#include "mvk-prelude.h"
/* needs: i8-scalar.c (mvk_i8_blend4) */

static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_resize__scalar(const mvk_resize *p,
                                                           const int8_t *MVK_RESTRICT in,
                                                           int8_t *MVK_RESTRICT out)
{
    const int c = p->c, in_w = p->in_w;
    for (int y = 0; y < p->out_h; y++) {
        const mvk_lerp *ly = &p->ty[y];
        const int8_t *r0 = in + (int64_t)ly->i0 * in_w * c, *r1 = in + (int64_t)ly->i1 * in_w * c;
        for (int x = 0; x < p->out_w; x++) {
            const mvk_lerp *lx = &p->tx[x];
            mvk_i8_blend4(r0 + (int64_t)lx->i0 * c, r0 + (int64_t)lx->i1 * c,
                          r1 + (int64_t)lx->i0 * c, r1 + (int64_t)lx->i1 * c,
                          out + ((int64_t)y * p->out_w + x) * c, c, ly, lx);
        }
    }
}
