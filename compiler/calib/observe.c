/* The float evaluator behind calibration: each op's eval (compiler/ops/) calls the same
 * portable kernels the generic target pastes into generated files, so calibration sees
 * exactly the float model. */
#include "calib/observe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

float **mvit_eval_alloc(const mvit_graph *g)
{
    float **bufs = mvit_xcalloc((size_t)g->num_values, sizeof *bufs);
    for (int v = 0; v < g->num_values; v++)
        bufs[v] = mvit_xmalloc((size_t)mvit_value_numel(&g->values[v]) * sizeof(float));
    return bufs;
}

void mvit_eval_free(const mvit_graph *g, float **bufs)
{
    if (!bufs)
        return;
    for (int v = 0; v < g->num_values; v++)
        free(bufs[v]);
    free(bufs);
}

void mvit_eval_f32_hook(const mvit_graph *g, const float *input, float **bufs,
                        mvit_eval_hook after, void *ctx)
{
    const int64_t n_in = mvit_value_numel(&g->values[g->input]);
    memcpy(bufs[g->input], input, (size_t)n_in * sizeof(float));
    if (after)
        after(ctx, g->input, bufs[g->input], n_in);
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        mvit_op_defs[n->op]->eval(g, n, bufs); /* float graphs: every op has one */
        if (after)
            after(ctx, n->output, bufs[n->output], mvit_value_numel(&g->values[n->output]));
    }
}

void mvit_eval_f32(const mvit_graph *g, const float *input, float **bufs)
{
    mvit_eval_f32_hook(g, input, bufs, NULL, NULL);
}

// ---- statistics

static void observe_range(mvit_value_stats *s, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const double v = x[i];
        if (!s->seen || v < s->lo)
            s->lo = v;
        if (!s->seen || v > s->hi)
            s->hi = v;
        s->seen = 1;
    }
}

static void observe_hist(mvit_value_stats *s, const float *x, int64_t n)
{
    const double width = s->hi - s->lo;
    for (int64_t i = 0; i < n; i++) {
        int bin = width > 0 ? (int)((x[i] - s->lo) / width * MVIT_CALIB_BINS) : 0;
        bin = bin < 0 ? 0 : bin >= MVIT_CALIB_BINS ? MVIT_CALIB_BINS - 1 : bin;
        s->hist[bin]++;
    }
}

/* Whether the evaluation writes value v: the input, or the output of a live node. Not the
 * values that passes left behind (a BatchNorm folded into its conv: the conv now writes the
 * BatchNorm's output, and its old output is in no buffer). */
static int computed(const mvit_graph *g, int v)
{
    const int p = g->values[v].producer;
    if (p < 0)
        return v == g->input;
    return !g->nodes[p].dead && g->nodes[p].output == v;
}

static int run_pass(const mvit_graph *g, mvit_calib_set *set, float **bufs, float *img,
                    int hist, mvit_progress *prog, int64_t done0, mvit_calib_stats *st,
                    mvit_diag *d)
{
    const size_t floats = mvit_calib_image_floats(set);
    int rc;
    int64_t k = 0;
    while ((rc = mvit_calib_next(set, img, floats, d)) == 1) {
        mvit_eval_f32(g, img, bufs);
        for (int v = 0; v < g->num_values; v++) {
            if (!computed(g, v))
                continue;
            const int64_t n = mvit_value_numel(&g->values[v]);
            if (hist)
                observe_hist(&st->v[v], bufs[v], n);
            else
                observe_range(&st->v[v], bufs[v], n);
        }
        k++;
        if (prog)
            mvit_progress_update(prog, done0 + k);
    }
    return rc;
}

int mvit_calib_collect(const mvit_graph *g, mvit_calib_set *set, FILE *progress_out,
                       mvit_calib_stats *st, mvit_diag *d)
{
    memset(st, 0, sizeof *st);
    st->num_values = g->num_values;
    st->v = mvit_xcalloc((size_t)g->num_values, sizeof *st->v);
    float **bufs = mvit_eval_alloc(g);
    float *img = mvit_xmalloc(mvit_calib_image_floats(set) * sizeof(float));
    mvit_progress prog;
    if (progress_out)
        mvit_progress_init(&prog, progress_out, 2 * set->count);
    int rc = run_pass(g, set, bufs, img, 0, progress_out ? &prog : NULL, 0, st, d);
    if (rc == 0)
        rc = mvit_calib_rewind(set, d);
    if (rc == 0)
        rc = run_pass(g, set, bufs, img, 1, progress_out ? &prog : NULL, set->count, st, d);
    if (progress_out)
        mvit_progress_end(&prog);
    st->images = set->count;
    free(img);
    mvit_eval_free(g, bufs);
    if (rc < 0)
        mvit_calib_stats_free(st);
    return rc < 0 ? rc : 0;
}

