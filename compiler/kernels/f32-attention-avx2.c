/* MobileViT multi-head attention, AVX2: per patch position and head, K^T and V are packed
 * into GEMM panels in scratch, then for each block of 6 queries S = Q K^T (6x16 GEMM
 * microkernel), a row softmax of scale*S (vector exp), and O = S V (same microkernel), so
 * scores never exceed 6 rows. qkv tokens [P][N][3D] (q | k | v), out [P][N][D].
 * Scratch floats: mvk_f32_attention_scratch__avx2(n, hd). */
#include "mvk-avx2.h"

#define MVK_ATTN_NPAD(n) (((n) + 15) / 16 * 16)

static inline MVK_UNUSED int64_t mvk_f32_attention_scratch__avx2(int n, int hd)
{
    const int64_t hdpad = (hd + 15) / 16 * 16;
    return (int64_t)MVK_ATTN_NPAD(n) * hd + hdpad * n + 6 * (int64_t)MVK_ATTN_NPAD(n);
}

/* Unnormalised softmax of scale * s over n scores, in place: s = exp(scale * (s - max)).
 * Returns 1 / sum; the caller scales the (much shorter) output row instead of the n scores. */
static inline MVK_UNUSED MVK_AVX2 float mvk_avx2_softmax_row(float *s, int n, float scale)
{
    __m256 mx = _mm256_set1_ps(-3.4e38f);
    int j = 0;
    for (; j + 8 <= n; j += 8)
        mx = _mm256_max_ps(mx, _mm256_loadu_ps(s + j));
    float m = -3.4e38f;
    for (; j < n; j++)
        m = s[j] > m ? s[j] : m;
    float lanes[8];
    _mm256_storeu_ps(lanes, mx);
    for (int l = 0; l < 8; l++)
        m = lanes[l] > m ? lanes[l] : m;
    const __m256 vscale = _mm256_set1_ps(scale), vshift = _mm256_set1_ps(-m * scale);
    __m256 sum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        const __m256 e = mvk_avx2_exp(_mm256_fmadd_ps(_mm256_loadu_ps(s + j), vscale, vshift));
        sum = _mm256_add_ps(sum, e);
        _mm256_storeu_ps(s + j, e);
    }
    if (j < n) {
        const __m256i msk = mvk_avx2_mask(n - j);
        __m256 e = mvk_avx2_exp(_mm256_fmadd_ps(_mm256_maskload_ps(s + j, msk), vscale, vshift));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(msk));
        sum = _mm256_add_ps(sum, e);
        _mm256_maskstore_ps(s + j, msk, e);
    }
    _mm256_storeu_ps(lanes, sum);
    float total = 0.0f;
    for (int l = 0; l < 8; l++)
        total += lanes[l];
    return 1.0f / total;
}

/* K^T of one head as GEMM panels [npad/16][hd][16]: key j is column j % 16 of panel j / 16,
 * keys past n are zero columns. k points at key 0's hd values, rows `row` floats apart. */
static inline MVK_UNUSED MVK_AVX2 MVK_NOLIBCALL void
mvk_attention_pack_kt(float *MVK_RESTRICT kt, const float *MVK_RESTRICT k, int64_t row, int n,
                      int npad, int hd)
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

/* V of one head as GEMM panels [hdpad/16][n][16], columns past hd zero. */
static inline MVK_UNUSED MVK_AVX2 MVK_NOLIBCALL void
mvk_attention_pack_v(float *MVK_RESTRICT vp, const float *MVK_RESTRICT v, int64_t row, int n,
                     int hd, int hdpad)
{
    for (int t0 = 0; t0 < hdpad; t0 += 16) {
        const int cols = hd - t0 < 16 ? hd - t0 : 16;
        const __m256i m0 = mvk_avx2_mask(cols < 8 ? cols : 8);
        const __m256i m1 = mvk_avx2_mask(cols > 8 ? cols - 8 : 0);
        float *panel = vp + (int64_t)t0 * n;
        for (int j = 0; j < n; j++) {
            const float *vj = v + (int64_t)j * row + t0;
            _mm256_storeu_ps(panel + j * 16, _mm256_maskload_ps(vj, m0));
            _mm256_storeu_ps(panel + j * 16 + 8, _mm256_maskload_ps(vj + 8, m1));
        }
    }
}

static MVK_UNUSED MVK_AVX2 MVK_NOLIBCALL void
mvk_f32_attention_heads__avx2(int64_t job0, int64_t job1, const float *MVK_RESTRICT qkv,
                              float *MVK_RESTRICT out, float *MVK_RESTRICT scratch, int n, int d,
                              int heads, float scale)
{
    const int hd = d / heads, npad = MVK_ATTN_NPAD(n), hdpad = (hd + 15) / 16 * 16;
    const int64_t row = 3 * (int64_t)d;
    float *kt = scratch;                          /* [npad/16][hd][16] */
    float *vp = kt + (int64_t)npad * hd;          /* [hdpad/16][n][16] */
    float *s = vp + (int64_t)hdpad * n;           /* [6][npad] */
    for (int64_t job = job0; job < job1; job++) { /* job = patch position * heads + head */
        const int pi = (int)(job / heads), h = (int)(job % heads);
        const float *base = qkv + (int64_t)pi * n * row;
        mvk_attention_pack_kt(kt, base + d + h * hd, row, n, npad, hd);
        mvk_attention_pack_v(vp, base + 2 * d + h * hd, row, n, hd, hdpad);
        for (int i0 = 0; i0 < n; i0 += 6) {
            const int mr = n - i0 < 6 ? n - i0 : 6;
            for (int p = 0; p < npad / 16; p++) {
                const int nr = n - 16 * p < 16 ? n - 16 * p : 16;
                mvk_f32_gemm_ukernel_6x16__avx2(mr, nr, hd, base + i0 * row + h * hd, row,
                                                kt + (int64_t)p * hd * 16, 0, s + 16 * p, npad, 0,
                                                0, MVK_ACT_NONE);
            }
            float inv[6];
            for (int r = 0; r < mr; r++)
                inv[r] = mvk_avx2_softmax_row(s + (int64_t)r * npad, n, scale);
            float *o = out + ((int64_t)pi * n + i0) * d + h * hd;
            for (int p = 0; p < hdpad / 16; p++) {
                const int nr = hd - 16 * p < 16 ? hd - 16 * p : 16;
                mvk_f32_gemm_ukernel_6x16__avx2(mr, nr, n, s, npad, vp + (int64_t)p * n * 16, 0,
                                                o + 16 * p, d, 0, 0, MVK_ACT_NONE);
            }
            for (int r = 0; r < mr; r++)
                for (int t = 0; t < hd; t++)
                    o[(int64_t)r * d + t] *= inv[r];
        }
    }
}

static MVK_UNUSED MVK_AVX2 void mvk_f32_attention__avx2(const float *MVK_RESTRICT qkv,
                                                        float *MVK_RESTRICT out,
                                                        float *MVK_RESTRICT scratch, int p, int n,
                                                        int d, int heads, float scale)
{
    mvk_f32_attention_heads__avx2(0, (int64_t)p * heads, qkv, out, scratch, n, d, heads, scale);
}
