/*
 * test_grad_conv.c - the backward kernels of src/train/grad_conv.h against
 * central finite differences of the FORWARD reference kernels
 * (src/runtime/kernels.h), over small random shapes: heads, K, causal and
 * centred padding (even K too), N smaller than K, DropConnect masks,
 * tied and untied adaptive softmax, the adaptive padding row and ignored
 * targets.  The loss is sum(out * R) for a random R (so the upstream
 * gradient is R), or the adaptive-softmax NLL; differences are taken in
 * double around each float parameter.  Then fast against reference, the
 * += accumulation (every gradient buffer starts non-zero), and the work
 * counts; and the DropConnect training forward (ax_g_convdrop) against
 * the forward kernels.  Prints, per op kind, the worst error found:
 *   max |analytic - fd| / max |fd| over each gradient tensor.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grad_conv.h"
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

static float *rand_buf(int64_t n)
{
	float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
	assert_non_null(x);
	for (int64_t i = 0; i < n; i++)
		x[i] = rng_uniform();
	return x;
}

static float *copy_buf(const float *x, int64_t n)
{
	float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
	assert_non_null(y);
	memcpy(y, x, (size_t)n * sizeof *y);
	return y;
}

/* The worst error per op kind, printed at the end. */
enum { K_LIGHT, K_DYN, K_DW, K_CONV1D, K_GLU, K_SWISH, K_SIGMOID, K_AIN,
       K_ASM, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"lightconv", "dynconv", "dwconv", "conv1d", "glu", "swish",
	"sigmoid (helper)", "adaptive_input", "adaptive_softmax (loss)",
};
static double worst[K_COUNT];

#define FD_EPS 1e-2
#define FD_TOL 5e-3      /* max |a - fd| / max |fd| */
#define FAST_RTOL 1e-4
#define FAST_ATOL 1e-5

typedef double (*loss_fn)(const void *ctx);

/*
 * The finite-difference check of one gradient tensor: p (rows, w) ld is
 * the parameter, ga (rows, w) lda the analytic gradient.  Returns and
 * checks max |ga - fd| / max |fd|.
 */
static double fd_check_(const char *what, int kind, loss_fn f,
			const void *ctx, float *p, int64_t rows, int64_t w,
			int64_t ld, const float *ga, int64_t lda,
			const char *file, int line)
{
	double num = 0.0, den = 1e-12;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t c = 0; c < w; c++) {
			float v = p[r * ld + c];
			float up = (float)(v + FD_EPS), dn = (float)(v - FD_EPS);
			p[r * ld + c] = up;
			double lp = f(ctx);
			p[r * ld + c] = dn;
			double lm = f(ctx);
			p[r * ld + c] = v;
			double fd = (lp - lm) / ((double)up - (double)dn);
			double e = fabs(ga[r * lda + c] - fd);
			num = e > num ? e : num;
			den = fabs(fd) > den ? fabs(fd) : den;
		}
	double err = num / den;
	if (err > worst[kind])
		worst[kind] = err;
	if (!(err <= FD_TOL)) {
		print_error("%s:%d: %s: analytic vs finite differences: rel "
			    "error %.3g > %g\n", file, line, what, err, FD_TOL);
		fail();
	}
	return err;
}
#define fd_check(what, kind, f, ctx, p, rows, w, ld, ga, lda) \
	fd_check_(what, kind, f, ctx, p, rows, w, ld, ga, lda, __FILE__, __LINE__)

/* got - base (the accumulated part) against want, fast vs ref. */
static void check_acc_(const char *what, const float *got, const float *base,
		       const float *want, const float *wbase, int64_t n,
		       const char *file, int line)
{
	for (int64_t i = 0; i < n; i++) {
		double g = (double)got[i] - base[i], e = (double)want[i] - wbase[i];
		if (fabs(g - e) > FAST_ATOL + FAST_RTOL * fabs(e)) {
			print_error("%s:%d: %s: fast vs ref at %lld: %.9g vs %.9g\n",
				    file, line, what, (long long)i, g, e);
			fail();
		}
	}
}
#define check_acc(what, got, base, want, wbase, n) \
	check_acc_(what, got, base, want, wbase, n, __FILE__, __LINE__)

/* d(out)/d(x) of sum(out * R) is R; analytic = (buffer after) - base. */
static float *diff_buf(const float *after, const float *base, int64_t n)
{
	float *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
	assert_non_null(d);
	for (int64_t i = 0; i < n; i++)
		d[i] = after[i] - base[i];
	return d;
}

static double dot_rows(const float *out, int64_t ldo, const float *R,
		       int64_t N, int64_t w)
{
	double s = 0.0;
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++)
			s += (double)out[r * ldo + c] * R[r * w + c];
	return s;
}

/* Taps of row r inside [0, N). */
static int64_t valid_taps(int64_t r, int64_t N, int64_t K, int64_t P)
{
	int64_t n = 0;
	for (int64_t k = 0; k < K; k++)
		n += r + k - P >= 0 && r + k - P < N;
	return n;
}

/* --- light and dynamic convolutions -------------------------------------- */

struct taps_ctx {
	bool dyn;
	float *x;              /* (N,c) ldx */
	float *w;              /* light: raw W (H,K); dyn: logits (N,H*K) ldk */
	const float *mask;     /* (N,H*K) ldm or NULL */
	const float *R;        /* (N,c) */
	int64_t ldx, ldk, ldm, N, c, H, K, P;
	float *out, *tmp, *kr, *scr;   /* (N,c), (N,c), (H,K), (H,K) */
};