void mvit_calib_stats_free(mvit_calib_stats *st)
{
    free(st->v);
    memset(st, 0, sizeof *st);
}

// ---- ranges

int mvit_calib_method_parse(const char *s, mvit_calib_method *m)
{
    static const char *const names[] = {"minmax", "percentile", "mse"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *m = (mvit_calib_method)i;
            return 0;
        }
    return -1;
}

const char *mvit_calib_method_name(mvit_calib_method m)
{
    return m == MVIT_CALIB_MINMAX ? "minmax" : m == MVIT_CALIB_PERCENTILE ? "percentile" : "mse";
}

static double bin_center(const mvit_value_stats *s, int b)
{
    return s->lo + (s->hi - s->lo) * (b + 0.5) / MVIT_CALIB_BINS;
}

/* The value below which a share q of the histogram's mass lies (bin edges). */
static double quantile(const mvit_value_stats *s, double q)
{
    int64_t total = 0;
    for (int b = 0; b < MVIT_CALIB_BINS; b++)
        total += s->hist[b];
    const double want = q * (double)total;
    int64_t acc = 0;
    for (int b = 0; b < MVIT_CALIB_BINS; b++) {
        acc += s->hist[b];
        if ((double)acc >= want)
            return s->lo + (s->hi - s->lo) * (b + 1.0) / MVIT_CALIB_BINS;
    }
    return s->hi;
}

/* Expected squared error of int8 rounding and clipping to [lo, hi], over the histogram. */
static double quant_error(const mvit_value_stats *s, double lo, double hi)
{
    const double scale = (hi - lo) / 255.0;
    const double zp = nearbyint(-128.0 - lo / scale);
    double err = 0;
    for (int b = 0; b < MVIT_CALIB_BINS; b++) {
        if (!s->hist[b])
            continue;
        const double x = bin_center(s, b);
        double q = nearbyint(x / scale) + zp;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        const double e = scale * (q - zp) - x;
        err += e * e * (double)s->hist[b];
    }
    return err;
}

static mvit_qrange with_zero(double lo, double hi)
{
    mvit_qrange r = {lo < 0 ? lo : 0, hi > 0 ? hi : 0};
    if (r.hi - r.lo < 1e-6)
        r.hi = r.lo + 1e-6;
    return r;
}

void mvit_calib_ranges(const mvit_calib_stats *st, mvit_calib_method m, mvit_qrange *out)
{
    for (int v = 0; v < st->num_values; v++) {
        const mvit_value_stats *s = &st->v[v];
        if (!s->seen) {
            out[v] = with_zero(0, 1);
            continue;
        }
        if (m == MVIT_CALIB_MINMAX || s->hi <= s->lo) {
            out[v] = with_zero(s->lo, s->hi);
        } else if (m == MVIT_CALIB_PERCENTILE) {
            out[v] = with_zero(quantile(s, 1e-4), quantile(s, 1 - 1e-4));
        } else {
            /* shrink the observed range about zero by a factor in [0.2, 1]: 81 candidates */
            const mvit_qrange full = with_zero(s->lo, s->hi);
            mvit_qrange best = full;
            double best_err = quant_error(s, full.lo, full.hi);
            for (int k = 1; k <= 80; k++) {
                const double f = 1.0 - k * 0.01;
                const mvit_qrange r = with_zero(full.lo * f, full.hi * f);
                const double e = quant_error(s, r.lo, r.hi);
                if (e < best_err) {
                    best_err = e;
                    best = r;
                }
            }
            out[v] = best;
        }
    }
}

static double silu_d(double x) { return x / (1.0 + exp(-x)); }

/* Squared error after SiLU of int8 rounding to [lo, hi], over the histogram. */
static double silu_error(const mvit_value_stats *s, double lo, double hi)
{
    const double scale = (hi - lo) / 255.0;
    const double zp = nearbyint(-128.0 - lo / scale);
    double err = 0;
    for (int b = 0; b < MVIT_CALIB_BINS; b++) {
        if (!s->hist[b])
            continue;
        const double x = bin_center(s, b);
        double q = nearbyint(x / scale) + zp;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        const double e = silu_d(scale * (q - zp)) - silu_d(x);
        err += e * e * (double)s->hist[b];
    }
    return err;
}

