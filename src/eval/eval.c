/*
 * eval.c - `archex eval`'s work (eval.h): checks, teacher-forced scoring
 * of a split, beam-search decoding, detokenization through spm_decode and
 * BLEU/chrF against the raw references.
 */
#include "eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic_io.h"
#include "decode.h"
#include "exec.h"
#include "run.h"

#define AX_EVAL_MAX_LEN 4095   /* decoding limit, tokens before the eos */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress(const struct ax_eval_opts *o, const char *what, int64_t i,
		     int64_t n)
{
	if (!o->progress)
		return;
	char msg[128];
	snprintf(msg, sizeof msg, "%s %lld/%lld", what, (long long)i, (long long)n);
	o->progress(o->progress_ctx, msg);
}

/* DIR/SPLIT.tgt.txt, DIR/spm.model, ... */
static void ds_path(char *buf, size_t size, const struct ax_dataset *ds,
		    const char *name)
{
	snprintf(buf, size, "%s/%s", ds->dir, name);
}

static void ref_name(char *buf, size_t size, enum ax_data_split split)
{
	snprintf(buf, size, "%s.tgt.txt", ax_data_split_names[split]);
}

static enum ax_status need_file(const struct ax_dataset *ds, const char *name,
				const char *why, struct ax_diag *d)
{
	char path[4300];
	ds_path(path, sizeof path, ds, name);
	if (access(path, R_OK) != 0)
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "cannot read (%s): %s is needed to %s",
				   strerror(errno), name, why);
	return AX_OK;
}

enum ax_status ax_eval_check(const struct ax_graph *g,
			     const struct ax_dataset *ds,
			     const struct ax_eval_opts *o, struct ax_diag *d)
{
	const struct ax_config *c = g->cfg;
	char manifest[4300];
	ds_path(manifest, sizeof manifest, ds, "manifest.json");
	enum ax_status st = ax_dataset_fits(ds, "evaluate", c->name,
					    !g->has_encoder, c->vocab_source,
					    c->vocab_target, d);
	if (st != AX_OK)
		return st;
	if (ds->split[o->split].sentences == 0)
		return ax_diag_set(d, AX_ERR_INPUT, manifest, 0, 0,
				   "the %s split is empty", ax_data_split_names[o->split]);
	char ref[64];
	ref_name(ref, sizeof ref, o->split);
	if (ds->task == AX_DATA_LANGUAGE_MODEL)
		st = need_file(ds, ref, "count words", d);
	else if (o->decode) {
		if (o->beam < 1)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0, "beam must be at least 1");
		st = need_file(ds, "spm.model", "detokenize hypotheses", d);
		if (st == AX_OK)
			st = need_file(ds, ref, "score BLEU", d);
	}
	return st;
}

/* x was laid out at o->precision (ax_exec_opts): loading quantizes. */
static enum ax_status load_weights(struct ax_exec *x, const struct ax_eval_opts *o,
				   struct ax_diag *d)
{
	if (o->weights)
		return ax_exec_load_weights(x, o->weights, d);
	ax_exec_init_weights(x, o->seed);
	return AX_OK;
}

/* ids (n) plus eos into out (n + 1) as int32. */
static void with_eos(int32_t *out, const uint32_t *ids, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		out[i] = (int32_t)ids[i];
	out[n] = AX_TOKEN_EOS;
}

static int64_t max_len_of(const struct ax_tokens *t)
{
	int64_t m = 0, n;
	for (int64_t i = 0; i < t->n; i++) {
		ax_tokens_sentence(t, i, &n);
		if (n > m)
			m = n;
	}
	return m;
}

/* Teacher-forced NLL of every target (with eos) given its source (with
 * eos; NULL for an LM), one sentence per forward pass. */
