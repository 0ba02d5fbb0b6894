/* safetensors reader: checks the container (u64 header length, JSON header, byte ranges) and
 * converts F32/F16/BF16/F64 tensors to owned float32 arrays. The header is read with libyaml's
 * event API, held to JSON's shape (flow mapping, double-quoted strings, plain integers).
 * mvit_weights_parse_safetensors is the fuzz entry: any input must be rejected without reading
 * outside buf, leaking or overflowing; every message names the file and the tensor. */
#include "weights.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The reference implementation (huggingface/safetensors) refuses larger headers too. */
#define HEADER_MAX 100000000u
/* A file-provided string quoted in a message is cut here so the message stays readable. */
#define SHOW_MAX 120
#define SHOW_BUF (SHOW_MAX + 4)
_Static_assert(SHOW_BUF == MVIT_QUOTE_BUF, "weights.h quotes with the same buffer");
#define METADATA_KEY "__metadata__"

// ---- dtypes and element conversion

enum conversion { KEEP_RAW, FROM_F32, FROM_F16, FROM_BF16, FROM_F64 };

typedef struct dtype_info {
    const char *name;
    int size;             /* bytes per element */
    enum conversion conv; /* KEEP_RAW: an entry with is_float = 0 and no data */
} dtype_info;

/* Every byte-sized dtype of the format; only the float ones are converted. Sub-byte types
 * (F4, F6_*) are left out: their byte ranges are not numel * size. */
static const dtype_info dtypes[] = {
    {"F32", 4, FROM_F32},     {"F16", 2, FROM_F16},     {"BF16", 2, FROM_BF16},
    {"F64", 8, FROM_F64},     {"BOOL", 1, KEEP_RAW},    {"U8", 1, KEEP_RAW},
    {"I8", 1, KEEP_RAW},      {"I16", 2, KEEP_RAW},     {"U16", 2, KEEP_RAW},
    {"I32", 4, KEEP_RAW},     {"U32", 4, KEEP_RAW},     {"I64", 8, KEEP_RAW},
    {"U64", 8, KEEP_RAW},     {"C64", 8, KEEP_RAW},     {"F8_E5M2", 1, KEEP_RAW},
    {"F8_E4M3", 1, KEEP_RAW}, {"F8_E8M0", 1, KEEP_RAW},
};

static const dtype_info *find_dtype(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strlen(dtypes[i].name) == len && memcmp(dtypes[i].name, s, len) == 0)
            return &dtypes[i];
    return NULL;
}

/* Byte-wise little-endian reads: the data area has no alignment guarantee. */
static uint16_t rd_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd_u64(const unsigned char *p)
{
    return rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half (1-5-10, bias 15) to single (1-8-23, bias 127); every half is exactly a single. */
static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    int32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* inf, or NaN with its payload (and quiet bit) kept */
        return f32_from_bits(sign | 0x7f800000u | mant << 13);
    if (exp == 0) {
        if (mant == 0)
            return f32_from_bits(sign);
        /* subnormal mant * 2^-24: shift the leading 1 up to the implicit-bit position */
        exp = 1;
        while (!(mant & 0x400u)) {
            mant <<= 1;
            exp--;
        }
        mant &= 0x3ffu;
    }
    return f32_from_bits(sign | (uint32_t)(exp + 127 - 15) << 23 | mant << 13);
}

/* bfloat16 is the top half of a float32, subnormals, inf and NaN included. */
static float bf16_to_f32(uint16_t h)
{
    return f32_from_bits((uint32_t)h << 16);
}

/* ISO C leaves (float)v undefined outside float's range, so round those by hand: below the
 * midpoint 2^128 - 2^103 round-to-nearest gives FLT_MAX, from it on (a tie goes to the even
 * neighbour) infinity. */
