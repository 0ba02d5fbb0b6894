/* INT8 GroupNorm of MobileViT v2, AVX-512: bit for bit mvk_i8_groupnorm__scalar, on the
 * LayerNorm's AVX-512 microkernels (the driver: i8-groupnorm-driver.h). */
/* needs: i8-scalar.c i8-layernorm-avx512.c (the row sums, scale and values) */
#include "mvk-avx512.h"

#include "i8-groupnorm-driver.h"
