/*
 * grad.c - backward kernels (see grad.h for shapes and conventions).
 *
 * Each `_ref` is the derivative written as plain loops with double
 * accumulators, in the order a reader checks it against the forward
 * formula; tests/test_grad.c checks every `_ref` against central finite
 * differences and every fast kernel against its `_ref`. The fast versions
 * call OpenBLAS for the products (linear, attention) and keep the other
 * loops unit-stride so that they vectorise.
 */
#include "grad.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "attn_small.h"
#include "diag.h"
#include "kernels.h"

/* As in kernels.c: AVX-512, AVX2 and baseline builds of the elementwise
 * loops, picked at load time. The build is ISO C (no FMA contraction)
 * and the loops keep their per-element arithmetic, so every clone gives
 * the same bits; AVX-512's 64-bit multiply vectorises the dropout hash. */
#define AX_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/* x[c] *= mask(key, base + c): one row of a dropout. The public kernels
 * stay plain functions (the layering check reads their symbols); their
 * rows are the cloned helpers. */
AX_SIMD_CLONES
static void dropout_row(float *x, int64_t w, uint64_t base, uint64_t key,
			float p)
{
	for (int64_t c = 0; c < w; c++)
		x[c] *= ax_g_keep(key, base + (uint64_t)c, p);
}

/* a[c] += g[c] * mask(key, base + c), or a[c] += g[c] for p = 0; = with set */
AX_SIMD_CLONES
static void acc_row(float *a, const float *g, int64_t w, uint64_t base,
		    uint64_t key, float p, bool set)
{
	if (p > 0.0f && set)
		for (int64_t c = 0; c < w; c++)
			a[c] = g[c] * ax_g_keep(key, base + (uint64_t)c, p);
	else if (p > 0.0f)
		for (int64_t c = 0; c < w; c++)
			a[c] += g[c] * ax_g_keep(key, base + (uint64_t)c, p);
	else if (set)
		memcpy(a, g, (size_t)w * sizeof *a);
	else
		for (int64_t c = 0; c < w; c++)
			a[c] += g[c];
}

/* sum of x[0..n) in AX_LANES interleaved partial sums (a fixed order,
 * so the same bits on every run), then the partials in order. */
#define AX_LANES 16
AX_SIMD_CLONES
static float lane_sum(const float *x, int64_t n)
{
	float p[AX_LANES] = { 0 };
	int64_t c = 0;
	for (; c + AX_LANES <= n; c += AX_LANES)
		for (int l = 0; l < AX_LANES; l++)
			p[l] += x[c + l];
	float s = 0.0f;
	for (int l = 0; l < AX_LANES; l++)
		s += p[l];
	for (; c < n; c++)
		s += x[c];
	return s;
}

/* max of x[0..n), n >= 1, in AX_LANES interleaved partial maxima */
AX_SIMD_CLONES
static float lane_max(const float *x, int64_t n)
{
	float p[AX_LANES];
	for (int l = 0; l < AX_LANES; l++)
		p[l] = x[0];
	int64_t c = 0;
	for (; c + AX_LANES <= n; c += AX_LANES)
		for (int l = 0; l < AX_LANES; l++)
			p[l] = x[c + l] > p[l] ? x[c + l] : p[l];
	float m = p[0];
	for (int l = 1; l < AX_LANES; l++)
		m = p[l] > m ? p[l] : m;
	for (; c < n; c++)
		m = x[c] > m ? x[c] : m;
	return m;
}

/* One row of attention probabilities: softmax of row[0, lim) in place
 * (exponentials by ax_k_exp_poly), zeros on the masked keys [lim, n). */
AX_SIMD_CLONES
static void softmax_row_masked(float *row, int64_t lim, int64_t n)
{
	float m = lane_max(row, lim);
	for (int64_t j = 0; j < lim; j++)
		row[j] = ax_k_exp_poly(row[j] - m);
	float inv = 1.0f / lane_sum(row, lim);
	for (int64_t j = 0; j < lim; j++)
		row[j] *= inv;
	for (int64_t j = lim; j < n; j++)
		row[j] = 0.0f;
}

void ax_g_dropout(float *x, int64_t ldx, int64_t N, int64_t w, uint64_t key,
		  float p)
{
	if (p <= 0.0f)
		return;
	for (int64_t r = 0; r < N; r++)
		dropout_row(x + r * ldx, w, (uint64_t)(r * w), key, p);
}

/* ==== linear ============================================================== */

