/*
 * test_config.c - the YAML model-config loader and validator: every paper
 * config loads with the fields docs/models.md §7 gives, per-layer values expand,
 * the hash is stable and sensitive, the JSON round-trips, and every error
 * class reports its status, exact line:col and a message naming the key.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "model.h"

/* ---- helpers ---------------------------------------------------------- */

/* A valid WMT-style Lite config; line numbers on the right. */
#define LITE_HEAD                                                         \
	"family: lite\n"                              /*  1 */            \
	"task: translation\n"                         /*  2 */            \
	"embed_dim: 200\n"                            /*  3 */            \
	"norm: post\n"                                /*  4 */            \
	"vocab:\n"                                    /*  5 */            \
	"  source: 32768\n"                           /*  6 */            \
	"  target: 32768\n"                           /*  7 */            \
	"  share: all\n"                              /*  8 */
#define LITE_ENC                                                          \
	"encoder:\n"                                  /*  9 */            \
	"  layers: 6\n"                               /* 10 */            \
	"  ffn_dim: 200\n"                            /* 11 */            \
	"  attention_branch:\n"                       /* 12 */            \
	"    dim: 100\n"                              /* 13 */            \
	"    heads: 4\n"                              /* 14 */            \
	"  conv_branch:\n"                            /* 15 */            \
	"    type: dynamic\n"                         /* 16 */            \
	"    dim: 100\n"                              /* 17 */            \
	"    heads: 4\n"                              /* 18 */            \
	"    glu: true\n"                             /* 19 */            \
	"    kernel_size: [3, 7, 15, 31, 31, 31]\n"   /* 20 */
#define LITE_DEC                                                          \
	"decoder:\n"                                  /* 21 */            \
	"  layers: 6\n"                               /* 22 */            \
	"  ffn_dim: 200\n"                            /* 23 */            \
	"  attention_heads: 8\n"                      /* 24 */            \
	"  attention_branch:\n"                       /* 25 */            \
	"    dim: 100\n"                              /* 26 */            \
	"    heads: 4\n"                              /* 27 */            \
	"  conv_branch:\n"                            /* 28 */            \
	"    type: dynamic\n"                         /* 29 */            \
	"    dim: 100\n"                              /* 30 */            \
	"    heads: 4\n"                              /* 31 */            \
	"    glu: true\n"                             /* 32 */            \
	"    kernel_size: [3, 7, 15, 31, 31, 31]\n"   /* 33 */
#define LITE LITE_HEAD LITE_ENC LITE_DEC

/* A small post-norm Transformer. */
#define TRANSFORMER                                                       \
	"family: transformer\n"                       /*  1 */            \
	"task: translation\n"                         /*  2 */            \
	"embed_dim: 200\n"                            /*  3 */            \
	"norm: post\n"                                /*  4 */            \
	"vocab: {source: 100, target: 100, share: all}\n" /* 5 */         \
	"encoder:\n"                                  /*  6 */            \
	"  layers: 2\n"                               /*  7 */            \
	"  ffn_dim: 400\n"                            /*  8 */            \
	"  attention_heads: 8\n"                      /*  9 */            \
	"decoder:\n"                                  /* 10 */            \
	"  layers: 2\n"                               /* 11 */            \
	"  ffn_dim: 400\n"                            /* 12 */            \
	"  attention_heads: 8\n"                      /* 13 */

/* A Transformer language model with adaptive input and softmax. */
#define LM                                                                \
	"family: transformer\n"                       /*  1 */            \
	"task: language_model\n"                      /*  2 */            \
	"embed_dim: 64\n"                             /*  3 */            \
	"norm: pre\n"                                 /*  4 */            \
	"final_norm: true\n"                          /*  5 */            \
	"vocab:\n"                                    /*  6 */            \
	"  target: 1000\n"                            /*  7 */            \
	"  share: none\n"                             /*  8 */            \
	"adaptive:\n"                                 /*  9 */            \
	"  cutoffs: [200, 600]\n"                     /* 10 */            \
	"  factor: 4\n"                               /* 11 */            \
	"  tie_weights: true\n"                       /* 12 */            \
	"  tie_proj: true\n"                          /* 13 */            \
	"decoder:\n"                                  /* 14 */            \
	"  layers: 2\n"                               /* 15 */            \
	"  ffn_dim: 128\n"                            /* 16 */            \
	"  attention_heads: 4\n"                      /* 17 */

/* An Evolved Transformer at d = 128. */
#define EVOLVED                                                           \
	"family: evolved\n"                           /*  1 */            \
	"task: translation\n"                         /*  2 */            \
	"embed_dim: 128\n"                            /*  3 */            \
	"norm: pre\n"                                 /*  4 */            \
	"final_norm: true\n"                          /*  5 */            \
	"vocab:\n"                                    /*  6 */            \
	"  source: 32768\n"                           /*  7 */            \
	"  target: 32768\n"                           /*  8 */            \
	"  share: all\n"                              /*  9 */            \
	"encoder:\n"                                  /* 10 */            \
	"  layers: 3\n"                               /* 11 */            \
	"  attention_heads: 4\n"                      /* 12 */            \
	"decoder:\n"                                  /* 13 */            \
	"  layers: 4\n"                               /* 14 */            \
	"  attention_heads: 4\n"                      /* 15 */

/* A LightConv model. */
#define LIGHTCONV                                                         \
	"family: lightconv\n"                         /*  1 */            \
	"task: translation\n"                         /*  2 */            \
	"embed_dim: 64\n"                             /*  3 */            \
	"norm: post\n"                                /*  4 */            \
	"vocab: {source: 500, target: 400, share: none}\n" /* 5 */        \
	"encoder:\n"                                  /*  6 */            \
	"  layers: 2\n"                               /*  7 */            \
	"  ffn_dim: 128\n"                            /*  8 */            \
	"  conv: {type: dynamic, dim: 64, heads: 4, glu: true, kernel_size: [3, 7]}\n" /* 9 */ \
	"decoder:\n"                                  /* 10 */            \
	"  layers: 2\n"                               /* 11 */            \
	"  ffn_dim: 128\n"                            /* 12 */            \
	"  attention_heads: 4\n"                      /* 13 */            \
	"  conv: {type: lightweight, dim: 64, heads: 4, glu: true, kernel_size: 3}\n" /* 14 */

/* text with its nth (1-based) occurrence of old replaced by new; free it. */
static char *subst(const char *text, const char *old, const char *new,
		   int nth)
{
	const char *at = text;

	for (int i = 0; i < nth; i++) {
		at = strstr(i ? at + 1 : at, old);
		if (!at)
			fail_msg("subst: occurrence %d of '%s' not found", nth, old);
	}
	size_t head = (size_t)(at - text), lo = strlen(old), ln = strlen(new);
	size_t tail = strlen(at + lo);
	char *out = malloc(head + ln + tail + 1);
	assert_non_null(out);
	memcpy(out, text, head);
	memcpy(out + head, new, ln);
	memcpy(out + head + ln, at + lo, tail + 1);
	return out;
}

static enum ax_status load_str(const char *text, struct ax_config *cfg,
			       struct ax_diag *d)
{
	memset(d, 0, sizeof *d);
	return ax_config_load_string(text, strlen(text), "t.yaml", cfg, d);
}

static void expect_error_at(const char *text, enum ax_status st, int line,
			    int col, const char *frag, const char *file,
			    int src_line)
{
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_diag d;

	assert_non_null(cfg);
	enum ax_status got = load_str(text, cfg, &d);
	if (got != st || d.line != line || d.col != col ||
	    !strstr(d.msg, frag) || strcmp(d.file, "t.yaml") != 0)
		print_error("%s:%d: got %s at %d:%d in '%s': %s\n"
			    "  expected %s at %d:%d with '%s'\n", file,
			    src_line, ax_status_name(got), d.line, d.col, d.file,
			    d.msg, ax_status_name(st), line, col, frag);
	_assert_int_equal(got, st, file, src_line);
	_assert_int_equal(d.status, st, file, src_line);
	_assert_int_equal(d.line, line, file, src_line);
	_assert_int_equal(d.col, col, file, src_line);
	_assert_true(strstr(d.msg, frag) != NULL, "message fragment", file,
		     src_line);
	_assert_string_equal(d.file, "t.yaml", file, src_line);
	/* A failed load leaves a zeroed config, never half a model. */
	_assert_int_equal(cfg->embed_dim, 0, file, src_line);
	free(cfg);
}

