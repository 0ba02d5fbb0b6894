/* Test-only IR interpreter: runs a graph with the scalar kernels, one heap buffer per value,
 * so pass tests can compare a graph's output before and after a rewrite without generating
 * and compiling C. Include once per test program. */
#ifndef MVIT_TEST_IR_EXEC_H
#define MVIT_TEST_IR_EXEC_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "kernels/f32-add-scalar.c"
#include "kernels/f32-attention-scalar.c"
#include "kernels/f32-avgpool-scalar.c"
#include "kernels/f32-batchnorm-scalar.c"
#include "kernels/f32-concat-scalar.c"
#include "kernels/f32-conv2d-scalar.c"
#include "kernels/f32-dwconv-scalar.c"
#include "kernels/f32-fold-scalar.c"
#include "kernels/f32-gemm-scalar.c"
#include "kernels/f32-layernorm-scalar.c"
#include "kernels/f32-silu-scalar.c"
#include "kernels/f32-unfold-scalar.c"

/* Runs g on input; copies the graph output (numel floats) to out. */
static void ir_exec(const mvit_graph *g, const float *input, float *out)
{
    float **buf = calloc((size_t)g->num_values, sizeof *buf);
    buf[g->input] = (float *)input;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        const mvit_value *o = &g->values[n->output], *a = &g->values[n->inputs[0]];
        float *y = buf[n->output] = malloc((size_t)mvit_value_bytes(o));
        const float *x = buf[n->inputs[0]];
        const float *x1 = n->num_inputs > 1 ? buf[n->inputs[1]] : NULL;
        const float *res = n->residual >= 0 ? buf[n->residual] : NULL;
        int64_t pix = (int64_t)a->dims[0] * a->dims[1];
        switch (n->op) {
        case MVIT_OP_CONV2D:
            if (n->norm_rows) {
                float *row = malloc((size_t)a->dims[2] * sizeof *row);
                mvk_f32_gemm_norm__scalar(x, y, n->weight, n->bias, res, mvit_value_numel(o) /
                                          o->dims[2], a->dims[2], o->dims[2], n->act, n->remap,
                                          n->map_h, n->map_w, n->patch_h, n->patch_w,
                                          (float)n->eps, row);
                free(row);
                break;
            }
            if (n->remap != MVK_REMAP_NONE) {
                mvk_f32_gemm_remap__scalar(x, y, n->weight, n->bias, res, mvit_value_numel(o) /
                                           o->dims[2], a->dims[2], o->dims[2], n->act, n->remap,
                                           n->map_h, n->map_w, n->patch_h, n->patch_w);
                break;
            }
            if (n->num_inputs == 2) {
                mvk_f32_conv2d_cat__scalar(x, x1, y, n->weight, n->bias, res, a->dims[0],
                                           a->dims[1], a->dims[2], g->values[n->inputs[1]].dims[2],
                                           o->dims[0], o->dims[1], o->dims[2], n->kernel,
                                           n->stride, n->pad, n->act);
                break;
            }
            mvk_f32_conv2d__scalar(x, y, n->weight, n->bias, res, a->dims[0], a->dims[1],
                                   a->dims[2], o->dims[0], o->dims[1], o->dims[2], n->kernel,
                                   n->stride, n->pad, n->groups, n->act);
            break;
        case MVIT_OP_LINEAR:
            if (n->norm_rows) {
                float *row = malloc((size_t)a->dims[2] * sizeof *row);
                mvk_f32_gemm_norm__scalar(x, y, n->weight, n->bias, res, pix, a->dims[2],
                                          o->dims[2], n->act, MVK_REMAP_NONE, 1, 1, 1, 1,
                                          (float)n->eps, row);
                free(row);
                break;
            }
            mvk_f32_gemm__scalar(x, y, n->weight, n->bias, res, pix, a->dims[2], o->dims[2],
                                 n->act);
            break;
        case MVIT_OP_BATCHNORM: {
            int c = a->dims[2];
            float *sc = malloc(c * sizeof *sc), *sh = malloc(c * sizeof *sh);
            for (int k = 0; k < c; k++) {
                double s = n->bn_gamma[k] / sqrt((double)n->bn_var[k] + n->eps);
                sc[k] = (float)s;
                sh[k] = (float)(n->bn_beta[k] - n->bn_mean[k] * s);
            }
            mvk_f32_batchnorm__scalar(x, y, sc, sh, pix, c);
            free(sc), free(sh);
            break;
        }
        case MVIT_OP_SILU:
            mvk_f32_silu__scalar(x, y, mvit_value_numel(o));
            break;
        case MVIT_OP_ADD:
            mvk_f32_add__scalar(x, x1, y, mvit_value_numel(o));
            break;
        case MVIT_OP_UNFOLD:
            mvk_f32_unfold__scalar(x, y, a->dims[0], a->dims[1], a->dims[2], n->patch_h,
                                   n->patch_w);
            break;
        case MVIT_OP_FOLD:
            mvk_f32_fold__scalar(x, y, o->dims[0], o->dims[1], o->dims[2], n->patch_h,
                                 n->patch_w);
            break;
        case MVIT_OP_LAYERNORM:
            mvk_f32_layernorm__scalar(x, y, n->ln_gamma, n->ln_beta, pix, a->dims[2],
                                      (float)n->eps);
            break;
        case MVIT_OP_ATTENTION: {
            float *scores = malloc((size_t)o->dims[1] * sizeof *scores);
            mvk_f32_attention__scalar(x, y, scores, o->dims[0], o->dims[1], o->dims[2], n->heads,
                                      (float)(1.0 / sqrt(o->dims[2] / n->heads)));
            free(scores);
            break;
        }
        case MVIT_OP_CONCAT:
            mvk_f32_concat__scalar(x, x1, y, pix, a->dims[2], g->values[n->inputs[1]].dims[2]);
            break;
        case MVIT_OP_GLOBAL_AVGPOOL:
            mvk_f32_avgpool__scalar(x, y, pix, a->dims[2]);
            break;
        case MVIT_OP_COUNT:
            break;
        }
    }
    memcpy(out, buf[g->output], (size_t)mvit_value_bytes(&g->values[g->output]));
    for (int v = 0; v < g->num_values; v++)
        if (v != g->input)
            free(buf[v]);
    free(buf);
}

#endif
