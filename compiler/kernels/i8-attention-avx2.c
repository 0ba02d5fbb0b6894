/* INT8 attention, AVX2: bit for bit mvk_i8_attention__scalar (docs/int8.md), with both
 * products on vpmaddwd. Per work unit (patch position, head), K and V of the head are copied
 * once, zero point removed, as int16 in pair layouts:
 *   kp[t/2][j][2]  (t pairs of each key, so vpmaddwd against a broadcast (q_t, q_t+1) adds
 *                   two terms of 8 scores)
 *   vp[j/2][t][2]  (key pairs of each value column, so vpmaddwd against a broadcast
 *                   (p_j, p_j+1) adds two terms of 8 outputs)
 * padded with zeros to whole vectors (8 keys, 8 columns), so no load runs past the scratch.
 * Rows of queries go 4 at a time, so each K and V vector loaded serves 4 rows.
 *
 * Exactness: q - z, k - z, v - z lie in [-255, 255], so every vpmaddwd pair sum is exact and
 * every int32 sum is the scalar kernel's sum in another order (integer: the same value). The
 * probabilities are <= 32767 except in one case (docs/int8.md: p_j = 2^15 only when the
 * maximum's term is the whole sum, so inv = 2^32 and the others are 0); there the row is
 * computed with p / 2 and doubled, which is exact. Softmax lanes follow the scalar kernel's
 * unsigned 64-bit arithmetic lane by lane.
 *
 * The per-unit loop (packing, row blocks, requantisation) is i8-attention-driver.h, shared
 * with every ISA; this file holds the AVX2 microkernels it calls.
 * Scratch per task: MVK_I8_ATTENTION_SCRATCH_SIMD(n, hd) bytes (i8-attention-scratch.h).
 * Uses mvk_requant_i8_scalar, mvk_udiv_u64, mvk_i8_att_dmax and (AVX-VNNI)
 * mvk_i8_att_pack_quads and mvk_i8_att_queries_quads of i8-scalar.c. */
#include <immintrin.h>

#include "i8-attention-scratch.h"
#include "mvk-avx2.h"

#define MVK_I8_ATT_AVX2 __attribute__((target("avx2")))

/* bytes / 32 zero vectors at dst (bytes: a multiple of 32): the padding that the copies
 * below leave untouched must read as zero. */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_avx2_zero(void *dst, int64_t bytes)
{
    for (int64_t i = 0; i < bytes; i += 32)
        _mm256_storeu_si256((__m256i *)((char *)dst + i), _mm256_setzero_si256());
}

/* 8 int8 values at src (t + 8 <= hd: inside the row) as int16 with z subtracted. */
static MVK_INLINE MVK_I8_ATT_AVX2 __m128i mvk_i8_att_avx2_widen8(const int8_t *src, __m128i z)
{
    return _mm_sub_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)src)), z);
}

/* V of head h of one patch position into the key-pair layout, zero point removed: two keys'
 * rows widened and interleaved 8 columns at a time. */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_pack_v__avx2(const int8_t *base, int16_t *vp,
                                                               int n, int n8, int d, int hd,
                                                               int hd8, int h, int32_t z)
{
    const int64_t row = 3 * (int64_t)d;
    const __m128i zv = _mm_set1_epi16((int16_t)z);
    mvk_i8_att_avx2_zero(vp, (int64_t)n8 * hd8 * 2);
    for (int j = 0; j < n; j += 2) {
        const int pair = j + 1 < n;
        const int8_t *v0 = base + j * row + 2 * d + h * hd, *v1 = pair ? v0 + row : v0;
        int16_t *dst = vp + (int64_t)(j >> 1) * hd8 * 2;
        int t = 0;
        for (; t + 8 <= hd; t += 8) {
            const __m128i a = mvk_i8_att_avx2_widen8(v0 + t, zv);
            const __m128i b = pair ? mvk_i8_att_avx2_widen8(v1 + t, zv) : _mm_setzero_si128();
            _mm_storeu_si128((__m128i *)(dst + 2 * t), _mm_unpacklo_epi16(a, b));
            _mm_storeu_si128((__m128i *)(dst + 2 * t + 8), _mm_unpackhi_epi16(a, b));
        }
        for (; t < hd; t++) {
            dst[2 * t] = (int16_t)(v0[t] - z);
            dst[2 * t + 1] = (int16_t)(pair ? v1[t] - z : 0);
        }
    }
}