static float f64_to_f32(double v)
{
    if (v > FLT_MAX || v < -FLT_MAX) {
        float big = fabs(v) < 0x1.ffffffp+127 ? FLT_MAX : INFINITY;
        return v < 0 ? -big : big;
    }
    return (float)v;
}

static void convert(const dtype_info *dt, const unsigned char *src, int64_t n, float *dst)
{
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *p = src + i * dt->size;
        uint64_t u;
        double v;
        switch (dt->conv) {
        case FROM_F32:
            dst[i] = f32_from_bits(rd_u32(p));
            break;
        case FROM_F16:
            dst[i] = f16_to_f32(rd_u16(p));
            break;
        case FROM_BF16:
            dst[i] = bf16_to_f32(rd_u16(p));
            break;
        case FROM_F64:
            u = rd_u64(p);
            memcpy(&v, &u, sizeof v);
            dst[i] = f64_to_f32(v);
            break;
        case KEEP_RAW:
            assert(0 && "convert() called on a raw dtype");
            return;
        }
    }
}

// ---- messages

/* Copies a file-provided string for a message: control bytes become '?', long strings are cut
 * (at a UTF-8 character boundary) and marked with "...". */
static const char *show(char out[SHOW_BUF], const char *s, size_t len)
{
    size_t n = len;
    if (n > SHOW_MAX) {
        n = SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n < len) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

static void fmt_shape(char *out, size_t cap, const int64_t *shape, int ndim)
{
    size_t n = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < cap)
        snprintf(out + n, cap - n, "]");
}

// ---- header parsing

typedef struct byte_range {
    int64_t begin, end; /* relative to the data area */
    int idx;            /* into w->tensors */
} byte_range;

typedef struct reader {
    const char *path;
    mvit_diag *d;
    yaml_parser_t yp;
    yaml_event_t ev;           /* the current event; zeroed or live, so always deletable */
    size_t data_size;          /* bytes after the header */
    const unsigned char *orig; /* the header as stored, n bytes */
    size_t n;
    const unsigned char *header; /* what libyaml reads: orig with surrogate pairs rewritten */
    size_t hlen;
    char tname[SHOW_BUF]; /* the tensor being read, for messages; "" outside entries */
} reader;

static size_t file_offset(const reader *r, size_t char_index);

static int next(reader *r)
{
    yaml_event_delete(&r->ev);
    if (!yaml_parser_parse(&r->yp, &r->ev)) {
        const char *in = r->tname[0] ? " in tensor '" : "";
        if (r->yp.error == YAML_MEMORY_ERROR)
            return mvit_diag_at(r->d, MVIT_ENOMEM, r->path, 0, 0, "out of memory reading header");
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                            "header is not valid JSON%s%s%s: %s%s%s at file offset %zu", in,
                            r->tname, in[0] ? "'" : "", r->yp.problem ? r->yp.problem : "error",
                            r->yp.context ? " " : "", r->yp.context ? r->yp.context : "",
                            file_offset(r, r->yp.problem_mark.index));
    }
    if (r->ev.type == YAML_NO_EVENT) /* libyaml's answer after the end; not reached normally */
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0, "header ends unexpectedly");
    return 0;
}

static size_t ev_offset(const reader *r)
{
    return file_offset(r, r->ev.start_mark.index);
}

/* What a JSON reader would call the value that starts at e, for "expected X, found Y". */
static const char *found(const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            return "a string";
        return e->data.scalar.length ? "a bare value" : "nothing";
    case YAML_SEQUENCE_START_EVENT:
        return "an array";
    case YAML_MAPPING_START_EVENT:
        return e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE ? "an object"
                                                                      : "a YAML block mapping";
    case YAML_ALIAS_EVENT:
        return "a YAML alias";
    default:
        return "something else";
    }
}

