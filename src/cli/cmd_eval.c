/*
 * cmd_eval.c - `archex eval CONFIG --weights W --data DIR --split S`:
 * a model measured on a dataset split (src/eval/eval.h): loss and
 * perplexity, and for translation BLEU and chrF of its beam-search
 * output, with timings and provenance, as text or JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cpu.h"
#include "dataset.h"
#include "eval.h"
#include "json.h"

/* OpenBLAS's thread control (not in every cblas.h). */
void openblas_set_num_threads(int n);

static void help(FILE *f)
{
	fprintf(f,
"usage: archex eval CONFIG (--weights FILE | --seed N) --data DIR --split valid|test\n"
"       archex eval RUN --data DIR --split valid|test [options]\n"
"                   [--beam K] [--lenpen X] [--max-len-a A] [--max-len-b B]\n"
"                   [--precision P] [--activations A] [--no-decode] [--hyp-out FILE] [--threads N]\n"
"                   [--format json]\n"
"\n"
"Measures a model on a split of a dataset built by 'archex data'\n"
"(docs/data.md). The manifest's checksums are verified first, and the\n"
"dataset's task and vocabularies must fit the model's. A run directory\n"
"RUN written by 'archex train' stands for RUN/config.yaml with --weights\n"
"RUN/weights.\n"
"\n"
"  loss        teacher-forced negative log-likelihood per BPE token, eos\n"
"              appended to every target (and source), in nats and in bits\n"
"              (fairseq's reported loss), and the perplexity e^loss;\n"
"              language models also per word (whitespace words of the raw\n"
"              text plus one eos per sentence, as fairseq's eval_lm)\n"
"  BLEU, chrF  translation: every source decoded by beam search, the ids\n"
"              detokenized with the dataset's spm_decode model and scored\n"
"              against the split's raw reference text as sacreBLEU does\n"
"\n"
"options:\n"
"  --weights FILE     weights written by 'archex init' or training\n"
"  --seed N           random weights from seed N instead (for tests)\n"
"  --data DIR         the dataset directory (required)\n"
"  --split S          valid or test (required)\n"
"  --beam K           beam width (default 5)\n"
"  --lenpen X         length penalty: score / len^X (default 1)\n"
"  --max-len-a A      decode at most A*(source length with eos) + B tokens\n"
"  --max-len-b B      before eos (defaults 0 and 200, as fairseq's)\n"
"  --precision P      fp32 (default), bf16 or int8: the weights of linears,\n"
"                     embeddings and the output layer, quantized at load\n"
"                     from the fp32 weights (docs/precision.md)\n"
"  --activations A    with --precision int8: int16 (default), fp32 or int8;\n"
"                     int16 and int8 quantize each input row per call\n"
"                     and multiply in integers (VNNI where present) when\n"
"                     decoding (int16: as accurate as fp32 activations,\n"
"                     and faster)\n"
"  --no-decode        loss only, no decoding or BLEU\n"
"  --hyp-out FILE     write the detokenized hypotheses (written atomically)\n"
"  --threads N        OpenBLAS threads (default 1)\n"
"  --format F         text (default) or json\n"
"  -h, --help         this text\n"
"\n"
"Decoding needs spm_decode (package sentencepiece). A progress line is\n"
"shown on a terminal.\n");
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "\rarchex eval: score 120/1491", at most 10 a second, on a terminal. */
static void show(void *ctx, const char *msg)
{
	double *last = ctx, t = now();
	if (t - *last < 0.1)
		return;
	*last = t;
	fprintf(stderr, "\rarchex eval: %-40s", msg);
}

struct eval_cli {
	const char *config, *data, *format;
	struct ax_eval_opts o;
	int64_t threads;
	bool json;
};

static bool parse_double(const char *s, double min, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < min)
		return false;
	*out = v;
	return true;
}

