/* The NEON INT8 kernels against the scalar reference, byte for byte (docs/int8.md: zero
 * tolerance): the residual add, the depthwise convolution, the concat, the LayerNorm, the
 * attention, the classifier and the input quantisation (see test_add, test_dwconv,
 * test_concat, test_layernorm, test_attention, test_classifier, test_quantize), and
 * the GEMM on every M in {1, 5, 6, 7, 13, 32, 33, 70} x N in {1, 7, 8, 15, 16, 17, 33} x
 * K in {1, 3, 12, 16, 17, 22, 64, 1728}, with random and extreme data (all -128 activations against
 * all +-127 weights), with and without bias and LUT, shifts from 1 to 62 (the same case
 * generator as tests/test_kernels_i8.c). A and C end right before an inaccessible page, so a
 * tail that reads or writes past its buffer faults. Cross-compiled for AArch64 and ARMv7 and
 * run under qemu-user by tests/cross_kernels.sh (no Check in the ARM sysroots), for AArch64
 * also with -march=armv8.2-a+dotprod (the sdot path; MVIT_EXPECT_DOTPROD makes sure). Each
 * failure prints the shape, index, expected and actual values; exit status 1. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codegen/pack.h"
#include "kernels/i8-gemm-neon.c"
#include "kernels/i8-scalar.c"
#include "kernels/i8-add-neon.c"
#include "kernels/i8-dwconv-neon.c"
#include "kernels/i8-concat-neon.c"
#include "kernels/i8-layernorm-neon.c"
#include "kernels/i8-attention-neon.c"
#include "kernels/i8-quantize-neon.c"

#if defined(MVIT_EXPECT_DOTPROD) && !defined(__ARM_FEATURE_DOTPROD)
#error "built to test the sdot path, but the compiler flags do not enable the dot product"
#endif
#if defined(__ARM_FEATURE_DOTPROD)
#define DOT "+dotprod (sdot)"
#else
#define DOT " (smlal)"
#endif
#if defined(__aarch64__)
#define ARCH "aarch64" DOT
#else
#define ARCH "armv7" DOT
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static int rint_in(int lo, int hi)
{
    return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1));
}

#include "i8_cases.h"

/* n bytes ending exactly where an inaccessible page begins; freed by unguard */
static int8_t *guarded(int64_t n, void **base_out, size_t *len_out)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)(n > 0 ? n : 1);
    const size_t body = (bytes + page - 1) / page * page;
    char *base = mmap(0, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + body, page, PROT_NONE)) {
        printf("FAIL: cannot map %lld bytes\n", (long long)n);
        exit(1);
    }
    *base_out = base, *len_out = body + page;
    return (int8_t *)(base + body - bytes);
}

/* MODE_TIES: small values and multipliers 2^30, 3 * 2^29 with few fraction bits, so that many
 * products a*M end exactly on a rounding tie (half a unit of the result) */
enum { MODE_RANDOM, MODE_MIN_X_MAX, MODE_MIN_X_NEG, MODE_MIXED_EXTREME, MODE_TIES, MODES };

static int ilog2(int64_t v)
{
    int l = 0;
    while (v > 1)
        v >>= 1, l++;
    return l;
}

static const char *current = "";
static void on_fault(int sig)
{
    printf("FAIL %s (%s): out-of-bounds access (signal %d)\n", current, ARCH, sig);
    fflush(stdout);
    _exit(1);
}

