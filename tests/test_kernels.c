/*
 * test_kernels.c - every fast kernel against its reference on seeded
 * random inputs (several shapes, N = 1, strided column views), plus small
 * hand-checked cases for the semantics docs/models.md fixes: sinusoid values,
 * causal and centred conv taps, dynamic-conv softmax before dropping
 * edge taps, ring-buffer steps equal to sequence rows, the attention
 * causal mask, and log-softmax normalisation; and the work every kernel
 * counts (struct ax_k_work): performed + skipped is the `exact` count,
 * fast and reference agree on it, and the padding-skipping convs count
 * exactly the out-of-range taps as skipped.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels.h"

/* --- helpers ------------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static float rng_uniform(void)   /* [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

/* An (n, ld) buffer: the first w columns random, the rest a sentinel. */
#define SENTINEL 12345.0f
static float *rand_mat(int64_t n, int64_t w, int64_t ld)
{
	float *x = malloc((size_t)(n * ld + 1) * sizeof *x);
	assert_non_null(x);
	for (int64_t r = 0; r < n; r++)
		for (int64_t c = 0; c < ld; c++)
			x[r * ld + c] = c < w ? rng_uniform() : SENTINEL;
	return x;
}

static float *sentinel_mat(int64_t n, int64_t ld)
{
	float *x = malloc((size_t)(n * ld + 1) * sizeof *x);
	assert_non_null(x);
	for (int64_t k = 0; k < n * ld; k++)
		x[k] = SENTINEL;
	return x;
}

/* Fails unless |got - want| <= atol + rtol |want| everywhere in the
 * (n, w) views and the columns [w, ld) of got still hold the sentinel;
 * prints the worst element first. */
static void check_close_(const char *what, const float *got, int64_t ldg,
			 const float *want, int64_t ldw, int64_t n, int64_t w,
			 double rtol, double atol, const char *file, int line)
{
	double worst = -1.0;
	int64_t wr = -1, wc = -1;
	for (int64_t r = 0; r < n; r++)
		for (int64_t c = 0; c < w; c++) {
			double g = got[r * ldg + c], e = want[r * ldw + c];
			double excess = fabs(g - e) - (atol + rtol * fabs(e));
			if (isnan(g) != isnan(e))
				excess = INFINITY;
			if (excess > worst) {
				worst = excess;
				wr = r;
				wc = c;
			}
		}
	if (worst > 0.0) {
		print_error("%s:%d: %s: worst mismatch at (%lld,%lld): got %.9g "
			    "want %.9g (rtol %g atol %g)\n", file, line, what,
			    (long long)wr, (long long)wc,
			    (double)got[wr * ldg + wc], (double)want[wr * ldw + wc],
			    rtol, atol);
		fail();
	}
	for (int64_t r = 0; r < n; r++)
		for (int64_t c = w; c < ldg; c++)
			if (got[r * ldg + c] != SENTINEL) {
				print_error("%s:%d: %s: wrote outside the view at "
					    "(%lld,%lld)\n", file, line, what,
					    (long long)r, (long long)c);
				fail();
			}
}
#define check_close(what, g, ldg, e, lde, n, w, rt, at) \
	check_close_(what, g, ldg, e, lde, n, w, rt, at, __FILE__, __LINE__)

#define RTOL 1e-4
#define ATOL 1e-5

/* --- linear, layernorm ----------------------------------------------------- */

static void test_linear(void **state)
{
	(void)state;
	static const int64_t shapes[][3] = {   /* N, i, o */
		{1, 7, 5}, {1, 64, 48}, {3, 17, 9}, {30, 64, 96}, {2, 1, 1},
	};
	rng_seed(1);
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
		for (int bias = 0; bias < 2; bias++) {
			int64_t N = shapes[s][0], i = shapes[s][1], o = shapes[s][2];
			int64_t ldi = i + 3, ldo = o + 5;
			float *in = rand_mat(N, i, ldi), *W = rand_mat(o, i, i);
			float *b = bias ? rand_mat(1, o, o) : NULL;
			float *y = sentinel_mat(N, ldo), *yr = sentinel_mat(N, ldo);
			ax_k_linear(y, ldo, in, ldi, W, b, N, i, o, NULL);
			ax_k_linear_ref(yr, ldo, in, ldi, W, b, N, i, o, NULL);
			check_close("linear", y, ldo, yr, ldo, N, o, RTOL, ATOL);
			free(in), free(W), free(b), free(y), free(yr);
		}
	/* a hand case: y = [1 2; 3 4] x + b with x = (1, -1), b = (10, 20) */
	float W[] = {1, 2, 3, 4}, x[] = {1, -1}, b[] = {10, 20}, y[2];
	ax_k_linear(y, 2, x, 2, W, b, 1, 2, 2, NULL);
	assert_float_equal(y[0], 9.0f, 0.0f);
	assert_float_equal(y[1], 19.0f, 0.0f);
}

static void test_layernorm(void **state)
{
	(void)state;
	static const int64_t shapes[][2] = {{1, 8}, {5, 33}, {30, 512}};
	rng_seed(2);
	for (size_t s = 0; s < 3; s++) {
		int64_t N = shapes[s][0], w = shapes[s][1], ld = w + 4;
		float *in = rand_mat(N, w, ld), *g = rand_mat(1, w, w),
		      *be = rand_mat(1, w, w);
		float *y = sentinel_mat(N, ld), *yr = sentinel_mat(N, ld);
		ax_k_layernorm(y, ld, in, ld, g, be, N, w, 1e-5f);
		ax_k_layernorm_ref(yr, ld, in, ld, g, be, N, w, 1e-5f);
		check_close("layernorm", y, ld, yr, ld, N, w, RTOL, 1e-4);
		/* in place */
		ax_k_layernorm(in, ld, in, ld, g, be, N, w, 1e-5f);
		check_close("layernorm in place", in, ld, yr, ld, N, w, RTOL, 1e-4);
		free(in), free(g), free(be), free(y), free(yr);
	}
	/* hand case: x = (1, 3), gamma 1, beta 0, eps 0 -> (-1, 1) */
	float x[] = {1, 3}, one[] = {1, 1}, zero[] = {0, 0}, y[2];
	ax_k_layernorm(y, 2, x, 2, one, zero, 1, 2, 0.0f);
	assert_float_equal(y[0], -1.0f, 1e-6);
	assert_float_equal(y[1], 1.0f, 1e-6);
}

