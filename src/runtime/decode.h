/*
 * decode.h - translation by beam search (greedy = beam 1) and scoring, on
 * an executor in incremental mode (decoding) or sequence mode (scoring).
 *
 * Beam search follows fairseq's SequenceGenerator (docs/fairseq.md):
 * generation starts from eos; step s = 0, 1, ... feeds the s tokens
 * chosen so far; every live beam proposes its continuations (all beams
 * are equal at step 0, so only beam 0 does) and the best 2*beam
 * candidates are taken, ties to the lower (beam, token). Pad is never
 * chosen; eos is banned while s < min_len; at s = max_len only eos is
 * allowed. An eos candidate is finished, with score sum(log p) /
 * (s+1)^lenpen, only if it ranks among the first `beam` candidates and
 * its score is finite (a filler row never finishes); the best `beam`
 * non-eos candidates become the next beams. Search stops when `beam`
 * hypotheses are finished or after step max_len; the best finished one
 * (the first on ties) is the result. All buffers are allocated at init.
 */
#ifndef AX_DECODE_H
#define AX_DECODE_H

#include "exec.h"

struct ax_decode_opts {
	int64_t beam;       /* = the executor's batch */
	double lenpen;      /* fairseq --lenpen, default 1 */
	int64_t max_len;    /* tokens before the eos at most (fairseq's max_len) */
	int64_t min_len;    /* eos banned at steps < min_len (fairseq: default 1) */
};

struct ax_decoder {
	struct ax_decode_opts o;
	int32_t *tokens;     /* (beam, max_len+1) live hypotheses */
	int32_t *next_tok;   /* (beam, max_len+1) scratch for the reorder */
	double *scores;      /* (beam) cumulative log-probabilities */
	double *cand_score;  /* (2 beam) */
	int32_t *cand_beam;  /* (2 beam) */
	int32_t *cand_tok;   /* (2 beam) */
	int32_t *from;       /* (beam) reorder map */
	int32_t *step_tok;   /* (beam) this step's input tokens */
	int32_t *best;       /* (max_len+1) best finished hypothesis */
	int64_t best_len;
	double best_score;
	int64_t cap_len;     /* max_len at init: o.max_len may be lowered per call */
	int64_t n_finished;
};

enum ax_status ax_decoder_init(struct ax_decoder *dec,
			       const struct ax_decode_opts *o, struct ax_diag *d);
void ax_decoder_free(struct ax_decoder *dec);

/* Translates src (S ids, eos included if the caller wants fairseq's
 * input). The executor needs batch = beam and max_tgt >= max_len + 1.
 * On success dec->best[0..best_len) holds the tokens, ending in eos, and
 * best_score the length-normalised score. */
enum ax_status ax_decode(struct ax_decoder *dec, struct ax_exec *x,
			 const int32_t *src, int64_t S, struct ax_diag *d);

/* Teacher-forced log-likelihood of target y (T ids, without the leading
 * eos) given src (translation) or of the sequence y itself (LM; src NULL,
 * the context starts with eos): returns sum_i log p(y_i | ...). */
enum ax_status ax_score(struct ax_exec *x, const int32_t *src, int64_t S,
			const int32_t *y, int64_t T, int32_t *scratch_tgt_in,
			double *loglik, struct ax_diag *d);

#endif
