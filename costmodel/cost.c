/*
 * cost.c - one cost function per op kind, and the sums over a graph.
 *
 * Formulas are per token of the stream an op runs on (docs/models.md §2-§6);
 * `rows` below is S or T. The conventions differ only where the table in
 * docs/models.md §8.3 says so; each case names what `paper` changes. Params are
 * counted at each parameter's owner op, so a tied matrix counts once.
 */
#include "cost.h"

#include <assert.h>
#include <stddef.h>
#include <inttypes.h>
#include <string.h>

const char *const ax_convention_names[] = {
	[AX_CONVENTION_EXACT] = "exact",
	[AX_CONVENTION_PAPER] = "paper",
};
static_assert(sizeof ax_convention_names / sizeof ax_convention_names[0] ==
		      AX_CONVENTION_COUNT, "every convention needs a name");

const char *const ax_mono_names[] = {
	[AX_MONO_1] = "1", [AX_MONO_S] = "S", [AX_MONO_T] = "T",
	[AX_MONO_SS] = "S^2", [AX_MONO_ST] = "S*T", [AX_MONO_TT] = "T^2",
};
static_assert(sizeof ax_mono_names / sizeof ax_mono_names[0] == AX_MONO_COUNT,
	      "every monomial needs a name");

/* --- polynomial helpers (all in half-units, see cost.h) ----------------- */

static struct ax_poly constant(int64_t c)
{
	return (struct ax_poly){ .h = { [AX_MONO_1] = 2 * c } };
}

/* c x (rows of stream len) */
static struct ax_poly per_row(enum ax_len len, int64_t c)
{
	struct ax_poly p = { 0 };
	p.h[len == AX_LEN_SRC ? AX_MONO_S : AX_MONO_T] = 2 * c;
	return p;
}

/* c x (query rows) x (keys each query sees). Sequence mode, and every
 * non-causal attention, see all keys: c * Nq * Nk. Incremental causal
 * decoding sees t keys at step t: c * sum_{t=1..T} t = c * (T^2 + T) / 2. */
static struct ax_poly per_pair(enum ax_len q, enum ax_len k, bool causal,
			       enum ax_mode mode, int64_t c)
{
	struct ax_poly p = { 0 };
	if (mode == AX_MODE_INCREMENTAL && causal && q == AX_LEN_TGT &&
	    k == AX_LEN_TGT) {
		p.h[AX_MONO_TT] = c;
		p.h[AX_MONO_T] = c;
		return p;
	}
	enum ax_mono m;
	if (q == AX_LEN_SRC && k == AX_LEN_SRC)
		m = AX_MONO_SS;
	else if (q == AX_LEN_TGT && k == AX_LEN_TGT)
		m = AX_MONO_TT;
	else
		m = AX_MONO_ST;
	p.h[m] = 2 * c;
	return p;
}

/* --- params ------------------------------------------------------------ */

int64_t ax_cost_param(const struct ax_param *p, enum ax_convention conv)
{
	if (conv == AX_CONVENTION_PAPER &&
	    (p->kind == AX_PARAM_EMBED_TABLE || p->kind == AX_PARAM_POSITION))
		return 0;  /* "we omit the word embedding lookup table" */
	return p->rows * p->cols;
}

/* Parameter slots an op may use (graph.h, AX_OP_MAX_PARAMS): two, or a
 * table and a projection per band for the adaptive ops; the rest are -1. */
static int param_slots(const struct ax_op *op)
{
	if (op->kind == AX_OP_ADAPTIVE_INPUT || op->kind == AX_OP_ADAPTIVE_SOFTMAX)
		return op->bands < AX_MAX_CUTOFFS + 1 ? 2 * (int)op->bands :
		       AX_OP_MAX_PARAMS;
	return 2;
}

/* --- bytes: fp32 activations read and written, weights read ------------- */

/* Weights are read once per execution of the op: once per sentence in
 * sequence mode, and once per step for target-stream ops in incremental
 * mode (which is why batch-1 decoding is bound by memory bandwidth).
 * n is the op's weight count, owned or not. */
