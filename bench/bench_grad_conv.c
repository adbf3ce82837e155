/*
 * bench_grad_conv.c - fast against reference backward kernels of
 * src/train/grad_conv.h, at model-like shapes and 1 OpenBLAS thread, in
 * one run so the ratios are meaningful.  Prints openblas_get_corename()
 * with the figures.  Usage: bench_grad_conv
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#include "grad_conv.h"
#include "weights.h"


static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *randbuf(int64_t n, uint64_t stream)
{
	float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
	if (!x) {
		fprintf(stderr, "bench_grad_conv: out of memory\n");
		exit(1);
	}
	ax_weights_init_uniform(x, n, 1.0f, 4321, stream);
	return x;
}

/* Best of 3 timed calls after a warm-up. */
static double best3(void (*fn)(void *, bool), void *arg, bool fast)
{
	fn(arg, fast);
	double best = INFINITY;
	for (int i = 0; i < 3; i++) {
		double t0 = now();
		fn(arg, fast);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	return best;
}

struct shapes {
	int64_t N, c, H, K, P, i, o;
	float *x, *dy, *w, *kl, *dx, *dw, *dkl, *scr, *mask;
	struct ax_k_work work;
};

static void run_light(void *p, bool fast)
{
	struct shapes *s = p;
	(fast ? ax_g_lightconv : ax_g_lightconv_ref)(
		s->dx, s->c, s->dw, s->dy, s->c, s->x, s->c, s->w, s->mask,
		s->H * s->K, s->N, s->c, s->H, s->K, s->P, s->scr, &s->work);
}

static void run_dyn(void *p, bool fast)
{
	struct shapes *s = p;
	(fast ? ax_g_dynconv : ax_g_dynconv_ref)(
		s->dx, s->c, s->dkl, s->H * s->K, s->dy, s->c, s->x, s->c, s->kl,
		s->H * s->K, s->mask, s->H * s->K, s->N, s->c, s->H, s->K, s->P,
		s->scr, &s->work);
}

static void run_dw(void *p, bool fast)
{
	struct shapes *s = p;
	(fast ? ax_g_dwconv : ax_g_dwconv_ref)(s->dx, s->c, s->dw, s->dy, s->c,
					       s->x, s->c, s->w, s->N, s->c, s->K,
					       s->P, &s->work);
}

static void run_conv1d(void *p, bool fast)
{
	struct shapes *s = p;
	(fast ? ax_g_conv1d : ax_g_conv1d_ref)(s->dx, s->i, s->dw, s->kl, s->dy,
					       s->o, s->x, s->i, s->w, s->N, s->i,
					       s->o, s->K, s->P, s->scr, &s->work);
}

struct adaptive {
	int64_t N, d, nb;
	struct ax_k_band bands[3];
	struct ax_g_band_grad gb[3];
	float *h, *dh, *dy, *W_cls, *dW_cls, *scr;
	int32_t *tok;
	struct ax_k_work work;
};

static void run_ain(void *p, bool fast)
{
	struct adaptive *a = p;
	(fast ? ax_g_adaptive_input : ax_g_adaptive_input_ref)(
		a->gb, a->dy, a->d, a->tok, a->bands, a->nb, a->N, a->d,
		sqrtf((float)a->d), 1, a->scr, &a->work);
}

static void run_asm(void *p, bool fast)
{
	struct adaptive *a = p;
	double loss = 0.0;
	(fast ? ax_g_adaptive_softmax : ax_g_adaptive_softmax_ref)(
		a->dh, a->d, a->gb, a->dW_cls, &loss, 1.0f, a->tok, a->h, a->d,
		a->bands, a->nb, a->W_cls, a->N, a->d, 1, a->scr, &a->work);
}

static void report(const char *name, const char *shape,
		   void (*fn)(void *, bool), void *arg, struct ax_k_work *w)
{
	w->macs = w->skipped = 0;
	fn(arg, true);
	int64_t macs = w->macs;
	double tr = best3(fn, arg, false), tf = best3(fn, arg, true);
	printf("%-18s %-34s %9.3f %9.3f %7.1fx %7.2f\n", name, shape, tr * 1e3,
	       tf * 1e3, tr / tf, (double)macs * 2e-9 / tf);
}

static void bench_convs(void)
{
	struct shapes s = { .N = 30, .c = 512, .H = 8, .K = 7, .P = 6,
			    .i = 512, .o = 256 };
	int64_t big = 30 * 2048 * 9;
	s.x = randbuf(big, 1), s.dy = randbuf(big, 2), s.dx = randbuf(big, 3);
	s.w = randbuf(256 * 512 * 3, 4), s.dw = randbuf(256 * 512 * 3, 5);
	s.kl = randbuf(30 * 8 * 31, 6), s.dkl = randbuf(30 * 8 * 31, 7);
	s.scr = randbuf(big, 8);
	s.mask = NULL;
	report("lightconv", "N30 c512 H8 K7 causal", run_light, &s, &s.work);
	s.K = 31, s.P = 30;
	report("lightconv", "N30 c512 H8 K31 causal", run_light, &s, &s.work);
	s.K = 7, s.P = 6;
	report("dynconv", "N30 c512 H8 K7 causal", run_dyn, &s, &s.work);
	s.K = 31, s.P = 15;
	report("dynconv", "N30 c512 H8 K31 centred", run_dyn, &s, &s.work);
	s.c = 2048, s.K = 9, s.P = 4;
	report("dwconv", "N30 c2048 K9 centred", run_dw, &s, &s.work);
	s.K = 3, s.P = 1;
	report("conv1d", "N30 i512 o256 K3 centred", run_conv1d, &s, &s.work);
	free(s.x), free(s.dy), free(s.dx), free(s.w), free(s.dw), free(s.kl);
	free(s.dkl), free(s.scr);
}

static void bench_adaptive(void)
{
	struct adaptive a = { .N = 64, .d = 512, .nb = 3 };
	int64_t sizes[3] = {2000, 4000, 8000}, dims[3] = {512, 128, 32};
	int64_t start = 0;
	for (int b = 0; b < 3; b++) {
		a.bands[b] = (struct ax_k_band){
			.start = start, .size = sizes[b], .dim = dims[b],
			.table = randbuf(sizes[b] * dims[b], 10 + b),
			.proj = randbuf(a.d * dims[b], 20 + b),
			.proj_layout = AX_K_PROJ_D_DB };
		a.gb[b] = (struct ax_g_band_grad){
			randbuf(sizes[b] * dims[b], 30 + b),
			randbuf(a.d * dims[b], 40 + b) };
		start += sizes[b];
	}
	a.tok = malloc((size_t)a.N * sizeof *a.tok);
	for (int64_t j = 0; j < a.N; j++)   /* a Zipf-like mix of bands */
		a.tok[j] = (int32_t)(j % 4 == 3 ? 6000 + j * 97 % 8000 :
				     j % 4 == 2 ? 2000 + j * 31 % 4000 : j * 7 % 2000);
	a.h = randbuf(a.N * a.d, 50), a.dh = randbuf(a.N * a.d, 51);
	a.dy = randbuf(a.N * a.d, 52);
	a.W_cls = randbuf(2 * a.d, 53), a.dW_cls = randbuf(2 * a.d, 54);
	int64_t ns = ax_g_adaptive_softmax_scratch(a.N, a.bands, a.nb);
	int64_t ni = ax_g_adaptive_input_scratch(a.N, a.d, a.bands, a.nb);
	a.scr = randbuf(ns > ni ? ns : ni, 55);
	report("adaptive_input", "N64 d512 bands 2k/4k/8k", run_ain, &a, &a.work);
	report("adaptive_softmax", "N64 d512 bands 2k/4k/8k", run_asm, &a, &a.work);
	for (int b = 0; b < 3; b++) {
		free((float *)a.bands[b].table), free((float *)a.bands[b].proj);
		free(a.gb[b].dtable), free(a.gb[b].dproj);
	}
	free(a.tok), free(a.h), free(a.dh), free(a.dy), free(a.W_cls);
	free(a.dW_cls), free(a.scr);
}

int main(void)
{
	openblas_set_num_threads(1);
	printf("bench_grad_conv: OpenBLAS core %s, 1 thread\n",
	       openblas_get_corename());
	printf("%-18s %-34s %9s %9s %8s %7s\n", "kernel", "shape", "ref ms",
	       "fast ms", "ratio", "GFLOP/s");
	bench_convs();
	bench_adaptive();
	return 0;
}
