/* The driver of MobileViT's multi-head attention, written once for every ISA
 * (docs/architecture.md, "Kernels: one driver, per-ISA microkernels"): per patch position and
 * head, K^T and V are packed into 16-column GEMM panels in scratch, then for each block of
 * MVK_GEMM_MR queries S = Q K^T (the ISA's GEMM microkernel), a row softmax of scale*S (vector
 * exp), and O = S V (same microkernel), so scores never exceed MVK_GEMM_MR rows. qkv tokens
 * [P][N][3D] (q | k | v), out [P][N][D]. Scratch floats:
 * MVK_ISA_FN(mvk_f32_attention_scratch)(n, hd).
 * Included by f32-attention-<isa>.c; needs the ISA's f32-gemm-<MR>x<NR>-<isa>.c before it. */

/* the driver's helpers, one set per ISA the file is instantiated for */
#define mvk_attention_pack_kt MVK_ISA_HELPER(attention_pack_kt)
#define mvk_attention_pack_v MVK_ISA_HELPER(attention_pack_v)

#define MVK_ATTN_NPAD(n) (((n) + 15) / 16 * 16)

static inline MVK_UNUSED int64_t MVK_ISA_FN(mvk_f32_attention_scratch)(int n, int hd)
{
    const int64_t hdpad = (hd + 15) / 16 * 16;
    return (int64_t)MVK_ATTN_NPAD(n) * hd + hdpad * n + MVK_GEMM_MR * (int64_t)MVK_ATTN_NPAD(n);
}

/* Unnormalised softmax of scale * s over n scores, in place: s = exp(scale * (s - max)).
 * Returns 1 / sum; the caller scales the (much shorter) output row instead of the n scores. */
static inline MVK_UNUSED MVK_ISA float MVK_ISA_HELPER(softmax_row)(float *s, int n, float scale)
{
    enum { L = MVK_VF_LANES };
    mvk_vf mx = mvk_vf_dup(-3.4e38f);
    int j = 0;
    for (; j + L <= n; j += L)
        mx = mvk_vf_max(mx, mvk_vf_load(s + j));
    const float m = mvk_vf_hmax_tail(mx, s + j, n - j);
    const mvk_vf vscale = mvk_vf_dup(scale), vshift = mvk_vf_dup(-m * scale);
    mvk_vf sum = mvk_vf_zero();
    for (j = 0; j + L <= n; j += L) {
        const mvk_vf e = mvk_vf_exp(mvk_vf_fma(vshift, mvk_vf_load(s + j), vscale));
        sum = mvk_vf_add(sum, e);
        mvk_vf_store(s + j, e);
    }
    if (j < n) { /* the zeros loaded past n would add exp(shift): mask them out of the sum */
        const mvk_vf e = mvk_vf_keep_n(
            mvk_vf_exp(mvk_vf_fma(vshift, mvk_vf_load_n(s + j, n - j), vscale)), n - j);
        sum = mvk_vf_add(sum, e);
        mvk_vf_store_n(s + j, e, n - j);
    }
    return 1.0f / mvk_vf_hsum(sum);
}

/* K^T of one head as GEMM panels [npad/16][hd][16]: key j is column j % 16 of panel j / 16,
 * keys past n are zero columns. k points at key 0's hd values, rows `row` floats apart. */
static inline MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
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

/* V of one head as GEMM panels [hdpad/16][n][16], columns past hd zero (tail loads: nothing
 * past a token's hd values is read). */
static inline MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
mvk_attention_pack_v(float *MVK_RESTRICT vp, const float *MVK_RESTRICT v, int64_t row, int n,
                     int hd, int hdpad)
{
    for (int t0 = 0; t0 < hdpad; t0 += 16) {
        const int cols = hd - t0;
        float *panel = vp + (int64_t)t0 * n;
        for (int j = 0; j < n; j++) {
            const float *vj = v + (int64_t)j * row + t0;
            for (int q = 0; q < 16; q += MVK_VF_LANES)
                mvk_vf_store(panel + j * 16 + q, mvk_vf_load_n(vj + q, cols - q));
        }
    }
}

static MVK_UNUSED MVK_ISA MVK_NOLIBCALL void
MVK_ISA_FN(mvk_f32_attention_heads)(int64_t job0, int64_t job1, const mvk_attention *pa,
                                    const float *MVK_RESTRICT qkv, float *MVK_RESTRICT out,
                                    float *MVK_RESTRICT scratch)
{
    const int n = pa->tokens, d = pa->dim, heads = pa->heads;
    const float scale = pa->scale;
    const int hd = mvk_idiv(d, heads), npad = MVK_ATTN_NPAD(n);
    const int hdpad = (hd + 15) / 16 * 16;
    const int64_t row = 3 * (int64_t)d;
    float *kt = scratch;                          /* [npad/16][hd][16] */
    float *vp = kt + (int64_t)npad * hd;          /* [hdpad/16][n][16] */
    float *s = vp + (int64_t)hdpad * n;           /* [MR][npad] */
    for (int64_t job = job0; job < job1; job++) { /* job = patch position * heads + head */
        const int pi = mvk_idiv((int)job, heads), h = (int)job - pi * heads;
        const float *base = qkv + (int64_t)pi * n * row;
        mvk_attention_pack_kt(kt, base + d + h * hd, row, n, npad, hd);
        mvk_attention_pack_v(vp, base + 2 * d + h * hd, row, n, hd, hdpad);
        for (int i0 = 0; i0 < n; i0 += MVK_GEMM_MR) {
            const int mr = n - i0 < MVK_GEMM_MR ? n - i0 : MVK_GEMM_MR;
            for (int j = 0; j < n; j += MVK_GEMM_NR) {
                const int nr = n - j < MVK_GEMM_NR ? n - j : MVK_GEMM_NR;
                MVK_ISA_FN(mvk_f32_gemm_ukernel)
                (mr, nr, hd, base + i0 * row + h * hd, row, kt + (int64_t)j * hd,
                 (int64_t)16 * hd, 0, s + j, npad, 0, 0, MVK_ACT_NONE);
            }
            float inv[MVK_GEMM_MR];
            for (int r = 0; r < mr; r++)
                inv[r] = MVK_ISA_HELPER(softmax_row)(s + (int64_t)r * npad, n, scale);
            float *o = out + ((int64_t)pi * n + i0) * d + h * hd;
            for (int j = 0; j < hd; j += MVK_GEMM_NR) {
                const int nr = hd - j < MVK_GEMM_NR ? hd - j : MVK_GEMM_NR;
                MVK_ISA_FN(mvk_f32_gemm_ukernel)
                (mr, nr, n, s, npad, vp + (int64_t)j * n, (int64_t)16 * n, 0, o + j, d, 0, 0,
                 MVK_ACT_NONE);
            }
            for (int r = 0; r < mr; r++)
                for (int t = 0; t < hd; t++)
                    o[(int64_t)r * d + t] *= inv[r];
        }
    }
}

static MVK_UNUSED MVK_ISA void MVK_ISA_FN(mvk_f32_attention)(const mvk_attention *pa,
                                                             const float *MVK_RESTRICT qkv,
                                                             float *MVK_RESTRICT out,
                                                             float *MVK_RESTRICT scratch)
{
    MVK_ISA_FN(mvk_f32_attention_heads)
    (0, (int64_t)pa->positions * pa->heads, pa, qkv, out, scratch);
}
