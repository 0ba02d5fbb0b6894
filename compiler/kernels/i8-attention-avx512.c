/* INT8 attention, AVX-512 (F/BW): bit for bit mvk_i8_attention__scalar (docs/int8.md), in the
 * layouts of the AVX2 kernel (i8-attention-avx2.c, i8-attention-scratch.h) on 16 keys or 16
 * output columns per vector:
 *   - scores: built with AVX512-VNNI, vpdpbusd on K in t quads against the queries as bytes
 *     q + 128 (the key term kterm removes the + 128, as on AVX-VNNI); else vpmaddwd on K in t
 *     pairs against (q_t - z, q_t+1 - z). 4 query rows x 32 keys per step (8 accumulators).
 *   - softmax: the exponent as on AVX2 (32-bit lanes where mvk_i8_att_dmax allows, else
 *     64-bit), then e = exp2_lut[u & 255] >> (u >> 8) on 32 lanes at once without a gather:
 *     the table (values 2^14..2^15) as 256 uint16 in 8 zmm, looked up by four vpermi2w (64
 *     entries each) and two levels of blends on index bits 6 and 7, shifted by vpsrlvw.
 *   - P.V: vpmaddwd of key pairs of probabilities against V's key-pair rows, 32 columns per
 *     step.
 * Key and column tails (n and hd rounded up to 8, not 16) go through masked loads and stores,
 * so nothing outside the scratch's rows is read or written. The per-unit loop is
 * i8-attention-driver.h. */
#include <immintrin.h>

#include "i8-attention-scratch.h"
#include "mvk-avx512.h"
/* needs: i8-scalar.c (mvk_i8_att_pack_quads, mvk_i8_att_queries_quads, mvk_i8_att_dmax) */

#if defined(__AVX512VNNI__)
#define MVK_I8_ATT_AVX512_VNNI 1
#endif

/* bytes / 32 zero vectors at dst (bytes: a multiple of 32). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_avx512_zero(void *dst, int64_t bytes)
{
    int64_t i = 0;
    for (; i + 64 <= bytes; i += 64)
        _mm512_storeu_si512((char *)dst + i, _mm512_setzero_si512());
    if (i < bytes)
        _mm256_storeu_si256((__m256i *)((char *)dst + i), _mm256_setzero_si256());
}

/* V of head h into the key-pair layout vp[j/2][hd8][2] int16, zero point removed: two keys'
 * rows widened, 16 columns at a time, interleaved into column order. */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_pack_v__avx512(const int8_t *base, int16_t *vp, int n,
                                                           int n8, int d, int hd, int hd8, int h,
                                                           int32_t z)
{
    const int64_t row = 3 * (int64_t)d;
    const __m256i zv = _mm256_set1_epi16((int16_t)z);
    mvk_i8_att_avx512_zero(vp, (int64_t)n8 * hd8 * 2);
    for (int j = 0; j < n; j += 2) {
        const int pair = j + 1 < n;
        const int8_t *v0 = base + j * row + 2 * d + h * hd, *v1 = pair ? v0 + row : v0;
        int16_t *dst = vp + (int64_t)(j >> 1) * hd8 * 2;
        int t = 0;
        for (; t + 16 <= hd; t += 16) {
            const __m256i a = _mm256_sub_epi16(
                _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(v0 + t))), zv);
            const __m256i b =
                pair ? _mm256_sub_epi16(
                           _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(v1 + t))), zv)
                     : _mm256_setzero_si256();
            /* unpack works within 128-bit lanes: columns 0-3 | 8-11 and 4-7 | 12-15 */
            const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
            _mm256_storeu_si256((__m256i *)(dst + 2 * t), _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256((__m256i *)(dst + 2 * t + 16),
                                _mm256_permute2x128_si256(lo, hi, 0x31));
        }
        for (; t < hd; t++) {
            dst[2 * t] = (int16_t)(v0[t] - z);
            dst[2 * t + 1] = (int16_t)(pair ? v1[t] - z : 0);
        }
    }
}

