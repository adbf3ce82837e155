/*
 * bench_score.c - batched teacher-forced scoring throughput at each
 * precision, against the sgemm peak measured in the same process,
 * interleaved with the scoring runs.
 *
 * usage: bench_score [--rounds R] CONFIG [BATCH=32] [LEN=30] [THREADS=1]
 *                    [PRECISIONS=fp32]
 * PRECISIONS is a comma list of fp32, bf16, int8 (bf16/int8: linears,
 * embeddings and adaptive tables on the reduced-precision weights; many
 * rows run as dequantized tiles through sgemm, kernels_q.h).
 *
 * One executor per precision scores BATCH sentences of S = T = LEN tokens.
 * After a warm-up, each of R rounds (default 7) times the sgemm peak
 * (square 2048 product, best of 2 calls) and then one forward pass per
 * precision, the precision order rotating per round, so the load the peak
 * sees is the load the scoring sees. Per precision: the median seconds
 * and spread, executed MACs, GMAC/s at the median, and the fraction of
 * the peak, the median over rounds of (MACs / t_r) / (peak_r / 2) (a
 * multiply-add is 2 flops).
 *
 * OMP_WAIT_POLICY defaults to passive (set, then one re-exec), so the
 * OpenMP threads of the row-wise ops do not spin against OpenBLAS's.
 *
 * stdout: one JSON line per precision (fields as before, plus the
 * spreads and rounds); stderr: the OpenBLAS kernel and CPU, the load
 * average, and one markdown table row per precision. AX_PROFILE=1 adds
 * the time per op kind of one more pass per precision (stderr).
 */
#define _DEFAULT_SOURCE   /* getloadavg */
#include <cblas.h>
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
char *openblas_get_corename(void);

#define MAX_ROUNDS 64

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

/* median of v[0..n) (sorted in place), and its min and max */
static double median(double *v, int n, double *lo, double *hi)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	*lo = v[0], *hi = v[n - 1];
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The sgemm peak: square n^3 products a (n, n) b (n, n), best of 2. */
struct peak {
	int n;
	float *a, *b, *c;
};

static double peak_gflops(const struct peak *p)
{
	double best = 1e30;
	for (int r = 0; r < 2; r++) {
		double t0 = now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p->n, p->n,
			    p->n, 1, p->a, p->n, p->b, p->n, 0, p->c, p->n);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	return 2.0 * p->n * p->n * (double)p->n / best / 1e9;
}

/* One executor per precision, and its timings. */
struct variant {
	enum ax_precision prec;
	struct ax_exec x;
	double t[MAX_ROUNDS], frac[MAX_ROUNDS];
	int64_t macs;   /* per pass */
};

struct setup {
	struct ax_config cfg;
	struct ax_graph g;
	int64_t B, N;
	bool lm;
	int32_t *src, *tgt;   /* (B, N) each */
};

static int parse_precisions(const char *s, struct variant *v, int *nv)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	*nv = 0;
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		int p = 0;
		while (p < AX_PREC_COUNT && strcmp(tok, ax_precision_names[p]))
			p++;
		if (p == AX_PREC_COUNT || *nv == AX_PREC_COUNT)
			return -1;
		v[(*nv)++].prec = (enum ax_precision)p;
	}
	return *nv > 0 ? 0 : -1;
}

static int forward(struct setup *s, struct variant *v, struct ax_diag *d)
{
	if (ax_exec_forward(&v->x, s->src, s->lm ? 0 : s->N, s->tgt, s->N, d) != AX_OK) {
		fprintf(stderr, "bench_score: %s\n", d->msg);
		return -1;
	}
	return 0;
}

/* Lays out the executor at v->prec (quantized at load) with seed weights. */
static int make_variant(struct setup *s, struct variant *v, struct ax_diag *d)
{
	struct ax_exec_opts o = { .mode = AX_MODE_SEQUENCE, .batch = s->B,
				  .max_src = s->lm ? 0 : s->N, .max_tgt = s->N,
				  .precision = v->prec };
	if (ax_exec_init(&v->x, &s->g, &o, d) != AX_OK) {
		fprintf(stderr, "bench_score: %s\n", d->msg);
		return -1;
	}
	ax_exec_init_weights(&v->x, 1);
	if (forward(s, v, d))   /* warm-up, and the MACs of one pass */
		return -1;
	v->macs = ax_exec_macs(&v->x, NULL);
	return 0;
}

