/*
 * test_precision.c - `--precision` in the executor (ax_exec_set_precision),
 * per family (every config of tests/configs/oracle), at bf16 and int8, on
 * the portable path (forced) and on the best path this CPU runs:
 *   - wiring: the quantized executor equals an fp32 executor whose
 *     quantized weights were replaced by their dequantized values, in
 *     teacher-forced scoring (few rows: the streaming kernels; many rows:
 *     the dequantized tiles through sgemm) and in greedy decoding, within
 *     fp32 rounding; executed MACs still equal the cost model's `exact`;
 *   - accuracy: against plain fp32, the worst log-probability error stays
 *     within a stated bound, teacher-forced argmax agrees at a stated
 *     share of positions, and greedy decoding picks the same tokens up
 *     to a step where fp32 itself nearly ties (within twice the bound);
 *   - int8 weights with 16-bit activations (ax_exec_opts.act, the
 *     default at int8) within int8's bound, and with int8 activations
 *     within their own stated bound of fp32, on the same greedy path up
 *     to near ties (the wiring checks above run fp32 activations);
 *   - fp32 stays the default: no copies, and set_precision(fp32) drops
 *     them; the kernels' tiled and embedding twins against the refs;
 *   - memory: a reduced-precision executor holds no fp32 storage for its
 *     quantized weights, and its weight bytes equal ax_exec_memory's
 *     prediction and the model size at that precision; laying out at p,
 *     switching an fp32 executor to p and loading a file at p agree.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "cost.h"
#include "exec.h"
#include "graph.h"
#include "kernels.h"
#include "kernels_q.h"
#include "model.h"
#include "size.h"

/* Stated accuracy bounds on the oracle models (random weights, d = 24..32):
 * worst |log p - log p_fp32| over every position and word, and the share
 * of teacher-forced positions whose argmax agrees. */
#define BF16_MAX_LOGP_ERR 0.02
#define INT8_MAX_LOGP_ERR 0.04
/* int8 weights with int8 activations (--activations int8) */
#define INT8_A8_MAX_LOGP_ERR 0.06
#define MIN_ARGMAX_AGREE 0.90

enum { S_LEN = 9, T_LEN = 10, BATCH = 2 };

static void fill_tokens(int32_t *t, int64_t n, int64_t vocab, uint32_t seed)
{
	for (int64_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		t[i] = 4 + (int32_t)((seed >> 8) % (uint32_t)(vocab - 4));
	}
}

struct model {
	struct ax_config cfg;
	struct ax_graph g;
	bool lm;
	int32_t src[BATCH * S_LEN], tgt[BATCH * T_LEN];
};

/* vocab > 0 overrides the config's vocabularies (a table larger than
 * one quantization block). */
static void model_load_vocab(struct model *m, const char *path, int64_t vocab)
{
	struct ax_diag d = { 0 };
	if (ax_config_load(path, &m->cfg, &d) != AX_OK)
		fail_msg("%s: %s", path, d.msg);
	if (vocab > 0)
		m->cfg.vocab_source = m->cfg.vocab_target = vocab;
	ax_graph_init(&m->g);
	assert_int_equal(ax_model_build(&m->cfg, &m->g, &d), AX_OK);
	m->lm = !m->g.has_encoder;
	int64_t vt = m->cfg.adaptive.enabled ? m->cfg.adaptive.cutoff[0] :
		     m->cfg.vocab_target;
	fill_tokens(m->src, BATCH * S_LEN, m->lm ? 10 : m->cfg.vocab_source, 31);
	fill_tokens(m->tgt, BATCH * T_LEN, vt, 32);
	for (int b = 0; b < BATCH; b++)
		m->tgt[b * T_LEN] = m->g.start_token;
}

static void model_load(struct model *m, const char *path)
{
	model_load_vocab(m, path, 0);
}

/* The weights executor q runs from a copy, written back into f's fp32
 * arena as their dequantized values. */
static void fake_quantize(struct ax_exec *f, const struct ax_exec *q,
			  enum ax_precision prec)
{
	const struct ax_graph *g = f->g;
	for (int32_t p = 0; p < g->n_params; p++) {
		if (!ax_exec_param_quantized(q, p))
			continue;
		int64_t r = g->params[p].rows, c = g->params[p].cols;
		float *w = f->weights + f->param_off[p];
		int8_t *q8 = malloc((size_t)(r * c));
		uint16_t *h = malloc((size_t)(r * c) * sizeof *h);
		float *sc = malloc((size_t)r * sizeof *sc);
		assert_true(q8 && h && sc);
		if (prec == AX_PREC_INT8) {
			ax_q8_quantize(q8, sc, w, r, c);
			for (int64_t k = 0; k < r * c; k++)
				w[k] = sc[k / c] * (float)q8[k];
		} else {
			ax_bf16_from_f32(h, w, r * c);
			for (int64_t k = 0; k < r * c; k++)
				w[k] = ax_bf16_to_f32(h[k]);
		}
		free(q8), free(h), free(sc);
	}
}

