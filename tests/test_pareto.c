/*
 * test_pareto.c - the Pareto front against a brute-force dominance check
 * on many seeded random sets (ties, duplicates, m = 1..4, n = 0 and 1),
 * plus hand-checked cases and best-under-budget selection.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pareto.h"

/* Deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* Brute force straight from the definition. */
static void brute_front(const double *obj, int64_t n, int m,
			const bool *maximize, bool *on)
{
	for (int64_t i = 0; i < n; i++) {
		on[i] = true;
		for (int64_t k = 0; k < n && on[i]; k++) {
			bool no_worse = true, better = false;
			for (int j = 0; j < m; j++) {
				double a = obj[k * m + j], b = obj[i * m + j];
				if (maximize[j]) {
					a = -a;
					b = -b;
				}
				if (a > b)
					no_worse = false;
				if (a < b)
					better = true;
			}
			if (no_worse && better)
				on[i] = false;
		}
	}
}

static void test_random_vs_brute(void **state)
{
	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	enum { MAXN = 60, MAXM = 4 };
	double obj[MAXN * MAXM];
	bool maximize[MAXM], got[MAXN], want[MAXN];
	int64_t trials = 0, fronts = 0;
	for (int m = 1; m <= MAXM; m++) {
		for (int t = 0; t < 600; t++) {
			int64_t n = (int64_t)(rng_next() % (MAXN + 1));
			if (t < 4)
				n = t < 2 ? 0 : 1;
			/* Few distinct values -> many ties and duplicates;
			 * many -> general position. */
			int levels = (t % 3 == 0) ? 3 : (t % 3 == 1) ? 8 : 1000;
			for (int j = 0; j < m; j++)
				maximize[j] = (rng_next() >> 7) & 1;
			for (int64_t i = 0; i < n; i++)
				for (int j = 0; j < m; j++)
					obj[i * m + j] =
						(double)(rng_next() % levels) - levels / 2;
			/* Duplicate some rows exactly. */
			for (int64_t i = 1; i < n; i += 5)
				memcpy(&obj[i * m], &obj[(i - 1) * m],
				       (size_t)m * sizeof obj[0]);
			struct ax_diag d = {0};
			assert_int_equal(ax_pareto_front(obj, n, m, maximize, got, &d),
					 AX_OK);
			brute_front(obj, n, m, maximize, want);
			for (int64_t i = 0; i < n; i++) {
				if (got[i] != want[i])
					fail_msg("m=%d trial=%d n=%lld point %lld: got %d want %d",
						 m, t, (long long)n, (long long)i, got[i],
						 want[i]);
				fronts += got[i];
			}
			trials++;
		}
	}
	assert_true(trials == 2400);
	assert_true(fronts > 0);
}

static void test_hand_cases(void **state)
{
	(void)state;
	/* (MACs min, BLEU max): 3 dominated by 0 (more MACs, less BLEU),
	 * 1 and 4 are copies, 2 dominated by 1 on BLEU at equal MACs. */
	const double obj[] = {
		100, 30,
		200, 35,
		200, 34,
		150, 29,
		200, 35,
		500, 39,
	};
	const bool maximize[] = {false, true};
	bool on[6];
	struct ax_diag d = {0};
	assert_int_equal(ax_pareto_front(obj, 6, 2, maximize, on, &d), AX_OK);
	const bool want[] = {true, true, false, false, true, true};
	for (int i = 0; i < 6; i++)
		assert_int_equal(on[i], want[i]);

	/* Same set, three objectives with a constant third: same front. */
	double obj3[18];
	for (int i = 0; i < 6; i++) {
		obj3[i * 3] = obj[i * 2];
		obj3[i * 3 + 1] = obj[i * 2 + 1];
		obj3[i * 3 + 2] = 7;
	}
	const bool max3[] = {false, true, false};
	assert_int_equal(ax_pareto_front(obj3, 6, 3, max3, on, &d), AX_OK);
	for (int i = 0; i < 6; i++)
		assert_int_equal(on[i], want[i]);

	/* NULL maximize means minimise everything. */
	const double two[] = {1, 1, 2, 2};
	assert_int_equal(ax_pareto_front(two, 2, 2, NULL, on, &d), AX_OK);
	assert_true(on[0]);
	assert_false(on[1]);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct ax_diag d = {0};
	bool on[2];
	const double nan_obj[] = {1, NAN, 2, 3};
	assert_int_equal(ax_pareto_front(nan_obj, 2, 2, NULL, on, &d),
			 AX_ERR_INPUT);
	assert_non_null(strstr(d.msg, "NaN"));
	assert_int_equal(ax_pareto_front(nan_obj, -1, 2, NULL, on, &d),
			 AX_ERR_INPUT);
	assert_int_equal(ax_pareto_front(nan_obj, 2, 0, NULL, on, &d),
			 AX_ERR_INPUT);
	assert_int_equal(ax_pareto_front(NULL, 0, 2, NULL, NULL, &d), AX_OK);
}

static void test_best_under(void **state)
{
	(void)state;
	/* columns: MACs (M), BLEU */
	const double obj[] = {
		90, 35.3,
		120, 36.0,
		95, 35.3, /* ties with 0 on BLEU: index 0 wins */
		360, 39.1,
		480, 39.1, /* ties with 3: index 3 wins */
		527, 39.6,
		80, NAN, /* NaN: skipped */
	};
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 1, true, 0, 100), 0);
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 1, true, 0, 500), 3);
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 1, true, 0, 1e9), 5);
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 1, true, 0, 50), -1);
	/* Minimising: the cheapest point within BLEU <= 36. */
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 0, false, 1, 36.0), 0);
	assert_int_equal(ax_pareto_best_under(obj, 0, 2, 1, true, 0, 100), -1);
	assert_int_equal(ax_pareto_best_under(obj, 7, 2, 2, true, 0, 100), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_brute),
		cmocka_unit_test(test_hand_cases),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_best_under),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
