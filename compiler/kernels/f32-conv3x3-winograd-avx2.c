/* 3x3 stride-1 convolution (pad 1, groups 1) by Winograd F(4x4, 3x3), AVX2+FMA: the shared
 * driver f32-conv3x3-winograd-driver.h on this ISA's GEMM microkernel and vector
 * helpers. */
#include "mvk-avx2.h"
/* needs: f32-gemm-6x16-avx2.c (the microkernel the driver calls) */

#include "f32-conv3x3-winograd-driver.h"
