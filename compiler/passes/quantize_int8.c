/* INT8 lowering (docs/int8.md): gives every tensor its scale and zero point from the
 * calibrated ranges, quantises weights per output channel, derives every integer parameter
 * (requantisation multipliers, folded biases, SiLU tables, the LayerNorm and softmax
 * constants), fuses each SiLU into its producer as a table, and puts a QUANTIZE node in front.
 * Runs on the float graph after fold_bn only, the graph calibration observed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/observe.h"
#include "ops/ops.h"
#include "passes/passes.h"

typedef mvit_qctx qctx;

int mvit_q_fail(const qctx *c, const mvit_node *n, const char *what, double v)
{
    const char *path = c->g->desc ? c->g->desc->path : "mvitc";
    return mvit_diag_at(c->d, MVIT_EINVAL, path, n->loc.line, n->loc.col,
                        "%s: int8 lowering: %s (%g); calibrate on more representative data or "
                        "keep the model in fp32",
                        n->name, what, v);
}

int mvit_q_multiplier(const qctx *c, const mvit_node *n, double m, int32_t *M, int32_t *S)
{
    if (!(m >= ldexp(1, -48) && m < ldexp(1, 13)))
        return mvit_q_fail(c, n, "requantisation multiplier out of [2^-48, 2^13)", m);
    int s = 14 - (int)floor(log2(m));
    double r = nearbyint(ldexp(m, s));
    if (r >= ldexp(1, 15)) {
        r /= 2;
        s--;
    }
    *M = (int32_t)r;
    *S = s;
    return 0;
}

int mvit_q_multiplier_at(const qctx *c, const mvit_node *n, double m, int32_t S, int32_t *M)
{
    const double r = nearbyint(ldexp(m, S));
    if (r >= ldexp(1, 15))
        return mvit_q_fail(c, n, "requantisation multiplier too large", m);
    *M = (int32_t)r;
    return 0;
}

static void set_params(mvit_value *v, const mvit_qrange *r)
{
    v->dtype = MVIT_I8;
    v->qscale = (r->hi - r->lo) / 255.0;
    double z = nearbyint(-128.0 - r->lo / v->qscale);
    v->qzero = (int32_t)(z < -128 ? -128 : z > 127 ? 127 : z);
}

static void copy_params(mvit_value *to, const mvit_value *from)
{
    to->dtype = from->dtype;
    to->qscale = from->qscale;
    to->qzero = from->qzero;
}

static double dequant(const mvit_value *v, int q) { return v->qscale * (q - v->qzero); }

static int8_t quant(const mvit_value *v, double x)
{
    const double q = nearbyint(x / v->qscale) + v->qzero;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static double silu(double x) { return x / (1.0 + exp(-x)); }

int mvit_q_sole_silu_reader(const mvit_graph *g, int v)
{
    if (mvit_value_uses(g, v) != 1 || g->values[v].kind != MVIT_VALUE_TEMP)
        return -1;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (!n->dead && n->op == MVIT_OP_SILU && n->inputs[0] == v)
            return i;
    }
    return -1;
}

void mvit_q_silu_lut(const mvit_value *pre, const mvit_value *post, int8_t *lut)
{
    for (int q = -128; q <= 127; q++)
        lut[q + 128] = quant(post, silu(dequant(pre, q)));
}

/* Moves the last node to position pos (everything from pos on shifts by one). A conversion
 * node goes right after the producer of the value it reads, so the order stays topological. */
static void move_last_node_to(mvit_graph *g, int pos)
{
    const int last = g->num_nodes - 1;
    mvit_node node = g->nodes[last];
    memmove(g->nodes + pos + 1, g->nodes + pos, (size_t)(last - pos) * sizeof *g->nodes);
    g->nodes[pos] = node;
    for (int v = 0; v < g->num_values; v++) {
        int *p = &g->values[v].producer;
        if (*p == last)
            *p = pos;
        else if (*p >= pos && *p < last)
            (*p)++;
    }
}

/* A QUANTIZE (float -> int8) or DEQUANTIZE node reading value v, placed right after v's
 * producer; returns its output value. The int8 side has v's calibrated parameters. */
static int insert_conversion(qctx *c, mvit_op op, int v, const mvit_qrange *ranges)
{
    mvit_graph *g = c->g;
    mvit_node attrs;
    mvit_node_attrs_init(&attrs);
    const int inputs[1] = {v};
    char name[96];
    snprintf(name, sizeof name, "%.80s.%s", v == g->input ? "input" : g->values[v].name,
             op == MVIT_OP_QUANTIZE ? "quantize" : "dequantize");
    const int pos = g->values[v].producer + 1; /* the input's producer is -1: the front */
    const mvit_src_loc loc = g->nodes[pos < g->num_nodes ? pos : 0].loc;
    const int idx = mvit_graph_add_node(g, op, name, loc, inputs, &attrs, c->d);
    if (idx < 0)
        return idx;
    const int out = g->nodes[idx].output;
    set_params(&g->values[out], &ranges[v]);
    g->values[out].dtype = op == MVIT_OP_QUANTIZE ? MVIT_I8 : MVIT_F32;
    move_last_node_to(g, pos);
    g->nodes[pos].q = mvit_xcalloc(1, sizeof(mvit_qnode));
    const int rc = mvit_op_defs[op]->quantize(c, pos);
    return rc < 0 ? rc : out;
}

