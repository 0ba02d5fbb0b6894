/* libFuzzer harness: the pickle subset of the torch.save reader, below the zip container.
 * fuzz_pytorch mutates whole zip files, and most of its mutants die at libzip's CRC check; here
 * the input is the pickle itself and this harness wraps it in a valid archive, so the
 * mutations reach the unpickler, the tensor views and the storage checks.
 * Input: [n: 1 byte, taken mod 25] [n storage sizes: 2 bytes each, little-endian] [data.pkl].
 * Storage k is the entry "archive/data/k", holding a fixed byte pattern. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "weights/weights.h"

enum { MAX_STORAGES = 25 };

static int add_entry(zip_t *za, const char *name, const void *bytes, size_t len)
{
    zip_source_t *s = zip_source_buffer(za, bytes, len, 0);
    if (!s)
        return -1;
    zip_int64_t idx = zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(s);
        return -1;
    }
    /* stored, like torch.save: the reader must not depend on compression */
    return zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
}

/* Builds the archive in memory; returns a malloc'd buffer or NULL. */
static unsigned char *wrap(const uint8_t *pkl, size_t pkl_len, const unsigned *sizes, int n,
                           const unsigned char *pattern, size_t *out_len)
{
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    if (!src)
        return NULL;
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    unsigned char *out = NULL;
    if (!za)
        goto done;
    int ok = add_entry(za, "archive/data.pkl", pkl, pkl_len) == 0 &&
             add_entry(za, "archive/version", "3\n", 2) == 0;
    for (int k = 0; ok && k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "archive/data/%d", k);
        ok = add_entry(za, name, pattern, sizes[k]) == 0;
    }
    if (!ok || zip_close(za) < 0) {
        zip_discard(za);
        goto done;
    }
    zip_stat_t st;
    if (zip_source_stat(src, &st) < 0 || zip_source_open(src) < 0)
        goto done;
    out = malloc(st.size ? st.size : 1);
    zip_int64_t got = zip_source_read(src, out, st.size);
    zip_source_close(src);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(out);
        out = NULL;
    }
    *out_len = st.size;
done:
    zip_source_free(src);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char pattern[65536];
    if (!pattern[1])
        for (size_t i = 0; i < sizeof pattern; i++)
            pattern[i] = (unsigned char)(i * 37u + 11u); /* finite floats, and halves, mostly */
    if (size < 1)
        return 0;
    int n = data[0] % MAX_STORAGES;
    if (size < 1 + 2 * (size_t)n)
        return 0;
    unsigned sizes[MAX_STORAGES];
    for (int k = 0; k < n; k++)
        sizes[k] = data[1 + 2 * k] | (unsigned)data[2 + 2 * k] << 8;
    size_t head = 1 + 2 * (size_t)n, len;
    unsigned char *zipped = wrap(data + head, size - head, sizes, n, pattern, &len);
    if (!zipped)
        return 0;
    mvit_weights w;
    mvit_diag d;
    if (mvit_weights_parse_pytorch("fuzz.pt", zipped, len, &w, &d) == 0) {
        (void)mvit_weights_apply_layout(&w, MVIT_LAYOUT_AUTO, &d);
        mvit_weights_free(&w);
    }
    free(zipped);
    return 0;
}
