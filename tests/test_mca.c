/* Check suite for the llvm-mca loop estimates (compiler/report/mca.c). Small C files are
 * compiled for x86-64 (haswell, AVX2+FMA) and AArch64 (cortex-a76): loops in C whose FMA
 * count is fixed by intrinsics, and loops written as top-level assembly whose MAC lanes and
 * instruction counts follow from the definitions in mca.c. Also checks the failures: no
 * clang, a C file that does not compile, a missing file, an unsupported triple.
 * Needs clang and llvm-mca in PATH; exits 77 (skipped) without them. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/mca.h"

// ---- fixtures

/* Layers 000-004 in C. 000 calls a kernel that is never inlined; 001 runs eight FMAs per
 * iteration by intrinsics; 002 has no loop; 003 is static and called once, so clang inlines
 * it into mca_test_run; 004 gets its kernel inlined. */
static const char *const c_layers =
    "#include <stddef.h>\n"
    "#if defined(__AVX2__) && defined(__FMA__)\n"
    "#include <immintrin.h>\n"
    "#elif defined(__aarch64__)\n"
    "#include <arm_neon.h>\n"
    "#endif\n"
    "\n"
    "__attribute__((noinline)) static void mca_test_saxpy(float *restrict y,\n"
    "    const float *restrict x, float a, long n)\n"
    "{\n"
    "    for (long i = 0; i < n; i++)\n"
    "        y[i] += a * x[i];\n"
    "}\n"
    "\n"
    "void net_layer_000(float *restrict y, const float *restrict x, long n)\n"
    "{\n"
    "    mca_test_saxpy(y, x, 0.5f, n);\n"
    "}\n"
    "\n"
    "void net_layer_001(float *restrict out, const float *restrict a,\n"
    "    const float *restrict b, long n)\n"
    "{\n"
    "#if defined(__AVX2__) && defined(__FMA__)\n"
    "    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,\n"
    "        c6 = c0, c7 = c0;\n"
    "    for (long i = 0; i + 64 <= n; i += 64) {\n"
    "        c0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), c0);\n"
    "        c1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), c1);\n"
    "        c2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), c2);\n"
    "        c3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), c3);\n"
    "        c4 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 32), _mm256_loadu_ps(b + i + 32), c4);\n"
    "        c5 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 40), _mm256_loadu_ps(b + i + 40), c5);\n"
    "        c6 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 48), _mm256_loadu_ps(b + i + 48), c6);\n"
    "        c7 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 56), _mm256_loadu_ps(b + i + 56), c7);\n"
    "    }\n"
    "    c0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),\n"
    "                       _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));\n"
    "    _mm256_storeu_ps(out, c0);\n"
    "#elif defined(__aarch64__)\n"
    "    float32x4_t c0 = vdupq_n_f32(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0,\n"
    "        c6 = c0, c7 = c0;\n"
    "    for (long i = 0; i + 32 <= n; i += 32) {\n"
    "        c0 = vfmaq_f32(c0, vld1q_f32(a + i), vld1q_f32(b + i));\n"
    "        c1 = vfmaq_f32(c1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));\n"
    "        c2 = vfmaq_f32(c2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));\n"
    "        c3 = vfmaq_f32(c3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));\n"
    "        c4 = vfmaq_f32(c4, vld1q_f32(a + i + 16), vld1q_f32(b + i + 16));\n"
    "        c5 = vfmaq_f32(c5, vld1q_f32(a + i + 20), vld1q_f32(b + i + 20));\n"
    "        c6 = vfmaq_f32(c6, vld1q_f32(a + i + 24), vld1q_f32(b + i + 24));\n"
    "        c7 = vfmaq_f32(c7, vld1q_f32(a + i + 28), vld1q_f32(b + i + 28));\n"
    "    }\n"
    "    c0 = vaddq_f32(vaddq_f32(vaddq_f32(c0, c1), vaddq_f32(c2, c3)),\n"
    "                   vaddq_f32(vaddq_f32(c4, c5), vaddq_f32(c6, c7)));\n"
    "    vst1q_f32(out, c0);\n"
    "#else\n"
    "#error \"test_mca needs AVX2+FMA or AArch64\"\n"
    "#endif\n"
    "}\n"
    "\n"
    "float net_layer_002(float a, float b, float c)\n"
    "{\n"
    "    return a * b + c;\n"
    "}\n"
    "\n"
    "static void net_layer_003(float *restrict y, const float *restrict x, long n)\n"
    "{\n"
    "    for (long i = 0; i < n; i++)\n"
    "        y[i] = y[i] * 0.25f + x[i];\n"
    "}\n"
    "\n"
    "void mca_test_run(float *restrict y, const float *restrict x, long n)\n"
    "{\n"
    "    net_layer_003(y, x, n);\n"
    "}\n"
    "\n"
    "__attribute__((always_inline)) static inline void mca_test_scale(float *restrict y,\n"
    "    const float *restrict x, float s, long n)\n"
    "{\n"
    "    for (long i = 0; i < n; i++)\n"
    "        y[i] += s * x[i];\n"
    "}\n"
    "\n"
    "void net_layer_004(float *restrict y, const float *restrict x, long n)\n"
    "{\n"
    "    mca_test_scale(y, x, 3.0f, n);\n"
    "}\n";

