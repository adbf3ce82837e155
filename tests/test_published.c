/*
 * test_published.c - the published-results CSV loader: the shipped files
 * load and hold the paper's figures; each class of bad input gives its
 * exact FILE:LINE:COL diagnostic; garbage never crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "published.h"

static void test_shipped_files(void **state)
{
	(void)state;
	const char *files[] = {"translation.csv", "language-modeling.csv",
			       "summarization.csv"};
	struct ax_published_set set = {0};
	struct ax_diag d = {0};
	for (size_t i = 0; i < 3; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/results/published/%s",
			 AX_SOURCE_DIR, files[i]);
		enum ax_status s = ax_published_load(&set, path, &d);
		if (s != AX_OK) {
			char msg[2048];
			ax_diag_format(&d, msg, sizeof msg);
			fail_msg("%s", msg);
		}
	}
	assert_int_equal(set.n, 14);
	const struct {
		const char *config, *dataset, *metric;
		double value;
		bool higher;
	} want[] = {
		{"wmt-lite-200", "wmt14-en-fr", "bleu", 35.3, true},
		{"wmt-lite-408", "wmt14-en-fr", "bleu", 39.1, true},
		{"wmt-lite-496", "wmt14-en-fr", "bleu", 39.6, true},
		{"wmt-transformer-128", "wmt14-en-fr", "bleu", 33.6, true},
		{"wmt-transformer-256", "wmt14-en-fr", "bleu", 37.6, true},
		{"wmt-transformer-320", "wmt14-en-fr", "bleu", 38.4, true},
		{"wmt-transformer-512", "wmt14-en-fr", "bleu", 39.9, true},
		{"wmt-lite-200", "wmt14-en-de", "bleu", 22.5, true},
		{"wmt-lite-408", "wmt14-en-de", "bleu", 25.6, true},
		{"wmt-lite-496", "wmt14-en-de", "bleu", 26.5, true},
		{"wmt-transformer-128", "wmt14-en-de", "bleu", 21.3, true},
		{"wmt-evolved-128", "wmt14-en-de", "bleu", 22.0, true},
		{"wikitext103-lite-896", "wikitext-103", "perplexity", 22.2, false},
		{"cnndm-lite-496", "cnn-dailymail", "rouge-l", 38.3, true},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct ax_published *r = ax_published_find(
			&set, want[i].config, want[i].dataset, want[i].metric);
		if (!r)
			fail_msg("missing %s %s", want[i].config, want[i].dataset);
		assert_true(r->value == want[i].value);
		assert_int_equal(r->higher_is_better, want[i].higher);
		assert_true(strlen(r->source) > 10);
	}
	/* Every "read off a figure" value says so. */
	for (int64_t i = 0; i < set.n; i++)
		if (strncmp(set.rec[i].config, "wmt-transformer-", 16) == 0 &&
		    strcmp(set.rec[i].dataset, "wmt14-en-fr") == 0)
			assert_non_null(strstr(set.rec[i].source,
					       "approx., read off Figure"));
	assert_null(ax_published_find(&set, "wmt-lite-200", "nope", "bleu"));
	assert_non_null(ax_published_find(&set, "wmt-lite-200", NULL, "bleu"));
	ax_published_free(&set);
}

#define HDR "config,dataset,task,metric,value,higher_is_better,source\n"

static void test_good_text(void **state)
{
	(void)state;
	const char text[] =
		"\xef\xbb\xbf# comment\r\n"
		"\n"
		"config,dataset,task,metric,value,higher_is_better,source\r\n"
		"my-model,my-set,translation,bleu,-1.5e1,false,\"a, \"\"b\"\"\"\r\n"
		"# another comment\n"
		"m2,s,t,m,.5,true,plain\n"
		"m3,s,t,m,7,true,\"\"\"\"";
	struct ax_published_set set = {0};
	struct ax_diag d = {0};
	assert_int_equal(ax_published_parse(&set, "mem.csv", text,
					    sizeof text - 1, &d), AX_OK);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.rec[0].config, "my-model");
	assert_true(set.rec[0].value == -15.0);
	assert_false(set.rec[0].higher_is_better);
	assert_string_equal(set.rec[0].source, "a, \"b\"");
	assert_int_equal(set.rec[0].line, 4);
	assert_true(set.rec[1].value == 0.5);
	assert_string_equal(set.rec[2].source, "\"");
	ax_published_free(&set);

	/* A header alone is a valid, empty file. */
	assert_int_equal(ax_published_parse(&set, "h.csv", HDR, sizeof HDR - 1,
					    &d), AX_OK);
	assert_int_equal(set.n, 0);
	ax_published_free(&set);
}

/* Parses text (one file) and expects a failure formatted as want. */
static void expect_error(const char *text, size_t len, const char *want)
{
	struct ax_published_set set = {0};
	struct ax_diag d = {0};
	enum ax_status s = ax_published_parse(&set, "bad.csv", text, len, &d);
	char msg[2048];
	ax_diag_format(&d, msg, sizeof msg);
	if (s == AX_OK || strcmp(msg, want) != 0)
		fail_msg("status %d\n got: %s\nwant: %s", s, msg, want);
	assert_int_equal(set.n, 0); /* nothing kept from a bad file */
	ax_published_free(&set);
}

