/*
 * bench_sgemm.c - what OpenBLAS delivers on this machine for the shapes
 * archex runs, and what the fast kernels gain over their references, all
 * measured in one run so the ratios are meaningful (docs/performance.md).
 *
 *   1. sgemm GFLOP/s for a large square product and for model-like shapes
 *      (M = 32 sentences x 30 tokens, d = 512 <-> 2048), M = 1 sgemm
 *      against sgemv, at 1 and 2 OpenBLAS threads, with a ratio table.
 *   2. fast vs reference kernels at d = 512, N = 30 (linear, attention,
 *      the convolutions), 1 thread.
 *   3. one decoding step's linears (M = 1) on reduced-precision weights
 *      (kernels_q.h): fp32 sgemv against int8, bf16 and int8 with int8
 *      and 16-bit activations (int8/a8, int8/a16) on the best path
 *      this CPU has and on the portable one, with the weight stream in
 *      GB/s, 1 thread.
 *
 * Runs on the OpenBLAS kernel the archex CLI chooses (bench_cpu.h: a
 * re-execution with OPENBLAS_CORETYPE when OpenBLAS fell back to a generic
 * kernel; a value set by the user is kept) and prints that kernel, who
 * chose it and the CPU with the figures. To measure another kernel, set
 * OPENBLAS_CORETYPE (e.g. Prescott, the fallback, for a before/after).
 * Usage: bench_sgemm [--quick]
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_cpu.h"
#include "kernels.h"
#include "kernels_q.h"
#include "weights.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double min_seconds = 0.25;

/* Best time of one call of fn(arg) over repetitions lasting at least
 * min_seconds in total (and at least 3), after one warm-up call. */
static double best_time(void (*fn)(void *), void *arg)
{
	fn(arg);
	double best = INFINITY, start = now();
	int reps = 0;
	while (reps < 3 || now() - start < min_seconds) {
		double t0 = now();
		fn(arg);
		double t = now() - t0;
		best = t < best ? t : best;
		reps++;
	}
	return best;
}

static float *randbuf(int64_t n, uint64_t stream)
{
	float *x = malloc((size_t)n * sizeof *x);
	if (!x) {
		fprintf(stderr, "bench_sgemm: out of memory\n");
		exit(1);
	}
	ax_weights_init_uniform(x, n, 1.0f, 1234, stream);
	return x;
}

/* --- part 1: raw BLAS -------------------------------------------------------- */

struct gemm {
	int M, N, K;
	bool gemv;          /* M == 1 through sgemv */
	float *A, *B, *C;   /* A (M,K), B (N,K) as a (out,in) weight, C (M,N) */
};

static void run_gemm(void *p)
{
	struct gemm *g = p;
	if (g->gemv)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, g->N, g->K, 1.0f, g->B,
			    g->K, g->A, 1, 0.0f, g->C, 1);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->M, g->N,
			    g->K, 1.0f, g->A, g->K, g->B, g->K, 0.0f, g->C, g->N);
}

struct shape {
	const char *name;
	int M, N, K;
	bool gemv;
};

