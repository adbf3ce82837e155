/*
 * cmd_count.c - `archex count`: params, MACs, other FLOPs and bytes of one
 * or more configs, per kind and per layer, at one or more lengths, as a
 * table, CSV or JSON, optionally with the exact MAC polynomial in S and T.
 * Nothing is printed on stdout unless every config loaded and counted, so a
 * bad file never leaves half a JSON array behind. Every format also gives
 * the model's bytes per precision (size.h; --prune adds a pruning
 * estimate) and the memory `archex run` holds at each length pair
 * (exec.h, ax_exec_memory: weights, activation arenas from the planner,
 * K/V caches and conv state for --beam rows).
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "exec.h"
#include "graph.h"
#include "size.h"
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
"  --beam K         memory: beam rows held while decoding (--mode\n"
"                   incremental; default 1)\n"
"  --prune S        also estimate the model's bytes after magnitude pruning\n"
"                   of a fraction S in [0, 1) of the linear, embedding and\n"
"                   output weights, positions stored as a bitmap or 16-bit\n"
"                   CSR indices, whichever is smaller (docs/precision.md)\n"
"\n"
"Every format also reports model bytes per precision (fp32; bf16 and fp16;\n"
"int8 with one fp32 scale per output channel; biases, norms and conv\n"
"kernels stay fp32) and the memory 'archex run' holds at S and T: weights,\n"
"the peak activation arena of the memory planner, the self-attention K/V\n"
"caches and conv state (all beams, and per beam) and scratch. Decoding\n"
"with 'archex run' plans for S=1024 and T=--max-len (default 200): pass\n"
"--mode incremental --src-len 1024 --tgt-len 200 to predict its memory.\n"
"  --latency DEV    also predict batch-1 greedy decoding ms per sentence\n"
"                   (the encoder once, T decoder steps, whatever --mode)\n"
"                   with its encoder/decoder split and the mean decoding\n"
"                   step on DEV: a device file\n"
"                   (devices/NAME.yaml, from 'archex calibrate') or a\n"
"                   built-in name (zen5-1core, zen5-2core: a plain\n"
"                   roofline); docs/latency.md\n"
"  --precision P    fp32 (default), bf16 or int8 weights: the memory held by\n"
"                   'archex run --precision P' (the quantized weights\n"
"                   replace their fp32 storage), and --latency's precision\n"
"  -h, --help       this text\n"
"\n"
"Exit codes: 0 success, 1 a config could not be loaded, 2 usage error.\n");
}

struct item {
	struct ax_config cfg;
	struct ax_cost cost;
	struct ax_model_size size;
	struct ax_exec_memory mem[64];   /* per length pair (ax_count_opts) */
	struct ax_latency lat[64];       /* per length pair, with --latency */
};

