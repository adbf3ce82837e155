/*
 * cfgpath.c - the table of settable config fields and the path parser,
 * setter and getter over it (see cfgpath.h). The table is expanded from
 * the schema rows (schema.h), named as docs/config.md spells them;
 * lightconv's `conv.*` and lite's `conv_branch.*` reach the same struct
 * fields.
 */
#include "cfgpath.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A schema row as a path row: the level, base struct and YAML prefix of
 * its list come first. */
#define PATH_ROW(level_, base, prefix, map_, kind, key, member, min_, max_,   \
		 aux, flags_, rule_, tag_, doc_)                               \
	{ .name = prefix key, .level = level_,                                 \
	  .offset = offsetof(base, member), .type = AX_CFG_##kind,             \
	  PATH_NAMES_##kind(aux, max_)                                         \
	  .min = ((flags_) & AX_SF_ZERO) ? 0 : (min_), .max = (max_),          \
	  .flags = (flags_), .rule = (rule_), .map = (map_), .tag = (tag_),    \
	  .doc = (doc_) },
#define PATH_NAMES_I64(aux, max)
#define PATH_NAMES_BOOL(aux, max)
#define PATH_NAMES_ENUM(aux, max) .names = (aux), .n_names = (max) + 1,

#define TOP(c, kind, key, member, ctype, min, max, aux, flags, rule, tag, doc) \
	PATH_ROW(AX_CFG_TOP, struct ax_config, c, NULL, kind, key, member,     \
		 min, max, aux, flags, rule, tag, doc)
#define STACK(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,   \
	      doc)                                                             \
	PATH_ROW(AX_CFG_STACK, struct ax_stack_config, c, NULL, kind, key,     \
		 member, min, max, aux, flags, rule, tag, doc)
#define LAYER(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,   \
	      doc)                                                             \
	PATH_ROW(AX_CFG_LAYER, struct ax_layer_config, "", NULL, kind, key,    \
		 member, min, max, aux, flags, rule, tag, doc)
/* c: the mapping's name */
#define IN_MAP(c, kind, key, member, ctype, min, max, aux, flags, rule, tag,  \
	       doc)                                                            \
	PATH_ROW(AX_CFG_LAYER, struct ax_layer_config, c ".", c, kind, key,    \
		 member, min, max, aux, flags, rule, tag, doc)

/* The order is the order of sweep records' config keys
 * (ax_sweep_point_write_json) and of the id's words. */
const struct ax_cfg_field ax_cfg_fields[] = {
	AX_SCHEMA_ROOT(TOP, "")
	AX_SCHEMA_VOCAB(TOP, "vocab.")
	AX_SCHEMA_STACK(STACK, "")
	AX_SCHEMA_LAYER(LAYER, _)
	AX_SCHEMA_ATT_BRANCH(IN_MAP, "attention_branch")
	AX_SCHEMA_CONV(IN_MAP, "conv_branch")
	AX_SCHEMA_CONV(IN_MAP, "conv")
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
