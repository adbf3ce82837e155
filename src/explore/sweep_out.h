/*
 * sweep_out.h - a sweep's output directory: the meta file (sweep.json),
 * the points (points.jsonl, one JSON line per design point, written by
 * `archex sweep`), and the tables computed from the points:
 *   pareto.csv  the Pareto front per family over the sweep's objectives,
 *               among points meeting every constraint;
 *   best.csv    per family and budget, the point that is best by the
 *               sweep's `best` objective among feasible points with
 *               budget metric (MACs) <= budget;
 *   plots/points.csv, plots/fronts.csv  the pareto.gp data files.
 * Tables are computed only from points.jsonl and sweep.json, so a
 * resumed run, a merge of shards and one unsharded run give the same
 * bytes: records are ordered by index (ties by id) and duplicates (same
 * id) keep the smallest index.
 */
#ifndef AX_SWEEP_OUT_H
#define AX_SWEEP_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "atomic_io.h"
#include "sweep.h"

/* A sweep's identity (sweep_ident.c): the resolved sweep as named parts
 * in a fixed order, each with a canonical text ("constraint 2" =
 * "macs <= 70e6", "family lite axis embed_dim" = "128, 144, ..."), and
 * the FNV-1a hash of them. sweep.json records both; two sweeps with the
 * same hash make the same points and tables. */
#define AX_SWEEP_MAX_IDENT_PARTS 4096
struct ax_sweep_ident {
	int n, cap;
	char **key, **val;
};
enum ax_status ax_sweep_ident_from(struct ax_sweep_ident *id, const struct ax_sweep *sw,
				   struct ax_diag *d);
uint64_t ax_sweep_ident_hash(const struct ax_sweep_ident *id);
void ax_sweep_ident_free(struct ax_sweep_ident *id);
/* [[key, value], ...] */
struct ax_json;
struct json_t;
void ax_sweep_ident_write(struct ax_json *j, const struct ax_sweep_ident *id);
bool ax_sweep_ident_parse(struct ax_sweep_ident *id, const struct json_t *a);
/* The "resolved" parts of a sweep.json (none: AX_ERR_FORMAT). */
enum ax_status ax_sweep_ident_read(struct ax_sweep_ident *id, const char *path,
				   struct ax_diag *d);
/* What differs first between a (called a_name) and b, as
 * "constraint 2 differs: 'macs <= 70e6' in A vs 'macs <= 100e6' in B". */
void ax_sweep_ident_diff(const struct ax_sweep_ident *a, const char *a_name,
			 const struct ax_sweep_ident *b, const char *b_name,
			 char *msg, size_t size);

/* What the tables need from the sweep file; sweep.json holds it, with
 * the sweep's identity and which part of it the directory holds. */
struct ax_sweep_meta {
	char identity[17];          /* hex hash of the parts; "" if absent */
	int shard_k, shard_n;       /* shard K/N; shard_n 0: a partial merge */
	bool complete;              /* every point of the shard is in */
	const struct ax_sweep_ident *ident;   /* written as "resolved" when
						 non-NULL (not owned) */
	char name[128];
	char convention[16];
	char mode[16];
	int64_t src_len, tgt_len;
	int64_t n_points;
	int n_families;
	char family[AX_SWEEP_MAX_FAMILIES][64];
	char family_kind[AX_SWEEP_MAX_FAMILIES][16];   /* ax_family_names */
	int n_objectives;
	struct ax_sweep_objective objective[AX_SWEEP_MAX_OBJECTIVES];
	struct ax_sweep_objective best;
	int budget_metric;
	int n_budgets;
	double budget[AX_SWEEP_MAX_BUDGETS];
};

/* The meta of sw; identity and ident from id (may be NULL: no
 * identity), shard 0/1, not complete. */
void ax_sweep_meta_from(struct ax_sweep_meta *m, const struct ax_sweep *sw,
			const struct ax_sweep_ident *id);
/* One line of JSON and a newline. */
void ax_sweep_meta_write(FILE *f, const struct ax_sweep_meta *m);
enum ax_status ax_sweep_meta_read(struct ax_sweep_meta *m, const char *path,
				  struct ax_diag *d);
bool ax_sweep_meta_equal(const struct ax_sweep_meta *a,
			 const struct ax_sweep_meta *b);

/* One point read back from points.jsonl. */
struct ax_sweep_rec {
	char id[17];
	int64_t index;
	int family;                 /* row of meta->family */
	char name[128];
	bool feasible;
	double metrics[AX_METRIC_COUNT];   /* NaN when absent or null */
	bool train_failed;          /* its trained.error is set */
	char *line;                 /* the whole line, without newline */
	size_t len;
};

struct ax_sweep_recs {
	struct ax_sweep_rec *r;
	int64_t n, cap;
};

/* Appends the records of a points.jsonl (a torn last line is ignored;
 * a malformed complete line is an error naming its line). Every line is
 * parsed with libjansson (json_read.h). */
