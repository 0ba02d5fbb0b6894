/* RESIZE: bilinear, align_corners=True, HWC map_h x map_w -> grid_h x grid_w: MobileViT v2
 * resizes a block input that does not split into whole patches up to them (timm
 * MobileVitV2Block.forward), and the block's output keeps that size. In int8 the same taps
 * in Q11 (docs/int8.md): the output keeps the input's scale. */
#include <math.h>
#include <stdlib.h>

#include "kernels/f32-resize-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_HWC || a->dims[0] != n->map_h || a->dims[1] != n->map_w ||
        n->grid_h < 1 || n->grid_w < 1)
        return mvit_op_fail_shape(g, n, d, "expects an HWC map of the recorded size");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = n->grid_h;
    out->dims[1] = n->grid_w;
    out->dims[2] = a->dims[2];
    return 0;
}

static mvk_resize shape(const mvit_graph *g, const mvit_node *n)
{
    return (mvk_resize){.in_h = n->map_h, .in_w = n->map_w, .out_h = n->grid_h,
                        .out_w = n->grid_w, .c = g->values[n->output].dims[2]};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvk_resize p = shape(g, n);
    mvk_f32_resize__scalar(&p, b[n->inputs[0]], b[n->output]);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    const mvk_resize p = shape(cg->g, n);
    cg_use_kernel(cg, "f32-resize-scalar.c");
    emit(&cg->body,
         "static const mvk_resize rs = {.in_h = %d, .in_w = %d, .out_h = %d, .out_w = %d, "
         ".c = %d};",
         p.in_h, p.in_w, p.out_h, p.out_w, p.c);
    emit(&cg->body, "mvk_f32_resize__scalar(&rs, in0, out);");
}

/* The float kernel's taps along one axis, with their Q11 weights for int8. */
static void aligned_taps(int src, int dst, mvk_lerp *taps)
{
    for (int i = 0; i < dst; i++) {
        mvk_lerp *t = &taps[i];
        mvk_resize_tap(i, src, dst, &t->i0, &t->i1, &t->l1);
        t->l0 = 1.0f - t->l1;
        t->q1 = (int32_t)floor((double)t->l1 * 2048.0 + 0.5);
        t->q0 = 2048 - t->q1;
    }
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvk_resize p = shape(cg->g, n);
    mvk_lerp *ty = mvit_xcalloc((size_t)p.out_h + (size_t)p.out_w, sizeof *ty), *tx = ty + p.out_h;
    aligned_taps(p.in_h, p.out_h, ty);
    aligned_taps(p.in_w, p.out_w, tx);
    cg_taps(cg, "ty", ty, p.out_h);
    cg_taps(cg, "tx", tx, p.out_w);
    free(ty);
    cg_use_kernel(cg, "i8-resize-scalar.c");
    emit(&cg->body,
         "static const mvk_resize rs = {.in_h = %d, .in_w = %d, .out_h = %d, .out_w = %d, "
         ".c = %d, .ty = ty, .tx = tx};",
         p.in_h, p.in_w, p.out_h, p.out_w, p.c);
    emit(&cg->body, "mvk_i8_resize__scalar(&rs, " MVIT_X0 ", " MVIT_Y ");");
}

const mvit_op_def mvit_op_resize = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = mvit_quantize_nothing, /* a blend of its inputs: keeps the input's scale */
    .keeps_qparams = 1,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
