/* LINEAR_ATTENTION: MobileViT v2's separable self-attention (timm LinearSelfAttention) between
 * its qkv and out_proj 1x1 convs, on the HWC map itself: timm's unfold to [d][P][N] only
 * groups the pixels that share a position inside their patch, so no copy is needed. qkv
 * [H][W][1 + 2d] -> [H][W][d]. In int8 the attention's base-2 integer softmax (docs/int8.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/f32-linear-attention-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_HWC || a->dims[2] < 3 || a->dims[2] % 2 == 0)
        return mvit_op_fail_shape(g, n, d, "expects an HWC map of 1 + 2d channels");
    if (n->patch_h < 1 || n->patch_w < 1 || a->dims[0] % n->patch_h || a->dims[1] % n->patch_w)
        return mvit_op_fail_shape(g, n, d, "the map must split into whole patches");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = a->dims[0];
    out->dims[1] = a->dims[1];
    out->dims[2] = (a->dims[2] - 1) / 2;
    return 0;
}

/* the weighted key sum and the value products: 2 per pixel and channel */
static int64_t macs(const mvit_graph *g, const mvit_node *n)
{
    return 2 * mvit_value_numel(&g->values[n->output]);
}

static mvk_linear_attention shape(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *o = &g->values[n->output];
    return (mvk_linear_attention){.h = o->dims[0], .w = o->dims[1], .dim = o->dims[2],
                                  .patch_h = n->patch_h, .patch_w = n->patch_w};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvk_linear_attention p = shape(g, n);
    float *context = mvit_xmalloc((size_t)p.dim * sizeof(float));
    mvk_f32_linear_attention__scalar(&p, b[n->inputs[0]], b[n->output], context);
    free(context);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    const mvk_linear_attention p = shape(cg->g, n);
    cg_use_kernel(cg, "f32-linear-attention-scalar.c");
    emit(&cg->body,
         "static const mvk_linear_attention att = {.h = %d, .w = %d, .dim = %d, .patch_h = %d, "
         ".patch_w = %d};",
         p.h, p.w, p.dim, p.patch_h, p.patch_w);
    emit(&cg->body, "mvk_f32_linear_attention__scalar(&att, in0, out, scratch);");
}

static int64_t scratch_f32(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    return (int64_t)g->values[n->output].dims[2] * (int64_t)sizeof(float); /* the context */
}

/* The softmax in base 2 on a table of 2^(-f/256) (as the attention's), and the output's
 * requantisation of max(v - zx, 0) * context, context in Q15 of sx. */
static int quantize(mvit_qctx *c, int idx)
{
    mvit_node *n = &c->g->nodes[idx];
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    mvit_qnode *q = n->q;
    for (int f = 0; f < 256; f++)
        q->exp2_lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    int rc = mvit_q_multiplier(c, n, x->qscale / log(2.0) * 256.0, &q->m[0], &q->s[0]);
    if (rc == 0)
        rc = mvit_q_multiplier(c, n, x->qscale * x->qscale / (32768.0 * y->qscale), &q->m[1],
                               &q->s[1]);
    return rc;
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvk_linear_attention p = shape(cg->g, n);
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    char e[64];
    mvit_i8_ints(cg, CG_I32, n->q->exp2_lut, 256, e, sizeof e, "2^(-f/256) in Q15", n);
    const char *kernel = mvit_i8_use_op_kernel(cg, "linear-attention");
    emit(&cg->body,
         "static const mvk_linear_attention att = {.h = %d, .w = %d, .dim = %d, .patch_h = %d, "
         ".patch_w = %d,",
         p.h, p.w, p.dim, p.patch_h, p.patch_w);
    emit(&cg->body, "    .exp2_lut = %s, .zx = %d, .m_sm = %d, .s_sm = %d, .m_o = %d, .s_o = %d,",
         e, a->qzero, n->q->m[0], n->q->s[0], n->q->m[1], n->q->s[1]);
    emit(&cg->body, "    .zy = %d};", o->qzero);
    emit(&cg->body, "mvk_i8_linear_attention__%s(&att, " MVIT_X0 ", " MVIT_Y
                    ", (int32_t *)scratch);", kernel);
}

static int64_t scratch_i8(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    return (int64_t)g->values[n->output].dims[2] * (int64_t)sizeof(int32_t); /* the context */
}

const mvit_op_def mvit_op_linear_attention = {
    .infer = infer,
    .macs = macs,
    .eval = eval,
    .quantize = quantize,
    .lower_f32 = lower_f32,
    .scratch_f32 = scratch_f32,
    .lower_i8 = lower_i8,
    .scratch_i8 = scratch_i8,
};
