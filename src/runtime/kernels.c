/*
 * kernels.c - fp32 reference and fast kernels (see kernels.h for the
 * shapes, conventions and the ring-buffer protocol).
 *
 * Each `_ref` is the formula written as plain loops, in the order a reader
 * checks against docs/models.md; reductions that can lose precision (layernorm
 * moments, dot products) run in double there, so a test compares the fast
 * path against something at least as accurate. The fast versions call
 * OpenBLAS for products and keep every other inner loop unit-stride over
 * channels so that the compiler vectorises it.
 */
#include "kernels.h"
#include "kernels_q.h"

#include <assert.h>
#include <stdatomic.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cblas.h>

/* Row-major layout checks before BLAS: row stride at least the width and
 * positive dims.  A violation is the caller's bug. */
#define AX_K_LD_OK(ld, width) ((ld) >= ((width) > 0 ? (width) : 1))
/* BLAS takes int dimensions. */
#define AX_K_INT_OK(x) ((x) >= 0 && (x) <= INT_MAX)

/* Adds a call's work to the caller's counter, if any (kernels.h). */
static inline void count(struct ax_k_work *work, int64_t macs, int64_t skipped)
{
	if (work) {
		work->macs += macs;
		work->skipped += skipped;
	}
}

static inline float sigmoidf_(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

/* ==== linear ============================================================== */

void ax_k_linear_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, const float *b, int64_t N, int64_t i,
		     int64_t o,
		     struct ax_k_work *work)
{
	assert(AX_K_LD_OK(ldo, o) && AX_K_LD_OK(ldi, i));
	count(work, N * i * o, 0);
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		for (int64_t oo = 0; oo < o; oo++) {
			const float *wr = W + oo * i;
			double acc = 0.0;
			for (int64_t ii = 0; ii < i; ii++)
				acc += (double)wr[ii] * x[ii];
			out[r * ldo + oo] = (float)acc + (b ? b[oo] : 0.0f);
		}
	}
}

void ax_k_linear(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, const float *b, int64_t N, int64_t i,
		 int64_t o,
		 struct ax_k_work *work)
{
	assert(AX_K_LD_OK(ldo, o) && AX_K_LD_OK(ldi, i));
	assert(N >= 0 && i >= 1 && o >= 1);
	assert(AX_K_INT_OK(N) && AX_K_INT_OK(i) && AX_K_INT_OK(o) &&
	       AX_K_INT_OK(ldi) && AX_K_INT_OK(ldo));
	count(work, N * i * o, 0);
	if (N == 0)
		return;
	/* bias first, then accumulate the product onto it (beta = 1) */
	float beta = 0.0f;
	if (b) {
		for (int64_t r = 0; r < N; r++)
			memcpy(out + r * ldo, b, (size_t)o * sizeof *out);
		beta = 1.0f;
	}
	if (N == 1) {
		/* y(o) = W(o,i) x(i): sgemv is ~6x faster than sgemm at M=1 */
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)o, (int)i, 1.0f,
			    W, (int)i, in, 1, beta, out, 1);
		return;
	}
	/* out(N,o) = in(N,i) W(o,i)^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)o,
		    (int)i, 1.0f, in, (int)ldi, W, (int)i, beta, out,
		    (int)ldo);
}

/* ==== row parallelism ===================================================== */

/* OpenBLAS's thread count (`run --threads`), not in every cblas.h */
int openblas_get_num_threads(void);

/* Threads for N independent rows of w floats: OpenBLAS's count when built
 * with OpenMP, the rows are a batch (16 or more, as the tiled linears of
 * kernels_q.h) and OMP_WAIT_POLICY is passive; else 1. OpenMP's idle
 * threads otherwise spin after each region and take the cores OpenBLAS's
 * own threads need (up to half the speed of a 2-core batched pass,
 * docs/precision.md), so by default these ops stay on one thread. */
#ifdef _OPENMP
/* Whether OMP_WAIT_POLICY is passive, read once: libgomp itself reads it
 * when it loads, so it cannot change under us (0/1; -1 not yet read). */
static bool omp_passive(void)
{
	static atomic_int passive = -1;
	int p = atomic_load_explicit(&passive, memory_order_relaxed);
	if (p < 0) {
		const char *policy = getenv("OMP_WAIT_POLICY");
		p = policy && !strcasecmp(policy, "passive");
		atomic_store_explicit(&passive, p, memory_order_relaxed);
	}
	return p;
}
#endif

static int row_threads(int64_t N, int64_t w)
{
#ifdef _OPENMP
	if (!omp_passive())
		return 1;
	int t = openblas_get_num_threads();
	return t > 1 && N >= 16 && N * w >= (1 << 16) ? t : 1;
#else
	(void)N, (void)w;
	return 1;
#endif
}

/* ==== layernorm =========================================================== */

/* Row loops compiled for AVX-512, AVX2 and baseline x86-64, chosen at load
 * time; sums kept in AX_LANES partial lanes, so they vectorise without
 * -ffast-math (the order of the additions is fixed, not the reference's). */
#define AX_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

#define AX_LANES 16

void ax_k_layernorm_ref(float *out, int64_t ldo, const float *in,
			int64_t ldi, const float *gamma, const float *beta,
			int64_t N, int64_t w, float eps)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		double mean = 0.0, var = 0.0;
		for (int64_t c = 0; c < w; c++)
			mean += x[c];
		mean /= (double)w;
		for (int64_t c = 0; c < w; c++)
			var += ((double)x[c] - mean) * ((double)x[c] - mean);
		var /= (double)w;
		double inv = 1.0 / sqrt(var + (double)eps);
		for (int64_t c = 0; c < w; c++)
			out[r * ldo + c] = (float)(((double)x[c] - mean) * inv *
						   gamma[c] + beta[c]);
	}
}

/* sum_c (x[c] - m)^2 over n, in lanes; m = 0 gives the plain sum of
 * squares, so with sq false it is the sum of x */
