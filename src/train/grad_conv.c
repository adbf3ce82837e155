/*
 * grad_conv.c - backward kernels of the convolution, gating and adaptive
 * ops (shapes and conventions in grad_conv.h, formulas in
 * docs/training-kernels.md).
 *
 * Each `_ref` writes the chain rule as plain loops, accumulating in
 * double, so the tests compare the fast path against something at least
 * as accurate; the fast versions keep inner loops unit-stride over
 * channels (so they vectorise) and hand the products to OpenBLAS.
 */
#include "grad_conv.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#define AX_G_LD_OK(ld, width) ((ld) >= ((width) > 0 ? (width) : 1))
#define AX_G_INT_OK(x) ((x) >= 0 && (x) <= INT_MAX)
/* Rows per block in the adaptive kernels: bounds their scratch. */
#define AX_G_BLOCK 64

static inline void count(struct ax_k_work *work, int64_t macs, int64_t skipped)
{
	if (work) {
		work->macs += macs;
		work->skipped += skipped;
	}
}

static inline int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* p(K) = softmax(z(K)) in double, max-subtracted, rounded to float. */
static void softmax_ref(float *p, const float *z, int64_t K)
{
	double m = z[0], s = 0.0;
	for (int64_t k = 1; k < K; k++)
		m = z[k] > m ? z[k] : m;
	for (int64_t k = 0; k < K; k++)
		s += exp((double)z[k] - m);
	for (int64_t k = 0; k < K; k++)
		p[k] = (float)(exp((double)z[k] - m) / s);
}

/* dz(K) += p * (g - <p, g>): the softmax's vector-Jacobian product. */
static void softmax_bwd(float *dz, const float *p, const float *g, int64_t K)
{
	double dot = 0.0;
	for (int64_t k = 0; k < K; k++)
		dot += (double)p[k] * g[k];
	for (int64_t k = 0; k < K; k++)
		dz[k] += (float)((double)p[k] * ((double)g[k] - dot));
}

/* ==== light and dynamic convolutions ====================================== */

int64_t ax_g_lightconv_scratch(int64_t H, int64_t K)
{
	return H * K;
}

int64_t ax_g_dynconv_scratch(int64_t H, int64_t K)
{
	return 2 * H * K;
}

/*
 * One output row r of a light/dynamic conv, reference loops: with tap
 * weights w(H,K) (normalised) and mask row m (H*K or NULL),
 *   dx[src][ch] += w[h][k] m[h*K+k] dy[r][ch]
 *   g[h][k]     += m[h*K+k] sum_{ch in h} dy[r][ch] x[src][ch]
 * for src = r + k - pad_left in [0, N).  g (H,K) is the gradient of the
 * normalised weights.  Returns the taps done.
 */
static int64_t taps_bwd_row_ref(float *dx, int64_t lddx, float *g,
				const float *dy, const float *x, int64_t ldx,
				const float *w, const float *m, int64_t r,
				int64_t N, int64_t c, int64_t H, int64_t K,
				int64_t pad_left)
{
	int64_t per = c / H, done = 0;
	for (int64_t k = 0; k < K; k++) {
		int64_t src = r + k - pad_left;
		if (src < 0 || src >= N)
			continue;
		done++;
		for (int64_t hd = 0; hd < H; hd++) {
			double f = m ? m[hd * K + k] : 1.0;
			double acc = 0.0;
			for (int64_t j = hd * per; j < (hd + 1) * per; j++) {
				acc += (double)dy[j] * x[src * ldx + j];
				dx[src * lddx + j] += (float)((double)w[hd * K + k] *
							      f * dy[j]);
			}
			g[hd * K + k] += (float)(f * acc);
		}
	}
	return done;
}

/* The same row, fast: per tap and head a dot and an axpy over the head's
 * contiguous channels. */
static int64_t taps_bwd_row(float *dx, int64_t lddx, float *g,
			    const float *dy, const float *x, int64_t ldx,
			    const float *w, const float *m, int64_t r,
			    int64_t N, int64_t c, int64_t H, int64_t K,
			    int64_t pad_left)
{
	int64_t per = c / H, done = 0;
	int64_t k0 = pad_left - r > 0 ? pad_left - r : 0;
	int64_t k1 = min64(K, N - r + pad_left);
	for (int64_t k = k0; k < k1; k++) {
		int64_t src = r + k - pad_left;
		const float *xs = x + src * ldx;
		float *ds = dx + src * lddx;
		done++;
		for (int64_t hd = 0; hd < H; hd++) {
			float f = m ? m[hd * K + k] : 1.0f;
			float a = w[hd * K + k] * f;
			float acc = 0.0f;
			int64_t j0 = hd * per;
			for (int64_t j = j0; j < j0 + per; j++) {
				acc += dy[j] * xs[j];
				ds[j] += a * dy[j];
			}
			g[hd * K + k] += f * acc;
		}
	}
	return done;
}

typedef int64_t (*taps_bwd_fn)(float *, int64_t, float *, const float *,
			       const float *, int64_t, const float *,
			       const float *, int64_t, int64_t, int64_t,
			       int64_t, int64_t, int64_t);

/* Both lightconv versions: g (H,K) sums the rows' weight gradients, then
 * one softmax backward per head takes it to the raw weight. */
static void lightconv_bwd(taps_bwd_fn row, float *dx, int64_t lddx, float *dW,
			  const float *dy, int64_t lddy, const float *x,
			  int64_t ldx, const float *wn, const float *mask,
			  int64_t ldm, int64_t N, int64_t c, int64_t H,
			  int64_t K, int64_t pad_left, float *scratch,
			  struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, c) && AX_G_LD_OK(lddy, c) &&
	       AX_G_LD_OK(ldx, c) && (!mask || AX_G_LD_OK(ldm, H * K)));
	float *g = scratch;   /* (H,K) gradient of the normalised kernel */
	memset(g, 0, (size_t)(H * K) * sizeof *g);
	int64_t done = 0;
	for (int64_t r = 0; r < N; r++)
		done += row(dx, lddx, g, dy + r * lddy, x, ldx, wn,
			    mask ? mask + r * ldm : NULL, r, N, c, H, K,
			    pad_left);
	for (int64_t hd = 0; hd < H; hd++)
		softmax_bwd(dW + hd * K, wn + hd * K, g + hd * K, K);
	count(work, 2 * done * c, 2 * (N * K - done) * c);
}

