/* Graph construction helpers; an op's own rules (shapes, MACs) are in compiler/ops/. */
#include "ir/ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/mvk-prelude.h"
#include "ops/ops.h"

const char *const mvit_op_names[MVIT_OP_COUNT] = {
#define OP(e, name, nin) #name,
#include "ops.def"
#undef OP
};

static const int op_num_inputs[MVIT_OP_COUNT] = {
#define OP(e, name, nin) nin,
#include "ops.def"
#undef OP
};

void mvit_node_attrs_init(mvit_node *attrs)
{
    memset(attrs, 0, sizeof *attrs);
    attrs->residual = -1;
    attrs->groups = 1;
}

void mvit_graph_init(mvit_graph *g, const mvit_model_desc *desc)
{
    memset(g, 0, sizeof *g);
    g->desc = desc;
    g->input = g->output = -1;
    g->max_tasks = 1;
}

static void node_free(mvit_node *n)
{
    free(n->weight);
    free(n->bias);
    free(n->bn_gamma);
    free(n->bn_beta);
    free(n->bn_mean);
    free(n->bn_var);
    free(n->ln_gamma);
    free(n->ln_beta);
    mvit_qnode_free(n->q);
    n->q = NULL;
}

void mvit_qnode_free(mvit_qnode *q)
{
    if (!q)
        return;
    free(q->w);
    free(q->bias);
    free(q->mult);
    free(q->shift);
    free(q->out_scale);
    free(q->ln_g);
    free(q->ln_b);
    free(q->pixel_lut);
    free(q);
}

void mvit_graph_free(mvit_graph *g)
{
    for (int i = 0; i < g->num_nodes; i++)
        node_free(&g->nodes[i]);
    free(g->nodes);
    free(g->values);
    memset(g, 0, sizeof *g);
}

int mvit_graph_add_value(mvit_graph *g, const char *name, mvit_layout layout, int32_t d0,
                         int32_t d1, int32_t d2)
{
    if (g->num_values == g->cap_values) {
        g->cap_values = g->cap_values ? 2 * g->cap_values : 64;
        g->values = mvit_xrealloc(g->values, (size_t)g->cap_values * sizeof *g->values);
    }
    mvit_value *v = &g->values[g->num_values];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->layout = layout;
    v->dims[0] = d0;
    v->dims[1] = d1;
    v->dims[2] = d2;
    v->kind = MVIT_VALUE_TEMP;
    v->producer = -1;
    v->offset = -1;
    return g->num_values++;
}

int64_t mvit_value_numel(const mvit_value *v)
{
    return (int64_t)v->dims[0] * v->dims[1] * v->dims[2];
}

int64_t mvit_value_bytes(const mvit_value *v)
{
    return mvit_value_numel(v) * (v->dtype == MVIT_I8 ? 1 : (int64_t)sizeof(float));
}

int mvit_value_uses(const mvit_graph *g, int value)
{
    int uses = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->num_inputs; k++)
            uses += n->inputs[k] == value;
        uses += n->residual == value;
    }
    return uses + (g->output == value);
}

