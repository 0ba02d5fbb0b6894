/* The driver of the depthwise convolution, NHWC, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"): MVK_VF_LANES channels
 * per vector, mvk_vf_load_n / mvk_vf_store_n for the channel tail. Weights packed [k*k][C8]
 * and bias [C8] with C8 = C rounded up to MVK_DW_CPAD (zero padding: 8, 16 on AVX-512), so
 * weight loads are aligned and never need a tail. 3x3 windows with stride 1 or 2 compute
 * interior outputs in quads with the ISA's microkernel, channel blocks innermost:
 *   MVK_ISA_FN(mvk_f32_dw3x3_quad)(x, rs, c, wp, c8, b, stride, o, res, act)
 * four horizontally adjacent outputs of one vector of channels, then their epilogue into o
 * (pixels c floats apart); borders, the channel tail and other kernel sizes take a
 * bounds-checked window. Included by f32-dwconv-<isa>.c after that microkernel. */

/* the driver's helpers, one set per ISA the file is instantiated for */
#define mvk_dw_window MVK_ISA_HELPER(dw_window)
#define mvk_dw3x3_row_interior MVK_ISA_HELPER(dw3x3_row_interior)
#define mvk_dw_pixel_checked MVK_ISA_HELPER(dw_pixel_checked)

/* One output vector (channels c0.., n valid) of a k x k window with bounds checks (borders,
 * and any k). */
static inline MVK_UNUSED MVK_ISA mvk_vf mvk_dw_window(const float *MVK_RESTRICT in,
                                                      const float *MVK_RESTRICT wp, mvk_vf acc,
                                                      int h, int w, int c, int c8, int c0, int n,
                                                      int k, int iy0, int ix0)
{
    for (int ky = 0; ky < k; ky++) {
        const int iy = iy0 + ky;
        if (iy < 0 || iy >= h)
            continue;
        for (int kx = 0; kx < k; kx++) {
            const int ix = ix0 + kx;
            if (ix < 0 || ix >= w)
                continue;
            const float *x = in + ((int64_t)iy * w + ix) * c + c0;
            acc = mvk_vf_fma(acc, mvk_vf_load_n(x, n), mvk_vf_load_a(wp + (ky * k + kx) * c8 + c0));
        }
    }
    return acc;
}

/* Interior run [ox0, ox1) of an output row whose 3 input rows are all inside the map, in
 * quads of outputs, channel blocks innermost so every access walks memory forward (a
 * channel-outer order re-fetches each input line once per vector of channels). */
static MVK_INLINE MVK_ISA void
mvk_dw3x3_row_interior(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                       const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                       const float *MVK_RESTRICT residual, int w, int c, int c8, int ow, int stride,
                       int pad, int act, int64_t oy, int iy0, int ox0, int ox1)
{
    const int64_t rs = (int64_t)w * c;
    for (int ox = ox0; ox + 4 <= ox1; ox += 4) {
        const float *x = in + ((int64_t)iy0 * w + ox * stride - pad) * c;
        const int64_t opix = oy * ow + ox;
        for (int c0 = 0; c0 + MVK_VF_LANES <= c; c0 += MVK_VF_LANES) {
            const mvk_vf b = bias ? mvk_vf_load_a(bias + c0) : mvk_vf_zero();
            float *o = out + opix * c + c0;
            const float *r = residual ? residual + opix * c + c0 : 0;
            if (stride == 1)
                MVK_ISA_FN(mvk_f32_dw3x3_quad)(x + c0, rs, c, w_packed + c0, c8, b, 1, o, r, act);
            else
                MVK_ISA_FN(mvk_f32_dw3x3_quad)(x + c0, rs, c, w_packed + c0, c8, b, 2, o, r, act);
        }
    }
}

/* One output pixel, channel blocks from c_from on, through the bounds-checked window
 * (borders, tails, kernel sizes other than 3). */
static MVK_INLINE MVK_ISA void
mvk_dw_pixel_checked(const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                     const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                     const float *MVK_RESTRICT residual, int h, int w, int c, int c8, int ow, int k,
                     int stride, int pad, int act, int64_t oy, int ox, int c_from)
{
    const int64_t opix = oy * ow + ox;
    for (int c0 = c_from; c0 < c; c0 += MVK_VF_LANES) {
        const int n = c - c0 < MVK_VF_LANES ? c - c0 : MVK_VF_LANES;
        const mvk_vf b = bias ? mvk_vf_load_a(bias + c0) : mvk_vf_zero();
        const mvk_vf acc = mvk_dw_window(in, w_packed, b, h, w, c, c8, c0, n, k,
                                         (int)oy * stride - pad, ox * stride - pad);
        mvk_vf_store_act(out + opix * c + c0, acc, n, residual ? residual + opix * c + c0 : 0, act);
    }
}

/* Output rows [row0, row1). 3x3 windows with stride 1 or 2 take the quad path on interior
 * pixels (full channel blocks); border pixels, the channel tail and other shapes take the
 * checked path. */
static MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_dwconv_rows)(int64_t row0, int64_t row1, const mvk_conv2d *p,
                                const float *MVK_RESTRICT in, float *MVK_RESTRICT out,
                                const float *MVK_RESTRICT w_packed, const float *MVK_RESTRICT bias,
                                const float *MVK_RESTRICT residual)
{
    const int h = p->in_h, w = p->in_w, c = p->in_c, ow = p->out_w, k = p->kernel;
    const int stride = p->stride, pad = p->pad, act = p->act;
    const int c8 = (c + MVK_DW_CPAD - 1) / MVK_DW_CPAD * MVK_DW_CPAD;
    const int cfull = c / MVK_VF_LANES * MVK_VF_LANES;
    const int fast = k == 3 && (stride == 1 || stride == 2) && cfull > 0;
    /* interior columns: ox with ox*stride - pad >= 0 and ox*stride - pad + 3 <= w */
    int ox0 = mvk_idiv(pad + stride - 1, stride);
    int ox1 = w + pad < 3 ? 0 : mvk_idiv(w + pad - 3, stride) + 1;
    if (ox1 > ow)
        ox1 = ow;
    if (ox0 > ox1)
        ox0 = ox1;
    const int quad_end = ox0 + (ox1 - ox0) / 4 * 4;
    for (int64_t oy = row0; oy < row1; oy++) {
        const int iy0 = (int)oy * stride - pad;
        if (!fast || iy0 < 0 || iy0 + 3 > h) {
            for (int ox = 0; ox < ow; ox++)
                mvk_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k, stride,
                                     pad, act, oy, ox, 0);
            continue;
        }
        mvk_dw3x3_row_interior(in, out, w_packed, bias, residual, w, c, c8, ow, stride, pad, act,
                               oy, iy0, ox0, quad_end);
        for (int ox = 0; ox < ow; ox++) {
            const int in_quads = ox >= ox0 && ox < quad_end;
            mvk_dw_pixel_checked(in, out, w_packed, bias, residual, h, w, c, c8, ow, k, stride, pad,
                                 act, oy, ox, in_quads ? cfull : 0);
        }
    }
}

static MVK_UNUSED MVK_ISA void
MVK_ISA_FN(mvk_f32_dwconv)(const mvk_conv2d *p, const float *MVK_RESTRICT in,
                           float *MVK_RESTRICT out, const float *MVK_RESTRICT w_packed,
                           const float *MVK_RESTRICT bias, const float *MVK_RESTRICT residual)
{
    MVK_ISA_FN(mvk_f32_dwconv_rows)(0, p->out_h, p, in, out, w_packed, bias, residual);
}
