/*
 * train.c - the training engine (see train.h): set-up, the training
 * forward (one switch over op kinds calling the runtime's forward kernels
 * plus dropout), the backward (ops[] in reverse through one switch
 * calling grad.h and grad_conv.h), and AdamW with the inverse-square-root
 * schedule.
 *
 * Addressing: a tensor lives at arena + plan offset with row stride its
 * root's width (a view adds its column offset); its gradient sits at the
 * same offset in the gradient arena. Rows: the batch's source or target
 * token count. Per-sentence ops (embeddings, attention, the convs) walk
 * the batch's segment offsets; the adaptive softmax is fused with the
 * loss.
 *
 * Dropout sites (fairseq's; docs/training.md has the table per family):
 * `dropout` on every token embedding's output and on the branch of every
 * residual add (in place on the branch, which must be read by nothing
 * else and written by ops whose backward reads only their inputs);
 * `activation_dropout` on every ReLU output; `attention_dropout` on the
 * attention probabilities; `weight_dropout` (DropConnect) on the tap
 * weights of light and dynamic convs; `input_dropout` on the input of
 * LightConv's conv blocks (the LINEAR `linear1` of block `conv`; Lite's
 * conv branch, block `lsra.conv`, has none upstream) and
 * `adaptive_softmax_dropout` on the adaptive softmax's input, both on a
 * copy (xdrop) since the residual or another op may read the original,
 * and inside its tails (grad_conv.h). Masks are counter-based (grad.h
 * ax_g_keep), keyed by seed, update step, op index and segment.
 */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grad.h"
#include "grad_conv.h"
#include "kernels.h"

/* --- set-up ------------------------------------------------------------- */

/* The recipe's rows (schema.h AX_SCHEMA_TRAIN) as hyperparameters: the
 * two structs share member names, so every row maps by itself. */
#define FROM_ROW(c, kind, key, member, ...) h->member = t->member;
#define TO_ROW(c, kind, key, member, ...) t->member = h->member;

static void hparams_from_train(const struct ax_train_config *t,
			       struct ax_train_hparams *h)
{
	memset(h, 0, sizeof *h);
	AX_SCHEMA_TRAIN(FROM_ROW, _)
}

/* The defaults are the schema's, so the flags, the YAML and this agree. */
void ax_train_hparams_default(struct ax_train_hparams *h)
{
	struct ax_train_config t;
	memset(&t, 0, sizeof t);
	ax_config_train_default(&t);
	hparams_from_train(&t, h);
}

void ax_train_hparams_from_config(const struct ax_config *cfg,
				  struct ax_train_hparams *h)
{
	if (cfg->train.enabled)
		hparams_from_train(&cfg->train, h);
	else
		ax_train_hparams_default(h);
}

void ax_train_hparams_to_config(const struct ax_train_hparams *h,
				struct ax_config *cfg)
{
	struct ax_train_config *t = &cfg->train;
	t->enabled = true;
	AX_SCHEMA_TRAIN(TO_ROW, _)
}

bool ax_train_hparams_diff(const struct ax_train_hparams *a,
			   const struct ax_train_hparams *b, char *buf,
			   size_t size)
{
#define CMP_F64(f) if (a->f != b->f) { snprintf(buf, size, #f " %g vs %g", a->f, b->f); return true; }
#define CMP_I64(f) if (a->f != b->f) { snprintf(buf, size, #f " %lld vs %lld", (long long)a->f, (long long)b->f); return true; }
#define CMP_ROW(c, kind, key, member, ...) CMP_##kind(member)
	AX_SCHEMA_TRAIN(CMP_ROW, _)
#undef CMP_ROW
#undef CMP_F64
#undef CMP_I64
	return false;
}

static int32_t root(const struct ax_graph *g, int32_t t)
{
	return g->tensors[t].parent >= 0 ? g->tensors[t].parent : t;
}

static int64_t imax(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The op kinds with a backward here (grad.h, grad_conv.h). */
static bool trainable(enum ax_op_kind k)
{
	switch (k) {
	case AX_OP_EMBED: case AX_OP_LINEAR: case AX_OP_LAYERNORM:
	case AX_OP_ATTENTION: case AX_OP_RELU: case AX_OP_ADD:
	case AX_OP_LOG_SOFTMAX: case AX_OP_LIGHTCONV: case AX_OP_DYNCONV:
	case AX_OP_DWCONV: case AX_OP_CONV1D: case AX_OP_GLU: case AX_OP_SWISH:
	case AX_OP_ADAPTIVE_INPUT: case AX_OP_ADAPTIVE_SOFTMAX:
		return true;
	case AX_OP_KIND_COUNT:
		return false;
	}
	return false;
}

static const char *kind_name(enum ax_op_kind k)
{
	return (unsigned)k < AX_OP_KIND_COUNT ? ax_op_kind_names[k] : "?";
}

static enum ax_status check_ops(const struct ax_graph *g, struct ax_diag *d)
{
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		char name[160];
		ax_graph_name(op->scope, op->layer, op->block, op->role, name, sizeof name);
		if (!trainable(op->kind))
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "not trainable yet: op kind '%s' (op %d, %s) "
					   "has no backward", kind_name(op->kind),
					   i, name);
		for (int k = 0; k < AX_OP_MAX_IN; k++)
			if (op->in[k] >= 0 && root(g, op->in[k]) == root(g, op->out) &&
			    !(op->kind == AX_OP_LOG_SOFTMAX && op->in[k] == op->out))
				return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						   "op %d (%s) writes its own input: "
						   "not trainable", i, name);
	}
	enum ax_op_kind last = g->n_ops > 0 ? g->ops[g->n_ops - 1].kind : AX_OP_KIND_COUNT;
	if (g->logits < 0 || (last != AX_OP_LOG_SOFTMAX && last != AX_OP_ADAPTIVE_SOFTMAX))
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "the model does not end in log-probabilities");
	return AX_OK;
}

/* Kinds whose backward reads only their inputs, so that dropout may
 * overwrite their output in place (a residual branch). */
static bool output_free(enum ax_op_kind k)
{
	return k == AX_OP_LINEAR || k == AX_OP_GLU || k == AX_OP_SWISH ||
	       k == AX_OP_LIGHTCONV || k == AX_OP_DYNCONV || k == AX_OP_DWCONV ||
	       k == AX_OP_CONV1D;
}

/* Dropout rates per op (see the file comment). A residual branch gets
 * dropout when it is a whole tensor read by nothing but the add and
 * written (itself or through its column views, as the Lite branches'
 * concatenation) only by kinds of output_free(). */
