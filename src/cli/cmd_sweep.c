/*
 * cmd_sweep.c - `archex sweep` (expand a sweep file, cost every design
 * point, append each as one atomic JSON line, then write the Pareto
 * fronts, the best design per budget and the plots) and `archex merge`
 * (join shard directories into one, as if the sweep had run unsharded).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_io.h"
#include "cli.h"
#include "plot.h"
#include "sweep.h"
#include "sweep_out.h"

static void sweep_help(void)
{
	printf(
"usage: archex sweep [options] SWEEP.yaml\n"
"\n"
"Evaluate every design point of a sweep file (docs/sweeps.md) analytically\n"
"and write into DIR:\n"
"  points.jsonl  one JSON line per point: id, index, family, name, config,\n"
"                every count, metrics, constraints, objectives\n"
"  sweep.json    what the tables need from the sweep file (for merge)\n"
"  pareto.csv    the Pareto front per family over the sweep's objectives,\n"
"                among points meeting every constraint\n"
"  best.csv      per family and budget, the best feasible point with\n"
"                MACs <= budget (by the sweep's `best` objective)\n"
"  plots/        pareto.{png,svg}: params vs MACs with each family's front\n"
"\n"
"options:\n"
"  --out DIR      output directory (default results/sweeps/NAME)\n"
"  --shard K/N    evaluate only the points whose index mod N is K\n"
"                 (0 <= K < N); join shard directories with 'archex merge'\n"
"  --resume       keep DIR/points.jsonl (cutting a torn last line) and skip\n"
"                 the points already in it; without it an existing\n"
"                 points.jsonl is an error\n"
"  --jobs N       worker threads for grid and random search (default 1)\n"
"  --limit N      stop after N new points (for tests of --resume)\n"
"  --no-plot      do not draw plots\n"
"  --quiet        no summary on stdout\n"
"  -h, --help     this text\n"
"\n"
"A progress bar with rate and ETA goes to stderr when it is a terminal.\n"
"gnuplot missing: the plots are skipped with a message, the data is written.\n"
"Exit codes: 0 success, 1 bad sweep file or I/O error, 2 usage error.\n");
}

static void merge_help(void)
{
	printf(
"usage: archex merge [options] OUTDIR SHARD_DIR...\n"
"\n"
"Join the outputs of 'archex sweep --shard K/N' runs of one sweep into\n"
"OUTDIR: points.jsonl (deduplicated by id, ordered by index), sweep.json,\n"
"pareto.csv, best.csv and plots, recomputed from the joined points. The\n"
"result equals an unsharded run. Every SHARD_DIR must come from the same\n"
"sweep (same sweep.json); a torn last line in a shard is ignored.\n"
"\n"
"options:\n"
"  --no-plot      do not draw plots\n"
"  --quiet        no summary on stdout\n"
"  -h, --help     this text\n"
"\n"
"Exit codes: 0 success, 1 bad or mismatched shard or I/O error, 2 usage error.\n");
}

static const char *templates_dir(void)
{
	const char *e = getenv("ARCHEX_PLOTS_DIR");
	if (e && *e)
		return e;
#ifdef AX_DATA_DIR
	return AX_DATA_DIR "/plots";
#else
	return "plots";
#endif
}

/* mkdir -p */
static bool make_dirs(const char *path)
{
	char buf[AX_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST) {
				fprintf(stderr, "archex: error: cannot create %s: %s\n", buf,
					strerror(errno));
				return false;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	return true;
}

static bool write_meta(const char *dir, const struct ax_sweep_meta *m)
{
	char path[AX_PATH_MAX];
	struct ax_diag d = { 0 };
	struct ax_atomic a;
	snprintf(path, sizeof path, "%s/sweep.json", dir);
	FILE *f = ax_atomic_open(&a, path, &d);
	if (!f || (ax_sweep_meta_write(f, m), ax_atomic_commit(&a, &d))) {
		ax_cli_print_diag(&d);
		return false;
	}
	return true;
}

/* pareto.{png,svg} from the data files of ax_sweep_finalize */
static bool draw(const char *dir, const struct ax_sweep_meta *m)
{
	char gp[AX_PATH_MAX];
	if (!ax_plot_available(gp, sizeof gp)) {
		fprintf(stderr, "archex: gnuplot not found on PATH; plots skipped "
			"(install gnuplot-nox; the data is in %s/plots/*.csv)\n", dir);
		return true;
	}
	char tpl[AX_PATH_MAX], points[AX_PATH_MAX], fronts[AX_PATH_MAX], title[256];
	snprintf(tpl, sizeof tpl, "%s/pareto.gp", templates_dir());
	snprintf(points, sizeof points, "%s/plots/points.csv", dir);
	snprintf(fronts, sizeof fronts, "%s/plots/fronts.csv", dir);
	snprintf(title, sizeof title, "Sweep %s: parameters vs. Mult-Adds (%s, S=%" PRId64
		 " T=%" PRId64 ")", m->name, m->convention, m->src_len, m->tgt_len);
	char lo[32] = "100", hi[32] = "500";
	if (m->n_budgets > 0)
		snprintf(lo, sizeof lo, "%g", m->budget[0] / 1e6);
	if (m->n_budgets > 1)
		snprintf(hi, sizeof hi, "%g", m->budget[1] / 1e6);
	const struct ax_plot_var vars[] = {
		{ "points", points }, { "fronts", fronts }, { "title_text", title },
		{ "budget_lo", lo }, { "budget_hi", m->n_budgets > 1 ? hi : "0" },
	};
	for (int k = 0; k < AX_PLOT_FORMAT_COUNT; k++) {
		char out[AX_PATH_MAX];
		struct ax_diag d = { 0 };
		snprintf(out, sizeof out, "%s/plots/pareto.%s", dir,
			 ax_plot_format_name((enum ax_plot_format)k));
		if (ax_plot_render(tpl, out, (enum ax_plot_format)k, vars,
				   (int)(sizeof vars / sizeof vars[0]), &d)) {
			ax_cli_print_diag(&d);
			return false;
		}
	}
	return true;
}

static void summary(const struct ax_sweep_meta *m, const struct ax_sweep_recs *rs,
		    const char *dir)
{
	char h1[32], h2[32], h3[32], b[32];
	printf("sweep %s: %" PRId64 " points in %s (%s, S=%" PRId64 " T=%" PRId64 ")\n",
	       m->name, rs->n, dir, m->convention, m->src_len, m->tgt_len);
	printf("  %-14s %8s  %-36s %9s %9s %12s\n", "family", "budget", "best design",
	       "MACs", "params", "nonemb.par");
	for (int f = 0; f < m->n_families; f++)
		for (int k = 0; k < m->n_budgets; k++) {
			int64_t i = ax_sweep_best(m, rs, f, m->budget[k]);
			ax_cli_human(b, sizeof b, (int64_t)m->budget[k]);
			if (i < 0) {
				printf("  %-14s %8s  %-36s\n", m->family[f], b, "(none fits)");
				continue;
			}
			const struct ax_sweep_rec *r = &rs->r[i];
			ax_cli_human(h1, sizeof h1, (int64_t)r->metrics[AX_METRIC_MACS]);
			ax_cli_human(h2, sizeof h2, (int64_t)r->metrics[AX_METRIC_PARAMS]);
			ax_cli_human(h3, sizeof h3, (int64_t)r->metrics[AX_METRIC_NONEMBEDDING_PARAMS]);
			printf("  %-14s %8s  %-36s %9s %9s %12s\n", m->family[f], b, r->name,
			       h1, h2, h3);
		}
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

struct run_ctx {
	const struct ax_sweep *sw;
	struct ax_jsonl out;
	struct done done;
	int64_t skipped;
	char *buf;
	size_t size;
	bool progress;
	double t0, last;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bar(struct run_ctx *c, const struct ax_sweep_stats *st, bool final)
{
	double t = now();
	if (!final && t - c->last < 0.1)
		return;
	c->last = t;
	int64_t total = c->sw->n_points;
	int64_t done = c->sw->strategy == AX_SWEEP_EVOLUTION ? st->total : st->in_shard;
	/* in a shard, about total/N of the points are ours */
	double frac = total ? (double)(c->sw->strategy == AX_SWEEP_EVOLUTION ? done :
				       done) / (double)total : 1;
	if (frac > 1)
		frac = 1;
	double rate = (double)(st->emitted + st->invalid + st->duplicate) / (t - c->t0 + 1e-9);
	double eta = frac > 0 ? (t - c->t0) * (1 - frac) / frac : 0;
	char filled[31];
	int w = (int)(frac * 30);
	for (int i = 0; i < 30; i++)
		filled[i] = i < w ? '#' : '.';
	filled[30] = '\0';
	fprintf(stderr, "\r[%s] %3.0f%% %" PRId64 " pts %.0f pts/s ETA %.0fs   ",
		filled, 100 * frac, st->emitted, rate, eta);
	if (final)
		fputc('\n', stderr);
}

static enum ax_status on_point(void *vctx, const struct ax_sweep_point *pt,
			       const struct ax_sweep_stats *st, struct ax_diag *d)
{
	struct run_ctx *c = vctx;
	if (c->progress)
		bar(c, st, false);
	if (c->done.n && bsearch(&pt->id, c->done.id, (size_t)c->done.n,
				 sizeof *c->done.id, cmp_u64)) {
		c->skipped++;
		return AX_OK;
	}
	FILE *f = fmemopen(c->buf, c->size, "w");
	if (!f)
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "fmemopen: %s", strerror(errno));
	ax_sweep_point_write_json(f, c->sw, pt);
	long len = ftell(f);
	bool full = len < 0 || (size_t)len + 1 >= c->size;
	fclose(f);
	if (full)
		return ax_diag_set(d, AX_ERR_LIMIT, c->out.path, 0, 0,
				   "point %" PRId64 " does not fit a %zu-byte line",
				   pt->index, c->size);
	return ax_jsonl_append(&c->out, c->buf, (size_t)len, d);
}

static bool parse_shard(const char *s, int *k, int *n)
{
	const char *slash = strchr(s, '/');
	char a[32];
	int64_t kk, nn;
	if (!slash || slash - s >= (long)sizeof a)
		return false;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (!ax_cli_parse_i64(a, 0, 1 << 20, &kk) || !ax_cli_parse_i64(slash + 1, 1, 1 << 20, &nn) ||
	    kk >= nn)
		return false;
	*k = (int)kk;
	*n = (int)nn;
	return true;
}

int ax_cmd_sweep(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "shard", required_argument, NULL, 's' },
		{ "resume", no_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "no-plot", no_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	struct ax_sweep_run_opts ro = { .shard_k = 0, .shard_n = 1, .jobs = 1 };
	bool resume = false, plot = true, quiet = false;
	int64_t v;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 's':
			if (!parse_shard(optarg, &ro.shard_k, &ro.shard_n))
				return ax_cli_usage_error("sweep", "--shard wants K/N with 0 <= K < N, not '%s'", optarg);
			break;
		case 'r': resume = true; break;
		case 'j':
			if (!ax_cli_parse_i64(optarg, 1, 64, &v))
				return ax_cli_usage_error("sweep", "--jobs wants an integer in 1..64, not '%s'", optarg);
			ro.jobs = (int)v;
			break;
		case 'l':
			if (!ax_cli_parse_i64(optarg, 1, INT64_MAX, &v))
				return ax_cli_usage_error("sweep", "--limit wants a positive integer, not '%s'", optarg);
			ro.limit = v;
			break;
		case 'P': plot = false; break;
		case 'q': quiet = true; break;
		case 'h': sweep_help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("sweep", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_usage_error("sweep", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return ax_cli_usage_error("sweep", argc - optind ? "give one SWEEP.yaml" :
					  "no SWEEP.yaml given");

	int rc = AX_EXIT_ERROR;
	struct ax_diag d = { 0 };
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	struct run_ctx c = { 0 };
	struct ax_sweep_meta meta, old;
	struct ax_sweep_recs rs = { 0 };
	char dir[AX_PATH_MAX - 64], path[AX_PATH_MAX];
	c.out.fd = -1;
	c.size = 1 << 20;
	c.buf = malloc(c.size);
	if (!sw || !c.buf) {
		fprintf(stderr, "archex sweep: error: out of memory\n");
		goto free_ctx;
	}
	if (ax_sweep_load(sw, argv[optind], &d)) {
		ax_cli_print_diag(&d);
		goto free_ctx;
	}
	c.sw = sw;
	if (out)
		snprintf(dir, sizeof dir, "%s", out);
	else
		snprintf(dir, sizeof dir, "results/sweeps/%s", sw->name);
	if (!make_dirs(dir))
		goto free_sweep;
	ax_sweep_meta_from(&meta, sw);
	snprintf(path, sizeof path, "%s/points.jsonl", dir);
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if (exists && !resume) {
		fprintf(stderr, "archex sweep: error: %s exists; use --resume to continue it "
			"or remove it to start over\n", path);
		goto free_sweep;
	}
	if (exists) {
		char mp[AX_PATH_MAX];
		snprintf(mp, sizeof mp, "%s/sweep.json", dir);
		if (ax_sweep_meta_read(&old, mp, &d) == AX_OK && !ax_sweep_meta_equal(&old, &meta)) {
			fprintf(stderr, "archex sweep: error: %s was written by a different sweep "
				"(objectives, budgets, families or lengths differ); use another --out\n",
				mp);
			goto free_sweep;
		}
		int64_t cut = 0;
		if (ax_jsonl_recover(path, &cut, &d)) {
			ax_cli_print_diag(&d);
			goto free_sweep;
		}
		if (cut)
			fprintf(stderr, "archex sweep: cut a torn last line (%" PRId64 " bytes) from %s\n",
				cut, path);
		int64_t bad = 0;
		if (ax_jsonl_read_ids(path, add_done, &c.done, &bad, &d)) {
			ax_cli_print_diag(&d);
			goto free_sweep;
		}
		qsort(c.done.id, (size_t)c.done.n, sizeof *c.done.id, cmp_u64);
	}
	if (!write_meta(dir, &meta))
		goto free_sweep;
	if (ax_jsonl_open(&c.out, path, &d)) {
		ax_cli_print_diag(&d);
		goto free_sweep;
	}
	c.progress = isatty(STDERR_FILENO);
	c.t0 = c.last = now();
	struct ax_sweep_stats st;
	enum ax_status s = ax_sweep_run(sw, &ro, on_point, &c, &st, &d);
	if (c.progress)
		bar(&c, &st, true);
	if (ax_jsonl_close(&c.out, s ? NULL : &d) && !s)
		s = d.status;
	if (s) {
		ax_cli_print_diag(&d);
		goto free_sweep;
	}
	fprintf(stderr, "archex sweep: %s: %" PRId64 " points (%s), %" PRId64
		" in shard %d/%d: %" PRId64 " written, %" PRId64 " already there, %"
		PRId64 " invalid, %" PRId64 " duplicates; %" PRId64 " meet the constraints\n",
		sw->name, st.total, ax_sweep_strategy_names[sw->strategy], st.in_shard,
		ro.shard_k, ro.shard_n, st.emitted - c.skipped, c.skipped, st.invalid,
		st.duplicate, st.feasible);
	if (ax_sweep_finalize(dir, &meta, &rs, &d)) {
		ax_cli_print_diag(&d);
		goto free_sweep;
	}
	if (plot && !draw(dir, &meta))
		goto free_recs;
	if (!quiet)
		summary(&meta, &rs, dir);
	rc = fflush(stdout) ? AX_EXIT_ERROR : AX_EXIT_OK;
free_recs:
	ax_sweep_recs_free(&rs);
free_sweep:
	ax_sweep_free(sw);
free_ctx:
	free(c.done.id);
	free(c.buf);
	free(sw);
	return rc;
}

static bool write_points(const char *path, const struct ax_sweep_recs *rs)
{
	struct ax_diag d = { 0 };
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, &d);
	if (!f) {
		ax_cli_print_diag(&d);
		return false;
	}
	for (int64_t i = 0; i < rs->n; i++) {
		fwrite(rs->r[i].line, 1, rs->r[i].len, f);
		fputc('\n', f);
	}
	if (ax_atomic_commit(&a, &d)) {
		ax_cli_print_diag(&d);
		return false;
	}
	return true;
}

int ax_cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-plot", no_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool plot = true, quiet = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'P': plot = false; break;
		case 'q': quiet = true; break;
		case 'h': merge_help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("merge", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_usage_error("merge", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return ax_cli_usage_error("merge", "give OUTDIR and at least one SHARD_DIR");
	const char *outdir = argv[optind];
	struct ax_sweep_meta meta, m;
	struct ax_sweep_recs rs = { 0 };
	struct ax_diag d = { 0 };
	char path[AX_PATH_MAX];
	int rc = AX_EXIT_ERROR;
	for (int i = optind + 1; i < argc; i++) {
		snprintf(path, sizeof path, "%s/sweep.json", argv[i]);
		if (ax_sweep_meta_read(i == optind + 1 ? &meta : &m, path, &d)) {
			ax_cli_print_diag(&d);
			goto free_recs;
		}
		if (i > optind + 1 && !ax_sweep_meta_equal(&meta, &m)) {
			fprintf(stderr, "archex merge: error: %s is from a different sweep than %s/sweep.json\n",
				path, argv[optind + 1]);
			goto free_recs;
		}
		snprintf(path, sizeof path, "%s/points.jsonl", argv[i]);
		if (ax_sweep_recs_read(&rs, &meta, path, &d)) {
			ax_cli_print_diag(&d);
			goto free_recs;
		}
	}
	int64_t read = rs.n;
	ax_sweep_recs_finish(&rs);
	if (!make_dirs(outdir) || !write_meta(outdir, &meta))
		goto free_recs;
	snprintf(path, sizeof path, "%s/points.jsonl", outdir);
	if (!write_points(path, &rs))
		goto free_recs;
	fprintf(stderr, "archex merge: %d shard%s, %" PRId64 " lines, %" PRId64 " points after removing duplicates\n",
		argc - optind - 1, argc - optind - 1 == 1 ? "" : "s", read, rs.n);
	ax_sweep_recs_free(&rs);
	if (ax_sweep_finalize(outdir, &meta, &rs, &d)) {
		ax_cli_print_diag(&d);
		goto free_recs;
	}
	if (plot && !draw(outdir, &meta))
		goto free_recs;
	if (!quiet)
		summary(&meta, &rs, outdir);
	rc = fflush(stdout) ? AX_EXIT_ERROR : AX_EXIT_OK;
free_recs:
	ax_sweep_recs_free(&rs);
	return rc;
}
