/* ATTENTION: multi-head self-attention over each patch position's tokens: qkv [P][N][3D] ->
 * [P][N][D], softmax(Q K^T / sqrt(D/heads)) V per (position, head), as timm's Attention. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/f32-attention-scalar.c"
#include "kernels/i8-attention-scratch.h"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_TOKENS || a->dims[2] % 3 || n->heads < 1 ||
        (a->dims[2] / 3) % n->heads)
        return mvit_op_fail_shape(g, n, d, "expects qkv tokens of width 3 * heads * head_dim");
    out->layout = MVIT_LAYOUT_TOKENS;
    out->dims[0] = a->dims[0];
    out->dims[1] = a->dims[1];
    out->dims[2] = a->dims[2] / 3;
    return 0;
}

/* QK^T and AV: 2 * P * N * N * D */
static int64_t macs(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *o = &g->values[n->output];
    return 2 * (int64_t)o->dims[0] * o->dims[1] * o->dims[1] * o->dims[2];
}

/* The softmax beside the two products: one exp per score, heads x tokens^2 per position. */
static void kernel_work(const mvit_graph *g, const mvit_node *n, const mvit_target *t, int int8,
                        mvit_kernel_work *w)
{
    (void)t, (void)int8;
    const mvit_value *o = &g->values[n->output];
    w->elems = (int64_t)n->heads * o->dims[0] * o->dims[1] * o->dims[1];
}

/* The node's shape as the kernels take it (the fp32 scale: hd^-1/2 rounded once). */
static mvk_attention shape(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *o = &g->values[n->output];
    return (mvk_attention){.positions = o->dims[0], .tokens = o->dims[1], .dim = o->dims[2],
                           .heads = n->heads,
                           .scale = (float)mvk_rsqrt((double)(o->dims[2] / n->heads))};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    mvk_attention p = shape(g, n);
    float *scores = mvit_xmalloc((size_t)p.tokens * sizeof(float));
    p.scale = (float)(1.0 / sqrt((double)(p.dim / p.heads))); /* as calibration always had it */
    mvk_f32_attention__scalar(&p, b[n->inputs[0]], b[n->output], scores);
    free(scores);
}

/* The softmax in base 2 on a table of 2^(-f/256), and the output's requantisation. */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const int hd = y->dims[2] / n->heads;
    mvit_qnode *q = n->q;
    for (int f = 0; f < 256; f++)
        q->exp2_lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    const double m_sm = x->qscale * x->qscale * (1.0 / log(2.0)) / sqrt((double)hd) * 256.0;
    int rc = mvit_q_multiplier(c, n, m_sm, &q->m[0], &q->s[0]);
    if (rc == 0)
        rc = mvit_q_multiplier(c, n, x->qscale / (32768.0 * y->qscale), &q->m[1], &q->s[1]);
    return rc;
}

void mvit_emit_attention(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len)
{
    const mvk_attention p = shape(cg->g, n);
    emit(&cg->body,
         "static const mvk_attention att = {.positions = %d, .tokens = %d, .dim = %d, .heads = %d,",
         p.positions, p.tokens, p.dim, p.heads);
    if (n->q) {
        const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
        char e[64];
        mvit_i8_ints(cg, CG_I32, n->q->exp2_lut, 256, e, sizeof e, "2^(-f/256) in Q15", n);
        emit(&cg->body, "    .exp2_lut = %s, .zx = %d, .m_sm = %d, .s_sm = %d,", e, a->qzero,
             n->q->m[0], n->q->s[0]);
        emit(&cg->body, "    .m_o = %d, .s_o = %d, .zy = %d};", n->q->m[1], n->q->s[1], o->qzero);
    } else {
        char scale[32];
        emit_float_literal(scale, sizeof scale, p.scale);
        emit(&cg->body, "    .scale = %s};", scale);
    }
    snprintf(expr, len, "&att");
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    char att[16];
    mvit_emit_attention(cg, n, att, sizeof att);
    cg_use_kernel(cg, "f32-attention-scalar.c");
    emit(&cg->body, "mvk_f32_attention__scalar(%s, in0, out, scratch);", att);
}

static int64_t scratch_f32(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    return (int64_t)g->values[n->output].dims[1] * (int64_t)sizeof(float); /* N scores */
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = &cg->g->values[n->output];
    char att[16];
    mvit_emit_attention(cg, n, att, sizeof att);
    const char *kernel = mvit_i8_use_op_kernel(cg, "attention");
    cg_parallel(cg, (int64_t)o->dims[0] * n->heads);
    emit(&cg->body,
         "mvk_i8_attention__%s(%s, " MVIT_X0 ", " MVIT_Y ", (int32_t *)scratch, r0, r1);", kernel,
         att);
}

static int64_t scratch_i8(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *o = &g->values[n->output];
    const int64_t tokens = o->dims[1], hd = o->dims[2] / n->heads;
    int64_t bytes;
    /* scalar: N scores and probabilities (int32), K and V of a head transposed (int16) */
    if (!strcmp(mvit_i8_op_kernel(t, "attention"), "scalar"))
        bytes = 2 * tokens * 4 + 2 * hd * tokens * 2;
    else
        bytes = MVK_I8_ATTENTION_SCRATCH_SIMD(tokens, hd);
    return (bytes + 63) / 64 * 64 * g->max_tasks;
}

const mvit_op_def mvit_op_attention = {
    .infer = infer,
    .macs = macs,
    .kernel_work = kernel_work,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .scratch_f32 = scratch_f32,
    .lower_i8 = lower_i8,
    .scratch_i8 = scratch_i8,
};
