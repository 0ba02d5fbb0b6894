/* mvitc report, the measuring half: for every target x precision x resolution it compiles the
 * model (mvit_compile, with a hook that reads the planned graph), builds the object for the
 * target's triple with clang to size its code, builds and runs a timing harness on this host
 * (ARM builds run under qemu-user for their output only), and asks llvm-mca (mca.c) for
 * per-layer cycle estimates on named cores. Everything lands in an mvit_report; render.c
 * writes it out. External tools are run with posix_spawn, never through a shell. */
#define _POSIX_C_SOURCE 200809L /* posix_spawn, waitpid, getpid */
#include "report/report_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "codegen/compile.h"
#include "desc/desc.h"
#include "ir/ir.h"
#include "ops/ops.h"
#include "report/mca.h"
#include "report/tool.h"

/* ---- running tools */

/* Runs a command line of space-separated words; on failure fills d with the first line of
 * its stderr (kept in err_path). */
static int run_line(const char *line, const char *out_path, const char *err_path,
                    const char *what, mvit_diag *d)
{
    char **argv = mvit_tool_split(line);
    int st = 0;
    int rc = mvit_tool_run(argv, out_path, err_path, &st, d);
    mvit_tool_free_argv(argv);
    if (rc < 0 || st == 0)
        return rc;
    char first[300] = "";
    if (err_path)
        mvit_tool_first_line(err_path, first, sizeof first);
    return mvit_diag_at(d, MVIT_EIO, "mvitc report", 0, 0, "%s failed (status %d%s%s): %.400s",
                        what, st, first[0] ? ": " : "", first, line);
}

static int have_tool(const char *name)
{
    char *argv[] = {(char *)name, (char *)"--version", NULL};
    int st = 1;
    return mvit_tool_run(argv, NULL, NULL, &st, NULL) == 0 && st == 0;
}

/* ---- what the planned graph says about a build */

typedef struct graph_facts {
    mvit_report_cell *cell;
    int64_t *out_elems;        /* per report layer: output elements (estimates of loops
                                  without multiply-accumulates) */
} graph_facts;

static int in_arena(const mvit_value *v) { return v->kind == MVIT_VALUE_TEMP; }

/* Reads layers, arena blocks and the arena's lower bound (largest input + output bytes of
 * one layer among arena values, as docs/benchmarks.md) from the final graph. */
static void inspect_graph(void *user, const mvit_graph *g)
{
    graph_facts *gf = user;
    mvit_report_cell *c = gf->cell;
    int *layer_of = mvit_xcalloc((size_t)g->num_nodes + 1, sizeof *layer_of);
    c->layers = mvit_xcalloc((size_t)g->num_nodes + 1, sizeof *c->layers);
    gf->out_elems = mvit_xcalloc((size_t)g->num_nodes + 1, sizeof *gf->out_elems);
    c->num_layers = 0;
    c->macs = 0;
    c->arena_lower_bound = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        layer_of[i] = -1;
        if (n->dead)
            continue;
        mvit_report_layer *l = &c->layers[c->num_layers];
        l->index = i;
        snprintf(l->name, sizeof l->name, "%s", n->name);
        snprintf(l->op, sizeof l->op, "%s", mvit_op_names[n->op]);
        l->macs = mvit_node_macs(g, n);
        mvit_kernel_work work;
        mvit_node_kernel_work(g, n, mvit_find_target(c->target), !strcmp(c->precision, "int8"),
                              &work);
        l->kernel_macs = work.macs;
        l->kernel_elems = work.elems;
        l->measured_us = -1;
        for (int k = 0; k < MVIT_REPORT_MAX_CORES; k++)
            l->est_us[k] = -1;
        gf->out_elems[c->num_layers] = mvit_value_numel(&g->values[n->output]);
        c->macs += l->macs;
        int64_t bytes = in_arena(&g->values[n->output]) ? mvit_value_bytes(&g->values[n->output]) : 0;
        for (int k = 0; k < n->num_inputs; k++)
            if (in_arena(&g->values[n->inputs[k]]) && (k == 0 || n->inputs[k] != n->inputs[0]))
                bytes += mvit_value_bytes(&g->values[n->inputs[k]]);
        if (n->residual >= 0 && in_arena(&g->values[n->residual]))
            bytes += mvit_value_bytes(&g->values[n->residual]);
        if (bytes > c->arena_lower_bound)
            c->arena_lower_bound = bytes;
        layer_of[i] = c->num_layers++;
    }
    /* blocks: every arena value from its producer to its last reader, and each layer's scratch */
    c->blocks = mvit_xcalloc((size_t)(g->num_values + g->num_nodes) + 1, sizeof *c->blocks);
    c->num_blocks = 0;
    for (int v = 0; v < g->num_values; v++) {
        const mvit_value *val = &g->values[v];
        if (!in_arena(val) || val->producer < 0 || layer_of[val->producer] < 0)
            continue;
        int last = layer_of[val->producer];
        for (int i = 0; i < g->num_nodes; i++) {
            const mvit_node *n = &g->nodes[i];
            if (n->dead)
                continue;
            int reads = n->residual == v;
            for (int k = 0; k < n->num_inputs; k++)
                reads |= n->inputs[k] == v;
            if (reads && layer_of[i] > last)
                last = layer_of[i];
        }
        mvit_report_block *b = &c->blocks[c->num_blocks++];
        snprintf(b->name, sizeof b->name, "%s", val->name);
        b->offset = val->offset;
        b->bytes = mvit_value_bytes(val);
        b->first = layer_of[val->producer];
        b->last = last;
    }
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead || n->scratch_bytes <= 0)
            continue;
        mvit_report_block *b = &c->blocks[c->num_blocks++];
        snprintf(b->name, sizeof b->name, "%.80s scratch", n->name);
        b->offset = n->scratch_offset;
        b->bytes = n->scratch_bytes;
        b->first = b->last = layer_of[i];
    }
    c->arena_bytes = g->arena_bytes;
    free(layer_of);
}