static enum ax_status score_split(const struct ax_graph *g,
				  const struct ax_eval_opts *o,
				  const struct ax_tokens *src,
				  const struct ax_tokens *tgt,
				  struct ax_eval_result *r, struct ax_diag *d)
{
	int64_t ms = src ? max_len_of(src) + 1 : 0, mt = max_len_of(tgt) + 1;
	struct ax_exec x;
	struct ax_exec_opts eo = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				   .max_src = ms, .max_tgt = mt,
				   .precision = o->precision, .act = o->act };
	enum ax_status st = ax_exec_init(&x, g, &eo, d);
	if (st != AX_OK)
		return st;
	int32_t *s = malloc((size_t)(ms + 1) * sizeof *s);   /* (S + 1) */
	int32_t *y = malloc((size_t)mt * sizeof *y);         /* (T + 1) */
	int32_t *yin = malloc((size_t)mt * sizeof *yin);     /* (T + 1) */
	if (!s || !y || !yin) {
		st = ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
		goto free_bufs;
	}
	st = load_weights(&x, o, d);
	double t0 = now();
	for (int64_t i = 0; st == AX_OK && i < tgt->n; i++) {
		int64_t S = 0, T;
		if (src) {
			const uint32_t *p = ax_tokens_sentence(src, i, &S);
			with_eos(s, p, S++);
		}
		const uint32_t *q = ax_tokens_sentence(tgt, i, &T);
		with_eos(y, q, T++);
		double ll;
		st = ax_score(&x, src ? s : NULL, S, y, T, yin, &ll, d);
		r->nll -= ll;
		r->src_tokens += S;
		r->tokens += T;
		progress(o, "score", i + 1, tgt->n);
	}
	r->score_seconds = now() - t0;
free_bufs:
	free(s);
	free(y);
	free(yin);
	ax_exec_free(&x);
	return st;
}

/* Words of the raw text (whitespace-separated) plus one eos per line;
 * the line count must be the split's sentence count. */
static enum ax_status count_words(const char *path, int64_t sentences,
				  int64_t *words, struct ax_diag *d)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot open: %s",
				   strerror(errno));
	int64_t lines = 0, w = 0;
	int c, prev_space = 1;
	bool open_line = false;
	while ((c = getc(f)) != EOF) {
		if (c == '\n') {
			lines++;
			prev_space = 1;
			open_line = false;
			continue;
		}
		open_line = true;
		int sp = c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
		if (!sp && prev_space)
			w++;
		prev_space = sp;
	}
	lines += open_line;
	bool bad = ferror(f);
	fclose(f);
	if (bad)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "read failed");
	if (lines != sentences)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "%lld lines, but the split has %lld sentences",
				   (long long)lines, (long long)sentences);
	*words = w + lines;
	return AX_OK;
}

/* One hypothesis as a line of ids for spm_decode: the trailing eos
 * dropped, one that reached the length limit counted, ids outside the dataset's vocabulary written as unk. */
static bool write_hyp(FILE *f, const struct ax_decoder *dec, int64_t vocab,
		      struct ax_eval_result *r)
{
	int64_t n = dec->best_len;
	r->hyp_tokens += n;
	if (n > dec->o.max_len)
		r->hyp_cut++;      /* max_len tokens, then the forced eos */
	if (n > 0 && dec->best[n - 1] == AX_TOKEN_EOS)
		n--;
	for (int64_t k = 0; k < n; k++) {
		int32_t id = dec->best[k];
		if (id < 0 || id >= vocab) {
			id = AX_DATA_UNK;
			r->hyp_unknown++;
		}
		if (fprintf(f, "%s%d", k ? " " : "", id) < 0)
			return false;
	}
	return fputc('\n', f) != EOF;
}

/* fairseq's max_len: at most floor(a * S1 + b) tokens before the eos,
 * S1 counting the source's eos. */
static int64_t decode_limit(const struct ax_eval_opts *o, int64_t S1)
{
	double v = floor(o->max_len_a * (double)S1 + (double)o->max_len_b);
	return v < 1 ? 1 : v > AX_EVAL_MAX_LEN ? AX_EVAL_MAX_LEN : (int64_t)v;
}

