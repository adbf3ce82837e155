/*
 * cmd_plot.c - `archex plot`: trade-off curves (published accuracy vs
 * archex's own MAC counts of configs/paper), a sweep's params-vs-MACs
 * Pareto plot, MAC breakdowns per kind and per layer, and MACs vs
 * sequence length, and training curves (valid loss vs updates of
 * `archex train` runs). Each writes its data file (CSV) beside PNG and
 * SVG.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_io.h"
#include "json_read.h"
#include "cli.h"
#include "graph.h"
#include "plot.h"
#include "plotdata.h"
#include "published.h"
#include "sweep_out.h"
#include "model.h"

static void help(void)
{
	printf(
"usage: archex plot KIND [options] [args]\n"
"\n"
"kinds:\n"
"  tradeoff [--published CSV]... [--configs DIR]\n"
"      accuracy vs Mult-Adds per family, one plot per dataset and metric\n"
"      (BLEU on WMT En-De and En-Fr, perplexity, ...): accuracy from the\n"
"      published CSVs (default results/published/*.csv), MACs counted by\n"
"      archex from DIR/CONFIG.yaml (default configs/paper); never the\n"
"      published MACs. 100M/500M budget lines, mobile region shaded.\n"
"      Files: tradeoff-DATASET-METRIC.{csv,png,svg}\n"
"  pareto SWEEP_DIR...\n"
"      parameters vs Mult-Adds of a sweep's feasible points with each\n"
"      family's Pareto front. Files: pareto-NAME.{png,svg}\n"
"  breakdown [--per-layer] CONFIG...\n"
"      stacked Mult-Adds per op kind, one bar per config (breakdown-kinds),\n"
"      or with --per-layer one plot per config with a bar per layer\n"
"      (breakdown-layers-CONFIG)\n"
"  seqlen [--lengths N,N,...] CONFIG...\n"
"      Mult-Adds vs sequence length (S = T = N) per config, evaluating the\n"
"      exact polynomial. File: seqlen.{csv,png,svg}\n"
"  loss RUN...\n"
"      validation loss (nats per target token) vs updates of 'archex train'\n"
"      runs, one curve per RUN directory (read from RUN/train.jsonl); the\n"
"      data file also has target tokens and perplexity. File:\n"
"      loss.{csv,png,svg}\n"
"\n"
"options for every kind:\n"
"  --out DIR          output directory (default results/plots)\n"
"  --name NAME        base file name instead of the default\n"
"  --convention C     exact (default, as for count and sweep) or paper (the\n"
"                     Lite Transformer paper's Mult-Adds: pass it to\n"
"                     reproduce the paper's figures); titles name it\n"
"  --src-len N, --tgt-len N   lengths (default 30, 30)\n"
"  --mode M           sequence (default) or incremental\n"
"  -h, --help         this text\n"
"\n"
"gnuplot missing: the CSV data files are written and the plots skipped\n"
"with a message. Exit codes: 0 success, 1 input or I/O error (or gnuplot\n"
"failed), 2 usage error.\n");
}

struct popts {
	struct ax_count_opts c;
	const char *out;
	const char *name;
	bool per_layer;
	int n_published;
	const char *published[16];
	const char *configs;
	int n_len;
	int64_t lengths[64];
	bool warned;
};

static bool make_dir(const char *dir)
{
	char buf[AX_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; ; p++)
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0777) && errno != EEXIST) {
				fprintf(stderr, "archex plot: error: cannot create %s: %s\n", buf,
					strerror(errno));
				return false;
			}
			*p = c;
			if (!c)
				return true;
		}
}

/* Renders template `tpl` to OUT/BASE.{png,svg}; data_var names the
 * template's data variable. Missing gnuplot: a message, success. */
