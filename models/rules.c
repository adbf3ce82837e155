/*
 * rules.c - the family table's config rules behind the core's struct
 * ax_config_rules, and the public loader, validator and JSON and YAML
 * writers that pass them (model.h). Which per-layer fields a stack reads, why it does
 * not read the others, which mappings a family has, and lite's rules; the
 * other families' hooks sit with their builders (evolved.c).
 */
#include "model.h"
#include "models.h"

#include <inttypes.h>
#include <string.h>

#include "atomic_io.h"

static const struct ax_family_builder *family_of(const struct ax_config *cfg)
{
	if ((int)cfg->family < 0 || cfg->family >= AX_FAMILY_COUNT)
		return NULL;
	return &ax_families[cfg->family];
}

static unsigned layer_uses(const struct ax_config *cfg, enum ax_side side)
{
	const struct ax_family_builder *fb = family_of(cfg);
	bool cross = side == AX_SIDE_DECODER && cfg->task == AX_TASK_TRANSLATION;

	if (!fb)
		return 0;
	return fb->uses | (cross ? fb->cross_uses : 0u);
}

/* Why a stack of this family does not read the fields of `rule`. */
static const char *why_unused(const struct ax_config *cfg, enum ax_side side,
			      enum ax_rule rule)
{
	switch (rule) {
	case AX_RULE_FFN:
		return "family evolved fixes its inner widths as multiples of embed_dim";
	case AX_RULE_HEADS:
		if (side == AX_SIDE_DECODER && cfg->task == AX_TASK_LANGUAGE_MODEL)
			return "a language_model decoder of family lite or lightconv has no "
			       "full-width attention (no cross-attention)";
		if (cfg->family == AX_FAMILY_LITE)
			return "a lite encoder has no full-width attention; its heads are "
			       "attention_branch.heads";
		return "a lightconv encoder has no attention; its heads are conv.heads";
	case AX_RULE_ATT_BRANCH:
		return "only family lite has LSRA branches";
	default:
		return "only families lite and lightconv have convolutions";
	}
}

static const char *map_name(const struct ax_config *cfg, enum ax_rule rule)
{
	const struct ax_family_builder *fb = family_of(cfg);

	if (!fb)
		return NULL;
	return rule == AX_RULE_CONV ? fb->conv_map :
	       rule == AX_RULE_ATT_BRANCH ? fb->att_branch_map : NULL;
}

/* A per-layer key (ffn_dim, attention_heads) is required where the stack
 * reads it; a mapping (attention_branch, conv_branch, conv) where it is
 * the family's mapping of its group. */
static enum ax_presence presence(const struct ax_config *cfg,
				 enum ax_side side, enum ax_rule rule,
				 const char *key, const char **why)
{
	const char *map = map_name(cfg, rule);

	if (rule == AX_RULE_ATT_BRANCH || rule == AX_RULE_CONV) {
		if (map && strcmp(map, key) == 0)
			return AX_PRESENCE_REQUIRED;
		if (strcmp(key, "conv") != 0)
			*why = "only family lite has LSRA branches";
		else if (cfg->family == AX_FAMILY_LITE)
			*why = "family lite configures its convolution under conv_branch";
		else
			*why = "only family lightconv has a conv block";
		return AX_PRESENCE_FORBIDDEN;
	}
	if (!(layer_uses(cfg, side) & AX_USE(rule))) {
		*why = why_unused(cfg, side, rule);
		return AX_PRESENCE_FORBIDDEN;
	}
	if (rule == AX_RULE_HEADS && cfg->family != AX_FAMILY_TRANSFORMER &&
	    cfg->family != AX_FAMILY_EVOLVED)
		*why = "the cross-attention heads of a translation decoder";
	return AX_PRESENCE_REQUIRED;
}

static enum ax_status check_config(const struct ax_check *c)
{
	const struct ax_family_builder *fb = family_of(ax_check_config(c));

	return fb && fb->check ? fb->check(c) : AX_OK;
}

static enum ax_status check_layer(const struct ax_check *c, enum ax_side side,
				  int64_t i)
{
	const struct ax_family_builder *fb = family_of(ax_check_config(c));

	return fb && fb->check_layer ? fb->check_layer(c, side, i) : AX_OK;
}