void ax_g_lightconv_ref(float *dx, int64_t lddx, float *dW, const float *dy,
			int64_t lddy, const float *x, int64_t ldx,
			const float *wn, const float *mask, int64_t ldm,
			int64_t N, int64_t c, int64_t H, int64_t K,
			int64_t pad_left, float *scratch,
			struct ax_k_work *work)
{
	lightconv_bwd(taps_bwd_row_ref, dx, lddx, dW, dy, lddy, x, ldx, wn,
		      mask, ldm, N, c, H, K, pad_left, scratch, work);
}

void ax_g_lightconv(float *dx, int64_t lddx, float *dW, const float *dy,
		    int64_t lddy, const float *x, int64_t ldx,
		    const float *wn, const float *mask, int64_t ldm,
		    int64_t N, int64_t c, int64_t H, int64_t K,
		    int64_t pad_left, float *scratch,
		    struct ax_k_work *work)
{
	lightconv_bwd(taps_bwd_row, dx, lddx, dW, dy, lddy, x, ldx, wn, mask,
		      ldm, N, c, H, K, pad_left, scratch, work);
}

/* Both dynconv versions: per row, the kernel is recomputed from the
 * logits (softmax over all K taps), the taps' gradients g (H,K) are
 * gathered, and the softmax backward takes them to the logits. */
static void dynconv_bwd(taps_bwd_fn row, float *dx, int64_t lddx, float *dkl,
			int64_t lddkl, const float *dy, int64_t lddy,
			const float *x, int64_t ldx, const float *kl,
			int64_t ldk, const float *mask, int64_t ldm, int64_t N,
			int64_t c, int64_t H, int64_t K, int64_t pad_left,
			float *scratch, struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, c) && AX_G_LD_OK(lddy, c) &&
	       AX_G_LD_OK(ldx, c) && AX_G_LD_OK(ldk, H * K) &&
	       AX_G_LD_OK(lddkl, H * K) && (!mask || AX_G_LD_OK(ldm, H * K)));
	float *p = scratch;          /* (H,K) this row's normalised kernel */
	float *g = scratch + H * K;  /* (H,K) its gradient */
	int64_t done = 0;
	for (int64_t r = 0; r < N; r++) {
		for (int64_t hd = 0; hd < H; hd++)
			softmax_ref(p + hd * K, kl + r * ldk + hd * K, K);
		memset(g, 0, (size_t)(H * K) * sizeof *g);
		done += row(dx, lddx, g, dy + r * lddy, x, ldx, p,
			    mask ? mask + r * ldm : NULL, r, N, c, H, K,
			    pad_left);
		for (int64_t hd = 0; hd < H; hd++)
			softmax_bwd(dkl + r * lddkl + hd * K, p + hd * K,
				    g + hd * K, K);
	}
	count(work, 2 * done * c, 2 * (N * K - done) * c);
}

void ax_g_dynconv_ref(float *dx, int64_t lddx, float *dkl, int64_t lddkl,
		      const float *dy, int64_t lddy, const float *x,
		      int64_t ldx, const float *kl, int64_t ldk,
		      const float *mask, int64_t ldm, int64_t N, int64_t c,
		      int64_t H, int64_t K, int64_t pad_left, float *scratch,
		      struct ax_k_work *work)
{
	dynconv_bwd(taps_bwd_row_ref, dx, lddx, dkl, lddkl, dy, lddy, x, ldx,
		    kl, ldk, mask, ldm, N, c, H, K, pad_left, scratch, work);
}

void ax_g_dynconv(float *dx, int64_t lddx, float *dkl, int64_t lddkl,
		  const float *dy, int64_t lddy, const float *x, int64_t ldx,
		  const float *kl, int64_t ldk, const float *mask,
		  int64_t ldm, int64_t N, int64_t c, int64_t H, int64_t K,
		  int64_t pad_left, float *scratch,
		  struct ax_k_work *work)
{
	dynconv_bwd(taps_bwd_row, dx, lddx, dkl, lddkl, dy, lddy, x, ldx, kl,
		    ldk, mask, ldm, N, c, H, K, pad_left, scratch, work);
}

int64_t ax_g_convdrop_scratch(int64_t H, int64_t K)
{
	return H * K;
}

/* Both DropConnect forwards: per row, the kernel p (H,K) (wn, or the
 * softmax of the row's logits) times the mask row, then the taps; the
 * reference accumulates in double, the fast path per head and tap over
 * contiguous channels. */