/* Layers 005-008 as top-level assembly, one version per architecture:
 * 005: a rotated loop, its body placed before the header that the entry jumps to (2 FMAs);
 * 006: a nest: the inner loop (1 FMA, 4 instructions) must win over the outer one;
 * 007: only a label in .rodata, not a function: no estimate;
 * 008: a multiply feeding an add (a MAC) and a multiply only stored (not a MAC);
 * 009: 2 FMAs around a nested byte-copy loop (a kernel's tail copy): the outer loop is the
 *      work loop, costed without the copy (6 instructions);
 * 010: two loops with one FMA each, 7 and 4 instructions: the shorter is the main loop;
 * 011: the same, the longer one with a scalar multiply-add (address arithmetic) besides: it
 *      does not count against the vector MACs, the shorter loop still wins;
 * 012: a scalar multiply-add around a copy loop: no work loop, the copy loop (5) is costed;
 * 013: 2 FMAs around a loop whose only MAC is a scalar multiply-add: the outer loop wins;
 * 014: a Horner polynomial (4 FMAs, each adding a value made in the same iteration by a
 *      broadcast or a load; an exp in an epilogue) and a loop with 1 accumulating FMA and a
 *      product chained into a second (the work): the second loop wins with 2 MACs.
 * A 200000-character .ascii line in .rodata (between the two halves below) checks that long
 * lines are handled. */
static const char *const asm_layers_x86 =
    "__asm__(\".text\\n"
    ".globl net_layer_005\\n.type net_layer_005,@function\\nnet_layer_005:\\n"
    " xorl %eax, %eax\\n jmp .Lmt5_h\\n"
    ".Lmt5_b:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n vfmadd231ps %ymm1, %ymm3, %ymm4\\n"
    ".Lmt5_h:\\n addq $1, %rax\\n cmpq %rdi, %rax\\n jb .Lmt5_b\\n ret\\n"
    ".globl net_layer_006\\n.type net_layer_006,@function\\nnet_layer_006:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt6_o:\\n xorl %eax, %eax\\n vmulps %ymm5, %ymm6, %ymm7\\n vaddps %ymm7, %ymm8, %ymm8\\n"
    " vfmadd231ps %ymm5, %ymm6, %ymm9\\n vfmadd231ps %ymm5, %ymm6, %ymm10\\n"
    ".Lmt6_i:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n addq $1, %rax\\n cmpq %rdi, %rax\\n"
    " jb .Lmt6_i\\n addq $1, %rcx\\n cmpq %rsi, %rcx\\n jb .Lmt6_o\\n ret\\n"
    ".pushsection .rodata\\nnet_layer_007:\\n .long 1\\n .ascii \\\"";