/* The GEMM; returns the number of failed cases. */
static int test_gemm(void)
{
    static char name[128];
    /* M: tails of the 4-row tile; 32: one whole block of MVK_I8_NEON_ROWS rows; 33 and 70: more
     * than one */
    const int ms[] = {1, 5, 6, 7, 13, 32, 33, 70}, ns[] = {1, 7, 8, 15, 16, 17, 33};
    /* K: tails of the 8-wide sdot loop (4, 1-3 and both), one group, many */
    const int ks[] = {1, 3, 12, 16, 17, 22, 64, 1728};
    int cases = 0, failed = 0;
    long long values = 0, sat_lo = 0, sat_hi = 0;
    for (int mi = 0; mi < 8; mi++)
        for (int ni = 0; ni < 7; ni++)
            for (int ki = 0; ki < 8; ki++)
                for (int mode = 0; mode < MODES; mode++)
                    for (int v = 0; v < 2; v++) {
                        const int64_t m = ms[mi];
                        const int k = ks[ki], n = ns[ni], use_bias = (mode + v) & 1, use_lut = v;
                        snprintf(name, sizeof name, "M=%lld K=%d N=%d mode %d bias %d lut %d",
                                 (long long)m, k, n, mode, use_bias, use_lut);
                        current = name;
                        void *abase, *cbase;
                        size_t alen, clen;
                        int8_t *a = guarded(m * k, &abase, &alen);
                        int8_t *got = guarded(m * n, &cbase, &clen);
                        int8_t *b = malloc((size_t)k * n), *want = malloc((size_t)(m * n));
                        int8_t lut[256];
                        int32_t *bias = malloc(4 * (size_t)n);
                        int16_t *mult = malloc(2 * (size_t)n);
                        int8_t *shift = malloc((size_t)n);
                        for (int64_t i = 0; i < m * k; i++)
                            a[i] = mode == MODE_RANDOM          ? (int8_t)rnd32()
                                   : mode == MODE_TIES          ? (int8_t)rint_in(-3, 3)
                                   : mode == MODE_MIXED_EXTREME ? (rnd32() & 1 ? -128 : 127)
                                                                : -128;
                        for (int64_t i = 0; i < (int64_t)k * n; i++)
                            b[i] = mode == MODE_RANDOM      ? (int8_t)rint_in(-127, 127)
                                   : mode == MODE_TIES      ? (int8_t)rint_in(-3, 3)
                                   : mode == MODE_MIN_X_MAX ? 127
                                   : mode == MODE_MIN_X_NEG ? -127
                                                            : (rnd32() & 1 ? -127 : 127);
                        for (int i = 0; i < 256; i++)
                            lut[i] = (int8_t)rnd32();
                        const int amax = ilog2((int64_t)k * 128 * 127) + 1;
                        for (int j = 0; j < n; j++) {
                            bias[j] = rint_in(-(1 << 20), 1 << 20);
                            if (j % 11 == 3)
                                bias[j] = INT32_MAX - 128 * 127 * k - 7;
                            if (j % 11 == 4)
                                bias[j] = INT32_MIN + 128 * 127 * k + 7;
                            mult[j] = (int16_t)((1u << 14) | (rnd32() & 0x3fffu));
                            if (j % 5 == 2)
                                mult[j] = INT16_MAX;
                            int s = 14 + amax - 7 + rint_in(-4, 4);
                            if (j % 7 == 5)
                                s = 1;
                            if (j % 7 == 6)
                                s = 62;
                            if (j % 13 == 12)
                                s = 14 + rint_in(-8, 4);
                            shift[j] = (int8_t)(s < 1 ? 1 : s > 62 ? 62 : s);
                            if (mode == MODE_TIES) {
                                const int t = ilog2(9 * (int64_t)k) - 5;
                                bias[j] = rint_in(-8, 8);
                                mult[j] = (int16_t)(j % 2 ? 3 << 13 : 1 << 14);
                                shift[j] = (int8_t)(15 + (t > 0 ? t : 0) + rint_in(0, 2));
                            }
                        }
                        const int32_t zy = rint_in(-128, 127);
                        const int64_t plen = mvit_pack_i8_b(b, k, n, NULL);
                        int8_t *bp = malloc((size_t)plen);
                        mvit_pack_i8_b(b, k, n, bp);
                        memset(got, 0x5a, (size_t)(m * n));
                        mvk_i8_gemm__scalar(a, want, b, use_bias ? bias : 0, mult, shift, zy,
                                            use_lut ? lut : 0, m, k, n);
                        mvk_i8_gemm__neon(a, got, bp, use_bias ? bias : 0, mult, shift, zy,
                                          use_lut ? lut : 0, m, k, n);
                        int64_t bad = 0, first = -1;
                        for (int64_t i = 0; i < m * n; i++) {
                            if (got[i] != want[i])
                                bad++, first = first < 0 ? i : first;
                            sat_lo += !use_lut && want[i] == -128;
                            sat_hi += !use_lut && want[i] == 127;
                        }
                        values += m * n;
                        if (bad) {
                            failed++;
                            printf("FAIL %s (%s): %lld of %lld bytes differ; [%lld][%lld]: scalar "
                                   "%d, neon %d\n",
                                   name, ARCH, (long long)bad, (long long)(m * n),
                                   (long long)(first / n), (long long)(first % n), want[first],
                                   got[first]);
                        }
                        munmap(abase, alen), munmap(cbase, clen);
                        free(b), free(want), free(bias), free(mult), free(shift), free(bp);
                        cases++;
                    }
    if (sat_lo == 0 || sat_hi == 0) {
        printf("FAIL (%s): the data never reached a saturation bound\n", ARCH);
        failed++;
    }
    printf("gemm (%s): %d cases, %lld bytes compared (%lld / %lld saturated low / high), %d "
           "failed\n",
           ARCH, cases, values, sat_lo, sat_hi, failed);
    return failed;
}

