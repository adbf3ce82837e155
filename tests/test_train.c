/*
 * test_train.c - the training engine (src/train) and `archex train`:
 *   - whole-model gradients of two tiny Transformers (post-norm with all
 *     embeddings tied; pre-norm with a final LayerNorm and separate
 *     tables) against central finite differences of the engine's own
 *     loss, on a packed batch of sentences of different lengths;
 *   - the batcher: every sentence once per epoch, batches within
 *     --max-tokens, an order that depends on the seed and the epoch;
 *   - learning: a tiny model learns to reverse random sequences;
 *   - determinism: the same seed gives bit-identical weights (with all
 *     dropouts on), another seed does not;
 *   - kill and resume: SIGKILL at random moments, --resume each time, and
 *     the final weights equal an uninterrupted run's bit for bit;
 *   - disk full: a checkpoint write past RLIMIT_FSIZE fails with exit 1
 *     naming the checkpoint, leaves the previous one intact, and resuming
 *     from it still gives an uninterrupted run's weights;
 *   - bad input: ids beyond the model's vocabulary, corrupt data, a
 *     checkpoint of another config, --resume without a checkpoint or with
 *     other hyperparameters, an op kind without a backward;
 *   - the recipe: hyperparameters from the config's train: section, a
 *     flag overriding one, and the same run from flags alone;
 *   - the run directory: RUN/config.yaml loads to the config's hash, and
 *     `archex run RUN` / `archex eval RUN` equal CONFIG --weights
 *     RUN/weights.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "dataset.h"
#include "grad.h"
#include "model.h"
#include "test_tmpdir.h"
#include "test_reverse_data.h"
#include "train.h"

#define CFG AX_SOURCE_DIR "/tests/configs/train/tiny-transformer.yaml"
#define CFG_PRE AX_SOURCE_DIR "/tests/configs/train/tiny-transformer-pre.yaml"
#define CFG_LM AX_SOURCE_DIR "/tests/configs/train/tiny-lm.yaml"
#define CFG_LITE AX_SOURCE_DIR "/tests/configs/train/tiny-lite.yaml"
#define CFG_LIGHTCONV AX_SOURCE_DIR "/tests/configs/train/tiny-lightconv.yaml"
#define CFG_LIGHTCONV_PRE AX_SOURCE_DIR "/tests/configs/train/tiny-lightconv-pre.yaml"
#define CFG_LM_ADAPTIVE AX_SOURCE_DIR "/tests/configs/train/tiny-lm-adaptive.yaml"

/* A reverse-task translation dataset under tmpdir/name. */
static void write_dataset(const char *name, int64_t n_train, int64_t vocab)
{
	char dir[600], files[4096] = "";
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(dir, 0777), 0);
	const char *splits[3] = { "train", "valid", "test" };
	int64_t n[3] = { n_train, 64, 16 }, toks[3];
	for (int s = 0; s < 3; s++)
		write_split(dir, splits[s], n[s], vocab, &toks[s], files, sizeof files);
	write_manifest(dir, vocab, n, toks, files);
}

/* A language-model dataset under tmpdir/name: counting runs s, s+1, ...
 * of 3..6 ids from s in [4, 10). */
static void write_lm_dataset(const char *name)
{
	char dir[600], path[700], hex[65];
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(dir, 0777), 0);
	const char *splits[3] = { "train", "valid", "test" };
	int64_t n[3] = { 1000, 32, 8 }, toks[3];
	char files[2048] = "";
	struct ax_diag d = { 0 };
	for (int sp = 0; sp < 3; sp++) {
		uint64_t off[1001] = { 0 };
		uint32_t id[6000];
		for (int64_t i = 0; i < n[sp]; i++) {
			uint32_t len = 3 + next(4), st = 4 + next(6);
			for (uint32_t k = 0; k < len; k++)
				id[off[i] + k] = st + k;
			off[i + 1] = off[i] + len;
		}
		toks[sp] = (int64_t)off[n[sp]];
		snprintf(path, sizeof path, "%s/%s.tgt.bin", dir, splits[sp]);
		assert_int_equal(ax_tokens_write(path, n[sp], off, id, &d), AX_OK);
		assert_int_equal(ax_sha256_file(path, hex, &d), AX_OK);
		struct stat st;
		assert_int_equal(stat(path, &st), 0);
		size_t l = strlen(files);
		snprintf(files + l, sizeof files - l, "%s\"%s.tgt.bin\": {\"bytes\": %lld, "
			 "\"sha256\": \"%s\"}", sp ? ", " : "", splits[sp],
			 (long long)st.st_size, hex);
	}
	snprintf(path, sizeof path, "%s/manifest.json", dir);
	FILE *m = fopen(path, "w");
	assert_non_null(m);
	fprintf(m, "{\"format\": \"archex-dataset\", \"version\": 1, \"name\": \"count\","
		" \"task\": \"language_model\", \"vocab\": {\"target\": 16}, \"splits\": {");
	for (int sp = 0; sp < 3; sp++)
		fprintf(m, "%s\"%s\": {\"sentences\": %lld, \"target_tokens\": %lld}",
			sp ? ", " : "", splits[sp], (long long)n[sp], (long long)toks[sp]);
	fprintf(m, "}, \"files\": {%s}}\n", files);
	fclose(m);
}

