/*
 * study.c - the proxy study's computations (study.h): reading trained
 * sweep directories, the join to published configs with the point's
 * vocabulary, the rank correlations, the MAC budget groups and the
 * budget study. Printing and files are in study_out.c.
 */
#include "study.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cost.h"
#include "graph.h"
#include "json_read.h"
#include "model.h"
#include "published.h"
#include "rankcorr.h"

const char *const ax_study_proxy_names[AX_STUDY_PROXY_COUNT] = {
	[AX_STUDY_PROXY_BLEU] = "bleu",
	[AX_STUDY_PROXY_VALID_LOSS] = "valid_loss",
	[AX_STUDY_PROXY_PARAMS] = "params",
	[AX_STUDY_PROXY_NONEMBEDDING_PARAMS] = "nonembedding_params",
};
_Static_assert(sizeof ax_study_proxy_names / sizeof ax_study_proxy_names[0] ==
	       AX_STUDY_PROXY_COUNT, "a name per proxy");

/* --- reading a sweep directory ------------------------------------------ */

/* The "train budget" part of sweep.json's resolved sweep
 * ("train_tokens=100000"), or false for a sweep without train:. */
static bool train_budget(const struct ax_sweep_ident *id, char *out, size_t size,
			 double *value)
{
	for (int i = 0; i < id->n; i++)
		if (!strcmp(id->key[i], "train budget")) {
			snprintf(out, size, "%s", id->val[i]);
			const char *eq = strchr(id->val[i], '=');
			*value = eq ? strtod(eq + 1, NULL) : NAN;
			return true;
		}
	return false;
}

/* The study's fields of one parsed points.jsonl line. */
static bool point_members(struct ax_study_point *p, const json_t *root)
{
	const json_t *res = json_object_get(root, "result");
	const json_t *cfg = json_object_get(root, "config");
	const json_t *tr = json_object_get(root, "trained");
	char hex[17], share[16];
	int64_t vs, vt;
	if (!ax_json_get_str(json_object_get(res, "config_hash"), hex, sizeof hex) ||
	    strlen(hex) != 16 || strspn(hex, "0123456789abcdef") != 16 ||
	    !ax_json_get_i64(json_object_get(cfg, "vocab.source"), 0, AX_MAX_VOCAB, &vs) ||
	    !ax_json_get_i64(json_object_get(cfg, "vocab.target"), 1, AX_MAX_VOCAB, &vt) ||
	    !ax_json_get_str(json_object_get(cfg, "vocab.share"), share, sizeof share))
		return false;
	p->config_hash = strtoull(hex, NULL, 16);
	p->vocab_source = vs;
	p->vocab_target = vt;
	int k = 0;
	while (k < AX_SHARE_COUNT && strcmp(ax_share_names[k], share))
		k++;
	if (k == AX_SHARE_COUNT)
		return false;
	p->share = (enum ax_share)k;
	const json_t *seeds = json_object_get(tr, "seeds");
	p->n_seeds = json_is_array(seeds) ? (int)json_array_size(seeds) : 0;
	return true;
}

/* Appends the trained records of rs to s->pt. */
static enum ax_status take_points(struct ax_study_sweep *s, const struct ax_sweep_recs *rs,
				  const char *path, struct ax_diag *d)
{
	s->pt = calloc(rs->n ? (size_t)rs->n : 1, sizeof *s->pt);   /* (rs->n) */
	if (!s->pt)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	s->n_records = rs->n;
	for (int64_t i = 0; i < rs->n; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		if (!isfinite(r->metrics[AX_METRIC_VALID_LOSS])) {
			s->n_untrained++;
			continue;
		}
		struct ax_study_point *p = &s->pt[s->n];
		json_t *root = ax_json_parse(r->line, r->len, NULL);
		bool ok = root && point_members(p, root);
		json_decref(root);
		if (!ok)
			return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
					   "point %s: no result.config_hash or config vocab.* "
					   "(not written by this archex?)", r->id);
		snprintf(p->id, sizeof p->id, "%s", r->id);
		snprintf(p->name, sizeof p->name, "%s", r->name);
		snprintf(p->family, sizeof p->family, "%s", s->meta.family[r->family]);
		snprintf(p->kind, sizeof p->kind, "%s", s->meta.family_kind[r->family]);
		p->macs = r->metrics[AX_METRIC_MACS];
		p->nonembedding_params = r->metrics[AX_METRIC_NONEMBEDDING_PARAMS];
		p->valid_loss = r->metrics[AX_METRIC_VALID_LOSS];
		p->valid_loss_std = r->metrics[AX_METRIC_VALID_LOSS_STD];
		p->bleu = r->metrics[AX_METRIC_BLEU];
		p->bleu_std = r->metrics[AX_METRIC_BLEU_STD];
		s->n++;
	}
	return AX_OK;
}

