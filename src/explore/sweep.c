/*
 * sweep.c - sweep files (libyaml document API, one key table per
 * mapping), genome expansion for grid, random and evolution search, and
 * the per-point evaluation: resolve, validate, build, cost, constrain
 * (see sweep.h and docs/sweeps.md).
 */
#include "sweep.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "json.h"
#include "published.h"
#include "result.h"
#include "util.h"

#define SWEEP_MAX_BYTES ((size_t)4 << 20)  /* 4 MiB; the shipped sweeps are < 4 KiB */

const char *const ax_sweep_strategy_names[] = {
	[AX_SWEEP_GRID] = "grid",
	[AX_SWEEP_RANDOM] = "random",
	[AX_SWEEP_EVOLUTION] = "evolution",
};
static_assert(sizeof ax_sweep_strategy_names / sizeof ax_sweep_strategy_names[0] ==
		      AX_SWEEP_STRATEGY_COUNT, "every strategy needs a name");

static const char *const metric_names[] = {
	[AX_METRIC_MACS] = "macs",
	[AX_METRIC_PARAMS] = "params",
	[AX_METRIC_EMBED_PARAMS] = "embed_params",
	[AX_METRIC_NONEMBEDDING_PARAMS] = "nonembedding_params",
	[AX_METRIC_OTHER_FLOPS] = "other_flops",
	[AX_METRIC_BYTES] = "bytes",
	[AX_METRIC_LATENCY_MS] = "latency_ms",
	[AX_METRIC_ACCURACY] = "accuracy",
};
static_assert(sizeof metric_names / sizeof metric_names[0] == AX_METRIC_KIND_BASE,
	      "every base metric needs a name");

/* "macs_<kind>", made once (pthread_once: any thread may ask first) */
static char kind_names[AX_KIND_COUNT][48];
static pthread_once_t kind_names_once = PTHREAD_ONCE_INIT;

static void make_kind_names(void)
{
	for (int k = 0; k < AX_KIND_COUNT; k++)
		snprintf(kind_names[k], sizeof kind_names[k], "macs_%s", ax_cost_kind_names[k]);
}

const char *ax_metric_name(int m)
{
	if (m < 0 || m >= AX_METRIC_COUNT)
		return "?";
	if (m < AX_METRIC_KIND_BASE)
		return metric_names[m];
	pthread_once(&kind_names_once, make_kind_names);
	return kind_names[m - AX_METRIC_KIND_BASE];
}

int ax_metric_find(const char *name)
{
	for (int m = 0; m < AX_METRIC_COUNT; m++)
		if (!strcmp(name, ax_metric_name(m)))
			return m;
	return -1;
}

/* --- YAML helpers ----------------------------------------------------- */

struct loader {
	struct ax_sweep *sw;
	yaml_document_t doc;
	const char *file;
	struct ax_diag *d;
	ax_sweep_base_fn base;
	void *base_ctx;
};

static enum ax_status err_at(struct loader *L, const yaml_node_t *n, int col_off,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum ax_status err_at(struct loader *L, const yaml_node_t *n, int col_off,
			     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = n ? (int)n->start_mark.line + 1 : 0;
	int col = n ? (int)n->start_mark.column + 1 + col_off : 0;
	return ax_diag_set(L->d, AX_ERR_INPUT, L->file, line, col, "%s", msg);
}

static yaml_node_t *node(struct loader *L, int id)
{
	return yaml_document_get_node(&L->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static enum ax_status want(struct loader *L, const yaml_node_t *n,
			   yaml_node_type_t t, const char *what)
{
	if (n->type == t)
		return AX_OK;
	static const char *const names[] = { "nothing", "a scalar", "a list", "a mapping" };
	return err_at(L, n, 0, "%s must be %s, not %s", what, names[t], type_name(n));
}

static enum ax_status get_i64(struct loader *L, const yaml_node_t *n,
			      const char *what, int64_t min, int64_t max, int64_t *out)
{
	const char *s = scalar(n);
	if (!s)
		return err_at(L, n, 0, "%s must be an integer, not %s", what, type_name(n));
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || v != floor(v))
		return err_at(L, n, 0, "%s must be an integer, not '%s'", what, s);
	if (v < (double)min || v > (double)max)
		return err_at(L, n, 0, "%s = %s is outside %" PRId64 "..%" PRId64,
			      what, s, min, max);
	*out = (int64_t)v;
	return AX_OK;
}

static enum ax_status get_f64(struct loader *L, const yaml_node_t *n,
			      const char *what, double min, double max, double *out)
{
	const char *s = scalar(n);
	if (!s)
		return err_at(L, n, 0, "%s must be a number, not %s", what, type_name(n));
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return err_at(L, n, 0, "%s must be a number, not '%s'", what, s);
	if (v < min || v > max)
		return err_at(L, n, 0, "%s = %s is outside %g..%g", what, s, min, max);
	*out = v;
	return AX_OK;
}

/* Checks every key of mapping n against keys[] (NULL-terminated); an
 * unknown key gets the closest known one as a hint. */
static enum ax_status check_keys(struct loader *L, yaml_node_t *n,
				 const char *what, const char *const *keys)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key);
		const char *ks = scalar(k);
		if (!ks)
			return err_at(L, k, 0, "%s keys must be scalars", what);
		int best = 4, hit = 0;
		const char *hint = NULL;
		for (int i = 0; keys[i]; i++) {
			if (!strcmp(ks, keys[i])) {
				hit = 1;
				break;
			}
			int dist = ax_edit_distance(ks, keys[i], best);
			if (dist < best) {
				best = dist;
				hint = keys[i];
			}
		}
		if (!hit) {
			if (hint)
				return err_at(L, k, 0, "unknown key '%s' in %s; did you mean '%s'?",
					      ks, what, hint);
			return err_at(L, k, 0, "unknown key '%s' in %s", ks, what);
		}
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(scalar(node(L, q->key)) ? scalar(node(L, q->key)) : "", ks))
				return err_at(L, k, 0, "duplicate key '%s' in %s", ks, what);
	}
	return AX_OK;
}

static yaml_node_t *lookup(struct loader *L, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const char *ks = scalar(node(L, p->key));
		if (ks && !strcmp(ks, key))
			return node(L, p->value);
	}
	return NULL;
}

/* --- axes ------------------------------------------------------------- */

static enum ax_status pool_push(struct loader *L, const yaml_node_t *at,
				const int64_t *v, int n, struct ax_sweep_axis *a)
{
	struct ax_sweep *sw = L->sw;
	if (a->n_values >= AX_SWEEP_MAX_VALUES)
		return err_at(L, at, 0, "axis %s has over %d values", a->text,
			      AX_SWEEP_MAX_VALUES);
	if (sw->pool_len + n > sw->pool_cap) {
		int64_t cap = sw->pool_cap ? sw->pool_cap * 2 : 1024;
		while (cap < sw->pool_len + n)
			cap *= 2;
		int64_t *p = realloc(sw->pool, (size_t)cap * sizeof *p);
		if (!p)
			return ax_diag_set(L->d, AX_ERR_NOMEM, L->file, 0, 0, "out of memory");
		sw->pool = p;
		sw->pool_cap = cap;
	}
	if ((a->n_values & (a->n_values - 1)) == 0) {
		int cap = a->n_values ? 2 * a->n_values : 1;
		int32_t *o = realloc(a->off, (size_t)cap * sizeof *o);
		if (o)
			a->off = o;
		int16_t *l = realloc(a->len, (size_t)cap * sizeof *l);
		if (l)
			a->len = l;
		if (!o || !l)
			return ax_diag_set(L->d, AX_ERR_NOMEM, L->file, 0, 0, "out of memory");
	}
	a->off[a->n_values] = (int32_t)sw->pool_len;
	a->len[a->n_values] = (int16_t)n;
	memcpy(sw->pool + sw->pool_len, v, (size_t)n * sizeof *v);
	sw->pool_len += n;
	a->n_values++;
	return AX_OK;
}

