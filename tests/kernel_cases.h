/* The one table of the kernel tests (tests/kernel_check.c runs it for each ISA): a row per
 * kernel under test and its scalar twin (the kernel named without its ISA suffix, its type
 * checked by the compiler), the check that runs one case, the shapes (every combination of
 * the GRID's axes, or a LIST), the tolerance (the largest |kernel - twin| relative to
 * max(1, max |twin|); 0 for every int8 kernel: byte for byte), and .ext where an ISA
 * extension (AVX-VNNI, the ARM dot product) changes the kernel: the build with it runs that
 * row again. A new kernel: a row here (and a check in kernel_check.c if its signature is
 * new); a new ISA: its section at the top of kernel_check.c. The shapes sit around the tiles:
 * the GEMM tile's row and column tails (6x16, 12x32), K blocks, channel counts not a multiple of 4, 8
 * or 16, strides and padding, the MobileViT unfold / fold with and without a resize
 * (tests/remap_cases.h), odd token counts. fp32: 2e-6 (FMA and the summation order differ
 * from the scalar kernels); Winograd against the direct conv: 1e-5 (its transforms add and
 * scale up to 36 terms). */

/* the cache-blocked GEMM: {M, K, N, mc, kc}, partial sums across K blocks, bias first,
 * residual + SiLU last */
#define BLOCKED_SHAPES                                                                         \
    LIST({13, 100, 33, 6, 32}, {7, 17, 16, 12, 5}, {30, 64, 20, 18, 64}, {1, 9, 1, 6, 4},      \
         {5, 3, 7, 6, 2})
/* {H, W, Ca, Cb, Cout, SiLU, residual} */
#define WINOGRAD_SHAPES                                                                        \
    LIST({1, 1, 1, 0, 1, 0, 0},                                                                \
         {5, 7, 3, 0, 9, 1, 0},     /* maps not a multiple of 4, one panel */                  \
         {8, 8, 16, 0, 16, 1, 1},   /* residual + SiLU */                                      \
         {6, 10, 20, 0, 33, 1, 0},  /* three panels, the last of one column */                 \
         {20, 17, 8, 0, 16, 0, 1},  /* 25 tiles: blocks of 12, 12 and 1 */                     \
         {9, 5, 13, 11, 17, 1, 0},  /* concat with channel tails on both sides */              \
         {8, 8, 48, 48, 48, 1, 0},  /* XXS fusion conv shape */                                \
         {7, 9, 5, 0, 6, 1, 1},     /* 1-lane input tail, 2-lane output tail */                \
         {13, 11, 10, 0, 7, 0, 1},  /* 12 tiles: one full block */                             \
         {12, 15, 2, 3, 19, 1, 1},  /* concat 2 + 3, 3-lane tail of a 2nd panel */             \
         {17, 18, 6, 7, 35, 1, 0},  /* 25 tiles, three panels, 3-lane last panel */            \
         {4, 26, 9, 1, 10, 1, 1},   /* one tile row of 7, concat of one channel */             \
         {26, 3, 1, 6, 3, 0, 0},    /* one tile column, cout below one vector */               \
         {16, 16, 24, 0, 14, 1, 1}) /* 16 tiles: blocks of 12 and 4 */