/* ---- sizes read back from the build */

/* The banner's "constants: N bytes". */
static int64_t banner_constants(const char *c_path)
{
    FILE *f = fopen(c_path, "r");
    char line[512];
    int64_t n = -1;
    for (int i = 0; f && i < 40 && fgets(line, sizeof line, f); i++) {
        long long v;
        if (sscanf(line, " * constants: %lld bytes", &v) == 1) {
            n = v;
            break;
        }
    }
    if (f)
        fclose(f);
    return n;
}

static uint64_t rd(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Bytes of the executable sections (SHF_EXECINSTR) of a little-endian ELF64 object. */
static int64_t elf_code_bytes(const char *path, mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    if (mvit_read_file(path, (size_t)1 << 30, &buf, &len, d) < 0)
        return -1;
    int64_t total = -1;
    if (len >= 64 && !memcmp(buf, "\177ELF", 4) && buf[4] == 2 && buf[5] == 1) {
        const uint64_t shoff = rd(buf + 0x28, 8), shentsize = rd(buf + 0x3a, 2),
                       shnum = rd(buf + 0x3c, 2);
        if (shentsize >= 0x28 && shoff <= len && shnum <= (len - shoff) / shentsize) {
            total = 0;
            for (uint64_t i = 0; i < shnum; i++) {
                const unsigned char *sh = buf + shoff + i * shentsize;
                if (rd(sh + 0x08, 8) & 0x4)
                    total += (int64_t)rd(sh + 0x20, 8);
            }
        }
    }
    free(buf);
    if (total < 0)
        mvit_diag_at(d, MVIT_EPARSE, path, 0, 0, "not a little-endian ELF64 object");
    return total;
}

/* ---- the timing harness */

/* Written next to each build: times NET_RUN (total without per-layer hooks, then per layer)
 * on a fixed pseudo-random image, prints medians, writes the logits. Plain C11 + POSIX. */
static const char harness_src[] =
    "/* mvitc report's timing harness (generated). */\n"
    "#define _POSIX_C_SOURCE 200809L\n"
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <time.h>\n"
    "#include \"net.h\"\n"
    "#define MAXL 4096\n"
    "static double t_start[MAXL], t_sum[MAXL];\n"
    "static int profiling;\n"
    "static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);\n"
    "    return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }\n"
    "void mvit_profile_layer(const char *model, int layer, const char *name, int end) {\n"
    "    (void)model, (void)name;\n"
    "    if (!profiling || layer < 0 || layer >= MAXL) return;\n"
    "    if (!end) t_start[layer] = now_us(); else t_sum[layer] = now_us() - t_start[layer]; }\n"
    "static int cmp(const void *a, const void *b) { double x = *(const double *)a,\n"
    "    y = *(const double *)b; return (x > y) - (x < y); }\n"
    "static double median(double *v, int n) { qsort(v, (size_t)n, sizeof *v, cmp);\n"
    "    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]); }\n"
    "int main(int argc, char **argv) {\n"
    "    if (argc != 3) { fprintf(stderr, \"usage: harness RUNS LOGITS\\n\"); return 2; }\n"
    "    int runs = atoi(argv[1]);\n"
    "    const int n = NET_H * NET_W * net_INPUT_CHANNELS;\n"
    "    float *in = malloc(sizeof *in * (size_t)n), logits[net_NUM_CLASSES];\n"
    "    void *arena = aligned_alloc(64, (net_ARENA_BYTES + 63) / 64 * 64);\n"
    "    if (!in || !arena) return 1;\n"
    "    unsigned s = 12345u;\n"
    "    for (int i = 0; i < n; i++) { s = s * 1103515245u + 12345u;\n"
    "        in[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f; }\n"
    "    if (NET_RUN(in, logits, arena) != 0) return 1;\n"
    "    FILE *f = fopen(argv[2], \"wb\");\n"
    "    if (!f || fwrite(logits, sizeof logits, 1, f) != 1 || fclose(f)) return 1;\n"
    "    if (runs <= 0) return 0;\n"
    "    double *tot = malloc(sizeof *tot * (size_t)runs);\n"
    "    double *per = calloc((size_t)runs * MAXL, sizeof *per);\n"
    "    if (!tot || !per) return 1;\n"
    "    for (int r = 0; r < 3; r++) NET_RUN(in, logits, arena);\n"
    "    for (int r = 0; r < runs; r++) { double t0 = now_us(); NET_RUN(in, logits, arena);\n"
    "        tot[r] = now_us() - t0; }\n"
    "    profiling = 1;\n"
    "    for (int r = 0; r < runs; r++) { memset(t_sum, 0, sizeof t_sum);\n"
    "        NET_RUN(in, logits, arena);\n"
    "        for (int l = 0; l < MAXL; l++) per[(size_t)l * runs + r] = t_sum[l]; }\n"
    "    printf(\"total_us %.3f\\n\", median(tot, runs));\n"
    "    for (int l = 0; l < MAXL; l++) { double m = median(per + (size_t)l * runs, runs);\n"
    "        if (m > 0) printf(\"layer %d %.3f\\n\", l, m); }\n"
    "    return 0;\n"
    "}\n";

static int write_text(const char *path, const char *text, mvit_diag *d)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? mvit_diag_at(d, MVIT_EIO, path, 0, 0, "write failed") : 0;
}

