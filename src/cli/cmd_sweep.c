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
#include "json.h"
#include "plot.h"
#include "sweep.h"
#include "sweep_out.h"
#include "trainsweep.h"

static void sweep_help(void)
{
	printf(
"usage: archex sweep [options] SWEEP.yaml\n"
"\n"
"Evaluate every design point of a sweep file (docs/sweeps.md) analytically\n"
"and write into DIR:\n"
"  points.jsonl  one JSON line per point: id, index, family, name, config,\n"
"                every count, metrics, constraints, objectives\n"
"  points.csv    the same points as one flat table: a column per config\n"
"                field, metric and constraint\n"
"  sweep.json    the resolved sweep, its hash and the shard (for merge and\n"
"                --resume)\n"
"  pareto.csv    the Pareto front per family over the sweep's objectives,\n"
"                among points meeting every constraint\n"
"  best.csv      per family and budget, the best feasible point with\n"
"                MACs <= budget (by the sweep's `best` objective)\n"
"  plots/        pareto.{png,svg}: params vs MACs with each family's front\n"
"  trained/      with a train: section (data, max_steps or train_tokens,\n"
"                seeds): one run per point and seed, <id>-<recipe>-s<seed>/\n"
"                {run/, result.json}; the points gain valid_loss, valid_ppl,\n"
"                train_seconds (and bleu, chrf with bleu: true; mean, _std,\n"
"                per seed) and best ranks by\n"
"                valid_loss. --resume retrains nothing finished, continues\n"
"                a cut run from its checkpoint and tries again the points\n"
"                whose training failed (docs/sweeps.md). The summary ends\n"
"                with every trained point ranked: MACs, params, valid loss,\n"
"                BLEU and chrF\n"
"\n"
"options:\n"
"  --out DIR      output directory (default results/sweeps/NAME)\n"
"  --shard K/N    evaluate only the points whose index mod N is K\n"
"                 (0 <= K < N); join shard directories with 'archex merge'\n"
"  --resume       keep DIR/points.jsonl (cutting a torn last line) and skip\n"
"                 the points already in it; without it an existing\n"
"                 points.jsonl is an error. Refused, before any file\n"
"                 changes, when DIR/sweep.json records another sweep or\n"
"                 shard (the difference is named), or points.jsonl is a\n"
"                 symbolic link or holds another sweep's points\n"
"  --jobs N       worker threads for grid and random search (default 1)\n"
"  --limit N      stop after N new points (for tests of --resume)\n"
"  --no-plot      do not draw plots\n"
"  --allow-empty  exit 0 even when a family has no valid point (without it\n"
"                 such a family, with the count of each reason its points\n"
"                 were invalid, is an error: exit 1)\n"
"  --quiet        no summary on stdout\n"
"  --check        load and validate SWEEP.yaml (its base configs, axes,\n"
"                 derived fields, constraints), print its name, strategy\n"
"                 and point counts as one JSON line, and write nothing\n"
"                 (for job scripts that must fail before they queue work)\n"
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
"sweep (sweep.json records a hash of the resolved sweep; a difference is\n"
"named), and together they must be one complete set: shards 0..N-1 of one\n"
"N, each finished. A torn last line in a shard is ignored.\n"
"\n"
"options:\n"
"  --partial      merge an incomplete or mixed set anyway (OUTDIR's\n"
"                 sweep.json then says shard \"partial\")\n"
"  --no-plot      do not draw plots\n"
"  --quiet        no summary on stdout (for a trained sweep it ends with\n"
"                 the table of its trained points)\n"
"  -h, --help     this text\n"
"\n"
"Exit codes: 0 success, 1 bad or mismatched shard or I/O error, 2 usage error.\n");
}

/* pareto.{png,svg} from the data files of ax_sweep_finalize */
/* plots/accuracy.{png,svg} of a trained sweep: valid loss vs MACs with
 * error bars across seeds (plots/accuracy.gp). */