static void place_dropout(struct ax_trainer *t)
{
	const struct ax_graph *g = t->g;
	int32_t *readers = calloc((size_t)g->n_tensors + 1, sizeof *readers);
	int8_t *written = calloc((size_t)g->n_tensors + 1, sizeof *written);
	if (!readers || !written)
		goto out;   /* no residual dropout then: still correct */
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		for (int k = 0; k < AX_OP_MAX_IN; k++)
			if (op->in[k] >= 0)
				readers[root(g, op->in[k])]++;
		int32_t r = root(g, op->out);
		if (written[r] >= 0)   /* -1: some writer needs its output */
			written[r] = output_free(op->kind) ? 1 : -1;
	}
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		if (op->kind == AX_OP_EMBED || op->kind == AX_OP_ADAPTIVE_INPUT)
			t->p_out[i] = (float)t->hp.dropout;
		if (op->kind == AX_OP_RELU)
			t->p_out[i] = (float)t->hp.activation_dropout;
		if (op->kind == AX_OP_ADD && !strcmp(op->role, "residual")) {
			int32_t b = op->in[1];
			if (g->tensors[b].parent < 0 && readers[b] == 1 && written[b] == 1)
				t->p_branch[i] = (float)t->hp.dropout;
		}
		if (op->kind == AX_OP_LINEAR && !strcmp(op->role, "linear1") &&
		    op->block && !strcmp(op->block, "conv"))
			t->p_in[i] = (float)t->hp.input_dropout;
		if (op->kind == AX_OP_ADAPTIVE_SOFTMAX)
			t->p_in[i] = (float)t->hp.adaptive_softmax_dropout;
	}
out:
	free(readers);
	free(written);
}

/* Floats of scratch op i needs (its forward and backward kernels; the
 * sequence ops per sentence of up to max_len rows), and the columns of
 * its DropConnect mask. */
static int64_t op_scratch(const struct ax_trainer *t, int32_t i, int64_t *hk)
{
	const struct ax_op *op = &t->g->ops[i];
	int64_t H = op->heads, K = op->kernel, L = t->max_len, s = 0;
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	switch (op->kind) {
	case AX_OP_ATTENTION:
		return ax_g_attention_scratch(L, L, t->g->tensors[op->out].width);
	case AX_OP_LIGHTCONV: case AX_OP_DYNCONV:
		*hk = H * K;
		s = ax_g_convdrop_scratch(H, K);
		s = imax(s, ax_g_lightconv_scratch(H, K));
		s = imax(s, ax_g_dynconv_scratch(H, K));
		return imax(s, ax_k_dynconv_scratch(H, K));
	case AX_OP_CONV1D: {
		int64_t w = t->g->tensors[op->in[0]].width;
		return imax(ax_k_conv1d_scratch(L, w, K), ax_g_conv1d_scratch(L, w, K));
	}
	case AX_OP_ADAPTIVE_INPUT: {
		int nb = ax_exec_adaptive_bands(&t->wx, op, bands);
		return ax_g_adaptive_input_scratch(t->max_tokens,
						   t->g->tensors[op->out].width, bands, nb);
	}
	case AX_OP_ADAPTIVE_SOFTMAX: {
		int nb = ax_exec_adaptive_bands(&t->wx, op, bands);
		return ax_g_adaptive_softmax_scratch(t->max_tokens, bands, nb);
	}
	default:
		return 0;
	}
}

/* Where each gradient is zeroed: instead of clearing the whole gradient
 * arena before the backward, a root tensor's rows are cleared just
 * before the first op (in reverse order) whose backward reads or adds
 * into it, while they are about to be in cache; the loss's tensors (the
 * logits, or the adaptive softmax's input) before the loss. */
static void place_zeroing(struct ax_trainer *t)
{
	const struct ax_graph *g = t->g;
	for (int32_t x = 0; x < g->n_tensors; x++)
		t->zero_at[x] = -1;
	t->zero_at[root(g, g->logits)] = g->n_ops;
	const struct ax_op *last = &g->ops[g->n_ops - 1];
	if (last->kind == AX_OP_ADAPTIVE_SOFTMAX)
		t->zero_at[root(g, last->in[0])] = g->n_ops;
	for (int32_t i = g->n_ops - 1; i >= 0; i--) {
		const struct ax_op *op = &g->ops[i];
		int32_t touched[AX_OP_MAX_IN + 1] = { op->out };
		memcpy(touched + 1, op->in, sizeof op->in);
		for (int k = 0; k <= AX_OP_MAX_IN; k++)
			if (touched[k] >= 0 && t->zero_at[root(g, touched[k])] < 0)
				t->zero_at[root(g, touched[k])] = i;
	}
	if (t->fused_loss) {   /* the fused loss sets the logits' gradient */
		t->zero_at[root(g, last->in[0])] = -2;
		t->zero_at[root(g, g->logits)] = -2;
	}
}

/* The per-op LIGHTCONV kernel buffer and the shared scratch and mask. */
static bool alloc_op_state(struct ax_trainer *t)
{
	const struct ax_graph *g = t->g;
	int64_t nwn = 0, hk = 0;
	t->wn_off = malloc(((size_t)g->n_ops + 1) * sizeof *t->wn_off);
	if (!t->wn_off)
		return false;
	t->scratch_size = 0;
	for (int32_t i = 0; i < g->n_ops; i++) {
		t->wn_off[i] = -1;
		if (g->ops[i].kind == AX_OP_LIGHTCONV) {
			t->wn_off[i] = nwn;
			nwn += g->ops[i].heads * g->ops[i].kernel;
		}
		int64_t c = 0;
		t->scratch_size = imax(t->scratch_size, op_scratch(t, i, &c));
		hk = imax(hk, c);
	}
	t->mask_cols = hk;
	t->wn = ax_alloc_floats(nwn);
	t->scratch = ax_alloc_floats(t->scratch_size);
	t->mask = ax_alloc_floats(t->hp.weight_dropout > 0.0 ? t->max_tokens * hk : 0);
	t->xdrop = ax_alloc_floats(t->max_tokens * t->xdrop_cols);
	return t->wn && t->scratch && t->mask && t->xdrop;
}

