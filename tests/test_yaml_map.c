/*
 * test_yaml_map.c - the shared YAML mapping helpers (src/core/yaml_map.h)
 * and the messages of the two loaders built on them, byte for byte:
 *   - the two hint rules: nearest under distance 4 (sweep files) and the
 *     scaled rule with prefixes (model configs), ties to the first key;
 *   - ax_ymap_check_keys and ax_ymap_get_f64 on a document of their own;
 *   - unknown key (with and without a hint), duplicate key, wrong type
 *     and missing key, through ax_config_load_string and
 *     ax_sweep_load_string: each message equals the one the loaders gave
 *     before they shared the helpers (their own walkers, commit a251852).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "sweep.h"
#include "yaml_map.h"

#define BASE AX_SOURCE_DIR "/configs/paper/wmt-transformer-128.yaml"

static void test_hints(void **state)
{
	(void)state;
	static const char *const keys[] = { "strategy", "seed", "n", "embed_dim",
					    "encoder", "decoder" };
	size_t n = sizeof keys / sizeof keys[0];
	const char *h;
	h = ax_ymap_closest("stratgy", 7, keys, n, AX_YMAP_HINT_NEAR);
	assert_string_equal(h, "strategy");
	assert_null(ax_ymap_closest("zzzzzzzz", 8, keys, n, AX_YMAP_HINT_NEAR));
	h = ax_ymap_closest("sed", 3, keys, n, AX_YMAP_HINT_NEAR);
	assert_string_equal(h, "seed");   /* distance 1, before "n" at 3 */
	/* the scaled rule: a 3+ byte prefix counts whatever the distance */
	h = ax_ymap_closest("embed", 5, keys, n, AX_YMAP_HINT_SCALED);
	assert_string_equal(h, "embed_dim");
	h = ax_ymap_closest("embed", 5, keys, n, AX_YMAP_HINT_NEAR);
	assert_string_equal(h, "seed");   /* distance 3; embed_dim is 4 away */
	h = ax_ymap_closest("decodr", 6, keys, n, AX_YMAP_HINT_SCALED);
	assert_string_equal(h, "decoder");   /* ties: encoder is 2 away */
	assert_null(ax_ymap_closest("x", 1, keys, n, AX_YMAP_HINT_SCALED));
	char longkey[80];
	memset(longkey, 'e', sizeof longkey);
	memcpy(longkey, "embed_dim", 9);
	assert_null(ax_ymap_closest(longkey, 65, keys, n, AX_YMAP_HINT_SCALED));
}

/* Parses text into doc; returns its root mapping. */
static yaml_node_t *parse(yaml_document_t *doc, const char *text)
{
	yaml_parser_t p;
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	assert_true(yaml_parser_load(&p, doc));
	yaml_parser_delete(&p);
	return yaml_document_get_root_node(doc);
}

static void test_check_keys_and_numbers(void **state)
{
	(void)state;
	static const char *const keys[] = { "rate", "name", NULL };
	struct ax_diag d = { 0 };
	yaml_document_t doc;
	struct ax_ymap y = { .doc = &doc, .file = "m.yaml", .d = &d };
	yaml_node_t *root = parse(&doc, "name: a\nrate: 0.5\n");
	assert_int_equal(ax_ymap_check_keys(&y, root, "m", keys), AX_OK);
	double v = 0;
	assert_int_equal(ax_ymap_get_f64(&y, ax_ymap_lookup(&y, root, "rate"), "rate",
					 0, 1, &v), AX_OK);
	assert_true(v == 0.5);
	assert_null(ax_ymap_lookup(&y, root, "rates"));
	assert_int_equal(ax_ymap_get_f64(&y, ax_ymap_lookup(&y, root, "name"), "name",
					 0, 1, &v), AX_ERR_INPUT);
	assert_string_equal(d.msg, "name must be a number, not 'a'");
	assert_int_equal(d.line, 1);
	assert_int_equal(d.col, 7);
	yaml_document_delete(&doc);

	root = parse(&doc, "name: a\nrat: [1]\nname: b\n");
	assert_int_equal(ax_ymap_check_keys(&y, root, "m", keys), AX_ERR_INPUT);
	assert_string_equal(d.msg, "unknown key 'rat' in m; did you mean 'rate'?");
	assert_int_equal(ax_ymap_get_f64(&y, ax_ymap_lookup(&y, root, "rat"), "rat",
					 0, 1, &v), AX_ERR_INPUT);
	assert_string_equal(d.msg, "rat must be a number, not a list");
	yaml_document_delete(&doc);
	root = parse(&doc, "name: a\nrate: 2\nname: b\n");
	assert_int_equal(ax_ymap_check_keys(&y, root, "m", keys), AX_ERR_INPUT);
	assert_string_equal(d.msg, "duplicate key 'name' in m");
	assert_int_equal(d.line, 3);
	assert_int_equal(ax_ymap_get_f64(&y, ax_ymap_lookup(&y, root, "rate"), "rate",
					 0, 1, &v), AX_ERR_INPUT);
	assert_string_equal(d.msg, "rate = 2 is outside 0..1");
	yaml_document_delete(&doc);
}