enum ax_status ax_sweep_recs_read(struct ax_sweep_recs *rs,
				  const struct ax_sweep_meta *m,
				  const char *path, struct ax_diag *d);

/* How far a points.jsonl has been read as records: offset is the byte
 * after the last line taken, line its 1-based number (0 before any). */
struct ax_sweep_read_pos {
	int64_t offset, line;
	int64_t skipped;            /* ax_sweep_resume_read: lines without an id */
	bool all_recs;              /* every line read so far was a point */
};

/* ax_sweep_recs_read from pos on (line numbers in messages go on from
 * pos->line); pos ends past the records read. */
enum ax_status ax_sweep_recs_read_at(struct ax_sweep_recs *rs,
				     const struct ax_sweep_meta *m,
				     const char *path,
				     struct ax_sweep_read_pos *pos,
				     struct ax_diag *d);

/* For --resume, one pass over points.jsonl (each line parsed once): fn
 * gets the string "id" of every complete line that has one, in file
 * order, as ax_jsonl_read_ids gives it (the others count in
 * pos->skipped); and as long as every line is a point of m, the lines
 * are also appended to rs, so that the tables after the run need to
 * read only the lines appended since (ax_sweep_recs_read_at from pos).
 * The first line that is not a point turns pos->all_recs false: it is
 * no error here (ax_sweep_finalize reports it, after the run, as
 * before). A missing file holds nothing. */
enum ax_status ax_sweep_resume_read(struct ax_sweep_recs *rs,
				    const struct ax_sweep_meta *m,
				    const char *path, ax_jsonl_id_fn fn, void *ctx,
				    struct ax_sweep_read_pos *pos,
				    struct ax_diag *d);
/* Appends the record of a point a run just wrote as `line`: what
 * ax_sweep_recs_read would make of that line, without parsing it (a
 * sweep's tables come from the points it wrote, not from reading them
 * back). */
enum ax_status ax_sweep_recs_add_point(struct ax_sweep_recs *rs,
				       const struct ax_sweep_meta *m,
				       const struct ax_sweep *sw,
				       const struct ax_sweep_point *pt,
				       const char *line, size_t len,
				       struct ax_diag *d);
/* Sorts by (index, id) and drops later copies of an id. */
void ax_sweep_recs_finish(struct ax_sweep_recs *rs);
void ax_sweep_recs_free(struct ax_sweep_recs *rs);

/* Marks on_front[i] (rs->n entries) for the per-family Pareto fronts over
 * the meta's objectives among feasible records with finite objectives. */
enum ax_status ax_sweep_front(const struct ax_sweep_meta *m,
			      const struct ax_sweep_recs *rs, bool *on_front,
			      struct ax_diag *d);

/* pareto.csv: family,index,id,name, then the objective columns, then
 * macs,params,nonembedding_params where not already listed. */
void ax_sweep_write_pareto(FILE *f, const struct ax_sweep_meta *m,
			   const struct ax_sweep_recs *rs, const bool *on_front);
/* best.csv: family,budget,found,index,id,name,<best metric>,macs,params,
 * nonembedding_params; found=0 rows have empty point fields. */
void ax_sweep_write_best(FILE *f, const struct ax_sweep_meta *m,
			 const struct ax_sweep_recs *rs);
/* points.csv (sweep_csv.c): one flat row per record: index,id,family,
 * name,feasible,convention,mode,src_len,tgt_len, then config.PATH per
 * config field, one column per metric and constraint:TEXT (1/0) per
 * constraint, the union over the records. False when out of memory. */
bool ax_sweep_write_points_csv(FILE *f, const struct ax_sweep_meta *m,
			       const struct ax_sweep_recs *rs);
/* Index into rs of the best record of family fam under budget b, or -1. */
int64_t ax_sweep_best(const struct ax_sweep_meta *m,
		      const struct ax_sweep_recs *rs, int fam, double budget);

/* pareto.gp data: every point, feasible or not (family,macs_m,params_m,
 * config), and the
 * fronts (one block per family, sorted by MACs). */
void ax_sweep_write_plot_points(FILE *f, const struct ax_sweep_meta *m,
				const struct ax_sweep_recs *rs);
void ax_sweep_write_plot_fronts(FILE *f, const struct ax_sweep_meta *m,
				const struct ax_sweep_recs *rs,
				const bool *on_front);

/* Display names of the trained tables: each record's stored name
 * ("<label>-d96-L3-vs8000-...", ax_sweep_point_name) without the parts
 * that every record of its family in rs shares, so a name shows the axes
 * that vary ("transformer-d96" among d96 and d128; "transformer" when
 * nothing varies). Names stored in points.jsonl do not change: the
 * display follows from them alone, so a resumed or merged directory
 * shows the same names as one run. Unique when the stored names are: two
 * names that differ keep a part that differs. A family whose names do
 * not all split into the same number of parts keeps them whole. Returns
 * rs->n names to free(), or NULL when out of memory. */
