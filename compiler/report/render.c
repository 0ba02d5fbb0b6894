/* mvitc report's renderers: one mvit_report (report.h) as Markdown, as JSON, and as a single
 * self-contained HTML page with inline SVG charts (per-layer time, the arena's memory timeline,
 * the builds side by side). Only formatting happens here, and the same report always gives the
 * same bytes. A double that is negative or not finite means "not measured" everywhere: a dash
 * with a note in text, null in JSON, no bar in a chart. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* UTF-8, spelled out so the source stays ASCII */
#define DASH "\xe2\x80\x94"        /* em dash: no value */
#define TIMES "\xc3\x97"           /* multiplication sign */
#define MICRO "\xc2\xb5"           /* micro sign */
#define ELLIPSIS "\xe2\x80\xa6"    /* a label cut short */
#define EN_DASH "\xe2\x80\x93"     /* ranges of layers */
#define REPLACEMENT "\xef\xbf\xbd" /* for bytes that are not UTF-8 */

#define SERIES_MAX (1 + MVIT_REPORT_MAX_CORES) /* measured, then one per core */
#define LAYER_TABLE_ROWS 10

// ---- shared helpers

static int have(double v)
{
    return isfinite(v) && v >= 0;
}

/* Length of a string that fills at most cap bytes: the report's strings are fixed-size fields,
 * and none of them is read past its end even if it lost its terminator. */
static size_t field_len(const char *s, size_t cap)
{
    size_t n = 0;
    while (n < cap && s[n])
        n++;
    return n;
}

/* Length for "%.*s" of a fixed-size field. */
#define FIELD(a) (int)field_len((a), sizeof(a)), (a)

static int report_cores(const mvit_report *r)
{
    if (r->num_cores < 0)
        return 0;
    return r->num_cores > MVIT_REPORT_MAX_CORES ? MVIT_REPORT_MAX_CORES : r->num_cores;
}

static int report_cells(const mvit_report *r)
{
    return r->cells && r->num_cells > 0 ? r->num_cells : 0;
}

static int cell_layers(const mvit_report_cell *c)
{
    return c->layers && c->num_layers > 0 ? c->num_layers : 0;
}

static int cell_blocks(const mvit_report_cell *c)
{
    return c->blocks && c->num_blocks > 0 ? c->num_blocks : 0;
}

static int is_reference(const mvit_report_cell *c)
{
    return !strncmp(c->target, "generic", sizeof c->target) &&
           !strncmp(c->precision, "fp32", sizeof c->precision);
}

/* Bytes in the well-formed UTF-8 sequence at s (n available), 0 if there is none. Fields may
 * have been cut inside a character by snprintf and paths are arbitrary bytes, but JSON and
 * HTML must be valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        lo = s[0] == 0xe0 ? 0xa0 : lo; /* no overlong forms */
        hi = s[0] == 0xed ? 0x9f : hi; /* no surrogates */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        lo = s[0] == 0xf0 ? 0x90 : lo;
        hi = s[0] == 0xf4 ? 0x8f : hi; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

enum text_mode {
    TEXT_PLAIN, /* control characters become spaces */
    TEXT_MD,    /* and Markdown punctuation is backslash-escaped (tables too: "\|") */
    TEXT_HTML,  /* and & < > " ' become references: safe in text and in attributes */
    TEXT_JSON,  /* the inside of a JSON string */
};

/* Writes at most cap bytes of s, escaped for m; invalid UTF-8 becomes U+FFFD. */
static void put_text(FILE *f, const char *s, size_t cap, enum text_mode m)
{
    const unsigned char *p = (const unsigned char *)s;
    const size_t n = field_len(s, cap);
    for (size_t i = 0; i < n;) {
        const unsigned char ch = p[i];
        if (ch >= 0x80) {
            const size_t k = utf8_seq(p + i, n - i);
            if (k)
                fwrite(p + i, 1, k, f);
            else
                fputs(REPLACEMENT, f);
            i += k ? k : 1;
            continue;
        }
        i++;
        if (m == TEXT_JSON) {
            if (ch == '"' || ch == '\\')
                fprintf(f, "\\%c", ch);
            else if (ch == '\n')
                fputs("\\n", f);
            else if (ch == '\t')
                fputs("\\t", f);
            else if (ch < 0x20)
                fprintf(f, "\\u%04x", ch);
            else
                fputc(ch, f);
        } else if (ch < 0x20 || ch == 0x7f) {
            fputc(' ', f);
        } else if (m == TEXT_HTML && strchr("&<>\"'", ch)) {
            fputs(ch == '&'   ? "&amp;"
                  : ch == '<' ? "&lt;"
                  : ch == '>' ? "&gt;"
                  : ch == '"' ? "&quot;"
                              : "&#39;",
                  f);
        } else if (m == TEXT_MD && strchr("\\`*_[]<>|&#!~", ch)) {
            fputc('\\', f);
            fputc(ch, f);
        } else {
            fputc(ch, f);
        }
    }
}

/* A whole string, for text that is not a fixed-size field. */
static void put_str(FILE *f, const char *s, enum text_mode m)
{
    put_text(f, s, SIZE_MAX, m);
}

