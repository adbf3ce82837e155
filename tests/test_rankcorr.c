/*
 * test_rankcorr.c - Spearman's rho and Kendall's tau-b (src/explore/
 * rankcorr.h) against values computed by hand (and by scipy.stats'
 * spearmanr and kendalltau, which agree), with and without ties.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rankcorr.h"

#define EPS 1e-12

static void test_average_ranks(void **state)
{
	(void)state;
	/* 5 < 10 < 20 = 20: ranks 1, 2, then 3 and 4 shared */
	const double x[] = { 10, 20, 20, 5 };
	double r[4];
	assert_int_equal(ax_rank_average(x, 4, r), 0);
	assert_float_equal(r[0], 2, EPS);
	assert_float_equal(r[1], 3.5, EPS);
	assert_float_equal(r[2], 3.5, EPS);
	assert_float_equal(r[3], 1, EPS);
	/* all tied: every rank is the mean (n + 1) / 2 */
	const double y[] = { 7, 7, 7 };
	assert_int_equal(ax_rank_average(y, 3, r), 0);
	assert_float_equal(r[0], 2, EPS);
	assert_float_equal(r[2], 2, EPS);
}

/* no ties: d = (0, 1, -1, 0), rho = 1 - 6*2 / (4*15) = 0.8; one
 * discordant pair of 6: tau = (5 - 1) / 6 */
static void test_no_ties(void **state)
{
	(void)state;
	const double x[] = { 1, 2, 3, 4 }, y[] = { 1, 3, 2, 4 };
	assert_float_equal(ax_spearman(x, y, 4), 0.8, EPS);
	assert_float_equal(ax_kendall_tau_b(x, y, 4), 4.0 / 6.0, EPS);
	/* order-only: any increasing transform gives the same values */
	const double x2[] = { 10, 200, 3000, 40000 }, y2[] = { -5, 7, 6, 8 };
	assert_float_equal(ax_spearman(x2, y2, 4), 0.8, EPS);
	assert_float_equal(ax_kendall_tau_b(x2, y2, 4), 4.0 / 6.0, EPS);
}

/* x = (1, 2, 2, 3), y = (1, 2, 3, 3): ranks (1, 2.5, 2.5, 4) and
 * (1, 2, 3.5, 3.5); centred, sxy = 3.75, sxx = syy = 4.5: rho = 5/6.
 * Pairs: 4 concordant, 0 discordant, one tied in x, one in y:
 * tau-b = 4 / sqrt(5 * 5) = 0.8. */
static void test_ties(void **state)
{
	(void)state;
	const double x[] = { 1, 2, 2, 3 }, y[] = { 1, 2, 3, 3 };
	assert_float_equal(ax_spearman(x, y, 4), 5.0 / 6.0, EPS);
	assert_float_equal(ax_kendall_tau_b(x, y, 4), 0.8, EPS);
	/* a tie only in y: x ranks (1, 3, 2, 4), y ranks (1, 3.5, 2, 3.5):
	 * rho = 4.5 / sqrt(5 * 4.5); 5 concordant, 1 tied in y:
	 * tau-b = 5 / sqrt(6 * 5) */
	const double p[] = { 33.6, 37.6, 35.3, 39.1 }, q[] = { 10, 12, 11, 12 };
	assert_float_equal(ax_spearman(p, q, 4), 4.5 / sqrt(22.5), EPS);
	assert_float_equal(ax_kendall_tau_b(p, q, 4), 5 / sqrt(30), EPS);
}

static void test_extremes(void **state)
{
	(void)state;
	const double x[] = { 1, 2, 3 }, y[] = { 3, 2, 1 }, c[] = { 4, 4, 4 };
	assert_float_equal(ax_spearman(x, x, 3), 1, EPS);
	assert_float_equal(ax_kendall_tau_b(x, x, 3), 1, EPS);
	assert_float_equal(ax_spearman(x, y, 3), -1, EPS);
	assert_float_equal(ax_kendall_tau_b(x, y, 3), -1, EPS);
	/* a constant side or fewer than 2 pairs: no ranking, NaN */
	assert_true(isnan(ax_spearman(x, c, 3)));
	assert_true(isnan(ax_kendall_tau_b(c, x, 3)));
	assert_true(isnan(ax_spearman(x, y, 1)));
	assert_true(isnan(ax_kendall_tau_b(x, y, 0)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_average_ranks),
		cmocka_unit_test(test_no_ties),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
