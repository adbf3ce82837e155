/*
 * cmd_study.c - `archex study`: the proxy study's report (docs/study.md)
 * from trained sweep directories: trust in the proxy against published
 * BLEU, the families at matched MACs, and the ranking across training
 * budgets (src/explore/study.h). Parses flags, runs the study, writes its
 * files and plots, and prints the tables (or the JSON).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"
#include "study.h"

static void help(void)
{
	printf(
"usage: archex study SWEEP_DIR [SWEEP_DIR...] [options]\n"
"\n"
"Report the proxy study (docs/study.md) from trained sweep directories\n"
"(a sweep with a train: section, merged: 'archex merge'). The sweeps are\n"
"grouped by training budget (train_tokens or max_steps); the sweeps with\n"
"the first one's budget form the main group, whose points (a) and (b) read:\n"
"  (a) trust in the proxy: each of its points whose model is a published\n"
"      config given the point's vocabulary (config hashes compared; never\n"
"      names) is joined to the published figure; per dataset, Spearman's\n"
"      rho and Kendall's tau-b between the published figure and the proxy's\n"
"      BLEU, its valid loss (negated: +1 = lower loss, higher published\n"
"      BLEU), its params (exact, with the corpus vocabulary's embeddings)\n"
"      and its non-embedding params;\n"
"  (b) the paper's claim: its points grouped by MAC budget B, a point being\n"
"      in B when (1 - tolerance) B <= MACs <= B; valid loss and BLEU mean\n"
"      and std over seeds per family, and each budget's winner;\n"
"  (c) with two or more training budgets, the budget study: the designs\n"
"      trained at every budget (same family label and model), ranked by\n"
"      valid loss per budget, and Kendall's tau-b between every two budgets.\n"
"All sweeps must count MACs under one convention at the same lengths.\n"
"\n"
"Writes into --out: proxy_join.csv, proxy_correlation.csv, claim.csv,\n"
"budget_ranks.csv and budget_kendall.csv (with (c)), study.json, and\n"
"plots/proxy.{png,svg} (published BLEU vs proxy valid loss) and\n"
"plots/claim.{png,svg} (valid loss vs MACs per family, error bars one std\n"
"over seeds) with their data plots/*.csv. Each file is replaced\n"
"atomically, after every input has been read and checked.\n"
"\n"
"options:\n"
"  -o, --out DIR        output directory (default results/study)\n"
"  --published CSV      published figures (default\n"
"                       results/published/translation.csv)\n"
"  --configs DIR        their configs, DIR/NAME.yaml (default configs/paper)\n"
"  --metric NAME        the published metric (default bleu)\n"
"  --budgets LIST       MAC budgets of (b), comma-separated (100e6,500e6;\n"
"                       default: the budgets: of the main group's sweeps)\n"
"  --tolerance X        (b)'s band below each budget, in (0, 1] (default 0.25)\n"
"  --format table|json  stdout: the tables (default) or study.json\n"
"  --no-plot            write the plot data, not the PNG and SVG files\n"
"  -q, --quiet          print nothing on success\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 success, 1 bad input (a missing directory, a sweep without\n"
"train:, no point joining a published config), 2 usage error.\n");
}

struct study_args {
	struct ax_study_opts o;
	const char *out;
	bool json, plot, quiet;
};

/* "100e6,370e6": finite positive numbers; false on garbage */
static bool parse_budgets(const char *s, struct ax_study_opts *o)
{
	o->n_budgets = 0;
	for (const char *p = s; ; ) {
		char *end;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno || !isfinite(v) || v <= 0 ||
		    o->n_budgets == AX_STUDY_MAX_BUDGETS || (*end && *end != ','))
			return false;
		o->budget[o->n_budgets++] = v;
		if (!*end)
			return true;
		p = end + 1;
	}
}

static bool parse_fraction(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !(v > 0 && v <= 1))
		return false;
	*out = v;
	return true;
}

/* Parses argv into a; returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, struct study_args *a)
{
	enum { O_PUBLISHED = 256, O_CONFIGS, O_METRIC, O_BUDGETS, O_TOL, O_FORMAT, O_NOPLOT };
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "published", required_argument, NULL, O_PUBLISHED },
		{ "configs", required_argument, NULL, O_CONFIGS },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "budgets", required_argument, NULL, O_BUDGETS },
		{ "tolerance", required_argument, NULL, O_TOL },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "no-plot", no_argument, NULL, O_NOPLOT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': a->out = optarg; break;
		case O_PUBLISHED: a->o.published = optarg; break;
		case O_CONFIGS: a->o.configs_dir = optarg; break;
		case O_METRIC: a->o.metric = optarg; break;
		case O_BUDGETS:
			if (!parse_budgets(optarg, &a->o))
				return ax_cli_usage_error("study", "--budgets wants up to %d positive "
							  "numbers, comma-separated, not '%s'",
							  AX_STUDY_MAX_BUDGETS, optarg);
			break;
		case O_TOL:
			if (!parse_fraction(optarg, &a->o.tolerance))
				return ax_cli_usage_error("study", "--tolerance wants a number in "
							  "(0, 1], not '%s'", optarg);
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "json"))
				return ax_cli_usage_error("study", "--format is table or json, not '%s'",
							  optarg);
			a->json = !strcmp(optarg, "json");
			break;
		case O_NOPLOT: a->plot = false; break;
		case 'q': a->quiet = true; break;
		case 'h': help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("study", "option '%s' needs a value",
						    argv[optind - 1]);
		default: return ax_cli_bad_option("study", argv, longopts);
		}
	}
	if (optind >= argc)
		return ax_cli_usage_error("study", "no sweep directory given");
	if (argc - optind > AX_STUDY_MAX_SWEEPS)
		return ax_cli_usage_error("study", "at most %d sweep directories",
					  AX_STUDY_MAX_SWEEPS);
	if (!*a->out || !*a->o.metric)
		return ax_cli_usage_error("study", "--out and --metric want a non-empty value");
	return -1;
}

/* One template into out/plots/NAME.{png,svg}. */
static bool render(const char *out, const char *tpl_name, const char *name,
		   const struct ax_plot_var *vars, int n)
{
	char tpl[AX_PATH_MAX];
	snprintf(tpl, sizeof tpl, "%s/%s", ax_cli_templates_dir(), tpl_name);
	for (int k = 0; k < AX_PLOT_FORMAT_COUNT; k++) {
		char path[AX_PATH_MAX + 64];
		struct ax_diag d = { 0 };
		snprintf(path, sizeof path, "%s/plots/%s.%s", out, name,
			 ax_plot_format_name((enum ax_plot_format)k));
		if (ax_plot_render(tpl, path, (enum ax_plot_format)k, vars, n, &d)) {
			ax_cli_print_diag(&d);
			return false;
		}
	}
	return true;
}