/* The activations of the int8 executors exec_open makes (check_act). */
static enum ax_act test_act = AX_ACT_FP32;

/* An executor on m: mode, batch, precision, weights from seed 5; fq makes
 * it the fp32 executor on the dequantized weights of `prec`. */
static void exec_open(struct ax_exec *x, struct model *m, enum ax_mode mode,
		      int64_t batch, enum ax_precision prec, bool fq)
{
	struct ax_diag d = { 0 };
	struct ax_exec_opts o = { .mode = mode, .batch = batch,
				  .max_src = m->lm ? 0 : S_LEN, .max_tgt = T_LEN,
				  .precision = fq ? AX_PREC_FP32 : prec,
				  .act = test_act };
	/* laid out at prec: the weights are quantized block by block as
	 * they are made, never held in fp32 */
	assert_int_equal(ax_exec_init(x, &m->g, &o, &d), AX_OK);
	ax_exec_init_weights(x, 5);
	if (fq) {
		struct ax_exec q;
		o.precision = prec;
		assert_int_equal(ax_exec_init(&q, &m->g, &o, &d), AX_OK);
		fake_quantize(x, &q, prec);
		ax_exec_free(&q);
	}
}

/* Teacher-forced log-probs of `batch` pairs: (batch*T, V) into lp; MACs
 * checked against the cost model. */
static void score(struct model *m, int64_t batch, enum ax_precision prec,
		  bool fq, float *lp)
{
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_cost cost;
	int64_t S = m->lm ? 0 : S_LEN;
	exec_open(&x, m, AX_MODE_SEQUENCE, batch, prec, fq);
	assert_int_equal(ax_exec_forward(&x, m->lm ? NULL : m->src, S, m->tgt,
					 T_LEN, &d), AX_OK);
	ax_cost_graph(&m->g, AX_CONVENTION_EXACT, AX_MODE_SEQUENCE, &cost);
	assert_int_equal(ax_exec_macs(&x, NULL) - ax_cost_adaptive_input_delta(
				 &m->g, m->tgt, batch * T_LEN),
			 batch * ax_poly_eval(&cost.macs, S, T_LEN));
	int64_t V = ax_exec_vocab(&x), ld = x.ld[m->g.logits];
	for (int64_t r = 0; r < batch * T_LEN; r++)
		memcpy(lp + r * V, ax_exec_logprobs(&x) + r * ld, (size_t)V * sizeof *lp);
	ax_exec_free(&x);
}

/* Greedy decoding of T_LEN steps (argmax, nothing banned): the tokens and
 * the (T, V) log-probs of every step. */
static void greedy(struct model *m, enum ax_precision prec, bool fq,
		   int32_t *toks, float *lp)
{
	struct ax_exec x;
	struct ax_diag d = { 0 };
	exec_open(&x, m, AX_MODE_INCREMENTAL, 1, prec, fq);
	assert_int_equal(ax_exec_encode(&x, m->lm ? NULL : m->src,
					m->lm ? 0 : S_LEN, &d), AX_OK);
	int64_t V = ax_exec_vocab(&x);
	int32_t tok = ax_exec_start_token(&x);
	for (int64_t t = 0; t < T_LEN; t++) {
		assert_int_equal(ax_exec_step(&x, &tok, &d), AX_OK);
		const float *row = ax_exec_logprobs(&x);
		int32_t best = 0;
		for (int32_t w = 1; w < V; w++)
			best = row[w] > row[best] ? w : best;
		memcpy(lp + t * V, row, (size_t)V * sizeof *lp);
		toks[t] = tok = best;
	}
	ax_exec_free(&x);
}

static double worst_err(const float *a, const float *b, int64_t n, bool rel)
{
	double w = 0;
	for (int64_t k = 0; k < n; k++) {
		double e = fabs((double)a[k] - b[k]) / (rel ? 1.0 + fabs((double)b[k]) : 1.0);
		w = e > w || isnan(e) ? e : w;
	}
	return w;
}

static int64_t argmax(const float *r, int64_t V)
{
	int64_t b = 0;
	for (int64_t w = 1; w < V; w++)
		b = r[w] > r[b] ? w : b;
	return b;
}

