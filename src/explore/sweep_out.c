/*
 * sweep_out.c - sweep.json, reading points.jsonl back, and the pareto,
 * best and plot-data tables (see sweep_out.h). Both files are read with
 * libjansson (json_read.h); the readers take the top-level members the
 * tables need and ignore the rest.
 */
#include "sweep_out.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_io.h"
#include "json.h"
#include "json_read.h"
#include "pareto.h"

/* --- meta ------------------------------------------------------------ */

void ax_sweep_meta_from(struct ax_sweep_meta *m, const struct ax_sweep *sw)
{
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", sw->name);
	snprintf(m->convention, sizeof m->convention, "%s", ax_convention_names[sw->convention]);
	snprintf(m->mode, sizeof m->mode, "%s", ax_mode_names[sw->mode]);
	m->src_len = sw->src_len;
	m->tgt_len = sw->tgt_len;
	m->n_points = sw->n_points;
	m->n_families = sw->n_families;
	for (int f = 0; f < sw->n_families; f++) {
		snprintf(m->family[f], sizeof m->family[f], "%s", sw->family[f].label);
		snprintf(m->family_kind[f], sizeof m->family_kind[f], "%s",
			 ax_family_names[sw->family[f].base.family]);
	}
	m->n_objectives = sw->n_objectives;
	memcpy(m->objective, sw->objective, sizeof m->objective);
	m->best = sw->best;
	m->budget_metric = sw->budget_metric;
	m->n_budgets = sw->n_budgets;
	memcpy(m->budget, sw->budget, sizeof m->budget);
}

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

void ax_sweep_meta_write(FILE *f, const struct ax_sweep_meta *m)
{
	struct ax_json j;
	char buf[128];
	ax_json_init(&j, f, AX_JSON_COMPACT);
	ax_json_begin_object(&j);
	ax_json_key(&j, "name");
	ax_json_string(&j, m->name);
	ax_json_key(&j, "convention");
	ax_json_string(&j, m->convention);
	ax_json_key(&j, "mode");
	ax_json_string(&j, m->mode);
	ax_json_key(&j, "src_len");
	ax_json_int(&j, m->src_len);
	ax_json_key(&j, "tgt_len");
	ax_json_int(&j, m->tgt_len);
	ax_json_key(&j, "n_points");
	ax_json_int(&j, m->n_points);
	ax_json_key(&j, "families");
	ax_json_begin_array(&j);
	for (int i = 0; i < m->n_families; i++) {
		ax_json_begin_object(&j);
		ax_json_key(&j, "name");
		ax_json_string(&j, m->family[i]);
		ax_json_key(&j, "kind");
		ax_json_string(&j, m->family_kind[i]);
		ax_json_end_object(&j);
	}
	ax_json_end_array(&j);
	ax_json_key(&j, "objectives");
	ax_json_begin_array(&j);
	for (int i = 0; i < m->n_objectives; i++) {
		snprintf(buf, sizeof buf, "%s:%s", m->objective[i].maximize ? "max" : "min",
			 ax_metric_name(m->objective[i].metric));
		ax_json_string(&j, buf);
	}
	ax_json_end_array(&j);
	ax_json_key(&j, "best");
	snprintf(buf, sizeof buf, "%s:%s", m->best.maximize ? "max" : "min",
		 ax_metric_name(m->best.metric));
	ax_json_string(&j, buf);
	ax_json_key(&j, "budget_metric");
	ax_json_string(&j, ax_metric_name(m->budget_metric));
	ax_json_key(&j, "budgets");
	ax_json_begin_array(&j);
	for (int i = 0; i < m->n_budgets; i++)
		ax_json_double(&j, m->budget[i]);
	ax_json_end_array(&j);
	ax_json_end_object(&j);
	fputc('\n', f);
}

