/*
 * train_run.c - one training run over a dataset directory (train_run.h): data
 * against the model, batches, updates, validation, the JSON Lines log,
 * checkpoints and the final weights, resumable from RUN/checkpoint.
 */
#include "train_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void openblas_set_num_threads(int n);

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum ax_status ax_train_data_check(const struct ax_graph *g,
				   const struct ax_config *cfg,
				   const struct ax_dataset *ds, struct ax_diag *d)
{
	return ax_dataset_fits(ds, "train", cfg->name, !g->has_encoder,
			       cfg->vocab_source, g->tensors[g->logits].width, d);
}

/* Data against the model, the token files, the batchers. */
static enum ax_status open_data(struct ax_train_session *s, const char *dir,
				struct ax_diag *d)
{
	enum ax_status st = ax_dataset_open(dir, false, &s->ds, d);
	if (st != AX_OK || (st = ax_train_data_check(s->g, s->cfg, &s->ds, d)) != AX_OK)
		return st;
	bool lm = !s->g->has_encoder;
	if ((st = ax_dataset_load(&s->ds, AX_SPLIT_TRAIN, lm ? NULL : &s->tr_src,
				  &s->tr_tgt, d)) != AX_OK ||
	    (st = ax_dataset_load(&s->ds, AX_SPLIT_VALID, lm ? NULL : &s->va_src,
				  &s->va_tgt, d)) != AX_OK)
		return st;
	if (s->tr_tgt.n == 0)
		return ax_diag_set(d, AX_ERR_INPUT, dir, 0, 0,
				   "the training split is empty");
	int64_t mt = s->hp.max_tokens;
	if ((st = ax_batcher_init(&s->train, lm ? NULL : &s->tr_src, &s->tr_tgt,
				  mt, s->g->start_token, s->hp.seed, d)) != AX_OK)
		return st;
	if (s->va_tgt.n > 0) {
		if ((st = ax_batcher_init(&s->valid, lm ? NULL : &s->va_src,
					  &s->va_tgt, mt, s->g->start_token, 0, d)) != AX_OK)
			return st;
		ax_batcher_epoch(&s->valid, 0);
	}
	return AX_OK;
}

/* Loss and nll per target token over the whole valid split (NaN if none). */
static enum ax_status validate(struct ax_train_session *s, struct ax_diag *d)
{
	double loss = 0, nll = 0;
	int64_t n = 0;
	s->valid_loss = s->valid_nll = NAN;
	for (int64_t k = 0; s->valid.n_used > 0 && k < s->valid.n_batches; k++) {
		ax_batcher_fill(&s->valid, k, &s->t.batch);
		enum ax_status st = ax_train_eval(&s->t, &loss, &nll, &n, d);
		if (st != AX_OK)
			return st;
	}
	if (n > 0) {
		s->valid_loss = loss / (double)n;
		s->valid_nll = nll / (double)n;
	}
	if (!s->log_open)
		return AX_OK;
	char line[256];
	snprintf(line, sizeof line, "{\"step\":%lld,\"valid_loss\":%.6g,"
		 "\"valid_nll\":%.6g,\"valid_ppl\":%.6g}",
		 (long long)s->t.step, s->valid_loss, s->valid_nll, exp(s->valid_nll));
	if (n == 0)
		snprintf(line, sizeof line, "{\"step\":%lld,\"valid_loss\":null}",
			 (long long)s->t.step);
	return ax_jsonl_append(&s->log, line, strlen(line), d);
}

static enum ax_status checkpoint(struct ax_train_session *s, struct ax_diag *d)
{
	s->pos.seconds += now() - s->t0;
	s->t0 = now();
	return ax_train_save(&s->t, &s->pos, s->ckpt, d);
}

static bool done(const struct ax_train_session *s)
{
	const struct ax_train_budget *b = &s->o.budget;
	return (b->max_steps && s->t.step >= b->max_steps) ||
	       (b->train_tokens && s->pos.tokens >= b->train_tokens) ||
	       (b->max_epochs && s->pos.epoch >= b->max_epochs);
}