static void convdrop(bool ref, float *out, int64_t ldo, const float *in,
		     int64_t ldi, const float *wn, const float *kl, int64_t ldk,
		     const float *mask, int64_t ldm, int64_t N, int64_t c,
		     int64_t H, int64_t K, int64_t pad_left, float *scratch,
		     struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1 && (!wn) != (!kl));
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(ldo, c) && AX_G_LD_OK(ldi, c) &&
	       AX_G_LD_OK(ldm, H * K) && (!kl || AX_G_LD_OK(ldk, H * K)));
	int64_t per = c / H, done = 0;
	float *p = scratch;   /* (H,K) this row's dropped kernel */
	for (int64_t r = 0; r < N; r++) {
		for (int64_t hd = 0; hd < H; hd++) {
			if (kl)
				softmax_ref(p + hd * K, kl + r * ldk + hd * K, K);
			else
				memcpy(p + hd * K, wn + hd * K, (size_t)K * sizeof *p);
		}
		for (int64_t j = 0; j < H * K; j++)
			p[j] *= mask[r * ldm + j];
		float *y = out + r * ldo;
		if (ref) {
			for (int64_t ch = 0; ch < c; ch++) {
				double acc = 0.0;
				for (int64_t k = 0; k < K; k++) {
					int64_t src = r + k - pad_left;
					if (src >= 0 && src < N)
						acc += (double)p[(ch / per) * K + k] *
						       in[src * ldi + ch];
				}
				y[ch] = (float)acc;
			}
			done += (min64(K, N - r + pad_left) -
				 (pad_left - r > 0 ? pad_left - r : 0));
			continue;
		}
		memset(y, 0, (size_t)c * sizeof *y);
		int64_t k0 = pad_left - r > 0 ? pad_left - r : 0;
		int64_t k1 = min64(K, N - r + pad_left);
		for (int64_t k = k0; k < k1; k++) {
			const float *x = in + (r + k - pad_left) * ldi;
			for (int64_t hd = 0; hd < H; hd++) {
				float a = p[hd * K + k];
				for (int64_t j = hd * per; j < (hd + 1) * per; j++)
					y[j] += a * x[j];
			}
		}
		done += k1 - k0;
	}
	count(work, done * c, (N * K - done) * c);
}

void ax_g_convdrop_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		       const float *wn, const float *kl, int64_t ldk,
		       const float *mask, int64_t ldm, int64_t N, int64_t c,
		       int64_t H, int64_t K, int64_t pad_left, float *scratch,
		       struct ax_k_work *work)
{
	convdrop(true, out, ldo, in, ldi, wn, kl, ldk, mask, ldm, N, c, H, K,
		 pad_left, scratch, work);
}

void ax_g_convdrop(float *out, int64_t ldo, const float *in, int64_t ldi,
		   const float *wn, const float *kl, int64_t ldk,
		   const float *mask, int64_t ldm, int64_t N, int64_t c,
		   int64_t H, int64_t K, int64_t pad_left, float *scratch,
		   struct ax_k_work *work)
{
	convdrop(false, out, ldo, in, ldi, wn, kl, ldk, mask, ldm, N, c, H, K,
		 pad_left, scratch, work);
}

/* ==== Evolved Transformer convolutions ==================================== */

void ax_g_dwconv_ref(float *dx, int64_t lddx, float *dW, const float *dy,
		     int64_t lddy, const float *x, int64_t ldx,
		     const float *W, int64_t N, int64_t c, int64_t K,
		     int64_t pad_left,
		     struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, c) && AX_G_LD_OK(lddy, c) && AX_G_LD_OK(ldx, c));
	int64_t done = 0;
	/* dW[k][ch] = sum_r dy[r][ch] x[r+k-P][ch]: one sum per weight */
	for (int64_t k = 0; k < K; k++)
		for (int64_t ch = 0; ch < c; ch++) {
			double acc = 0.0;
			for (int64_t r = 0; r < N; r++) {
				int64_t src = r + k - pad_left;
				if (src >= 0 && src < N)
					acc += (double)dy[r * lddy + ch] *
					       x[src * ldx + ch];
			}
			dW[k * c + ch] += (float)acc;
		}
	/* dx[s][ch] = sum_k W[k][ch] dy[s-k+P][ch] */
	for (int64_t s = 0; s < N; s++)
		for (int64_t ch = 0; ch < c; ch++) {
			double acc = 0.0;
			for (int64_t k = 0; k < K; k++) {
				int64_t r = s - k + pad_left;
				if (r >= 0 && r < N) {
					acc += (double)W[k * c + ch] * dy[r * lddy + ch];
					done++;
				}
			}
			dx[s * lddx + ch] += (float)acc;
		}
	/* done counted channel by channel; a tap is c of them */
	count(work, 2 * done, 2 * (N * K * c - done));
}

void ax_g_dwconv(float *dx, int64_t lddx, float *dW, const float *dy,
		 int64_t lddy, const float *x, int64_t ldx, const float *W,
		 int64_t N, int64_t c, int64_t K, int64_t pad_left,
		 struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, c) && AX_G_LD_OK(lddy, c) && AX_G_LD_OK(ldx, c));
	int64_t done = 0;
	for (int64_t r = 0; r < N; r++) {
		const float *g = dy + r * lddy;
		int64_t k0 = pad_left - r > 0 ? pad_left - r : 0;
		int64_t k1 = min64(K, N - r + pad_left);
		for (int64_t k = k0; k < k1; k++) {
			int64_t src = r + k - pad_left;
			const float *xs = x + src * ldx, *wk = W + k * c;
			float *ds = dx + src * lddx, *dwk = dW + k * c;
			for (int64_t ch = 0; ch < c; ch++) {
				dwk[ch] += g[ch] * xs[ch];
				ds[ch] += wk[ch] * g[ch];
			}
			done++;
		}
	}
	count(work, 2 * done * c, 2 * (N * K - done) * c);
}

int64_t ax_g_conv1d_scratch(int64_t N, int64_t i, int64_t K)
{
	return (N > 1 ? N : 1) * K * i;
}

