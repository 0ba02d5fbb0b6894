/* The int8 lowering (docs/int8.md), shared by every target: the portable kernels of
 * i8-scalar.c define the arithmetic, and a SIMD target swaps in its GEMM (i8-gemm-<isa>.c),
 * which the unit tests hold to identical bytes. Layer functions see float pointers (the
 * dispatcher's types); int8 tensors are reinterpreted here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "codegen/pack.h"
#include "kernels/i8-attention-scratch.h"

static const mvit_value *val(const mvit_codegen *cg, int v) { return &cg->g->values[v]; }

/* The ISA suffix when the target has its own kernel for op (MVIT_I8_*: an op besides the
 * GEMM, same bytes as the portable one), else "scalar". */
static const char *ops_kernel(const mvit_target *t, unsigned op)
{
    return t->simd && (t->simd->i8_ops & op) ? t->simd->suffix : "scalar";
}

/* Pastes i8-scalar.c and, when the target has one, i8-<name>-<isa>.c; returns the suffix. */
static const char *use_op_kernel(mvit_codegen *cg, unsigned op, const char *name)
{
    const char *kernel = ops_kernel(cg->target, op);
    cg_use_kernel(cg, "i8-scalar.c");
    if (strcmp(kernel, "scalar")) {
        char file[64];
        snprintf(file, sizeof file, "i8-%s-%s.c", name, kernel);
        cg_use_kernel(cg, file);
    }
    return kernel;
}

static void ints(mvit_codegen *cg, cg_int_kind k, const void *data, int64_t count, char *ref,
                 size_t len, const char *what, const mvit_node *n)
{
    cg_int_ref(cg, k, ref, len, cg_param_int(cg, k, data, count, "%s %s", n->name, what));
}

static void floats(mvit_codegen *cg, const float *data, int64_t count, char *ref, size_t len,
                   const char *what, const mvit_node *n)
{
    cg_weight_ref(cg, ref, len, cg_param(cg, data, count, "%s %s", n->name, what));
}

/* C expression of an int8 tensor read or written by this layer. */
#define X0 "(const int8_t *)in0"
#define X1 "(const int8_t *)in1"
#define Y "(int8_t *)out"

typedef struct requant_refs {
    char bias[64], mult[64], shift[64], lut[64];
} requant_refs;

static void requant_refs_of(mvit_codegen *cg, const mvit_node *n, requant_refs *r)
{
    ints(cg, CG_I32, n->q->bias, n->out_channels, r->bias, sizeof r->bias, "bias (int32)", n);
    ints(cg, CG_I16, n->q->mult, n->out_channels, r->mult, sizeof r->mult, "multipliers", n);
    ints(cg, CG_I8, n->q->shift, n->out_channels, r->shift, sizeof r->shift, "shifts", n);
    snprintf(r->lut, sizeof r->lut, "0");
    if (n->q->has_lut)
        ints(cg, CG_I8, n->q->lut, 256, r->lut, sizeof r->lut, "SiLU table", n);
}

/* The target's GEMM kernel name and the reference to B (packed for SIMD targets). */
static const char *gemm_weights(mvit_codegen *cg, const mvit_node *n, int k, int cols, char *w,
                                size_t len)
{
    const mvit_simd_isa *isa = cg->target->simd;
    cg_use_kernel(cg, "i8-scalar.c");
    if (!isa) {
        ints(cg, CG_I8, n->q->w, n->weight_numel, w, len, "weight (int8, [K][N])", n);
        return "scalar";
    }
    const int64_t count = mvit_pack_i8_b(NULL, k, cols, NULL);
    int8_t *packed = mvit_xmalloc((size_t)count);
    mvit_pack_i8_b(n->q->w, k, cols, packed);
    ints(cg, CG_I8, packed, count, w, len, "weight (int8, k in groups of 4, 8-column panels)", n);
    free(packed);
    char file[64];
    snprintf(file, sizeof file, "i8-gemm-%s.c", isa->suffix);
    cg_use_kernel(cg, file);
    return isa->suffix;
}

