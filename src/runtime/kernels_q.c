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
	[AX_KQ_AVX512VNNI] = "avx512vnni",
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
		if (c.avx512f && c.avx512bw && c.avx512vl && c.avx512dq)
			best = c.avx512_vnni && c.avx512_bf16 ? AX_KQ_AVX512BF16 :
			       c.avx512_vnni ? AX_KQ_AVX512VNNI : AX_KQ_AVX512;
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

/* ==== dynamic int8 activations =========================================== */

/* Scratch of ax_k_linear_q8_dyn: the N row scales (padded to 64 bytes),
 * then N rows of int8 activations, each padded with zeros to a multiple
 * of 64 (one AVX-512 register). */
static int64_t act_stride(int64_t i)
{
	return (i + 63) / 64 * 64;
}

int64_t ax_kq_dyn_scratch(int64_t N, int64_t i)
{
	return (N * (int64_t)sizeof(float) + 63) / 64 * 64 + N * act_stride(i);
}

/* The symmetric scale of row x (i) at integers up to qmax: *xs = max |x|
 * / qmax (0 for an all-zero row); returns its inverse (0 then). */
static float act_scale(float *xs, const float *x, int64_t i, float qmax)
{
	float m = 0.0f;
	for (int64_t k = 0; k < i; k++)
		m = fabsf(x[k]) > m ? fabsf(x[k]) : m;
	*xs = m / qmax;
	return m > 0 ? qmax / m : 0.0f;
}

/* xq (i) in [-127, 127] and its scale: x ~ *xs * xq, *xs = max |x| / 127
 * (0 for an all-zero row); rounding to nearest even, as the AVX-512
 * conversion does, so both give the same integers. */
static void act_quantize(int8_t *xq, float *xs, const float *x, int64_t i)
{
	float inv = act_scale(xs, x, i, 127.0f);
	for (int64_t k = 0; k < i; k++) {
		long v = lrintf(x[k] * inv);
		xq[k] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
	}
}

void ax_k_linear_q8_dyn_ref(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const int8_t *q, const float *scale,
			    const float *b, int64_t N, int64_t i, int64_t o,
			    void *scratch, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i);
	if (work)
		work->macs += N * i * o;
	int8_t *xq = scratch;   /* (i) one row at a time */
	for (int64_t r = 0; r < N; r++) {
		float xs;
		act_quantize(xq, &xs, in + r * ldi, i);
		for (int64_t oo = 0; oo < o; oo++) {
			int64_t acc = 0;
			for (int64_t k = 0; k < i; k++)
				acc += (int64_t)q[oo * i + k] * xq[k];
			out[r * ldo + oo] = (float)((double)acc * xs * scale[oo]) +
					    (b ? b[oo] : 0.0f);
		}
	}
}

/* ==== 16-bit activations =============================================== */

/* Scratch of ax_k_linear_q8_a16: the N row scales (padded to 64 bytes),
 * then per row, each part zero-padded to act_stride(i) values:
 *   xq  (st) int16, the quantized row (portable and AVX-512 paths);
 *   lo  (st) uint8, the low byte of |xq|;  hi (st) uint8, the high byte;
 *   neg (st / 64) uint64, bit k%64 of word k/64 set where xq[k] < 0,
 *       padded to 64 bytes. */
static int64_t a16_row_bytes(int64_t i)
{
	int64_t st = act_stride(i);
	return 4 * st + (st / 8 + 63) / 64 * 64;
}

int64_t ax_kq_a16_scratch(int64_t N, int64_t i)
{
	return (N * (int64_t)sizeof(float) + 63) / 64 * 64 + N * a16_row_bytes(i);
}

/* xq (i) in [-32767, 32767] and its scale, *xs = max |x| / 32767 (0 for
 * an all-zero row); rounding to nearest even, as the AVX-512 conversion. */
static void act_quantize16(int16_t *xq, float *xs, const float *x, int64_t i)
{
	float inv = act_scale(xs, x, i, 32767.0f);
	for (int64_t k = 0; k < i; k++) {
		long v = lrintf(x[k] * inv);
		xq[k] = (int16_t)(v > 32767 ? 32767 : v < -32767 ? -32767 : v);
	}
}