/* One value: a scalar of the field's type, or (per-layer fields) a list. */
static enum ax_status axis_value(struct loader *L, yaml_node_t *n,
				 struct ax_sweep_axis *a)
{
	const struct ax_cfg_field *f = ax_cfg_path_field(&a->path);
	int64_t v[AX_MAX_LAYERS];
	int cnt = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		if (f->level != AX_CFG_LAYER)
			return err_at(L, n, 0, "%s is not a per-layer field; a list value is not allowed", a->text);
		if (a->per_layer)
			return err_at(L, n, 0, "a per_layer axis takes scalar values");
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			yaml_node_t *x = node(L, *it);
			if (cnt == AX_MAX_LAYERS)
				return err_at(L, x, 0, "more than %d layers", AX_MAX_LAYERS);
			if (!scalar(x) || !ax_cfg_value_parse(f, scalar(x), &v[cnt]))
				return err_at(L, x, 0, "bad value for %s: %s", a->text,
					      scalar(x) ? scalar(x) : type_name(x));
			cnt++;
		}
		if (!cnt)
			return err_at(L, n, 0, "empty per-layer list");
	} else {
		const char *s = scalar(n);
		if (!s || !ax_cfg_value_parse(f, s, &v[0]))
			return err_at(L, n, 0, "bad value for %s: %s", a->text,
				      s ? s : type_name(n));
		cnt = 1;
	}
	for (int i = 0; i < cnt; i++)
		if (v[i] < f->min || v[i] > f->max)
			return err_at(L, n, 0, "value %" PRId64 " of %s is outside %" PRId64
				      "..%" PRId64, v[i], a->text, f->min, f->max);
	return pool_push(L, n, v, cnt, a);
}

static enum ax_status axis_range(struct loader *L, yaml_node_t *at, int64_t from,
				 int64_t to, int64_t step, struct ax_sweep_axis *a)
{
	if (step <= 0)
		return err_at(L, at, 0, "step must be positive");
	if (to < from)
		return err_at(L, at, 0, "empty range %" PRId64 "..%" PRId64, from, to);
	if ((to - from) / step + 1 > AX_SWEEP_MAX_VALUES)
		return err_at(L, at, 0, "range has over %d values", AX_SWEEP_MAX_VALUES);
	const struct ax_cfg_field *f = ax_cfg_path_field(&a->path);
	if (f->type != AX_CFG_I64)
		return err_at(L, at, 0, "a range needs an integer field, and %s is not", a->text);
	if (from < f->min || to > f->max)
		return err_at(L, at, 0, "range of %s leaves %" PRId64 "..%" PRId64,
			      a->text, f->min, f->max);
	for (int64_t x = from; x <= to; x += step) {
		enum ax_status s = pool_push(L, at, &x, 1, a);
		if (s)
			return s;
	}
	return AX_OK;
}

static enum ax_status parse_axis(struct loader *L, struct ax_sweep_family *fam,
				 yaml_node_t *k, yaml_node_t *v)
{
	if (fam->n_axes == AX_SWEEP_MAX_AXES)
		return err_at(L, k, 0, "more than %d axes", AX_SWEEP_MAX_AXES);
	struct ax_sweep_axis *a = &fam->axes[fam->n_axes];
	memset(a, 0, sizeof *a);
	const char *ks = scalar(k);
	const char *hint;
	if (!ks || !ax_cfg_path_parse(ks, &a->path, &hint)) {
		if (ks && hint)
			return err_at(L, k, 0, "unknown config path '%s'; did you mean '%s'?", ks, hint);
		return err_at(L, k, 0, "unknown config path '%s'", ks ? ks : "?");
	}
	for (int i = 0; i < fam->n_axes; i++)
		if (fam->axes[i].path.field == a->path.field &&
		    (fam->axes[i].path.side & a->path.side))
			return err_at(L, k, 0, "%s is already an axis", ks);
	snprintf(a->text, sizeof a->text, "%s", ks);
	a->line = (int)k->start_mark.line + 1;
	a->col = (int)k->start_mark.column + 1;
	fam->n_axes++;
	enum ax_status s;
	if (v->type == YAML_SCALAR_NODE)
		return axis_value(L, v, a);
	if (v->type == YAML_SEQUENCE_NODE) {
		if (v->data.sequence.items.top == v->data.sequence.items.start)
			return err_at(L, v, 0, "axis %s has no values", ks);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++)
			if ((s = axis_value(L, node(L, *it), a)))
				return s;
		return AX_OK;
	}
	static const char *const keys[] = { "from", "to", "step", "uniform",
					    "choice", "per_layer", NULL };
	if ((s = check_keys(L, v, "an axis", keys)))
		return s;
	yaml_node_t *pl = lookup(L, v, "per_layer");
	if (pl) {
		const char *b = scalar(pl);
		if (!b || (strcmp(b, "true") && strcmp(b, "false")))
			return err_at(L, pl, 0, "per_layer must be true or false");
		a->per_layer = !strcmp(b, "true");
		if (a->per_layer && (ax_cfg_path_field(&a->path)->level != AX_CFG_LAYER ||
				     a->path.side == AX_CFG_SIDE_BOTH))
			return err_at(L, pl, 0, "per_layer needs a per-layer field of one stack "
				      "(encoder.X or decoder.X), not %s", ks);
	}
	yaml_node_t *from = lookup(L, v, "from"), *to = lookup(L, v, "to"),
		    *step = lookup(L, v, "step"), *uni = lookup(L, v, "uniform"),
		    *choice = lookup(L, v, "choice");
	int forms = (from || to) + (uni != NULL) + (choice != NULL);
	if (forms != 1)
		return err_at(L, v, 0, "an axis mapping needs exactly one of {from, to}, "
			      "uniform or choice");
	if (choice) {
		if ((s = want(L, choice, YAML_SEQUENCE_NODE, "choice")))
			return s;
		if (step)
			return err_at(L, step, 0, "choice takes no step");
		if (choice->data.sequence.items.top == choice->data.sequence.items.start)
			return err_at(L, choice, 0, "choice has no values");
		for (yaml_node_item_t *it = choice->data.sequence.items.start;
		     it < choice->data.sequence.items.top; it++)
			if ((s = axis_value(L, node(L, *it), a)))
				return s;
		return AX_OK;
	}
	int64_t lo, hi, st = 1;
	if (step && (s = get_i64(L, step, "step", 1, AX_MAX_VOCAB, &st)))
		return s;
	if (uni) {
		if ((s = want(L, uni, YAML_SEQUENCE_NODE, "uniform")))
			return s;
		if (uni->data.sequence.items.top - uni->data.sequence.items.start != 2)
			return err_at(L, uni, 0, "uniform takes [low, high]");
		if ((s = get_i64(L, node(L, uni->data.sequence.items.start[0]), "low", 0,
				 AX_MAX_VOCAB, &lo)) ||
		    (s = get_i64(L, node(L, uni->data.sequence.items.start[1]), "high", 0,
				 AX_MAX_VOCAB, &hi)))
			return s;
		return axis_range(L, uni, lo, hi, st, a);
	}
	if (!from || !to)
		return err_at(L, v, 0, "a range needs both from and to");
	if ((s = get_i64(L, from, "from", 0, AX_MAX_VOCAB, &lo)) ||
	    (s = get_i64(L, to, "to", 0, AX_MAX_VOCAB, &hi)))
		return s;
	return axis_range(L, v, lo, hi, st, a);
}

/* --- expressions ------------------------------------------------------ */

struct resolve_ctx {
	bool metrics;        /* constraints: metrics and config paths */
	struct ax_sweep *sw;
};

static int resolve_name(void *vctx, const char *name)
{
	struct resolve_ctx *c = vctx;
	if (c->metrics) {
		int m = ax_metric_find(name);
		if (m >= 0) {
			if (m == AX_METRIC_LATENCY_MS)
				c->sw->need_latency = true;
			return m;
		}
	}
	struct ax_cfg_path p;
	if (ax_cfg_path_parse(name, &p, NULL))
		return AX_SWEEP_VAR_PATH + p.field * 4 + p.side;
	return -1;
}

