/* Folds an inference BatchNorm into the convolution that feeds it (when the conv's output
 * has no other reader): w'[..][o] = w[..][o] * s[o], b'[o] = (b[o] - mean[o]) * s[o] + beta[o]
 * with s = gamma / sqrt(var + eps), computed in double. */
#include <stdlib.h>

#include "kernels/mvk-prelude.h"
#include "passes/passes.h"

static void fold_into(mvit_node *conv, const mvit_node *bn)
{
    const int cout = conv->out_channels;
    if (!conv->bias) {
        conv->bias = mvit_xcalloc((size_t)cout, sizeof *conv->bias);
    }
    double *s = mvit_xmalloc((size_t)cout * sizeof *s);
    for (int o = 0; o < cout; o++) {
        s[o] = (double)bn->bn_gamma[o] * mvk_rsqrt((double)bn->bn_var[o] + bn->eps);
        conv->bias[o] = (float)(((double)conv->bias[o] - bn->bn_mean[o]) * s[o] + bn->bn_beta[o]);
    }
    /* HWIO: output channel fastest */
    for (int64_t i = 0; i < conv->weight_numel; i++)
        conv->weight[i] = (float)(conv->weight[i] * s[i % cout]);
    free(s);
}

int pass_fold_bn(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *bn = &g->nodes[i];
        if (bn->dead || bn->op != MVIT_OP_BATCHNORM)
            continue;
        int p = mvit_sole_producer(g, bn->inputs[0], i);
        if (p < 0)
            continue;
        mvit_node *conv = &g->nodes[p];
        if (conv->op != MVIT_OP_CONV2D || conv->act != MVIT_ACT_NONE || conv->residual >= 0)
            continue;
        fold_into(conv, bn);
        mvit_absorb_consumer(g, p, i);
    }
    return 0;
}
