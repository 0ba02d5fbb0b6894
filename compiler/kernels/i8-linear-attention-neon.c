/* INT8 linear self-attention of MobileViT v2, ARM NEON: bit for bit
 * mvk_i8_linear_attention__scalar (docs/int8.md). The channel loops, 8 channels per step: the
 * context's multiply-add in 32-bit lanes (vmla: the same low 32 bits as the scalar product),
 * and the output's max(v - zx, 0) m_o (< 2^23) times the context as exact 64-bit products
 * (vmull_s32), the rounding shift vrshl by -s_o (the scalar R; |x| < 2^47), plus zy, and
 * saturating narrows to int8 (the clamp). The loop over the patch is
 * i8-linear-attention-driver.h, shared with every ISA. */
/* needs: i8-scalar.c i8-linear-attention-scalar.c (the softmax and the last channels) */
#include <arm_neon.h>

#include "mvk-neon.h"

static MVK_INLINE int mvk_i8_la_accumulate__neon(int32_t *context, const int8_t *k, int32_t pj,
                                                 int32_t zx, int d)
{
    const int32x4_t zv = vdupq_n_s32(zx);
    int c = 0;
    for (; c + 8 <= d; c += 8) {
        const int16x8_t k16 = vmovl_s8(vld1_s8(k + c));
        const int32x4_t k0 = vsubq_s32(vmovl_s16(vget_low_s16(k16)), zv);
        const int32x4_t k1 = vsubq_s32(vmovl_s16(vget_high_s16(k16)), zv);
        vst1q_s32(context + c, vmlaq_n_s32(vld1q_s32(context + c), k0, pj));
        vst1q_s32(context + c + 4, vmlaq_n_s32(vld1q_s32(context + c + 4), k1, pj));
    }
    return c;
}

/* zy + R(a cx, s) of two lanes, narrowed with saturation to int32. */
static MVK_INLINE int32x2_t mvk_i8_la_neon_requant2(int32x2_t a, int32x2_t cx, int64x2_t neg_sh,
                                                    int64x2_t zy)
{
    return vqmovn_s64(vaddq_s64(zy, vrshlq_s64(vmull_s32(a, cx), neg_sh)));
}

static MVK_INLINE int mvk_i8_la_output__neon(const int8_t *v, int8_t *o, const int32_t *context,
                                             int d, const mvk_linear_attention *p)
{
    const int32x4_t zv = vdupq_n_s32(p->zx), zero = vdupq_n_s32(0);
    const int64x2_t neg_sh = vdupq_n_s64(-p->s_o), zy = vdupq_n_s64(p->zy);
    int c = 0;
    for (; c + 8 <= d; c += 8) {
        const int16x8_t v16 = vmovl_s8(vld1_s8(v + c));
        int32x2_t t[4];
        for (int h = 0; h < 2; h++) {
            const int32x4_t vv = vmovl_s16(h ? vget_high_s16(v16) : vget_low_s16(v16));
            const int32x4_t a = vmulq_n_s32(vmaxq_s32(vsubq_s32(vv, zv), zero), p->m_o);
            const int32x4_t cx = vld1q_s32(context + c + 4 * h);
            t[2 * h] = mvk_i8_la_neon_requant2(vget_low_s32(a), vget_low_s32(cx), neg_sh, zy);
            t[2 * h + 1] =
                mvk_i8_la_neon_requant2(vget_high_s32(a), vget_high_s32(cx), neg_sh, zy);
        }
        const int16x8_t t16 = vcombine_s16(vqmovn_s32(vcombine_s32(t[0], t[1])),
                                           vqmovn_s32(vcombine_s32(t[2], t[3])));
        vst1_s8(o + c, vqmovn_s16(t16));
    }
    return c;
}

#include "i8-linear-attention-driver.h"
