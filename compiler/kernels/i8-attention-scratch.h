/* Scratch bytes per task of the SIMD int8 attention kernels (i8-attention-<isa>.c), the one
 * definition the compiler's memory plan (lower_int8.c), the kernels and the unit tests share.
 * The count follows the AVX2 kernel's layout (the NEON kernel lays out K, V and the queries
 * its own way, each within the same bytes; i8-attention-neon.c): K in t pairs [hd/2][n8][2] int16
 * (or, built with AVX-VNNI, in t quads [hd/4][n8][4] int8 in the same place), V in key pairs
 * [n8/2][hd8][2] int16, then for the block of MVK_I8_ATT_ROWS query rows the scores (int32),
 * probabilities (int16) and query pairs (int32), then one int32 per key (the AVX-VNNI scores' key
 * term); n8 and hd8 are n and hd rounded up to 8. Macros only: the compiler includes this file too,
 * and a generated file that pastes it has nothing unused. */
#ifndef MVK_I8_ATTENTION_SCRATCH_H
#define MVK_I8_ATTENTION_SCRATCH_H

#define MVK_I8_ATT_ROWS 4
#define MVK_I8_ATT_UP8(v) (((v) + 7) / 8 * 8)
#define MVK_I8_ATTENTION_SCRATCH_SIMD(n, hd)                                                       \
    (((hd) + 1) / 2 * MVK_I8_ATT_UP8(n) * 4 + MVK_I8_ATT_UP8(n) * MVK_I8_ATT_UP8(hd) * 2 +         \
     MVK_I8_ATT_ROWS * (MVK_I8_ATT_UP8(n) * 6 + ((hd) + 1) / 2 * 4) + MVK_I8_ATT_UP8(n) * 4)

#endif
