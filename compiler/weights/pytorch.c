/* PyTorch checkpoint reader: the zip archive torch.save writes (libzip) and the part of pickle
 * a state_dict uses. The pickle runs on a small stack machine that knows a fixed list of
 * opcodes and globals and never calls into anything: a REDUCE of an allowed global builds a
 * dict or a tensor descriptor; any other opcode or global stops the read with its offset.
 * Tensor data then comes from the archive's storage records, checked against numel, strides
 * and offsets, gathered into contiguous order and converted to float32.
 * mvit_weights_parse_pytorch is the fuzz entry: no recursion, every size overflow-checked,
 * memory bounded by the limits below. */
#include "weights.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

// ---- limits (a MobileViT-S state dict: 30 KB of pickle, ~350 tensors, 22 MB of storages)

#define PICKLE_MAX ((size_t)32 << 20) /* bytes of data.pkl */
#define OBJECTS_MAX ((size_t)1 << 22) /* values the pickle may create */
#define STACK_MAX ((size_t)1 << 20)   /* stack entries, and MARKs */
#define ENTRIES_MAX ((zip_int64_t)1 << 20)
#define STORAGE_MAX ((uint64_t)1 << 30) /* bytes of one storage record */
/* float32 elements of all tensors together: a stride-0 (expanded) view of a tiny storage can
 * describe any number of elements, so the output is bounded separately */
#define TOTAL_NUMEL_MAX ((int64_t)1 << 30)
#define GLOBAL_LINE_MAX 256 /* GLOBAL's module/name text lines */
#define PREFIX_MAX 128      /* the archive's directory name (torch.save: the file's stem) */

static const unsigned char zip_magic[4] = {'P', 'K', 3, 4};
/* PROTO 2, LONG1 of 10 bytes: the magic number 0x1950a86a20f9469cfc6c that the legacy
 * (pre-1.6, _use_new_zipfile_serialization=False) format pickles first */
static const unsigned char legacy_magic[13] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                               0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50};

// ---- allowed globals

enum global_kind { G_ORDERED_DICT, G_REBUILD_TENSOR_V2, G_REBUILD_PARAMETER, G_STORAGE };

typedef struct allowed_global {
    const char *module, *name;
    enum global_kind kind;
    const char *dtype; /* G_STORAGE: element type, as mvit_tensor.dtype */
    int size;          /* G_STORAGE: bytes per element */
    int is_float;
} allowed_global;

static const allowed_global allowed_globals[] = {
    {"collections", "OrderedDict", G_ORDERED_DICT, NULL, 0, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_TENSOR_V2, NULL, 0, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAMETER, NULL, 0, 0},
    {"torch", "FloatStorage", G_STORAGE, "F32", 4, 1},
    {"torch", "HalfStorage", G_STORAGE, "F16", 2, 1},
    {"torch", "BFloat16Storage", G_STORAGE, "BF16", 2, 1},
    {"torch", "DoubleStorage", G_STORAGE, "F64", 8, 1},
    {"torch", "LongStorage", G_STORAGE, "I64", 8, 0},
    {"torch", "IntStorage", G_STORAGE, "I32", 4, 0},
    {"torch", "ShortStorage", G_STORAGE, "I16", 2, 0},
    {"torch", "CharStorage", G_STORAGE, "I8", 1, 0},
    {"torch", "ByteStorage", G_STORAGE, "U8", 1, 0},
    {"torch", "BoolStorage", G_STORAGE, "BOOL", 1, 0},
};
#define N_ALLOWED ((int)(sizeof allowed_globals / sizeof allowed_globals[0]))
#define ALLOWED_LIST                                                                               \
    "collections.OrderedDict, torch._utils._rebuild_tensor_v2, "                                   \
    "torch._utils._rebuild_parameter and torch.{Float,Half,BFloat16,Double,Long,Int,Short,"        \
    "Char,Byte,Bool}Storage"

// ---- pickle values

enum pv_kind {
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_FLOAT,
    PV_STR,
    PV_BYTES,
    PV_TUPLE,
    PV_LIST,
    PV_DICT,
    PV_GLOBAL,
    PV_STORAGE,
    PV_TENSOR,
};
static const char *const kind_names[] = {
    "None",    "a bool", "an int", "a float",  "a str",     "bytes",
    "a tuple", "a list", "a dict", "a global", "a storage", "a tensor",
};

typedef struct pv pv;

typedef struct pv_tensor {
    pv *storage; /* PV_STORAGE */
    int64_t offset;
    int ndim;
    int64_t shape[MVIT_MAX_DIMS], stride[MVIT_MAX_DIMS]; /* in elements */
} pv_tensor;

struct pv {
    enum pv_kind kind;
    size_t at; /* pickle offset of the opcode that made it, for messages */
    int64_t i; /* BOOL, INT; STORAGE: numel */
    double f;
    char *s; /* STR, BYTES (NUL-terminated copy of len bytes); STORAGE: key */
    size_t len;
    pv **items; /* TUPLE, LIST; DICT: key, value, key, value... */
    size_t n, cap;
    const allowed_global *g; /* GLOBAL; STORAGE: its storage class */
    pv_tensor *t;            /* TENSOR */
};

typedef struct unpickler {
    const char *path, *entry;
    mvit_diag *d;
    const unsigned char *p;
    size_t len, pos, op_at; /* op_at: offset of the opcode being run */
    pv **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t n_marks, marks_cap;
    pv **memo; /* len + 1 slots: each PUT costs >= 2 bytes, so real indices fit */
    size_t memo_slots, memo_count;
    pv **pool; /* every value, for freeing */
    size_t n_pool, pool_cap;
} unpickler;

