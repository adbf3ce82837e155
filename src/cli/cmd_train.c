/*
 * cmd_train.c - `archex train`: trains a config on a dataset directory
 * (docs/training.md). Parses flags, resolves the hyperparameters (the
 * config's `train:` section, overridden by flags), builds the model and
 * hands the run to ax_train_run's session (src/train/train_run.h); prints the
 * progress line and the final JSON summary.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "atomic_io.h"
#include "cli.h"
#include "dataset.h"
#include "json.h"
#include "model.h"
#include "train_run.h"
#include "train.h"

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

/* The hyperparameter flags: one per row of the train: section
 * (schema.h AX_SCHEMA_TRAIN), named as its key with '-' for '_', taking
 * the row's range, showing its default and its doc line. */
struct hp_flag {
	const char *key;
	bool is_int;
	double lo, hi, dflt;
	const char *doc;
};

#define HP_IS_INT_F64 false
#define HP_IS_INT_I64 true
#define HP_ROW(c, kind, key, member, ctype, min, max, aux, flags, rule, tag, doc) \
	{ key, HP_IS_INT_##kind, (double)(min), (double)(max), (double)(aux), doc },
static const struct hp_flag hp_flags[] = { AX_SCHEMA_TRAIN(HP_ROW, _) };
#undef HP_ROW
#define N_HP ((int)(sizeof hp_flags / sizeof hp_flags[0]))
static_assert(N_HP <= 32, "struct opts' hp_given has a bit per row");

/* "--label-smoothing" for "label_smoothing" */
static void hp_flag_name(int k, char *buf, size_t size)
{
	snprintf(buf, size, "--%s", hp_flags[k].key);
	for (char *p = buf + 2; *p; p++)
		if (*p == '_')
			*p = '-';
}

static void help(void)
{
	printf(
"usage: archex train CONFIG --data DIR --out RUN\n"
"                    [--train-tokens N | --max-steps N | --max-epochs N] [options]\n"
"\n"
"Train a model config on a dataset directory written by 'archex data'\n"
"(docs/data-format.md), in C over the same op list 'archex count' costs:\n"
"packed length-bucketed batches, fairseq's label-smoothed cross entropy,\n"
"AdamW with the inverse-square-root schedule, dropout from a seeded\n"
"counter-based RNG. The same seed and --threads give bit-identical weights.\n"
"\n"
"Writes RUN/config.yaml (the resolved config, train: section included)\n"
"and RUN/weights, which 'archex run RUN' and 'archex eval RUN' load;\n"
"RUN/checkpoint (weights, Adam moments, step, data position; atomic),\n"
"RUN/train.jsonl (one record per update and per validation), a progress\n"
"line on a terminal and a JSON summary on stdout. Stop after (one\n"
"required):\n"
"  --train-tokens N   N target tokens (eos included), as fairseq counts them\n"
"  --max-steps N      N updates\n"
"  --max-epochs N     N passes over the training split\n"
"Hyperparameters come from the config's train: section (docs/config.md),\n"
"each flag below overriding its key (--lr sets train.lr, ...); the defaults\n"
"shown apply where neither gives a value.\n"
"hyperparameters:\n");
	for (int k = 0; k < N_HP; k++) {
		char name[48], lhs[64];
		hp_flag_name(k, name, sizeof name);
		snprintf(lhs, sizeof lhs, "%s %s", name, hp_flags[k].is_int ? "N" : "X");
		printf("  %-22s %s (default %g)\n", lhs, hp_flags[k].doc,
		       hp_flags[k].dflt);
	}
	printf(
"options:\n"
"  --threads N        OpenBLAS threads (default 1)\n"
"  --valid-every N    validate every N updates, 0 = only at the end (default 0)\n"
"  --save-every N     checkpoint every N updates (default 100)\n"
"  --resume           continue from RUN/checkpoint (same config and options)\n"
"  --profile          time each op kind, the loss and the optimizer, and the\n"
"                     linears against a square sgemm run at the end; adds\n"
"                     \"profile\" to the summary (docs/training.md)\n"
"  --dump-grad FILE   testing: write the gradients of the first batch (as a\n"
"                     weights file) and print the batch as JSON; no training\n"
"  -h, --help         this text\n");
}

struct opts {
	const char *config, *data, *out, *dump_grad;
	int64_t train_tokens, max_steps, max_epochs;
	int64_t threads, valid_every, save_every;
	bool resume, profile;
	struct ax_train_hparams hp;   /* the flags' values; then resolved */
	uint32_t hp_given;            /* bit k: the flag of hp_flags[k] given */
};

static bool parse_num(const char *flag, const char *s, double lo, double hi,
		      double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= lo && v <= hi)) {
		ax_cli_usage_error("train", "%s wants a number in [%g, %g], not '%s'",
				   flag, lo, hi, s);
		return false;
	}
	*out = v;
	return true;
}

