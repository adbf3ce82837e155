/*
 * bench_precision.c - the accuracy cost of --precision, per config, on
 * random weights (seed 1, as `archex run` without --weights).
 *
 * usage: bench_precision [LEN=30] CONFIG...
 * For each config and precision (bf16, int8 with its default 16-bit
 * activations, and int8 with fp32 and with int8 activations,
 * `--activations fp32|int8`: the rows "int8/a32" and "int8/a8") against
 * fp32 on the same weights, a Markdown row:
 *   - teacher-forced scoring of one random LEN-token pair (LM: LEN
 *     tokens): the worst |log p - log p_fp32| over every position and
 *     word, and the share of positions whose argmax agrees (LEN >= 16
 *     rows take the dequantized tiles, so the three int8 rows are equal
 *     here);
 *   - the worst |log p - log p_fp32| of the greedy steps on the same
 *     prefix (up to the first differing token; one row per step, so the
 *     activations are quantized, except int8/a32's);
 *   - greedy decoding of LEN steps (argmax, nothing banned): the steps
 *     until the first token that differs from fp32's, and at that step
 *     fp32's own margin between the two tokens (a near tie or not).
 * Random weights give flat distributions with small margins, so greedy
 * paths part more easily than on a trained model; the BLEU delta needs a
 * trained model (docs/precision.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cpu.h"
#include "config.h"
#include "exec.h"
#include "graph.h"
#include "kernels_q.h"
#include "model.h"

#define MAX_LEN 200

struct run {
	float *lp;              /* (LEN, V) teacher-forced log-probs */
	float *glp;             /* (LEN, V) greedy log-probs per step */
	int32_t toks[MAX_LEN];  /* greedy tokens */
};

static void fill_tokens(int32_t *t, int64_t n, int64_t vocab, uint32_t seed)
{
	for (int64_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		t[i] = 4 + (int32_t)((seed >> 8) % (uint32_t)(vocab - 4));
	}
}

static int64_t argmax(const float *r, int64_t V)
{
	int64_t b = 0;
	for (int64_t w = 1; w < V; w++)
		b = r[w] > r[b] ? w : b;
	return b;
}

/* Scores and decodes at precision p into r; false on an error (printed). */
static bool run_at(const struct ax_graph *g, enum ax_precision p,
		   enum ax_act act, const int32_t *src, const int32_t *tgt,
		   int64_t len, struct run *r)
{
	struct ax_diag d = { 0 };
	bool lm = !g->has_encoder, ok = false;
	int64_t S = lm ? 0 : len, V = g->tensors[g->logits].width;
	struct ax_exec xs, xi;
	struct ax_exec_opts os = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = S, .max_tgt = len, .act = act };
	struct ax_exec_opts oi = os;
	oi.mode = AX_MODE_INCREMENTAL;
	memset(&xi, 0, sizeof xi);
	if (ax_exec_init(&xs, g, &os, &d) != AX_OK)
		goto out;
	if (ax_exec_init(&xi, g, &oi, &d) != AX_OK ||
	    ax_exec_set_precision(&xs, p, &d) != AX_OK ||
	    ax_exec_set_precision(&xi, p, &d) != AX_OK)
		goto free_xs;
	ax_exec_init_weights(&xs, 1);
	ax_exec_init_weights(&xi, 1);
	if (ax_exec_forward(&xs, lm ? NULL : src, S, tgt, len, &d) != AX_OK)
		goto free_xs;
	for (int64_t t = 0; t < len; t++)
		memcpy(r->lp + t * V, ax_exec_logprobs(&xs) + t * xs.ld[g->logits],
		       (size_t)V * sizeof(float));
	if (ax_exec_encode(&xi, lm ? NULL : src, S, &d) != AX_OK)
		goto free_xs;
	int32_t tok = ax_exec_start_token(&xi);
	for (int64_t t = 0; t < len; t++) {
		if (ax_exec_step(&xi, &tok, &d) != AX_OK)
			goto free_xs;
		memcpy(r->glp + t * V, ax_exec_logprobs(&xi), (size_t)V * sizeof(float));
		r->toks[t] = tok = (int32_t)argmax(r->glp + t * V, V);
	}
	ok = true;
free_xs:
	ax_exec_free(&xi);
	ax_exec_free(&xs);
out:
	if (!ok)
		fprintf(stderr, "bench_precision: %s: %s\n", g->cfg->name, d.msg);
	return ok;
}