/* Beam search over every source (with eos); the ids go to ids_path, one
 * hypothesis a line. */
static enum ax_status decode_split(const struct ax_graph *g,
				   const struct ax_dataset *ds,
				   const struct ax_eval_opts *o,
				   const struct ax_tokens *src, const char *ids_path,
				   struct ax_eval_result *r, struct ax_diag *d)
{
	int64_t ms = max_len_of(src) + 1, mt = 1, S;
	for (int64_t i = 0; i < src->n; i++) {
		ax_tokens_sentence(src, i, &S);
		int64_t L = decode_limit(o, S + 1) + 1;   /* + the eos step */
		mt = L > mt ? L : mt;
	}
	struct ax_exec x;
	struct ax_exec_opts eo = { .mode = AX_MODE_INCREMENTAL, .batch = o->beam,
				   .max_src = ms, .max_tgt = mt,
				   .precision = o->precision, .act = o->act };
	enum ax_status st = ax_exec_init(&x, g, &eo, d);
	if (st != AX_OK)
		return st;
	int32_t *s = malloc((size_t)ms * sizeof *s);   /* (S + 1) */
	FILE *f = fopen(ids_path, "w");
	if (!s || !f) {
		st = !s ? ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory") :
		     ax_diag_set(d, AX_ERR_IO, ids_path, 0, 0, "cannot create: %s",
				 strerror(errno));
		goto free_exec;
	}
	st = load_weights(&x, o, d);
	double t0 = now();
	for (int64_t i = 0; st == AX_OK && i < src->n; i++) {
		const uint32_t *p = ax_tokens_sentence(src, i, &S);
		with_eos(s, p, S);
		struct ax_decoder dec;
		struct ax_decode_opts dopt = { .beam = o->beam, .lenpen = o->lenpen,
					       .max_len = decode_limit(o, S + 1),
					       .min_len = 1 };   /* fairseq's default */
		st = ax_decoder_init(&dec, &dopt, d);
		if (st != AX_OK)
			break;
		st = ax_decode(&dec, &x, s, S + 1, d);
		if (st == AX_OK && !write_hyp(f, &dec, ds->vocab_target, r))
			st = ax_diag_set(d, AX_ERR_IO, ids_path, 0, 0, "cannot write: %s",
					 strerror(errno));
		ax_decoder_free(&dec);
		progress(o, "decode", i + 1, src->n);
	}
	r->decode_seconds = now() - t0;
	if (fclose(f) != 0 && st == AX_OK)
		st = ax_diag_set(d, AX_ERR_IO, ids_path, 0, 0, "cannot write: %s",
				 strerror(errno));
free_exec:
	free(s);
	ax_exec_free(&x);
	return st;
}

/* Copies the file at from into path through atomic_io. */
static enum ax_status copy_atomic(const char *from, const char *path,
				  struct ax_diag *d)
{
	FILE *in = fopen(from, "r");
	if (!in)
		return ax_diag_set(d, AX_ERR_IO, from, 0, 0, "cannot open: %s",
				   strerror(errno));
	struct ax_atomic a;
	FILE *out = ax_atomic_open(&a, path, d);
	if (!out) {
		fclose(in);
		return d->status;
	}
	char buf[65536];
	size_t n;
	bool ok = true;
	while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	ok = ok && !ferror(in);
	fclose(in);
	if (!ok) {
		ax_atomic_abort(&a);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0, "cannot copy the hypotheses");
	}
	return ax_atomic_commit(&a, d);
}

/* ids -> text with spm_decode, then BLEU and chrF against the split's
 * reference, then --hyp-out. */