static bool parse_int_in(const char *flag, const char *s, int64_t lo,
			 int64_t hi, int64_t *out)
{
	if (ax_cli_parse_i64(s, lo, hi, out))
		return true;
	ax_cli_usage_error("train", "%s wants an integer in %lld..%lld, not '%s'",
			   flag, (long long)lo, (long long)hi, s);
	return false;
}

static bool parse_int(const char *flag, const char *s, int64_t lo, int64_t *out)
{
	if (ax_cli_parse_i64(s, lo, INT64_MAX / 4, out))
		return true;
	ax_cli_usage_error("train", "%s wants an integer >= %lld, not '%s'", flag,
			   (long long)lo, s);
	return false;
}

enum { O_DATA = 256, O_OUT, O_TT, O_MS, O_ME, O_THR, O_VE, O_SE, O_RES,
       O_PROF, O_DUMP, O_HP /* O_HP + k: hp_flags[k] */ };

/* Sets the member of row k from the flag's value v (integer rows: iv). */
static void hp_set(struct ax_train_hparams *h, int k, double v, int64_t iv)
{
	int row = 0;
#define SET_F64(m) h->m = v;
#define SET_I64(m) h->m = iv;
#define SET_ROW(c, kind, key, member, ...)                                    \
	if (k == row++) {                                                      \
		SET_##kind(member)                                             \
		return;                                                        \
	}
	AX_SCHEMA_TRAIN(SET_ROW, _)
#undef SET_ROW
#undef SET_I64
#undef SET_F64
}

/* A hyperparameter flag: the row's range, then its member. */
static bool parse_hp(struct opts *o, int k, const char *a)
{
	const struct hp_flag *f = &hp_flags[k];
	char name[48];
	hp_flag_name(k, name, sizeof name);
	double v = 0;
	int64_t iv = 0;
	if (f->is_int ? !parse_int_in(name, a, (int64_t)f->lo, (int64_t)f->hi, &iv)
		      : !parse_num(name, a, f->lo, f->hi, &v))
		return false;
	hp_set(&o->hp, k, v, iv);
	o->hp_given |= 1u << k;
	return true;
}

static bool parse_opt(struct opts *o, int c, const char *a)
{
	if (c >= O_HP && c < O_HP + N_HP)
		return parse_hp(o, c - O_HP, a);
	switch (c) {
	case O_DATA: o->data = a; return true;
	case O_OUT: o->out = a; return true;
	case O_TT: return parse_int("--train-tokens", a, 1, &o->train_tokens);
	case O_MS: return parse_int("--max-steps", a, 1, &o->max_steps);
	case O_ME: return parse_int("--max-epochs", a, 1, &o->max_epochs);
	case O_THR: return parse_int("--threads", a, 1, &o->threads);
	case O_VE: return parse_int("--valid-every", a, 0, &o->valid_every);
	case O_SE: return parse_int("--save-every", a, 1, &o->save_every);
	case O_RES: o->resume = true; return true;
	case O_PROF: o->profile = true; return true;
	case O_DUMP: o->dump_grad = a; return true;
	default: return false;
	}
}

/* getopt_long's table: the fixed flags, then one per hp_flags row. */
static const struct option *long_options(void)
{
	static const struct option fixed[] = {
		{ "data", 1, 0, O_DATA }, { "out", 1, 0, O_OUT },
		{ "train-tokens", 1, 0, O_TT }, { "max-steps", 1, 0, O_MS },
		{ "max-epochs", 1, 0, O_ME }, { "threads", 1, 0, O_THR },
		{ "valid-every", 1, 0, O_VE }, { "save-every", 1, 0, O_SE },
		{ "resume", 0, 0, O_RES }, { "profile", 0, 0, O_PROF },
		{ "dump-grad", 1, 0, O_DUMP }, { "help", 0, 0, 'h' },
	};
	enum { N_FIXED = sizeof fixed / sizeof fixed[0] };
	static struct option all[N_FIXED + 32 + 1];
	static char names[32][48];
	memcpy(all, fixed, sizeof fixed);
	for (int k = 0; k < N_HP; k++) {
		char flag[48];
		hp_flag_name(k, flag, sizeof flag);
		snprintf(names[k], sizeof names[k], "%s", flag + 2);
		all[N_FIXED + k] = (struct option){ names[k], 1, 0, O_HP + k };
	}
	all[N_FIXED + N_HP] = (struct option){ 0, 0, 0, 0 };
	return all;
}

