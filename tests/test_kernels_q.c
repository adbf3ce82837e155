/*
 * test_kernels_q.c - the int8 and bf16 weight linears (kernels_q.h): each
 * fast kernel (int8, int8 with 16-bit or int8 activations, bf16) against its `_ref`
 * twin on every path this CPU can run (the portable one forced, AVX-512,
 * AVX512-VNNI, AVX512-BF16), over shapes with and without vector and
 * block tails and 1..5 beam rows; quantization and bf16 rounding by
 * hand; the reduced-precision result against the fp32 linear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernels_q.h"

static float frand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
}

/* worst |a - b| / (atol + rtol |b|) over n; fails with the index if > 1 */
static void assert_close(const float *a, const float *b, int64_t n,
			 double rtol, double atol, const char *what)
{
	double worst = 0;
	int64_t at = 0;
	for (int64_t k = 0; k < n; k++) {
		double e = fabs((double)a[k] - b[k]) / (atol + rtol * fabs((double)b[k]));
		if (e > worst || isnan(e))
			worst = e, at = k;
	}
	if (worst > 1.0) {
		print_error("%s: worst mismatch at %lld: %g vs %g\n", what,
			    (long long)at, a[at], b[at]);
		fail();
	}
}

/* ax_k_linear_q8_dyn on the current path: against its _ref twin (the
 * same integers, so only the final fp32 rounding differs), and against
 * the fp32-activation kernel within the activation rounding: half a step
 * xs = max |x| / 127 per element, times sum |scale q| of the row. */
static void check_dyn(const float *x, int64_t ldi, const int8_t *q,
		      const float *sc, const float *b, int64_t N, int64_t i,
		      int64_t o, int64_t ldo, float *ref, float *fast)
{
	int64_t bytes = ax_kq_dyn_scratch(N, i);
	assert_true(bytes >= N * i);
	unsigned char *scr = malloc((size_t)bytes + 1);
	float *f32 = calloc((size_t)(N * ldo), sizeof *f32);
	assert_true(scr && f32);
	scr[bytes] = 0xa5;   /* a guard byte: nothing written past the end */
	struct ax_k_work wr = { 0 }, wf = { 0 };
	ax_k_linear_q8_dyn_ref(ref, ldo, x, ldi, q, sc, b, N, i, o, scr, &wr);
	memset(scr, 0x5a, (size_t)bytes);   /* the kernel may not rely on it */
	ax_k_linear_q8_dyn(fast, ldo, x, ldi, q, sc, b, N, i, o, scr, &wf);
	assert_int_equal(scr[bytes], 0xa5);
	assert_int_equal(wr.macs, N * i * o);
	assert_int_equal(wf.macs, wr.macs);
	for (int64_t r = 0; r < N; r++)
		assert_close(fast + r * ldo, ref + r * ldo, o, 1e-5, 1e-6, "q8 dyn");
	ax_k_linear_q8_ref(f32, ldo, x, ldi, q, sc, b, N, i, o, NULL);
	for (int64_t r = 0; r < N; r++) {
		float m = 0;
		for (int64_t k = 0; k < i; k++)
			m = fabsf(x[r * ldi + k]) > m ? fabsf(x[r * ldi + k]) : m;
		for (int64_t c = 0; c < o; c++) {
			double l1 = 0;
			for (int64_t k = 0; k < i; k++)
				l1 += fabs(sc[c] * (double)q[c * i + k]);
			double e = fabs((double)fast[r * ldo + c] - f32[r * ldo + c]);
			if (e > 0.5 * m / 127.0 * l1 * (1 + 1e-4) + 1e-5)
				fail_msg("q8 dyn vs fp32 activations: row %lld channel %lld: %g vs %g",
					 (long long)r, (long long)c, fast[r * ldo + c], f32[r * ldo + c]);
		}
	}
	free(scr), free(f32);
}

/* ax_k_linear_q8_a16 on the current path: against its _ref twin (the
 * same integers; the fast sums are fp32, so a few units of fp32 rounding
 * of the row's sum of |q xq|), and against the fp32-activation kernel
 * within the activation rounding: half a step xs = max |x| / 32767 per
 * element, times sum |scale q| of the row. */
