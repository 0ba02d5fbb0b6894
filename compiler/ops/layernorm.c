/* LAYERNORM: normalises each row of C values, then a per-channel affine. fuse_layernorm
 * folds most into the GEMM that reads them (the GEMM normalises its A rows); in int8 an
 * integer kernel with the affine in Q16 of the output scale (docs/int8.md). */
#include <math.h>
#include <stdio.h>

#include "kernels/f32-layernorm-scalar.c"
#include "ops/ops.h"

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    const mvk_layernorm p = {.c = a->dims[2], .eps = (float)n->eps, .gamma = n->ln_gamma,
                             .beta = n->ln_beta};
    mvk_f32_layernorm__scalar(&p, b[n->inputs[0]], b[n->output],
                              (int64_t)a->dims[0] * a->dims[1]);
}

int mvit_quantize_norm(mvit_qctx *c, int idx, int64_t count)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const int ch = x->dims[2];
    mvit_qnode *q = n->q;
    q->ln_g = mvit_xmalloc((size_t)ch * sizeof *q->ln_g);
    q->ln_b = mvit_xmalloc((size_t)ch * sizeof *q->ln_b);
    q->ln_channels = 1;
    for (int i = 0; i < ch; i++)
        if (n->ln_gamma[i] != n->ln_gamma[0] || n->ln_beta[i] != n->ln_beta[0])
            q->ln_channels = ch;
    for (int i = 0; i < q->ln_channels; i++) {
        const double gq = nearbyint(n->ln_gamma[i] / y->qscale * 65536.0);
        const double bq = nearbyint(n->ln_beta[i] / y->qscale * 65536.0);
        if (fabs(gq) >= ldexp(1, 31) || fabs(bq) >= ldexp(1, 31))
            return mvit_q_fail(c, n, "LayerNorm affine too large for the output scale",
                               fmax(fabs(n->ln_gamma[i]), fabs(n->ln_beta[i])) / y->qscale);
        q->ln_g[i] = (int32_t)gq;
        q->ln_b[i] = (int32_t)bq;
    }
    const double e = nearbyint((double)count * count * n->eps / (x->qscale * x->qscale));
    q->ln_eps = e > ldexp(1, 60) ? (int64_t)1 << 60 : (int64_t)e;
    return 0;
}

static int quantize(mvit_qctx *c, int idx)
{
    return mvit_quantize_norm(c, idx, c->g->values[c->g->nodes[idx].inputs[0]].dims[2]);
}

/* gamma 1 and beta 0 everywhere: the affine was folded into the next layer */
static int affine_is_identity(const mvit_node *n, int c)
{
    for (int i = 0; i < c; i++)
        if (n->ln_gamma[i] != 1.0f || n->ln_beta[i] != 0.0f)
            return 0;
    return 1;
}

void mvit_lower_f32_norm(mvit_codegen *cg, const mvit_node *n, const char *kind, const char *isa,
                         int drop_identity)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char gm[96] = "0", bt[96] = "0", eps[32], file[48];
    if (!drop_identity || !affine_is_identity(n, a->dims[2])) {
        cg_weight_ref(cg, gm, sizeof gm,
                      cg_param(cg, n->ln_gamma, a->dims[2], "%s weight", n->name));
        cg_weight_ref(cg, bt, sizeof bt, cg_param(cg, n->ln_beta, a->dims[2], "%s bias", n->name));
    }
    emit_float_literal(eps, sizeof eps, (float)n->eps);
    snprintf(file, sizeof file, "f32-%s-%s.c", kind, isa);
    cg_use_kernel(cg, file);
    emit(&cg->body, "static const mvk_layernorm ln = {.c = %d, .eps = %s, .gamma = %s,",
         a->dims[2], eps, gm);
    emit(&cg->body, "    .beta = %s};", bt);
    emit(&cg->body, "mvk_f32_%s__%s(&ln, in0, out, %lld);", kind, isa,
         (long long)a->dims[0] * a->dims[1]);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    mvit_lower_f32_norm(cg, n, "layernorm", "scalar", 0);
}

void mvit_emit_i8_norm(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    char gm[64], bt[64];
    mvit_i8_ints(cg, CG_I32, n->q->ln_g, n->q->ln_channels, gm, sizeof gm,
                 "gamma (Q16 of the output scale)", n);
    mvit_i8_ints(cg, CG_I32, n->q->ln_b, n->q->ln_channels, bt, sizeof bt,
                 "beta (Q16 of the output scale)", n);
    emit(&cg->body, "static const mvk_layernorm ln = {.c = %d, .gamma_q = %s, .beta_q = %s,",
         a->dims[2], gm, bt);
    emit(&cg->body, "    .per_channel = %d, .eps_q = INT64_C(%lld), .zy = %d};",
         n->q->ln_channels > 1, (long long)n->q->ln_eps, o->qzero);
    snprintf(expr, len, "&ln");
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char ln[16];
    mvit_emit_i8_norm(cg, n, ln, sizeof ln);
    const char *kernel = mvit_i8_use_op_kernel(cg, "layernorm");
    cg_parallel(cg, (int64_t)a->dims[0] * a->dims[1]);
    emit(&cg->body, "mvk_i8_layernorm__%s(%s, " MVIT_X0 ", " MVIT_Y ", r0, r1);", kernel, ln);
}

const mvit_op_def mvit_op_layernorm = {
    .infer = mvit_infer_same,
    .macs = mvit_no_macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .lower_i8 = lower_i8,
};