void ax_g_conv1d_ref(float *dx, int64_t lddx, float *dW, float *db,
		     const float *dy, int64_t lddy, const float *x,
		     int64_t ldx, const float *W, int64_t N, int64_t i,
		     int64_t o, int64_t K, int64_t pad_left, float *scratch,
		     struct ax_k_work *work)
{
	(void)scratch;
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, i) && AX_G_LD_OK(lddy, o) && AX_G_LD_OK(ldx, i));
	int64_t ki = K * i, done = 0, skipped = 0;   /* taps of i o MACs */
	for (int64_t oo = 0; oo < o; oo++) {
		if (db) {
			double acc = 0.0;
			for (int64_t r = 0; r < N; r++)
				acc += dy[r * lddy + oo];
			db[oo] += (float)acc;
		}
		/* dW_k[oo][ii] = sum_r dy[r][oo] x[r+k-P][ii] */
		for (int64_t k = 0; k < K; k++)
			for (int64_t ii = 0; ii < i; ii++) {
				double acc = 0.0;
				for (int64_t r = 0; r < N; r++) {
					int64_t src = r + k - pad_left;
					if (src >= 0 && src < N)
						acc += (double)dy[r * lddy + oo] *
						       x[src * ldx + ii];
				}
				dW[oo * ki + k * i + ii] += (float)acc;
			}
	}
	/* dx[s][ii] = sum_{k, oo} W_k[oo][ii] dy[s-k+P][oo] */
	for (int64_t s = 0; s < N; s++)
		for (int64_t k = 0; k < K; k++) {
			int64_t r = s - k + pad_left;
			if (r < 0 || r >= N) {
				skipped++;
				continue;
			}
			done++;
			for (int64_t ii = 0; ii < i; ii++) {
				double acc = 0.0;
				for (int64_t oo = 0; oo < o; oo++)
					acc += (double)W[oo * ki + k * i + ii] *
					       dy[r * lddy + oo];
				dx[s * lddx + ii] += (float)acc;
			}
		}
	count(work, 2 * done * i * o, 2 * skipped * i * o);
}

void ax_g_conv1d(float *dx, int64_t lddx, float *dW, float *db,
		 const float *dy, int64_t lddy, const float *x, int64_t ldx,
		 const float *W, int64_t N, int64_t i, int64_t o, int64_t K,
		 int64_t pad_left, float *scratch,
		 struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_G_LD_OK(lddx, i) && AX_G_LD_OK(lddy, o) &&
	       AX_G_LD_OK(ldx, i) && i >= 1 && o >= 1);
	int64_t ki = K * i;
	assert(AX_G_INT_OK(N) && AX_G_INT_OK(ki) && AX_G_INT_OK(o) &&
	       AX_G_INT_OK(lddy));
	count(work, 2 * N * ki * o, 0);
	if (N == 0)
		return;
	if (db)
		for (int64_t r = 0; r < N; r++)
			for (int64_t oo = 0; oo < o; oo++)
				db[oo] += dy[r * lddy + oo];
	/* im2col: col(N, K*i), row r = [x[r-P] | ... | x[r+K-1-P]] */
	float *col = scratch;
	for (int64_t r = 0; r < N; r++)
		for (int64_t k = 0; k < K; k++) {
			int64_t src = r + k - pad_left;
			float *dst = col + r * ki + k * i;
			if (src >= 0 && src < N)
				memcpy(dst, x + src * ldx, (size_t)i * sizeof *dst);
			else
				memset(dst, 0, (size_t)i * sizeof *dst);
		}
	/* dW(o, K*i) += dy(N,o)^T col(N, K*i) */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)o, (int)ki,
		    (int)N, 1.0f, dy, (int)lddy, col, (int)ki, 1.0f, dW, (int)ki);
	/* dcol(N, K*i) = dy(N,o) W(o, K*i), over col */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)ki,
		    (int)o, 1.0f, dy, (int)lddy, W, (int)ki, 0.0f, col, (int)ki);
	/* col2im: each window slot adds into the input row it came from */
	for (int64_t r = 0; r < N; r++)
		for (int64_t k = 0; k < K; k++) {
			int64_t src = r + k - pad_left;
			if (src < 0 || src >= N)
				continue;
			const float *s = col + r * ki + k * i;
			float *dst = dx + src * lddx;
			for (int64_t ii = 0; ii < i; ii++)
				dst[ii] += s[ii];
		}
}

/* ==== gates and activations =============================================== */

static inline float sigmoidf_(float v)
{
	return 1.0f / (1.0f + expf(-v));
}

void ax_g_glu_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		  const float *x, int64_t ldx, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, 2 * w) && AX_G_LD_OK(lddy, w) &&
	       AX_G_LD_OK(ldx, 2 * w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			double a = x[r * ldx + c], s = 1.0 / (1.0 + exp(-(double)x[r * ldx + w + c]));
			double g = dy[r * lddy + c];
			dx[r * lddx + c] += (float)(g * s);
			dx[r * lddx + w + c] += (float)(g * a * s * (1.0 - s));
		}
}

void ax_g_glu(float *dx, int64_t lddx, const float *dy, int64_t lddy,
	      const float *x, int64_t ldx, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, 2 * w) && AX_G_LD_OK(lddy, w) &&
	       AX_G_LD_OK(ldx, 2 * w));
	for (int64_t r = 0; r < N; r++) {
		const float *a = x + r * ldx, *gt = a + w, *g = dy + r * lddy;
		float *da = dx + r * lddx, *dg = da + w;
		for (int64_t c = 0; c < w; c++) {
			float s = sigmoidf_(gt[c]);
			da[c] += g[c] * s;
			dg[c] += g[c] * a[c] * s * (1.0f - s);
		}
	}
}

void ax_g_swish_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		    const float *x, int64_t ldx, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, w) && AX_G_LD_OK(lddy, w) && AX_G_LD_OK(ldx, w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			double v = x[r * ldx + c], s = 1.0 / (1.0 + exp(-v));
			dx[r * lddx + c] += (float)(dy[r * lddy + c] *
						    (s + v * s * (1.0 - s)));
		}
}

void ax_g_swish(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		const float *x, int64_t ldx, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, w) && AX_G_LD_OK(lddy, w) && AX_G_LD_OK(ldx, w));
	for (int64_t r = 0; r < N; r++) {
		const float *v = x + r * ldx, *g = dy + r * lddy;
		float *d = dx + r * lddx;
		for (int64_t c = 0; c < w; c++) {
			float s = sigmoidf_(v[c]);
			d[c] += g[c] * (s + v[c] * s * (1.0f - s));
		}
	}
}

void ax_g_sigmoid_ref(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		      const float *y, int64_t ldy, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, w) && AX_G_LD_OK(lddy, w) && AX_G_LD_OK(ldy, w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			double s = y[r * ldy + c];
			dx[r * lddx + c] += (float)(dy[r * lddy + c] * s * (1.0 - s));
		}
}

