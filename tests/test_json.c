/*
 * test_json.c - the JSON writer: exact compact and pretty output, string
 * escaping (control characters, UTF-8 passthrough, invalid bytes),
 * shortest round-trip doubles, and misuse reported as sticky errors.
 */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

/* A writer on an in-memory stream; take() closes it and returns the text. */
struct sink {
	FILE *f;
	char *buf;
	size_t len;
	struct ax_json j;
};

static void sink_open(struct sink *s, enum ax_json_mode mode)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	assert_non_null(s->f);
	ax_json_init(&s->j, s->f, mode);
}

static void sink_expect(struct sink *s, const char *want)
{
	struct ax_diag d = {0};
	assert_int_equal(ax_json_finish(&s->j, &d), AX_OK);
	fclose(s->f);
	assert_string_equal(s->buf, want);
	free(s->buf);
}

static void write_sample(struct ax_json *j)
{
	ax_json_begin_object(j);
	ax_json_key(j, "id");
	ax_json_string(j, "ab12");
	ax_json_key(j, "macs");
	ax_json_int(j, INT64_C(-9223372036854775807) - 1);
	ax_json_key(j, "bleu");
	ax_json_double(j, 35.3);
	ax_json_key(j, "ok");
	ax_json_bool(j, true);
	ax_json_key(j, "none");
	ax_json_null(j);
	ax_json_key(j, "empty");
	ax_json_begin_array(j);
	ax_json_end_array(j);
	ax_json_key(j, "obj");
	ax_json_begin_object(j);
	ax_json_end_object(j);
	ax_json_key(j, "list");
	ax_json_begin_array(j);
	ax_json_int(j, 1);
	ax_json_begin_object(j);
	ax_json_key(j, "k");
	ax_json_bool(j, false);
	ax_json_end_object(j);
	ax_json_end_array(j);
	ax_json_end_object(j);
}

static void test_compact(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s, AX_JSON_COMPACT);
	write_sample(&s.j);
	sink_expect(&s, "{\"id\":\"ab12\",\"macs\":-9223372036854775808,"
			"\"bleu\":35.3,\"ok\":true,\"none\":null,\"empty\":[],"
			"\"obj\":{},\"list\":[1,{\"k\":false}]}");
}

static void test_pretty(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s, AX_JSON_PRETTY);
	write_sample(&s.j);
	sink_expect(&s, "{\n"
			"  \"id\": \"ab12\",\n"
			"  \"macs\": -9223372036854775808,\n"
			"  \"bleu\": 35.3,\n"
			"  \"ok\": true,\n"
			"  \"none\": null,\n"
			"  \"empty\": [],\n"
			"  \"obj\": {},\n"
			"  \"list\": [\n"
			"    1,\n"
			"    {\n"
			"      \"k\": false\n"
			"    }\n"
			"  ]\n"
			"}");
	sink_open(&s, AX_JSON_PRETTY);
	ax_json_int(&s.j, 7);
	sink_expect(&s, "7");
}

static void test_strings(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s, AX_JSON_COMPACT);
	ax_json_begin_array(&s.j);
	ax_json_string(&s.j, "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f");
	ax_json_string(&s.j, "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80"); /* é → 😀 */
	/* invalid: lone continuation, truncated 2-byte, overlong '/',
	 * surrogate U+D800, beyond U+10FFFF */
	ax_json_string(&s.j, "\x80|\xc3|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80");
	ax_json_string_n(&s.j, "a\0b", 3);
	ax_json_string(&s.j, NULL);
	ax_json_end_array(&s.j);
	sink_expect(&s, "[\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\","
			"\"caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80\","
			"\"\\ufffd|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
			"\\ufffd\\ufffd\\ufffd\\ufffd\","
			"\"a\\u0000b\",null]");
}

static void test_doubles(void **state)
{
	(void)state;
	struct sink s;
	sink_open(&s, AX_JSON_COMPACT);
	ax_json_begin_array(&s.j);
	const double v[] = {0.1, 1.0 / 3.0, 100.0, -0.0, 1e300, 5e-324,
			    123456789012345678.0, 2.5, NAN, INFINITY, -INFINITY};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		ax_json_double(&s.j, v[i]);
	ax_json_end_array(&s.j);
	sink_expect(&s, "[0.1,0.3333333333333333,100.0,-0.0,1e+300,5e-324,"
			"1.2345678901234568e+17,2.5,null,null,null]");

	/* Every formatted value reads back exactly. */
	uint64_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		memcpy(&d, &x, sizeof d);
		if (!isfinite(d))
			continue;
		char buf[80];
		ax_json_format_double(buf, sizeof buf, d);
		assert_true(strtod(buf, NULL) == d);
	}
}

/* Under a locale whose decimal point is ',' the output keeps '.'. */
static void test_locale(void **state)
{
	(void)state;
	const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
			       "fr_FR.utf8"};
	const char *got = NULL;
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !got; i++)
		got = setlocale(LC_NUMERIC, names[i]);
	if (!got || strcmp(localeconv()->decimal_point, ",") != 0) {
		setlocale(LC_NUMERIC, "C");
		skip(); /* no comma-decimal locale installed here */
	}
	char buf[80];
	ax_json_format_double(buf, sizeof buf, 35.3);
	setlocale(LC_NUMERIC, "C");
	assert_string_equal(buf, "35.3");
}

static void test_misuse(void **state)
{
	(void)state;
	struct ax_diag d = {0};
	struct sink s;

	sink_open(&s, AX_JSON_COMPACT);
	ax_json_begin_object(&s.j);
	assert_int_equal(ax_json_int(&s.j, 1), AX_ERR_INTERNAL);
	/* sticky: later calls keep failing and write nothing */
	assert_int_equal(ax_json_key(&s.j, "a"), AX_ERR_INTERNAL);
	assert_int_equal(ax_json_finish(&s.j, &d), AX_ERR_INTERNAL);
	assert_non_null(strstr(d.msg, "without a key"));
	fclose(s.f);
	assert_string_equal(s.buf, "{");
	free(s.buf);

	sink_open(&s, AX_JSON_COMPACT);
	ax_json_begin_array(&s.j);
	assert_int_equal(ax_json_end_object(&s.j), AX_ERR_INTERNAL);
	fclose(s.f);
	free(s.buf);

	sink_open(&s, AX_JSON_COMPACT);
	ax_json_begin_array(&s.j);
	assert_int_equal(ax_json_finish(&s.j, &d), AX_ERR_INTERNAL);
	assert_non_null(strstr(d.msg, "unclosed"));
	fclose(s.f);
	free(s.buf);

	sink_open(&s, AX_JSON_COMPACT);
	assert_int_equal(ax_json_finish(&s.j, &d), AX_ERR_INTERNAL);
	ax_json_int(&s.j, 1);
	assert_int_equal(ax_json_int(&s.j, 2), AX_ERR_INTERNAL);
	fclose(s.f);
	free(s.buf);

	sink_open(&s, AX_JSON_COMPACT);
	for (int i = 0; i < AX_JSON_MAX_DEPTH; i++)
		assert_int_equal(ax_json_begin_array(&s.j), AX_OK);
	assert_int_equal(ax_json_begin_array(&s.j), AX_ERR_LIMIT);
	fclose(s.f);
	free(s.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_locale),
		cmocka_unit_test(test_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