AX_SIMD_CLONES
static float row_sum(const float *x, int64_t n, float m, bool sq)
{
	float s[AX_LANES] = { 0 };
	int64_t c = 0;
	for (; c + AX_LANES <= n; c += AX_LANES)
		for (int l = 0; l < AX_LANES; l++) {
			float v = x[c + l] - m;
			s[l] += sq ? v * v : v;
		}
	float t = 0.0f;
	for (int l = 0; l < AX_LANES; l++)
		t += s[l];
	for (; c < n; c++) {
		float v = x[c] - m;
		t += sq ? v * v : v;
	}
	return t;
}

AX_SIMD_CLONES
static void row_norm(float *y, const float *x, int64_t n, float mean,
		     float inv, const float *gamma, const float *beta)
{
	for (int64_t c = 0; c < n; c++)
		y[c] = (x[c] - mean) * inv * gamma[c] + beta[c];
}

void ax_k_layernorm(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const float *gamma, const float *beta, int64_t N,
		    int64_t w, float eps)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	int nt = row_threads(N, w);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		/* two passes: mean, then the centred sum of squares */
		float mean = row_sum(x, w, 0.0f, false) / (float)w;
		float ss = row_sum(x, w, mean, true);
		float inv = 1.0f / sqrtf(ss / (float)w + eps);
		row_norm(out + r * ldo, x, w, mean, inv, gamma, beta);
	}
}

/* Whether each row of out(N, ldo) overwrites at most its own row of
 * in(N, ldi): rows may then run in parallel (not so in place with
 * ldo != ldi, where row r's output may be another row's input). */
static bool rows_own(const float *out, int64_t ldo, const float *in,
		     int64_t ldi, int64_t N)
{
	uintptr_t o0 = (uintptr_t)out, o1 = (uintptr_t)(out + N * ldo);
	uintptr_t i0 = (uintptr_t)in, i1 = (uintptr_t)(in + N * ldi);
	return (out == in && ldo == ldi) || o1 <= i0 || i1 <= o0;
}

/* row_threads(N, w) when rows_own(), else 1 */
static int row_threads_io(const float *out, int64_t ldo, const float *in,
			  int64_t ldi, int64_t N, int64_t w)
{
	return rows_own(out, ldo, in, ldi, N) ? row_threads(N, w) : 1;
}

/* ==== row softmax helpers ================================================= */

/* Reference rows: libm expf, one element at a time. */

/* y(n) = softmax(x(n)), in place ok. */
static void softmax_row(float *y, const float *x, int64_t n)
{
	float m = x[0];
	for (int64_t j = 1; j < n; j++)
		m = x[j] > m ? x[j] : m;
	float s = 0.0f;
	for (int64_t j = 0; j < n; j++) {
		y[j] = expf(x[j] - m);
		s += y[j];
	}
	float inv = 1.0f / s;
	for (int64_t j = 0; j < n; j++)
		y[j] *= inv;
}

/* Fast rows: exponentials by ax_k_exp_poly (kernels.h), branch-free, so
 * the loops below vectorise (AX_SIMD_CLONES, AX_LANES: see layernorm). */

AX_SIMD_CLONES
static float row_max(const float *x, int64_t n)
{
	float m[AX_LANES];
	for (int l = 0; l < AX_LANES; l++)
		m[l] = x[0];
	int64_t j = 0;
	for (; j + AX_LANES <= n; j += AX_LANES)
		for (int l = 0; l < AX_LANES; l++)
			m[l] = x[j + l] > m[l] ? x[j + l] : m[l];
	float mm = m[0];
	for (int l = 1; l < AX_LANES; l++)
		mm = m[l] > mm ? m[l] : mm;
	for (; j < n; j++)
		mm = x[j] > mm ? x[j] : mm;
	return mm;
}

/* sum_j exp(x[j] - m), writing the exps to y when y is non-NULL */
AX_SIMD_CLONES
static float row_sum_exp(float *y, const float *x, int64_t n, float m)
{
	float s[AX_LANES] = { 0 };
	int64_t j = 0;
	for (; j + AX_LANES <= n; j += AX_LANES)
		for (int l = 0; l < AX_LANES; l++) {
			float e = ax_k_exp_poly(x[j + l] - m);
			if (y)
				y[j + l] = e;
			s[l] += e;
		}
	float ss = 0.0f;
	for (int l = 0; l < AX_LANES; l++)
		ss += s[l];
	for (; j < n; j++) {
		float e = ax_k_exp_poly(x[j] - m);
		if (y)
			y[j] = e;
		ss += e;
	}
	return ss;
}

AX_SIMD_CLONES
static void row_affine(float *y, const float *x, int64_t n, float scale, float shift)
{
	for (int64_t j = 0; j < n; j++)
		y[j] = x[j] * scale + shift;
}

static void softmax_row_fast(float *y, const float *x, int64_t n)
{
	float m = row_max(x, n);
	float s = row_sum_exp(y, x, n, m);
	row_affine(y, y, n, 1.0f / s, 0.0f);
}

static void log_softmax_row_fast(float *y, const float *x, int64_t n)
{
	float m = row_max(x, n);
	float lse = m + logf(row_sum_exp(NULL, x, n, m));
	row_affine(y, x, n, 1.0f, -lse);
}

/* ==== attention =========================================================== */

int64_t ax_k_attention_scratch(int64_t Nq, int64_t Nk, int64_t H)
{
	(void)H;
	return Nq * Nk;
}

/* Keys query qi may see: [0, limit). */
static inline int64_t att_limit(int64_t Nk, bool causal, int64_t q_pos0,
				int64_t qi)
{
	if (!causal)
		return Nk;
	int64_t lim = q_pos0 + qi + 1;
	return lim < Nk ? lim : Nk;
}