void ax_g_sigmoid(float *dx, int64_t lddx, const float *dy, int64_t lddy,
		  const float *y, int64_t ldy, int64_t N, int64_t w)
{
	assert(AX_G_LD_OK(lddx, w) && AX_G_LD_OK(lddy, w) && AX_G_LD_OK(ldy, w));
	for (int64_t r = 0; r < N; r++) {
		const float *s = y + r * ldy, *g = dy + r * lddy;
		float *d = dx + r * lddx;
		for (int64_t c = 0; c < w; c++)
			d[c] += g[c] * s[c] * (1.0f - s[c]);
	}
}

/* ==== adaptive input ====================================================== */

static int64_t find_band(const struct ax_k_band *bands, int64_t nb, int64_t id)
{
	for (int64_t b = 0; b < nb; b++)
		if (id >= bands[b].start && id < bands[b].start + bands[b].size)
			return b;
	return -1;
}

static int64_t max_dim(const struct ax_k_band *bands, int64_t b0, int64_t nb)
{
	int64_t m = 0;
	for (int64_t b = b0; b < nb; b++)
		m = bands[b].dim > m ? bands[b].dim : m;
	return m;
}

int64_t ax_g_adaptive_input_scratch(int64_t N, int64_t d,
				    const struct ax_k_band *bands, int64_t nb)
{
	return min64(N > 1 ? N : 1, AX_G_BLOCK) * (d + 2 * max_dim(bands, 0, nb));
}

void ax_g_adaptive_input_ref(const struct ax_g_band_grad *gb,
			     const float *dy, int64_t lddy,
			     const int32_t *tok,
			     const struct ax_k_band *bands, int64_t nb,
			     int64_t N, int64_t d, float scale,
			     int64_t pad_row, float *scratch,
			     struct ax_k_work *work)
{
	(void)scratch;
	assert(nb >= 1 && AX_G_LD_OK(lddy, d));
	for (int64_t j = 0; j < N; j++) {
		int64_t b = find_band(bands, nb, tok[j]);
		assert(b >= 0);
		const struct ax_k_band *bd = &bands[b];
		assert(bd->proj_layout == AX_K_PROJ_D_DB);
		int64_t db = bd->dim, row = tok[j] - bd->start;
		const float *e = bd->table + row * db, *g = dy + j * lddy;
		count(work, 2 * d * db, 0);
		/* dE_b[row] = scale P_b^T g: the padding row gets none */
		if (row != pad_row)
			for (int64_t u = 0; u < db; u++) {
				double acc = 0.0;
				for (int64_t r = 0; r < d; r++)
					acc += (double)bd->proj[r * db + u] * g[r];
				gb[b].dtable[row * db + u] += (float)(scale * acc);
			}
		/* dP_b = scale g e^T */
		for (int64_t r = 0; r < d; r++)
			for (int64_t u = 0; u < db; u++)
				gb[b].dproj[r * db + u] +=
					(float)((double)scale * g[r] * e[u]);
	}
}

/* One band of one block of rows [r0, r1) of the fast adaptive input:
 * gather the rows whose token is in band b, then two sgemm and a
 * scatter.  Returns the rows done. */
static int64_t adaptive_input_band(const struct ax_g_band_grad *g,
				   const float *dy, int64_t lddy,
				   const int32_t *tok,
				   const struct ax_k_band *bd, int64_t r0,
				   int64_t r1, int64_t d, float scale,
				   int64_t pad_row, float *scratch)
{
	int64_t db = bd->dim, n = 0, B = r1 - r0;
	float *G = scratch;            /* (n <= B, d) gathered dy */
	float *Eg = G + B * d;         /* (n, db) their rows of E_b */
	float *dEg = Eg + B * db;      /* (n, db) */
	for (int64_t j = r0; j < r1; j++) {
		if (tok[j] < bd->start || tok[j] >= bd->start + bd->size)
			continue;
		memcpy(G + n * d, dy + j * lddy, (size_t)d * sizeof *G);
		memcpy(Eg + n * db, bd->table + (tok[j] - bd->start) * db,
		       (size_t)db * sizeof *Eg);
		n++;
	}
	if (n == 0)
		return 0;
	/* dP_b(d, db) += scale G^T Eg;  dEg(n, db) = scale G P_b */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)db,
		    (int)n, scale, G, (int)d, Eg, (int)db, 1.0f, g->dproj,
		    (int)db);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)db,
		    (int)d, scale, G, (int)d, bd->proj, (int)db, 0.0f, dEg,
		    (int)db);
	int64_t k = 0;
	for (int64_t j = r0; j < r1; j++) {
		if (tok[j] < bd->start || tok[j] >= bd->start + bd->size)
			continue;
		int64_t row = tok[j] - bd->start;
		const float *s = dEg + (k++) * db;
		if (row == pad_row)
			continue;
		float *dst = g->dtable + row * db;
		for (int64_t u = 0; u < db; u++)
			dst[u] += s[u];
	}
	return n;
}

void ax_g_adaptive_input(const struct ax_g_band_grad *gb, const float *dy,
			 int64_t lddy, const int32_t *tok,
			 const struct ax_k_band *bands, int64_t nb, int64_t N,
			 int64_t d, float scale, int64_t pad_row,
			 float *scratch,
			 struct ax_k_work *work)
{
	assert(nb >= 1 && AX_G_LD_OK(lddy, d) && AX_G_INT_OK(d));
	for (int64_t r0 = 0; r0 < N; r0 += AX_G_BLOCK) {
		int64_t r1 = min64(N, r0 + AX_G_BLOCK);
		int64_t seen = 0;
		for (int64_t b = 0; b < nb; b++) {
			assert(bands[b].proj_layout == AX_K_PROJ_D_DB);
			int64_t n = adaptive_input_band(&gb[b], dy, lddy, tok,
							&bands[b], r0, r1, d,
							scale, pad_row, scratch);
			count(work, 2 * n * d * bands[b].dim, 0);
			seen += n;
		}
		assert(seen == r1 - r0);   /* every token in some band */
		(void)seen;
	}
}

