/* Static cycle estimates of each layer's inner loop (see mca.h). clang compiles the generated
 * file to assembly; the .text of that assembly is read into functions, labels and
 * instructions; each layer's call tree is searched for work loops (innermost, or doing the
 * multiply-accumulates around MAC-free nested loops), and the one doing the
 * most multiply-accumulate lanes is written out alone and timed by llvm-mca. Tools run through
 * report/tool.h (argv arrays, never a shell). Supports x86-64 (AT&T syntax) and
 * AArch64 (GNU syntax) triples. */
#define _POSIX_C_SOURCE 200809L /* getline */

#include "report/mca.h"
#include "report/tool.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* llvm-mca simulates this many back-to-back iterations; Total Cycles / Iterations is then the
 * steady-state cost of one iteration including loop-carried latencies (e.g. an accumulator
 * chain), which Block RThroughput ignores since it only counts port pressure. The pipeline
 * fill adds about latency / 100 per iteration, well below the model's other errors. */
#define MCA_ITERATIONS 100

/* Largest llvm-mca report we read; with the tables turned off it is a few hundred bytes. */
#define MCA_REPORT_MAX ((size_t)1 << 22)

// ---- running tools

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = mvit_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

// ---- reading the assembly

enum { LN_LABEL, LN_INSN };

typedef struct asm_line {
    char *text; /* a label's name, or an instruction without its comment */
    int kind;   /* LN_* */
} asm_line;

typedef struct asm_func {
    char *name;
    int first, end; /* its lines: [first, end) of asm_file.lines */
    /* its best work loop (analyze_func), computed once and shared by all layers */
    int analyzed;
    int *ranges;    /* the loop's lines in layout order: [ranges[2i], ranges[2i + 1]) */
    int num_ranges; /* 0: no loop */
    int loop_id;    /* the header's line within the function, for file names */
    int mac_lanes, wide_lanes, insns, vector_lanes;
    double cycles; /* llvm-mca's estimate; < 0 until run */
    /* its heaviest loop without accumulating vector MACs (an activation's exp, a softmax, a
     * Winograd transform), as above; elem_num_ranges 0: none */
    int *elem_ranges, elem_num_ranges, elem_loop_id, elem_vector_lanes;
    int elem_weight; /* 1000 x its vector instructions + its instructions; no call in it */
    double elem_cycles;
} asm_func;

typedef struct asm_file {
    int arm; /* AArch64 GNU syntax, else x86 AT&T */
    asm_line *lines;
    int num_lines, cap_lines;
    asm_func *funcs;
    int num_funcs, cap_funcs;
    int *by_name; /* funcs indices sorted by name */
} asm_file;

static void asm_file_free(asm_file *f)
{
    for (int i = 0; i < f->num_lines; i++)
        free(f->lines[i].text);
    for (int i = 0; i < f->num_funcs; i++) {
        free(f->funcs[i].name);
        free(f->funcs[i].ranges);
        free(f->funcs[i].elem_ranges);
    }
    free(f->lines);
    free(f->funcs);
    free(f->by_name);
}

static void add_line(asm_file *f, const char *s, size_t n, int kind)
{
    if (f->num_lines == f->cap_lines) {
        f->cap_lines = f->cap_lines ? 2 * f->cap_lines : 1024;
        f->lines = mvit_xrealloc(f->lines, (size_t)f->cap_lines * sizeof *f->lines);
    }
    char *t = mvit_xmalloc(n + 1);
    memcpy(t, s, n);
    t[n] = 0;
    f->lines[f->num_lines].text = t;
    f->lines[f->num_lines++].kind = kind;
}

static void add_func(asm_file *f, const char *name, size_t n)
{
    if (f->num_funcs == f->cap_funcs) {
        f->cap_funcs = f->cap_funcs ? 2 * f->cap_funcs : 64;
        f->funcs = mvit_xrealloc(f->funcs, (size_t)f->cap_funcs * sizeof *f->funcs);
    }
    asm_func *fn = &f->funcs[f->num_funcs++];
    memset(fn, 0, sizeof *fn);
    fn->name = mvit_xmalloc(n + 1);
    memcpy(fn->name, name, n);
    fn->name[n] = 0;
    fn->first = fn->end = f->num_lines;
    fn->cycles = -1;
    fn->elem_cycles = -1;
}

static int is_sym_char(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '$';
}

/* Cuts the comment off s in place (x86 '#', AArch64 "//"; not inside quotes). */
static void strip_comment(char *s, int arm)
{
    int quoted = 0;
    for (char *p = s; *p; p++) {
        if (*p == '"' && (p == s || p[-1] != '\\'))
            quoted = !quoted;
        else if (!quoted && (arm ? (p[0] == '/' && p[1] == '/') : *p == '#')) {
            *p = 0;
            return;
        }
    }
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && !memcmp(p, w, n);
}

/* Section state: only .text (and .text.*) is kept; .previous / .popsection go back one. */
typedef struct section_state {
    int in_text, prev_in_text;
} section_state;

/* Handles a directive at p (starting with '.'); pending_fn receives the name of a
 * `.type name,@function` (x86) or `.type name,%function` (both spellings seen from AArch64). */
static void directive(const char *p, section_state *s, char **pending_fn)
{
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n]) && p[n] != ',')
        n++;
    const char *arg = skip_space(p + n);
    if (word_is(p, n, ".text")) {
        s->prev_in_text = s->in_text;
        s->in_text = 1;
    } else if (word_is(p, n, ".section") || word_is(p, n, ".pushsection")) {
        if (*arg == '"')
            arg++;
        s->prev_in_text = s->in_text;
        s->in_text = !strncmp(arg, ".text", 5) && (!arg[5] || strchr("., \t\"", arg[5]));
    } else if (word_is(p, n, ".data") || word_is(p, n, ".bss")) {
        s->prev_in_text = s->in_text;
        s->in_text = 0;
    } else if (word_is(p, n, ".previous") || word_is(p, n, ".popsection")) {
        int t = s->in_text;
        s->in_text = s->prev_in_text;
        s->prev_in_text = t;
    } else if (word_is(p, n, ".type") && s->in_text) {
        size_t m = 0;
        while (is_sym_char((unsigned char)arg[m]))
            m++;
        const char *kind = skip_space(arg + m);
        if (m == 0 || *kind != ',')
            return;
        kind = skip_space(kind + 1);
        if (strncmp(kind, "@function", 9) && strncmp(kind, "%function", 9))
            return;
        free(*pending_fn);
        *pending_fn = mvit_xmalloc(m + 1);
        memcpy(*pending_fn, arg, m);
        (*pending_fn)[m] = 0;
    }
}

/* Reads the text sections of an assembly file. Weights sit in .rodata as long `.long` runs,
 * so lines outside .text are dropped after a glance at their first character. A function
 * starts at the label named by the preceding .type @function and runs to the next one. */
