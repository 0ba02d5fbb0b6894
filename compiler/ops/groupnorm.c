/* GROUPNORM: GroupNorm with one group over an HWC map (MobileViT v2's norm, timm GroupNorm1):
 * one mean and variance for the whole map, then a per-channel affine; in int8 the integer
 * LayerNorm's arithmetic with the whole map as its row (docs/int8.md). */
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
    mvit_lower_f32_norm(cg, n, "groupnorm", "scalar", 1);
}

/* the integer statistics' bounds (docs/int8.md) hold below 2^22 values */
static int quantize(mvit_qctx *c, int idx)
{
    const mvit_node *n = &c->g->nodes[idx];
    const int64_t count = mvit_value_numel(&c->g->values[n->inputs[0]]);
    if (count >= (1 << 22))
        return mvit_q_fail(c, n, "int8 GroupNorm over 2^22 values or more", (double)count);
    return mvit_quantize_norm(c, idx, count);
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char ln[16];
    mvit_emit_i8_norm(cg, n, ln, sizeof ln);
    const char *kernel = mvit_i8_use_op_kernel(cg, "groupnorm");
    emit(&cg->body, "mvk_i8_groupnorm__%s(%s, " MVIT_X0 ", " MVIT_Y ", %lld);", kernel, ln,
         (long long)a->dims[0] * a->dims[1]);
}

const mvit_op_def mvit_op_groupnorm = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
