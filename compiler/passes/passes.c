/* The pass pipeline, in order, and the small graph surgery the fusion passes share. */
#include "passes/passes.h"

void mvit_absorb_consumer(mvit_graph *g, int into, int from)
{
    mvit_node *a = &g->nodes[into], *b = &g->nodes[from];
    a->output = b->output;
    g->values[b->output].producer = into;
    b->dead = 1;
}

int mvit_sole_producer(const mvit_graph *g, int v, int reader)
{
    (void)reader;
    int p = g->values[v].producer;
    if (p < 0 || g->nodes[p].dead || g->nodes[p].output != v)
        return -1;
    if (g->values[v].kind != MVIT_VALUE_TEMP || mvit_value_uses(g, v) != 1)
        return -1;
    return p;
}

typedef int (*pass_fn)(mvit_graph *g, mvit_diag *d);

int mvit_run_passes(mvit_graph *g, const mvit_pass_options *opt, mvit_diag *d)
{
    static const pass_fn fusion[] = {pass_fold_bn, pass_fuse_activation, pass_fuse_residual,
                                     pass_fuse_patch_remap, pass_fuse_concat,
                                     pass_fuse_layernorm, pass_fold_layernorm_affine};
    int rc;
    if (!opt || !opt->no_fusion) {
        for (size_t i = 0; i < sizeof fusion / sizeof fusion[0]; i++) {
            if ((rc = fusion[i](g, d)) < 0)
                return rc;
            if (opt && opt->verify && (rc = mvit_ir_verify(g, d)) < 0)
                return rc;
        }
    }
    return 0;
}