/* sum(out * R) through the forward reference kernels; with a mask, row r
 * is a lightconv with the row's kernel (normalised, times the mask). */
static double taps_loss(const void *vctx)
{
	const struct taps_ctx *t = vctx;
	int64_t HK = t->H * t->K;
	if (!t->mask && t->dyn) {
		ax_k_dynconv_ref(t->out, t->c, t->x, t->ldx, t->w, t->ldk, t->N,
				 t->c, t->H, t->K, t->P, t->scr, NULL);
		return dot_rows(t->out, t->c, t->R, t->N, t->c);
	}
	if (!t->mask) {
		ax_k_lightconv_weights(t->kr, t->w, t->H, t->K);
		ax_k_lightconv_ref(t->out, t->c, t->x, t->ldx, t->kr, t->N, t->c,
				   t->H, t->K, t->P, NULL);
		return dot_rows(t->out, t->c, t->R, t->N, t->c);
	}
	for (int64_t r = 0; r < t->N; r++) {
		ax_k_lightconv_weights(t->kr, t->dyn ? t->w + r * t->ldk : t->w,
				       t->H, t->K);
		for (int64_t j = 0; j < HK; j++)
			t->kr[j] *= t->mask[r * t->ldm + j];
		ax_k_lightconv_ref(t->tmp, t->c, t->x, t->ldx, t->kr, t->N, t->c,
				   t->H, t->K, t->P, NULL);
		memcpy(t->out + r * t->c, t->tmp + r * t->c,
		       (size_t)t->c * sizeof *t->out);
	}
	return dot_rows(t->out, t->c, t->R, t->N, t->c);
}

/* N, c, H, K, pad_left, DropConnect mask */
static const int64_t taps_cases[][6] = {
	{5, 4, 2, 3, 1, 0}, {5, 4, 2, 3, 2, 1}, {3, 6, 3, 5, 4, 1},
	{4, 6, 3, 5, 2, 0}, {6, 8, 4, 4, 1, 1}, {1, 2, 1, 3, 2, 0},
	{7, 4, 1, 1, 0, 0}, {2, 3, 3, 7, 6, 0}, {8, 6, 2, 4, 3, 1},
};

/* One backward call (ref or fast) on fresh copies of the bases. */
static void taps_bwd(const struct taps_ctx *t, bool fast, float *dx,
		     float *dw, int64_t lddx, int64_t lddw, const float *wn,
		     struct ax_k_work *work)
{
	if (t->dyn)
		(fast ? ax_g_dynconv : ax_g_dynconv_ref)(
			dx, lddx, dw, lddw, t->R, t->c, t->x, t->ldx, t->w, t->ldk,
			t->mask, t->ldm, t->N, t->c, t->H, t->K, t->P, t->scr, work);
	else
		(fast ? ax_g_lightconv : ax_g_lightconv_ref)(
			dx, lddx, dw, t->R, t->c, t->x, t->ldx, wn, t->mask, t->ldm,
			t->N, t->c, t->H, t->K, t->P, t->scr, work);
}

