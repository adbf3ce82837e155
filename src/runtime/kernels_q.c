/*
 * kernels_q.c - int8 and bf16 weight linears with `_ref` twins and run-
 * time path selection (kernels_q.h). The AVX-512 functions carry target
 * attributes, so the build stays portable: they run only when cpu.h says
 * the CPU and OS support them.
 */
#include "kernels_q.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "cpu.h"

/* OpenBLAS's thread count (`run --threads`), not in every cblas.h */
int openblas_get_num_threads(void);

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AX_KQ_X86 1
#endif

const char *const ax_kq_path_names[AX_KQ_PATH_COUNT] = {
	[AX_KQ_AUTO] = "auto",
	[AX_KQ_PORTABLE] = "portable",
	[AX_KQ_AVX512] = "avx512",
	[AX_KQ_AVX512BF16] = "avx512bf16",
};

static enum ax_kq_path forced = AX_KQ_AUTO;
static enum ax_kq_path best = AX_KQ_AUTO;   /* detected once */

static enum ax_kq_path detect(void)
{
	if (best == AX_KQ_AUTO) {
		struct ax_cpu c;
		ax_cpu_detect(&c);
		best = AX_KQ_PORTABLE;
#ifdef AX_KQ_X86
		if (c.avx512f && c.avx512bw)
			best = c.avx512_bf16 ? AX_KQ_AVX512BF16 : AX_KQ_AVX512;
#endif
	}
	return best;
}

bool ax_kq_set_path(enum ax_kq_path p)
{
	if (p < 0 || p >= AX_KQ_PATH_COUNT || p > detect())
		return false;
	forced = p;
	return true;
}

enum ax_kq_path ax_kq_path(void)
{
	return forced != AX_KQ_AUTO ? forced : detect();
}

/* ==== conversions ======================================================== */

void ax_q8_quantize(int8_t *q, float *scale, const float *W, int64_t o,
		    int64_t i)
{
	for (int64_t r = 0; r < o; r++) {
		const float *w = W + r * i;
		float m = 0.0f;
		for (int64_t k = 0; k < i; k++)
			m = fabsf(w[k]) > m ? fabsf(w[k]) : m;
		scale[r] = m / 127.0f;
		float inv = m > 0 ? 127.0f / m : 0.0f;
		for (int64_t k = 0; k < i; k++) {
			long v = lrintf(w[k] * inv);
			q[r * i + k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
		}
	}
}

void ax_bf16_from_f32(uint16_t *w, const float *x, int64_t n)
{
	for (int64_t k = 0; k < n; k++) {
		uint32_t u;
		memcpy(&u, &x[k], sizeof u);
		if ((u & 0x7fffffffu) > 0x7f800000u)   /* NaN: keep it quiet */
			w[k] = (uint16_t)((u >> 16) | 0x40);
		else
			w[k] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
	}
}

float ax_bf16_to_f32(uint16_t w)
{
	uint32_t u = (uint32_t)w << 16;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* ==== references ========================================================= */

void ax_k_linear_q8_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i);
	if (work)
		work->macs += N * i * o;
	for (int64_t r = 0; r < N; r++)
		for (int64_t oo = 0; oo < o; oo++) {
			double acc = 0.0;
			for (int64_t k = 0; k < i; k++)
				acc += (double)q[oo * i + k] * in[r * ldi + k];
			out[r * ldo + oo] = (float)(acc * scale[oo]) + (b ? b[oo] : 0.0f);
		}
}

void ax_k_linear_bf16_ref(float *out, int64_t ldo, const float *in, int64_t ldi,
			  const uint16_t *W, const float *b, int64_t N,
			  int64_t i, int64_t o, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i);
	if (work)
		work->macs += N * i * o;
	for (int64_t r = 0; r < N; r++)
		for (int64_t oo = 0; oo < o; oo++) {
			double acc = 0.0;
			for (int64_t k = 0; k < i; k++)
				acc += (double)ax_bf16_to_f32(W[oo * i + k]) * in[r * ldi + k];
			out[r * ldo + oo] = (float)acc + (b ? b[oo] : 0.0f);
		}
}

