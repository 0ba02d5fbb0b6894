/* Dense 2-D convolution (groups = 1) as implicit GEMM, AVX2: the shared driver
 * f32-conv2d-im2col-driver.h on this ISA's GEMM microkernel and vector helpers. */
#include "mvk-avx2.h"
/* needs: f32-gemm-6x16-avx2.c (the microkernel the driver calls) */

#include "f32-conv2d-im2col-driver.h"
