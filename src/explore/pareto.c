/*
 * pareto.c - Pareto front (sort-and-scan for two objectives, pairwise for
 * more) and best-under-budget selection (see pareto.h).
 */
#include "pareto.h"

#include <math.h>
#include <stdlib.h>

/* One point of a two-objective front, both objectives as "minimise". */
struct pt2 {
	double x, y;
	int64_t idx;
};

static int pt2_cmp(const void *pa, const void *pb)
{
	const struct pt2 *a = pa, *b = pb;
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Objective j of point i, turned into a quantity to minimise. */
static double min_value(const double *obj, int64_t i, int m, int j,
			const bool *maximize)
{
	double v = obj[i * m + j];
	return maximize && maximize[j] ? -v : v;
}

/* Sorted by (x, y), a point is on the front iff it has the smallest y of
 * its equal-x group and that y is strictly below every y of a smaller x:
 * a larger y in its own group is dominated by the group's minimum, and an
 * earlier point with y' <= y dominates it through the strictly smaller x.
 * Equal (x, y) copies share the verdict. */
static enum ax_status front2(const double *obj, int64_t n,
			     const bool *maximize, bool *on_front,
			     struct ax_diag *d)
{
	struct pt2 *p = malloc((size_t)n * sizeof *p);
	if (!p)
		return ax_diag_set(d, AX_ERR_NOMEM, NULL, 0, 0,
				   "pareto: cannot allocate %lld points",
				   (long long)n);
	for (int64_t i = 0; i < n; i++) {
		p[i].x = min_value(obj, i, 2, 0, maximize);
		p[i].y = min_value(obj, i, 2, 1, maximize);
		p[i].idx = i;
	}
	qsort(p, (size_t)n, sizeof *p, pt2_cmp);

	double best_before = INFINITY; /* min y over all smaller x */
	bool any_before = false;
	int64_t g = 0;
	while (g < n) {
		int64_t e = g;
		while (e < n && p[e].x == p[g].x)
			e++;
		double gmin = p[g].y; /* sorted by y inside the group */
		bool open = !any_before || gmin < best_before;
		for (int64_t k = g; k < e; k++)
			on_front[p[k].idx] = open && p[k].y == gmin;
		if (!any_before || gmin < best_before)
			best_before = gmin;
		any_before = true;
		g = e;
	}
	free(p);
	return AX_OK;
}

/* True iff point a dominates point b. */
static bool dominates(const double *obj, int64_t a, int64_t b, int m,
		      const bool *maximize)
{
	bool strict = false;
	for (int j = 0; j < m; j++) {
		double va = min_value(obj, a, m, j, maximize);
		double vb = min_value(obj, b, m, j, maximize);
		if (va > vb)
			return false;
		if (va < vb)
			strict = true;
	}
	return strict;
}

static void front_pairwise(const double *obj, int64_t n, int m,
			   const bool *maximize, bool *on_front)
{
	for (int64_t i = 0; i < n; i++) {
		on_front[i] = true;
		for (int64_t k = 0; k < n; k++) {
			if (k != i && dominates(obj, k, i, m, maximize)) {
				on_front[i] = false;
				break;
			}
		}
	}
}

enum ax_status ax_pareto_front(const double *obj, int64_t n, int m,
			       const bool *maximize, bool *on_front,
			       struct ax_diag *d)
{
	if (n < 0 || m < 1)
		return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0,
				   "pareto: bad shape (%lld, %d)",
				   (long long)n, m);
	if (n == 0)
		return AX_OK;
	if (!obj || !on_front)
		return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0,
				   "pareto: NULL table or output");
	for (int64_t i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
			if (isnan(obj[i * m + j]))
				return ax_diag_set(d, AX_ERR_INPUT, NULL, 0, 0,
						   "pareto: point %lld objective %d is NaN",
						   (long long)i, j);
	if (m == 1) {
		/* The front is every copy of the best value. */
		double best = min_value(obj, 0, 1, 0, maximize);
		for (int64_t i = 1; i < n; i++) {
			double v = min_value(obj, i, 1, 0, maximize);
			if (v < best)
				best = v;
		}
		for (int64_t i = 0; i < n; i++)
			on_front[i] = min_value(obj, i, 1, 0, maximize) == best;
		return AX_OK;
	}
	if (m == 2)
		return front2(obj, n, maximize, on_front, d);
	front_pairwise(obj, n, m, maximize, on_front);
	return AX_OK;
}

int64_t ax_pareto_best_under(const double *obj, int64_t n, int m, int col,
			     bool maximize, int budget_col, double budget)
{
	if (!obj || n < 0 || m < 1 || col < 0 || col >= m || budget_col < 0 ||
	    budget_col >= m)
		return -1;
	int64_t best = -1;
	for (int64_t i = 0; i < n; i++) {
		double v = obj[i * m + col], c = obj[i * m + budget_col];
		if (isnan(v) || isnan(c) || !(c <= budget))
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		double b = obj[best * m + col];
		if (maximize ? v > b : v < b)
			best = i;
	}
	return best;
}