static int is_string(const yaml_event_t *e)
{
    return e->type == YAML_SCALAR_EVENT && e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

/* Reads the current event as a JSON integer in [0, INT64_MAX]. */
static int parse_int(reader *r, const char *what, int64_t *out)
{
    const yaml_event_t *e = &r->ev;
    if (e->type != YAML_SCALAR_EVENT || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        e->data.scalar.length == 0)
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                            "tensor '%s': %s must be an array of non-negative integers, found "
                            "%s in it at file offset %zu",
                            r->tname, what, found(e), ev_offset(r));
    const char *s = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    char v[SHOW_BUF];
    show(v, s, len);
    if (s[0] == '-' && len > 1 && s[1] >= '0' && s[1] <= '9')
        return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                            "tensor '%s': %s value %s is negative", r->tname, what, v);
    int64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        int c = s[i] - '0';
        /* JSON has no leading zeros, so "007" is as foreign as "7.0" or "1e3" */
        if (c < 0 || c > 9 || (i == 0 && c == 0 && len > 1))
            return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                                "tensor '%s': %s value %s is not an integer", r->tname, what, v);
        if (x > (INT64_MAX - c) / 10)
            return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                                "tensor '%s': %s value %s is too large", r->tname, what, v);
        x = x * 10 + c;
    }
    *out = x;
    return 0;
}

/* Reads "[int, ...]" into out[0..max). A longer array stops early with *n = max + 1. */
static int parse_ints(reader *r, const char *what, int64_t *out, int max, int *n)
{
    int rc;
    *n = 0;
    if ((rc = next(r)) < 0)
        return rc;
    if (r->ev.type != YAML_SEQUENCE_START_EVENT)
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                            "tensor '%s': %s must be an array of non-negative integers, found "
                            "%s at file offset %zu",
                            r->tname, what, found(&r->ev), ev_offset(r));
    for (;;) {
        if ((rc = next(r)) < 0)
            return rc;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (*n == max) {
            *n = max + 1;
            return 0;
        }
        if ((rc = parse_int(r, what, &out[*n])) < 0)
            return rc;
        (*n)++;
    }
}

enum { KEY_DTYPE, KEY_SHAPE, KEY_OFFSETS, KEY_COUNT };
static const char *const key_names[KEY_COUNT] = {"dtype", "shape", "data_offsets"};

