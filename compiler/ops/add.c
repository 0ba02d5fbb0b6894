/* ADD: a + b, same shape. fuse_residual makes most of them a conv's or linear's epilogue. */
#include <math.h>
#include <string.h>

#include "kernels/f32-add-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    if (a->layout != b->layout || memcmp(a->dims, b->dims, sizeof a->dims))
        return mvit_op_fail_shape(g, n, d, "operands differ in shape");
    return mvit_infer_same(g, n, out, d);
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    mvk_f32_add__scalar(b[n->inputs[0]], b[n->inputs[1]], b[n->output],
                        mvit_value_numel(&g->values[n->output]));
}

/* Both inputs rescaled to the output's scale at one common shift. */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_graph *g = c->g;
    const mvit_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]],
                     *y = &g->values[n->output];
    const double ma = a->qscale / y->qscale, mb = b->qscale / y->qscale;
    int32_t M, S;
    int rc = mvit_q_multiplier(c, n, fmax(ma, mb), &M, &S);
    if (rc == 0)
        rc = mvit_q_multiplier_at(c, n, ma, S, &n->q->m[0]);
    if (rc == 0)
        rc = mvit_q_multiplier_at(c, n, mb, S, &n->q->m[1]);
    n->q->s[0] = S;
    return rc;
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    cg_use_kernel(cg, "f32-add-scalar.c");
    emit(&cg->body, "mvk_f32_add__scalar(in0, in1, out, %lld);",
         (long long)mvit_value_numel(&cg->g->values[n->output]));
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *b = &cg->g->values[n->inputs[1]],
                     *o = &cg->g->values[n->output];
    const char *kernel = mvit_i8_use_op_kernel(cg, "add");
    emit(&cg->body,
         "static const mvk_i8_add add = {.za = %d, .ma = %d, .zb = %d, .mb = %d, .shift = %d, "
         ".zy = %d};",
         a->qzero, n->q->m[0], b->qzero, n->q->m[1], n->q->s[0], o->qzero);
    emit(&cg->body, "mvk_i8_add__%s(&add, " MVIT_X0 ", " MVIT_X1 ", " MVIT_Y ", %lld);", kernel,
         (long long)mvit_value_numel(o));
}

const mvit_op_def mvit_op_add = {
    .infer = infer,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
