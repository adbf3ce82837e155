/* TEMPORARY until src/config.c lands: enum name tables. */
#include "config.h"
const char *const ax_family_names[AX_FAMILY_COUNT] = {"transformer", "lite", "lightconv", "evolved"};
const char *const ax_task_names[AX_TASK_COUNT] = {"translation", "language_model"};
const char *const ax_share_names[AX_SHARE_COUNT] = {"none", "decoder", "all"};
const char *const ax_norm_names[AX_NORM_COUNT] = {"post", "pre"};
const char *const ax_conv_type_names[AX_CONV_TYPE_COUNT] = {"lightweight", "dynamic"};
const char *const ax_side_names[AX_SIDE_COUNT] = {"encoder", "decoder"};
enum ax_status ax_config_load(const char *path, struct ax_config *cfg, struct ax_diag *d)
{ (void)cfg; return ax_diag_set(d, AX_ERR_INTERNAL, path, 0, 0, "loader not merged yet"); }
/* TEMPORARY (sweep branch) until src/config.c lands: a field-wise hash and
 * the cross-field checks sweeps rely on. */
#include <string.h>
static uint64_t tmp_fnv(uint64_t h, const void *p, size_t n)
{ const unsigned char *b = p; for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ull; } return h; }
uint64_t ax_config_hash(const struct ax_config *cfg)
{ return tmp_fnv(0xcbf29ce484222325ull, (const char *)cfg + sizeof cfg->name, sizeof *cfg - sizeof cfg->name); }
enum ax_status ax_config_validate(const struct ax_config *c, struct ax_diag *d)
{
	if (c->embed_dim <= 0 || c->decoder.layers <= 0)
		return ax_diag_set(d, AX_ERR_INPUT, c->name, 0, 0, "bad sizes");
	for (int s = 0; s < 2; s++) {
		const struct ax_stack_config *st = s ? &c->decoder : &c->encoder;
		for (int l = 0; l < st->layers; l++) {
			const struct ax_layer_config *x = &st->layer[l];
			if (x->ffn_dim <= 0)
				return ax_diag_set(d, AX_ERR_INPUT, c->name, 0, 0, "ffn_dim");
			if (c->family == AX_FAMILY_TRANSFORMER || s == 1)
				if (x->attention_heads <= 0 || c->embed_dim % x->attention_heads)
					return ax_diag_set(d, AX_ERR_INPUT, c->name, 0, 0, "attention_heads does not divide embed_dim");
			if (c->family == AX_FAMILY_LITE &&
			    (x->attention_dim + x->conv_dim != c->embed_dim || x->attention_branch_heads <= 0 ||
			     x->attention_dim % x->attention_branch_heads || x->conv_heads <= 0 || x->conv_dim % x->conv_heads ||
			     x->kernel_size <= 0))
				return ax_diag_set(d, AX_ERR_INPUT, c->name, 0, 0, "lite branches");
		}
	}
	return AX_OK;
}
enum ax_status ax_config_load_string(const char *text, size_t len, const char *name,
				     struct ax_config *cfg, struct ax_diag *d)
{ (void)text; (void)len; (void)cfg; return ax_diag_set(d, AX_ERR_INTERNAL, name, 0, 0, "loader not merged yet"); }