static enum ax_status compile(struct loader *L, yaml_node_t *n, struct ax_expr *e,
			      bool integer, bool metrics, const char *what)
{
	const char *s = scalar(n);
	if (!s)
		return err_at(L, n, 0, "%s must be an expression, not %s", what, type_name(n));
	struct resolve_ctx rc = { .metrics = metrics, .sw = L->sw };
	char msg[256];
	int col;
	if (!ax_expr_compile(e, s, integer, resolve_name, &rc, &col, msg, sizeof msg)) {
		/* a quoted scalar's text starts one column after its quote
		 * (escapes inside quotes would shift it; expressions have none) */
		if (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
			col++;
		return err_at(L, n, col, "bad %s '%s': %s", what, s, msg);
	}
	return AX_OK;
}

/* --- families ------------------------------------------------------- */

static enum ax_status load_base(struct loader *L, yaml_node_t *n,
				struct ax_sweep_family *fam)
{
	const char *s = scalar(n);
	if (!s || !*s)
		return err_at(L, n, 0, "base must be a config file path");
	if (s[0] == '/' || !strchr(L->file, '/'))
		snprintf(fam->base_path, sizeof fam->base_path, "%s", s);
	else {
		int dir = (int)(strrchr(L->file, '/') - L->file);
		snprintf(fam->base_path, sizeof fam->base_path, "%.*s/%s", dir, L->file, s);
	}
	enum ax_status st = L->base ?
		L->base(L->base_ctx, fam->base_path, &fam->base, L->d) :
		ax_config_load(fam->base_path, &fam->base, L->d);
	if (st != AX_OK && L->d && !L->d->line) {
		/* name the sweep line that asked for it */
		char msg[sizeof L->d->msg];
		snprintf(msg, sizeof msg, "%s", L->d->msg);
		return err_at(L, n, 0, "base config %s: %s", fam->base_path, msg);
	}
	return st;
}

static enum ax_status parse_constraints(struct loader *L, yaml_node_t *v,
					struct ax_sweep_constraint *k, int *n);

static enum ax_status parse_family(struct loader *L, yaml_node_t *n)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
	if ((s = want(L, n, YAML_MAPPING_NODE, "a family")))
		return s;
	static const char *const keys[] = { "name", "base", "axes", "derived",
					    "constraints", NULL };
	if ((s = check_keys(L, n, "a family", keys)))
		return s;
	if (sw->n_families == AX_SWEEP_MAX_FAMILIES)
		return err_at(L, n, 0, "more than %d families", AX_SWEEP_MAX_FAMILIES);
	struct ax_sweep_family *fam = &sw->family[sw->n_families++];
	yaml_node_t *name = lookup(L, n, "name"), *base = lookup(L, n, "base");
	if (!base)
		return err_at(L, n, 0, "a family needs a base config");
	if ((s = load_base(L, base, fam)))
		return s;
	if (name) {
		const char *ns = scalar(name);
		if (!ns || !*ns || strlen(ns) >= sizeof fam->label || strpbrk(ns, ",\"\n "))
			return err_at(L, name, 0, "a family name is a short word without commas, quotes or spaces");
		snprintf(fam->label, sizeof fam->label, "%s", ns);
	} else {
		snprintf(fam->label, sizeof fam->label, "%s", ax_family_names[fam->base.family]);
	}
	for (int i = 0; i < sw->n_families - 1; i++)
		if (!strcmp(sw->family[i].label, fam->label))
			return err_at(L, name ? name : n, 0,
				      "two families are called '%s'; give each a name", fam->label);
	yaml_node_t *axes = lookup(L, n, "axes");
	if (axes) {
		if ((s = want(L, axes, YAML_MAPPING_NODE, "axes")))
			return s;
		for (yaml_node_pair_t *p = axes->data.mapping.pairs.start;
		     p < axes->data.mapping.pairs.top; p++)
			if ((s = parse_axis(L, fam, node(L, p->key), node(L, p->value))))
				return s;
	}
	yaml_node_t *der = lookup(L, n, "derived");
	if (der) {
		if ((s = want(L, der, YAML_MAPPING_NODE, "derived")))
			return s;
		for (yaml_node_pair_t *p = der->data.mapping.pairs.start;
		     p < der->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(L, p->key);
			if (fam->n_derived == AX_SWEEP_MAX_DERIVED)
				return err_at(L, k, 0, "more than %d derived fields", AX_SWEEP_MAX_DERIVED);
			struct ax_sweep_derived *dv = &fam->derived[fam->n_derived++];
			const char *ks = scalar(k), *hint;
			if (!ks || !ax_cfg_path_parse(ks, &dv->path, &hint)) {
				if (ks && hint)
					return err_at(L, k, 0, "unknown config path '%s'; did you mean '%s'?", ks, hint);
				return err_at(L, k, 0, "unknown config path '%s'", ks ? ks : "?");
			}
			for (int i = 0; i < fam->n_axes; i++)
				if (fam->axes[i].path.field == dv->path.field &&
				    (fam->axes[i].path.side & dv->path.side))
					return err_at(L, k, 0, "%s is an axis and cannot also be derived", ks);
			snprintf(dv->text, sizeof dv->text, "%s", ks);
			dv->line = (int)k->start_mark.line + 1;
			dv->col = (int)k->start_mark.column + 1;
			if ((s = compile(L, node(L, p->value), &dv->expr, true, false,
					 "derived expression")))
				return s;
			if (dv->expr.is_cond)
				return err_at(L, node(L, p->value), 0, "a derived field is a value, not a comparison");
		}
	}
	yaml_node_t *cons = lookup(L, n, "constraints");
	if (cons) {
		/* the family's constraints follow the sweep's in its points */
		fam->n_constraints = sw->n_constraints;
		memcpy(fam->constraint, sw->constraint,
		       (size_t)sw->n_constraints * sizeof *sw->constraint);
		if ((s = parse_constraints(L, cons, fam->constraint, &fam->n_constraints)))
			return s;
	}
	/* genes: one per axis, one per layer slot for per_layer axes */
	fam->n_genes = 0;
	for (int i = 0; i < fam->n_axes; i++) {
		int g = fam->axes[i].per_layer ? AX_MAX_LAYERS : 1;
		if (fam->n_genes + g > AX_SWEEP_MAX_GENES)
			return err_at(L, n, 0, "too many genes (per_layer axes take %d each)",
				      AX_MAX_LAYERS);
		for (int k = 0; k < g; k++)
			fam->gene_axis[fam->n_genes++] = i;
	}
	return AX_OK;
}

/* A list of comparisons into k[*n...]; global and family lists together
 * hold at most AX_SWEEP_MAX_CONSTRAINTS. */
static enum ax_status parse_constraints(struct loader *L, yaml_node_t *v,
					struct ax_sweep_constraint *k, int *n)
{
	enum ax_status s;
	if ((s = want(L, v, YAML_SEQUENCE_NODE, "constraints")))
		return s;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *c = node(L, *it);
		if (*n == AX_SWEEP_MAX_CONSTRAINTS)
			return err_at(L, c, 0, "more than %d constraints", AX_SWEEP_MAX_CONSTRAINTS);
		struct ax_sweep_constraint *x = &k[(*n)++];
		if ((s = compile(L, c, &x->expr, false, true, "constraint")))
			return s;
		if (!x->expr.is_cond)
			return err_at(L, c, 0, "a constraint compares: 'macs <= 100e6', not '%s'",
				      scalar(c));
		snprintf(x->text, sizeof x->text, "%s", scalar(c));
	}
	return AX_OK;
}

/* --- top level ------------------------------------------------------ */

static enum ax_status parse_objective(struct loader *L, yaml_node_t *n,
				      struct ax_sweep_objective *o, const char *what)
{
	enum ax_status s;
	if ((s = want(L, n, YAML_MAPPING_NODE, what)))
		return s;
	static const char *const keys[] = { "minimize", "maximize", NULL };
	if ((s = check_keys(L, n, what, keys)))
		return s;
	yaml_node_t *mn = lookup(L, n, "minimize"), *mx = lookup(L, n, "maximize");
	if (!!mn + !!mx != 1)
		return err_at(L, n, 0, "%s needs one of minimize or maximize", what);
	yaml_node_t *v = mn ? mn : mx;
	const char *ms = scalar(v);
	int m = ms ? ax_metric_find(ms) : -1;
	if (m < 0) {
		const char *hint = NULL;
		int best = 4;
		for (int i = 0; ms && i < AX_METRIC_COUNT; i++) {
			int dist = ax_edit_distance(ms, ax_metric_name(i), best);
			if (dist < best) {
				best = dist;
				hint = ax_metric_name(i);
			}
		}
		if (hint)
			return err_at(L, v, 0, "unknown objective '%s'; did you mean '%s'?", ms, hint);
		return err_at(L, v, 0, "unknown objective '%s' (macs, params, "
			      "nonembedding_params, latency_ms, macs_<kind>, ...)",
			      ms ? ms : type_name(v));
	}
	if (m == AX_METRIC_ACCURACY && !L->sw->n_accuracy)
		return err_at(L, v, 0, "accuracy needs an 'accuracy:' block (published, dataset, "
			      "metric) before it");
	o->metric = m;
	o->maximize = mx != NULL;
	if (m == AX_METRIC_LATENCY_MS)
		L->sw->need_latency = true;
	return AX_OK;
}