void ax_k_linear_q8_a16_ref(float *out, int64_t ldo, const float *in,
			    int64_t ldi, const int8_t *q, const float *scale,
			    const float *b, int64_t N, int64_t i, int64_t o,
			    void *scratch, struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i);
	if (work)
		work->macs += N * i * o;
	int16_t *xq = scratch;   /* (i) one row at a time */
	for (int64_t r = 0; r < N; r++) {
		float xs;
		act_quantize16(xq, &xs, in + r * ldi, i);
		for (int64_t oo = 0; oo < o; oo++) {
			int64_t acc = 0;
			for (int64_t k = 0; k < i; k++)
				acc += (int64_t)q[oo * i + k] * xq[k];
			out[r * ldo + oo] = (float)((double)acc * xs * scale[oo]) +
					    (b ? b[oo] : 0.0f);
		}
	}
}

/* ==== blocked AVX-512 GEMV =============================================== */

/* A decoding step multiplies a few rows by every weight once, so the
 * kernels below are GEMVs: KQ_R output channels per pass, each with its own
 * accumulators (independent FMA chains and KQ_R streams in flight), their
 * sums reduced together by one transpose-and-add, the vector tail done with
 * masked loads. Each block prefetches the lines of the next block (KQ_R rows
 * on) as it reads its own: the streams of a few 0.5-4 KiB rows are too
 * short for the hardware prefetchers, and this measured 1.2-1.4x faster
 * on weights in L3. A block past the last channel repeats the last row
 * and drops its sums. */
#define KQ_R 8
/* whole blocks unrolled, so the accumulators stay in registers */
#define KQ_UNROLL _Pragma("GCC unroll 8")

#ifdef AX_KQ_X86
#define KQ_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define KQ_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* y[r] = the sum of the 16 lanes of v[r], r < KQ_R. */
KQ_TARGET static inline void hsum8(float *y, const __m512 v[KQ_R])
{
	__m512 s[2];
	KQ_UNROLL
	for (int h = 0; h < 2; h++) {
		const __m512 *u = v + 4 * h;
		__m512 a = _mm512_add_ps(_mm512_unpacklo_ps(u[0], u[1]),
					 _mm512_unpackhi_ps(u[0], u[1]));
		__m512 c = _mm512_add_ps(_mm512_unpacklo_ps(u[2], u[3]),
					 _mm512_unpackhi_ps(u[2], u[3]));
		/* per 128-bit lane: partial sums of u[0], u[1], u[2], u[3] */
		s[h] = _mm512_add_ps(_mm512_shuffle_ps(a, c, _MM_SHUFFLE(1, 0, 1, 0)),
				     _mm512_shuffle_ps(a, c, _MM_SHUFFLE(3, 2, 3, 2)));
	}
	__m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(s[0], s[1], _MM_SHUFFLE(1, 0, 1, 0)),
				 _mm512_shuffle_f32x4(s[0], s[1], _MM_SHUFFLE(3, 2, 3, 2)));
	t = _mm512_add_ps(_mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(2, 0, 2, 0)),
			  _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(3, 1, 3, 1)));
	_mm256_storeu_ps(y, _mm512_castps512_ps256(t));
}

/* y[r] = w[r] (i int8) . x (i fp32), r < KQ_R: 16 weights widened to
 * fp32 per FMA. */
KQ_TARGET static void block_q8(float *y, const void *xv, const void *const *wv,
			       int64_t i)
{
	const float *x = xv;
	const int8_t *const *w = (const int8_t *const *)wv;
	uintptr_t ahead = KQ_R * ((uintptr_t)w[1] - (uintptr_t)w[0]);
	__m512 a[KQ_R];
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		a[r] = _mm512_setzero_ps();
	int64_t k = 0;
	for (; k + 16 <= i; k += 16) {
		__m512 xk = _mm512_loadu_ps(x + k);
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++) {
			if (k % 64 == 0)
				_mm_prefetch((const char *)((uintptr_t)(w[r] + k) + ahead), _MM_HINT_T0);
			a[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
				_mm_loadu_si128((const __m128i *)(w[r] + k)))), xk, a[r]);
		}
	}
	if (k < i) {
		__mmask16 m = (__mmask16)((1u << (i - k)) - 1);
		__m512 xk = _mm512_maskz_loadu_ps(m, x + k);
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++)
			a[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
				_mm_maskz_loadu_epi8(m, w[r] + k))), xk, a[r]);
	}
	hsum8(y, a);
}

