/* Moves a SiLU into the epilogue of the conv or linear that feeds it, so the activation is
 * applied while the output is still in registers instead of in a second pass over memory. */
#include "passes/passes.h"

int pass_fuse_activation(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *act = &g->nodes[i];
        if (act->dead || act->op != MVIT_OP_SILU)
            continue;
        int p = mvit_sole_producer(g, act->inputs[0], i);
        if (p < 0)
            continue;
        mvit_node *prod = &g->nodes[p];
        if ((prod->op != MVIT_OP_CONV2D && prod->op != MVIT_OP_LINEAR) ||
            prod->act != MVIT_ACT_NONE)
            continue;
        prod->act = MVIT_ACT_SILU;
        mvit_absorb_consumer(g, p, i);
    }
    return 0;
}
