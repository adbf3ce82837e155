/*
 * cost.h - analytic params, MACs, other FLOPs and bytes of an op list.
 *
 * Every count is a polynomial of degree <= 2 in the source length S and
 * the target length T (docs/models.md §8.1), held as exact integer coefficients
 * of the monomials below. ax_cost_op dispatches to one cost function per
 * op kind (or family of kinds: convs, elementwise ops);
 * a model's cost is the sum over its ops, so the executor, which walks
 * the same ops, can be checked against it on every run.
 *
 * Conventions (docs/models.md §8.2, §8.3; README "Counting conventions"):
 *   exact  every multiply-accumulate the math performs;
 *   paper  reproduces the Lite Transformer paper's published figures
 *          (no biases, no light/dynamic taps, LN and scaling muls counted
 *          as numel, output layer excluded, embedding tables excluded
 *          from params).
 * Modes (docs/models.md §8.4):
 *   sequence     the decoder runs one teacher-forced pass over T tokens;
 *   incremental  the decoder runs T steps with caches; causal attention
 *                sees t keys at step t. Summed over t = 1..T.
 */
#ifndef AX_COST_H
#define AX_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"

enum ax_convention {
	AX_CONVENTION_EXACT,
	AX_CONVENTION_PAPER,
	AX_CONVENTION_COUNT
};

extern const char *const ax_convention_names[AX_CONVENTION_COUNT];

/* Monomials of a cost polynomial. */
enum ax_mono {
	AX_MONO_1,
	AX_MONO_S,
	AX_MONO_T,
	AX_MONO_SS,
	AX_MONO_ST,
	AX_MONO_TT,
	AX_MONO_COUNT
};
extern const char *const ax_mono_names[AX_MONO_COUNT];

/* Coefficients are held in half-units (h = 2 x coefficient): summing a
 * per-step cost over t = 1..T gives T(T+1)/2, whose coefficients are
 * halves, while the value at integer S, T is always an integer. MAC
 * polynomials always have integral coefficients; other_flops may not. */
struct ax_poly {
	int64_t h[AX_MONO_COUNT];
};

static inline int64_t ax_poly_eval(const struct ax_poly *p, int64_t S,
				   int64_t T)
{
	int64_t twice = p->h[AX_MONO_1] + p->h[AX_MONO_S] * S +
			p->h[AX_MONO_T] * T + p->h[AX_MONO_SS] * S * S +
			p->h[AX_MONO_ST] * S * T + p->h[AX_MONO_TT] * T * T;
	return twice / 2;
}

/* ax_poly_eval without overflow: false if the value in half-units
 * (twice the count) or any step towards it leaves int64, so true means
 * the count is below 2^62 in magnitude. */
static inline bool ax_poly_eval_checked(const struct ax_poly *p, int64_t S,
					int64_t T, int64_t *out)
{
	const int64_t x[AX_MONO_COUNT] = {
		[AX_MONO_1] = 1, [AX_MONO_S] = S, [AX_MONO_T] = T,
		[AX_MONO_SS] = S, [AX_MONO_ST] = S, [AX_MONO_TT] = T,
	};
	const int64_t y[AX_MONO_COUNT] = {
		[AX_MONO_1] = 1, [AX_MONO_S] = 1, [AX_MONO_T] = 1,
		[AX_MONO_SS] = S, [AX_MONO_ST] = T, [AX_MONO_TT] = T,
	};
	int64_t twice = 0, m, v;

	for (int i = 0; i < AX_MONO_COUNT; i++)
		if (__builtin_mul_overflow(x[i], y[i], &m) ||
		    __builtin_mul_overflow(p->h[i], m, &v) ||
		    __builtin_add_overflow(twice, v, &twice))
			return false;
	*out = twice / 2;
	return true;
}

static inline void ax_poly_add(struct ax_poly *acc, const struct ax_poly *p)
{
	for (int i = 0; i < AX_MONO_COUNT; i++)
		acc->h[i] += p->h[i];
}

/* The coefficient of monomial m as a double (exact for |c| < 2^52). */
static inline double ax_poly_coef(const struct ax_poly *p, enum ax_mono m)
{
	return (double)p->h[m] / 2.0;
}

/* The cost of one op. params is a constant; the rest are polynomials. */
struct ax_op_cost {
	int64_t params;
	struct ax_poly macs;        /* in the op's own bucket (op->tag) */
	struct ax_poly aux_macs;    /* `paper` numel muls of an op whose bucket
				       is not elementwise (attention q scaling);
				       they go to the elementwise bucket */
	struct ax_poly other_flops;
	struct ax_poly bytes;       /* fp32 bytes read + written */
};

void ax_cost_op(const struct ax_graph *g, int32_t op, enum ax_convention conv,
		enum ax_mode mode, struct ax_op_cost *out);

/* Params a parameter tensor contributes under conv (0 if excluded). */
int64_t ax_cost_param(const struct ax_param *p, enum ax_convention conv);

/* Per-layer totals; index 0..L_e-1 encoder, then decoder layers. */
#define AX_MAX_COST_LAYERS (2 * AX_MAX_LAYERS)

struct ax_layer_cost {
	enum ax_scope scope;
	int16_t layer;
	int64_t params;
	struct ax_poly macs;
};

/* A model's cost: totals, per macs_by_kind bucket, per scope, per layer. */
struct ax_cost {
	enum ax_convention convention;
	enum ax_mode mode;
	int64_t params;
	struct ax_poly macs;
	struct ax_poly other_flops;
	struct ax_poly bytes;
	struct ax_poly macs_by_kind[AX_KIND_COUNT];
	int64_t params_by_scope[AX_SCOPE_COUNT];
	struct ax_poly macs_by_scope[AX_SCOPE_COUNT];
	int n_layers;
	struct ax_layer_cost layers[AX_MAX_COST_LAYERS];  /* [0, n_layers) are
							     filled, the rest
							     unspecified */
};

void ax_cost_graph(const struct ax_graph *g, enum ax_convention conv,
		   enum ax_mode mode, struct ax_cost *out);

/* Adds one op's cost to the model totals, per kind and per scope (not to a
 * layer slot): the accumulation ax_cost_graph and the fast evaluator share. */
void ax_cost_add_op(struct ax_cost *out, const struct ax_op *op,
		    const struct ax_op_cost *c);

/* AX_OK if every polynomial of c (totals, kinds, scopes, layers)
 * evaluates at (S, T) within int64, so ax_poly_eval() and
 * ax_result_fill() are safe there; else AX_ERR_LIMIT naming the lengths
 * (d->file is left empty for the caller to fill). */
enum ax_status ax_cost_check(const struct ax_cost *c, int64_t S, int64_t T,
			     struct ax_diag *d);

/* Analytic counts cannot know which adaptive-input band a token falls in
 * and assume band 0 (d x d per token, the largest). For known tokens, the
 * exact count is sum over tokens of d_b x d; this returns that minus the
 * band-0 assumption (<= 0; 0 for models without adaptive input). */
int64_t ax_cost_adaptive_input_delta(const struct ax_graph *g,
				     const int32_t *tokens, int64_t n);
/* The same for one op (0 unless it is an adaptive input op). */
int64_t ax_cost_adaptive_input_op_delta(const struct ax_graph *g, int32_t op,
					const int32_t *tokens, int64_t n);

#endif
