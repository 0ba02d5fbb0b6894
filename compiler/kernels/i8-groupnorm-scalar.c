/* The integer GroupNorm of MobileViT v2 (one group over the whole map), on every target. */
#include "mvk-prelude.h"
/* needs: i8-scalar.c (the LayerNorm's arithmetic) */

/* Integer GroupNorm with one group (docs/int8.md): the LayerNorm of i8-scalar.c with the map as
 * its row, count = pixels * c values (count < 2^22: the bounds of the LayerNorm's table), and
 * the per-channel affine of each value's channel. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_groupnorm__scalar(const mvk_layernorm *p,
                                                              const int8_t *MVK_RESTRICT in,
                                                              int8_t *MVK_RESTRICT out,
                                                              int64_t pixels)
{
    const int c = p->c, count = (int)pixels * c;
    int32_t sum = 0;
    int64_t sumsq = 0;
    for (int i = 0; i < count; i++) {
        sum += in[i];
        sumsq += (int32_t)in[i] * in[i];
    }
    int k;
    const uint64_t inv = mvk_i8_ln_inv(count, sum, sumsq, p->eps_q, &k);
    for (int i = 0; i < (int)pixels; i++)
        for (int ch = 0; ch < c; ch++)
            out[i * c + ch] = mvk_i8_ln_value(in[i * c + ch], count, sum, inv, 46 - k, p->gamma_q,
                                              p->beta_q, p->per_channel ? ch : 0, p->zy);
}
