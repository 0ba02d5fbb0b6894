/* The SIMD targets, x86-64 AVX2+FMA and ARM NEON: convolutions, linears and attention run
 * on a 6x16 GEMM microkernel (weights packed into 16-column panels at compile time),
 * depthwise convs on an 8-channel vector kernel. Both kernel families share signatures and
 * packed layouts, so one lowering serves both; a target is its mvit_simd_isa. Everything
 * else falls back to the generic lowering. */
#include <stdio.h>
#include <stdlib.h>

#include "codegen/codegen.h"
#include "codegen/pack.h"
#include "kernels/mvk-prelude.h"

/* MVK_WINO_TB of the Winograd kernels: tiles per block, two 6-row groups of the microkernel. */
#define WINO_TILES_PER_BLOCK 12

/* The target's kernels are named mvk_..._<suffix> in files f32-...-<suffix>.c. */
static const char *isa_suffix(const mvit_codegen *cg) { return cg->target->simd->suffix; }

/* stem: a file name with %s for the suffix, e.g. "f32-dwconv-%s.c". */
static void use_isa_kernel(mvit_codegen *cg, const char *stem)
{
    char file[64];
    snprintf(file, sizeof file, stem, isa_suffix(cg));
    cg_use_kernel(cg, file);
}

/* GEMM schedule: mc rows x kc of K per block. Unblocked (mc 6, kc K) while all of B fits in
 * half of L2: a 6-row A block then sits in L1 and B streams from L2. Otherwise B is cut into
 * [kc][16] slices that fill half of L1 and A into mc x kc blocks that fill half of L2. */
typedef struct gemm_tiles {
    int mc, kc, blocked;
    int64_t b_bytes;
} gemm_tiles;

static gemm_tiles choose_tiles(const mvit_simd_isa *isa, int64_t m, int k, int n)
{
    gemm_tiles t = {6, k, 0, (int64_t)k * ((n + 15) / 16 * 16) * 4};
    if (t.b_bytes <= isa->l2_bytes / 2)
        return t;
    t.blocked = 1;
    t.kc = isa->l1_bytes / 2 / (16 * 4);
    if (t.kc > k)
        t.kc = k;
    int64_t mc = isa->l2_bytes / 2 / ((int64_t)t.kc * 4) / 6 * 6;
    int64_t m6 = (m + 5) / 6 * 6;
    t.mc = (int)(mc < 6 ? 6 : mc > m6 ? m6 : mc);
    return t;
}

static void emit_tiles_comment(mvit_codegen *cg, gemm_tiles t, int64_t m, int k, int n)
{
    if (!t.blocked)
        emit(&cg->body, "/* tiling: 6x16 microkernel, M %lld x K %d x N %d; B %lld KiB <= L2/2: "
                        "6-row A block in L1, B from L2 */",
             (long long)m, k, n, (long long)(t.b_bytes / 1024));
    else
        emit(&cg->body, "/* tiling: 6x16 microkernel, M %lld x K %d x N %d; B %lld KiB > L2/2: "
                        "kc %d (B slice %d KiB in L1), mc %d (A block %lld KiB in L2) */",
             (long long)m, k, n, (long long)(t.b_bytes / 1024), t.kc, t.kc * 64 / 1024, t.mc,
             (long long)t.mc * t.kc * 4 / 1024);
}

static const char *act_name(mvit_act a) { return a == MVIT_ACT_SILU ? "MVK_ACT_SILU" : "MVK_ACT_NONE"; }

static void use_gemm(mvit_codegen *cg)
{
    use_isa_kernel(cg, "mvk-%s.h");
    use_isa_kernel(cg, "f32-gemm-6x16-%s.c");
}

/* The bias padded to a multiple of 16 (a panel), or "0". */
static void padded_bias(mvit_codegen *cg, const mvit_node *n, int cols, char *b, size_t len)
{
    if (!n->bias) {
        snprintf(b, len, "0");
        return;
    }
    float *pb = mvit_xmalloc((size_t)(cols + 16) * sizeof *pb);
    int64_t blen = mvit_pack_pad(n->bias, cols, 16, pb);
    cg_weight_ref(cg, b, len, cg_param(cg, pb, blen, "%s bias (padded to 16)", n->name));
    free(pb);
}