#define BAD(lit, want) expect_error(lit, sizeof lit - 1, want)

static void test_bad_text(void **state)
{
	(void)state;
	BAD("", "bad.csv:1:1: error: no header line");
	BAD("# only a comment\n", "bad.csv:1:1: error: no header line");
	BAD("config,dataset,task,metric,value,higher,source\n",
	    "bad.csv:1:34: error: header: expected column 6 to be "
	    "\"higher_is_better\" (header must be config,dataset,task,metric,"
	    "value,higher_is_better,source)");
	BAD("config,dataset\n",
	    "bad.csv:1:15: error: header: expected column 3 to be \"task\" "
	    "(header must be config,dataset,task,metric,value,"
	    "higher_is_better,source)");
	BAD(HDR "a,b,c,d,1,true\n", "bad.csv:2:15: error: 6 fields, expected 7");
	BAD(HDR "a,b,c,d,1,true,s,extra\n",
	    "bad.csv:2:18: error: more than 7 fields");
	BAD(HDR "A,b,c,d,1,true,s\n",
	    "bad.csv:2:1: error: config: \"A\" is not a name (use a-z, 0-9, "
	    "'.', '_', '-')");
	BAD(HDR "a,,c,d,1,true,s\n", "bad.csv:2:3: error: dataset: empty");
	BAD(HDR "a,b,c,d,35,3,true,s\n",
	    "bad.csv:2:19: error: more than 7 fields");
	BAD(HDR "a,b,c,d,\"35,3\",true,s\n",
	    "bad.csv:2:9: error: value: \"35,3\" is not a number");
	BAD(HDR "a,b,c,d,nan,true,s\n",
	    "bad.csv:2:9: error: value: \"nan\" is not a number");
	BAD(HDR "a,b,c,d, 1,true,s\n",
	    "bad.csv:2:9: error: value: \" 1\" is not a number");
	BAD(HDR "a,b,c,d,1e999,true,s\n",
	    "bad.csv:2:9: error: value: \"1e999\" is out of range");
	BAD(HDR "a,b,c,d,1,yes,s\n",
	    "bad.csv:2:11: error: higher_is_better: \"yes\" is not true or false");
	BAD(HDR "a,b,c,d,1,true,\n",
	    "bad.csv:2:16: error: source: empty; say where the figure comes from");
	BAD(HDR "a,b,c,d,1,true,\"open\n",
	    "bad.csv:2:16: error: unterminated quoted field");
	BAD(HDR "a,b,c,d,1,true,\"x\"y\n",
	    "bad.csv:2:19: error: text after a closing quote");
	BAD(HDR "a,b,c,d,1,true,x\"y\n",
	    "bad.csv:2:17: error: quote inside an unquoted field");
	BAD(HDR "a,b,c,d,1,true,x\ty\n",
	    "bad.csv:2:17: error: control byte 0x09 in a field");
	BAD(HDR "a,b,c,d,1,true,x\0y\n",
	    "bad.csv:2:17: error: control byte 0x00 in a field");
	BAD(HDR "a,b,c,d,1,true,s\n# c\na,b,x,d,2,true,s\n",
	    "bad.csv:4:1: error: duplicate of line 2 (a, b, d)");
	BAD(HDR "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		",b,c,d,1,true,s\n",
	    "bad.csv:2:1: error: config: longer than 63 bytes");

	/* A missing file names the path and the errno text. */
	struct ax_published_set set = {0};
	struct ax_diag d = {0};
	assert_int_equal(ax_published_load(&set, "/nonexistent/x.csv", &d),
			 AX_ERR_IO);
	char msg[2048];
	ax_diag_format(&d, msg, sizeof msg);
	assert_string_equal(msg, "/nonexistent/x.csv: error: open: No such file "
				 "or directory");
}

static void test_garbage(void **state)
{
	(void)state;
	/* Random bytes after a valid header, and random cuts of a valid file:
	 * a status either way, never a crash (ASan watches). */
	const char good[] = HDR "wmt-lite-200,wmt14-en-fr,translation,bleu,35.3,"
			    "true,\"README, Models\"\n";
	for (size_t cut = 0; cut <= sizeof good - 1; cut++) {
		struct ax_published_set set = {0};
		struct ax_diag d = {0};
		char *copy = malloc(cut ? cut : 1);
		memcpy(copy, good, cut);
		ax_published_parse(&set, "cut.csv", copy, cut, &d);
		free(copy);
		ax_published_free(&set);
	}
	uint32_t x = 88172645u;
	const char alphabet[] = "ab1.,\"\n\r#e-";
	for (int t = 0; t < 3000; t++) {
		size_t len = sizeof HDR - 1 + (size_t)(t % 300);
		char *buf = malloc(len);
		memcpy(buf, HDR, sizeof HDR - 1);
		for (size_t i = sizeof HDR - 1; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (t & 1) ? (char)x
					 : alphabet[x % (sizeof alphabet - 1)];
		}
		struct ax_published_set set = {0};
		struct ax_diag d = {0};
		if (ax_published_parse(&set, "rnd.csv", buf, len, &d) != AX_OK)
			assert_true(d.line >= 1 && d.col >= 1);
		free(buf);
		ax_published_free(&set);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_files),
		cmocka_unit_test(test_good_text),
		cmocka_unit_test(test_bad_text),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