static enum ax_status alloc_state(struct ax_trainer *t, struct ax_diag *d)
{
	const struct ax_graph *g = t->g;
	int32_t nt = g->n_tensors;
	int64_t *rows = calloc((size_t)nt + 1, sizeof *rows);
	bool *keep = calloc((size_t)nt + 1, sizeof *keep);
	enum ax_status st = AX_ERR_NOMEM;
	if (!rows || !keep)
		goto out;
	for (int32_t i = 0; i < nt; i++) {
		rows[i] = t->max_tokens;
		keep[i] = true;   /* every activation is saved for the backward */
	}
	if ((st = ax_plan_build(&t->plan, g, rows, keep, d)) != AX_OK)
		goto out;
	st = AX_ERR_NOMEM;
	int64_t n = t->wx.n_weights, cap = t->max_tokens;
	t->grad = ax_alloc_floats(n);
	t->m = ax_alloc_floats(n);
	t->v = ax_alloc_floats(n);
	t->act = ax_alloc_floats(t->plan.total);
	t->dact = ax_alloc_floats(t->plan.total);
	bool ops_ok = alloc_op_state(t);
	t->batch.src_off = calloc((size_t)cap + 1, sizeof(int64_t));
	t->batch.tgt_off = calloc((size_t)cap + 1, sizeof(int64_t));
	t->batch.src = calloc((size_t)cap, sizeof(int32_t));
	t->batch.tgt_in = calloc((size_t)cap, sizeof(int32_t));
	t->batch.tgt_out = calloc((size_t)cap, sizeof(int32_t));
	if (t->grad && t->m && t->v && t->act && t->dact && ops_ok &&
	    t->batch.src_off && t->batch.tgt_off && t->batch.src &&
	    t->batch.tgt_in && t->batch.tgt_out)
		st = AX_OK;
out:
	free(rows);
	free(keep);
	if (st == AX_ERR_NOMEM)
		ax_diag_set(d, st, "", 0, 0, "trainer: cannot allocate its arenas");
	return st;
}

enum ax_status ax_train_init(struct ax_trainer *t, const struct ax_graph *g,
			     const struct ax_train_hparams *hp, int64_t max_len,
			     struct ax_diag *d)
{
	memset(t, 0, sizeof *t);
	t->g = g;
	t->hp = *hp;
	t->max_tokens = hp->max_tokens;
	t->max_len = max_len < hp->max_tokens ? max_len : hp->max_tokens;
	enum ax_status st = check_ops(g, d);
	if (st != AX_OK)
		return st;
	struct ax_exec_opts o = { .mode = AX_MODE_SEQUENCE, .batch = 1,
				  .max_src = 1, .max_tgt = 1 };
	if ((st = ax_exec_init(&t->wx, g, &o, d)) != AX_OK)
		return st;
	ax_exec_init_weights(&t->wx, hp->seed);
	t->decay = calloc((size_t)g->n_params + 1, sizeof *t->decay);
	t->ld = calloc((size_t)g->n_tensors + 1, sizeof *t->ld);
	t->p_out = calloc((size_t)g->n_ops + 1, sizeof *t->p_out);
	t->p_branch = calloc((size_t)g->n_ops + 1, sizeof *t->p_branch);
	t->p_in = calloc((size_t)g->n_ops + 1, sizeof *t->p_in);
	t->zero_at = calloc((size_t)g->n_tensors + 1, sizeof *t->zero_at);
	if (!t->decay || !t->ld || !t->p_out || !t->p_branch || !t->p_in ||
	    !t->zero_at) {
		ax_train_free(t);
		return ax_diag_set(d, AX_ERR_NOMEM, "", 0, 0, "out of memory");
	}
	for (int32_t p = 0; p < g->n_params; p++)
		t->decay[p] = g->params[p].kind != AX_PARAM_BIAS &&
			      g->params[p].kind != AX_PARAM_NORM;
	for (int32_t i = 0; i < g->n_tensors; i++)
		t->ld[i] = g->tensors[root(g, i)].width;
	place_dropout(t);
	for (int32_t i = 0; i < g->n_ops; i++)
		if (t->p_in[i] > 0.0f)
			t->xdrop_cols = imax(t->xdrop_cols,
					     g->tensors[g->ops[i].in[0]].width);
	t->fused_loss = g->ops[g->n_ops - 1].kind == AX_OP_LOG_SOFTMAX;
	place_zeroing(t);
	if ((st = alloc_state(t, d)) != AX_OK)
		ax_train_free(t);
	return st;
}

void ax_train_free(struct ax_trainer *t)
{
	ax_exec_free(&t->wx);
	ax_plan_free(&t->plan);
	free(t->grad), free(t->m), free(t->v), free(t->decay);
	free(t->act), free(t->dact), free(t->ld), free(t->p_out);
	free(t->p_branch), free(t->scratch), free(t->wn), free(t->wn_off);
	free(t->mask), free(t->zero_at), free(t->p_in), free(t->xdrop);
	free(t->batch.src_off), free(t->batch.tgt_off), free(t->batch.src);
	free(t->batch.tgt_in), free(t->batch.tgt_out);
	memset(t, 0, sizeof *t);
}

/* --- addressing ----------------------------------------------------------- */

static float *act(const struct ax_trainer *t, int32_t x)
{
	return t->act + t->plan.offset[x];
}

static float *dact(const struct ax_trainer *t, int32_t x)
{
	return t->dact + t->plan.offset[x];
}

static float *prm(const struct ax_trainer *t, const struct ax_op *op, int s)
{
	return op->param[s] >= 0 ? t->wx.weights + t->wx.param_off[op->param[s]] : NULL;
}

static float *dprm(const struct ax_trainer *t, const struct ax_op *op, int s)
{
	return op->param[s] >= 0 ? t->grad + t->wx.param_off[op->param[s]] : NULL;
}

static bool on_src(const struct ax_trainer *t, int32_t x)
{
	return t->g->tensors[x].len == AX_LEN_SRC;
}

static int64_t nrows(const struct ax_trainer *t, int32_t x)
{
	return on_src(t, x) ? t->batch.n_src : t->batch.n_tgt;
}

static const int64_t *segs(const struct ax_trainer *t, int32_t x)
{
	return on_src(t, x) ? t->batch.src_off : t->batch.tgt_off;
}

static uint64_t site_key(const struct ax_trainer *t, int32_t i, int64_t seg)
{
	return ax_g_key(t->hp.seed, (uint64_t)t->step,
			((uint64_t)i << 32) ^ (uint64_t)(seg + 1));
}

static float rate(const struct ax_trainer *t, float p)
{
	return t->training ? p : 0.0f;
}

/* --- forward -------------------------------------------------------------- */

