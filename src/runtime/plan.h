/*
 * plan.h - the memory planner: gives every root tensor of an op list an
 * offset in one activation arena, reusing memory between tensors whose
 * lifetimes do not overlap (first fit over liveness intervals).
 *
 * A tensor's rows are a capacity per stream: rows[AX_LEN_SRC] and
 * rows[AX_LEN_TGT] (e.g. B*S and B*T for batched scoring, or the beam width
 * for one decoding step). Tensors marked persistent live for the whole run
 * (KV caches, cross-attention memory, the encoder output); their rows may
 * be set separately (e.g. beam * T_max for a self-attention cache).
 * Views (parent >= 0) share their root's storage and get no slot.
 */
#ifndef AX_PLAN_H
#define AX_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"

struct ax_plan {
	int32_t n_tensors;
	int64_t *offset;     /* per tensor, in floats; views: root + column */
	int64_t *rows;       /* per root tensor: rows allocated */
	int64_t total;       /* arena size in floats */
	int64_t naive_total; /* what no reuse would need, for reporting */
};

/* rows_of[t] (per tensor, ignored for views) gives each root's row
 * capacity; persistent[t] keeps t alive from its first to the last op.
 * Output of the graph (g->logits) and g->enc_out are always kept until the
 * end. */
enum ax_status ax_plan_build(struct ax_plan *p, const struct ax_graph *g,
			     const int64_t *rows_of, const bool *persistent,
			     struct ax_diag *d);
void ax_plan_free(struct ax_plan *p);

#endif
