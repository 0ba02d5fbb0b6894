/* Check suite for the report renderers (compiler/report/render.c). Synthetic reports (a timed
 * host build, a cross build that was not timed, a core with no estimates, names that need
 * escaping, invalid UTF-8, NaN, a non-square input) go through all three writers: the JSON must
 * parse with a strict parser here and round-trip the strings, the HTML must be well-escaped,
 * script-free and hold one SVG per chart, the Markdown table must have no empty cell. Also
 * report.c's --resolution parser and size names. `test_report_render OUT.html` also writes a
 * realistic-size sample page for tests/report_browser.sh. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc/desc.h"
#include "report/report.h"
#include "report/report_run.h"

#define DASH "\xe2\x80\x94"
#define TIMES "\xc3\x97"
#define EN "\xe2\x80\x93"

// ---- a synthetic report

static const char model_name[] = "mobile<\"&\\vit'\t|x";
static const char odd_layer[] = "attn<script>alert(1)</script>|`x`";

/* Cells cycle through targets and precisions; cell 2 is the untimed cross build (no latency,
 * no output, estimates only for cortex-a76), core 2 has no estimates anywhere. Layer 1 of
 * cell 0 has a NaN time, layer 2 an invalid UTF-8 name. */
static void make_report(mvit_report *r, int cells, int layers, int blocks)
{
    static const char *const targets[] = {"generic", "avx2", "neon"};
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", model_name);
    snprintf(r->desc_path, sizeof r->desc_path, "models/mobilevit_xs.yaml");
    snprintf(r->weights_path, sizeof r->weights_path, "w`eights.bin");
    snprintf(r->host_cpu, sizeof r->host_cpu, "Test CPU (AVX2+FMA)");
    snprintf(r->command, sizeof r->command, "mvitc report models/x.yaml --targets a|b");
    snprintf(r->estimate_assumptions, sizeof r->estimate_assumptions,
             "Every load hits L1 <and> loops dominate.");
    r->num_cores = 3;
    snprintf(r->cores[0], sizeof r->cores[0], "haswell");
    snprintf(r->cores[1], sizeof r->cores[1], "cortex-a76");
    snprintf(r->cores[2], sizeof r->cores[2], "apple-a14");
    snprintf(r->core_triples[0], sizeof r->core_triples[0], "x86_64-linux-gnu");
    snprintf(r->core_triples[1], sizeof r->core_triples[1], "aarch64-linux-gnu");
    snprintf(r->core_triples[2], sizeof r->core_triples[2], "aarch64-apple-darwin");
    r->core_ghz[0] = 3.0;
    r->core_ghz[1] = 2.4;
    r->core_ghz[2] = -1;
    snprintf(r->core_cc_cpu[1], sizeof r->core_cc_cpu[1], "cortex-a76");
    snprintf(r->core_model[1], sizeof r->core_model[1], "neoverse-n1");
    r->core_peak_f32[1] = 8;
    r->core_peak_i8[1] = 32;
    snprintf(r->core_notes[1], sizeof r->core_notes[1], "A76 <class>");
    r->num_cells = cells;
    r->cells = calloc((size_t)cells, sizeof *r->cells);
    ck_assert_ptr_nonnull(r->cells);
    for (int i = 0; i < cells; i++) {
        mvit_report_cell *c = &r->cells[i];
        const int arm = i % 3 == 2;
        snprintf(c->target, sizeof c->target, "%s", targets[i % 3]);
        snprintf(c->precision, sizeof c->precision, "%s", (i / 3) % 2 ? "int8" : "fp32");
        c->height = c->width = 64 << (i / 6);
        c->constant_bytes = 1300000 + i;
        c->code_bytes = 90000 + 1000 * i;
        snprintf(c->code_triple, sizeof c->code_triple, "%s",
                 arm ? "aarch64-linux-gnu" : "x86_64-linux-gnu");
        c->arena_lower_bound = 4096 * (int64_t)blocks / 3 + 1024;
        c->arena_bytes = 4096 * (int64_t)blocks;
        c->latency_ms = arm ? -1 : 1.5 + i;
        c->latency_runs = arm ? 0 : 20;
        snprintf(c->latency_note, sizeof c->latency_note, "%s",
                 arm ? "not timed: runs under qemu-aarch64 here" : "median of 20 runs");
        for (int k = 0; k < MVIT_REPORT_MAX_CORES; k++)
            c->est_ms[k] = -1;
        c->est_ms[arm ? 1 : 0] = 0.8 + i;
        if (!arm) {
            snprintf(c->output_hash, sizeof c->output_hash, "%016x", 0x1234abcdu + (unsigned)i);
            snprintf(c->run_note, sizeof c->run_note, "host");
        } else {
            snprintf(c->run_note, sizeof c->run_note, "not run");
        }
        c->max_diff = arm ? -1 : i % 3 == 0 && (i / 3) % 2 == 0 ? 0 : 1e-5 * (i + 1);
        c->num_layers = layers;
        c->layers = calloc((size_t)layers, sizeof *c->layers);
        ck_assert_ptr_nonnull(c->layers);
        for (int l = 0; l < layers; l++) {
            mvit_report_layer *y = &c->layers[l];
            y->index = 2 * l;
            snprintf(y->name, sizeof y->name, "stages.%d.conv", l);
            if (l == 3 % layers)
                snprintf(y->name, sizeof y->name, "%s", odd_layer);
            if (l == 2 % layers)
                snprintf(y->name, sizeof y->name, "bad\xff\xfeutf8");
            snprintf(y->op, sizeof y->op, "%s", l % 2 ? "conv2d" : "attention");
            y->macs = 1000000 * (int64_t)(l % 7 + 1);
            /* layer 4 is the slowest: the top of the ranked table */
            y->measured_us = arm ? -1 : l == 4 % layers ? 900 : 10 + l;
            for (int k = 0; k < MVIT_REPORT_MAX_CORES; k++)
                y->est_us[k] = -1;
            y->est_us[arm ? 1 : 0] = 5 + l;
            c->macs += y->macs;
        }
        if (i == 0 && layers > 1)
            c->layers[1].measured_us = NAN;
        c->num_blocks = blocks;
        c->blocks = calloc((size_t)blocks, sizeof *c->blocks);
        ck_assert_ptr_nonnull(c->blocks);
        for (int b = 0; b < blocks; b++) {
            mvit_report_block *k = &c->blocks[b];
            snprintf(k->name, sizeof k->name, b % 5 ? "value %d" : "<layer %d> scratch", b);
            k->first = (b * 7) % layers;
            k->last = k->first + b % 4 < layers ? k->first + b % 4 : layers - 1;
            k->bytes = 2048 + 512 * (b % 5);
            k->offset = 4096 * (int64_t)(b % blocks);
        }
    }
}

