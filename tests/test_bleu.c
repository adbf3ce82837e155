/*
 * test_bleu.c - sacreBLEU-compatible BLEU and chrF (src/data/bleu.h) on
 * hand-computed cases: identical text, no matches, a short hypothesis
 * (brevity penalty), exp smoothing of a missing order, empty lines,
 * unicode, and the 13a tokenizer's rules.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bleu.h"

static struct ax_bleu score(const char *const *hyp, const char *const *ref, int n)
{
	struct ax_bleu_stats s = { 0 };
	struct ax_diag d = { 0 };
	for (int i = 0; i < n; i++)
		assert_int_equal(ax_bleu_add(&s, hyp[i], ref[i], &d), AX_OK);
	struct ax_bleu b;
	ax_bleu_score(&s, &b);
	return b;
}

static void tok_is(const char *in, const char *want)
{
	char *t = ax_tok13a(in);
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
}

static void test_tok13a(void **state)
{
	(void)state;
	tok_is("Hello, world!", "Hello , world !");
	tok_is("It costs $3.50, or 3,000.", "It costs $ 3.50 , or 3,000 .");
	tok_is("well-known 1990-2000", "well-known 1990 - 2000");
	tok_is("a&quot;b &amp; c", "a \" b & c");
	tok_is("  ¿Qué   dijo?  ", "¿Qué dijo ?");
	tok_is("don't (see) [it]", "don't ( see ) [ it ]");
	tok_is("", "");
}

static void test_identical(void **state)
{
	(void)state;
	const char *t[] = { "the cat sat on the mat .", "a b c d e" };
	struct ax_bleu b = score(t, t, 2);
	assert_true(fabs(b.score - 100) < 1e-9);
	assert_true(fabs(b.chrf - 100) < 1e-9);
	assert_true(b.bp == 1.0 && b.ratio == 1.0);
	assert_int_equal(b.sys_len, 12);
}

static void test_no_match(void **state)
{
	(void)state;
	const char *h[] = { "x y z w" }, *r[] = { "a b c d" };
	struct ax_bleu b = score(h, r, 1);
	assert_true(b.score == 0.0);
	assert_true(b.precision[0] == 0.0);
	assert_true(b.chrf == 0.0);
}

/* hyp "a b c" against "a b c d e": p1..p3 = 100, p4 has no 4-grams
 * (total 0): sacreBLEU stops there and BLEU is 0; BP = exp(1 - 5/3). */
static void test_short_no_4grams(void **state)
{
	(void)state;
	const char *h[] = { "a b c" }, *r[] = { "a b c d e" };
	struct ax_bleu b = score(h, r, 1);
	assert_true(fabs(b.bp - exp(1 - 5.0 / 3)) < 1e-12);
	assert_true(b.precision[2] == 100.0 && b.precision[3] == 0.0);
	assert_true(b.score == 0.0);
}

/* hyp "a b c d" against "a b c d e f": every precision 100, BP =
 * exp(1 - 6/4), BLEU = 100 BP. */
static void test_brevity(void **state)
{
	(void)state;
	const char *h[] = { "a b c d" }, *r[] = { "a b c d e f" };
	struct ax_bleu b = score(h, r, 1);
	assert_true(fabs(b.bp - exp(-0.5)) < 1e-12);
	assert_true(fabs(b.score - 100 * exp(-0.5)) < 1e-9);
	assert_true(fabs(b.ratio - 4.0 / 6) < 1e-12);
}

/* hyp "a b x d e" vs "a b c d e": 1-grams 4/5, 2-grams 2/4, 3-grams 0/3
 * smoothed to 100/(2*3), 4-grams 0/2 smoothed to 100/(4*2). */
static void test_exp_smoothing(void **state)
{
	(void)state;
	const char *h[] = { "a b x d e" }, *r[] = { "a b c d e" };
	struct ax_bleu b = score(h, r, 1);
	double p[4] = { 80, 50, 100.0 / 6, 100.0 / 8 };
	for (int n = 0; n < 4; n++)
		assert_true(fabs(b.precision[n] - p[n]) < 1e-12);
	double want = exp((log(p[0]) + log(p[1]) + log(p[2]) + log(p[3])) / 4);
	assert_true(fabs(b.score - want) < 1e-9);
}

/* Empty hypothesis lines add nothing to sys_len; an empty pair is fine. */
static void test_empty_lines(void **state)
{
	(void)state;
	const char *h[] = { "", "a b c d", "" }, *r[] = { "", "a b c d", "x y" };
	struct ax_bleu b = score(h, r, 3);
	assert_int_equal(b.sys_len, 4);
	assert_int_equal(b.ref_len, 6);
	assert_true(fabs(b.score - 100 * exp(1 - 6.0 / 4)) < 1e-9);
	const char *e[] = { "" };
	struct ax_bleu z = score(e, e, 1);
	assert_true(z.score == 0.0 && z.bp == 1.0 && z.chrf == 0.0);   /* sys_len = ref_len = 0: no penalty */
}

/* Unicode: code points, not bytes, make chrF's character n-grams.
 * "ñ" vs "n": 1 of 2 characters match at order 1, none at order 2. */
static void test_unicode(void **state)
{
	(void)state;
	const char *h[] = { "añ" }, *r[] = { "an" };
	struct ax_bleu b = score(h, r, 1);
	/* orders 1, 2 have n-grams: P = R = (1/2 + 0)/2 = 0.25 */
	assert_true(fabs(b.chrf - 25.0) < 1e-9);
	const char *u[] = { "El niño comió pan ." };
	struct ax_bleu c = score(u, u, 1);
	assert_true(fabs(c.score - 100) < 1e-9);
	assert_int_equal(c.sys_len, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tok13a),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_short_no_4grams),
		cmocka_unit_test(test_brevity),
		cmocka_unit_test(test_exp_smoothing),
		cmocka_unit_test(test_empty_lines),
		cmocka_unit_test(test_unicode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