/* Reads one entry's object and checks it against the data area. */
static int parse_entry(reader *r, mvit_tensor *t, byte_range *range)
{
    int rc, seen[KEY_COUNT] = {0};
    const dtype_info *dt = NULL;
    int64_t offs[2] = {0, 0};
    char v[SHOW_BUF];

    if ((rc = next(r)) < 0)
        return rc;
    if (r->ev.type != YAML_MAPPING_START_EVENT)
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                            "tensor '%s': expected an object with dtype, shape and data_offsets, "
                            "found %s at file offset %zu",
                            r->tname, found(&r->ev), ev_offset(r));
    for (;;) {
        if ((rc = next(r)) < 0)
            return rc;
        if (r->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (!is_string(&r->ev))
            return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                                "tensor '%s': expected a double-quoted key, found %s at file "
                                "offset %zu",
                                r->tname, found(&r->ev), ev_offset(r));
        const char *key = (const char *)r->ev.data.scalar.value;
        size_t klen = r->ev.data.scalar.length;
        int k = 0;
        while (k < KEY_COUNT && !(strlen(key_names[k]) == klen && !memcmp(key, key_names[k], klen)))
            k++;
        if (k == KEY_COUNT)
            return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                                "tensor '%s': unknown key '%s' (expected dtype, shape, "
                                "data_offsets)",
                                r->tname, show(v, key, klen));
        if (seen[k]++)
            return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0, "tensor '%s': duplicate key '%s'",
                                r->tname, key_names[k]);
        if (k == KEY_DTYPE) {
            if ((rc = next(r)) < 0)
                return rc;
            if (!is_string(&r->ev))
                return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                                    "tensor '%s': dtype must be a string, found %s at file "
                                    "offset %zu",
                                    r->tname, found(&r->ev), ev_offset(r));
            const char *s = (const char *)r->ev.data.scalar.value;
            dt = find_dtype(s, r->ev.data.scalar.length);
            if (!dt)
                return mvit_diag_at(r->d, MVIT_EUNSUPPORTED, r->path, 0, 0,
                                    "tensor '%s': unknown dtype '%s'", r->tname,
                                    show(v, s, r->ev.data.scalar.length));
            snprintf(t->dtype, sizeof t->dtype, "%s", dt->name);
            t->is_float = dt->conv != KEEP_RAW;
        } else if (k == KEY_SHAPE) {
            if ((rc = parse_ints(r, "shape", t->shape, MVIT_MAX_DIMS, &t->ndim)) < 0)
                return rc;
            if (t->ndim > MVIT_MAX_DIMS)
                return mvit_diag_at(r->d, MVIT_EUNSUPPORTED, r->path, 0, 0,
                                    "tensor '%s': shape has more than %d dimensions", r->tname,
                                    MVIT_MAX_DIMS);
        } else {
            int n;
            if ((rc = parse_ints(r, "data_offsets", offs, 2, &n)) < 0)
                return rc;
            if (n != 2)
                return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                                    "tensor '%s': data_offsets must hold exactly 2 integers, "
                                    "found %s",
                                    r->tname,
                                    n > 2    ? "more"
                                    : n == 1 ? "1"
                                             : "0");
        }
    }
    for (int k = 0; k < KEY_COUNT; k++)
        if (!seen[k])
            return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0, "tensor '%s': missing '%s'",
                                r->tname, key_names[k]);

    char shape[MVIT_MAX_DIMS * 22 + 4];
    fmt_shape(shape, sizeof shape, t->shape, t->ndim);
    int64_t numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] != 0 && numel > INT64_MAX / t->shape[i])
            return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                                "tensor '%s': shape %s has too many elements", r->tname, shape);
        numel *= t->shape[i];
    }
    if (numel > INT64_MAX / dt->size)
        return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                            "tensor '%s': shape %s has too many elements", r->tname, shape);
    t->numel = numel;
    if (offs[1] < offs[0])
        return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                            "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] end before "
                            "they begin",
                            r->tname, offs[0], offs[1]);
    if (offs[1] - offs[0] != numel * dt->size)
        return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                            "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] hold %" PRId64
                            " bytes but %s shape %s needs %" PRId64,
                            r->tname, offs[0], offs[1], offs[1] - offs[0], dt->name, shape,
                            numel * dt->size);
    if ((uint64_t)offs[1] > r->data_size)
        return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                            "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] run past the "
                            "end of the %zu-byte data area (truncated file?)",
                            r->tname, offs[0], offs[1], r->data_size);
    range->begin = offs[0];
    range->end = offs[1];
    return 0;
}

/* "__metadata__" is a string-to-string object the format leaves to writers; nothing here needs
 * it, so any well-formed object is skipped. libyaml keeps its own stacks, so deep nesting costs
 * heap, not C stack. */
static int skip_metadata(reader *r)
{
    int rc;
    if ((rc = next(r)) < 0)
        return rc;
    if (r->ev.type != YAML_MAPPING_START_EVENT)
        return mvit_diag_at(r->d, MVIT_EPARSE, r->path, 0, 0,
                            "'" METADATA_KEY "' must be a JSON object, found %s at file "
                            "offset %zu",
                            found(&r->ev), ev_offset(r));
    for (long depth = 1; depth > 0;) {
        if ((rc = next(r)) < 0)
            return rc;
        if (r->ev.type == YAML_MAPPING_START_EVENT || r->ev.type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (r->ev.type == YAML_MAPPING_END_EVENT || r->ev.type == YAML_SEQUENCE_END_EVENT)
            depth--;
    }
    return 0;
}

/* libyaml rejects JSON's UTF-16 surrogate pairs (\ud83d\ude00, which Python's json.dumps writes
 * for any non-BMP character), so each pair is rewritten as YAML's \U0001f600, two bytes shorter.
 * Other escapes are stepped over whole so that \\ud83d stays a backslash plus text. */
static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i];
        int x = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (x < 0)
            return 0;
        v = v << 4 | (unsigned)x;
    }
    *out = v;
    return 1;
}