static void profile(struct setup *s, struct variant *v, struct ax_diag *d)
{
	double tk[AX_OP_KIND_COUNT] = { 0 };
	v->x.timing = true;
	if (forward(s, v, d))
		return;
	for (int32_t i = 0; i < s->g.n_ops; i++)
		tk[s->g.ops[i].kind] += v->x.op_seconds[i];
	fprintf(stderr, "profile %s:\n", ax_precision_names[v->prec]);
	for (int k = 0; k < AX_OP_KIND_COUNT; k++)
		if (tk[k] > 0)
			fprintf(stderr, "  %-16s %8.2f ms\n", ax_op_kind_names[k], 1e3 * tk[k]);
	v->x.timing = false;
}

static void report(const struct setup *s, struct variant *v, int rounds,
		   int threads, double pk, double pk_lo, double pk_hi,
		   const char *cpu)
{
	double lo, hi, flo, fhi;
	double t = median(v->t, rounds, &lo, &hi);
	double f = median(v->frac, rounds, &flo, &fhi);
	double gmacs = (double)v->macs / t / 1e9;
	printf("{\"config\":\"%s\",\"precision\":\"%s\",\"core\":\"%s\",\"threads\":%d,"
	       "\"batch\":%lld,\"len\":%lld,\"rounds\":%d,\"sgemm_gflops\":%.1f,"
	       "\"sgemm_gflops_min\":%.1f,\"sgemm_gflops_max\":%.1f,\"seconds\":%.6f,"
	       "\"seconds_min\":%.6f,\"seconds_max\":%.6f,\"macs\":%lld,\"gmacs\":%.2f,"
	       "\"fraction_of_peak\":%.3f,\"fraction_min\":%.3f,\"fraction_max\":%.3f,"
	       "\"kq_path\":\"%s\",\"core_source\":\"%s\",\"cpu\":\"%s\"}\n",
	       s->cfg.name, ax_precision_names[v->prec], openblas_get_corename(),
	       threads, (long long)s->B, (long long)s->N, rounds, pk, pk_lo, pk_hi,
	       t, lo, hi, (long long)v->macs, gmacs, f, flo, fhi,
	       ax_kq_path_names[ax_kq_path()], ax_cpu_blas_core_source(), cpu);
	fprintf(stderr, "| %s | %d | %s | %.0f | %.0f..%.0f | %.1f | %.0f | %.0f%% | %.0f..%.0f%% |\n",
		s->cfg.name, threads, ax_precision_names[v->prec], 1e3 * t, 1e3 * lo,
		1e3 * hi, gmacs, pk, 100 * f, 100 * flo, 100 * fhi);
}

static int run(struct setup *s, struct variant *v, int nv, int rounds,
	       int threads, const char *cpu)
{
	struct ax_diag d = { 0 };
	for (int k = 0; k < nv; k++)
		if (make_variant(s, &v[k], &d))
			return 1;
	struct peak p = { .n = 2048 };
	size_t nn = (size_t)p.n * (size_t)p.n;
	p.a = malloc(nn * sizeof *p.a), p.b = malloc(nn * sizeof *p.b);
	p.c = malloc(nn * sizeof *p.c);
	if (!p.a || !p.b || !p.c)
		return fprintf(stderr, "bench_score: out of memory\n"), 1;
	for (size_t i = 0; i < nn; i++)
		p.a[i] = p.b[i] = 0.001f * (float)(i % 17);
	double pk[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		pk[r] = peak_gflops(&p);
		for (int j = 0; j < nv; j++) {
			struct variant *w = &v[(j + r) % nv];   /* rotating order */
			double t0 = now();
			if (forward(s, w, &d))
				return 1;
			w->t[r] = now() - t0;
			w->frac[r] = (double)w->macs / w->t[r] / 1e9 / (pk[r] / 2);
		}
	}
	free(p.a), free(p.b), free(p.c);
	double lo, hi, pkm = median(pk, rounds, &lo, &hi);
	fprintf(stderr, "| model | threads | precision | ms (median) | spread | GMAC/s | "
			"sgemm GFLOP/s | of sgemm peak | spread |\n|---|---|---|---|---|---|---|---|---|\n");
	for (int k = 0; k < nv; k++)
		report(s, &v[k], rounds, threads, pkm, lo, hi, cpu);
	if (getenv("AX_PROFILE"))
		for (int k = 0; k < nv; k++)
			profile(s, &v[k], &d);
	return 0;
}