static void run_taps(bool dyn)
{
	rng_seed(dyn ? 21 : 20);
	for (size_t s = 0; s < sizeof taps_cases / sizeof taps_cases[0]; s++) {
		const int64_t *cs = taps_cases[s];
		struct taps_ctx t = { .dyn = dyn, .N = cs[0], .c = cs[1],
				      .H = cs[2], .K = cs[3], .P = cs[4] };
		int64_t N = t.N, c = t.c, HK = t.H * t.K;
		t.ldx = c + 1;
		t.ldk = HK + 2;
		t.ldm = HK + 1;
		t.x = rand_buf(N * t.ldx);
		t.w = rand_buf(dyn ? N * t.ldk : HK);
		float *mask = NULL;
		if (cs[5]) {   /* p = 0.25: factors 0 or 4/3 */
			mask = rand_buf(N * t.ldm);
			for (int64_t j = 0; j < N * t.ldm; j++)
				mask[j] = mask[j] < -0.5f ? 0.0f : 4.0f / 3.0f;
		}
		t.mask = mask;
		float *R = rand_buf(N * c);
		t.R = R;
		t.out = rand_buf(N * c);
		t.tmp = rand_buf(N * c);
		t.kr = rand_buf(HK);
		int64_t ns = dyn ? ax_g_dynconv_scratch(t.H, t.K) :
			     ax_g_lightconv_scratch(t.H, t.K);
		t.scr = rand_buf(ns > HK ? ns : HK);
		float *wn = rand_buf(HK);
		ax_k_lightconv_weights(wn, t.w, t.H, t.K);

		/* analytic gradients (ref and fast) over non-zero bases */
		int64_t nx = N * t.ldx, nw = dyn ? N * t.ldk : HK;
		float *bx = rand_buf(nx), *bw = rand_buf(nw);
		float *dx = copy_buf(bx, nx), *dw = copy_buf(bw, nw);
		float *fx = copy_buf(bx, nx), *fw = copy_buf(bw, nw);
		struct ax_k_work wr = { 0 }, wf = { 0 };
		taps_bwd(&t, false, dx, dw, t.ldx, t.ldk, wn, &wr);
		taps_bwd(&t, true, fx, fw, t.ldx, t.ldk, wn, &wf);
		float *gx = diff_buf(dx, bx, nx), *gw = diff_buf(dw, bw, nw);

		const char *what = dyn ? "dynconv" : "lightconv";
		fd_check(what, dyn ? K_DYN : K_LIGHT, taps_loss, &t, t.x, N, c,
			 t.ldx, gx, t.ldx);
		if (dyn)
			fd_check(what, K_DYN, taps_loss, &t, t.w, N, HK, t.ldk, gw,
				 t.ldk);
		else
			fd_check(what, K_LIGHT, taps_loss, &t, t.w, t.H, t.K, t.K,
				 gw, t.K);
		check_acc(what, fx, bx, dx, bx, nx);
		check_acc(what, fw, bw, dw, bw, nw);

		/* the DropConnect forward: the mask's rows (or all ones) */
		float *ones = rand_buf(N * t.ldm);
		for (int64_t j = 0; j < N * t.ldm; j++)
			ones[j] = 1.0f;
		const float *m = mask ? mask : ones;
		float *yd = rand_buf(N * c), *yf = rand_buf(N * c);
		struct ax_k_work wd = { 0 }, wdf = { 0 };
		ax_g_convdrop_ref(yd, c, t.x, t.ldx, dyn ? NULL : wn,
				  dyn ? t.w : NULL, t.ldk, m, t.ldm, N, c, t.H,
				  t.K, t.P, t.scr, &wd);
		ax_g_convdrop(yf, c, t.x, t.ldx, dyn ? NULL : wn, dyn ? t.w : NULL,
			      t.ldk, m, t.ldm, N, c, t.H, t.K, t.P, t.scr, &wdf);
		taps_loss(&t);   /* t.out: the forward kernels' output */
		float *zero = calloc((size_t)(N * c), sizeof *zero);
		check_acc("convdrop vs forward", yd, zero, t.out, zero, N * c);
		check_acc("convdrop fast vs ref", yf, zero, yd, zero, N * c);
		free(zero), free(ones), free(yd), free(yf);

		/* work: 2 c per tap, the padding taps skipped */
		int64_t done = 0;
		for (int64_t r = 0; r < N; r++)
			done += valid_taps(r, N, t.K, t.P);
		assert_int_equal(wr.macs, 2 * done * c);
		assert_int_equal(wr.skipped, 2 * (N * t.K - done) * c);
		assert_int_equal(wf.macs, wr.macs);
		assert_int_equal(wf.skipped, wr.skipped);
		assert_int_equal(2 * wd.macs, wr.macs);
		assert_int_equal(2 * wd.skipped, wr.skipped);
		assert_int_equal(wdf.macs, wd.macs);
		assert_int_equal(wdf.skipped, wd.skipped);

		free(t.x), free(t.w), free(mask), free(R), free(t.out);
		free(t.tmp), free(t.kr), free(t.scr), free(wn);
		free(bx), free(bw), free(dx), free(dw), free(fx), free(fw);
		free(gx), free(gw);
	}
}

static void test_lightconv(void **state)
{
	(void)state;
	run_taps(false);
}

static void test_dynconv(void **state)
{
	(void)state;
	run_taps(true);
}

/* Dynamic conv edges: a tap on the padding still gets a logit gradient
 * (the softmax ran over all K taps), whose row sums to zero. */
static void test_dynconv_edge_logits(void **state)
{
	(void)state;
	int64_t N = 2, c = 2, H = 1, K = 3, P = 2;   /* causal, N < K */
	float x[4] = {1, 2, 3, 4}, kl[6] = {0.1f, 0.2f, 0.3f, -0.1f, 0.5f, 0.0f};
	float dy[4] = {1, 1, 1, 1}, dx[4] = {0}, dkl[6] = {0}, scr[6];
	ax_g_dynconv_ref(dx, c, dkl, K, dy, c, x, c, kl, K, NULL, 0, N, c, H, K,
			 P, scr, NULL);
	/* row 0 sees only tap 2: taps 0 and 1 read padding */
	assert_true(dkl[0] < 0.0f && dkl[1] < 0.0f && dkl[2] > 0.0f);
	for (int64_t r = 0; r < N; r++)
		assert_float_equal(dkl[r * K] + dkl[r * K + 1] + dkl[r * K + 2],
				   0.0, 1e-6);
}

/* --- depthwise and standard convolutions --------------------------------- */

struct etconv_ctx {
	bool std;                     /* conv1d, else depthwise */
	float *x, *W, *b;             /* x (N,i) ldx; W (K,c) or (o,K*i); b (o) */
	const float *R;               /* (N,o) */
	int64_t ldx, N, i, o, K, P;
	float *out;                   /* (N,o) */
};

static double etconv_loss(const void *vctx)
{
	const struct etconv_ctx *t = vctx;
	if (t->std)
		ax_k_conv1d_ref(t->out, t->o, t->x, t->ldx, t->W, t->b, t->N, t->i,
				t->o, t->K, t->P, NULL, NULL);
	else
		ax_k_dwconv_ref(t->out, t->o, t->x, t->ldx, t->W, t->N, t->i, t->K,
				t->P, NULL);
	return dot_rows(t->out, t->o, t->R, t->N, t->o);
}

