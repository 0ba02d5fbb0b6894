/* The SIMD targets, x86-64 AVX2+FMA, AVX-512 and ARM NEON: convolutions, linears and
 * attention run on the ISA's GEMM microkernel (6x16 on AVX2 and NEON, 12x32 on AVX-512) over
 * weights packed into 16-column panels at compile time, depthwise convs on a vector kernel.
 * The kernel families share signatures and packed layouts, so one lowering serves all; a
 * target is its mvit_simd_isa. Everything else falls back to the generic lowering. */
#include <stdio.h>
#include <stdlib.h>

#include "codegen/codegen.h"
#include "codegen/pack.h"
#include "kernels/mvk-prelude.h"
#include "ops/ops.h"

/* MVK_WINO_TB of the Winograd kernels: tiles per block (rows of its GEMMs). */
#define WINO_TILES_PER_BLOCK 12
/* Columns of a packed B panel, on every ISA (MVK GEMM drivers); a tile is nr / PANEL panels. */
#define PANEL 16

/* The target's kernels are named mvk_..._<suffix> in files f32-...-<suffix>.c. */
static const char *isa_suffix(const mvit_codegen *cg) { return cg->target->simd->suffix; }

/* stem: a file name with %s for the suffix, e.g. "f32-dwconv-%s.c". */
static void use_isa_kernel(mvit_codegen *cg, const char *stem)
{
    char file[64];
    snprintf(file, sizeof file, stem, isa_suffix(cg));
    cg_use_kernel(cg, file);
}

/* GEMM schedule: mc rows x kc of K per block. Unblocked (mc mr, kc K) while all of B fits in
 * half of L2: an mr-row A block then sits in L1 and B streams from L2. Otherwise B is cut into
 * [kc][nr] slices that fill half of L1 and A into mc x kc blocks that fill half of L2. */
typedef struct gemm_tiles {
    int mc, kc, blocked;
    int64_t b_bytes;
} gemm_tiles;

static gemm_tiles choose_tiles(const mvit_simd_isa *isa, int64_t m, int k, int n)
{
    const int mr = isa->mr, nr = isa->nr;
    gemm_tiles t = {mr, k, 0, (int64_t)k * ((n + PANEL - 1) / PANEL * PANEL) * 4};
    if (t.b_bytes <= isa->l2_bytes / 2)
        return t;
    t.blocked = 1;
    t.kc = isa->l1_bytes / 2 / (nr * 4);
    if (t.kc > k)
        t.kc = k;
    int64_t mc = isa->l2_bytes / 2 / ((int64_t)t.kc * 4) / mr * mr;
    int64_t mall = (m + mr - 1) / mr * mr;
    t.mc = (int)(mc < mr ? mr : mc > mall ? mall : mc);
    return t;
}

static void emit_tiles_comment(mvit_codegen *cg, gemm_tiles t, int64_t m, int k, int n)
{
    const int mr = cg->target->simd->mr, nr = cg->target->simd->nr;
    if (!t.blocked)
        emit(&cg->body, "/* tiling: %dx%d microkernel, M %lld x K %d x N %d; B %lld KiB <= L2/2: "
                        "%d-row A block in L1, B from L2 */",
             mr, nr, (long long)m, k, n, (long long)(t.b_bytes / 1024), mr);
    else
        emit(&cg->body, "/* tiling: %dx%d microkernel, M %lld x K %d x N %d; B %lld KiB > L2/2: "
                        "kc %d (B slice %d KiB in L1), mc %d (A block %lld KiB in L2) */",
             mr, nr, (long long)m, k, n, (long long)(t.b_bytes / 1024), t.kc,
             t.kc * nr * 4 / 1024, t.mc, (long long)t.mc * t.kc * 4 / 1024);
}

static void use_gemm(mvit_codegen *cg)
{
    char file[64];
    snprintf(file, sizeof file, "f32-gemm-%dx%d-%s.c", cg->target->simd->mr,
             cg->target->simd->nr, isa_suffix(cg));
    cg_use_kernel(cg, file);
}

/* The bias padded to a multiple of a panel, or "0". */
static void padded_bias(mvit_codegen *cg, const mvit_node *n, int cols, char *b, size_t len)
{
    if (!n->bias) {
        snprintf(b, len, "0");
        return;
    }
    float *pb = mvit_xmalloc((size_t)(cols + PANEL) * sizeof *pb);
    int64_t blen = mvit_pack_pad(n->bias, cols, PANEL, pb);
    cg_weight_ref(cg, b, len, cg_param(cg, pb, blen, "%s bias (padded to %d)", n->name, PANEL));
    free(pb);
}

