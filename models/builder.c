/*
 * builder.c - appending ops to an op list, and the blocks every family
 * shares (see builder.h). Each block follows the equation it names in
 * docs/models.md; no block computes a cost: costs come from costmodel/.
 */
#include "builder.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Grows *arr (of elements of size `size`) to hold n+1; false on OOM. */
static bool grow(void **arr, int32_t n, int32_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	int32_t ncap = *cap ? *cap * 2 : 64;
	if (ncap <= n || (size_t)ncap > SIZE_MAX / size)
		return false;
	void *p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

static bool fail(struct ax_builder *b)
{
	if (b->status == AX_OK)
		b->status = AX_ERR_NOMEM;
	return false;
}

int32_t ax_b_tensor(struct ax_builder *b, enum ax_len len, int64_t width,
		    const char *role)
{
	struct ax_graph *g = b->g;
	if (b->status != AX_OK)
		return -1;
	if (!grow((void **)&g->tensors, g->n_tensors, &g->cap_tensors,
		  sizeof *g->tensors))
		return fail(b), -1;
	g->tensors[g->n_tensors] = (struct ax_tensor){
		.scope = b->scope, .layer = b->layer, .block = b->block,
		.role = role, .len = len, .width = width, .parent = -1,
	};
	return g->n_tensors++;
}

int32_t ax_b_view(struct ax_builder *b, int32_t parent, int64_t offset,
		  int64_t width, const char *role)
{
	if (parent < 0)
		return -1;
	enum ax_len len = b->g->tensors[parent].len;
	int32_t t = ax_b_tensor(b, len, width, role);
	if (t < 0)
		return -1;
	struct ax_tensor *p = &b->g->tensors[parent];
	/* Views of views collapse onto the root, so the executor needs one
	 * level of indirection only. */
	b->g->tensors[t].parent = p->parent >= 0 ? p->parent : parent;
	b->g->tensors[t].offset = p->offset + offset;
	return t;
}

int32_t ax_b_param(struct ax_builder *b, enum ax_param_kind kind,
		   int64_t rows, int64_t cols, const char *role)
{
	struct ax_graph *g = b->g;
	if (b->status != AX_OK)
		return -1;
	if (!grow((void **)&g->params, g->n_params, &g->cap_params,
		  sizeof *g->params))
		return fail(b), -1;
	g->params[g->n_params] = (struct ax_param){
		.scope = b->scope, .layer = b->layer, .block = b->block,
		.role = role, .kind = kind, .rows = rows, .cols = cols,
		.owner = -1,
	};
	return g->n_params++;
}

int32_t ax_b_op(struct ax_builder *b, enum ax_op_kind kind,
		enum ax_cost_kind tag, const char *role)
{
	struct ax_graph *g = b->g;
	if (b->status != AX_OK)
		return -1;
	if (!grow((void **)&g->ops, g->n_ops, &g->cap_ops, sizeof *g->ops))
		return fail(b), -1;
	struct ax_op *op = &g->ops[g->n_ops];
	*op = (struct ax_op){
		.kind = kind, .tag = tag, .scope = b->scope, .layer = b->layer,
		.block = b->block, .role = role, .in = {-1, -1, -1}, .out = -1,
	};
	for (int i = 0; i < AX_OP_MAX_PARAMS; i++)
		op->param[i] = -1;
	return g->n_ops++;
}

void ax_b_use_param(struct ax_builder *b, int32_t op, int slot, int32_t p)
{
	if (op < 0 || p < 0)
		return;
	b->g->ops[op].param[slot] = p;
	if (b->g->params[p].owner < 0)
		b->g->params[p].owner = op;
}

static int64_t width_of(const struct ax_builder *b, int32_t t)
{
	return t >= 0 ? b->g->tensors[t].width : 0;
}

static enum ax_len len_of(const struct ax_builder *b, int32_t t)
{
	return t >= 0 ? b->g->tensors[t].len : AX_LEN_TGT;
}

/* Appends op kind(in) -> new tensor of width w; returns the tensor. */
static int32_t unary_op(struct ax_builder *b, enum ax_op_kind kind,
			enum ax_cost_kind tag, int32_t in, int64_t w,
			const char *role)
{
	int32_t op = ax_b_op(b, kind, tag, role);
	int32_t out = ax_b_tensor(b, len_of(b, in), w, role);
	if (op < 0 || out < 0)
		return -1;
	b->g->ops[op].in[0] = in;
	b->g->ops[op].out = out;
	return out;
}

/* --- single ops -------------------------------------------------------- */

int32_t ax_b_linear(struct ax_builder *b, int32_t in, int64_t out_dim,
		    bool bias, enum ax_cost_kind tag, const char *role,
		    int32_t into)
{
	int64_t in_dim = width_of(b, in);
	int32_t op = ax_b_op(b, AX_OP_LINEAR, tag, role);
	int32_t w = ax_b_param(b, AX_PARAM_WEIGHT, out_dim, in_dim, role);
	int32_t bs = bias ? ax_b_param(b, AX_PARAM_BIAS, out_dim, 1, role) : -1;
	int32_t out = into >= 0 ? into : ax_b_tensor(b, len_of(b, in), out_dim, role);
	if (op < 0 || w < 0 || out < 0 || (bias && bs < 0))
		return -1;
	b->g->ops[op].in[0] = in;
	b->g->ops[op].out = out;
	ax_b_use_param(b, op, 0, w);
	ax_b_use_param(b, op, 1, bs);
	return out;
}

int32_t ax_b_linear_shared(struct ax_builder *b, int32_t in, int32_t weight,
			   enum ax_cost_kind tag, const char *role)
{
	if (weight < 0)
		return -1;
	int64_t out_dim = b->g->params[weight].rows;
	int32_t op = ax_b_op(b, AX_OP_LINEAR, tag, role);
	int32_t out = ax_b_tensor(b, len_of(b, in), out_dim, role);
	if (op < 0 || out < 0)
		return -1;
	b->g->ops[op].in[0] = in;
	b->g->ops[op].out = out;
	ax_b_use_param(b, op, 0, weight);
	return out;
}

int32_t ax_b_layernorm(struct ax_builder *b, int32_t in, double eps,
		       const char *role)
{
	int64_t w = width_of(b, in);
	int32_t gamma = ax_b_param(b, AX_PARAM_NORM, w, 1, role);
	int32_t beta = ax_b_param(b, AX_PARAM_NORM, w, 1, role);
	/* names: "<role>.weight" (gamma) and "<role>.bias" (beta) */
	int32_t out = unary_op(b, AX_OP_LAYERNORM, AX_KIND_NORM, in, w, role);
	if (out < 0 || gamma < 0 || beta < 0)
		return -1;
	int32_t op = b->g->n_ops - 1;
	b->g->ops[op].eps = eps;
	ax_b_use_param(b, op, 0, gamma);
	ax_b_use_param(b, op, 1, beta);
	return out;
}

int32_t ax_b_unary(struct ax_builder *b, enum ax_op_kind kind, int32_t in,
		   const char *role)
{
	int64_t w = width_of(b, in);
	if (kind == AX_OP_GLU)
		w /= 2;
	return unary_op(b, kind, AX_KIND_ELEMENTWISE, in, w, role);
}

int32_t ax_b_add(struct ax_builder *b, int32_t a, int32_t c, const char *role)
{
	int32_t out = unary_op(b, AX_OP_ADD, AX_KIND_ELEMENTWISE, a,
			       width_of(b, a), role);
	if (out >= 0)
		b->g->ops[b->g->n_ops - 1].in[1] = c;
	return out;
}

/* --- blocks ------------------------------------------------------------ */

int32_t ax_b_attention(struct ax_builder *b, int32_t x, int32_t mem,
		       const struct ax_attn_spec *spec, int32_t into)
{
	const char *saved = b->block;
	b->block = spec->block;
	int64_t w = width_of(b, x);
	/* 1. projections (docs/models.md §2.3 step 1) */
	int32_t q = ax_b_linear(b, x, w, spec->bias, AX_KIND_ATTENTION_PROJ, "q_proj", -1);
	int32_t k = ax_b_linear(b, mem, w, spec->bias, AX_KIND_ATTENTION_PROJ, "k_proj", -1);
	int32_t v = ax_b_linear(b, mem, w, spec->bias, AX_KIND_ATTENTION_PROJ, "v_proj", -1);
	/* 2-5. scaled scores, mask, softmax, weighted values */
	int32_t op = ax_b_op(b, AX_OP_ATTENTION, AX_KIND_ATTENTION_MATMUL, "attn");
	int32_t a = ax_b_tensor(b, len_of(b, x), w, "attn");
	if (op >= 0 && a >= 0) {
		struct ax_op *o = &b->g->ops[op];
		o->in[0] = q;
		o->in[1] = k;
		o->in[2] = v;
		o->out = a;
		o->heads = spec->heads;
		o->causal = spec->causal;
	}
	/* 6. output projection */
	int32_t out = ax_b_linear(b, a, w, spec->bias, AX_KIND_ATTENTION_PROJ,
				  "out_proj", into);
	b->block = saved;
	return out;
}

int32_t ax_b_ffn(struct ax_builder *b, int32_t x, int64_t ffn_dim,
		 enum ax_op_kind act)
{
	const char *saved = b->block;
	b->block = "ffn";
	int32_t h = ax_b_linear(b, x, ffn_dim, true, AX_KIND_FFN, "fc1", -1);
	h = ax_b_unary(b, act, h, act == AX_OP_SWISH ? "swish" : "relu");
	int32_t y = ax_b_linear(b, h, width_of(b, x), true, AX_KIND_FFN, "fc2", -1);
	b->block = saved;
	return y;
}

int32_t ax_b_conv_block(struct ax_builder *b, int32_t x,
			const struct ax_conv_spec *s, int32_t into)
{
	const char *saved = b->block;
	if (!b->block)
		b->block = "conv";
	/* linear1 (+ GLU) */
	int32_t u = ax_b_linear(b, x, s->glu ? 2 * s->dim : s->dim, true,
				AX_KIND_CONV_PROJ, "linear1", -1);
	if (s->glu)
		u = ax_b_unary(b, AX_OP_GLU, u, "glu");
	/* the convolution: P = K-1 (causal) or K//2, (K-1)//2 for even K */
	int64_t pad = s->causal ? s->kernel - 1 :
		      (s->kernel % 2 ? s->kernel / 2 : (s->kernel - 1) / 2);
	int32_t op;
	if (s->type == AX_CONV_DYNAMIC) {
		int32_t kl = ax_b_linear(b, u, s->heads * s->kernel, false,
					 AX_KIND_CONV_KERNELGEN, "weight_linear", -1);
		op = ax_b_op(b, AX_OP_DYNCONV, AX_KIND_CONV, "dynconv");
		if (op >= 0)
			b->g->ops[op].in[1] = kl;
	} else {
		int32_t w = ax_b_param(b, AX_PARAM_WEIGHT, s->heads, s->kernel,
				       "lightconv");
		op = ax_b_op(b, AX_OP_LIGHTCONV, AX_KIND_CONV, "lightconv");
		ax_b_use_param(b, op, 0, w);
	}
	int32_t y = ax_b_tensor(b, len_of(b, x), s->dim, "conv");
	if (op >= 0 && y >= 0) {
		struct ax_op *o = &b->g->ops[op];
		o->in[0] = u;
		o->out = y;
		o->heads = s->heads;
		o->kernel = s->kernel;
		o->pad_left = pad;
		o->causal = s->causal;
	}
	int32_t out = ax_b_linear(b, y, s->out_dim, true, AX_KIND_CONV_PROJ,
				  "linear2", into);
	b->block = saved;
	return out;
}

int32_t ax_b_embed(struct ax_builder *b, enum ax_len len, int64_t vocab,
		   int64_t d, int32_t *table, enum ax_pos_kind pos,
		   int64_t space_rows)
{
	if (*table < 0)
		*table = ax_b_param(b, AX_PARAM_EMBED_TABLE, vocab, d, "embed_tokens");
	int32_t space = space_rows > 0 ?
		ax_b_param(b, AX_PARAM_POSITION, space_rows, d,
			   "target_space_embedding") : -1;
	int32_t op = ax_b_op(b, AX_OP_EMBED, AX_KIND_ELEMENTWISE, "embed");
	int32_t out = ax_b_tensor(b, len, d, "x");
	if (op < 0 || out < 0 || (space_rows > 0 && space < 0))
		return -1;
	b->g->ops[op].out = out;
	b->g->ops[op].pos = pos;
	ax_b_use_param(b, op, 0, *table);
	ax_b_use_param(b, op, 1, space);
	return out;
}

/* --- ET convolutions (docs/models.md §6.1) ------------------------------------ */

int32_t ax_b_dwconv(struct ax_builder *b, int32_t x, int64_t kernel,
		    int64_t pad_left, const char *role)
{
	int64_t c = width_of(b, x);
	int32_t w = ax_b_param(b, AX_PARAM_WEIGHT, kernel, c, role);
	int32_t out = unary_op(b, AX_OP_DWCONV, AX_KIND_CONV, x, c, role);
	if (out < 0 || w < 0)
		return -1;
	struct ax_op *op = &b->g->ops[b->g->n_ops - 1];
	op->kernel = kernel;
	op->pad_left = pad_left;
	op->causal = pad_left == kernel - 1 && kernel > 1;
	ax_b_use_param(b, b->g->n_ops - 1, 0, w);
	return out;
}

int32_t ax_b_conv1d(struct ax_builder *b, int32_t x, int64_t out_dim,
		    int64_t kernel, int64_t pad_left, const char *role)
{
	int64_t i_dim = width_of(b, x);
	int32_t w = ax_b_param(b, AX_PARAM_WEIGHT, out_dim, kernel * i_dim, role);
	int32_t bs = ax_b_param(b, AX_PARAM_BIAS, out_dim, 1, role);
	int32_t out = unary_op(b, AX_OP_CONV1D, AX_KIND_CONV, x, out_dim, role);
	if (out < 0 || w < 0 || bs < 0)
		return -1;
	int32_t op = b->g->n_ops - 1;
	b->g->ops[op].kernel = kernel;
	b->g->ops[op].pad_left = pad_left;
	b->g->ops[op].causal = pad_left == kernel - 1 && kernel > 1;
	ax_b_use_param(b, op, 0, w);
	ax_b_use_param(b, op, 1, bs);
	return out;
}

int32_t ax_b_sepconv(struct ax_builder *b, int32_t x, int64_t out_dim,
		     int64_t kernel, int64_t pad_left, const char *role)
{
	const char *saved = b->block;
	b->block = role;
	int32_t y = ax_b_dwconv(b, x, kernel, pad_left, "depthwise");
	y = ax_b_linear(b, y, out_dim, true, AX_KIND_CONV_PROJ, "pointwise", -1);
	b->block = saved;
	return y;
}

/* --- adaptive input / softmax (docs/models.md §2.8) --------------------------- */

int64_t ax_adaptive_band_dim(int64_t d, int64_t factor, int band)
{
	int64_t w = d;
	for (int i = 0; i < band && w > 0; i++)
		w /= factor;
	return w;
}

int64_t ax_adaptive_band_size(const struct ax_adaptive_config *a,
			      int64_t vocab, int band)
{
	int64_t lo = band == 0 ? 0 : a->cutoff[band - 1];
	int64_t hi = band < a->n_cutoffs ? a->cutoff[band] : vocab;
	return hi - lo;
}

/* Static per-band role names, so every band's parameters have unique
 * names in weights files ("embed.tgt.band1.proj.weight"). */
#define BAND_ROLES(suffix) { "band0." suffix, "band1." suffix, "band2." suffix, \
	"band3." suffix, "band4." suffix, "band5." suffix, "band6." suffix, \
	"band7." suffix, "band8." suffix }
