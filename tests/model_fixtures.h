/*
 * model_fixtures.h - configs built in code for the cost and build tests,
 * so they do not depend on the YAML loader. Shapes follow MODELS.md §7.
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
 * upstream kernel list [3,7,15,31,31,31] (MODELS §7.1). */
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

#endif
