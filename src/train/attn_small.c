/*
 * attn_small.c - an AVX-512 kernel for attention's small products (see
 * attn_small.h). One tile is up to 4 rows of C by up to 4 vectors of 16
 * columns, held in 16 registers while k runs over the shared dimension:
 * per k, the tile's B vectors are loaded once and each row's A(i,k)
 * broadcast against them. Tiles of every (rows, vectors) size are
 * instantiated from one always-inline body with constant bounds, so the
 * accumulators stay in registers.
 */
#include "attn_small.h"

#include <immintrin.h>
#include <math.h>

#define AX_AVX512 __attribute__((target("avx512f,avx512dq")))

bool ax_g_mm16_ok(void)
{
	static int ok = -1;
	if (ok < 0) {
		__builtin_cpu_init();
		ok = __builtin_cpu_supports("avx512f") &&
		     __builtin_cpu_supports("avx512dq") ? 1 : 0;
	}
	return ok == 1;
}

/* One MR x (16 NV) tile of C. */
AX_AVX512 static inline __attribute__((always_inline)) void
tile(float *C, int64_t ldc, const float *A, int64_t ars, int64_t acs,
     const float *B, int64_t ldb, int64_t K, float alpha, bool acc,
     const int MR, const int NV)
{
	__m512 c[4][4];
	for (int r = 0; r < MR; r++)
		for (int v = 0; v < NV; v++)
			c[r][v] = _mm512_setzero_ps();
	for (int64_t k = 0; k < K; k++) {
		__m512 b[4];
		const float *bk = B + k * ldb;
		for (int v = 0; v < NV; v++)
			b[v] = _mm512_loadu_ps(bk + 16 * v);
		for (int r = 0; r < MR; r++) {
			__m512 a = _mm512_set1_ps(A[r * ars + k * acs]);
			for (int v = 0; v < NV; v++)
				c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
		}
	}
	__m512 al = _mm512_set1_ps(alpha);
	for (int r = 0; r < MR; r++)
		for (int v = 0; v < NV; v++) {
			float *p = C + r * ldc + 16 * v;
			__m512 x = _mm512_mul_ps(al, c[r][v]);
			if (acc)
				x = _mm512_add_ps(x, _mm512_loadu_ps(p));
			_mm512_storeu_ps(p, x);
		}
}

#define AX_TILE(mr, nv) \
	case (mr) * 8 + (nv): \
		tile(c, ldc, a, ars, acs, b, ldb, K, alpha, acc, mr, nv); \
		break;

AX_AVX512 void ax_g_mm16(float *C, int64_t ldc, const float *A, int64_t ars,
			 int64_t acs, const float *B, int64_t ldb, int64_t M,
			 int64_t K, int64_t N, float alpha, bool acc)
{
	int64_t nvec = N / 16;
	for (int64_t i0 = 0; i0 < M; i0 += 4) {
		int mr = M - i0 < 4 ? (int)(M - i0) : 4;
		for (int64_t v0 = 0; v0 < nvec; v0 += 4) {
			int nv = nvec - v0 < 4 ? (int)(nvec - v0) : 4;
			float *c = C + i0 * ldc + 16 * v0;
			const float *a = A + i0 * ars, *b = B + 16 * v0;
			switch (mr * 8 + nv) {
			AX_TILE(1, 1) AX_TILE(1, 2) AX_TILE(1, 3) AX_TILE(1, 4)
			AX_TILE(2, 1) AX_TILE(2, 2) AX_TILE(2, 3) AX_TILE(2, 4)
			AX_TILE(3, 1) AX_TILE(3, 2) AX_TILE(3, 3) AX_TILE(3, 4)
			AX_TILE(4, 1) AX_TILE(4, 2) AX_TILE(4, 3) AX_TILE(4, 4)
			default:
				break;
			}
		}
	}
}

void ax_g_transpose_pad(float *T, int64_t ldt, const float *X, int64_t ldx,
			int64_t rows, int64_t cols)
{
	for (int64_t c = 0; c < cols; c++) {
		float *t = T + c * ldt;
		for (int64_t r = 0; r < rows; r++)
			t[r] = X[r * ldx + c];
		for (int64_t r = rows; r < ldt; r++)
			t[r] = 0.0f;
	}
}

/* exp(x) of 16 lanes: kernels.h ax_k_exp_poly step for step. */
AX_AVX512 static inline __attribute__((always_inline)) __m512 exp16(__m512 x)
{
	x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)),
			  _mm512_set1_ps(88.0f));
	__m512 big = _mm512_set1_ps(12582912.0f);
	__m512 k = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(x,
			_mm512_set1_ps(1.44269504088896341f)), big), big);
	__m512 r = _mm512_sub_ps(x, _mm512_mul_ps(k, _mm512_set1_ps(0.693359375f)));
	r = _mm512_sub_ps(r, _mm512_mul_ps(k, _mm512_set1_ps(-2.12194440e-4f)));
	static const float c[] = { 1.3981999507e-3f, 8.3334519073e-3f,
				   4.1665795894e-2f, 1.6666665459e-1f,
				   5.0000001201e-1f };
	__m512 p = _mm512_set1_ps(1.9875691500e-4f);
	for (int n = 0; n < 5; n++)
		p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(c[n]));
	__m512 e = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r),
				 _mm512_set1_ps(1.0f));
	__m512i two = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(k),
							 _mm512_set1_epi32(127)), 23);
	return _mm512_mul_ps(e, _mm512_castsi512_ps(two));
}