void ax_g_linear_ref(float *dx, int64_t lddx, float *dW, float *db,
		     const float *dy, int64_t lddy, const float *x,
		     int64_t ldx, const float *W, int64_t N, int64_t i,
		     int64_t o, bool set_dx)
{
	for (int64_t r = 0; dx && r < N; r++)
		for (int64_t c = 0; c < i; c++) {
			double acc = set_dx ? 0.0 : dx[r * lddx + c];
			for (int64_t oo = 0; oo < o; oo++)
				acc += (double)dy[r * lddy + oo] * W[oo * i + c];
			dx[r * lddx + c] = (float)acc;
		}
	for (int64_t oo = 0; dW && oo < o; oo++)
		for (int64_t c = 0; c < i; c++) {
			double acc = 0.0;
			for (int64_t r = 0; r < N; r++)
				acc += (double)dy[r * lddy + oo] * x[r * ldx + c];
			dW[oo * i + c] += (float)acc;
		}
	for (int64_t oo = 0; db && oo < o; oo++) {
		double acc = 0.0;
		for (int64_t r = 0; r < N; r++)
			acc += dy[r * lddy + oo];
		db[oo] += (float)acc;
	}
}

void ax_g_linear(float *dx, int64_t lddx, float *dW, float *db,
		 const float *dy, int64_t lddy, const float *x, int64_t ldx,
		 const float *W, int64_t N, int64_t i, int64_t o, bool set_dx)
{
	if (N == 0)
		return;
	/* dx(N,i) (+)= dy(N,o) W(o,i) */
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N,
			    (int)i, (int)o, 1.0f, dy, (int)lddy, W, (int)i,
			    set_dx ? 0.0f : 1.0f, dx, (int)lddx);
	/* dW(o,i) += dy(N,o)^T x(N,i) */
	if (dW)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)o,
			    (int)i, (int)N, 1.0f, dy, (int)lddy, x, (int)ldx, 1.0f,
			    dW, (int)i);
	if (db)
		for (int64_t r = 0; r < N; r++)
			for (int64_t oo = 0; oo < o; oo++)
				db[oo] += dy[r * lddy + oo];
}

/* ==== layernorm =========================================================== */

/* dx = inv (dy g - mean(dy g) - xhat mean(dy g xhat)) */
void ax_g_layernorm_ref(float *dx, int64_t lddx, float *dgamma, float *dbeta,
			const float *dy, int64_t lddy, const float *x,
			int64_t ldx, const float *gamma, int64_t N, int64_t w,
			float eps, bool set_dx)
{
	for (int64_t r = 0; r < N; r++) {
		const float *xr = x + r * ldx, *g = dy + r * lddy;
		double mean = 0.0, var = 0.0;
		for (int64_t c = 0; c < w; c++)
			mean += xr[c];
		mean /= (double)w;
		for (int64_t c = 0; c < w; c++)
			var += (xr[c] - mean) * (xr[c] - mean);
		var /= (double)w;
		double inv = 1.0 / sqrt(var + (double)eps);
		double s1 = 0.0, s2 = 0.0;
		for (int64_t c = 0; c < w; c++) {
			double xh = (xr[c] - mean) * inv, gg = (double)g[c] * gamma[c];
			s1 += gg;
			s2 += gg * xh;
			if (dgamma)
				dgamma[c] += (float)(g[c] * xh);
			if (dbeta)
				dbeta[c] += g[c];
		}
		for (int64_t c = 0; dx && c < w; c++) {
			double xh = (xr[c] - mean) * inv;
			double gg = (double)g[c] * gamma[c];
			double base = set_dx ? 0.0 : dx[r * lddx + c];
			dx[r * lddx + c] = (float)(base + inv * (gg - s1 / (double)w -
								 xh * s2 / (double)w));
		}
	}
}

/* One row of the layernorm backward, its five reductions in AX_LN_LANES
 * interleaved partial sums (a fixed order: the same bits every run) so
 * that they vectorise. */
