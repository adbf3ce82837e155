/*
 * test_grad.c - every backward kernel of src/train/grad.h checked two
 * ways on small seeded random shapes:
 *   1. the `_ref` backward against central finite differences of the
 *      forward, with the scalar L = sum(R o y) (R a fixed random upstream
 *      gradient) accumulated in double: max |analytic - fd| / max |fd|
 *      over every input and parameter must stay below 2e-3 (printed, so
 *      the log holds the table);
 *   2. the fast backward against its `_ref` (same inputs, += onto the same
 *      non-zero starting values, so accumulation is checked too).
 * Attention covers self, causal and cross shapes and attention dropout;
 * add covers the zero-pad add and residual dropout; the loss covers
 * label smoothing and ignored pad rows, and its fused twin (over raw
 * logits) must equal the log-softmax followed by the loss; the `set`
 * forms of the input gradients must equal += onto zeros.
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

#include "grad.h"
#include "kernels.h"

#define H_FD 1e-2f
#define TOL_FD 2e-3
#define TOL_FAST 1e-4

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9E3779B97F4A7C15ull + 1;
}

static float uni(void)   /* [-1, 1) */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static float *rnd(int64_t n)
{
	float *p = malloc((size_t)n * sizeof *p);
	assert_non_null(p);
	for (int64_t i = 0; i < n; i++)
		p[i] = uni();
	return p;
}

static float *zeros(int64_t n)
{
	float *p = calloc((size_t)n, sizeof *p);
	assert_non_null(p);
	return p;
}

/* A forward under test: writes y from the current inputs. */
typedef void (*fwd_fn)(void *ctx, float *y);

struct fd {
	fwd_fn f;
	void *ctx;
	float *y;        /* (ny) */
	const float *R;  /* (ny) upstream gradient */
	int64_t ny;
};

static double loss(const struct fd *c)
{
	c->f(c->ctx, c->y);
	double s = 0.0;
	for (int64_t i = 0; i < c->ny; i++)
		s += (double)c->R[i] * c->y[i];
	return s;
}

/* max |g - fd| / max |fd| over the n entries of x (perturbed in place). */
static double fd_err(const struct fd *c, float *x, int64_t n, const float *g)
{
	double num = 0.0, den = 0.0;
	for (int64_t i = 0; i < n; i++) {
		float x0 = x[i];
		x[i] = x0 + H_FD;
		double lp = loss(c);
		x[i] = x0 - H_FD;
		double lm = loss(c);
		x[i] = x0;
		double fd = (lp - lm) / (2.0 * (double)H_FD);
		num = fmax(num, fabs(fd - g[i]));
		den = fmax(den, fabs(fd));
	}
	return num / (den > 1e-12 ? den : 1.0);
}

static double max_rel(const float *a, const float *b, int64_t n)
{
	double num = 0.0, den = 0.0;
	for (int64_t i = 0; i < n; i++) {
		num = fmax(num, fabs((double)a[i] - b[i]));
		den = fmax(den, fabs((double)b[i]));
	}
	return num / (den > 1e-12 ? den : 1.0);
}

static void report(const char *op, const char *what, double e, double tol)
{
	printf("grad %-24s %-8s max rel err %.2e\n", op, what, e);
	assert_true(e <= tol);
}

/* --- linear ------------------------------------------------------------- */

struct lin { float *x, *W, *b; int64_t N, i, o; };

static void lin_fwd(void *p, float *y)
{
	struct lin *l = p;
	ax_k_linear_ref(y, l->o, l->x, l->i, l->W, l->b, l->N, l->i, l->o, NULL);
}

