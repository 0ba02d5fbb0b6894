/* INT8 reference kernels: exactly the arithmetic of docs/int8.md, in portable C. The AVX2 and
 * NEON kernels (i8-gemm-avx2.c, i8-gemm-neon.c) must give identical bytes; the unit tests
 * compare them with zero tolerance.
 *
 * Requantisation R(a, M, S) = (a * M + 2^(S-1)) >> S, a floor shift, computed in 64 bits
 * without any implementation-defined shift: 2^62 is added first (|a * M| < 2^62 for every
 * int32 a and M < 2^31, so the sum is in [1, 2^63 + 2^61) as uint64_t), the value is shifted
 * as uint64_t, and 2^(62-S) subtracted (exact: 2^62 is a multiple of 2^S). M < 2^31 (the compiler
 * uses [2^14, 2^15)), S in [1, 62]. */
#include "mvk-prelude.h"

/* R(acc, M, S), saturated to the int32 range. The exact value can exceed it (up to ~2^61 for
 * S = 1); every caller adds a zero point in [-128, 127] and clamps to [-128, 127], and for
 * that result the saturation makes no difference. */
static inline MVK_UNUSED int32_t mvk_requant_scalar(int32_t acc, int32_t m, int s)
{
    const int64_t prod = (int64_t)acc * m;
    const uint64_t t = (uint64_t)prod + ((uint64_t)1 << 62) + ((uint64_t)1 << (s - 1));
    const int64_t r = (int64_t)(t >> s) - ((int64_t)1 << (62 - s));
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

/* y = clamp(z + R(acc, M, S), -128, 127): one requantised int8 value. */
static inline MVK_UNUSED int8_t mvk_requant_i8_scalar(int32_t acc, int32_t m, int s, int32_t z)
{
    const int64_t y = (int64_t)z + mvk_requant_scalar(acc, m, s);
    return (int8_t)(y < -128 ? -128 : y > 127 ? 127 : y);
}

/* c[M][N] (int8, row-major) from a[M][K] (int8, row-major) and b[K][N] (int8, row-major, NOT
 * packed: the reference reads the plain layout):
 *   acc = bias[j] + sum_p a[i][p] * b[p][j]                  (int32, exact for K < 131072)
 *   y   = clamp(zy + R(acc, mult[j], shift[j]), -128, 127)
 *   c[i][j] = lut ? lut[y + 128] : y
 * bias may be NULL (zero). With a LUT (the fused SiLU), mult/shift/zy are the parameters of
 * the pre-activation and lut maps its 256 values to the output (docs/int8.md). */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_gemm__scalar(int64_t m, const mvk_gemm *p, const mvk_i8_requant *rq,
                    const int8_t *MVK_RESTRICT a, int8_t *MVK_RESTRICT c,
                    const int8_t *MVK_RESTRICT b)
{
    const int k = p->k, n = p->n;
    MVK_I8_REQUANT_LOCALS(rq);
    for (int64_t i = 0; i < m; i++) {
        const int8_t *ai = a + i * k;
        int8_t *ci = c + i * n;
        for (int j = 0; j < n; j++) {
            int32_t acc = bias ? bias[j] : 0;
            for (int p = 0; p < k; p++)
                acc += (int32_t)ai[p] * b[(int64_t)p * n + j];
            const int8_t y = mvk_requant_i8_scalar(acc, mult[j], shift[j], zy);
            ci[j] = lut ? lut[y + 128] : y;
        }
    }
}

/* Residual add of two int8 tensors of n values (docs/int8.md), common shift s:
 *   y = clamp(zy + R(a - za, ma, s) + R(b - zb, mb, s), -128, 127),
 * each input rescaled and rounded separately. y may alias a or b. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_add__scalar(const mvk_i8_add *p, const int8_t *a,
                                                        const int8_t *b, int8_t *y, int64_t n)
{
    const int32_t za = p->za, ma = p->ma, zb = p->zb, mb = p->mb, s = p->shift, zy = p->zy;
    for (int64_t i = 0; i < n; i++) {
        const int64_t v = (int64_t)zy + mvk_requant_scalar((int32_t)a[i] - za, ma, s) +
                          mvk_requant_scalar((int32_t)b[i] - zb, mb, s);
        y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

static inline MVK_UNUSED int8_t mvk_sat_i8(int64_t v)
{
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

/* floor((v + 2^(s-1)) / 2^s) for |v| < 2^62 and s in [1, 62], without a signed shift. */
static inline MVK_UNUSED int64_t mvk_round_shift_i64(int64_t v, int s)
{
    const uint64_t t = (uint64_t)v + ((uint64_t)1 << 62) + ((uint64_t)1 << (s - 1));
    return (int64_t)(t >> s) - ((int64_t)1 << (62 - s));
}

/* floor(sqrt(v)), bit by bit: no floating point, no division. */
static inline MVK_UNUSED uint64_t mvk_isqrt_u64(uint64_t v)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > v)
        bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