static int read_asm(const char *path, int arm, asm_file *f, mvit_diag *d)
{
    memset(f, 0, sizeof *f);
    f->arm = arm;
    FILE *in = fopen(path, "r");
    if (!in)
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    section_state sec = {1, 1};
    char *line = NULL, *pending_fn = NULL;
    size_t cap = 0;
    ssize_t len;
    int cur = -1; /* open function */
    while ((len = getline(&line, &cap, in)) > 0) {
        char *p = (char *)skip_space(line);
        if (!sec.in_text && *p != '.')
            continue;
        line[strcspn(line, "\r\n")] = 0;
        strip_comment(p, arm);
        while (*p) {
            size_t n = 0;
            while (is_sym_char((unsigned char)p[n]))
                n++;
            if (n > 0 && p[n] == ':') { /* a label; a statement may follow it */
                if (sec.in_text && pending_fn && word_is(p, n, pending_fn)) {
                    if (cur >= 0)
                        f->funcs[cur].end = f->num_lines;
                    add_func(f, p, n);
                    cur = f->num_funcs - 1;
                    free(pending_fn);
                    pending_fn = NULL;
                } else if (sec.in_text && cur >= 0) {
                    add_line(f, p, n, LN_LABEL);
                }
                p = (char *)skip_space(p + n + 1);
                continue;
            }
            if (*p == '.') {
                directive(p, &sec, &pending_fn);
            } else if (sec.in_text && cur >= 0) {
                size_t m = strlen(p);
                while (m > 0 && isspace((unsigned char)p[m - 1]))
                    m--;
                add_line(f, p, m, LN_INSN);
            }
            break;
        }
    }
    if (cur >= 0)
        f->funcs[cur].end = f->num_lines;
    int rc = 0;
    if (ferror(in))
        rc = mvit_diag_at(d, MVIT_EIO, path, 0, 0, "read error");
    free(line);
    free(pending_fn);
    fclose(in);
    if (rc < 0)
        return rc;
    f->by_name = mvit_xcalloc((size_t)f->num_funcs + 1, sizeof *f->by_name);
    for (int i = 0; i < f->num_funcs; i++)
        f->by_name[i] = i;
    /* insertion sort: qsort has no context argument in C11, and there are few functions */
    for (int i = 1; i < f->num_funcs; i++) {
        int v = f->by_name[i], j = i;
        while (j > 0 && strcmp(f->funcs[f->by_name[j - 1]].name, f->funcs[v].name) > 0) {
            f->by_name[j] = f->by_name[j - 1];
            j--;
        }
        f->by_name[j] = v;
    }
    return 0;
}

/* Compares the n bytes at s with the string t like strcmp. */
static int cmp_n(const char *s, size_t n, const char *t)
{
    int c = strncmp(s, t, n);
    return c ? c : (t[n] ? -1 : 0);
}

