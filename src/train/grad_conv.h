/*
 * grad_conv.h - backward kernels of the convolution, gating and adaptive
 * op kinds: LIGHTCONV, DYNCONV, DWCONV, CONV1D, GLU, SWISH (and sigmoid),
 * ADAPTIVE_INPUT and ADAPTIVE_SOFTMAX (its loss and gradients, fused).
 * Each is a plain-loop reference `ax_g_<op>_ref` beside a fast `ax_g_<op>`
 * with the same signature; the formulas are in docs/training-kernels.md.
 *
 * Conventions (those of src/runtime/kernels.h, plus):
 *   - Argument order: input-gradient outputs, parameter-gradient outputs,
 *     the upstream gradient, the forward's saved inputs/outputs, const
 *     weights, dimensions, scratch, work.
 *   - Every gradient output is ACCUMULATED (+=): a tensor or parameter
 *     read by several ops (or several segments) sums its gradients, so
 *     the caller zeroes gradient buffers once per step.
 *   - Gradient outputs must not overlap any input.  Only the pointers
 *     a kernel marks "or NULL" may be NULL.
 *   - Sequence ops handle ONE sentence segment of N rows, with the
 *     forward's pad_left (K-1 causal, K//2 or (K-1)//2 centred) and zero
 *     padding outside [0, N); the caller loops over the segments of a
 *     packed batch, as the executor's run_conv_seq does.
 *   - Work: kernels with products add the MACs the backward performs to
 *     `work` (last argument, NULL = not counted).  The conv kernels, like
 *     their forwards, skip taps on the zero padding and count them as
 *     `skipped`: then macs + skipped = 2x the forward's `exact` count (one
 *     product for the input gradient, one for the weight gradient).  The
 *     fast conv1d multiplies im2col's zeros and performs them all.  The
 *     adaptive-softmax loss also counts the forward products it redoes.
 *     Softmax backward, elementwise ops and bias sums are not MACs.
 *   - No kernel allocates, prints or fails; shape violations are asserts.
 *
 * DropConnect (fairseq's weight_dropout on light and dynamic convs): a
 * mask (N, H*K) of factors (0 or 1/(1-p)) multiplies each row's
 * normalised tap weights, after the softmax, once per output row, head
 * and tap (fairseq expands the (H,K) kernel to every position before it
 * drops).  NULL = no weight dropout (evaluation, or p = 0).
 */
#ifndef AX_GRAD_CONV_H
#define AX_GRAD_CONV_H

#include <stdint.h>

#include "grad.h"
#include "kernels.h"

/* --- lightweight and dynamic convolutions -------------------------------- */

/* Floats of scratch ax_g_lightconv{,_ref} need: H * K. */
int64_t ax_g_lightconv_scratch(int64_t H, int64_t K);

/* Backward of ax_k_lightconv with the kernel normalisation folded in:
 *   dx (N,c) lddx += d/dx, dW (H,K) += d/dW of the RAW weight (through
 *   wn = softmax_K(W)); dy (N,c) the upstream gradient, x (N,c) the
 *   forward's input, wn (H,K) = ax_k_lightconv_weights(W), mask (N,H*K)
 *   ldm or NULL (DropConnect above).  Work: 2 c per tap inside [0, N),
 *   2 c per padding tap skipped. */
void ax_g_lightconv_ref(float *dx, int64_t lddx, float *dW, const float *dy,
			int64_t lddy, const float *x, int64_t ldx,
			const float *wn, const float *mask, int64_t ldm,
			int64_t N, int64_t c, int64_t H, int64_t K,
			int64_t pad_left, float *scratch,
			struct ax_k_work *work);
void ax_g_lightconv(float *dx, int64_t lddx, float *dW, const float *dy,
		    int64_t lddy, const float *x, int64_t ldx,
		    const float *wn, const float *mask, int64_t ldm,
		    int64_t N, int64_t c, int64_t H, int64_t K,
		    int64_t pad_left, float *scratch,
		    struct ax_k_work *work);

