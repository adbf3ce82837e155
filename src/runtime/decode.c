/* decode.c - beam search and teacher-forced scoring (see decode.h). */
#include "decode.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum ax_status ax_decoder_init(struct ax_decoder *dec,
			       const struct ax_decode_opts *o, struct ax_diag *d)
{
	memset(dec, 0, sizeof *dec);
	if (o->beam < 1 || o->max_len < 0 || o->min_len < 0 || o->min_len > o->max_len)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "min length %lld exceeds max length %lld (or beam < 1)",
				   (long long)o->min_len, (long long)o->max_len);
	dec->o = *o;
	dec->cap_len = o->max_len;
	size_t b = (size_t)o->beam, L = (size_t)o->max_len + 1;
	dec->tokens = calloc(b * L, sizeof *dec->tokens);
	dec->next_tok = calloc(b * L, sizeof *dec->next_tok);
	dec->scores = calloc(b, sizeof *dec->scores);
	dec->cand_score = calloc(2 * b, sizeof *dec->cand_score);
	dec->cand_beam = calloc(2 * b, sizeof *dec->cand_beam);
	dec->cand_tok = calloc(2 * b, sizeof *dec->cand_tok);
	dec->from = calloc(b, sizeof *dec->from);
	dec->step_tok = calloc(b, sizeof *dec->step_tok);
	dec->best = calloc(L, sizeof *dec->best);
	if (!dec->tokens || !dec->next_tok || !dec->scores || !dec->cand_score ||
	    !dec->cand_beam || !dec->cand_tok || !dec->from || !dec->step_tok ||
	    !dec->best) {
		ax_decoder_free(dec);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	}
	return AX_OK;
}

void ax_decoder_free(struct ax_decoder *dec)
{
	free(dec->tokens);
	free(dec->next_tok);
	free(dec->scores);
	free(dec->cand_score);
	free(dec->cand_beam);
	free(dec->cand_tok);
	free(dec->from);
	free(dec->step_tok);
	free(dec->best);
	memset(dec, 0, sizeof *dec);
}

/* Inserts (s, b, w) into the n-best list kept sorted by descending score;
 * offered in (beam, token) order, so ties keep the earlier one first. A
 * -inf candidate still takes a free slot, as in torch.topk. */
static void offer(struct ax_decoder *dec, int64_t cap, int64_t *n, double s,
		  int32_t b, int32_t w)
{
	if (*n == cap && !(s > dec->cand_score[cap - 1]))
		return;
	int64_t i = *n < cap ? (*n)++ : cap - 1;
	while (i > 0 && dec->cand_score[i - 1] < s) {
		dec->cand_score[i] = dec->cand_score[i - 1];
		dec->cand_beam[i] = dec->cand_beam[i - 1];
		dec->cand_tok[i] = dec->cand_tok[i - 1];
		i--;
	}
	dec->cand_score[i] = s;
	dec->cand_beam[i] = b;
	dec->cand_tok[i] = w;
}

/* Records beam b + eos (len tokens, eos included) as finished; keeps the
 * best, the earlier one on ties (fairseq's stable sort). */
static void finish(struct ax_decoder *dec, int32_t b, int64_t len, double s)
{
	int64_t L = dec->o.max_len + 1;
	double norm = s / pow((double)len, dec->o.lenpen);
	if (dec->n_finished == 0 || norm > dec->best_score) {
		dec->best_score = norm;
		dec->best_len = len;
		memcpy(dec->best, dec->tokens + b * L,
		       (size_t)(len - 1) * sizeof *dec->best);
		dec->best[len - 1] = AX_TOKEN_EOS;
	}
	dec->n_finished++;
}

/* The 2*beam best candidates of step `step` into dec->cand_*; returns
 * their count. Banned tokens score -inf (fairseq masks lprobs). */
static int64_t candidates(struct ax_decoder *dec, const struct ax_exec *x,
			  int64_t step)
{
	int64_t k = dec->o.beam, V = ax_exec_vocab(x), ld = x->ld[x->g->logits];
	const float *lp = ax_exec_logprobs(x);
	int64_t live = step == 0 ? 1 : k, n = 0;
	int64_t cap = 2 * k < live * V - 1 ? 2 * k : live * V - 1;
	for (int64_t b = 0; b < live; b++)
		for (int64_t w = 0; w < V; w++) {
			double s = dec->scores[b] + lp[b * ld + w];
			if (w == AX_TOKEN_PAD ||
			    (w == AX_TOKEN_EOS && step < dec->o.min_len) ||
			    (w != AX_TOKEN_EOS && step >= dec->o.max_len))
				s = -INFINITY;
			offer(dec, cap, &n, s, (int32_t)b, (int32_t)w);
		}
	return n;
}