static void test_linear(void **state)
{
	(void)state;
	rng_seed(1);
	struct lin l = { .N = 5, .i = 7, .o = 6 };
	l.x = rnd(l.N * l.i), l.W = rnd(l.o * l.i), l.b = rnd(l.o);
	float *R = rnd(l.N * l.o), *y = zeros(l.N * l.o);
	float *dx = rnd(l.N * l.i), *dW = rnd(l.o * l.i), *db = rnd(l.o);
	float *dx0 = malloc(sizeof(float) * (size_t)(l.N * l.i));
	float *dW0 = malloc(sizeof(float) * (size_t)(l.o * l.i));
	float *db0 = malloc(sizeof(float) * (size_t)l.o);
	memcpy(dx0, dx, sizeof(float) * (size_t)(l.N * l.i));
	memcpy(dW0, dW, sizeof(float) * (size_t)(l.o * l.i));
	memcpy(db0, db, sizeof(float) * (size_t)l.o);
	/* fast onto the starting values, then ref onto copies */
	ax_g_linear(dx, l.i, dW, db, R, l.o, l.x, l.i, l.W, l.N, l.i, l.o, false);
	ax_g_linear_ref(dx0, l.i, dW0, db0, R, l.o, l.x, l.i, l.W, l.N, l.i, l.o, false);
	report("linear", "fast", fmax(max_rel(dx, dx0, l.N * l.i),
				      fmax(max_rel(dW, dW0, l.o * l.i),
					   max_rel(db, db0, l.o))), TOL_FAST);
	float *gx = zeros(l.N * l.i), *gW = zeros(l.o * l.i), *gb = zeros(l.o);
	ax_g_linear_ref(gx, l.i, gW, gb, R, l.o, l.x, l.i, l.W, l.N, l.i, l.o, false);
	struct fd c = { lin_fwd, &l, y, R, l.N * l.o };
	report("linear", "dx", fd_err(&c, l.x, l.N * l.i, gx), TOL_FD);
	report("linear", "dW", fd_err(&c, l.W, l.o * l.i, gW), TOL_FD);
	report("linear", "db", fd_err(&c, l.b, l.o, gb), TOL_FD);
	free(l.x), free(l.W), free(l.b), free(R), free(y), free(dx), free(dW);
	free(db), free(dx0), free(dW0), free(db0), free(gx), free(gW), free(gb);
}

/* --- layernorm ------------------------------------------------------------ */

struct ln { float *x, *g, *b; int64_t N, w; };

static void ln_fwd(void *p, float *y)
{
	struct ln *l = p;
	ax_k_layernorm_ref(y, l->w, l->x, l->w, l->g, l->b, l->N, l->w, 1e-5f);
}

static void test_layernorm(void **state)
{
	(void)state;
	rng_seed(2);
	struct ln l = { .N = 4, .w = 9 };
	l.x = rnd(l.N * l.w), l.g = rnd(l.w), l.b = rnd(l.w);
	float *R = rnd(l.N * l.w), *y = zeros(l.N * l.w);
	float *gx = zeros(l.N * l.w), *gg = zeros(l.w), *gb = zeros(l.w);
	float *fx = zeros(l.N * l.w), *fg = zeros(l.w), *fb = zeros(l.w);
	ax_g_layernorm_ref(gx, l.w, gg, gb, R, l.w, l.x, l.w, l.g, l.N, l.w, 1e-5f, false);
	ax_g_layernorm(fx, l.w, fg, fb, R, l.w, l.x, l.w, l.g, l.N, l.w, 1e-5f, false);
	report("layernorm", "fast", fmax(max_rel(fx, gx, l.N * l.w),
					 fmax(max_rel(fg, gg, l.w), max_rel(fb, gb, l.w))),
	       TOL_FAST);
	struct fd c = { ln_fwd, &l, y, R, l.N * l.w };
	report("layernorm", "dx", fd_err(&c, l.x, l.N * l.w, gx), TOL_FD);
	report("layernorm", "dgamma", fd_err(&c, l.g, l.w, gg), TOL_FD);
	report("layernorm", "dbeta", fd_err(&c, l.b, l.w, gb), TOL_FD);
	free(l.x), free(l.g), free(l.b), free(R), free(y), free(gx), free(gg);
	free(gb), free(fx), free(fg), free(fb);
	/* the fast rows' lane sums: full 16-lane blocks, a tail, +=, no dx */
	for (int64_t w = 41; w <= 256; w += 215) {
		int64_t N = 3;
		float *x = rnd(N * w), *gm = rnd(w), *dy = rnd(N * w);
		float *ax = rnd(N * w), *ag = rnd(w), *ab = rnd(w);
		float *bx = malloc((size_t)(N * w) * sizeof *bx);
		float *bg = malloc((size_t)w * sizeof *bg);
		float *bb = malloc((size_t)w * sizeof *bb);
		assert_non_null(bx), assert_non_null(bg), assert_non_null(bb);
		memcpy(bx, ax, (size_t)(N * w) * sizeof *bx);
		memcpy(bg, ag, (size_t)w * sizeof *bg);
		memcpy(bb, ab, (size_t)w * sizeof *bb);
		ax_g_layernorm_ref(ax, w, ag, ab, dy, w, x, w, gm, N, w, 1e-5f, false);
		ax_g_layernorm(bx, w, bg, bb, dy, w, x, w, gm, N, w, 1e-5f, false);
		report(w == 41 ? "layernorm (w 41)" : "layernorm (w 256)", "fast",
		       fmax(max_rel(bx, ax, N * w),
			    fmax(max_rel(bg, ag, w), max_rel(bb, ab, w))), TOL_FAST);
		ax_g_layernorm_ref(NULL, 0, ag, ab, dy, w, x, w, gm, N, w, 1e-5f, false);
		ax_g_layernorm(NULL, 0, bg, bb, dy, w, x, w, gm, N, w, 1e-5f, false);
		assert_true(max_rel(bg, ag, w) <= TOL_FAST);
		free(x), free(gm), free(dy), free(ax), free(ag), free(ab);
		free(bx), free(bg), free(bb);
	}
}

