/* Compile-time weight layouts for the SIMD kernels. */
#ifndef MVIT_PACK_H
#define MVIT_PACK_H

#include <stdint.h>

/* GEMM B [k][n] (row-major, n fastest) -> panels of `nr` columns, [ceil(n/nr)][k][nr], zero
 * padded. Returns the packed length in floats; dst may be NULL to query it. */
int64_t mvit_pack_b_panels(const float *b, int k, int n, int nr, float *dst);

/* A vector of n values (bias) zero padded to a multiple of `to`. Returns the padded length. */
int64_t mvit_pack_pad(const float *v, int n, int to, float *dst);

#endif
