/* libFuzzer harness: the calibration ranges reader (mvitc compile --ranges) on arbitrary
 * bytes, checked against a small fixed graph of three values (the reader only needs their
 * names and shapes and the input's id); the seeds carry this graph's hash, so that mutations
 * get past the header. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "calib/ranges_file.h"

#define FUZZ_HASH 0x0123456789abcdefull

static void set_value(mvit_value *v, const char *name, int h, int w, int c)
{
    strcpy(v->name, name);
    v->dims[0] = h;
    v->dims[1] = w;
    v->dims[2] = c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mvit_value values[3];
    memset(values, 0, sizeof values);
    set_value(&values[0], "input", 8, 8, 3);
    set_value(&values[1], "stem", 4, 4, 16);
    set_value(&values[2], "head.fc", 1, 1, 10);
    mvit_graph g;
    memset(&g, 0, sizeof g);
    g.values = values;
    g.num_values = 3;
    g.input = 0;
    g.output = 2;
    mvit_qrange ranges[3];
    mvit_ranges_meta meta;
    mvit_diag d;
    mvit_ranges_parse("fuzz.ranges", data, size, &g, FUZZ_HASH, ranges, &meta, &d);
    return 0;
}