/* --- attention -------------------------------------------------------------- */

struct att {
	float *q, *k, *v, *scratch;
	int64_t Nq, Nk, w, H;
	bool causal;
	float p;
	uint64_t key;
};

static void att_fwd(void *p, float *y)
{
	struct att *a = p;
	ax_g_attention_fwd(y, a->w, a->q, a->w, a->k, a->w, a->v, a->w, a->Nq,
			   a->Nk, a->w, a->H, a->causal, a->key, a->p, a->scratch);
}

static void check_attention(const char *name, int64_t Nq, int64_t Nk,
			    int64_t w, int64_t H, bool causal, float p)
{
	struct att a = { .Nq = Nq, .Nk = Nk, .w = w, .H = H, .causal = causal,
			 .p = p, .key = 77 };
	a.q = rnd(Nq * w), a.k = rnd(Nk * w), a.v = rnd(Nk * w);
	a.scratch = zeros(ax_g_attention_scratch(Nq, Nk, w));
	float *R = rnd(Nq * w), *y = zeros(Nq * w);
	if (p == 0.0f) {   /* the training forward is the inference kernel */
		float *y2 = zeros(Nq * w);
		att_fwd(&a, y);
		ax_k_attention_ref(y2, w, a.q, w, a.k, w, a.v, w, Nq, Nk, w, H,
				   causal, 0, a.scratch, NULL);
		report(name, "forward", max_rel(y, y2, Nq * w), TOL_FAST);
		free(y2);
	}
	float *gq = zeros(Nq * w), *gk = zeros(Nk * w), *gv = zeros(Nk * w);
	float *fq = zeros(Nq * w), *fk = zeros(Nk * w), *fv = zeros(Nk * w);
	ax_g_attention_ref(gq, w, gk, w, gv, w, R, w, a.q, w, a.k, w, a.v, w,
			   Nq, Nk, w, H, causal, a.key, p, a.scratch);
	ax_g_attention(fq, w, fk, w, fv, w, R, w, a.q, w, a.k, w, a.v, w, Nq,
		       Nk, w, H, causal, a.key, p, a.scratch);
	report(name, "fast", fmax(max_rel(fq, gq, Nq * w),
				  fmax(max_rel(fk, gk, Nk * w), max_rel(fv, gv, Nk * w))),
	       TOL_FAST);
	struct fd c = { att_fwd, &a, y, R, Nq * w };
	report(name, "dq", fd_err(&c, a.q, Nq * w, gq), TOL_FD);
	report(name, "dk", fd_err(&c, a.k, Nk * w, gk), TOL_FD);
	report(name, "dv", fd_err(&c, a.v, Nk * w, gv), TOL_FD);
	free(a.q), free(a.k), free(a.v), free(a.scratch), free(R), free(y);
	free(gq), free(gk), free(gv), free(fq), free(fk), free(fv);
}