static enum ax_status fwd_embed(struct ax_trainer *t, int32_t i, struct ax_diag *d)
{
	const struct ax_op *op = &t->g->ops[i];
	const struct ax_param *tab = &t->g->params[op->param[0]];
	const int32_t *tok = on_src(t, op->out) ? t->batch.src : t->batch.tgt_in;
	const int64_t *off = segs(t, op->out);
	float *y = act(t, op->out);
	int64_t ld = t->ld[op->out], w = tab->cols;
	for (int64_t s = 0; s < t->batch.n; s++) {
		enum ax_status st = ax_k_embed(y + off[s] * ld, ld, prm(t, op, 0),
					       tab->rows, tok + off[s],
					       off[s + 1] - off[s], w,
					       sqrtf((float)w), 0,
					       (enum ax_sinusoid_kind)op->pos);
		if (st != AX_OK)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "token id out of range 0..%lld",
					   (long long)tab->rows - 1);
	}
	const float *space = prm(t, op, 1);
	int64_t n = nrows(t, op->out);
	for (int64_t r = 0; space && r < n; r++)
		for (int64_t c = 0; c < w; c++)
			y[r * ld + c] += space[c];
	ax_g_dropout(y, ld, n, w, site_key(t, i, -1), rate(t, t->p_out[i]));
	return AX_OK;
}

static void fwd_attention(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	const int64_t *qo = segs(t, op->out), *ko = segs(t, op->in[1]);
	int64_t w = t->g->tensors[op->out].width;
	int64_t lo = t->ld[op->out], lq = t->ld[op->in[0]];
	int64_t lk = t->ld[op->in[1]], lv = t->ld[op->in[2]];
	float p = rate(t, (float)t->hp.attention_dropout);
	for (int64_t s = 0; s < t->batch.n; s++)
		ax_g_attention_fwd(act(t, op->out) + qo[s] * lo, lo,
				   act(t, op->in[0]) + qo[s] * lq, lq,
				   act(t, op->in[1]) + ko[s] * lk, lk,
				   act(t, op->in[2]) + ko[s] * lv, lv,
				   qo[s + 1] - qo[s], ko[s + 1] - ko[s], w,
				   op->heads, op->causal, site_key(t, i, s), p,
				   t->scratch);
}

/* The DropConnect mask of light / dynamic conv op i over all n rows,
 * (n, H*K), or NULL without weight dropout (or outside training). The
 * backward calls this again and gets the same mask. */
static const float *conv_mask(struct ax_trainer *t, int32_t i, int64_t n)
{
	const struct ax_op *op = &t->g->ops[i];
	float p = rate(t, (float)t->hp.weight_dropout);
	int64_t hk = op->heads * op->kernel;
	if (p <= 0.0f || (op->kind != AX_OP_LIGHTCONV && op->kind != AX_OP_DYNCONV))
		return NULL;
	uint64_t key = site_key(t, i, -2);
	for (int64_t e = 0; e < n * hk; e++)
		t->mask[e] = ax_g_keep(key, (uint64_t)e, p);
	return t->mask;
}

/* A conv op (LIGHTCONV, DYNCONV, DWCONV, CONV1D), one sentence at a time:
 * zero padding at both ends of each sentence, as the executor. */
static void fwd_conv(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	int32_t o = op->out, a = op->in[0], kb = op->in[1];
	const int64_t *off = segs(t, o);
	int64_t c = t->g->tensors[o].width, ci = t->g->tensors[a].width;
	int64_t H = op->heads, K = op->kernel, P = op->pad_left, hk = H * K;
	const float *mask = conv_mask(t, i, nrows(t, o));
	const float *wn = NULL;
	if (op->kind == AX_OP_LIGHTCONV) {
		ax_k_lightconv_weights(t->wn + t->wn_off[i], prm(t, op, 0), H, K);
		wn = t->wn + t->wn_off[i];
	}
	for (int64_t s = 0; s < t->batch.n; s++) {
		int64_t N = off[s + 1] - off[s], lo = t->ld[o], la = t->ld[a];
		float *y = act(t, o) + off[s] * lo;
		const float *x = act(t, a) + off[s] * la;
		const float *kl = kb >= 0 ? act(t, kb) + off[s] * t->ld[kb] : NULL;
		int64_t lk = kb >= 0 ? t->ld[kb] : 0;
		if (mask)
			ax_g_convdrop(y, lo, x, la, wn, kl, lk, mask + off[s] * hk, hk,
				      N, c, H, K, P, t->scratch, NULL);
		else if (op->kind == AX_OP_LIGHTCONV)
			ax_k_lightconv(y, lo, x, la, wn, N, c, H, K, P, NULL);
		else if (op->kind == AX_OP_DYNCONV)
			ax_k_dynconv(y, lo, x, la, kl, lk, N, c, H, K, P, t->scratch, NULL);
		else if (op->kind == AX_OP_DWCONV)
			ax_k_dwconv(y, lo, x, la, prm(t, op, 0), N, c, K, P, NULL);
		else
			ax_k_conv1d(y, lo, x, la, prm(t, op, 0), prm(t, op, 1), N, ci,
				    c, K, P, t->scratch, NULL);
	}
}

/* The gradient buffers of an adaptive op's bands (tied tables and
 * projections share their owner's, so both sides add into them). */
static int band_grads(const struct ax_trainer *t, const struct ax_op *op,
		      struct ax_k_band *bands, struct ax_g_band_grad *gb)
{
	int nb = ax_exec_adaptive_bands(&t->wx, op, bands);
	for (int b = 0; b < nb; b++)
		gb[b] = (struct ax_g_band_grad){ .dtable = dprm(t, op, 2 * b),
						 .dproj = dprm(t, op, 2 * b + 1) };
	return nb;
}

/* Adaptive input, one sentence at a time (positions restart), then the
 * embedding dropout. */
static enum ax_status fwd_adaptive_input(struct ax_trainer *t, int32_t i,
					 struct ax_diag *d)
{
	const struct ax_op *op = &t->g->ops[i];
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	int nb = ax_exec_adaptive_bands(&t->wx, op, bands);
	const int32_t *tok = on_src(t, op->out) ? t->batch.src : t->batch.tgt_in;
	const int64_t *off = segs(t, op->out);
	float *y = act(t, op->out);
	int64_t ld = t->ld[op->out], w = t->g->tensors[op->out].width;
	for (int64_t s = 0; s < t->batch.n; s++)
		if (ax_k_adaptive_input(y + off[s] * ld, ld, tok + off[s], bands, nb,
					off[s + 1] - off[s], w, sqrtf((float)w), 0,
					(enum ax_sinusoid_kind)op->pos, NULL) != AX_OK)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "token id out of the adaptive bands");
	ax_g_dropout(y, ld, nrows(t, op->out), w, site_key(t, i, -1),
		     rate(t, t->p_out[i]));
	return AX_OK;
}

