/* UNFOLD: HWC -> TOKENS [P][N][C], MobileViT's patches (timm's MobileVitBlock, ml-cvnets'
 * unfolding). A map that does not split into whole patch_h x patch_w patches is first resized
 * up to the patch grid (bilinear, align_corners=False); the mvk_remap of mvk-prelude.h does
 * both in one gather. FOLD (fold.c) is its inverse and shares the helpers here. Both are
 * data movement: int8 keeps the input's scale, and pass_fuse_patch_remap usually removes them
 * into the pointwise convs around them. */
#include <stdlib.h>

#include "kernels/f32-remap-scalar.c"
#include "ops/ops.h"

int mvit_patch_grid_fits(const mvit_node *n)
{
    return n->patch_h >= 1 && n->patch_w >= 1 && n->map_h >= 1 && n->map_w >= 1 &&
           n->grid_h % n->patch_h == 0 && n->grid_w % n->patch_w == 0 && n->grid_h >= n->map_h &&
           n->grid_h - n->map_h < n->patch_h && n->grid_w >= n->map_w &&
           n->grid_w - n->map_w < n->patch_w && n->grid_h <= MVIT_MAX_MAP &&
           n->grid_w <= MVIT_MAX_MAP;
}

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_HWC || !mvit_patch_grid_fits(n) || a->dims[0] != n->map_h ||
        a->dims[1] != n->map_w)
        return mvit_op_fail_shape(g, n, d, "feature map does not match the unfold's patch grid");
    out->layout = MVIT_LAYOUT_TOKENS;
    out->dims[0] = n->patch_h * n->patch_w;
    out->dims[1] = (n->grid_h / n->patch_h) * (n->grid_w / n->patch_w);
    out->dims[2] = a->dims[2];
    return 0;
}

void mvit_eval_remap(const mvit_graph *g, const mvit_node *n, float **b)
{
    mvk_remap *rm = mvit_node_remap(n);
    mvk_f32_remap__scalar(b[n->inputs[0]], b[n->output], g->values[n->output].dims[2], rm);
    free(rm);
}

/* a copy of rows through the node's remap */
void mvit_lower_f32_remap(mvit_codegen *cg, const mvit_node *n)
{
    char rm[16];
    cg_use_kernel(cg, "f32-remap-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    emit(&cg->body, "mvk_f32_remap__scalar(in0, out, %d, %s);", cg->g->values[n->output].dims[2],
         rm);
}

/* the same with the integer resize of docs/int8.md */
void mvit_lower_i8_remap(mvit_codegen *cg, const mvit_node *n)
{
    char rm[16];
    cg_use_kernel(cg, "i8-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    emit(&cg->body, "mvk_i8_remap__scalar(" MVIT_X0 ", " MVIT_Y ", %d, %s);",
         cg->g->values[n->output].dims[2], rm);
}

const mvit_op_def mvit_op_unfold = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = mvit_eval_remap,
    .quantize = mvit_quantize_nothing, /* data movement: keeps the input's scale */
    .keeps_qparams = 1,
    .lower_f32 = mvit_lower_f32_remap,
    .lower_i8 = mvit_lower_i8_remap,
};
