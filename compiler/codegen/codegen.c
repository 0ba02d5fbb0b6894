/* The fixed layout of a generated file (STYLE.md rule 5): banner, minimal includes, the
 * pasted kernels, one static const weights blob, one static function per layer, and the
 * entry point. Output depends only on the graph and info: no timestamps, no hash order. */
#include "codegen/codegen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/kernels_embedded.h"
#include "kernels/mvk-prelude.h"
#include "ops/ops.h"

#define BLOB_ALIGN 16 /* floats: 64 bytes */

/* A float param already in the blob with the same bits (multi-resolution builds: the layers
 * of every resolution share one copy of the weights), or -1. */
static int64_t find_param(const mvit_codegen *cg, const float *data, int64_t count)
{
    for (int i = 0; i < cg->num_params; i++) {
        mvit_param *p = &cg->params[i];
        if (p->count == count &&
            !memcmp(cg->blob + p->offset, data, (size_t)count * sizeof *data)) {
            p->paths |= 1u << cg->path;
            return p->offset;
        }
    }
    return -1;
}

int64_t cg_param(mvit_codegen *cg, const float *data, int64_t count, const char *fmt, ...)
{
    if (cg->share_params) {
        const int64_t same = find_param(cg, data, count);
        if (same >= 0)
            return same;
    }
    int64_t off = (cg->blob_len + BLOB_ALIGN - 1) / BLOB_ALIGN * BLOB_ALIGN;
    if (off + count > cg->blob_cap) {
        while (off + count > cg->blob_cap)
            cg->blob_cap = cg->blob_cap ? 2 * cg->blob_cap : 1 << 16;
        cg->blob = mvit_xrealloc(cg->blob, (size_t)cg->blob_cap * sizeof *cg->blob);
    }
    for (int64_t i = cg->blob_len; i < off; i++)
        cg->blob[i] = 0.0f;
    memcpy(cg->blob + off, data, (size_t)count * sizeof *data);
    cg->blob_len = off + count;
    if (cg->num_params == cg->cap_params) {
        cg->cap_params = cg->cap_params ? 2 * cg->cap_params : 64;
        cg->params = mvit_xrealloc(cg->params, (size_t)cg->cap_params * sizeof *cg->params);
    }
    mvit_param *p = &cg->params[cg->num_params++];
    p->offset = off;
    p->count = count;
    p->paths = 1u << cg->path;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->label, sizeof p->label, fmt, ap);
    va_end(ap);
    return off;
}

static const struct {
    int width;
    const char *type, *suffix;
} int_kinds[CG_INT_KINDS] = {
    {1, "int8_t", "i8"}, {2, "int16_t", "i16"}, {4, "int32_t", "i32"}, {8, "int64_t", "i64"}};

static void add_label(mvit_param **params, int *num, int *cap, int64_t off, int64_t count,
                      unsigned paths, const char *fmt, va_list ap)
{
    if (*num == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *params = mvit_xrealloc(*params, (size_t)*cap * sizeof **params);
    }
    mvit_param *p = &(*params)[(*num)++];
    p->offset = off;
    p->count = count;
    p->paths = paths;
    vsnprintf(p->label, sizeof p->label, fmt, ap);
}

int64_t cg_param_int(mvit_codegen *cg, cg_int_kind kind, const void *data, int64_t count,
                     const char *fmt, ...)
{
    cg_int_blob *b = &cg->ints[kind];
    const int w = int_kinds[kind].width;
    if (cg->share_params) /* an identical earlier array of this kind */
        for (int i = 0; i < b->num_params; i++) {
            mvit_param *p = &b->params[i];
            if (p->count == count && !memcmp(b->data + p->offset * w, data, (size_t)(count * w))) {
                p->paths |= 1u << cg->path;
                return p->offset;
            }
        }
    const int64_t align = 16 / w; /* 16 bytes: SIMD kernels load these unaligned */
    int64_t off = (b->len + align - 1) / align * align;
    if (off + count > b->cap) {
        while (off + count > b->cap)
            b->cap = b->cap ? 2 * b->cap : 1 << 12;
        b->data = mvit_xrealloc(b->data, (size_t)(b->cap * w));
    }
    memset(b->data + b->len * w, 0, (size_t)((off - b->len) * w));
    memcpy(b->data + off * w, data, (size_t)(count * w));
    b->len = off + count;
    va_list ap;
    va_start(ap, fmt);
    add_label(&b->params, &b->num_params, &b->cap_params, off, count, 1u << cg->path, fmt, ap);
    va_end(ap);
    return off;
}

void cg_int_ref(const mvit_codegen *cg, cg_int_kind kind, char *buf, size_t n, int64_t offset)
{
    snprintf(buf, n, "%s_%s + %lld", cg->prefix, int_kinds[kind].suffix, (long long)offset);
}