/* ==== adaptive softmax loss =============================================== */

int64_t ax_g_adaptive_softmax_scratch(int64_t N,
				      const struct ax_k_band *bands,
				      int64_t nb)
{
	int64_t d = bands[0].dim, maxsize = 0;
	for (int64_t b = 1; b < nb; b++)
		maxsize = bands[b].size > maxsize ? bands[b].size : maxsize;
	return min64(N > 1 ? N : 1, AX_G_BLOCK) *
	       (bands[0].size + nb - 1 + 2 * d + 2 * max_dim(bands, 1, nb) +
		maxsize);
}

/* g(n) = gscale (softmax(x) - onehot(t)) in place over x(n); returns
 * -log softmax(x)[t]. */
static double softmax_xent_ref(float *x, int64_t n, int64_t t, float gscale)
{
	double m = x[0], s = 0.0;
	for (int64_t u = 1; u < n; u++)
		m = x[u] > m ? x[u] : m;
	for (int64_t u = 0; u < n; u++)
		s += exp((double)x[u] - m);
	double nll = -((double)x[t] - m - log(s));
	for (int64_t u = 0; u < n; u++)
		x[u] = (float)(gscale * (exp((double)x[u] - m) / s -
					 (u == t ? 1.0 : 0.0)));
	return nll;
}

/* Float version of softmax_xent_ref for the fast path. */
static double softmax_xent(float *x, int64_t n, int64_t t, float gscale)
{
	float m = x[0], s = 0.0f;
	for (int64_t u = 1; u < n; u++)
		m = x[u] > m ? x[u] : m;
	float xt = x[t] - m;
	for (int64_t u = 0; u < n; u++) {
		x[u] = expf(x[u] - m);
		s += x[u];
	}
	double nll = -((double)xt - log((double)s));
	float f = gscale / s;
	for (int64_t u = 0; u < n; u++)
		x[u] *= f;
	x[t] -= gscale;
	return nll;
}

/* Row h's tail b, reference loops: z = proj(h), l = E_b z; the cross
 * entropy at local target u; then dE_b, dproj and dh (grad_conv.h).
 * z, l, dz: scratch of d_b, size_b, d_b floats. */
static double tail_ref(float *dh, const struct ax_g_band_grad *g,
		       const float *h, const struct ax_k_band *bd, int64_t d,
		       int64_t u, float gscale, float *z, float *l, float *dz,
		       uint64_t key, int64_t row, float p)
{
	int64_t db = bd->dim;
	bool tied = bd->proj_layout == AX_K_PROJ_D_DB;
	/* P(r, e): the projection entry linking h[r] and z[e] */
#define P_AT(r, e) (tied ? bd->proj[(r) * db + (e)] : bd->proj[(e) * d + (r)])
	for (int64_t e = 0; e < db; e++) {
		double acc = 0.0;
		for (int64_t r = 0; r < d; r++)
			acc += (double)P_AT(r, e) * h[r];
		z[e] = (float)acc * ax_g_keep(key, (uint64_t)(row * db + e), p);
	}
	for (int64_t v = 0; v < bd->size; v++) {
		double acc = 0.0;
		for (int64_t e = 0; e < db; e++)
			acc += (double)bd->table[v * db + e] * z[e];
		l[v] = (float)acc;
	}
	double nll = softmax_xent_ref(l, bd->size, u, gscale);
	if (!dh)
		return nll;   /* loss only */
	/* dE_b += dl z^T;  dz = E_b^T dl */
	for (int64_t e = 0; e < db; e++) {
		double acc = 0.0;
		for (int64_t v = 0; v < bd->size; v++) {
			acc += (double)bd->table[v * db + e] * l[v];
			g->dtable[v * db + e] += l[v] * z[e];
		}
		dz[e] = (float)acc * ax_g_keep(key, (uint64_t)(row * db + e), p);
	}
	/* dproj += h dz^T (in its layout);  dh += P dz */
	for (int64_t r = 0; r < d; r++) {
		double acc = 0.0;
		for (int64_t e = 0; e < db; e++) {
			acc += (double)P_AT(r, e) * dz[e];
			g->dproj[tied ? r * db + e : e * d + r] += h[r] * dz[e];
		}
		dh[r] += (float)acc;
	}
#undef P_AT
	return nll;
}

void ax_g_adaptive_softmax_drop_ref(float *dh, int64_t lddh,
				    const struct ax_g_band_grad *gb,
				    float *dW_cls, double *loss, float gscale,
				    const int32_t *target, const float *h,
				    int64_t ldh, const struct ax_k_band *bands,
				    int64_t nb, const float *W_cls, int64_t N,
				    int64_t d, int32_t ignore, uint64_t key,
				    float p, float *scratch,
				    struct ax_k_work *work)
{
	assert(nb >= 1 && bands[0].start == 0 && bands[0].dim == d);
	assert(AX_G_LD_OK(lddh, d) && AX_G_LD_OK(ldh, d));
	int64_t s0 = bands[0].size, nh = s0 + nb - 1, md = max_dim(bands, 1, nb);
	float *a = scratch;        /* (nh) head logits, then their gradient */
	float *z = a + nh;         /* (max d_b) */
	float *dz = z + md;        /* (max d_b) */
	float *l = dz + md;        /* (max size_b) */
	double sum = 0.0;
	int64_t passes = dh ? 3 : 1;   /* forward, and two backward products */
	for (int64_t r = 0; r < N; r++) {
		if (target[r] == ignore)
			continue;
		int64_t b = find_band(bands, nb, target[r]);
		assert(b >= 0);
		const float *x = h + r * ldh;
		float *gx = dh ? dh + r * lddh : NULL;
		for (int64_t u = 0; u < nh; u++) {
			const float *w = u < s0 ? bands[0].table + u * d :
				         W_cls + (u - s0) * d;
			double acc = 0.0;
			for (int64_t c = 0; c < d; c++)
				acc += (double)w[c] * x[c];
			a[u] = (float)acc;
		}
		count(work, passes * d * nh, 0);
		sum += softmax_xent_ref(a, nh, b == 0 ? target[r] : s0 + b - 1,
					gscale);
		/* dh += [E_0; W_cls]^T da;  dE_0, dW_cls += da h^T */
		for (int64_t u = 0; gx && u < nh; u++) {
			float *gw = u < s0 ? gb[0].dtable + u * d :
				    dW_cls + (u - s0) * d;
			const float *w = u < s0 ? bands[0].table + u * d :
				         W_cls + (u - s0) * d;
			for (int64_t c = 0; c < d; c++) {
				gx[c] += a[u] * w[c];
				gw[c] += a[u] * x[c];
			}
		}
		if (b > 0) {
			const struct ax_k_band *bd = &bands[b];
			sum += tail_ref(gx, gx ? &gb[b] : NULL, x, bd, d,
					target[r] - bd->start, gscale, z, l, dz,
					ax_g_tail_key(key, b), r, p);
			count(work, passes * (d * bd->dim + bd->dim * bd->size), 0);
		}
	}
	if (loss)
		*loss += sum;
}