/* Floats of scratch ax_g_dynconv{,_ref} need: 2 * H * K. */
int64_t ax_g_dynconv_scratch(int64_t H, int64_t K);

/* Backward of ax_k_dynconv: dx (N,c) += d/dx, dkl (N, H*K) lddkl += d/d
 * of the kernel logits (through the softmax over all K taps, including
 * those that fell on the padding); dy (N,c), x (N,c) and kl (N,H*K) ldk
 * as in the forward; mask as above.  Work as ax_g_lightconv. */
void ax_g_dynconv_ref(float *dx, int64_t lddx, float *dkl, int64_t lddkl,
		      const float *dy, int64_t lddy, const float *x,
		      int64_t ldx, const float *kl, int64_t ldk,
		      const float *mask, int64_t ldm, int64_t N, int64_t c,
		      int64_t H, int64_t K, int64_t pad_left, float *scratch,
		      struct ax_k_work *work);
void ax_g_dynconv(float *dx, int64_t lddx, float *dkl, int64_t lddkl,
		  const float *dy, int64_t lddy, const float *x, int64_t ldx,
		  const float *kl, int64_t ldk, const float *mask,
		  int64_t ldm, int64_t N, int64_t c, int64_t H, int64_t K,
		  int64_t pad_left, float *scratch,
		  struct ax_k_work *work);

/* Floats of scratch ax_g_convdrop{,_ref} need: H * K. */
int64_t ax_g_convdrop_scratch(int64_t H, int64_t K);

/* The training FORWARD of a light or dynamic conv with DropConnect, whose
 * inference kernels (kernels.h) have no mask: out (N,c) row r =
 * ax_k_lightconv's / ax_k_dynconv's row r with the row's normalised tap
 * weights times mask row r (N, H*K) ldm.  Light: kl == NULL and wn (H,K)
 * normalised; dynamic: wn == NULL and kl (N, H*K) ldk the logits.  With
 * an all-ones mask it equals the inference kernel.  Work as the forward:
 * c per tap inside [0, N), the padding taps skipped. */
void ax_g_convdrop_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		       const float *wn, const float *kl, int64_t ldk,
		       const float *mask, int64_t ldm, int64_t N, int64_t c,
		       int64_t H, int64_t K, int64_t pad_left, float *scratch,
		       struct ax_k_work *work);
void ax_g_convdrop(float *out, int64_t ldo, const float *in, int64_t ldi,
		   const float *wn, const float *kl, int64_t ldk,
		   const float *mask, int64_t ldm, int64_t N, int64_t c,
		   int64_t H, int64_t K, int64_t pad_left, float *scratch,
		   struct ax_k_work *work);

/* --- Evolved Transformer convolutions ------------------------------------ */

/* Backward of ax_k_dwconv: dx (N,c) += d/dx, dW (K,c) += d/dW; dy (N,c),
 * x (N,c) the forward's input, W (K,c).  Work as ax_g_lightconv. */
void ax_g_dwconv_ref(float *dx, int64_t lddx, float *dW, const float *dy,
		     int64_t lddy, const float *x, int64_t ldx,
		     const float *W, int64_t N, int64_t c, int64_t K,
		     int64_t pad_left,
		     struct ax_k_work *work);
void ax_g_dwconv(float *dx, int64_t lddx, float *dW, const float *dy,
		 int64_t lddy, const float *x, int64_t ldx, const float *W,
		 int64_t N, int64_t c, int64_t K, int64_t pad_left,
		 struct ax_k_work *work);

/* Floats of scratch ax_g_conv1d needs: N * K * i (im2col, then its
 * gradient); the reference needs none. */
int64_t ax_g_conv1d_scratch(int64_t N, int64_t i, int64_t K);

/* Backward of ax_k_conv1d: dx (N,i) += d/dx, dW (o, K*i) += d/dW (tap-major
 * as the forward), db (o) += column sums of dy, or NULL (no bias); dy
 * (N,o), x (N,i) the forward's input, W (o, K*i).
 * Fast: im2col, dW += dy^T col and dcol = dy W (two sgemm), col2im.
 * Work: 2 i o per tap; the reference skips padding taps (skipped). */
