/* Pass tests: build a tiny graph, run one pass, check the rewritten IR, and compare the
 * graph's output before and after with the test interpreter (ir_exec.h). Also checks the
 * memory plan's invariants on a graph with branching lifetimes. */
#include <check.h>
#include <math.h>
#include <stdio.h>

#include "ir_exec.h"
#include "passes/passes.h"

static unsigned seed = 7;
static float frand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return (float)((seed >> 9) & 0x7fff) / 16384.0f - 1.0f;
}
static float *rvec(int64_t n, float lo, float hi)
{
    float *v = malloc((size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * (frand() + 1.0f) / 2.0f;
    return v;
}

static int add_conv(mvit_graph *g, int x, int cout, int k, int stride, int groups, int bias)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    int cin = g->values[x].dims[2];
    a.kernel = k, a.stride = stride, a.pad = (k - 1) / 2, a.groups = groups, a.out_channels = cout;
    a.weight_numel = (int64_t)k * k * (cin / groups) * cout;
    a.weight = rvec(a.weight_numel, -0.5f, 0.5f);
    a.bias = bias ? rvec(cout, -0.2f, 0.2f) : NULL;
    int inputs[2] = {x, -1};
    int n = mvit_graph_add_node(g, MVIT_OP_CONV2D, "conv", (mvit_src_loc){0, 0}, inputs, &a, NULL);
    ck_assert_int_ge(n, 0);
    return g->nodes[n].output;
}

static int add_bn(mvit_graph *g, int x)
{
    mvit_node a;
    mvit_node_attrs_init(&a);
    int c = g->values[x].dims[2];
    a.bn_gamma = rvec(c, 0.5f, 1.5f), a.bn_beta = rvec(c, -0.3f, 0.3f);
    a.bn_mean = rvec(c, -0.5f, 0.5f), a.bn_var = rvec(c, 0.3f, 2.0f), a.eps = 1e-5;
    int inputs[2] = {x, -1};
    int n = mvit_graph_add_node(g, MVIT_OP_BATCHNORM, "bn", (mvit_src_loc){0, 0}, inputs, &a, NULL);
    return g->nodes[n].output;
}

static int add_op(mvit_graph *g, mvit_op op, int x, int y)
{
    int inputs[2] = {x, y};
    int n = mvit_graph_add_node(g, op, mvit_op_names[op], (mvit_src_loc){0, 0}, inputs, NULL, NULL);
    ck_assert_int_ge(n, 0);
    return g->nodes[n].output;
}

static int live_count(const mvit_graph *g, mvit_op op)
{
    int c = 0;
    for (int i = 0; i < g->num_nodes; i++)
        c += !g->nodes[i].dead && g->nodes[i].op == op;
    return c;
}

/* input 6x6x4 -> conv3x3 -> BN -> SiLU -> conv1x1 -> BN -> (+ input) -> out */
static void build_block(mvit_graph *g)
{
    mvit_graph_init(g, NULL);
    int x = mvit_graph_add_value(g, "input", MVIT_LAYOUT_HWC, 6, 6, 4);
    g->values[x].kind = MVIT_VALUE_INPUT;
    g->input = x;
    int y = add_op(g, MVIT_OP_SILU, add_bn(g, add_conv(g, x, 8, 3, 1, 1, 0)), -1);
    y = add_bn(g, add_conv(g, y, 4, 1, 1, 1, 1));
    y = add_op(g, MVIT_OP_ADD, y, x);
    g->output = y;
    g->values[y].kind = MVIT_VALUE_OUTPUT;
}

static void expect_same_output(mvit_graph *before_g, mvit_graph *after_g, float tol)
{
    float *in = rvec(6 * 6 * 4, -1.0f, 1.0f), a[6 * 6 * 4], b[6 * 6 * 4];
    ir_exec(before_g, in, a);
    ir_exec(after_g, in, b);
    for (int i = 0; i < 6 * 6 * 4; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= tol * (1.0f + fabsf(a[i])),
                      "output %d: before %.9g after %.9g", i, a[i], b[i]);
    free(in);
}

START_TEST(fold_bn_removes_bn_and_keeps_output)
{
    mvit_graph ref, g;
    seed = 7, build_block(&ref);
    seed = 7, build_block(&g);
    mvit_diag d;
    ck_assert_int_eq(pass_fold_bn(&g, &d), 0);
    ck_assert_int_eq(mvit_ir_verify(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_BATCHNORM), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_CONV2D), 2);
    ck_assert_ptr_nonnull(g.nodes[0].bias); /* created for the bias-free conv */
    expect_same_output(&ref, &g, 1e-5f);
    mvit_graph_free(&ref);
    mvit_graph_free(&g);
}
END_TEST

