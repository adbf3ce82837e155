/*
 * bench_decode.c - batch-1 greedy decoding at fp32, bf16 and int8, against
 * the memory-bandwidth floor measured in the same run.
 *
 * usage: bench_decode [--runs N=7] [--len L=30] [--threads T=1] CONFIG...
 * For each config: one incremental executor per precision on the same
 * random weights (seed 1; int8 with its default 16-bit activations), and
 * two more at int8 with fp32 and with int8 activations (`run --precision
 * int8 --activations fp32|int8`, the rows "int8/a32" and "int8/a8"); a
 * random L-token source, encoded, then L greedy steps (argmax, nothing
 * banned, so every run takes L steps). Runs are interleaved (fp32, bf16,
 * int8, int8/a32, int8/a8, fp32, ...) after one
 * warm-up each.
 * Per precision, a Markdown row:
 *   - ms per sentence: median and spread (min..max) over the runs;
 *   - speed-up over fp32: the ratio of the medians;
 *   - the first step's ms (median), and the decoder's ms per step over
 *     the L-1 steps after it (median): the encoder, cross-attention keys
 *     and values included, runs before both. The first step reads its
 *     weights cold: the executors run in turn and together hold more
 *     than the last-level cache, so each sentence starts from DRAM,
 *     which a decoder running alone would not; the steps after it read
 *     them as the floor below does;
 *   - the weight bytes one step reads:
 *     every parameter of the target-stream ops at its stored size (int8
 *     with its scales), one row of each embedding table;
 *   - the stream bandwidth over a working set of those bytes (cblas_sdot,
 *     best of 5 passes after each round of runs, best over the rounds;
 *     same process and threads), and the floor %:
 *     (bytes per step / that bandwidth) over the ms per step after the
 *     first (the same working set, warm). The
 *     header gives the bandwidth over 1 GiB, beyond any cache.
 * The OpenBLAS kernel (archex's choice, bench_cpu.h), the CPU and the
 * kernels_q path are printed above the table.
 */
#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_cpu.h"
#include "config.h"
#include "exec.h"
#include "graph.h"
#include "kernels_q.h"
#include "model.h"

void openblas_set_num_threads(int n);

#define MAX_RUNS 101
#define MAX_LEN 256
/* the executors: one per precision (int8 with its default activations,
 * 16-bit), then int8 with fp32 and with int8 activations */
static const struct {
	const char *name;
	enum ax_precision prec;
	enum ax_act act;
} execs[] = {
	{ "fp32", AX_PREC_FP32, AX_ACT_FP32 },
	{ "bf16", AX_PREC_BF16, AX_ACT_FP32 },
	{ "int8", AX_PREC_INT8, AX_ACT_INT16 },      /* the default */
	{ "int8/a32", AX_PREC_INT8, AX_ACT_FP32 },
	{ "int8/a8", AX_PREC_INT8, AX_ACT_INT8 },
};
#define N_EXEC ((int)(sizeof execs / sizeof execs[0]))

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];
	memcpy(s, v, (size_t)n * sizeof *s);
	qsort(s, (size_t)n, sizeof *s, cmp);
	return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Read bandwidth in bytes/s over a working set of `bytes`: cblas_sdot
 * of its two halves, read once to warm, then the best of 5 passes. A
 * decoder re-reads its weights every step, so this is its floor for that
 * many bytes, wherever the caches put it (a large last-level cache holds
 * part of a 40-150 MB working set). */
static double stream_bandwidth(double bytes)
{
	size_t n = (size_t)(bytes / (2 * sizeof(float))) + 1;   /* per half */
	float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	if (!a || !b) {
		free(a), free(b);
		return 0;
	}
	for (size_t k = 0; k < n; k++)
		a[k] = b[k] = 1e-3f * (float)(k % 7);
	double best = 1e9;
	volatile float sink = cblas_sdot((int)n, a, 1, b, 1);
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		sink += cblas_sdot((int)n, a, 1, b, 1);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	(void)sink;
	free(a), free(b);
	return 2.0 * (double)n * sizeof(float) / best;
}