static const char *const asm_layers_x86_end =
    "\\\"\\n.popsection\\n"
    ".globl net_layer_008\\n.type net_layer_008,@function\\nnet_layer_008:\\n"
    ".Lmt8:\\n vmulps %ymm1, %ymm2, %ymm3\\n vaddps %ymm3, %ymm0, %ymm0\\n"
    " vmulps %ymm4, %ymm5, %ymm6\\n vmovups %ymm6, (%rdi)\\n addq $32, %rdi\\n"
    " cmpq %rsi, %rdi\\n jb .Lmt8\\n ret\\n"
    ".globl net_layer_009\\n.type net_layer_009,@function\\nnet_layer_009:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt9_o:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n vfmadd231ps %ymm3, %ymm4, %ymm5\\n"
    " xorl %eax, %eax\\n"
    ".Lmt9_i:\\n movb (%rdi,%rax), %dl\\n movb %dl, (%rsi,%rax)\\n addq $1, %rax\\n"
    " cmpq %r8, %rax\\n jb .Lmt9_i\\n addq $1, %rcx\\n cmpq %r9, %rcx\\n jb .Lmt9_o\\n ret\\n"
    ".globl net_layer_010\\n.type net_layer_010,@function\\nnet_layer_010:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt10_a:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n movq (%rdi), %rax\\n addq $1, %rax\\n"
    " movq %rax, (%rdi)\\n addq $1, %rcx\\n cmpq %rsi, %rcx\\n jb .Lmt10_a\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt10_b:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n addq $1, %rcx\\n cmpq %rsi, %rcx\\n"
    " jb .Lmt10_b\\n ret\\n"
    ".globl net_layer_011\\n.type net_layer_011,@function\\nnet_layer_011:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt11_a:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n imulq %r8, %rax\\n addq $1, %rcx\\n"
    " cmpq %rsi, %rcx\\n jb .Lmt11_a\\n xorl %ecx, %ecx\\n"
    ".Lmt11_b:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n addq $1, %rcx\\n cmpq %rsi, %rcx\\n"
    " jb .Lmt11_b\\n ret\\n"
    ".globl net_layer_012\\n.type net_layer_012,@function\\nnet_layer_012:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt12_o:\\n imulq %r8, %r10\\n xorl %eax, %eax\\n"
    ".Lmt12_i:\\n movb (%rdi,%rax), %dl\\n movb %dl, (%rsi,%rax)\\n addq $1, %rax\\n"
    " cmpq %r8, %rax\\n jb .Lmt12_i\\n addq $1, %rcx\\n cmpq %r9, %rcx\\n jb .Lmt12_o\\n ret\\n"
    ".globl net_layer_013\\n.type net_layer_013,@function\\nnet_layer_013:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt13_o:\\n vfmadd231ps %ymm1, %ymm2, %ymm0\\n vfmadd231ps %ymm3, %ymm4, %ymm5\\n"
    " xorl %eax, %eax\\n"
    ".Lmt13_i:\\n imulq %r8, %r10\\n movb %r10b, (%rsi,%rax)\\n addq $1, %rax\\n"
    " cmpq %r8, %rax\\n jb .Lmt13_i\\n addq $1, %rcx\\n cmpq %r9, %rcx\\n jb .Lmt13_o\\n "
    "ret\\n"
    ".globl net_layer_014\\n.type net_layer_014,@function\\nnet_layer_014:\\n"
    " xorl %ecx, %ecx\\n"
    ".Lmt14_a:\\n vmovups (%rdi), %ymm1\\n vbroadcastss (%rdx), %ymm2\\n"
    " vfmadd213ps %ymm2, %ymm1, %ymm3\\n vbroadcastss 4(%rdx), %ymm4\\n"
    " vfmadd231ps %ymm1, %ymm3, %ymm4\\n vfmadd213ps .LCPI14(%rip), %ymm1, %ymm4\\n"
    " vmovups (%rsi), %ymm5\\n vfmadd231ps %ymm1, %ymm4, %ymm5\\n vmovups %ymm5, (%rdi)\\n"
    " addq $1, %rcx\\n cmpq %r8, %rcx\\n jb .Lmt14_a\\n xorl %ecx, %ecx\\n"
    ".Lmt14_b:\\n vmulps %ymm1, %ymm2, %ymm6\\n vfmadd231ps %ymm1, %ymm3, %ymm6\\n"
    " vaddps %ymm6, %ymm0, %ymm0\\n vfmadd231ps %ymm4, %ymm5, %ymm7\\n addq $1, %rcx\\n"
    " cmpq %r8, %rcx\\n jb .Lmt14_b\\n ret\\n"
    ".LCPI14:\\n .long 0\\n\");\n";