#define AX_LN_LANES 16
AX_SIMD_CLONES
static void layernorm_row(float *d, float *dgamma, float *dbeta, const float *g,
			  const float *x, const float *gamma, int64_t w, float eps,
			  bool set)
{
	float p[AX_LN_LANES] = { 0 }, q[AX_LN_LANES] = { 0 };
	int64_t w0 = w - w % AX_LN_LANES;
	for (int64_t c = 0; c < w0; c += AX_LN_LANES)
		for (int l = 0; l < AX_LN_LANES; l++)
			p[l] += x[c + l];
	float s = 0.0f;
	for (int l = 0; l < AX_LN_LANES; l++)
		s += p[l], p[l] = 0.0f;
	for (int64_t c = w0; c < w; c++)
		s += x[c];
	float mean = s / (float)w, ss = 0.0f;
	for (int64_t c = 0; c < w0; c += AX_LN_LANES)
		for (int l = 0; l < AX_LN_LANES; l++)
			p[l] += (x[c + l] - mean) * (x[c + l] - mean);
	for (int l = 0; l < AX_LN_LANES; l++)
		ss += p[l], p[l] = 0.0f;
	for (int64_t c = w0; c < w; c++)
		ss += (x[c] - mean) * (x[c] - mean);
	float inv = 1.0f / sqrtf(ss / (float)w + eps);
	for (int64_t c = 0; c < w0; c += AX_LN_LANES)
		for (int l = 0; l < AX_LN_LANES; l++) {
			float gg = g[c + l] * gamma[c + l];
			p[l] += gg;
			q[l] += gg * ((x[c + l] - mean) * inv);
		}
	float s1 = 0.0f, s2 = 0.0f;
	for (int l = 0; l < AX_LN_LANES; l++)
		s1 += p[l], s2 += q[l];
	for (int64_t c = w0; c < w; c++) {
		float gg = g[c] * gamma[c];
		s1 += gg;
		s2 += gg * ((x[c] - mean) * inv);
	}
	if (dgamma)
		for (int64_t c = 0; c < w; c++)
			dgamma[c] += g[c] * (x[c] - mean) * inv;
	if (dbeta)
		for (int64_t c = 0; c < w; c++)
			dbeta[c] += g[c];
	if (!d)
		return;
	float m1 = s1 / (float)w, m2 = s2 / (float)w;
	if (set)
		for (int64_t c = 0; c < w; c++)
			d[c] = inv * (g[c] * gamma[c] - m1 - (x[c] - mean) * inv * m2);
	else
		for (int64_t c = 0; c < w; c++)
			d[c] += inv * (g[c] * gamma[c] - m1 - (x[c] - mean) * inv * m2);
}

void ax_g_layernorm(float *dx, int64_t lddx, float *dgamma, float *dbeta,
		    const float *dy, int64_t lddy, const float *x, int64_t ldx,
		    const float *gamma, int64_t N, int64_t w, float eps,
		    bool set_dx)
{
	for (int64_t r = 0; r < N; r++)
		layernorm_row(dx ? dx + r * lddx : NULL, dgamma, dbeta,
			      dy + r * lddy, x + r * ldx, gamma, w, eps, set_dx);
}

/* ==== attention =========================================================== */

/* Keys rounded up to whole 16-lane vectors: the small path's row length. */
static inline int64_t keys16(int64_t Nk)
{
	return (Nk + 15) / 16 * 16;
}

int64_t ax_g_attention_scratch(int64_t Nq, int64_t Nk, int64_t w)
{
	return 2 * Nq * keys16(Nk) + w * keys16(Nk);
}

/* The small-product path (attn_small.h) for heads of whole vectors and
 * sentences short enough that OpenBLAS's per-call cost dominates. */
static bool small_path(int64_t Nk, int64_t h)
{
	return h % 16 == 0 && h <= 256 && Nk <= 256 && ax_g_mm16_ok();
}

/* Keys query qi sees: [0, lim). */
static inline int64_t limit(int64_t Nk, bool causal, int64_t qi)
{
	return causal && qi + 1 < Nk ? qi + 1 : Nk;
}

/* P(Nq,Nk) of head hd, masked entries 0: scores by sgemm, row softmax. */
static void head_probs(float *P, const float *q, int64_t ldq, const float *k,
		       int64_t ldk, int64_t Nq, int64_t Nk, int64_t c0,
		       int64_t h, bool causal)
{
	float scale = 1.0f / sqrtf((float)h);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Nq, (int)Nk,
		    (int)h, scale, q + c0, (int)ldq, k + c0, (int)ldk, 0.0f, P,
		    (int)Nk);
	for (int64_t i = 0; i < Nq; i++)
		softmax_row_masked(P + i * Nk, limit(Nk, causal, i), Nk);
}

/* P(Nq, Nkp) of the head at column c0 on the small path: k_h^T into T
 * (h, Nkp), scores, row softmax (padding and masked keys 0). */
