/*
 * cfgpath.c - the table of settable config fields and the path parser,
 * setter and getter over it (see cfgpath.h). Each row names a field as
 * docs/config.md spells it; lightconv's `conv.*` and lite's
 * `conv_branch.*` reach the same struct fields.
 */
#include "cfgpath.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOP(f) AX_CFG_TOP, offsetof(struct ax_config, f)
#define STACK(f) AX_CFG_STACK, offsetof(struct ax_stack_config, f)
#define LAYER(f) AX_CFG_LAYER, offsetof(struct ax_layer_config, f)
#define I64(lo, hi) AX_CFG_I64, NULL, 0, lo, hi
#define BOOL_ AX_CFG_BOOL, NULL, 0, 0, 1
#define ENUM(tab, n) AX_CFG_ENUM, tab, n, 0, (n) - 1

/* To add a row: the YAML spelling, the level and field, its type. */
const struct ax_cfg_field ax_cfg_fields[] = {
	{ "embed_dim", TOP(embed_dim), I64(1, AX_MAX_DIM) },
	{ "norm", TOP(norm), ENUM(ax_norm_names, AX_NORM_COUNT) },
	{ "final_norm", TOP(final_norm), BOOL_ },
	{ "vocab.source", TOP(vocab_source), I64(0, AX_MAX_VOCAB) },
	{ "vocab.target", TOP(vocab_target), I64(1, AX_MAX_VOCAB) },
	{ "vocab.share", TOP(share), ENUM(ax_share_names, AX_SHARE_COUNT) },
	{ "layers", STACK(layers), I64(0, AX_MAX_LAYERS) },
	{ "ffn_dim", LAYER(ffn_dim), I64(1, AX_MAX_DIM) },
	{ "attention_heads", LAYER(attention_heads), I64(1, AX_MAX_DIM) },
	{ "attention_branch.dim", LAYER(attention_dim), I64(1, AX_MAX_DIM) },
	{ "attention_branch.heads", LAYER(attention_branch_heads), I64(1, AX_MAX_DIM) },
	{ "conv_branch.type", LAYER(conv_type), ENUM(ax_conv_type_names, AX_CONV_TYPE_COUNT) },
	{ "conv_branch.dim", LAYER(conv_dim), I64(1, AX_MAX_DIM) },
	{ "conv_branch.heads", LAYER(conv_heads), I64(1, AX_MAX_DIM) },
	{ "conv_branch.glu", LAYER(glu), BOOL_ },
	{ "conv_branch.kernel_size", LAYER(kernel_size), I64(1, AX_MAX_KERNEL) },
	{ "conv.type", LAYER(conv_type), ENUM(ax_conv_type_names, AX_CONV_TYPE_COUNT) },
	{ "conv.dim", LAYER(conv_dim), I64(1, AX_MAX_DIM) },
	{ "conv.heads", LAYER(conv_heads), I64(1, AX_MAX_DIM) },
	{ "conv.glu", LAYER(glu), BOOL_ },
	{ "conv.kernel_size", LAYER(kernel_size), I64(1, AX_MAX_KERNEL) },
};
const int ax_cfg_n_fields = sizeof ax_cfg_fields / sizeof ax_cfg_fields[0];

/* Indexed by enum ax_cfg_side; 0 is a top field, "both" has no prefix. */
static const char *const side_prefix[] = {
	[0] = "",
	[AX_CFG_SIDE_ENCODER] = "encoder.",
	[AX_CFG_SIDE_DECODER] = "decoder.",
	[AX_CFG_SIDE_BOTH] = "",
};
static_assert(sizeof side_prefix / sizeof side_prefix[0] == AX_CFG_SIDE_BOTH + 1,
	      "every side needs a prefix");

bool ax_cfg_path_parse(const char *s, struct ax_cfg_path *p, const char **suggest)
{
	int side = 0;
	const char *rest = s;
	if (!strncmp(s, "encoder.", 8)) {
		side = AX_CFG_SIDE_ENCODER;
		rest = s + 8;
	} else if (!strncmp(s, "decoder.", 8)) {
		side = AX_CFG_SIDE_DECODER;
		rest = s + 8;
	}
	for (int i = 0; i < ax_cfg_n_fields; i++) {
		const struct ax_cfg_field *f = &ax_cfg_fields[i];
		if (strcmp(rest, f->name))
			continue;
		if (f->level == AX_CFG_TOP && side)
			break;
		p->field = (int16_t)i;
		p->side = (int8_t)(f->level == AX_CFG_TOP ? 0 : side ? side : AX_CFG_SIDE_BOTH);
		return true;
	}
	if (suggest) {
		/* the closest spelling over every field with every prefix */
		static _Thread_local char best[64];   /* what *suggest points to */
		int bd = 4;
		*suggest = NULL;
		for (int i = 0; i < ax_cfg_n_fields; i++)
			for (int k = 0; k < 3; k++) {
				char cand[64];
				if (k && ax_cfg_fields[i].level == AX_CFG_TOP)
					continue;
				snprintf(cand, sizeof cand, "%s%s", side_prefix[k],
					 ax_cfg_fields[i].name);
				int dist = ax_edit_distance(s, cand, bd);
				if (dist < bd) {
					bd = dist;
					snprintf(best, sizeof best, "%s", cand);
					*suggest = best;
				}
			}
	}
	return false;
}