/* A product over the rows of in0: the target's GEMM on rows [r0, r1). */
static void emit_gemm(mvit_codegen *cg, const mvit_node *n, int64_t m, int k, int cols)
{
    char w[64];
    if (val(cg, n->output)->kind == MVIT_VALUE_OUTPUT) { /* the classifier: float logits */
        char b[64], sc[64];
        const char *kernel = "scalar";
        cg_use_kernel(cg, "i8-scalar.c");
        if (strcmp(ops_kernel(cg->target, MVIT_I8_CLASSIFIER), "scalar"))
            kernel = gemm_weights(cg, n, k, cols, w, sizeof w); /* packed B */
        else
            ints(cg, CG_I8, n->q->w, n->weight_numel, w, sizeof w, "weight (int8, IO)", n);
        ints(cg, CG_I32, n->q->bias, cols, b, sizeof b, "bias (int32)", n);
        floats(cg, n->q->out_scale, cols, sc, sizeof sc, "output scales", n);
        emit(&cg->body, "mvk_i8_gemm_f32out__%s(" X0 ", out, %s, %s, %s, %lld, %d, %d);", kernel,
             w, b, sc, (long long)m, k, cols);
        return;
    }
    const char *kernel = gemm_weights(cg, n, k, cols, w, sizeof w);
    requant_refs r;
    requant_refs_of(cg, n, &r);
    cg_parallel(cg, m);
    emit(&cg->body, "mvk_i8_gemm__%s(" X0 " + r0 * %d, " Y " + r0 * %d, %s,", kernel, k, cols, w);
    emit(&cg->body, "    %s, %s, %s, %d, %s, r1 - r0, %d, %d);", r.bias, r.mult, r.shift, n->q->zy,
         r.lut, k, cols);
}

/* A full convolution: one output row at a time, im2col into scratch, then the GEMM. */
static void emit_conv_im2col(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *o = val(cg, n->output);
    const int k = n->kernel * n->kernel * a->dims[2];
    char w[64];
    const char *kernel = gemm_weights(cg, n, k, o->dims[2], w, sizeof w);
    requant_refs r;
    requant_refs_of(cg, n, &r);
    cg_parallel(cg, o->dims[0]);
    emit_open(&cg->body, "for (int64_t oy = r0; oy < r1; oy++) {");
    emit(&cg->body, "mvk_i8_im2col_row__scalar(" X0 ", (int8_t *)scratch, %d, %d, %d, %d, %d, %d, %d, oy, %d);",
         a->dims[0], a->dims[1], a->dims[2], o->dims[1], n->kernel, n->stride, n->pad, a->qzero);
    emit(&cg->body, "mvk_i8_gemm__%s((const int8_t *)scratch, " Y " + oy * %lld, %s,", kernel,
         (long long)o->dims[1] * o->dims[2], w);
    emit(&cg->body, "    %s, %s, %s, %d, %s, %d, %d, %d);", r.bias, r.mult, r.shift, n->q->zy, r.lut,
         o->dims[1], k, o->dims[2]);
    emit_close(&cg->body, "}");
}

static int is_dw(const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *a = &g->values[n->inputs[0]], *o = &g->values[n->output];
    return n->groups == a->dims[2] && n->groups == o->dims[2];
}

static void emit_conv2d(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *o = val(cg, n->output);
    if (n->kernel == 1 && n->stride == 1 && n->pad == 0 && n->groups == 1) {
        emit_gemm(cg, n, (int64_t)o->dims[0] * o->dims[1], a->dims[2], o->dims[2]);
        return;
    }
    if (n->groups == 1) {
        emit_conv_im2col(cg, n);
        return;
    }
    char w[64];
    const int dw = is_dw(cg->g, n);
    const char *kernel = dw ? ops_kernel(cg->target, MVIT_I8_DWCONV) : "scalar";
    const int packed_dw = strcmp(kernel, "scalar") && cg->target->simd->i8_dw_packed;
    if (packed_dw) { /* 16-channel blocks, taps in pairs (pack.h) */
        const int taps = n->kernel * n->kernel, c = o->dims[2];
        const int64_t count = mvit_pack_i8_dw(NULL, taps, c, NULL);
        int8_t *packed = mvit_xmalloc((size_t)count);
        mvit_pack_i8_dw(n->q->w, taps, c, packed);
        ints(cg, CG_I8, packed, count, w, sizeof w, "weight (int8, tap pairs in 16-channel blocks)", n);
        free(packed);
    } else {
        ints(cg, CG_I8, n->q->w, n->weight_numel, w, sizeof w,
             dw ? "weight (int8, HWC)" : "weight (int8, HWIO)", n);
    }
    requant_refs r;
    requant_refs_of(cg, n, &r);
    if (strcmp(kernel, "scalar")) {
        char file[64];
        snprintf(file, sizeof file, "i8-gemm-%s.c", kernel); /* its requantisation */
        cg_use_kernel(cg, file);
        use_op_kernel(cg, MVIT_I8_DWCONV, "dwconv");
    } else {
        cg_use_kernel(cg, "i8-scalar.c");
    }
    cg_parallel(cg, o->dims[0]);
    emit(&cg->body, "mvk_i8_%sconv%s__%s(" X0 ", " Y ", %s, %s, %s, %s, %d, %d, %s,",
         dw ? "dw" : "", dw ? "" : "2d", kernel, w, r.bias, r.mult, r.shift, a->qzero, n->q->zy,
         r.lut);
    if (dw)
        emit(&cg->body, "    %d, %d, %d, %d, %d, %d, %d, %d, r0, r1);", a->dims[0], a->dims[1],
             a->dims[2], o->dims[0], o->dims[1], n->kernel, n->stride, n->pad);
    else
        emit(&cg->body, "    %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, r0, r1);", a->dims[0],
             a->dims[1], a->dims[2], o->dims[0], o->dims[1], o->dims[2], n->kernel, n->stride,
             n->pad, n->groups);
}