static void test_dwconv(void **state)
{
	(void)state;
	/* N, c, K, pad_left */
	static const int64_t cases[][4] = {
		{5, 4, 3, 1}, {5, 3, 3, 2}, {3, 2, 7, 6}, {4, 5, 9, 4},
		{6, 2, 4, 1}, {1, 3, 3, 2}, {4, 2, 1, 0},
	};
	rng_seed(30);
	for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
		struct etconv_ctx t = { .N = cases[s][0], .i = cases[s][1],
					.o = cases[s][1], .K = cases[s][2],
					.P = cases[s][3] };
		int64_t N = t.N, c = t.i, K = t.K;
		t.ldx = c + 2;
		t.x = rand_buf(N * t.ldx);
		t.W = rand_buf(K * c);
		float *R = rand_buf(N * c);
		t.R = R;
		t.out = rand_buf(N * c);
		int64_t nx = N * t.ldx, lddx = t.ldx;
		float *bx = rand_buf(nx), *bw = rand_buf(K * c);
		float *dx = copy_buf(bx, nx), *dw = copy_buf(bw, K * c);
		float *fx = copy_buf(bx, nx), *fw = copy_buf(bw, K * c);
		struct ax_k_work wr = { 0 }, wf = { 0 };
		ax_g_dwconv_ref(dx, lddx, dw, R, c, t.x, t.ldx, t.W, N, c, K, t.P, &wr);
		ax_g_dwconv(fx, lddx, fw, R, c, t.x, t.ldx, t.W, N, c, K, t.P, &wf);
		float *gx = diff_buf(dx, bx, nx), *gw = diff_buf(dw, bw, K * c);
		fd_check("dwconv", K_DW, etconv_loss, &t, t.x, N, c, t.ldx, gx, lddx);
		fd_check("dwconv", K_DW, etconv_loss, &t, t.W, K, c, c, gw, c);
		check_acc("dwconv", fx, bx, dx, bx, nx);
		check_acc("dwconv", fw, bw, dw, bw, K * c);
		int64_t done = 0;
		for (int64_t r = 0; r < N; r++)
			done += valid_taps(r, N, K, t.P);
		assert_int_equal(wr.macs, 2 * done * c);
		assert_int_equal(wr.skipped, 2 * (N * K - done) * c);
		assert_int_equal(wf.macs, wr.macs);
		assert_int_equal(wf.skipped, wr.skipped);
		free(t.x), free(t.W), free(R), free(t.out), free(bx), free(bw);
		free(dx), free(dw), free(fx), free(fw), free(gx), free(gw);
	}
}

static void test_conv1d(void **state)
{
	(void)state;
	/* N, i, o, K, pad_left, bias */
	static const int64_t cases[][6] = {
		{5, 3, 4, 3, 1, 1}, {4, 2, 3, 3, 2, 1}, {2, 3, 2, 4, 3, 0},
		{6, 2, 2, 1, 0, 1}, {3, 2, 3, 4, 1, 0}, {1, 4, 2, 3, 1, 1},
		{9, 5, 3, 7, 6, 1},
	};
	rng_seed(31);
	for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
		const int64_t *cs = cases[s];
		struct etconv_ctx t = { .std = true, .N = cs[0], .i = cs[1],
					.o = cs[2], .K = cs[3], .P = cs[4] };
		int64_t N = t.N, i = t.i, o = t.o, K = t.K, ki = K * i;
		t.ldx = i + 1;
		t.x = rand_buf(N * t.ldx);
		t.W = rand_buf(o * ki);
		t.b = cs[5] ? rand_buf(o) : NULL;
		float *R = rand_buf(N * o);
		t.R = R;
		t.out = rand_buf(N * o);
		float *scr = rand_buf(ax_g_conv1d_scratch(N, i, K));
		int64_t nx = N * t.ldx;
		float *bx = rand_buf(nx), *bw = rand_buf(o * ki), *bb = rand_buf(o);
		float *dx = copy_buf(bx, nx), *dw = copy_buf(bw, o * ki);
		float *db = copy_buf(bb, o);
		float *fx = copy_buf(bx, nx), *fw = copy_buf(bw, o * ki);
		float *fb = copy_buf(bb, o);
		struct ax_k_work wr = { 0 }, wf = { 0 };
		ax_g_conv1d_ref(dx, t.ldx, dw, t.b ? db : NULL, R, o, t.x, t.ldx,
				t.W, N, i, o, K, t.P, scr, &wr);
		ax_g_conv1d(fx, t.ldx, fw, t.b ? fb : NULL, R, o, t.x, t.ldx, t.W,
			    N, i, o, K, t.P, scr, &wf);
		float *gx = diff_buf(dx, bx, nx), *gw = diff_buf(dw, bw, o * ki);
		float *gb = diff_buf(db, bb, o);
		fd_check("conv1d", K_CONV1D, etconv_loss, &t, t.x, N, i, t.ldx, gx,
			 t.ldx);
		fd_check("conv1d", K_CONV1D, etconv_loss, &t, t.W, o, ki, ki, gw, ki);
		if (t.b)
			fd_check("conv1d", K_CONV1D, etconv_loss, &t, t.b, 1, o, o, gb, o);
		else
			for (int64_t j = 0; j < o; j++)
				assert_float_equal(db[j], bb[j], 0.0);
		check_acc("conv1d", fx, bx, dx, bx, nx);
		check_acc("conv1d", fw, bw, dw, bw, o * ki);
		check_acc("conv1d", fb, bb, db, bb, o);
		/* the reference skips padding taps; the fast path does them all */
		int64_t done = 0;
		for (int64_t r = 0; r < N; r++)
			done += valid_taps(r, N, K, t.P);
		assert_int_equal(wr.macs, 2 * done * i * o);
		assert_int_equal(wr.macs + wr.skipped, 2 * N * K * i * o);
		assert_int_equal(wf.macs, 2 * N * K * i * o);
		free(t.x), free(t.W), free(t.b), free(R), free(t.out), free(scr);
		free(bx), free(bw), free(bb), free(dx), free(dw), free(db);
		free(fx), free(fw), free(fb), free(gx), free(gw), free(gb);
	}
}