/* Marks the --keep-fp32 nodes (a comma-separated list of layer names as the generated file
 * names them); a kept conv or linear keeps the SiLU that follows it. */
static int mark_kept(qctx *c, const char *list)
{
    mvit_graph *g = c->g;
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        const size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = 0;
        for (int i = 0; i < g->num_nodes; i++) {
            mvit_node *n = &g->nodes[i];
            if (n->dead || strlen(n->name) != len || strncmp(n->name, p, len))
                continue;
            n->keep_float = found = 1;
            const int s = mvit_q_sole_silu_reader(g, n->output);
            if (s >= 0 && (n->op == MVIT_OP_CONV2D || n->op == MVIT_OP_LINEAR))
                g->nodes[s].keep_float = 1;
        }
        if (!found && len)
            return mvit_diag_at(c->d, MVIT_EINVAL, "mvitc", 0, 0,
                                "--keep-fp32: no layer named '%.*s' (names as in the generated "
                                "file's comments, e.g. 'stem' or 'stages.2.1.transformer.0.attn')",
                                (int)len, p);
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* Puts a conversion between every float value and int8 reader, and back. */
static int insert_conversions(qctx *c, const mvit_qrange *ranges)
{
    mvit_graph *g = c->g;
    const int nv = g->num_values;
    int *to_i8 = mvit_xmalloc((size_t)nv * sizeof *to_i8);
    int *to_f32 = mvit_xmalloc((size_t)nv * sizeof *to_f32);
    for (int v = 0; v < nv; v++)
        to_i8[v] = to_f32[v] = -1;
    int rc = 0;
    for (int i = 0; i < g->num_nodes && rc >= 0; i++) {
        if (g->nodes[i].dead || g->nodes[i].op == MVIT_OP_QUANTIZE ||
            g->nodes[i].op == MVIT_OP_DEQUANTIZE)
            continue;
        for (int k = 0; k < g->nodes[i].num_inputs && rc >= 0; k++) {
            const int v = g->nodes[i].inputs[k];
            const int want_i8 = !g->nodes[i].keep_float;
            if (v >= nv || (g->values[v].dtype == MVIT_I8) == want_i8)
                continue;
            int *cache = want_i8 ? to_i8 : to_f32;
            if (cache[v] < 0) {
                rc = insert_conversion(c, want_i8 ? MVIT_OP_QUANTIZE : MVIT_OP_DEQUANTIZE, v,
                                       ranges);
                if (rc < 0)
                    break;
                cache[v] = rc;
                i++; /* the node moved one place down, past the inserted one */
            }
            g->nodes[i].inputs[k] = cache[v];
        }
    }
    free(to_i8);
    free(to_f32);
    return rc < 0 ? rc : 0;
}

int pass_quantize_int8(mvit_graph *g, const mvit_qrange *ranges, const char *keep_fp32,
                       mvit_diag *d)
{
    qctx c = {g, d};
    int rc = mark_kept(&c, keep_fp32);
    if (rc < 0)
        return rc;
    /* every temporary gets its calibrated parameters; data movement keeps its input's; the
     * outputs of kept layers stay float */
    for (int v = 0; v < g->num_values; v++)
        if (g->values[v].kind == MVIT_VALUE_TEMP)
            set_params(&g->values[v], &ranges[v]);
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (!n->dead && mvit_op_defs[n->op]->keeps_qparams)
            copy_params(&g->values[n->output], &g->values[n->inputs[0]]);
        if (!n->dead && n->keep_float)
            g->values[n->output].dtype = MVIT_F32;
    }
    if ((rc = insert_conversions(&c, ranges)) < 0)
        return rc;
    for (int i = 0; i < g->num_nodes && rc == 0; i++) {
        mvit_node *n = &g->nodes[i];
        if (n->dead || n->keep_float || n->op == MVIT_OP_QUANTIZE || n->op == MVIT_OP_DEQUANTIZE)
            continue;
        if (n->residual >= 0 || n->act != MVIT_ACT_NONE || n->norm_rows || n->remap)
            return mvit_q_fail(&c, n, "expects the graph before fusion", 0);
        if (!mvit_op_defs[n->op]->quantize)
            return mvit_q_fail(&c, n, "op has no int8 lowering (BatchNorm must be folded first)", 0);
        n->q = mvit_xcalloc(1, sizeof(mvit_qnode));
        rc = mvit_op_defs[n->op]->quantize(&c, i);
    }
    return rc;
}
