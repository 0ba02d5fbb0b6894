/* Runs the stages in order (parse -> IR -> passes -> plan -> emit) and writes the two output
 * files atomically: each goes to a temporary name in the output directory and is renamed
 * only when both are complete, so a failure never leaves a half-written DIR/NAME.c. */
#include "codegen/compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calib/observe.h"
#include "calib/ranges_file.h"
#include "codegen/codegen.h"
#include "desc/desc.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "weights/weights.h"

static int is_identifier(const char *s)
{
    if (!*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int hash_file(const char *path, uint64_t *h, mvit_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++)
            *h = (*h ^ buf[i]) * 0x100000001b3ull;
    int err = ferror(f);
    fclose(f);
    return err ? mvit_diag_at(d, MVIT_EIO, path, 0, 0, "read error") : 0;
}

static int write_all(const char *path, const mvit_emitter *e, mvit_diag *d)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
    size_t n = e->len ? fwrite(e->buf, 1, e->len, f) : 0;
    int bad = n != e->len;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(path);
        return mvit_diag_at(d, MVIT_EIO, path, 0, 0, "write failed: %s", strerror(errno));
    }
    return 0;
}

static int write_outputs(const char *dir, const char *name, const mvit_emitter *c,
                         const mvit_emitter *h, mvit_diag *d)
{
    if (mvit_make_dirs(dir) != 0)
        return mvit_diag_at(d, MVIT_EIO, dir, 0, 0, "cannot create output directory: %s",
                            strerror(errno));
    size_t len = strlen(dir) + strlen(name) + 64;
    char *c_path = mvit_xmalloc(len), *h_path = mvit_xmalloc(len);
    char *c_tmp = mvit_xmalloc(len), *h_tmp = mvit_xmalloc(len);
    snprintf(c_path, len, "%s/%s.c", dir, name);
    snprintf(h_path, len, "%s/%s.h", dir, name);
    snprintf(c_tmp, len, "%s/.%s.c.%ld.tmp", dir, name, (long)getpid());
    snprintf(h_tmp, len, "%s/.%s.h.%ld.tmp", dir, name, (long)getpid());
    int rc = write_all(c_tmp, c, d);
    if (rc == 0 && (rc = write_all(h_tmp, h, d)) < 0)
        remove(c_tmp);
    if (rc == 0) {
        if (rename(h_tmp, h_path) != 0) {
            rc = mvit_diag_at(d, MVIT_EIO, h_path, 0, 0, "cannot write: %s", strerror(errno));
            remove(h_tmp);
            remove(c_tmp);
        } else if (rename(c_tmp, c_path) != 0) {
            rc = mvit_diag_at(d, MVIT_EIO, c_path, 0, 0, "cannot write: %s", strerror(errno));
            remove(c_tmp);
            remove(h_path);
        }
    }
    free(c_path);
    free(h_path);
    free(c_tmp);
    free(h_tmp);
    return rc;
}

/* --keep-fp32 auto[:N]: the N (default 1) nodes whose int8 rounding alone moves the logits
 * most (mvit_calib_sensitivity on 32 calibration images) stay float; the choice is printed. */
static int auto_keep(const mvit_graph *g, mvit_calib_set *set, const mvit_qrange *ranges,
                     const char *spec, char **keep, mvit_diag *d)
{
    int want = 1;
    if (spec[4] == ':' && (want = atoi(spec + 5)) < 1)
        return mvit_diag_at(d, MVIT_EINVAL, "mvitc", 0, 0,
                            "--keep-fp32 auto:N needs N >= 1, got '%s'", spec + 5);
    double *score = mvit_xcalloc((size_t)g->num_nodes, sizeof *score);
    int rc = mvit_calib_sensitivity(g, set, ranges, 32, score, d);
    /* a kept conv or linear keeps its SiLU: they are judged together, as the conv */
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead || n->op != MVIT_OP_SILU || score[i] < 0)
            continue;
        const int p = g->values[n->inputs[0]].producer;
        if (p >= 0 && (g->nodes[p].op == MVIT_OP_CONV2D || g->nodes[p].op == MVIT_OP_LINEAR) &&
            mvit_value_uses(g, n->inputs[0]) == 1) {
            score[p] = (score[p] > 0 ? score[p] : 0) + score[i];
            score[i] = -1;
        }
    }
    size_t len = 0, cap = 256;
    *keep = mvit_xcalloc(cap, 1);
    fprintf(stderr, "mvitc: int8: kept in fp32 by sensitivity (mean squared logit change when "
                    "only that layer's output is int8, 32 calibration images):\n");
    for (int k = 0; k < want && rc == 0; k++) {
        int best = -1;
        for (int i = 0; i < g->num_nodes; i++)
            if (score[i] > 0 && (best < 0 || score[i] > score[best]))
                best = i;
        if (best < 0)
            break;
        const mvit_node *n = &g->nodes[best];
        fprintf(stderr, "mvitc:   %s (%s) %.3g\n", n->name, mvit_op_names[n->op], score[best]);
        score[best] = -1;
        while (len + strlen(n->name) + 2 > cap)
            *keep = mvit_xrealloc(*keep, cap *= 2);
        len += (size_t)snprintf(*keep + len, cap - len, "%s%s", len ? "," : "", n->name);
    }
    free(score);
    return rc;
}