static int64_t attention_bound(const struct ax_config *cfg)
{
	const struct ax_family_builder *fb = family_of(cfg);

	return fb ? fb->attention_bound : 0;
}

const struct ax_config_rules ax_family_rules = {
	.layer_uses = layer_uses,
	.why_unused = why_unused,
	.presence = presence,
	.map_name = map_name,
	.check_config = check_config,
	.check_layer = check_layer,
	.attention_bound = attention_bound,
};

/* ---- lite ----------------------------------------------------------------- */

/* Upstream forces a lite LM to pre-norm without a final LayerNorm. */
enum ax_status ax_lite_check(const struct ax_check *c)
{
	const struct ax_config *g = ax_check_config(c);

	if (g->task != AX_TASK_LANGUAGE_MODEL)
		return AX_OK;
	if (g->norm != AX_NORM_PRE)
		return ax_check_fail(c, &g->norm, AX_ERR_INPUT,
				     "a lite language_model is pre-norm upstream "
				     "(forced): norm must be pre");
	if (g->final_norm)
		return ax_check_fail(c, &g->final_norm, AX_ERR_INPUT,
				     "a lite language_model has no final LayerNorm "
				     "upstream: final_norm must be false");
	return AX_OK;
}

/* GLU only with dynamic convs; the LSRA branches split embed_dim. */
enum ax_status ax_lite_check_layer(const struct ax_check *c, enum ax_side side,
				   int64_t i)
{
	const struct ax_config *g = ax_check_config(c);
	const struct ax_stack_config *s =
		side == AX_SIDE_ENCODER ? &g->encoder : &g->decoder;
	const struct ax_layer_config *l = &s->layer[i];
	char path[128];

	if (l->glu && l->conv_type == AX_CONV_LIGHTWEIGHT) {
		ax_layer_path(path, sizeof path, side, "conv_branch", "glu", i);
		return ax_check_fail(c, &l->glu, AX_ERR_INPUT,
				     "%s: glu: true with type: lightweight; upstream Lite "
				     "ignores GLU for lightweight convs, set glu: false",
				     path);
	}
	if (l->attention_dim + l->conv_dim != g->embed_dim) {
		ax_layer_path(path, sizeof path, side, "conv_branch", "dim", i);
		return ax_check_fail(c, &l->conv_dim, AX_ERR_INPUT,
				     "%s: the branch widths attention_branch.dim + "
				     "conv_branch.dim = %" PRId64 " + %" PRId64
				     " must sum to embed_dim = %" PRId64,
				     path, l->attention_dim, l->conv_dim, g->embed_dim);
	}
	return AX_OK;
}

/* ---- the public entry points ---------------------------------------------- */

enum ax_status ax_config_load(const char *path, struct ax_config *cfg,
			      struct ax_diag *d)
{
	return ax_config_load_with(&ax_family_rules, path, cfg, d);
}

enum ax_status ax_config_load_string(const char *text, size_t len,
				     const char *name, struct ax_config *cfg,
				     struct ax_diag *d)
{
	return ax_config_load_string_with(&ax_family_rules, text, len, name,
					  cfg, d);
}

enum ax_status ax_config_validate(const struct ax_config *cfg,
				  struct ax_diag *d)
{
	return ax_config_validate_with(&ax_family_rules, cfg, d);
}

void ax_config_write_json(FILE *f, const struct ax_config *cfg)
{
	ax_config_write_json_with(&ax_family_rules, f, cfg);
}

void ax_config_write_yaml(FILE *f, const struct ax_config *cfg)
{
	fprintf(f, "# the resolved config (archex); config hash %016" PRIx64 "\n",
		ax_config_hash(cfg));
	ax_config_write_yaml_with(&ax_family_rules, f, cfg);
}

enum ax_status ax_config_save_yaml(const char *path,
				   const struct ax_config *cfg,
				   struct ax_diag *d)
{
	struct ax_atomic a;
	FILE *f = ax_atomic_open(&a, path, d);
	if (!f)
		return d ? d->status : AX_ERR_IO;
	ax_config_write_yaml(f, cfg);
	return ax_atomic_commit(&a, d);
}

const char *ax_config_map_name(const struct ax_config *cfg, enum ax_rule rule)
{
	return map_name(cfg, rule);
}