/* y[r] = w[r] (i bf16) . x (i fp32), r < KQ_R. 32 weights per load: the
 * even ones shifted into the high half of their 32-bit lane, the odd ones
 * masked in place, each against x split the same way (once per block). */
KQ_TARGET static void block_bf16(float *y, const void *xv,
				 const void *const *wv, int64_t i)
{
	const float *x = xv;
	const uint16_t *const *w = (const uint16_t *const *)wv;
	uintptr_t ahead = KQ_R * ((uintptr_t)w[1] - (uintptr_t)w[0]);
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16,
					      14, 12, 10, 8, 6, 4, 2, 0);
	const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
	const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
	__m512 ae[KQ_R], ao[KQ_R];
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		ae[r] = ao[r] = _mm512_setzero_ps();
	for (int64_t k = 0; k < i; k += 32) {
		int64_t n = i - k < 32 ? i - k : 32;
		__mmask32 m = n == 32 ? ~(__mmask32)0 : (__mmask32)((1u << n) - 1);
		__m512 x0 = _mm512_maskz_loadu_ps((__mmask16)m, x + k);
		__m512 x1 = _mm512_maskz_loadu_ps((__mmask16)(m >> 16), x + k + 16);
		__m512 xe = _mm512_permutex2var_ps(x0, even, x1);
		__m512 xo = _mm512_permutex2var_ps(x0, odd, x1);
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++) {
			_mm_prefetch((const char *)((uintptr_t)(w[r] + k) + ahead), _MM_HINT_T0);
			__m512i v = _mm512_maskz_loadu_epi16(m, w[r] + k);
			ae[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),
						xe, ae[r]);
			ao[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, hi)),
						xo, ao[r]);
		}
	}
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		ae[r] = _mm512_add_ps(ae[r], ao[r]);
	hsum8(y, ae);
}

/* y[r] = w[r] (i int8) . xq (int8, zero-padded to 64), r < KQ_R, as int32
 * sums made fp32: |xq| (u8) times w with xq's sign, 64 products per
 * instruction, by vpdpbusd (VNNI) or else by vpmaddubsw + vpmaddwd (no
 * saturation: |xq|, |w| <= 127). */
#define BLOCK_DYN(name, target, dot)					\
target static void name(float *y, const void *xv, const void *const *wv,	\
			int64_t i)						\
{										\
	const int8_t *x = xv;							\
	const int8_t *const *w = (const int8_t *const *)wv;			\
	uintptr_t ahead = KQ_R * ((uintptr_t)w[1] - (uintptr_t)w[0]);	\
	const __m512i zero = _mm512_setzero_si512();				\
	const __m512i one = _mm512_set1_epi16(1);				\
	__m512i a[KQ_R];							\
	KQ_UNROLL								\
	for (int r = 0; r < KQ_R; r++)						\
		a[r] = zero;							\
	for (int64_t k = 0; k < i; k += 64) {					\
		__mmask64 m = i - k >= 64 ? ~(__mmask64)0 :			\
			      ((__mmask64)1 << (i - k)) - 1;			\
		__m512i xk = _mm512_loadu_si512((const void *)(x + k));	\
		__mmask64 neg = _mm512_movepi8_mask(xk);			\
		__m512i xa = _mm512_abs_epi8(xk);				\
		KQ_UNROLL								\
		for (int r = 0; r < KQ_R; r++) {				\
			_mm_prefetch((const char *)((uintptr_t)(w[r] + k) + ahead),		\
				     _MM_HINT_T0);				\
			__m512i v = _mm512_maskz_loadu_epi8(m, w[r] + k);	\
			v = _mm512_mask_sub_epi8(v, neg, zero, v);		\
			a[r] = dot;						\
		}								\
	}									\
	(void)one;								\
	__m512 f[KQ_R];								\
	KQ_UNROLL								\
	for (int r = 0; r < KQ_R; r++)						\
		f[r] = _mm512_cvtepi32_ps(a[r]);				\
	hsum8(y, f);								\
}
BLOCK_DYN(block_dyn_bw, KQ_TARGET, _mm512_add_epi32(a[r], _mm512_madd_epi16(
	  _mm512_maddubs_epi16(xa, v), one)))