/* Op i's in[0] with its input dropout (p_in): a dropped copy in xdrop,
 * whose row stride goes to *ld; in[0] itself without one (or outside
 * training). The backward calls this again and gets the same copy. */
static const float *input_dropped(struct ax_trainer *t, int32_t i, int64_t *ld)
{
	const struct ax_op *op = &t->g->ops[i];
	int32_t a = op->in[0];
	float p = rate(t, t->p_in[i]);
	if (p <= 0.0f)
		return act(t, a);
	int64_t n = nrows(t, a), w = t->g->tensors[a].width;
	for (int64_t r = 0; r < n; r++)
		memcpy(t->xdrop + r * w, act(t, a) + r * t->ld[a],
		       (size_t)w * sizeof *t->xdrop);
	ax_g_dropout(t->xdrop, w, n, w, site_key(t, i, -3), p);
	*ld = w;
	return t->xdrop;
}

/* Backward of a LINEAR with input dropout: dW and db from the regenerated
 * dropped input, then dx (+)= mask o (dy W), the product going through
 * xdrop. */
static void bwd_linear_dropped(struct ax_trainer *t, int32_t i, bool set)
{
	const struct ax_graph *g = t->g;
	const struct ax_op *op = &g->ops[i];
	int32_t o = op->out, a = op->in[0];
	int64_t n = nrows(t, o), w = g->tensors[o].width, wi = g->tensors[a].width;
	int64_t lx = wi;
	const float *x = input_dropped(t, i, &lx);
	ax_g_linear(NULL, 0, dprm(t, op, 0), dprm(t, op, 1), dact(t, o),
		    t->ld[o], x, lx, prm(t, op, 0), n, wi, w, false);
	ax_g_linear(t->xdrop, wi, NULL, NULL, dact(t, o), t->ld[o], NULL, 0,
		    prm(t, op, 0), n, wi, w, true);
	ax_g_dropout(t->xdrop, wi, n, wi, site_key(t, i, -3), rate(t, t->p_in[i]));
	float *dx = dact(t, a);
	for (int64_t r = 0; r < n; r++) {
		float *dr = dx + r * t->ld[a];
		const float *sr = t->xdrop + r * wi;
		for (int64_t c = 0; c < wi; c++)
			dr[c] = set ? sr[c] : dr[c] + sr[c];
	}
}

/* Wall time, for the profile. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The training forward of op i. */
static enum ax_status fwd_op(struct ax_trainer *t, int32_t i, struct ax_diag *d)
{
	const struct ax_graph *g = t->g;
	const struct ax_op *op = &g->ops[i];
	int32_t o = op->out, a = op->in[0], b = op->in[1];
	int64_t n = nrows(t, o), w = g->tensors[o].width;
	switch (op->kind) {
	case AX_OP_EMBED: {
		enum ax_status st = fwd_embed(t, i, d);
		if (st != AX_OK)
			return st;
		break;
	}
	case AX_OP_LINEAR: {
		int64_t lx = t->ld[a];
		const float *x = input_dropped(t, i, &lx);
		ax_k_linear(act(t, o), t->ld[o], x, lx, prm(t, op, 0),
			    prm(t, op, 1), n, g->tensors[a].width, w, NULL);
		break;
	}
	case AX_OP_LAYERNORM:
		ax_k_layernorm(act(t, o), t->ld[o], act(t, a), t->ld[a],
			       prm(t, op, 0), prm(t, op, 1), n, w,
			       (float)op->eps);
		break;
	case AX_OP_ATTENTION:
		fwd_attention(t, i);
		break;
	case AX_OP_RELU:
		ax_k_relu(act(t, o), t->ld[o], act(t, a), t->ld[a], n, w);
		ax_g_dropout(act(t, o), t->ld[o], n, w, site_key(t, i, -1),
			     rate(t, t->p_out[i]));
		break;
	case AX_OP_ADD:
		ax_g_dropout(act(t, b), t->ld[b], n, g->tensors[b].width,
			     site_key(t, i, -1), rate(t, t->p_branch[i]));
		ax_k_add(act(t, o), t->ld[o], act(t, a), t->ld[a], act(t, b),
			 t->ld[b], n, w, g->tensors[b].width);
		break;
	case AX_OP_LOG_SOFTMAX:
		ax_k_log_softmax(act(t, o), t->ld[o], act(t, a), t->ld[a], n, w);
		break;
	case AX_OP_LIGHTCONV: case AX_OP_DYNCONV: case AX_OP_DWCONV:
	case AX_OP_CONV1D:
		fwd_conv(t, i);
		break;
	case AX_OP_GLU:
		ax_k_glu(act(t, o), t->ld[o], act(t, a), t->ld[a], n, w);
		break;
	case AX_OP_SWISH:
		ax_k_swish(act(t, o), t->ld[o], act(t, a), t->ld[a], n, w);
		break;
	case AX_OP_ADAPTIVE_INPUT: {
		enum ax_status st = fwd_adaptive_input(t, i, d);
		if (st != AX_OK)
			return st;
		break;
	}
	case AX_OP_ADAPTIVE_SOFTMAX:
		break;   /* fused with the loss (loss_of) */
	default:   /* refused by check_ops() */
		return ax_diag_set(d, AX_ERR_INTERNAL, "", 0, 0,
				   "op kind '%s' has no training forward",
				   kind_name(op->kind));
	}
	return AX_OK;
}

/* The products of a LINEAR op's forward (the backward does twice as many). */
static int64_t linear_macs(const struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	return nrows(t, op->out) * t->g->tensors[op->in[0]].width *
	       t->g->tensors[op->out].width;
}

static enum ax_status forward(struct ax_trainer *t, struct ax_diag *d)
{
	const struct ax_graph *g = t->g;
	bool prof = t->prof.on && t->training;
	/* a fused final log-softmax runs inside the loss (loss_of) */
	int32_t n_ops = g->n_ops - (t->fused_loss ? 1 : 0);
	for (int32_t i = 0; i < n_ops; i++) {
		double t0 = prof ? now_s() : 0.0;
		enum ax_status st = fwd_op(t, i, d);
		if (st != AX_OK)
			return st;
		if (!prof)
			continue;
		t->prof.fwd_s[g->ops[i].kind] += now_s() - t0;
		if (g->ops[i].kind == AX_OP_LINEAR)
			t->prof.linear_macs += linear_macs(t, i);
	}
	return AX_OK;
}

