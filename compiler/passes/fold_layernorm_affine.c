/* Moves a LayerNorm's or GroupNorm's gamma and beta into the GEMM (1x1 conv or linear) that is
 * its only reader, keeping the norm itself (as the identity affine). For int8 builds (both
 * norms): the int8 norm then produces plain normalised values, which quantise well, and needs
 * no per-channel tables; the folded scales go into the GEMM's per-channel weight
 * quantisation. For float builds (GroupNorm; pass_fuse_layernorm folds a LayerNorm and also
 * removes it, normalising inside the GEMM): the GroupNorm kernel skips the affine. A GEMM that
 * reads the norm as the first part of a fused concat takes the fold on those rows alone. */
#include "passes/passes.h"

int pass_fold_layernorm_affine(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *ln = &g->nodes[i];
        if (ln->dead || (ln->op != MVIT_OP_LAYERNORM && ln->op != MVIT_OP_GROUPNORM) ||
            mvit_value_uses(g, ln->output) != 1)
            continue;
        for (int j = i + 1; j < g->num_nodes; j++) {
            mvit_node *c = &g->nodes[j];
            if (c->dead || c->num_inputs < 1 || c->inputs[0] != ln->output)
                continue;
            if (mvit_is_gemm(c) && c->residual != ln->output) {
                const int k = g->values[ln->inputs[0]].dims[2];
                mvit_fold_ln_affine(c, ln, k);
                for (int ch = 0; ch < k; ch++) {
                    ln->ln_gamma[ch] = 1.0f;
                    ln->ln_beta[ch] = 0.0f;
                }
            }
            break;
        }
    }
    return 0;
}
