/*
 * sweep_ident.c - a sweep's identity: the resolved sweep as a list of
 * named parts ("convention", "constraint 1", "family lite axis
 * embed_dim", ...), each with a canonical text, and a 64-bit FNV-1a hash
 * of them. sweep.json records both (see sweep_out.h), so `--resume` and
 * `merge` can refuse another sweep's directory and name the first part
 * that differs. Whatever changes the points or the tables is a part;
 * a later section of the sweep file (a training recipe) joins by adding
 * its parts in ident_build.
 */
#include "sweep_out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_read.h"
#include "util.h"

void ax_sweep_ident_free(struct ax_sweep_ident *id)
{
	for (int i = 0; i < id->n; i++) {
		free(id->key[i]);
		free(id->val[i]);
	}
	free(id->key);
	free(id->val);
	memset(id, 0, sizeof *id);
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Appends (key, val); false when out of memory. */
static bool ident_add(struct ax_sweep_ident *id, const char *key, const char *val,
		      size_t vlen)
{
	if (id->n == id->cap) {
		int cap = id->cap ? 2 * id->cap : 32;
		char **k = realloc(id->key, (size_t)cap * sizeof *k);
		if (!k)
			return false;
		id->key = k;
		char **v = realloc(id->val, (size_t)cap * sizeof *v);
		if (!v)
			return false;
		id->val = v;
		id->cap = cap;
	}
	id->key[id->n] = dup_n(key, strlen(key));
	id->val[id->n] = dup_n(val, vlen);
	if (!id->key[id->n] || !id->val[id->n]) {
		free(id->key[id->n]);
		free(id->val[id->n]);
		return false;
	}
	id->n++;
	return true;
}

/* A growing text buffer for one part's value. */
struct text {
	char *s;
	size_t n, cap;
	bool oom;
};

static void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			t->oom = true;
			return;
		}
		if (t->s && t->n + (size_t)k < t->cap) {
			t->n += (size_t)k;
			return;
		}
		size_t cap = t->cap ? 2 * t->cap : 256;
		while (cap <= t->n + (size_t)k)
			cap *= 2;
		char *p = realloc(t->s, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->s = p;
		t->cap = cap;
	}
}

static bool add_text(struct ax_sweep_ident *id, const char *key, struct text *t)
{
	bool ok = !t->oom && ident_add(id, key, t->s ? t->s : "", t->n);
	free(t->s);
	*t = (struct text){ 0 };
	return ok;
}

static bool add_f(struct ax_sweep_ident *id, const char *key, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return ident_add(id, key, buf, strlen(buf));
}

static const char *objective_text(const struct ax_sweep_objective *o, char *buf,
				  size_t size)
{
	snprintf(buf, size, "%s:%s", o->maximize ? "max" : "min", ax_metric_name(o->metric));
	return buf;
}

/* Axis values: "96, 128, [3 7 15]" (a list value in brackets). */
static void axis_text(struct text *t, const struct ax_sweep *sw,
		      const struct ax_sweep_axis *a)
{
	text_printf(t, "%s", a->per_layer ? "per layer: " : "");
	for (int v = 0; v < a->n_values; v++) {
		const int64_t *x = sw->pool + a->off[v];
		text_printf(t, "%s%s", v ? ", " : "", a->len[v] != 1 ? "[" : "");
		const struct ax_cfg_field *f = ax_cfg_path_field(&a->path);
		for (int i = 0; i < a->len[v]; i++) {
			char num[40];
			if (f->type == AX_CFG_F64)
				ax_cfg_value_format(f, x[i], num, sizeof num);
			else
				snprintf(num, sizeof num, "%" PRId64, x[i]);
			text_printf(t, "%s%s", i ? " " : "", num);
		}
		text_printf(t, "%s", a->len[v] != 1 ? "]" : "");
	}
}

