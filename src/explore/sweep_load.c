/*
 * sweep_load.c - sweep files: the libyaml document API with one key
 * table per mapping, turned into a struct ax_sweep (axes, families,
 * expressions, objectives, accuracy) and planned into index ranges (see
 * sweep.h and docs/sweeps.md).
 */
#include "sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "published.h"
#include "yaml_map.h"

#define SWEEP_MAX_BYTES ((size_t)4 << 20)  /* 4 MiB; the shipped sweeps are < 4 KiB */

/* --- YAML helpers ----------------------------------------------------- */

struct loader {
	struct ax_sweep *sw;
	yaml_document_t doc;
	const char *file;
	struct ax_diag *d;
	struct ax_ymap y;    /* doc, file and d for yaml_map.h */
	ax_sweep_base_fn base;
	void *base_ctx;
	bool trained;        /* the expression compiled last names a trained metric */
};

static enum ax_status err_at(struct loader *L, const yaml_node_t *n, int col_off,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum ax_status err_at(struct loader *L, const yaml_node_t *n, int col_off,
			     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ax_status st = ax_ymap_verror(&L->y, n, col_off, fmt, ap);
	va_end(ap);
	return st;
}

static yaml_node_t *node(struct loader *L, int id)
{
	return ax_ymap_node(&L->y, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return ax_ymap_scalar(n);
}

static const char *type_name(const yaml_node_t *n)
{
	return ax_ymap_kind(n);
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
	return ax_ymap_get_f64(&L->y, n, what, min, max, out);
}

/* Checks every key of mapping n against keys[] (NULL-terminated); an
 * unknown key gets the closest known one as a hint (yaml_map.h). */
static enum ax_status check_keys(struct loader *L, yaml_node_t *n,
				 const char *what, const char *const *keys)
{
	return ax_ymap_check_keys(&L->y, n, what, keys);
}

static yaml_node_t *lookup(struct loader *L, yaml_node_t *map, const char *key)
{
	return ax_ymap_lookup(&L->y, map, key);
}

static enum ax_status parse_device(struct loader *L, yaml_node_t *v);

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
		if (!ax_cfg_value_in_range(f, v[i])) {
			char vs[40], rs[96];
			ax_cfg_value_format(f, v[i], vs, sizeof vs);
			ax_cfg_range_format(f, rs, sizeof rs);
			return err_at(L, n, 0, "value %s of %s is outside %s", vs,
				      a->text, rs);
		}
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
	const char *trained; /* the first trained metric named, or NULL */
};

static int resolve_name(void *vctx, const char *name)
{
	struct resolve_ctx *c = vctx;
	if (c->metrics) {
		int m = ax_metric_find(name);
		if (m >= 0) {
			if (m == AX_METRIC_LATENCY_MS)
				c->sw->need_latency = true;
			if (m >= AX_METRIC_TRAINED_BASE && !c->trained)
				c->trained = ax_metric_name(m);
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
	/* the text is kept (constraints, sweep identity) in 160 bytes */
	if (strlen(s) >= sizeof ((struct ax_sweep_constraint *)0)->text)
		return err_at(L, n, 0, "%s over %zu characters", what,
			      sizeof ((struct ax_sweep_constraint *)0)->text - 1);
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
	L->trained = rc.trained != NULL;
	if (rc.trained && !L->sw->train.present)
		return err_at(L, n, 0, "%s names %s, which only training measures: add a "
			      "train: section (data, budget, seeds) to the sweep", what,
			      rc.trained);
	if (rc.trained && !L->sw->train.bleu && (!strncmp(rc.trained, "bleu", 4) ||
						 !strncmp(rc.trained, "chrf", 4)))
		return err_at(L, n, 0, "%s names %s, which needs bleu: true in the train: "
			      "section", what, rc.trained);
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
			/* integer arithmetic, but for a float field */
			bool integer = ax_cfg_path_field(&dv->path)->type != AX_CFG_F64;
			if ((s = compile(L, node(L, p->value), &dv->expr, integer, false,
					 "derived expression")))
				return s;
			if (dv->expr.is_cond)
				return err_at(L, node(L, p->value), 0, "a derived field is a value, not a comparison");
			snprintf(dv->expr_text, sizeof dv->expr_text, "%s", scalar(node(L, p->value)));
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
		x->trained = L->trained;
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
		const char *names[AX_METRIC_COUNT], *hint = NULL;
		for (int i = 0; i < AX_METRIC_COUNT; i++)
			names[i] = ax_metric_name(i);
		if (ms)
			hint = ax_ymap_closest(ms, strlen(ms), names, AX_METRIC_COUNT,
					       AX_YMAP_HINT_NEAR);
		if (hint)
			return err_at(L, v, 0, "unknown objective '%s'; did you mean '%s'?", ms, hint);
		return err_at(L, v, 0, "unknown objective '%s' (macs, params, "
			      "nonembedding_params, latency_ms, macs_<kind>, ...)",
			      ms ? ms : type_name(v));
	}
	if (m >= AX_METRIC_TRAINED_BASE && !L->sw->train.present)
		return err_at(L, v, 0, "%s %s is measured by training: add a train: section "
			      "(data, budget, seeds) to the sweep", what, ms);
	if (m >= AX_METRIC_BLEU && !L->sw->train.bleu)
		return err_at(L, v, 0, "%s %s needs bleu: true in the train: section", what, ms);
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

/* bleu: true|false, eval_split: valid|test, beam: K, max_len_a: A,
 * max_len_b: B (default false, valid, 4, 0, 200: archex eval's). */
static enum ax_status parse_train_eval(struct loader *L, yaml_node_t *n,
				       struct ax_sweep_train *t)
{
	enum ax_status s;
	yaml_node_t *v;
	t->eval_split = 1;
	t->beam = 4;
	if ((v = lookup(L, n, "bleu"))) {
		const char *b = scalar(v);
		if (!b || (strcmp(b, "true") && strcmp(b, "false")))
			return err_at(L, v, 0, "bleu must be true or false");
		t->bleu = !strcmp(b, "true");
	}
	if ((v = lookup(L, n, "eval_split"))) {
		const char *e = scalar(v);
		if (!e || (strcmp(e, "valid") && strcmp(e, "test")))
			return err_at(L, v, 0, "eval_split must be valid or test");
		t->eval_split = strcmp(e, "valid") ? 2 : 1;
	}
	if ((v = lookup(L, n, "beam")) && (s = get_i64(L, v, "beam", 1, 64, &t->beam)))
		return s;
	t->max_len_b = 200;
	if ((v = lookup(L, n, "max_len_a")) &&
	    (s = get_f64(L, v, "max_len_a", 0, 64, &t->max_len_a)))
		return s;
	if ((v = lookup(L, n, "max_len_b")) &&
	    (s = get_i64(L, v, "max_len_b", 0, 4095, &t->max_len_b)))
		return s;
	if (t->max_len_a == 0 && t->max_len_b == 0)
		return err_at(L, v ? v : n, 0, "max_len_a and max_len_b are both 0: the "
			      "decode could write no token");
	return AX_OK;
}

/* train: {data, train_tokens | max_steps, seeds, valid_every, save_every,
 * threads}: the dataset relative to the sweep file; whether it exists
 * and fits the models is checked a layer up (ax_trained_check). */
static enum ax_status parse_train(struct loader *L, yaml_node_t *n)
{
	struct ax_sweep_train *t = &L->sw->train;
	enum ax_status s;
	if ((s = want(L, n, YAML_MAPPING_NODE, "train")))
		return s;
	static const char *const keys[] = { "data", "train_tokens", "max_steps", "seeds",
					    "valid_every", "save_every", "threads", "bleu",
					    "eval_split", "beam", "max_len_a", "max_len_b",
					    NULL };
	if ((s = check_keys(L, n, "train", keys)))
		return s;
	yaml_node_t *v = lookup(L, n, "data");
	if (!v || !scalar(v) || !*scalar(v))
		return err_at(L, v ? v : n, 0, "train needs data: the dataset directory "
			      "(as 'archex data' writes it), relative to the sweep file");
	rel_path(L, scalar(v), t->data, sizeof t->data);
	snprintf(t->data_text, sizeof t->data_text, "%s", scalar(v));
	t->data_line = (int)v->start_mark.line + 1;
	t->data_col = (int)v->start_mark.column + 1;
	yaml_node_t *tt = lookup(L, n, "train_tokens"), *ms = lookup(L, n, "max_steps");
	if (!!tt + !!ms != 1)
		return err_at(L, n, 0, "train needs one budget: train_tokens or max_steps");
	if (tt && (s = get_i64(L, tt, "train_tokens", 1, INT64_C(1) << 50, &t->train_tokens)))
		return s;
	if (ms && (s = get_i64(L, ms, "max_steps", 1, INT64_C(1) << 40, &t->max_steps)))
		return s;
	t->n_seeds = 1;
	t->seeds[0] = 1;
	if ((v = lookup(L, n, "seeds"))) {
		if ((s = want(L, v, YAML_SEQUENCE_NODE, "seeds")))
			return s;
		t->n_seeds = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = node(L, *it);
			if (t->n_seeds == AX_SWEEP_MAX_SEEDS)
				return err_at(L, e, 0, "more than %d seeds", AX_SWEEP_MAX_SEEDS);
			if ((s = get_i64(L, e, "a seed", 0, INT64_C(1) << 40,
					 &t->seeds[t->n_seeds])))
				return s;
			for (int k = 0; k < t->n_seeds; k++)
				if (t->seeds[k] == t->seeds[t->n_seeds])
					return err_at(L, e, 0, "seed %" PRId64 " is listed twice",
						      t->seeds[k]);
			t->n_seeds++;
		}
		if (!t->n_seeds)
			return err_at(L, v, 0, "seeds is empty");
	}
	t->save_every = 100;
	t->threads = 1;
	if ((v = lookup(L, n, "valid_every")) &&
	    (s = get_i64(L, v, "valid_every", 0, INT64_C(1) << 40, &t->valid_every)))
		return s;
	if ((v = lookup(L, n, "save_every")) &&
	    (s = get_i64(L, v, "save_every", 1, INT64_C(1) << 40, &t->save_every)))
		return s;
	if ((v = lookup(L, n, "threads")) &&
	    (s = get_i64(L, v, "threads", 1, 64, &t->threads)))
		return s;
	if ((s = parse_train_eval(L, n, t)))
		return s;
	t->present = true;
	return AX_OK;
}

/* Why s is not a safe sweep name, or NULL. With no --out a sweep writes
 * into results/sweeps/NAME, so a name is one plain file name. */
static const char *name_problem(const char *s)
{
	if (!*s)
		return "is empty";
	if (strlen(s) > AX_SWEEP_MAX_NAME)
		return "is over 64 characters";
	if (*s == '.')
		return "starts with '.'";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '/' || *p == '\\')
			return "holds a '/' or '\\'";
		if (*p < 0x20 || *p == 0x7f)
			return "holds a control character";
	}
	return NULL;
}

