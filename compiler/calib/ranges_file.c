/* The ranges file (ranges_file.h). One line per fact, a value per line, numbers printed with
 * 17 significant digits so that a range read back is the same double: a build from the file
 * is byte-identical to one that calibrates in the same process. */
#include "calib/ranges_file.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RANGES_MAGIC "mvitc-ranges"
#define RANGES_VERSION 1
#define MAX_LINE 512
#define MAX_TOKENS 6
#define MAX_FILE_BYTES ((size_t)64 << 20)

/* A value's name as one token: anything that would split the line becomes '?'. */
static void name_token(const mvit_value *v, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *s = v->name; *s && n + 1 < cap; s++)
        out[n++] = (*s <= ' ' || *s == 0x7f) ? '?' : *s;
    if (n == 0)
        out[n++] = '-';
    out[n] = 0;
}

static void write_comment(FILE *f, const char *text)
{
    fputs("# made by: ", f);
    for (const char *s = text; *s; s++)
        fputc((unsigned char)*s < ' ' ? '?' : *s, f);
    fputc('\n', f);
}

static void write_text(FILE *f, const mvit_graph *g, const mvit_qrange *ranges,
                       const mvit_ranges_meta *meta)
{
    const mvit_value *in = &g->values[g->input];
    fputs("# mvitc calibration ranges: the int8 range of every tensor of one model, read by\n"
          "# `mvitc compile --precision int8 --ranges FILE` (docs/int8.md)\n",
          f);
    if (meta->command_line)
        write_comment(f, meta->command_line);
    fprintf(f, "%s %d\n", RANGES_MAGIC, RANGES_VERSION);
    fprintf(f, "model %016" PRIx64 "\n", meta->model_hash);
    fprintf(f, "input %dx%dx%d\n", in->dims[0], in->dims[1], in->dims[2]);
    fprintf(f, "method %s\n", mvit_calib_method_name(meta->method));
    fprintf(f, "images %ld\n", meta->images);
    fprintf(f, "values %d\n", g->num_values);
    fputs("# value name HxWxC lo hi\n", f);
    for (int v = 0; v < g->num_values; v++) {
        const mvit_value *x = &g->values[v];
        char name[sizeof x->name + 1];
        name_token(x, name, sizeof name);
        fprintf(f, "%d %s %dx%dx%d %.17g %.17g\n", v, name, x->dims[0], x->dims[1], x->dims[2],
                ranges[v].lo, ranges[v].hi);
    }
}