/* Packs B [k][n] into 16-column panels and the bias to a multiple of 16. */
static void packed_gemm_params(mvit_codegen *cg, const mvit_node *n, int k, int cols, char *w,
                               char *b, size_t len)
{
    int64_t plen = mvit_pack_b_panels(n->weight, k, cols, 16, NULL);
    float *packed = mvit_xmalloc((size_t)plen * sizeof *packed);
    mvit_pack_b_panels(n->weight, k, cols, 16, packed);
    cg_weight_ref(cg, w, len, cg_param(cg, packed, plen, "%s weight [%d/16][%d][16]", n->name,
                                       cols, k));
    free(packed);
    padded_bias(cg, n, cols, b, len);
}

/* Rows [6 r0, min(6 r1, m)) of a GEMM whose A is in0 (rows through the node's remap) and C
 * is out. */
static void emit_gemm_rows(mvit_codegen *cg, const mvit_node *node, int64_t m, int k, int n,
                           const char *w, const char *b, const char *res)
{
    gemm_tiles t = choose_tiles(cg->target->simd, m, k, n);
    char remap_expr[16];
    cg_remap(cg, node, remap_expr, sizeof remap_expr);
    emit_tiles_comment(cg, t, m, k, n);
    emit(&cg->body, "mvk_f32_gemm_%srows__%s(6 * r0, 6 * r1 < %lld ? 6 * r1 : %lld, %d, %d, in0, %d,",
         t.blocked ? "blocked_" : "", isa_suffix(cg), (long long)m, (long long)m, k, n, k);
    char tiles[32] = "", eps[32] = "0.0f";
    if (t.blocked)
        snprintf(tiles, sizeof tiles, ", %d, %d", t.mc, t.kc);
    if (node->norm_rows)
        emit_float_literal(eps, sizeof eps, (float)node->eps);
    emit(&cg->body, "    %s, %s, out, %d, %s, %d, %s, %s%s, %s, %s);", w, b, n, res, n,
         act_name(node->act), remap_expr, tiles, eps,
         node->norm_rows || mvit_node_resizes(node) ? "scratch" : "0");
}

static int is_depthwise(const mvit_graph *g, const mvit_node *n)
{
    return n->groups > 1 && n->groups == g->values[n->inputs[0]].dims[2] &&
           n->groups == n->out_channels;
}

static int is_pointwise(const mvit_node *n)
{
    return n->kernel == 1 && n->stride == 1 && n->pad == 0 && n->groups == 1;
}

static void emit_dwconv(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    const int c = a->dims[2], taps = n->kernel * n->kernel;
    /* HWIO with I/groups = 1 is [taps][C]; pad each tap's row to a multiple of 8 */
    const int c8 = (c + 7) / 8 * 8;
    float *wp = mvit_xcalloc((size_t)taps * c8, sizeof *wp);
    for (int t = 0; t < taps; t++)
        mvit_pack_pad(n->weight + (int64_t)t * c, c, 8, wp + (int64_t)t * c8);
    char w[96], b[96] = "0";
    cg_weight_ref(cg, w, sizeof w, cg_param(cg, wp, (int64_t)taps * c8, "%s weight [%d][%d]",
                                           n->name, taps, c8));
    free(wp);
    if (n->bias) {
        float *pb = mvit_xmalloc((size_t)c8 * sizeof *pb);
        mvit_pack_pad(n->bias, c, 8, pb);
        cg_weight_ref(cg, b, sizeof b, cg_param(cg, pb, c8, "%s bias (padded to 8)", n->name));
        free(pb);
    }
    use_isa_kernel(cg, "mvk-%s.h");
    use_isa_kernel(cg, "f32-dwconv-%s.c");
    cg_parallel(cg, o->dims[0]); /* output rows */
    emit(&cg->body,
         "mvk_f32_dwconv_rows__%s(r0, r1, in0, out, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %s);",
         isa_suffix(cg), w, b, n->residual >= 0 ? "res" : "0", a->dims[0], a->dims[1], c, o->dims[1], n->kernel,
         n->stride, n->pad, act_name(n->act));
}

