/* Input sizes as the command line gives them (--resolution of mvitc compile and mvitc report):
 * "R" for R x R or "HxW", each side an integer in MVIT_MIN_INPUT..4096, and their names in
 * generated identifiers and build directories. */
#include <stdio.h>
#include <string.h>

#include "desc/desc.h"

/* One side of a --resolution entry: digits only (no sign, space or exponent), 32..4096. */
static int parse_side(const char *s, size_t len, int *v)
{
    long n = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (s[i] - '0');
        if (n > 4096)
            return -1;
    }
    if (n < MVIT_MIN_INPUT)
        return -1;
    *v = (int)n;
    return 0;
}

int mvit_parse_sizes(const char *spec, const char *who, mvit_size *out, int max, mvit_diag *d)
{
    int n = 0;
    for (const char *s = spec;; s++) {
        const size_t len = strcspn(s, ",");
        const int shown = len < 64 ? (int)len : 64; /* of the entry, in messages */
        if (len == 0)
            return mvit_diag_at(d, MVIT_EINVAL, who, 0, 0, "--resolution: empty entry in '%.200s'",
                                spec);
        const char *x = memchr(s, 'x', len);
        mvit_size z = {0, 0};
        int ok;
        if (x) {
            const size_t h_len = (size_t)(x - s);
            ok = parse_side(s, h_len, &z.height) == 0 &&
                 parse_side(x + 1, len - h_len - 1, &z.width) == 0;
        } else {
            ok = parse_side(s, len, &z.height) == 0;
            z.width = z.height;
        }
        if (!ok)
            return mvit_diag_at(d, MVIT_EINVAL, who, 0, 0,
                                "--resolution: '%.*s' is not a size (R for R x R, or HxW; each "
                                "side an integer in 32..4096)",
                                shown, s);
        for (int i = 0; i < n; i++)
            if (out[i].height == z.height && out[i].width == z.width)
                return mvit_diag_at(d, MVIT_EINVAL, who, 0, 0,
                                    "--resolution: '%.*s' lists %dx%d a second time", shown, s,
                                    z.height, z.width);
        if (n == max)
            return mvit_diag_at(d, MVIT_EINVAL, who, 0, 0, "--resolution lists more than %d sizes",
                                max);
        out[n++] = z;
        s += len;
        if (!*s)
            return n;
    }
}

void mvit_size_name(int height, int width, char *buf, size_t n)
{
    if (height == width)
        snprintf(buf, n, "%d", height);
    else
        snprintf(buf, n, "%dx%d", height, width);
}
