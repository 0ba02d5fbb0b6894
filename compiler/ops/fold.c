/* FOLD: TOKENS [P][N][C] -> HWC, the inverse of UNFOLD (unfold.c): patches back into the
 * map, resized back to the map's size where the unfold resized it up to the patch grid. */
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_TOKENS || !mvit_patch_grid_fits(n) ||
        a->dims[0] != n->patch_h * n->patch_w ||
        (int64_t)(n->grid_h / n->patch_h) * (n->grid_w / n->patch_w) != a->dims[1])
        return mvit_op_fail_shape(g, n, d, "tokens do not match the folded map size");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = n->map_h;
    out->dims[1] = n->map_w;
    out->dims[2] = a->dims[2];
    return 0;
}

const mvit_op_def mvit_op_fold = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = mvit_eval_remap,
    .quantize = mvit_quantize_nothing, /* data movement: keeps the input's scale */
    .keeps_qparams = 1,
    .lower_f32 = mvit_lower_f32_remap,
    .lower_i8 = mvit_lower_i8_remap,
};