void mvit_calib_cache_free(mvit_calib_cache *c)
{
    free(c->ranges);
    c->ranges = NULL;
    c->num_values = 0;
}

#define MAX_RESOLUTIONS 16

static int is_auto_keep(const char *keep)
{
    return keep && !strncmp(keep, "auto", 4) && (keep[4] == 0 || keep[4] == ':');
}

/* What one `mvitc compile` (or `mvitc calibrate`) holds between its stages. */
typedef struct compile_job {
    const mvit_compile_options *opt;
    const char *ranges_out;                   /* calibrate: write the ranges here, stop */
    const mvit_target *target;
    int int8;
    mvit_calib_method method;
    int num;                                  /* graphs: one per --resolution entry */
    mvit_size res[MAX_RESOLUTIONS];
    mvit_model_desc descs[MAX_RESOLUTIONS];
    mvit_graph graphs[MAX_RESOLUTIONS];
    const char *name;
    uint64_t model_hash;                      /* description + weights files */
    char *kept;                               /* int8: the layers that stayed float */
} compile_job;

/* Calibrates the float graph g on the images of set: ranges[g->num_values]. */
static int calibrate(const mvit_graph *g, mvit_calib_set *set, mvit_calib_method method,
                     mvit_qrange *ranges, mvit_diag *d)
{
    mvit_calib_stats st = {0};
    int rc = mvit_calib_collect(g, set, stderr, &st, d);
    if (rc < 0)
        return rc;
    mvit_calib_ranges(&st, method, ranges);
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        const int v = n->num_inputs ? n->inputs[0] : -1;
        if (!n->dead && n->op == MVIT_OP_SILU && mvit_value_uses(g, v) == 1)
            mvit_calib_silu_range(&st, v, &ranges[v]);
    }
    mvit_calib_stats_free(&st);
    return 0;
}

static void cache_store(mvit_calib_cache *cache, const mvit_graph *g, const mvit_qrange *r)
{
    mvit_calib_cache_free(cache);
    cache->ranges = mvit_xmalloc((size_t)g->num_values * sizeof *r);
    memcpy(cache->ranges, r, (size_t)g->num_values * sizeof *r);
    cache->num_values = g->num_values;
}

/* The ranges of g's values: read from --ranges, taken from the cache of an earlier compile, or
 * calibrated on --calib's images (then set stays open for --keep-fp32 auto). */
static int find_ranges(const compile_job *j, const mvit_graph *g, const mvit_model_desc *desc,
                       mvit_calib_set *set, mvit_qrange *ranges, mvit_diag *d)
{
    const mvit_compile_options *opt = j->opt;
    /* --keep-fp32 auto needs the images, so it never takes ranges from the cache */
    mvit_calib_cache *cache = is_auto_keep(opt->keep_fp32) ? NULL : opt->calib_cache;
    if (opt->ranges_path) {
        mvit_ranges_meta meta;
        return mvit_ranges_read(opt->ranges_path, g, j->model_hash, ranges, &meta, d);
    }
    if (cache && cache->num_values == g->num_values) {
        memcpy(ranges, cache->ranges, (size_t)g->num_values * sizeof *ranges);
        return 0;
    }
    int rc = mvit_calib_open(opt->calib_path, desc, opt->calib_images, set, d);
    if (rc == 0)
        rc = calibrate(g, set, j->method, ranges, d);
    if (rc == 0 && cache)
        cache_store(cache, g, ranges);
    return rc;
}

/* The ranges of g (calibrated on the images of set) written to j->ranges_out. */
static int write_ranges(const compile_job *j, const mvit_graph *g, const mvit_calib_set *set,
                        const mvit_qrange *ranges, mvit_diag *d)
{
    const mvit_ranges_meta meta = {.model_hash = j->model_hash, .method = j->method,
                                   .images = (long)set->count,
                                   .command_line = j->opt->command_line};
    return mvit_ranges_write(j->ranges_out, g, ranges, &meta, d);
}

/* The float graph's ranges turned into the int8 graph (docs/int8.md); j->kept receives the
 * layers kept in float (allocated), for the banner. */
