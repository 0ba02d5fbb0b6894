/* MobileViT multi-head attention, ARM NEON, the AVX2 kernel's schedule: per patch position
 * and head, K^T and V are packed into 16-column GEMM panels in scratch, then for each block
 * of 6 queries S = Q K^T (the NEON 6x16 GEMM microkernel), a row softmax of scale*S (vector
 * exp), and O = S V (same microkernel), so scores never exceed 6 rows. qkv tokens [P][N][3D]
 * (q | k | v), out [P][N][D]. Scratch floats: mvk_f32_attention_scratch__neon(n, hd). */
#include "mvk-neon.h"

#define MVK_NEON_ATTN_NPAD(n) (((n) + 15) / 16 * 16)

static inline MVK_UNUSED int64_t mvk_f32_attention_scratch__neon(int n, int hd)
{
    const int64_t hdpad = (hd + 15) / 16 * 16;
    return (int64_t)MVK_NEON_ATTN_NPAD(n) * hd + hdpad * n + 6 * (int64_t)MVK_NEON_ATTN_NPAD(n);
}

/* Unnormalised softmax of scale * s over n scores, in place: s = exp(scale * (s - max)).
 * Returns 1 / sum; the caller scales the (much shorter) output row instead of the n scores. */
static inline MVK_UNUSED float mvk_neon_softmax_row(float *s, int n, float scale)
{
    float32x4_t mx = vdupq_n_f32(-3.4e38f);
    int j = 0;
    for (; j + 4 <= n; j += 4)
        mx = vmaxq_f32(mx, vld1q_f32(s + j));
    float m = mvk_neon_hmax(mx);
    for (; j < n; j++)
        m = s[j] > m ? s[j] : m;
    const float32x4_t vscale = vdupq_n_f32(scale), vshift = vdupq_n_f32(-m * scale);
    float32x4_t sum = vdupq_n_f32(0.0f);
    for (j = 0; j + 4 <= n; j += 4) {
        const float32x4_t e = mvk_neon_exp(vfmaq_f32(vshift, vld1q_f32(s + j), vscale));
        sum = vaddq_f32(sum, e);
        vst1q_f32(s + j, e);
    }
    if (j < n) { /* the zeros loaded past n would add exp(shift): mask them out of the sum */
        float32x4_t e = mvk_neon_exp(vfmaq_f32(vshift, mvk_neon_load4(s + j, n - j), vscale));
        e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), mvk_neon_lane_mask(n - j)));
        sum = vaddq_f32(sum, e);
        mvk_neon_store_n(s + j, e, n - j);
    }
    return 1.0f / mvk_neon_hsum(sum);
}

/* K^T of one head as GEMM panels [npad/16][hd][16]: key j is column j % 16 of panel j / 16,
 * keys past n are zero columns. k points at key 0's hd values, rows `row` floats apart. */
static inline MVK_UNUSED MVK_NOLIBCALL void mvk_neon_attention_pack_kt(float *MVK_RESTRICT kt,
                                                                       const float *MVK_RESTRICT k,
                                                                       int64_t row, int n, int npad,
                                                                       int hd)
{
    for (int j0 = 0; j0 < npad; j0 += 16) {
        float *panel = kt + (int64_t)j0 * hd;
        for (int j = j0; j < j0 + 16; j++) {
            const float *kj = k + (int64_t)j * row;
            for (int t = 0; t < hd; t++)
                panel[t * 16 + (j - j0)] = j < n ? kj[t] : 0.0f;
        }
    }
}

/* V of one head as GEMM panels [hdpad/16][n][16], columns past hd zero (lane loads: nothing
 * past a token's hd values is read). */
static inline MVK_UNUSED MVK_NOLIBCALL void mvk_neon_attention_pack_v(float *MVK_RESTRICT vp,
                                                                      const float *MVK_RESTRICT v,
                                                                      int64_t row, int n, int hd,
                                                                      int hdpad)
{
    for (int t0 = 0; t0 < hdpad; t0 += 16) {
        const int cols = hd - t0;
        float *panel = vp + (int64_t)t0 * n;
        for (int j = 0; j < n; j++) {
            const float *vj = v + (int64_t)j * row + t0;
            float *pj = panel + j * 16;
            vst1q_f32(pj, mvk_neon_load4(vj, cols));
            vst1q_f32(pj + 4, mvk_neon_load4(vj + 4, cols - 4));
            vst1q_f32(pj + 8, mvk_neon_load4(vj + 8, cols - 8));
            vst1q_f32(pj + 12, mvk_neon_load4(vj + 12, cols - 12));
        }
    }
}

static MVK_UNUSED MVK_NOLIBCALL void
mvk_f32_attention_heads__neon(int64_t job0, int64_t job1, const float *MVK_RESTRICT qkv,
                              float *MVK_RESTRICT out, float *MVK_RESTRICT scratch, int n, int d,
                              int heads, float scale)
{
    const int hd = mvk_idiv(d, heads), npad = MVK_NEON_ATTN_NPAD(n);
    const int hdpad = (hd + 15) / 16 * 16;
    const int64_t row = 3 * (int64_t)d;
    float *kt = scratch;                          /* [npad/16][hd][16] */
    float *vp = kt + (int64_t)npad * hd;          /* [hdpad/16][n][16] */
    float *s = vp + (int64_t)hdpad * n;           /* [6][npad] */
    for (int64_t job = job0; job < job1; job++) { /* job = patch position * heads + head */
        const int pi = mvk_idiv((int)job, heads), h = (int)job - pi * heads;
        const float *base = qkv + (int64_t)pi * n * row;
        mvk_neon_attention_pack_kt(kt, base + d + h * hd, row, n, npad, hd);
        mvk_neon_attention_pack_v(vp, base + 2 * d + h * hd, row, n, hd, hdpad);
        for (int i0 = 0; i0 < n; i0 += 6) {
            const int mr = n - i0 < 6 ? n - i0 : 6;
            for (int p = 0; p < npad / 16; p++) {
                const int nr = n - 16 * p < 16 ? n - 16 * p : 16;
                mvk_f32_gemm_ukernel_6x16__neon(mr, nr, hd, base + i0 * row + h * hd, row,
                                                kt + (int64_t)p * hd * 16, 0, s + 16 * p, npad, 0,
                                                0, MVK_ACT_NONE);
            }
            float inv[6];
            for (int r = 0; r < mr; r++)
                inv[r] = mvk_neon_softmax_row(s + (int64_t)r * npad, n, scale);
            float *o = out + ((int64_t)pi * n + i0) * d + h * hd;
            for (int p = 0; p < hdpad / 16; p++) {
                const int nr = hd - 16 * p < 16 ? hd - 16 * p : 16;
                mvk_f32_gemm_ukernel_6x16__neon(mr, nr, n, s, npad, vp + (int64_t)p * n * 16, 0,
                                                o + 16 * p, d, 0, 0, MVK_ACT_NONE);
            }
            for (int r = 0; r < mr; r++)
                for (int t = 0; t < hd; t++)
                    o[(int64_t)r * d + t] *= inv[r];
        }
    }
}

static MVK_UNUSED void mvk_f32_attention__neon(const float *MVK_RESTRICT qkv,
                                               float *MVK_RESTRICT out, float *MVK_RESTRICT scratch,
                                               int p, int n, int d, int heads, float scale)
{
    mvk_f32_attention_heads__neon(0, (int64_t)p * heads, qkv, out, scratch, n, d, heads, scale);
}
