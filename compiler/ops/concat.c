/* CONCAT: HWC a, HWC b -> HWC [a | b] along channels. fuse_concat makes most of them the
 * two inputs of the conv that reads them. */
#include <stdio.h>
#include <string.h>

#include "kernels/f32-concat-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    if (a->layout != MVIT_LAYOUT_HWC || b->layout != MVIT_LAYOUT_HWC ||
        a->dims[0] != b->dims[0] || a->dims[1] != b->dims[1])
        return mvit_op_fail_shape(g, n, d, "concat operands differ in height or width");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = a->dims[0];
    out->dims[1] = a->dims[1];
    out->dims[2] = a->dims[2] + b->dims[2];
    return 0;
}

static mvk_concat shape(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    return (mvk_concat){.pixels = (int64_t)a->dims[0] * a->dims[1], .ca = a->dims[2],
                        .cb = b->dims[2]};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvk_concat p = shape(g, n);
    mvk_f32_concat__scalar(&p, b[n->inputs[0]], b[n->inputs[1]], b[n->output]);
}

/* each input requantised to the output's scale */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *y = &c->g->values[n->output];
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = mvit_q_multiplier(c, n, c->g->values[n->inputs[i]].qscale / y->qscale, &n->q->m[i],
                               &n->q->s[i]);
    return rc;
}

static void emit_shape(mvit_codegen *cg, const mvit_node *n, const char *end)
{
    const mvk_concat p = shape(cg->g, n);
    emit(&cg->body, "static const mvk_concat cat = {.pixels = %lld, .ca = %d, .cb = %d%s",
         (long long)p.pixels, p.ca, p.cb, end);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    emit_shape(cg, n, "};");
    cg_use_kernel(cg, "f32-concat-scalar.c");
    emit(&cg->body, "mvk_f32_concat__scalar(&cat, in0, in1, out);");
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *b = &cg->g->values[n->inputs[1]],
                     *o = &cg->g->values[n->output];
    const char *kernel = mvit_i8_use_op_kernel(cg, "concat");
    emit_shape(cg, n, ",");
    emit(&cg->body, "    .za = %d, .ma = %d, .sa = %d, .zb = %d, .mb = %d, .sb = %d, .zy = %d};",
         a->qzero, n->q->m[0], n->q->s[0], b->qzero, n->q->m[1], n->q->s[1], o->qzero);
    emit(&cg->body, "mvk_i8_concat__%s(&cat, " MVIT_X0 ", " MVIT_X1 ", " MVIT_Y ");", kernel);
}

const mvit_op_def mvit_op_concat = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