static void test_attention(void **state)
{
	(void)state;
	rng_seed(3);
	check_attention("attention self", 5, 5, 6, 2, false, 0.0f);
	check_attention("attention causal", 6, 6, 8, 4, true, 0.0f);
	check_attention("attention cross", 4, 7, 6, 3, false, 0.0f);
	check_attention("attention dropout", 5, 5, 6, 2, true, 0.3f);
	/* rows past one 16-lane block of the vectorised softmax */
	check_attention("attention causal 19", 19, 19, 8, 2, true, 0.1f);
	check_attention("attention cross 3x21", 3, 21, 6, 2, false, 0.0f);
	/* heads of 16 and 32 channels: the AVX-512 small path where the
	 * CPU has it (row and key tails, keys past one vector) */
	check_attention("attention h16 causal 26", 26, 26, 32, 2, true, 0.1f);
	check_attention("attention h32 cross 7x37", 7, 37, 64, 2, false, 0.0f);
	check_attention("attention h16 self 5", 5, 5, 48, 3, false, 0.2f);
	check_attention("attention h64 causal 18", 18, 18, 128, 2, true, 0.0f);
}

/* --- embed ------------------------------------------------------------------ */

struct emb { float *E; int32_t tok[6]; int64_t V, N, d; enum ax_sinusoid_kind kind; };

static void emb_fwd(void *p, float *y)
{
	struct emb *e = p;
	enum ax_status st = ax_k_embed_ref(y, e->d, e->E, e->V, e->tok, e->N,
					   e->d, sqrtf((float)e->d), 0, e->kind);
	assert_int_equal(st, AX_OK);
}

/* fairseq tables (row 1 is padding) and t2t tables (id 0 embeds to
 * zero, so row 0 gets no gradient and row 1 does). */
static void check_embed(enum ax_sinusoid_kind kind, int32_t pad,
			const int32_t *tok, const char *name)
{
	struct emb e = { .V = 9, .N = 6, .d = 8, .kind = kind };
	memcpy(e.tok, tok, sizeof e.tok);
	e.E = rnd(e.V * e.d);
	float *R = rnd(e.N * e.d), *y = zeros(e.N * e.d);
	float *g = zeros(e.V * e.d), *f = zeros(e.V * e.d);
	float scale = sqrtf((float)e.d);
	ax_g_embed_ref(g, R, e.d, e.tok, e.N, e.d, scale, pad);
	ax_g_embed(f, R, e.d, e.tok, e.N, e.d, scale, pad);
	report(name, "fast", max_rel(f, g, e.V * e.d), TOL_FAST);
	struct fd c = { emb_fwd, &e, y, R, e.N * e.d };
	report(name, "dE", fd_err(&c, e.E, e.V * e.d, g), TOL_FD);
	free(e.E), free(R), free(y), free(g), free(f);
}

static void test_embed(void **state)
{
	(void)state;
	rng_seed(4);
	static const int32_t fs[6] = { 4, 7, 4, 2, 8, 5 }, t2t[6] = { 0, 7, 1, 0, 8, 4 };
	check_embed(AX_SINUSOID_FAIRSEQ, AX_G_PAD, fs, "embed");
	check_embed(AX_SINUSOID_T2T, 0, t2t, "embed t2t");
}

/* --- relu, add, log_softmax ---------------------------------------------------- */

struct ew { float *a, *b; int64_t N, w0, w1; int kind; uint64_t key; float p; };

static void ew_fwd(void *p, float *y)
{
	struct ew *e = p;
	if (e->kind == 0) {
		ax_k_relu_ref(y, e->w0, e->a, e->w0, e->N, e->w0);
	} else if (e->kind == 1) {
		/* residual dropout on the branch, then the zero-pad add */
		float bd[64];
		memcpy(bd, e->b, sizeof(float) * (size_t)(e->N * e->w1));
		ax_g_dropout(bd, e->w1, e->N, e->w1, e->key, e->p);
		ax_k_add_ref(y, e->w0, e->a, e->w0, bd, e->w1, e->N, e->w0, e->w1);
	} else {
		ax_k_log_softmax_ref(y, e->w0, e->a, e->w0, e->N, e->w0);
	}
}