static long long int_at(const cg_int_blob *b, cg_int_kind kind, int64_t i)
{
    const unsigned char *p = b->data + i * int_kinds[kind].width;
    switch (kind) {
    case CG_I8: return *(const int8_t *)p;
    case CG_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case CG_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

/* One typed array per integer kind used: decimal literals, 16 to a line, labelled. */
static void emit_int_blobs(mvit_codegen *cg, mvit_emitter *e)
{
    for (int k = 0; k < CG_INT_KINDS; k++) {
        const cg_int_blob *b = &cg->ints[k];
        if (!b->len)
            continue;
        emit(e, "/* ---- int8 build constants: %lld x %s */", (long long)b->len, int_kinds[k].type);
        emit(e, "static const %s %s_%s[%lld] MVK_ALIGN64 = {", int_kinds[k].type, cg->prefix,
             int_kinds[k].suffix, (long long)b->len);
        int next = 0;
        char line[400];
        for (int64_t i = 0; i < b->len;) {
            if (next < b->num_params && b->params[next].offset == i) {
                emit(e, "    /* %lld: %s */", (long long)i, b->params[next].label);
                next++;
            }
            int64_t end = next < b->num_params ? b->params[next].offset : b->len;
            if (end > i + 16)
                end = i + 16;
            size_t len = (size_t)snprintf(line, sizeof line, "   ");
            for (; i < end; i++) {
                const long long v = int_at(b, (cg_int_kind)k, i);
                if (k == CG_I64)
                    len += (size_t)snprintf(line + len, sizeof line - len, " INT64_C(%lld),", v);
                else if (k == CG_I32 && v == INT32_MIN)
                    len += (size_t)snprintf(line + len, sizeof line - len, " INT32_MIN,");
                else
                    len += (size_t)snprintf(line + len, sizeof line - len, " %lld,", v);
            }
            emit(e, "%s", line);
        }
        emit(e, "};");
        emit(e, "%s", "");
    }
}

int cg_kernel_exists(const char *file)
{
    for (int i = 0; i < mvit_kernel_source_count; i++)
        if (!strcmp(mvit_kernel_sources[i].name, file))
            return 1;
    return 0;
}

static int kernel_index(const char *name, size_t len);

/* Uses the kernels a kernel file declares it calls, first: a comment that starts "needs:" and
 * lists kernel files, then (why). So a lowering names only the kernel it calls. */
static void use_needs(mvit_codegen *cg, const char *text)
{
    for (const char *s = strstr(text, "/* needs: "); s; s = strstr(s + 1, "/* needs: ")) {
        const char *p = s + 10, *end = strstr(p, "*/");
        while (end && p < end && *p != '(') {
            const size_t len = strcspn(p, " ,()*\n");
            const int j = len ? kernel_index(p, len) : -1;
            if (j >= 0)
                cg_use_kernel(cg, mvit_kernel_sources[j].name);
            p += len ? len : 1;
        }
    }
}

void cg_use_kernel(mvit_codegen *cg, const char *file)
{
    for (int i = 0; i < mvit_kernel_source_count; i++)
        if (!strcmp(mvit_kernel_sources[i].name, file)) {
            for (int k = 0; k < cg->num_kernels; k++)
                if (cg->kernel_order[k] == i)
                    return;
            use_needs(cg, mvit_kernel_sources[i].text);
            cg->kernel_order[cg->num_kernels++] = i;
            return;
        }
    fprintf(stderr, "mvitc: internal error: kernel %s is not embedded\n", file);
    abort();
}

void cg_parallel(mvit_codegen *cg, int64_t units) { cg->units[cg->cur_node] = units; }

void cg_weight_ref(const mvit_codegen *cg, char *buf, size_t n, int64_t offset)
{
    snprintf(buf, n, "%s_weights.f + %lld", cg->prefix, (long long)offset);
}

/* A resize's taps along one axis as a static table of the current layer function. */
void cg_taps(mvit_codegen *cg, const char *name, const mvk_lerp *t, int count)
{
    emit(&cg->body, "static const mvk_lerp %s[%d] = {", name, count);
    for (int i = 0; i < count; i += 4) {
        char line[512] = "";
        for (int j = i; j < count && j < i + 4; j++) {
            char l0[32], l1[32], tap[128];
            emit_float_literal(l0, sizeof l0, t[j].l0);
            emit_float_literal(l1, sizeof l1, t[j].l1);
            snprintf(tap, sizeof tap, "%s{%d, %d, %s, %s, %d, %d},", j > i ? " " : "", t[j].i0,
                     t[j].i1, l0, l1, t[j].q0, t[j].q1);
            strncat(line, tap, sizeof line - strlen(line) - 1);
        }
        emit(&cg->body, "    %s", line);
    }
    emit(&cg->body, "};");
}

void cg_remap(mvit_codegen *cg, const mvit_node *n, char *expr, size_t len)
{
    mvk_remap *rm = mvit_node_remap(n);
    snprintf(expr, len, "0");
    if (!rm)
        return;
    const int unfold = rm->kind == MVK_REMAP_UNFOLD;
    if (rm->ty) {
        emit(&cg->body, "/* the map %dx%d does not split into %dx%d patches: %s */", rm->mh, rm->mw,
             rm->ph, rm->pw,
             unfold ? "resized to the patch grid first (bilinear, align_corners=False)"
                    : "the patch grid is resized back to it (bilinear, align_corners=False)");
        cg_taps(cg, "ty", rm->ty, unfold ? rm->gh : rm->mh);
        cg_taps(cg, "tx", rm->tx, unfold ? rm->gw : rm->mw);
    }
    emit(&cg->body,
         "static const mvk_remap remap = {.kind = %s, .ph = %d, .pw = %d, .gh = %d, "
         ".gw = %d, .mh = %d, .mw = %d, .ty = %s, .tx = %s};",
         unfold ? "MVK_REMAP_UNFOLD" : "MVK_REMAP_FOLD", rm->ph, rm->pw, rm->gh, rm->gw, rm->mh,
         rm->mw, rm->ty ? "ty" : "0", rm->ty ? "tx" : "0");
    snprintf(expr, len, "&remap");
    free(rm);
}

void cg_conv2d(mvit_codegen *cg, const mvk_conv2d *p, char *expr, size_t len)
{
    char cat[32] = "", blocks[80] = "";
    if (p->in_c_b)
        snprintf(cat, sizeof cat, " .in_c_b = %d,", p->in_c_b);
    if (p->mc)
        snprintf(blocks, sizeof blocks, ", .mc = %d, .kc = %d", p->mc, p->kc);
    if (p->col_splits > 1) /* appended: a shape may have both */
        snprintf(blocks + strlen(blocks), sizeof blocks - strlen(blocks), ", .col_splits = %d",
                 p->col_splits);
    emit(&cg->body, "static const mvk_conv2d conv = {.in_h = %d, .in_w = %d, .in_c = %d,%s", p->in_h,
         p->in_w, p->in_c, cat);
    emit(&cg->body, "    .out_h = %d, .out_w = %d, .out_c = %d, .kernel = %d, .stride = %d, .pad = %d,",
         p->out_h, p->out_w, p->out_c, p->kernel, p->stride, p->pad);
    emit(&cg->body, "    .groups = %d, .act = %s%s};", p->groups,
         p->act == MVK_ACT_SILU ? "MVK_ACT_SILU" : "MVK_ACT_NONE", blocks);
    snprintf(expr, len, "&conv");
}

void cg_gemm(mvit_codegen *cg, const mvk_gemm *p, const char *remap, char *expr, size_t len)
{
    char eps[48] = "", blocks[48] = "";
    if (p->eps > 0.0f) {
        char lit[32];
        emit_float_literal(lit, sizeof lit, p->eps);
        snprintf(eps, sizeof eps, ", .eps = %s", lit);
    }
    if (p->mc)
        snprintf(blocks, sizeof blocks, ", .mc = %d, .kc = %d", p->mc, p->kc);
    emit(&cg->body, "static const mvk_gemm gemm = {.m = %lld, .k = %d, .n = %d, .act = %s,",
         (long long)p->m, p->k, p->n, p->act == MVK_ACT_SILU ? "MVK_ACT_SILU" : "MVK_ACT_NONE");
    emit(&cg->body, "    .remap = %s%s%s};", remap, eps, blocks);
    snprintf(expr, len, "&gemm");
}

const mvit_target *const mvit_targets[] = {&mvit_target_generic, &mvit_target_avx2,
                                           &mvit_target_avx512, &mvit_target_x86_64,
                                           &mvit_target_neon, NULL};

const mvit_target *mvit_find_target(const char *name)
{
    for (int i = 0; mvit_targets[i]; i++)
        if (!strcmp(mvit_targets[i]->name, name))
            return mvit_targets[i];
    return NULL;
}

void mvit_target_names(const char *sep, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; mvit_targets[i] && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? sep : "", mvit_targets[i]->name);
}

static int64_t node_scratch(const mvit_target *t, const mvit_graph *g, const mvit_node *n)
{
    const mvit_op_def *op = mvit_op_defs[n->op];
    mvit_scratch_fn fn = n->q               ? op->scratch_i8
                         : t->scratch[n->op] ? t->scratch[n->op]
                                             : op->scratch_f32;
    return (!n->dead && fn) ? fn(t, g, n) : 0;
}

void mvit_target_assign_scratch(const mvit_target *t, mvit_graph *g)
{
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *n = &g->nodes[i];
        n->scratch_bytes = t->paths ? 0 : node_scratch(t, g, n);
        for (int k = 0; t->paths && t->paths[k]; k++) { /* one plan for every path */
            const int64_t b = node_scratch(t->paths[k], g, n);
            n->scratch_bytes = b > n->scratch_bytes ? b : n->scratch_bytes;
        }
    }
}