static int read_logits(const char *path, float *logits, int n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t got = fread(logits, sizeof *logits, (size_t)n, f);
    fclose(f);
    return got == (size_t)n ? 0 : -1;
}

static void hash_logits(const float *logits, int n, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)logits;
    for (size_t i = 0; i < (size_t)n * sizeof *logits; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Reads the harness's "total_us" and "layer I US" lines into the cell. */
static void read_timings(const char *path, mvit_report_cell *c, int runs)
{
    FILE *f = fopen(path, "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        double us;
        int idx;
        if (sscanf(line, "total_us %lf", &us) == 1) {
            c->latency_ms = us / 1000.0;
            c->latency_runs = runs;
        } else if (sscanf(line, "layer %d %lf", &idx, &us) == 2) {
            for (int l = 0; l < c->num_layers; l++)
                if (c->layers[l].index == idx)
                    c->layers[l].measured_us = us;
        }
    }
    if (f)
        fclose(f);
}

/* ---- one cell */

/* A target runs here natively, or under its qemu-user (its registry entry says which). */
static int runs_emulated(const mvit_target *t)
{
    return t->emulator != NULL;
}

/* The cores a report can estimate: the name --cores takes, the column's name, the -mcpu clang
 * compiles for, the llvm-mca 19 model that times the loops (where LLVM's model of the core
 * itself is another core's, the model of the same microarchitecture under another name), the
 * clock, and the peak multiply-accumulates per cycle of its fp32 and int8 SIMD (the int8 peak
 * with the dot product where the core has it). docs/report.md gives the sources. */
typedef struct core_info {
    const char *key, *label, *cc_cpu, *mca_cpu;
    double ghz, peak_f32, peak_i8;
    int arm;
    const char *note;
} core_info;

static const core_info known_cores[] = {
    {"cortex-a55", "Cortex-A55 (cortex-a55 model)", "cortex-a55", "cortex-a55", 1.8, 4, 16, 1,
     "1.8 GHz (the little cores of Snapdragon 865/888). The model's two SIMD pipes each take a "
     "128-bit FMLA per cycle; the core's are 64 bits wide, so fp32 loops come out up to 2x "
     "fast: read this column for ranking, not for absolute time"},
    {"cortex-a510", "Cortex-A510 (cortex-a510 model)", "cortex-a510", "cortex-a510", 1.8, 8, 32, 1,
     "1.8 GHz (Snapdragon 8 Gen 1's little cores); peak of the 2 x 128-bit vector unit, which "
     "two cores share (half when both run SIMD code)"},
    {"cortex-a76", "Cortex-A76/A78 class (neoverse-n1 model)", "cortex-a76", "neoverse-n1", 2.4, 8,
     32, 1,
     "2.4 GHz (Snapdragon 888's A78 cores). LLVM's cortex-a76/a78 models are Cortex-A57's (one "
     "128-bit FMA pipe); Neoverse N1 is the A76's own microarchitecture (two)"},
    {"cortex-a78", "Cortex-A78 (neoverse-n1 model)", "cortex-a78", "neoverse-n1", 2.8, 8, 32, 1,
     "2.8 GHz (Dimensity 1200 class); the A78 keeps the A76's two 128-bit FMA pipes, so the "
     "Neoverse N1 model stands for it"},
    {"cortex-x1", "Cortex-X1 class (neoverse-v1 model)", "cortex-x1", "neoverse-v1", 2.84, 16, 64,
     1,
     "2.84 GHz (Snapdragon 888's prime core). Neoverse V1 is the X1's sibling with the same four "
     "128-bit SIMD pipes; LLVM's cortex-x1 model is Cortex-A57's"},
    {"apple-m1", "Apple M1/A14 class (neoverse-v1 model as proxy)", "apple-a14", "neoverse-v1", 3.2,
     16, 64, 1,
     "3.2 GHz (M1 Firestorm). LLVM 19's apple-a14 and apple-m4 models are Cyclone's (three SIMD "
     "pipes); Firestorm has four 128-bit FMA pipes, as Neoverse V1, which stands in for it (its "
     "wider decode and larger windows are not modelled)"},
    {"apple-a14", "Apple A14 class (neoverse-v1 model as proxy)", "apple-a14", "neoverse-v1", 3.0,
     16, 64, 1, "3.0 GHz (A14 Firestorm); the proxy as for apple-m1"},
    {"cortex-a53", "Cortex-A53 (cortex-a53 model)", "cortex-a53", "cortex-a53", 1.5, -1, -1, 1,
     "1.5 GHz; in-order, no dot product (the int8 GEMM runs on smull/smlal and sadalp); no "
     "peak stated"},
    {"haswell", "Haswell (haswell model)", "haswell", "haswell", 3.0, 16, 16, 0, "3.0 GHz"},
    {"skylake", "Skylake (skylake model)", "skylake", "skylake", 3.5, 16, 32, 0, "3.5 GHz"},
    {"znver3", "Zen 3 (znver3 model)", "znver3", "znver3", 3.5, 16, 32, 0, "3.5 GHz"},
    {"znver4", "Zen 4 (znver4 model)", "znver3", "znver4", 3.7, 16, 32, 0,
     "3.7 GHz; compiled with -mtune=znver3 (clang 14 has no znver4)"},
};

/* llvm-mca with the scheduling models these estimates need (Neoverse N1/V1, Zen 4/5): LLVM 19,
 * Debian's llvm-19 package. */
#define MCA_TOOL "llvm-mca-19"

static const core_info *find_core(const char *key)
{
    for (size_t k = 0; k < sizeof known_cores / sizeof *known_cores; k++)
        if (!strcmp(known_cores[k].key, key))
            return &known_cores[k];
    return NULL;
}

/* The clock this host runs at now, in GHz: a chain of dependent integer adds (one cycle each
 * on every x86-64 and AArch64 core) timed; the fastest of 7 runs. 0 where there is no such
 * chain. */
static double measure_host_ghz(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__aarch64__))
    const long adds = 20 * 1000 * 1000; /* about 6 ms at 3 GHz */
    double best = 0;
    for (int run = 0; run < 7; run++) {
        unsigned long x = (unsigned long)run;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (long i = 0; i < adds; i += 100)
#if defined(__x86_64__)
            __asm__ volatile(".rept 100\n\taddq $1, %0\n\t.endr" : "+r"(x));
#else
            __asm__ volatile(".rept 100\n\tadd %0, %0, #1\n\t.endr" : "+r"(x));
#endif
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        if (ns > 0 && adds / ns > best)
            best = adds / ns;
    }
    return best;
