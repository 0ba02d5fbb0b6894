/* MobileViT multi-head attention, AVX2: the shared driver f32-attention-driver.h on this
 * ISA's GEMM microkernel and vector helpers (exp, softmax reductions). */
#include "mvk-avx2.h"
/* needs: f32-gemm-6x16-avx2.c (the microkernel the driver calls) */

#include "f32-attention-driver.h"
