/*
 * builder.h - the toolkit family builders use to append to an op list,
 * and the shared blocks (attention, FFN, light/dynamic conv block, ET
 * convolutions, adaptive input and softmax).
 *
 * A struct ax_builder carries the graph, the current scope and layer, and
 * a sticky status: after the first failure (out of memory) every call is a
 * no-op that returns -1, so builders read straight through and check the
 * status once at the end.
 *
 * Blocks return the id of the tensor they produce. Widths are in columns;
 * every tensor runs over one stream (S or T rows).
 */
#ifndef AX_BUILDER_H
#define AX_BUILDER_H

#include "graph.h"

struct ax_builder {
	struct ax_graph *g;
	enum ax_status status;
	enum ax_scope scope;
	int16_t layer;
	const char *block;    /* static; names the ops appended now */
};

/* --- primitives -------------------------------------------------------- */
int32_t ax_b_tensor(struct ax_builder *b, enum ax_len len, int64_t width,
		    const char *role);
/* A column view [offset, offset+width) of tensor parent. */
int32_t ax_b_view(struct ax_builder *b, int32_t parent, int64_t offset,
		  int64_t width, const char *role);
int32_t ax_b_param(struct ax_builder *b, enum ax_param_kind kind,
		   int64_t rows, int64_t cols, const char *role);
/* Appends an op with no inputs, output or params; returns its index. */
int32_t ax_b_op(struct ax_builder *b, enum ax_op_kind kind,
		enum ax_cost_kind tag, const char *role);
/* Records that op reads param p (sets p's owner on first use). */
void ax_b_use_param(struct ax_builder *b, int32_t op, int slot, int32_t p);

/* --- single ops -------------------------------------------------------- */
/* out(N, out_dim) = in W^T (+ b). `into` >= 0 writes into that tensor
 * (e.g. a column view) instead of a new one. */
int32_t ax_b_linear(struct ax_builder *b, int32_t in, int64_t out_dim,
		    bool bias, enum ax_cost_kind tag, const char *role,
		    int32_t into);
/* As ax_b_linear, but with an existing weight (tied output layer). */
int32_t ax_b_linear_shared(struct ax_builder *b, int32_t in, int32_t weight,
			   enum ax_cost_kind tag, const char *role);
int32_t ax_b_layernorm(struct ax_builder *b, int32_t in, double eps,
		       const char *role);
int32_t ax_b_unary(struct ax_builder *b, enum ax_op_kind kind, int32_t in,
		   const char *role);
/* out(N, w0) = a(N, w0) + zero-pad(c(N, w1)). */
int32_t ax_b_add(struct ax_builder *b, int32_t a, int32_t c, const char *role);

/* --- blocks ------------------------------------------------------------ */
/* fairseq MultiheadAttention (docs/models.md §2.3): q from x, k and v from mem
 * (x for self-attention), H heads, optional biases; the output projection
 * writes into `into` when >= 0. `block` names it ("self_attn"). */
struct ax_attn_spec {
	int64_t heads;
	bool causal;
	bool bias;
	const char *block;    /* static, e.g. "self_attn" */
};
int32_t ax_b_attention(struct ax_builder *b, int32_t x, int32_t mem,
		       const struct ax_attn_spec *spec, int32_t into);

/* fc1 -> act -> fc2 with biases (docs/models.md §2.4), act = RELU or SWISH. */
int32_t ax_b_ffn(struct ax_builder *b, int32_t x, int64_t ffn_dim,
		 enum ax_op_kind act);

/* A light/dynamic conv block on x(N, c_in): linear1 (+GLU) to c, the conv,
 * linear2 back to out_dim (written into `into` when >= 0).
 * docs/models.md §4 (LightConv) and §5.1 (LSRA conv branch). */
struct ax_conv_spec {
	enum ax_conv_type type;
	int64_t dim;          /* c */
	int64_t heads;        /* H */
	int64_t kernel;       /* K */
	bool glu;             /* linear1 = Linear(c_in, 2c) + GLU */
	bool causal;          /* P = K-1, else K//2 ((K-1)//2 for even K) */
	int64_t out_dim;
};
int32_t ax_b_conv_block(struct ax_builder *b, int32_t x,
			const struct ax_conv_spec *spec, int32_t into);