// ---- pieces of the file

static int kernel_index(const char *name, size_t len)
{
    for (int i = 0; i < mvit_kernel_source_count; i++)
        if (strlen(mvit_kernel_sources[i].name) == len &&
            !strncmp(mvit_kernel_sources[i].name, name, len))
            return i;
    return -1;
}

/* What has been pasted: each kernel file at most once, as include guards would have it, except
 * that an ISA header's binding (the lines before its include guard) is pasted again where a
 * file of that ISA follows another ISA's, and a driver (*-driver.h) once per ISA binding it
 * is instantiated under (a file may hold several ISAs: the x86-64 target). */
typedef struct paste_state {
    char *pasted;     /* per kernel source */
    char *driver_isa; /* per kernel source x ISA slot: driver pasted under that binding */
    const char *isa;  /* the binding in force: the ISA header last pasted, or NULL */
    const char *isas[8];
    int num_isas;
} paste_state;

static int is_suffix(const char *s, const char *suffix)
{
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* An ISA header (mvk-<isa>.h), not the prelude. */
static int is_isa_header(const char *name)
{
    return !strncmp(name, "mvk-", 4) && strcmp(name, "mvk-prelude.h");
}

static int isa_slot(paste_state *ps)
{
    for (int i = 0; i < ps->num_isas; i++)
        if (ps->isas[i] == ps->isa)
            return i;
    if (ps->num_isas == (int)(sizeof ps->isas / sizeof *ps->isas)) {
        fprintf(stderr, "mvitc: internal error: more ISAs in one file than paste_state holds\n");
        abort();
    }
    ps->isas[ps->num_isas] = ps->isa;
    return ps->num_isas++;
}

/* The binding of an ISA header: its text before the include guard's #ifndef. */
static void paste_binding(mvit_emitter *e, const mvit_kernel_source *k, const char *parent)
{
    const char *guard = strstr(k->text, "\n#ifndef MVK_");
    emit(e, "/* ---- %s: its binding again (included by %s) */", k->name, parent);
    emit_text(e, k->text, guard ? (size_t)(guard - k->text) + 1 : 0);
}

static void paste_kernel(mvit_emitter *e, int i, paste_state *ps, const char *parent);

/* The line #include "x" of a kernel file: pastes x in its place when it is a kernel file
 * (by the rules of paste_state), drops it otherwise; returns whether it pasted anything. */
static int paste_include(mvit_emitter *e, const char *name, size_t len, paste_state *ps,
                         const char *parent)
{
    const int j = kernel_index(name, len);
    if (j < 0)
        return 0;
    const mvit_kernel_source *k = &mvit_kernel_sources[j];
    if (is_isa_header(k->name) && ps->pasted[j]) {
        if (ps->isa == k->name)
            return 0;
        paste_binding(e, k, parent);
        ps->isa = k->name;
        return 1;
    }
    if (ps->pasted[j] && !(is_suffix(k->name, "-driver.h") &&
                           !ps->driver_isa[j * 8 + isa_slot(ps)]))
        return 0;
    paste_kernel(e, j, ps, parent);
    return 1;
}

/* Pastes kernel file i and, in place of its #include "x" lines, the kernel files they name;
 * system includes stay. */
static void paste_kernel(mvit_emitter *e, int i, paste_state *ps, const char *parent)
{
    const mvit_kernel_source *k = &mvit_kernel_sources[i];
    if (ps->pasted[i] && !is_suffix(k->name, "-driver.h"))
        return;
    ps->pasted[i] = 1;
    if (is_isa_header(k->name))
        ps->isa = k->name;
    if (is_suffix(k->name, "-driver.h"))
        ps->driver_isa[i * 8 + isa_slot(ps)] = 1;
    if (parent)
        emit(e, "/* ---- %s (included by %s) */", k->name, parent);
    else
        emit(e, "/* ---- %s */", k->name);
    const char *s = k->text;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (strncmp(s, "#include \"", 10)) {
            emit_text(e, s, len);
        } else {
            const char *name = s + 10, *end = memchr(name, '"', len - 10);
            if (end && paste_include(e, name, (size_t)(end - name), ps, k->name) &&
                s[strspn(s + len, " \n") + len])
                emit(e, "/* ---- %s, continued */", k->name);
        }
        s += len;
    }
    emit(e, "%s", "");
}

/* The prelude, then kernels in order of first use (a kernel's lowering requests the kernels
 * it calls before itself, and a kernel file's #include lines paste what it builds on, so
 * every function is defined before its first call). */
static void emit_kernels(mvit_codegen *cg, mvit_emitter *e)
{
    paste_state ps = {.pasted = mvit_xcalloc((size_t)mvit_kernel_source_count, 1),
                      .driver_isa = mvit_xcalloc((size_t)mvit_kernel_source_count * 8, 1)};
    const int prelude = kernel_index("mvk-prelude.h", strlen("mvk-prelude.h"));
    if (prelude >= 0)
        paste_kernel(e, prelude, &ps, NULL);
    /* the ISA headers first: the layer functions' attributes (fn_attr) are their macros */
    const mvit_target *const self[] = {cg->file_target, NULL};
    const mvit_target *const *targets = cg->file_target->paths ? cg->file_target->paths : self;
    for (int k = 0; targets[k]; k++) {
        if (!targets[k]->simd)
            continue;
        char isa[64];
        snprintf(isa, sizeof isa, "mvk-%s.h", targets[k]->simd->suffix);
        const int h = kernel_index(isa, strlen(isa));
        if (h >= 0)
            paste_kernel(e, h, &ps, NULL);
    }
    for (int k = 0; k < cg->num_kernels; k++)
        paste_kernel(e, cg->kernel_order[k], &ps, NULL);
    free(ps.pasted);
    free(ps.driver_isa);
}

/* Weights as IEEE-754 bit patterns through a union: exact, compact, and reading .f after
 * initialising .u is defined behaviour in C. */
static void emit_weights(mvit_codegen *cg, mvit_emitter *e)
{
    int64_t n = cg->blob_len ? cg->blob_len : 1;
    emit(e, "/* ---- weights: %lld floats (%lld bytes), BatchNorm folded, layouts HWIO / IO */",
         (long long)cg->blob_len, (long long)cg->blob_len * 4);
    emit(e, "static const union {");
    emit(e, "    uint32_t u[%lld];", (long long)n);
    emit(e, "    float f[%lld];", (long long)n);
    emit(e, "} %s_weights MVK_ALIGN64 = {{", cg->prefix);
    int next = 0;
    char line[160];
    for (int64_t i = 0; i < cg->blob_len;) {
        if (next < cg->num_params && cg->params[next].offset == i) {
            emit(e, "    /* %lld: %s */", (long long)i, cg->params[next].label);
            next++;
        }
        int64_t end = next < cg->num_params ? cg->params[next].offset : cg->blob_len;
        if (end > i + 8)
            end = i + 8;
        size_t len = (size_t)snprintf(line, sizeof line, "   ");
        for (; i < end; i++) {
            uint32_t bits;
            memcpy(&bits, &cg->blob[i], sizeof bits);
            len += (size_t)snprintf(line + len, sizeof line - len, " 0x%08xu,", bits);
        }
        emit(e, "%s", line);
    }
    if (!cg->blob_len)
        emit(e, "    0u");
    emit(e, "}};");
    emit(e, "%s", "");
}

