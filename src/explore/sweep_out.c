/*
 * sweep_out.c - sweep.json written and read back, and the records of
 * points.jsonl read back, deduplicated and ordered (see sweep_out.h).
 * Both files are read with libjansson (json_read.h); the readers take
 * the top-level members the tables need and ignore the rest. The tables
 * are in sweep_tables.c, the output directory in sweep_dir.c.
 */
#include "sweep_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "json.h"
#include "json_read.h"

/* --- meta ------------------------------------------------------------ */

void ax_sweep_meta_from(struct ax_sweep_meta *m, const struct ax_sweep *sw,
			const struct ax_sweep_ident *id)
{
	memset(m, 0, sizeof *m);
	if (id)
		snprintf(m->identity, sizeof m->identity, "%016" PRIx64, ax_sweep_ident_hash(id));
	m->ident = id;
	m->shard_n = 1;
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
	if (m->identity[0]) {
		ax_json_key(&j, "identity");
		ax_json_string(&j, m->identity);
		if (m->shard_n > 0)
			snprintf(buf, sizeof buf, "%d/%d", m->shard_k, m->shard_n);
		else
			snprintf(buf, sizeof buf, "partial");
		ax_json_key(&j, "shard");
		ax_json_string(&j, buf);
		ax_json_key(&j, "complete");
		ax_json_bool(&j, m->complete);
	}
	if (m->ident) {
		ax_json_key(&j, "resolved");
		ax_sweep_ident_write(&j, m->ident);
	}
	ax_json_end_object(&j);
	fputc('\n', f);
}