/* --- attention ------------------------------------------------------------- */

struct att_case {
	int64_t Nq, Nk, w, H;
	bool causal;
	int64_t q_pos0;
};

static void test_attention_fast_vs_ref(void **state)
{
	(void)state;
	static const struct att_case cases[] = {
		{1, 1, 8, 2, false, 0},  {1, 7, 16, 4, true, 6},
		{1, 7, 16, 4, true, 3},  {5, 5, 16, 2, true, 0},
		{6, 9, 32, 4, false, 0}, {30, 30, 64, 8, true, 0},
		{4, 10, 24, 3, true, 6}, {30, 17, 64, 4, false, 0},
		{1, 30, 512, 8, false, 0}, {3, 10, 16, 2, true, 2},
		{2, 8, 16, 4, true, 40},
	};
	rng_seed(3);
	for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
		const struct att_case *a = &cases[s];
		int64_t w = a->w, ldq = 3 * w, ldk = 2 * w + 1, ldv = w + 2,
			ldo = w + 7;
		float *q = rand_mat(a->Nq, w, ldq), *k = rand_mat(a->Nk, w, ldk),
		      *v = rand_mat(a->Nk, w, ldv);
		float *y = sentinel_mat(a->Nq, ldo), *yr = sentinel_mat(a->Nq, ldo);
		float *scr = malloc((size_t)ax_k_attention_scratch(a->Nq, a->Nk,
					     a->H) * sizeof *scr);
		ax_k_attention(y, ldo, q, ldq, k, ldk, v, ldv, a->Nq, a->Nk, w,
			       a->H, a->causal, a->q_pos0, scr, NULL);
		ax_k_attention_ref(yr, ldo, q, ldq, k, ldk, v, ldv, a->Nq, a->Nk,
				   w, a->H, a->causal, a->q_pos0, scr, NULL);
		check_close("attention", y, ldo, yr, ldo, a->Nq, w, RTOL, ATOL);
		free(q), free(k), free(v), free(y), free(yr), free(scr);
	}
}

/* Query i never sees key i+1: changing keys/values after position i leaves
 * rows 0..i unchanged; incremental single-query calls equal the rows. */
static void test_attention_causal_mask(void **state)
{
	(void)state;
	int64_t N = 9, w = 16, H = 4;
	rng_seed(4);
	float *q = rand_mat(N, w, w), *k = rand_mat(N, w, w), *v = rand_mat(N, w, w);
	float *y0 = malloc(sizeof(float) * (size_t)(N * w));
	float *y1 = malloc(sizeof(float) * (size_t)(N * w));
	float *scr = malloc(sizeof(float) * (size_t)ax_k_attention_scratch(N, N, H));
	for (int fast = 0; fast < 2; fast++) {
		void (*att)(float *, int64_t, const float *, int64_t,
			    const float *, int64_t, const float *, int64_t,
			    int64_t, int64_t, int64_t, int64_t, bool, int64_t,
			    float *, struct ax_k_work *) = fast ? ax_k_attention : ax_k_attention_ref;
		att(y0, w, q, w, k, w, v, w, N, N, w, H, true, 0, scr, NULL);
		for (int64_t i = 0; i + 1 < N; i++) {
			float *k2 = rand_mat(N, w, w), *v2 = rand_mat(N, w, w);
			memcpy(k2, k, sizeof(float) * (size_t)((i + 1) * w));
			memcpy(v2, v, sizeof(float) * (size_t)((i + 1) * w));
			att(y1, w, q, w, k2, w, v2, w, N, N, w, H, true, 0, scr, NULL);
			for (int64_t r = 0; r <= i; r++)
				for (int64_t c = 0; c < w; c++)
					assert_true(y1[r * w + c] == y0[r * w + c]);
			/* and the perturbation is visible to row i+1 */
			double diff = 0;
			for (int64_t c = 0; c < w; c++)
				diff += fabs(y1[(i + 1) * w + c] - y0[(i + 1) * w + c]);
			assert_true(diff > 0);
			free(k2), free(v2);
		}
		/* incremental: query t against keys 0..t */
		for (int64_t t = 0; t < N; t++) {
			att(y1, w, q + t * w, w, k, w, v, w, 1, t + 1, w, H, true,
			    t, scr, NULL);
			check_close("attention step", y1, w, y0 + t * w, w, 1, w,
				    RTOL, ATOL);
		}
	}
	/* one key: the output is that value row, whatever the scores */
	float qq[4] = {5, -3, 2, 1}, kk[4] = {1, 2, 3, 4}, vv[4] = {7, 8, 9, 10}, yy[4];
	ax_k_attention(yy, 4, qq, 4, kk, 4, vv, 4, 1, 1, 4, 2, true, 0, scr, NULL);
	for (int c = 0; c < 4; c++)
		assert_float_equal(yy[c], vv[c], 1e-6);
	free(q), free(k), free(v), free(y0), free(y1), free(scr);
}

/* --- convolutions ---------------------------------------------------------- */

struct conv_case {
	int64_t N, c, H, K, P;
};

static const struct conv_case conv_cases[] = {
	{1, 8, 2, 3, 1},   {1, 8, 2, 3, 2},   {5, 12, 3, 4, 1},
	{5, 12, 3, 4, 3},  {30, 64, 4, 7, 3}, {30, 64, 4, 7, 6},
	{30, 32, 8, 31, 15}, {6, 16, 4, 31, 30}, {4, 4, 1, 1, 0},
};
#define N_CONV_CASES (sizeof conv_cases / sizeof conv_cases[0])

