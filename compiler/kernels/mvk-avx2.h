/* AVX2 + FMA helpers shared by the x86 kernels: tail masks, a vector exp (close to mvk_expf,
 * not bitwise: a different reduction, and FMA rounds once),
 * SiLU, and the row store of the GEMM epilogue. Functions carry target attributes, so the
 * generated file builds without -mavx2; callers must run on an AVX2+FMA CPU. */
/* The binding of the shared drivers' names to this ISA (docs/architecture.md): outside the
 * include guard, so that including this header again switches back to it after another ISA's
 * kernel files (one file may hold several ISAs: the x86-64 target). */
#undef MVK_ISA_FN
#undef MVK_ISA_HELPER
#undef MVK_ISA
#define MVK_ISA_FN(stem) stem##__avx2       /* public kernels: mvk_..._<isa> */
#define MVK_ISA_HELPER(stem) mvk_avx2_##stem /* helpers and the mvk_vf layer */
#define MVK_ISA MVK_AVX2 /* the attributes of every function for the ISA */

#ifndef MVK_AVX2_H
#define MVK_AVX2_H

#include <immintrin.h>

#include "mvk-prelude.h"

#define MVK_AVX2 __attribute__((target("avx2,fma")))

/* vpdpbusd on ymm (4 products u8 x s8 added into each int32 lane) where the file is compiled
 * for it: AVX-VNNI's VEX form (-mavxvnni), or AVX512-VNNI's EVEX form with AVX512VL (the same
 * operation, -mavx512vnni -mavx512vl: Ice Lake, Zen 4). The int8 kernels take their vpdpbusd
 * loops where MVK_AVX2_VNNI is defined. */
#if defined(__AVXVNNI__)
#define MVK_AVX2_VNNI 1
#define mvk_avx2_dpbusd _mm256_dpbusd_avx_epi32
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define MVK_AVX2_VNNI 1
#define mvk_avx2_dpbusd _mm256_dpbusd_epi32
#endif

static const int32_t mvk_avx2_mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};

/* Lane mask with the first n (0..8) lanes set. */
static MVK_INLINE MVK_AVX2 __m256i mvk_avx2_mask(int n)
{
    return _mm256_loadu_si256((const __m256i *)(mvk_avx2_mask_table + 8 - n));
}

/* 2^t = 2^n * 2^f for t in [-126, 127), n = t rounded to an integer, |f| <= 1/2, as the pair
 * (p, s): p = 2^f by a degree-5 polynomial fitted for relative error (2.3e-7 in float
 * arithmetic), s = 2^n built in the exponent bits. n comes from adding 1.5 * 2^23 + 127:
 * the sum's low mantissa bits hold n + 127, which shifted by 23 are 2^n's bits (one add and
 * one shift instead of round, convert, add, shift). */
static MVK_INLINE MVK_AVX2 __m256 mvk_avx2_exp2_parts(__m256 t, __m256 *s)
{
    const __m256 magic = _mm256_set1_ps(12583039.0f); /* 1.5 * 2^23 + 127 */
    const __m256 nb = _mm256_add_ps(t, magic);
    const __m256 f = _mm256_sub_ps(t, _mm256_sub_ps(nb, magic));
    __m256 p = _mm256_set1_ps(0.00132764713f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.00967554096f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.0555071309f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.240221202f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.693146944f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.00000012f));
    *s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(nb), 23));
    return p;
}

/* exp(x) = 2^(x*log2(e)). Rounding x * log2(e) to float adds a relative error of at most
 * 6e-8*|x| (5e-6 at |x| = 87, where results are below 1e-37 or above 1e37 and nothing
 * MobileViT computes can tell); a Cody-Waite reduction would remove it at the price of a
 * longer dependency chain, which measured ~25 % slower in SiLU. x is clamped to
 * [-87.34, 88]: below, results stay at the smallest normal (~1e-38) instead of 0; above, at
 * ~1.7e38 instead of inf. */
static MVK_INLINE MVK_AVX2 __m256 mvk_avx2_exp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.0f));
    __m256 s;
    const __m256 p = mvk_avx2_exp2_parts(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), &s);
    return _mm256_mul_ps(p, s);
}

/* x * sigmoid(x) = x / (1 + e^-x): e^-x as mvk_avx2_exp (the sign folded into log2(e), the
 * 1 + into the last product), the division by a reciprocal estimate and one Newton step
 * (relative error ~1e-7; the divide unit is the bottleneck otherwise). */
static MVK_INLINE MVK_AVX2 __m256 mvk_avx2_silu(__m256 x)
{
    const __m256 xc =
        _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.0f)), _mm256_set1_ps(87.33654f));
    __m256 s;
    const __m256 p = mvk_avx2_exp2_parts(_mm256_mul_ps(xc, _mm256_set1_ps(-1.44269504f)), &s);
    const __m256 d = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.0f));
    __m256 r = _mm256_rcp_ps(d);
    r = _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
    return _mm256_mul_ps(x, r);
}

