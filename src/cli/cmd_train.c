/*
 * cmd_train.c - `archex train`: trains a config on a dataset directory
 * (docs/training.md). Parses flags, resolves the hyperparameters (the
 * config's `train:` section, overridden by flags), opens the data, and
 * drives the
 * engine of src/train: batches, updates, validation, the JSON Lines log,
 * checkpoints every --save-every updates and at the end, RUN/weights,
 * and the final JSON summary on stdout.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "atomic_io.h"
#include "cli.h"
#include "dataset.h"
#include "json.h"
#include "model.h"
#include "train.h"

void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

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
"Writes RUN/weights (loadable by 'archex run --weights'), RUN/checkpoint\n"
"(weights, Adam moments, step, data position; atomic), RUN/train.jsonl\n"
"(one record per update and per validation), a progress line on a terminal\n"
"and a JSON summary on stdout. Stop after (one required):\n"
"  --train-tokens N   N target tokens (eos included), as fairseq counts them\n"
"  --max-steps N      N updates\n"
"  --max-epochs N     N passes over the training split\n"
"Hyperparameters come from the config's train: section (docs/config.md),\n"
"each flag below overriding its key (--lr sets train.lr, ...); the defaults\n"
"shown apply where neither gives a value.\n"
"options:\n"
"  --max-tokens N     tokens per batch and stream (default 4096)\n"
"  --lr X             peak learning rate (default 5e-4)\n"
"  --warmup N         linear warmup updates (default 4000)\n"
"  --weight-decay X   AdamW decoupled decay of weights and tables (default 1e-4)\n"
"  --clip-norm X      global gradient-norm bound, 0 = off (default 0)\n"
"  --label-smoothing X  epsilon (default 0.1)\n"
"  --dropout X        embedding and residual dropout (default 0.1)\n"
"  --attention-dropout X, --activation-dropout X   (default 0)\n"
"  --weight-dropout X DropConnect on light / dynamic conv kernels (default 0)\n"
"  --seed N           weights, batch order and dropout (default 1)\n"
"  --threads N        OpenBLAS threads (default 1)\n"
"  --valid-every N    validate every N updates, 0 = only at the end (default 0)\n"
"  --save-every N     checkpoint every N updates (default 100)\n"
"  --resume           continue from RUN/checkpoint (same config and options)\n"
"  --dump-grad FILE   testing: write the gradients of the first batch (as a\n"
"                     weights file) and print the batch as JSON; no training\n"
"  -h, --help         this text\n");
}

struct opts {
	const char *config, *data, *out, *dump_grad;
	double weight_dropout;   /* --weight-dropout: a flag, no train: key yet */
	int64_t train_tokens, max_steps, max_epochs;
	int64_t threads, valid_every, save_every;
	bool resume;
	struct ax_train_hparams hp;   /* the flags' values; then resolved */
	uint32_t given;               /* bit (option - O_DATA): flag given */
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

enum { O_DATA = 256, O_OUT, O_TT, O_MS, O_ME, O_MT, O_LR, O_WU, O_WD, O_CLIP,
       O_LS, O_DROP, O_ADROP, O_XDROP, O_WDROP, O_SEED, O_THR, O_VE, O_SE, O_RES, O_DUMP };

#define GIVEN(opt) (1u << ((opt) - O_DATA))
static_assert(O_DUMP - O_DATA < 32, "struct opts' given has a bit per option");

/* Hyperparameter flags take the train: section's ranges (schema.h). */
static bool parse_opt(struct opts *o, int c, const char *a)
{
	struct ax_train_hparams *h = &o->hp;
	int64_t seed;
	if (c >= O_DATA && c <= O_DUMP)
		o->given |= GIVEN(c);
	switch (c) {
	case O_DATA: o->data = a; return true;
	case O_OUT: o->out = a; return true;
	case O_TT: return parse_int("--train-tokens", a, 1, &o->train_tokens);
	case O_MS: return parse_int("--max-steps", a, 1, &o->max_steps);
	case O_ME: return parse_int("--max-epochs", a, 1, &o->max_epochs);
	case O_MT:
		return parse_int_in("--max-tokens", a, 2, AX_TRAIN_MAX_TOKENS,
				    &h->max_tokens);
	case O_LR: return parse_num("--lr", a, 0, 10, &h->lr);
	case O_WU:
		return parse_int_in("--warmup", a, 0, AX_TRAIN_MAX_COUNT, &h->warmup);
	case O_WD: return parse_num("--weight-decay", a, 0, 1, &h->weight_decay);
	case O_CLIP: return parse_num("--clip-norm", a, 0, 1e9, &h->clip_norm);
	case O_LS: return parse_num("--label-smoothing", a, 0, 0.999, &h->label_smoothing);
	case O_DROP: return parse_num("--dropout", a, 0, 0.99, &h->dropout);
	case O_ADROP: return parse_num("--attention-dropout", a, 0, 0.99, &h->attention_dropout);
	case O_XDROP: return parse_num("--activation-dropout", a, 0, 0.99, &h->activation_dropout);
	case O_WDROP: return parse_num("--weight-dropout", a, 0, 0.99, &o->weight_dropout);
	case O_SEED:
		if (!parse_int_in("--seed", a, 0, AX_TRAIN_MAX_COUNT, &seed))
			return false;
		h->seed = (uint64_t)seed;
		return true;
	case O_THR: return parse_int("--threads", a, 1, &o->threads);
	case O_VE: return parse_int("--valid-every", a, 0, &o->valid_every);
	case O_SE: return parse_int("--save-every", a, 1, &o->save_every);
	case O_RES: o->resume = true; return true;
	case O_DUMP: o->dump_grad = a; return true;
	default: return false;
	}
}

