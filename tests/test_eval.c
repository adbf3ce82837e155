/*
 * test_eval.c - `archex eval` (src/eval/eval.h) on tiny datasets written
 * here with ax_tokens_write and a manifest:
 *   - the loss of a translation split equals the sum of ax_score over
 *     its pairs, source and target each with eos appended, with the same
 *     random weights; the counts, bits and perplexity follow from it;
 *   - a language model's per-word figures use the raw text's words plus
 *     one eos per sentence, and its loss equals `archex run`'s scoring of
 *     each sentence with eos (through the CLI, same seed);
 *   - the bad inputs: a manifest checksum mismatch (through the CLI), a
 *     vocabulary larger than the model's, a task mismatch, an empty
 *     split, a missing sentencepiece model, raw text of the wrong length.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_run.h"
#include "dataset.h"
#include "decode.h"
#include "eval.h"
#include "exec.h"
#include "model.h"
#include "test_tmpdir.h"

static char out[1 << 16], err[1 << 16];

static const char mt_yaml[] =
	"name: eval-mt\nfamily: transformer\ntask: translation\nembed_dim: 24\n"
	"norm: pre\nfinal_norm: true\nvocab: {source: 41, target: 41, share: all}\n"
	"encoder: {layers: 2, ffn_dim: 48, attention_heads: 3}\n"
	"decoder: {layers: 2, ffn_dim: 48, attention_heads: 3}\n";
static const char lm_yaml[] =
	"name: eval-lm\nfamily: lite\ntask: language_model\nembed_dim: 32\n"
	"norm: pre\nfinal_norm: false\nvocab: {target: 45, share: decoder}\n"
	"decoder:\n  layers: 2\n  ffn_dim: 32\n"
	"  attention_branch: {dim: 16, heads: 4}\n"
	"  conv_branch: {type: dynamic, dim: 16, heads: 4, glu: true, kernel_size: [3, 15]}\n";

/* valid: three sentences per side; train and test one each */
static const uint64_t src_off[] = { 0, 3, 4, 8 };
static const uint32_t src_id[] = { 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint64_t tgt_off[] = { 0, 2, 5, 6 };
static const uint32_t tgt_id[] = { 13, 14, 15, 16, 17, 18 };
/* four words, two, three: 9 words + 3 eos */
static const char valid_txt[] = "In the beginning God\nhello  world\n a b c\n";

static int make_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("eval");
}

static int remove_dir(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

struct ds_spec {
	bool lm;
	int64_t vocab;
	int64_t valid_n;           /* 3, or 0 for an empty split */
	const char *txt;           /* valid.tgt.txt, or NULL */
	bool bad_sum;              /* a wrong SHA-256 for valid.tgt.bin */
};

/* One manifest "files" entry for DIR/name. */
static void manifest_file(FILE *m, const char *dir, const char *name,
			  bool first, bool bad)
{
	char path[700], hex[65];
	struct ax_diag d = { 0 };
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ax_sha256_file(path, hex, &d), AX_OK);
	if (bad)
		hex[0] = hex[0] == '0' ? '1' : '0';
	fprintf(m, "%s\"%s\": {\"bytes\": %lld, \"sha256\": \"%s\"}", first ? "" : ", ",
		name, (long long)st.st_size, hex);
}

