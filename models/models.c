/*
 * models.c - the family table and the skeleton every family shares:
 *   source tokens -> EMBED -> encoder layers [-> final LN]
 *   target tokens -> EMBED -> decoder layers (cross-attending to the
 *   encoder output) [-> final LN] -> output projection -> log-softmax
 * Language models have no encoder; with `adaptive` their target table and
 * output layer are the adaptive input and adaptive softmax (docs/models.md §2.8).
 * Embedding sharing follows fairseq: `all` ties source, target and output;
 * `decoder` ties target and output.
 */
#include "models.h"
#include "model.h"

#include <assert.h>
#include <string.h>

const struct ax_family_builder ax_families[AX_FAMILY_COUNT] = {
	[AX_FAMILY_TRANSFORMER] = {
		.encoder_layer = ax_transformer_encoder_layer,
		.decoder_layer = ax_transformer_decoder_layer,
		.pos = AX_POS_FAIRSEQ, .eps = AX_EPS_FAIRSEQ,
		/* decoder attention_heads: self and cross, as fairseq */
		.uses = AX_USE(AX_RULE_FFN) | AX_USE(AX_RULE_HEADS),
		.attention_bound = 8,
	},
	[AX_FAMILY_LITE] = {
		.encoder_layer = ax_lite_encoder_layer,
		.decoder_layer = ax_lite_decoder_layer,
		.pos = AX_POS_FAIRSEQ, .eps = AX_EPS_FAIRSEQ,
		/* decoder attention_heads = the cross-attention heads */
		.uses = AX_USE(AX_RULE_FFN) | AX_USE(AX_RULE_ATT_BRANCH) |
			AX_USE(AX_RULE_CONV),
		.cross_uses = AX_USE(AX_RULE_HEADS),
		.att_branch_map = "attention_branch", .conv_map = "conv_branch",
		.attention_bound = 8,
		.check = ax_lite_check, .check_layer = ax_lite_check_layer,
	},
	[AX_FAMILY_LIGHTCONV] = {
		.encoder_layer = ax_lightconv_encoder_layer,
		.decoder_layer = ax_lightconv_decoder_layer,
		.pos = AX_POS_FAIRSEQ, .eps = AX_EPS_FAIRSEQ,
		/* decoder attention_heads = the cross-attention heads */
		.uses = AX_USE(AX_RULE_FFN) | AX_USE(AX_RULE_CONV),
		.cross_uses = AX_USE(AX_RULE_HEADS),
		.conv_map = "conv",
		.attention_bound = 8,
	},
	/* t2t front end: positions from 0, one shared V x d matrix (when the
	 * config says share: all), the 32 x d target_space_embedding. */
	[AX_FAMILY_EVOLVED] = {
		.encoder_layer = ax_evolved_encoder_layer,
		.decoder_layer = ax_evolved_decoder_layer,
		.pos = AX_POS_T2T, .eps = AX_EPS_T2T,
		.target_space_rows = 32,
		/* widths are multiples of embed_dim; all are <= 4d */
		.uses = AX_USE(AX_RULE_HEADS),
		.attention_bound = 64,
		.check = ax_evolved_check, .check_layer = ax_evolved_check_layer,
	},
};

static void at(struct ax_builder *b, enum ax_scope scope, int layer,
	       const char *block)
{
	b->scope = scope;
	b->layer = (int16_t)layer;
	b->block = block;
}

static int32_t final_norm(struct ax_builder *b, const struct ax_config *cfg,
			  enum ax_scope scope, int32_t x, double eps)
{
	if (cfg->norm != AX_NORM_PRE || !cfg->final_norm)
		return x;
	at(b, scope, -1, NULL);
	return ax_b_layernorm(b, x, eps, "layer_norm");
}

enum ax_status ax_model_build(const struct ax_config *cfg, struct ax_graph *g,
			      struct ax_diag *d)
{
	return ax_model_build_layers(cfg, g, NULL, d);
}

static_assert(AX_MAX_LAYERS <= 64, "one bit per layer in a keep mask");

static bool keeps(const uint64_t *keep, enum ax_side side, int l)
{
	return !keep || (keep[side] >> l & 1);
}

