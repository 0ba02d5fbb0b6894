/* The driver of MobileViT v2's INT8 linear self-attention, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"): bit for bit
 * mvk_i8_linear_attention__scalar (docs/int8.md), whose per-pixel softmax and per-value
 * arithmetic (i8-linear-attention-scalar.c) it uses for the query and the last channels. The
 * ISA file supplies the two loops over the d channels, in whole vector steps:
 *   MVK_ISA_FN(mvk_i8_la_accumulate)(context, k, pj, zx, d)
 *       context[c] += pj (k[c] - zx) (int32; |context| < 2^24); returns the channels done
 *   MVK_ISA_FN(mvk_i8_la_output)(v, o, context, d, p)
 *       o[c] = clamp(zy + R(max(v[c] - zx, 0) m_o context[c], s_o)) (64-bit product, < 2^47);
 *       returns the channels done */

static MVK_UNUSED MVK_NOLIBCALL MVK_ISA void
MVK_ISA_FN(mvk_i8_linear_attention)(const mvk_linear_attention *p, const int8_t *MVK_RESTRICT qkv,
                                    int8_t *MVK_RESTRICT out, int32_t *MVK_RESTRICT context)
{
    const int h = p->h, w = p->w, d = p->dim, ph = p->patch_h, pw = p->patch_w;
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
                    int c = MVK_ISA_FN(mvk_i8_la_accumulate)(context, t + 1, pj, p->zx, d);
                    for (; c < d; c++)
                        context[c] += pj * ((int32_t)t[1 + c] - p->zx);
                }
            for (int y = i; y < h; y += ph)
                for (int x = j; x < w; x += pw) {
                    const int8_t *v = qkv + ((int64_t)y * w + x) * row + 1 + d;
                    int8_t *o = out + ((int64_t)y * w + x) * d;
                    int c = MVK_ISA_FN(mvk_i8_la_output)(v, o, context, d, p);
                    for (; c < d; c++)
                        o[c] = mvk_i8_la_value(p, v[c], context[c]);
                }
        }
}
