/* INT8 GEMM, AVX2: c[M][N] = requant(bias + a[M][K] . b[K][N]) with the optional LUT, bit for
 * bit as mvk_i8_gemm__scalar (docs/int8.md). B is packed by mvit_pack_i8_b (codegen/pack.h):
 * [ceil(N/8)][ceil(K/2)][8][2] int8, so one 128-bit load, widened by vpmovsxbw, holds 8
 * columns x 2 consecutive k as int16, and vpmaddwd against the broadcast pair (a[k], a[k+1]) (as two int16 in one int32) adds
 * a[k]*b[k][j] + a[k+1]*b[k+1][j] into 8 int32 lanes: exact (|sum| <= 2*128*127), no int16
 * saturation (the u8*s8 vpmaddubsw would saturate its pair sums at 2*128*127 > 32767).
 * Tile: 6 rows x 16 columns (two panels), 12 accumulators + 2 B + 1 A of the 16 ymm
 * registers. Rows past mr reuse the last valid row (computed, never stored); a missing second
 * panel reuses the first (never stored); an odd K's last pair has a[k+1] = 0 (its B row is the
 * zero padding). No access goes past a row of A or C. */
#include <immintrin.h>

#include "mvk-prelude.h"

#define MVK_I8_AVX2 __attribute__((target("avx2")))

/* The int32 holding (int16)a[p] in its low and (int16)a[p+1] in its high half; p+1 == k: 0. */
static MVK_INLINE int32_t mvk_i8_avx2_pair(const int8_t *a, int p, int k)
{
    const uint32_t lo = (uint16_t)(int16_t)a[p];
    const uint32_t hi = p + 1 < k ? (uint16_t)(int16_t)a[p + 1] : 0u;
    return (int32_t)(lo | hi << 16);
}

/* Per-panel requantisation constants (8 columns), even lanes (0,2,4,6) and odd lanes as
 * 64-bit: multiplier, shift, 2^62 + 2^(S-1), 2^(62-S). */
typedef struct {
    __m256i bias, m_e, m_o, s_e, s_o, rnd_e, rnd_o, off_e, off_o;
} mvk_i8_avx2_rq;

static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_rq_init(mvk_i8_avx2_rq *q, const int32_t *bias,
                                                       const int16_t *mult, const int8_t *shift,
                                                       int nr)
{
    int32_t bb[8], mm[8], ss[8];
    for (int j = 0; j < 8; j++) { /* lanes past nr: harmless values, never stored */
        bb[j] = j < nr && bias ? bias[j] : 0;
        mm[j] = j < nr ? mult[j] : 1 << 30;
        ss[j] = j < nr ? shift[j] : 1;
    }
    const __m256i lo32 = _mm256_set1_epi64x(0xffffffffll), one = _mm256_set1_epi64x(1);
    const __m256i s = _mm256_loadu_si256((const __m256i *)ss);
    const __m256i m = _mm256_loadu_si256((const __m256i *)mm);
    q->bias = _mm256_loadu_si256((const __m256i *)bb);
    q->m_e = m;
    q->m_o = _mm256_srli_epi64(m, 32);
    q->s_e = _mm256_and_si256(s, lo32);
    q->s_o = _mm256_srli_epi64(s, 32);
    const __m256i c62 = _mm256_set1_epi64x(62), two62 = _mm256_set1_epi64x(1ll << 62);
    q->rnd_e = _mm256_add_epi64(two62, _mm256_sllv_epi64(one, _mm256_sub_epi64(q->s_e, one)));
    q->rnd_o = _mm256_add_epi64(two62, _mm256_sllv_epi64(one, _mm256_sub_epi64(q->s_o, one)));
    q->off_e = _mm256_sllv_epi64(one, _mm256_sub_epi64(c62, q->s_e));
    q->off_o = _mm256_sllv_epi64(one, _mm256_sub_epi64(c62, q->s_o));
}

