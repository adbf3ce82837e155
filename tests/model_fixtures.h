/*
 * model_fixtures.h - configs built in code for the cost and build tests,
 * so they do not depend on the YAML loader. Shapes follow docs/models.md §7.
 */
#ifndef AX_MODEL_FIXTURES_H
#define AX_MODEL_FIXTURES_H

#include <string.h>

#include "config.h"

static inline void fx_stack(struct ax_stack_config *s, int64_t layers)
{
	memset(s, 0, sizeof *s);
	s->layers = layers;
}

/* fairseq Transformer, post-norm, L+L layers. */
static inline struct ax_config fx_transformer(int64_t d, int64_t f, int64_t heads,
					      int64_t L, int64_t v_src,
					      int64_t v_tgt, enum ax_share share)
{
	struct ax_config c;
	memset(&c, 0, sizeof c);
	strcpy(c.name, "fx-transformer");
	c.family = AX_FAMILY_TRANSFORMER;
	c.task = AX_TASK_TRANSLATION;
	c.embed_dim = d;
	c.norm = AX_NORM_POST;
	c.vocab_source = v_src;
	c.vocab_target = v_tgt;
	c.share = share;
	fx_stack(&c.encoder, L);
	fx_stack(&c.decoder, L);
	for (int l = 0; l < L; l++) {
		c.encoder.layer[l] = (struct ax_layer_config){ .ffn_dim = f,
			.attention_heads = heads };
		c.decoder.layer[l] = c.encoder.layer[l];
	}
	return c;
}

/* Lite Transformer MT: c = d/2 branches, f = d, branch heads 4, the
 * upstream kernel list [3,7,15,31,31,31] (docs/models.md §7.1). */
static inline struct ax_config fx_lite(int64_t d, enum ax_conv_type type, bool glu,
				       int64_t cross_heads, int64_t v_src,
				       int64_t v_tgt, enum ax_share share)
{
	static const int64_t kernels[6] = { 3, 7, 15, 31, 31, 31 };
	struct ax_config c;
	memset(&c, 0, sizeof c);
	strcpy(c.name, "fx-lite");
	c.family = AX_FAMILY_LITE;
	c.task = AX_TASK_TRANSLATION;
	c.embed_dim = d;
	c.norm = AX_NORM_POST;
	c.vocab_source = v_src;
	c.vocab_target = v_tgt;
	c.share = share;
	fx_stack(&c.encoder, 6);
	fx_stack(&c.decoder, 6);
	for (int l = 0; l < 6; l++) {
		struct ax_layer_config lc = {
			.ffn_dim = d, .attention_dim = d / 2,
			.attention_branch_heads = 4, .conv_type = type,
			.conv_dim = d / 2, .conv_heads = 4, .glu = glu,
			.kernel_size = kernels[l],
		};
		c.encoder.layer[l] = lc;
		lc.attention_heads = cross_heads;
		c.decoder.layer[l] = lc;
	}
	return c;
}

/* fairseq LightConv/DynamicConv (docs/models.md §4): c = d, conv heads = the
 * attention heads, 7 encoder / 6 decoder layers with the kernel lists
 * [3,7,15,31,31,31,31] / [3,7,15,31,31,31], post-norm. */
static inline struct ax_config fx_lightconv(int64_t d, int64_t f, int64_t heads,
					    enum ax_conv_type type, bool glu,
					    int64_t v_src, int64_t v_tgt,
					    enum ax_share share)
{
	static const int64_t kernels[7] = { 3, 7, 15, 31, 31, 31, 31 };
	struct ax_config c;
	memset(&c, 0, sizeof c);
	strcpy(c.name, "fx-lightconv");
	c.family = AX_FAMILY_LIGHTCONV;
	c.task = AX_TASK_TRANSLATION;
	c.embed_dim = d;
	c.norm = AX_NORM_POST;
	c.vocab_source = v_src;
	c.vocab_target = v_tgt;
	c.share = share;
	fx_stack(&c.encoder, 7);
	fx_stack(&c.decoder, 6);
	for (int l = 0; l < 7; l++) {
		struct ax_layer_config lc = {
			.ffn_dim = f, .conv_type = type, .conv_dim = d,
			.conv_heads = heads, .glu = glu,
			.kernel_size = kernels[l],
		};
		c.encoder.layer[l] = lc;
		lc.attention_heads = heads;
		if (l < 6)
			c.decoder.layer[l] = lc;
	}
	return c;
}

/* Evolved Transformer (docs/models.md §6): 3 encoder / 4 decoder cells, H heads,
 * pre-norm with final LNs, one shared V x d matrix. */
static inline struct ax_config fx_evolved(int64_t d, int64_t heads, int64_t vocab)
{
	struct ax_config c;
	memset(&c, 0, sizeof c);
	strcpy(c.name, "fx-evolved");
	c.family = AX_FAMILY_EVOLVED;
	c.task = AX_TASK_TRANSLATION;
	c.embed_dim = d;
	c.norm = AX_NORM_PRE;
	c.final_norm = true;
	c.vocab_source = vocab;
	c.vocab_target = vocab;
	c.share = AX_SHARE_ALL;
	fx_stack(&c.encoder, 3);
	fx_stack(&c.decoder, 4);
	for (int l = 0; l < 4; l++) {
		if (l < 3)
			c.encoder.layer[l].attention_heads = heads;
		c.decoder.layer[l].attention_heads = heads;
	}
	return c;
}

/* Lite Transformer WikiText-103 LM (docs/models.md §7.1 "LM details"): 12
 * pre-norm layers, no final LN, c = d/2, f = d, dynamic + GLU, heads 4,
 * kernels [15,15,31,31,31,31,63 x 6], adaptive input/softmax with cutoffs
 * [20000, 60000], factor 4, tied weights and projections. */
static inline struct ax_config fx_lite_lm(int64_t d, int64_t vocab)
{
	static const int64_t kernels[12] = { 15, 15, 31, 31, 31, 31,
					     63, 63, 63, 63, 63, 63 };
	struct ax_config c;
	memset(&c, 0, sizeof c);
	strcpy(c.name, "fx-lite-lm");
	c.family = AX_FAMILY_LITE;
	c.task = AX_TASK_LANGUAGE_MODEL;
	c.embed_dim = d;
	c.norm = AX_NORM_PRE;
	c.final_norm = false;
	c.vocab_target = vocab;
	c.share = AX_SHARE_DECODER;
	c.adaptive = (struct ax_adaptive_config){
		.enabled = true, .n_cutoffs = 2, .cutoff = { 20000, 60000 },
		.factor = 4, .tie_weights = true, .tie_proj = true,
	};
	fx_stack(&c.encoder, 0);
	fx_stack(&c.decoder, 12);
	for (int l = 0; l < 12; l++)
		c.decoder.layer[l] = (struct ax_layer_config){
			.ffn_dim = d, .attention_dim = d / 2,
			.attention_branch_heads = 4, .conv_type = AX_CONV_DYNAMIC,
			.conv_dim = d / 2, .conv_heads = 4, .glu = true,
			.kernel_size = kernels[l],
		};
	return c;
}

#endif
