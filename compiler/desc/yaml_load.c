/* Loads and validates a MobileViT v1 model description (docs/model-format.md).
 * libyaml's event stream is first built into a small node tree that keeps marks, scalar styles
 * and tags (the document API drops the last two); a schema-directed walk then fills
 * mvit_model_desc. Plain scalars are typed like PyYAML's YAML 1.1 SafeLoader, so every file
 * accepted here means the same thing to tools/mobilevit_ref.py. */
#include "desc.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* Descriptions are a few KB. These limits keep hostile input (fuzzing, alias and merge
 * bombs) linear in time and far from any overflow. */
#define MAX_FILE_BYTES (1u << 20)
#define MAX_DEPTH 64 /* the schema nests 6 deep; deeper input is never valid */
#define MAX_ANCHORS 256
#define MAX_MERGE_DEPTH 8  /* '<<' chains; also stops self-referencing merges */
#define MAX_MERGES 64      /* mappings merged into one mapping, counting repeats */
#define MAX_KEYS 12        /* largest key set of any mapping in the schema */
#define MAX_SIZE 4096      /* input height/width, patch size */
#define MAX_CHANNELS 65536 /* any channel, feature or class count */
#define MAX_KERNEL 31
#define MAX_BLOCKS 1024   /* per stage */
#define MAX_TF_DEPTH 1024 /* transformer layers per mobilevit block */
#define NUM_STAGES 5      /* timm MobileViT v1: stages.0 .. stages.4 */

// ---- node tree built from libyaml events

enum { YN_SCALAR, YN_SEQ, YN_MAP };

/* Scalar types after YAML 1.1 resolution (PyYAML SafeLoader); timestamps stay strings since
 * no field could accept either. */
enum { YT_STR, YT_INT, YT_FLOAT, YT_BOOL, YT_NULL, YT_MERGE };

typedef struct ynode {
    int kind;      /* YN_* */
    int type;      /* YT_*, scalars only */
    int line, col; /* 1-based start mark */
    char *text;    /* scalar value, NUL-terminated copy; may itself contain NULs */
    size_t len;
    int *kids; /* sequence: items; mapping: key0, value0, key1, value1, ... (node indices) */
    int nkids, cap;
} ynode;

typedef struct yanchor {
    char *name;
    int node;
} yanchor;

typedef struct loader {
    const char *path;
    mvit_diag *d;
    ynode *nodes;
    int nnodes, cap;
    yanchor *anchors;
    int nanchors, acap;
    int root; /* -1 for an empty stream */
    int resize_h, resize_w; /* > 0: the input is resize_h x resize_w instead of the
                               description's size (--resolution) */
    int version;            /* format mvitc/mobilevit-v<version>: the block types it allows */
} loader;

static void loader_free(loader *L)
{
    for (int i = 0; i < L->nnodes; i++) {
        free(L->nodes[i].text);
        free(L->nodes[i].kids);
    }
    for (int i = 0; i < L->nanchors; i++)
        free(L->anchors[i].name);
    free(L->nodes);
    free(L->anchors);
}

