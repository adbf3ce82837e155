/*
 * eval.h - measuring a model on a dataset split (docs/data.md, "archex
 * eval"): the teacher-forced loss and perplexity per BPE token (and per
 * word for a language model), and for translation a beam-search decode of
 * every source, detokenized with the dataset's sentencepiece model and
 * scored with BLEU and chrF against the split's raw reference text.
 *
 * Conventions (fairseq's):
 *   - every target gets eos appended and is scored teacher-forced from the
 *     start token: T + 1 predictions for T BPE tokens;
 *   - translation sources get eos appended too, as fairseq's binarized
 *     data carries it (decode and score see the same S + 1 ids);
 *   - a language model scores each sentence separately, its context
 *     starting at eos (fairseq's --sample-break-mode eos);
 *   - the loss is the mean negative log-likelihood in nats; loss_base2 is
 *     the same in bits (fairseq's reported loss); perplexity e^loss;
 *   - per word (language models): the same total over the whitespace
 *     words of the raw text plus one eos per sentence (fairseq's eval_lm
 *     counts eos as a word);
 *   - decoding: at most floor(a * (S + 1) + b) tokens before eos (fairseq's
 *     --max-len-a/--max-len-b over a source with its eos), eos forced
 *     after them.
 *
 * The library never prints: progress goes through a callback.
 */
#ifndef AX_EVAL_H
#define AX_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bleu.h"
#include "corpus.h"
#include "dataset.h"
#include "diag.h"
#include "exec.h"
#include "graph.h"
#include "size.h"

struct ax_eval_opts {
	enum ax_data_split split;
	const char *weights;       /* weights file, or NULL for random weights */
	enum ax_act act;             /* int8: fp32 or int8 activations (exec.h) */
	enum ax_precision precision; /* of the weights of linears, embeddings
				      and the output layer (quantized at load) */
	uint64_t seed;             /* with weights NULL */
	bool decode;               /* translation: beam search, BLEU, chrF */
	int64_t beam;              /* >= 1 */
	double lenpen;             /* score / len^lenpen */
	double max_len_a;          /* decode at most a * (S + 1) + b tokens */
	int64_t max_len_b;
	const char *hyp_out;       /* detokenized hypotheses, written
				      atomically; NULL: none */
	ax_progress_fn progress;   /* "score 12/1500" ...; may be NULL */
	void *progress_ctx;
};

struct ax_eval_result {
	int64_t sentences;
	int64_t src_tokens;        /* source ids fed, eos included */
	int64_t tokens;            /* target predictions scored, eos included */
	int64_t words;             /* LM: raw-text words + one eos per sentence */
	double nll;                /* sum of -log p(y), nats */
	double loss, loss_base2, perplexity;       /* per BPE token */
	double word_loss, word_loss_base2, word_perplexity; /* LM only */
	double score_seconds, score_tokens_per_s;

	bool decoded;
	int64_t hyp_tokens;        /* generated ids, eos included */
	int64_t hyp_unknown;       /* generated ids outside the dataset's
				      vocabulary, detokenized as unk */
	int64_t hyp_cut;           /* hypotheses that reached the length
				      limit (eos forced there) */
	double decode_seconds, decode_tokens_per_s;
	struct ax_bleu bleu;       /* score, precisions, bp, chrF */
	double seconds;            /* everything */
};

/* The checks before any work: the dataset's task is the model's, its
 * vocabularies fit the model's (model >= dataset, both named in the
 * error), the split has sentences, and for decoding the sentencepiece
 * model and the reference text are there. ds comes from
 * ax_dataset_open() (verify it there: the checksums are its job). */
enum ax_status ax_eval_check(const struct ax_graph *g,
			     const struct ax_dataset *ds,
			     const struct ax_eval_opts *o, struct ax_diag *d);

/* Runs ax_eval_check, then the evaluation (see above) into r. */
enum ax_status ax_eval_run(const struct ax_graph *g,
			   const struct ax_dataset *ds,
			   const struct ax_eval_opts *o,
			   struct ax_eval_result *r, struct ax_diag *d);

#endif