/* Writes TMPDIR/sub as a dataset directory; returns its path in dir. */
static void write_ds(const char *sub, const struct ds_spec *s, char *dir, size_t size)
{
	char path[700];
	struct ax_diag d = { 0 };
	snprintf(dir, size, "%s/%s", tmpdir, sub);
	assert_int_equal(mkdir(dir, 0777), 0);
	int sides = s->lm ? 1 : 2;
	for (int sp = 0; sp < AX_SPLIT_COUNT; sp++)
		for (int side = 0; side < sides; side++) {
			bool tgt = s->lm || side == 1;
			int64_t n = sp == AX_SPLIT_VALID ? s->valid_n : 1;
			snprintf(path, sizeof path, "%s/%s.%s.bin", dir,
				 ax_data_split_names[sp], tgt ? "tgt" : "src");
			assert_int_equal(ax_tokens_write(path, n, tgt ? tgt_off : src_off,
							 tgt ? tgt_id : src_id, &d), AX_OK);
		}
	if (s->txt) {
		snprintf(path, sizeof path, "%s/valid.tgt.txt", dir);
		FILE *t = fopen(path, "w");
		assert_non_null(t);
		fputs(s->txt, t);
		fclose(t);
	}
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	FILE *m = fopen(path, "w");
	assert_non_null(m);
	fprintf(m, "{\"format\": \"archex-dataset\", \"version\": 1, \"name\": \"%s\","
		" \"task\": \"%s\", \"vocab\": {", sub, s->lm ? "language_model" : "translation");
	if (!s->lm)
		fprintf(m, "\"source\": %lld, ", (long long)s->vocab);
	fprintf(m, "\"target\": %lld}, \"splits\": {", (long long)s->vocab);
	for (int sp = 0; sp < AX_SPLIT_COUNT; sp++) {
		int64_t n = sp == AX_SPLIT_VALID ? s->valid_n : 1;
		fprintf(m, "%s\"%s\": {\"sentences\": %lld, ", sp ? ", " : "",
			ax_data_split_names[sp], (long long)n);
		if (!s->lm)
			fprintf(m, "\"source_tokens\": %lld, ", (long long)src_off[n]);
		fprintf(m, "\"target_tokens\": %lld}", (long long)tgt_off[n]);
	}
	fprintf(m, "}, \"files\": {");
	bool first = true;
	for (int sp = 0; sp < AX_SPLIT_COUNT; sp++)
		for (int side = 0; side < sides; side++) {
			bool tgt = s->lm || side == 1;
			snprintf(path, sizeof path, "%s.%s.bin", ax_data_split_names[sp],
				 tgt ? "tgt" : "src");
			manifest_file(m, dir, path, first,
				      s->bad_sum && sp == AX_SPLIT_VALID && tgt);
			first = false;
		}
	if (s->txt)
		manifest_file(m, dir, "valid.tgt.txt", false, false);
	fprintf(m, "}}\n");
	fclose(m);
}

static void write_text(const char *name, const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

struct model {
	struct ax_config cfg;
	struct ax_graph g;
};

static struct model *load_model(const char *yaml)
{
	struct model *m = malloc(sizeof *m);
	struct ax_diag d = { 0 };
	assert_non_null(m);
	assert_int_equal(ax_config_load_string(yaml, strlen(yaml), "test.yaml",
					       &m->cfg, &d), AX_OK);
	ax_graph_init(&m->g);
	assert_int_equal(ax_model_build(&m->cfg, &m->g, &d), AX_OK);
	return m;
}

static void free_model(struct model *m)
{
	ax_graph_free(&m->g);
	free(m);
}

static enum ax_status eval_ds(const struct model *m, const char *dir, bool decode,
			      struct ax_eval_result *r, struct ax_diag *d)
{
	struct ax_dataset *ds = malloc(sizeof *ds);
	assert_non_null(ds);
	enum ax_status st = ax_dataset_open(dir, true, ds, d);
	struct ax_eval_opts o = { .split = AX_SPLIT_VALID, .seed = 7,
				  .decode = decode, .beam = 2, .lenpen = 1,
				  .max_len_b = 10 };
	if (st == AX_OK)
		st = ax_eval_run(&m->g, ds, &o, r, d);
	free(ds);
	return st;
}

/* sum over valid of log p(tgt + eos | src + eos), or of the LM sentence
 * with eos, through ax_score on its own executor (seed 7) */
static double reference_loglik(const struct model *m, bool lm)
{
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_exec_opts eo = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = lm ? 0 : 8, .max_tgt = 8 };
	assert_int_equal(ax_exec_init(&x, &m->g, &eo, &d), AX_OK);
	ax_exec_init_weights(&x, 7);
	double total = 0;
	for (int i = 0; i < 3; i++) {
		int32_t s[8], y[8], scratch[8];
		int64_t S = 0, T = 0;
		for (uint64_t k = src_off[i]; k < src_off[i + 1]; k++)
			s[S++] = (int32_t)src_id[k];
		s[S++] = AX_TOKEN_EOS;
		for (uint64_t k = tgt_off[i]; k < tgt_off[i + 1]; k++)
			y[T++] = (int32_t)tgt_id[k];
		y[T++] = AX_TOKEN_EOS;
		double ll;
		assert_int_equal(ax_score(&x, lm ? NULL : s, lm ? 0 : S, y, T, scratch,
					  &ll, &d), AX_OK);
		total += ll;
	}
	ax_exec_free(&x);
	return total;
}

