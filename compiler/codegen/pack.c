/* Weight packing (see pack.h). Packing happens once, in the compiler, so kernels read B with
 * aligned, contiguous vector loads and never handle a ragged last panel. */
#include "codegen/pack.h"

int64_t mvit_pack_b_panels(const float *b, int k, int n, int nr, float *dst)
{
    const int panels = (n + nr - 1) / nr;
    if (dst)
        for (int p = 0; p < panels; p++)
            for (int r = 0; r < k; r++)
                for (int j = 0; j < nr; j++) {
                    const int col = p * nr + j;
                    dst[((int64_t)p * k + r) * nr + j] = col < n ? b[(int64_t)r * n + col] : 0.0f;
                }
    return (int64_t)panels * k * nr;
}

int64_t mvit_pack_pad(const float *v, int n, int to, float *dst)
{
    const int64_t len = (int64_t)(n + to - 1) / to * to;
    if (dst)
        for (int64_t i = 0; i < len; i++)
            dst[i] = i < n ? v[i] : 0.0f;
    return len;
}