BLOCK_DYN(block_dyn_vnni, KQ_VNNI, _mm512_dpbusd_epi32(a[r], xa, v))

/* y[r] = w[r] (i int8) . xq (16-bit, a16 row layout), r < KQ_R, with
 * VNNI: the low and the high byte of |xq| (unsigned) each times w with
 * xq's sign, two vpdpbusd per 64 weights, the high sums weighted 256 in
 * fp32 (int32 lane sums stay below 2^31 up to i of about a million). */
KQ_VNNI static void block_a16_vnni(float *y, const void *xv,
				   const void *const *wv, int64_t i)
{
	int64_t st = act_stride(i);
	const uint8_t *lo = (const uint8_t *)xv + 2 * st, *hi = lo + st;
	const uint64_t *negs = (const uint64_t *)(const void *)(hi + st);
	const int8_t *const *w = (const int8_t *const *)wv;
	uintptr_t ahead = KQ_R * ((uintptr_t)w[1] - (uintptr_t)w[0]);
	const __m512i zero = _mm512_setzero_si512();
	__m512i al[KQ_R], ah[KQ_R];
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		al[r] = ah[r] = zero;
	for (int64_t k = 0; k < i; k += 64) {
		__mmask64 m = i - k >= 64 ? ~(__mmask64)0 :
			      ((__mmask64)1 << (i - k)) - 1;
		__m512i xl = _mm512_loadu_si512((const void *)(lo + k));
		__m512i xh = _mm512_loadu_si512((const void *)(hi + k));
		__mmask64 neg = (__mmask64)negs[k / 64];
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++) {
			_mm_prefetch((const char *)((uintptr_t)(w[r] + k) + ahead),
				     _MM_HINT_T0);
			__m512i v = _mm512_maskz_loadu_epi8(m, w[r] + k);
			v = _mm512_mask_sub_epi8(v, neg, zero, v);
			al[r] = _mm512_dpbusd_epi32(al[r], xl, v);
			ah[r] = _mm512_dpbusd_epi32(ah[r], xh, v);
		}
	}
	__m512 f[KQ_R];
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		f[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ah[r]), _mm512_set1_ps(256.0f),
				       _mm512_cvtepi32_ps(al[r]));
	hsum8(y, f);
}

/* The same without VNNI: w widened to int16 and vpmaddwd with xq, 32
 * weights per product; the int32 sums go to fp32 every 4096 weights (a
 * lane adds at most 2 * 127 * 32767 per product, 128 times). */
KQ_TARGET static void block_a16_bw(float *y, const void *xv,
				   const void *const *wv, int64_t i)
{
	const int16_t *x = xv;
	const int8_t *const *w = (const int8_t *const *)wv;
	uintptr_t ahead = KQ_R * ((uintptr_t)w[1] - (uintptr_t)w[0]);
	__m512 f[KQ_R];
	KQ_UNROLL
	for (int r = 0; r < KQ_R; r++)
		f[r] = _mm512_setzero_ps();
	for (int64_t k0 = 0; k0 < i; k0 += 4096) {
		int64_t k1 = i - k0 > 4096 ? k0 + 4096 : i;
		__m512i a[KQ_R];
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++)
			a[r] = _mm512_setzero_si512();
		for (int64_t k = k0; k < k1; k += 32) {
			__mmask32 m = k1 - k >= 32 ? ~(__mmask32)0 :
				      ((__mmask32)1 << (k1 - k)) - 1;
			__m512i xk = _mm512_maskz_loadu_epi16(m, x + k);
			KQ_UNROLL
			for (int r = 0; r < KQ_R; r++) {
				if (k % 64 == 0)
					_mm_prefetch((const char *)((uintptr_t)(w[r] + k) + ahead),
						     _MM_HINT_T0);
				__m512i v = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, w[r] + k));
				a[r] = _mm512_add_epi32(a[r], _mm512_madd_epi16(v, xk));
			}
		}
		KQ_UNROLL
		for (int r = 0; r < KQ_R; r++)
			f[r] = _mm512_add_ps(f[r], _mm512_cvtepi32_ps(a[r]));
	}
	hsum8(y, f);
}