static void value_expr(const mvit_codegen *cg, char *buf, size_t n, int v, int is_const)
{
    const mvit_value *val = &cg->g->values[v];
    (void)cg;
    if (val->kind == MVIT_VALUE_INPUT)
        snprintf(buf, n, "input");
    else if (val->kind == MVIT_VALUE_OUTPUT)
        snprintf(buf, n, "logits");
    else
        snprintf(buf, n, "(%sfloat *)(a + %lld)", is_const ? "const " : "", (long long)val->offset);
}

static void emit_layer(mvit_codegen *cg, int idx, const mvit_node *n)
{
    const mvit_graph *g = cg->g;
    const mvit_value *o = &g->values[n->output];
    mvit_emitter *e = &cg->body;
    char shape_in[48] = "", act[16] = "", res[16] = "";
    if (n->num_inputs) {
        const mvit_value *a = &g->values[n->inputs[0]];
        snprintf(shape_in, sizeof shape_in, "%dx%dx%d -> ", a->dims[0], a->dims[1], a->dims[2]);
    }
    if (n->act == MVIT_ACT_SILU)
        snprintf(act, sizeof act, " + silu");
    if (n->residual >= 0)
        snprintf(res, sizeof res, " + residual");
    emit(e, "/* %s: %s%s%s, %s%dx%dx%d, %lld MACs (%s:%d) */", n->name, mvit_op_names[n->op],
         res, act, shape_in, o->dims[0], o->dims[1], o->dims[2],
         (long long)mvit_node_macs(g, n), g->desc ? g->desc->path : "?", n->loc.line);
    emit(e, "static MVK_NO_SSP %svoid %s_layer%s_%03d(const %s_args *a, int64_t r0, int64_t r1, float *scratch)",
         cg->target->fn_attr ? cg->target->fn_attr : "", cg->prefix, cg->v, idx, cg->prefix);
    emit_open(e, "{");
    emit(e, "const float *in0 = a->in0, *in1 = a->in1, *res = a->res;");
    emit(e, "float *out = a->out;");
    emit(e, "(void)in0, (void)in1, (void)res, (void)r0, (void)r1, (void)scratch;");
    cg->cur_node = idx;
    if (n->q) /* every target: the op's int8 lowering (every op the int8 pass accepts has one) */
        mvit_op_defs[n->op]->lower_i8(cg, n);
    else if (cg->target->emit_node[n->op])
        cg->target->emit_node[n->op](cg, n);
    else
        mvit_op_defs[n->op]->lower_f32(cg, n); /* float graphs: every op has one */
    emit_close(e, "}");
    emit(e, "%s", "");
}

/* The dispatcher every layer goes through: serial on the calling thread, or split into at most
 * MAX_TASKS tasks (each with its own scratch slot) through the caller's parallel-for. */
static void emit_dispatch(mvit_codegen *cg, mvit_emitter *e)
{
    const char *p = cg->prefix;
    emit(e, "/* ---- dispatch: a layer runs whole, or as tasks over its work units [r0, r1) */");
    emit(e, "typedef struct %s_args {", p);
    emit(e, "    const float *in0, *in1, *res;");
    emit(e, "    float *out, *scratch;");
    emit(e, "} %s_args;", p);
    emit(e, "typedef void (*%s_layer_fn)(const %s_args *a, int64_t r0, int64_t r1, float *scratch);",
         p, p);
    emit(e, "typedef struct %s_job {", p);
    emit(e, "    %s_layer_fn fn;", p);
    emit(e, "    const %s_args *a;", p);
    emit(e, "    int64_t units, scratch_floats;");
    emit(e, "    int tasks;");
    emit(e, "} %s_job;", p);
    emit(e, "%s", "");
    emit(e, "static MVK_NO_SSP void %s_task(void *ctx, int i)", p);
    emit_open(e, "{");
    emit(e, "const %s_job *j = (const %s_job *)ctx;", p, p);
    /* units * tasks stays far below 2^31 (units are pixel rows or blocks); mvk_idiv keeps
     * 32-bit ARM free of libgcc's division helpers */
    emit(e, "const int u = (int)j->units;");
    emit(e, "j->fn(j->a, mvk_idiv(u * i, j->tasks), mvk_idiv(u * (i + 1), j->tasks),");
    emit(e, "      j->a->scratch ? j->a->scratch + j->scratch_floats * i : 0);");
    emit_close(e, "}");
    emit(e, "%s", "");
    emit(e, "static MVK_NO_SSP void %s_exec(const %s_parallel *par, %s_layer_fn fn, const float *in0,", p, p,
         p);
    emit(e, "    const float *in1, const float *res, float *out, float *scratch, int64_t units,");
    emit(e, "    int64_t scratch_floats)");
    emit_open(e, "{");
    emit(e, "%s_args a;", p);
    emit(e, "a.in0 = in0, a.in1 = in1, a.res = res, a.out = out, a.scratch = scratch;");
    emit_open(e, "if (par && par->parallel_for && units > 1) {");
    emit(e, "%s_job j;", p);
    emit(e, "j.fn = fn, j.a = &a, j.units = units, j.scratch_floats = scratch_floats;");
    emit(e, "j.tasks = units < %s_MAX_TASKS ? (int)units : %s_MAX_TASKS;", p, p);
    emit(e, "par->parallel_for(par->user, j.tasks, %s_task, &j);", p);
    emit_close(e, "} else {");
    emit(e, "    fn(&a, 0, units > 0 ? units : 1, scratch);");
    emit(e, "}");
    emit_close(e, "}");
    emit(e, "%s", "");
}

static void emit_profile_hook(mvit_codegen *cg, mvit_emitter *e)
{
    const char *p = cg->prefix, *v = cg->v;
    emit(e, "/* Per-layer timing: build with -DMVIT_PROFILE and define mvit_profile_layer(); the");
    emit(e, " * hook is called before (end = 0) and after (end = 1) every layer. Off by default. */");
    emit(e, "#ifdef MVIT_PROFILE");
    emit(e, "void mvit_profile_layer(const char *model, int layer, const char *name, int end);");
    emit(e, "#define %s_PROFILE%s(i, name, end) mvit_profile_layer(\"%s%s\", i, name, end)", p, v,
         p, v);
    emit(e, "#else");
    emit(e, "#define %s_PROFILE%s(i, name, end) ((void)0)", p, v);
    emit(e, "#endif");
    emit(e, "%s", "");
}