/* A Markdown code span, fenced by one backtick more than the longest run inside it. */
static void put_md_code(FILE *f, const char *s, size_t cap)
{
    const size_t n = field_len(s, cap);
    size_t run = 0, longest = 0;
    if (n == 0) {
        fputs(DASH " (none)", f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    const int pad = s[0] == '`' || s[n - 1] == '`';
    for (size_t i = 0; i <= longest; i++)
        fputc('`', f);
    fputs(pad ? " " : "", f);
    put_text(f, s, n, TEXT_PLAIN);
    fputs(pad ? " " : "", f);
    for (size_t i = 0; i <= longest; i++)
        fputc('`', f);
}

/* Copies src into dst (n bytes), cut to max_bytes at a character boundary with an ellipsis. */
static void shorten(char *dst, size_t n, const char *src, size_t max_bytes)
{
    size_t len = strlen(src);
    if (len <= max_bytes) {
        snprintf(dst, n, "%s", src);
        return;
    }
    len = max_bytes;
    while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
        len--;
    snprintf(dst, n, "%.*s" ELLIPSIS, (int)len, src);
}

/* A duration with three or four significant digits and no exponent above 0.001. */
static void fmt_time(char *b, size_t n, double v)
{
    if (v >= 100)
        snprintf(b, n, "%.0f", v);
    else if (v >= 10)
        snprintf(b, n, "%.1f", v);
    else if (v >= 1)
        snprintf(b, n, "%.2f", v);
    else if (v >= 0.001 || v == 0)
        snprintf(b, n, "%.3f", v);
    else
        snprintf(b, n, "%.2g", v);
}

static void fmt_kib(char *b, size_t n, int64_t v)
{
    if (v < 0)
        snprintf(b, n, DASH " (unknown)");
    else
        snprintf(b, n, "%.1f KiB", (double)v / 1024);
}

static void fmt_bytes(char *b, size_t n, int64_t v)
{
    if (v >= 1024 * 1024)
        snprintf(b, n, "%.2f MiB", (double)v / (1024 * 1024));
    else
        fmt_kib(b, n, v);
}

static void fmt_macs(char *b, size_t n, int64_t v)
{
    const double m = (double)v / 1e6;
    if (v < 0)
        snprintf(b, n, DASH " (unknown)");
    else
        snprintf(b, n, m >= 10 ? "%.1f M" : "%.3f M", m);
}

/* "generic fp32 256x256", "avx2 fp32 192x256" (height x width) */
static void cell_label(const mvit_report_cell *c, char *b, size_t n)
{
    snprintf(b, n, "%.*s %.*s %d" TIMES "%d", FIELD(c->target), FIELD(c->precision), c->height,
             c->width);
}

/* "cortex-a76 est." with the clock when there is one */
static void core_name(const mvit_report *r, int k, char *b, size_t n)
{
    if (have(r->core_ghz[k]) && r->core_ghz[k] > 0)
        snprintf(b, n, "%.*s est. @%.3g GHz", FIELD(r->cores[k]), r->core_ghz[k]);
    else
        snprintf(b, n, "%.*s est.", FIELD(r->cores[k]));
}

/* A core's peak MAC/cycle for a build's precision; < 0: unknown. */
static double core_peak(const mvit_report *r, int k, const mvit_report_cell *c)
{
    return strcmp(c->precision, "int8") ? r->core_peak_f32[k] : r->core_peak_i8[k];
}

/* Share of core k's peak that macs multiply-accumulates in us microseconds use; < 0: unknown. */
static double peak_share(const mvit_report *r, int k, const mvit_report_cell *c, int64_t macs,
                         double us)
{
    const double peak = core_peak(r, k, c);
    if (!have(us) || us <= 0 || macs <= 0 || !have(peak) || peak <= 0 || !have(r->core_ghz[k]) ||
        r->core_ghz[k] <= 0)
        return -1;
    return (double)macs / (us * 1e3 * r->core_ghz[k] * peak);
}

/* The multiplies a cell's kernels really do (the estimates' basis). */
static int64_t cell_kernel_macs(const mvit_report_cell *c)
{
    int64_t m = 0;
    for (int l = 0; l < c->num_layers && c->layers; l++)
        m += c->layers[l].kernel_macs > 0 ? c->layers[l].kernel_macs : 0;
    return m;
}

/* Appends printf output to b (of capacity n), cutting it short when full. */
static void append(char *b, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *b, size_t n, const char *fmt, ...)
{
    const size_t used = strlen(b);
    if (used + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + used, n - used, fmt, ap);
    va_end(ap);
}

/* "LABEL (triple): compiled with -mcpu=X, timed by llvm-mca's Y model; 2.4 GHz assumed; peak
 * 8 fp32 and 32 int8 MAC/cycle. NOTE" */
static void core_line(const mvit_report *r, int k, char *b, size_t n)
{
    b[0] = 0;
    append(b, n, "%.*s", FIELD(r->cores[k]));
    if (r->core_triples[k][0])
        append(b, n, " (%.*s)", FIELD(r->core_triples[k]));
    if (r->core_cc_cpu[k][0])
        append(b, n, ": compiled with -mcpu=%.*s", FIELD(r->core_cc_cpu[k]));
    else
        append(b, n, ": compiled without -mcpu");
    if (r->core_model[k][0])
        append(b, n, ", timed by llvm-mca's %.*s model", FIELD(r->core_model[k]));
    if (have(r->core_ghz[k]) && r->core_ghz[k] > 0)
        append(b, n, "; %.3g GHz assumed", r->core_ghz[k]);
    else
        append(b, n, "; " DASH " (no clock given)");
    if (r->core_peak_f32[k] > 0 && r->core_peak_i8[k] > 0 && have(r->core_peak_f32[k]) &&
        have(r->core_peak_i8[k]))
        append(b, n, "; peak %.3g fp32 and %.3g int8 MAC/cycle", r->core_peak_f32[k],
               r->core_peak_i8[k]);
    if (r->core_notes[k][0])
        append(b, n, ". %.*s", FIELD(r->core_notes[k]));
}

static int finish(FILE *f)
{
    return ferror(f) ? MVIT_EIO : 0;
}

// ---- the estimator against the host's measurements, shared by Markdown and HTML

#define KIND_MAX 24

/* One op kind of one build: its layers with both a measured time and the host core's
 * estimate. */
typedef struct kind_stat {
    char op[24];
    int n;
    double measured_us, est_us; /* sums */
    double lo, med, hi;         /* est / measured per layer */
} kind_stat;

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_kind(const void *a, const void *b)
{
    const kind_stat *x = a, *y = b;
    if (x->measured_us != y->measured_us)
        return x->measured_us > y->measured_us ? -1 : 1;
    return strcmp(x->op, y->op);
}

/* Whether a cell has what the validation needs: a measured latency and the host core's
 * estimate. */
static int cell_validates(const mvit_report *r, const mvit_report_cell *c)
{
    const int h = r->host_column - 1;
    return h >= 0 && h < report_cores(r) && have(c->latency_ms) && c->latency_ms > 0 &&
           have(c->est_ms[h]);
}

/* The cell's op kinds, slowest (measured) first; returns how many (at most KIND_MAX). */
static int kind_stats(const mvit_report *r, const mvit_report_cell *c, kind_stat *ks)
{
    const int h = r->host_column - 1, nl = cell_layers(c);
    int nk = 0;
    double *ratios = malloc(((size_t)nl + 1) * sizeof *ratios);
    if (!ratios)
        return 0;
    for (int l = 0; l < nl; l++) {
        const mvit_report_layer *y = &c->layers[l];
        if (!have(y->measured_us) || y->measured_us <= 0 || !have(y->est_us[h]))
            continue;
        int k = 0;
        while (k < nk && strncmp(ks[k].op, y->op, sizeof ks[k].op))
            k++;
        if (k == nk) {
            if (nk == KIND_MAX)
                continue;
            memset(&ks[nk], 0, sizeof ks[nk]);
            snprintf(ks[nk].op, sizeof ks[nk].op, "%.*s", FIELD(y->op));
            nk++;
        }
        ks[k].n++;
        ks[k].measured_us += y->measured_us;
        ks[k].est_us += y->est_us[h];
    }
    for (int k = 0; k < nk; k++) {
        int m = 0;
        for (int l = 0; l < nl; l++) {
            const mvit_report_layer *y = &c->layers[l];
            if (have(y->measured_us) && y->measured_us > 0 && have(y->est_us[h]) &&
                !strncmp(ks[k].op, y->op, sizeof ks[k].op))
                ratios[m++] = y->est_us[h] / y->measured_us;
        }
        qsort(ratios, (size_t)m, sizeof *ratios, cmp_double);
        ks[k].lo = ratios[0];
        ks[k].hi = ratios[m - 1];
        ks[k].med = m % 2 ? ratios[m / 2] : (ratios[m / 2 - 1] + ratios[m / 2]) / 2;
    }
    free(ratios);
    qsort(ks, (size_t)nk, sizeof *ks, cmp_kind);
    return nk;
}

/* The error band the report holds the estimator to: kinds off by more are named. */
#define VALIDATION_BAND 0.25

/* "conv2d (-34%), attention (-28%)" for the kinds whose summed estimate is off by more than
 * the band; "" if none. */
static void kinds_off(const kind_stat *ks, int nk, char *b, size_t n)
{
    b[0] = 0;
    for (int k = 0; k < nk; k++) {
        const double err = ks[k].est_us / ks[k].measured_us - 1;
        if (fabs(err) > VALIDATION_BAND)
            append(b, n, "%s%.*s (%+.0f%%)", b[0] ? ", " : "", FIELD(ks[k].op), 100 * err);
    }
}

static const char validation_note[] =
    "The same estimator as the other columns, on this host's own llvm-mca model at its measured "
    "clock, against the measured medians (one thread): error = estimate / measured - 1. Per "
    "layer kind: the kind's summed estimate against its summed measured time, and the spread "
    "of estimate / measured over its layers (median, min" EN_DASH "max). The ARM columns carry "
    "the same method, so this is their error band as far as a host can show it.";

static const char validation_none[] =
    "No build has both a measured time and an estimate on the host's model (--cores host).";

static int any_cell_validates(const mvit_report *r)
{
    for (int i = 0; i < report_cells(r); i++)
        if (cell_validates(r, &r->cells[i]))
            return 1;
    return 0;
}

/* A validated cell's label, measured and estimated times (formatted) and its error. */
static double validation_row(const mvit_report *r, const mvit_report_cell *c, char *label,
                             size_t nl, char *measured, char *estimated, size_t nt)
{
    const double est = c->est_ms[r->host_column - 1];
    cell_label(c, label, nl);
    fmt_time(measured, nt, c->latency_ms);
    fmt_time(estimated, nt, est);
    return est / c->latency_ms - 1;
}

// ---- the main table, shared by Markdown and HTML

#define MAIN_FIXED 11      /* columns other than the per-core estimates */
#define MAIN_COL_CORES 9   /* index of the first per-core column */
#define MAIN_COL_CODE 5    /* "117.2 KiB (x86_64-linux-gnu)" */
#define MAIN_COL_LATENCY 8 /* the median, or why there is none */

typedef struct main_row {
    int n;
    char col[MAIN_FIXED + MVIT_REPORT_MAX_CORES][256]; /* plain text, escaped when written */
} main_row;

static void main_header(const mvit_report *r, main_row *h)
{
    static const char *const head[MAIN_COL_CORES] = {
        "Target",        "Precision", "Resolution (H" TIMES "W)", "MACs",         "Constants",
        "Code (triple)", "Arena",     "Arena / lower bound",      "Host latency",
    };
    h->n = 0;
    for (int i = 0; i < MAIN_COL_CORES; i++)
        snprintf(h->col[h->n++], sizeof h->col[0], "%s", head[i]);
    for (int k = 0; k < report_cores(r); k++) {
        core_name(r, k, h->col[h->n], sizeof h->col[0]);
        h->n++;
    }
    snprintf(h->col[h->n++], sizeof h->col[0], "Output hash");
    snprintf(h->col[h->n++], sizeof h->col[0], "Max diff vs generic fp32");
}

/* Every column says something: a value, an estimate marked "est.", or a dash with why. */
static void main_cells(const mvit_report *r, const mvit_report_cell *c, main_row *w)
{
    const size_t n = sizeof w->col[0];
    char t[64];
    w->n = 0;
    snprintf(w->col[w->n++], n, "%.*s", FIELD(c->target));
    snprintf(w->col[w->n++], n, "%.*s", FIELD(c->precision));
    if (c->height > 0 && c->width > 0)
        snprintf(w->col[w->n++], n, "%d" TIMES "%d", c->height, c->width);
    else
        snprintf(w->col[w->n++], n, DASH " (unknown)");
    for (int i = 0; i < 2; i++)
        if (!w->col[i][0])
            snprintf(w->col[i], n, DASH " (unknown)");
    fmt_macs(w->col[w->n++], n, c->macs);
    fmt_bytes(w->col[w->n++], n, c->constant_bytes);
    if (c->code_bytes < 0)
        snprintf(w->col[w->n++], n, DASH " (not built)");
    else if (c->code_triple[0])
        snprintf(w->col[w->n++], n, "%.1f KiB (%.*s)", (double)c->code_bytes / 1024,
                 FIELD(c->code_triple));
    else
        fmt_kib(w->col[w->n++], n, c->code_bytes);
    fmt_kib(w->col[w->n++], n, c->arena_bytes);
    if (c->arena_lower_bound > 0 && c->arena_bytes >= 0)
        snprintf(w->col[w->n++], n, "%.2f" TIMES, (double)c->arena_bytes / c->arena_lower_bound);
    else
        snprintf(w->col[w->n++], n, DASH " (no lower bound)");
    if (have(c->latency_ms)) {
        fmt_time(t, sizeof t, c->latency_ms);
        if (c->latency_runs > 0)
            snprintf(w->col[w->n++], n, "%s ms (median of %d)", t, c->latency_runs);
        else
            snprintf(w->col[w->n++], n, "%s ms", t);
    } else if (c->latency_note[0]) {
        snprintf(w->col[w->n++], n, DASH " (%.*s)", FIELD(c->latency_note));
    } else {
        snprintf(w->col[w->n++], n, DASH " (not measured)");
    }
    for (int k = 0; k < report_cores(r); k++) {
        if (have(c->est_ms[k])) {
            fmt_time(t, sizeof t, c->est_ms[k]);
            const double p = peak_share(r, k, c, cell_kernel_macs(c), c->est_ms[k] * 1e3);
            if (p >= 0)
                snprintf(w->col[w->n++], n, "est. %s ms (%.0f%% of peak)", t, 100 * p);
            else
                snprintf(w->col[w->n++], n, "est. %s ms", t);
        } else {
            snprintf(w->col[w->n++], n, DASH);
        }
    }
    if (c->output_hash[0] && c->run_note[0])
        snprintf(w->col[w->n++], n, "%.*s (%.*s)", FIELD(c->output_hash), FIELD(c->run_note));
    else if (c->output_hash[0])
        snprintf(w->col[w->n++], n, "%.*s", FIELD(c->output_hash));
    else
        snprintf(w->col[w->n++], n, DASH " (did not run)");
    if (have(c->max_diff))
        snprintf(w->col[w->n++], n, "%.3g%s", c->max_diff, is_reference(c) ? " (reference)" : "");
    else
        snprintf(w->col[w->n++], n, DASH " (%s)",
                 is_reference(c)     ? "reference"
                 : c->output_hash[0] ? "no reference output"
                                     : "did not run");
}

/* Left-aligned columns: names and hashes; numbers go right. */
static int main_col_is_text(const main_row *h, int i)
{
    return i < 2 || i == h->n - 2;
}

static const char main_table_note[] =
    "est. = static estimate for that core at the clock in its heading (see How the estimates are "
    "made), not a measurement. " DASH " in a core's column: no estimate for that core (another "
    "architecture than the build, or the estimate failed).";

// ---- Markdown

static void md_row(FILE *f, const main_row *w)
{
    for (int i = 0; i < w->n; i++) {
        fputs("| ", f);
        put_str(f, w->col[i], TEXT_MD);
        fputc(' ', f);
    }
    fputs("|\n", f);
}

/* What the layer table ranks by: -1 measured host time if any layer has it, else the first core
 * with any layer estimate (k), else -2 (no times: execution order). */
static int rank_basis(const mvit_report *r, const mvit_report_cell *c)
{
    for (int l = 0; l < cell_layers(c); l++)
        if (have(c->layers[l].measured_us))
            return -1;
    for (int k = 0; k < report_cores(r); k++)
        for (int l = 0; l < cell_layers(c); l++)
            if (have(c->layers[l].est_us[k]))
                return k;
    return -2;
}

static double layer_time(const mvit_report_layer *l, int basis)
{
    return basis == -1 ? l->measured_us : basis >= 0 ? l->est_us[basis] : -1;
}

typedef struct ranked {
    double key; /* < 0: no time, ranked last */
    int layer;
} ranked;

/* Slowest first; equal times in execution order, so the order is total and deterministic. */
static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->layer > y->layer) - (x->layer < y->layer);
}