void ax_k_attention_ref(float *out, int64_t ldo, const float *q, int64_t ldq,
			const float *k, int64_t ldk, const float *v,
			int64_t ldv, int64_t Nq, int64_t Nk, int64_t w,
			int64_t H, bool causal, int64_t q_pos0,
			float *scratch,
			struct ax_k_work *work)
{
	assert(H >= 1 && w % H == 0 && Nk >= 1 && (!causal || q_pos0 >= 0));
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldq, w) &&
	       AX_K_LD_OK(ldk, w) && AX_K_LD_OK(ldv, w));
	int64_t h = w / H;
	float scale = 1.0f / sqrtf((float)h);
	float *p = scratch;   /* (Nk) one query's probabilities */
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		for (int64_t qi = 0; qi < Nq; qi++) {
			int64_t lim = att_limit(Nk, causal, q_pos0, qi);
			count(work, 2 * lim * h, 2 * (Nk - lim) * h);
			/* scores: (q * h^-1/2) . k_j, the scale after the bias */
			for (int64_t j = 0; j < lim; j++) {
				double acc = 0.0;
				for (int64_t c = 0; c < h; c++)
					acc += (double)(q[qi * ldq + c0 + c] * scale) *
					       k[j * ldk + c0 + c];
				p[j] = (float)acc;
			}
			/* softmax over the visible keys (masked ones are 0) */
			double m = p[0], s = 0.0;
			for (int64_t j = 1; j < lim; j++)
				m = p[j] > m ? p[j] : m;
			for (int64_t j = 0; j < lim; j++)
				s += exp(p[j] - m);
			for (int64_t j = 0; j < lim; j++)
				p[j] = (float)(exp(p[j] - m) / s);
			/* out_h = P v_h */
			for (int64_t c = 0; c < h; c++) {
				double acc = 0.0;
				for (int64_t j = 0; j < lim; j++)
					acc += (double)p[j] * v[j * ldv + c0 + c];
				out[qi * ldo + c0 + c] = (float)acc;
			}
		}
	}
}

void ax_k_attention(float *out, int64_t ldo, const float *q, int64_t ldq,
		    const float *k, int64_t ldk, const float *v, int64_t ldv,
		    int64_t Nq, int64_t Nk, int64_t w, int64_t H, bool causal,
		    int64_t q_pos0, float *scratch,
		    struct ax_k_work *work)
{
	assert(H >= 1 && w % H == 0 && Nk >= 1 && (!causal || q_pos0 >= 0));
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldq, w) &&
	       AX_K_LD_OK(ldk, w) && AX_K_LD_OK(ldv, w));
	assert(AX_K_INT_OK(Nq) && AX_K_INT_OK(Nk) && AX_K_INT_OK(ldq) &&
	       AX_K_INT_OK(ldk) && AX_K_INT_OK(ldv) && AX_K_INT_OK(ldo));
	if (Nq == 0)
		return;
	int64_t h = w / H;
	float scale = 1.0f / sqrtf((float)h);
	float *S = scratch;   /* (Nq, Nk) one head's scores, then P */

	if (Nq == 1) {
		/* one query: only the visible keys matter; two sgemv per head */
		int64_t nk = att_limit(Nk, causal, q_pos0, 0);
		count(work, 2 * nk * w, 2 * (Nk - nk) * w);
		for (int64_t hd = 0; hd < H; hd++) {
			int64_t c0 = hd * h;
			/* S(nk) = k_h(nk,h) (q_h * scale) */
			cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nk, (int)h,
				    scale, k + c0, (int)ldk, q + c0, 1, 0.0f, S, 1);
			softmax_row_fast(S, S, nk);
			/* out_h(h) = v_h(nk,h)^T P(nk) */
			cblas_sgemv(CblasRowMajor, CblasTrans, (int)nk, (int)h,
				    1.0f, v + c0, (int)ldv, S, 1, 0.0f, out + c0, 1);
		}
		return;
	}

	/* Causal: query rows see at most q_pos0 + Nq keys. */
	int64_t nk = causal ? att_limit(Nk, true, q_pos0, Nq - 1) : Nk;
	count(work, 2 * Nq * nk * w, 2 * Nq * (Nk - nk) * w);
	for (int64_t hd = 0; hd < H; hd++) {
		int64_t c0 = hd * h;
		/* S(Nq,nk) = scale * q_h(Nq,h) k_h(nk,h)^T */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Nq,
			    (int)nk, (int)h, scale, q + c0, (int)ldq, k + c0,
			    (int)ldk, 0.0f, S, (int)nk);
		/* softmax over each row's visible keys; zero the masked ones */
		for (int64_t qi = 0; qi < Nq; qi++) {
			float *row = S + qi * nk;
			int64_t lim = att_limit(nk, causal, q_pos0, qi);
			softmax_row_fast(row, row, lim);
			for (int64_t j = lim; j < nk; j++)
				row[j] = 0.0f;
		}
		/* out_h(Nq,h) = P(Nq,nk) v_h(nk,h) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Nq,
			    (int)h, (int)nk, 1.0f, S, (int)nk, v + c0, (int)ldv,
			    0.0f, out + c0, (int)ldo);
	}
}

/* ==== convolutions ======================================================== */

void ax_k_ring_push(float *ring, int64_t R, int64_t c, const float *in,
		    int64_t step)
{
	assert(step >= 0 && R >= 0);
	if (R == 0)
		return;
	memcpy(ring + (step % R) * c, in, (size_t)c * sizeof *ring);
}

/* The row tap k reads at causal step `step`: the current input for tap
 * K-1, an earlier input from the ring, or NULL before the stream start. */
static inline const float *ring_tap(const float *ring, int64_t R, int64_t c,
				    const float *in, int64_t step, int64_t k,
				    int64_t K)
{
	int64_t back = K - 1 - k;       /* how many steps ago */
	if (back == 0)
		return in;
	if (back > step)
		return NULL;
	return ring + ((step - back) % R) * c;
}

void ax_k_lightconv_weights(float *wn, const float *w, int64_t H, int64_t K)
{
	for (int64_t hd = 0; hd < H; hd++)
		softmax_row(wn + hd * K, w + hd * K, K);
}

/*
 * The reference loop both per-channel convs share: out(N, c) row r,
 * channel ch = sum over taps k of w(ch, k) * in[r + k - pad_left, ch],
 * with w(ch, k) = w[(ch / group) * s_ch + k * s_k] (lightconv: a kernel
 * per head of `group` channels; depthwise: one per channel). Taps outside
 * [0, N) are the zero padding: skipped, and counted as such.
 */