/* Token input of a stream: EMBED op over a table (created when *table < 0,
 * reused otherwise), returning x(N, d). space_rows > 0 adds a learned
 * (space_rows, d) table read one row per sentence (t2t's 32-row
 * target_space_embedding on the ET encoder, docs/models.md §6.1). */
int32_t ax_b_embed(struct ax_builder *b, enum ax_len len, int64_t vocab,
		   int64_t d, int32_t *table, enum ax_pos_kind pos,
		   int64_t space_rows);

/* ET convolutions (docs/models.md §6.1). Causal: pad_left = K-1; odd-K 'SAME':
 * (K-1)/2.
 *   dwconv:  out(N, c) depthwise, W (K, c), no bias;
 *   conv1d:  out(N, o) standard, W (o, K*i) + b (o);
 *   sepconv: dwconv -> pointwise Linear(c, o) with bias (tag conv_proj);
 *            `role` names the block of both ops ("sep_conv_9"). */
int32_t ax_b_dwconv(struct ax_builder *b, int32_t x, int64_t kernel,
		    int64_t pad_left, const char *role);
int32_t ax_b_conv1d(struct ax_builder *b, int32_t x, int64_t out_dim,
		    int64_t kernel, int64_t pad_left, const char *role);
int32_t ax_b_sepconv(struct ax_builder *b, int32_t x, int64_t out_dim,
		     int64_t kernel, int64_t pad_left, const char *role);

/* Adaptive input and adaptive softmax (docs/models.md §2.8). Band b covers ids
 * [cutoff[b-1], cutoff[b]) (cutoff[-1] = 0, cutoff[n] = V) and has width
 * d_b = floor(d / factor^b). */
int64_t ax_adaptive_band_dim(int64_t d, int64_t factor, int band);
int64_t ax_adaptive_band_size(const struct ax_adaptive_config *a,
			      int64_t vocab, int band);
/* The input side's per-band params, for tying on the output side. */
struct ax_adaptive_params {
	int32_t table[AX_MAX_CUTOFFS + 1];   /* E_b (size_b, d_b) */
	int32_t proj[AX_MAX_CUTOFFS + 1];    /* P_b (d, d_b): d_b -> d */
};
/* One ADAPTIVE_INPUT op: x(N, d) from token ids; fills *ap. */
int32_t ax_b_adaptive_input(struct ax_builder *b, enum ax_len len,
			    const struct ax_adaptive_config *a, int64_t vocab,
			    int64_t d, enum ax_pos_kind pos,
			    struct ax_adaptive_params *ap);
/* One ADAPTIVE_SOFTMAX op: log-probs (N, V) from h(N, d). Tables are
 * shared with *ap when a->tie_weights, tail projections when also
 * a->tie_proj (fairseq ties projections only along with the weights);
 * ap may be NULL when nothing is tied. Sets g->logits. */
int32_t ax_b_adaptive_softmax(struct ax_builder *b, int32_t h,
			      const struct ax_adaptive_config *a, int64_t vocab,
			      const struct ax_adaptive_params *ap);

/* The output layer: logits = h E^T (tied) or h W_out^T, then log-softmax.
 * Sets g->logits. */
int32_t ax_b_output(struct ax_builder *b, int32_t h, int64_t vocab,
		    int32_t tied_table);

/* Residual wrapper for one sub-block under post- or pre-norm:
 *   post: x = LN(x + f(x))     pre: x = x + f(LN(x))
 * Use as:  in = ax_b_sub_begin(b, x, norm, role);  y = f(in);
 *          x = ax_b_sub_end(b, x, y, norm, role);                        */
int32_t ax_b_sub_begin(struct ax_builder *b, int32_t x, enum ax_norm norm,
		       double eps, const char *ln_role);
int32_t ax_b_sub_end(struct ax_builder *b, int32_t x, int32_t y,
		     enum ax_norm norm, double eps, const char *ln_role);

/* fairseq LayerNorm eps (docs/models.md §2.2). */
#define AX_EPS_FAIRSEQ 1e-5
#define AX_EPS_T2T 1e-6

#endif