/* The forward pass's call of layer i through the dispatcher. */
static void emit_layer_call(mvit_codegen *cg, mvit_emitter *e, int i, int max_tasks)
{
    const mvit_node *n = &cg->g->nodes[i];
    const char *p = cg->prefix, *v = cg->v;
    char in0[64] = "0", in1[64] = "0", res[64] = "0", out[64], scr[64] = "0";
    if (n->num_inputs > 0)
        value_expr(cg, in0, sizeof in0, n->inputs[0], 1);
    if (n->num_inputs > 1)
        value_expr(cg, in1, sizeof in1, n->inputs[1], 1);
    if (n->residual >= 0)
        value_expr(cg, res, sizeof res, n->residual, 1);
    value_expr(cg, out, sizeof out, n->output, 0);
    if (n->scratch_bytes > 0)
        snprintf(scr, sizeof scr, "(float *)(a + %lld)", (long long)n->scratch_offset);
    /* scratch_bytes covers max_tasks slots when the node is parallel */
    int64_t slot = cg->units[i] > 0 ? n->scratch_bytes / 4 / max_tasks : 0;
    const int skippable = n->op == MVIT_OP_QUANTIZE; /* P_run_u8 wrote its output */
    if (skippable)
        emit_open(e, "if (!pixels_done) {");
    emit(e, "%s_PROFILE%s(%d, \"%s\", 0);", p, v, i, n->name);
    emit(e, "%s_exec(par, %s_layer%s_%03d, %s, %s, %s,", p, p, v, i, in0, in1, res);
    emit(e, "    %s, %s, %lld, %lld);", out, scr, (long long)cg->units[i], (long long)slot);
    emit(e, "%s_PROFILE%s(%d, \"%s\", 1);", p, v, i, n->name);
    if (skippable)
        emit_close(e, "}");
}

/* P_run_u8: the 8-bit image through the pixel tables, then the forward pass. */
/* "static " for the entry points of one path of a file of several (the file's own
 * dispatching entry points are the public ones), else "". */
static const char *path_linkage(const mvit_codegen *cg)
{
    return cg->target != cg->file_target ? "static " : "";
}

static void emit_run_u8(mvit_codegen *cg, mvit_emitter *e)
{
    const mvit_graph *g = cg->g;
    const char *p = cg->prefix, *v = cg->v;
    const mvit_value *in = &g->values[g->input];
    emit(e, "%sMVK_NO_SSP int %s_run_u8%s(const uint8_t *image_hwc, float *logits, void *arena)",
         path_linkage(cg), p, v);
    emit_open(e, "{");
    emit(e, "char *a = (char *)arena;");
    emit(e, "if (!image_hwc || !logits || !arena || ((uintptr_t)arena & 63u) != 0)");
    emit(e, "    return -1;");
    emit(e, "static const mvk_map image = {.pixels = %lld, .c = %d};",
         (long long)in->dims[0] * in->dims[1], in->dims[2]);
    if (g->num_nodes > 0 && g->nodes[0].op == MVIT_OP_QUANTIZE) { /* int8 */
        const mvit_value *q = &g->values[g->nodes[0].output];
        emit(e, "mvk_i8_pixels__scalar(&image, image_hwc, (int8_t *)(a + %lld), %s);",
             (long long)q->offset, cg->u8_table);
        emit(e, "%s_forward%s(0, logits, a, 0, 1);", p, v);
        emit(e, "return 0;");
    } else {
        emit(e, "float *x = (float *)(a + %lld);", (long long)cg->g->arena_bytes);
        emit(e, "mvk_f32_pixels__scalar(&image, image_hwc, x, %s);", cg->u8_table);
        emit(e, "return %s_run_parallel%s(x, logits, arena, 0);", p, v);
    }
    emit_close(e, "}");
}

static void emit_run(mvit_codegen *cg, mvit_emitter *e, int max_tasks)
{
    const mvit_graph *g = cg->g;
    const char *p = cg->prefix, *v = cg->v;
    emit_profile_hook(cg, e);
    emit(e, "static MVK_NO_SSP void %s_forward%s(const float *input, float *logits, char *a,", p, v);
    emit(e, "    const %s_parallel *par, int pixels_done)", p);
    emit_open(e, "{");
    emit(e, "(void)pixels_done;");
    for (int i = 0; i < g->num_nodes; i++)
        if (!g->nodes[i].dead)
            emit_layer_call(cg, e, i, max_tasks);
    emit_close(e, "}");
    emit(e, "%s", "");
    const char *linkage = path_linkage(cg);
    emit(e, "%sMVK_NO_SSP int %s_run_parallel%s(const float *input, float *logits, void *arena,",
         linkage, p, v);
    emit(e, "    const %s_parallel *par)", p);
    emit_open(e, "{");
    emit(e, "if (!input || !logits || !arena || ((uintptr_t)arena & 63u) != 0)");
    emit(e, "    return -1;");
    emit(e, "%s_forward%s(input, logits, (char *)arena, par, 0);", p, v);
    emit(e, "return 0;");
    emit_close(e, "}");
    emit(e, "%s", "");
    if (!*linkage) { /* a path's P_run is the dispatcher's, which calls its P_run_parallel */
        emit(e, "MVK_NO_SSP int %s_run%s(const float *input, float *logits, void *arena)", p, v);
        emit_open(e, "{");
        emit(e, "return %s_run_parallel%s(input, logits, arena, 0);", p, v);
        emit_close(e, "}");
        emit(e, "%s", "");
    }
    emit_run_u8(cg, e);
}

/* Arena bytes P_run_u8 needs: float builds stage the normalised image after the arena. */
static int64_t arena_bytes_u8(const mvit_graph *g)
{
    if (g->num_nodes > 0 && g->nodes[0].op == MVIT_OP_QUANTIZE)
        return g->arena_bytes;
    return g->arena_bytes + (mvit_value_numel(&g->values[g->input]) * 4 + 63) / 64 * 64;
}

/* The tables P_run_u8 reads, registered before the constants are written out. */
static void register_pixel_tables(mvit_codegen *cg)
{
    const mvit_graph *g = cg->g;
    const mvit_model_desc *m = g->desc;
    const int c = g->values[g->input].dims[2];
    if (g->num_nodes > 0 && g->nodes[0].op == MVIT_OP_QUANTIZE) {
        cg_use_kernel(cg, "i8-scalar.c");
        cg_int_ref(cg, CG_I8, cg->u8_table, sizeof cg->u8_table,
                   cg_param_int(cg, CG_I8, g->nodes[0].q->pixel_lut, (int64_t)c * 256,
                                "P_run_u8: pixel -> int8 input, per channel"));
        return;
    }
    float *lut = mvit_xmalloc((size_t)c * 256 * sizeof *lut);
    for (int ch = 0; ch < c; ch++)
        for (int v = 0; v < 256; v++) /* as runtime/mvrt_image.c: v / 255, then (x - mean) / std */
            lut[ch * 256 + v] = m ? ((float)v / 255.0f - m->mean[ch]) / m->std[ch] : (float)v;
    cg_use_kernel(cg, "f32-pixels-scalar.c");
    cg_weight_ref(cg, cg->u8_table, sizeof cg->u8_table,
                  cg_param(cg, lut, (int64_t)c * 256, "P_run_u8: pixel -> normalised input"));
    free(lut);
}