static double mib(int64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* Model bytes per precision and memory held at length pair k. */
static void print_memory_table(const struct item *it, int k, int64_t beam,
			       enum ax_precision prec)
{
	const struct ax_model_size *z = &it->size;
	const struct ax_exec_memory *m = &it->mem[k];
	printf("\n  %-18s %12s %12s\n", "model bytes", "bytes", "MiB");
	for (int p = 0; p < AX_PREC_COUNT; p++)
		printf("  %-18s %12" PRId64 " %12.2f\n", ax_precision_names[p],
		       z->bytes[p], mib(z->bytes[p]));
	if (z->sparsity > 0) {
		printf("  pruned to %.1f%% sparsity (index %" PRId64 " bytes):\n",
		       100 * z->sparsity, z->index_bytes);
		for (int p = 0; p < AX_PREC_COUNT; p++)
			printf("  %-18s %12" PRId64 " %12.2f\n", ax_precision_names[p],
			       z->pruned_bytes[p], mib(z->pruned_bytes[p]));
	}
	printf("\n  %-18s %12s %12s  (beam %" PRId64 ")\n", "memory held", "bytes",
	       "MiB", beam);
	char wname[32];
	snprintf(wname, sizeof wname, "weights (%s)", ax_precision_names[prec]);
	if (prec != AX_PREC_FP32)
		printf("  %-18s %12" PRId64 " %12.2f\n", "weights kept fp32",
		       m->weights_fp32, mib(m->weights_fp32));
	const struct { const char *name; int64_t v; } rows[] = {
		{ wname, m->weights }, { "activations", m->activations },
		{ "kv cache", m->kv_cache }, { "kv cache / beam", m->kv_cache / beam },
		{ "conv state", m->conv_state },
		{ "conv state / beam", m->conv_state / beam },
		{ "scratch", m->scratch }, { "total", m->total },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		printf("  %-18s %12" PRId64 " %12.2f\n", rows[i].name, rows[i].v,
		       mib(rows[i].v));
}

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
			int n_len, bool poly, int64_t beam,
			enum ax_precision prec)
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
	print_memory_table(it, 0, o->mode == AX_MODE_INCREMENTAL ? beam : 1, prec);
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
	int64_t beam;    /* memory: beam rows (incremental) */
	double prune;    /* --prune sparsity, 0 = none */
	const char *latency;             /* --latency DEV, NULL = none */
	struct ax_device dev;            /* ... resolved */
	enum ax_precision precision;
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
		{ "beam", required_argument, NULL, 'B' },
		{ "prune", required_argument, NULL, 'R' },
		{ "latency", required_argument, NULL, 'L' },
		{ "precision", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ax_count_opts *o = &a->o;
	ax_cli_count_defaults(o);
	a->format = FORMAT_TABLE;
	a->poly = a->summary = a->per_step = false;
	a->beam = 1;
	a->prune = 0;
	a->latency = NULL;
	a->precision = AX_PREC_FP32;
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
		case 'B':
			if (!ax_cli_parse_i64(optarg, 1, 64, &a->beam))
				return ax_cli_usage_error("count", "--beam wants 1..64, not '%s'", optarg);
			break;
		case 'R': {
			char *end;
			errno = 0;
			a->prune = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(a->prune >= 0 && a->prune < 1))
				return ax_cli_usage_error("count", "--prune wants a sparsity in [0, 1), not '%s'", optarg);
			break;
		}
		case 'L': a->latency = optarg; break;
		case 'P': {
			int k = ax_cli_enum(optarg, ax_precision_names, AX_PREC_COUNT);
			if (k < 0)
				return ax_cli_usage_error("count", "--precision must be fp32, bf16 or int8, not '%s'", optarg);
			a->precision = (enum ax_precision)k;
			break;
		}
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

/* The memory `archex run` would hold for length pair k: batch 1 in
 * sequence mode, --beam rows in incremental mode. */
static enum ax_status plan_memory(const struct count_args *a,
				  const struct ax_graph *g, int k,
				  struct ax_exec_memory *m, struct ax_diag *d)
{
	bool inc = a->o.mode == AX_MODE_INCREMENTAL;
	struct ax_exec_opts eo = {
		.mode = a->o.mode, .batch = inc ? a->beam : 1,
		.max_src = g->has_encoder ? src_at(&a->o, k) : 0,
		.max_tgt = tgt_at(&a->o, k), .precision = a->precision,
	};
	return ax_exec_memory(g, &eo, m, d);
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
		ax_size_model(&g, a->prune, &items[i].size);
		for (int k = 0; a->latency && k < a->n_len; k++)
			ax_latency_predict(&g, AX_MODE_INCREMENTAL, src_at(o, k),
					   tgt_at(o, k), a->precision, &a->dev,
					   &items[i].lat[k]);
		for (int k = 0; k < a->n_len; k++) {
			if (ax_cost_check(&items[i].cost, src_at(o, k), tgt_at(o, k),
					  &d) == AX_OK &&
			    plan_memory(a, &g, k, &items[i].mem[k], &d) == AX_OK)
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

/* "model_bytes", "pruned" (with --prune) and "memory" members. */
static void write_memory_json(struct ax_json *j, const struct count_args *a,
			      const struct item *it, int k)
{
	const struct ax_model_size *z = &it->size;
	const struct ax_exec_memory *m = &it->mem[k];
	int64_t beam = a->o.mode == AX_MODE_INCREMENTAL ? a->beam : 1;
	ax_json_key(j, "model_bytes");
	ax_json_begin_object(j);
	for (int p = 0; p < AX_PREC_COUNT; p++) {
		ax_json_key(j, ax_precision_names[p]);
		ax_json_int(j, z->bytes[p]);
	}
	ax_json_key(j, "quantizable_params");
	ax_json_int(j, z->quantizable);
	ax_json_key(j, "int8_scales");
	ax_json_int(j, z->quantized_rows);
	ax_json_end_object(j);
	if (z->sparsity > 0) {
		ax_json_key(j, "pruned");
		ax_json_begin_object(j);
		ax_json_key(j, "sparsity");
		ax_json_double(j, z->sparsity);
		ax_json_key(j, "kept_weights");
		ax_json_int(j, z->kept);
		ax_json_key(j, "index_bytes");
		ax_json_int(j, z->index_bytes);
		for (int p = 0; p < AX_PREC_COUNT; p++) {
			ax_json_key(j, ax_precision_names[p]);
			ax_json_int(j, z->pruned_bytes[p]);
		}
		ax_json_end_object(j);
	}
	const struct { const char *name; int64_t v; } f[] = {
		{ "beam", beam }, { "weights", m->weights },
		{ "weights_fp32", m->weights_fp32 },
		{ "activations", m->activations },
		{ "naive_activations", m->naive_activations },
		{ "kv_cache", m->kv_cache }, { "kv_cache_per_beam", m->kv_cache / beam },
		{ "conv_state", m->conv_state },
		{ "conv_state_per_beam", m->conv_state / beam },
		{ "scratch", m->scratch }, { "total", m->total },
	};
	ax_json_key(j, "memory");
	ax_json_begin_object(j);
	ax_json_key(j, "precision");
	ax_json_string(j, ax_precision_names[a->precision]);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		ax_json_key(j, f[i].name);
		ax_json_int(j, f[i].v);
	}
	ax_json_end_object(j);
}

/* The "latency" member (--latency). */
static void write_latency_json(struct ax_json *j, const struct count_args *a,
			       const struct ax_latency *l)
{
	ax_json_key(j, "latency");
	ax_json_begin_object(j);
	ax_json_key(j, "device");
	ax_json_string(j, a->dev.name);
	ax_json_key(j, "calibrated");
	ax_json_bool(j, a->dev.calibrated);
	ax_json_key(j, "model");
	ax_json_string(j, a->dev.per_kind ? "per-kind" : "roofline");
	ax_json_key(j, "precision");
	ax_json_string(j, ax_precision_names[a->precision]);
	const struct { const char *name; double v; } f[] = {
		{ "ms", l->total_ms }, { "encoder_ms", l->encoder_ms },
		{ "decoder_ms", l->decoder_ms }, { "compute_ms", l->compute_ms },
		{ "memory_ms", l->memory_ms }, { "overhead_ms", l->overhead_ms },
		{ "search_ms", l->search_ms }, { "step_ms", l->step_ms },
		{ "encoder_weight_bytes", l->enc_weight_bytes },
		{ "decoder_weight_bytes", l->dec_weight_bytes },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		ax_json_key(j, f[i].name);
		ax_json_double(j, f[i].v);
	}
	ax_json_key(j, "op_calls");
	ax_json_int(j, l->calls);
	ax_json_key(j, "kind_ms");
	ax_json_begin_object(j);
	for (int k = 0; k < AX_DEV_KIND_COUNT; k++) {
		ax_json_key(j, ax_dev_kind_names[k]);
		ax_json_double(j, l->kind_ms[k]);
	}
	ax_json_end_object(j);
	ax_json_end_object(j);
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
			write_memory_json(&j, a, &items[i], k);
			if (a->latency)
				write_latency_json(&j, a, &items[i].lat[k]);
			if (a->poly)
				write_poly_json(&j, &items[i].cost);
			ax_json_end_object(&j);
		}
	ax_json_end_array(&j);
	if (ax_json_finish(&j, &d) != AX_OK)
		ax_cli_print_diag(&d);
	fputc('\n', stdout);
}

/* A line an ax_result CSV writer put in buf, without its newline, so the
 * size and memory columns can follow. */
static void put_line(const char *buf, size_t n)
{
	if (n && buf[n - 1] == '\n')
		n--;
	fwrite(buf, 1, n, stdout);
}

/* A header, then a row per config and length pair, config-major; the
 * result table's columns, then model bytes, pruned bytes (--prune) and
 * memory held. */
static void write_csv(const struct count_args *a, const struct item *items,
		      struct ax_result *r)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *mem = open_memstream(&buf, &n);
	if (!mem)
		return;
	ax_result_write_csv_header(mem);
	fflush(mem);
	put_line(buf, n);
	printf(",bytes_fp32,bytes_bf16,bytes_int8%s,mem_beam,mem_weights,"
	       "mem_activations,mem_kv_cache,mem_conv_state,mem_scratch,mem_total",
	       a->prune > 0 ? ",pruned_sparsity,pruned_index_bytes,pruned_fp32,"
			      "pruned_bf16,pruned_int8" : "");
	printf("%s\n", a->latency ? ",latency_device,latency_precision,latency_ms,"
	       "latency_encoder_ms,latency_decoder_ms" : "");
	if (a->latency)   /* the header ended with mem_total\n: redo its end */
		printf("\033[0m");
	int64_t beam = a->o.mode == AX_MODE_INCREMENTAL ? a->beam : 1;
	for (int i = 0; i < a->n; i++)
		for (int k = 0; k < a->n_len; k++) {
			const struct ax_model_size *z = &items[i].size;
			const struct ax_exec_memory *m = &items[i].mem[k];
			ax_result_fill(r, &items[i].cfg, &items[i].cost,
				       src_at(&a->o, k), tgt_at(&a->o, k));
			rewind(mem);
			ax_result_write_csv_row(mem, r);
			fflush(mem);
			put_line(buf, (size_t)ftell(mem));
			printf(",%" PRId64 ",%" PRId64 ",%" PRId64, z->bytes[AX_PREC_FP32],
			       z->bytes[AX_PREC_BF16], z->bytes[AX_PREC_INT8]);
			if (a->prune > 0)
				printf(",%g,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64,
				       z->sparsity, z->index_bytes, z->pruned_bytes[AX_PREC_FP32],
				       z->pruned_bytes[AX_PREC_BF16], z->pruned_bytes[AX_PREC_INT8]);
			printf(",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			       ",%" PRId64 ",%" PRId64, beam, m->weights, m->activations,
			       m->kv_cache, m->conv_state, m->scratch, m->total);
			if (a->latency) {
				const struct ax_latency *l = &items[i].lat[k];
				printf(",%s,%s,%.4f,%.4f,%.4f", a->dev.name,
				       ax_precision_names[a->precision], l->total_ms,
				       l->encoder_ms, l->decoder_ms);
			}
			putchar('\n');
		}
	fclose(mem);
	free(buf);
}

