/* Scratch bytes per task of the SIMD int8 attention kernels (i8-attention-<isa>.c), the one
 * definition the compiler's memory plan (lower_int8.c), the kernels' layout and the unit tests
 * share: K in t pairs [hd/2][n8][2] int16, V in key pairs [n8/2][hd8][2] int16, then for the
 * block of MVIT_I8_ATT_ROWS query rows the scores (int32), probabilities (int16) and query
 * pairs (int32). Plain C: the compiler includes it too. */
#ifndef MVK_I8_ATTENTION_SCRATCH_H
#define MVK_I8_ATTENTION_SCRATCH_H

#include <stdint.h>

#define MVK_I8_ATT_ROWS 4

static inline int64_t mvk_i8_attention_scratch_simd(int64_t n, int64_t hd)
{
    const int64_t n8 = (n + 7) / 8 * 8, hp = (hd + 1) / 2, hd8 = (hd + 7) / 8 * 8;
    return hp * n8 * 4 + n8 * hd8 * 2 + MVK_I8_ATT_ROWS * (n8 * 4 + n8 * 2 + hp * 4);
}

#endif
