/* CONV2D: HWC -> HWC, square kernel, stride, symmetric zero padding, groups; weight HWIO
 * [k][k][C_in/groups][C_out], bias, epilogue (residual, SiLU). After pass_fuse_concat it may
 * read two inputs, their channel concatenation; after pass_fuse_patch_remap a pointwise conv
 * may read its rows through an unfold/fold, and after pass_fuse_layernorm normalise them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/pack.h"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "ops/ops.h"

static int infer(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    if (a->layout != MVIT_LAYOUT_HWC)
        return mvit_op_fail_shape(g, n, d, "expects an HWC feature map");
    if (n->kernel < 1 || n->stride < 1 || n->groups < 1 || n->pad < 0 || n->out_channels < 1)
        return mvit_op_fail_shape(g, n, d, "invalid kernel, stride, padding, groups or channels");
    if (a->dims[2] % n->groups || n->out_channels % n->groups)
        return mvit_op_fail_shape(g, n, d, "channels not divisible by groups");
    int32_t oh = (a->dims[0] + 2 * n->pad - n->kernel) / n->stride + 1;
    int32_t ow = (a->dims[1] + 2 * n->pad - n->kernel) / n->stride + 1;
    if (oh < 1 || ow < 1)
        return mvit_op_fail_shape(g, n, d, "kernel larger than the padded input");
    out->layout = MVIT_LAYOUT_HWC;
    out->dims[0] = oh;
    out->dims[1] = ow;
    out->dims[2] = n->out_channels;
    return 0;
}

static int64_t macs(const mvit_graph *g, const mvit_node *n)
{
    return mvit_value_numel(&g->values[n->output]) * n->kernel * n->kernel *
           (mvit_node_in_channels(g, n) / n->groups);
}

int mvit_conv_is_pointwise(const mvit_node *n)
{
    return n->kernel == 1 && n->stride == 1 && n->pad == 0 && n->groups == 1 &&
           n->num_inputs == 1;
}

/* 3x3, stride 1, pad 1 dense convs take Winograd F(4x4, 3x3) where the target has it: 4x
 * fewer multiplies, for transforms that cost O(channels) per tile instead of O(channels^2).
 * The price is 4x the weights (36 instead of 9 per channel pair), streamed once per block of
 * tiles; below 16 tiles (a 16x16 output map) that traffic eats the saving and the bigger
 * binary buys nothing, and below 8 input channels the transforms are not paid back. */
static int pays_for_winograd(const mvit_graph *g, const mvit_node *n)
{
    if (g->layout_ref) { /* decided once for every resolution: one copy of the weights */
        const mvit_graph *ref = g->layout_ref;
        n = &ref->nodes[n - g->nodes];
        g = ref;
    }
    const mvit_value *o = &g->values[n->output];
    const int64_t tiles = (int64_t)((o->dims[0] + 3) / 4) * ((o->dims[1] + 3) / 4);
    return n->kernel == 3 && n->stride == 1 && n->pad == 1 && mvit_node_in_channels(g, n) >= 8 &&
           tiles >= 16;
}

mvit_conv_kind mvit_conv_classify(const mvit_graph *g, const mvit_node *n, const mvit_target *t)
{
    if (mvit_conv_is_pointwise(n))
        return MVIT_CONV_POINTWISE;
    if (n->groups > 1 && n->num_inputs == 1 && n->groups == g->values[n->inputs[0]].dims[2] &&
        n->groups == n->out_channels)
        return MVIT_CONV_DEPTHWISE;
    if (n->groups > 1)
        return MVIT_CONV_GROUPED;
    if (t && t->simd && pays_for_winograd(g, n)) {
        char file[64];
        snprintf(file, sizeof file, "f32-conv3x3-winograd-%s.c", t->simd->suffix);
        if (cg_kernel_exists(file))
            return MVIT_CONV_WINOGRAD;
    }
    return MVIT_CONV_DENSE;
}

/* Winograd F(4x4, 3x3): 36 products per channel pair for each 4x4 block of outputs (the
 * blocks cover the map rounded up to 4), where the direct form does 144, and the transforms:
 * one pass per channel of a block in, one per channel out. The int8 graph has no Winograd
 * kernel. */