static void channel_taps_ref(float *out, int64_t ldo, const float *in,
			     int64_t ldi, const float *w, int64_t group,
			     int64_t s_ch, int64_t s_k, int64_t N, int64_t c,
			     int64_t K, int64_t pad_left,
			     struct ax_k_work *work)
{
	int64_t done = 0, skipped = 0;
	for (int64_t r = 0; r < N; r++)
		for (int64_t ch = 0; ch < c; ch++) {
			const float *wk = w + (ch / group) * s_ch;
			double acc = 0.0;
			for (int64_t k = 0; k < K; k++) {
				int64_t src = r + k - pad_left;
				if (src >= 0 && src < N) {
					acc += (double)wk[k * s_k] * in[src * ldi + ch];
					done++;
				} else {
					skipped++;
				}
			}
			out[r * ldo + ch] = (float)acc;
		}
	count(work, done, skipped);
}

void ax_k_lightconv_ref(float *out, int64_t ldo, const float *in,
			int64_t ldi, const float *wn, int64_t N, int64_t c,
			int64_t H, int64_t K, int64_t pad_left,
			struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c));
	channel_taps_ref(out, ldo, in, ldi, wn, c / H, K, 1, N, c, K, pad_left,
			 work);
}

/* y(c) += sum over heads of wk[head] * x(c): one tap, contiguous heads. */
static inline void tap_heads(float *y, const float *x, const float *wk,
			     int64_t wk_stride, int64_t c, int64_t H)
{
	int64_t per = c / H;
	for (int64_t hd = 0; hd < H; hd++) {
		float a = wk[hd * wk_stride];
		float *yy = y + hd * per;
		const float *xx = x + hd * per;
		for (int64_t j = 0; j < per; j++)
			yy[j] += a * xx[j];
	}
}

/* Row r of a light/dynamic conv over in (N, c): y = sum over taps k of
 * w[head][k] * in[r + k - pad_left], zero outside [0, N); w (H, K).
 * The taps outside are skipped; counts c MACs per tap either way. */
static void taps_row(float *y, const float *in, int64_t ldi, const float *w,
		     int64_t r, int64_t N, int64_t c, int64_t H, int64_t K,
		     int64_t pad_left, struct ax_k_work *work)
{
	int64_t done = 0;
	memset(y, 0, (size_t)c * sizeof *y);
	for (int64_t k = 0; k < K; k++) {
		int64_t src = r + k - pad_left;
		if (src >= 0 && src < N) {
			tap_heads(y, in + src * ldi, w + k, K, c, H);
			done++;
		}
	}
	count(work, done * c, (K - done) * c);
}

void ax_k_lightconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const float *wn, int64_t N, int64_t c, int64_t H,
		    int64_t K, int64_t pad_left,
		    struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c));
	for (int64_t r = 0; r < N; r++)
		taps_row(out + r * ldo, in, ldi, wn, r, N, c, H, K, pad_left, work);
}

void ax_k_lightconv_step(float *out, const float *in, const float *ring,
			 int64_t R, int64_t step, const float *wn, int64_t c,
			 int64_t H, int64_t K,
			 struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1 && R >= K - 1 && step >= 0);
	int64_t done = 0;
	memset(out, 0, (size_t)c * sizeof *out);
	for (int64_t k = 0; k < K; k++) {
		const float *x = ring_tap(ring, R, c, in, step, k, K);
		if (x) {
			tap_heads(out, x, wn + k, K, c, H);
			done++;
		}
	}
	count(work, done * c, (K - done) * c);
}

int64_t ax_k_dynconv_scratch(int64_t H, int64_t K)
{
	return H * K;
}

void ax_k_dynconv_ref(float *out, int64_t ldo, const float *in,
		      int64_t ldi, const float *kl, int64_t ldk, int64_t N,
		      int64_t c, int64_t H, int64_t K, int64_t pad_left,
		      float *scratch,
		      struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c) &&
	       AX_K_LD_OK(ldk, H * K));
	int64_t per = c / H, done = 0, skipped = 0;
	float *p = scratch;   /* (H,K) this row's normalised kernel */
	for (int64_t r = 0; r < N; r++) {
		/* softmax over all K taps, before dropping out-of-range ones */
		for (int64_t hd = 0; hd < H; hd++) {
			const float *z = kl + r * ldk + hd * K;
			double m = z[0], s = 0.0;
			for (int64_t k = 1; k < K; k++)
				m = z[k] > m ? z[k] : m;
			for (int64_t k = 0; k < K; k++)
				s += exp(z[k] - m);
			for (int64_t k = 0; k < K; k++)
				p[hd * K + k] = (float)(exp(z[k] - m) / s);
		}
		for (int64_t ch = 0; ch < c; ch++) {
			double acc = 0.0;
			for (int64_t k = 0; k < K; k++) {
				int64_t src = r + k - pad_left;
				if (src >= 0 && src < N) {
					acc += (double)p[(ch / per) * K + k] *
					       in[src * ldi + ch];
					done++;
				} else {
					skipped++;
				}
			}
			out[r * ldo + ch] = (float)acc;
		}
	}
	count(work, done, skipped);
}

void ax_k_dynconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		  const float *kl, int64_t ldk, int64_t N, int64_t c,
		  int64_t H, int64_t K, int64_t pad_left, float *scratch,
		  struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1);
	assert(pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c) &&
	       AX_K_LD_OK(ldk, H * K));
	float *p = scratch;   /* (H,K) */
	for (int64_t r = 0; r < N; r++) {
		for (int64_t hd = 0; hd < H; hd++)
			softmax_row_fast(p + hd * K, kl + r * ldk + hd * K, K);
		taps_row(out + r * ldo, in, ldi, p, r, N, c, H, K, pad_left, work);
	}
}

void ax_k_dynconv_step(float *out, const float *in, const float *ring,
		       int64_t R, int64_t step, const float *kl, int64_t c,
		       int64_t H, int64_t K, float *scratch,
		       struct ax_k_work *work)
{
	assert(H >= 1 && c % H == 0 && K >= 1 && R >= K - 1 && step >= 0);
	float *p = scratch;
	for (int64_t hd = 0; hd < H; hd++)
		softmax_row_fast(p + hd * K, kl + hd * K, K);
	int64_t done = 0;
	memset(out, 0, (size_t)c * sizeof *out);
	for (int64_t k = 0; k < K; k++) {
		const float *x = ring_tap(ring, R, c, in, step, k, K);
		if (x) {
			tap_heads(out, x, p + k, K, c, H);
			done++;
		}
	}
	count(work, done * c, (K - done) * c);
}