/* floor(a / b) for b > 0: one instruction on x86-64 and AArch64; elsewhere by shift and
 * subtract, as 32-bit ARM has no 64-bit divide instruction and the generated code may not
 * call libgcc's __aeabi_uldivmod. Used once per row. */
static inline MVK_UNUSED uint64_t mvk_udiv_u64(uint64_t a, uint64_t b)
{
#if defined(__x86_64__) || defined(__aarch64__)
    return a / b;
#else
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((a >> i) & 1u);
        if (r >= b) {
            r -= b;
            q |= (uint64_t)1 << i;
        }
    }
    return q;
#endif
}

/* Input quantisation without any float rounding: q = -128 + #{k : x >= t[k]} for the 255
 * ascending thresholds t (the compiler puts them halfway between adjacent levels). A float
 * estimate of the index is corrected by comparisons until it satisfies t[idx-1] <= x < t[idx]:
 * the result depends on the comparisons only, which are exact on every IEEE target, so every
 * target gets the same bytes whatever the estimate (a product and an add could be fused into
 * an FMA on one target and not on another). NaN compares false everywhere and gives -128. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_quantize__scalar(const float *MVK_RESTRICT x,
                                                             int8_t *MVK_RESTRICT q,
                                                             const float *MVK_RESTRICT t, int64_t n)
{
    const float inv = 254.0f / (t[254] - t[0]);
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        float g = (v - t[0]) * inv + 1.0f;
        g = g >= 0.0f ? g : 0.0f; /* also NaN */
        g = g <= 255.0f ? g : 255.0f;
        int idx = (int)g;
        while (idx < 255 && v >= t[idx])
            idx++;
        while (idx > 0 && v < t[idx - 1])
            idx--;
        q[i] = (int8_t)(idx - 128);
    }
}

/* The SIMD input quantisations' margin D + 2^-12, D the thresholds' largest distance from
 * the line t[0] + k / inv, in steps: an estimate (x - t[0]) inv + 1 whose fraction lies at
 * least that far from an integer is exactly the count (proof: i8-quantize-avx2.c). 0 (no
 * fast path) when it is 1/4 or more, or inv is not a finite positive number. The double
 * arithmetic errs by far less than the margin. */
static MVK_INLINE double mvk_i8_q_margin(const float *t, float inv)
{
    if (!(inv > 0.0f && inv < 3.0e38f))
        return 0.0;
    double dev = 0.0;
    for (int k = 1; k < 255; k++) {
        double e = ((double)t[k] - (double)t[0]) * (double)inv - k;
        e = e < 0.0 ? -e : e;
        dev = e > dev || e != e ? e : dev; /* NaN stays NaN and fails the test below */
    }
    const double d = dev + 1.0 / 4096;
    return d < 0.25 ? d : 0.0;
}