static char out_buf[1 << 16], err_buf[1 << 16];

/* archex train CFG --data tmpdir/data --out tmpdir/run ARGS... */
static int train(const char *cfg, const char *data, const char *run, ...)
{
	char dpath[600], rpath[600];
	snprintf(dpath, sizeof dpath, "%s/%s", tmpdir, data);
	snprintf(rpath, sizeof rpath, "%s/%s", tmpdir, run);
	char *argv[48] = { (char *)AX_CLI, "train", (char *)cfg, "--data", dpath,
			   "--out", rpath };
	int n = 7;
	va_list ap;
	va_start(ap, run);
	for (char *a; (a = va_arg(ap, char *)) && n < 47;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return ax_test_run(argv, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

static size_t slurp(const char *run, const char *file, char *buf, size_t n)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s/%s", tmpdir, run, file);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	return got;
}

static bool same_weights(const char *a, const char *b)
{
	static char x[1 << 20], y[1 << 20];
	size_t n = slurp(a, "weights", x, sizeof x), m = slurp(b, "weights", y, sizeof y);
	return n == m && n > 0 && !memcmp(x, y, n);
}

static double json_num(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	assert_non_null(p);
	return strtod(p + strlen(key) + 3, NULL);   /* skip `": ` */
}

/* --- whole-model gradients ------------------------------------------------ */

/* With dropout on, the loss of the training forward: its masks are a
 * function of (seed, update, site), fixed while the update count is, so
 * the loss is a function of the weights that differences can check (this
 * also overwrites t->grad). */
static bool fd_training;

static double model_loss(struct ax_trainer *t)
{
	double loss = 0, nll = 0;
	int64_t n = 0;
	struct ax_diag d = { 0 };
	if (fd_training) {
		struct ax_train_stats s;
		assert_int_equal(ax_train_grad(t, &s, &d), AX_OK);
		return s.loss;
	}
	assert_int_equal(ax_train_eval(t, &loss, &nll, &n, &d), AX_OK);
	return loss / (double)n;
}

/* Central difference of the loss in one weight. */
static double fd_entry(struct ax_trainer *t, float *w, float h)
{
	float w0 = *w;
	*w = w0 + h;
	double lp = model_loss(t);
	*w = w0 - h;
	double lm = model_loss(t);
	*w = w0;
	return (lp - lm) / (2.0 * (double)h);
}

/* vocab: ids are drawn from [4, vocab) (every band of an adaptive
 * model when vocab is its full vocabulary). A tensor whose max relative
 * error reaches 2e-2 is an outlier; at most max_out of them are allowed,
 * each below 0.15. Outliers are float32 differences of a loss whose ReLU
 * inputs sit within a step of a kink: a central difference straddling a
 * kink averages the two slopes at every step size, which halving the step
 * cannot detect. A wiring error (a wrong segment, offset or missing +=)
 * is wrong in every entry of its tensors; the PyTorch oracle
 * (oracle_train_grad) checks the same models without differences. */
static void check_model_grad(const char *cfg_path, int32_t vocab, int max_out)
{
	static struct ax_config cfg;
	struct ax_graph g;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_config_load(cfg_path, &cfg, &d), AX_OK);
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(&cfg, &g, &d), AX_OK);
	struct ax_train_hparams hp;
	ax_train_hparams_default(&hp);
	hp.max_tokens = 64;
	hp.dropout = fd_training ? 0.1 : 0.0;
	hp.weight_dropout = fd_training ? 0.2 : 0.0;
	hp.attention_dropout = hp.activation_dropout = fd_training ? 0.1 : 0.0;
	hp.input_dropout = hp.adaptive_softmax_dropout = fd_training ? 0.1 : 0.0;
	struct ax_trainer t;
	assert_int_equal(ax_train_init(&t, &g, &hp, 8, &d), AX_OK);
	/* three sentences of lengths 4, 7, 2 (+ eos) packed */
	static const int64_t len[3] = { 4, 7, 2 };
	struct ax_train_batch *b = &t.batch;
	b->n = 3;
	for (int s = 0; s < 3; s++) {
		b->src_off[s + 1] = b->src_off[s] + len[s] + 1;
		b->tgt_off[s + 1] = b->tgt_off[s] + len[2 - s] + 1;
	}
	b->n_src = b->src_off[3], b->n_tgt = b->tgt_off[3];
	for (int64_t r = 0; r < b->n_src; r++)
		b->src[r] = 4 + (int32_t)next((uint32_t)vocab - 4);
	for (int64_t r = 0; r < b->n_tgt; r++) {
		b->tgt_in[r] = 4 + (int32_t)next((uint32_t)vocab - 4);
		b->tgt_out[r] = 4 + (int32_t)next((uint32_t)vocab - 4);
	}
	struct ax_train_stats s;
	assert_int_equal(ax_train_grad(&t, &s, &d), AX_OK);
	float *an = malloc((size_t)t.wx.n_weights * sizeof *an);
	assert_non_null(an);
	memcpy(an, t.grad, (size_t)t.wx.n_weights * sizeof *an);
	/* a second pass gives the same bits: the gradients that an op's
	 * backward overwrites instead of zeroing first hold the first
	 * pass's values now, so an overwrite done as += shows here */
	assert_int_equal(ax_train_grad(&t, &s, &d), AX_OK);
	assert_memory_equal(an, t.grad, (size_t)t.wx.n_weights * sizeof *an);
	double worst = 0.0;
	int skipped = 0, outliers = 0;
	for (int32_t p = 0; p < g.n_params; p++) {
		const struct ax_param *pp = &g.params[p];
		float *w = t.wx.weights + t.wx.param_off[p];
		const float *gr = an + t.wx.param_off[p];
		int64_t n = pp->rows * pp->cols;
		double num = 0.0, den = 0.0;
		for (int k = 0; k < 8; k++) {   /* 8 entries per tensor */
			int64_t e = (int64_t)next((uint32_t)n);
			double fd = fd_entry(&t, w + e, 1e-2f);
			/* a step across a ReLU kink is not a derivative: skip
			 * entries where halving the step changes the estimate */
			if (fabs(fd_entry(&t, w + e, 5e-3f) - fd) > 1e-2 * fmax(fabs(fd), 1e-3)) {
				skipped++;
				continue;
			}
			num = fmax(num, fabs(fd - gr[e]));
			den = fmax(den, fabs(fd));
		}
		double rel = num / fmax(den, 1e-3);
		worst = fmax(worst, rel);
		if (rel >= 2e-2) {
			char nm[200];
			ax_graph_param_name(&g, p, nm, sizeof nm);
			printf("  outlier %s: rel %.3g (num %.3g den %.3g)\n", nm, rel, num, den);
			outliers++;
		}
		assert_true(rel < 0.15);
	}
	printf("model grad %s%s: max rel err %.2e over %d tensors, %d outliers "
	       "(%d of %d entries skipped at ReLU kinks)\n", cfg.name,
	       fd_training ? " (all dropouts on)" : "", worst, g.n_params,
	       outliers, skipped, 8 * g.n_params);
	free(an);
	assert_true(outliers <= max_out);
	assert_true(skipped < 2 * g.n_params);
	ax_train_free(&t);
	ax_graph_free(&g);
}