void ax_g_adaptive_softmax_ref(float *dh, int64_t lddh,
			       const struct ax_g_band_grad *gb, float *dW_cls,
			       double *loss, float gscale,
			       const int32_t *target, const float *h,
			       int64_t ldh, const struct ax_k_band *bands,
			       int64_t nb, const float *W_cls, int64_t N,
			       int64_t d, int32_t ignore, float *scratch,
			       struct ax_k_work *work)
{
	ax_g_adaptive_softmax_drop_ref(dh, lddh, gb, dW_cls, loss, gscale,
				       target, h, ldh, bands, nb, W_cls, N, d,
				       ignore, 0, 0.0f, scratch, work);
}

/* Z(n, db) *= the tail mask of the block's rows in band bd (row k of Z is
 * the k-th row of [r0, r1) whose target is in the band). */
static void tail_mask(float *Z, int64_t db, const int32_t *target,
		      const struct ax_k_band *bd, int64_t r0, int64_t r1,
		      int32_t ignore, uint64_t key, float p);

/* Whether row r's target is counted and falls in tail band bd. */
static inline bool in_tail(const int32_t *target, int64_t r,
			   const struct ax_k_band *bd, int32_t ignore)
{
	return target[r] != ignore && target[r] >= bd->start &&
	       target[r] < bd->start + bd->size;
}

/* Tail b of one block of rows [r0, r1), fast: gather the rows whose
 * target is in band b, then z, logits, cross entropy and the gradients
 * as sgemm; scatter dh back.  Returns the rows done. */
static int64_t tail_block(float *dh, int64_t lddh, const struct ax_g_band_grad *g,
			  double *sum, float gscale, const int32_t *target,
			  const float *h, int64_t ldh,
			  const struct ax_k_band *bd, int64_t r0, int64_t r1,
			  int64_t d, int32_t ignore, uint64_t key, float p,
			  float *scratch)
{
	int64_t db = bd->dim, sz = bd->size, B = r1 - r0, n = 0;
	bool tied = bd->proj_layout == AX_K_PROJ_D_DB;
	float *Hb = scratch;        /* (n, d) gathered h, later dh rows */
	float *Z = Hb + B * d;      /* (n, db) */
	float *dZ = Z + B * db;     /* (n, db) */
	float *L = dZ + B * db;     /* (n, sz) logits, then their gradient */
	for (int64_t r = r0; r < r1; r++)
		if (in_tail(target, r, bd, ignore))
			memcpy(Hb + (n++) * d, h + r * ldh, (size_t)d * sizeof *Hb);
	if (n == 0)
		return 0;
	/* Z = Hb P (tied, P (d,db)) or Hb P^T (own, P (db,d)) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, tied ? CblasNoTrans : CblasTrans,
		    (int)n, (int)db, (int)d, 1.0f, Hb, (int)d, bd->proj,
		    (int)(tied ? db : d), 0.0f, Z, (int)db);
	tail_mask(Z, db, target, bd, r0, r1, ignore, key, p);
	/* L = Z E_b^T (Z dropped) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)sz,
		    (int)db, 1.0f, Z, (int)db, bd->table, (int)db, 0.0f, L,
		    (int)sz);
	int64_t k = 0;
	for (int64_t r = r0; r < r1; r++)
		if (in_tail(target, r, bd, ignore)) {
			*sum += softmax_xent(L + k * sz, sz, target[r] - bd->start,
					     gscale);
			k++;
		}
	if (!dh)
		return n;   /* loss only */
	/* dE_b += L^T Z;  dZ = L E_b */
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)sz, (int)db,
		    (int)n, 1.0f, L, (int)sz, Z, (int)db, 1.0f, g->dtable,
		    (int)db);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)db,
		    (int)sz, 1.0f, L, (int)sz, bd->table, (int)db, 0.0f, dZ,
		    (int)db);
	tail_mask(dZ, db, target, bd, r0, r1, ignore, key, p);
	/* dproj += Hb^T dZ (tied) or dZ^T Hb (own) */
	if (tied)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d,
			    (int)db, (int)n, 1.0f, Hb, (int)d, dZ, (int)db, 1.0f,
			    g->dproj, (int)db);
	else
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)db,
			    (int)d, (int)n, 1.0f, dZ, (int)db, Hb, (int)d, 1.0f,
			    g->dproj, (int)d);
	/* dHb = dZ P^T (tied) or dZ P (own), over Hb; then scatter */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, tied ? CblasTrans : CblasNoTrans,
		    (int)n, (int)d, (int)db, 1.0f, dZ, (int)db, bd->proj,
		    (int)(tied ? db : d), 0.0f, Hb, (int)d);
	k = 0;
	for (int64_t r = r0; r < r1; r++)
		if (in_tail(target, r, bd, ignore)) {
			const float *s = Hb + (k++) * d;
			float *dst = dh + r * lddh;
			for (int64_t c = 0; c < d; c++)
				dst[c] += s[c];
		}
	return n;
}

