/* AVX-512 (F, BW, DQ, VL) + FMA helpers shared by the AVX-512 kernels: lane masks, the vector
 * exp and SiLU of mvk-avx2.h on 16 lanes (the same polynomial and reduction, so the same
 * values lane for lane), and the row store of the GEMM epilogue. Functions carry target
 * attributes, so the generated file builds without -mavx512f; callers must run on a CPU with
 * AVX-512F/BW/DQ/VL and an OS that saves the zmm state (XCR0). */
/* The binding of the shared drivers' names to this ISA (docs/architecture.md): outside the
 * include guard, so that including this header again switches back to it after another ISA's
 * kernel files (one file may hold several ISAs: the x86-64 target). */
#undef MVK_ISA_FN
#undef MVK_ISA_HELPER
#undef MVK_ISA
#define MVK_ISA_FN(stem) stem##__avx512       /* public kernels: mvk_..._<isa> */
#define MVK_ISA_HELPER(stem) mvk_avx512_##stem /* helpers and the mvk_vf layer */
#define MVK_ISA MVK_AVX512 /* the attributes of every function for the ISA */

#ifndef MVK_AVX512_H
#define MVK_AVX512_H

#include <immintrin.h>

#include "mvk-prelude.h"

/* gcc needs "fma" and "avx2" named as well: the 256-bit helpers the int8 kernels share */
#define MVK_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))

/* The first n lanes (n clamped to 0..16). */
static MVK_INLINE MVK_AVX512 __mmask16 mvk_avx512_mask(int n)
{
    return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1);
}

/* 2^t as mvk_avx2_exp2_parts, on 16 lanes. */
static MVK_INLINE MVK_AVX512 __m512 mvk_avx512_exp2_parts(__m512 t, __m512 *s)
{
    const __m512 magic = _mm512_set1_ps(12583039.0f); /* 1.5 * 2^23 + 127 */
    const __m512 nb = _mm512_add_ps(t, magic);
    const __m512 f = _mm512_sub_ps(t, _mm512_sub_ps(nb, magic));
    __m512 p = _mm512_set1_ps(0.00132764713f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.00967554096f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.0555071309f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.240221202f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.693146944f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.00000012f));
    *s = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(nb), 23));
    return p;
}

/* exp(x) as mvk_avx2_exp (x clamped to [-87.34, 88]). */
static MVK_INLINE MVK_AVX512 __m512 mvk_avx512_exp(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.33654f)), _mm512_set1_ps(88.0f));
    __m512 s;
    const __m512 p = mvk_avx512_exp2_parts(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), &s);
    return _mm512_mul_ps(p, s);
}

/* x * sigmoid(x) as mvk_avx2_silu. The reciprocal estimate is vrcp14ps (relative error
 * 2^-14, vrcpps' is 1.5 * 2^-12), so one Newton step leaves ~1e-8 instead of ~1e-7. */
static MVK_INLINE MVK_AVX512 __m512 mvk_avx512_silu(__m512 x)
{
    const __m512 xc =
        _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(87.33654f));
    __m512 s;
    const __m512 p = mvk_avx512_exp2_parts(_mm512_mul_ps(xc, _mm512_set1_ps(-1.44269504f)), &s);
    const __m512 d = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.0f));
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
    return _mm512_mul_ps(x, r);
}

/* Epilogue of 16 lanes: + residual (if any), activation, store of the first n lanes (masked,
 * nothing past c + n or res + n touched). */
static MVK_INLINE MVK_AVX512 void mvk_avx512_store16(float *c, __m512 v, int n, const float *res,
                                                    int act)
{
    if (n >= 16) {
        if (res)
            v = _mm512_add_ps(v, _mm512_loadu_ps(res));
        if (act == MVK_ACT_SILU)
            v = mvk_avx512_silu(v);
        _mm512_storeu_ps(c, v);
    } else if (n > 0) {
        const __mmask16 m = mvk_avx512_mask(n);
        if (res)
            v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, res));
        if (act == MVK_ACT_SILU)
            v = mvk_avx512_silu(v);
        _mm512_mask_storeu_ps(c, m, v);
    }
}

