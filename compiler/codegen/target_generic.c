/* The portable target: plain C99 kernels (compiler/kernels/...-scalar.c) that any compiler
 * vectorises as it can. It defines the lowering of every op; SIMD targets override only the
 * ops they accelerate. */
#include <stdio.h>
#include <stdlib.h>

#include "codegen/codegen.h"
#include "kernels/mvk-prelude.h"

static const char *act_name(mvit_act a) { return a == MVIT_ACT_SILU ? "MVK_ACT_SILU" : "MVK_ACT_NONE"; }

/* Registers weight and bias of a conv/linear; writes their C expressions. */
static void weight_bias(mvit_codegen *cg, const mvit_node *n, char *w, char *b, size_t len)
{
    const char *layout = n->op == MVIT_OP_LINEAR ? "IO" : "HWIO";
    cg_weight_ref(cg, w, len, cg_param(cg, n->weight, n->weight_numel, "%s weight %s", n->name,
                                       layout));
    if (n->bias)
        cg_weight_ref(cg, b, len, cg_param(cg, n->bias, n->out_channels, "%s bias", n->name));
    else
        snprintf(b, len, "0");
}

/* A GEMM over in0's rows (through the node's remap and fused LayerNorm, if any). */
static void emit_gemm(mvit_codegen *cg, const mvit_node *n, int64_t m, int k, int cols,
                      const char *w, const char *b, const char *res)
{
    char rm[16];
    cg_use_kernel(cg, "f32-gemm-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    emit(&cg->body, "mvk_f32_gemm_%s__scalar(in0, out, %s, %s, %s, %lld, %d, %d, %s,",
         n->norm_rows ? "norm" : "remap", w, b, res, (long long)m, k, cols, act_name(n->act));
    if (n->norm_rows) {
        char eps[32];
        emit_float_literal(eps, sizeof eps, (float)n->eps);
        emit(&cg->body, "    %s, %s, scratch);", rm, eps);
    } else {
        emit(&cg->body, "    %s, %s);", rm, mvit_node_resizes(n) ? "scratch" : "0");
    }
}

static void emit_conv2d(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    char w[96], b[96];
    weight_bias(cg, n, w, b, sizeof w);
    const char *res = n->residual >= 0 ? "res" : "0";
    if (n->groups == a->dims[2] && n->groups == o->dims[2]) {
        cg_use_kernel(cg, "f32-dwconv-scalar.c");
        emit(&cg->body, "mvk_f32_dwconv__scalar(in0, out, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %s);",
             w, b, res, a->dims[0], a->dims[1], a->dims[2], o->dims[0], o->dims[1], n->kernel,
             n->stride, n->pad, act_name(n->act));
    } else if (n->kernel == 1 && n->stride == 1 && n->pad == 0 && n->groups == 1) {
        emit_gemm(cg, n, (int64_t)o->dims[0] * o->dims[1], a->dims[2], o->dims[2], w, b, res);
    } else if (n->num_inputs == 2) {
        cg_use_kernel(cg, "f32-conv2d-scalar.c");
        emit(&cg->body, "mvk_f32_conv2d_cat__scalar(in0, in1, out, %s, %s, %s, %d, %d, %d, %d,", w,
             b, res, a->dims[0], a->dims[1], a->dims[2], cg->g->values[n->inputs[1]].dims[2]);
        emit(&cg->body, "    %d, %d, %d, %d, %d, %d, %s);", o->dims[0], o->dims[1], o->dims[2],
             n->kernel, n->stride, n->pad, act_name(n->act));
    } else {
        cg_use_kernel(cg, "f32-conv2d-scalar.c");
        emit(&cg->body,
             "mvk_f32_conv2d__scalar(in0, out, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, "
             "%s);",
             w, b, res, a->dims[0], a->dims[1], a->dims[2], o->dims[0], o->dims[1], o->dims[2],
             n->kernel, n->stride, n->pad, n->groups, act_name(n->act));
    }
}

static void emit_linear(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char w[96], b[96];
    weight_bias(cg, n, w, b, sizeof w);
    emit_gemm(cg, n, (long long)a->dims[0] * a->dims[1], a->dims[2], n->out_channels, w, b,
              n->residual >= 0 ? "res" : "0");
}

static void emit_batchnorm(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    int c = a->dims[2];
    float *scale = mvit_xmalloc((size_t)c * sizeof *scale);
    float *shift = mvit_xmalloc((size_t)c * sizeof *shift);
    for (int i = 0; i < c; i++) {
        double s = (double)n->bn_gamma[i] * mvk_rsqrt((double)n->bn_var[i] + n->eps);
        scale[i] = (float)s;
        shift[i] = (float)(n->bn_beta[i] - n->bn_mean[i] * s);
    }
    char sc[96], sh[96];
    cg_weight_ref(cg, sc, sizeof sc, cg_param(cg, scale, c, "%s scale", n->name));
    cg_weight_ref(cg, sh, sizeof sh, cg_param(cg, shift, c, "%s shift", n->name));
    free(scale);
    free(shift);
    cg_use_kernel(cg, "f32-batchnorm-scalar.c");
    emit(&cg->body, "mvk_f32_batchnorm__scalar(in0, out, %s, %s, %lld, %d);", sc, sh,
         (long long)a->dims[0] * a->dims[1], c);
}

static void emit_silu(mvit_codegen *cg, const mvit_node *n)
{
    cg_use_kernel(cg, "f32-silu-scalar.c");
    emit(&cg->body, "mvk_f32_silu__scalar(in0, out, %lld);",
         (long long)mvit_value_numel(&cg->g->values[n->output]));
}

static void emit_add(mvit_codegen *cg, const mvit_node *n)
{
    cg_use_kernel(cg, "f32-add-scalar.c");
    emit(&cg->body, "mvk_f32_add__scalar(in0, in1, out, %lld);",
         (long long)mvit_value_numel(&cg->g->values[n->output]));
}

/* unfold and fold: a copy of rows through the node's remap */
static void emit_remap(mvit_codegen *cg, const mvit_node *n)
{
    char rm[16];
    cg_use_kernel(cg, "f32-remap-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    emit(&cg->body, "mvk_f32_remap__scalar(in0, out, %d, %s);", cg->g->values[n->output].dims[2],
         rm);
}

static void emit_layernorm(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    char gm[96], bt[96], eps[32];
    cg_weight_ref(cg, gm, sizeof gm, cg_param(cg, n->ln_gamma, a->dims[2], "%s weight", n->name));
    cg_weight_ref(cg, bt, sizeof bt, cg_param(cg, n->ln_beta, a->dims[2], "%s bias", n->name));
    emit_float_literal(eps, sizeof eps, (float)n->eps);
    cg_use_kernel(cg, "f32-layernorm-scalar.c");
    emit(&cg->body, "mvk_f32_layernorm__scalar(in0, out, %s, %s, %lld, %d, %s);", gm, bt,
         (long long)a->dims[0] * a->dims[1], a->dims[2], eps);
}

static void emit_attention(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = &cg->g->values[n->output];
    int hd = o->dims[2] / n->heads;
    char scale[32];
    emit_float_literal(scale, sizeof scale, (float)mvk_rsqrt((double)hd));
    cg_use_kernel(cg, "f32-attention-scalar.c");
    emit(&cg->body, "mvk_f32_attention__scalar(in0, out, scratch, %d, %d, %d, %d, %s);",
         o->dims[0], o->dims[1], o->dims[2], n->heads, scale);
}

static void emit_concat(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *b = &cg->g->values[n->inputs[1]];
    cg_use_kernel(cg, "f32-concat-scalar.c");
    emit(&cg->body, "mvk_f32_concat__scalar(in0, in1, out, %lld, %d, %d);",
         (long long)a->dims[0] * a->dims[1], a->dims[2], b->dims[2]);
}

static void emit_avgpool(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    cg_use_kernel(cg, "f32-avgpool-scalar.c");
    emit(&cg->body, "mvk_f32_avgpool__scalar(in0, out, %lld, %d);",
         (long long)a->dims[0] * a->dims[1], a->dims[2]);
}

static int64_t attention_scratch(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    return (int64_t)g->values[n->output].dims[1] * (int64_t)sizeof(float); /* N scores */
}

static int64_t gemm_scratch(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    /* one normalised row for a fused LayerNorm, or one blended row of a resizing remap; both:
     * also the 4 normalised source rows of the blend */
    const int64_t row = (int64_t)g->values[n->inputs[0]].dims[2] * (int64_t)sizeof(float);
    const int resizes = mvit_node_resizes(n);
    return n->norm_rows && resizes ? 5 * row : n->norm_rows || resizes ? row : 0;
}

const mvit_target mvit_target_generic = {
    .name = "generic",
    .help = "portable C99, includes only <stdint.h>/<stddef.h>; any CPU",
    .arch = "any",
    .triple = "x86_64-linux-gnu",
    .cflags = "",
    .includes = "",
    .fn_attr = "",
    .scratch = {[MVIT_OP_ATTENTION] = attention_scratch,
                [MVIT_OP_CONV2D] = gemm_scratch,
                [MVIT_OP_LINEAR] = gemm_scratch},
    .emit_node =
        {
            [MVIT_OP_CONV2D] = emit_conv2d,
            [MVIT_OP_BATCHNORM] = emit_batchnorm,
            [MVIT_OP_SILU] = emit_silu,
            [MVIT_OP_ADD] = emit_add,
            [MVIT_OP_UNFOLD] = emit_remap,
            [MVIT_OP_FOLD] = emit_remap,
            [MVIT_OP_LAYERNORM] = emit_layernorm,
            [MVIT_OP_LINEAR] = emit_linear,
            [MVIT_OP_ATTENTION] = emit_attention,
            [MVIT_OP_CONCAT] = emit_concat,
            [MVIT_OP_GLOBAL_AVGPOOL] = emit_avgpool,
        },
};
/* QUANTIZE and DEQUANTIZE exist only in int8 graphs, which lower_int8.c emits */
_Static_assert(MVIT_OP_COUNT == 13, "add the new op to mvit_target_generic");