/* One config at one precision on the current path. */
static void check_config(struct model *m, enum ax_precision prec)
{
	int64_t V = m->g.tensors[m->g.logits].width, n = BATCH * T_LEN * V;
	float *ref = malloc((size_t)n * sizeof *ref), *fq = malloc((size_t)n * sizeof *fq);
	float *q = malloc((size_t)n * sizeof *q);
	int32_t tr[T_LEN], tf[T_LEN], tq[T_LEN];
	assert_true(ref && fq && q);
	/* AVX512-BF16 also rounds the activations to bf16 */
	double wire = prec == AX_PREC_BF16 && ax_kq_path() == AX_KQ_AVX512BF16 ?
		      5e-2 : 2e-4;
	const char *name = ax_precision_names[prec];
	for (int64_t batch = 1; batch <= BATCH; batch++) {
		/* batch 2 gives 20 target rows: the tiled path */
		score(m, batch, prec, true, fq);
		score(m, batch, prec, false, q);
		double e = worst_err(q, fq, batch * T_LEN * V, true);
		if (e > wire)
			fail_msg("%s %s batch %lld: quantized vs dequantized fp32: %g",
				 m->cfg.name, name, (long long)batch, e);
	}
	score(m, BATCH, AX_PREC_FP32, false, ref);
	double e = worst_err(q, ref, n, false), e_tf = e;
	int64_t agree = 0;
	for (int64_t r = 0; r < BATCH * T_LEN; r++)
		agree += argmax(q + r * V, V) == argmax(ref + r * V, V);
	double bound = prec == AX_PREC_INT8 ? INT8_MAX_LOGP_ERR : BF16_MAX_LOGP_ERR;
	if (e > bound || agree < MIN_ARGMAX_AGREE * BATCH * T_LEN)
		fail_msg("%s %s: worst log-prob error %g (bound %g), argmax agreement %lld/%d",
			 m->cfg.name, name, e, bound, (long long)agree, BATCH * T_LEN);
	greedy(m, AX_PREC_FP32, false, tr, ref);
	greedy(m, prec, true, tf, fq);
	greedy(m, prec, false, tq, q);
	e = worst_err(q, fq, T_LEN * V, true);
	if (e > wire || memcmp(tq, tf, sizeof tq))
		fail_msg("%s %s greedy: quantized vs dequantized fp32: %g", m->cfg.name, name, e);
	int same = 0;
	while (same < T_LEN && tq[same] == tr[same])
		same++;
	/* a greedy path may only part where fp32 itself nearly ties: the
	 * two tokens' fp32 log-probs within twice the error bound */
	if (same < T_LEN && ref[same * V + tr[same]] - ref[same * V + tq[same]] > 2 * bound)
		fail_msg("%s %s: greedy step %d picks %d, fp32 %d by a margin of %g",
			 m->cfg.name, name, same, tq[same], tr[same],
			 ref[same * V + tr[same]] - ref[same * V + tq[same]]);
	print_message("%-28s %s worst log-prob err %.4f, argmax agree %lld/%d, greedy same %d/%d\n",
		      m->cfg.name, name, e_tf, (long long)agree, BATCH * T_LEN, same, T_LEN);
	free(ref), free(fq), free(q);
}

/* int8 weights with quantized activations `act` (the streaming kernel:
 * batch 1 is T_LEN rows) against plain fp32 and against int8 with fp32
 * activations: within `bound`, argmax agreement, greedy tokens up to a
 * near tie of fp32, and not equal to the fp32-activation result (the
 * activations were quantized). int16 (the default) is held to int8's
 * bound, int8 activations to INT8_A8_MAX_LOGP_ERR. */
