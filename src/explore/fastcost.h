/*
 * fastcost.h - a config's cost exactly as ax_model_build() then
 * ax_cost_graph() give it, for sweeps, without building every layer.
 *
 * A layer builder (models/) maps x(rows, d) to x(rows, d) and reads only
 * the config's top-level fields and its own struct ax_layer_config. So in
 * models with equal top-level fields, two layers of the same side with
 * equal layer configs are equal op sequences over equally shaped tensors,
 * and ax_cost_op() gives them equal costs. The evaluator builds
 * (ax_model_build_layers) the embeddings, the final norms, the output
 * layer and only the layers whose sums it does not hold yet, costs those
 * ops with ax_cost_op(), and takes every other layer's sums from a cache
 * keyed on (convention, mode, top-level fields, side, layer config),
 * compared word by word, not by hash. Counts are integers, so the totals
 * equal the reference's bit for bit; tests/test_cost_fast.c checks every
 * field on thousands of random configs of every family. The plain path
 * stays the reference: nothing else in archex uses this one.
 *
 * The cache lives in the struct (one per thread; no global state).
 */
#ifndef AX_FASTCOST_H
#define AX_FASTCOST_H

#include <stdint.h>

#include "config.h"
#include "cost.h"
#include "diag.h"
#include "graph.h"
#include "model.h"

struct ax_fastcost_entry;   /* one cached layer (fastcost.c) */

struct ax_fastcost {
	struct ax_graph g;                 /* the op list minus cached layers */
	struct ax_fastcost_entry *entry;   /* allocated on first use */
	int32_t *slot;                     /* hash table of entry indices */
	int32_t n_entries;
	uint64_t stamp;                    /* evaluations so far */
	int64_t hits, misses;              /* layer lookups, for benchmarks */
};

void ax_fastcost_init(struct ax_fastcost *fc);
void ax_fastcost_free(struct ax_fastcost *fc);
/* Forgets every cached layer (benchmarks of a cold cache, tests). */
void ax_fastcost_clear(struct ax_fastcost *fc);

/* cfg's cost under conv and mode into out: every field equal to what
 * ax_model_build() and ax_cost_graph() give (the layer slots past
 * n_layers are unspecified in both). cfg must have passed
 * ax_config_validate(). Errors as ax_model_build(). */
enum ax_status ax_fastcost_eval(struct ax_fastcost *fc,
				const struct ax_config *cfg,
				enum ax_convention conv, enum ax_mode mode,
				struct ax_cost *out, struct ax_diag *d);

#endif