static enum ax_status parse_search(struct loader *L, yaml_node_t *n)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
	if ((s = want(L, n, YAML_MAPPING_NODE, "search")))
		return s;
	static const char *const keys[] = { "strategy", "n", "seed", "population",
					    "generations", "parents", "mutation_prob",
					    "crossover_prob", NULL };
	if ((s = check_keys(L, n, "search", keys)))
		return s;
	yaml_node_t *v;
	if ((v = lookup(L, n, "strategy"))) {
		int k = scalar(v) ? -1 : -2;
		for (int i = 0; i < AX_SWEEP_STRATEGY_COUNT && k == -1; i++)
			if (!strcmp(scalar(v), ax_sweep_strategy_names[i]))
				k = i;
		if (k < 0)
			return err_at(L, v, 0, "strategy must be grid, random or evolution");
		sw->strategy = (enum ax_sweep_strategy)k;
	}
	int64_t x;
	if ((v = lookup(L, n, "n"))) {
		if ((s = get_i64(L, v, "n", 1, (int64_t)1 << 40, &sw->n_random)))
			return s;
	}
	if ((v = lookup(L, n, "seed"))) {
		if ((s = get_i64(L, v, "seed", 0, INT64_MAX, &x)))
			return s;
		sw->seed = (uint64_t)x;
	}
	if ((v = lookup(L, n, "population")) &&
	    (s = get_i64(L, v, "population", 2, 1 << 20, &sw->population)))
		return s;
	if ((v = lookup(L, n, "generations")) &&
	    (s = get_i64(L, v, "generations", 0, 1 << 20, &sw->generations)))
		return s;
	if ((v = lookup(L, n, "parents")) &&
	    (s = get_i64(L, v, "parents", 1, 1 << 20, &sw->parents)))
		return s;
	if ((v = lookup(L, n, "mutation_prob")) &&
	    (s = get_f64(L, v, "mutation_prob", 0, 1, &sw->mutation_prob)))
		return s;
	if ((v = lookup(L, n, "crossover_prob")) &&
	    (s = get_f64(L, v, "crossover_prob", 0, 1, &sw->crossover_prob)))
		return s;
	if (sw->parents >= sw->population)
		return err_at(L, n, 0, "parents (%" PRId64 ") must be fewer than population (%" PRId64 ")",
			      sw->parents, sw->population);
	return AX_OK;
}

/* accuracy: {published: CSV, dataset: D, metric: M, configs: DIR}: the
 * published value of every record of (D, M) whose config DIR/NAME.yaml
 * loads, keyed by that config's ax_config_hash. Paths are relative to
 * the sweep file; configs defaults to ../configs/paper. */
static void rel_path(struct loader *L, const char *s, char *out, size_t size)
{
	if (s[0] == '/' || !strchr(L->file, '/'))
		snprintf(out, size, "%s", s);
	else
		snprintf(out, size, "%.*s/%s", (int)(strrchr(L->file, '/') - L->file), L->file, s);
}

static enum ax_status parse_accuracy(struct loader *L, yaml_node_t *n)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
	if ((s = want(L, n, YAML_MAPPING_NODE, "accuracy")))
		return s;
	static const char *const keys[] = { "published", "dataset", "metric", "configs", NULL };
	if ((s = check_keys(L, n, "accuracy", keys)))
		return s;
	yaml_node_t *pub = lookup(L, n, "published"), *ds = lookup(L, n, "dataset"),
		    *met = lookup(L, n, "metric"), *cfgs = lookup(L, n, "configs");
	if (!pub || !ds || !met || !scalar(pub) || !scalar(ds) || !scalar(met))
		return err_at(L, n, 0, "accuracy needs published, dataset and metric");
	char path[1024], dir[1024];
	rel_path(L, scalar(pub), path, sizeof path);
	rel_path(L, cfgs && scalar(cfgs) ? scalar(cfgs) : "../configs/paper", dir, sizeof dir);
	struct ax_published_set set = { 0 };
	struct ax_diag pd = { 0 };
	if (ax_published_load(&set, path, &pd)) {
		ax_published_free(&set);
		if (L->d)
			*L->d = pd;
		return pd.status;
	}
	snprintf(sw->accuracy_what, sizeof sw->accuracy_what, "%s %s", scalar(ds), scalar(met));
	struct ax_config *cfg = malloc(sizeof *cfg);
	s = cfg ? AX_OK : ax_diag_set(L->d, AX_ERR_NOMEM, L->file, 0, 0, "out of memory");
	for (int64_t i = 0; i < set.n && !s; i++) {
		const struct ax_published *r = &set.rec[i];
		if (strcmp(r->dataset, scalar(ds)) || strcmp(r->metric, scalar(met)))
			continue;
		char cp[1200];
		struct ax_diag cd = { 0 };
		snprintf(cp, sizeof cp, "%s/%s.yaml", dir, r->config);
		if (ax_config_load(cp, cfg, &cd) != AX_OK)
			continue;    /* a published model archex has no config for */
		if (sw->n_accuracy == AX_SWEEP_MAX_ACCURACY)
			break;
		sw->accuracy_hash[sw->n_accuracy] = ax_config_hash(cfg);
		sw->accuracy_value[sw->n_accuracy++] = r->value;
	}
	free(cfg);
	ax_published_free(&set);
	if (!s && !sw->n_accuracy)
		return err_at(L, n, 0, "no record of %s in %s has a config in %s",
			      sw->accuracy_what, path, dir);
	return s;
}

static enum ax_status parse_root(struct loader *L, yaml_node_t *root)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
	if (!root)
		return ax_diag_set(L->d, AX_ERR_INPUT, L->file, 1, 1, "empty sweep file");
	if ((s = want(L, root, YAML_MAPPING_NODE, "a sweep file")))
		return s;
	static const char *const keys[] = { "name", "convention", "mode", "src_len",
					    "tgt_len", "search", "families",
					    "constraints", "objectives", "budgets",
					    "best", "device", "accuracy", NULL };
	if ((s = check_keys(L, root, "a sweep", keys)))
		return s;
	yaml_node_t *v;
	if ((v = lookup(L, root, "name"))) {
		if (!scalar(v))
			return err_at(L, v, 0, "name must be a scalar");
		snprintf(sw->name, sizeof sw->name, "%s", scalar(v));
	}
	if ((v = lookup(L, root, "convention"))) {
		int k = scalar(v) ? -1 : -2;
		for (int i = 0; i < AX_CONVENTION_COUNT && k == -1; i++)
			if (!strcmp(scalar(v), ax_convention_names[i]))
				k = i;
		if (k < 0)
			return err_at(L, v, 0, "convention must be exact or paper");
		sw->convention = (enum ax_convention)k;
	}
	if ((v = lookup(L, root, "mode"))) {
		int k = scalar(v) ? -1 : -2;
		for (int i = 0; i < AX_MODE_COUNT && k == -1; i++)
			if (!strcmp(scalar(v), ax_mode_names[i]))
				k = i;
		if (k < 0)
			return err_at(L, v, 0, "mode must be sequence or incremental");
		sw->mode = (enum ax_mode)k;
	}
	if ((v = lookup(L, root, "src_len")) &&
	    (s = get_i64(L, v, "src_len", 1, 1 << 20, &sw->src_len)))
		return s;
	if ((v = lookup(L, root, "tgt_len")) &&
	    (s = get_i64(L, v, "tgt_len", 1, 1 << 20, &sw->tgt_len)))
		return s;
	if ((v = lookup(L, root, "device"))) {
		sw->device = scalar(v) ? ax_device_find(scalar(v)) : NULL;
		if (!sw->device)
			return err_at(L, v, 0, "unknown device '%s' (%s, ...)",
				      scalar(v) ? scalar(v) : "?", ax_devices[0].name);
	}
	if ((v = lookup(L, root, "search")) && (s = parse_search(L, v)))
		return s;
	/* before objectives and constraints, which may name accuracy */
	if ((v = lookup(L, root, "accuracy")) && (s = parse_accuracy(L, v)))
		return s;
	if ((v = lookup(L, root, "budgets"))) {
		if ((s = want(L, v, YAML_SEQUENCE_NODE, "budgets")))
			return s;
		sw->n_budgets = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			if (sw->n_budgets == AX_SWEEP_MAX_BUDGETS)
				return err_at(L, node(L, *it), 0, "more than %d budgets", AX_SWEEP_MAX_BUDGETS);
			if ((s = get_f64(L, node(L, *it), "a budget", 0, 1e18,
					 &sw->budget[sw->n_budgets++])))
				return s;
		}
	}
	if ((v = lookup(L, root, "objectives"))) {
		if ((s = want(L, v, YAML_SEQUENCE_NODE, "objectives")))
			return s;
		sw->n_objectives = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			if (sw->n_objectives == AX_SWEEP_MAX_OBJECTIVES)
				return err_at(L, node(L, *it), 0, "more than %d objectives", AX_SWEEP_MAX_OBJECTIVES);
			if ((s = parse_objective(L, node(L, *it),
						 &sw->objective[sw->n_objectives++], "an objective")))
				return s;
		}
		if (!sw->n_objectives)
			return err_at(L, v, 0, "objectives is empty");
	}
	if ((v = lookup(L, root, "best")) &&
	    (s = parse_objective(L, v, &sw->best, "best")))
		return s;
	if ((v = lookup(L, root, "constraints")) &&
	    (s = parse_constraints(L, v, sw->constraint, &sw->n_constraints)))
		return s;
	v = lookup(L, root, "families");
	if (!v)
		return err_at(L, root, 0, "a sweep needs families");
	if ((s = want(L, v, YAML_SEQUENCE_NODE, "families")))
		return s;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++)
		if ((s = parse_family(L, node(L, *it))))
			return s;
	if (!sw->n_families)
		return err_at(L, v, 0, "families is empty");
	return AX_OK;
}

