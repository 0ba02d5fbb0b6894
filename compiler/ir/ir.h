/* The graph IR: static-shape values and the nodes that produce them, in topological order.
 * Built from a description + weights (build.c), rewritten by passes (passes/), placed in the
 * arena by plan_memory and printed by a target (codegen/). Batch is always 1. */
#ifndef MVIT_IR_H
#define MVIT_IR_H

#include <stdint.h>
#include <stdio.h>

#include "common/diag.h"
#include "desc/desc.h"

typedef enum mvit_op {
#define OP(e, name, nin) MVIT_OP_##e,
#include "ops.def"
#undef OP
    MVIT_OP_COUNT
} mvit_op;

typedef enum mvit_layout {
    MVIT_LAYOUT_HWC,    /* dims = height, width, channels; row-major, channels fastest */
    MVIT_LAYOUT_TOKENS, /* dims = P (patch area), N (patches), C; token (p, n) at row p*N + n */
} mvit_layout;

typedef enum mvit_act {
    MVIT_ACT_NONE,
    MVIT_ACT_SILU,
} mvit_act;

typedef enum mvit_value_kind {
    MVIT_VALUE_INPUT,  /* the caller's input image, not in the arena */
    MVIT_VALUE_TEMP,   /* lives in the arena at 'offset' */
    MVIT_VALUE_OUTPUT, /* the caller's logits, not in the arena */
} mvit_value_kind;

typedef enum mvit_dtype {
    MVIT_F32, /* float32 */
    MVIT_I8,  /* int8, real = qscale * (q - qzero) (docs/int8.md) */
} mvit_dtype;

typedef struct mvit_value {
    char name[96];          /* for comments: the producing node's name */
    mvit_layout layout;
    mvit_dtype dtype;       /* MVIT_F32 until pass_quantize_int8 */
    double qscale;          /* MVIT_I8: scale and zero point */
    int32_t qzero;
    int32_t dims[3];        /* HWC: H, W, C.  TOKENS: P, N, C */
    mvit_value_kind kind;
    int producer;           /* node index, -1 for the graph input */
    int64_t offset;         /* bytes into the arena (TEMP), set by plan_memory, -1 before */
} mvit_value;

/* The integer parameters of an int8 node, set by pass_quantize_int8 (docs/int8.md). Which
 * fields are used depends on the op; all arrays are owned. */
typedef struct mvit_qnode {
    int8_t *w;                /* CONV2D, LINEAR: int8 weight, the float weight's layout */
    int32_t *bias;            /* CONV2D, LINEAR: per output channel, zero-point term folded in */
    int16_t *mult;            /* CONV2D, LINEAR: requantisation of each output channel: */
    int8_t *shift;            /*   multiplier and shift (docs/int8.md) */
    int32_t zy;               /* zero point the requantisation targets (the pre-activation's
                                 when a SiLU table follows) */
    int has_lut;              /* CONV2D, LINEAR (fused SiLU), SILU */
    int8_t lut[256];
    float *out_scale;         /* LINEAR to the float logits: per channel sx * sw */
    int32_t m[2], s[2];       /* ADD: m[0], m[1], s[0] (common); CONCAT: per input;
                                 GLOBAL_AVGPOOL: m[0], s[0]; ATTENTION, LINEAR_ATTENTION:
                                 softmax m[0], s[0] and output m[1], s[1] */
    int32_t *ln_g;            /* LAYERNORM, GROUPNORM: per channel, Q16 */
    int32_t *ln_b;            /* LAYERNORM, GROUPNORM: per channel, Q16 */
    int ln_channels;          /* LAYERNORM: entries of ln_g and ln_b: C, or 1 (the same affine
                                 for every channel, e.g. folded into the next GEMM) */
    int64_t ln_eps;           /* LAYERNORM: eps in the integer variance's units */
    int32_t exp2_lut[256];    /* ATTENTION, LINEAR_ATTENTION: round(2^15 * 2^(-f/256)) */
    float thresholds[255];    /* QUANTIZE: the float input values where q steps up */
    int8_t *pixel_lut;        /* QUANTIZE: [channel][256] for 8-bit pixels (P_run_u8) */
} mvit_qnode;

