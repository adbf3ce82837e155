/*
 * bleu.h - corpus BLEU and chrF as sacreBLEU computes them by default:
 * BLEU on the 13a tokenizer (mteval-v13a), 4-gram precisions with
 * sacreBLEU's "exp" smoothing (an order with no match gets
 * 100 / (2^k * total), k counting such orders), the brevity penalty
 * exp(1 - ref_len / sys_len) when sys_len < ref_len, one reference per
 * line; chrF with character 6-grams, no word n-grams, beta 2, whitespace
 * removed, and precision and recall averaged over the orders both sides
 * have n-grams of (sacreBLEU's default, eps_smoothing off).
 * docs/data.md gives the formulas.
 */
#ifndef AX_BLEU_H
#define AX_BLEU_H

#include <stdint.h>
#include <stdio.h>

#include "diag.h"

#define AX_BLEU_ORDER 4
#define AX_CHRF_ORDER 6
#define AX_CHRF_BETA 2

/* Sufficient statistics, summed over sentences. */
struct ax_bleu_stats {
	int64_t lines;
	int64_t sys_len, ref_len;               /* 13a tokens */
	int64_t correct[AX_BLEU_ORDER];         /* clipped n-gram matches */
	int64_t total[AX_BLEU_ORDER];           /* hypothesis n-grams */
	int64_t chrf[AX_CHRF_ORDER][3];         /* hyp, ref, match per order */
};

struct ax_bleu {
	double score;                           /* 0..100 */
	double precision[AX_BLEU_ORDER];        /* 0..100, smoothed */
	double bp, ratio;
	int64_t sys_len, ref_len, lines;
	double chrf;                            /* 0..100 */
};

/* One line through the 13a tokenizer: a new string of tokens joined by
 * single spaces (caller frees), NULL when out of memory. */
char *ax_tok13a(const char *line);

/* Adds one hypothesis/reference pair (untokenized lines, no '\n'). */
enum ax_status ax_bleu_add(struct ax_bleu_stats *s, const char *hyp,
			   const char *ref, struct ax_diag *d);

/* The scores from the statistics. */
void ax_bleu_score(const struct ax_bleu_stats *s, struct ax_bleu *out);

/* Scores hyp (a stream; hyp_name names it in errors) against the
 * reference file ref_path, line by line; different line counts are an
 * error naming both. */
enum ax_status ax_bleu_files(const char *ref_path, FILE *hyp,
			     const char *hyp_name, struct ax_bleu *out,
			     struct ax_diag *d);

#endif