typedef char ax_sweep_name[128];
ax_sweep_name *ax_sweep_display_names(const struct ax_sweep_meta *m,
				      const struct ax_sweep_recs *rs);

/* accuracy.gp data, for a sweep whose points were trained: one block per
 * family (blocks apart by two blank lines, header "<family>,valid_loss,
 * std,config"), rows "macs_m,valid_loss,std,config" of every point with
 * a measured valid_loss, sorted by MACs. ax_sweep_recs_trained: true
 * when some record has a measured valid_loss. */
void ax_sweep_write_plot_trained(FILE *f, const struct ax_sweep_meta *m,
				 const struct ax_sweep_recs *rs);
bool ax_sweep_recs_trained(const struct ax_sweep_recs *rs);

/* The trained points of a sweep as a table for people (the summary of
 * `archex sweep` and `archex merge` prints it): a header line, then one
 * row per point that was trained, ranked by the sweep's `best` metric
 * when it is a trained one (else by valid loss), ties by index: rank,
 * family, design, MACs, params, valid loss +- std, BLEU and chrF +- std (when
 * measured) and training seconds; then the points whose training failed,
 * with their trained.error, and a count of those not trained (a
 * constraint failed first). Writes nothing for a sweep without trained
 * or failed points. False when out of memory. */
bool ax_sweep_write_trained_table(FILE *f, const struct ax_sweep_meta *m,
				  const struct ax_sweep_recs *rs);

/* Where pareto.gp's legend goes: true for the bottom right, false for the
 * top left, whichever side of the log-MACs axis no budget line crosses
 * (the legend spans about 40% of the width; right when both are crossed). */
bool ax_sweep_legend_right(const struct ax_sweep_meta *m,
			   const struct ax_sweep_recs *rs);

/* Reads DIR/points.jsonl and writes DIR/pareto.csv, DIR/best.csv and
 * DIR/plots/{points,fronts}.csv, each atomically. rs (if non-NULL)
 * receives the records (caller frees). */
enum ax_status ax_sweep_finalize(const char *dir, const struct ax_sweep_meta *m,
				 struct ax_sweep_recs *rs, struct ax_diag *d);

/* Progress report: called after each point with the run's counters. */
typedef void (*ax_sweep_progress_fn)(void *ctx, const struct ax_sweep *sw,
				     const struct ax_sweep_stats *st);

struct ax_sweep_dir_opts {
	struct ax_sweep_run_opts run;   /* shard, jobs, limit */
	bool resume;                    /* keep points.jsonl, skip its ids */
	ax_sweep_progress_fn progress;  /* may be NULL */
	void *progress_ctx;
};

struct ax_sweep_dir_stats {
	struct ax_sweep_stats run;
	int64_t written;          /* new lines */
	int64_t already;          /* skipped: id already in points.jsonl */
	int64_t torn_bytes;       /* cut from a torn last line on --resume */
	int64_t retried;          /* --resume: points whose training had
				     failed, made anew */
};

/* Runs sw into dir (created if missing): sweep.json, then points.jsonl
 * one atomic line per new point (fsynced as a group every 250 ms and at
 * the end), then the tables
 * (ax_sweep_finalize). Without resume an existing points.jsonl is an
 * AX_ERR_INPUT; with it, a torn last line is cut, a sweep.json of a
 * different sweep is an AX_ERR_INPUT, and the points of a trained sweep
 * whose training failed (trained.error) leave points.jsonl and are made
 * (trained) again. rs receives the records (caller
 * frees) when non-NULL. */
enum ax_status ax_sweep_run_dir(const struct ax_sweep *sw, const char *dir,
				const struct ax_sweep_dir_opts *o,
				struct ax_sweep_dir_stats *st,
				struct ax_sweep_recs *rs, struct ax_diag *d);

/* Joins shard directories into outdir: points.jsonl deduplicated by id in
 * index order, sweep.json and the tables. Every shard's sweep.json must
 * record the first's sweep (identity, name, families); unless partial,
 * the shards must be one complete set (all of 0..N-1 of one N, each
 * finished), and the result is the unsharded sweep (shard 0/1). outdir
 * must not be a shard directory. *lines_read gets the lines read (may be
 * NULL). */
enum ax_status ax_sweep_merge_dirs(const char *outdir, const char *const *dirs,
				   int n, bool partial, struct ax_sweep_meta *meta,
				   struct ax_sweep_recs *rs, int64_t *lines_read,
				   struct ax_diag *d);

/* mkdir -p */
enum ax_status ax_sweep_make_dirs(const char *path, struct ax_diag *d);

/* A display name of a family kind for legends: "Lite Transformer". */
const char *ax_sweep_family_title(const char *kind);

#endif