static int perr(unpickler *u, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int perr(unpickler *u, int code, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mvit_diag_at(u->d, code, u->path, 0, 0, "%s: pickle offset %zu: %s", u->entry, u->op_at,
                        msg);
}

static pv *new_value(unpickler *u, enum pv_kind kind)
{
    if (u->n_pool == OBJECTS_MAX) {
        perr(u, MVIT_EINVAL, "more than %zu values: not a state dict", OBJECTS_MAX);
        return NULL;
    }
    if (u->n_pool == u->pool_cap) {
        u->pool_cap = u->pool_cap ? u->pool_cap * 2 : 256;
        u->pool = mvit_xrealloc(u->pool, u->pool_cap * sizeof *u->pool);
    }
    pv *v = mvit_xcalloc(1, sizeof *v);
    v->kind = kind;
    v->at = u->op_at;
    u->pool[u->n_pool++] = v;
    return v;
}

static void free_values(unpickler *u)
{
    for (size_t i = 0; i < u->n_pool; i++) {
        free(u->pool[i]->s);
        free(u->pool[i]->items);
        free(u->pool[i]->t);
        free(u->pool[i]);
    }
    free(u->pool);
    free(u->stack);
    free(u->marks);
    free(u->memo);
}

static int push(unpickler *u, pv *v)
{
    if (!v)
        return MVIT_EINVAL;
    if (u->sp == STACK_MAX)
        return perr(u, MVIT_EINVAL, "stack deeper than %zu entries", STACK_MAX);
    if (u->sp == u->stack_cap) {
        u->stack_cap = u->stack_cap ? u->stack_cap * 2 : 64;
        u->stack = mvit_xrealloc(u->stack, u->stack_cap * sizeof *u->stack);
    }
    u->stack[u->sp++] = v;
    return 0;
}

/* The stack bottom for pops: values below the last MARK belong to an enclosing op. */
static size_t floor_of(const unpickler *u)
{
    return u->n_marks ? u->marks[u->n_marks - 1] : 0;
}

static int pop(unpickler *u, const char *op, pv **out)
{
    *out = NULL;
    if (u->sp <= floor_of(u))
        return perr(u, MVIT_EPARSE, "%s on an empty stack", op);
    *out = u->stack[--u->sp];
    return 0;
}

static int top(unpickler *u, const char *op, pv **out)
{
    *out = NULL;
    if (u->sp <= floor_of(u))
        return perr(u, MVIT_EPARSE, "%s on an empty stack", op);
    *out = u->stack[u->sp - 1];
    return 0;
}

/* Pops the last MARK; the values above it are stack[*from .. sp). */
static int pop_mark(unpickler *u, const char *op, size_t *from)
{
    *from = 0;
    if (!u->n_marks)
        return perr(u, MVIT_EPARSE, "%s without a MARK", op);
    *from = u->marks[--u->n_marks];
    return 0;
}

static void append_item(pv *c, pv *item)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4;
        c->items = mvit_xrealloc(c->items, c->cap * sizeof *c->items);
    }
    c->items[c->n++] = item;
}

static int need(unpickler *u, size_t n, const char *what)
{
    if (u->len - u->pos < n)
        return perr(u, MVIT_EPARSE, "%s runs past the end of the pickle (truncated?)", what);
    return 0;
}

static uint64_t rd_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A value holding a copy of len bytes at the read position (STR, BYTES). */
static int push_text(unpickler *u, enum pv_kind kind, size_t len, const char *what)
{
    int rc = need(u, len, what);
    if (rc < 0)
        return rc;
    pv *v = new_value(u, kind);
    if (!v)
        return MVIT_EINVAL;
    v->s = mvit_xmalloc(len + 1);
    memcpy(v->s, u->p + u->pos, len);
    v->s[len] = '\0';
    v->len = len;
    u->pos += len;
    return push(u, v);
}

static int push_int(unpickler *u, int64_t i)
{
    pv *v = new_value(u, PV_INT);
    if (!v)
        return MVIT_EINVAL;
    v->i = i;
    return push(u, v);
}

/* A tuple, list or dict of the values stack[from .. sp), which are popped. */
static int push_container(unpickler *u, enum pv_kind kind, size_t from)
{
    pv *v = new_value(u, kind);
    if (!v)
        return MVIT_EINVAL;
    if (kind == PV_DICT && (u->sp - from) % 2)
        return perr(u, MVIT_EPARSE, "DICT with an odd number of keys and values");
    for (size_t i = from; i < u->sp; i++)
        append_item(v, u->stack[i]);
    u->sp = from;
    return push(u, v);
}

static const allowed_global *find_global(const char *module, size_t mlen, const char *name,
                                         size_t nlen)
{
    for (int i = 0; i < N_ALLOWED; i++) {
        const allowed_global *g = &allowed_globals[i];
        if (strlen(g->module) == mlen && !memcmp(g->module, module, mlen) &&
            strlen(g->name) == nlen && !memcmp(g->name, name, nlen))
            return g;
    }
    return NULL;
}

static int push_global(unpickler *u, const char *module, size_t mlen, const char *name, size_t nlen)
{
    const allowed_global *g = find_global(module, mlen, name, nlen);
    if (!g) {
        char m[MVIT_QUOTE_BUF], n[MVIT_QUOTE_BUF];
        return perr(u, MVIT_EUNSUPPORTED,
                    "global '%s.%s' is not allowed in a state dict (allowed: " ALLOWED_LIST
                    "); nothing was executed",
                    mvit_weights_quote(m, module, mlen), mvit_weights_quote(n, name, nlen));
    }
    pv *v = new_value(u, PV_GLOBAL);
    if (!v)
        return MVIT_EINVAL;
    v->g = g;
    return push(u, v);
}

/* GLOBAL's text operand: one line, without its '\n'. */
static int read_line(unpickler *u, const char **s, size_t *len)
{
    const unsigned char *start = u->p + u->pos;
    size_t room = u->len - u->pos, max = room < GLOBAL_LINE_MAX ? room : GLOBAL_LINE_MAX;
    const unsigned char *nl = memchr(start, '\n', max);
    if (!nl)
        return perr(u, MVIT_EPARSE,
                    room < GLOBAL_LINE_MAX ? "GLOBAL runs past the end of the pickle"
                                           : "GLOBAL name longer than %d bytes",
                    GLOBAL_LINE_MAX);
    *s = (const char *)start;
    *len = (size_t)(nl - start);
    u->pos += *len + 1;
    return 0;
}

static int memo_put(unpickler *u, uint64_t idx)
{
    pv *v;
    int rc = top(u, "PUT", &v);
    if (rc < 0)
        return rc;
    if (idx >= u->memo_slots)
        return perr(u, MVIT_EINVAL, "memo index %" PRIu64 " is out of range", idx);
    if (!u->memo[idx])
        u->memo_count++;
    u->memo[idx] = v;
    return 0;
}