void mvit_calib_silu_range(const mvit_calib_stats *st, int v, mvit_qrange *r)
{
    const mvit_value_stats *s = &st->v[v];
    if (!s->seen || s->hi <= s->lo || r->lo >= 0)
        return;
    /* SiLU is flat below about -5 and small below 0: give the levels to the positive side
     * by raising lo (81 candidates from r->lo to r->lo / 5), judged after the SiLU */
    mvit_qrange best = *r;
    double best_err = silu_error(s, r->lo, r->hi);
    for (int k = 1; k <= 80; k++) {
        const double lo = r->lo * (1.0 - k * 0.01);
        const double e = silu_error(s, lo, r->hi);
        if (e < best_err) {
            best_err = e;
            best.lo = lo;
        }
    }
    *r = best;
}

// ---- sensitivity (for --keep-fp32 auto)

typedef struct fq_ctx {
    const mvit_graph *g;
    const mvit_qrange *ranges;
    int only; /* the one value rounded to int8 */
} fq_ctx;

static void fake_quant(void *ctx, int v, float *x, int64_t n)
{
    const fq_ctx *c = ctx;
    if (v != c->only)
        return;
    const double s = (c->ranges[v].hi - c->ranges[v].lo) / 255.0;
    const double z = nearbyint(-128.0 - c->ranges[v].lo / s);
    for (int64_t i = 0; i < n; i++) {
        double q = nearbyint(x[i] / s) + z;
        q = q < -128 ? -128 : q > 127 ? 127 : q;
        x[i] = (float)(s * (q - z));
    }
}

/* err plus the squared errors of the logits when node i's output alone is rounded to int8
 * (summed in the order the whole-graph pass summed them): the nodes before i computed as in
 * the reference pass (ref: every value of that pass), so only i's output and the nodes after
 * it are evaluated again, into work. */
static double add_sensitivity(double err, const mvit_graph *g, const mvit_qrange *ranges, int i,
                              float **ref, float **work, float **mix)
{
    const int out = g->nodes[i].output;
    for (int v = 0; v < g->num_values; v++)
        mix[v] = g->values[v].producer >= i ? work[v] : ref[v];
    const int64_t n = mvit_value_numel(&g->values[out]);
    memcpy(work[out], ref[out], (size_t)n * sizeof(float));
    fq_ctx c = {g, ranges, out};
    fake_quant(&c, out, work[out], n);
    for (int j = i + 1; j < g->num_nodes; j++)
        if (!g->nodes[j].dead)
            mvit_op_defs[g->nodes[j].op]->eval(g, &g->nodes[j], mix);
    const int64_t nc = mvit_value_numel(&g->values[g->output]);
    for (int64_t j = 0; j < nc; j++) {
        const double e = (double)mix[g->output][j] - ref[g->output][j];
        err += e * e;
    }
    return err;
}

int mvit_calib_sensitivity(const mvit_graph *g, mvit_calib_set *set, const mvit_qrange *ranges,
                           int images, double *score, mvit_diag *d)
{
    int rc = mvit_calib_rewind(set, d);
    if (rc < 0)
        return rc;
    const size_t floats = mvit_calib_image_floats(set);
    float *img = mvit_xmalloc(floats * sizeof(float));
    float **ref = mvit_eval_alloc(g), **work = mvit_eval_alloc(g);
    float **mix = mvit_xcalloc((size_t)g->num_values, sizeof *mix);
    for (int i = 0; i < g->num_nodes; i++) /* -1: not an int8 candidate */
        score[i] = g->nodes[i].dead || g->values[g->nodes[i].output].kind != MVIT_VALUE_TEMP ? -1 : 0;
    int n = 0;
    while (n < images && (rc = mvit_calib_next(set, img, floats, d)) == 1) {
        mvit_eval_f32(g, img, ref);
        for (int i = 0; i < g->num_nodes; i++)
            if (score[i] >= 0)
                score[i] = add_sensitivity(score[i], g, ranges, i, ref, work, mix);
        n++;
    }
    for (int i = 0; i < g->num_nodes; i++)
        if (score[i] >= 0)
            score[i] = n ? score[i] / n : 0;
    free(mix);
    mvit_eval_free(g, ref);
    mvit_eval_free(g, work);
    free(img);
    return rc < 0 ? rc : 0;
}