static void config_error(const char *text, const char *want)
{
	static struct ax_config cfg;
	struct ax_diag d = { 0 };
	char got[1400];
	assert_int_equal(ax_config_load_string(text, strlen(text), "c.yaml", &cfg, &d),
			 AX_ERR_INPUT);
	ax_diag_format(&d, got, sizeof got);
	assert_string_equal(got, want);
}

static void sweep_error(const char *search, const char *family, const char *want)
{
	char text[1024], got[1400];
	snprintf(text, sizeof text, "name: s\n%sfamilies:\n  - name: t\n%s"
		 "    axes: {embed_dim: [128]}\n", search, family);
	struct ax_sweep *sw = calloc(1, sizeof *sw);
	assert_non_null(sw);
	struct ax_diag d = { 0 };
	assert_int_equal(ax_sweep_load_string(sw, text, strlen(text), "s.yaml", NULL,
					      NULL, &d), AX_ERR_INPUT);
	free(sw);
	ax_diag_format(&d, got, sizeof got);
	assert_string_equal(got, want);
}

#define TASK "family: transformer\ntask: translation\n"
#define REST "norm: post\nvocab: {source: 100, target: 100, share: all}\n"     \
	"encoder: {layers: 1, ffn_dim: 4, attention_heads: 1}\n"               \
	"decoder: {layers: 1, ffn_dim: 4, attention_heads: 1}\n"

static void test_loader_messages(void **state)
{
	(void)state;
	/* the model config loader */
	config_error(TASK "embed_dimm: 200\n", "c.yaml:3:1: error: unknown key "
		     "'embed_dimm'; did you mean 'embed_dim'?");
	config_error(TASK "embed: 1\n", "c.yaml:3:1: error: unknown key 'embed'; "
		     "did you mean 'embed_dim'?");
	config_error(TASK "zzz: 1\n", "c.yaml:3:1: error: unknown key 'zzz' (allowed "
		     "here: name, family, task, embed_dim, norm, final_norm, vocab, "
		     "adaptive, encoder, decoder, train)");
	config_error(TASK "norm: post\nnorm: pre\n", "c.yaml:4:1: error: duplicate "
		     "key 'norm' (first given at line 3)");
	config_error(TASK "embed_dim: [1]\n" REST, "c.yaml:3:12: error: embed_dim: "
		     "expected an integer, got a sequence");
	config_error(TASK REST, "c.yaml:1:1: error: missing required key 'embed_dim'");
	/* the sweep loader */
	const char *base = "    base: " BASE "\n";
	sweep_error("search: {stratgy: grid}\n", base, "s.yaml:2:10: error: unknown "
		    "key 'stratgy' in search; did you mean 'strategy'?");
	sweep_error("search: {zzzzzzzz: grid}\n", base, "s.yaml:2:10: error: unknown "
		    "key 'zzzzzzzz' in search");
	sweep_error("search: {n: 3, n: 4}\n", base, "s.yaml:2:16: error: duplicate "
		    "key 'n' in search");
	sweep_error("search: {strategy: evolution, mutation_prob: [1]}\n", base,
		    "s.yaml:2:46: error: mutation_prob must be a number, not a list");
	sweep_error("search: {strategy: evolution, mutation_prob: abc}\n", base,
		    "s.yaml:2:46: error: mutation_prob must be a number, not 'abc'");
	sweep_error("search: {strategy: evolution, mutation_prob: 2}\n", base,
		    "s.yaml:2:46: error: mutation_prob = 2 is outside 0..1");
	sweep_error("", "", "s.yaml:3:5: error: a family needs a base config");
	sweep_error("objectives: [{minimize: valid_los}]\n", base, "s.yaml:2:25: "
		    "error: unknown objective 'valid_los'; did you mean 'valid_loss'?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hints),
		cmocka_unit_test(test_check_keys_and_numbers),
		cmocka_unit_test(test_loader_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