/* Packs B [k][n] into panels of 16 columns and the bias to a multiple of 16. */
static void packed_gemm_params(mvit_codegen *cg, const mvit_node *n, int k, int cols, char *w,
                               char *b, size_t len)
{
    const int nr = PANEL;
    int64_t plen = mvit_pack_b_panels(n->weight, k, cols, nr, NULL);
    float *packed = mvit_xmalloc((size_t)plen * sizeof *packed);
    mvit_pack_b_panels(n->weight, k, cols, nr, packed);
    cg_weight_ref(cg, w, len, cg_param(cg, packed, plen, "%s weight [%d/%d][%d][%d]", n->name,
                                       cols, nr, k, nr));
    free(packed);
    padded_bias(cg, n, cols, b, len);
}

/* Rows [mr r0, min(mr r1, m)) of a GEMM whose A is in0 (rows through the node's remap) and C
 * is out. */
static void emit_gemm_rows(mvit_codegen *cg, const mvit_node *node, const char *w, const char *b,
                           const char *res)
{
    mvk_gemm p;
    mvit_gemm_shape(cg->g, node, &p);
    const int64_t m = p.m;
    gemm_tiles t = choose_tiles(cg->target->simd, m, p.k, p.n);
    char remap_expr[16];
    cg_remap(cg, node, remap_expr, sizeof remap_expr);
    emit_tiles_comment(cg, t, m, p.k, p.n);
    const int mr = cg->target->simd->mr;
    char gemm[16];
    if (t.blocked)
        p.mc = t.mc, p.kc = t.kc;
    cg_gemm(cg, &p, remap_expr, gemm, sizeof gemm);
    emit(&cg->body, "mvk_f32_gemm_%srows__%s(%d * r0, %d * r1 < %lld ? %d * r1 : %lld, %s, in0,",
         t.blocked ? "blocked_" : "", isa_suffix(cg), mr, mr, (long long)m, mr, (long long)m, gemm);
    emit(&cg->body, "    %s, %s, out, %s, %s);", w, b, res,
         node->norm_rows || mvit_node_resizes(node) ? "scratch" : "0");
}

static void emit_dwconv(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    const int c = a->dims[2], taps = n->kernel * n->kernel;
    /* HWIO with I/groups = 1 is [taps][C]; pad each tap's row to whole vectors (MVK_DW_CPAD) */
    const int cpad = cg->target->simd->dw_cpad, c8 = (c + cpad - 1) / cpad * cpad;
    float *wp = mvit_xcalloc((size_t)taps * c8, sizeof *wp);
    for (int t = 0; t < taps; t++)
        mvit_pack_pad(n->weight + (int64_t)t * c, c, cpad, wp + (int64_t)t * c8);
    char w[96], b[96] = "0";
    cg_weight_ref(cg, w, sizeof w, cg_param(cg, wp, (int64_t)taps * c8, "%s weight [%d][%d]",
                                           n->name, taps, c8));
    free(wp);
    if (n->bias) {
        float *pb = mvit_xmalloc((size_t)c8 * sizeof *pb);
        mvit_pack_pad(n->bias, c, cpad, pb);
        cg_weight_ref(cg, b, sizeof b,
                      cg_param(cg, pb, c8, "%s bias (padded to %d)", n->name, cpad));
        free(pb);
    }
    use_isa_kernel(cg, "f32-dwconv-%s.c");
    cg_parallel(cg, o->dims[0]); /* output rows */
    mvk_conv2d p;
    char conv[16];
    mvit_conv2d_shape(cg->g, n, &p);
    cg_conv2d(cg, &p, conv, sizeof conv);
    emit(&cg->body, "mvk_f32_dwconv_rows__%s(r0, r1, %s, in0, out, %s, %s, %s);", isa_suffix(cg),
         conv, w, b, n->residual >= 0 ? "res" : "0");
}

