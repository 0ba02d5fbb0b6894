/* Removes the MobileViT unfold and fold copies: a pointwise conv commutes with any
 * reordering of pixels, so conv_1x1 followed by unfold becomes a conv that reads its input
 * rows in token order (remap UNFOLD), and fold followed by conv_proj becomes a conv that reads
 * token rows in pixel order (remap FOLD). The kernels gather A rows; nothing is copied. A
 * block whose map does not split into whole patches resizes inside the same remap: each A
 * row is then a bilinear blend of 4 source rows (a pointwise conv commutes with it too: the
 * weights sum to one). */
#include "kernels/mvk-prelude.h"
#include "ops/ops.h"
#include "passes/passes.h"

static int plain_pointwise(const mvit_node *n)
{
    return n->op == MVIT_OP_CONV2D && mvit_conv_is_pointwise(n) && n->remap == MVK_REMAP_NONE &&
           n->residual < 0;
}

static void copy_geometry(mvit_node *conv, const mvit_node *patches)
{
    conv->patch_h = patches->patch_h, conv->patch_w = patches->patch_w;
    conv->map_h = patches->map_h, conv->map_w = patches->map_w;
    conv->grid_h = patches->grid_h, conv->grid_w = patches->grid_w;
}

/* conv_1x1 -> unfold  =>  conv reading its HWC input in token order, writing tokens */
static void fuse_unfold(mvit_graph *g, int u)
{
    const mvit_node *un = &g->nodes[u];
    int p = mvit_sole_producer(g, un->inputs[0], u);
    if (p < 0 || !plain_pointwise(&g->nodes[p]))
        return;
    mvit_node *conv = &g->nodes[p];
    conv->remap = MVK_REMAP_UNFOLD;
    copy_geometry(conv, un);
    mvit_absorb_consumer(g, p, u);
}

/* The live node reading value v, if it is the only reader. */
static int sole_consumer(const mvit_graph *g, int v)
{
    if (mvit_value_uses(g, v) != 1)
        return -1;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (!n->dead && n->num_inputs >= 1 && n->inputs[0] == v)
            return i;
    }
    return -1;
}

/* fold -> conv_proj  =>  conv reading token rows in pixel order */
static void fuse_fold(mvit_graph *g, int f)
{
    mvit_node *fold = &g->nodes[f];
    int c = sole_consumer(g, fold->output);
    if (c < 0 || !plain_pointwise(&g->nodes[c]))
        return;
    mvit_node *conv = &g->nodes[c];
    conv->inputs[0] = fold->inputs[0];
    conv->remap = MVK_REMAP_FOLD;
    copy_geometry(conv, fold);
    fold->dead = 1;
}

int pass_fuse_patch_remap(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    for (int i = 0; i < g->num_nodes; i++) {
        if (g->nodes[i].dead)
            continue;
        if (g->nodes[i].op == MVIT_OP_UNFOLD)
            fuse_unfold(g, i);
        else if (g->nodes[i].op == MVIT_OP_FOLD)
            fuse_fold(g, i);
    }
    return 0;
}
