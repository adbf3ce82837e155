/*
 * plan.c - liveness-based arena planning (see plan.h).
 *
 * 1. Lifetimes: a root tensor is born at the first op that writes it (or
 *    any of its views) and dies after the last op that reads or writes it.
 * 2. Placement: tensors in order of birth take the lowest offset where
 *    they fit among the tensors alive at the same time (first fit). Block
 *    offsets are multiples of 16 floats (64 bytes), and the executor
 *    allocates its arenas on a cache line, so every row start of a tensor
 *    whose row stride is a multiple of 16 floats is cache-line aligned.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 16

struct interval {
	int32_t tensor;
	int32_t birth, death;   /* op indices, inclusive */
	int64_t size;           /* floats, aligned */
	int64_t offset;
};

static int by_birth(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;
	if (x->birth != y->birth)
		return x->birth < y->birth ? -1 : 1;
	return x->tensor < y->tensor ? -1 : x->tensor > y->tensor;
}

static int by_offset(const void *a, const void *b)
{
	const struct interval *const *x = a, *const *y = b;
	return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

static int32_t root_of(const struct ax_graph *g, int32_t t)
{
	return g->tensors[t].parent >= 0 ? g->tensors[t].parent : t;
}

enum ax_status ax_plan_build(struct ax_plan *p, const struct ax_graph *g,
			     const int64_t *rows_of, const bool *persistent,
			     struct ax_diag *d)
{
	memset(p, 0, sizeof *p);
	int32_t n = g->n_tensors;
	p->n_tensors = n;
	p->offset = calloc((size_t)n + 1, sizeof *p->offset);
	p->rows = calloc((size_t)n + 1, sizeof *p->rows);
	int32_t *birth = malloc(((size_t)n + 1) * sizeof *birth);
	int32_t *death = malloc(((size_t)n + 1) * sizeof *death);
	struct interval *iv = malloc(((size_t)n + 1) * sizeof *iv);
	struct interval **live = malloc(((size_t)n + 1) * sizeof *live);
	if (!p->offset || !p->rows || !birth || !death || !iv || !live) {
		free(birth), free(death), free(iv), free(live);
		ax_plan_free(p);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0,
				   "cannot allocate the memory plan");
	}
	for (int32_t t = 0; t < n; t++) {
		birth[t] = INT32_MAX;
		death[t] = -1;
	}
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		for (int k = 0; k < AX_OP_MAX_IN; k++) {
			if (op->in[k] < 0)
				continue;
			int32_t r = root_of(g, op->in[k]);
			death[r] = i > death[r] ? i : death[r];
			birth[r] = i < birth[r] ? i : birth[r];
		}
		int32_t r = root_of(g, op->out);
		birth[r] = i < birth[r] ? i : birth[r];
		death[r] = i > death[r] ? i : death[r];
	}
	int32_t last = g->n_ops - 1;
	int32_t m = 0;
	for (int32_t t = 0; t < n; t++) {
		if (g->tensors[t].parent >= 0 || death[t] < 0)
			continue;
		bool keep = (persistent && persistent[t]) || t == g->logits ||
			    t == g->enc_out;
		int64_t size = rows_of[t] * g->tensors[t].width;
		size = (size + ALIGN - 1) / ALIGN * ALIGN;
		iv[m++] = (struct interval){
			.tensor = t, .birth = keep ? 0 : birth[t],
			.death = keep ? last : death[t], .size = size,
		};
		p->rows[t] = rows_of[t];
		p->naive_total += size;
	}
	qsort(iv, (size_t)m, sizeof *iv, by_birth);

	/* First fit: scan the live blocks in offset order for a gap. */
	int32_t n_live = 0;
	for (int32_t i = 0; i < m; i++) {
		int32_t k = 0;
		for (int32_t j = 0; j < n_live; j++)   /* retire the dead */
			if (live[j]->death >= iv[i].birth)
				live[k++] = live[j];
		n_live = k;
		qsort(live, (size_t)n_live, sizeof *live, by_offset);
		int64_t at = 0;
		for (int32_t j = 0; j < n_live; j++) {
			if (live[j]->offset - at >= iv[i].size)
				break;
			int64_t end = live[j]->offset + live[j]->size;
			at = end > at ? end : at;
		}
		iv[i].offset = at;
		live[n_live++] = &iv[i];
		if (at + iv[i].size > p->total)
			p->total = at + iv[i].size;
	}
	for (int32_t i = 0; i < m; i++)
		p->offset[iv[i].tensor] = iv[i].offset;
	/* views: their root's offset plus the column offset (row stride is
	 * the root's width) */
	for (int32_t t = 0; t < n; t++) {
		const struct ax_tensor *x = &g->tensors[t];
		if (x->parent >= 0) {
			p->offset[t] = p->offset[x->parent] + x->offset;
			p->rows[t] = p->rows[x->parent];
		}
	}
	free(birth), free(death), free(iv), free(live);
	return AX_OK;
}

void ax_plan_free(struct ax_plan *p)
{
	free(p->offset);
	free(p->rows);
	memset(p, 0, sizeof *p);
}
