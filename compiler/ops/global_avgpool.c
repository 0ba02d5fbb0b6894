/* GLOBAL_AVGPOOL: HWC -> 1x1xC, the mean over pixels (the classifier's pooling). */
#include "kernels/f32-avgpool-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_HWC)
        return mvit_op_fail_shape(g, n, d, "expects an HWC feature map");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = out->dims[1] = 1;
    out->dims[2] = a->dims[2];
    return 0;
}

static mvk_avgpool shape(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    return (mvk_avgpool){.pixels = (int64_t)a->dims[0] * a->dims[1], .c = a->dims[2]};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvk_avgpool p = shape(g, n);
    mvk_f32_avgpool__scalar(&p, b[n->inputs[0]], b[n->output]);
}

/* the sum over pixels, rescaled by 1/pixels to the output's scale */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const double pixels = (double)x->dims[0] * x->dims[1];
    return mvit_q_multiplier(c, n, x->qscale / (pixels * y->qscale), &n->q->m[0], &n->q->s[0]);
}

static void emit_shape(mvit_codegen *cg, const mvit_node *n, const char *end)
{
    const mvk_avgpool p = shape(cg->g, n);
    emit(&cg->body, "static const mvk_avgpool pool = {.pixels = %lld, .c = %d%s",
         (long long)p.pixels, p.c, end);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    emit_shape(cg, n, "};");
    cg_use_kernel(cg, "f32-avgpool-scalar.c");
    emit(&cg->body, "mvk_f32_avgpool__scalar(&pool, in0, out);");
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    emit_shape(cg, n, ",");
    emit(&cg->body, "    .zx = %d, .mult = %d, .shift = %d, .zy = %d};", a->qzero, n->q->m[0],
         n->q->s[0], o->qzero);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_avgpool__scalar(&pool, " MVIT_X0 ", " MVIT_Y ");");
}

const mvit_op_def mvit_op_global_avgpool = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
