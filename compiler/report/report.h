/* mvitc report: per target x precision x resolution, what a build of one model costs
 * (MACs, constant and code bytes, arena), how fast it runs on this host (median, per layer),
 * what it outputs (hash, max difference from the generic fp32 build) and static cycle
 * estimates for named cores (llvm-mca). report.c measures; render.c writes the files;
 * mca.c makes the estimates. Data flows one way: measure -> mvit_report -> render. */
#ifndef MVIT_REPORT_H
#define MVIT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common/diag.h"

#define MVIT_REPORT_MAX_CORES 8

/* One layer of one build, in execution order. */
typedef struct mvit_report_layer {
    int index;           /* the node index, as in NAME_layer_NNN of the generated file */
    char name[96];       /* e.g. "stages.2.1.transformer.0.attn" */
    char op[24];         /* "conv2d", "linear", "attention", ... */
    int64_t macs;        /* multiply-accumulates (0 for layers without) */
    int64_t kernel_macs; /* the multiplies the build's kernel really does (Winograd: 4x
                            fewer); the estimates and % of peak use it */
    int64_t kernel_elems; /* elements of its elementwise pass (SiLU epilogue, softmax,
                             Winograd transforms), costed on the layer's second loop */
    double measured_us;  /* median on this host; < 0: not measured */
    double est_us[MVIT_REPORT_MAX_CORES]; /* per mvit_report.cores[k]; < 0: no estimate */
} mvit_report_layer;

/* One arena block over time: live from layer `first` to layer `last` (indices into
 * mvit_report_cell.layers, inclusive) at [offset, offset + bytes). */
typedef struct mvit_report_block {
    char name[96];             /* the value, or "<layer> scratch" */
    int64_t offset, bytes;
    int first, last;
} mvit_report_block;

typedef struct mvit_report_cell {
    char target[16];           /* "generic", "avx2", "neon" */
    char precision[8];         /* "fp32", "int8" */
    int height, width;         /* input pixels (rows, columns); may differ */
    int64_t macs;              /* whole network */
    int64_t constant_bytes;    /* weights, biases, tables: the banner's "constants" */
    int64_t code_bytes;        /* executable sections of the object built for code_triple */
    char code_triple[48];      /* e.g. "aarch64-linux-gnu" */
    int64_t arena_bytes;       /* NAME_ARENA_BYTES */
    int64_t arena_lower_bound; /* largest input + output (+ scratch) of a single layer */

    double latency_ms;         /* median total on this host; < 0: not measured here */
    int latency_runs;          /* runs behind the median */
    char latency_note[160];    /* how it was measured, or why not (e.g. "ARM: qemu, not timed") */
    double est_ms[MVIT_REPORT_MAX_CORES]; /* sum of the layer estimates; < 0: none */

    char output_hash[17];      /* FNV-1a 64 of the logits bytes, hex; "" if it did not run */
    double max_diff;           /* max |logit - generic fp32 logit| at the same height x width */
    char run_note[96];         /* where the output came from: "host", "qemu-aarch64" */

    int num_layers;
    mvit_report_layer *layers;
    int num_blocks;
    mvit_report_block *blocks;
} mvit_report_cell;

typedef struct mvit_report {
    char model[64];            /* the description's name */
    char desc_path[256], weights_path[256];
    char host_cpu[128]; /* e.g. "AMD EPYC 7B13 (avx2, fma)" */
    char command[512];  /* the mvitc report command line */
    int num_cores;      /* static estimate cores */
    /* the column's name: the core class and the llvm-mca model that stands for it, e.g.
     * "Cortex-A76/A78 class (neoverse-n1 model)" */
    char cores[MVIT_REPORT_MAX_CORES][64];
    char core_triples[MVIT_REPORT_MAX_CORES][48]; /* the triple each core was estimated for */
    char core_cc_cpu[MVIT_REPORT_MAX_CORES][32];  /* clang's -mcpu (x86: -mtune; "": none) */
    char core_model[MVIT_REPORT_MAX_CORES][32];   /* llvm-mca's -mcpu: the model used */
    double core_ghz[MVIT_REPORT_MAX_CORES];       /* assumed clock for cycles -> time */
    double core_peak_f32[MVIT_REPORT_MAX_CORES];  /* MAC/cycle of its fp32 SIMD; < 0: unknown */
    double core_peak_i8[MVIT_REPORT_MAX_CORES];   /* MAC/cycle of its int8 SIMD; < 0: unknown */
    char core_notes[MVIT_REPORT_MAX_CORES][320];  /* what the model is, how the clock was
                                                     chosen, known limits */
    int host_column;                 /* 1 + the index of the core that models this host (the
                                        estimator's validation against measured times); 0: none, so
                                        that a zeroed report has none */
    char estimate_assumptions[2048]; /* how the estimates were made, stated in the report */
    int num_cells;
    mvit_report_cell *cells;
} mvit_report;

void mvit_report_free(mvit_report *r);

/* render.c: the same report three ways. Each returns 0, MVIT_EIO when a write to f failed
 * (ferror), or MVIT_ENOMEM. */
int mvit_report_write_md(const mvit_report *r, FILE *f);
int mvit_report_write_json(const mvit_report *r, FILE *f);
/* Self-contained HTML: inline CSS and SVG charts (per-layer time, measured and estimated, per
 * build; the arena's memory timeline), no scripts or external assets. */
int mvit_report_write_html(const mvit_report *r, FILE *f);

#endif
