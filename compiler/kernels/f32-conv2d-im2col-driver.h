/* The driver of the dense 2-D convolution (groups = 1) as implicit GEMM, written once for
 * every ISA (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"): output pixels
 * are the GEMM rows, K = k*k*C_in runs over (ky, kx, c) like the HWIO weights, which are packed
 * like any GEMM B ([N/16][K][16]). Blocked as the cache-blocked GEMM: for each block of mc
 * pixels and kc values of K, the receptive fields are gathered into scratch [mc][kc] (zeros
 * where the window leaves the map) and every 16-column panel slice of B is applied to it from
 * L1 by the ISA's MVK_ISA_FN(mvk_f32_gemm_ukernel_rows). mc and kc come from the
 * compiler's cost model; scratch is mc * kc floats. With in_b the input is the channel
 * concatenation [in (cin) | in_b (cin_b)] gathered from both maps (fused concat). Included by
 * f32-conv2d-im2col-<isa>.c; needs the ISA's f32-gemm-<MR>x<NR>-<isa>.c before it. */

/* the driver's helpers, one set per ISA the file is instantiated for */
#define mvk_im2col_field MVK_ISA_HELPER(im2col_field)
#define mvk_im2col_span MVK_ISA_HELPER(im2col_span)

/* dst[0..n) = src[0..n) (src NULL: zeros), a vector at a time; the tail through
 * mvk_vf_load_n / mvk_vf_store_n, so nothing past src + n is read. */
static inline MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
MVK_ISA_HELPER(copy_floats)(float *MVK_RESTRICT dst, const float *MVK_RESTRICT src, int n)
{
    int i = 0;
    if (!src) {
        const mvk_vf z = mvk_vf_zero();
        for (; i + MVK_VF_LANES <= n; i += MVK_VF_LANES)
            mvk_vf_store(dst + i, z);
        mvk_vf_store_n(dst + i, z, n - i);
        return;
    }
    for (; i + MVK_VF_LANES <= n; i += MVK_VF_LANES)
        mvk_vf_store(dst + i, mvk_vf_load(src + i));
    mvk_vf_store_n(dst + i, mvk_vf_load_n(src + i, n - i), n - i);
}

/* The whole receptive field of the output pixel whose window starts at (iy0, ix0): row by
 * row, and a row whose k pixels are all inside the map is one contiguous run of k*cin floats
 * in NHWC (single input). */
static inline MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
mvk_im2col_field(float *MVK_RESTRICT dst, const float *MVK_RESTRICT in,
                 const float *MVK_RESTRICT in_b, int h, int w, int cin, int cin_b, int k, int iy0,
                 int ix0)
{
    const int ci = cin + cin_b;
    const int row_inside = ix0 >= 0 && ix0 + k <= w;
    for (int ky = 0; ky < k; ky++) {
        const int iy = iy0 + ky;
        if (iy < 0 || iy >= h) {
            MVK_ISA_HELPER(copy_floats)(dst, 0, k * ci);
            dst += k * ci;
            continue;
        }
        if (row_inside && !cin_b) {
            MVK_ISA_HELPER(copy_floats)(dst, in + ((int64_t)iy * w + ix0) * cin, k * cin);
            dst += k * cin;
            continue;
        }
        for (int kx = 0; kx < k; kx++) {
            const int ix = ix0 + kx;
            const int64_t pix = (int64_t)iy * w + ix;
            const int inside = ix >= 0 && ix < w;
            MVK_ISA_HELPER(copy_floats)(dst, inside ? in + pix * cin : 0, cin);
            dst += cin;
            if (cin_b) {
                MVK_ISA_HELPER(copy_floats)(dst, inside ? in_b + pix * cin_b : 0, cin_b);
                dst += cin_b;
            }
        }
    }
}

/* Gathers K values [kb, kb + kn) of output pixel (oy, ox)'s receptive field into dst (divisions
 * through mvk_idiv: no division call on 32-bit ARM). */