static int core_in_cell(const mvit_report_cell *c, int k)
{
    if (have(c->est_ms[k]))
        return 1;
    for (int l = 0; l < cell_layers(c); l++)
        if (have(c->layers[l].est_us[k]))
            return 1;
    return 0;
}

static void md_layer_table(FILE *f, const mvit_report *r, const mvit_report_cell *c)
{
    const int nl = cell_layers(c), basis = rank_basis(r, c);
    char t[64], name[96];
    if (nl == 0) {
        fputs("No per-layer data.\n\n", f);
        return;
    }
    ranked *order = malloc((size_t)nl * sizeof *order);
    if (!order) {
        fputs("(out of memory: per-layer table left out)\n\n", f);
        return;
    }
    double total = 0;
    for (int l = 0; l < nl; l++) {
        const double v = layer_time(&c->layers[l], basis);
        order[l].key = have(v) ? v : -1;
        order[l].layer = l;
        total += have(v) ? v : 0;
    }
    const int shown = nl < LAYER_TABLE_ROWS ? nl : LAYER_TABLE_ROWS;
    if (basis == -2) {
        fprintf(f,
                "No per-layer times measured or estimated: the first %d of %d layers in "
                "execution order.\n\n",
                shown, nl);
    } else {
        qsort(order, (size_t)nl, sizeof *order, ranked_cmp);
        if (basis == -1)
            snprintf(name, sizeof name, "measured host time");
        else
            snprintf(name, sizeof name, "estimated time on %.*s", FIELD(r->cores[basis]));
        fprintf(f, "Top %d of %d layers by ", shown, nl);
        put_str(f, name, TEXT_MD);
        fputs("; share = of the sum over all layers; (%) = the estimate's share of the core's "
              "peak.\n\n",
              f);
    }
    fputs("| Node | Layer | Op | MACs | Measured " MICRO "s |", f);
    for (int k = 0; k < report_cores(r); k++) {
        if (!core_in_cell(c, k))
            continue;
        fputs(" est. " MICRO "s ", f);
        put_text(f, r->cores[k], sizeof r->cores[k], TEXT_MD);
        fputs(" |", f);
    }
    fputs(" Share |\n|---:|---|---|---:|---:|", f);
    for (int k = 0; k < report_cores(r); k++)
        fputs(core_in_cell(c, k) ? "---:|" : "", f);
    fputs("---:|\n", f);
    for (int i = 0; i < shown; i++) {
        const mvit_report_layer *l = &c->layers[order[i].layer];
        fprintf(f, "| %d | ", l->index);
        if (l->name[0])
            put_text(f, l->name, sizeof l->name, TEXT_MD);
        else
            fputs(DASH " (unnamed)", f);
        fputs(" | ", f);
        if (l->op[0])
            put_text(f, l->op, sizeof l->op, TEXT_MD);
        else
            fputs(DASH, f);
        fmt_macs(t, sizeof t, l->macs);
        fprintf(f, " | %s | ", l->macs > 0 ? t : "0");
        if (have(l->measured_us)) {
            fmt_time(t, sizeof t, l->measured_us);
            fputs(t, f);
        } else {
            fputs(DASH, f);
        }
        for (int k = 0; k < report_cores(r); k++) {
            if (!core_in_cell(c, k))
                continue;
            fmt_time(t, sizeof t, l->est_us[k]);
            const double p = peak_share(r, k, c, l->kernel_macs, l->est_us[k]);
            if (have(l->est_us[k]) && p >= 0)
                fprintf(f, " | %s (%.0f%%)", t, 100 * p);
            else
                fprintf(f, " | %s", have(l->est_us[k]) ? t : DASH);
        }
        if (order[i].key >= 0 && total > 0)
            fprintf(f, " | %.1f%% |\n", 100 * order[i].key / total);
        else
            fputs(" | " DASH " |\n", f);
    }
    fputc('\n', f);
    free(order);
}