void ax_k_dwconv_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, int64_t N, int64_t c, int64_t K,
		     int64_t pad_left,
		     struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c));
	channel_taps_ref(out, ldo, in, ldi, W, 1, 1, c, N, c, K, pad_left, work);
}

/* y(c) += w(c) * x(c) */
static inline void tap_channels(float *y, const float *x, const float *w,
				int64_t c)
{
	for (int64_t ch = 0; ch < c; ch++)
		y[ch] += w[ch] * x[ch];
}

void ax_k_dwconv(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, int64_t N, int64_t c, int64_t K,
		 int64_t pad_left,
		 struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, c) && AX_K_LD_OK(ldi, c));
	int64_t done = 0;
	for (int64_t r = 0; r < N; r++) {
		float *y = out + r * ldo;
		memset(y, 0, (size_t)c * sizeof *y);
		for (int64_t k = 0; k < K; k++) {
			int64_t src = r + k - pad_left;
			if (src >= 0 && src < N) {
				tap_channels(y, in + src * ldi, W + k * c, c);
				done++;
			}
		}
	}
	count(work, done * c, (N * K - done) * c);
}

void ax_k_dwconv_step(float *out, const float *in, const float *ring,
		      int64_t R, int64_t step, const float *W, int64_t c,
		      int64_t K,
		      struct ax_k_work *work)
{
	assert(K >= 1 && R >= K - 1 && step >= 0);
	int64_t done = 0;
	memset(out, 0, (size_t)c * sizeof *out);
	for (int64_t k = 0; k < K; k++) {
		const float *x = ring_tap(ring, R, c, in, step, k, K);
		if (x) {
			tap_channels(out, x, W + k * c, c);
			done++;
		}
	}
	count(work, done * c, (K - done) * c);
}

int64_t ax_k_conv1d_scratch(int64_t N, int64_t i, int64_t K)
{
	return (N > 1 ? N : 1) * K * i;
}

void ax_k_conv1d_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const float *W, const float *b, int64_t N, int64_t i,
		     int64_t o, int64_t K, int64_t pad_left, float *scratch,
		     struct ax_k_work *work)
{
	(void)scratch;
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, o) && AX_K_LD_OK(ldi, i));
	int64_t done = 0, skipped = 0;   /* taps, of i MACs each */
	for (int64_t r = 0; r < N; r++)
		for (int64_t oo = 0; oo < o; oo++) {
			double acc = 0.0;
			for (int64_t k = 0; k < K; k++) {
				int64_t src = r + k - pad_left;
				if (src < 0 || src >= N) {
					skipped++;
					continue;
				}
				done++;
				const float *wk = W + oo * K * i + k * i;
				for (int64_t ii = 0; ii < i; ii++)
					acc += (double)wk[ii] * in[src * ldi + ii];
			}
			out[r * ldo + oo] = (float)acc + (b ? b[oo] : 0.0f);
		}
	count(work, done * i, skipped * i);
}

void ax_k_conv1d(float *out, int64_t ldo, const float *in, int64_t ldi,
		 const float *W, const float *b, int64_t N, int64_t i,
		 int64_t o, int64_t K, int64_t pad_left, float *scratch,
		 struct ax_k_work *work)
{
	assert(K >= 1 && pad_left >= 0 && pad_left <= K - 1);
	assert(AX_K_LD_OK(ldo, o) && AX_K_LD_OK(ldi, i) && i >= 1 && o >= 1);
	if (N == 0)
		return;
	/* im2col: col(N, K*i), row r = [x[r-P] | x[r+1-P] | ... ], zeros
	 * outside the sequence */
	int64_t ki = K * i;
	float *col = scratch;
	for (int64_t r = 0; r < N; r++)
		for (int64_t k = 0; k < K; k++) {
			int64_t src = r + k - pad_left;
			float *dst = col + r * ki + k * i;
			if (src >= 0 && src < N)
				memcpy(dst, in + src * ldi, (size_t)i * sizeof *dst);
			else
				memset(dst, 0, (size_t)i * sizeof *dst);
		}
	/* out(N,o) = col(N,K*i) W(o,K*i)^T + b: exactly a linear */
	ax_k_linear(out, ldo, col, ki, W, b, N, ki, o, work);
}

void ax_k_conv1d_step(float *out, const float *in, const float *ring,
		      int64_t R, int64_t step, const float *W, const float *b,
		      int64_t i, int64_t o, int64_t K, float *scratch,
		      struct ax_k_work *work)
{
	assert(K >= 1 && R >= K - 1 && step >= 0);
	/* the window (K*i) of this step, zeros before the stream start */
	for (int64_t k = 0; k < K; k++) {
		const float *x = ring_tap(ring, R, i, in, step, k, K);
		if (x)
			memcpy(scratch + k * i, x, (size_t)i * sizeof *scratch);
		else
			memset(scratch + k * i, 0, (size_t)i * sizeof *scratch);
	}
	ax_k_linear(out, o, scratch, K * i, W, b, 1, K * i, o, work);
}

/* ==== elementwise and row ops ============================================= */

void ax_k_glu_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, 2 * w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			double a = in[r * ldi + c], g = in[r * ldi + w + c];
			out[r * ldo + c] = (float)(a / (1.0 + exp(-g)));
		}
}

/* out(w) = a(w) sigmoid(g(w)), exponentials by ax_k_exp_poly */
AX_SIMD_CLONES
static void glu_row(float *y, const float *a, const float *g, int64_t w)
{
	for (int64_t c = 0; c < w; c++)
		y[c] = a[c] / (1.0f + ax_k_exp_poly(-g[c]));
}

void ax_k_glu(float *out, int64_t ldo, const float *in, int64_t ldi,
	      int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, 2 * w));
	int nt = row_threads_io(out, ldo, in, ldi, N, 2 * w);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t r = 0; r < N; r++)
		glu_row(out + r * ldo, in + r * ldi, in + r * ldi + w, w);
}

void ax_k_relu_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		   int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			float x = in[r * ldi + c];
			out[r * ldo + c] = x > 0.0f ? x : 0.0f;
		}
}