/* 3x3, stride 1, pad 1 dense convs take Winograd F(4x4, 3x3) where the family has it: 4x
 * fewer multiplies, for transforms that cost O(channels) per tile instead of O(channels^2).
 * The price is 4x the weights (36 instead of 9 per channel pair), streamed once per block of
 * tiles; below 16 tiles (a 16x16 output map) that traffic eats the saving and the bigger
 * binary buys nothing, and below 8 input channels the transforms are not paid back. */
static int use_winograd(const mvit_target *t, const mvit_graph *g, const mvit_node *n, int ci)
{
    if (g->layout_ref) { /* decided once for every resolution: one copy of the weights */
        const mvit_graph *ref = g->layout_ref;
        n = &ref->nodes[n - g->nodes];
        g = ref;
    }
    const mvit_value *o = &g->values[n->output];
    const int64_t tiles = (int64_t)((o->dims[0] + 3) / 4) * ((o->dims[1] + 3) / 4);
    return t->simd->winograd && n->groups == 1 && n->kernel == 3 && n->stride == 1 &&
           n->pad == 1 && ci >= 8 && tiles >= 16;
}

static void emit_winograd(mvit_codegen *cg, const mvit_node *n, int cin, int cin_b)
{
    const mvit_value *o = &cg->g->values[n->output];
    const int ci = cin + cin_b, cout = n->out_channels;
    float *u = mvit_xmalloc((size_t)36 * ci * cout * sizeof *u);
    mvit_winograd_f43_weights(n->weight, ci, cout, u);
    const int64_t plen = mvit_pack_b_panels(u, ci, cout, 16, NULL);
    float *packed = mvit_xmalloc((size_t)(36 * plen) * sizeof *packed);
    for (int xi = 0; xi < 36; xi++)
        mvit_pack_b_panels(u + (int64_t)xi * ci * cout, ci, cout, 16, packed + xi * plen);
    char w[96], b[96];
    cg_weight_ref(cg, w, sizeof w,
                  cg_param(cg, packed, 36 * plen, "%s Winograd weights [36][%d/16][%d][16]",
                           n->name, cout, ci));
    free(u);
    free(packed);
    padded_bias(cg, n, cout, b, sizeof b);
    use_gemm(cg);
    use_isa_kernel(cg, "f32-conv3x3-winograd-%s.c");
    const int64_t tiles = (int64_t)((o->dims[0] + 3) / 4) * ((o->dims[1] + 3) / 4);
    cg_parallel(cg, (tiles + WINO_TILES_PER_BLOCK - 1) / WINO_TILES_PER_BLOCK);
    emit(&cg->body, "/* Winograd F(4x4, 3x3): %lld tiles of 4x4 outputs in blocks of %d; per block "
                    "V %lld KiB, one B panel %d KiB */",
         (long long)tiles, WINO_TILES_PER_BLOCK, (long long)36 * WINO_TILES_PER_BLOCK * ci * 4 / 1024,
         ci * 16 * 4 / 1024);
    emit(&cg->body, "mvk_f32_conv3x3_winograd_rows__%s(r0, r1, in0, %s, out, %s, %s, %s, %d, %d, "
                    "%d, %d, %d, %s, scratch);",
         isa_suffix(cg), cin_b ? "in1" : "0", w, b, n->residual >= 0 ? "res" : "0", o->dims[0],
         o->dims[1], cin, cin_b, cout, act_name(n->act));
}

