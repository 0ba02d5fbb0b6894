/* MobileViT multi-head attention, ARM NEON: the shared driver f32-attention-driver.h on this
 * ISA's GEMM microkernel and vector helpers (exp, softmax reductions). */
#include "mvk-neon.h"
/* needs: f32-gemm-6x16-neon.c (the microkernel the driver calls) */

#include "f32-attention-driver.h"
