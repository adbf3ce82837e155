/*
 * kernels.h - the fp32 numerical kernels the executor calls, one per op
 * kind, each as a plain-loop reference `ax_k_<op>_ref` beside a fast
 * `ax_k_<op>` (OpenBLAS or vectorisable loops) with the same signature.
 *
 * Conventions (shared by every kernel below):
 *   - Letters: N rows (tokens), w / c width (channels), o out width,
 *     i in width, H heads (contiguous channel blocks of h = w/H), K taps,
 *     V vocabulary, d model width.
 *   - Argument order: outputs, inputs, const weights, dimensions, scratch.
 *   - Activations are row-major with an explicit leading dimension (row
 *     stride, in floats) `ld*` >= their width, so a caller may pass a
 *     column view of a wider tensor (LSRA branches, heads, GLU halves).
 *     Parameters (W, gamma, conv kernels, tables) are dense row-major:
 *     their row stride is their width, as in the weight arena.
 *   - No kernel allocates. Those that need scratch take a caller buffer
 *     sized by the matching `ax_k_*_scratch()` function.
 *   - Outputs must not overlap inputs, except where a kernel says
 *     "in place ok" (then out == in with ldo == ldi is allowed).
 *   - Layouts and sizes are checked with assert(): a violation is a bug of
 *     the caller. No kernel prints or exits; only ax_k_embed and
 *     ax_k_adaptive_input can fail at run time (a bad token id), and they
 *     return an enum ax_status.
 *   - Work: every kernel with multiply-accumulates takes a last argument
 *     `struct ax_k_work *work` (NULL = not counted) and adds to it the
 *     MACs it performed, and, separately, those the `exact` convention
 *     counts that it skipped because an operand is a known zero: conv
 *     taps on the zero padding outside [0, N) or before the stream start,
 *     attention scores of masked keys. performed + skipped is then the
 *     kernel's `exact` count (costmodel/cost.h) whatever it skipped.
 *     Layernorm, embeddings and the elementwise ops have no `exact` MACs
 *     and take no counter.
 *   - Threads: kernels never create threads. The fast versions run inside
 *     OpenBLAS, which has its own pool; the caller chooses its size with
 *     openblas_set_num_threads() and must not call kernels from several
 *     threads of its own on the same cores (docs/performance.md).
 *
 * Incremental (ring-buffer) convolutions: a causal conv (pad_left = K-1)
 * over a stream of one row per step t = 0, 1, 2, ... keeps the previous
 * inputs in a ring of R >= K-1 dense rows of width c. The input of step s
 * lives in ring row s % R. Protocol for each step t:
 *   1. call every `_step` kernel that reads the ring with `step = t` and
 *      the current input row; it reads the inputs of steps t-1 .. t-K+1
 *      from the ring (rows of steps < 0 are taken as zero and never read,
 *      so the ring needs no initialisation);
 *   2. then call ax_k_ring_push(ring, R, c, in, t) once.
 * One ring may feed several convs of different K (the ET decoder's k=11
 * and k=7 branches share the ring of LN(x)), hence the separate push.
 * Each `_step` output equals row t of the sequence kernel with
 * pad_left = K-1 over rows 0..t.
 */
#ifndef AX_KERNELS_H
#define AX_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/* e^x for the fast rows (softmaxes here, their backward in src/train).
 * exp(x) = 2^k e^r with k = round(x / ln 2) and r = x - k ln 2
 * (ln 2 split in a short high part and a correction, so k ln 2 is exact),
 * |r| <= ln 2 / 2; e^r = 1 + r + r^2 p(r) with p the degree-5 minimax fit
 * of Cephes' expf (relative error about 1e-7); 2^k is built in the float's
 * exponent bits. Branch-free, so loops calling it vectorise; inputs are
 * clamped to [-87, 88], where e^x is a normal float. */
static inline float ax_k_exp_poly(float x)
{
	x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
	/* round to nearest by the 1.5 * 2^23 trick (no libm call) */
	float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
	float r = x - k * 0.693359375f;
	r = r - k * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	float e = p * (r * r) + r + 1.0f;
	union { float f; int32_t i; } two_k = { .i = ((int32_t)k + 127) << 23 };
	return e * two_k.f;
}