static int find_func(const asm_file *f, const char *name, size_t n)
{
    int lo = 0, hi = f->num_funcs;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = cmp_n(name, n, f->funcs[f->by_name[mid]].name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

// ---- instructions

typedef struct span {
    const char *p;
    size_t n;
} span;

#define MAX_OPERANDS 8

typedef struct insn {
    span mnem;              /* after x86 prefixes such as {vex} or lock */
    span ops[MAX_OPERANDS]; /* trimmed, split at top-level commas */
    int num_ops;            /* stored operands (extra ones are dropped) */
} insn;

static void parse_insn(const char *text, int arm, insn *in)
{
    const char *p = skip_space(text);
    memset(in, 0, sizeof *in);
    for (;;) {
        size_t n = 0;
        while (p[n] && !isspace((unsigned char)p[n]))
            n++;
        int prefix =
            !arm && (p[0] == '{' || word_is(p, n, "lock") || word_is(p, n, "notrack") ||
                     word_is(p, n, "rep") || word_is(p, n, "repz") || word_is(p, n, "repnz") ||
                     word_is(p, n, "repe") || word_is(p, n, "repne"));
        if (prefix && n > 0 && p[n]) {
            p = skip_space(p + n);
            continue;
        }
        in->mnem.p = p;
        in->mnem.n = n;
        p = skip_space(p + n);
        break;
    }
    int depth = 0;
    const char *start = p;
    for (const char *q = p;; q++) {
        if (*q == '(' || *q == '[' || *q == '{')
            depth++;
        else if ((*q == ')' || *q == ']' || *q == '}') && depth > 0)
            depth--;
        if (*q == 0 || (*q == ',' && depth == 0)) {
            const char *e = q;
            while (e > start && isspace((unsigned char)e[-1]))
                e--;
            if (e > start && in->num_ops < MAX_OPERANDS) {
                in->ops[in->num_ops].p = start;
                in->ops[in->num_ops++].n = (size_t)(e - start);
            }
            if (*q == 0)
                break;
            start = skip_space(q + 1);
            q = start - 1;
        }
    }
}

enum { BR_NONE, BR_CALL, BR_COND, BR_JUMP, BR_RET };

/* Classifies a control transfer (BR_*); for a direct one, *target gets the symbol (n = 0 for
 * returns and jumps through registers). Tail calls come back as BR_JUMP: the caller tells
 * them from local branches by the name. */
static int branch_kind(const insn *in, int arm, span *target)
{
    const span m = in->mnem;
    int kind = BR_NONE;
    target->p = "";
    target->n = 0;
    if (arm) {
        if (word_is(m.p, m.n, "ret") || word_is(m.p, m.n, "brk") || word_is(m.p, m.n, "udf"))
            kind = BR_RET;
        else if (word_is(m.p, m.n, "bl") || word_is(m.p, m.n, "blr"))
            kind = BR_CALL;
        else if (word_is(m.p, m.n, "b") || word_is(m.p, m.n, "br"))
            kind = BR_JUMP;
        else if ((m.n > 2 && !strncmp(m.p, "b.", 2)) || word_is(m.p, m.n, "cbz") ||
                 word_is(m.p, m.n, "cbnz") || word_is(m.p, m.n, "tbz") || word_is(m.p, m.n, "tbnz"))
            kind = BR_COND;
    } else {
        if (word_is(m.p, m.n, "ret") || word_is(m.p, m.n, "retq") || word_is(m.p, m.n, "ud2"))
            kind = BR_RET;
        else if (word_is(m.p, m.n, "call") || word_is(m.p, m.n, "callq"))
            kind = BR_CALL;
        else if (word_is(m.p, m.n, "jmp") || word_is(m.p, m.n, "jmpq"))
            kind = BR_JUMP;
        else if (m.n > 0 && m.p[0] == 'j')
            kind = BR_COND;
    }
    if (kind == BR_NONE || kind == BR_RET || in->num_ops == 0)
        return kind;
    span t = in->ops[in->num_ops - 1];
    if (t.p[0] == '*' || t.p[0] == '%')
        return kind;
    const char *at = memchr(t.p, '@', t.n); /* foo@PLT */
    if (at)
        t.n = (size_t)(at - t.p);
    *target = t;
    return kind;
}

// ---- multiply-accumulate lanes
//
// A loop's MAC lanes per iteration are the sum over its instructions of
//   (destination elements) x (multiplies per element)
// The destination decides the width: x86 takes the last operand (%xmm 128, %ymm 256, %zmm 512
// bits, divided by the element size; ss/sd/GPR forms count 1); AArch64 takes the first
// operand's arrangement (v0.4s: 4, .8h: 8, .16b: 16, .2d: 2; s0/d0/w0/x0: 1). So:
//   x86   vfmadd*/vfmsub*/vfnmadd*/vfnmsub* ps: ymm 8, xmm 4; pd: ymm 4, xmm 2; ss/sd: 1
//         vpmaddwd ymm 16, xmm 8 (2 per int32); vpmaddubsw ymm 32, xmm 16 (2 per int16)
//         vpdpbusd ymm 32, xmm 16 (4 per int32); vpdpwssd ymm 16, xmm 8; imul 1
//         (v)mulps/pd/ss/sd and (v)pmulld likewise, if an add uses the product (below)
//   arm64 fmla/fmls .4s 4, .2s 2, .2d 2; fmadd/fmsub/fnmadd/fnmsub 1; mla/mls .4s 4, .8h 8,
//         .16b 16; smlal(2)/umlal(2)/smlsl(2)/umlsl(2)/smull(2)/umull(2) .4s 4, .8h 8, .2d 2;
//         sdot/udot/usdot .4s 16 (4 per int32); madd/msub/smaddl/umaddl 1
//         fmul and mul likewise, if an add uses the product
// A separate multiply is only half of a MAC: without FMA (the generic x86 build) a dot product
// is mulps + addps, but a scaling x * s (average pooling, an activation) is no MAC at all. So
// a multiply counts only when an add or subtract of the same kind (float or integer) reads its
// destination register later in the loop (wrapping around), before anything overwrites it.
// Likewise an accumulating form (fmadd, fmla, sdot, smlal, ...) is a MAC of the layer's work
// only when it accumulates: its addend comes from the previous iteration (no earlier
// instruction of the loop writes it) or is a product of this one (smull, then smlal into it).
// A polynomial's Horner steps (the exp of a SiLU epilogue) and a Winograd transform's
// constant multiples add to a value loaded or computed in the same iteration: not counted, so
// that such loops do not outrank the GEMM loop of their layer.

enum { K_NONE, K_MAC, K_MUL, K_ADD };
enum { G_FP = 1, G_INT };

typedef struct mac_rule {
    const char *name; /* x86: mnemonic without a leading 'v', before 132/213/231 digits and the
                         ps/pd/ss/sd suffix; AArch64: the whole mnemonic */
    int kind;         /* K_* */
    int group;        /* G_*: which multiplies and adds pair up */
    int elem_bits;    /* x86 destination element: 0 = from the ps/pd/ss/sd suffix, -1 = a
                         general register (with an optional b/w/l/q size suffix) */
    int factor;       /* multiplies per destination element */
} mac_rule;

static const mac_rule x86_rules[] = {
    {"fmadd", K_MAC, G_FP, 0, 1},       {"fmsub", K_MAC, G_FP, 0, 1},
    {"fnmadd", K_MAC, G_FP, 0, 1},      {"fnmsub", K_MAC, G_FP, 0, 1},
    {"mul", K_MUL, G_FP, 0, 1},         {"add", K_ADD, G_FP, 0, 1},
    {"sub", K_ADD, G_FP, 0, 1},         {"pmaddwd", K_MAC, G_INT, 32, 2},
    {"pmaddubsw", K_MAC, G_INT, 16, 2}, {"pdpbusd", K_MAC, G_INT, 32, 4},
    {"pdpbusds", K_MAC, G_INT, 32, 4},  {"pdpwssd", K_MAC, G_INT, 32, 2},
    {"pdpwssds", K_MAC, G_INT, 32, 2},  {"pmulld", K_MUL, G_INT, 32, 1},
    {"paddd", K_ADD, G_INT, 32, 1},     {"psubd", K_ADD, G_INT, 32, 1},
    {"imul", K_MAC, G_INT, -1, 1},
};

static const mac_rule arm_rules[] = {
    {"fmla", K_MAC, G_FP, 0, 1},    {"fmls", K_MAC, G_FP, 0, 1},    {"fmadd", K_MAC, G_FP, 0, 1},
    {"fmsub", K_MAC, G_FP, 0, 1},   {"fnmadd", K_MAC, G_FP, 0, 1},  {"fnmsub", K_MAC, G_FP, 0, 1},
    {"fmul", K_MUL, G_FP, 0, 1},    {"fadd", K_ADD, G_FP, 0, 1},    {"fsub", K_ADD, G_FP, 0, 1},
    {"mla", K_MAC, G_INT, 0, 1},    {"mls", K_MAC, G_INT, 0, 1},    {"mul", K_MUL, G_INT, 0, 1},
    {"add", K_ADD, G_INT, 0, 1},    {"sub", K_ADD, G_INT, 0, 1},    {"smlal", K_MAC, G_INT, 0, 1},
    {"smlal2", K_MAC, G_INT, 0, 1}, {"umlal", K_MAC, G_INT, 0, 1},  {"umlal2", K_MAC, G_INT, 0, 1},
    {"smlsl", K_MAC, G_INT, 0, 1},  {"smlsl2", K_MAC, G_INT, 0, 1}, {"umlsl", K_MAC, G_INT, 0, 1},
    {"umlsl2", K_MAC, G_INT, 0, 1}, {"smull", K_MAC, G_INT, 0, 1},  {"smull2", K_MAC, G_INT, 0, 1},
    {"umull", K_MAC, G_INT, 0, 1},  {"umull2", K_MAC, G_INT, 0, 1}, {"sdot", K_MAC, G_INT, 0, 4},
    {"udot", K_MAC, G_INT, 0, 4},   {"usdot", K_MAC, G_INT, 0, 4},  {"madd", K_MAC, G_INT, 0, 1},
    {"msub", K_MAC, G_INT, 0, 1},   {"smaddl", K_MAC, G_INT, 0, 1}, {"umaddl", K_MAC, G_INT, 0, 1},
};

/* Moves and bitwise logic do not say what a register holds (clang copies scalar floats with
 * movaps and float vectors with mov v.16b), so they do not count towards vector_lanes. */
static const char *const x86_untyped[] = {"xor", "and", "or", "pxor", "pand", "por"};
static const char *const arm_untyped[] = {"mov", "movi", "mvn", "not", "orr", "orn", "and",
                                          "bic", "eor",  "bsl", "bif", "bit", "ext", "fmov"};

static int starts_with(span s, const char *w)
{
    size_t n = strlen(w);
    return s.n >= n && !memcmp(s.p, w, n);
}

static int ends_with(span s, const char *w)
{
    size_t n = strlen(w);
    return s.n >= n && !memcmp(s.p + s.n - n, w, n);
}

/* Bits of an x86 vector register operand, 0 if it is none. */
static int x86_vec_bits(span op)
{
    if (starts_with(op, "%xmm"))
        return 128;
    if (starts_with(op, "%ymm"))
        return 256;
    if (starts_with(op, "%zmm"))
        return 512;
    return 0;
}

/* Elements of an AArch64 register operand: v0.4s -> 4, { v1.16b } -> 16, v0.s[1], s0, x0 -> 1. */
static int arm_elems(span op)
{
    const char *p = op.p, *e = op.p + op.n;
    while (p < e && (*p == '{' || *p == ' '))
        p++;
    if (p >= e || *p != 'v')
        return 1;
    while (p < e && *p != '.')
        p++;
    int n = 0;
    for (p++; p < e && isdigit((unsigned char)*p) && n < 1000; p++)
        n = n * 10 + (*p - '0');
    return n > 0 ? n : 1;
}

/* Register identity for the multiply-feeds-add check: SIMD/FP registers by number (xmm3 =
 * ymm3, v3.4s = q3 = s3), AArch64 w/x registers as 1000 + number; -1 for anything else. */
static int reg_id(span op, int arm)
{
    const char *p = op.p, *e = op.p + op.n;
    while (p < e && (*p == '{' || *p == ' '))
        p++;
    int base = 0;
    if (!arm) {
        if (e - p < 5 || p[0] != '%' || p[2] != 'm' || p[3] != 'm' || !strchr("xyz", p[1]))
            return -1;
        p += 4;
    } else {
        if (p >= e || !strchr("vqdshbwx", *p))
            return -1;
        base = *p == 'w' || *p == 'x' ? 1000 : 0;
        p++;
    }
    int n = 0, digits = 0;
    for (; p < e && isdigit((unsigned char)*p) && digits < 3; p++, digits++)
        n = n * 10 + (*p - '0');
    if (digits == 0 || (p < e && *p != '.' && *p != ' ' && *p != '}'))
        return -1;
    return base + n;
}

/* Destination element size of an x86 vector instruction (mnemonic without its 'v'). */
static int x86_elem_bits(span m)
{
    if (ends_with(m, "ps"))
        return 32;
    if (ends_with(m, "pd"))
        return 64;
    if (m.n > 1 && m.p[0] == 'p') {
        switch (m.p[m.n - 1]) {
        case 'b':
            return 8;
        case 'w':
            return 16;
        case 'q':
            return 64;
        }
    }
    return 32;
}

/* Scalar x86 forms that write an xmm register: addss, cvtsi2ssl, movd, ... */
static int x86_scalar(span m)
{
    for (size_t i = 0; i + 3 <= m.n; i++)
        if (!memcmp(m.p + i, "2ss", 3) || !memcmp(m.p + i, "2sd", 3))
            return 1;
    if ((ends_with(m, "ss") || ends_with(m, "sd")) && !starts_with(m, "broadcast"))
        return 1;
    return word_is(m.p, m.n, "movd") || word_is(m.p, m.n, "movq");
}

/* What one instruction contributes to a loop's lanes. */
enum { ACC_NONE = -1, ACC_MEMORY = -2 };

typedef struct insn_lanes {
    int kind, group; /* K_*, G_* */
    int lanes;       /* multiplies (K_MAC, K_MUL) */
    int vector;      /* elements of the vector it writes, 0 if none or untyped */
    int dst;         /* reg_id of the register it writes, -1 if none */
    int addend;      /* an accumulating K_MAC: reg_id of its addend, ACC_MEMORY (a constant),
                        or ACC_NONE (not accumulating, or data from memory) */
} insn_lanes;

/* The addend of an operand: its register; a constant from memory (x86 RIP-relative:
 * a polynomial's coefficient) is ACC_MEMORY; other memory (y += a * x in place) is ACC_NONE,
 * which counts. */
static int addend_of(span op, int arm)
{
    const int id = reg_id(op, arm);
    if (id >= 0)
        return id;
    for (size_t i = 0; i + 5 <= op.n; i++)
        if (!memcmp(op.p + i, "(%rip", 5))
            return ACC_MEMORY;
    return ACC_NONE;
}

static void lanes_x86(const insn *in, insn_lanes *il)
{
    span m = in->mnem;
    if (m.n > 1 && m.p[0] == 'v') {
        m.p++;
        m.n--;
    }
    const span last = in->num_ops ? in->ops[in->num_ops - 1] : (span){"", 0};
    const int vbits = x86_vec_bits(last);
    const int compare = starts_with(m, "cmp") || starts_with(m, "ucomi") ||
                        starts_with(m, "comi") || starts_with(m, "test") || starts_with(m, "ptest");
    il->dst = compare ? -1 : reg_id(last, 0);
    if (vbits && !x86_scalar(m) && !compare) {
        int typed = !(starts_with(m, "mov") && in->num_ops == 2 && in->ops[0].p[0] == '%');
        for (size_t i = 0; i < sizeof x86_untyped / sizeof *x86_untyped; i++)
            typed = typed && !starts_with(m, x86_untyped[i]);
        il->vector = typed ? vbits / x86_elem_bits(m) : 0;
    }
    for (size_t i = 0; i < sizeof x86_rules / sizeof *x86_rules; i++) {
        const mac_rule *r = &x86_rules[i];
        if (!starts_with(m, r->name))
            continue;
        span rest = {m.p + strlen(r->name), m.n - strlen(r->name)};
        while (rest.n > 0 && isdigit((unsigned char)rest.p[0]))
            rest.p++, rest.n--;
        int elems;
        if (r->elem_bits == 0) {
            if (rest.n != 2 || (rest.p[0] != 'p' && rest.p[0] != 's') ||
                (rest.p[1] != 's' && rest.p[1] != 'd'))
                continue;
            elems = rest.p[0] == 'p' ? vbits / (rest.p[1] == 's' ? 32 : 64) : 1;
        } else if (r->elem_bits < 0) {
            if (rest.n > 1 || (rest.n == 1 && !strchr("bwlq", rest.p[0])))
                continue;
            elems = 1;
        } else {
            if (rest.n != 0)
                continue;
            elems = vbits / r->elem_bits;
        }
        il->kind = r->kind;
        il->group = r->group;
        il->lanes = elems * r->factor;
        /* AT&T: 231 adds the destination, 213 the first operand, 132 the second; the dot
         * products add the destination */
        const span digits = {m.p + strlen(r->name), rest.p - m.p - strlen(r->name)};
        if (in->num_ops == 3 && r->elem_bits == 0 && digits.n == 3)
            il->addend = addend_of(in->ops[digits.p[1] == '3' ? 2 : digits.p[1] == '1' ? 0 : 1], 0);
        else if (in->num_ops == 3 && starts_with(m, "pdp"))
            il->addend = addend_of(in->ops[2], 0);
        return;
    }
}

static void lanes_arm(const insn *in, insn_lanes *il)
{
    const span m = in->mnem;
    if (in->num_ops == 0)
        return;
    const span dst = in->ops[0];
    const int elems = arm_elems(dst);
    const int writes = !starts_with(m, "st") && !starts_with(m, "cmp") && !starts_with(m, "cmn") &&
                       !starts_with(m, "fcmp") && !starts_with(m, "tst") && !starts_with(m, "prfm");
    il->dst = writes ? reg_id(dst, 1) : -1;
    if (writes && (starts_with(dst, "v") || starts_with(dst, "{"))) {
        int typed = 1;
        for (size_t i = 0; i < sizeof arm_untyped / sizeof *arm_untyped; i++)
            typed = typed && !word_is(m.p, m.n, arm_untyped[i]);
        il->vector = typed ? elems : 0;
    }
    for (size_t i = 0; i < sizeof arm_rules / sizeof *arm_rules; i++) {
        const mac_rule *r = &arm_rules[i];
        if (word_is(m.p, m.n, r->name)) {
            il->kind = r->kind;
            il->group = r->group;
            il->lanes = elems * r->factor;
            /* fmla, mla, smlal, sdot, ... add the destination; fmadd, madd, smaddl the fourth
             * operand; smull and umull add nothing */
            if (r->kind == K_MAC && in->num_ops == 4)
                il->addend = addend_of(in->ops[3], 1);
            else if (r->kind == K_MAC && in->num_ops == 3 && !strstr(r->name, "mull"))
                il->addend = addend_of(in->ops[0], 1);
            return;
        }
    }
}

/* Whether instruction in (an add) reads register id: its sources are all operands but the
 * destination (x86: the last, which a two-operand SSE form also reads; AArch64: the first). */
static int reads_reg(const insn *in, int arm, int id)
{
    for (int k = 0; k < in->num_ops; k++) {
        int src = arm ? k > 0 : k < in->num_ops - 1 || in->num_ops == 2;
        if (src && reg_id(in->ops[k], arm) == id)
            return 1;
    }
    return 0;
}

// ---- loops
//
// Loops are natural loops of the control-flow graph: an edge u -> h where h dominates u is a
// back edge, and the loop is h plus every block that reaches u without passing h. Contiguous
// [label, backward branch] ranges are not enough: clang rotates loops and places some of
// their blocks before the header, so such a range can take in outer-loop code or miss part of
// the body. An innermost loop contains no other loop's header.

/* How far after a multiply its add is looked for, in instructions. */
#define MUL_USE_WINDOW 1024

/* Whether MAC i accumulates (see "multiply-accumulate lanes"): its addend is carried from the
 * previous iteration or made by a multiply of this one. */
static int accumulates(const insn_lanes *il, int i)
{
    if (il[i].addend == ACC_NONE)
        return 1;
    if (il[i].addend == ACC_MEMORY)
        return 0;
    for (int j = i - 1; j >= 0; j--)
        if (il[j].dst == il[i].addend)
            return il[j].kind == K_MAC || il[j].kind == K_MUL;
    return 1;
}

/* Instructions, MAC lanes and widest vector of a loop's lines; wide_lanes: the MAC lanes of
 * instructions doing several at once (vector MACs, not address arithmetic). */
static void measure_body(const asm_file *f, const int *ranges, int num_ranges, int *insns,
                         int *mac_lanes, int *vector_lanes, int *wide_lanes, int *elem_weight)
{
    int n = 0, wide = 0;
    for (int r = 0; r < num_ranges; r++)
        for (int i = ranges[2 * r]; i < ranges[2 * r + 1]; i++)
            n += f->lines[i].kind == LN_INSN;
    insn *in = mvit_xcalloc((size_t)n + 1, sizeof *in);
    insn_lanes *il = mvit_xcalloc((size_t)n + 1, sizeof *il);
    int k = 0, lanes = 0, vec = 1;
    for (int r = 0; r < num_ranges; r++)
        for (int i = ranges[2 * r]; i < ranges[2 * r + 1]; i++) {
            if (f->lines[i].kind != LN_INSN)
                continue;
            parse_insn(f->lines[i].text, f->arm, &in[k]);
            il[k].dst = -1;
            il[k].addend = ACC_NONE;
            if (f->arm)
                lanes_arm(&in[k], &il[k]);
            else
                lanes_x86(&in[k], &il[k]);
            if (il[k].vector > vec)
                vec = il[k].vector;
            k++;
        }
    /* an elementwise pass: no call (a loop around a kernel call is no pass of its own), the
     * most vector instructions, then the most instructions (scalar code: the generic build) */
    int vec_insns = 0, calls = 0;
    for (int i = 0; i < n; i++) {
        span t;
        vec_insns += il[i].vector > 1;
        calls += branch_kind(&in[i], f->arm, &t) == BR_CALL;
    }
    *elem_weight = calls ? 0 : 1000 * vec_insns + n; /* vector passes first */
    for (int i = 0; i < n; i++) {
        if (il[i].kind == K_MAC && accumulates(il, i)) {
            lanes += il[i].lanes;
            wide += il[i].lanes > 1 ? il[i].lanes : 0;
        } else if (il[i].kind == K_MUL && il[i].dst >= 0) {
            /* bounded so that a pathological loop stays linear */
            for (int step = 1; step < n && step <= MUL_USE_WINDOW; step++) {
                const int j = (i + step) % n;
                if (il[j].kind == K_ADD && il[j].group == il[i].group &&
                    reads_reg(&in[j], f->arm, il[i].dst)) {
                    lanes += il[i].lanes;
                    wide += il[i].lanes > 1 ? il[i].lanes : 0;
                    break;
                }
                if (il[j].dst == il[i].dst)
                    break;
            }
        }
    }
    free(in);
    free(il);
    *insns = n;
    *mac_lanes = lanes;
    *vector_lanes = vec;
    *wide_lanes = wide;
}

typedef struct label_ref {
    const char *name;
    int pos;
} label_ref;

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const label_ref *)a)->name, ((const label_ref *)b)->name);
}