int mvit_ranges_write(const char *path, const mvit_graph *g, const mvit_qrange *ranges,
                      const mvit_ranges_meta *meta, mvit_diag *d)
{
    size_t len = strlen(path) + 32;
    char *tmp = mvit_xmalloc(len);
    snprintf(tmp, len, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int rc = mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
        free(tmp);
        return rc;
    }
    write_text(f, g, ranges, meta);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    int rc = 0;
    if (bad || rename(tmp, path) != 0) {
        rc = mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------- */

typedef struct reader {
    const char *path;
    const unsigned char *buf;
    size_t len, pos;
    int line;
    char text[MAX_LINE];
    char *tok[MAX_TOKENS];
    int num_tok;
    mvit_diag *d;
} reader;

static int fail(reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int fail(reader *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mvit_diag_at(r->d, MVIT_EPARSE, r->path, r->line, 0, "%s", msg);
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Splits r->text at blanks into r->tok; too many tokens is an error. */
static int split(reader *r)
{
    r->num_tok = 0;
    for (char *s = r->text; *s;) {
        while (is_blank(*s))
            *s++ = 0;
        if (!*s)
            break;
        if (r->num_tok == MAX_TOKENS)
            return fail(r, "too many fields");
        r->tok[r->num_tok++] = s;
        while (*s && !is_blank(*s))
            s++;
    }
    return 0;
}

/* The next line that is neither blank nor a comment, split into tokens: 1; 0 at the end of
 * the file; < 0 on an error (a line too long or holding a NUL byte). */
static int next_line(reader *r)
{
    while (r->pos < r->len) {
        const unsigned char *s = r->buf + r->pos;
        const unsigned char *nl = memchr(s, '\n', r->len - r->pos);
        size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
        r->pos += n + (nl != NULL);
        r->line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n >= MAX_LINE)
            return fail(r, "line longer than %d characters", MAX_LINE - 1);
        if (memchr(s, 0, n))
            return fail(r, "NUL byte in the line");
        memcpy(r->text, s, n);
        r->text[n] = 0;
        const char *first = r->text + strspn(r->text, " \t");
        if (*first == '#')
            continue;
        int rc = split(r);
        if (rc < 0)
            return rc;
        if (r->num_tok > 0)
            return 1;
    }
    r->line++;
    return 0;
}

/* The next line must be "KEY VALUE": *value points at VALUE. */
static int expect_key(reader *r, const char *key, const char **value)
{
    int rc = next_line(r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, "the file ends before its '%s' line", key);
    if (strcmp(r->tok[0], key) || r->num_tok != 2)
        return fail(r, "expected '%s VALUE', found '%s'%s", key, r->tok[0],
                    r->num_tok == 2 ? "" : " with another number of fields");
    *value = r->tok[1];
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* "HxWxC", each in 0..2^30. */
static int parse_shape(const char *s, int32_t dims[3])
{
    for (int i = 0; i < 3; i++) {
        const char *end = i < 2 ? strchr(s, 'x') : s + strlen(s);
        char part[16];
        long v;
        if (!end || end == s || (size_t)(end - s) >= sizeof part)
            return -1;
        memcpy(part, s, (size_t)(end - s));
        part[end - s] = 0;
        if (parse_long(part, 0, 1L << 30, &v) < 0)
            return -1;
        dims[i] = (int32_t)v;
        s = end + (i < 2);
    }
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* The header, through "values N"; checks it against g and model_hash. */
static int read_header(reader *r, const mvit_graph *g, uint64_t model_hash,
                       mvit_ranges_meta *meta)
{
    const char *v;
    long n;
    int rc = expect_key(r, RANGES_MAGIC, &v);
    if (rc < 0)
        return rc;
    if (parse_long(v, 0, 1000, &n) < 0 || n != RANGES_VERSION)
        return fail(r, "format version '%s', this mvitc reads version %d", v, RANGES_VERSION);
    if ((rc = expect_key(r, "model", &v)) < 0)
        return rc;
    char *end;
    errno = 0;
    meta->model_hash = strtoull(v, &end, 16);
    if (end == v || *end || errno || strlen(v) != 16)
        return fail(r, "model hash '%s' is not 16 hex digits", v);
    if (meta->model_hash != model_hash)
        return fail(r, "calibrated for another description or weights (hash %s, these files "
                       "hash to %016" PRIx64 "): run mvitc calibrate on them",
                    v, model_hash);
    int32_t in[3];
    if ((rc = expect_key(r, "input", &v)) < 0)
        return rc;
    if (parse_shape(v, in) < 0)
        return fail(r, "input size '%s' is not HxWxC", v);
    const mvit_value *x = &g->values[g->input];
    if (memcmp(in, x->dims, sizeof in))
        return fail(r, "calibrated at %dx%d, this build is %dx%d: calibrate at that size "
                       "(mvitc calibrate --resolution)",
                    in[0], in[1], x->dims[0], x->dims[1]);
    if ((rc = expect_key(r, "method", &v)) < 0)
        return rc;
    if (mvit_calib_method_parse(v, &meta->method) < 0)
        return fail(r, "unknown calibration method '%s'", v);
    if ((rc = expect_key(r, "images", &v)) < 0)
        return rc;
    if (parse_long(v, 0, 1000000000L, &meta->images) < 0)
        return fail(r, "image count '%s' is not an integer in 0..10^9", v);
    if ((rc = expect_key(r, "values", &v)) < 0)
        return rc;
    if (parse_long(v, 0, 1L << 24, &n) < 0)
        return fail(r, "value count '%s' is not an integer", v);
    if (n != g->num_values)
        return fail(r, "%ld values, this model's graph has %d: the ranges are for another "
                       "model or another mvitc version",
                    n, g->num_values);
    return 0;
}

/* One "ID NAME HxWxC LO HI" line, for value id. */
static int read_value(reader *r, const mvit_graph *g, int id, mvit_qrange *out)
{
    int rc = next_line(r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, "the file ends before value %d of %d", id, g->num_values);
    if (r->num_tok != 5)
        return fail(r, "expected 'ID NAME HxWxC LO HI' for value %d", id);
    const mvit_value *x = &g->values[id];
    char name[sizeof x->name + 1];
    name_token(x, name, sizeof name);
    long got;
    int32_t dims[3];
    if (parse_long(r->tok[0], 0, 1L << 24, &got) < 0 || got != id)
        return fail(r, "expected value %d, found '%s'", id, r->tok[0]);
    if (parse_shape(r->tok[2], dims) < 0)
        return fail(r, "value %d: shape '%s' is not HxWxC", id, r->tok[2]);
    if (strcmp(r->tok[1], name) || memcmp(dims, x->dims, sizeof dims))
        return fail(r, "value %d is '%s' %s here but '%s' %dx%dx%d in this model's graph: the "
                       "ranges are for another model or another mvitc version",
                    id, r->tok[1], r->tok[2], name, x->dims[0], x->dims[1], x->dims[2]);
    mvit_qrange q;
    if (parse_double(r->tok[3], &q.lo) < 0 || parse_double(r->tok[4], &q.hi) < 0)
        return fail(r, "value %d (%s): range '%s %s' is not two finite numbers", id, name,
                    r->tok[3], r->tok[4]);
    /* what calibration produces: zero inside, at least 1e-6 wide, within float's range */
    if (!(q.lo <= 0 && q.hi >= 0 && q.hi - q.lo >= 9.99e-7 && q.lo >= -FLT_MAX &&
          q.hi <= FLT_MAX))
        return fail(r, "value %d (%s): range [%s, %s] must hold 0, be at least 1e-6 wide and "
                       "within float's range",
                    id, name, r->tok[3], r->tok[4]);
    *out = q;
    return 0;
}

int mvit_ranges_parse(const char *path, const unsigned char *buf, size_t len,
                      const mvit_graph *g, uint64_t model_hash, mvit_qrange *ranges,
                      mvit_ranges_meta *meta, mvit_diag *d)
{
    reader r = {.path = path, .buf = buf, .len = len, .d = d};
    memset(meta, 0, sizeof *meta);
    int rc = read_header(&r, g, model_hash, meta);
    for (int v = 0; v < g->num_values && rc == 0; v++)
        rc = read_value(&r, g, v, &ranges[v]);
    if (rc == 0 && (rc = next_line(&r)) > 0)
        rc = fail(&r, "unexpected line after the last value");
    return rc < 0 ? rc : 0;
}

int mvit_ranges_read(const char *path, const mvit_graph *g, uint64_t model_hash,
                     mvit_qrange *ranges, mvit_ranges_meta *meta, mvit_diag *d)
{
    unsigned char *buf;
    size_t len;
    int rc = mvit_read_file(path, MAX_FILE_BYTES, &buf, &len, d);
    if (rc < 0)
        return rc;
    rc = mvit_ranges_parse(path, buf, len, g, model_hash, ranges, meta, d);
    free(buf);
    return rc;
}