enum ax_status ax_study_sweep_load(struct ax_study_sweep *s, const char *dir,
				   struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	struct stat sb;
	struct ax_sweep_ident id;
	struct ax_sweep_recs rs = { 0 };
	enum ax_status st;

	memset(s, 0, sizeof *s);
	if (strlen(dir) >= sizeof s->dir)
		return ax_diag_set(d, AX_ERR_LIMIT, dir, 0, 0, "path too long");
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return ax_diag_set(d, AX_ERR_IO, dir, 0, 0, "not a directory: %s",
				   stat(dir, &sb) ? strerror(errno) : "a file");
	snprintf(path, sizeof path, "%s/sweep.json", dir);
	if ((st = ax_sweep_meta_read(&s->meta, path, d)))
		return st;
	if ((st = ax_sweep_ident_read(&id, path, d)))
		return st;
	bool trained = train_budget(&id, s->budget, sizeof s->budget, &s->budget_value);
	ax_sweep_ident_free(&id);
	if (!trained)
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "not a trained sweep: sweep %s has no train: section "
				   "(docs/sweeps.md, \"Trained sweeps\")", s->meta.name);
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	if (stat(path, &sb) != 0)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
	if (!(st = ax_sweep_recs_read(&rs, &s->meta, path, d))) {
		ax_sweep_recs_finish(&rs);
		st = take_points(s, &rs, path, d);
	}
	ax_sweep_recs_free(&rs);
	if (!st && !s->n)
		st = ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				 "no trained point (%" PRId64 " points, none with a valid loss)",
				 s->n_records);
	return st;
}

void ax_study_sweep_free(struct ax_study_sweep *s)
{
	free(s->pt);
	s->pt = NULL;
	s->n = 0;
}

/* --- (a) the join and the correlations ------------------------------------ */

/* The exact-convention params of cfg's model, or NaN. */
static double exact_params(const struct ax_config *cfg)
{
	struct ax_graph g;
	struct ax_cost *c = malloc(sizeof *c);
	double p = NAN;
	ax_graph_init(&g);
	if (c && ax_model_build(cfg, &g, NULL) == AX_OK) {
		ax_cost_graph(&g, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE, c);
		p = (double)c->params;
	}
	ax_graph_free(&g);
	free(c);
	return p;
}

/* The point of g whose model is base with the point's vocabulary, or
 * -1; two such points are an error (two recipes of one design). */
static enum ax_status find_point(const struct ax_study *st, const struct ax_study_group *g,
				 const struct ax_config *base, const char *name, int64_t *out,
				 double *params, struct ax_diag *d)
{
	*out = -1;
	for (int64_t i = 0; i < g->n; i++) {
		const struct ax_study_point *p = &g->pt[i];
		struct ax_config c = *base;
		c.vocab_source = p->vocab_source;
		c.vocab_target = p->vocab_target;
		c.share = p->share;
		if (ax_config_validate(&c, NULL) != AX_OK || ax_config_hash(&c) != p->config_hash)
			continue;
		if (*out >= 0)
			return ax_diag_set(d, AX_ERR_INPUT, st->sw[p->sweep].dir, 0, 0,
					   "points %s (%s) and %s (%s) are both %s with the corpus "
					   "vocabulary at %s; the study needs one per design",
					   g->pt[*out].name, st->sw[g->pt[*out].sweep].meta.name,
					   p->name, st->sw[p->sweep].meta.name, name, g->budget);
		*out = i;
		*params = exact_params(&c);
	}
	return AX_OK;
}