static void md_validation(FILE *f, const mvit_report *r)
{
    char label[96], t[64], u[64];
    fputs("\n## Estimate vs measurement on this host\n\n", f);
    if (!any_cell_validates(r)) {
        fprintf(f, "%s\n", validation_none);
        return;
    }
    put_str(f, validation_note, TEXT_MD);
    fputs("\n\n| Build | Measured | Estimated | Error |\n|---|---:|---:|---:|\n", f);
    for (int i = 0; i < report_cells(r); i++) {
        const mvit_report_cell *c = &r->cells[i];
        if (!cell_validates(r, c))
            continue;
        const double err = validation_row(r, c, label, sizeof label, t, u, sizeof t);
        fputs("| ", f);
        put_str(f, label, TEXT_MD);
        fprintf(f, " | %s ms | %s ms | %+.0f%% |\n", t, u, 100 * err);
    }
    kind_stat ks[KIND_MAX];
    for (int i = 0; i < report_cells(r); i++) {
        const mvit_report_cell *c = &r->cells[i];
        if (!cell_validates(r, c))
            continue;
        const int nk = kind_stats(r, c, ks);
        cell_label(c, label, sizeof label);
        fputs("\n", f);
        put_str(f, label, TEXT_MD);
        fputs(", per layer kind:\n\n| Kind | Layers | Measured " MICRO "s | Estimated " MICRO
              "s | Error | est./measured per layer: median (min" EN_DASH "max) |\n"
              "|---|---:|---:|---:|---:|---|\n",
              f);
        for (int k = 0; k < nk; k++) {
            fmt_time(t, sizeof t, ks[k].measured_us);
            fmt_time(u, sizeof u, ks[k].est_us);
            fputs("| ", f);
            put_text(f, ks[k].op, sizeof ks[k].op, TEXT_MD);
            fprintf(f, " | %d | %s | %s | %+.0f%% | %.2f (%.2f" EN_DASH "%.2f) |\n", ks[k].n, t, u,
                    100 * (ks[k].est_us / ks[k].measured_us - 1), ks[k].med, ks[k].lo, ks[k].hi);
        }
        char off[512];
        kinds_off(ks, nk, off, sizeof off);
        fputs("\nOff by more than 25%: ", f);
        put_str(f, off[0] ? off : "none", TEXT_MD);
        fputs(".\n", f);
    }
}

int mvit_report_write_md(const mvit_report *r, FILE *f)
{
    main_row *w = malloc(sizeof *w);
    char label[96], t[64];
    if (!w)
        return MVIT_ENOMEM;
    fputs("# mvitc report: ", f);
    put_text(f, r->model, sizeof r->model, TEXT_MD);
    fputs("\n\n- Description: ", f);
    put_md_code(f, r->desc_path, sizeof r->desc_path);
    fputs("\n- Weights: ", f);
    put_md_code(f, r->weights_path, sizeof r->weights_path);
    fputs("\n- Host CPU: ", f);
    put_text(f, r->host_cpu[0] ? r->host_cpu : "unknown", sizeof r->host_cpu, TEXT_MD);
    fputs("\n- Command: ", f);
    put_md_code(f, r->command, sizeof r->command);
    fputs("\n\n## Builds\n\n", f);

    main_header(r, w);
    md_row(f, w);
    for (int i = 0; i < w->n; i++)
        fputs(main_col_is_text(w, i) ? "|---" : "|---:", f);
    fputs("|\n", f);
    for (int i = 0; i < report_cells(r); i++) {
        main_cells(r, &r->cells[i], w);
        md_row(f, w);
    }
    if (report_cells(r) == 0)
        fputs("\nNo builds in this report.\n", f);
    fputs("\n", f);
    put_str(f, main_table_note, TEXT_MD);
    fputs("\n\n## How the estimates are made\n\n", f);
    if (r->estimate_assumptions[0])
        put_text(f, r->estimate_assumptions, sizeof r->estimate_assumptions, TEXT_MD);
    else
        fputs("No assumptions recorded.", f);
    fputs("\n\n", f);
    for (int k = 0; k < report_cores(r); k++) {
        char line[1024];
        core_line(r, k, line, sizeof line);
        fputs("- ", f);
        put_str(f, line, TEXT_MD);
        fputc('\n', f);
    }
    if (report_cores(r) == 0)
        fputs("- No cores were estimated.\n", f);
    md_validation(f, r);

    fputs("\n## Layers\n\n", f);
    for (int i = 0; i < report_cells(r); i++) {
        const mvit_report_cell *c = &r->cells[i];
        cell_label(c, label, sizeof label);
        fputs("### ", f);
        put_str(f, label, TEXT_MD);
        fputs("\n\n", f);
        fputs("Latency: ", f);
        if (have(c->latency_ms)) {
            fmt_time(t, sizeof t, c->latency_ms);
            fprintf(f, "%s ms", t);
            fputs(c->latency_note[0] ? ", " : "", f);
        }
        put_text(f, c->latency_note[0] || have(c->latency_ms) ? c->latency_note : "not measured",
                 sizeof c->latency_note, TEXT_MD);
        fputs(". Output: ", f);
        put_text(f, c->run_note[0] ? c->run_note : "unknown", sizeof c->run_note, TEXT_MD);
        fmt_kib(t, sizeof t, c->arena_bytes);
        fprintf(f, ". Arena: %s in %d blocks.\n\n", t, cell_blocks(c));
        md_layer_table(f, r, c);
    }
    free(w);
    return finish(f);
}