static void kernel_work(const mvit_graph *g, const mvit_node *n, const mvit_target *t, int int8,
                        mvit_kernel_work *w)
{
    if (int8 || mvit_conv_classify(g, n, t) != MVIT_CONV_WINOGRAD)
        return;
    const mvit_value *o = &g->values[n->output];
    const int64_t tiles = (int64_t)((o->dims[0] + 3) / 4) * ((o->dims[1] + 3) / 4);
    const int cin = mvit_node_in_channels(g, n);
    w->macs = tiles * 36 * cin * o->dims[2];
    w->elems += tiles * (cin + o->dims[2]);
}

void mvit_conv2d_shape(const mvit_graph *g, const mvit_node *n, mvk_conv2d *p)
{
    const mvit_value *a = &g->values[n->inputs[0]], *o = &g->values[n->output];
    *p = (mvk_conv2d){.in_h = a->dims[0], .in_w = a->dims[1], .in_c = a->dims[2],
                      .in_c_b = n->num_inputs == 2 ? g->values[n->inputs[1]].dims[2] : 0,
                      .out_h = o->dims[0], .out_w = o->dims[1], .out_c = o->dims[2],
                      .kernel = n->kernel, .stride = n->stride, .pad = n->pad,
                      .groups = n->groups, .act = n->act == MVIT_ACT_SILU ? MVK_ACT_SILU : MVK_ACT_NONE};
}

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    if (n->norm_rows || n->remap) { /* a product over rows */
        mvit_eval_gemm_rows(g, n, b);
        return;
    }
    const float *res = n->residual >= 0 ? b[n->residual] : NULL;
    const float *in_b = n->num_inputs == 2 ? b[n->inputs[1]] : NULL;
    mvk_conv2d p;
    mvit_conv2d_shape(g, n, &p);
    if (mvit_conv_classify(g, n, NULL) == MVIT_CONV_DEPTHWISE)
        mvk_f32_dwconv__scalar(&p, b[n->inputs[0]], b[n->output], n->weight, n->bias, res);
    else
        mvk_f32_conv2d__scalar(&p, b[n->inputs[0]], in_b, b[n->output], n->weight, n->bias, res);
}

static int quantize(mvit_qctx *c, int idx)
{
    const mvit_node *n = &c->g->nodes[idx];
    if (n->num_inputs != 1)
        return mvit_q_fail(c, n, "a conv over a fused concat", 0);
    return mvit_quantize_product(c, idx);
}

// ---- portable fp32 lowering

/* Depthwise and the rest (any groups, a fused concat): the portable loops. */
static void lower_f32_direct(mvit_codegen *cg, const mvit_node *n, int depthwise, const char *w,
                             const char *b)
{
    mvk_conv2d p;
    char conv[16];
    mvit_conv2d_shape(cg->g, n, &p);
    cg_use_kernel(cg, depthwise ? "f32-dwconv-scalar.c" : "f32-conv2d-scalar.c");
    cg_conv2d(cg, &p, conv, sizeof conv);
    const char *res = n->residual >= 0 ? "res" : "0";
    if (depthwise)
        emit(&cg->body, "mvk_f32_dwconv__scalar(%s, in0, out, %s, %s, %s);", conv, w, b, res);
    else
        emit(&cg->body, "mvk_f32_conv2d__scalar(%s, in0, %s, out, %s, %s, %s);", conv,
             n->num_inputs == 2 ? "in1" : "0", w, b, res);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_conv_kind kind = mvit_conv_classify(cg->g, n, NULL);
    if (kind == MVIT_CONV_POINTWISE) {
        mvit_lower_f32_gemm_rows(cg, n);
        return;
    }
    char w[96], b[96];
    mvit_f32_weight_bias(cg, n, w, b, sizeof w);
    lower_f32_direct(cg, n, kind == MVIT_CONV_DEPTHWISE, w, b);
}

static int64_t scratch_f32(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    return mvit_conv_is_pointwise(n) ? mvit_scratch_f32_gemm_rows(t, g, n) : 0;
}

// ---- int8 lowering