#define EXPECT_ERROR(text, st, line, col, frag) \
	expect_error_at((text), (st), (line), (col), (frag), __FILE__, __LINE__)

/* The same with a subst()-edited text. */
#define EXPECT_EDIT(base, old, new, nth, st, line, col, frag)              \
	do {                                                               \
		char *t_ = subst((base), (old), (new), (nth));             \
		expect_error_at(t_, (st), (line), (col), (frag), __FILE__, \
				__LINE__);                                 \
		free(t_);                                                  \
	} while (0)

static void expect_ok(const char *text, struct ax_config *cfg)
{
	struct ax_diag d;
	enum ax_status st = load_str(text, cfg, &d);

	if (st != AX_OK)
		print_error("unexpected error %d:%d: %s\n", d.line, d.col, d.msg);
	assert_int_equal(st, AX_OK);
}

/* ---- paper configs ---------------------------------------------------- */

struct paper_expect {
	const char *file;
	enum ax_family family;
	int64_t d, ffn, heads;          /* heads: full-width (lite: cross) */
	enum ax_conv_type conv;         /* lite only */
	bool glu;
	int64_t src, tgt;
	enum ax_share share;
};

static const struct paper_expect paper[] = {
	{ "iwslt14-lite-160", AX_FAMILY_LITE, 160, 160, 4, AX_CONV_LIGHTWEIGHT, false, 8848, 6632, AX_SHARE_NONE },
	{ "iwslt14-lite-240", AX_FAMILY_LITE, 240, 240, 4, AX_CONV_LIGHTWEIGHT, false, 8848, 6632, AX_SHARE_NONE },
	{ "iwslt14-lite-320", AX_FAMILY_LITE, 320, 320, 4, AX_CONV_LIGHTWEIGHT, false, 8848, 6632, AX_SHARE_NONE },
	{ "wmt-lite-200", AX_FAMILY_LITE, 200, 200, 8, AX_CONV_DYNAMIC, true, 32768, 32768, AX_SHARE_ALL },
	{ "wmt-lite-408", AX_FAMILY_LITE, 408, 408, 8, AX_CONV_DYNAMIC, true, 32768, 32768, AX_SHARE_ALL },
	{ "wmt-lite-496", AX_FAMILY_LITE, 496, 496, 8, AX_CONV_DYNAMIC, true, 32768, 32768, AX_SHARE_ALL },
	{ "cnndm-lite-496", AX_FAMILY_LITE, 496, 496, 8, AX_CONV_DYNAMIC, true, 32768, 32768, AX_SHARE_ALL },
	{ "iwslt14-transformer-128", AX_FAMILY_TRANSFORMER, 128, 256, 4, 0, false, 8848, 6632, AX_SHARE_NONE },
	{ "iwslt14-transformer-192", AX_FAMILY_TRANSFORMER, 192, 384, 4, 0, false, 8848, 6632, AX_SHARE_NONE },
	{ "wmt-transformer-128", AX_FAMILY_TRANSFORMER, 128, 512, 8, 0, false, 32768, 32768, AX_SHARE_ALL },
	{ "wmt-transformer-256", AX_FAMILY_TRANSFORMER, 256, 1024, 8, 0, false, 32768, 32768, AX_SHARE_ALL },
	{ "wmt-transformer-320", AX_FAMILY_TRANSFORMER, 320, 1280, 8, 0, false, 32768, 32768, AX_SHARE_ALL },
	{ "wmt-transformer-512", AX_FAMILY_TRANSFORMER, 512, 2048, 8, 0, false, 32768, 32768, AX_SHARE_ALL },
};

static void paper_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/configs/paper/%s.yaml", AX_SOURCE_DIR, name);
}

static void check_paper_stack(const struct paper_expect *e,
			      const struct ax_stack_config *s, bool decoder)
{
	static const int64_t kernels[6] = { 3, 7, 15, 31, 31, 31 };
	bool lite = e->family == AX_FAMILY_LITE;

	assert_int_equal(s->layers, 6);
	for (int i = 0; i < 6; i++) {
		const struct ax_layer_config *l = &s->layer[i];
		assert_int_equal(l->ffn_dim, e->ffn);
		if (!lite || decoder)
			assert_int_equal(l->attention_heads, e->heads);
		else
			assert_int_equal(l->attention_heads, 0);
		assert_int_equal(l->attention_dim, lite ? e->d / 2 : 0);
		assert_int_equal(l->attention_branch_heads, lite ? 4 : 0);
		assert_int_equal(l->conv_dim, lite ? e->d / 2 : 0);
		assert_int_equal(l->conv_heads, lite ? 4 : 0);
		assert_int_equal(l->conv_type, lite ? e->conv : 0);
		assert_int_equal(l->glu, e->glu);
		assert_int_equal(l->kernel_size, lite ? kernels[i] : 0);
	}
}

static void test_paper_configs(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);
	for (size_t k = 0; k < sizeof paper / sizeof paper[0]; k++) {
		const struct paper_expect *e = &paper[k];
		char path[512];
		struct ax_diag d = { 0 };
		paper_path(path, sizeof path, e->file);
		enum ax_status st = ax_config_load(path, cfg, &d);
		if (st != AX_OK)
			print_error("%s:%d:%d: %s\n", path, d.line, d.col, d.msg);
		assert_int_equal(st, AX_OK);
		assert_string_equal(cfg->name, e->file);  /* from the file name */
		assert_int_equal(cfg->family, e->family);
		assert_int_equal(cfg->task, AX_TASK_TRANSLATION);
		assert_int_equal(cfg->embed_dim, e->d);
		assert_int_equal(cfg->norm, AX_NORM_POST);
		assert_false(cfg->final_norm);
		assert_int_equal(cfg->vocab_source, e->src);
		assert_int_equal(cfg->vocab_target, e->tgt);
		assert_int_equal(cfg->share, e->share);
		assert_false(cfg->adaptive.enabled);
		check_paper_stack(e, &cfg->encoder, false);
		check_paper_stack(e, &cfg->decoder, true);
		assert_int_equal(ax_config_validate(cfg, &d), AX_OK);

		/* Every paper config names its source in a leading comment. */
		FILE *f = fopen(path, "r");
		char first[256] = "";
		assert_non_null(f);
		assert_non_null(fgets(first, sizeof first, f));
		fclose(f);
		assert_int_equal(first[0], '#');
	}
	free(cfg);
}

/* The hash of iwslt14-transformer-128, computed independently (FNV-1a 64
 * over "archex-config-v1" then each field as 8 little-endian bytes, in
 * ax_config_hash's order) by a few lines of Python. */
static void test_hash_known_value(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_diag d;
	char path[512];
	assert_non_null(cfg);
	paper_path(path, sizeof path, "iwslt14-transformer-128");
	assert_int_equal(ax_config_load(path, cfg, &d), AX_OK);
	assert_true(ax_config_hash(cfg) == UINT64_C(0x36288e6521e1be74));
	free(cfg);
}

static void test_hash_stable_and_sensitive(void **state)
{
	(void)state;
	struct ax_config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	assert_non_null(a);
	assert_non_null(b);

	expect_ok(LITE, a);
	uint64_t h = ax_config_hash(a);
	expect_ok(LITE, b);
	assert_true(ax_config_hash(b) == h);

	/* The name is not part of the model. */
	snprintf(b->name, sizeof b->name, "other");
	assert_true(ax_config_hash(b) == h);

	/* Layers past `layers` are not part of the model either. */
	b->decoder.layer[AX_MAX_LAYERS - 1].ffn_dim = 7;
	assert_true(ax_config_hash(b) == h);

	/* One kernel of one layer changes it. */
	char *t = subst(LITE, "[3, 7, 15, 31, 31, 31]", "[3, 7, 15, 31, 31, 29]", 2);
	expect_ok(t, b);
	free(t);
	assert_true(ax_config_hash(b) != h);

	/* So do a boolean, an enum and a top-level width. */
	expect_ok(LITE, b);
	b->decoder.layer[2].glu = false;
	assert_true(ax_config_hash(b) != h);
	expect_ok(LITE, b);
	b->share = AX_SHARE_DECODER;
	assert_true(ax_config_hash(b) != h);
	expect_ok(LITE, b);
	b->embed_dim = 208;
	assert_true(ax_config_hash(b) != h);
	free(a);
	free(b);
}