static void head_probs_small(float *P, float *T, const float *q, int64_t ldq,
			     const float *k, int64_t ldk, int64_t Nq,
			     int64_t Nk, int64_t c0, int64_t h, bool causal)
{
	int64_t Nkp = keys16(Nk);
	ax_g_transpose_pad(T, Nkp, k + c0, ldk, Nk, h);
	ax_g_mm16(P, Nkp, q + c0, ldq, 1, T, Nkp, Nq, h, Nkp,
		  1.0f / sqrtf((float)h), false);
	ax_g_softmax16(P, Nkp, Nq, Nk, causal);
}

static void attention_fwd_small(float *out, int64_t ldo, const float *q,
				int64_t ldq, const float *k, int64_t ldk,
				const float *v, int64_t ldv, int64_t Nq,
				int64_t Nk, int64_t h, int64_t H,
				bool causal, uint64_t key, float p_drop,
				float *scratch)
{
	int64_t Nkp = keys16(Nk);
	float *P = scratch, *T = scratch + 2 * Nq * Nkp;   /* (Nq,Nkp), (h,Nkp) */
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		head_probs_small(P, T, q, ldq, k, ldk, Nq, Nk, c0, h, causal);
		/* a row's padding is 0 in P: its mask values (the next
		 * row's indices) multiply zeros */
		for (int64_t i = 0; p_drop > 0.0f && i < Nq; i++)
			ax_g_dropout16(P + i * Nkp, Nkp, (uint64_t)((hd * Nq + i) * Nk),
				       key, p_drop);
		/* out_h(Nq,h) = P'(Nq,Nk) v_h(Nk,h) */
		ax_g_mm16(out + c0, ldo, P, Nkp, 1, v + c0, ldv, Nq, Nk, h,
			  1.0f, false);
	}
}

void ax_g_attention_fwd(float *out, int64_t ldo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, uint64_t key, float p_drop,
			float *scratch)
{
	assert(H >= 1 && w % H == 0 && Nk >= 1 && (!causal || Nq <= Nk));
	int64_t h = w / H;
	if (small_path(Nk, h)) {
		attention_fwd_small(out, ldo, q, ldq, k, ldk, v, ldv, Nq, Nk, h,
				    H, causal, key, p_drop, scratch);
		return;
	}
	float *P = scratch;   /* (Nq, Nk) */
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		head_probs(P, q, ldq, k, ldk, Nq, Nk, c0, h, causal);
		if (p_drop > 0.0f)
			dropout_row(P, Nq * Nk, (uint64_t)(hd * Nq * Nk), key, p_drop);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Nq,
			    (int)h, (int)Nk, 1.0f, P, (int)Nk, v + c0, (int)ldv,
			    0.0f, out + c0, (int)ldo);
	}
}

void ax_g_attention_ref(float *dq, int64_t lddq, float *dk, int64_t lddk,
			float *dv, int64_t lddv, const float *dout,
			int64_t lddo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, uint64_t key, float p_drop,
			float *scratch)
{
	assert(H >= 1 && w % H == 0 && Nk >= 1 && (!causal || Nq <= Nk));
	int64_t h = w / H;
	double scale = 1.0 / sqrt((double)h);
	float *P = scratch, *dS = scratch + Nq * Nk;
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		for (int64_t i = 0; i < Nq; i++) {
			int64_t lim = limit(Nk, causal, i);
			double m = -INFINITY, s = 0.0, dot = 0.0;
			for (int64_t j = 0; j < lim; j++) {
				double a = 0.0;
				for (int64_t c = 0; c < h; c++)
					a += (double)q[i * ldq + c0 + c] * k[j * ldk + c0 + c];
				P[i * Nk + j] = (float)(a * scale);
				m = P[i * Nk + j] > m ? P[i * Nk + j] : m;
			}
			for (int64_t j = 0; j < lim; j++)
				s += exp(P[i * Nk + j] - m);
			for (int64_t j = 0; j < Nk; j++) {
				double p = j < lim ? exp(P[i * Nk + j] - m) / s : 0.0;
				double mk = ax_g_keep(key, (uint64_t)((hd * Nq + i) * Nk + j), p_drop);
				double dpd = 0.0;   /* d out / d P' */
				for (int64_t c = 0; c < h; c++)
					dpd += (double)dout[i * lddo + c0 + c] * v[j * ldv + c0 + c];
				P[i * Nk + j] = (float)p;
				dS[i * Nk + j] = (float)(dpd * mk);   /* dP */
				dot += dpd * mk * p;
				for (int64_t c = 0; dv && c < h; c++)
					dv[j * lddv + c0 + c] += (float)(p * mk * dout[i * lddo + c0 + c]);
			}
			for (int64_t j = 0; j < Nk; j++)
				dS[i * Nk + j] = (float)(P[i * Nk + j] * (dS[i * Nk + j] - dot));
		}
		for (int64_t i = 0; dq && i < Nq; i++)
			for (int64_t c = 0; c < h; c++) {
				double a = 0.0;
				for (int64_t j = 0; j < Nk; j++)
					a += (double)dS[i * Nk + j] * k[j * ldk + c0 + c];
				dq[i * lddq + c0 + c] += (float)(a * scale);
			}
		for (int64_t j = 0; dk && j < Nk; j++)
			for (int64_t c = 0; c < h; c++) {
				double a = 0.0;
				for (int64_t i = 0; i < Nq; i++)
					a += (double)dS[i * Nk + j] * q[i * ldq + c0 + c];
				dk[j * lddk + c0 + c] += (float)(a * scale);
			}
	}
}