static bool render(struct popts *o, const char *tpl, const char *base,
		   const struct ax_plot_var *vars, int nvars)
{
	if (!ax_plot_available(NULL, 0)) {
		if (!o->warned)
			fprintf(stderr, "archex plot: gnuplot not found on PATH; plots skipped "
				"(install gnuplot-nox), data files written to %s\n", o->out);
		o->warned = true;
		return true;
	}
	char t[AX_PATH_MAX + 64];
	snprintf(t, sizeof t, "%s/%s", ax_cli_templates_dir(), tpl);
	for (int k = 0; k < AX_PLOT_FORMAT_COUNT; k++) {
		char out[AX_PATH_MAX + 300];
		struct ax_diag d = { 0 };
		snprintf(out, sizeof out, "%s/%s.%s", o->out, base,
			 ax_plot_format_name((enum ax_plot_format)k));
		if (ax_plot_render(t, out, (enum ax_plot_format)k, vars, nvars, &d)) {
			ax_cli_print_diag(&d);
			return false;
		}
		fprintf(stderr, "archex plot: wrote %s\n", out);
	}
	return true;
}

/* Opens OUT/BASE.csv atomically. */
static FILE *open_data(struct popts *o, const char *base, struct ax_atomic *a,
		       char *path, size_t size)
{
	struct ax_diag d = { 0 };
	snprintf(path, size, "%s/%s.csv", o->out, base);
	FILE *f = ax_atomic_open(a, path, &d);
	if (!f)
		ax_cli_print_diag(&d);
	return f;
}

static bool close_data(struct ax_atomic *a)
{
	struct ax_diag d = { 0 };
	if (ax_atomic_commit(a, &d)) {
		ax_cli_print_diag(&d);
		return false;
	}
	return true;
}

static bool count_one(const struct popts *o, const char *path, struct ax_config *cfg,
		      struct ax_graph *g, struct ax_cost *cost)
{
	struct ax_diag d = { 0 };
	if (!ax_cli_load(path, cfg))
		return false;
	if (ax_model_build(cfg, g, &d)) {
		snprintf(d.file, sizeof d.file, "%.500s", path);
		ax_cli_print_diag(&d);
		return false;
	}
	ax_cost_graph(g, o->c.convention, o->c.mode, cost);
	return true;
}

static void lengths_note(const struct popts *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s convention, S=%" PRId64 " T=%" PRId64,
		 ax_convention_names[o->c.convention], o->c.src_len[0], o->c.tgt_len[0]);
}

/* --- tradeoff ----------------------------------------------------------- */

static const char *metric_label(const char *metric, bool higher)
{
	if (!strcmp(metric, "bleu"))
		return "BLEU";
	if (!strcmp(metric, "perplexity") || !strcmp(metric, "ppl"))
		return "Test perplexity (lower is better)";
	if (!strcmp(metric, "rouge-l"))
		return "ROUGE-L F1";
	return higher ? metric : "(lower is better)";
}

static const char *short_metric(const char *metric)
{
	if (!strcmp(metric, "bleu"))
		return "BLEU";
	if (!strcmp(metric, "perplexity") || !strcmp(metric, "ppl"))
		return "perplexity";
	if (!strcmp(metric, "rouge-l"))
		return "ROUGE-L";
	return metric;
}

