/*
 * ckpt.c - training checkpoints (docs/training.md): one binary file
 * written atomically (atomic_io.h), so a kill at any moment leaves the
 * previous checkpoint or the new one, never a mix.
 *
 * Layout (little-endian, as the machine writes it; a checkpoint is read
 * back on the machine that trains):
 *   char     magic[8]       "AXCKPT03" (02: without the last two
 *                           dropouts; refused)
 *   uint64   config_hash    ax_config_hash of the model
 *   struct   hparams        the 17 hyperparameters, 14 doubles then 3 integers:
 *                           doubles as float64, integers as int64
 *   int64    step, epoch, batch, tokens;  float64 seconds
 *   int64    n              floats per buffer (the weights arena)
 *   float32  weights[n], m[n], v[n]
 *   uint32   crc32          of everything before it (weights.h)
 * The RNG needs no state: dropout masks are a function of (seed, step,
 * site) and the batch order of (seed, epoch).
 */
#include "train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_io.h"
#include "weights.h"

#define MAGIC "AXCKPT03"

struct header {
	char magic[8];
	uint64_t config_hash;
	double d[14];
	int64_t i[3];
	int64_t step, epoch, batch, tokens;
	double seconds;
	int64_t n;
};

static void pack_hp(struct header *h, const struct ax_train_hparams *p)
{
	double d[14] = { p->lr, p->warmup_init_lr, p->beta1, p->beta2,
			 p->adam_eps, p->weight_decay, p->clip_norm,
			 p->label_smoothing, p->dropout, p->attention_dropout,
			 p->activation_dropout, p->weight_dropout,
			 p->input_dropout, p->adaptive_softmax_dropout };
	memcpy(h->d, d, sizeof d);
	h->i[0] = p->warmup;
	h->i[1] = p->max_tokens;
	h->i[2] = (int64_t)p->seed;
}

static void unpack_hp(const struct header *h, struct ax_train_hparams *p)
{
	p->lr = h->d[0], p->warmup_init_lr = h->d[1], p->beta1 = h->d[2];
	p->beta2 = h->d[3], p->adam_eps = h->d[4], p->weight_decay = h->d[5];
	p->clip_norm = h->d[6], p->label_smoothing = h->d[7];
	p->dropout = h->d[8], p->attention_dropout = h->d[9];
	p->warmup = h->i[0], p->max_tokens = h->i[1];
	p->seed = (uint64_t)h->i[2];
	p->activation_dropout = h->d[10], p->weight_dropout = h->d[11];
	p->input_dropout = h->d[12], p->adaptive_softmax_dropout = h->d[13];
}

static bool put(FILE *f, const void *p, size_t n, uint32_t *crc)
{
	*crc = ax_crc32(*crc, p, n);
	return fwrite(p, 1, n, f) == n;
}

enum ax_status ax_train_save(const struct ax_trainer *t,
			     const struct ax_train_pos *pos, const char *path,
			     struct ax_diag *d)
{
	struct header h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, MAGIC, 8);
	h.config_hash = pos->config_hash;
	pack_hp(&h, &t->hp);
	h.step = t->step, h.epoch = pos->epoch, h.batch = pos->batch;
	h.tokens = pos->tokens, h.seconds = pos->seconds;
	h.n = t->wx.n_weights;
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d->status;
	uint32_t crc = 0;
	size_t bytes = (size_t)h.n * sizeof(float);
	errno = 0;
	bool ok = put(f, &h, sizeof h, &crc) &&
		  put(f, t->wx.weights, bytes, &crc) &&
		  put(f, t->m, bytes, &crc) && put(f, t->v, bytes, &crc) &&
		  fwrite(&crc, sizeof crc, 1, f) == 1 && fflush(f) == 0;
	if (!ok) {
		/* A full disk or a file-size limit: the temporary goes, the
		 * previous checkpoint stays as it was. */
		int err = errno ? errno : EIO;
		ax_atomic_abort(&a);
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
				   "cannot write the checkpoint: %s; the previous "
				   "checkpoint is unchanged", strerror(err));
	}
	return ax_atomic_commit(&a, d);
}

/* Reads the whole file (up to want + 1 bytes) into *buf; checks the
 * magic. *got: the bytes read. */
static enum ax_status slurp(const char *path, size_t want, char **buf,
			    size_t *got, struct ax_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ax_diag_set(d, AX_ERR_IO, path, 0, 0,
				   "no checkpoint to resume from (run without --resume first)");
	*buf = malloc(want + 1);
	*got = *buf ? fread(*buf, 1, want + 1, f) : 0;
	fclose(f);
	if (!*buf)
		return ax_diag_set(d, AX_ERR_NOMEM, path, 0, 0, "out of memory");
	if (*got >= 8 && !memcmp(*buf, "AXCKPT02", 8))
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "a checkpoint of an older archex (AXCKPT02, "
				   "without input_dropout and "
				   "adaptive_softmax_dropout): start a fresh run");
	if (*got < sizeof(struct header) || memcmp(*buf, MAGIC, 8))
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "not an archex checkpoint");
	return AX_OK;
}

/* The header against this run: config, hyperparameters, then size and
 * checksum of the whole file. */
static enum ax_status check(const char *path, const char *buf, size_t got,
			    size_t want, const struct ax_trainer *t,
			    const struct ax_train_pos *pos, struct ax_diag *d)
{
	struct header h;
	struct ax_train_hparams hp;
	char diff[256];
	memcpy(&h, buf, sizeof h);
	unpack_hp(&h, &hp);
	if (h.config_hash != pos->config_hash)
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "checkpoint of another config (hash %016llx, this "
				   "config's is %016llx)", (unsigned long long)h.config_hash,
				   (unsigned long long)pos->config_hash);
	if (ax_train_hparams_diff(&hp, &t->hp, diff, sizeof diff))
		return ax_diag_set(d, AX_ERR_INPUT, path, 0, 0,
				   "checkpoint has other hyperparameters: %s "
				   "(checkpoint vs now)", diff);
	if (got != want || h.n != t->wx.n_weights)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "checkpoint is truncated or of another model "
				   "(%zu bytes, want %zu)", got, want);
	uint32_t crc;
	memcpy(&crc, buf + want - sizeof crc, sizeof crc);
	if (ax_crc32(0, buf, want - sizeof crc) != crc)
		return ax_diag_set(d, AX_ERR_FORMAT, path, 0, 0,
				   "checkpoint is corrupt (checksum mismatch)");
	return AX_OK;
}

enum ax_status ax_train_load(struct ax_trainer *t, struct ax_train_pos *pos,
			     const char *path, struct ax_diag *d)
{
	char *buf = NULL;
	size_t got = 0, want = sizeof(struct header) +
		3 * (size_t)t->wx.n_weights * sizeof(float) + sizeof(uint32_t);
	enum ax_status st = slurp(path, want, &buf, &got, d);
	if (st == AX_OK)
		st = check(path, buf, got, want, t, pos, d);
	if (st == AX_OK) {
		struct header h;
		memcpy(&h, buf, sizeof h);
		size_t bytes = (size_t)h.n * sizeof(float);
		const char *p = buf + sizeof h;
		memcpy(t->wx.weights, p, bytes);
		memcpy(t->m, p + bytes, bytes);
		memcpy(t->v, p + 2 * bytes, bytes);
		t->step = h.step;
		pos->epoch = h.epoch, pos->batch = h.batch;
		pos->tokens = h.tokens, pos->seconds = h.seconds;
	}
	free(buf);
	return st;
}
