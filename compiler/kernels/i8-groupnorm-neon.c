/* INT8 GroupNorm of MobileViT v2, ARM NEON: bit for bit mvk_i8_groupnorm__scalar, on the
 * LayerNorm's ARM NEON microkernels (the driver: i8-groupnorm-driver.h). */
/* needs: i8-scalar.c i8-layernorm-neon.c (the row sums, scale and values) */
#include "mvk-neon.h"

#include "i8-groupnorm-driver.h"
