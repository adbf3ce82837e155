/*
 * grad.h - backward kernels of the row-wise and attention op kinds, each
 * a plain-loop reference `ax_g_<op>_ref` beside a fast `ax_g_<op>`
 * (OpenBLAS or vectorisable loops) with the same signature, plus the
 * training forward of attention (with attention dropout) and the
 * label-smoothed cross-entropy loss.
 *
 * Conventions (shared with the conv-family kernels of grad_conv.h):
 *   - Argument order: input-gradient outputs first, then parameter-
 *     gradient outputs, then the upstream gradient, then the saved forward
 *     inputs/outputs, const weights, dimensions, scratch.
 *   - Every gradient output is ACCUMULATED (+=): a tensor read by several
 *     ops sums their contributions; callers zero the gradient arenas once
 *     per step. A NULL gradient output is skipped. The exception: the
 *     input gradients of linear, layernorm, relu and add take a `set`
 *     flag that overwrites instead, for the first writer of a gradient
 *     (which then needs no zeroing: one pass less over it).
 *   - Row-major activations with leading dimensions as in kernels.h;
 *     parameters and their gradients dense.
 *   - No kernel allocates; scratch sizes come from `*_scratch()`.
 *   - Letters as in kernels.h: N rows, w width, i/o in/out width, H
 *     heads of h = w/H channels, V vocabulary.
 *
 * Dropout masks come from ax_g_keep(): a counter-based hash of a 64-bit
 * key and an element index, so a mask is a pure function of (seed, step,
 * site, element) and the backward regenerates the forward's mask without
 * storing it.
 */
#ifndef AX_GRAD_H
#define AX_GRAD_H

#include <stdbool.h>
#include <stdint.h>

/* fairseq's padding id (graph.h AX_TOKEN_PAD). */
#define AX_G_PAD 1

/* splitmix64's finaliser: a bijective 64-bit mix. */
static inline uint64_t ax_g_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The key of one dropout site: seed, update step and site id mixed. */
static inline uint64_t ax_g_key(uint64_t seed, uint64_t step, uint64_t site)
{
	return ax_g_mix(ax_g_mix(ax_g_mix(seed) ^ step) ^ site);
}

/* Dropout mask value of element idx under key: 0 with probability p,
 * else 1/(1-p).  p = 0 gives 1 everywhere. */
static inline float ax_g_keep(uint64_t key, uint64_t idx, float p)
{
	if (p <= 0.0f)
		return 1.0f;
	uint64_t r = ax_g_mix(key ^ (idx * 0xd1b54a32d192ed03ull));
	float u = (float)(r >> 40) * (1.0f / 16777216.0f);   /* [0, 1) */
	return u < p ? 0.0f : 1.0f / (1.0f - p);
}

/* x(N,w) *= mask(key, r*w + c, p), in place (ld x). */
void ax_g_dropout(float *x, int64_t ldx, int64_t N, int64_t w, uint64_t key,
		  float p);

/* --- linear: y(N,o) = x(N,i) W(o,i)^T + b ----------------------------------
 * dx (N,i) += dy W (= with set_dx);  dW (o,i) += dy^T x;  db (o) += sum_r dy. */
void ax_g_linear_ref(float *dx, int64_t lddx, float *dW, float *db,
		     const float *dy, int64_t lddy, const float *x,
		     int64_t ldx, const float *W, int64_t N, int64_t i,
		     int64_t o, bool set_dx);
void ax_g_linear(float *dx, int64_t lddx, float *dW, float *db,
		 const float *dy, int64_t lddy, const float *x, int64_t ldx,
		 const float *W, int64_t N, int64_t i, int64_t o, bool set_dx);

/* --- layernorm: y = (x - mu) / sqrt(var + eps) * gamma + beta -------------
 * Recomputes mu and var from the saved input x; dx set with set_dx. */
void ax_g_layernorm_ref(float *dx, int64_t lddx, float *dgamma, float *dbeta,
			const float *dy, int64_t lddy, const float *x,
			int64_t ldx, const float *gamma, int64_t N, int64_t w,
			float eps, bool set_dx);
void ax_g_layernorm(float *dx, int64_t lddx, float *dgamma, float *dbeta,
		    const float *dy, int64_t lddy, const float *x, int64_t ldx,
		    const float *gamma, int64_t N, int64_t w, float eps,
		    bool set_dx);

/* --- attention core (kernels.h ax_k_attention) with attention dropout -----
 * Per head hd: P = softmax(scale q_h k_h^T [causal mask]), P' = P o M with
 * M[i][j] = ax_g_keep(key, (hd*Nq + i)*Nk + j, p_drop), out_h = P' v_h.
 * One sentence: queries 0..Nq-1 at positions 0..Nq-1 among the keys
 * (causal needs Nq <= Nk). */
/* 2 Nq Nk16 + w Nk16, Nk16 = Nk rounded up to a multiple of 16. Heads
 * of a multiple of 16 channels on an AVX-512 CPU take a register-blocked
 * kernel for their small products (attn_small.h), others OpenBLAS. */
int64_t ax_g_attention_scratch(int64_t Nq, int64_t Nk, int64_t w);
void ax_g_attention_fwd(float *out, int64_t ldo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, uint64_t key, float p_drop,
			float *scratch);
/* The backward recomputes P from the saved q, k (no (Nq,Nk) activation is
 * kept): dv += P'^T dout; dP = (dout v^T) o M; dS = P o (dP - rowsum(dP o
 * P)); dq += scale dS k; dk += scale dS^T q. */