static const char *const asm_layers_arm =
    "__asm__(\".text\\n"
    ".globl net_layer_005\\n.type net_layer_005,%function\\nnet_layer_005:\\n"
    " mov x2, #0\\n b .Lmt5_h\\n"
    ".Lmt5_b:\\n fmla v0.4s, v1.4s, v2.4s\\n fmla v3.4s, v1.4s, v4.4s\\n"
    ".Lmt5_h:\\n add x2, x2, #1\\n cmp x2, x0\\n b.lo .Lmt5_b\\n ret\\n"
    ".globl net_layer_006\\n.type net_layer_006,%function\\nnet_layer_006:\\n"
    " mov x3, #0\\n"
    ".Lmt6_o:\\n mov x2, #0\\n fmul v7.4s, v5.4s, v6.4s\\n fadd v8.4s, v8.4s, v7.4s\\n"
    " fmla v9.4s, v5.4s, v6.4s\\n fmla v10.4s, v5.4s, v6.4s\\n"
    ".Lmt6_i:\\n fmla v0.4s, v1.4s, v2.4s\\n add x2, x2, #1\\n cmp x2, x0\\n"
    " b.lo .Lmt6_i\\n add x3, x3, #1\\n cmp x3, x1\\n b.lo .Lmt6_o\\n ret\\n"
    ".pushsection .rodata\\nnet_layer_007:\\n .word 1\\n .ascii \\\"";
static const char *const asm_layers_arm_end =
    "\\\"\\n.popsection\\n"
    ".globl net_layer_008\\n.type net_layer_008,%function\\nnet_layer_008:\\n"
    ".Lmt8:\\n fmul v3.4s, v1.4s, v2.4s\\n fadd v0.4s, v0.4s, v3.4s\\n"
    " fmul v6.4s, v4.4s, v5.4s\\n str q6, [x0], #16\\n"
    " cmp x0, x1\\n b.lo .Lmt8\\n ret\\n"
    ".globl net_layer_009\\n.type net_layer_009,%function\\nnet_layer_009:\\n"
    " mov x3, #0\\n"
    ".Lmt9_o:\\n fmla v0.4s, v1.4s, v2.4s\\n fmla v3.4s, v4.4s, v5.4s\\n mov x2, #0\\n"
    ".Lmt9_i:\\n ldrb w4, [x0, x2]\\n strb w4, [x1, x2]\\n add x2, x2, #1\\n cmp x2, x5\\n"
    " b.lo .Lmt9_i\\n add x3, x3, #1\\n cmp x3, x6\\n b.lo .Lmt9_o\\n ret\\n"
    ".globl net_layer_010\\n.type net_layer_010,%function\\nnet_layer_010:\\n"
    " mov x3, #0\\n"
    ".Lmt10_a:\\n fmla v0.4s, v1.4s, v2.4s\\n ldr x4, [x0]\\n add x4, x4, #1\\n str x4, [x0]\\n"
    " add x3, x3, #1\\n cmp x3, x1\\n b.lo .Lmt10_a\\n mov x3, #0\\n"
    ".Lmt10_b:\\n fmla v0.4s, v1.4s, v2.4s\\n add x3, x3, #1\\n cmp x3, x1\\n b.lo .Lmt10_b\\n"
    " ret\\n"
    ".globl net_layer_011\\n.type net_layer_011,%function\\nnet_layer_011:\\n"
    " mov x3, #0\\n"
    ".Lmt11_a:\\n fmla v0.4s, v1.4s, v2.4s\\n madd x4, x5, x6, x4\\n add x3, x3, #1\\n"
    " cmp x3, x1\\n b.lo .Lmt11_a\\n mov x3, #0\\n"
    ".Lmt11_b:\\n fmla v0.4s, v1.4s, v2.4s\\n add x3, x3, #1\\n cmp x3, x1\\n b.lo .Lmt11_b\\n"
    " ret\\n"
    ".globl net_layer_012\\n.type net_layer_012,%function\\nnet_layer_012:\\n"
    " mov x3, #0\\n"
    ".Lmt12_o:\\n madd x7, x5, x6, x7\\n mov x2, #0\\n"
    ".Lmt12_i:\\n ldrb w4, [x0, x2]\\n strb w4, [x1, x2]\\n add x2, x2, #1\\n cmp x2, x5\\n"
    " b.lo .Lmt12_i\\n add x3, x3, #1\\n cmp x3, x6\\n b.lo .Lmt12_o\\n ret\\n"
    ".globl net_layer_013\\n.type net_layer_013,%function\\nnet_layer_013:\\n"
    " mov x3, #0\\n"
    ".Lmt13_o:\\n fmla v0.4s, v1.4s, v2.4s\\n fmla v3.4s, v4.4s, v5.4s\\n mov x2, #0\\n"
    ".Lmt13_i:\\n madd x7, x5, x6, x7\\n strb w7, [x1, x2]\\n add x2, x2, #1\\n cmp x2, x5\\n"
    " b.lo .Lmt13_i\\n add x3, x3, #1\\n cmp x3, x6\\n b.lo .Lmt13_o\\n ret\\n"
    ".globl net_layer_014\\n.type net_layer_014,%function\\nnet_layer_014:\\n"
    " mov x3, #0\\n"
    ".Lmt14_a:\\n ldr q1, [x0]\\n ld1r {v2.4s}, [x2]\\n fmla v2.4s, v1.4s, v3.4s\\n"
    " movi v4.4s, #1\\n fmla v4.4s, v1.4s, v2.4s\\n ldr q5, [x1]\\n"
    " fmla v5.4s, v1.4s, v4.4s\\n dup v6.4s, v1.s[0]\\n fmla v6.4s, v1.4s, v5.4s\\n"
    " str q6, [x0]\\n add x3, x3, #1\\n cmp x3, x4\\n b.lo .Lmt14_a\\n mov x3, #0\\n"
    ".Lmt14_b:\\n fmul v6.4s, v1.4s, v2.4s\\n fmla v6.4s, v1.4s, v3.4s\\n"
    " fadd v0.4s, v0.4s, v6.4s\\n fmla v7.4s, v4.4s, v5.4s\\n add x3, x3, #1\\n"
    " cmp x3, x4\\n b.lo .Lmt14_b\\n ret\\n\");\n";

