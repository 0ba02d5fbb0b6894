/* Code generation: turns a planned graph into one standalone C file and its header.
 * codegen.c owns the fixed file layout (banner, includes, kernels, weights, one function per
 * layer, the entry point); a target only supplies how each op is lowered to kernel calls. */
#ifndef MVIT_CODEGEN_H
#define MVIT_CODEGEN_H

#include <stdint.h>

#include "codegen/emit.h"
#include "ir/ir.h"

#define MVIT_VERSION "0.1.0"

typedef struct mvit_param {
    int64_t offset;    /* floats into the weights blob, multiple of 16 (64 bytes) */
    int64_t count;
    unsigned paths;    /* the code paths that read it (bit k: path k of an x86-64 file) */
    char label[160];
} mvit_param;

/* Integer constants of int8 builds, one typed array per width. */
typedef enum cg_int_kind { CG_I8, CG_I16, CG_I32, CG_I64, CG_INT_KINDS } cg_int_kind;

typedef struct cg_int_blob {
    unsigned char *data;         /* elements of the kind's width */
    int64_t len, cap;            /* elements */
    mvit_param *params;
    int num_params, cap_params;
} cg_int_blob;

typedef struct mvit_codegen {
    const mvit_graph *g;
    const struct mvit_target *target;   /* the target being lowered for: the file's, or one
                                           of its paths while that path's layers are emitted */
    const struct mvit_target *file_target;
    const char *prefix;          /* the generated API's name, e.g. "fmnist_xxs" */
    mvit_emitter body;           /* layer functions, written while params are collected */
    float *blob;                 /* all weights, in order of first use */
    int64_t blob_len, blob_cap;  /* floats */
    mvit_param *params;
    int num_params, cap_params;
    int *kernel_order;           /* indices into mvit_kernel_sources, in order of first use */
    int num_kernels;
    cg_int_blob ints[CG_INT_KINDS];
    char u8_table[64];           /* C expression of P_run_u8's pixel tables */
    int64_t *units;              /* per node: work units a parallel-for may split, 0 = serial */
    int cur_node;
    const char *v;               /* names of this graph's functions: "" or "_<resolution>" */
    int share_params;            /* cg_param returns an identical earlier param */
    int path;                    /* the code path being emitted (0 unless the target has paths) */
} mvit_codegen;

/* Appends count floats to the weights blob (64-byte aligned); returns their float offset. */
int64_t cg_param(mvit_codegen *cg, const float *data, int64_t count, const char *fmt, ...)
    MVIT_PRINTF(4, 5);
/* Appends count integers of a kind (64-byte aligned); returns their element offset. */
int64_t cg_param_int(mvit_codegen *cg, cg_int_kind kind, const void *data, int64_t count,
                     const char *fmt, ...) MVIT_PRINTF(5, 6);
/* C expression for an integer array at an element offset: "P_i32 + 12". */
void cg_int_ref(const mvit_codegen *cg, cg_int_kind kind, char *buf, size_t n, int64_t offset);
/* Whether compiler/kernels/NAME exists (a target's kernel set is the files with its suffix). */
int cg_kernel_exists(const char *file);
/* Marks a kernel file (compiler/kernels/NAME) for inclusion in the generated file. */
void cg_use_kernel(mvit_codegen *cg, const char *file);
/* C expression for the weights blob at a float offset: "P_weights.f + 1234". */
void cg_weight_ref(const mvit_codegen *cg, char *buf, size_t n, int64_t offset);

/* Declares that the current node's body may run split into `units` independent pieces: the
 * body then computes units [r0, r1) with the per-task scratch `scratch`. */
void cg_parallel(mvit_codegen *cg, int64_t units);

/* Lowers one live node: writes the statements of its layer function into cg->body. In scope:
 * in0, in1 (inputs), res (fused residual or 0), out, scratch, and r0, r1 (see cg_parallel). */
typedef void (*mvit_emit_node_fn)(mvit_codegen *cg, const mvit_node *n);

struct mvit_target;

/* Arena scratch bytes a node's kernel needs while it runs (0 = none); a lowering that calls
 * cg_parallel must reserve g->max_tasks equal slots, one per task. */
typedef int64_t (*mvit_scratch_fn)(const struct mvit_target *t, const mvit_graph *g,
                                   const mvit_node *n);

/* A SIMD kernel family (target_simd.c): kernels named mvk_..._<suffix> in files
 * [fi]{32,8}-...-<suffix>.c and mvk-<suffix>.h, all with the same signatures and packed
 * layouts, so the SIMD targets share one lowering and differ only in this record and their
 * kernel set: an optional kernel (Winograd, an int8 op's) is used where its file exists. */
typedef struct mvit_simd_isa {
    const char *suffix;          /* "avx2", "neon" */
    int mr, nr;                  /* the fp32 GEMM microkernel's tile, f32-gemm-<mr>x<nr>-<suffix>.c:
                                    rows of A and columns of B per call (nr / 16 packed panels
                                    of 16 columns) */
    int dw_cpad;                 /* fp32 depthwise weight rows padded to this many channels */
    int l1_bytes, l2_bytes;      /* data caches of the tiling cost model, per core */
    const char *i8_suffix;       /* the ISA of its int8 kernels, i8-<op>-<i8_suffix>.c */
    const char *i8_fallback;     /* an op without that file: i8-<op>-<i8_fallback>.c if any
                                    (AVX-512: the AVX2 files), else the portable kernel */
    int i8_panel;                /* columns per packed panel of i8-gemm-<i8_suffix>.c's B
                                    (mvit_pack_i8_b): 8, or 16 on AVX-512 */
    int i8_dw_packed;            /* int8 depthwise weights by mvit_pack_i8_dw, else [k*k][c] */
} mvit_simd_isa;