static void emit_linear(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]);
    emit_gemm(cg, n, (int64_t)a->dims[0] * a->dims[1], a->dims[2], n->out_channels);
}

static void emit_quantize(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = val(cg, n->output);
    char t[64];
    floats(cg, n->q->thresholds, 255, t, sizeof t, "thresholds", n);
    const int row = o->dims[1] * o->dims[2];
    const char *kernel = use_op_kernel(cg, MVIT_I8_QUANTIZE, "quantize");
    cg_parallel(cg, o->dims[0]);
    emit(&cg->body, "mvk_i8_quantize__%s(in0 + r0 * %d, " Y " + r0 * %d, %s, (r1 - r0) * %d);",
         kernel, row, row, t, row);
}

static void emit_dequantize(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]);
    char s[32];
    emit_float_literal(s, sizeof s, (float)a->qscale);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_dequantize__scalar(" X0 ", out, %s, %d, %lld);", s, a->qzero,
         (long long)mvit_value_numel(a));
}

static void emit_silu(mvit_codegen *cg, const mvit_node *n)
{
    char l[64];
    ints(cg, CG_I8, n->q->lut, 256, l, sizeof l, "SiLU table", n);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_lut__scalar(" X0 ", " Y ", %s, %lld);", l,
         (long long)mvit_value_numel(val(cg, n->output)));
}

static void emit_add(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *b = val(cg, n->inputs[1]), *o = val(cg, n->output);
    const char *kernel = use_op_kernel(cg, MVIT_I8_ADD, "add");
    emit(&cg->body, "mvk_i8_add__%s(" X0 ", %d, %d, " X1 ", %d, %d, %d, " Y ", %d, %lld);",
         kernel, a->qzero, n->q->m[0], b->qzero, n->q->m[1], n->q->s[0], o->qzero,
         (long long)mvit_value_numel(o));
}

static void emit_concat(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *b = val(cg, n->inputs[1]), *o = val(cg, n->output);
    if (strcmp(ops_kernel(cg->target, MVIT_I8_CONCAT), "scalar")) {
        char file[64]; /* a SIMD concat requantises with its ISA's add helpers */
        snprintf(file, sizeof file, "i8-add-%s.c", cg->target->simd->suffix);
        cg_use_kernel(cg, "i8-scalar.c");
        cg_use_kernel(cg, file);
    }
    const char *kernel = use_op_kernel(cg, MVIT_I8_CONCAT, "concat");
    emit(&cg->body, "mvk_i8_concat__%s(" X0 ", " X1 ", " Y ", %lld, %d, %d,", kernel,
         (long long)a->dims[0] * a->dims[1], a->dims[2], b->dims[2]);
    emit(&cg->body, "    %d, %d, %d, %d, %d, %d, %d);", a->qzero, n->q->m[0], n->q->s[0], b->qzero,
         n->q->m[1], n->q->s[1], o->qzero);
}

/* unfold and fold: a copy of rows through the node's remap (with its integer resize) */
static void emit_unfold(mvit_codegen *cg, const mvit_node *n)
{
    char rm[16];
    cg_use_kernel(cg, "i8-scalar.c");
    cg_remap(cg, n, rm, sizeof rm);
    emit(&cg->body, "mvk_i8_remap__scalar(" X0 ", " Y ", %d, %s);", val(cg, n->output)->dims[2],
         rm);
}

static void emit_avgpool(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *o = val(cg, n->output);
    cg_use_kernel(cg, "i8-scalar.c");
    emit(&cg->body, "mvk_i8_avgpool__scalar(" X0 ", " Y ", %lld, %d, %d, %d, %d, %d);",
         (long long)a->dims[0] * a->dims[1], a->dims[2], a->qzero, n->q->m[0], n->q->s[0],
         o->qzero);
}