int mvit_graph_add_node(mvit_graph *g, mvit_op op, const char *name, mvit_src_loc loc,
                        const int *inputs, mvit_node *attrs, mvit_diag *d)
{
    if (g->num_nodes == g->cap_nodes) {
        g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 64;
        g->nodes = mvit_xrealloc(g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
    }
    mvit_node *n = &g->nodes[g->num_nodes];
    if (attrs) {
        *n = *attrs;
        mvit_node_attrs_init(attrs); /* ownership of the arrays moves to the graph */
    } else {
        mvit_node_attrs_init(n);
    }
    n->op = op;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->loc = loc;
    n->num_inputs = op_num_inputs[op];
    for (int k = 0; k < n->num_inputs; k++)
        n->inputs[k] = inputs[k];
    mvit_value out = {0};
    int rc = mvit_op_defs[op]->infer(g, n, &out, d);
    if (rc < 0) {
        node_free(n);
        return rc;
    }
    n->output = mvit_graph_add_value(g, name, out.layout, out.dims[0], out.dims[1], out.dims[2]);
    g->values[n->output].producer = g->num_nodes;
    return g->num_nodes++;
}

int mvit_node_in_channels(const mvit_graph *g, const mvit_node *n)
{
    int c = 0;
    for (int k = 0; k < n->num_inputs; k++)
        c += g->values[n->inputs[k]].dims[2];
    return c;
}

int64_t mvit_node_macs(const mvit_graph *g, const mvit_node *n)
{
    return mvit_op_defs[n->op]->macs(g, n);
}

void mvit_graph_dump(const mvit_graph *g, FILE *f)
{
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        const mvit_value *o = &g->values[n->output];
        fprintf(f, "%3d %-15s %-40s -> v%d %dx%dx%d", i, mvit_op_names[n->op], n->name,
                n->output, o->dims[0], o->dims[1], o->dims[2]);
        for (int k = 0; k < n->num_inputs; k++)
            fprintf(f, " in:v%d", n->inputs[k]);
        if (n->residual >= 0)
            fprintf(f, " res:v%d", n->residual);
        if (n->act == MVIT_ACT_SILU)
            fprintf(f, " silu");
        if (o->offset >= 0)
            fprintf(f, " @%lld", (long long)o->offset);
        fprintf(f, "\n");
    }
}

void mvit_bilinear_taps(int src, int dst, mvk_lerp *taps)
{
    /* aten computes the ratio and the source index in the input's float type */
    const float ratio = (float)src / (float)dst;
    for (int i = 0; i < dst; i++) {
        mvk_lerp *t = &taps[i];
        if (src == dst) {
            t->i0 = t->i1 = i;
            t->l0 = 1.0f, t->l1 = 0.0f;
        } else {
            float real = ratio * ((float)i + 0.5f) - 0.5f;
            if (real < 0.0f)
                real = 0.0f;
            t->i0 = (int32_t)real;
            t->i1 = t->i0 + (t->i0 < src - 1 ? 1 : 0);
            float l1 = real - (float)t->i0;
            t->l1 = l1 < 0.0f ? 0.0f : l1 > 1.0f ? 1.0f : l1;
            t->l0 = 1.0f - t->l1;
        }
        t->q1 = (int32_t)floor((double)t->l1 * 2048.0 + 0.5);
        t->q0 = 2048 - t->q1;
    }
}

int mvit_node_resizes(const mvit_node *n)
{
    return (n->op == MVIT_OP_UNFOLD || n->op == MVIT_OP_FOLD || n->remap) &&
           (n->map_h != n->grid_h || n->map_w != n->grid_w);
}

mvk_remap *mvit_node_remap(const mvit_node *n)
{
    const int kind = n->op == MVIT_OP_UNFOLD ? MVK_REMAP_UNFOLD
                     : n->op == MVIT_OP_FOLD ? MVK_REMAP_FOLD
                                             : n->remap;
    if (kind == MVK_REMAP_NONE)
        return NULL;
    const int unfold = kind == MVK_REMAP_UNFOLD, resizes = mvit_node_resizes(n);
    /* the taps index destination rows/columns: the grid's for UNFOLD, the map's for FOLD */
    const int ny = unfold ? n->grid_h : n->map_h, nx = unfold ? n->grid_w : n->map_w;
    mvk_remap *rm =
        mvit_xcalloc(1, sizeof *rm + (resizes ? (size_t)(ny + nx) * sizeof(mvk_lerp) : 0));
    rm->kind = kind;
    rm->ph = n->patch_h, rm->pw = n->patch_w;
    rm->gh = n->grid_h, rm->gw = n->grid_w;
    rm->mh = n->map_h, rm->mw = n->map_w;
    if (!resizes)
        return rm;
    mvk_lerp *ty = (mvk_lerp *)(rm + 1), *tx = ty + ny;
    mvit_bilinear_taps(unfold ? n->map_h : n->grid_h, ny, ty);
    mvit_bilinear_taps(unfold ? n->map_w : n->grid_w, nx, tx);
    rm->ty = ty, rm->tx = tx;
    return rm;
}