/* int8 -> float before a layer kept in float (--keep-fp32): x = (q - z) * s, one exact
 * subtraction and one rounding, the same on every IEEE target. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_dequantize__scalar(const int8_t *MVK_RESTRICT q,
                                                               float *MVK_RESTRICT x, float s,
                                                               int32_t z, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((int32_t)q[i] - z) * s;
}

/* 8-bit pixels through one 256-entry table per channel (P_run_u8: the normalisation and the
 * input quantisation folded into a table by the compiler). */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_pixels__scalar(const mvk_map *p,
                                                           const uint8_t *MVK_RESTRICT px,
                                                           int8_t *MVK_RESTRICT q,
                                                           const int8_t *MVK_RESTRICT lut)
{
    const int64_t pixels = p->pixels;
    const int c = p->c;
    for (int64_t i = 0; i < pixels; i++)
        for (int ch = 0; ch < c; ch++)
            q[i * c + ch] = lut[ch * 256 + px[i * c + ch]];
}

/* Requantises one accumulator of output channel j and applies the optional LUT. */
static inline MVK_UNUSED int8_t mvk_i8_out(int32_t acc, const int16_t *mult, const int8_t *shift,
                                           int j, int32_t zy, const int8_t *lut)
{
    const int8_t y = mvk_requant_i8_scalar(acc, mult[j], shift[j], zy);
    return lut ? lut[y + 128] : y;
}

/* dst[j] = lut(clamp(zy + R(acc[j], mult[j], shift[j]))) for n channels: mvk_i8_out written
 * as straight-line loops over arrays, which compilers vectorise (64-bit products, per-lane
 * shifts), with the table applied in a second pass. */