static bool family_parts(struct ax_sweep_ident *id, const struct ax_sweep *sw, int f)
{
	const struct ax_sweep_family *fam = &sw->family[f];
	char key[256];
	struct text t = { 0 };
	snprintf(key, sizeof key, "family %d", f + 1);
	if (!add_f(id, key, "%s: %s, base config %016" PRIx64, fam->label,
		   ax_family_names[fam->base.family], ax_config_hash(&fam->base)))
		return false;
	for (int i = 0; i < fam->n_axes; i++) {
		snprintf(key, sizeof key, "family %s axis %s", fam->label, fam->axes[i].text);
		axis_text(&t, sw, &fam->axes[i]);
		if (!add_text(id, key, &t))
			return false;
	}
	for (int i = 0; i < fam->n_derived; i++) {
		snprintf(key, sizeof key, "family %s derived %s", fam->label, fam->derived[i].text);
		if (!ident_add(id, key, fam->derived[i].expr_text, strlen(fam->derived[i].expr_text)))
			return false;
	}
	for (int i = sw->n_constraints; i < fam->n_constraints; i++) {
		snprintf(key, sizeof key, "family %s constraint %d", fam->label,
			 i - sw->n_constraints + 1);
		if (!ident_add(id, key, fam->constraint[i].text, strlen(fam->constraint[i].text)))
			return false;
	}
	return true;
}

static bool search_part(struct ax_sweep_ident *id, const struct ax_sweep *sw)
{
	const char *name = ax_sweep_strategy_names[sw->strategy];
	switch (sw->strategy) {
	case AX_SWEEP_RANDOM:
		return add_f(id, "search", "%s points=%" PRId64 " seed=%" PRIu64, name,
			     sw->n_random, sw->seed);
	case AX_SWEEP_EVOLUTION:
		return add_f(id, "search", "%s population=%" PRId64 " generations=%" PRId64
			     " parents=%" PRId64 " mutation=%.17g crossover=%.17g seed=%" PRIu64,
			     name, sw->population, sw->generations, sw->parents,
			     sw->mutation_prob, sw->crossover_prob, sw->seed);
	default:
		return add_f(id, "search", "%s", name);
	}
}

/* The parts in a fixed order; a new section adds its parts here. */
/* The train: section's part: the dataset (its path as the sweep file
 * writes it, relative to the file, so that a sweep resumed or merged
 * from another working directory is the same sweep), the budget, the
 * seeds and the thread count (which changes rounding); valid_every and
 * save_every do not change the final metrics and stay out. */
static bool train_part(struct ax_sweep_ident *id, const struct ax_sweep_train *tr)
{
	struct text t = { 0 };
	char len[64] = "";
	for (int i = 0; i < tr->n_seeds; i++)
		text_printf(&t, "%s%" PRId64, i ? "," : "", tr->seeds[i]);
	/* the decode's length cap, when not the default (so the identity of
	 * a sweep that leaves it is as before the cap could be set) */
	if (tr->max_len_a != 0 || tr->max_len_b != 200)
		snprintf(len, sizeof len, " max_len=%.17g*(S+1)+%" PRId64, tr->max_len_a,
			 tr->max_len_b);
	return add_f(id, "train data", "%s", tr->data_text) &&
	       (tr->train_tokens ?
		add_f(id, "train budget", "train_tokens=%" PRId64, tr->train_tokens) :
		add_f(id, "train budget", "max_steps=%" PRId64, tr->max_steps)) &&
	       add_text(id, "train seeds", &t) &&
	       add_f(id, "train threads", "%" PRId64, tr->threads) &&
	       (!tr->bleu || add_f(id, "train bleu", "split=%s beam=%" PRId64 "%s",
				   tr->eval_split == 2 ? "test" : "valid", tr->beam, len));
}

static bool ident_build(struct ax_sweep_ident *id, const struct ax_sweep *sw)
{
	char key[64], buf[96];
	struct text t = { 0 };
	if (!add_f(id, "convention", "%s", ax_convention_names[sw->convention]) ||
	    !add_f(id, "mode", "%s", ax_mode_names[sw->mode]) ||
	    !add_f(id, "lengths", "S=%" PRId64 " T=%" PRId64, sw->src_len, sw->tgt_len) ||
	    !search_part(id, sw))
		return false;
	if (sw->need_latency && !add_f(id, "device", "%s", sw->device->name))
		return false;
	for (int i = 0; i < sw->n_constraints; i++) {
		snprintf(key, sizeof key, "constraint %d", i + 1);
		if (!ident_add(id, key, sw->constraint[i].text, strlen(sw->constraint[i].text)))
			return false;
	}
	for (int i = 0; i < sw->n_objectives; i++) {
		snprintf(key, sizeof key, "objective %d", i + 1);
		if (!add_f(id, key, "%s", objective_text(&sw->objective[i], buf, sizeof buf)))
			return false;
	}
	if (!add_f(id, "best", "%s", objective_text(&sw->best, buf, sizeof buf)))
		return false;
	text_printf(&t, "%s <=", ax_metric_name(sw->budget_metric));
	for (int i = 0; i < sw->n_budgets; i++)
		text_printf(&t, " %.17g", sw->budget[i]);
	if (!add_text(id, "budgets", &t))
		return false;
	if (sw->n_accuracy) {
		text_printf(&t, "%s:", sw->accuracy_what);
		for (int i = 0; i < sw->n_accuracy; i++)
			text_printf(&t, " %016" PRIx64 "=%.17g", sw->accuracy_hash[i],
				    sw->accuracy_value[i]);
		if (!add_text(id, "accuracy", &t))
			return false;
	}
	if (sw->train.present && !train_part(id, &sw->train))
		return false;
	for (int f = 0; f < sw->n_families; f++)
		if (!family_parts(id, sw, f))
			return false;
	return true;
}

