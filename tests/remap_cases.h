/* MobileViT unfold/fold remaps for the kernel tests (the scalar, AVX2 and NEON tests share
 * them): a block's map, its patch and the patch grid (the map rounded up to whole patches);
 * where the two differ, the bilinear taps by PyTorch's rule (upsample_bilinear2d with
 * align_corners=False: src = max(0, (dst + 0.5) * in / out - 0.5), i1 = min(i0 + 1, in - 1)),
 * written here independently of the compiler's mvit_bilinear_taps. */
#ifndef MVIT_TESTS_REMAP_CASES_H
#define MVIT_TESTS_REMAP_CASES_H

#include <math.h>

#include "kernels/mvk-prelude.h"

typedef struct remap_case {
    int kind, mh, mw, ph, pw; /* MVK_REMAP_*, the block's map, the patch */
    int k, n;                 /* GEMM: K (channels of A), N */
} remap_case;

static const remap_case remap_cases[] = {
    /* whole patches: index maps only */
    {MVK_REMAP_UNFOLD, 4, 6, 2, 2, 5, 17},
    {MVK_REMAP_FOLD, 4, 6, 2, 2, 9, 8},
    {MVK_REMAP_UNFOLD, 6, 3, 3, 1, 3, 16},
    {MVK_REMAP_FOLD, 8, 8, 2, 4, 7, 33},
    {MVK_REMAP_UNFOLD, 10, 6, 2, 3, 4, 7},
    /* resized: up one row/column (7 -> 8), a 1x1 map (a 32x32 input's last block), both
     * axes, one axis only, and a patch of 4 */
    {MVK_REMAP_UNFOLD, 7, 7, 2, 2, 5, 17},
    {MVK_REMAP_FOLD, 7, 7, 2, 2, 9, 8},
    {MVK_REMAP_UNFOLD, 1, 1, 2, 2, 3, 16},
    {MVK_REMAP_FOLD, 1, 1, 2, 2, 7, 33},
    {MVK_REMAP_UNFOLD, 9, 13, 2, 3, 6, 19},
    {MVK_REMAP_FOLD, 9, 13, 2, 3, 8, 20},
    {MVK_REMAP_UNFOLD, 8, 5, 2, 2, 16, 16},
    {MVK_REMAP_FOLD, 5, 3, 4, 2, 11, 7},
};
#define NUM_REMAP_CASES ((int)(sizeof remap_cases / sizeof remap_cases[0]))

/* Taps of a resize from src to dst along one axis, in float as aten computes them. */
static void remap_case_taps(int src, int dst, mvk_lerp *t)
{
    const float scale = (float)src / (float)dst;
    for (int i = 0; i < dst; i++) {
        float x = src == dst ? (float)i : ((float)i + 0.5f) * scale - 0.5f;
        if (x < 0.0f)
            x = 0.0f;
        t[i].i0 = (int32_t)x;
        t[i].i1 = t[i].i0 + 1 < src && src != dst ? t[i].i0 + 1 : t[i].i0;
        t[i].l1 = x - (float)t[i].i0;
        t[i].l0 = 1.0f - t[i].l1;
        t[i].q1 = (int32_t)lround(t[i].l1 * 2048.0);
        t[i].q0 = 2048 - t[i].q1;
    }
}

/* The remap of case c; ty and tx hold 64 taps each. Returns A's rows (the source's). */
static int64_t remap_case_make(const remap_case *c, mvk_remap *rm, mvk_lerp *ty, mvk_lerp *tx)
{
    rm->kind = c->kind;
    rm->ph = c->ph, rm->pw = c->pw;
    rm->mh = c->mh, rm->mw = c->mw;
    rm->gh = (c->mh + c->ph - 1) / c->ph * c->ph;
    rm->gw = (c->mw + c->pw - 1) / c->pw * c->pw;
    rm->ty = rm->tx = 0;
    if (rm->gh != rm->mh || rm->gw != rm->mw) {
        const int unfold = c->kind == MVK_REMAP_UNFOLD;
        remap_case_taps(unfold ? rm->mh : rm->gh, unfold ? rm->gh : rm->mh, ty);
        remap_case_taps(unfold ? rm->mw : rm->gw, unfold ? rm->gw : rm->mw, tx);
        rm->ty = ty, rm->tx = tx;
    }
    return c->kind == MVK_REMAP_UNFOLD ? (int64_t)rm->mh * rm->mw : (int64_t)rm->gh * rm->gw;
}

#endif