/* --- backward -------------------------------------------------------------- */

static void bwd_embed(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	const int32_t *tok = on_src(t, op->out) ? t->batch.src : t->batch.tgt_in;
	int64_t n = nrows(t, op->out), ld = t->ld[op->out];
	int64_t w = t->g->tensors[op->out].width;
	float *dy = dact(t, op->out);
	ax_g_dropout(dy, ld, n, w, site_key(t, i, -1), rate(t, t->p_out[i]));
	int32_t pad = op->pos == AX_POS_T2T ? 0 : AX_G_PAD;
	ax_g_embed(dprm(t, op, 0), dy, ld, tok, n, w, sqrtf((float)w), pad);
	float *dspace = dprm(t, op, 1);
	for (int64_t r = 0; dspace && r < n; r++)
		for (int64_t c = 0; c < w; c++)
			dspace[c] += dy[r * ld + c];
}

static void bwd_attention(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	const int64_t *qo = segs(t, op->out), *ko = segs(t, op->in[1]);
	int32_t q = op->in[0], k = op->in[1], v = op->in[2], o = op->out;
	int64_t w = t->g->tensors[o].width;
	float p = rate(t, (float)t->hp.attention_dropout);
	for (int64_t s = 0; s < t->batch.n; s++)
		ax_g_attention(dact(t, q) + qo[s] * t->ld[q], t->ld[q],
			       dact(t, k) + ko[s] * t->ld[k], t->ld[k],
			       dact(t, v) + ko[s] * t->ld[v], t->ld[v],
			       dact(t, o) + qo[s] * t->ld[o], t->ld[o],
			       act(t, q) + qo[s] * t->ld[q], t->ld[q],
			       act(t, k) + ko[s] * t->ld[k], t->ld[k],
			       act(t, v) + ko[s] * t->ld[v], t->ld[v],
			       qo[s + 1] - qo[s], ko[s + 1] - ko[s], w, op->heads,
			       op->causal, site_key(t, i, s), p, t->scratch);
}

/* Backward of a conv op, per sentence, with the forward's mask. */
static void bwd_conv(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	int32_t o = op->out, a = op->in[0], kb = op->in[1];
	const int64_t *off = segs(t, o);
	int64_t c = t->g->tensors[o].width, ci = t->g->tensors[a].width;
	int64_t H = op->heads, K = op->kernel, P = op->pad_left, hk = H * K;
	const float *mask = conv_mask(t, i, nrows(t, o));
	const float *wn = t->wn_off[i] >= 0 ? t->wn + t->wn_off[i] : NULL;
	for (int64_t s = 0; s < t->batch.n; s++) {
		int64_t N = off[s + 1] - off[s], lo = t->ld[o], la = t->ld[a];
		int64_t lk = kb >= 0 ? t->ld[kb] : 0, r = off[s];
		const float *dy = dact(t, o) + r * lo, *x = act(t, a) + r * la;
		float *dx = dact(t, a) + r * la;
		const float *m = mask ? mask + r * hk : NULL;
		switch (op->kind) {
		case AX_OP_LIGHTCONV:
			ax_g_lightconv(dx, la, dprm(t, op, 0), dy, lo, x, la, wn, m, hk,
				       N, c, H, K, P, t->scratch, NULL);
			break;
		case AX_OP_DYNCONV:
			ax_g_dynconv(dx, la, dact(t, kb) + r * lk, lk, dy, lo, x, la,
				     act(t, kb) + r * lk, lk, m, hk, N, c, H, K, P,
				     t->scratch, NULL);
			break;
		case AX_OP_DWCONV:
			ax_g_dwconv(dx, la, dprm(t, op, 0), dy, lo, x, la, prm(t, op, 0),
				    N, c, K, P, NULL);
			break;
		default:
			ax_g_conv1d(dx, la, dprm(t, op, 0), dprm(t, op, 1), dy, lo, x,
				    la, prm(t, op, 0), N, ci, c, K, P, t->scratch, NULL);
			break;
		}
	}
}

/* Backward of the adaptive input over all rows: the embedding dropout's
 * mask, then the tables and projections (each band's local row 1 is
 * padding, as fairseq's nn.Embedding(padding_idx=1) per band). */
static void bwd_adaptive_input(struct ax_trainer *t, int32_t i)
{
	const struct ax_op *op = &t->g->ops[i];
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	struct ax_g_band_grad gb[AX_MAX_CUTOFFS + 1];
	int nb = band_grads(t, op, bands, gb);
	const int32_t *tok = on_src(t, op->out) ? t->batch.src : t->batch.tgt_in;
	int64_t n = nrows(t, op->out), ld = t->ld[op->out];
	int64_t w = t->g->tensors[op->out].width;
	float *dy = dact(t, op->out);
	ax_g_dropout(dy, ld, n, w, site_key(t, i, -1), rate(t, t->p_out[i]));
	ax_g_adaptive_input(gb, dy, ld, tok, bands, nb, n, w, sqrtf((float)w),
			    AX_G_PAD, t->scratch, NULL);
}

/* The backward of op i; bit k of `set`: the kernel overwrites the
 * gradient of in[k] (first_writes()), which was not zeroed. */