/* One way the tests build and run a target's file: a compiler, its flags, what the host CPU
 * must have, and the qemu-user that runs it when it is not the host's. */
typedef struct mvit_target_build {
    const char *name;     /* "avx2_vnni", "aarch64", ... */
    const char *cc;       /* C compiler command */
    const char *cflags;   /* "" for none */
    const char *cpu;      /* /proc/cpuinfo flags the host needs (space-separated), "" for none */
    const char *emulator; /* qemu-user command, or "" (host) */
} mvit_target_build;

#define MVIT_MAX_TARGET_BUILDS 4

typedef struct mvit_target {
    const char *name;
    const char *help;                           /* one line for `mvitc targets` */
    const char *arch;                           /* CPUs the file builds for: "any" (portable C),
                                                   "x86-64" or "arm" */
    const char *triple;                         /* clang triple mvitc report sizes and
                                                   estimates the code for */
    const char *cflags;                         /* clang flags for that triple, or "" */
    const char *emulator;                       /* qemu-user that runs it on an x86-64 host, or
                                                   NULL: it runs on the host (if the CPU has
                                                   the cflags' ISA) */
    /* how the tests build and run the file (mvitc targets --builds), in order; the first that
       runs here is the target's main run */
    mvit_target_build builds[MVIT_MAX_TARGET_BUILDS];
    const char *includes;                       /* extra preprocessor lines, or "" */
    const char *fn_attr;                        /* prefix of layer functions, e.g. "MVK_AVX2 " */
    const mvit_simd_isa *simd;                  /* NULL for the portable target */
    /* the target's own fp32 lowerings of the ops it accelerates, with their scratch; NULL:
       the op's portable lowering (mvit_op_def.lower_f32 / scratch_f32, compiler/ops/) */
    mvit_emit_node_fn emit_node[MVIT_OP_COUNT];
    mvit_scratch_fn scratch[MVIT_OP_COUNT];
    /* a file of several code paths (x86-64): the targets whose lowerings it holds, from the
       baseline up, NULL-terminated, sharing one copy of each identical constant and one arena
       plan (each layer's scratch the largest of theirs); select_fn writes the C function
       `static int P_cpu_path(void)`, the best path the running CPU can take */
    const struct mvit_target *const *paths;
    void (*select_fn)(const char *prefix, mvit_emitter *e);
} mvit_target;

extern const mvit_target mvit_target_generic;
extern const mvit_target mvit_target_avx2;
extern const mvit_target mvit_target_avx512;
extern const mvit_target mvit_target_neon;
extern const mvit_target mvit_target_x86_64;
/* The target registry: every target, NULL-terminated. The CLI, `mvitc report`, CMake's
 * regenerate list and the tests read the list from here (`mvitc targets`). */
extern const mvit_target *const mvit_targets[];
const mvit_target *mvit_find_target(const char *name);
/* The names of all targets joined by sep ("generic, avx2, neon"), into buf. */
void mvit_target_names(const char *sep, char *buf, size_t n);


/* Sets every live node's scratch_bytes as the target's kernels need (before planning). */
void mvit_target_assign_scratch(const mvit_target *t, mvit_graph *g);

/* Emits a conv layer's shape (mvk_conv2d of mvk-prelude.h) as a static constant of the
 * current layer function and writes its C expression ("&conv"). */
struct mvk_conv2d;
void cg_conv2d(mvit_codegen *cg, const struct mvk_conv2d *p, char *expr, size_t len);

/* The same for a GEMM's shape (mvk_gemm); remap: the C expression of its remap ("0", "&remap"). */
struct mvk_gemm;
void cg_gemm(mvit_codegen *cg, const struct mvk_gemm *p, const char *remap, char *expr, size_t len);

/* Emits count resize taps (mvk_lerp) as `static const mvk_lerp NAME[count]` of the current
 * layer function. */
struct mvk_lerp;
void cg_taps(mvit_codegen *cg, const char *name, const struct mvk_lerp *t, int count);

/* Emits the node's mvk_remap (an unfold/fold, with its resize taps) as static constants of
 * the current layer function and writes its C expression ("&remap"), or "0" for none. */
void cg_remap(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len);

typedef struct mvit_codegen_info {
    const char *prefix;
    const char *command_line;
    const char *desc_path, *weights_path;
    uint64_t model_hash;    /* FNV-1a 64 of the description and weights files */
    const char *precision;
    int max_tasks;          /* parallel tasks per layer; per-task scratch is reserved for each */
    int multi_resolution;   /* entry points named P_run_<resolution>, one per graph */
} mvit_codegen_info;

/* Writes the .c and .h text of the graphs into c_out and h_out: one graph, or the same
 * network at several resolutions (info->multi_resolution) sharing one copy of the weights. */
int mvit_codegen_emit(const mvit_graph *const *graphs, int num_graphs, const mvit_target *t,
                      const mvit_codegen_info *info, mvit_emitter *c_out, mvit_emitter *h_out,
                      mvit_diag *d);

#endif