// ---- JSON

static void json_str(FILE *f, const char *s, size_t cap)
{
    fputc('"', f);
    put_text(f, s, cap, TEXT_JSON);
    fputc('"', f);
}

#define JSON_FIELD(f, a) json_str((f), (a), sizeof(a))

static void json_num(FILE *f, double v)
{
    if (have(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void json_size(FILE *f, int64_t v)
{
    if (v < 0)
        fputs("null", f);
    else
        fprintf(f, "%" PRId64, v);
}

static void json_per_core(FILE *f, const mvit_report *r, const double *v)
{
    fputc('[', f);
    for (int k = 0; k < report_cores(r); k++) {
        fputs(k ? ", " : "", f);
        json_num(f, v[k]);
    }
    fputc(']', f);
}

static void json_cell(FILE *f, const mvit_report *r, const mvit_report_cell *c)
{
    fputs("    {\n      \"target\": ", f);
    JSON_FIELD(f, c->target);
    fputs(",\n      \"precision\": ", f);
    JSON_FIELD(f, c->precision);
    fprintf(f, ",\n      \"height\": %d,\n      \"width\": %d,\n      \"macs\": ", c->height,
            c->width);
    json_size(f, c->macs);
    fputs(",\n      \"constant_bytes\": ", f);
    json_size(f, c->constant_bytes);
    fputs(",\n      \"code_bytes\": ", f);
    json_size(f, c->code_bytes);
    fputs(",\n      \"code_triple\": ", f);
    JSON_FIELD(f, c->code_triple);
    fputs(",\n      \"arena_bytes\": ", f);
    json_size(f, c->arena_bytes);
    fputs(",\n      \"arena_lower_bound\": ", f);
    json_size(f, c->arena_lower_bound);
    fputs(",\n      \"latency_ms\": ", f);
    json_num(f, c->latency_ms);
    fprintf(f, ",\n      \"latency_runs\": %d,\n      \"latency_note\": ", c->latency_runs);
    JSON_FIELD(f, c->latency_note);
    fputs(",\n      \"est_ms\": ", f);
    json_per_core(f, r, c->est_ms);
    fputs(",\n      \"output_hash\": ", f);
    if (c->output_hash[0])
        JSON_FIELD(f, c->output_hash);
    else
        fputs("null", f); /* it did not run */
    fputs(",\n      \"max_diff\": ", f);
    json_num(f, c->max_diff);
    fputs(",\n      \"run_note\": ", f);
    JSON_FIELD(f, c->run_note);
    fputs(",\n      \"layers\": [", f);
    for (int l = 0; l < cell_layers(c); l++) {
        const mvit_report_layer *y = &c->layers[l];
        fprintf(f, "%s\n        {\"index\": %d, \"name\": ", l ? "," : "", y->index);
        JSON_FIELD(f, y->name);
        fputs(", \"op\": ", f);
        JSON_FIELD(f, y->op);
        fputs(", \"macs\": ", f);
        json_size(f, y->macs);
        fputs(", \"kernel_macs\": ", f);
        json_size(f, y->kernel_macs);
        fputs(", \"measured_us\": ", f);
        json_num(f, y->measured_us);
        fputs(", \"est_us\": ", f);
        json_per_core(f, r, y->est_us);
        fputc('}', f);
    }
    fputs(cell_layers(c) ? "\n      ],\n      \"blocks\": [" : "],\n      \"blocks\": [", f);
    for (int b = 0; b < cell_blocks(c); b++) {
        const mvit_report_block *k = &c->blocks[b];
        fprintf(f, "%s\n        {\"name\": ", b ? "," : "");
        JSON_FIELD(f, k->name);
        fprintf(f, ", \"offset\": %" PRId64 ", \"bytes\": %" PRId64, k->offset, k->bytes);
        fprintf(f, ", \"first\": %d, \"last\": %d}", k->first, k->last);
    }
    fputs(cell_blocks(c) ? "\n      ]\n    }" : "]\n    }", f);
}

int mvit_report_write_json(const mvit_report *r, FILE *f)
{
    fputs("{\n  \"model\": ", f);
    JSON_FIELD(f, r->model);
    fputs(",\n  \"desc_path\": ", f);
    JSON_FIELD(f, r->desc_path);
    fputs(",\n  \"weights_path\": ", f);
    JSON_FIELD(f, r->weights_path);
    fputs(",\n  \"host_cpu\": ", f);
    JSON_FIELD(f, r->host_cpu);
    fputs(",\n  \"command\": ", f);
    JSON_FIELD(f, r->command);
    fputs(",\n  \"host_ghz\": ", f);
    json_num(f, r->host_column > 0 ? r->core_ghz[r->host_column - 1] : -1);
    fputs(",\n  \"estimate_assumptions\": ", f);
    JSON_FIELD(f, r->estimate_assumptions);
    fputs(",\n  \"cores\": [", f);
    for (int k = 0; k < report_cores(r); k++) {
        fputs(k ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        JSON_FIELD(f, r->cores[k]);
        fputs(", \"triple\": ", f);
        JSON_FIELD(f, r->core_triples[k]);
        fputs(", \"ghz\": ", f);
        json_num(f, r->core_ghz[k]);
        fputs(", \"cc_cpu\": ", f);
        JSON_FIELD(f, r->core_cc_cpu[k]);
        fputs(", \"mca_model\": ", f);
        JSON_FIELD(f, r->core_model[k]);
        fputs(", \"peak_f32_mac_per_cycle\": ", f);
        json_num(f, r->core_peak_f32[k]);
        fputs(", \"peak_i8_mac_per_cycle\": ", f);
        json_num(f, r->core_peak_i8[k]);
        fputs(", \"note\": ", f);
        JSON_FIELD(f, r->core_notes[k]);
        fprintf(f, ", \"host\": %s}", k == r->host_column - 1 ? "true" : "false");
    }
    fputs(report_cores(r) ? "\n  ],\n  \"cells\": [" : "],\n  \"cells\": [", f);
    for (int i = 0; i < report_cells(r); i++) {
        fputs(i ? ",\n" : "\n", f);
        json_cell(f, r, &r->cells[i]);
    }
    fputs(report_cells(r) ? "\n  ]\n}\n" : "]\n}\n", f);
    return finish(f);
}

// ---- HTML: page, tables and SVG charts

static const char html_css[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:1.5em;max-width:1500px}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1.05em}\n"
    "table{border-collapse:collapse;font-size:13px;margin:.5em 0}\n"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}\n"
    "th{background:#f2f2f2}th.t,td.t{text-align:left}td{white-space:nowrap}\n"
    "td.w{white-space:normal;min-width:9em}.scroll{overflow-x:auto}\n"
    "code{font:12px ui-monospace,monospace;background:#f5f5f5;padding:1px 3px}\n"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dd{margin:0}\n"
    ".note,.sum{color:#444;max-width:75em}\n"
    "svg{display:block;max-width:100%;height:auto;margin:.6em 0}\n"
    "svg text{font:11px sans-serif;fill:#222}\n"
    "svg .ax{font-size:12px}\n"
    ".gr{stroke:#e3e3e3;stroke-width:1}\n"
    ".frame{fill:none;stroke:#999}\n"
    ".lim{stroke:#222;stroke-width:1;stroke-dasharray:5 3}.lb{stroke:#c0392b}\n"
    ".hit{fill:transparent}.hit:hover{fill:rgba(0,0,0,.08)}\n"
    /* measured, then one colour per core (the same core has the same colour in every chart) */
    ".s0{fill:#222}.s1{fill:#e69f00}.s2{fill:#56b4e9}.s3{fill:#009e73}.s4{fill:#d55e00}"
    ".s5{fill:#cc79a7}.s6{fill:#0072b2}\n"
    /* arena blocks: neighbours differ; a thin white edge separates equal colours */
    ".b0{fill:#8dd3c7}.b1{fill:#fdb462}.b2{fill:#bebada}.b3{fill:#fb8072}.b4{fill:#80b1d3}"
    ".b5{fill:#b3de69}.b6{fill:#fccde5}.b7{fill:#d9d9d9}\n"
    ".b0,.b1,.b2,.b3,.b4,.b5,.b6,.b7{stroke:#fff;stroke-width:.5}\n"
    ".b0:hover,.b1:hover,.b2:hover,.b3:hover,.b4:hover,.b5:hover,.b6:hover,.b7:hover"
    "{stroke:#000}\n";

#define SVG_W 960

/* Tick step for an axis from 0 to span: 1, 2 or 5 times a power of ten, about `ticks` steps. */
static double nice_step(double span, int ticks)
{
    const double raw = span / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void svg_open(FILE *f, int w, int h, const char *id, const char *title)
{
    fprintf(f,
            "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
            "aria-labelledby=\"%s\"><title id=\"%s\">",
            w, h, w, h, id, id);
    put_str(f, title, TEXT_HTML);
    fputs("</title>\n", f);
}

/* A horizontal bar chart: one row per item, one bar per series present, a linear x axis. */
typedef struct hbar_chart {
    char id[32];      /* id of the <title>, unique in the page */
    char title[256];  /* the accessible name */
    char axis[160];   /* x axis title, with its unit */
    const char *unit; /* after values in tooltips */
    int label_w;      /* px left of the plot for row labels */
    size_t label_max; /* bytes of a row label shown; the tooltip has all of it */
    int rows, series;
    int color[SERIES_MAX];     /* class sN of each series */
    char name[SERIES_MAX][64]; /* legend */
    char (*label)[128];        /* per row */
    double *v;                 /* rows x series; absent when !have() */
} hbar_chart;

static void svg_hbars(FILE *f, const hbar_chart *ch)
{
    enum { per_line = 4, item_w = 235 };
    const int legend_lines = (ch->series + per_line - 1) / per_line;
    const int bar_h = ch->series <= 2 ? 6 : ch->series <= 4 ? 4 : 3;
    const int row_h = ch->series * bar_h + 4 > 13 ? ch->series * bar_h + 4 : 13;
    const int top = 10 + legend_lines * 16 + 16; /* legend, then the upper tick labels */
    const int plot_x = ch->label_w, plot_w = SVG_W - plot_x - 28;
    const int rows_h = ch->rows > 0 ? ch->rows * row_h : 20;
    const int h = top + rows_h + 40;
    double max = 0;
    char text[160], v[64];
    for (int i = 0; i < ch->rows * ch->series; i++)
        if (have(ch->v[i]) && ch->v[i] > max)
            max = ch->v[i];

    svg_open(f, SVG_W, h, ch->id, ch->title);
    for (int s = 0; s < ch->series; s++) {
        const int x = 10 + (s % per_line) * item_w, y = 8 + (s / per_line) * 16;
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" class=\"s%d\"/>", x, y,
                ch->color[s]);
        fprintf(f, "<text x=\"%d\" y=\"%d\">", x + 14, y + 9);
        put_str(f, ch->name[s], TEXT_HTML);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", plot_x + plot_w / 2,
            h - 8);
    put_str(f, ch->axis, TEXT_HTML);
    fputs("</text>\n", f);
    if (max <= 0 || ch->rows == 0) {
        fprintf(f, "<text x=\"%d\" y=\"%d\">No times measured or estimated.</text>\n</svg>\n",
                plot_x, top + 14);
        return;
    }
    const double step = nice_step(max, 5);
    const int ticks = (int)ceil(max / step - 1e-9);
    const double sx = plot_w / (ticks * step);
    for (int t = 0; t <= ticks; t++) {
        const double x = plot_x + t * step * sx;
        fprintf(f, "<line class=\"gr\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x, top, x,
                top + rows_h);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>", x, top - 4,
                t * step);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x,
                top + rows_h + 13, t * step);
    }
    for (int row = 0; row < ch->rows; row++) {
        shorten(text, sizeof text, ch->label[row], ch->label_max);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", plot_x - 6,
                top + row * row_h + row_h / 2 + 4);
        put_str(f, text, TEXT_HTML);
        fputs("</text>\n", f);
    }
    /* one path per series keeps a 100-layer chart small */
    for (int s = 0; s < ch->series; s++) {
        int open = 0;
        for (int row = 0; row < ch->rows; row++) {
            const double val = ch->v[row * ch->series + s];
            if (!have(val) || val <= 0)
                continue;
            const double w = val * sx > 0.5 ? val * sx : 0.5;
            if (!open)
                fprintf(f, "<path class=\"s%d\" d=\"", ch->color[s]);
            open = 1;
            fprintf(f, "M%d %dh%.1fv%dH%dz", plot_x, top + row * row_h + 2 + s * bar_h, w, bar_h,
                    plot_x);
        }
        if (open)
            fputs("\"/>\n", f);
    }
    /* a row-wide hover target carries the numbers */
    for (int row = 0; row < ch->rows; row++) {
        fprintf(f, "<rect class=\"hit\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"><title>",
                top + row * row_h, SVG_W, row_h);
        put_str(f, ch->label[row], TEXT_HTML);
        for (int s = 0; s < ch->series; s++) {
            const double val = ch->v[row * ch->series + s];
            if (have(val))
                fmt_time(v, sizeof v, val);
            fputs(s ? "; " : ": ", f);
            put_str(f, ch->name[s], TEXT_HTML);
            fprintf(f, " %s%s%s", have(val) ? v : DASH, have(val) ? " " : "",
                    have(val) ? ch->unit : "");
        }
        fputs("</title></rect>\n", f);
    }
    fputs("</svg>\n", f);
}