enum ax_status ax_model_build_layers(const struct ax_config *cfg,
				     struct ax_graph *g, const uint64_t *keep,
				     struct ax_diag *d)
{
	const struct ax_family_builder *fam =
		(unsigned)cfg->family < AX_FAMILY_COUNT ? &ax_families[cfg->family] : NULL;
	if (!fam || !fam->decoder_layer)
		return ax_diag_set(d, AX_ERR_INPUT, cfg->name, 0, 0,
				   "family '%s' has no builder yet",
				   (unsigned)cfg->family < AX_FAMILY_COUNT ?
				   ax_family_names[cfg->family] : "?");
	const struct ax_adaptive_config *ad = &cfg->adaptive;
	if (ad->enabled) {
		if (cfg->task != AX_TASK_LANGUAGE_MODEL)
			return ax_diag_set(d, AX_ERR_INPUT, cfg->name, 0, 0,
					   "adaptive input/softmax needs task "
					   "language_model");
		if (ad->n_cutoffs < 1 || ad->n_cutoffs > AX_MAX_CUTOFFS ||
		    ad->factor < 1 ||
		    ax_adaptive_band_dim(cfg->embed_dim, ad->factor,
					 ad->n_cutoffs) < 1)
			return ax_diag_set(d, AX_ERR_INPUT, cfg->name, 0, 0,
					   "adaptive: need 1..%d cutoffs and a "
					   "factor that leaves every band at "
					   "least 1 wide", AX_MAX_CUTOFFS);
		for (int i = 0; i < ad->n_cutoffs; i++)
			if (ax_adaptive_band_size(ad, cfg->vocab_target, i) < 1 ||
			    ax_adaptive_band_size(ad, cfg->vocab_target, i + 1) < 1)
				return ax_diag_set(d, AX_ERR_INPUT, cfg->name, 0, 0,
						   "adaptive: cutoffs must ascend "
						   "and stay below the vocabulary");
	}

	ax_graph_reset(g);
	g->cfg = cfg;
	struct ax_builder b = { .g = g, .status = AX_OK };
	int64_t dim = cfg->embed_dim;
	int32_t src_table = -1, tgt_table = -1, enc = -1;

	if (cfg->task == AX_TASK_TRANSLATION) {
		at(&b, AX_SCOPE_EMBED, -1, "src");
		int32_t x = ax_b_embed(&b, AX_LEN_SRC, cfg->vocab_source, dim,
				       &src_table, fam->pos,
				       fam->target_space_rows);
		for (int l = 0; l < cfg->encoder.layers; l++) {
			if (!keeps(keep, AX_SIDE_ENCODER, l))
				continue;
			at(&b, AX_SCOPE_ENCODER, l, NULL);
			x = fam->encoder_layer(&b, cfg, l, x);
		}
		enc = final_norm(&b, cfg, AX_SCOPE_ENCODER, x, fam->eps);
		g->enc_out = enc;
		if (cfg->share == AX_SHARE_ALL)
			tgt_table = src_table;
	}

	/* Adaptive input/softmax replace the target table and the output
	 * layer; their tying follows tie_weights/tie_proj, not `share`. */
	struct ax_adaptive_params ap;
	at(&b, AX_SCOPE_EMBED, -1, "tgt");
	int32_t y = ad->enabled ?
		ax_b_adaptive_input(&b, AX_LEN_TGT, ad, cfg->vocab_target, dim,
				    fam->pos, &ap) :
		ax_b_embed(&b, AX_LEN_TGT, cfg->vocab_target, dim, &tgt_table,
			   fam->pos, 0);
	for (int l = 0; l < cfg->decoder.layers; l++) {
		if (!keeps(keep, AX_SIDE_DECODER, l))
			continue;
		at(&b, AX_SCOPE_DECODER, l, NULL);
		y = fam->decoder_layer(&b, cfg, l, y, enc);
	}
	y = final_norm(&b, cfg, AX_SCOPE_DECODER, y, fam->eps);

	at(&b, AX_SCOPE_OUTPUT, -1, NULL);
	if (ad->enabled)
		ax_b_adaptive_softmax(&b, y, ad, cfg->vocab_target, &ap);
	else
		ax_b_output(&b, y, cfg->vocab_target,
			    cfg->share == AX_SHARE_NONE ? -1 : tgt_table);

	g->has_encoder = cfg->task == AX_TASK_TRANSLATION;
	g->enc_layers = g->has_encoder ? (int32_t)cfg->encoder.layers : 0;
	g->dec_layers = (int32_t)cfg->decoder.layers;
	g->start_token = fam->pos == AX_POS_T2T ? 0 : AX_TOKEN_EOS;
	if (b.status != AX_OK)
		return ax_diag_set(d, b.status, cfg->name, 0, 0,
				   "cannot build the op list: %s",
				   ax_status_name(b.status));
	return AX_OK;
}
