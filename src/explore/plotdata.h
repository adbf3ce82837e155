/*
 * plotdata.h - the data files of the gnuplot templates in plots/, written
 * from archex's own counts (never from published MACs):
 *   tradeoff.gp   accuracy vs MACs per family;
 *   breakdown.gp  MACs per op kind, per config or per layer;
 *   seqlen.gp     MACs vs sequence length (exact polynomial evaluation).
 * Writers take a FILE * and use the C locale's '.'; MACs are in millions.
 */
#ifndef AX_PLOTDATA_H
#define AX_PLOTDATA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cost.h"
#include "graph.h"

/* One point of a trade-off curve. */
struct ax_tradeoff_point {
	const char *family;      /* legend entry, e.g. "Lite Transformer" */
	const char *config;
	double macs;             /* archex's count */
	double value;            /* published accuracy */
	bool approx;             /* read off a figure (ax_published_approx) */
};

/* Blocks per family in first-appearance order, each sorted by MACs;
 * columns MACs (M), value, config, approx (1 or 0). */
void ax_plotdata_tradeoff(FILE *f, const struct ax_tradeoff_point *pts, int n);

/* One bar per config: macs_by_kind at (S, T), in M (S = 0 for the
 * configs whose is_lm is set). */
void ax_plotdata_breakdown_kinds(FILE *f, const char *const *names,
				 const struct ax_cost *costs, const bool *is_lm,
				 int n, int64_t S, int64_t T);

/* One bar per layer of g (plus "embed" and "output" bars), MACs per kind
 * at (S, T), in M; costs each op with ax_cost_op. */
void ax_plotdata_breakdown_layers(FILE *f, const struct ax_graph *g,
				  enum ax_convention conv, enum ax_mode mode,
				  int64_t S, int64_t T);

/* Column 1 the length N (S = T = N; a language model's S is 0), then one
 * column per series: MACs(N, N) in M from the exact polynomial. */
void ax_plotdata_seqlen(FILE *f, const char *const *names,
			const struct ax_cost *costs, const bool *is_lm, int n,
			const int64_t *lengths, int n_len);

#endif
