/* MobileViT v2's GroupNorm (one group over an HWC map) for every ISA (docs/architecture.md,
 * "Kernels: one driver, per-ISA microkernels"): the statistics of f32-groupnorm-scalar.c, with
 * each block of MVK_GN_BLOCK values summed in float vectors and the blocks' sums in double (so
 * the error does not grow with the map), then y = (x - mean) * rstd, times gamma[c] plus
 * beta[c] unless the compiler folded the affine into the next 1x1 conv (gamma NULL).
 * Included by f32-groupnorm-<isa>.c. */

#define MVK_GN_BLOCK 1024 /* values per float partial sum */

/* sum of x (shift 0) or of (x - shift)^2 (squares 1) over n values, in float vectors */
static inline MVK_UNUSED MVK_ISA float MVK_ISA_HELPER(gn_block)(const float *x, int n, float shift,
                                                                int squares)
{
    enum { L = MVK_VF_LANES };
    const mvk_vf m = mvk_vf_dup(shift);
    mvk_vf a0 = mvk_vf_zero(), a1 = mvk_vf_zero();
    int i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        const mvk_vf d0 = mvk_vf_sub(mvk_vf_load(x + i), m),
                     d1 = mvk_vf_sub(mvk_vf_load(x + i + L), m);
        a0 = squares ? mvk_vf_fma(a0, d0, d0) : mvk_vf_add(a0, d0);
        a1 = squares ? mvk_vf_fma(a1, d1, d1) : mvk_vf_add(a1, d1);
    }
    for (; i < n; i += L) { /* keep_n: the lanes past n add 0, not (0 - shift)^2 */
        const int k = n - i < L ? n - i : L;
        const mvk_vf d = mvk_vf_keep_n(mvk_vf_sub(mvk_vf_load_n(x + i, k), m), k);
        a0 = squares ? mvk_vf_fma(a0, d, d) : mvk_vf_add(a0, d);
    }
    return mvk_vf_hsum(mvk_vf_add(a0, a1));
}

static inline MVK_UNUSED MVK_ISA double MVK_ISA_HELPER(gn_sum)(const float *x, int64_t n,
                                                               float shift, int squares)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i += MVK_GN_BLOCK)
        s += MVK_ISA_HELPER(gn_block)(x + i, (int)(n - i < MVK_GN_BLOCK ? n - i : MVK_GN_BLOCK),
                                      shift, squares);
    return s;
}

static MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
MVK_ISA_FN(mvk_f32_groupnorm)(const mvk_layernorm *p, const float *MVK_RESTRICT in,
                              float *MVK_RESTRICT out, int64_t pixels)
{
    enum { L = MVK_VF_LANES };
    const int c = p->c;
    const int64_t n = pixels * c;
    const double count = (double)(int32_t)pixels * c; /* as the scalar kernel: no __aeabi_l2d */
    const float mean = (float)(MVK_ISA_HELPER(gn_sum)(in, n, 0.0f, 0) / count);
    const float rstd = (float)mvk_rsqrt(MVK_ISA_HELPER(gn_sum)(in, n, mean, 1) / count + p->eps);
    const mvk_vf vm = mvk_vf_dup(mean), vr = mvk_vf_dup(rstd);
    if (!p->gamma) {
        int64_t i = 0;
        for (; i + L <= n; i += L)
            mvk_vf_store(out + i, mvk_vf_mul(mvk_vf_sub(mvk_vf_load(in + i), vm), vr));
        if (i < n)
            mvk_vf_store_n(out + i,
                           mvk_vf_mul(mvk_vf_sub(mvk_vf_load_n(in + i, (int)(n - i)), vm), vr),
                           (int)(n - i));
        return;
    }
    for (int64_t px = 0; px < pixels; px++) {
        const float *x = in + px * c;
        float *y = out + px * c;
        int ch = 0;
        for (; ch + L <= c; ch += L) {
            const mvk_vf z = mvk_vf_mul(mvk_vf_sub(mvk_vf_load(x + ch), vm), vr);
            mvk_vf_store(y + ch,
                         mvk_vf_fma(mvk_vf_load(p->beta + ch), z, mvk_vf_load(p->gamma + ch)));
        }
        if (ch < c) {
            const int k = c - ch;
            const mvk_vf z = mvk_vf_mul(mvk_vf_sub(mvk_vf_load_n(x + ch, k), vm), vr);
            mvk_vf_store_n(
                y + ch,
                mvk_vf_fma(mvk_vf_load_n(p->beta + ch, k), z, mvk_vf_load_n(p->gamma + ch, k)), k);
        }
    }
}