START_TEST(fuse_activation_and_residual)
{
    mvit_graph ref, g;
    seed = 7, build_block(&ref);
    seed = 7, build_block(&g);
    mvit_diag d;
    ck_assert_int_eq(pass_fold_bn(&g, &d), 0);
    ck_assert_int_eq(pass_fuse_activation(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_SILU), 0);
    ck_assert_int_eq(g.nodes[0].act, MVIT_ACT_SILU);
    ck_assert_int_eq(pass_fuse_residual(&g, &d), 0);
    ck_assert_int_eq(mvit_ir_verify(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_ADD), 0);
    int last = g.values[g.output].producer;
    ck_assert_int_eq(g.nodes[last].op, MVIT_OP_CONV2D);
    ck_assert_int_eq(g.nodes[last].residual, g.input);
    expect_same_output(&ref, &g, 1e-5f);
    mvit_graph_free(&ref);
    mvit_graph_free(&g);
}
END_TEST

START_TEST(no_fusion_when_output_has_two_readers)
{
    mvit_graph g;
    mvit_graph_init(&g, NULL);
    int x = mvit_graph_add_value(&g, "input", MVIT_LAYOUT_HWC, 4, 4, 3);
    g.values[x].kind = MVIT_VALUE_INPUT;
    g.input = x;
    int c = add_conv(&g, x, 3, 3, 1, 1, 1);
    int s = add_op(&g, MVIT_OP_SILU, c, -1);
    int y = add_op(&g, MVIT_OP_ADD, s, c); /* conv output read twice */
    g.output = y;
    g.values[y].kind = MVIT_VALUE_OUTPUT;
    mvit_diag d;
    ck_assert_int_eq(pass_fuse_activation(&g, &d), 0);
    ck_assert_int_eq(pass_fuse_residual(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_SILU), 1);
    ck_assert_int_eq(live_count(&g, MVIT_OP_ADD), 1);
    ck_assert_int_eq(g.nodes[0].act, MVIT_ACT_NONE);
    mvit_graph_free(&g);
}
END_TEST

/* Every pair of arena blocks that are alive at the same node must not overlap. */
START_TEST(plan_memory_no_overlap_of_live_values)
{
    mvit_graph g;
    mvit_graph_init(&g, NULL);
    int x = mvit_graph_add_value(&g, "input", MVIT_LAYOUT_HWC, 8, 8, 3);
    g.values[x].kind = MVIT_VALUE_INPUT;
    g.input = x;
    int a = add_conv(&g, x, 16, 3, 2, 1, 1);
    int b = add_conv(&g, a, 16, 3, 1, 16, 1);
    int c = add_conv(&g, b, 24, 1, 1, 1, 1);
    int e = add_conv(&g, a, 24, 1, 1, 1, 1); /* a stays alive across b and c */
    int f = add_op(&g, MVIT_OP_ADD, c, e);
    int p = add_op(&g, MVIT_OP_GLOBAL_AVGPOOL, f, -1);
    g.output = p;
    g.values[p].kind = MVIT_VALUE_OUTPUT;
    mvit_diag d;
    ck_assert_int_eq(pass_plan_memory(&g, &d), 0);
    int vals[] = {a, b, c, e, f};
    int64_t sum = 0;
    for (int i = 0; i < 5; i++) {
        const mvit_value *v = &g.values[vals[i]];
        ck_assert_int_eq(v->offset % 64, 0);
        ck_assert_int_le(v->offset + mvit_value_bytes(v), g.arena_bytes);
        sum += mvit_value_bytes(v);
    }
    ck_assert_int_eq(g.values[p].offset, -1); /* the output goes to the caller's buffer */
    /* lifetimes in node order: a[0,3] b[1,2] c[2,4] e[3,4] f[4,5] */
    int first[] = {0, 1, 2, 3, 4}, last[] = {3, 2, 4, 4, 5};
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++) {
            if (last[i] < first[j] || last[j] < first[i])
                continue;
            const mvit_value *u = &g.values[vals[i]], *v = &g.values[vals[j]];
            ck_assert_msg(u->offset + mvit_value_bytes(u) <= v->offset ||
                              v->offset + mvit_value_bytes(v) <= u->offset,
                          "values %d and %d overlap while both alive", vals[i], vals[j]);
        }
    ck_assert_int_lt(g.arena_bytes, sum); /* reuse happened */
    mvit_graph_free(&g);
}
END_TEST