static void check_act(struct model *m, enum ax_act act, double bound)
{
	int64_t V = m->g.tensors[m->g.logits].width, n = T_LEN * V;
	const char *name = act == AX_ACT_INT8 ? "int8/a8" : "int8/a16";
	float *ref = malloc((size_t)n * sizeof *ref), *a8 = malloc((size_t)n * sizeof *a8);
	float *q = malloc((size_t)n * sizeof *q);
	int32_t tr[T_LEN], ta[T_LEN];
	assert_true(ref && a8 && q);
	score(m, 1, AX_PREC_FP32, false, ref);
	score(m, 1, AX_PREC_INT8, false, q);
	test_act = act;
	score(m, 1, AX_PREC_INT8, false, a8);
	test_act = AX_ACT_FP32;
	double e = worst_err(a8, ref, n, false);
	int64_t agree = 0;
	for (int64_t r = 0; r < T_LEN; r++)
		agree += argmax(a8 + r * V, V) == argmax(ref + r * V, V);
	if (e > bound || agree < MIN_ARGMAX_AGREE * T_LEN)
		fail_msg("%s %s: worst log-prob error %g (bound %g), argmax agreement %lld/%d",
			 m->cfg.name, name, e, bound, (long long)agree, T_LEN);
	assert_true(worst_err(a8, q, n, false) > 0);
	greedy(m, AX_PREC_FP32, false, tr, ref);
	test_act = act;
	greedy(m, AX_PREC_INT8, false, ta, a8);
	test_act = AX_ACT_FP32;
	int same = 0;
	while (same < T_LEN && ta[same] == tr[same])
		same++;
	if (same < T_LEN &&
	    ref[same * V + tr[same]] - ref[same * V + ta[same]] > 2 * bound)
		fail_msg("%s %s: greedy step %d picks %d, fp32 %d by a margin of %g",
			 m->cfg.name, name, same, ta[same], tr[same],
			 ref[same * V + tr[same]] - ref[same * V + ta[same]]);
	print_message("%-28s %s worst log-prob err %.4f, argmax agree %lld/%d, greedy same %d/%d\n",
		      m->cfg.name, name, e, (long long)agree, T_LEN, same, T_LEN);
	free(ref), free(a8), free(q);
}

static void check_all(enum ax_kq_path path)
{
	const char *dir = AX_SOURCE_DIR "/tests/configs/oracle";
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	assert_true(ax_kq_set_path(path));
	struct dirent *e;
	int n = 0;
	while ((e = readdir(dp))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		char path_[1024];
		snprintf(path_, sizeof path_, "%s/%s", dir, e->d_name);
		struct model *m = calloc(1, sizeof *m);
		assert_non_null(m);
		model_load(m, path_);
		check_config(m, AX_PREC_BF16);
		check_config(m, AX_PREC_INT8);
		check_act(m, AX_ACT_INT16, INT8_MAX_LOGP_ERR);
		check_act(m, AX_ACT_INT8, INT8_A8_MAX_LOGP_ERR);
		ax_graph_free(&m->g);
		free(m);
		n++;
	}
	closedir(dp);
	assert_true(n >= 9);
	assert_true(ax_kq_set_path(AX_KQ_AUTO));
}

static void test_portable(void **state)
{
	(void)state;
	check_all(AX_KQ_PORTABLE);
}

static void test_best_path(void **state)
{
	(void)state;
	if (ax_kq_path() == AX_KQ_PORTABLE)
		skip();
	check_all(ax_kq_path());
}

/* fp32 is the default and keeps no copies; set_precision(fp32) drops
 * them; only LINEAR weights, EMBED tables and the adaptive input's and
 * softmax's tables and projections are quantized, the adaptive ones all. */
static void test_default_fp32(void **state)
{
	(void)state;
	struct model *m = calloc(1, sizeof *m);
	assert_non_null(m);
	model_load(m, AX_SOURCE_DIR "/tests/configs/oracle/lite-lm-adaptive.yaml");
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_exec_opts o = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				  .max_src = 0, .max_tgt = T_LEN };
	assert_int_equal(ax_exec_init(&x, &m->g, &o, &d), AX_OK);
	assert_int_equal(x.precision, AX_PREC_FP32);
	assert_null(x.qweights);
	assert_int_equal(ax_exec_set_precision(&x, AX_PREC_INT8, &d), AX_OK);
	int quantized = 0, adaptive = 0;
	for (int32_t p = 0; p < m->g.n_params; p++) {
		enum ax_op_kind k = m->g.ops[m->g.params[p].owner].kind;
		bool ad = k == AX_OP_ADAPTIVE_INPUT || k == AX_OP_ADAPTIVE_SOFTMAX;
		if (ad && ax_size_param_quantizable(&m->g, p)) {
			assert_true(ax_exec_param_quantized(&x, p));
			adaptive++;
		}
		if (!ax_exec_param_quantized(&x, p))
			continue;
		quantized++;
		assert_true(k == AX_OP_LINEAR || k == AX_OP_EMBED || ad);
		assert_true(ax_size_param_quantizable(&m->g, p));
	}
	/* tables and projections of 3 bands, tied, and W_cls */
	assert_int_equal(adaptive, 7);
	assert_true(quantized > adaptive);
	assert_int_equal(ax_exec_set_precision(&x, AX_PREC_FP32, &d), AX_OK);
	assert_null(x.qweights);
	for (int32_t p = 0; p < m->g.n_params; p++)
		assert_false(ax_exec_param_quantized(&x, p));
	ax_exec_free(&x);
	ax_graph_free(&m->g);
	free(m);
}

/* Bytes of the weights an executor holds: its fp32 arena and its
 * quantized copies with their scales. */
