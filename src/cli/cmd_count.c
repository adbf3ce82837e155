/*
 * cmd_count.c - `archex count`: params, MACs, other FLOPs and bytes of one
 * or more configs, per kind and per layer, at one or more lengths, as a
 * table, CSV or JSON, optionally with the exact MAC polynomial in S and T.
 * Nothing is printed on stdout unless every config loaded and counted, so a
 * bad file never leaves half a JSON array behind.
 */
#include <assert.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph.h"
#include "result.h"
#include "model.h"

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON, FORMAT_COUNT };
static const char *const format_names[] = {
	[FORMAT_TABLE] = "table",
	[FORMAT_CSV] = "csv",
	[FORMAT_JSON] = "json",
};
static_assert(sizeof format_names / sizeof format_names[0] == FORMAT_COUNT,
	      "every format needs a name");

static void help(void)
{
	printf(
"usage: archex count [options] CONFIG...\n"
"\n"
"Count parameters, multiply-accumulates (MACs), other FLOPs and bytes of\n"
"each model config analytically, per op kind and per layer.\n"
"\n"
"options:\n"
"  --convention C   exact (default) or paper\n"
"                     exact: every MAC the math performs (linears, attention\n"
"                       QK^T and AV, conv taps, dynamic kernel generation,\n"
"                       the output projection); norms, softmax, activations\n"
"                       and adds are reported as other FLOPs\n"
"                     paper: reproduces the Lite Transformer paper (no bias,\n"
"                       no light/dynamic conv taps, LayerNorm and scaling\n"
"                       muls as numel, output layer excluded; params without\n"
"                       embedding tables). See README 'Counting conventions'\n"
"  --src-len N[,N]  source length(s) S (default 30)\n"
"  --tgt-len N[,N]  target length(s) T (default 30); an LM's length is T.\n"
"                   Lists are paired element-wise; a single value repeats\n"
"  --mode M         sequence (default): one teacher-forced decoder pass;\n"
"                   incremental: T decoding steps with caches, summed\n"
"  --format F       table (default), csv or json (one JSON array)\n"
"  --poly           also print the exact coefficients of MACs(S, T),\n"
"                   per kind and in total\n"
"  --summary        table format: one line per config, no breakdown\n"
"  --per-step       with --mode incremental: MACs of each decoding step\n"
"                   t = 1..T (and the once-per-sentence encoder and cross\n"
"                   K/V work as step 0), from the exact polynomial\n"
"  -h, --help       this text\n"
"\n"
"Exit codes: 0 success, 1 a config could not be loaded, 2 usage error.\n");
}

struct item {
	struct ax_config cfg;
	struct ax_cost cost;
};

static void print_poly_table(const struct ax_cost *c)
{
	char buf[256];
	printf("\n  MACs(S, T) exact coefficients\n");
	for (int k = 0; k < AX_KIND_COUNT; k++) {
		const struct ax_poly *p = &c->macs_by_kind[k];
		bool zero = true;
		for (int m = 0; m < AX_MONO_COUNT; m++)
			zero &= p->h[m] == 0;
		if (zero)
			continue;
		ax_cli_poly(buf, sizeof buf, p);
		printf("  %-18s %s\n", ax_cost_kind_names[k], buf);
	}
	ax_cli_poly(buf, sizeof buf, &c->macs);
	printf("  %-18s %s\n", "total", buf);
}