static int new_node(loader *L, int kind, const yaml_mark_t *m)
{
    if (L->nnodes == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 64;
        L->nodes = mvit_xrealloc(L->nodes, (size_t)L->cap * sizeof *L->nodes);
    }
    ynode *n = &L->nodes[L->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return L->nnodes++;
}

static void add_kid(ynode *parent, int kid)
{
    if (parent->nkids == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->kids = mvit_xrealloc(parent->kids, (size_t)parent->cap * sizeof *parent->kids);
    }
    parent->kids[parent->nkids++] = kid;
}

static int err_at(loader *L, int code, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int err_at(loader *L, int code, int line, int col, const char *fmt, ...)
{
    char buf[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return mvit_diag_at(L->d, code, L->path, line, col, "%s", buf);
}

/* Most messages blame one node; YAML marks are the only location we have. */
#define ERR(L, node, ...)                                                                          \
    err_at((L), MVIT_EINVAL, (L)->nodes[node].line, (L)->nodes[node].col, __VA_ARGS__)

static int register_anchor(loader *L, const yaml_char_t *name, int node, const yaml_mark_t *m)
{
    if (!name)
        return 0;
    for (int i = 0; i < L->nanchors; i++) {
        if (strcmp(L->anchors[i].name, (const char *)name) == 0) {
            const ynode *first = &L->nodes[L->anchors[i].node];
            return err_at(L, MVIT_EPARSE, (int)m->line + 1, (int)m->column + 1,
                          "duplicate anchor '&%.40s' (first defined at line %d, column %d)",
                          (const char *)name, first->line, first->col);
        }
    }
    if (L->nanchors >= MAX_ANCHORS)
        return err_at(L, MVIT_EINVAL, (int)m->line + 1, (int)m->column + 1, "more than %d anchors",
                      MAX_ANCHORS);
    if (L->nanchors == L->acap) {
        L->acap = L->acap ? L->acap * 2 : 8;
        L->anchors = mvit_xrealloc(L->anchors, (size_t)L->acap * sizeof *L->anchors);
    }
    L->anchors[L->nanchors].name = mvit_xstrdup((const char *)name);
    L->anchors[L->nanchors].node = node;
    L->nanchors++;
    return 0;
}

// ---- YAML 1.1 scalar resolution, mirroring PyYAML's resolver.py and constructor.py

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_one_of(const char *s, size_t n, const char *const *words)
{
    for (; *words; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return 1;
    return 0;
}

/* One ':[0-5]?[0-9]' group of a sexagesimal number, starting at s[*i] == ':'. Greedy matching
 * is exact here: the regex can only succeed where the greedy choice does. */
static int sexagesimal_group(const char *s, size_t n, size_t *i)
{
    if (*i >= n || s[*i] != ':')
        return 0;
    size_t j = *i + 1;
    if (j + 1 < n && s[j] >= '0' && s[j] <= '5' && is_digit(s[j + 1]))
        j += 2;
    else if (j < n && is_digit(s[j]))
        j += 1;
    else
        return 0;
    *i = j;
    return 1;
}

/* PyYAML int: [-+]?(0b[01_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+
 * | [1-9][0-9_]*(:[0-5]?[0-9])+). Returns 0 and the value, saturated at 2^62 with *big set, or
 * -1 when s is not such an int. "0b_" matches the regex but PyYAML then fails; so do we. */
static int parse_int11(const char *s, size_t n, int64_t *val, int *big)
{
    const uint64_t limit = (uint64_t)1 << 62;
    uint64_t acc = 0, part = 0;
    size_t i = 0;
    int neg = 0, base = 10, ndigits = 0, sexa = 0;
    *big = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= n || !is_digit(s[i]))
        return -1;
    if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'b' || s[i + 1] == 'x')) {
        base = s[i + 1] == 'b' ? 2 : 16;
        i += 2;
        if (i >= n)
            return -1;
    } else if (s[i] == '0') {
        base = 8; /* a lone "0" is 0 in any base */
    }
    for (; i < n; i++) {
        int c = (unsigned char)s[i], v;
        if (c == '_')
            continue;
        if (base == 10 && c == ':') {
            sexa = 1;
            break;
        }
        if (is_digit(c))
            v = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return -1;
        if (v >= base)
            return -1;
        ndigits++;
        if (acc > (limit - (uint64_t)v) / (uint64_t)base) {
            acc = limit;
            *big = 1;
        } else {
            acc = acc * (uint64_t)base + (uint64_t)v;
        }
    }
    if (ndigits == 0)
        return -1;
    if (sexa) {
        while (i < n) {
            size_t start = i;
            if (!sexagesimal_group(s, n, &i))
                return -1;
            part = 0;
            for (size_t j = start + 1; j < i; j++)
                part = part * 10 + (uint64_t)(s[j] - '0');
            if (acc > (limit - part) / 60) {
                acc = limit;
                *big = 1;
            } else {
                acc = acc * 60 + part;
            }
        }
    }
    *val = neg ? -(int64_t)acc : (int64_t)acc;
    return 0;
}

/* Copies s without '_' (and lowercased, for ".INF") so strtod sees a plain decimal. */
static char *strip_underscores(const char *s, size_t n)
{
    char *t = mvit_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            t[k++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    t[k] = '\0';
    return t;
}

/* Decimal part of a PyYAML float after the integer digits: \.[0-9_]*([eE][-+][0-9]+)? */
static int float_tail(const char *s, size_t n, size_t i, int allow_exp)
{
    if (i >= n || s[i] != '.')
        return 0;
    for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
        ;
    if (allow_exp && i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i >= n || (s[i] != '-' && s[i] != '+'))
            return 0;
        i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

/* PyYAML float: [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9][0-9_]*([eE][-+][0-9]+)?
 * | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN).
 * Note 1e-5 is not among them: YAML 1.1 reads it as a string. */
static int match_float11(const char *s, size_t n)
{
    static const char *const infs[] = {"inf", "Inf", "INF", NULL};
    static const char *const nans[] = {"nan", "NaN", "NAN", NULL};
    size_t i = 0;
    int sign = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        sign = 1, i++;
    if (i < n && s[i] == '.') {
        if (is_one_of(s + i + 1, n - i - 1, infs))
            return 1;
        if (sign)
            return 0;
        if (is_one_of(s + i + 1, n - i - 1, nans))
            return 1;
        if (i + 1 >= n || !is_digit(s[i + 1]))
            return 0;
        /* ".5": reuse the tail matcher by treating the leading '.' as the decimal point */
        return float_tail(s, n, i, 1);
    }
    if (i >= n || !is_digit(s[i]))
        return 0;
    for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
        ;
    if (i < n && s[i] == ':') {
        while (i < n && s[i] == ':')
            if (!sexagesimal_group(s, n, &i))
                return 0;
        return float_tail(s, n, i, 0);
    }
    return float_tail(s, n, i, 1);
}

/* Value of a matched PyYAML float (constructor.py construct_yaml_float, same summation order). */
static double value_float11(const char *s, size_t n)
{
    char *t = strip_underscores(s, n);
    char *p = t;
    double sign = 1.0, v;
    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1.0 : 1.0;
    if (strcmp(p, ".inf") == 0) {
        v = sign * HUGE_VAL;
    } else if (strcmp(p, ".nan") == 0) {
        v = NAN;
    } else if (strchr(p, ':')) {
        double base = 1.0;
        v = 0.0;
        for (char *end = p + strlen(p);;) {
            char *colon = end;
            while (colon > p && colon[-1] != ':')
                colon--;
            *end = '\0';
            v += strtod(colon, NULL) * base;
            base *= 60.0;
            if (colon == p)
                break;
            end = colon - 1;
        }
        v *= sign;
    } else {
        v = sign * strtod(p, NULL);
    }
    free(t);
    return v;
}

/* What Python's float() makes of a string such as "1e-5" (a YAML 1.1 string, yet a valid eps
 * for the reference, which calls float() on it): plain decimal syntax only. */
static int parse_decimal_string(const char *s, size_t n, double *out)
{
    if (n == 0 || n > 64)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && !(s[i] && strchr(".eE+-", s[i])))
            return -1;
    char buf[65];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n)
        return -1;
    *out = v;
    return 0;
}

static int resolve_plain(const char *s, size_t n)
{
    static const char *const bools[] = {"yes",  "Yes",  "YES",   "no",    "No",    "NO", "true",
                                        "True", "TRUE", "false", "False", "FALSE", "on", "On",
                                        "ON",   "off",  "Off",   "OFF",   NULL};
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    int64_t v;
    int big;
    if (n == 0 || is_one_of(s, n, nulls))
        return YT_NULL;
    if (is_one_of(s, n, bools))
        return YT_BOOL;
    if (match_float11(s, n)) /* PyYAML tries float before int */
        return YT_FLOAT;
    if (parse_int11(s, n, &v, &big) == 0)
        return YT_INT;
    if (n == 2 && s[0] == '<' && s[1] == '<')
        return YT_MERGE;
    return YT_STR;
}

static int resolve_scalar(loader *L, const yaml_event_t *ev, int *type)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    static const char prefix[] = "tag:yaml.org,2002:";
    static const struct {
        const char *name;
        int type;
    } tags[] = {{"str", YT_STR},
                {"int", YT_INT},
                {"float", YT_FLOAT},
                {"bool", YT_BOOL},
                {"null", YT_NULL}};
    if (!tag) {
        *type = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                    ? resolve_plain((const char *)ev->data.scalar.value, ev->data.scalar.length)
                    : YT_STR;
        return 0;
    }
    if (strncmp(tag, prefix, sizeof prefix - 1) == 0) {
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
            if (strcmp(tag + sizeof prefix - 1, tags[i].name) == 0) {
                *type = tags[i].type;
                return 0;
            }
        }
    }
    return err_at(L, MVIT_EUNSUPPORTED, (int)ev->start_mark.line + 1,
                  (int)ev->start_mark.column + 1,
                  "unsupported tag '%.60s' (only !!str, !!int, !!float, !!bool and !!null)", tag);
}

