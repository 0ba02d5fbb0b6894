/* LINEAR: rows x C_in -> rows x C_out, weight IO [C_in][C_out], bias, epilogue (residual,
 * SiLU). Its product over rows is also how every pointwise conv runs, so the GEMM helpers
 * here serve CONV2D too, including the rows read through a MobileViT unfold/fold
 * (pass_fuse_patch_remap) and rows normalised by a fused LayerNorm (pass_fuse_layernorm). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/pack.h"
#include "kernels/f32-gemm-scalar.c"
#include "ops/ops.h"
#include "passes/passes.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (n->out_channels < 1)
        return mvit_op_fail_shape(g, n, d, "invalid output width");
    out->layout = a->layout;
    out->dims[0] = a->dims[0];
    out->dims[1] = a->dims[1];
    out->dims[2] = n->out_channels;
    return 0;
}

static int64_t macs(const mvit_graph *g, const mvit_node *n)
{
    return mvit_value_numel(&g->values[n->output]) * g->values[n->inputs[0]].dims[2];
}

void mvit_gemm_shape(const mvit_graph *g, const mvit_node *n, mvk_gemm *p)
{
    const mvit_value *a = &g->values[n->inputs[0]], *o = &g->values[n->output];
    *p = (mvk_gemm){.m = (int64_t)o->dims[0] * o->dims[1], .k = a->dims[2], .n = o->dims[2],
                    .act = n->act == MVIT_ACT_SILU ? MVK_ACT_SILU : MVK_ACT_NONE,
                    .eps = n->norm_rows ? (float)n->eps : 0.0f};
}

void mvit_eval_gemm_rows(const mvit_graph *g, const mvit_node *n, float **b)
{
    mvk_gemm p;
    mvit_gemm_shape(g, n, &p);
    mvk_remap *rm = mvit_node_remap(n);
    p.remap = rm;
    float *scratch = mvit_xmalloc((size_t)5 * p.k * sizeof(float));
    mvk_f32_gemm_rows__scalar(&p, b[n->inputs[0]], b[n->output], n->weight, n->bias,
                              n->residual >= 0 ? b[n->residual] : NULL, scratch);
    free(scratch);
    free(rm);
}

// ---- int8 rule

/* Weights and biases of a conv or linear, per output channel (the weight's last dimension):
 * symmetric int8 weights, the input's zero point folded into the int32 bias. */
static int quantize_weights(mvit_qctx *c, mvit_node *n, double *sw)
{
    const int cout = n->out_channels;
    const int64_t rows = n->weight_numel / cout;
    mvit_qnode *q = n->q;
    const mvit_value *x = &c->g->values[n->inputs[0]];
    q->w = mvit_xmalloc((size_t)n->weight_numel);
    q->bias = mvit_xcalloc((size_t)cout, sizeof *q->bias);
    for (int j = 0; j < cout; j++) {
        double mx = 0;
        for (int64_t r = 0; r < rows; r++)
            mx = fmax(mx, fabs(n->weight[r * cout + j]));
        sw[j] = mx > 0 ? mx / 127.0 : 1.0;
        int64_t sumq = 0;
        for (int64_t r = 0; r < rows; r++) {
            const int8_t w = (int8_t)nearbyint(n->weight[r * cout + j] / sw[j]);
            q->w[r * cout + j] = w;
            sumq += w;
        }
        const double b = n->bias ? nearbyint(n->bias[j] / (x->qscale * sw[j])) : 0;
        const double total = b - (double)x->qzero * (double)sumq;
        if (fabs(total) > ldexp(1, 30))
            return mvit_q_fail(c, n, "bias does not fit the int32 accumulator", total);
        q->bias[j] = (int32_t)total;
    }
    return 0;
}

/* Requantisation to the output's scale; a SiLU that is the output's only reader becomes this
 * node's table epilogue. */
