/*
 * test_study.c - `archex study` (src/explore/study.h, docs/study.md) on
 * trained sweep directories written here as fixtures: sweep.json and
 * points.jsonl as a trained sweep writes them, for points that are the
 * paper's WMT configs with an 8,000-token vocabulary (their config_hash
 * computed from configs/paper/ re-vocabbed, as the sweep would), one
 * LightConv point without a published figure, and two more sweeps of the
 * same designs at other training budgets. Checks:
 *   - the join: every published config among the points, by hash;
 *   - the rank correlations against hand-computed values (ties too);
 *   - the budget groups and their winners; the point outside any group;
 *   - sweeps of one training budget read as one (a study split into
 *     sweeps by seeds), the budget study's ranks and Kendall's tau-b;
 *   - the same on a real trained sweep: two tiny Transformers trained for
 *     two steps on a reverse-task dataset, joined to two configs that
 *     differ from them only in vocabulary;
 *   - bad input: a missing directory, a sweep without train:, no point
 *     joining a published config, one design in two sweeps of a budget:
 *     exit 1, a clear message, no file;
 *     usage errors: exit 2.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli_run.h"
#include "dataset.h"
#include "model.h"
#include "json_read.h"
#include "plot.h"
#include "sweep_out.h"
#include "test_tmpdir.h"
#include "test_reverse_data.h"

#define PAPER AX_SOURCE_DIR "/configs/paper/"
#define EPS 1e-12

static char out_buf[1 << 16], err_buf[1 << 16];

/* The config_hash of configs/paper/NAME.yaml with vocabulary 8000/8000,
 * share all: the model a study sweep trains for it. */
static uint64_t proxy_hash(const char *name)
{
	char path[512];
	struct ax_config cfg;
	struct ax_diag d = { 0 };
	snprintf(path, sizeof path, PAPER "%s.yaml", name);
	assert_int_equal(ax_config_load(path, &cfg, &d), AX_OK);
	cfg.vocab_source = cfg.vocab_target = 8000;
	cfg.share = AX_SHARE_ALL;
	assert_int_equal(ax_config_validate(&cfg, &d), AX_OK);
	return ax_config_hash(&cfg);
}

/* A fixture point: a paper config's proxy with these measurements. */
struct fix {
	const char *config;     /* configs/paper name */
	int family;             /* 0 transformer, 1 lite, 2 lightconv */
	double macs, loss, bleu;
};

static const char *const families[3] = { "transformer", "lite", "lightconv" };

/* write_sweep's budgets: list */
static const char *budgets_json = "[100000000.0,370000000.0]";

/* tmpdir/dir: sweep.json (train budget `budget`, or none when NULL) and
 * points.jsonl with n points of fix. */