/* act_quantize16 in registers (the same max, product and rounding), also
 * writing the a16 row's byte split and sign bits; the padding zeroed. */
KQ_TARGET static void act_quantize16_avx512(void *row, float *xs,
					    const float *x, int64_t i)
{
	int64_t st = act_stride(i);
	int16_t *xq = row;
	uint8_t *lo = (uint8_t *)row + 2 * st, *hi = lo + st;
	uint64_t *negs = (uint64_t *)(void *)(hi + st);
	__m512 mx = _mm512_setzero_ps();
	for (int64_t k = 0; k < i; k += 16) {
		__mmask16 m = i - k >= 16 ? 0xffff : (__mmask16)((1u << (i - k)) - 1);
		mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + k)));
	}
	float mv = _mm512_reduce_max_ps(mx);
	__m512 inv = _mm512_set1_ps(mv > 0 ? 32767.0f / mv : 0.0f);
	*xs = mv / 32767.0f;
	for (int64_t k = 0; k < st; k += 16) {
		/* past i the masked load gives zeros: the padding */
		__mmask16 m = i - k >= 16 ? 0xffff : i > k ?
			      (__mmask16)((1u << (i - k)) - 1) : 0;
		__m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), inv));
		v = _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(32767)),
				     _mm512_set1_epi32(-32767));
		_mm256_storeu_si256((__m256i *)(void *)(xq + k), _mm512_cvtepi32_epi16(v));
		__m512i a = _mm512_abs_epi32(v);
		_mm_storeu_si128((__m128i *)(void *)(lo + k),
				 _mm512_cvtepi32_epi8(_mm512_and_si512(a, _mm512_set1_epi32(255))));
		_mm_storeu_si128((__m128i *)(void *)(hi + k),
				 _mm512_cvtepi32_epi8(_mm512_srli_epi32(a, 8)));
		uint64_t bits = (uint64_t)_mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
		if (k % 64 == 0)
			negs[k / 64] = 0;
		negs[k / 64] |= bits << (k % 64);
	}
}

/* act_quantize in registers: the same max, product and rounding. */
KQ_TARGET static void act_quantize_avx512(int8_t *xq, float *xs,
					  const float *x, int64_t i)
{
	__m512 mx = _mm512_setzero_ps();
	for (int64_t k = 0; k < i; k += 16) {
		__mmask16 m = i - k >= 16 ? 0xffff : (__mmask16)((1u << (i - k)) - 1);
		mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + k)));
	}
	float mv = _mm512_reduce_max_ps(mx);
	__m512 inv = _mm512_set1_ps(mv > 0 ? 127.0f / mv : 0.0f);
	*xs = mv / 127.0f;
	for (int64_t k = 0; k < i; k += 16) {
		__mmask16 m = i - k >= 16 ? 0xffff : (__mmask16)((1u << (i - k)) - 1);
		__m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), inv));
		v = _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(127)),
				     _mm512_set1_epi32(-127));
		_mm_mask_storeu_epi8(xq + k, m, _mm512_cvtepi32_epi8(v));
	}
}

/* One pass over the output channels [o0, o1) in blocks of KQ_R: per block,
 * fn once per input row (the block's weight rows stay in L1 for rows after
 * the first), then out[r][c] = y * rs[c] * xs[r] + b[c] (rs, xs, b NULL
 * for 1, 1, 0). W rows are row_bytes apart; in rows in_bytes apart. */
typedef void (*kq_block_fn)(float *y, const void *x, const void *const *w,
			    int64_t i);

