/* The integer linear self-attention of MobileViT v2, on every target. */
#include "mvk-prelude.h"
/* needs: i8-scalar.c (its rounding helpers) */

/* The query's softmax term of one pixel: exp2_lut[u & 255] >> (u >> 8) for the base-2 exponent
 * u = R(best - q, m_sm, s_sm) in Q8, capped where the term is 0. */
static inline MVK_UNUSED uint64_t mvk_i8_la_term(const mvk_linear_attention *p, int32_t best,
                                                 int32_t q)
{
    const uint64_t rnd = (uint64_t)1 << (p->s_sm - 1);
    const uint64_t u64 = ((uint64_t)(uint32_t)(best - q) * (uint32_t)p->m_sm + rnd) >> p->s_sm;
    const uint32_t u = u64 < 31 * 256 ? (uint32_t)u64 : 31 * 256;
    return (uint64_t)(p->exp2_lut[u & 255] >> (u >> 8));
}

/* The softmax of the query over the pixels at position (i, j) of their patches: their maximum
 * (*best) and 2^47 / the sum of their terms (the sum >= 2^15: the maximum's term). */
static inline MVK_UNUSED uint64_t mvk_i8_la_softmax(const mvk_linear_attention *p,
                                                    const int8_t *qkv, int i, int j,
                                                    int32_t *best)
{
    const int64_t row = 1 + 2 * (int64_t)p->dim;
    int32_t m = -128;
    uint64_t total = 0;
    for (int y = i; y < p->h; y += p->patch_h)
        for (int x = j; x < p->w; x += p->patch_w) {
            const int32_t q = qkv[((int64_t)y * p->w + x) * row];
            m = q > m ? q : m;
        }
    for (int y = i; y < p->h; y += p->patch_h) /* the sum of the unnormalised terms first */
        for (int x = j; x < p->w; x += p->patch_w)
            total += mvk_i8_la_term(p, m, qkv[((int64_t)y * p->w + x) * row]);
    *best = m;
    return mvk_udiv_u64((uint64_t)1 << 47, total);
}

/* A pixel's softmax weight in Q15: round(term 2^47 / sum / 2^32). */
static inline MVK_UNUSED int32_t mvk_i8_la_weight(const mvk_linear_attention *p, int32_t best,
                                                  uint64_t inv, int32_t q)
{
    return (int32_t)((mvk_i8_la_term(p, best, q) * inv + ((uint64_t)1 << 31)) >> 32);
}

/* One output value: clamp(zy + R(max(v - zx, 0) context m_o, s_o)), the product in 64 bits. */
static inline MVK_UNUSED int8_t mvk_i8_la_value(const mvk_linear_attention *p, int8_t v,
                                                int32_t context)
{
    const int64_t vr = (int32_t)v > p->zx ? (int32_t)v - p->zx : 0;
    return mvk_sat_i8(p->zy + mvk_round_shift_i64(vr * context * p->m_o, p->s_o));
}

/* Integer linear self-attention (docs/int8.md), one int8 qkv map [h][w][1 + 2d] with zero
 * point zx. Per position inside the patch, over its sequence of pixels j: u_j = R(max - q_j,
 * m_sm, s_sm) is the softmax exponent in Q8 (base 2), e_j = exp2_lut[u_j & 255] >> (u_j >> 8),
 * p_j = round(e_j 2^47 / sum e / 2^32) in Q15 (as the attention's softmax); context_c =
 * sum_j p_j (k_jc - zx) (|.| < 2^24); y = clamp(zy + R(max(v_c - zx, 0) context_c, m_o, s_o))
 * with the product in 64 bits. context: d int32. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_linear_attention__scalar(const mvk_linear_attention *p, const int8_t *MVK_RESTRICT qkv,
                                int8_t *MVK_RESTRICT out, int32_t *MVK_RESTRICT context)
{
    const int h = p->h, w = p->w, d = p->dim, ph = p->patch_h, pw = p->patch_w;
    const int32_t zx = p->zx;
    const int64_t row = 1 + 2 * (int64_t)d;
    for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++) {
            int32_t best;
            const uint64_t inv = mvk_i8_la_softmax(p, qkv, i, j, &best);
            for (int c = 0; c < d; c++)
                context[c] = 0;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int8_t *t = qkv + ((int64_t)y * w + x) * row;
                    const int32_t pj = mvk_i8_la_weight(p, best, inv, t[0]);
                    for (int c = 0; c < d; c++)
                        context[c] += pj * ((int32_t)t[1 + c] - zx);
                }
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int8_t *v = qkv + ((int64_t)y * w + x) * row + 1 + d;
                    int8_t *o = out + ((int64_t)y * w + x) * d;
                    for (int c = 0; c < d; c++)
                        o[c] = mvk_i8_la_value(p, v[c], context[c]);
                }
        }
}