/* --latency: the prediction per length pair, in the table format. */
static void print_latency(const struct count_args *a, const struct item *it)
{
	if (!a->latency)
		return;
	const struct ax_device *v = &a->dev;
	printf("\nlatency on %s (%s, %s weights, batch-1 greedy; docs/latency.md)\n",
	       v->name, v->per_kind ? (v->calibrated ? "calibrated" : "uncalibrated: "
				       "published figures") : "built-in roofline",
	       ax_precision_names[a->precision]);
	printf("  %-20s %8s %10s %10s %10s %10s %10s %10s\n", a->o.n_src > 1 ||
	       a->o.n_tgt > 1 ? "S,T" : "", "ms", "encoder", "decoder", "per step",
	       "compute", "memory", "overhead");
	for (int k = 0; k < a->n_len; k++) {
		const struct ax_latency *l = &it->lat[k];
		char st[200];
		snprintf(st, sizeof st, "%s S=%" PRId64 " T=%" PRId64, it->cfg.name,
			 src_at(&a->o, k), tgt_at(&a->o, k));
		printf("  %-20s %8.2f %10.2f %10.2f %10.3f %10.2f %10.2f %10.2f\n", st,
		       l->total_ms, l->encoder_ms, l->decoder_ms, l->step_ms,
		       l->compute_ms, l->memory_ms, l->overhead_ms);
	}
}

/* --summary: the summary alone. Otherwise a breakdown per config (and
 * its decoding steps with --per-step), then a summary if there are
 * several configs. */
static void write_table(const struct count_args *a, const struct item *items)
{
	if (a->summary) {
		print_summary(items, a->n, &a->o);
		for (int i = 0; a->latency && i < a->n; i++) {
			fputc('\n', stdout);
			print_latency(a, &items[i]);
		}
		return;
	}
	for (int i = 0; i < a->n; i++) {
		if (i)
			fputc('\n', stdout);
		print_table(&items[i], &a->o, a->n_len, a->poly, a->beam,
			    a->precision);
		print_latency(a, &items[i]);
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

	if (a.latency) {
		struct ax_diag d = { 0 };
		if (ax_device_resolve(&a.dev, a.latency, &d) != AX_OK) {
			if (!d.file[0])
				return ax_cli_usage_error("count", "--latency: %s", d.msg);
			ax_cli_print_diag(&d);
			return AX_EXIT_ERROR;
		}
	}
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