static int64_t held_bytes(const struct ax_exec *x)
{
	return (int64_t)sizeof(float) * (x->n_weights + x->n_qscales) + x->n_qbytes;
}

/* At bf16 and int8 the executor holds the reduced size: no fp32 storage
 * for a quantized parameter, the arena only for the others; that equals
 * ax_exec_memory's prediction, and (up to 64-byte alignment) count's
 * model bytes at that precision, since every quantizable parameter runs
 * quantized (the adaptive tables and projections too). */
static void test_memory_held(void **state)
{
	(void)state;
	const char *names[] = { "transformer-post", "lite-lm", "lite-lm-adaptive",
				"evolved", "lightconv-mixed" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char path[512];
		snprintf(path, sizeof path, AX_SOURCE_DIR "/tests/configs/oracle/%s.yaml",
			 names[i]);
		struct model *m = calloc(1, sizeof *m);
		assert_non_null(m);
		model_load(m, path);
		struct ax_model_size z;
		ax_size_model(&m->g, 0, &z);
		for (int p = 0; p < AX_PREC_COUNT; p++) {
			struct ax_exec x;
			struct ax_exec_memory mem;
			struct ax_diag d = { 0 };
			struct ax_exec_opts o = { .mode = AX_MODE_INCREMENTAL, .batch = 2,
						  .max_src = m->lm ? 0 : S_LEN,
						  .max_tgt = T_LEN,
						  .precision = (enum ax_precision)p };
			assert_int_equal(ax_exec_init(&x, &m->g, &o, &d), AX_OK);
			assert_int_equal(ax_exec_memory(&m->g, &o, &mem, &d), AX_OK);
			assert_int_equal(mem.weights, held_bytes(&x));
			assert_int_equal(mem.weights_fp32, (int64_t)sizeof(float) * x.n_weights);
			/* exec-side accounting: what each parameter is stored as */
			int64_t fp32 = 0, q = 0, quantized = 0;
			for (int32_t k = 0; k < m->g.n_params; k++) {
				int64_t r = m->g.params[k].rows, c = m->g.params[k].cols;
				if (!ax_exec_param_quantized(&x, k)) {
					assert_true(x.param_off[k] >= 0);
					fp32 += (r * c + 15) / 16 * 16;
					continue;
				}
				quantized++;
				assert_int_equal(x.param_off[k], -1);
				q += ((p == AX_PREC_INT8 ? 1 : 2) * r * c + 63) / 64 * 64;
				q += p == AX_PREC_INT8 ? 4 * r : 0;
			}
			assert_int_equal(4 * fp32 + q, held_bytes(&x));
			assert_true(p == AX_PREC_FP32 ? quantized == 0 : quantized > 0);
			assert_true(mem.weights >= z.bytes[p]);
			assert_true(mem.weights - z.bytes[p] <= 64 * m->g.n_params);
			if (p == AX_PREC_INT8)   /* about a quarter of fp32 */
				assert_true(4 * held_bytes(&x) < 2 * z.bytes[AX_PREC_FP32]);
			ax_exec_free(&x);
		}
		ax_graph_free(&m->g);
		free(m);
	}
}

/* The three ways to a quantized executor hold the same bytes: laid out
 * at p and initialised block by block, an fp32 executor switched to p,
 * and one at p loading an fp32 weights file block by block. Switching
 * back to fp32 yields the dequantized values; saving at p is refused. */