/* Position of the label named t (labels: sorted by name), or -1. */
static int find_label(const label_ref *labels, int num_labels, span t)
{
    int lo = 0, hi = num_labels;
    while (lo < hi) {
        int mid = (lo + hi) / 2, c = cmp_n(t.p, t.n, labels[mid].name);
        if (c == 0)
            return labels[mid].pos;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* The control-flow graph of one function. Block k holds lines [start[k], start[k + 1]). */
typedef struct cfg {
    int num_blocks;
    int *start;            /* num_blocks + 1 */
    int *succ;             /* 2 per block, -1: none */
    int *pred_off, *preds; /* predecessors of k: preds[pred_off[k] .. pred_off[k + 1]) */
    int *rpo;              /* reverse postorder number, -1: unreachable from the entry */
    int *idom;             /* immediate dominator, -1: unreachable */
} cfg;

static void cfg_free(cfg *g)
{
    free(g->start);
    free(g->succ);
    free(g->pred_off);
    free(g->preds);
    free(g->rpo);
    free(g->idom);
}

static void cfg_build(const asm_file *f, const asm_func *fn, cfg *g)
{
    const int n = fn->end - fn->first;
    label_ref *labels = mvit_xcalloc((size_t)n + 1, sizeof *labels);
    char *is_start = mvit_xcalloc((size_t)n + 1, 1);
    int *block_of = mvit_xcalloc((size_t)n + 1, sizeof *block_of);
    int num_labels = 0;
    is_start[0] = 1;
    for (int i = 0; i < n; i++) {
        const asm_line *l = &f->lines[fn->first + i];
        if (l->kind == LN_LABEL) {
            labels[num_labels].name = l->text;
            labels[num_labels++].pos = i;
            is_start[i] = 1;
        } else {
            insn in;
            span t;
            parse_insn(l->text, f->arm, &in);
            int k = branch_kind(&in, f->arm, &t);
            if (k != BR_NONE && k != BR_CALL)
                is_start[i + 1] = 1;
        }
    }
    qsort(labels, (size_t)num_labels, sizeof *labels, cmp_label);
    int nb = 0;
    for (int i = 0; i < n; i++)
        nb += is_start[i];
    g->num_blocks = nb;
    g->start = mvit_xcalloc((size_t)nb + 1, sizeof *g->start);
    g->succ = mvit_xcalloc(2 * (size_t)nb + 1, sizeof *g->succ);
    for (int i = 0, k = -1; i < n; i++) {
        if (is_start[i])
            g->start[++k] = fn->first + i;
        block_of[i] = k;
    }
    g->start[nb] = fn->end;
    for (int k = 0; k < nb; k++) {
        int last = g->start[k + 1] - 1;
        while (last >= g->start[k] && f->lines[last].kind != LN_INSN)
            last--;
        int kind = BR_NONE, target = -1;
        if (last >= g->start[k]) {
            insn in;
            span t;
            parse_insn(f->lines[last].text, f->arm, &in);
            kind = branch_kind(&in, f->arm, &t);
            int pos = t.n ? find_label(labels, num_labels, t) : -1;
            target = pos >= 0 ? block_of[pos] : -1;
        }
        const int next = k + 1 < nb ? k + 1 : -1;
        g->succ[2 * k] = kind == BR_JUMP || kind == BR_COND ? target : kind == BR_RET ? -1 : next;
        g->succ[2 * k + 1] = kind == BR_COND ? next : -1;
    }
    free(labels);
    free(is_start);
    free(block_of);

    g->pred_off = mvit_xcalloc((size_t)nb + 2, sizeof *g->pred_off);
    g->preds = mvit_xcalloc(2 * (size_t)nb + 1, sizeof *g->preds);
    for (int e = 0; e < 2 * nb; e++)
        if (g->succ[e] >= 0)
            g->pred_off[g->succ[e] + 1]++;
    for (int k = 0; k < nb; k++)
        g->pred_off[k + 1] += g->pred_off[k];
    int *fill = mvit_xcalloc((size_t)nb + 1, sizeof *fill);
    for (int e = 0; e < 2 * nb; e++)
        if (g->succ[e] >= 0) {
            int s = g->succ[e];
            g->preds[g->pred_off[s] + fill[s]++] = e / 2;
        }
    free(fill);

    /* reverse postorder by an explicit-stack DFS from the entry */
    g->rpo = mvit_xmalloc(((size_t)nb + 1) * sizeof *g->rpo);
    g->idom = mvit_xmalloc(((size_t)nb + 1) * sizeof *g->idom);
    int *order = mvit_xmalloc(((size_t)nb + 1) * sizeof *order); /* blocks by rpo number */
    int *stack = mvit_xmalloc(((size_t)nb + 1) * sizeof *stack);
    int *next_edge = mvit_xcalloc((size_t)nb + 1, sizeof *next_edge);
    for (int k = 0; k < nb; k++)
        g->rpo[k] = g->idom[k] = -1;
    int sp = 0, post = nb;
    if (nb > 0) {
        stack[sp++] = 0;
        g->rpo[0] = -2; /* on the stack */
    }
    while (sp > 0) {
        int k = stack[sp - 1];
        if (next_edge[k] < 2) {
            int s = g->succ[2 * k + next_edge[k]++];
            if (s >= 0 && g->rpo[s] == -1) {
                g->rpo[s] = -2;
                stack[sp++] = s;
            }
        } else {
            g->rpo[k] = --post;
            order[post] = k;
            sp--;
        }
    }
    /* post now counts the unreachable blocks: renumber the reachable ones from 0 */
    for (int r = post; r < nb; r++)
        g->rpo[order[r]] -= post;
    memmove(order, order + post, (size_t)(nb - post) * sizeof *order);
    const int reach = nb - post;

    /* dominators: the iterative algorithm of Cooper, Harvey and Kennedy over rpo */
    if (reach > 0)
        g->idom[0] = 0;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int r = 1; r < reach; r++) {
            int b = order[r], nd = -1;
            for (int j = g->pred_off[b]; j < g->pred_off[b + 1]; j++) {
                int p = g->preds[j];
                if (g->idom[p] < 0)
                    continue;
                if (nd < 0) {
                    nd = p;
                    continue;
                }
                int x = p, y = nd;
                while (x != y) {
                    while (g->rpo[x] > g->rpo[y])
                        x = g->idom[x];
                    while (g->rpo[y] > g->rpo[x])
                        y = g->idom[y];
                }
                nd = x;
            }
            if (nd >= 0 && g->idom[b] != nd) {
                g->idom[b] = nd;
                changed = 1;
            }
        }
    }
    free(order);
    free(stack);
    free(next_edge);
}

