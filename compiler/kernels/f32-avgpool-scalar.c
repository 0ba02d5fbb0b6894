/* Global average pooling: HWC map -> C means, accumulated in double so the result does not
 * depend on the number of pixels. */
#include "mvk-prelude.h"

static MVK_UNUSED MVK_NOLIBCALL void mvk_f32_avgpool__scalar(const mvk_avgpool *p,
                                                             const float *MVK_RESTRICT in,
                                                             float *MVK_RESTRICT out)
{
    const int64_t pixels = p->pixels;
    const int c = p->c;
    for (int ch = 0; ch < c; ch++) {
        double s = 0.0;
        for (int64_t i = 0; i < pixels; i++)
            s += in[i * c + ch];
        out[ch] = (float)(s / (double)pixels);
    }
}
