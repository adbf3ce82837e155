/*
 * pareto.h - Pareto fronts and "best design under a budget" over a table of
 * design points.
 *
 * Points are rows of a (n, m) row-major table of objectives; each objective
 * is minimised unless its maximize[] flag is set. Point a dominates point b
 * when a is no worse than b in every objective and strictly better in at
 * least one. The front is the set of points no other point dominates, so
 * every copy of a non-dominated point is on it (copies do not dominate
 * each other). NaN objectives are rejected: a sweep marks a missing value
 * by leaving the point out, not by NaN.
 */
#ifndef AX_PARETO_H
#define AX_PARETO_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/* Marks on_front[i] for each of the n points of obj (n, m) row-major.
 * m == 2 takes O(n log n) (sort by the first objective, scan the second);
 * m > 2 takes O(n^2 m). maximize has m entries (NULL: minimise all).
 * n == 0 is fine. Fails with AX_ERR_INPUT on n < 0, m < 1, a NULL table
 * or a NaN, with AX_ERR_NOMEM if the m == 2 scratch cannot be allocated;
 * on failure on_front is unspecified. */
enum ax_status ax_pareto_front(const double *obj, int64_t n, int m,
			       const bool *maximize, bool *on_front,
			       struct ax_diag *d);

/* Index of the best point by objective `col` (maximised if maximize,
 * else minimised) among the points whose objective `budget_col` is
 * <= budget, e.g. the highest BLEU with MACs <= 100e6. Ties go to the
 * smallest index, so the answer does not depend on anything but the
 * table. Points with NaN in either column are skipped. Returns -1 when
 * no point fits (or on bad arguments: n < 0, a column outside [0, m)). */
int64_t ax_pareto_best_under(const double *obj, int64_t n, int m, int col,
			     bool maximize, int budget_col, double budget);

#endif