static int dominates(const cfg *g, int h, int u)
{
    for (;;) {
        if (u == h)
            return 1;
        if (u <= 0 || g->idom[u] < 0 || g->idom[u] == u)
            return 0;
        u = g->idom[u];
    }
}

/* Marks in body the natural loop of header h: h and all blocks reaching one of its latches
 * without passing h. work: num_blocks ints. */
static void loop_body(const cfg *g, int h, char *body, int *work)
{
    memset(body, 0, (size_t)g->num_blocks);
    body[h] = 1;
    int sp = 0;
    for (int j = g->pred_off[h]; j < g->pred_off[h + 1]; j++) {
        int u = g->preds[j];
        if (g->idom[u] >= 0 && dominates(g, h, u) && !body[u]) {
            body[u] = 1;
            work[sp++] = u;
        }
    }
    while (sp > 0) {
        int u = work[--sp];
        for (int j = g->pred_off[u]; j < g->pred_off[u + 1]; j++) {
            int p = g->preds[j];
            if (g->idom[p] >= 0 && !body[p]) {
                body[p] = 1;
                work[sp++] = p;
            }
        }
    }
}

/* The lines of the blocks marked in keep, as ranges in layout order; returns their count. */
static int block_ranges(const cfg *g, const char *keep, int *ranges)
{
    int num_ranges = 0;
    for (int k = 0; k < g->num_blocks; k++) {
        if (!keep[k])
            continue;
        if (num_ranges > 0 && ranges[2 * num_ranges - 1] == g->start[k]) {
            ranges[2 * num_ranges - 1] = g->start[k + 1];
        } else {
            ranges[2 * num_ranges] = g->start[k];
            ranges[2 * num_ranges++ + 1] = g->start[k + 1];
        }
    }
    return num_ranges;
}

