/* The driver of the INT8 LayerNorm, written once for every ISA (docs/architecture.md,
 * "Kernels: one driver, per-ISA microkernels"); bit for bit mvk_i8_layernorm__scalar
 * (docs/int8.md), whose scalar arithmetic it also uses for a row's last values. Per row:
 * the sum and sum of squares, v = c sumsq - sum^2 + eps_q scaled by 4^k into [2^60, 2^62),
 * inv = 2^62 / floor(sqrt(v 4^k)), then n = R((c x - sum) inv, 46 - k) and
 * y = zy + R(n g + b 2^16, 32) per value. The ISA file supplies, before including this:
 *   MVK_ISA_FN(mvk_i8_ln_sums)(x, c, &sum, &sumsq)     the row sums (c < 2^16)
 *   MVK_ISA_FN(mvk_i8_ln_inv)(v)                        2^62 / floor(sqrt(v)), v > 0
 *   MVK_ISA_FN(mvk_i8_ln_row)(x, y, n, mult, sum, inv, sh, g, b, per_channel, zy)
 *       the first of n values from 0 in whole vector steps, with d = mult x - sum (|d| < 2^31);
 *       returns how many it wrote.
 * i8-groupnorm-driver.h runs the same microkernels over a whole map. */

/* inv = 2^62 / floor(sqrt(v 4^k)) and the shift 46 - k of R((mult x - sum) inv, 46 - k), for
 * v = mult sumsq - sum^2 + eps_q scaled by 4^k into [2^60, 2^62) (inv = 0 and 46 for v = 0): the
 * scalar mvk_i8_ln_inv's integers. */
static MVK_INLINE MVK_ISA uint64_t MVK_ISA_FN(mvk_i8_ln_scale)(int64_t mult, int32_t sum,
                                                               int64_t sumsq, int64_t eps_q,
                                                               int *sh)
{
    const uint64_t v = (uint64_t)(mult * sumsq - (int64_t)sum * sum) + (uint64_t)eps_q;
    int k = 0;
    uint64_t inv = 0;
    if (v) {
        const int bits = 64 - __builtin_clzll(v);
        k = (62 - bits) >> 1;
        inv = MVK_ISA_FN(mvk_i8_ln_inv)(v << (2 * k));
    }
    *sh = 46 - k; /* in [15, 46]: bits >= 1 */
    return inv;
}

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_layernorm)(const mvk_layernorm *p, const int8_t *MVK_RESTRICT in,
                             int8_t *MVK_RESTRICT out, int64_t r0, int64_t r1)
{
    const int32_t *MVK_RESTRICT g = p->gamma_q, *MVK_RESTRICT b = p->beta_q;
    const int per_channel = p->per_channel, c = p->c;
    const int64_t eps_q = p->eps_q;
    const int32_t zy = p->zy;
    if (c >= (1 << 16)) { /* beyond the 32-bit d and the per-lane sums of the ISA kernels */
        mvk_i8_layernorm__scalar(p, in, out, r0, r1);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const int8_t *x = in + r * c;
        int8_t *y = out + r * c;
        int32_t sum;
        int64_t sumsq;
        MVK_ISA_FN(mvk_i8_ln_sums)(x, c, &sum, &sumsq);
        int sh;
        const uint64_t inv = MVK_ISA_FN(mvk_i8_ln_scale)(c, sum, sumsq, eps_q, &sh);
        int i = MVK_ISA_FN(mvk_i8_ln_row)(x, y, c, c, sum, inv, sh, g, b, per_channel, zy);
        for (; i < c; i++) /* the scalar kernel's arithmetic for the last values */
            y[i] = mvk_i8_ln_value(x[i], c, sum, inv, sh, g, b, per_channel ? i : 0, zy);
    }
}
