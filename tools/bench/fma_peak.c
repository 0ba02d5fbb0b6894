/* Measured fp32 FMA peak of one core: 12 independent chains of 256-bit FMAs (enough to cover
 * the FMA latency on every AVX2 core), no memory traffic. Prints GMAC/s (8 MACs per FMA), the
 * best of 5 runs, so bench.py's "% peak" uses the clock the core really runs at (boost
 * included) rather than the nominal 'cpu MHz'. x86-64 only.
 *
 * With the argument int8: the int8 kernels' multiply-accumulate instead, vpmaddwd (16 int16
 * products summed in pairs) + vpaddd into 10 independent accumulators: 16 MACs per pair, the
 * ceiling of the AVX2 int8 GEMM, attention and depthwise kernels (kernels/i8-*-avx2.c).
 * With vnni: AVX-VNNI's vpdpbusd (32 u8 x s8 products added into 8 int32 lanes) into 10
 * independent accumulators, the ceiling of the GEMM's inner loop when the generated file is
 * built with -mavxvnni (needs a CPU with AVX-VNNI).
 *
 * With zmm: 512-bit FMAs (24 chains, 16 MACs each), the avx512 target's ceiling (AVX-512F).
 * With znni: AVX512-VNNI's vpdpbusd on zmm (64 products into 16 lanes) into 24 independent
 * accumulators, the ceiling of the avx512 target's int8 GEMM built with -mavx512vnni.
 *
 *   cc -O2 fma_peak.c -o fma_peak && ./fma_peak [int8|vnni|zmm|znni] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define FMA(r) "vfmadd231ps %%ymm14, %%ymm15, %%ymm" #r "\n"

static void fma_loop(long iters)
{
    __asm__ volatile("vxorps %%ymm14, %%ymm14, %%ymm14\n"
                     "vxorps %%ymm15, %%ymm15, %%ymm15\n"
                     "1:\n" FMA(0) FMA(1) FMA(2) FMA(3) FMA(4) FMA(5) FMA(6) FMA(7) FMA(8)
                         FMA(9) FMA(10) FMA(11) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(iters)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");
}

#define MADD(r, t)                                                                             \
    "vpmaddwd %%ymm14, %%ymm15, %%ymm" #t "\n"                                                 \
    "vpaddd %%ymm" #t ", %%ymm" #r ", %%ymm" #r "\n"

static void madd_loop(long iters)
{
    __asm__ volatile("vpxor %%ymm14, %%ymm14, %%ymm14\n"
                     "vpxor %%ymm15, %%ymm15, %%ymm15\n"
                     "1:\n" MADD(0, 10) MADD(1, 11) MADD(2, 12) MADD(3, 13) MADD(4, 10)
                         MADD(5, 11) MADD(6, 12) MADD(7, 13) MADD(8, 10) MADD(9, 11) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(iters)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc");
}

#define DPBUSD(r) "%{vex%} vpdpbusd %%ymm14, %%ymm15, %%ymm" #r "\n"

static void dpbusd_loop(long iters)
{
    __asm__ volatile("vpxor %%ymm14, %%ymm14, %%ymm14\n"
                     "vpxor %%ymm15, %%ymm15, %%ymm15\n"
                     "1:\n" DPBUSD(0) DPBUSD(1) DPBUSD(2) DPBUSD(3) DPBUSD(4) DPBUSD(5) DPBUSD(6)
                         DPBUSD(7) DPBUSD(8) DPBUSD(9) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(iters)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm14", "xmm15", "cc");
}

#define FMA512(r) "vfmadd231ps %%zmm30, %%zmm31, %%zmm" #r "\n"

/* 512-bit FMAs: 24 independent chains (two pipes x latency 4 needs 8; the 32 registers allow
 * more), 16 MACs each: the avx512 target's ceiling (needs AVX-512F). */
__attribute__((target("avx512f"))) static void fma512_loop(long iters)
{
    __asm__ volatile("vxorps %%zmm30, %%zmm30, %%zmm30\n"
                     "vxorps %%zmm31, %%zmm31, %%zmm31\n"
                     "1:\n" FMA512(0) FMA512(1) FMA512(2) FMA512(3) FMA512(4) FMA512(5) FMA512(6)
                         FMA512(7) FMA512(8) FMA512(9) FMA512(10) FMA512(11) FMA512(12)
                             FMA512(13) FMA512(14) FMA512(15) FMA512(16) FMA512(17) FMA512(18)
                                 FMA512(19) FMA512(20) FMA512(21) FMA512(22) FMA512(23) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(iters)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",
                       "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30",
                       "xmm31", "cc");
}

#define DPBUSD512(r) "vpdpbusd %%zmm30, %%zmm31, %%zmm" #r "\n"

__attribute__((target("avx512f,avx512vnni"))) static void dpbusd512_loop(long iters)
{
    __asm__ volatile("vpxord %%zmm30, %%zmm30, %%zmm30\n"
                     "vpxord %%zmm31, %%zmm31, %%zmm31\n"
                     "1:\n" DPBUSD512(0) DPBUSD512(1) DPBUSD512(2) DPBUSD512(3) DPBUSD512(4)
                         DPBUSD512(5) DPBUSD512(6) DPBUSD512(7) DPBUSD512(8) DPBUSD512(9)
                             DPBUSD512(10) DPBUSD512(11) DPBUSD512(12) DPBUSD512(13)
                                 DPBUSD512(14) DPBUSD512(15) DPBUSD512(16) DPBUSD512(17)
                                     DPBUSD512(18) DPBUSD512(19) DPBUSD512(20) DPBUSD512(21)
                                         DPBUSD512(22) DPBUSD512(23) "dec %0\n"
                     "jnz 1b\n"
                     "vzeroupper\n"
                     : "+r"(iters)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16",
                       "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30",
                       "xmm31", "cc");
}

int main(int argc, char **argv)
{
    const int int8 = argc > 1 && argv[1][0] == 'i', vnni = argc > 1 && argv[1][0] == 'v';
    const int zmm = argc > 1 && argv[1][0] == 'z' && argv[1][1] == 'm';
    const int znni = argc > 1 && argv[1][0] == 'z' && argv[1][1] == 'n';
    const long iters = 100000000;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        const double t0 = now();
        if (znni)
            dpbusd512_loop(iters);
        else if (zmm)
            fma512_loop(iters);
        else if (vnni)
            dpbusd_loop(iters);
        else if (int8)
            madd_loop(iters);
        else
            fma_loop(iters);
        const double t = now() - t0;
        best = t < best ? t : best;
    }
    const double macs = znni   ? 24.0 * 64.0 /* per iteration */
                        : zmm  ? 24.0 * 16.0
                        : vnni ? 10.0 * 32.0
                        : int8 ? 10.0 * 16.0
                               : 12.0 * 8.0;
    printf("%.2f\n", iters * macs / best * 1e-9);
    return 0;
}