/* ==== portable rows ====================================================== */

/* One weight row against every input row: the row stays in L1 while the
 * N (beam) inputs pass, so each weight is read from memory once. */
static void rows_q8_portable(float *out, int64_t ldo, const float *in,
			     int64_t ldi, const int8_t *q, int64_t N, int64_t i)
{
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		int64_t k = 0;
		for (; k + 4 <= i; k += 4) {
			s0 += (float)q[k] * x[k];
			s1 += (float)q[k + 1] * x[k + 1];
			s2 += (float)q[k + 2] * x[k + 2];
			s3 += (float)q[k + 3] * x[k + 3];
		}
		for (; k < i; k++)
			s0 += (float)q[k] * x[k];
		out[r * ldo] = (s0 + s1) + (s2 + s3);
	}
}

static void rows_bf16_portable(float *out, int64_t ldo, const float *in,
			       int64_t ldi, const uint16_t *w, int64_t N,
			       int64_t i)
{
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		int64_t k = 0;
		for (; k + 4 <= i; k += 4) {
			s0 += ax_bf16_to_f32(w[k]) * x[k];
			s1 += ax_bf16_to_f32(w[k + 1]) * x[k + 1];
			s2 += ax_bf16_to_f32(w[k + 2]) * x[k + 2];
			s3 += ax_bf16_to_f32(w[k + 3]) * x[k + 3];
		}
		for (; k < i; k++)
			s0 += ax_bf16_to_f32(w[k]) * x[k];
		out[r * ldo] = (s0 + s1) + (s2 + s3);
	}
}

/* ==== AVX-512 rows ======================================================= */

#ifdef AX_KQ_X86
__attribute__((target("avx512f,avx512bw")))
static void rows_q8_avx512(float *out, int64_t ldo, const float *in,
			   int64_t ldi, const int8_t *q, int64_t N, int64_t i)
{
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
		int64_t k = 0;
		for (; k + 32 <= i; k += 32) {
			__m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
				_mm_loadu_si128((const __m128i *)(q + k))));
			__m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
				_mm_loadu_si128((const __m128i *)(q + k + 16))));
			a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + k), a0);
			a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), a1);
		}
		/* the last 1..31: whole 16s, then a masked x and a zero-padded
		 * copy of the weights (i = 248, 496 leave 24 and 16) */
		for (; k < i; k += 16) {
			int64_t n = i - k < 16 ? i - k : 16;
			int8_t tail[16] = { 0 };
			memcpy(tail, q + k, (size_t)n);
			__m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
				_mm_loadu_si128((const __m128i *)tail)));
			__m512 xv = _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), x + k);
			a0 = _mm512_fmadd_ps(w0, xv, a0);
		}
		out[r * ldo] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
	}
}

__attribute__((target("avx512f,avx512bw")))
static void rows_bf16_avx512(float *out, int64_t ldo, const float *in,
			     int64_t ldi, const uint16_t *w, int64_t N,
			     int64_t i)
{
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
		int64_t k = 0;
		for (; k + 32 <= i; k += 32) {
			/* bf16 -> fp32: the 16 bits become the high half */
			__m512 w0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(
				_mm256_loadu_si256((const __m256i *)(w + k))), 16));
			__m512 w1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(
				_mm256_loadu_si256((const __m256i *)(w + k + 16))), 16));
			a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + k), a0);
			a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), a1);
		}
		for (; k < i; k += 16) {   /* the last 1..31, as rows_q8_avx512 */
			int64_t n = i - k < 16 ? i - k : 16;
			uint16_t tail[16] = { 0 };
			memcpy(tail, w + k, (size_t)n * sizeof *tail);
			__m512 w0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(
				_mm256_loadu_si256((const __m256i *)tail)), 16));
			__m512 xv = _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), x + k);
			a0 = _mm512_fmadd_ps(w0, xv, a0);
		}
		out[r * ldo] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
	}
}