void ax_k_relu(float *out, int64_t ldo, const float *in, int64_t ldi,
	       int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	int nt = row_threads_io(out, ldo, in, ldi, N, w);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		float *y = out + r * ldo;
		for (int64_t c = 0; c < w; c++)   /* a select: vectorises (fmaxf does not) */
			y[c] = x[c] > 0.0f ? x[c] : 0.0f;
	}
}

void ax_k_swish_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		    int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++) {
			double x = in[r * ldi + c];
			out[r * ldo + c] = (float)(x / (1.0 + exp(-x)));
		}
}

void ax_k_swish(float *out, int64_t ldo, const float *in, int64_t ldi,
		int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		float *y = out + r * ldo;
		for (int64_t c = 0; c < w; c++)
			y[c] = x[c] * sigmoidf_(x[c]);
	}
}

void ax_k_sigmoid_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w; c++)
			out[r * ldo + c] =
				(float)(1.0 / (1.0 + exp(-(double)in[r * ldi + c])));
}

void ax_k_sigmoid(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w));
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		float *y = out + r * ldo;
		for (int64_t c = 0; c < w; c++)
			y[c] = sigmoidf_(x[c]);
	}
}

void ax_k_add_ref(float *out, int64_t ldo, const float *a, int64_t lda,
		  const float *b, int64_t ldb, int64_t N, int64_t w0,
		  int64_t w1)
{
	assert(w1 >= 0 && w1 <= w0);
	assert(AX_K_LD_OK(ldo, w0) && AX_K_LD_OK(lda, w0) &&
	       AX_K_LD_OK(ldb, w1));
	for (int64_t r = 0; r < N; r++)
		for (int64_t c = 0; c < w0; c++)
			out[r * ldo + c] = a[r * lda + c] +
					   (c < w1 ? b[r * ldb + c] : 0.0f);
}

void ax_k_add(float *out, int64_t ldo, const float *a, int64_t lda,
	      const float *b, int64_t ldb, int64_t N, int64_t w0, int64_t w1)
{
	assert(w1 >= 0 && w1 <= w0);
	assert(AX_K_LD_OK(ldo, w0) && AX_K_LD_OK(lda, w0) &&
	       AX_K_LD_OK(ldb, w1));
	int nt = rows_own(out, ldo, b, ldb, N) ?
		 row_threads_io(out, ldo, a, lda, N, w0) : 1;
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t r = 0; r < N; r++) {
		const float *x = a + r * lda, *z = b + r * ldb;
		float *y = out + r * ldo;
		for (int64_t c = 0; c < w1; c++)
			y[c] = x[c] + z[c];
		if (y != x)
			memcpy(y + w1, x + w1, (size_t)(w0 - w1) * sizeof *y);
	}
}

void ax_k_softmax_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		double m = x[0], s = 0.0;
		for (int64_t c = 1; c < w; c++)
			m = x[c] > m ? x[c] : m;
		for (int64_t c = 0; c < w; c++)
			s += exp(x[c] - m);
		for (int64_t c = 0; c < w; c++)
			out[r * ldo + c] = (float)(exp(x[c] - m) / s);
	}
}

void ax_k_softmax(float *out, int64_t ldo, const float *in, int64_t ldi,
		  int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	for (int64_t r = 0; r < N; r++)
		softmax_row_fast(out + r * ldo, in + r * ldi, w);
}

void ax_k_log_softmax_ref(float *out, int64_t ldo, const float *in,
			  int64_t ldi, int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		double m = x[0], s = 0.0;
		for (int64_t c = 1; c < w; c++)
			m = x[c] > m ? x[c] : m;
		for (int64_t c = 0; c < w; c++)
			s += exp(x[c] - m);
		double lse = m + log(s);
		for (int64_t c = 0; c < w; c++)
			out[r * ldo + c] = (float)(x[c] - lse);
	}
}

void ax_k_log_softmax(float *out, int64_t ldo, const float *in, int64_t ldi,
		      int64_t N, int64_t w)
{
	assert(AX_K_LD_OK(ldo, w) && AX_K_LD_OK(ldi, w) && w >= 1);
	int nt = row_threads(N, w);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t r = 0; r < N; r++)
		log_softmax_row_fast(out + r * ldo, in + r * ldi, w);
}

/* ==== embeddings ========================================================== */

/* ln(1e4) / max(half-1, 1) as upstream evaluates it: fairseq divides in
 * double and rounds (math.log(10000) / (half_dim - 1)); t2t divides the
 * float32 log by a float32 count. */
static float sinusoid_inc(int64_t half, enum ax_sinusoid_kind kind)
{
	int64_t den = half - 1 > 1 ? half - 1 : 1;
	if (kind == AX_SINUSOID_T2T)
		return (float)log(1e4) / (float)den;
	return (float)(log(1e4) / (double)den);
}

void ax_k_sinusoid(float *out, int64_t pos, int64_t d,
		   enum ax_sinusoid_kind kind)
{
	assert(d >= 1 && (unsigned)kind < AX_SINUSOID_COUNT);
	int64_t half = d / 2;
	if (kind == AX_SINUSOID_FAIRSEQ && pos == AX_K_FAIRSEQ_PAD) {
		memset(out, 0, (size_t)d * sizeof *out);
		return;
	}
	float inc = sinusoid_inc(half, kind);
	float p = (float)pos;
	for (int64_t i = 0; i < half; i++) {
		float omega = expf((float)i * -inc);
		float arg = p * omega;
		out[i] = sinf(arg);
		out[half + i] = cosf(arg);
	}
	if (d % 2)
		out[d - 1] = 0.0f;
}

int64_t ax_k_embed_pos(int64_t pos0, int64_t j, enum ax_sinusoid_kind kind)
{
	return pos0 + j + (kind == AX_SINUSOID_FAIRSEQ ? AX_K_FAIRSEQ_PAD + 1 : 0);
}

enum ax_status ax_k_embed_ref(float *out, int64_t ldo, const float *E,
			      int64_t V, const int32_t *tok, int64_t N,
			      int64_t d, float scale, int64_t pos0,
			      enum ax_sinusoid_kind kind)
{
	assert(AX_K_LD_OK(ldo, d));
	for (int64_t j = 0; j < N; j++) {
		if (tok[j] < 0 || tok[j] >= V)
			return AX_ERR_INPUT;
		float *y = out + j * ldo;
		ax_k_sinusoid(y, ax_k_embed_pos(pos0, j, kind), d, kind);
		bool zero = kind == AX_SINUSOID_T2T && tok[j] == 0;
		const float *e = E + (int64_t)tok[j] * d;
		for (int64_t c = 0; c < d; c++)
			y[c] = (zero ? 0.0f : scale * e[c]) + y[c];
	}
	return AX_OK;
}

