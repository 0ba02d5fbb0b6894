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

/* G of F(4x4, 3x3) for the interpolation points 0, +-1, +-2, infinity (Lavin & Gray). */
static const double winograd_g[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

void mvit_winograd_f43_weights(const float *hwio, int cin, int cout, float *u)
{
    for (int ci = 0; ci < cin; ci++)
        for (int co = 0; co < cout; co++) {
            double gg[3][3], t[6][3];
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    gg[ky][kx] = hwio[(((int64_t)ky * 3 + kx) * cin + ci) * cout + co];
            for (int i = 0; i < 6; i++) /* t = G g */
                for (int kx = 0; kx < 3; kx++)
                    t[i][kx] = winograd_g[i][0] * gg[0][kx] + winograd_g[i][1] * gg[1][kx] +
                               winograd_g[i][2] * gg[2][kx];
            for (int i = 0; i < 6; i++) /* U = t G^T */
                for (int j = 0; j < 6; j++)
                    u[((int64_t)(i * 6 + j) * cin + ci) * cout + co] =
                        (float)(t[i][0] * winograd_g[j][0] + t[i][1] * winograd_g[j][1] +
                                t[i][2] * winograd_g[j][2]);
        }
}

int64_t mvit_pack_i8_b(const int8_t *b, int k, int n, int cols, int8_t *dst)
{
    const int group = 4;
    const int panels = (n + cols - 1) / cols, groups = (k + group - 1) / group;
    if (dst)
        for (int p = 0; p < panels; p++)
            for (int q = 0; q < groups; q++)
                for (int j = 0; j < cols; j++)
                    for (int i = 0; i < group; i++) {
                        const int row = group * q + i, col = cols * p + j;
                        dst[(((int64_t)p * groups + q) * cols + j) * group + i] =
                            (int8_t)(row < k && col < n ? b[(int64_t)row * n + col] : 0);
                    }
    return (int64_t)panels * groups * cols * group;
}

int64_t mvit_pack_i8_dw(const int8_t *w, int taps, int c, int8_t *dst)
{
    const int blocks = (c + 15) / 16, pairs = (taps + 1) / 2;
    if (dst)
        for (int cb = 0; cb < blocks; cb++)
            for (int q = 0; q < pairs; q++)
                for (int half = 0; half < 2; half++)
                    for (int lane = 0; lane < 8; lane++)
                        for (int i = 0; i < 2; i++) {
                            /* vpunpck{l,h}wd order: lanes 0-3 and 4-7 come from the two
                             * 128-bit halves (channels 0-7 and 8-15 of the block) */
                            const int ch = cb * 16 + half * 4 + (lane < 4 ? lane : lane + 4);
                            const int tap = 2 * q + i;
                            dst[(((int64_t)cb * pairs + q) * 2 + half) * 16 + lane * 2 + i] =
                                (int8_t)(tap < taps && ch < c ? w[(int64_t)tap * c + ch] : 0);
                        }
    return (int64_t)blocks * pairs * 32;
}
