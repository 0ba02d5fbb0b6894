/* The op table, and the small helpers the op files share. */
#include "ops/ops.h"

#include <string.h>

const mvit_op_def *const mvit_op_defs[MVIT_OP_COUNT] = {
#define OP(e, name, nin) [MVIT_OP_##e] = &mvit_op_##name,
#include "ir/ops.def"
#undef OP
};

int mvit_op_fail_shape(const mvit_graph *g, const mvit_node *n, mvit_diag *d, const char *what)
{
    const mvit_value *a = &g->values[n->inputs[0]];
    return mvit_diag_at(d, MVIT_EINVAL, g->desc ? g->desc->path : "graph", n->loc.line,
                        n->loc.col, "%s '%s': %s (input %dx%dx%d)", mvit_op_names[n->op], n->name,
                        what, a->dims[0], a->dims[1], a->dims[2]);
}

int mvit_infer_same(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d)
{
    (void)d;
    const mvit_value *a = &g->values[n->inputs[0]];
    out->layout = a->layout;
    memcpy(out->dims, a->dims, sizeof out->dims);
    return 0;
}

int64_t mvit_no_macs(const mvit_graph *g, const mvit_node *n)
{
    (void)g, (void)n;
    return 0;
}

void mvit_node_kernel_work(const mvit_graph *g, const mvit_node *n, const mvit_target *t, int int8,
                           mvit_kernel_work *w)
{
    const mvit_op_def *def = mvit_op_defs[n->op];
    w->macs = def->macs(g, n);
    w->elems = 0;
    if (def->kernel_work)
        def->kernel_work(g, n, t, int8, w);
}

int mvit_quantize_nothing(mvit_qctx *c, int idx)
{
    (void)c, (void)idx;
    return 0;
}
