/* Channel concatenation of two HWC maps of equal height and width: out = [a | b]. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_concat__scalar(const mvk_concat *p,
                                                            const float *MVK_RESTRICT a,
                                                            const float *MVK_RESTRICT b,
                                                            float *MVK_RESTRICT out)
{
    const int ca = p->ca, cb = p->cb;
    for (int64_t i = 0; i < p->pixels; i++) {
        float *o = out + i * (ca + cb);
        for (int c = 0; c < ca; c++)
            o[c] = a[i * ca + c];
        for (int c = 0; c < cb; c++)
            o[ca + c] = b[i * cb + c];
    }
}
