/* INT8 lowering (docs/int8.md): gives every tensor its scale and zero point from the
 * calibrated ranges, quantises weights per output channel, derives every integer parameter
 * (requantisation multipliers, folded biases, SiLU tables, the LayerNorm and softmax
 * constants), fuses each SiLU into its producer as a table, and puts a QUANTIZE node in front.
 * Runs on the float graph after fold_bn only, the graph calibration observed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calib/observe.h"
#include "passes/passes.h"

typedef struct qctx {
    mvit_graph *g;
    mvit_diag *d;
} qctx;

static int fail(const qctx *c, const mvit_node *n, const char *what, double v)
{
    const char *path = c->g->desc ? c->g->desc->path : "mvitc";
    return mvit_diag_at(c->d, MVIT_EINVAL, path, n->loc.line, n->loc.col,
                        "%s: int8 lowering: %s (%g); calibrate on more representative data or "
                        "keep the model in fp32",
                        n->name, what, v);
}

/* m = M * 2^-S with M in [2^14, 2^15), S in [1, 62] (docs/int8.md). */
static int multiplier(const qctx *c, const mvit_node *n, double m, int32_t *M, int32_t *S)
{
    if (!(m >= ldexp(1, -48) && m < ldexp(1, 13)))
        return fail(c, n, "requantisation multiplier out of [2^-48, 2^13)", m);
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

/* M for m at a given shift S (may be below 2^30; 0 when m is negligible). */
static int multiplier_at(const qctx *c, const mvit_node *n, double m, int32_t S, int32_t *M)
{
    const double r = nearbyint(ldexp(m, S));
    if (r >= ldexp(1, 15))
        return fail(c, n, "requantisation multiplier too large", m);
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

/* Node that reads value v, if exactly one live node does and it is a SILU; else -1. */
static int sole_silu_reader(const mvit_graph *g, int v)
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

static void silu_lut(const mvit_value *pre, const mvit_value *post, int8_t *lut)
{
    for (int q = -128; q <= 127; q++)
        lut[q + 128] = quant(post, silu(dequant(pre, q)));
}

/* Weights and biases of a conv or linear, per output channel (the weight's last dimension). */
static int lower_product(qctx *c, int idx)
{
    mvit_graph *g = c->g;
    mvit_node *n = &g->nodes[idx];
    const int cout = n->out_channels;
    const int64_t rows = n->weight_numel / cout;
    if (rows >= 131072)
        return fail(c, n, "reduction length of 2^17 or more would overflow int32", (double)rows);
    mvit_qnode *q = n->q;
    const mvit_value *x = &g->values[n->inputs[0]];
    q->w = mvit_xmalloc((size_t)n->weight_numel);
    q->bias = mvit_xcalloc((size_t)cout, sizeof *q->bias);
    double *sw = mvit_xcalloc((size_t)cout, sizeof *sw);
    for (int j = 0; j < cout; j++) {
        double mx = 0;
        for (int64_t r = 0; r < rows; r++)
            mx = fmax(mx, fabs(n->weight[r * cout + j]));
        sw[j] = mx > 0 ? mx / 127.0 : 1.0;
        int64_t sumq = 0;
        for (int64_t r = 0; r < rows; r++) {
            const int8_t w = (int8_t)nearbyint(n->weight[r * cout + j] / sw[j]);
            q->w[r * cout + j] = w;
            sumq += w;
        }
        const double b = n->bias ? nearbyint(n->bias[j] / (x->qscale * sw[j])) : 0;
        const double total = b - (double)x->qzero * (double)sumq;
        if (fabs(total) > ldexp(1, 30)) {
            free(sw);
            return fail(c, n, "bias does not fit the int32 accumulator", total);
        }
        q->bias[j] = (int32_t)total;
    }
    int rc = 0;
    mvit_value *y = &g->values[n->output];
    if (y->kind == MVIT_VALUE_OUTPUT) {
        q->out_scale = mvit_xmalloc((size_t)cout * sizeof *q->out_scale);
        for (int j = 0; j < cout; j++)
            q->out_scale[j] = (float)(x->qscale * sw[j]);
    } else {
        const mvit_value *pre = y;
        int s = n->act == MVIT_ACT_NONE ? sole_silu_reader(g, n->output) : -1;
        if (s >= 0) { /* SiLU as a table in this node's epilogue */
            const mvit_value *post = &g->values[g->nodes[s].output];
            q->has_lut = 1;
            silu_lut(pre, post, q->lut);
            n->act = MVIT_ACT_SILU;
            q->zy = pre->qzero;
            mvit_absorb_consumer(g, idx, s);
        } else {
            q->zy = pre->qzero;
        }
        q->mult = mvit_xmalloc((size_t)cout * sizeof *q->mult);
        q->shift = mvit_xmalloc((size_t)cout * sizeof *q->shift);
        for (int j = 0; j < cout && rc == 0; j++) {
            int32_t mm, s;
            rc = multiplier(c, n, x->qscale * sw[j] / pre->qscale, &mm, &s);
            q->mult[j] = (int16_t)mm;
            q->shift[j] = (int8_t)s;
        }
    }
    free(sw);
    return rc;
}

static int lower_add(qctx *c, mvit_node *n)
{
    const mvit_graph *g = c->g;
    const mvit_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]],
                     *y = &g->values[n->output];
    const double ma = a->qscale / y->qscale, mb = b->qscale / y->qscale;
    int32_t M, S;
    int rc = multiplier(c, n, fmax(ma, mb), &M, &S);
    if (rc == 0)
        rc = multiplier_at(c, n, ma, S, &n->q->m[0]);
    if (rc == 0)
        rc = multiplier_at(c, n, mb, S, &n->q->m[1]);
    n->q->s[0] = S;
    return rc;
}