/* Whether loop a beats loop b: most vector MAC lanes (wide_lanes), then, among loops with as
 * many, the fewest instructions (the main loop, not a tail variant with its copies, branches
 * and address arithmetic, whose scalar multiply-adds must not count); loops without vector
 * MACs by their scalar MAC lanes, then the fewest instructions, and MAC-free loops by the most
 * instructions (the work, not an initialisation). Ties keep the first. */
static int better_loop(const asm_func *a, const asm_func *b)
{
    if (a->wide_lanes != b->wide_lanes)
        return a->wide_lanes > b->wide_lanes;
    if (!a->wide_lanes && a->mac_lanes != b->mac_lanes)
        return a->mac_lanes > b->mac_lanes;
    return a->mac_lanes ? a->insns < b->insns : a->insns > b->insns;
}

/* The line ranges of the blocks loop h owns, into a fresh *kept (the old one freed); returns
 * their count. own and ranges are scratch of the graph's size. */
static int keep_loop(const cfg *g, const int *owner, int h, char *own, int *ranges, int **kept)
{
    for (int k = 0; k < g->num_blocks; k++)
        own[k] = owner[k] == h;
    const int num_ranges = block_ranges(g, own, ranges);
    free(*kept);
    *kept = mvit_xmalloc(2 * (size_t)num_ranges * sizeof **kept);
    memcpy(*kept, ranges, 2 * (size_t)num_ranges * sizeof **kept);
    return num_ranges;
}

/* Finds fn's work loops and keeps the best (better_loop; ties: the first in layout order).
 * A work loop is an innermost loop, or a loop doing vector multiply-accumulates itself whose
 * nested loops do none (a kernel's tail copy inside its tap loop must not hide the tap loop;
 * scalar multiply-adds of address arithmetic neither make a work loop nor hide one); it is
 * costed without the blocks of its nested loops. An inner loop with MACs still wins over the
 * loop around it, whatever that one does once per inner run. */
static void analyze_func(const asm_file *f, asm_func *fn)
{
    if (fn->analyzed)
        return;
    fn->analyzed = 1;
    if (fn->end <= fn->first)
        return;
    cfg g;
    memset(&g, 0, sizeof g);
    cfg_build(f, fn, &g);
    const int nb = g.num_blocks;
    char *is_header = mvit_xcalloc((size_t)nb + 1, 1), *body = mvit_xmalloc((size_t)nb + 1);
    char *own = mvit_xmalloc((size_t)nb + 1);
    int *work = mvit_xmalloc(((size_t)nb + 1) * sizeof *work);
    int *ranges = mvit_xmalloc((2 * (size_t)nb + 2) * sizeof *ranges);
    int *size = mvit_xcalloc((size_t)nb + 1, sizeof *size);
    int *owner = mvit_xmalloc(((size_t)nb + 1) * sizeof *owner);
    /* per header: instructions, MAC lanes, widest vector, vector MAC lanes of its own blocks */
    int *own_insns = mvit_xcalloc((size_t)nb + 1, sizeof *own_insns);
    int *own_lanes = mvit_xcalloc((size_t)nb + 1, sizeof *own_lanes);
    int *own_vec = mvit_xcalloc((size_t)nb + 1, sizeof *own_vec);
    int *own_wide = mvit_xcalloc((size_t)nb + 1, sizeof *own_wide);
    int *own_elem = mvit_xcalloc((size_t)nb + 1, sizeof *own_elem);
    for (int u = 0; u < nb; u++)
        for (int e = 0; e < 2 && g.idom[u] >= 0; e++) {
            int h = g.succ[2 * u + e];
            if (h >= 0 && dominates(&g, h, u))
                is_header[h] = 1;
        }
    /* each block belongs to the smallest loop holding it */
    for (int k = 0; k < nb; k++)
        owner[k] = -1;
    for (int h = 0; h < nb; h++) {
        if (!is_header[h])
            continue;
        loop_body(&g, h, body, work);
        for (int k = 0; k < nb; k++)
            size[h] += body[k];
        for (int k = 0; k < nb; k++)
            if (body[k] && (owner[k] < 0 || size[h] < size[owner[k]]))
                owner[k] = h;
    }
    for (int h = 0; h < nb; h++) {
        if (!is_header[h])
            continue;
        for (int k = 0; k < nb; k++)
            own[k] = owner[k] == h;
        measure_body(f, ranges, block_ranges(&g, own, ranges), &own_insns[h], &own_lanes[h],
                     &own_vec[h], &own_wide[h], &own_elem[h]);
    }
    for (int h = 0; h < nb; h++) {
        if (!is_header[h])
            continue;
        loop_body(&g, h, body, work);
        int innermost = 1, nested_macs = 0;
        for (int k = 0; k < nb; k++)
            if (body[k] && is_header[k] && k != h)
                innermost = 0, nested_macs |= own_wide[k] > 0;
        if (nested_macs || (!innermost && own_wide[h] == 0) || own_insns[h] == 0)
            continue;
        if (innermost && own_wide[h] == 0 && own_elem[h] > fn->elem_weight) {
            fn->elem_num_ranges = keep_loop(&g, owner, h, own, ranges, &fn->elem_ranges);
            fn->elem_loop_id = g.start[h] - fn->first;
            fn->elem_weight = own_elem[h];
            fn->elem_vector_lanes = own_vec[h];
        }
        const asm_func cand = {.mac_lanes = own_lanes[h], .wide_lanes = own_wide[h],
                               .insns = own_insns[h]};
        if (fn->num_ranges == 0 || better_loop(&cand, fn)) {
            fn->num_ranges = keep_loop(&g, owner, h, own, ranges, &fn->ranges);
            fn->loop_id = g.start[h] - fn->first;
            fn->mac_lanes = own_lanes[h];
            fn->wide_lanes = own_wide[h];
            fn->insns = own_insns[h];
            fn->vector_lanes = own_vec[h];
        }
    }
    free(is_header);
    free(body);
    free(own);
    free(work);
    free(ranges);
    free(size);
    free(owner);
    free(own_insns);
    free(own_lanes);
    free(own_vec);
    free(own_wide);
    free(own_elem);
    cfg_free(&g);
}