static enum ax_status plan(struct ax_sweep *sw, struct loader *L)
{
	int64_t next = 0;
	for (int f = 0; f < sw->n_families; f++) {
		struct ax_sweep_family *fam = &sw->family[f];
		int64_t n = 1;
		switch (sw->strategy) {
		case AX_SWEEP_GRID:
			for (int a = 0; a < fam->n_axes; a++) {
				if (fam->axes[a].per_layer)
					return ax_diag_set(L->d, AX_ERR_INPUT, L->file,
							   fam->axes[a].line, fam->axes[a].col,
							   "per_layer axis %s needs strategy random or evolution",
							   fam->axes[a].text);
				n *= fam->axes[a].n_values;
				if (n > AX_SWEEP_MAX_GRID)
					return ax_diag_set(L->d, AX_ERR_INPUT, L->file,
							   fam->axes[a].line, fam->axes[a].col,
							   "the grid of family %s exceeds %" PRId64
							   " points; use strategy random or evolution",
							   fam->label, AX_SWEEP_MAX_GRID);
			}
			break;
		case AX_SWEEP_RANDOM:
			n = sw->n_random;
			break;
		case AX_SWEEP_EVOLUTION:
			n = sw->population + sw->generations * (sw->population - sw->parents);
			break;
		case AX_SWEEP_STRATEGY_COUNT:
			break;
		}
		fam->n_points = n;
		fam->first_index = next;
		next += n;
	}
	sw->n_points = next;
	return AX_OK;
}

enum ax_status ax_sweep_load_string(struct ax_sweep *sw, const char *text,
				    size_t len, const char *name,
				    ax_sweep_base_fn base, void *ctx,
				    struct ax_diag *d)
{
	memset(sw, 0, sizeof *sw);
	snprintf(sw->path, sizeof sw->path, "%s", name);
	const char *slash = strrchr(name, '/');
	snprintf(sw->name, sizeof sw->name, "%s", slash ? slash + 1 : name);
	char *dot = strrchr(sw->name, '.');
	if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
		*dot = '\0';
	sw->convention = AX_CONVENTION_EXACT;
	sw->mode = AX_MODE_SEQUENCE;
	sw->src_len = sw->tgt_len = 30;
	sw->strategy = AX_SWEEP_GRID;
	sw->seed = 1;
	sw->n_random = 1000;
	sw->population = 64;
	sw->generations = 20;
	sw->parents = 16;
	sw->mutation_prob = 0.3;
	sw->crossover_prob = 0.5;
	sw->device = &ax_devices[0];
	sw->n_objectives = 2;
	sw->objective[0] = (struct ax_sweep_objective){ AX_METRIC_MACS, false };
	sw->objective[1] = (struct ax_sweep_objective){ AX_METRIC_NONEMBEDDING_PARAMS, true };
	sw->best = sw->objective[1];
	sw->budget_metric = AX_METRIC_MACS;
	sw->n_budgets = 2;
	sw->budget[0] = 100e6;
	sw->budget[1] = 500e6;
	/* the fields a point id hashes: each struct field once (conv.*
	 * repeats conv_branch.*; stack fields are hashed per stack) */
	for (int i = 0; i < ax_cfg_n_fields && sw->n_id_fields < AX_SWEEP_MAX_ID_FIELDS; i++) {
		bool dup = false;
		for (int k = 0; k < sw->n_id_fields; k++)
			dup |= ax_cfg_fields[sw->id_field[k]].level == ax_cfg_fields[i].level &&
			       ax_cfg_fields[sw->id_field[k]].offset == ax_cfg_fields[i].offset;
		if (!dup && ax_cfg_fields[i].level != AX_CFG_STACK)
			sw->id_field[sw->n_id_fields++] = (int16_t)i;
	}

	struct loader L = { .sw = sw, .file = name, .d = d, .base = base, .base_ctx = ctx };
	enum ax_status pre = ax_yaml_precheck(text, len, name, SWEEP_MAX_BYTES, d);
	if (pre != AX_OK)
		return pre;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return ax_diag_set(d, AX_ERR_NOMEM, name, 0, 0, "cannot start the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &L.doc)) {
		enum ax_status st = ax_diag_set(d, AX_ERR_INPUT, name,
						(int)parser.problem_mark.line + 1,
						(int)parser.problem_mark.column + 1,
						"YAML: %s", parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return st;
	}
	enum ax_status st = parse_root(&L, yaml_document_get_root_node(&L.doc));
	if (st == AX_OK)
		st = plan(sw, &L);
	yaml_document_delete(&L.doc);
	yaml_parser_delete(&parser);
	if (st != AX_OK)
		ax_sweep_free(sw);
	return st;
}

enum ax_status ax_sweep_load(struct ax_sweep *sw, const char *path, struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
				   "cannot read: Is a directory (expected a sweep file)");
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len > SWEEP_MAX_BYTES) {   /* /dev/zero, a runaway file */
			free(buf);
			fclose(f);
			return ax_diag_set(d, AX_ERR_LIMIT, path, 0, 0,
					   "the file is larger than %zu bytes",
					   (size_t)SWEEP_MAX_BYTES);
		}
		if (len + 4096 > cap) {
			cap = cap ? 2 * cap : 65536;
			char *p = realloc(buf, cap);
			if (!p) {
				free(buf);
				fclose(f);
				return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
			}
			buf = p;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int rerr = ferror(f), rerr_errno = errno;
	fclose(f);
	if (rerr) {
		free(buf);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot read: %s",
				   strerror(rerr_errno));
	}
	enum ax_status st = ax_sweep_load_string(sw, buf, len, path, NULL, NULL, d);
	free(buf);
	return st;
}

void ax_sweep_free(struct ax_sweep *sw)
{
	for (int f = 0; f < AX_SWEEP_MAX_FAMILIES; f++)
		for (int a = 0; a < AX_SWEEP_MAX_AXES; a++) {
			free(sw->family[f].axes[a].off);
			free(sw->family[f].axes[a].len);
			sw->family[f].axes[a].off = NULL;
			sw->family[f].axes[a].len = NULL;
		}
	free(sw->pool);
	sw->pool = NULL;
	sw->pool_len = sw->pool_cap = 0;
}

/* --- points ---------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *rng, uint64_t n)
{
	return splitmix(rng) % n;   /* n <= 4096: bias below 2^-50 */
}

static double unit(uint64_t *rng)
{
	return (double)(splitmix(rng) >> 11) * 0x1.0p-53;
}

static void random_genome(const struct ax_sweep_family *fam, uint64_t *rng,
			  int32_t *genes)
{
	for (int g = 0; g < fam->n_genes; g++)
		genes[g] = (int32_t)below(rng, (uint64_t)fam->axes[fam->gene_axis[g]].n_values);
}

void ax_sweep_genome(const struct ax_sweep *sw, int family, int64_t i, int32_t *genes)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	if (sw->strategy == AX_SWEEP_GRID) {
		/* mixed radix, the last axis fastest */
		for (int a = fam->n_axes - 1; a >= 0; a--) {
			genes[a] = (int32_t)(i % fam->axes[a].n_values);
			i /= fam->axes[a].n_values;
		}
		return;
	}
	uint64_t rng = sw->seed * 0x9e3779b97f4a7c15ull ^
		       (uint64_t)(family + 1) * 0xd1b54a32d192ed03ull ^
		       (uint64_t)i * 0xabc98388fb8fac03ull;
	splitmix(&rng);
	random_genome(fam, &rng, genes);
}

