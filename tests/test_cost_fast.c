/*
 * test_cost_fast.c - the sweep's fast evaluator (src/fastcost.h) against
 * the reference, ax_model_build() then ax_cost_graph(): every field of
 * struct ax_cost equal, on thousands of random valid configs of every
 * family (random widths, heads, kernels, conv types, uniform and per-layer
 * stacks, translation and language models, adaptive input/softmax, both
 * norms, every sharing), under both conventions and both modes, with the
 * polynomials also evaluated at several (S, T). One evaluator serves all
 * configs, so its layer cache is hit within a model, across models, and
 * cleared when full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cost.h"
#include "fastcost.h"
#include "graph.h"
#include "model.h"

static struct ax_cost ref, fast;   /* large: keep off the stack */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t pick(const int64_t *v, int n)
{
	return v[next() % (uint64_t)n];
}

#define PICK(...) pick((const int64_t[]){ __VA_ARGS__ }, \
		       (int)(sizeof((const int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)))

static bool coin(void)
{
	return next() & 1;
}

/* One layer's fields, as family and side read them (config.h's table). */
static struct ax_layer_config random_layer(const struct ax_config *c,
					   enum ax_side side)
{
	int64_t d = c->embed_dim;
	bool cross = side == AX_SIDE_DECODER && c->task == AX_TASK_TRANSLATION;
	struct ax_layer_config l = { 0 };
	switch (c->family) {
	case AX_FAMILY_TRANSFORMER:
		l.ffn_dim = PICK(d, 2 * d, 4 * d, 100);
		l.attention_heads = PICK(1, 2, 4, 8);
		break;
	case AX_FAMILY_LITE:
		l.ffn_dim = PICK(d, 2 * d, 96);
		l.attention_dim = PICK(d / 2, d / 4);
		l.conv_dim = d - l.attention_dim;
		l.attention_branch_heads = PICK(1, 2, 4);
		l.conv_type = coin() ? AX_CONV_DYNAMIC : AX_CONV_LIGHTWEIGHT;
		l.conv_heads = PICK(1, 2, 4, 8);
		l.glu = l.conv_type == AX_CONV_DYNAMIC && coin();
		l.kernel_size = PICK(1, 3, 4, 7, 15, 31);
		if (cross)
			l.attention_heads = PICK(1, 2, 4, 8);
		break;
	case AX_FAMILY_LIGHTCONV:
		l.ffn_dim = PICK(d, 4 * d, 80);
		l.conv_type = coin() ? AX_CONV_DYNAMIC : AX_CONV_LIGHTWEIGHT;
		l.conv_dim = PICK(d, d / 2, 2 * d);
		l.conv_heads = PICK(1, 2, 4, 16);
		l.glu = coin();
		l.kernel_size = PICK(1, 2, 3, 7, 15, 31);
		if (cross)
			l.attention_heads = PICK(1, 2, 4, 8);
		break;
	case AX_FAMILY_EVOLVED:
		l.attention_heads = PICK(1, 2, 4, 8, 16);
		break;
	default:
		break;
	}
	return l;
}

/* A stack of 1..6 layers: one layer repeated, or (per-layer lists) drawn
 * layer by layer, sometimes from a pool of two so that layers repeat. */
static void random_stack(const struct ax_config *c, struct ax_stack_config *st,
			 enum ax_side side)
{
	st->layers = 1 + (int64_t)(next() % 6);
	struct ax_layer_config pool[2] = { random_layer(c, side),
					   random_layer(c, side) };
	int how = (int)(next() % 3);
	for (int64_t l = 0; l < st->layers; l++)
		st->layer[l] = how == 0 ? pool[0] :
			       how == 1 ? pool[next() % 2] : random_layer(c, side);
}