static int64_t total_macs(const mvit_graph *g)
{
    int64_t m = 0;
    for (int i = 0; i < g->num_nodes; i++)
        if (!g->nodes[i].dead)
            m += mvit_node_macs(g, &g->nodes[i]);
    return m;
}

/* Bytes of every constant array the file holds (padding included). */
static int64_t constant_bytes(const mvit_codegen *cg)
{
    int64_t n = cg->blob_len * 4;
    for (int k = 0; k < CG_INT_KINDS; k++)
        n += cg->ints[k].len * int_kinds[k].width;
    return n;
}

/* "R" for a square input, "HxW" otherwise. */
static void size_name(char *buf, size_t n, const mvit_graph *g)
{
    const mvit_value *in = &g->values[g->input];
    mvit_size_name(in->dims[0], in->dims[1], buf, n);
}

/* The variant suffix of a graph: "" for a single-resolution build, else "_<size name>". */
static void variant_name(char *buf, size_t n, const mvit_graph *g, int multi)
{
    buf[0] = 0;
    if (multi) {
        buf[0] = '_';
        size_name(buf + 1, n - 1, g);
    }
}

/* Banner lines naming the MobileViT blocks whose map is resized to whole patches and back
 * (the layer that unfolds: a conv_1x1 reading through the remap, or the unfold itself). */
static void emit_resize_list(const mvit_graph *g, int multi, mvit_emitter *e)
{
    const mvit_value *in = &g->values[g->input];
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        const int unfolds = n->op == MVIT_OP_UNFOLD || n->remap == MVK_REMAP_UNFOLD;
        if (n->dead || !unfolds || !mvit_node_resizes(n))
            continue;
        char at[32] = "";
        if (multi)
            snprintf(at, sizeof at, " (input %dx%d)", in->dims[0], in->dims[1]);
        emit(e,
             " * resized:   %s%s: map %dx%d -> patch grid %dx%d before the unfold, back after "
             "the fold (bilinear, align_corners=False)",
             n->name, at, n->map_h, n->map_w, n->grid_h, n->grid_w);
    }
}

static void emit_banner(const mvit_codegen *cg, const mvit_graph *const *gs, int num,
                        const mvit_codegen_info *info, mvit_emitter *e)
{
    const mvit_model_desc *m = gs[0]->desc;
    emit(e, "/* Generated by mvitc %s. Do not edit.", MVIT_VERSION);
    emit(e, " * command:   %s", info->command_line);
    emit(e, " * model:     %s (%s), weights %s", m->name, info->desc_path, info->weights_path);
    emit(e, " * model hash (FNV-1a 64 of description and weights): %016llx",
         (unsigned long long)info->model_hash);
    emit(e, " * target:    %s, precision %s", cg->target->name, info->precision);
    if (!info->multi_resolution) {
        emit(e, " * input:     %dx%dx%d (HWC, %s), %d classes, %lld MACs, arena %lld bytes",
             m->height, m->width, m->channels, m->channel_order, m->num_classes,
             (long long)total_macs(gs[0]), (long long)gs[0]->arena_bytes);
    } else {
        emit(e, " * input:     %d channels (HWC, %s), %d classes; one entry point per resolution:",
             m->channels, m->channel_order, m->num_classes);
        for (int i = 0; i < num; i++) {
            const mvit_value *in = &gs[i]->values[gs[i]->input];
            emit(e, " *            %dx%d: %lld MACs, arena %lld bytes", in->dims[0], in->dims[1],
                 (long long)total_macs(gs[i]), (long long)gs[i]->arena_bytes);
        }
    }
    for (int i = 0; i < num; i++)
        emit_resize_list(gs[i], num > 1, e);
    emit(e, " * constants: %lld bytes (weights, biases, requantisation parameters, tables) */",
         (long long)constant_bytes(cg));
}

static void emit_normalisation(const mvit_model_desc *m, const char *p, mvit_emitter *e)
{
    char list[512];
    emit(e, "/* the normalisation the weights expect: x = (pixel / 255 - mean) / std, per channel */");
    for (int which = 0; which < 2; which++) {
        size_t len = 0;
        for (int c = 0; c < m->channels; c++) {
            char f[32];
            emit_float_literal(f, sizeof f, which ? m->std[c] : m->mean[c]);
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", c ? ", " : "", f);
        }
        emit(e, "#define %s_INPUT_%s {%s}", p, which ? "STD" : "MEAN", list);
    }
    emit(e, "#define %s_CHANNEL_ORDER \"%s\"", p, m->channel_order);
}

/* The size macros: plain for one resolution; with a _<resolution> suffix for several, plus
 * the plain arena sizes as the maximum over them (one arena serves every entry point). */
static void emit_size_macros(const mvit_graph *const *gs, int num, const char *p, int multi,
                             mvit_emitter *e)
{
    const mvit_model_desc *m = gs[0]->desc;
    if (multi) {
        int64_t arena = 0, arena_u8 = 0;
        char list[512];
        size_t len = 0;
        for (int i = 0; i < num; i++) {
            const mvit_value *in = &gs[i]->values[gs[i]->input];
            arena = gs[i]->arena_bytes > arena ? gs[i]->arena_bytes : arena;
            arena_u8 = arena_bytes_u8(gs[i]) > arena_u8 ? arena_bytes_u8(gs[i]) : arena_u8;
            len += (size_t)snprintf(list + len, sizeof list - len, "%s{%d, %d}", i ? ", " : "",
                                    in->dims[0], in->dims[1]);
        }
        emit(e,
             "/* the input sizes this file runs at, {height, width} each: entry points "
             "%s_run_<R> for R x R, %s_run_<H>x<W> otherwise */",
             p, p);
        emit(e, "#define %s_INPUT_SIZES {%s}", p, list);
        emit(e, "#define %s_NUM_RESOLUTIONS %d", p, num);
        for (int i = 0; i < num; i++) {
            const mvit_value *in = &gs[i]->values[gs[i]->input];
            char v[16];
            variant_name(v, sizeof v, gs[i], 1);
            emit(e, "#define %s_INPUT_HEIGHT%s %d", p, v, in->dims[0]);
            emit(e, "#define %s_INPUT_WIDTH%s %d", p, v, in->dims[1]);
            emit(e, "#define %s_ARENA_BYTES%s %lld", p, v, (long long)gs[i]->arena_bytes);
            emit(e, "#define %s_ARENA_BYTES_U8%s %lld", p, v, (long long)arena_bytes_u8(gs[i]));
        }
        emit(e, "#define %s_INPUT_CHANNELS %d", p, m->channels);
        emit(e, "#define %s_NUM_CLASSES %d", p, m->num_classes);
        emit(e, "/* bytes of a caller-owned arena for any %s_run_<resolution> (the largest); it", p);
        emit(e, " * must be 64-byte aligned */");
        emit(e, "#define %s_ARENA_BYTES %lld", p, (long long)arena);
        emit(e, "/* bytes of an arena for any %s_run_u8_<resolution> (>= %s_ARENA_BYTES) */", p, p);
        emit(e, "#define %s_ARENA_BYTES_U8 %lld", p, (long long)arena_u8);
        return;
    }
    emit(e, "#define %s_INPUT_HEIGHT %d", p, m->height);
    emit(e, "#define %s_INPUT_WIDTH %d", p, m->width);
    emit(e, "#define %s_INPUT_CHANNELS %d", p, m->channels);
    emit(e, "#define %s_NUM_CLASSES %d", p, m->num_classes);
    emit(e, "/* bytes of the caller-owned arena; it must be 64-byte aligned */");
    emit(e, "#define %s_ARENA_BYTES %lld", p, (long long)gs[0]->arena_bytes);
    emit(e, "/* bytes of the arena %s_run_u8 needs (>= %s_ARENA_BYTES) */", p, p);
    emit(e, "#define %s_ARENA_BYTES_U8 %lld", p, (long long)arena_bytes_u8(gs[0]));
}

