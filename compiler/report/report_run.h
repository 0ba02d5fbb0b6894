/* mvitc report's measuring half (report.c): what to build and how to run it. */
#ifndef MVIT_REPORT_RUN_H
#define MVIT_REPORT_RUN_H

#include "desc/desc.h"
#include "report/report.h"

typedef struct mvit_report_options {
    const char *desc_path, *weights_path;
    int weights_layout;        /* mvit_weights_layout */
    const char *targets;       /* "generic,avx2,neon" (NULL = all); generic is always built */
    const char *precisions;    /* "fp32,int8" (NULL = fp32); fp32 is always built */
    const char *resolutions;   /* "64,192x256": R (R x R) or HxW entries (NULL = the
                                  description's size) */
    const char *calib_path;    /* int8: as mvitc compile --calib */
    long calib_images;
    const char *cores;         /* llvm-mca cores, NULL = haswell,znver3,cortex-a55,cortex-a76,
                                  apple-a14 */
    int runs;                  /* timed runs per build (median) */
    const char *work_dir;      /* DIR/builds: one directory per build */
    const char *command_line;  /* recorded in the report */
    int num_classes;           /* set by mvit_report_build */
} mvit_report_options;

#define MVIT_REPORT_MAX_SIZES 16

/* Builds, runs and estimates every cell into r (free with mvit_report_free). Progress lines
 * go to stderr. Returns 0, or < 0 with d filled. */
int mvit_report_build(const mvit_report_options *o, mvit_report *r, mvit_diag *d);

/* Writes dir/report.md, report.json and report.html (each renamed into place when complete). */
int mvit_report_write_files(const mvit_report *r, const char *dir, mvit_diag *d);

#endif