static bool draw_trained(const char *dir, const struct ax_sweep_meta *m)
{
	char tpl[AX_PATH_MAX], data[AX_PATH_MAX], title[256];
	snprintf(tpl, sizeof tpl, "%s/accuracy.gp", ax_cli_templates_dir());
	snprintf(data, sizeof data, "%s/plots/trained.csv", dir);
	snprintf(title, sizeof title, "Sweep %s: measured valid loss vs. Mult-Adds (%s, S=%"
		 PRId64 " T=%" PRId64 ")", m->name, m->convention, m->src_len, m->tgt_len);
	const struct ax_plot_var vars[] = { { "trained", data }, { "title_text", title } };
	for (int k = 0; k < AX_PLOT_FORMAT_COUNT; k++) {
		char out[AX_PATH_MAX];
		struct ax_diag d = { 0 };
		snprintf(out, sizeof out, "%s/plots/accuracy.%s", dir,
			 ax_plot_format_name((enum ax_plot_format)k));
		if (ax_plot_render(tpl, out, (enum ax_plot_format)k, vars, 2, &d)) {
			ax_cli_print_diag(&d);
			return false;
		}
	}
	return true;
}

static bool draw(const char *dir, const struct ax_sweep_meta *m,
		 const struct ax_sweep_recs *rs)
{
	char gp[AX_PATH_MAX];
	if (!ax_plot_available(gp, sizeof gp)) {
		fprintf(stderr, "archex: gnuplot not found on PATH; plots skipped "
			"(install gnuplot-nox; the data is in %s/plots/*.csv)\n", dir);
		return true;
	}
	char tpl[AX_PATH_MAX], points[AX_PATH_MAX], fronts[AX_PATH_MAX], title[256];
	snprintf(tpl, sizeof tpl, "%s/pareto.gp", ax_cli_templates_dir());
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
		{ "key_bottom_right", ax_sweep_legend_right(m, rs) ? "1" : "0" },
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
	return !ax_sweep_recs_trained(rs) || draw_trained(dir, m);
}

static bool trained_failed(const struct ax_sweep_recs *rs)
{
	for (int64_t i = 0; i < rs->n; i++)
		if (rs->r[i].train_failed)
			return true;
	return false;
}

static void summary(const struct ax_sweep_meta *m, const struct ax_sweep_recs *rs,
		    const char *dir)
{
	char h1[32], h2[32], h3[32], b[32];
	printf("sweep %s: %" PRId64 " points in %s (%s, S=%" PRId64 " T=%" PRId64 ")\n",
	       m->name, rs->n, dir, m->convention, m->src_len, m->tgt_len);
	/* measured accuracy when the points carry it; the params ranking is
	 * a proxy and says so */
	bool trained = false;
	for (int64_t i = 0; i < rs->n && !trained; i++)
		trained = isfinite(rs->r[i].metrics[AX_METRIC_VALID_LOSS]);
	int bm = m->best.metric;
	printf("  best by %s %s%s\n", m->best.maximize ? "max" : "min", ax_metric_name(bm),
	       bm == AX_METRIC_PARAMS || bm == AX_METRIC_NONEMBEDDING_PARAMS ?
	       " (a proxy, not measured accuracy: add a train: section to rank by "
	       "valid_loss)" : "");
	/* names by the axes that vary, as the trained table; the column
	 * fits the longest best name */
	ax_sweep_name *names = ax_sweep_display_names(m, rs);
	if (!names) {
		fprintf(stderr, "archex sweep: out of memory for the summary\n");
		return;
	}
	int w = 11;
	for (int f = 0; f < m->n_families; f++)
		for (int k = 0; k < m->n_budgets; k++) {
			int64_t i = ax_sweep_best(m, rs, f, m->budget[k]);
			if (i >= 0 && (int)strlen(names[i]) > w)
				w = (int)strlen(names[i]);
		}
	printf("  %-14s %8s  %-*s %9s %9s %12s%s\n", "family", "budget", w, "best design",
	       "MACs", "params", "nonemb.par", trained ? "  valid_loss" : "");
	for (int f = 0; f < m->n_families; f++)
		for (int k = 0; k < m->n_budgets; k++) {
			int64_t i = ax_sweep_best(m, rs, f, m->budget[k]);
			ax_cli_human(b, sizeof b, (int64_t)m->budget[k]);
			if (i < 0) {
				printf("  %-14s %8s  %-*s\n", m->family[f], b, w, "(none fits)");
				continue;
			}
			const struct ax_sweep_rec *r = &rs->r[i];
			ax_cli_human(h1, sizeof h1, (int64_t)r->metrics[AX_METRIC_MACS]);
			ax_cli_human(h2, sizeof h2, (int64_t)r->metrics[AX_METRIC_PARAMS]);
			ax_cli_human(h3, sizeof h3, (int64_t)r->metrics[AX_METRIC_NONEMBEDDING_PARAMS]);
			printf("  %-14s %8s  %-*s %9s %9s %12s", m->family[f], b, w, names[i],
			       h1, h2, h3);
			if (trained)
				printf("  %.4f +- %.4f", r->metrics[AX_METRIC_VALID_LOSS],
				       r->metrics[AX_METRIC_VALID_LOSS_STD]);
			printf("\n");
		}
	free(names);
	/* every trained point, ranked, last: what a trained sweep measured */
	if (ax_sweep_recs_trained(rs) || trained_failed(rs)) {
		printf("\n");
		if (!ax_sweep_write_trained_table(stdout, m, rs))
			fprintf(stderr, "archex sweep: out of memory for the trained table\n");
	}
}