static void write_sweep(const char *dir, const char *budget, const struct fix *fx, int n)
{
	char path[700], resolved[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, dir);
	assert_int_equal(mkdir(path, 0777), 0);
	/* sweep.json's identity is the hash of its resolved parts */
	snprintf(resolved, sizeof resolved, "[[\"convention\",\"paper\"]%s%s%s]",
		 budget ? ",[\"train budget\",\"" : "", budget ? budget : "", budget ? "\"]" : "");
	struct ax_sweep_ident id;
	json_t *parts = ax_json_parse(resolved, strlen(resolved), NULL);
	assert_true(parts && ax_sweep_ident_parse(&id, parts));
	unsigned long long hash = (unsigned long long)ax_sweep_ident_hash(&id);
	ax_sweep_ident_free(&id);
	json_decref(parts);
	snprintf(path, sizeof path, "%s/%s/sweep.json", tmpdir, dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"name\":\"%s\",\"convention\":\"paper\",\"mode\":\"sequence\","
		"\"src_len\":30,\"tgt_len\":30,\"n_points\":%d,\"families\":["
		"{\"name\":\"transformer\",\"kind\":\"transformer\"},"
		"{\"name\":\"lite\",\"kind\":\"lite\"},"
		"{\"name\":\"lightconv\",\"kind\":\"lightconv\"}],"
		"\"objectives\":[\"min:macs\",\"min:valid_loss\"],\"best\":\"min:valid_loss\","
		"\"budget_metric\":\"macs\",\"budgets\":%s,"
		"\"identity\":\"%016llx\",\"shard\":\"0/1\",\"complete\":true,"
		"\"resolved\":%s}\n", dir, n, budgets_json, hash, resolved);
	fclose(f);
	snprintf(path, sizeof path, "%s/%s/points.jsonl", tmpdir, dir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < n; i++)
		fprintf(f, "{\"id\":\"%016x\",\"index\":%d,\"family\":\"%s\",\"name\":\"%s-v8000\","
			"\"feasible\":true,\"metrics\":{\"macs\":%.17g,\"params\":1000,"
			"\"nonembedding_params\":%.17g,\"valid_loss\":%.17g,\"valid_loss_std\":0.01,"
			"\"bleu\":%.17g,\"bleu_std\":0.5},\"trained\":{\"seeds\":[1,2,3]},"
			"\"config\":{\"vocab.source\":8000,\"vocab.target\":8000,\"vocab.share\":\"all\"},"
			"\"result\":{\"config_hash\":\"%016llx\"}}\n",
			i + 1, i, families[fx[i].family], fx[i].config, fx[i].macs, fx[i].macs / 30,
			fx[i].loss, fx[i].bleu, (unsigned long long)proxy_hash(fx[i].config));
	fclose(f);
}

/* The main sweep: published en-fr 33.6, 37.6, 35.3, 39.1 and en-de
 * 21.3, -, 22.5, 25.6 for the first four; wmt-dynamicconv has none. */
static const struct fix designs[] = {
	{ "wmt-transformer-128", 0, 86.9e6, 6.0, 10 },
	{ "wmt-transformer-256", 0, 339e6, 5.0, 12 },
	{ "wmt-lite-200", 1, 90.2e6, 5.5, 11 },
	{ "wmt-lite-408", 1, 359.7e6, 5.2, 12 },
	{ "wmt-dynamicconv", 2, 1352e6, 4.0, 20 },
};
static const struct fix half[] = {
	{ "wmt-transformer-128", 0, 86.9e6, 7.0, 1 },
	{ "wmt-lite-200", 1, 90.2e6, 6.8, 1 },
	{ "wmt-transformer-256", 0, 339e6, 6.9, 1 },
};
static const struct fix twice[] = {
	{ "wmt-transformer-256", 0, 339e6, 4.0, 1 },
	{ "wmt-transformer-128", 0, 86.9e6, 5.0, 1 },
	{ "wmt-lite-200", 1, 90.2e6, 4.5, 1 },
};

/* archex study --out tmpdir/OUT ARGS...: a NULL-terminated list whose
 * leading items not starting with - are directories under tmpdir. */
