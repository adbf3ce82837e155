/*
 * sweep_tables.c - the tables of a sweep from its records: the Pareto
 * front, pareto.csv, best.csv, the plot data and the table of trained
 * points for people (see sweep_out.h).
 */
#include "sweep_out.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "pareto.h"

/* CSV cells: integers exactly, other numbers with 9 digits, NaN empty */
static void csv_num(FILE *f, double v)
{
	if (!isfinite(v))
		return;
	if (v == floor(v) && fabs(v) < 9e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.9g", v);
}

/* --- tables ----------------------------------------------------------- */

enum ax_status ax_sweep_front(const struct ax_sweep_meta *m,
			      const struct ax_sweep_recs *rs, bool *on_front,
			      struct ax_diag *d)
{
	int k = m->n_objectives;
	double *obj = malloc((size_t)(rs->n ? rs->n : 1) * (size_t)k * sizeof *obj);
	int64_t *row = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *row);
	bool *on = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *on);
	bool maximize[AX_SWEEP_MAX_OBJECTIVES];
	enum ax_status st = AX_OK;
	if (!obj || !row || !on) {
		st = ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
		goto free_all;
	}
	for (int i = 0; i < k; i++)
		maximize[i] = m->objective[i].maximize;
	memset(on_front, 0, (size_t)rs->n * sizeof *on_front);
	for (int f = 0; f < m->n_families && st == AX_OK; f++) {
		int64_t n = 0;
		for (int64_t i = 0; i < rs->n; i++) {
			const struct ax_sweep_rec *r = &rs->r[i];
			if (r->family != f || !r->feasible)
				continue;
			bool finite = true;
			for (int o = 0; o < k; o++)
				finite &= isfinite(r->metrics[m->objective[o].metric]) != 0;
			if (!finite)
				continue;
			for (int o = 0; o < k; o++)
				obj[n * k + o] = r->metrics[m->objective[o].metric];
			row[n++] = i;
		}
		st = ax_pareto_front(obj, n, k, maximize, on, d);
		for (int64_t i = 0; i < n && st == AX_OK; i++)
			on_front[row[i]] = on[i];
	}
free_all:
	free(obj);
	free(row);
	free(on);
	return st;
}

static bool listed(const struct ax_sweep_meta *m, int metric)
{
	for (int o = 0; o < m->n_objectives; o++)
		if (m->objective[o].metric == metric)
			return true;
	return false;
}

static const int extra_cols[] = { AX_METRIC_MACS, AX_METRIC_PARAMS,
				  AX_METRIC_NONEMBEDDING_PARAMS };

void ax_sweep_write_pareto(FILE *f, const struct ax_sweep_meta *m,
			   const struct ax_sweep_recs *rs, const bool *on_front)
{
	fputs("family,index,id,name", f);
	for (int o = 0; o < m->n_objectives; o++)
		fprintf(f, ",%s", ax_metric_name(m->objective[o].metric));
	for (size_t c = 0; c < sizeof extra_cols / sizeof extra_cols[0]; c++)
		if (!listed(m, extra_cols[c]))
			fprintf(f, ",%s", ax_metric_name(extra_cols[c]));
	fputc('\n', f);
	for (int fam = 0; fam < m->n_families; fam++)
		for (int64_t i = 0; i < rs->n; i++) {
			const struct ax_sweep_rec *r = &rs->r[i];
			if (r->family != fam || !on_front[i])
				continue;
			fprintf(f, "%s,%" PRId64 ",%s,%s", m->family[fam], r->index, r->id, r->name);
			for (int o = 0; o < m->n_objectives; o++) {
				fputc(',', f);
				csv_num(f, r->metrics[m->objective[o].metric]);
			}
			for (size_t c = 0; c < sizeof extra_cols / sizeof extra_cols[0]; c++)
				if (!listed(m, extra_cols[c])) {
					fputc(',', f);
					csv_num(f, r->metrics[extra_cols[c]]);
				}
			fputc('\n', f);
		}
}

int64_t ax_sweep_best(const struct ax_sweep_meta *m, const struct ax_sweep_recs *rs,
		      int fam, double budget)
{
	int64_t best = -1;
	double bv = 0;
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		if (r->family != fam || !r->feasible)
			continue;
		double b = r->metrics[m->budget_metric];
		double v = ax_sweep_fitness(&m->best, r->metrics);
		if (!isfinite(b) || !isfinite(v) || b > budget)
			continue;
		/* records are in index order: ties keep the smaller index */
		if (best < 0 || v > bv) {
			best = i;
			bv = v;
		}
	}
	return best;
}