/* The function whose loop is best among root and everything it calls (directly, or by tail
 * call, within this file), or -1 if none of them loops. visited/queue: num_funcs each. */
static int best_in_call_tree(asm_file *f, int root, char *visited, int *queue, int *best_elem)
{
    memset(visited, 0, (size_t)f->num_funcs);
    int head = 0, tail = 0, best = -1;
    *best_elem = -1;
    visited[root] = 1;
    queue[tail++] = root;
    while (head < tail) {
        asm_func *fn = &f->funcs[queue[head++]];
        analyze_func(f, fn);
        if (fn->num_ranges > 0) {
            const asm_func *b = best >= 0 ? &f->funcs[best] : NULL;
            if (!b || better_loop(fn, b))
                best = (int)(fn - f->funcs);
        }
        if (fn->elem_num_ranges > 0 &&
            (*best_elem < 0 || fn->elem_weight > f->funcs[*best_elem].elem_weight))
            *best_elem = (int)(fn - f->funcs);
        for (int i = fn->first; i < fn->end; i++) {
            if (f->lines[i].kind != LN_INSN)
                continue;
            insn in;
            span t;
            parse_insn(f->lines[i].text, f->arm, &in);
            if (branch_kind(&in, f->arm, &t) == BR_NONE || t.n == 0)
                continue;
            int g = find_func(f, t.p, t.n);
            if (g < 0 && t.n > 8 && !strncmp(t.p, ".L", 2) && !memcmp(t.p + t.n - 6, "$local", 6))
                g = find_func(f, t.p + 2, t.n - 8); /* clang's local alias of a global */
            if (g >= 0 && !visited[g]) {
                visited[g] = 1;
                queue[tail++] = g;
            }
        }
    }
    return best;
}

// ---- llvm-mca

/* Keeps file names to [A-Za-z0-9._-]. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
            *s = '_';
}

/* Writes the instructions of one of fn's loops (ranges, layout order; labels and directives
 * dropped; branches stay, llvm-mca accepts undefined labels) and runs llvm-mca on them into
 * *cycles_out. */
static int run_mca_loop(const asm_file *f, const asm_func *fn, const int *ranges, int num_ranges,
                        int loop_id, double *cycles_out, const mvit_mca_core *core,
                        const char *work_dir, const char *tag, mvit_diag *d)
{
    const char *triple = core->triple, *cpu = core->mca_cpu;
    int rc = 0;
    /* both cpus in the name: two columns may share a model (Cortex-X1 and the Apple proxy) */
    size_t n = strlen(core->cc_cpu) + strlen(cpu) + strlen(fn->name) + strlen(tag) + 56;
    char *name = mvit_xmalloc(n);
    snprintf(name, n, "mca-%s-%s-%s-%d%s.s", core->cc_cpu[0] ? core->cc_cpu : "default", cpu,
             fn->name, loop_id, tag);
    sanitize(name);
    char *s_path = path_join(work_dir, name);
    strcpy(name + strlen(name) - 2, ".txt");
    char *out_path = path_join(work_dir, name);
    char *err_path = path_join(work_dir, "mca-llvm-mca.err");
    char *mtriple = mvit_xmalloc(strlen(triple) + 16), *mcpu = mvit_xmalloc(strlen(cpu) + 16);
    char iters[32];
    unsigned char *report = NULL;
    size_t report_len;
    sprintf(mtriple, "-mtriple=%s", triple);
    sprintf(mcpu, "-mcpu=%s", cpu);
    snprintf(iters, sizeof iters, "-iterations=%d", MCA_ITERATIONS);

    FILE *out = fopen(s_path, "w");
    if (!out) {
        rc = mvit_diag_at(d, MVIT_EIO, s_path, 0, 0, "cannot create: %s", strerror(errno));
        goto done;
    }
    for (int r = 0; r < num_ranges; r++)
        for (int i = ranges[2 * r]; i < ranges[2 * r + 1]; i++)
            if (f->lines[i].kind == LN_INSN)
                fprintf(out, "\t%s\n", f->lines[i].text);
    int werr = ferror(out);
    if (fclose(out) != 0 || werr) {
        rc = mvit_diag_at(d, MVIT_EIO, s_path, 0, 0, "write error");
        goto done;
    }
    char no_info[] = "-instruction-info=false", no_pressure[] = "-resource-pressure=false";
    char *argv[] = {
        (char *)core->mca_tool, mtriple, mcpu, iters, no_info, no_pressure, s_path, NULL};
    int status = 0;
    rc = mvit_tool_run(argv, out_path, err_path, &status, d);
    if (rc < 0)
        goto done;
    if (status != 0) {
        char msg[512];
        mvit_tool_first_line(err_path, msg, sizeof msg);
        rc = mvit_diag_at(d, MVIT_EINVAL, s_path, 0, 0,
                          "%s -mcpu=%s rejected the loop of %s (exit %d): %s", core->mca_tool, cpu,
                          fn->name, status, msg[0] ? msg : "(no message)");
        goto done;
    }
    rc = mvit_read_file(out_path, MCA_REPORT_MAX, &report, &report_len, d);
    if (rc < 0)
        goto done;
    report = mvit_xrealloc(report, report_len + 1);
    report[report_len] = 0;
    const char *it = strstr((const char *)report, "Iterations:");
    const char *tc = strstr((const char *)report, "Total Cycles:");
    double iterations = 0, cycles = 0;
    if (!it || !tc || sscanf(it + 11, "%lf", &iterations) != 1 ||
        sscanf(tc + 13, "%lf", &cycles) != 1 || iterations <= 0 || cycles <= 0) {
        rc = mvit_diag_at(d, MVIT_EPARSE, out_path, 0, 0,
                          "no \"Iterations:\" and \"Total Cycles:\" in llvm-mca's report on %s",
                          fn->name);
        goto done;
    }
    *cycles_out = cycles / iterations;
done:
    free(report);
    free(mtriple);
    free(mcpu);
    free(name);
    free(s_path);
    free(out_path);
    free(err_path);
    return rc;
}

static int run_mca(const asm_file *f, asm_func *fn, const mvit_mca_core *core, const char *work_dir,
                   const char *tag, mvit_diag *d)
{
    return run_mca_loop(f, fn, fn->ranges, fn->num_ranges, fn->loop_id, &fn->cycles, core,
                        work_dir, tag, d);
}

static int run_mca_elem(const asm_file *f, asm_func *fn, const mvit_mca_core *core,
                        const char *work_dir, const char *tag, mvit_diag *d)
{
    return run_mca_loop(f, fn, fn->elem_ranges, fn->elem_num_ranges, fn->elem_loop_id,
                        &fn->elem_cycles, core, work_dir, tag, d);
}

// ---- compiling and the entry point

/* clang argv: --target, the core (x86 clang ignores -mcpu, so -mtune there: it picks the
 * scheduling model without adding instruction sets beyond cflags'), -ffreestanding (the
 * generated code needs only clang's own stddef/stdint/intrinsics headers, and cross targets
 * may have no libc headers here), -O2, then cflags so that they can override. */