#if defined(MVK_AVX2_VNNI)
/* Built with AVX-VNNI, the scores run on vpdpbusd (u8 x s8): with u = q + 128,
 *   sum_t (q_t - z)(k_t - z) = sum_t u_t k_t - (128 + z) K - z Q + hd z^2
 * (K, Q: the sums of a key's and a query's int8 values), all exact in int32. The last two
 * terms are the same for every key of a query, and the softmax only sees a row's scores as
 * differences from its maximum, so they are left out: the scores are sum_t u_t k_t - kterm.
 * K goes in t quads kq[t/4][j][4] int8 (zeros past hd and n), and kterm[j] = (128 + z) K_j,
 * K_j summed by vpdpbusd against ones over the packed quads. */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_pack_k__avx2(const int8_t *base, void *kbuf,
                                                               int32_t *kterm, int n, int n8, int d,
                                                               int hd, int h, int32_t z)
{
    int8_t *kq = (int8_t *)kbuf;
    const int64_t row = 3 * (int64_t)d, stride = (int64_t)n8 * 4;
    const int g4 = (hd + 3) / 4;
    mvk_i8_att_avx2_zero(kq, g4 * stride);
    mvk_i8_att_pack_quads(base + d + h * hd, row, kq, n, stride, hd);
    const __m256i ones = _mm256_set1_epi8(1), c = _mm256_set1_epi32(128 + z);
    for (int j = 0; j < n8; j += 8) {
        __m256i sum = _mm256_setzero_si256();
        for (int g = 0; g < g4; g++)
            sum = mvk_avx2_dpbusd(
                sum, ones, _mm256_loadu_si256((const __m256i *)(kq + g * stride + 4 * j)));
        _mm256_storeu_si256((__m256i *)(kterm + j), _mm256_mullo_epi32(sum, c));
    }
}

/* The block's query rows as quads of bytes q + 128 (mvk_i8_att_queries_quads). */
static MVK_INLINE MVK_I8_ATT_AVX2 void
mvk_i8_att_queries__avx2(const int8_t *q0, int64_t row, int rows, int hd, int32_t z, void *qbuf)
{
    (void)z;
    mvk_i8_att_queries_quads(q0, row, rows, hd, MVK_I8_ATT_ROWS, (int32_t *)qbuf);
}

/* scores[r][j] for the block's 4 rows, each less its query's terms, every j < n8 (padded
 * keys: any value, the softmax excludes them). */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_scores__avx2(const void *qbuf, int hd,
                                                               const void *kbuf,
                                                               const int32_t *kterm, int n8,
                                                               int32_t *scores)
{
    const int g4 = (hd + 3) / 4;
    const int8_t *kq = (const int8_t *)kbuf;
    const int32_t *q0 = (const int32_t *)qbuf, *q1 = q0 + g4, *q2 = q1 + g4, *q3 = q2 + g4;
    for (int j = 0; j < n8; j += 8) {
        const __m256i kt = _mm256_sub_epi32(_mm256_setzero_si256(),
                                            _mm256_loadu_si256((const __m256i *)(kterm + j)));
        __m256i a0 = kt, a1 = kt, a2 = kt, a3 = kt;
        const int8_t *kv = kq + (int64_t)j * 4;
        for (int g = 0; g < g4; g++, kv += (int64_t)n8 * 4) {
            const __m256i k = _mm256_loadu_si256((const __m256i *)kv);
            a0 = mvk_avx2_dpbusd(a0, _mm256_set1_epi32(q0[g]), k);
            a1 = mvk_avx2_dpbusd(a1, _mm256_set1_epi32(q1[g]), k);
            a2 = mvk_avx2_dpbusd(a2, _mm256_set1_epi32(q2[g]), k);
            a3 = mvk_avx2_dpbusd(a3, _mm256_set1_epi32(q3[g]), k);
        }
        _mm256_storeu_si256((__m256i *)(scores + j), a0);
        _mm256_storeu_si256((__m256i *)(scores + n8 + j), a1);
        _mm256_storeu_si256((__m256i *)(scores + 2 * n8 + j), a2);
        _mm256_storeu_si256((__m256i *)(scores + 3 * n8 + j), a3);
    }
}
#else
/* K of head h of one patch position into the t-pair layout kp[t/2][j][2] int16, zero point
 * removed (kterm: unused here). */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_pack_k__avx2(const int8_t *base, void *kbuf,
                                                               int32_t *kterm, int n, int n8, int d,
                                                               int hd, int h, int32_t z)
{
    (void)kterm;
    int16_t *kp = (int16_t *)kbuf;
    const int64_t row = 3 * (int64_t)d, stride = (int64_t)n8 * 2;
    const __m128i zv = _mm_set1_epi16((int16_t)z);
    mvk_i8_att_avx2_zero(kp, (int64_t)(hd + 1) / 2 * stride * 2);
    for (int j = 0; j < n; j++) {
        const int8_t *kr = base + j * row + d + h * hd;
        int16_t *dst = kp + (int64_t)j * 2;
        int t = 0;
        for (; t + 8 <= hd; t += 8) { /* 4 pairs, one per t-pair row */
            int32_t w[4];
            _mm_storeu_si128((__m128i *)w, mvk_i8_att_avx2_widen8(kr + t, zv));
            for (int i = 0; i < 4; i++)
                __builtin_memcpy(dst + (t / 2 + i) * stride, &w[i], 4);
        }
        for (; t < hd; t++)
            dst[(t >> 1) * stride + (t & 1)] = (int16_t)(kr[t] - z);
    }
}