/* x rounded to bf16 pairs, multiplied with the weight pairs, fp32 sums */
__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
static void rows_bf16_dp(float *out, int64_t ldo, const float *in,
			 int64_t ldi, const uint16_t *w, int64_t N, int64_t i)
{
	for (int64_t r = 0; r < N; r++) {
		const float *x = in + r * ldi;
		__m512 a = _mm512_setzero_ps();
		int64_t k = 0;
		for (; k + 32 <= i; k += 32) {
			__m512bh xb = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16),
							  _mm512_loadu_ps(x + k));
			__m512bh wb = (__m512bh)_mm512_loadu_si512((const void *)(w + k));
			a = _mm512_dpbf16_ps(a, xb, wb);
		}
		float s = _mm512_reduce_add_ps(a);
		for (; k < i; k++)
			s += ax_bf16_to_f32(w[k]) * x[k];
		out[r * ldo] = s;
	}
}
#endif

/* ==== fast kernels ======================================================= */

/* Threads for an (N, i) x (o, i)^T product: OpenBLAS's count (set by
 * `run --threads`), when OpenMP is there and the product is worth it; the
 * output channels are split in contiguous blocks, one per thread. */
static int kq_threads(int64_t N, int64_t i, int64_t o)
{
#ifdef _OPENMP
	int t = openblas_get_num_threads();
	return t > 1 && N * i * o >= (1 << 16) ? t : 1;
#else
	(void)N, (void)i, (void)o;
	return 1;
#endif
}

void ax_k_linear_q8(float *out, int64_t ldo, const float *in, int64_t ldi,
		    const int8_t *q, const float *scale, const float *b,
		    int64_t N, int64_t i, int64_t o, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1);
	if (work)
		work->macs += N * i * o;
	enum ax_kq_path p = ax_kq_path();
	int nt = kq_threads(N, i, o);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t oo = 0; oo < o; oo++) {
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512)
			rows_q8_avx512(out + oo, ldo, in, ldi, q + oo * i, N, i);
		else
#endif
			rows_q8_portable(out + oo, ldo, in, ldi, q + oo * i, N, i);
		/* dequantize: one scale per output channel */
		for (int64_t r = 0; r < N; r++)
			out[r * ldo + oo] = out[r * ldo + oo] * scale[oo] +
					    (b ? b[oo] : 0.0f);
	}
	(void)p;
}

void ax_k_linear_bf16(float *out, int64_t ldo, const float *in, int64_t ldi,
		      const uint16_t *W, const float *b, int64_t N, int64_t i,
		      int64_t o, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1);
	if (work)
		work->macs += N * i * o;
	enum ax_kq_path p = ax_kq_path();
	int nt = kq_threads(N, i, o);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int64_t oo = 0; oo < o; oo++) {
		const uint16_t *w = W + oo * i;
#ifdef AX_KQ_X86
		if (p == AX_KQ_AVX512BF16)
			rows_bf16_dp(out + oo, ldo, in, ldi, w, N, i);
		else if (p == AX_KQ_AVX512)
			rows_bf16_avx512(out + oo, ldo, in, ldi, w, N, i);
		else
#endif
			rows_bf16_portable(out + oo, ldo, in, ldi, w, N, i);
		if (b)
			for (int64_t r = 0; r < N; r++)
				out[r * ldo + oo] += b[oo];
	}
	(void)p;
}

/* ==== many rows: dequantized tiles through sgemm ======================== */

/* The tile: AX_KQ_TILE_FLOATS of fp32 (2 MiB), half the 4 MiB L2 of the
 * machines measured (docs/precision.md), so the block just dequantized is
 * still in L2 when sgemm packs it. A block is (r, kc): kc <= AX_KQ_TILE_K
 * input columns of r output channels. sgemm re-packs the (N, kc) inputs
 * once per block, so r is kept large (>= 512 for any width): wide inputs
 * are cut along k, and the blocks of one row band accumulate in out
 * (beta = 1). */
#define AX_KQ_TILE_FLOATS ((int64_t)1 << 19)
#define AX_KQ_TILE_K 1024

