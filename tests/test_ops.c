/* Op tests: the op table is complete, and each op's lowering emits the kernel calls it
 * should for a small graph, on every target, in fp32 and int8 (the text of the generated
 * file; end-to-end tests compile and run whole models). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/observe.h"
#include "codegen/codegen.h"
#include "ops/ops.h"
#include "passes/passes.h"

START_TEST(every_op_has_its_rules)
{
    for (int op = 0; op < MVIT_OP_COUNT; op++) {
        const mvit_op_def *d = mvit_op_defs[op];
        ck_assert_msg(d && d->infer && d->macs, "%s: shape inference and MAC count",
                      mvit_op_names[op]);
        /* a float op is evaluated (calibration) and lowered on the portable target */
        ck_assert_msg(!d->eval == !d->lower_f32, "%s: eval iff lower_f32", mvit_op_names[op]);
        /* an op with an int8 rule has an int8 lowering, and the other way round */
        ck_assert_msg(!d->quantize == !d->lower_i8, "%s: quantize iff lower_i8",
                      mvit_op_names[op]);
        ck_assert_msg(d->eval || d->quantize, "%s: used nowhere", mvit_op_names[op]);
    }
}
END_TEST

// ---- small graphs: an 8-bit image of 3 channels, a 1x1 conv, then the op under test

static unsigned seed = 11;
static float *rvec(int64_t n, float scale)
{
    float *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = scale * ((float)((seed >> 9) & 0x7fff) / 16384.0f - 1.0f);
    }
    return v;
}

static int add_node(mvit_graph *g, mvit_op op, const char *name, int x, int y, mvit_node *a)
{
    int inputs[2] = {x, y};
    int n = mvit_graph_add_node(g, op, name, (mvit_src_loc){1, 1}, inputs, a, NULL);
    ck_assert_msg(n >= 0, "building %s", name);
    return g->nodes[n].output;
}

static int add_conv(mvit_graph *g, const char *name, int x, int cout, int k, int stride,
                    int groups)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    const int cin = g->values[x].dims[2];
    a.kernel = k, a.stride = stride, a.pad = (k - 1) / 2, a.groups = groups, a.out_channels = cout;
    a.weight_numel = (int64_t)k * k * (cin / groups) * cout;
    a.weight = rvec(a.weight_numel, 0.5f);
    a.bias = rvec(cout, 0.2f);
    return add_node(g, MVIT_OP_CONV2D, name, x, -1, &a);
}

static int add_linear(mvit_graph *g, const char *name, int x, int cout)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.out_channels = cout;
    a.weight_numel = (int64_t)g->values[x].dims[2] * cout;
    a.weight = rvec(a.weight_numel, 0.5f);
    a.bias = rvec(cout, 0.2f);
    return add_node(g, MVIT_OP_LINEAR, name, x, -1, &a);
}

static int add_patches(mvit_graph *g, mvit_op op, int x, int map)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.patch_h = a.patch_w = 2;
    a.map_h = a.map_w = map;
    a.grid_h = a.grid_w = (map + 1) / 2 * 2;
    return add_node(g, op, op == MVIT_OP_UNFOLD ? "unfold" : "fold", x, -1, &a);
}

static int add_norm(mvit_graph *g, mvit_op op, int x)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    const int c = g->values[x].dims[2];
    a.eps = 1e-5;
    if (op == MVIT_OP_LAYERNORM || op == MVIT_OP_GROUPNORM) {
        a.ln_gamma = rvec(c, 1.0f), a.ln_beta = rvec(c, 0.3f);
    } else {
        a.bn_gamma = rvec(c, 1.0f), a.bn_beta = rvec(c, 0.3f), a.bn_mean = rvec(c, 0.3f);
        a.bn_var = rvec(c, 0.5f);
        for (int i = 0; i < c; i++)
            a.bn_var[i] += 1.0f;
    }
    return add_node(g, op, op == MVIT_OP_LAYERNORM ? "ln" : op == MVIT_OP_GROUPNORM ? "gn" : "bn",
                    x, -1, &a);
}

