/*
 * graph.h - the op list: a model as a flat array of typed ops over named
 * tensors with symbolic shapes.
 *
 * Letters: S source length, T target length (one row per step in
 * incremental decoding), d width, H heads, K kernel taps, V vocabulary.
 *
 * Every tensor is 2-D: (rows, width), rows symbolic in S or T. A tensor may
 * be a column view of another (parent, offset): LSRA branches read and
 * write channel slices this way, so split and concat cost nothing and need
 * no op. Parameters are a separate table; an op names the parameters it
 * reads, and a parameter shared by several ops (tied embeddings) counts
 * once, at its owner, the first op that used it.
 *
 * Builders (models/) only fill these arrays: no float data is ever
 * allocated here. The cost model, the memory planner, the executor and the
 * printer each walk ops[] with one switch on enum ax_op_kind.
 *
 * To add an op kind: a row in enum ax_op_kind and ax_op_kind_names, a case
 * in ax_cost_op() (costmodel/cost.c), in the executor, and their tests.
 */
#ifndef AX_GRAPH_H
#define AX_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"

/* How a graph is run and costed. */
enum ax_mode {
	AX_MODE_SEQUENCE,     /* whole sequences: S and T rows at once */
	AX_MODE_INCREMENTAL,  /* decoding: one target row per step */
	AX_MODE_COUNT
};

/* The stream a tensor's rows run over. */
enum ax_len {
	AX_LEN_SRC,   /* S rows: encoder stream, cross-attention memory */
	AX_LEN_TGT,   /* T rows (1 per step in incremental mode) */
	AX_LEN_COUNT
};

/* Where an op or a parameter lives, for per-layer breakdowns. */
enum ax_scope {
	AX_SCOPE_EMBED,    /* token embeddings, positions, adaptive input */
	AX_SCOPE_ENCODER,  /* with a layer index; -1 = stack-level (final LN) */
	AX_SCOPE_DECODER,
	AX_SCOPE_OUTPUT,   /* output projection, softmax */
	AX_SCOPE_COUNT
};

enum ax_op_kind {
	AX_OP_EMBED,        /* out(N,d) = scale*E[tok] + PE; p0 = E (Vocab,d) */
	AX_OP_LINEAR,       /* out(N,o) = in(N,i) W^T + b; p0 W (o,i), p1 b (o) */
	AX_OP_LAYERNORM,    /* out(N,w) = LN(in); p0 gamma (w), p1 beta (w) */
	AX_OP_ATTENTION,    /* out(N,w) = softmax(q k^T / sqrt(h)) v per head;
			       in0 q (N,w), in1 k (M,w), in2 v (M,w) */
	AX_OP_LIGHTCONV,    /* out(N,c) = taps of softmax_K(W) over in(N,c);
			       p0 W (H,K) */
	AX_OP_DYNCONV,      /* out(N,c) = taps of softmax_K(in1) over in0;
			       in0 (N,c), in1 kernel logits (N,H*K) */
	AX_OP_DWCONV,       /* ET depthwise: out(N,c) = sum_k W[k,ch] x[i+k-P,ch];
			       p0 W (K,c), no bias */
	AX_OP_CONV1D,       /* ET standard conv: out(N,o) = sum_k x[i+k-P] W_k^T
			       + b; p0 W (o, K*i), p1 b (o) */
	AX_OP_GLU,          /* out(N,w) = in[:, :w] * sigmoid(in[:, w:]) */
	AX_OP_RELU,         /* out = max(in, 0) */
	AX_OP_SWISH,        /* out = in * sigmoid(in) */
	AX_OP_ADD,          /* out(N,w0) = in0(N,w0) + zero-pad(in1(N,w1)), w1<=w0 */
	AX_OP_LOG_SOFTMAX,  /* out(N,V) = log_softmax(in) over the row */
	AX_OP_ADAPTIVE_INPUT,   /* out(N,d) = sqrt(d) P_b E_b[tok - start_b] + PE,
				   b = band of tok; params per band b:
				   p[2b] E_b (size_b, d_b), p[2b+1] P_b (d, d_b) */
	AX_OP_ADAPTIVE_SOFTMAX, /* out(N,V) log-probs from in(N,d): head =
				   [E_0 h | W_cls h], tail b = E_b (P_b^T h);
				   p0 E_0 (size_0, d), p1 W_cls (bands-1, d),
				   p[2b] E_b (size_b, d_b), p[2b+1] P_b (d, d_b)
				   (tied) or (d_b, d) (own), b >= 1 */
	AX_OP_KIND_COUNT
};

/* The macs_by_kind bucket an op's MACs go to (docs/models.md §8.2). */
enum ax_cost_kind {
	AX_KIND_ATTENTION_PROJ,
	AX_KIND_ATTENTION_MATMUL,
	AX_KIND_CONV,             /* taps: light/dynamic/depthwise/standard */
	AX_KIND_CONV_PROJ,        /* linear1/linear2, ET pointwise */
	AX_KIND_CONV_KERNELGEN,   /* dynamic-conv kernel generator */
	AX_KIND_FFN,
	AX_KIND_GLU,              /* ET GLU block */
	AX_KIND_EMBED_PROJ,       /* adaptive-input projections */
	AX_KIND_OUTPUT_PROJ,
	AX_KIND_NORM,             /* LN (MACs only under `paper`) */
	AX_KIND_ELEMENTWISE,      /* scales, adds, activations */
	AX_KIND_COUNT
};

