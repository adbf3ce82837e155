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

static void trained_tab(FILE *f, const struct ax_sweep_meta *m,
			const struct ax_sweep_recs *rs, const bool *on)
{
	(void)on;
	ax_sweep_write_plot_trained(f, m, rs);
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

static enum ax_status write_points_csv(const char *path, const struct ax_sweep_meta *m,
				       const struct ax_sweep_recs *rs, struct ax_diag *d)
{
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	if (!ax_sweep_write_points_csv(f, m, rs)) {
		ax_atomic_abort(&a);
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	}
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
	snprintf(path, sizeof path, "%s/points.csv", dir);
	if ((st = write_points_csv(path, m, rs, d)))
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
	if ((st = write_atomic(path, fronts_tab, m, rs, on, d)))
		goto free_recs;
	snprintf(path, sizeof path, "%s/plots/trained.csv", dir);
	if (ax_sweep_recs_trained(rs))
		st = write_atomic(path, trained_tab, m, rs, on, d);
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
	if (!*path)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "an empty directory name");
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

/* The checks of --resume, before any file changes: points.jsonl is a
 * regular file (not a symlink) and sweep.json beside it records this
 * very sweep (same identity, name and shard). */
static enum ax_status resume_check(const char *dir, const struct ax_sweep *sw,
				   const struct ax_sweep_meta *meta,
				   const struct ax_sweep_ident *id, struct ax_diag *d)
{
	char pp[AX_PATH_MAX + 32], mp[AX_PATH_MAX + 32], msg[512];
	struct ax_sweep_meta old;
	struct stat stt;
	enum ax_status s;
	snprintf(pp, sizeof pp, "%s/points.jsonl", dir);
	snprintf(mp, sizeof mp, "%s/sweep.json", dir);
	if (lstat(pp, &stt))
		return ax_diag_set(d, AX_ERR_IO, pp, 0, 0, "cannot stat: %s", strerror(errno));
	if (S_ISLNK(stt.st_mode) || !S_ISREG(stt.st_mode))
		return ax_diag_set(d, AX_ERR_INPUT, pp, 0, 0, "is %s; --resume appends only to "
				   "a regular file of the sweep directory",
				   S_ISLNK(stt.st_mode) ? "a symbolic link" : "not a regular file");
	if (access(mp, F_OK))
		return ax_diag_set(d, AX_ERR_INPUT, pp, 0, 0, "has no sweep.json beside it, so "
				   "its sweep is unknown; use another directory");
	if ((s = ax_sweep_meta_read(&old, mp, d)))
		return s;
	if (!old.identity[0])
		return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0, "records no sweep identity (an "
				   "older archex wrote it), so it cannot be checked to be this "
				   "sweep; start over in another directory");
	if (strcmp(old.identity, meta->identity)) {
		struct ax_sweep_ident oid;
		if ((s = ax_sweep_ident_read(&oid, mp, d)))
			return s;
		ax_sweep_ident_diff(id, sw->path, &oid, "sweep.json", msg, sizeof msg);
		ax_sweep_ident_free(&oid);
		return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0, "written by a different sweep: "
				   "%s; use another directory", msg);
	}
	if (strcmp(old.name, meta->name))
		return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0, "written by sweep '%s', not '%s'; "
				   "use another directory", old.name, meta->name);
	if (old.shard_k != meta->shard_k || old.shard_n != meta->shard_n)
		return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0, "holds shard %d/%d, not %d/%d; "
				   "resume it with --shard %d/%d", old.shard_k, old.shard_n,
				   meta->shard_k, meta->shard_n, old.shard_k, old.shard_n);
	if (!ax_sweep_meta_equal(&old, meta))
		return ax_diag_set(d, AX_ERR_INPUT, mp, 0, 0, "written by a different sweep "
				   "(families or point count differ); use another directory");
	return AX_OK;
}

/* Every record of a grid or random sweep must be the point this sweep
 * makes at its index (an evolution's points are known only by running
 * it; its identity check stands alone). */
