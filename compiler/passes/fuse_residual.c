/* Moves a residual add into the epilogue of the conv or linear producing one operand, when
 * that producer has no other reader, no activation yet (the epilogue adds before it
 * activates), and the other operand is already computed when the producer runs. */
#include "passes/passes.h"

static int try_fuse(mvit_graph *g, int add, int operand, int other)
{
    const mvit_node *a = &g->nodes[add];
    int p = mvit_sole_producer(g, a->inputs[operand], add);
    if (p < 0)
        return 0;
    mvit_node *prod = &g->nodes[p];
    if ((prod->op != MVIT_OP_CONV2D && prod->op != MVIT_OP_LINEAR) ||
        prod->act != MVIT_ACT_NONE || prod->residual >= 0)
        return 0;
    int r = a->inputs[other];
    int rp = g->values[r].producer;
    if (rp >= p)
        return 0;
    prod->residual = r;
    mvit_absorb_consumer(g, p, add);
    return 1;
}

int pass_fuse_residual(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        if (g->nodes[i].dead || g->nodes[i].op != MVIT_OP_ADD)
            continue;
        if (!try_fuse(g, i, 0, 1))
            try_fuse(g, i, 1, 0);
    }
    return 0;
}