/* MACs a kernel call did (see "Work" above); callers zero it, kernels add. */
struct ax_k_work {
	int64_t macs;      /* multiply-accumulates performed */
	int64_t skipped;   /* `exact` MACs skipped on known-zero operands */
};

/* --- linear and norms ---------------------------------------------------- */

/* out(N,o) = in(N,i) W^T + b.  W (o,i) row-major; b (o) or NULL.
 * Fast: sgemm RowMajor/NoTrans/Trans; sgemv when N == 1.  Work: N i o. */
void ax_k_linear_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, const float *b, int64_t N, int64_t i,
		     int64_t o,
		     struct ax_k_work *work);
void ax_k_linear(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, const float *b, int64_t N, int64_t i,
		 int64_t o,
		 struct ax_k_work *work);

/* out(N,w) = (in - mean) / sqrt(var + eps) * gamma + beta per row,
 * population variance.  gamma (w), beta (w).  In place ok. */
void ax_k_layernorm_ref(float *out, int64_t ldo, const float *in,
			int64_t ldi, const float *gamma, const float *beta,
			int64_t N, int64_t w, float eps);
void ax_k_layernorm(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const float *gamma, const float *beta, int64_t N,
		    int64_t w, float eps);

/* --- attention ------------------------------------------------------------ */

/* Floats of scratch ax_k_attention{,_ref} needs: Nq * Nk (one head's
 * scores at a time; H is taken for future batched variants). */
int64_t ax_k_attention_scratch(int64_t Nq, int64_t Nk, int64_t H);

/* The attention core, after the q/k/v projections and before the output
 * projection (docs/models.md §2.3 steps 2-5):
 *   per head h_ (channels [h_*h, (h_+1)*h), h = w/H):
 *     S = (q_h * h^-1/2) k_h^T            (Nq, Nk)
 *     causal: S[i][j] = -inf for j > q_pos0 + i
 *     P = softmax over j;  out_h = P v_h  (Nq, h)
 * q (Nq,w) ldq, k (Nk,w) ldk, v (Nk,w) ldv, out (Nq,w) ldo.
 * q_pos0 is the absolute position of query 0 among the keys: 0 for a
 * whole sequence, t for incremental step t (0-based) with Nk = t+1.
 * Requires H >= 1, w % H == 0, Nk >= 1 and, when causal, q_pos0 >= 0.
 * Fast: per-head sgemm for S and P v (sgemv when Nq == 1).
 * Work: 2 Nq Nk w in all (QK^T and P v); the reference, and the fast path
 * for the keys past the last query's limit, skip masked scores (counted
 * as skipped); the fast sgemm computes the rest of the causal square. */
void ax_k_attention_ref(float *out, int64_t ldo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, int64_t q_pos0,
			float *scratch,
			struct ax_k_work *work);
void ax_k_attention(float *out, int64_t ldo, const float *q, int64_t ldq,
		    const float *k, int64_t ldk, const float *v, int64_t ldv,
		    int64_t Nq, int64_t Nk, int64_t w, int64_t H, bool causal,
		    int64_t q_pos0, float *scratch,
		    struct ax_k_work *work);

/* --- convolutions ----------------------------------------------------------
 * All sequence convs compute, for rows r in [0, N) and taps k in [0, K),
 *     y[r] = sum_k tap_k * x[r + k - P]   with x = 0 outside [0, N),
 * P = pad_left in [0, K-1]: K//2 centred (even K: (K-1)//2), K-1 causal
 * (tap K-1 multiplies the current row).
 * Work: N c K for the light, dynamic and depthwise convs, N K i o for the
 * standard one. The light, dynamic and depthwise kernels and the conv1d
 * reference skip taps outside [0, N) (or before step 0); the fast conv1d
 * multiplies im2col's zeros and performs them all. */

/* Copies in (c) into ring row step % R; no-op when R == 0. ring (R, c). */
void ax_k_ring_push(float *ring, int64_t R, int64_t c, const float *in,
		    int64_t step);

/* Lightweight conv weights: wn(H,K) = softmax over K of each row of
 * w(H,K).  Run once per weight load (docs/models.md §2.5). */
void ax_k_lightconv_weights(float *wn, const float *w, int64_t H, int64_t K);