static inline MVK_UNUSED void mvk_i8_requant_row(const int32_t *MVK_RESTRICT acc,
                                                 int8_t *MVK_RESTRICT dst,
                                                 const int16_t *MVK_RESTRICT mult,
                                                 const int8_t *MVK_RESTRICT shift, int32_t zy,
                                                 const int8_t *MVK_RESTRICT lut, int n)
{
    for (int j = 0; j < n; j++) {
        const int s = shift[j];
        const uint64_t t =
            (uint64_t)((int64_t)acc[j] * mult[j]) + ((uint64_t)1 << 62) + ((uint64_t)1 << (s - 1));
        /* |acc * M| < 2^46 here (M < 2^15), so r fits easily; the clamp gives the int8 */
        const int64_t r = (int64_t)(t >> s) - ((int64_t)1 << (62 - s)) + zy;
        dst[j] = (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
    }
    if (lut)
        for (int j = 0; j < n; j++)
            dst[j] = lut[dst[j] + 128];
}

/* Full convolution, HWC in and out, weight HWIO (groups == 1) or [k][k][cin/groups][cout]
 * with groups; padding reads the input zero point zx (real 0). bias holds the zero-point
 * correction (docs/int8.md), so the sum is over raw values. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_conv2d__scalar(const mvk_conv2d *p, const mvk_i8_requant *rq,
                      const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                      const int8_t *MVK_RESTRICT w, int64_t r0, int64_t r1)
{
    const int h = p->in_h, wd = p->in_w, cin = p->in_c, ow = p->out_w, cout = p->out_c;
    const int k = p->kernel, stride = p->stride, pad = p->pad, groups = p->groups;
    MVK_I8_REQUANT_LOCALS(rq);
    const int cig = mvk_idiv(cin, groups), cog = mvk_idiv(cout, groups);
    for (int64_t oy = r0; oy < r1; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int co = 0; co < cout; co++) {
                const int g = mvk_idiv(co, cog);
                int32_t acc = bias[co];
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const int iy = (int)oy * stride - pad + ky, ix = ox * stride - pad + kx;
                        const int8_t *wk = w + ((int64_t)(ky * k + kx) * cig) * cout + co;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                            for (int ci = 0; ci < cig; ci++)
                                acc += zx * wk[(int64_t)ci * cout];
                            continue;
                        }
                        const int8_t *src = in + ((int64_t)iy * wd + ix) * cin + g * cig;
                        for (int ci = 0; ci < cig; ci++)
                            acc += (int32_t)src[ci] * wk[(int64_t)ci * cout];
                    }
                out[(oy * ow + ox) * cout + co] = mvk_i8_out(acc, mult, shift, co, zy, lut);
            }
}

/* Depthwise convolution (groups == channels), weight [k][k][c]; rows [r0, r1) of the output.
 * Channels innermost, in blocks of 64 int32 accumulators, so the tap loops vectorise. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_dwconv__scalar(const mvk_conv2d *p, const mvk_i8_requant *rq,
                      const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT out,
                      const int8_t *MVK_RESTRICT w, int64_t r0, int64_t r1)
{
    MVK_DWCONV_LOCALS(p);
    MVK_I8_REQUANT_LOCALS(rq);
    int32_t acc[64];
    for (int64_t oy = r0; oy < r1; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int c0 = 0; c0 < c; c0 += 64) {
                const int cb = c - c0 < 64 ? c - c0 : 64;
                for (int ch = 0; ch < cb; ch++)
                    acc[ch] = bias[c0 + ch];
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const int iy = (int)oy * stride - pad + ky, ix = ox * stride - pad + kx;
                        const int8_t *wk = w + (ky * k + kx) * c + c0;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                            for (int ch = 0; ch < cb; ch++)
                                acc[ch] += zx * wk[ch];
                            continue;
                        }
                        const int8_t *src = in + ((int64_t)iy * wd + ix) * c + c0;
                        for (int ch = 0; ch < cb; ch++)
                            acc[ch] += (int32_t)src[ch] * wk[ch];
                    }
                mvk_i8_requant_row(acc, out + (oy * ow + ox) * c + c0, mult + c0, shift + c0, zy,
                                   lut, cb);
            }
}

/* One output row of a full convolution (groups 1) as GEMM rows: row[ox][ky][kx][ci] =
 * in[oy*stride - pad + ky][ox*stride - pad + kx][ci], the zero point zx (real 0) outside. The
 * target's int8 GEMM then multiplies it by the HWIO weight seen as [k*k*cin][cout]. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_im2col_row__scalar(const mvk_conv2d *p, const mvk_i8_requant *rq,
                          const int8_t *MVK_RESTRICT in, int8_t *MVK_RESTRICT row, int64_t oy)
{
    const int h = p->in_h, wd = p->in_w, cin = p->in_c, ow = p->out_w, k = p->kernel;
    const int stride = p->stride, pad = p->pad;
    const int32_t zx = rq->zx;
    for (int ox = 0; ox < ow; ox++)
        for (int ky = 0; ky < k; ky++) {
            const int iy = (int)oy * stride - pad + ky, ix0 = ox * stride - pad;
            if (iy >= 0 && iy < h && ix0 >= 0 && ix0 + k <= wd) {
                /* the window's row inside the image: k pixels, one contiguous run (for a
                 * 3-channel stem, one copy of 9 bytes instead of 3 of 3) */
                const int8_t *src = in + ((int64_t)iy * wd + ix0) * cin;
                int8_t *dst = row + (int64_t)(ox * k + ky) * k * cin;
                for (int i = 0; i < k * cin; i++)
                    dst[i] = src[i];
                continue;
            }
            for (int kx = 0; kx < k; kx++) {
                const int ix = ix0 + kx;
                int8_t *dst = row + ((int64_t)(ox * k + ky) * k + kx) * cin;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                    for (int ci = 0; ci < cin; ci++)
                        dst[ci] = (int8_t)zx;
                    continue;
                }
                const int8_t *src = in + ((int64_t)iy * wd + ix) * cin;
                for (int ci = 0; ci < cin; ci++)
                    dst[ci] = src[ci];
            }
        }
}

/* The classifier: logits[j] = (float)(bias[j] + a . b[:, j]) * scale[j], one int32 product per
 * value and one float multiply, so every IEEE target rounds it the same way. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_gemm_f32out__scalar(const mvk_gemm *p, const int8_t *MVK_RESTRICT a,
                           float *MVK_RESTRICT c, const int8_t *MVK_RESTRICT b,
                           const int32_t *MVK_RESTRICT bias, const float *MVK_RESTRICT scale)
{
    const int64_t m = p->m;
    const int k = p->k, n = p->n;
    for (int64_t i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            int32_t acc = bias[j];
            for (int p = 0; p < k; p++)
                acc += (int32_t)a[i * k + p] * b[(int64_t)p * n + j];
            c[i * n + j] = (float)acc * scale[j];
        }
}

/* A table applied to every value (a SiLU the compiler could not fuse into a producer). */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_lut__scalar(const int8_t *MVK_RESTRICT x,
                                                        int8_t *MVK_RESTRICT y,
                                                        const int8_t *MVK_RESTRICT lut, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = lut[x[i] + 128];
}