static const char *const band_table[] = BAND_ROLES("table");
static const char *const band_proj[] = BAND_ROLES("proj");
static const char *const tail_proj[] = BAND_ROLES("out_proj");
static const char *const tail_table[] = BAND_ROLES("out_table");
static_assert(sizeof band_table / sizeof band_table[0] == AX_MAX_CUTOFFS + 1,
	      "one role per band");

int32_t ax_b_adaptive_input(struct ax_builder *b, enum ax_len len,
			    const struct ax_adaptive_config *a, int64_t vocab,
			    int64_t d, enum ax_pos_kind pos,
			    struct ax_adaptive_params *ap)
{
	int nb = a->n_cutoffs + 1;
	int32_t op = ax_b_op(b, AX_OP_ADAPTIVE_INPUT, AX_KIND_EMBED_PROJ,
			     "adaptive_input");
	for (int i = 0; i < nb; i++) {
		int64_t db = ax_adaptive_band_dim(d, a->factor, i);
		ap->table[i] = ax_b_param(b, AX_PARAM_EMBED_TABLE,
					  ax_adaptive_band_size(a, vocab, i), db,
					  band_table[i]);
		/* Linear(d_b -> d, no bias), stored (out, in) = (d, d_b) */
		ap->proj[i] = ax_b_param(b, AX_PARAM_WEIGHT, d, db, band_proj[i]);
		ax_b_use_param(b, op, 2 * i, ap->table[i]);
		ax_b_use_param(b, op, 2 * i + 1, ap->proj[i]);
	}
	int32_t out = ax_b_tensor(b, len, d, "x");
	if (op < 0 || out < 0)
		return -1;
	b->g->ops[op].out = out;
	b->g->ops[op].pos = pos;
	b->g->ops[op].bands = nb;
	return out;
}