static int quantize_requant(mvit_qctx *c, int idx, const double *sw)
{
    mvit_graph *g = c->g;
    mvit_node *n = &g->nodes[idx];
    mvit_qnode *q = n->q;
    const mvit_value *x = &g->values[n->inputs[0]], *pre = &g->values[n->output];
    const int s = n->act == MVIT_ACT_NONE ? mvit_q_sole_silu_reader(g, n->output) : -1;
    if (s >= 0) { /* SiLU as a table in this node's epilogue */
        q->has_lut = 1;
        mvit_q_silu_lut(pre, &g->values[g->nodes[s].output], q->lut);
        n->act = MVIT_ACT_SILU;
        mvit_absorb_consumer(g, idx, s);
    }
    q->zy = pre->qzero;
    q->mult = mvit_xmalloc((size_t)n->out_channels * sizeof *q->mult);
    q->shift = mvit_xmalloc((size_t)n->out_channels * sizeof *q->shift);
    int rc = 0;
    for (int j = 0; j < n->out_channels && rc == 0; j++) {
        int32_t mm, sh;
        rc = mvit_q_multiplier(c, n, x->qscale * sw[j] / pre->qscale, &mm, &sh);
        q->mult[j] = (int16_t)mm;
        q->shift[j] = (int8_t)sh;
    }
    return rc;
}

int mvit_quantize_product(mvit_qctx *c, int idx)
{
    mvit_graph *g = c->g;
    mvit_node *n = &g->nodes[idx];
    const int cout = n->out_channels;
    const int64_t rows = n->weight_numel / cout;
    if (rows >= 131072)
        return mvit_q_fail(c, n, "reduction length of 2^17 or more would overflow int32",
                           (double)rows);
    double *sw = mvit_xcalloc((size_t)cout, sizeof *sw);
    int rc = quantize_weights(c, n, sw);
    if (rc == 0 && g->values[n->output].kind == MVIT_VALUE_OUTPUT) {
        /* the classifier: float logits, scaled per channel */
        const double sx = g->values[n->inputs[0]].qscale;
        n->q->out_scale = mvit_xmalloc((size_t)cout * sizeof *n->q->out_scale);
        for (int j = 0; j < cout; j++)
            n->q->out_scale[j] = (float)(sx * sw[j]);
    } else if (rc == 0) {
        rc = quantize_requant(c, idx, sw);
    }
    free(sw);
    return rc;
}

// ---- portable fp32 lowering

void mvit_f32_weight_bias(mvit_codegen *cg, const mvit_node *n, char *w, char *b, size_t len)
{
    const char *layout = n->op == MVIT_OP_LINEAR ? "IO" : "HWIO";
    cg_weight_ref(cg, w, len, cg_param(cg, n->weight, n->weight_numel, "%s weight %s", n->name,
                                       layout));
    if (n->bias)
        cg_weight_ref(cg, b, len, cg_param(cg, n->bias, n->out_channels, "%s bias", n->name));
    else
        snprintf(b, len, "0");
}