void ax_g_attention_ref(float *dq, int64_t lddq, float *dk, int64_t lddk,
			float *dv, int64_t lddv, const float *dout,
			int64_t lddo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, uint64_t key, float p_drop,
			float *scratch);
void ax_g_attention(float *dq, int64_t lddq, float *dk, int64_t lddk,
		    float *dv, int64_t lddv, const float *dout, int64_t lddo,
		    const float *q, int64_t ldq, const float *k, int64_t ldk,
		    const float *v, int64_t ldv, int64_t Nq, int64_t Nk,
		    int64_t w, int64_t H, bool causal, uint64_t key,
		    float p_drop, float *scratch);

/* --- embedding: y[j] = scale E[tok[j]] + PE(j) ------------------------------
 * dE (Vocab,d) rows tok[j] += scale dy[j]; the padding row `pad` gets none:
 * AX_G_PAD (fairseq's padding_idx 1), or 0 for t2t tables, whose id 0
 * embeds to the zero vector (kernels.h AX_SINUSOID_T2T). Positions are
 * fixed sinusoids: no gradient. */
void ax_g_embed_ref(float *dE, const float *dy, int64_t lddy,
		    const int32_t *tok, int64_t N, int64_t d, float scale,
		    int32_t pad);
void ax_g_embed(float *dE, const float *dy, int64_t lddy, const int32_t *tok,
		int64_t N, int64_t d, float scale, int32_t pad);

/* --- relu: y = max(x, 0); dx += dy [y > 0] (= with set) -------------------- */
void ax_g_relu_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		   const float *y, int64_t ldy, int64_t N, int64_t w, bool set);
void ax_g_relu(float *dx, int64_t lddx, const float *dy, int64_t lddy,
	       const float *y, int64_t ldy, int64_t N, int64_t w, bool set);

/* --- add: y(N,w0) = a + [b(N,w1) | 0] ---------------------------------------
 * da += dy; db += dy[:, :w1] o mask(key, r*w1 + c, p_drop) (the residual
 * dropout of the branch b, applied by the forward; p_drop 0 = none).
 * set_a, set_b: da, db overwritten instead. */
void ax_g_add_ref(float *da, int64_t ldda, float *db, int64_t lddb,
		  const float *dy, int64_t lddy, int64_t N, int64_t w0,
		  int64_t w1, uint64_t key, float p_drop, bool set_a,
		  bool set_b);
void ax_g_add(float *da, int64_t ldda, float *db, int64_t lddb,
	      const float *dy, int64_t lddy, int64_t N, int64_t w0,
	      int64_t w1, uint64_t key, float p_drop, bool set_a, bool set_b);

/* --- log_softmax: y = x - logsumexp(x); dx += dy - exp(y) sum(dy) ----------
 * In place ok: dx == dy (with lddx == lddy; a forward that ran in place,
 * as the models' final log-softmax does) replaces dy by dL/dx. */
void ax_g_log_softmax_ref(float *dx, int64_t lddx, const float *dy,
			  int64_t lddy, const float *y, int64_t ldy, int64_t N,
			  int64_t w);
void ax_g_log_softmax(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		      const float *y, int64_t ldy, int64_t N, int64_t w);

/* --- loss: fairseq's label_smoothed_cross_entropy ----------------------------
 * Over rows r with target[r] != pad (pad rows add nothing):
 *   nll_r = -lp[r][t_r],  smooth_r = -sum_j lp[r][j],  eps_i = eps/(V-1),
 *   loss = sum_r (1 - eps - eps_i) nll_r + eps_i smooth_r.
 * Returns loss and (in *nll) sum_r nll_r; dlp (N,V) += g_scale dloss/dlp
 * when dlp is non-NULL. */
double ax_g_label_smoothed_nll_ref(float *dlp, int64_t lddlp,
				   const float *lp, int64_t ldlp,
				   const int32_t *target, int64_t N, int64_t V,
				   float eps, int32_t pad, float g_scale,
				   double *nll);
double ax_g_label_smoothed_nll(float *dlp, int64_t lddlp, const float *lp,
			       int64_t ldlp, const int32_t *target, int64_t N,
			       int64_t V, float eps, int32_t pad,
			       float g_scale, double *nll);


/* --- the same loss fused with its log-softmax, over raw logits z (N,V) ------
 * lp = z - logsumexp(z) is never formed: per row, lse once, then
 *   nll_r = lse - z[t_r],  smooth_r = V lse - sum_j z[j],
 * the loss and *nll as ax_g_label_smoothed_nll() on lp, and when dz is
 * non-NULL its gradient through the log-softmax, SET (not added; the
 * loss is the first writer of the logits' gradient):
 *   dz[r][j] = g_scale ((conf + V eps_i) softmax(z_r)[j] - eps_i
 *                       - conf [j == t_r]),   pad rows 0
 * (conf + V eps_i is 1 for V > 1: the softmax minus the smoothed target).
 * One read of z and one write of dz per row, instead of the unfused
 * chain's passes over the (N,V) log-probabilities and their gradient.
 * In place ok: dz == z (with lddz == ldz). */
double ax_g_log_softmax_nll_ref(float *dz, int64_t lddz, const float *z,
				int64_t ldz, const int32_t *target, int64_t N,
				int64_t V, float eps, int32_t pad,
				float g_scale, double *nll);
double ax_g_log_softmax_nll(float *dz, int64_t lddz, const float *z,
			    int64_t ldz, const int32_t *target, int64_t N,
			    int64_t V, float eps, int32_t pad, float g_scale,
			    double *nll);

#endif