static void test_translation_loss(void **state)
{
	(void)state;
	char dir[600];
	struct ds_spec s = { .vocab = 30, .valid_n = 3 };
	write_ds("mt", &s, dir, sizeof dir);
	struct model *m = load_model(mt_yaml);
	struct ax_eval_result r;
	struct ax_diag d = { 0 };
	assert_int_equal(eval_ds(m, dir, false, &r, &d), AX_OK);
	assert_int_equal(r.sentences, 3);
	assert_int_equal(r.tokens, 6 + 3);       /* targets with eos */
	assert_int_equal(r.src_tokens, 8 + 3);   /* sources with eos */
	double ref = -reference_loglik(m, false);
	assert_true(fabs(r.nll - ref) <= 1e-9 * fabs(ref));
	assert_true(fabs(r.loss - ref / 9) < 1e-12);
	assert_true(fabs(r.loss_base2 - r.loss / log(2.0)) < 1e-12);
	assert_true(fabs(r.perplexity - exp(r.loss)) < 1e-9 * r.perplexity);
	assert_false(r.decoded);
	assert_int_equal(r.words, 0);
	free_model(m);
}

/* The "nll" or "loglik" member of a JSON record printed by the CLI. */
static double json_number(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(text, pat);
	assert_non_null(p);
	return strtod(p + strlen(pat), NULL);
}

static void test_lm_words_and_cli(void **state)
{
	(void)state;
	char dir[600], cfg[600];
	struct ds_spec s = { .lm = true, .vocab = 40, .valid_n = 3, .txt = valid_txt };
	write_ds("lm", &s, dir, sizeof dir);
	struct model *m = load_model(lm_yaml);
	struct ax_eval_result r;
	struct ax_diag d = { 0 };
	assert_int_equal(eval_ds(m, dir, true, &r, &d), AX_OK);
	assert_int_equal(r.tokens, 6 + 3);
	assert_int_equal(r.words, 9 + 3);
	double ref = -reference_loglik(m, true);
	assert_true(fabs(r.nll - ref) <= 1e-9 * fabs(ref));
	assert_true(fabs(r.word_loss - ref / 12) < 1e-12);
	assert_true(fabs(r.word_perplexity - exp(ref / 12)) < 1e-9 * r.word_perplexity);
	assert_false(r.decoded);   /* a language model is not decoded */
	free_model(m);

	/* the CLI: eval's nll = -(sum of `archex run` log-likelihoods) */
	write_text("lm.yaml", lm_yaml, cfg, sizeof cfg);
	char *ev[] = { (char *)AX_CLI, "eval", cfg, "--seed", "7", "--data", dir,
		       "--split", "valid", "--format", "json", NULL };
	assert_int_equal(ax_test_run(ev, out, sizeof out, err, sizeof err), 0);
	double nll = json_number(out, "nll");
	assert_true(fabs(json_number(out, "word_perplexity") - exp(nll / 12)) <
		    1e-6 * exp(nll / 12));
	assert_non_null(strstr(out, "\"blas_core\""));
	double run_ll = 0;
	static const char *const sent[] = { "13 14 2", "15 16 17 2", "18 2" };
	for (int i = 0; i < 3; i++) {
		char *rv[] = { (char *)AX_CLI, "run", cfg, "--seed", "7", "--src",
			       (char *)sent[i], "--format", "json", NULL };
		assert_int_equal(ax_test_run(rv, out, sizeof out, err, sizeof err), 0);
		run_ll += json_number(out, "loglik");
	}
	assert_true(fabs(nll + run_ll) < 1e-5 * fabs(nll));

	/* --precision: the same quantized weights as `archex run --precision`
	 * (equal sums), near the fp32 figure; a bad name is a usage error */
	static const char *const precs[] = { "bf16", "int8" };
	for (int p = 0; p < 2; p++) {
		char *eq[] = { (char *)AX_CLI, "eval", cfg, "--seed", "7", "--data", dir,
			       "--split", "valid", "--format", "json", "--precision",
			       (char *)precs[p], NULL };
		assert_int_equal(ax_test_run(eq, out, sizeof out, err, sizeof err), 0);
		double qnll = json_number(out, "nll");
		char want[40];
		snprintf(want, sizeof want, "\"precision\": \"%s\"", precs[p]);
		assert_non_null(strstr(out, want));
		assert_true(fabs(qnll - nll) < 2e-2 * fabs(nll));
		double qrun = 0;
		for (int i = 0; i < 3; i++) {
			char *rv[] = { (char *)AX_CLI, "run", cfg, "--seed", "7", "--src",
				       (char *)sent[i], "--format", "json", "--precision",
				       (char *)precs[p], NULL };
			assert_int_equal(ax_test_run(rv, out, sizeof out, err, sizeof err), 0);
			qrun += json_number(out, "loglik");
		}
		assert_true(fabs(qnll + qrun) < 1e-5 * fabs(qnll));
	}
	char *bad[] = { (char *)AX_CLI, "eval", cfg, "--seed", "7", "--data", dir,
			"--split", "valid", "--precision", "fp8", NULL };
	assert_int_equal(ax_test_run(bad, out, sizeof out, err, sizeof err), 2);
	assert_non_null(strstr(err, "--precision must be fp32, bf16 or int8, not 'fp8'"));
}