static int dataset_index(struct ax_study *st, const char *name)
{
	for (int i = 0; i < st->n_datasets; i++)
		if (!strcmp(st->dataset[i], name))
			return i;
	if (st->n_datasets == AX_STUDY_MAX_DATASETS)
		return -1;
	snprintf(st->dataset[st->n_datasets], sizeof st->dataset[0], "%s", name);
	return st->n_datasets++;
}

/* The proxy's value for a join, signed so that higher agrees with a
 * higher published figure (valid loss is negated). */
static double proxy_value(const struct ax_study *st, const struct ax_study_join *j, int proxy)
{
	const struct ax_study_point *p = &st->group[st->main_group].pt[j->point];
	switch (proxy) {
	case AX_STUDY_PROXY_BLEU: return p->bleu;
	case AX_STUDY_PROXY_VALID_LOSS: return -p->valid_loss;
	case AX_STUDY_PROXY_PARAMS: return j->params;
	default: return p->nonembedding_params;
	}
}

static enum ax_status correlate(struct ax_study *st, struct ax_diag *d)
{
	double *x = malloc((size_t)(st->n_join + 1) * sizeof *x);   /* (n_join) published */
	double *y = malloc((size_t)(st->n_join + 1) * sizeof *y);   /* (n_join) proxy */
	if (!x || !y) {
		free(x), free(y);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	}
	for (int ds = 0; ds < st->n_datasets; ds++)
		for (int k = 0; k < AX_STUDY_PROXY_COUNT; k++) {
			int64_t n = 0;
			for (int64_t i = 0; i < st->n_join; i++) {
				const struct ax_study_join *j = &st->join[i];
				double v = proxy_value(st, j, k);
				if (strcmp(j->dataset, st->dataset[ds]) || !isfinite(v))
					continue;
				x[n] = j->published, y[n++] = v;
			}
			st->corr[ds][k] = (struct ax_study_corr){ n, ax_spearman(x, y, n),
								  ax_kendall_tau_b(x, y, n) };
		}
	free(x), free(y);
	return AX_OK;
}

/* One published record: joined to the main group's point, if any. */
static enum ax_status join_record(struct ax_study *st, const struct ax_published *r,
				  const char *configs_dir, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 128];
	struct ax_config cfg;
	enum ax_status s;
	snprintf(path, sizeof path, "%s/%s.yaml", configs_dir, r->config);
	if ((s = ax_config_load(path, &cfg, d)))
		return s;
	int64_t at;
	double params = NAN;
	if ((s = find_point(st, &st->group[st->main_group], &cfg, r->config, &at, &params, d)) ||
	    at < 0)
		return s;
	if (dataset_index(st, r->dataset) < 0)
		return ax_diag_set(d, AX_ERR_LIMIT, "", 0, 0, "more than %d datasets",
				   AX_STUDY_MAX_DATASETS);
	struct ax_study_join *j = &st->join[st->n_join++];
	snprintf(j->dataset, sizeof j->dataset, "%s", r->dataset);
	snprintf(j->config, sizeof j->config, "%s", r->config);
	j->published = r->value;
	j->point = at;
	j->params = params;
	return AX_OK;
}

static int cmp_join(const void *a, const void *b)
{
	const struct ax_study_join *x = a, *y = b;
	int c = strcmp(x->dataset, y->dataset);
	return c ? c : (x->point > y->point) - (x->point < y->point);
}