/* The first `beam` non-eos candidates become the beams of the next step;
 * if too few exist (tiny vocabularies), the remaining candidates fill the
 * rows with score -inf, so those rows never finish. */
static void advance(struct ax_decoder *dec, int64_t step, int64_t n)
{
	int64_t k = dec->o.beam, L = dec->o.max_len + 1, nb = 0;
	for (int pass = 0; pass < 2 && nb < k; pass++)
		for (int64_t c = 0; c < n && nb < k; c++) {
			bool eos = dec->cand_tok[c] == AX_TOKEN_EOS;
			if (eos != (pass == 1))
				continue;
			int32_t b = dec->cand_beam[c], w = dec->cand_tok[c];
			memcpy(dec->next_tok + nb * L, dec->tokens + b * L,
			       (size_t)step * sizeof *dec->tokens);
			dec->next_tok[nb * L + step] = w;
			dec->from[nb] = b;
			dec->scores[nb] = pass ? -INFINITY : dec->cand_score[c];
			dec->step_tok[nb] = w;
			nb++;
		}
	for (int64_t b = nb; b < k; b++) {   /* fewer candidates than beams */
		memcpy(dec->next_tok + b * L, dec->next_tok, (size_t)(step + 1) * sizeof *dec->tokens);
		dec->from[b] = dec->from[0];
		dec->scores[b] = -INFINITY;
		dec->step_tok[b] = dec->step_tok[0];
	}
	memcpy(dec->tokens, dec->next_tok, (size_t)(k * L) * sizeof *dec->tokens);
}

enum ax_status ax_decode(struct ax_decoder *dec, struct ax_exec *x,
			 const int32_t *src, int64_t S, struct ax_diag *d)
{
	int64_t k = dec->o.beam, L = dec->o.max_len;
	if (x->o.mode != AX_MODE_INCREMENTAL || x->o.batch != k)
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "decoding needs an incremental executor with batch = beam");
	if (L + 1 > x->o.max_tgt || L > dec->cap_len || dec->o.min_len > L)
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "max length %lld (+ eos) exceeds the planned %lld steps, "
				   "or is below min length %lld", (long long)L,
				   (long long)x->o.max_tgt, (long long)dec->o.min_len);
	enum ax_status st = ax_exec_encode(x, src, S, d);
	if (st != AX_OK)
		return st;
	dec->n_finished = 0;
	dec->best_len = 0;
	for (int64_t b = 0; b < k; b++) {
		dec->scores[b] = 0;
		dec->step_tok[b] = ax_exec_start_token(x);
	}
	for (int64_t step = 0; step <= L; step++) {
		st = ax_exec_step(x, dec->step_tok, d);
		if (st != AX_OK)
			return st;
		int64_t n = candidates(dec, x, step);
		/* eos only among the first `beam` candidates, and finite */
		for (int64_t c = 0; c < n && c < k; c++)
			if (dec->cand_tok[c] == AX_TOKEN_EOS && isfinite(dec->cand_score[c]) &&
			    dec->n_finished < k)
				finish(dec, dec->cand_beam[c], step + 1, dec->cand_score[c]);
		if (dec->n_finished >= k || step == L)
			break;
		advance(dec, step, n);
		ax_exec_reorder(x, dec->from);
	}
	if (dec->n_finished == 0)   /* only if every score is -inf */
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "beam search finished no hypothesis (every score is -inf)");
	return AX_OK;
}

enum ax_status ax_score(struct ax_exec *x, const int32_t *src, int64_t S,
			const int32_t *y, int64_t T, int32_t *tgt_in,
			double *loglik, struct ax_diag *d)
{
	/* decoder input: [eos, y_1, ..., y_{T-1}] (docs/models.md §2.1; t2t: 0) */
	tgt_in[0] = ax_exec_start_token(x);
	memcpy(tgt_in + 1, y, (size_t)(T - 1) * sizeof *tgt_in);
	enum ax_status st = ax_exec_forward(x, src, S, tgt_in, T, d);
	if (st != AX_OK)
		return st;
	const float *lp = ax_exec_logprobs(x);
	int64_t ld = x->ld[x->g->logits], V = ax_exec_vocab(x);
	double ll = 0;
	for (int64_t i = 0; i < T; i++) {
		if (y[i] < 0 || y[i] >= V)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "target token %d out of range", y[i]);
		ll += lp[i * ld + y[i]];
	}
	*loglik = ll;
	return AX_OK;
}