/* The block's query rows (rows past `rows` repeat the last) as int16 pairs (q_t - z,
 * q_t+1 - z) into qpair[r][hp] (0 past hd). */
static MVK_INLINE MVK_I8_ATT_AVX2 void
mvk_i8_att_queries__avx2(const int8_t *q0, int64_t row, int rows, int hd, int32_t z, void *qbuf)
{
    int32_t *qpair = (int32_t *)qbuf;
    const int hp = (hd + 1) / 2;
    const __m128i zv = _mm_set1_epi16((int16_t)z);
    for (int r = 0; r < MVK_I8_ATT_ROWS; r++) {
        const int8_t *q = q0 + (r < rows ? r : rows - 1) * row;
        int32_t *dst = qpair + r * hp;
        int t = 0;
        for (; t + 8 <= hd; t += 8)
            _mm_storeu_si128((__m128i *)(dst + t / 2), mvk_i8_att_avx2_widen8(q + t, zv));
        for (; t < hd; t += 2) {
            const uint32_t lo = (uint16_t)(int16_t)(q[t] - z);
            const uint32_t hi = t + 1 < hd ? (uint16_t)(int16_t)(q[t + 1] - z) : 0u;
            dst[t / 2] = (int32_t)(lo | hi << 16);
        }
    }
}

/* scores[r][j] for the block's 4 rows, every j < n8 (padded keys give 0; kterm: unused
 * here). */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_scores__avx2(const void *qbuf, int hd,
                                                               const void *kbuf,
                                                               const int32_t *kterm, int n8,
                                                               int32_t *scores)
{
    (void)kterm;
    const int hp = (hd + 1) / 2;
    const int16_t *kp = (const int16_t *)kbuf;
    const int32_t *q0 = (const int32_t *)qbuf, *q1 = q0 + hp, *q2 = q1 + hp, *q3 = q2 + hp;
    for (int j = 0; j < n8; j += 8) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        const int16_t *kv = kp + (int64_t)j * 2;
        for (int tp = 0; tp < hp; tp++, kv += (int64_t)n8 * 2) {
            const __m256i k = _mm256_loadu_si256((const __m256i *)kv);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(q0[tp]), k));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(q1[tp]), k));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(q2[tp]), k));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(q3[tp]), k));
        }
        _mm256_storeu_si256((__m256i *)(scores + j), a0);
        _mm256_storeu_si256((__m256i *)(scores + n8 + j), a1);
        _mm256_storeu_si256((__m256i *)(scores + 2 * n8 + j), a2);
        _mm256_storeu_si256((__m256i *)(scores + 3 * n8 + j), a3);
    }
}
#endif

