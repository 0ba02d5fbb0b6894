/* MobileViT v2's GroupNorm, AVX2: the shared driver f32-groupnorm-driver.h on this ISA's vector
 * helpers. */
#include "mvk-avx2.h"

#include "f32-groupnorm-driver.h"