/* input hxwx3 -> conv1x1 -> unfold 2x2 -> layernorm -> fold -> conv1x1 (+SiLU); a map that
 * does not split into 2x2 patches is resized to the grid and back */
static void build_patch_graph(mvit_graph *g, int h, int w)
{
    mvit_graph_init(g, NULL);
    const int gh = (h + 1) / 2 * 2, gw = (w + 1) / 2 * 2;
    int x = mvit_graph_add_value(g, "input", MVIT_LAYOUT_HWC, h, w, 3);
    g->values[x].kind = MVIT_VALUE_INPUT;
    g->input = x;
    int y = add_conv(g, x, 5, 1, 1, 1, 0);
    mvit_node a;
    mvit_node_attrs_init(&a);
    a.patch_h = a.patch_w = 2, a.map_h = h, a.map_w = w, a.grid_h = gh, a.grid_w = gw;
    int in[2] = {y, -1};
    y = mvit_graph_add_node(g, MVIT_OP_UNFOLD, "unfold", (mvit_src_loc){0, 0}, in, &a, NULL);
    y = g->nodes[y].output;
    mvit_node_attrs_init(&a);
    a.ln_gamma = rvec(5, 0.5f, 1.5f), a.ln_beta = rvec(5, -0.5f, 0.5f), a.eps = 1e-5;
    in[0] = y;
    y = mvit_graph_add_node(g, MVIT_OP_LAYERNORM, "ln", (mvit_src_loc){0, 0}, in, &a, NULL);
    y = g->nodes[y].output;
    mvit_node_attrs_init(&a);
    a.patch_h = a.patch_w = 2, a.map_h = h, a.map_w = w, a.grid_h = gh, a.grid_w = gw;
    in[0] = y;
    y = mvit_graph_add_node(g, MVIT_OP_FOLD, "fold", (mvit_src_loc){0, 0}, in, &a, NULL);
    y = g->nodes[y].output;
    y = add_op(g, MVIT_OP_SILU, add_conv(g, y, 4, 1, 1, 1, 1), -1);
    g->output = y;
    g->values[y].kind = MVIT_VALUE_OUTPUT;
}

/* maps that split into 2x2 patches, and maps resized to the grid and back (odd sides, 1x1) */
static const int patch_maps[][2] = {{4, 6}, {5, 7}, {3, 3}, {1, 1}, {6, 3}};

