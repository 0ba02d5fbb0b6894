/* SILU: x * sigmoid(x), elementwise. fuse_activation makes most of them a conv's or
 * linear's epilogue; in int8 a table of 256 entries, fused into its producer when it can be. */
#include "kernels/f32-silu-scalar.c"
#include "ops/ops.h"

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    mvk_f32_silu__scalar(b[n->inputs[0]], b[n->output], mvit_value_numel(&g->values[n->output]));
}

static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    n->q->has_lut = 1;
    mvit_q_silu_lut(&c->g->values[n->inputs[0]], &c->g->values[n->output], n->q->lut);
    return 0;
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    cg_use_kernel(cg, "f32-silu-scalar.c");
    emit(&cg->body, "mvk_f32_silu__scalar(in0, out, %lld);",
         (long long)mvit_value_numel(&cg->g->values[n->output]));
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    char l[64];
    mvit_i8_ints(cg, CG_I8, n->q->lut, 256, l, sizeof l, "SiLU table", n);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_lut__scalar(" MVIT_X0 ", " MVIT_Y ", %s, %lld);", l,
         (long long)mvit_value_numel(&cg->g->values[n->output]));
}

const mvit_op_def mvit_op_silu = {
    .infer = mvit_infer_same,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