/* Channel concatenation [a | b]; each side is requantised to the output's parameters. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_concat__scalar(const mvk_concat *p, const int8_t *MVK_RESTRICT a,
                      const int8_t *MVK_RESTRICT b, int8_t *MVK_RESTRICT out)
{
    const int64_t pixels = p->pixels;
    const int ca = p->ca, cb = p->cb, sa = p->sa, sb = p->sb;
    const int32_t za = p->za, ma = p->ma, zb = p->zb, mb = p->mb, zy = p->zy;
    for (int64_t i = 0; i < pixels; i++) {
        int8_t *o = out + i * (ca + cb);
        for (int ch = 0; ch < ca; ch++)
            o[ch] = mvk_requant_i8_scalar((int32_t)a[i * ca + ch] - za, ma, sa, zy);
        for (int ch = 0; ch < cb; ch++)
            o[ca + ch] = mvk_requant_i8_scalar((int32_t)b[i * cb + ch] - zb, mb, sb, zy);
    }
}

/* c bilinear blends of four source pixels s0..s3 (rows y0, y0, y1, y1; columns x0, x1, x0, x1)
 * with the Q11 weights of ly and lx: the Q22 sum, rounded half up (docs/int8.md). */
static inline MVK_UNUSED void mvk_i8_blend4(const int8_t *s0, const int8_t *s1, const int8_t *s2,
                                            const int8_t *s3, int8_t *dst, int c,
                                            const mvk_lerp *ly, const mvk_lerp *lx)
{
    const int32_t w0 = ly->q0 * lx->q0, w1 = ly->q0 * lx->q1, w2 = ly->q1 * lx->q0,
                  w3 = ly->q1 * lx->q1;
    for (int ch = 0; ch < c; ch++) {
        const int32_t acc = w0 * s0[ch] + w1 * s1[ch] + w2 * s2[ch] + w3 * s3[ch];
        dst[ch] = (int8_t)(((acc + (128 << 22) + (1 << 21)) >> 22) - 128);
    }
}

/* MobileViT unfold / fold on bytes through the same remap as the float kernels. A resized
 * row blends its 4 source bytes with the Q11 weights of both axes (a Q22 weight per source,
 * the 4 summing to exactly 2^22) and rounds half up: y = (sum(wy * wx * q) + 2^21) >> 22
 * (docs/int8.md). The weights sum to one exactly, so the zero point passes through and y
 * stays within its sources' range: scale and zero point are the input's. The shift runs on
 * acc + 128 * 2^22 >= 0, so no negative value is shifted. */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_remap__scalar(const int8_t *MVK_RESTRICT in,
                                                          int8_t *MVK_RESTRICT out, int c,
                                                          const mvk_remap *rm)
{
    const int64_t rows = mvk_remap_rows(rm);
    for (int64_t r = 0; r < rows; r++) {
        int64_t src[4];
        const mvk_lerp *ly = 0, *lx = 0;
        int8_t *dst = out + r * c;
        if (mvk_remap_src(rm, r, src, &ly, &lx) == 1) {
            for (int ch = 0; ch < c; ch++)
                dst[ch] = in[src[0] * c + ch];
            continue;
        }
        mvk_i8_blend4(in + src[0] * c, in + src[1] * c, in + src[2] * c, in + src[3] * c, dst, c,
                      ly, lx);
    }
}