/* Epilogue of 8 lanes: + residual (if any), activation, store; n < 8 uses masked accesses. */
static MVK_INLINE MVK_AVX2 void mvk_avx2_store8(float *c, __m256 v, int n, const float *res,
                                                int act)
{
    if (n >= 8) {
        if (res)
            v = _mm256_add_ps(v, _mm256_loadu_ps(res));
        if (act == MVK_ACT_SILU)
            v = mvk_avx2_silu(v);
        _mm256_storeu_ps(c, v);
    } else if (n > 0) {
        const __m256i m = mvk_avx2_mask(n);
        if (res)
            v = _mm256_add_ps(v, _mm256_maskload_ps(res, m));
        if (act == MVK_ACT_SILU)
            v = mvk_avx2_silu(v);
        _mm256_maskstore_ps(c, m, v);
    }
}

/* The AVX2 instance of the per-ISA layer that the shared drivers (*-driver.h) are written
 * over (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"): how kernels are
 * named and marked, and float vectors of MVK_VF_LANES lanes. Each helper is one operation with
 * the rounding of the intrinsic it wraps, so a driver computes bit for bit what a hand-written
 * AVX2 copy would. One ISA per translation unit (a generated file targets one ISA). */

typedef __m256 mvk_vf;
enum {
    mvk_avx2_VF_LANES = 8, /* MVK_VF_LANES */
    mvk_avx2_DW_CPAD = 8,  /* MVK_DW_CPAD: depthwise weight rows in whole vectors */
};

static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_zero(void) { return _mm256_setzero_ps(); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_dup(float x) { return _mm256_set1_ps(x); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_load(const float *p) { return _mm256_loadu_ps(p); }
/* p 32-byte aligned (packed weights and biases) */
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_load_a(const float *p) { return _mm256_load_ps(p); }
static MVK_INLINE MVK_AVX2 void mvk_vf_store(float *p, mvk_vf v) { _mm256_storeu_ps(p, v); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_add(mvk_vf a, mvk_vf b) { return _mm256_add_ps(a, b); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_sub(mvk_vf a, mvk_vf b) { return _mm256_sub_ps(a, b); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_mul(mvk_vf a, mvk_vf b) { return _mm256_mul_ps(a, b); }
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_max(mvk_vf a, mvk_vf b) { return _mm256_max_ps(a, b); }
/* acc + a*b and acc - a*b, each rounded once */
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_fma(mvk_vf acc, mvk_vf a, mvk_vf b)
{
    return _mm256_fmadd_ps(a, b, acc);
}
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_fms(mvk_vf acc, mvk_vf a, mvk_vf b)
{
    return _mm256_fnmadd_ps(a, b, acc);
}
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_exp(mvk_vf x) { return mvk_avx2_exp(x); }

/* The first n lanes of p (n <= 0: none, n >= 8: all), the others zero; masked, so nothing past
 * p + n is read. */
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_load_n(const float *p, int n)
{
    if (n >= 8)
        return _mm256_loadu_ps(p);
    return _mm256_maskload_ps(p, mvk_avx2_mask(n > 0 ? n : 0));
}

/* Stores the first n lanes of v (n <= 0: none, n >= 8: all). */
static MVK_INLINE MVK_AVX2 void mvk_vf_store_n(float *p, mvk_vf v, int n)
{
    if (n >= 8)
        _mm256_storeu_ps(p, v);
    else if (n > 0)
        _mm256_maskstore_ps(p, mvk_avx2_mask(n), v);
}

/* v with the lanes from n (0..8) on set to zero. */
static MVK_INLINE MVK_AVX2 mvk_vf mvk_vf_keep_n(mvk_vf v, int n)
{
    return _mm256_and_ps(v, _mm256_castsi256_ps(mvk_avx2_mask(n)));
}

/* The lanes' sum, added one by one from lane 0 (the order every AVX2 reduction uses). */
static MVK_INLINE MVK_AVX2 float mvk_vf_hsum(mvk_vf v)
{
    float lanes[8], sum = 0.0f;
    _mm256_storeu_ps(lanes, v);
    for (int l = 0; l < 8; l++)
        sum += lanes[l];
    return sum;
}

/* The largest of the n scalars s[0..n) and v's lanes, or -3.4e38 (the scalars first). */
static MVK_INLINE MVK_AVX2 float mvk_vf_hmax_tail(mvk_vf v, const float *s, int n)
{
    float m = -3.4e38f, lanes[8];
    for (int j = 0; j < n; j++)
        m = s[j] > m ? s[j] : m;
    _mm256_storeu_ps(lanes, v);
    for (int l = 0; l < 8; l++)
        m = lanes[l] > m ? lanes[l] : m;
    return m;
}

/* The GEMM epilogue of one vector: + residual, activation, store of the first n lanes. */
static MVK_INLINE MVK_AVX2 void mvk_vf_store_act(float *c, mvk_vf v, int n, const float *res,
                                                 int act)
{
    mvk_avx2_store8(c, v, n, res, act);
}

#endif