static enum ax_status detok_and_score(const struct ax_dataset *ds,
				      const struct ax_eval_opts *o,
				      const char *tmp, struct ax_eval_result *r,
				      struct ax_diag *d)
{
	char model[4400], ids[4400], txt[4400], ref[4400], name[64];
	snprintf(model, sizeof model, "--model=%s/spm.model", ds->dir);
	snprintf(ids, sizeof ids, "%s/hyp.ids", tmp);
	snprintf(txt, sizeof txt, "%s/hyp.txt", tmp);
	ref_name(name, sizeof name, o->split);
	ds_path(ref, sizeof ref, ds, name);
	char *argv[] = { "spm_decode", model, "--input_format=id", NULL };
	enum ax_status st = ax_run(argv, "sentencepiece", ids, txt, NULL, d);
	if (st != AX_OK)
		return st;
	FILE *f = fopen(txt, "r");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, txt, 0, 0, "cannot open: %s",
				   strerror(errno));
	st = ax_bleu_files(ref, f, "the decoded hypotheses", &r->bleu, d);
	fclose(f);
	if (st == AX_OK && o->hyp_out)
		st = copy_atomic(txt, o->hyp_out, d);
	return st;
}

/* Decoding with its scratch directory ($TMPDIR or /tmp). */
static enum ax_status decode_and_score(const struct ax_graph *g,
				       const struct ax_dataset *ds,
				       const struct ax_eval_opts *o,
				       const struct ax_tokens *src,
				       struct ax_eval_result *r, struct ax_diag *d)
{
	const char *base = getenv("TMPDIR");
	char tmp[4096], ids[4200], txt[4200];
	snprintf(tmp, sizeof tmp, "%s/archex-eval-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp))
		return ax_diag_set(d, AX_ERR_IO, tmp, 0, 0,
				   "cannot create a scratch directory: %s", strerror(errno));
	snprintf(ids, sizeof ids, "%s/hyp.ids", tmp);
	snprintf(txt, sizeof txt, "%s/hyp.txt", tmp);
	enum ax_status st = decode_split(g, ds, o, src, ids, r, d);
	if (st == AX_OK)
		st = detok_and_score(ds, o, tmp, r, d);
	unlink(ids);
	unlink(txt);
	rmdir(tmp);
	r->decoded = st == AX_OK;
	return st;
}

static void finish(struct ax_eval_result *r, double secs)
{
	r->loss = r->tokens ? r->nll / (double)r->tokens : 0;
	r->loss_base2 = r->loss / log(2.0);
	r->perplexity = exp(r->loss);
	if (r->words) {
		r->word_loss = r->nll / (double)r->words;
		r->word_loss_base2 = r->word_loss / log(2.0);
		r->word_perplexity = exp(r->word_loss);
	}
	r->score_tokens_per_s = r->score_seconds > 0 ?
				(double)r->tokens / r->score_seconds : 0;
	r->decode_tokens_per_s = r->decode_seconds > 0 ?
				 (double)r->hyp_tokens / r->decode_seconds : 0;
	r->seconds = secs;
}

enum ax_status ax_eval_run(const struct ax_graph *g,
			   const struct ax_dataset *ds,
			   const struct ax_eval_opts *o,
			   struct ax_eval_result *r, struct ax_diag *d)
{
	memset(r, 0, sizeof *r);
	double t0 = now();
	enum ax_status st = ax_eval_check(g, ds, o, d);
	if (st != AX_OK)
		return st;
	bool lm = ds->task == AX_DATA_LANGUAGE_MODEL;
	struct ax_tokens src = { 0 }, tgt = { 0 };
	st = ax_dataset_load(ds, o->split, lm ? NULL : &src, &tgt, d);
	if (st != AX_OK)
		return st;
	r->sentences = tgt.n;
	if (lm) {
		char name[64], path[4300];
		ref_name(name, sizeof name, o->split);
		ds_path(path, sizeof path, ds, name);
		st = count_words(path, tgt.n, &r->words, d);
	}
	if (st == AX_OK)
		st = score_split(g, o, lm ? NULL : &src, &tgt, r, d);
	if (st == AX_OK && !lm && o->decode)
		st = decode_and_score(g, ds, o, &src, r, d);
	finish(r, now() - t0);
	ax_tokens_free(&src);
	ax_tokens_free(&tgt);
	return st;
}