bool ax_sweep_meta_equal(const struct ax_sweep_meta *a, const struct ax_sweep_meta *b)
{
	if (strcmp(a->name, b->name) || strcmp(a->convention, b->convention) ||
	    strcmp(a->mode, b->mode) || a->src_len != b->src_len ||
	    a->tgt_len != b->tgt_len || a->n_points != b->n_points ||
	    a->n_families != b->n_families || a->n_objectives != b->n_objectives ||
	    a->n_budgets != b->n_budgets || a->best.metric != b->best.metric ||
	    a->best.maximize != b->best.maximize || a->budget_metric != b->budget_metric)
		return false;
	for (int i = 0; i < a->n_families; i++)
		if (strcmp(a->family[i], b->family[i]) ||
		    strcmp(a->family_kind[i], b->family_kind[i]))
			return false;
	for (int i = 0; i < a->n_objectives; i++)
		if (a->objective[i].metric != b->objective[i].metric ||
		    a->objective[i].maximize != b->objective[i].maximize)
			return false;
	for (int i = 0; i < a->n_budgets; i++)
		if (a->budget[i] != b->budget[i])
			return false;
	return true;
}

/* --- reading sweep.json and points.jsonl (jansson, json_read.h) ------ */

static bool parse_objective(const char *s, struct ax_sweep_objective *o)
{
	if (strncmp(s, "min:", 4) && strncmp(s, "max:", 4))
		return false;
	o->maximize = s[1] == 'a';
	o->metric = ax_metric_find(s + 4);
	return o->metric >= 0;
}

/* An objective string such as "min:macs". */
static bool get_objective(const json_t *v, struct ax_sweep_objective *o)
{
	char s[96];
	return ax_json_get_str(v, s, sizeof s) && parse_objective(s, o);
}

/* "families": [{"name": ..., "kind": ...}, ...]; other members ignored. */
static bool meta_families(struct ax_sweep_meta *m, const json_t *a)
{
	size_t i;
	const json_t *v;
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v) {
		if (m->n_families == AX_SWEEP_MAX_FAMILIES || !json_is_object(v))
			return false;
		int f = m->n_families++;
		const json_t *name = json_object_get(v, "name");
		const json_t *kind = json_object_get(v, "kind");
		if ((name && !ax_json_get_str(name, m->family[f], sizeof m->family[f])) ||
		    (kind && !ax_json_get_str(kind, m->family_kind[f],
					      sizeof m->family_kind[f])))
			return false;
	}
	return true;
}

static bool meta_lists(struct ax_sweep_meta *m, const json_t *root)
{
	size_t i;
	const json_t *v, *a;
	if ((a = json_object_get(root, "families")) && !meta_families(m, a))
		return false;
	if ((a = json_object_get(root, "objectives"))) {
		if (!json_is_array(a))
			return false;
		json_array_foreach(a, i, v)
			if (m->n_objectives == AX_SWEEP_MAX_OBJECTIVES ||
			    !get_objective(v, &m->objective[m->n_objectives++]))
				return false;
	}
	if ((a = json_object_get(root, "budgets"))) {
		if (!json_is_array(a))
			return false;
		json_array_foreach(a, i, v)
			if (m->n_budgets == AX_SWEEP_MAX_BUDGETS ||
			    !ax_json_get_f64(v, &m->budget[m->n_budgets++]))
				return false;
	}
	return true;
}

/* The members of sweep.json; absent ones keep their defaults, unknown
 * ones are ignored, a known one of the wrong type fails. */
static bool meta_members(struct ax_sweep_meta *m, const json_t *root)
{
	static const struct { const char *key; size_t off; } ints[] = {
		{ "src_len", offsetof(struct ax_sweep_meta, src_len) },
		{ "tgt_len", offsetof(struct ax_sweep_meta, tgt_len) },
		{ "n_points", offsetof(struct ax_sweep_meta, n_points) },
	};
	const json_t *v;
	char s[128];
	if (!json_is_object(root))
		return false;
	if (((v = json_object_get(root, "name")) &&
	     !ax_json_get_str(v, m->name, sizeof m->name)) ||
	    ((v = json_object_get(root, "convention")) &&
	     !ax_json_get_str(v, m->convention, sizeof m->convention)) ||
	    ((v = json_object_get(root, "mode")) &&
	     !ax_json_get_str(v, m->mode, sizeof m->mode)))
		return false;
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if ((v = json_object_get(root, ints[i].key)) &&
		    !ax_json_get_i64(v, INT64_MIN, INT64_MAX,
				     (int64_t *)((char *)m + ints[i].off)))
			return false;
	if ((v = json_object_get(root, "best")) && !get_objective(v, &m->best))
		return false;
	if ((v = json_object_get(root, "budget_metric")) &&
	    (!ax_json_get_str(v, s, sizeof s) ||
	     (m->budget_metric = ax_metric_find(s)) < 0))
		return false;
	return meta_lists(m, root);
}

