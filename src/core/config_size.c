/*
 * config_size.c - the whole-model size limit: a generous bound of a
 * config's parameters from its widths, refused above AX_MAX_PARAMS so that
 * every count fits in 64 bits (the last check of config_check.c).
 */
#include <stdio.h>

#include "config_impl.h"
#include "util.h"


static int64_t sat_mul3(int64_t a, int64_t b, int64_t c)
{
	return ax_sat_mul(ax_sat_mul(a, b), c);
}

/* The largest term of the bound, for the message and the position. */
struct size_bound {
	int64_t total;
	int64_t worst;
	const void *worst_field;
	char worst_what[PATH_LEN + 32];
};

static void bound_add(struct size_bound *b, int64_t v, const void *field,
		      const char *what)
{
	b->total = ax_sat_add(b->total, v);
	if (v > b->worst) {
		b->worst = v;
		b->worst_field = field;
		snprintf(b->worst_what, sizeof b->worst_what, "%s", what);
	}
}

/*
 * An upper bound of one layer's parameters from its widths, generous
 * rather than exact (the builders are the exact count): every linear is
 * (in+1) x out with in, out among d, f, the branch widths and H*K, and a
 * layer has at most the linears counted here (docs/models.md §5, §6):
 *   ffn             2 (d+1)(f+1)
 *   full attention  8 (d+1)^2       self + cross, 4 projections each
 *   evolved cell    64 (d+1)^2      all its widths are <= 4d (the family
 *                                   table's attention_bound)
 *   LSRA attention  4 (a+1)^2
 *   conv block      4 (d+1)(c+1) + 2 (c+1) H K    linear1 (GLU), linear2,
 *                                                 kernel generation
 *   norms           16 (d+1)
 */
static void bound_layer(const struct ax_check *c, struct size_bound *b,
			enum ax_side side, int64_t i, unsigned use)
{
	const struct ax_config *g = c->cfg;
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	int64_t d1 = g->embed_dim + 1;
	char what[PATH_LEN + 32];

	bound_add(b, ax_sat_mul(16, d1), &g->embed_dim, "embed_dim");
	if (use & AX_USE(AX_RULE_FFN)) {
		ax_layer_path(what, sizeof what, side, NULL, "ffn_dim", i);
		bound_add(b, sat_mul3(2, d1, l->ffn_dim + 1), &l->ffn_dim, what);
	}
	if (use & AX_USE(AX_RULE_HEADS))
		bound_add(b, sat_mul3(c->rules->attention_bound(g), d1, d1),
			  &g->embed_dim, "embed_dim");
	if (use & AX_USE(AX_RULE_ATT_BRANCH)) {
		ax_layer_path(what, sizeof what, side, "attention_branch", "dim", i);
		bound_add(b, sat_mul3(4, l->attention_dim + 1,
				      l->attention_dim + 1), &l->attention_dim,
			  what);
	}
	if (use & AX_USE(AX_RULE_CONV)) {
		const char *group = c->rules->map_name(g, AX_RULE_CONV);
		int64_t c1 = l->conv_dim + 1;
		ax_layer_path(what, sizeof what, side, group, "dim", i);
		bound_add(b, sat_mul3(4, d1, c1), &l->conv_dim, what);
		ax_layer_path(what, sizeof what, side, group, "heads", i);
		bound_add(b, ax_sat_mul(sat_mul3(2, c1, l->conv_heads),
					l->kernel_size), &l->conv_heads, what);
	}
}

/*
 * Refuses models whose parameter bound exceeds AX_MAX_PARAMS (runs after
 * the range and cross-field checks, so every width is in range). Below
 * it, every cost coefficient fits in 64 bits with room to spare (MACs
 * per token and bytes are small multiples of params), so only the
 * evaluation at very long lengths can overflow, and ax_cost_check()
 * catches that.
 */
enum ax_status ax_cfg_check_size(const struct ax_check *c)
{
	const struct ax_config *g = c->cfg;
	struct size_bound b = { 0 };
	int64_t d1 = g->embed_dim + 1;

	/* tables: source, target, output (+ position rows, adaptive tails) */
	bound_add(&b, ax_sat_mul(g->vocab_source, d1), &g->vocab_source,
		  "vocab.source x embed_dim");
	bound_add(&b, sat_mul3(2, g->vocab_target, d1), &g->vocab_target,
		  "vocab.target x embed_dim");
	bound_add(&b, ax_sat_mul(4096, d1), &g->embed_dim, "embed_dim");
	if (g->adaptive.enabled)
		bound_add(&b, sat_mul3(32, d1, d1), &g->embed_dim, "embed_dim");
	for (int side = 0; side < AX_SIDE_COUNT; side++) {
		const struct ax_stack_config *s =
			side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
		unsigned use = c->rules->layer_uses(g, (enum ax_side)side);
		for (int64_t i = 0; i < s->layers && i < AX_MAX_LAYERS; i++)
			bound_layer(c, &b, (enum ax_side)side, i, use);
	}
	if (b.total <= AX_MAX_PARAMS)
		return AX_OK;
	return ax_check_fail(c, b.worst_field, AX_ERR_LIMIT,
			     "the model is too large: its parameters may reach %.3g "
			     "(the largest term, %s, gives %.3g), and archex accepts "
			     "at most 2^40 = %.3g so that every count fits in 64 bits",
			     (double)b.total, b.worst_what, (double)b.worst,
			     (double)AX_MAX_PARAMS);
}