static int add_attention(mvit_graph *g, int x)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.heads = 2;
    return add_node(g, MVIT_OP_ATTENTION, "attn", x, -1, &a);
}

typedef enum shape {
    CONV_POINTWISE, CONV_DEPTHWISE, CONV_DENSE, CONV_WINOGRAD, CONV_GROUPED, OP_SILU, OP_ADD,
    OP_CONCAT, OP_POOL, OP_LAYERNORM, OP_BATCHNORM, OP_PATCHES, OP_ATTENTION, OP_GROUPNORM,
    OP_LINEAR_ATTENTION, OP_RESIZE,
} shape;

static int add_v2_op(mvit_graph *g, mvit_op op, int x, int map)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.patch_h = a.patch_w = 2;
    a.map_h = a.map_w = map;
    a.grid_h = a.grid_w = map + 1; /* RESIZE: 6x6 -> 7x7 */
    return add_node(g, op, op == MVIT_OP_RESIZE ? "resize" : "lattn", x, -1, &a);
}

/* image (map x map x 3) -> conv 1x1 to 16 channels -> the op(s) of `s` -> output */
static void build(mvit_graph *g, mvit_model_desc *desc, shape s)
{
    const int map = s == CONV_WINOGRAD ? 16 : 6;
    memset(desc, 0, sizeof *desc);
    desc->path = "test.yaml";
    snprintf(desc->name, sizeof desc->name, "t");
    desc->height = desc->width = map, desc->channels = 3;
    for (int c = 0; c < 3; c++)
        desc->mean[c] = 0.5f, desc->std[c] = 0.25f;
    mvit_graph_init(g, desc);
    int x = g->input = mvit_graph_add_value(g, "input", MVIT_LAYOUT_HWC, map, map, 3);
    g->values[x].kind = MVIT_VALUE_INPUT;
    int y = add_conv(g, "stem", x, 16, 1, 1, 1);
    switch (s) {
    case CONV_POINTWISE: y = add_conv(g, "pw", y, 24, 1, 1, 1); break;
    case CONV_DEPTHWISE: y = add_conv(g, "dw", y, 16, 3, 2, 16); break;
    case CONV_DENSE: y = add_conv(g, "dense", y, 24, 3, 2, 1); break;
    case CONV_WINOGRAD: y = add_conv(g, "wino", y, 16, 3, 1, 1); break;
    case CONV_GROUPED: y = add_conv(g, "grouped", y, 16, 3, 1, 4); break;
    case OP_SILU: y = add_node(g, MVIT_OP_SILU, "silu", y, -1, NULL); break;
    case OP_ADD: y = add_node(g, MVIT_OP_ADD, "add", y, add_conv(g, "b", x, 16, 1, 1, 1), NULL); break;
    case OP_CONCAT: y = add_node(g, MVIT_OP_CONCAT, "cat", y, add_conv(g, "b", x, 8, 1, 1, 1), NULL); break;
    case OP_POOL: y = add_node(g, MVIT_OP_GLOBAL_AVGPOOL, "pool", y, -1, NULL); break;
    case OP_LAYERNORM: y = add_norm(g, MVIT_OP_LAYERNORM, y); break;
    case OP_BATCHNORM: y = add_norm(g, MVIT_OP_BATCHNORM, y); break;
    case OP_PATCHES: y = add_patches(g, MVIT_OP_UNFOLD, y, map); break; /* folded below */
    case OP_GROUPNORM: y = add_norm(g, MVIT_OP_GROUPNORM, y); break;
    case OP_LINEAR_ATTENTION:
        y = add_v2_op(g, MVIT_OP_LINEAR_ATTENTION, add_conv(g, "qkv", y, 17, 1, 1, 1), map);
        break;
    case OP_RESIZE: y = add_v2_op(g, MVIT_OP_RESIZE, y, map); break;
    case OP_ATTENTION:
        y = add_patches(g, MVIT_OP_UNFOLD, y, map);
        y = add_linear(g, "proj", add_attention(g, add_linear(g, "qkv", y, 48)), 16);
        break;
    }
    /* a classifier's tail, so that int8 graphs end in float logits as models do */
    if (g->values[y].layout == MVIT_LAYOUT_TOKENS)
        y = add_patches(g, MVIT_OP_FOLD, y, map);
    if (s != OP_POOL)
        y = add_node(g, MVIT_OP_GLOBAL_AVGPOOL, "pool", y, -1, NULL);
    y = add_linear(g, "classifier", y, 10);
    g->output = y;
    g->values[y].kind = MVIT_VALUE_OUTPUT;
}