static char *slurp(const char *path, size_t *len, struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 65536 > cap) {
			cap = cap ? 2 * cap : 1 << 20;
			char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
				return NULL;
			}
			buf = p;
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (!k)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

enum ax_status ax_sweep_meta_read(struct ax_sweep_meta *m, const char *path,
				  struct ax_diag *d)
{
	memset(m, 0, sizeof *m);
	m->budget_metric = AX_METRIC_MACS;
	size_t len;
	char *buf = slurp(path, &len, d);
	if (!buf)
		return d ? d->status : AX_ERR_IO;
	int col = 1;
	json_t *root = ax_json_parse(buf, len, &col);
	bool ok = root && meta_members(m, root) && m->n_families > 0 &&
		  m->n_objectives > 0;
	json_decref(root);
	free(buf);
	if (!ok)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 1, col,
				   "not an archex sweep.json");
	return AX_OK;
}

/* --- records ------------------------------------------------------------ */

/* "metrics": {name: number or null, ...}; names not in ax_metric_names
 * are ignored. */
static bool rec_metrics(struct ax_sweep_rec *r, const json_t *o)
{
	const char *key;
	const json_t *v;
	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, key, v) {
		int k = ax_metric_find(key);
		if (k >= 0 && !ax_json_get_f64(v, &r->metrics[k]))
			return false;
	}
	return true;
}

/* Fills r from one parsed line: id, index and family are required, the
 * family must be one of m's; name, feasible and metrics are optional. */
static bool rec_members(struct ax_sweep_rec *r, const struct ax_sweep_meta *m,
			const json_t *root)
{
	const json_t *v;
	char fam[64];
	if (!json_is_object(root) ||
	    !ax_json_get_str(json_object_get(root, "id"), r->id, sizeof r->id) ||
	    !ax_json_get_i64(json_object_get(root, "index"), 0, INT64_MAX,
			     &r->index) ||
	    !ax_json_get_str(json_object_get(root, "family"), fam, sizeof fam))
		return false;
	r->family = -1;
	for (int f = 0; f < m->n_families && r->family < 0; f++)
		if (!strcmp(fam, m->family[f]))
			r->family = f;
	if (r->family < 0)
		return false;
	if ((v = json_object_get(root, "name")) &&
	    !ax_json_get_str(v, r->name, sizeof r->name))
		return false;
	if ((v = json_object_get(root, "feasible"))) {
		if (!json_is_boolean(v))
			return false;
		r->feasible = json_is_true(v);
	}
	v = json_object_get(root, "metrics");
	return !v || rec_metrics(r, v);
}

enum ax_status ax_sweep_recs_read(struct ax_sweep_recs *rs,
				  const struct ax_sweep_meta *m,
				  const char *path, struct ax_diag *d)
{
	size_t len;
	char *buf = slurp(path, &len, d);
	if (!buf)
		return d ? d->status : AX_ERR_IO;
	enum ax_status st = AX_OK;
	int64_t lineno = 0;
	for (size_t at = 0; at < len;) {
		char *nl = memchr(buf + at, '\n', len - at);
		if (!nl)
			break;           /* a torn last line: not a record */
		size_t n = (size_t)(nl - (buf + at));
		lineno++;
		if (rs->n == rs->cap) {
			int64_t cap = rs->cap ? 2 * rs->cap : 1024;
			struct ax_sweep_rec *p = realloc(rs->r, (size_t)cap * sizeof *p);
			if (!p) {
				st = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
				break;
			}
			rs->r = p;
			rs->cap = cap;
		}
		struct ax_sweep_rec *r = &rs->r[rs->n];
		memset(r, 0, sizeof *r);
		for (int k = 0; k < AX_METRIC_COUNT; k++)
			r->metrics[k] = NAN;
		int col = 1;
		json_t *root = ax_json_parse(buf + at, n, &col);
		bool ok = root && rec_members(r, m, root);
		json_decref(root);
		if (!ok) {
			st = ax_diag_set(d, AX_ERR_FORMAT, path, (int)lineno, col,
					 "not a point of sweep '%s' (a foreign or corrupt line)",
					 m->name);
			break;
		}
		r->line = malloc(n + 1);
		if (!r->line) {
			st = ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
			break;
		}
		memcpy(r->line, buf + at, n);
		r->line[n] = '\0';
		r->len = n;
		rs->n++;
		at += n + 1;
	}
	free(buf);
	return st;
}