static const struct shape shapes[] = {
	{"square 2048",            2048, 2048, 2048, false},
	{"fc1 960x512->2048",       960, 2048,  512, false},
	{"fc2 960x2048->512",       960,  512, 2048, false},
	{"q/k/v 960x512->512",      960,  512,  512, false},
	{"M=1 512->2048 sgemm",       1, 2048,  512, false},
	{"M=1 512->2048 sgemv",       1, 2048,  512, true},
	{"M=1 2048->512 sgemm",       1,  512, 2048, false},
	{"M=1 2048->512 sgemv",       1,  512, 2048, true},
	{"M=1 512->32768 sgemm",      1, 32768, 512, false},
	{"M=1 512->32768 sgemv",      1, 32768, 512, true},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

static void bench_blas(const char *core, double gflops[][2])
{
	printf("\n== OpenBLAS sgemm/sgemv (RowMajor, NoTrans x Trans (out,in) "
	       "weights), best of >= %.2f s ==\n", min_seconds);
	printf("%-24s %6s %6s %6s %10s %10s  %s\n", "shape", "M", "N", "K",
	       "1 thread", "2 threads", "core");
	for (size_t s = 0; s < N_SHAPES; s++) {
		const struct shape *sh = &shapes[s];
		struct gemm g = {sh->M, sh->N, sh->K, sh->gemv,
				 randbuf((int64_t)sh->M * sh->K, 1),
				 randbuf((int64_t)sh->N * sh->K, 2),
				 randbuf((int64_t)sh->M * sh->N, 3)};
		double flop = 2.0 * sh->M * sh->N * sh->K;
		for (int t = 1; t <= 2; t++) {
			openblas_set_num_threads(t);
			gflops[s][t - 1] = flop / best_time(run_gemm, &g) * 1e-9;
		}
		printf("%-24s %6d %6d %6d %10.1f %10.1f  %s\n", sh->name, sh->M,
		       sh->N, sh->K, gflops[s][0], gflops[s][1], core);
		free(g.A), free(g.B), free(g.C);
	}
	printf("\n== ratios (GFLOP/s over GFLOP/s, same run) ==\n");
	printf("%-44s %8s %8s\n", "", "1 thr", "2 thr");
	for (size_t s = 0; s < N_SHAPES; s++)
		if (shapes[s].M > 1)
			printf("%-44s %8.2f %8.2f\n", shapes[s].name,
			       gflops[s][0] / gflops[0][0],
			       gflops[s][1] / gflops[0][1]);
	printf("  (each shape relative to square 2048 at the same threads)\n");
	for (size_t s = 0; s + 1 < N_SHAPES; s++)
		if (shapes[s].M == 1 && !shapes[s].gemv && shapes[s + 1].gemv)
			printf("M=1 sgemv / sgemm, %.*s%*s %8.2f %8.2f\n",
			       (int)(strlen(shapes[s].name) - 10), shapes[s].name + 4,
			       (int)(35 - strlen(shapes[s].name)), "",
			       gflops[s + 1][0] / gflops[s][0],
			       gflops[s + 1][1] / gflops[s][1]);
	for (size_t s = 0; s < N_SHAPES; s++)
		printf("2 threads / 1 thread, %-22s %8.2f\n", shapes[s].name,
		       gflops[s][1] / gflops[s][0]);
}

/* --- part 2: fast vs reference kernels ---------------------------------------- */

enum kop { K_LINEAR, K_ATT, K_LIGHT, K_DYN, K_DW, K_CONV1D };

struct kcase {
	const char *name;
	enum kop op;
	int64_t N, Nk, i, o, H, K;
	bool causal;
	bool fast;
	float *in, *W, *b, *out, *k, *v, *scr;
};

static void run_kernel(void *p)
{
	struct kcase *c = p;
	switch (c->op) {
	case K_LINEAR:
		(c->fast ? ax_k_linear : ax_k_linear_ref)(c->out, c->o, c->in, c->i,
							  c->W, c->b, c->N, c->i, c->o, NULL);
		break;
	case K_ATT:
		(c->fast ? ax_k_attention : ax_k_attention_ref)(
			c->out, c->i, c->in, c->i, c->k, c->i, c->v, c->i, c->N,
			c->Nk, c->i, c->H, c->causal,
			c->causal && c->N == 1 ? c->Nk - 1 : 0, c->scr, NULL);
		break;
	case K_LIGHT:
		(c->fast ? ax_k_lightconv : ax_k_lightconv_ref)(
			c->out, c->i, c->in, c->i, c->W, c->N, c->i, c->H, c->K,
			c->K - 1, NULL);
		break;
	case K_DYN:
		(c->fast ? ax_k_dynconv : ax_k_dynconv_ref)(
			c->out, c->i, c->in, c->i, c->k, c->H * c->K, c->N, c->i,
			c->H, c->K, c->K - 1, c->scr, NULL);
		break;
	case K_DW:
		(c->fast ? ax_k_dwconv : ax_k_dwconv_ref)(
			c->out, c->i, c->in, c->i, c->W, c->N, c->i, c->K, c->K / 2,
			NULL);
		break;
	case K_CONV1D:
		(c->fast ? ax_k_conv1d : ax_k_conv1d_ref)(
			c->out, c->o, c->in, c->i, c->W, c->b, c->N, c->i, c->o,
			c->K, c->K / 2, c->scr, NULL);
		break;
	}
}

static void bench_kernels(const char *core)
{
	static struct kcase cases[] = {
		{.name = "linear 30x512->2048", .op = K_LINEAR,
		 .N = 30, .Nk = 0, .i = 512, .o = 2048,
		 .H = 0, .K = 0, .causal = false},
		{.name = "linear 1x512->2048", .op = K_LINEAR,
		 .N = 1, .Nk = 0, .i = 512, .o = 2048,
		 .H = 0, .K = 0, .causal = false},
		{.name = "attention 30x30 H=8 causal", .op = K_ATT,
		 .N = 30, .Nk = 30, .i = 512, .o = 0,
		 .H = 8, .K = 0, .causal = true},
		{.name = "attention 1x30 H=8 (step)", .op = K_ATT,
		 .N = 1, .Nk = 30, .i = 512, .o = 0,
		 .H = 8, .K = 0, .causal = true},
		{.name = "lightconv 30x512 H=8 K=31", .op = K_LIGHT,
		 .N = 30, .Nk = 0, .i = 512, .o = 0,
		 .H = 8, .K = 31, .causal = true},
		{.name = "dynconv 30x512 H=8 K=31", .op = K_DYN,
		 .N = 30, .Nk = 0, .i = 512, .o = 0,
		 .H = 8, .K = 31, .causal = true},
		{.name = "dwconv 30x512 K=7", .op = K_DW,
		 .N = 30, .Nk = 0, .i = 512, .o = 0,
		 .H = 0, .K = 7, .causal = false},
		{.name = "conv1d 30x512->256 K=3", .op = K_CONV1D,
		 .N = 30, .Nk = 0, .i = 512, .o = 256,
		 .H = 0, .K = 3, .causal = false},
	};
	openblas_set_num_threads(1);
	printf("\n== fast vs reference kernels, d = 512, 1 OpenBLAS thread ==\n");
	printf("%-30s %12s %12s %9s  %s\n", "kernel", "ref us", "fast us",
	       "speed-up", "core");
	for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
		struct kcase *c = &cases[s];
		int64_t rows = c->Nk > c->N ? c->Nk : c->N;
		int64_t wcols = c->op == K_CONV1D ? c->K * c->i : c->i;
		int64_t wrows = c->op == K_LINEAR ? c->o : c->op == K_CONV1D ? c->o :
				c->op == K_DW ? c->K : c->H;
		if (c->op == K_LIGHT)
			wcols = c->K;
		c->in = randbuf(rows * c->i, 10);
		c->W = randbuf(wrows * wcols + 1, 11);
		c->b = randbuf(c->o + 1, 12);
		c->out = randbuf(rows * (c->o > c->i ? c->o : c->i), 13);
		c->k = randbuf(rows * (c->i > c->H * c->K ? c->i : c->H * c->K), 14);
		c->v = randbuf(rows * c->i, 15);
		int64_t scr = ax_k_attention_scratch(c->N, c->Nk, c->H);
		int64_t s2 = ax_k_conv1d_scratch(c->N, c->i, c->K);
		int64_t s3 = ax_k_dynconv_scratch(c->H, c->K);
		scr = scr > s2 ? scr : s2;
		scr = scr > s3 ? scr : s3;
		c->scr = randbuf(scr + 1, 16);
		c->fast = false;
		double tr = best_time(run_kernel, c);
		c->fast = true;
		double tf = best_time(run_kernel, c);
		printf("%-30s %12.2f %12.2f %8.1fx  %s\n", c->name, tr * 1e6,
		       tf * 1e6, tr / tf, core);
		free(c->in), free(c->W), free(c->b), free(c->out), free(c->k);
		free(c->v), free(c->scr);
	}
}