/* 0 ok, else the exit code. */
static int parse(int argc, char **argv, struct opts *o)
{
	const struct option *lo = long_options();
	memset(o, 0, sizeof *o);
	ax_train_hparams_default(&o->hp);
	o->threads = 1;
	o->save_every = 100;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			help();
			return -1;
		}
		if (c == '?')
			return ax_cli_usage_error("train", "unknown option '%s'",
						  ax_cli_unknown_opt(argv));
		if (c == ':' || !parse_opt(o, c, optarg))
			return AX_EXIT_USAGE;
	}
	if (optind != argc - 1)
		return ax_cli_usage_error("train", "want exactly one CONFIG");
	o->config = argv[optind];
	if (!o->data || !o->out)
		return ax_cli_usage_error("train", "--data DIR and --out RUN are required");
	int stops = (o->train_tokens > 0) + (o->max_steps > 0) + (o->max_epochs > 0);
	if (stops != 1 && !o->dump_grad)
		return ax_cli_usage_error("train", "give one of --train-tokens, "
					  "--max-steps, --max-epochs");
	return 0;
}

/* The hyperparameters: the config's train: section (or the defaults),
 * then each flag given; written back into cfg.train so that its recipe
 * hash names what runs. */
static void resolve_hparams(struct opts *o, struct ax_config *cfg)
{
	const struct ax_train_hparams f = o->hp;
	struct ax_train_hparams *h = &o->hp;
	int row = 0;

	ax_train_hparams_from_config(cfg, h);
#define TAKE_ROW(c, kind, key, member, ...)                                   \
	if (o->hp_given & (1u << row++))                                       \
		h->member = f.member;
	AX_SCHEMA_TRAIN(TAKE_ROW, _)
#undef TAKE_ROW
	ax_train_hparams_to_config(h, cfg);
}

/* The progress line on a terminal. */
static void progress_line(void *ctx, const struct ax_train_progress *p)
{
	(void)ctx;
	fprintf(stderr, "\rstep %lld  epoch %lld  loss %.4f  nll %.4f  "
		"lr %.3g  %.0f tok/s  ETA %.0fs   ", (long long)p->step,
		(long long)p->epoch, p->loss, p->nll, p->lr, p->tokens_per_s,
		p->eta_s);
}

/* "hparams": the resolved values, keyed as the train: section spells them. */
static void hparams_json(struct ax_json *j, const struct ax_train_hparams *h)
{
	ax_json_key(j, "hparams");
	ax_json_begin_object(j);
#define JSON_F64(v) ax_json_double(j, (v))
#define JSON_I64(v) ax_json_int(j, (int64_t)(v))
#define JSON_ROW(c, kind, key, member, ...)                                   \
	ax_json_key(j, key);                                                   \
	JSON_##kind(h->member);
	AX_SCHEMA_TRAIN(JSON_ROW, _)
#undef JSON_ROW
#undef JSON_I64
#undef JSON_F64
	ax_json_end_object(j);
}

/* What the run measured about itself, taken before the sgemm probe. */
struct measured {
	struct ax_train_memory mem;
	int64_t rss;            /* peak RSS, bytes */
	double sgemm_gflops;    /* --profile: square sgemm, NaN otherwise */
};

#define SGEMM_N 1024   /* the square sgemm the linears are compared with */

/* "memory": the trainer's predicted bytes by part and the peak RSS. */
static void memory_json(struct ax_json *j, const struct measured *m)
{
	const struct ax_train_memory *p = &m->mem;
	ax_json_key(j, "memory");
	ax_json_begin_object(j);
	ax_json_key(j, "predicted_bytes"); ax_json_int(j, p->total);
	ax_json_key(j, "weights"); ax_json_int(j, p->weights);
	ax_json_key(j, "grads"); ax_json_int(j, p->grads);
	ax_json_key(j, "adam_moments"); ax_json_int(j, p->adam);
	ax_json_key(j, "activations"); ax_json_int(j, p->activations);
	ax_json_key(j, "activation_grads"); ax_json_int(j, p->activation_grads);
	ax_json_key(j, "other"); ax_json_int(j, p->other);
	ax_json_key(j, "data"); ax_json_int(j, p->data);
	ax_json_key(j, "peak_rss_bytes"); ax_json_int(j, m->rss);
	ax_json_key(j, "rss_over_predicted");
	ax_json_double(j, p->total > 0 ? (double)m->rss / (double)p->total : 0.0);
	ax_json_end_object(j);
}