static void random_config(enum ax_family fam, struct ax_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "random-%s", ax_family_names[fam]);
	c->family = fam;
	c->task = fam != AX_FAMILY_EVOLVED && next() % 3 == 0 ?
		  AX_TASK_LANGUAGE_MODEL : AX_TASK_TRANSLATION;
	c->embed_dim = PICK(64, 96, 128, 192, 256, 512);
	c->norm = coin() ? AX_NORM_PRE : AX_NORM_POST;
	c->final_norm = c->norm == AX_NORM_PRE && coin();
	if (fam == AX_FAMILY_EVOLVED) {
		c->norm = AX_NORM_PRE;
		c->final_norm = true;
	}
	if (fam == AX_FAMILY_LITE && c->task == AX_TASK_LANGUAGE_MODEL) {
		c->norm = AX_NORM_PRE;
		c->final_norm = false;
	}
	c->vocab_target = PICK(50, 1000, 8848, 32768);
	if (c->task == AX_TASK_TRANSLATION) {
		c->vocab_source = PICK(50, 1000, 6632, 32768);
		c->share = fam == AX_FAMILY_EVOLVED ? AX_SHARE_ALL :
			   (enum ax_share)(next() % AX_SHARE_COUNT);
		if (c->share == AX_SHARE_ALL)
			c->vocab_source = c->vocab_target;
		random_stack(c, &c->encoder, AX_SIDE_ENCODER);
	} else if (coin()) {
		struct ax_adaptive_config *a = &c->adaptive;
		c->vocab_target = PICK(1000, 8848, 32768);
		a->enabled = true;
		a->n_cutoffs = 1 + (int)(next() % 3);
		for (int i = 0; i < a->n_cutoffs; i++)
			a->cutoff[i] = (i + 1) * c->vocab_target / (a->n_cutoffs + 2) +
				       (int64_t)(next() % 7);
		a->factor = PICK(1, 2, 4);
		a->tie_weights = coin();
		a->tie_proj = a->tie_weights && coin();
		c->share = AX_SHARE_NONE;
	} else {
		c->share = coin() ? AX_SHARE_DECODER : AX_SHARE_NONE;
	}
	random_stack(c, &c->decoder, AX_SIDE_DECODER);
}

static void assert_poly_equal(const struct ax_poly *a, const struct ax_poly *b,
			      const char *what, const struct ax_config *c)
{
	static const int64_t lens[][2] = { { 0, 0 }, { 1, 1 }, { 30, 30 },
					   { 17, 45 }, { 512, 7 }, { 1024, 1024 } };
	for (int m = 0; m < AX_MONO_COUNT; m++)
		if (a->h[m] != b->h[m]) {
			print_error("%s: %s coefficient %s: %lld (reference) != %lld (fast)\n",
				    c->name, what, ax_mono_names[m],
				    (long long)a->h[m], (long long)b->h[m]);
			fail();
		}
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
		assert_int_equal(ax_poly_eval(a, lens[k][0], lens[k][1]),
				 ax_poly_eval(b, lens[k][0], lens[k][1]));
}

static void assert_cost_equal(const struct ax_cost *a, const struct ax_cost *b,
			      const struct ax_config *c)
{
	assert_int_equal(a->convention, b->convention);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->params, b->params);
	assert_poly_equal(&a->macs, &b->macs, "macs", c);
	assert_poly_equal(&a->other_flops, &b->other_flops, "other_flops", c);
	assert_poly_equal(&a->bytes, &b->bytes, "bytes", c);
	for (int k = 0; k < AX_KIND_COUNT; k++)
		assert_poly_equal(&a->macs_by_kind[k], &b->macs_by_kind[k],
				  ax_cost_kind_names[k], c);
	for (int s = 0; s < AX_SCOPE_COUNT; s++) {
		assert_int_equal(a->params_by_scope[s], b->params_by_scope[s]);
		assert_poly_equal(&a->macs_by_scope[s], &b->macs_by_scope[s],
				  ax_scope_names[s], c);
	}
	assert_int_equal(a->n_layers, b->n_layers);
	for (int i = 0; i < a->n_layers; i++) {
		assert_int_equal(a->layers[i].scope, b->layers[i].scope);
		assert_int_equal(a->layers[i].layer, b->layers[i].layer);
		assert_int_equal(a->layers[i].params, b->layers[i].params);
		assert_poly_equal(&a->layers[i].macs, &b->layers[i].macs, "layer", c);
	}
}

