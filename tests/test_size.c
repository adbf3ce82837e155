/*
 * test_size.c - model bytes per precision and the pruning estimate
 * (size.h) against a closed form for the Transformer; the memory
 * prediction (ax_exec_memory) against the arenas ax_exec_init lays out
 * and against hand counts of K/V caches and conv rings; and the count
 * CLI's memory output and --prune/--beam errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_run.h"
#include "exec.h"
#include "model.h"
#include "model_fixtures.h"
#include "size.h"

/* Transformer, share none, sinusoidal positions: the quantizable weights
 * are the tables, the output matrix and the layers' linear weights;
 * everything else (biases, norms) stays fp32. */
static void test_transformer_bytes(void **state)
{
	(void)state;
	const int64_t d = 32, f = 64, L = 2, vs = 53, vt = 47;
	struct ax_config cfg = fx_transformer(d, f, 4, L, vs, vt, AX_SHARE_NONE);
	struct ax_graph g;
	struct ax_diag dg = { 0 };
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(&cfg, &g, &dg), AX_OK);
	struct ax_model_size z;
	ax_size_model(&g, 0, &z);
	int64_t q = d * (vs + 2 * vt) + L * (12 * d * d + 4 * d * f);
	int64_t rows = vs + 2 * vt + L * ((4 * d + f + d) + (8 * d + f + d));
	int64_t params = 0;
	for (int32_t p = 0; p < g.n_params; p++)
		params += g.params[p].rows * g.params[p].cols;
	assert_int_equal(z.params, params);
	assert_int_equal(z.quantizable, q);
	assert_int_equal(z.quantized_rows, rows);
	assert_int_equal(z.bytes[AX_PREC_FP32], 4 * params);
	assert_int_equal(z.bytes[AX_PREC_BF16], 4 * params - 2 * q);
	assert_int_equal(z.bytes[AX_PREC_INT8], 4 * params - 3 * q + 4 * rows);
	assert_int_equal(z.pruned_bytes[AX_PREC_INT8], z.bytes[AX_PREC_INT8]);

	/* half pruned: every matrix has an even size; at d = 32 the bitmap
	 * (n/8 bytes) beats 16-bit CSR (n + 4(rows+1) bytes) */
	ax_size_model(&g, 0.5, &z);
	assert_int_equal(z.kept, q / 2);
	assert_int_equal(z.index_bytes, q / 8);
	assert_int_equal(z.pruned_bytes[AX_PREC_FP32], 4 * (params - q) + 4 * q / 2 + q / 8);
	assert_int_equal(z.pruned_bytes[AX_PREC_INT8],
			 4 * (params - q) + q / 2 + 4 * rows + q / 8);
	ax_graph_free(&g);
}

/* ax_exec_memory equals what ax_exec_init plans, in both modes. */
static void check_memory(const struct ax_graph *g, const struct ax_exec_opts *o,
			 struct ax_exec_memory *m)
{
	struct ax_exec x;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_exec_memory(g, o, m, &d), AX_OK);
	assert_int_equal(ax_exec_init(&x, g, o, &d), AX_OK);
	assert_int_equal(m->weights, 4 * x.n_weights);
	assert_int_equal(m->activations + m->kv_cache,
			 4 * (x.plan_src.total + x.plan_tgt.total));
	assert_true(m->activations <= m->naive_activations);
	assert_true(m->scratch >= 4 * x.scratch_size);
	assert_int_equal(m->total, m->weights + m->activations + m->kv_cache +
			 m->conv_state + m->scratch);
	ax_exec_free(&x);
}

static void test_memory_transformer(void **state)
{
	(void)state;
	const int64_t d = 32, L = 2, B = 3, S = 9, T = 10;
	struct ax_config cfg = fx_transformer(d, 64, 4, L, 53, 47, AX_SHARE_NONE);
	struct ax_graph g;
	struct ax_diag dg = { 0 };
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(&cfg, &g, &dg), AX_OK);
	struct ax_exec_memory m;
	struct ax_exec_opts seq = { .mode = AX_MODE_SEQUENCE, .batch = B,
				    .max_src = S, .max_tgt = T };
	check_memory(&g, &seq, &m);
	assert_int_equal(m.kv_cache, 0);
	assert_int_equal(m.conv_state, 0);
	struct ax_exec_opts inc = { .mode = AX_MODE_INCREMENTAL, .batch = B,
				    .max_src = S, .max_tgt = T };
	check_memory(&g, &inc, &m);
	/* K and V of each decoder self-attention: (B * T, d) floats each */
	assert_int_equal(m.kv_cache, 4 * 2 * L * B * T * d);
	assert_int_equal(m.conv_state, 0);
	ax_graph_free(&g);
}

static void test_memory_lite_rings(void **state)
{
	(void)state;
	const int64_t d = 64, B = 2;
	struct ax_config cfg = fx_lite(d, AX_CONV_LIGHTWEIGHT, true, 4, 50, 50,
				       AX_SHARE_DECODER);
	struct ax_graph g;
	struct ax_diag dg = { 0 };
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(&cfg, &g, &dg), AX_OK);
	struct ax_exec_memory m;
	struct ax_exec_opts inc = { .mode = AX_MODE_INCREMENTAL, .batch = B,
				    .max_src = 7, .max_tgt = 5 };
	check_memory(&g, &inc, &m);
	/* a ring of the last K-1 inputs of c = d/2 channels per beam row and
	 * decoder conv; kernels 3,7,15,31,31,31 */
	assert_int_equal(m.conv_state, 4 * B * (2 + 6 + 14 + 30 + 30 + 30) * (d / 2));
	ax_graph_free(&g);
}

static void test_count_cli(void **state)
{
	(void)state;
	static char out[1 << 17], err[4096];
	char *ok[] = { AX_CLI, "count", "--format", "json", "--mode", "incremental",
		       "--beam", "4", "--prune", "0.9",
		       "tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(ok, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "\"model_bytes\""));
	assert_non_null(strstr(out, "\"pruned\""));
	assert_non_null(strstr(out, "\"kv_cache_per_beam\""));
	assert_non_null(strstr(out, "\"beam\": 4"));
	char *csv[] = { AX_CLI, "count", "--format", "csv",
			"tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(csv, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, ",bytes_fp32,bytes_bf16,bytes_int8,mem_beam,"));
	char *bad_prune[] = { AX_CLI, "count", "--prune", "1",
			      "tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(bad_prune, out, sizeof out, err, sizeof err), 2);
	assert_non_null(strstr(err, "--prune wants a sparsity in [0, 1)"));
	char *bad_beam[] = { AX_CLI, "count", "--beam", "0",
			     "tests/configs/oracle/transformer-post.yaml", NULL };
	assert_int_equal(ax_test_run(bad_beam, out, sizeof out, err, sizeof err), 2);
	assert_non_null(strstr(err, "--beam wants 1..64"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transformer_bytes),
		cmocka_unit_test(test_memory_transformer),
		cmocka_unit_test(test_memory_lite_rings),
		cmocka_unit_test(test_count_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