/* Lightweight conv: channel ch uses head ch / (c/H) (contiguous blocks).
 * out (N,c) ldo, in (N,c) ldi, wn (H,K) normalised; c % H == 0. */
void ax_k_lightconv_ref(float *out, int64_t ldo, const float *in,
			int64_t ldi, const float *wn, int64_t N, int64_t c,
			int64_t H, int64_t K, int64_t pad_left,
			struct ax_k_work *work);
void ax_k_lightconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const float *wn, int64_t N, int64_t c, int64_t H,
		    int64_t K, int64_t pad_left,
		    struct ax_k_work *work);
/* One causal step: out (c), in (c) the current row, ring (R,c), R >= K-1. */
void ax_k_lightconv_step(float *out, const float *in, const float *ring,
			 int64_t R, int64_t step, const float *wn, int64_t c,
			 int64_t H, int64_t K,
			 struct ax_k_work *work);

/* Floats of scratch ax_k_dynconv{,_ref,_step} need: H * K. */
int64_t ax_k_dynconv_scratch(int64_t H, int64_t K);

/* Dynamic conv (docs/models.md §2.6): kl (N, H*K) ldk are the generator's
 * logits for each row (row r, head h_, tap k at column h_*K + k); each
 * (row, head) is softmaxed over all K taps, then taps falling outside
 * [0, N) are dropped without renormalisation.  out (N,c), in (N,c). */
void ax_k_dynconv_ref(float *out, int64_t ldo, const float *in,
		      int64_t ldi, const float *kl, int64_t ldk, int64_t N,
		      int64_t c, int64_t H, int64_t K, int64_t pad_left,
		      float *scratch,
		      struct ax_k_work *work);
void ax_k_dynconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		  const float *kl, int64_t ldk, int64_t N, int64_t c,
		  int64_t H, int64_t K, int64_t pad_left, float *scratch,
		  struct ax_k_work *work);
/* One causal step: kl (H*K) the current row's logits. */
void ax_k_dynconv_step(float *out, const float *in, const float *ring,
		       int64_t R, int64_t step, const float *kl, int64_t c,
		       int64_t H, int64_t K, float *scratch,
		       struct ax_k_work *work);

/* ET depthwise conv (no bias): out[r][ch] = sum_k W[k][ch] x[r+k-P][ch].
 * W (K,c), out (N,c), in (N,c). */
void ax_k_dwconv_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, int64_t N, int64_t c, int64_t K,
		     int64_t pad_left,
		     struct ax_k_work *work);
void ax_k_dwconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, int64_t N, int64_t c, int64_t K,
		 int64_t pad_left,
		 struct ax_k_work *work);
void ax_k_dwconv_step(float *out, const float *in, const float *ring,
		      int64_t R, int64_t step, const float *W, int64_t c,
		      int64_t K,
		      struct ax_k_work *work);

/* Floats of scratch ax_k_conv1d needs: N * K * i (the im2col matrix);
 * ax_k_conv1d_step needs K * i; the reference needs none. */
int64_t ax_k_conv1d_scratch(int64_t N, int64_t i, int64_t K);

/* ET standard conv1d: out[r] = sum_k W_k x[r+k-P] + b, where W (o, K*i)
 * holds W_k (o,i) in columns [k*i, (k+1)*i) (tap-major, TF's (K,i,o)
 * kernel transposed); b (o) or NULL.  out (N,o), in (N,i).
 * Fast: im2col (N, K*i) into scratch, then one sgemm. */
void ax_k_conv1d_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, const float *b, int64_t N, int64_t i,
		     int64_t o, int64_t K, int64_t pad_left, float *scratch,
		     struct ax_k_work *work);
void ax_k_conv1d(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, const float *b, int64_t N, int64_t i,
		 int64_t o, int64_t K, int64_t pad_left, float *scratch,
		 struct ax_k_work *work);
/* One causal step: out (o), in (i), ring (R,i); scratch K*i (sgemv). */
void ax_k_conv1d_step(float *out, const float *in, const float *ring,
		      int64_t R, int64_t step, const float *W, const float *b,
		      int64_t i, int64_t o, int64_t K, float *scratch,
		      struct ax_k_work *work);

/* --- elementwise and row ops (in place ok for all) -------------------------- */