/* Code point of the surrogate pair escape at in[i] (12 bytes), or 0 when there is none. */
static unsigned long surrogate_pair(const unsigned char *in, size_t n, size_t i)
{
    unsigned hi, lo;
    if (n - i < 12 || in[i] != '\\' || in[i + 1] != 'u' || !hex4(in + i + 2, &hi) || hi < 0xd800 ||
        hi > 0xdbff || in[i + 6] != '\\' || in[i + 7] != 'u' || !hex4(in + i + 8, &lo) ||
        lo < 0xdc00 || lo > 0xdfff)
        return 0;
    return 0x10000ul + ((unsigned long)(hi - 0xd800) << 10) + (lo - 0xdc00);
}

/* Writes at most n bytes to out and returns how many. */
static size_t rewrite_surrogates(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned long cp;
        if (in[i] != '\\' || i + 1 >= n) {
            out[o++] = in[i++];
        } else if ((cp = surrogate_pair(in, n, i)) != 0) {
            out[o++] = '\\';
            out[o++] = 'U';
            for (int k = 28; k >= 0; k -= 4)
                out[o++] = "0123456789abcdef"[cp >> k & 0xf];
            i += 12;
        } else {
            out[o++] = in[i++];
            out[o++] = in[i++];
        }
    }
    return o;
}

/* Maps libyaml's mark (counted in characters of the rewritten header) back to a byte offset in
 * the file, so messages point at the bytes a hex dump shows. */
static size_t file_offset(const reader *r, size_t char_index)
{
    size_t b = 0, c = 0;
    for (; b < r->hlen; b++) {
        if ((r->header[b] & 0xc0) != 0x80 && c++ == char_index)
            break;
    }
    size_t i = 0, o = 0;
    while (i < r->n && o < b) {
        size_t step = r->orig[i] == '\\' && i + 1 < r->n ? 2 : 1;
        if (step == 2 && surrogate_pair(r->orig, r->n, i)) {
            i += 12;
            o += 10;
        } else {
            i += step;
            o += step;
        }
    }
    return 8 + i;
}

static int cmp_name(const void *a, const void *b)
{
    const mvit_tensor *x = *(const mvit_tensor *const *)a, *y = *(const mvit_tensor *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x > y) - (x < y);
}

static int cmp_range(const void *a, const void *b)
{
    const byte_range *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int check_duplicates(reader *r, const mvit_weights *w)
{
    int rc = 0;
    const mvit_tensor **by_name = mvit_xcalloc((size_t)w->count, sizeof *by_name);
    for (int i = 0; i < w->count; i++)
        by_name[i] = &w->tensors[i];
    qsort(by_name, (size_t)w->count, sizeof *by_name, cmp_name);
    for (int i = 1; i < w->count; i++) {
        if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0) {
            char v[SHOW_BUF];
            const char *nm = by_name[i]->name;
            rc = mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0, "duplicate tensor '%s'",
                              show(v, nm, strlen(nm)));
            break;
        }
    }
    free(by_name);
    return rc;
}

/* Sorts ranges by start; a non-empty range starting before the furthest end so far overlaps
 * the range that reached it. Empty ranges hold no bytes and overlap nothing. */