static void test_lightconv(void **state)
{
	(void)state;
	rng_seed(5);
	for (size_t s = 0; s < N_CONV_CASES; s++) {
		const struct conv_case *cc = &conv_cases[s];
		int64_t ldi = cc->c + 2, ldo = cc->c + 3;
		float *in = rand_mat(cc->N, cc->c, ldi), *w = rand_mat(cc->H, cc->K, cc->K);
		float *wn = malloc(sizeof(float) * (size_t)(cc->H * cc->K));
		ax_k_lightconv_weights(wn, w, cc->H, cc->K);
		for (int64_t h = 0; h < cc->H; h++) {
			double sum = 0;
			for (int64_t k = 0; k < cc->K; k++)
				sum += wn[h * cc->K + k];
			assert_float_equal(sum, 1.0, 1e-5);
		}
		float *y = sentinel_mat(cc->N, ldo), *yr = sentinel_mat(cc->N, ldo);
		ax_k_lightconv(y, ldo, in, ldi, wn, cc->N, cc->c, cc->H, cc->K, cc->P, NULL);
		ax_k_lightconv_ref(yr, ldo, in, ldi, wn, cc->N, cc->c, cc->H, cc->K, cc->P, NULL);
		check_close("lightconv", y, ldo, yr, ldo, cc->N, cc->c, RTOL, ATOL);
		free(in), free(w), free(wn), free(y), free(yr);
	}
}