/* The residual add: lengths 0..300 (16-value steps and tails), multipliers of the compiler's
 * range (|m| < 2^15, both signs) and beyond it (the scalar fallback), shifts 1..40 (R = 0
 * past 30), in place (y = a) and not; b ends before an inaccessible page, bytes after y stay. */
static int test_add(void)
{
    static char name[128];
    int failed = 0, cases = 0;
    long long sat = 0;
    for (int t = 0; t < 4000; t++) {
        const int n = rint_in(0, 300), s = rint_in(1, 40), in_place = t & 1;
        const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
        const int32_t ma = t % 10 == 0 ? (int32_t)(rnd32() >> 1) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        const int32_t mb = t % 10 == 5 ? (1 << 15) : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        snprintf(name, sizeof name, "add n=%d s=%d ma=%d mb=%d in place %d", n, s, ma, mb, in_place);
        current = name;
        void *bbase, *ybase;
        size_t blen, ylen;
        int8_t a[300], want[300];
        int8_t *b = guarded(n, &bbase, &blen), *y = guarded(n + 16, &ybase, &ylen);
        for (int i = 0; i < n; i++)
            a[i] = (int8_t)rnd32(), b[i] = (int8_t)rnd32();
        memset(y, 0x5a, (size_t)n + 16);
        mvk_i8_add__scalar(a, za, ma, b, zb, mb, s, want, zy, n);
        if (in_place) {
            memcpy(y, a, (size_t)n);
            mvk_i8_add__neon(y, za, ma, b, zb, mb, s, y, zy, n);
        } else {
            mvk_i8_add__neon(a, za, ma, b, zb, mb, s, y, zy, n);
        }
        int bad = -1;
        for (int i = 0; i < n + 16; i++)
            if (i < n ? y[i] != want[i] : y[i] != 0x5a) {
                bad = i;
                break;
            }
        const int neon_path = ma > -32768 && ma < 32768 && mb > -32768 && mb < 32768;
        for (int i = 0; i + 16 <= n && neon_path; i++) /* the 16-value steps, not the tail */
            sat += want[i] == -128 || want[i] == 127;
        if (bad >= 0) {
            failed++;
            printf("FAIL %s (%s): [%d] scalar %d, neon %d\n", name, ARCH, bad,
                   bad < n ? want[bad] : 0x5a, y[bad]);
        }
        munmap(bbase, blen), munmap(ybase, ylen);
        cases++;
    }
    if (sat == 0) {
        printf("FAIL add (%s): the NEON path never saturated\n", ARCH);
        failed++;
    }
    printf("add (%s): %d cases (%lld saturated values), %d failed\n", ARCH, cases, sat, failed);
    return failed;
}

/* The depthwise convolution: kernels 1, 3, 5, strides 1 and 2, paddings 0..2 (zero point at
 * the borders), channel counts around 8 and 16 (tail blocks read through a copy), with and
 * without the SiLU table, row ranges inside the image, per-channel multipliers of either sign
 * and shifts 1..62; input, weights and output end before an inaccessible page, output bytes
 * outside the rows stay untouched. */