static int memo_get(unpickler *u, uint64_t idx)
{
    if (idx >= u->memo_slots || !u->memo[idx])
        return perr(u, MVIT_EPARSE, "memo index %" PRIu64 " was never stored", idx);
    return push(u, u->memo[idx]);
}

static int is_int(const pv *v)
{
    return v->kind == PV_INT || v->kind == PV_BOOL;
}

/* ('storage', torch.XStorage, key, location, numel) -> a storage value. */
static int persistent_load(unpickler *u)
{
    pv *pid;
    int rc = pop(u, "BINPERSID", &pid);
    if (rc < 0)
        return rc;
    if (pid->kind != PV_TUPLE || pid->n != 5 || pid->items[0]->kind != PV_STR ||
        strcmp(pid->items[0]->s, "storage") != 0)
        return perr(u, MVIT_EPARSE,
                    "persistent id must be ('storage', type, key, location, numel), got %s%s",
                    kind_names[pid->kind], pid->kind == PV_TUPLE ? " of another form" : "");
    pv *type = pid->items[1], *key = pid->items[2], *loc = pid->items[3], *num = pid->items[4];
    if (type->kind != PV_GLOBAL || type->g->kind != G_STORAGE)
        return perr(u, MVIT_EPARSE, "persistent id: storage type is %s, not a torch.*Storage",
                    type->kind == PV_GLOBAL ? type->g->name : kind_names[type->kind]);
    if (key->kind != PV_STR || key->len == 0 || key->len > 64 || memchr(key->s, '/', key->len) ||
        memchr(key->s, '\0', key->len))
        return perr(u, MVIT_EPARSE, "persistent id: storage key must be a short name");
    if (loc->kind != PV_STR)
        return perr(u, MVIT_EPARSE, "persistent id: location is %s, not a str",
                    kind_names[loc->kind]);
    if (!is_int(num) || num->i < 0)
        return perr(u, MVIT_EPARSE, "persistent id: numel must be a non-negative int");
    pv *v = new_value(u, PV_STORAGE);
    if (!v)
        return MVIT_EINVAL;
    v->g = type->g;
    v->s = mvit_xstrdup(key->s);
    v->len = key->len;
    v->i = num->i;
    return push(u, v);
}

static int int_tuple(unpickler *u, const pv *v, const char *what, int64_t *out, int *n)
{
    if (v->kind != PV_TUPLE)
        return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2: %s is %s, not a tuple", what,
                    kind_names[v->kind]);
    if (v->n > MVIT_MAX_DIMS)
        return perr(u, MVIT_EUNSUPPORTED, "_rebuild_tensor_v2: %s has %zu dims (at most %d)", what,
                    v->n, MVIT_MAX_DIMS);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i]->kind != PV_INT || v->items[i]->i < 0)
            return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2: %s must hold non-negative ints", what);
        out[i] = v->items[i]->i;
    }
    *n = (int)v->n;
    return 0;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static int rebuild_tensor(unpickler *u, const pv *args, pv **out)
{
    if (args->n != 6 && args->n != 7)
        return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2 takes 6 or 7 arguments, got %zu", args->n);
    pv *const *a = args->items;
    if (a[0]->kind != PV_STORAGE)
        return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2: storage is %s", kind_names[a[0]->kind]);
    if (a[1]->kind != PV_INT || a[1]->i < 0)
        return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2: offset must be a non-negative int");
    if (a[4]->kind != PV_BOOL || a[5]->kind != PV_DICT || (args->n == 7 && a[6]->kind != PV_DICT))
        return perr(u, MVIT_EPARSE,
                    "_rebuild_tensor_v2: requires_grad, hooks or metadata of the wrong kind");
    pv_tensor *t = mvit_xcalloc(1, sizeof *t);
    pv *v = new_value(u, PV_TENSOR);
    if (!v) {
        free(t);
        return MVIT_EINVAL;
    }
    v->t = t;
    t->storage = a[0];
    t->offset = a[1]->i;
    int nstride, rc;
    if ((rc = int_tuple(u, a[2], "size", t->shape, &t->ndim)) < 0 ||
        (rc = int_tuple(u, a[3], "stride", t->stride, &nstride)) < 0)
        return rc;
    if (nstride != t->ndim)
        return perr(u, MVIT_EPARSE, "_rebuild_tensor_v2: %d sizes but %d strides", t->ndim,
                    nstride);
    *out = v;
    return 0;
}

static int reduce(unpickler *u)
{
    pv *args, *fn;
    int rc;
    if ((rc = pop(u, "REDUCE", &args)) < 0 || (rc = pop(u, "REDUCE", &fn)) < 0)
        return rc;
    if (fn->kind != PV_GLOBAL)
        return perr(u, MVIT_EPARSE, "REDUCE calls %s, not an allowed global", kind_names[fn->kind]);
    if (args->kind != PV_TUPLE)
        return perr(u, MVIT_EPARSE, "REDUCE arguments are %s, not a tuple", kind_names[args->kind]);
    pv *v = NULL;
    switch (fn->g->kind) {
    case G_ORDERED_DICT:
        if (args->n != 0)
            return perr(u, MVIT_EUNSUPPORTED, "collections.OrderedDict with arguments");
        v = new_value(u, PV_DICT);
        break;
    case G_REBUILD_TENSOR_V2:
        if ((rc = rebuild_tensor(u, args, &v)) < 0)
            return rc;
        break;
    case G_REBUILD_PARAMETER: /* (tensor, requires_grad, hooks): the tensor itself */
        if (args->n != 3 || args->items[0]->kind != PV_TENSOR)
            return perr(u, MVIT_EPARSE, "_rebuild_parameter takes (tensor, requires_grad, hooks)");
        v = args->items[0];
        break;
    case G_STORAGE:
        return perr(u, MVIT_EUNSUPPORTED, "torch.%s is not callable here", fn->g->name);
    }
    return push(u, v);
}

/* BUILD sets attributes: only an OrderedDict's (the state dict's _metadata) are accepted,
 * and ignored. */
static int build(unpickler *u)
{
    pv *state, *obj;
    int rc;
    if ((rc = pop(u, "BUILD", &state)) < 0 || (rc = top(u, "BUILD", &obj)) < 0)
        return rc;
    if (obj->kind != PV_DICT || (state->kind != PV_DICT && state->kind != PV_NONE))
        return perr(u, MVIT_EUNSUPPORTED, "BUILD of %s with %s state", kind_names[obj->kind],
                    kind_names[state->kind]);
    return 0;
}