static void emit_prototypes(const char *p, const char *v, mvit_emitter *e)
{
    emit(e, "/* Runs the network on one image. input: %s_INPUT_HEIGHT%s x %s_INPUT_WIDTH%s x", p, v,
         p, v);
    emit(e, " * %s_INPUT_CHANNELS floats (HWC), already normalised; logits: %s_NUM_CLASSES", p, p);
    emit(e, " * floats; arena: %s_ARENA_BYTES%s bytes, 64-byte aligned, owned by the caller.", p, v);
    emit(e, " * No global state: distinct arenas may run concurrently. Returns 0, or -1 for a");
    emit(e, " * NULL or misaligned argument. */");
    emit(e, "int %s_run%s(const float *input, float *logits, void *arena);", p, v);
    emit(e, "%s", "");
    emit(e, "/* As %s_run%s, from 8-bit pixels: image_hwc is %s_INPUT_HEIGHT%s x %s_INPUT_WIDTH%s x",
         p, v, p, v, p, v);
    emit(e, " * %s_INPUT_CHANNELS bytes (HWC, %s_CHANNEL_ORDER, not normalised); the", p, p);
    emit(e, " * normalisation is folded into a table. arena: %s_ARENA_BYTES_U8%s bytes. */", p, v);
    emit(e, "int %s_run_u8%s(const uint8_t *image_hwc, float *logits, void *arena);", p, v);
    emit(e, "%s", "");
}

static int num_paths(const mvit_target *t)
{
    int k = 0;
    while (t->paths && t->paths[k])
        k++;
    return k;
}

/* Constant bytes path k reads (arrays it shares with other paths included). */
static int64_t path_constant_bytes(const mvit_codegen *cg, int k)
{
    int64_t n = 0;
    for (int i = 0; i < cg->num_params; i++)
        if (cg->params[i].paths >> k & 1)
            n += cg->params[i].count * 4;
    for (int kind = 0; kind < CG_INT_KINDS; kind++)
        for (int i = 0; i < cg->ints[kind].num_params; i++)
            if (cg->ints[kind].params[i].paths >> k & 1)
                n += cg->ints[kind].params[i].count * int_kinds[kind].width;
    return n;
}