static void emit_conv2d(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    if (is_depthwise(cg->g, n)) {
        emit_dwconv(cg, n);
        return;
    }
    if (n->groups != 1) {
        mvit_target_generic.emit_node[MVIT_OP_CONV2D](cg, n);
        return;
    }
    const int cin_b = n->num_inputs == 2 ? cg->g->values[n->inputs[1]].dims[2] : 0;
    if (use_winograd(cg->target, cg->g, n, a->dims[2] + cin_b)) {
        emit_winograd(cg, n, a->dims[2], cin_b);
        return;
    }
    const int k = n->kernel * n->kernel * (a->dims[2] + cin_b);
    char w[96], b[96];
    packed_gemm_params(cg, n, k, n->out_channels, w, b, sizeof w);
    use_gemm(cg);
    const char *res = n->residual >= 0 ? "res" : "0";
    const int64_t m = (int64_t)o->dims[0] * o->dims[1];
    cg_parallel(cg, (m + 5) / 6); /* blocks of 6 output pixels, the microkernel's rows */
    if (is_pointwise(n)) {
        emit_gemm_rows(cg, n, m, k, n->out_channels, w, b, res);
        return;
    }
    use_isa_kernel(cg, "f32-conv2d-im2col-%s.c");
    gemm_tiles t = choose_tiles(cg->target->simd, m, k, n->out_channels);
    emit_tiles_comment(cg, t, m, k, n->out_channels);
    emit(&cg->body,
         "mvk_f32_conv2d_im2col_rows__%s(6 * r0, 6 * r1 < %lld ? 6 * r1 : %lld, in0, %s, out, %s,",
         isa_suffix(cg), (long long)m, (long long)m, cin_b ? "in1" : "0", w);
    emit(&cg->body, "    %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, scratch, %d, %d);", b, res,
         a->dims[0], a->dims[1], a->dims[2], cin_b, o->dims[1], o->dims[2], n->kernel, n->stride,
         n->pad, act_name(n->act), t.mc, t.kc);
}

static void emit_linear(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    const int64_t m = (int64_t)a->dims[0] * a->dims[1];
    char w[96], b[96];
    packed_gemm_params(cg, n, a->dims[2], n->out_channels, w, b, sizeof w);
    use_gemm(cg);
    if (m <= 6 && !n->norm_rows && n->remap == 0) {
        /* one row block: share the weight panels between tasks instead */
        cg_parallel(cg, (n->out_channels + 15) / 16);
        emit(&cg->body, "/* tiling: 6x16 microkernel, M %lld x K %d x N %d; tasks split N */",
             (long long)m, a->dims[2], n->out_channels);
        emit(&cg->body, "mvk_f32_gemm_cols__%s(r0, r1, %lld, %d, %d, in0, %s, %s, out, %s, %s);",
             isa_suffix(cg), (long long)m, a->dims[2], n->out_channels, w, b, n->residual >= 0 ? "res" : "0",
             act_name(n->act));
        return;
    }
    cg_parallel(cg, (m + 5) / 6);
    emit_gemm_rows(cg, n, m, a->dims[2], n->out_channels, w, b, n->residual >= 0 ? "res" : "0");
}

static void emit_attention(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = &cg->g->values[n->output];
    const int hd = o->dims[2] / n->heads;
    char scale[32];
    emit_float_literal(scale, sizeof scale, (float)mvk_rsqrt((double)hd));
    use_gemm(cg);
    use_isa_kernel(cg, "f32-attention-%s.c");
    cg_parallel(cg, (int64_t)o->dims[0] * n->heads); /* (patch position, head) pairs */
    emit(&cg->body, "mvk_f32_attention_heads__%s(r0, r1, in0, out, scratch, %d, %d, %d, %s);",
         isa_suffix(cg), o->dims[1], o->dims[2], n->heads, scale);
}

// ---- scratch

/* A fused LayerNorm normalises the rows of one block, a resizing remap blends them: 6 rows,
 * or mc when blocked; both: 4 rows more for the normalised sources of a blend. */
static int64_t gemm_norm_scratch(const mvit_target *tg, const mvit_graph *g,
                                 const mvit_node *n)
{
    const int resizes = mvit_node_resizes(n);
    if (!n->norm_rows && !resizes)
        return 0;
    const mvit_value *o = &g->values[n->output];
    const int k = g->values[n->inputs[0]].dims[2];
    gemm_tiles t = choose_tiles(tg->simd, (int64_t)o->dims[0] * o->dims[1], k, n->out_channels);
    const int64_t rows = (t.blocked ? t.mc : 6) + (n->norm_rows && resizes ? 4 : 0);
    return g->max_tasks * rows * k * (int64_t)sizeof(float);
}

