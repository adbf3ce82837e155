/*
 * decode.h - translation by beam search (greedy = beam 1) and scoring, on
 * an executor in incremental mode (decoding) or sequence mode (scoring).
 *
 * Beam search follows fairseq's SequenceGenerator: generation starts from
 * eos; at each step every live beam proposes its continuations, the best
 * 2*beam candidates are taken; a candidate ending in eos is finished with
 * score sum(log p) / len^lenpen (len counts the eos), others fill the
 * beam; pad is never chosen, nor eos before min_len; at max_len eos is forced; search stops when
 * `beam` hypotheses are finished. All buffers are allocated at init.
 */
#ifndef AX_DECODE_H
#define AX_DECODE_H

#include "exec.h"

struct ax_decode_opts {
	int64_t beam;       /* = the executor's batch */
	double lenpen;      /* fairseq --lenpen, default 1 */
	int64_t max_len;    /* tokens to generate at most, eos included */
	int64_t min_len;    /* eos is banned before this many tokens (0: never) */
};

struct ax_decoder {
	struct ax_decode_opts o;
	int32_t *tokens;     /* (beam, max_len) live hypotheses */
	int32_t *next_tok;   /* (2 beam, max_len) scratch for the reorder */
	double *scores;      /* (beam) cumulative log-probabilities */
	double *cand_score;  /* (2 beam) */
	int32_t *cand_beam;  /* (2 beam) */
	int32_t *cand_tok;   /* (2 beam) */
	int32_t *from;       /* (beam) reorder map */
	int32_t *step_tok;   /* (beam) this step's input tokens */
	int32_t *best;       /* (max_len) best finished hypothesis */
	int64_t best_len;
	double best_score;
	int64_t n_finished;
};

enum ax_status ax_decoder_init(struct ax_decoder *dec,
			       const struct ax_decode_opts *o, struct ax_diag *d);
void ax_decoder_free(struct ax_decoder *dec);

/* Translates src (S ids). On success dec->best[0..best_len) holds the
 * tokens (ending in eos unless cut at max_len) and best_score the
 * length-normalised score. */
enum ax_status ax_decode(struct ax_decoder *dec, struct ax_exec *x,
			 const int32_t *src, int64_t S, struct ax_diag *d);

/* Teacher-forced log-likelihood of target y (T ids, without the leading
 * eos) given src (translation) or of the sequence y itself (LM; src NULL,
 * the context starts with eos): returns sum_i log p(y_i | ...). */
enum ax_status ax_score(struct ax_exec *x, const int32_t *src, int64_t S,
			const int32_t *y, int64_t T, int32_t *scratch_tgt_in,
			double *loglik, struct ax_diag *d);

#endif