/* Opcodes this reader refuses, named in the message: the text-protocol forms, and everything
 * that calls or instantiates (INST, OBJ, NEWOBJ*, EXT*) or builds sets and buffers. */
static const struct {
    int op;
    const char *name;
} refused_ops[] = {
    {'I', "INT"},
    {'L', "LONG"},
    {'F', "FLOAT"},
    {'S', "STRING"},
    {'T', "BINSTRING"},
    {'U', "SHORT_BINSTRING"},
    {'V', "UNICODE"},
    {'P', "PERSID"},
    {'g', "GET"},
    {'p', "PUT"},
    {'i', "INST"},
    {'o', "OBJ"},
    {0x81, "NEWOBJ"},
    {0x92, "NEWOBJ_EX"},
    {0x82, "EXT1"},
    {0x83, "EXT2"},
    {0x84, "EXT4"},
    {0x8f, "EMPTY_SET"},
    {0x90, "ADDITEMS"},
    {0x91, "FROZENSET"},
    {0x96, "BYTEARRAY8"},
    {0x97, "NEXT_BUFFER"},
    {0x98, "READONLY_BUFFER"},
};

static const char *opcode_name(int op)
{
    for (size_t i = 0; i < sizeof refused_ops / sizeof refused_ops[0]; i++)
        if (refused_ops[i].op == op)
            return refused_ops[i].name;
    return NULL;
}