static int64_t conv_scratch(const mvit_target *tg, const mvit_graph *g, const mvit_node *n)
{
    if (is_pointwise(n))
        return gemm_norm_scratch(tg, g, n);
    if (n->groups != 1)
        return 0;
    const mvit_value *o = &g->values[n->output];
    const int ci = mvit_node_in_channels(g, n);
    if (use_winograd(tg, g, n, ci))
        return g->max_tasks * (36 * (int64_t)WINO_TILES_PER_BLOCK * (ci + 16)) *
               (int64_t)sizeof(float);
    const int k = n->kernel * n->kernel * ci;
    gemm_tiles t = choose_tiles(tg->simd, (int64_t)o->dims[0] * o->dims[1], k, n->out_channels);
    return g->max_tasks * (int64_t)t.mc * t.kc * (int64_t)sizeof(float);
}

static int64_t attention_scratch(const mvit_target *tg, const mvit_graph *g, const mvit_node *n)
{
    (void)tg;
    const mvit_value *o = &g->values[n->output];
    const int64_t npad = (o->dims[1] + 15) / 16 * 16, hd = o->dims[2] / n->heads;
    const int64_t hdpad = (hd + 15) / 16 * 16;
    return g->max_tasks * (npad * hd + hdpad * o->dims[1] + 6 * npad) * (int64_t)sizeof(float);
}

/* Cache sizes of the tiling cost model, per core. x86: the benchmark machine's Zen 3 (most
 * AVX2 cores have 32 KiB L1d and 256 KiB - 1 MiB L2). ARM: the little cores a phone app may
 * land on (Cortex-A55: 32 KiB L1d, 128-256 KiB L2); the big cores have more of both. */
static const mvit_simd_isa isa_avx2 = {.suffix = "avx2", .l1_bytes = 32 * 1024,
                                       .l2_bytes = 512 * 1024, .winograd = 1,
                                       .i8_ops = MVIT_I8_ADD | MVIT_I8_CONCAT | MVIT_I8_DWCONV |
                                                 MVIT_I8_LAYERNORM | MVIT_I8_ATTENTION |
                                                 MVIT_I8_CLASSIFIER | MVIT_I8_QUANTIZE,
                                       .i8_dw_packed = 1};
static const mvit_simd_isa isa_neon = {.suffix = "neon", .l1_bytes = 32 * 1024,
                                       .l2_bytes = 256 * 1024, .winograd = 1,
                                       .i8_ops = MVIT_I8_ADD | MVIT_I8_CONCAT | MVIT_I8_DWCONV |
                                                 MVIT_I8_LAYERNORM | MVIT_I8_ATTENTION |
                                                 MVIT_I8_CLASSIFIER | MVIT_I8_QUANTIZE};

#define SIMD_LOWERING                                                                          \
    .emit_node = {[MVIT_OP_CONV2D] = emit_conv2d,                                              \
                  [MVIT_OP_LINEAR] = emit_linear,                                              \
                  [MVIT_OP_ATTENTION] = emit_attention},                                       \
    .scratch = {[MVIT_OP_CONV2D] = conv_scratch,                                               \
                [MVIT_OP_LINEAR] = gemm_norm_scratch,                                          \
                [MVIT_OP_ATTENTION] = attention_scratch}

const mvit_target mvit_target_avx2 = {
    .name = "avx2",
    .help = "x86-64 AVX2+FMA intrinsics; builds without -mavx2 (target attributes), runs on "
            "AVX2 CPUs",
    .arch = "x86-64",
    .triple = "x86_64-linux-gnu",
    .cflags = "-mavx2 -mfma",
    .includes = "#include <immintrin.h>",
    .fn_attr = "MVK_AVX2 ",
    .simd = &isa_avx2,
    SIMD_LOWERING,
};

/* One file for AArch64 and 32-bit ARMv7-A; the kernels pick their register blocking with
 * #if defined(__aarch64__). */
const mvit_target mvit_target_neon = {
    .name = "neon",
    .help = "ARM NEON intrinsics: AArch64 (arm64-v8a, Apple arm64) and ARMv7-A with "
            "-mfpu=neon-vfpv4",
    .arch = "arm",
    .triple = "aarch64-linux-gnu",
    .cflags = "",
    .emulator = "qemu-aarch64",
    .includes = "#if !defined(__ARM_NEON)\n"
                "#error \"this file is for ARM NEON: AArch64, or ARMv7-A with -mfpu=neon-vfpv4\"\n"
                "#endif\n"
                "#include <arm_neon.h>",
    .fn_attr = "",
    .simd = &isa_neon,
    SIMD_LOWERING,
};
