/*
 * sweep_dir.c - a sweep's output directory: running into it (sweep.json,
 * points.jsonl appended point by point, --resume), merging shard
 * directories, and writing the tables atomically (see sweep_out.h).
 */
#include "sweep_out.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_io.h"

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
 * finished; takes rs over: moves it to out, or frees it, and leaves *rs
 * empty either way. */
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
	if (out && st == AX_OK) {
		*out = *rs;
		memset(rs, 0, sizeof *rs);
	} else {
		ax_sweep_recs_free(rs);
	}
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
	/* the records of the points written, for the tables (NULL: the
	 * tables will read points.jsonl instead) */
	struct ax_sweep_recs *recs;
	const struct ax_sweep_meta *meta;
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
	enum ax_status s = ax_jsonl_append(&c->out, c->buf, (size_t)len, d);
	if (!s && c->recs)
		s = ax_sweep_recs_add_point(c->recs, c->meta, c->sw, pt, c->buf,
					    (size_t)len, d);
	return s;
}

enum ax_status ax_sweep_run_dir(const struct ax_sweep *sw, const char *dir,
				const struct ax_sweep_dir_opts *o,
				struct ax_sweep_dir_stats *st,
				struct ax_sweep_recs *rs, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	struct ax_sweep_meta meta, old;
	struct dir_ctx c = { .sw = sw, .o = o, .st = st, .size = 1 << 20 };
	/* the records of points.jsonl up to pos (none without --resume) */
	struct ax_sweep_recs old_recs = { 0 };
	struct ax_sweep_read_pos pos = { .all_recs = true };
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
		/* one parse per line: the ids to skip, and the records the
		 * tables will need; the points the run adds are recorded as
		 * on_point writes them, so nothing is read back */
		if ((s = ax_sweep_resume_read(&old_recs, &meta, path, add_done,
					      &c.done, &pos, d)))
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
	if (pos.all_recs) {
		c.recs = &old_recs;
		c.meta = &meta;
	}
	s = ax_sweep_run(sw, &o->run, on_point, &c, &st->run, d);
	enum ax_status cs = ax_jsonl_close(&c.out, s ? NULL : d);
	if (!s)
		s = cs;
	if (!s && pos.all_recs) {
		ax_sweep_recs_finish(&old_recs);
		s = write_tables(dir, &meta, &old_recs, rs, d);
	} else if (!s) {
		s = ax_sweep_finalize(dir, &meta, rs, d);
	}
free_done:
	ax_sweep_recs_free(&old_recs);
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