static void emit_winograd(mvit_codegen *cg, const mvit_node *n, int cin, int cin_b)
{
    const mvit_value *o = &cg->g->values[n->output];
    const int ci = cin + cin_b, cout = n->out_channels;
    float *u = mvit_xmalloc((size_t)36 * ci * cout * sizeof *u);
    mvit_winograd_f43_weights(n->weight, ci, cout, u);
    const int nr = PANEL;
    const int64_t plen = mvit_pack_b_panels(u, ci, cout, nr, NULL);
    float *packed = mvit_xmalloc((size_t)(36 * plen) * sizeof *packed);
    for (int xi = 0; xi < 36; xi++)
        mvit_pack_b_panels(u + (int64_t)xi * ci * cout, ci, cout, nr, packed + xi * plen);
    char w[96], b[96];
    cg_weight_ref(cg, w, sizeof w,
                  cg_param(cg, packed, 36 * plen, "%s Winograd weights [36][%d/%d][%d][%d]",
                           n->name, cout, nr, ci, nr));
    free(u);
    free(packed);
    padded_bias(cg, n, cout, b, sizeof b);
    use_isa_kernel(cg, "f32-conv3x3-winograd-%s.c");
    const int64_t tiles = (int64_t)((o->dims[0] + 3) / 4) * ((o->dims[1] + 3) / 4);
    const int64_t blocks = (tiles + WINO_TILES_PER_BLOCK - 1) / WINO_TILES_PER_BLOCK;
    /* a map of few blocks: the tasks also split the output panels (each block reads all of
       U, so tasks on blocks alone would each read it); two units per task at most tasks */
    const int panels = (cout + PANEL - 1) / PANEL, want = 2 * cg->g->max_tasks;
    int splits = blocks >= want ? 1 : (int)((want + blocks - 1) / blocks);
    splits = splits > panels ? panels : splits;
    cg_parallel(cg, blocks * splits);
    emit(&cg->body, "/* Winograd F(4x4, 3x3): %lld tiles of 4x4 outputs in blocks of %d, units of "
                    "a block and one of %d panel groups; per block V %lld KiB, one B panel %d KiB "
                    "*/",
         (long long)tiles, WINO_TILES_PER_BLOCK, splits,
         (long long)36 * WINO_TILES_PER_BLOCK * ci * 4 / 1024, ci * nr * 4 / 1024);
    mvk_conv2d p;
    char conv[16];
    mvit_conv2d_shape(cg->g, n, &p);
    p.col_splits = splits;
    cg_conv2d(cg, &p, conv, sizeof conv);
    emit(&cg->body, "mvk_f32_conv3x3_winograd_rows__%s(r0, r1, %s, in0, %s, out, %s, %s, %s, "
                    "scratch);",
         isa_suffix(cg), conv, cin_b ? "in1" : "0", w, b, n->residual >= 0 ? "res" : "0");
}

static void emit_conv2d(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]], *o = &cg->g->values[n->output];
    const mvit_conv_kind kind = mvit_conv_classify(cg->g, n, cg->target);
    if (kind == MVIT_CONV_DEPTHWISE) {
        emit_dwconv(cg, n);
        return;
    }
    if (kind == MVIT_CONV_GROUPED) {
        mvit_op_conv2d.lower_f32(cg, n);
        return;
    }
    const int cin_b = n->num_inputs == 2 ? cg->g->values[n->inputs[1]].dims[2] : 0;
    if (kind == MVIT_CONV_WINOGRAD) {
        emit_winograd(cg, n, a->dims[2], cin_b);
        return;
    }
    const int k = n->kernel * n->kernel * (a->dims[2] + cin_b);
    char w[96], b[96];
    packed_gemm_params(cg, n, k, n->out_channels, w, b, sizeof w);
    use_gemm(cg);
    const char *res = n->residual >= 0 ? "res" : "0";
    const int64_t m = (int64_t)o->dims[0] * o->dims[1];
    const int mr = cg->target->simd->mr;
    cg_parallel(cg, (m + mr - 1) / mr); /* blocks of mr output pixels, the microkernel's rows */
    if (kind == MVIT_CONV_POINTWISE) {
        emit_gemm_rows(cg, n, w, b, res);
        return;
    }
    use_isa_kernel(cg, "f32-conv2d-im2col-%s.c");
    gemm_tiles t = choose_tiles(cg->target->simd, m, k, n->out_channels);
    emit_tiles_comment(cg, t, m, k, n->out_channels);
    mvk_conv2d p;
    char conv[16];
    mvit_conv2d_shape(cg->g, n, &p);
    p.mc = t.mc, p.kc = t.kc;
    cg_conv2d(cg, &p, conv, sizeof conv);
    emit(&cg->body, "mvk_f32_conv2d_im2col_rows__%s(%d * r0, %d * r1 < %lld ? %d * r1 : %lld, %s,",
         isa_suffix(cg), mr, mr, (long long)m, mr, (long long)m, conv);
    emit(&cg->body, "    in0, %s, out, %s, %s, %s, scratch);", cin_b ? "in1" : "0", w, b, res);
}