static void weight_bytes(const struct ax_graph *g, const struct ax_op *op,
			 int64_t n, enum ax_mode mode, struct ax_poly *bytes)
{
	enum ax_len len = g->tensors[op->out].len;
	if (mode == AX_MODE_INCREMENTAL && len == AX_LEN_TGT) {
		struct ax_poly p = per_row(AX_LEN_TGT, 4 * n);
		ax_poly_add(bytes, &p);
	} else {
		struct ax_poly p = constant(4 * n);
		ax_poly_add(bytes, &p);
	}
}

/* Row-wise activations: each input and the output, width x rows. */
static void act_bytes(const struct ax_graph *g, const struct ax_op *op,
		      struct ax_poly *bytes)
{
	const struct ax_tensor *out = &g->tensors[op->out];
	struct ax_poly p = per_row(out->len, 4 * out->width);
	ax_poly_add(bytes, &p);
	for (int i = 0; i < AX_OP_MAX_IN; i++) {
		if (op->in[i] < 0)
			continue;
		const struct ax_tensor *t = &g->tensors[op->in[i]];
		p = per_row(t->len, 4 * t->width);
		ax_poly_add(bytes, &p);
	}
}

/* --- one op ------------------------------------------------------------ */

/* What every per-kind cost function below reads about its op. */
struct op_ctx {
	const struct ax_graph *g;
	const struct ax_op *op;
	const struct ax_tensor *in;   /* in0, NULL if unused */
	enum ax_len len;              /* the output's stream */
	int64_t w;                    /* the output's width */
	bool paper;
	enum ax_mode mode;
};

static void cost_embed(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* x = sqrt(d) E[tok] + PE: a scale and an add per element, plus one
	 * more add for the ET target-space row (param 1);
	 * paper: torchprofile's mul handler counts the scale as numel. */
	c->other_flops = per_row(x->len, (x->op->param[1] >= 0 ? 3 : 2) * x->w);
	if (x->paper)
		c->macs = per_row(x->len, x->w);
}

static void cost_linear(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* in x out MACs per row (exact and paper); the bias add is an add,
	 * not a MAC. paper excludes the output layer (§8.3). */
	if (!(x->paper && x->op->tag == AX_KIND_OUTPUT_PROJ))
		c->macs = per_row(x->len, x->in->width * x->w);
	if (x->op->param[1] >= 0)
		c->other_flops = per_row(x->len, x->w);
}

static void cost_layernorm(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* exact: 7 flops per element; paper: numel MACs (2019 handler) */
	c->other_flops = per_row(x->len, 7 * x->w);
	if (x->paper)
		c->macs = per_row(x->len, x->w);
}

static void cost_attention(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* QK^T and AV: N_k x w MACs each per query, whatever H is. Sequence
	 * mode counts the full causal square (the executor runs a dense
	 * masked matmul); incremental sees t keys at step t. */
	const struct ax_op *op = x->op;
	enum ax_len k = x->g->tensors[op->in[1]].len;
	struct ax_poly t;
	c->macs = per_pair(x->len, k, op->causal, x->mode, 2 * x->w);
	/* q scaling (w per query) + softmax (5 per score) */
	t = per_row(x->len, x->w);
	ax_poly_add(&c->other_flops, &t);
	t = per_pair(x->len, k, op->causal, x->mode, 5 * op->heads);
	ax_poly_add(&c->other_flops, &t);
	/* scores written and read back: 8 bytes per score, per head */
	t = per_pair(x->len, k, op->causal, x->mode, 8 * op->heads);
	ax_poly_add(&c->bytes, &t);
	if (x->paper)
		c->aux_macs = per_row(x->len, x->w);
}

/* Light, dynamic, depthwise and standard convs. Every tap counts under
 * `exact`, the ones on the zero padding included (the executor's kernels
 * skip those and report them as skipped, kernels.h). */