/* ---- per-layer values ------------------------------------------------- */

static void test_per_layer_expansion(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);

	/* Scalars apply to every layer; a list may precede `layers`. */
	expect_ok("family: transformer\ntask: translation\nembed_dim: 64\n"
		  "norm: post\nvocab: {source: 10, target: 10, share: none}\n"
		  "encoder:\n"
		  "  attention_heads: [1, 2, 4]\n"
		  "  ffn_dim: 99\n"
		  "  layers: 3\n"
		  "decoder: {layers: 2, ffn_dim: [5, 6], attention_heads: 8}\n",
		  cfg);
	assert_int_equal(cfg->encoder.layers, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cfg->encoder.layer[i].ffn_dim, 99);
	assert_int_equal(cfg->encoder.layer[0].attention_heads, 1);
	assert_int_equal(cfg->encoder.layer[1].attention_heads, 2);
	assert_int_equal(cfg->encoder.layer[2].attention_heads, 4);
	assert_int_equal(cfg->encoder.layer[3].ffn_dim, 0);  /* untouched */
	assert_int_equal(cfg->decoder.layer[0].ffn_dim, 5);
	assert_int_equal(cfg->decoder.layer[1].ffn_dim, 6);
	assert_int_equal(cfg->decoder.layer[0].attention_heads, 8);
	assert_int_equal(cfg->decoder.layer[1].attention_heads, 8);

	/* Per-layer enums and booleans, in a LightConv model. */
	expect_ok(LIGHTCONV, cfg);
	assert_int_equal(cfg->encoder.layer[1].conv_type, AX_CONV_DYNAMIC);
	assert_int_equal(cfg->encoder.layer[0].kernel_size, 3);
	assert_int_equal(cfg->encoder.layer[1].kernel_size, 7);
	assert_int_equal(cfg->decoder.layer[1].conv_type, AX_CONV_LIGHTWEIGHT);
	assert_true(cfg->decoder.layer[1].glu);  /* allowed for lightconv */
	assert_int_equal(cfg->decoder.layer[1].kernel_size, 3);
	assert_int_equal(cfg->encoder.layer[0].attention_heads, 0);

	/* Heterogeneous lite layers (branch widths still sum to d). */
	char *t = subst(LITE, "    glu: true\n", "    glu: [true, true, false, true, true, true]\n", 1);
	char *t2 = subst(t, "    type: dynamic\n", "    type: [dynamic, dynamic, lightweight, dynamic, dynamic, dynamic]\n", 1);
	char *t3 = subst(t2, "    dim: 100\n    heads: 4\n    glu",
			 "    dim: [100, 100, 100, 100, 100, 80]\n    heads: 4\n    glu", 1);
	char *t4 = subst(t3, "    dim: 100\n    heads: 4\n  conv_branch",
			 "    dim: [100, 100, 100, 100, 100, 120]\n    heads: 4\n  conv_branch", 1);
	expect_ok(t4, cfg);
	assert_int_equal(cfg->encoder.layer[2].conv_type, AX_CONV_LIGHTWEIGHT);
	assert_false(cfg->encoder.layer[2].glu);
	assert_int_equal(cfg->encoder.layer[5].attention_dim, 120);
	assert_int_equal(cfg->encoder.layer[5].conv_dim, 80);
	assert_int_equal(cfg->encoder.layer[4].conv_dim, 100);
	assert_int_equal(cfg->decoder.layer[5].conv_dim, 100);
	free(t);
	free(t2);
	free(t3);
	free(t4);
	free(cfg);
}

static void test_language_model_and_evolved(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);

	expect_ok(LM, cfg);
	assert_int_equal(cfg->task, AX_TASK_LANGUAGE_MODEL);
	assert_int_equal(cfg->encoder.layers, 0);
	assert_int_equal(cfg->vocab_source, 0);
	assert_true(cfg->final_norm);
	assert_true(cfg->adaptive.enabled);
	assert_int_equal(cfg->adaptive.n_cutoffs, 2);
	assert_int_equal(cfg->adaptive.cutoff[0], 200);
	assert_int_equal(cfg->adaptive.cutoff[1], 600);
	assert_int_equal(cfg->adaptive.factor, 4);
	assert_true(cfg->adaptive.tie_weights);
	assert_true(cfg->adaptive.tie_proj);

	expect_ok(EVOLVED, cfg);
	assert_int_equal(cfg->family, AX_FAMILY_EVOLVED);
	assert_int_equal(cfg->encoder.layers, 3);
	assert_int_equal(cfg->decoder.layers, 4);
	assert_int_equal(cfg->decoder.layer[3].attention_heads, 4);
	assert_int_equal(cfg->decoder.layer[3].ffn_dim, 0);
	free(cfg);
}

static void test_name(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_diag d;
	assert_non_null(cfg);

	assert_int_equal(ax_config_load_string(TRANSFORMER, strlen(TRANSFORMER),
					       "some/dir/base-7.yaml", cfg, &d),
			 AX_OK);
	assert_string_equal(cfg->name, "base-7");
	expect_ok("name: \"my model\"\n" TRANSFORMER, cfg);
	assert_string_equal(cfg->name, "my model");

	char longname[200];
	memset(longname, 'x', sizeof longname);
	memcpy(longname, "name: ", 6);
	longname[6 + 128] = '\n';
	longname[6 + 129] = '\0';
	char *t = malloc(strlen(longname) + sizeof TRANSFORMER);
	assert_non_null(t);
	strcpy(t, longname);
	strcat(t, TRANSFORMER);
	EXPECT_ERROR(t, AX_ERR_LIMIT, 1, 7, "at most 127");
	free(t);
	EXPECT_ERROR("name: ''\n" TRANSFORMER, AX_ERR_INPUT, 1, 7,
		     "name must not be empty");
	free(cfg);
}

/* ---- JSON ------------------------------------------------------------- */