void ax_g_conv1d_ref(float *dx, int64_t lddx, float *dW, float *db,
		     const float *dy, int64_t lddy, const float *x,
		     int64_t ldx, const float *W, int64_t N, int64_t i,
		     int64_t o, int64_t K, int64_t pad_left, float *scratch,
		     struct ax_k_work *work);
void ax_g_conv1d(float *dx, int64_t lddx, float *dW, float *db,
		 const float *dy, int64_t lddy, const float *x, int64_t ldx,
		 const float *W, int64_t N, int64_t i, int64_t o, int64_t K,
		 int64_t pad_left, float *scratch,
		 struct ax_k_work *work);

/* --- gates and activations (no MACs, no counter) ------------------------- */

/* GLU: dx (N,2w) += [dy * s | dy * a * s (1-s)], a = x[:, :w],
 * s = sigmoid(x[:, w:]); dy (N,w), x (N,2w) the forward's input. */
void ax_g_glu_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		  const float *x, int64_t ldx, int64_t N, int64_t w);
void ax_g_glu(float *dx, int64_t lddx, const float *dy, int64_t lddy,
	      const float *x, int64_t ldx, int64_t N, int64_t w);
/* Swish: dx (N,w) += dy * (s + x s (1-s)), s = sigmoid(x); x the input. */
void ax_g_swish_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		    const float *x, int64_t ldx, int64_t N, int64_t w);
void ax_g_swish(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		const float *x, int64_t ldx, int64_t N, int64_t w);
/* Sigmoid: dx (N,w) += dy * y (1-y), y (N,w) the forward's OUTPUT. */
void ax_g_sigmoid_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		      const float *y, int64_t ldy, int64_t N, int64_t w);
void ax_g_sigmoid(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		  const float *y, int64_t ldy, int64_t N, int64_t w);

/* --- adaptive input and adaptive softmax (docs/models.md §2.8) ----------- */

/* A band's parameter gradients, laid out as the band's table and proj
 * (struct ax_k_band); both required, except gb[0].dproj of the softmax.
 * Tied parameters share one gradient buffer, so the input and output
 * sides both add into it. */
struct ax_g_band_grad {
	float *dtable;   /* (size, dim) */
	float *dproj;    /* (d, dim) or (dim, d): the band's proj_layout */
};

/* Floats of scratch ax_g_adaptive_input{,_ref} need:
 * min(N, 64) * (d + 2 max_b dim_b); the reference uses none. */
int64_t ax_g_adaptive_input_scratch(int64_t N, int64_t d,
				    const struct ax_k_band *bands, int64_t nb);

/* Backward of ax_k_adaptive_input (the tokens have no gradient): for row
 * j with token t in band b, e = E_b[t - start_b]:
 *   gb[b].dtable[t - start_b] += scale P_b^T dy[j]   (d_b)
 *   gb[b].dproj               += scale dy[j] e^T     (d, d_b)
 * except that local row pad_row of every band's table gets no gradient
 * (fairseq gives each band's nn.Embedding padding_idx = 1; -1 = none).
 * dy (N,d) lddy; tok (N) as the forward (already checked in range).
 * Fast: per block of 64 rows and band, gather, two sgemm, scatter.
 * Work: 2 d d_b per token, its own band. */
void ax_g_adaptive_input_ref(const struct ax_g_band_grad *gb,
			     const float *dy, int64_t lddy,
			     const int32_t *tok,
			     const struct ax_k_band *bands, int64_t nb,
			     int64_t N, int64_t d, float scale,
			     int64_t pad_row, float *scratch,
			     struct ax_k_work *work);
void ax_g_adaptive_input(const struct ax_g_band_grad *gb, const float *dy,
			 int64_t lddy, const int32_t *tok,
			 const struct ax_k_band *bands, int64_t nb, int64_t N,
			 int64_t d, float scale, int64_t pad_row,
			 float *scratch,
			 struct ax_k_work *work);

/* Floats of scratch ax_g_adaptive_softmax{,_ref} need:
 * min(N, 64) * (size_0 + nb - 1 + 2 d + 2 max_{b>=1} dim_b
 *               + max_{b>=1} size_b). */