void ax_sweep_write_best(FILE *f, const struct ax_sweep_meta *m,
			 const struct ax_sweep_recs *rs)
{
	int bm = m->best.metric;
	fprintf(f, "family,budget,found,index,id,name,%s", ax_metric_name(bm));
	for (size_t c = 0; c < sizeof extra_cols / sizeof extra_cols[0]; c++)
		if (extra_cols[c] != bm)
			fprintf(f, ",%s", ax_metric_name(extra_cols[c]));
	fputc('\n', f);
	for (int fam = 0; fam < m->n_families; fam++)
		for (int b = 0; b < m->n_budgets; b++) {
			int64_t i = ax_sweep_best(m, rs, fam, m->budget[b]);
			fprintf(f, "%s,", m->family[fam]);
			csv_num(f, m->budget[b]);
			if (i < 0) {
				fputs(",0,,,,", f);
				for (size_t c = 0; c < sizeof extra_cols / sizeof extra_cols[0]; c++)
					if (extra_cols[c] != bm)
						fputc(',', f);
				fputc('\n', f);
				continue;
			}
			const struct ax_sweep_rec *r = &rs->r[i];
			fprintf(f, ",1,%" PRId64 ",%s,%s,", r->index, r->id, r->name);
			csv_num(f, r->metrics[bm]);
			for (size_t c = 0; c < sizeof extra_cols / sizeof extra_cols[0]; c++)
				if (extra_cols[c] != bm) {
					fputc(',', f);
					csv_num(f, r->metrics[extra_cols[c]]);
				}
			fputc('\n', f);
		}
}

const char *ax_sweep_family_title(const char *kind)
{
	static const struct { const char *kind, *title; } t[] = {
		{ "transformer", "Transformer" },
		{ "lite", "Lite Transformer" },
		{ "lightconv", "LightConv" },
		{ "evolved", "Evolved Transformer" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(kind, t[i].kind))
			return t[i].title;
	return kind;
}

/* A legend name per family: the kind's title, or the label when two
 * families share a kind. */
static void legend(const struct ax_sweep_meta *m, int fam, char *buf, size_t size)
{
	int same = 0;
	for (int f = 0; f < m->n_families; f++)
		same += !strcmp(m->family_kind[f], m->family_kind[fam]);
	if (same > 1)
		snprintf(buf, size, "%s", m->family[fam]);
	else
		snprintf(buf, size, "%s", ax_sweep_family_title(m->family_kind[fam]));
}

void ax_sweep_write_plot_points(FILE *f, const struct ax_sweep_meta *m,
				const struct ax_sweep_recs *rs)
{
	fputs("family,macs_m,params_m,config\n", f);
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		fprintf(f, "%s,%.6g,%.6g,%s\n", m->family[r->family],
			r->metrics[AX_METRIC_MACS] / 1e6, r->metrics[AX_METRIC_PARAMS] / 1e6,
			r->name);
	}
}

