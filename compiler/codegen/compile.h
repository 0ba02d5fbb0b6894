/* The whole compile job: description + weights -> graph -> passes -> DIR/NAME.{c,h}. */
#ifndef MVIT_COMPILE_H
#define MVIT_COMPILE_H

#include "common/diag.h"

struct mvit_graph;
struct mvit_qrange;

/* Activation ranges of one calibration, reusable by the next int8 compile of the same model,
 * data and method for another target (mvitc report builds int8 for several): the float graph
 * they are measured on does not depend on the target. */
typedef struct mvit_calib_cache {
    int num_values;             /* of the graph they were measured on; 0 = empty */
    struct mvit_qrange *ranges; /* per value */
} mvit_calib_cache;

void mvit_calib_cache_free(mvit_calib_cache *c);

typedef struct mvit_compile_options {
    const char *desc_path;
    const char *weights_path;
    const char *target;       /* "generic" */
    const char *precision;    /* "fp32" */
    const char *name;         /* API prefix; NULL = the description's name */
    const char *out_dir;
    const char *command_line; /* recorded in the banner */
    int no_fusion;            /* debugging: keep BN, SiLU and adds as separate layers */
    int dump_ir;              /* print the final graph to stderr */
    int max_threads;          /* tasks per parallel layer (arena holds scratch for each), >= 1 */
    int weights_layout;       /* mvit_weights_layout: 0 = auto, timm, cvnets */
    const char *calib_path;   /* int8: calibration images (calib/calib_data.h) */
    const char *calib_method; /* int8: "minmax", "percentile", "mse"; NULL = the default */
    long calib_images;        /* int8: at most this many calibration images (<= 0: all) */
    const char *keep_fp32;    /* int8: comma-separated layer names that stay float, or NULL */
    const char *ranges_path;  /* int8: ranges from `mvitc calibrate` instead of --calib */
    mvit_calib_cache *calib_cache; /* int8, optional: filled by the first compile, then reused
                                      (the caller keeps data and method the same) */
    const char *resolutions;  /* "64,128,...": one entry point P_run_<r> each; NULL = the
                                 description's size, entry point P_run */
    /* optional: called with each final graph (planned, before code generation), for tools
     * that describe a build (mvitc report); must not keep the pointer */
    void (*inspect)(void *user, const struct mvit_graph *g);
    void *inspect_user;
} mvit_compile_options;

/* Returns 0, or < 0 with d filled; on failure no output file is left behind. */
int mvit_compile(const mvit_compile_options *opt, mvit_diag *d);

/* `mvitc calibrate`: the int8 ranges of the model in opt (calibrated on opt->calib_path, at
 * opt->resolutions if given, by opt->calib_method) written to ranges_out
 * (calib/ranges_file.h), for any number of `--ranges` compiles. The target, precision, name,
 * keep-fp32 and ranges options do not apply (the command line refuses them). Returns 0, or
 * < 0 with d filled; no file is left behind on failure. */
int mvit_calibrate(const mvit_compile_options *opt, const char *ranges_out, mvit_diag *d);

#endif
