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

int64_t ax_kq_tile_rows(int64_t i)
{
	int64_t r = (1 << 20) / (i > 0 ? i : 1);
	return r < 16 ? 16 : r;
}

/* out[:, o0:o0+r] = in (N, i) . tile (r, i)^T + b[o0:o0+r] */
static void tile_gemm(float *out, int64_t ldo, const float *in, int64_t ldi,
		      const float *tile, const float *b, int64_t N, int64_t i,
		      int64_t r)
{
	assert(ldi >= i && ldo >= r);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)r,
		    (int)i, 1.0f, in, (int)ldi, tile, (int)i, 0.0f, out, (int)ldo);
	if (b)
		for (int64_t n = 0; n < N; n++)
			for (int64_t k = 0; k < r; k++)
				out[n * ldo + k] += b[k];
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
	for (int64_t o0 = 0; o0 < o; o0 += tile_rows) {
		int64_t r = o - o0 < tile_rows ? o - o0 : tile_rows;
		/* tile (r, i): scale[o] * q[o][:] */
		for (int64_t k = 0; k < r; k++) {
			const int8_t *qr = q + (o0 + k) * i;
			float s = scale[o0 + k], *t = tile + k * i;
			for (int64_t c = 0; c < i; c++)
				t[c] = s * (float)qr[c];
		}
		tile_gemm(out + o0, ldo, in, ldi, tile, b ? b + o0 : NULL, N, i, r);
	}
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
	for (int64_t o0 = 0; o0 < o; o0 += tile_rows) {
		int64_t r = o - o0 < tile_rows ? o - o0 : tile_rows;
		/* tile (r, i): the bf16 bits as the high half of an fp32 */
		const uint16_t *w = W + o0 * i;
		for (int64_t k = 0; k < r * i; k++) {
			uint32_t u = (uint32_t)w[k] << 16;
			memcpy(&tile[k], &u, sizeof u);
		}
		tile_gemm(out + o0, ldo, in, ldi, tile, b ? b + o0 : NULL, N, i, r);
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