int64_t ax_kq_tile_rows(int64_t i)
{
	i = i > 0 ? i : 1;
	int64_t r = (AX_KQ_TILE_FLOATS + i - 1) / i;
	return r < 16 ? 16 : r;
}

/* The block shape for a tile of cap floats: kc columns, r rows. */
static void tile_shape(int64_t cap, int64_t i, int64_t o, int64_t *kc,
		       int64_t *r)
{
	*kc = i < AX_KQ_TILE_K ? i : AX_KQ_TILE_K;
	int64_t rows = cap / *kc;
	rows = rows >= 32 ? rows / 16 * 16 : rows;   /* whole micro-tiles */
	*r = rows < o ? rows : o;
}

void ax_kq_dequant_q8_ref(float *t, const int8_t *q, int64_t ldq,
			  const float *scale, int64_t r, int64_t c)
{
	for (int64_t k = 0; k < r; k++)
		for (int64_t j = 0; j < c; j++)
			t[k * c + j] = scale[k] * (float)q[k * ldq + j];
}

void ax_kq_dequant_bf16_ref(float *t, const uint16_t *w, int64_t ldw,
			    int64_t r, int64_t c)
{
	for (int64_t k = 0; k < r; k++)
		for (int64_t j = 0; j < c; j++)
			t[k * c + j] = ax_bf16_to_f32(w[k * ldw + j]);
}

#ifdef AX_KQ_X86
/* One row: 16 int8 weights widened, scaled and stored per pass */
__attribute__((target("avx512f,avx512bw")))
static void dequant_q8_avx512(float *t, const int8_t *q, float s, int64_t n)
{
	__m512 sv = _mm512_set1_ps(s);
	int64_t c = 0;
	for (; c + 16 <= n; c += 16) {
		__m512i v = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + c)));
		_mm512_storeu_ps(t + c, _mm512_mul_ps(sv, _mm512_cvtepi32_ps(v)));
	}
	if (c < n) {   /* the last 1..15 through a zero-padded copy */
		int8_t tail[16] = { 0 };
		memcpy(tail, q + c, (size_t)(n - c));
		__mmask16 m = (__mmask16)((1u << (n - c)) - 1);
		__m512i v = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)tail));
		_mm512_mask_storeu_ps(t + c, m, _mm512_mul_ps(sv, _mm512_cvtepi32_ps(v)));
	}
}

__attribute__((target("avx512f,avx512bw")))
static void dequant_bf16_avx512(float *t, const uint16_t *w, int64_t n)
{
	int64_t k = 0;
	for (; k + 16 <= n; k += 16) {
		__m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(w + k)));
		_mm512_storeu_ps(t + k, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
	}
	if (k < n) {
		uint16_t tail[16] = { 0 };
		memcpy(tail, w + k, (size_t)(n - k) * sizeof *tail);
		__mmask16 m = (__mmask16)((1u << (n - k)) - 1);
		__m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)tail));
		_mm512_mask_storeu_ps(t + k, m, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
	}
}
#endif

/* Portable rows: plain loops the compiler vectorises at its baseline. */
static void dequant_q8_portable(float *t, const int8_t *q, float s, int64_t n)
{
	for (int64_t c = 0; c < n; c++)
		t[c] = s * (float)q[c];
}

static void dequant_bf16_portable(float *t, const uint16_t *w, int64_t n)
{
	for (int64_t k = 0; k < n; k++) {
		uint32_t u = (uint32_t)w[k] << 16;
		memcpy(&t[k], &u, sizeof u);
	}
}

void ax_kq_dequant_q8(float *t, const int8_t *q, int64_t ldq,
		      const float *scale, int64_t r, int64_t c)
{
	bool wide = false;
#ifdef AX_KQ_X86
	wide = ax_kq_path() >= AX_KQ_AVX512;
#endif
	for (int64_t k = 0; k < r; k++) {
#ifdef AX_KQ_X86
		if (wide) {
			dequant_q8_avx512(t + k * c, q + k * ldq, scale[k], c);
			continue;
		}
#endif
		dequant_q8_portable(t + k * c, q + k * ldq, scale[k], c);
	}
	(void)wide;
}

