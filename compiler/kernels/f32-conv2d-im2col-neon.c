/* Dense 2-D convolution (groups = 1) as implicit GEMM, ARM NEON: the shared driver
 * f32-conv2d-im2col-driver.h on this ISA's GEMM microkernel and vector helpers. */
#include "mvk-neon.h"
/* needs: f32-gemm-6x16-neon.c (the microkernel the driver calls) */

#include "f32-conv2d-im2col-driver.h"