static void cost_conv(const struct op_ctx *x, struct ax_op_cost *c)
{
	const struct ax_op *op = x->op;
	switch (op->kind) {
	case AX_OP_LIGHTCONV:
		/* c x K taps per row; the (H, K) weight is softmaxed once per
		 * evaluation. paper: 0 (a CUDA op no profiler sees, §8.3). */
		if (!x->paper)
			c->macs = per_row(x->len, x->w * op->kernel);
		c->other_flops = constant(5 * op->heads * op->kernel);
		break;
	case AX_OP_DYNCONV:
		/* c x K taps per row plus a softmax over K per head per row */
		if (!x->paper)
			c->macs = per_row(x->len, x->w * op->kernel);
		c->other_flops = per_row(x->len, 5 * op->heads * op->kernel);
		break;
	case AX_OP_DWCONV:
		/* ET depthwise: c x K MACs per row; no bias. Counted in both
		 * conventions: a port uses framework convs (docs/models.md §8.3). */
		c->macs = per_row(x->len, x->w * op->kernel);
		break;
	default:
		/* ET standard conv: K x C_in x C_out MACs per row, plus a bias
		 * add of C_out; counted in both conventions. */
		c->macs = per_row(x->len, op->kernel * x->in->width * x->w);
		c->other_flops = per_row(x->len, x->w);
		break;
	}
}

/* GLU, ReLU, swish, add, log-softmax: no `exact` MACs. */
static void cost_elementwise(const struct op_ctx *x, struct ax_op_cost *c)
{
	const struct ax_op *op = x->op;
	switch (op->kind) {
	case AX_OP_GLU:
		/* a * sigmoid(b): sigmoid 3 + mul 1 per output element.
		 * paper: F.glu has no handler, 0. */
		c->other_flops = per_row(x->len, 4 * x->w);
		break;
	case AX_OP_RELU:
		c->other_flops = per_row(x->len, x->w);
		break;
	case AX_OP_SWISH:
		/* z * sigmoid(z); paper: the mul is counted as numel */
		c->other_flops = per_row(x->len, 4 * x->w);
		if (x->paper)
			c->macs = per_row(x->len, x->w);
		break;
	case AX_OP_ADD: {
		/* one add per element of the narrower operand */
		int64_t w1 = op->in[1] >= 0 ? x->g->tensors[op->in[1]].width : x->w;
		c->other_flops = per_row(x->len, w1 < x->w ? w1 : x->w);
		break;
	}
	default:
		/* log-softmax, part of the output layer: excluded under paper
		 * anyway */
		c->other_flops = per_row(x->len, 5 * x->w);
		break;
	}
}

static void cost_adaptive_input(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* x = sqrt(d) P_b E_b[tok] + PE. A token costs d_b x d MACs in its
	 * own band b, which an analytic count cannot know: every token is
	 * counted in band 0, d_0 x d = d^2 MACs (the paper's rule too: its
	 * dummy ids lie in band 0, docs/models.md §8.3). This is an upper bound
	 * (d_b <= d_0); ax_cost_adaptive_input_delta() corrects it for known
	 * tokens. Scale and PE add: 2d flops; paper: the scale mul counted
	 * as numel. */
	const struct ax_param *p0 = &x->g->params[x->op->param[1]];
	c->macs = per_row(x->len, p0->rows * p0->cols);
	c->other_flops = per_row(x->len, 2 * x->w);
	if (x->paper)
		c->aux_macs = per_row(x->len, x->w);
}

static void cost_adaptive_softmax(const struct op_ctx *x, struct ax_op_cost *c)
{
	/* The full distribution (fairseq get_log_prob), per row:
	 *   head  d x (size_0 + bands - 1)       [E_0 h | W_cls h]
	 *   tail  d x d_b + d_b x size_b, b >= 1  E_b (P_b^T h)
	 * log-softmax 5 per head entry and 5 per tail entry, plus an add of
	 * the cluster log-prob per tail entry. Scoring a known target needs
	 * one tail only; we count what generation needs.
	 * paper: the output layer is excluded (docs/models.md §8.3). */
	const struct ax_graph *g = x->g;
	const struct ax_op *op = x->op;
	int64_t d = x->in->width, m = 0, f = 0;
	int64_t head = g->params[op->param[0]].rows + op->bands - 1;
	m += d * head;
	f += 5 * head;
	for (int b = 1; b < op->bands; b++) {
		const struct ax_param *tab = &g->params[op->param[2 * b]];
		const struct ax_param *prj = &g->params[op->param[2 * b + 1]];
		m += prj->rows * prj->cols + tab->rows * tab->cols;
		f += 6 * tab->rows;
	}
	if (!x->paper)
		c->macs = per_row(x->len, m);
	c->other_flops = per_row(x->len, f);
}

