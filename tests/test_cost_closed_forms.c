/*
 * test_cost_closed_forms.c - the op-list sums against closed forms written
 * out by hand from docs/models.md (§3, §5.3, §8.3, §8.4), for several shapes:
 * per layer (params, and MACs as polynomials in S and T), whole models
 * under `paper`, and incremental decoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cost.h"
#include "graph.h"
#include "model_fixtures.h"
#include "model.h"

static struct ax_cost cost;   /* large: keep off the stack */

static void count(const struct ax_config *cfg, enum ax_convention conv,
		  enum ax_mode mode)
{
	struct ax_graph g;
	struct ax_diag d;
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(cfg, &g, &d), AX_OK);
	ax_cost_graph(&g, conv, mode, &cost);
	ax_graph_free(&g);
}

/* MACs of a layer as a value at (S, T). */
static int64_t layer_macs(int i, int64_t S, int64_t T)
{
	return ax_poly_eval(&cost.layers[i].macs, S, T);
}

static const int64_t lens[][2] = { { 1, 1 }, { 7, 3 }, { 30, 30 }, { 64, 17 } };
#define N_LENS (sizeof lens / sizeof lens[0])

/* fairseq Transformer layer (docs/models.md §3 table), exact, sequence mode:
 *   encoder params 4d^2 + 2df + f + 9d;  MACs S(4d^2 + 2df) + 2 S^2 d
 *   decoder params 8d^2 + 2df + f + 15d; MACs T(6d^2 + 2df) + 2 T^2 d
 *                                           + 2 S T d + 2 S d^2          */
static void test_transformer_layers(void **state)
{
	(void)state;
	static const int64_t shapes[][3] = { { 64, 256, 4 }, { 128, 512, 8 },
					     { 200, 300, 5 }, { 512, 2048, 8 } };
	for (size_t s = 0; s < 4; s++) {
		int64_t d = shapes[s][0], f = shapes[s][1], h = shapes[s][2];
		struct ax_config c = fx_transformer(d, f, h, 3, 1000, 900, AX_SHARE_NONE);
		count(&c, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE);
		assert_int_equal(cost.n_layers, 6);
		for (int l = 0; l < 3; l++) {
			assert_int_equal(cost.layers[l].params, 4 * d * d + 2 * d * f + f + 9 * d);
			assert_int_equal(cost.layers[3 + l].params,
					 8 * d * d + 2 * d * f + f + 15 * d);
			for (size_t k = 0; k < N_LENS; k++) {
				int64_t S = lens[k][0], T = lens[k][1];
				assert_int_equal(layer_macs(l, S, T),
						 S * (4 * d * d + 2 * d * f) + 2 * S * S * d);
				assert_int_equal(layer_macs(3 + l, S, T),
						 T * (6 * d * d + 2 * d * f) + 2 * T * T * d +
						 2 * S * T * d + 2 * S * d * d);
			}
		}
		/* whole model: layers + embeddings (untied: V_src d + V_tgt d)
		 * + separate output matrix V_tgt d; output MACs V_tgt d T */
		int64_t layers = 3 * (4 * d * d + 2 * d * f + f + 9 * d) +
				 3 * (8 * d * d + 2 * d * f + f + 15 * d);
		assert_int_equal(cost.params, layers + 1000 * d + 2 * 900 * d);
		assert_int_equal(ax_poly_eval(&cost.macs_by_kind[AX_KIND_OUTPUT_PROJ], 5, 9),
				 900 * d * 9);
	}
}

/* Lite Transformer layer params for the upstream shapes (docs/models.md §5.3,
 * c = d/2, f = d, H = 4): dynamic + GLU encoder 3.75d^2 + 9.5d + 2dK,
 * decoder 7.75d^2 + 15.5d + 2dK; lightweight no GLU 3.5d^2 + 9d + 4K and
 * 7.5d^2 + 15d + 4K. Written times 4 to stay in integers. */