/* dP = B o M, dot = sum_j dP P, dS = P o (dP - dot) into B, then P
 * becomes P' (for dv): row i of head hd, Nk keys. */
static void probs_grad_row(float *p, float *b, int64_t Nk, uint64_t e0,
			   uint64_t key, float p_drop)
{
	float dot = 0.0f;
	if (p_drop > 0.0f)
		dropout_row(b, Nk, e0, key, p_drop);
	for (int64_t j = 0; j < Nk; j++)
		dot += b[j] * p[j];
	for (int64_t j = 0; j < Nk; j++)
		b[j] = p[j] * (b[j] - dot);
	if (p_drop > 0.0f)
		dropout_row(p, Nk, e0, key, p_drop);
}

/* ax_g_attention on the small path: the same steps, rows of Nkp. */
static void attention_bwd_small(float *dq, int64_t lddq, float *dk,
				int64_t lddk, float *dv, int64_t lddv,
				const float *dout, int64_t lddo,
				const float *q, int64_t ldq, const float *k,
				int64_t ldk, const float *v, int64_t ldv,
				int64_t Nq, int64_t Nk, int64_t h, int64_t H,
				bool causal, uint64_t key, float p_drop,
				float *scratch)
{
	int64_t Nkp = keys16(Nk);
	float scale = 1.0f / sqrtf((float)h);
	/* P, B (Nq,Nkp); T (h,Nkp) */
	float *P = scratch, *B = scratch + Nq * Nkp, *T = scratch + 2 * Nq * Nkp;
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		head_probs_small(P, T, q, ldq, k, ldk, Nq, Nk, c0, h, causal);
		/* B = dout_h v_h^T = dL/dP' */
		ax_g_transpose_pad(T, Nkp, v + c0, ldv, Nk, h);
		ax_g_mm16(B, Nkp, dout + c0, lddo, 1, T, Nkp, Nq, h, Nkp, 1.0f,
			  false);
		/* dP = B o M; dS = P o (dP - rowsum(dP o P)); then P' for dv */
		for (int64_t i = 0; p_drop > 0.0f && i < Nq; i++)
			ax_g_dropout16(B + i * Nkp, Nkp, (uint64_t)((hd * Nq + i) * Nk),
				       key, p_drop);
		ax_g_probs_grad16(P, B, Nkp, Nq);
		for (int64_t i = 0; p_drop > 0.0f && i < Nq; i++)
			ax_g_dropout16(P + i * Nkp, Nkp, (uint64_t)((hd * Nq + i) * Nk),
				       key, p_drop);
		if (dv)   /* dv_h(Nk,h) += P'^T dout_h */
			ax_g_mm16(dv + c0, lddv, P, 1, Nkp, dout + c0, lddo, Nk,
				  Nq, h, 1.0f, true);
		if (dq)   /* dq_h(Nq,h) += scale dS k_h */
			ax_g_mm16(dq + c0, lddq, B, Nkp, 1, k + c0, ldk, Nq, Nk,
				  h, scale, true);
		if (dk)   /* dk_h(Nk,h) += scale dS^T q_h */
			ax_g_mm16(dk + c0, lddk, B, 1, Nkp, q + c0, ldq, Nk, Nq,
				  h, scale, true);
	}
}