static int check_overlaps(reader *r, const mvit_weights *w, byte_range *ranges)
{
    if (w->count == 0) /* ranges is NULL then, and qsort's argument must not be */
        return 0;
    qsort(ranges, (size_t)w->count, sizeof *ranges, cmp_range);
    const byte_range *far = NULL;
    for (int i = 0; i < w->count; i++) {
        const byte_range *cur = &ranges[i];
        if (cur->begin == cur->end)
            continue;
        if (far && cur->begin < far->end) {
            char a[SHOW_BUF], b[SHOW_BUF];
            const char *na = w->tensors[cur->idx].name, *nb = w->tensors[far->idx].name;
            return mvit_diag_at(r->d, MVIT_EINVAL, r->path, 0, 0,
                                "tensor '%s': data_offsets [%" PRId64 ", %" PRId64 "] overlap "
                                "tensor '%s' at [%" PRId64 ", %" PRId64 "]",
                                show(a, na, strlen(na)), cur->begin, cur->end,
                                show(b, nb, strlen(nb)), far->begin, far->end);
        }
        if (!far || cur->end > far->end)
            far = cur;
    }
    return 0;
}

// ---- entry points

int mvit_weights_parse_safetensors(const char *path, const unsigned char *buf, size_t len,
                                   mvit_weights *w, mvit_diag *d)
{
    int rc = 0, cap = 0, seen_metadata = 0, yp_ready = 0;
    unsigned char *header = NULL;
    byte_range *ranges = NULL;
    reader r;
    memset(&r, 0, sizeof r);
    memset(w, 0, sizeof *w);
    r.path = path ? path : "<memory>";
    r.d = d;
    w->path = mvit_xstrdup(r.path);

    if (len < 8) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                          "file is %zu bytes, too short for the 8-byte header length", len);
        goto fail;
    }
    uint64_t n = rd_u64(buf);
    if (n > HEADER_MAX) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                          "header length %" PRIu64 " exceeds the %u-byte limit", n, HEADER_MAX);
        goto fail;
    }
    if (n > len - 8) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                          "header length %" PRIu64 " runs past the end of the file (%zu bytes "
                          "follow the length field; truncated file?)",
                          n, len - 8);
        goto fail;
    }
    const unsigned char *data = buf + 8 + n;
    r.data_size = len - 8 - (size_t)n;

    header = mvit_xmalloc((size_t)n);
    r.orig = buf + 8;
    r.n = (size_t)n;
    r.header = header;
    r.hlen = rewrite_surrogates(r.orig, r.n, header);
    if (!yaml_parser_initialize(&r.yp)) {
        rc = mvit_diag_at(d, MVIT_ENOMEM, r.path, 0, 0, "out of memory reading header");
        goto fail;
    }
    yp_ready = 1;
    /* JSON is UTF-8; without this libyaml would follow a UTF-16 byte-order mark */
    yaml_parser_set_encoding(&r.yp, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&r.yp, header, r.hlen);

    if ((rc = next(&r)) < 0 || (rc = next(&r)) < 0)
        goto fail;
    if (r.ev.type == YAML_STREAM_END_EVENT) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0, "header is empty");
        goto fail;
    }
    if (r.ev.type != YAML_DOCUMENT_START_EVENT || !r.ev.data.document_start.implicit) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                          "header is not a JSON object, found a YAML document marker");
        goto fail;
    }
    if ((rc = next(&r)) < 0)
        goto fail;
    if (r.ev.type != YAML_MAPPING_START_EVENT ||
        r.ev.data.mapping_start.style != YAML_FLOW_MAPPING_STYLE) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0, "header is not a JSON object, found %s",
                          found(&r.ev));
        goto fail;
    }
    for (;;) {
        if ((rc = next(&r)) < 0)
            goto fail;
        if (r.ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (!is_string(&r.ev)) {
            rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                              "header is not JSON: expected a double-quoted tensor name, found "
                              "%s at file offset %zu",
                              found(&r.ev), ev_offset(&r));
            goto fail;
        }
        const char *name = (const char *)r.ev.data.scalar.value;
        size_t name_len = r.ev.data.scalar.length;
        show(r.tname, name, name_len);
        if (memchr(name, '\0', name_len)) {
            rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                              "tensor '%s': name contains a NUL character (file offset %zu)",
                              r.tname, ev_offset(&r));
            goto fail;
        }
        if (strcmp(name, METADATA_KEY) == 0) {
            if (seen_metadata++) {
                rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                                  "duplicate tensor '" METADATA_KEY "'");
                goto fail;
            }
            if ((rc = skip_metadata(&r)) < 0)
                goto fail;
            r.tname[0] = '\0';
            continue;
        }
        if (w->count == cap) {
            if (cap > INT32_MAX / 2) {
                rc = mvit_diag_at(d, MVIT_EINVAL, r.path, 0, 0, "too many tensors");
                goto fail;
            }
            cap = cap ? cap * 2 : 64;
            w->tensors = mvit_xrealloc(w->tensors, (size_t)cap * sizeof *w->tensors);
            ranges = mvit_xrealloc(ranges, (size_t)cap * sizeof *ranges);
        }
        mvit_tensor *t = &w->tensors[w->count];
        memset(t, 0, sizeof *t);
        t->name = memcpy(mvit_xmalloc(name_len + 1), name, name_len);
        t->name[name_len] = '\0';
        ranges[w->count].idx = w->count;
        w->count++;
        if ((rc = parse_entry(&r, t, &ranges[w->count - 1])) < 0)
            goto fail;
        r.tname[0] = '\0';
    }
    if ((rc = next(&r)) < 0)
        goto fail;
    if (r.ev.type == YAML_DOCUMENT_END_EVENT && (rc = next(&r)) < 0)
        goto fail;
    if (r.ev.type != YAML_STREAM_END_EVENT) {
        rc = mvit_diag_at(d, MVIT_EPARSE, r.path, 0, 0,
                          "header is not JSON: more follows the object at file offset %zu",
                          ev_offset(&r));
        goto fail;
    }
    if ((rc = check_duplicates(&r, w)) < 0 || (rc = check_overlaps(&r, w, ranges)) < 0)
        goto fail;

    /* ranges were sorted by check_overlaps; idx still ties each to its tensor */
    for (int i = 0; i < w->count; i++) {
        mvit_tensor *t = &w->tensors[ranges[i].idx];
        if (!t->is_float)
            continue;
        const dtype_info *dt = find_dtype(t->dtype, strlen(t->dtype));
        t->data = mvit_xmalloc((size_t)t->numel * sizeof *t->data);
        convert(dt, data + ranges[i].begin, t->numel, t->data);
    }
    rc = 0;