static int lower_to_int8(compile_job *j, mvit_graph *g, mvit_calib_set *set,
                         const mvit_qrange *ranges, mvit_diag *d)
{
    const char *keep = j->opt->keep_fp32;
    int rc = 0;
    if (is_auto_keep(keep))
        rc = auto_keep(g, set, ranges, keep, &j->kept, d);
    else if (keep)
        j->kept = mvit_xstrdup(keep);
    if (rc == 0)
        rc = pass_quantize_int8(g, ranges, j->kept, d);
    if (rc == 0)
        rc = mvit_ir_verify(g, d);
    return rc;
}

/* The int8 path: fold BatchNorm, find the float graph's ranges, then lower it, or, for a
 * calibrate job, write the ranges and stop. */
static int quantize(compile_job *j, mvit_graph *g, const mvit_model_desc *desc, mvit_diag *d)
{
    int rc = pass_fold_bn(g, d);
    if (rc == 0)
        rc = pass_fold_layernorm_affine(g, d);
    if (rc == 0)
        rc = mvit_ir_verify(g, d);
    if (rc < 0)
        return rc;
    mvit_calib_set set = {0};
    mvit_qrange *ranges = mvit_xcalloc((size_t)g->num_values, sizeof *ranges);
    rc = find_ranges(j, g, desc, &set, ranges, d);
    if (rc == 0)
        rc = j->ranges_out ? write_ranges(j, g, &set, ranges, d)
                           : lower_to_int8(j, g, &set, ranges, d);
    mvit_calib_close(&set);
    free(ranges);
    return rc;
}

/* One graph through the passes: fp32 fusion, or the int8 lowering. */
static int lower_graph(compile_job *j, mvit_graph *g, const mvit_model_desc *desc, mvit_diag *d)
{
    if (j->int8)
        return quantize(j, g, desc, d);
    mvit_pass_options popt = {.no_fusion = j->opt->no_fusion, .verify = 1};
    return mvit_run_passes(g, &popt, d);
}

static int fail_option(mvit_diag *d, const char *fmt, const char *what)
{
    return mvit_diag_at(d, MVIT_EINVAL, "mvitc", 0, 0, fmt, what);
}

/* Target, precision, calibration method and resolutions from the options. */
static int check_options(compile_job *j, mvit_diag *d)
{
    const mvit_compile_options *opt = j->opt;
    j->target = mvit_find_target(opt->target ? opt->target : "generic");
    if (!j->target) {
        char names[256], msg[400];
        mvit_target_names(", ", names, sizeof names);
        snprintf(msg, sizeof msg, "unknown target '%%s' (available: %s)", names);
        return fail_option(d, msg, opt->target);
    }
    j->int8 = opt->precision && !strcmp(opt->precision, "int8");
    if (opt->precision && strcmp(opt->precision, "fp32") && !j->int8)
        return fail_option(d, "unknown precision '%s' (available: fp32, int8)", opt->precision);
    j->method = MVIT_CALIB_DEFAULT;
    if (j->int8 && !opt->calib_path && !opt->ranges_path)
        return fail_option(d, "%s needs --calib DATA (a PNG directory, an IDX file or a .f32 "
                              "file of images) or --ranges FILE (from mvitc calibrate)",
                           "--precision int8");
    if (opt->ranges_path && (!j->int8 || opt->calib_path || opt->calib_method ||
                             opt->calib_images > 0 || is_auto_keep(opt->keep_fp32)))
        return fail_option(d, "%s: --ranges FILE replaces calibration: it takes --precision int8 "
                              "and none of --calib, --calib-method, --calib-images or "
                              "--keep-fp32 auto",
                           opt->ranges_path);
    if (opt->calib_method && mvit_calib_method_parse(opt->calib_method, &j->method) < 0)
        return fail_option(d, "unknown --calib-method '%s' (available: minmax, percentile, mse)",
                           opt->calib_method);
    j->num = 1;
    if (opt->resolutions) {
        int rc = j->num = mvit_parse_sizes(opt->resolutions, "mvitc", j->res, MAX_RESOLUTIONS, d);
        if (rc < 0)
            return rc;
        if (j->int8 && j->num > 1) /* ranges are calibrated at one size */
            return mvit_diag_at(d, MVIT_EINVAL, "mvitc", 0, 0,
                                "--precision int8 takes one --resolution (it calibrates at that "
                                "size), got %d",
                                j->num);
    }
    return 0;
}