struct run_ctx {
	double t0, last;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* [######........]  42% 1234 pts 5000 pts/s ETA 3s, at most 10 times a
 * second; `frac` counts points made (all shards' for evolution, which
 * evolves every point in every shard). */
static void bar(struct run_ctx *c, const struct ax_sweep *sw,
		const struct ax_sweep_stats *st, int shard_n, bool final)
{
	double t = now();
	if (!final && t - c->last < 0.1)
		return;
	c->last = t;
	double total = sw->strategy == AX_SWEEP_EVOLUTION ? (double)sw->n_points :
		       (double)sw->n_points / shard_n;
	double done = sw->strategy == AX_SWEEP_EVOLUTION ? (double)st->total :
		      (double)st->in_shard;
	double frac = total > 0 ? done / total : 1;
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

struct progress {
	struct run_ctx c;
	int shard_n;
};

static void on_progress(void *ctx, const struct ax_sweep *sw,
			const struct ax_sweep_stats *st)
{
	struct progress *p = ctx;
	bar(&p->c, sw, st, p->shard_n, false);
}

/* The options of `archex sweep`. */
struct sweep_args {
	const char *out;                /* --out, or NULL for the default */
	struct ax_sweep_dir_opts o;
	bool plot, quiet, allow_empty, check;
};

/* Parses argv into a; returns -1 to go on, or the exit code (--help,
 * usage errors). */
static int sweep_options(int argc, char **argv, struct sweep_args *a)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "shard", required_argument, NULL, 's' },
		{ "resume", no_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "no-plot", no_argument, NULL, 'P' },
		{ "allow-empty", no_argument, NULL, 'E' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*a = (struct sweep_args){ .o = { .run = { .shard_k = 0, .shard_n = 1, .jobs = 1 } },
				  .plot = true };
	struct ax_sweep_dir_opts *o = &a->o;
	int64_t v;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': a->out = optarg; break;
		case 's':
			if (!parse_shard(optarg, &o->run.shard_k, &o->run.shard_n))
				return ax_cli_usage_error("sweep", "--shard wants K/N with 0 <= K < N, not '%s'", optarg);
			break;
		case 'r': o->resume = true; break;
		case 'j':
			if (!ax_cli_parse_i64(optarg, 1, 64, &v))
				return ax_cli_usage_error("sweep", "--jobs wants an integer in 1..64, not '%s'", optarg);
			o->run.jobs = (int)v;
			break;
		case 'l':
			if (!ax_cli_parse_i64(optarg, 1, INT64_MAX, &v))
				return ax_cli_usage_error("sweep", "--limit wants a positive integer, not '%s'", optarg);
			o->run.limit = v;
			break;
		case 'P': a->plot = false; break;
		case 'E': a->allow_empty = true; break;
		case 'c': a->check = true; break;
		case 'q': a->quiet = true; break;
		case 'h': sweep_help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("sweep", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("sweep", argv, longopts);
		}
	}
	if (argc - optind != 1)
		return ax_cli_usage_error("sweep", argc - optind ? "give one SWEEP.yaml" :
					  "no SWEEP.yaml given");
	if (a->out && !*a->out)
		return ax_cli_usage_error("sweep", "--out wants a directory, not an empty string");
	if (!*argv[optind])
		return ax_cli_usage_error("sweep", "an empty SWEEP.yaml path");
	return -1;
}

/* A family whose points in this shard were all invalid, with why (the
 * reasons counted per message, numbers as N); false if there was one.
 * Skipped for a run cut short by --limit. */
static bool families_valid(const struct ax_sweep *sw, const struct ax_sweep_dir_opts *o,
			   const struct ax_sweep_stats *st, bool allow_empty)
{
	bool ok = true;
	if (o->run.limit)
		return true;
	for (int f = 0; f < sw->n_families; f++) {
		if (!st->fam_in_shard[f] || st->fam_valid[f])
			continue;
		ok = false;
		fprintf(stderr, "archex sweep: %s: family %s has no valid point: all %" PRId64
			" of its points%s are invalid:\n", allow_empty ? "warning" : "error",
			sw->family[f].label, st->fam_in_shard[f],
			o->run.shard_n > 1 ? " in this shard" : "");
		for (int i = 0; i < AX_SWEEP_MAX_REASONS && st->reason[f][i].n; i++)
			fprintf(stderr, "  %8" PRId64 " x %s\n", st->reason[f][i].n,
				st->reason[f][i].text);
		if (st->fam_other_invalid[f])
			fprintf(stderr, "  %8" PRId64 " x other reasons\n", st->fam_other_invalid[f]);
	}
	if (!ok && !allow_empty)
		fprintf(stderr, "(fix the family's axes or derived fields, or pass --allow-empty)\n");
	return ok || allow_empty;
}

/* --check: the loaded sweep as one JSON line on stdout. */
static int print_check(const struct ax_sweep *sw)
{
	struct ax_json j;
	struct ax_diag d = { 0 };
	ax_json_init(&j, stdout, AX_JSON_COMPACT);
	ax_json_begin_object(&j);
	ax_json_key(&j, "name");
	ax_json_string(&j, sw->name);
	ax_json_key(&j, "strategy");
	ax_json_string(&j, ax_sweep_strategy_names[sw->strategy]);
	ax_json_key(&j, "points");
	ax_json_int(&j, sw->n_points);
	ax_json_key(&j, "families");
	ax_json_begin_array(&j);
	for (int f = 0; f < sw->n_families; f++) {
		ax_json_begin_object(&j);
		ax_json_key(&j, "label");
		ax_json_string(&j, sw->family[f].label);
		ax_json_key(&j, "points");
		ax_json_int(&j, sw->family[f].n_points);
		ax_json_end_object(&j);
	}
	ax_json_end_array(&j);
	if (sw->train.present) {
		/* what training will cost at most: every point, every seed */
		ax_json_key(&j, "train");
		ax_json_begin_object(&j);
		ax_json_key(&j, "data");
		ax_json_string(&j, sw->train.data);
		ax_json_key(&j, sw->train.max_steps ? "max_steps" : "train_tokens");
		ax_json_int(&j, sw->train.max_steps ? sw->train.max_steps : sw->train.train_tokens);
		ax_json_key(&j, "seeds");
		ax_json_int(&j, sw->train.n_seeds);
		ax_json_key(&j, "runs_at_most");
		ax_json_int(&j, sw->n_points * sw->train.n_seeds);
		ax_json_end_object(&j);
	}
	ax_json_end_object(&j);
	if (ax_json_finish(&j, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	putchar('\n');
	return ax_cli_finish_stdout("sweep");
}

/* The counters of a finished run, on stderr. */
static void report(const struct ax_sweep *sw, const struct ax_sweep_dir_opts *o,
		   const struct ax_sweep_dir_stats *st, const char *dir)
{
	if (st->torn_bytes)
		fprintf(stderr, "archex sweep: cut a torn last line (%" PRId64 " bytes) from %s/points.jsonl\n",
			st->torn_bytes, dir);
	if (st->retried)
		fprintf(stderr, "archex sweep: tried %" PRId64 " point%s again whose training "
			"had failed (trained.error in %s/points.jsonl)\n", st->retried,
			st->retried == 1 ? "" : "s", dir);
	fprintf(stderr, "archex sweep: %s: %" PRId64 " points (%s), %" PRId64
		" in shard %d/%d: %" PRId64 " written, %" PRId64 " already there, %"
		PRId64 " invalid, %" PRId64 " duplicates; %" PRId64 " meet the constraints\n",
		sw->name, st->run.total, ax_sweep_strategy_names[sw->strategy], st->run.in_shard,
		o->run.shard_k, o->run.shard_n, st->written, st->already, st->run.invalid,
		st->run.duplicate, st->run.feasible);
}

/* A trained point's progress line (a terminal only). */
static void train_progress(void *ctx, const struct ax_sweep_point *pt, int64_t seed,
			   const struct ax_train_progress *p)
{
	(void)ctx;
	fprintf(stderr, "\r\033[Ktraining point %" PRId64 " seed %" PRId64 ": step %"
		PRId64 "  loss %.4f  %.0f tok/s  ETA %.0fs", pt->index, seed, p->step,
		p->loss, p->tokens_per_s, p->eta_s);
}

int ax_cmd_sweep(int argc, char **argv)
{
	struct sweep_args args;
	int rc = sweep_options(argc, argv, &args);
	if (rc >= 0)
		return rc;
	struct ax_sweep_dir_opts o = args.o;

	rc = AX_EXIT_ERROR;
	struct ax_diag d = { 0 };
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	struct ax_sweep_meta meta;
	struct ax_sweep_recs rs = { 0 };
	struct ax_sweep_dir_stats st;
	struct progress pr = { .shard_n = o.run.shard_n };
	char dir[AX_PATH_MAX - 64];
	if (!sw) {
		fprintf(stderr, "archex sweep: error: out of memory\n");
		return AX_EXIT_ERROR;
	}
	if (ax_sweep_load(sw, argv[optind], &d) ||
	    (sw->train.present && ax_trainsweep_check(sw, &d))) {
		ax_cli_print_diag(&d);
		if (sw->train.present)
			goto free_sweep;
		goto free_sw;
	}
	if (args.check) {
		rc = print_check(sw);
		goto free_sweep;
	}
	if (args.out)
		snprintf(dir, sizeof dir, "%s", args.out);
	else
		snprintf(dir, sizeof dir, "results/sweeps/%s", sw->name);
	if (isatty(STDERR_FILENO)) {
		pr.c.t0 = pr.c.last = now();
		o.progress = on_progress;
		o.progress_ctx = &pr;
	}
	struct ax_trainsweep ts = { .dir = dir };
	if (sw->train.present) {
		o.run.train = ax_trainsweep_point;
		o.run.train_ctx = &ts;
		if (isatty(STDERR_FILENO))
			ts.progress = train_progress;
	}
	enum ax_status s = ax_sweep_run_dir(sw, dir, &o, &st, &rs, &d);
	if (o.progress)
		bar(&pr.c, sw, &st.run, o.run.shard_n, true);
	if (s) {
		ax_cli_print_diag(&d);
		if (s == AX_ERR_INPUT && !o.resume)
			fprintf(stderr, "(use --resume to continue an interrupted sweep)\n");
		goto free_sweep;
	}
	report(sw, &o, &st, dir);
	bool valid = families_valid(sw, &o, &st.run, args.allow_empty);
	ax_sweep_meta_from(&meta, sw, NULL);
	if (args.plot && !draw(dir, &meta, &rs))
		goto free_sweep;
	if (!args.quiet)
		summary(&meta, &rs, dir);
	rc = ax_cli_finish_stdout("sweep");
	if (!valid)
		rc = AX_EXIT_ERROR;
free_sweep:
	ax_sweep_recs_free(&rs);
	ax_sweep_free(sw);
free_sw:
	free(sw);
	return rc;
}

int ax_cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-plot", no_argument, NULL, 'P' },
		{ "partial", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool plot = true, quiet = false, partial = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'P': plot = false; break;
		case 'p': partial = true; break;
		case 'q': quiet = true; break;
		case 'h': merge_help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("merge", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("merge", argv, longopts);
		}
	}
	if (argc - optind < 2)
		return ax_cli_usage_error("merge", "give OUTDIR and at least one SHARD_DIR");
	const char *outdir = argv[optind];
	for (int i = optind; i < argc; i++)
		if (!*argv[i])
			return ax_cli_usage_error("merge", "an empty directory name");
	struct ax_sweep_meta meta;
	struct ax_sweep_recs rs = { 0 };
	struct ax_diag d = { 0 };
	int64_t lines = 0;
	int n = argc - optind - 1;
	if (ax_sweep_merge_dirs(outdir, (const char *const *)(argv + optind + 1), n,
				partial, &meta, &rs, &lines, &d)) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	fprintf(stderr, "archex merge: %d shard%s, %" PRId64 " lines, %" PRId64
		" points after removing duplicates\n", n, n == 1 ? "" : "s", lines, rs.n);
	int rc = AX_EXIT_ERROR;
	if (plot && !draw(outdir, &meta, &rs))
		goto free_recs;
	if (!quiet)
		summary(&meta, &rs, outdir);
	rc = ax_cli_finish_stdout("merge");
free_recs:
	ax_sweep_recs_free(&rs);
	return rc;
}
