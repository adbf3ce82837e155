/*
 * evolved.c - Evolved Transformer cells (docs/models.md §6; tensor2tensor
 * models/evolved_transformer.py). Pre-norm (LN eps 1e-6) in front of every
 * block, residual add after; attentions have no biases; Dense, Conv1D and
 * SepConv have biases. Inner widths are multiples of d. A narrower branch
 * output is added into a wider tensor by zero-padding (AX_OP_ADD).
 *
 * Encoder cell:
 *   1. x += GLU(Linear(d, 2d)(LN(x)))
 *   2. u = LN(x); s = ReLU(Dense_4d(u)) + pad(ReLU(Conv1D_k3(u -> d/2)));
 *      x += pad(SepConv_k9(LN_4d(s): 4d -> d/2))        'SAME' padding
 *   3. x += SelfAttn(LN(x), H)
 *   4. x += Dense_d(ReLU(Dense_4d(LN(x))))
 * Decoder cell (all convs causal, left padding K-1):
 *   1. u = LN(x); x = x + SelfAttn_causal(u, H2) + CrossAttn(u, enc, H)
 *   2. u = LN(x); s = ReLU(SepConv_k11(u: d -> 2d)) + pad(SepConv_k7(u: d -> d/2));
 *      x += SepConv_k7(LN_2d(s): 2d -> d)
 *   3. x += SelfAttn_causal(LN(x), H)
 *   4. x += CrossAttn(LN(x), enc, H)
 *   5. x += Dense_d(LN_4d(swish(Dense_4d(LN(x)))))
 * With no encoder (a decoder-only LM) the cross-attentions are left out.
 *
 * Also the family's config rules (the family table's check hooks).
 */
#include "models.h"

#include <inttypes.h>

#define ET_EPS AX_EPS_T2T

int64_t ax_evolved_heads2(int64_t heads)
{
	int64_t h2 = 2 * heads < 16 ? 2 * heads : 16;
	return h2 > heads ? h2 : heads;
}

/* 'SAME' padding of an odd kernel: (K-1)/2 taps before the current row. */
static int64_t same_pad(int64_t k)
{
	return (k - 1) / 2;
}

static int32_t attention(struct ax_builder *b, int32_t u, int32_t mem,
			 int64_t heads, bool causal, const char *block)
{
	const struct ax_attn_spec spec = {
		.heads = heads, .causal = causal, .bias = false, .block = block,
	};
	return ax_b_attention(b, u, mem, &spec, -1);
}

/* x += f(LN(x)) for a single self- or cross-attention block. */
static int32_t attention_sub(struct ax_builder *b, const struct ax_config *cfg,
			     int32_t x, int32_t mem, int64_t heads, bool causal,
			     const char *block)
{
	b->block = block;
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	int32_t y = attention(b, u, mem >= 0 ? mem : u, heads, causal, block);
	b->block = block;
	return ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");
}

int32_t ax_evolved_encoder_layer(struct ax_builder *b,
				 const struct ax_config *cfg, int l, int32_t x)
{
	const struct ax_layer_config *lc = &cfg->encoder.layer[l];
	int64_t d = cfg->embed_dim;
	int32_t u, y, lb, rb, s;

	/* 1. GLU block */
	b->block = "glu";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	y = ax_b_linear(b, u, 2 * d, true, AX_KIND_GLU, "glu", -1);
	y = ax_b_unary(b, AX_OP_GLU, y, "glu_act");
	x = ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");

	/* 2. two-branch conv block */
	b->block = "conv";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	lb = ax_b_linear(b, u, 4 * d, true, AX_KIND_CONV_PROJ, "dense_4d", -1);
	lb = ax_b_unary(b, AX_OP_RELU, lb, "relu_left");
	rb = ax_b_conv1d(b, u, d / 2, 3, same_pad(3), "conv1d_3");
	rb = ax_b_unary(b, AX_OP_RELU, rb, "relu_right");
	s = ax_b_add(b, lb, rb, "branch_sum");
	s = ax_b_layernorm(b, s, ET_EPS, "layer_norm_4d");
	y = ax_b_sepconv(b, s, d / 2, 9, same_pad(9), "conv.sep_conv_9");
	b->block = "conv";
	x = ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");

	/* 3. self-attention */
	x = attention_sub(b, cfg, x, -1, lc->attention_heads, false, "self_attn");

	/* 4. FFN, 4d, ReLU */
	b->block = "ffn";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	y = ax_b_ffn(b, u, 4 * d, AX_OP_RELU);
	b->block = "ffn";
	return ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");
}