static const char *dataset_title(const char *ds)
{
	static const struct { const char *ds, *title; } t[] = {
		{ "wmt14-en-de", "WMT'14 En-De" }, { "wmt14-en-fr", "WMT'14 En-Fr" },
		{ "wmt16-en-de", "WMT'16 En-De" }, { "iwslt14-de-en", "IWSLT'14 De-En" },
		{ "wikitext103", "WikiText-103" }, { "wikitext-103", "WikiText-103" },
		{ "cnndm", "CNN-DailyMail" }, { "cnn-dailymail", "CNN-DailyMail" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (!strcmp(ds, t[i].ds))
			return t[i].title;
	return ds;
}

/* macs[i] and fam[i] (family title) of every record of set, counting
 * each config once; fam[i] is NULL when configs/ has no such file.
 * false on an error already printed. */
static bool count_published(struct popts *o, const struct ax_published_set *set,
			    double *macs, const char **fam, struct ax_config *cfg,
			    struct ax_graph *g, struct ax_cost *cost)
{
	for (int64_t i = 0; i < set->n; i++) {
		const struct ax_published *p = &set->rec[i];
		for (int64_t j = 0; j < i; j++)
			if (!strcmp(set->rec[j].config, p->config)) {
				macs[i] = macs[j];
				fam[i] = fam[j];
				goto next;
			}
		char path[AX_PATH_MAX];
		snprintf(path, sizeof path, "%s/%s.yaml", o->configs, p->config);
		struct stat sb;
		if (stat(path, &sb)) {
			fprintf(stderr, "archex plot: note: no %s; %s on %s left out\n", path,
				p->config, p->dataset);
			fam[i] = NULL;
			continue;
		}
		if (!count_one(o, path, cfg, g, cost))
			return false;
		bool lm = cfg->task == AX_TASK_LANGUAGE_MODEL;
		macs[i] = (double)ax_poly_eval(&cost->macs, lm ? 0 : o->c.src_len[0], o->c.tgt_len[0]);
		fam[i] = ax_sweep_family_title(ax_family_names[cfg->family]);
next:;
	}
	return true;
}

/* One trade-off plot: the n points of p's dataset and metric. false on
 * an error already printed. */
static bool tradeoff_plot(struct popts *o, const struct ax_published *p,
			  const struct ax_tradeoff_point *pts, int n)
{
	char base[160], path[AX_PATH_MAX + 200], title[512], note[96];
	struct ax_atomic a;
	snprintf(base, sizeof base, "%s%s%s-%s", o->name ? o->name : "tradeoff",
		 "-", p->dataset, p->metric);
	FILE *f = open_data(o, base, &a, path, sizeof path);
	if (!f)
		return false;
	ax_plotdata_tradeoff(f, pts, n);
	if (!close_data(&a))
		return false;
	/* a language model's only length is T */
	if (!strcmp(p->task, "language_modeling") || !strcmp(p->task, "language_model"))
		snprintf(note, sizeof note, "%s convention, N=%" PRId64,
			 ax_convention_names[o->c.convention], o->c.tgt_len[0]);
	else
		lengths_note(o, note, sizeof note);
	snprintf(title, sizeof title, "%s: %s vs. Mult-Adds (archex counts, %s)",
		 dataset_title(p->dataset), short_metric(p->metric), note);
	const struct ax_plot_var vars[] = {
		{ "data", path }, { "title_text", title },
		{ "ylabel_text", metric_label(p->metric, p->higher_is_better) },
		{ "show_labels", "1" },
	};
	return render(o, "tradeoff.gp", base, vars, 4);
}

static int plot_tradeoff(struct popts *o)
{
	struct ax_published_set set = { 0 };
	struct ax_diag d = { 0 };
	static const char *const defaults[] = {
		"results/published/translation.csv",
		"results/published/language-modeling.csv",
		"results/published/summarization.csv",
	};
	static char found[3][AX_PATH_MAX];
	int rc = AX_EXIT_ERROR;
	/* the working directory's results/published, else the source tree's */
	if (!o->n_published)
		for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
			if (ax_cli_data_path(found[i], sizeof found[i], defaults[i]))
				o->published[o->n_published++] = found[i];
	if (!o->n_published) {
		fprintf(stderr, "archex plot: error: no published figures: neither "
			"./results/published nor %s holds translation.csv, "
			"language-modeling.csv or summarization.csv; give --published CSV\n",
			ax_cli_data_dir());
		return AX_EXIT_ERROR;
	}
	for (int i = 0; i < o->n_published; i++)
		if (ax_published_load(&set, o->published[i], &d)) {
			ax_cli_print_diag(&d);
			ax_published_free(&set);
			return AX_EXIT_ERROR;
		}
	/* every (config) counted once */
	struct ax_tradeoff_point *pts = calloc((size_t)(set.n ? set.n : 1), sizeof *pts);
	bool *done = calloc((size_t)(set.n ? set.n : 1), sizeof *done);
	double *macs = calloc((size_t)(set.n ? set.n : 1), sizeof *macs);
	const char **fam = calloc((size_t)(set.n ? set.n : 1), sizeof *fam);
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_cost *cost = malloc(sizeof *cost);
	struct ax_graph g;
	ax_graph_init(&g);
	if (!pts || !done || !macs || !fam || !cfg || !cost) {
		fprintf(stderr, "archex plot: error: out of memory\n");
		goto free_all;
	}
	if (!count_published(o, &set, macs, fam, cfg, &g, cost))
		goto free_all;
	/* one plot per (dataset, metric), in the order of first appearance */
	for (int64_t i = 0; i < set.n; i++) {
		if (done[i] || !fam[i])
			continue;
		const struct ax_published *p = &set.rec[i];
		int n = 0;
		for (int64_t j = i; j < set.n; j++) {
			const struct ax_published *q = &set.rec[j];
			if (!fam[j] || strcmp(q->dataset, p->dataset) || strcmp(q->metric, p->metric))
				continue;
			done[j] = true;
			pts[n++] = (struct ax_tradeoff_point){ fam[j], q->config, macs[j], q->value,
							       ax_published_approx(q) };
		}
		if (!tradeoff_plot(o, p, pts, n))
			goto free_all;
	}
	rc = AX_EXIT_OK;
free_all:
	ax_graph_free(&g);
	free(cfg);
	free(cost);
	free(pts);
	free(done);
	free(macs);
	free(fam);
	ax_published_free(&set);
	return rc;
}

/* --- pareto ---------------------------------------------------------------- */

static int plot_pareto(struct popts *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct ax_sweep_meta m;
		struct ax_diag d = { 0 };
		struct ax_sweep_recs rs = { 0 };
		char path[AX_PATH_MAX + 64], pts[AX_PATH_MAX + 64], fronts[AX_PATH_MAX + 64];
		char base[200], title[512], lo[32] = "100", hi[32] = "0";
		snprintf(path, sizeof path, "%s/sweep.json", argv[i]);
		if (ax_sweep_meta_read(&m, path, &d)) {
			ax_cli_print_diag(&d);
			return AX_EXIT_ERROR;
		}
		/* re-derive the tables from points.jsonl, as a merge would */
		if (ax_sweep_finalize(argv[i], &m, &rs, &d)) {
			ax_cli_print_diag(&d);
			return AX_EXIT_ERROR;
		}
		bool right = ax_sweep_legend_right(&m, &rs);
		ax_sweep_recs_free(&rs);
		snprintf(pts, sizeof pts, "%s/plots/points.csv", argv[i]);
		snprintf(fronts, sizeof fronts, "%s/plots/fronts.csv", argv[i]);
		snprintf(base, sizeof base, "%s-%s", o->name ? o->name : "pareto", m.name);
		snprintf(title, sizeof title, "Sweep %s: parameters vs. Mult-Adds (%s, S=%" PRId64
			 " T=%" PRId64 ")", m.name, m.convention, m.src_len, m.tgt_len);
		if (m.n_budgets > 0)
			snprintf(lo, sizeof lo, "%g", m.budget[0] / 1e6);
		if (m.n_budgets > 1)
			snprintf(hi, sizeof hi, "%g", m.budget[1] / 1e6);
		const struct ax_plot_var vars[] = {
			{ "points", pts }, { "fronts", fronts }, { "title_text", title },
			{ "budget_lo", lo }, { "budget_hi", hi },
			{ "key_bottom_right", right ? "1" : "0" },
		};
		if (!render(o, "pareto.gp", base, vars, 6))
			return AX_EXIT_ERROR;
	}
	return AX_EXIT_OK;
}

/* --- breakdown and seqlen -------------------------------------------------- */

static int plot_configs(struct popts *o, const char *kind, int argc, char **argv)
{
	int rc = AX_EXIT_ERROR;
	struct ax_config *cfgs = calloc((size_t)argc, sizeof *cfgs);
	struct ax_cost *costs = calloc((size_t)argc, sizeof *costs);
	const char **names = calloc((size_t)argc, sizeof *names);
	bool *lm = calloc((size_t)argc, sizeof *lm);
	struct ax_graph g;
	ax_graph_init(&g);
	if (!cfgs || !costs || !names || !lm) {
		fprintf(stderr, "archex plot: error: out of memory\n");
		goto free_all;
	}
	char note[96], path[AX_PATH_MAX + 200], base[200], title[512];
	struct ax_atomic a;
	lengths_note(o, note, sizeof note);
	for (int i = 0; i < argc; i++) {
		if (!count_one(o, argv[i], &cfgs[i], &g, &costs[i]))
			goto free_all;
		names[i] = cfgs[i].name;
		lm[i] = cfgs[i].task == AX_TASK_LANGUAGE_MODEL;
		if (!strcmp(kind, "breakdown") && o->per_layer) {
			snprintf(base, sizeof base, "%s-%s", o->name ? o->name : "breakdown-layers",
				 cfgs[i].name);
			FILE *f = open_data(o, base, &a, path, sizeof path);
			if (!f)
				goto free_all;
			ax_plotdata_breakdown_layers(f, &g, o->c.convention, o->c.mode,
						     lm[i] ? 0 : o->c.src_len[0], o->c.tgt_len[0]);
			if (!close_data(&a))
				goto free_all;
			snprintf(title, sizeof title, "%s: Mult-Adds per layer by op kind (%s)",
				 cfgs[i].name, note);
			const struct ax_plot_var vars[] = {
				{ "data", path }, { "title_text", title }, { "xlabel_text", "Layer" },
				{ "budget_lo", "0" }, { "budget_hi", "0" },
			};
			if (!render(o, "breakdown.gp", base, vars, 5))
				goto free_all;
		}
	}
	if (!strcmp(kind, "breakdown") && !o->per_layer) {
		snprintf(base, sizeof base, "%s", o->name ? o->name : "breakdown-kinds");
		FILE *f = open_data(o, base, &a, path, sizeof path);
		if (!f)
			goto free_all;
		ax_plotdata_breakdown_kinds(f, names, costs, lm, argc, o->c.src_len[0],
					    o->c.tgt_len[0]);
		if (!close_data(&a))
			goto free_all;
		snprintf(title, sizeof title, "Mult-Adds by operation kind (%s)", note);
		const struct ax_plot_var vars[] = { { "data", path }, { "title_text", title } };
		if (!render(o, "breakdown.gp", base, vars, 2))
			goto free_all;
	}
	if (!strcmp(kind, "seqlen")) {
		snprintf(base, sizeof base, "%s", o->name ? o->name : "seqlen");
		FILE *f = open_data(o, base, &a, path, sizeof path);
		if (!f)
			goto free_all;
		ax_plotdata_seqlen(f, names, costs, lm, argc, o->lengths, o->n_len);
		if (!close_data(&a))
			goto free_all;
		char series[16];
		snprintf(series, sizeof series, "%d", argc);
		snprintf(title, sizeof title, "Mult-Adds vs. sequence length (%s convention, %s mode)",
			 ax_convention_names[o->c.convention], ax_mode_names[o->c.mode]);
		const struct ax_plot_var vars[] = {
			{ "data", path }, { "title_text", title },
			{ "xlabel_text", "Sequence length N (tokens; source = target = N)" },
			{ "logy", "1" },   /* small and large models on one plot */
			{ "n_series", series },
		};
		if (!render(o, "seqlen.gp", base, vars, 5))
			goto free_all;
	}
	rc = AX_EXIT_OK;
free_all:
	ax_graph_free(&g);
	free(cfgs);
	free(costs);
	free(names);
	free(lm);
	return rc;
}

/* --- loss ------------------------------------------------------------------ */

/* Appends run's validation records to f as one gnuplot data block
 * (step, target tokens trained on, valid loss, valid ppl); the tokens
 * are those of the update record of the same step. Returns the number of
 * validation records in *n_valid. */
static bool loss_block(FILE *f, const char *run, int64_t *n_valid)
{
	char path[AX_PATH_MAX + 32], line[4096];
	snprintf(path, sizeof path, "%s/train.jsonl", run);
	FILE *in = fopen(path, "r");
	if (!in) {
		fprintf(stderr, "%s: error: cannot open: %s\n", path, strerror(errno));
		return false;
	}
	static double tok_at[1 << 20];   /* tokens trained on, per step */
	int64_t lineno = 0, last_valid = -1;
	*n_valid = 0;
	fprintf(f, "# %s\nstep,tokens,valid_loss,valid_ppl\n", run);
	while (fgets(line, sizeof line, in)) {
		lineno++;
		int col = 0;
		json_t *o = ax_json_parse(line, strlen(line), &col);
		int64_t step = 0;
		double tok = 0, vl = 0, vp = 0;
		if (!o || !ax_json_get_i64(json_object_get(o, "step"), 0,
					   (1 << 20) - 1, &step)) {
			fprintf(stderr, "%s:%lld:%d: error: not a train.jsonl record "
				"(an object with a \"step\" of 0 to 2^20 - 1)\n",
				path, (long long)lineno, o ? 1 : col);
			json_decref(o);
			fclose(in);
			return false;
		}
		if (ax_json_get_f64(json_object_get(o, "valid_loss"), &vl)) {
			/* the end-of-run validation repeats a --valid-every one */
			if (step == last_valid) {
				json_decref(o);
				continue;
			}
			last_valid = step;
			ax_json_get_f64(json_object_get(o, "valid_ppl"), &vp);
			fprintf(f, "%lld,%.0f,%.6g,%.6g\n", (long long)step,
				step > 0 ? tok_at[step] : 0.0, vl, vp);
			++*n_valid;
		} else if (ax_json_get_f64(json_object_get(o, "tokens"), &tok)) {
			tok_at[step] = tok;
		}
		json_decref(o);
	}
	fclose(in);
	fprintf(f, "\n\n");
	return true;
}

static int plot_loss(struct popts *o, int argc, char **argv)
{
	char path[AX_PATH_MAX + 200], names[4096] = "", n_runs[16];
	const char *base = o->name ? o->name : "loss";
	struct ax_atomic a;
	FILE *f = open_data(o, base, &a, path, sizeof path);
	if (!f)
		return AX_EXIT_ERROR;
	int64_t total = 0;
	for (int i = 0; i < argc; i++) {
		int64_t nv;
		if (!loss_block(f, argv[i], &nv)) {
			ax_atomic_abort(&a);
			return AX_EXIT_ERROR;
		}
		if (nv == 0)
			fprintf(stderr, "archex plot: warning: %s has no validation "
				"records (train with --valid-every N)\n", argv[i]);
		total += nv;
		const char *slash = strrchr(argv[i], '/');
		const char *nm = slash && slash[1] ? slash + 1 : argv[i];
		size_t l = strlen(names);
		snprintf(names + l, sizeof names - l, "%s%s", l ? " " : "", nm);
	}
	if (total == 0) {
		ax_atomic_abort(&a);
		fprintf(stderr, "archex plot: error: no validation records in any RUN/train.jsonl\n");
		return AX_EXIT_ERROR;
	}
	if (!close_data(&a))
		return AX_EXIT_ERROR;
	snprintf(n_runs, sizeof n_runs, "%d", argc);
	const struct ax_plot_var vars[] = {
		{ "data", path }, { "names", names }, { "n_runs", n_runs },
	};
	return render(o, "loss.gp", base, vars, 3) ? AX_EXIT_OK : AX_EXIT_ERROR;
}

int ax_cmd_plot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "convention", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "src-len", required_argument, NULL, 's' },
		{ "tgt-len", required_argument, NULL, 't' },
		{ "published", required_argument, NULL, 'p' },
		{ "configs", required_argument, NULL, 'C' },
		{ "per-layer", no_argument, NULL, 'L' },
		{ "lengths", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		help();
		return AX_EXIT_OK;
	}
	if (argc < 2)
		return ax_cli_usage_error("plot", "no KIND given (tradeoff, pareto, breakdown, seqlen, loss)");
	const char *kind = argv[1];
	static const char *const kinds[] = { "tradeoff", "pareto", "breakdown", "seqlen",
					     "loss" };
	if (ax_cli_enum(kind, kinds, 5) < 0)
		return ax_cli_usage_error("plot", "unknown KIND '%s' (tradeoff, pareto, breakdown, seqlen, loss)", kind);
	struct popts o = { .out = "results/plots", .configs = "configs/paper" };
	ax_cli_count_defaults(&o.c);   /* exact, as for count and sweep */
	static const int64_t default_lengths[] = { 1, 5, 10, 15, 20, 25, 30, 40, 50, 60,
						   80, 100, 128, 160, 200, 256 };
	o.n_len = (int)(sizeof default_lengths / sizeof default_lengths[0]);
	memcpy(o.lengths, default_lengths, sizeof default_lengths);
	int opt;
	optind = 2;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int r = ax_cli_count_opt("plot", opt, optarg, &o.c);
		if (r < 0)
			return AX_EXIT_USAGE;
		if (r > 0) {
			if (o.c.n_src > 1 || o.c.n_tgt > 1)
				return ax_cli_usage_error("plot", "--src-len and --tgt-len take one value here");
			continue;
		}
		switch (opt) {
		case 'o': o.out = optarg; break;
		case 'n': o.name = optarg; break;
		case 'p':
			if (o.n_published == 16)
				return ax_cli_usage_error("plot", "at most 16 --published files");
			o.published[o.n_published++] = optarg;
			break;
		case 'C': o.configs = optarg; break;
		case 'L': o.per_layer = true; break;
		case 'l':
			o.n_len = ax_cli_parse_i64_list(optarg, 1, 1 << 20, o.lengths, 64);
			if (o.n_len < 0)
				return ax_cli_usage_error("plot", "--lengths wants integers in 1..1048576 separated by commas, not '%s'", optarg);
			break;
		case 'h': help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("plot", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("plot", argv, longopts);
		}
	}
	int n = argc - optind;
	bool is_tradeoff = !strcmp(kind, "tradeoff");
	if (is_tradeoff && n)
		return ax_cli_usage_error("plot", "tradeoff takes no arguments, only options");
	if (!is_tradeoff && !n)
		return ax_cli_usage_error("plot", "%s needs %s", kind,
					  !strcmp(kind, "pareto") ? "SWEEP_DIRs" :
					  !strcmp(kind, "loss") ? "RUN directories" : "CONFIG files");
	if ((o.per_layer && strcmp(kind, "breakdown")) ||
	    (o.n_published && !is_tradeoff))
		return ax_cli_usage_error("plot", "an option given does not apply to '%s'", kind);
	if (o.name && strpbrk(o.name, "/"))
		return ax_cli_usage_error("plot", "--name is a file name without '/'");
	if (!*o.out)
		return ax_cli_usage_error("plot", "--out wants a directory, not an empty string");
	static char configs[AX_PATH_MAX];
	if (is_tradeoff && !strcmp(o.configs, "configs/paper")) {
		ax_cli_data_path(configs, sizeof configs, o.configs);
		o.configs = configs;
	}
	if (!make_dir(o.out))
		return AX_EXIT_ERROR;
	if (is_tradeoff)
		return plot_tradeoff(&o);
	if (!strcmp(kind, "pareto"))
		return plot_pareto(&o, n, argv + optind);
	if (!strcmp(kind, "loss"))
		return plot_loss(&o, n, argv + optind);
	return plot_configs(&o, kind, n, argv + optind);
}