/* --- gates and activations ------------------------------------------------ */

struct act_ctx {
	int kind;            /* K_GLU, K_SWISH, K_SIGMOID */
	float *x;            /* (N, win) ldx */
	const float *R;      /* (N, w) */
	int64_t ldx, N, w;
	float *out;          /* (N, w) */
};

static double act_loss(const void *vctx)
{
	const struct act_ctx *t = vctx;
	if (t->kind == K_GLU)
		ax_k_glu_ref(t->out, t->w, t->x, t->ldx, t->N, t->w);
	else if (t->kind == K_SWISH)
		ax_k_swish_ref(t->out, t->w, t->x, t->ldx, t->N, t->w);
	else
		ax_k_sigmoid_ref(t->out, t->w, t->x, t->ldx, t->N, t->w);
	return dot_rows(t->out, t->w, t->R, t->N, t->w);
}

static void test_activations(void **state)
{
	(void)state;
	static const int64_t shapes[][2] = {{1, 1}, {3, 5}, {6, 17}};
	rng_seed(40);
	for (int kind = K_GLU; kind <= K_SIGMOID; kind++)
		for (size_t s = 0; s < 3; s++) {
			struct act_ctx t = { .kind = kind, .N = shapes[s][0],
					     .w = shapes[s][1] };
			int64_t N = t.N, w = t.w, win = kind == K_GLU ? 2 * w : w;
			t.ldx = win + 3;
			t.x = rand_buf(N * t.ldx);
			for (int64_t j = 0; j < N * t.ldx; j++)
				t.x[j] *= 3.0f;   /* reach the sigmoid's tails */
			float *R = rand_buf(N * w);
			t.R = R;
			t.out = rand_buf(N * w);
			float *y = rand_buf(N * w);   /* sigmoid: its output */
			ax_k_sigmoid_ref(y, w, t.x, t.ldx, N, w);
			int64_t nx = N * t.ldx;
			float *bx = rand_buf(nx), *dx = copy_buf(bx, nx);
			float *fx = copy_buf(bx, nx);
			if (kind == K_GLU) {
				ax_g_glu_ref(dx, t.ldx, R, w, t.x, t.ldx, N, w);
				ax_g_glu(fx, t.ldx, R, w, t.x, t.ldx, N, w);
			} else if (kind == K_SWISH) {
				ax_g_swish_ref(dx, t.ldx, R, w, t.x, t.ldx, N, w);
				ax_g_swish(fx, t.ldx, R, w, t.x, t.ldx, N, w);
			} else {
				ax_g_sigmoid_ref(dx, t.ldx, R, w, y, w, N, w);
				ax_g_sigmoid(fx, t.ldx, R, w, y, w, N, w);
			}
			float *gx = diff_buf(dx, bx, nx);
			fd_check(kind_names[kind], kind, act_loss, &t, t.x, N, win,
				 t.ldx, gx, t.ldx);
			check_acc(kind_names[kind], fx, bx, dx, bx, nx);
			/* the columns past the view are untouched */
			for (int64_t r = 0; r < N; r++)
				for (int64_t c = win; c < t.ldx; c++)
					assert_true(dx[r * t.ldx + c] == bx[r * t.ldx + c]);
			free(t.x), free(R), free(t.out), free(y), free(bx), free(dx);
			free(fx), free(gx);
		}
}

/* --- adaptive input -------------------------------------------------------- */

#define NB_MAX 3

/* Bands over fresh random tables and projections; proj (d, d_b), or
 * (d_b, d) for the softmax's untied tails. */
static void make_bands(struct ax_k_band *bands, float **tab, float **proj,
		       int64_t nb, const int64_t *sizes, const int64_t *dims,
		       int64_t d, bool own)
{
	int64_t start = 0;
	for (int64_t b = 0; b < nb; b++) {
		tab[b] = rand_buf(sizes[b] * dims[b]);
		proj[b] = rand_buf(d * dims[b]);
		bands[b] = (struct ax_k_band){
			.start = start, .size = sizes[b], .dim = dims[b],
			.table = tab[b], .proj = proj[b],
			.proj_layout = own && b > 0 ? AX_K_PROJ_DB_D : AX_K_PROJ_D_DB,
		};
		start += sizes[b];
	}
}

struct ain_ctx {
	const int32_t *tok;
	const struct ax_k_band *bands;
	const float *R;      /* (N,d) */
	int64_t nb, N, d;
	float *out;          /* (N,d) */
};

static double ain_loss(const void *vctx)
{
	const struct ain_ctx *t = vctx;
	float scale = sqrtf((float)t->d);
	assert_int_equal(ax_k_adaptive_input_ref(t->out, t->d, t->tok, t->bands,
						 t->nb, t->N, t->d, scale, 0,
						 AX_SINUSOID_FAIRSEQ, NULL), AX_OK);
	return dot_rows(t->out, t->d, t->R, t->N, t->d);
}

/* Analytic band gradients over random bases: base[b], grad[b] hold
 * table then projection (size_b d_b + d d_b floats). */
