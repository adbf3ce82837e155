/*
 * test_schema.c - the config schema (src/core/schema.h) against what it
 * generates and documents: every byte of the config structs belongs to a
 * row (or is padding), every row has a doc, a valid range and a tag where
 * a sweep can name it, the sweep path table has one path per row with the
 * row's range, the cache-key words cover every model row, the training
 * recipe's rows reach its hash and the point id but not the model's
 * hash, and docs/config.md's key tables list every row with its range or
 * values (and a train row's default).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgpath.h"
#include "config.h"
#include "schema.h"
#include "util.h"

/* Marks [off, off + size) of a struct of `total` bytes as a member's. */
static void cover(unsigned char *map, size_t total, size_t off, size_t size)
{
	assert_true(off + size <= total);
	for (size_t i = off; i < off + size; i++) {
		assert_int_equal(map[i], 0);   /* members do not overlap */
		map[i] = 1;
	}
}

/* Every byte not covered is padding: a run of fewer than 8 bytes that
 * ends at the struct's end or where a member starts. Generated structs
 * hold only rows, so this catches a row whose offset or size is wrong,
 * or a member added by hand outside the schema. */
static void assert_covered(const unsigned char *map, size_t total,
			   const char *what)
{
	size_t i = 0;
	while (i < total) {
		size_t gap = 0;
		while (i + gap < total && !map[i + gap])
			gap++;
		if (gap >= 8)
			fail_msg("%s: bytes %zu..%zu belong to no schema row", what,
				 i, i + gap - 1);
		i += gap + 1;
	}
}

static void cover_rows(unsigned char *map, size_t total,
		       enum ax_schema_list a, enum ax_schema_list b)
{
	for (int i = 0; i < ax_schema_n; i++) {
		const struct ax_schema_row *r = &ax_schema[i];
		if (r->list < a || r->list > b)
			continue;
		cover(map, total, r->offset, r->size);
		if (r->kind == AX_SK_LIST)
			cover(map, total, r->count_offset, sizeof(int));
	}
}

static void test_rows_cover_structs(void **state)
{
	(void)state;
	static unsigned char m[sizeof(struct ax_config)];

	memset(m, 0, sizeof m);
	cover_rows(m, sizeof(struct ax_layer_config), AX_SL_LAYER, AX_SL_CONV);
	assert_covered(m, sizeof(struct ax_layer_config), "ax_layer_config");

	memset(m, 0, sizeof m);
	cover_rows(m, sizeof(struct ax_stack_config), AX_SL_STACK, AX_SL_STACK);
	cover(m, sizeof(struct ax_stack_config),
	      offsetof(struct ax_stack_config, layer),
	      sizeof ((struct ax_stack_config *)0)->layer);
	assert_covered(m, sizeof(struct ax_stack_config), "ax_stack_config");

	memset(m, 0, sizeof m);
	cover_rows(m, sizeof(struct ax_adaptive_config), AX_SL_ADAPTIVE,
		   AX_SL_ADAPTIVE);
	cover(m, sizeof(struct ax_adaptive_config),
	      offsetof(struct ax_adaptive_config, enabled), sizeof(bool));
	assert_covered(m, sizeof(struct ax_adaptive_config), "ax_adaptive_config");

	memset(m, 0, sizeof m);
	cover_rows(m, sizeof(struct ax_train_config), AX_SL_TRAIN, AX_SL_TRAIN);
	cover(m, sizeof(struct ax_train_config),
	      offsetof(struct ax_train_config, enabled), sizeof(bool));
	assert_covered(m, sizeof(struct ax_train_config), "ax_train_config");

	memset(m, 0, sizeof m);
	cover_rows(m, sizeof(struct ax_config), AX_SL_IDENTITY, AX_SL_VOCAB);
	cover(m, sizeof(struct ax_config), offsetof(struct ax_config, adaptive),
	      sizeof(struct ax_adaptive_config));
	cover(m, sizeof(struct ax_config), offsetof(struct ax_config, encoder),
	      sizeof(struct ax_stack_config));
	cover(m, sizeof(struct ax_config), offsetof(struct ax_config, decoder),
	      sizeof(struct ax_stack_config));
	cover(m, sizeof(struct ax_config), offsetof(struct ax_config, train),
	      sizeof(struct ax_train_config));
	assert_covered(m, sizeof(struct ax_config), "ax_config");
}