static int by_index(const void *a, const void *b)
{
	const struct ax_sweep_rec *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int by_id(const void *a, const void *b)
{
	const struct ax_sweep_rec *const *x = a, *const *y = b;
	int c = strcmp((*x)->id, (*y)->id);
	if (c)
		return c;
	return ((*x)->index > (*y)->index) - ((*x)->index < (*y)->index);
}

void ax_sweep_recs_finish(struct ax_sweep_recs *rs)
{
	if (rs->n < 2)
		return;
	/* mark later copies of an id (by index), then compact in index order */
	struct ax_sweep_rec **p = malloc((size_t)rs->n * sizeof *p);
	if (p) {
		for (int64_t i = 0; i < rs->n; i++)
			p[i] = &rs->r[i];
		qsort(p, (size_t)rs->n, sizeof *p, by_id);
		for (int64_t i = 1; i < rs->n; i++)
			if (!strcmp(p[i]->id, p[i - 1]->id))
				p[i]->index = -1;
		free(p);
		int64_t o = 0;
		for (int64_t i = 0; i < rs->n; i++) {
			if (rs->r[i].index < 0) {
				free(rs->r[i].line);
				continue;
			}
			rs->r[o++] = rs->r[i];
		}
		rs->n = o;
	}
	qsort(rs->r, (size_t)rs->n, sizeof *rs->r, by_index);
}

void ax_sweep_recs_free(struct ax_sweep_recs *rs)
{
	for (int64_t i = 0; i < rs->n; i++)
		free(rs->r[i].line);
	free(rs->r);
	memset(rs, 0, sizeof *rs);
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

/* --- the directory --------------------------------------------------- */

typedef void (*table_fn)(FILE *f, const struct ax_sweep_meta *m,
			 const struct ax_sweep_recs *rs, const bool *on_front);

static void pareto_tab(FILE *f, const struct ax_sweep_meta *m,
		       const struct ax_sweep_recs *rs, const bool *on)
{
	ax_sweep_write_pareto(f, m, rs, on);
}

static void best_tab(FILE *f, const struct ax_sweep_meta *m,
		     const struct ax_sweep_recs *rs, const bool *on)
{
	(void)on;
	ax_sweep_write_best(f, m, rs);
}

static void points_tab(FILE *f, const struct ax_sweep_meta *m,
		       const struct ax_sweep_recs *rs, const bool *on)
{
	(void)on;
	ax_sweep_write_plot_points(f, m, rs);
}

static void fronts_tab(FILE *f, const struct ax_sweep_meta *m,
		       const struct ax_sweep_recs *rs, const bool *on)
{
	ax_sweep_write_plot_fronts(f, m, rs, on);
}

static enum ax_status write_atomic(const char *path, table_fn fn,
				   const struct ax_sweep_meta *m,
				   const struct ax_sweep_recs *rs, const bool *on,
				   struct ax_diag *d)
{
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	fn(f, m, rs, on);
	return ax_atomic_commit(&a, d);
}

/* The tables of ax_sweep_finalize from records already read and
 * finished; takes rs over: hands it to out, or frees it. */
static enum ax_status write_tables(const char *dir, const struct ax_sweep_meta *m,
				   struct ax_sweep_recs *rs,
				   struct ax_sweep_recs *out, struct ax_diag *d)
{
	char path[AX_PATH_MAX];
	enum ax_status st = AX_OK;
	bool *on = malloc((size_t)(rs->n ? rs->n : 1) * sizeof *on);
	if (!on) {
		st = ax_diag_set(d, AX_ERR_NOMEM, dir, 0, 0, "out of memory");
		goto free_recs;
	}
	if ((st = ax_sweep_front(m, rs, on, d)))
		goto free_recs;
	snprintf(path, sizeof path, "%s/pareto.csv", dir);
	if ((st = write_atomic(path, pareto_tab, m, rs, on, d)))
		goto free_recs;
	snprintf(path, sizeof path, "%s/best.csv", dir);
	if ((st = write_atomic(path, best_tab, m, rs, on, d)))
		goto free_recs;
	snprintf(path, sizeof path, "%s/plots", dir);
	if (mkdir(path, 0777) && errno != EEXIST) {
		st = ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot create: %s", strerror(errno));
		goto free_recs;
	}
	snprintf(path, sizeof path, "%s/plots/points.csv", dir);
	if ((st = write_atomic(path, points_tab, m, rs, on, d)))
		goto free_recs;
	snprintf(path, sizeof path, "%s/plots/fronts.csv", dir);
	st = write_atomic(path, fronts_tab, m, rs, on, d);
free_recs:
	free(on);
	if (out && st == AX_OK)
		*out = *rs;
	else
		ax_sweep_recs_free(rs);
	return st;
}

enum ax_status ax_sweep_finalize(const char *dir, const struct ax_sweep_meta *m,
				 struct ax_sweep_recs *out, struct ax_diag *d)
{
	char path[AX_PATH_MAX];
	struct ax_sweep_recs rs = { 0 };
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	enum ax_status st = ax_sweep_recs_read(&rs, m, path, d);
	if (st) {
		ax_sweep_recs_free(&rs);
		return st;
	}
	ax_sweep_recs_finish(&rs);
	return write_tables(dir, m, &rs, out, d);
}

/* --- running into a directory ------------------------------------------ */

enum ax_status ax_sweep_make_dirs(const char *path, struct ax_diag *d)
{
	char buf[AX_PATH_MAX];
	if (strlen(path) >= sizeof buf)
		return ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0, "path too long");
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; ; p++)
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST)
				return ax_diag_set(d, AX_ERR_IO, buf, 0, 0, "cannot create the directory: %s",
						   strerror(errno));
			*p = c;
			if (!c)
				return AX_OK;
		}
}