/* 0 ok, else the exit code. */
static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "data", 1, 0, O_DATA }, { "out", 1, 0, O_OUT },
		{ "train-tokens", 1, 0, O_TT }, { "max-steps", 1, 0, O_MS },
		{ "max-epochs", 1, 0, O_ME }, { "max-tokens", 1, 0, O_MT },
		{ "lr", 1, 0, O_LR }, { "warmup", 1, 0, O_WU },
		{ "weight-decay", 1, 0, O_WD }, { "clip-norm", 1, 0, O_CLIP },
		{ "label-smoothing", 1, 0, O_LS }, { "dropout", 1, 0, O_DROP },
		{ "attention-dropout", 1, 0, O_ADROP },
		{ "activation-dropout", 1, 0, O_XDROP },
		{ "weight-dropout", 1, 0, O_WDROP }, { "seed", 1, 0, O_SEED },
		{ "threads", 1, 0, O_THR }, { "valid-every", 1, 0, O_VE },
		{ "save-every", 1, 0, O_SE }, { "resume", 0, 0, O_RES },
		{ "dump-grad", 1, 0, O_DUMP },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
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

	ax_train_hparams_from_config(cfg, h);
#define TAKE(opt, field)                                                       \
	if (o->given & GIVEN(opt))                                             \
		h->field = f.field;
	TAKE(O_MT, max_tokens) TAKE(O_LR, lr) TAKE(O_WU, warmup)
	TAKE(O_WD, weight_decay) TAKE(O_CLIP, clip_norm)
	TAKE(O_LS, label_smoothing) TAKE(O_DROP, dropout)
	TAKE(O_ADROP, attention_dropout) TAKE(O_XDROP, activation_dropout)
	TAKE(O_SEED, seed)
#undef TAKE
	ax_train_hparams_to_config(h, cfg);
}