/* How the target-stream ops read parameter p: *read if any does; *whole
 * if one reads all of it (anything but an embedding lookup, which reads
 * one row per step). */
static void tgt_reads(const struct ax_graph *g, int32_t p, bool *read,
		      bool *whole)
{
	*read = *whole = false;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		if (g->tensors[op->out].len != AX_LEN_TGT)
			continue;
		for (int k = 0; k < AX_OP_MAX_PARAMS; k++)
			if (op->param[k] == p) {
				*read = true;
				*whole |= op->kind != AX_OP_EMBED &&
					  !(op->kind == AX_OP_ADAPTIVE_INPUT && k % 2 == 0);
			}
	}
}

/* Weight bytes one decoding step reads at x's precision (see above). */
static double step_bytes(const struct ax_exec *x)
{
	const struct ax_graph *g = x->g;
	static const int64_t per[AX_PREC_COUNT] = { 4, 2, 1 };
	double bytes = 0;
	for (int32_t p = 0; p < g->n_params; p++) {
		bool read, whole;
		tgt_reads(g, p, &read, &whole);
		if (!read)
			continue;
		bool q = ax_exec_param_quantized(x, p);
		int64_t r = whole ? g->params[p].rows : 1;
		bytes += (double)(r * g->params[p].cols * (q ? per[x->precision] : 4));
		if (q && x->precision == AX_PREC_INT8)
			bytes += 4.0 * (double)r;   /* the scales */
	}
	return bytes;
}

/* One sentence: encode src, then len greedy steps; the seconds of the
 * whole, of the first step and of the steps after it. */
static bool decode_once(struct ax_exec *x, const int32_t *src, int64_t len,
			double *total, double *first, double *steps)
{
	struct ax_diag d = { 0 };
	int64_t V = ax_exec_vocab(x);
	double t0 = now();
	bool lm = !x->g->has_encoder;
	if (ax_exec_encode(x, lm ? NULL : src, lm ? 0 : len, &d) != AX_OK)
		goto fail;
	double t1 = now(), t2 = t1;
	int32_t tok = ax_exec_start_token(x);
	for (int64_t t = 0; t < len; t++) {
		if (t == 1)
			t2 = now();
		if (ax_exec_step(x, &tok, &d) != AX_OK)
			goto fail;
		const float *lp = ax_exec_logprobs(x);
		int32_t best = 0;
		for (int32_t w = 1; w < V; w++)
			best = lp[w] > lp[best] ? w : best;
		tok = best;
	}
	double t3 = now();
	*total = t3 - t0;
	*first = t2 - t1;
	*steps = t3 - t2;
	return true;
fail:
	fprintf(stderr, "bench_decode: %s\n", d.msg);
	return false;
}

struct prec_run {
	struct ax_exec x;
	double total[MAX_RUNS], first[MAX_RUNS], steps[MAX_RUNS];
	double bw;   /* best stream bandwidth at step_bytes(x) so far */
};

/* Median, spread and the floor for every precision of one config. */
static void print_rows(const struct ax_graph *g, struct prec_run *r, int runs,
		       int64_t len)
{
	double base = median(r[0].total, runs);   /* fp32 */
	for (int p = 0; p < N_EXEC; p++) {
		double s[MAX_RUNS];
		memcpy(s, r[p].total, (size_t)runs * sizeof *s);
		qsort(s, (size_t)runs, sizeof *s, cmp);
		double med = median(r[p].total, runs);
		double step = median(r[p].steps, runs) / (double)(len - 1);
		double bytes = step_bytes(&r[p].x), bw = r[p].bw;
		printf("| %s | %s | %.2f | %.2f..%.2f | %.2fx | %.3f | %.3f | %.1f | %.1f | %.0f%% |\n",
		       g->cfg->name, execs[p].name, 1e3 * med, 1e3 * s[0],
		       1e3 * s[runs - 1], base / med, 1e3 * median(r[p].first, runs),
		       1e3 * step, bytes / 1e6, bw / 1e9, 100.0 * bytes / bw / step);
	}
	fflush(stdout);
}