static enum ax_status check_ids(const struct ax_sweep *sw, const struct ax_sweep_recs *rs,
				const char *path, struct ax_diag *d)
{
	if (sw->strategy == AX_SWEEP_EVOLUTION || !rs->n)
		return AX_OK;
	struct ax_sweep_point *pt = malloc(sizeof *pt);
	int32_t genes[AX_SWEEP_MAX_GENES];
	char id[17];
	enum ax_status s = AX_OK;
	if (!pt)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	for (int64_t i = 0; i < rs->n && !s; i++) {
		const struct ax_sweep_rec *r = &rs->r[i];
		const struct ax_sweep_family *fam = &sw->family[r->family];
		struct ax_diag rd = { 0 };
		int64_t k = r->index - fam->first_index;
		bool ok = k >= 0 && k < fam->n_points;
		if (ok) {
			ax_sweep_genome(sw, r->family, k, genes);
			ok = ax_sweep_resolve(sw, r->family, genes, pt, &rd) == AX_OK;
		}
		if (ok)
			snprintf(id, sizeof id, "%016" PRIx64, pt->id);
		if (!ok || strcmp(id, r->id))
			s = ax_diag_set(d, AX_ERR_INPUT, path, 0, 0, "point %" PRId64 " (id %s, "
					"family %s) is not this sweep's point %" PRId64 ": the file "
					"holds points of another sweep; use another directory",
					r->index, r->id, fam->label, r->index);
	}
	free(pt);
	return s;
}

/* Reads points.jsonl for --resume without changing it: the ids to skip
 * and the records the tables will need (the points the run adds are
 * recorded as on_point writes them, so nothing is read back). Every
 * complete line must be a point of this sweep. */
static enum ax_status resume_read(const struct ax_sweep *sw, const struct ax_sweep_meta *meta,
				  const char *path, struct ax_sweep_recs *recs,
				  struct done *done, struct ax_diag *d)
{
	struct ax_sweep_read_pos pos;
	enum ax_status s = ax_sweep_resume_read(recs, meta, path, add_done, done, &pos, d);
	if (!s && !pos.all_recs) {
		/* read the first foreign line again as a record, for its message */
		struct ax_sweep_recs tmp = { 0 };
		s = ax_sweep_recs_read_at(&tmp, meta, path, &pos, d);
		ax_sweep_recs_free(&tmp);
		if (!s)
			s = ax_diag_set(d, AX_ERR_INTERNAL, path, 0, 0, "a foreign line vanished");
	}
	if (!s)
		s = check_ids(sw, recs, path, d);
	if (done->n)   /* an empty points.jsonl: no array (qsort wants one) */
		qsort(done->id, (size_t)done->n, sizeof *done->id, cmp_u64);
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

/* For --resume of a trained sweep: the points whose training failed
 * (trained.error) are tried again. Their records leave recs and their
 * ids leave done, so the run makes them anew; *n_failed gets how many,
 * and the caller rewrites points.jsonl without them. Every such failure
 * is reproducible for the same archex, inputs, seed and threads (a kind
 * with no backward, a diverging loss, ids outside the vocabulary, a
 * checkpoint of another run in the way): a retry with the same archex
 * fails again, cheaply (a diverged run resumes from its last checkpoint),
 * and one after an upgrade or a fix by hand trains. */
static enum ax_status drop_failed(struct ax_sweep_recs *recs, struct done *done,
				  int64_t *n_failed, struct ax_diag *d)
{
	uint64_t *failed = NULL;
	int64_t nf = 0, k = 0;
	*n_failed = 0;
	for (int64_t i = 0; i < recs->n; i++)
		nf += recs->r[i].train_failed;
	if (!nf)
		return AX_OK;
	if (!(failed = malloc((size_t)nf * sizeof *failed)))
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	nf = 0;
	for (int64_t i = 0; i < recs->n; i++) {
		struct ax_sweep_rec *r = &recs->r[i];
		if (!r->train_failed) {
			recs->r[k++] = *r;
			continue;
		}
		failed[nf++] = strtoull(r->id, NULL, 16);
		free(r->line);
	}
	recs->n = k;
	qsort(failed, (size_t)nf, sizeof *failed, cmp_u64);
	k = 0;
	for (int64_t i = 0; i < done->n; i++)
		if (!bsearch(&done->id[i], failed, (size_t)nf, sizeof *failed, cmp_u64))
			done->id[k++] = done->id[i];
	done->n = k;
	free(failed);
	*n_failed = nf;
	return AX_OK;
}

static enum ax_status write_meta(const char *dir, const struct ax_sweep_meta *m,
				 struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/sweep.json", dir);
	return write_atomic(path, write_meta_tab, m, NULL, NULL, d);
}

enum ax_status ax_sweep_run_dir(const struct ax_sweep *sw, const char *dir,
				const struct ax_sweep_dir_opts *o,
				struct ax_sweep_dir_stats *st,
				struct ax_sweep_recs *rs, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	struct ax_sweep_meta meta;
	struct ax_sweep_ident id;
	struct dir_ctx c = { .sw = sw, .o = o, .st = st, .size = 1 << 20 };
	/* the records of points.jsonl (none without --resume), then of the
	 * points the run adds */
	struct ax_sweep_recs recs = { 0 };
	enum ax_status s;
	memset(st, 0, sizeof *st);
	c.out.fd = -1;
	if ((s = ax_sweep_ident_from(&id, sw, d)))
		return s;
	ax_sweep_meta_from(&meta, sw, &id);
	meta.shard_k = o->run.shard_k;
	meta.shard_n = o->run.shard_n;
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	struct stat pst;
	bool exists = lstat(path, &pst) == 0;
	if (exists && !o->resume) {
		s = ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				"already exists; resume it or remove it to start over");
		goto free_done;
	}
	if (exists && ((s = resume_check(dir, sw, &meta, &id, d)) ||
		       (s = resume_read(sw, &meta, path, &recs, &c.done, d)) ||
		       (sw->train.present &&
			(s = drop_failed(&recs, &c.done, &st->retried, d)))))
		goto free_done;
	/* everything checked: from here on files change */
	if ((s = ax_sweep_make_dirs(dir, d)))
		goto free_done;
	if (exists && (s = ax_jsonl_recover(path, &st->torn_bytes, d)))
		goto free_done;
	/* the failed points to retry leave the file (with any torn line) */
	if (st->retried && (s = write_atomic(path, write_points_tab, &meta, &recs, NULL, d)))
		goto free_done;
	if ((s = write_meta(dir, &meta, d)))
		goto free_done;
	c.buf = malloc(c.size);
	if (!c.buf) {
		s = ax_diag_set(d, AX_ERR_NOMEM, dir, 0, 0, "out of memory");
		goto free_done;
	}
	if ((s = ax_jsonl_open(&c.out, path, d)))
		goto free_done;
	c.recs = &recs;
	c.meta = &meta;
	s = ax_sweep_run(sw, &o->run, on_point, &c, &st->run, d);
	enum ax_status cs = ax_jsonl_close(&c.out, s ? NULL : d);
	if (!s)
		s = cs;
	if (!s) {
		ax_sweep_recs_finish(&recs);
		s = write_tables(dir, &meta, &recs, rs, d);
	}
	/* a run cut short by --limit leaves the shard incomplete */
	meta.complete = !o->run.limit || st->written < o->run.limit;
	if (!s)
		s = write_meta(dir, &meta, d);
free_done:
	ax_sweep_recs_free(&recs);
	ax_sweep_ident_free(&id);
	free(c.buf);
	free(c.done.id);
	return s;
}