/* The whole run's state, for the helpers below. */
struct run {
	struct opts o;
	struct ax_config cfg;
	struct ax_graph g;
	struct ax_dataset ds;
	struct ax_tokens tr_src, tr_tgt, va_src, va_tgt;
	struct ax_batcher train, valid;
	struct ax_trainer t;
	struct ax_train_pos pos;
	struct ax_jsonl log;
	char ckpt[AX_PATH_MAX], weights[AX_PATH_MAX], logpath[AX_PATH_MAX];
	double t0, valid_loss, valid_nll;
	double t_start, f0;   /* this session's start, progress() then */
	bool tty;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Data against the model: task and vocabularies. */
static enum ax_status open_data(struct run *r, struct ax_diag *d)
{
	enum ax_status st = ax_dataset_open(r->o.data, false, &r->ds, d);
	if (st != AX_OK)
		return st;
	bool lm = !r->g.has_encoder;
	if (lm != (r->ds.task == AX_DATA_LANGUAGE_MODEL))
		return ax_diag_set(d, AX_ERR_INPUT, r->o.data, 0, 0,
				   "a %s dataset cannot train a %s model",
				   ax_data_task_names[r->ds.task],
				   lm ? "language" : "translation");
	int64_t vt = r->g.tensors[r->g.logits].width;
	if (r->ds.vocab_target > vt || (!lm && r->ds.vocab_source > r->cfg.vocab_source))
		return ax_diag_set(d, AX_ERR_INPUT, r->o.data, 0, 0,
				   "token ids out of the model's vocabulary: the "
				   "dataset's vocabularies (source %lld, target %lld) "
				   "exceed the config's (source %lld, target %lld)",
				   (long long)r->ds.vocab_source,
				   (long long)r->ds.vocab_target,
				   (long long)r->cfg.vocab_source, (long long)vt);
	if ((st = ax_dataset_load(&r->ds, AX_SPLIT_TRAIN, lm ? NULL : &r->tr_src,
				  &r->tr_tgt, d)) != AX_OK ||
	    (st = ax_dataset_load(&r->ds, AX_SPLIT_VALID, lm ? NULL : &r->va_src,
				  &r->va_tgt, d)) != AX_OK)
		return st;
	if (r->tr_tgt.n == 0)
		return ax_diag_set(d, AX_ERR_INPUT, r->o.data, 0, 0,
				   "the training split is empty");
	int64_t mt = r->o.hp.max_tokens;
	if ((st = ax_batcher_init(&r->train, lm ? NULL : &r->tr_src, &r->tr_tgt,
				  mt, r->g.start_token, r->o.hp.seed, d)) != AX_OK)
		return st;
	if (r->va_tgt.n > 0) {
		if ((st = ax_batcher_init(&r->valid, lm ? NULL : &r->va_src,
					  &r->va_tgt, mt, r->g.start_token, 0, d)) != AX_OK)
			return st;
		ax_batcher_epoch(&r->valid, 0);
	}
	return AX_OK;
}

/* Loss and nll per target token over the whole valid split (NAN if none). */
static enum ax_status validate(struct run *r, struct ax_diag *d)
{
	double loss = 0, nll = 0;
	int64_t n = 0;
	r->valid_loss = r->valid_nll = NAN;
	for (int64_t k = 0; r->valid.n_used > 0 && k < r->valid.n_batches; k++) {
		ax_batcher_fill(&r->valid, k, &r->t.batch);
		enum ax_status st = ax_train_eval(&r->t, &loss, &nll, &n, d);
		if (st != AX_OK)
			return st;
	}
	if (n > 0) {
		r->valid_loss = loss / (double)n;
		r->valid_nll = nll / (double)n;
	}
	char line[256];
	snprintf(line, sizeof line, "{\"step\":%lld,\"valid_loss\":%.6g,"
		 "\"valid_nll\":%.6g,\"valid_ppl\":%.6g}",
		 (long long)r->t.step, r->valid_loss, r->valid_nll, exp(r->valid_nll));
	if (n == 0)
		snprintf(line, sizeof line, "{\"step\":%lld,\"valid_loss\":null}",
			 (long long)r->t.step);
	return ax_jsonl_append(&r->log, line, strlen(line), d);
}

static enum ax_status checkpoint(struct run *r, struct ax_diag *d)
{
	r->pos.seconds += now() - r->t0;
	r->t0 = now();
	return ax_train_save(&r->t, &r->pos, r->ckpt, d);
}

static bool done(const struct run *r)
{
	const struct opts *o = &r->o;
	return (o->max_steps && r->t.step >= o->max_steps) ||
	       (o->train_tokens && r->pos.tokens >= o->train_tokens) ||
	       (o->max_epochs && r->pos.epoch >= o->max_epochs);
}

/* The fraction of the whole run done (for the ETA). */
static double progress(const struct run *r)
{
	const struct opts *o = &r->o;
	if (o->max_steps)
		return (double)r->t.step / (double)o->max_steps;
	if (o->train_tokens)
		return (double)r->pos.tokens / (double)o->train_tokens;
	double nb = r->train.n_batches > 0 ? (double)r->train.n_batches : 1.0;
	return ((double)r->pos.epoch + (double)r->pos.batch / nb) / (double)o->max_epochs;
}

static enum ax_status log_step(struct run *r, const struct ax_train_stats *s,
			       double tps, struct ax_diag *d)
{
	char line[384];
	snprintf(line, sizeof line, "{\"step\":%lld,\"epoch\":%lld,\"loss\":%.6g,"
		 "\"nll\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%lld,"
		 "\"tokens_per_s\":%.1f}", (long long)r->t.step,
		 (long long)r->pos.epoch, s->loss, s->nll, s->lr, s->grad_norm,
		 (long long)r->pos.tokens, tps);
	if (r->tty) {
		double f = progress(r), el = now() - r->t_start;
		fprintf(stderr, "\rstep %lld  epoch %lld  loss %.4f  nll %.4f  "
			"lr %.3g  %.0f tok/s  ETA %.0fs   ", (long long)r->t.step,
			(long long)r->pos.epoch, s->loss, s->nll, s->lr, tps,
			f > r->f0 ? el * (1 - f) / (f - r->f0) : 0.0);
	}
	return ax_jsonl_append(&r->log, line, strlen(line), d);
}

static enum ax_status loop(struct run *r, struct ax_diag *d)
{
	enum ax_status st = AX_OK;
	double t_last = now();
	r->t_start = t_last;
	r->f0 = progress(r);
	while (!done(r)) {
		if (r->train.epoch != r->pos.epoch)
			ax_batcher_epoch(&r->train, r->pos.epoch);
		if (r->pos.batch >= r->train.n_batches) {
			r->pos.epoch++;
			r->pos.batch = 0;
			continue;
		}
		ax_batcher_fill(&r->train, r->pos.batch, &r->t.batch);
		struct ax_train_stats s;
		if ((st = ax_train_step(&r->t, &s, d)) != AX_OK)
			return st;
		r->pos.batch++;
		r->pos.tokens += s.tokens;
		double tn = now(), tps = (double)s.tokens / fmax(tn - t_last, 1e-9);
		t_last = tn;
		if ((st = log_step(r, &s, tps, d)) != AX_OK)
			return st;
		if (r->o.valid_every && r->t.step % r->o.valid_every == 0 &&
		    (st = validate(r, d)) != AX_OK)
			return st;
		if (r->t.step % r->o.save_every == 0 && (st = checkpoint(r, d)) != AX_OK)
			return st;
	}
	if (r->tty)
		fprintf(stderr, "\n");
	return st;
}

/* RUN/: created if missing; a fresh run refuses an existing checkpoint,
 * --resume needs one. */
static enum ax_status open_run(struct run *r, struct ax_diag *d)
{
	if (mkdir(r->o.out, 0777) != 0 && errno != EEXIST)
		return ax_diag_set(d, AX_ERR_IO, r->o.out, 0, 0,
				   "cannot create the run directory: %s", strerror(errno));
	snprintf(r->ckpt, sizeof r->ckpt, "%s/checkpoint", r->o.out);
	snprintf(r->weights, sizeof r->weights, "%s/weights", r->o.out);
	snprintf(r->logpath, sizeof r->logpath, "%s/train.jsonl", r->o.out);
	r->pos.config_hash = ax_config_hash(&r->cfg);
	enum ax_status st;
	if (r->o.resume) {
		if ((st = ax_train_load(&r->t, &r->pos, r->ckpt, d)) != AX_OK)
			return st;
	} else if (access(r->ckpt, F_OK) == 0) {
		return ax_diag_set(d, AX_ERR_INPUT, r->ckpt, 0, 0,
				   "a checkpoint is already there: pass --resume "
				   "to continue it, or another --out");
	}
	if ((st = ax_jsonl_recover(r->logpath, NULL, d)) != AX_OK)
		return st;
	return ax_jsonl_open(&r->log, r->logpath, d);
}

static enum ax_status setup(struct run *r, struct ax_diag *d)
{
	ax_graph_init(&r->g);
	enum ax_status st = ax_model_build(&r->cfg, &r->g, d);
	if (st != AX_OK || (st = open_data(r, d)) != AX_OK)
		return st;
	int64_t ml = r->train.max_len > r->valid.max_len ? r->train.max_len :
		     r->valid.max_len;
	r->o.hp.weight_dropout = r->o.weight_dropout;
	if ((st = ax_train_init(&r->t, &r->g, &r->o.hp, ml, d)) != AX_OK)
		return st;
	return open_run(r, d);
}

/* "hparams": the resolved values, keyed as the train: section spells them. */
static void hparams_json(struct ax_json *j, const struct ax_train_hparams *h)
{
	ax_json_key(j, "hparams");
	ax_json_begin_object(j);
	ax_json_key(j, "lr"); ax_json_double(j, h->lr);
	ax_json_key(j, "warmup"); ax_json_int(j, h->warmup);
	ax_json_key(j, "warmup_init_lr"); ax_json_double(j, h->warmup_init_lr);
	ax_json_key(j, "beta1"); ax_json_double(j, h->beta1);
	ax_json_key(j, "beta2"); ax_json_double(j, h->beta2);
	ax_json_key(j, "adam_eps"); ax_json_double(j, h->adam_eps);
	ax_json_key(j, "weight_decay"); ax_json_double(j, h->weight_decay);
	ax_json_key(j, "clip_norm"); ax_json_double(j, h->clip_norm);
	ax_json_key(j, "label_smoothing"); ax_json_double(j, h->label_smoothing);
	ax_json_key(j, "dropout"); ax_json_double(j, h->dropout);
	ax_json_key(j, "attention_dropout"); ax_json_double(j, h->attention_dropout);
	ax_json_key(j, "activation_dropout"); ax_json_double(j, h->activation_dropout);
	ax_json_key(j, "max_tokens"); ax_json_int(j, h->max_tokens);
	ax_json_key(j, "seed"); ax_json_int(j, (int64_t)h->seed);
	ax_json_end_object(j);
}

static void summary(const struct run *r)
{
	struct ax_json j;
	ax_json_init(&j, stdout, AX_JSON_PRETTY);
	ax_json_begin_object(&j);
	ax_json_key(&j, "config"); ax_json_string(&j, r->cfg.name);
	ax_json_key(&j, "steps"); ax_json_int(&j, r->t.step);
	ax_json_key(&j, "epochs_done"); ax_json_int(&j, r->pos.epoch);
	ax_json_key(&j, "train_tokens"); ax_json_int(&j, r->pos.tokens);
	ax_json_key(&j, "seconds"); ax_json_double(&j, r->pos.seconds);
	ax_json_key(&j, "valid_loss");
	isfinite(r->valid_loss) ? ax_json_double(&j, r->valid_loss) : ax_json_null(&j);
	ax_json_key(&j, "valid_nll");
	isfinite(r->valid_nll) ? ax_json_double(&j, r->valid_nll) : ax_json_null(&j);
	ax_json_key(&j, "valid_ppl");
	isfinite(r->valid_nll) ? ax_json_double(&j, exp(r->valid_nll)) : ax_json_null(&j);
	ax_json_key(&j, "skipped_sentences"); ax_json_int(&j, r->train.n_skipped);
	ax_json_key(&j, "weights"); ax_json_string(&j, r->weights);
	ax_json_key(&j, "blas_kernel"); ax_json_string(&j, openblas_get_corename());
	ax_json_key(&j, "threads"); ax_json_int(&j, r->o.threads);
	char hash[17];
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_hash(&r->cfg));
	ax_json_key(&j, "config_hash"); ax_json_string(&j, hash);
	snprintf(hash, sizeof hash, "%016" PRIx64, ax_config_recipe_hash(&r->cfg));
	ax_json_key(&j, "recipe_hash"); ax_json_string(&j, hash);
	hparams_json(&j, &r->o.hp);
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
static enum ax_status dump_grad(struct run *r, struct ax_diag *d)
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
	st = ax_exec_save_weights(&r->t.wx, r->o.dump_grad, d);
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

static void run_free(struct run *r)
{
	ax_train_free(&r->t);
	ax_batcher_free(&r->train);
	ax_batcher_free(&r->valid);
	ax_tokens_free(&r->tr_src), ax_tokens_free(&r->tr_tgt);
	ax_tokens_free(&r->va_src), ax_tokens_free(&r->va_tgt);
	ax_graph_free(&r->g);
	if (r->log.fd >= 0)
		ax_jsonl_close(&r->log, NULL);
}

int ax_cmd_train(int argc, char **argv)
{
	static struct run r;
	memset(&r, 0, sizeof r);
	r.log.fd = -1;
	int rc = parse(argc, argv, &r.o);
	if (rc)
		return rc < 0 ? AX_EXIT_OK : rc;
	if (!ax_cli_load(r.o.config, &r.cfg))
		return AX_EXIT_ERROR;
	resolve_hparams(&r.o, &r.cfg);
	openblas_set_num_threads((int)r.o.threads);
	r.tty = isatty(2);
	struct ax_diag d = { 0 };
	enum ax_status st = setup(&r, &d);
	r.t0 = now();
	if (st == AX_OK && r.o.dump_grad) {
		st = dump_grad(&r, &d);
		if (st != AX_OK)
			ax_cli_print_diag(&d);
		run_free(&r);
		return st == AX_OK ? AX_EXIT_OK : AX_EXIT_ERROR;
	}
	if (st == AX_OK)
		st = loop(&r, &d);
	if (st == AX_OK)
		st = validate(&r, &d);
	if (st == AX_OK)
		st = checkpoint(&r, &d);
	if (st == AX_OK)
		st = ax_exec_save_weights(&r.t.wx, r.weights, &d);
	if (st == AX_OK)
		st = ax_jsonl_close(&r.log, &d);
	if (st == AX_OK)
		summary(&r);
	else
		ax_cli_print_diag(&d);
	run_free(&r);
	return st == AX_OK ? AX_EXIT_OK : AX_EXIT_ERROR;
}