static void blocked(float *out, int64_t ldo, const void *in, int64_t in_bytes,
		    const void *W, int64_t row_bytes, const float *rs,
		    const float *xs, const float *b, int64_t N, int64_t i,
		    int64_t o0, int64_t o1, kq_block_fn fn)
{
	for (int64_t c0 = o0; c0 < o1; c0 += KQ_R) {
		const void *w[KQ_R];
		for (int r = 0; r < KQ_R; r++) {
			int64_t c = c0 + r < o1 ? c0 + r : o1 - 1;
			w[r] = (const unsigned char *)W + c * row_bytes;
		}
		int64_t nc = o1 - c0 < KQ_R ? o1 - c0 : KQ_R;
		for (int64_t n = 0; n < N; n++) {
			float y[KQ_R];
			fn(y, (const unsigned char *)in + n * in_bytes, w, i);
			float *dst = out + n * ldo + c0;
			for (int64_t r = 0; r < nc; r++)
				dst[r] = y[r] * (rs ? rs[c0 + r] : 1.0f) *
					 (xs ? xs[n] : 1.0f) +
					 (b ? b[c0 + r] : 0.0f);
		}
	}
}
#endif

/* ==== portable rows and the bf16 dot-product rows ======================== */

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

/* xq (N rows, act_stride(i) apart) . q[c] (i) as int32, for c in [o0, o1) */
static void rows_dyn_portable(float *out, int64_t ldo, const int8_t *xq,
			      const int8_t *q, const float *scale,
			      const float *xs, const float *b, int64_t N,
			      int64_t i, int64_t o0, int64_t o1)
{
	for (int64_t c = o0; c < o1; c++)
		for (int64_t r = 0; r < N; r++) {
			const int8_t *x = xq + r * act_stride(i), *w = q + c * i;
			int32_t s0 = 0, s1 = 0;
			int64_t k = 0;
			for (; k + 2 <= i; k += 2) {
				s0 += (int32_t)w[k] * x[k];
				s1 += (int32_t)w[k + 1] * x[k + 1];
			}
			for (; k < i; k++)
				s0 += (int32_t)w[k] * x[k];
			out[r * ldo + c] = (float)(s0 + s1) * scale[c] * xs[r] +
					   (b ? b[c] : 0.0f);
		}
}

/* xq rows (int16, a16 rows apart) . q[c] (i) in 64-bit integers, for c
 * in [o0, o1) */
static void rows_a16_portable(float *out, int64_t ldo, const void *xrows,
			      const int8_t *q, const float *scale,
			      const float *xs, const float *b, int64_t N,
			      int64_t i, int64_t o0, int64_t o1)
{
	for (int64_t c = o0; c < o1; c++)
		for (int64_t r = 0; r < N; r++) {
			const int16_t *x = (const void *)((const uint8_t *)xrows +
							  r * a16_row_bytes(i));
			const int8_t *w = q + c * i;
			int64_t s0 = 0, s1 = 0;
			int64_t k = 0;
			for (; k + 2 <= i; k += 2) {
				s0 += (int32_t)w[k] * x[k];
				s1 += (int32_t)w[k + 1] * x[k + 1];
			}
			for (; k < i; k++)
				s0 += (int32_t)w[k] * x[k];
			out[r * ldo + c] = (float)((double)(s0 + s1) * xs[r] * scale[c]) +
					   (b ? b[c] : 0.0f);
		}
}

#ifdef AX_KQ_X86
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

/* Thread t's share [*o0, *o1) of o channels in nt parts, cut at
 * multiples of KQ_R so every block is whole but the last. */