static char *json_of(const struct ax_config *cfg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	ax_config_write_json(f, cfg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_json(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg), *back = malloc(sizeof *back);
	assert_non_null(cfg);
	assert_non_null(back);

	expect_ok("name: 'a\"b\\c'\n" TRANSFORMER, cfg);
	char *j = json_of(cfg);
	assert_string_equal(j,
		"{\"name\":\"a\\\"b\\\\c\",\"family\":\"transformer\","
		"\"task\":\"translation\",\"embed_dim\":200,\"norm\":\"post\","
		"\"vocab\":{\"source\":100,\"target\":100,\"share\":\"all\"},"
		"\"encoder\":{\"layers\":2,\"ffn_dim\":[400,400],"
		"\"attention_heads\":[8,8]},"
		"\"decoder\":{\"layers\":2,\"ffn_dim\":[400,400],"
		"\"attention_heads\":[8,8]}}");
	free(j);

	expect_ok(LM, cfg);
	j = json_of(cfg);
	assert_non_null(strstr(j, "\"final_norm\":true,\"vocab\":{\"target\":1000,"
			       "\"share\":\"none\"},\"adaptive\":{\"cutoffs\":[200,600],"
			       "\"factor\":4,\"tie_weights\":true,\"tie_proj\":true}"));
	assert_null(strstr(j, "encoder"));
	free(j);

	/* Every paper config and the other families round-trip through JSON
	 * (JSON is YAML flow syntax) to the same hash and name. */
	const char *texts[] = { LITE, LM, EVOLVED, LIGHTCONV };
	for (size_t k = 0; k < sizeof paper / sizeof paper[0] + 4; k++) {
		struct ax_diag d;
		if (k < 4) {
			expect_ok(texts[k], cfg);
		} else {
			char path[512];
			paper_path(path, sizeof path, paper[k - 4].file);
			assert_int_equal(ax_config_load(path, cfg, &d), AX_OK);
		}
		j = json_of(cfg);
		assert_null(strchr(j, '\n'));
		enum ax_status st = ax_config_load_string(j, strlen(j), "x", back, &d);
		if (st != AX_OK)
			print_error("%s\n%d:%d: %s\n", j, d.line, d.col, d.msg);
		assert_int_equal(st, AX_OK);
		assert_string_equal(back->name, cfg->name);
		assert_true(ax_config_hash(back) == ax_config_hash(cfg));
		free(j);
	}
	free(cfg);
	free(back);
}

/* ---- YAML ------------------------------------------------------------- */

static char *yaml_of(const struct ax_config *cfg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	assert_non_null(f);
	ax_config_write_yaml(f, cfg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* A config loads back from its YAML to the same hash, name, train:
 * section and JSON; a per-layer field is one value when the layers agree
 * and a list when they differ. */
static void test_yaml(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg), *back = malloc(sizeof *back);
	assert_non_null(cfg);
	assert_non_null(back);
	struct ax_diag d;

	expect_ok("name: 'a\"b\\c'\n" TRANSFORMER "train:\n  lr: 1e-3\n", cfg);
	char *y = yaml_of(cfg);
	char want[2048];
	snprintf(want, sizeof want,
		"# the resolved config (archex); config hash %016" PRIx64 "\n"
		"name: \"a\\\"b\\\\c\"\nfamily: \"transformer\"\n"
		"task: \"translation\"\nembed_dim: 200\nnorm: \"post\"\n"
		"vocab:\n  source: 100\n  target: 100\n  share: \"all\"\n"
		"encoder:\n  layers: 2\n  ffn_dim: 400\n  attention_heads: 8\n"
		"decoder:\n  layers: 2\n  ffn_dim: 400\n  attention_heads: 8\n"
		"train:\n  lr: 0.001\n  warmup: 4000\n  warmup_init_lr: 0.0\n"
		"  beta1: 0.9\n  beta2: 0.98\n  adam_eps: 1e-08\n"
		"  weight_decay: 0.0001\n  clip_norm: 0.0\n  label_smoothing: 0.1\n"
		"  dropout: 0.1\n  attention_dropout: 0.0\n"
		"  activation_dropout: 0.0\n  weight_dropout: 0.0\n"
		"  input_dropout: 0.0\n  adaptive_softmax_dropout: 0.0\n"
		"  max_tokens: 4096\n  seed: 1\n",
		ax_config_hash(cfg));
	assert_string_equal(y, want);
	assert_int_equal(ax_config_load_string(y, strlen(y), "y", back, &d), AX_OK);
	assert_true(back->train.enabled && back->train.lr == 1e-3);
	assert_true(ax_config_recipe_hash(back) == ax_config_recipe_hash(cfg));
	free(y);

	cfg->decoder.layer[1].ffn_dim = 300;   /* layers that differ: a list */
	y = yaml_of(cfg);
	assert_non_null(strstr(y, "decoder:\n  layers: 2\n  ffn_dim: [400, 300]\n"));
	assert_int_equal(ax_config_load_string(y, strlen(y), "y", back, &d), AX_OK);
	assert_int_equal(back->decoder.layer[1].ffn_dim, 300);
	assert_true(ax_config_hash(back) == ax_config_hash(cfg));
	free(y);

	const char *texts[] = { LITE, LM, EVOLVED, LIGHTCONV };
	for (size_t k = 0; k < sizeof paper / sizeof paper[0] + 4; k++) {
		if (k < 4) {
			expect_ok(texts[k], cfg);
		} else {
			char path[512];
			paper_path(path, sizeof path, paper[k - 4].file);
			assert_int_equal(ax_config_load(path, cfg, &d), AX_OK);
		}
		y = yaml_of(cfg);
		enum ax_status st = ax_config_load_string(y, strlen(y), "y", back, &d);
		if (st != AX_OK)
			print_error("%s\n%d:%d: %s\n", y, d.line, d.col, d.msg);
		assert_int_equal(st, AX_OK);
		assert_string_equal(back->name, cfg->name);
		assert_true(ax_config_hash(back) == ax_config_hash(cfg));
		char *j1 = json_of(cfg), *j2 = json_of(back);
		assert_string_equal(j1, j2);
		free(j1);
		free(j2);
		free(y);
	}
	free(cfg);
	free(back);
}

/* ---- the train section ------------------------------------------------ */

/* TRANSFORMER with a partial train section (an integer for a float, a
 * fraction without a leading digit). */
#define TRAINED                                                           \
	TRANSFORMER                                                       \
	"train:\n"                                    /* 14 */            \
	"  lr: 1e-3\n"                                /* 15 */            \
	"  warmup: 100\n"                             /* 16 */            \
	"  dropout: 0\n"                              /* 17 */            \
	"  adam_eps: .5e-8\n"                         /* 18 */

static void test_train_section(void **state)
{
	(void)state;
	struct ax_config *cfg = calloc(3, sizeof *cfg), *plain = cfg + 1,
			 *back = cfg + 2;
	struct ax_diag d;
	assert_non_null(cfg);

	expect_ok(TRANSFORMER, plain);
	assert_false(plain->train.enabled);
	assert_true(plain->train.lr == 0.0);   /* absent: untouched */
	expect_ok(TRAINED, cfg);
	const struct ax_train_config *t = &cfg->train;
	assert_true(t->enabled);
	assert_true(t->lr == 1e-3);
	assert_int_equal(t->warmup, 100);
	assert_true(t->dropout == 0.0);
	assert_true(t->adam_eps == 0.5e-8);
	/* the rest are the defaults, those of archex train's flags */
	assert_true(t->beta1 == 0.9 && t->beta2 == 0.98);
	assert_true(t->weight_decay == 1e-4 && t->label_smoothing == 0.1);
	assert_true(t->clip_norm == 0.0 && t->warmup_init_lr == 0.0);
	assert_int_equal(t->max_tokens, 4096);
	assert_int_equal(t->seed, 1);

	/* the recipe is not the model; `train: {}` is the default recipe */
	assert_true(ax_config_hash(cfg) == ax_config_hash(plain));
	assert_true(ax_config_recipe_hash(cfg) != ax_config_recipe_hash(plain));
	expect_ok(TRANSFORMER "train: {}\n", back);
	assert_true(back->train.enabled);
	assert_true(ax_config_recipe_hash(back) == ax_config_recipe_hash(plain));
	assert_true(ax_config_hash(back) == ax_config_hash(plain));

	/* JSON: written back when present, shortest round-trip floats, and
	 * load -> write -> load gives the same config */
	char *j = json_of(cfg);
	assert_non_null(strstr(j, ",\"train\":{\"lr\":0.001,\"warmup\":100,"
			       "\"warmup_init_lr\":0.0,\"beta1\":0.9,\"beta2\":0.98,"
			       "\"adam_eps\":5e-09,"));
	assert_non_null(strstr(j, "\"max_tokens\":4096,\"seed\":1}}"));
	assert_int_equal(ax_config_load_string(j, strlen(j), "t", back, &d), AX_OK);
	assert_memory_equal(&back->train, &cfg->train, sizeof cfg->train);
	assert_true(ax_config_recipe_hash(back) == ax_config_recipe_hash(cfg));
	free(j);
	j = json_of(plain);
	assert_null(strstr(j, "train"));
	free(j);

	/* validate: code-built and changed configs are range-checked too */
	*back = *cfg;
	back->train.lr = NAN;
	assert_int_equal(ax_config_validate(back, &d), AX_ERR_INPUT);
	assert_non_null(strstr(d.msg, "train.lr is not finite, must be in 0..10"));
	back->train.lr = 1e-3;
	back->train.max_tokens = 1;
	assert_int_equal(ax_config_validate(back, &d), AX_ERR_INPUT);
	assert_non_null(strstr(d.msg, "train.max_tokens is 1, must be in 2.."));
	back->train.enabled = false;   /* an absent section is not checked */
	assert_int_equal(ax_config_validate(back, &d), AX_OK);
	free(cfg);
}

/* Float keys: exact line:col, status and message for each error class. */
static void test_err_float(void **state)
{
	(void)state;
	static const char *const not_number[] = { "abc", "1e", "0x1p-3", "1.2.3",
						  "1,5", "e5", "--1", "1e+" };
	for (size_t i = 0; i < sizeof not_number / sizeof not_number[0]; i++) {
		char repl[64];
		snprintf(repl, sizeof repl, "  lr: %s", not_number[i]);
		EXPECT_EDIT(TRAINED, "  lr: 1e-3", repl, 1, AX_ERR_INPUT, 15, 7,
			    "train.lr: expected a number, got '");
	}
	static const char *const nonfinite[] = { ".nan", ".NaN", "nan", ".inf",
						  "-.inf", "+.Inf", "inf",
						  "Infinity" };
	for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
		char repl[64];
		snprintf(repl, sizeof repl, "  dropout: %s", nonfinite[i]);
		EXPECT_EDIT(TRAINED, "  dropout: 0", repl, 1, AX_ERR_INPUT, 17, 12,
			    "is not a finite number");
	}
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr: '1e-3'", 1, AX_ERR_INPUT, 15, 7,
		    "train.lr: expected a number, got the quoted string '1e-3'");
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr: [1]", 1, AX_ERR_INPUT, 15, 7,
		    "train.lr: expected a number, got a sequence");
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr: 20", 1, AX_ERR_LIMIT, 15, 7,
		    "train.lr is 20, must be in 0..10");
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr: -0.5", 1, AX_ERR_INPUT, 15, 7,
		    "train.lr is -0.5, must be in 0..10");
	EXPECT_EDIT(TRAINED, "  dropout: 0", "  dropout: 0.995", 1, AX_ERR_LIMIT,
		    17, 12, "train.dropout is 0.995, must be in 0..0.99");
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr: 1e999", 1, AX_ERR_LIMIT, 15, 7,
		    "train.lr: 1e999 is beyond the range of a double");
	EXPECT_EDIT(TRAINED, "  lr: 1e-3", "  lr:", 1, AX_ERR_INPUT, 15, 3,
		    "train.lr has no value; expected a number");
	EXPECT_EDIT(TRAINED, "  warmup: 100", "  warmup: 1.5", 1, AX_ERR_INPUT,
		    16, 11, "train.warmup: expected an integer, got '1.5'");
	EXPECT_EDIT(TRAINED, "  warmup: 100", "  warmupp: 100", 1, AX_ERR_INPUT,
		    16, 3, "unknown key 'train.warmupp'; did you mean 'warmup'?");
	EXPECT_EDIT(TRAINED, "  dropout: 0", "  lr: 0.1", 1, AX_ERR_INPUT, 17, 3,
		    "duplicate key 'train.lr' (first given at line 15)");
	EXPECT_ERROR(TRANSFORMER "train: 5\n", AX_ERR_INPUT, 14, 8,
		     "train: expected a mapping, got '5'");
}

