/*
 * models.h - the family table. Each family supplies its encoder and decoder
 * layer builders and its front-end conventions; models.c composes them into
 * the embed -> encoder -> decoder -> output skeleton every family shares.
 *
 * To add a family: write its layer builders from the shared blocks of
 * builder.h, add a row to ax_families[] in models.c (builders and config
 * rules: the groups of per-layer fields it reads, the mappings that hold
 * them, its check hooks), a cost case for any new op kind, and tests
 * (per-op hand counts, per-layer closed forms).
 */
#ifndef AX_MODELS_H
#define AX_MODELS_H

#include "builder.h"
#include "config_rules.h"

struct ax_family_builder {
	/* x(S, d) -> x(S, d), encoder layer l */
	int32_t (*encoder_layer)(struct ax_builder *b, const struct ax_config *cfg,
				 int l, int32_t x);
	/* x(T, d) -> x(T, d), decoder layer l; enc = encoder output or -1 */
	int32_t (*decoder_layer)(struct ax_builder *b, const struct ax_config *cfg,
				 int l, int32_t x, int32_t enc);
	enum ax_pos_kind pos;       /* positional encoding of the front end */
	double eps;                 /* LayerNorm epsilon (also the final LNs) */
	int64_t target_space_rows;  /* > 0: the encoder's embedding adds one
				       row of a learned (rows, d) table (t2t) */

	/* The family's config rules (rules.c puts them behind the core's
	 * struct ax_config_rules). */
	unsigned uses;              /* AX_USE() groups every stack reads */
	unsigned cross_uses;        /* more groups a translation decoder reads */
	const char *att_branch_map; /* mapping of AX_RULE_ATT_BRANCH, or NULL */
	const char *conv_map;       /* mapping of AX_RULE_CONV, or NULL */
	int64_t attention_bound;    /* k of the size bound's k (d+1)^2 per
				       layer with full-width attention */
	/* Family-wide rules, after the enums and embed_dim; NULL: none. */
	enum ax_status (*check)(const struct ax_check *c);
	/* One layer's rules, after the generic checks; NULL: none. */
	enum ax_status (*check_layer)(const struct ax_check *c,
				      enum ax_side side, int64_t i);
};

extern const struct ax_family_builder ax_families[AX_FAMILY_COUNT];

/* Per-family layer builders (models/<family>.c). */
int32_t ax_transformer_encoder_layer(struct ax_builder *b,
				     const struct ax_config *cfg, int l, int32_t x);
int32_t ax_transformer_decoder_layer(struct ax_builder *b,
				     const struct ax_config *cfg, int l,
				     int32_t x, int32_t enc);
int32_t ax_lite_encoder_layer(struct ax_builder *b, const struct ax_config *cfg,
			      int l, int32_t x);
int32_t ax_lite_decoder_layer(struct ax_builder *b, const struct ax_config *cfg,
			      int l, int32_t x, int32_t enc);
int32_t ax_lightconv_encoder_layer(struct ax_builder *b,
				   const struct ax_config *cfg, int l, int32_t x);
int32_t ax_lightconv_decoder_layer(struct ax_builder *b,
				   const struct ax_config *cfg, int l,
				   int32_t x, int32_t enc);
int32_t ax_evolved_encoder_layer(struct ax_builder *b,
				 const struct ax_config *cfg, int l, int32_t x);
int32_t ax_evolved_decoder_layer(struct ax_builder *b,
				 const struct ax_config *cfg, int l,
				 int32_t x, int32_t enc);
/* ET's second self-attention head count, H2 = max(min(2H, 16), H). */
int64_t ax_evolved_heads2(int64_t heads);

/* Family rule hooks (rules.c, evolved.c). */
enum ax_status ax_lite_check(const struct ax_check *c);
enum ax_status ax_lite_check_layer(const struct ax_check *c, enum ax_side side,
				   int64_t i);
enum ax_status ax_evolved_check(const struct ax_check *c);
enum ax_status ax_evolved_check_layer(const struct ax_check *c,
				      enum ax_side side, int64_t i);

/* Cross-attention sub-block shared by every fairseq decoder:
 * post: x = LN(x + CrossAttn(x, enc)); pre: x = x + CrossAttn(LN(x), enc). */
int32_t ax_b_cross_attention_sub(struct ax_builder *b, const struct ax_config *cfg,
				 int32_t x, int32_t enc, int64_t heads, double eps);
/* FFN sub-block: post x = LN(x + FFN(x)); pre x = x + FFN(LN(x)). */
int32_t ax_b_ffn_sub(struct ax_builder *b, const struct ax_config *cfg,
		     int32_t x, int64_t ffn_dim, double eps);

#endif