static void test_lightconv_hand(void **state)
{
	(void)state;
	/* causal, one-hot on tap K-1: the output is the current token */
	int64_t K = 5, N = 4, c = 2;
	float wn[5] = {0, 0, 0, 0, 1};
	float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
	ax_k_lightconv(y, c, x, c, wn, N, c, 1, K, K - 1, NULL);
	for (int i = 0; i < 8; i++)
		assert_float_equal(y[i], x[i], 0.0);
	/* one-hot on tap 0 in a causal conv: the token K-1 steps back */
	float w0[5] = {1, 0, 0, 0, 0};
	float z[12] = {0}, x6[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	ax_k_lightconv_ref(z, c, x6, c, w0, 6, c, 1, K, K - 1, NULL);
	for (int i = 0; i < 8; i++)
		assert_float_equal(z[i], 0.0, 0.0);
	assert_float_equal(z[8], 1.0, 0.0);
	assert_float_equal(z[11], 4.0, 0.0);
	/* centred K=3, P=1 at the edges: y0 = b x0 + c x1, y2 = a x1 + b x2 */
	float a3[3] = {0.2f, 0.3f, 0.5f}, x3[3] = {1, 10, 100}, y3[3];
	for (int fast = 0; fast < 2; fast++) {
		(fast ? ax_k_lightconv : ax_k_lightconv_ref)(y3, 1, x3, 1, a3, 3, 1,
							      1, 3, 1, NULL);
		assert_float_equal(y3[0], 0.3f * 1 + 0.5f * 10, 1e-5);
		assert_float_equal(y3[1], 0.2f * 1 + 0.3f * 10 + 0.5f * 100, 1e-4);
		assert_float_equal(y3[2], 0.2f * 10 + 0.3f * 100, 1e-4);
	}
	/* contiguous heads: c=4, H=2, channels 0,1 use head 0 */
	/* K=1 per head: head 0 weight 2, head 1 weight 3 (unnormalised) */
	float wh2[2] = {2, 3}, xh[4] = {1, 2, 3, 4}, yh[4];
	ax_k_lightconv(yh, 4, xh, 4, wh2, 1, 4, 2, 1, 0, NULL);
	assert_float_equal(yh[0], 2, 0), assert_float_equal(yh[1], 4, 0);
	assert_float_equal(yh[2], 9, 0), assert_float_equal(yh[3], 12, 0);
}

static void test_dynconv(void **state)
{
	(void)state;
	rng_seed(6);
	for (size_t s = 0; s < N_CONV_CASES; s++) {
		const struct conv_case *cc = &conv_cases[s];
		int64_t ldi = cc->c + 2, ldo = cc->c + 3, ldk = cc->H * cc->K + 5;
		float *in = rand_mat(cc->N, cc->c, ldi);
		float *kl = rand_mat(cc->N, cc->H * cc->K, ldk);
		for (int64_t k = 0; k < cc->N * ldk; k++)
			kl[k] *= 3.0f;
		float *scr = malloc(sizeof(float) * (size_t)ax_k_dynconv_scratch(cc->H, cc->K));
		float *y = sentinel_mat(cc->N, ldo), *yr = sentinel_mat(cc->N, ldo);
		ax_k_dynconv(y, ldo, in, ldi, kl, ldk, cc->N, cc->c, cc->H, cc->K,
			     cc->P, scr, NULL);
		ax_k_dynconv_ref(yr, ldo, in, ldi, kl, ldk, cc->N, cc->c, cc->H,
				 cc->K, cc->P, scr, NULL);
		check_close("dynconv", y, ldo, yr, ldo, cc->N, cc->c, RTOL, ATOL);
		free(in), free(kl), free(scr), free(y), free(yr);
	}
}

/* Softmax over all K taps first, then drop the out-of-range ones with no
 * renormalisation: K=3, P=1, logits (0, ln 2, ln 3) -> p = (1,2,3)/6. */
static void test_dynconv_edges(void **state)
{
	(void)state;
	float kl[6] = {0, logf(2), logf(3), 0, logf(2), logf(3)};
	float x[2] = {6, 60}, y[2], scr[3];
	for (int fast = 0; fast < 2; fast++) {
		(fast ? ax_k_dynconv : ax_k_dynconv_ref)(y, 1, x, 1, kl, 3, 2, 1,
							  1, 3, 1, scr, NULL);
		/* row 0: tap 0 reads x[-1] (dropped) */
		assert_float_equal(y[0], 2.0 / 6 * 6 + 3.0 / 6 * 60, 1e-4);
		/* row 1: tap 2 reads x[2] (dropped) */
		assert_float_equal(y[1], 1.0 / 6 * 6 + 2.0 / 6 * 60, 1e-4);
	}
	/* causal K=3 at row 0: only tap 2 (p = 1/2) survives */
	for (int fast = 0; fast < 2; fast++) {
		(fast ? ax_k_dynconv : ax_k_dynconv_ref)(y, 1, x, 1, kl, 3, 2, 1,
							  1, 3, 2, scr, NULL);
		assert_float_equal(y[0], 0.5 * 6, 1e-5);
		assert_float_equal(y[1], 2.0 / 6 * 6 + 3.0 / 6 * 60, 1e-4);
	}
}

static void test_dwconv_conv1d(void **state)
{
	(void)state;
	rng_seed(7);
	for (size_t s = 0; s < N_CONV_CASES; s++) {
		const struct conv_case *cc = &conv_cases[s];
		int64_t c = cc->c, ldi = c + 2, ldo = c + 3;
		float *in = rand_mat(cc->N, c, ldi), *W = rand_mat(cc->K, c, c);
		float *y = sentinel_mat(cc->N, ldo), *yr = sentinel_mat(cc->N, ldo);
		ax_k_dwconv(y, ldo, in, ldi, W, cc->N, c, cc->K, cc->P, NULL);
		ax_k_dwconv_ref(yr, ldo, in, ldi, W, cc->N, c, cc->K, cc->P, NULL);
		check_close("dwconv", y, ldo, yr, ldo, cc->N, c, RTOL, ATOL);
		free(W), free(y), free(yr);
		/* standard conv, o = c/2 + 3 outputs */
		int64_t o = c / 2 + 3, ldo2 = o + 1;
		float *Wc = rand_mat(o, cc->K * c, cc->K * c), *b = rand_mat(1, o, o);
		float *scr = malloc(sizeof(float) * (size_t)ax_k_conv1d_scratch(cc->N, c, cc->K));
		y = sentinel_mat(cc->N, ldo2), yr = sentinel_mat(cc->N, ldo2);
		ax_k_conv1d(y, ldo2, in, ldi, Wc, b, cc->N, c, o, cc->K, cc->P, scr, NULL);
		ax_k_conv1d_ref(yr, ldo2, in, ldi, Wc, b, cc->N, c, o, cc->K, cc->P, scr, NULL);
		check_close("conv1d", y, ldo2, yr, ldo2, cc->N, o, RTOL, 1e-4);
		free(in), free(Wc), free(b), free(scr), free(y), free(yr);
	}
	/* conv1d hand case: i=1, o=1, K=3 centred, W = (1,2,3), b = 0.5:
	 * y[r] = x[r-1] + 2 x[r] + 3 x[r+1] + 0.5 */
	float W[3] = {1, 2, 3}, b = 0.5f, x[3] = {1, 10, 100}, y[3], scr[9];
	for (int fast = 0; fast < 2; fast++) {
		(fast ? ax_k_conv1d : ax_k_conv1d_ref)(y, 1, x, 1, W, &b, 3, 1, 1,
							3, 1, scr, NULL);
		assert_float_equal(y[0], 2 + 30 + 0.5, 1e-4);
		assert_float_equal(y[1], 1 + 20 + 300 + 0.5, 1e-4);
		assert_float_equal(y[2], 10 + 200 + 0.5, 1e-4);
	}
	/* conv1d tap-major layout: i=2, o=1, K=2 causal; W_0 = (1,2) reads
	 * the previous row, W_1 = (3,4) the current one */
	float W2[4] = {1, 2, 3, 4}, x2[4] = {1, 1, 10, 100}, y2[2];
	ax_k_conv1d(y2, 1, x2, 2, W2, NULL, 2, 2, 1, 2, 1, scr, NULL);
	assert_float_equal(y2[0], 3 + 4, 1e-5);
	assert_float_equal(y2[1], 1 + 2 + 30 + 400, 1e-4);
}

/* Ring-buffer steps == sequence rows, for all four causal convs; the ring
 * is deliberately larger than K-1 for some cases (shared rings), and
 * starts full of garbage (never read before it is written). */
static void test_ring_steps(void **state)
{
	(void)state;
	rng_seed(8);
	static const int64_t shapes[][4] = {   /* N, c, H, K */
		{12, 8, 2, 3}, {9, 12, 3, 4}, {20, 16, 4, 7}, {5, 8, 2, 11},
		{4, 4, 1, 1}, {14, 32, 8, 31},
	};
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int64_t N = shapes[s][0], c = shapes[s][1], H = shapes[s][2],
			K = shapes[s][3], P = K - 1, o = c + 5;
		for (int64_t extra = 0; extra < 3; extra += 2) {
			int64_t R = K - 1 + extra;
			float *in = rand_mat(N, c, c), *w = rand_mat(H, K, K);
			float *wn = malloc(sizeof(float) * (size_t)(H * K));
			ax_k_lightconv_weights(wn, w, H, K);
			float *kl = rand_mat(N, H * K, H * K);
			float *Wd = rand_mat(K, c, c);
			float *Wc = rand_mat(o, K * c, K * c), *bc = rand_mat(1, o, o);
			float *seq = malloc(sizeof(float) * (size_t)(N * o));
			float *scr = malloc(sizeof(float) * (size_t)ax_k_conv1d_scratch(N, c, K));
			float *ring = rand_mat(R > 0 ? R : 1, c, c);
			float step[64];
			assert_true(o <= 64);

			ax_k_lightconv(seq, c, in, c, wn, N, c, H, K, P, NULL);
			for (int64_t t = 0; t < N; t++) {
				ax_k_lightconv_step(step, in + t * c, ring, R, t, wn, c, H, K, NULL);
				ax_k_ring_push(ring, R, c, in + t * c, t);
				check_close("lightconv step", step, c, seq + t * c, c, 1, c,
					    RTOL, ATOL);
			}
			ax_k_dynconv(seq, c, in, c, kl, H * K, N, c, H, K, P, scr, NULL);
			for (int64_t t = 0; t < N; t++) {
				ax_k_dynconv_step(step, in + t * c, ring, R, t,
						  kl + t * H * K, c, H, K, scr, NULL);
				ax_k_ring_push(ring, R, c, in + t * c, t);
				check_close("dynconv step", step, c, seq + t * c, c, 1, c,
					    RTOL, ATOL);
			}
			ax_k_dwconv(seq, c, in, c, Wd, N, c, K, P, NULL);
			for (int64_t t = 0; t < N; t++) {
				ax_k_dwconv_step(step, in + t * c, ring, R, t, Wd, c, K, NULL);
				ax_k_ring_push(ring, R, c, in + t * c, t);
				check_close("dwconv step", step, c, seq + t * c, c, 1, c,
					    RTOL, ATOL);
			}
			ax_k_conv1d(seq, o, in, c, Wc, bc, N, c, o, K, P, scr, NULL);
			for (int64_t t = 0; t < N; t++) {
				ax_k_conv1d_step(step, in + t * c, ring, R, t, Wc, bc, c,
						 o, K, scr, NULL);
				ax_k_ring_push(ring, R, c, in + t * c, t);
				check_close("conv1d step", step, o, seq + t * o, o, 1, o,
					    RTOL, 1e-4);
			}
			free(in), free(w), free(wn), free(kl), free(Wd), free(Wc);
			free(bc), free(seq), free(scr), free(ring);
		}
	}
}