static void test_model_grad(void **state)
{
	(void)state;
	check_model_grad(CFG, 16, 0);
	check_model_grad(CFG_PRE, 16, 0);
	check_model_grad(CFG_LM, 16, 0);
}

/* The conv families, one config each (tests/configs/oracle/, tiny shapes
 * whose kernels reach past the short sentences' ends). */
static void test_model_grad_families(void **state)
{
	(void)state;
	static const struct { const char *cfg; int32_t vocab; } m[] = {
		{ "lite-lightweight", 43 }, { "lite-dynamic-glu", 45 },
		{ "lightconv-mixed", 39 }, { "lightconv-dynamic-glu", 47 },
		{ "evolved", 45 }, { "lite-lm-adaptive", 60 },
	};
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		char path[512];
		snprintf(path, sizeof path, "%s/tests/configs/oracle/%s.yaml",
			 AX_SOURCE_DIR, m[k].cfg);
		check_model_grad(path, m[k].vocab, 3);
	}
}

/* The ops of the config at path given an input dropout (p_in) by
 * input_dropout and adaptive_softmax_dropout at 0.1. */
static int input_sites(const char *path)
{
	static struct ax_config cfg;
	struct ax_graph g;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_config_load(path, &cfg, &d), AX_OK);
	ax_graph_init(&g);
	assert_int_equal(ax_model_build(&cfg, &g, &d), AX_OK);
	struct ax_train_hparams hp;
	ax_train_hparams_default(&hp);
	hp.max_tokens = 64;
	hp.input_dropout = hp.adaptive_softmax_dropout = 0.1;
	struct ax_trainer t;
	assert_int_equal(ax_train_init(&t, &g, &hp, 8, &d), AX_OK);
	int n = 0;
	for (int32_t i = 0; i < g.n_ops; i++)
		n += t.p_in[i] > 0.0f;
	ax_train_free(&t);
	ax_graph_free(&g);
	return n;
}

/* The same with every dropout on (DropConnect, LightConv's input dropout
 * and the adaptive softmax's included): the backward regenerates each
 * mask of the forward, on the Lite branches' in-place residual dropout
 * too. */
static void test_model_grad_dropout(void **state)
{
	(void)state;
	/* the input dropouts' sites: every LightConv conv block (2 + 2
	 * layers), the adaptive softmax; none in Lite's conv branches */
	assert_int_equal(input_sites(AX_SOURCE_DIR "/tests/configs/oracle/lightconv-mixed.yaml"), 4);
	assert_int_equal(input_sites(AX_SOURCE_DIR "/tests/configs/oracle/lite-dynamic-glu.yaml"), 0);
	assert_int_equal(input_sites(AX_SOURCE_DIR "/tests/configs/oracle/lite-lm-adaptive.yaml"), 1);
	assert_int_equal(input_sites(CFG), 0);
	assert_int_equal(input_sites(CFG_LIGHTCONV_PRE), 2);
	fd_training = true;
	check_model_grad(CFG, 16, 0);
	check_model_grad(AX_SOURCE_DIR "/tests/configs/oracle/lite-dynamic-glu.yaml", 45, 3);
	check_model_grad(AX_SOURCE_DIR "/tests/configs/oracle/lightconv-mixed.yaml", 39, 3);
	check_model_grad(AX_SOURCE_DIR "/tests/configs/oracle/evolved.yaml", 45, 3);
	check_model_grad(AX_SOURCE_DIR "/tests/configs/oracle/lite-lm-adaptive.yaml", 60, 3);
	check_model_grad(CFG_LIGHTCONV_PRE, 16, 3);   /* dx of linear1 set */
	fd_training = false;
}