static void check_ew(const char *name, int kind, float p)
{
	struct ew e = { .N = 4, .w0 = 7, .w1 = kind == 1 ? 5 : 7, .kind = kind,
			.key = 5, .p = p };
	e.a = rnd(e.N * e.w0), e.b = rnd(e.N * e.w1);
	if (kind == 0)   /* keep relu inputs off the kink at 0 */
		for (int64_t i = 0; i < e.N * e.w0; i++)
			e.a[i] += e.a[i] >= 0 ? 0.1f : -0.1f;
	int64_t n0 = e.N * e.w0, n1 = e.N * e.w1;
	float *R = rnd(n0), *y = zeros(n0);
	float *ga = zeros(n0), *gb = zeros(n1), *fa = zeros(n0), *fb = zeros(n1);
	ew_fwd(&e, y);
	if (kind == 0) {
		ax_g_relu_ref(ga, e.w0, R, e.w0, y, e.w0, e.N, e.w0, false);
		ax_g_relu(fa, e.w0, R, e.w0, y, e.w0, e.N, e.w0, false);
	} else if (kind == 1) {
		ax_g_add_ref(ga, e.w0, gb, e.w1, R, e.w0, e.N, e.w0, e.w1, e.key, p, false,
			     false);
		ax_g_add(fa, e.w0, fb, e.w1, R, e.w0, e.N, e.w0, e.w1, e.key, p, false,
			     false);
	} else {
		ax_g_log_softmax_ref(ga, e.w0, R, e.w0, y, e.w0, e.N, e.w0);
		ax_g_log_softmax(fa, e.w0, R, e.w0, y, e.w0, e.N, e.w0);
	}
	report(name, "fast", fmax(max_rel(fa, ga, n0), max_rel(fb, gb, n1)),
	       TOL_FAST);
	struct fd c = { ew_fwd, &e, y, R, n0 };
	report(name, "dx", fd_err(&c, e.a, n0, ga), TOL_FD);
	if (kind == 1)
		report(name, "dbranch", fd_err(&c, e.b, n1, gb), TOL_FD);
	free(e.a), free(e.b), free(R), free(y), free(ga), free(gb), free(fa), free(fb);
}

/* --- set instead of +=: the first writer of a gradient ----------------------
 * Each kernel with a `set` flag, fast and ref, onto non-zero buffers,
 * must give what the += form gives onto zeros. */
static void check_set(const char *name, const float *got, const float *want,
		      int64_t n)
{
	report(name, "set", max_rel(got, want, n), TOL_FAST);
}

