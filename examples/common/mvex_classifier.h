/* mvex_classifier: the platform-neutral core shared by the Android (JNI) and iOS (Objective-C)
 * wrappers. It owns everything one generated model needs per instance: the 64-byte aligned
 * arena (allocated once), an input buffer and, optionally, an mvrt_pool for 2+ threads.
 * Example code (prefix mvex_), not part of runtime/: copy it into an app and adapt it.
 *
 * Build it with the generated model's directory on the include path and MVIT_MODEL set to the
 * model's name (the --name given to mvitc; default fmnist_xxs). MVEX_USE_POOL=0 drops the
 * runtime/mvrt_pool dependency (and pthreads); threads are then always 1. */
#ifndef MVEX_CLASSIFIER_H
#define MVEX_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#ifndef MVIT_MODEL
#define MVIT_MODEL fmnist_xxs
#endif
#define MVEX_CAT_(a, b) a##b
#define MVEX_CAT(a, b) MVEX_CAT_(a, b)
#define MVEX_STR_(x) #x
#define MVEX_STR(x) MVEX_STR_(x)
/* MVEX_SYM(_run) is fmnist_xxs_run, MVEX_SYM(_ARENA_BYTES) is fmnist_xxs_ARENA_BYTES, ... */
#define MVEX_SYM(suffix) MVEX_CAT(MVIT_MODEL, suffix)
#ifndef MVIT_MODEL_HEADER
#define MVIT_MODEL_HEADER MVEX_STR(MVIT_MODEL.h)
#endif
#include MVIT_MODEL_HEADER

#define MVEX_INPUT_HEIGHT MVEX_SYM(_INPUT_HEIGHT)
#define MVEX_INPUT_WIDTH MVEX_SYM(_INPUT_WIDTH)
#define MVEX_INPUT_CHANNELS MVEX_SYM(_INPUT_CHANNELS)
#define MVEX_NUM_CLASSES MVEX_SYM(_NUM_CLASSES)
/* elements of one input image, HWC */
#define MVEX_INPUT_ELEMS (MVEX_INPUT_HEIGHT * MVEX_INPUT_WIDTH * MVEX_INPUT_CHANNELS)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mvex_classifier mvex_classifier;

/* Allocates the arena and the input buffer once and starts threads - 1 pool workers (threads
 * is clamped to 1..MAX_TASKS; if the pool cannot start, the classifier runs on one thread).
 * Returns NULL when out of memory. */
mvex_classifier *mvex_classifier_create(int threads);
void mvex_classifier_destroy(mvex_classifier *c);

/* Threads actually used (1 without the pool). */
int mvex_classifier_threads(const mvex_classifier *c);

/* The classifier's own MVEX_INPUT_ELEMS floats: fill it and pass it to mvex_classifier_run to
 * avoid a copy (the JNI and Objective-C wrappers copy Java/Swift arrays into it). */
float *mvex_classifier_input(mvex_classifier *c);

/* Runs the model on hwc (MVEX_INPUT_ELEMS floats, normalised as the header's INPUT_MEAN and
 * INPUT_STD say; any float alignment) and writes MVEX_NUM_CLASSES logits. Not reentrant: one
 * call at a time per classifier. Returns 0, or -1 for a NULL argument. */
int mvex_classifier_run(mvex_classifier *c, const float *hwc, float *logits);

/* Normalises MVEX_INPUT_ELEMS 8-bit pixels (HWC, the header's CHANNEL_ORDER, already resized
 * to INPUT_HEIGHT x INPUT_WIDTH) into floats: (pixel / 255 - mean[ch]) / std[ch]. */
void mvex_normalize_u8(const uint8_t *hwc_u8, float *hwc);

/* Index of the largest of MVEX_NUM_CLASSES logits (the first one on ties). */
int mvex_top_class(const float *logits);

#ifdef __cplusplus
}
#endif

#endif
