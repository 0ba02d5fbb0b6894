/* INT8 GroupNorm of MobileViT v2, AVX2: bit for bit mvk_i8_groupnorm__scalar, on the
 * LayerNorm's AVX2 microkernels (the driver: i8-groupnorm-driver.h). */
/* needs: i8-scalar.c i8-layernorm-avx2.c (the row sums, scale and values) */
#include "mvk-avx2.h"

#include "i8-groupnorm-driver.h"
