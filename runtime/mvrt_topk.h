/* mvrt_topk: the k best classes of a logit vector, and softmax probabilities.
 *
 *     int64_t idx[5];
 *     float prob[NUM_CLASSES], p[5];
 *     mvrt_softmax(logits, NUM_CLASSES, prob);        // probabilities in the logits' order
 *     mvrt_topk(prob, NUM_CLASSES, 5, idx, p);         // the 5 most probable, best first
 *
 * No allocation, no global state. */
#ifndef MVRT_TOPK_H
#define MVRT_TOPK_H

#include <stdint.h>

#include "mvrt_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The k largest of x[0..n), largest first: idx[j] their indices and, if values != NULL,
 * values[j] = x[idx[j]]. Ties keep the lower index first (a stable sort's order, and the same
 * top-1 as a `>` argmax loop). NaN ranks below every number, -inf included. 0 <= k <= n.
 * Cost O(n * k) in the worst case, O(n) for typical logits. Returns MVRT_OK, MVRT_ENULL
 * (x or idx NULL) or MVRT_ESIZE (n < 0, k < 0 or k > n). */
int mvrt_topk(const float *x, int64_t n, int64_t k, int64_t *idx, float *values);

/* p[i] = exp(x[i] - max) / sum_j exp(x[j] - max), exponentials and the sum in double, so no
 * logit overflows or underflows the whole vector. p may be x (in place). Limits: if some x are
 * +inf they share probability 1 equally; if all are -inf the result is uniform; any NaN makes
 * every p NaN. Returns MVRT_OK, MVRT_ENULL or MVRT_ESIZE (n < 1). */
int mvrt_softmax(const float *x, int64_t n, float *p);

#ifdef __cplusplus
}
#endif

#endif