static void test_rows_are_valid(void **state)
{
	(void)state;
	for (int i = 0; i < ax_schema_n; i++) {
		const struct ax_schema_row *r = &ax_schema[i];
		bool path = r->list != AX_SL_IDENTITY && r->list != AX_SL_ADAPTIVE;
		assert_non_null(r->key);
		assert_true(r->doc && strlen(r->doc) > 8);
		assert_true(r->min <= r->max);
		assert_true(r->rule >= 0 && r->rule < AX_RULE_COUNT);
		if (path)
			assert_true(r->tag && r->tag[0]);
		switch (r->kind) {
		case AX_SK_BOOL:
			assert_true(r->min == 0 && r->max == 1);
			assert_int_equal(r->size, sizeof(bool));
			break;
		case AX_SK_ENUM:
			assert_non_null(r->names);
			assert_int_equal(r->min, 0);
			for (int64_t v = 0; v <= r->max; v++)
				assert_true(r->names[v] && r->names[v][0]);
			assert_int_equal(r->size, sizeof(int));
			break;
		case AX_SK_I64:
			assert_true(r->min >= 0);
			assert_int_equal(r->size, sizeof(int64_t));
			if (r->list == AX_SL_TRAIN)
				assert_true(r->def >= r->min && r->def <= r->max);
			break;
		case AX_SK_F64:
			assert_true(isfinite(r->fmin) && isfinite(r->fmax));
			assert_true(r->fmin <= r->fmax);
			assert_true(r->fdef >= r->fmin && r->fdef <= r->fmax);
			assert_int_equal(r->size, sizeof(double));
			break;
		default:
			break;
		}
		/* every training key is optional: the section may be partial */
		if (r->list == AX_SL_TRAIN)
			assert_true(r->flags & AX_SF_OPTIONAL);
		/* per-layer rows belong to a group the family table knows */
		if (r->list >= AX_SL_LAYER && r->list <= AX_SL_CONV)
			assert_true(r->rule >= AX_RULE_FFN);
		for (int j = 0; j < i; j++)
			if (path && ax_schema[j].list != AX_SL_IDENTITY &&
			    ax_schema[j].list != AX_SL_ADAPTIVE)
				assert_string_not_equal(ax_schema[j].tag, r->tag);
	}
}

/* One path per row outside IDENTITY and ADAPTIVE (two for CONV rows), in
 * schema order with the CONV rows again (as `conv.*`) before the TRAIN
 * rows, with the row's type and range (0 allowed for AX_SF_ZERO). */
static void test_paths_follow_rows(void **state)
{
	(void)state;
	int k = 0;
	for (int pass = 0; pass < 3; pass++)
		for (int i = 0; i < ax_schema_n; i++) {
			const struct ax_schema_row *r = &ax_schema[i];
			bool conv = r->list == AX_SL_CONV;
			bool train = r->list == AX_SL_TRAIN;
			if (r->list == AX_SL_IDENTITY || r->list == AX_SL_ADAPTIVE ||
			    (pass == 0 && train) || (pass == 1 && !conv) ||
			    (pass == 2 && !train))
				continue;
			assert_true(k < ax_cfg_n_fields);
			const struct ax_cfg_field *f = &ax_cfg_fields[k++];
			const char *dot = strrchr(f->name, '.');
			assert_string_equal(dot ? dot + 1 : f->name, r->key);
			assert_int_equal(f->offset, r->offset);
			assert_string_equal(f->tag, r->tag);
			if (conv)
				assert_string_equal(f->map, pass ? "conv" : "conv_branch");
			if (train) {
				assert_int_equal(f->level, AX_CFG_TRAIN);
				assert_true(strncmp(f->name, "train.", 6) == 0);
			}
			if (r->kind == AX_SK_F64) {
				assert_int_equal(f->type, AX_CFG_F64);
				assert_true(f->fmin == r->fmin && f->fmax == r->fmax);
				continue;
			}
			assert_int_equal(f->max, r->max);
			assert_int_equal(f->min, (r->flags & AX_SF_ZERO) ? 0 : r->min);
		}
	assert_int_equal(k, ax_cfg_n_fields);
}