/* Parses argv into c: -1 to go on, else the exit code. */
static int parse(int argc, char **argv, struct eval_cli *c)
{
	static const struct option longopts[] = {
		{ "weights", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "split", required_argument, NULL, 'S' },
		{ "beam", required_argument, NULL, 'b' },
		{ "lenpen", required_argument, NULL, 'l' },
		{ "max-len-a", required_argument, NULL, 'a' },
		{ "max-len-b", required_argument, NULL, 'B' },
		{ "no-decode", no_argument, NULL, 'n' },
		{ "precision", required_argument, NULL, 'Q' },
		{ "activations", required_argument, NULL, 'K' },
		{ "hyp-out", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, split = -1;
	int64_t v;
	bool seeded = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w': c->o.weights = optarg; break;
		case 's':
			if (!ax_cli_parse_i64(optarg, 0, INT64_MAX, &v))
				return ax_cli_usage_error("eval", "--seed wants a non-negative integer, not '%s'", optarg);
			c->o.seed = (uint64_t)v;
			seeded = true;
			break;
		case 'd': c->data = optarg; break;
		case 'S':
			split = ax_cli_enum(optarg, ax_data_split_names, AX_SPLIT_COUNT);
			if (split != AX_SPLIT_VALID && split != AX_SPLIT_TEST)
				return ax_cli_usage_error("eval", "--split must be valid or test, not '%s'", optarg);
			break;
		case 'b':
			if (!ax_cli_parse_i64(optarg, 1, 64, &c->o.beam))
				return ax_cli_usage_error("eval", "--beam wants 1..64, not '%s'", optarg);
			break;
		case 'l':
			if (!parse_double(optarg, -1e6, &c->o.lenpen))
				return ax_cli_usage_error("eval", "--lenpen wants a number, not '%s'", optarg);
			break;
		case 'a':
			if (!parse_double(optarg, 0, &c->o.max_len_a))
				return ax_cli_usage_error("eval", "--max-len-a wants a non-negative number, not '%s'", optarg);
			break;
		case 'B':
			if (!ax_cli_parse_i64(optarg, 0, 4095, &c->o.max_len_b))
				return ax_cli_usage_error("eval", "--max-len-b wants 0..4095, not '%s'", optarg);
			break;
		case 'n': c->o.decode = false; break;
		case 'Q': {
			int k = ax_cli_enum(optarg, ax_precision_names, AX_PREC_COUNT);
			if (k < 0)
				return ax_cli_usage_error("eval", "--precision must be fp32, bf16 or int8, not '%s'", optarg);
			c->o.precision = (enum ax_precision)k;
			break;
		}
		case 'K': {
			int k = ax_cli_enum(optarg, ax_act_names + 1,
						AX_ACT_COUNT - 1);   /* not "default" */
			if (k < 0)
				return ax_cli_usage_error("eval", "--activations must be fp32, int16 or int8, not '%s'", optarg);
			c->o.act = (enum ax_act)(k + 1);
			break;
		}
		case 'o': c->o.hyp_out = optarg; break;
		case 't':
			if (!ax_cli_parse_i64(optarg, 1, 256, &c->threads))
				return ax_cli_usage_error("eval", "--threads wants 1..256, not '%s'", optarg);
			break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return ax_cli_usage_error("eval", "--format must be text or json, not '%s'", optarg);
			c->json = !strcmp(optarg, "json");
			break;
		case 'h': help(stdout); return AX_EXIT_OK;
		case ':': return ax_cli_usage_error("eval", "option '%s' needs a value", argv[optind - 1]);
		default: return ax_cli_bad_option("eval", argv, longopts);
		}
	}
	if (argc - optind != 1)
		return ax_cli_usage_error("eval", "expected exactly one CONFIG");
	c->config = argv[optind];
	static char run_cfg[AX_CLI_RUN_PATH], run_w[AX_CLI_RUN_PATH];
	if (!ax_cli_run_dir(&c->config, &c->o.weights, !seeded, run_cfg, run_w))
		return AX_EXIT_ERROR;
	if (!c->data)
		return ax_cli_usage_error("eval", "--data DIR is required");
	if (split < 0)
		return ax_cli_usage_error("eval", "--split valid|test is required");
	c->o.split = (enum ax_data_split)split;
	if ((c->o.act == AX_ACT_INT16 || c->o.act == AX_ACT_INT8) &&
	    c->o.precision != AX_PREC_INT8)
		return ax_cli_usage_error("eval", "--activations %s needs --precision int8",
					  ax_act_names[c->o.act]);
	if (!c->o.weights == !seeded)
		return ax_cli_usage_error("eval", "give exactly one of --weights and --seed");
	if (c->o.hyp_out && !c->o.decode)
		return ax_cli_usage_error("eval", "--hyp-out needs decoding (drop --no-decode)");
	return -1;
}