int main(int argc, char **argv)
{
	/* OpenMP's idle threads (the row-wise ops) must not spin against
	 * OpenBLAS's; libgomp reads the policy at load, hence a re-exec */
	if (!getenv("OMP_WAIT_POLICY")) {
		setenv("OMP_WAIT_POLICY", "passive", 1);
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n > 0) {
			self[n] = 0;
			execv(self, argv);
		}
	}
	bench_choose_kernel(argv);
	int a = 1, rounds = 7;
	if (argc > 2 && !strcmp(argv[1], "--rounds")) {
		rounds = atoi(argv[2]);
		a = 3;
	}
	if (argc - a < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_score [--rounds R (1..%d)] CONFIG [BATCH=32] "
				"[LEN=30] [THREADS=1] [PRECISIONS=fp32,bf16,int8 list; fp32]\n",
			MAX_ROUNDS);
		return 2;
	}
	static struct setup s;
	static struct variant v[AX_PREC_COUNT];
	int nv;
	s.B = argc > a + 1 ? atoll(argv[a + 1]) : 32;
	s.N = argc > a + 2 ? atoll(argv[a + 2]) : 30;
	int threads = argc > a + 3 ? atoi(argv[a + 3]) : 1;
	if (parse_precisions(argc > a + 4 ? argv[a + 4] : "fp32", v, &nv) ||
	    s.B < 1 || s.N < 1 || threads < 1) {
		fprintf(stderr, "bench_score: BATCH, LEN, THREADS >= 1; PRECISIONS a "
				"comma list of fp32, bf16, int8\n");
		return 2;
	}
	openblas_set_num_threads(threads);
	struct ax_diag d = { 0 };
	ax_graph_init(&s.g);
	if (ax_config_load(argv[a], &s.cfg, &d) != AX_OK ||
	    ax_model_build(&s.cfg, &s.g, &d) != AX_OK) {
		fprintf(stderr, "%s: %s\n", argv[a], d.msg);
		return 1;
	}
	s.lm = s.cfg.task == AX_TASK_LANGUAGE_MODEL;
	s.src = malloc((size_t)(s.B * s.N) * sizeof *s.src);
	s.tgt = malloc((size_t)(s.B * s.N) * sizeof *s.tgt);
	for (int64_t i = 0; i < s.B * s.N; i++) {
		s.src[i] = 4 + (int32_t)((i * 7919) % (s.lm ? 100 : s.cfg.vocab_source - 4));
		s.tgt[i] = 4 + (int32_t)((i * 104729) % 100);
	}
	struct ax_cpu ci;
	char cpu[160], kern[256];
	double load[3] = { 0 };
	ax_cpu_detect(&ci);
	ax_cpu_describe(&ci, cpu, sizeof cpu);
	bench_describe_kernel(kern, sizeof kern);
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	fprintf(stderr, "bench_score: OpenBLAS %s; kernels_q path %s; %d thread(s), "
			"OMP_WAIT_POLICY=%s; %lld x %lld tokens, %d rounds; load average %.2f\n",
		kern, ax_kq_path_names[ax_kq_path()], threads, getenv("OMP_WAIT_POLICY"),
		(long long)s.B, (long long)s.N, rounds, load[0]);
	int rc = run(&s, v, nv, rounds, threads, cpu);
	for (int k = 0; k < nv; k++)
		ax_exec_free(&v[k].x);
	free(s.src), free(s.tgt);
	ax_graph_free(&s.g);
	return rc;
}
