/* The ops: each IR op of ir/ops.def is defined in one file, compiler/ops/<name>.c, as one
 * mvit_op_def holding everything the op means to the compiler. The IR, calibration, the int8
 * pass and code generation reach an op only through mvit_op_defs[]. A SIMD target that
 * accelerates an op registers its own lowering in its record (mvit_target.emit_node), indexed
 * by the same op. */
#ifndef MVIT_OPS_H
#define MVIT_OPS_H

#include "codegen/codegen.h"
#include "ir/ir.h"
#include "kernels/mvk-prelude.h"

typedef struct mvit_qctx mvit_qctx;

/* The work of a layer's kernels, for mvitc report's estimates: the multiply-accumulates they
 * really do, and the elements of the elementwise pass beside them (an exp per element of a
 * SiLU epilogue or a softmax, a channel of a tile of a Winograd transform). */
typedef struct mvit_kernel_work {
    int64_t macs, elems;
} mvit_kernel_work;

typedef struct mvit_op_def {
    /* attribute checks and shape inference: fills out's layout and dims from the inputs */
    int (*infer)(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d);
    /* multiply-accumulates (reports, cost model); mvit_no_macs for data movement */
    int64_t (*macs)(const mvit_graph *g, const mvit_node *n);
    /* what target t's kernels really do (int8: the integer graph's), where it differs from
     * mvit_node_kernel_work's default (Winograd's multiplies and transforms, attention's
     * softmax); NULL = the default */
    void (*kernel_work)(const mvit_graph *g, const mvit_node *n, const mvit_target *t, int int8,
                        mvit_kernel_work *w);
    /* float evaluation for calibration and the pass tests, on the portable kernels (the
     * generated generic code's arithmetic); NULL only for ops of int8 graphs */
    void (*eval)(const mvit_graph *g, const mvit_node *n, float **bufs);
    /* the int8 rule (passes/quantize_int8.c, docs/int8.md): sets node idx's mvit_qnode;
     * NULL: the op has no int8 form (BatchNorm, which fold_bn removes first) */
    int (*quantize)(mvit_qctx *c, int idx);
    int keeps_qparams;          /* int8: the output has its input's scale (data movement) */
    mvit_emit_node_fn lower_f32; /* portable fp32 lowering; NULL only for ops of int8 graphs */
    mvit_scratch_fn scratch_f32; /* its arena scratch, NULL = none */
    mvit_emit_node_fn lower_i8;  /* int8 lowering (every target); NULL iff quantize is */
    mvit_scratch_fn scratch_i8;  /* its arena scratch, NULL = none */
} mvit_op_def;

#define OP(e, name, nin) extern const mvit_op_def mvit_op_##name;
#include "ir/ops.def"
#undef OP

/* Indexed by mvit_op. */
extern const mvit_op_def *const mvit_op_defs[MVIT_OP_COUNT];

// ---- shared by the op files (ops.c)

/* Shape error naming the node, its YAML place and its input shape. */
int mvit_op_fail_shape(const mvit_graph *g, const mvit_node *n, mvit_diag *d, const char *what);
/* The output has the input's layout and shape. */
int mvit_infer_same(const mvit_graph *g, const mvit_node *n, mvit_value *out, mvit_diag *d);
int64_t mvit_no_macs(const mvit_graph *g, const mvit_node *n);
/* A layer's kernel work: by default its macs and no separate elementwise pass (an activation
 * runs in the GEMM's epilogue, inside the MAC loop's kernel); then the op's kernel_work. */
void mvit_node_kernel_work(const mvit_graph *g, const mvit_node *n, const mvit_target *t, int int8,
                           mvit_kernel_work *w);
/* An int8 rule with nothing to derive (the scales the pass gives the values are enough). */
int mvit_quantize_nothing(mvit_qctx *c, int idx);

// ---- convolutions: one classifier for every lowering (conv2d.c)

typedef enum mvit_conv_kind {
    MVIT_CONV_POINTWISE, /* 1x1, stride 1, no padding, one group, one input: a GEMM over pixels */
    MVIT_CONV_DEPTHWISE, /* one group per channel, as many outputs as inputs */
    MVIT_CONV_GROUPED,   /* any other grouped conv */
    MVIT_CONV_WINOGRAD,  /* dense 3x3 stride 1 pad 1 that the target runs as Winograd F(4x4, 3x3) */
    MVIT_CONV_DENSE,     /* any other dense conv (one group): im2col + GEMM, or a direct loop */
} mvit_conv_kind;

/* t: the target the conv is lowered for (Winograd where its kernels have it and it pays), or
 * NULL (calibration, int8: no Winograd). */
mvit_conv_kind mvit_conv_classify(const mvit_graph *g, const mvit_node *n, const mvit_target *t);
/* The same test as MVIT_CONV_POINTWISE, for passes that have only the node. */
int mvit_conv_is_pointwise(const mvit_node *n);
/* The conv kernels' view of the node (mvk_conv2d of mvk-prelude.h; mc, kc left 0). */
void mvit_conv2d_shape(const mvit_graph *g, const mvit_node *n, mvk_conv2d *p);

// ---- products over rows, shared by LINEAR and pointwise CONV2D (linear.c)

/* The GEMM kernels' view of the node (mvk_gemm: m output rows; remap, mc and kc left 0). */
void mvit_gemm_shape(const mvit_graph *g, const mvit_node *n, mvk_gemm *p);
/* Float evaluation of a GEMM over the input's rows, through the node's remap and fused
 * LayerNorm. */