/* Global average pool: y = clamp(zy + R(sum - pixels * zx, M, S)), m = sx / (pixels * sy). */
static MVK_UNUSED MVK_NOLIBCALL void mvk_i8_avgpool__scalar(const mvk_avgpool *p,
                                                            const int8_t *MVK_RESTRICT in,
                                                            int8_t *MVK_RESTRICT out)
{
    const int64_t pixels = p->pixels;
    const int c = p->c, s = p->shift;
    const int32_t zx = p->zx, m = p->mult, zy = p->zy;
    for (int ch = 0; ch < c; ch++) {
        int32_t sum = 0;
        for (int64_t i = 0; i < pixels; i++)
            sum += in[i * c + ch];
        out[ch] = mvk_requant_i8_scalar(sum - (int32_t)pixels * zx, m, s, zy);
    }
}

/* One LayerNorm output, y = clamp(zy + R(R(d * inv, sh) * g[a] + b[a] * 2^16, 32)) with
 * d = c x - sum (below): the portable loop, and the SIMD kernels' last values. */
static inline MVK_UNUSED int8_t mvk_i8_ln_value(int8_t x, int c, int32_t sum, uint64_t inv, int sh,
                                                const int32_t *g, const int32_t *b, int a,
                                                int32_t zy)
{
    const int64_t d = (int64_t)c * x - sum;
    const int64_t n = mvk_round_shift_i64(d * (int64_t)inv, sh);
    return mvk_sat_i8(zy + mvk_round_shift_i64(n * g[a] + (int64_t)b[a] * 65536, 32));
}

/* inv = floor(2^62 / isqrt(V 4^k)) for V = c sumsq - sum^2 + eps_q, with k making V 4^k lie in
 * [2^60, 2^62); 0 (and k 0) for V = 0. */
static inline MVK_UNUSED uint64_t mvk_i8_ln_inv(int64_t c, int32_t sum, int64_t sumsq,
                                                int64_t eps_q, int *k)
{
    const uint64_t v = (uint64_t)(c * sumsq - (int64_t)sum * sum) + (uint64_t)eps_q;
    *k = 0;
    if (!v)
        return 0;
    int bits = 0;
    while (bits < 64 && (v >> bits))
        bits++;
    *k = (62 - bits) >> 1;
    return mvk_udiv_u64((uint64_t)1 << 62, mvk_isqrt_u64(v << (2 * *k)));
}

/* Integer LayerNorm of each row of c values (docs/int8.md):
 *   d_i = c * x_i - sum x                     (the zero point cancels)
 *   V   = c * sum x^2 - (sum x)^2 + eps_q      (eps_q = round(c^2 eps / sx^2), compile time)
 *   n_i = round(d_i * 2^16 / sqrt(V))          (normalised value in Q16)
 *   y_i = clamp(zy + round((n_i * g_i + b_i * 2^16) / 2^32))
 * with g_i = round(gamma_i / sy * 2^16), b_i = round(beta_i / sy * 2^16). sqrt(V) is taken as
 * isqrt(V * 4^k) / 2^k with k making V * 4^k land in [2^60, 2^62), and 1 / that by one
 * integer division per row. g and b hold c values, or one for every channel (per_channel 0:
 * the affine folded into the next layer by the compiler). rows [r0, r1). */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_layernorm__scalar(const mvk_layernorm *p, const int8_t *MVK_RESTRICT in,
                         int8_t *MVK_RESTRICT out, int64_t r0, int64_t r1)
{
    const int32_t *MVK_RESTRICT g = p->gamma_q, *MVK_RESTRICT b = p->beta_q;
    const int per_channel = p->per_channel, c = p->c;
    const int64_t eps_q = p->eps_q;
    const int32_t zy = p->zy;
    for (int64_t r = r0; r < r1; r++) {
        const int8_t *x = in + r * c;
        int8_t *y = out + r * c;
        int32_t sum = 0;
        int64_t sumsq = 0;
        for (int i = 0; i < c; i++) {
            sum += x[i];
            sumsq += (int32_t)x[i] * x[i];
        }
        int k;
        const uint64_t inv = mvk_i8_ln_inv(c, sum, sumsq, eps_q, &k);
        for (int i = 0; i < c; i++)
            y[i] = mvk_i8_ln_value(x[i], c, sum, inv, 46 - k, g, b, per_channel ? i : 0, zy);
    }
}

