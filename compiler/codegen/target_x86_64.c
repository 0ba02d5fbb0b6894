/* The x86-64 target: one file for every x86-64 CPU. It holds the lowerings of three targets,
 * generic (the portable C, which any x86-64 runs: SSE2 is the baseline), avx2 and avx512, and
 * runs the best one the CPU and OS support, chosen once by CPUID and XGETBV (inline assembly:
 * the object stays freestanding, no libgcc's __builtin_cpu_supports). The paths share one
 * arena plan and every constant array their lowerings have in common (the AVX2 and AVX-512
 * GEMM panels, Winograd weights, int8 panels). codegen.c emits the paths' layers and the
 * dispatching entry points; this file supplies the CPU test. */
#include "codegen/codegen.h"

static const mvit_target *const x86_64_paths[] = {&mvit_target_generic, &mvit_target_avx2,
                                                  &mvit_target_avx512, NULL};

/* static int P_cpu_path(void): 2 (avx512) where CPUID reports AVX-512 F, DQ, BW and VL and
 * XCR0 says the OS saves the opmask and zmm state (bits 5-7) besides the ymm state (1-2);
 * 1 (avx2) where it reports AVX, FMA, AVX2 and XCR0 the ymm state; else 0. XGETBV only runs
 * where CPUID.1:ECX.OSXSAVE says it may. */
static void emit_cpu_path(const char *p, mvit_emitter *e)
{
    emit(e, "/* ---- x86-64: the code path this CPU can run */");
    emit(e, "static MVK_NO_SSP void %s_cpuid(unsigned leaf, unsigned sub, unsigned r[4])", p);
    emit_open(e, "{");
    emit(e, "__asm__ __volatile__(\"cpuid\" : \"=a\"(r[0]), \"=b\"(r[1]), \"=c\"(r[2]), "
            "\"=d\"(r[3]) : \"a\"(leaf), \"c\"(sub));");
    emit_close(e, "}");
    emit(e, "%s", "");
    emit(e, "static MVK_NO_SSP int %s_cpu_path(void)", p);
    emit_open(e, "{");
    emit(e, "unsigned r[4], lo, hi, ebx7;");
    emit(e, "%s_cpuid(0, 0, r);", p);
    emit(e, "if (r[0] < 7)");
    emit(e, "    return 0;");
    emit(e, "%s_cpuid(1, 0, r);", p);
    emit(e, "/* ECX: FMA (12), OSXSAVE (27), AVX (28) */");
    emit(e, "if ((r[2] & 0x18001000u) != 0x18001000u)");
    emit(e, "    return 0;");
    emit(e, "__asm__ __volatile__(\"xgetbv\" : \"=a\"(lo), \"=d\"(hi) : \"c\"(0));");
    emit(e, "(void)hi;");
    emit(e, "%s_cpuid(7, 0, r);", p);
    emit(e, "ebx7 = r[1];");
    emit(e, "/* XCR0: SSE and AVX state (1, 2); CPUID.7.0:EBX: AVX2 (5) */");
    emit(e, "if ((lo & 0x6u) != 0x6u || !(ebx7 & 0x20u))");
    emit(e, "    return 0;");
    emit(e, "/* XCR0: opmask, upper zmm0-15, zmm16-31 (5-7); EBX: AVX-512 F (16), DQ (17),");
    emit(e, " * BW (30), VL (31) */");
    emit(e, "if ((lo & 0xe6u) == 0xe6u && (ebx7 & 0xc0030000u) == 0xc0030000u)");
    emit(e, "    return 2;");
    emit(e, "return 1;");
    emit_close(e, "}");
    emit(e, "%s", "");
}

const mvit_target mvit_target_x86_64 = {
    .name = "x86-64",
    .help = "one file for every x86-64 CPU: generic, avx2 and avx512 paths, chosen at run "
            "time by CPUID (or forced); build it without -m flags",
    .arch = "x86-64",
    .triple = "x86_64-linux-gnu",
    .cflags = "",
    /* the build that runs takes the CPU's best path; the tests force the others */
    .builds = {{"x86-64", "clang", "", "", ""}},
    .includes = "#if !defined(__x86_64__)\n"
                "#error \"this file is for x86-64 (its paths use x86 intrinsics and CPUID)\"\n"
                "#endif\n"
                "#include <immintrin.h>",
    .fn_attr = "",
    .paths = x86_64_paths,
    .select_fn = emit_cpu_path,
};