/* Params at the op's owned slots, and the bytes of its weights and
 * activations. */
static void cost_params_bytes(const struct ax_graph *g, int32_t index,
			      enum ax_convention conv, enum ax_mode mode,
			      struct ax_op_cost *c)
{
	const struct ax_op *op = &g->ops[index];
	int64_t weights = 0;
	for (int i = 0, n = param_slots(op); i < n; i++) {
		int32_t p = op->param[i];
		if (p < 0)
			continue;
		weights += g->params[p].rows * g->params[p].cols;
		if (g->params[p].owner == index)
			c->params += ax_cost_param(&g->params[p], conv);
	}
	weight_bytes(g, op, weights, mode, &c->bytes);
	act_bytes(g, op, &c->bytes);
}

void ax_cost_op(const struct ax_graph *g, int32_t index, enum ax_convention conv,
		enum ax_mode mode, struct ax_op_cost *c)
{
	const struct ax_op *op = &g->ops[index];
	const struct op_ctx x = {
		.g = g, .op = op,
		.in = op->in[0] >= 0 ? &g->tensors[op->in[0]] : NULL,
		.len = g->tensors[op->out].len,
		.w = g->tensors[op->out].width,
		.paper = conv == AX_CONVENTION_PAPER,
		.mode = mode,
	};

	memset(c, 0, sizeof *c);
	cost_params_bytes(g, index, conv, mode, c);
	switch (op->kind) {
	case AX_OP_EMBED:
		cost_embed(&x, c);
		break;
	case AX_OP_LINEAR:
		cost_linear(&x, c);
		break;
	case AX_OP_LAYERNORM:
		cost_layernorm(&x, c);
		break;
	case AX_OP_ATTENTION:
		cost_attention(&x, c);
		break;
	case AX_OP_LIGHTCONV:
	case AX_OP_DYNCONV:
	case AX_OP_DWCONV:
	case AX_OP_CONV1D:
		cost_conv(&x, c);
		break;
	case AX_OP_GLU:
	case AX_OP_RELU:
	case AX_OP_SWISH:
	case AX_OP_ADD:
	case AX_OP_LOG_SOFTMAX:
		cost_elementwise(&x, c);
		break;
	case AX_OP_ADAPTIVE_INPUT:
		cost_adaptive_input(&x, c);
		break;
	case AX_OP_ADAPTIVE_SOFTMAX:
		cost_adaptive_softmax(&x, c);
		break;
	case AX_OP_KIND_COUNT:
		assert(!"not an op kind");
		break;
	}
}

/* --- a whole graph ----------------------------------------------------- */

void ax_cost_add_op(struct ax_cost *out, const struct ax_op *op,
		    const struct ax_op_cost *c)
{
	out->params += c->params;
	ax_poly_add(&out->macs, &c->macs);
	ax_poly_add(&out->macs, &c->aux_macs);
	ax_poly_add(&out->other_flops, &c->other_flops);
	ax_poly_add(&out->bytes, &c->bytes);
	ax_poly_add(&out->macs_by_kind[op->tag], &c->macs);
	ax_poly_add(&out->macs_by_kind[AX_KIND_ELEMENTWISE], &c->aux_macs);
	out->params_by_scope[op->scope] += c->params;
	ax_poly_add(&out->macs_by_scope[op->scope], &c->macs);
	ax_poly_add(&out->macs_by_scope[op->scope], &c->aux_macs);
}

void ax_cost_graph(const struct ax_graph *g, enum ax_convention conv,
		   enum ax_mode mode, struct ax_cost *out)
{
	/* everything but the unused layer slots (8 kB of 10 kB) */
	memset(out, 0, offsetof(struct ax_cost, layers));
	out->convention = conv;
	out->mode = mode;

	/* layer slots: encoder layers first, then decoder layers */
	int64_t n_enc = g->enc_layers, n_dec = g->dec_layers;
	out->n_layers = (int)(n_enc + n_dec);
	for (int i = 0; i < out->n_layers; i++)
		out->layers[i] = (struct ax_layer_cost){
			.scope = i < n_enc ? AX_SCOPE_ENCODER : AX_SCOPE_DECODER,
			.layer = (int16_t)(i < n_enc ? i : i - n_enc),
		};