/* Runs the pickle to STOP; *result is the value on top of the stack then. */
static int unpickle(unpickler *u, pv **result)
{
    int rc = 0;
    u->memo_slots = u->len + 1;
    u->memo = mvit_xcalloc(u->memo_slots, sizeof *u->memo);
    while (u->pos < u->len) {
        u->op_at = u->pos;
        int op = u->p[u->pos++];
        pv *v, *c;
        size_t from;
        uint64_t n;
        const char *mod = NULL, *name = NULL;
        size_t mlen = 0, nlen = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if ((rc = need(u, 1, "PROTO")) < 0)
                return rc;
            if (u->p[u->pos] > 5)
                return perr(u, MVIT_EUNSUPPORTED, "pickle protocol %d (at most 5)", u->p[u->pos]);
            u->pos++;
            break;
        case 0x95: /* FRAME: a length prefix for buffering, nothing to check beyond it */
            if ((rc = need(u, 8, "FRAME")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, 8);
            u->pos += 8;
            if (n > u->len - u->pos)
                return perr(u, MVIT_EPARSE, "FRAME of %" PRIu64 " bytes runs past the end", n);
            break;
        case '.': /* STOP */
            if ((rc = top(u, "STOP", result)) < 0)
                return rc;
            return 0;
        case '(': /* MARK */
            if (u->n_marks == STACK_MAX)
                return perr(u, MVIT_EINVAL, "more than %zu nested MARKs", STACK_MAX);
            if (u->n_marks == u->marks_cap) {
                u->marks_cap = u->marks_cap ? u->marks_cap * 2 : 16;
                u->marks = mvit_xrealloc(u->marks, u->marks_cap * sizeof *u->marks);
            }
            u->marks[u->n_marks++] = u->sp;
            break;
        case '0': /* POP */
            if ((rc = pop(u, "POP", &v)) < 0)
                return rc;
            break;
        case '1': /* POP_MARK */
            if ((rc = pop_mark(u, "POP_MARK", &from)) < 0)
                return rc;
            u->sp = from;
            break;
        case '2': /* DUP */
            if ((rc = top(u, "DUP", &v)) < 0 || (rc = push(u, v)) < 0)
                return rc;
            break;
        case 'N':
            if ((rc = push(u, new_value(u, PV_NONE))) < 0)
                return rc;
            break;
        case 0x88: /* NEWTRUE */
        case 0x89: /* NEWFALSE */
            if (!(v = new_value(u, PV_BOOL)))
                return MVIT_EINVAL;
            v->i = op == 0x88;
            if ((rc = push(u, v)) < 0)
                return rc;
            break;
        case 'J': /* BININT: signed 32-bit */
            if ((rc = need(u, 4, "BININT")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, 4);
            u->pos += 4;
            if ((rc = push_int(u, (int64_t)(int32_t)(uint32_t)n)) < 0)
                return rc;
            break;
        case 'K': /* BININT1 */
        case 'M': /* BININT2 */
            if ((rc = need(u, op == 'K' ? 1 : 2, "BININT1/2")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, op == 'K' ? 1 : 2);
            u->pos += op == 'K' ? 1 : 2;
            if ((rc = push_int(u, (int64_t)n)) < 0)
                return rc;
            break;
        case 0x8a: /* LONG1: n-byte little-endian two's complement */
        case 0x8b: /* LONG4 */
            if ((rc = need(u, op == 0x8a ? 1 : 4, "LONG")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, op == 0x8a ? 1 : 4);
            u->pos += op == 0x8a ? 1 : 4;
            if (n > 8)
                return perr(u, MVIT_EUNSUPPORTED, "integer of %" PRIu64 " bytes (at most 8)", n);
            if ((rc = need(u, (size_t)n, "LONG")) < 0)
                return rc;
            {
                uint64_t x = rd_le(u->p + u->pos, (int)n);
                if (n > 0 && n < 8 && (u->p[u->pos + n - 1] & 0x80))
                    x |= ~(uint64_t)0 << (8 * n); /* sign-extend */
                u->pos += (size_t)n;
                int64_t s;
                memcpy(&s, &x, sizeof s);
                if ((rc = push_int(u, s)) < 0)
                    return rc;
            }
            break;
        case 'G': /* BINFLOAT: big-endian double */
            if ((rc = need(u, 8, "BINFLOAT")) < 0)
                return rc;
            {
                uint64_t bits = 0;
                for (int i = 0; i < 8; i++)
                    bits = bits << 8 | u->p[u->pos + i];
                u->pos += 8;
                if (!(v = new_value(u, PV_FLOAT)))
                    return MVIT_EINVAL;
                memcpy(&v->f, &bits, sizeof v->f);
                if ((rc = push(u, v)) < 0)
                    return rc;
            }
            break;
        case 'X':    /* BINUNICODE */
        case 0x8c:   /* SHORT_BINUNICODE */
        case 0x8d:   /* BINUNICODE8 */
        case 'B':    /* BINBYTES */
        case 'C':    /* SHORT_BINBYTES */
        case 0x8e: { /* BINBYTES8 */
            int w = op == 0x8c || op == 'C' ? 1 : op == 0x8d || op == 0x8e ? 8 : 4;
            if ((rc = need(u, (size_t)w, "string length")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, w);
            u->pos += (size_t)w;
            if (n > u->len - u->pos)
                return perr(u, MVIT_EPARSE,
                            "string of %" PRIu64 " bytes runs past the end of the pickle", n);
            int text = op == 'X' || op == 0x8c || op == 0x8d;
            if ((rc = push_text(u, text ? PV_STR : PV_BYTES, (size_t)n, "string")) < 0)
                return rc;
            break;
        }
        case ')': /* EMPTY_TUPLE */
        case ']': /* EMPTY_LIST */
        case '}': /* EMPTY_DICT */
            if ((rc = push_container(u,
                                     op == ')'   ? PV_TUPLE
                                     : op == ']' ? PV_LIST
                                                 : PV_DICT,
                                     u->sp)) < 0)
                return rc;
            break;
        case 't': /* TUPLE */
        case 'l': /* LIST */
        case 'd': /* DICT */
            if ((rc = pop_mark(u,
                               op == 't'   ? "TUPLE"
                               : op == 'l' ? "LIST"
                                           : "DICT",
                               &from)) < 0 ||
                (rc = push_container(u,
                                     op == 't'   ? PV_TUPLE
                                     : op == 'l' ? PV_LIST
                                                 : PV_DICT,
                                     from)) < 0)
                return rc;
            break;
        case 0x85: /* TUPLE1 */
        case 0x86: /* TUPLE2 */
        case 0x87: /* TUPLE3 */
            if (u->sp - floor_of(u) < (size_t)(op - 0x84))
                return perr(u, MVIT_EPARSE, "TUPLE%d with fewer values on the stack", op - 0x84);
            if ((rc = push_container(u, PV_TUPLE, u->sp - (size_t)(op - 0x84))) < 0)
                return rc;
            break;
        case 'a': /* APPEND */
            if ((rc = pop(u, "APPEND", &v)) < 0 || (rc = top(u, "APPEND", &c)) < 0)
                return rc;
            if (c->kind != PV_LIST)
                return perr(u, MVIT_EPARSE, "APPEND to %s", kind_names[c->kind]);
            append_item(c, v);
            break;
        case 'e': /* APPENDS */
        case 'u': /* SETITEMS */
            if ((rc = pop_mark(u, op == 'e' ? "APPENDS" : "SETITEMS", &from)) < 0)
                return rc;
            if (from == 0 || (op == 'u' && (u->sp - from) % 2))
                return perr(u, MVIT_EPARSE, "%s without a target or with an odd item count",
                            op == 'e' ? "APPENDS" : "SETITEMS");
            c = u->stack[from - 1];
            if (c->kind != (op == 'e' ? PV_LIST : PV_DICT))
                return perr(u, MVIT_EPARSE, "%s to %s", op == 'e' ? "APPENDS" : "SETITEMS",
                            kind_names[c->kind]);
            for (size_t i = from; i < u->sp; i++)
                append_item(c, u->stack[i]);
            u->sp = from;
            break;
        case 's': /* SETITEM */
            if ((rc = pop(u, "SETITEM", &v)) < 0 || (rc = pop(u, "SETITEM", &c)) < 0)
                return rc;
            {
                pv *dict;
                if ((rc = top(u, "SETITEM", &dict)) < 0)
                    return rc;
                if (dict->kind != PV_DICT)
                    return perr(u, MVIT_EPARSE, "SETITEM to %s", kind_names[dict->kind]);
                append_item(dict, c);
                append_item(dict, v);
            }
            break;
        case 'q': /* BINPUT */
        case 'r': /* LONG_BINPUT */
        case 'h': /* BINGET */
        case 'j': /* LONG_BINGET */
            if ((rc = need(u, op == 'q' || op == 'h' ? 1 : 4, "memo index")) < 0)
                return rc;
            n = rd_le(u->p + u->pos, op == 'q' || op == 'h' ? 1 : 4);
            u->pos += op == 'q' || op == 'h' ? 1 : 4;
            if ((rc = op == 'q' || op == 'r' ? memo_put(u, n) : memo_get(u, n)) < 0)
                return rc;
            break;
        case 0x94: /* MEMOIZE */
            if ((rc = memo_put(u, u->memo_count)) < 0)
                return rc;
            break;
        case 'c': /* GLOBAL "module\nname\n" */
            if ((rc = read_line(u, &mod, &mlen)) < 0 || (rc = read_line(u, &name, &nlen)) < 0 ||
                (rc = push_global(u, mod, mlen, name, nlen)) < 0)
                return rc;
            break;
        case 0x93: /* STACK_GLOBAL */
            if ((rc = pop(u, "STACK_GLOBAL", &v)) < 0 || (rc = pop(u, "STACK_GLOBAL", &c)) < 0)
                return rc;
            if (v->kind != PV_STR || c->kind != PV_STR)
                return perr(u, MVIT_EPARSE, "STACK_GLOBAL needs two strs");
            if ((rc = push_global(u, c->s, c->len, v->s, v->len)) < 0)
                return rc;
            break;
        case 'R':
            if ((rc = reduce(u)) < 0)
                return rc;
            break;
        case 'Q':
            if ((rc = persistent_load(u)) < 0)
                return rc;
            break;
        case 'b':
            if ((rc = build(u)) < 0)
                return rc;
            break;
        default:
            if (opcode_name(op))
                return perr(u, MVIT_EUNSUPPORTED,
                            "opcode %s (0x%02x) is not allowed in a state dict; nothing was "
                            "executed",
                            opcode_name(op), op);
            return perr(u, MVIT_EPARSE, "unknown pickle opcode 0x%02x", op);
        }
    }
    u->op_at = u->pos;
    return perr(u, MVIT_EPARSE, "pickle ends without STOP (truncated?)");
}

// ---- the zip archive

typedef struct archive {
    const char *path;
    mvit_diag *d;
    zip_t *za;
    char *prefix; /* "archive/" (with the slash) */
} archive;

static int zip_fail(const archive *a, const char *entry, zip_error_t *err, const char *what)
{
    return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0, "%s%s%s: %s", entry ? entry : "",
                        entry ? ": " : "", what, zip_error_strerror(err));
}

/* Reads a whole entry of at most max bytes (exactly expect bytes when expect >= 0, checked
 * before anything is allocated). The trailing 1-byte read makes libzip check the CRC. */
static int read_entry(const archive *a, zip_int64_t idx, const char *name, uint64_t max,
                      int64_t expect, unsigned char **out, size_t *len)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(a->za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
        return zip_fail(a, name, zip_get_error(a->za), "cannot stat");
    if (st.size > max)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                            "%s: %" PRIu64 " bytes, more than the %" PRIu64 "-byte limit", name,
                            (uint64_t)st.size, max);
    if (expect >= 0 && st.size != (uint64_t)expect)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                            "%s: %" PRIu64 " bytes, but the pickle describes %" PRId64, name,
                            (uint64_t)st.size, expect);
    zip_file_t *zf = zip_fopen_index(a->za, (zip_uint64_t)idx, 0);
    if (!zf)
        return zip_fail(a, name, zip_get_error(a->za), "cannot open");
    size_t n = (size_t)st.size;
    unsigned char *buf = mvit_xmalloc(n + 1);
    size_t got = 0;
    int rc = 0;
    while (got < n + 1) {
        zip_int64_t r = zip_fread(zf, buf + got, n + 1 - got);
        if (r < 0) {
            rc = zip_fail(a, name, zip_file_get_error(zf), "cannot read");
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (rc == 0 && got != n)
        rc = mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                          "%s: holds %s bytes than its directory entry says (%zu)", name,
                          got > n ? "more" : "fewer", n);
    zip_fclose(zf);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Finds the one "<dir>/data.pkl" and sets a->prefix to "<dir>/". */
static int find_prefix(archive *a, zip_int64_t count, zip_int64_t *pkl)
{
    *pkl = -1;
    for (zip_int64_t i = 0; i < count; i++) {
        const char *nm = zip_get_name(a->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!nm)
            continue;
        const char *slash = strchr(nm, '/');
        if (!slash || slash == nm || strcmp(slash + 1, "data.pkl") != 0)
            continue;
        if (*pkl >= 0) {
            char q[MVIT_QUOTE_BUF];
            return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                                "archive holds more than one data.pkl ('%s%s' and '%s')", a->prefix,
                                "data.pkl", mvit_weights_quote(q, nm, strlen(nm)));
        }
        *pkl = i;
        size_t plen = (size_t)(slash - nm) + 1;
        for (size_t k = 0; k < plen; k++)
            if ((unsigned char)nm[k] < 0x20 || nm[k] == 0x7f || plen > PREFIX_MAX) {
                char q[MVIT_QUOTE_BUF];
                return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                                    "archive directory '%s' is longer than %d bytes or has control "
                                    "characters",
                                    mvit_weights_quote(q, nm, plen - 1), PREFIX_MAX - 1);
            }
        a->prefix = memcpy(mvit_xmalloc(plen + 1), nm, plen);
        a->prefix[plen] = '\0';
    }
    if (*pkl < 0)
        return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                            "zip archive without a '<name>/data.pkl' entry: not a checkpoint "
                            "written by torch.save");
    return 0;
}