/* --- batcher ------------------------------------------------------------------ */

static void test_batcher(void **state)
{
	(void)state;
	uint64_t off[101];
	uint32_t id[1000];
	off[0] = 0;
	for (int i = 0; i < 100; i++)
		off[i + 1] = off[i] + 1 + (uint64_t)(i % 9);
	for (uint64_t k = 0; k < off[100]; k++)
		id[k] = 4;
	struct ax_tokens tk = { .n = 100, .n_tokens = (int64_t)off[100], .off = off, .id = id };
	struct ax_batcher b;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_batcher_init(&b, &tk, &tk, 40, 2, 7, &d), AX_OK);
	int64_t so[101], to[101];
	int32_t s[40], ti[40], tt[40];
	struct ax_train_batch tb = { .src_off = so, .tgt_off = to, .src = s,
				     .tgt_in = ti, .tgt_out = tt };
	int64_t first[2];
	for (int e = 0; e < 2; e++) {
		ax_batcher_epoch(&b, e);
		int64_t sent = 0, toks = 0;
		for (int64_t k = 0; k < b.n_batches; k++) {
			ax_batcher_fill(&b, k, &tb);
			assert_true(tb.n_src <= 40 && tb.n_tgt <= 40 && tb.n >= 1);
			assert_int_equal(tb.tgt_in[0], 2);
			assert_int_equal(tb.tgt_out[tb.tgt_off[1] - 1], AX_DATA_EOS);
			sent += tb.n;
			toks += tb.n_tgt;
		}
		assert_int_equal(sent, 100);
		assert_int_equal(toks, tk.n_tokens + 100);
		first[e] = b.perm[0] * 1000 + b.order[0];
	}
	assert_true(first[0] != first[1] || b.n_batches < 3);
	ax_batcher_free(&b);
}

/* --- the command ------------------------------------------------------------- */