static int lower_concat(qctx *c, mvit_node *n)
{
    const mvit_value *y = &c->g->values[n->output];
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = multiplier(c, n, c->g->values[n->inputs[i]].qscale / y->qscale, &n->q->m[i],
                        &n->q->s[i]);
    return rc;
}

static int lower_avgpool(qctx *c, mvit_node *n)
{
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const double pixels = (double)x->dims[0] * x->dims[1];
    return multiplier(c, n, x->qscale / (pixels * y->qscale), &n->q->m[0], &n->q->s[0]);
}

static int lower_layernorm(qctx *c, mvit_node *n)
{
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const int ch = x->dims[2];
    mvit_qnode *q = n->q;
    q->ln_g = mvit_xmalloc((size_t)ch * sizeof *q->ln_g);
    q->ln_b = mvit_xmalloc((size_t)ch * sizeof *q->ln_b);
    q->ln_channels = 1;
    for (int i = 0; i < ch; i++)
        if (n->ln_gamma[i] != n->ln_gamma[0] || n->ln_beta[i] != n->ln_beta[0])
            q->ln_channels = ch;
    for (int i = 0; i < q->ln_channels; i++) {
        const double gq = nearbyint(n->ln_gamma[i] / y->qscale * 65536.0);
        const double bq = nearbyint(n->ln_beta[i] / y->qscale * 65536.0);
        if (fabs(gq) >= ldexp(1, 31) || fabs(bq) >= ldexp(1, 31))
            return fail(c, n, "LayerNorm affine too large for the output scale",
                        fmax(fabs(n->ln_gamma[i]), fabs(n->ln_beta[i])) / y->qscale);
        q->ln_g[i] = (int32_t)gq;
        q->ln_b[i] = (int32_t)bq;
    }
    const double e = nearbyint((double)ch * ch * n->eps / (x->qscale * x->qscale));
    q->ln_eps = e > ldexp(1, 60) ? (int64_t)1 << 60 : (int64_t)e;
    return 0;
}

