/* BATCHNORM: inference-mode BatchNorm, y = (x - mean) * gamma / sqrt(var + eps) + beta per
 * channel. fold_bn folds every one that follows a conv into it; one that survives runs as a
 * per-channel scale and shift. No int8 form: pass_quantize_int8 runs after fold_bn. */
#include <math.h>
#include <stdlib.h>

#include "kernels/f32-batchnorm-scalar.c"
#include "ops/ops.h"

static void eval(const mvit_graph *g, const mvit_node *n, float **b)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    const int c = a->dims[2];
    float *sc = mvit_xmalloc((size_t)c * sizeof *sc), *sh = mvit_xmalloc((size_t)c * sizeof *sh);
    for (int i = 0; i < c; i++) {
        double s = n->bn_gamma[i] / sqrt((double)n->bn_var[i] + n->eps);
        sc[i] = (float)s;
        sh[i] = (float)(n->bn_beta[i] - n->bn_mean[i] * s);
    }
    const mvk_map p = {.pixels = (int64_t)a->dims[0] * a->dims[1], .c = c};
    mvk_f32_batchnorm__scalar(&p, b[n->inputs[0]], b[n->output], sc, sh);
    free(sc);
    free(sh);
}

static void lower_f32(mvit_codegen *cg, const mvit_node *n)
{
    const mvit_value *a = &cg->g->values[n->inputs[0]];
    int c = a->dims[2];
    float *scale = mvit_xmalloc((size_t)c * sizeof *scale);
    float *shift = mvit_xmalloc((size_t)c * sizeof *shift);
    for (int i = 0; i < c; i++) { /* as the kernels' LayerNorm: no libm in generated code */
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
    emit(&cg->body, "static const mvk_map map = {.pixels = %lld, .c = %d};",
         (long long)a->dims[0] * a->dims[1], c);
    emit(&cg->body, "mvk_f32_batchnorm__scalar(&map, in0, out, %s, %s);", sc, sh);
}

const mvit_op_def mvit_op_batchnorm = {
    .infer = mvit_infer_same,
    .macs = mvit_no_macs,
    .eval = eval,
    .lower_f32 = lower_f32,
};
