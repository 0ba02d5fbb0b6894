/* GROUPNORM: GroupNorm with one group over an HWC map (MobileViT v2's norm, timm GroupNorm1):
 * one mean and variance for the whole map, then a per-channel affine. No int8 form yet. */
#include "kernels/f32-groupnorm-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    if (g->values[n->inputs[0]].layout != MVIT_LAYOUT_HWC)
        return mvit_op_fail_shape(g, n, d, "expects an HWC feature map");
    return mvit_infer_same(g, n, out, d);
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    const mvk_layernorm p = {.c = a->dims[2], .eps = (float)n->eps, .gamma = n->ln_gamma,
                             .beta = n->ln_beta};
    mvk_f32_groupnorm__scalar(&p, b[n->inputs[0]], b[n->output], (int64_t)a->dims[0] * a->dims[1]);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    mvit_lower_f32_norm(cg, n, "groupnorm");
}

const mvit_op_def mvit_op_groupnorm = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .lower_f32 = lower_f32,
};