static void layouts_agree(int64_t vocab)
{
	struct model *m = calloc(1, sizeof *m);
	assert_non_null(m);
	model_load_vocab(m, AX_SOURCE_DIR "/tests/configs/oracle/transformer-pre.yaml",
			 vocab);
	char path[] = "/tmp/test_precision_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ax_diag d = { 0 };
	struct ax_exec_opts o = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				  .max_src = S_LEN, .max_tgt = T_LEN };
	struct ax_exec f;
	assert_int_equal(ax_exec_init(&f, &m->g, &o, &d), AX_OK);
	ax_exec_init_weights(&f, 5);
	assert_int_equal(ax_exec_save_weights(&f, path, &d), AX_OK);
	for (int p = AX_PREC_BF16; p < AX_PREC_COUNT; p++) {
		struct ax_exec a, b, c;
		o.precision = (enum ax_precision)p;
		assert_int_equal(ax_exec_init(&a, &m->g, &o, &d), AX_OK);
		ax_exec_init_weights(&a, 5);
		assert_int_equal(ax_exec_init(&c, &m->g, &o, &d), AX_OK);
		assert_int_equal(ax_exec_load_weights(&c, path, &d), AX_OK);
		o.precision = AX_PREC_FP32;
		assert_int_equal(ax_exec_init(&b, &m->g, &o, &d), AX_OK);
		ax_exec_init_weights(&b, 5);
		assert_int_equal(ax_exec_set_precision(&b, (enum ax_precision)p, &d), AX_OK);
		assert_int_equal(held_bytes(&a), held_bytes(&b));
		assert_int_equal(a.n_weights, b.n_weights);
		assert_memory_equal(a.qweights, b.qweights, (size_t)a.n_qbytes);
		assert_memory_equal(a.qweights, c.qweights, (size_t)a.n_qbytes);
		assert_memory_equal(a.qscales, b.qscales, (size_t)a.n_qscales * sizeof(float));
		assert_memory_equal(a.qscales, c.qscales, (size_t)a.n_qscales * sizeof(float));
		assert_memory_equal(a.weights, b.weights, (size_t)a.n_weights * sizeof(float));
		assert_memory_equal(a.weights, c.weights, (size_t)a.n_weights * sizeof(float));
		assert_int_equal(ax_exec_save_weights(&a, path, &d), AX_ERR_INPUT);
		assert_non_null(strstr(d.msg, "no fp32 copy"));
		/* back to fp32: the dequantized values, within the step */
		assert_int_equal(ax_exec_set_precision(&a, AX_PREC_FP32, &d), AX_OK);
		assert_null(a.qweights);
		assert_int_equal(a.n_weights, f.n_weights);
		for (int64_t k = 0; k < f.n_weights; k++)
			assert_true(fabsf(a.weights[k] - f.weights[k]) <=
				    (p == AX_PREC_INT8 ? 0.01f : 0.008f) *
				    (fabsf(f.weights[k]) + 0.2f));
		ax_exec_free(&a), ax_exec_free(&b), ax_exec_free(&c);
	}
	ax_exec_free(&f);
	remove(path);
	ax_graph_free(&m->g);
	free(m);
}

/* With the oracle's vocabulary (every table in one block) and with 70,000
 * words (tables of several initialisation and loading blocks). */
static void test_layouts_agree(void **state)
{
	(void)state;
	layouts_agree(0);
	layouts_agree(70000);
}

/* The tiled (sgemm) kernels against the refs, with strides and a last
 * partial tile; the quantized lookups against ax_k_embed on the
 * dequantized table. */
static void test_kernels(void **state)
{
	(void)state;
	enum { N = 37, I = 70, O = 45, LDI = 73, LDO = 50, V = 9 };
	static float x[N * LDI], W[O * I], b[O], sc[O], ref[N * LDO], y[N * LDO],
		     tile[16 * I], deq[O * I];
	static int8_t q[O * I];
	static uint16_t h[O * I];
	uint32_t s = 1;
	for (int k = 0; k < N * LDI; k++)
		x[k] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	for (int k = 0; k < O * I; k++)
		W[k] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	for (int k = 0; k < O; k++)
		b[k] = 0.01f * (float)k;
	ax_q8_quantize(q, sc, W, O, I);
	ax_bf16_from_f32(h, W, O * I);
	struct ax_k_work w = { 0 };
	ax_k_linear_q8_ref(ref, LDO, x, LDI, q, sc, b, N, I, O, NULL);
	ax_k_linear_q8_tiled(y, LDO, x, LDI, q, sc, b, N, I, O, tile, 16, &w);
	assert_int_equal(w.macs, (int64_t)N * I * O);
	for (int r = 0; r < N; r++)
		assert_true(worst_err(y + r * LDO, ref + r * LDO, O, true) < 1e-5);
	ax_k_linear_bf16_ref(ref, LDO, x, LDI, h, b, N, I, O, NULL);
	ax_k_linear_bf16_tiled(y, LDO, x, LDI, h, b, N, I, O, tile, 16, NULL);
	for (int r = 0; r < N; r++)
		assert_true(worst_err(y + r * LDO, ref + r * LDO, O, true) < 1e-5);
	/* embeddings: a (V, I) table, rows dequantized by hand */
	int32_t tok[4] = { 0, 3, 8, 5 };
	for (int kind = 0; kind < AX_SINUSOID_COUNT; kind++)
		for (int prec = AX_PREC_BF16; prec <= AX_PREC_INT8; prec++) {
			for (int k = 0; k < V * I; k++)
				deq[k] = prec == AX_PREC_INT8 ? sc[k / I] * (float)q[k] :
					 ax_bf16_to_f32(h[k]);
			assert_int_equal(ax_k_embed(ref, LDO + 30, deq, V, tok, 4, I, 2.0f, 3,
						    kind), AX_OK);
			assert_int_equal(prec == AX_PREC_INT8 ?
					 ax_k_embed_q8(y, LDO + 30, q, sc, V, tok, 4, I, 2.0f, 3, kind) :
					 ax_k_embed_bf16(y, LDO + 30, h, V, tok, 4, I, 2.0f, 3, kind),
					 AX_OK);
			for (int j = 0; j < 4; j++)
				assert_memory_equal(y + j * (LDO + 30), ref + j * (LDO + 30),
						    sizeof(float) * I);
			int32_t bad = V;
			assert_int_equal(ax_k_embed_q8(y, LDO + 30, q, sc, V, &bad, 1, I,
						       1.0f, 0, kind), AX_ERR_INPUT);
		}
}