void ax_kq_dequant_bf16(float *t, const uint16_t *w, int64_t ldw, int64_t r,
			int64_t c)
{
	bool wide = false;
#ifdef AX_KQ_X86
	wide = ax_kq_path() >= AX_KQ_AVX512;
#endif
	for (int64_t k = 0; k < r; k++) {
#ifdef AX_KQ_X86
		if (wide) {
			dequant_bf16_avx512(t + k * c, w + k * ldw, c);
			continue;
		}
#endif
		dequant_bf16_portable(t + k * c, w + k * ldw, c);
	}
	(void)wide;
}

/* The quantized (o, i) weights a tiled product reads: int8 q with row
 * scales, or bf16 h. */
struct qsrc {
	const int8_t *q;
	const float *scale;
	const uint16_t *h;
};

/* out(N, o) = in(N, i) W(o, i)^T + b through (r, kc) dequantized blocks:
 * bias rows first, then each block's sgemm accumulates (beta = 1). */
static void tiled(float *out, int64_t ldo, const float *in, int64_t ldi,
		  struct qsrc w, const float *b, int64_t N, int64_t i,
		  int64_t o, float *tile, int64_t cap)
{
	float beta = 0.0f;
	if (b) {
		for (int64_t n = 0; n < N; n++)
			memcpy(out + n * ldo, b, (size_t)o * sizeof *out);
		beta = 1.0f;
	}
	int64_t kc, rows;
	tile_shape(cap, i, o, &kc, &rows);
	for (int64_t o0 = 0; o0 < o; o0 += rows) {
		int64_t r = o - o0 < rows ? o - o0 : rows;
		for (int64_t k0 = 0; k0 < i; k0 += kc) {
			int64_t c = i - k0 < kc ? i - k0 : kc;
			if (w.q)   /* tile (r, c): scale[o] * q[o][k0:k0+c] */
				ax_kq_dequant_q8(tile, w.q + o0 * i + k0, i,
						 w.scale + o0, r, c);
			else       /* the bf16 bits as an fp32's high half */
				ax_kq_dequant_bf16(tile, w.h + o0 * i + k0, i, r, c);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N,
				    (int)r, (int)c, 1.0f, in + k0, (int)ldi, tile,
				    (int)c, k0 > 0 ? 1.0f : beta, out + o0, (int)ldo);
		}
	}
}

void ax_k_linear_q8_tiled(float *out, int64_t ldo, const float *in,
			  int64_t ldi, const int8_t *q, const float *scale,
			  const float *b, int64_t N, int64_t i, int64_t o,
			  float *tile, int64_t tile_rows,
			  struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1 &&
	       tile_rows >= 1);
	if (work)
		work->macs += N * i * o;
	if (N > 0)
		tiled(out, ldo, in, ldi, (struct qsrc){ .q = q, .scale = scale },
		      b, N, i, o, tile, tile_rows * i);
}

void ax_k_linear_bf16_tiled(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const uint16_t *W, const float *b,
			    int64_t N, int64_t i, int64_t o, float *tile,
			    int64_t tile_rows, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1 &&
	       tile_rows >= 1);
	if (work)
		work->macs += N * i * o;
	if (N > 0)
		tiled(out, ldo, in, ldi, (struct qsrc){ .h = W }, b, N, i, o,
		      tile, tile_rows * i);
}

/* ==== products on a quantized matrix (adaptive input / softmax) ======= */

void ax_kq_linear(float *out, int64_t ldo, const float *in, int64_t ldi,
		  const struct ax_k_qmat *W, const float *b, int64_t N,
		  int64_t i, int64_t o, struct ax_k_work *work)
{
	assert(W->q || W->h);
	bool many = N >= AX_KQ_TILED_MIN_N;
	int64_t rows = many ? W->tile_floats / i : 0;
	assert(!many || (W->tile && rows >= 1));
	if (W->q && many)
		ax_k_linear_q8_tiled(out, ldo, in, ldi, W->q, W->scale, b, N, i, o,
				     W->tile, rows, work);
	else if (W->q)
		ax_k_linear_q8(out, ldo, in, ldi, W->q, W->scale, b, N, i, o, work);
	else if (many)
		ax_k_linear_bf16_tiled(out, ldo, in, ldi, W->h, b, N, i, o, W->tile,
				       rows, work);
	else
		ax_k_linear_bf16(out, ldo, in, ldi, W->h, b, N, i, o, work);
}

