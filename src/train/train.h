/*
 * train.h - training over the op list (docs/training.md): packed batches,
 * a training forward that keeps every activation, a backward that walks
 * ops[] in reverse through one switch, fairseq's label-smoothed loss,
 * AdamW with the inverse-square-root schedule and global-norm clipping,
 * and crash-safe checkpoints.
 *
 * Packed batches: the sentences of a batch are concatenated along rows
 * (no padding). Row-wise ops (linear, layernorm, activations, adds,
 * log-softmax, the loss) run once over all rows; embeddings (positions
 * restart per sentence) and attention run per sentence segment. This is
 * exactly fairseq's padded + masked training without computing the pads.
 *
 * Memory: the parameters, their gradients and the two Adam moments are
 * four flat buffers laid out like the weights arena (struct ax_exec's
 * param_off); activations and their gradients are two arenas planned
 * once for the largest batch (every activation kept). Nothing is
 * allocated inside the step loop.
 */
#ifndef AX_TRAIN_H
#define AX_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dataset.h"
#include "diag.h"
#include "exec.h"
#include "graph.h"
#include "plan.h"

/* Hyperparameters (docs/training.md has the defaults and their sources):
 * the rows of the config's `train:` section (schema.h AX_SCHEMA_TRAIN),
 * whose defaults they take. */
/* One member per row of AX_SCHEMA_TRAIN, named as the row: the mapping to
 * and from the config, the difference check and the summary JSON expand
 * from the schema rows, so a row without its member does not compile. */
struct ax_train_hparams {
	double lr;                /* peak learning rate */
	int64_t warmup;           /* linear warmup updates (inverse_sqrt) */
	double warmup_init_lr;    /* lr at update 0 */
	double beta1, beta2, adam_eps, weight_decay;
	double clip_norm;         /* global gradient norm bound, 0 = off */
	double label_smoothing;
	double dropout, attention_dropout, activation_dropout;
	double weight_dropout;    /* DropConnect in light / dynamic convs (0) */
	double input_dropout;     /* on LightConv conv blocks' input (0) */
	double adaptive_softmax_dropout; /* adaptive softmax input, tails (0) */
	int64_t max_tokens;       /* tokens per batch (each stream) */
	uint64_t seed;
};

void ax_train_hparams_default(struct ax_train_hparams *h);
/* The config's `train:` section, or the defaults when it has none. */
void ax_train_hparams_from_config(const struct ax_config *cfg,
				  struct ax_train_hparams *h);
/* h as cfg's train section (marked present), e.g. after flags override
 * the file, so that ax_config_recipe_hash() names what actually ran. */
void ax_train_hparams_to_config(const struct ax_train_hparams *h,
				struct ax_config *cfg);
/* The first field where a and b differ ("lr 0.001 vs 0.0005"), written
 * into buf; false when they are equal. */
bool ax_train_hparams_diff(const struct ax_train_hparams *a,
			   const struct ax_train_hparams *b, char *buf,
			   size_t size);

/* One packed batch: n sentences; sentence i is rows src_off[i] ..
 * src_off[i+1] of the source stream and tgt_off[i] .. tgt_off[i+1] of the
 * target stream. tgt_in starts each sentence with the graph's start
 * token; tgt_out ends it with eos (the loss targets). */
struct ax_train_batch {
	int64_t n, n_src, n_tgt;
	int64_t *src_off, *tgt_off;   /* (cap_sent + 1) */
	int32_t *src, *tgt_in, *tgt_out;   /* (max_tokens) */
};

/* The data: every training sentence index in length buckets, cut into
 * batches of at most max_tokens tokens per stream, batch order shuffled
 * per epoch from the seed. */
struct ax_batcher {
	const struct ax_tokens *src, *tgt;   /* src NULL for an LM */
	int64_t n_used;          /* sentences that fit (the rest skipped) */
	int64_t n_skipped;
	int64_t *order;          /* (n) sentences sorted by length */
	int64_t *batch_start;    /* (n + 1) first index into order per batch */
	int64_t *perm;           /* (n) this epoch's batch order */
	uint64_t *key;           /* (n) sort scratch */
	int64_t n_batches;
	int64_t epoch;           /* the epoch the order is for, -1 none */
	int64_t max_tokens, max_len;
	int32_t start_token;
	uint64_t seed;
};

enum ax_status ax_batcher_init(struct ax_batcher *b, const struct ax_tokens *src,
			       const struct ax_tokens *tgt, int64_t max_tokens,
			       int32_t start_token, uint64_t seed,
			       struct ax_diag *d);
void ax_batcher_free(struct ax_batcher *b);
/* Lays out epoch e's batches (deterministic in seed and e). */
void ax_batcher_epoch(struct ax_batcher *b, int64_t e);
/* Fills batch k of the current epoch into out. */
void ax_batcher_fill(const struct ax_batcher *b, int64_t k,
		     struct ax_train_batch *out);

/* What one update reports. */
struct ax_train_stats {
	double loss;        /* label-smoothed loss, per target token (nats) */
	double nll;         /* per target token (nats) */
	int64_t tokens;     /* target tokens */
	double grad_norm;   /* before clipping */
	double lr;          /* the lr this update used */
};

/* Where the updates' time goes (ax_train_profile_on; docs/training.md
 * "Profile"): wall seconds per op kind in the training forward and the
 * backward, the loss with its gradient, the zeroing of the gradient
 * arenas and the optimizer (norm, clipping, AdamW), over `steps` updates.
 * Validation forwards are not counted. */