static int lower_attention(qctx *c, mvit_node *n)
{
    const mvit_value *x = &c->g->values[n->inputs[0]], *y = &c->g->values[n->output];
    const int hd = y->dims[2] / n->heads;
    mvit_qnode *q = n->q;
    for (int f = 0; f < 256; f++)
        q->exp2_lut[f] = (int32_t)nearbyint(32768.0 * exp2(-f / 256.0));
    const double m_sm = x->qscale * x->qscale * (1.0 / log(2.0)) / sqrt((double)hd) * 256.0;
    int rc = multiplier(c, n, m_sm, &q->m[0], &q->s[0]);
    if (rc == 0)
        rc = multiplier(c, n, x->qscale / (32768.0 * y->qscale), &q->m[1], &q->s[1]);
    return rc;
}

/* Thresholds between adjacent int8 levels of the input, and the 8-bit pixel tables. */
static void lower_quantize(const qctx *c, mvit_node *n)
{
    const mvit_value *y = &c->g->values[n->output];
    mvit_qnode *q = n->q;
    for (int k = 0; k < 255; k++)
        q->thresholds[k] = (float)(y->qscale * ((-128 + k) - y->qzero + 0.5));
    if (n->inputs[0] != c->g->input)
        return; /* only the image has 8-bit pixels; the mean/std below are per image channel */
    const mvit_model_desc *m = c->g->desc;
    const int ch = y->dims[2];
    q->pixel_lut = mvit_xmalloc((size_t)ch * 256);
    for (int cc = 0; cc < ch; cc++)
        for (int p = 0; p < 256; p++) {
            /* in float, as runtime/mvrt_image.c and P_run_u8 of float builds */
            const float x = m ? ((float)p / 255.0f - m->mean[cc]) / m->std[cc] : (float)p;
            int idx = 0;
            while (idx < 255 && x >= q->thresholds[idx])
                idx++;
            q->pixel_lut[cc * 256 + p] = (int8_t)(idx - 128);
        }
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
    mvit_node *n = &g->nodes[pos];
    n->q = mvit_xcalloc(1, sizeof(mvit_qnode));
    if (op == MVIT_OP_QUANTIZE)
        lower_quantize(c, n);
    return out;
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
            const int s = sole_silu_reader(g, n->output);
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
        if (!n->dead && (n->op == MVIT_OP_UNFOLD || n->op == MVIT_OP_FOLD))
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
            return fail(&c, n, "expects the graph before fusion", 0);
        n->q = mvit_xcalloc(1, sizeof(mvit_qnode));
        switch (n->op) {
        case MVIT_OP_CONV2D:
            if (n->num_inputs != 1)
                return fail(&c, n, "a conv over a fused concat", 0);
            /* fall through */
        case MVIT_OP_LINEAR:
            rc = lower_product(&c, i);
            break;
        case MVIT_OP_SILU:
            n->q->has_lut = 1;
            silu_lut(&g->values[n->inputs[0]], &g->values[n->output], n->q->lut);
            break;
        case MVIT_OP_ADD:
            rc = lower_add(&c, n);
            break;
        case MVIT_OP_CONCAT:
            rc = lower_concat(&c, n);
            break;
        case MVIT_OP_GLOBAL_AVGPOOL:
            rc = lower_avgpool(&c, n);
            break;
        case MVIT_OP_LAYERNORM:
            rc = lower_layernorm(&c, n);
            break;
        case MVIT_OP_ATTENTION:
            rc = lower_attention(&c, n);
            break;
        case MVIT_OP_UNFOLD:
        case MVIT_OP_FOLD:
            break;
        case MVIT_OP_BATCHNORM:
        case MVIT_OP_QUANTIZE:
        case MVIT_OP_DEQUANTIZE:
        case MVIT_OP_COUNT:
            return fail(&c, n, "op has no int8 lowering (BatchNorm must be folded first)", 0);
        }
    }
    return rc;
}
