/*
 * lite.c - Lite Transformer layers (docs/models.md §5): Long-Short Range
 * Attention (LSRA) plus a flattened FFN.
 *
 * LSRA (upstream MultiBranch): the attention branch reads the channel slice
 * [0, c_a) and the conv branch [c_a, d); each writes its own slice of the
 * output, which is therefore the concatenation, with no projection after.
 *   MT encoder: x = LN_a(x + LSRA(x));        x = LN_f(x + FFN(x))
 *   MT decoder: x = LN_a(x + LSRA_causal(x)); x = LN_c(x + CrossAttn(x, enc));
 *               x = LN_f(x + FFN(x))
 *   LM layer (pre-norm): x = x + LSRA_causal(LN_a(x)); x = x + FFN(LN_f(x))
 */
#include "models.h"

/* LSRA on u(N, d): attention on the first slice, the conv block on the
 * rest, both writing into one (N, d) tensor. */
static int32_t lsra(struct ax_builder *b, const struct ax_layer_config *lc,
		    int32_t u, bool causal)
{
	int64_t d = b->g->tensors[u].width;
	int64_t ca = lc->attention_dim, cc = lc->conv_dim;
	int32_t y = ax_b_tensor(b, b->g->tensors[u].len, d, "lsra");
	int32_t ua = ax_b_view(b, u, 0, ca, "attn_in");
	int32_t uc = ax_b_view(b, u, ca, cc, "conv_in");
	int32_t ya = ax_b_view(b, y, 0, ca, "attn_out");
	int32_t yc = ax_b_view(b, y, ca, cc, "conv_out");

	const struct ax_attn_spec spec = {
		.heads = lc->attention_branch_heads, .causal = causal,
		.bias = true, .block = "lsra.attn",
	};
	ax_b_attention(b, ua, ua, &spec, ya);

	/* The lightweight branch always uses Linear(c, c): upstream ignores
	 * the GLU flag for it (docs/models.md §5.1); the loader rejects glu there. */
	const struct ax_conv_spec conv = {
		.type = lc->conv_type, .dim = cc, .heads = lc->conv_heads,
		.kernel = lc->kernel_size,
		.glu = lc->conv_type == AX_CONV_DYNAMIC && lc->glu,
		.causal = causal, .out_dim = cc,
	};
	b->block = "lsra.conv";
	ax_b_conv_block(b, uc, &conv, yc);
	return y;
}

static int32_t lsra_sub(struct ax_builder *b, const struct ax_config *cfg,
			const struct ax_layer_config *lc, int32_t x, bool causal)
{
	double eps = AX_EPS_FAIRSEQ;
	b->block = "lsra";
	int32_t u = ax_b_sub_begin(b, x, cfg->norm, eps, "self_attn_layer_norm");
	int32_t y = lsra(b, lc, u, causal);
	b->block = "lsra";
	return ax_b_sub_end(b, x, y, cfg->norm, eps, "self_attn_layer_norm");
}

int32_t ax_lite_encoder_layer(struct ax_builder *b, const struct ax_config *cfg,
			      int l, int32_t x)
{
	const struct ax_layer_config *lc = &cfg->encoder.layer[l];
	x = lsra_sub(b, cfg, lc, x, false);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}

int32_t ax_lite_decoder_layer(struct ax_builder *b, const struct ax_config *cfg,
			      int l, int32_t x, int32_t enc)
{
	const struct ax_layer_config *lc = &cfg->decoder.layer[l];
	x = lsra_sub(b, cfg, lc, x, true);
	if (enc >= 0)
		x = ax_b_cross_attention_sub(b, cfg, x, enc, lc->attention_heads,
					     AX_EPS_FAIRSEQ);
	return ax_b_ffn_sub(b, cfg, x, lc->ffn_dim, AX_EPS_FAIRSEQ);
}
