/*
 * bench_score.c - batched teacher-forced scoring throughput, against the
 * sgemm peak measured in the same run.
 *
 * usage: bench_score CONFIG [BATCH=32] [LEN=30] [THREADS=1] [PRECISION=fp32]
 * (PRECISION bf16 or int8: linears on the reduced-precision weights, whose
 * many-row path dequantizes tiles for sgemm; kernels_q.h)
 * Prints one JSON line: the OpenBLAS core, threads, sgemm GFLOP/s (2048^3),
 * and for BATCH x LEN scoring (S = T = LEN): seconds per batch (median of
 * 7), executed MACs, GMAC/s and the fraction of the sgemm peak in MACs
 * (peak GFLOP/s / 2), on the OpenBLAS kernel the archex CLI chooses
 * (bench_cpu.h), named with its source and the CPU.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_cpu.h"
#include "config.h"
#include "exec.h"
#include "graph.h"
#include "model.h"

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

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

static double sgemm_gflops(void)
{
	int n = 2048;
	float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
	      *c = malloc(sizeof(float) * n * n);
	for (long i = 0; i < (long)n * n; i++)
		a[i] = b[i] = 0.001f * (float)(i % 17);
	double best = 1e9;
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n,
			    b, n, 0, c, n);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	free(a), free(b), free(c);
	return 2.0 * n * n * (double)n / best / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_score CONFIG [BATCH] [LEN] [THREADS] [PRECISION]\n");
		return 2;
	}
	bench_choose_kernel(argv);
	struct ax_cpu cpu_info;
	char cpu[160];
	ax_cpu_detect(&cpu_info);
	ax_cpu_describe(&cpu_info, cpu, sizeof cpu);
	int64_t B = argc > 2 ? atoll(argv[2]) : 32, N = argc > 3 ? atoll(argv[3]) : 30;
	int threads = argc > 4 ? atoi(argv[4]) : 1;
	int prec = 0;
	while (argc > 5 && prec < AX_PREC_COUNT && strcmp(argv[5], ax_precision_names[prec]))
		prec++;
	if (prec == AX_PREC_COUNT) {
		fprintf(stderr, "bench_score: precision must be fp32, bf16 or int8\n");
		return 2;
	}
	openblas_set_num_threads(threads);
	static struct ax_config cfg;
	struct ax_diag d = { 0 };
	struct ax_graph g;
	struct ax_exec x;
	ax_graph_init(&g);
	if (ax_config_load(argv[1], &cfg, &d) != AX_OK || ax_model_build(&cfg, &g, &d) != AX_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], d.msg);
		return 1;
	}
	bool lm = cfg.task == AX_TASK_LANGUAGE_MODEL;
	struct ax_exec_opts o = { .mode = AX_MODE_SEQUENCE, .batch = B,
				  .max_src = lm ? 0 : N, .max_tgt = N };
	if (ax_exec_init(&x, &g, &o, &d) != AX_OK) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	if (ax_exec_set_precision(&x, (enum ax_precision)prec, &d) != AX_OK) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	ax_exec_init_weights(&x, 1);
	int32_t *src = malloc((size_t)(B * N) * sizeof *src), *tgt = malloc((size_t)(B * N) * sizeof *tgt);
	for (int64_t i = 0; i < B * N; i++) {
		src[i] = 4 + (int32_t)((i * 7919) % (lm ? 100 : cfg.vocab_source - 4));
		tgt[i] = 4 + (int32_t)((i * 104729) % 100);
	}
	double peak = sgemm_gflops();
	double t[7];
	ax_exec_forward(&x, src, lm ? 0 : N, tgt, N, &d);   /* warm-up */
	ax_exec_reset_counters(&x);
	for (int r = 0; r < 7; r++) {
		double t0 = now();
		if (ax_exec_forward(&x, src, lm ? 0 : N, tgt, N, &d) != AX_OK) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		t[r] = now() - t0;
	}
	int64_t macs = ax_exec_macs(&x, NULL) / 7;
	qsort(t, 7, sizeof t[0], cmp);
	double gmacs = (double)macs / t[3] / 1e9;
	printf("{\"config\":\"%s\",\"precision\":\"%s\",\"core\":\"%s\",\"threads\":%d,\"batch\":%lld,\"len\":%lld,"
	       "\"sgemm_gflops\":%.1f,\"seconds\":%.6f,\"macs\":%lld,\"gmacs\":%.2f,"
	       "\"fraction_of_peak\":%.3f,\"core_source\":\"%s\",\"cpu\":\"%s\"}\n",
	       cfg.name, ax_precision_names[prec], openblas_get_corename(), threads,
	       (long long)B, (long long)N, peak, t[3], (long long)macs, gmacs,
	       gmacs / (peak / 2), ax_cpu_blas_core_source(), cpu);
	if (getenv("AX_PROFILE")) {   /* per op kind, to stderr */
		double tk[AX_OP_KIND_COUNT] = { 0 };
		x.timing = true;
		ax_exec_reset_counters(&x);
		ax_exec_forward(&x, src, lm ? 0 : N, tgt, N, &d);
		for (int32_t i = 0; i < g.n_ops; i++)
			tk[g.ops[i].kind] += x.op_seconds[i];
		for (int k = 0; k < AX_OP_KIND_COUNT; k++)
			if (tk[k] > 0)
				fprintf(stderr, "  %-16s %8.2f ms\n", ax_op_kind_names[k], 1e3 * tk[k]);
	}
	free(src), free(tgt);
	ax_exec_free(&x);
	ax_graph_free(&g);
	return 0;
}
