/* Static cycle estimates of each layer's inner kernel with llvm-mca. For every layer function
 * of a generated file, the loop that does the layer's work is found in clang's assembly and
 * llvm-mca (the same triple and -mcpu) estimates its cycles per iteration; report.c turns
 * that into time with the layer's MACs or elements. The assumptions are the caller's to state:
 * data in L1, the inner loop dominates, steady-state throughput. */
#ifndef MVIT_MCA_H
#define MVIT_MCA_H

#include "common/diag.h"

typedef struct mvit_mca_loop {
    char function[96];       /* the function whose loop was chosen ("" if none) */
    int instructions;        /* in the loop body */
    int mac_lanes;           /* multiply-accumulates one iteration does (0: none) */
    int vector_lanes;        /* lanes of the widest vector register it writes (1: scalar) */
    double cycles_per_iter;  /* llvm-mca's steady-state estimate; < 0: no loop found */
    /* the heaviest other loop without accumulating vector MACs in the same call tree (an
     * activation's exp, a softmax, a Winograd transform): one iteration per elem_vector_lanes
     * elements of the layer's elementwise pass (mvit_node_kernel_work) */
    int elem_vector_lanes;
    double elem_cycles_per_iter; /* < 0: none */
} mvit_mca_loop;

/* The core one estimate is for: clang compiles for cc_cpu (-mcpu on ARM, -mtune on x86, where
 * "" adds neither), llvm-mca times with the scheduling model mca_cpu, run as mca_tool. They
 * differ where LLVM's model of a core is another core's: the Cortex-A76 is compiled for as
 * cortex-a76 and timed by neoverse-n1, its own microarchitecture. */
typedef struct mvit_mca_core {
    const char *triple; /* "aarch64-linux-gnu", "x86_64-linux-gnu" */
    const char *cc_cpu;
    const char *mca_cpu;
    const char *mca_tool; /* e.g. "llvm-mca-19" */
} mvit_mca_core;

/* Compiles c_file (-I include_dir) with `clang --target=TRIPLE -mcpu=CC_CPU CFLAGS -O2 -S` into
 * work_dir, then for each i < n looks at the function named fn_prefix + "%03d" of
 * layer_ids[i] (e.g. "net_layer_" -> net_layer_012) and the functions it calls, directly or
 * not, within the file; picks its inner kernel loop (the innermost loop with the most
 * multiply-accumulate lanes per iteration; without any, the innermost loop with the most
 * instructions) and runs MCA_TOOL -mtriple=TRIPLE -mcpu=MCA_CPU on the loop body. out[i] gets
 * the result. Returns 0, or < 0 with d filled when clang or llvm-mca cannot be run. */
int mvit_mca_layer_loops(const char *c_file, const char *include_dir, const char *fn_prefix,
                         const mvit_mca_core *core, const char *cflags, int n, const int *layer_ids,
                         mvit_mca_loop *out, const char *work_dir, mvit_diag *d);

#endif
