/* Trained weights as a flat table of named float32 tensors, whatever the file stored
 * (F32, F16 and BF16 are converted; I64 tensors such as BatchNorm's num_batches_tracked are
 * kept as entries with is_float = 0 and no data). Checking names and shapes against the
 * model is the graph builder's job; this layer checks the container. */
#ifndef MVIT_WEIGHTS_H
#define MVIT_WEIGHTS_H

#include <stdint.h>

#include "../common/diag.h"

#define MVIT_MAX_DIMS 8

typedef struct mvit_tensor {
    char *name;
    char dtype[8];                 /* as stored: "F32", "F16", "BF16", "I64", ... */
    int is_float;                  /* 1 when data holds the values as float32 */
    int ndim;
    int64_t shape[MVIT_MAX_DIMS];  /* as stored, PyTorch order (e.g. OIHW for conv) */
    int64_t numel;
    float *data;                   /* numel floats, owned; NULL when !is_float */
    int used;                      /* set by consumers to find extra tensors */
} mvit_tensor;

typedef struct mvit_weights {
    char *path;
    int count;
    mvit_tensor *tensors;          /* in file header order */
} mvit_weights;

/* Reads a safetensors file. Rejects: file shorter than 8 bytes, header length beyond the
 * file or above 100 MB, header not a JSON object, unknown dtype, shape/offset not arrays of
 * non-negative integers, byte range not equal to numel * dtype size, ranges out of the data
 * area, overlapping ranges, duplicate names. Messages name the file and the tensor. */
int mvit_weights_load_safetensors(const char *path, mvit_weights *w, mvit_diag *d);

/* Same from memory (fuzzing, tests); path only used in messages. */
int mvit_weights_parse_safetensors(const char *path, const unsigned char *buf, size_t len,
                                   mvit_weights *w, mvit_diag *d);

mvit_tensor *mvit_weights_find(const mvit_weights *w, const char *name);
void mvit_weights_free(mvit_weights *w);

#endif