/* R on the 4 int32 values in the low halves of the 64-bit lanes of acc, clamped to
 * [-512, 512] (enough: the result only matters after adding z and clamping to int8). */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_r64(__m256i acc, __m256i m, __m256i s,
                                                      __m256i rnd, __m256i off)
{
    const __m256i t = _mm256_add_epi64(_mm256_mul_epi32(acc, m), rnd);
    __m256i r = _mm256_sub_epi64(_mm256_srlv_epi64(t, s), off);
    const __m256i hi = _mm256_set1_epi64x(512), lo = _mm256_set1_epi64x(-512);
    r = _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
    return _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
}

/* R of 8 accumulators with their lanes' constants, as int32 in [-512, 512]. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_requant8(__m256i acc, const mvk_i8_avx2_rq *q)
{
    const __m256i e = mvk_i8_avx2_r64(acc, q->m_e, q->s_e, q->rnd_e, q->off_e);
    const __m256i o =
        mvk_i8_avx2_r64(_mm256_srli_epi64(acc, 32), q->m_o, q->s_o, q->rnd_o, q->off_o);
    return _mm256_blend_epi32(e, _mm256_slli_epi64(o, 32), 0xaa);
}

/* Requantise 8 accumulators, add zy, saturate to int8, apply the LUT, store the first nr. */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_store8(int8_t *c, __m256i acc,
                                                      const mvk_i8_avx2_rq *q, __m256i zy,
                                                      const int8_t *lut, int nr)
{
    const __m256i y = _mm256_add_epi32(mvk_i8_avx2_requant8(acc, q), zy);
    const __m128i y16 = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    const __m128i y8 = _mm_packs_epi16(y16, y16);
    if (nr >= 8 && !lut) {
        _mm_storel_epi64((__m128i *)c, y8);
        return;
    }
    int8_t t[16];
    _mm_storeu_si128((__m128i *)t, y8);
    for (int j = 0; j < nr && j < 8; j++)
        c[j] = lut ? lut[t[j] + 128] : t[j];
}

/* (a[p], a[p+1]) in every int32 lane as two int16: the byte pair broadcast, then widened. */
static MVK_INLINE MVK_I8_AVX2 __m256i mvk_i8_avx2_bpair(const int8_t *a)
{
    int16_t pair;
    __builtin_memcpy(&pair, a, 2);
    return _mm256_cvtepi8_epi16(_mm_set1_epi16(pair));
}

#define MVK_I8_AVX2_MADD(i, av)                                                                    \
    {                                                                                              \
        const __m256i avv = (av);                                                                  \
        c##i##0 = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(avv, b0));                           \
        c##i##1 = _mm256_add_epi32(c##i##1, _mm256_madd_epi16(avv, b1));                           \
    }