void ax_g_attention(float *dq, int64_t lddq, float *dk, int64_t lddk,
		    float *dv, int64_t lddv, const float *dout, int64_t lddo,
		    const float *q, int64_t ldq, const float *k, int64_t ldk,
		    const float *v, int64_t ldv, int64_t Nq, int64_t Nk,
		    int64_t w, int64_t H, bool causal, uint64_t key,
		    float p_drop, float *scratch)
{
	assert(H >= 1 && w % H == 0 && Nk >= 1 && (!causal || Nq <= Nk));
	int64_t h = w / H;
	if (small_path(Nk, h)) {
		attention_bwd_small(dq, lddq, dk, lddk, dv, lddv, dout, lddo, q,
				    ldq, k, ldk, v, ldv, Nq, Nk, h, H, causal,
				    key, p_drop, scratch);
		return;
	}
	float scale = 1.0f / sqrtf((float)h);
	float *P = scratch, *B = scratch + Nq * Nk;
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		head_probs(P, q, ldq, k, ldk, Nq, Nk, c0, h, causal);
		/* B = dout_h v_h^T = dL/dP' */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Nq,
			    (int)Nk, (int)h, 1.0f, dout + c0, (int)lddo, v + c0,
			    (int)ldv, 0.0f, B, (int)Nk);
		for (int64_t i = 0; i < Nq; i++)
			probs_grad_row(P + i * Nk, B + i * Nk, Nk,
				       (uint64_t)((hd * Nq + i) * Nk), key, p_drop);
		if (dv)   /* dv_h(Nk,h) += P'^T dout_h */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Nk,
				    (int)h, (int)Nq, 1.0f, P, (int)Nk, dout + c0,
				    (int)lddo, 1.0f, dv + c0, (int)lddv);
		if (dq)   /* dq_h(Nq,h) += scale dS k_h */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Nq,
				    (int)h, (int)Nk, scale, B, (int)Nk, k + c0,
				    (int)ldk, 1.0f, dq + c0, (int)lddq);
		if (dk)   /* dk_h(Nk,h) += scale dS^T q_h */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)Nk,
				    (int)h, (int)Nq, scale, B, (int)Nk, q + c0,
				    (int)ldq, 1.0f, dk + c0, (int)lddk);
	}
}

/* ==== embedding =========================================================== */

void ax_g_embed_ref(float *dE, const float *dy, int64_t lddy,
		    const int32_t *tok, int64_t N, int64_t d, float scale,
		    int32_t pad)
{
	for (int64_t j = 0; j < N; j++) {
		if (tok[j] == pad)
			continue;
		for (int64_t c = 0; c < d; c++)
			dE[(int64_t)tok[j] * d + c] += (float)((double)scale * dy[j * lddy + c]);
	}
}

void ax_g_embed(float *dE, const float *dy, int64_t lddy, const int32_t *tok,
		int64_t N, int64_t d, float scale, int32_t pad)
{
	for (int64_t j = 0; j < N; j++) {
		if (tok[j] == pad)
			continue;
		float *e = dE + (int64_t)tok[j] * d;
		const float *g = dy + j * lddy;
		for (int64_t c = 0; c < d; c++)
			e[c] += scale * g[c];
	}
}

/* ==== relu ================================================================ */

void ax_g_relu_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		   const float *y, int64_t ldy, int64_t N, int64_t w, bool set)
{
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			float base = set ? 0.0f : dx[r * lddx + c];
			dx[r * lddx + c] = y[r * ldy + c] > 0.0f ?
					   base + dy[r * lddy + c] : base;
		}
}

AX_SIMD_CLONES
static void relu_row(float *d, const float *g, const float *y, int64_t w,
		     bool set)
{
	if (set)
		for (int64_t c = 0; c < w; c++) {
			float gc = g[c];   /* loaded always: a select, not a branch */
			d[c] = y[c] > 0.0f ? gc : 0.0f;
		}
	else
		for (int64_t c = 0; c < w; c++) {
			float gc = g[c];
			d[c] += y[c] > 0.0f ? gc : 0.0f;
		}
}

void ax_g_relu(float *dx, int64_t lddx, const float *dy, int64_t lddy,
	       const float *y, int64_t ldy, int64_t N, int64_t w, bool set)
{
	for (int64_t r = 0; r < N; r++)
		relu_row(dx + r * lddx, dy + r * lddy, y + r * ldy, w, set);
}

/* ==== add ================================================================= */