static MVK_INLINE MVK_I8_ATT_AVX2 int32_t mvk_i8_att_avx2_hmax(__m256i v)
{
    __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xb1));
    return _mm_cvtsi128_si32(m);
}

/* u = min(((best - a) * m + 2^(s-1)) >> s, 31 * 256) on 4 unsigned 64-bit lanes (the low 32
 * bits of each hold best - a). */
static MVK_INLINE MVK_I8_ATT_AVX2 __m256i mvk_i8_att_avx2_exponent(__m256i d, __m256i m,
                                                                   __m256i rnd, __m128i s)
{
    const __m256i u = _mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epu32(d, m), rnd), s);
    const __m256i top = _mm256_set1_epi64x(31 * 256);
    return _mm256_blendv_epi8(u, top, _mm256_cmpgt_epi64(u, top));
}

/* The softmax's constants for one call (the driver's per-ISA state). */
typedef struct {
    int32_t m_sm;
    int s_sm;
    uint32_t dmax; /* mvk_i8_att_dmax: nonzero for the 32-bit exponent lanes */
} mvk_i8_att_state__avx2;

/* Every softmax multiplier and shift runs here (never the scalar kernel). */
#define MVK_I8_ATT_SCALAR_ONLY(m_sm, s_sm) 0

static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_state_init__avx2(mvk_i8_att_state__avx2 *c,
                                                                   const int32_t *exp2_lut,
                                                                   int32_t m_sm, int s_sm)
{
    (void)exp2_lut;
    c->m_sm = m_sm, c->s_sm = s_sm, c->dmax = mvk_i8_att_dmax(m_sm, s_sm);
}

/* One row's softmax: e_j from the table into sc (as int32, in the scores' place), then the Q15
 * probabilities as int16 into p16 (0 for padded keys; halved when inv = 2^32). */
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_softmax__avx2(const mvk_i8_att_state__avx2 *c,
                                                                const int32_t *exp2_lut,
                                                                int32_t *sc, int n, int n8,
                                                                int16_t *p16, int *halved)
{
    const int32_t m_sm = c->m_sm;
    const int s_sm = c->s_sm;
    const uint32_t dmax = c->dmax;
    for (int j = n; j < n8; j++) /* out of the maximum; their e is zeroed below */
        sc[j] = INT32_MIN;
    __m256i mx = _mm256_set1_epi32(INT32_MIN);
    for (int j = 0; j < n8; j += 8)
        mx = _mm256_max_epi32(mx, _mm256_loadu_si256((const __m256i *)(sc + j)));
    const __m256i best = _mm256_set1_epi32(mvk_i8_att_avx2_hmax(mx));
    const __m256i m = _mm256_set1_epi64x((uint32_t)m_sm);
    const __m256i rnd = _mm256_set1_epi64x((int64_t)((uint64_t)1 << (s_sm - 1)));
    const __m128i s = _mm_cvtsi32_si128(s_sm);
    const __m256i lo8 = _mm256_set1_epi32(255);
    __m256i sum = _mm256_setzero_si256();
    const __m256i dmaxv = _mm256_set1_epi32((int32_t)dmax), m32 = _mm256_set1_epi32(m_sm);
    const __m256i rnd32 = _mm256_set1_epi32(dmax ? (int32_t)(1u << (s_sm - 1)) : 0);
    const __m256i top = _mm256_set1_epi32(31 * 256);
    for (int j = 0; j < n8; j += 8) {
        const __m256i d = _mm256_sub_epi32(best, _mm256_loadu_si256((const __m256i *)(sc + j)));
        __m256i u;
        if (dmax) { /* 32-bit lanes (mvk_i8_att_dmax) */
            const __m256i dc = _mm256_min_epu32(d, dmaxv);
            u = _mm256_srl_epi32(_mm256_add_epi32(_mm256_mullo_epi32(dc, m32), rnd32), s);
            u = _mm256_min_epu32(u, top);
        } else {
            const __m256i ue = mvk_i8_att_avx2_exponent(d, m, rnd, s);
            const __m256i uo = mvk_i8_att_avx2_exponent(_mm256_srli_epi64(d, 32), m, rnd, s);
            u = _mm256_blend_epi32(ue, _mm256_slli_epi64(uo, 32), 0xaa);
        }
        const __m256i t = _mm256_i32gather_epi32(exp2_lut, _mm256_and_si256(u, lo8), 4);
        __m256i e = _mm256_srlv_epi32(t, _mm256_srli_epi32(u, 8));
        if (j + 8 > n) /* padded keys: e = 0 whatever their exponent (a tiny m_sm leaves
                          best - INT32_MIN below the 64-bit path's cut-off) */
            e = _mm256_and_si256(e, _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j),
                                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        sum = _mm256_add_epi32(sum, e); /* lanes <= n8 / 8 * 2^15: no overflow for n < 2^16 */
        _mm256_storeu_si256((__m256i *)(sc + j), e);
    }
    uint32_t lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, sum);
    uint64_t total = 0;
    for (int l = 0; l < 8; l++)
        total += lanes[l];
    const uint64_t inv = mvk_udiv_u64((uint64_t)1 << 47, total);
    *halved = inv >> 32 != 0; /* inv = 2^32: p_j = e_j in {0, 2^15}, stored halved */
    const __m256i iv = _mm256_set1_epi64x((int64_t)(*halved ? 0 : inv));
    const __m256i half = _mm256_set1_epi64x((int64_t)1 << 31);
    for (int j = 0; j < n8; j += 8) {
        const __m256i e = _mm256_loadu_si256((const __m256i *)(sc + j));
        __m256i p;
        if (*halved) {
            p = _mm256_srli_epi32(e, 1);
        } else {
            const __m256i pe =
                _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(e, iv), half), 32);
            const __m256i po =
                _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(e, 32), iv), half);
            p = _mm256_blend_epi32(pe, po, 0xaa); /* odd lanes: the high halves, already in place */
        }
        const __m128i p8 =
            _mm_packs_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
        _mm_storeu_si128((__m128i *)(p16 + j), p8);
    }
}

