/* MobileViT v2's GroupNorm, ARM NEON: the shared driver f32-groupnorm-driver.h on this ISA's
 * vector helpers. */
#include "mvk-neon.h"

#include "f32-groupnorm-driver.h"