int32_t ax_evolved_decoder_layer(struct ax_builder *b,
				 const struct ax_config *cfg, int l,
				 int32_t x, int32_t enc)
{
	const struct ax_layer_config *lc = &cfg->decoder.layer[l];
	int64_t d = cfg->embed_dim, heads = lc->attention_heads;
	int32_t u, y, lb, rb, s;

	/* 1. attention pair: one LN feeds both; both outputs are added */
	b->block = "attn_pair";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	y = attention(b, u, u, ax_evolved_heads2(heads), true,
		      "attn_pair.self_attn");
	if (enc >= 0) {
		b->block = "attn_pair";
		x = ax_b_add(b, x, y, "residual_self");
		y = attention(b, u, enc, heads, false, "attn_pair.encoder_attn");
	}
	b->block = "attn_pair";
	x = ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");

	/* 2. causal two-branch separable-conv block */
	b->block = "conv";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	lb = ax_b_sepconv(b, u, 2 * d, 11, 10, "conv.sep_conv_11");
	b->block = "conv";
	lb = ax_b_unary(b, AX_OP_RELU, lb, "relu_left");
	rb = ax_b_sepconv(b, u, d / 2, 7, 6, "conv.sep_conv_7_right");
	b->block = "conv";
	s = ax_b_add(b, lb, rb, "branch_sum");
	s = ax_b_layernorm(b, s, ET_EPS, "layer_norm_2d");
	y = ax_b_sepconv(b, s, d, 7, 6, "conv.sep_conv_7_out");
	b->block = "conv";
	x = ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");

	/* 3. causal self-attention, 4. cross-attention */
	x = attention_sub(b, cfg, x, -1, heads, true, "self_attn");
	if (enc >= 0)
		x = attention_sub(b, cfg, x, enc, heads, false, "encoder_attn");

	/* 5. FFN: Dense_4d -> swish -> LN_4d -> Dense_d */
	b->block = "ffn";
	u = ax_b_sub_begin(b, x, cfg->norm, ET_EPS, "layer_norm");
	y = ax_b_linear(b, u, 4 * d, true, AX_KIND_FFN, "fc1", -1);
	y = ax_b_unary(b, AX_OP_SWISH, y, "swish");
	y = ax_b_layernorm(b, y, ET_EPS, "layer_norm_4d");
	y = ax_b_linear(b, y, d, true, AX_KIND_FFN, "fc2", -1);
	return ax_b_sub_end(b, x, y, cfg->norm, ET_EPS, "layer_norm");
}

/* ---- config rules --------------------------------------------------------- */

/* The tensor2tensor choices every ET config makes. */
enum ax_status ax_evolved_check(const struct ax_check *c)
{
	const struct ax_config *g = ax_check_config(c);

	if (g->task != AX_TASK_TRANSLATION)
		return ax_check_fail(c, &g->task, AX_ERR_INPUT,
				     "family evolved is encoder-decoder only "
				     "(docs/models.md §6): task must be translation");
	if (g->norm != AX_NORM_PRE)
		return ax_check_fail(c, &g->norm, AX_ERR_INPUT,
				     "family evolved is pre-norm (tensor2tensor): "
				     "norm must be pre");
	if (!g->final_norm)
		return ax_check_fail(c, &g->final_norm, AX_ERR_INPUT,
				     "family evolved ends each stack in a LayerNorm "
				     "(tensor2tensor): final_norm must be true");
	if (g->share != AX_SHARE_ALL)
		return ax_check_fail(c, &g->share, AX_ERR_INPUT,
				     "family evolved shares one embedding matrix "
				     "(tensor2tensor): vocab.share must be all");
	return AX_OK;
}

/* docs/models.md §6.3: the decoder's wide self-attention has H2 heads, which must
 * divide embed_dim too (H already does: the generic checks ran). */
enum ax_status ax_evolved_check_layer(const struct ax_check *c,
				      enum ax_side side, int64_t i)
{
	const struct ax_config *g = ax_check_config(c);
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	int64_t h = l->attention_heads, h2 = ax_evolved_heads2(h);
	char path[128];

	if (g->embed_dim % h2 == 0)
		return AX_OK;
	ax_layer_path(path, sizeof path, side, NULL, "attention_heads", i);
	return ax_check_fail(c, &l->attention_heads, AX_ERR_INPUT,
			     "%s = %" PRId64 " gives H2 = max(min(2H, 16), H) = %"
			     PRId64 ", which does not divide embed_dim = %" PRId64,
			     path, h, h2, g->embed_dim);
}