static zip_int64_t locate(const archive *a, const char *suffix)
{
    size_t len = strlen(a->prefix) + strlen(suffix) + 1;
    char *nm = mvit_xmalloc(len);
    snprintf(nm, len, "%s%s", a->prefix, suffix);
    zip_int64_t idx = zip_name_locate(a->za, nm, ZIP_FL_ENC_RAW);
    free(nm);
    return idx;
}

// ---- from pickle values to the tensor table

/* Looks up a str key; several equal keys are an error (a Python dict cannot hold them). */
static int dict_get(const archive *a, const pv *dict, const char *key, const pv **out)
{
    *out = NULL;
    for (size_t i = 0; i + 1 < dict->n; i += 2) {
        const pv *k = dict->items[i];
        if (k->kind == PV_STR && k->len == strlen(key) && !memcmp(k->s, key, k->len)) {
            if (*out)
                return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                                    "checkpoint dict holds the key '%s' twice", key);
            *out = dict->items[i + 1];
        }
    }
    return 0;
}

/* The state dict: the top-level dict, or the dict under a wrapper key (training checkpoints:
 * timm "state_dict", ml-cvnets "model_state_dict", others "model"). */
static int select_state_dict(const archive *a, const pv *root, const pv **sd)
{
    static const char *const wrappers[] = {"state_dict", "model_state_dict", "model"};
    *sd = NULL;
    if (root->kind != PV_DICT)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                            "the checkpoint holds %s, not a state dict", kind_names[root->kind]);
    *sd = root;
    for (size_t k = 0; k < sizeof wrappers / sizeof wrappers[0]; k++) {
        const pv *v;
        int rc = dict_get(a, root, wrappers[k], &v);
        if (rc < 0)
            return rc;
        if (v && v->kind == PV_DICT) {
            *sd = v;
            return 0;
        }
    }
    return 0;
}

typedef struct pending {
    const pv_tensor *t;
    int idx; /* into w->tensors */
} pending;

static int cmp_pending(const void *x, const void *y)
{
    const pending *a = x, *b = y;
    int c = strcmp(a->t->storage->s, b->t->storage->s);
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

static int cmp_names(const void *x, const void *y)
{
    const mvit_tensor *a = *(const mvit_tensor *const *)x, *b = *(const mvit_tensor *const *)y;
    return strcmp(a->name, b->name);
}

/* Checks the view (offset, sizes, strides) against its storage's numel and sets numel. */
static int check_view(const archive *a, const char *name, const pv_tensor *t, mvit_tensor *out)
{
    char q[MVIT_QUOTE_BUF];
    int64_t numel = 1, last = t->offset; /* element index of the last element */
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] != 0 && numel > INT64_MAX / t->shape[i])
            return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0, "tensor '%s': too many elements",
                                mvit_weights_quote(q, name, strlen(name)));
        numel *= t->shape[i];
    }
    for (int i = 0; numel > 0 && i < t->ndim; i++) {
        int64_t span = t->shape[i] - 1;
        if (t->stride[i] != 0 && span > (INT64_MAX - last) / t->stride[i])
            return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                                "tensor '%s': offset and strides overflow",
                                mvit_weights_quote(q, name, strlen(name)));
        last += span * t->stride[i];
    }
    if (numel > 0 && last >= t->storage->i)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                            "tensor '%s': view (offset %" PRId64 ", last element %" PRId64
                            ") runs past its storage '%s' of %" PRId64 " elements",
                            mvit_weights_quote(q, name, strlen(name)), t->offset, last,
                            t->storage->s, t->storage->i);
    out->numel = numel;
    return 0;
}

