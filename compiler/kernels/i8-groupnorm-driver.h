/* The driver of MobileViT v2's INT8 GroupNorm (one group over the whole map), written once for
 * every ISA over the LayerNorm's microkernels (i8-layernorm-driver.h): bit for bit
 * mvk_i8_groupnorm__scalar. The map of count = pixels * c values (< 2^22: the lowering
 * refuses more) is the LayerNorm's row for the statistics, so d = count x - sum (|d| < 2^30);
 * each pixel's c values then take their channel's affine. */

/* Sums in chunks below 2^16 values: the bound of the microkernel's per-lane sums. */
static MVK_INLINE MVK_ISA void MVK_ISA_FN(mvk_i8_gn_sums)(const int8_t *x, int count,
                                                          int32_t *sum, int64_t *sumsq)
{
    enum { CHUNK = 1 << 15 };
    *sum = 0;
    *sumsq = 0;
    for (int i = 0; i < count; i += CHUNK) {
        int32_t s;
        int64_t q;
        MVK_ISA_FN(mvk_i8_ln_sums)(x + i, count - i < CHUNK ? count - i : CHUNK, &s, &q);
        *sum += s;
        *sumsq += q;
    }
}

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_groupnorm)(const mvk_layernorm *p, const int8_t *MVK_RESTRICT in,
                             int8_t *MVK_RESTRICT out, int64_t pixels)
{
    const int32_t *MVK_RESTRICT g = p->gamma_q, *MVK_RESTRICT b = p->beta_q;
    const int per_channel = p->per_channel, c = p->c, count = (int)pixels * c;
    const int32_t zy = p->zy;
    int32_t sum;
    int64_t sumsq;
    MVK_ISA_FN(mvk_i8_gn_sums)(in, count, &sum, &sumsq);
    int sh;
    const uint64_t inv = MVK_ISA_FN(mvk_i8_ln_scale)(count, sum, sumsq, p->eps_q, &sh);
    for (int64_t px = 0; px < pixels; px++) {
        const int8_t *x = in + px * c;
        int8_t *y = out + px * c;
        int i = MVK_ISA_FN(mvk_i8_ln_row)(x, y, c, count, sum, inv, sh, g, b, per_channel, zy);
        for (; i < c; i++) /* the scalar kernel's arithmetic for the last values */
            y[i] = mvk_i8_ln_value(x[i], count, sum, inv, sh, g, b, per_channel ? i : 0, zy);
    }
}
