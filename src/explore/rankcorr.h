/*
 * rankcorr.h - rank correlation of two samples: Spearman's rho with
 * average ranks for ties, and Kendall's tau-b (ties corrected), as
 * scipy.stats.spearmanr and scipy.stats.kendalltau (variant 'b') compute
 * them. Used by the proxy study (study.h) to ask how far a cheap ranking
 * agrees with a published one.
 *
 * Every value must be finite (the caller drops pairs with a NaN). Both
 * correlations are NaN when n < 2 or when one sample is constant (no
 * ranking to compare), and NaN also when memory runs out.
 */
#ifndef AX_RANKCORR_H
#define AX_RANKCORR_H

#include <stdint.h>

/* rank[i] = the 1-based rank of x[i] in ascending order; tied values
 * share the mean of the ranks they span ([1, 2, 2, 3] -> 1, 2.5, 2.5, 4).
 * rank has n entries. Returns 0, or -1 when out of memory. */
int ax_rank_average(const double *x, int64_t n, double *rank);

/* Spearman's rho: Pearson's r of the average ranks of x and y. */
double ax_spearman(const double *x, const double *y, int64_t n);

/* Kendall's tau-b = (C - D) / sqrt((P - Tx) (P - Ty)) over the
 * P = n(n-1)/2 pairs, with C concordant and D discordant pairs, and Tx,
 * Ty the pairs tied in x or in y (a pair tied in both counts in both). */
double ax_kendall_tau_b(const double *x, const double *y, int64_t n);

#endif