/* --- elementwise and row ops ------------------------------------------------ */

static void test_elementwise(void **state)
{
	(void)state;
	/* the last has rows enough for two threads (tests/threads.cmake) */
	static const int64_t shapes[][2] = {{1, 1}, {1, 17}, {7, 64}, {30, 513},
					    {70, 1001}};
	rng_seed(9);
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int64_t N = shapes[s][0], w = shapes[s][1], ldi = 2 * w + 3,
			ldo = w + 2, w1 = w / 2;
		float *in = rand_mat(N, 2 * w, ldi);
		for (int64_t k = 0; k < N * ldi; k++)
			if (in[k] != SENTINEL)
				in[k] *= 8.0f;
		float *b = rand_mat(N, w1, w1 + 1);
		float *y = sentinel_mat(N, ldo), *yr = sentinel_mat(N, ldo);
#define PAIR(name, fast, ref, rt, at)                                \
	do {                                                         \
		fast(y, ldo, in, ldi, N, w);                         \
		ref(yr, ldo, in, ldi, N, w);                         \
		check_close(name, y, ldo, yr, ldo, N, w, rt, at);    \
	} while (0)
		PAIR("glu", ax_k_glu, ax_k_glu_ref, RTOL, ATOL);
		PAIR("relu", ax_k_relu, ax_k_relu_ref, 0, 0);
		PAIR("swish", ax_k_swish, ax_k_swish_ref, RTOL, ATOL);
		PAIR("sigmoid", ax_k_sigmoid, ax_k_sigmoid_ref, RTOL, ATOL);
		PAIR("softmax", ax_k_softmax, ax_k_softmax_ref, RTOL, 1e-6);
		PAIR("log_softmax", ax_k_log_softmax, ax_k_log_softmax_ref, RTOL, 1e-5);
#undef PAIR
		ax_k_add(y, ldo, in, ldi, b, w1 + 1, N, w, w1);
		ax_k_add_ref(yr, ldo, in, ldi, b, w1 + 1, N, w, w1);
		check_close("add", y, ldo, yr, ldo, N, w, 0, 0);
		/* the padded part of the add is a copy of a */
		for (int64_t r = 0; r < N; r++)
			for (int64_t c = w1; c < w; c++)
				assert_true(y[r * ldo + c] == in[r * ldi + c]);
		/* log_softmax rows sum to 1 in probability space */
		ax_k_log_softmax(y, ldo, in, ldi, N, w);
		for (int64_t r = 0; r < N; r++) {
			double sum = 0;
			for (int64_t c = 0; c < w; c++)
				sum += exp(y[r * ldo + c]);
			assert_float_equal(sum, 1.0, 1e-5);
		}
		free(in), free(b), free(y), free(yr);
	}
	/* stability: huge logits neither overflow nor NaN */
	float big[3] = {1000, 1001, 999}, ls[3], sm[3];
	ax_k_log_softmax(ls, 3, big, 3, 1, 3);
	ax_k_softmax(sm, 3, big, 3, 1, 3);
	double lse = 1001 + log(exp(-1.0) + 1 + exp(-2.0));
	for (int c = 0; c < 3; c++) {
		assert_float_equal(ls[c], big[c] - lse, 1e-4);
		assert_float_equal(sm[c], exp(big[c] - lse), 1e-6);
	}
	/* GLU in place with ldo < ldi (rows overwrite earlier rows' input,
	 * so they stay on one thread) equals the reference */
	int64_t gn = 40, gw = 1024;
	float *gi = rand_mat(gn, 2 * gw, 2 * gw), *gr = sentinel_mat(gn, gw);
	ax_k_glu_ref(gr, gw, gi, 2 * gw, gn, gw);
	ax_k_glu(gi, gw, gi, 2 * gw, gn, gw);
	check_close("glu in place", gi, gw, gr, gw, gn, gw, RTOL, ATOL);
	free(gi), free(gr);
	/* GLU hand case: (a, g) = (2, 0) -> 2 * 0.5 = 1 */
	float g2[2] = {2, 0}, g1;
	ax_k_glu(&g1, 1, g2, 2, 1, 1);
	assert_float_equal(g1, 1.0, 1e-7);
}

/* --- embeddings ------------------------------------------------------------- */

/* docs/models.md §2.1 / §6.1 in double: omega_i = exp(-i ln(1e4)/max(d/2-1,1)) */
static double sinusoid_formula(int64_t pos, int64_t d, int64_t col)
{
	int64_t half = d / 2;
	if (col >= 2 * half)
		return 0.0;
	int64_t i = col % half;
	double om = exp(-(double)i * log(10000.0) / (double)(half - 1 > 1 ? half - 1 : 1));
	return col < half ? sin((double)pos * om) : cos((double)pos * om);
}