uint64_t ax_sweep_ident_hash(const struct ax_sweep_ident *id)
{
	uint64_t h = AX_FNV_OFFSET;
	for (int i = 0; i < id->n; i++) {
		h = ax_fnv_str(h, id->key[i]);
		h = ax_fnv_i64(h, 0);
		h = ax_fnv_str(h, id->val[i]);
		h = ax_fnv_i64(h, 1);
	}
	return h;
}

enum ax_status ax_sweep_ident_from(struct ax_sweep_ident *id, const struct ax_sweep *sw,
				   struct ax_diag *d)
{
	memset(id, 0, sizeof *id);
	if (!ident_build(id, sw)) {
		ax_sweep_ident_free(id);
		return ax_diag_set(d, AX_ERR_NOMEM, sw->path, 0, 0, "out of memory");
	}
	return AX_OK;
}

void ax_sweep_ident_write(struct ax_json *j, const struct ax_sweep_ident *id)
{
	ax_json_begin_array(j);
	for (int i = 0; i < id->n; i++) {
		ax_json_begin_array(j);
		ax_json_string(j, id->key[i]);
		ax_json_string(j, id->val[i]);
		ax_json_end_array(j);
	}
	ax_json_end_array(j);
}

bool ax_sweep_ident_parse(struct ax_sweep_ident *id, const json_t *a)
{
	size_t i;
	const json_t *v;
	memset(id, 0, sizeof *id);
	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v) {
		const json_t *k = json_array_get(v, 0), *x = json_array_get(v, 1);
		if (json_array_size(v) != 2 || !json_is_string(k) || !json_is_string(x) ||
		    id->n >= AX_SWEEP_MAX_IDENT_PARTS ||
		    !ident_add(id, json_string_value(k), json_string_value(x),
			       json_string_length(x))) {
			ax_sweep_ident_free(id);
			return false;
		}
	}
	return true;
}

/* 'text' in quotes, cut to about 60 characters. */
static void quoted(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n > 60)
		snprintf(buf, size, "'%.57s...'", s);
	else
		snprintf(buf, size, "'%s'", s);
}

static int find_key(const struct ax_sweep_ident *id, const char *key)
{
	for (int i = 0; i < id->n; i++)
		if (!strcmp(id->key[i], key))
			return i;
	return -1;
}

void ax_sweep_ident_diff(const struct ax_sweep_ident *a, const char *a_name,
			 const struct ax_sweep_ident *b, const char *b_name,
			 char *msg, size_t size)
{
	char x[80], y[80];
	for (int i = 0; i < a->n; i++) {
		int k = find_key(b, a->key[i]);
		if (k < 0) {
			quoted(x, sizeof x, a->val[i]);
			snprintf(msg, size, "%s %s is only in %s", a->key[i], x, a_name);
			return;
		}
		if (strcmp(a->val[i], b->val[k])) {
			quoted(x, sizeof x, a->val[i]);
			quoted(y, sizeof y, b->val[k]);
			snprintf(msg, size, "%s differs: %s in %s vs %s in %s", a->key[i], x,
				 a_name, y, b_name);
			return;
		}
	}
	for (int i = 0; i < b->n; i++)
		if (find_key(a, b->key[i]) < 0) {
			quoted(y, sizeof y, b->val[i]);
			snprintf(msg, size, "%s %s is only in %s", b->key[i], y, b_name);
			return;
		}
	snprintf(msg, size, "the parts are the same but in another order");
}
