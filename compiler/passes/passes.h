/* Graph passes. Each pass is one file with one entry point that rewrites the graph in place
 * and returns 0 or a negative MVIT_E* code. passes.c runs them in order. */
#ifndef MVIT_PASSES_H
#define MVIT_PASSES_H

#include "ir/ir.h"

int pass_fold_bn(mvit_graph *g, mvit_diag *d);
int pass_fuse_activation(mvit_graph *g, mvit_diag *d);
int pass_fuse_residual(mvit_graph *g, mvit_diag *d);
int pass_fuse_patch_remap(mvit_graph *g, mvit_diag *d);
int pass_fuse_concat(mvit_graph *g, mvit_diag *d);
int pass_fuse_layernorm(mvit_graph *g, mvit_diag *d);
int pass_fold_layernorm_affine(mvit_graph *g, mvit_diag *d);
int pass_plan_memory(mvit_graph *g, mvit_diag *d);

/* INT8 lowering of a float graph after fold_bn (docs/int8.md); ranges[v] is the calibrated
 * range of value v (calib/observe.h). keep_fp32: comma-separated layer names that stay float
 * (NULL or "" for none); conversions are inserted around them. */
struct mvit_qrange;
int pass_quantize_int8(mvit_graph *g, const struct mvit_qrange *ranges, const char *keep_fp32,
                       mvit_diag *d);

typedef struct mvit_pass_options {
    int no_fusion;  /* skip fold_bn / fuse_*: for tests comparing before and after */
    int verify;     /* run mvit_ir_verify after each pass */
} mvit_pass_options;

/* Runs the rewriting passes in order: fold_bn, fuse_activation, fuse_residual,
 * fuse_patch_remap, fuse_concat, fuse_layernorm. Memory is
 * planned afterwards (pass_plan_memory), once the target has set each node's scratch. */
int mvit_run_passes(mvit_graph *g, const mvit_pass_options *opt, mvit_diag *d);

/* Shared by the fusion passes: node `into` absorbs `from`, the single consumer of its
 * output; `into` now produces from's output value and `from` is marked dead. */
void mvit_absorb_consumer(mvit_graph *g, int into, int from);

/* A linear, or a 1x1 stride-1 conv of one input: a GEMM over rows. */
int mvit_is_gemm(const mvit_node *n);

/* LN(x) W + b = x^ (diag(gamma) W) + (beta W + b): folds the LayerNorm's gamma and beta
 * (k channels) into the weight and bias of the GEMM that reads it (in double). */
void mvit_fold_ln_affine(mvit_node *gemm, const mvit_node *ln, int k);

/* The live node that produced value v if v's only reader is node `reader`, else -1. */
int mvit_sole_producer(const mvit_graph *g, int v, int reader);

#endif
