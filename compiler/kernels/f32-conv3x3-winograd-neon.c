/* 3x3 stride-1 convolution (pad 1, groups 1) by Winograd F(4x4, 3x3), ARM NEON: the shared
 * driver f32-conv3x3-winograd-driver.h on this ISA's GEMM microkernel and vector
 * helpers. */
#include "mvk-neon.h"
/* needs: f32-gemm-6x16-neon.c (the microkernel the driver calls) */

#include "f32-conv3x3-winograd-driver.h"