static void text_report(const struct eval_cli *c, const struct ax_graph *g,
			const struct ax_dataset *ds, const struct ax_eval_result *r)
{
	printf("%s on %s %s: %" PRId64 " sentences, %" PRId64 " target tokens (eos included)\n",
	       g->cfg->name, ds->name, ax_data_split_names[c->o.split], r->sentences,
	       r->tokens);
	printf("loss %.4f nats (%.4f bits) per token, perplexity %.3f\n",
	       r->loss, r->loss_base2, r->perplexity);
	if (r->words)
		printf("per word (%" PRId64 " words with eos): loss %.4f nats (%.4f bits), perplexity %.3f\n",
		       r->words, r->word_loss, r->word_loss_base2, r->word_perplexity);
	printf("scoring %.2f s, %.0f tokens/s\n", r->score_seconds, r->score_tokens_per_s);
	if (!r->decoded)
		return;
	const struct ax_bleu *b = &r->bleu;
	printf("BLEU %.2f %.1f/%.1f/%.1f/%.1f (BP %.3f ratio %.3f hyp_len %" PRId64
	       " ref_len %" PRId64 "), chrF2 %.2f\n", b->score, b->precision[0],
	       b->precision[1], b->precision[2], b->precision[3], b->bp, b->ratio,
	       b->sys_len, b->ref_len, b->chrf);
	printf("decoding beam %" PRId64 ": %" PRId64 " tokens in %.2f s, %.0f tokens/s; "
	       "%" PRId64 " cut at the length limit, %" PRId64 " ids outside the dataset's vocabulary\n",
	       c->o.beam, r->hyp_tokens, r->decode_seconds, r->decode_tokens_per_s,
	       r->hyp_cut, r->hyp_unknown);
	printf("OpenBLAS kernel %s, %" PRId64 " thread(s), %.2f s in all\n",
	       ax_cpu_blas_core(), c->threads, r->seconds);
}

static void json_num(struct ax_json *j, const char *k, double v)
{
	ax_json_key(j, k);
	ax_json_double(j, v);
}

static void json_int(struct ax_json *j, const char *k, int64_t v)
{
	ax_json_key(j, k);
	ax_json_int(j, v);
}

static void json_str(struct ax_json *j, const char *k, const char *v)
{
	ax_json_key(j, k);
	ax_json_string(j, v);
}

static void json_bleu(struct ax_json *j, const struct eval_cli *c,
		      const struct ax_eval_result *r)
{
	const struct ax_bleu *b = &r->bleu;
	json_num(j, "bleu", b->score);
	ax_json_key(j, "bleu_precisions");
	ax_json_begin_array(j);
	for (int n = 0; n < AX_BLEU_ORDER; n++)
		ax_json_double(j, b->precision[n]);
	ax_json_end_array(j);
	json_num(j, "bleu_bp", b->bp);
	json_num(j, "bleu_ratio", b->ratio);
	json_int(j, "bleu_sys_len", b->sys_len);
	json_int(j, "bleu_ref_len", b->ref_len);
	json_num(j, "chrf", b->chrf);
	json_str(j, "bleu_signature", "sacreBLEU-compatible: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp; chrF2 nc:6 nw:0 space:no");
	json_int(j, "beam", c->o.beam);
	json_num(j, "lenpen", c->o.lenpen);
	json_num(j, "max_len_a", c->o.max_len_a);
	json_int(j, "max_len_b", c->o.max_len_b);
	json_int(j, "hyp_tokens", r->hyp_tokens);
	json_int(j, "hyp_cut", r->hyp_cut);
	json_int(j, "hyp_unknown_ids", r->hyp_unknown);
	json_num(j, "decode_seconds", r->decode_seconds);
	json_num(j, "decode_tokens_per_s", r->decode_tokens_per_s);
}