static void test_learn(void **state)
{
	(void)state;
	write_dataset("rev", 3000, 16);
	int rc = train(CFG, "rev", "learn", "--max-steps", "600", "--lr", "5e-3",
		       "--warmup", "30", "--dropout", "0", "--label-smoothing", "0",
		       "--max-tokens", "400", "--weight-decay", "0",
		       "--valid-every", "100", NULL);
	if (rc != 0)
		fprintf(stderr, "%s", err_buf);
	assert_int_equal(rc, 0);
	double nll = json_num(out_buf, "\"valid_nll\"");
	printf("reverse task: valid nll %.4f after 600 updates\n", nll);
	assert_true(nll < 0.05);
	static char log[1 << 20];
	size_t n = slurp("learn", "train.jsonl", log, sizeof log - 1);
	log[n] = '\0';
	assert_non_null(strstr(log, "\"step\":600,\"valid_loss\""));
	/* archex plot loss: the curve's data (the PNG needs gnuplot) */
	char rpath[700], ppath[700];
	snprintf(rpath, sizeof rpath, "%s/learn", tmpdir);
	snprintf(ppath, sizeof ppath, "%s/plot", tmpdir);
	char *pargv[] = { (char *)AX_CLI, "plot", "loss", rpath, "--out", ppath, NULL };
	assert_int_equal(ax_test_run(pargv, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	n = slurp("plot", "loss.csv", log, sizeof log - 1);
	log[n] = '\0';
	assert_non_null(strstr(log, "step,tokens,valid_loss,valid_ppl\n100,"));
	assert_non_null(strstr(log, "\n600,"));
	char *bad[] = { (char *)AX_CLI, "plot", "loss", ppath, "--out", ppath, NULL };
	assert_int_equal(ax_test_run(bad, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 1);
	assert_non_null(strstr(err_buf, "train.jsonl: error: cannot open"));
	/* a broken record: its line named */
	char jpath[800];
	snprintf(jpath, sizeof jpath, "%s/train.jsonl", ppath);
	FILE *jf = fopen(jpath, "w");
	assert_non_null(jf);
	fputs("{\"step\":1,\"tokens\":5}\n{\"step\":\n", jf);
	fclose(jf);
	assert_int_equal(ax_test_run(bad, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 1);
	assert_non_null(strstr(err_buf, "train.jsonl:2:"));
	assert_non_null(strstr(err_buf, "not a train.jsonl record"));
	/* round trip: `archex run` loads RUN/weights and greedy decoding
	 * reverses a sentence it never saw (training and `archex run` both
	 * append eos to every source, as fairseq does) */
	char wpath[700];
	snprintf(wpath, sizeof wpath, "%s/learn/weights", tmpdir);
	char *argv[] = { (char *)AX_CLI, "run", (char *)CFG, "--weights", wpath,
			 "--src", "5 9 12 7 4", NULL };
	assert_int_equal(ax_test_run(argv, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	printf("archex run: %s", out_buf);
	assert_non_null(strstr(out_buf, "4 7 12 9 5"));
}

/* The Lite Transformer (LSRA with a dynamic conv and GLU) learns the same
 * task, with every dropout on, DropConnect in the convs included. */
static void test_learn_lite(void **state)
{
	(void)state;
	int rc = train(CFG_LITE, "rev", "lite", "--max-steps", "600", "--lr", "5e-3",
		       "--warmup", "30", "--dropout", "0.05", "--weight-dropout",
		       "0.05", "--label-smoothing", "0", "--max-tokens", "400",
		       "--weight-decay", "0", NULL);
	if (rc != 0)
		fprintf(stderr, "%s", err_buf);
	assert_int_equal(rc, 0);
	double nll = json_num(out_buf, "\"valid_nll\"");
	printf("reverse task, Lite: valid nll %.4f after 600 updates\n", nll);
	assert_true(nll < 0.25);   /* uniform: ln 12 = 2.48 */
}

/* A language model trains on its tgt side: after the first id of a run
 * the next ones are certain, so the nll falls far below uniform (ln 12). */
static void test_learn_lm(void **state)
{
	(void)state;
	write_lm_dataset("count");
	int rc = train(CFG_LM, "count", "lm", "--max-steps", "150", "--lr", "5e-3",
		       "--warmup", "20", "--dropout", "0", "--label-smoothing", "0",
		       "--max-tokens", "200", NULL);
	if (rc != 0)
		fprintf(stderr, "%s", err_buf);
	assert_int_equal(rc, 0);
	double nll = json_num(out_buf, "\"valid_nll\"");
	printf("counting LM: valid nll %.4f after 150 updates\n", nll);
	assert_true(nll < 1.0);
}

static void test_determinism(void **state)
{
	(void)state;
	const char *common[] = { "--max-steps", "12", "--max-tokens", "200",
				 "--lr", "1e-3", "--warmup", "4", "--attention-dropout",
				 "0.1", "--activation-dropout", "0.1", "--clip-norm", "1" };
	(void)common;
#define RUN(run, seed) train(CFG, "rev", run, "--max-steps", "12", "--max-tokens", \
			     "200", "--lr", "1e-3", "--warmup", "4", \
			     "--attention-dropout", "0.1", "--activation-dropout", \
			     "0.1", "--clip-norm", "1", "--seed", seed, NULL)
	assert_int_equal(RUN("det1", "5"), 0);
	assert_int_equal(RUN("det2", "5"), 0);
	assert_int_equal(RUN("det3", "6"), 0);
	assert_true(same_weights("det1", "det2"));
	assert_false(same_weights("det1", "det3"));
#define RUN_LITE(run, seed) train(CFG_LITE, "rev", run, "--max-steps", "12", \
				  "--max-tokens", "200", "--lr", "1e-3", "--warmup", "4", \
				  "--dropout", "0.2", "--weight-dropout", "0.2", \
				  "--attention-dropout", "0.1", "--seed", seed, NULL)
	assert_int_equal(RUN_LITE("detl1", "5"), 0);
	assert_int_equal(RUN_LITE("detl2", "5"), 0);
	assert_int_equal(RUN_LITE("detl3", "6"), 0);
	assert_true(same_weights("detl1", "detl2"));
	assert_false(same_weights("detl1", "detl3"));
	/* --weight-dropout reaches the convs: without it, other weights */
	assert_int_equal(train(CFG_LITE, "rev", "detl4", "--max-steps", "12",
			       "--max-tokens", "200", "--lr", "1e-3", "--warmup", "4",
			       "--dropout", "0.2", "--weight-dropout", "0",
			       "--attention-dropout", "0.1", "--seed", "5", NULL), 0);
	assert_false(same_weights("detl1", "detl4"));
}

/* The same for LightConv's input dropout and the adaptive softmax's: equal
 * seeds give equal weights, and the flag reaches the model (without it,
 * other weights). */
static void test_determinism_input_dropouts(void **state)
{
	(void)state;
#define RUN_LC(run, seed, p) train(CFG_LIGHTCONV, "rev", run, "--max-steps", \
				   "12", "--max-tokens", "200", "--lr", "1e-3", \
				   "--warmup", "4", "--input-dropout", p, \
				   "--weight-dropout", "0.1", "--seed", seed, NULL)
	assert_int_equal(RUN_LC("detc1", "5", "0.2"), 0);
	assert_int_equal(RUN_LC("detc2", "5", "0.2"), 0);
	assert_int_equal(RUN_LC("detc3", "5", "0"), 0);
	assert_true(same_weights("detc1", "detc2"));
	assert_false(same_weights("detc1", "detc3"));
	assert_non_null(strstr(out_buf, "\"input_dropout\":"));
#define RUN_AD(run, seed, p) train(CFG_LM_ADAPTIVE, "count", run, "--max-steps", \
				   "12", "--max-tokens", "200", "--lr", "1e-3", \
				   "--warmup", "4", "--adaptive-softmax-dropout", p, \
				   "--seed", seed, NULL)
	assert_int_equal(RUN_AD("deta1", "5", "0.3"), 0);
	assert_int_equal(RUN_AD("deta2", "5", "0.3"), 0);
	assert_int_equal(RUN_AD("deta3", "5", "0"), 0);
	assert_true(same_weights("deta1", "deta2"));
	assert_false(same_weights("deta1", "deta3"));
	/* a Transformer has no site for either: harmless, same weights */
	assert_int_equal(RUN("deti1", "5"), 0);
	assert_int_equal(train(CFG, "rev", "deti2", "--max-steps", "12",
			       "--max-tokens", "200", "--lr", "1e-3", "--warmup", "4",
			       "--attention-dropout", "0.1", "--activation-dropout",
			       "0.1", "--clip-norm", "1", "--seed", "5",
			       "--input-dropout", "0.3", "--adaptive-softmax-dropout",
			       "0.3", NULL), 0);
	assert_true(same_weights("deti1", "deti2"));
}

/* Starts archex train with --resume after the first launch. */
static pid_t launch(bool resume)
{
	char dpath[600], rpath[600];
	snprintf(dpath, sizeof dpath, "%s/rev", tmpdir);
	snprintf(rpath, sizeof rpath, "%s/killed", tmpdir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { (char *)AX_CLI, "train", (char *)CFG, "--data", dpath,
				 "--out", rpath, "--max-steps", "40", "--save-every",
				 "3", "--max-tokens", "200", "--dropout", "0.1",
				 "--warmup", "5", "--lr", "1e-3",
				 resume ? "--resume" : NULL, NULL };
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void test_kill_resume(void **state)
{
	(void)state;
	assert_int_equal(train(CFG, "rev", "whole", "--max-steps", "40",
			       "--save-every", "3", "--max-tokens", "200",
			       "--dropout", "0.1", "--warmup", "5", "--lr", "1e-3",
			       NULL), 0);
	char ck[700];
	snprintf(ck, sizeof ck, "%s/killed/checkpoint", tmpdir);
	srand((unsigned)time(NULL));
	int kills = 0, status = -1;
	for (int round = 0; round < 60; round++) {
		pid_t pid = launch(access(ck, F_OK) == 0);
		struct timespec ts = { 0, (long)(rand() % 60) * 1000000L };
		nanosleep(&ts, NULL);
		if (round < 8 && kill(pid, SIGKILL) == 0)
			kills++;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			break;
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("kill/resume: %d SIGKILLs, final weights %s\n", kills,
	       same_weights("whole", "killed") ? "bit-identical" : "DIFFERENT");
	assert_true(same_weights("whole", "killed"));
}

/* Runs train() with the file-size limit at `limit` bytes and SIGXFSZ
 * ignored, both inherited by the child: a write past the limit then
 * fails with EFBIG, as a full disk fails with ENOSPC. */
static int train_limited(rlim_t limit, const char *run, const char *steps)
{
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = limit;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = train(CFG, "rev", run, "--max-steps", steps, "--save-every", "3",
		       "--max-tokens", "200", "--dropout", "0.1", "--warmup", "5",
		       "--lr", "1e-3", "--resume", NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	return rc;
}

/* The disk fills while a checkpoint is written: exit 1 naming the
 * checkpoint, the previous one intact and no temporary left, and
 * --resume from it ends bit-identical to an uninterrupted run. */
static void test_disk_full(void **state)
{
	(void)state;
#define FULL_RUN(run, steps, ...) train(CFG, "rev", run, "--max-steps", steps, \
			 "--save-every", "3", "--max-tokens", "200", "--dropout", \
			 "0.1", "--warmup", "5", "--lr", "1e-3", __VA_ARGS__)
	assert_int_equal(FULL_RUN("full12", "12", NULL), 0);
	assert_int_equal(FULL_RUN("full", "6", NULL), 0);
	static char before[1 << 20], after[1 << 20];
	size_t n = slurp("full", "checkpoint", before, sizeof before);
	assert_true(n > 4096 && n < sizeof before);
	int rc = train_limited((rlim_t)(n / 2), "full", "12");
	printf("disk full: exit %d, %s", rc, err_buf);
	assert_int_equal(rc, 1);
	char want[700];
	snprintf(want, sizeof want, "%s/full/checkpoint: error: cannot write the "
		 "checkpoint: %s", tmpdir, strerror(EFBIG));
	assert_non_null(strstr(err_buf, want));
	assert_int_equal(slurp("full", "checkpoint", after, sizeof after), n);
	assert_memory_equal(before, after, n);
	char dir[700];
	snprintf(dir, sizeof dir, "%s/full", tmpdir);
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	for (struct dirent *e; (e = readdir(dp));)
		assert_null(strstr(e->d_name, ".tmp."));
	closedir(dp);
	assert_int_equal(FULL_RUN("full", "12", "--resume", NULL), 0);
	assert_true(same_weights("full12", "full"));
#undef FULL_RUN
}

static void expect_fail(int rc, const char *msg)
{
	if (rc != 1 || !strstr(err_buf, msg))
		fprintf(stderr, "rc %d, stderr: %s\nwanted: %s\n", rc, err_buf, msg);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(err_buf, msg));
}

static void test_bad_inputs(void **state)
{
	(void)state;
	write_dataset("wide", 50, 40);
	expect_fail(train(CFG, "wide", "bad1", "--max-steps", "1", NULL),
		    "out of the model's vocabulary");
	/* corrupt data: a token file cut short */
	char path[700];
	snprintf(path, sizeof path, "%s/wide/train.src.bin", tmpdir);
	assert_int_equal(truncate(path, 40), 0);
	expect_fail(train(CFG_PRE, "wide", "bad1", "--max-steps", "1", NULL),
		    "train.src.bin");
	expect_fail(train(CFG, "rev", "bad2", "--max-steps", "1", "--resume", NULL),
		    "no checkpoint to resume from");
	assert_int_equal(train(CFG, "rev", "bad3", "--max-steps", "2", NULL), 0);
	expect_fail(train(CFG, "rev", "bad3", "--max-steps", "4", "--lr", "1e-3",
			  "--resume", NULL), "other hyperparameters: lr");
	expect_fail(train(CFG_PRE, "rev", "bad3", "--max-steps", "4", "--resume",
			  NULL), "checkpoint of another config");
	expect_fail(train(CFG, "rev", "bad3", "--max-steps", "4", NULL),
		    "a checkpoint is already there");
	expect_fail(train(CFG_LM, "rev", "bad6", "--max-steps", "1", NULL),
		    "a translation dataset cannot train a language model");
	assert_int_equal(train(CFG, "rev", "bad5", NULL), 2);
}

/* A number of the summary's "hparams" object. */
static double hparam(const char *key)
{
	char k[64];
	const char *h = strstr(out_buf, "\"hparams\"");
	assert_non_null(h);
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(h, k);
	assert_non_null(p);
	return strtod(p + strlen(k), NULL);
}

/* tmpdir/name: CFG plus a train: section. */
static void write_recipe_config(const char *name, const char *train_yaml)
{
	static char text[4096];
	FILE *f = fopen(CFG, "rb");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	char path[700];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fprintf(f, "%s%s", text, train_yaml);
	assert_int_equal(fclose(f), 0);
}

/* The hyperparameters come from train:, a flag overrides its key, and
 * the same recipe given by flags alone trains bit-identical weights. */
static void test_recipe_from_config(void **state)
{
	(void)state;
	char cfg[700];
	write_recipe_config("recipe.yaml", "train:\n  lr: 2e-3\n  warmup: 3\n"
			    "  max_tokens: 200\n  dropout: 0.2\n");
	snprintf(cfg, sizeof cfg, "%s/recipe.yaml", tmpdir);
	assert_int_equal(train(cfg, "rev", "yaml", "--max-steps", "3", NULL), 0);
	assert_true(hparam("lr") == 2e-3);
	assert_true(hparam("warmup") == 3);
	assert_true(hparam("max_tokens") == 200);
	assert_true(hparam("dropout") == 0.2);
	assert_true(hparam("beta2") == 0.98);   /* not in the file: default */
	char recipe[17];
	const char *rh = strstr(out_buf, "\"recipe_hash\": \"");
	assert_non_null(rh);
	assert_int_equal(sscanf(rh, "\"recipe_hash\": \"%16[0-9a-f]", recipe), 1);
	/* the schedule ran with the file's lr and warmup: update 3 uses
	 * 2 * 2e-3 / 3 */
	static char log[1 << 16];
	size_t n = slurp("yaml", "train.jsonl", log, sizeof log - 1);
	log[n] = '\0';
	assert_non_null(strstr(log, "\"step\":3,\"epoch\":0,"));
	const char *l3 = strstr(log, "\"step\":3,");
	assert_non_null(strstr(l3, "\"lr\":0.00133333,"));

	/* a flag overrides its key; the rest stay the file's */
	assert_int_equal(train(cfg, "rev", "flag", "--max-steps", "3", "--lr",
			       "1e-3", "--beta2", "0.95", NULL), 0);
	assert_true(hparam("lr") == 1e-3);
	assert_true(hparam("beta2") == 0.95);   /* every row has its flag */
	assert_true(hparam("warmup") == 3 && hparam("dropout") == 0.2);
	assert_null(strstr(out_buf, recipe));

	/* the same recipe from flags alone: the same weights and recipe */
	assert_int_equal(train(CFG, "rev", "flags", "--max-steps", "3", "--lr",
			       "2e-3", "--warmup", "3", "--max-tokens", "200",
			       "--dropout", "0.2", NULL), 0);
	assert_non_null(strstr(out_buf, recipe));
	assert_true(same_weights("yaml", "flags"));
	assert_false(same_weights("yaml", "flag"));

	/* resuming under another train: section names the difference */
	write_recipe_config("recipe2.yaml", "train:\n  lr: 3e-3\n  warmup: 3\n"
			    "  max_tokens: 200\n  dropout: 0.2\n");
	snprintf(cfg, sizeof cfg, "%s/recipe2.yaml", tmpdir);
	expect_fail(train(cfg, "rev", "yaml", "--max-steps", "4", "--resume", NULL),
		    "other hyperparameters: lr");
	/* a bad value in the section: the loader's file:line:col */
	write_recipe_config("recipe3.yaml", "train:\n  lr: .inf\n");
	snprintf(cfg, sizeof cfg, "%s/recipe3.yaml", tmpdir);
	expect_fail(train(cfg, "rev", "bad7", "--max-steps", "1", NULL),
		    "recipe3.yaml:18:7: error: train.lr: .inf is not a finite number");
}

/* RUN/config.yaml: the resolved config (the flags' recipe in its train:
 * section) with the original's hash; `archex run RUN` and `archex eval
 * RUN` load it with RUN/weights and print what the config and
 * --weights RUN/weights print; a directory without config.yaml is
 * refused. */
/* s without its wall times: run's last ", ... ms", eval's "scoring" line. */
static void cut_time(char *s)
{
	char *c = strstr(s, "\nscoring ");
	if (!c)
		c = strrchr(s, ',');
	if (c)
		*c = '\0';
}

static void test_run_dir(void **state)
{
	(void)state;
	assert_int_equal(train(CFG, "rev", "rundir", "--max-steps", "20", "--lr",
			       "3e-3", "--warmup", "5", NULL), 0);
	char run[700], cpath[800], wpath[800], data[700];
	snprintf(run, sizeof run, "%s/rundir", tmpdir);
	snprintf(cpath, sizeof cpath, "%s/config.yaml", run);
	snprintf(wpath, sizeof wpath, "%s/weights", run);
	snprintf(data, sizeof data, "%s/rev", tmpdir);
	static struct ax_config orig, got;
	struct ax_diag d = { 0 };
	assert_int_equal(ax_config_load(CFG, &orig, &d), AX_OK);
	assert_int_equal(ax_config_load(cpath, &got, &d), AX_OK);
	assert_true(ax_config_hash(&got) == ax_config_hash(&orig));
	assert_true(got.train.enabled && got.train.lr == 3e-3 && got.train.warmup == 5);
	char recipe[40];
	snprintf(recipe, sizeof recipe, "\"recipe_hash\": \"%016" PRIx64 "\"",
		 ax_config_recipe_hash(&got));
	assert_non_null(strstr(out_buf, recipe));   /* the run's own recipe */

	static char want[1 << 16];
	char *by_cfg[] = { (char *)AX_CLI, "run", (char *)CFG, "--weights", wpath,
			   "--src", "5 9 12 7 4", "--beam", "3", NULL };
	assert_int_equal(ax_test_run(by_cfg, want, sizeof want, err_buf,
				     sizeof err_buf), 0);
	char *by_run[] = { (char *)AX_CLI, "run", run, "--src", "5 9 12 7 4",
			   "--beam", "3", NULL };
	assert_int_equal(ax_test_run(by_run, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	cut_time(want);
	cut_time(out_buf);
	assert_non_null(strstr(want, "# score "));
	assert_string_equal(out_buf, want);
	/* --seed still means random weights, not RUN/weights */
	char *seeded[] = { (char *)AX_CLI, "run", run, "--seed", "7", "--src",
			   "5 9 12 7 4", "--beam", "3", NULL };
	assert_int_equal(ax_test_run(seeded, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	cut_time(out_buf);
	assert_string_not_equal(out_buf, want);

	char *ev_cfg[] = { (char *)AX_CLI, "eval", cpath, "--weights", wpath,
			   "--data", data, "--split", "valid", "--no-decode", NULL };
	assert_int_equal(ax_test_run(ev_cfg, want, sizeof want, err_buf,
				     sizeof err_buf), 0);
	char *ev_run[] = { (char *)AX_CLI, "eval", run, "--data", data, "--split",
			   "valid", "--no-decode", NULL };
	assert_int_equal(ax_test_run(ev_run, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 0);
	cut_time(want);
	cut_time(out_buf);
	assert_non_null(strstr(want, "perplexity"));
	assert_string_equal(out_buf, want);

	char *none[] = { (char *)AX_CLI, "run", data, "--src", "5", NULL };
	assert_int_equal(ax_test_run(none, out_buf, sizeof out_buf, err_buf,
				     sizeof err_buf), 1);
	snprintf(want, sizeof want, "%s: error: a directory without config.yaml: "
		 "give a config file, or a run directory written by 'archex "
		 "train'\n", data);
	assert_string_equal(err_buf, want);
}

static int setup(void **state)
{
	(void)state;
	return ax_test_tmpdir_make("test_train");
}

static int teardown(void **state)
{
	(void)state;
	return ax_test_tmpdir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_grad),
		cmocka_unit_test(test_model_grad_families),
		cmocka_unit_test(test_model_grad_dropout),
		cmocka_unit_test(test_batcher),
		cmocka_unit_test(test_learn),
		cmocka_unit_test(test_learn_lite),
		cmocka_unit_test(test_learn_lm),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_determinism_input_dropouts),
		cmocka_unit_test(test_kill_resume),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_recipe_from_config),
		cmocka_unit_test(test_run_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