/* One Markdown row: precision p against fp32. */
static void print_row(const struct ax_graph *g, const char *name,
		      const struct run *f, const struct run *q, int64_t len)
{
	int64_t V = g->tensors[g->logits].width, agree = 0, same = 0;
	double worst = 0;
	for (int64_t k = 0; k < len * V; k++) {
		double e = fabs((double)q->lp[k] - f->lp[k]);
		worst = e > worst ? e : worst;
	}
	for (int64_t t = 0; t < len; t++)
		agree += argmax(q->lp + t * V, V) == argmax(f->lp + t * V, V);
	while (same < len && q->toks[same] == f->toks[same])
		same++;
	/* decoding steps on the same prefix: up to and including the split */
	double gworst = 0;
	for (int64_t k = 0; k < (same < len ? same + 1 : len) * V; k++) {
		double e = fabs((double)q->glp[k] - f->glp[k]);
		gworst = e > gworst ? e : gworst;
	}
	char margin[32] = "-";
	if (same < len)
		snprintf(margin, sizeof margin, "%.4f",
			 f->glp[same * V + f->toks[same]] - f->glp[same * V + q->toks[same]]);
	printf("| %s | %s | %.4f | %.4f | %.1f%% | %lld/%lld | %s |\n", g->cfg->name,
	       name, worst, gworst, 100.0 * (double)agree / (double)len,
	       (long long)same, (long long)len, margin);
}

static bool bench_config(const char *path, int64_t len)
{
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_graph g;
	struct ax_diag d = { 0 };
	ax_graph_init(&g);
	if (!cfg || ax_config_load(path, cfg, &d) != AX_OK ||
	    ax_model_build(cfg, &g, &d) != AX_OK) {
		fprintf(stderr, "%s: error: %s\n", path, d.msg);
		ax_graph_free(&g);
		free(cfg);
		return false;
	}
	int64_t V = g.tensors[g.logits].width;
	int64_t vt = cfg->adaptive.enabled ? cfg->adaptive.cutoff[0] : cfg->vocab_target;
	int32_t src[MAX_LEN], tgt[MAX_LEN];
	fill_tokens(src, len, g.has_encoder ? cfg->vocab_source : vt, 41);
	fill_tokens(tgt, len, vt, 42);
	tgt[0] = g.start_token;
	/* fp32 first: the others are measured against it */
	static const struct {
		const char *name;
		enum ax_precision prec;
		enum ax_act act;
	} runs[] = {
		{ "fp32", AX_PREC_FP32, AX_ACT_FP32 },
		{ "bf16", AX_PREC_BF16, AX_ACT_FP32 },
		{ "int8", AX_PREC_INT8, AX_ACT_INT16 },      /* the default */
		{ "int8/a32", AX_PREC_INT8, AX_ACT_FP32 },
		{ "int8/a8", AX_PREC_INT8, AX_ACT_INT8 },
	};
	enum { NR = sizeof runs / sizeof runs[0] };
	struct run r[NR];
	bool ok = true;
	for (int p = 0; p < NR; p++) {
		r[p].lp = malloc((size_t)(len * V) * sizeof(float));
		r[p].glp = malloc((size_t)(len * V) * sizeof(float));
		ok = ok && r[p].lp && r[p].glp &&
		     run_at(&g, runs[p].prec, runs[p].act, src, tgt, len, &r[p]);
	}
	for (int p = 1; ok && p < NR; p++)
		print_row(&g, runs[p].name, &r[0], &r[p], len);
	fflush(stdout);
	for (int p = 0; p < NR; p++)
		free(r[p].lp), free(r[p].glp);
	ax_graph_free(&g);
	free(cfg);
	return ok;
}

int main(int argc, char **argv)
{
	bench_choose_kernel(argv);
	int a = 1;
	int64_t len = 30;
	if (a < argc && argv[a][0] >= '0' && argv[a][0] <= '9')
		len = strtol(argv[a++], NULL, 10);
	if (a >= argc || len < 2 || len > MAX_LEN) {
		fprintf(stderr, "usage: bench_precision [LEN=30 (2..%d)] CONFIG...\n", MAX_LEN);
		return 2;
	}
	char blas[320];
	bench_describe_kernel(blas, sizeof blas);
	printf("OpenBLAS %s; kernels_q path %s; random weights (seed 1), "
	       "%lld tokens\n\n", blas, ax_kq_path_names[ax_kq_path()], (long long)len);
	printf("| config | precision | worst log-prob err | greedy log-prob err | "
	       "argmax agree | greedy same | fp32 margin at the split |\n"
	       "|---|---|---|---|---|---|---|\n");
	int rc = 0;
	for (; a < argc; a++)
		rc |= !bench_config(argv[a], len);
	return rc;
}