/* Generates the graph's C file for a target: fp32 as built, or int8 with every value in
 * [-4, 4]; returns the text (free it). */
static char *lower(mvit_graph *g, const char *target, int int8)
{
    mvit_diag d = {0};
    if (int8) {
        mvit_qrange *r = malloc((size_t)g->num_values * sizeof *r);
        for (int v = 0; v < g->num_values; v++)
            r[v] = (mvit_qrange){-4.0, 4.0};
        ck_assert_int_eq(pass_quantize_int8(g, r, NULL, &d), 0);
        free(r);
    }
    const mvit_target *t = mvit_find_target(target);
    ck_assert_ptr_nonnull(t);
    mvit_target_assign_scratch(t, g);
    ck_assert_int_eq(pass_plan_memory(g, &d), 0);
    mvit_codegen_info info = {.prefix = "t", .command_line = "", .desc_path = "test.yaml",
                              .weights_path = "w", .precision = int8 ? "int8" : "fp32",
                              .max_tasks = 1};
    mvit_emitter c = {0}, h = {0};
    const mvit_graph *gs[1] = {g};
    ck_assert_int_eq(mvit_codegen_emit(gs, 1, t, &info, &c, &h, &d), 0);
    emit_free(&h);
    return c.buf;
}

typedef struct lowering_case {
    shape s;
    const char *target;
    int int8;
    const char *want[3]; /* substrings of the generated file, NULL-terminated */
} lowering_case;