/* The description at every size, the weights, and one lowered graph per size. */
static int build_graphs(compile_job *j, mvit_diag *d)
{
    const mvit_compile_options *opt = j->opt;
    int rc;
    for (int i = 0; i < j->num; i++)
        if ((rc = mvit_desc_load_resized(opt->desc_path, j->res[i].height, j->res[i].width,
                                         &j->descs[i], d)) < 0)
            return rc;
    j->name = opt->name ? opt->name : j->descs[0].name;
    if (!is_identifier(j->name) || strlen(j->name) > 48)
        return fail_option(d, "--name '%s' is not a C identifier of at most 48 characters",
                           j->name);
    j->model_hash = 0xcbf29ce484222325ull; /* FNV-1a over both files */
    if ((rc = hash_file(opt->desc_path, &j->model_hash, d)) < 0 ||
        (rc = hash_file(opt->weights_path, &j->model_hash, d)) < 0)
        return rc;
    mvit_weights w = {0};
    if ((rc = mvit_weights_load(opt->weights_path, (mvit_weights_layout)opt->weights_layout, &w,
                                d)) < 0)
        return rc;
    for (int i = 0; i < j->num && rc >= 0; i++)
        if ((rc = mvit_build_graph(&j->descs[i], &w, &j->graphs[i], d)) >= 0)
            rc = lower_graph(j, &j->graphs[i], &j->descs[i], d);
    mvit_weights_free(&w);
    return rc < 0 ? rc : 0;
}

/* Scratch and memory plan of every graph; the largest size decides the weight layouts. */
static int plan_graphs(compile_job *j, mvit_diag *d)
{
    int largest = 0;
    for (int i = 0; i < j->num; i++)
        if ((int64_t)j->res[i].height * j->res[i].width >
            (int64_t)j->res[largest].height * j->res[largest].width)
            largest = i;
    for (int i = 0; i < j->num; i++) {
        mvit_graph *g = &j->graphs[i];
        if (j->num > 1 && i != largest)
            g->layout_ref = &j->graphs[largest];
        g->max_tasks = j->opt->max_threads > 0 ? j->opt->max_threads : 1;
        mvit_target_assign_scratch(j->target, g);
        int rc = pass_plan_memory(g, d);
        if (rc < 0)
            return rc;
        if (j->opt->dump_ir)
            mvit_graph_dump(g, stderr);
        if (j->opt->inspect)
            j->opt->inspect(j->opt->inspect_user, g);
    }
    return 0;
}

/* The .c and .h text, written only when all of it was generated. */
static int emit_files(compile_job *j, mvit_diag *d)
{
    const mvit_compile_options *opt = j->opt;
    int rc;
    char precision[512] = "fp32";
    const char *kept = j->kept;
    if (j->int8) /* the banner says which layers stayed float */
        snprintf(precision, sizeof precision, "int8%s%.400s%s",
                 kept && *kept ? " (kept in fp32: " : "", kept ? kept : "",
                 kept && *kept ? "; not bit-identical across targets)" : "");
    mvit_codegen_info info = {
        .prefix = j->name,
        .command_line = opt->command_line ? opt->command_line : "",
        .desc_path = opt->desc_path,
        .weights_path = opt->weights_path,
        .model_hash = j->model_hash,
        .precision = precision,
        .max_tasks = j->graphs[0].max_tasks,
        .multi_resolution = opt->resolutions != NULL,
    };
    const mvit_graph *gptr[MAX_RESOLUTIONS];
    for (int i = 0; i < j->num; i++)
        gptr[i] = &j->graphs[i];
    mvit_emitter c_out = {0}, h_out = {0};
    rc = mvit_codegen_emit(gptr, j->num, j->target, &info, &c_out, &h_out, d);
    if (rc >= 0)
        rc = write_outputs(opt->out_dir, j->name, &c_out, &h_out, d);
    emit_free(&c_out);
    emit_free(&h_out);
    return rc;
}

static void free_job(compile_job *j)
{
    free(j->kept);
    for (int i = 0; i < MAX_RESOLUTIONS; i++) {
        mvit_graph_free(&j->graphs[i]);
        mvit_desc_free(&j->descs[i]);
    }
    free(j);
}

int mvit_compile(const mvit_compile_options *opt, mvit_diag *d)
{
    compile_job *j = mvit_xcalloc(1, sizeof *j);
    j->opt = opt;
    int rc = check_options(j, d);
    if (rc >= 0)
        rc = build_graphs(j, d);
    if (rc >= 0)
        rc = plan_graphs(j, d);
    if (rc >= 0)
        rc = emit_files(j, d);
    free_job(j);
    return rc;
}

int mvit_calibrate(const mvit_compile_options *opt, const char *ranges_out, mvit_diag *d)
{
    mvit_compile_options o = *opt;
    o.precision = "int8";
    o.calib_cache = NULL;
    compile_job *j = mvit_xcalloc(1, sizeof *j);
    j->opt = &o;
    j->ranges_out = ranges_out;
    int rc = o.calib_path ? check_options(j, d)
                          : fail_option(d, "%s", "calibrate needs --calib DATA (a PNG directory, "
                                                 "an IDX file or a .f32 file of images)");
    if (rc >= 0)
        rc = build_graphs(j, d);
    free_job(j);
    return rc;
}