/* The dequantization rows (every path this CPU runs against the refs,
 * bit for bit, with strides and every tail length) and the tiled kernels
 * on inputs wider than a block (cut along k) with several row bands. */
static void test_tiled_blocks(void **state)
{
	(void)state;
	enum { N = 19, I = 1100, O = 70, LDI = 1103, LDO = 75 };
	float *x = malloc(sizeof(float) * N * LDI), *W = malloc(sizeof(float) * O * I);
	float *ref = malloc(sizeof(float) * N * LDO), *y = malloc(sizeof(float) * N * LDO);
	float *t = malloc(sizeof(float) * O * I), *tr = malloc(sizeof(float) * O * I);
	float *tile = malloc(sizeof(float) * 48 * I), b[O], sc[O];
	int8_t *q = malloc((size_t)O * I);
	uint16_t *h = malloc(sizeof(uint16_t) * O * I);
	assert_true(x && W && ref && y && t && tr && tile && q && h);
	uint32_t s = 7;
	for (int k = 0; k < N * LDI; k++)
		x[k] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	for (int k = 0; k < O * I; k++)
		W[k] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	for (int k = 0; k < O; k++)
		b[k] = 0.01f * (float)k;
	ax_q8_quantize(q, sc, W, O, I);
	ax_bf16_from_f32(h, W, O * I);
	for (enum ax_kq_path p = AX_KQ_PORTABLE; p <= ax_kq_path(); p++) {
		assert_true(ax_kq_set_path(p));
		for (int c = 1; c <= 33; c++) {   /* every tail, 3 rows, stride I */
			ax_kq_dequant_q8(t, q + c, I, sc, 3, c);
			ax_kq_dequant_q8_ref(tr, q + c, I, sc, 3, c);
			assert_memory_equal(t, tr, sizeof(float) * 3 * c);
			ax_kq_dequant_bf16(t, h + c, I, 3, c);
			ax_kq_dequant_bf16_ref(tr, h + c, I, 3, c);
			assert_memory_equal(t, tr, sizeof(float) * 3 * c);
		}
		/* 48 rows of I: blocks of 1024 + 76 columns, bands of 48 + 22 */
		ax_k_linear_q8_ref(ref, LDO, x, LDI, q, sc, b, N, I, O, NULL);
		ax_k_linear_q8_tiled(y, LDO, x, LDI, q, sc, b, N, I, O, tile, 48, NULL);
		for (int r = 0; r < N; r++)
			assert_true(worst_err(y + r * LDO, ref + r * LDO, O, true) < 1e-5);
		ax_k_linear_bf16_ref(ref, LDO, x, LDI, h, NULL, N, I, O, NULL);
		ax_k_linear_bf16_tiled(y, LDO, x, LDI, h, NULL, N, I, O, tile, 48, NULL);
		for (int r = 0; r < N; r++)
			assert_true(worst_err(y + r * LDO, ref + r * LDO, O, true) < 1e-5);
	}
	assert_true(ax_kq_set_path(AX_KQ_AUTO));
	/* the tile: >= 2 MiB worth of rows of any width, at least 16 */
	assert_int_equal(ax_kq_tile_rows(512), 1024);
	assert_int_equal(ax_kq_tile_rows(2048), 256);
	assert_int_equal(ax_kq_tile_rows(1 << 20), 16);
	free(x), free(W), free(ref), free(y), free(t), free(tr), free(tile);
	free(q), free(h);
}

/* One random (rows, cols) matrix held at prec: its ax_k_qmat and the
 * fp32 matrix of its dequantized values. */
struct qm {
	int8_t q[32 * 32];
	uint16_t h[32 * 32];
	float scale[32], deq[32 * 32];
	struct ax_k_qmat m;
};