typedef struct mvit_node {
    mvit_op op;
    char name[96];          /* timm module path, e.g. "stages.2.1.conv_kxk" */
    mvit_src_loc loc;       /* YAML mapping it came from */
    int num_inputs;
    int inputs[2];          /* value ids */
    int output;             /* value id */
    int dead;               /* removed by a pass; skipped by everyone after */

    /* CONV2D; after pass_fuse_concat a conv may have 2 inputs: its input is then their channel
     * concatenation [inputs[0] | inputs[1]] */
    int kernel, stride, pad, groups;   /* square kernel, symmetric zero padding */
    /* CONV2D, LINEAR */
    int out_channels;
    /* CONV2D, LINEAR: weight and bias (float32, owned). CONV2D weight is HWIO
     * [kernel][kernel][C_in/groups][C_out]; LINEAR weight is IO [C_in][C_out]. */
    float *weight;
    int64_t weight_numel;
    float *bias;                       /* C_out values or NULL */
    mvit_act act;                      /* epilogue, applied after bias and residual */
    int residual;                      /* value id added in the epilogue, -1 for none */

    /* BATCHNORM: y = (x - mean) * gamma / sqrt(var + eps) + beta, per channel (owned) */
    float *bn_gamma, *bn_beta, *bn_mean, *bn_var;
    /* BATCHNORM, LAYERNORM, GROUPNORM */
    double eps;
    /* LAYERNORM, GROUPNORM: per-channel affine (owned) */
    float *ln_gamma, *ln_beta;
    /* ATTENTION */
    int heads;
    /* UNFOLD, FOLD (mvk_remap of mvk-prelude.h): the block's map is map_h x map_w (UNFOLD's
     * input, FOLD's output); its tokens are those of the patch grid, grid_h x grid_w, the map
     * rounded up to whole patch_h x patch_w patches. Where the two differ, the unfold resizes
     * the map up to the grid and the fold resizes back, bilinear with align_corners=False as
     * timm's MobileVitBlock and ml-cvnets' unfolding/folding do. */
    int patch_h, patch_w;
    int32_t map_h, map_w;
    int32_t grid_h, grid_w;
    /* LINEAR_ATTENTION: patch_h, patch_w as above; the softmax runs over the pixels of the map
     * that share one position inside their patch (timm LinearSelfAttention on [d][P][N]).
     * RESIZE: map_h x map_w (its input) to grid_h x grid_w (MobileViT v2's block input). */
    /* CONV2D 1x1: A rows read through an unfold/fold (MVK_REMAP_* of mvk-prelude.h, 0 = none),
     * after pass_fuse_patch_remap; patch, map and grid as above give the geometry */
    int remap;
    /* LINEAR, CONV2D 1x1: each A row is LayerNorm-normalised (with eps) before the product;
     * set by pass_fuse_layernorm, which folded the LayerNorm's gamma/beta into weight/bias */
    int norm_rows;

    mvit_qnode *q;                     /* int8 parameters (owned), NULL for float nodes */
    int keep_float;                    /* int8 builds: stays float (--keep-fp32) */

    int64_t scratch_bytes;             /* arena scratch the kernel needs while it runs */
    int64_t scratch_offset;            /* set by plan_memory */
} mvit_node;

typedef struct mvit_graph {
    const mvit_model_desc *desc;
    int num_values, cap_values;
    mvit_value *values;
    int num_nodes, cap_nodes;
    mvit_node *nodes;
    int input;                         /* value id of the image */
    int output;                        /* value id of the logits */
    int64_t arena_bytes;               /* set by plan_memory */
    int max_tasks;                     /* tasks a parallel layer may be split into (>= 1) */
    /* multi-resolution builds: the same network at the largest resolution, node for node;
     * its shapes decide the weight layouts (e.g. Winograd or not), so that every resolution
     * shares one copy of the weights. NULL: this graph's own shapes decide. */
    const struct mvit_graph *layout_ref;
} mvit_graph;

extern const char *const mvit_op_names[MVIT_OP_COUNT];

void mvit_qnode_free(mvit_qnode *q);

/* Attribute record with everything absent (no residual, no activation). */
void mvit_node_attrs_init(mvit_node *attrs);

void mvit_graph_init(mvit_graph *g, const mvit_model_desc *desc);
void mvit_graph_free(mvit_graph *g);
int mvit_graph_add_value(mvit_graph *g, const char *name, mvit_layout layout, int32_t d0,
                         int32_t d1, int32_t d2);
/* Appends a node of op reading inputs (num_inputs from the op table), infers and creates its
 * output value, returns the node index (or < 0 with d filled when shapes do not fit). */
int mvit_graph_add_node(mvit_graph *g, mvit_op op, const char *name, mvit_src_loc loc,
                        const int *inputs, mvit_node *attrs, mvit_diag *d);
/* Bytes of a value (by its dtype). */
int64_t mvit_value_bytes(const mvit_value *v);
int64_t mvit_value_numel(const mvit_value *v);
/* Number of live nodes reading value id (inputs and residual). */
int mvit_value_uses(const mvit_graph *g, int value);
/* Input channels of a conv/linear: all its inputs' channels (a fused concat has two). */
int mvit_node_in_channels(const mvit_graph *g, const mvit_node *n);
/* Multiply-accumulates of a node (for reports and the cost model). */
int64_t mvit_node_macs(const mvit_graph *g, const mvit_node *n);

/* The remap of a node (an UNFOLD or FOLD, or a conv reading through one), with its resize
 * taps (if the map is resized) in the same allocation: free() it. NULL when the node has no
 * remap. */
#define MVIT_MAX_MAP 4096 /* largest patch grid side */
struct mvk_remap;
struct mvk_lerp;
struct mvk_remap *mvit_node_remap(const mvit_node *n);
/* Whether a node's unfold/fold resizes (the map does not split into whole patches). */
int mvit_node_resizes(const mvit_node *n);
/* PyTorch's bilinear resize along one axis, align_corners=False (aten's
 * area_pixel_compute_source_index and compute_source_index_and_lambda, in float): the taps of
 * each of dst coordinates over src, and their Q11 weights for int8 (docs/int8.md). */
void mvit_bilinear_taps(int src, int dst, struct mvk_lerp *taps);

/* Checks structural invariants (inputs defined before use, shapes consistent, no dead value
 * read). Returns 0 or MVIT_EINVAL with d naming the node. Passes are followed by it in tests
 * and debug builds. */
int mvit_ir_verify(const mvit_graph *g, mvit_diag *d);

/* Builds the graph of a described MobileViT from timm-named weights, checking that every
 * expected tensor exists with the right shape and that no unexpected tensor is left. */
struct mvit_weights;
int mvit_build_graph(const mvit_model_desc *desc, struct mvit_weights *w, mvit_graph *g,
                     mvit_diag *d);

void mvit_graph_dump(const mvit_graph *g, FILE *f);

#endif