static void print_table(const struct item *it, const struct ax_count_opts *o,
			int n_len, bool poly)
{
	char h1[32], h2[32], h3[32], h4[32], g1[40], g2[40];
	struct ax_result *r = malloc(sizeof *r);
	if (!r)
		return;
	int64_t S = o->src_len[0], T = o->tgt_len[0];
	ax_result_fill(r, &it->cfg, &it->cost, S, T);
	printf("%s  (%s %s, convention %s, mode %s)\n", r->name, r->family,
	       r->task, r->convention, r->mode);
	ax_cli_human(h1, sizeof h1, r->params);
	ax_cli_grouped(g1, sizeof g1, r->params);
	ax_cli_human(h2, sizeof h2, r->macs);
	ax_cli_grouped(g2, sizeof g2, r->macs);
	ax_cli_human(h3, sizeof h3, r->other_flops);
	ax_cli_human(h4, sizeof h4, r->bytes);
	if (it->cfg.task == AX_TASK_TRANSLATION)
		printf("  S=%" PRId64 " T=%" PRId64, S, T);
	else
		printf("  N=%" PRId64, T);
	printf(": params %s (%s)  MACs %s (%s)  other FLOPs %s  bytes %s\n",
	       h1, g1, h2, g2, h3, h4);

	printf("\n  %-18s %10s %7s\n", "MACs by kind", "MACs", "share");
	for (int k = 0; k < AX_KIND_COUNT; k++) {
		if (!r->macs_by_kind[k])
			continue;
		ax_cli_human(h1, sizeof h1, r->macs_by_kind[k]);
		printf("  %-18s %10s %6.1f%%\n", ax_cost_kind_names[k], h1,
		       r->macs ? 100.0 * (double)r->macs_by_kind[k] / (double)r->macs : 0.0);
	}

	printf("\n  %-18s %10s %10s\n", "layer", "params", "MACs");
	int64_t embed_macs = ax_poly_eval(&it->cost.macs_by_scope[AX_SCOPE_EMBED], S, T);
	ax_cli_human(h1, sizeof h1, it->cost.params_by_scope[AX_SCOPE_EMBED]);
	ax_cli_human(h2, sizeof h2, embed_macs);
	printf("  %-18s %10s %10s\n", "embeddings", h1, h2);
	for (int i = 0; i < r->n_layers; i++) {
		ax_cli_human(h1, sizeof h1, r->layers[i].params);
		ax_cli_human(h2, sizeof h2, r->layers[i].macs);
		printf("  %-18s %10s %10s\n", r->layers[i].name, h1, h2);
	}
	/* stack-level ops (final LNs) are in a scope but in no layer */
	int64_t rest_p = r->params - it->cost.params_by_scope[AX_SCOPE_EMBED] -
			 it->cost.params_by_scope[AX_SCOPE_OUTPUT];
	int64_t rest_m = r->macs - embed_macs -
			 ax_poly_eval(&it->cost.macs_by_scope[AX_SCOPE_OUTPUT], S, T);
	for (int i = 0; i < r->n_layers; i++) {
		rest_p -= r->layers[i].params;
		rest_m -= r->layers[i].macs;
	}
	if (rest_p || rest_m) {
		ax_cli_human(h1, sizeof h1, rest_p);
		ax_cli_human(h2, sizeof h2, rest_m);
		printf("  %-18s %10s %10s\n", "final norms", h1, h2);
	}
	ax_cli_human(h1, sizeof h1, it->cost.params_by_scope[AX_SCOPE_OUTPUT]);
	ax_cli_human(h2, sizeof h2,
		     ax_poly_eval(&it->cost.macs_by_scope[AX_SCOPE_OUTPUT], S, T));
	printf("  %-18s %10s %10s\n", "output", h1, h2);

	if (n_len > 1) {
		printf("\n  %8s %8s %14s %14s %14s\n", "S", "T", "MACs",
		       "other FLOPs", "bytes");
		for (int i = 0; i < n_len; i++) {
			int64_t s = o->src_len[o->n_src == 1 ? 0 : i];
			int64_t t = o->tgt_len[o->n_tgt == 1 ? 0 : i];
			ax_result_fill(r, &it->cfg, &it->cost, s, t);
			printf("  %8" PRId64 " %8" PRId64 " %14" PRId64 " %14" PRId64
			       " %14" PRId64 "\n", r->src_len, t, r->macs,
			       r->other_flops, r->bytes);
		}
	}
	if (poly)
		print_poly_table(&it->cost);
	free(r);
}

/* Incremental decoding step by step: the summed polynomial P(S, T) gives
 * step t's MACs as P(S, t) - P(S, t - 1); P(S, 0) is the work done once
 * per sentence (encoder, cross-attention K/V). */
static void print_steps(const struct item *it, const struct ax_count_opts *o)
{
	int64_t S = it->cfg.task == AX_TASK_TRANSLATION ? o->src_len[0] : 0;
	int64_t T = o->tgt_len[0];
	const struct ax_poly *p = &it->cost.macs;
	char h[32];
	printf("\n  %6s %14s %10s %16s\n", "step", "MACs", "", "cumulative");
	int64_t prev = ax_poly_eval(p, S, 0);
	ax_cli_human(h, sizeof h, prev);
	printf("  %6s %14" PRId64 " %10s %16" PRId64 "   (once per sentence)\n", "0",
	       prev, h, prev);
	for (int64_t t = 1; t <= T; t++) {
		int64_t cur = ax_poly_eval(p, S, t);
		ax_cli_human(h, sizeof h, cur - prev);
		printf("  %6" PRId64 " %14" PRId64 " %10s %16" PRId64 "\n", t, cur - prev, h, cur);
		prev = cur;
	}
}

