/* MobileViT multi-head attention, AVX-512: the shared driver f32-attention-driver.h on this
 * ISA's GEMM microkernel and vector helpers (exp, softmax reductions). */
#include "mvk-avx512.h"
/* needs: f32-gemm-12x32-avx512.c (the microkernel the driver calls) */

#include "f32-attention-driver.h"