static bool draw(const char *out, const struct ax_study *st)
{
	char gp[AX_PATH_MAX];
	if (!ax_plot_available(gp, sizeof gp)) {
		fprintf(stderr, "archex study: gnuplot not found on PATH; plots skipped "
			"(install gnuplot-nox; the data is in %s/plots/*.csv)\n", out);
		return true;
	}
	const struct ax_sweep_meta *m = &st->sw[0].meta;
	const struct ax_study_group *g = &st->group[st->main_group];
	const struct ax_study_point *p = &g->pt[0];
	char data[AX_PATH_MAX + 32], title[512], xlabel[512], fams[512], sets[512];
	snprintf(data, sizeof data, "%s/plots/proxy.csv", out);
	ax_study_proxy_blocks(st, fams, sets, sizeof fams);
	char metric[32];   /* "BLEU" */
	for (size_t i = 0; i < sizeof metric; i++)
		metric[i] = (char)toupper((unsigned char)st->metric[i]);
	snprintf(title, sizeof title, "Published %s vs. proxy valid loss (%s, %s)",
		 metric, g->sweeps, g->budget);
	const struct ax_plot_var pv[] = { { "proxy", data }, { "fams", fams }, { "sets", sets },
					  { "title_text", title } };
	if (!render(out, "proxy.gp", "proxy", pv, 4))
		return false;
	snprintf(data, sizeof data, "%s/plots/claim.csv", out);
	snprintf(title, sizeof title, "%s: valid loss vs. Mult-Adds (%s)", g->sweeps, g->budget);
	snprintf(xlabel, sizeof xlabel, "Mult-Adds per sentence (M), %s convention, S=%" PRId64
		 " T=%" PRId64 "; vocabulary %" PRId64 "/%" PRId64 " (not counted)",
		 m->convention, m->src_len, m->tgt_len, p->vocab_source,
		 p->vocab_target);
	const struct ax_plot_var cv[] = { { "trained", data }, { "title_text", title },
					  { "xlabel_text", xlabel } };
	return render(out, "accuracy.gp", "claim", cv, 3);
}

int ax_cmd_study(int argc, char **argv)
{
	static char published[AX_PATH_MAX], configs[AX_PATH_MAX];
	struct study_args a = { .out = "results/study", .plot = true };
	a.o = (struct ax_study_opts){ .published = "results/published/translation.csv",
				      .configs_dir = "configs/paper", .metric = "bleu",
				      .tolerance = 0.25 };
	int rc = parse(argc, argv, &a);
	if (rc >= 0)
		return rc;
	/* the defaults also from the source tree, as `archex plot tradeoff` */
	if (!strcmp(a.o.published, "results/published/translation.csv")) {
		ax_cli_data_path(published, sizeof published, a.o.published);
		a.o.published = published;
	}
	if (!strcmp(a.o.configs_dir, "configs/paper")) {
		ax_cli_data_path(configs, sizeof configs, a.o.configs_dir);
		a.o.configs_dir = configs;
	}
	struct ax_study st;
	struct ax_diag d = { 0 };
	rc = AX_EXIT_ERROR;
	if (ax_study_run(&st, (const char *const *)(argv + optind), argc - optind, &a.o, &d) ||
	    ax_study_write(&st, a.out, &d)) {
		ax_cli_print_diag(&d);
		goto free_study;
	}
	for (int i = 0; i < st.n_sweeps; i++) {
		const struct ax_sweep_meta *m = &st.sw[i].meta;
		if (!m->complete || m->shard_n != 1)
			fprintf(stderr, "archex study: warning: %s is not a whole finished sweep "
				"(%s)\n", st.sw[i].dir, m->shard_n == 0 ? "a partial merge" :
				m->shard_n > 1 ? "one shard" : "a run not finished");
	}
	if (a.plot && !draw(a.out, &st))
		goto free_study;
	if (a.json) {
		if (ax_study_write_json(stdout, &st, &d)) {
			ax_cli_print_diag(&d);
			goto free_study;
		}
	} else if (!a.quiet) {
		ax_study_print(stdout, &st);
		printf("\nwritten: %s/{proxy_join,proxy_correlation,claim%s}.csv, study.json, "
		       "plots/\n", a.out, st.n_groups >= 2 ? ",budget_ranks,budget_kendall" : "");
	}
	rc = ax_cli_finish_stdout("study");
free_study:
	ax_study_free(&st);
	return rc;
}