#if defined(MVK_I8_ATT_AVX512_VNNI)
/* K in t quads kq[t/4][j][4] int8 and kterm[j] = (128 + z) K_j (see i8-attention-avx2.c). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_pack_k__avx512(const int8_t *base, void *kbuf,
                                                           int32_t *kterm, int n, int n8, int d,
                                                           int hd, int h, int32_t z)
{
    int8_t *kq = (int8_t *)kbuf;
    const int64_t row = 3 * (int64_t)d, stride = (int64_t)n8 * 4;
    const int g4 = (hd + 3) / 4;
    mvk_i8_att_avx512_zero(kq, g4 * stride);
    mvk_i8_att_pack_quads(base + d + h * hd, row, kq, n, stride, hd);
    const __m512i ones = _mm512_set1_epi8(1), c = _mm512_set1_epi32(128 + z);
    for (int j = 0; j < n8; j += 16) {
        const __mmask16 m = mvk_avx512_mask(n8 - j);
        __m512i sum = _mm512_setzero_si512();
        for (int g = 0; g < g4; g++)
            sum = _mm512_dpbusd_epi32(sum, ones,
                                      _mm512_maskz_loadu_epi32(m, kq + g * stride + 4 * j));
        _mm512_mask_storeu_epi32(kterm + j, m, _mm512_mullo_epi32(sum, c));
    }
}

static MVK_INLINE MVK_AVX512 void mvk_i8_att_queries__avx512(const int8_t *q0, int64_t row,
                                                            int rows, int hd, int32_t z,
                                                            void *qbuf)
{
    (void)z;
    mvk_i8_att_queries_quads(q0, row, rows, hd, MVK_I8_ATT_ROWS, (int32_t *)qbuf);
}

/* Groups of K: quads of t (4 bytes a key). */
#define MVK_I8_ATT_AVX512_GROUPS(hd) (((hd) + 3) / 4)
/* acc += the products of a broadcast query group and 16 keys' group */
#define MVK_I8_ATT_AVX512_DOT(acc, q, k) _mm512_dpbusd_epi32((acc), (q), (k))
#else
/* K in t pairs kp[t/2][j][2] int16, zero point removed (kterm: unused). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_pack_k__avx512(const int8_t *base, void *kbuf,
                                                           int32_t *kterm, int n, int n8, int d,
                                                           int hd, int h, int32_t z)
{
    (void)kterm;
    int16_t *kp = (int16_t *)kbuf;
    const int64_t row = 3 * (int64_t)d, stride = (int64_t)n8 * 2;
    mvk_i8_att_avx512_zero(kp, (int64_t)(hd + 1) / 2 * stride * 2);
    for (int j = 0; j < n; j++) {
        const int8_t *kr = base + j * row + d + h * hd;
        int16_t *dst = kp + (int64_t)j * 2;
        for (int t = 0; t < hd; t++)
            dst[(t >> 1) * stride + (t & 1)] = (int16_t)(kr[t] - z);
    }
}

/* The block's query rows (rows past `rows` repeat the last) as int16 pairs (q_t - z,
 * q_t+1 - z) into qpair[r][hp] (0 past hd). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_queries__avx512(const int8_t *q0, int64_t row,
                                                            int rows, int hd, int32_t z,
                                                            void *qbuf)
{
    int32_t *qpair = (int32_t *)qbuf;
    const int hp = (hd + 1) / 2;
    for (int r = 0; r < MVK_I8_ATT_ROWS; r++) {
        const int8_t *q = q0 + (r < rows ? r : rows - 1) * row;
        for (int t = 0; t < hd; t += 2) {
            const uint32_t lo = (uint16_t)(int16_t)(q[t] - z);
            const uint32_t hi = t + 1 < hd ? (uint16_t)(int16_t)(q[t + 1] - z) : 0u;
            qpair[r * hp + t / 2] = (int32_t)(lo | hi << 16);
        }
    }
}

#define MVK_I8_ATT_AVX512_GROUPS(hd) (((hd) + 1) / 2)
#define MVK_I8_ATT_AVX512_DOT(acc, q, k) _mm512_add_epi32((acc), _mm512_madd_epi16((q), (k)))
#endif

/* scores[r][j] for the block's 4 rows, every j < n8 (VNNI: less the key term; padded keys:
 * any value, the softmax excludes them). Both K layouts keep a key's group in 4 bytes, rows
 * of groups n8 * 4 bytes apart. */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_scores__avx512(const void *qbuf, int hd,
                                                           const void *kbuf, const int32_t *kterm,
                                                           int n8, int32_t *scores)
{
    const int groups = MVK_I8_ATT_AVX512_GROUPS(hd);
    const int8_t *kb = (const int8_t *)kbuf;
    const int32_t *q0 = (const int32_t *)qbuf, *q1 = q0 + groups, *q2 = q1 + groups;
    const int32_t *q3 = q2 + groups;
    for (int j = 0; j < n8; j += 32) {
        const __mmask16 m0 = mvk_avx512_mask(n8 - j), m1 = mvk_avx512_mask(n8 - j - 16);
#if defined(MVK_I8_ATT_AVX512_VNNI)
        const __m512i z = _mm512_setzero_si512();
        const __m512i k0 = _mm512_sub_epi32(z, _mm512_maskz_loadu_epi32(m0, kterm + j));
        const __m512i k1 = _mm512_sub_epi32(z, _mm512_maskz_loadu_epi32(m1, kterm + j + 16));
#else
        (void)kterm;
        const __m512i k0 = _mm512_setzero_si512(), k1 = k0;
#endif
        __m512i a00 = k0, a01 = k1, a10 = k0, a11 = k1, a20 = k0, a21 = k1, a30 = k0, a31 = k1;
        const int8_t *kv = kb + (int64_t)j * 4;
        for (int g = 0; g < groups; g++, kv += (int64_t)n8 * 4) {
            const __m512i b0 = _mm512_maskz_loadu_epi32(m0, kv);
            const __m512i b1 = _mm512_maskz_loadu_epi32(m1, kv + 64);
            __m512i q = _mm512_set1_epi32(q0[g]);
            a00 = MVK_I8_ATT_AVX512_DOT(a00, q, b0), a01 = MVK_I8_ATT_AVX512_DOT(a01, q, b1);
            q = _mm512_set1_epi32(q1[g]);
            a10 = MVK_I8_ATT_AVX512_DOT(a10, q, b0), a11 = MVK_I8_ATT_AVX512_DOT(a11, q, b1);
            q = _mm512_set1_epi32(q2[g]);
            a20 = MVK_I8_ATT_AVX512_DOT(a20, q, b0), a21 = MVK_I8_ATT_AVX512_DOT(a21, q, b1);
            q = _mm512_set1_epi32(q3[g]);
            a30 = MVK_I8_ATT_AVX512_DOT(a30, q, b0), a31 = MVK_I8_ATT_AVX512_DOT(a31, q, b1);
        }
        _mm512_mask_storeu_epi32(scores + j, m0, a00);
        _mm512_mask_storeu_epi32(scores + j + 16, m1, a01);
        _mm512_mask_storeu_epi32(scores + n8 + j, m0, a10);
        _mm512_mask_storeu_epi32(scores + n8 + j + 16, m1, a11);
        _mm512_mask_storeu_epi32(scores + 2 * n8 + j, m0, a20);
        _mm512_mask_storeu_epi32(scores + 2 * n8 + j + 16, m1, a21);
        _mm512_mask_storeu_epi32(scores + 3 * n8 + j, m0, a30);
        _mm512_mask_storeu_epi32(scores + 3 * n8 + j + 16, m1, a31);
    }
}