/* Output of the block's 4 rows for columns [t0, t0 + 16) (the second 8 only when t0 + 8 < hd):
 * acc[r][16] = sum_j p_rj (v_jt - z). */
#define MVK_I8_ATT_PV_COLS 16
static MVK_INLINE MVK_I8_ATT_AVX2 void mvk_i8_att_pv__avx2(const int16_t *probs, int n8,
                                                           const int16_t *vp, int hd8, int hd,
                                                           int t0, int32_t *acc)
{
    const int two = t0 + 8 < hd;
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
    __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const int16_t *p0 = probs, *p1 = p0 + n8, *p2 = p1 + n8, *p3 = p2 + n8;
    const int16_t *v = vp + (int64_t)t0 * 2;
    for (int j = 0; j < n8; j += 2, v += (int64_t)hd8 * 2) {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)v);
        const __m256i v1 = two ? _mm256_loadu_si256((const __m256i *)(v + 16)) : v0;
        int32_t w0, w1, w2, w3;
        __builtin_memcpy(&w0, p0 + j, 4);
        __builtin_memcpy(&w1, p1 + j, 4);
        __builtin_memcpy(&w2, p2 + j, 4);
        __builtin_memcpy(&w3, p3 + j, 4);
        const __m256i b0 = _mm256_set1_epi32(w0), b1 = _mm256_set1_epi32(w1);
        const __m256i b2 = _mm256_set1_epi32(w2), b3 = _mm256_set1_epi32(w3);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, v0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b0, v1));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b1, v0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, v1));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b2, v0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b2, v1));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b3, v0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b3, v1));
    }
    _mm256_storeu_si256((__m256i *)acc, c00);
    _mm256_storeu_si256((__m256i *)(acc + 8), c01);
    _mm256_storeu_si256((__m256i *)(acc + 16), c10);
    _mm256_storeu_si256((__m256i *)(acc + 24), c11);
    _mm256_storeu_si256((__m256i *)(acc + 32), c20);
    _mm256_storeu_si256((__m256i *)(acc + 40), c21);
    _mm256_storeu_si256((__m256i *)(acc + 48), c30);
    _mm256_storeu_si256((__m256i *)(acc + 56), c31);
}

#include "i8-attention-driver.h"