/* Copies the view's elements (es bytes each) in row-major order of its shape. */
static void gather(const pv_tensor *t, const unsigned char *storage, size_t es, unsigned char *dst,
                   int64_t numel)
{
    int64_t idx[MVIT_MAX_DIMS] = {0};
    int64_t at = t->offset;
    for (int64_t k = 0; k < numel; k++) {
        memcpy(dst + (size_t)k * es, storage + (size_t)at * es, es);
        for (int i = t->ndim - 1; i >= 0; i--) { /* odometer step */
            at += t->stride[i];
            if (++idx[i] < t->shape[i])
                break;
            at -= t->stride[i] * t->shape[i];
            idx[i] = 0;
        }
    }
}

static int is_contiguous(const pv_tensor *t)
{
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != expect)
            return 0;
        expect *= t->shape[i];
    }
    return 1;
}

/* Loads one storage record and fills the float tensors that view it (p[0..n) share it). */
static int load_storage(const archive *a, const pending *p, int n, mvit_weights *w)
{
    const pv *st = p[0].t->storage;
    const allowed_global *g = st->g;
    const char *first = w->tensors[p[0].idx].name;
    char q1[MVIT_QUOTE_BUF], q2[MVIT_QUOTE_BUF];
    char entry[96];
    snprintf(entry, sizeof entry, "data/%s", st->s);
    for (int k = 1; k < n; k++) { /* every persistent id of this key must agree */
        const pv *o = p[k].t->storage;
        if (o->g != g || o->i != st->i)
            return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                                "storage '%s' is described twice, as %s of %" PRId64
                                " and as %s of %" PRId64 " elements (tensors '%s' and '%s')",
                                st->s, g->name, st->i, o->g->name, o->i,
                                mvit_weights_quote(q1, first, strlen(first)),
                                mvit_weights_quote(q2, w->tensors[p[k].idx].name,
                                                   strlen(w->tensors[p[k].idx].name)));
    }
    zip_int64_t idx = locate(a, entry);
    if (idx < 0)
        return mvit_diag_at(a->d, MVIT_EPARSE, a->path, 0, 0,
                            "tensor '%s': archive has no storage record '%s%s'",
                            mvit_weights_quote(q1, first, strlen(first)), a->prefix, entry);
    if ((uint64_t)st->i > STORAGE_MAX / (uint64_t)g->size)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                            "storage '%s': %" PRId64 " elements is more than the %" PRIu64
                            "-byte limit",
                            st->s, st->i, STORAGE_MAX);
    uint64_t nbytes = (uint64_t)st->i * (uint64_t)g->size;
    char full[PREFIX_MAX + sizeof entry];
    snprintf(full, sizeof full, "%s%s", a->prefix, entry);
    unsigned char *buf;
    size_t len;
    int rc = read_entry(a, idx, full, STORAGE_MAX, (int64_t)nbytes, &buf, &len);
    if (rc < 0)
        return rc;
    for (int k = 0; k < n; k++) {
        mvit_tensor *out = &w->tensors[p[k].idx];
        const pv_tensor *t = p[k].t;
        if (!out->is_float || out->numel == 0) {
            if (out->is_float) /* data is never NULL for a float tensor */
                out->data = mvit_xmalloc(sizeof *out->data);
            continue;
        }
        out->data = mvit_xmalloc((size_t)out->numel * sizeof *out->data);
        if (is_contiguous(t)) {
            mvit_weights_convert(g->dtype, buf + (size_t)t->offset * (size_t)g->size, out->numel,
                                 out->data);
        } else {
            unsigned char *tmp = mvit_xmalloc((size_t)out->numel * (size_t)g->size + 1);
            gather(t, buf, (size_t)g->size, tmp, out->numel);
            mvit_weights_convert(g->dtype, tmp, out->numel, out->data);
            free(tmp);
        }
    }
    free(buf);
    return 0;
}

static int build_table(const archive *a, const pv *sd, mvit_weights *w)
{
    char q[MVIT_QUOTE_BUF];
    size_t count = sd->n / 2;
    if (count > INT32_MAX)
        return mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0, "too many tensors");
    w->tensors = mvit_xcalloc(count ? count : 1, sizeof *w->tensors);
    pending *p = mvit_xcalloc(count ? count : 1, sizeof *p);
    int rc = 0;
    int64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        const pv *k = sd->items[2 * i], *v = sd->items[2 * i + 1];
        if (k->kind != PV_STR) {
            rc = mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                              "state dict key %zu is %s, not a str (pickle offset %zu)", i,
                              kind_names[k->kind], k->at);
            goto out;
        }
        if (memchr(k->s, '\0', k->len)) {
            rc = mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                              "tensor '%s': name contains a NUL character",
                              mvit_weights_quote(q, k->s, k->len));
            goto out;
        }
        if (v->kind != PV_TENSOR) {
            rc = mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                              "state dict entry '%s' is %s, not a tensor (pickle offset %zu)",
                              mvit_weights_quote(q, k->s, k->len), kind_names[v->kind], v->at);
            goto out;
        }
        mvit_tensor *t = &w->tensors[w->count++];
        t->name = mvit_xstrdup(k->s);
        snprintf(t->dtype, sizeof t->dtype, "%s", v->t->storage->g->dtype);
        t->is_float = v->t->storage->g->is_float;
        t->ndim = v->t->ndim;
        memcpy(t->shape, v->t->shape, sizeof t->shape);
        if ((rc = check_view(a, t->name, v->t, t)) < 0)
            goto out;
        if (t->is_float && (total += t->numel) > TOTAL_NUMEL_MAX) {
            rc = mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0,
                              "tensor '%s': the tensors hold more than %" PRId64 " elements",
                              mvit_weights_quote(q, t->name, strlen(t->name)), TOTAL_NUMEL_MAX);
            goto out;
        }
        p[i].t = v->t;
        p[i].idx = (int)i;
    }
    /* duplicate names: a dict that SETITEMs one key twice keeps the last in Python; torch
     * never writes that, so it is refused rather than guessed */
    if (count > 1) {
        const mvit_tensor **by = mvit_xcalloc(count, sizeof *by);
        for (size_t i = 0; i < count; i++)
            by[i] = &w->tensors[i];
        qsort(by, count, sizeof *by, cmp_names);
        for (size_t i = 1; i < count && rc == 0; i++)
            if (!strcmp(by[i - 1]->name, by[i]->name))
                rc = mvit_diag_at(a->d, MVIT_EINVAL, a->path, 0, 0, "duplicate tensor '%s'",
                                  mvit_weights_quote(q, by[i]->name, strlen(by[i]->name)));
        free(by);
        if (rc < 0)
            goto out;
    }
    /* one read per storage record: group the tensors by key */
    if (count)
        qsort(p, count, sizeof *p, cmp_pending);
    for (size_t i = 0; i < count;) {
        size_t j = i + 1;
        while (j < count && !strcmp(p[j].t->storage->s, p[i].t->storage->s))
            j++;
        if ((rc = load_storage(a, p + i, (int)(j - i), w)) < 0)
            goto out;
        i = j;
    }