int32_t ax_b_adaptive_softmax(struct ax_builder *b, int32_t h,
			      const struct ax_adaptive_config *a, int64_t vocab,
			      const struct ax_adaptive_params *ap)
{
	int nb = a->n_cutoffs + 1;
	int64_t d = width_of(b, h);
	bool tie_w = a->tie_weights, tie_p = a->tie_weights && a->tie_proj;
	int32_t op = ax_b_op(b, AX_OP_ADAPTIVE_SOFTMAX, AX_KIND_OUTPUT_PROJ,
			     "adaptive_softmax");
	/* head: band 0's table (tied, or an own (size_0, d) matrix) and the
	 * cluster classifier W_cls = Linear(d, bands - 1, no bias) */
	int32_t head = tie_w && ap ? ap->table[0] :
		ax_b_param(b, AX_PARAM_OUTPUT, ax_adaptive_band_size(a, vocab, 0),
			   d, "head.word_proj");
	int32_t cls = ax_b_param(b, AX_PARAM_WEIGHT, nb - 1, d, "head.class_proj");
	ax_b_use_param(b, op, 0, head);
	ax_b_use_param(b, op, 1, cls);
	for (int i = 1; i < nb; i++) {
		int64_t db = ax_adaptive_band_dim(d, a->factor, i);
		/* tail: z = P_b^T h (tied: the input projection, transposed;
		 * own: Linear(d, d_b) stored (d_b, d)), then E_b z */
		int32_t proj = tie_p && ap ? ap->proj[i] :
			ax_b_param(b, AX_PARAM_WEIGHT, db, d, tail_proj[i]);
		int32_t table = tie_w && ap ? ap->table[i] :
			ax_b_param(b, AX_PARAM_OUTPUT,
				   ax_adaptive_band_size(a, vocab, i), db,
				   tail_table[i]);
		ax_b_use_param(b, op, 2 * i, table);
		ax_b_use_param(b, op, 2 * i + 1, proj);
	}
	int32_t out = ax_b_tensor(b, len_of(b, h), vocab, "log_probs");
	if (op < 0 || out < 0)
		return -1;
	b->g->ops[op].in[0] = h;
	b->g->ops[op].out = out;
	b->g->ops[op].bands = nb;
	b->g->logits = out;
	return out;
}