void ax_cfg_path_format(const struct ax_cfg_path *p, char *buf, size_t size)
{
	const char *pre = p->side == AX_CFG_SIDE_ENCODER ? "encoder." :
			  p->side == AX_CFG_SIDE_DECODER ? "decoder." : "";
	snprintf(buf, size, "%s%s", pre, ax_cfg_fields[p->field].name);
}

static void put(void *field, enum ax_cfg_type t, int64_t v)
{
	switch (t) {
	case AX_CFG_I64: *(int64_t *)field = v; break;
	case AX_CFG_BOOL: *(bool *)field = v != 0; break;
	case AX_CFG_ENUM: *(int *)field = (int)v; break;
	case AX_CFG_TYPE_COUNT: break;
	}
}

static int64_t get(const void *field, enum ax_cfg_type t)
{
	switch (t) {
	case AX_CFG_I64: return *(const int64_t *)field;
	case AX_CFG_BOOL: return *(const bool *)field;
	case AX_CFG_ENUM: return *(const int *)field;
	case AX_CFG_TYPE_COUNT: break;
	}
	return 0;
}

static struct ax_stack_config *stack_of(struct ax_config *cfg, int s)
{
	return s == 0 ? &cfg->encoder : &cfg->decoder;
}

enum ax_status ax_cfg_path_set(struct ax_config *cfg, const struct ax_cfg_path *p,
			       const int64_t *v, int n, struct ax_diag *d)
{
	const struct ax_cfg_field *f = &ax_cfg_fields[p->field];
	for (int i = 0; i < n; i++)
		if (v[i] < f->min || v[i] > f->max)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s%s = %lld is outside %lld..%lld",
					   side_prefix[p->side & 3], f->name,
					   (long long)v[i], (long long)f->min,
					   (long long)f->max);
	if (f->level == AX_CFG_TOP) {
		if (n != 1)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s takes one value, not a list", f->name);
		put((char *)cfg + f->offset, f->type, v[0]);
		return AX_OK;
	}
	for (int s = 0; s < 2; s++) {
		if (!(p->side & (1 << s)))
			continue;
		struct ax_stack_config *st = stack_of(cfg, s);
		if (f->level == AX_CFG_STACK) {
			if (n != 1)
				return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
						   "layers takes one value, not a list");
			/* a stack absent from the model (an LM's encoder)
			 * stays absent under a side-less path */
			if (p->side == AX_CFG_SIDE_BOTH && st->layers == 0)
				continue;
			for (int64_t l = st->layers; l < v[0]; l++)
				st->layer[l] = st->layer[l ? l - 1 : 0];
			st->layers = v[0];
			continue;
		}
		if (n > 1 && n < st->layers)
			return ax_diag_set(d, AX_ERR_INPUT, "", 0, 0,
					   "%s%s has %d values for %lld layers",
					   side_prefix[s + 1], f->name, n,
					   (long long)st->layers);
		for (int64_t l = 0; l < st->layers; l++)
			put((char *)&st->layer[l] + f->offset, f->type,
			    v[n > 1 ? l : 0]);
	}
	return AX_OK;
}

int64_t ax_cfg_path_get(const struct ax_config *cfg, const struct ax_cfg_path *p)
{
	const struct ax_cfg_field *f = &ax_cfg_fields[p->field];
	if (f->level == AX_CFG_TOP)
		return get((const char *)cfg + f->offset, f->type);
	for (int s = 0; s < 2; s++) {
		if (!(p->side & (1 << s)))
			continue;
		const struct ax_stack_config *st = s == 0 ? &cfg->encoder : &cfg->decoder;
		if (f->level == AX_CFG_STACK) {
			if (st->layers || p->side != AX_CFG_SIDE_BOTH)
				return st->layers;
			continue;
		}
		if (st->layers > 0)
			return get((const char *)&st->layer[0] + f->offset, f->type);
	}
	return 0;
}

bool ax_cfg_value_parse(const struct ax_cfg_field *f, const char *s, int64_t *v)
{
	switch (f->type) {
	case AX_CFG_I64: {
		char *end;
		errno = 0;
		long long x = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return false;
		*v = x;
		return true;
	}
	case AX_CFG_BOOL:
		if (!strcmp(s, "true"))
			*v = 1;
		else if (!strcmp(s, "false"))
			*v = 0;
		else
			return false;
		return true;
	case AX_CFG_ENUM:
		for (int i = 0; i < f->n_names; i++)
			if (!strcmp(s, f->names[i])) {
				*v = i;
				return true;
			}
		return false;
	case AX_CFG_TYPE_COUNT:
		break;
	}
	return false;
}

int ax_edit_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return cap + 1;
	int row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], lo;
		row[0] = (int)i;
		lo = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
			if (best < lo)
				lo = best;
		}
		if (lo > cap)
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}