static void emit_linear(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    const int64_t m = (int64_t)a->dims[0] * a->dims[1];
    char w[96], b[96];
    packed_gemm_params(cg, n, a->dims[2], n->out_channels, w, b, sizeof w);
    use_gemm(cg);
    const int mr = cg->target->simd->mr, nr = cg->target->simd->nr;
    if (m <= mr && !n->norm_rows && n->remap == 0) {
        /* one row block: share the weight panels between tasks instead */
        cg_parallel(cg, (n->out_channels + PANEL - 1) / PANEL);
        emit(&cg->body, "/* tiling: %dx%d microkernel, M %lld x K %d x N %d; tasks split N */",
             mr, nr, (long long)m, a->dims[2], n->out_channels);
        mvk_gemm p;
        char gemm[16];
        mvit_gemm_shape(cg->g, n, &p);
        cg_gemm(cg, &p, "0", gemm, sizeof gemm);
        emit(&cg->body, "mvk_f32_gemm_cols__%s(r0, r1, %s, in0, %s, %s, out, %s);", isa_suffix(cg),
             gemm, w, b, n->residual >= 0 ? "res" : "0");
        return;
    }
    cg_parallel(cg, (m + mr - 1) / mr);
    emit_gemm_rows(cg, n, w, b, n->residual >= 0 ? "res" : "0");
}

static void emit_attention(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *o = &cg->g->values[n->output];
    char att[16];
    mvit_emit_attention(cg, n, att, sizeof att);
    use_isa_kernel(cg, "f32-attention-%s.c");
    cg_parallel(cg, (int64_t)o->dims[0] * n->heads); /* (patch position, head) pairs */
    emit(&cg->body, "mvk_f32_attention_heads__%s(r0, r1, %s, in0, out, scratch);", isa_suffix(cg),
         att);
}

/* GroupNorm's statistics and normalisation in the ISA's vectors (f32-groupnorm-driver.h) */
static void emit_groupnorm(mvit_codegen *cg, const mvit_node *n)
{
    mvit_lower_f32_norm(cg, n, "groupnorm", isa_suffix(cg), 1);
}

// ---- scratch

/* A fused LayerNorm normalises the rows of one block, a resizing remap blends them: mr rows,
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
    const int64_t rows = (t.blocked ? t.mc : tg->simd->mr) + (n->norm_rows && resizes ? 4 : 0);
    return g->max_tasks * rows * k * (int64_t)sizeof(float);
}

static int64_t conv_scratch(const mvit_target *tg, const mvit_graph *g, const mvit_node *n)
{
    const mvit_conv_kind kind = mvit_conv_classify(g, n, tg);
    if (kind == MVIT_CONV_POINTWISE)
        return gemm_norm_scratch(tg, g, n);
    if (kind == MVIT_CONV_DEPTHWISE || kind == MVIT_CONV_GROUPED)
        return 0;
    const mvit_value *o = &g->values[n->output];
    const int ci = mvit_node_in_channels(g, n);
    if (kind == MVIT_CONV_WINOGRAD)
        return g->max_tasks * (36 * (int64_t)WINO_TILES_PER_BLOCK * (ci + PANEL)) *
               (int64_t)sizeof(float);
    const int k = n->kernel * n->kernel * ci;
    gemm_tiles t = choose_tiles(tg->simd, (int64_t)o->dims[0] * o->dims[1], k, n->out_channels);
    return g->max_tasks * (int64_t)t.mc * t.kc * (int64_t)sizeof(float);
}

static int64_t attention_scratch(const mvit_target *tg, const mvit_graph *g, const mvit_node *n)
{
    const mvit_value *o = &g->values[n->output];
    const int mr = tg->simd->mr, nr = PANEL;
    const int64_t npad = (o->dims[1] + nr - 1) / nr * nr, hd = o->dims[2] / n->heads;
    const int64_t hdpad = (hd + nr - 1) / nr * nr;
    return g->max_tasks * (npad * hd + hdpad * o->dims[1] + mr * npad) * (int64_t)sizeof(float);
}

/* Cache sizes of the tiling cost model, per core. x86: the benchmark machine's Zen 3 (most
 * AVX2 cores have 32 KiB L1d and 256 KiB - 1 MiB L2). ARM: the little cores a phone app may
 * land on (Cortex-A55: 32 KiB L1d, 128-256 KiB L2); the big cores have more of both. */