static int test_dwconv(void)
{
    static char name[160];
    const int cs[] = {1, 7, 8, 9, 16, 17, 24, 40, 64};
    int failed = 0, cases = 0;
    long long sat = 0;
    for (int t = 0; t < 900; t++) {
        const int c = cs[t % 9], k = 1 + 2 * (t / 9 % 3), stride = 1 + t / 27 % 2;
        const int pad = t / 54 % 3 < k ? t / 54 % 3 : 0;
        const int h = rint_in(k, 10), wd = rint_in(k, 10);
        const int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        const int use_lut = t % 2, zx = rint_in(-128, 127), zy = rint_in(-30, 30);
        const int64_t r0 = oh > 1 ? rint_in(0, oh - 1) : 0, r1 = rint_in((int)r0 + 1, oh);
        snprintf(name, sizeof name, "dwconv c=%d k=%d stride %d pad %d %dx%d rows [%lld, %lld) lut %d",
                 c, k, stride, pad, h, wd, (long long)r0, (long long)r1, use_lut);
        current = name;
        void *ibase, *wbase;
        size_t ilen, wlen;
        int8_t *in = guarded((int64_t)h * wd * c, &ibase, &ilen);
        int8_t *w = guarded((int64_t)k * k * c, &wbase, &wlen);
        const int64_t len = (int64_t)oh * ow * c;
        void *obase;
        size_t olen;
        int8_t *want = malloc((size_t)len), *got = guarded(len, &obase, &olen), lut[256];
        int32_t bias[64];
        int16_t mult[64];
        int8_t shift[64];
        for (int i = 0; i < h * wd * c; i++)
            in[i] = (int8_t)rnd32();
        for (int i = 0; i < k * k * c; i++)
            w[i] = (int8_t)(t % 5 == 0 ? (rnd32() & 1 ? 127 : -128) : (int8_t)rnd32());
        for (int i = 0; i < c; i++) {
            bias[i] = (int32_t)(rnd32() % 200001) - 100000;
            mult[i] = (int16_t)(t % 3 ? rint_in(1 << 14, (1 << 15) - 1) : (int16_t)rnd32());
            shift[i] = (int8_t)(t % 4 == 0 ? rint_in(1, 62) : rint_in(10, 24));
        }
        for (int i = 0; i < 256; i++)
            lut[i] = (int8_t)rnd32();
        memset(want, 0x3c, (size_t)len);
        memset(got, 0x3c, (size_t)len);
        mvk_i8_dwconv__scalar(in, want, w, bias, mult, shift, zx, zy, use_lut ? lut : 0, h, wd, c,
                              oh, ow, k, stride, pad, r0, r1);
        mvk_i8_dwconv__neon(in, got, w, bias, mult, shift, zx, zy, use_lut ? lut : 0, h, wd, c,
                            oh, ow, k, stride, pad, r0, r1);
        for (int64_t i = 0; i < len; i++) {
            if (got[i] != want[i]) {
                failed++;
                printf("FAIL %s (%s): [%lld] scalar %d, neon %d\n", name, ARCH, (long long)i,
                       want[i], got[i]);
                break;
            }
            sat += !use_lut && (want[i] == -128 || want[i] == 127);
        }
        munmap(ibase, ilen), munmap(wbase, wlen), munmap(obase, olen);
        free(want);
        cases++;
    }
    if (sat == 0) {
        printf("FAIL dwconv (%s): the data never saturated\n", ARCH);
        failed++;
    }
    printf("dwconv (%s): %d cases (%lld saturated values), %d failed\n", ARCH, cases, sat, failed);
    return failed;
}

/* The concat: channel counts around 16 on both sides, multipliers of either sign in the
 * compiler's range and beyond it (the scalar fallback), shifts 1..40 per side; b ends before
 * an inaccessible page, bytes after the output stay. */