bool ax_sweep_legend_right(const struct ax_sweep_meta *m,
			   const struct ax_sweep_recs *rs)
{
	double lo = INFINITY, hi = 0;
	for (int64_t i = 0; i < rs->n; i++) {
		double x = rs->r[i].metrics[AX_METRIC_MACS];
		if (isfinite(x) && x > 0) {
			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
	}
	for (int b = 0; b < m->n_budgets; b++)
		hi = m->budget[b] > hi ? m->budget[b] : hi;
	if (!(lo < hi))
		return true;
	double a = log(lo), z = log(hi), w = 0.42 * (z - a);
	bool left_clear = true, right_clear = true;
	for (int b = 0; b < m->n_budgets; b++) {
		double x = log(m->budget[b]);
		left_clear &= !(x <= a + w);
		right_clear &= !(x >= z - w);
	}
	return right_clear || !left_clear;
}

struct front_row {
	double macs;
	int64_t i;
};

static int by_macs(const void *a, const void *b)
{
	const struct front_row *x = a, *y = b;
	if (x->macs != y->macs)
		return x->macs < y->macs ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

void ax_sweep_write_plot_fronts(FILE *f, const struct ax_sweep_meta *m,
				const struct ax_sweep_recs *rs, const bool *on_front)
{
	struct front_row *rows = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *rows);
	if (!rows)
		return;
	int blocks = 0;
	for (int fam = 0; fam < m->n_families; fam++) {
		int64_t n = 0;
		for (int64_t i = 0; i < rs->n; i++)
			if (rs->r[i].family == fam && on_front[i])
				rows[n++] = (struct front_row){ rs->r[i].metrics[AX_METRIC_MACS], i };
		if (!n)
			continue;
		qsort(rows, (size_t)n, sizeof *rows, by_macs);
		char name[96];
		legend(m, fam, name, sizeof name);
		fprintf(f, "%s%s,params_m,config\n", blocks++ ? "\n\n" : "", name);
		for (int64_t k = 0; k < n; k++) {
			const struct ax_sweep_rec *r = &rs->r[rows[k].i];
			fprintf(f, "%.6g,%.6g,%s\n", r->metrics[AX_METRIC_MACS] / 1e6,
				r->metrics[AX_METRIC_PARAMS] / 1e6, r->name);
		}
	}
	free(rows);
}

bool ax_sweep_recs_trained(const struct ax_sweep_recs *rs)
{
	for (int64_t i = 0; i < rs->n; i++)
		if (isfinite(rs->r[i].metrics[AX_METRIC_VALID_LOSS]))
			return true;
	return false;
}

void ax_sweep_write_plot_trained(FILE *f, const struct ax_sweep_meta *m,
				 const struct ax_sweep_recs *rs)
{
	struct front_row *rows = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *rows);
	ax_sweep_name *names = ax_sweep_display_names(m, rs);
	if (!rows || !names) {
		free(rows);
		free(names);
		return;
	}
	int blocks = 0;
	for (int fam = 0; fam < m->n_families; fam++) {
		int64_t n = 0;
		for (int64_t i = 0; i < rs->n; i++)
			if (rs->r[i].family == fam &&
			    isfinite(rs->r[i].metrics[AX_METRIC_VALID_LOSS]))
				rows[n++] = (struct front_row){ rs->r[i].metrics[AX_METRIC_MACS], i };
		if (!n)
			continue;
		qsort(rows, (size_t)n, sizeof *rows, by_macs);
		char name[96];
		legend(m, fam, name, sizeof name);
		fprintf(f, "%s%s,valid_loss,std,config\n", blocks++ ? "\n\n" : "", name);
		for (int64_t k = 0; k < n; k++) {
			const struct ax_sweep_rec *r = &rs->r[rows[k].i];
			double sd = r->metrics[AX_METRIC_VALID_LOSS_STD];
			fprintf(f, "%.6g,%.6g,%.6g,%s\n", r->metrics[AX_METRIC_MACS] / 1e6,
				r->metrics[AX_METRIC_VALID_LOSS], isfinite(sd) ? sd : 0.0,
				names[rows[k].i]);
		}
	}
	free(names);
	free(rows);
}

/* --- the trained points, for people ----------------------------------- */

/* 24.9M, 783K, 950: three significant digits */
static void human(char *buf, size_t size, double v)
{
	static const struct { double div; const char *suffix; } u[] = {
		{ 1e9, "G" }, { 1e6, "M" }, { 1e3, "K" } };
	for (size_t k = 0; k < sizeof u / sizeof u[0]; k++)
		if (fabs(v) >= u[k].div) {
			double x = v / u[k].div;
			snprintf(buf, size, fabs(x) >= 100 ? "%.0f%s" : fabs(x) >= 10 ?
				 "%.1f%s" : "%.2f%s", x, u[k].suffix);
			return;
		}
	snprintf(buf, size, "%.0f", v);
}

struct rank_row {
	double key;               /* larger is better; -inf for failed rows */
	int64_t i;                /* into rs */
};