int32_t ax_b_output(struct ax_builder *b, int32_t h, int64_t vocab,
		    int32_t tied_table)
{
	int32_t logits;
	if (tied_table >= 0) {
		logits = ax_b_linear_shared(b, h, tied_table, AX_KIND_OUTPUT_PROJ,
					    "output_projection");
	} else {
		int32_t op = ax_b_op(b, AX_OP_LINEAR, AX_KIND_OUTPUT_PROJ,
				     "output_projection");
		int32_t w = ax_b_param(b, AX_PARAM_OUTPUT, vocab, width_of(b, h),
				       "embed_out");
		logits = ax_b_tensor(b, len_of(b, h), vocab, "logits");
		if (op >= 0 && logits >= 0) {
			b->g->ops[op].in[0] = h;
			b->g->ops[op].out = logits;
			ax_b_use_param(b, op, 0, w);
		}
	}
	/* log-softmax in place: the (T, V) logits are the largest tensor of a
	 * scoring pass, and nothing else reads them */
	int32_t op = ax_b_op(b, AX_OP_LOG_SOFTMAX, AX_KIND_ELEMENTWISE, "log_probs");
	if (op >= 0 && logits >= 0) {
		b->g->ops[op].in[0] = logits;
		b->g->ops[op].out = logits;
	}
	b->g->logits = logits;
	return logits;
}

int32_t ax_b_sub_begin(struct ax_builder *b, int32_t x, enum ax_norm norm,
		       double eps, const char *ln_role)
{
	return norm == AX_NORM_PRE ? ax_b_layernorm(b, x, eps, ln_role) : x;
}

int32_t ax_b_sub_end(struct ax_builder *b, int32_t x, int32_t y,
		     enum ax_norm norm, double eps, const char *ln_role)
{
	int32_t s = ax_b_add(b, x, y, "residual");
	return norm == AX_NORM_POST ? ax_b_layernorm(b, s, eps, ln_role) : s;
}