void ax_g_add_ref(float *da, int64_t ldda, float *db, int64_t lddb,
		  const float *dy, int64_t lddy, int64_t N, int64_t w0,
		  int64_t w1, uint64_t key, float p_drop, bool set_a,
		  bool set_b)
{
	for (int64_t r = 0; r < N; r++) {
		for (int64_t c = 0; da && c < w0; c++)
			da[r * ldda + c] = (set_a ? 0.0f : da[r * ldda + c]) +
					   dy[r * lddy + c];
		for (int64_t c = 0; db && c < w1; c++)
			db[r * lddb + c] = (set_b ? 0.0f : db[r * lddb + c]) +
				dy[r * lddy + c] *
				ax_g_keep(key, (uint64_t)(r * w1 + c), p_drop);
	}
}

void ax_g_add(float *da, int64_t ldda, float *db, int64_t lddb,
	      const float *dy, int64_t lddy, int64_t N, int64_t w0,
	      int64_t w1, uint64_t key, float p_drop, bool set_a, bool set_b)
{
	for (int64_t r = 0; r < N; r++) {
		const float *g = dy + r * lddy;
		if (da)
			acc_row(da + r * ldda, g, w0, 0, 0, 0.0f, set_a);
		if (db)
			acc_row(db + r * lddb, g, w1, (uint64_t)(r * w1), key,
				p_drop, set_b);
	}
}

/* ==== log_softmax ========================================================= */

void ax_g_log_softmax_ref(float *dx, int64_t lddx, const float *dy,
			  int64_t lddy, const float *y, int64_t ldy, int64_t N,
			  int64_t w)
{
	for (int64_t r = 0; r < N; r++) {
		double s = 0.0;
		for (int64_t c = 0; c < w; c++)
			s += dy[r * lddy + c];
		for (int64_t c = 0; c < w; c++) {
			double base = dx == dy ? 0.0 : dx[r * lddx + c];
			dx[r * lddx + c] = (float)(base + dy[r * lddy + c] -
						   exp((double)y[r * ldy + c]) * s);
		}
	}
}

/* One row of the log-softmax backward: d (=|+=) g - exp(y) s, with the
 * vectorisable exponential of the forward's fast rows. */
AX_SIMD_CLONES
static void log_softmax_row(float *d, const float *g, const float *y,
			    int64_t w, float s, bool set)
{
	if (set)
		for (int64_t c = 0; c < w; c++)
			d[c] = g[c] - ax_k_exp_poly(y[c]) * s;
	else
		for (int64_t c = 0; c < w; c++)
			d[c] += g[c] - ax_k_exp_poly(y[c]) * s;
}

void ax_g_log_softmax(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		      const float *y, int64_t ldy, int64_t N, int64_t w)
{
	for (int64_t r = 0; r < N; r++) {
		const float *g = dy + r * lddy;
		/* dx == dy: in place, dL/dy replaced by dL/dx */
		log_softmax_row(dx + r * lddx, g, y + r * ldy, w, lane_sum(g, w),
				dx == dy);
	}
}

/* ==== label-smoothed cross entropy ======================================== */

double ax_g_label_smoothed_nll_ref(float *dlp, int64_t lddlp,
				   const float *lp, int64_t ldlp,
				   const int32_t *target, int64_t N, int64_t V,
				   float eps, int32_t pad, float g_scale,
				   double *nll)
{
	double eps_i = V > 1 ? (double)eps / (double)(V - 1) : 0.0;
	double conf = 1.0 - (double)eps - eps_i, loss = 0.0, n = 0.0;
	for (int64_t r = 0; r < N; r++) {
		if (target[r] == pad)
			continue;
		double smooth = 0.0;
		for (int64_t c = 0; c < V; c++)
			smooth -= lp[r * ldlp + c];
		double nl = -(double)lp[r * ldlp + target[r]];
		n += nl;
		loss += conf * nl + eps_i * smooth;
		for (int64_t c = 0; dlp && c < V; c++)
			dlp[r * lddlp + c] += (float)(-eps_i * g_scale);
		if (dlp)
			dlp[r * lddlp + target[r]] += (float)(-conf * g_scale);
	}
	if (nll)
		*nll = n;
	return loss;
}

