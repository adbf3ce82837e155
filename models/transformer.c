/*
 * transformer.c - fairseq's Transformer layers (docs/models.md §3).
 *   encoder: x = LN1(x + SelfAttn(x));        x = LN2(x + FFN(x))
 *   decoder: x = LN1(x + CausalSelfAttn(x));  x = LN2(x + CrossAttn(x, enc));
 *            x = LN3(x + FFN(x))
 * (pre-norm moves each LN in front of its sub-block). All linears biased.
 */
#include "models.h"

static int32_t self_attention_sub(struct ax_builder *b, const struct ax_config *cfg,
				  int32_t x, int64_t heads, bool causal)
{
	double eps = AX_EPS_FAIRSEQ;
	const struct ax_attn_spec spec = {
		.heads = heads, .causal = causal, .bias = true, .block = "self_attn",
	};
	b->block = "self_attn";
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, eps, "self_attn_layer_norm");
	int32_t y = ax_b_attention(b, u, u, &spec, -1);
	b->block = "self_attn";
	return ax_b_sub_end(b, x, y, cfg->norm, eps, "self_attn_layer_norm");
}

int32_t ax_b_cross_attention_sub(struct ax_builder *b, const struct ax_config *cfg,
				 int32_t x, int32_t enc, int64_t heads, double eps)
{
	const struct ax_attn_spec spec = {
		.heads = heads, .causal = false, .bias = true,
		.block = "encoder_attn",
	};
	b->block = "encoder_attn";
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, eps, "encoder_attn_layer_norm");
	int32_t y = ax_b_attention(b, u, enc, &spec, -1);
	b->block = "encoder_attn";
	return ax_b_sub_end(b, x, y, cfg->norm, eps, "encoder_attn_layer_norm");
}

int32_t ax_b_ffn_sub(struct ax_builder *b, const struct ax_config *cfg,
		     int32_t x, int64_t ffn_dim, double eps)
{
	b->block = "ffn";
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, eps, "final_layer_norm");
	int32_t y = ax_b_ffn(b, u, ffn_dim, AX_OP_RELU);
	b->block = "ffn";
	return ax_b_sub_end(b, x, y, cfg->norm, eps, "final_layer_norm");
}

int32_t ax_transformer_encoder_layer(struct ax_builder *b,
				     const struct ax_config *cfg, int l, int32_t x)
{
	const struct ax_layer_config *lc = &cfg->encoder.layer[l];
	x = self_attention_sub(b, cfg, x, lc->attention_heads, false);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}

int32_t ax_transformer_decoder_layer(struct ax_builder *b,
				     const struct ax_config *cfg, int l,
				     int32_t x, int32_t enc)
{
	const struct ax_layer_config *lc = &cfg->decoder.layer[l];
	x = self_attention_sub(b, cfg, x, lc->attention_heads, true);
	if (enc >= 0)
		x = ax_b_cross_attention_sub(b, cfg, x, enc, lc->attention_heads,
					     AX_EPS_FAIRSEQ);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}