static const lowering_case cases[] = {
    {CONV_POINTWISE, "generic", 0, {"mvk_f32_gemm_rows__scalar(&gemm, in0, out, ", "static const mvk_gemm gemm = {.m = 36, .k = 16, .n = 24, .act = MVK_ACT_NONE,"}},
    {CONV_POINTWISE, "avx2", 0, {"mvk_f32_gemm_rows__avx2(6 * r0, 6 * r1 < 36 ? 6 * r1 : 36, &gemm, in0,", "{.m = 36, .k = 16, .n = 24,"}},
    {CONV_POINTWISE, "neon", 0, {"mvk_f32_gemm_rows__neon("}},
    {CONV_POINTWISE, "avx2", 1, {"mvk_i8_gemm__avx2(r1 - r0, &gemm, &rq, (const int8_t *)in0 + r0 * 16, (int8_t *)out + r0 * 24,", "{.m = 36, .k = 16, .n = 24,"}},
    {CONV_DEPTHWISE, "generic", 0, {"mvk_f32_dwconv__scalar(&conv, in0, out, ", "{.in_h = 6, .in_w = 6, .in_c = 16,", ".out_h = 3, .out_w = 3, .out_c = 16, .kernel = 3, .stride = 2, .pad = 1,"}},
    {CONV_DEPTHWISE, "avx2", 0, {"mvk_f32_dwconv_rows__avx2(r0, r1, &conv, in0, out, ", ".groups = 16, .act = MVK_ACT_NONE};"}},
    {CONV_DEPTHWISE, "neon", 0, {"mvk_f32_dwconv_rows__neon(r0, r1, "}},
    {CONV_DEPTHWISE, "generic", 1, {"mvk_i8_dwconv__scalar(&conv, &rq, (const int8_t *)in0, (int8_t *)out, ", "static const mvk_i8_requant rq = {.bias = "}},
    {CONV_DEPTHWISE, "avx2", 1, {"mvk_i8_dwconv__avx2(&conv, &rq, ", "tap pairs in 16-channel blocks"}},
    {CONV_DEPTHWISE, "neon", 1, {"mvk_i8_dwconv__neon(&conv, &rq, ", "weight (int8, HWC)"}},
    {CONV_DENSE, "generic", 0, {"mvk_f32_conv2d__scalar(&conv, in0, 0, out, ", ".out_h = 3, .out_w = 3, .out_c = 24, .kernel = 3, .stride = 2, .pad = 1,"}},
    {CONV_DENSE, "avx2", 0, {"mvk_f32_conv2d_im2col_rows__avx2(6 * r0, 6 * r1 < 9 ? 6 * r1 : 9, &conv,", ".groups = 1, .act = MVK_ACT_NONE, .mc = 6, .kc = 144};"}},
    {CONV_DENSE, "neon", 0, {"mvk_f32_conv2d_im2col_rows__neon("}},
    {CONV_DENSE, "generic", 1, {"mvk_i8_im2col_row__scalar(&conv, &rq, (const int8_t *)in0, (int8_t *)scratch, oy);", "mvk_i8_gemm__scalar(3, &gemm, &rq, (const int8_t *)scratch"}},
    {CONV_WINOGRAD, "generic", 0, {"mvk_f32_conv2d__scalar("}},
    {CONV_WINOGRAD, "avx2", 0, {"mvk_f32_conv3x3_winograd_rows__avx2(r0, r1, &conv, in0, 0, out, ", "16 tiles of 4x4"}},
    {CONV_WINOGRAD, "neon", 0, {"mvk_f32_conv3x3_winograd_rows__neon("}},
    {CONV_WINOGRAD, "avx2", 1, {"mvk_i8_im2col_row__scalar(&conv, &rq, ", "mvk_i8_gemm__avx2(16, &gemm, &rq, (const int8_t *)scratch"}},
    {CONV_GROUPED, "generic", 0, {"mvk_f32_conv2d__scalar(&conv, in0, 0, out,", ".groups = 4,"}},
    {CONV_GROUPED, "avx2", 0, {"mvk_f32_conv2d__scalar(&conv, in0, 0, out,", ".groups = 4,"}},
    {CONV_GROUPED, "neon", 1, {"mvk_i8_conv2d__scalar(&conv, &rq, ", ".groups = 4,"}},
    {OP_SILU, "generic", 0, {"mvk_f32_silu__scalar(in0, out, 576);"}},
    {OP_SILU, "avx2", 1, {"mvk_i8_gemm__avx2(r1 - r0, &gemm, &rq, ", "SiLU table"}}, /* fused as the conv's table */
    {OP_ADD, "generic", 0, {"mvk_f32_add__scalar(in0, in1, out, 576);"}},
    {OP_ADD, "generic", 1, {"mvk_i8_add__scalar(&add, (const int8_t *)in0, (const int8_t *)in1, (int8_t *)out, 576);", "static const mvk_i8_add add = {.za = "}},
    {OP_ADD, "neon", 1, {"mvk_i8_add__neon("}},
    {OP_CONCAT, "avx2", 0, {"static const mvk_concat cat = {.pixels = 36, .ca = 16, .cb = 8};", "mvk_f32_concat__scalar(&cat, in0, in1, out);"}},
    {OP_CONCAT, "generic", 1, {"mvk_i8_concat__scalar(&cat, ", "static const mvk_concat cat = {.pixels = 36, .ca = 16, .cb = 8,", ".sb = "}},
    {OP_CONCAT, "avx2", 1, {"mvk_i8_concat__avx2("}},
    {OP_POOL, "neon", 0, {"static const mvk_avgpool pool = {.pixels = 36, .c = 16};", "mvk_f32_avgpool__scalar(&pool, in0, out);"}},
    {OP_POOL, "avx2", 1, {"mvk_i8_avgpool__scalar(&pool, ", "static const mvk_avgpool pool = {.pixels = 36, .c = 16,", ".mult = "}},
    {OP_LAYERNORM, "generic", 0, {"static const mvk_layernorm ln = {.c = 16, .eps = 9.99999975e-06f, .gamma = ", "mvk_f32_layernorm__scalar(&ln, in0, out, 36);"}},
    {OP_LAYERNORM, "generic", 1, {"mvk_i8_layernorm__scalar(&ln, (const int8_t *)in0, (int8_t *)out, r0, r1);", "static const mvk_layernorm ln = {.c = 16, .gamma_q = ", ".eps_q = INT64_C("}},
    {OP_LAYERNORM, "neon", 1, {"mvk_i8_layernorm__neon("}},
    {OP_BATCHNORM, "avx2", 0, {"static const mvk_map map = {.pixels = 36, .c = 16};", "mvk_f32_batchnorm__scalar(&map, in0, out, "}},
    {OP_PATCHES, "generic", 0, {"mvk_f32_remap__scalar(in0, out, 16, &remap);", ".kind = MVK_REMAP_UNFOLD, .ph = 2, .pw = 2, .gh = 6, .gw = 6, .mh = 6, .mw = 6", ".kind = MVK_REMAP_FOLD"}},
    {OP_PATCHES, "avx2", 1, {"mvk_i8_remap__scalar((const int8_t *)in0, (int8_t *)out, 16, &remap);"}},
    {OP_ATTENTION, "generic", 0, {"mvk_f32_attention__scalar(&att, in0, out, scratch);", "static const mvk_attention att = {.positions = 4, .tokens = 9, .dim = 16, .heads = 2,", ".scale = 0.353553385f};"}},
    {OP_ATTENTION, "avx2", 0, {"mvk_f32_attention_heads__avx2(r0, r1, &att, in0, out, scratch);"}},
    {OP_ATTENTION, "neon", 0, {"mvk_f32_attention_heads__neon("}},
    {OP_GROUPNORM, "generic", 0, {"static const mvk_layernorm ln = {.c = 16, .eps = 9.99999975e-06f, .gamma = ", "mvk_f32_groupnorm__scalar(&ln, in0, out, 36);"}},
    {OP_GROUPNORM, "avx2", 0, {"mvk_f32_groupnorm__avx2(&ln, in0, out, 36);"}},
    {OP_GROUPNORM, "neon", 0, {"mvk_f32_groupnorm__neon(&ln, in0, out, 36);"}},
    {OP_GROUPNORM, "generic", 1, {"mvk_i8_groupnorm__scalar(&ln, (const int8_t *)in0, (int8_t *)out, 36);", ".eps_q = INT64_C("}},
    {OP_LINEAR_ATTENTION, "avx2", 1, {"mvk_i8_linear_attention__avx2(&att, (const int8_t *)in0, (int8_t *)out, (int32_t *)scratch);", "    .exp2_lut = "}},
    {OP_LINEAR_ATTENTION, "generic", 1, {"mvk_i8_linear_attention__scalar(&att, (const int8_t *)in0, (int8_t *)out, (int32_t *)scratch);"}},
    {OP_GROUPNORM, "neon", 1, {"mvk_i8_groupnorm__neon(&ln, (const int8_t *)in0, (int8_t *)out, 36);"}},
    {OP_RESIZE, "neon", 1, {"static const mvk_resize rs = {.in_h = 6, .in_w = 6, .out_h = 7, .out_w = 7, .c = 16, .ty = ty, .tx = tx};", "static const mvk_lerp ty[7] = {", "mvk_i8_resize__scalar(&rs, (const int8_t *)in0, (int8_t *)out);"}},
    {OP_LINEAR_ATTENTION, "neon", 0, {"static const mvk_linear_attention att = {.h = 6, .w = 6, .dim = 8, .patch_h = 2, .patch_w = 2};", "mvk_f32_linear_attention__scalar(&att, in0, out, scratch);"}},
    {OP_RESIZE, "generic", 0, {"static const mvk_resize rs = {.in_h = 6, .in_w = 6, .out_h = 7, .out_w = 7, .c = 16};", "mvk_f32_resize__scalar(&rs, in0, out);"}},
    {OP_ATTENTION, "generic", 1, {"mvk_i8_attention__scalar(&att, (const int8_t *)in0, (int8_t *)out, (int32_t *)scratch, r0, r1);", "    .exp2_lut = ", "mvk_i8_quantize__scalar("}},
    {OP_ATTENTION, "avx2", 1, {"mvk_i8_attention__avx2(", "mvk_i8_quantize__avx2("}},
};