static void test_sinusoid(void **state)
{
	(void)state;
	static const int64_t ds[] = {4, 8, 9, 64, 512, 2};
	static const int64_t ps[] = {0, 2, 5, 31, 100};
	float row[512];
	for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
		for (size_t b = 0; b < sizeof ps / sizeof ps[0]; b++)
			for (int kind = 0; kind < AX_SINUSOID_COUNT; kind++) {
				int64_t d = ds[a], p = ps[b];
				ax_k_sinusoid(row, p, d, (enum ax_sinusoid_kind)kind);
				for (int64_t c = 0; c < d; c++) {
					double want = sinusoid_formula(p, d, c);
					/* float32 arguments: |err| ~ p * eps */
					double tol = 1e-6 + 2e-7 * (double)p;
					if (fabs(row[c] - want) > tol) {
						print_error("sinusoid d=%lld pos=%lld "
							    "col=%lld: %.9g vs %.9g\n",
							    (long long)d, (long long)p,
							    (long long)c, row[c], want);
						fail();
					}
				}
			}
	/* concatenated halves: d=8, pos 2: col 0 = sin 2, col 4 = cos 2 */
	ax_k_sinusoid(row, 2, 8, AX_SINUSOID_FAIRSEQ);
	assert_float_equal(row[0], sin(2.0), 1e-6);
	assert_float_equal(row[4], cos(2.0), 1e-6);
	/* col 3 is the lowest frequency, 1e-4: sin(2e-4) */
	assert_float_equal(row[3], sin(2e-4), 1e-7);
	/* odd d: a trailing zero column */
	ax_k_sinusoid(row, 7, 9, AX_SINUSOID_T2T);
	assert_float_equal(row[8], 0.0, 0.0);
	/* fairseq padding row (pos 1) is zero; t2t pos 1 is not */
	ax_k_sinusoid(row, 1, 8, AX_SINUSOID_FAIRSEQ);
	for (int c = 0; c < 8; c++)
		assert_float_equal(row[c], 0.0, 0.0);
	ax_k_sinusoid(row, 1, 8, AX_SINUSOID_T2T);
	assert_float_equal(row[0], sin(1.0), 1e-6);
	/* t2t position 0: sin 0 = 0, cos 0 = 1 */
	ax_k_sinusoid(row, 0, 8, AX_SINUSOID_T2T);
	assert_float_equal(row[0], 0.0, 0.0);
	assert_float_equal(row[4], 1.0, 0.0);
}

static void test_embed(void **state)
{
	(void)state;
	int64_t V = 11, d = 9, N = 5, ldo = d + 3;
	rng_seed(10);
	float *E = rand_mat(V, d, d);
	int32_t tok[5] = {0, 3, 10, 1, 3};
	float *y = sentinel_mat(N, ldo), *yr = sentinel_mat(N, ldo);
	float pe[9];
	for (int kind = 0; kind < AX_SINUSOID_COUNT; kind++)
		for (int64_t pos0 = 0; pos0 < 3; pos0 += 2) {
			enum ax_sinusoid_kind k = (enum ax_sinusoid_kind)kind;
			assert_int_equal(ax_k_embed(y, ldo, E, V, tok, N, d, 3.0f, pos0, k), AX_OK);
			assert_int_equal(ax_k_embed_ref(yr, ldo, E, V, tok, N, d, 3.0f, pos0, k), AX_OK);
			check_close("embed", y, ldo, yr, ldo, N, d, 0, 0);
			for (int64_t j = 0; j < N; j++) {
				int64_t p = pos0 + j + (k == AX_SINUSOID_FAIRSEQ ? 2 : 0);
				ax_k_sinusoid(pe, p, d, k);
				for (int64_t c = 0; c < d; c++) {
					float e = (k == AX_SINUSOID_T2T && tok[j] == 0) ?
						  0.0f : E[tok[j] * d + c];
					assert_float_equal(y[j * ldo + c], 3.0f * e + pe[c], 1e-6);
				}
			}
		}
	/* out-of-range ids fail cleanly */
	int32_t bad[2] = {3, 11}, neg[1] = {-1};
	assert_int_equal(ax_k_embed(y, ldo, E, V, bad, 2, d, 1.0f, 0, 0), AX_ERR_INPUT);
	assert_int_equal(ax_k_embed_ref(y, ldo, E, V, neg, 1, d, 1.0f, 0, 0), AX_ERR_INPUT);
	free(E), free(y), free(yr);
}

/* --- adaptive input / softmax ------------------------------------------------ */

