/*
 * cmd_run.c - `archex run` (reference inference) and `archex init`
 * (write a deterministic random weights file).
 *
 * run: translation by beam search (greedy = --beam 1) with incremental
 * state, teacher-forced scoring of a given target (--tgt), or language-
 * model scoring with log-likelihood and perplexity. Every run reports the
 * MACs its kernels counted (performed, plus the zero-padding taps the conv
 * kernels skip) next to the cost model's `exact` count for the same
 * lengths, mode and beam, and fails if they differ (the executor already
 * checks each op; this checks the whole run against ax_cost_op).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cblas.h>

#include "atomic_io.h"
#include "cli.h"
#include "cpu.h"
#include "decode.h"
#include "exec.h"
#include "graph.h"
#include "json.h"
#include "model.h"

#define MAX_TOKENS 4096   /* longest output, --tgt and LM block */
#define MAX_SRC 1024      /* longest source sentence, eos included */

/* OpenBLAS's thread control and kernel name (not in every cblas.h). */
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

static void help_run(void)
{
	printf(
"usage: archex run CONFIG|RUN [options]\n"
"\n"
"Reference inference in C with OpenBLAS over the same op list the cost\n"
"model counts. Translation configs decode each source sentence by beam\n"
"search (greedy with --beam 1) with KV caches and conv ring buffers, or\n"
"score a given target (--tgt). Language-model configs score the tokens\n"
"and print log-likelihood and perplexity. Token ids use fairseq's\n"
"dictionary (bos 0, pad 1, eos 2, unk 3); a sentence is space-separated ids\n"
"without eos. As fairseq, archex appends eos to every source sentence\n"
"(--no-source-eos: not) and decodes as fairseq-generate (docs/fairseq.md).\n"
"--src-file is streamed: one sentence per line, any number of lines; for\n"
"a language model every line gets an eos and the whole file is scored as\n"
"one stream in blocks of --tokens-per-sample tokens.\n"
"A run directory RUN written by 'archex train' (or a trained sweep point's\n"
"run/) stands for RUN/config.yaml with --weights RUN/weights.\n"
"\n"
"options:\n"
"  --weights FILE     weights written by 'archex init' or 'archex train'\n"
"                     (else --seed; RUN: RUN/weights)\n"
"  --seed N           random weights from seed N (default 1)\n"
"  --src \"IDS\"        one source sentence (LM: the tokens to score)\n"
"  --src-file FILE    one sentence per line\n"
"  --tgt \"IDS\"        score this target teacher-forced instead of decoding\n"
"                     (scored as given: end it in 2 to score the eos)\n"
"  --no-source-eos    do not append eos to source sentences\n"
"  --beam K           beam width (default 1 = greedy)\n"
"  --lenpen A         length penalty: score / len^A, len counting the eos\n"
"                     (default 1)\n"
"  --max-len-a A      with --max-len-b B: at most A*S+B tokens before the eos,\n"
"  --max-len-b B      S the source length with its eos (defaults 0 and 200)\n"
"  --max-len N        the same as --max-len-a 0 --max-len-b N\n"
"  --min-len N        ban eos at steps before N (default 1): at least N\n"
"                     tokens before the eos\n"
"  --tokens-per-sample N  language models: the scoring block length (200)\n"
"  --threads N        OpenBLAS threads (default 1)\n"
"  --precision P      fp32 (default), bf16 or int8: the weights of linears,\n"
"                     embeddings and the output projection, quantized at\n"
"                     load from the fp32 weights and held only quantized\n"
"                     (less memory: 'archex count --precision P' predicts\n"
"                     it; docs/precision.md)\n"
"  --activations A    with --precision int8: int16 (default), fp32 or int8;\n"
"                     int16 and int8 quantize each input row per call\n"
"                     and multiply in integers (VNNI where present) when\n"
"                     decoding (int16: as accurate as fp32 activations,\n"
"                     and faster)\n"
"                     (docs/precision.md)\n"
"  --dump-logits FILE write the teacher-forced log-probs (T x V float32)\n"
"  --format F         text (default) or json\n"
"  --profile          time every op; print ms and GMAC/s per op kind (stderr)\n"
"  -h, --help         this text\n");
}

static void help_init(void)
{
	printf(
"usage: archex init CONFIG --out FILE [--seed N]\n"
"\n"
"Write a weights file (docs/weights-format.md) with deterministic random\n"
"weights from seed N (default 1). The file is written to a temporary name\n"
"and renamed, so an interrupted run never leaves a partial file.\n");
}

/* Sentences of token ids: the --src string, or --src-file read line by
 * line (streamed: any number of lines, any length). Ids are non-negative
 * decimal integers separated by blanks; a bad one is reported as
 * FILE:LINE:COL. */
struct source {
	const char *name;   /* for messages: "--src", "--tgt" or the path */
	const char *text;   /* --src / --tgt, or NULL */
	const char *path;   /* --src-file */
	FILE *f;
	char *line;
	size_t line_cap;
	int lineno;
	int32_t *ids;       /* the current sentence, room for one more id */
	int64_t n, ids_cap;
};