static void bwd_op(struct ax_trainer *t, int32_t i, unsigned set)
{
	const struct ax_graph *g = t->g;
	const struct ax_op *op = &g->ops[i];
	int32_t o = op->out, a = op->in[0], b = op->in[1];
	int64_t n = nrows(t, o), w = g->tensors[o].width;
	switch (op->kind) {
	case AX_OP_EMBED:
		bwd_embed(t, i);
		break;
	case AX_OP_LINEAR:
		if (rate(t, t->p_in[i]) > 0.0f) {
			bwd_linear_dropped(t, i, set & 1u);
			break;
		}
		ax_g_linear(dact(t, a), t->ld[a], dprm(t, op, 0), dprm(t, op, 1),
			    dact(t, o), t->ld[o], act(t, a), t->ld[a],
			    prm(t, op, 0), n, g->tensors[a].width, w, set & 1u);
		break;
	case AX_OP_LAYERNORM:
		ax_g_layernorm(dact(t, a), t->ld[a], dprm(t, op, 0),
			       dprm(t, op, 1), dact(t, o), t->ld[o], act(t, a),
			       t->ld[a], prm(t, op, 0), n, w, (float)op->eps,
			       set & 1u);
		break;
	case AX_OP_ATTENTION:
		bwd_attention(t, i);
		break;
	case AX_OP_RELU:
		ax_g_dropout(dact(t, o), t->ld[o], n, w, site_key(t, i, -1),
			     rate(t, t->p_out[i]));
		ax_g_relu(dact(t, a), t->ld[a], dact(t, o), t->ld[o],
			  act(t, o), t->ld[o], n, w, set & 1u);
		break;
	case AX_OP_ADD:
		ax_g_add(dact(t, a), t->ld[a], dact(t, b), t->ld[b], dact(t, o),
			 t->ld[o], n, w, g->tensors[b].width,
			 site_key(t, i, -1), rate(t, t->p_branch[i]), set & 1u,
			 set & 2u);
		break;
	case AX_OP_LOG_SOFTMAX:
		ax_g_log_softmax(dact(t, a), t->ld[a], dact(t, o), t->ld[o],
				 act(t, o), t->ld[o], n, w);
		break;
	case AX_OP_LIGHTCONV: case AX_OP_DYNCONV: case AX_OP_DWCONV:
	case AX_OP_CONV1D:
		bwd_conv(t, i);
		break;
	case AX_OP_GLU:
		ax_g_glu(dact(t, a), t->ld[a], dact(t, o), t->ld[o], act(t, a),
			 t->ld[a], n, w);
		break;
	case AX_OP_SWISH:
		ax_g_swish(dact(t, a), t->ld[a], dact(t, o), t->ld[o], act(t, a),
			   t->ld[a], n, w);
		break;
	case AX_OP_ADAPTIVE_INPUT:
		bwd_adaptive_input(t, i);
		break;
	case AX_OP_ADAPTIVE_SOFTMAX:   /* done with the loss (loss_of) */
	default:   /* refused by check_ops() */
		break;
	}
}

/* Whether op i's backward can overwrite (rather than add to) the
 * gradient of its input slot k: a kind with a `set` flag for that slot
 * (grad.h), writing every row and column of the root, not in place. */
static bool can_set(const struct ax_trainer *t, int32_t i, int k)
{
	const struct ax_graph *g = t->g;
	const struct ax_op *op = &g->ops[i];
	int32_t x = op->in[k];
	bool kind = ((op->kind == AX_OP_LINEAR || op->kind == AX_OP_LAYERNORM ||
		      op->kind == AX_OP_RELU) && k == 0) ||
		    (op->kind == AX_OP_ADD && k <= 1);
	return kind && x >= 0 && root(g, x) == x && root(g, op->out) != x &&
	       on_src(t, x) == on_src(t, op->out);
}

/* Clears the gradient rows of the root tensors place_zeroing put at
 * step `at` (an op index, or n_ops for the loss), except those the op's
 * backward overwrites: returned as bit k for in[k]. */
static unsigned zero_grads(struct ax_trainer *t, int32_t at)
{
	unsigned set = 0;
	const struct ax_graph *g = t->g;
	const struct ax_op *op = at < g->n_ops ? &g->ops[at] : NULL;
	int32_t cand[AX_OP_MAX_IN + 1] = { -1, -1, -1, -1 };
	if (op) {
		cand[0] = op->out;
		memcpy(cand + 1, op->in, sizeof op->in);
	} else {
		const struct ax_op *last = &g->ops[g->n_ops - 1];
		cand[0] = g->logits;
		cand[1] = last->kind == AX_OP_ADAPTIVE_SOFTMAX ? last->in[0] : -1;
	}
	for (int k = 0; k <= AX_OP_MAX_IN; k++) {
		int32_t r = cand[k] >= 0 ? root(g, cand[k]) : -1;
		if (r < 0 || t->zero_at[r] != at)
			continue;
		bool dup = false, other = false;   /* a root read twice */
		for (int j = 0; j <= AX_OP_MAX_IN; j++)
			if (j != k && cand[j] >= 0 && root(g, cand[j]) == r) {
				dup |= j < k;
				other |= j > k;
			}
		if (op && k >= 1 && !dup && !other && can_set(t, at, k - 1))
			set |= 1u << (k - 1);
		else if (!dup)
			memset(dact(t, r), 0,
			       (size_t)(nrows(t, r) * t->ld[r]) * sizeof(float));
	}
	return set;
}

static void backward(struct ax_trainer *t)
{
	const struct ax_graph *g = t->g;
	for (int32_t i = g->n_ops - 1 - (t->fused_loss ? 1 : 0); i >= 0; i--) {
		double t0 = t->prof.on ? now_s() : 0.0;
		bwd_op(t, i, zero_grads(t, i));
		if (!t->prof.on)
			continue;
		t->prof.bwd_s[g->ops[i].kind] += now_s() - t0;
		if (g->ops[i].kind == AX_OP_LINEAR)
			t->prof.linear_macs += 2 * linear_macs(t, i);
	}
}

/* --- steps ------------------------------------------------------------------ */

double ax_train_lr(const struct ax_train_hparams *hp, int64_t u)
{
	if (u < hp->warmup)
		return hp->warmup_init_lr +
		       (double)u * (hp->lr - hp->warmup_init_lr) / (double)hp->warmup;
	double w = hp->warmup > 0 ? (double)hp->warmup : 1.0;
	return hp->lr * sqrt(w) / sqrt((double)(u > 0 ? u : 1));
}

/* The adaptive LM's loss: fairseq's adaptive_loss (NLL, no smoothing),
 * fused with its gradient into dact(h) and the band parameters. With
 * adaptive_softmax_dropout, fairseq's AdaptiveSoftmax drops its input h
 * (here a copy: input_dropped) and each tail's projection (inside the
 * kernel); dact(h) holds only this gradient yet (zeroed just before), so
 * the input mask is applied to it in place. */
