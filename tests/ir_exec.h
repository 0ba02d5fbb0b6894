/* Test helper: runs a float graph with mvitc's own evaluator (calib/observe.h: the scalar
 * kernels, one heap buffer per value), so pass tests can compare a graph's output before and
 * after a rewrite without generating and compiling C. */
#ifndef MVIT_TEST_IR_EXEC_H
#define MVIT_TEST_IR_EXEC_H

#include <stdlib.h>
#include <string.h>

#include "calib/observe.h"
#include "kernels/mvk-prelude.h"

/* Runs g on input; copies the graph output (numel floats) to out. */
static void ir_exec(const mvit_graph *g, const float *input, float *out)
{
    float **buf = mvit_eval_alloc(g);
    mvit_eval_f32(g, input, buf);
    memcpy(out, buf[g->output], (size_t)mvit_value_bytes(&g->values[g->output]));
    mvit_eval_free(g, buf);
}

#endif
