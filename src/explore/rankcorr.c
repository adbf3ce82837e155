/*
 * rankcorr.c - Spearman's rho (average ranks) and Kendall's tau-b; see
 * rankcorr.h. Samples are small (a study joins tens of designs), so tau-b
 * counts pairs directly in O(n^2).
 */
#include "rankcorr.h"

#include <math.h>
#include <stdlib.h>

struct ranked {
	double v;
	int64_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

int ax_rank_average(const double *x, int64_t n, double *rank)
{
	if (n <= 0)
		return 0;
	struct ranked *r = malloc((size_t)n * sizeof *r);   /* (n) sorted by value */
	if (!r)
		return -1;
	for (int64_t i = 0; i < n; i++)
		r[i] = (struct ranked){ x[i], i };
	qsort(r, (size_t)n, sizeof *r, cmp_ranked);
	for (int64_t a = 0; a < n; ) {
		int64_t b = a + 1;
		while (b < n && r[b].v == r[a].v)
			b++;
		/* positions a..b-1 hold ranks a+1..b: their mean */
		double mean = 0.5 * (double)(a + 1 + b);
		for (int64_t k = a; k < b; k++)
			rank[r[k].i] = mean;
		a = b;
	}
	free(r);
	return 0;
}

/* Pearson's r of x and y; NaN if either is constant. */
static double pearson(const double *x, const double *y, int64_t n)
{
	double mx = 0, my = 0;
	for (int64_t i = 0; i < n; i++)
		mx += x[i], my += y[i];
	mx /= (double)n, my /= (double)n;
	double sxy = 0, sxx = 0, syy = 0;
	for (int64_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx == 0 || syy == 0)
		return NAN;
	return sxy / sqrt(sxx * syy);
}

double ax_spearman(const double *x, const double *y, int64_t n)
{
	if (n < 2)
		return NAN;
	double *rx = malloc((size_t)n * sizeof *rx);   /* (n) */
	double *ry = malloc((size_t)n * sizeof *ry);   /* (n) */
	double rho = NAN;
	if (rx && ry && !ax_rank_average(x, n, rx) && !ax_rank_average(y, n, ry))
		rho = pearson(rx, ry, n);
	free(rx);
	free(ry);
	return rho;
}

double ax_kendall_tau_b(const double *x, const double *y, int64_t n)
{
	if (n < 2)
		return NAN;
	double c = 0, dis = 0, tx = 0, ty = 0;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = i + 1; j < n; j++) {
			double dx = x[i] - x[j], dy = y[i] - y[j];
			if (dx == 0)
				tx++;
			if (dy == 0)
				ty++;
			if (dx != 0 && dy != 0) {
				if ((dx > 0) == (dy > 0))
					c++;
				else
					dis++;
			}
		}
	double pairs = 0.5 * (double)n * (double)(n - 1);
	double den = (pairs - tx) * (pairs - ty);
	if (den <= 0)
		return NAN;
	return (c - dis) / sqrt(den);
}