START_TEST(op_lowering_emits_its_kernels)
{
    const lowering_case *c = &cases[_i];
    mvit_graph g;
    mvit_model_desc desc;
    build(&g, &desc, c->s);
    char *text = lower(&g, c->target, c->int8);
    for (int k = 0; k < 3 && c->want[k]; k++)
        ck_assert_msg(strstr(text, c->want[k]), "case %d (%s, %s): no '%s' in the generated file",
                      _i, c->target, c->int8 ? "int8" : "fp32", c->want[k]);
    free(text);
    mvit_graph_free(&g);
}
END_TEST

/* A missing int8 rule is an error naming the node, not a crash. */
START_TEST(batchnorm_has_no_int8_form)
{
    mvit_graph g;
    mvit_model_desc desc;
    build(&g, &desc, OP_BATCHNORM);
    mvit_qrange *r = malloc((size_t)g.num_values * sizeof *r);
    for (int v = 0; v < g.num_values; v++)
        r[v] = (mvit_qrange){-4.0, 4.0};
    mvit_diag d = {0};
    ck_assert_int_lt(pass_quantize_int8(&g, r, NULL, &d), 0);
    ck_assert_ptr_nonnull(strstr(d.msg, "BatchNorm must be folded first"));
    free(r);
    mvit_graph_free(&g);
}
END_TEST

