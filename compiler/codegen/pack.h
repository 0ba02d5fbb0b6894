/* Compile-time weight layouts for the SIMD kernels. */
#ifndef MVIT_PACK_H
#define MVIT_PACK_H

#include <stdint.h>

/* GEMM B [k][n] (row-major, n fastest) -> panels of `nr` columns, [ceil(n/nr)][k][nr], zero
 * padded. Returns the packed length in floats; dst may be NULL to query it. */
int64_t mvit_pack_b_panels(const float *b, int k, int n, int nr, float *dst);

/* A vector of n values (bias) zero padded to a multiple of `to`. Returns the padded length. */
int64_t mvit_pack_pad(const float *v, int n, int to, float *dst);

/* Winograd F(4x4, 3x3) weights: U = G g G^T for every (input, output) channel pair of HWIO
 * weights [3][3][cin][cout], computed in double; u is [36][cin][cout] (position xi = 6*i + j
 * of the 6x6 tile). See kernels/f32-conv3x3-winograd-avx2.c for the whole scheme. */
void mvit_winograd_f43_weights(const float *hwio, int cin, int cout, float *u);

/* INT8 GEMM B [k][n] (int8, row-major, n fastest) -> the layout of the SIMD int8 GEMM
 * kernels (kernels/i8-gemm-*.c): panels of `cols` columns (8: AVX2 and NEON; 16: AVX-512,
 * one zmm of int32 lanes), k taken in groups of 4: dst[ceil(n/cols)][ceil(k/4)][cols][4],
 * element [p][q][j][i] = b[4q + i][cols*p + j], zero padded (columns past n, rows past k).
 * AVX2 and AVX-512 feed a column's 4 bytes to vpdpbusd where the file is built with VNNI,
 * else widen the group to int16 for vpmaddwd (exact: no int16 saturation as with
 * vpmaddubsw); NEON feeds them to sdot where the CPU has it, else splits the group with
 * vld4_s8 and widens. Returns the packed length in bytes; dst may be NULL to query it. */
int64_t mvit_pack_i8_b(const int8_t *b, int k, int n, int cols, int8_t *dst);

/* INT8 depthwise weights [taps][c] (HWC, taps = k*k) -> the layout of the SIMD int8 depthwise
 * kernels (kernels/i8-dwconv-avx2.c): blocks of 16 channels, taps in pairs, and per pair the
 * two vectors that vpmaddwd multiplies with the inputs interleaved by vpunpcklwd / vpunpckhwd:
 * dst[ceil(c/16)][ceil(taps/2)][2][8][2], element [b][q][h][l][i] = w[2q + i][16b + 4h + l']
 * with l' = l for l < 4 and l + 4 otherwise; zero padded. Returns the length in bytes; dst
 * may be NULL to query it. */
int64_t mvit_pack_i8_dw(const int8_t *w, int taps, int c, int8_t *dst);

#endif