static void ain_grads(bool fast, float **grad, float *const *base,
		      const struct ain_ctx *t, int64_t pad_row, float *scr,
		      struct ax_k_work *work)
{
	struct ax_g_band_grad gb[NB_MAX];
	for (int64_t b = 0; b < t->nb; b++) {
		int64_t nt = t->bands[b].size * t->bands[b].dim;
		int64_t np = t->d * t->bands[b].dim;
		grad[b] = copy_buf(base[b], nt + np);
		gb[b] = (struct ax_g_band_grad){ grad[b], grad[b] + nt };
	}
	(fast ? ax_g_adaptive_input : ax_g_adaptive_input_ref)(
		gb, t->R, t->d, t->tok, t->bands, t->nb, t->N, t->d,
		sqrtf((float)t->d), pad_row, scr, work);
	for (int64_t b = 0; b < t->nb; b++) {
		int64_t n = (t->bands[b].size + t->d) * t->bands[b].dim;
		for (int64_t j = 0; j < n; j++)
			grad[b][j] -= base[b][j];
	}
}

static void test_adaptive_input(void **state)
{
	(void)state;
	int64_t nb = 3, d = 6, sizes[3] = {5, 4, 3}, dims[3] = {6, 3, 2};
	rng_seed(50);
	struct ax_k_band bands[NB_MAX];
	float *tab[NB_MAX], *proj[NB_MAX], *base[NB_MAX];
	float *ga[NB_MAX], *gp[NB_MAX], *gf[NB_MAX];
	make_bands(bands, tab, proj, nb, sizes, dims, d, false);
	for (int64_t b = 0; b < nb; b++)
		base[b] = rand_buf((sizes[b] + d) * dims[b]);
	/* every band, each band's local row 1, a repeated token */
	int32_t tok[11] = {0, 1, 4, 5, 6, 8, 9, 10, 11, 1, 6};
	struct ain_ctx t = { .tok = tok, .bands = bands, .nb = nb, .N = 11,
			     .d = d };
	float *R = rand_buf(t.N * d);
	t.R = R;
	t.out = rand_buf(t.N * d);
	float *scr = rand_buf(ax_g_adaptive_input_scratch(t.N, d, bands, nb));
	struct ax_k_work wr = { 0 }, wf = { 0 };
	ain_grads(false, ga, base, &t, -1, scr, &wr);
	ain_grads(true, gf, base, &t, -1, scr, &wf);
	for (int64_t b = 0; b < nb; b++) {
		int64_t nt = sizes[b] * dims[b];
		fd_check("adaptive input table", K_AIN, ain_loss, &t, tab[b],
			 sizes[b], dims[b], dims[b], ga[b], dims[b]);
		fd_check("adaptive input proj", K_AIN, ain_loss, &t, proj[b], d,
			 dims[b], dims[b], ga[b] + nt, dims[b]);
		float *zero = calloc((size_t)(nt + d * dims[b]), sizeof *zero);
		check_acc("adaptive input", gf[b], zero, ga[b], zero, nt + d * dims[b]);
		free(zero);
	}
	int64_t want = 0;
	for (int64_t j = 0; j < t.N; j++)
		want += 2 * d * dims[tok[j] < 5 ? 0 : tok[j] < 9 ? 1 : 2];
	assert_int_equal(wr.macs, want);
	assert_int_equal(wf.macs, want);
	assert_int_equal(wr.skipped, 0);

	/* pad_row = 1: that row of every band's table gets nothing, the rest
	 * and the projections are unchanged */
	for (int fast = 0; fast < 2; fast++) {
		ain_grads(fast, gp, base, &t, 1, scr, NULL);
		for (int64_t b = 0; b < nb; b++) {
			int64_t n = (sizes[b] + d) * dims[b];
			for (int64_t j = 0; j < n; j++) {
				bool pad = j / dims[b] == 1;
				assert_true(pad ? gp[b][j] == 0.0f : gp[b][j] == (fast ? gf : ga)[b][j]);
			}
			free(gp[b]);
		}
	}
	for (int64_t b = 0; b < nb; b++)
		free(ga[b]), free(gf[b]);

	/* fast vs ref across block boundaries: 150 random tokens */
	int32_t many[150];
	for (int j = 0; j < 150; j++)
		many[j] = (int32_t)((rng_uniform() + 1.0f) * 6.0f) % 12;
	float *R2 = rand_buf(150 * d);
	struct ain_ctx t2 = { .tok = many, .bands = bands, .R = R2, .nb = nb,
			      .N = 150, .d = d };
	float *scr2 = rand_buf(ax_g_adaptive_input_scratch(150, d, bands, nb));
	ain_grads(false, ga, base, &t2, 1, scr2, NULL);
	ain_grads(true, gf, base, &t2, 1, scr2, NULL);
	for (int64_t b = 0; b < nb; b++) {
		int64_t n = (sizes[b] + d) * dims[b];
		float *zero = calloc((size_t)n, sizeof *zero);
		check_acc("adaptive input, 150 rows", gf[b], zero, ga[b], zero, n);
		free(zero), free(ga[b]), free(gf[b]);
	}
	for (int64_t b = 0; b < nb; b++)
		free(tab[b]), free(proj[b]), free(base[b]);
	free(R), free(t.out), free(scr), free(R2), free(scr2);
}

/* --- adaptive softmax loss -------------------------------------------------- */

struct asm_ctx {
	const struct ax_k_band *bands;
	float *h, *W_cls;       /* h (N,d) ldh; W_cls (nb-1, d) */
	const int32_t *target;
	int64_t nb, N, d, ldh, V;
	int32_t ignore;
	float gscale;
	float *out, *scr;       /* (N,V); forward scratch */
	uint64_t key;           /* tail dropout (p > 0): its key, rate and */
	float p;                /* the loss kernel's scratch */
	float *gscr;
};

/* gscale * sum over counted rows of -log p(target), by the forward
 * reference's full log-probabilities. */