enum ax_status ax_k_embed(float *out, int64_t ldo, const float *E, int64_t V,
			  const int32_t *tok, int64_t N, int64_t d,
			  float scale, int64_t pos0,
			  enum ax_sinusoid_kind kind)
{
	/* Gathers and sinusoids: no product to hand to BLAS, and the ref is
	 * already unit-stride; one path keeps them identical. */
	return ax_k_embed_ref(out, ldo, E, V, tok, N, d, scale, pos0, kind);
}

/* ==== adaptive input / softmax ============================================ */

static int64_t find_band(const struct ax_k_band *bands, int64_t nb,
			 int64_t id)
{
	for (int64_t b = 0; b < nb; b++)
		if (id >= bands[b].start && id < bands[b].start + bands[b].size)
			return b;
	return -1;
}

/* Value (r, c) of a band matrix of `cols` columns: fp32 f, or else the
 * quantized m (the references' reads). */
static inline float mat_at(const float *f, const struct ax_k_qmat *m,
			   int64_t r, int64_t c, int64_t cols)
{
	return f ? f[r * cols + c] : ax_kq_at(m, r, c, cols);
}

/* The part of an adaptive-input row both kernels share: the band of tok
 * (NULL for a token in none), its embedding row index *u in the band, and
 * y(d) set to the position signal, to which the caller adds scale * P_b
 * E_b[u]. */
static const struct ax_k_band *adaptive_row(float *y, int64_t *u,
					    int32_t tok,
					    const struct ax_k_band *bands,
					    int64_t nb, int64_t d, int64_t pos,
					    enum ax_sinusoid_kind kind,
					    struct ax_k_work *work)
{
	int64_t b = find_band(bands, nb, tok);
	if (b < 0)
		return NULL;
	const struct ax_k_band *bd = &bands[b];
	assert(bd->proj_layout == AX_K_PROJ_D_DB);
	*u = tok - bd->start;
	ax_k_sinusoid(y, pos, d, kind);
	count(work, d * bd->dim, 0);
	return bd;
}

enum ax_status ax_k_adaptive_input_ref(float *out, int64_t ldo,
				       const int32_t *tok,
				       const struct ax_k_band *bands,
				       int64_t nb, int64_t N, int64_t d,
				       float scale, int64_t pos0,
				       enum ax_sinusoid_kind kind,
				       struct ax_k_work *work)
{
	assert(AX_K_LD_OK(ldo, d) && nb >= 1);
	for (int64_t j = 0; j < N; j++) {
		float *y = out + j * ldo;
		int64_t e;
		const struct ax_k_band *bd = adaptive_row(
			y, &e, tok[j], bands, nb, d, ax_k_embed_pos(pos0, j, kind),
			kind, work);
		if (!bd)
			return AX_ERR_INPUT;
		/* y = scale * P_b(d, d_b) E_b[e](d_b) + PE */
		for (int64_t r = 0; r < d; r++) {
			double acc = 0.0;
			for (int64_t u = 0; u < bd->dim; u++)
				acc += (double)mat_at(bd->proj, &bd->qproj, r, u, bd->dim) *
				       mat_at(bd->table, &bd->qtable, e, u, bd->dim);
			y[r] = scale * (float)acc + y[r];
		}
	}
	return AX_OK;
}

/* y(d) += scale * P_b(d, d_b) E_b[u](d_b), from fp32 or quantized
 * matrices: a quantized row is dequantized into the band's tile, and a
 * quantized P_b runs the reduced-precision streaming kernel (one row). */
static void adaptive_input_row(float *y, const struct ax_k_band *bd,
			       int64_t u, int64_t d, float scale)
{
	int64_t db = bd->dim;
	const float *e = bd->table ? bd->table + u * db : NULL;
	float *t = bd->qtable.tile ? bd->qtable.tile : bd->qproj.tile;
	if (!e) {   /* t (d_b): the dequantized row */
		assert(t && bd->qtable.tile_floats >= db + d);
		ax_kq_row(t, &bd->qtable, u, db);
		e = t;
	}
	if (bd->proj) {
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)db, scale,
			    bd->proj, (int)db, e, 1, 1.0f, y, 1);
		return;
	}
	/* p (d) = P_b e after the row, then y += scale * p */
	assert(t && bd->qproj.tile_floats >= db + d);
	float *p = t + db;
	if (e != t) {
		memcpy(t, e, (size_t)db * sizeof *t);
		e = t;
	}
	ax_kq_linear(p, d, e, db, &bd->qproj, NULL, 1, db, d, NULL);
	for (int64_t r = 0; r < d; r++)
		y[r] += scale * p[r];
}

enum ax_status ax_k_adaptive_input(float *out, int64_t ldo,
				   const int32_t *tok,
				   const struct ax_k_band *bands, int64_t nb,
				   int64_t N, int64_t d, float scale,
				   int64_t pos0, enum ax_sinusoid_kind kind,
				   struct ax_k_work *work)
{
	assert(AX_K_LD_OK(ldo, d) && nb >= 1);
	for (int64_t j = 0; j < N; j++) {
		float *y = out + j * ldo;
		int64_t u;
		const struct ax_k_band *bd = adaptive_row(
			y, &u, tok[j], bands, nb, d, ax_k_embed_pos(pos0, j, kind),
			kind, work);
		if (!bd)
			return AX_ERR_INPUT;
		adaptive_input_row(y, bd, u, d, scale);
	}
	return AX_OK;
}

int64_t ax_k_adaptive_softmax_scratch(int64_t N, const struct ax_k_band *bands,
				      int64_t nb)
{
	int64_t maxdim = 0;
	for (int64_t b = 1; b < nb; b++)
		maxdim = bands[b].dim > maxdim ? bands[b].dim : maxdim;
	return (N > 1 ? N : 1) * (bands[0].size + nb - 1 + maxdim);
}