static void tail_mask(float *Z, int64_t db, const int32_t *target,
		      const struct ax_k_band *bd, int64_t r0, int64_t r1,
		      int32_t ignore, uint64_t key, float p)
{
	if (p <= 0.0f)
		return;
	int64_t k = 0;
	for (int64_t r = r0; r < r1; r++)
		if (in_tail(target, r, bd, ignore)) {
			float *z = Z + (k++) * db;
			for (int64_t e = 0; e < db; e++)
				z[e] *= ax_g_keep(key, (uint64_t)(r * db + e), p);
		}
}

/* The head of one block of rows [r0, r1), fast: A = H [E_0; W_cls]^T,
 * cross entropy per counted row (ignored rows zeroed, so they add
 * nothing), then dh, dE_0 and dW_cls as sgemm.  Returns the rows
 * counted. */
static int64_t head_block(float *dh, int64_t lddh, float *dE0, float *dW_cls,
			  double *sum, float gscale, const int32_t *target,
			  const float *h, int64_t ldh,
			  const struct ax_k_band *bands, int64_t nb,
			  const float *W_cls, int64_t r0, int64_t r1,
			  int64_t d, int32_t ignore, float *A)
{
	int64_t s0 = bands[0].size, nc = nb - 1, nh = s0 + nc, B = r1 - r0;
	const float *H = h + r0 * ldh;
	/* A(B, nh) = [H E_0^T | H W_cls^T] */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)s0,
		    (int)d, 1.0f, H, (int)ldh, bands[0].table, (int)d, 0.0f, A,
		    (int)nh);
	if (nc > 0)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B,
			    (int)nc, (int)d, 1.0f, H, (int)ldh, W_cls, (int)d,
			    0.0f, A + s0, (int)nh);
	int64_t n = 0;
	for (int64_t r = r0; r < r1; r++) {
		float *row = A + (r - r0) * nh;
		if (target[r] == ignore) {
			memset(row, 0, (size_t)nh * sizeof *row);
			continue;
		}
		int64_t b = find_band(bands, nb, target[r]);
		assert(b >= 0);
		*sum += softmax_xent(row, nh, b == 0 ? target[r] : s0 + b - 1,
				     gscale);
		n++;
	}
	if (!dh)
		return n;   /* loss only */
	/* dH += A [E_0; W_cls];  dE_0 += A_0^T H;  dW_cls += A_c^T H */
	float *dH = dh + r0 * lddh;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)d,
		    (int)s0, 1.0f, A, (int)nh, bands[0].table, (int)d, 1.0f, dH,
		    (int)lddh);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)s0, (int)d,
		    (int)B, 1.0f, A, (int)nh, H, (int)ldh, 1.0f, dE0, (int)d);
	if (nc > 0) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B,
			    (int)d, (int)nc, 1.0f, A + s0, (int)nh, W_cls, (int)d,
			    1.0f, dH, (int)lddh);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nc,
			    (int)d, (int)B, 1.0f, A + s0, (int)nh, H, (int)ldh,
			    1.0f, dW_cls, (int)d);
	}
	return n;
}

void ax_g_adaptive_softmax(float *dh, int64_t lddh,
			   const struct ax_g_band_grad *gb, float *dW_cls,
			   double *loss, float gscale, const int32_t *target,
			   const float *h, int64_t ldh,
			   const struct ax_k_band *bands, int64_t nb,
			   const float *W_cls, int64_t N, int64_t d,
			   int32_t ignore, float *scratch,
			   struct ax_k_work *work)
{
	ax_g_adaptive_softmax_drop(dh, lddh, gb, dW_cls, loss, gscale, target,
				   h, ldh, bands, nb, W_cls, N, d, ignore, 0,
				   0.0f, scratch, work);
}

void ax_g_adaptive_softmax_drop(float *dh, int64_t lddh,
				const struct ax_g_band_grad *gb, float *dW_cls,
				double *loss, float gscale,
				const int32_t *target, const float *h,
				int64_t ldh, const struct ax_k_band *bands,
				int64_t nb, const float *W_cls, int64_t N,
				int64_t d, int32_t ignore, uint64_t key, float p,
				float *scratch, struct ax_k_work *work)
{
	assert(nb >= 1 && bands[0].start == 0 && bands[0].dim == d);
	assert(AX_G_LD_OK(lddh, d) && AX_G_LD_OK(ldh, d));
	assert(AX_G_INT_OK(d) && AX_G_INT_OK(ldh) && AX_G_INT_OK(lddh) &&
	       AX_G_INT_OK(bands[0].size + nb));
	int64_t nh = bands[0].size + nb - 1;
	int64_t passes = dh ? 3 : 1;   /* forward, and two backward products */
	double sum = 0.0;
	for (int64_t r0 = 0; r0 < N; r0 += AX_G_BLOCK) {
		int64_t r1 = min64(N, r0 + AX_G_BLOCK), B = r1 - r0;
		float *A = scratch;   /* (B, nh); the tails use what follows */
		int64_t n = head_block(dh, lddh, dh ? gb[0].dtable : NULL, dW_cls, &sum,
				       gscale, target, h, ldh, bands, nb, W_cls,
				       r0, r1, d, ignore, A);
		count(work, passes * n * d * nh, 0);
		for (int64_t b = 1; b < nb; b++) {
			const struct ax_k_band *bd = &bands[b];
			int64_t nt = tail_block(dh, lddh, dh ? &gb[b] : NULL, &sum, gscale,
						target, h, ldh, bd, r0, r1, d,
						ignore, ax_g_tail_key(key, b), p,
						A + B * nh);
			count(work, passes * nt * (d * bd->dim + bd->dim * bd->size), 0);
		}
	}
	if (loss)
		*loss += sum;
}
