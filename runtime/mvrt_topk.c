/* Top-k by insertion into the (sorted) output arrays, and a numerically stable softmax. */
#include "mvrt_topk.h"

#include <math.h>

/* a ranks strictly before b: larger, or a number against a NaN */
static int before(float a, float b)
{
    return a > b || (isnan(b) && !isnan(a));
}

int mvrt_topk(const float *x, int64_t n, int64_t k, int64_t *idx, float *values)
{
    if (!x || !idx)
        return MVRT_ENULL;
    if (n < 0 || k < 0 || k > n)
        return MVRT_ESIZE;
    if (k == 0)
        return MVRT_OK;
    /* idx[0..len) holds the best so far, best first; an element enters only if it ranks
     * strictly before the one it passes, so equal values keep their index order */
    int64_t len = 0;
    for (int64_t i = 0; i < n; i++) {
        if (len == k && !before(x[i], x[idx[k - 1]]))
            continue;
        int64_t j = len < k ? len++ : k - 1;
        for (; j > 0 && before(x[i], x[idx[j - 1]]); j--)
            idx[j] = idx[j - 1];
        idx[j] = i;
    }
    if (values)
        for (int64_t j = 0; j < k; j++)
            values[j] = x[idx[j]];
    return MVRT_OK;
}

int mvrt_softmax(const float *x, int64_t n, float *p)
{
    if (!x || !p)
        return MVRT_ENULL;
    if (n < 1)
        return MVRT_ESIZE;
    float mx = x[0];
    int nan = 0;
    for (int64_t i = 0; i < n; i++) {
        nan |= isnan(x[i]);
        mx = x[i] > mx ? x[i] : mx;
    }
    if (nan) {
        for (int64_t i = 0; i < n; i++)
            p[i] = NAN;
        return MVRT_OK;
    }
    if (isinf(mx)) { /* all -inf: uniform; some +inf: they share 1 */
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            m += x[i] == mx;
        for (int64_t i = 0; i < n; i++)
            p[i] = x[i] == mx ? (float)(1.0 / (double)m) : 0.0f;
        return MVRT_OK;
    }
    /* two passes of exp rather than a buffer: p may alias x, and each x[i] is read in the
     * second pass just before p[i] overwrites it */
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += exp((double)x[i] - (double)mx);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(exp((double)x[i] - (double)mx) / sum);
    return MVRT_OK;
}