#define MVK_I8_AVX2_FMA(i) MVK_I8_AVX2_MADD(i, mvk_i8_avx2_bpair(a##i + p))
#define MVK_I8_AVX2_FMA_LAST(i) MVK_I8_AVX2_MADD(i, _mm256_set1_epi32(mvk_i8_avx2_pair(a##i, p, k)))
#define MVK_I8_AVX2_STORE(i)                                                                       \
    if (mr > i) {                                                                                  \
        mvk_i8_avx2_store8(c + i * ldc, c##i##0, q0, zy, lut, nr);                                 \
        if (nr > 8)                                                                                \
            mvk_i8_avx2_store8(c + i * ldc + 8, c##i##1, q1, zy, lut, nr - 8);                     \
    }

/* One 6x16 tile: rows arow[0..5] (mr valid), columns of panels b0p and b1p (nr valid). */
static MVK_INLINE MVK_I8_AVX2 void mvk_i8_avx2_tile(int mr, int nr, int k,
                                                    const int8_t *const *arow, const int8_t *b0p,
                                                    const int8_t *b1p, const mvk_i8_avx2_rq *q0,
                                                    const mvk_i8_avx2_rq *q1, int8_t *c,
                                                    int64_t ldc, __m256i zy, const int8_t *lut)
{
    const int8_t *a0 = arow[0], *a1 = arow[1], *a2 = arow[2];
    const int8_t *a3 = arow[3], *a4 = arow[4], *a5 = arow[5];
    __m256i c00 = q0->bias, c01 = q1->bias, c10 = c00, c11 = c01, c20 = c00, c21 = c01;
    __m256i c30 = c00, c31 = c01, c40 = c00, c41 = c01, c50 = c00, c51 = c01;
    int p = 0;
    for (; p + 1 < k; p += 2) { /* whole pairs: two bytes of each row */
        const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b0p));
        const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b1p));
        b0p += 16, b1p += 16;
        MVK_I8_AVX2_FMA(0)
        MVK_I8_AVX2_FMA(1)
        MVK_I8_AVX2_FMA(2)
        MVK_I8_AVX2_FMA(3)
        MVK_I8_AVX2_FMA(4)
        MVK_I8_AVX2_FMA(5)
    }
    if (p < k) { /* odd k: the last value pairs with 0, never read past the row */
        const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b0p));
        const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b1p));
        MVK_I8_AVX2_FMA_LAST(0)
        MVK_I8_AVX2_FMA_LAST(1)
        MVK_I8_AVX2_FMA_LAST(2)
        MVK_I8_AVX2_FMA_LAST(3)
        MVK_I8_AVX2_FMA_LAST(4)
        MVK_I8_AVX2_FMA_LAST(5)
    }
    MVK_I8_AVX2_STORE(0)
    MVK_I8_AVX2_STORE(1)
    MVK_I8_AVX2_STORE(2)
    MVK_I8_AVX2_STORE(3)
    MVK_I8_AVX2_STORE(4)
    MVK_I8_AVX2_STORE(5)
}
#undef MVK_I8_AVX2_FMA
#undef MVK_I8_AVX2_FMA_LAST
#undef MVK_I8_AVX2_MADD
#undef MVK_I8_AVX2_STORE

/* Same contract as mvk_i8_gemm__scalar, except b: packed by mvit_pack_i8_b. bias, mult and
 * shift have n entries (no padding needed). */
static MVK_UNUSED MVK_I8_AVX2 void
mvk_i8_gemm__avx2(const int8_t *MVK_RESTRICT a, int8_t *MVK_RESTRICT c,
                  const int8_t *MVK_RESTRICT bp, const int32_t *MVK_RESTRICT bias,
                  const int16_t *MVK_RESTRICT mult, const int8_t *MVK_RESTRICT shift, int32_t zy,
                  const int8_t *MVK_RESTRICT lut, int64_t m, int k, int n)
{
    const int64_t panel = (int64_t)((k + 1) / 2) * 16;
    const __m256i zyv = _mm256_set1_epi32(zy);
    for (int j = 0; j < n; j += 16) {
        const int nr = n - j < 16 ? n - j : 16;
        const int8_t *b0p = bp + (int64_t)(j / 8) * panel;
        const int8_t *b1p = nr > 8 ? b0p + panel : b0p;
        mvk_i8_avx2_rq q0, q1;
        mvk_i8_avx2_rq_init(&q0, bias ? bias + j : 0, mult + j, shift + j, nr);
        if (nr > 8)
            mvk_i8_avx2_rq_init(&q1, bias ? bias + j + 8 : 0, mult + j + 8, shift + j + 8, nr - 8);
        else
            q1 = q0;
        for (int64_t i = 0; i < m; i += 6) {
            const int mr = m - i < 6 ? (int)(m - i) : 6;
            const int8_t *arow[6];
            for (int r = 0; r < 6; r++)
                arow[r] = a + (i + (r < mr ? r : mr - 1)) * k;
            mvk_i8_avx2_tile(mr, nr, k, arow, b0p, b1p, &q0, &q1, c + i * n + j, n, zyv, lut);
        }
    }
}
