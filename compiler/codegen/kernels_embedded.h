/* The kernel sources of compiler/kernels, embedded at build time by codegen/embed.c. */
#ifndef MVIT_KERNELS_EMBEDDED_H
#define MVIT_KERNELS_EMBEDDED_H

typedef struct mvit_kernel_source {
    const char *name; /* file name, e.g. "f32-gemm-scalar.c" */
    const char *text;
} mvit_kernel_source;

extern const mvit_kernel_source mvit_kernel_sources[];
extern const int mvit_kernel_source_count;

#endif