/* The whole output of one writer, NUL-terminated. */
static char *render(int (*fn)(const mvit_report *, FILE *), const mvit_report *r, size_t *len)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fn(r, f), 0);
    const long n = ftell(f);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    rewind(f);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return s;
}

/* A copy of [a, b). */
static char *slice(const char *a, const char *b)
{
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert(a <= b);
    char *s = malloc((size_t)(b - a) + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, a, (size_t)(b - a));
    s[b - a] = 0;
    return s;
}

static int contains_nocase(const char *s, const char *what)
{
    const size_t n = strlen(what);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] | 0x20) == (what[i] | 0x20))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

// ---- a strict JSON parser (RFC 8259), building a small tree

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    double num;
    char *str;   /* J_STR: decoded, UTF-8 */
    int n;       /* J_ARR, J_OBJ: items */
    char **keys; /* J_OBJ */
    struct jv *items;
} jv;

typedef struct jp {
    const unsigned char *s;
    size_t i, n;
    int depth;
    char err[128];
} jp;

static int j_fail(jp *p, const char *what)
{
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, "%s at byte %zu", what, p->i);
    return -1;
}

static void j_ws(jp *p)
{
    while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]) && p->s[p->i])
        p->i++;
}

/* Bytes of the well-formed UTF-8 sequence at s, 0 if malformed (independent of render.c). */
static size_t j_utf8(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    const size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    if (s[0] < 0xc2 || s[0] > 0xf4 || n < len)
        return 0;
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

static int j_string(jp *p, char **out)
{
    size_t cap = 16, len = 0;
    char *b = malloc(cap);
    p->i++; /* the opening quote */
    for (;;) {
        if (len + 5 > cap)
            b = realloc(b, cap *= 2);
        if (p->i >= p->n) {
            free(b);
            return j_fail(p, "unterminated string");
        }
        const unsigned char ch = p->s[p->i];
        if (ch == '"') {
            p->i++;
            break;
        }
        if (ch < 0x20) {
            free(b);
            return j_fail(p, "raw control character in a string");
        }
        if (ch == '\\') {
            const unsigned char e = p->i + 1 < p->n ? p->s[p->i + 1] : 0;
            const char *plain = strchr("\"\\/bfnrt", e);
            if (e && plain) {
                b[len++] = "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"];
                p->i += 2;
                continue;
            }
            unsigned cp = 0;
            if (e != 'u' || p->i + 6 > p->n) {
                free(b);
                return j_fail(p, "bad escape");
            }
            for (int k = 0; k < 4; k++) {
                const unsigned char h = p->s[p->i + 2 + k];
                const char *hex = strchr("0123456789abcdef", h | 0x20);
                if (!h || !hex) {
                    free(b);
                    return j_fail(p, "bad \\u escape");
                }
                cp = cp * 16 + (unsigned)(hex - "0123456789abcdef");
            }
            if (cp < 0x80) {
                b[len++] = (char)cp;
            } else if (cp < 0x800) {
                b[len++] = (char)(0xc0 | cp >> 6);
                b[len++] = (char)(0x80 | (cp & 0x3f));
            } else {
                b[len++] = (char)(0xe0 | cp >> 12);
                b[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[len++] = (char)(0x80 | (cp & 0x3f));
            }
            p->i += 6;
            continue;
        }
        const size_t k = j_utf8(p->s + p->i, p->n - p->i);
        if (!k) {
            free(b);
            return j_fail(p, "invalid UTF-8");
        }
        memcpy(b + len, p->s + p->i, k);
        len += k;
        p->i += k;
    }
    b[len] = 0;
    *out = b;
    return 0;
}

static int j_number(jp *p, double *out)
{
    const size_t start = p->i;
    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0') {
        p->i++;
    } else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    } else {
        return j_fail(p, "bad number");
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (!(p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9'))
            return j_fail(p, "no digits after '.'");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (!(p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9'))
            return j_fail(p, "no exponent digits");
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(p->i - start), (const char *)p->s + start);
    *out = strtod(buf, NULL);
    return 0;
}

static int j_value(jp *p, jv *v);

/* The items of an array (keys NULL) or object, after the opening bracket. */
static int j_items(jp *p, jv *v, int object)
{
    const char close = object ? '}' : ']';
    int cap = 0;
    p->i++;
    j_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = realloc(v->items, (size_t)cap * sizeof *v->items);
            if (object)
                v->keys = realloc(v->keys, (size_t)cap * sizeof *v->keys);
        }
        memset(&v->items[v->n], 0, sizeof v->items[0]);
        if (object) {
            j_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"')
                return j_fail(p, "expected a key");
            if (j_string(p, &v->keys[v->n]) < 0)
                return -1;
            j_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return j_fail(p, "expected ':'");
            p->i++;
        }
        v->n++;
        if (j_value(p, &v->items[v->n - 1]) < 0)
            return -1;
        j_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        return j_fail(p, "expected ',' or a closing bracket");
    }
}

static int j_value(jp *p, jv *v)
{
    memset(v, 0, sizeof *v);
    j_ws(p);
    if (p->i >= p->n)
        return j_fail(p, "unexpected end");
    if (++p->depth > 64)
        return j_fail(p, "too deep");
    int rc = 0;
    const unsigned char ch = p->s[p->i];
    static const struct {
        const char *word;
        int type;
    } words[] = {{"null", J_NULL}, {"true", J_BOOL}, {"false", J_BOOL}};
    if (ch == '{' || ch == '[') {
        v->type = ch == '{' ? J_OBJ : J_ARR;
        rc = j_items(p, v, ch == '{');
    } else if (ch == '"') {
        v->type = J_STR;
        rc = j_string(p, &v->str);
    } else if (ch == '-' || (ch >= '0' && ch <= '9')) {
        v->type = J_NUM;
        rc = j_number(p, &v->num);
    } else {
        rc = j_fail(p, "unexpected character");
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
            const size_t len = strlen(words[w].word);
            if (p->n - p->i >= len && !memcmp(p->s + p->i, words[w].word, len)) {
                v->type = words[w].type;
                v->num = words[w].word[0] == 't';
                p->i += len;
                p->err[0] = 0;
                rc = 0;
                break;
            }
        }
    }
    p->depth--;
    return rc;
}