/* The softmax's constants for one call: the multiplier and shift, mvk_i8_att_dmax, and the
 * exponent table as 256 uint16 in 8 vectors of 32. */
typedef struct {
    int32_t m_sm;
    int s_sm;
    uint32_t dmax;
    __m512i tab[8];
} mvk_i8_att_state__avx512;

/* Every softmax multiplier and shift runs here (never the scalar kernel). */
#define MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm) 0

static MVK_INLINE MVK_AVX512 void mvk_i8_att_state_init__avx512(mvk_i8_att_state__avx512 *c,
                                                               const int32_t *exp2_lut,
                                                               int32_t m_sm, int s_sm)
{
    c->m_sm = m_sm, c->s_sm = s_sm, c->dmax = mvk_i8_att_dmax(m_sm, s_sm);
    for (int i = 0; i < 8; i++) { /* 2^15 = 0x8000 still fits a uint16 lane */
        const __m256i lo = _mm512_cvtepi32_epi16(_mm512_loadu_si512(exp2_lut + 32 * i));
        const __m256i hi = _mm512_cvtepi32_epi16(_mm512_loadu_si512(exp2_lut + 32 * i + 16));
        c->tab[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
}

/* u = min(((best - a) * m + 2^(s-1)) >> s, 31 * 256) on the 8 unsigned 64-bit lanes (the low
 * 32 bits of each hold best - a). */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_att_avx512_exponent64(__m512i d, __m512i m,
                                                                 __m512i rnd, __m128i s)
{
    const __m512i u = _mm512_srl_epi64(_mm512_add_epi64(_mm512_mul_epu32(d, m), rnd), s);
    return _mm512_min_epu64(u, _mm512_set1_epi64(31 * 256));
}

/* The exponents u of 16 scores' differences d from the row's maximum. */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_att_avx512_exponent(const mvk_i8_att_state__avx512 *c,
                                                               __m512i d)
{
    const __m128i s = _mm_cvtsi32_si128(c->s_sm);
    if (c->dmax) { /* 32-bit lanes (mvk_i8_att_dmax) */
        const __m512i dc = _mm512_min_epu32(d, _mm512_set1_epi32((int32_t)c->dmax));
        const __m512i rnd = _mm512_set1_epi32((int32_t)(1u << (c->s_sm - 1)));
        const __m512i dm = _mm512_mullo_epi32(dc, _mm512_set1_epi32(c->m_sm));
        const __m512i u = _mm512_srl_epi32(_mm512_add_epi32(dm, rnd), s);
        return _mm512_min_epu32(u, _mm512_set1_epi32(31 * 256));
    }
    const __m512i m = _mm512_set1_epi64((uint32_t)c->m_sm);
    const __m512i rnd = _mm512_set1_epi64((int64_t)((uint64_t)1 << (c->s_sm - 1)));
    const __m512i ue = mvk_i8_att_avx512_exponent64(d, m, rnd, s);
    const __m512i uo = mvk_i8_att_avx512_exponent64(_mm512_srli_epi64(d, 32), m, rnd, s);
    return _mm512_mask_blend_epi32(0xaaaa, ue, _mm512_slli_epi64(uo, 32));
}

/* exp2_lut[u & 255] >> (u >> 8) for 32 exponents (int16 lanes, u <= 31 * 256). */
static MVK_INLINE MVK_AVX512 __m512i mvk_i8_att_avx512_exp2(const mvk_i8_att_state__avx512 *c,
                                                           __m512i u)
{
    const __m512i f = _mm512_and_si512(u, _mm512_set1_epi16(255));
    /* vpermi2w: index bits 0-4 pick a word, bit 5 one of the two tables */
    const __m512i t0 = _mm512_permutex2var_epi16(c->tab[0], f, c->tab[1]);
    const __m512i t1 = _mm512_permutex2var_epi16(c->tab[2], f, c->tab[3]);
    const __m512i t2 = _mm512_permutex2var_epi16(c->tab[4], f, c->tab[5]);
    const __m512i t3 = _mm512_permutex2var_epi16(c->tab[6], f, c->tab[7]);
    const __mmask32 b6 = _mm512_test_epi16_mask(f, _mm512_set1_epi16(64));
    const __mmask32 b7 = _mm512_test_epi16_mask(f, _mm512_set1_epi16(128));
    const __m512i t = _mm512_mask_blend_epi16(b7, _mm512_mask_blend_epi16(b6, t0, t1),
                                              _mm512_mask_blend_epi16(b6, t2, t3));
    return _mm512_srlv_epi16(t, _mm512_srli_epi16(u, 8));
}

/* One row's softmax: e_j into sc (int32, in the scores' place), then the Q15 probabilities as
 * int16 into p16 (0 for padded keys; halved when inv = 2^32). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_softmax__avx512(const mvk_i8_att_state__avx512 *c,
                                                            const int32_t *exp2_lut, int32_t *sc,
                                                            int n, int n8, int16_t *p16,
                                                            int *halved)
{
    (void)exp2_lut;
    const __m512i lowest = _mm512_set1_epi32(INT32_MIN);
    __m512i mx = lowest;
    for (int j = 0; j < n; j += 16)
        mx = _mm512_max_epi32(
            mx, _mm512_mask_loadu_epi32(lowest, mvk_avx512_mask(n - j), sc + j));
    const __m512i best = _mm512_set1_epi32(_mm512_reduce_max_epi32(mx));
    __m512i sum = _mm512_setzero_si512();
    for (int j = 0; j < n8; j += 32) {
        /* padded keys (and lanes past n8): d = 0, then e forced to 0 by the masks */
        const __mmask16 v0 = mvk_avx512_mask(n - j), v1 = mvk_avx512_mask(n - j - 16);
        const __m512i d0 = _mm512_sub_epi32(best, _mm512_mask_loadu_epi32(best, v0, sc + j));
        const __m512i d1 = _mm512_sub_epi32(best, _mm512_mask_loadu_epi32(best, v1, sc + j + 16));
        const __m512i u =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(
                                   mvk_i8_att_avx512_exponent(c, d0))),
                               _mm512_cvtepi32_epi16(mvk_i8_att_avx512_exponent(c, d1)), 1);
        const __m512i e16 = mvk_i8_att_avx512_exp2(c, u);
        const __m512i e0 = _mm512_maskz_cvtepu16_epi32(v0, _mm512_castsi512_si256(e16));
        const __m512i e1 = _mm512_maskz_cvtepu16_epi32(v1, _mm512_extracti64x4_epi64(e16, 1));
        sum = _mm512_add_epi32(sum, _mm512_add_epi32(e0, e1)); /* lanes <= n8 / 8 * 2^15 */
        _mm512_mask_storeu_epi32(sc + j, mvk_avx512_mask(n8 - j), e0);
        _mm512_mask_storeu_epi32(sc + j + 16, mvk_avx512_mask(n8 - j - 16), e1);
    }
    uint32_t lanes[16];
    _mm512_storeu_si512(lanes, sum);
    uint64_t total = 0;
    for (int l = 0; l < 16; l++)
        total += lanes[l];
    const uint64_t inv = mvk_udiv_u64((uint64_t)1 << 47, total);
    *halved = inv >> 32 != 0; /* inv = 2^32: p_j = e_j in {0, 2^15}, stored halved */
    const __m512i iv = _mm512_set1_epi64((int64_t)(*halved ? 0 : inv));
    const __m512i half = _mm512_set1_epi64((int64_t)1 << 31);
    for (int j = 0; j < n8; j += 16) {
        const __mmask16 m = mvk_avx512_mask(n8 - j);
        const __m512i e = _mm512_maskz_loadu_epi32(m, sc + j);
        __m512i p;
        if (*halved) {
            p = _mm512_srli_epi32(e, 1);
        } else {
            const __m512i pe =
                _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epu32(e, iv), half), 32);
            const __m512i po =
                _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(e, 32), iv), half);
            p = _mm512_mask_blend_epi32(0xaaaa, pe, po); /* odd lanes: the high halves */
        }
        _mm256_mask_storeu_epi16(p16 + j, m, _mm512_cvtepi32_epi16(p)); /* p <= 2^15 - 1 */
    }
}