static void print_summary(const struct item *items, int n,
			  const struct ax_count_opts *o)
{
	char h1[32], h2[32], h3[32];
	printf("%-26s %-12s %-11s %10s %10s %12s\n", "config", "family",
	       "convention", "params", "MACs", "other FLOPs");
	for (int i = 0; i < n; i++) {
		const struct item *it = &items[i];
		int64_t S = o->src_len[0], T = o->tgt_len[0];
		ax_cli_human(h1, sizeof h1, it->cost.params);
		ax_cli_human(h2, sizeof h2, ax_poly_eval(&it->cost.macs, S, T));
		ax_cli_human(h3, sizeof h3, ax_poly_eval(&it->cost.other_flops, S, T));
		printf("%-26s %-12s %-11s %10s %10s %12s\n", it->cfg.name,
		       ax_family_names[it->cfg.family],
		       ax_convention_names[it->cost.convention], h1, h2, h3);
	}
}

/* "macs_poly": {kind: {monomial: coefficient}}; halves print as x.5 */
static void write_poly_json(struct ax_json *j, const struct ax_cost *c)
{
	ax_json_key(j, "macs_poly");
	ax_json_begin_object(j);
	for (int k = 0; k <= AX_KIND_COUNT; k++) {
		const struct ax_poly *p = k < AX_KIND_COUNT ? &c->macs_by_kind[k] : &c->macs;
		ax_json_key(j, k < AX_KIND_COUNT ? ax_cost_kind_names[k] : "total");
		ax_json_begin_object(j);
		for (int m = 0; m < AX_MONO_COUNT; m++) {
			ax_json_key(j, ax_mono_names[m]);
			if (p->h[m] % 2)
				ax_json_double(j, ax_poly_coef(p, (enum ax_mono)m));
			else
				ax_json_int(j, p->h[m] / 2);
		}
		ax_json_end_object(j);
	}
	ax_json_end_object(j);
}

/* The parsed command line. */
struct count_args {
	struct ax_count_opts o;
	enum format format;
	bool poly, summary, per_step;
	int n_len;       /* length pairs: the longer list; a single value repeats */
	char **paths;    /* the CONFIGs */
	int n;
};

/* Length pair k of the element-wise paired --src-len / --tgt-len lists. */
static int64_t src_at(const struct ax_count_opts *o, int k)
{
	return o->src_len[o->n_src == 1 ? 0 : k];
}

static int64_t tgt_at(const struct ax_count_opts *o, int k)
{
	return o->tgt_len[o->n_tgt == 1 ? 0 : k];
}

/* Fills a from argv. Returns -1 to go on, or the exit code to return now
 * (after --help, or a usage error already reported). */