#else
    return 0;
#endif
}

/* The host's llvm-mca model: MCA_TOOL --version names it ("Host CPU: znver5"). */
static int host_mca_cpu(const char *dir, char *cpu, size_t n)
{
    char out[1100];
    snprintf(out, sizeof out, "%s/llvm-mca-version.txt", dir);
    char *argv[] = {(char *)MCA_TOOL, (char *)"--version", NULL};
    int st = 1;
    cpu[0] = 0;
    if (mvit_tool_run(argv, out, NULL, &st, NULL) < 0 || st != 0)
        return -1;
    FILE *f = fopen(out, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "Host CPU:");
        if (p && n >= 64 && sscanf(p + 9, "%63s", cpu) == 1)
            break;
    }
    if (f)
        fclose(f);
    return cpu[0] && strcmp(cpu, "generic") ? 0 : -1;
}

/* The peaks of a host model: those of the named core with that model, or of the Zen 5 and
 * recent Intel cores (two 256-bit FMA pipes, two vpmaddwd per cycle) for AVX2 code. */
static void host_peaks(const char *mca_cpu, double *f32, double *i8)
{
    *f32 = *i8 = -1;
    for (size_t k = 0; k < sizeof known_cores / sizeof *known_cores; k++)
        if (!strcmp(known_cores[k].mca_cpu, mca_cpu)) {
            *f32 = known_cores[k].peak_f32, *i8 = known_cores[k].peak_i8;
            return;
        }
    static const char *const avx2_2fma[] = {
        "znver5",    "znver4",         "icelake-server", "icelake-client", "tigerlake",
        "alderlake", "sapphirerapids", "skylake-avx512", "cascadelake",    "cooperlake"};
    for (size_t k = 0; k < sizeof avx2_2fma / sizeof *avx2_2fma; k++)
        if (!strcmp(avx2_2fma[k], mca_cpu))
            *f32 = 16, *i8 = 32;
}

static int host_has_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static void host_cpu_name(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    snprintf(buf, n, "unknown CPU");
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            line[strcspn(line, "\n")] = 0;
            snprintf(buf, n, "%s%s", colon + 2, host_has_avx2() ? " (AVX2+FMA)" : "");
            break;
        }
    }
    if (f)
        fclose(f);
}