START_TEST(fuse_patch_remap_removes_unfold_and_fold)
{
    const int h = patch_maps[_i][0], w = patch_maps[_i][1], resized = h % 2 || w % 2;
    mvit_graph ref, g;
    seed = 11, build_patch_graph(&ref, h, w);
    seed = 11, build_patch_graph(&g, h, w);
    mvit_diag d;
    ck_assert_int_eq(pass_fuse_patch_remap(&g, &d), 0);
    ck_assert_int_eq(mvit_ir_verify(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_UNFOLD), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_FOLD), 0);
    ck_assert_int_eq(g.nodes[0].remap, MVK_REMAP_UNFOLD);
    ck_assert_int_eq(mvit_node_resizes(&g.nodes[0]), resized);
    ck_assert_int_eq(g.values[g.nodes[0].output].layout, MVIT_LAYOUT_TOKENS);
    int last_conv = g.values[g.nodes[g.values[g.output].producer].inputs[0]].producer;
    ck_assert_int_eq(g.nodes[last_conv].remap, MVK_REMAP_FOLD);
    ck_assert_int_eq(mvit_node_resizes(&g.nodes[last_conv]), resized);
    const int n = h * w * 4;
    float *in = rvec(h * w * 3, -1.0f, 1.0f), *a = rvec(n, 0, 0), *b = rvec(n, 0, 0);
    ir_exec(&ref, in, a);
    ir_exec(&g, in, b);
    /* the conv commutes with the index maps exactly; with a resize, the blend moves from the
     * conv's output to its input rows, which rounds differently */
    for (int i = 0; i < n; i++)
        ck_assert_msg(resized ? fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(a[i])) : a[i] == b[i],
                      "%dx%d output %d: before %.9g after %.9g", h, w, i, a[i], b[i]);
    /* the LayerNorm fuses into the fold's conv, resized or not (same graph at every size) */
    ck_assert_int_eq(pass_fuse_layernorm(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_LAYERNORM), 0);
    ck_assert_int_eq(g.nodes[last_conv].norm_rows, 1);
    ir_exec(&g, in, b);
    for (int i = 0; i < n; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(a[i])),
                      "%dx%d output %d with the LayerNorm fused: before %.9g after %.9g", h, w, i,
                      a[i], b[i]);
    free(in), free(a), free(b);
    mvit_graph_free(&ref);
    mvit_graph_free(&g);
}
END_TEST

/* input 5x5x3 -> conv3x3 (a) and conv1x1 (b) -> concat [a | b] -> conv3x3 */
static void build_concat_graph(mvit_graph *g)
{
    mvit_graph_init(g, NULL);
    int x = mvit_graph_add_value(g, "input", MVIT_LAYOUT_HWC, 5, 5, 3);
    g->values[x].kind = MVIT_VALUE_INPUT;
    g->input = x;
    int a = add_conv(g, x, 4, 3, 1, 1, 1);
    int b = add_conv(g, x, 6, 1, 1, 1, 1);
    int y = add_conv(g, add_op(g, MVIT_OP_CONCAT, a, b), 7, 3, 1, 1, 1);
    g->output = y;
    g->values[y].kind = MVIT_VALUE_OUTPUT;
}

START_TEST(fuse_concat_reads_both_halves)
{
    mvit_graph ref, g;
    seed = 5, build_concat_graph(&ref);
    seed = 5, build_concat_graph(&g);
    mvit_diag d;
    ck_assert_int_eq(pass_fuse_concat(&g, &d), 0);
    ck_assert_int_eq(mvit_ir_verify(&g, &d), 0);
    ck_assert_int_eq(live_count(&g, MVIT_OP_CONCAT), 0);
    const mvit_node *conv = &g.nodes[g.values[g.output].producer];
    ck_assert_int_eq(conv->num_inputs, 2);
    ck_assert_int_eq(mvit_node_in_channels(&g, conv), 10);
    ck_assert_int_eq(mvit_node_macs(&g, conv), 5 * 5 * 7 * 9 * 10);
    float *in = rvec(5 * 5 * 3, -1.0f, 1.0f), a[5 * 5 * 7], b[5 * 5 * 7];
    ir_exec(&ref, in, a);
    ir_exec(&g, in, b);
    for (int i = 0; i < 5 * 5 * 7; i++)
        ck_assert_msg(a[i] == b[i], "output %d: before %.9g after %.9g", i, a[i], b[i]);
    free(in);
    mvit_graph_free(&ref);
    mvit_graph_free(&g);
}
END_TEST