double ax_g_label_smoothed_nll(float *dlp, int64_t lddlp, const float *lp,
			       int64_t ldlp, const int32_t *target, int64_t N,
			       int64_t V, float eps, int32_t pad,
			       float g_scale, double *nll)
{
	double eps_i = V > 1 ? (double)eps / (double)(V - 1) : 0.0;
	double conf = 1.0 - (double)eps - eps_i, loss = 0.0, n = 0.0;
	float ge = (float)(-eps_i * g_scale);
	for (int64_t r = 0; r < N; r++) {
		if (target[r] == pad)
			continue;
		const float *l = lp + r * ldlp;
		float smooth = -lane_sum(l, V);
		double nl = -(double)l[target[r]];
		n += nl;
		loss += conf * nl + eps_i * smooth;
		if (!dlp)
			continue;
		float *d = dlp + r * lddlp;
		for (int64_t c = 0; c < V; c++)
			d[c] += ge;
		d[target[r]] += (float)(-conf * g_scale);
	}
	if (nll)
		*nll = n;
	return loss;
}

/* ==== label-smoothed cross entropy fused with its log-softmax ============= */

double ax_g_log_softmax_nll_ref(float *dz, int64_t lddz, const float *z,
				int64_t ldz, const int32_t *target, int64_t N,
				int64_t V, float eps, int32_t pad,
				float g_scale, double *nll)
{
	double eps_i = V > 1 ? (double)eps / (double)(V - 1) : 0.0;
	double conf = 1.0 - (double)eps - eps_i, loss = 0.0, n = 0.0;
	for (int64_t r = 0; r < N; r++) {
		const float *x = z + r * ldz;
		float *d = dz ? dz + r * lddz : NULL;
		if (target[r] == pad) {
			for (int64_t c = 0; d && c < V; c++)
				d[c] = 0.0f;
			continue;
		}
		double m = x[0], s = 0.0, sz = 0.0;
		for (int64_t c = 1; c < V; c++)
			m = x[c] > m ? x[c] : m;
		for (int64_t c = 0; c < V; c++) {
			s += exp(x[c] - m);
			sz += x[c];
		}
		double lse = m + log(s), nl = lse - x[target[r]];
		n += nl;
		loss += conf * nl + eps_i * ((double)V * lse - sz);
		for (int64_t c = 0; d && c < V; c++) {
			double p = exp(x[c] - lse);
			double gc = (conf + (double)V * eps_i) * p - eps_i -
				    (c == target[r] ? conf : 0.0);
			d[c] = (float)(g_scale * gc);
		}
	}
	if (nll)
		*nll = n;
	return loss;
}

/* sum_c exp(x[c] - m) in lanes, as lane_sum */
AX_SIMD_CLONES
static float lane_sum_exp(const float *x, int64_t n, float m)
{
	float p[AX_LANES] = { 0 };
	int64_t c = 0;
	for (; c + AX_LANES <= n; c += AX_LANES)
		for (int l = 0; l < AX_LANES; l++)
			p[l] += ax_k_exp_poly(x[c + l] - m);
	float s = 0.0f;
	for (int l = 0; l < AX_LANES; l++)
		s += p[l];
	for (; c < n; c++)
		s += ax_k_exp_poly(x[c] - m);
	return s;
}

/* d[c] = a exp(x[c] - lse) + b: the fused loss's gradient row */
AX_SIMD_CLONES
static void softmax_affine_row(float *d, const float *x, int64_t n, float lse,
			       float a, float b)
{
	for (int64_t c = 0; c < n; c++)
		d[c] = a * ax_k_exp_poly(x[c] - lse) + b;
}

double ax_g_log_softmax_nll(float *dz, int64_t lddz, const float *z,
			    int64_t ldz, const int32_t *target, int64_t N,
			    int64_t V, float eps, int32_t pad, float g_scale,
			    double *nll)
{
	double eps_i = V > 1 ? (double)eps / (double)(V - 1) : 0.0;
	double conf = 1.0 - (double)eps - eps_i, loss = 0.0, n = 0.0;
	float a = (float)(g_scale * (conf + (double)V * eps_i));
	float b = (float)(-g_scale * eps_i), bt = (float)(-g_scale * conf);
	for (int64_t r = 0; r < N; r++) {
		const float *x = z + r * ldz;
		float *d = dz ? dz + r * lddz : NULL;
		if (target[r] == pad) {
			if (d)
				memset(d, 0, (size_t)V * sizeof *d);
			continue;
		}
		float m = lane_max(x, V);
		float lse = m + logf(lane_sum_exp(x, V, m));
		double nl = (double)lse - (double)x[target[r]];
		n += nl;
		loss += conf * nl + eps_i * ((double)V * lse - (double)lane_sum(x, V));
		if (!d)
			continue;
		softmax_affine_row(d, x, V, lse, a, b);
		d[target[r]] += bt;
	}
	if (nll)
		*nll = n;
	return loss;
}
