/*
 * sweep_csv.c - points.csv: the points of points.jsonl as one flat table
 * for spreadsheets and pandas. One row per point (index order, as the
 * records are), columns: index,id,family,name,feasible, the convention,
 * mode and lengths, then one column per config field (config.PATH; a
 * per-layer list as its values separated by spaces), one per metric and
 * one per constraint (constraint:TEXT, 1 or 0). The columns are the
 * union over all points, in the order first seen; a field a family does
 * not have is empty.
 */
#include "sweep_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_read.h"
#include "result.h"

/* An ordered set of column names (jansson object for lookup). */
struct cols {
	json_t *seen;
	const char **name;      /* borrowed from the parsed lines */
	size_t n, cap;
};

static bool cols_add(struct cols *c, const char *name)
{
	if (json_object_get(c->seen, name))
		return true;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		const char **p = realloc(c->name, cap * sizeof *p);
		if (!p)
			return false;
		c->name = p;
		c->cap = cap;
	}
	c->name[c->n++] = name;
	return json_object_set_new(c->seen, name, json_true()) == 0;
}

static bool cols_of(struct cols *c, const json_t *obj)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		if (!cols_add(c, key))
			return false;
	return true;
}

static void put_scalar(FILE *f, const json_t *v)
{
	char buf[64];
	if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v) && fabs(json_real_value(v)) < 9007199254740992.0 &&
		 json_real_value(v) == (double)(int64_t)json_real_value(v))
		fprintf(f, "%" PRId64, (int64_t)json_real_value(v));   /* an integer */
	else if (json_is_real(v) && ax_json_format_double(buf, sizeof buf, json_real_value(v)) > 0)
		fputs(buf, f);
	else if (json_is_boolean(v))
		fputc(json_is_true(v) ? '1' : '0', f);
	else if (json_is_string(v))
		ax_csv_string(f, json_string_value(v));
}

/* A value: a scalar, or a list as its scalars separated by spaces. */
static void put_value(FILE *f, const json_t *v)
{
	size_t i;
	const json_t *x;
	if (!json_is_array(v)) {
		put_scalar(f, v);
		return;
	}
	json_array_foreach(v, i, x) {
		if (i)
			fputc(' ', f);
		put_scalar(f, x);
	}
}

static void put_row(FILE *f, const struct ax_sweep_meta *m, const struct ax_sweep_rec *r,
		    const json_t *root, const struct cols *c)
{
	fprintf(f, "%" PRId64 ",%s,", r->index, r->id);
	ax_csv_string(f, m->family[r->family]);
	fputc(',', f);
	ax_csv_string(f, r->name);
	fprintf(f, ",%d,%s,%s,%" PRId64 ",%" PRId64, r->feasible, m->convention, m->mode,
		m->src_len, m->tgt_len);
	const json_t *part[3] = { json_object_get(root, "config"),
				  json_object_get(root, "metrics"),
				  json_object_get(root, "constraints") };
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < c[k].n; i++) {
			fputc(',', f);
			put_value(f, json_object_get(part[k], c[k].name[i]));
		}
	fputc('\n', f);
}

bool ax_sweep_write_points_csv(FILE *f, const struct ax_sweep_meta *m,
			       const struct ax_sweep_recs *rs)
{
	static const char *const member[3] = { "config", "metrics", "constraints" };
	static const char *const prefix[3] = { "config.", "", "constraint:" };
	struct cols c[3] = { { 0 } };
	json_t **root = calloc((size_t)rs->n + 1, sizeof *root);
	bool ok = root != NULL;
	for (int k = 0; k < 3 && ok; k++)
		ok = (c[k].seen = json_object()) != NULL;
	for (int64_t i = 0; i < rs->n && ok; i++) {
		int col;
		root[i] = ax_json_parse(rs->r[i].line, rs->r[i].len, &col);
		for (int k = 0; k < 3 && ok && root[i]; k++) {
			const json_t *o = json_object_get(root[i], member[k]);
			ok = !o || !json_is_object(o) || cols_of(&c[k], o);
		}
	}
	if (ok) {
		fputs("index,id,family,name,feasible,convention,mode,src_len,tgt_len", f);
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; i < c[k].n; i++) {
				char name[512];
				snprintf(name, sizeof name, "%s%s", prefix[k], c[k].name[i]);
				fputc(',', f);
				ax_csv_string(f, name);
			}
		fputc('\n', f);
		for (int64_t i = 0; i < rs->n; i++)
			if (root[i])
				put_row(f, m, &rs->r[i], root[i], c);
	}
	for (int k = 0; k < 3; k++) {
		json_decref(c[k].seen);
		free(c[k].name);
	}
	for (int64_t i = 0; root && i < rs->n; i++)
		json_decref(root[i]);
	free(root);
	return ok;
}