/* Every ```yaml block in docs/config.md loads. */
static void test_docs_examples(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof path, "%s/docs/config.md", AX_SOURCE_DIR);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t cap = (size_t)1 << 16;
	char *doc = malloc(cap);
	assert_non_null(doc);
	size_t n = fread(doc, 1, cap - 1, f);
	fclose(f);
	assert_true(n > 0 && n < cap - 1);
	doc[n] = '\0';

	struct ax_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);
	int blocks = 0;
	bool families[AX_FAMILY_COUNT] = { false };
	for (char *at = strstr(doc, "```yaml\n"); at; at = strstr(at, "```yaml\n")) {
		at += strlen("```yaml\n");
		char *end = strstr(at, "```\n");
		assert_non_null(end);
		struct ax_diag d;
		enum ax_status st = ax_config_load_string(at, (size_t)(end - at),
							  "docs", cfg, &d);
		if (st != AX_OK)
			print_error("docs block %d: %d:%d: %s\n", blocks, d.line,
				    d.col, d.msg);
		assert_int_equal(st, AX_OK);
		families[cfg->family] = true;
		blocks++;
		at = end;
	}
	assert_int_equal(blocks, 5);
	for (int i = 0; i < AX_FAMILY_COUNT; i++)
		assert_true(families[i]);
	free(cfg);
	free(doc);
}

/* ---- ax_config_validate ----------------------------------------------- */

static void expect_invalid(const struct ax_config *cfg, enum ax_status st,
			   const char *frag)
{
	struct ax_diag d;
	memset(&d, 0, sizeof d);
	assert_int_equal(ax_config_validate(cfg, &d), st);
	if (!strstr(d.msg, frag))
		print_error("message '%s' lacks '%s'\n", d.msg, frag);
	assert_non_null(strstr(d.msg, frag));
	assert_int_equal(d.line, 0);
	assert_int_equal(d.col, 0);
}

static void test_validate(void **state)
{
	(void)state;
	struct ax_config *base = malloc(sizeof *base), *c = malloc(sizeof *c);
	struct ax_diag d;
	assert_non_null(base);
	assert_non_null(c);
	expect_ok(LITE, base);
	assert_int_equal(ax_config_validate(base, &d), AX_OK);

	*c = *base;
	c->decoder.layer[3].attention_heads = 7;
	expect_invalid(c, AX_ERR_INPUT, "decoder.attention_heads[3] = 7 does not divide embed_dim = 200");
	*c = *base;
	c->encoder.layer[1].conv_dim = 104;
	expect_invalid(c, AX_ERR_INPUT, "encoder.conv_branch.dim[1]: the branch widths");
	*c = *base;
	c->encoder.layer[0].attention_branch_heads = 3;
	expect_invalid(c, AX_ERR_INPUT, "encoder.attention_branch.heads[0] = 3 does not divide");
	*c = *base;
	c->encoder.layer[0].ffn_dim = 0;
	expect_invalid(c, AX_ERR_INPUT, "encoder.ffn_dim[0] is 0, must be in 1..");
	*c = *base;
	c->decoder.layers = AX_MAX_LAYERS + 1;
	expect_invalid(c, AX_ERR_LIMIT, "decoder.layers is 65");
	*c = *base;
	c->family = AX_FAMILY_COUNT;
	expect_invalid(c, AX_ERR_INPUT, "family is 4, not a known value");
	*c = *base;
	c->encoder.layer[2].attention_heads = 4;  /* lite encoders have none */
	expect_invalid(c, AX_ERR_INPUT, "encoder.attention_heads[2] is set, but family lite");
	*c = *base;
	c->family = AX_FAMILY_TRANSFORMER;      /* branch fields now unused */
	for (int i = 0; i < 6; i++)
		c->encoder.layer[i].attention_heads = 8;
	expect_invalid(c, AX_ERR_INPUT, "encoder.attention_branch.dim[0] or .heads is set");
	*c = *base;
	c->task = AX_TASK_LANGUAGE_MODEL;
	expect_invalid(c, AX_ERR_INPUT, "a lite language_model is pre-norm");
	*c = *base;
	c->final_norm = true;
	expect_invalid(c, AX_ERR_INPUT, "final_norm: true needs norm: pre");
	*c = *base;
	c->adaptive.factor = 4;
	expect_invalid(c, AX_ERR_INPUT, "adaptive.enabled is false");
	*c = *base;
	c->name[sizeof c->name - 1] = 'x';
	memset(c->name, 'x', sizeof c->name);
	expect_invalid(c, AX_ERR_INPUT, "not NUL-terminated");
	free(base);
	free(c);
}

/* ---- error classes: syntax and document shape ------------------------- */

static void test_err_syntax(void **state)
{
	(void)state;
	EXPECT_ERROR("family: lite\n- x\n", AX_ERR_INPUT, 2, 1,
		     "YAML syntax error: did not find expected key");
	EXPECT_ERROR("family: lite\ntask: 'translation\n", AX_ERR_INPUT, 3, 1,
		     "found unexpected end of stream");
	EXPECT_ERROR("family: lite\ntask: [translation\n", AX_ERR_INPUT, 3, 1,
		     "did not find expected ',' or ']'");
}

static void test_err_tab(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "  layers: 6\n", "\tlayers: 6\n", 1, AX_ERR_INPUT, 10, 1,
		    "tab character");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim:\t200", 1, AX_ERR_INPUT, 3,
		    11, "tab character");
}