/* GLU: out(N,w) = in[:, :w] * sigmoid(in[:, w:2w]); in (N, 2w). */
void ax_k_glu_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w);
void ax_k_glu(float *out, int64_t ldo, const float *in, int64_t ldi,
	      int64_t N, int64_t w);
/* out(N,w) = max(in, 0) */
void ax_k_relu_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		   int64_t N, int64_t w);
void ax_k_relu(float *out, int64_t ldo, const float *in, int64_t ldi,
	       int64_t N, int64_t w);
/* out(N,w) = in * sigmoid(in) */
void ax_k_swish_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		    int64_t N, int64_t w);
void ax_k_swish(float *out, int64_t ldo, const float *in, int64_t ldi,
		int64_t N, int64_t w);
/* out(N,w) = 1 / (1 + exp(-in)) */
void ax_k_sigmoid_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w);
void ax_k_sigmoid(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w);
/* out(N,w0) = a(N,w0) + [b(N,w1) | 0], w1 <= w0 (ET's pad-then-add).
 * In place ok with out == a. */
void ax_k_add_ref(float *out, int64_t ldo, const float *a, int64_t lda,
		  const float *b, int64_t ldb, int64_t N, int64_t w0,
		  int64_t w1);
void ax_k_add(float *out, int64_t ldo, const float *a, int64_t lda,
	      const float *b, int64_t ldb, int64_t N, int64_t w0, int64_t w1);
/* Row softmax / log-softmax over w columns, max-subtracted. */
void ax_k_softmax_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w);
void ax_k_softmax(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w);
void ax_k_log_softmax_ref(float *out, int64_t ldo, const float *in,
			  int64_t ldi, int64_t N, int64_t w);
void ax_k_log_softmax(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w);

/* --- embeddings -------------------------------------------------------------- */

/* Position conventions.  Values match enum ax_pos_kind in graph.h. */
enum ax_sinusoid_kind {
	AX_SINUSOID_FAIRSEQ = 0,  /* docs/models.md §2.1: positions from 2 */
	AX_SINUSOID_T2T = 1,      /* docs/models.md §6.1: positions from 0 */
	AX_SINUSOID_COUNT
};

#define AX_K_FAIRSEQ_PAD 1   /* fairseq padding_idx: its PE row is zero */

/* One sinusoid row out(d) at absolute position pos (already offset; a
 * fairseq caller passes j + 2).  With half = d/2 and
 * omega_i = exp(-i ln(1e4) / max(half-1, 1)) for i < half:
 *   out[i] = sin(pos omega_i), out[half + i] = cos(pos omega_i),
 * out[d-1] = 0 when d is odd.  FAIRSEQ: row pos == 1 (padding_idx) is
 * all zero.  (fairseq divides by half-1 and breaks for d < 4; t2t takes
 * the max; we take the max for both.)  Evaluated in float32 in the same
 * order as the upstream code: omega = expf(i * -inc), arg = pos * omega. */
void ax_k_sinusoid(float *out, int64_t pos, int64_t d,
		   enum ax_sinusoid_kind kind);

/* Token input: for j < N, out[j] = scale * E[tok[j]] + PE(p_j) with
 * p_j = pos0 + j + 2 (FAIRSEQ) or pos0 + j (T2T); pos0 is the 0-based
 * index of the first row in its sentence (the step in incremental mode).
 * Pad tokens get no special position (fairseq's make_positions would
 * give them padding_idx): callers run unpadded sequences.
 * T2T: token 0 embeds to the zero vector (t2t's padding).  E (V,d)
 * dense; out (N,d) ldo.  A token outside [0, V) returns AX_ERR_INPUT
 * (rows before it are written, the rest are untouched). */
enum ax_status ax_k_embed_ref(float *out, int64_t ldo, const float *E,
			      int64_t V, const int32_t *tok, int64_t N,
			      int64_t d, float scale, int64_t pos0,
			      enum ax_sinusoid_kind kind);
enum ax_status ax_k_embed(float *out, int64_t ldo, const float *E, int64_t V,
			  const int32_t *tok, int64_t N, int64_t d,
			  float scale, int64_t pos0,
			  enum ax_sinusoid_kind kind);