/* Shard dirs[i] (meta m) against the first's (meta first): same sweep
 * identity, name, families and budgets. */
static enum ax_status merge_same(const char *const *dirs, int i,
				 const struct ax_sweep_meta *first,
				 const struct ax_sweep_meta *m, struct ax_diag *d)
{
	char a[AX_PATH_MAX + 32], b[AX_PATH_MAX + 32], msg[512];
	snprintf(a, sizeof a, "%s/sweep.json", dirs[0]);
	snprintf(b, sizeof b, "%s/sweep.json", dirs[i]);
	if (!m->identity[0])
		return ax_diag_set(d, AX_ERR_INPUT, b, 0, 0, "records no sweep identity (an "
				   "older archex wrote it); rerun that shard");
	if (strcmp(m->identity, first->identity)) {
		struct ax_sweep_ident x, y;
		enum ax_status s = ax_sweep_ident_read(&x, a, d);
		if (!s && (s = ax_sweep_ident_read(&y, b, d)))
			ax_sweep_ident_free(&x);
		if (s)
			return s;
		ax_sweep_ident_diff(&y, b, &x, a, msg, sizeof msg);
		ax_sweep_ident_free(&x);
		ax_sweep_ident_free(&y);
		return ax_diag_set(d, AX_ERR_INPUT, b, 0, 0, "from a different sweep than %s: %s",
				   a, msg);
	}
	if (!ax_sweep_meta_equal(first, m))
		return ax_diag_set(d, AX_ERR_INPUT, b, 0, 0, "from a different sweep than %s "
				   "(name, families or point count differ)", a);
	return AX_OK;
}