static int parse_args(int argc, char **argv, struct count_args *a)
{
	static const struct option longopts[] = {
		{ "convention", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "src-len", required_argument, NULL, 's' },
		{ "tgt-len", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "poly", no_argument, NULL, 'p' },
		{ "summary", no_argument, NULL, 'S' },
		{ "per-step", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ax_count_opts *o = &a->o;
	ax_cli_count_defaults(o);
	a->format = FORMAT_TABLE;
	a->poly = a->summary = a->per_step = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int r = ax_cli_count_opt("count", opt, optarg, o);
		if (r < 0)
			return AX_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'f': {
			int k = ax_cli_enum(optarg, format_names, FORMAT_COUNT);
			if (k < 0)
				return ax_cli_usage_error("count", "--format must be table, csv or json, not '%s'", optarg);
			a->format = (enum format)k;
			break;
		}
		case 'p': a->poly = true; break;
		case 'S': a->summary = true; break;
		case 'D': a->per_step = true; break;
		case 'h': help(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("count", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("count", argv, longopts);
		}
	}
	a->paths = argv + optind;
	a->n = argc - optind;
	if (a->n <= 0)
		return ax_cli_usage_error("count", "no CONFIG given");
	if (o->n_src != o->n_tgt && o->n_src != 1 && o->n_tgt != 1)
		return ax_cli_usage_error("count", "--src-len has %d values and --tgt-len %d; give equal counts or one value", o->n_src, o->n_tgt);
	a->n_len = o->n_src > o->n_tgt ? o->n_src : o->n_tgt;
	if (a->per_step && (o->mode != AX_MODE_INCREMENTAL || a->format != FORMAT_TABLE || a->n_len > 1))
		return ax_cli_usage_error("count", "--per-step needs --mode incremental, the "
					  "table format and a single length pair");
	return -1;
}

/* Loads, builds and costs every config into items[i], and checks each
 * cost at every length pair. Prints the diagnostic of each config that
 * fails and returns how many failed. */
static int count_all(const struct count_args *a, struct item *items)
{
	const struct ax_count_opts *o = &a->o;
	struct ax_graph g;
	ax_graph_init(&g);
	int failed = 0;
	for (int i = 0; i < a->n; i++) {
		struct ax_diag d = { 0 };
		if (!ax_cli_load(a->paths[i], &items[i].cfg)) {
			failed++;
			continue;
		}
		if (ax_model_build(&items[i].cfg, &g, &d) != AX_OK) {
			snprintf(d.file, sizeof d.file, "%s", a->paths[i]);
			ax_cli_print_diag(&d);
			failed++;
			continue;
		}
		ax_cost_graph(&g, o->convention, o->mode, &items[i].cost);
		for (int k = 0; k < a->n_len; k++) {
			if (ax_cost_check(&items[i].cost, src_at(o, k), tgt_at(o, k),
					  &d) == AX_OK)
				continue;
			snprintf(d.file, sizeof d.file, "%s", a->paths[i]);
			ax_cli_print_diag(&d);
			failed++;
			break;
		}
	}
	ax_graph_free(&g);
	return failed;
}

/* One JSON array: a record per config and length pair, config-major. */
static void write_json(const struct count_args *a, const struct item *items,
		       struct ax_result *r)
{
	struct ax_json j;
	struct ax_diag d = { 0 };
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_array(&j);
	for (int i = 0; i < a->n; i++)
		for (int k = 0; k < a->n_len; k++) {
			ax_result_fill(r, &items[i].cfg, &items[i].cost,
				       src_at(&a->o, k), tgt_at(&a->o, k));
			ax_json_begin_object(&j);
			ax_result_write_json_members(&j, r);
			if (a->poly)
				write_poly_json(&j, &items[i].cost);
			ax_json_end_object(&j);
		}
	ax_json_end_array(&j);
	if (ax_json_finish(&j, &d) != AX_OK)
		ax_cli_print_diag(&d);
	fputc('\n', stdout);
}

/* A header, then a row per config and length pair, config-major. */
static void write_csv(const struct count_args *a, const struct item *items,
		      struct ax_result *r)
{
	ax_result_write_csv_header(stdout);
	for (int i = 0; i < a->n; i++)
		for (int k = 0; k < a->n_len; k++) {
			ax_result_fill(r, &items[i].cfg, &items[i].cost,
				       src_at(&a->o, k), tgt_at(&a->o, k));
			ax_result_write_csv_row(stdout, r);
		}
}

/* --summary: the summary alone. Otherwise a breakdown per config (and
 * its decoding steps with --per-step), then a summary if there are
 * several configs. */
static void write_table(const struct count_args *a, const struct item *items)
{
	if (a->summary) {
		print_summary(items, a->n, &a->o);
		return;
	}
	for (int i = 0; i < a->n; i++) {
		if (i)
			fputc('\n', stdout);
		print_table(&items[i], &a->o, a->n_len, a->poly);
		if (a->per_step)
			print_steps(&items[i], &a->o);
	}
	if (a->n > 1) {
		fputc('\n', stdout);
		print_summary(items, a->n, &a->o);
	}
}

int ax_cmd_count(int argc, char **argv)
{
	struct count_args a;
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;

	struct item *items = calloc((size_t)a.n, sizeof *items);
	struct ax_result *r = malloc(sizeof *r);
	if (!items || !r) {
		fprintf(stderr, "archex count: error: out of memory\n");
		rc = AX_EXIT_ERROR;
		goto free_buffers;
	}
	int failed = count_all(&a, items);
	if (failed) {
		fprintf(stderr, "archex count: %d of %d config%s failed; nothing written\n",
			failed, a.n, a.n == 1 ? "" : "s");
		rc = AX_EXIT_ERROR;
		goto free_buffers;
	}
	switch (a.format) {
	case FORMAT_JSON: write_json(&a, items, r); break;
	case FORMAT_CSV: write_csv(&a, items, r); break;
	case FORMAT_TABLE: write_table(&a, items); break;
	case FORMAT_COUNT: break;
	}
	rc = ax_cli_finish_stdout("count");
free_buffers:
	free(items);
	free(r);
	return rc;
}