static const mvit_simd_isa isa_avx2 = {.suffix = "avx2", .i8_suffix = "avx2", .i8_panel = 8,
                                       .mr = 6, .nr = 16, .dw_cpad = 8, .l1_bytes = 32 * 1024,
                                       .l2_bytes = 512 * 1024, .i8_dw_packed = 1};
/* AVX-512 cores: Skylake-SP and Ice Lake 32-48 KiB L1d and 1-2 MiB L2, Zen 4/5 32-48 KiB and
 * 1 MiB. 12x32: 24 zmm accumulators of the 32 registers, 2 B loads and 12 broadcast operands
 * per 24 FMAs (12 cycles at 2 FMA/cycle, loads 7). */
static const mvit_simd_isa isa_avx512 = {.suffix = "avx512", .i8_suffix = "avx512",
                                         .i8_fallback = "avx2", .i8_panel = 16, .mr = 12,
                                         .nr = 32, .dw_cpad = 16, .l1_bytes = 32 * 1024,
                                         .l2_bytes = 1024 * 1024, .i8_dw_packed = 1};
static const mvit_simd_isa isa_neon = {.suffix = "neon", .i8_suffix = "neon", .i8_panel = 8,
                                       .mr = 6, .nr = 16, .dw_cpad = 8, .l1_bytes = 32 * 1024,
                                       .l2_bytes = 256 * 1024};

#define SIMD_LOWERING                                                                          \
    .emit_node = {[MVIT_OP_CONV2D] = emit_conv2d,                                              \
                  [MVIT_OP_LINEAR] = emit_linear,                                              \
                  [MVIT_OP_ATTENTION] = emit_attention,                                        \
                  [MVIT_OP_GROUPNORM] = emit_groupnorm},                                       \
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
    /* AVX-VNNI: the int8 GEMM's vpdpbusd loop, the same file built with -mavxvnni */
    .builds = {{"avx2", "clang", "-mavx2 -mfma", "avx2 fma", ""},
               {"avx2_vnni", "clang", "-mavx2 -mfma -mavxvnni", "avx2 fma avx_vnni", ""}},
    .includes = "#include <immintrin.h>",
    .fn_attr = "MVK_AVX2 ",
    .simd = &isa_avx2,
    SIMD_LOWERING,
};

const mvit_target mvit_target_avx512 = {
    .name = "avx512",
    .help = "x86-64 AVX-512 F/BW/DQ/VL intrinsics on zmm (the int8 GEMM on AVX512-VNNI where "
            "built with -mavx512vnni); builds without -m flags (target attributes), runs on "
            "AVX-512 CPUs",
    .arch = "x86-64",
    .triple = "x86_64-linux-gnu",
    .cflags = "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma",
    .builds = {{"avx512", "clang", "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma",
                "avx512f avx512bw avx512dq avx512vl fma", ""},
               /* the int8 GEMM's vpdpbusd loop and its SiLU table on vpermi2b */
               {"avx512_vnni", "clang",
                "-mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mavx512vnni -mavx512vbmi",
                "avx512f avx512bw avx512dq avx512vl fma avx512_vnni avx512vbmi", ""}},
    .includes = "#include <immintrin.h>",
    .fn_attr = "MVK_AVX512 ",
    .simd = &isa_avx512,
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
    /* ARMv8.2 with the dot product: the int8 sdot paths (qemu-aarch64's default CPU has it) */
    .builds = {{"aarch64", "aarch64-linux-gnu-gcc", "-static", "", "qemu-aarch64"},
               {"aarch64_dotprod", "aarch64-linux-gnu-gcc", "-static -march=armv8.2-a+dotprod",
                "", "qemu-aarch64"},
               {"armv7", "arm-linux-gnueabihf-gcc",
                "-static -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard", "", "qemu-arm"}},
    .includes = "#if !defined(__ARM_NEON)\n"
                "#error \"this file is for ARM NEON: AArch64, or ARMv7-A with -mfpu=neon-vfpv4\"\n"
                "#endif\n"
                "#include <arm_neon.h>",
    .fn_attr = "",
    .simd = &isa_neon,
    SIMD_LOWERING,
};
