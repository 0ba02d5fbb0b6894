/* Calibration statistics: runs the float graph (the portable kernels, compiled into mvitc) on
 * the calibration images and records every value's range and histogram, then turns them into
 * the range each int8 tensor will cover, by one of three methods. */
#ifndef MVIT_CALIB_OBSERVE_H
#define MVIT_CALIB_OBSERVE_H

#include <stdint.h>

#include "calib/calib_data.h"
#include "common/diag.h"
#include "ir/ir.h"

enum { MVIT_CALIB_BINS = 2048 };

typedef enum mvit_calib_method {
    MVIT_CALIB_MINMAX,     /* the observed minimum and maximum */
    MVIT_CALIB_PERCENTILE, /* the 0.01 % and 99.99 % quantiles */
    MVIT_CALIB_MSE,        /* the clipped range whose int8 rounding has the least squared error */
} mvit_calib_method;

/* The method that measured best on the shipped model (docs/int8.md). */
#define MVIT_CALIB_DEFAULT MVIT_CALIB_PERCENTILE

typedef struct mvit_value_stats {
    int seen;                        /* 1 once the value was observed */
    double lo, hi;                   /* minimum and maximum over all images */
    int64_t hist[MVIT_CALIB_BINS];   /* counts over [lo, hi] (second pass) */
} mvit_value_stats;

typedef struct mvit_calib_stats {
    int num_values;
    mvit_value_stats *v;             /* per value id */
    int64_t images;
} mvit_calib_stats;

/* The range an int8 tensor covers: real values in [lo, hi] (lo <= 0 <= hi). */
typedef struct mvit_qrange {
    double lo, hi;
} mvit_qrange;

/* Parses "minmax" / "percentile" / "mse"; returns 0 or -1. */
int mvit_calib_method_parse(const char *s, mvit_calib_method *m);
const char *mvit_calib_method_name(mvit_calib_method m);

/* Runs g (a float graph: no int8 node) on every image of set, twice (ranges, then histograms),
 * with a progress line on progress_out (NULL: none). */
int mvit_calib_collect(const mvit_graph *g, mvit_calib_set *set, FILE *progress_out,
                       mvit_calib_stats *st, mvit_diag *d);
void mvit_calib_stats_free(mvit_calib_stats *st);

/* The range of each value (array of g->num_values) by the method. */
void mvit_calib_ranges(const mvit_calib_stats *st, mvit_calib_method m, mvit_qrange *out);

/* Refines the range of value v when it is only read by a SiLU (the int8 build keeps it as a
 * table index, never stored): lo is raised where that lowers the error *after* the SiLU. */
void mvit_calib_silu_range(const mvit_calib_stats *st, int v, mvit_qrange *r);

/* Sensitivity of each node (score[node], g->num_nodes entries; -1 where it does not apply):
 * the mean squared change of the logits when only that node's output is rounded to int8 with
 * its range, everything else float, over the first `images` images of set. */
int mvit_calib_sensitivity(const mvit_graph *g, mvit_calib_set *set, const mvit_qrange *ranges,
                           int images, double *score, mvit_diag *d);

/* Runs the float graph on one input; bufs[v] (g->num_values entries, allocated by the caller
 * with mvit_eval_alloc) receives every value. Exposed for the tests. */
float **mvit_eval_alloc(const mvit_graph *g);
void mvit_eval_free(const mvit_graph *g, float **bufs);
void mvit_eval_f32(const mvit_graph *g, const float *input, float **bufs);
/* The same, calling after(ctx, value, data, numel) on the input and on every node's output as
 * soon as it is computed (it may modify the data: e.g. simulate int8 rounding of a tensor). */
typedef void (*mvit_eval_hook)(void *ctx, int value, float *data, int64_t numel);
void mvit_eval_f32_hook(const mvit_graph *g, const float *input, float **bufs,
                        mvit_eval_hook after, void *ctx);

#endif