static void write_meta_tab(FILE *f, const struct ax_sweep_meta *m,
			   const struct ax_sweep_recs *rs, const bool *on)
{
	(void)rs;
	(void)on;
	ax_sweep_meta_write(f, m);
}

/* ids already in points.jsonl, sorted for bsearch */
struct done {
	uint64_t *id;
	int64_t n, cap;
};

static enum ax_status add_done(void *ctx, const char *id, size_t len, int64_t line,
			       struct ax_diag *d)
{
	struct done *s = ctx;
	char buf[17], *end;
	(void)line;
	if (len != 16)
		return AX_OK;
	memcpy(buf, id, 16);
	buf[16] = '\0';
	uint64_t v = strtoull(buf, &end, 16);
	if (*end)
		return AX_OK;
	if (s->n == s->cap) {
		int64_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *p = realloc(s->id, (size_t)cap * sizeof *p);
		if (!p)
			return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
		s->id = p;
		s->cap = cap;
	}
	s->id[s->n++] = v;
	return AX_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

struct dir_ctx {
	const struct ax_sweep *sw;
	const struct ax_sweep_dir_opts *o;
	struct ax_sweep_dir_stats *st;
	struct ax_jsonl out;
	struct done done;
	char *buf;
	size_t size;
};

static enum ax_status on_point(void *vctx, const struct ax_sweep_point *pt,
			       const struct ax_sweep_stats *rst, struct ax_diag *d)
{
	struct dir_ctx *c = vctx;
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, c->sw, rst);
	if (c->done.n && bsearch(&pt->id, c->done.id, (size_t)c->done.n,
				 sizeof *c->done.id, cmp_u64)) {
		c->st->already++;
		return AX_OK;
	}
	FILE *f = fmemopen(c->buf, c->size, "w");
	if (!f)
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "fmemopen: %s", strerror(errno));
	struct ax_diag wd = { 0 };
	enum ax_status ws = ax_sweep_point_write_json(f, c->sw, pt, &wd);
	long len = ftell(f);
	bool full = len < 0 || (size_t)len + 1 >= c->size;
	fclose(f);
	if (full)
		return ax_diag_set(d, AX_ERR_LIMIT, c->out.path, 0, 0,
				   "point %" PRId64 " does not fit a %zu-byte line",
				   pt->index, c->size);
	if (ws) {
		if (d)
			*d = wd;
		return ws;
	}
	c->st->written++;
	return ax_jsonl_append(&c->out, c->buf, (size_t)len, d);
}