static void upper(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = src[i] == '-' ? '_' : (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
    dst[i] = 0;
}

static void emit_path_macros(const mvit_codegen *cg, mvit_emitter *e)
{
    const char *p = cg->prefix;
    const mvit_target *t = cg->file_target;
    emit(e, "/* the code paths this file holds, chosen at run time (%s_current_path) */", p);
    for (int k = 0; t->paths[k]; k++) {
        char up[32];
        upper(up, sizeof up, t->paths[k]->name);
        emit(e, "#define %s_PATH_%s %d", p, up, k);
    }
    emit(e, "#define %s_NUM_PATHS %d", p, num_paths(t));
    emit(e, "/* constant bytes each path reads (arrays that paths share counted in each); the");
    emit(e, " * file holds each identical array once: %lld bytes in all */",
         (long long)constant_bytes(cg));
    for (int k = 0; t->paths[k]; k++) {
        char up[32];
        upper(up, sizeof up, t->paths[k]->name);
        emit(e, "#define %s_CONSTANT_BYTES_%s %lld", p, up, (long long)path_constant_bytes(cg, k));
    }
}

static void emit_header(const mvit_codegen *cg, const mvit_graph *const *gs, int num,
                        const mvit_codegen_info *info, mvit_emitter *e)
{
    const mvit_model_desc *m = gs[0]->desc;
    const char *p = cg->prefix;
    const int multi = info->multi_resolution;
    emit_banner(cg, gs, num, info, e);
    emit(e, "#ifndef %s_H", p);
    emit(e, "#define %s_H", p);
    emit(e, "%s", "");
    emit(e, "#include <stdint.h>");
    emit(e, "%s", "");
    emit_size_macros(gs, num, p, multi, e);
    if (cg->file_target->paths)
        emit_path_macros(cg, e);
    emit(e, "/* most tasks one layer is split into by %s_run_parallel */", p);
    emit(e, "#define %s_MAX_TASKS %d", p, info->max_tasks > 0 ? info->max_tasks : 1);
    emit_normalisation(m, p, e);
    emit(e, "%s", "");
    emit(e, "#ifdef __cplusplus");
    emit(e, "extern \"C\" {");
    emit(e, "#endif");
    emit(e, "%s", "");
    for (int i = 0; i < num; i++) {
        char v[16];
        variant_name(v, sizeof v, gs[i], multi);
        emit_prototypes(p, v, e);
    }
    if (cg->file_target->paths) {
        emit(e, "/* The code path every entry point runs (%s_PATH_...): the best the CPU can", p);
        emit(e, " * take (CPUID and XGETBV, read once), or the caller's choice.");
        emit(e, " * %s_select_path(path) makes every later run take that path and returns it,", p);
        emit(e, " * or returns -1 (nothing changed) for a path this CPU cannot run; call it");
        emit(e, " * before running, not while runs are in flight. Compiling the file with");
        emit(e, " * -D%s_FORCE_PATH=n fixes the path without asking the CPU. */", p);
        emit(e, "int %s_current_path(void);", p);
        emit(e, "int %s_select_path(int path);", p);
        emit(e, "/* \"generic\", \"avx2\", ... for a path number, NULL for none */");
        emit(e, "const char *%s_path_name(int path);", p);
        emit(e, "%s", "");
    }
    emit(e, "/* Optional parallel-for hook: parallel_for(user, n, task, ctx) must call task(ctx, i)");
    emit(e, " * once for every i in [0, n), in any order and on any threads, and return when all");
    emit(e, " * calls have returned. n never exceeds %s_MAX_TASKS. runtime/mvrt_pool.h has one. */",
         p);
    emit(e, "typedef struct %s_parallel {", p);
    emit(e, "    void (*parallel_for)(void *user, int n, void (*task)(void *ctx, int i), void *ctx);");
    emit(e, "    void *user;");
    emit(e, "} %s_parallel;", p);
    emit(e, "%s", "");
    for (int i = 0; i < num; i++) {
        char v[16];
        variant_name(v, sizeof v, gs[i], multi);
        emit(e, "/* As %s_run%s; par == NULL (or a NULL parallel_for) runs on the calling thread. */",
             p, v);
        emit(e, "int %s_run_parallel%s(const float *input, float *logits, void *arena,", p, v);
        emit(e, "                    const %s_parallel *par);", p);
        emit(e, "%s", "");
    }
    emit(e, "#ifdef __cplusplus");
    emit(e, "}");
    emit(e, "#endif");
    emit(e, "%s", "");
    emit(e, "#endif");
}

// ---- files of several code paths (x86-64)

/* The path chosen once: the CPU's best (the target's P_cpu_path) unless the caller chose one
 * (P_select_path, or P_FORCE_PATH when the file is compiled). */
static void emit_path_select(mvit_codegen *cg, mvit_emitter *e)
{
    const char *p = cg->prefix;
    const mvit_target *t = cg->file_target;
    cg->file_target->select_fn(p, e);
    emit(e, "/* the path every entry point runs: -1 until the first run or %s_select_path; an int", p);
    emit(e, " * that every thread would set to the same value, so a race is harmless */");
    emit(e, "static volatile int %s_path_now = -1;", p);
    emit(e, "%s", "");
    emit(e, "MVK_NO_SSP int %s_current_path(void)", p);
    emit_open(e, "{");
    emit(e, "int path = %s_path_now;", p);
    emit_open(e, "if (path < 0) {");
    emit(e, "#ifdef %s_FORCE_PATH", p);
    emit(e, "path = %s_FORCE_PATH;", p);
    emit(e, "#else");
    emit(e, "path = %s_cpu_path();", p);
    emit(e, "#endif");
    emit(e, "%s_path_now = path;", p);
    emit_close(e, "}");
    emit(e, "return path;");
    emit_close(e, "}");
    emit(e, "%s", "");
    emit(e, "MVK_NO_SSP int %s_select_path(int path)", p);
    emit_open(e, "{");
    emit(e, "if (path < 0 || path >= %s_NUM_PATHS || path > %s_cpu_path())", p, p);
    emit(e, "    return -1;");
    emit(e, "%s_path_now = path;", p);
    emit(e, "return path;");
    emit_close(e, "}");
    emit(e, "%s", "");
    emit(e, "MVK_NO_SSP const char *%s_path_name(int path)", p);
    emit_open(e, "{");
    emit(e, "switch (path) {");
    for (int k = 0; t->paths[k]; k++)
        emit(e, "case %d: return \"%s\";", k, t->paths[k]->name);
    emit(e, "default: return 0;");
    emit(e, "}");
    emit_close(e, "}");
    emit(e, "%s", "");
}

/* The public entry points of one graph (variant v): the chosen path's. */
static void emit_path_dispatch(mvit_codegen *cg, const char *v, mvit_emitter *e)
{
    const char *p = cg->prefix;
    const mvit_target *t = cg->file_target;
    static const char *const entry[3][3] = {
        {"run_parallel", "const float *input, float *logits, void *arena, const %s_parallel *par",
         "input, logits, arena, par"},
        {"run", "const float *input, float *logits, void *arena", "input, logits, arena, 0"},
        {"run_u8", "const uint8_t *image_hwc, float *logits, void *arena",
         "image_hwc, logits, arena"}};
    for (int f = 0; f < 3; f++) {
        char params[160];
        snprintf(params, sizeof params, entry[f][1], p);
        emit(e, "MVK_NO_SSP int %s_%s%s(%s)", p, entry[f][0], v, params);
        emit_open(e, "{");
        emit(e, "switch (%s_current_path()) {", p);
        for (int k = num_paths(t) - 1; k >= 0; k--) {
            char label[24] = "default:";
            if (k)
                snprintf(label, sizeof label, "case %d:", k);
            emit(e, "%s return %s_%s%s__%s(%s);", label, p, f == 1 ? "run_parallel" : entry[f][0],
                 v, t->paths[k]->name, entry[f][2]);
        }
        emit(e, "}");
        emit_close(e, "}");
        emit(e, "%s", "");
    }
}

/* Layer functions and entry points of one graph, into cg->body and runs. */
static void emit_graph(mvit_codegen *cg, const mvit_graph *g, const char *v, int max_tasks,
                       mvit_emitter *runs)
{
    cg->g = g;
    cg->v = v;
    free(cg->units);
    cg->units = mvit_xcalloc((size_t)g->num_nodes + 1, sizeof *cg->units);
    for (int i = 0; i < g->num_nodes; i++)
        if (!g->nodes[i].dead)
            emit_layer(cg, i, &g->nodes[i]);
    register_pixel_tables(cg);
    emit_run(cg, runs, max_tasks);
}

int mvit_codegen_emit(const mvit_graph *const *gs, int num, const mvit_target *t,
                      const mvit_codegen_info *info, mvit_emitter *c_out, mvit_emitter *h_out,
                      mvit_diag *d)
{
    (void)d;
    mvit_codegen cg = {0};
    mvit_emitter runs = {0};
    char *names = mvit_xcalloc((size_t)num, 16);
    cg.target = cg.file_target = t;
    cg.prefix = info->prefix;
    cg.share_params = info->multi_resolution || t->paths;
    cg.kernel_order = mvit_xcalloc((size_t)mvit_kernel_source_count, sizeof *cg.kernel_order);
    const int max_tasks = info->max_tasks > 0 ? info->max_tasks : 1;
    for (int i = 0; i < num; i++) {
        variant_name(names + 16 * i, 16, gs[i], info->multi_resolution);
        if (i > 0)
            emit(&runs, "%s", "");
        if (!t->paths) {
            emit_graph(&cg, gs[i], names + 16 * i, max_tasks, &runs);
            continue;
        }
        for (cg.path = 0; t->paths[cg.path]; cg.path++) { /* P_run<v>__<path>, static */
            char v[48];
            snprintf(v, sizeof v, "%.15s__%.24s", names + 16 * i, t->paths[cg.path]->name);
            cg.target = t->paths[cg.path];
            emit_graph(&cg, gs[i], v, max_tasks, &runs);
        }
        cg.target = t, cg.path = 0;
        emit_path_dispatch(&cg, names + 16 * i, &runs);
    }

    emit_banner(&cg, gs, num, info, c_out);
    emit(c_out, "#include <stddef.h>");
    emit(c_out, "#include <stdint.h>");
    if (t->includes && *t->includes)
        emit(c_out, "%s", t->includes);
    emit(c_out, "%s", "");
    emit(c_out, "#include \"%s.h\"", cg.prefix);
    emit(c_out, "%s", "");
    emit_kernels(&cg, c_out);
    emit_weights(&cg, c_out);
    emit_int_blobs(&cg, c_out);
    emit_dispatch(&cg, c_out);
    if (t->paths)
        emit_path_select(&cg, c_out);
    emit(c_out, "/* ---- layers, in execution order; arena offsets in bytes */");
    emit(c_out, "%s", "");
    emit_text(c_out, cg.body.buf ? cg.body.buf : "", cg.body.len);
    emit_text(c_out, runs.buf ? runs.buf : "", runs.len);
    emit_header(&cg, gs, num, info, h_out);

    emit_free(&cg.body);
    emit_free(&runs);
    free(names);
    free(cg.blob);
    free(cg.params);
    free(cg.kernel_order);
    free(cg.units);
    for (int k = 0; k < CG_INT_KINDS; k++) {
        free(cg.ints[k].data);
        free(cg.ints[k].params);
    }
    return 0;
}