static void test_set(void **state)
{
	(void)state;
	rng_seed(8);
	int64_t N = 3, i = 21, o = 19, n = N * i;
	float *x = rnd(n), *W = rnd(o * i), *dy = rnd(N * o), *gm = rnd(i);
	float *want = zeros(n), *dW = zeros(o * i), *a = rnd(n), *b = rnd(n);
	ax_g_linear_ref(want, i, dW, NULL, dy, o, x, i, W, N, i, o, false);
	ax_g_linear_ref(a, i, NULL, NULL, dy, o, x, i, W, N, i, o, true);
	ax_g_linear(b, i, NULL, NULL, dy, o, x, i, W, N, i, o, true);
	check_set("linear dx ref", a, want, n);
	check_set("linear dx", b, want, n);
	float *g = rnd(n);   /* upstream gradient of the (N,i) ops */
	memset(want, 0, (size_t)n * sizeof *want);
	ax_g_layernorm_ref(want, i, NULL, NULL, g, i, x, i, gm, N, i, 1e-5f, false);
	ax_g_layernorm_ref(a, i, NULL, NULL, g, i, x, i, gm, N, i, 1e-5f, true);
	ax_g_layernorm(b, i, NULL, NULL, g, i, x, i, gm, N, i, 1e-5f, true);
	check_set("layernorm dx ref", a, want, n);
	check_set("layernorm dx", b, want, n);
	memset(want, 0, (size_t)n * sizeof *want);
	ax_g_relu_ref(want, i, g, i, x, i, N, i, false);
	ax_g_relu_ref(a, i, g, i, x, i, N, i, true);
	ax_g_relu(b, i, g, i, x, i, N, i, true);
	check_set("relu dx ref", a, want, n);
	check_set("relu dx", b, want, n);
	for (int k = 0; k < 2; k++) {   /* residual dropout off, on */
		float p = k ? 0.25f : 0.0f, *wb = zeros(N * 17), *ab = rnd(N * 17);
		float *bb = rnd(N * 17);
		memset(want, 0, (size_t)n * sizeof *want);
		ax_g_add_ref(want, i, wb, 17, g, i, N, i, 17, 9, p, false, false);
		ax_g_add_ref(a, i, ab, 17, g, i, N, i, 17, 9, p, true, true);
		ax_g_add(b, i, bb, 17, g, i, N, i, 17, 9, p, true, true);
		check_set("add da ref", a, want, n);
		check_set("add da", b, want, n);
		check_set("add db ref", ab, wb, N * 17);
		check_set("add db", bb, wb, N * 17);
		free(wb), free(ab), free(bb);
	}
	free(x), free(W), free(dy), free(gm), free(want), free(dW), free(a);
	free(b), free(g);
}

static void test_elementwise(void **state)
{
	(void)state;
	rng_seed(5);
	check_ew("relu", 0, 0.0f);
	check_ew("add (zero-pad)", 1, 0.0f);
	check_ew("add (residual dropout)", 1, 0.25f);
	check_ew("log_softmax", 2, 0.0f);
}

/* --- loss ------------------------------------------------------------------- */

struct ls { float *lp; int32_t tgt[5]; int64_t N, V; };

static void ls_fwd(void *p, float *y)
{
	struct ls *l = p;
	y[0] = (float)ax_g_label_smoothed_nll_ref(NULL, 0, l->lp, l->V, l->tgt,
						  l->N, l->V, 0.1f, AX_G_PAD,
						  1.0f, NULL);
}

static void test_loss(void **state)
{
	(void)state;
	rng_seed(6);
	struct ls l = { .N = 5, .V = 8, .tgt = { 3, 1, 7, 0, 5 } };  /* row 1 pad */
	l.lp = rnd(l.N * l.V);
	float R = 1.0f, y = 0.0f;
	float *g = zeros(l.N * l.V), *f = zeros(l.N * l.V);
	double nll, nll2;
	double a = ax_g_label_smoothed_nll_ref(g, l.V, l.lp, l.V, l.tgt, l.N, l.V,
					       0.1f, AX_G_PAD, 1.0f, &nll);
	double b = ax_g_label_smoothed_nll(f, l.V, l.lp, l.V, l.tgt, l.N, l.V,
					   0.1f, AX_G_PAD, 1.0f, &nll2);
	assert_true(fabs(a - b) <= 1e-5 * fabs(a) && fabs(nll - nll2) <= 1e-5 * fabs(nll));
	for (int64_t c = 0; c < l.V; c++)   /* the pad row gets nothing */
		assert_true(g[l.V + c] == 0.0f);
	/* eps = 0 is plain nll */
	double n0 = ax_g_label_smoothed_nll_ref(NULL, 0, l.lp, l.V, l.tgt, l.N,
						l.V, 0.0f, AX_G_PAD, 1.0f, NULL);
	assert_true(fabs(n0 - nll) < 1e-9);
	report("loss (eps 0.1)", "fast", max_rel(f, g, l.N * l.V), TOL_FAST);
	struct fd c = { ls_fwd, &l, &y, &R, 1 };
	report("loss (eps 0.1)", "dlp", fd_err(&c, l.lp, l.N * l.V, g), TOL_FD);
	free(l.lp), free(g), free(f);
}

/* --- the loss fused with its log-softmax ---------------------------------- */

#define LF_N 6
#define LF_V 37   /* two 16-lane blocks and a tail */