static void test_adaptive(void **state)
{
	(void)state;
	int64_t d = 16, nb = 3;
	int64_t starts[3] = {0, 20, 60}, sizes[3] = {20, 40, 27}, dims[3] = {16, 4, 1};
	int64_t V = 87;
	rng_seed(11);
	struct ax_k_band bands[3];
	float *mats[6];
	for (int64_t b = 0; b < nb; b++) {
		mats[2 * b] = rand_mat(sizes[b], dims[b], dims[b]);
		mats[2 * b + 1] = rand_mat(d, dims[b], dims[b]);
		bands[b] = (struct ax_k_band){ .start = starts[b], .size = sizes[b],
			.dim = dims[b], .table = mats[2 * b], .proj = mats[2 * b + 1],
			.proj_layout = AX_K_PROJ_D_DB };
	}
	/* input side */
	int32_t tok[6] = {0, 19, 20, 59, 60, 86};
	int64_t ldo = d + 1;
	float *y = sentinel_mat(6, ldo), *yr = sentinel_mat(6, ldo);
	assert_int_equal(ax_k_adaptive_input(y, ldo, tok, bands, nb, 6, d, 4.0f, 0,
					     AX_SINUSOID_FAIRSEQ, NULL), AX_OK);
	assert_int_equal(ax_k_adaptive_input_ref(yr, ldo, tok, bands, nb, 6, d, 4.0f,
						 0, AX_SINUSOID_FAIRSEQ, NULL), AX_OK);
	check_close("adaptive input", y, ldo, yr, ldo, 6, d, RTOL, 1e-4);
	int32_t bad[1] = {87};
	assert_int_equal(ax_k_adaptive_input(y, ldo, bad, bands, nb, 1, d, 1.0f, 0,
					     AX_SINUSOID_FAIRSEQ, NULL), AX_ERR_INPUT);
	free(y), free(yr);

	/* output side, both projection layouts, N = 1 and N = 7 */
	float *Wc = rand_mat(nb - 1, d, d);
	float *own = rand_mat(dims[1], d, d);
	for (int layout = 0; layout < 2; layout++) {
		if (layout) {
			bands[1].proj = own;
			bands[1].proj_layout = AX_K_PROJ_DB_D;
		}
		for (int64_t N = 1; N <= 7; N += 6) {
			int64_t ldi = d + 2, ldv = V + 4;
			float *h = rand_mat(N, d, ldi);
			float *scr = malloc(sizeof(float) *
					    (size_t)ax_k_adaptive_softmax_scratch(N, bands, nb));
			float *lp = sentinel_mat(N, ldv), *lpr = sentinel_mat(N, ldv);
			ax_k_adaptive_log_softmax(lp, ldv, h, ldi, bands, nb, Wc, N, d, scr, NULL);
			ax_k_adaptive_log_softmax_ref(lpr, ldv, h, ldi, bands, nb, Wc, N,
						      d, scr, NULL);
			check_close("adaptive log_softmax", lp, ldv, lpr, ldv, N, V,
				    RTOL, 1e-4);
			for (int64_t r = 0; r < N; r++) {
				double sum = 0;
				for (int64_t c = 0; c < V; c++)
					sum += exp(lp[r * ldv + c]);
				assert_float_equal(sum, 1.0, 1e-4);
			}
			free(h), free(scr), free(lp), free(lpr);
		}
	}
	for (int i = 0; i < 6; i++)
		free(mats[i]);
	free(Wc), free(own);
}

/* --- work counts ----------------------------------------------------------- */

static struct ax_k_work work0(void)
{
	return (struct ax_k_work){ 0, 0 };
}

/* In-range taps of a sequence conv: taps k of row r with
 * 0 <= r + k - P < N, counted the slow way. */
static int64_t taps_in_range(int64_t N, int64_t K, int64_t P)
{
	int64_t n = 0;
	for (int64_t r = 0; r < N; r++)
		for (int64_t k = 0; k < K; k++)
			n += r + k - P >= 0 && r + k - P < N;
	return n;
}

static void test_work_convs(void **state)
{
	(void)state;
	rng_seed(21);
	for (size_t s = 0; s < N_CONV_CASES; s++) {
		const struct conv_case *cc = &conv_cases[s];
		int64_t N = cc->N, c = cc->c, H = cc->H, K = cc->K, P = cc->P, o = 5;
		int64_t in_range = taps_in_range(N, K, P);
		float *in = rand_mat(N, c, c), *wn = rand_mat(H, K, K);
		float *kl = rand_mat(N, H * K, H * K), *Wd = rand_mat(K, c, c);
		float *Wc = rand_mat(o, K * c, K * c);
		float *y = malloc(sizeof(float) * (size_t)(N * c + N * o));
		int64_t scr_n = ax_k_conv1d_scratch(N, c, K) + ax_k_dynconv_scratch(H, K);
		float *scr = malloc(sizeof(float) * (size_t)scr_n);
		struct ax_k_work w[2][4];
		for (int fast = 0; fast < 2; fast++) {
			for (int j = 0; j < 4; j++)
				w[fast][j] = work0();
			(fast ? ax_k_lightconv : ax_k_lightconv_ref)(y, c, in, c, wn, N, c, H,
								      K, P, &w[fast][0]);
			(fast ? ax_k_dynconv : ax_k_dynconv_ref)(y, c, in, c, kl, H * K, N, c,
								  H, K, P, scr, &w[fast][1]);
			(fast ? ax_k_dwconv : ax_k_dwconv_ref)(y, c, in, c, Wd, N, c, K, P,
								&w[fast][2]);
			(fast ? ax_k_conv1d : ax_k_conv1d_ref)(y, o, in, c, Wc, NULL, N, c, o,
								K, P, scr, &w[fast][3]);
			/* light, dynamic, depthwise: the in-range taps are performed,
			 * the padding ones skipped, c MACs each */
			for (int j = 0; j < 3; j++) {
				assert_int_equal(w[fast][j].macs, in_range * c);
				assert_int_equal(w[fast][j].skipped, (N * K - in_range) * c);
			}
			/* standard conv: the reference skips padding taps; the fast
			 * im2col sgemm multiplies the zeros and performs them all */
			assert_int_equal(w[fast][3].macs + w[fast][3].skipped, N * K * c * o);
			assert_int_equal(w[fast][3].skipped, fast ? 0 : (N * K - in_range) * c * o);
		}
		/* causal steps over rows 0..N-1 count what the causal sequence
		 * kernel counts; the step conv1d performs its zero window too */
		int64_t R = K - 1;
		float *ring = rand_mat(R > 0 ? R : 1, c, c);
		struct ax_k_work st[4] = { work0(), work0(), work0(), work0() };
		for (int64_t t = 0; t < N; t++) {
			ax_k_lightconv_step(y, in + t * c, ring, R, t, wn, c, H, K, &st[0]);
			ax_k_dynconv_step(y, in + t * c, ring, R, t, kl + t * H * K, c, H, K,
					  scr, &st[1]);
			ax_k_dwconv_step(y, in + t * c, ring, R, t, Wd, c, K, &st[2]);
			ax_k_conv1d_step(y, in + t * c, ring, R, t, Wc, NULL, c, o, K, scr,
					 &st[3]);
			ax_k_ring_push(ring, R, c, in + t * c, t);
		}
		int64_t causal = taps_in_range(N, K, K - 1);
		for (int j = 0; j < 3; j++) {
			assert_int_equal(st[j].macs, causal * c);
			assert_int_equal(st[j].skipped, (N * K - causal) * c);
		}
		assert_int_equal(st[3].macs, N * K * c * o);
		assert_int_equal(st[3].skipped, 0);
		free(in), free(wn), free(kl), free(Wd), free(Wc), free(y), free(scr),
		free(ring);
	}
}