/* Changing any model row's value changes the key words (so the fast
 * evaluator's cache cannot mix up configs that differ in it). The
 * training recipe does not change a model's cost, so it is not in the
 * key (test_train_rows_reach_hashes covers it). */
static void test_words_cover_rows(void **state)
{
	(void)state;
	struct ax_config *a = calloc(2, sizeof *a), *b = a + 1;
	int64_t wa[AX_CONFIG_TOP_WORDS], wb[AX_CONFIG_TOP_WORDS];
	int64_t la[AX_CONFIG_LAYER_WORDS], lb[AX_CONFIG_LAYER_WORDS];

	assert_non_null(a);
	for (int i = 0; i < ax_schema_n; i++) {
		const struct ax_schema_row *r = &ax_schema[i];
		if (r->flags & AX_SF_LABEL || r->list == AX_SL_STACK ||
		    r->list == AX_SL_TRAIN)
			continue;
		memset(b, 0, sizeof *b);
		char *base = r->list >= AX_SL_LAYER ? (char *)&b->decoder.layer[0] :
			     r->list == AX_SL_ADAPTIVE ? (char *)&b->adaptive :
			     (char *)b;
		char *p = base + r->offset;
		if (r->kind == AX_SK_BOOL)
			*(bool *)p = true;
		else if (r->kind == AX_SK_ENUM)
			*(int *)p = 1;
		else
			*(int64_t *)p = 1;   /* I64, or a LIST's first slot */
		ax_config_top_words(a, wa);
		ax_config_top_words(b, wb);
		ax_config_layer_words(&a->decoder.layer[0], la);
		ax_config_layer_words(&b->decoder.layer[0], lb);
		assert_true(memcmp(wa, wb, sizeof wa) != 0 ||
			    memcmp(la, lb, sizeof la) != 0);
	}
	free(a);
}

/* A config with a train section at its defaults, then one row moved
 * inside its range: the recipe hash and the point-id words change, the
 * model hash does not. Without the section, the id words equal those of
 * a config that never had the train struct touched. */
static void test_train_rows_reach_hashes(void **state)
{
	(void)state;
	struct ax_config *a = calloc(3, sizeof *a), *b = a + 1, *c = a + 2;

	assert_non_null(a);
	a->train.enabled = true;
	ax_config_train_default(&a->train);
	/* absent: the defaults' recipe, the id of an untouched config */
	assert_true(ax_config_recipe_hash(a) == ax_config_recipe_hash(c));
	assert_true(ax_config_mix(1, c) != ax_config_mix(1, a));
	for (int i = 0; i < ax_schema_n; i++) {
		const struct ax_schema_row *r = &ax_schema[i];
		if (r->list != AX_SL_TRAIN)
			continue;
		*b = *a;
		char *p = (char *)&b->train + r->offset;
		if (r->kind == AX_SK_F64)
			*(double *)p = r->fdef != r->fmax ? r->fmax : r->fmin;
		else
			*(int64_t *)p = r->def != r->max ? r->max : r->min;
		assert_true(ax_config_hash(b) == ax_config_hash(a));
		assert_true(ax_config_recipe_hash(b) != ax_config_recipe_hash(a));
		assert_true(ax_config_mix(1, b) != ax_config_mix(1, a));
		/* an absent section hides whatever its struct holds */
		b->train.enabled = false;
		assert_true(ax_config_mix(1, b) == ax_config_mix(1, c));
		assert_true(ax_config_recipe_hash(b) == ax_config_recipe_hash(c));
	}
	free(a);
}

/* The keys of a train section at its defaults, pinned: results trained
 * before a row was added keep their recipe hash and point id only if the
 * new row is AX_SF_SPARSE (joins the keys only when set). These are the
 * values of archex before input_dropout and adaptive_softmax_dropout. */
