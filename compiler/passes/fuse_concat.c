/* Removes the channel concat before MobileViT's fusion conv: a dense (groups = 1) conv that
 * is the concat's only reader takes both concat operands as inputs and gathers its receptive
 * field from the two maps, so [shortcut | conv_proj] is never copied into one buffer. */
#include "passes/passes.h"

int pass_fuse_concat(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *cat = &g->nodes[i];
        if (cat->dead || cat->op != MVIT_OP_CONCAT || mvit_value_uses(g, cat->output) != 1)
            continue;
        for (int j = i + 1; j < g->num_nodes; j++) {
            mvit_node *conv = &g->nodes[j];
            if (conv->dead || conv->num_inputs != 1 || conv->inputs[0] != cat->output)
                continue;
            if (conv->op != MVIT_OP_CONV2D || conv->groups != 1 || conv->remap != 0)
                break;
            conv->num_inputs = 2;
            conv->inputs[0] = cat->inputs[0];
            conv->inputs[1] = cat->inputs[1];
            cat->dead = 1;
            break;
        }
    }
    return 0;
}