static void kinds_json(struct ax_json *j, const char *key, const double *s)
{
	ax_json_key(j, key);
	ax_json_begin_object(j);
	for (int k = 0; k < AX_OP_KIND_COUNT; k++)
		if (s[k] > 0.0) {
			ax_json_key(j, ax_op_kind_names[k]);
			ax_json_double(j, s[k]);
		}
	ax_json_end_object(j);
}

/* "profile": seconds by op kind and phase over the run's updates, and
 * the linears' rate against the square sgemm's. */
static void profile_json(struct ax_json *j, const struct ax_train_prof *p,
			 double sgemm)
{
	double lin = p->fwd_s[AX_OP_LINEAR] + p->bwd_s[AX_OP_LINEAR], total = 0;
	for (int k = 0; k < AX_OP_KIND_COUNT; k++)
		total += p->fwd_s[k] + p->bwd_s[k];
	total += p->loss_s + p->zero_s + p->optim_s;
	double gf = lin > 0 ? 2.0 * (double)p->linear_macs / lin * 1e-9 : 0.0;
	ax_json_key(j, "profile");
	ax_json_begin_object(j);
	ax_json_key(j, "steps"); ax_json_int(j, p->steps);
	ax_json_key(j, "seconds"); ax_json_double(j, total);
	kinds_json(j, "forward_s", p->fwd_s);
	kinds_json(j, "backward_s", p->bwd_s);
	ax_json_key(j, "loss_s"); ax_json_double(j, p->loss_s);
	ax_json_key(j, "zero_grad_s"); ax_json_double(j, p->zero_s);
	ax_json_key(j, "optimizer_s"); ax_json_double(j, p->optim_s);
	ax_json_key(j, "linear_macs"); ax_json_int(j, p->linear_macs);
	ax_json_key(j, "linear_s"); ax_json_double(j, lin);
	ax_json_key(j, "linear_share"); ax_json_double(j, total > 0 ? lin / total : 0.0);
	ax_json_key(j, "linear_gflops"); ax_json_double(j, gf);
	ax_json_key(j, "sgemm_n"); ax_json_int(j, SGEMM_N);
	ax_json_key(j, "sgemm_gflops");
	isfinite(sgemm) ? ax_json_double(j, sgemm) : ax_json_null(j);
	ax_json_key(j, "linear_sgemm_fraction");
	isfinite(sgemm) && sgemm > 0 ? ax_json_double(j, gf / sgemm) : ax_json_null(j);
	ax_json_end_object(j);
}

static void summary(const struct opts *o, const struct ax_config *cfg,
		    const struct ax_train_summary *r, const char *weights,
		    const struct measured *m, const struct ax_train_prof *prof)
{
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "config"); ax_json_string(&j, cfg->name);
	ax_json_key(&j, "steps"); ax_json_int(&j, r->steps);
	ax_json_key(&j, "epochs_done"); ax_json_int(&j, r->epochs_done);
	ax_json_key(&j, "train_tokens"); ax_json_int(&j, r->tokens);
	ax_json_key(&j, "seconds"); ax_json_double(&j, r->seconds);
	ax_json_key(&j, "valid_loss");
	isfinite(r->valid_loss) ? ax_json_double(&j, r->valid_loss) : ax_json_null(&j);
	ax_json_key(&j, "valid_nll");
	isfinite(r->valid_nll) ? ax_json_double(&j, r->valid_nll) : ax_json_null(&j);
	ax_json_key(&j, "valid_ppl");
	isfinite(r->valid_nll) ? ax_json_double(&j, r->valid_ppl) : ax_json_null(&j);
	ax_json_key(&j, "skipped_sentences"); ax_json_int(&j, r->skipped_sentences);
	ax_json_key(&j, "weights"); ax_json_string(&j, weights);
	ax_json_key(&j, "blas_kernel"); ax_json_string(&j, openblas_get_corename());
	ax_json_key(&j, "threads"); ax_json_int(&j, o->threads);
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_hash(cfg));
	ax_json_key(&j, "config_hash"); ax_json_string(&j, hash);
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_recipe_hash(cfg));
	ax_json_key(&j, "recipe_hash"); ax_json_string(&j, hash);
	hparams_json(&j, &o->hp);
	memory_json(&j, m);
	if (o->profile)
		profile_json(&j, prof, m->sgemm_gflops);
	ax_json_end_object(&j);
	ax_json_finish(&j, NULL);
}

