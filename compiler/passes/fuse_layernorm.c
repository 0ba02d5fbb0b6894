/* Fuses a LayerNorm into the linear (or 1x1 conv) that is its only reader. With
 * x^ = (x - mean) / sqrt(var + eps):  LN(x) W + b = x^ (diag(gamma) W) + (beta W + b),
 * so gamma and beta fold into the weights and bias (in double) and the GEMM only normalises
 * each row of A as it loads it: the normalised tensor is never written to memory. Into a
 * GEMM whose rows are resized blends (a MobileViT fold back to a map that does not split
 * into whole patches) too: the affine commutes with the blend (its weights sum to one), and
 * the kernel normalises each blended source row. */
#include <stdlib.h>

#include "ops/ops.h"
#include "passes/passes.h"

int mvit_is_gemm(const mvit_node *n)
{
    if (n->op == MVIT_OP_LINEAR)
        return 1;
    return n->op == MVIT_OP_CONV2D && mvit_conv_is_pointwise(n);
}

void mvit_fold_ln_affine(mvit_node *gemm, const mvit_node *ln, int k)
{
    const int n = gemm->out_channels;
    if (!gemm->bias)
        gemm->bias = mvit_xcalloc((size_t)n, sizeof *gemm->bias);
    for (int j = 0; j < n; j++) {
        double b = gemm->bias[j];
        for (int i = 0; i < k; i++)
            b += (double)ln->ln_beta[i] * gemm->weight[(int64_t)i * n + j];
        gemm->bias[j] = (float)b;
    }
    for (int i = 0; i < k; i++) /* weight is [K][N] (IO / HWIO with 1x1) */
        for (int j = 0; j < n; j++)
            gemm->weight[(int64_t)i * n + j] =
                (float)((double)gemm->weight[(int64_t)i * n + j] * ln->ln_gamma[i]);
}

int pass_fuse_layernorm(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *ln = &g->nodes[i];
        if (ln->dead || ln->op != MVIT_OP_LAYERNORM || mvit_value_uses(g, ln->output) != 1)
            continue;
        for (int j = i + 1; j < g->num_nodes; j++) {
            mvit_node *c = &g->nodes[j];
            if (c->dead || c->num_inputs < 1 || c->inputs[0] != ln->output)
                continue;
            if (mvit_is_gemm(c) && !c->norm_rows && c->residual != ln->output) {
                mvit_fold_ln_affine(c, ln, g->values[ln->inputs[0]].dims[2]);
                c->norm_rows = 1;
                c->eps = ln->eps;
                c->inputs[0] = ln->inputs[0];
                ln->dead = 1;
            }
            break;
        }
    }
    return 0;
}