static void emit_layernorm(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *o = val(cg, n->output);
    char gm[64], bt[64];
    ints(cg, CG_I32, n->q->ln_g, n->q->ln_channels, gm, sizeof gm, "gamma (Q16 of the output scale)", n);
    ints(cg, CG_I32, n->q->ln_b, n->q->ln_channels, bt, sizeof bt, "beta (Q16 of the output scale)", n);
    const char *kernel = use_op_kernel(cg, MVIT_I8_LAYERNORM, "layernorm");
    cg_parallel(cg, (int64_t)a->dims[0] * a->dims[1]);
    emit(&cg->body, "mvk_i8_layernorm__%s(" X0 ", " Y ", %s, %s, %d, INT64_C(%lld), %d, %d, r0, r1);",
         kernel, gm, bt, n->q->ln_channels > 1, (long long)n->q->ln_eps, o->qzero, a->dims[2]);
}


static void emit_attention(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = val(cg, n->inputs[0]), *o = val(cg, n->output);
    char e[64];
    ints(cg, CG_I32, n->q->exp2_lut, 256, e, sizeof e, "2^(-f/256) in Q15", n);
    if (strcmp(ops_kernel(cg->target, MVIT_I8_ATTENTION), "scalar"))
        cg_use_kernel(cg, "i8-attention-scratch.h");
    const char *kernel = use_op_kernel(cg, MVIT_I8_ATTENTION, "attention");
    cg_parallel(cg, (int64_t)o->dims[0] * n->heads);
    emit(&cg->body, "mvk_i8_attention__%s(" X0 ", " Y ", (int32_t *)scratch, %s, %d, %d, %d, %d,",
         kernel, e, o->dims[0], o->dims[1], o->dims[2], n->heads);
    emit(&cg->body, "    %d, %d, %d, %d, %d, %d, r0, r1);", a->qzero, n->q->m[0], n->q->s[0],
         n->q->m[1], n->q->s[1], o->qzero);
}

void mvit_int8_emit_node(mvit_codegen *cg, const mvit_node *n)
{
    static const mvit_emit_node_fn table[MVIT_OP_COUNT] = {
        [MVIT_OP_CONV2D] = emit_conv2d,   [MVIT_OP_LINEAR] = emit_linear,
        [MVIT_OP_QUANTIZE] = emit_quantize, [MVIT_OP_SILU] = emit_silu,
        [MVIT_OP_DEQUANTIZE] = emit_dequantize,
        [MVIT_OP_ADD] = emit_add,         [MVIT_OP_CONCAT] = emit_concat,
        [MVIT_OP_UNFOLD] = emit_unfold,   [MVIT_OP_FOLD] = emit_unfold,
        [MVIT_OP_GLOBAL_AVGPOOL] = emit_avgpool, [MVIT_OP_LAYERNORM] = emit_layernorm,
        [MVIT_OP_ATTENTION] = emit_attention,
    };
    if (cg->target->simd) { /* the target's attribute macros (fn_attr) live there */
        char file[64];
        snprintf(file, sizeof file, "mvk-%s.h", cg->target->simd->suffix);
        cg_use_kernel(cg, file);
    }
    if (!table[n->op]) {
        fprintf(stderr, "mvitc: internal error: no int8 lowering for %s\n", mvit_op_names[n->op]);
        abort();
    }
    table[n->op](cg, n);
}

int64_t mvit_int8_scratch(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    if (n->op == MVIT_OP_CONV2D && n->groups == 1 && !(n->kernel == 1 && n->stride == 1 &&
                                                        n->pad == 0)) {
        /* one output row of im2col per task */
        const mvit_value *a = &g->values[n->inputs[0]], *o = &g->values[n->output];
        const int64_t row = (int64_t)o->dims[1] * n->kernel * n->kernel * a->dims[2];
        return (row + 63) / 64 * 64 * g->max_tasks;
    }
    if (n->op != MVIT_OP_ATTENTION)
        return 0;
    const mvit_value *o = &g->values[n->output];
    const int64_t tokens = o->dims[1], hd = o->dims[2] / n->heads;
    int64_t bytes;
    /* scalar: N scores and probabilities (int32), K and V of a head transposed (int16) */
    if (!strcmp(ops_kernel(t, MVIT_I8_ATTENTION), "scalar"))
        bytes = 2 * tokens * 4 + 2 * hd * tokens * 2;
    else
        bytes = MVK_I8_ATTENTION_SCRATCH_SIMD(tokens, hd);
    return (bytes + 63) / 64 * 64 * g->max_tasks;
}