bool ax_sweep_meta_equal(const struct ax_sweep_meta *a, const struct ax_sweep_meta *b)
{
	if (strcmp(a->identity, b->identity) ||
	    strcmp(a->name, b->name) || strcmp(a->convention, b->convention) ||
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

/* "shard": "K/N" with 0 <= K < N, or "partial" (shard_n 0). */
static bool parse_shard(struct ax_sweep_meta *m, const char *s)
{
	char *end;
	if (!strcmp(s, "partial")) {
		m->shard_k = m->shard_n = 0;
		return true;
	}
	if (*s < '0' || *s > '9')
		return false;
	long k = strtol(s, &end, 10);
	if (*end != '/' || end[1] < '0' || end[1] > '9')
		return false;
	long n = strtol(end + 1, &end, 10);
	if (*end || n < 1 || n > (1 << 20) || k >= n)
		return false;
	m->shard_k = (int)k;
	m->shard_n = (int)n;
	return true;
}

/* identity, shard, complete and the resolved parts, whose hash must be
 * the identity (all absent in a sweep.json of an older archex). */
static bool meta_identity(struct ax_sweep_meta *m, const json_t *root)
{
	const json_t *v;
	char s[32];
	v = json_object_get(root, "identity");
	if (!v)
		return true;
	if (!ax_json_get_str(v, m->identity, sizeof m->identity) ||
	    strlen(m->identity) != 16 ||
	    strspn(m->identity, "0123456789abcdef") != 16 ||
	    !ax_json_get_str(json_object_get(root, "shard"), s, sizeof s) ||
	    !parse_shard(m, s) ||
	    !json_is_boolean(v = json_object_get(root, "complete")))
		return false;
	m->complete = json_is_true(v);
	struct ax_sweep_ident id;
	if (!ax_sweep_ident_parse(&id, json_object_get(root, "resolved")))
		return false;
	char h[17];
	snprintf(h, sizeof h, "%016" PRIx64, ax_sweep_ident_hash(&id));
	ax_sweep_ident_free(&id);
	return !strcmp(h, m->identity);
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
	if (!meta_identity(m, root))
		return false;
	if ((v = json_object_get(root, "budget_metric")) &&
	    (!ax_json_get_str(v, s, sizeof s) ||
	     (m->budget_metric = ax_metric_find(s)) < 0))
		return false;
	return meta_lists(m, root);
}

/* The bytes of path from offset from to the end, NUL-terminated. */
static char *slurp_from(const char *path, int64_t from, size_t *len,
			struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (from && fseeko(f, (off_t)from, SEEK_SET) != 0) {
		ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot seek: %s", strerror(errno));
		fclose(f);
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
	char *buf = slurp_from(path, 0, &len, d);
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

enum ax_status ax_sweep_ident_read(struct ax_sweep_ident *id, const char *path,
				   struct ax_diag *d)
{
	size_t len;
	memset(id, 0, sizeof *id);
	char *buf = slurp_from(path, 0, &len, d);
	if (!buf)
		return d ? d->status : AX_ERR_IO;
	int col = 1;
	json_t *root = ax_json_parse(buf, len, &col);
	bool ok = root && ax_sweep_ident_parse(id, json_object_get(root, "resolved"));
	json_decref(root);
	free(buf);
	if (!ok)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 1, col,
				   "no resolved sweep in this sweep.json");
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
	if ((v = json_object_get(root, "trained")) && json_is_object(v))
		r->train_failed = json_is_string(json_object_get(v, "error"));
	v = json_object_get(root, "metrics");
	return !v || rec_metrics(r, v);
}

/* A new zeroed record at the end of rs, metrics NaN (absent), or NULL. */
static struct ax_sweep_rec *push_rec(struct ax_sweep_recs *rs)
{
	if (rs->n == rs->cap) {
		int64_t cap = rs->cap ? 2 * rs->cap : 1024;
		struct ax_sweep_rec *p = realloc(rs->r, (size_t)cap * sizeof *p);
		if (!p)
			return NULL;
		rs->r = p;
		rs->cap = cap;
	}
	struct ax_sweep_rec *r = &rs->r[rs->n];
	memset(r, 0, sizeof *r);
	for (int k = 0; k < AX_METRIC_COUNT; k++)
		r->metrics[k] = NAN;
	return r;
}

/* Gives the record pushed last its own copy of the line and keeps it. */
static bool keep_rec(struct ax_sweep_recs *rs, const char *text, size_t n)
{
	struct ax_sweep_rec *r = &rs->r[rs->n];
	r->line = malloc(n + 1);
	if (!r->line)
		return false;
	memcpy(r->line, text, n);
	r->line[n] = '\0';
	r->len = n;
	rs->n++;
	return true;
}

/* Appends the line [text, text + n) to rs as a record parsed from root
 * (NULL after a syntax error at column col). */
static enum ax_status add_rec(struct ax_sweep_recs *rs, const struct ax_sweep_meta *m,
			      const char *path, const json_t *root, int col,
			      const char *text, size_t n, int64_t lineno,
			      struct ax_diag *d)
{
	struct ax_sweep_rec *r = push_rec(rs);
	if (!r)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	if (!root || !rec_members(r, m, root))
		return ax_diag_set(d, AX_ERR_FORMAT, path, (int)lineno, col,
				   "not a point of sweep '%s' (a foreign or corrupt line)",
				   m->name);
	if (!keep_rec(rs, text, n))
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	return AX_OK;
}

enum ax_status ax_sweep_recs_add_point(struct ax_sweep_recs *rs,
				       const struct ax_sweep_meta *m,
				       const struct ax_sweep *sw,
				       const struct ax_sweep_point *pt,
				       const char *line, size_t len,
				       struct ax_diag *d)
{
	struct ax_sweep_rec *r = push_rec(rs);
	if (!r)
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	snprintf(r->id, sizeof r->id, "%016" PRIx64, pt->id);
	r->index = pt->index;
	/* the family row as rec_members finds it: the first with the label */
	r->family = -1;
	for (int f = 0; f < m->n_families && r->family < 0; f++)
		if (!strcmp(sw->family[pt->family].label, m->family[f]))
			r->family = f;
	ax_sweep_point_name(sw, pt, r->name, sizeof r->name);
	r->feasible = pt->feasible;
	r->train_failed = sw->train.present && pt->trained.error[0];
	/* the line writes every metric, non-finite ones as null (NaN here);
	 * finite ones in round-trip form, so reading it back gives these */
	for (int k = 0; k < AX_METRIC_COUNT; k++)
		r->metrics[k] = isfinite(pt->metrics[k]) ? pt->metrics[k] : NAN;
	if (r->family < 0)
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "point %" PRId64 " of an unknown family", pt->index);
	if (!keep_rec(rs, line, len))
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	return AX_OK;
}

/* Reads the complete lines of path from pos->offset on, parsing each
 * once. With rs: appends each as a record, stopping at (and failing on)
 * the first that is not a point of m. With fn: hands it the string "id"
 * of each line that has one, as ax_jsonl_read_ids does; then a line
 * that is not a point of m stops only the records (pos->all_recs turns
 * false). pos->offset and pos->line end past the lines taken as records. */
static enum ax_status read_lines(struct ax_sweep_recs *rs, const struct ax_sweep_meta *m,
				 const char *path, ax_jsonl_id_fn fn, void *ctx,
				 struct ax_sweep_read_pos *pos, struct ax_diag *d)
{
	size_t len;
	char *buf = slurp_from(path, pos->offset, &len, d);
	if (!buf)
		return d ? d->status : AX_ERR_IO;
	enum ax_status st = AX_OK;
	int64_t lineno = pos->line;
	for (size_t at = 0; at < len && st == AX_OK;) {
		char *nl = memchr(buf + at, '\n', len - at);
		if (!nl)
			break;           /* a torn last line: not a record */
		size_t n = (size_t)(nl - (buf + at));
		lineno++;
		int col = 1;
		json_t *root = ax_json_parse(buf + at, n, &col);
		const json_t *id = json_object_get(root, "id");
		if (fn && json_is_string(id))
			st = fn(ctx, json_string_value(id), json_string_length(id),
				lineno, d);
		else if (fn)
			pos->skipped++;
		if (st == AX_OK && pos->all_recs) {
			struct ax_diag rd = { 0 };
			enum ax_status rst = add_rec(rs, m, path, root, col, buf + at, n,
						     lineno, fn ? &rd : d);
			if (rst == AX_OK) {
				pos->offset += (int64_t)n + 1;
				pos->line = lineno;
			} else if (fn && rst == AX_ERR_FORMAT) {
				pos->all_recs = false;
			} else {
				st = rst;
				if (fn && d)
					*d = rd;
			}
		}
		json_decref(root);
		at += n + 1;
	}
	free(buf);
	return st;
}

enum ax_status ax_sweep_recs_read(struct ax_sweep_recs *rs,
				  const struct ax_sweep_meta *m,
				  const char *path, struct ax_diag *d)
{
	struct ax_sweep_read_pos pos = { .all_recs = true };
	return read_lines(rs, m, path, NULL, NULL, &pos, d);
}

enum ax_status ax_sweep_recs_read_at(struct ax_sweep_recs *rs,
				     const struct ax_sweep_meta *m,
				     const char *path,
				     struct ax_sweep_read_pos *pos,
				     struct ax_diag *d)
{
	pos->all_recs = true;
	return read_lines(rs, m, path, NULL, NULL, pos, d);
}

enum ax_status ax_sweep_resume_read(struct ax_sweep_recs *rs,
				    const struct ax_sweep_meta *m,
				    const char *path, ax_jsonl_id_fn fn, void *ctx,
				    struct ax_sweep_read_pos *pos,
				    struct ax_diag *d)
{
	*pos = (struct ax_sweep_read_pos){ .all_recs = true };
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? AX_OK
				       : ax_diag_set(d, AX_ERR_IO, path, 0, 0,
						     "open for reading: %s",
						     strerror(errno));
	fclose(f);
	return read_lines(rs, m, path, fn, ctx, pos, d);
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
