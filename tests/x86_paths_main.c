/* Runs a file of the x86-64 target (generated with --name net) on every code path: for each
 * path, net_select_path, then net_run on each image of INPUTS.f32, the logits appended to
 * OUT_PREFIX<path name>.f32. A path the CPU cannot run must be refused (-1) and is reported
 * "skipped"; the one the file picks by itself must be the best the CPU can run, and a path
 * out of range must be refused.
 * Usage: x86_paths INPUTS.f32 OUT_PREFIX */
#include <stdio.h>
#include <stdlib.h>

#include "net.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: x86_paths INPUTS.f32 OUT_PREFIX\n");
        return 2;
    }
    const size_t in_n = (size_t)net_INPUT_HEIGHT * net_INPUT_WIDTH * net_INPUT_CHANNELS;
    float *x = malloc(in_n * sizeof *x), logits[net_NUM_CLASSES];
    void *arena = aligned_alloc(64, (net_ARENA_BYTES_U8 + 63) / 64 * 64);
    if (!x || !arena)
        return 1;
    const int best = net_current_path();
    printf("the CPU's path: %s\n", net_path_name(best));
    if (net_select_path(-1) != -1 || net_select_path(net_NUM_PATHS) != -1 ||
        net_current_path() != best) {
        printf("FAIL: a path out of range was accepted\n");
        return 1;
    }
    int ran = 0;
    for (int k = 0; k < net_NUM_PATHS; k++) {
        if (net_select_path(k) != k) {
            if (k <= best) {
                printf("FAIL: path %s refused, though the CPU runs %s\n", net_path_name(k),
                       net_path_name(best));
                return 1;
            }
            printf("path %s: skipped (this CPU cannot run it)\n", net_path_name(k));
            continue;
        }
        if (k > best || net_current_path() != k) {
            printf("FAIL: path %s accepted beyond the CPU's %s\n", net_path_name(k),
                   net_path_name(best));
            return 1;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s%s.f32", argv[2], net_path_name(k));
        FILE *in = fopen(argv[1], "rb"), *out = fopen(path, "wb");
        if (!in || !out) {
            perror(!in ? argv[1] : path);
            return 1;
        }
        int images = 0;
        while (fread(x, sizeof *x, in_n, in) == in_n) {
            if (net_run(x, logits, arena) != 0 ||
                fwrite(logits, sizeof *logits, net_NUM_CLASSES, out) != net_NUM_CLASSES) {
                printf("FAIL: path %s: run or write failed\n", net_path_name(k));
                return 1;
            }
            images++;
        }
        fclose(in);
        if (fclose(out) != 0 || images == 0)
            return 1;
        printf("path %s: %d images\n", net_path_name(k), images);
        ran++;
    }
    free(x);
    free(arena);
    return ran ? 0 : 1;
}
