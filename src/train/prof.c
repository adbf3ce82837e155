/*
 * prof.c - what a trainer costs (train.h): its memory from the sizes
 * ax_train_init laid out, and the square-sgemm peak its linears are
 * measured against (docs/training.md "Memory and profile").
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#define F32 ((int64_t)sizeof(float))

void ax_train_memory(const struct ax_trainer *t, struct ax_train_memory *m)
{
	int64_t n = t->wx.n_weights, cap = t->max_tokens;
	int64_t nwn = 0;
	for (int32_t i = 0; i < t->g->n_ops; i++)
		if (t->g->ops[i].kind == AX_OP_LIGHTCONV)
			nwn += t->g->ops[i].heads * t->g->ops[i].kernel;
	struct ax_exec_memory em = { 0 };
	struct ax_diag d = { 0 };
	if (ax_exec_memory(t->g, &t->wx.o, &em, &d) != AX_OK)
		em.total = em.weights = 0;
	*m = (struct ax_train_memory){
		.weights = n * F32, .grads = n * F32, .adam = 2 * n * F32,
		.activations = t->plan.total * F32,
		.activation_grads = t->plan.total * F32,
		.other = (t->scratch_size + nwn +
			  (t->hp.weight_dropout > 0.0 ? cap * t->mask_cols : 0) +
			  cap * t->xdrop_cols) * F32 +
			 2 * (cap + 1) * (int64_t)sizeof(int64_t) +
			 3 * cap * (int64_t)sizeof(int32_t) + (em.total - em.weights),
	};
	m->total = m->weights + m->grads + m->adam + m->activations +
		   m->activation_grads + m->other;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ax_train_sgemm_gflops(int64_t n, int reps)
{
	float *a = ax_alloc_floats(n * n), *b = ax_alloc_floats(n * n);
	float *c = ax_alloc_floats(n * n);
	double best = INFINITY;
	if (a && b && c) {
		for (int64_t k = 0; k < n * n; k++) {   /* any finite values */
			a[k] = (float)(k % 7) * 0.125f - 0.375f;
			b[k] = (float)(k % 5) * 0.25f - 0.5f;
		}
		for (int r = 0; r <= reps; r++) {   /* r = 0: warm-up */
			double t0 = now();
			/* c(n,n) = a(n,n) b(n,n)^T, the linears' layout */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n,
				    (int)n, (int)n, 1.0f, a, (int)n, b, (int)n, 0.0f,
				    c, (int)n);
			double dt = now() - t0;
			if (r > 0 && dt < best)
				best = dt;
		}
	}
	free(a), free(b), free(c);
	if (!isfinite(best))
		return NAN;
	return 2.0 * (double)n * (double)n * (double)n / best * 1e-9;
}