static double asm_loss(const void *vctx)
{
	const struct asm_ctx *t = vctx;
	if (t->p > 0.0f) {   /* dropped tails: the loss-only reference */
		double l = 0.0;
		ax_g_adaptive_softmax_drop_ref(NULL, t->ldh, NULL, NULL, &l, 1.0f,
					       t->target, t->h, t->ldh, t->bands,
					       t->nb, t->W_cls, t->N, t->d,
					       t->ignore, t->key, t->p, t->gscr,
					       NULL);
		return t->gscale * l;
	}
	ax_k_adaptive_log_softmax_ref(t->out, t->V, t->h, t->ldh, t->bands,
				      t->nb, t->W_cls, t->N, t->d, t->scr, NULL);
	double s = 0.0;
	for (int64_t r = 0; r < t->N; r++)
		if (t->target[r] != t->ignore)
			s -= t->out[r * t->V + t->target[r]];
	return t->gscale * s;
}

/* Gradients of all: dh (N, ldh), then per band table and proj, then
 * dW_cls, each over a random base; returned as (after - base) in one
 * buffer laid out the same way as `base`. */
struct asm_grads {
	float *buf;                           /* everything, base subtracted */
	float *dh, *dcls, *dtab[NB_MAX], *dproj[NB_MAX];
	int64_t n;
	double loss;
};

static void asm_run(bool fast, struct asm_grads *g, const float *base,
		    const struct asm_ctx *t, struct ax_k_work *work)
{
	int64_t n = t->N * t->ldh + (t->nb - 1) * t->d;
	for (int64_t b = 0; b < t->nb; b++)
		n += (t->bands[b].size + t->d) * t->bands[b].dim;
	g->n = n;
	g->buf = copy_buf(base, n);
	float *p = g->buf;
	g->dh = p, p += t->N * t->ldh;
	g->dcls = p, p += (t->nb - 1) * t->d;
	struct ax_g_band_grad gb[NB_MAX];
	for (int64_t b = 0; b < t->nb; b++) {
		g->dtab[b] = p, p += t->bands[b].size * t->bands[b].dim;
		g->dproj[b] = p, p += t->d * t->bands[b].dim;
		gb[b] = (struct ax_g_band_grad){ g->dtab[b], g->dproj[b] };
	}
	float *scr = rand_buf(ax_g_adaptive_softmax_scratch(t->N, t->bands, t->nb));
	g->loss = 0.25;   /* accumulated onto */
	if (t->p > 0.0f)
		(fast ? ax_g_adaptive_softmax_drop : ax_g_adaptive_softmax_drop_ref)(
			g->dh, t->ldh, gb, g->dcls, &g->loss, t->gscale, t->target,
			t->h, t->ldh, t->bands, t->nb, t->W_cls, t->N, t->d,
			t->ignore, t->key, t->p, scr, work);
	else
		(fast ? ax_g_adaptive_softmax : ax_g_adaptive_softmax_ref)(
			g->dh, t->ldh, gb, g->dcls, &g->loss, t->gscale, t->target,
			t->h, t->ldh, t->bands, t->nb, t->W_cls, t->N, t->d,
			t->ignore, scr, work);
	g->loss -= 0.25;
	for (int64_t j = 0; j < n; j++)
		g->buf[j] -= base[j];
	free(scr);
}

/* The MACs the kernel must count for these targets. */
static int64_t asm_work(const struct asm_ctx *t)
{
	int64_t nh = t->bands[0].size + t->nb - 1, w = 0;
	for (int64_t r = 0; r < t->N; r++) {
		if (t->target[r] == t->ignore)
			continue;
		w += 3 * t->d * nh;
		for (int64_t b = 1; b < t->nb; b++) {
			const struct ax_k_band *bd = &t->bands[b];
			if (t->target[r] >= bd->start && t->target[r] < bd->start + bd->size)
				w += 3 * (t->d * bd->dim + bd->dim * bd->size);
		}
	}
	return w;
}

/* p > 0: with tail dropout at rate p (the fast kernel against the
 * reference, and the reference against differences of its own loss). */