static double var_config(const void *ctx, int32_t id)
{
	const struct ax_config *cfg = ctx;
	int k = id - AX_SWEEP_VAR_PATH;
	struct ax_cfg_path p = { .field = (int16_t)(k / 4), .side = (int8_t)(k % 4) };
	return (double)ax_cfg_path_get(cfg, &p);
}

static double var_point(const void *ctx, int32_t id)
{
	const struct ax_sweep_point *pt = ctx;
	if (id < AX_METRIC_COUNT)
		return pt->metrics[id];
	return var_config(&pt->cfg, id);
}

/* The id: a hash of the resolved config as ax_config_hash covers it, in
 * the order of ax_config_mix() (family, task, the adaptive settings, the
 * other top-level fields, then each stack's layers), then the convention,
 * the mode and the lengths; not the name, so equal designs from different
 * families' bases get equal ids. Words are mixed a word at a time:
 * ax_config_hash's byte-wise FNV costs about a microsecond per point, 10%
 * of the hot path. */
uint64_t ax_sweep_point_id(const struct ax_sweep *sw, int family,
			   const struct ax_config *cfg)
{
	uint64_t h = ax_config_mix(AX_FNV_OFFSET, cfg);
	(void)family;
	int64_t S = cfg->task == AX_TASK_LANGUAGE_MODEL ? 0 : sw->src_len;
	h = ax_mix64(h, sw->convention);
	h = ax_mix64(h, sw->mode);
	h = ax_mix64(h, S);
	h = ax_mix64(h, sw->tgt_len);
	/* a final avalanche so that nearby configs get unrelated ids */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

enum ax_status ax_sweep_resolve(const struct ax_sweep *sw, int family,
				const int32_t *genes, struct ax_sweep_point *pt,
				struct ax_diag *d)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	struct ax_config *cfg = &pt->cfg;
	*cfg = fam->base;
	pt->family = family;
	enum ax_status s;
	/* layer counts first, so per-layer values meet the final stacks */
	for (int pass = 0; pass < 2; pass++) {
		int g = 0;
		for (int a = 0; a < fam->n_axes; a++) {
			const struct ax_sweep_axis *ax = &fam->axes[a];
			bool stack = ax_cfg_path_field(&ax->path)->level == AX_CFG_STACK;
			int ng = ax->per_layer ? AX_MAX_LAYERS : 1;
			if (stack != (pass == 0)) {
				g += ng;
				continue;
			}
			if (ax->per_layer) {
				int64_t v[AX_MAX_LAYERS];
				const struct ax_stack_config *st =
					ax->path.side == AX_CFG_SIDE_ENCODER ? &cfg->encoder : &cfg->decoder;
				int n = (int)st->layers;
				for (int l = 0; l < n; l++)
					v[l] = sw->pool[ax->off[genes[g + l]]];
				if (n && (s = ax_cfg_path_set(cfg, &ax->path, v, n > 1 ? n : 1, d)))
					return s;
			} else {
				int vi = genes[g];
				if ((s = ax_cfg_path_set(cfg, &ax->path, sw->pool + ax->off[vi],
							 ax->len[vi], d)))
					return s;
			}
			g += ng;
		}
	}
	for (int i = 0; i < fam->n_derived; i++) {
		const struct ax_sweep_derived *dv = &fam->derived[i];
		int64_t v;
		if (!ax_expr_eval_i64(&dv->expr, var_config, cfg, &v))
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "derived %s divides by zero", dv->text);
		if ((s = ax_cfg_path_set(cfg, &dv->path, &v, 1, d)))
			return s;
	}
	if ((s = ax_config_validate(cfg, d)))
		return s;
	pt->id = ax_sweep_point_id(sw, family, cfg);
	return AX_OK;
}

enum ax_status ax_sweep_measure(const struct ax_sweep *sw, struct ax_sweep_ws *ws,
				struct ax_sweep_point *pt, struct ax_diag *d)
{
	/* The roofline latency walks the whole op list; the counts alone come
	 * from the fast evaluator, equal to ax_cost_graph() field by field
	 * (tests/test_cost_fast.c). */
	enum ax_status s;
	if (sw->need_latency || ws->reference) {
		if ((s = ax_model_build(&pt->cfg, &ws->g, d)))
			return s;
		ax_cost_graph(&ws->g, sw->convention, sw->mode, &pt->cost);
	} else if ((s = ax_fastcost_eval(&ws->fc, &pt->cfg, sw->convention,
					 sw->mode, &pt->cost, d))) {
		return s;
	}
	int64_t S = pt->cfg.task == AX_TASK_LANGUAGE_MODEL ? 0 : sw->src_len;
	int64_t T = sw->tgt_len;
	/* counts beyond int64 at the sweep's lengths: an invalid point */
	if (ax_cost_check(&pt->cost, S, T, d) != AX_OK)
		return AX_ERR_INPUT;
	const struct ax_cost *c = &pt->cost;
	double *m = pt->metrics;
	m[AX_METRIC_MACS] = (double)ax_poly_eval(&c->macs, S, T);
	m[AX_METRIC_PARAMS] = (double)c->params;
	m[AX_METRIC_EMBED_PARAMS] = (double)c->params_by_scope[AX_SCOPE_EMBED];
	m[AX_METRIC_NONEMBEDDING_PARAMS] = (double)(c->params -
		c->params_by_scope[AX_SCOPE_EMBED] - c->params_by_scope[AX_SCOPE_OUTPUT]);
	m[AX_METRIC_OTHER_FLOPS] = (double)ax_poly_eval(&c->other_flops, S, T);
	m[AX_METRIC_BYTES] = (double)ax_poly_eval(&c->bytes, S, T);
	m[AX_METRIC_ACCURACY] = NAN;
	if (sw->n_accuracy) {
		uint64_t h = ax_config_hash(&pt->cfg);
		for (int i = 0; i < sw->n_accuracy; i++)
			if (sw->accuracy_hash[i] == h)
				m[AX_METRIC_ACCURACY] = sw->accuracy_value[i];
	}
	m[AX_METRIC_LATENCY_MS] = sw->need_latency ?
		ax_device_latency_ms(&ws->g, sw->mode, S, T, sw->device) : NAN;
	for (int k = 0; k < AX_KIND_COUNT; k++)
		m[AX_METRIC_KIND_BASE + k] = (double)ax_poly_eval(&c->macs_by_kind[k], S, T);
	pt->constraint_ok = 0;
	pt->feasible = true;
	const struct ax_sweep_constraint *con = ax_sweep_constraints(sw, pt->family, NULL);
	int n_con;
	ax_sweep_constraints(sw, pt->family, &n_con);
	for (int i = 0; i < n_con; i++) {
		if (ax_expr_eval_f64(&con[i].expr, var_point, pt) != 0)
			pt->constraint_ok |= 1u << i;
		else
			pt->feasible = false;
	}
	return AX_OK;
}

const struct ax_sweep_constraint *ax_sweep_constraints(const struct ax_sweep *sw,
						       int family, int *n)
{
	const struct ax_sweep_family *fam = &sw->family[family];
	if (fam->n_constraints) {
		if (n)
			*n = fam->n_constraints;
		return fam->constraint;
	}
	if (n)
		*n = sw->n_constraints;
	return sw->constraint;
}

double ax_sweep_fitness(const struct ax_sweep_objective *o, const double *metrics)
{
	double v = metrics[o->metric];
	return o->maximize ? v : -v;
}

void ax_sweep_ws_init(struct ax_sweep_ws *ws)
{
	ax_graph_init(&ws->g);
	ax_fastcost_init(&ws->fc);
	ws->reference = false;
}

void ax_sweep_ws_free(struct ax_sweep_ws *ws)
{
	ax_graph_free(&ws->g);
	ax_fastcost_free(&ws->fc);
}

/* --- the run --------------------------------------------------------- */

/* ids already emitted: open addressing, 0 marks an empty slot */
struct idset {
	uint64_t *slot;
	size_t cap, n;
};

static int idset_add(struct idset *s, uint64_t id)
{
	if (!id)
		id = 1;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		uint64_t *n = calloc(cap, sizeof *n);
		if (!n)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i]) {
				size_t j = s->slot[i] & (cap - 1);
				while (n[j])
					j = (j + 1) & (cap - 1);
				n[j] = s->slot[i];
			}
		free(s->slot);
		s->slot = n;
		s->cap = cap;
	}
	size_t j = id & (s->cap - 1);
	while (s->slot[j]) {
		if (s->slot[j] == id)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = id;
	s->n++;
	return 1;
}

