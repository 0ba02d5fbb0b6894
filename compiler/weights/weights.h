/* Trained weights as a flat table of named float32 tensors, whatever the file stored
 * (F32, F16 and BF16 are converted; I64 tensors such as BatchNorm's num_batches_tracked are
 * kept as entries with is_float = 0 and no data). Two containers are read: safetensors
 * (safetensors.c) and the zip archive torch.save writes (pytorch.c); layout.c renames
 * ml-cvnets parameter names to timm's. Checking names and shapes against the model is the
 * graph builder's job; this layer checks the container. */
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

/* Reads a PyTorch checkpoint: the zip archive of torch.save (PyTorch >= 1.6), whose
 * ARCHIVE/data.pkl is interpreted as a restricted pickle that is never executed. Allowed
 * opcodes: the binary ones of protocols 2-5 that build None/bool/int/float/str/bytes, tuples,
 * lists and dicts, the memo, MARK/POP/DUP, FRAME, PROTO, STOP, BINPERSID (storages), REDUCE
 * and BUILD; allowed globals: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter and the torch.*Storage classes. Anything else is rejected
 * with its pickle offset. The result must be a dict of tensors, or a dict holding one under
 * "state_dict", "model_state_dict" or "model". Tensor views (offset, strides) are checked
 * against their storage record and materialised contiguously. Messages name the file and the
 * archive entry, pickle offset or tensor. */
int mvit_weights_load_pytorch(const char *path, mvit_weights *w, mvit_diag *d);

/* Same from memory (fuzzing, tests); path only used in messages. */
int mvit_weights_parse_pytorch(const char *path, const unsigned char *buf, size_t len,
                               mvit_weights *w, mvit_diag *d);

/* Parameter naming of the file. AUTO looks at the top-level module names. */
typedef enum mvit_weights_layout {
    MVIT_LAYOUT_AUTO,
    MVIT_LAYOUT_TIMM,   /* stem, stages.i.j..., final_conv, head.fc: used as is */
    MVIT_LAYOUT_CVNETS, /* apple/ml-cvnets: conv_1, layer_1..5, conv_1x1_exp, classifier.fc */
} mvit_weights_layout;

/* "auto", "timm" or "cvnets"; returns 0, or -1 for another string. */
int mvit_weights_layout_parse(const char *s, mvit_weights_layout *out);
const char *mvit_weights_layout_name(mvit_weights_layout layout);

/* Renames w's tensors to timm's names: drops a "module." prefix that every name carries
 * (DataParallel), then picks the layout (AUTO: cvnets when the names use ml-cvnets' top-level
 * modules, timm otherwise; both kinds at once is an error asking for --weights-layout) and
 * maps cvnets names. Names without a cvnets equivalent are left as they are, so the graph
 * builder reports them as unexpected. Two names mapping to one is an error. */
int mvit_weights_apply_layout(mvit_weights *w, mvit_weights_layout layout, mvit_diag *d);

/* One cvnets parameter name to timm's, e.g. "layer_3.1.fusion.block.norm.running_var" ->
 * "stages.2.1.conv_fusion.bn.running_var". Returns 0, or -1 when the name has no mapping or
 * out (cap bytes) is too small. global_rep.K.{weight,bias} (the LayerNorm after the
 * transformer layers) maps to norm.*; mvit_weights_apply_layout checks that K is the depth. */
int mvit_weights_cvnets_to_timm(const char *name, char *out, size_t cap);

/* Reads a weights file of either format, chosen by its first bytes ("PK\x03\x04": PyTorch
 * zip, anything else: safetensors), then applies the layout. */
int mvit_weights_load(const char *path, mvit_weights_layout layout, mvit_weights *w,
                      mvit_diag *d);

/* Shared by the readers. Converts n little-endian elements of a float dtype ("F32", "F16",
 * "BF16", "F64") to float32; returns -1 (nothing written) for any other dtype. */
int mvit_weights_convert(const char *dtype, const unsigned char *src, int64_t n, float *dst);

/* Copies a file-provided string for a message: control bytes become '?', strings longer than
 * 120 bytes are cut and end in "...". Returns out. */
#define MVIT_QUOTE_BUF 124
const char *mvit_weights_quote(char out[MVIT_QUOTE_BUF], const char *s, size_t len);

mvit_tensor *mvit_weights_find(const mvit_weights *w, const char *name);
void mvit_weights_free(mvit_weights *w);

#endif