static const kc_row kc_rows[] = {
    // ---- fp32 GEMM
    /* the microkernel alone: {mr, nr, K}, every row and column tail */
    {KERNEL(mvk_f32_gemm_ukernel_rows, f32_ukernel_fn), REFERENCE("a loop over the sums"),
     .check = check_f32_ukernel, .tol = 2e-6,
     GRID(AX(KC_UK_ROWS), AX(KC_UK_COLS), AX(1, 9))},
    /* {M, N, K}: M around the 6-row tile, N around the 16-column panels */
    {KERNEL(mvk_f32_gemm, f32_gemm_fn), TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin),
     .check = check_f32_gemm, .tol = 2e-6,
     GRID(AX(1, 5, 6, 7, 13), AX(1, 7, 8, 15, 16, 17, 33), AX(1, 3, 17, 64))},
    {KERNEL(mvk_f32_gemm_cols, f32_gemm_cols_fn), TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin),
     .check = check_f32_gemm_cols, .tol = 2e-6,
     GRID(AX(1, 5, 6, 7, 13), AX(1, 7, 8, 15, 16, 17, 33), AX(1, 3, 17, 64))},
    /* A rows through the unfold / fold maps (param 1: {remap case}), resized maps blended */
    {KERNEL(mvk_f32_gemm_rows, f32_gemm_rows_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_rows,
     .tol = 2e-6, .param = 1, GRID(UPTO(NUM_REMAP_CASES))},
    {KERNEL(mvk_f32_gemm_blocked_rows, f32_gemm_blocked_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_blocked,
     .tol = 2e-6, .param = 1, GRID(UPTO(NUM_REMAP_CASES))},
    {KERNEL(mvk_f32_gemm_blocked_rows, f32_gemm_blocked_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_blocked, .tol = 2e-6,
     BLOCKED_SHAPES},
    /* a fused LayerNorm: each (source) row normalised, then blended; through the remaps and
     * on the blocked shapes */
    {KERNEL(mvk_f32_gemm_rows, f32_gemm_rows_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_rows_norm,
     .tol = 2e-6, .param = 1, GRID(UPTO(NUM_REMAP_CASES))},
    {KERNEL(mvk_f32_gemm_rows, f32_gemm_rows_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_rows_norm,
     .tol = 2e-6, BLOCKED_SHAPES},
    {KERNEL(mvk_f32_gemm_blocked_rows, f32_gemm_blocked_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_blocked_norm,
     .tol = 2e-6, .param = 1, GRID(UPTO(NUM_REMAP_CASES))},
    {KERNEL(mvk_f32_gemm_blocked_rows, f32_gemm_blocked_fn),
     TWIN(mvk_f32_gemm_rows__scalar, f32_gemm_twin), .check = check_f32_gemm_blocked_norm,
     .tol = 2e-6, BLOCKED_SHAPES},

    // ---- fp32 convolutions
    /* {H, W, Cin, Cout, k, stride, SiLU, residual} */
    {KERNEL(mvk_f32_conv2d_im2col, f32_im2col_fn), TWIN(mvk_f32_conv2d__scalar, f32_conv_twin),
     .check = check_f32_im2col, .tol = 2e-6,
     LIST({1, 1, 1, 1, 3, 1, 0, 0},
          {9, 7, 3, 16, 3, 2, 1, 0},  /* stem */
          {8, 8, 17, 9, 3, 1, 1, 1},  /* odd channels, residual */
          {5, 6, 20, 33, 3, 1, 1, 0}, /* fusion-like, N past two panels */
          {7, 7, 4, 5, 5, 2, 0, 1})},
    /* the fused concat: {H, W, Ca, Cb, Cout, mc, kc}; kc 40: K blocks not a multiple of C */
    {KERNEL(mvk_f32_conv2d_im2col_rows, f32_im2col_rows_fn),
     TWIN(mvk_f32_conv2d__scalar, f32_conv_twin), .check = check_f32_im2col_rows,
     .tol = 2e-6,
     LIST({4, 4, 3, 5, 7, 6, 0}, {4, 4, 3, 5, 7, 12, 40},
          {8, 6, 48, 48, 48, 6, 0}, /* XXS fusion conv shape */
          {8, 6, 48, 48, 48, 12, 40})},
    {KERNEL(mvk_f32_conv3x3_winograd, f32_winograd_fn),
     TWIN(mvk_f32_conv2d__scalar, f32_conv_twin), .check = check_f32_winograd,
     .tol = 1e-5, WINOGRAD_SHAPES},
    {KERNEL(mvk_f32_conv3x3_winograd_rows, f32_winograd_rows_fn),
     TWIN(mvk_f32_conv2d__scalar, f32_conv_twin), .check = check_f32_winograd_rows,
     .tol = 1e-5, WINOGRAD_SHAPES},
    /* {H, W, C, k, stride, SiLU, residual} */
    {KERNEL(mvk_f32_dwconv, f32_dwconv_fn), TWIN(mvk_f32_dwconv__scalar, f32_dwconv_fn),
     .check = check_f32_dwconv, .tol = 2e-6,
     LIST({1, 1, 1, 3, 1, 0, 0}, {7, 9, 5, 3, 2, 1, 0}, {8, 8, 32, 3, 1, 1, 1},
          {6, 5, 33, 3, 2, 0, 1}, {5, 5, 12, 5, 1, 1, 0},
          {9, 11, 24, 3, 1, 1, 1}, /* 3x3 fast path: interior and borders, all full blocks */
          {10, 9, 40, 3, 2, 1, 0},
          /* quads of interior outputs: wide rows, channel tails (20 = 16 + 4, 7, 3) */
          {5, 14, 20, 3, 1, 1, 1}, {6, 21, 16, 3, 2, 1, 1}, {7, 26, 44, 3, 2, 0, 0},
          {4, 2, 8, 3, 1, 1, 0}, {6, 13, 7, 3, 1, 1, 1}, {5, 17, 3, 3, 2, 0, 1})},

    // ---- fp32 attention and vector math
    /* {P, N, heads, head width} */
    {KERNEL(mvk_f32_attention, f32_attention_fn),
     TWIN(mvk_f32_attention__scalar, f32_attention_fn), .check = check_f32_attention,
     .tol = 2e-6,
     LIST({1, 1, 1, 1},
          {4, 16, 4, 16}, /* XXS 64x64 stage 3 */
          {4, 4, 4, 20},
          {2, 37, 4, 24}, /* N past two key panels, not a multiple of 6 */
          {1, 64, 4, 36}, /* S: hd 36 spans three V panels */
          {1, 7, 3, 60}, {3, 5, 2, 3})},
    /* {pixels, C, affine}: vector tails of the map and of the channels, one or more blocks of
       the partial sums (MVK_GN_BLOCK 1024 values) */
    {KERNEL(mvk_f32_groupnorm, f32_groupnorm_fn),
     TWIN(mvk_f32_groupnorm__scalar, f32_groupnorm_fn), .check = check_f32_groupnorm,
     .tol = 4e-6, GRID(AX(1, 3, 16, 64, 1025), AX(1, 3, 8, 20, 64), AX(0, 1))},
    {.kernel = "exp and silu (" KC_ISA_STR " vectors)", REFERENCE("mvk_expf, mvk_silu"),
     .check = check_exp_silu, .tol = 4e-7, GRID(UPTO(1))},
#if defined(KC_HAS_TAIL_HELPERS)
    {.kernel = "mvk_neon_load4 / mvk_neon_store_n", REFERENCE("memcpy of n lanes"),
     .check = check_tail_helpers, GRID(AX(1, 2, 3))},
#endif
    {.kernel = "mvk_idiv", REFERENCE("integer division"), .check = check_idiv, GRID(UPTO(2))},

    // ---- int8 (zero tolerance)
    /* {M, N, K, data mode, variant}, two grids. The first: M around the 4-row (AVX-VNNI,
     * NEON), 8-row and 12-row (AVX-512) tiles, full and cut short; N around the 8- and
     * 16-column panels and the 32-column tiles of AVX-512 (48: one panel left), 145: a
     * second chunk of requantisation constants (128 columns at a time), 64 and 160: chunks of
     * whole 32-byte vectors; K 12 and 27: A rows prepared 8 + 4 and 16 + 8 + 3 bytes at a
     * time (a 3x3x3 stem), 256: one chunk of 64 groups (vpmaddwd), 260: two, the second of
     * one group; 1728: chunks of 64 (vpmaddwd) or 128 groups (vpdpbusd) with a tail. The
     * second: M 32, one block of MVK_I8_GEMM_ROWS rows (NEON), 33 and 70 more; K 22: the
     * 8-wide sdot loop's tails (4, 1-3 and both). */
    {KERNEL(mvk_i8_gemm, i8_gemm_fn), TWIN(mvk_i8_gemm__scalar, i8_gemm_fn),
     .check = check_i8_gemm, .done = done_i8_gemm, .ext = 1,
     GRID(AX(1, 2, 5, 6, 7, 8, 12, 13, 17, 25), AX(1, 7, 8, 15, 16, 17, 32, 33, 48, 64, 145, 160),
          AX(1, 3, 12, 16, 17, 27, 64, 256, 260, 1728), UPTO(MODES), UPTO(3))},
    {KERNEL(mvk_i8_gemm, i8_gemm_fn), TWIN(mvk_i8_gemm__scalar, i8_gemm_fn),
     .check = check_i8_gemm, .done = done_i8_gemm, .param = 1, .ext = 1,
     GRID(AX(1, 5, 6, 7, 13, 32, 33, 70), AX(1, 7, 8, 15, 16, 17, 33),
          AX(1, 3, 12, 16, 17, 22, 64, 1728), UPTO(MODES), UPTO(2))},
    /* the classifier: {case} of classifier_shape's grid (kernel_check.c) */
    {KERNEL(mvk_i8_gemm_f32out, i8_gemm_f32out_fn),
     TWIN(mvk_i8_gemm_f32out__scalar, i8_gemm_f32out_fn), .check = check_i8_gemm_f32out, .ext = 1,
     GRID(UPTO(CLASSIFIER_CASES))},
    /* .ext: the SiLU table on vpermi2b in an AVX512-VBMI build */
    {KERNEL(mvk_i8_dwconv, i8_dwconv_fn), TWIN(mvk_i8_dwconv__scalar, i8_dwconv_fn),
     .check = check_i8_dwconv, .done = done_saturated, .param = 0, .ext = 1, GRID(UPTO(600))},
    {KERNEL(mvk_i8_dwconv, i8_dwconv_fn), TWIN(mvk_i8_dwconv__scalar, i8_dwconv_fn),
     .check = check_i8_dwconv, .done = done_saturated, .param = 1, .ext = 1, GRID(UPTO(900))},
    /* {head width, N, mode}: around the vector widths (odd, < 8, not multiples of 8 or 16) */
    {KERNEL(mvk_i8_attention, i8_attention_fn), TWIN(mvk_i8_attention__scalar, i8_attention_fn),
     .check = check_i8_attention, .done = done_i8_attention, .ext = 1,
     GRID(AX(1, 2, 7, 8, 15, 16, 17, 20, 24, 30, 36, 60),
          AX(1, 2, 3, 7, 8, 9, 16, 17, 24, 64, 257), UPTO(5))},
    {KERNEL(mvk_i8_layernorm, i8_layernorm_fn), TWIN(mvk_i8_layernorm__scalar, i8_layernorm_fn),
     .check = check_i8_layernorm, .done = done_i8_layernorm, GRID(UPTO(3000))},
    {KERNEL(mvk_i8_groupnorm, i8_groupnorm_fn), TWIN(mvk_i8_groupnorm__scalar, i8_groupnorm_fn),
     .check = check_i8_groupnorm, .done = done_i8_layernorm, GRID(UPTO(600))},
#if !defined(KC_I8_AVX512_SET)
    /* {case}: random lengths, multipliers and shifts, two generators (param) */
    {KERNEL(mvk_i8_add, i8_add_fn), TWIN(mvk_i8_add__scalar, i8_add_fn), .check = check_i8_add,
     .done = done_saturated, .param = 0, GRID(UPTO(4000))},
    {KERNEL(mvk_i8_add, i8_add_fn), TWIN(mvk_i8_add__scalar, i8_add_fn), .check = check_i8_add,
     .done = done_saturated, .param = 1, GRID(UPTO(4000))},
    {KERNEL(mvk_i8_concat, i8_concat_fn), TWIN(mvk_i8_concat__scalar, i8_concat_fn),
     .check = check_i8_concat, .param = 0, GRID(UPTO(600))},
    {KERNEL(mvk_i8_concat, i8_concat_fn), TWIN(mvk_i8_concat__scalar, i8_concat_fn),
     .check = check_i8_concat, .param = 1, GRID(UPTO(1200))},
    {KERNEL(mvk_i8_linear_attention, i8_linear_attention_fn),
     TWIN(mvk_i8_linear_attention__scalar, i8_linear_attention_fn),
     .check = check_i8_linear_attention, GRID(UPTO(1500))},
    {KERNEL(mvk_i8_quantize, i8_quantize_fn), TWIN(mvk_i8_quantize__scalar, i8_quantize_fn),
     .check = check_i8_quantize, .done = done_i8_quantize, GRID(UPTO(QUANTIZE_CASES))},
#if defined(KC_HAS_LUT32)
    {.kernel = "mvk_i8_avx2_lut32", REFERENCE("the table"), .check = check_lut32,
     GRID(UPTO(300))},
#endif
#endif
};