/* tokens 4x5x6 -> layernorm -> linear(+SiLU) + residual (the layernorm's input) */
START_TEST(fuse_layernorm_folds_affine_into_linear)
{
    mvit_graph gs[2];
    for (int v = 0; v < 2; v++) {
        mvit_graph *g = &gs[v];
        seed = 21;
        mvit_graph_init(g, NULL);
        int x = mvit_graph_add_value(g, "input", MVIT_LAYOUT_TOKENS, 4, 5, 6);
        g->values[x].kind = MVIT_VALUE_INPUT;
        g->input = x;
        mvit_node a;
        mvit_node_attrs_init(&a);
        a.ln_gamma = rvec(6, 0.5f, 1.5f), a.ln_beta = rvec(6, -0.5f, 0.5f), a.eps = 1e-5;
        int in[2] = {x, -1};
        int y = mvit_graph_add_node(g, MVIT_OP_LAYERNORM, "ln", (mvit_src_loc){0, 0}, in, &a, NULL);
        y = g->nodes[y].output;
        mvit_node_attrs_init(&a);
        a.out_channels = 6, a.weight_numel = 36, a.weight = rvec(36, -0.5f, 0.5f);
        a.bias = rvec(6, -0.2f, 0.2f), a.act = MVIT_ACT_SILU, a.residual = x;
        in[0] = y;
        y = mvit_graph_add_node(g, MVIT_OP_LINEAR, "fc", (mvit_src_loc){0, 0}, in, &a, NULL);
        y = g->nodes[y].output;
        g->output = y;
        g->values[y].kind = MVIT_VALUE_OUTPUT;
    }
    mvit_diag d;
    ck_assert_int_eq(pass_fuse_layernorm(&gs[1], &d), 0);
    ck_assert_int_eq(mvit_ir_verify(&gs[1], &d), 0);
    ck_assert_int_eq(live_count(&gs[1], MVIT_OP_LAYERNORM), 0);
    ck_assert_int_eq(gs[1].nodes[1].norm_rows, 1);
    ck_assert_int_eq(gs[1].nodes[1].inputs[0], gs[1].input);
    float *in = rvec(120, -2.0f, 3.0f), a[120], b[120];
    ir_exec(&gs[0], in, a);
    ir_exec(&gs[1], in, b);
    for (int i = 0; i < 120; i++)
        ck_assert_msg(fabsf(a[i] - b[i]) <= 1e-5f * (1.0f + fabsf(a[i])),
                      "output %d: before %.9g after %.9g", i, a[i], b[i]);
    free(in);
    mvit_graph_free(&gs[0]);
    mvit_graph_free(&gs[1]);
}
END_TEST

START_TEST(verify_rejects_use_of_removed_value)
{
    mvit_graph g;
    seed = 3, build_block(&g);
    mvit_diag d;
    ck_assert_int_eq(mvit_ir_verify(&g, &d), 0);
    g.nodes[0].dead = 1; /* the first conv disappears but its reader stays */
    ck_assert_int_lt(mvit_ir_verify(&g, &d), 0);
    ck_assert_msg(strstr(d.msg, "not yet computed or was removed"), "%s", d.msg);
    mvit_graph_free(&g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("passes");
    TCase *tc = tcase_create("passes");
    tcase_add_test(tc, fold_bn_removes_bn_and_keeps_output);
    tcase_add_test(tc, fuse_activation_and_residual);
    tcase_add_test(tc, no_fusion_when_output_has_two_readers);
    tcase_add_test(tc, plan_memory_no_overlap_of_live_values);
    tcase_add_test(tc, verify_rejects_use_of_removed_value);
    tcase_add_loop_test(tc, fuse_patch_remap_removes_unfold_and_fold, 0,
                        (int)(sizeof patch_maps / sizeof patch_maps[0]));
    tcase_add_test(tc, fuse_concat_reads_both_halves);
    tcase_add_test(tc, fuse_layernorm_folds_affine_into_linear);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