/* acc[r][32] += sum_j p_rj (v_jt - z) over the columns of V's masked loads k0, k1 (cols2 a
 * constant after inlining: a head of 16 columns or fewer runs half the products). */
static MVK_INLINE MVK_AVX512 void mvk_i8_att_avx512_pv_loop(const int16_t *probs, int n8,
                                                           const int16_t *v, int hd8, __mmask32 k0,
                                                           __mmask32 k1, int cols2, int32_t *acc)
{
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00;
    __m512i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const int16_t *p0 = probs, *p1 = p0 + n8, *p2 = p1 + n8, *p3 = p2 + n8;
    for (int j = 0; j < n8; j += 2, v += (int64_t)hd8 * 2) {
        const __m512i v0 = _mm512_maskz_loadu_epi16(k0, v);
        int32_t w0, w1, w2, w3;
        __builtin_memcpy(&w0, p0 + j, 4);
        __builtin_memcpy(&w1, p1 + j, 4);
        __builtin_memcpy(&w2, p2 + j, 4);
        __builtin_memcpy(&w3, p3 + j, 4);
        const __m512i b0 = _mm512_set1_epi32(w0), b1 = _mm512_set1_epi32(w1);
        const __m512i b2 = _mm512_set1_epi32(w2), b3 = _mm512_set1_epi32(w3);
        c00 = _mm512_add_epi32(c00, _mm512_madd_epi16(b0, v0));
        c10 = _mm512_add_epi32(c10, _mm512_madd_epi16(b1, v0));
        c20 = _mm512_add_epi32(c20, _mm512_madd_epi16(b2, v0));
        c30 = _mm512_add_epi32(c30, _mm512_madd_epi16(b3, v0));
        if (cols2) {
            const __m512i v1 = _mm512_maskz_loadu_epi16(k1, v + 32);
            c01 = _mm512_add_epi32(c01, _mm512_madd_epi16(b0, v1));
            c11 = _mm512_add_epi32(c11, _mm512_madd_epi16(b1, v1));
            c21 = _mm512_add_epi32(c21, _mm512_madd_epi16(b2, v1));
            c31 = _mm512_add_epi32(c31, _mm512_madd_epi16(b3, v1));
        }
    }
    _mm512_storeu_si512(acc, c00);
    _mm512_storeu_si512(acc + 16, c01);
    _mm512_storeu_si512(acc + 32, c10);
    _mm512_storeu_si512(acc + 48, c11);
    _mm512_storeu_si512(acc + 64, c20);
    _mm512_storeu_si512(acc + 80, c21);
    _mm512_storeu_si512(acc + 96, c30);
    _mm512_storeu_si512(acc + 112, c31);
}

