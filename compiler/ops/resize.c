/* RESIZE: bilinear, align_corners=True, HWC map_h x map_w -> grid_h x grid_w: MobileViT v2
 * resizes a block input that does not split into whole patches up to them (timm
 * MobileVitV2Block.forward), and the block's output keeps that size. No int8 form yet. */
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

const mvit_op_def mvit_op_resize = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .lower_f32 = lower_f32,
};