struct slot {
	struct ax_sweep_point pt;
	enum ax_status status;
};

struct batch {
	const struct ax_sweep *sw;
	struct slot *slots;
	int64_t n;               /* slots in use */
	int64_t first;           /* shard-local ordinal of slot 0 */
	int stride;              /* worker count */
	int64_t *index;          /* sweep index of each slot */
	int *family;
};

struct worker {
	struct batch *b;
	int k;
	struct ax_sweep_ws ws;
};

static void eval_slot(const struct ax_sweep *sw, struct ax_sweep_ws *ws,
		      struct slot *s, int family, int64_t index)
{
	struct ax_diag d = { 0 };
	int32_t genes[AX_SWEEP_MAX_GENES];
	ax_sweep_genome(sw, family, index - sw->family[family].first_index, genes);
	s->pt.index = index;
	s->status = ax_sweep_resolve(sw, family, genes, &s->pt, &d);
	if (s->status == AX_OK)
		s->status = ax_sweep_measure(sw, ws, &s->pt, &d);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct batch *b = w->b;
	for (int64_t i = w->k; i < b->n; i += b->stride)
		eval_slot(b->sw, &w->ws, &b->slots[i], b->family[i], b->index[i]);
	return NULL;
}

static int family_of(const struct ax_sweep *sw, int64_t index)
{
	int f = 0;
	while (f + 1 < sw->n_families && index >= sw->family[f + 1].first_index)
		f++;
	return f;
}

static enum ax_status emit(const struct ax_sweep *sw, struct idset *ids,
			   const struct ax_sweep_point *pt, enum ax_status status,
			   ax_sweep_point_fn fn, void *ctx,
			   struct ax_sweep_stats *st, struct ax_diag *d)
{
	if (status == AX_ERR_INPUT) {
		st->invalid++;
		return AX_OK;
	}
	if (status != AX_OK)
		return ax_diag_set(d, status, sw->path, 0, 0, "cannot evaluate point %" PRId64,
				   pt->index);
	int added = idset_add(ids, pt->id);
	if (added < 0)
		return ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
	if (!added) {
		st->duplicate++;
		return AX_OK;
	}
	st->emitted++;
	st->feasible += pt->feasible;
	return fn(ctx, pt, st, d);
}

#define BATCH 256

static enum ax_status run_indexed(const struct ax_sweep *sw,
				  const struct ax_sweep_run_opts *o,
				  ax_sweep_point_fn fn, void *ctx,
				  struct ax_sweep_stats *st, struct idset *ids,
				  struct ax_diag *d)
{
	int jobs = o->jobs > 0 ? o->jobs : 1;
	struct batch b = { .sw = sw, .stride = jobs };
	b.slots = malloc(BATCH * sizeof *b.slots);
	b.index = malloc(BATCH * sizeof *b.index);
	b.family = malloc(BATCH * sizeof *b.family);
	struct worker *w = calloc((size_t)jobs, sizeof *w);
	enum ax_status status = AX_OK;
	if (!b.slots || !b.index || !b.family || !w) {
		status = ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
		goto free_batch;
	}
	for (int k = 0; k < jobs; k++) {
		w[k].b = &b;
		w[k].k = k;
		ax_sweep_ws_init(&w[k].ws);
	}
	int64_t next = o->shard_k;
	while (next < sw->n_points && status == AX_OK) {
		b.n = 0;
		for (; next < sw->n_points && b.n < BATCH; next += o->shard_n) {
			b.index[b.n] = next;
			b.family[b.n] = family_of(sw, next);
			b.n++;
		}
		st->in_shard += b.n;
		if (jobs == 1) {
			work(&w[0]);
		} else {
			pthread_t th[64];
			int started = 0;
			for (int k = 1; k < jobs && k < 64; k++)
				if (!pthread_create(&th[k], NULL, work, &w[k]))
					started = k;
				else
					break;
			/* a worker that failed to start: do its share here */
			for (int k = started + 1; k < jobs; k++)
				work(&w[k]);
			work(&w[0]);
			for (int k = 1; k <= started; k++)
				pthread_join(th[k], NULL);
		}
		for (int64_t i = 0; i < b.n && status == AX_OK; i++) {
			status = emit(sw, ids, &b.slots[i].pt, b.slots[i].status, fn, ctx, st, d);
			if (o->limit && st->emitted >= o->limit)
				goto free_workers;
		}
	}
free_workers:
	for (int k = 0; k < jobs; k++)
		ax_sweep_ws_free(&w[k].ws);
free_batch:
	free(w);
	free(b.slots);
	free(b.index);
	free(b.family);
	return status;
}

/* Sorting a population by fitness, best first; ties to the earlier index. */
struct member {
	double fit;
	int64_t index;
	int32_t genes[AX_SWEEP_MAX_GENES];
};

static int by_fitness(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->fit != y->fit)
		return x->fit > y->fit ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* HAT-style evolution per family: a random population; each generation
 * keeps the `parents` fittest (feasible first, by the `best` objective)
 * and refills the rest with crossovers of two parents and mutations of
 * one. Every shard evolves the whole population (evaluation is cheap) and
 * emits only its indices, so shards together equal one run. */
static enum ax_status run_evolution(const struct ax_sweep *sw,
				    const struct ax_sweep_run_opts *o,
				    ax_sweep_point_fn fn, void *ctx,
				    struct ax_sweep_stats *st, struct idset *ids,
				    struct ax_diag *d)
{
	int64_t P = sw->population, K = sw->parents;
	struct member *pop = calloc((size_t)P, sizeof *pop);
	struct ax_sweep_point *pt = malloc(sizeof *pt);
	struct ax_sweep_ws ws;
	ax_sweep_ws_init(&ws);
	enum ax_status status = AX_OK;
	if (!pop || !pt) {
		status = ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
		goto done;
	}
	for (int f = 0; f < sw->n_families && status == AX_OK; f++) {
		const struct ax_sweep_family *fam = &sw->family[f];
		uint64_t rng = sw->seed * 0x9e3779b97f4a7c15ull ^ (uint64_t)(f + 1) * 0xd1b54a32d192ed03ull;
		int64_t index = fam->first_index;
		for (int64_t gen = 0; gen <= sw->generations && status == AX_OK; gen++) {
			int64_t from = gen == 0 ? 0 : K;
			for (int64_t i = from; i < P && status == AX_OK; i++) {
				struct member *m = &pop[i];
				if (gen == 0) {
					random_genome(fam, &rng, m->genes);
				} else if (unit(&rng) < sw->crossover_prob) {
					const struct member *a = &pop[below(&rng, (uint64_t)K)];
					const struct member *b = &pop[below(&rng, (uint64_t)K)];
					for (int g = 0; g < fam->n_genes; g++)
						m->genes[g] = (splitmix(&rng) & 1) ? a->genes[g] : b->genes[g];
				} else {
					const struct member *a = &pop[below(&rng, (uint64_t)K)];
					for (int g = 0; g < fam->n_genes; g++)
						m->genes[g] = unit(&rng) < sw->mutation_prob ?
							(int32_t)below(&rng, (uint64_t)fam->axes[fam->gene_axis[g]].n_values) :
							a->genes[g];
				}
				m->index = index;
				struct ax_diag pd = { 0 };
				pt->index = index;
				enum ax_status ps = ax_sweep_resolve(sw, f, m->genes, pt, &pd);
				if (ps == AX_OK)
					ps = ax_sweep_measure(sw, &ws, pt, &pd);
				m->fit = ps == AX_OK && pt->feasible ?
					 ax_sweep_fitness(&sw->best, pt->metrics) : -INFINITY;
				st->total++;
				if (index % o->shard_n == o->shard_k) {
					st->in_shard++;
					memcpy(pt->genes, m->genes, sizeof m->genes);
					status = emit(sw, ids, pt, ps, fn, ctx, st, d);
					if (o->limit && st->emitted >= o->limit)
						goto done;
				}
				index++;
			}
			qsort(pop, (size_t)P, sizeof *pop, by_fitness);
		}
	}
done:
	ax_sweep_ws_free(&ws);
	free(pt);
	free(pop);
	return status;
}