void mvit_eval_gemm_rows(const mvit_graph *g, const mvit_node *n, float **bufs);
/* The portable fp32 lowering of the same (weights as given, IO / HWIO). */
void mvit_lower_f32_gemm_rows(mvit_codegen *cg, const mvit_node *n);
int64_t mvit_scratch_f32_gemm_rows(const mvit_target *t, const mvit_graph *g, const mvit_node *n);
/* Registers weight and bias of a conv/linear as they are; writes their C expressions. */
void mvit_f32_weight_bias(mvit_codegen *cg, const mvit_node *n, char *w, char *b, size_t len);
/* The int8 rule of a conv or linear: weights per output channel, bias, requantisation. */
int mvit_quantize_product(mvit_qctx *c, int idx);
/* The int8 lowering of a GEMM over the rows of in0 (m x k by k x cols). */
void mvit_lower_i8_gemm_rows(mvit_codegen *cg, const mvit_node *n, int64_t m, int k, int cols);
/* The target's int8 GEMM kernel suffix; writes the reference to B (packed for SIMD). */
const char *mvit_i8_gemm_weights(mvit_codegen *cg, const mvit_node *n, int k, int cols,
                                 char *w, size_t len);

// ---- norms (layernorm.c)

/* The fp32 LayerNorm or GroupNorm (kind "layernorm", "groupnorm"): the layer's
 * `static const mvk_layernorm ln` and the call of mvk_f32_<kind>__<isa> (file
 * f32-<kind>-<isa>.c) over its rows; drop_identity: an identity affine is left out (gamma and
 * beta NULL, for kernels that then skip it). */
void mvit_lower_f32_norm(mvit_codegen *cg, const mvit_node *n, const char *kind, const char *isa,
                         int drop_identity);
/* The int8 rule of a LayerNorm or GroupNorm whose statistics run over count values. */
int mvit_quantize_norm(mvit_qctx *c, int idx, int64_t count);
/* The int8 norm's `static const mvk_layernorm ln`; expr gets "&ln". */
void mvit_emit_i8_norm(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len);

// ---- attention (attention.c)

/* The layer's `static const mvk_attention att` (with the int8 softmax when quantised); expr
 * gets "&att". */
void mvit_emit_attention(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len);

// ---- unfold and fold (unfold.c)

/* The patch grid fits the map: whole patches, at least the map, less than a patch more. */
int mvit_patch_grid_fits(const mvit_node *n);
void mvit_eval_remap(const mvit_graph *g, const mvit_node *n, float **bufs);
void mvit_lower_f32_remap(mvit_codegen *cg, const mvit_node *n);
void mvit_lower_i8_remap(mvit_codegen *cg, const mvit_node *n);

// ---- int8 lowering helpers (codegen/lower_int8.c)

/* C expressions of the int8 tensors a layer reads and writes. */
#define MVIT_X0 "(const int8_t *)in0"
#define MVIT_X1 "(const int8_t *)in1"
#define MVIT_Y "(int8_t *)out"

/* The target's suffix when its kernel set has its own int8 kernel for the op,
 * i8-<name>-<suffix>.c (same bytes as the portable one), else "scalar". "gemm": the
 * classifier's float-output GEMM of i8-gemm-<suffix>.c. */
const char *mvit_i8_op_kernel(const mvit_target *t, const char *name);
/* Pastes i8-scalar.c and i8-<name>-<suffix>.c where it exists (the target's kernel, or a
 * portable kernel with a file of its own, e.g. i8-groupnorm-scalar.c); returns the suffix. */
const char *mvit_i8_use_op_kernel(mvit_codegen *cg, const char *name);
/* Registers count integers (or floats) of node n labelled `what`; writes their reference. */
void mvit_i8_ints(mvit_codegen *cg, cg_int_kind k, const void *data, int64_t count, char *ref,
                  size_t len, const char *what, const mvit_node *n);
void mvit_i8_floats(mvit_codegen *cg, const float *data, int64_t count, char *ref, size_t len,
                    const char *what, const mvit_node *n);


/* Emits a conv's or linear's requantisation (mvk_i8_requant) as a static const of the layer
 * function ("&rq"); and an int8 GEMM's mvk_gemm ("&gemm"). */
void mvit_i8_emit_requant(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len);
void mvit_i8_emit_gemm(mvit_codegen *cg, int64_t m, int k, int n, char *expr, size_t len);

// ---- int8 quantisation helpers (passes/quantize_int8.c)

struct mvit_qctx {
    mvit_graph *g;
    mvit_diag *d;
};

/* An error naming the node: the int8 form cannot represent `what` (value v). */
int mvit_q_fail(const mvit_qctx *c, const mvit_node *n, const char *what, double v);
/* m = M * 2^-S with M in [2^14, 2^15), S in [1, 62] (docs/int8.md). */
int mvit_q_multiplier(const mvit_qctx *c, const mvit_node *n, double m, int32_t *M, int32_t *S);
/* M for m at a given shift S (may be below 2^14; 0 when m is negligible). */
int mvit_q_multiplier_at(const mvit_qctx *c, const mvit_node *n, double m, int32_t S,
                         int32_t *M);
/* The SiLU as a table from int8 levels of pre to those of post. */
void mvit_q_silu_lut(const mvit_value *pre, const mvit_value *post, int8_t *lut);
/* Node that reads value v, if exactly one live node does and it is a SILU; else -1. */
int mvit_q_sole_silu_reader(const mvit_graph *g, int v);

#endif