static void expect_eval_error(const char *yaml, const char *dir, bool decode,
			      enum ax_status want, const char *f1, const char *f2)
{
	struct model *m = load_model(yaml);
	struct ax_eval_result r;
	struct ax_diag d = { 0 };
	assert_int_equal(eval_ds(m, dir, decode, &r, &d), want);
	if (!strstr(d.msg, f1) || (f2 && !strstr(d.msg, f2)) ||
	    !strstr(d.file, dir))
		fail_msg("%s: %s: want \"%s\" and \"%s\"", d.file, d.msg, f1, f2 ? f2 : "");
	free_model(m);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	char dir[600], cfg[600];
	/* a vocabulary larger than the model's: both named */
	struct ds_spec big = { .vocab = 50, .valid_n = 3 };
	write_ds("big", &big, dir, sizeof dir);
	expect_eval_error(mt_yaml, dir, false, AX_ERR_INPUT, "(source 50, target 50)",
			  "(vocab.source 41, vocab.target 41)");
	/* task mismatch, both ways */
	struct ds_spec lm = { .lm = true, .vocab = 40, .valid_n = 3, .txt = valid_txt };
	write_ds("lm2", &lm, dir, sizeof dir);
	expect_eval_error(mt_yaml, dir, false, AX_ERR_INPUT, "is a language_model corpus",
			  "is a translation model");
	struct ds_spec mt = { .vocab = 30, .valid_n = 3 };
	write_ds("mt2", &mt, dir, sizeof dir);
	expect_eval_error(lm_yaml, dir, false, AX_ERR_INPUT, "is a translation corpus",
			  "is a language model");
	/* decoding without a sentencepiece model */
	expect_eval_error(mt_yaml, dir, true, AX_ERR_INPUT, "spm.model", "detokenize");
	/* an empty split */
	struct ds_spec empty = { .vocab = 30, .valid_n = 0 };
	write_ds("empty", &empty, dir, sizeof dir);
	expect_eval_error(mt_yaml, dir, false, AX_ERR_INPUT, "the valid split is empty", NULL);
	/* raw text whose lines are not the split's sentences */
	struct ds_spec short_txt = { .lm = true, .vocab = 40, .valid_n = 3,
				     .txt = "one line\n" };
	write_ds("short", &short_txt, dir, sizeof dir);
	expect_eval_error(lm_yaml, dir, false, AX_ERR_FORMAT, "1 lines",
			  "has 3 sentences");

	/* a checksum mismatch through the CLI: exit 1, the file named */
	struct ds_spec bad = { .vocab = 30, .valid_n = 3, .bad_sum = true };
	write_ds("badsum", &bad, dir, sizeof dir);
	write_text("mt.yaml", mt_yaml, cfg, sizeof cfg);
	char *ev[] = { (char *)AX_CLI, "eval", cfg, "--seed", "1", "--data", dir,
		       "--split", "valid", NULL };
	assert_int_equal(ax_test_run(ev, out, sizeof out, err, sizeof err), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "valid.tgt.bin"));
	assert_non_null(strstr(err, "does not match manifest.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_translation_loss),
		cmocka_unit_test(test_lm_words_and_cli),
		cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