static int test_concat(void)
{
    static char name[128];
    const int cs[] = {1, 15, 16, 17, 40, 64};
    int failed = 0, cases = 0;
    long long sat = 0;
    for (int t = 0; t < 1200; t++) {
        const int ca = cs[t % 6], cb = cs[t / 6 % 6], pixels = rint_in(1, 9);
        const int sa = rint_in(1, 40), sb = t % 3 ? sa : rint_in(1, 40);
        const int32_t ma = t % 17 == 0 ? 1 << 20 : rint_in(-(1 << 15) + 1, (1 << 15) - 1);
        const int32_t mb = t % 19 == 0 ? -(1 << 15) : rint_in(1 << 14, (1 << 15) - 1);
        const int za = rint_in(-128, 127), zb = rint_in(-128, 127), zy = rint_in(-128, 127);
        snprintf(name, sizeof name, "concat ca=%d cb=%d pixels %d sa=%d sb=%d ma=%d mb=%d", ca,
                 cb, pixels, sa, sb, ma, mb);
        current = name;
        void *bbase;
        size_t blen;
        int8_t a[9 * 64], want[9 * 128], got[9 * 128 + 16];
        int8_t *b = guarded((int64_t)pixels * cb, &bbase, &blen);
        for (int i = 0; i < pixels * ca; i++)
            a[i] = (int8_t)rnd32();
        for (int i = 0; i < pixels * cb; i++)
            b[i] = (int8_t)rnd32();
        const int len = pixels * (ca + cb);
        const int neon_path = ma > -32768 && ma < 32768 && mb > -32768 && mb < 32768;
        memset(got, 0x5a, sizeof got);
        mvk_i8_concat__scalar(a, b, want, pixels, ca, cb, za, ma, sa, zb, mb, sb, zy);
        mvk_i8_concat__neon(a, b, got, pixels, ca, cb, za, ma, sa, zb, mb, sb, zy);
        int bad = -1;
        for (int i = 0; i < len + 16 && bad < 0; i++)
            if (i < len ? got[i] != want[i] : got[i] != 0x5a)
                bad = i;
        for (int i = 0; i < len && neon_path && ca >= 16; i++)
            sat += want[i] == -128 || want[i] == 127;
        if (bad >= 0) {
            failed++;
            printf("FAIL %s (%s): [%d] scalar %d, neon %d\n", name, ARCH, bad,
                   bad < len ? want[bad] : 0x5a, got[bad]);
        }
        munmap(bbase, blen);
        cases++;
    }
    if (sat == 0) {
        printf("FAIL concat (%s): the NEON path never saturated\n", ARCH);
        failed++;
    }
    printf("concat (%s): %d cases (%lld saturated values), %d failed\n", ARCH, cases, sat,
           failed);
    return failed;
}

/* The LayerNorm, as layernorm_avx2_matches_scalar in tests/test_kernels_i8.c: widths 1..260
 * (odd, past the 8- and 16-value steps), per-channel and shared affine, constant rows
 * (variance from eps only, or 0), variance terms that are powers of 4 (root = 2^30: inv =
 * 2^32), 3 rows per call, input and output ending at an inaccessible page; returns the
 * number of failed cases. */
static int test_layernorm(void)
{
    enum { C = 260, ROWS = 3 };
    static int8_t want[ROWS * C];
    static int32_t g[C], b[C];
    int failed = 0, full_inv = 0;
    current = "layernorm";
    for (int t = 0; t < 3000; t++) {
        const int c = rint_in(1, C), mode = t % 5, per_channel = t % 3 != 0;
        const int spread = mode == 1 || mode == 3 ? 0 : rint_in(0, 127);
        const int base = rint_in(-128, 127 - spread);
        void *xbase, *ybase;
        size_t xlen, ylen;
        int8_t *x = guarded(ROWS * c, &xbase, &xlen), *got = guarded(ROWS * c, &ybase, &ylen);
        for (int i = 0; i < ROWS * c; i++)
            x[i] = (int8_t)(mode == 4 ? (rnd32() & 1 ? 127 : -128) : base + rint_in(0, spread));
        for (int i = 0; i < c; i++) {
            g[i] = (int32_t)(rnd32() % (1u << (8 + t % 20))) - (1 << (7 + t % 20));
            b[i] = (int32_t)(rnd32() % (1u << 24)) - (1 << 23);
        }
        int64_t eps_q = mode == 3 ? 0 : rint_in(0, 100000);
        if (mode == 2) { /* every row as row 0, eps_q making the variance term a power of 4 */
            for (int i = c; i < ROWS * c; i++)
                x[i] = x[i % c];
            int64_t sum = 0, sq = 0, p4 = 1;
            for (int i = 0; i < c; i++)
                sum += x[i], sq += x[i] * x[i];
            while (p4 < (int64_t)c * sq - sum * sum)
                p4 *= 4;
            eps_q = p4 - ((int64_t)c * sq - sum * sum);
            full_inv++; /* v = 4^m: v 4^k = 2^60, root = 2^30, inv = 2^32 */
        }
        const int zy = rint_in(-128, 127);
        mvk_i8_layernorm__scalar(x, want, g, b, per_channel, eps_q, zy, c, 0, ROWS);
        mvk_i8_layernorm__neon(x, got, g, b, per_channel, eps_q, zy, c, 0, ROWS);
        for (int i = 0; i < ROWS * c; i++)
            if (got[i] != want[i]) {
                printf("FAIL layernorm (%s): c=%d mode %d eps %lld [%d]: scalar %d neon %d\n",
                       ARCH, c, mode, (long long)eps_q, i, want[i], got[i]);
                failed++;
                break;
            }
        munmap(xbase, xlen), munmap(ybase, ylen);
    }
    if (full_inv == 0) {
        printf("FAIL layernorm (%s): no row had inv = 2^32\n", ARCH);
        failed++;
    }
    printf("layernorm (%s): 3000 cases (%d with inv = 2^32), %d failed\n", ARCH, full_inv,
           failed);
    return failed;
}