fail:
    if (rc < 0)
        mvit_weights_free(w);
    yaml_event_delete(&r.ev);
    if (yp_ready)
        yaml_parser_delete(&r.yp);
    free(header);
    free(ranges);
    return rc;
}

int mvit_weights_load_safetensors(const char *path, mvit_weights *w, mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    memset(w, 0, sizeof *w);
    int rc = mvit_read_file(path, (size_t)1 << 40, &buf, &len, d);
    if (rc < 0)
        return rc;
    rc = mvit_weights_parse_safetensors(path, buf, len, w, d);
    free(buf);
    return rc;
}

int mvit_weights_convert(const char *dtype, const unsigned char *src, int64_t n, float *dst)
{
    const dtype_info *dt = find_dtype(dtype, strlen(dtype));
    if (!dt || dt->conv == KEEP_RAW)
        return -1;
    convert(dt, src, n, dst);
    return 0;
}

const char *mvit_weights_quote(char out[MVIT_QUOTE_BUF], const char *s, size_t len)
{
    return show(out, s, len);
}

mvit_tensor *mvit_weights_find(const mvit_weights *w, const char *name)
{
    if (!w || !name)
        return NULL;
    for (int i = 0; i < w->count; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return &w->tensors[i];
    return NULL;
}

void mvit_weights_free(mvit_weights *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->count && w->tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->tensors);
    free(w->path);
    memset(w, 0, sizeof *w);
}