/* K of one head as raw int8 t quads kq[t/4][j][4], quad rows stride bytes apart, for the
 * keys j < n (kr: key 0's values, row: bytes between keys); the rest (past hd and n) is left
 * to the caller, which zeroes it. The layout of the SIMD attention kernels' dot-product
 * scores (AVX-VNNI vpdpbusd, NEON sdot). */
static MVK_INLINE void mvk_i8_att_pack_quads(const int8_t *kr, int64_t row, int8_t *kq, int n,
                                             int64_t stride, int hd)
{
    const int full = hd / 4;
    for (int j = 0; j < n; j++, kr += row) {
        int8_t *dst = kq + (int64_t)j * 4;
        for (int g = 0; g < full; g++, dst += stride)
            __builtin_memcpy(dst, kr + 4 * g, 4);
        for (int t = 4 * full; t < hd; t++) /* dst: the last quad row */
            dst[t - 4 * full] = kr[t];
    }
}

/* The block's MVK_I8_ATT_ROWS query rows (rows past `rows` repeat the last) as quads of bytes
 * q + 128 (128 past hd: times K's zeros) into qu[r][ceil(hd/4)]: the queries of the
 * dot-product scores (vpdpbusd: u8 x s8), whose key term corrects the + 128. */
static MVK_INLINE void mvk_i8_att_queries_quads(const int8_t *q0, int64_t row, int rows, int hd,
                                                int rows_block, int32_t *qu)
{
    const int g4 = (hd + 3) / 4, full = hd / 4;
    for (int r = 0; r < rows_block; r++) {
        const int8_t *q = q0 + (r < rows ? r : rows - 1) * row;
        for (int g = 0; g < full; g++) {
            uint32_t w;
            __builtin_memcpy(&w, q + 4 * g, 4);
            qu[r * g4 + g] = (int32_t)(w ^ 0x80808080u);
        }
        if (full < g4) {
            uint32_t w = 0;
            for (int i = 0; i < 4; i++) {
                const int t = 4 * full + i;
                w |= (t < hd ? (uint32_t)(uint8_t)q[t] ^ 0x80u : 0x80u) << (8 * i);
            }
            qu[r * g4 + full] = (int32_t)w;
        }
    }
}

/* The smallest d with (d * m + 2^(s-1)) >> s >= 31 * 256, when every d up to it keeps
 * d * m + 2^(s-1) below 2^32 (s <= 19, m > 0); else 0 (the SIMD softmax's 64-bit exponent
 * path). Larger d give 31 * 256 after the clamp as well, so d can be clamped to it first and
 * u computed in 32-bit lanes, exactly. */
static inline MVK_UNUSED uint32_t mvk_i8_att_dmax(int32_t m_sm, int s_sm)
{
    if (m_sm <= 0 || s_sm > 19)
        return 0;
    const uint64_t need = ((uint64_t)31 * 256 << s_sm) - ((uint64_t)1 << (s_sm - 1));
    const uint64_t dmax = (need + (uint64_t)m_sm - 1) / (uint64_t)m_sm;
    /* every d <= dmax: d * m + 2^(s-1) < 2^32 (any m < 2^31; the compiler's are < 2^15) */
    return dmax * (uint64_t)m_sm + ((uint64_t)1 << (s_sm - 1)) < ((uint64_t)1 << 32)
               ? (uint32_t)dmax
               : 0;
}

/* Integer attention (docs/int8.md). qkv: [p][n][3d] int8 with zero point z; out: [p][n][d].
 * Scores a_j = sum_t (q_t - z)(k_jt - z) (int32, exact). Softmax in base 2: u_j =
 * R(max - a_j, m_sm, s_sm) is the exponent in Q8 (m_sm encodes sx^2 log2(e) / sqrt(hd) * 2^8);
 * e_j = exp2_lut[u_j & 255] >> (u_j >> 8), with exp2_lut[f] = round(2^15 * 2^(-f/256));
 * probabilities p_j = round(e_j * 2^47 / sum e / 2^32) in Q15; output acc_t = sum_j p_j
 * (v_jt - z) and y = clamp(zy + R(acc, m_o, s_o)), m_o = sx / (2^15 sy).
 * Work units are (p, head) pairs [r0, r1). For each, K and V of the head are first copied
 * transposed, zero point removed, as int16 [hd][n] into scratch, so that the score and output
 * loops run over j with unit stride and vectorise (every product and sum is an exact
 * integer: any order gives the same bytes). scratch: 2 * hd * n int16 + 2 * n int32. */