/* The shards must be one complete set: all of one count N, each of
 * 0..N-1 present (a shard given twice is fine), each complete. */
static enum ax_status merge_set(const char *const *dirs, int n,
				const struct ax_sweep_meta *ms, struct ax_diag *d)
{
	char path[AX_PATH_MAX + 32];
	int N = ms[0].shard_n;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/sweep.json", dirs[i]);
		if (ms[i].shard_n == 0)
			return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0, "holds a partial merge; "
					   "merge it again only with --partial");
		if (ms[i].shard_n != N)
			return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0, "is shard %d/%d but %s is "
					   "shard %d/%d: a mixed set of shards (pass --partial to "
					   "merge anyway)", ms[i].shard_k, ms[i].shard_n, dirs[0],
					   ms[0].shard_k, N);
		if (!ms[i].complete)
			return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0, "shard %d/%d did not finish "
					   "(resume it with 'archex sweep --resume --shard %d/%d', or "
					   "pass --partial)", ms[i].shard_k, N, ms[i].shard_k, N);
	}
	for (int k = 0; k < N; k++) {
		bool found = false;
		for (int i = 0; i < n && !found; i++)
			found = ms[i].shard_k == k;
		if (!found)
			return ax_diag_set(d, AX_ERR_INPUT, dirs[0], 0, 0, "shard %d/%d is missing "
					   "from the %d director%s given; merge all %d shards or pass "
					   "--partial", k, N, n, n == 1 ? "y" : "ies", N);
	}
	return AX_OK;
}

/* outdir must not be one of the shard directories (it is rewritten). */
static enum ax_status merge_out(const char *outdir, const char *const *dirs, int n,
				struct ax_diag *d)
{
	struct stat o, x;
	if (!*outdir)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "an empty directory name");
	if (stat(outdir, &o))
		return AX_OK;
	for (int i = 0; i < n; i++)
		if (!stat(dirs[i], &x) && x.st_dev == o.st_dev && x.st_ino == o.st_ino)
			return ax_diag_set(d, AX_ERR_INPUT, outdir, 0, 0, "is also a shard "
					   "directory; merge into another directory");
	return AX_OK;
}

enum ax_status ax_sweep_merge_dirs(const char *outdir, const char *const *dirs,
				   int n, bool partial, struct ax_sweep_meta *meta,
				   struct ax_sweep_recs *out, int64_t *lines_read,
				   struct ax_diag *d)
{
	struct ax_sweep_meta *ms = calloc((size_t)n, sizeof *ms);
	struct ax_sweep_ident id = { 0 };
	struct ax_sweep_recs rs = { 0 };
	char path[AX_PATH_MAX + 32];
	enum ax_status s = merge_out(outdir, dirs, n, d);
	if (!ms)
		s = ax_diag_set(d, AX_ERR_NOMEM, outdir, 0, 0, "out of memory");
	for (int i = 0; i < n && !s; i++) {
		snprintf(path, sizeof path, "%s/sweep.json", dirs[i]);
		if (!(s = ax_sweep_meta_read(&ms[i], path, d)))
			s = merge_same(dirs, i, &ms[0], &ms[i], d);
	}
	if (!s && !partial)
		s = merge_set(dirs, n, ms, d);
	for (int i = 0; i < n && !s; i++) {
		snprintf(path, sizeof path, "%s/points.jsonl", dirs[i]);
		s = ax_sweep_recs_read(&rs, &ms[0], path, d);
	}
	if (lines_read)
		*lines_read = rs.n;
	if (!s) {
		*meta = ms[0];
		snprintf(path, sizeof path, "%s/sweep.json", dirs[0]);
		s = ax_sweep_ident_read(&id, path, d);
	}
	if (!s) {
		/* a full set makes the unsharded sweep; --partial, a part */
		meta->ident = &id;
		meta->shard_k = 0;
		meta->shard_n = partial ? 0 : 1;
		meta->complete = !partial;
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
		s = write_tables(outdir, meta, &rs, out, d);
	else
		ax_sweep_recs_free(&rs);
	meta->ident = NULL;
	ax_sweep_ident_free(&id);
	free(ms);
	return s;
}
