/* Channel concatenation of two HWC maps of equal height and width: out = [a | b]. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_concat__scalar(const float *MVK_RESTRICT a,
                                                            const float *MVK_RESTRICT b,
                                                            float *MVK_RESTRICT out, int64_t pixels,
                                                            int ca, int cb)
{
    for (int64_t i = 0; i < pixels; i++) {
        float *o = out + i * (ca + cb);
        for (int c = 0; c < ca; c++)
            o[c] = a[i * ca + c];
        for (int c = 0; c < cb; c++)
            o[ca + c] = b[i * cb + c];
    }
}