/* One M = 1 linear at a precision: 0 fp32 sgemv, 1 int8, 2 bf16, 3 int8
 * weights with int8 activations, 4 with 16-bit activations. */
struct qcase {
	int prec;
	int64_t i, o;
	float *x, *W, *sc, *y;
	void *scratch;   /* ax_kq_dyn_scratch and ax_kq_a16_scratch (1, i) bytes */
	int8_t *q;
	uint16_t *h;
};

static void run_q(void *p)
{
	struct qcase *c = p;
	if (c->prec == 0)
		ax_k_linear(c->y, c->o, c->x, c->i, c->W, NULL, 1, c->i, c->o, NULL);
	else if (c->prec == 1)
		ax_k_linear_q8(c->y, c->o, c->x, c->i, c->q, c->sc, NULL, 1, c->i, c->o, NULL);
	else if (c->prec == 2)
		ax_k_linear_bf16(c->y, c->o, c->x, c->i, c->h, NULL, 1, c->i, c->o, NULL);
	else if (c->prec == 3)
		ax_k_linear_q8_dyn(c->y, c->o, c->x, c->i, c->q, c->sc, NULL, 1,
				   c->i, c->o, c->scratch, NULL);
	else
		ax_k_linear_q8_a16(c->y, c->o, c->x, c->i, c->q, c->sc, NULL, 1,
				   c->i, c->o, c->scratch, NULL);
}