enum ax_status ax_sweep_run_dir(const struct ax_sweep *sw, const char *dir,
				const struct ax_sweep_dir_opts *o,
				struct ax_sweep_dir_stats *st,
				struct ax_sweep_recs *rs, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	struct ax_sweep_meta meta, old;
	struct dir_ctx c = { .sw = sw, .o = o, .st = st, .size = 1 << 20 };
	enum ax_status s;
	memset(st, 0, sizeof *st);
	c.out.fd = -1;
	if ((s = ax_sweep_make_dirs(dir, d)))
		return s;
	ax_sweep_meta_from(&meta, sw);
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	bool exists = access(path, F_OK) == 0;
	if (exists && !o->resume)
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "already exists; resume it or remove it to start over");
	if (exists) {
		char mp[AX_PATH_MAX + 32];
		snprintf(mp, sizeof mp, "%s/sweep.json", dir);
		if (access(mp, F_OK) == 0) {
			if ((s = ax_sweep_meta_read(&old, mp, d)))
				return s;
			if (!ax_sweep_meta_equal(&old, &meta))
				return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0,
						   "written by a different sweep (objectives, budgets, "
						   "families or lengths differ); use another directory");
		}
		if ((s = ax_jsonl_recover(path, &st->torn_bytes, d)))
			return s;
		int64_t bad = 0;
		if ((s = ax_jsonl_read_ids(path, add_done, &c.done, &bad, d)))
			goto free_done;
		qsort(c.done.id, (size_t)c.done.n, sizeof *c.done.id, cmp_u64);
	}
	snprintf(path, sizeof path, "%s/sweep.json", dir);
	if ((s = write_atomic(path, write_meta_tab, &meta, NULL, NULL, d)))
		goto free_done;
	c.buf = malloc(c.size);
	if (!c.buf) {
		s = ax_diag_set(d, AX_ERR_NOMEM, dir, 0, 0, "out of memory");
		goto free_done;
	}
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	if ((s = ax_jsonl_open(&c.out, path, d)))
		goto free_done;
	s = ax_sweep_run(sw, &o->run, on_point, &c, &st->run, d);
	enum ax_status cs = ax_jsonl_close(&c.out, s ? NULL : d);
	if (!s)
		s = cs;
	if (!s)
		s = ax_sweep_finalize(dir, &meta, rs, d);
free_done:
	free(c.buf);
	free(c.done.id);
	return s;
}

static void write_points_tab(FILE *f, const struct ax_sweep_meta *m,
			     const struct ax_sweep_recs *rs, const bool *on)
{
	(void)m;
	(void)on;
	for (int64_t i = 0; i < rs->n; i++) {
		fwrite(rs->r[i].line, 1, rs->r[i].len, f);
		fputc('\n', f);
	}
}

enum ax_status ax_sweep_merge_dirs(const char *outdir, const char *const *dirs,
				   int n, struct ax_sweep_meta *meta,
				   struct ax_sweep_recs *out, int64_t *lines_read,
				   struct ax_diag *d)
{
	struct ax_sweep_meta m;
	struct ax_sweep_recs rs = { 0 };
	char path[AX_PATH_MAX + 32];
	enum ax_status s = AX_OK;
	for (int i = 0; i < n && !s; i++) {
		snprintf(path, sizeof path, "%s/sweep.json", dirs[i]);
		if ((s = ax_sweep_meta_read(i ? &m : meta, path, d)))
			break;
		if (i && !ax_sweep_meta_equal(meta, &m)) {
			s = ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
					"from a different sweep than %s/sweep.json", dirs[0]);
			break;
		}
		snprintf(path, sizeof path, "%s/points.jsonl", dirs[i]);
		s = ax_sweep_recs_read(&rs, meta, path, d);
	}
	if (lines_read)
		*lines_read = rs.n;
	if (!s) {
		ax_sweep_recs_finish(&rs);
		s = ax_sweep_make_dirs(outdir, d);
	}
	if (!s) {
		snprintf(path, sizeof path, "%s/sweep.json", outdir);
		s = write_atomic(path, write_meta_tab, meta, NULL, NULL, d);
	}
	if (!s) {
		snprintf(path, sizeof path, "%s/points.jsonl", outdir);
		s = write_atomic(path, write_points_tab, meta, &rs, NULL, d);
	}
	/* The tables come from the records just written, not read again:
	 * points.jsonl holds exactly rs, finished. */
	if (!s)
		return write_tables(outdir, meta, &rs, out, d);
	ax_sweep_recs_free(&rs);
	return s;
}