static void source_free(struct source *s)
{
	if (s->f)
		fclose(s->f);
	free(s->line);
	free(s->ids);
}

/* Parses one line into s->ids; returns false (after printing) on a bad id. */
static bool parse_line(struct source *s, const char *p0)
{
	int64_t need = (int64_t)strlen(p0) / 2 + 2;   /* ids are >= 2 chars apart; + eos */
	if (need > s->ids_cap) {
		int32_t *ids = realloc(s->ids, (size_t)need * sizeof *ids);
		if (!ids) {
			fprintf(stderr, "archex run: error: out of memory\n");
			return false;
		}
		s->ids = ids;
		s->ids_cap = need;
	}
	s->n = 0;
	const char *p = p0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '\r')
			return true;
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > INT32_MAX ||
		    (*end && !isspace((unsigned char)*end))) {
			fprintf(stderr, "%s:%d:%d: error: expected a token id (a non-negative integer)\n",
				s->name, s->lineno, (int)(p - p0) + 1);
			return false;
		}
		s->ids[s->n++] = (int32_t)v;
		p = end;
	}
}

/* Whether every id of the current sentence is below V; else prints which
 * one (argument or file, line, token number) and returns false. */
static bool ids_in_range(const struct source *s, int64_t V)
{
	for (int64_t i = 0; i < s->n; i++)
		if (s->ids[i] >= V) {
			fprintf(stderr, "%s:%d: error: token %" PRId64 " is id %d, out of "
				"the vocabulary 0..%" PRId64 "\n", s->name, s->lineno,
				i + 1, s->ids[i], V - 1);
			return false;
		}
	return true;
}