static void check_a16(const float *x, int64_t ldi, const int8_t *q,
		      const float *sc, const float *b, int64_t N, int64_t i,
		      int64_t o, int64_t ldo, float *ref, float *fast)
{
	int64_t bytes = ax_kq_a16_scratch(N, i);
	assert_true(bytes >= 2 * N * i);
	unsigned char *scr = malloc((size_t)bytes + 1);
	float *f32 = calloc((size_t)(N * ldo), sizeof *f32);
	assert_true(scr && f32);
	scr[bytes] = 0xa5;   /* a guard byte: nothing written past the end */
	struct ax_k_work wr = { 0 }, wf = { 0 };
	ax_k_linear_q8_a16_ref(ref, ldo, x, ldi, q, sc, b, N, i, o, scr, &wr);
	memset(scr, 0x5a, (size_t)bytes);   /* the kernel may not rely on it */
	ax_k_linear_q8_a16(fast, ldo, x, ldi, q, sc, b, N, i, o, scr, &wf);
	assert_int_equal(scr[bytes], 0xa5);
	assert_int_equal(wr.macs, N * i * o);
	assert_int_equal(wf.macs, wr.macs);
	ax_k_linear_q8_ref(f32, ldo, x, ldi, q, sc, b, N, i, o, NULL);
	for (int64_t r = 0; r < N; r++) {
		float m = 0;
		for (int64_t k = 0; k < i; k++)
			m = fabsf(x[r * ldi + k]) > m ? fabsf(x[r * ldi + k]) : m;
		for (int64_t c = 0; c < o; c++) {
			double l1 = 0;
			for (int64_t k = 0; k < i; k++)
				l1 += fabs(sc[c] * (double)q[c * i + k]);
			double f = fast[r * ldo + c], e = fabs(f - ref[r * ldo + c]);
			if (e > 1e-6 * m * l1 + 1e-6)
				fail_msg("q8 a16 vs ref: row %lld channel %lld: %g vs %g",
					 (long long)r, (long long)c, f, ref[r * ldo + c]);
			e = fabs(f - f32[r * ldo + c]);
			if (e > 0.5 * m / 32767.0 * l1 * (1 + 1e-3) + 1e-6 * m * l1 + 1e-6)
				fail_msg("q8 a16 vs fp32 activations: row %lld channel %lld: %g vs %g",
					 (long long)r, (long long)c, f, f32[r * ldo + c]);
		}
	}
	free(scr), free(f32);
}

static void check_shapes(enum ax_kq_path path)
{
	/* i around the vector widths (16 fp32, 32 bf16, 64 int8) and o
	 * around the 8-channel block, each with N = 1..5 beam rows */
	static const int64_t shapes[][2] = {   /* i, o */
		{ 1, 3 }, { 17, 5 }, { 64, 33 }, { 100, 7 }, { 512, 16 },
		{ 33, 1 }, { 15, 9 }, { 31, 8 }, { 63, 17 }, { 65, 23 },
		{ 130, 12 }, { 513, 41 }, { 4200, 9 },
	};
	uint64_t s = 42;
	for (size_t c = 0; c < 5 * sizeof shapes / sizeof shapes[0]; c++) {
		int64_t N = 1 + (int64_t)(c % 5), i = shapes[c / 5][0], o = shapes[c / 5][1];
		int64_t ldi = i + 3, ldo = o + 2;
		float *x = calloc((size_t)(N * ldi), sizeof *x);
		float *W = malloc((size_t)(o * i) * sizeof *W), *b = malloc((size_t)o * sizeof *b);
		float *sc = malloc((size_t)o * sizeof *sc);
		float *ref = calloc((size_t)(N * ldo), sizeof *ref);
		float *fast = calloc((size_t)(N * ldo), sizeof *fast);
		int8_t *q = malloc((size_t)(o * i));
		uint16_t *h = malloc((size_t)(o * i) * sizeof *h);
		assert_true(x && W && b && sc && ref && fast && q && h);
		for (int64_t k = 0; k < N * ldi; k++)
			x[k] = frand(&s);
		for (int64_t k = 0; k < o * i; k++)
			W[k] = frand(&s);
		for (int64_t k = 0; k < o; k++)
			b[k] = frand(&s);
		ax_q8_quantize(q, sc, W, o, i);
		ax_bf16_from_f32(h, W, o * i);
		struct ax_k_work wr = { 0 }, wf = { 0 };
		assert_true(ax_kq_set_path(path));
		ax_k_linear_q8_ref(ref, ldo, x, ldi, q, sc, b, N, i, o, &wr);
		ax_k_linear_q8(fast, ldo, x, ldi, q, sc, b, N, i, o, &wf);
		assert_int_equal(wr.macs, N * i * o);
		assert_int_equal(wf.macs, wr.macs);
		for (int64_t r = 0; r < N; r++)
			assert_close(fast + r * ldo, ref + r * ldo, o, 1e-5, 1e-5 * sqrt((double)i), "q8");
		ax_k_linear_bf16_ref(ref, ldo, x, ldi, h, b, N, i, o, NULL);
		ax_k_linear_bf16(fast, ldo, x, ldi, h, NULL, N, i, o, NULL);
		for (int64_t r = 0; r < N; r++)
			for (int64_t k = 0; k < o; k++)
				fast[r * ldo + k] += b[k];
		/* AVX512-BF16 also rounds x to bf16: 2^-8 relative per product */
		double tol = path == AX_KQ_AVX512BF16 ? 1e-2 : 1e-5;
		for (int64_t r = 0; r < N; r++)
			assert_close(fast + r * ldo, ref + r * ldo, o, tol, tol * sqrt((double)i), "bf16");
		check_dyn(x, ldi, q, sc, b, N, i, o, ldo, ref, fast);
		check_a16(x, ldi, q, sc, b, N, i, o, ldo, ref, fast);
		free(x), free(W), free(b), free(sc), free(ref), free(fast), free(q), free(h);
	}
	assert_true(ax_kq_set_path(AX_KQ_AUTO));
}