/* name, convention, mode, src_len, tgt_len and device of the root. */
static enum ax_status parse_settings(struct loader *L, yaml_node_t *root)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
	yaml_node_t *v;
	if ((v = lookup(L, root, "name"))) {
		if (!scalar(v))
			return err_at(L, v, 0, "name must be a scalar");
		const char *why = name_problem(scalar(v));
		if (why)
			return err_at(L, v, 0, "the sweep name %s; it names the output directory "
				      "results/sweeps/NAME, so it is one file name such as 'budget-100m'",
				      why);
		snprintf(sw->name, sizeof sw->name, "%s", scalar(v));
	} else if (name_problem(sw->name)) {
		return err_at(L, root, 0, "no name: key, and the file name gives the sweep name "
			      "'%s', which %s; add a name: key", sw->name, name_problem(sw->name));
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
	if ((v = lookup(L, root, "device")))
		return parse_device(L, v);
	return AX_OK;
}

/* device: a built-in name, or a device file's path (with a '/' or
 * ending in .yaml; relative to the working directory), device.h. */
static enum ax_status parse_device(struct loader *L, yaml_node_t *v)
{
	struct ax_sweep *sw = L->sw;
	const char *s = scalar(v);
	if (!s)
		return err_at(L, v, 0, "device must be a name or a device file path");
	size_t n = strlen(s);
	if (!strchr(s, '/') && !(n > 5 && !strcmp(s + n - 5, ".yaml"))) {
		sw->device = ax_device_find(s);
		if (!sw->device)
			return err_at(L, v, 0, "unknown device '%s' (%s, %s, or a "
				      "device file path)", s, ax_devices[0].name,
				      ax_devices[1].name);
		return AX_OK;
	}
	free(sw->device_file);
	sw->device_file = malloc(sizeof *sw->device_file);
	if (!sw->device_file)
		return ax_diag_set(L->d, AX_ERR_NOMEM, L->file, 0, 0, "out of memory");
	struct ax_diag fd = { 0 };
	if (ax_device_load(sw->device_file, s, &fd) != AX_OK) {
		char msg[1400];
		ax_diag_format(&fd, msg, sizeof msg);
		return err_at(L, v, 0, "device file: %s", msg);
	}
	sw->device = sw->device_file;
	return AX_OK;
}