#define STUDY(out, ...) study(out, (const char *const[]){ __VA_ARGS__, NULL })
static int study(const char *out, const char *const *in)
{
	static char paths[8][700];
	char o[700];
	snprintf(o, sizeof o, "%s/%s", tmpdir, out);
	char *argv[16] = { (char *)AX_CLI, "study", "--out", o };
	int k = 4;
	bool opts = false;   /* directories first, then options and their values */
	for (int i = 0; in[i] && k < 15; i++) {
		opts = opts || in[i][0] == '-';
		if (opts) {
			argv[k++] = (char *)in[i];
		} else {
			snprintf(paths[i], sizeof paths[i], "%s/%s", tmpdir, in[i]);
			argv[k++] = paths[i];
		}
	}
	argv[k] = NULL;
	return ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

static char *slurp(const char *out, const char *file)
{
	static char buf[1 << 16];
	char path[700];
	snprintf(path, sizeof path, "%s/%s/%s", tmpdir, out, file);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The number in column col (0-based) of the CSV line that starts with
 * prefix. */
static double csv_cell(const char *text, const char *prefix, int col)
{
	const char *p = strstr(text, prefix);
	assert_non_null(p);
	for (int c = 0; c < col; c++) {
		p = strchr(p, ',');
		assert_non_null(p);
		p++;
	}
	return *p == ',' || *p == '\n' ? NAN : strtod(p, NULL);
}

static void test_study(void **state)
{
	(void)state;
	write_sweep("designs", "train_tokens=100", designs, 5);
	/* the same designs as two sweeps of one budget (3 seeds, 1 seed) */
	write_sweep("matched", "train_tokens=100", designs, 4);
	budgets_json = "[1.4e9,370000000.0]";   /* the union is 100M, 370M, 1.4G */
	write_sweep("large", "train_tokens=100", designs + 4, 1);
	budgets_json = "[100000000.0,370000000.0]";
	write_sweep("half", "train_tokens=50", half, 3);
	write_sweep("twice", "train_tokens=200", twice, 3);
	assert_int_equal(STUDY("rep", "matched", "twice", "half", "large"), 0);
	printf("%s", out_buf);
	/* (a) the joins: 4 en-fr, 3 en-de; never the LightConv point */
	const char *j = slurp("rep", "proxy_join.csv");
	assert_non_null(j);
	assert_non_null(strstr(j, "wmt14-en-fr,wmt-lite-408,39.1,"));
	assert_non_null(strstr(j, "wmt14-en-de,wmt-transformer-128,21.3,"));
	assert_null(strstr(j, "dynamicconv"));
	/* (a) the correlations (rankcorr's hand counts): en-fr valid loss
	 * (negated) 0.8 and 4/6; BLEU with a tie 4.5/sqrt(22.5), 5/sqrt(30);
	 * en-de valid loss, n = 3, in the published order: 1 and 1 */
	const char *c = slurp("rep", "proxy_correlation.csv");
	assert_non_null(c);
	assert_float_equal(csv_cell(c, "wmt14-en-fr,valid_loss,negated,4,", 4), 0.8, EPS);
	assert_float_equal(csv_cell(c, "wmt14-en-fr,valid_loss,negated,4,", 5), 4.0 / 6, EPS);
	assert_float_equal(csv_cell(c, "wmt14-en-fr,bleu,as is,4,", 4), 4.5 / sqrt(22.5), EPS);
	assert_float_equal(csv_cell(c, "wmt14-en-fr,bleu,as is,4,", 5), 5 / sqrt(30), EPS);
	assert_float_equal(csv_cell(c, "wmt14-en-de,valid_loss,negated,3,", 4), 1, EPS);
	assert_float_equal(csv_cell(c, "wmt14-en-de,valid_loss,negated,3,", 5), 1, EPS);
	/* params: exact, with the 8000-token embeddings; grows with width */
	assert_non_null(strstr(c, "wmt14-en-fr,params,as is,4,"));
	/* (b) winners: lite-200 at 100M, transformer-256 at 370M, the
	 * 1.35G LightConv point alone at 1.4G (the large sweep's budget) */
	const char *b = slurp("rep", "claim.csv");
	assert_non_null(b);
	assert_non_null(strstr(b, "100000000,lite,0000000000000003,wmt-lite-200-v8000,90200000,5.5,"));
	assert_non_null(strstr(b, ",wmt-lite-200-v8000,90200000,5.5,0.01,11,0.5,3,1\n"));
	assert_non_null(strstr(b, ",wmt-transformer-128-v8000,86900000,6,0.01,10,0.5,3,0\n"));
	assert_non_null(strstr(b, ",wmt-transformer-256-v8000,339000000,5,0.01,12,0.5,3,1\n"));
	assert_non_null(strstr(b, "1400000000,lightconv,0000000000000001,wmt-dynamicconv-v8000,"
			       "1352000000,4,0.01,20,0.5,3,1\n"));
	/* the main sweep alone: its budgets only, the LightConv point outside */
	assert_int_equal(STUDY("rep4", "designs", "--no-plot"), 0);
	assert_non_null(strstr(out_buf, "1 trained points are in no budget group"));
	/* (c) budgets in order 50, 100, 200: half vs 100 1/3 (one
	 * discordant pair of 3), 100 vs twice 1 */
	const char *k = slurp("rep", "budget_kendall.csv");
	assert_non_null(k);
	assert_float_equal(csv_cell(k, "train_tokens=50,half,train_tokens=100,matched+large,3,", 5),
			   1.0 / 3, EPS);
	assert_float_equal(csv_cell(k, "train_tokens=100,matched+large,train_tokens=200,twice,3,", 5),
			   1, EPS);
	const char *r = slurp("rep", "budget_ranks.csv");
	assert_non_null(r);
	assert_non_null(strstr(r, "lite,wmt-lite-200-v8000,train_tokens=50,half,0000000000000002,6.8,0.01,1\n"));
	assert_non_null(strstr(r, "transformer,wmt-transformer-256-v8000,train_tokens=100,matched,"
			       "0000000000000002,5,0.01,1\n"));
	assert_non_null(slurp("rep", "study.json"));
	if (ax_plot_available(NULL, 0)) {
		assert_non_null(slurp("rep", "plots/proxy.svg"));
		assert_non_null(slurp("rep", "plots/claim.png"));
	}
	/* --format json prints study.json */
	assert_int_equal(STUDY("rep2", "designs", "--format", "json", "--no-plot"), 0);
	assert_non_null(strstr(out_buf, "\"correlations\""));
	/* one sweep: no budget study */
	assert_int_equal(STUDY("rep3", "designs", "--no-plot"), 0);
	assert_null(slurp("rep3", "budget_kendall.csv"));
	assert_non_null(slurp("rep3", "claim.csv"));
}

static void test_bad_input(void **state)
{
	(void)state;
	static const struct fix none[] = { { "wmt-dynamicconv", 2, 1352e6, 4.0, 20 } };
	write_sweep("untrained", NULL, designs, 2);
	write_sweep("nojoin", "train_tokens=100", none, 1);
	assert_int_equal(STUDY("bad1", "no-such-dir"), 1);
	assert_non_null(strstr(err_buf, "no-such-dir: error: not a directory"));
	assert_int_equal(STUDY("bad2", "untrained"), 1);
	assert_non_null(strstr(err_buf, "not a trained sweep"));
	assert_int_equal(STUDY("bad3", "nojoin"), 1);
	assert_non_null(strstr(err_buf, "no trained point is a published config"));
	/* a bad main sweep after a good one: nothing is written */
	assert_int_equal(STUDY("bad4", "nojoin", "half"), 1);
	assert_non_null(strstr(err_buf, "no trained point is a published config"));
	/* one design in two sweeps of one budget: which one is the proxy? */
	assert_int_equal(STUDY("bad5", "designs", "matched"), 1);
	assert_non_null(strstr(err_buf, "the study needs one per design"));
	struct stat sb;
	char path[700];
	for (int i = 1; i <= 5; i++) {
		snprintf(path, sizeof path, "%s/bad%d", tmpdir, i);
		assert_int_not_equal(stat(path, &sb), 0);
	}
	/* usage errors */
	assert_int_equal(STUDY("u", "designs", "--tolerance", "0"), 2);
	assert_int_equal(STUDY("u", "designs", "--budgets", "1e8,x"), 2);
	assert_int_equal(STUDY("u", "designs", "--format", "csv"), 2);
	char *argv[] = { (char *)AX_CLI, "study", NULL };
	assert_int_equal(ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf), 2);
	assert_non_null(strstr(err_buf, "no sweep directory given"));
}

/* tmpdir/data: a reverse-task dataset over 16 ids (test_reverse_data.h) */
static void write_dataset(void)
{
	char dir[600], files[4096] = "";
	snprintf(dir, sizeof dir, "%s/data", tmpdir);
	assert_int_equal(mkdir(dir, 0777), 0);
	const char *splits[3] = { "train", "valid", "test" };
	int64_t n[3] = { 100, 16, 8 }, toks[3];
	for (int k = 0; k < 3; k++)
		write_split(dir, splits[k], n[k], 16, &toks[k], files, sizeof files);
	write_manifest(dir, 16, n, toks, files);
}

/* tmpdir/NAME.yaml with text */
static void write_text(const char *name, const char *text)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define TINY(ffn) "family: transformer\ntask: translation\nembed_dim: 32\nnorm: post\n" \
	"vocab: {source: 1000, target: 1000, share: all}\n" \
	"encoder: {layers: 1, ffn_dim: " ffn ", attention_heads: 2}\n" \
	"decoder: {layers: 1, ffn_dim: " ffn ", attention_heads: 2}\n"

static void test_real_sweep(void **state)
{
	(void)state;
	write_dataset();
	char path[700];
	snprintf(path, sizeof path, "%s/cfg", tmpdir);
	assert_int_equal(mkdir(path, 0777), 0);
	write_text("cfg/tiny-32.yaml", TINY("32"));
	write_text("cfg/tiny-64.yaml", TINY("64"));
	write_text("cfg/tiny-48.yaml", TINY("48"));   /* no point has it */
	write_text("pub.csv", "config,dataset,task,metric,value,higher_is_better,source\n"
		   "tiny-32,rev,translation,bleu,10,true,test\n"
		   "tiny-64,rev,translation,bleu,12,true,test\n"
		   "tiny-48,rev,translation,bleu,11,true,test\n");
	/* the base is tiny-64 at vocabulary 1000; the axes set 16 */
	write_text("real.yaml", "name: real\nconvention: paper\n"
		   "train: {data: data, max_steps: 2, seeds: [1], save_every: 1}\n"
		   "budgets: [1e9]\nfamilies:\n  - name: t\n    base: cfg/tiny-64.yaml\n"
		   "    axes:\n      ffn_dim: [32, 64]\n      vocab.source: [16]\n"
		   "      vocab.target: [16]\n      train.max_tokens: [48]\n");
	char spath[700], opath[700];
	snprintf(spath, sizeof spath, "%s/real.yaml", tmpdir);
	snprintf(opath, sizeof opath, "%s/real", tmpdir);
	char *argv[] = { (char *)AX_CLI, "sweep", spath, "--out", opath, "--no-plot", "--quiet",
			 NULL };
	assert_int_equal(ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf), 0);
	char pub[700], cfg[700];
	snprintf(pub, sizeof pub, "%s/pub.csv", tmpdir);
	snprintf(cfg, sizeof cfg, "%s/cfg", tmpdir);
	assert_int_equal(STUDY("realrep", "real", "--published", pub, "--configs", cfg,
			       "--no-plot", "--budgets", "1e6"), 0);
	const char *j = slurp("realrep", "proxy_join.csv");
	assert_non_null(j);
	assert_non_null(strstr(j, "rev,tiny-32,10,"));
	assert_non_null(strstr(j, "rev,tiny-64,12,"));
	assert_null(strstr(j, "tiny-48"));
	const char *c = slurp("realrep", "proxy_correlation.csv");
	assert_non_null(c);
	assert_non_null(strstr(c, "rev,valid_loss,negated,2,"));
	/* nonembedding params grow with ffn_dim as the published figure */
	assert_non_null(strstr(c, "rev,nonembedding_params,as is,2,1,1\n"));
}

static int setup(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("test_study");
}

static int teardown(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_study),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_real_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