static void test_train_keys_pinned(void **state)
{
	(void)state;
	struct ax_config *a = calloc(1, sizeof *a);

	assert_non_null(a);
	a->train.enabled = true;
	ax_config_train_default(&a->train);
	assert_true(ax_config_recipe_hash(a) == UINT64_C(0x43c1ef11c5e0af6d));
	assert_true((uint64_t)ax_config_mix(1, a) == UINT64_C(0x8d42a1f20661566a));
	free(a);
}

static char *read_docs(void)
{
	FILE *f = fopen(AX_SOURCE_DIR "/docs/config.md", "rb");
	assert_non_null(f);
	static char buf[1 << 17];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	assert_true(n < sizeof buf - 1);
	buf[n] = '\0';
	return buf;
}

/* Where the table of a list's keys starts in docs/config.md. */
static const char *const doc_section[AX_SL_COUNT] = {
	[AX_SL_IDENTITY] = "### Top level",
	[AX_SL_ROOT] = "### Top level",
	[AX_SL_VOCAB] = "### `vocab`",
	[AX_SL_ADAPTIVE] = "### `adaptive`",
	[AX_SL_STACK] = "### `encoder` and `decoder`",
	[AX_SL_LAYER] = "### `encoder` and `decoder`",
	[AX_SL_ATT_BRANCH] = "`attention_branch` (lite):",
	[AX_SL_CONV] = "`conv_branch` (lite) and `conv` (lightconv)",
	[AX_SL_TRAIN] = "### `train`",
};

/* docs/config.md has a row "| `key` | ..." in its list's table, which
 * gives an integer's range as min..max spelled as in the schema and
 * names every value of an enum. */
static void test_docs_list_every_row(void **state)
{
	(void)state;
	const char *docs = read_docs();

	for (int i = 0; i < ax_schema_n; i++) {
		const struct ax_schema_row *r = &ax_schema[i];
		char head[96], want[128];
		const char *sec = strstr(docs, doc_section[r->list]);
		if (!sec)
			fail_msg("docs/config.md has no section '%s'",
				 doc_section[r->list]);
		snprintf(head, sizeof head, "\n| `%s` |", r->key);
		const char *row = strstr(sec, head);
		if (!row)
			fail_msg("docs/config.md: no row for `%s` after '%s'", r->key,
				 doc_section[r->list]);
		const char *end = strchr(row + 1, '\n');
		size_t len = end ? (size_t)(end - row) : strlen(row);
		char line[2048];
		snprintf(line, sizeof line, "%.*s", (int)len, row);
		if (r->kind == AX_SK_I64 || r->kind == AX_SK_LIST ||
		    r->kind == AX_SK_F64) {
			snprintf(want, sizeof want, "%s..%s", r->min_text, r->max_text);
			if (!strstr(line, want))
				fail_msg("docs/config.md: the row of `%s` does not give "
					 "its range %s", r->key, want);
		}
		if (r->list == AX_SL_TRAIN) {
			if (r->kind == AX_SK_F64)
				snprintf(want, sizeof want, "| `%g` |", r->fdef);
			else
				snprintf(want, sizeof want, "| `%lld` |", (long long)r->def);
			if (!strstr(line, want))
				fail_msg("docs/config.md: the row of `%s` does not give "
					 "its default as %s", r->key, want);
		}
		for (int64_t v = 0; r->kind == AX_SK_ENUM && v <= r->max; v++) {
			snprintf(want, sizeof want, "`%s`", r->names[v]);
			if (!strstr(line, want))
				fail_msg("docs/config.md: the row of `%s` does not name %s",
					 r->key, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_cover_structs),
		cmocka_unit_test(test_rows_are_valid),
		cmocka_unit_test(test_paths_follow_rows),
		cmocka_unit_test(test_words_cover_rows),
		cmocka_unit_test(test_train_rows_reach_hashes),
		cmocka_unit_test(test_train_keys_pinned),
		cmocka_unit_test(test_docs_list_every_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