static void test_work_dense(void **state)
{
	(void)state;
	rng_seed(22);
	int64_t N = 7, i = 9, o = 6, w = 12, H = 3, Nk = 7;
	float *in = rand_mat(N, i, i), *W = rand_mat(o, i, i), *y = rand_mat(N, w, w);
	float *q = rand_mat(N, w, w), *k = rand_mat(Nk, w, w), *v = rand_mat(Nk, w, w);
	float *scr = malloc(sizeof(float) * (size_t)ax_k_attention_scratch(N, Nk, H));
	for (int fast = 0; fast < 2; fast++) {
		struct ax_k_work lw = work0(), aw = work0(), cw = work0(), sw = work0();
		(fast ? ax_k_linear : ax_k_linear_ref)(y, w, in, i, W, NULL, N, i, o, &lw);
		assert_int_equal(lw.macs, N * i * o);
		assert_int_equal(lw.skipped, 0);
		/* attention: 2 Nq Nk w in all; the reference skips the masked
		 * scores of a causal square, the fast sgemm computes them */
		(fast ? ax_k_attention : ax_k_attention_ref)(y, w, q, w, k, w, v, w, N, Nk,
							     w, H, false, 0, scr, &aw);
		assert_int_equal(aw.macs, 2 * N * Nk * w);
		assert_int_equal(aw.skipped, 0);
		(fast ? ax_k_attention : ax_k_attention_ref)(y, w, q, w, k, w, v, w, N, Nk,
							     w, H, true, 0, scr, &cw);
		assert_int_equal(cw.macs + cw.skipped, 2 * N * Nk * w);
		assert_int_equal(cw.skipped, fast ? 0 : 2 * w * (N * Nk - N * (N + 1) / 2));
		/* one query at step 2 of 7 keys: keys 3.. are masked in both */
		(fast ? ax_k_attention : ax_k_attention_ref)(y, w, q, w, k, w, v, w, 1, Nk,
							     w, H, true, 2, scr, &sw);
		assert_int_equal(sw.macs, 2 * 3 * w);
		assert_int_equal(sw.skipped, 2 * (Nk - 3) * w);
	}
	free(in), free(W), free(y), free(q), free(k), free(v), free(scr);
}

/* Adaptive input counts d_b d per token in its own band; the adaptive
 * softmax the full distribution, for both projection layouts. */
static void test_work_adaptive(void **state)
{
	(void)state;
	int64_t d = 8, nb = 3, N = 4;
	int64_t starts[3] = {0, 10, 20}, sizes[3] = {10, 10, 5}, dims[3] = {8, 4, 2};
	rng_seed(23);
	struct ax_k_band bands[3];
	float *mats[6];
	for (int64_t b = 0; b < nb; b++) {
		mats[2 * b] = rand_mat(sizes[b], dims[b], dims[b]);
		mats[2 * b + 1] = rand_mat(d, dims[b], dims[b]);
		bands[b] = (struct ax_k_band){ .start = starts[b], .size = sizes[b],
			.dim = dims[b], .table = mats[2 * b], .proj = mats[2 * b + 1],
			.proj_layout = AX_K_PROJ_D_DB };
	}
	int32_t tok[4] = {3, 12, 21, 9};
	float *y = rand_mat(N, 25, 25), *h = rand_mat(N, d, d), *Wc = rand_mat(2, d, d);
	float *scr = malloc(sizeof(float) * (size_t)ax_k_adaptive_softmax_scratch(N, bands, nb));
	int64_t full = N * (d * (10 + 2) + (d * 4 + 4 * 10) + (d * 2 + 2 * 5));
	for (int fast = 0; fast < 2; fast++) {
		struct ax_k_work iw = work0(), sw = work0();
		assert_int_equal((fast ? ax_k_adaptive_input : ax_k_adaptive_input_ref)(
			y, d, tok, bands, nb, N, d, 1.0f, 0, AX_SINUSOID_FAIRSEQ, &iw), AX_OK);
		assert_int_equal(iw.macs, d * (8 + 4 + 2 + 8));
		(fast ? ax_k_adaptive_log_softmax : ax_k_adaptive_log_softmax_ref)(
			y, 25, h, d, bands, nb, Wc, N, d, scr, &sw);
		assert_int_equal(sw.macs, full);
		assert_int_equal(iw.skipped + sw.skipped, 0);
	}
	float *own = rand_mat(dims[1], d, d);
	bands[1].proj = own;
	bands[1].proj_layout = AX_K_PROJ_DB_D;
	struct ax_k_work sw = work0();
	ax_k_adaptive_log_softmax(y, 25, h, d, bands, nb, Wc, N, d, scr, &sw);
	assert_int_equal(sw.macs, full);
	for (int i = 0; i < 6; i++)
		free(mats[i]);
	free(y), free(h), free(Wc), free(scr), free(own);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_layernorm),
		cmocka_unit_test(test_attention_fast_vs_ref),
		cmocka_unit_test(test_attention_causal_mask),
		cmocka_unit_test(test_lightconv),
		cmocka_unit_test(test_lightconv_hand),
		cmocka_unit_test(test_dynconv),
		cmocka_unit_test(test_dynconv_edges),
		cmocka_unit_test(test_dwconv_conv1d),
		cmocka_unit_test(test_ring_steps),
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_sinusoid),
		cmocka_unit_test(test_embed),
		cmocka_unit_test(test_adaptive),
		cmocka_unit_test(test_work_convs),
		cmocka_unit_test(test_work_dense),
		cmocka_unit_test(test_work_adaptive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