/* Estimates of every layer of one cell on every core of the target's arch. */
static int estimate_cell(const mvit_report_options *o, const mvit_report *r, mvit_report_cell *c,
                         const mvit_target *t, const graph_facts *gf, const char *dir,
                         const char *fn_prefix, mvit_diag *d)
{
    int *ids = mvit_xcalloc((size_t)c->num_layers + 1, sizeof *ids);
    mvit_mca_loop *loops = mvit_xcalloc((size_t)c->num_layers + 1, sizeof *loops);
    for (int l = 0; l < c->num_layers; l++)
        ids[l] = c->layers[l].index;
    char c_path[1100];
    snprintf(c_path, sizeof c_path, "%s/net.c", dir);
    int rc = 0;
    for (int k = 0; k < r->num_cores && rc == 0; k++) {
        c->est_ms[k] = -1;
        /* a core of the architecture the target's triple names */
        const size_t arch_len = strcspn(t->triple, "-");
        if (strncmp(r->core_triples[k], t->triple, arch_len) || r->core_triples[k][arch_len] != '-')
            continue;
        const mvit_mca_core core = {r->core_triples[k], r->core_cc_cpu[k], r->core_model[k],
                                    MCA_TOOL};
        rc = mvit_mca_layer_loops(c_path, dir, fn_prefix, &core, t->cflags, c->num_layers, ids,
                                  loops, dir, d);
        double total = 0;
        for (int l = 0; l < c->num_layers && rc == 0; l++) {
            const mvit_mca_loop *lp = &loops[l];
            if (lp->cycles_per_iter < 0)
                continue;
            const mvit_report_layer *y = &c->layers[l];
            const int macs = y->kernel_macs > 0 && lp->mac_lanes > 0;
            double cycles = macs ? (double)y->kernel_macs / lp->mac_lanes * lp->cycles_per_iter
                                 : (double)gf->out_elems[l] /
                                       (lp->vector_lanes > 0 ? lp->vector_lanes : 1) *
                                       lp->cycles_per_iter;
            /* the elementwise pass beside the MACs, on the heaviest MAC-free loop */
            if (macs && y->kernel_elems > 0 && lp->elem_cycles_per_iter > 0)
                cycles += (double)y->kernel_elems /
                          (lp->elem_vector_lanes > 0 ? lp->elem_vector_lanes : 1) *
                          lp->elem_cycles_per_iter;
            c->layers[l].est_us[k] = cycles / (r->core_ghz[k] * 1000.0);
            total += c->layers[l].est_us[k];
        }
        if (rc == 0)
            c->est_ms[k] = total / 1000.0;
    }
    (void)o;
    free(ids);
    free(loops);
    return rc;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

static int run_cell(const mvit_report_options *o, mvit_report *r, mvit_report_cell *c,
                    const mvit_target *t, mvit_size native, const char *root,
                    mvit_calib_cache *calib, mvit_diag *d)
{
    char dir[1024], path[1100], line[8192], size[32], fn_prefix[64], run_name[64];
    mvit_size_name(c->height, c->width, size, sizeof size);
    snprintf(dir, sizeof dir, "%s/%s-%s-%s", root, c->target, c->precision, size);
    if (make_dir(dir) < 0)
        return mvit_diag_at(d, MVIT_EIO, dir, 0, 0, "cannot create: %s", strerror(errno));
    /* another size than the description's: a one-entry --resolution list, whose entry point
     * and layer functions carry the size's suffix (net_run_192x256, net_layer_192x256_NNN) */
    const int resized = c->height != native.height || c->width != native.width;
    snprintf(fn_prefix, sizeof fn_prefix, resized ? "net_layer_%s_" : "net_layer_", size);
    if (t->paths) { /* a file of several paths: the estimate is the best path's (the last) */
        int k = 0;
        while (t->paths[k + 1])
            k++;
        snprintf(fn_prefix, sizeof fn_prefix, resized ? "net_layer_%s__%s_" : "net_layer%s__%s_",
                 resized ? size : "", t->paths[k]->name);
    }
    snprintf(run_name, sizeof run_name, resized ? "net_run_%s" : "net_run", size);

    graph_facts gf = {c, NULL};
    mvit_compile_options co = {
        .desc_path = o->desc_path,
        .weights_path = o->weights_path,
        .target = c->target,
        .precision = c->precision,
        .name = "net",
        .out_dir = dir,
        .command_line = "mvitc report",
        .max_threads = 1,
        .weights_layout = o->weights_layout,
        .calib_path = o->calib_path,
        .calib_images = o->calib_images,
        .calib_cache = calib, /* one calibration serves every int8 target */
        .resolutions = resized ? size : NULL,
        .inspect = inspect_graph,
        .inspect_user = &gf,
    };
    fprintf(stderr, "mvitc report: %s %s %dx%d: compiling\n", c->target, c->precision, c->height,
            c->width);
    int rc = mvit_compile(&co, d);
    if (rc < 0)
        goto done;
    snprintf(path, sizeof path, "%s/net.c", dir);
    c->constant_bytes = banner_constants(path);

    /* code bytes: the object for the target's triple, as a user's build would make it */
    snprintf(c->code_triple, sizeof c->code_triple, "%s", t->triple);
    char err[1100], obj[1100];
    snprintf(err, sizeof err, "%s/clang.err", dir);
    snprintf(obj, sizeof obj, "%s/net.o", dir);
    snprintf(line, sizeof line, "clang --target=%s %s -O2 -ffreestanding -c %s/net.c -o %s",
             t->triple, t->cflags, dir, obj);
    if ((rc = run_line(line, NULL, err, "clang (code size)", d)) < 0 ||
        (c->code_bytes = elf_code_bytes(obj, d)) < 0) {
        rc = rc < 0 ? rc : MVIT_EPARSE;
        goto done;
    }

    /* run: the host times it; ARM runs under qemu for its output only */
    snprintf(path, sizeof path, "%s/harness.c", dir);
    if ((rc = write_text(path, harness_src, d)) < 0)
        goto done;
    char exe[1100], logits_path[1100], timings[1100];
    snprintf(exe, sizeof exe, "%s/harness", dir);
    snprintf(logits_path, sizeof logits_path, "%s/logits.f32", dir);
    snprintf(timings, sizeof timings, "%s/timings.txt", dir);
    const char *defs_fmt = "-DNET_RUN=%s -DNET_H=%d -DNET_W=%d";
    char defs[256];
    snprintf(defs, sizeof defs, defs_fmt, run_name, c->height, c->width);
    c->latency_ms = -1;
    if (!runs_emulated(t) && (!t->cflags[0] || host_has_avx2())) {
        snprintf(line, sizeof line,
                 "clang -std=c11 -O2 %s -DMVIT_PROFILE %s -I%s %s/harness.c %s/net.c -o %s",
                 t->cflags, defs, dir, dir, dir, exe);
        snprintf(err, sizeof err, "%s/cc.err", dir);
        if ((rc = run_line(line, NULL, err, "clang (harness)", d)) < 0)
            goto done;
        snprintf(line, sizeof line, "%s %d %s", exe, o->runs, logits_path);
        if ((rc = run_line(line, timings, err, "the timing harness", d)) < 0)
            goto done;
        read_timings(timings, c, o->runs);
        snprintf(c->latency_note, sizeof c->latency_note,
                 "median of %d runs on this host, 1 thread, per-layer hooks off", o->runs);
        snprintf(c->run_note, sizeof c->run_note, "host");
    } else if (runs_emulated(t) && have_tool("aarch64-linux-gnu-gcc") && have_tool(t->emulator)) {
        snprintf(line, sizeof line,
                 "aarch64-linux-gnu-gcc -std=c11 -O1 -static %s -I%s %s/harness.c %s/net.c -o %s",
                 defs, dir, dir, dir, exe);
        snprintf(err, sizeof err, "%s/cc.err", dir);
        if ((rc = run_line(line, NULL, err, "aarch64-linux-gnu-gcc (harness)", d)) < 0)
            goto done;
        snprintf(line, sizeof line, "%s %s 0 %s", t->emulator, exe, logits_path);
        if ((rc = run_line(line, NULL, err, "the emulated harness", d)) < 0)
            goto done;
        snprintf(c->latency_note, sizeof c->latency_note,
                 "not timed: ran under %s (see the estimates)", t->emulator);
        snprintf(c->run_note, sizeof c->run_note, "%s", t->emulator);
    } else {
        snprintf(c->latency_note, sizeof c->latency_note, "not run: %s",
                 runs_emulated(t) ? "no aarch64-linux-gnu-gcc or qemu-user"
                                  : "this CPU lacks the target's ISA");
        snprintf(c->run_note, sizeof c->run_note, "not run");
    }
    if (c->run_note[0] != 'n') {
        float logits[4096];
        const int classes = o->num_classes;
        if (classes <= 0 || classes > 4096 || read_logits(logits_path, logits, classes) < 0) {
            rc = mvit_diag_at(d, MVIT_EIO, logits_path, 0, 0, "no logits from the harness");
            goto done;
        }
        hash_logits(logits, classes, c->output_hash);
    }
    fprintf(stderr, "mvitc report: %s %s %dx%d: estimating\n", c->target, c->precision, c->height,
            c->width);
    rc = estimate_cell(o, r, c, t, &gf, dir, fn_prefix, d);
done:
    free(gf.out_elems);
    return rc;
}

/* max |logit - generic fp32 logit| per cell, from the logits files the harnesses wrote. */
static void compare_outputs(const mvit_report_options *o, mvit_report *r, const char *root)
{
    for (int i = 0; i < r->num_cells; i++) {
        mvit_report_cell *c = &r->cells[i];
        c->max_diff = -1;
        if (!c->output_hash[0])
            continue;
        char a[1200], b[1200], size[32];
        mvit_size_name(c->height, c->width, size, sizeof size);
        snprintf(a, sizeof a, "%s/%s-%s-%s/logits.f32", root, c->target, c->precision, size);
        snprintf(b, sizeof b, "%s/generic-fp32-%s/logits.f32", root, size);
        float x[4096], y[4096];
        const int n = o->num_classes;
        if (n <= 0 || n > 4096 || read_logits(a, x, n) < 0 || read_logits(b, y, n) < 0)
            continue;
        double m = 0;
        for (int k = 0; k < n; k++)
            m = fmax(m, fabs((double)x[k] - (double)y[k]));
        c->max_diff = m;
    }
}

/* ---- options */

static int split_list(const char *spec, char items[][32], int max)
{
    int n = 0;
    for (const char *s = spec; *s && n < max;) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len >= 32)
            return -1;
        memcpy(items[n], s, len);
        items[n++][len] = 0;
        s += len;
        if (*s == ',')
            s++;
    }
    return n;
}