static void test_err_empty(void **state)
{
	(void)state;
	EXPECT_ERROR("", AX_ERR_INPUT, 1, 1, "the config is empty");
	EXPECT_ERROR("# nothing but a comment\n\n", AX_ERR_INPUT, 1, 1,
		     "the config is empty");
	EXPECT_ERROR("---\n", AX_ERR_INPUT, 1, 1, "the YAML document is empty");
	EXPECT_ERROR("# c\n---\n# c\n", AX_ERR_INPUT, 2, 1,
		     "the YAML document is empty");
	EXPECT_ERROR("- family\n- lite\n", AX_ERR_INPUT, 1, 1,
		     "the top level must be a mapping of keys, got a sequence");
	EXPECT_ERROR("\n  lite\n", AX_ERR_INPUT, 2, 3,
		     "the top level must be a mapping of keys, got a scalar");
	EXPECT_ERROR(LITE "---\n" LITE, AX_ERR_INPUT, 34, 1,
		     "a second YAML document");
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "  attention_heads: 8", "  atention_heads: 8", 1,
		    AX_ERR_INPUT, 24, 3,
		    "unknown key 'decoder.atention_heads'; did you mean 'attention_heads'?");
	EXPECT_EDIT(LITE, "    kernel_size:", "    kernel:", 2, AX_ERR_INPUT, 33, 5,
		    "unknown key 'decoder.conv_branch.kernel'; did you mean 'kernel_size'?");
	EXPECT_ERROR(LITE "colour: red\n", AX_ERR_INPUT, 34, 1,
		     "unknown key 'colour' (allowed here: name, family, task,");
	EXPECT_ERROR("[a]: 1\n", AX_ERR_INPUT, 1, 1, "keys must be plain strings");
}

static void test_err_duplicate_key(void **state)
{
	(void)state;
	EXPECT_ERROR(LITE "embed_dim: 200\n", AX_ERR_INPUT, 34, 1,
		     "duplicate key 'embed_dim' (first given at line 3)");
	EXPECT_EDIT(LITE, "    heads: 4\n    glu", "    heads: 4\n    heads: 4\n    glu",
		    1, AX_ERR_INPUT, 19, 5,
		    "duplicate key 'encoder.conv_branch.heads' (first given at line 18)");
}

static void test_err_wrong_type(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: [200]", 1, AX_ERR_INPUT, 3,
		    12, "embed_dim: expected an integer, got a sequence");
	EXPECT_EDIT(LITE, "glu: true", "glu: yes", 1, AX_ERR_INPUT, 19, 10,
		    "encoder.conv_branch.glu: expected a boolean (true or false), got 'yes'");
	EXPECT_EDIT(TRANSFORMER, "vocab: {source: 100, target: 100, share: all}",
		    "vocab: 5", 1, AX_ERR_INPUT, 5, 8,
		    "vocab: expected a mapping, got '5'");
	EXPECT_EDIT(LITE, "family: lite", "family: [lite]", 1, AX_ERR_INPUT, 1, 9,
		    "family: expected a string, got a sequence");
	EXPECT_EDIT(LITE, "kernel_size: [3, 7, 15, 31, 31, 31]", "kernel_size: {a: 1}",
		    1, AX_ERR_INPUT, 20, 18,
		    "expected an integer or a sequence of them, got a mapping");
	EXPECT_EDIT(LITE, "kernel_size: [3, 7, 15,", "kernel_size: [3, 7, x,", 1,
		    AX_ERR_INPUT, 20, 25,
		    "encoder.conv_branch.kernel_size[2]: expected an integer, got 'x'");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: \"200\"", 1, AX_ERR_INPUT,
		    3, 12, "expected an integer, got the quoted string '200'");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim:", 1, AX_ERR_INPUT, 3, 1,
		    "embed_dim has no value; expected an integer");
	EXPECT_EDIT(LM, "cutoffs: [200, 600]", "cutoffs: 200", 1, AX_ERR_INPUT, 10,
		    12, "adaptive.cutoffs: expected a sequence of integers");
	EXPECT_EDIT(LM, "cutoffs: [200, 600]", "cutoffs: [200, [600]]", 1,
		    AX_ERR_INPUT, 10, 18, "adaptive.cutoffs[1]: expected an integer");
}

static void test_err_enum(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "family: lite", "family: litee", 1, AX_ERR_INPUT, 1, 9,
		    "family: 'litee' is not one of: transformer, lite, lightconv, evolved");
	EXPECT_EDIT(LITE, "type: dynamic", "type: dynamics", 2, AX_ERR_INPUT, 29, 11,
		    "decoder.conv_branch.type: 'dynamics' is not one of: lightweight, dynamic");
	EXPECT_EDIT(LITE, "share: all", "share: both", 1, AX_ERR_INPUT, 8, 10,
		    "is not one of: none, decoder, all");
	EXPECT_EDIT(LITE, "task: translation", "task: lm", 1, AX_ERR_INPUT, 2, 7,
		    "is not one of: translation, language_model");
	EXPECT_EDIT(LITE, "norm: post", "norm: Post", 1, AX_ERR_INPUT, 4, 7,
		    "is not one of: post, pre");
}

static void test_err_integer_syntax(void **state)
{
	(void)state;
	static const char *const bad[] = { "2.5", "1e3", "0x10", "+", "12abc",
					   "200.0", "- 5" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char repl[64];
		snprintf(repl, sizeof repl, "embed_dim: %s", bad[i]);
		if (strcmp(bad[i], "- 5") == 0)  /* not even YAML here */
			EXPECT_EDIT(LITE, "embed_dim: 200", repl, 1, AX_ERR_INPUT,
				    3, 12, "block sequence entries are not allowed");
		else
			EXPECT_EDIT(LITE, "embed_dim: 200", repl, 1, AX_ERR_INPUT,
				    3, 12, "embed_dim: expected an integer, got '");
	}
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: 99999999999999999999", 1,
		    AX_ERR_LIMIT, 3, 12, "does not fit in a 64-bit integer");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: -99999999999999999999", 1,
		    AX_ERR_LIMIT, 3, 12, "does not fit in a 64-bit integer");
}

static void test_err_range(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: 0", 1, AX_ERR_INPUT, 3, 12,
		    "embed_dim is 0, must be in 1..1048576");
	EXPECT_EDIT(LITE, "  layers: 6", "  layers: -2", 1, AX_ERR_INPUT, 10, 11,
		    "encoder.layers is -2, must be in 1..64");
	EXPECT_EDIT(LITE, "  layers: 6", "  layers: 65", 2, AX_ERR_LIMIT, 22, 11,
		    "decoder.layers is 65, must be in 1..64");
	EXPECT_EDIT(LITE, "31, 31, 31]", "31, 31, 1024]", 1, AX_ERR_LIMIT, 20, 37,
		    "encoder.conv_branch.kernel_size[5] is 1024, must be in 1..1023");
	EXPECT_EDIT(LITE, "  target: 32768", "  target: 16777217", 1, AX_ERR_LIMIT,
		    7, 11, "vocab.target is 16777217, must be in 1..16777216");
	EXPECT_EDIT(LITE, "  ffn_dim: 200", "  ffn_dim: -1", 2, AX_ERR_INPUT, 23, 12,
		    "decoder.ffn_dim is -1");
	EXPECT_EDIT(LM, "cutoffs: [200, 600]",
		    "cutoffs: [1, 2, 3, 4, 5, 6, 7, 8, 9]", 1, AX_ERR_LIMIT, 10, 12,
		    "adaptive.cutoffs has 9 entries, at most 8");
	EXPECT_EDIT(LM, "cutoffs: [200, 600]", "cutoffs: []", 1, AX_ERR_INPUT, 10,
		    12, "adaptive.cutoffs must not be empty");
}