static bool bench_config(const char *path, int runs, int64_t len)
{
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_graph g;
	struct ax_diag d = { 0 };
	struct prec_run *r = calloc(N_EXEC, sizeof *r);
	bool ok = false;
	ax_graph_init(&g);
	if (!cfg || !r || ax_config_load(path, cfg, &d) != AX_OK ||
	    ax_model_build(cfg, &g, &d) != AX_OK)
		goto out;
	struct ax_exec_opts o = { .mode = AX_MODE_INCREMENTAL, .batch = 1,
				  .max_src = len, .max_tgt = len };
	int made = 0;
	for (; made < N_EXEC; made++) {
		o.act = execs[made].act;
		if (ax_exec_init(&r[made].x, &g, &o, &d) != AX_OK)
			goto free_x;
		if (ax_exec_set_precision(&r[made].x, execs[made].prec, &d) != AX_OK) {
			made++;
			goto free_x;
		}
		ax_exec_init_weights(&r[made].x, 1);
	}
	int32_t src[MAX_LEN];
	uint32_t seed = 51;
	for (int64_t k = 0; k < len; k++) {
		seed = seed * 1664525u + 1013904223u;
		src[k] = 4 + (int32_t)((seed >> 8) % (uint32_t)(cfg->vocab_source - 4));
	}
	for (int k = -1; k < runs; k++) {   /* k = -1: warm-up */
		for (int p = 0; p < N_EXEC; p++) {
			double t, f, s;
			if (!decode_once(&r[p].x, src, len, &t, &f, &s))
				goto free_x;
			if (k >= 0)
				r[p].total[k] = t, r[p].first[k] = f, r[p].steps[k] = s;
		}
		/* the floor is measured between the runs too, under the same
		 * load; its best is the bandwidth the caches can give */
		for (int p = 0; k >= 0 && p < N_EXEC; p++) {
			double bw = stream_bandwidth(step_bytes(&r[p].x));
			r[p].bw = bw > r[p].bw ? bw : r[p].bw;
		}
	}
	print_rows(&g, r, runs, len);
	ok = true;
free_x:
	for (int p = 0; p < made; p++)
		ax_exec_free(&r[p].x);
out:
	if (!ok && d.msg[0])
		fprintf(stderr, "%s: error: %s\n", path, d.msg);
	ax_graph_free(&g);
	free(r);
	free(cfg);
	return ok;
}

int main(int argc, char **argv)
{
	bench_choose_kernel(argv);
	static const struct option lo[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "len", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	long runs = 7, len = 30, threads = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end;
		long v = strtol(optarg ? optarg : "", &end, 10);
		if (opt == '?' || *end || end == optarg)
			goto usage;
		if (opt == 'r')
			runs = v;
		else if (opt == 'l')
			len = v;
		else
			threads = v;
	}
	if (optind >= argc || runs < 1 || runs >= MAX_RUNS || len < 2 ||
	    len > MAX_LEN || threads < 1 || threads > 256)
		goto usage;
	openblas_set_num_threads((int)threads);
	double bw = stream_bandwidth(1024.0 * 1024 * 1024);
	char blas[320];
	bench_describe_kernel(blas, sizeof blas);
	printf("OpenBLAS %s; kernels_q path %s; %ld thread(s); stream bandwidth "
	       "%.1f GB/s (sdot over 1 GiB); batch-1 greedy, %ld source and "
	       "%ld target tokens, %ld interleaved runs\n\n", blas,
	       ax_kq_path_names[ax_kq_path()], threads, bw / 1e9, len, len, runs);
	printf("| config | precision | ms/sentence (median) | spread | vs fp32 | "
	       "first step ms | ms/step after | weight MB/step | stream GB/s at that size | "
	       "of the floor |\n"
	       "|---|---|---|---|---|---|---|---|---|---|\n");
	int rc = 0;
	for (int a = optind; a < argc; a++)
		rc |= !bench_config(argv[a], (int)runs, len);
	return rc;
usage:
	fprintf(stderr, "usage: bench_decode [--runs N=7 (1..%d)] [--len L=30 "
		"(2..%d)] [--threads T=1] CONFIG...\n", MAX_RUNS - 1, MAX_LEN);
	return 2;
}