static hbar_chart *hbar_new(int rows)
{
    hbar_chart *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->rows = rows;
    ch->label = calloc((size_t)(rows > 0 ? rows : 1), sizeof *ch->label);
    ch->v = calloc((size_t)(rows > 0 ? rows : 1) * SERIES_MAX, sizeof *ch->v);
    if (!ch->label || !ch->v) {
        free(ch->label);
        free(ch->v);
        free(ch);
        return NULL;
    }
    return ch;
}

static void hbar_free(hbar_chart *ch)
{
    if (ch) {
        free(ch->label);
        free(ch->v);
        free(ch);
    }
}

static void add_series(const mvit_report *r, hbar_chart *ch, int k)
{
    ch->color[ch->series] = k + 1;
    if (k < 0)
        snprintf(ch->name[ch->series], sizeof ch->name[0], "measured on this host");
    else
        core_name(r, k, ch->name[ch->series], sizeof ch->name[0]);
    ch->series++;
}

/* Per-layer time of one cell, in execution order. */
static int html_layer_chart(FILE *f, const mvit_report *r, const mvit_report_cell *c, int idx)
{
    const int nl = cell_layers(c);
    int src[SERIES_MAX]; /* -1 measured, else the core */
    char label[96];
    hbar_chart *ch = hbar_new(nl);
    if (!ch)
        return MVIT_ENOMEM;
    for (int l = 0; l < nl; l++)
        if (have(c->layers[l].measured_us)) {
            src[ch->series] = -1;
            add_series(r, ch, -1);
            break;
        }
    for (int k = 0; k < report_cores(r); k++)
        for (int l = 0; l < nl; l++)
            if (have(c->layers[l].est_us[k])) {
                src[ch->series] = k;
                add_series(r, ch, k);
                break;
            }
    for (int l = 0; l < nl; l++) {
        const mvit_report_layer *y = &c->layers[l];
        snprintf(ch->label[l], sizeof ch->label[0], "%03d %.*s %.*s", y->index, FIELD(y->op),
                 FIELD(y->name));
        for (int s = 0; s < ch->series; s++)
            ch->v[l * ch->series + s] = src[s] < 0 ? y->measured_us : y->est_us[src[s]];
    }
    cell_label(c, label, sizeof label);
    snprintf(ch->id, sizeof ch->id, "layers-%d", idx);
    snprintf(ch->title, sizeof ch->title,
             "Time per layer of %s, in execution order: measured and estimated, microseconds",
             label);
    snprintf(ch->axis, sizeof ch->axis, "time per layer, " MICRO "s (node, op, name on the left)");
    ch->unit = MICRO "s";
    ch->label_w = 300;
    ch->label_max = 46;
    svg_hbars(f, ch);
    hbar_free(ch);
    return 0;
}

