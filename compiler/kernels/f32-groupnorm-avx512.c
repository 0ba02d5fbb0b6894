/* MobileViT v2's GroupNorm, AVX-512: the shared driver f32-groupnorm-driver.h on this ISA's
 * vector helpers. */
#include "mvk-avx512.h"

#include "f32-groupnorm-driver.h"