static int by_key(const void *a, const void *b)
{
	const struct rank_row *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* The trained.error of a record's line ("" when it has none). */
static void rec_error(const struct ax_sweep_rec *r, char *buf, size_t size)
{
	int col = 0;
	json_t *root = ax_json_parse(r->line, r->len, &col);
	json_t *t = root ? json_object_get(root, "trained") : NULL;
	buf[0] = '\0';
	if (!t || !ax_json_get_str(json_object_get(t, "error"), buf, size))
		buf[0] = '\0';
	json_decref(root);
}

/* "3.1234 +- 0.0012" (digits after the point), or "-" when v is NaN */
static void mean_std(char *buf, size_t size, int digits, double v, double sd)
{
	if (!isfinite(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f +- %.*f", digits, v, digits,
			 isfinite(sd) ? sd : 0.0);
}

static void trained_row(FILE *f, const struct ax_sweep_meta *m,
			const struct ax_sweep_rec *r, const char *name,
			int64_t rank, int w, bool bleu)
{
	const double *x = r->metrics;
	char macs[32], params[32], loss[96], bl[96], cf[96];
	human(macs, sizeof macs, x[AX_METRIC_MACS]);
	human(params, sizeof params, x[AX_METRIC_PARAMS]);
	mean_std(loss, sizeof loss, 4, x[AX_METRIC_VALID_LOSS],
		 x[AX_METRIC_VALID_LOSS_STD]);
	mean_std(bl, sizeof bl, 2, x[AX_METRIC_BLEU], x[AX_METRIC_BLEU_STD]);
	mean_std(cf, sizeof cf, 1, x[AX_METRIC_CHRF], x[AX_METRIC_CHRF_STD]);
	fprintf(f, "  %4" PRId64 "  %-12s %-*s %7s %7s  %-18s", rank,
		m->family[r->family], w, name, macs, params, loss);
	if (bleu)
		fprintf(f, "  %-14s %-12s", bl, cf);
	fprintf(f, " %8.1f\n", x[AX_METRIC_TRAIN_SECONDS]);
}

bool ax_sweep_write_trained_table(FILE *f, const struct ax_sweep_meta *m,
				  const struct ax_sweep_recs *rs)
{
	struct rank_row *rows = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *rows);
	ax_sweep_name *names = ax_sweep_display_names(m, rs);
	if (!rows || !names) {
		free(rows);
		free(names);
		return false;
	}
	/* rank by best when it is a trained metric, else by valid loss */
	struct ax_sweep_objective by = m->best;
	if (by.metric < AX_METRIC_TRAINED_BASE)
		by = (struct ax_sweep_objective){ .metric = AX_METRIC_VALID_LOSS };
	int64_t n = 0, n_ok = 0, untrained = 0;
	int w = 6;
	bool bleu = false;
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		bool ok = isfinite(r->metrics[AX_METRIC_VALID_LOSS]);
		if (!ok && !r->train_failed) {
			untrained++;
			continue;
		}
		double key = ok ? ax_sweep_fitness(&by, r->metrics) : -INFINITY;
		rows[n++] = (struct rank_row){ isnan(key) ? -DBL_MAX : key, i };
		n_ok += ok;
		bleu |= isfinite(r->metrics[AX_METRIC_BLEU]);
		if ((int)strlen(names[i]) > w)
			w = (int)strlen(names[i]);
	}
	if (!n) {
		free(names);
		free(rows);
		return true;
	}
	qsort(rows, (size_t)n, sizeof *rows, by_key);
	fprintf(f, "trained points, by %s %s:\n", by.maximize ? "max" : "min",
		ax_metric_name(by.metric));
	fprintf(f, "  %4s  %-12s %-*s %7s %7s  %-18s", "rank", "family", w, "design",
		"MACs", "params", "valid_loss");
	if (bleu)
		fprintf(f, "  %-14s %-12s", "BLEU", "chrF");
	fprintf(f, " %8s\n", "train_s");
	for (int64_t k = 0; k < n_ok; k++)
		trained_row(f, m, &rs->r[rows[k].i], names[rows[k].i], k + 1, w,
			    bleu);
	for (int64_t k = n_ok; k < n; k++) {
		const struct ax_sweep_rec *r = &rs->r[rows[k].i];
		char err[256];
		rec_error(r, err, sizeof err);
		fprintf(f, "     -  %-12s %-*s training failed: %s\n", m->family[r->family],
			w, names[rows[k].i], err);
	}
	if (untrained)
		fprintf(f, "  (%" PRId64 " more point%s not trained: a constraint failed "
			"first)\n", untrained, untrained == 1 ? "" : "s");
	free(names);
	free(rows);
	return true;
}