int64_t ax_g_adaptive_softmax_scratch(int64_t N,
				      const struct ax_k_band *bands,
				      int64_t nb);

/* The adaptive-softmax loss and its gradients, fused: for each row r with
 * target t = target[r] != ignore, the negative log-probability
 * -out[r][t] of ax_k_adaptive_log_softmax (band 0: the head; band b: the
 * head's cluster b entry plus the tail b log-softmax, computed only for
 * the tail holding t, as fairseq's adaptive_loss does):
 *   *loss += sum_r -log p(t_r)            (double; NULL = not wanted)
 *   dh (N,d) lddh, gb[0].dtable (size_0, d), dW_cls (nb-1, d), and for
 *   b >= 1 gb[b].dtable (size_b, d_b), gb[b].dproj (proj_layout)
 *   += gscale * the gradient of that sum (gscale: the upstream gradient,
 *   e.g. 1 / sample_size).  gb[0].dproj is not used.
 * dh == NULL: the loss only (validation); gb and dW_cls are not used.
 * h (N,d) ldh the forward's input; bands and W_cls as the forward (tied
 * layout AX_K_PROJ_D_DB, own AX_K_PROJ_DB_D).  Rows whose target is
 * `ignore` (fairseq: the pad id; -1 = none) add nothing.
 * Fast: blocks of 64 rows; sgemm for the head and per tail.
 * Work: 3 d (size_0 + nb - 1) per counted row, plus
 * 3 (d d_b + d_b size_b) when its target is in tail b (1x, not 3x, for
 * the loss only). */
void ax_g_adaptive_softmax_ref(float *dh, int64_t lddh,
			       const struct ax_g_band_grad *gb, float *dW_cls,
			       double *loss, float gscale,
			       const int32_t *target, const float *h,
			       int64_t ldh, const struct ax_k_band *bands,
			       int64_t nb, const float *W_cls, int64_t N,
			       int64_t d, int32_t ignore, float *scratch,
			       struct ax_k_work *work);
void ax_g_adaptive_softmax(float *dh, int64_t lddh,
			   const struct ax_g_band_grad *gb, float *dW_cls,
			   double *loss, float gscale, const int32_t *target,
			   const float *h, int64_t ldh,
			   const struct ax_k_band *bands, int64_t nb,
			   const float *W_cls, int64_t N, int64_t d,
			   int32_t ignore, float *scratch,
			   struct ax_k_work *work);

/* The same with fairseq's adaptive_softmax_dropout inside each tail:
 * z = proj_b(h) is multiplied by ax_g_keep(ax_g_tail_key(key, b),
 * r * d_b + e, p) (row r of h, e < d_b) before the tail's output layer,
 * and dz by the same mask (p = 0: none; the forms above). The dropout
 * fairseq also applies to the whole input h is the caller's (train.c
 * passes a dropped copy of h and masks dh). */
static inline uint64_t ax_g_tail_key(uint64_t key, int64_t b)
{
	return ax_g_mix(key ^ ((uint64_t)b * 0x9e3779b97f4a7c15ull));
}
void ax_g_adaptive_softmax_drop_ref(float *dh, int64_t lddh,
				    const struct ax_g_band_grad *gb,
				    float *dW_cls, double *loss, float gscale,
				    const int32_t *target, const float *h,
				    int64_t ldh, const struct ax_k_band *bands,
				    int64_t nb, const float *W_cls, int64_t N,
				    int64_t d, int32_t ignore, uint64_t key,
				    float p, float *scratch,
				    struct ax_k_work *work);
void ax_g_adaptive_softmax_drop(float *dh, int64_t lddh,
				const struct ax_g_band_grad *gb, float *dW_cls,
				double *loss, float gscale,
				const int32_t *target, const float *h,
				int64_t ldh, const struct ax_k_band *bands,
				int64_t nb, const float *W_cls, int64_t N,
				int64_t d, int32_t ignore, uint64_t key, float p,
				float *scratch, struct ax_k_work *work);

#endif