static void print_ids(const int32_t *ids, int64_t n)
{
	for (int64_t k = 0; k < n; k++)
		printf("%s%d", k ? "," : "", ids[k]);
}

/* --dump-grad: gradients of batch 0 of epoch 0 as a weights file (by
 * parameter name, like the weights), the batch on stdout for an
 * independent check (tests/oracle.py --grad). */
static enum ax_status dump_grad(struct ax_train_session *r, const char *path,
				struct ax_diag *d)
{
	struct ax_train_batch *b = &r->t.batch;
	struct ax_train_stats s;
	ax_batcher_epoch(&r->train, 0);
	ax_batcher_fill(&r->train, 0, b);
	enum ax_status st = ax_train_grad(&r->t, &s, d);
	if (st != AX_OK)
		return st;
	float *w = r->t.wx.weights;
	r->t.wx.weights = r->t.grad;
	st = ax_exec_save_weights(&r->t.wx, path, d);
	r->t.wx.weights = w;
	if (st != AX_OK)
		return st;
	printf("{\"loss\": %.9g, \"nll\": %.9g, \"tokens\": %lld, \"sentences\": [",
	       s.loss, s.nll, (long long)s.tokens);
	for (int64_t i = 0; i < b->n; i++) {
		printf("%s{\"src\": [", i ? ", " : "");
		print_ids(b->src + b->src_off[i], b->src_off[i + 1] - b->src_off[i]);
		printf("], \"tgt\": [");
		print_ids(b->tgt_out + b->tgt_off[i], b->tgt_off[i + 1] - b->tgt_off[i]);
		printf("]}");
	}
	printf("]}\n");
	return AX_OK;
}

/* RUN/config.yaml: the resolved config, train: section as resolved from
 * the flags, so `archex run RUN` finds what RUN/weights belong to. */
static enum ax_status save_config(const struct opts *o,
				  const struct ax_config *cfg,
				  struct ax_diag *d)
{
	char path[AX_PATH_MAX];
	if ((size_t)snprintf(path, sizeof path, "%s/config.yaml", o->out) >=
	    sizeof path)
		return ax_diag_set(d, AX_ERR_LIMIT, o->out, 0, 0, "path too long");
	return ax_config_save_yaml(path, cfg, d);
}

int ax_cmd_train(int argc, char **argv)
{
	static struct opts o;
	static struct ax_config cfg;
	static struct ax_train_session sess;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? AX_EXIT_OK : rc;
	if (!ax_cli_load(o.config, &cfg))
		return AX_EXIT_ERROR;
	resolve_hparams(&o, &cfg);
	struct ax_train_run_opts ro = {
		.budget = { .train_tokens = o.train_tokens, .max_steps = o.max_steps,
			    .max_epochs = o.max_epochs },
		.valid_every = o.valid_every, .save_every = o.save_every,
		.threads = (int)o.threads, .resume = o.resume,
		.progress = isatty(2) ? progress_line : NULL,
	};
	struct ax_diag d = { 0 };
	struct ax_graph g;
	struct ax_train_summary sum;
	ax_graph_init(&g);
	enum ax_status st = ax_model_build(&cfg, &g, &d);
	if (st == AX_OK)
		st = ax_train_session_open(&sess, &g, &cfg, &o.hp, o.data,
					   o.out, &ro, &d);
	if (st == AX_OK && o.dump_grad)
		st = dump_grad(&sess, o.dump_grad, &d);
	else if (st == AX_OK && (st = save_config(&o, &cfg, &d)) == AX_OK) {
		sess.t.prof.on = o.profile;
		st = ax_train_session_run(&sess, &sum, &d);
	}
	if (ro.progress && st == AX_OK && !o.dump_grad)
		fprintf(stderr, "\n");
	if (st == AX_OK && !o.dump_grad) {
		struct measured m = { .rss = ax_cli_peak_rss(), .sgemm_gflops = NAN };
		ax_train_session_memory(&sess, &m.mem);
		if (o.profile)
			m.sgemm_gflops = ax_train_sgemm_gflops(SGEMM_N, 3);
		summary(&o, &cfg, &sum, sess.weights, &m, &sess.t.prof);
	}
	else if (st != AX_OK)
		ax_cli_print_diag(&d);
	ax_train_session_close(&sess);
	ax_graph_free(&g);
	return st == AX_OK ? AX_EXIT_OK : AX_EXIT_ERROR;
}