/* budgets: a sequence of numbers. */
static enum ax_status parse_budgets(struct loader *L, yaml_node_t *v)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
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
	return AX_OK;
}

/* objectives: a non-empty sequence of min:/max: metrics. */
static enum ax_status parse_objectives(struct loader *L, yaml_node_t *v)
{
	struct ax_sweep *sw = L->sw;
	enum ax_status s;
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
	return AX_OK;
}

/* families: required, a non-empty sequence of family mappings. */
static enum ax_status parse_families(struct loader *L, yaml_node_t *root)
{
	enum ax_status s;
	yaml_node_t *v = lookup(L, root, "families");
	if (!v)
		return err_at(L, root, 0, "a sweep needs families");
	if ((s = want(L, v, YAML_SEQUENCE_NODE, "families")))
		return s;
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++)
		if ((s = parse_family(L, node(L, *it))))
			return s;
	if (!L->sw->n_families)
		return err_at(L, v, 0, "families is empty");
	return AX_OK;
}

/* The root mapping. Sections are read in a fixed order, so the first
 * error reported does not depend on the order of keys in the file. */
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
					    "best", "device", "accuracy", "train", NULL };
	if ((s = check_keys(L, root, "a sweep", keys)))
		return s;
	if ((s = parse_settings(L, root)))
		return s;
	yaml_node_t *v;
	if ((v = lookup(L, root, "search")) && (s = parse_search(L, v)))
		return s;
	/* before objectives and constraints, which may name accuracy */
	if ((v = lookup(L, root, "accuracy")) && (s = parse_accuracy(L, v)))
		return s;
	if ((v = lookup(L, root, "train")) && (s = parse_train(L, v)))
		return s;
	/* trained: fronts over (macs, valid_loss), best by valid_loss,
	 * unless the file says otherwise */
	if (sw->train.present) {
		sw->objective[1] = (struct ax_sweep_objective){ AX_METRIC_VALID_LOSS, false };
		sw->best = sw->objective[1];
	}
	if ((v = lookup(L, root, "budgets")) && (s = parse_budgets(L, v)))
		return s;
	if ((v = lookup(L, root, "objectives")) && (s = parse_objectives(L, v)))
		return s;
	if ((v = lookup(L, root, "best")) &&
	    (s = parse_objective(L, v, &sw->best, "best")))
		return s;
	if ((v = lookup(L, root, "constraints")) &&
	    (s = parse_constraints(L, v, sw->constraint, &sw->n_constraints)))
		return s;
	return parse_families(L, root);
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
	L.y = (struct ax_ymap){ .doc = &L.doc, .file = name, .d = d };
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
	/* O_NONBLOCK: opening a FIFO with no writer must not hang */
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(e));
	}
	struct stat sb;
	if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fclose(f);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, S_ISDIR(sb.st_mode) ?
				   "cannot read: Is a directory (expected a sweep file)" :
				   "not a regular file (a FIFO or device); expected a sweep file");
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
	free(sw->device_file);
	sw->device_file = NULL;
	sw->pool_len = sw->pool_cap = 0;
}
