/*
 * train_run.h - one training run, as `archex train` and trained sweep points
 * (docs/training.md, docs/sweeps.md) do it: open the dataset against the
 * model, lay out the trainer, then batches, updates, validation every
 * valid_every updates and at the end, RUN/train.jsonl, RUN/checkpoint
 * every save_every updates and at the end, RUN/weights. A run resumes
 * from RUN/checkpoint bit-identically (same threads).
 *
 * The library prints nothing: progress goes to a caller's callback once
 * per update. The caller builds the graph (ax_model_build is a layer
 * above) and resolves the hyperparameters.
 */
#ifndef AX_TRAIN_RUN_H
#define AX_TRAIN_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "atomic_io.h"
#include "config.h"
#include "dataset.h"
#include "diag.h"
#include "graph.h"
#include "train.h"

/* When a run stops: exactly one of the three is > 0. */
struct ax_train_budget {
	int64_t train_tokens;     /* target tokens, eos included */
	int64_t max_steps;        /* updates */
	int64_t max_epochs;       /* passes over the train split */
};

/* What the progress callback sees after each update. */
struct ax_train_progress {
	int64_t step, epoch, tokens;
	double loss, nll, lr, tokens_per_s;
	double fraction;          /* of the budget done */
	double eta_s;             /* this session's estimate, 0 unknown */
};
typedef void (*ax_train_progress_fn)(void *ctx, const struct ax_train_progress *p);

struct ax_train_run_opts {
	struct ax_train_budget budget;
	int64_t valid_every;      /* 0: validate only at the end */
	int64_t save_every;       /* checkpoint period in updates (>= 1) */
	int threads;              /* OpenBLAS threads, 0 leaves them as set */
	bool resume;              /* continue RUN/checkpoint (required then) */
	ax_train_progress_fn progress;
	void *progress_ctx;
};

/* The end of a run. valid_* are NaN for an empty valid split. */
struct ax_train_summary {
	int64_t steps, epochs_done, tokens, skipped_sentences;
	double seconds;           /* training time over every session */
	double valid_loss, valid_nll, valid_ppl;
};

/* A run's state, open from ax_train_session_open to _close. Its
 * trainer and batchers are public for tools that look inside a run
 * (`archex train --dump-grad`). */
struct ax_train_session {
	const struct ax_config *cfg;
	const struct ax_graph *g;
	struct ax_train_hparams hp;
	struct ax_train_run_opts o;
	struct ax_dataset ds;
	struct ax_tokens tr_src, tr_tgt, va_src, va_tgt;
	struct ax_batcher train, valid;
	struct ax_trainer t;
	struct ax_train_pos pos;
	struct ax_jsonl log;
	char ckpt[AX_PATH_MAX], weights[AX_PATH_MAX], logpath[AX_PATH_MAX];
	double t0, valid_loss, valid_nll;
	double t_start, f0;       /* this session's start, fraction then */
	bool log_open, trainer_open;
};

/* Checks that data_dir's dataset fits the graph (task, vocabularies),
 * without loading its token files. AX_ERR_INPUT naming data_dir. */
enum ax_status ax_train_data_check(const struct ax_graph *g,
				   const struct ax_config *cfg,
				   const struct ax_dataset *ds, struct ax_diag *d);

/* Opens the data and the trainer (weights from hp->seed) and, unless
 * run_dir is NULL, the run directory (created if missing): a fresh run
 * refuses an existing checkpoint, o->resume loads it. */
enum ax_status ax_train_session_open(struct ax_train_session *s,
				     const struct ax_graph *g,
				     const struct ax_config *cfg,
				     const struct ax_train_hparams *hp,
				     const char *data_dir, const char *run_dir,
				     const struct ax_train_run_opts *o,
				     struct ax_diag *d);
/* Trains to the budget, validates, checkpoints, writes RUN/weights. */
enum ax_status ax_train_session_run(struct ax_train_session *s,
				    struct ax_train_summary *out,
				    struct ax_diag *d);
void ax_train_session_close(struct ax_train_session *s);
/* The trainer's memory (ax_train_memory) plus the token data and the
 * batchers the session holds. */
void ax_train_session_memory(const struct ax_train_session *s,
			     struct ax_train_memory *m);

/* open + run + close. */
enum ax_status ax_train_run(const struct ax_graph *g, const struct ax_config *cfg,
			    const struct ax_train_hparams *hp,
			    const char *data_dir, const char *run_dir,
			    const struct ax_train_run_opts *o,
			    struct ax_train_summary *out, struct ax_diag *d);

#endif