static void qm_make(struct qm *a, int64_t rows, int64_t cols,
		    enum ax_precision prec, uint32_t *s, float *tile)
{
	float w[32 * 32];
	assert_true(rows <= 32 && cols <= 32);
	for (int64_t k = 0; k < rows * cols; k++)
		w[k] = (float)((*s = *s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	ax_q8_quantize(a->q, a->scale, w, rows, cols);
	ax_bf16_from_f32(a->h, w, rows * cols);
	bool i8 = prec == AX_PREC_INT8;
	a->m = (struct ax_k_qmat){ .q = i8 ? a->q : NULL, .scale = i8 ? a->scale : NULL,
				   .h = i8 ? NULL : a->h, .tile = tile, .tile_floats = 4096 };
	for (int64_t k = 0; k < rows * cols; k++)
		a->deq[k] = ax_kq_at(&a->m, k / cols, k % cols, cols);
}

/* The adaptive input and softmax on quantized bands (both projection
 * layouts, few rows and many): fast and ref against the fp32 kernels on
 * the dequantized matrices. */
static void test_adaptive_kernels(void **state)
{
	(void)state;
	enum { D = 24, NB = 3, NMAX = 20, V = 31 };
	static const int64_t sizes[NB] = { 10, 12, 9 }, dims[NB] = { D, 12, 6 };
	static struct qm tab[NB], proj[NB], cls;
	static float tile[4096], h[NMAX * D], out[NMAX * V], ref[NMAX * V],
		     scr[NMAX * (10 + 2 + 12)];
	uint32_t s = 3;
	for (int k = 0; k < NMAX * D; k++)
		h[k] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
	for (int prec = AX_PREC_BF16; prec <= AX_PREC_INT8; prec++)
		for (int layout = 0; layout < 2; layout++) {
			struct ax_k_band q[NB], f[NB];
			int64_t start = 0;
			for (int b = 0; b < NB; b++) {
				bool ddb = layout == AX_K_PROJ_D_DB;
				qm_make(&tab[b], sizes[b], dims[b], prec, &s, tile);
				qm_make(&proj[b], ddb ? D : dims[b], ddb ? dims[b] : D, prec, &s, tile);
				q[b] = (struct ax_k_band){ .start = start, .size = sizes[b],
					.dim = dims[b], .proj_layout = layout,
					.qtable = tab[b].m, .qproj = proj[b].m };
				f[b] = q[b];
				f[b].table = tab[b].deq, f[b].proj = proj[b].deq;
				f[b].qtable = f[b].qproj = (struct ax_k_qmat){ 0 };
				start += sizes[b];
			}
			qm_make(&cls, NB - 1, D, prec, &s, tile);
			q[0].qproj = cls.m;
			for (int n = 5; n <= NMAX; n += NMAX - 5) {   /* streaming, tiled */
				ax_k_adaptive_log_softmax_ref(ref, V, h, D, f, NB, cls.deq, n, D, scr, NULL);
				struct ax_k_work w = { 0 }, wr = { 0 };
				ax_k_adaptive_log_softmax(out, V, h, D, q, NB, NULL, n, D, scr, &w);
				assert_true(worst_err(out, ref, n * V, false) < 1e-4);
				ax_k_adaptive_log_softmax_ref(out, V, h, D, q, NB, NULL, n, D, scr, &wr);
				assert_true(worst_err(out, ref, n * V, false) < 1e-5);
				assert_int_equal(w.macs, wr.macs);
			}
			if (layout != AX_K_PROJ_D_DB)
				continue;
			/* the input side: every band, PE of fairseq; band 0's
			 * projection is P_0 here, not W_cls */
			q[0].qproj = proj[0].m;
			int32_t tok[6] = { 0, 9, 10, 21, 22, 30 };
			ax_k_adaptive_input_ref(ref, D, tok, f, NB, 6, D, 2.0f, 0,
						AX_SINUSOID_FAIRSEQ, NULL);
			assert_int_equal(ax_k_adaptive_input(out, D, tok, q, NB, 6, D, 2.0f, 0,
							     AX_SINUSOID_FAIRSEQ, NULL), AX_OK);
			assert_true(worst_err(out, ref, 6 * D, false) < 1e-4);
			assert_int_equal(ax_k_adaptive_input_ref(out, D, tok, q, NB, 6, D, 2.0f, 0,
								 AX_SINUSOID_FAIRSEQ, NULL), AX_OK);
			assert_true(worst_err(out, ref, 6 * D, false) < 1e-5);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_fp32),
		cmocka_unit_test(test_memory_held),
		cmocka_unit_test(test_layouts_agree),
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_tiled_blocks),
		cmocka_unit_test(test_adaptive_kernels),
		cmocka_unit_test(test_portable),
		cmocka_unit_test(test_best_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