static void test_err_missing_key(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "family: lite\n", "", 1, AX_ERR_INPUT, 1, 1,
		    "missing required key 'family'");
	EXPECT_ERROR(LITE_HEAD LITE_ENC
		     "decoder:\n"
		     "  layers: 6\n"
		     "  ffn_dim: 200\n"
		     "  attention_heads: 8\n"
		     "  attention_branch: {dim: 100, heads: 4}\n",
		     AX_ERR_INPUT, 22, 3, "missing required key 'decoder.conv_branch'");
	EXPECT_EDIT(LITE, "  attention_heads: 8\n", "", 1, AX_ERR_INPUT, 22, 3,
		    "missing required key 'decoder.attention_heads' (the cross-attention heads");
	EXPECT_EDIT(LITE, "    glu: true\n", "", 2, AX_ERR_INPUT, 29, 5,
		    "missing required key 'decoder.conv_branch.glu'");
	EXPECT_EDIT(TRANSFORMER, "share: all}", "share: all}\nencoder2:\n", 1,
		    AX_ERR_INPUT, 6, 1, "unknown key 'encoder2'");
	EXPECT_EDIT(TRANSFORMER, "encoder:\n  layers: 2\n  ffn_dim: 400\n  attention_heads: 8\n",
		    "", 1, AX_ERR_INPUT, 1, 1,
		    "missing required key 'encoder' (task translation has an encoder");
	EXPECT_EDIT(TRANSFORMER, "norm: post", "norm: pre", 1, AX_ERR_INPUT, 1, 1,
		    "missing required key 'final_norm'");
	EXPECT_EDIT(TRANSFORMER, "target: 100, ", "", 1, AX_ERR_INPUT, 5, 8,
		    "missing required key 'vocab.target'");
	EXPECT_EDIT(LM, "  factor: 4\n", "", 1, AX_ERR_INPUT, 10, 3,
		    "missing required key 'adaptive.factor'");
	EXPECT_EDIT(LITE, "  layers: 6\n", "", 2, AX_ERR_INPUT, 22, 3,
		    "missing required key 'decoder.layers'");
}

static void test_err_list_length(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "[3, 7, 15, 31, 31, 31]", "[3, 7, 15, 31, 31]", 2,
		    AX_ERR_INPUT, 33, 18,
		    "decoder.conv_branch.kernel_size has 5 entries, but decoder.layers is 6");
	EXPECT_EDIT(LITE, "  ffn_dim: 200", "  ffn_dim: [1, 2, 3, 4, 5, 6, 7]", 1,
		    AX_ERR_INPUT, 11, 12, "encoder.ffn_dim has 7 entries");
	EXPECT_EDIT(LITE, "  ffn_dim: 200", "  ffn_dim: []", 1, AX_ERR_INPUT, 11, 12,
		    "encoder.ffn_dim has 0 entries");
}

static void test_err_divisibility(void **state)
{
	(void)state;
	EXPECT_EDIT(TRANSFORMER, "  attention_heads: 8", "  attention_heads: 3", 1,
		    AX_ERR_INPUT, 9, 20,
		    "encoder.attention_heads[0] = 3 does not divide embed_dim = 200");
	EXPECT_EDIT(TRANSFORMER, "  attention_heads: 8", "  attention_heads: [8, 16]", 2,
		    AX_ERR_INPUT, 13, 24,
		    "decoder.attention_heads[1] = 16 does not divide embed_dim = 200");
	EXPECT_EDIT(LITE, "  attention_heads: 8", "  attention_heads: 7", 1,
		    AX_ERR_INPUT, 24, 20, "decoder.attention_heads[0] = 7 does not divide");
	EXPECT_EDIT(LITE, "    heads: 4", "    heads: 3", 1, AX_ERR_INPUT, 14, 12,
		    "encoder.attention_branch.heads[0] = 3 does not divide "
		    "encoder.attention_branch.dim[0] = 100");
	EXPECT_EDIT(LITE, "    heads: 4", "    heads: 8", 4, AX_ERR_INPUT, 31, 12,
		    "decoder.conv_branch.heads[0] = 8 does not divide "
		    "decoder.conv_branch.dim[0] = 100");
	EXPECT_EDIT(LIGHTCONV, "dim: 64, heads: 4, glu: true, kernel_size: 3",
		    "dim: 64, heads: 5, glu: true, kernel_size: 3", 1, AX_ERR_INPUT,
		    14, 45, "decoder.conv.heads[0] = 5 does not divide decoder.conv.dim[0] = 64");
	/* Evolved: H = 10 divides 60, but H2 = min(2H, 16) = 16 does not. */
	char *t = subst(EVOLVED, "embed_dim: 128", "embed_dim: 60", 1);
	EXPECT_EDIT(t, "attention_heads: 4", "attention_heads: 10", 1, AX_ERR_INPUT,
		    12, 20, "gives H2 = max(min(2H, 16), H) = 16, which does not divide embed_dim = 60");
	free(t);
}

static void test_err_branch_sum(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "    dim: 100", "    dim: 120", 2, AX_ERR_INPUT, 17, 10,
		    "encoder.conv_branch.dim[0]: the branch widths attention_branch.dim + "
		    "conv_branch.dim = 100 + 120 must sum to embed_dim = 200");
	EXPECT_EDIT(LITE, "    dim: 100", "    dim: [100, 100, 100, 96, 100, 100]", 4,
		    AX_ERR_INPUT, 30, 26, "decoder.conv_branch.dim[3]: the branch widths");
}

static void test_err_irrelevant_key(void **state)
{
	(void)state;
	EXPECT_ERROR(LM "encoder: {layers: 1, ffn_dim: 8, attention_heads: 1}\n",
		     AX_ERR_INPUT, 18, 1,
		     "'encoder' is not allowed for family transformer, task language_model: "
		     "a language_model has no source side");
	EXPECT_EDIT(LM, "  target: 1000\n", "  source: 1000\n  target: 1000\n", 1,
		    AX_ERR_INPUT, 7, 3, "'vocab.source' is not allowed");
	EXPECT_EDIT(EVOLVED, "  layers: 3\n", "  layers: 3\n  ffn_dim: 512\n", 1,
		    AX_ERR_INPUT, 12, 3,
		    "'encoder.ffn_dim' is not allowed for family evolved, task translation: "
		    "family evolved fixes its inner widths");
	EXPECT_ERROR(TRANSFORMER "  conv: {type: dynamic, dim: 8, heads: 1, glu: false, kernel_size: 3}\n",
		     AX_ERR_INPUT, 14, 3, "only family lightconv has a conv block");
	EXPECT_EDIT(LITE, "  conv_branch:", "  conv:", 1, AX_ERR_INPUT, 15, 3,
		    "family lite configures its convolution under conv_branch");
	EXPECT_EDIT(LITE, "  ffn_dim: 200\n", "  ffn_dim: 200\n  attention_heads: 4\n", 1,
		    AX_ERR_INPUT, 12, 3, "a lite encoder has no full-width attention");
	EXPECT_EDIT(LIGHTCONV, "  ffn_dim: 128\n", "  ffn_dim: 128\n  attention_branch: {dim: 1, heads: 1}\n",
		    1, AX_ERR_INPUT, 9, 3, "only family lite has LSRA branches");
	EXPECT_EDIT(LITE, "norm: post\n", "norm: post\nfinal_norm: false\n", 1,
		    AX_ERR_INPUT, 5, 1, "norm: post stacks have no final LayerNorm");
	EXPECT_ERROR(TRANSFORMER "adaptive: {cutoffs: [5], factor: 2, tie_weights: true, tie_proj: true}\n",
		     AX_ERR_INPUT, 14, 1, "adaptive input and softmax are for task language_model only");
}

static void test_err_aliases(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: &d 200", 1, AX_ERR_INPUT, 3,
		    12, "aliases are not supported");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: *d", 1, AX_ERR_INPUT, 3, 12,
		    "aliases are not supported");
	/* Billion laughs stops at the first anchor, long before expansion. */
	EXPECT_ERROR("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		     "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		     AX_ERR_INPUT, 1, 4, "aliases are not supported");
	EXPECT_EDIT(LITE, "embed_dim: 200", "embed_dim: !!int 200", 1, AX_ERR_INPUT,
		    3, 12, "YAML tags (tag:yaml.org,2002:int) are not supported");
}

static void test_err_nesting_and_encoding(void **state)
{
	(void)state;
	char deep[128] = "a: ";
	memset(deep + 3, '[', 40);
	deep[43] = '\0';
	/* The root mapping is level 1, so the 16th '[' (column 19) is level 17. */
	EXPECT_ERROR(deep, AX_ERR_LIMIT, 1, 19, "nesting deeper than 16 levels");
	EXPECT_ERROR("family: lite\nname: \xff\n", AX_ERR_INPUT, 2, 7,
		     "unreadable text: invalid leading UTF-8 octet");
}

