/*
 * test_graph.c - structural invariants of built op lists, for every family
 * fixture: unique parameter names, every parameter owned, every input
 * written before it is read, views on roots only, linear shapes matching
 * their weights, and the memory plan never overlapping live tensors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "graph.h"
#include "model_fixtures.h"
#include "plan.h"
#include "model.h"

static void check_graph(const struct ax_config *cfg)
{
	struct ax_graph g;
	struct ax_diag d;
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(cfg, &g, &d), AX_OK);
	assert_true(g.logits >= 0);

	/* unique parameter names, each read by some op */
	char (*names)[192] = calloc((size_t)g.n_params, sizeof *names);
	assert_non_null(names);
	for (int32_t p = 0; p < g.n_params; p++) {
		assert_true(g.params[p].owner >= 0);
		ax_graph_param_name(&g, p, names[p], sizeof names[p]);
		for (int32_t q = 0; q < p; q++)
			if (!strcmp(names[p], names[q]))
				fail_msg("duplicate parameter name %s", names[p]);
	}
	free(names);

	/* every input was written by an earlier op (directly or via a view
	 * or the root the view belongs to) */
	bool *written = calloc((size_t)g.n_tensors, sizeof *written);
	assert_non_null(written);
	for (int32_t i = 0; i < g.n_ops; i++) {
		const struct ax_op *op = &g.ops[i];
		for (int k = 0; k < AX_OP_MAX_IN; k++) {
			int32_t t = op->in[k];
			if (t < 0)
				continue;
			int32_t r = g.tensors[t].parent >= 0 ? g.tensors[t].parent : t;
			if (!written[t] && !written[r])
				fail_msg("op %d reads tensor %d before it is written", i, t);
		}
		assert_true(op->out >= 0);
		written[op->out] = true;
		int32_t r = g.tensors[op->out].parent;
		if (r >= 0)
			written[r] = true;   /* LSRA writes its output by slices */
		if (r >= 0) {
			assert_int_equal(g.tensors[r].parent, -1);
			assert_true(g.tensors[op->out].offset + g.tensors[op->out].width <=
				    g.tensors[r].width);
		}
		if (op->kind == AX_OP_LINEAR) {
			const struct ax_param *w = &g.params[op->param[0]];
			assert_int_equal(w->cols, g.tensors[op->in[0]].width);
			assert_int_equal(w->rows, g.tensors[op->out].width);
			assert_int_equal(g.tensors[op->in[0]].len, g.tensors[op->out].len);
		}
	}
	free(written);

	/* the plan: tensors alive at the same op never overlap */
	int64_t *rows = malloc((size_t)g.n_tensors * sizeof *rows);
	assert_non_null(rows);
	for (int32_t t = 0; t < g.n_tensors; t++)
		rows[t] = g.tensors[t].len == AX_LEN_SRC ? 7 : 5;
	struct ax_plan plan;
	assert_int_equal(ax_plan_build(&plan, &g, rows, NULL, &d), AX_OK);
	assert_true(plan.total <= plan.naive_total);
	assert_true(plan.total > 0);
	for (int32_t i = 0; i < g.n_ops; i++) {
		/* the output and each input of an op are alive together */
		const struct ax_op *op = &g.ops[i];
		int32_t ids[4] = { op->out, op->in[0], op->in[1], op->in[2] };
		for (int a = 0; a < 4; a++)
			for (int b = a + 1; b < 4; b++) {
				if (ids[a] < 0 || ids[b] < 0)
					continue;
				int32_t ra = g.tensors[ids[a]].parent >= 0 ? g.tensors[ids[a]].parent : ids[a];
				int32_t rb = g.tensors[ids[b]].parent >= 0 ? g.tensors[ids[b]].parent : ids[b];
				if (ra == rb)
					continue;
				int64_t a0 = plan.offset[ra], a1 = a0 + rows[ra] * g.tensors[ra].width;
				int64_t b0 = plan.offset[rb], b1 = b0 + rows[rb] * g.tensors[rb].width;
				if (a0 < b1 && b0 < a1)
					fail_msg("op %d: tensors %d and %d overlap", i, ra, rb);
			}
	}
	ax_plan_free(&plan);
	free(rows);
	ax_graph_free(&g);
}

static void test_transformer(void **state)
{
	(void)state;
	struct ax_config c = fx_transformer(64, 128, 4, 3, 100, 90, AX_SHARE_NONE);
	check_graph(&c);
	c = fx_transformer(64, 128, 4, 2, 100, 100, AX_SHARE_ALL);
	c.norm = AX_NORM_PRE;
	c.final_norm = true;
	check_graph(&c);
}

static void test_lite(void **state)
{
	(void)state;
	struct ax_config c = fx_lite(64, AX_CONV_DYNAMIC, true, 8, 100, 100, AX_SHARE_ALL);
	check_graph(&c);
	c = fx_lite(80, AX_CONV_LIGHTWEIGHT, false, 4, 100, 90, AX_SHARE_NONE);
	check_graph(&c);
}

static void test_other_families(void **state)
{
	(void)state;
	struct ax_config c = fx_lightconv(64, 128, 4, AX_CONV_DYNAMIC, true, 100, 100,
					  AX_SHARE_ALL);
	check_graph(&c);
	c = fx_evolved(64, 4, 100);
	check_graph(&c);
	c = fx_lite_lm(64, 70000);
	check_graph(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transformer),
		cmocka_unit_test(test_lite),
		cmocka_unit_test(test_other_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