/* The next non-empty sentence: 1, 0 at the end, -1 on an error (printed). */
static int source_next(struct source *s)
{
	if (s->text) {
		if (s->lineno++)
			return 0;
		return parse_line(s, s->text) ? (s->n > 0 ? 1 : 0) : -1;
	}
	if (!s->f) {
		s->f = fopen(s->path, "r");
		if (!s->f) {
			fprintf(stderr, "%s: error: cannot open: %s\n", s->path, strerror(errno));
			return -1;
		}
	}
	while (getline(&s->line, &s->line_cap, s->f) >= 0) {
		s->lineno++;
		if (!parse_line(s, s->line))
			return -1;
		if (s->n > 0)
			return 1;
	}
	if (ferror(s->f)) {
		fprintf(stderr, "%s: error: read failed: %s\n", s->path, strerror(errno));
		return -1;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A run's MAC report: what the kernels counted and what the cost model
 * says. executed = performed + skipped must equal analytic. */
struct run_macs {
	int64_t executed, performed, skipped, analytic;
};

static struct run_macs exec_macs(const struct ax_exec *x, int64_t analytic)
{
	int64_t executed = ax_exec_macs(x, NULL), skipped = ax_exec_skipped(x);
	return (struct run_macs){ .executed = executed, .skipped = skipped,
				  .performed = executed - skipped,
				  .analytic = analytic };
}

/* "executed MACs N (performed P + skipped padding taps Z; analytic exact A)" */
static void print_macs(const struct run_macs *m)
{
	printf("executed MACs %" PRId64 " (performed %" PRId64 " + skipped "
	       "padding taps %" PRId64 "; analytic exact %" PRId64 ")",
	       m->executed, m->performed, m->skipped, m->analytic);
}

static void json_macs(struct ax_json *j, const struct run_macs *m)
{
	ax_json_key(j, "executed_macs");
	ax_json_int(j, m->executed);
	ax_json_key(j, "performed_macs");
	ax_json_int(j, m->performed);
	ax_json_key(j, "skipped_macs");
	ax_json_int(j, m->skipped);
	ax_json_key(j, "analytic_macs");
	ax_json_int(j, m->analytic);
}

/* Analytic exact MACs for what the executor just did: source-stream ops
 * once, target-stream ops once per beam row (docs/models.md §8.4). */
static int64_t analytic_macs(const struct ax_graph *g, enum ax_mode mode,
			     int64_t S, int64_t T, int64_t rows_per_t)
{
	struct ax_op_cost c;
	int64_t total = 0;
	for (int32_t i = 0; i < g->n_ops; i++) {
		ax_cost_op(g, i, AX_CONVENTION_EXACT, mode, &c);
		int64_t v = ax_poly_eval(&c.macs, S, T);
		total += g->tensors[g->ops[i].out].len == AX_LEN_TGT ? rows_per_t * v : v;
	}
	return total;
}

/* A note when OpenBLAS runs a generic kernel on a CPU that supports a
 * faster one: the user's OPENBLAS_CORETYPE asked for it, or the
 * re-execution at start (main.c) failed. */
static void warn_coretype(void)
{
	struct ax_cpu c;
	ax_cpu_detect(&c);
	const char *core = ax_cpu_blas_core();
	const char *better = ax_cpu_choose_coretype(&c, core, NULL, NULL);
	if (!better)
		return;
	const char *ct = getenv("OPENBLAS_CORETYPE");
	fprintf(stderr, "archex: note: OpenBLAS runs its generic '%s' kernel%s%s%s; "
		"this CPU supports '%s', about 5x faster sgemm: %s "
		"(docs/performance.md)\n", core, ct && *ct ? " (OPENBLAS_CORETYPE=" : "",
		ct && *ct ? ct : "", ct && *ct ? ")" : "", better,
		ct && *ct ? "unset OPENBLAS_CORETYPE to let archex choose" :
		"set OPENBLAS_CORETYPE to it");
}

/* "SkylakeX (auto); Intel(R) Xeon(R) Processor (family 6 model 207; ...)" */
static void describe_blas(char *buf, size_t size)
{
	struct ax_cpu c;
	char cpu[160];
	ax_cpu_detect(&c);
	ax_cpu_describe(&c, cpu, sizeof cpu);
	snprintf(buf, size, "OpenBLAS kernel %s (%s); CPU %s", ax_cpu_blas_core(),
		 ax_cpu_blas_core_source(), cpu);
}

struct run_opts {
	const char *weights, *src, *src_file, *tgt, *dump, *config;
	uint64_t seed;
	int64_t beam, max_len_b, min_len, threads, tokens_per_sample;
	double lenpen, max_len_a;
	bool json, profile, no_src_eos;
	const char *len_flag;   /* a translation-only flag given, for LM errors */
	bool tps_given;         /* --tokens-per-sample given (LM only) */
	bool seeded;            /* --seed given */
	enum ax_precision precision;
	enum ax_act act;
};

/* fairseq's max_len for a source of S tokens (eos included): int(a*S + b),
 * at most MAX_TOKENS - 1 (fairseq: the decoder's positions - 1). */
static int64_t max_len_for(const struct run_opts *o, int64_t S)
{
	double m = o->max_len_a * (double)S + (double)o->max_len_b;
	return m >= MAX_TOKENS - 1 ? MAX_TOKENS - 1 : (int64_t)m;
}

/* Appends eos to the current sentence unless --no-source-eos (the buffer
 * has room); returns the source length. */
static int64_t with_eos(const struct run_opts *o, struct source *s)
{
	if (!o->no_src_eos)
		s->ids[s->n++] = AX_TOKEN_EOS;
	return s->n;
}

/* The source vocabulary of a translation config. */
static int64_t src_vocab(const struct ax_graph *g)
{
	return g->cfg->vocab_source > 0 ? g->cfg->vocab_source : g->cfg->vocab_target;
}

/* Per op kind: performed MACs, wall time, GMAC/s, on stderr. */
static void print_profile(const struct ax_exec *x)
{
	const struct ax_graph *g = x->g;
	double t[AX_OP_KIND_COUNT] = { 0 }, total = 0;
	int64_t m[AX_OP_KIND_COUNT] = { 0 };
	char blas[320];
	describe_blas(blas, sizeof blas);
	fprintf(stderr, "%s; peak RSS %.1f MiB\n", blas,
		(double)ax_cli_peak_rss() / (1024.0 * 1024.0));
	for (int32_t i = 0; i < g->n_ops; i++) {
		t[g->ops[i].kind] += x->op_seconds[i];
		m[g->ops[i].kind] += x->op_macs[i];
		total += x->op_seconds[i];
	}
	fprintf(stderr, "%-18s %10s %7s %14s %9s\n", "op kind", "ms", "share", "MACs", "GMAC/s");
	for (int k = 0; k < AX_OP_KIND_COUNT; k++) {
		if (t[k] == 0)
			continue;
		fprintf(stderr, "%-18s %10.3f %6.1f%% %14lld %9.2f\n", ax_op_kind_names[k],
			1e3 * t[k], 100 * t[k] / total, (long long)m[k], 1e-9 * (double)m[k] / t[k]);
	}
	fprintf(stderr, "%-18s %10.3f\n", "total", 1e3 * total);
	/* the slowest ops, by selection (n_ops is small) */
	fprintf(stderr, "\n%-44s %10s %9s\n", "slowest ops", "ms", "GMAC/s");
	double last = 1e300;
	for (int r = 0; r < 10; r++) {
		int32_t best = -1;
		for (int32_t i = 0; i < g->n_ops; i++)
			if (x->op_seconds[i] < last &&
			    (best < 0 || x->op_seconds[i] > x->op_seconds[best]))
				best = i;
		if (best < 0 || x->op_seconds[best] <= 0)
			break;
		char name[160];
		const struct ax_op *op = &g->ops[best];
		ax_graph_name(op->scope, op->layer, op->block, op->role, name, sizeof name);
		fprintf(stderr, "%-44s %10.3f %9.2f\n", name, 1e3 * x->op_seconds[best],
			1e-9 * (double)x->op_macs[best] / x->op_seconds[best]);
		last = x->op_seconds[best];
	}
}

/* Every run checks its executed MACs against the cost model
 * and, with --profile, reports where the time went. */
static bool finish_run(const struct ax_exec *x, const struct run_opts *o,
		       const struct run_macs *m)
{
	if (o->profile)
		print_profile(x);
	if (m->executed == m->analytic)
		return true;
	fprintf(stderr, "archex run: error: executed MACs %" PRId64
		" differ from the cost model's %" PRId64 "\n", m->executed,
		m->analytic);
	return false;
}

static int load_model(const char *path, struct ax_config *cfg, struct ax_graph *g)
{
	struct ax_diag d = { 0 };
	if (!ax_cli_load(path, cfg))
		return AX_EXIT_ERROR;
	ax_graph_init(g);
	if (ax_model_build(cfg, g, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	return AX_EXIT_OK;
}

/* The executor was laid out at o->precision (ax_exec_opts), so the
 * quantized weights never have an fp32 copy: loading quantizes them block
 * by block. */
static int weights_for(struct ax_exec *x, const struct run_opts *o)
{
	struct ax_diag d = { 0 };
	if (!o->weights) {
		ax_exec_init_weights(x, o->seed);
		return AX_EXIT_OK;
	}
	if (ax_exec_load_weights(x, o->weights, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	return AX_EXIT_OK;
}

static void print_tokens(FILE *f, const int32_t *t, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? " " : "", t[i]);
}

/* Writes the (T, V) log-probs through a unique temporary (atomic_io.h),
 * so concurrent runs never share one. */
static int dump_logits(const struct ax_exec *x, int64_t T, const char *path)
{
	struct ax_atomic a;
	struct ax_diag d = { 0 };
	FILE *f = ax_atomic_open(&a, path, &d);
	if (!f) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	int64_t V = ax_exec_vocab(x), ld = x->ld[x->g->logits];
	const float *lp = ax_exec_logprobs(x);
	bool ok = true;
	for (int64_t i = 0; i < T; i++)
		ok &= fwrite(lp + i * ld, sizeof(float), (size_t)V, f) == (size_t)V;
	if (!ok) {
		fprintf(stderr, "%s: error: cannot write: %s\n", path, strerror(errno));
		ax_atomic_abort(&a);
		return AX_EXIT_ERROR;
	}
	if (ax_atomic_commit(&a, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	return AX_EXIT_OK;
}

/* Provenance every run record carries: archex version, config hash,
 * where the weights came from, the thread count, the OpenBLAS kernel
 * (and whether archex, the user or OpenBLAS chose it) and the CPU. */
static void write_provenance(struct ax_json *j, const struct ax_graph *g,
			     const struct run_opts *o)
{
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_hash(g->cfg));
	ax_json_key(j, "config_hash");
	ax_json_string(j, hash);
	ax_json_key(j, "archex_version");
	ax_json_string(j, AX_VERSION);
	if (o->weights) {
		ax_json_key(j, "weights");
		ax_json_string(j, o->weights);
	} else {
		ax_json_key(j, "seed");
		ax_json_int(j, (int64_t)o->seed);
	}
	ax_json_key(j, "threads");
	ax_json_int(j, o->threads);
	if (o->precision != AX_PREC_FP32) {
		ax_json_key(j, "precision");
		ax_json_string(j, ax_precision_names[o->precision]);
	}
	if (o->precision == AX_PREC_INT8) {
		ax_json_key(j, "activations");
		ax_json_string(j, ax_act_names[ax_exec_act(o->precision, o->act)]);
	}
	struct ax_cpu c;
	char cpu[160];
	ax_cpu_detect(&c);
	ax_cpu_describe(&c, cpu, sizeof cpu);
	ax_json_key(j, "blas_core");
	ax_json_string(j, ax_cpu_blas_core());
	ax_json_key(j, "blas_core_source");
	ax_json_string(j, ax_cpu_blas_core_source());
	ax_json_key(j, "cpu");
	ax_json_string(j, cpu);
	ax_json_key(j, "peak_rss_bytes");
	ax_json_int(j, ax_cli_peak_rss());
}

/* Writes one scoring record (JSON or text). */
static void print_score(const struct ax_graph *g, const struct run_opts *o,
			const char *name, int64_t S, int64_t T, double ll,
			const struct run_macs *m, double secs)
{
	if (!o->json) {
		printf("log-likelihood %.6f over %" PRId64 " tokens, perplexity %.4f\n",
		       ll, T, exp(-ll / (double)T));
		print_macs(m);
		printf(", %.3f ms\n", 1e3 * secs);
		return;
	}
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_COMPACT);
	ax_json_begin_object(&j);
	ax_json_key(&j, "name");
	ax_json_string(&j, name);
	ax_json_key(&j, "mode");
	ax_json_string(&j, "score");
	ax_json_key(&j, "src_len");
	ax_json_int(&j, S);
	ax_json_key(&j, "tgt_len");
	ax_json_int(&j, T);
	ax_json_key(&j, "loglik");
	ax_json_double(&j, ll);
	ax_json_key(&j, "perplexity");
	ax_json_double(&j, exp(-ll / (double)T));
	json_macs(&j, m);
	ax_json_key(&j, "seconds");
	ax_json_double(&j, secs);
	write_provenance(&j, g, o);
	ax_json_end_object(&j);
	ax_json_finish(&j, NULL);
	fputc('\n', stdout);
}

/* Translation: the log-likelihood of tgt given src, teacher forced. */
static int run_score(const struct ax_graph *g, const struct run_opts *o,
		     const int32_t *src, int64_t S, const int32_t *y, int64_t T)
{
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_exec_opts eo = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = S, .max_tgt = T,
				   .precision = o->precision, .act = o->act };
	if (ax_exec_init(&x, g, &eo, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	int rc = weights_for(&x, o);
	x.timing = o->profile;
	int32_t *tgt_in = malloc((size_t)T * sizeof *tgt_in);
	double ll = 0, t0 = now();
	if (rc == AX_EXIT_OK && (!tgt_in || ax_score(&x, src, S, y, T, tgt_in, &ll, &d) != AX_OK)) {
		ax_cli_print_diag(&d);
		rc = AX_EXIT_ERROR;
	}
	if (rc == AX_EXIT_OK) {
		double secs = now() - t0;
		struct run_macs m = exec_macs(&x, analytic_macs(g, AX_MODE_SEQUENCE,
								 S, T, 1));
		if (o->dump)
			rc = dump_logits(&x, T, o->dump);
		print_score(g, o, g->cfg->name, S, T, ll, &m, secs);
		if (!finish_run(&x, o, &m))
			rc = AX_EXIT_ERROR;
	}
	free(tgt_in);
	ax_exec_free(&x);
	return rc;
}

/* Language model: every sentence of the source, each followed by eos (as
 * fairseq's LM data), scored as one stream in blocks of at most --max-len
 * tokens, each block's context starting afresh. */
static int run_lm(const struct ax_graph *g, const struct run_opts *o,
		  struct source *src)
{
	int32_t *toks = NULL;
	int64_t n = 0, cap = 0;
	int r;
	while ((r = source_next(src)) == 1) {
		if (!ids_in_range(src, g->cfg->vocab_target)) {
			r = -1;
			break;
		}
		if (n + src->n + 1 > cap) {
			cap = 2 * (n + src->n + 1);
			int32_t *t = realloc(toks, (size_t)cap * sizeof *t);
			if (!t) {
				free(toks);
				fprintf(stderr, "archex run: error: out of memory\n");
				return AX_EXIT_ERROR;
			}
			toks = t;
		}
		memcpy(toks + n, src->ids, (size_t)src->n * sizeof *toks);
		n += src->n;
		if (src->path)          /* a file's lines end in eos */
			toks[n++] = AX_TOKEN_EOS;
	}
	if (r < 0 || n == 0) {
		if (n == 0 && r == 0)
			fprintf(stderr, "archex run: error: no tokens to score\n");
		free(toks);
		return AX_EXIT_ERROR;
	}
	int64_t W = o->tokens_per_sample < n ? o->tokens_per_sample : n;
	if (o->dump && n > W) {
		fprintf(stderr, "archex run: error: --dump-logits needs the input in one "
			"block: %" PRId64 " tokens exceed --tokens-per-sample %" PRId64 "\n",
			n, W);
		free(toks);
		return AX_EXIT_ERROR;
	}
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_exec_opts eo = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = 0, .max_tgt = W,
				   .precision = o->precision, .act = o->act };
	if (ax_exec_init(&x, g, &eo, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		free(toks);
		return AX_EXIT_ERROR;
	}
	int rc = weights_for(&x, o);
	x.timing = o->profile;
	int32_t *tgt_in = malloc((size_t)W * sizeof *tgt_in);
	double ll = 0, t0 = now();
	int64_t ana = 0;
	for (int64_t at = 0; rc == AX_EXIT_OK && at < n; at += W) {
		int64_t T = n - at < W ? n - at : W;
		double part;
		if (!tgt_in || ax_score(&x, NULL, 0, toks + at, T, tgt_in, &part, &d) != AX_OK) {
			ax_cli_print_diag(&d);
			rc = AX_EXIT_ERROR;
			break;
		}
		ll += part;
		ana += analytic_macs(g, AX_MODE_SEQUENCE, 0, T, 1) +
		       ax_cost_adaptive_input_delta(g, tgt_in, T);
	}
	if (rc == AX_EXIT_OK) {
		struct run_macs m = exec_macs(&x, ana);
		if (o->dump)
			rc = dump_logits(&x, n, o->dump);
		print_score(g, o, g->cfg->name, 0, n, ll, &m, now() - t0);
		if (!finish_run(&x, o, &m))
			rc = AX_EXIT_ERROR;
	}
	free(tgt_in);
	free(toks);
	ax_exec_free(&x);
	return rc;
}

/* Translation: decode every sentence of the source as it is read. */
static int run_decode(const struct ax_graph *g, const struct run_opts *o,
		      struct source *src)
{
	struct ax_exec x;
	struct ax_decoder dec;
	struct ax_diag d = { 0 };
	int64_t cap = max_len_for(o, MAX_SRC);   /* the longest output planned */
	struct ax_exec_opts eo = { .mode = AX_MODE_INCREMENTAL, .batch = o->beam,
				   .max_src = MAX_SRC, .max_tgt = cap + 1,
				   .precision = o->precision, .act = o->act };
	struct ax_decode_opts dopt = { .beam = o->beam, .lenpen = o->lenpen,
				       .max_len = cap,
				       .min_len = o->min_len < cap ? o->min_len : cap };
	memset(&dec, 0, sizeof dec);
	if (ax_exec_init(&x, g, &eo, &d) != AX_OK || ax_decoder_init(&dec, &dopt, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		ax_exec_free(&x);
		return AX_EXIT_ERROR;
	}
	int rc = weights_for(&x, o);
	x.timing = o->profile;
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_COMPACT);
	if (o->json && rc == AX_EXIT_OK)
		ax_json_begin_array(&j);
	int r = 0;
	while (rc == AX_EXIT_OK && (r = source_next(src)) == 1) {
		int64_t S = with_eos(o, src), ml = max_len_for(o, S);
		if (S > MAX_SRC) {
			fprintf(stderr, "%s:%d:1: error: a sentence of %" PRId64
				" tokens (eos included); at most %d are supported\n",
				src->name, src->lineno, S, MAX_SRC);
			rc = AX_EXIT_ERROR;
			break;
		}
		if (ml < o->min_len) {
			fprintf(stderr, "%s:%d: error: max length %" PRId64 " (%g*%" PRId64
				"+%" PRId64 ") is below --min-len %" PRId64 "\n", src->name,
				src->lineno, ml, o->max_len_a, S, o->max_len_b, o->min_len);
			rc = AX_EXIT_ERROR;
			break;
		}
		if (!ids_in_range(src, src_vocab(g))) {
			rc = AX_EXIT_ERROR;
			break;
		}
		dec.o.max_len = ml;
		dec.o.min_len = o->min_len;
		ax_exec_reset_counters(&x);
		double t0 = now();
		if (ax_decode(&dec, &x, src->ids, S, &d) != AX_OK) {
			ax_cli_print_diag(&d);
			rc = AX_EXIT_ERROR;
			break;
		}
		double secs = now() - t0;
		struct run_macs m = exec_macs(&x, analytic_macs(g, AX_MODE_INCREMENTAL,
								 S, x.step, o->beam));
		if (o->json) {
			ax_json_begin_object(&j);
			ax_json_key(&j, "name");
			ax_json_string(&j, g->cfg->name);
			ax_json_key(&j, "src_len");
			ax_json_int(&j, S);
			ax_json_key(&j, "beam");
			ax_json_int(&j, o->beam);
			ax_json_key(&j, "tokens");
			ax_json_begin_array(&j);
			for (int64_t k = 0; k < dec.best_len; k++)
				ax_json_int(&j, dec.best[k]);
			ax_json_end_array(&j);
			ax_json_key(&j, "score");
			ax_json_double(&j, dec.best_score);
			ax_json_key(&j, "steps");
			ax_json_int(&j, x.step);
			json_macs(&j, &m);
			ax_json_key(&j, "seconds");
			ax_json_double(&j, secs);
			write_provenance(&j, g, o);
			ax_json_end_object(&j);
		} else {
			print_tokens(stdout, dec.best, dec.best_len);
			printf("\t# score %.4f, %" PRId64 " steps, ", dec.best_score,
			       x.step);
			print_macs(&m);
			printf(", %.2f ms\n", 1e3 * secs);
		}
		if (!finish_run(&x, o, &m))
			rc = AX_EXIT_ERROR;
	}
	if (r < 0)
		rc = AX_EXIT_ERROR;
	if (o->json && rc == AX_EXIT_OK) {
		ax_json_end_array(&j);
		ax_json_finish(&j, NULL);
		fputc('\n', stdout);
	}
	ax_decoder_free(&dec);
	ax_exec_free(&x);
	return rc;
}

/* A whole-string finite number in [lo, hi]. */
static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end && !errno && isfinite(*out) && *out >= lo && *out <= hi;
}

/* Parses and checks run's options into o: -1 to go on, else the exit
 * code (usage errors and --help). */
static int parse_run(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "weights", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "src", required_argument, NULL, 'S' },
		{ "src-file", required_argument, NULL, 'F' },
		{ "tgt", required_argument, NULL, 'T' },
		{ "beam", required_argument, NULL, 'b' },
		{ "lenpen", required_argument, NULL, 'l' },
		{ "max-len", required_argument, NULL, 'm' },
		{ "max-len-a", required_argument, NULL, 'A' },
		{ "max-len-b", required_argument, NULL, 'B' },
		{ "min-len", required_argument, NULL, 'n' },
		{ "tokens-per-sample", required_argument, NULL, 'W' },
		{ "no-source-eos", no_argument, NULL, 'E' },
		{ "threads", required_argument, NULL, 't' },
		{ "dump-logits", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "profile", no_argument, NULL, 'P' },
		{ "precision", required_argument, NULL, 'Q' },
		{ "activations", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	int64_t v;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w': o->weights = optarg; break;
		case 's':
			if (!ax_cli_parse_i64(optarg, 0, INT64_MAX, &v))
				return ax_cli_usage_error("run", "--seed wants a non-negative integer, not '%s'", optarg);
			o->seed = (uint64_t)v;
			o->seeded = true;
			break;
		case 'S': o->src = optarg; break;
		case 'F': o->src_file = optarg; break;
		case 'T': o->tgt = optarg; break;
		case 'D': o->dump = optarg; break;
		case 'b':
			if (!ax_cli_parse_i64(optarg, 1, 64, &o->beam))
				return ax_cli_usage_error("run", "--beam wants 1..64, not '%s'", optarg);
			break;
		case 'm':
		case 'B':
			if (!ax_cli_parse_i64(optarg, 0, MAX_TOKENS - 1, &o->max_len_b))
				return ax_cli_usage_error("run", "%s wants 0..%d, not '%s'",
							  opt == 'm' ? "--max-len" : "--max-len-b",
							  MAX_TOKENS - 1, optarg);
			if (opt == 'm')
				o->max_len_a = 0;
			o->len_flag = opt == 'm' ? "--max-len" : "--max-len-b";
			break;
		case 'A':
			if (!parse_double(optarg, 0, 100, &o->max_len_a))
				return ax_cli_usage_error("run", "--max-len-a wants a number in 0..100, not '%s'", optarg);
			o->len_flag = "--max-len-a";
			break;
		case 'W':
			if (!ax_cli_parse_i64(optarg, 1, MAX_TOKENS, &o->tokens_per_sample))
				return ax_cli_usage_error("run", "--tokens-per-sample wants 1..%d, not '%s'", MAX_TOKENS, optarg);
			o->tps_given = true;
			break;
		case 'E': o->no_src_eos = true; o->len_flag = "--no-source-eos"; break;
		case 'n':
			if (!ax_cli_parse_i64(optarg, 0, MAX_TOKENS - 1, &o->min_len))
				return ax_cli_usage_error("run", "--min-len wants 0..%d, not '%s'", MAX_TOKENS - 1, optarg);
			break;
		case 't':
			if (!ax_cli_parse_i64(optarg, 1, 256, &o->threads))
				return ax_cli_usage_error("run", "--threads wants 1..256, not '%s'", optarg);
			break;
		case 'l':
			if (!parse_double(optarg, -1e300, 1e300, &o->lenpen))
				return ax_cli_usage_error("run", "--lenpen wants a number, not '%s'", optarg);
			break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return ax_cli_usage_error("run", "--format must be text or json, not '%s'", optarg);
			o->json = !strcmp(optarg, "json");
			break;
		case 'P': o->profile = true; break;
		case 'Q': {
			int k = 0;
			while (k < AX_PREC_COUNT && strcmp(optarg, ax_precision_names[k]))
				k++;
			if (k == AX_PREC_COUNT)
				return ax_cli_usage_error("run", "--precision must be fp32, bf16 or int8, not '%s'", optarg);
			o->precision = (enum ax_precision)k;
			break;
		}
		case 'K': {
			int k = ax_cli_enum(optarg, ax_act_names + 1,
						AX_ACT_COUNT - 1);   /* not "default" */
			if (k < 0)
				return ax_cli_usage_error("run", "--activations must be fp32, int16 or int8, not '%s'", optarg);
			o->act = (enum ax_act)(k + 1);
			break;
		}
		case 'h': help_run(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("run", argv, longopts);
		}
	}
	if (argc - optind != 1)
		return ax_cli_usage_error("run", "expected exactly one CONFIG");
	if ((o->act == AX_ACT_INT16 || o->act == AX_ACT_INT8) &&
	    o->precision != AX_PREC_INT8)
		return ax_cli_usage_error("run", "--activations %s needs --precision int8",
					  ax_act_names[o->act]);
	if (o->max_len_a == 0 && o->min_len > o->max_len_b)
		return ax_cli_usage_error("run", "--min-len %lld exceeds the max length %lld",
					  (long long)o->min_len, (long long)o->max_len_b);
	if (!o->src == !o->src_file)
		return ax_cli_usage_error("run", "give exactly one of --src and --src-file");
	if (o->weights && o->seed != 1)
		return ax_cli_usage_error("run", "--weights and --seed exclude each other");
	return -1;
}

/* Whether two paths name one file (same path, or same device and inode). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!strcmp(a, b))
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Input files run refuses: --weights not a regular file (a FIFO would
 * hang), --dump-logits naming an input (it would be destroyed). */
static bool check_paths(const struct run_opts *o)
{
	struct stat st;
	if (o->weights && stat(o->weights, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: error: not a regular file (--weights)\n", o->weights);
		return false;
	}
	const char *in[] = { o->weights, o->src_file, o->config };
	for (size_t i = 0; o->dump && i < sizeof in / sizeof *in; i++)
		if (in[i] && same_file(o->dump, in[i])) {
			fprintf(stderr, "%s: error: --dump-logits would overwrite an input "
				"file\n", o->dump);
			return false;
		}
	return true;
}

/* Teacher-forced scoring of --tgt given the first --src sentence. */
static int run_tgt(const struct ax_graph *g, const struct run_opts *o,
		   struct source *src, struct source *tgt)
{
	if (source_next(src) != 1)
		return AX_EXIT_ERROR;
	int64_t S = with_eos(o, src);
	if (S > MAX_SRC || tgt->n > MAX_TOKENS) {
		fprintf(stderr, "%s: error: %" PRId64 " tokens; at most %d are supported\n",
			S > MAX_SRC ? "--src" : "--tgt", S > MAX_SRC ? S : tgt->n,
			S > MAX_SRC ? MAX_SRC : MAX_TOKENS);
		return AX_EXIT_ERROR;
	}
	if (!ids_in_range(src, src_vocab(g)) || !ids_in_range(tgt, g->cfg->vocab_target))
		return AX_EXIT_ERROR;
	return run_score(g, o, src->ids, S, tgt->ids, tgt->n);
}

int ax_cmd_run(int argc, char **argv)
{
	struct run_opts o = { .seed = 1, .beam = 1, .max_len_b = 200, .min_len = 1,
			      .threads = 1, .tokens_per_sample = 200, .lenpen = 1.0 };
	int rc = parse_run(argc, argv, &o);
	if (rc >= 0)
		return rc;
	o.config = argv[optind];
	static char run_cfg[AX_CLI_RUN_PATH], run_w[AX_CLI_RUN_PATH];
	if (!ax_cli_run_dir(&o.config, &o.weights, !o.seeded, run_cfg, run_w) ||
	    !check_paths(&o))
		return AX_EXIT_ERROR;

	struct source src = { .name = o.src ? "--src" : o.src_file, .text = o.src,
			      .path = o.src_file };
	struct source tgt = { .name = "--tgt", .text = o.tgt };
	int r = o.tgt ? source_next(&tgt) : 1;
	if (r != 1 || (o.tgt && !o.src)) {
		source_free(&tgt);
		return r < 0 ? AX_EXIT_ERROR : ax_cli_usage_error("run", "--tgt needs "
				"--src and at least one token id");
	}

	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_graph g;
	ax_graph_init(&g);
	if (!cfg || load_model(o.config, cfg, &g) != AX_EXIT_OK) {
		ax_graph_free(&g);
		free(cfg);
		source_free(&tgt);
		return AX_EXIT_ERROR;
	}
	openblas_set_num_threads((int)o.threads);
	warn_coretype();
	if (!g.has_encoder && o.len_flag) {
		fprintf(stderr, "archex run: error: %s applies to translation only (a "
			"language model's block length is --tokens-per-sample)\n", o.len_flag);
		rc = AX_EXIT_ERROR;
	} else if (g.has_encoder && o.tps_given) {
		fprintf(stderr, "archex run: error: --tokens-per-sample applies to language "
			"models only (translation: --max-len-a/--max-len-b)\n");
		rc = AX_EXIT_ERROR;
	} else if (!g.has_encoder)
		rc = run_lm(&g, &o, &src);
	else if (o.tgt)
		rc = run_tgt(&g, &o, &src, &tgt);
	else
		rc = run_decode(&g, &o, &src);
	source_free(&src);
	source_free(&tgt);
	ax_graph_free(&g);
	free(cfg);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "archex run: error: cannot write to stdout: %s\n",
			strerror(errno));
		rc = AX_EXIT_ERROR;
	}
	return rc;
}

int ax_cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t seed = 1;
	const char *out = NULL;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!ax_cli_parse_i64(optarg, 0, INT64_MAX, &seed))
				return ax_cli_usage_error("init", "--seed wants a non-negative integer, not '%s'", optarg);
			break;
		case 'o': out = optarg; break;
		case 'h': help_init(); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("init", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("init", argv, longopts);
		}
	}
	if (argc - optind != 1 || !out)
		return ax_cli_usage_error("init", "expected CONFIG and --out FILE");
	struct stat in_st, out_st;
	if (!*out)
		return ax_cli_usage_error("init", "--out wants a file name, not an empty string");
	if (!stat(argv[optind], &in_st) && !stat(out, &out_st) &&
	    in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
		return ax_cli_usage_error("init", "--out %s is the CONFIG file; it would be "
					  "overwritten", out);
	struct ax_config *cfg = malloc(sizeof *cfg);
	struct ax_graph g;
	ax_graph_init(&g);
	if (!cfg || load_model(argv[optind], cfg, &g) != AX_EXIT_OK) {
		ax_graph_free(&g);
		free(cfg);
		return AX_EXIT_ERROR;
	}
	struct ax_exec x;
	struct ax_diag d = { 0 };
	struct ax_exec_opts eo = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = 1, .max_tgt = 1 };
	int rc = AX_EXIT_OK;
	if (ax_exec_init(&x, &g, &eo, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		rc = AX_EXIT_ERROR;
	} else {
		ax_exec_init_weights(&x, (uint64_t)seed);
		if (ax_exec_save_weights(&x, out, &d) != AX_OK) {
			ax_cli_print_diag(&d);
			rc = AX_EXIT_ERROR;
		}
		ax_exec_free(&x);
	}
	ax_graph_free(&g);
	free(cfg);
	return rc;
}