static void set_core(mvit_report *r, int i, const core_info *ci, const char *label)
{
    snprintf(r->cores[i], sizeof r->cores[i], "%s", label ? label : ci->label);
    snprintf(r->core_triples[i], sizeof r->core_triples[i], "%s",
             ci->arm ? "aarch64-linux-gnu" : "x86_64-linux-gnu");
    snprintf(r->core_cc_cpu[i], sizeof r->core_cc_cpu[i], "%s", ci->cc_cpu);
    snprintf(r->core_model[i], sizeof r->core_model[i], "%s", ci->mca_cpu);
    snprintf(r->core_notes[i], sizeof r->core_notes[i], "%s", ci->note);
    r->core_ghz[i] = ci->ghz;
    r->core_peak_f32[i] = ci->peak_f32;
    r->core_peak_i8[i] = ci->peak_i8;
}

/* "host": this machine under its own llvm-mca model, at the clock measured now, compiled
 * without -mtune as the timing harness is, so that estimate and measurement read the same
 * code (the validation of the estimator). */
static int set_host_core(mvit_report *r, int i, const char *dir, mvit_diag *d)
{
    char cpu[64], label[64], note[200];
    if (host_mca_cpu(dir, cpu, sizeof cpu) < 0)
        return mvit_diag_at(d, MVIT_EUNSUPPORTED, "mvitc report", 0, 0,
                            "core 'host': %s names no model for this CPU", MCA_TOOL);
    const double ghz = measure_host_ghz();
    if (ghz <= 0)
        return mvit_diag_at(d, MVIT_EUNSUPPORTED, "mvitc report", 0, 0,
                            "core 'host': cannot measure this CPU's clock");
    core_info ci = {"host", NULL, "", cpu, ghz, -1, -1, 0, NULL};
#if defined(__aarch64__)
    ci.arm = 1;
#endif
    host_peaks(cpu, &ci.peak_f32, &ci.peak_i8);
    snprintf(label, sizeof label, "This host (%.40s model)", cpu);
    snprintf(note, sizeof note,
             "%.3g GHz measured (a chain of dependent adds, during this report); %.31s is the "
             "model llvm-mca picks for this CPU; this column is checked against the measured "
             "times",
             ghz, cpu);
    ci.note = note;
    set_core(r, i, &ci, label);
    r->host_column = i + 1;
    return 0;
}