static void share(int t, int nt, int64_t o, int64_t *o0, int64_t *o1)
{
	int64_t blocks = (o + KQ_R - 1) / KQ_R;
	*o0 = blocks * t / nt * KQ_R;
	*o1 = blocks * (t + 1) / nt * KQ_R;
	*o1 = *o1 < o ? *o1 : o;
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
	for (int t = 0; t < nt; t++) {
		int64_t o0, o1;
		share(t, nt, o, &o0, &o1);
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512) {
			blocked(out, ldo, in, ldi * (int64_t)sizeof *in, q, i,
				scale, NULL, b, N, i, o0, o1, block_q8);
			continue;
		}
#endif
		for (int64_t oo = o0; oo < o1; oo++) {
			rows_q8_portable(out + oo, ldo, in, ldi, q + oo * i, N, i);
			/* dequantize: one scale per output channel */
			for (int64_t r = 0; r < N; r++)
				out[r * ldo + oo] = out[r * ldo + oo] * scale[oo] +
						    (b ? b[oo] : 0.0f);
		}
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
	for (int t = 0; t < nt; t++) {
		int64_t o0, o1;
		share(t, nt, o, &o0, &o1);
#ifdef AX_KQ_X86
		if (p == AX_KQ_AVX512 || p == AX_KQ_AVX512VNNI) {
			blocked(out, ldo, in, ldi * (int64_t)sizeof *in, W,
				i * (int64_t)sizeof *W, NULL, NULL, b, N, i, o0,
				o1, block_bf16);
			continue;
		}
#endif
		for (int64_t oo = o0; oo < o1; oo++) {
			const uint16_t *w = W + oo * i;
#ifdef AX_KQ_X86
			if (p == AX_KQ_AVX512BF16)
				rows_bf16_dp(out + oo, ldo, in, ldi, w, N, i);
			else
#endif
				rows_bf16_portable(out + oo, ldo, in, ldi, w, N, i);
			if (b)
				for (int64_t r = 0; r < N; r++)
					out[r * ldo + oo] += b[oo];
		}
	}
	(void)p;
}

void ax_k_linear_q8_dyn(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, void *scratch,
			struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1);
	if (work)
		work->macs += N * i * o;
	enum ax_kq_path p = ax_kq_path();
	/* scratch: xs (N), then xq (N, act_stride(i)) zero-padded */
	float *xs = scratch;
	int8_t *xq = (int8_t *)scratch + (N * (int64_t)sizeof(float) + 63) / 64 * 64;
	int64_t st = act_stride(i);
	for (int64_t r = 0; r < N; r++) {
		memset(xq + r * st + i, 0, (size_t)(st - i));
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512)
			act_quantize_avx512(xq + r * st, &xs[r], in + r * ldi, i);
		else
#endif
			act_quantize(xq + r * st, &xs[r], in + r * ldi, i);
	}
	int nt = kq_threads(N, i, o);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int t = 0; t < nt; t++) {
		int64_t o0, o1;
		share(t, nt, o, &o0, &o1);
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512) {
			blocked(out, ldo, xq, st, q, i, scale, xs, b, N, i, o0, o1,
				p >= AX_KQ_AVX512VNNI ? block_dyn_vnni : block_dyn_bw);
			continue;
		}
#endif
		rows_dyn_portable(out, ldo, xq, q, scale, xs, b, N, i, o0, o1);
	}
	(void)p;
}

void ax_k_linear_q8_a16(float *out, int64_t ldo, const float *in, int64_t ldi,
			const int8_t *q, const float *scale, const float *b,
			int64_t N, int64_t i, int64_t o, void *scratch,
			struct ax_k_work *work)
{
	assert(ldo >= o && ldi >= i && N >= 0 && i >= 1 && o >= 1);
	if (work)
		work->macs += N * i * o;
	enum ax_kq_path p = ax_kq_path();
	/* scratch: xs (N), then N rows of a16_row_bytes(i) */
	float *xs = scratch;
	uint8_t *rows = (uint8_t *)scratch + (N * (int64_t)sizeof(float) + 63) / 64 * 64;
	int64_t rb = a16_row_bytes(i);
	for (int64_t r = 0; r < N; r++) {
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512) {
			act_quantize16_avx512(rows + r * rb, &xs[r], in + r * ldi, i);
			continue;
		}
#endif
		act_quantize16((int16_t *)(void *)(rows + r * rb), &xs[r], in + r * ldi, i);
	}
	int nt = kq_threads(N, i, o);
	(void)nt;   /* unused without OpenMP */
#ifdef _OPENMP
	#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
	for (int t = 0; t < nt; t++) {
		int64_t o0, o1;
		share(t, nt, o, &o0, &o1);
#ifdef AX_KQ_X86
		if (p >= AX_KQ_AVX512) {
			blocked(out, ldo, rows, rb, q, i, scale, xs, b, N, i, o0, o1,
				p >= AX_KQ_AVX512VNNI ? block_a16_vnni : block_a16_bw);
			continue;
		}
#endif
		rows_a16_portable(out, ldo, rows, q, scale, xs, b, N, i, o0, o1);
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