static char **clang_argv(const char *c_file, const char *include_dir, const char *triple,
                         const char *cpu, const char *cflags, int arm, const char *s_path)
{
    size_t n = 16 + strlen(cflags) / 2;
    char **argv = mvit_xcalloc(n, sizeof *argv);
    size_t k = 0, len = strlen(triple) + strlen(cpu) + 16;
    argv[k++] = mvit_xstrdup("clang");
    argv[k] = mvit_xmalloc(len);
    snprintf(argv[k++], len, "--target=%s", triple);
    if (cpu[0]) {
        argv[k] = mvit_xmalloc(len);
        snprintf(argv[k++], len, "%s=%s", arm ? "-mcpu" : "-mtune", cpu);
    }
    argv[k++] = mvit_xstrdup("-ffreestanding");
    argv[k++] = mvit_xstrdup("-O2");
    for (const char *s = cflags; *s;) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t w = strcspn(s, " \t");
        if (w == 0)
            break;
        argv[k] = mvit_xmalloc(w + 1);
        memcpy(argv[k], s, w);
        argv[k++][w] = 0;
        s += w;
    }
    argv[k++] = mvit_xstrdup("-S");
    if (include_dir && include_dir[0]) {
        argv[k++] = mvit_xstrdup("-I");
        argv[k++] = mvit_xstrdup(include_dir);
    }
    argv[k++] = mvit_xstrdup(c_file);
    argv[k++] = mvit_xstrdup("-o");
    argv[k++] = mvit_xstrdup(s_path);
    argv[k] = NULL; /* k <= 11 + words, and cflags holds at most strlen / 2 + 1 words */
    return argv;
}

/* Compiles c_file into work_dir/<s_name> and reads it. */
static int compile(const char *c_file, const char *include_dir, const char *triple, const char *cpu,
                   const char *cflags, int arm, const char *work_dir, const char *s_name,
                   asm_file *f, mvit_diag *d)
{
    memset(f, 0, sizeof *f);
    char *s_path = path_join(work_dir, s_name);
    char *err_path = path_join(work_dir, "mca-clang.err");
    char **argv = clang_argv(c_file, include_dir, triple, cpu, cflags, arm, s_path);
    int status = 0;
    int rc = mvit_tool_run(argv, NULL, err_path, &status, d);
    if (rc == 0 && status != 0) {
        char msg[1024];
        mvit_tool_first_line(err_path, msg, sizeof msg);
        rc = mvit_diag_at(d, MVIT_EINVAL, c_file, 0, 0,
                          "clang --target=%s for %s failed (exit %d): %s", triple, cpu, status,
                          msg[0] ? msg : "(no message)");
    }
    if (rc == 0)
        rc = read_asm(s_path, arm, f, d);
    if (rc == 0)
        remove(s_path); /* tens of MB per build; the loops that matter are kept as snippets */
    mvit_tool_free_argv(argv);
    free(s_path);
    free(err_path);
    return rc;
}

/* Fills out[i] for every layer i with todo[i] set whose function is in f, and clears todo[i]
 * for them. */
static int estimate(asm_file *f, const char *fn_prefix, int n, const int *layer_ids, char *todo,
                    mvit_mca_loop *out, const mvit_mca_core *core, const char *work_dir,
                    const char *tag, mvit_diag *d)
{
    char *visited = mvit_xcalloc((size_t)f->num_funcs + 1, 1);
    int *queue = mvit_xcalloc((size_t)f->num_funcs + 1, sizeof *queue);
    size_t name_cap = strlen(fn_prefix) + 16;
    char *name = mvit_xmalloc(name_cap);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!todo[i])
            continue;
        snprintf(name, name_cap, "%s%03d", fn_prefix, layer_ids[i]);
        int root = find_func(f, name, strlen(name));
        if (root < 0)
            continue;
        todo[i] = 0;
        int best_elem;
        int best = best_in_call_tree(f, root, visited, queue, &best_elem);
        if (best < 0)
            continue;
        asm_func *fn = &f->funcs[best];
        if (fn->cycles < 0)
            rc = run_mca(f, fn, core, work_dir, tag, d);
        if (rc < 0)
            break;
        snprintf(out[i].function, sizeof out[i].function, "%s", fn->name);
        out[i].instructions = fn->insns;
        out[i].mac_lanes = fn->mac_lanes;
        out[i].vector_lanes = fn->vector_lanes;
        out[i].cycles_per_iter = fn->cycles;
        asm_func *fe = best_elem >= 0 ? &f->funcs[best_elem] : NULL;
        if (!fe || (fe == fn && fe->elem_loop_id == fn->loop_id))
            continue; /* none, or the main loop itself */
        if (fe->elem_cycles < 0 && (rc = run_mca_elem(f, fe, core, work_dir, tag, d)) < 0)
            break;
        out[i].elem_vector_lanes = fe->elem_vector_lanes;
        out[i].elem_cycles_per_iter = fe->elem_cycles;
    }
    free(visited);
    free(queue);
    free(name);
    return rc;
}

int mvit_mca_layer_loops(const char *c_file, const char *include_dir, const char *fn_prefix,
                         const mvit_mca_core *core, const char *cflags, int n, const int *layer_ids,
                         mvit_mca_loop *out, const char *work_dir, mvit_diag *d)
{
    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].cycles_per_iter = -1;
        out[i].elem_cycles_per_iter = -1;
    }
    if (!c_file || !fn_prefix || !core || !core->triple || !core->cc_cpu || !core->mca_cpu ||
        !core->mca_tool || !work_dir || (n > 0 && !layer_ids))
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc", 0, 0, "mca: missing argument");
    const char *triple = core->triple, *cpu = core->cc_cpu;
    if (n <= 0)
        return 0;
    int arm;
    if (!strncmp(triple, "x86_64", 6))
        arm = 0;
    else if (!strncmp(triple, "aarch64", 7) || !strncmp(triple, "arm64", 5))
        arm = 1;
    else
        return mvit_diag_at(d, MVIT_EUNSUPPORTED, c_file, 0, 0,
                            "llvm-mca estimates support x86_64 and aarch64 triples, not '%s'",
                            triple);
    if (access(c_file, R_OK) != 0)
        return mvit_diag_at(d, MVIT_EIO, c_file, 0, 0, "cannot open: %s", strerror(errno));
    if (!cflags)
        cflags = "";

    char *todo = mvit_xmalloc((size_t)n);
    memset(todo, 1, (size_t)n);
    asm_file f;
    int rc = compile(c_file, include_dir, triple, cpu, cflags, arm, work_dir, "mca.s", &f, d);
    if (rc == 0)
        rc = estimate(&f, fn_prefix, n, layer_ids, todo, out, core, work_dir, "", d);
    asm_file_free(&f);
    /* A layer that the forward function calls directly (a single task; every layer of the
     * generic target) is inlined into it by clang and gone from the assembly. Those layers are
     * looked up in a second build that inlines only functions marked inline: the kernels they
     * call stay as they were (the big ones are not inline anyway), only the call tree above
     * them changes. Marking the layer functions noinline in the emitter makes this build
     * unnecessary. */
    int missing = 0;
    for (int i = 0; i < n; i++)
        missing += todo[i];
    if (rc == 0 && missing > 0) {
        size_t len = strlen(cflags) + 32;
        char *flags = mvit_xmalloc(len);
        snprintf(flags, len, "%s -fno-inline-functions", cflags);
        rc = compile(c_file, include_dir, triple, cpu, flags, arm, work_dir, "mca-noinline.s", &f,
                     d);
        if (rc == 0)
            rc = estimate(&f, fn_prefix, n, layer_ids, todo, out, core, work_dir, "-noinline", d);
        asm_file_free(&f);
        free(flags);
    }
    free(todo);
    return rc;
}