AX_AVX512 void ax_g_softmax16(float *P, int64_t ldp, int64_t Nq, int64_t Nk,
			      bool causal)
{
	__m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					 12, 13, 14, 15);
	for (int64_t i = 0; i < Nq; i++) {
		float *row = P + i * ldp;
		int64_t lim = causal && i + 1 < Nk ? i + 1 : Nk;
		__m512 m = _mm512_set1_ps(-INFINITY), s = _mm512_setzero_ps();
		for (int64_t j = 0; j < lim; j += 16) {
			__mmask16 in = _mm512_cmplt_epi32_mask(lane, _mm512_set1_epi32((int)(lim - j)));
			m = _mm512_mask_max_ps(m, in, m, _mm512_loadu_ps(row + j));
		}
		__m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(m));
		for (int64_t j = 0; j < ldp; j += 16) {
			__mmask16 in = _mm512_cmplt_epi32_mask(lane, _mm512_set1_epi32((int)(lim - j)));
			__m512 e = _mm512_maskz_mov_ps(in, exp16(_mm512_sub_ps(
					_mm512_loadu_ps(row + j), mx)));
			s = _mm512_add_ps(s, e);
			_mm512_storeu_ps(row + j, e);
		}
		__m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(s));
		for (int64_t j = 0; j < lim; j += 16)
			_mm512_storeu_ps(row + j, _mm512_mul_ps(inv, _mm512_loadu_ps(row + j)));
	}
}

AX_AVX512 void ax_g_probs_grad16(float *P, float *B, int64_t ldp, int64_t Nq)
{
	for (int64_t i = 0; i < Nq; i++) {
		float *p = P + i * ldp, *b = B + i * ldp;
		__m512 acc = _mm512_setzero_ps();
		for (int64_t j = 0; j < ldp; j += 16)
			acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(b + j),
							       _mm512_loadu_ps(p + j)));
		__m512 dot = _mm512_set1_ps(_mm512_reduce_add_ps(acc));
		for (int64_t j = 0; j < ldp; j += 16)
			_mm512_storeu_ps(b + j, _mm512_mul_ps(_mm512_loadu_ps(p + j),
					 _mm512_sub_ps(_mm512_loadu_ps(b + j), dot)));
	}
}

/* grad.h ax_g_mix of 8 lanes (AVX-512DQ's 64-bit multiply). */
AX_AVX512 static inline __attribute__((always_inline)) __m512i mix8(__m512i z)
{
	z = _mm512_add_epi64(z, _mm512_set1_epi64((long long)0x9e3779b97f4a7c15ull));
	z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
			       _mm512_set1_epi64((long long)0xbf58476d1ce4e5b9ull));
	z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
			       _mm512_set1_epi64((long long)0x94d049bb133111ebull));
	return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

/* ax_g_keep(key, idx, p) of 8 consecutive indices from idx0 */
AX_AVX512 static inline __attribute__((always_inline)) __m256
keep8(uint64_t key, uint64_t idx0, float p)
{
	__m512i idx = _mm512_add_epi64(_mm512_set1_epi64((long long)idx0),
				       _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
	__m512i r = mix8(_mm512_xor_si512(_mm512_set1_epi64((long long)key),
			 _mm512_mullo_epi64(idx, _mm512_set1_epi64((long long)0xd1b54a32d192ed03ull))));
	__m256 u = _mm256_mul_ps(_mm512_cvtepi64_ps(_mm512_srli_epi64(r, 40)),
				 _mm256_set1_ps(1.0f / 16777216.0f));
	__m256 scale = _mm256_set1_ps(1.0f / (1.0f - p));
	return _mm256_blendv_ps(scale, _mm256_setzero_ps(),
				_mm256_cmp_ps(u, _mm256_set1_ps(p), _CMP_LT_OQ));
}

AX_AVX512 void ax_g_dropout16(float *x, int64_t n, uint64_t base, uint64_t key,
			      float p)
{
	for (int64_t j = 0; j < n; j += 16) {
		__m512 m = _mm512_insertf32x8(_mm512_castps256_ps512(
				keep8(key, base + (uint64_t)j, p)),
				keep8(key, base + (uint64_t)j + 8, p), 1);
		_mm512_storeu_ps(x + j, _mm512_mul_ps(m, _mm512_loadu_ps(x + j)));
	}
}