static int json_report(const struct eval_cli *c, const struct ax_graph *g,
		       const struct ax_dataset *ds, const struct ax_eval_result *r,
		       const char *weights_sha)
{
	struct ax_json j;
	struct ax_diag d = { 0 };
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_hash(g->cfg));
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	json_str(&j, "model", g->cfg->name);
	json_str(&j, "dataset", ds->name);
	json_str(&j, "data_dir", ds->dir);
	json_str(&j, "split", ax_data_split_names[c->o.split]);
	json_str(&j, "precision", ax_precision_names[c->o.precision]);
	if (c->o.precision == AX_PREC_INT8)
		json_str(&j, "activations",
			 ax_act_names[ax_exec_act(c->o.precision, c->o.act)]);
	json_str(&j, "task", ax_data_task_names[ds->task]);
	json_int(&j, "sentences", r->sentences);
	json_int(&j, "src_tokens", r->src_tokens);
	json_int(&j, "tokens", r->tokens);
	json_num(&j, "nll", r->nll);
	json_num(&j, "loss", r->loss);
	json_num(&j, "loss_base2", r->loss_base2);
	json_num(&j, "perplexity", r->perplexity);
	if (r->words) {
		json_int(&j, "words", r->words);
		json_num(&j, "word_loss", r->word_loss);
		json_num(&j, "word_loss_base2", r->word_loss_base2);
		json_num(&j, "word_perplexity", r->word_perplexity);
	}
	json_num(&j, "score_seconds", r->score_seconds);
	json_num(&j, "score_tokens_per_s", r->score_tokens_per_s);
	if (r->decoded)
		json_bleu(&j, c, r);
	json_num(&j, "seconds", r->seconds);
	json_str(&j, "config_hash", hash);
	json_str(&j, "archex_version", AX_VERSION);
	if (c->o.weights) {
		json_str(&j, "weights", c->o.weights);
		json_str(&j, "weights_sha256", weights_sha);
	} else {
		json_int(&j, "seed", (int64_t)c->o.seed);
	}
	json_int(&j, "threads", c->threads);
	json_str(&j, "blas_core", ax_cpu_blas_core());
	json_str(&j, "blas_core_source", ax_cpu_blas_core_source());
	ax_json_end_object(&j);
	if (ax_json_finish(&j, &d) != AX_OK) {
		ax_cli_print_diag(&d);
		return AX_EXIT_ERROR;
	}
	printf("\n");
	return AX_EXIT_OK;
}

/* Builds the model, opens and verifies the dataset, runs the evaluation
 * and reports. */
static int run(struct eval_cli *c, struct ax_config *cfg)
{
	struct ax_diag d = { 0 };
	struct ax_graph g;
	struct ax_dataset *ds = malloc(sizeof *ds);
	char sha[65] = "";
	int rc = AX_EXIT_ERROR;
	ax_graph_init(&g);
	if (!ds || !ax_cli_load(c->config, cfg))
		goto out;
	if (ax_model_build(cfg, &g, &d) != AX_OK ||
	    ax_dataset_open(c->data, true, ds, &d) != AX_OK ||
	    ax_eval_check(&g, ds, &c->o, &d) != AX_OK ||
	    (c->o.weights && ax_sha256_file(c->o.weights, sha, &d) != AX_OK)) {
		ax_cli_print_diag(&d);
		goto out;
	}
	double last = 0;
	if (isatty(2)) {
		c->o.progress = show;
		c->o.progress_ctx = &last;
	}
	openblas_set_num_threads((int)c->threads);
	struct ax_eval_result r;
	enum ax_status st = ax_eval_run(&g, ds, &c->o, &r, &d);
	if (c->o.progress)
		fprintf(stderr, "\r%-54s\r", "");
	if (st != AX_OK) {
		ax_cli_print_diag(&d);
		goto out;
	}
	if (c->json)
		rc = json_report(c, &g, ds, &r, sha);
	else {
		text_report(c, &g, ds, &r);
		rc = AX_EXIT_OK;
	}
	if (fflush(stdout))
		rc = AX_EXIT_ERROR;
out:
	ax_graph_free(&g);
	free(ds);
	return rc;
}

int ax_cmd_eval(int argc, char **argv)
{
	struct eval_cli c = {
		.o = { .decode = true, .beam = 5, .lenpen = 1.0, .max_len_a = 0,
		       .max_len_b = 200 },
		.threads = 1,
	};
	int rc = parse(argc, argv, &c);
	if (rc >= 0)
		return rc;
	struct ax_config *cfg = malloc(sizeof *cfg);
	if (!cfg) {
		fprintf(stderr, "archex eval: error: out of memory\n");
		return AX_EXIT_ERROR;
	}
	rc = run(&c, cfg);
	free(cfg);
	return rc;
}