// ---- building the tree

static int syntax_error(loader *L, const yaml_parser_t *p, const unsigned char *text, size_t len)
{
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_MEMORY_ERROR)
        return mvit_diag_at(L->d, MVIT_ENOMEM, L->path, 0, 0, "out of memory parsing YAML");
    if (p->error == YAML_READER_ERROR) {
        /* the reader has no mark, only a byte offset: count lines and UTF-8 characters */
        size_t off = p->problem_offset < len ? p->problem_offset : len;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n')
                line++, col = 1;
            else if ((text[i] & 0xC0) != 0x80)
                col++;
        }
        if (p->problem_value >= 0)
            return err_at(L, MVIT_EPARSE, line, col,
                          "invalid YAML input: %s (byte 0x%02X at offset %zu)", problem,
                          (unsigned)p->problem_value & 0xFFu, off);
        return err_at(L, MVIT_EPARSE, line, col, "invalid YAML input: %s", problem);
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context)
        return err_at(L, MVIT_EPARSE, line, col, "invalid YAML: %s (%s at line %d, column %d)",
                      problem, p->context, (int)p->context_mark.line + 1,
                      (int)p->context_mark.column + 1);
    return err_at(L, MVIT_EPARSE, line, col, "invalid YAML: %s", problem);
}

/* A node that just started or an alias: hang it under the open container, or make it root. */
static void attach(loader *L, const int *stack, int depth, int node)
{
    if (depth == 0)
        L->root = node;
    else
        add_kid(&L->nodes[stack[depth - 1]], node);
}

static int container_start(loader *L, const yaml_event_t *ev, int kind, int *stack, int *depth)
{
    const yaml_char_t *anchor, *tag;
    if (kind == YN_SEQ)
        anchor = ev->data.sequence_start.anchor, tag = ev->data.sequence_start.tag;
    else
        anchor = ev->data.mapping_start.anchor, tag = ev->data.mapping_start.tag;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *want = kind == YN_SEQ ? "tag:yaml.org,2002:seq" : "tag:yaml.org,2002:map";
    if (tag && strcmp((const char *)tag, want) != 0)
        return err_at(L, MVIT_EUNSUPPORTED, line, col, "unsupported tag '%.60s' on a %s",
                      (const char *)tag, kind == YN_SEQ ? "sequence" : "mapping");
    if (*depth >= MAX_DEPTH)
        return err_at(L, MVIT_EPARSE, line, col, "YAML nested deeper than %d levels", MAX_DEPTH);
    int node = new_node(L, kind, &ev->start_mark);
    attach(L, stack, *depth, node);
    stack[(*depth)++] = node;
    /* registered before the children, as PyYAML does, so a self-reference resolves */
    return register_anchor(L, anchor, node, &ev->start_mark);
}

static int add_event(loader *L, const yaml_event_t *ev, int *stack, int *depth, int *docs)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return err_at(L, MVIT_EPARSE, line, col,
                          "expected a single YAML document, found a second one");
        return 0;
    case YAML_SCALAR_EVENT: {
        int type = YT_STR, rc = resolve_scalar(L, ev, &type);
        if (rc)
            return rc;
        int node = new_node(L, YN_SCALAR, &ev->start_mark);
        ynode *n = &L->nodes[node];
        n->type = type;
        n->len = ev->data.scalar.length;
        n->text = mvit_xmalloc(n->len + 1);
        memcpy(n->text, ev->data.scalar.value, n->len);
        n->text[n->len] = '\0';
        attach(L, stack, *depth, node);
        return register_anchor(L, ev->data.scalar.anchor, node, &ev->start_mark);
    }
    case YAML_SEQUENCE_START_EVENT:
        return container_start(L, ev, YN_SEQ, stack, depth);
    case YAML_MAPPING_START_EVENT:
        return container_start(L, ev, YN_MAP, stack, depth);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (*depth > 0)
            --*depth;
        return 0;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (int i = L->nanchors - 1; i >= 0; i--) {
            if (strcmp(L->anchors[i].name, name) == 0) {
                attach(L, stack, *depth, L->anchors[i].node);
                return 0;
            }
        }
        return err_at(L, MVIT_EPARSE, line, col, "undefined alias '*%.40s'", name);
    }
    default:
        return 0;
    }
}

static int build_tree(loader *L, const unsigned char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int stack[MAX_DEPTH];
    int depth = 0, docs = 0, rc = 0;
    if (!yaml_parser_initialize(&parser))
        return mvit_diag_at(L->d, MVIT_ENOMEM, L->path, 0, 0, "out of memory parsing YAML");
    yaml_parser_set_input_string(&parser, text, len);
    for (;;) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(L, &parser, text, len);
            goto fail;
        }
        int end = ev.type == YAML_STREAM_END_EVENT;
        rc = add_event(L, &ev, stack, &depth, &docs);
        yaml_event_delete(&ev);
        if (rc || end)
            break;
    }
fail:
    yaml_parser_delete(&parser);
    return rc;
}

// ---- typed access to nodes

/* Quotes a scalar for a message: at most ~40 bytes, control bytes escaped; cap >= 64. */
static const char *show(const ynode *n, char *buf, size_t cap)
{
    size_t k = 0, i = 0;
    assert(cap >= 64);
    for (; i < n->len && k < 40; i++) {
        unsigned char c = (unsigned char)n->text[i];
        if (c < 0x20 || c == 0x7F)
            k += (size_t)snprintf(buf + k, cap - k, "\\x%02X", c);
        else
            buf[k++] = (char)c;
    }
    if (i < n->len) {
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0x80)
            k--; /* do not split a UTF-8 sequence */
        if (k > 0 && ((unsigned char)buf[k - 1] & 0xC0) == 0xC0)
            k--;
        memcpy(buf + k, "...", 4);
    } else {
        buf[k] = '\0';
    }
    return buf;
}