static void test_err_family_rules(void **state)
{
	(void)state;
	EXPECT_EDIT(LITE, "glu: true", "glu: true\n    type: lightweight", 1,
		    AX_ERR_INPUT, 20, 5,
		    "duplicate key 'encoder.conv_branch.type' (first given at line 16)");
	char *t = subst(LITE, "type: dynamic", "type: lightweight", 1);
	EXPECT_ERROR(t, AX_ERR_INPUT, 19, 10,
		     "encoder.conv_branch.glu[0]: glu: true with type: lightweight");
	free(t);
	EXPECT_EDIT(LITE, "  source: 32768", "  source: 8848", 1, AX_ERR_INPUT, 8, 10,
		    "vocab.share: all needs vocab.source == vocab.target, got 8848 and 32768");
	EXPECT_EDIT(LM, "share: none", "share: all", 1, AX_ERR_INPUT, 8, 10,
		    "vocab.share: all needs task translation");
	EXPECT_EDIT(LM, "share: none", "share: decoder", 1, AX_ERR_INPUT, 8, 10,
		    "vocab.share must be none with adaptive");
	EXPECT_EDIT(LM, "[200, 600]", "[600, 200]", 1, AX_ERR_INPUT, 10, 18,
		    "adaptive.cutoffs must ascend: [1] = 200 follows 600");
	EXPECT_EDIT(LM, "[200, 600]", "[200, 1000]", 1, AX_ERR_INPUT, 10, 18,
		    "adaptive.cutoffs[1] is 1000, must be in 1..999 (below vocab.target)");
	EXPECT_EDIT(LM, "factor: 4", "factor: 100", 1, AX_ERR_INPUT, 11, 11,
		    "adaptive.factor = 100 leaves band 1 with width embed_dim / factor^1 = 0");
	EXPECT_EDIT(LM, "tie_weights: true", "tie_weights: false", 1, AX_ERR_INPUT,
		    13, 13, "adaptive.tie_proj needs adaptive.tie_weights: true");
	EXPECT_EDIT(EVOLVED, "norm: pre\nfinal_norm: true\n", "norm: post\n", 1,
		    AX_ERR_INPUT, 4, 7, "family evolved is pre-norm");
	EXPECT_EDIT(EVOLVED, "final_norm: true", "final_norm: false", 1,
		    AX_ERR_INPUT, 5, 13, "final_norm must be true");
	EXPECT_EDIT(EVOLVED, "share: all", "share: none", 1, AX_ERR_INPUT, 9, 10,
		    "family evolved shares one embedding matrix");
	EXPECT_ERROR("family: evolved\ntask: language_model\nembed_dim: 128\n"
		     "norm: pre\nfinal_norm: true\nvocab: {target: 10, share: none}\n"
		     "decoder: {layers: 1, attention_heads: 4}\n",
		     AX_ERR_INPUT, 2, 7, "family evolved is encoder-decoder only");
}

/* ---- files ------------------------------------------------------------ */

struct tmpdir {
	char path[64];
};

static void make_tmpdir(struct tmpdir *t)
{
	snprintf(t->path, sizeof t->path, "/tmp/ax_test_config_XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_files(void **state)
{
	(void)state;
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_diag d;
	struct tmpdir t;
	char path[256];
	assert_non_null(cfg);
	make_tmpdir(&t);

	/* A good file: the name defaults to the base name without .yaml. */
	snprintf(path, sizeof path, "%s/my-model.yaml", t.path);
	write_file(path, LITE, strlen(LITE));
	assert_int_equal(ax_config_load(path, cfg, &d), AX_OK);
	assert_string_equal(cfg->name, "my-model");
	assert_int_equal(cfg->embed_dim, 200);

	/* A bad file: the diagnostic names the path with line and column. */
	char *bad = subst(LITE, "embed_dim: 200", "embed_dim: 2.5", 1);
	write_file(path, bad, strlen(bad));
	free(bad);
	assert_int_equal(ax_config_load(path, cfg, &d), AX_ERR_INPUT);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.col, 12);
	char line[1600];
	ax_diag_format(&d, line, sizeof line);
	assert_non_null(strstr(line, ":3:12: error: embed_dim: expected an integer"));
	unlink(path);

	/* Missing file. */
	memset(&d, 0, sizeof d);
	assert_int_equal(ax_config_load(path, cfg, &d), AX_ERR_IO);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 0);
	assert_non_null(strstr(d.msg, "cannot open for reading: No such file or directory"));

	/* A directory. */
	memset(&d, 0, sizeof d);
	assert_int_equal(ax_config_load(t.path, cfg, &d), AX_ERR_IO);
	assert_non_null(strstr(d.msg, "Is a directory"));

	/* Larger than 1 MiB: a comment that long is still refused. */
	size_t big = ((size_t)1 << 20) + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, ' ', big);
	text[0] = '#';
	snprintf(path, sizeof path, "%s/big.yaml", t.path);
	write_file(path, text, big);
	memset(&d, 0, sizeof d);
	assert_int_equal(ax_config_load(path, cfg, &d), AX_ERR_LIMIT);
	assert_non_null(strstr(d.msg, "larger than 1048576 bytes"));
	assert_int_equal(ax_config_load_string(text, big, "big", cfg, &d),
			 AX_ERR_LIMIT);
	/* Exactly 1 MiB is fine as far as size goes (and then empty). */
	write_file(path, text, big - 1);
	assert_int_equal(ax_config_load(path, cfg, &d), AX_ERR_INPUT);
	assert_non_null(strstr(d.msg, "the config is empty"));
	free(text);
	unlink(path);

	/* Unreadable (root reads anything, so only as a normal user). */
	if (geteuid() != 0) {
		snprintf(path, sizeof path, "%s/secret.yaml", t.path);
		write_file(path, LITE, strlen(LITE));
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(ax_config_load(path, cfg, &d), AX_ERR_IO);
		assert_non_null(strstr(d.msg, "Permission denied"));
		unlink(path);
	}
	assert_int_equal(rmdir(t.path), 0);
	free(cfg);
}

/* ---- robustness ------------------------------------------------------- */

/* Every prefix and many one-byte edits of real configs: no crash, no leak
 * (under ASan), and every failure carries a message and a sane position. */
static void test_truncations_and_mutations(void **state)
{
	(void)state;
	static const char edits[] = { '\0', ':', '[', '{', '&', '*', '-', '\n',
				      '"', '#', 'x', '9', '!', '|', '\t' };
	const char *texts[] = { LITE, LM, LIGHTCONV };
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_diag d;
	int failures = 0;
	assert_non_null(cfg);

	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		size_t len = strlen(texts[k]);
		char *buf = malloc(len);
		assert_non_null(buf);
		for (size_t n = 0; n <= len; n++) {
			memcpy(buf, texts[k], n);
			enum ax_status st = ax_config_load_string(buf, n, "t", cfg, &d);
			if (st != AX_OK) {
				failures++;
				assert_true(d.msg[0] != '\0');
				assert_true(d.line >= 1 && d.col >= 1);
			}
		}
		for (size_t i = 0; i < len; i++) {
			for (size_t e = 0; e < sizeof edits; e++) {
				memcpy(buf, texts[k], len);
				buf[i] = edits[e];
				enum ax_status st = ax_config_load_string(buf, len, "t", cfg, &d);
				if (st != AX_OK) {
					assert_true(d.msg[0] != '\0');
					assert_true(st == AX_ERR_INPUT || st == AX_ERR_LIMIT);
				}
			}
		}
		free(buf);
	}
	assert_true(failures > 0);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paper_configs),
		cmocka_unit_test(test_hash_known_value),
		cmocka_unit_test(test_hash_stable_and_sensitive),
		cmocka_unit_test(test_per_layer_expansion),
		cmocka_unit_test(test_language_model_and_evolved),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_train_section),
		cmocka_unit_test(test_err_float),
		cmocka_unit_test(test_docs_examples),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_tab),
		cmocka_unit_test(test_err_empty),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_wrong_type),
		cmocka_unit_test(test_err_enum),
		cmocka_unit_test(test_err_integer_syntax),
		cmocka_unit_test(test_err_range),
		cmocka_unit_test(test_err_missing_key),
		cmocka_unit_test(test_err_list_length),
		cmocka_unit_test(test_err_divisibility),
		cmocka_unit_test(test_err_branch_sum),
		cmocka_unit_test(test_err_irrelevant_key),
		cmocka_unit_test(test_err_aliases),
		cmocka_unit_test(test_err_nesting_and_encoding),
		cmocka_unit_test(test_err_family_rules),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_truncations_and_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