struct ax_train_prof {
	bool on;
	int64_t steps;
	double fwd_s[AX_OP_KIND_COUNT], bwd_s[AX_OP_KIND_COUNT];
	double loss_s, zero_s, optim_s;
	int64_t linear_macs;      /* LINEAR products: N*i*o forward, 2x that
				     backward (dx and dW) */
};

struct ax_trainer {
	const struct ax_graph *g;
	struct ax_train_hparams hp;
	struct ax_exec wx;        /* the weights arena and its layout */
	float *grad, *m, *v;      /* (n_weights) each, laid out like wx */
	bool *decay;              /* (n_params) gets weight decay */
	struct ax_plan plan;      /* every activation kept: no reuse */
	float *act, *dact;        /* (plan.total) activations, gradients */
	int64_t *ld;              /* (n_tensors) row stride */
	float *p_out;             /* (n_ops) dropout on the op's output */
	float *p_branch;          /* (n_ops) ADD: residual dropout on in1 */
	float *p_in;              /* (n_ops) LINEAR, ADAPTIVE_SOFTMAX: dropout
				     on a copy of in[0] (into xdrop) */
	float *xdrop;             /* (max_tokens, xdrop_cols) that copy */
	int64_t xdrop_cols;       /* max in[0] width over ops with p_in > 0 */
	int32_t *zero_at;         /* (n_tensors) root tensors: the op whose
				     backward first touches the gradient
				     (walking in reverse), n_ops for the
				     loss's, -1 none, -2 never (the fused
				     loss sets it); zeroed just then */
	float *scratch;
	int64_t scratch_size;
	float *wn;                /* LIGHTCONV: softmaxed kernels, (H,K) per op */
	int64_t *wn_off;          /* (n_ops) offset into wn, -1 = none */
	float *mask;              /* (max_tokens, mask_cols) DropConnect mask */
	int64_t mask_cols;        /* max H*K over light / dynamic convs */
	int64_t max_tokens, max_len;
	struct ax_train_batch batch;
	int64_t step;             /* updates done */
	bool training;            /* dropout on (a training forward) */
	bool fused_loss;          /* the model ends in LOG_SOFTMAX: it is
				     skipped, and the loss reads its input
				     (ax_g_log_softmax_nll) */
	struct ax_train_prof prof;
};

/* Checks that every op kind of g has a backward (else AX_ERR_INPUT naming
 * the first that does not), lays out and allocates everything for batches
 * of max_tokens tokens and sentences of up to max_len rows, and
 * initialises the weights from hp->seed (ax_exec_init_weights). */
enum ax_status ax_train_init(struct ax_trainer *t, const struct ax_graph *g,
			     const struct ax_train_hparams *hp, int64_t max_len,
			     struct ax_diag *d);
void ax_train_free(struct ax_trainer *t);

/* The memory a trainer holds, in bytes, from the sizes ax_train_init laid
 * out (docs/training.md "Memory"): the prediction `archex train` puts
 * next to its peak RSS. */
struct ax_train_memory {
	int64_t weights, grads, adam;     /* adam: both moments */
	int64_t activations;              /* the saved activations (plan.total) */
	int64_t activation_grads;         /* their gradients, the same size */
	int64_t other;                    /* scratch, conv kernels and masks, the
					     batch, the inference arenas of wx */
	int64_t data;                     /* token files and batchers (0 here;
					     ax_train_session_memory adds them) */
	int64_t total;
};
void ax_train_memory(const struct ax_trainer *t, struct ax_train_memory *m);

/* GFLOP/s (2 flops per product) of the best of `reps` square n x n x n
 * sgemm calls on the current OpenBLAS threads, after one warm-up: the
 * peak the training linears are compared with. NaN if out of memory. */
double ax_train_sgemm_gflops(int64_t n, int reps);

/* The learning rate of update number u (0-based): fairseq inverse_sqrt. */
double ax_train_lr(const struct ax_train_hparams *hp, int64_t u);

/* One update on t->batch: forward with dropout, loss, backward, clipping,
 * AdamW; t->step += 1. */
enum ax_status ax_train_step(struct ax_trainer *t, struct ax_train_stats *s,
			     struct ax_diag *d);
/* Forward only (no dropout) on t->batch: sums of loss and nll (nats) and
 * the target token count, added to *loss, *nll, *tokens. */
enum ax_status ax_train_eval(struct ax_trainer *t, double *loss, double *nll,
			     int64_t *tokens, struct ax_diag *d);
/* Forward and backward without the update (gradient tests): fills
 * t->grad with d(mean loss)/d(params); returns the stats. */
enum ax_status ax_train_grad(struct ax_trainer *t, struct ax_train_stats *s,
			     struct ax_diag *d);

/* Checkpoints: weights, Adam moments, step, data position, the config
 * hash and the hyperparameters; written atomically. */
struct ax_train_pos {
	int64_t epoch, batch;     /* the next batch to run */
	int64_t tokens;           /* target tokens trained on */
	double seconds;           /* training time so far */
	uint64_t config_hash;
};
enum ax_status ax_train_save(const struct ax_trainer *t,
			     const struct ax_train_pos *pos, const char *path,
			     struct ax_diag *d);
/* Loads path into t, refusing another config (config_hash) or other
 * hyperparameters (naming the difference). */
enum ax_status ax_train_load(struct ax_trainer *t, struct ax_train_pos *pos,
			     const char *path, struct ax_diag *d);

#endif
