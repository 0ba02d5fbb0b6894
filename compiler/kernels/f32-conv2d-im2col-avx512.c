/* Dense 2-D convolution (groups = 1) as implicit GEMM, AVX-512: the shared driver
 * f32-conv2d-im2col-driver.h on this ISA's GEMM microkernel and vector helpers. */
#include "mvk-avx512.h"
/* needs: f32-gemm-12x32-avx512.c (the microkernel the driver calls) */

#include "f32-conv2d-im2col-driver.h"
