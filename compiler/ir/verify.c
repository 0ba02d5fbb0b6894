/* Structural checks of a graph, run after building and after every pass in tests and debug
 * builds: values are defined before they are read, nothing reads a dead node's output, the
 * graph output is produced by a live node, and fused attributes are consistent. */
#include "ir/ir.h"

static int fail(const mvit_graph *g, const mvit_node *n, mvit_diag *d, const char *what)
{
    return mvit_diag_at(d, MVIT_EINVAL, g->desc ? g->desc->path : "graph", n->loc.line,
                        n->loc.col, "internal error: IR invalid at %s '%s': %s",
                        mvit_op_names[n->op], n->name, what);
}

static int value_ready(const mvit_graph *g, int value, int before_node)
{
    if (value < 0 || value >= g->num_values)
        return 0;
    int p = g->values[value].producer;
    if (p < 0)
        return value == g->input;
    return p < before_node && !g->nodes[p].dead;
}

int mvit_ir_verify(const mvit_graph *g, mvit_diag *d)
{
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->num_inputs; k++)
            if (!value_ready(g, n->inputs[k], i))
                return fail(g, n, d, "reads a value that is not yet computed or was removed");
        if (n->residual >= 0) {
            if (!value_ready(g, n->residual, i))
                return fail(g, n, d, "residual is not computed before the node");
            const mvit_value *r = &g->values[n->residual], *o = &g->values[n->output];
            if (r->dims[0] != o->dims[0] || r->dims[1] != o->dims[1] || r->dims[2] != o->dims[2])
                return fail(g, n, d, "residual shape differs from the output");
        }
        if (n->output < 0 || n->output >= g->num_values || g->values[n->output].producer != i)
            return fail(g, n, d, "output value does not point back to its producer");
        if ((n->op == MVIT_OP_CONV2D || n->op == MVIT_OP_LINEAR) && !n->weight)
            return fail(g, n, d, "has no weights");
        if (n->act != MVIT_ACT_NONE && n->op != MVIT_OP_CONV2D && n->op != MVIT_OP_LINEAR)
            return fail(g, n, d, "only conv2d and linear carry a fused activation");
    }
    if (g->output < 0 || !value_ready(g, g->output, g->num_nodes))
        return mvit_diag_at(d, MVIT_EINVAL, "graph", 0, 0,
                            "internal error: graph output is not produced");
    return 0;
}