static void test_portable(void **state)
{
	(void)state;
	check_shapes(AX_KQ_PORTABLE);
}

static void test_avx512(void **state)
{
	(void)state;
	if (!ax_kq_set_path(AX_KQ_AVX512))
		skip();
	check_shapes(AX_KQ_AVX512);
}

/* AVX-512 with VNNI: the int8 x int8 dot by vpdpbusd (test_avx512 forces
 * the path without it, vpmaddubsw + vpmaddwd) */
static void test_avx512vnni(void **state)
{
	(void)state;
	if (!ax_kq_set_path(AX_KQ_AVX512VNNI))
		skip();
	check_shapes(AX_KQ_AVX512VNNI);
}

static void test_avx512bf16(void **state)
{
	(void)state;
	if (!ax_kq_set_path(AX_KQ_AVX512BF16)) {
		assert_true(ax_kq_path() != AX_KQ_AVX512BF16);
		skip();
	}
	check_shapes(AX_KQ_AVX512BF16);
}

static void test_quantize(void **state)
{
	(void)state;
	const float W[2][4] = { { 0.5f, -1.0f, 0.25f, 0.0f }, { 0, 0, 0, 0 } };
	int8_t q[8];
	float sc[2];
	ax_q8_quantize(q, sc, &W[0][0], 2, 4);
	assert_float_equal(sc[0], 1.0f / 127.0f, 1e-9);
	assert_int_equal(q[0], 64);     /* 63.5 rounds to even */
	assert_int_equal(q[1], -127);
	assert_int_equal(q[2], 32);     /* 31.75 */
	assert_int_equal(q[3], 0);
	assert_float_equal(sc[1], 0.0f, 0);
	for (int k = 4; k < 8; k++)
		assert_int_equal(q[k], 0);
}

static void test_bf16_rounding(void **state)
{
	(void)state;
	const uint32_t bits[] = { 0x3f800000u, 0x3f808000u, 0x3f818000u,
				  0x3f80c000u, 0x7fc00001u, 0xff800000u };
	const uint16_t want[] = { 0x3f80, 0x3f80, 0x3f82, 0x3f81, 0x7fc0, 0xff80 };
	for (int k = 0; k < 6; k++) {
		float f;
		uint16_t h;
		memcpy(&f, &bits[k], sizeof f);
		ax_bf16_from_f32(&h, &f, 1);
		assert_int_equal(h, want[k]);
	}
	assert_float_equal(ax_bf16_to_f32(0x3f80), 1.0f, 0);
}

/* The reduced-precision linear stays near the fp32 one: relative error of
 * the output vector at d = 512 (int8 about 1%, bf16 about 0.5%). */
static void test_against_fp32(void **state)
{
	(void)state;
	enum { I = 512, O = 64 };
	static float W[O * I], x[I], ref[O], y[O], sc[O];
	static int8_t q[O * I];
	static uint16_t h[O * I];
	uint64_t s = 7;
	for (int k = 0; k < O * I; k++)
		W[k] = frand(&s) / sqrtf((float)I);
	for (int k = 0; k < I; k++)
		x[k] = frand(&s);
	ax_k_linear_ref(ref, O, x, I, W, NULL, 1, I, O, NULL);
	ax_q8_quantize(q, sc, W, O, I);
	ax_bf16_from_f32(h, W, O * I);
	double n2 = 0, e8 = 0, e16 = 0;
	ax_k_linear_q8(y, O, x, I, q, sc, NULL, 1, I, O, NULL);
	for (int k = 0; k < O; k++)
		n2 += (double)ref[k] * ref[k], e8 += pow(y[k] - ref[k], 2);
	ax_k_linear_bf16(y, O, x, I, h, NULL, 1, I, O, NULL);
	for (int k = 0; k < O; k++)
		e16 += pow(y[k] - ref[k], 2);
	assert_true(sqrt(e8 / n2) < 0.02);
	assert_true(sqrt(e16 / n2) < 0.01);
	assert_true(sqrt(e8 / n2) > 0);   /* it did quantize */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_avx512),
		cmocka_unit_test(test_avx512vnni),
		cmocka_unit_test(test_avx512bf16),
		cmocka_unit_test(test_quantize),
		cmocka_unit_test(test_bf16_rounding),
		cmocka_unit_test(test_against_fp32),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