void mvit_lower_f32_gemm_rows(mvit_codegen *cg, const mvit_node *n)
{
    char w[96], b[96], rm[16], gemm[16];
    mvit_f32_weight_bias(cg, n, w, b, sizeof w);
    cg_use_kernel(cg, "f32-gemm-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    mvk_gemm p;
    mvit_gemm_shape(cg->g, n, &p);
    cg_gemm(cg, &p, rm, gemm, sizeof gemm);
    emit(&cg->body, "mvk_f32_gemm_rows__scalar(%s, in0, out, %s, %s, %s, %s);", gemm, w, b,
         n->residual >= 0 ? "res" : "0", n->norm_rows || mvit_node_resizes(n) ? "scratch" : "0");
}

int64_t mvit_scratch_f32_gemm_rows(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    /* one normalised row for a fused LayerNorm, or one blended row of a resizing remap; both:
     * also the 4 normalised source rows of the blend */
    const int64_t row = (int64_t)g->values[n->inputs[0]].dims[2] * (int64_t)sizeof(float);
    const int resizes = mvit_node_resizes(n);
    return n->norm_rows && resizes ? 5 * row : n->norm_rows || resizes ? row : 0;
}

// ---- int8 lowering

const char *mvit_i8_gemm_weights(mvit_codegen *cg, const mvit_node *n, int k, int cols,
                                 char *w, size_t len)
{
    const mvit_simd_isa *isa = cg->target->simd;
    cg_use_kernel(cg, "i8-scalar.c");
    if (!isa) {
        mvit_i8_ints(cg, CG_I8, n->q->w, n->weight_numel, w, len, "weight (int8, [K][N])", n);
        return "scalar";
    }
    const char *kernel = mvit_i8_op_kernel(cg->target, "gemm");
    const int panel = !strcmp(kernel, isa->i8_suffix) ? isa->i8_panel : 8;
    const int64_t count = mvit_pack_i8_b(NULL, k, cols, panel, NULL);
    int8_t *packed = mvit_xmalloc((size_t)count);
    mvit_pack_i8_b(n->q->w, k, cols, panel, packed);
    mvit_i8_ints(cg, CG_I8, packed, count, w, len,
                 panel == 16 ? "weight (int8, k in groups of 4, 16-column panels)"
                             : "weight (int8, k in groups of 4, 8-column panels)",
                 n);
    free(packed);
    char file[64];
    snprintf(file, sizeof file, "i8-gemm-%s.c", kernel);
    cg_use_kernel(cg, file);
    return kernel;
}

/* The classifier: float logits, one row. */
static void lower_i8_classifier(mvit_codegen *cg, const mvit_node *n, int64_t m, int k, int cols)
{
    char w[64], b[64], sc[64];
    const char *kernel = "scalar";
    cg_use_kernel(cg, "i8-scalar.c");
    if (strcmp(mvit_i8_op_kernel(cg->target, "gemm"), "scalar"))
        kernel = mvit_i8_gemm_weights(cg, n, k, cols, w, sizeof w); /* packed B */
    else
        mvit_i8_ints(cg, CG_I8, n->q->w, n->weight_numel, w, sizeof w, "weight (int8, IO)", n);
    mvit_i8_ints(cg, CG_I32, n->q->bias, cols, b, sizeof b, "bias (int32)", n);
    mvit_i8_floats(cg, n->q->out_scale, cols, sc, sizeof sc, "output scales", n);
    char gemm[16];
    mvit_i8_emit_gemm(cg, m, k, cols, gemm, sizeof gemm);
    emit(&cg->body, "mvk_i8_gemm_f32out__%s(%s, " MVIT_X0 ", out, %s, %s, %s);", kernel, gemm, w,
         b, sc);
}

void mvit_lower_i8_gemm_rows(mvit_codegen *cg, const mvit_node *n, int64_t m, int k, int cols)
{
    if (cg->g->values[n->output].kind == MVIT_VALUE_OUTPUT) {
        lower_i8_classifier(cg, n, m, k, cols);
        return;
    }
    char w[64], rq[8], gemm[8];
    const char *kernel = mvit_i8_gemm_weights(cg, n, k, cols, w, sizeof w);
    mvit_i8_emit_requant(cg, n, rq, sizeof rq);
    mvit_i8_emit_gemm(cg, m, k, cols, gemm, sizeof gemm);
    cg_parallel(cg, m);
    emit(&cg->body, "mvk_i8_gemm__%s(r1 - r0, %s, %s, " MVIT_X0 " + r0 * %d, " MVIT_Y " + r0 * %d,",
         kernel, gemm, rq, k, cols);
    emit(&cg->body, "    %s);", w);
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    mvit_lower_i8_gemm_rows(cg, n, (int64_t)a->dims[0] * a->dims[1], a->dims[2],
                            n->out_channels);
}

const mvit_op_def mvit_op_linear = {
    .infer = infer,
    .macs = macs,
    .eval = mvit_eval_gemm_rows,
    .quantize = mvit_quantize_product,
    .lower_f32 = mvit_lower_f32_gemm_rows,
    .scratch_f32 = mvit_scratch_f32_gemm_rows,
    .lower_i8 = lower_i8,
};