/* The absolute position ax_k_embed gives row j: pos0 + j (+ 2 FAIRSEQ). */
int64_t ax_k_embed_pos(int64_t pos0, int64_t j, enum ax_sinusoid_kind kind);

/* --- adaptive input and adaptive softmax (docs/models.md §2.8) ------------------- */

/* Which way a band's projection matrix is stored. */
enum ax_k_proj_layout {
	AX_K_PROJ_D_DB,   /* (d, d_b): the input-side Linear(d_b -> d) weight */
	AX_K_PROJ_DB_D,   /* (d_b, d): an untied output-side Linear(d -> d_b) */
};

/* A (rows, cols) matrix held at a reduced precision (`--precision`,
 * kernels_q.h): int8 q with one fp32 scale per row (value = scale[r] *
 * q[r][c]), or else bf16 h; all NULL when the matrix is fp32. `tile`
 * (tile_floats, >= 16 rows of the widest quantized matrix, exec's
 * dequantization tile) is scratch the fast kernels dequantize into. */
struct ax_k_qmat {
	const int8_t *q;
	const float *scale;
	const uint16_t *h;
	float *tile;
	int64_t tile_floats;
};

/* One vocabulary band: ids [start, start + size), width dim. */
struct ax_k_band {
	int64_t start, size, dim;
	const float *table;                 /* E_b (size, dim) */
	const float *proj;                  /* P_b, see layout; band 0 of the
					       softmax ignores it */
	enum ax_k_proj_layout proj_layout;
	/* at a reduced precision table (and proj) are NULL and these hold
	 * them, same layout; band 0 of the softmax holds W_cls's in qproj
	 * when W_cls is NULL */
	struct ax_k_qmat qtable, qproj;
};

/* Adaptive input: out[j] = scale * P_b E_b[tok - start_b] + PE(p_j), b the
 * band of tok[j]; bands[0..nb) contiguous from id 0, P_b (d, d_b).
 * Positions as ax_k_embed.  Out-of-range token: AX_ERR_INPUT.
 * Fast: one sgemv per token.  Work: d_b d per token, its own band (the
 * analytic count assumes band 0, cost.h). */
enum ax_status ax_k_adaptive_input_ref(float *out, int64_t ldo,
				       const int32_t *tok,
				       const struct ax_k_band *bands,
				       int64_t nb, int64_t N, int64_t d,
				       float scale, int64_t pos0,
				       enum ax_sinusoid_kind kind,
				       struct ax_k_work *work);
enum ax_status ax_k_adaptive_input(float *out, int64_t ldo,
				   const int32_t *tok,
				   const struct ax_k_band *bands, int64_t nb,
				   int64_t N, int64_t d, float scale,
				   int64_t pos0, enum ax_sinusoid_kind kind,
				   struct ax_k_work *work);

/* Floats of scratch the adaptive softmax needs (both versions):
 * N * (size_0 + nb - 1 + max_{b>=1} dim_b). */
int64_t ax_k_adaptive_softmax_scratch(int64_t N, const struct ax_k_band *bands,
				      int64_t nb);

/* Adaptive softmax log-probabilities over the whole vocabulary:
 *   head = [E_0 h | W_cls h]  (size_0 + nb - 1), lh = log_softmax(head)
 *   band 0:  out[w] = lh[w]
 *   band b:  z = P_b^T h (d_b), out[start_b + u] = lh[size_0 + b - 1]
 *            + log_softmax(E_b z)[u]
 * in (N,d) ldi, out (N,V) ldo with V = start + size of the last band,
 * W_cls (nb-1, d).  Fast: sgemm per piece over all N rows.
 * Work: N (d (size_0 + nb - 1) + sum_{b>=1} (d d_b + d_b size_b)). */
void ax_k_adaptive_log_softmax_ref(float *out, int64_t ldo, const float *in,
				   int64_t ldi, const struct ax_k_band *bands,
				   int64_t nb, const float *W_cls, int64_t N,
				   int64_t d, float *scratch,
				   struct ax_k_work *work);
void ax_k_adaptive_log_softmax(float *out, int64_t ldo, const float *in,
			       int64_t ldi, const struct ax_k_band *bands,
			       int64_t nb, const float *W_cls, int64_t N,
			       int64_t d, float *scratch,
			       struct ax_k_work *work);

#endif