void ax_kq_row(float *t, const struct ax_k_qmat *W, int64_t r, int64_t c)
{
	if (W->q)
		ax_kq_dequant_q8(t, W->q + r * c, c, W->scale + r, 1, c);
	else
		ax_kq_dequant_bf16(t, W->h + r * c, c, 1, c);
}

void ax_kq_linear_nn(float *out, int64_t ldo, const float *in, int64_t ldi,
		     const struct ax_k_qmat *W, int64_t N, int64_t r,
		     int64_t c, struct ax_k_work *work)
{
	assert(W->tile && (W->q || W->h) && ldo >= c && ldi >= r);
	if (work)
		work->macs += N * r * c;
	if (N == 0)
		return;
	int64_t per = W->tile_floats / c;   /* rows of W per block */
	assert(per >= 1);
	for (int64_t r0 = 0; r0 < r; r0 += per) {
		int64_t n = r - r0 < per ? r - r0 : per;
		if (W->q)   /* tile (n, c): W[r0:r0+n][:] */
			ax_kq_dequant_q8(W->tile, W->q + r0 * c, c, W->scale + r0, n, c);
		else
			ax_kq_dequant_bf16(W->tile, W->h + r0 * c, c, n, c);
		/* out(N, c) += in(N, r0:r0+n) tile(n, c) */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N,
			    (int)c, (int)n, 1.0f, in + r0, (int)ldi, W->tile,
			    (int)c, r0 > 0 ? 1.0f : 0.0f, out, (int)ldo);
	}
}

/* ==== embeddings ========================================================= */

/* Rows out[j] = scale * e + PE(p_j), e the dequantized table row of
 * tok[j] (zero for t2t's token 0): from int8 q with row scales qscale, or
 * else from bf16 w. */
static enum ax_status embed_rows(float *out, int64_t ldo, const int8_t *q,
				 const float *qscale, const uint16_t *w,
				 int64_t V, const int32_t *tok, int64_t N,
				 int64_t d, float scale, int64_t pos0,
				 enum ax_sinusoid_kind kind)
{
	assert(ldo >= d);
	for (int64_t j = 0; j < N; j++) {
		if (tok[j] < 0 || tok[j] >= V)
			return AX_ERR_INPUT;
		float *y = out + j * ldo;
		ax_k_sinusoid(y, ax_k_embed_pos(pos0, j, kind), d, kind);
		if (kind == AX_SINUSOID_T2T && tok[j] == 0)
			continue;
		int64_t t = tok[j];
		for (int64_t c = 0; c < d; c++) {
			float e = q ? qscale[t] * (float)q[t * d + c] :
				  ax_bf16_to_f32(w[t * d + c]);
			y[c] = scale * e + y[c];
		}
	}
	return AX_OK;
}

enum ax_status ax_k_embed_q8(float *out, int64_t ldo, const int8_t *q,
			     const float *qscale, int64_t V,
			     const int32_t *tok, int64_t N, int64_t d,
			     float scale, int64_t pos0,
			     enum ax_sinusoid_kind kind)
{
	return embed_rows(out, ldo, q, qscale, NULL, V, tok, N, d, scale, pos0,
			  kind);
}

enum ax_status ax_k_embed_bf16(float *out, int64_t ldo, const uint16_t *W,
			       int64_t V, const int32_t *tok, int64_t N,
			       int64_t d, float scale, int64_t pos0,
			       enum ax_sinusoid_kind kind)
{
	return embed_rows(out, ldo, NULL, NULL, W, V, tok, N, d, scale, pos0,
			  kind);
}