/* The fraction of the whole run done (for the ETA). */
static double fraction(const struct ax_train_session *s)
{
	const struct ax_train_budget *b = &s->o.budget;
	if (b->max_steps)
		return (double)s->t.step / (double)b->max_steps;
	if (b->train_tokens)
		return (double)s->pos.tokens / (double)b->train_tokens;
	if (!b->max_epochs)
		return 1.0;
	double nb = s->train.n_batches > 0 ? (double)s->train.n_batches : 1.0;
	return ((double)s->pos.epoch + (double)s->pos.batch / nb) / (double)b->max_epochs;
}

static enum ax_status log_step(struct ax_train_session *s,
			       const struct ax_train_stats *st, double tps,
			       struct ax_diag *d)
{
	char line[384];
	snprintf(line, sizeof line, "{\"step\":%lld,\"epoch\":%lld,\"loss\":%.6g,"
		 "\"nll\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%lld,"
		 "\"tokens_per_s\":%.1f}", (long long)s->t.step,
		 (long long)s->pos.epoch, st->loss, st->nll, st->lr, st->grad_norm,
		 (long long)s->pos.tokens, tps);
	if (s->o.progress) {
		double f = fraction(s), el = now() - s->t_start;
		struct ax_train_progress p = {
			.step = s->t.step, .epoch = s->pos.epoch,
			.tokens = s->pos.tokens, .loss = st->loss, .nll = st->nll,
			.lr = st->lr, .tokens_per_s = tps, .fraction = f,
			.eta_s = f > s->f0 ? el * (1 - f) / (f - s->f0) : 0.0,
		};
		s->o.progress(s->o.progress_ctx, &p);
	}
	return ax_jsonl_append(&s->log, line, strlen(line), d);
}

static enum ax_status loop(struct ax_train_session *s, struct ax_diag *d)
{
	enum ax_status st = AX_OK;
	double t_last = now();
	s->t_start = t_last;
	s->f0 = fraction(s);
	while (!done(s)) {
		if (s->train.epoch != s->pos.epoch)
			ax_batcher_epoch(&s->train, s->pos.epoch);
		if (s->pos.batch >= s->train.n_batches) {
			s->pos.epoch++;
			s->pos.batch = 0;
			continue;
		}
		ax_batcher_fill(&s->train, s->pos.batch, &s->t.batch);
		struct ax_train_stats ts;
		if ((st = ax_train_step(&s->t, &ts, d)) != AX_OK)
			return st;
		s->pos.batch++;
		s->pos.tokens += ts.tokens;
		double tn = now(), tps = (double)ts.tokens / fmax(tn - t_last, 1e-9);
		t_last = tn;
		if ((st = log_step(s, &ts, tps, d)) != AX_OK)
			return st;
		if (s->o.valid_every && s->t.step % s->o.valid_every == 0 &&
		    (st = validate(s, d)) != AX_OK)
			return st;
		if (s->t.step % s->o.save_every == 0 && (st = checkpoint(s, d)) != AX_OK)
			return st;
	}
	return st;
}

/* RUN/: created if missing; a fresh run refuses an existing checkpoint,
 * a resumed one needs one. */
static enum ax_status open_run(struct ax_train_session *s, const char *dir,
			       struct ax_diag *d)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return ax_diag_set(d, AX_ERR_IO, dir, 0, 0,
				   "cannot create the run directory: %s", strerror(errno));
	snprintf(s->ckpt, sizeof s->ckpt, "%s/checkpoint", dir);
	snprintf(s->weights, sizeof s->weights, "%s/weights", dir);
	snprintf(s->logpath, sizeof s->logpath, "%s/train.jsonl", dir);
	s->pos.config_hash = ax_config_hash(s->cfg);
	enum ax_status st;
	if (s->o.resume) {
		if ((st = ax_train_load(&s->t, &s->pos, s->ckpt, d)) != AX_OK)
			return st;
	} else if (access(s->ckpt, F_OK) == 0) {
		return ax_diag_set(d, AX_ERR_INPUT, s->ckpt, 0, 0,
				   "a checkpoint is already there: pass --resume "
				   "to continue it, or another --out");
	}
	if ((st = ax_jsonl_recover(s->logpath, NULL, d)) != AX_OK ||
	    (st = ax_jsonl_open(&s->log, s->logpath, d)) != AX_OK)
		return st;
	s->log_open = true;
	return AX_OK;
}

