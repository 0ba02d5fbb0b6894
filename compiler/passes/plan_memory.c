/* Static memory plan: every intermediate value and every kernel scratch buffer gets a fixed
 * byte offset in one arena. Lifetimes are [producing node, last reading node] in execution
 * order; blocks are placed largest first at the lowest 64-byte aligned offset that does not
 * overlap a block whose lifetime intersects (greedy by size, as TFLite's arena planner). */
#include <stdlib.h>

#include "passes/passes.h"

#define ARENA_ALIGN 64

typedef struct block {
    int first, last;   /* node indices, inclusive */
    int64_t bytes;
    int64_t *offset;   /* where to store the result */
    int order;         /* creation order, for a deterministic sort */
} block;

static int by_size_desc(const void *pa, const void *pb)
{
    const block *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    return a->order - b->order;
}

static int64_t align_up(int64_t v) { return (v + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

static int last_use(const mvit_graph *g, int v)
{
    int last = -1;
    for (int i = 0; i < g->num_nodes; i++) {
        const mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] == v)
                last = i;
        if (n->residual == v)
            last = i;
    }
    return last;
}

/* Lowest offset for b that does not collide with any placed block alive at the same time. */
static int64_t place(const block *placed, int nplaced, const block *b)
{
    int64_t off = 0;
    for (;;) {
        int moved = 0;
        for (int i = 0; i < nplaced; i++) {
            const block *p = &placed[i];
            if (p->last < b->first || b->last < p->first)
                continue;
            if (off < *p->offset + p->bytes && *p->offset < off + b->bytes) {
                off = align_up(*p->offset + p->bytes);
                moved = 1;
            }
        }
        if (!moved)
            return off;
    }
}

int pass_plan_memory(mvit_graph *g, mvit_diag *d)
{
    (void)d;
    block *blocks = mvit_xcalloc((size_t)2 * g->num_nodes + 1, sizeof *blocks);
    int nb = 0;
    for (int i = 0; i < g->num_nodes; i++) {
        mvit_node *n = &g->nodes[i];
        if (n->dead)
            continue;
        mvit_value *v = &g->values[n->output];
        v->offset = -1;
        if (v->kind == MVIT_VALUE_TEMP) {
            int last = last_use(g, n->output);
            blocks[nb] = (block){i, last < i ? i : last, align_up(mvit_value_bytes(v)), &v->offset,
                                 nb};
            nb++;
        }
        n->scratch_offset = -1;
        if (n->scratch_bytes > 0) {
            blocks[nb] = (block){i, i, align_up(n->scratch_bytes), &n->scratch_offset, nb};
            nb++;
        }
    }
    qsort(blocks, (size_t)nb, sizeof *blocks, by_size_desc);
    int64_t total = 0;
    for (int i = 0; i < nb; i++) {
        *blocks[i].offset = place(blocks, i, &blocks[i]);
        if (*blocks[i].offset + blocks[i].bytes > total)
            total = *blocks[i].offset + blocks[i].bytes;
    }
    g->arena_bytes = total;
    free(blocks);
    return 0;
}