static void bench_precision(const char *core)
{
	static const int64_t qs[][2] = { { 512, 2048 }, { 2048, 512 }, { 512, 32768 } };
	enum ax_kq_path best = ax_kq_path();
	openblas_set_num_threads(1);
	printf("\n== M=1 linear on reduced-precision weights (kernels_q, best path %s), "
	       "1 thread ==\n%-22s %-13s %10s %10s %8s  %s\n", ax_kq_path_names[best],
	       "shape i->o", "weights", "us", "GB/s", "vs fp32", "core");
	for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
		struct qcase c = { .i = qs[k][0], .o = qs[k][1] };
		c.x = randbuf(c.i, 1);
		c.W = randbuf(c.i * c.o, 2);
		c.sc = malloc((size_t)c.o * sizeof *c.sc);
		c.y = malloc((size_t)c.o * sizeof *c.y);
		c.q = malloc((size_t)(c.i * c.o));
		c.h = malloc((size_t)(c.i * c.o) * sizeof *c.h);
		int64_t scr = ax_kq_dyn_scratch(1, c.i), s16 = ax_kq_a16_scratch(1, c.i);
		c.scratch = malloc((size_t)(scr > s16 ? scr : s16));
		if (!c.sc || !c.y || !c.q || !c.h || !c.scratch)
			exit(1);
		ax_q8_quantize(c.q, c.sc, c.W, c.o, c.i);
		ax_bf16_from_f32(c.h, c.W, c.i * c.o);
		double t32 = 0;
		static const char *const names[] = { "fp32", "int8", "bf16", "int8/a8", "int8/a16" };
		static const int bytes[] = { 4, 1, 2, 1, 1 };
		for (int prec = 0; prec < 5; prec++)
			for (int port = 0; port < (prec ? 2 : 1); port++) {
				ax_kq_set_path(port ? AX_KQ_PORTABLE : AX_KQ_AUTO);
				c.prec = prec;
				double t = best_time(run_q, &c);
				t32 = prec ? t32 : t;
				char shape[32], w[16];
				snprintf(shape, sizeof shape, "%lld->%lld", (long long)c.i, (long long)c.o);
				snprintf(w, sizeof w, "%s%s", names[prec], port ? "/port" : "");
				printf("%-22s %-13s %10.1f %10.2f %7.2fx  %s\n", shape, w, t * 1e6,
				       (double)(bytes[prec] * c.i * c.o) / t / 1e9, t32 / t, core);
			}
		ax_kq_set_path(AX_KQ_AUTO);
		free(c.x), free(c.W), free(c.sc), free(c.y), free(c.q), free(c.h);
		free(c.scratch);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0)
		min_seconds = 0.02;
	else if (argc > 1) {
		fprintf(stderr, "usage: bench_sgemm [--quick]\n");
		return 2;
	}
	bench_choose_kernel(argv);
	const char *core = openblas_get_corename();
	char kernel[320];
	bench_describe_kernel(kernel, sizeof kernel);
	printf("OpenBLAS core: %s; max threads %d\n", kernel,
	       openblas_get_num_threads());
	static double gflops[N_SHAPES][2];
	bench_blas(core, gflops);
	bench_kernels(core);
	bench_precision(core);
	return 0;
}