static double adaptive_loss(struct ax_trainer *t, bool grad, float scale,
			    double *nll)
{
	int32_t i = t->g->n_ops - 1;
	const struct ax_op *op = &t->g->ops[i];
	struct ax_k_band bands[AX_MAX_CUTOFFS + 1];
	struct ax_g_band_grad gb[AX_MAX_CUTOFFS + 1];
	int nb = band_grads(t, op, bands, gb);
	int32_t h = op->in[0];
	int64_t lx = t->ld[h], n = t->batch.n_tgt, w = t->g->tensors[h].width;
	const float *x = input_dropped(t, i, &lx);
	float p = rate(t, t->p_in[i]);
	*nll = 0.0;
	ax_g_adaptive_softmax_drop(grad ? dact(t, h) : NULL, t->ld[h], gb,
				   dprm(t, op, 1), nll, scale, t->batch.tgt_out,
				   x, lx, bands, nb, prm(t, op, 1), n, w,
				   AX_G_PAD, site_key(t, i, -4), p, t->scratch,
				   NULL);
	if (grad)
		ax_g_dropout(dact(t, h), t->ld[h], n, w, site_key(t, i, -3), p);
	return *nll;
}

static double loss_of(struct ax_trainer *t, bool grad, double *nll)
{
	const struct ax_graph *g = t->g;
	int32_t L = g->logits;
	int64_t V = g->tensors[L].width;
	float scale = 1.0f / (float)(t->batch.n_tgt > 0 ? t->batch.n_tgt : 1);
	if (g->ops[g->n_ops - 1].kind == AX_OP_ADAPTIVE_SOFTMAX)
		return adaptive_loss(t, grad, scale, nll);
	if (t->fused_loss) {   /* the logits: the log-softmax's input */
		int32_t z = g->ops[g->n_ops - 1].in[0];
		return ax_g_log_softmax_nll(grad ? dact(t, z) : NULL, t->ld[z],
					    act(t, z), t->ld[z],
					    t->batch.tgt_out, t->batch.n_tgt, V,
					    (float)t->hp.label_smoothing,
					    AX_G_PAD, scale, nll);
	}
	return ax_g_label_smoothed_nll(grad ? dact(t, L) : NULL, t->ld[L],
				       act(t, L), t->ld[L], t->batch.tgt_out,
				       t->batch.n_tgt, V,
				       (float)t->hp.label_smoothing, AX_G_PAD,
				       scale, nll);
}

/* sum_k x[k]^2 in double, in 8 interleaved partial sums (a fixed order:
 * the same bits every run) so that the loop vectorises. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
static double sum_squares(const float *x, int64_t n)
{
	double p[8] = { 0 };
	int64_t k = 0;
	for (; k + 8 <= n; k += 8)
		for (int l = 0; l < 8; l++)
			p[l] += (double)x[k + l] * x[k + l];
	double s = 0.0;
	for (int l = 0; l < 8; l++)
		s += p[l];
	for (; k < n; k++)
		s += (double)x[k] * x[k];
	return s;
}

enum ax_status ax_train_grad(struct ax_trainer *t, struct ax_train_stats *s,
			     struct ax_diag *d)
{
	t->training = true;
	enum ax_status st = forward(t, d);
	if (st != AX_OK)
		return st;
	double t0 = t->prof.on ? now_s() : 0.0;
	zero_grads(t, t->g->n_ops);   /* the rest: by backward() */
	memset(t->grad, 0, (size_t)t->wx.n_weights * sizeof *t->grad);
	double t1 = t->prof.on ? now_s() : 0.0;
	double nll, loss = loss_of(t, true, &nll);
	if (t->prof.on) {
		t->prof.zero_s += t1 - t0;
		t->prof.loss_s += now_s() - t1;
	}
	backward(t);
	t0 = t->prof.on ? now_s() : 0.0;
	double ss = sum_squares(t->grad, t->wx.n_weights);
	int64_t n = t->batch.n_tgt > 0 ? t->batch.n_tgt : 1;
	*s = (struct ax_train_stats){ .loss = loss / (double)n,
		.nll = nll / (double)n, .tokens = t->batch.n_tgt,
		.grad_norm = sqrt(ss), .lr = ax_train_lr(&t->hp, t->step) };
	if (t->prof.on)
		t->prof.optim_s += now_s() - t0;
	if (!isfinite(s->loss) || !isfinite(s->grad_norm))
		return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
				   "update %lld: the loss or gradient is not finite "
				   "(lower --lr)", (long long)t->step + 1);
	return AX_OK;
}

/* AdamW as torch.optim.AdamW: decoupled decay, bias-corrected moments. */
static void adamw(struct ax_trainer *t, double lr, float clip)
{
	const struct ax_train_hparams *hp = &t->hp;
	double step = (double)(t->step + 1);
	double bc1 = 1.0 - pow(hp->beta1, step), bc2 = 1.0 - pow(hp->beta2, step);
	float b1 = (float)hp->beta1, b2 = (float)hp->beta2;
	float a = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2));
	float eps = (float)hp->adam_eps;
	for (int32_t p = 0; p < t->g->n_params; p++) {
		const struct ax_param *pp = &t->g->params[p];
		int64_t o = t->wx.param_off[p], n = pp->rows * pp->cols;
		float *w = t->wx.weights + o, *g = t->grad + o;
		float *m = t->m + o, *v = t->v + o;
		float keep = t->decay[p] ? (float)(1.0 - lr * hp->weight_decay) : 1.0f;
		for (int64_t k = 0; k < n; k++) {
			float gk = g[k] * clip;
			w[k] *= keep;
			m[k] = b1 * m[k] + (1.0f - b1) * gk;
			v[k] = b2 * v[k] + (1.0f - b2) * gk * gk;
			w[k] -= a * m[k] / (sqrtf(v[k]) * rbc2 + eps);
		}
	}
}

enum ax_status ax_train_step(struct ax_trainer *t, struct ax_train_stats *s,
			     struct ax_diag *d)
{
	enum ax_status st = ax_train_grad(t, s, d);
	if (st != AX_OK)
		return st;
	float clip = 1.0f;
	if (t->hp.clip_norm > 0.0 && s->grad_norm > t->hp.clip_norm)
		clip = (float)(t->hp.clip_norm / (s->grad_norm + 1e-6));
	double t0 = t->prof.on ? now_s() : 0.0;
	adamw(t, s->lr, clip);
	if (t->prof.on) {
		t->prof.optim_s += now_s() - t0;
		t->prof.steps++;
	}
	t->step++;
	return AX_OK;
}

enum ax_status ax_train_eval(struct ax_trainer *t, double *loss, double *nll,
			     int64_t *tokens, struct ax_diag *d)
{
	t->training = false;
	enum ax_status st = forward(t, d);
	if (st != AX_OK)
		return st;
	double n;
	*loss += loss_of(t, false, &n);
	*nll += n;
	*tokens += t->batch.n_tgt;
	return AX_OK;
}