static void test_lite_layer_params(void **state)
{
	(void)state;
	static const int64_t K[6] = { 3, 7, 15, 31, 31, 31 };
	static const int64_t dims[] = { 160, 200, 240, 496 };
	for (size_t s = 0; s < 4; s++) {
		int64_t d = dims[s];
		struct ax_config c = fx_lite(d, AX_CONV_DYNAMIC, true, 8, 500, 500,
					     AX_SHARE_ALL);
		count(&c, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE);
		for (int l = 0; l < 6; l++) {
			assert_int_equal(4 * cost.layers[l].params,
					 15 * d * d + 38 * d + 8 * d * K[l]);
			assert_int_equal(4 * cost.layers[6 + l].params,
					 31 * d * d + 62 * d + 8 * d * K[l]);
		}
		c = fx_lite(d, AX_CONV_LIGHTWEIGHT, false, 4, 500, 400, AX_SHARE_NONE);
		count(&c, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE);
		for (int l = 0; l < 6; l++) {
			assert_int_equal(2 * cost.layers[l].params,
					 7 * d * d + 18 * d + 8 * K[l]);
			assert_int_equal(2 * cost.layers[6 + l].params,
					 15 * d * d + 30 * d + 8 * K[l]);
		}
	}
}

/* Lite layer MACs, exact (docs/models.md §5.3 per-op table, c = d/2, f = d, H = 4):
 *   encoder: S(4c^2 + 2c^2 + cHK + cK + c^2 + 2df) + 2 S^2 c
 *   decoder: T(4c^2 + 2c^2 + cHK + cK + c^2 + 2d^2 + 2df) + 2 T^2 c
 *            + 2 S T d + 2 S d^2                                         */
static void test_lite_layer_macs(void **state)
{
	(void)state;
	static const int64_t K[6] = { 3, 7, 15, 31, 31, 31 };
	static const int64_t dims[] = { 160, 200, 496 };
	for (size_t s = 0; s < 3; s++) {
		int64_t d = dims[s], c2 = d / 2, f = d, H = 4;
		struct ax_config c = fx_lite(d, AX_CONV_DYNAMIC, true, 8, 500, 500,
					     AX_SHARE_ALL);
		count(&c, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE);
		for (int l = 0; l < 6; l++)
			for (size_t k = 0; k < N_LENS; k++) {
				int64_t S = lens[k][0], T = lens[k][1];
				int64_t tok = 7 * c2 * c2 + c2 * H * K[l] + c2 * K[l] + 2 * d * f;
				assert_int_equal(layer_macs(l, S, T), S * tok + 2 * S * S * c2);
				assert_int_equal(layer_macs(6 + l, S, T),
						 T * (tok + 2 * d * d) + 2 * T * T * c2 +
						 2 * S * T * d + 2 * S * d * d);
			}
	}
}

/* Whole-model `paper` closed forms (docs/models.md §8.3 table) at S = T = N:
 *   Transformer: L[N(4d^2+2df) + 2N^2 d] + L[N(6d^2+2df) + 2Nd^2 + 4N^2 d]
 *                + 8L Nd + 2Nd
 *   Lite dynamic+GLU: 11.5 L N d^2 + 2Nd(sum K_enc + sum K_dec) + 4L N^2 d
 *                     + (7L + 2) Nd
 *   Lite lightweight: 11 L N d^2 + 4L N^2 d + (7L + 2) Nd                  */