enum ax_status ax_sweep_run(const struct ax_sweep *sw,
			    const struct ax_sweep_run_opts *opts,
			    ax_sweep_point_fn fn, void *ctx,
			    struct ax_sweep_stats *st, struct ax_diag *d)
{
	struct ax_sweep_run_opts o = opts ? *opts : (struct ax_sweep_run_opts){ 0 };
	if (o.shard_n < 1)
		o.shard_n = 1;
	if (o.shard_k < 0 || o.shard_k >= o.shard_n)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "shard %d/%d is out of range",
				   o.shard_k, o.shard_n);
	memset(st, 0, sizeof *st);
	struct idset ids = { 0 };
	enum ax_status s;
	if (sw->strategy == AX_SWEEP_EVOLUTION) {
		s = run_evolution(sw, &o, fn, ctx, st, &ids, d);
	} else {
		st->total = sw->n_points;
		s = run_indexed(sw, &o, fn, ctx, st, &ids, d);
	}
	free(ids.slot);
	return s;
}

/* --- output ---------------------------------------------------------- */

static int64_t layer_value(const struct ax_stack_config *st, int64_t l,
			   const struct ax_cfg_field *fd);

/* "<label>-d200-eL6-dL3-k3.7.15": the family label, then each axis's
 * value in the resolved config (e/d for one stack; a per-layer field
 * whose layers differ as its values joined by '.'; enums by name). */
void ax_sweep_point_name(const struct ax_sweep *sw, const struct ax_sweep_point *pt,
			 char *buf, size_t size)
{
	const struct ax_sweep_family *fam = &sw->family[pt->family];
	size_t o = (size_t)snprintf(buf, size, "%s", fam->label);
	for (int a = 0; a < fam->n_axes && o < size; a++) {
		const struct ax_sweep_axis *ax = &fam->axes[a];
		const struct ax_cfg_field *fd = ax_cfg_path_field(&ax->path);
		const char *side = ax->path.side == AX_CFG_SIDE_ENCODER ? "e" :
				   ax->path.side == AX_CFG_SIDE_DECODER ? "d" : "";
		o += (size_t)snprintf(buf + o, size - o, "-%s%s", side, fd->tag);
		const struct ax_stack_config *st =
			ax->path.side == AX_CFG_SIDE_DECODER ? &pt->cfg.decoder : &pt->cfg.encoder;
		if (fd->level == AX_CFG_LAYER && st->layers == 0)
			st = &pt->cfg.decoder;
		int64_t n = fd->level == AX_CFG_LAYER ? st->layers : 1;
		bool same = true;
		for (int64_t l = 1; l < n; l++)
			same &= layer_value(st, l, fd) == layer_value(st, 0, fd);
		if (fd->level != AX_CFG_LAYER || same)
			n = 1;
		for (int64_t l = 0; l < n && o < size; l++) {
			int64_t v = fd->level == AX_CFG_LAYER ? layer_value(st, l, fd) :
				    ax_cfg_path_get(&pt->cfg, &ax->path);
			const char *sep = l ? "." : "";
			if (fd->type == AX_CFG_ENUM)
				o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, fd->names[v]);
			else
				o += (size_t)snprintf(buf + o, size - o, "%s%" PRId64, sep, v);
		}
	}
}

/* Integral values as JSON integers, others shortest round-trip, NaN null. */
static void json_num(struct ax_json *j, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 9e15)
		ax_json_int(j, (int64_t)v);
	else
		ax_json_double(j, v);
}

static void json_field_value(struct ax_json *j, const struct ax_cfg_field *fd, int64_t v)
{
	if (fd->type == AX_CFG_ENUM)
		ax_json_string(j, fd->names[v]);
	else if (fd->type == AX_CFG_BOOL)
		ax_json_bool(j, v != 0);
	else
		ax_json_int(j, v);
}

static int64_t layer_value(const struct ax_stack_config *st, int64_t l,
			   const struct ax_cfg_field *fd)
{
	const char *p = (const char *)&st->layer[l] + fd->offset;
	return fd->type == AX_CFG_I64 ? *(const int64_t *)p :
	       fd->type == AX_CFG_BOOL ? *(const bool *)p : *(const int *)p;
}

/* The config as flat dotted paths, the spelling of sweep axes: a
 * per-layer field is a scalar when every layer agrees, else a list. Every
 * path is written but those under a mapping the family does not have
 * (ax_config_map_name: attention_branch and conv_branch for lite, conv
 * for lightconv). */
static void write_config(struct ax_json *j, const struct ax_config *cfg)
{
	ax_json_begin_object(j);
	ax_json_key(j, "family");
	ax_json_string(j, ax_family_names[cfg->family]);
	ax_json_key(j, "task");
	ax_json_string(j, ax_task_names[cfg->task]);
	for (int i = 0; i < ax_cfg_n_fields; i++) {
		const struct ax_cfg_field *fd = &ax_cfg_fields[i];
		const char *map = fd->map ? ax_config_map_name(cfg, fd->rule) : NULL;
		if (fd->map && (!map || strcmp(map, fd->map) != 0))
			continue;
		if (fd->level == AX_CFG_TOP) {
			struct ax_cfg_path p = { .field = (int16_t)i, .side = 0 };
			ax_json_key(j, fd->name);
			json_field_value(j, fd, ax_cfg_path_get(cfg, &p));
			continue;
		}
		for (int s = 1; s <= 2; s++) {
			struct ax_cfg_path p = { .field = (int16_t)i, .side = (int8_t)s };
			const struct ax_stack_config *st = s == 1 ? &cfg->encoder : &cfg->decoder;
			if (fd->level == AX_CFG_LAYER && st->layers == 0)
				continue;
			char name[96];
			ax_cfg_path_format(&p, name, sizeof name);
			ax_json_key(j, name);
			if (fd->level == AX_CFG_STACK) {
				ax_json_int(j, st->layers);
				continue;
			}
			bool same = true;
			for (int64_t l = 1; l < st->layers; l++)
				same &= layer_value(st, l, fd) == layer_value(st, 0, fd);
			if (same) {
				json_field_value(j, fd, layer_value(st, 0, fd));
				continue;
			}
			ax_json_begin_array(j);
			for (int64_t l = 0; l < st->layers; l++)
				json_field_value(j, fd, layer_value(st, l, fd));
			ax_json_end_array(j);
		}
	}
	ax_json_end_object(j);
}

enum ax_status ax_sweep_point_write_json(FILE *f, const struct ax_sweep *sw,
					 const struct ax_sweep_point *pt,
					 struct ax_diag *d)
{
	char name[128], id[17];
	struct ax_json j;
	ax_sweep_point_name(sw, pt, name, sizeof name);
	snprintf(id, sizeof id, "%016" PRIx64, pt->id);
	ax_json_init(&j, f, AX_JSON_COMPACT);
	ax_json_begin_object(&j);
	ax_json_key(&j, "id");
	ax_json_string(&j, id);
	ax_json_key(&j, "index");
	ax_json_int(&j, pt->index);
	ax_json_key(&j, "family");
	ax_json_string(&j, sw->family[pt->family].label);
	ax_json_key(&j, "name");
	ax_json_string(&j, name);
	ax_json_key(&j, "feasible");
	ax_json_bool(&j, pt->feasible);
	ax_json_key(&j, "metrics");
	ax_json_begin_object(&j);
	for (int m = 0; m < AX_METRIC_COUNT; m++) {
		ax_json_key(&j, ax_metric_name(m));
		json_num(&j, pt->metrics[m]);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "objectives");
	ax_json_begin_object(&j);
	for (int o = 0; o < sw->n_objectives; o++) {
		ax_json_key(&j, ax_metric_name(sw->objective[o].metric));
		json_num(&j, pt->metrics[sw->objective[o].metric]);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "constraints");
	ax_json_begin_object(&j);
	int n_con;
	const struct ax_sweep_constraint *con = ax_sweep_constraints(sw, pt->family, &n_con);
	for (int c = 0; c < n_con; c++) {
		ax_json_key(&j, con[c].text);
		ax_json_bool(&j, (pt->constraint_ok & (1u << c)) != 0);
	}
	ax_json_end_object(&j);
	ax_json_key(&j, "config");
	write_config(&j, &pt->cfg);
	struct ax_result r;
	struct ax_config named = pt->cfg;
	snprintf(named.name, sizeof named.name, "%s", name);
	ax_result_fill(&r, &named, &pt->cost, sw->src_len, sw->tgt_len);
	ax_json_key(&j, "result");
	ax_json_begin_object(&j);
	ax_result_write_json_members(&j, &r);
	ax_json_end_object(&j);
	ax_json_end_object(&j);
	return ax_json_finish(&j, d);
}