/* The classifier (float logits) against the scalar one bit for bit, the grid of
 * tests/i8_cases.h; A and the logits end at an inaccessible page. */
static int test_classifier(void)
{
    int failed = 0;
    current = "classifier";
    for (int ci = 0; ci < CLASSIFIER_CASES; ci++) {
        int m, k, n;
        classifier_shape(ci, &m, &k, &n);
        void *abase, *cbase;
        size_t alen, clen;
        int8_t *a = guarded((int64_t)m * k, &abase, &alen), *b = malloc((size_t)k * n);
        float *got = (float *)(void *)guarded((int64_t)m * n * 4, &cbase, &clen);
        float *want = malloc((size_t)m * n * 4), *scale = malloc((size_t)n * 4);
        int32_t *bias = malloc((size_t)n * 4);
        int8_t *bp = classifier_data(m, k, n, a, b, bias, scale);
        mvk_i8_gemm_f32out__scalar(a, want, b, bias, scale, m, k, n);
        mvk_i8_gemm_f32out__neon(a, got, bp, bias, scale, m, k, n);
        if (memcmp(want, got, (size_t)m * n * 4)) {
            printf("FAIL classifier (%s): M=%d K=%d N=%d differ\n", ARCH, m, k, n);
            failed++;
        }
        munmap(abase, alen), munmap(cbase, clen);
        free(b), free(want), free(scale), free(bias), free(bp);
    }
    printf("classifier (%s): %d cases, %d failed\n", ARCH, (int)CLASSIFIER_CASES, failed);
    return failed;
}

/* The input quantisation, the cases of tests/i8_cases.h: values end at an inaccessible page
 * and the output is followed by guard bytes. Returns the number of failed cases. */
static int test_quantize(void)
{
    int failed = 0;
    current = "quantize";
    for (int c = 0; c < QUANTIZE_CASES; c++) {
        float th[255], xs[QUANTIZE_MAX_N];
        const int n = quantize_case(c, th, xs);
        void *xbase;
        size_t xlen;
        float *x = (float *)(void *)guarded((int64_t)n * 4, &xbase, &xlen);
        memcpy(x, xs, (size_t)n * 4);
        int8_t want[QUANTIZE_MAX_N], got[QUANTIZE_MAX_N + 16];
        memset(got, 0x5a, sizeof got);
        mvk_i8_quantize__scalar(x, want, th, n);
        mvk_i8_quantize__neon(x, got, th, n);
        int bad = memcmp(want, got, (size_t)n) != 0;
        for (int i = n; i < n + 16; i++)
            bad |= got[i] != 0x5a;
        if (bad) {
            printf("FAIL quantize (%s): case %d (n=%d) differs or wrote past n\n", ARCH, c, n);
            failed++;
        }
        munmap(xbase, xlen);
    }
    printf("quantize (%s): %d cases, %d failed\n", ARCH, (int)QUANTIZE_CASES, failed);
    return failed;
}

/* The attention, as attention_avx2_matches_scalar in tests/test_kernels_i8.c: the grid of
 * tests/i8_cases.h; returns the number of failed cases. */
static int neon_narrow_path(int32_t m_sm, int s_sm)
{
    if (m_sm <= 0 || s_sm > 50) /* the kernel hands these to the scalar one */
        return 0;
    mvk_i8_att_neon_sm c;
    static int32_t lut[256];
    mvk_i8_att_neon_sm_init(&c, lut, m_sm, s_sm);
    return !c.wide;
}

static int test_attention(void)
{
    current = "attention";
    return att_check_all(mvk_i8_attention__neon, ARCH, neon_narrow_path).failed;
}

int main(void)
{
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    const int failed =
        test_gemm() + test_add() + test_dwconv() + test_concat() + test_layernorm() +
        test_attention() + test_classifier() + test_quantize();
    printf("test_kernels_i8_neon (%s): %s\n", ARCH, failed ? "FAILED" : "all passed");
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