out:
    free(p);
    return rc;
}

// ---- entry points

/* Why a file that is not a zip archive is not read. */
static int not_zip(const char *path, const unsigned char *buf, size_t len, mvit_diag *d)
{
    if (len >= sizeof legacy_magic && !memcmp(buf, legacy_magic, sizeof legacy_magic))
        return mvit_diag_at(d, MVIT_EUNSUPPORTED, path, 0, 0,
                            "legacy PyTorch checkpoint (torch.save before 1.6 or with "
                            "_use_new_zipfile_serialization=False) is not supported: load it in "
                            "PyTorch and save it again with torch.save(state_dict, path)");
    if (len >= 1 && buf[0] == 0x80)
        return mvit_diag_at(d, MVIT_EUNSUPPORTED, path, 0, 0,
                            "a bare pickle, not a torch.save zip archive");
    return mvit_diag_at(d, MVIT_EPARSE, path, 0, 0, "not a zip archive (torch.save checkpoint)");
}

int mvit_weights_parse_pytorch(const char *path, const unsigned char *buf, size_t len,
                               mvit_weights *w, mvit_diag *d)
{
    int rc;
    archive a = {.path = path ? path : "<memory>", .d = d};
    unpickler u;
    memset(&u, 0, sizeof u);
    unsigned char *pkl = NULL;
    size_t pkl_len = 0;
    zip_error_t err;
    zip_error_init(&err);
    memset(w, 0, sizeof *w);
    w->path = mvit_xstrdup(a.path);

    if (len < sizeof zip_magic || memcmp(buf, zip_magic, sizeof zip_magic) != 0) {
        rc = not_zip(a.path, buf, len, d);
        goto fail;
    }
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &err);
    if (!src) {
        rc = zip_fail(&a, NULL, &err, "cannot read the zip archive");
        goto fail;
    }
    a.za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!a.za) {
        zip_source_free(src);
        rc = zip_fail(&a, NULL, &err, "not a readable zip archive");
        goto fail;
    }
    zip_int64_t count = zip_get_num_entries(a.za, 0), pkl_idx;
    if (count > ENTRIES_MAX) {
        rc = mvit_diag_at(d, MVIT_EINVAL, a.path, 0, 0,
                          "zip archive of more than %" PRId64 " entries", (int64_t)ENTRIES_MAX);
        goto fail;
    }
    if ((rc = find_prefix(&a, count, &pkl_idx)) < 0)
        goto fail;
    if (locate(&a, "constants.pkl") >= 0) {
        rc = mvit_diag_at(d, MVIT_EUNSUPPORTED, a.path, 0, 0,
                          "a TorchScript archive (torch.jit.save), not a state dict: save "
                          "model.state_dict() with torch.save");
        goto fail;
    }
    zip_int64_t bo = locate(&a, "byteorder");
    if (bo >= 0) {
        unsigned char *order;
        size_t olen;
        char name[PREFIX_MAX + 16];
        snprintf(name, sizeof name, "%sbyteorder", a.prefix);
        if ((rc = read_entry(&a, bo, name, 64, -1, &order, &olen)) < 0)
            goto fail;
        int little = olen == 6 && !memcmp(order, "little", 6);
        free(order);
        if (!little) {
            rc = mvit_diag_at(d, MVIT_EUNSUPPORTED, a.path, 0, 0,
                              "%s: only little-endian checkpoints are supported", name);
            goto fail;
        }
    }
    char pkl_name[PREFIX_MAX + 16];
    snprintf(pkl_name, sizeof pkl_name, "%sdata.pkl", a.prefix);
    if ((rc = read_entry(&a, pkl_idx, pkl_name, PICKLE_MAX, -1, &pkl, &pkl_len)) < 0)
        goto fail;

    u.path = a.path;
    u.entry = pkl_name;
    u.d = d;
    u.p = pkl;
    u.len = pkl_len;
    pv *root;
    if ((rc = unpickle(&u, &root)) < 0)
        goto fail;
    const pv *sd;
    if ((rc = select_state_dict(&a, root, &sd)) < 0 || (rc = build_table(&a, sd, w)) < 0)
        goto fail;
    rc = 0;
fail:
    if (rc < 0)
        mvit_weights_free(w);
    free_values(&u);
    free(pkl);
    free(a.prefix);
    if (a.za)
        zip_discard(a.za);
    zip_error_fini(&err);
    return rc;
}

int mvit_weights_load_pytorch(const char *path, mvit_weights *w, mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    memset(w, 0, sizeof *w);
    int rc = mvit_read_file(path, (size_t)1 << 40, &buf, &len, d);
    if (rc < 0)
        return rc;
    rc = mvit_weights_parse_pytorch(path, buf, len, w, d);
    free(buf);
    return rc;
}
