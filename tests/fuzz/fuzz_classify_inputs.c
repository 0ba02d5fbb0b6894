/* libFuzzer harness: the IDX (raw or gzip) and PNG loaders of examples/classify, which take
 * paths, so each input goes through a per-process temporary file. The first byte picks the
 * loader: 0 IDX images, 1 IDX labels, 2 PNG. classify.c is included whole, its main renamed. */
#define main classify_main
#include "../../examples/classify/classify.c"
#undef main

#include <stdint.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/mvit-fuzz-%d.bin", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    FILE *saved = stderr; /* the loaders report on stderr; keep the fuzzer's log readable */
    stderr = fopen("/dev/null", "w");
    if (data[0] % 3 < 2) {
        uint8_t *items = NULL;
        size_t count = 0;
        if (read_idx(path, data[0] % 3 == 0 ? 3 : 1, &items, &count) == 0)
            free(items);
    } else {
        static uint8_t px[28 * 28];
        (void)read_png(path, px);
    }
    fclose(stderr);
    stderr = saved;
    return 0;
}