static enum ax_status proxy_trust(struct ax_study *st, const struct ax_study_opts *o,
				  struct ax_diag *d)
{
	struct ax_published_set set = { 0 };
	enum ax_status s = ax_published_load(&set, o->published, d);
	if (!s && !(st->join = calloc((size_t)set.n + 1, sizeof *st->join)))
		s = ax_diag_set(d, AX_ERR_NOMEM, o->published, 0, 0, "out of memory");
	int64_t tried = 0;
	for (int64_t i = 0; !s && i < set.n; i++)
		if (!strcmp(set.rec[i].metric, o->metric)) {
			tried++;
			s = join_record(st, &set.rec[i], o->configs_dir, d);
		}
	ax_published_free(&set);
	if (s)
		return s;
	const struct ax_study_group *g = &st->group[st->main_group];
	if (!st->n_join)
		return ax_diag_set(d, AX_ERR_INPUT, st->sw[0].dir, 0, 0,
				   "no trained point is a published config: %" PRId64
				   " %s records of %s tried against the %" PRId64
				   " trained points of %s (%s) with their configs from %s given "
				   "each point's vocabulary", tried, o->metric, o->published,
				   g->n, g->sweeps, g->budget, o->configs_dir);
	qsort(st->join, (size_t)st->n_join, sizeof *st->join, cmp_join);
	/* datasets in name order, as the joins */
	st->n_datasets = 0;
	for (int64_t i = 0; i < st->n_join; i++)
		dataset_index(st, st->join[i].dataset);
	return correlate(st, d);
}

/* --- (b) the MAC budget groups ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The budget group of macs: the smallest budget b >= macs, if macs is at
 * least (1 - tolerance) b; else -1. */
static int budget_group(const struct ax_study *st, double macs)
{
	for (int b = 0; b < st->n_budgets; b++)
		if (macs <= st->budget[b])
			return macs >= (1 - st->tolerance) * st->budget[b] ? b : -1;
	return -1;
}

/* Whether cell x goes before cell y: by budget, family, MACs, point. */
static bool cell_before(const struct ax_study_group *g, const struct ax_study_cell *x,
			const struct ax_study_cell *y)
{
	const struct ax_study_point *p = &g->pt[x->point], *q = &g->pt[y->point];
	if (x->budget != y->budget)
		return x->budget < y->budget;
	if (p->fam != q->fam)
		return p->fam < q->fam;
	if (p->macs != q->macs)
		return p->macs < q->macs;
	return x->point < y->point;
}

static enum ax_status claim(struct ax_study *st, const struct ax_study_opts *o,
			    struct ax_diag *d)
{
	const struct ax_study_group *s = &st->group[st->main_group];
	st->tolerance = o->tolerance;
	if (o->n_budgets) {
		st->n_budgets = o->n_budgets;
		memcpy(st->budget, o->budget, (size_t)o->n_budgets * sizeof st->budget[0]);
	}
	/* else the union of the main group's sweeps' budgets */
	for (int i = 0; !o->n_budgets && i < st->n_sweeps; i++) {
		const struct ax_study_sweep *w = &st->sw[i];
		if (strcmp(w->budget, s->budget))
			continue;
		for (int b = 0; b < w->meta.n_budgets; b++) {
			int k = 0;
			while (k < st->n_budgets && st->budget[k] != w->meta.budget[b])
				k++;
			if (k < st->n_budgets)
				continue;
			if (st->n_budgets == AX_STUDY_MAX_BUDGETS)
				return ax_diag_set(d, AX_ERR_LIMIT, w->dir, 0, 0,
						   "more than %d MAC budgets", AX_STUDY_MAX_BUDGETS);
			st->budget[st->n_budgets++] = w->meta.budget[b];
		}
	}
	qsort(st->budget, (size_t)st->n_budgets, sizeof st->budget[0], cmp_double);
	if (!(st->cell = calloc((size_t)s->n, sizeof *st->cell)))
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	for (int64_t i = 0; i < s->n; i++) {
		int b = budget_group(st, s->pt[i].macs);
		if (b < 0)
			st->n_outside++;
		else
			st->cell[st->n_cell++] = (struct ax_study_cell){ b, i, false };
	}
	for (int64_t i = 1; i < st->n_cell; i++)   /* insertion sort: tens of points */
		for (int64_t j = i; j > 0 && cell_before(s, &st->cell[j], &st->cell[j - 1]); j--) {
			struct ax_study_cell t = st->cell[j];
			st->cell[j] = st->cell[j - 1], st->cell[j - 1] = t;
		}
	for (int b = 0; b < st->n_budgets; b++) {
		int64_t best = -1;
		for (int64_t i = 0; i < st->n_cell; i++)
			if (st->cell[i].budget == b &&
			    (best < 0 || s->pt[st->cell[i].point].valid_loss <
					 s->pt[st->cell[best].point].valid_loss))
				best = i;
		if (best >= 0)
			st->cell[best].winner = true;
	}
	return AX_OK;
}