/* A dense convolution: one output row at a time, im2col into scratch, then the GEMM. */
static void lower_i8_im2col(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    const int k = n->kernel * n->kernel * a->dims[2];
    char w[64], conv[8], rq[8], gemm[8];
    const char *kernel = mvit_i8_gemm_weights(cg, n, k, o->dims[2], w, sizeof w);
    mvk_conv2d p;
    mvit_conv2d_shape(cg->g, n, &p);
    p.act = MVK_ACT_NONE; /* the SiLU is rq's table */
    cg_conv2d(cg, &p, conv, sizeof conv);
    mvit_i8_emit_requant(cg, n, rq, sizeof rq);
    mvit_i8_emit_gemm(cg, (int64_t)o->dims[0] * o->dims[1], k, o->dims[2], gemm, sizeof gemm);
    cg_parallel(cg, o->dims[0]);
    emit_open(&cg->body, "for (int64_t oy = r0; oy < r1; oy++) {");
    emit(&cg->body, "mvk_i8_im2col_row__scalar(%s, %s, " MVIT_X0 ", (int8_t *)scratch, oy);", conv,
         rq);
    emit(&cg->body,
         "mvk_i8_gemm__%s(%d, %s, %s, (const int8_t *)scratch, " MVIT_Y " + oy * %lld, %s);",
         kernel, o->dims[1], gemm, rq, (long long)o->dims[1] * o->dims[2], w);
    emit_close(&cg->body, "}");
}

/* The weights of a grouped conv: 16-channel blocks with taps in pairs for a depthwise kernel
 * of an ISA that wants them (pack.h), else as they are. */
static void i8_grouped_weights(mvit_codegen *cg, const mvit_node *n, int dw, int packed,
                               char *w, size_t len)
{
    if (packed) {
        const int taps = n->kernel * n->kernel, c = n->out_channels;
        const int64_t count = mvit_pack_i8_dw(NULL, taps, c, NULL);
        int8_t *p = mvit_xmalloc((size_t)count);
        mvit_pack_i8_dw(n->q->w, taps, c, p);
        mvit_i8_ints(cg, CG_I8, p, count, w, len, "weight (int8, tap pairs in 16-channel blocks)",
                     n);
        free(p);
    } else {
        mvit_i8_ints(cg, CG_I8, n->q->w, n->weight_numel, w, len,
                     dw ? "weight (int8, HWC)" : "weight (int8, HWIO)", n);
    }
}

/* Depthwise and other grouped convs: output rows [r0, r1). */
static void lower_i8_grouped(mvit_codegen *cg, const mvit_node *n, int dw)
{
    const mvit_value *o = &cg->g->values[n->output];
    const char *kernel = dw ? mvit_i8_op_kernel(cg->target, "dwconv") : "scalar";
    const int simd = strcmp(kernel, "scalar") != 0;
    char w[64];
    i8_grouped_weights(cg, n, dw, simd && cg->target->simd->i8_dw_packed, w, sizeof w);
    char conv[8], rq[8];
    mvk_conv2d p;
    mvit_conv2d_shape(cg->g, n, &p);
    p.act = MVK_ACT_NONE; /* the SiLU is rq's table */
    cg_conv2d(cg, &p, conv, sizeof conv);
    mvit_i8_emit_requant(cg, n, rq, sizeof rq);
    if (simd)
        mvit_i8_use_op_kernel(cg, "dwconv");
    else
        cg_use_kernel(cg, "i8-scalar.c");
    cg_parallel(cg, o->dims[0]);
    emit(&cg->body, "mvk_i8_%s__%s(%s, %s, " MVIT_X0 ", " MVIT_Y ", %s, r0, r1);",
         dw ? "dwconv" : "conv2d", kernel, conv, rq, w);
}

static void lower_i8(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    const mvit_conv_kind kind = mvit_conv_classify(cg->g, n, NULL);
    switch (kind) {
    case MVIT_CONV_POINTWISE:
        mvit_lower_i8_gemm_rows(cg, n, (int64_t)o->dims[0] * o->dims[1], a->dims[2], o->dims[2]);
        return;
    case MVIT_CONV_WINOGRAD:
    case MVIT_CONV_DENSE:
        lower_i8_im2col(cg, n);
        return;
    case MVIT_CONV_DEPTHWISE:
    case MVIT_CONV_GROUPED:
        lower_i8_grouped(cg, n, kind == MVIT_CONV_DEPTHWISE);
        return;
    }
}

/* Dense convs: one output row of im2col per task. */
static int64_t scratch_i8(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    (void)t;
    const mvit_conv_kind kind = mvit_conv_classify(g, n, NULL);
    if (kind != MVIT_CONV_DENSE)
        return 0;
    const mvit_value *a = &g->values[n->inputs[0]], *o = &g->values[n->output];
    const int64_t row = (int64_t)o->dims[1] * n->kernel * n->kernel * a->dims[2];
    return (row + 63) / 64 * 64 * g->max_tasks;
}

const mvit_op_def mvit_op_conv2d = {
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
