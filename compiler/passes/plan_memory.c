/* Static memory plan: every intermediate value and every kernel scratch buffer gets a fixed
 * byte offset in one arena. Lifetimes are [producing node, last reading node] in execution
 * order; each block goes to the lowest 64-byte aligned offset that does not overlap a block
 * whose lifetime intersects. The placement order decides the result (greedy by size, as
 * TFLite's arena planner, is not always best), so several orders are tried and the smallest
 * arena wins; ties keep the earlier order, so the plan is deterministic. */
#include <stdlib.h>

#include "passes/passes.h"

#define ARENA_ALIGN 64

typedef struct block {
    int first, last;   /* node indices, inclusive */
    int64_t bytes;
    int64_t *offset;   /* where to store the result */
    int order;         /* creation order, for a deterministic sort */
    int64_t placed;    /* offset under the order being tried */
} block;

static int by_size_desc(const void *pa, const void *pb)
{
    const block *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? 1 : -1;
    return a->order - b->order;
}

static int by_first_use(const void *pa, const void *pb)
{
    const block *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first - b->first;
    return by_size_desc(pa, pb);
}

static int by_area_desc(const void *pa, const void *pb)
{
    const block *a = pa, *b = pb;
    int64_t x = a->bytes * (a->last - a->first + 1), y = b->bytes * (b->last - b->first + 1);
    if (x != y)
        return x < y ? 1 : -1;
    return by_size_desc(pa, pb);
}

static int by_lifetime_desc(const void *pa, const void *pb)
{
    const block *a = pa, *b = pb;
    if (a->last - a->first != b->last - b->first)
        return (b->last - b->first) - (a->last - a->first);
    return by_size_desc(pa, pb);
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
            if (off < p->placed + p->bytes && p->placed < off + b->bytes) {
                off = align_up(p->placed + p->bytes);
                moved = 1;
            }
        }
        if (!moved)
            return off;
    }
}

/* Places the blocks in the given order; returns the arena size. */
static int64_t place_all(block *blocks, int nb)
{
    int64_t total = 0;
    for (int i = 0; i < nb; i++) {
        blocks[i].placed = place(blocks, i, &blocks[i]);
        if (blocks[i].placed + blocks[i].bytes > total)
            total = blocks[i].placed + blocks[i].bytes;
    }
    return total;
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
                                 nb, 0};
            nb++;
        }
        n->scratch_offset = -1;
        if (n->scratch_bytes > 0) {
            blocks[nb] = (block){i, i, align_up(n->scratch_bytes), &n->scratch_offset, nb, 0};
            nb++;
        }
    }
    static int (*const orders[])(const void *, const void *) = {by_size_desc, by_first_use,
                                                                 by_area_desc, by_lifetime_desc};
    int64_t best = -1;
    for (size_t o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        qsort(blocks, (size_t)nb, sizeof *blocks, orders[o]);
        int64_t total = place_all(blocks, nb);
        if (best < 0 || total < best) {
            best = total;
            for (int i = 0; i < nb; i++)
                *blocks[i].offset = blocks[i].placed;
        }
    }
    g->arena_bytes = best < 0 ? 0 : best;
    free(blocks);
    return 0;
}