/* --- (c) the budget study ------------------------------------------------ */

/* The first point of g with family label fam and model hash h, or -1. */
static int64_t same_design(const struct ax_study_group *g, const char *fam, uint64_t h)
{
	for (int64_t i = 0; i < g->n; i++)
		if (g->pt[i].config_hash == h && !strcmp(g->pt[i].family, fam))
			return i;
	return -1;
}

/* The designs of the main group present in every group. */
static enum ax_status common_designs(struct ax_study *st, struct ax_diag *d)
{
	const struct ax_study_group *m = &st->group[st->main_group];
	if (!(st->design = calloc((size_t)m->n + 1, sizeof *st->design)))
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	for (int64_t i = 0; i < m->n; i++) {
		struct ax_study_design *g = &st->design[st->n_design];
		const struct ax_study_point *p = &m->pt[i];
		bool all = true;
		for (int k = 0; k < st->n_groups && all; k++)
			all = (g->point[k] = same_design(&st->group[k], p->family,
							 p->config_hash)) >= 0;
		/* a design twice in the main group (two sweeps) counts once */
		if (!all || g->point[st->main_group] != i)
			continue;
		g->fam = p->fam;
		snprintf(g->name, sizeof g->name, "%s", p->name);
		st->n_design++;
	}
	return AX_OK;
}

static enum ax_status budget_study(struct ax_study *st, struct ax_diag *d)
{
	enum ax_status s = common_designs(st, d);
	if (s)
		return s;
	int n = st->n_groups;
	int64_t nd = st->n_design;
	double *loss = malloc((size_t)(n * nd + 1) * sizeof *loss);   /* (n, nd) */
	double *rank = malloc((size_t)(nd + 1) * sizeof *rank);       /* (nd) */
	if (!loss || !rank) {
		s = ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
		goto free_bufs;
	}
	for (int k = 0; k < n; k++) {
		for (int64_t i = 0; i < nd; i++)
			loss[k * nd + i] = st->group[k].pt[st->design[i].point[k]].valid_loss;
		if (ax_rank_average(loss + k * nd, nd, rank)) {
			s = ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
			goto free_bufs;
		}
		for (int64_t i = 0; i < nd; i++)
			st->design[i].rank[k] = rank[i];
	}
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++)
			st->kendall[a][b] = ax_kendall_tau_b(loss + a * nd, loss + b * nd, nd);
free_bufs:
	free(loss);
	free(rank);
	return s;
}

/* --- grouping the sweeps --------------------------------------------------- */

/* The row of family label fam (kind kind) in the study's table, added if
 * new; -1 when the table is full. */
static int family_row(struct ax_study *st, const char *fam, const char *kind)
{
	for (int i = 0; i < st->n_families; i++)
		if (!strcmp(st->family[i], fam))
			return i;
	if (st->n_families == AX_STUDY_MAX_FAMILIES)
		return -1;
	snprintf(st->family[st->n_families], sizeof st->family[0], "%s", fam);
	snprintf(st->family_kind[st->n_families], sizeof st->family_kind[0], "%s", kind);
	return st->n_families++;
}

/* The group of budget, added (empty) if new. */
static struct ax_study_group *group_of(struct ax_study *st, const struct ax_study_sweep *s)
{
	for (int k = 0; k < st->n_groups; k++)
		if (!strcmp(st->group[k].budget, s->budget))
			return &st->group[k];
	struct ax_study_group *g = &st->group[st->n_groups++];
	snprintf(g->budget, sizeof g->budget, "%s", s->budget);
	g->value = s->budget_value;
	return g;
}