	struct ax_op_cost c;
	for (int32_t i = 0; i < g->n_ops; i++) {
		const struct ax_op *op = &g->ops[i];
		ax_cost_op(g, i, conv, mode, &c);
		ax_cost_add_op(out, op, &c);
		if (op->layer >= 0 && (op->scope == AX_SCOPE_ENCODER ||
				       op->scope == AX_SCOPE_DECODER)) {
			int slot = op->scope == AX_SCOPE_ENCODER ? op->layer :
				   (int)n_enc + op->layer;
			if (slot < out->n_layers) {
				out->layers[slot].params += c.params;
				ax_poly_add(&out->layers[slot].macs, &c.macs);
				ax_poly_add(&out->layers[slot].macs, &c.aux_macs);
			}
		}
	}
}

enum ax_status ax_cost_check(const struct ax_cost *c, int64_t S, int64_t T,
			     struct ax_diag *d)
{
	const struct ax_poly *bad = NULL;
	const char *what = NULL;
	int64_t v;

	if (!ax_poly_eval_checked(&c->macs, S, T, &v))
		bad = &c->macs, what = "MACs";
	else if (!ax_poly_eval_checked(&c->other_flops, S, T, &v))
		bad = &c->other_flops, what = "other FLOPs";
	else if (!ax_poly_eval_checked(&c->bytes, S, T, &v))
		bad = &c->bytes, what = "bytes";
	for (int k = 0; !bad && k < AX_KIND_COUNT; k++)
		if (!ax_poly_eval_checked(&c->macs_by_kind[k], S, T, &v))
			bad = &c->macs_by_kind[k], what = ax_cost_kind_names[k];
	for (int k = 0; !bad && k < AX_SCOPE_COUNT; k++)
		if (!ax_poly_eval_checked(&c->macs_by_scope[k], S, T, &v))
			bad = &c->macs_by_scope[k], what = "MACs of a scope";
	for (int k = 0; !bad && k < c->n_layers; k++)
		if (!ax_poly_eval_checked(&c->layers[k].macs, S, T, &v))
			bad = &c->layers[k].macs, what = "MACs of a layer";
	if (!bad)
		return AX_OK;
	double x = 0;
	const double m[AX_MONO_COUNT] = {
		[AX_MONO_1] = 1, [AX_MONO_S] = (double)S, [AX_MONO_T] = (double)T,
		[AX_MONO_SS] = (double)S * (double)S,
		[AX_MONO_ST] = (double)S * (double)T,
		[AX_MONO_TT] = (double)T * (double)T,
	};
	for (int i = 0; i < AX_MONO_COUNT; i++)
		x += ax_poly_coef(bad, (enum ax_mono)i) * m[i];
	return ax_diag_set(d, AX_ERR_LIMIT, NULL, 0, 0,
			   "at S=%" PRId64 ", T=%" PRId64 " the %s count (about "
			   "%.3g) exceeds archex's limit of 2^62 = 4.6e+18 (counts "
			   "are int64 in half-units); use shorter lengths",
			   S, T, what, x);
}

int64_t ax_cost_adaptive_input_op_delta(const struct ax_graph *g, int32_t op,
					const int32_t *tokens, int64_t n)
{
	const struct ax_op *o = &g->ops[op];
	if (o->kind != AX_OP_ADAPTIVE_INPUT)
		return 0;
	int64_t delta = 0;
	int64_t d = g->tensors[o->out].width;
	int64_t d0 = g->params[o->param[0]].cols;
	for (int64_t t = 0; t < n; t++) {
		int64_t start = 0;
		for (int b = 0; b < o->bands; b++) {
			const struct ax_param *tab = &g->params[o->param[2 * b]];
			if (tokens[t] < start + tab->rows) {
				delta += (tab->cols - d0) * d;
				break;
			}
			start += tab->rows;
		}
	}
	return delta;
}

int64_t ax_cost_adaptive_input_delta(const struct ax_graph *g,
				     const int32_t *tokens, int64_t n)
{
	int64_t delta = 0;
	for (int32_t i = 0; i < g->n_ops; i++)
		delta += ax_cost_adaptive_input_op_delta(g, i, tokens, n);
	return delta;
}