static void j_free(jv *v)
{
    for (int i = 0; i < v->n; i++) {
        j_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

static void j_parse(const char *text, size_t len, jv *root)
{
    jp p = {(const unsigned char *)text, 0, len, 0, {0}};
    int rc = j_value(&p, root);
    j_ws(&p);
    if (rc == 0 && p.i != p.n)
        rc = j_fail(&p, "text after the value");
    ck_assert_msg(rc == 0, "JSON: %s", p.err);
}

static const jv *j_get(const jv *o, const char *key)
{
    ck_assert_int_eq(o->type, J_OBJ);
    for (int i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->items[i];
    ck_abort_msg("JSON: no key '%s'", key);
    return NULL;
}

static const jv *j_at(const jv *a, int i)
{
    ck_assert_int_eq(a->type, J_ARR);
    ck_assert_int_lt(i, a->n);
    return &a->items[i];
}

// ---- JSON

START_TEST(test_json)
{
    mvit_report r;
    jv root;
    size_t len;
    make_report(&r, 3, 6, 9);
    char *s = render(mvit_report_write_json, &r, &len);
    j_parse(s, len, &root);
    ck_assert_str_eq(j_get(&root, "model")->str, model_name);
    ck_assert_str_eq(j_get(&root, "weights_path")->str, "w`eights.bin");
    const jv *cores = j_get(&root, "cores"), *cells = j_get(&root, "cells");
    ck_assert_int_eq(cores->n, 3);
    ck_assert_int_eq(j_get(j_at(cores, 2), "ghz")->type, J_NULL);
    ck_assert(fabs(j_get(j_at(cores, 1), "ghz")->num - 2.4) < 1e-9);
    ck_assert_int_eq(cells->n, 3);
    for (int i = 0; i < 3; i++) {
        const jv *c = j_at(cells, i);
        ck_assert_int_eq(j_get(c, "layers")->n, 6);
        ck_assert_int_eq(j_get(c, "blocks")->n, 9);
        ck_assert_int_eq(j_get(c, "est_ms")->n, 3);
        ck_assert_int_eq(j_get(j_at(j_get(c, "layers"), 0), "est_us")->n, 3);
        ck_assert_int_eq(j_get(c, "est_ms")->items[2].type, J_NULL); /* apple-a14: none */
    }
    /* the untimed cross build */
    const jv *neon = j_at(cells, 2);
    ck_assert_str_eq(j_get(neon, "target")->str, "neon");
    ck_assert_int_eq(j_get(neon, "latency_ms")->type, J_NULL);
    ck_assert_int_eq(j_get(neon, "output_hash")->type, J_NULL);
    ck_assert_int_eq(j_get(neon, "max_diff")->type, J_NULL);
    ck_assert_int_eq(j_get(neon, "est_ms")->items[0].type, J_NULL);
    ck_assert(fabs(j_get(neon, "est_ms")->items[1].num - 2.8) < 1e-9);
    ck_assert_int_eq(j_get(j_at(j_get(neon, "layers"), 0), "measured_us")->type, J_NULL);
    /* the timed one, with a NaN layer */
    const jv *gen = j_at(cells, 0), *layers = j_get(gen, "layers");
    ck_assert(fabs(j_get(gen, "latency_ms")->num - 1.5) < 1e-9);
    ck_assert_str_eq(j_get(gen, "output_hash")->str, "000000001234abcd");
    ck_assert_int_eq(j_get(j_at(layers, 1), "measured_us")->type, J_NULL);
    ck_assert(fabs(j_get(j_at(layers, 4), "measured_us")->num - 900) < 1e-9);
    ck_assert_int_eq((int)j_get(j_at(layers, 5), "index")->num, 10);
    ck_assert_str_eq(j_get(j_at(layers, 3), "name")->str, odd_layer);
    ck_assert_str_eq(j_get(j_at(layers, 2), "name")->str, "bad\xef\xbf\xbd\xef\xbf\xbdutf8");
    const jv *blk = j_at(j_get(gen, "blocks"), 5);
    ck_assert_str_eq(j_get(blk, "name")->str, "<layer 5> scratch");
    ck_assert_int_eq((int)j_get(blk, "offset")->num, 5 * 4096);
    ck_assert_int_eq((int)j_get(blk, "last")->num, 5);
    ck_assert_ptr_null(strstr(s, "nan"));
    ck_assert_ptr_null(strstr(s, "inf"));
    j_free(&root);
    free(s);
    mvit_report_free(&r);
}
END_TEST

// ---- HTML

/* Every '<' opens a tag or comment and every '&' a reference: no text went out unescaped. */
static void check_markup(const char *s)
{
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (const char *p = s; *p; p++) {
        if (*p == '<')
            ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/!", p[1]) &&
                              p[1],
                          "stray '<' at byte %td: %.40s", p - s, p);
        if (*p == '&') {
            int ok = 0;
            for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
                ok |= !strncmp(p, refs[i], strlen(refs[i]));
            ck_assert_msg(ok, "stray '&' at byte %td: %.40s", p - s, p);
        }
    }
}

static void check_html(const mvit_report *r, const char *s)
{
    int blocks = 0;
    for (int i = 0; i < r->num_cells; i++)
        blocks += r->cells[i].num_blocks;
    /* per cell: time per layer and memory; then the comparison */
    ck_assert_int_eq(count(s, "<svg"), 2 * r->num_cells + 1);
    ck_assert_int_eq(count(s, "</svg>"), 2 * r->num_cells + 1);
    for (const char *p = strstr(s, "<svg"); p; p = strstr(p + 1, "<svg")) {
        const char *end = strchr(p, '>');
        ck_assert_ptr_nonnull(end);
        char tag[256];
        snprintf(tag, sizeof tag, "%.*s", (int)(end - p), p);
        ck_assert_msg(strstr(tag, " viewBox=\"0 0 ") && strstr(tag, " width=\"") &&
                          strstr(tag, " height=\""),
                      "svg without viewBox, width or height: %s", tag);
        ck_assert_msg(!strncmp(end + 1, "<title", 6), "svg without a leading <title>: %s", tag);
    }
    ck_assert_int_eq(count(s, "<rect class=\"b"), blocks);
    ck_assert_int_eq(count(s, "<section id=\"cell-"), r->num_cells);
    ck_assert(!contains_nocase(s, "<script"));
    ck_assert_ptr_null(strstr(s, "http://"));
    ck_assert_ptr_null(strstr(s, "https://"));
    ck_assert_ptr_null(strstr(s, "url("));
    ck_assert_ptr_null(strstr(s, "@import"));
    ck_assert_ptr_null(strstr(s, "nan"));
    ck_assert_ptr_null(strstr(s, "inf"));
    ck_assert_ptr_null(strstr(s, model_name));
    check_markup(s);
}

START_TEST(test_html)
{
    mvit_report r;
    make_report(&r, 3, 6, 9);
    char *s = render(mvit_report_write_html, &r, NULL);
    check_html(&r, s);
    ck_assert_ptr_nonnull(strstr(s, "<h1>mvitc report: mobile&lt;&quot;&amp;\\vit&#39; |x</h1>"));
    ck_assert_ptr_nonnull(strstr(s, "attn&lt;script&gt;alert(1)&lt;/script&gt;|`x`"));
    ck_assert_ptr_nonnull(strstr(s, "bad\xef\xbf\xbd\xef\xbf\xbdutf8"));
    ck_assert_ptr_nonnull(
        strstr(s, "&lt;layer 5&gt; scratch: 2.0 KiB (2048 bytes) at offset 20480, layers 5" EN
                  "5</title>"));
    ck_assert_ptr_nonnull(strstr(s, "not timed: runs under qemu-aarch64 here"));
    ck_assert_ptr_nonnull(strstr(s, "Every load hits L1 &lt;and&gt; loops dominate."));
    /* legend entries only for series with values: cell 0 has measured + haswell */
    const char *cell0 = strstr(s, "id=\"layers-0\""), *mem0 = strstr(s, "id=\"memory-0\"");
    ck_assert_ptr_nonnull(cell0);
    ck_assert_ptr_nonnull(mem0);
    char *chart = slice(cell0, mem0);
    ck_assert_ptr_nonnull(strstr(chart, "measured on this host"));
    ck_assert_ptr_nonnull(strstr(chart, "haswell est. @3 GHz"));
    ck_assert_ptr_null(strstr(chart, "cortex-a76"));
    ck_assert_ptr_null(strstr(chart, "apple-a14"));
    ck_assert_int_eq(count(chart, "<path class=\"s0\""), 1);
    ck_assert_int_eq(count(chart, "<path class=\"s1\""), 1);
    ck_assert_int_eq(count(chart, "<rect class=\"hit\""), 6);
    /* measured bars: layers 0, 2..5 (layer 1 is NaN) */
    const char *path = strstr(chart, "<path class=\"s0\"");
    char *d = slice(path, strstr(path, "/>"));
    ck_assert_int_eq(count(d, "M"), 5);
    free(d);
    free(chart);

    /* same report, same bytes */
    char *again = render(mvit_report_write_html, &r, NULL);
    ck_assert_str_eq(s, again);
    free(again);
    free(s);
    mvit_report_free(&r);
}
END_TEST

// ---- Markdown

/* Splits a table row at unescaped '|'; returns the number of cells, each checked non-empty. */
static int md_cells(const char *line, const char *end)
{
    int n = 0;
    const char *cell = line + 1;
    ck_assert_msg(*line == '|' && end[-1] == '|', "row not fenced by '|': %.*s", (int)(end - line),
                  line);
    for (const char *p = line + 1; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p != '|')
            continue;
        const char *a = cell, *b = p;
        while (a < b && *a == ' ')
            a++;
        ck_assert_msg(a < b, "empty cell %d in: %.*s", n, (int)(end - line), line);
        n++;
        cell = p + 1;
    }
    return n;
}

/* The table that follows heading: rows (with header and rule), all of `cols` non-empty cells. */
static int md_table(const char *s, const char *heading, int *cols)
{
    const char *p = strstr(s, heading);
    ck_assert_msg(p != NULL, "no '%s'", heading);
    p = strstr(p, "\n|");
    ck_assert_ptr_nonnull(p);
    int rows = 0;
    *cols = -1;
    for (p++; *p == '|'; rows++) {
        const char *end = strchr(p, '\n');
        ck_assert_ptr_nonnull(end);
        const int n = md_cells(p, end);
        ck_assert_msg(*cols < 0 || n == *cols, "row %d has %d cells, not %d", rows, n, *cols);
        *cols = n;
        p = end + 1;
    }
    return rows;
}

START_TEST(test_markdown)
{
    mvit_report r;
    int cols;
    make_report(&r, 3, 12, 9);
    char *s = render(mvit_report_write_md, &r, NULL);
    /* header + rule + one row per cell; 11 columns + 3 cores */
    ck_assert_int_eq(md_table(s, "## Builds", &cols), 2 + 3);
    ck_assert_int_eq(cols, 11 + 3);
    const char *table = strstr(s, "## Builds"), *after = strstr(s, "## How the estimates");
    ck_assert_ptr_nonnull(after);
    char *main = slice(table, after);
    ck_assert_ptr_null(strstr(main, "||"));
    ck_assert_ptr_null(strstr(main, "| |"));
    ck_assert_ptr_nonnull(strstr(main, "| est. 0.800 ms |"));
    ck_assert_ptr_nonnull(strstr(main, "| 1.50 ms (median of 20) |"));
    ck_assert_ptr_nonnull(strstr(main, DASH " (not timed: runs under qemu-aarch64 here) |"));
    ck_assert_ptr_nonnull(strstr(main, "| 0 (reference) |"));
    ck_assert_ptr_nonnull(strstr(main, "| 1.24 MiB |"));
    ck_assert_ptr_nonnull(strstr(main, "| 88.9 KiB (x86\\_64-linux-gnu) |"));
    free(main);
    ck_assert_ptr_nonnull(strstr(s, "# mvitc report: mobile\\<\"\\&\\\\vit' \\|x\n"));
    ck_assert_ptr_nonnull(strstr(s, "- Weights: ``w`eights.bin``\n"));
    ck_assert_ptr_nonnull(strstr(s, "- cortex-a76 (aarch64-linux-gnu): compiled with "
                                    "-mcpu=cortex-a76, timed by llvm-mca's neoverse-n1 model; "
                                    "2.4 GHz assumed; peak 8 fp32 and 32 int8 MAC/cycle. A76 "
                                    "\\<class\\>\n"));
    ck_assert_ptr_nonnull(strstr(s, "- apple-a14 (aarch64-apple-darwin): compiled without "
                                    "-mcpu; " DASH " (no clock given)\n"));
    /* no core models the host: the validation says so */
    ck_assert_ptr_nonnull(strstr(s, "## Estimate vs measurement on this host\n\nNo build has"));
    ck_assert_ptr_nonnull(strstr(s, "Every load hits L1 \\<and\\> loops dominate."));
    ck_assert_int_eq(count(s, "\n### "), 3);
    /* per cell: the 10 slowest of 12 layers, node index first, est. of its own cores only */
    ck_assert_int_eq(md_table(s, "### generic fp32 64" TIMES "64", &cols), 2 + 10);
    ck_assert_int_eq(cols, 7);
    ck_assert_ptr_nonnull(strstr(s, "| 8 | stages.4.conv | attention | 5.000 M | 900 | 9.00 | "));
    ck_assert_int_eq(md_table(s, "### neon fp32 64" TIMES "64", &cols), 2 + 10);
    ck_assert_ptr_nonnull(strstr(s, "Top 10 of 12 layers by estimated time on cortex-a76"));
    ck_assert_ptr_nonnull(strstr(s, "| 6 | attn\\<script\\>alert(1)\\</script\\>\\|\\`x\\` |"));
    free(s);
    mvit_report_free(&r);
}
END_TEST

/* The host core's estimates against the measured times, and the share of peak: one avx2
 * cell, three layers. */
START_TEST(test_validation)
{
    mvit_report r;
    memset(&r, 0, sizeof r);
    r.num_cores = 2;
    snprintf(r.cores[0], sizeof r.cores[0], "Cortex-A76/A78 class (neoverse-n1 model)");
    snprintf(r.cores[1], sizeof r.cores[1], "This host (znver5 model)");
    r.core_ghz[0] = 2.4, r.core_ghz[1] = 4.0;
    r.core_peak_f32[0] = 8, r.core_peak_i8[0] = 32;
    r.core_peak_f32[1] = 16, r.core_peak_i8[1] = 32;
    r.host_column = 2;
    r.num_cells = 1;
    r.cells = calloc(1, sizeof *r.cells);
    ck_assert_ptr_nonnull(r.cells);
    mvit_report_cell *c = &r.cells[0];
    snprintf(c->target, sizeof c->target, "avx2");
    snprintf(c->precision, sizeof c->precision, "fp32");
    c->height = c->width = 64;
    c->latency_ms = 2.0;
    c->est_ms[0] = 4.0; /* 48 M multiplies at 2.4 GHz x 8: 2.5 ms at peak, so 62.5 % */
    c->est_ms[1] = 1.5;
    c->num_layers = 3;
    c->layers = calloc(3, sizeof *c->layers);
    ck_assert_ptr_nonnull(c->layers);
    static const char *const ops[] = {"conv2d", "conv2d", "linear"};
    static const double measured[] = {1000, 500, 400}, est[] = {800, 500, 200};
    for (int l = 0; l < 3; l++) {
        mvit_report_layer *y = &c->layers[l];
        y->index = l;
        snprintf(y->op, sizeof y->op, "%s", ops[l]);
        y->macs = y->kernel_macs = 16000000;
        y->measured_us = measured[l];
        y->est_us[0] = 1000 * c->est_ms[0] / 3;
        y->est_us[1] = est[l];
    }
    size_t len;
    char *s = render(mvit_report_write_md, &r, &len);
    ck_assert_ptr_nonnull(strstr(s, "| est. 4.00 ms (62% of peak) |"));
    ck_assert_ptr_nonnull(strstr(s, "| avx2 fp32 64" TIMES "64 | 2.00 ms | 1.50 ms | -25% |"));
    ck_assert_ptr_nonnull(strstr(s, "| conv2d | 2 | 1500 | 1300 | -13% | 0.90 (0.80" EN
                                    "1.00) |\n| linear | 1 | 400 | 200 | -50% | 0.50 (0.50" EN
                                    "0.50) |\n\nOff by more than 25%: linear (-50%).\n"));
    free(s);
    s = render(mvit_report_write_html, &r, &len);
    ck_assert_ptr_nonnull(strstr(s, "<td>-25%</td><td class=\"t w\">conv2d (2) -13%, 0.90 (0.80" EN
                                    "1.00); linear (1) -50%, 0.50 (0.50" EN "0.50). Off by more than 25%: linear (-50%)</td>"));
    free(s);
    s = render(mvit_report_write_json, &r, &len);
    ck_assert_ptr_nonnull(strstr(s, "\"peak_f32_mac_per_cycle\": 16"));
    ck_assert_ptr_nonnull(strstr(s, "\"host\": true}"));
    ck_assert_ptr_nonnull(strstr(s, "\"kernel_macs\": 16000000"));
    free(s);
    mvit_report_free(&r);
}
END_TEST

// ---- edge cases

START_TEST(test_empty_report)
{
    mvit_report r;
    jv root;
    size_t len;
    int cols;
    memset(&r, 0, sizeof r);
    char *s = render(mvit_report_write_json, &r, &len);
    j_parse(s, len, &root);
    ck_assert_int_eq(j_get(&root, "cells")->n, 0);
    ck_assert_int_eq(j_get(&root, "cores")->n, 0);
    j_free(&root);
    free(s);
    s = render(mvit_report_write_html, &r, NULL);
    check_html(&r, s);
    free(s);
    s = render(mvit_report_write_md, &r, NULL);
    ck_assert_int_eq(md_table(s, "## Builds", &cols), 2);
    free(s);
}
END_TEST

/* Cells with no layers, no blocks, no times at all still give every chart and valid JSON. */
START_TEST(test_bare_cells)
{
    mvit_report r;
    jv root;
    size_t len;
    int cols;
    make_report(&r, 2, 1, 1);
    for (int i = 0; i < 2; i++) {
        mvit_report_cell *c = &r.cells[i];
        free(c->layers);
        free(c->blocks);
        c->layers = NULL;
        c->blocks = NULL;
        c->num_layers = c->num_blocks = 0;
        c->latency_ms = -1;
        c->latency_note[0] = c->target[0] = c->output_hash[0] = 0;
        c->est_ms[0] = INFINITY;
        c->arena_lower_bound = 0;
        c->code_bytes = -1;
    }
    char *s = render(mvit_report_write_json, &r, &len);
    j_parse(s, len, &root);
    ck_assert_int_eq(j_get(j_at(j_get(&root, "cells"), 0), "est_ms")->items[0].type, J_NULL);
    j_free(&root);
    free(s);
    s = render(mvit_report_write_html, &r, NULL);
    check_html(&r, s);
    ck_assert_int_eq(count(s, "No times measured or estimated."), 3);
    ck_assert_int_eq(count(s, "No arena blocks recorded."), 2);
    free(s);
    s = render(mvit_report_write_md, &r, NULL);
    ck_assert_int_eq(md_table(s, "## Builds", &cols), 4);
    ck_assert_ptr_nonnull(strstr(s, "No per-layer data."));
    free(s);
    mvit_report_free(&r);
}
END_TEST

START_TEST(test_write_errors)
{
    mvit_report r;
    make_report(&r, 2, 3, 3);
    FILE *f = fopen("/dev/null", "r"); /* every write fails */
    ck_assert_ptr_nonnull(f);
    ck_assert_int_lt(mvit_report_write_md(&r, f), 0);
    ck_assert_int_lt(mvit_report_write_json(&r, f), 0);
    ck_assert_int_lt(mvit_report_write_html(&r, f), 0);
    fclose(f);
    mvit_report_free(&r);
    mvit_report zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_ptr_null(r.cells);
    ck_assert_int_eq(memcmp(&r, &zero, sizeof r), 0);
    mvit_report_free(&r); /* twice is harmless */
    mvit_report_free(NULL);
}
END_TEST

// ---- non-square inputs

/* A 192x256 build (height 192, width 256) between two square ones: every writer says 192x256,
 * never 256x192, and the JSON has height and width, no "resolution". */
START_TEST(test_nonsquare)
{
    mvit_report r;
    jv root;
    size_t len;
    int cols;
    make_report(&r, 3, 6, 9);
    r.cells[1].height = 192;
    r.cells[1].width = 256;

    char *s = render(mvit_report_write_json, &r, &len);
    j_parse(s, len, &root);
    const jv *cells = j_get(&root, "cells");
    ck_assert_int_eq((int)j_get(j_at(cells, 0), "height")->num, 64);
    ck_assert_int_eq((int)j_get(j_at(cells, 0), "width")->num, 64);
    ck_assert_str_eq(j_get(j_at(cells, 1), "target")->str, "avx2");
    ck_assert_int_eq((int)j_get(j_at(cells, 1), "height")->num, 192);
    ck_assert_int_eq((int)j_get(j_at(cells, 1), "width")->num, 256);
    ck_assert_ptr_null(strstr(s, "\"resolution\""));
    j_free(&root);
    free(s);

    s = render(mvit_report_write_md, &r, NULL);
    ck_assert_int_eq(md_table(s, "## Builds", &cols), 2 + 3);
    ck_assert_ptr_nonnull(strstr(s, "| Target | Precision | Resolution (H" TIMES "W) |"));
    ck_assert_ptr_nonnull(strstr(s, "| generic | fp32 | 64" TIMES "64 |"));
    ck_assert_ptr_nonnull(strstr(s, "| avx2 | fp32 | 192" TIMES "256 |"));
    ck_assert_int_eq(md_table(s, "### avx2 fp32 192" TIMES "256\n", &cols), 2 + 6);
    ck_assert_ptr_null(strstr(s, "256" TIMES "192"));
    free(s);

    s = render(mvit_report_write_html, &r, NULL);
    check_html(&r, s);
    ck_assert_ptr_nonnull(strstr(s, "<td>192" TIMES "256</td>"));
    ck_assert_ptr_nonnull(strstr(s, "<section id=\"cell-1\">\n<h2>avx2 fp32 192" TIMES "256</h2>"));
    ck_assert_ptr_nonnull(strstr(s, "Arena memory timeline of avx2 fp32 192" TIMES "256:"));
    ck_assert_ptr_null(strstr(s, "256" TIMES "192"));
    free(s);
    mvit_report_free(&r);
}
END_TEST

// ---- report.c: --resolution and size names

/* The message of a rejected --resolution spec, which must name `bad`. */
static void expect_bad_sizes(const char *spec, const char *bad)
{
    mvit_size z[MVIT_REPORT_MAX_SIZES];
    mvit_diag d = {{0}};
    ck_assert_int_eq(mvit_parse_sizes(spec, "mvitc report", z, MVIT_REPORT_MAX_SIZES, &d),
                     MVIT_EINVAL);
    ck_assert_msg(strstr(d.msg, bad) && strstr(d.msg, "--resolution"),
                  "'%s': message '%s' does not name '%s'", spec, d.msg, bad);
}

START_TEST(test_parse_sizes)
{
    mvit_size z[MVIT_REPORT_MAX_SIZES];
    mvit_diag d = {{0}};
    ck_assert_int_eq(
        mvit_parse_sizes("224,256,192x256", "mvitc report", z, MVIT_REPORT_MAX_SIZES, &d), 3);
    ck_assert_int_eq(z[0].height, 224);
    ck_assert_int_eq(z[0].width, 224);
    ck_assert_int_eq(z[1].height, 256);
    ck_assert_int_eq(z[1].width, 256);
    ck_assert_int_eq(z[2].height, 192); /* H x W: height first */
    ck_assert_int_eq(z[2].width, 256);
    ck_assert_int_eq(mvit_parse_sizes("32x4096", "mvitc report", z, MVIT_REPORT_MAX_SIZES, &d), 1);
    ck_assert_int_eq(z[0].height, 32);
    ck_assert_int_eq(z[0].width, 4096);
    ck_assert_int_eq(mvit_parse_sizes("256x192,192x256", "mvitc report", z, 2, &d), 2);
    ck_assert_int_eq(z[0].height, 256);
    ck_assert_int_eq(z[1].height, 192);
    ck_assert_int_eq(mvit_parse_sizes("64,64x128", "mvitc report", z, 2, &d), 2);

    expect_bad_sizes("64,31", "'31'");
    expect_bad_sizes("4097", "'4097'");
    expect_bad_sizes("192x16", "'192x16'");
    expect_bad_sizes("64,192x", "'192x'");
    expect_bad_sizes("x256", "'x256'");
    expect_bad_sizes("64x64x64", "'64x64x64'");
    expect_bad_sizes("192X256", "'192X256'");
    expect_bad_sizes("192*256", "'192*256'");
    expect_bad_sizes("+64", "'+64'");
    expect_bad_sizes(" 64", "' 64'");
    expect_bad_sizes("64.0", "'64.0'");
    expect_bad_sizes("99999999999999999999", "'99999999999999999999'");
    expect_bad_sizes("64,,128", "empty entry in '64,,128'");
    expect_bad_sizes("64,", "empty entry");
    expect_bad_sizes("", "empty entry");
    expect_bad_sizes("64,128,64", "'64' lists 64x64 a second time");
    expect_bad_sizes("64,64x64", "'64x64' lists 64x64 a second time");
    expect_bad_sizes("192x256,192x256", "'192x256' lists 192x256 a second time");
    ck_assert_int_eq(mvit_parse_sizes("32,64,96", "mvitc report", z, 2, &d), MVIT_EINVAL);
    ck_assert_ptr_nonnull(strstr(d.msg, "more than 2 sizes"));
}
END_TEST

/* The suffix of mvitc compile's multi-resolution names: _224, _192x256. */
START_TEST(test_size_name)
{
    char b[32];
    mvit_size_name(224, 224, b, sizeof b);
    ck_assert_str_eq(b, "224");
    mvit_size_name(192, 256, b, sizeof b);
    ck_assert_str_eq(b, "192x256");
    mvit_size_name(256, 192, b, sizeof b);
    ck_assert_str_eq(b, "256x192");
    mvit_size_name(4096, 4096, b, 4); /* cut, but terminated */
    ck_assert_str_eq(b, "409");
}
END_TEST

static const char *sample_path; /* set once by main, before the tests */

/* A model-sized report (12 cells, 100 layers, 300 blocks) stays small enough to open. */
START_TEST(test_realistic_size)
{
    mvit_report r;
    size_t len;
    make_report(&r, 12, 100, 300);
    char *s = render(mvit_report_write_html, &r, &len);
    check_html(&r, s);
    ck_assert_msg(len < 2u << 20, "HTML of %zu bytes", len);
    if (sample_path) {
        FILE *f = fopen(sample_path, "w");
        ck_assert_msg(f != NULL, "cannot create %s", sample_path);
        ck_assert_uint_eq(fwrite(s, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
    free(s);
    s = render(mvit_report_write_json, &r, &len);
    jv root;
    j_parse(s, len, &root);
    ck_assert_int_eq(j_get(&root, "cells")->n, 12);
    j_free(&root);
    free(s);
    mvit_report_free(&r);
}
END_TEST

static Suite *report_render_suite(void)
{
    Suite *s = suite_create("report_render");
    TCase *tc = tcase_create("render");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_html);
    tcase_add_test(tc, test_markdown);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_empty_report);
    tcase_add_test(tc, test_bare_cells);
    tcase_add_test(tc, test_write_errors);
    tcase_add_test(tc, test_realistic_size);
    tcase_add_test(tc, test_nonsquare);
    suite_add_tcase(s, tc);
    TCase *opt = tcase_create("options");
    tcase_add_test(opt, test_parse_sizes);
    tcase_add_test(opt, test_size_name);
    suite_add_tcase(s, opt);
    return s;
}

/* With OUT.html, test_realistic_size also writes its page there (tests/report_browser.sh). */
int main(int argc, char **argv)
{
    sample_path = argc > 1 ? argv[1] : NULL;
    SRunner *sr = srunner_create(report_render_suite());
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