static void test_paper_closed_forms(void **state)
{
	(void)state;
	static const int64_t Ns[] = { 1, 10, 30, 47 };
	static const int64_t dims[] = { 128, 200, 256, 512 };
	for (size_t s = 0; s < 4; s++)
		for (size_t k = 0; k < 4; k++) {
			int64_t d = dims[s], N = Ns[k], L = 6, f = 4 * d;
			struct ax_config c = fx_transformer(d, f, 8, L, 100, 100, AX_SHARE_ALL);
			count(&c, AX_CONVENTION_PAPER, AX_MODE_SEQUENCE);
			assert_int_equal(ax_poly_eval(&cost.macs, N, N),
					 L * (N * (4 * d * d + 2 * d * f) + 2 * N * N * d) +
					 L * (N * (6 * d * d + 2 * d * f) + 2 * N * d * d +
					      4 * N * N * d) + 8 * L * N * d + 2 * N * d);

			c = fx_lite(d, AX_CONV_DYNAMIC, true, 8, 100, 100, AX_SHARE_ALL);
			count(&c, AX_CONVENTION_PAPER, AX_MODE_SEQUENCE);
			assert_int_equal(2 * ax_poly_eval(&cost.macs, N, N),
					 23 * L * N * d * d + 2 * (2 * N * d * 236 +
					 4 * L * N * N * d + (7 * L + 2) * N * d));

			c = fx_lite(d, AX_CONV_LIGHTWEIGHT, false, 4, 100, 100, AX_SHARE_NONE);
			count(&c, AX_CONVENTION_PAPER, AX_MODE_SEQUENCE);
			assert_int_equal(ax_poly_eval(&cost.macs, N, N),
					 11 * L * N * d * d + 4 * L * N * N * d +
					 (7 * L + 2) * N * d);
		}
}

/* Incremental decoding (docs/models.md §8.4), Transformer decoder layer summed over
 * t = 1..T: T(6d^2 + 2df) + d T(T+1) + 2STd + 2Sd^2. Encoder layers are the
 * same as in sequence mode; everything but the causal matmuls too. */
static void test_incremental(void **state)
{
	(void)state;
	int64_t d = 256, f = 1024;
	struct ax_config c = fx_transformer(d, f, 4, 2, 300, 300, AX_SHARE_ALL);
	count(&c, AX_CONVENTION_EXACT, AX_MODE_INCREMENTAL);
	for (size_t k = 0; k < N_LENS; k++) {
		int64_t S = lens[k][0], T = lens[k][1];
		assert_int_equal(layer_macs(0, S, T),
				 S * (4 * d * d + 2 * d * f) + 2 * S * S * d);
		assert_int_equal(layer_macs(2, S, T),
				 T * (6 * d * d + 2 * d * f) + d * T * (T + 1) +
				 2 * S * T * d + 2 * S * d * d);
	}
	/* Per step (docs/models.md §8.4): P(S, t) - P(S, t-1) of a decoder layer is
	 * 6d^2 + 2df + 2td + 2Sd; what `count --per-step` prints. */
	for (int64_t t = 1; t <= 12; t++)
		assert_int_equal(layer_macs(2, 9, t) - layer_macs(2, 9, t - 1),
				 6 * d * d + 2 * d * f + 2 * t * d + 2 * 9 * d);
	/* Lite: only the attention branch's causal matmuls change:
	 * sequence 2 T^2 c per layer, incremental T(T+1) c. */
	struct ax_config lc = fx_lite(200, AX_CONV_DYNAMIC, true, 8, 300, 300,
				      AX_SHARE_ALL);
	static struct ax_cost seq;
	count(&lc, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE);
	seq = cost;
	count(&lc, AX_CONVENTION_EXACT, AX_MODE_INCREMENTAL);
	for (size_t k = 0; k < N_LENS; k++) {
		int64_t S = lens[k][0], T = lens[k][1];
		int64_t diff = ax_poly_eval(&seq.macs, S, T) - ax_poly_eval(&cost.macs, S, T);
		assert_int_equal(diff, 6 * (2 * T * T * 100 - T * (T + 1) * 100));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transformer_layers),
		cmocka_unit_test(test_lite_layer_params),
		cmocka_unit_test(test_lite_layer_macs),
		cmocka_unit_test(test_paper_closed_forms),
		cmocka_unit_test(test_incremental),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