static inline MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
mvk_im2col_span(float *MVK_RESTRICT dst, const float *MVK_RESTRICT in,
                const float *MVK_RESTRICT in_b, int h, int w, int cin, int cin_b, int k, int stride,
                int pad, int oy, int ox, int kb, int kn)
{
    const int ci = cin + cin_b;
    if (kb == 0 && kn == k * k * ci) {
        mvk_im2col_field(dst, in, in_b, h, w, cin, cin_b, k, oy * stride - pad, ox * stride - pad);
        return;
    }
    for (int kk = kb; kk < kb + kn;) {
        const int tap = mvk_idiv(kk, ci), c0 = kk - tap * ci;
        const int c1 = ci - c0 < kb + kn - kk ? ci : c0 + (kb + kn - kk);
        const int ty = mvk_idiv(tap, k);
        const int iy = oy * stride - pad + ty, ix = ox * stride - pad + (tap - ty * k);
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
            for (int c = c0; c < c1; c++)
                *dst++ = 0.0f;
        } else {
            const int64_t pix = (int64_t)iy * w + ix;
            for (int c = c0; c < c1; c++)
                *dst++ = c < cin ? in[pix * cin + c] : in_b[pix * cin_b + c - cin];
        }
        kk += c1 - c0;
    }
}

static MVK_UNUSED MVK_ISA MVK_NOLIBCALL void MVK_ISA_FN(mvk_f32_conv2d_im2col_rows)(
    int64_t m0, int64_t m1, const mvk_conv2d *p, const float *MVK_RESTRICT in,
    const float *MVK_RESTRICT in_b, float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
    const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual,
    float *MVK_RESTRICT scratch)
{
    const int h = p->in_h, w = p->in_w, cin = p->in_c, cin_b = p->in_c_b, ow = p->out_w;
    const int cout = p->out_c, k = p->kernel, stride = p->stride, pad = p->pad, act = p->act;
    const int mc = p->mc, kc = p->kc;
    const int kk = k * k * (cin + cin_b);
    enum { MR = MVK_GEMM_MR, NR = MVK_GEMM_NR };
    const float *rows[MR];
    for (int64_t mb = m0; mb < m1; mb += mc) {
        const int64_t me = m1 - mb < mc ? m1 : mb + mc;
        for (int kb = 0; kb < kk; kb += kc) {
            const int kn = kk - kb < kc ? kk - kb : kc;
            const int first = kb == 0, last = kb + kn == kk;
            for (int64_t m = mb; m < me; m++) {
                const int oy = mvk_idiv((int)m, ow), ox = (int)m - oy * ow;
                mvk_im2col_span(scratch + (m - mb) * kn, in, in_b, h, w, cin, cin_b, k, stride, pad,
                                oy, ox, kb, kn);
            }
            for (int j = 0; j < cout; j += NR) {
                const int nr = cout - j < NR ? cout - j : NR;
                const float *bp = w_packed + (int64_t)j * kk + (int64_t)kb * 16;
                for (int64_t i = mb; i < me; i += MR) {
                    const int mr = me - i < MR ? (int)(me - i) : MR;
                    for (int r = 0; r < MR; r++)
                        rows[r] = scratch + (i - mb + (r < mr ? r : mr - 1)) * kn;
                    MVK_ISA_FN(mvk_f32_gemm_ukernel_rows)
                    (mr, nr, kn, rows, bp, (int64_t)16 * kk, first && bias ? bias + j : 0,
                     out + i * cout + j, cout, last && residual ? residual + i * cout + j : 0,
                     cout, last ? act : MVK_ACT_NONE, !first);
                }
            }
        }
    }
}

/* Whole-layer form with an unblocked schedule (MR rows, all of K; p's mc and kc unused):
 * scratch MR * K floats. */
static MVK_UNUSED MVK_ISA void MVK_ISA_FN(mvk_f32_conv2d_im2col)(
    const mvk_conv2d *p, const float *MVK_RESTRICT in, const float *MVK_RESTRICT in_b,
    float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
    const float *MVK_RESTRICT residual, float *MVK_RESTRICT scratch)
{
    mvk_conv2d whole = *p;
    whole.mc = MVK_GEMM_MR;
    whole.kc = p->kernel * p->kernel * (p->in_c + p->in_c_b);
    MVK_ISA_FN(mvk_f32_conv2d_im2col_rows)
    (0, (int64_t)p->out_h * p->out_w, &whole, in, in_b, out, w_packed, bias, residual, scratch);
}
