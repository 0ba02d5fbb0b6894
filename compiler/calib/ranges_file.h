/* A calibration's result as a text file (docs/int8.md, "Calibrate once, build every target"):
 * `mvitc calibrate` writes the int8 range of every tensor, `mvitc compile --ranges` reads them
 * instead of calibrating, so one calibration serves the builds of every target (the ranges do
 * not depend on the target). The file records the description and weights it was measured
 * with (their hash) and each value's name and shape, and is refused for any other graph. */
#ifndef MVIT_CALIB_RANGES_FILE_H
#define MVIT_CALIB_RANGES_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "calib/observe.h"
#include "common/diag.h"
#include "ir/ir.h"

typedef struct mvit_ranges_meta {
    uint64_t model_hash;      /* of the description and weights files, as in the C banner */
    mvit_calib_method method; /* how the ranges were chosen (informative) */
    long images;              /* calibration images used (informative) */
    const char *command_line; /* writing only: recorded in a comment */
} mvit_ranges_meta;

/* Writes ranges[g->num_values] to path atomically (a temporary file renamed when complete). */
int mvit_ranges_write(const char *path, const mvit_graph *g, const mvit_qrange *ranges,
                      const mvit_ranges_meta *meta, mvit_diag *d);

/* Reads path into ranges[g->num_values] after checking that it was written for this graph
 * (format, model hash, input size, every value's id, name and shape) and that every range is
 * one an int8 tensor can take (finite, lo <= 0 <= hi, not empty). meta receives the header. */
int mvit_ranges_read(const char *path, const mvit_graph *g, uint64_t model_hash,
                     mvit_qrange *ranges, mvit_ranges_meta *meta, mvit_diag *d);

/* The same on the file's bytes (buf[len], no terminator needed); path names it in messages. */
int mvit_ranges_parse(const char *path, const unsigned char *buf, size_t len,
                      const mvit_graph *g, uint64_t model_hash, mvit_qrange *ranges,
                      mvit_ranges_meta *meta, mvit_diag *d);

#endif