/* z(d_b) = P_b^T h for either storage of P_b (reference loops). */
static void tail_proj_ref(float *z, const float *h, const struct ax_k_band *bd,
			  int64_t d)
{
	for (int64_t u = 0; u < bd->dim; u++) {
		double acc = 0.0;
		for (int64_t r = 0; r < d; r++) {
			float p = bd->proj_layout == AX_K_PROJ_D_DB ?
				  mat_at(bd->proj, &bd->qproj, r, u, bd->dim) :
				  mat_at(bd->proj, &bd->qproj, u, r, d);
			acc += (double)p * h[r];
		}
		z[u] = (float)acc;
	}
}

void ax_k_adaptive_log_softmax_ref(float *out, int64_t ldo, const float *in,
				   int64_t ldi, const struct ax_k_band *bands,
				   int64_t nb, const float *W_cls, int64_t N,
				   int64_t d, float *scratch,
				   struct ax_k_work *work)
{
	assert(nb >= 1 && bands[0].start == 0 && bands[0].dim == d);
	assert(AX_K_LD_OK(ldi, d) &&
	       AX_K_LD_OK(ldo, bands[nb - 1].start + bands[nb - 1].size));
	int64_t s0 = bands[0].size, nh = s0 + nb - 1;
	float *head = scratch;     /* (nh) */
	float *z = scratch + nh;   /* (max d_b) */
	for (int64_t r = 0; r < N; r++) {
		const float *h = in + r * ldi;
		float *y = out + r * ldo;
		count(work, nh * d, 0);
		/* head = [E_0 h | W_cls h], then its log-softmax */
		for (int64_t u = 0; u < nh; u++) {
			double acc = 0.0;
			for (int64_t c = 0; c < d; c++)
				acc += (double)h[c] * (u < s0 ?
					mat_at(bands[0].table, &bands[0].qtable, u, c, d) :
					mat_at(W_cls, &bands[0].qproj, u - s0, c, d));
			head[u] = (float)acc;
		}
		ax_k_log_softmax_ref(head, nh, head, nh, 1, nh);
		for (int64_t u = 0; u < s0; u++)
			y[u] = head[u];
		/* tails: cluster log-prob + log_softmax(E_b P_b^T h) */
		for (int64_t b = 1; b < nb; b++) {
			const struct ax_k_band *bd = &bands[b];
			tail_proj_ref(z, h, bd, d);
			count(work, d * bd->dim + bd->dim * bd->size, 0);
			float *yb = y + bd->start;
			for (int64_t u = 0; u < bd->size; u++) {
				double acc = 0.0;
				for (int64_t c = 0; c < bd->dim; c++)
					acc += (double)mat_at(bd->table, &bd->qtable, u,
							      c, bd->dim) * z[c];
				yb[u] = (float)acc;
			}
			ax_k_log_softmax_ref(yb, bd->size, yb, bd->size, 1,
					     bd->size);
			for (int64_t u = 0; u < bd->size; u++)
				yb[u] += head[s0 + b - 1];
		}
	}
}

/* out(N, o) = in(N, i) W(o, i)^T on fp32 W, or else on the quantized m */
static void band_linear(float *out, int64_t ldo, const float *in,
			int64_t ldi, const float *W, const struct ax_k_qmat *m,
			int64_t N, int64_t i, int64_t o, struct ax_k_work *work)
{
	if (W)
		ax_k_linear(out, ldo, in, ldi, W, NULL, N, i, o, work);
	else
		ax_kq_linear(out, ldo, in, ldi, m, NULL, N, i, o, work);
}

void ax_k_adaptive_log_softmax(float *out, int64_t ldo, const float *in,
			       int64_t ldi, const struct ax_k_band *bands,
			       int64_t nb, const float *W_cls, int64_t N,
			       int64_t d, float *scratch,
			       struct ax_k_work *work)
{
	assert(nb >= 1 && bands[0].start == 0 && bands[0].dim == d);
	assert(AX_K_LD_OK(ldi, d) &&
	       AX_K_LD_OK(ldo, bands[nb - 1].start + bands[nb - 1].size));
	if (N == 0)
		return;
	int64_t s0 = bands[0].size, nh = s0 + nb - 1;
	float *head = scratch;          /* (N, nh) */
	float *z = scratch + N * nh;    /* (N, max d_b) */
	/* head(N, nh) = in(N,d) [E_0; W_cls]^T, as two products */
	band_linear(head, nh, in, ldi, bands[0].table, &bands[0].qtable, N, d,
		    s0, work);
	if (nb > 1)
		band_linear(head + s0, nh, in, ldi, W_cls, &bands[0].qproj, N, d,
			    nb - 1, work);
	ax_k_log_softmax(head, nh, head, nh, N, nh);
	for (int64_t r = 0; r < N; r++)
		memcpy(out + r * ldo, head + r * nh, (size_t)s0 * sizeof *out);
	for (int64_t b = 1; b < nb; b++) {
		const struct ax_k_band *bd = &bands[b];
		int64_t db = bd->dim;
		/* z(N, d_b) = in(N,d) P_b (d,d_b), or in P_b(d_b,d)^T */
		if (bd->proj_layout == AX_K_PROJ_D_DB && !bd->proj) {
			ax_kq_linear_nn(z, db, in, ldi, &bd->qproj, N, d, db, work);
		} else if (bd->proj_layout == AX_K_PROJ_D_DB) {
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
				    (int)N, (int)db, (int)d, 1.0f, in, (int)ldi,
				    bd->proj, (int)db, 0.0f, z, (int)db);
			count(work, N * d * db, 0);
		} else {
			band_linear(z, db, in, ldi, bd->proj, &bd->qproj, N, d, db,
				    work);
		}
		/* logits_b(N, size_b) = z E_b^T, straight into out's slice */
		float *yb = out + bd->start;
		band_linear(yb, ldo, z, db, bd->table, &bd->qtable, N, db,
			    bd->size, work);
		ax_k_log_softmax(yb, ldo, yb, ldo, N, bd->size);
		for (int64_t r = 0; r < N; r++) {
			float lc = head[r * nh + s0 + b - 1];
			float *row = yb + r * ldo;
			for (int64_t u = 0; u < bd->size; u++)
				row[u] += lc;
		}
	}
}