typedef struct target {
    const char *triple, *cpu, *model, *cflags; /* clang's cpu, llvm-mca's model */
    int arm;
    int vec_lanes;   /* f32 lanes of the vector registers used */
    int fma_per_clk; /* f32 MACs per cycle the core can do at most: a lower bound on cycles */
} target;

static const target x86 = {"x86_64-linux-gnu", "haswell", "haswell", "-mavx2 -mfma", 0, 8, 16};
/* the A76 compiled for as itself and timed by its own microarchitecture's model (LLVM's
 * cortex-a76 model is Cortex-A57's) */
static const target arm = {"aarch64-linux-gnu", "cortex-a76", "neoverse-n1", "", 1, 4, 8};

static mvit_mca_core core_of(const target *t)
{
    return (mvit_mca_core){t->triple, t->cpu, t->model, "llvm-mca-19"};
}

static char work_dir[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void make_work_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(work_dir, sizeof work_dir, "%s/test_mca.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(work_dir) != NULL, "mkdtemp %s failed", work_dir);
}

/* Checked teardown. A failed test exits before it, which leaves its directory (the loop
 * snippets and llvm-mca reports) for inspection. */
static void remove_work_dir(void)
{
    if (!work_dir[0])
        return;
    DIR *dir = opendir(work_dir);
    if (!dir)
        return;
    struct dirent *e;
    char path[600];
    while ((e = readdir(dir)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", work_dir, e->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(work_dir);
    work_dir[0] = 0;
}

/* Writes layers.c (the C layers and the target's assembly layers) into work_dir. */
static void write_layers(const target *t, char *c_path, size_t n)
{
    enum { LONG_LINE = 200000 };
    char *filler = malloc(LONG_LINE + 1);
    ck_assert_ptr_nonnull(filler);
    memset(filler, 'x', LONG_LINE);
    filler[LONG_LINE] = 0;
    const char *head = t->arm ? asm_layers_arm : asm_layers_x86;
    const char *tail = t->arm ? asm_layers_arm_end : asm_layers_x86_end;
    size_t cap = strlen(c_layers) + strlen(head) + LONG_LINE + strlen(tail) + 1;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    snprintf(text, cap, "%s%s%s%s", c_layers, head, filler, tail);
    snprintf(c_path, n, "%s/layers.c", work_dir);
    write_text(c_path, text);
    free(text);
    free(filler);
}

static void check_plausible(const target *t, const mvit_mca_loop *l, int layer)
{
    ck_assert_msg(l->cycles_per_iter > 0 && l->cycles_per_iter < 1000,
                  "%s layer %03d: %g cycles per iteration", t->cpu, layer, l->cycles_per_iter);
    /* no core runs more multiply-accumulates per cycle than its FMA units allow */
    ck_assert_msg(l->cycles_per_iter >= (double)l->mac_lanes / t->fma_per_clk,
                  "%s layer %03d: %d MAC lanes in %g cycles is faster than the core", t->cpu, layer,
                  l->mac_lanes, l->cycles_per_iter);
    ck_assert_msg(l->instructions > 0, "%s layer %03d: empty loop", t->cpu, layer);
}

/* Runs every layer 000-013 for t and checks each against what its source implies. */
static void check_target(const target *t)
{
    make_work_dir();
    char c_path[400];
    write_layers(t, c_path, sizeof c_path);
    const int ids[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    enum { N = sizeof ids / sizeof *ids };
    mvit_mca_loop out[N];
    mvit_diag d = {{0}};
    const mvit_mca_core core = core_of(t);
    int rc = mvit_mca_layer_loops(c_path, work_dir, "net_layer_", &core, t->cflags, N, ids, out,
                                  work_dir, &d);
    ck_assert_msg(rc == 0, "%s: rc %d: %s (files in %s)", t->cpu, rc, d.msg, work_dir);

    /* 000: the loop is in the kernel it calls, vectorized to full registers */
    ck_assert_str_eq(out[0].function, "mca_test_saxpy");
    ck_assert_msg(out[0].mac_lanes > 0 && out[0].mac_lanes % t->vec_lanes == 0,
                  "%s: saxpy has %d MAC lanes, not a multiple of %d", t->cpu, out[0].mac_lanes,
                  t->vec_lanes);
    ck_assert_int_eq(out[0].vector_lanes, t->vec_lanes);
    check_plausible(t, &out[0], 0);

    /* 001: eight vector FMAs per source iteration (clang may unroll, never split them) */
    const int per_iter = 8 * t->vec_lanes;
    ck_assert_str_eq(out[1].function, "net_layer_001");
    ck_assert_msg(out[1].mac_lanes >= per_iter && out[1].mac_lanes % per_iter == 0,
                  "%s: 8 FMAs per iteration give %d MAC lanes, not a multiple of %d", t->cpu,
                  out[1].mac_lanes, per_iter);
    ck_assert_msg(out[1].instructions >= 8 * out[1].mac_lanes / per_iter + 2,
                  "%s: %d instructions for %d MAC lanes", t->cpu, out[1].instructions,
                  out[1].mac_lanes);
    ck_assert_int_eq(out[1].vector_lanes, t->vec_lanes);
    check_plausible(t, &out[1], 1);

    /* 002: no loop anywhere */
    ck_assert_msg(out[2].cycles_per_iter < 0, "%s: loop-free layer got %g cycles", t->cpu,
                  out[2].cycles_per_iter);
    ck_assert_str_eq(out[2].function, "");

    /* 003: its function was inlined away in the real build but is still estimated */
    ck_assert_str_eq(out[3].function, "net_layer_003");
    ck_assert_msg(out[3].mac_lanes > 0 && out[3].mac_lanes % t->vec_lanes == 0,
                  "%s: inlined layer has %d MAC lanes", t->cpu, out[3].mac_lanes);
    check_plausible(t, &out[3], 3);

    /* 004: the kernel's loop was inlined into the layer */
    ck_assert_str_eq(out[4].function, "net_layer_004");
    ck_assert_msg(out[4].mac_lanes > 0 && out[4].mac_lanes % t->vec_lanes == 0, "%s: %d MAC lanes",
                  t->cpu, out[4].mac_lanes);
    check_plausible(t, &out[4], 4);

    /* 005: rotated loop: two FMAs plus add, compare, branch */
    ck_assert_str_eq(out[5].function, "net_layer_005");
    ck_assert_int_eq(out[5].mac_lanes, 2 * t->vec_lanes);
    ck_assert_int_eq(out[5].instructions, 5);
    check_plausible(t, &out[5], 5);

    /* 006: the inner loop, not the outer one with more MACs around it */
    ck_assert_str_eq(out[6].function, "net_layer_006");
    ck_assert_int_eq(out[6].mac_lanes, t->vec_lanes);
    ck_assert_int_eq(out[6].instructions, 4);
    check_plausible(t, &out[6], 6);

    /* 007: a data label is no function */
    ck_assert_msg(out[7].cycles_per_iter < 0, "%s: data label got %g cycles", t->cpu,
                  out[7].cycles_per_iter);

    /* 008: only the multiply whose product is added counts */
    ck_assert_str_eq(out[8].function, "net_layer_008");
    ck_assert_int_eq(out[8].mac_lanes, t->vec_lanes);
    ck_assert_int_eq(out[8].vector_lanes, t->vec_lanes);
    check_plausible(t, &out[8], 8);

    /* 009: a MAC-free nested loop does not hide the loop doing the work */
    ck_assert_str_eq(out[9].function, "net_layer_009");
    ck_assert_int_eq(out[9].mac_lanes, 2 * t->vec_lanes);
    ck_assert_int_eq(out[9].instructions, 6);
    check_plausible(t, &out[9], 9);

    /* 010: of two loops with as many MACs, the one without the extra work */
    ck_assert_str_eq(out[10].function, "net_layer_010");
    ck_assert_int_eq(out[10].mac_lanes, t->vec_lanes);
    ck_assert_int_eq(out[10].instructions, 4);
    check_plausible(t, &out[10], 10);

    /* 011: a scalar multiply-add does not outweigh the shorter loop's equal vector MACs */
    ck_assert_str_eq(out[11].function, "net_layer_011");
    ck_assert_int_eq(out[11].mac_lanes, t->vec_lanes);
    ck_assert_int_eq(out[11].instructions, 4);
    check_plausible(t, &out[11], 11);

    /* 012: scalar address arithmetic does not make a loop around a copy a work loop */
    ck_assert_str_eq(out[12].function, "net_layer_012");
    ck_assert_int_eq(out[12].mac_lanes, 0);
    ck_assert_int_eq(out[12].instructions, 5);

    /* 013: nor does it, in the nested loop, hide the vector MACs around it */
    ck_assert_str_eq(out[13].function, "net_layer_013");
    ck_assert_int_eq(out[13].mac_lanes, 2 * t->vec_lanes);
    ck_assert_int_eq(out[13].instructions, 6);
    check_plausible(t, &out[13], 13);

    /* 014: a polynomial's multiply-adds are not the layer's MACs */
    ck_assert_str_eq(out[14].function, "net_layer_014");
    ck_assert_int_eq(out[14].mac_lanes, 2 * t->vec_lanes);
    ck_assert_int_eq(out[14].instructions, 7);
    check_plausible(t, &out[14], 14);
}

// ---- tests

START_TEST(test_x86_haswell)
{
    check_target(&x86);
}
END_TEST

START_TEST(test_aarch64_cortex_a76)
{
    check_target(&arm);
}
END_TEST

START_TEST(test_no_clang)
{
    make_work_dir();
    char c_path[400];
    write_layers(&x86, c_path, sizeof c_path);
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "");
    ck_assert_ptr_nonnull(saved);
    setenv("PATH", "/nonexistent-mvitc-test", 1);
    const int ids[] = {0};
    mvit_mca_loop out[1];
    mvit_diag d = {{0}};
    int rc = mvit_mca_layer_loops(c_path, work_dir, "net_layer_",
                                  &(mvit_mca_core){x86.triple, x86.cpu, x86.model, "llvm-mca-19"},
                                  x86.cflags, 1, ids, out, work_dir, &d);
    ck_assert_int_lt(rc, 0);
    setenv("PATH", saved, 1);
    free(saved);
    ck_assert_msg(strstr(d.msg, "clang") != NULL, "message does not name clang: %s", d.msg);
    ck_assert(out[0].cycles_per_iter < 0);
}
END_TEST

START_TEST(test_compile_error)
{
    make_work_dir();
    char c_path[400];
    snprintf(c_path, sizeof c_path, "%s/broken.c", work_dir);
    write_text(c_path, "void net_layer_000(void) { this is not C; }\n");
    const int ids[] = {0};
    mvit_mca_loop out[1];
    mvit_diag d = {{0}};
    int rc = mvit_mca_layer_loops(c_path, work_dir, "net_layer_",
                                  &(mvit_mca_core){x86.triple, x86.cpu, x86.model, "llvm-mca-19"},
                                  x86.cflags, 1, ids, out, work_dir, &d);
    ck_assert_int_lt(rc, 0);
    /* the message quotes clang's first error line, which names the file and the line */
    ck_assert_msg(strstr(d.msg, "broken.c:1:") != NULL, "no clang error quoted: %s", d.msg);
    ck_assert_msg(strstr(d.msg, "error") != NULL, "no error: %s", d.msg);
}
END_TEST

START_TEST(test_missing_file)
{
    make_work_dir();
    char c_path[400];
    snprintf(c_path, sizeof c_path, "%s/no-such-file.c", work_dir);
    const int ids[] = {0, 1};
    mvit_mca_loop out[2];
    mvit_diag d = {{0}};
    int rc = mvit_mca_layer_loops(c_path, work_dir, "net_layer_",
                                  &(mvit_mca_core){arm.triple, arm.cpu, arm.model, "llvm-mca-19"},
                                  arm.cflags, 2, ids, out, work_dir, &d);
    ck_assert_int_lt(rc, 0);
    ck_assert_msg(strstr(d.msg, c_path) != NULL, "message does not name %s: %s", c_path, d.msg);
    ck_assert(out[0].cycles_per_iter < 0 && out[1].cycles_per_iter < 0);
}
END_TEST

START_TEST(test_unsupported_triple)
{
    make_work_dir();
    char c_path[400];
    write_layers(&x86, c_path, sizeof c_path);
    const int ids[] = {0};
    mvit_mca_loop out[1];
    mvit_diag d = {{0}};
    int rc = mvit_mca_layer_loops(
        c_path, work_dir, "net_layer_",
        &(mvit_mca_core){"riscv64-linux-gnu", "sifive-u74", "sifive-u74", "llvm-mca-19"}, "", 1,
        ids, out, work_dir, &d);
    ck_assert_int_eq(rc, MVIT_EUNSUPPORTED);
    ck_assert_msg(strstr(d.msg, "riscv64-linux-gnu") != NULL, "message: %s", d.msg);
}
END_TEST

static Suite *mca_suite(void)
{
    Suite *s = suite_create("mca");
    TCase *est = tcase_create("estimates");
    tcase_set_timeout(est, 300);
    tcase_add_checked_fixture(est, NULL, remove_work_dir);
    tcase_add_test(est, test_x86_haswell);
    tcase_add_test(est, test_aarch64_cortex_a76);
    suite_add_tcase(s, est);
    TCase *bad = tcase_create("failures");
    tcase_set_timeout(bad, 120);
    tcase_add_checked_fixture(bad, NULL, remove_work_dir);
    tcase_add_test(bad, test_no_clang);
    tcase_add_test(bad, test_compile_error);
    tcase_add_test(bad, test_missing_file);
    tcase_add_test(bad, test_unsupported_triple);
    suite_add_tcase(s, bad);
    return s;
}

/* Whether name is an executable in PATH. */
static int in_path(const char *name)
{
    const char *path = getenv("PATH");
    char buf[1024];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name);
        if (n > 0 && access(buf, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

int main(void)
{
    if (!in_path("clang") || !in_path("llvm-mca-19")) {
        fprintf(stderr, "test_mca: skipped, needs clang and llvm-mca-19 in PATH\n");
        return 77;
    }
    SRunner *sr = srunner_create(mca_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