static MVK_UNUSED MVK_NOLIBCALL void
mvk_i8_attention__scalar(const mvk_attention *p, const int8_t *MVK_RESTRICT qkv,
                         int8_t *MVK_RESTRICT out, int32_t *MVK_RESTRICT scratch, int64_t r0,
                         int64_t r1)
{
    const int32_t *MVK_RESTRICT exp2_lut = p->exp2_lut;
    const int n = p->tokens, d = p->dim, heads = p->heads, s_sm = p->s_sm, s_o = p->s_o;
    const int32_t z = p->zx, m_sm = p->m_sm, m_o = p->m_o, zy = p->zy;
    const int hd = mvk_idiv(d, heads);
    const int64_t row = 3 * (int64_t)d;
    int32_t *scores = scratch, *probs = scratch + n;
    int16_t *kt = (int16_t *)(scratch + 2 * (int64_t)n), *vt = kt + (int64_t)hd * n;
    for (int64_t u = r0; u < r1; u++) {
        const int pi = mvk_idiv((int)u, heads), h = (int)u - pi * heads;
        const int8_t *base = qkv + (int64_t)pi * n * row;
        for (int j = 0; j < n; j++)
            for (int t = 0; t < hd; t++) {
                kt[(int64_t)t * n + j] = (int16_t)(base[j * row + d + h * hd + t] - z);
                vt[(int64_t)t * n + j] = (int16_t)(base[j * row + 2 * d + h * hd + t] - z);
            }
        for (int i = 0; i < n; i++) {
            const int8_t *q = base + i * row + h * hd;
            for (int j = 0; j < n; j++)
                scores[j] = 0;
            for (int t = 0; t < hd; t++) {
                const int32_t qt = (int32_t)q[t] - z;
                const int16_t *kr = kt + (int64_t)t * n;
                for (int j = 0; j < n; j++)
                    scores[j] += qt * kr[j];
            }
            int32_t best = INT32_MIN;
            for (int j = 0; j < n; j++)
                best = scores[j] > best ? scores[j] : best;
            /* R(best - a_j, m_sm, s_sm) of a non-negative value is the plain unsigned
             * (d * M + 2^(S-1)) >> S; exponents from 31 on give 0 (T[f] < 2^16), so clamping
             * them to 31 * 256 changes nothing and keeps the loop branch-free (it vectorises) */
            const uint64_t rnd = (uint64_t)1 << (s_sm - 1);
            uint64_t total = 0;
            for (int j = 0; j < n; j++) {
                const uint64_t u64 =
                    ((uint64_t)(uint32_t)(best - scores[j]) * (uint32_t)m_sm + rnd) >> s_sm;
                const uint32_t u = u64 < 31 * 256 ? (uint32_t)u64 : 31 * 256;
                probs[j] = exp2_lut[u & 255] >> (u >> 8);
                total += (uint64_t)probs[j];
            }
            /* total >= 2^15 (the maximum's own term), so inv <= 2^32 and p_j <= 2^15 */
            const uint64_t inv = mvk_udiv_u64((uint64_t)1 << 47, total);
            for (int j = 0; j < n; j++)
                probs[j] = (int32_t)(((uint64_t)probs[j] * inv + ((uint64_t)1 << 31)) >> 32);
            int8_t *o = out + ((int64_t)pi * n + i) * d + h * hd;
            for (int t = 0; t < hd; t++) {
                const int16_t *vr = vt + (int64_t)t * n;
                int32_t acc = 0; /* |acc| <= sum p_j * 255 < 2^24 */
                for (int j = 0; j < n; j++)
                    acc += probs[j] * vr[j];
                o[t] = mvk_requant_i8_scalar(acc, m_o, s_o, zy);
            }
        }
    }
}