struct lf { float *z; int32_t tgt[LF_N]; };

static void lf_fwd(void *p, float *y)
{
	struct lf *l = p;
	y[0] = (float)ax_g_log_softmax_nll_ref(NULL, 0, l->z, LF_V, l->tgt,
					       LF_N, LF_V, 0.1f, AX_G_PAD,
					       1.0f, NULL);
}

/* fused == log_softmax then label_smoothed_nll, forward and backward */
static void test_loss_fused(void **state)
{
	(void)state;
	rng_seed(7);
	struct lf l = { .tgt = { 3, AX_G_PAD, 36, 0, 16, 31 } };
	int64_t n = LF_N * LF_V;
	l.z = rnd(n);
	for (int64_t e = 0; e < n; e++)
		l.z[e] *= 4.0f;
	float *lp = zeros(n), *dlp = zeros(n), *g = rnd(n), *f = rnd(n);
	float *gs = zeros(n);
	ax_k_log_softmax_ref(lp, LF_V, l.z, LF_V, LF_N, LF_V);
	double nll0, nll1, nll2;
	double a0 = ax_g_label_smoothed_nll_ref(dlp, LF_V, lp, LF_V, l.tgt, LF_N,
						LF_V, 0.1f, AX_G_PAD, 0.5f,
						&nll0);
	ax_g_log_softmax_ref(gs, LF_V, dlp, LF_V, lp, LF_V, LF_N, LF_V);
	/* g and f start non-zero: the fused kernel sets, never adds */
	double a1 = ax_g_log_softmax_nll_ref(g, LF_V, l.z, LF_V, l.tgt, LF_N,
					     LF_V, 0.1f, AX_G_PAD, 0.5f, &nll1);
	double a2 = ax_g_log_softmax_nll(f, LF_V, l.z, LF_V, l.tgt, LF_N, LF_V,
					 0.1f, AX_G_PAD, 0.5f, &nll2);
	assert_true(fabs(a1 - a0) <= 1e-5 * fabs(a0));
	assert_true(fabs(nll1 - nll0) <= 1e-5 * fabs(nll0));
	assert_true(fabs(a2 - a1) <= 1e-5 * fabs(a1));
	assert_true(fabs(nll2 - nll1) <= 1e-5 * fabs(nll1));
	for (int64_t c = 0; c < LF_V; c++)   /* the pad row: zero */
		assert_true(g[LF_V + c] == 0.0f && f[LF_V + c] == 0.0f);
	report("loss fused", "unfused", max_rel(g, gs, n), TOL_FAST);
	report("loss fused", "fast", max_rel(f, g, n), TOL_FAST);
	/* without a gradient, and in place (dz == z) */
	double a3 = ax_g_log_softmax_nll(NULL, 0, l.z, LF_V, l.tgt, LF_N, LF_V,
					 0.1f, AX_G_PAD, 0.5f, NULL);
	assert_true(a3 == a2);
	float *zc = malloc((size_t)n * sizeof *zc);
	assert_non_null(zc);
	memcpy(zc, l.z, (size_t)n * sizeof *zc);
	double a4 = ax_g_log_softmax_nll(zc, LF_V, zc, LF_V, l.tgt, LF_N, LF_V,
					 0.1f, AX_G_PAD, 0.5f, NULL);
	assert_true(a4 == a2 && memcmp(zc, f, (size_t)n * sizeof *zc) == 0);
	/* finite differences of the fused loss, g_scale 1 */
	ax_g_log_softmax_nll_ref(g, LF_V, l.z, LF_V, l.tgt, LF_N, LF_V, 0.1f,
				 AX_G_PAD, 1.0f, NULL);
	float R = 1.0f, y = 0.0f;
	struct fd c = { lf_fwd, &l, &y, &R, 1 };
	report("loss fused", "dz", fd_err(&c, l.z, n, g), TOL_FD);
	free(l.z), free(lp), free(dlp), free(g), free(f), free(gs), free(zc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_layernorm),
		cmocka_unit_test(test_attention),
		cmocka_unit_test(test_embed),
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_loss_fused),
		cmocka_unit_test(test_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