/* The classifier each lowering shares decides alike for everyone. */
START_TEST(conv_classifier)
{
    static const struct {
        shape s;
        const char *target;
        mvit_conv_kind want;
    } k[] = {
        {CONV_POINTWISE, "avx2", MVIT_CONV_POINTWISE}, {CONV_DEPTHWISE, "neon", MVIT_CONV_DEPTHWISE},
        {CONV_DENSE, "avx2", MVIT_CONV_DENSE},         {CONV_WINOGRAD, "avx2", MVIT_CONV_WINOGRAD},
        {CONV_WINOGRAD, "generic", MVIT_CONV_DENSE},   {CONV_WINOGRAD, NULL, MVIT_CONV_DENSE},
        {CONV_GROUPED, "neon", MVIT_CONV_GROUPED},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        mvit_graph g;
        mvit_model_desc desc;
        build(&g, &desc, k[i].s);
        const mvit_node *n = &g.nodes[1]; /* after the stem */
        const mvit_target *t = k[i].target ? mvit_find_target(k[i].target) : NULL;
        ck_assert_int_eq(mvit_conv_classify(&g, n, t), k[i].want);
        mvit_graph_free(&g);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_op_has_its_rules);
    tcase_add_loop_test(tc, op_lowering_emits_its_kernels, 0, sizeof cases / sizeof cases[0]);
    tcase_add_test(tc, batchnorm_has_no_int8_form);
    tcase_add_test(tc, conv_classifier);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