/* Appends sweep i's points to its group. */
static enum ax_status add_sweep(struct ax_study *st, int i, struct ax_diag *d)
{
	const struct ax_study_sweep *s = &st->sw[i], *s0 = &st->sw[0];
	if (strcmp(s->meta.convention, s0->meta.convention) ||
	    s->meta.src_len != s0->meta.src_len || s->meta.tgt_len != s0->meta.tgt_len)
		return ax_diag_set(d, AX_ERR_INPUT, s->dir, 0, 0,
				   "sweep %s counts MACs under convention %s at S=%" PRId64
				   " T=%" PRId64 ", sweep %s under %s at S=%" PRId64 " T=%" PRId64
				   "; a study compares one count", s->meta.name, s->meta.convention,
				   s->meta.src_len, s->meta.tgt_len, s0->meta.name,
				   s0->meta.convention, s0->meta.src_len, s0->meta.tgt_len);
	struct ax_study_group *g = group_of(st, s);
	struct ax_study_point *pt = realloc(g->pt, (size_t)(g->n + s->n) * sizeof *pt);
	if (!pt)
		return ax_diag_set(d, AX_ERR_NOMEM, s->dir, 0, 0, "out of memory");
	g->pt = pt;
	size_t l = strlen(g->sweeps);
	snprintf(g->sweeps + l, sizeof g->sweeps - l, "%s%s", l ? "+" : "", s->meta.name);
	for (int64_t k = 0; k < s->n; k++) {
		struct ax_study_point *p = &g->pt[g->n++];
		*p = s->pt[k];
		p->sweep = i;
		if ((p->fam = family_row(st, p->family, p->kind)) < 0)
			return ax_diag_set(d, AX_ERR_LIMIT, s->dir, 0, 0, "more than %d families",
					   AX_STUDY_MAX_FAMILIES);
	}
	return AX_OK;
}

/* Groups the loaded sweeps by training budget, ascending; the main
 * group's points come first in the family table. */
static enum ax_status make_groups(struct ax_study *st, struct ax_diag *d)
{
	enum ax_status s;
	const char *main_budget = st->sw[0].budget;
	for (int pass = 0; pass < 2; pass++)   /* the main group's sweeps first */
		for (int i = 0; i < st->n_sweeps; i++)
			if ((pass == 0) == !strcmp(st->sw[i].budget, main_budget) &&
			    (s = add_sweep(st, i, d)))
				return s;
	for (int i = 1; i < st->n_groups; i++)   /* insertion sort by value */
		for (int j = i; j > 0 && st->group[j].value < st->group[j - 1].value; j--) {
			struct ax_study_group t = st->group[j];
			st->group[j] = st->group[j - 1], st->group[j - 1] = t;
		}
	for (int k = 0; k < st->n_groups; k++)
		if (!strcmp(st->group[k].budget, main_budget))
			st->main_group = k;
	return AX_OK;
}

/* --- the whole study ----------------------------------------------------- */

enum ax_status ax_study_run(struct ax_study *st, const char *const *dirs, int n,
			    const struct ax_study_opts *o, struct ax_diag *d)
{
	enum ax_status s;
	memset(st, 0, sizeof *st);
	if (n < 1 || n > AX_STUDY_MAX_SWEEPS)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "the study takes 1 to %d sweep directories, not %d",
				   AX_STUDY_MAX_SWEEPS, n);
	if (!(st->sw = calloc((size_t)n, sizeof *st->sw)))
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	snprintf(st->metric, sizeof st->metric, "%s", o->metric);
	for (int i = 0; i < n; i++, st->n_sweeps++)
		if ((s = ax_study_sweep_load(&st->sw[i], dirs[i], d))) {
			ax_study_sweep_free(&st->sw[i]);
			return s;
		}
	if ((s = make_groups(st, d)) || (s = proxy_trust(st, o, d)) || (s = claim(st, o, d)))
		return s;
	return st->n_groups >= 2 ? budget_study(st, d) : AX_OK;
}

void ax_study_free(struct ax_study *st)
{
	for (int i = 0; st->sw && i < st->n_sweeps; i++)
		ax_study_sweep_free(&st->sw[i]);
	for (int k = 0; k < st->n_groups; k++)
		free(st->group[k].pt);
	free(st->sw);
	free(st->join);
	free(st->cell);
	free(st->design);
	memset(st, 0, sizeof *st);
}