/* "a mapping", "string 'abc'", "2.5", ...: what a message says it found. */
static const char *describe(const loader *L, int node, char *buf, size_t cap)
{
    const ynode *n = &L->nodes[node];
    char t[64];
    if (n->kind == YN_MAP)
        return "a mapping";
    if (n->kind == YN_SEQ)
        return "a sequence";
    switch (n->type) {
    case YT_NULL:
        return "null (an empty value)";
    case YT_BOOL:
        snprintf(buf, cap, "boolean '%s'", show(n, t, sizeof t));
        return buf;
    case YT_INT:
    case YT_FLOAT:
        return show(n, buf, cap);
    default:
        snprintf(buf, cap, "string '%s'", show(n, t, sizeof t));
        return buf;
    }
}

static int scalar_is(const ynode *n, const char *s)
{
    return n->kind == YN_SCALAR && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

static int get_int(loader *L, int node, const char *key, int lo, int hi, int *out)
{
    const ynode *n = &L->nodes[node];
    char b[96];
    int64_t v;
    int big;
    if (n->kind != YN_SCALAR || n->type != YT_INT || parse_int11(n->text, n->len, &v, &big))
        return ERR(L, node, "'%s' must be an integer, got %s", key, describe(L, node, b, sizeof b));
    if (!big && v >= lo && v <= hi) {
        *out = (int)v;
        return 0;
    }
    if (lo == 1 && hi == 2)
        return ERR(L, node, "'%s' must be 1 or 2, got %s", key, show(n, b, sizeof b));
    if (lo == 1 && v < 1)
        return ERR(L, node, "'%s' must be positive (1..%d), got %s", key, hi, show(n, b, sizeof b));
    return ERR(L, node, "'%s' must be between %d and %d, got %s", key, lo, hi,
               show(n, b, sizeof b));
}

static int get_odd_kernel(loader *L, int node, int *out)
{
    int rc = get_int(L, node, "kernel", 1, MAX_KERNEL, out);
    if (rc == 0 && *out % 2 == 0)
        return ERR(L, node, "'kernel' must be odd (padding is (kernel - 1) / 2), got %d", *out);
    return rc;
}

/* A YAML 1.1 int or float; with str_ok also a string Python's float() reads, e.g. "1e-5". */
static int get_number(loader *L, int node, const char *key, int str_ok, double *out)
{
    const ynode *n = &L->nodes[node];
    char b[96];
    int64_t iv;
    int big;
    if (n->kind == YN_SCALAR && n->type == YT_INT && parse_int11(n->text, n->len, &iv, &big) == 0)
        *out = (double)iv;
    else if (n->kind == YN_SCALAR && n->type == YT_FLOAT && match_float11(n->text, n->len))
        *out = value_float11(n->text, n->len);
    else if (!(str_ok && n->kind == YN_SCALAR && n->type == YT_STR &&
               parse_decimal_string(n->text, n->len, out) == 0))
        return ERR(L, node, "'%s' must be a number, got %s", key, describe(L, node, b, sizeof b));
    if (!isfinite(*out))
        return ERR(L, node, "'%s' must be a finite number, got %s", key, show(n, b, sizeof b));
    return 0;
}

static int get_str(loader *L, int node, const char *key, const ynode **out)
{
    char b[96];
    if (L->nodes[node].kind != YN_SCALAR || L->nodes[node].type != YT_STR)
        return ERR(L, node, "'%s' must be a string, got %s", key, describe(L, node, b, sizeof b));
    *out = &L->nodes[node];
    return 0;
}

static int get_seq(loader *L, int node, const char *key, const ynode **out)
{
    char b[96];
    if (L->nodes[node].kind != YN_SEQ)
        return ERR(L, node, "'%s' must be a sequence, got %s", key, describe(L, node, b, sizeof b));
    *out = &L->nodes[node];
    return 0;
}

// ---- mappings: known keys, duplicates, '<<' merges

/* The keys a mapping may hold and where each was found, after merges. */
typedef struct mview {
    int node;
    const char *what;         /* "'stem'", "this block", ...: subject of messages */
    const char *const *names; /* allowed keys, NULL-terminated, at most MAX_KEYS */
    int key[MAX_KEYS], val[MAX_KEYS];
    int unknown; /* first key not in names, or -1 */
    int merges;  /* mappings merged so far */
} mview;

static int key_index(const mview *v, const ynode *k)
{
    if (k->type != YT_STR)
        return -1;
    for (int i = 0; v->names[i]; i++)
        if (scalar_is(k, v->names[i]))
            return i;
    return -1;
}

static int view_merge(loader *L, mview *v, int src, int depth);

/* Adds the pairs of map to v. Pairs written in map itself beat its merges, and keys already set
 * by an enclosing mapping or an earlier merge source win, as in PyYAML's flatten_mapping. */
static int view_add(loader *L, mview *v, int map, int depth)
{
    int first[MAX_KEYS]; /* this mapping's own occurrence of each key, for duplicates */
    char b[96];
    int merge_key = -1, merge_val = -1;
    const ynode *m = &L->nodes[map];
    for (int i = 0; i < MAX_KEYS; i++)
        first[i] = -1;
    for (int i = 0; i + 1 < m->nkids; i += 2) {
        int kn = m->kids[i];
        const ynode *k = &L->nodes[kn];
        if (k->kind != YN_SCALAR)
            return ERR(L, kn, "mapping keys must be strings, got %s", describe(L, kn, b, sizeof b));
        if (k->type == YT_MERGE) {
            if (merge_key >= 0)
                return ERR(L, kn, "duplicate key '<<' (first at line %d, column %d)",
                           L->nodes[merge_key].line, L->nodes[merge_key].col);
            merge_key = kn;
            merge_val = m->kids[i + 1];
            continue;
        }
        int idx = key_index(v, k);
        if (idx < 0) {
            if (v->unknown < 0)
                v->unknown = kn;
            continue;
        }
        if (first[idx] >= 0) {
            if (v->unknown >= 0)
                continue; /* the earlier unknown key is reported instead */
            return ERR(L, kn, "duplicate key '%s' (first at line %d, column %d)", v->names[idx],
                       L->nodes[first[idx]].line, L->nodes[first[idx]].col);
        }
        first[idx] = kn;
        if (v->key[idx] < 0) {
            v->key[idx] = kn;
            v->val[idx] = m->kids[i + 1];
        }
    }
    return merge_val < 0 ? 0 : view_merge(L, v, merge_val, depth);
}

static int view_merge(loader *L, mview *v, int src, int depth)
{
    char b[96];
    if (depth >= MAX_MERGE_DEPTH)
        return ERR(L, src, "'<<' merges nested more than %d deep (a recursive alias?)",
                   MAX_MERGE_DEPTH);
    const ynode *s = &L->nodes[src];
    if (s->kind == YN_MAP && ++v->merges > MAX_MERGES)
        return ERR(L, src, "more than %d mappings merged into one", MAX_MERGES);
    if (s->kind == YN_MAP)
        return view_add(L, v, src, depth + 1);
    if (s->kind != YN_SEQ)
        return ERR(L, src, "'<<' must merge a mapping or a sequence of mappings, got %s",
                   describe(L, src, b, sizeof b));
    for (int i = 0; i < s->nkids; i++) {
        int item = s->kids[i];
        if (L->nodes[item].kind != YN_MAP)
            return ERR(L, item, "'<<' must merge a mapping or a sequence of mappings, got %s",
                       describe(L, item, b, sizeof b));
        if (++v->merges > MAX_MERGES)
            return ERR(L, item, "more than %d mappings merged into one", MAX_MERGES);
        int rc = view_add(L, v, item, depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* what names the mapping in messages: "'stem' must be a mapping", "missing ... in 'stem'". */
static int view_open(loader *L, mview *v, int node, const char *what, const char *const *names)
{
    char b[96];
    if (L->nodes[node].kind != YN_MAP)
        return ERR(L, node, "%s must be a mapping, got %s", what, describe(L, node, b, sizeof b));
    v->node = node;
    v->what = what;
    v->names = names;
    v->unknown = -1;
    v->merges = 0;
    for (int i = 0; i < MAX_KEYS; i++)
        v->key[i] = v->val[i] = -1;
    return view_add(L, v, node, 0);
}

static void list_names(const char *const *names, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", names[i]);
}

static int unknown_key(loader *L, int key, const char *what, const char *const *names)
{
    char b[64], allowed[256];
    list_names(names, allowed, sizeof allowed);
    return ERR(L, key, "unknown key '%s' in %s (allowed: %s)", show(&L->nodes[key], b, sizeof b),
               what, allowed);
}

static int view_check_unknown(loader *L, const mview *v)
{
    return v->unknown >= 0 ? unknown_key(L, v->unknown, v->what, v->names) : 0;
}

static int view_get(const mview *v, const char *name)
{
    for (int i = 0; v->names[i]; i++)
        if (strcmp(v->names[i], name) == 0)
            return v->val[i];
    return -1;
}

static int view_require(loader *L, const mview *v, const char *name, int *node)
{
    *node = view_get(v, name);
    if (*node < 0)
        return ERR(L, v->node, "missing required key '%s' in %s", name, v->what);
    return 0;
}

/* Optional int key: default when absent. */
static int opt_int(loader *L, const mview *v, const char *key, int lo, int hi, int def, int *out)
{
    int node = view_get(v, key);
    *out = def;
    return node < 0 ? 0 : get_int(L, node, key, lo, hi, out);
}

static int req_int(loader *L, const mview *v, const char *key, int lo, int hi, int *out)
{
    int node, rc = view_require(L, v, key, &node);
    return rc ? rc : get_int(L, node, key, lo, hi, out);
}

// ---- the schema

static mvit_src_loc loc_of(const loader *L, int node)
{
    mvit_src_loc loc = {L->nodes[node].line, L->nodes[node].col};
    return loc;
}

static int parse_input(loader *L, int node, mvit_model_desc *m)
{
    static const char *const keys[] = {"height", "width", "channels", "channel_order",
                                       "mean",   "std",   NULL};
    static const char *const orders[] = {"rgb", "bgr", "gray", NULL};
    mview v;
    const ynode *order = NULL, *seq = NULL;
    int rc, n = -1;
    char b[96];
    if ((rc = view_open(L, &v, node, "'input'", keys)) || (rc = view_check_unknown(L, &v)))
        return rc;
    m->input_loc = loc_of(L, node);
    if ((rc = req_int(L, &v, "height", MVIT_MIN_INPUT, MAX_SIZE, &m->height)) ||
        (rc = req_int(L, &v, "width", MVIT_MIN_INPUT, MAX_SIZE, &m->width)) ||
        (rc = req_int(L, &v, "channels", 1, MVIT_MAX_INPUT_CHANNELS, &m->channels)))
        return rc;
    if ((rc = view_require(L, &v, "channel_order", &n)) ||
        (rc = get_str(L, n, "channel_order", &order)))
        return rc;
    if (!is_one_of(order->text, order->len, orders))
        return ERR(L, n, "'channel_order' must be rgb, bgr or gray, got '%s'",
                   show(order, b, sizeof b));
    memcpy(m->channel_order, order->text, order->len + 1);
    /* extra channels beyond R, G, B are allowed; a gray image has exactly one */
    if (order->text[0] == 'g' && m->channels != 1)
        return ERR(L, n, "'channel_order' gray needs 'channels: 1', got %d channels", m->channels);
    if (order->text[0] != 'g' && m->channels < 3)
        return ERR(L, n, "'channel_order' %s needs at least 3 channels, got %d", m->channel_order,
                   m->channels);
    for (int which = 0; which < 2; which++) {
        const char *key = which ? "std" : "mean";
        float *dst = which ? m->std : m->mean;
        if ((rc = view_require(L, &v, key, &n)) || (rc = get_seq(L, n, key, &seq)))
            return rc;
        if (seq->nkids != m->channels)
            return ERR(L, n, "'%s' must have one value per input channel (%d), got %d", key,
                       m->channels, seq->nkids);
        for (int c = 0; c < m->channels; c++) {
            int item = seq->kids[c];
            double x = 0;
            if ((rc = get_number(L, item, key, 0, &x)))
                return rc;
            dst[c] = (float)x;
            if (!isfinite(dst[c]))
                return ERR(L, item, "'%s' value does not fit in a float, got %s", key,
                           show(&L->nodes[item], b, sizeof b));
            /* the generated code divides by std: no zero, negative or denormal values */
            if (which && !(dst[c] > 0 && isnormal(dst[c])))
                return ERR(L, item, "'std' values must be positive, got %s",
                           show(&L->nodes[item], b, sizeof b));
        }
    }
    return 0;
}

static int parse_eps(loader *L, const mview *v, const char *key, double *out)
{
    int node = view_get(v, key);
    char b[96];
    *out = 1e-5;
    if (node < 0)
        return 0;
    /* the reference does float(desc["batchnorm_eps"]), so YAML 1.1 strings like 1e-5 count */
    int rc = get_number(L, node, key, 1, out);
    if (rc == 0 && !(*out > 0))
        return ERR(L, node, "'%s' must be positive, got %s", key,
                   show(&L->nodes[node], b, sizeof b));
    return rc;
}

/* Output size of a conv with timm's padding ((stride - 1) + (kernel - 1)) / 2 and odd kernel. */
static int conv_out(int size, int stride)
{
    return (size + stride - 1) / stride;
}

typedef struct walk {
    int h, w; /* feature map entering the next block, pixels */
    int cin;  /* channels entering the next block */
} walk;

static const char *const ir_keys[] = {"type", "out_channels", "stride", "expansion", NULL};
static const char *const mv_keys[] = {"type",       "out_channels", "transformer_dim",
                                      "ffn_dim",    "depth",        "heads",
                                      "patch_size", "kernel",       NULL};
static const char *const v2_keys[] = {"type",  "out_channels", "transformer_dim", "ffn_dim",
                                      "depth", "patch_size",   "kernel",          NULL};
static const char *const block_keys[] = {
    "type",  "out_channels", "stride", "expansion", "transformer_dim", "ffn_dim", "depth",
    "heads", "patch_size",   "kernel", NULL};

static int parse_ir(loader *L, const mview *v, mvit_block_desc *b, walk *w)
{
    int rc, n = -1;
    char t[96];
    if ((rc = req_int(L, v, "out_channels", 1, MAX_CHANNELS, &b->out_channels)) ||
        (rc = opt_int(L, v, "stride", 1, 2, 1, &b->stride)) ||
        (rc = view_require(L, v, "expansion", &n)) ||
        (rc = get_number(L, n, "expansion", 0, &b->expansion)))
        return rc;
    if (!(b->expansion > 0))
        return ERR(L, n, "'expansion' must be positive, got %s", show(&L->nodes[n], t, sizeof t));
    double mid = w->cin * b->expansion;
    if (mid > MAX_CHANNELS || mvit_make_divisible(mid, 8) > MAX_CHANNELS)
        return ERR(L, n, "'expansion' %s gives %g expanded channels (%d input), more than %d",
                   show(&L->nodes[n], t, sizeof t), mid, w->cin, MAX_CHANNELS);
    b->kernel = 3; /* the depthwise conv of timm's BottleneckBlock */
    w->h = conv_out(w->h, b->stride);
    w->w = conv_out(w->w, b->stride);
    return 0;
}

/* Any feature map works: one that does not split into whole patches is resized to the next
 * multiple of the patch and back, as timm's MobileVitBlock and ml-cvnets' unfolding/folding do
 * (ir/build.c). */
static int parse_mv(loader *L, const mview *v, mvit_block_desc *b, walk *w)
{
    int rc, n = -1;
    const ynode *ps = NULL;
    const int v2 = b->kind == MVIT_BLOCK_MOBILEVIT_V2 || b->kind == MVIT_BLOCK_MOBILEVIT_V3_V2;
    if ((rc = req_int(L, v, "out_channels", 1, MAX_CHANNELS, &b->out_channels)) ||
        (rc = req_int(L, v, "transformer_dim", 1, MAX_CHANNELS, &b->transformer_dim)) ||
        (rc = req_int(L, v, "ffn_dim", 1, MAX_CHANNELS, &b->ffn_dim)) ||
        (rc = req_int(L, v, "depth", 1, MAX_TF_DEPTH, &b->depth)) ||
        (rc = opt_int(L, v, "heads", 1, MAX_CHANNELS, v2 ? 1 : 4, &b->heads)))
        return rc;
    if (b->transformer_dim % b->heads != 0)
        return ERR(L, view_get(v, "transformer_dim"),
                   "'transformer_dim' %d must be divisible by 'heads' %d", b->transformer_dim,
                   b->heads);
    b->patch_h = b->patch_w = 2;
    if ((n = view_get(v, "patch_size")) >= 0) {
        if ((rc = get_seq(L, n, "patch_size", &ps)))
            return rc;
        if (ps->nkids != 2)
            return ERR(L, n, "'patch_size' must be [height, width], got %d values", ps->nkids);
        if ((rc = get_int(L, ps->kids[0], "patch_size", 1, MAX_SIZE, &b->patch_h)) ||
            (rc = get_int(L, ps->kids[1], "patch_size", 1, MAX_SIZE, &b->patch_w)))
            return rc;
    }
    b->kernel = 3;
    if ((n = view_get(v, "kernel")) >= 0 && (rc = get_odd_kernel(L, n, &b->kernel)))
        return rc;
    b->stride = 1;
    if (v2) { /* the block's input is resized up to whole patches, and stays so */
        w->h = (w->h + b->patch_h - 1) / b->patch_h * b->patch_h;
        w->w = (w->w + b->patch_w - 1) / b->patch_w * b->patch_w;
    }
    return 0;
}

/* The block types each format allows, and their keys. */
static const struct block_type {
    const char *name;
    mvit_block_kind kind;
    const char *const *keys;
    int formats; /* bit f-1: format mvitc/mobilevit-v<f> */
} block_types[] = {
    {"inverted_residual", MVIT_BLOCK_INVERTED_RESIDUAL, ir_keys, 7},
    {"mobilevit", MVIT_BLOCK_MOBILEVIT, mv_keys, 1},
    {"mobilevit_v2", MVIT_BLOCK_MOBILEVIT_V2, v2_keys, 2},
    {"mobilevit_v3", MVIT_BLOCK_MOBILEVIT_V3, mv_keys, 4},
    {"mobilevit_v3_v2", MVIT_BLOCK_MOBILEVIT_V3_V2, v2_keys, 4},
};

static int block_type_error(loader *L, int n, const ynode *type, int version)
{
    char t[96], names[160] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof block_types / sizeof *block_types; i++)
        if (block_types[i].formats >> (version - 1) & 1)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    block_types[i].name);
    return ERR(L, n, "unknown block type '%s' for format mvitc/mobilevit-v%d (expected %s)",
               show(type, t, sizeof t), version, names);
}

static int parse_block(loader *L, int node, mvit_block_desc *b, walk *w)
{
    const char *const *allowed;
    mview v;
    const ynode *type = NULL;
    int rc, n = -1;
    char t[96];
    /* keys are checked against the union first; which ones are allowed depends on 'type' */
    if ((rc = view_open(L, &v, node, "this block", block_keys)) ||
        (rc = view_require(L, &v, "type", &n)) || (rc = get_str(L, n, "type", &type)))
        return rc;
    const struct block_type *bt = NULL;
    for (size_t i = 0; i < sizeof block_types / sizeof *block_types; i++)
        if (scalar_is(type, block_types[i].name) && block_types[i].formats >> (L->version - 1) & 1)
            bt = &block_types[i];
    if (!bt)
        return block_type_error(L, n, type, L->version);
    b->kind = bt->kind;
    allowed = bt->keys;
    snprintf(t, sizeof t, "this %s block", bt->name);
    v.what = t;
    if (v.unknown >= 0)
        return unknown_key(L, v.unknown, v.what, allowed);
    for (int i = 0; block_keys[i]; i++) {
        int ok = 0;
        for (int j = 0; allowed[j]; j++)
            ok |= strcmp(allowed[j], block_keys[i]) == 0;
        if (!ok && v.key[i] >= 0)
            return unknown_key(L, v.key[i], v.what, allowed);
    }
    b->loc = loc_of(L, node);
    if (b->kind == MVIT_BLOCK_INVERTED_RESIDUAL)
        rc = parse_ir(L, &v, b, w);
    else
        rc = parse_mv(L, &v, b, w);
    w->cin = b->out_channels;
    return rc;
}

static int parse_stages(loader *L, int node, mvit_model_desc *m, walk *w)
{
    static const char *const keys[] = {"blocks", NULL};
    const ynode *seq = NULL, *blocks = NULL;
    int rc, n = -1;
    if ((rc = get_seq(L, node, "stages", &seq)))
        return rc;
    if (seq->nkids != NUM_STAGES)
        return ERR(L, node, "'stages' must have exactly %d entries (timm stages.0-4), got %d",
                   NUM_STAGES, seq->nkids);
    m->stages = mvit_xcalloc(NUM_STAGES, sizeof *m->stages);
    m->num_stages = NUM_STAGES;
    for (int s = 0; s < NUM_STAGES; s++) {
        mvit_stage_desc *st = &m->stages[s];
        mview v;
        int sn = seq->kids[s];
        if ((rc = view_open(L, &v, sn, "this stage", keys)) || (rc = view_check_unknown(L, &v)) ||
            (rc = view_require(L, &v, "blocks", &n)) || (rc = get_seq(L, n, "blocks", &blocks)))
            return rc;
        st->loc = loc_of(L, sn);
        if (blocks->nkids < 1 || blocks->nkids > MAX_BLOCKS)
            return ERR(L, n, "'blocks' must hold 1 to %d blocks, got %d", MAX_BLOCKS,
                       blocks->nkids);
        st->blocks = mvit_xcalloc((size_t)blocks->nkids, sizeof *st->blocks);
        st->num_blocks = blocks->nkids;
        for (int i = 0; i < blocks->nkids; i++)
            if ((rc = parse_block(L, blocks->kids[i], &st->blocks[i], w)))
                return rc;
    }
    return 0;
}

/* A mapping holding one required int key: final_conv and classifier. */
static int parse_single(loader *L, int node, const char *key, const char *field, int *out,
                        mvit_src_loc *loc)
{
    const char *const keys[] = {field, NULL};
    char what[32];
    mview v;
    int rc;
    snprintf(what, sizeof what, "'%s'", key);
    if ((rc = view_open(L, &v, node, what, keys)) || (rc = view_check_unknown(L, &v)))
        return rc;
    *loc = loc_of(L, node);
    return req_int(L, &v, field, 1, MAX_CHANNELS, out);
}

static int parse_name(loader *L, int node, mvit_model_desc *m)
{
    const ynode *s = NULL;
    char b[96];
    int rc = get_str(L, node, "name", &s);
    if (rc)
        return rc;
    /* it becomes part of C identifiers (mvit_<name>_run) */
    int ident = s->len > 0 && s->len < MVIT_MAX_NAME && !is_digit(s->text[0]);
    for (size_t i = 0; ident && i < s->len; i++) {
        char c = s->text[i];
        ident = c == '_' || is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    if (!ident)
        return ERR(L, node,
                   "'name' must be an identifier [A-Za-z_][A-Za-z0-9_]* of at most %d "
                   "characters, got '%s'",
                   MVIT_MAX_NAME - 1, show(s, b, sizeof b));
    memcpy(m->name, s->text, s->len + 1);
    return 0;
}

static int parse_stem(loader *L, int node, mvit_model_desc *m)
{
    static const char *const keys[] = {"out_channels", "kernel", "stride", NULL};
    mview v;
    int rc, n = -1;
    if ((rc = view_open(L, &v, node, "'stem'", keys)) || (rc = view_check_unknown(L, &v)) ||
        (rc = req_int(L, &v, "out_channels", 1, MAX_CHANNELS, &m->stem_out)))
        return rc;
    m->stem_loc = loc_of(L, node);
    m->stem_kernel = 3;
    if ((n = view_get(&v, "kernel")) >= 0 && (rc = get_odd_kernel(L, n, &m->stem_kernel)))
        return rc;
    return opt_int(L, &v, "stride", 1, 2, 2, &m->stem_stride);
}

/* --resolution: the same network at another input size (validated by the caller). */
static int resize_input(loader *L, mvit_model_desc *m)
{
    if (L->resize_h > 0) {
        m->height = L->resize_h;
        m->width = L->resize_w;
    }
    return 0;
}

static int parse_model(loader *L, mvit_model_desc *m)
{
    static const char *const keys[] = {"format", "name",       "input",
                                       "batchnorm_eps", "layernorm_eps", "groupnorm_eps",
                                       "stem",   "stages",     "final_conv",
                                       "classifier",    NULL};
    static const char format[] = "mvitc/mobilevit-v";
    mview v;
    const ynode *s = NULL;
    int rc, n = -1;
    char b[96];
    walk w;
    if (L->root < 0)
        return err_at(L, MVIT_EINVAL, 1, 1,
                      "expected a mapping at the top level, got an empty document");
    if ((rc = view_open(L, &v, L->root, "the top level", keys)) || (rc = view_check_unknown(L, &v)))
        return rc;

    if ((rc = view_require(L, &v, "format", &n)) || (rc = get_str(L, n, "format", &s)))
        return rc;
    L->version = 0;
    if (s->len == sizeof format && !memcmp(s->text, format, sizeof format - 1) &&
        s->text[sizeof format - 1] >= '1' && s->text[sizeof format - 1] <= '3')
        L->version = s->text[sizeof format - 1] - '0';
    if (!L->version)
        return ERR(L, n, "'format' must be \"%s1\", \"%s2\" or \"%s3\", got '%s'", format,
                   format, format, show(s, b, sizeof b));
    if ((rc = view_require(L, &v, "name", &n)) || (rc = parse_name(L, n, m)) ||
        (rc = view_require(L, &v, "input", &n)) || (rc = parse_input(L, n, m)) ||
        (rc = resize_input(L, m)) ||
        (rc = parse_eps(L, &v, "batchnorm_eps", &m->bn_eps)) ||
        (rc = parse_eps(L, &v, "layernorm_eps", &m->ln_eps)) ||
        (rc = parse_eps(L, &v, "groupnorm_eps", &m->gn_eps)) ||
        (rc = view_require(L, &v, "stem", &n)) || (rc = parse_stem(L, n, m)))
        return rc;

    w.h = conv_out(m->height, m->stem_stride);
    w.w = conv_out(m->width, m->stem_stride);
    w.cin = m->stem_out;
    if ((rc = view_require(L, &v, "stages", &n)) || (rc = parse_stages(L, n, m, &w)))
        return rc;
    /* MobileViT v2 has no final 1x1 conv; v1 (and v3's v1-based models) always have one */
    n = view_get(&v, "final_conv");
    if (n < 0 && L->version == 1)
        rc = view_require(L, &v, "final_conv", &n);
    else if (n >= 0)
        rc = parse_single(L, n, "final_conv", "out_channels", &m->final_out, &m->final_loc);
    if (rc || (rc = view_require(L, &v, "classifier", &n)) ||
        (rc = parse_single(L, n, "classifier", "num_classes", &m->num_classes, &m->classifier_loc)))
        return rc;
    return 0;
}

// ---- public API

static int desc_parse(const char *path, const unsigned char *text, size_t len, int resize_h,
                      int resize_w, mvit_model_desc *out, mvit_diag *d)
{
    loader L;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&L, 0, sizeof L);
    L.path = path ? path : "<input>";
    L.d = d;
    L.root = -1;
    L.resize_h = resize_h;
    L.resize_w = resize_w;
    if (len > MAX_FILE_BYTES) {
        rc = mvit_diag_at(d, MVIT_EINVAL, L.path, 0, 0, "file is %zu bytes, more than %u", len,
                          MAX_FILE_BYTES);
        goto fail;
    }
    out->path = mvit_xstrdup(L.path);
    if ((rc = build_tree(&L, text, len)) || (rc = parse_model(&L, out)))
        goto fail;
    loader_free(&L);
    return 0;
fail:
    loader_free(&L);
    mvit_desc_free(out);
    return rc;
}

int mvit_desc_parse(const char *path, const unsigned char *text, size_t len, mvit_model_desc *out,
                    mvit_diag *d)
{
    return desc_parse(path, text, len, 0, 0, out, d);
}

int mvit_desc_load_resized(const char *path, int height, int width, mvit_model_desc *out,
                           mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = mvit_read_file(path, MAX_FILE_BYTES, &buf, &len, d);
    if (rc < 0)
        return rc;
    rc = desc_parse(path, buf, len, height, width, out, d);
    free(buf);
    return rc;
}

int mvit_desc_load(const char *path, mvit_model_desc *out, mvit_diag *d)
{
    return mvit_desc_load_resized(path, 0, 0, out, d);
}

void mvit_desc_free(mvit_model_desc *m)
{
    if (!m)
        return;
    if (m->stages)
        for (int i = 0; i < m->num_stages; i++)
            free(m->stages[i].blocks);
    free(m->stages);
    free(m->path);
    memset(m, 0, sizeof *m);
}

/* timm.layers.make_divisible(v, divisor, min_value=None, round_limit=0.9), in the same double
 * arithmetic as Python: max(divisor, int(v + divisor / 2) // divisor * divisor), plus one
 * divisor if that rounded down by more than 10%. */
int mvit_make_divisible(double v, int divisor)
{
    if (divisor <= 0)
        divisor = 1;
    double t = v + divisor / 2.0;
    if (!(t < 1e9 && t > -1e9)) /* also NaN; far beyond any valid channel count */
        return t < 0 ? divisor : INT32_MAX;
    int64_t i = (int64_t)t; /* truncates toward zero like Python's int() */
    int64_t q = i / divisor;
    if (i % divisor != 0 && i < 0)
        q--; /* Python's // floors */
    int64_t nv = q * divisor;
    if (nv < divisor)
        nv = divisor;
    if ((double)nv < 0.9 * v)
        nv += divisor;
    return nv > INT32_MAX ? INT32_MAX : (int)nv;
}