/* Total latency and the estimates of every cell. */
static int html_compare_chart(FILE *f, const mvit_report *r)
{
    const int nc = report_cells(r);
    int src[SERIES_MAX];
    hbar_chart *ch = hbar_new(nc);
    if (!ch)
        return MVIT_ENOMEM;
    for (int i = 0; i < nc; i++)
        if (have(r->cells[i].latency_ms)) {
            src[ch->series] = -1;
            add_series(r, ch, -1);
            break;
        }
    for (int k = 0; k < report_cores(r); k++)
        for (int i = 0; i < nc; i++)
            if (have(r->cells[i].est_ms[k])) {
                src[ch->series] = k;
                add_series(r, ch, k);
                break;
            }
    for (int i = 0; i < nc; i++) {
        const mvit_report_cell *c = &r->cells[i];
        cell_label(c, ch->label[i], sizeof ch->label[0]);
        for (int s = 0; s < ch->series; s++)
            ch->v[i * ch->series + s] = src[s] < 0 ? c->latency_ms : c->est_ms[src[s]];
    }
    snprintf(ch->id, sizeof ch->id, "compare");
    snprintf(ch->title, sizeof ch->title,
             "Total latency of every build: median measured on this host and static estimates "
             "per core, milliseconds");
    snprintf(ch->axis, sizeof ch->axis, "total latency, ms");
    ch->unit = "ms";
    ch->label_w = 200;
    ch->label_max = 30;
    svg_hbars(f, ch);
    hbar_free(ch);
    return 0;
}

/* Bytes in the unit the memory axis uses: B, KiB or MiB, whichever keeps labels short. */
static void axis_bytes_unit(double max, double *unit, const char **name)
{
    *unit = max >= 4.0 * 1024 * 1024 ? 1024.0 * 1024 : max >= 4.0 * 1024 ? 1024.0 : 1.0;
    *name = *unit > 1024 ? "MiB" : *unit > 1 ? "KiB" : "bytes";
}

static void mem_limit(FILE *f, int x0, int x1, double y, const char *cls, const char *what,
                      int64_t bytes)
{
    char t[64];
    fmt_bytes(t, sizeof t, bytes);
    fprintf(f, "<line class=\"%s\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", cls, x0, y, x1,
            y);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s %s</text>\n", x1, y - 3, what, t);
}

/* The arena over time: a block is a rect from layer first to last + 1, at its offset. */
static void html_memory_chart(FILE *f, const mvit_report_cell *c, int idx)
{
    enum { ml = 70, mr = 24, top = 26, plot_h = 260 };
    const int plot_w = SVG_W - ml - mr, h = top + plot_h + 46;
    const int nl = cell_layers(c), nb = cell_blocks(c);
    char label[96], title[256], id[32], t[64];
    int64_t ymax = c->arena_bytes > c->arena_lower_bound ? c->arena_bytes : c->arena_lower_bound;
    int xmax = nl;
    for (int b = 0; b < nb; b++) {
        const mvit_report_block *k = &c->blocks[b];
        const int64_t end = (k->offset > 0 ? k->offset : 0) + (k->bytes > 0 ? k->bytes : 0);
        const int last = k->last > k->first ? k->last : k->first;
        ymax = end > ymax ? end : ymax; /* a block past the arena is shown, not clipped */
        xmax = last + 1 > xmax ? last + 1 : xmax;
    }
    ymax = ymax > 0 ? ymax : 1;
    xmax = xmax > 0 ? xmax : 1;
    const double sx = (double)plot_w / xmax, sy = (double)plot_h / (double)ymax;

    cell_label(c, label, sizeof label);
    fmt_kib(t, sizeof t, c->arena_bytes);
    snprintf(title, sizeof title,
             "Arena memory timeline of %s: %d blocks over %d layers in a %s arena", label, nb, nl,
             t);
    snprintf(id, sizeof id, "memory-%d", idx);
    svg_open(f, SVG_W, h, id, title);

    double unit;
    const char *unit_name;
    axis_bytes_unit((double)ymax, &unit, &unit_name);
    fprintf(f,
            "<text class=\"ax\" x=\"%d\" y=\"14\">arena offset, %s (each block: live from "
            "the layer that writes it to the last that reads it; hover for its name)</text>\n",
            ml, unit_name);
    const double ystep = nice_step((double)ymax / unit, 5);
    for (int i = 0; i * ystep * unit <= (double)ymax * (1 + 1e-9); i++) {
        const double y = top + plot_h - i * ystep * unit * sy;
        fprintf(f, "<line class=\"gr\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", ml, y,
                ml + plot_w, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ml - 5, y + 4,
                i * ystep);
    }
    const double xstep_raw = nice_step(xmax, 10);
    const int xstep = xstep_raw < 1 ? 1 : (int)xstep_raw;
    for (int i = 0; i <= xmax; i += xstep) {
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>", ml + i * sx,
                top + plot_h + 14, i);
    }
    fprintf(f,
            "\n<text class=\"ax\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">layer, in execution "
            "order (0..%d)</text>\n",
            ml + plot_w / 2, h - 8, nl);
    fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", ml, top,
            plot_w, plot_h);
    for (int b = 0; b < nb; b++) {
        const mvit_report_block *k = &c->blocks[b];
        const int first = k->first < 0 ? 0 : k->first;
        const int last = k->last < first ? first : k->last;
        const int64_t off = k->offset > 0 ? k->offset : 0, bytes = k->bytes > 0 ? k->bytes : 0;
        const double bh = bytes * sy > 0.5 ? bytes * sy : 0.5;
        fprintf(f,
                "<rect class=\"b%d\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
                "<title>",
                b % 8, ml + first * sx, top + plot_h - (double)(off + bytes) * sy,
                (last + 1 - first) * sx, bh);
        put_text(f, k->name[0] ? k->name : "(unnamed)", sizeof k->name, TEXT_HTML);
        fmt_bytes(t, sizeof t, k->bytes);
        fprintf(f,
                ": %s (%" PRId64 " bytes) at offset %" PRId64 ", layers %d" EN_DASH "%d"
                "</title></rect>\n",
                t, k->bytes, k->offset, k->first, k->last);
    }
    if (nb == 0)
        fprintf(f, "<text x=\"%d\" y=\"%d\">No arena blocks recorded.</text>\n", ml + 8, top + 20);
    if (c->arena_bytes > 0)
        mem_limit(f, ml, ml + plot_w, top + plot_h - (double)c->arena_bytes * sy, "lim", "arena",
                  c->arena_bytes);
    if (c->arena_lower_bound > 0)
        mem_limit(f, ml, ml + plot_w, top + plot_h - (double)c->arena_lower_bound * sy, "lim lb",
                  "lower bound", c->arena_lower_bound);
    fputs("</svg>\n", f);
}

