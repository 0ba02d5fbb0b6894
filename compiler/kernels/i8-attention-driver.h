/* The driver of the INT8 attention, written once for every ISA (docs/architecture.md,
 * "Kernels: one driver, per-ISA microkernels"); bit for bit mvk_i8_attention__scalar
 * (docs/int8.md), with the same contract except the scratch. Per work unit (patch position,
 * head): K and V of the head packed once, then per block of MVK_I8_ATT_ROWS query rows (the
 * last block's missing rows repeat its last row, and are not stored): the queries, the scores,
 * each row's softmax, and P.V for MVK_I8_ATT_PV_COLS columns at a time, requantised to int8
 * (a row whose probabilities were halved is doubled first, exactly).
 *
 * Scratch per task: MVK_I8_ATTENTION_SCRATCH_SIMD(n, hd) bytes (i8-attention-scratch.h), in
 * this order: K (hp n8 4 bytes), V (n8 hd8 int16), the block's scores (int32) and
 * probabilities (int16), n8 of each per row, its queries (hp int32 per row), then one int32
 * per key (kterm); hp = ceil(hd / 2), n8 and hd8 = n and hd rounded up to 8. How K, V and
 * the queries are laid out inside their bytes is the ISA's own.
 *
 * The ISA file supplies, before including this (each microkernel works on all
 * MVK_I8_ATT_ROWS rows of a block, scores and probabilities n8 apart):
 *   MVK_I8_ATT_PV_COLS                     output columns per P.V step
 *   MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm)     nonzero: the ISA kernel does not take this softmax
 *       multiplier and shift, the scalar kernel runs instead (a macro: behind an inline
 *       function's result, GCC 12 lays out the ARMv7 outer loops differently)
 *   MVK_ISA_FN(mvk_i8_att_state)           the per-call state of its microkernels (a type)
 *   MVK_ISA_FN(mvk_i8_att_state_init)(&st, exp2_lut, m_sm, s_sm)   fills it
 *   MVK_ISA_FN(mvk_i8_att_pack_k)(base, kbuf, kterm, n, n8, d, hd, h, z)   K of head h, and
 *       kterm when its scores use it
 *   MVK_ISA_FN(mvk_i8_att_pack_v)(base, vbuf, n, n8, d, hd, hd8, h, z)     V of head h
 *   MVK_ISA_FN(mvk_i8_att_queries)(q0, row, rows, hd, z, qbuf)             the block's queries
 *   MVK_ISA_FN(mvk_i8_att_scores)(qbuf, hd, kbuf, kterm, n8, scores)       scores[r][j < n8]
 *   MVK_ISA_FN(mvk_i8_att_softmax)(&st, exp2_lut, sc, n, n8, p16, &halved) one row
 *   MVK_ISA_FN(mvk_i8_att_pv)(probs, n8, vbuf, hd8, hd, t0, acc)
 *       acc[r][MVK_I8_ATT_PV_COLS] = sum_j p_rj (v_jt - z) for t from t0 (t < hd: used)
 * Uses mvk_i8_attention__scalar and mvk_requant_i8_scalar of i8-scalar.c. */

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_attention)(const mvk_attention *pa, const int8_t *MVK_RESTRICT qkv,
                             int8_t *MVK_RESTRICT out, int32_t *MVK_RESTRICT scratch, int64_t r0,
                             int64_t r1)
{
    const int32_t *MVK_RESTRICT exp2_lut = pa->exp2_lut;
    const int n = pa->tokens, d = pa->dim, heads = pa->heads, s_sm = pa->s_sm, s_o = pa->s_o;
    const int32_t z = pa->zx, m_sm = pa->m_sm, m_o = pa->m_o, zy = pa->zy;
    if (MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm)) {
        mvk_i8_attention__scalar(pa, qkv, out, scratch, r0, r1);
        return;
    }
    const int hd = mvk_idiv(d, heads), hp = (hd + 1) / 2;
    const int n8 = (n + 7) / 8 * 8, hd8 = (hd + 7) / 8 * 8;
    const int64_t row = 3 * (int64_t)d;
    void *kbuf = scratch;
    int16_t *vbuf = (int16_t *)((char *)kbuf + (int64_t)hp * n8 * 4);
    int32_t *scores = (int32_t *)(vbuf + (int64_t)n8 * hd8);
    int16_t *probs = (int16_t *)(scores + MVK_I8_ATT_ROWS * (int64_t)n8);
    int32_t *qbuf = (int32_t *)(probs + MVK_I8_ATT_ROWS * (int64_t)n8);
    int32_t *kterm = qbuf + MVK_I8_ATT_ROWS * (int64_t)hp;
    MVK_ISA_FN(mvk_i8_att_state) st;
    MVK_ISA_FN(mvk_i8_att_state_init)(&st, exp2_lut, m_sm, s_sm);
    for (int64_t u = r0; u < r1; u++) {
        const int pi = mvk_idiv((int)u, heads), h = (int)u - pi * heads;
        const int8_t *base = qkv + (int64_t)pi * n * row;
        MVK_ISA_FN(mvk_i8_att_pack_k)(base, kbuf, kterm, n, n8, d, hd, h, z);
        MVK_ISA_FN(mvk_i8_att_pack_v)(base, vbuf, n, n8, d, hd, hd8, h, z);
        for (int i0 = 0; i0 < n; i0 += MVK_I8_ATT_ROWS) {
            const int rows = n - i0 < MVK_I8_ATT_ROWS ? n - i0 : MVK_I8_ATT_ROWS;
            const int8_t *q0 = base + (int64_t)i0 * row + h * hd;
            MVK_ISA_FN(mvk_i8_att_queries)(q0, row, rows, hd, z, qbuf);
            MVK_ISA_FN(mvk_i8_att_scores)(qbuf, hd, kbuf, kterm, n8, scores);
            int halved[MVK_I8_ATT_ROWS];
            for (int r = 0; r < MVK_I8_ATT_ROWS; r++) {
                int32_t *sc = scores + (int64_t)r * n8;
                int16_t *p16 = probs + (int64_t)r * n8;
                MVK_ISA_FN(mvk_i8_att_softmax)(&st, exp2_lut, sc, n, n8, p16, &halved[r]);
            }
            for (int t0 = 0; t0 < hd; t0 += MVK_I8_ATT_PV_COLS) {
                int32_t acc[MVK_I8_ATT_ROWS * MVK_I8_ATT_PV_COLS];
                MVK_ISA_FN(mvk_i8_att_pv)(probs, n8, vbuf, hd8, hd, t0, acc);
                for (int r = 0; r < rows; r++) {
                    int8_t *o = out + ((int64_t)pi * n + i0 + r) * d + h * hd;
                    for (int t = t0; t < hd && t < t0 + MVK_I8_ATT_PV_COLS; t++) {
                        const int32_t a =
                            acc[r * MVK_I8_ATT_PV_COLS + (t - t0)] * (halved[r] ? 2 : 1);
                        o[t] = mvk_requant_i8_scalar(a, m_o, s_o, zy);
                    }
                }
            }
        }
    }
}

/* (MVK_I8_ATT_SCALAR_ONLY stays: the unit tests ask it; the ISAs that share a file define it
 * alike) */
#undef MVK_I8_ATT_PV_COLS
