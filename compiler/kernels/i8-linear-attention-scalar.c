/* The integer linear self-attention of MobileViT v2, on every target. */
#include "mvk-prelude.h"
/* needs: i8-scalar.c (its rounding helpers) */

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
    const uint64_t rnd = (uint64_t)1 << (p->s_sm - 1);
    for (int i = 0; i < ph; i++)
        for (int j = 0; j < pw; j++) {
            int32_t best = -128;
            uint64_t total = 0;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int32_t q = qkv[((int64_t)y * w + x) * row];
                    best = q > best ? q : best;
                }
            for (int y = i; y < h; y += ph) /* the sum of the unnormalised terms first */
                for (int x = j; x < w; x += pw) {
                    const uint32_t diff = (uint32_t)(best - qkv[((int64_t)y * w + x) * row]);
                    const uint64_t u64 = ((uint64_t)diff * (uint32_t)p->m_sm + rnd) >> p->s_sm;
                    const uint32_t u = u64 < 31 * 256 ? (uint32_t)u64 : 31 * 256;
                    total += (uint64_t)(p->exp2_lut[u & 255] >> (u >> 8));
                }
            const uint64_t inv = mvk_udiv_u64((uint64_t)1 << 47, total);
            for (int c = 0; c < d; c++)
                context[c] = 0;
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int8_t *t = qkv + ((int64_t)y * w + x) * row;
                    const uint64_t u64 =
                        ((uint64_t)(uint32_t)(best - t[0]) * (uint32_t)p->m_sm + rnd) >> p->s_sm;
                    const uint32_t u = u64 < 31 * 256 ? (uint32_t)u64 : 31 * 256;
                    const uint64_t e = (uint64_t)(p->exp2_lut[u & 255] >> (u >> 8));
                    const int32_t pj = (int32_t)((e * inv + ((uint64_t)1 << 31)) >> 32);
                    for (int c = 0; c < d; c++)
                        context[c] += pj * ((int32_t)t[1 + c] - zx);
                }
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int8_t *v = qkv + ((int64_t)y * w + x) * row + 1 + d;
                    int8_t *o = out + ((int64_t)y * w + x) * d;
                    for (int c = 0; c < d; c++) {
                        const int64_t vr = (int32_t)v[c] > zx ? (int32_t)v[c] - zx : 0;
                        const int64_t prod = vr * context[c] * p->m_o;
                        o[c] = mvk_sat_i8(p->zy + mvk_round_shift_i64(prod, p->s_o));
                    }
                }
        }
}