static void html_summary(FILE *f, const mvit_report *r, const mvit_report_cell *c)
{
    char t[64], u[64];
    fmt_macs(t, sizeof t, c->macs);
    fprintf(f, "<p class=\"sum\">%d layers, %s MACs. Host latency: ", cell_layers(c), t);
    if (have(c->latency_ms)) {
        fmt_time(t, sizeof t, c->latency_ms);
        fprintf(f, "%s ms (", t);
        put_text(f, c->latency_note[0] ? c->latency_note : "median", sizeof c->latency_note,
                 TEXT_HTML);
        fputs(")", f);
    } else {
        fputs(DASH " (", f);
        put_text(f, c->latency_note[0] ? c->latency_note : "not measured", sizeof c->latency_note,
                 TEXT_HTML);
        fputs(")", f);
    }
    int any = 0;
    for (int k = 0; k < report_cores(r); k++) {
        if (!have(c->est_ms[k]))
            continue;
        fmt_time(t, sizeof t, c->est_ms[k]);
        fputs(any ? ", " : ". Estimates: ", f);
        put_text(f, r->cores[k], sizeof r->cores[k], TEXT_HTML);
        fprintf(f, " %s ms", t);
        const double p = peak_share(r, k, c, cell_kernel_macs(c), c->est_ms[k] * 1e3);
        if (p >= 0)
            fprintf(f, " (%.0f%% of peak)", 100 * p);
        any = 1;
    }
    fmt_kib(t, sizeof t, c->arena_bytes);
    fmt_kib(u, sizeof u, c->arena_lower_bound);
    fprintf(f, ". Arena %s in %d blocks (lower bound %s). Output: ", t, cell_blocks(c), u);
    if (c->output_hash[0]) {
        fputs("<code>", f);
        put_text(f, c->output_hash, sizeof c->output_hash, TEXT_HTML);
        fputs("</code> (", f);
        put_text(f, c->run_note[0] ? c->run_note : "ran", sizeof c->run_note, TEXT_HTML);
        fputs(")", f);
        if (have(c->max_diff))
            fprintf(f, ", max diff vs generic fp32 %.3g", c->max_diff);
    } else {
        fputs("did not run", f);
    }
    fputs(".</p>\n", f);
}

static void html_main_table(FILE *f, const mvit_report *r, main_row *w)
{
    main_header(r, w);
    fputs("<div class=\"scroll\"><table>\n<thead><tr>", f);
    for (int i = 0; i < w->n; i++) {
        fputs(main_col_is_text(w, i) ? "<th class=\"t\">" : "<th>", f);
        put_str(f, w->col[i], TEXT_HTML);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int c = 0; c < report_cells(r); c++) {
        main_cells(r, &r->cells[c], w);
        fputs("<tr>", f);
        for (int i = 0; i < w->n; i++) {
            /* only the code triple and the latency note may be long enough to wrap */
            fputs(main_col_is_text(w, i)                        ? "<td class=\"t\">"
                  : i == MAIN_COL_CODE || i == MAIN_COL_LATENCY ? "<td class=\"w\">"
                                                                : "<td>",
                  f);
            if (i == 0)
                fprintf(f, "<a href=\"#cell-%d\">", c);
            put_str(f, w->col[i], TEXT_HTML);
            fputs(i == 0 ? "</a></td>" : "</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n", f);
}

static void html_meta(FILE *f, const char *term, const char *s, size_t cap, int code)
{
    fprintf(f, "<dt>%s</dt><dd>%s", term, code ? "<code>" : "");
    put_text(f, s[0] ? s : DASH, cap, TEXT_HTML);
    fprintf(f, "%s</dd>\n", code ? "</code>" : "");
}

static void html_validation(FILE *f, const mvit_report *r)
{
    char label[96], t[64], u[64];
    fputs("<h2>Estimate vs measurement on this host</h2>\n", f);
    if (!any_cell_validates(r)) {
        fprintf(f, "<p>%s</p>\n", validation_none);
        return;
    }
    fputs("<p class=\"note\">", f);
    put_str(f, validation_note, TEXT_HTML);
    fputs("</p>\n<table>\n<tr><th class=\"t\">Build</th><th>Measured</th><th>Estimated</th>"
          "<th>Error</th><th class=\"t\">Per layer kind: error; est./measured per layer, "
          "median (min" EN_DASH "max)</th></tr>\n",
          f);
    kind_stat ks[KIND_MAX];
    for (int i = 0; i < report_cells(r); i++) {
        const mvit_report_cell *c = &r->cells[i];
        if (!cell_validates(r, c))
            continue;
        const double err = validation_row(r, c, label, sizeof label, t, u, sizeof t);
        fputs("<tr><td class=\"t\">", f);
        put_str(f, label, TEXT_HTML);
        fprintf(f, "</td><td>%s ms</td><td>%s ms</td><td>%+.0f%%</td><td class=\"t w\">", t, u,
                100 * err);
        const int nk = kind_stats(r, c, ks);
        for (int k = 0; k < nk; k++) {
            fputs(k ? "; " : "", f);
            put_text(f, ks[k].op, sizeof ks[k].op, TEXT_HTML);
            fprintf(f, " (%d) %+.0f%%, %.2f (%.2f" EN_DASH "%.2f)", ks[k].n,
                    100 * (ks[k].est_us / ks[k].measured_us - 1), ks[k].med, ks[k].lo, ks[k].hi);
        }
        char off[512];
        kinds_off(ks, nk, off, sizeof off);
        fputs(". Off by more than 25%: ", f);
        put_str(f, off[0] ? off : "none", TEXT_HTML);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

int mvit_report_write_html(const mvit_report *r, FILE *f)
{
    main_row *w = malloc(sizeof *w);
    char label[96];
    int rc = 0;
    if (!w)
        return MVIT_ENOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>mvitc report: ",
          f);
    put_text(f, r->model, sizeof r->model, TEXT_HTML);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>mvitc report: ", html_css);
    put_text(f, r->model, sizeof r->model, TEXT_HTML);
    fputs("</h1>\n<dl>\n", f);
    html_meta(f, "Description", r->desc_path, sizeof r->desc_path, 1);
    html_meta(f, "Weights", r->weights_path, sizeof r->weights_path, 1);
    html_meta(f, "Host CPU", r->host_cpu, sizeof r->host_cpu, 0);
    html_meta(f, "Command", r->command, sizeof r->command, 1);
    fputs("</dl>\n<h2>Builds</h2>\n", f);
    html_main_table(f, r, w);
    if (report_cells(r) == 0)
        fputs("<p>No builds in this report.</p>\n", f);
    fputs("<p class=\"note\">", f);
    put_str(f, main_table_note, TEXT_HTML);
    fputs("</p>\n<h2>How the estimates are made</h2>\n<p class=\"note\">", f);
    put_text(f, r->estimate_assumptions[0] ? r->estimate_assumptions : "No assumptions recorded.",
             sizeof r->estimate_assumptions, TEXT_HTML);
    fputs("</p>\n<ul>\n", f);
    for (int k = 0; k < report_cores(r); k++) {
        char line[1024];
        core_line(r, k, line, sizeof line);
        fputs("<li>", f);
        put_str(f, line, TEXT_HTML);
        fputs("</li>\n", f);
    }
    if (report_cores(r) == 0)
        fputs("<li>No cores were estimated.</li>\n", f);
    fputs("</ul>\n", f);
    html_validation(f, r);

    for (int i = 0; i < report_cells(r) && rc == 0; i++) {
        const mvit_report_cell *c = &r->cells[i];
        cell_label(c, label, sizeof label);
        fprintf(f, "<section id=\"cell-%d\">\n<h2>", i);
        put_str(f, label, TEXT_HTML);
        fputs("</h2>\n", f);
        html_summary(f, r, c);
        rc = html_layer_chart(f, r, c, i);
        html_memory_chart(f, c, i);
        fputs("</section>\n", f);
    }
    if (rc == 0) {
        fputs("<h2>All builds</h2>\n", f);
        rc = html_compare_chart(f, r);
    }
    fputs("</body>\n</html>\n", f);
    free(w);
    return rc < 0 ? rc : finish(f);
}

// ---- ownership

void mvit_report_free(mvit_report *r)
{
    if (!r)
        return;
    for (int i = 0; r->cells && i < r->num_cells; i++) {
        free(r->cells[i].layers);
        free(r->cells[i].blocks);
    }
    free(r->cells);
    memset(r, 0, sizeof *r);
}
