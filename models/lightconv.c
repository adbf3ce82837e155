/*
 * lightconv.c - LightConv / DynamicConv layers (docs/models.md §4; fairseq
 * models/lightconv.py). No self-attention anywhere; post-norm upstream,
 * but cfg->norm is honoured like every fairseq family.
 *   encoder: x = LN1(x + linear2(Conv(linear1(x) [GLU])))   P = K//2
 *            x = LN2(x + FFN(x))
 *   decoder: x = LN1(x + linear2(Conv_causal(linear1(x) [GLU])))  P = K-1
 *            x = LN2(x + CrossAttn(x, enc))     H = decoder attention_heads
 *            x = LN3(x + FFN(x))
 * The conv block is the one LSRA's conv branch uses (ax_b_conv_block);
 * unlike Lite, LightConv applies the GLU flag to lightweight convs too.
 */
#include "models.h"

static int32_t conv_sub(struct ax_builder *b, const struct ax_config *cfg,
			const struct ax_layer_config *lc, int32_t x, bool causal)
{
	double eps = AX_EPS_FAIRSEQ;
	const struct ax_conv_spec spec = {
		.type = lc->conv_type, .dim = lc->conv_dim,
		.heads = lc->conv_heads, .kernel = lc->kernel_size,
		.glu = lc->glu, .causal = causal,
		.out_dim = cfg->embed_dim,
	};
	b->block = "conv";
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, eps, "conv_layer_norm");
	int32_t y = ax_b_conv_block(b, u, &spec, -1);
	b->block = "conv";
	return ax_b_sub_end(b, x, y, cfg->norm, eps, "conv_layer_norm");
}

int32_t ax_lightconv_encoder_layer(struct ax_builder *b,
				   const struct ax_config *cfg, int l, int32_t x)
{
	const struct ax_layer_config *lc = &cfg->encoder.layer[l];
	x = conv_sub(b, cfg, lc, x, false);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}

int32_t ax_lightconv_decoder_layer(struct ax_builder *b,
				   const struct ax_config *cfg, int l,
				   int32_t x, int32_t enc)
{
	const struct ax_layer_config *lc = &cfg->decoder.layer[l];
	x = conv_sub(b, cfg, lc, x, true);
	if (enc >= 0)
		x = ax_b_cross_attention_sub(b, cfg, x, enc, lc->attention_heads,
					     AX_EPS_FAIRSEQ);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}