static int choose_cores(const mvit_report_options *o, mvit_report *r, mvit_diag *d)
{
    char names[MVIT_REPORT_MAX_CORES][32];
    int n = split_list(o->cores ? o->cores : "host,cortex-a55,cortex-a76,cortex-x1,apple-m1", names,
                       MVIT_REPORT_MAX_CORES);
    if (n < 0)
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                            "--cores wants a comma-separated list of at most %d names",
                            MVIT_REPORT_MAX_CORES);
    r->host_column = 0;
    int used = 0; /* columns kept: a host without a model or a clock loses its column */
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            if (!strcmp(names[i], names[j]))
                return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                                    "--cores names '%s' twice", names[i]);
        if (!strcmp(names[i], "host")) {
            mvit_diag hd = {{0}};
            if (set_host_core(r, used, o->work_dir, &hd) < 0)
                fprintf(stderr, "mvitc report: no host column: %s\n", hd.msg);
            else
                used++;
            continue;
        }
        const core_info *ci = find_core(names[i]);
        if (!ci) {
            char known[512] = "host";
            for (size_t k = 0; k < sizeof known_cores / sizeof *known_cores; k++)
                snprintf(known + strlen(known), sizeof known - strlen(known), ", %s",
                         known_cores[k].key);
            return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                                "unknown core '%s' (known: %s)", names[i], known);
        }
        set_core(r, used++, ci, NULL);
    }
    r->num_cores = used;
    return 0;
}

/* Puts name first in the list (moving it there if present); -1 if the list is full. */
static int add_unique(char items[][32], int *n, int max, const char *name)
{
    int at = -1;
    for (int i = 0; i < *n; i++)
        if (!strcmp(items[i], name))
            at = i;
    if (at < 0) {
        if (*n == max)
            return -1;
        at = (*n)++;
        snprintf(items[at], 32, "%s", name);
    }
    for (; at > 0; at--) {
        char t[32];
        memcpy(t, items[at], 32);
        memcpy(items[at], items[at - 1], 32);
        memcpy(items[at - 1], t, 32);
    }
    return 0;
}

static int safe_path(const char *p) { return p && !strchr(p, ' ') && !strchr(p, '\t'); }