/* Output of the block's 4 rows for columns [t0, t0 + 32) (the second 16 only when
 * t0 + 16 < hd): acc[r][32] = sum_j p_rj (v_jt - z); V's rows are hd8 columns, the loads
 * past them masked. */
#define MVK_I8_ATT_PV_COLS 32
static MVK_INLINE MVK_AVX512 void mvk_i8_att_pv__avx512(const int16_t *probs, int n8,
                                                       const int16_t *vp, int hd8, int hd, int t0,
                                                       int32_t *acc)
{
    const int two = t0 + 16 < hd;
    const int cols0 = hd8 - t0 < 16 ? hd8 - t0 : 16; /* >= 8: t0 < hd <= hd8 */
    const int cols1 = !two ? 0 : hd8 - t0 - 16 < 16 ? hd8 - t0 - 16 : 16;
    const __mmask32 k0 = (__mmask32)(((uint64_t)1 << 2 * cols0) - 1); /* two int16 a column */
    const __mmask32 k1 = (__mmask32)(((uint64_t)1 << 2 * cols1) - 1);
    const int16_t *v = vp + (int64_t)t0 * 2;
    if (two)
        mvk_i8_att_avx512_pv_loop(probs, n8, v, hd8, k0, k1, 1, acc);
    else
        mvk_i8_att_avx512_pv_loop(probs, n8, v, hd8, k0, k1, 0, acc);
}

#include "i8-attention-driver.h"

#undef MVK_I8_ATT_AVX512_GROUPS
#undef MVK_I8_ATT_AVX512_DOT
