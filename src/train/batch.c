/*
 * batch.c - length-bucketed packed batches (see train.h, struct
 * ax_batcher), deterministic in (seed, epoch) so that a resumed run sees
 * exactly the batches an uninterrupted one would.
 *
 * Per epoch, as fairseq does: shuffle the sentence indices, sort them
 * stably by length (the shuffle breaks ties), cut greedily into batches
 * of at most max_tokens tokens per stream (eos included), and shuffle the
 * batch order.
 */
#include "train.h"

#include <stdlib.h>
#include <string.h>

#include "grad.h"

static int64_t len_src(const struct ax_batcher *b, int64_t i)
{
	return b->src ? (int64_t)(b->src->off[i + 1] - b->src->off[i]) + 1 : 0;
}

static int64_t len_tgt(const struct ax_batcher *b, int64_t i)
{
	return (int64_t)(b->tgt->off[i + 1] - b->tgt->off[i]) + 1;
}

static int64_t len_max(const struct ax_batcher *b, int64_t i)
{
	int64_t s = len_src(b, i), t = len_tgt(b, i);
	return s > t ? s : t;
}

enum ax_status ax_batcher_init(struct ax_batcher *b, const struct ax_tokens *src,
			       const struct ax_tokens *tgt, int64_t max_tokens,
			       int32_t start_token, uint64_t seed,
			       struct ax_diag *d)
{
	memset(b, 0, sizeof *b);
	b->src = src;
	b->tgt = tgt;
	b->max_tokens = max_tokens;
	b->start_token = start_token;
	b->seed = seed;
	b->epoch = -1;
	if (src && src->n != tgt->n)
		return ax_diag_set(d, AX_ERR_FORMAT, "", 0, 0,
				   "source and target hold %lld and %lld sentences",
				   (long long)src->n, (long long)tgt->n);
	size_t n = (size_t)tgt->n + 1;
	b->order = calloc(n, sizeof *b->order);
	b->batch_start = calloc(n + 1, sizeof *b->batch_start);
	b->perm = calloc(n, sizeof *b->perm);
	b->key = calloc(n, sizeof *b->key);
	if (!b->order || !b->batch_start || !b->perm || !b->key) {
		ax_batcher_free(b);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	}
	for (int64_t i = 0; i < tgt->n; i++) {
		int64_t l = len_max(b, i);
		if (l > max_tokens) {
			b->n_skipped++;
			continue;
		}
		b->n_used++;
		b->max_len = l > b->max_len ? l : b->max_len;
	}
	if (b->n_used == 0) {
		ax_batcher_free(b);
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "no training sentence fits in --max-tokens %lld",
				   (long long)max_tokens);
	}
	return AX_OK;
}

void ax_batcher_free(struct ax_batcher *b)
{
	free(b->order);
	free(b->batch_start);
	free(b->perm);
	free(b->key);
	memset(b, 0, sizeof *b);
}

static int by_key(const void *x, const void *y)
{
	const uint64_t *a = x, *c = y;
	return *a < *c ? -1 : *a > *c;
}

/* A random permutation of p[0..n) from a counter-based stream. */
static void shuffle(int64_t *p, int64_t n, uint64_t key)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)(ax_g_mix(key ^ (uint64_t)i) % (uint64_t)(i + 1));
		int64_t t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
}

void ax_batcher_epoch(struct ax_batcher *b, int64_t e)
{
	int64_t n = b->tgt->n, m = 0;
	uint64_t key = ax_g_key(b->seed, (uint64_t)e, 0x5eedba7c);
	for (int64_t i = 0; i < n; i++)
		if (len_max(b, i) <= b->max_tokens)
			b->order[m++] = i;
	shuffle(b->order, m, key);
	/* sort by length; the shuffled position breaks ties (sizes < 2^24,
	 * positions < 2^40) */
	for (int64_t k = 0; k < m; k++)
		b->key[k] = ((uint64_t)len_max(b, b->order[k]) << 40) | (uint64_t)k;
	qsort(b->key, (size_t)m, sizeof *b->key, by_key);
	for (int64_t k = 0; k < m; k++)
		b->key[k] = (uint64_t)b->order[b->key[k] & ((1ull << 40) - 1)];
	for (int64_t k = 0; k < m; k++)
		b->order[k] = (int64_t)b->key[k];
	/* greedy cut */
	int64_t nb = 0, s = 0, t = 0;
	b->batch_start[0] = 0;
	for (int64_t k = 0; k < m; k++) {
		int64_t ls = len_src(b, b->order[k]), lt = len_tgt(b, b->order[k]);
		if (k > b->batch_start[nb] &&
		    (s + ls > b->max_tokens || t + lt > b->max_tokens)) {
			b->batch_start[++nb] = k;
			s = t = 0;
		}
		s += ls;
		t += lt;
	}
	b->batch_start[++nb] = m;
	b->n_batches = nb;
	for (int64_t k = 0; k < nb; k++)
		b->perm[k] = k;
	shuffle(b->perm, nb, ax_g_mix(key + 1));
	b->epoch = e;
}

void ax_batcher_fill(const struct ax_batcher *b, int64_t k,
		     struct ax_train_batch *out)
{
	int64_t kk = b->perm[k];
	int64_t s = 0, t = 0, n = 0;
	out->src_off[0] = out->tgt_off[0] = 0;
	for (int64_t j = b->batch_start[kk]; j < b->batch_start[kk + 1]; j++) {
		int64_t i = b->order[j], len;
		if (b->src) {
			const uint32_t *ids = ax_tokens_sentence(b->src, i, &len);
			for (int64_t c = 0; c < len; c++)
				out->src[s++] = (int32_t)ids[c];
			out->src[s++] = AX_DATA_EOS;
		}
		const uint32_t *ids = ax_tokens_sentence(b->tgt, i, &len);
		out->tgt_in[t] = b->start_token;
		for (int64_t c = 0; c < len; c++) {
			out->tgt_in[t + 1 + c] = (int32_t)ids[c];
			out->tgt_out[t + c] = (int32_t)ids[c];
		}
		out->tgt_out[t + len] = AX_DATA_EOS;
		t += len + 1;
		n++;
		out->src_off[n] = s;
		out->tgt_off[n] = t;
	}
	out->n = n;
	out->n_src = s;
	out->n_tgt = t;
}