/* The parameter-slot layout ax_cost_op relies on (graph.h): two slots,
 * or two per band for the adaptive ops; every other slot is -1. */
static void assert_param_slots(const struct ax_graph *g)
{
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		int used = op->kind == AX_OP_ADAPTIVE_INPUT ||
			   op->kind == AX_OP_ADAPTIVE_SOFTMAX ? 2 * (int)op->bands : 2;
		for (int s = used; s < AX_OP_MAX_PARAMS; s++)
			assert_int_equal(op->param[s], -1);
	}
}

#define CONFIGS_PER_FAMILY 1500

static void test_random_configs(void **state)
{
	(void)state;
	struct ax_fastcost fc;
	struct ax_graph g;
	struct ax_config *c = malloc(sizeof *c);
	assert_non_null(c);
	ax_fastcost_init(&fc);
	ax_graph_init(&g);
	for (int f = 0; f < AX_FAMILY_COUNT; f++) {
		int valid = 0, invalid = 0;
		while (valid < CONFIGS_PER_FAMILY) {
			struct ax_diag d = { 0 };
			random_config((enum ax_family)f, c);
			if (ax_config_validate(c, &d) != AX_OK) {
				if (++invalid > CONFIGS_PER_FAMILY)
					print_error("%s: too many invalid, last: %s\n",
						    c->name, d.msg);
				assert_true(invalid <= CONFIGS_PER_FAMILY);
				continue;
			}
			valid++;
			assert_int_equal(ax_model_build(c, &g, &d), AX_OK);
			assert_param_slots(&g);
			for (int conv = 0; conv < AX_CONVENTION_COUNT; conv++)
				for (int mode = 0; mode < AX_MODE_COUNT; mode++) {
					ax_cost_graph(&g, conv, mode, &ref);
					assert_int_equal(ax_fastcost_eval(&fc, c, conv, mode,
									  &fast, &d), AX_OK);
					assert_cost_equal(&ref, &fast, c);
				}
		}
	}
	/* the cache was used across models, and was cleared when full */
	assert_true(fc.hits > fc.misses);
	assert_true(fc.misses > 1024);
	ax_graph_free(&g);
	ax_fastcost_free(&fc);
	free(c);
}

/* Building with every layer kept is the plain build, op for op. */
static void test_build_all_layers(void **state)
{
	(void)state;
	static const uint64_t all[AX_SIDE_COUNT] = { ~(uint64_t)0, ~(uint64_t)0 };
	struct ax_graph a, b;
	struct ax_config *c = malloc(sizeof *c);
	assert_non_null(c);
	ax_graph_init(&a);
	ax_graph_init(&b);
	for (int i = 0; i < 200; i++) {
		struct ax_diag d = { 0 };
		random_config((enum ax_family)(i % AX_FAMILY_COUNT), c);
		if (ax_config_validate(c, &d) != AX_OK)
			continue;
		assert_int_equal(ax_model_build(c, &a, &d), AX_OK);
		assert_int_equal(ax_model_build_layers(c, &b, all, &d), AX_OK);
		assert_int_equal(a.n_ops, b.n_ops);
		assert_int_equal(a.n_tensors, b.n_tensors);
		assert_int_equal(a.n_params, b.n_params);
		for (int32_t k = 0; k < a.n_ops; k++)
			assert_memory_equal(&a.ops[k], &b.ops[k], sizeof a.ops[k]);
	}
	ax_graph_free(&a);
	ax_graph_free(&b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_configs),
		cmocka_unit_test(test_build_all_layers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