int mvit_report_build(const mvit_report_options *o, mvit_report *r, mvit_diag *d)
{
    mvit_report_options opt = *o;
    memset(r, 0, sizeof *r);
    if (!safe_path(o->desc_path) || !safe_path(o->weights_path) || !safe_path(o->work_dir))
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                            "paths with spaces are not supported by report (the tools it runs "
                            "take word lists)");
    mvit_model_desc desc;
    int rc = mvit_desc_load(o->desc_path, &desc, d);
    if (rc < 0)
        return rc;
    const mvit_size native = {desc.height, desc.width};
    opt.num_classes = desc.num_classes;
    snprintf(r->model, sizeof r->model, "%s", desc.name);
    mvit_desc_free(&desc);
    snprintf(r->desc_path, sizeof r->desc_path, "%s", o->desc_path);
    snprintf(r->weights_path, sizeof r->weights_path, "%s", o->weights_path);
    snprintf(r->command, sizeof r->command, "%s", o->command_line ? o->command_line : "");
    host_cpu_name(r->host_cpu, sizeof r->host_cpu);
    if (!have_tool("clang") || !have_tool(MCA_TOOL))
        return mvit_diag_at(d, MVIT_EIO, "mvitc report", 0, 0,
                            "needs clang and " MCA_TOOL " in PATH (Debian: clang llvm-19)");
    if (make_dir(o->work_dir) < 0)
        return mvit_diag_at(d, MVIT_EIO, o->work_dir, 0, 0, "cannot create: %s", strerror(errno));
    if ((rc = choose_cores(o, r, d)) < 0)
        return rc;

    char tnames[8][32], pnames[4][32], all_targets[256];
    mvit_target_names(",", all_targets, sizeof all_targets);
    int nt = split_list(o->targets ? o->targets : all_targets, tnames, 8);
    int np = split_list(o->precisions ? o->precisions : "fp32", pnames, 4);
    if (nt <= 0 || np <= 0)
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                            "--targets and --precision want comma-separated lists");
    mvit_size res[MVIT_REPORT_MAX_SIZES];
    int num_res = 0;
    if (o->resolutions && (num_res = mvit_parse_sizes(o->resolutions, "mvitc report", res,
                                                      MVIT_REPORT_MAX_SIZES, d)) < 0)
        return num_res;
    if (num_res == 0)
        res[num_res++] = native;
    for (int i = 0; i < nt; i++)
        if (!mvit_find_target(tnames[i]))
            return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                                "unknown target '%s' (generic, avx2, neon)", tnames[i]);
    int want_int8 = 0;
    for (int i = 0; i < np; i++) {
        if (strcmp(pnames[i], "fp32") && strcmp(pnames[i], "int8"))
            return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                                "unknown precision '%s' (fp32, int8)", pnames[i]);
        want_int8 |= !strcmp(pnames[i], "int8");
    }
    if (want_int8 && !o->calib_path)
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0,
                            "--precision int8 needs --calib DATA (as for mvitc compile)");

    /* generic fp32 is always built, first at each resolution: the reference of max_diff */
    if (add_unique(tnames, &nt, 8, "generic") < 0 || add_unique(pnames, &np, 4, "fp32") < 0)
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc report", 0, 0, "too many targets");
    /* int8 only at the description's size: the calibration data has that size */
    r->cells = mvit_xcalloc((size_t)nt * np * num_res, sizeof *r->cells);
    for (int ri = 0; ri < num_res; ri++)
        for (int pass = 0; pass < 2; pass++)
            for (int pi = 0; pi < np; pi++)
                for (int ti = 0; ti < nt; ti++) {
                    const int is_ref = !strcmp(tnames[ti], "generic") && !strcmp(pnames[pi], "fp32");
                    if ((pass == 0) != is_ref)
                        continue;
                    if (!strcmp(pnames[pi], "int8") &&
                        (res[ri].height != native.height || res[ri].width != native.width))
                        continue;
                    mvit_report_cell *c = &r->cells[r->num_cells++];
                    snprintf(c->target, sizeof c->target, "%.15s", tnames[ti]);
                    snprintf(c->precision, sizeof c->precision, "%.7s", pnames[pi]);
                    c->height = res[ri].height;
                    c->width = res[ri].width;
                }
    mvit_calib_cache calib = {0};
    for (int i = 0; i < r->num_cells && rc == 0; i++)
        rc = run_cell(&opt, r, &r->cells[i], mvit_find_target(r->cells[i].target), native,
                      o->work_dir, &calib, d);
    mvit_calib_cache_free(&calib);
    if (rc == 0)
        compare_outputs(&opt, r, o->work_dir);
    snprintf(r->estimate_assumptions, sizeof r->estimate_assumptions,
             "For every layer, the loop that does its work is found in clang -O2 assembly for "
             "the core's triple and -mcpu (the work loop with the most vector "
             "multiply-accumulate lanes per iteration in the layer function or the kernels it "
             "calls, the shortest of equals; for layers without multiply-accumulates, the "
             "innermost loop with the most instructions). " MCA_TOOL
             " (LLVM 19) gives its steady-state cycles per iteration (100 iterations) "
             "under the model named in the core's column. Layer cycles = the multiplies the "
             "kernel really does (Winograd layers: 36 per channel pair and 4x4 output block, "
             "not the direct form's 144) / MAC lanes per iteration (or output elements / vector "
             "lanes) x cycles per iteration; time at the core's clock; %% of peak = those "
             "multiplies / (cycles x the core's peak MAC/cycle for the build's precision). "
             "Assumes every load hits L1, no branch mispredictions, and that the inner loop "
             "dominates (set-up, edges, packing, transforms and other loops of the layer are not "
             "counted): a lower bound in spirit, best for the GEMM-like layers. The section "
             "Estimate vs measurement gives its error on this host.");
    return rc;
}

/* ---- output files */

typedef int (*writer_fn)(const mvit_report *r, FILE *f);

/* DIR/report.{md,json,html}, each through a temporary name renamed when complete. */
int mvit_report_write_files(const mvit_report *r, const char *dir, mvit_diag *d)
{
    static const struct {
        const char *name;
        writer_fn fn;
    } outs[] = {{"report.md", mvit_report_write_md},
                {"report.json", mvit_report_write_json},
                {"report.html", mvit_report_write_html}};
    for (size_t i = 0; i < sizeof outs / sizeof *outs; i++) {
        char path[1200], tmp[1300];
        snprintf(path, sizeof path, "%s/%s", dir, outs[i].name);
        snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, outs[i].name, (long)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f)
            return mvit_diag_at(d, MVIT_EIO, tmp, 0, 0, "cannot create: %s", strerror(errno));
        int bad = outs[i].fn(r, f) < 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path) != 0) {
            remove(tmp);
            return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "write failed");
        }
    }
    return 0;
}