static void asm_case(int64_t nb, bool own, int64_t N, int32_t ignore,
		     bool fd, float p)
{
	int64_t d = 8, sizes[3] = {6, 5, 4}, dims[3] = {8, 4, 2};
	struct ax_k_band bands[NB_MAX];
	float *tab[NB_MAX], *proj[NB_MAX];
	make_bands(bands, tab, proj, nb, sizes, dims, d, own);
	int64_t V = 0;
	for (int64_t b = 0; b < nb; b++)
		V += sizes[b];
	struct asm_ctx t = { .bands = bands, .nb = nb, .N = N, .d = d,
			     .ldh = d + 1, .V = V, .ignore = ignore,
			     .gscale = 0.7f, .key = 0x5eed1234u, .p = p };
	t.gscr = rand_buf(ax_g_adaptive_softmax_scratch(N, bands, nb));
	t.h = rand_buf(N * t.ldh);
	t.W_cls = rand_buf(nb > 1 ? (nb - 1) * d : 1);
	int32_t *target = malloc((size_t)N * sizeof *target);
	assert_non_null(target);
	for (int64_t r = 0; r < N; r++)   /* every id, then random ones */
		target[r] = r < V ? (int32_t)r :
			    (int32_t)((rng_uniform() + 1.0f) * (float)V) % (int32_t)V;
	t.target = target;
	t.out = rand_buf(N * V);
	t.scr = rand_buf(ax_k_adaptive_softmax_scratch(N, bands, nb));

	int64_t n = N * t.ldh + (nb - 1) * d;
	for (int64_t b = 0; b < nb; b++)
		n += (sizes[b] + d) * dims[b];
	float *base = rand_buf(n);
	struct asm_grads gr, gf;
	struct ax_k_work wr = { 0 }, wf = { 0 };
	asm_run(false, &gr, base, &t, &wr);
	asm_run(true, &gf, base, &t, &wf);

	/* the loss is the forward's NLL, gscale not applied to it */
	double want = asm_loss(&t) / t.gscale;
	if (p > 0.0f) {   /* the masks change the loss of the tail rows */
		t.p = 0.0f;
		double plain = asm_loss(&t) / t.gscale;
		t.p = p;
		assert_true(nb == 1 || fabs(plain - want) > 1e-4 * fabs(plain));
		assert_true(nb > 1 || fabs(plain - want) <= 1e-6 * fabs(plain));
	}
	assert_float_equal(gr.loss, want, 1e-5 * fabs(want) + 1e-6);
	assert_float_equal(gf.loss, want, 1e-4 * fabs(want) + 1e-5);
	if (fd) {
		fd_check("adaptive softmax dh", K_ASM, asm_loss, &t, t.h, N, d,
			 t.ldh, gr.dh, t.ldh);
		if (nb > 1)
			fd_check("adaptive softmax W_cls", K_ASM, asm_loss, &t,
				 t.W_cls, nb - 1, d, d, gr.dcls, d);
		fd_check("adaptive softmax E_0", K_ASM, asm_loss, &t, tab[0],
			 sizes[0], d, d, gr.dtab[0], d);
		for (int64_t b = 1; b < nb; b++) {
			fd_check("adaptive softmax E_b", K_ASM, asm_loss, &t, tab[b],
				 sizes[b], dims[b], dims[b], gr.dtab[b], dims[b]);
			int64_t pr = own ? dims[b] : d, pc = own ? d : dims[b];
			fd_check("adaptive softmax P_b", K_ASM, asm_loss, &t, proj[b],
				 pr, pc, pc, gr.dproj[b], pc);
		}
	}
	float *zero = calloc((size_t)n, sizeof *zero);
	check_acc("adaptive softmax", gf.buf, zero, gr.buf, zero, n);
	/* ignored rows get no dh; band 0's dproj slot is never touched */
	for (int64_t r = 0; r < N; r++)
		if (target[r] == ignore)
			for (int64_t c = 0; c < d; c++)
				assert_true(gr.dh[r * t.ldh + c] == 0.0f &&
					    gf.dh[r * t.ldh + c] == 0.0f);
	for (int64_t j = 0; j < d * dims[0]; j++)
		assert_true(gr.dproj[0][j] == 0.0f && gf.dproj[0][j] == 0.0f);
	assert_int_equal(wr.macs, asm_work(&t));
	assert_int_equal(wf.macs, wr.macs);
	/* loss only (dh NULL): the same loss, a third of the work */
	for (int fast = 0; fast < 2; fast++) {
		float *scr = rand_buf(ax_g_adaptive_softmax_scratch(N, bands, nb));
		struct ax_k_work wl = { 0 };
		double l = 0.0;
		(fast ? ax_g_adaptive_softmax_drop : ax_g_adaptive_softmax_drop_ref)(
			NULL, t.ldh, NULL, NULL, &l, t.gscale, target, t.h, t.ldh,
			bands, nb, t.W_cls, N, d, ignore, t.key, p, scr, &wl);
		assert_float_equal(l, fast ? gf.loss : gr.loss, 1e-9 * fabs(l));
		assert_int_equal(3 * wl.macs, asm_work(&t));
		free(scr);
	}

	free(zero), free(base), free(gr.buf), free(gf.buf);
	for (int64_t b = 0; b < nb; b++)
		free(tab[b]), free(proj[b]);
	free(t.h), free(t.W_cls), free(target), free(t.out), free(t.scr);
	free(t.gscr);
}

static void test_adaptive_softmax(void **state)
{
	(void)state;
	rng_seed(60);
	for (int own = 0; own < 2; own++) {
		asm_case(3, own, 18, 1, true, 0.0f);   /* pad id ignored */
		asm_case(3, own, 16, -1, true, 0.0f);  /* nothing ignored */
		asm_case(2, own, 12, 7, true, 0.0f);   /* an ignored tail id */
		asm_case(3, own, 150, 1, false, 0.0f); /* blocks of 64 rows */
		/* adaptive_softmax_dropout inside the tails */
		asm_case(3, own, 18, 1, true, 0.3f);
		asm_case(3, own, 150, 1, false, 0.3f);
	}
	asm_case(1, false, 9, -1, true, 0.0f);       /* head only */
	asm_case(1, false, 9, -1, true, 0.3f);       /* no tail: no mask */
}

static void print_table(void **state)
{
	(void)state;
	printf("grad_conv: max relative error, analytic vs central differences "
	       "(max |a - fd| / max |fd| per tensor)\n");
	for (int k = 0; k < K_COUNT; k++)
		printf("grad_conv:   %-26s %.2e\n", kind_names[k], worst[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lightconv),
		cmocka_unit_test(test_dynconv),
		cmocka_unit_test(test_dynconv_edge_logits),
		cmocka_unit_test(test_dwconv),
		cmocka_unit_test(test_conv1d),
		cmocka_unit_test(test_activations),
		cmocka_unit_test(test_adaptive_input),
		cmocka_unit_test(test_adaptive_softmax),
		cmocka_unit_test(print_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