/* The AVX-512 instance of the per-ISA layer of the shared drivers (*-driver.h, see
 * mvk-avx2.h): float vectors of 16 lanes. */

typedef __m512 mvk_vf;
enum {
    mvk_avx512_VF_LANES = 16, /* MVK_VF_LANES */
    mvk_avx512_DW_CPAD = 16,  /* MVK_DW_CPAD: depthwise weight rows in whole vectors */
};

static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_zero(void) { return _mm512_setzero_ps(); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_dup(float x) { return _mm512_set1_ps(x); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_load(const float *p) { return _mm512_loadu_ps(p); }
/* p 64-byte aligned (packed weights and biases) */
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_load_a(const float *p) { return _mm512_load_ps(p); }
static MVK_INLINE MVK_AVX512 void mvk_vf_store(float *p, mvk_vf v) { _mm512_storeu_ps(p, v); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_add(mvk_vf a, mvk_vf b) { return _mm512_add_ps(a, b); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_sub(mvk_vf a, mvk_vf b) { return _mm512_sub_ps(a, b); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_mul(mvk_vf a, mvk_vf b) { return _mm512_mul_ps(a, b); }
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_max(mvk_vf a, mvk_vf b) { return _mm512_max_ps(a, b); }
/* acc + a*b and acc - a*b, each rounded once */
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_fma(mvk_vf acc, mvk_vf a, mvk_vf b)
{
    return _mm512_fmadd_ps(a, b, acc);
}
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_fms(mvk_vf acc, mvk_vf a, mvk_vf b)
{
    return _mm512_fnmadd_ps(a, b, acc);
}
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_exp(mvk_vf x) { return mvk_avx512_exp(x); }

/* The first n lanes of p (n <= 0: none, n >= 16: all), the others zero; masked, so nothing
 * past p + n is read. */
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_load_n(const float *p, int n)
{
    if (n >= 16)
        return _mm512_loadu_ps(p);
    return _mm512_maskz_loadu_ps(mvk_avx512_mask(n), p);
}

/* Stores the first n lanes of v (n <= 0: none, n >= 16: all). */
static MVK_INLINE MVK_AVX512 void mvk_vf_store_n(float *p, mvk_vf v, int n)
{
    if (n >= 16)
        _mm512_storeu_ps(p, v);
    else if (n > 0)
        _mm512_mask_storeu_ps(p, mvk_avx512_mask(n), v);
}

/* v with the lanes from n (0..16) on set to zero. */
static MVK_INLINE MVK_AVX512 mvk_vf mvk_vf_keep_n(mvk_vf v, int n)
{
    return _mm512_maskz_mov_ps(mvk_avx512_mask(n), v);
}

/* The lanes' sum, added one by one from lane 0. */
static MVK_INLINE MVK_AVX512 float mvk_vf_hsum(mvk_vf v)
{
    float lanes[16], sum = 0.0f;
    _mm512_storeu_ps(lanes, v);
    for (int l = 0; l < 16; l++)
        sum += lanes[l];
    return sum;
}

/* The largest of the n scalars s[0..n) and v's lanes, or -3.4e38 (the scalars first). */
static MVK_INLINE MVK_AVX512 float mvk_vf_hmax_tail(mvk_vf v, const float *s, int n)
{
    float m = -3.4e38f, lanes[16];
    for (int j = 0; j < n; j++)
        m = s[j] > m ? s[j] : m;
    _mm512_storeu_ps(lanes, v);
    for (int l = 0; l < 16; l++)
        m = lanes[l] > m ? lanes[l] : m;
    return m;
}

/* The GEMM epilogue of one vector: + residual, activation, store of the first n lanes. */
static MVK_INLINE MVK_AVX512 void mvk_vf_store_act(float *c, mvk_vf v, int n, const float *res,
                                                   int act)
{
    mvk_avx512_store16(c, v, n, res, act);
}

#endif