enum ax_param_kind {
	AX_PARAM_WEIGHT,
	AX_PARAM_BIAS,
	AX_PARAM_NORM,          /* LN gamma and beta */
	AX_PARAM_EMBED_TABLE,   /* token lookup tables (possibly tied out) */
	AX_PARAM_OUTPUT,        /* an untied output matrix (embed_out) */
	AX_PARAM_POSITION,      /* learned position-like tables (ET space) */
	AX_PARAM_KIND_COUNT
};

enum ax_pos_kind {
	AX_POS_FAIRSEQ,   /* positions from padding_idx+1, halves concatenated */
	AX_POS_T2T,       /* positions from 0, ET timing signal */
	AX_POS_COUNT
};

struct ax_tensor {
	enum ax_scope scope;
	int16_t layer;          /* -1 when not in a layer */
	const char *block;      /* static, e.g. "self_attn" */
	const char *role;       /* static, e.g. "q" */
	enum ax_len len;        /* rows */
	int64_t width;          /* columns */
	int32_t parent;         /* -1, or the tensor this is a column view of */
	int64_t offset;         /* first column inside parent */
};

struct ax_param {
	enum ax_scope scope;
	int16_t layer;
	const char *block;      /* static, e.g. "self_attn" */
	const char *role;       /* static, e.g. "q_proj.weight" */
	enum ax_param_kind kind;
	int64_t rows, cols;     /* (out, in) for weights; cols = 1 for vectors */
	int32_t owner;          /* first op that reads it; -1 until used */
};

#define AX_OP_MAX_IN 3
/* Two per op, except the adaptive input and softmax ops, which hold a
 * table and a projection per band (slot layout in enum ax_op_kind): one op
 * per side keeps the banded lookup and the banded log-softmax whole. */
#define AX_OP_MAX_PARAMS (2 * (AX_MAX_CUTOFFS + 1))

struct ax_op {
	enum ax_op_kind kind;
	enum ax_cost_kind tag;       /* macs_by_kind bucket */
	enum ax_scope scope;
	int16_t layer;               /* -1 when not in a layer */
	const char *block;           /* static, e.g. "self_attn" */
	const char *role;            /* static, e.g. "q_proj" */
	int32_t in[AX_OP_MAX_IN];    /* tensor ids, -1 = unused */
	int32_t out;                 /* tensor id */
	int32_t param[AX_OP_MAX_PARAMS]; /* param ids, -1 = unused */
	/* kind-specific attributes; unused ones are zero */
	int64_t heads;       /* ATTENTION, LIGHTCONV, DYNCONV */
	int64_t bands;       /* ADAPTIVE_*: vocabulary bands (cutoffs + 1) */
	int64_t kernel;      /* conv taps K */
	int64_t pad_left;    /* conv: taps before the current row (K-1 = causal) */
	bool causal;         /* ATTENTION: mask keys after the query */
	enum ax_pos_kind pos;/* EMBED, ADAPTIVE_INPUT; EMBED p1 = the ET
				target-space row table (32, d), if any */
	double eps;          /* LAYERNORM */
};

/* Token ids follow fairseq's dictionary. */
#define AX_TOKEN_BOS 0
#define AX_TOKEN_PAD 1
#define AX_TOKEN_EOS 2
#define AX_TOKEN_UNK 3

struct ax_graph {
	const struct ax_config *cfg;   /* the config it was built from; the
					  cost model and the executor read
					  the facts below instead */
	int32_t n_ops, cap_ops;
	int32_t n_tensors, cap_tensors;
	int32_t n_params, cap_params;
	struct ax_op *ops;
	struct ax_tensor *tensors;
	struct ax_param *params;
	/* Stream inputs/outputs: token-id inputs are implicit in EMBED ops. */
	int32_t enc_out;     /* encoder output tensor, -1 for LMs */
	int32_t logits;      /* final (T, V) log-probabilities */
	/* Facts of the model, set by the builder (models/): */
	bool has_encoder;    /* translation: a source stream; false for LMs */
	int32_t enc_layers;  /* encoder layer slots (0 for LMs), decoder */
	int32_t dec_layers;  /*   layer slots, for per-layer breakdowns */
	int32_t start_token; /* the decoder's first input: eos for fairseq
				families; 0 for the Evolved Transformer, which
				t2t embeds to the zero vector (its shifted-
				right start) */
};

extern const char *const ax_mode_names[AX_MODE_COUNT];
extern const char *const ax_op_kind_names[AX_OP_KIND_COUNT];
extern const char *const ax_cost_kind_names[AX_KIND_COUNT];
extern const char *const ax_param_kind_names[AX_PARAM_KIND_COUNT];
extern const char *const ax_scope_names[AX_SCOPE_COUNT];

void ax_graph_init(struct ax_graph *g);
void ax_graph_free(struct ax_graph *g);
/* Empties g but keeps its arrays, so a sweep rebuilds without malloc. */
void ax_graph_reset(struct ax_graph *g);

/* Formats a tensor's, param's or op's full name ("dec.3.self_attn.q")
 * into buf. */
void ax_graph_name(enum ax_scope scope, int layer, const char *block,
		   const char *role, char *buf, size_t size);

/* A parameter's unique name: scope, layer, block and role plus ".bias"
 * (biases, LayerNorm beta) or ".weight" (everything else), e.g.
 * "dec.3.self_attn.q_proj.bias". */
void ax_graph_param_name(const struct ax_graph *g, int32_t p, char *buf,
			 size_t size);

#endif