enum ax_status ax_train_session_open(struct ax_train_session *s,
				     const struct ax_graph *g,
				     const struct ax_config *cfg,
				     const struct ax_train_hparams *hp,
				     const char *data_dir, const char *run_dir,
				     const struct ax_train_run_opts *o,
				     struct ax_diag *d)
{
	memset(s, 0, sizeof *s);
	s->log.fd = -1;
	s->g = g;
	s->cfg = cfg;
	s->hp = *hp;
	s->o = *o;
	if (s->o.save_every < 1)
		s->o.save_every = 100;
	if (s->o.threads > 0)
		openblas_set_num_threads(s->o.threads);
	enum ax_status st = open_data(s, data_dir, d);
	if (st != AX_OK)
		return st;
	int64_t ml = s->train.max_len > s->valid.max_len ? s->train.max_len :
		     s->valid.max_len;
	if ((st = ax_train_init(&s->t, g, &s->hp, ml, d)) != AX_OK)
		return st;
	s->trainer_open = true;
	s->t0 = now();
	return run_dir ? open_run(s, run_dir, d) : AX_OK;
}

enum ax_status ax_train_session_run(struct ax_train_session *s,
				    struct ax_train_summary *out,
				    struct ax_diag *d)
{
	if (!s->log_open)
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "a training session without a run directory");
	s->t0 = now();
	enum ax_status st = loop(s, d);
	if (st == AX_OK)
		st = validate(s, d);
	if (st == AX_OK)
		st = checkpoint(s, d);
	if (st == AX_OK)
		st = ax_exec_save_weights(&s->t.wx, s->weights, d);
	if (st == AX_OK) {
		st = ax_jsonl_close(&s->log, d);
		s->log_open = false;
	}
	if (st == AX_OK && out)
		*out = (struct ax_train_summary){
			.steps = s->t.step, .epochs_done = s->pos.epoch,
			.tokens = s->pos.tokens,
			.skipped_sentences = s->train.n_skipped,
			.seconds = s->pos.seconds, .valid_loss = s->valid_loss,
			.valid_nll = s->valid_nll, .valid_ppl = exp(s->valid_nll),
		};
	return st;
}

void ax_train_session_close(struct ax_train_session *s)
{
	if (s->trainer_open)
		ax_train_free(&s->t);
	s->trainer_open = false;
	ax_batcher_free(&s->train);
	ax_batcher_free(&s->valid);
	ax_tokens_free(&s->tr_src), ax_tokens_free(&s->tr_tgt);
	ax_tokens_free(&s->va_src), ax_tokens_free(&s->va_tgt);
	if (s->log_open)
		ax_jsonl_close(&s->log, NULL);
	s->log_open = false;
}

static int64_t tokens_bytes(const struct ax_tokens *k)
{
	return (k->n + 1) * (int64_t)sizeof *k->off +
	       k->n_tokens * (int64_t)sizeof *k->id;
}

/* order, batch_start, perm and key: about one int64 each per sentence */
static int64_t batcher_bytes(const struct ax_batcher *b)
{
	int64_t n = b->tgt ? b->tgt->n : 0;
	return 4 * (n + 1) * (int64_t)sizeof(int64_t);
}

void ax_train_session_memory(const struct ax_train_session *s,
			     struct ax_train_memory *m)
{
	ax_train_memory(&s->t, m);
	m->data = tokens_bytes(&s->tr_src) + tokens_bytes(&s->tr_tgt) +
		  tokens_bytes(&s->va_src) + tokens_bytes(&s->va_tgt) +
		  batcher_bytes(&s->train) + batcher_bytes(&s->valid);
	m->total += m->data;
}

enum ax_status ax_train_run(const struct ax_graph *g, const struct ax_config *cfg,
			    const struct ax_train_hparams *hp,
			    const char *data_dir, const char *run_dir,
			    const struct ax_train_run_opts *o,
			    struct ax_train_summary *out, struct ax_diag *d)
{
	struct ax_train_session *s = calloc(1, sizeof *s);
	if (!s)
		return ax_diag_set(d, AX_ERR_NOMEM, run_dir, 0, 0, "out of memory");
	enum ax_status st = ax_train_session_open(s, g, cfg, hp, data_dir, run_dir, o, d);
	if (st == AX_OK)
		st = ax_train_session_run(s, out, d);
	ax_train_session_close(s);
	free(s);
	return st;
}
